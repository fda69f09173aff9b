/* Reductions: damo_sum, prod, mean, max, min, argmax, argmin, all, any,
 * variance and std.
 *
 * Part 1 runs tests/data/tensor_reduce.txt, written by
 * tests/data/make_tensor_cases.py with NumPy 2.4 (see its docstring):
 * every op x dtype family (bool, int8/int32/int64, uint8/uint64, float32,
 * float64) with the axis forms rotating (every axis, one, several,
 * negative, listed in full, keepdims), empty and size-1 inputs (0-d
 * included), strided and broadcast (0-stride) views made with
 * damo_array_strided_view, NaN and inf propagation, wrapping integer
 * extremes, and big generated inputs (up to 10^6 elements) along every
 * axis. Each case is compiled twice (flags 0 and DAMO_FN_DEVICE_ONLY) and
 * called twice each way; the result's dtype and shape must be NumPy's
 * (which the script checked against the header's rules), integers exactly,
 * floats within the tolerance the file gives (see reduce_tol() in the
 * script). Where NumPy raises (max/min/argmax/argmin of an empty group) the
 * call must fail with a message, and the same function must then give the
 * right answer on a valid input.
 *
 * Part 2 (file kind `bigsum`): float sums of 2^20..2^24 values generated
 * here (splitmix64, the same as the script's) must be at least as close to
 * math.fsum's sum as numpy.sum is, or within one unit in the last place.
 *
 * Part 3, written here: build-time axis errors, dtype inference, kernel
 * counts ((w ** 2).sum() is one REDUCE step), elementwise work fused into
 * a reduction with broadcasting, reductions feeding elementwise work and
 * other reductions (values pasted from NumPy with the expression). */
#include <damo.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tcase.h"

/* ---------------------------------------------------------------------- */
/* Part 1: the file's reductions                                           */
/* ---------------------------------------------------------------------- */

typedef damo_var *(*red_fn)(damo_var *, const int *, int, int);
typedef damo_var *(*arg_fn)(damo_var *, int, int);

static const struct {
    const char *name;
    red_fn f;
    arg_fn arg;
} red_ops[] = {
    {"sum", damo_sum, NULL},       {"prod", damo_prod, NULL},         {"mean", damo_mean, NULL},
    {"max", damo_max, NULL},       {"min", damo_min, NULL},           {"all", damo_all, NULL},
    {"any", damo_any, NULL},       {"variance", damo_variance, NULL}, {"std", damo_std, NULL},
    {"argmax", NULL, damo_argmax}, {"argmin", NULL, damo_argmin},
};
#define N_RED_OPS (int)(sizeof red_ops / sizeof red_ops[0])

static int find_red(const char *name)
{
    for (int i = 0; i < N_RED_OPS; i++)
        if (!strcmp(red_ops[i].name, name))
            return i;
    return -1;
}

typedef struct red_stats {
    int cases, calls, errors_expected, failed_cases;
    int per_op[N_RED_OPS];
} red_stats;
static red_stats rs;

/* Builds op(x) for case c; x's static shape is known with "static 1". */
static damo_var *build_reduction(damo_graph *g, const tcase *c, int op, const parray *shown, damo_var **x_out)
{
    int is_static = case_get(c, "static") != NULL;
    damo_var *x = damo_tensor(g, shown->t, shown->ndim, is_static ? shown->shape : NULL, "x");
    *x_out = x;
    double kd = 0;
    case_doubles(c, "keepdims", &kd, 1);
    if (red_ops[op].arg) {
        const char *a = case_get(c, "axis");
        int axis = !a || !strcmp(a, "none") ? DAMO_AXIS_NONE : atoi(a);
        return red_ops[op].arg(x, axis, (int)kd);
    }
    const char *ax = case_get(c, "axes");
    int axes[DAMO_MAX_DIMS], n = 0;
    if (ax && strcmp(ax, "all")) {
        double v[DAMO_MAX_DIMS];
        n = case_doubles(c, "axes", v, DAMO_MAX_DIMS);
        for (int i = 0; i < n; i++)
            axes[i] = (int)v[i];
    }
    return red_ops[op].f(x, n ? axes : NULL, n, (int)kd);
}

/* An input of x's rank where every size is 2 (or 1 for a 0-d x): a valid
 * call after an expected error; the op's value over ones is known. */
