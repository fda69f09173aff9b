/* Shape and structure: damo_dimshuffle, transpose, reshape, reshape_to,
 * flatten, shape, shape_i, alloc, zeros, ones, fill, zeros_like,
 * ones_like, arange, eye, concatenate and stack.
 *
 * Expected values are NumPy 2.4's: tests/data/tensor_shape.txt, written by
 * tests/data/make_tensor_cases.py, holds one named case per NumPy
 * expression (quoted in the file) with its input arrays. Each case below
 * builds the same thing with damo and runs it with flags 0 and
 * DAMO_FN_DEVICE_ONLY, with the inputs' static shapes unknown and known,
 * and with its inputs passed contiguous and as strided views
 * (damo_array_strided_view of a padded base); dtype, shape and values
 * must be NumPy's exactly (float arange within 2 ulps: NumPy fills from
 * start + i * (second - first)).
 *
 * Also: step kinds (a transpose, dimshuffle, reshape, flatten or alloc of
 * an input is one VIEW step and no kernel), results of view steps keep their values when the function is
 * called again and after their input is released, build-time errors
 * (bad dimshuffle orders, reshape sizes known to be wrong, two -1s,
 * concatenate/stack mismatches, bad axes) and run-time ones (reshape and
 * concatenate of unknown sizes that do not fit), after which the function
 * stays usable. */
#include <damo.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tcase.h"

/* ---------------------------------------------------------------------- */
/* Named cases                                                             */
/* ---------------------------------------------------------------------- */

static tfile shape_file;

static const tcase *find_case(const char *name)
{
    for (int i = 0; i < shape_file.n_cases; i++)
        if (!strcmp(shape_file.cases[i].id, name))
            return &shape_file.cases[i];
    CHECK_MSG(0, "no case %s in tensor_shape.txt", name);
    return NULL;
}

#define SH_MAX 8

typedef struct sh {
    const tcase *c;
    const char *name;
    damo_graph *g;
    int static_shapes;
    int n_arrays; /* inputs from the file's arrays */
    char tags[SH_MAX][16];
    parray base[SH_MAX], shown[SH_MAX];
    damo_array *a[SH_MAX];
    int n_in; /* every input: arrays, then numbers */
    damo_var *in[SH_MAX];
    damo_arg args[SH_MAX];
    parray want;
    int ok;
} sh;

static int cases_run;

/* Opens case `name`: a graph with one input per array of the case (named by
 * its tag; static shape known when static_shapes). */
static int sh_begin(sh *s, const char *name, int static_shapes)
{
    memset(s, 0, sizeof *s);
    s->name = name;
    s->static_shapes = static_shapes;
    s->c = find_case(name);
    s->g = damo_graph_new(ctx);
    if (!s->c)
        return 0;
    s->ok = case_array(s->c, "out", &s->want);
    for (int i = 0; s->ok && i < s->c->n_lines; i++) {
        char tag[16];
        if (sscanf(s->c->lines[i], "array %15s", tag) != 1 || !strcmp(tag, "out") || s->n_arrays == SH_MAX)
            continue;
        int k = s->n_arrays++;
        snprintf(s->tags[k], sizeof s->tags[k], "%s", tag);
        s->a[k] = case_input(s->c, tag, &s->base[k], &s->shown[k]);
        s->ok = s->a[k] != NULL;
        s->in[k] =
            damo_tensor(s->g, s->shown[k].t, s->shown[k].ndim, static_shapes ? s->shown[k].shape : NULL, tag);
        s->args[k] = DAMO_ARG(s->a[k]);
        s->n_in++;
    }
    return s->ok;
}

static damo_var *sh_var(sh *s, const char *tag)
{
    for (int k = 0; k < s->n_arrays; k++)
        if (!strcmp(s->tags[k], tag))
            return s->in[k];
    CHECK_MSG(0, "case %s: no array %s", s->name, tag);
    return NULL;
}

/* Adds a scalar input with its call value. */
static damo_var *sh_scalar(sh *s, damo_dtype t, const char *name, damo_arg value)
{
    damo_var *v = damo_tensor(s->g, t, 0, NULL, name);
    if (s->n_in < SH_MAX) {
        s->in[s->n_in] = v;
        s->args[s->n_in++] = value;
    }
    return v;
}

/* A strided view holding the values of p: its base has the last axis
 * doubled (odd positions hold junk). 0-d arrays are passed as they are. */
static damo_array *strided_copy(const parray *p)
{
    if (p->ndim == 0)
        return damo_array_from_data(ctx, p->t, 0, NULL, p->data);
    int64_t bshape[DAMO_MAX_DIMS], strides[DAMO_MAX_DIMS];
    int nd = p->ndim;
    int64_t bn = 1;
    for (int d = 0; d < nd; d++) {
        bshape[d] = d == nd - 1 ? 2 * p->shape[d] + 1 : p->shape[d];
        bn *= bshape[d];
    }
    /* the base's element strides, the view's last one doubled */
    int64_t bs[DAMO_MAX_DIMS];
    bs[nd - 1] = 1;
    for (int d = nd - 2; d >= 0; d--)
        bs[d] = bs[d + 1] * bshape[d + 1];
    for (int d = 0; d < nd; d++)
        strides[d] = d == nd - 1 ? 2 : bs[d];
    size_t sz = damo_dtype_size(p->t);
    unsigned char *data = malloc((size_t)bn * sz + 1);
    memset(data, 0x5a, (size_t)bn * sz + 1);
    for (int64_t i = 0; i < p->n; i++) {
        int64_t rest = i, at = 1; /* offset 1 */
        for (int d = nd - 1; d >= 0; d--) {
            at += (rest % p->shape[d]) * strides[d];
            rest /= p->shape[d];
        }
        memcpy(data + (size_t)at * sz, (const char *)p->data + (size_t)i * sz, sz);
    }
    if (p->t == DAMO_BOOL)
        for (int64_t i = 0; i < bn; i++)
            data[i] = data[i] ? 1 : 0;
    damo_array *b = damo_array_from_data(ctx, p->t, nd, bshape, data);
    free(data);
    damo_array *v = b ? damo_array_strided_view(b, nd, p->shape, strides, 1) : NULL;
    CHECK_MSG(v, "strided view: %s", damo_ctx_errmsg(ctx));
    damo_array_release(b);
    return v;
}

