/* Indexing: damo_subtensor (integers and slices), damo_set_subtensor,
 * damo_inc_subtensor, damo_take and damo_inc_take.
 *
 * Part 1 runs tests/data/tensor_index.txt, written by
 * tests/data/make_tensor_cases.py with NumPy 2.4: random basic indices
 * (integers, negative ones, slices start:stop:step with negative and
 * omitted bounds, bounds past the ends, steps of +-1..3) on 1-d to 4-d
 * inputs of every dtype family, an index or slice on every axis, some
 * inputs transposed strided views, some with static shapes; set and inc
 * of y broadcast to the slice; take with int64/int32/int8/uint8 indices
 * (negative, repeated, empty); inc_take with repeated rows accumulating
 * (numpy.add.at). Each case runs with flags 0 and DAMO_FN_DEVICE_ONLY,
 * twice each; the result must be NumPy's exactly (dtype, shape, values)
 * and the input arrays must be unchanged afterwards (arrays never change).
 *
 * Part 2, written here: an integer index or a take entry out of range at
 * run time is an error naming the input and the index, and the function
 * stays usable; build errors; step kinds (a subtensor of an input is one
 * VIEW step, take a GATHER, inc_take a SCATTER); results outliving their
 * inputs. Run it under ASan as well (meson setup -Db_sanitize=address,undefined):
 * nothing may read or write outside a buffer. */
#include <damo.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tcase.h"

/* ---------------------------------------------------------------------- */
/* Part 1: the file's cases                                                */
/* ---------------------------------------------------------------------- */

/* "index N (I i | S start stop step)..." into idx; the count, or -1. */
static int case_index(const tcase *c, damo_slice *idx, int max)
{
    const char *s = case_get(c, "index");
    if (!s)
        return -1;
    char *buf = strdup(s), *save = NULL;
    char *tok = strtok_r(buf, " ", &save);
    int n = tok ? atoi(tok) : -1, ok = n >= 0 && n <= max;
    for (int i = 0; ok && i < n; i++) {
        tok = strtok_r(NULL, " ", &save);
        if (tok && !strcmp(tok, "I")) {
            tok = strtok_r(NULL, " ", &save);
            ok = tok != NULL;
            idx[i] = DAMO_INDEX(ok ? strtoll(tok, NULL, 10) : 0);
        } else if (tok && !strcmp(tok, "S")) {
            int64_t v[3];
            for (int k = 0; ok && k < 3; k++) {
                tok = strtok_r(NULL, " ", &save);
                ok = tok != NULL;
                v[k] = !ok ? 0 : !strcmp(tok, "N") ? DAMO_NONE : strtoll(tok, NULL, 10);
            }
            if (ok)
                idx[i] = DAMO_SLICE(v[0], v[1], v[2]);
        } else {
            ok = 0;
        }
    }
    free(buf);
    CHECK_MSG(ok, "case %s: bad index line", c->id);
    return ok ? n : -1;
}

typedef struct idx_stats {
    int cases, calls, failed_cases, per_kind[5];
} idx_stats;
static idx_stats is;
static const char *const idx_kinds[] = {"subtensor", "set_subtensor", "inc_subtensor", "take", "inc_take"};

