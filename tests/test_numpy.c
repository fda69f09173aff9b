/* "The same numbers as NumPy".
 *
 * Part 1: one regression test per item of the issue (item1_... to
 * item9_...). Expected values are NumPy 2.4.6's, pasted with the
 * expression that gave them, or closed forms. Each runs on the host path
 * (flags 0) and the device path (DAMO_FN_DEVICE_ONLY), most of them over
 * several calls that must give the same bits.
 *
 * Part 2: a differential test. tests/data/make_numpy_cases.py wrote
 * tests/data/numpy_cases.txt: random elementwise graphs with their inputs
 * and NumPy's outputs (the format and what the file covers are described
 * at its top; the script's docstring lists where damo's documented rules
 * replace NumPy's). Each graph is built through the public API, compiled
 * with flags 0 (small exact steps run on the host) and DAMO_FN_DEVICE_ONLY
 * (one graph in NO_FUSION_EVERY also with DAMO_FN_NO_FUSION |
 * DAMO_FN_DEVICE_ONLY), and called twice each way. Integers and bools
 * compare exactly; floats bit for bit (NaN == NaN) for the exact ops and
 * within op_table's ulp bounds for the transcendental ones; dtypes and
 * shapes exactly. Where NumPy raises, the builder must fail with the
 * matching status. Float32 division and sqrt count as exact: damo asks
 * for correctly rounded ones where the device has them (PoCL does).
 *
 * No Python is needed here: the data file is committed beside its script.
 * DAMO_NUMPY_CASES=path runs another file the script wrote; DAMO_NUMPY_JOBS
 * sets the number of worker processes (see run_workers). */
#include <damo.h>
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "tcase.h"


/* ---------------------------------------------------------------------- */
/* Helpers                                                                 */
/* ---------------------------------------------------------------------- */

static damo_array *vec(damo_dtype t, int64_t n, const void *data)
{
    damo_array *a = damo_array_from_data(ctx, t, 1, &n, data);
    CHECK_MSG(a, "array: %s", damo_ctx_errmsg(ctx));
    return a;
}

/* Compiles ins -> outs with `flags` and calls it `calls` times on `vals`.
 * Every call must give the same bits as the first (the old bugs gave
 * uninitialised memory that changed from call to call). The outputs of the
 * first call are left in res (caller releases). Returns 0 on failure. */
static int run(damo_graph *g, size_t ni, damo_var **ins, damo_array **vals, size_t no,
               damo_var **outs, unsigned flags, int calls, damo_array **res)
{
    for (size_t o = 0; o < no; o++)
        res[o] = NULL;
    damo_function *f = damo_function_simple(g, ni, ins, no, outs, flags);
    CHECK_MSG(f, "compile (%s): %s", path_name(flags), damo_graph_errmsg(g));
    if (!f)
        return 0;
    damo_arg args[8];
    for (size_t i = 0; i < ni; i++)
        args[i] = DAMO_ARG(vals[i]);
    int ok = 1;
    for (int c = 0; c < calls && ok; c++) {
        damo_array *r[16] = {NULL};
        damo_status st = damo_call(f, args, ni, c ? r : res, no);
        CHECK_MSG(st == DAMO_OK, "call %d (%s): %s", c, path_name(flags), damo_function_errmsg(f));
        ok = st == DAMO_OK;
        for (size_t o = 0; ok && c && o < no; o++) {
            size_t bytes = (size_t)damo_array_size(res[o]) * damo_dtype_size(damo_array_dtype(res[o]));
            unsigned char *a = malloc(bytes + 1), *b = malloc(bytes + 1);
            int same = damo_array_read(res[o], a) == DAMO_OK && damo_array_read(r[o], b) == DAMO_OK &&
                       damo_array_size(r[o]) == damo_array_size(res[o]) && !memcmp(a, b, bytes);
            CHECK_MSG(same, "output %zu of call %d differs from call 0 (%s)", o, c, path_name(flags));
            free(a);
            free(b);
        }
        for (size_t o = 0; c && o < no; o++)
            damo_array_release(r[o]);
    }
    damo_function_free(f);
    return ok;
}

static void release_all(damo_array **a, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        damo_array_release(a[i]);
        a[i] = NULL;
    }
}

/* Exact integer (or bool) values and dtype of a 1-d result. */
static void expect_ints(damo_array *a, damo_dtype t, int64_t n, const int64_t *want,
                        const char *what, unsigned flags)
{
    CHECK_MSG(a && damo_array_dtype(a) == t, "%s (%s): dtype %s, expected %s", what,
              path_name(flags), damo_dtype_name(damo_array_dtype(a)), damo_dtype_name(t));
    CHECK_MSG(a && damo_array_size(a) == n, "%s (%s): size %lld, expected %lld", what,
              path_name(flags), (long long)damo_array_size(a), (long long)n);
    for (int64_t i = 0; a && i < n && i < damo_array_size(a); i++) {
        int64_t got = 0;
        CHECK(damo_array_get_i64(a, i, &got) == DAMO_OK);
        CHECK_MSG(got == want[i], "%s (%s) [%lld]: %lld, NumPy %lld", what, path_name(flags),
                  (long long)i, (long long)got, (long long)want[i]);
    }
}

/* Distance in units in the last place of dtype t between two finite or
 * infinite values of t (NaNs handled by the caller). */
static uint64_t ulp_dist(double a, double b, damo_dtype t)
{
    if (t == DAMO_FLOAT32) {
        float fa = (float)a, fb = (float)b;
        int32_t ia, ib;
        memcpy(&ia, &fa, 4);
        memcpy(&ib, &fb, 4);
        int64_t ka = ia < 0 ? (int64_t)INT32_MIN - ia : ia, kb = ib < 0 ? (int64_t)INT32_MIN - ib : ib;
        return (uint64_t)(ka > kb ? ka - kb : kb - ka);
    }
    int64_t ia, ib;
    memcpy(&ia, &a, 8);
    memcpy(&ib, &b, 8);
    /* order the bit patterns: negative values below positive ones, -0 == +0 */
    uint64_t ka = ia < 0 ? (uint64_t)0x8000000000000000ull - (uint64_t)(ia & INT64_MAX)
                         : (uint64_t)0x8000000000000000ull + (uint64_t)ia;
    uint64_t kb = ib < 0 ? (uint64_t)0x8000000000000000ull - (uint64_t)(ib & INT64_MAX)
                         : (uint64_t)0x8000000000000000ull + (uint64_t)ib;
    return ka > kb ? ka - kb : kb - ka;
}

/* got within `ulps` of want (NaN == NaN); ulps 0 means the same value. */
static int float_near(double got, double want, damo_dtype t, uint64_t ulps)
{
    if (isnan(want) || isnan(got))
        return isnan(want) && isnan(got);
    if (isinf(want) || isinf(got))
        return got == want;
    return ulp_dist(got, want, t) <= ulps;
}

static void expect_floats(damo_array *a, damo_dtype t, int64_t n, const double *want, int ulps,
                          const char *what, unsigned flags)
{
    CHECK_MSG(a && damo_array_dtype(a) == t, "%s (%s): dtype %s, expected %s", what,
              path_name(flags), damo_dtype_name(damo_array_dtype(a)), damo_dtype_name(t));
    CHECK_MSG(a && damo_array_size(a) == n, "%s (%s): size %lld, expected %lld", what,
              path_name(flags), (long long)damo_array_size(a), (long long)n);
    for (int64_t i = 0; a && i < n && i < damo_array_size(a); i++) {
        double got = 0;
        CHECK(damo_array_get_f64(a, i, &got) == DAMO_OK);
        CHECK_MSG(float_near(got, want[i], t, (uint64_t)ulps), "%s (%s) [%lld]: %.17g, NumPy %.17g",
                  what, path_name(flags), (long long)i, got, want[i]);
    }
}

/* A builder that must fail: NULL, the status on the graph, and a message
 * containing `needle`. */
static void expect_build_error(damo_graph *g, damo_var *v, damo_status want, const char *needle,
                               const char *what)
{
    CHECK_MSG(!v, "%s: built, expected %s", what, damo_status_name(want));
    CHECK_MSG(damo_graph_errcode(g) == want, "%s: status %s, expected %s (%s)", what,
              damo_status_name(damo_graph_errcode(g)), damo_status_name(want), damo_graph_errmsg(g));
    CHECK_STR_HAS(damo_graph_errmsg(g), needle);
}

/* ---------------------------------------------------------------------- */
/* Part 1                                                                  */
/* ---------------------------------------------------------------------- */

/* 1. A fused kernel with an empty broadcast sibling: x = [0.5] (shape
 * (1,)), y = [] (shape (0,)), both float64 vectors of unknown size;
 * outputs exp(x) and y + exp(x). NumPy: np.exp(0.5) == 1.6487212707001282
 * (0x1.a61298e1e069cp+0), y + np.exp(x) == [] (shape (0,)). */