static double ulps_apart(double a, double b)
{
    if (a == b)
        return 0;
    double u = nextafter(fabs(b), INFINITY) - fabs(b);
    return fabs(a - b) / u;
}

/* Compiles inputs -> out and checks NumPy's answer on both paths, with the
 * arrays contiguous and as strided views; float_ulps allows that many
 * ulps for floats (arange). Frees everything. */
static void sh_run_ulps(sh *s, damo_var *out, double float_ulps)
{
    cases_run++;
    char what[200];
    CHECK_MSG(s->ok && out, "%s%s: build: %s", s->name, s->static_shapes ? " (static)" : "",
              damo_graph_errmsg(s->g));
    if (s->ok && out) {
        CHECK_MSG(damo_var_dtype(out) == s->want.t && damo_var_ndim(out) == s->want.ndim,
                  "%s: variable %s %d-d, NumPy %s %d-d", s->name, damo_dtype_name(damo_var_dtype(out)),
                  damo_var_ndim(out), damo_dtype_name(s->want.t), s->want.ndim);
        if (s->static_shapes)
            for (int d = 0; d < s->want.ndim && d < damo_var_ndim(out); d++) {
                int64_t sd = damo_var_dim(out, d);
                CHECK_MSG(sd == s->want.shape[d] || sd == DAMO_DIM_UNKNOWN,
                          "%s (static): static size %d is %lld, NumPy %lld", s->name, d, (long long)sd,
                          (long long)s->want.shape[d]);
            }
    }
    for (int p = 0; s->ok && out && p < 2; p++) {
        damo_function *f = damo_function_simple(s->g, (size_t)s->n_in, s->in, 1, &out, both_paths[p]);
        CHECK_MSG(f, "%s (%s): compile: %s", s->name, path_name(both_paths[p]), damo_graph_errmsg(s->g));
        for (int strided = 0; f && strided < 2; strided++) {
            if (strided && s->n_arrays == 0)
                break;
            damo_arg args[SH_MAX];
            damo_array *views[SH_MAX] = {NULL};
            memcpy(args, s->args, sizeof args);
            for (int k = 0; strided && k < s->n_arrays; k++) {
                views[k] = strided_copy(&s->shown[k]);
                args[k] = DAMO_ARG(views[k]);
            }
            snprintf(what, sizeof what, "%s%s (%s, %s inputs)", s->name, s->static_shapes ? " static" : "",
                     path_name(both_paths[p]), strided ? "strided" : "contiguous");
            damo_array *r = NULL;
            damo_status st = damo_call(f, args, (size_t)s->n_in, &r, 1);
            CHECK_MSG(st == DAMO_OK, "%s: %s", what, damo_function_errmsg(f));
            if (st == DAMO_OK && float_ulps > 0 && is_float(s->want.t) && damo_array_size(r) == s->want.n &&
                damo_array_dtype(r) == s->want.t) {
                double worst = 0;
                for (int64_t i = 0; i < s->want.n; i++) {
                    double v = NAN;
                    damo_array_get_f64(r, i, &v);
                    double u = ulps_apart(v, elem_f64(s->want.t, s->want.data, i));
                    worst = u > worst ? u : worst;
                }
                CHECK_MSG(worst <= float_ulps, "%s: %g ulps from NumPy", what, worst);
            } else if (st == DAMO_OK) {
                expect_array(r, &s->want, NULL, what);
            }
            damo_array_release(r);
            for (int k = 0; k < s->n_arrays; k++)
                damo_array_release(views[k]);
        }
        damo_function_free(f);
    }
    for (int k = 0; k < s->n_arrays; k++) {
        damo_array_release(s->a[k]);
        free_input(&s->base[k], &s->shown[k]);
    }
    free(s->want.data);
    damo_graph_free(s->g);
}

static void sh_run(sh *s, damo_var *out) { sh_run_ulps(s, out, 0); }

/* ---------------------------------------------------------------------- */
/* The cases                                                               */
/* ---------------------------------------------------------------------- */