static void run_index_case(const tcase *c)
{
    int kind = -1;
    for (int k = 0; k < 5; k++)
        if (!strcmp(c->kind, idx_kinds[k]))
            kind = k;
    if (kind < 0) {
        CHECK_MSG(0, "case %s: unknown kind %s", c->id, c->kind);
        return;
    }
    is.cases++;
    is.per_kind[kind]++;
    int failed_before = check_failed_;
    parray xb, xs, yb, ys, ib, ishown, want;
    memset(&yb, 0, sizeof yb);
    memset(&ys, 0, sizeof ys);
    memset(&ib, 0, sizeof ib);
    memset(&ishown, 0, sizeof ishown);
    damo_array *xa = case_input(c, "x", &xb, &xs);
    damo_array *ya = (kind == 1 || kind == 2 || kind == 4) ? case_input(c, "y", &yb, &ys) : NULL;
    damo_array *ia = kind >= 3 ? case_input(c, "idx", &ib, &ishown) : NULL;
    int have_want = case_array(c, "out", &want);
    damo_slice idx[DAMO_MAX_DIMS];
    int n_idx = kind <= 2 ? case_index(c, idx, DAMO_MAX_DIMS) : 0;
    int is_static = case_get(c, "static") != NULL;

    damo_graph *g = damo_graph_new(ctx);
    damo_var *x = damo_tensor(g, xs.t, xs.ndim, is_static ? xs.shape : NULL, "x");
    damo_var *y = ya ? damo_tensor(g, ys.t, ys.ndim, NULL, "y") : NULL;
    damo_var *iv = ia ? damo_tensor(g, ib.t, 1, NULL, "idx") : NULL;
    damo_var *out = NULL;
    damo_var *ins[3] = {x, NULL, NULL};
    damo_arg args[3] = {DAMO_ARG(xa)};
    int ni = 1;
    if (kind == 0)
        out = damo_subtensor(x, n_idx, idx);
    else if (kind == 1)
        out = damo_set_subtensor(x, n_idx, idx, y);
    else if (kind == 2)
        out = damo_inc_subtensor(x, n_idx, idx, y);
    else if (kind == 3)
        out = damo_take(x, iv);
    else
        out = damo_inc_take(x, iv, y);
    if (iv) {
        ins[ni] = iv;
        args[ni++] = DAMO_ARG(ia);
    }
    if (y) {
        ins[ni] = y;
        args[ni++] = DAMO_ARG(ya);
    }
    int ok_inputs =
        xa && (!(kind == 1 || kind == 2 || kind == 4) || ya) && (kind < 3 || ia) && have_want && n_idx >= 0;
    CHECK_MSG(out, "case %s %s: build: %s", c->id, c->kind, damo_graph_errmsg(g));
    if (out && have_want) {
        CHECK_MSG(damo_var_dtype(out) == want.t && damo_var_ndim(out) == want.ndim,
                  "case %s %s: variable %s %d-d, NumPy %s %d-d", c->id, c->kind,
                  damo_dtype_name(damo_var_dtype(out)), damo_var_ndim(out), damo_dtype_name(want.t),
                  want.ndim);
        if (is_static && kind == 0)
            for (int d = 0; d < want.ndim && d < damo_var_ndim(out); d++)
                CHECK_MSG(damo_var_dim(out, d) == want.shape[d],
                          "case %s: static size %d: %lld, expected %lld", c->id, d,
                          (long long)damo_var_dim(out, d), (long long)want.shape[d]);
    }
    for (int p = 0; out && ok_inputs && p < 2; p++) {
        damo_function *f = damo_function_simple(g, (size_t)ni, ins, 1, &out, both_paths[p]);
        CHECK_MSG(f, "case %s %s (%s): compile: %s", c->id, c->kind, path_name(both_paths[p]),
                  damo_graph_errmsg(g));
        for (int call = 0; f && call < 2; call++) {
            damo_array *r = NULL;
            damo_status st = damo_call(f, args, (size_t)ni, &r, 1);
            is.calls++;
            char what[160];
            snprintf(what, sizeof what, "case %s %s (%s, call %d)", c->id, c->kind, path_name(both_paths[p]),
                     call + 1);
            CHECK_MSG(st == DAMO_OK, "%s: %s", what, damo_function_errmsg(f));
            if (st == DAMO_OK)
                expect_array(r, &want, NULL, what);
            damo_array_release(r);
            /* the inputs are unchanged (set/inc must not write into x) */
            char w2[192];
            snprintf(w2, sizeof w2, "%s: input x afterwards", what);
            expect_array(xa, &xs, NULL, w2);
        }
        damo_function_free(f);
    }
    report_case(c, failed_before, &is.failed_cases, 30);
    damo_graph_free(g);
    damo_array_release(xa);
    damo_array_release(ya);
    damo_array_release(ia);
    free_input(&xb, &xs);
    free_input(&yb, &ys);
    free_input(&ib, &ishown);
    if (have_want)
        free(want.data);
}

static void part1(void)
{
    tfile tf;
    if (!load_cases("tensor_index.txt", &tf))
        return;
    for (int i = 0; i < tf.n_cases; i++)
        if (selected(&tf.cases[i]))
            run_index_case(&tf.cases[i]);
    printf("file cases: %d (%d with a failure), %d calls;", is.cases, is.failed_cases, is.calls);
    for (int k = 0; k < 5; k++) {
        printf(" %s %d", idx_kinds[k], is.per_kind[k]);
        if (!getenv("DAMO_TEST_CASE"))
            CHECK_MSG(is.per_kind[k] >= 20, "only %d %s cases", is.per_kind[k], idx_kinds[k]);
    }
    printf("\n");
    free_cases(&tf);
}