static void item1_empty_broadcast_sibling(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_var *x = damo_dvector(g, "x"), *y = damo_dvector(g, "y");
    damo_var *e = damo_exp(x);
    damo_var *outs[] = {e, damo_add(y, e)};
    damo_var *ins[] = {x, y};
    const double xv[] = {0.5}, want[] = {0x1.a61298e1e069cp+0};
    damo_array *vals[] = {vec(DAMO_FLOAT64, 1, xv), vec(DAMO_FLOAT64, 0, xv /* no element read */)};
    for (int p = 0; p < 2; p++) {
        damo_array *res[2];
        /* five calls in a row, each compared with the first by run() */
        if (run(g, 2, ins, vals, 2, outs, both_paths[p], 5, res)) {
            expect_floats(res[0], DAMO_FLOAT64, 1, want, 1, "item 1: exp([0.5])", both_paths[p]);
            CHECK_MSG(damo_array_ndim(res[1]) == 1 && damo_array_shape(res[1])[0] == 0,
                      "item 1: y + exp(x) should have shape (0,) (%s)", path_name(both_paths[p]));
        }
        release_all(res, 2);
    }
    /* one function called with y empty, then with one element, then empty
     * again: exp(x) is right every time. NumPy: 1.0 + np.exp(0.5) ==
     * 2.648721270700128 (0x1.53094c70f034ep+1). */
    const double one[] = {1.0}, sum[] = {0x1.53094c70f034ep+1};
    damo_array *y1 = vec(DAMO_FLOAT64, 1, one);
    for (int p = 0; p < 2; p++) {
        damo_function *f = damo_function_simple(g, 2, ins, 2, outs, both_paths[p]);
        CHECK_MSG(f, "item 1: %s", damo_graph_errmsg(g));
        for (int c = 0; f && c < 6; c++) {
            damo_arg args[] = {DAMO_ARG(vals[0]), DAMO_ARG(c % 3 == 1 ? y1 : vals[1])};
            damo_array *res[2] = {NULL, NULL};
            CHECK_MSG(damo_call(f, args, 2, res, 2) == DAMO_OK, "item 1: call %d: %s", c,
                      damo_function_errmsg(f));
            expect_floats(res[0], DAMO_FLOAT64, 1, want, 1, "item 1: exp([0.5]), y alternating",
                          both_paths[p]);
            if (c % 3 == 1)
                expect_floats(res[1], DAMO_FLOAT64, 1, sum, 1, "item 1: [1.0] + exp([0.5])",
                              both_paths[p]);
            else
                CHECK_MSG(damo_array_size(res[1]) == 0, "item 1: y + exp(x) should be empty");
            release_all(res, 2);
        }
        damo_function_free(f);
    }
    damo_array_release(y1);
    release_all(vals, 2);
    damo_graph_free(g);
}

/* 2. Signed integer overflow wraps as NumPy's does, and comparisons see the
 * wrapped value. NumPy:
 *   x = np.array([9223372036854775806, 3]); x * 2 -> [-4, 6];
 *   x * 2 < 0 -> [True, False]; np.clip(x + x, 16.0, -0.5) -> [-0.5, -0.5]
 *   (float64: the maximum with 16.0, then the minimum with -0.5);
 *   np.array([2147483647], np.int32) + 1 < 0 -> [True];
 *   -np.array([-2**63]) -> [-9223372036854775808], and > 0 -> [False]. */
static void item2_check_values(damo_array **res, unsigned flags, const char *form)
{
    char what[128];
    const int64_t x2[] = {-4, 6}, lt0[] = {1, 0}, one[] = {1}, zero[] = {0};
    const int64_t imin[] = {INT64_MIN};
    const double clipped[] = {-0.5, -0.5};
    snprintf(what, sizeof what, "item 2 %s: x * 2", form);
    expect_ints(res[0], DAMO_INT64, 2, x2, what, flags);
    snprintf(what, sizeof what, "item 2 %s: x * 2 < 0", form);
    expect_ints(res[1], DAMO_BOOL, 2, lt0, what, flags);
    snprintf(what, sizeof what, "item 2 %s: clip(x + x, 16.0, -0.5)", form);
    expect_floats(res[2], DAMO_FLOAT64, 2, clipped, 0, what, flags);
    snprintf(what, sizeof what, "item 2 %s: int32 2147483647 + 1 < 0", form);
    expect_ints(res[3], DAMO_BOOL, 1, one, what, flags);
    snprintf(what, sizeof what, "item 2 %s: -INT64_MIN", form);
    expect_ints(res[4], DAMO_INT64, 1, imin, what, flags);
    snprintf(what, sizeof what, "item 2 %s: -INT64_MIN > 0", form);
    expect_ints(res[5], DAMO_BOOL, 1, zero, what, flags);
}

static void item2_integer_overflow_wraps(void)
{
    const int64_t xv[] = {9223372036854775806, 3}, mv[] = {INT64_MIN};
    const int32_t iv[] = {2147483647};
    /* values in input arrays, so that the device really computes them */
    damo_graph *g = damo_graph_new(ctx);
    damo_var *x = damo_lvector(g, "x"), *i = damo_ivector(g, "i"), *m = damo_lvector(g, "m");
    damo_var *x2 = damo_mul(x, damo_int(g, 2)), *nm = damo_neg(m);
    damo_var *outs[] = {x2,
                        damo_lt(x2, damo_int(g, 0)),
                        damo_clip(damo_add(x, x), damo_float(g, 16.0), damo_float(g, -0.5)),
                        damo_lt(damo_add(i, damo_int(g, 1)), damo_int(g, 0)),
                        nm,
                        damo_gt(nm, damo_int(g, 0))};
    damo_var *ins[] = {x, i, m};
    damo_array *vals[] = {vec(DAMO_INT64, 2, xv), vec(DAMO_INT32, 1, iv), vec(DAMO_INT64, 1, mv)};
    for (int p = 0; p < 2; p++) {
        damo_array *res[6];
        if (run(g, 3, ins, vals, 6, outs, both_paths[p], 3, res))
            item2_check_values(res, both_paths[p], "(inputs)");
        release_all(res, 6);
    }
    release_all(vals, 3);
    damo_graph_free(g);

    /* the constant-folded form: the same expressions over constants */
    g = damo_graph_new(ctx);
    damo_array *xa = vec(DAMO_INT64, 2, xv), *ma = vec(DAMO_INT64, 1, mv);
    damo_var *xc = damo_constant(g, xa), *mc = damo_constant(g, ma);
    damo_var *ic = damo_const_scalar(g, DAMO_INT32, 2147483647.0);
    x2 = damo_mul(xc, damo_int(g, 2));
    nm = damo_neg(mc);
    damo_var *couts[] = {x2,
                         damo_lt(x2, damo_int(g, 0)),
                         damo_clip(damo_add(xc, xc), damo_float(g, 16.0), damo_float(g, -0.5)),
                         /* a 0-d result: shape () rather than (1,) */
                         damo_lt(damo_add(ic, damo_int(g, 1)), damo_int(g, 0)),
                         nm,
                         damo_gt(nm, damo_int(g, 0))};
    for (int p = 0; p < 2; p++) {
        damo_array *res[6];
        if (run(g, 0, NULL, NULL, 6, couts, both_paths[p], 3, res))
            item2_check_values(res, both_paths[p], "(constants)");
        release_all(res, 6);
    }
    damo_array_release(xa);
    damo_array_release(ma);
    damo_graph_free(g);
}

/* 3. Integer pow is exact with wrap-around. NumPy:
 *   np.int64(3) ** 39 == 4052555153018976267
 *   np.power(np.int32(527), np.int32(527)) == 517604847
 *   np.power(np.int16(-7), np.int16(64)) == 30209
 *   np.power(np.array([3, 255, 7, 2], np.uint8), np.array([200, 3, 5, 8], np.uint8))
 *       == [161, 255, 167, 0]
 * Negative exponents: a constant one is a build error (DAMO_ERR_INVALID);
 * from an input array damo defines 1 ** -b == 1, (-1) ** -b == +-1 by
 * parity and 0 for every other base, 0 included (NumPy raises). */
typedef struct pow_case {
    damo_dtype t;
    int n;
    int64_t base[7], expo[7], want[7];
} pow_case;

static void pow_run(const pow_case *c, int const_exponent)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_var *a = damo_tensor(g, c->t, 1, NULL, "a");
    damo_var *b = damo_tensor(g, c->t, 1, NULL, "b");
    size_t sz = damo_dtype_size(c->t);
    unsigned char av[7 * 8], bv[7 * 8];
    damo_array *tmp;
    for (int i = 0; i < c->n; i++) {
        /* wraps to the dtype as NumPy's astype does */
        tmp = damo_array_scalar_int(ctx, c->t, c->base[i]);
        damo_array_read(tmp, av + i * sz);
        damo_array_release(tmp);
        tmp = damo_array_scalar_int(ctx, c->t, c->expo[i]);
        damo_array_read(tmp, bv + i * sz);
        damo_array_release(tmp);
    }
    char what[96];
    snprintf(what, sizeof what, "item 3: %s pow%s", damo_dtype_name(c->t),
             const_exponent ? " (constant exponent)" : "");
    for (int p = 0; p < 2; p++) {
        if (const_exponent) {
            /* one function per element: base from an input, exponent a C integer */
            for (int i = 0; i < c->n; i++) {
                damo_var *y = damo_pow(a, damo_int(g, c->expo[i]));
                damo_array *va = vec(c->t, 1, av + i * sz), *res;
                if (run(g, 1, &a, &va, 1, &y, both_paths[p], 2, &res))
                    expect_ints(res, c->t, 1, &c->want[i], what, both_paths[p]);
                damo_array_release(res);
                damo_array_release(va);
            }
        } else {
            damo_var *y = damo_pow(a, b);
            damo_var *ins[] = {a, b};
            damo_array *vals[] = {vec(c->t, c->n, av), vec(c->t, c->n, bv)}, *res;
            if (run(g, 2, ins, vals, 1, &y, both_paths[p], 2, &res))
                expect_ints(res, c->t, c->n, c->want, what, both_paths[p]);
            damo_array_release(res);
            release_all(vals, 2);
        }
    }
    damo_graph_free(g);
}