static void test_dimshuffle_transpose(void)
{
    for (int st = 0; st < 2; st++) {
        sh s;
        sh_begin(&s, "dimshuffle_201", st);
        sh_run(&s, damo_dimshuffle(sh_var(&s, "x234"), 3, (const int[]){2, 0, 1}));
        sh_begin(&s, "dimshuffle_x0x12", st);
        sh_run(&s,
               damo_dimshuffle(sh_var(&s, "x234"), 5, (const int[]){DAMO_NEWAXIS, 0, DAMO_NEWAXIS, 1, 2}));
        sh_begin(&s, "dimshuffle_1x0", st);
        sh_run(&s, damo_dimshuffle(sh_var(&s, "m34"), 3, (const int[]){1, DAMO_NEWAXIS, 0}));
        sh_begin(&s, "transpose_m34", st);
        sh_run(&s, damo_transpose(sh_var(&s, "m34")));
        sh_begin(&s, "transpose_x234", st);
        sh_run(&s, damo_transpose(sh_var(&s, "x234")));
        sh_begin(&s, "transpose_v5", st);
        sh_run(&s, damo_transpose(sh_var(&s, "v5")));
    }
    /* dropping and adding broadcastable dimensions: c31's second size is
     * statically 1 */
    for (int st = 0; st < 2; st++) {
        sh s;
        sh_begin(&s, "dimshuffle_drop", 0);
        int64_t shp[] = {st ? 3 : DAMO_DIM_UNKNOWN, 1};
        s.in[0] = damo_tensor(s.g, DAMO_INT64, 2, shp, "c31");
        sh_run(&s, damo_dimshuffle(s.in[0], 1, (const int[]){0}));
        sh_begin(&s, "dimshuffle_x10", 0);
        s.in[0] = damo_tensor(s.g, DAMO_INT64, 2, shp, "c31");
        sh_run(&s, damo_dimshuffle(s.in[0], 3, (const int[]){DAMO_NEWAXIS, 1, 0}));
    }
    /* errors */
    damo_graph *g = damo_graph_new(ctx);
    damo_var *m = damo_dmatrix(g, "m"), *t3 = damo_dtensor3(g, "t3");
    struct {
        const char *what;
        damo_var *v;
    } bad[] = {
        {"drop an axis of unknown size", damo_dimshuffle(m, 1, (const int[]){0})},
        {"an axis twice", damo_dimshuffle(m, 2, (const int[]){0, 0})},
        {"axis 2 of a matrix", damo_dimshuffle(m, 2, (const int[]){0, 2})},
        {"axis -2 (not NEWAXIS)", damo_dimshuffle(m, 2, (const int[]){1, -2})},
        {"drop an axis of static size 3",
         damo_dimshuffle(damo_tensor(g, DAMO_FLOAT64, 2, (int64_t[]){3, 3}, "s"), 1, (const int[]){0})},
        {"more than DAMO_MAX_DIMS axes",
         damo_dimshuffle(t3, 9, (const int[]){0, 1, 2, -1, -1, -1, -1, -1, -1})},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_MSG(!bad[i].v, "dimshuffle %s: built, expected an error", bad[i].what);
        CHECK_MSG(damo_graph_errcode(g) != DAMO_OK && damo_graph_errmsg(g)[0], "dimshuffle %s: no message",
                  bad[i].what);
    }
    CHECK(damo_transpose(NULL) == NULL && damo_dimshuffle(NULL, 1, (const int[]){0}) == NULL);
    /* a 0-d transpose is itself; a 0-d dimshuffle adds axes */
    damo_var *s0 = damo_dscalar(g, "s0");
    CHECK(damo_var_ndim(damo_transpose(s0)) == 0);
    damo_var *s2 = damo_dimshuffle(s0, 2, (const int[]){DAMO_NEWAXIS, DAMO_NEWAXIS});
    CHECK(s2 && damo_var_ndim(s2) == 2 && damo_var_dim(s2, 0) == 1 && damo_var_dim(s2, 1) == 1);
    damo_graph_free(g);
}