/* ---------------------------------------------------------------------- */
/* Part 2: written here                                                    */
/* ---------------------------------------------------------------------- */

static damo_array *arr(damo_dtype t, int nd, const int64_t *shape, const void *data)
{
    damo_array *a = damo_array_from_data(ctx, t, nd, shape, data);
    CHECK_MSG(a, "array: %s", damo_ctx_errmsg(ctx));
    return a;
}

/* Calls f on args; expects success and the float64/int values want. */
static void call_expect(damo_function *f, damo_arg *args, size_t n, const double *want, int64_t n_want,
                        const char *what)
{
    damo_array *r = NULL;
    damo_status st = f ? damo_call(f, args, n, &r, 1) : DAMO_ERR_INVALID;
    CHECK_MSG(st == DAMO_OK, "%s: %s", what, damo_function_errmsg(f));
    CHECK_MSG(st != DAMO_OK || damo_array_size(r) == n_want, "%s: size %lld, expected %lld", what,
              (long long)damo_array_size(r), (long long)n_want);
    for (int64_t i = 0; st == DAMO_OK && i < n_want && i < damo_array_size(r); i++) {
        double v = NAN;
        damo_array_get_f64(r, i, &v);
        CHECK_MSG(v == want[i], "%s [%lld]: %g, expected %g", what, (long long)i, v, want[i]);
    }
    damo_array_release(r);
}

/* Calls f on args; expects an error whose message names every needle. */
static void call_fails(damo_function *f, damo_arg *args, size_t n, const char *const *needles, int n_needles,
                       const char *what)
{
    damo_array *r = (damo_array *)&r; /* must be set to NULL */
    damo_status st = f ? damo_call(f, args, n, &r, 1) : DAMO_OK;
    CHECK_MSG(f && st != DAMO_OK, "%s: the call succeeded, expected an error", what);
    CHECK_MSG(r == NULL, "%s: the output is not NULL after an error", what);
    if (f && st != DAMO_OK) {
        for (int i = 0; i < n_needles; i++)
            CHECK_MSG(strstr(damo_function_errmsg(f), needles[i]) != NULL,
                      "%s: message \"%s\" does not name \"%s\"", what, damo_function_errmsg(f), needles[i]);
        CHECK_MSG(strstr(damo_last_errmsg(), needles[0]) != NULL, "%s: last error \"%s\"", what,
                  damo_last_errmsg());
    }
    if (st == DAMO_OK && r != (damo_array *)&r)
        damo_array_release(r);
}

/* An integer index outside its axis at run time: an error naming the input
 * and the index; the function stays usable. */
