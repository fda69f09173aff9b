/* Kernel layouts on the device: vector kernels (a work-item per 64 bytes,
 * an element-by-element rest) for every tail length 0..64 past a multiple
 * of the vector, in float32 and float64, with inputs by value, from a 0-d
 * device array, and contiguous; element kernels with odd and negative
 * strides; zero-copy inputs and reads straight into the caller's memory. */
#include <damo.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static damo_ctx *ctx;

static double xval(int64_t i) { return (double)((i * 37) % 101) * 0.03125 - 1.5; }

/* y = exp(x * a + b) - x (a a C number, b a 0-d device array) and
 * z = maximum(x, 0.25): vectorizable programs, checked on every element
 * for n = base + tail, tail = 0..64. */
static void test_vector_tails(damo_dtype t)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_var *x = damo_tensor(g, t, 1, NULL, "x"), *a = damo_tensor(g, t, 0, NULL, "a");
    damo_var *b = damo_tensor(g, t, 0, NULL, "b");
    damo_var *outs[] = {damo_sub(damo_exp(damo_add(damo_mul(x, a), b)), x),
                        damo_maximum(x, damo_float(g, 0.25))};
    damo_var *ins[] = {x, a, b};
    damo_function *f = damo_function_simple(g, 3, ins, 2, outs, DAMO_FN_DEVICE_ONLY);
    CHECK_MSG(f, "%s", damo_graph_errmsg(g));
    int vw = t == DAMO_FLOAT64 ? 8 : 16;
    damo_array *bd = damo_array_scalar(ctx, t, 0.125);
    CHECK(damo_array_to_device(bd) == DAMO_OK);
    int bad = 0;
    for (int tail = 0; tail <= 64 && f; tail++) {
        int64_t n = 8 * vw + tail;
        unsigned char *xs = malloc((size_t)n * 8), *y = malloc((size_t)n * 8), *z = malloc((size_t)n * 8);
        for (int64_t i = 0; i < n; i++) {
            if (t == DAMO_FLOAT64)
                ((double *)xs)[i] = xval(i);
            else
                ((float *)xs)[i] = (float)xval(i);
        }
        damo_array *xa = damo_array_from_data(ctx, t, 1, &n, xs), *o[2] = {NULL, NULL};
        damo_arg args[] = {DAMO_ARG(xa), DAMO_FLOAT(0.5), DAMO_ARG(bd)};
        CHECK(damo_call(f, args, 3, o, 2) == DAMO_OK);
        CHECK(o[0] && damo_array_read(o[0], y) == DAMO_OK && damo_array_read(o[1], z) == DAMO_OK);
        for (int64_t i = 0; i < n; i++) {
            double xi = t == DAMO_FLOAT64 ? ((double *)xs)[i] : ((float *)xs)[i];
            double yi = t == DAMO_FLOAT64 ? ((double *)y)[i] : ((float *)y)[i];
            double zi = t == DAMO_FLOAT64 ? ((double *)z)[i] : ((float *)z)[i];
            double want = exp(xi * 0.5 + 0.125) - xi, tol = t == DAMO_FLOAT64 ? 1e-14 : 2e-6;
            if (fabs(yi - want) > tol * (1 + fabs(want)) || zi != fmax(xi, 0.25)) {
                if (!bad)
                    CHECK_MSG(0, "%s n=%lld (tail %d): element %lld: %.17g %.17g, want %.17g %.17g",
                              damo_dtype_name(t), (long long)n, tail, (long long)i, yi, zi, want,
                              fmax(xi, 0.25));
                bad++;
            }
        }
        damo_array_release(o[0]);
        damo_array_release(o[1]);
        damo_array_release(xa);
        free(xs);
        free(y);
        free(z);
    }
    CHECK_INT(bad, 0);
    damo_array_release(bd);
    damo_function_free(f);
    damo_graph_free(g);
}

/* Strided views (odd, negative and zero-size strides) read by element
 * kernels, on the host and on the device. */
