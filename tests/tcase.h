/* The case files of the tensor tests (tests/data/tensor_*.txt, written by
 * tests/data/make_tensor_cases.py; the format is described there): their
 * reader, the inputs they describe, and the comparison of a result with
 * NumPy's. Header-only like check.h, whose counters it shares; a test
 * including it sets ctx before reading a case. */
#ifndef DAMO_TEST_TCASE_H
#define DAMO_TEST_TCASE_H

#include <damo.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static damo_ctx *ctx;

static const unsigned both_paths[] = {0, DAMO_FN_DEVICE_ONLY};
static inline const char *path_name(unsigned flags)
{
    return flags == 0 ? "flags 0"
           : flags == DAMO_FN_DEVICE_ONLY ? "DEVICE_ONLY"
                                          : "NO_FUSION|DEVICE_ONLY";
}


typedef struct parray {
    damo_dtype t;
    int ndim;
    int64_t shape[DAMO_MAX_DIMS];
    int64_t n;
    void *data; /* n elements (+1 so that malloc never sees 0) */
} parray;

typedef struct tcase {
    char id[64], kind[32];
    char **lines;
    int n_lines;
} tcase;

typedef struct tfile {
    char *text;
    tcase *cases;
    int n_cases;
} tfile;

static inline int load_cases(const char *name, tfile *f)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", DAMO_TEST_DATA_DIR, name);
    memset(f, 0, sizeof *f);
    FILE *fp = fopen(path, "rb");
    CHECK_MSG(fp, "cannot open %s", path);
    if (!fp)
        return 0;
    fseek(fp, 0, SEEK_END);
    long size = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    f->text = malloc((size_t)size + 1);
    size_t got = fread(f->text, 1, (size_t)size, fp);
    fclose(fp);
    f->text[got] = '\0';
    int cap = 64;
    f->cases = calloc((size_t)cap, sizeof *f->cases);
    tcase *cur = NULL;
    int cur_cap = 0;
    for (char *p = f->text; *p;) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        if (!strncmp(p, "case ", 5)) {
            if (f->n_cases == cap)
                f->cases = realloc(f->cases, (size_t)(cap *= 2) * sizeof *f->cases);
            cur = &f->cases[f->n_cases++];
            memset(cur, 0, sizeof *cur);
            sscanf(p + 5, "%63s %31s", cur->id, cur->kind);
            cur_cap = 0;
        } else if (!strcmp(p, "end")) {
            cur = NULL;
        } else if (cur && *p && *p != '#') {
            if (cur->n_lines == cur_cap) {
                cur_cap = cur_cap ? 2 * cur_cap : 8;
                cur->lines = realloc(cur->lines, (size_t)cur_cap * sizeof *cur->lines);
            }
            cur->lines[cur->n_lines++] = p;
        }
        p = nl ? nl + 1 : p + strlen(p);
    }
    return f->n_cases > 0;
}

/* DAMO_TEST_CASE=ID runs only that case of a file, DAMO_TEST_CASE=LO-HI
 * the numbered cases LO..HI (for reproducing and bisecting). */
static inline int selected(const tcase *c)
{
    const char *only = getenv("DAMO_TEST_CASE");
    long lo, hi;
    if (only && sscanf(only, "%ld-%ld", &lo, &hi) == 2)
        return atol(c->id) >= lo && atol(c->id) <= hi;
    return !only || !strcmp(only, c->id);
}

static inline void free_cases(tfile *f)
{
    for (int i = 0; i < f->n_cases; i++)
        free(f->cases[i].lines);
    free(f->cases);
    free(f->text);
}

/* The text after "KEY " of the case's first line starting so, or NULL. */
static inline const char *case_get(const tcase *c, const char *key)
{
    size_t k = strlen(key);
    for (int i = 0; i < c->n_lines; i++)
        if (!strncmp(c->lines[i], key, k) && (c->lines[i][k] == ' ' || c->lines[i][k] == '\0'))
            return c->lines[i][k] ? c->lines[i] + k + 1 : c->lines[i] + k;
    return NULL;
}

static inline int parse_dtype(const char *s, damo_dtype *t)
{
    for (int i = 0; i < DAMO_NUM_DTYPES; i++)
        if (!strcmp(damo_dtype_name((damo_dtype)i), s)) {
            *t = (damo_dtype)i;
            return 1;
        }
    return 0;
}

static inline int is_float(damo_dtype t) { return t == DAMO_FLOAT32 || t == DAMO_FLOAT64; }
static inline int is_unsigned(damo_dtype t)
{
    return t == DAMO_UINT8 || t == DAMO_UINT16 || t == DAMO_UINT32 || t == DAMO_UINT64;
}