static void test_subtensor_out_of_range(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_var *x = damo_dmatrix(g, "rows_in");
    const damo_slice i5[] = {DAMO_INDEX(5)};
    const damo_slice im4[] = {DAMO_INDEX(-4)};
    const damo_slice col7[] = {DAMO_ALL, DAMO_INDEX(7)};
    const damo_slice i2[] = {DAMO_INDEX(2), DAMO_SLICE(DAMO_NONE, DAMO_NONE, -1)};
    damo_var *y5 = damo_subtensor(x, 1, i5), *ym4 = damo_subtensor(x, 1, im4);
    damo_var *yc7 = damo_subtensor(x, 2, col7), *y2 = damo_subtensor(x, 2, i2);
    CHECK_MSG(y5 && ym4 && yc7 && y2, "%s", damo_graph_errmsg(g));
    /* 3 x 4: x[r, c] = 10 r + c */
    double xv[12];
    for (int i = 0; i < 12; i++)
        xv[i] = (double)(10 * (i / 4) + i % 4);
    damo_array *small = arr(DAMO_FLOAT64, 2, (int64_t[]){3, 4}, xv);
    double big[80];
    for (int i = 0; i < 80; i++)
        big[i] = (double)(10 * (i / 8) + i % 8);
    damo_array *large = arr(DAMO_FLOAT64, 2, (int64_t[]){10, 8}, big);
    struct {
        damo_var *v;
        const char *needle, *what;
        double want_large[10];
        int n_large;
    } cases[] = {
        {y5, "5", "x[5] of 3 rows", {50, 51, 52, 53, 54, 55, 56, 57}, 8},
        {ym4, "-4", "x[-4] of 3 rows", {60, 61, 62, 63, 64, 65, 66, 67}, 8},
        {yc7, "7", "x[:, 7] of 4 columns", {7, 17, 27, 37, 47, 57, 67, 77, 87, 97}, 10},
    };
    for (int p = 0; p < 2; p++) {
        for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
            damo_function *f = damo_function_simple(g, 1, &x, 1, &cases[k].v, both_paths[p]);
            CHECK_MSG(f, "%s", damo_graph_errmsg(g));
            char what[128];
            snprintf(what, sizeof what, "%s (%s)", cases[k].what, path_name(both_paths[p]));
            damo_arg a_small = DAMO_ARG(small), a_large = DAMO_ARG(large);
            const char *needles[] = {"rows_in", cases[k].needle};
            for (int rep = 0; rep < 2; rep++) {
                call_fails(f, &a_small, 1, needles, 2, what);
                /* usable afterwards, with the right values */
                call_expect(f, &a_large, 1, cases[k].want_large, cases[k].n_large, what);
            }
            damo_function_free(f);
        }
        /* in range: x[2, ::-1] = [23, 22, 21, 20] */
        damo_function *f = damo_function_simple(g, 1, &x, 1, &y2, both_paths[p]);
        damo_arg a_small = DAMO_ARG(small);
        call_expect(f, &a_small, 1, (const double[]){23, 22, 21, 20}, 4, "x[2, ::-1]");
        damo_function_free(f);
    }
    /* an empty matrix: x[0] fails too */
    damo_array *empty = arr(DAMO_FLOAT64, 2, (int64_t[]){0, 4}, NULL);
    damo_var *y0 = damo_subtensor(x, 1, (const damo_slice[]){DAMO_INDEX(0)});
    damo_function *f = damo_function_simple(g, 1, &x, 1, &y0, 0);
    damo_arg a_empty = DAMO_ARG(empty), a_small = DAMO_ARG(small);
    const char *needles[] = {"rows_in", "0"};
    call_fails(f, &a_empty, 1, needles, 2, "x[0] of no rows");
    call_expect(f, &a_small, 1, (const double[]){0, 1, 2, 3}, 4, "x[0] after the error");
    damo_function_free(f);
    damo_array_release(empty);
    damo_array_release(small);
    damo_array_release(large);
    damo_graph_free(g);
}

/* A take entry out of range: an error naming x and the entry, nothing read
 * outside the buffer; the function stays usable. inc_take's too. */