static damo_array *ones_like_rank(damo_dtype t, int ndim)
{
    int64_t shape[DAMO_MAX_DIMS];
    int64_t n = 1;
    for (int d = 0; d < ndim; d++)
        n *= shape[d] = 2;
    void *data = calloc((size_t)n, damo_dtype_size(t));
    for (int64_t i = 0; i < n; i++)
        store_int(t, data, i, 1, 1);
    damo_array *a = damo_array_from_data(ctx, t, ndim, shape, data);
    free(data);
    return a;
}

static void run_reduce_case(const tcase *c)
{
    int op = find_red(c->kind);
    if (op < 0) {
        CHECK_MSG(0, "case %s: unknown kind %s", c->id, c->kind);
        return;
    }
    rs.cases++;
    rs.per_op[op]++;
    int failed_before = check_failed_;
    parray base, shown, want;
    damo_array *in = case_input(c, "x", &base, &shown);
    int expect_error = case_get(c, "error") != NULL;
    int have_want = !expect_error && case_array(c, "out", &want);
    double *tol = NULL;
    if (have_want && is_float(want.t) && case_get(c, "tol")) {
        tol = calloc((size_t)want.n + 1, sizeof *tol);
        int nt = case_doubles(c, "tol", tol, (int)want.n);
        CHECK_MSG(nt == want.n, "case %s: %d tolerances for %lld values", c->id, nt, (long long)want.n);
    }
    damo_graph *g = damo_graph_new(ctx);
    damo_var *x = NULL;
    damo_var *y = in ? build_reduction(g, c, op, &shown, &x) : NULL;
    CHECK_MSG(y, "case %s %s: build: %s", c->id, c->kind, damo_graph_errmsg(g));
    if (y && have_want) {
        CHECK_MSG(damo_var_dtype(y) == want.t && damo_var_ndim(y) == want.ndim,
                  "case %s %s: variable %s %d-d, NumPy %s %d-d", c->id, c->kind,
                  damo_dtype_name(damo_var_dtype(y)), damo_var_ndim(y), damo_dtype_name(want.t), want.ndim);
        if (case_get(c, "static"))
            for (int d = 0; d < want.ndim && d < damo_var_ndim(y); d++)
                CHECK_MSG(damo_var_dim(y, d) == want.shape[d], "case %s: static size %d: %lld, expected %lld",
                          c->id, d, (long long)damo_var_dim(y, d), (long long)want.shape[d]);
    }
    for (int p = 0; y && p < 2; p++) {
        damo_function *f = damo_function_simple(g, 1, &x, 1, &y, both_paths[p]);
        CHECK_MSG(f, "case %s %s (%s): compile: %s", c->id, c->kind, path_name(both_paths[p]),
                  damo_graph_errmsg(g));
        for (int call = 0; f && call < 2; call++) {
            damo_array *out = NULL;
            damo_arg arg = DAMO_ARG(in);
            damo_status st = damo_call(f, &arg, 1, &out, 1);
            rs.calls++;
            char what[160];
            snprintf(what, sizeof what, "case %s %s (%s, call %d)", c->id, c->kind, path_name(both_paths[p]),
                     call + 1);
            if (expect_error) {
                rs.errors_expected++;
                CHECK_MSG(st != DAMO_OK && !out && damo_function_errmsg(f)[0],
                          "%s: over no elements, expected an error (NumPy raises), got %s", what,
                          damo_status_name(st));
                /* the function stays usable: ones of the same rank */
                damo_array *ones = ones_like_rank(shown.t, shown.ndim);
                damo_arg a1 = DAMO_ARG(ones);
                damo_array *o1 = NULL;
                st = damo_call(f, &a1, 1, &o1, 1);
                CHECK_MSG(st == DAMO_OK, "%s: call after the error: %s", what, damo_function_errmsg(f));
                if (st == DAMO_OK) {
                    double v = -1;
                    CHECK(damo_array_get_f64(o1, 0, &v) == DAMO_OK);
                    int arg = red_ops[op].arg != NULL;
                    CHECK_MSG(v == (arg ? 0 : 1), "%s: after the error, %s of ones gives %g", what, c->kind,
                              v);
                }
                damo_array_release(o1);
                damo_array_release(ones);
            } else {
                CHECK_MSG(st == DAMO_OK, "%s: %s", what, damo_function_errmsg(f));
                if (st == DAMO_OK && have_want)
                    expect_array(out, &want, tol, what);
            }
            damo_array_release(out);
        }
        damo_function_free(f);
    }
    report_case(c, failed_before, &rs.failed_cases, 30);
    damo_graph_free(g);
    damo_array_release(in);
    free_input(&base, &shown);
    if (have_want)
        free(want.data);
    free(tol);
}

