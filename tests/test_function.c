/* Functions end to end on the default device: the tutorial's logistic
 * section, broadcasting and strided inputs, and call-time errors. */
#include <damo.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static damo_ctx *ctx;
/* 0, or DAMO_FN_DEVICE_ONLY: the broadcasting and strided tests run once on
 * each path (their small inputs would otherwise run on the host only). */
static unsigned flags;

static damo_function *compile_fn(damo_graph *g, size_t ni, damo_var **in, damo_var *out)
{
    return damo_function_simple(g, ni, in, 1, &out, flags);
}

static damo_array *mat(int64_t r, int64_t c, const double *v)
{
    return damo_array_from_data(ctx, DAMO_FLOAT64, 2, (int64_t[]){r, c}, v);
}

/* Calls a one-input, one-output function; the caller releases the result. */
static damo_array *call1(damo_function *f, damo_array *a)
{
    damo_arg arg = DAMO_ARG(a);
    damo_array *out = NULL;
    damo_status st = damo_call(f, &arg, 1, &out, 1);
    CHECK_MSG(st == DAMO_OK, "call: %s", damo_function_errmsg(f));
    return out;
}

static void check_values(damo_array *a, const double *want, int n, double tol)
{
    double got[64];
    CHECK(a && damo_array_size(a) == n && damo_array_read(a, got) == DAMO_OK);
    for (int i = 0; a && i < n; i++)
        CHECK_CLOSE(got[i], want[i], 0, tol);
}

/* The tutorial, "Logistic Function": values as printed there (8 digits). */
static void test_logistic(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_var *x = damo_dmatrix(g, "x");
    damo_var *s = damo_div(damo_float(g, 1), damo_add(damo_float(g, 1), damo_exp(damo_neg(x))));
    damo_var *s2 = damo_div(damo_add(damo_float(g, 1), damo_tanh(damo_div(x, damo_float(g, 2)))),
                            damo_float(g, 2));
    CHECK(damo_var_dtype(s) == DAMO_FLOAT64 && damo_var_dtype(s2) == DAMO_FLOAT64);
    damo_function *f = damo_function_simple(g, 1, &x, 1, &s, 0);
    damo_function *f2 = damo_function_simple(g, 1, &x, 1, &s2, 0);
    CHECK_MSG(f && f2, "%s", damo_graph_errmsg(g));
    /* the whole logistic graph is one generated kernel */
    CHECK_INT(damo_function_n_kernels(f), 1);
    CHECK_INT(damo_function_n_kernels(f2), 1);
    const double in[] = {0, 1, -1, -2}, want[] = {0.5, 0.73105858, 0.26894142, 0.11920292};
    damo_array *a = mat(2, 2, in);
    damo_array *o = call1(f, a), *o2 = call1(f2, a);
    check_values(o, want, 4, 5e-9);
    check_values(o2, want, 4, 5e-9);
    /* NumPy's repr of the result, as the tutorial prints it */
    char *text = damo_array_to_string(o);
    CHECK_STR_HAS(text, "array([[0.5       , 0.73105858],");
    CHECK_STR_HAS(text, "[0.26894142, 0.11920292]])");
    free(text);
    /* float64 exp is damo's own (kernels/fmath.h), the same bits on the
     * host as in a kernel: four elements run on the host, with the
     * kernel's result, so the result does not depend on the array's size;
     * the float64 tanh of f2 is the device's, so it stays a kernel */
    damo_function *fd = damo_function_simple(g, 1, &x, 1, &s, DAMO_FN_DEVICE_ONLY);
    damo_array *o3 = call1(f, a), *o4 = fd ? call1(fd, a) : NULL, *o6 = call1(f2, a);
    check_values(o4, want, 4, 5e-9);
    CHECK(o3 && damo_array_on_host(o3) && !damo_array_on_device(o3));
    CHECK(o4 && damo_array_on_device(o4) && !damo_array_on_host(o4));
    CHECK(o6 && damo_array_on_device(o6) && !damo_array_on_host(o6));
    /* on the device, outputs stay there until read */
    double h[4], k[4];
    CHECK(o3 && o4 && damo_array_read(o3, h) == DAMO_OK && damo_array_read(o4, k) == DAMO_OK &&
          !memcmp(h, k, sizeof h));
    damo_array_release(o);
    damo_array_release(o3);
    damo_array_release(o4);
    damo_array_release(o6);
    damo_function_free(fd);
    /* exact small work with host inputs runs on the host */
    damo_var *lin = damo_add(damo_mul(x, damo_float(g, 2)), damo_float(g, 1));
    damo_function *fl = damo_function_simple(g, 1, &x, 1, &lin, 0);
    damo_array *o5 = fl ? call1(fl, a) : NULL;
    CHECK(o5 && damo_array_on_host(o5) && !damo_array_on_device(o5));
    const double lin_want[] = {1, 3, -1, -3};
    check_values(o5, lin_want, 4, 0);
    damo_array_release(o5);
    damo_function_free(fl);
    damo_array_release(o2);
    damo_array_release(a);
    damo_function_free(f);
    damo_function_free(f2);
    damo_graph_free(g);
}