static void item3_integer_pow(void)
{
    static const pow_case cases[] = {
        {DAMO_INT64, 3, {3, -3, 2}, {39, 39, 64}, {4052555153018976267, -4052555153018976267, 0}},
        {DAMO_INT32, 2, {527, 3}, {527, 40}, {517604847, 689956897}},
        {DAMO_INT16, 2, {-7, -7}, {64, 3}, {30209, -343}},
        {DAMO_UINT8, 4, {3, 255, 7, 2}, {200, 3, 5, 8}, {161, 255, 167, 0}},
        {DAMO_INT8, 3, {3, -2, 11}, {5, 7, 2}, {-13, -128, 121}},
        {DAMO_UINT64, 2, {3, 2}, {41, 63}, {(int64_t)UINT64_C(0xfa2a1cf67b5fb863) /* 3**41 mod 2**64 */,
                                            INT64_MIN}},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        pow_run(&cases[k], 0);
        pow_run(&cases[k], 1);
    }

    /* negative exponents at run time: damo's documented rule */
    static const pow_case neg[] = {
        {DAMO_INT64, 7, {1, -1, -1, 0, 2, -2, 5}, {-3, -3, -4, -1, -1, -1, -2}, {1, -1, 1, 0, 0, 0, 0}},
        {DAMO_INT32, 7, {1, -1, -1, 0, 2, -2, 5}, {-3, -3, -4, -1, -1, -1, -2}, {1, -1, 1, 0, 0, 0, 0}},
        {DAMO_INT8, 7, {1, -1, -1, 0, 127, -128, 5}, {-128, -127, -2, -1, -1, -1, -2},
         {1, -1, 1, 0, 0, 0, 0}},
    };
    for (size_t k = 0; k < sizeof neg / sizeof neg[0]; k++)
        pow_run(&neg[k], 0);

    /* a negative constant exponent is a build error, whatever its form */
    damo_graph *g = damo_graph_new(ctx);
    damo_var *a = damo_lvector(g, "a");
    expect_build_error(g, damo_pow(a, damo_int(g, -1)), DAMO_ERR_INVALID, "negative",
                       "item 3: int64 ** -1");
    damo_graph_free(g);
    g = damo_graph_new(ctx);
    a = damo_bvector(g, "a");
    expect_build_error(g, damo_pow(a, damo_const_scalar(g, DAMO_INT8, -2)), DAMO_ERR_INVALID,
                       "negative", "item 3: int8 ** int8(-2)");
    damo_graph_free(g);
    g = damo_graph_new(ctx);
    a = damo_ivector(g, "a");
    const int32_t ev[] = {2, -1};
    damo_array *ea = vec(DAMO_INT32, 2, ev);
    expect_build_error(g, damo_pow(a, damo_constant(g, ea)), DAMO_ERR_INVALID, "negative",
                       "item 3: int32 ** [2, -1]");
    damo_array_release(ea);
    damo_graph_free(g);
    /* a float base takes any exponent */
    g = damo_graph_new(ctx);
    a = damo_dvector(g, "a");
    damo_var *y = damo_pow(a, damo_int(g, -1));
    CHECK_MSG(y && damo_var_dtype(y) == DAMO_FLOAT64, "item 3: float64 ** -1: %s",
              damo_graph_errmsg(g));
    damo_graph_free(g);
}

/* 4. Weak C integers outside the other operand's range. NumPy 2 answers
 * comparisons mathematically (np.array([0, 255], np.uint8) < -1 ->
 * [False, False]), clamps clip bounds (np.clip(np.array([0, 255], np.uint8),
 * -1000, 1000) -> uint8 [0, 255]) and raises OverflowError for arithmetic
 * (np.array([1], np.int8) + 300: "Python integer 300 out of bounds for
 * int8"); np.array([1, -128], np.int8) + 127 -> [-128, -1]. */
typedef damo_var *(*binop)(damo_var *, damo_var *);

static int64_t cmp_ref(int op, int64_t a, int64_t b)
{
    switch (op) {
    case 0: return a < b;
    case 1: return a > b;
    case 2: return a <= b;
    case 3: return a >= b;
    case 4: return a == b;
    default: return a != b;
    }
}

static void item4_weak_ints_out_of_range(void)
{
    static const binop cmp[] = {damo_lt, damo_gt, damo_le, damo_ge, damo_eq, damo_neq};
    static const char *cmp_name[] = {"<", ">", "<=", ">=", "==", "!="};
    static const struct {
        damo_dtype t;
        int64_t c;
    } cases[] = {
        {DAMO_UINT8, -1}, {DAMO_UINT8, 300}, {DAMO_UINT8, 256}, {DAMO_INT8, 65535},
        {DAMO_INT8, 1000}, {DAMO_INT8, -1000}, {DAMO_INT8, -129}, {DAMO_UINT16, -70000},
        {DAMO_INT32, 4294967296}, {DAMO_UINT32, -1}, {DAMO_UINT64, -1}, {DAMO_UINT64, INT64_MIN},
        {DAMO_INT16, 32768},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        damo_dtype t = cases[k].t;
        int64_t c = cases[k].c;
        /* the dtype's extremes and a middle value */
        int is_signed = t == DAMO_INT8 || t == DAMO_INT16 || t == DAMO_INT32 || t == DAMO_INT64;
        int bits = (int)damo_dtype_size(t) * 8;
        int64_t lo = is_signed ? -(INT64_C(1) << (bits - 1)) : 0;
        int64_t hi = bits == 64 ? INT64_MAX : is_signed ? (INT64_C(1) << (bits - 1)) - 1
                                                        : (INT64_C(1) << bits) - 1;
        int64_t vals[3] = {lo, 1, hi};
        unsigned char data[3 * 8];
        for (int i = 0; i < 3; i++) {
            damo_array *s = damo_array_scalar_int(ctx, t, vals[i]);
            damo_array_read(s, data + i * damo_dtype_size(t));
            damo_array_release(s);
        }
        if (t == DAMO_UINT64) /* hi is UINT64_MAX: compare as if it were huge */
            vals[2] = INT64_MAX;
        damo_graph *g = damo_graph_new(ctx);
        damo_var *x = damo_tensor(g, t, 1, NULL, "x");
        damo_var *outs[12];
        for (int o = 0; o < 6; o++) {
            outs[o] = cmp[o](x, damo_int(g, c));         /* x op c */
            outs[6 + o] = cmp[o](damo_int(g, c), x);     /* c op x */
        }
        int built = 1;
        for (int o = 0; o < 12; o++)
            built &= outs[o] != NULL;
        CHECK_MSG(built, "item 4: %s vs %lld: %s", damo_dtype_name(t), (long long)c,
                  damo_graph_errmsg(g));
        damo_array *va = vec(t, 3, data);
        for (int p = 0; built && p < 2; p++) {
            damo_array *res[12];
            if (run(g, 1, &x, &va, 12, outs, both_paths[p], 1, res)) {
                for (int o = 0; o < 12; o++) {
                    int64_t want[3];
                    for (int i = 0; i < 3; i++)
                        want[i] = o < 6 ? cmp_ref(o, vals[i], c) : cmp_ref(o - 6, c, vals[i]);
                    char what[96];
                    if (o < 6)
                        snprintf(what, sizeof what, "item 4: %s x %s %lld", damo_dtype_name(t),
                                 cmp_name[o], (long long)c);
                    else
                        snprintf(what, sizeof what, "item 4: %lld %s %s x", (long long)c,
                                 cmp_name[o - 6], damo_dtype_name(t));
                    expect_ints(res[o], DAMO_BOOL, 3, want, what, both_paths[p]);
                }
            }
            release_all(res, 12);
        }
        damo_array_release(va);
        damo_graph_free(g);
    }

    /* clip bounds outside the dtype are clamped: uint8 stays uint8 */
    damo_graph *g = damo_graph_new(ctx);
    damo_var *x = damo_tensor(g, DAMO_UINT8, 1, NULL, "x");
    damo_var *cl[] = {damo_clip(x, damo_int(g, -1000), damo_int(g, 1000)),
                      damo_clip(x, damo_int(g, 3), damo_int(g, 1000)),
                      damo_clip(x, damo_int(g, -5), damo_int(g, 7))};
    const uint8_t xv[] = {0, 255, 5};
    const int64_t w0[] = {0, 255, 5}, w1[] = {3, 255, 5}, w2[] = {0, 7, 5};
    damo_array *va = vec(DAMO_UINT8, 3, xv);
    for (int p = 0; p < 2; p++) {
        damo_array *res[3];
        if (run(g, 1, &x, &va, 3, cl, both_paths[p], 1, res)) {
            expect_ints(res[0], DAMO_UINT8, 3, w0, "item 4: clip(uint8, -1000, 1000)", both_paths[p]);
            expect_ints(res[1], DAMO_UINT8, 3, w1, "item 4: clip(uint8, 3, 1000)", both_paths[p]);
            expect_ints(res[2], DAMO_UINT8, 3, w2, "item 4: clip(uint8, -5, 7)", both_paths[p]);
        }
        release_all(res, 3);
    }
    damo_array_release(va);

    /* arithmetic with an out-of-range C integer is an error */
    damo_var *i8 = damo_bvector(g, "i8");
    expect_build_error(g, damo_add(i8, damo_int(g, 300)), DAMO_ERR_OVERFLOW, "300",
                       "item 4: int8 + 300");
    expect_build_error(g, damo_add(damo_int(g, 300), i8), DAMO_ERR_OVERFLOW, "300",
                       "item 4: 300 + int8");
    expect_build_error(g, damo_mul(x, damo_int(g, -1)), DAMO_ERR_OVERFLOW, "-1",
                       "item 4: uint8 * -1");
    expect_build_error(g, damo_sub(i8, damo_int(g, -129)), DAMO_ERR_OVERFLOW, "-129",
                       "item 4: int8 - -129");
    expect_build_error(g, damo_maximum(x, damo_int(g, 256)), DAMO_ERR_OVERFLOW, "256",
                       "item 4: maximum(uint8, 256)");
    /* int8 + 127 is fine, and wraps */
    damo_var *ok = damo_add(i8, damo_int(g, 127));
    CHECK_MSG(ok && damo_var_dtype(ok) == DAMO_INT8, "item 4: int8 + 127: %s", damo_graph_errmsg(g));
    const int8_t iv[] = {1, -128, 0};
    const int64_t wok[] = {-128, -1, 127};
    va = vec(DAMO_INT8, 3, iv);
    for (int p = 0; ok && p < 2; p++) {
        damo_array *res;
        if (run(g, 1, &i8, &va, 1, &ok, both_paths[p], 1, &res))
            expect_ints(res, DAMO_INT8, 3, wok, "item 4: int8 + 127", both_paths[p]);
        damo_array_release(res);
    }
    damo_array_release(va);
    damo_graph_free(g);
}