/* Stores an integer (or, for floats, a double) into element i. */
static inline void store_int(damo_dtype t, void *p, int64_t i, int64_t v, uint64_t u)
{
    switch (t) {
    case DAMO_BOOL: ((uint8_t *)p)[i] = v != 0; break;
    case DAMO_INT8: ((int8_t *)p)[i] = (int8_t)v; break;
    case DAMO_INT16: ((int16_t *)p)[i] = (int16_t)v; break;
    case DAMO_INT32: ((int32_t *)p)[i] = (int32_t)v; break;
    case DAMO_INT64: ((int64_t *)p)[i] = v; break;
    case DAMO_UINT8: ((uint8_t *)p)[i] = (uint8_t)u; break;
    case DAMO_UINT16: ((uint16_t *)p)[i] = (uint16_t)u; break;
    case DAMO_UINT32: ((uint32_t *)p)[i] = (uint32_t)u; break;
    case DAMO_UINT64: ((uint64_t *)p)[i] = u; break;
    case DAMO_FLOAT32: ((float *)p)[i] = (float)v; break;
    case DAMO_FLOAT64: ((double *)p)[i] = (double)v; break;
    default: break;
    }
}

static inline int parse_elem(damo_dtype t, const char *tok, void *p, int64_t i)
{
    char *end;
    errno = 0;
    if (is_float(t)) {
        double d = strtod(tok, &end);
        if (t == DAMO_FLOAT32)
            ((float *)p)[i] = (float)d;
        else
            ((double *)p)[i] = d;
        return *tok && !*end;
    }
    if (is_unsigned(t)) {
        uint64_t u = strtoull(tok, &end, 10);
        store_int(t, p, i, 0, u);
    } else {
        store_int(t, p, i, strtoll(tok, &end, 10), 0);
    }
    return *tok && !*end && errno == 0;
}