/* ---------------------------------------------------------------------- */
/* Part 2: sums of 2^20..2^24 values against math.fsum                     */
/* ---------------------------------------------------------------------- */

static double ulp_of(double v, damo_dtype t)
{
    if (t == DAMO_FLOAT32) {
        float f = fabsf((float)v);
        return (double)nextafterf(f, INFINITY) - (double)f;
    }
    double a = fabs(v);
    return nextafter(a, INFINITY) - a;
}

static void run_bigsum_case(const tcase *c)
{
    parray base, shown;
    damo_array *in = case_input(c, "x", &base, &shown);
    double fs[8], np_[8];
    int nf = case_doubles(c, "fsum", fs, 8), nn = case_doubles(c, "numpy", np_, 8);
    const char *ax = case_get(c, "axes");
    int axis = ax ? atoi(ax) : 0;
    CHECK_MSG(in && nf > 0 && nf == nn, "case %s: bad bigsum case", c->id);
    if (!in || nf <= 0 || nf != nn) {
        damo_array_release(in);
        free_input(&base, &shown);
        return;
    }
    damo_graph *g = damo_graph_new(ctx);
    damo_var *x = damo_tensor(g, shown.t, shown.ndim, NULL, "x");
    damo_var *y = damo_sum(x, ax ? &axis : NULL, ax ? 1 : 0, 0);
    CHECK_MSG(y, "bigsum %s: %s", c->id, damo_graph_errmsg(g));
    for (int p = 0; y && p < 2; p++) {
        damo_function *f = damo_function_simple(g, 1, &x, 1, &y, both_paths[p]);
        CHECK_MSG(f, "bigsum %s: compile: %s", c->id, damo_graph_errmsg(g));
        damo_array *out = NULL;
        damo_arg arg = DAMO_ARG(in);
        damo_status st = f ? damo_call(f, &arg, 1, &out, 1) : DAMO_ERR_INVALID;
        CHECK_MSG(st == DAMO_OK, "bigsum %s (%s): %s", c->id, path_name(both_paths[p]),
                  damo_function_errmsg(f));
        CHECK(st != DAMO_OK || (damo_array_dtype(out) == shown.t && damo_array_size(out) == nf));
        for (int i = 0; st == DAMO_OK && i < nf && i < damo_array_size(out); i++) {
            double got = NAN;
            damo_array_get_f64(out, i, &got);
            double err = fabs(got - fs[i]), nerr = fabs(np_[i] - fs[i]), u = ulp_of(fs[i], shown.t);
            double bound = nerr > u ? nerr : u;
            CHECK_MSG(err <= bound,
                      "bigsum %s (%s) %s n=%lld [%d]: got %.17g, fsum %.17g: error %.3g ulp, "
                      "numpy.sum's %.3g ulp (the bound is the larger of that and 1 ulp)",
                      c->id, path_name(both_paths[p]), damo_dtype_name(shown.t), (long long)shown.n, i, got,
                      fs[i], err / u, nerr / u);
            if (p == 0)
                printf("  bigsum %s %s n=%lld%s: error %.2f ulp (numpy.sum %.2f ulp)\n", c->id,
                       damo_dtype_name(shown.t), (long long)shown.n, ax ? " axis 0" : "", err / u, nerr / u);
        }
        damo_array_release(out);
        damo_function_free(f);
    }
    damo_graph_free(g);
    damo_array_release(in);
    free_input(&base, &shown);
}

static void part1_and_2(void)
{
    tfile tf;
    if (!load_cases("tensor_reduce.txt", &tf))
        return;
    int bigsums = 0;
    for (int i = 0; i < tf.n_cases; i++) {
        if (!selected(&tf.cases[i]))
            continue;
        if (!strcmp(tf.cases[i].kind, "bigsum")) {
            run_bigsum_case(&tf.cases[i]);
            bigsums++;
        } else {
            run_reduce_case(&tf.cases[i]);
        }
    }
    if (!getenv("DAMO_TEST_CASE"))
        CHECK_MSG(rs.cases >= 400 && bigsums >= 6, "only %d cases, %d bigsums", rs.cases, bigsums);
    printf("file cases: %d (%d with a failure), %d calls, %d expected run-time errors; per op:", rs.cases,
           rs.failed_cases, rs.calls, rs.errors_expected);
    for (int i = 0; i < N_RED_OPS; i++)
        printf(" %s %d", red_ops[i].name, rs.per_op[i]);
    printf("\n");
    for (int i = 0; i < N_RED_OPS && !getenv("DAMO_TEST_CASE"); i++)
        CHECK_MSG(rs.per_op[i] >= 30, "%s: only %d cases", red_ops[i].name, rs.per_op[i]);
    free_cases(&tf);
}