static void test_take_out_of_range(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_var *x = damo_tensor(g, DAMO_INT32, 2, NULL, "table_in");
    damo_var *idx = damo_lvector(g, "idx");
    damo_var *y = damo_tensor(g, DAMO_INT32, 2, NULL, "y");
    damo_var *t = damo_take(x, idx), *it = damo_inc_take(x, idx, y);
    CHECK_MSG(t && it, "%s", damo_graph_errmsg(g));
    const int32_t xv[] = {1, 2, 3, 4, 5, 6}; /* 3 x 2 */
    damo_array *xa = arr(DAMO_INT32, 2, (int64_t[]){3, 2}, xv);
    const int64_t bad1[] = {0, 3}, bad2[] = {-4, 1}, bad3[] = {2, 1000000}, good[] = {2, -3, 2};
    damo_array *ib1 = arr(DAMO_INT64, 1, (int64_t[]){2}, bad1),
               *ib2 = arr(DAMO_INT64, 1, (int64_t[]){2}, bad2);
    damo_array *ib3 = arr(DAMO_INT64, 1, (int64_t[]){2}, bad3),
               *ig = arr(DAMO_INT64, 1, (int64_t[]){3}, good);
    const int32_t yv[] = {10, 20, 30, 40, 50, 60};
    damo_array *y2 = arr(DAMO_INT32, 2, (int64_t[]){2, 2}, yv),
               *y3 = arr(DAMO_INT32, 2, (int64_t[]){3, 2}, yv);
    damo_var *tins[] = {x, idx}, *iins[] = {x, idx, y};
    for (int p = 0; p < 2; p++) {
        damo_function *ft = damo_function_simple(g, 2, tins, 1, &t, both_paths[p]);
        damo_function *fi = damo_function_simple(g, 3, iins, 1, &it, both_paths[p]);
        CHECK_MSG(ft && fi, "%s", damo_graph_errmsg(g));
        struct {
            damo_array *ia;
            const char *needle;
        } bad[] = {{ib1, "3"}, {ib2, "-4"}, {ib3, "1000000"}};
        for (int k = 0; k < 3; k++) {
            char what[96];
            snprintf(what, sizeof what, "take entry %s of 3 rows (%s)", bad[k].needle,
                     path_name(both_paths[p]));
            damo_arg a[] = {DAMO_ARG(xa), DAMO_ARG(bad[k].ia), DAMO_ARG(y2)};
            const char *needles[] = {"table_in", bad[k].needle};
            call_fails(ft, a, 2, needles, 2, what);
            /* x[[2, -3, 2]] = [[5, 6], [1, 2], [5, 6]] */
            damo_arg ag[] = {DAMO_ARG(xa), DAMO_ARG(ig), DAMO_ARG(y3)};
            call_expect(ft, ag, 2, (const double[]){5, 6, 1, 2, 5, 6}, 6, "take after the error");
            snprintf(what, sizeof what, "inc_take entry %s of 3 rows (%s)", bad[k].needle,
                     path_name(both_paths[p]));
            const char *needles1[] = {bad[k].needle};
            call_fails(fi, a, 3, needles1, 1, what);
            /* r = x.copy(); np.add.at(r, [2, -3, 2], y3) -> [[31, 42], [3, 4], [65, 86]] */
            call_expect(fi, ag, 3, (const double[]){31, 42, 3, 4, 65, 86}, 6, "inc_take after the error");
        }
        damo_function_free(ft);
        damo_function_free(fi);
    }
    damo_array *arrays[] = {xa, ib1, ib2, ib3, ig, y2, y3};
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++)
        damo_array_release(arrays[i]);
    damo_graph_free(g);
}

/* Errors when building, and a static index out of range (an error when
 * building or when calling, never a value). */
static void test_build_errors(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_var *m = damo_dmatrix(g, "m"), *v = damo_dvector(g, "v"), *fi = damo_dvector(g, "fidx");
    damo_var *li = damo_lvector(g, "li"), *lm = damo_lmatrix(g, "lm");
    const damo_slice three[] = {DAMO_INDEX(0), DAMO_INDEX(0), DAMO_INDEX(0)};
    const damo_slice step0[] = {DAMO_SLICE(0, 2, 0)};
    struct {
        const char *what;
        damo_var *got;
    } cases[] = {
        {"three indices into a matrix", damo_subtensor(m, 3, three)},
        {"slice step 0", damo_subtensor(m, 1, step0)},
        {"set_subtensor step 0", damo_set_subtensor(m, 1, step0, v)},
        {"take with a float index", damo_take(m, fi)},
        {"take from a 0-d x", damo_take(damo_dscalar(g, "s"), li)},
        {"inc_take with a float index", damo_inc_take(m, fi, m)},
        {"set_subtensor of a matrix into a row",
         damo_set_subtensor(m, 1, (const damo_slice[]){DAMO_INDEX(0)}, m)},
        {"subtensor of NULL", damo_subtensor(NULL, 1, three)},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK_MSG(!cases[i].got, "%s: built, expected an error", cases[i].what);
        if (i + 1 < sizeof cases / sizeof cases[0])
            CHECK_MSG(damo_graph_errcode(g) != DAMO_OK && damo_graph_errmsg(g)[0], "%s: no message",
                      cases[i].what);
    }
    /* a matrix of indices is beyond the header (an integer vector); if it
     * builds, it must mean what NumPy's x[idx] means */
    damo_var *tm = damo_take(m, lm);
    CHECK_MSG(!tm || damo_var_ndim(tm) == 3, "take of a matrix of indices: %d-d", damo_var_ndim(tm));
    /* static shapes: y that cannot broadcast to the slice is a shape error */
    damo_var *s34 = damo_tensor(g, DAMO_FLOAT64, 2, (int64_t[]){3, 4}, "s34");
    damo_var *y3 = damo_tensor(g, DAMO_FLOAT64, 1, (int64_t[]){3}, "y3");
    damo_var *bad = damo_set_subtensor(s34, 1, (const damo_slice[]){DAMO_INDEX(1)}, y3);
    CHECK_MSG(!bad && damo_graph_errcode(g) == DAMO_ERR_SHAPE, "x[1] = y of 3 into 4 columns: %s",
              damo_status_name(damo_graph_errcode(g)));
    /* a static index out of range: refused when building or when calling */
    damo_var *o = damo_subtensor(s34, 1, (const damo_slice[]){DAMO_INDEX(3)});
    if (o) {
        damo_function *f = damo_function_simple(g, 1, &s34, 1, &o, 0);
        if (f) {
            double xv[12] = {0};
            damo_array *a = arr(DAMO_FLOAT64, 2, (int64_t[]){3, 4}, xv), *r = NULL;
            damo_arg arg = DAMO_ARG(a);
            CHECK_MSG(damo_call(f, &arg, 1, &r, 1) != DAMO_OK, "x[3] of a static 3 x 4 gave a value");
            damo_array_release(r);
            damo_array_release(a);
            damo_function_free(f);
        }
    } else {
        CHECK(damo_graph_errcode(g) != DAMO_OK);
    }
    /* the graph is still usable */
    damo_var *ok = damo_subtensor(m, 1, (const damo_slice[]){DAMO_SLICE(-1, DAMO_NONE, 1)});
    CHECK_MSG(ok && damo_var_ndim(ok) == 2, "%s", damo_graph_errmsg(g));
    damo_graph_free(g);
}

