/* Rewrites and fusion: kernel counts, merging, constant folding,
 * multi-output steps, no-fusion mode and deterministic kernel source. */
#include <damo.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

#include "check.h"

static damo_ctx *ctx;

static damo_function *compile(damo_graph *g, size_t ni, damo_var **in, size_t no, damo_var **out,
                              unsigned flags)
{
    damo_function *f = damo_function_simple(g, ni, in, no, out, flags);
    CHECK_MSG(f, "compile: %s", damo_graph_errmsg(g));
    return f;
}

/* 1 / (k + exp(-x)) */
static damo_var *logistic(damo_graph *g, damo_var *x, double k)
{
    return damo_div(damo_float(g, 1), damo_add(damo_float(g, k), damo_exp(damo_neg(x))));
}

static void test_counts(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_var *x = damo_dmatrix(g, "x");
    /* the logistic is recognised as sigmoid: one op, one kernel */
    damo_var *sig = logistic(g, x, 1);
    damo_function *fsig = compile(g, 1, &x, 1, &sig, 0);
    CHECK_INT(damo_function_n_kernels(fsig), 1);
    CHECK_STR_HAS(damo_function_step_text(fsig, 0), "1 op (sigmoid)");
    CHECK_STR_HAS(damo_function_step_source(fsig, 0), "damo_sigmoid_f64");
    damo_function_free(fsig);
    /* with 2 instead of 1 it is not: neg, exp, add, div make one fused
     * kernel, or four without fusion */
    damo_var *s = logistic(g, x, 2);
    damo_function *f = compile(g, 1, &x, 1, &s, 0);
    damo_function *nf = compile(g, 1, &x, 1, &s, DAMO_FN_NO_FUSION);
    CHECK_INT(damo_function_n_kernels(f), 1);
    CHECK_INT(damo_function_n_kernels(nf), 4);
    CHECK_STR_HAS(damo_function_step_text(f, 0), "4 ops (neg, exp, add, true_div), 1 output");
    const char *src = damo_function_step_source(f, 0);
    CHECK_STR_HAS(src, "__kernel void damo_ew");
    CHECK_STR_HAS(src, "exp(a)");
    /* both compute the same values */
    const double v[] = {0, 1, -1, -2};
    damo_array *a = damo_array_from_data(ctx, DAMO_FLOAT64, 2, (int64_t[]){2, 2}, v);
    damo_arg arg = DAMO_ARG(a);
    damo_array *o1 = NULL, *o2 = NULL;
    CHECK(damo_call(f, &arg, 1, &o1, 1) == DAMO_OK && damo_call(nf, &arg, 1, &o2, 1) == DAMO_OK);
    double r1[4], r2[4];
    CHECK(damo_array_read(o1, r1) == DAMO_OK && damo_array_read(o2, r2) == DAMO_OK);
    CHECK(!memcmp(r1, r2, sizeof r1));
    CHECK_CLOSE(r1[1], 1 / (2 + exp(-1.0)), 1e-15, 0);
    damo_array_release(o1);
    damo_array_release(o2);
    damo_array_release(a);
    damo_function_free(f);
    damo_function_free(nf);
    damo_graph_free(g);
}

static void test_deterministic_source(void)
{
    /* the same graph built twice gives the same source and hits the
     * program cache instead of building again */
    damo_graph *g1 = damo_graph_new(ctx), *g2 = damo_graph_new(ctx);
    damo_var *x1 = damo_dvector(g1, "x"), *x2 = damo_dvector(g2, "other_name");
    damo_var *y1 = damo_tanh(damo_mul(x1, damo_float(g1, 3))), *y2 = damo_tanh(damo_mul(x2, damo_float(g2, 3)));
    damo_function *f1 = compile(g1, 1, &x1, 1, &y1, 0);
    damo_ctx_stats before, after;
    damo_ctx_get_stats(ctx, &before);
    damo_function *f2 = compile(g2, 1, &x2, 1, &y2, 0);
    damo_ctx_get_stats(ctx, &after);
    CHECK(f1 && f2 && !strcmp(damo_function_step_source(f1, 0), damo_function_step_source(f2, 0)));
    CHECK_INT(after.builds, before.builds);
    CHECK_INT(after.memory_hits, before.memory_hits + 1);
    damo_function_free(f1);
    damo_function_free(f2);
    damo_graph_free(g1);
    damo_graph_free(g2);
}