static void test_reshape_flatten(void)
{
    for (int st = 0; st < 2; st++) {
        sh s;
        sh_begin(&s, "reshape_6x4", st);
        sh_run(&s, damo_reshape(sh_var(&s, "x234"), 2, (const int64_t[]){6, 4}));
        sh_begin(&s, "reshape_m1x2", st);
        sh_run(&s, damo_reshape(sh_var(&s, "x234"), 2, (const int64_t[]){-1, 2}));
        sh_begin(&s, "reshape_4xm1x3", st);
        sh_run(&s, damo_reshape(sh_var(&s, "x234"), 3, (const int64_t[]){4, -1, 3}));
        sh_begin(&s, "reshape_24", st);
        sh_run(&s, damo_reshape(sh_var(&s, "x234"), 1, (const int64_t[]){24}));
        sh_begin(&s, "reshape_T_4x6", st);
        sh_run(&s, damo_reshape(damo_transpose(sh_var(&s, "x234")), 2, (const int64_t[]){4, 6}));
        sh_begin(&s, "reshape_to_y", st);
        sh_run(&s, damo_reshape_to(sh_var(&s, "x234"), damo_shape(sh_var(&s, "y64"))));
        sh_begin(&s, "reshape_0d", st);
        sh_run(&s,
               damo_reshape(damo_subtensor(sh_var(&s, "v5"), 1, (const damo_slice[]){DAMO_SLICE(0, 1, 1)}), 0,
                            NULL));
        sh_begin(&s, "flatten_1", st);
        sh_run(&s, damo_flatten(sh_var(&s, "x234"), 1));
        sh_begin(&s, "flatten_2", st);
        sh_run(&s, damo_flatten(sh_var(&s, "x234"), 2));
        sh_begin(&s, "flatten_3", st);
        sh_run(&s, damo_flatten(sh_var(&s, "x234"), 3));
        sh_begin(&s, "flatten_T_2", st);
        sh_run(&s, damo_flatten(damo_transpose(sh_var(&s, "x234")), 2));
    }
    /* reshape_to with a constant shape vector: x234.reshape(6, 4) */
    {
        sh s;
        sh_begin(&s, "reshape_6x4", 0);
        const int64_t shp[] = {6, 4};
        damo_array *sa = damo_array_from_data(ctx, DAMO_INT64, 1, (int64_t[]){2}, shp);
        sh_run(&s, damo_reshape_to(sh_var(&s, "x234"), damo_constant(s.g, sa)));
        damo_array_release(sa);
    }
    /* errors when building: sizes known to be wrong, two -1s, a float or
     * 2-d shape variable */
    damo_graph *g = damo_graph_new(ctx);
    damo_var *k = damo_tensor(g, DAMO_FLOAT64, 3, (int64_t[]){2, 3, 4}, "k");
    damo_var *u = damo_dtensor3(g, "u");
    /* each is checked right after its build: the graph keeps only the
     * latest error */
#define BAD_RESHAPE(what, build, want)                                                                            \
    do {                                                                                                          \
        damo_var *bv_ = (build);                                                                                  \
        CHECK_MSG(!bv_, "reshape %s: built, expected an error", what);                                         \
        CHECK_MSG(damo_graph_errcode(g) != DAMO_OK && damo_graph_errmsg(g)[0], "reshape %s: no message", what); \
        if ((want) != DAMO_OK)                                                                                    \
            CHECK_MSG(damo_graph_errcode(g) == (want), "reshape %s: %s, expected %s", what,                     \
                      damo_status_name(damo_graph_errcode(g)), damo_status_name(want));                          \
    } while (0)
    BAD_RESHAPE("(2, 3, 4) to (5, 5)", damo_reshape(k, 2, (const int64_t[]){5, 5}), DAMO_ERR_SHAPE);
    BAD_RESHAPE("(2, 3, 4) to (-1, 5)", damo_reshape(k, 2, (const int64_t[]){-1, 5}), DAMO_ERR_SHAPE);
    BAD_RESHAPE("(2, 3, 4) to (-1, -1)", damo_reshape(k, 2, (const int64_t[]){-1, -1}), DAMO_OK);
    BAD_RESHAPE("unknown to (-1, -1)", damo_reshape(u, 2, (const int64_t[]){-1, -1}), DAMO_OK);
    BAD_RESHAPE("unknown to (-2, 4)", damo_reshape(u, 2, (const int64_t[]){-2, 4}), DAMO_OK);
    BAD_RESHAPE("reshape_to a float vector", damo_reshape_to(u, damo_dvector(g, "fv")), DAMO_OK);
    BAD_RESHAPE("reshape_to a vector of unknown length", damo_reshape_to(u, damo_lvector(g, "lv")), DAMO_OK);
    BAD_RESHAPE("flatten to 0 axes", damo_flatten(u, 0), DAMO_OK);
    BAD_RESHAPE("flatten to 4 axes of a 3-d", damo_flatten(u, 4), DAMO_OK);
#undef BAD_RESHAPE
    /* at run time when the sizes are unknown; the function stays usable */
    damo_var *r = damo_reshape(u, 2, (const int64_t[]){5, -1}),
             *r2 = damo_reshape(u, 2, (const int64_t[]){5, 5});
    damo_var *outs[] = {r, r2};
    for (int o = 0; o < 2; o++) {
        for (int p = 0; p < 2; p++) {
            damo_function *f = damo_function_simple(g, 1, &u, 1, &outs[o], both_paths[p]);
            CHECK_MSG(f, "%s", damo_graph_errmsg(g));
            double v[25];
            for (int i = 0; i < 25; i++)
                v[i] = i;
            damo_array *a24 = damo_array_from_data(ctx, DAMO_FLOAT64, 3, (int64_t[]){2, 3, 4}, v);
            damo_array *a25 = damo_array_from_data(ctx, DAMO_FLOAT64, 3, (int64_t[]){1, 5, 5}, v);
            damo_array *res = (damo_array *)&res;
            damo_arg arg = DAMO_ARG(a24);
            damo_status stt = f ? damo_call(f, &arg, 1, &res, 1) : DAMO_OK;
            CHECK_MSG(f && stt != DAMO_OK && res == NULL, "reshape of 24 elements to (5, %s) succeeded",
                      o ? "5" : "-1");
            CHECK_MSG(!f || damo_function_errmsg(f)[0], "no message");
            res = NULL;
            arg = DAMO_ARG(a25);
            stt = f ? damo_call(f, &arg, 1, &res, 1) : DAMO_ERR_INVALID;
            CHECK_MSG(stt == DAMO_OK, "after the error: %s", damo_function_errmsg(f));
            double got[25] = {0};
            CHECK(res && damo_array_ndim(res) == 2 && damo_array_shape(res)[0] == 5 &&
                  damo_array_shape(res)[1] == 5 && damo_array_read(res, got) == DAMO_OK &&
                  !memcmp(got, v, sizeof v));
            damo_array_release(res);
            damo_array_release(a24);
            damo_array_release(a25);
            damo_function_free(f);
        }
    }
    damo_graph_free(g);
}