/* ---------------------------------------------------------------------- */
/* Part 3: written here                                                    */
/* ---------------------------------------------------------------------- */

static damo_array *arr(damo_dtype t, int nd, const int64_t *shape, const void *data)
{
    damo_array *a = damo_array_from_data(ctx, t, nd, shape, data);
    CHECK_MSG(a, "array: %s", damo_ctx_errmsg(ctx));
    return a;
}

/* Compiles ins -> outs, calls it on vals and checks output o against
 * (t, nd, shape, want as doubles, rtol) on both paths. */
static void run_expect(damo_graph *g, int ni, damo_var **ins, damo_array **vals, damo_var *out, damo_dtype t,
                       int nd, const int64_t *shape, const double *want, double rtol, const char *what)
{
    for (int p = 0; p < 2; p++) {
        damo_function *f = damo_function_simple(g, (size_t)ni, ins, 1, &out, both_paths[p]);
        CHECK_MSG(f, "%s (%s): compile: %s", what, path_name(both_paths[p]), damo_graph_errmsg(g));
        if (!f)
            continue;
        damo_arg args[4];
        for (int i = 0; i < ni; i++)
            args[i] = DAMO_ARG(vals[i]);
        damo_array *r = NULL;
        damo_status st = damo_call(f, args, (size_t)ni, &r, 1);
        CHECK_MSG(st == DAMO_OK, "%s (%s): %s", what, path_name(both_paths[p]), damo_function_errmsg(f));
        if (st == DAMO_OK) {
            int ok = damo_array_dtype(r) == t && damo_array_ndim(r) == nd;
            for (int d = 0; ok && d < nd; d++)
                ok = damo_array_shape(r)[d] == shape[d];
            CHECK_MSG(ok, "%s (%s): dtype %s ndim %d", what, path_name(both_paths[p]),
                      damo_dtype_name(damo_array_dtype(r)), damo_array_ndim(r));
            for (int64_t i = 0; ok && i < damo_array_size(r); i++) {
                double v = NAN;
                damo_array_get_f64(r, i, &v);
                CHECK_MSG(check_close_(v, want[i], rtol, 0), "%s (%s) [%lld]: %.17g, NumPy %.17g", what,
                          path_name(both_paths[p]), (long long)i, v, want[i]);
            }
        }
        damo_array_release(r);
        damo_function_free(f);
    }
}

/* A bad or repeated axis is an error when building, with a message on the
 * graph; the graph stays usable. */
static void test_axis_errors(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_var *m = damo_dmatrix(g, "m");
    const int bad2[] = {2}, badm3[] = {-3}, rep[] = {0, 0}, rep_neg[] = {1, -1}, ok01[] = {0, 1};
    struct {
        const char *what;
        damo_var *v;
    } cases[] = {
        {"sum axis 2 of a matrix", damo_sum(m, bad2, 1, 0)},
        {"max axis -3 of a matrix", damo_max(m, badm3, 1, 0)},
        {"mean axes (0, 0)", damo_mean(m, rep, 2, 0)},
        {"prod axes (1, -1)", damo_prod(m, rep_neg, 2, 1)},
        {"all axes (0, 1, 0)", damo_all(m, (const int[]){0, 1, 0}, 3, 0)},
        {"variance axis 5", damo_variance(m, (const int[]){5}, 1, 0)},
        {"argmax axis 2", damo_argmax(m, 2, 0)},
        {"argmin axis -3", damo_argmin(m, -3, 1)},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK_MSG(!cases[i].v, "%s: built, expected an error", cases[i].what);
        CHECK_MSG(damo_graph_errcode(g) != DAMO_OK && damo_graph_errmsg(g)[0], "%s: no error on the graph",
                  cases[i].what);
    }
    CHECK(damo_sum(NULL, NULL, 0, 0) == NULL);
    CHECK(damo_argmax(NULL, 0, 0) == NULL);
    /* 0-d: only "every axis" */
    damo_var *s = damo_dscalar(g, "s");
    CHECK(damo_sum(s, (const int[]){0}, 1, 0) == NULL);
    CHECK(damo_argmax(s, 0, 0) == NULL);
    /* still usable: axes (0, 1) and axes NULL give the same */
    damo_var *a = damo_sum(m, ok01, 2, 0), *b = damo_sum(m, NULL, 0, 0);
    damo_var *c = damo_sum(m, ok01, 0, 0); /* non-NULL axes, n_axes 0: every axis */
    CHECK(a && b && c && damo_var_ndim(a) == 0 && damo_var_ndim(c) == 0);
    damo_var *outs[] = {a, b, c};
    damo_function *f = damo_function_simple(g, 1, &m, 3, outs, 0);
    CHECK_MSG(f, "%s", damo_graph_errmsg(g));
    const double mv[] = {1, 2, 3, 4, 5, 6.5};
    damo_array *in = arr(DAMO_FLOAT64, 2, (int64_t[]){2, 3}, mv), *r[3] = {NULL, NULL, NULL};
    damo_arg arg = DAMO_ARG(in);
    CHECK(f && damo_call(f, &arg, 1, r, 3) == DAMO_OK);
    for (int i = 0; i < 3; i++) {
        double v = 0;
        CHECK(r[i] && damo_array_get_f64(r[i], 0, &v) == DAMO_OK && v == 21.5);
        damo_array_release(r[i]);
    }
    damo_array_release(in);
    damo_function_free(f);
    damo_graph_free(g);
}