static void test_merge_and_fold(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_var *x = damo_dvector(g, "x");
    /* exp(x) built twice is merged: one exp in the kernel */
    damo_var *y = damo_add(damo_exp(x), damo_exp(x));
    /* (2 * 3) + 1 folds to the constant 7: no instruction for it */
    damo_var *c = damo_add(damo_mul(damo_float(g, 2), damo_float(g, 3)), damo_float(g, 1));
    damo_var *z = damo_mul(y, c);
    damo_function *f = compile(g, 1, &x, 1, &z, 0);
    const char *src = damo_function_step_source(f, 0);
    CHECK_INT(damo_function_n_kernels(f), 1);
    int exps = 0;
    for (const char *p = src; (p = strstr(p, "damo_exp_f64(")); p++)
        exps++;
    /* one definition of the helper plus one call */
    CHECK_INT(exps, 2);
    /* exp, exp + exp, that times the folded 7 */
    CHECK_STR_HAS(damo_function_step_text(f, 0), "3 ops (exp, add, mul)");
    const double v[] = {0, 1};
    damo_array *a = damo_array_from_data(ctx, DAMO_FLOAT64, 1, (int64_t[]){2}, v);
    damo_arg arg = DAMO_ARG(a);
    damo_array *o = NULL;
    CHECK(damo_call(f, &arg, 1, &o, 1) == DAMO_OK);
    double r[2];
    CHECK(damo_array_read(o, r) == DAMO_OK);
    CHECK_CLOSE(r[0], 14, 0, 0);
    CHECK_CLOSE(r[1], 14 * 2.718281828459045, 1e-15, 0);
    damo_array_release(o);
    damo_array_release(a);
    damo_function_free(f);
    damo_graph_free(g);
}

static void test_multi_output(void)
{
    /* the tutorial's diff, abs(diff), diff**2: one kernel, three outputs */
    damo_graph *g = damo_graph_new(ctx);
    damo_var *a, *b;
    CHECK(damo_dmatrices(g, "a, b", &a, &b) == DAMO_OK);
    damo_var *diff = damo_sub(a, b);
    damo_var *outs[] = {diff, damo_abs(diff), damo_sqr(diff)};
    damo_var *ins[] = {a, b};
    damo_function *f = compile(g, 2, ins, 3, outs, 0);
    CHECK_INT(damo_function_n_kernels(f), 1);
    const double av[] = {1, 1, 1, 1}, bv[] = {0, 1, 2, 3};
    damo_array *aa = damo_array_from_data(ctx, DAMO_FLOAT64, 2, (int64_t[]){2, 2}, av);
    damo_array *ba = damo_array_from_data(ctx, DAMO_FLOAT64, 2, (int64_t[]){2, 2}, bv);
    damo_arg args[] = {DAMO_ARG(aa), DAMO_ARG(ba)};
    damo_array *o[3] = {NULL, NULL, NULL};
    CHECK(damo_call(f, args, 2, o, 3) == DAMO_OK);
    /* the tutorial's printed values */
    const double want[3][4] = {{1, 0, -1, -2}, {1, 0, 1, 2}, {1, 0, 1, 4}};
    for (int k = 0; k < 3; k++) {
        double r[4];
        CHECK(o[k] && damo_array_read(o[k], r) == DAMO_OK);
        for (int i = 0; i < 4; i++)
            CHECK_CLOSE(r[i], want[k][i], 0, 0);
        damo_array_release(o[k]);
    }
    /* siblings sharing an input also share a kernel */
    damo_var *sib[] = {damo_exp(a), damo_log(a)};
    damo_function *fs = compile(g, 1, &a, 2, sib, 0);
    CHECK_INT(damo_function_n_kernels(fs), 1);
    /* a vector step and a matrix step do not fuse */
    damo_var *v = damo_dvector(g, "v");
    damo_var *mixed = damo_add(a, damo_exp(v));
    damo_var *mins[] = {a, v};
    damo_function *fm = compile(g, 2, mins, 1, &mixed, 0);
    CHECK_INT(damo_function_n_kernels(fm), 2);
    damo_array_release(aa);
    damo_array_release(ba);
    damo_function_free(f);
    damo_function_free(fs);
    damo_function_free(fm);
    damo_graph_free(g);
}