static void test_strides(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_var *u = damo_dmatrix(g, "u"), *v = damo_dvector(g, "v");
    damo_var *y = damo_add(damo_mul(u, damo_float(g, 2)), v);
    damo_var *ins[] = {u, v};
    enum { N = 4000 };
    double *base = malloc(N * sizeof *base);
    for (int i = 0; i < N; i++)
        base[i] = i;
    damo_array *m = damo_array_from_data(ctx, DAMO_FLOAT64, 1, (int64_t[]){N}, base);
    struct { int64_t rows, cols, rs, cs, off, vs, voff; } cases[] = {
        {7, 5, 3, 7, 11, 13, 2},     /* odd strides */
        {9, 13, -21, 1, 3900, 3, 0}, /* negative row stride */
        {5, 6, 1, 5, 0, -7, 100},    /* transposed, vector backwards */
        {33, 31, 97, 3, 5, 1, 1000}, /* larger than a vector */
    };
    for (int pass = 0; pass < 2; pass++) {
        damo_function *f = damo_function_simple(g, 2, ins, 1, &y, pass ? DAMO_FN_DEVICE_ONLY : 0);
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            damo_array *ua = damo_array_strided_view(m, 2, (int64_t[]){cases[c].rows, cases[c].cols},
                                                     (int64_t[]){cases[c].rs, cases[c].cs},
                                                     cases[c].off);
            damo_array *va = damo_array_strided_view(m, 1, (int64_t[]){cases[c].cols},
                                                     (int64_t[]){cases[c].vs}, cases[c].voff);
            damo_array *o = NULL;
            CHECK_MSG(ua && va, "%s", damo_ctx_errmsg(ctx));
            CHECK(damo_call(f, (damo_arg[]){DAMO_ARG(ua), DAMO_ARG(va)}, 2, &o, 1) == DAMO_OK);
            int64_t n = cases[c].rows * cases[c].cols;
            double *r = malloc((size_t)n * sizeof *r);
            CHECK(o && damo_array_read(o, r) == DAMO_OK);
            int bad = 0;
            for (int64_t i = 0; o && i < cases[c].rows; i++)
                for (int64_t j = 0; j < cases[c].cols; j++)
                    bad += r[i * cases[c].cols + j] !=
                           2 * base[cases[c].off + i * cases[c].rs + j * cases[c].cs] +
                               base[cases[c].voff + j * cases[c].vs];
            CHECK_MSG(!bad, "case %zu (%s): %d wrong", c, pass ? "device" : "default", bad);
            free(r);
            damo_array_release(o);
            damo_array_release(ua);
            damo_array_release(va);
        }
        damo_function_free(f);
    }
    damo_array_release(m);
    free(base);
    damo_graph_free(g);
}

/* A large host input is read by kernels in place (one buffer created, no
 * upload), may be released at once, and reads go straight into the
 * caller's memory: the caller gets exactly the values, and an array read
 * before keeps its values through later calls. */
static void test_zero_copy(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_var *x = damo_dvector(g, "x");
    damo_var *y = damo_mul(x, damo_float(g, 3));
    /* a kernel (the host would take 2^16 elements of one op itself) */
    damo_function *f = damo_function_simple(g, 1, &x, 1, &y, DAMO_FN_DEVICE_ONLY);
    enum { N = 1 << 16 };
    double *xs = malloc(N * sizeof *xs), *r1 = malloc(N * sizeof *r1), *r2 = malloc(N * sizeof *r2);
    for (int i = 0; i < N; i++)
        xs[i] = i * 0.5;
    damo_array *o1 = NULL, *o2 = NULL;
    for (int k = 0; k < 2; k++) {
        damo_array *xa = damo_array_from_data(ctx, DAMO_FLOAT64, 1, (int64_t[]){N}, xs);
        damo_ctx_stats before, after;
        damo_ctx_get_stats(ctx, &before);
        CHECK(damo_call(f, (damo_arg[]){DAMO_ARG(xa)}, 1, k ? &o2 : &o1, 1) == DAMO_OK);
        damo_ctx_get_stats(ctx, &after);
        /* the input's buffer wraps its host memory: created, not pooled */
        if (damo_ctx_has_fp64(ctx) && strstr(damo_ctx_device_name(ctx), "pthread"))
            CHECK(after.buffers_created > before.buffers_created);
        CHECK(damo_array_on_host(xa) && damo_array_on_device(xa));
        damo_array_release(xa); /* at once: the queued kernel still reads it */
        for (int i = 0; i < N; i++)
            xs[i] += 1;
    }
    CHECK(damo_array_read(o1, r1) == DAMO_OK && damo_array_read(o2, r2) == DAMO_OK);
    int bad = 0;
    for (int i = 0; i < N; i++)
        bad += r1[i] != (i * 0.5) * 3 || r2[i] != (i * 0.5 + 1) * 3;
    CHECK_INT(bad, 0);
    /* o1 was read before o2 was computed into reused buffers: unchanged */
    damo_array_release(o2);
    damo_array *o3 = NULL;
    damo_array *xa = damo_array_from_data(ctx, DAMO_FLOAT64, 1, (int64_t[]){N}, xs);
    CHECK(damo_call(f, (damo_arg[]){DAMO_ARG(xa)}, 1, &o3, 1) == DAMO_OK);
    CHECK(damo_array_read(o1, r2) == DAMO_OK && !memcmp(r1, r2, N * sizeof *r1));
    damo_array_release(o3);
    damo_array_release(xa);
    damo_array_release(o1);
    free(xs);
    free(r1);
    free(r2);
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
    test_vector_tails(DAMO_FLOAT64);
    test_vector_tails(DAMO_FLOAT32);
    test_strides();
    test_zero_copy();
    damo_ctx_free(ctx);
    return check_done();
}