/* Static shapes and dtypes of results, without running anything. */
static void test_inference(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_var *x = damo_tensor(g, DAMO_INT8, 3, (int64_t[]){2, DAMO_DIM_UNKNOWN, 5}, "x");
    const int a02[] = {0, -1};
    damo_var *s = damo_sum(x, a02, 2, 0), *sk = damo_sum(x, a02, 2, 1);
    CHECK(damo_var_dtype(s) == DAMO_INT64 && damo_var_ndim(s) == 1 && damo_var_dim(s, 0) == DAMO_DIM_UNKNOWN);
    CHECK(damo_var_ndim(sk) == 3 && damo_var_dim(sk, 0) == 1 && damo_var_dim(sk, 2) == 1 &&
          damo_var_dim(sk, 1) == DAMO_DIM_UNKNOWN);
    damo_var *m = damo_mean(x, (const int[]){1}, 1, 0);
    CHECK(damo_var_dtype(m) == DAMO_FLOAT64 && damo_var_ndim(m) == 2 && damo_var_dim(m, 0) == 2 &&
          damo_var_dim(m, 1) == 5);
    CHECK(damo_var_dtype(damo_max(x, NULL, 0, 0)) == DAMO_INT8);
    CHECK(damo_var_dtype(damo_argmin(x, 1, 0)) == DAMO_INT64);
    CHECK(damo_var_ndim(damo_argmin(x, DAMO_AXIS_NONE, 0)) == 0);
    damo_var *ak = damo_argmax(x, DAMO_AXIS_NONE, 1);
    CHECK(damo_var_ndim(ak) == 3 && damo_var_dim(ak, 0) == 1 && damo_var_dim(ak, 1) == 1);
    CHECK(damo_var_dtype(damo_any(x, NULL, 0, 0)) == DAMO_BOOL);
    damo_var *u = damo_tensor(g, DAMO_UINT16, 1, NULL, "u");
    CHECK(damo_var_dtype(damo_prod(u, NULL, 0, 0)) == DAMO_UINT64);
    damo_var *fl = damo_fvector(g, "f");
    CHECK(damo_var_dtype(damo_sum(fl, NULL, 0, 0)) == DAMO_FLOAT32);
    CHECK(damo_var_dtype(damo_std(fl, NULL, 0, 0)) == DAMO_FLOAT32);
    damo_var *b = damo_tensor(g, DAMO_BOOL, 1, NULL, "b");
    CHECK(damo_var_dtype(damo_sum(b, NULL, 0, 0)) == DAMO_INT64);
    CHECK(damo_var_dtype(damo_variance(b, NULL, 0, 0)) == DAMO_FLOAT64);
    CHECK(damo_var_dtype(damo_max(b, NULL, 0, 0)) == DAMO_BOOL);
    damo_graph_free(g);
}