static void test_types_and_errors(void)
{
    damo_graph *g = damo_graph_new(ctx);
    /* static shape mismatch at build time names both operands */
    damo_var *p = damo_tensor(g, DAMO_FLOAT64, 1, (int64_t[]){3}, "p");
    damo_var *q = damo_tensor(g, DAMO_FLOAT64, 1, (int64_t[]){4}, "q");
    CHECK(!damo_add(p, q));
    CHECK_INT(damo_graph_errcode(g), DAMO_ERR_SHAPE);
    CHECK_STR_HAS(damo_graph_errmsg(g), "'p'");
    CHECK_STR_HAS(damo_graph_errmsg(g), "(4,)");
    /* NULL propagates through a chain without hiding the first error */
    CHECK(!damo_exp(damo_neg(damo_add(p, q))));
    CHECK_STR_HAS(damo_graph_errmsg(g), "'q'");
    /* bitwise ops refuse floats */
    CHECK(!damo_and(p, p));
    CHECK_INT(damo_graph_errcode(g), DAMO_ERR_TYPE);
    /* dtypes: NumPy promotion with weak literals */
    damo_var *fm = damo_fmatrix(g, "fm"), *iv = damo_ivector(g, "iv");
    CHECK_INT(damo_var_dtype(damo_mul(fm, damo_float(g, 0.5))), DAMO_FLOAT32);
    CHECK_INT(damo_var_dtype(damo_add(iv, damo_int(g, 1))), DAMO_INT32);
    CHECK_INT(damo_var_dtype(damo_add(iv, damo_float(g, 1))), DAMO_FLOAT64);
    CHECK_INT(damo_var_dtype(damo_add(fm, iv)), DAMO_FLOAT64);
    CHECK_INT(damo_var_dtype(damo_true_div(iv, iv)), DAMO_FLOAT64);
    CHECK_INT(damo_var_dtype(damo_lt(fm, iv)), DAMO_BOOL);
    /* static shapes broadcast: (3,) with (None, 1) gives (None, 3) */
    damo_var *col = damo_tensor(g, DAMO_FLOAT64, 2, (int64_t[]){DAMO_DIM_UNKNOWN, 1}, "col");
    damo_var *bc = damo_add(p, col);
    CHECK(bc && damo_var_ndim(bc) == 2 && damo_var_dim(bc, 0) == DAMO_DIM_UNKNOWN &&
          damo_var_dim(bc, 1) == 3);
    /* inputs with defaults must come last; compile-time error */
    damo_var *x = damo_dscalar(g, "x"), *y = damo_dscalar(g, "y");
    damo_var *z = damo_add(x, y);
    damo_array *one = damo_array_scalar(ctx, DAMO_FLOAT64, 1);
    damo_spec *spec = damo_spec_new(g);
    CHECK(damo_spec_input_default(spec, x, DAMO_ARG(one)) == DAMO_OK);
    CHECK(damo_spec_input(spec, y) == DAMO_ERR_INVALID);
    CHECK(damo_spec_output(spec, z) == DAMO_ERR_INVALID); /* the first error sticks */
    CHECK(!damo_compile(spec));
    CHECK_STR_HAS(damo_graph_errmsg(g), "'y'");
    damo_spec_free(spec);
    damo_array_release(one);
    damo_graph_free(g);
}

static void test_no_fp64(void)
{
    /* a device without fp64 (simulated): float64 graphs are refused with a
     * message naming the device and the alternatives; float32 works */
    setenv("DAMO_FAKE_NO_FP64", "1", 1);
    damo_ctx *c32;
    char err[512];
    CHECK(damo_ctx_new(&c32, err, sizeof err) == DAMO_OK);
    unsetenv("DAMO_FAKE_NO_FP64");
    CHECK(!damo_ctx_has_fp64(c32));
    damo_graph *g = damo_graph_new(c32);
    damo_var *x = damo_dvector(g, "x");
    damo_var *y = damo_exp(x);
    CHECK(!damo_function_simple(g, 1, &x, 1, &y, 0));
    CHECK_INT(damo_graph_errcode(g), DAMO_ERR_UNSUPPORTED);
    CHECK_STR_HAS(damo_graph_errmsg(g), damo_ctx_device_name(c32));
    CHECK_STR_HAS(damo_graph_errmsg(g), "float32");
    damo_var *xf = damo_fvector(g, "xf");
    damo_var *yf = damo_exp(xf);
    damo_function *f = damo_function_simple(g, 1, &xf, 1, &yf, 0);
    CHECK_MSG(f, "%s", damo_graph_errmsg(g));
    CHECK(!strstr(damo_function_step_source(f, 0), "fp64"));
    damo_function_free(f);
    damo_graph_free(g);
    damo_ctx_free(c32);
}

static void test_bad_device(void)
{
    damo_ctx *c = NULL;
    char err[512];
    CHECK(damo_ctx_new_on("no-such-device-xyz", &c, err, sizeof err) == DAMO_ERR_NO_DEVICE);
    CHECK(c == NULL);
    CHECK_STR_HAS(err, "no-such-device-xyz");
    setenv("DAMO_DEVICE", "7:7", 1);
    CHECK(damo_ctx_new(&c, err, sizeof err) == DAMO_ERR_NO_DEVICE);
    CHECK_STR_HAS(err, "DAMO_DEVICE");
    unsetenv("DAMO_DEVICE");
}

int main(void)
{
    char err[512];
    if (damo_ctx_new(&ctx, err, sizeof err) != DAMO_OK) {
        fprintf(stderr, "no device: %s\n", err);
        return 1;
    }
    test_counts();
    test_deterministic_source();
    test_merge_and_fold();
    test_multi_output();
    test_types_and_errors();
    test_no_fp64();
    test_bad_device();
    damo_ctx_free(ctx);
    return check_done();
}