/* x (2, 3) + row (3,) + column (2, 1), and a 0-d scalar, against values
 * worked by hand. */
static void test_broadcast(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_var *x = damo_dmatrix(g, "x"), *r = damo_dvector(g, "r");
    damo_var *c = damo_tensor(g, DAMO_FLOAT64, 2, (int64_t[]){DAMO_DIM_UNKNOWN, 1}, "c");
    damo_var *k = damo_dscalar(g, "k");
    damo_var *y = damo_mul(damo_add(damo_add(x, r), c), k);
    damo_var *ins[] = {x, r, c, k};
    damo_function *f = compile_fn(g, 4, ins, y);
    CHECK_MSG(f, "%s", damo_graph_errmsg(g));
    CHECK_INT(damo_function_n_kernels(f), 1);
    const double xv[] = {1, 2, 3, 4, 5, 6}, rv[] = {10, 20, 30}, cv[] = {100, 200};
    damo_array *xa = mat(2, 3, xv), *ca = mat(2, 1, cv);
    damo_array *ra = damo_array_from_data(ctx, DAMO_FLOAT64, 1, (int64_t[]){3}, rv);
    damo_arg args[] = {DAMO_ARG(xa), DAMO_ARG(ra), DAMO_ARG(ca), DAMO_FLOAT(2)};
    damo_array *out = NULL;
    CHECK_MSG(damo_call(f, args, 4, &out, 1) == DAMO_OK, "%s", damo_function_errmsg(f));
    const double want[] = {222, 244, 266, 428, 450, 472};
    check_values(out, want, 6, 0);
    CHECK(out && damo_array_ndim(out) == 2 && damo_array_shape(out)[0] == 2 &&
          damo_array_shape(out)[1] == 3);
    damo_array_release(out);

    /* runtime broadcasting of an unknown dimension of size 1 (NumPy) */
    const double x1[] = {1, 2, 3};
    damo_array *xb = mat(1, 3, x1);
    damo_array *cb = mat(2, 1, cv);
    damo_arg args2[] = {DAMO_ARG(xb), DAMO_ARG(ra), DAMO_ARG(cb), DAMO_FLOAT(1)};
    CHECK_MSG(damo_call(f, args2, 4, &out, 1) == DAMO_OK, "%s", damo_function_errmsg(f));
    const double want2[] = {111, 122, 133, 211, 222, 233};
    check_values(out, want2, 6, 0);
    damo_array_release(out);

    /* a runtime shape mismatch is an error naming the variables; the
     * function stays usable */
    const double bad[] = {1, 2, 3, 4};
    damo_array *rb = damo_array_from_data(ctx, DAMO_FLOAT64, 1, (int64_t[]){4}, bad);
    damo_arg args3[] = {DAMO_ARG(xa), DAMO_ARG(rb), DAMO_ARG(ca), DAMO_FLOAT(2)};
    CHECK(damo_call(f, args3, 4, &out, 1) == DAMO_ERR_SHAPE);
    CHECK_STR_HAS(damo_function_errmsg(f), "'x'");
    CHECK_STR_HAS(damo_function_errmsg(f), "'r'");
    CHECK_STR_HAS(damo_function_errmsg(f), "(2, 3)");
    CHECK(damo_call(f, args, 4, &out, 1) == DAMO_OK);
    check_values(out, want, 6, 0);
    damo_array_release(out);
    damo_array_release(rb);
    damo_array_release(xb);
    damo_array_release(cb);
    damo_array_release(xa);
    damo_array_release(ra);
    damo_array_release(ca);
    damo_function_free(f);
    damo_graph_free(g);
}