/* 5. NaN constants in kernels: round(x + nan), floor and ceil of it, and
 * int_div(2.0, abs(x + nan)) are NaN (NumPy: np.round(x + np.nan) etc. are
 * all nan), on the device, call after call. */
static void item5_nan_constants(void)
{
    for (int k = 0; k < 2; k++) {
        damo_dtype t = k ? DAMO_FLOAT32 : DAMO_FLOAT64;
        damo_graph *g = damo_graph_new(ctx);
        damo_var *x = damo_tensor(g, t, 1, NULL, "x");
        damo_var *xn = damo_add(x, damo_float(g, NAN));
        damo_var *outs[] = {damo_round(xn), damo_floor(xn), damo_ceil(xn),
                            damo_int_div(damo_float(g, 2.0), damo_abs(xn)),
                            damo_mod(damo_float(g, 2.0), xn), damo_maximum(x, damo_float(g, NAN)),
                            damo_clip(x, damo_float(g, NAN), damo_float(g, 1.0))};
        const char *names[] = {"round(x + nan)", "floor(x + nan)", "ceil(x + nan)",
                               "int_div(2.0, abs(x + nan))", "mod(2.0, x + nan)",
                               "maximum(x, nan)", "clip(x, nan, 1.0)"};
        const double xd[] = {0.5, -1.5, 2.0, 0.0, -0.0, INFINITY};
        const float xf[] = {0.5f, -1.5f, 2.0f, 0.0f, -0.0f, INFINITY};
        damo_array *va = vec(t, 6, k ? (const void *)xf : (const void *)xd);
        const double nans[] = {NAN, NAN, NAN, NAN, NAN, NAN};
        for (int p = 0; p < 2; p++) {
            damo_array *res[7];
            if (run(g, 1, &x, &va, 7, outs, both_paths[p], 4, res))
                for (int o = 0; o < 7; o++) {
                    char what[96];
                    snprintf(what, sizeof what, "item 5: %s %s", damo_dtype_name(t), names[o]);
                    expect_floats(res[o], t, 6, nans, 0, what, both_paths[p]);
                }
            release_all(res, 7);
        }
        damo_array_release(va);
        damo_graph_free(g);
    }
}

/* Found by the differential test below, kept as named regressions:
 * (a) a signed integer compared with a uint64 went through float64, which
 *     rounds both; NumPy 2 compares exactly:
 *       np.array([2**63-1, -1, 2**62+1]) <op> np.array([2**63, 2**64-1, 2**62], np.uint64)
 *       lt [T, T, F], le [T, T, F], gt [F, F, T], ge [F, F, T], eq [F, F, F], neq [T, T, T]
 * (b) floor and ceil of a NaN the device compiler can prove (fmod(y, 0.0)
 *     with the 0 from a < a) gave garbage on PoCL; NumPy: nan. */
static void regressions_from_differential(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_var *a = damo_lvector(g, "a"), *b = damo_tensor(g, DAMO_UINT64, 1, NULL, "b");
    damo_var *outs[] = {damo_lt(a, b), damo_le(a, b), damo_gt(a, b), damo_ge(a, b),
                        damo_eq(a, b), damo_neq(a, b), damo_gt(b, a)};
    const int64_t want[][3] = {{1, 1, 0}, {1, 1, 0}, {0, 0, 1}, {0, 0, 1},
                               {0, 0, 0}, {1, 1, 1}, {1, 1, 0}};
    const int64_t av[] = {INT64_MAX, -1, (INT64_C(1) << 62) + 1};
    const uint64_t bv[] = {UINT64_C(1) << 63, UINT64_MAX, UINT64_C(1) << 62};
    damo_array *vals[] = {vec(DAMO_INT64, 3, av), vec(DAMO_UINT64, 3, bv)};
    damo_var *ins[] = {a, b};
    for (int p = 0; p < 2; p++) {
        damo_array *res[7];
        if (run(g, 2, ins, vals, 7, outs, both_paths[p], 2, res))
            for (int o = 0; o < 7; o++)
                expect_ints(res[o], DAMO_BOOL, 3, want[o], "int64 vs uint64 comparison", both_paths[p]);
        release_all(res, 7);
    }
    release_all(vals, 2);
    damo_var *x = damo_fvector(g, "x"), *y = damo_dscalar(g, "y");
    damo_var *nan_mod = damo_mod(y, damo_lt(x, x));
    damo_var *fo[] = {damo_floor(nan_mod), damo_ceil(nan_mod), damo_round(nan_mod)};
    const float xf[] = {-0.5f, 3};
    const double yd = 0.001, nans[] = {NAN, NAN};
    damo_array *fv[] = {vec(DAMO_FLOAT32, 2, xf), damo_array_scalar(ctx, DAMO_FLOAT64, yd)};
    damo_var *fin[] = {x, y};
    for (int p = 0; p < 2; p++) {
        damo_array *res[3];
        if (run(g, 2, fin, fv, 3, fo, both_paths[p], 4, res))
            for (int o = 0; o < 3; o++)
                expect_floats(res[o], DAMO_FLOAT64, 2, nans, 0, "floor/ceil/round of a folded NaN",
                              both_paths[p]);
        release_all(res, 3);
    }
    release_all(fv, 2);
    damo_graph_free(g);
}

/* 6. true_div(int16, 5) and bool / bool give float64 (NumPy and PyTensor);
 * exp(int16) gives float32 (Aesara's upgrade_to_float). NumPy:
 *   np.array([7, -3], np.int16) / 5 -> [1.4, -0.6] float64
 *   np.array([True, True, False, False]) / np.array([True, False, True, False])
 *       -> [1.0, inf, 0.0, nan] float64
 *   np.exp(np.float32([7, -3, 2, 0])) -> [1096.6332, 0.049787067, 7.3890557, 1.0] */
static void item6_division_dtypes(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_var *w = damo_wvector(g, "w");
    damo_var *a = damo_tensor(g, DAMO_BOOL, 1, NULL, "a"), *b = damo_tensor(g, DAMO_BOOL, 1, NULL, "b");
    damo_var *outs[] = {damo_true_div(w, damo_int(g, 5)), damo_true_div(a, b), damo_exp(w),
                        damo_div(w, w)};
    CHECK_INT(damo_var_dtype(outs[0]), DAMO_FLOAT64);
    CHECK_INT(damo_var_dtype(outs[1]), DAMO_FLOAT64);
    CHECK_INT(damo_var_dtype(outs[2]), DAMO_FLOAT32);
    CHECK_INT(damo_var_dtype(outs[3]), DAMO_FLOAT64);
    const int16_t wv[] = {7, -3, 2, 0};
    const uint8_t av[] = {1, 1, 0, 0}, bv[] = {1, 0, 1, 0};
    damo_var *ins[] = {w, a, b};
    damo_array *vals[] = {vec(DAMO_INT16, 4, wv), vec(DAMO_BOOL, 4, av), vec(DAMO_BOOL, 4, bv)};
    const double w0[] = {1.4, -0.6, 0.4, 0.0}, w1[] = {1.0, INFINITY, 0.0, NAN};
    /* np.exp(np.float32([7, -3, 2, 0])) */
    const double w2[] = {0x1.122886p+10, 0x1.97db0cp-5, 0x1.d8e64ap+2, 1.0};
    const double w3[] = {1.0, 1.0, 1.0, NAN};
    for (int p = 0; p < 2; p++) {
        damo_array *res[4];
        if (run(g, 3, ins, vals, 4, outs, both_paths[p], 1, res)) {
            expect_floats(res[0], DAMO_FLOAT64, 4, w0, 0, "item 6: int16 / 5", both_paths[p]);
            expect_floats(res[1], DAMO_FLOAT64, 4, w1, 0, "item 6: bool / bool", both_paths[p]);
            expect_floats(res[2], DAMO_FLOAT32, 4, w2, 3, "item 6: exp(int16)", both_paths[p]);
            expect_floats(res[3], DAMO_FLOAT64, 4, w3, 0, "item 6: int16 / int16", both_paths[p]);
        }
        release_all(res, 4);
    }
    release_all(vals, 3);
    damo_graph_free(g);
}

