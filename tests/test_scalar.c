/* Scalar layer: dtype promotion against NumPy's table, Aesara's float
 * upgrade, and the host implementations against libm and NumPy values. */
#include <float.h>
#include <math.h>

#include "check.h"
#include "common/dtype.h"
#include "scalar/program.h"

enum {
    DT_bool = DAMO_BOOL, DT_int8 = DAMO_INT8, DT_int16 = DAMO_INT16, DT_int32 = DAMO_INT32,
    DT_int64 = DAMO_INT64, DT_uint8 = DAMO_UINT8, DT_uint16 = DAMO_UINT16,
    DT_uint32 = DAMO_UINT32, DT_uint64 = DAMO_UINT64, DT_float32 = DAMO_FLOAT32,
    DT_float64 = DAMO_FLOAT64
};

/* np.result_type(a, b) for every pair in damo_dtype order, NumPy 2.4.6. */
static const int result_type[11][11] = {
{DT_bool, DT_int8, DT_int16, DT_int32, DT_int64, DT_uint8, DT_uint16, DT_uint32, DT_uint64, DT_float32, DT_float64},
{DT_int8, DT_int8, DT_int16, DT_int32, DT_int64, DT_int16, DT_int32, DT_int64, DT_float64, DT_float32, DT_float64},
{DT_int16, DT_int16, DT_int16, DT_int32, DT_int64, DT_int16, DT_int32, DT_int64, DT_float64, DT_float32, DT_float64},
{DT_int32, DT_int32, DT_int32, DT_int32, DT_int64, DT_int32, DT_int32, DT_int64, DT_float64, DT_float64, DT_float64},
{DT_int64, DT_int64, DT_int64, DT_int64, DT_int64, DT_int64, DT_int64, DT_int64, DT_float64, DT_float64, DT_float64},
{DT_uint8, DT_int16, DT_int16, DT_int32, DT_int64, DT_uint8, DT_uint16, DT_uint32, DT_uint64, DT_float32, DT_float64},
{DT_uint16, DT_int32, DT_int32, DT_int32, DT_int64, DT_uint16, DT_uint16, DT_uint32, DT_uint64, DT_float32, DT_float64},
{DT_uint32, DT_int64, DT_int64, DT_int64, DT_int64, DT_uint32, DT_uint32, DT_uint32, DT_uint64, DT_float64, DT_float64},
{DT_uint64, DT_float64, DT_float64, DT_float64, DT_float64, DT_uint64, DT_uint64, DT_uint64, DT_uint64, DT_float64, DT_float64},
{DT_float32, DT_float32, DT_float32, DT_float64, DT_float64, DT_float32, DT_float32, DT_float64, DT_float64, DT_float32, DT_float64},
{DT_float64, DT_float64, DT_float64, DT_float64, DT_float64, DT_float64, DT_float64, DT_float64, DT_float64, DT_float64, DT_float64},
};

static void test_promotion(void)
{
    for (int a = 0; a < DAMO_NUM_DTYPES; a++)
        for (int b = 0; b < DAMO_NUM_DTYPES; b++)
            CHECK_MSG((int)damo_dtype_promote(a, b) == result_type[a][b], "%s + %s -> %s, NumPy %s",
                      damo_dtype_name(a), damo_dtype_name(b),
                      damo_dtype_name(damo_dtype_promote(a, b)),
                      damo_dtype_name(result_type[a][b]));
    /* NEP 50 (np.result_type(np.dtype(t), 1) and (..., 1.0), NumPy 2.4.6):
     * an int literal keeps the array's dtype (bool becomes int64), a float
     * literal keeps float dtypes and turns the rest into float64. */
    for (int t = 0; t < DAMO_NUM_DTYPES; t++) {
        damo_dtype wi = t == DAMO_BOOL ? DAMO_INT64 : (damo_dtype)t;
        damo_dtype wf = t == DAMO_FLOAT32 ? DAMO_FLOAT32 : DAMO_FLOAT64;
        CHECK_INT(dtype_promote_weak(t, WEAK_INT), wi);
        CHECK_INT(dtype_promote_weak(t, WEAK_FLOAT), wf);
    }
    /* Aesara's upgrade_to_float (aesara/scalar/basic.py): small ints to
     * float32, 32- and 64-bit ints to float64. */
    CHECK_INT(dtype_to_float(DAMO_INT8), DAMO_FLOAT32);
    CHECK_INT(dtype_to_float(DAMO_UINT16), DAMO_FLOAT32);
    CHECK_INT(dtype_to_float(DAMO_INT32), DAMO_FLOAT64);
    CHECK_INT(dtype_to_float(DAMO_UINT64), DAMO_FLOAT64);
    CHECK_INT(dtype_to_float(DAMO_FLOAT32), DAMO_FLOAT32);
}