/* (w ** 2).sum() is exactly one step: a reduction with the square fused in. */
static void test_kernel_counts(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_var *w = damo_dvector(g, "w");
    damo_var *y = damo_sum(damo_pow(w, damo_int(g, 2)), NULL, 0, 0);
    damo_var *y2 = damo_sum(damo_sqr(w), NULL, 0, 0);
    const double wv[] = {1, -2, 3, 0.5, -0.25};
    damo_array *in = arr(DAMO_FLOAT64, 1, (int64_t[]){5}, wv);
    for (int k = 0; k < 2; k++) {
        for (int p = 0; p < 2; p++) {
            damo_function *f = damo_function_simple(g, 1, &w, 1, k ? &y2 : &y, both_paths[p]);
            CHECK_MSG(f, "%s", damo_graph_errmsg(g));
            if (!f)
                continue;
            CHECK_INT(damo_function_n_steps(f), 1);
            CHECK_MSG(damo_function_step_kind(f, 0) == DAMO_STEP_REDUCE, "(w ** 2).sum() step 0: %s",
                      damo_function_step_text(f, 0));
            CHECK_INT(damo_function_n_kernels(f), 1);
            damo_array *r = NULL;
            damo_arg arg = DAMO_ARG(in);
            CHECK(damo_call(f, &arg, 1, &r, 1) == DAMO_OK);
            double v = 0;
            CHECK(r && damo_array_get_f64(r, 0, &v) == DAMO_OK);
            CHECK_CLOSE(v, 14.3125, 0, 0); /* (np.array([1, -2, 3, .5, -.25]) ** 2).sum() */
            damo_array_release(r);
            damo_function_free(f);
        }
    }
    /* sum(x * y) with x (3, 1) and y (4,): the broadcasting product fused
     * into one reduction along axis 1 */
    damo_var *x = damo_tensor(g, DAMO_FLOAT64, 2, (int64_t[]){DAMO_DIM_UNKNOWN, 1}, "x");
    damo_var *v = damo_dvector(g, "v");
    damo_var *z = damo_sum(damo_mul(x, v), (const int[]){1}, 1, 0);
    damo_var *ins[] = {x, v};
    damo_function *f = damo_function_simple(g, 2, ins, 1, &z, DAMO_FN_DEVICE_ONLY);
    CHECK_MSG(f, "%s", damo_graph_errmsg(g));
    CHECK_INT(damo_function_n_steps(f), 1);
    CHECK(damo_function_step_kind(f, 0) == DAMO_STEP_REDUCE);
    damo_function_free(f);
    /* a reduction feeding elementwise work and another reduction:
     * (x - x.mean(axis=1, keepdims=True)) / x.std(axis=1, keepdims=True) and
     * x.max(axis=0).sum() for x = np.arange(12.).reshape(3, 4) ** 2 */
    damo_var *m = damo_dmatrix(g, "m");
    const int ax1[] = {1}, ax0[] = {0};
    damo_var *zs = damo_true_div(damo_sub(m, damo_mean(m, ax1, 1, 1)), damo_std(m, ax1, 1, 1));
    damo_var *mx = damo_sum(damo_max(m, ax0, 1, 0), NULL, 0, 0);
    double mvals[12];
    for (int i = 0; i < 12; i++)
        mvals[i] = (double)(i * i);
    damo_array *ma = arr(DAMO_FLOAT64, 2, (int64_t[]){3, 4}, mvals);
    /* NumPy: z = (x - x.mean(axis=1, keepdims=True)) / x.std(axis=1, keepdims=True) */
    const double zwant[] = {-1.0,
                            -0.7142857142857143,
                            0.14285714285714285,
                            1.5714285714285714,
                            -1.256183392633317,
                            -0.52678658400752,
                            0.36469840431289846,
                            1.4182715723279384,
                            -1.293133629074097,
                            -0.4937419311010188,
                            0.39969584898653904,
                            1.3871797111885766};
    run_expect(g, 1, &m, &ma, zs, DAMO_FLOAT64, 2, (int64_t[]){3, 4}, zwant, 1e-14, "standardize rows");
    const double mxwant[] = {366.0}; /* x.max(axis=0).sum() = 64 + 81 + 100 + 121 */
    run_expect(g, 1, &m, &ma, mx, DAMO_FLOAT64, 0, NULL, mxwant, 0, "max then sum");
    damo_array_release(ma);
    damo_array_release(in);
    damo_graph_free(g);
}

/* Broadcasting inside a reduced expression: (a + b).sum(axis=0) with a of
 * shape (3, 1) and b of shape (4,), and any(a > b) per row. */
