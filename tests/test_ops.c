/* Every elementwise op on the device (DAMO_FN_DEVICE_ONLY: the inputs are
 * small enough to run on the host otherwise), in float32 and float64, on edge
 * values (0, -0, subnormal, huge, +-inf, nan) against the C library and
 * NumPy's definitions. All ops of one dtype run as ONE fused kernel with
 * one output per op. */
#include <damo.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "check.h"

#define N 14
static damo_ctx *ctx;

/* Reference definitions, written independently of the op table. */
static double ref_sign(double a) { return isnan(a) ? a : a > 0 ? 1 : a < 0 ? -1 : 0; }
static double ref_max(double a, double b) { return isnan(a) || isnan(b) ? NAN : a > b ? a : b; }
static double ref_min(double a, double b) { return isnan(a) || isnan(b) ? NAN : a < b ? a : b; }
static double ref_sigmoid(double a) { return (double)(1.0L / (1.0L + expl(-(long double)a))); }
static double ref_softplus(double a)
{
    return a > 40 ? a : (double)log1pl(expl((long double)a));
}
/* NumPy's npy_divmod (numpy/_core/src/npymath/npy_math_internal.h.src) */
static double ref_divmod(double a, double b, double *modulus)
{
    double mod = fmod(a, b);
    if (!b) {
        *modulus = mod;
        return a / b;
    }
    double div = (a - mod) / b;
    if (mod) {
        if ((b < 0) != (mod < 0)) {
            mod += b;
            div -= 1.0;
        }
    } else {
        mod = copysign(0.0, b);
    }
    double floordiv;
    if (div) {
        floordiv = floor(div);
        if (div - floordiv > 0.5)
            floordiv += 1.0;
    } else {
        floordiv = copysign(0.0, a / b);
    }
    *modulus = mod;
    return floordiv;
}
static double ref_floordiv(double a, double b) { double m; return ref_divmod(a, b, &m); }
static double ref_mod(double a, double b) { double m; ref_divmod(a, b, &m); return m; }
static double ref_clip(double a) { return ref_min(ref_max(a, -1), 1); }

typedef struct ucase { const char *name; damo_var *(*op)(damo_var *); double (*d)(double);
                       float (*f)(float); } ucase;
typedef struct bcase { const char *name; damo_var *(*op)(damo_var *, damo_var *);
                       double (*ref)(double, double); } bcase;

static double d_add(double a, double b) { return a + b; }
static double d_sub(double a, double b) { return a - b; }
static double d_mul(double a, double b) { return a * b; }
static double d_div(double a, double b) { return a / b; }
static double d_lt(double a, double b) { return a < b; }
static double d_gt(double a, double b) { return a > b; }
static double d_le(double a, double b) { return a <= b; }
static double d_ge(double a, double b) { return a >= b; }
static double d_eq(double a, double b) { return a == b; }
static double d_ne(double a, double b) { return a != b; }
static double d_neg(double a) { return -a; }
static double d_sqr(double a) { return a * a; }
static double d_isnan(double a) { return isnan(a) != 0; }
static double d_isinf(double a) { return isinf(a) != 0; }

static const ucase unary[] = {
    {"neg", damo_neg, d_neg, NULL}, {"abs", damo_abs, fabs, fabsf},
    {"sign", damo_sign, ref_sign, NULL}, {"sqr", damo_sqr, d_sqr, NULL},
    {"exp", damo_exp, exp, expf}, {"expm1", damo_expm1, expm1, expm1f},
    {"log", damo_log, log, logf}, {"log1p", damo_log1p, log1p, log1pf},
    {"log2", damo_log2, log2, log2f}, {"log10", damo_log10, log10, log10f},
    {"sqrt", damo_sqrt, sqrt, sqrtf}, {"sin", damo_sin, sin, sinf}, {"cos", damo_cos, cos, cosf},
    {"tan", damo_tan, tan, tanf}, {"arcsin", damo_arcsin, asin, asinf},
    {"arccos", damo_arccos, acos, acosf}, {"arctan", damo_arctan, atan, atanf},
    {"sinh", damo_sinh, sinh, sinhf}, {"cosh", damo_cosh, cosh, coshf},
    {"tanh", damo_tanh, tanh, tanhf}, {"sigmoid", damo_sigmoid, ref_sigmoid, NULL},
    {"softplus", damo_softplus, ref_softplus, NULL}, {"erf", damo_erf, erf, erff},
    {"floor", damo_floor, floor, floorf}, {"ceil", damo_ceil, ceil, ceilf},
    {"round", damo_round, rint, rintf}, {"isnan", damo_isnan, d_isnan, NULL},
    {"isinf", damo_isinf, d_isinf, NULL},
};
static const bcase binary[] = {
    {"add", damo_add, d_add}, {"sub", damo_sub, d_sub}, {"mul", damo_mul, d_mul},
    {"true_div", damo_true_div, d_div}, {"int_div", damo_int_div, ref_floordiv},
    {"mod", damo_mod, ref_mod}, {"pow", damo_pow, pow}, {"arctan2", damo_arctan2, atan2},
    {"maximum", damo_maximum, ref_max}, {"minimum", damo_minimum, ref_min},
    {"lt", damo_lt, d_lt}, {"gt", damo_gt, d_gt}, {"le", damo_le, d_le}, {"ge", damo_ge, d_ge},
    {"eq", damo_eq, d_eq}, {"neq", damo_neq, d_ne},
};
#define NU (sizeof unary / sizeof unary[0])
#define NB (sizeof binary / sizeof binary[0])