/* 7. int_div, mod, pow and sqr of bools compute in int8 (NumPy):
 *   a = [T, T, F, F], b = [T, F, T, F]: a // b -> int8 [1, 0, 0, 0];
 *   a % b -> [0, 0, 0, 0]; a ** b -> [1, 1, 0, 1]; np.square(a) -> [1, 1, 0, 0]. */
static void item7_bool_int8(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_var *a = damo_tensor(g, DAMO_BOOL, 1, NULL, "a"), *b = damo_tensor(g, DAMO_BOOL, 1, NULL, "b");
    damo_var *outs[] = {damo_int_div(a, b), damo_mod(a, b), damo_pow(a, b), damo_sqr(a)};
    const int64_t want[][4] = {{1, 0, 0, 0}, {0, 0, 0, 0}, {1, 1, 0, 1}, {1, 1, 0, 0}};
    const char *names[] = {"item 7: bool // bool", "item 7: bool % bool", "item 7: bool ** bool",
                           "item 7: sqr(bool)"};
    const uint8_t av[] = {1, 1, 0, 0}, bv[] = {1, 0, 1, 0};
    damo_var *ins[] = {a, b};
    damo_array *vals[] = {vec(DAMO_BOOL, 4, av), vec(DAMO_BOOL, 4, bv)};
    for (int o = 0; o < 4; o++)
        CHECK_MSG(damo_var_dtype(outs[o]) == DAMO_INT8, "%s: dtype %s", names[o],
                  damo_dtype_name(damo_var_dtype(outs[o])));
    for (int p = 0; p < 2; p++) {
        damo_array *res[4];
        if (run(g, 2, ins, vals, 4, outs, both_paths[p], 1, res))
            for (int o = 0; o < 4; o++)
                expect_ints(res[o], DAMO_INT8, 4, want[o], names[o], both_paths[p]);
        release_all(res, 4);
    }
    release_all(vals, 2);
    damo_graph_free(g);
}

/* 8. neg(bool), sign(bool) and sub(bool, bool) are type errors, as in
 * NumPy ("The numpy boolean negative, the `-` operator, is not
 * supported"; "ufunc 'sign' did not contain a loop ... BoolDType"). */
static void item8_bool_type_errors(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_var *a = damo_tensor(g, DAMO_BOOL, 1, NULL, "a"), *b = damo_tensor(g, DAMO_BOOL, 1, NULL, "b");
    expect_build_error(g, damo_neg(a), DAMO_ERR_TYPE, "neg", "item 8: neg(bool)");
    CHECK_STR_HAS(damo_graph_errmsg(g), "bool");
    expect_build_error(g, damo_sign(a), DAMO_ERR_TYPE, "sign", "item 8: sign(bool)");
    CHECK_STR_HAS(damo_graph_errmsg(g), "bool");
    expect_build_error(g, damo_sub(a, b), DAMO_ERR_TYPE, "sub", "item 8: sub(bool, bool)");
    CHECK_STR_HAS(damo_graph_errmsg(g), "bool");
    /* what NumPy allows stays allowed */
    CHECK(damo_var_dtype(damo_abs(a)) == DAMO_BOOL);
    CHECK(damo_var_dtype(damo_not(a)) == DAMO_BOOL);
    CHECK(damo_var_dtype(damo_sub(a, damo_int(g, 1))) == DAMO_INT64);
    damo_graph_free(g);
}

/* 9. float32 tanh(+-inf) and tanh(20) on the device are within 1 ulp of
 * +-1 (NumPy: np.tanh(np.float32([np.inf, -np.inf, 20, -20])) ->
 * [1, -1, 1, -1]), and the host path never runs tanh: results cannot
 * depend on an array's size. */
static void item9_tanh(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_var *x = damo_fvector(g, "x");
    damo_var *t = damo_tanh(x);
    const float xv[] = {INFINITY, -INFINITY, 20.0f, -20.0f};
    const double want[] = {1, -1, 1, -1};
    damo_array *va = vec(DAMO_FLOAT32, 4, xv);
    damo_array *res;
    if (run(g, 1, &x, &va, 1, &t, DAMO_FN_DEVICE_ONLY, 2, &res)) {
        expect_floats(res, DAMO_FLOAT32, 4, want, 1, "item 9: tanh", DAMO_FN_DEVICE_ONLY);
        float got[4] = {0};
        damo_array_read(res, got);
        printf("item 9: PoCL float32 tanh(inf, -inf, 20, -20) = %a %a %a %a\n", got[0], got[1],
               got[2], got[3]);
    }
    damo_array_release(res);
    /* flags 0: a 4-element tanh stays on the device ... */
    if (run(g, 1, &x, &va, 1, &t, 0, 1, &res)) {
        CHECK_MSG(damo_array_on_device(res) && !damo_array_on_host(res),
                  "item 9: a 4-element tanh ran on the host");
        expect_floats(res, DAMO_FLOAT32, 4, want, 1, "item 9: tanh", 0);
    }
    damo_array_release(res);
    /* ... while a 4-element x * 2 + 1 runs on the host */
    damo_var *lin = damo_add(damo_mul(x, damo_float(g, 2)), damo_float(g, 1));
    const double lw[] = {INFINITY, -INFINITY, 41, -39};
    if (run(g, 1, &x, &va, 1, &lin, 0, 1, &res)) {
        CHECK_MSG(damo_array_on_host(res), "item 9: a 4-element x * 2 + 1 did not run on the host");
        expect_floats(res, DAMO_FLOAT32, 4, lw, 0, "item 9: x * 2 + 1", 0);
    }
    damo_array_release(res);
    damo_array_release(va);
    damo_graph_free(g);
}

/* 10. float64 log, log1p and exp at special and boundary values, within 1
 * ulp of NumPy 2.4.6 (np.log / np.log1p of LOG_X, np.exp of EXP_X, errors
 * ignored): in a kernel fused with a comparison, in one of the function
 * alone (float64 kernels compute them an element per work-item with
 * kernels/fmath.h's forms, never on vectors) and folded on the host. */
static const double LOG_X[] = {0.0, -0.0, -1.0, 1.0, INFINITY, -INFINITY, NAN, -2.0, 5e-324,
                               2.2250738585072014e-308, 1e308, 0.5, 1e-300, 0.7071067811865476,
                               1.4142135623730951, -0.5, -1e-17, 3e-9, -0.9999999999};
static const double LOG_WANT[] = {-INFINITY, -INFINITY, NAN, 0.0, INFINITY, NAN, NAN, NAN,
                                  -744.4400719213812, -708.3964185322641, 709.1962086421661,
                                  -0.6931471805599453, -690.7755278982137, -0.3465735902799726,
                                  0.3465735902799727, NAN, NAN, -19.624653548278303, NAN};
static const double LOG1P_WANT[] = {0.0, -0.0, -INFINITY, 0.6931471805599453, INFINITY, NAN, NAN,
                                    NAN, 5e-324, 2.2250738585072014e-308, 709.1962086421661,
                                    0.4054651081081644, 1e-300, 0.5347999967395703,
                                    0.881373587019543, -0.6931471805599453, -1e-17,
                                    2.9999999955e-09, -23.02585084720009};

static const double EXP_X[] = {0.0, -0.0, 1.0, -1.0, 709.782712893384, 709.79,
                               -745.1332191019411, -745.2, INFINITY, -INFINITY, NAN, 1e-300,
                               -708.5, 20.0, -20.0, 0.5, 700.0, -740.0, -1e-17};
static const double EXP_WANT[] = {1.0, 1.0, 2.718281828459045, 0.36787944117144233,
                                  1.7976931348622732e+308, INFINITY, 5e-324, 0.0, INFINITY, 0.0,
                                  NAN, 1.0, 2.006132305331306e-308, 485165195.4097903,
                                  2.061153622438558e-09, 1.6487212707001282,
                                  1.0142320547350045e+304, 4.2e-322, 1.0};