static void test_shape_values(void)
{
    for (int st = 0; st < 2; st++) {
        sh s;
        sh_begin(&s, "shape_x234", st);
        sh_run(&s, damo_shape(sh_var(&s, "x234")));
        sh_begin(&s, "shape0_times_2", st);
        sh_run(&s, damo_mul(damo_shape_i(sh_var(&s, "x234"), 0), damo_int(s.g, 2)));
        sh_begin(&s, "x_plus_shape_m1", st);
        sh_run(&s, damo_add(sh_var(&s, "x234"), damo_shape_i(sh_var(&s, "x234"), -1)));
    }
    damo_graph *g = damo_graph_new(ctx);
    damo_var *m = damo_dmatrix(g, "m");
    CHECK(damo_var_dtype(damo_shape(m)) == DAMO_INT64 && damo_var_ndim(damo_shape(m)) == 1 &&
          damo_var_dim(damo_shape(m), 0) == 2);
    CHECK(damo_var_dtype(damo_shape_i(m, 1)) == DAMO_INT64 && damo_var_ndim(damo_shape_i(m, -1)) == 0);
    CHECK_MSG(damo_shape_i(m, 2) == NULL, "shape_i(matrix, 2) built");
    CHECK_MSG(damo_shape_i(m, -3) == NULL, "shape_i(matrix, -3) built");
    /* the shape of an input of unknown size is computed on the host */
    damo_var *sh0 = damo_shape(m);
    damo_function *f = damo_function_simple(g, 1, &m, 1, &sh0, 0);
    CHECK_MSG(f, "%s", damo_graph_errmsg(g));
    if (f) {
        CHECK_INT(damo_function_n_steps(f), 1);
        CHECK_MSG(damo_function_step_kind(f, 0) == DAMO_STEP_HOST, "shape(m): step %s",
                  damo_function_step_text(f, 0));
    }
    damo_function_free(f);
    /* static sizes fold: the shape of a (2, 3) input is a constant */
    damo_var *k = damo_tensor(g, DAMO_FLOAT32, 2, (int64_t[]){2, 3}, "k");
    damo_var *ks = damo_mul(damo_shape_i(k, 1), damo_int(g, 2));
    f = damo_function_simple(g, 1, &k, 1, &ks, 0);
    CHECK_MSG(f, "%s", damo_graph_errmsg(g));
    damo_array *ka = damo_array_zeros(ctx, DAMO_FLOAT32, 2, (int64_t[]){2, 3}), *r = NULL;
    damo_arg arg = DAMO_ARG(ka);
    int64_t v = 0;
    CHECK(f && damo_call(f, &arg, 1, &r, 1) == DAMO_OK && damo_array_get_i64(r, 0, &v) == DAMO_OK && v == 6);
    damo_array_release(r);
    damo_array_release(ka);
    damo_function_free(f);
    damo_graph_free(g);
}

static void test_alloc_family(void)
{
    for (int st = 0; st < 2; st++) {
        sh s;
        sh_begin(&s, "alloc_scalar_2x3", st);
        /* dims: an input n (2) and a constant 3 */
        damo_var *n = sh_scalar(&s, DAMO_INT64, "n", DAMO_INT(2));
        sh_run(&s, damo_alloc(damo_float(s.g, 2.5), 2, (damo_var *const[]){n, damo_int(s.g, 3)}));
        sh_begin(&s, "alloc_v5_4x5", st);
        damo_var *v5 = sh_var(&s, "v5");
        sh_run(&s, damo_alloc(v5, 2, (damo_var *const[]){damo_int(s.g, 4), damo_shape_i(v5, 0)}));
        sh_begin(&s, "alloc_c31_2x3x4", st);
        sh_run(&s, damo_alloc(sh_var(&s, "c31"), 3,
                              (damo_var *const[]){damo_int(s.g, 2), damo_int(s.g, 3), damo_int(s.g, 4)}));
        sh_begin(&s, "zeros_i32_2x3", st);
        damo_var *m = sh_scalar(&s, DAMO_INT32, "m", DAMO_INT(3));
        sh_run(&s, damo_zeros(s.g, DAMO_INT32, 2, (damo_var *const[]){damo_int(s.g, 2), m}));
        sh_begin(&s, "ones_f32_4", st);
        sh_run(&s, damo_ones(s.g, DAMO_FLOAT32, 1, (damo_var *const[]){damo_int(s.g, 4)}));
        sh_begin(&s, "ones_bool_2x2", st);
        sh_run(&s, damo_ones(s.g, DAMO_BOOL, 2, (damo_var *const[]){damo_int(s.g, 2), damo_int(s.g, 2)}));
        sh_begin(&s, "fill_m34_7", st);
        sh_run(&s, damo_fill(sh_var(&s, "m34"), damo_float(s.g, 7.0)));
        sh_begin(&s, "zeros_like_m34", st);
        sh_run(&s, damo_zeros_like(sh_var(&s, "m34")));
        sh_begin(&s, "ones_like_v5", st);
        sh_run(&s, damo_ones_like(sh_var(&s, "v5")));
    }
    damo_graph *g = damo_graph_new(ctx);
    damo_var *v = damo_dvector(g, "v");
    CHECK_MSG(!damo_alloc(v, 1, (damo_var *const[]){damo_float(g, 2.0)}), "alloc with a float size built");
    CHECK_MSG(!damo_alloc(damo_dmatrix(g, "mm"), 1, (damo_var *const[]){damo_int(g, 2)}),
              "alloc of a matrix to 1 axis built");
    damo_var *s3 = damo_tensor(g, DAMO_FLOAT64, 1, (int64_t[]){3}, "s3");
    CHECK_MSG(!damo_alloc(s3, 2, (damo_var *const[]){damo_int(g, 2), damo_int(g, 4)}),
              "alloc of a static (3,) to (2, 4) built");
    damo_graph_free(g);
}