/* Strided inputs: a transposed view and a view with an offset. */
static void test_strided(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_var *a = damo_dmatrix(g, "a"), *b = damo_dmatrix(g, "b");
    damo_var *y = damo_sub(a, b);
    damo_var *ins[] = {a, b};
    damo_function *f = compile_fn(g, 2, ins, y);
    const double base[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    damo_array *m = damo_array_from_data(ctx, DAMO_FLOAT64, 1, (int64_t[]){12}, base);
    /* aT: the 3x2 transpose of [[0,1,2],[3,4,5]]; bo: [[7, 8], [9, 10], [11, ...]] */
    damo_array *at = damo_array_strided_view(m, 2, (int64_t[]){3, 2}, (int64_t[]){1, 3}, 0);
    damo_array *bo = damo_array_strided_view(m, 2, (int64_t[]){3, 2}, (int64_t[]){2, 1}, 6);
    CHECK(at && bo);
    damo_arg args[] = {DAMO_ARG(at), DAMO_ARG(bo)};
    damo_array *out = NULL;
    CHECK_MSG(damo_call(f, args, 2, &out, 1) == DAMO_OK, "%s", damo_function_errmsg(f));
    /* aT = [[0,3],[1,4],[2,5]], bo = [[6,7],[8,9],[10,11]] */
    const double want[] = {-6, -4, -7, -5, -8, -6};
    check_values(out, want, 6, 0);
    damo_array_release(out);
    /* out-of-bounds views are refused */
    CHECK(!damo_array_strided_view(m, 2, (int64_t[]){3, 2}, (int64_t[]){2, 1}, 7));
    CHECK_STR_HAS(damo_ctx_errmsg(ctx), "outside");
    damo_array_release(at);
    damo_array_release(bo);
    damo_array_release(m);
    damo_function_free(f);
    damo_graph_free(g);
}

static void test_call_errors(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_var *x = damo_dmatrix(g, "x");
    damo_var *y = damo_exp(x);
    damo_function *f = damo_function_simple(g, 1, &x, 1, &y, 0);
    const double v[] = {0, 0, 0, 0};
    damo_array *ok = mat(2, 2, v), *out = NULL;
    damo_array *vec = damo_array_from_data(ctx, DAMO_FLOAT64, 1, (int64_t[]){4}, v);
    float fv[4] = {0};
    damo_array *f32 = damo_array_from_data(ctx, DAMO_FLOAT32, 2, (int64_t[]){2, 2}, fv);
    int64_t iv[4] = {0};
    damo_array *i64 = damo_array_from_data(ctx, DAMO_INT64, 2, (int64_t[]){2, 2}, iv);

    /* too few and too many arguments */
    CHECK(damo_call(f, NULL, 0, &out, 1) == DAMO_ERR_INVALID);
    CHECK_STR_HAS(damo_function_errmsg(f), "'x'");
    damo_arg two[] = {DAMO_ARG(ok), DAMO_ARG(ok)};
    CHECK(damo_call(f, two, 2, &out, 1) == DAMO_ERR_INVALID);
    CHECK_STR_HAS(damo_function_errmsg(f), "too many");
    /* wrong rank */
    damo_arg r[] = {DAMO_ARG(vec)};
    CHECK(damo_call(f, r, 1, &out, 1) == DAMO_ERR_SHAPE);
    CHECK_STR_HAS(damo_function_errmsg(f), "'x'");
    CHECK_STR_HAS(damo_function_errmsg(f), "2 dimensions");
    /* float32 and int64 arrays convert to a float64 input (NumPy's safe
     * casting, as Aesara's filter accepts them) */
    damo_arg a32[] = {DAMO_ARG(f32)};
    CHECK(damo_call(f, a32, 1, &out, 1) == DAMO_OK);
    damo_array_release(out);
    damo_arg a64[] = {DAMO_ARG(i64)};
    CHECK(damo_call(f, a64, 1, &out, 1) == DAMO_OK);
    damo_array_release(out);
    /* a number for a matrix input, an unknown name */
    damo_arg num[] = {DAMO_FLOAT(1)};
    CHECK(damo_call(f, num, 1, &out, 1) == DAMO_ERR_SHAPE);
    damo_arg nm[] = {damo_named("nope", DAMO_ARG(ok))};
    CHECK(damo_call(f, nm, 1, &out, 1) == DAMO_ERR_NAME);
    CHECK_STR_HAS(damo_function_errmsg(f), "nope");
    /* still usable: exp(0) == 1 */
    damo_arg good[] = {DAMO_ARG(ok)};
    CHECK(damo_call(f, good, 1, &out, 1) == DAMO_OK);
    const double ones[] = {1, 1, 1, 1};
    check_values(out, ones, 4, 0);
    damo_array_release(out);

    /* an int input refuses 1.5 but takes 2 */
    damo_var *i = damo_iscalar(g, "i");
    damo_var *j = damo_add(i, damo_int(g, 1));
    CHECK(damo_var_dtype(j) == DAMO_INT32);
    damo_function *fi = damo_function_simple(g, 1, &i, 1, &j, 0);
    damo_arg half[] = {DAMO_FLOAT(1.5)};
    CHECK(damo_call(fi, half, 1, &out, 1) == DAMO_ERR_TYPE);
    CHECK_STR_HAS(damo_function_errmsg(fi), "'i'");
    /* a float64 array for an int32 input would lose precision */
    damo_array *d0 = damo_array_scalar(ctx, DAMO_FLOAT64, 2);
    damo_arg dz[] = {DAMO_ARG(d0)};
    CHECK(damo_call(fi, dz, 1, &out, 1) == DAMO_ERR_TYPE);
    CHECK_STR_HAS(damo_function_errmsg(fi), "'i'");
    CHECK_STR_HAS(damo_function_errmsg(fi), "float64");
    damo_array_release(d0);
    damo_arg twoi[] = {DAMO_FLOAT(2)};
    CHECK(damo_call(fi, twoi, 1, &out, 1) == DAMO_OK);
    double got;
    CHECK(damo_array_get_f64(out, 0, &got) == DAMO_OK && got == 3);
    damo_array_release(out);

    /* compile-time errors: an output needing an input that is missing */
    damo_var *z = damo_dmatrix(g, "z");
    damo_var *w = damo_add(x, z);
    CHECK(!damo_function_simple(g, 1, &x, 1, &w, 0));
    CHECK_STR_HAS(damo_graph_errmsg(g), "'z'");

    damo_array_release(ok);
    damo_array_release(vec);
    damo_array_release(f32);
    damo_array_release(i64);
    damo_function_free(f);
    damo_function_free(fi);
    damo_graph_free(g);
}

static void test_npy_roundtrip(void)
{
    /* a function output saved as .npy and loaded back feeds another call */
    damo_graph *g = damo_graph_new(ctx);
    damo_var *x = damo_dvector(g, "x");
    damo_var *y = damo_sqr(x);
    damo_function *f = damo_function_simple(g, 1, &x, 1, &y, 0);
    const double v[] = {1, 2, 3};
    damo_array *a = damo_array_from_data(ctx, DAMO_FLOAT64, 1, (int64_t[]){3}, v);
    damo_array *o = call1(f, a);
    char path[] = "/tmp/damo_test_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    CHECK(damo_array_save_npy(o, path) == DAMO_OK);
    damo_array *l = damo_array_load_npy(ctx, path);
    damo_array *o2 = l ? call1(f, l) : NULL;
    const double want[] = {1, 16, 81};
    check_values(o2, want, 3, 0);
    remove(path);
    damo_array_release(o);
    damo_array_release(o2);
    damo_array_release(l);
    damo_array_release(a);
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
    test_logistic();
    for (int pass = 0; pass < 2; pass++) {
        flags = pass ? DAMO_FN_DEVICE_ONLY : 0;
        test_broadcast();
        test_strided();
    }
    test_call_errors();
    test_npy_roundtrip();
    damo_ctx_free(ctx);
    return check_done();
}