/* Within `ulps` units in the last place of want (or both NaN, or equal
 * infinities); flushing a subnormal result to zero is allowed for float32,
 * where OpenCL makes denormals optional. */
static int near(double got, double want, damo_dtype t, int ulps)
{
    if (isnan(want) || isnan(got))
        return isnan(want) && isnan(got);
    if (isinf(want) || isinf(got))
        return got == want;
    double eps = t == DAMO_FLOAT32 ? FLT_EPSILON : DBL_EPSILON;
    double tiny = t == DAMO_FLOAT32 ? FLT_MIN : DBL_MIN * DBL_EPSILON;
    return fabs(got - want) <= ulps * eps * fabs(want) + tiny;
}

/* Compiles a function that always runs its kernels on the device. */
static damo_function *device_fn(damo_graph *g, size_t ni, damo_var **in, size_t no, damo_var **out)
{
    return damo_function_simple(g, ni, in, no, out, DAMO_FN_DEVICE_ONLY);
}

static void run_dtype(damo_dtype t)
{
    const double xs[N] = {0.0, -0.0, 0.5, -0.5, 1.0, -1.0, 2.5, -3.75,
                          t == DAMO_FLOAT32 ? 1e-40 : 1e-310, t == DAMO_FLOAT32 ? 1e30 : 1e300,
                          -7.0, INFINITY, -INFINITY, NAN};
    double ys[N];
    for (int i = 0; i < N; i++)
        ys[i] = xs[(i + 5) % N];
    damo_graph *g = damo_graph_new(ctx);
    damo_var *x = damo_tensor(g, t, 1, NULL, "x"), *y = damo_tensor(g, t, 1, NULL, "y");
    damo_var *outs[NU + NB + 3];
    size_t k = 0;
    for (size_t i = 0; i < NU; i++)
        outs[k++] = unary[i].op(x);
    for (size_t i = 0; i < NB; i++)
        outs[k++] = binary[i].op(x, y);
    outs[k++] = damo_clip(x, damo_float(g, -1), damo_float(g, 1));
    outs[k++] = damo_switch(damo_gt(x, damo_float(g, 0)), x, y);
    outs[k++] = damo_cast(x, DAMO_INT32);
    damo_var *ins[] = {x, y};
    damo_function *f = device_fn(g, 2, ins, k, outs);
    CHECK_MSG(f, "%s", damo_graph_errmsg(g));
    if (!f) {
        damo_graph_free(g);
        return;
    }
    CHECK_INT(damo_function_n_kernels(f), 1);
    float xf[N], yf[N];
    for (int i = 0; i < N; i++) {
        xf[i] = (float)xs[i];
        yf[i] = (float)ys[i];
    }
    int64_t n = N;
    damo_array *xa = damo_array_from_data(ctx, t, 1, &n, t == DAMO_FLOAT32 ? (void *)xf : (void *)xs);
    damo_array *ya = damo_array_from_data(ctx, t, 1, &n, t == DAMO_FLOAT32 ? (void *)yf : (void *)ys);
    damo_arg args[] = {DAMO_ARG(xa), DAMO_ARG(ya)};
    damo_array *res[NU + NB + 3] = {NULL};
    CHECK_MSG(damo_call(f, args, 2, res, k) == DAMO_OK, "%s", damo_function_errmsg(f));
    CHECK(res[0] && damo_array_on_device(res[0]) && !damo_array_on_host(res[0]));
    const char *tn = damo_dtype_name(t);
    for (size_t o = 0; o < k && res[0]; o++) {
        for (int i = 0; i < N; i++) {
            double got, a = t == DAMO_FLOAT32 ? xf[i] : xs[i], b = t == DAMO_FLOAT32 ? yf[i] : ys[i];
            CHECK(damo_array_get_f64(res[o], i, &got) == DAMO_OK);
            double want;
            const char *name;
            int ulps = 4;
            if (o < NU) {
                name = unary[o].name;
                want = t == DAMO_FLOAT32 && unary[o].f ? (double)unary[o].f((float)a) : unary[o].d(a);
                ulps = o >= 12 && o <= 22 ? 16 : 4; /* OpenCL's bounds for trig/hyperbolic/erf */
            } else if (o < NU + NB) {
                name = binary[o - NU].name;
                want = binary[o - NU].ref(a, b);
                ulps = 16;
            } else if (o == NU + NB) {
                name = "clip";
                want = ref_clip(a);
            } else if (o == NU + NB + 1) {
                name = "switch";
                want = a > 0 ? a : b;
            } else {
                name = "cast int32"; /* saturating, NaN -> 0 */
                want = isnan(a) ? 0 : a >= 2147483647.0 ? 2147483647.0
                                    : a <= -2147483648.0 ? -2147483648.0 : trunc(a);
            }
            if (t == DAMO_FLOAT32 && o < NU + NB && damo_var_dtype(outs[o]) == DAMO_FLOAT32)
                want = (double)(float)want;
            CHECK_MSG(near(got, want, t, ulps), "%s %s(%g, %g) = %.17g, reference %.17g", tn, name,
                      a, b, got, want);
        }
    }
    for (size_t o = 0; o < k; o++)
        damo_array_release(res[o]);
    damo_array_release(xa);
    damo_array_release(ya);
    damo_function_free(f);
    damo_graph_free(g);
}