static void test_rules(void)
{
    op_types t;
    damo_err e;
    err_clear(&e);
    op_operand i32 = {DAMO_INT32, WEAK_NONE}, i64 = {DAMO_INT64, WEAK_NONE},
               f32 = {DAMO_FLOAT32, WEAK_NONE}, wf = {DAMO_FLOAT64, WEAK_FLOAT},
               wi = {DAMO_INT64, WEAK_INT};
    /* Aesara: iscalar / iscalar is float64; state (int64) + inc (int32) int64 */
    CHECK(op_infer(SOP_TRUE_DIV, (op_operand[]){i32, i32}, 0, &t, &e) == DAMO_OK &&
          t.out == DAMO_FLOAT64);
    CHECK(op_infer(SOP_ADD, (op_operand[]){i64, i32}, 0, &t, &e) == DAMO_OK && t.out == DAMO_INT64);
    /* 1.0 * fmatrix stays float32; 1 + iscalar stays int32 */
    CHECK(op_infer(SOP_MUL, (op_operand[]){wf, f32}, 0, &t, &e) == DAMO_OK && t.out == DAMO_FLOAT32);
    CHECK(op_infer(SOP_ADD, (op_operand[]){wi, i32}, 0, &t, &e) == DAMO_OK && t.out == DAMO_INT32);
    CHECK(op_infer(SOP_ADD, (op_operand[]){wi, wf}, 0, &t, &e) == DAMO_OK && t.weak == WEAK_FLOAT);
    CHECK(op_infer(SOP_LT, (op_operand[]){f32, i32}, 0, &t, &e) == DAMO_OK && t.out == DAMO_BOOL &&
          t.compute == DAMO_FLOAT64);
    CHECK(op_infer(SOP_EXP, (op_operand[]){{DAMO_INT8, WEAK_NONE}}, 0, &t, &e) == DAMO_OK &&
          t.out == DAMO_FLOAT32);
    CHECK(op_infer(SOP_AND, (op_operand[]){f32, i32}, 0, &t, &e) == DAMO_ERR_TYPE);
    CHECK_STR_HAS(e.msg, "and");
    CHECK_STR_HAS(e.msg, "float32");
}

/* Evaluates a unary or binary op on doubles through the host table. */
static double ev(scalar_op op, damo_dtype t, double a, double b)
{
    hval x = hval_from_double(t, a), y = hval_from_double(t, b), z = {0};
    return hval_to_double(t, op_eval(op, t, x, y, z));
}

/* Equal values with equal signs of zero; NaNs equal whatever their sign. */
static int same(double a, double b)
{
    return isnan(a) ? isnan(b) : a == b && !signbit(a) == !signbit(b);
}