static void test_broadcast_expressions(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_var *a = damo_tensor(g, DAMO_INT32, 2, NULL, "a"), *b = damo_ivector(g, "b");
    damo_var *ins[] = {a, b};
    const int32_t av[] = {1, -2, 5}, bv[] = {0, 3, -4, 2};
    damo_array *vals[] = {arr(DAMO_INT32, 2, (int64_t[]){3, 1}, av), arr(DAMO_INT32, 1, (int64_t[]){4}, bv)};
    /* a = np.array([[1], [-2], [5]], np.int32); b = np.array([0, 3, -4, 2], np.int32)
     * (a + b).sum(axis=0) -> array([ 4, 13, -8, 10]) (int64) */
    const double s0[] = {4, 13, -8, 10};
    run_expect(g, 2, ins, vals, damo_sum(damo_add(a, b), (const int[]){0}, 1, 0), DAMO_INT64, 1,
               (int64_t[]){4}, s0, 0, "(a + b).sum(axis=0)");
    /* (a > b).any(axis=1) -> array([ True,  True,  True]); (a > b).all(axis=-1) ->
     * array([False, False,  True]) */
    const double any1[] = {1, 1, 1}, all1[] = {0, 0, 1};
    run_expect(g, 2, ins, vals, damo_any(damo_gt(a, b), (const int[]){1}, 1, 0), DAMO_BOOL, 1, (int64_t[]){3},
               any1, 0, "(a > b).any(axis=1)");
    run_expect(g, 2, ins, vals, damo_all(damo_gt(a, b), (const int[]){-1}, 1, 0), DAMO_BOOL, 1,
               (int64_t[]){3}, all1, 0, "(a > b).all(axis=-1)");
    /* (a * b).argmax(axis=1) -> array([1, 2, 1]); (a * b).argmin() -> 10 */
    const double am[] = {1, 2, 1}, amin[] = {10};
    run_expect(g, 2, ins, vals, damo_argmax(damo_mul(a, b), 1, 0), DAMO_INT64, 1, (int64_t[]){3}, am, 0,
               "(a * b).argmax(axis=1)");
    run_expect(g, 2, ins, vals, damo_argmin(damo_mul(a, b), DAMO_AXIS_NONE, 0), DAMO_INT64, 0, NULL, amin, 0,
               "(a * b).argmin()");
    damo_array_release(vals[0]);
    damo_array_release(vals[1]);
    damo_graph_free(g);
}

/* Infinities in float sums: a compensated sum must not turn inf into NaN
 * (inf - inf in the compensation). NumPy: x = np.ones(n); x[k] = np.inf;
 * x.sum() -> inf, x.mean() -> inf; with x[j] = -np.inf too -> nan; with
 * only -inf (twice) -> -inf. Small and large n (several work-items). */
static void test_inf_sums(void)
{
    const int64_t sizes[] = {5, 100003};
    for (int ti = 0; ti < 2; ti++) {
        damo_dtype t = ti ? DAMO_FLOAT64 : DAMO_FLOAT32;
        damo_graph *g = damo_graph_new(ctx);
        damo_var *x = damo_tensor(g, t, 1, NULL, "x");
        damo_var *outs[] = {damo_sum(x, NULL, 0, 0), damo_mean(x, NULL, 0, 0)};
        for (int p = 0; p < 2; p++) {
            damo_function *f = damo_function_simple(g, 1, &x, 2, outs, both_paths[p]);
            CHECK_MSG(f, "%s", damo_graph_errmsg(g));
            for (int si = 0; f && si < 2; si++) {
                int64_t n = sizes[si];
                for (int kind = 0; kind < 3; kind++) {
                    /* kind 0: one +inf; 1: +inf and -inf; 2: two -inf */
                    double *d = malloc((size_t)n * sizeof *d);
                    float *fl = malloc((size_t)n * sizeof *fl);
                    for (int64_t i = 0; i < n; i++)
                        d[i] = 1;
                    d[n / 3] = kind == 2 ? -INFINITY : INFINITY;
                    if (kind)
                        d[n - 1] = -INFINITY;
                    for (int64_t i = 0; i < n; i++)
                        fl[i] = (float)d[i];
                    damo_array *a = damo_array_from_data(ctx, t, 1, &n, ti ? (void *)d : (void *)fl);
                    damo_array *r[2] = {NULL, NULL};
                    damo_arg arg = DAMO_ARG(a);
                    damo_status st = damo_call(f, &arg, 1, r, 2);
                    CHECK_MSG(st == DAMO_OK, "%s", damo_function_errmsg(f));
                    double want = kind == 0 ? INFINITY : kind == 1 ? NAN : -INFINITY;
                    for (int o = 0; st == DAMO_OK && o < 2; o++) {
                        double v = 0;
                        damo_array_get_f64(r[o], 0, &v);
                        CHECK_MSG(check_close_(v, want, 0, 0), "%s of %lld %s with %s (%s): %g, NumPy %g",
                                  o ? "mean" : "sum", (long long)n, damo_dtype_name(t),
                                  kind == 0   ? "one inf"
                                  : kind == 1 ? "inf and -inf"
                                              : "two -inf",
                                  path_name(both_paths[p]), v, want);
                    }
                    damo_array_release(r[0]);
                    damo_array_release(r[1]);
                    damo_array_release(a);
                    free(d);
                    free(fl);
                }
            }
            damo_function_free(f);
        }
        damo_graph_free(g);
    }
}