static void item10_log(void)
{
    enum { N = sizeof LOG_X / sizeof LOG_X[0] };
    _Static_assert(sizeof EXP_X / sizeof EXP_X[0] == N, "as many exp as log arguments");
    damo_var *(*const fns[3])(damo_var *) = {damo_log, damo_log1p, damo_exp};
    const double *const wants[3] = {LOG_WANT, LOG1P_WANT, EXP_WANT};
    const double *const args[3] = {LOG_X, LOG_X, EXP_X};
    const char *const names[3] = {"log", "log1p", "exp"};
    /* a vector kernel would take arrays of 4 vectors or more: 4 times */
    enum { REPS = 4 };
    double xs[REPS * N], want[REPS * N];
    for (int k = 0; k < 3; k++) {
        for (int i = 0; i < REPS * N; i++) {
            xs[i] = args[k][i % N];
            want[i] = wants[k][i % N];
        }
        damo_graph *g = damo_graph_new(ctx);
        damo_var *x = damo_dvector(g, "x");
        damo_var *outs[2] = {damo_switch(damo_gt(x, damo_float(g, INFINITY)), x, fns[k](x)),
                             fns[k](x)};
        damo_array *va = vec(DAMO_FLOAT64, REPS * N, xs);
        for (int o = 0; o < 2; o++) {
            damo_array *res;
            char what[64];
            snprintf(what, sizeof what, "item 10: %s, %s", names[k],
                     o ? "alone" : "fused with a comparison");
            if (run(g, 1, &x, &va, 1, &outs[o], DAMO_FN_DEVICE_ONLY, 1, &res))
                expect_floats(res, DAMO_FLOAT64, REPS * N, want, 1, what, DAMO_FN_DEVICE_ONLY);
            damo_array_release(res);
        }
        damo_array_release(va);
        damo_var *cs[N];
        damo_array *cres[N];
        for (int i = 0; i < N; i++)
            cs[i] = fns[k](damo_float(g, args[k][i]));
        if (run(g, 0, NULL, NULL, N, cs, 0, 1, cres)) {
            for (int i = 0; i < N; i++) {
                double got = NAN;
                CHECK(damo_array_get_f64(cres[i], 0, &got) == DAMO_OK);
                CHECK_MSG(float_near(got, wants[k][i], DAMO_FLOAT64, 1),
                          "item 10: %s(%g) folded: %.17g, NumPy %.17g", names[k], args[k][i], got,
                          wants[k][i]);
            }
        }
        for (int i = 0; i < N; i++)
            damo_array_release(cres[i]);
        damo_graph_free(g);
    }
}

/* ---------------------------------------------------------------------- */
/* Part 2: the differential test against tests/data/numpy_cases.txt         */
/* ---------------------------------------------------------------------- */

/* The ops of the data file. ulps: the bound for a float result, 0 for the
 * exact ops (same bits as NumPy, NaN == NaN). The bounds are OpenCL 1.2's
 * for the built-in (section 7.4, full profile) plus one for the
 * reference's own rounding (NumPy in longdouble, rounded once); sigmoid
 * and softplus are compositions of exp and log1p with one or two
 * roundings more. pow is exact when it computes in an integer dtype. */
typedef struct op_entry {
    const char *name;
    int arity;
    damo_var *(*f1)(damo_var *);
    damo_var *(*f2)(damo_var *, damo_var *);
    damo_var *(*f3)(damo_var *, damo_var *, damo_var *);
    int ulps;
} op_entry;

#define U(n, ulps) {#n, 1, damo_##n, NULL, NULL, ulps}
#define B(n, ulps) {#n, 2, NULL, damo_##n, NULL, ulps}
#define T(n) {#n, 3, NULL, NULL, damo_##n, 0}
static const op_entry op_table[] = {
    B(add, 0), B(sub, 0), B(mul, 0), B(true_div, 0), B(div, 0), B(int_div, 0), B(mod, 0),
    B(pow, 17), B(arctan2, 7), B(maximum, 0), B(minimum, 0),
    B(lt, 0), B(gt, 0), B(le, 0), B(ge, 0), B(eq, 0), B(neq, 0),
    B(and, 0), B(or, 0), B(xor, 0), U(not, 0),
    U(neg, 0), U(abs, 0), U(sign, 0), U(sqr, 0),
    U(exp, 4), U(expm1, 4), U(log, 4), U(log1p, 3), U(log2, 4), U(log10, 4), U(sqrt, 0),
    U(sin, 5), U(cos, 5), U(tan, 5), U(arcsin, 5), U(arccos, 5), U(arctan, 6),
    U(sinh, 5), U(cosh, 5), U(tanh, 6), U(sigmoid, 8), U(softplus, 8), U(erf, 17),
    U(floor, 0), U(ceil, 0), U(round, 0), U(isnan, 0), U(isinf, 0),
    T(clip), T(switch),
    {"cast", 1, NULL, NULL, NULL, 0},
};
#undef U
#undef B
#undef T
#define N_OPS (sizeof op_table / sizeof op_table[0])

static const op_entry *find_op(const char *name)
{
    for (size_t i = 0; i < N_OPS; i++)
        if (!strcmp(op_table[i].name, name))
            return &op_table[i];
    return NULL;
}

static int parse_status(const char *s, damo_status *st)
{
    for (int i = 0; i <= DAMO_ERR_OVERFLOW; i++)
        if (!strcmp(damo_status_name((damo_status)i), s)) {
            *st = (damo_status)i;
            return 1;
        }
    return 0;
}

/* Reads "NDIM DIM... : V..." from the tokens at *k. */
static int parse_array(char **tok, int ntok, int *k, damo_dtype t, parray *a)
{
    a->t = t;
    a->data = NULL;
    if (*k >= ntok)
        return 0;
    a->ndim = atoi(tok[(*k)++]);
    if (a->ndim < 0 || a->ndim > DAMO_MAX_DIMS)
        return 0;
    a->n = 1;
    for (int d = 0; d < a->ndim; d++) {
        if (*k >= ntok)
            return 0;
        a->shape[d] = atoll(tok[(*k)++]);
        a->n *= a->shape[d];
    }
    if (*k >= ntok || strcmp(tok[(*k)++], ":"))
        return 0;
    if (ntok - *k != a->n)
        return 0;
    a->data = calloc((size_t)a->n + 1, damo_dtype_size(t));
    for (int64_t i = 0; i < a->n; i++)
        if (!parse_elem(t, tok[(*k)++], a->data, i))
            return 0;
    return 1;
}

#define MAX_NAMES 64
#define MAX_TOK 4096

typedef struct named {
    char name[16];
    damo_var *v;
    const op_entry *op; /* the op that made it, or NULL */
    int input;          /* index among the inputs, or -1 */
} named;

typedef struct gcase {
    int id;
    char **lines;
    int n_lines;
    damo_graph *g;
    named names[MAX_NAMES];
    int n_names;
    damo_var *inputs[8];
    damo_array *values[8];
    int n_inputs;
    damo_var *outputs[16];
    const op_entry *out_op[16];
    const char *out_name[16];
    parray want[16];
    int n_outputs;
    int printed;
} gcase;

/* Part 2 runs in n_workers processes; this one runs the graphs whose
 * ordinal in the file is `worker` modulo n_workers. */
static int worker = 0, n_workers = 1;

typedef struct diff_stats {
    int in_file, graphs, graphs_failed, outputs, errors, mismatches, printed;
    uint64_t max_ulps[N_OPS][2]; /* [op][float64?] largest distance seen */
    uint64_t builds[3];          /* programs compiled, per way */
} diff_stats;
static diff_stats diff;

static named *lookup(gcase *c, const char *name)
{
    for (int i = 0; i < c->n_names; i++)
        if (!strcmp(c->names[i].name, name))
            return &c->names[i];
    return NULL;
}

static named *define(gcase *c, const char *name, damo_var *v, const op_entry *op)
{
    if (!v || c->n_names == MAX_NAMES)
        return NULL;
    named *nv = &c->names[c->n_names++];
    snprintf(nv->name, sizeof nv->name, "%s", name);
    nv->v = v;
    nv->op = op;
    nv->input = -1;
    return nv;
}

/* Prints the graph's declarations and input values, once per graph. */
static void print_case(gcase *c)
{
    if (diff.printed > 40 || c->printed++)
        return;
    fprintf(stderr, "    graph %d:\n", c->id);
    for (int i = 0; i < c->n_lines; i++) {
        const char *l = c->lines[i];
        if (!strncmp(l, "output", 6))
            continue;
        fprintf(stderr, "      %.*s%s\n", 160, l, strlen(l) > 160 ? " ..." : "");
    }
}

static int split(char *line, char **tok)
{
    int n = 0;
    for (char *p = strtok(line, " "); p && n < MAX_TOK; p = strtok(NULL, " "))
        tok[n++] = p;
    return n;
}

/* Builds the graph of case c; 0 when a line cannot be built or parsed
 * (reported). */