static void test_arange_eye(void)
{
    struct {
        const char *name;
        int is_float;
        double a, b, c;
    } ar[] = {
        {"arange_0_10_1", 0, 0, 10, 1},       {"arange_10_0_m3", 0, 10, 0, -3},
        {"arange_m7_m2", 0, -7, -2, 1},       {"arange_5_5_1", 0, 5, 5, 1},
        {"arange_5_0_1", 0, 5, 0, 1},         {"arange_f_0_1_01", 1, 0, 1, 0.1},
        {"arange_f_03_1_01", 1, 0.3, 1, 0.1}, {"arange_f_05_m2_m05", 1, 0.5, -2, -0.5},
        {"arange_f_1_0_025", 1, 1, 0, 0.25},
    };
    for (size_t i = 0; i < sizeof ar / sizeof ar[0]; i++) {
        /* constants, then inputs given at call time */
        for (int sym = 0; sym < 2; sym++) {
            sh s;
            sh_begin(&s, ar[i].name, 0);
            damo_var *v[3];
            double vals[3] = {ar[i].a, ar[i].b, ar[i].c};
            for (int k = 0; k < 3; k++) {
                char nm[4] = {(char)('a' + k), 0};
                if (!sym)
                    v[k] = ar[i].is_float ? damo_float(s.g, vals[k]) : damo_int(s.g, (int64_t)vals[k]);
                else if (ar[i].is_float)
                    v[k] = sh_scalar(&s, DAMO_FLOAT64, nm, DAMO_FLOAT(vals[k]));
                else
                    v[k] = sh_scalar(&s, DAMO_INT64, nm, DAMO_INT((int64_t)vals[k]));
            }
            damo_var *out = damo_arange(v[0], v[1], v[2]);
            if (sym && out) {
                damo_function *f = damo_function_simple(s.g, 3, s.in, 1, &out, 0);
                int host = 0;
                for (size_t k = 0; f && k < damo_function_n_steps(f); k++)
                    host |= damo_function_step_kind(f, k) == DAMO_STEP_HOST;
                CHECK_MSG(host, "%s of inputs: no HOST step", ar[i].name);
                damo_function_free(f);
            }
            sh_run_ulps(&s, out, 2);
        }
    }
    {
        sh s;
        sh_begin(&s, "arange_i32_2_11_3", 0);
        damo_var *a = sh_scalar(&s, DAMO_INT32, "a", DAMO_INT(2));
        sh_run(&s,
               damo_arange(a, damo_const_scalar(s.g, DAMO_INT32, 11), damo_const_scalar(s.g, DAMO_INT32, 3)));
    }
    struct {
        const char *name;
        int n, m, k;
        damo_dtype t;
    } ey[] = {
        {"eye_3", 3, -1, 0, DAMO_FLOAT64},         {"eye_3x4_k1", 3, 4, 1, DAMO_FLOAT64},
        {"eye_4x3_km2_i32", 4, 3, -2, DAMO_INT32}, {"eye_2x5_k7", 2, 5, 7, DAMO_FLOAT64},
        {"eye_3_km3_f32", 3, 3, -3, DAMO_FLOAT32}, {"eye_0", 0, -1, 0, DAMO_FLOAT64},
    };
    for (size_t i = 0; i < sizeof ey / sizeof ey[0]; i++) {
        for (int sym = 0; sym < 2; sym++) {
            sh s;
            sh_begin(&s, ey[i].name, 0);
            damo_var *n = sym ? sh_scalar(&s, DAMO_INT64, "n", DAMO_INT(ey[i].n)) : damo_int(s.g, ey[i].n);
            damo_var *m = ey[i].m < 0 ? NULL
                          : sym       ? sh_scalar(&s, DAMO_INT32, "m", DAMO_INT(ey[i].m))
                                      : damo_int(s.g, ey[i].m);
            sh_run(&s, damo_eye(n, m, ey[i].k, ey[i].t));
        }
    }
    damo_graph *g = damo_graph_new(ctx);
    CHECK_MSG(!damo_eye(damo_float(g, 3), NULL, 0, DAMO_FLOAT64), "eye of a float size built");
    CHECK_MSG(!damo_arange(damo_int(g, 0), damo_int(g, 5), damo_int(g, 0)), "arange with step 0 built");
    CHECK_MSG(!damo_arange(damo_dvector(g, "vv"), damo_int(g, 5), damo_int(g, 1)),
              "arange of a vector built");
    /* step 0 at run time: an error, and the function stays usable */
    damo_var *st = damo_lscalar(g, "step");
    damo_var *ar0 = damo_arange(damo_int(g, 0), damo_int(g, 4), st);
    damo_function *f = damo_function_simple(g, 1, &st, 1, &ar0, 0);
    CHECK_MSG(f, "%s", damo_graph_errmsg(g));
    damo_array *r = (damo_array *)&r;
    damo_arg a0 = DAMO_INT(0), a2 = DAMO_INT(2);
    CHECK_MSG(f && damo_call(f, &a0, 1, &r, 1) != DAMO_OK && r == NULL, "arange with step 0 at run time");
    r = NULL;
    CHECK(f && damo_call(f, &a2, 1, &r, 1) == DAMO_OK && damo_array_size(r) == 2);
    damo_array_release(r);
    damo_function_free(f);
    damo_graph_free(g);
}