/* splitmix64: z_i of state seed + (i + 1) * golden (the script's). */
static inline uint64_t splitmix(uint64_t seed, uint64_t i)
{
    uint64_t z = seed + (i + 1) * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* The script's gen(): u01, mixed or int values converted to t. */
static inline int gen_values(const char *kind, uint64_t p, uint64_t seed, damo_dtype t, int64_t n, void *out)
{
    int k = !strcmp(kind, "u01") ? 0 : !strcmp(kind, "mixed") ? 1 : !strcmp(kind, "int") ? 2 : -1;
    if (k < 0 || (k == 2 && p == 0) || (k < 2 && !is_float(t)))
        return 0;
    for (int64_t i = 0; i < n; i++) {
        uint64_t z = splitmix(seed, (uint64_t)i);
        if (k == 2) {
            uint64_t m = z % p;
            store_int(t, out, i, (int64_t)m, m);
            continue;
        }
        double u = (double)(z >> 11) * 0x1p-53;
        double v = k == 0 ? u : ldexp(u - 0.5, (int)(z & 31) - 16);
        if (t == DAMO_FLOAT32)
            ((float *)out)[i] = (float)v;
        else
            ((double *)out)[i] = v;
    }
    return 1;
}

/* "array TAG DTYPE NDIM DIM... : V..." or "... gen KIND P SEED" of case c. */
static inline int case_array(const tcase *c, const char *tag, parray *a)
{
    memset(a, 0, sizeof *a);
    size_t tl = strlen(tag);
    const char *line = NULL;
    for (int i = 0; i < c->n_lines && !line; i++)
        if (!strncmp(c->lines[i], "array ", 6) && !strncmp(c->lines[i] + 6, tag, tl) &&
            c->lines[i][6 + tl] == ' ')
            line = c->lines[i] + 6 + tl + 1;
    if (!line)
        return 0;
    char *buf = strdup(line), *save = NULL;
    char *tok = strtok_r(buf, " ", &save);
    int ok = tok && parse_dtype(tok, &a->t);
    tok = ok ? strtok_r(NULL, " ", &save) : NULL;
    ok = tok != NULL;
    a->ndim = ok ? atoi(tok) : 0;
    ok = ok && a->ndim >= 0 && a->ndim <= DAMO_MAX_DIMS;
    a->n = 1;
    for (int d = 0; ok && d < a->ndim; d++) {
        tok = strtok_r(NULL, " ", &save);
        ok = tok != NULL;
        a->shape[d] = ok ? atoll(tok) : 0;
        a->n *= a->shape[d];
    }
    tok = ok ? strtok_r(NULL, " ", &save) : NULL;
    ok = ok && tok;
    if (ok) {
        a->data = calloc((size_t)a->n + 1, damo_dtype_size(a->t));
        ok = a->data != NULL;
    }
    if (ok && !strcmp(tok, "gen")) {
        char *kind = strtok_r(NULL, " ", &save), *p = strtok_r(NULL, " ", &save);
        char *seed = strtok_r(NULL, " ", &save);
        ok = kind && p && seed &&
             gen_values(kind, strtoull(p, NULL, 10), strtoull(seed, NULL, 10), a->t, a->n, a->data);
    } else if (ok) {
        ok = !strcmp(tok, ":");
        int64_t i = 0;
        for (; ok && (tok = strtok_r(NULL, " ", &save)) != NULL; i++)
            ok = i < a->n && parse_elem(a->t, tok, a->data, i);
        ok = ok && i == a->n;
    }
    free(buf);
    if (!ok) {
        CHECK_MSG(0, "case %s: cannot parse array %s", c->id, tag);
        free(a->data);
        a->data = NULL;
    }
    return ok;
}

/* The doubles of "KEY V..." into out (at most max); the count, or -1. */
static inline int case_doubles(const tcase *c, const char *key, double *out, int max)
{
    const char *s = case_get(c, key);
    if (!s)
        return -1;
    int n = 0;
    char *end;
    for (const char *p = s; *p && n < max; p = end) {
        out[n] = strtod(p, &end);
        if (end == p)
            break;
        n++;
    }
    return n;
}

/* The argument array for tag: the array, or its strided view when the case
 * has "view TAG NDIM DIM... STRIDE... OFFSET". *base receives the parsed
 * array, *shown the argument's own shape and values (the view's,
 * gathered); free both with free_input. Caller releases the result. */
static inline damo_array *case_input(const tcase *c, const char *tag, parray *base, parray *shown)
{
    memset(shown, 0, sizeof *shown);
    if (!case_array(c, tag, base))
        return NULL;
    damo_array *a = damo_array_from_data(ctx, base->t, base->ndim, base->shape, base->data);
    if (!a)
        CHECK_MSG(0, "case %s: array %s: %s", c->id, tag, damo_ctx_errmsg(ctx));
    *shown = *base;
    char key[40];
    snprintf(key, sizeof key, "view %s", tag);
    const char *v = case_get(c, key);
    if (!a || !v)
        return a;
    double nums[3 * DAMO_MAX_DIMS + 2];
    int n = case_doubles(c, key, nums, 3 * DAMO_MAX_DIMS + 2);
    int nd = n > 0 ? (int)nums[0] : -1;
    if (nd < 0 || nd > DAMO_MAX_DIMS || n != 2 * nd + 2) {
        CHECK_MSG(0, "case %s: bad view line", c->id);
        damo_array_release(a);
        return NULL;
    }
    int64_t shape[DAMO_MAX_DIMS], strides[DAMO_MAX_DIMS];
    shown->ndim = nd;
    for (int d = 0; d < nd; d++) {
        shape[d] = shown->shape[d] = (int64_t)nums[1 + d];
        strides[d] = (int64_t)nums[1 + nd + d];
    }
    int64_t offset = (int64_t)nums[1 + 2 * nd];
    damo_array *view = damo_array_strided_view(a, nd, shape, strides, offset);
    if (!view)
        CHECK_MSG(0, "case %s: strided view: %s", c->id, damo_ctx_errmsg(ctx));
    damo_array_release(a);
    /* the view's values, gathered from the base */
    shown->n = 1;
    for (int d = 0; d < nd; d++)
        shown->n *= shape[d];
    size_t sz = damo_dtype_size(shown->t);
    shown->data = calloc((size_t)shown->n + 1, sz);
    for (int64_t i = 0; i < shown->n; i++) {
        int64_t rest = i, at = offset;
        for (int d = nd - 1; d >= 0; d--) {
            at += (rest % shape[d]) * strides[d];
            rest /= shape[d];
        }
        memcpy((char *)shown->data + (size_t)i * sz, (char *)base->data + (size_t)at * sz, sz);
    }
    return view;
}

/* Frees what case_input parsed. */
static inline void free_input(parray *base, parray *shown)
{
    if (shown->data != base->data)
        free(shown->data);
    free(base->data);
    base->data = shown->data = NULL;
}

static inline void elem_text(damo_dtype t, const void *p, int64_t i, char *buf, size_t size)
{
    switch (t) {
    case DAMO_BOOL: snprintf(buf, size, "%s", ((const uint8_t *)p)[i] ? "True" : "False"); break;
    case DAMO_INT8: snprintf(buf, size, "%d", ((const int8_t *)p)[i]); break;
    case DAMO_INT16: snprintf(buf, size, "%d", ((const int16_t *)p)[i]); break;
    case DAMO_INT32: snprintf(buf, size, "%" PRId32, ((const int32_t *)p)[i]); break;
    case DAMO_INT64: snprintf(buf, size, "%" PRId64, ((const int64_t *)p)[i]); break;
    case DAMO_UINT8: snprintf(buf, size, "%u", ((const uint8_t *)p)[i]); break;
    case DAMO_UINT16: snprintf(buf, size, "%u", ((const uint16_t *)p)[i]); break;
    case DAMO_UINT32: snprintf(buf, size, "%" PRIu32, ((const uint32_t *)p)[i]); break;
    case DAMO_UINT64: snprintf(buf, size, "%" PRIu64, ((const uint64_t *)p)[i]); break;
    case DAMO_FLOAT32: snprintf(buf, size, "%.9g", (double)((const float *)p)[i]); break;
    default: snprintf(buf, size, "%.17g", ((const double *)p)[i]); break;
    }
}

static inline double elem_f64(damo_dtype t, const void *p, int64_t i)
{
    return t == DAMO_FLOAT32 ? (double)((const float *)p)[i] : ((const double *)p)[i];
}

static inline void shape_text(int nd, const int64_t *s, char *buf, size_t size)
{
    size_t l = (size_t)snprintf(buf, size, "(");
    for (int d = 0; d < nd && l < size; d++)
        l += (size_t)snprintf(buf + l, size - l, "%s%lld", d ? ", " : "", (long long)s[d]);
    if (l < size)
        snprintf(buf + l, size - l, nd == 1 ? ",)" : ")");
}

/* One check: got has want's dtype and shape and its values (integers and
 * bools exactly; floats within tol[i] when tol is given, else the same
 * value, NaN == NaN). */
static inline int expect_array(damo_array *got, const parray *w, const double *tol, const char *what)
{
    char gs[128], ws[128];
    if (!got) {
        CHECK_MSG(0, "%s: no result", what);
        return 0;
    }
    shape_text(damo_array_ndim(got), damo_array_shape(got), gs, sizeof gs);
    shape_text(w->ndim, w->shape, ws, sizeof ws);
    int ok = damo_array_dtype(got) == w->t && !strcmp(gs, ws);
    if (!ok) {
        CHECK_MSG(0, "%s: got %s %s, NumPy %s %s", what, damo_dtype_name(damo_array_dtype(got)), gs,
                  damo_dtype_name(w->t), ws);
        return 0;
    }
    size_t sz = damo_dtype_size(w->t);
    void *buf = calloc((size_t)w->n + 1, sz);
    if (damo_array_read(got, buf) != DAMO_OK) {
        CHECK_MSG(0, "%s: read: %s", what, damo_ctx_errmsg(ctx));
        free(buf);
        return 0;
    }
    int bad = 0;
    char msg[1024] = "";
    size_t ml = 0;
    for (int64_t i = 0; i < w->n; i++) {
        int same;
        if (is_float(w->t)) {
            double a = elem_f64(w->t, buf, i), b = elem_f64(w->t, w->data, i);
            same = tol && tol[i] > 0 ? check_close_(a, b, 0, tol[i]) : (isnan(a) && isnan(b)) || a == b;
        } else {
            same = !memcmp((char *)buf + (size_t)i * sz, (char *)w->data + (size_t)i * sz, sz);
        }
        if (!same) {
            char g1[48], w1[48];
            elem_text(w->t, buf, i, g1, sizeof g1);
            elem_text(w->t, w->data, i, w1, sizeof w1);
            if (bad < 5 && ml < sizeof msg)
                ml += (size_t)snprintf(msg + ml, sizeof msg - ml, " [%lld] got %s want %s", (long long)i, g1,
                                       w1);
            if (bad < 5 && tol && ml < sizeof msg)
                ml += (size_t)snprintf(msg + ml, sizeof msg - ml, " (tol %.3g)", tol[i]);
            bad++;
        }
    }
    free(buf);
    CHECK_MSG(!bad, "%s: %d of %lld elements differ:%s", what, bad, (long long)w->n, msg);
    return !bad;
}

/* Opens ctx on the default device and prints its name; 0 when none. */
static inline int open_ctx(void)
{
    char err[512];
    if (damo_ctx_new(&ctx, err, sizeof err) != DAMO_OK) {
        fprintf(stderr, "no device: %s\n", err);
        return 0;
    }
    printf("device: %s\n", damo_ctx_device_name(ctx));
    return 1;
}

/* After case c ran: when checks failed since failed_before, counts it in
 * *failed_cases and prints its lines but the long `tol` ones, for the
 * first `limit` such cases. */
static inline void report_case(const tcase *c, int failed_before, int *failed_cases, int limit)
{
    if (check_failed_ == failed_before)
        return;
    if (++*failed_cases > limit)
        return;
    fprintf(stderr, "    case %s %s:", c->id, c->kind);
    for (int i = 0; i < c->n_lines; i++)
        if (strncmp(c->lines[i], "tol", 3))
            fprintf(stderr, "\n      %.200s%s", c->lines[i], strlen(c->lines[i]) > 200 ? " ..." : "");
    fprintf(stderr, "\n");
}

#endif