static void test_host_float(void)
{
    /* Against libm directly, on edge values, in both precisions. */
    static const double vals[] = {0.0, -0.0, 0.5, -0.5, 1.0, -1.0, 2.5, -3.75, 1e-310, 1e300,
                                  -1e300, INFINITY, -INFINITY, NAN};
    struct { scalar_op op; double (*d)(double); float (*f)(float); } un[] = {
        {SOP_EXP, exp, expf}, {SOP_EXPM1, expm1, expm1f}, {SOP_LOG, log, logf},
        {SOP_LOG1P, log1p, log1pf}, {SOP_LOG2, log2, log2f}, {SOP_LOG10, log10, log10f},
        {SOP_SQRT, sqrt, sqrtf}, {SOP_SIN, sin, sinf}, {SOP_COS, cos, cosf}, {SOP_TAN, tan, tanf},
        {SOP_ARCSIN, asin, asinf}, {SOP_ARCCOS, acos, acosf}, {SOP_ARCTAN, atan, atanf},
        {SOP_SINH, sinh, sinhf}, {SOP_COSH, cosh, coshf}, {SOP_TANH, tanh, tanhf},
        {SOP_ERF, erf, erff}, {SOP_FLOOR, floor, floorf}, {SOP_CEIL, ceil, ceilf},
        {SOP_ROUND, rint, rintf}, {SOP_ABS, fabs, fabsf},
    };
    for (size_t k = 0; k < sizeof un / sizeof un[0]; k++)
        for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
            double v = vals[i];
            double got = ev(un[k].op, DAMO_FLOAT64, v, 0), want = un[k].d(v);
            /* float64 FMATH ops are kernels/fmath.h's (under 1 ulp, like
             * the C library's; test_fmath bounds them) */
            int own = (op_get(un[k].op)->flags & FMATH) && isfinite(want) && want != 0;
            CHECK_MSG(same(got, want) || (own && fabs(got - want) <= fabs(want) * 0x1p-52),
                      "%s(%g) = %.17g, libm %.17g", op_get(un[k].op)->name, v, got, want);
            float fv = (float)v;
            double fg = ev(un[k].op, DAMO_FLOAT32, fv, 0), fw = un[k].f(fv);
            CHECK_MSG(same(fg, fw), "%s(float %g) = %.9g, libm %.9g",
                      op_get(un[k].op)->name, (double)fv, fg, fw);
        }
    /* numpy values: np.round([0.5, 1.5, 2.5, -0.5, -1.5]) -> [0, 2, 2, -0, -2] */
    CHECK(ev(SOP_ROUND, DAMO_FLOAT64, 0.5, 0) == 0 && ev(SOP_ROUND, DAMO_FLOAT64, 2.5, 0) == 2 &&
          ev(SOP_ROUND, DAMO_FLOAT64, -1.5, 0) == -2);
    /* np.sign([-2, -0., 0., 3, nan]) -> [-1, 0, 0, 1, nan] */
    CHECK(ev(SOP_SIGN, DAMO_FLOAT64, -2, 0) == -1 && ev(SOP_SIGN, DAMO_FLOAT64, 3, 0) == 1 &&
          ev(SOP_SIGN, DAMO_FLOAT64, -0.0, 0) == 0 && isnan(ev(SOP_SIGN, DAMO_FLOAT64, NAN, 0)));
    /* np.maximum([nan, 1, 2], [1, nan, 3]) -> [nan, nan, 3] */
    CHECK(isnan(ev(SOP_MAXIMUM, DAMO_FLOAT64, NAN, 1)) && isnan(ev(SOP_MAXIMUM, DAMO_FLOAT64, 1, NAN)) &&
          ev(SOP_MAXIMUM, DAMO_FLOAT64, 2, 3) == 3);
    /* np.mod and np.floor_divide on a = [7.5, -7.5, 7.5, -7.5, 0, -0., 5, inf, -3],
     * b = [2, 2, -2, -2, 3, 3, 0, 3, inf] (NumPy 2.4.6) */
    static const double fa[] = {7.5, -7.5, 7.5, -7.5, 0.0, -0.0, 5.0, INFINITY, -3.0};
    static const double fb[] = {2.0, 2.0, -2.0, -2.0, 3.0, 3.0, 0.0, 3.0, INFINITY};
    static const double fmod_np[] = {1.5, 0.5, -0.5, -1.5, 0.0, 0.0, NAN, NAN, INFINITY};
    static const double fdiv_np[] = {3.0, -4.0, -4.0, 3.0, 0.0, -0.0, INFINITY, NAN, -1.0};
    for (int i = 0; i < 9; i++) {
        double m = ev(SOP_MOD, DAMO_FLOAT64, fa[i], fb[i]), q = ev(SOP_INT_DIV, DAMO_FLOAT64, fa[i], fb[i]);
        CHECK_MSG(same(m, fmod_np[i]),
                  "mod(%g, %g) = %g, numpy %g", fa[i], fb[i], m, fmod_np[i]);
        CHECK_MSG(same(q, fdiv_np[i]),
                  "floor_divide(%g, %g) = %g, numpy %g", fa[i], fb[i], q, fdiv_np[i]);
    }
    /* np.logaddexp(0, x) for x = -800, -30, 0, 1, 30, 800 */
    static const double sx[] = {-800, -30, 0, 1, 30, 800};
    static const double sp[] = {0.0, 9.357622968839737e-14, 0.6931471805599453,
                                1.3132616875182228, 30.000000000000092, 800.0};
    for (int i = 0; i < 6; i++)
        CHECK_CLOSE(ev(SOP_SOFTPLUS, DAMO_FLOAT64, sx[i], 0), sp[i], 1e-15, 0);
    CHECK_CLOSE(ev(SOP_SIGMOID, DAMO_FLOAT64, -1, 0), 0.2689414213699951, 1e-16, 0);
    CHECK(ev(SOP_SIGMOID, DAMO_FLOAT64, -INFINITY, 0) == 0 && ev(SOP_SIGMOID, DAMO_FLOAT64, INFINITY, 0) == 1);
    /* np.clip([nan, -1, 0.5, 2], 0, 1) -> [nan, 0, 0.5, 1] */
    hval z = hval_from_double(DAMO_FLOAT64, 0), o = hval_from_double(DAMO_FLOAT64, 1);
    CHECK(isnan(op_eval(SOP_CLIP, DAMO_FLOAT64, hval_from_double(DAMO_FLOAT64, NAN), z, o).f64));
    CHECK(op_eval(SOP_CLIP, DAMO_FLOAT64, hval_from_double(DAMO_FLOAT64, 2), z, o).f64 == 1);
}