/* Several reductions of one input in one function, and the same function
 * called on inputs of other shapes. */
static void test_many_outputs(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_var *x = damo_fmatrix(g, "x");
    const int ax0[] = {0};
    damo_var *outs[] = {damo_sum(x, ax0, 1, 0), damo_max(x, NULL, 0, 0), damo_mean(x, NULL, 0, 1),
                        damo_argmin(x, 1, 0)};
    for (int p = 0; p < 2; p++) {
        damo_function *f = damo_function_simple(g, 1, &x, 4, outs, both_paths[p]);
        CHECK_MSG(f, "%s", damo_graph_errmsg(g));
        for (int n = 1; f && n <= 64; n *= 4) {
            /* x[i, j] = (i * 7 + j * 3) % 11 - 5, n rows, 5 columns */
            float *xv = malloc((size_t)n * 5 * sizeof *xv);
            double colsum[5] = {0}, total = 0, mx = -1e9;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < 5; j++) {
                    float v = (float)((i * 7 + j * 3) % 11 - 5);
                    xv[i * 5 + j] = v;
                    colsum[j] += v;
                    total += v;
                    mx = v > mx ? v : mx;
                }
            damo_array *in = arr(DAMO_FLOAT32, 2, (int64_t[]){n, 5}, xv), *r[4] = {NULL, NULL, NULL, NULL};
            damo_arg arg = DAMO_ARG(in);
            damo_status st = damo_call(f, &arg, 1, r, 4);
            CHECK_MSG(st == DAMO_OK, "n=%d: %s", n, damo_function_errmsg(f));
            if (st == DAMO_OK) {
                CHECK(damo_array_dtype(r[0]) == DAMO_FLOAT32 && damo_array_size(r[0]) == 5);
                for (int j = 0; j < 5; j++) {
                    double v;
                    damo_array_get_f64(r[0], j, &v);
                    CHECK_MSG(v == colsum[j], "n=%d column %d: %g, expected %g", n, j, v, colsum[j]);
                }
                double v;
                damo_array_get_f64(r[1], 0, &v);
                CHECK(v == mx);
                CHECK(damo_array_ndim(r[2]) == 2 && damo_array_shape(r[2])[0] == 1);
                damo_array_get_f64(r[2], 0, &v);
                CHECK_CLOSE(v, total / (5.0 * n), 1e-6, 0);
                CHECK(damo_array_dtype(r[3]) == DAMO_INT64 && damo_array_size(r[3]) == n);
                for (int i = 0; i < n; i++) {
                    int64_t k = -1, best = 0;
                    for (int j = 1; j < 5; j++)
                        if (xv[i * 5 + j] < xv[i * 5 + best])
                            best = j;
                    damo_array_get_i64(r[3], i, &k);
                    CHECK_MSG(k == best, "n=%d row %d: argmin %lld, expected %lld", n, i, (long long)k,
                              (long long)best);
                }
            }
            for (int i = 0; i < 4; i++)
                damo_array_release(r[i]);
            damo_array_release(in);
            free(xv);
        }
        damo_function_free(f);
    }
    damo_graph_free(g);
}

int main(void)
{
    if (!open_ctx())
        return 1;
    test_axis_errors();
    test_inference();
    test_kernel_counts();
    test_broadcast_expressions();
    test_many_outputs();
    test_inf_sums();
    part1_and_2();
    damo_ctx_stats stats;
    damo_ctx_get_stats(ctx, &stats);
    printf("programs: %llu built, %llu from the disk cache, %llu found in memory\n",
           (unsigned long long)stats.builds, (unsigned long long)stats.disk_hits,
           (unsigned long long)stats.memory_hits);
    damo_ctx_free(ctx);
    return check_done();
}