static void test_concatenate_stack(void)
{
    for (int st = 0; st < 2; st++) {
        sh s;
        sh_begin(&s, "concat_0", st);
        sh_run(&s, damo_concatenate(2, (damo_var *const[]){sh_var(&s, "a23"), sh_var(&s, "c13")}, 0));
        sh_begin(&s, "concat_1", st);
        damo_var *a = sh_var(&s, "a23");
        sh_run(&s, damo_concatenate(2, (damo_var *const[]){a, damo_mul(a, damo_int(s.g, 2))}, 1));
        sh_begin(&s, "concat_m1_3", st);
        a = sh_var(&s, "a23");
        sh_run(&s, damo_concatenate(3, (damo_var *const[]){a, sh_var(&s, "b23"), a}, -1));
        sh_begin(&s, "concat_empty", st);
        damo_var *e = sh_var(&s, "e03");
        sh_run(&s, damo_concatenate(3, (damo_var *const[]){e, sh_var(&s, "a23"), e}, 0));
        sh_begin(&s, "concat_i8_u8", st);
        sh_run(&s, damo_concatenate(2, (damo_var *const[]){sh_var(&s, "i8"), sh_var(&s, "u8")}, 0));
        sh_begin(&s, "concat_bool_i8", st);
        sh_run(&s, damo_concatenate(2, (damo_var *const[]){sh_var(&s, "bo"), sh_var(&s, "i8")}, 1));
        sh_begin(&s, "concat_x234_1", st);
        damo_var *x = sh_var(&s, "x234");
        damo_var *x1 = damo_subtensor(x, 2, (const damo_slice[]){DAMO_ALL, DAMO_SLICE(DAMO_NONE, 1, 1)});
        sh_run(&s, damo_concatenate(2, (damo_var *const[]){x, x1}, 1));
        sh_begin(&s, "stack_0", st);
        sh_run(&s, damo_stack(2, (damo_var *const[]){sh_var(&s, "a23"), sh_var(&s, "l23")}, 0));
        sh_begin(&s, "stack_1", st);
        sh_run(&s, damo_stack(2, (damo_var *const[]){sh_var(&s, "a23"), sh_var(&s, "l23")}, 1));
        sh_begin(&s, "stack_2", st);
        sh_run(&s, damo_stack(2, (damo_var *const[]){sh_var(&s, "a23"), sh_var(&s, "l23")}, 2));
        sh_begin(&s, "stack_m1_3", st);
        a = sh_var(&s, "a23");
        sh_run(&s, damo_stack(3, (damo_var *const[]){a, sh_var(&s, "b23"), a}, -1));
        sh_begin(&s, "stack_m3", st);
        a = sh_var(&s, "a23");
        sh_run(&s, damo_stack(2, (damo_var *const[]){a, a}, -3));
        sh_begin(&s, "stack_vec", st);
        damo_var *v = sh_var(&s, "v5");
        sh_run(&s, damo_stack(2, (damo_var *const[]){v, damo_mul(v, damo_float(s.g, 2))}, 0));
    }
    /* errors when building */
    damo_graph *g = damo_graph_new(ctx);
    damo_var *m = damo_dmatrix(g, "m"), *v = damo_dvector(g, "v");
    damo_var *k23 = damo_tensor(g, DAMO_FLOAT64, 2, (int64_t[]){2, 3}, "k23");
    damo_var *k24 = damo_tensor(g, DAMO_FLOAT64, 2, (int64_t[]){2, 4}, "k24");
    struct {
        const char *what;
        damo_var *got;
        damo_status want;
    } bad[] = {
        {"concatenate of different ranks", damo_concatenate(2, (damo_var *const[]){m, v}, 0), DAMO_OK},
        {"concatenate axis 2 of matrices", damo_concatenate(2, (damo_var *const[]){m, m}, 2), DAMO_OK},
        {"concatenate axis -3 of matrices", damo_concatenate(2, (damo_var *const[]){m, m}, -3), DAMO_OK},
        {"concatenate (2,3) and (2,4) on axis 0", damo_concatenate(2, (damo_var *const[]){k23, k24}, 0),
         DAMO_ERR_SHAPE},
        {"stack (2,3) and (2,4)", damo_stack(2, (damo_var *const[]){k23, k24}, 0), DAMO_ERR_SHAPE},
        {"stack axis 3 of matrices", damo_stack(2, (damo_var *const[]){m, m}, 3), DAMO_OK},
        {"stack of different ranks", damo_stack(2, (damo_var *const[]){m, v}, 0), DAMO_OK},
        {"concatenate of nothing", damo_concatenate(0, NULL, 0), DAMO_OK},
        {"concatenate of 0-d",
         damo_concatenate(2, (damo_var *const[]){damo_dscalar(g, "s"), damo_dscalar(g, "t")}, 0), DAMO_OK},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_MSG(!bad[i].got, "%s: built, expected an error", bad[i].what);
        if (i != 7)
            CHECK_MSG(damo_graph_errcode(g) != DAMO_OK && damo_graph_errmsg(g)[0], "%s: no message",
                      bad[i].what);
        if (bad[i].want != DAMO_OK)
            CHECK_MSG(damo_graph_errcode(g) == bad[i].want, "%s: %s, expected %s", bad[i].what,
                      damo_status_name(damo_graph_errcode(g)), damo_status_name(bad[i].want));
    }
    /* sizes that do not fit at run time: an error, then usable */
    damo_var *m2 = damo_dmatrix(g, "m2");
    damo_var *cc = damo_concatenate(2, (damo_var *const[]){m, m2}, 0);
    damo_var *ss = damo_stack(2, (damo_var *const[]){m, m2}, 1);
    damo_var *ins[] = {m, m2};
    double d[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    damo_array *a22 = damo_array_from_data(ctx, DAMO_FLOAT64, 2, (int64_t[]){2, 2}, d);
    damo_array *a23 = damo_array_from_data(ctx, DAMO_FLOAT64, 2, (int64_t[]){2, 3}, d);
    damo_array *b22 = damo_array_from_data(ctx, DAMO_FLOAT64, 2, (int64_t[]){2, 2}, d + 4);
    for (int which = 0; which < 2; which++) {
        for (int p = 0; p < 2; p++) {
            damo_var *out = which ? ss : cc;
            damo_function *f = damo_function_simple(g, 2, ins, 1, &out, both_paths[p]);
            CHECK_MSG(f, "%s", damo_graph_errmsg(g));
            damo_array *r = (damo_array *)&r;
            damo_arg badargs[] = {DAMO_ARG(a22), DAMO_ARG(a23)}, goodargs[] = {DAMO_ARG(a22), DAMO_ARG(b22)};
            CHECK_MSG(f && damo_call(f, badargs, 2, &r, 1) != DAMO_OK && r == NULL,
                      "%s of (2, 2) and (2, 3) at run time succeeded", which ? "stack" : "concatenate");
            r = NULL;
            CHECK(f && damo_call(f, goodargs, 2, &r, 1) == DAMO_OK);
            double got[8] = {0};
            /* np.concatenate -> 1..8; np.stack(axis=1) -> [1,2,5,6,3,4,7,8] */
            const double cw[] = {1, 2, 3, 4, 5, 6, 7, 8}, sw[] = {1, 2, 5, 6, 3, 4, 7, 8};
            CHECK(r && damo_array_size(r) == 8 && damo_array_read(r, got) == DAMO_OK &&
                  !memcmp(got, which ? sw : cw, sizeof got));
            damo_array_release(r);
            damo_function_free(f);
        }
    }
    damo_array_release(a22);
    damo_array_release(a23);
    damo_array_release(b22);
    damo_graph_free(g);
}

/* View steps: one VIEW step for a transpose, dimshuffle, contiguous
 * reshape, flatten or alloc of an input; their results keep their values
 * after the input is released and when the function runs again. */
static void test_views(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_var *x = damo_dmatrix(g, "x"), *v = damo_dvector(g, "v");
    struct {
        const char *what;
        damo_var *out, *in;
    } vs[] = {
        {"transpose", damo_transpose(x), x},
        {"dimshuffle (1, x, 0)", damo_dimshuffle(x, 3, (const int[]){1, DAMO_NEWAXIS, 0}), x},
        {"reshape (-1,)", damo_reshape(x, 1, (const int64_t[]){-1}), x},
        {"flatten 1", damo_flatten(x, 1), x},
        {"alloc (4, 5) of v", damo_alloc(v, 2, (damo_var *const[]){damo_int(g, 4), damo_int(g, 5)}), v},
    };
    for (size_t i = 0; i < sizeof vs / sizeof vs[0]; i++) {
        damo_function *f = damo_function_simple(g, 1, &vs[i].in, 1, &vs[i].out, DAMO_FN_DEVICE_ONLY);
        CHECK_MSG(f, "%s: %s", vs[i].what, damo_graph_errmsg(g));
        if (!f)
            continue;
        size_t n = damo_function_n_steps(f), n_view = 0;
        for (size_t k = 0; k < n; k++)
            n_view += damo_function_step_kind(f, k) == DAMO_STEP_VIEW;
        CHECK_MSG(n == 1 && n_view == 1 && damo_function_n_kernels(f) == 0,
                  "%s of an input: %zu steps, %zu VIEW, %zu kernels (first: %s)", vs[i].what, n, n_view,
                  damo_function_n_kernels(f), n ? damo_function_step_text(f, 0) : "none");
        damo_function_free(f);
    }
    /* transpose results stay as they were: call with x1, keep r1, call with
     * x2, release x1 and x2, then read both */
    damo_var *t = damo_transpose(x);
    for (int p = 0; p < 2; p++) {
        damo_function *f = damo_function_simple(g, 1, &x, 1, &t, both_paths[p]);
        double d1[6] = {1, 2, 3, 4, 5, 6}, d2[6] = {-1, -2, -3, -4, -5, -6};
        damo_array *x1 = damo_array_from_data(ctx, DAMO_FLOAT64, 2, (int64_t[]){2, 3}, d1);
        damo_array *x2 = damo_array_from_data(ctx, DAMO_FLOAT64, 2, (int64_t[]){2, 3}, d2);
        damo_array *r1 = NULL, *r2 = NULL;
        damo_arg a1 = DAMO_ARG(x1), a2 = DAMO_ARG(x2);
        CHECK(f && damo_call(f, &a1, 1, &r1, 1) == DAMO_OK);
        CHECK(f && damo_call(f, &a2, 1, &r2, 1) == DAMO_OK);
        damo_array_release(x1);
        damo_array_release(x2);
        double g1[6] = {0}, g2[6] = {0};
        /* np.array([[1, 2, 3], [4, 5, 6]]).T.ravel() -> [1, 4, 2, 5, 3, 6] */
        const double w1[] = {1, 4, 2, 5, 3, 6}, w2[] = {-1, -4, -2, -5, -3, -6};
        CHECK(r1 && damo_array_read(r1, g1) == DAMO_OK && !memcmp(g1, w1, sizeof g1));
        CHECK(r2 && damo_array_read(r2, g2) == DAMO_OK && !memcmp(g2, w2, sizeof g2));
        CHECK(r1 && damo_array_ndim(r1) == 2 && damo_array_shape(r1)[0] == 3);
        damo_array_release(r1);
        damo_array_release(r2);
        damo_function_free(f);
    }
    damo_graph_free(g);
}

int main(void)
{
    if (!open_ctx())
        return 1;
    (void)selected; /* the cases here are picked by name */
    if (load_cases("tensor_shape.txt", &shape_file)) {
        test_dimshuffle_transpose();
        test_reshape_flatten();
        test_shape_values();
        test_alloc_family();
        test_arange_eye();
        test_concatenate_stack();
        test_views();
        printf("named cases run: %d\n", cases_run);
        free_cases(&shape_file);
    }
    damo_ctx_stats stats;
    damo_ctx_get_stats(ctx, &stats);
    printf("programs: %llu built, %llu from the disk cache, %llu found in memory\n",
           (unsigned long long)stats.builds, (unsigned long long)stats.disk_hits,
           (unsigned long long)stats.memory_hits);
    damo_ctx_free(ctx);
    return check_done();
}