static int build_case(gcase *c)
{
    static char *tok[MAX_TOK];
    static char buf[65536];
    for (int li = 0; li < c->n_lines; li++) {
        if (strlen(c->lines[li]) >= sizeof buf) {
            CHECK_MSG(0, "graph %d: line %d is too long", c->id, li + 1);
            return 0;
        }
        strcpy(buf, c->lines[li]);
        int n = split(buf, tok), ok = 1;
        damo_dtype t;
        if (n < 2) {
            ok = 0;
        } else if (!strcmp(tok[0], "input") && n >= 4 && parse_dtype(tok[2], &t)) {
            int nd = atoi(tok[3]);
            int64_t shape[DAMO_MAX_DIMS];
            for (int d = 0; d < nd && 4 + d < n; d++)
                shape[d] = !strcmp(tok[4 + d], "?") ? DAMO_DIM_UNKNOWN : atoll(tok[4 + d]);
            damo_var *v = damo_tensor(c->g, t, nd, shape, tok[1]);
            named *nv = v && c->n_inputs < 8 ? define(c, tok[1], v, NULL) : NULL;
            if ((ok = nv != NULL)) {
                nv->input = c->n_inputs;
                c->inputs[c->n_inputs++] = v;
            }
        } else if (!strcmp(tok[0], "int") && n == 3) {
            ok = define(c, tok[1], damo_int(c->g, strtoll(tok[2], NULL, 10)), NULL) != NULL;
        } else if (!strcmp(tok[0], "float") && n == 3) {
            ok = define(c, tok[1], damo_float(c->g, strtod(tok[2], NULL)), NULL) != NULL;
        } else if (!strcmp(tok[0], "scalar") && n == 4 && parse_dtype(tok[2], &t)) {
            ok = define(c, tok[1], damo_const_scalar(c->g, t, strtod(tok[3], NULL)), NULL) != NULL;
        } else if (!strcmp(tok[0], "constant") && n >= 4 && parse_dtype(tok[2], &t)) {
            parray a;
            int k = 3;
            ok = parse_array(tok, n, &k, t, &a);
            damo_array *arr = ok ? damo_array_from_data(ctx, t, a.ndim, a.shape, a.data) : NULL;
            ok = arr && define(c, tok[1], damo_constant(c->g, arr), NULL);
            damo_array_release(arr);
            free(a.data);
        } else if ((!strcmp(tok[0], "op") && n >= 3) || (!strcmp(tok[0], "error") && n >= 4)) {
            int is_err = tok[0][0] == 'e';
            const op_entry *op = find_op(tok[is_err ? 1 : 2]);
            damo_status want = DAMO_OK;
            if (is_err && !parse_status(tok[2], &want))
                op = NULL;
            int first = 3, nargs = op ? op->arity : 0;
            damo_var *args[3] = {NULL, NULL, NULL};
            damo_dtype cast_to = DAMO_BOOL;
            if (!op || n < first + nargs || (op->f1 == NULL && op->arity == 1 &&
                                             !(n == first + 2 && parse_dtype(tok[n - 1], &cast_to)))) {
                ok = 0;
            } else {
                for (int k = 0; k < nargs; k++) {
                    named *a = lookup(c, tok[first + k]);
                    args[k] = a ? a->v : NULL;
                    ok &= a != NULL;
                }
            }
            damo_var *v = NULL;
            if (ok) {
                if (!strcmp(op->name, "cast"))
                    v = damo_cast(args[0], cast_to);
                else if (op->arity == 1)
                    v = op->f1(args[0]);
                else if (op->arity == 2)
                    v = op->f2(args[0], args[1]);
                else
                    v = op->f3(args[0], args[1], args[2]);
            }
            if (ok && is_err) {
                diff.errors++;
                int good = !v && damo_graph_errcode(c->g) == want;
                CHECK_MSG(good, "graph %d: %s: expected %s (NumPy raises), got %s: %s", c->id,
                          c->lines[li], damo_status_name(want),
                          v ? "a variable" : damo_status_name(damo_graph_errcode(c->g)),
                          v ? "" : damo_graph_errmsg(c->g));
                if (!good) {
                    print_case(c);
                    diff.printed++;
                }
                continue;
            }
            if (ok && !v) {
                CHECK_MSG(v, "graph %d: %s: %s", c->id, c->lines[li], damo_graph_errmsg(c->g));
                print_case(c);
                diff.printed++;
                return 0;
            }
            ok = ok && define(c, tok[1], v, op);
        } else if (!strcmp(tok[0], "value") && n >= 4) {
            named *nv = lookup(c, tok[1]);
            parray a;
            int k = 2;
            ok = nv && nv->input >= 0 && parse_array(tok, n, &k, damo_var_dtype(nv->v), &a);
            if (ok) {
                c->values[nv->input] = damo_array_from_data(ctx, a.t, a.ndim, a.shape, a.data);
                ok = c->values[nv->input] != NULL;
            }
            if (nv && nv->input >= 0)
                free(a.data);
        } else if (!strcmp(tok[0], "output") && n >= 4 && parse_dtype(tok[2], &t) &&
                   c->n_outputs < 16) {
            named *nv = lookup(c, tok[1]);
            int k = 3;
            ok = nv && parse_array(tok, n, &k, t, &c->want[c->n_outputs]);
            if (ok) {
                c->out_op[c->n_outputs] = nv->op;
                c->out_name[c->n_outputs] = nv->name;
                c->outputs[c->n_outputs++] = nv->v;
            }
        } else {
            ok = 0;
        }
        CHECK_MSG(ok, "graph %d: cannot use line \"%.120s\" (%s)", c->id, c->lines[li],
                  damo_graph_errmsg(c->g));
        if (!ok)
            return 0;
    }
    return 1;
}

/* Compares output o of one run with NumPy's; returns 1 when equal. */
static int compare_output(gcase *c, int o, damo_array *got, unsigned flags, int call)
{
    const parray *w = &c->want[o];
    const op_entry *op = c->out_op[o];
    char what[160];
    snprintf(what, sizeof what, "graph %d output %s = %s (%s, call %d)", c->id, c->out_name[o],
             op ? op->name : "?", path_name(flags), call + 1);
    damo_dtype gt = damo_array_dtype(got);
    int ok = gt == w->t && damo_array_ndim(got) == w->ndim;
    for (int d = 0; ok && d < w->ndim; d++)
        ok = damo_array_shape(got)[d] == w->shape[d];
    if (!ok) {
        char gs[96] = "", ws[96] = "";
        size_t gl = 0, wl = 0;
        for (int d = 0; d < damo_array_ndim(got) && gl < sizeof gs; d++)
            gl += (size_t)snprintf(gs + gl, sizeof gs - gl, "%lld,", (long long)damo_array_shape(got)[d]);
        for (int d = 0; d < w->ndim && wl < sizeof ws; d++)
            wl += (size_t)snprintf(ws + wl, sizeof ws - wl, "%lld,", (long long)w->shape[d]);
        CHECK_MSG(0, "%s: %s (%s), NumPy %s (%s)", what, damo_dtype_name(gt), gs,
                  damo_dtype_name(w->t), ws);
        return 0;
    }
    void *buf = calloc((size_t)w->n + 1, damo_dtype_size(w->t));
    if (damo_array_read(got, buf) != DAMO_OK) {
        CHECK_MSG(0, "%s: read: %s", what, damo_ctx_errmsg(ctx));
        free(buf);
        return 0;
    }
    int bad = 0;
    size_t oi = op ? (size_t)(op - op_table) : 0;
    uint64_t bound = is_float(w->t) && op ? (uint64_t)op->ulps : 0;
    char msg[1024];
    size_t ml = 0;
    msg[0] = 0;
    for (int64_t i = 0; i < w->n; i++) {
        int same;
        if (is_float(w->t)) {
            double a = elem_f64(w->t, buf, i), b = elem_f64(w->t, w->data, i);
            if (bound == 0)
                same = (isnan(a) && isnan(b)) || (a == b && signbit(a) == signbit(b));
            else
                same = float_near(a, b, w->t, bound);
            if (bound && !isnan(a) && !isnan(b) && !isinf(a) && !isinf(b)) {
                uint64_t u = ulp_dist(a, b, w->t);
                int k = w->t == DAMO_FLOAT64;
                if (u > diff.max_ulps[oi][k])
                    diff.max_ulps[oi][k] = u;
            }
        } else {
            size_t sz = damo_dtype_size(w->t);
            same = !memcmp((char *)buf + (size_t)i * sz, (char *)w->data + (size_t)i * sz, sz);
        }
        if (!same) {
            char g1[40], w1[40], u1[64] = "";
            elem_text(w->t, buf, i, g1, sizeof g1);
            elem_text(w->t, w->data, i, w1, sizeof w1);
            double a = is_float(w->t) ? elem_f64(w->t, buf, i) : 0;
            double b = is_float(w->t) ? elem_f64(w->t, w->data, i) : 0;
            if (bound && isfinite(a) && isfinite(b))
                snprintf(u1, sizeof u1, " (%llu ulps, bound %llu)",
                         (unsigned long long)ulp_dist(a, b, w->t), (unsigned long long)bound);
            if (bad < 6 && ml < sizeof msg)
                ml += (size_t)snprintf(msg + ml, sizeof msg - ml, " [%lld] got %s want %s%s",
                                       (long long)i, g1, w1, u1);
            bad++;
        }
    }
    CHECK_MSG(!bad, "%s %s: %d of %lld elements differ:%s", what, damo_dtype_name(w->t), bad,
              (long long)w->n, msg);
    free(buf);
    return !bad;
}

/* Every graph runs with flags 0 and DEVICE_ONLY; one in NO_FUSION_EVERY
 * also runs unfused. Each unfused op is a program of its own, and PoCL
 * takes ~0.25 s to build one: with an empty kernel cache the unfused runs
 * of every graph would take minutes. */
#define NO_FUSION_EVERY 16

static const unsigned three_ways[] = {0, DAMO_FN_DEVICE_ONLY, DAMO_FN_NO_FUSION | DAMO_FN_DEVICE_ONLY};