static void test_host_int(void)
{
    /* np.floor_divide / np.mod on int8 a = [7, -7, 7, -7, 0, 5, -128],
     * b = [2, 2, -2, -2, 3, 0, -1] (NumPy 2.4.6; x // 0 and x % 0 are 0) */
    static const int a[] = {7, -7, 7, -7, 0, 5, -128}, b[] = {2, 2, -2, -2, 3, 0, -1};
    static const int q_np[] = {3, -4, -4, 3, 0, 0, -128}, m_np[] = {1, 1, -1, -1, 0, 0, 0};
    for (int i = 0; i < 7; i++) {
        CHECK_MSG(ev(SOP_INT_DIV, DAMO_INT8, a[i], b[i]) == q_np[i], "%d // %d", a[i], b[i]);
        CHECK_MSG(ev(SOP_MOD, DAMO_INT8, a[i], b[i]) == m_np[i], "%d %% %d", a[i], b[i]);
    }
    /* uint8: 250 + 10 wraps to 4; -uint8(1) is 255 */
    CHECK(ev(SOP_ADD, DAMO_UINT8, 250, 10) == 4);
    CHECK(ev(SOP_NEG, DAMO_UINT8, 1, 0) == 255);
    CHECK(ev(SOP_ABS, DAMO_INT32, -5, 0) == 5);
    CHECK(ev(SOP_POW, DAMO_INT64, 3, 4) == 81);
    CHECK(ev(SOP_NOT, DAMO_INT8, 5, 0) == -6);
    CHECK(ev(SOP_NOT, DAMO_BOOL, 1, 0) == 0 && ev(SOP_NOT, DAMO_BOOL, 0, 0) == 1);
    CHECK(ev(SOP_XOR, DAMO_INT32, 6, 3) == 5);
    /* saturating float -> int conversion, NaN -> 0 (OpenCL convert_*_sat) */
    hval v = hval_from_double(DAMO_INT8, 300.0);
    CHECK_INT(v.i, 127);
    CHECK_INT(hval_from_double(DAMO_INT8, -1.9).i, -1);
    CHECK_INT(hval_from_double(DAMO_INT32, NAN).i, 0);
    CHECK(hval_from_double(DAMO_UINT64, 1e30).u == UINT64_MAX);
    CHECK_INT(hval_from_double(DAMO_INT64, -1e30).i, INT64_MIN);
}