/* Integer semantics against NumPy 2.4.6 on int32 a = [7, -7, 7, -7, 0, 5],
 * b = [2, 2, -2, -2, 3, 0]. */
static void run_int(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_var *a = damo_ivector(g, "a"), *b = damo_ivector(g, "b");
    damo_var *outs[] = {damo_int_div(a, b), damo_mod(a, b), damo_and(a, b), damo_or(a, b),
                        damo_xor(a, b), damo_not(a), damo_abs(a), damo_sign(a), damo_neg(a),
                        damo_maximum(a, b)};
    const int want[][6] = {
        {3, -4, -4, 3, 0, 0},      /* np.floor_divide (x // 0 == 0) */
        {1, 1, -1, -1, 0, 0},      /* np.mod */
        {2, 0, 6, -8, 0, 0},       /* np.bitwise_and */
        {7, -5, -1, -1, 3, 5},     /* np.bitwise_or */
        {5, -5, -7, 7, 3, 5},      /* np.bitwise_xor */
        {-8, 6, -8, 6, -1, -6},    /* np.invert */
        {7, 7, 7, 7, 0, 5}, {1, -1, 1, -1, 0, 1}, {-7, 7, -7, 7, 0, -5}, {7, 2, 7, -2, 3, 5},
    };
    damo_var *ins[] = {a, b};
    damo_function *f = device_fn(g, 2, ins, 10, outs);
    CHECK_MSG(f, "%s", damo_graph_errmsg(g));
    const int32_t av[] = {7, -7, 7, -7, 0, 5}, bv[] = {2, 2, -2, -2, 3, 0};
    int64_t n = 6;
    damo_array *aa = damo_array_from_data(ctx, DAMO_INT32, 1, &n, av);
    damo_array *ba = damo_array_from_data(ctx, DAMO_INT32, 1, &n, bv);
    damo_arg args[] = {DAMO_ARG(aa), DAMO_ARG(ba)};
    damo_array *res[10] = {NULL};
    CHECK(f && damo_call(f, args, 2, res, 10) == DAMO_OK);
    for (int o = 0; o < 10 && res[0]; o++) {
        int32_t got[6];
        CHECK(damo_array_dtype(res[o]) == DAMO_INT32 && damo_array_read(res[o], got) == DAMO_OK);
        for (int i = 0; i < 6; i++)
            CHECK_MSG(got[i] == want[o][i], "int op %d at %d: %d, numpy %d", o, i, got[i], want[o][i]);
        damo_array_release(res[o]);
    }
    damo_array_release(aa);
    damo_array_release(ba);
    damo_function_free(f);
    damo_graph_free(g);
}

int main(void)
{
    char err[512];
    if (damo_ctx_new(&ctx, err, sizeof err) != DAMO_OK) {
        fprintf(stderr, "no device: %s\n", err);
        return 1;
    }
    run_dtype(DAMO_FLOAT64);
    run_dtype(DAMO_FLOAT32);
    run_int();
    damo_ctx_free(ctx);
    return check_done();
}