static void run_case(gcase *c)
{
    c->g = damo_graph_new(ctx);
    diff.graphs++;
    int ok = build_case(c);
    for (int i = 0; ok && i < c->n_inputs; i++)
        ok = c->values[i] != NULL;
    int case_bad = !ok;
    for (int m = 0; ok && m < 3; m++) {
        if (m == 2 && c->id % NO_FUSION_EVERY)
            continue;
        damo_ctx_stats before, after;
        damo_ctx_get_stats(ctx, &before);
        damo_function *f = damo_function_simple(c->g, (size_t)c->n_inputs, c->inputs,
                                                (size_t)c->n_outputs, c->outputs, three_ways[m]);
        CHECK_MSG(f, "graph %d (%s): compile: %s", c->id, path_name(three_ways[m]),
                  damo_graph_errmsg(c->g));
        damo_arg args[8];
        for (int i = 0; i < c->n_inputs; i++)
            args[i] = DAMO_ARG(c->values[i]);
        /* a second call reuses the released outputs and pooled buffers; it
         * is compared only when the first call was right */
        int bad = !f;
        for (int call = 0; f && call < 2 && !bad; call++) {
            damo_array *res[16] = {NULL};
            damo_status st = damo_call(f, args, (size_t)c->n_inputs, res, (size_t)c->n_outputs);
            CHECK_MSG(st == DAMO_OK, "graph %d (%s): call %d: %s", c->id, path_name(three_ways[m]),
                      call + 1, damo_function_errmsg(f));
            bad = st != DAMO_OK;
            for (int o = 0; st == DAMO_OK && o < c->n_outputs; o++) {
                diff.outputs++;
                if (!compare_output(c, o, res[o], three_ways[m], call)) {
                    bad = 1;
                    diff.mismatches++;
                }
            }
            release_all(res, (size_t)c->n_outputs);
        }
        if (bad) {
            print_case(c);
            diff.printed++;
            case_bad = 1;
        }
        damo_function_free(f);
        damo_ctx_get_stats(ctx, &after);
        diff.builds[m] += after.builds - before.builds;
    }
    diff.graphs_failed += case_bad;
    for (int i = 0; i < c->n_inputs; i++)
        damo_array_release(c->values[i]);
    for (int o = 0; o < c->n_outputs; o++)
        free(c->want[o].data);
    damo_graph_free(c->g);
}

static void part2_differential(void)
{
    /* DAMO_NUMPY_CASES names another file made by the script (--graphs N) */
    const char *path = getenv("DAMO_NUMPY_CASES") ? getenv("DAMO_NUMPY_CASES")
                                                  : DAMO_TEST_DATA_DIR "/numpy_cases.txt";
    FILE *fp = fopen(path, "rb");
    CHECK_MSG(fp, "cannot open %s", path);
    if (!fp)
        return;
    fseek(fp, 0, SEEK_END);
    long size = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *text = malloc((size_t)size + 1);
    size_t got = fread(text, 1, (size_t)size, fp);
    fclose(fp);
    text[got] = '\0';
    /* one string per line */
    size_t n_lines = 0, cap = 1024;
    char **lines = malloc(cap * sizeof *lines);
    for (char *p = text; *p;) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        if (n_lines == cap)
            lines = realloc(lines, (cap *= 2) * sizeof *lines);
        lines[n_lines++] = p;
        p = nl ? nl + 1 : p + strlen(p);
    }
    int ordinal = 0;
    for (size_t i = 0; i < n_lines; i++) {
        if (strncmp(lines[i], "graph ", 6))
            continue;
        gcase *c = calloc(1, sizeof *c);
        c->id = atoi(lines[i] + 6);
        c->lines = &lines[i + 1];
        while (i + 1 < n_lines && strcmp(lines[i + 1], "end"))
            i++, c->n_lines++;
        if (ordinal++ % n_workers == worker)
            run_case(c);
        diff.in_file++;
        free(c);
    }
    if (!getenv("DAMO_NUMPY_CASES"))
        CHECK_MSG(diff.in_file >= 200, "only %d graphs in %s", diff.in_file, path);
    free(lines);
    free(text);
}

static void print_diff_summary(void)
{
    printf("differential: %d graphs (%d with a mismatch), %d outputs compared (%d mismatching), "
           "%d expected build errors\n",
           diff.graphs, diff.graphs_failed, diff.outputs, diff.mismatches, diff.errors);
    printf("programs built: %llu (flags 0), %llu (DEVICE_ONLY), %llu (NO_FUSION|DEVICE_ONLY)\n",
           (unsigned long long)diff.builds[0], (unsigned long long)diff.builds[1],
           (unsigned long long)diff.builds[2]);
    printf("largest ulp distance seen, float32/float64:");
    for (size_t k = 0; k < N_OPS; k++)
        if (op_table[k].ulps)
            printf(" %s %llu/%llu", op_table[k].name, (unsigned long long)diff.max_ulps[k][0],
                   (unsigned long long)diff.max_ulps[k][1]);
    printf("\n");
}

/* One process's share: Part 1 in worker 0, and its graphs of Part 2. */
static int run_share(void)
{
    char err[512];
    if (damo_ctx_new(&ctx, err, sizeof err) != DAMO_OK) {
        fprintf(stderr, "no device: %s\n", err);
        return 0;
    }
    if (worker == 0) {
        printf("device: %s\n", damo_ctx_device_name(ctx));
        item1_empty_broadcast_sibling();
        item2_integer_overflow_wraps();
        item3_integer_pow();
        item4_weak_ints_out_of_range();
        item5_nan_constants();
        item6_division_dtypes();
        item7_bool_int8();
        item8_bool_type_errors();
        item9_tanh();
        item10_log();
        regressions_from_differential();
    }
    part2_differential();
    damo_ctx_free(ctx);
    return 1;
}

/* What a worker process sends back through its pipe. */
typedef struct share_result {
    int ran, passed, failed;
    diff_stats diff;
} share_result;

/* Kernel builds dominate a run with an empty kernel cache (PoCL takes
 * ~0.2 s per program), so the graphs are shared among processes, one per
 * core (DAMO_NUMPY_JOBS overrides; 1 runs everything in this process).
 * Each worker opens its own context after the fork; its output is
 * collected and printed in worker order. */
static int run_workers(void)
{
    share_result total;
    memset(&total, 0, sizeof total);
    FILE *logs[16];
    int pipes[16][2];
    pid_t pids[16];
    for (int k = 0; k < n_workers; k++) {
        logs[k] = tmpfile();
        if (!logs[k] || pipe(pipes[k]) != 0) {
            fprintf(stderr, "cannot start worker %d\n", k);
            return 1;
        }
        fflush(NULL);
        pids[k] = fork();
        if (pids[k] == 0) {
            worker = k;
            dup2(fileno(logs[k]), 1);
            dup2(fileno(logs[k]), 2);
            setvbuf(stdout, NULL, _IONBF, 0);
            close(pipes[k][0]);
            share_result r;
            memset(&r, 0, sizeof r);
            r.ran = run_share();
            r.passed = check_passed_;
            r.failed = check_failed_;
            r.diff = diff;
            ssize_t w = write(pipes[k][1], &r, sizeof r);
            exit(w == (ssize_t)sizeof r ? 0 : 1);
        }
        close(pipes[k][1]);
    }
    for (int k = 0; k < n_workers; k++) {
        share_result r;
        memset(&r, 0, sizeof r);
        size_t got = 0;
        while (pids[k] > 0 && got < sizeof r) {
            ssize_t n = read(pipes[k][0], (char *)&r + got, sizeof r - got);
            if (n <= 0)
                break;
            got += (size_t)n;
        }
        int status = -1;
        if (pids[k] > 0)
            waitpid(pids[k], &status, 0);
        close(pipes[k][0]);
        /* the worker's messages, in order */
        char buf[4096];
        size_t n;
        rewind(logs[k]);
        while ((n = fread(buf, 1, sizeof buf, logs[k])) > 0)
            fwrite(buf, 1, n, stdout);
        fclose(logs[k]);
        /* a crash, or a sanitizer's report at exit, fails the test */
        CHECK_MSG(got == sizeof r && r.ran && WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "worker %d did not finish cleanly (%s %d)", k,
                  WIFSIGNALED(status) ? "signal" : "exit status",
                  WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
        total.passed += r.passed;
        total.failed += r.failed;
        total.diff.in_file = r.diff.in_file;
        total.diff.graphs += r.diff.graphs;
        total.diff.graphs_failed += r.diff.graphs_failed;
        total.diff.outputs += r.diff.outputs;
        total.diff.errors += r.diff.errors;
        total.diff.mismatches += r.diff.mismatches;
        for (int m = 0; m < 3; m++)
            total.diff.builds[m] += r.diff.builds[m];
        for (size_t o = 0; o < N_OPS; o++)
            for (int d = 0; d < 2; d++)
                if (r.diff.max_ulps[o][d] > total.diff.max_ulps[o][d])
                    total.diff.max_ulps[o][d] = r.diff.max_ulps[o][d];
    }
    diff = total.diff;
    check_passed_ += total.passed;
    check_failed_ += total.failed;
    return 0;
}

int main(void)
{
    const char *jobs = getenv("DAMO_NUMPY_JOBS");
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    n_workers = jobs ? atoi(jobs) : cpus > 4 ? 4 : (int)cpus;
    if (n_workers < 1 || n_workers > 16)
        n_workers = 1;
    printf("%d worker process%s\n", n_workers, n_workers > 1 ? "es" : "");
    if (n_workers == 1) {
        if (!run_share())
            return 1;
    } else if (run_workers()) {
        return 1;
    }
    print_diff_summary();
    return check_done();
}