static int has_kind(damo_function *f, damo_step_kind k)
{
    for (size_t i = 0; i < damo_function_n_steps(f); i++)
        if (damo_function_step_kind(f, i) == k)
            return 1;
    return 0;
}

static void print_steps(damo_function *f, const char *what)
{
    fprintf(stderr, "    %s: %zu steps:", what, damo_function_n_steps(f));
    for (size_t i = 0; i < damo_function_n_steps(f); i++)
        fprintf(stderr, " [%d] %s;", (int)damo_function_step_kind(f, i), damo_function_step_text(f, i));
    fprintf(stderr, "\n");
}

/* Step kinds; results that outlive their inputs; a view feeding work. */
static void test_steps_and_lifetimes(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_var *x = damo_dmatrix(g, "x"), *idx = damo_lvector(g, "idx");
    const damo_slice sl[] = {DAMO_SLICE(1, DAMO_NONE, 1), DAMO_SLICE(DAMO_NONE, DAMO_NONE, -2)};
    damo_var *sub = damo_subtensor(x, 2, sl);
    damo_function *f = damo_function_simple(g, 1, &x, 1, &sub, DAMO_FN_DEVICE_ONLY);
    CHECK_MSG(f, "%s", damo_graph_errmsg(g));
    CHECK_INT(damo_function_n_steps(f), 1);
    CHECK_MSG(damo_function_step_kind(f, 0) == DAMO_STEP_VIEW, "x[1:, ::-2]: step kind %d (%s)",
              (int)damo_function_step_kind(f, 0), damo_function_step_text(f, 0));
    CHECK_INT(damo_function_n_kernels(f), 0);
    /* the view outlives the input array: x = np.arange(12.).reshape(3, 4);
     * x[1:, ::-2] -> [[7, 5], [11, 9]] */
    double xv[12];
    for (int i = 0; i < 12; i++)
        xv[i] = i;
    damo_array *xa = arr(DAMO_FLOAT64, 2, (int64_t[]){3, 4}, xv), *r = NULL;
    damo_arg arg = DAMO_ARG(xa);
    CHECK(f && damo_call(f, &arg, 1, &r, 1) == DAMO_OK);
    damo_array_release(xa);
    double got[4] = {0};
    CHECK(r && damo_array_read(r, got) == DAMO_OK);
    CHECK(got[0] == 7 && got[1] == 5 && got[2] == 11 && got[3] == 9);
    damo_array_release(r);
    damo_function_free(f);

    damo_var *tk = damo_take(x, idx);
    damo_var *ins[] = {x, idx};
    f = damo_function_simple(g, 2, ins, 1, &tk, DAMO_FN_DEVICE_ONLY);
    CHECK_MSG(f && has_kind(f, DAMO_STEP_GATHER), "take has no GATHER step");
    if (f && !has_kind(f, DAMO_STEP_GATHER))
        print_steps(f, "take");
    damo_function_free(f);
    damo_var *y = damo_dmatrix(g, "y");
    damo_var *itk = damo_inc_take(x, idx, y);
    damo_var *ins3[] = {x, idx, y};
    f = damo_function_simple(g, 3, ins3, 1, &itk, DAMO_FN_DEVICE_ONLY);
    CHECK_MSG(f && has_kind(f, DAMO_STEP_SCATTER), "inc_take has no SCATTER step");
    if (f && !has_kind(f, DAMO_STEP_SCATTER))
        print_steps(f, "inc_take");
    damo_function_free(f);
    damo_var *set = damo_set_subtensor(x, 1, (const damo_slice[]){DAMO_SLICE(0, 2, 1)}, y);
    damo_var *ins2[] = {x, y};
    f = damo_function_simple(g, 2, ins2, 1, &set, DAMO_FN_DEVICE_ONLY);
    CHECK_MSG(f && has_kind(f, DAMO_STEP_COPY), "set_subtensor has no COPY step");
    if (f && !has_kind(f, DAMO_STEP_COPY))
        print_steps(f, "set_subtensor");
    damo_function_free(f);

    /* views feeding elementwise work, and an inc_subtensor of a view of the
     * same input: x = np.arange(9.).reshape(3, 3);
     * x[:, 1] * 2 + x[0, ::-1] -> [4, 9, 14] */
    damo_var *col = damo_subtensor(x, 2, (const damo_slice[]){DAMO_ALL, DAMO_INDEX(1)});
    damo_var *row =
        damo_subtensor(x, 2, (const damo_slice[]){DAMO_INDEX(0), DAMO_SLICE(DAMO_NONE, DAMO_NONE, -1)});
    damo_var *z = damo_add(damo_mul(col, damo_float(g, 2)), row);
    damo_var *w = damo_inc_subtensor(x, 1, (const damo_slice[]){DAMO_SLICE(1, DAMO_NONE, 1)},
                                     damo_subtensor(x, 1, (const damo_slice[]){DAMO_SLICE(DAMO_NONE, 2, 1)}));
    damo_var *outs[] = {z, w};
    double x9[9];
    for (int i = 0; i < 9; i++)
        x9[i] = i;
    damo_array *x9a = arr(DAMO_FLOAT64, 2, (int64_t[]){3, 3}, x9);
    for (int p = 0; p < 2; p++) {
        f = damo_function_simple(g, 1, &x, 2, outs, both_paths[p]);
        CHECK_MSG(f, "%s", damo_graph_errmsg(g));
        damo_array *rs[2] = {NULL, NULL};
        arg = DAMO_ARG(x9a);
        CHECK(f && damo_call(f, &arg, 1, rs, 2) == DAMO_OK);
        double zv[3] = {0}, wv[9] = {0};
        CHECK(rs[0] && damo_array_read(rs[0], zv) == DAMO_OK);
        CHECK_MSG(zv[0] == 4 && zv[1] == 9 && zv[2] == 14, "x[:, 1] * 2 + x[0, ::-1]: %g %g %g", zv[0], zv[1],
                  zv[2]);
        /* r = x.copy(); r[1:] += x[:2] -> [[0, 1, 2], [3, 5, 7], [9, 11, 13]] */
        const double wwant[] = {0, 1, 2, 3, 5, 7, 9, 11, 13};
        CHECK(rs[1] && damo_array_read(rs[1], wv) == DAMO_OK);
        CHECK_MSG(!memcmp(wv, wwant, sizeof wv), "inc_subtensor(x[1:], x[:2]) differs: %g %g %g ...", wv[3],
                  wv[4], wv[5]);
        damo_array_release(rs[0]);
        damo_array_release(rs[1]);
        damo_function_free(f);
    }
    damo_array_release(x9a);
    damo_graph_free(g);
}