static void test_program(void)
{
    /* 1 / (1 + exp(-x)) as a program (the constant 1 an input broadcast
     * everywhere), evaluated on the host with a broadcast (stride 0) input,
     * against the tutorial's values. */
    sprog p;
    sprog_init(&p);
    int x = sprog_add_input(&p, DAMO_FLOAT64);
    int one = sprog_add_input(&p, DAMO_FLOAT64);
    op_types f64 = {DAMO_FLOAT64, DAMO_FLOAT64, WEAK_NONE, {DAMO_FLOAT64, DAMO_FLOAT64, DAMO_FLOAT64}};
    int n = sprog_add_instr(&p, SOP_NEG, &f64, 1, (sp_ref[]){{REF_INPUT, x}});
    int e = sprog_add_instr(&p, SOP_EXP, &f64, 1, (sp_ref[]){{REF_INSTR, n}});
    int a = sprog_add_instr(&p, SOP_ADD, &f64, 2, (sp_ref[]){{REF_INPUT, one}, {REF_INSTR, e}});
    int d = sprog_add_instr(&p, SOP_TRUE_DIV, &f64, 2, (sp_ref[]){{REF_INPUT, one}, {REF_INSTR, a}});
    sprog_add_output(&p, d);
    sprog_add_output(&p, n);
    double in[2] = {0, -1}, c1 = 1, out[4], neg[4];
    int64_t shape[] = {2, 2}, in_strides[] = {1, 0}, zero[] = {0, 0}, out_strides[] = {2, 1};
    sp_view iv[] = {{in, in_strides, 0}, {&c1, zero, 0}};
    sp_view ov[] = {{out, out_strides, 0}, {neg, out_strides, 0}};
    CHECK(sprog_eval(&p, NULL, 2, shape, iv, ov) == DAMO_OK);
    CHECK_CLOSE(out[0], 0.5, 0, 0);
    CHECK_CLOSE(out[1], 0.5, 0, 0);
    CHECK_CLOSE(out[2], 0.26894142, 0, 5e-9);
    CHECK_CLOSE(out[3], 0.26894142, 0, 5e-9);
    CHECK(neg[2] == 1 && neg[0] == 0);
    CHECK(sprog_uses_fp64(&p));
    /* float64 exp is kernels/fmath.h's, exact; float32's is not */
    CHECK(sprog_exact(&p, 1));
    sprog p32;
    sprog_init(&p32);
    op_types f32 = {DAMO_FLOAT32, DAMO_FLOAT32, WEAK_NONE, {DAMO_FLOAT32, DAMO_FLOAT32, DAMO_FLOAT32}};
    int x32 = sprog_add_input(&p32, DAMO_FLOAT32);
    sprog_add_output(&p32, sprog_add_instr(&p32, SOP_EXP, &f32, 1, (sp_ref[]){{REF_INPUT, x32}}));
    CHECK(!sprog_exact(&p32, 1));
    sprog_free(&p32);
    /* the part computing only the second output reads only x */
    sprog q;
    int map[2] = {-1, -1};
    CHECK(sprog_subset(&p, (const unsigned char[]){0, 1}, &q, map, NULL) == DAMO_OK);
    CHECK_INT(q.n_in, 1);
    CHECK_INT(q.n_instr, 1);
    CHECK_INT(q.n_out, 1);
    CHECK_INT(map[0], x);
    CHECK(sprog_exact(&q, 0));
    sprog_free(&q);
    sprog_free(&p);
}

int main(void)
{
    test_promotion();
    test_rules();
    test_host_float();
    test_host_int();
    test_program();
    return check_done();
}