/* The hot path allocates and builds nothing after the first calls: one
 * function with a step of each kind it checks (reduce, BLAS, view, copy,
 * gather, scatter, host; its elementwise work is fused into the
 * reductions), called with its results released each time. Checked against sums worked by hand: x = [[0, 1, 2], [3, 4, 5]],
 * idx = [1, 0, 1], v = [1, 1, 1]. */
static void test_steady_state(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_var *x = damo_dmatrix(g, "x"), *idx = damo_lvector(g, "idx"), *v = damo_dvector(g, "v");
    damo_var *outs[] = {
        damo_sum(damo_exp(damo_transpose(x)), (const int[]){0}, 1, 0), /* view + reduce */
        damo_dot(x, v),                                                   /* BLAS: [3, 12] */
        damo_sum(damo_set_subtensor(x, 1, (const damo_slice[]){DAMO_INDEX(0)}, v), NULL, 0, 0), /* copy: 15 */
        damo_sum(damo_take(x, idx), NULL, 0, 0),                         /* gather: 27 */
        damo_sum(damo_inc_take(x, idx, v), NULL, 0, 0),                  /* scatter: 15 + 9 = 24 */
        damo_sum(damo_arange(damo_int(g, 0), damo_shape_i(x, 1), damo_int(g, 1)), NULL, 0, 0), /* host: 3 */
    };
    damo_var *ins[] = {x, idx, v};
    const double xv[] = {0, 1, 2, 3, 4, 5}, vv[] = {1, 1, 1};
    const int64_t iv[] = {1, 0, 1};
    damo_array *xa = arr(DAMO_FLOAT64, 2, (int64_t[]){2, 3}, xv), *ia = arr(DAMO_INT64, 1, (int64_t[]){3}, iv),
               *va = arr(DAMO_FLOAT64, 1, (int64_t[]){3}, vv);
    damo_arg args[] = {DAMO_ARG(xa), DAMO_ARG(ia), DAMO_ARG(va)};
    for (int p = 0; p < 2; p++) {
        damo_function *f = damo_function_simple(g, 3, ins, 6, outs, both_paths[p]);
        CHECK_MSG(f, "%s", damo_graph_errmsg(g));
        static const damo_step_kind kinds[] = {DAMO_STEP_REDUCE, DAMO_STEP_BLAS, DAMO_STEP_VIEW, DAMO_STEP_COPY,
                                               DAMO_STEP_GATHER, DAMO_STEP_SCATTER, DAMO_STEP_HOST};
        for (size_t k = 0; f && k < sizeof kinds / sizeof kinds[0]; k++)
            CHECK_MSG(has_kind(f, kinds[k]), "no step of kind %d", (int)kinds[k]);
        damo_ctx_stats before = {0}, after = {0};
        for (int call = 0; f && call < 6; call++) {
            if (call == 2)
                damo_ctx_get_stats(ctx, &before);
            damo_array *r[6] = {NULL};
            CHECK_MSG(damo_call(f, args, 3, r, 6) == DAMO_OK, "%s", damo_function_errmsg(f));
            double d[2] = {0}, s[4] = {0};
            CHECK(r[1] && damo_array_read(r[1], d) == DAMO_OK);
            for (int o = 2; o < 6; o++)
                CHECK(r[o] && damo_array_get_f64(r[o], 0, &s[o - 2]) == DAMO_OK);
            CHECK(d[0] == 3 && d[1] == 12 && s[0] == 15 && s[1] == 27 && s[2] == 24 && s[3] == 3);
            for (int o = 0; o < 6; o++)
                damo_array_release(r[o]);
        }
        damo_ctx_get_stats(ctx, &after);
        CHECK_MSG(after.buffers_created == before.buffers_created && after.builds == before.builds,
                  "%s: calls 3..6 created %llu buffers and built %llu programs", path_name(both_paths[p]),
                  (unsigned long long)(after.buffers_created - before.buffers_created),
                  (unsigned long long)(after.builds - before.builds));
        damo_function_free(f);
    }
    damo_array_release(xa);
    damo_array_release(ia);
    damo_array_release(va);
    damo_graph_free(g);
}

int main(void)
{
    if (!open_ctx())
        return 1;
    test_subtensor_out_of_range();
    test_take_out_of_range();
    test_build_errors();
    test_steps_and_lifetimes();
    test_steady_state();
    part1();
    damo_ctx_stats stats;
    damo_ctx_get_stats(ctx, &stats);
    printf("programs: %llu built, %llu from the disk cache, %llu found in memory\n",
           (unsigned long long)stats.builds, (unsigned long long)stats.disk_hits,
           (unsigned long long)stats.memory_hits);
    damo_ctx_free(ctx);
    return check_done();
}
