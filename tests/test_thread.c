/*
 * Small work on the calling thread of a CPU device (src/exec/: plan_small,
 * array_direct_read/write, reduce_on_thread). On a device whose buffers are
 * host memory (PoCL's, where products take the host BLAS route), a small
 * step whose ops give the device's bits runs on the thread calling
 * damo_call, reading and writing the device buffers' own memory. Checked:
 *   - every result is the same bits as the same function compiled with
 *     DAMO_FN_DEVICE_ONLY (kernels), except that a NaN may differ in sign
 *     and payload: float64 exp, log, log1p, sigmoid and softplus programs
 *     over device-resident inputs of sizes around the kernels' vector and
 *     block boundaries, and reductions (sum, mean, prod, max, min, argmax,
 *     argmin, any, an int32 sum; float32 and float64 values, with and
 *     without work before and after; 1-D, and 2-D along either axis and
 *     both, rows long enough for the kernels' vector lanes), over values
 *     of mixed magnitudes, so that the order of the additions shows in the
 *     last bits, and again over values with infinities, NaN, signed zeros
 *     and subnormals among them;
 *   - where it ran (the step profiles), that results stay on the device,
 *     and that reads of them do not wait;
 *   - values kept by the host evaluator from one call to the next (what
 *     depends only on broadcast values) are computed again when those
 *     change: exact results over calls with changing scalars and rows;
 *   - the tutorial's logistic regression (examples/logistic_model.h,
 *     20 x 8, 50 steps): the same w and b bits as on the device, no command enqueued and no buffer made
 *     after the first call, no wait;
 *   - a small step behind queued work waits for it (one counted wait) and
 *     reads its results.
 * On a device without host memory buffers (a GPU) only the equalities are
 * checked.
 */
#include <damo.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../examples/logistic_model.h"
#include "check.h"

static damo_ctx *ctx;
static int on_cpu; /* the host BLAS route: buffers are host memory */

static uint64_t rng = 0x9e3779b97f4a7c15u;
static double unit(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) * 0x1p-53;
}

/* Mixed magnitudes and signs: sums of them round differently in every
 * order. With `special`, also infinities, NaN, signed zeros and
 * subnormals. */
static int special;
static double value(int i)
{
    static const double specials[] = {INFINITY, -INFINITY, NAN, -0.0, 0.0, 5e-324, -2.5e-310};
    double scale[] = {1e-8, 1, 3.3e3, 1e8, 0.1};
    if (special && i % 11 == 3)
        return specials[(i / 11) % 7];
    return (unit() - 0.4) * scale[i % 5];
}

static damo_array *device_array(damo_dtype t, int nd, const int64_t *shape)
{
    int64_t n = 1;
    for (int d = 0; d < nd; d++)
        n *= shape[d];
    double *v = malloc((size_t)(n ? n : 1) * sizeof *v);
    float *f = malloc((size_t)(n ? n : 1) * sizeof *f);
    for (int64_t i = 0; i < n; i++)
        f[i] = (float)(v[i] = value((int)i));
    damo_array *a = damo_array_from_data(ctx, t, nd, shape, t == DAMO_FLOAT64 ? (void *)v : f);
    free(v);
    free(f);
    CHECK(a && damo_array_to_device(a) == DAMO_OK);
    return a;
}

/* The bytes of a result, read on the host. */
static void *bytes_of(damo_array *a, size_t *size)
{
    *size = (size_t)damo_array_size(a) * damo_dtype_size(damo_array_dtype(a));
    void *b = malloc(*size ? *size : 1);
    CHECK(damo_array_read(a, b) == DAMO_OK);
    return b;
}

/* The same bits, or NaN in both (sign and payload aside). */
static int same_values(damo_dtype t, const void *x, const void *y, size_t size)
{
    if (t != DAMO_FLOAT64 && t != DAMO_FLOAT32)
        return !memcmp(x, y, size);
    size_t es = damo_dtype_size(t);
    for (size_t i = 0; i < size / es; i++) {
        const char *a = (const char *)x + i * es, *b = (const char *)y + i * es;
        double u = t == DAMO_FLOAT64 ? *(const double *)(const void *)a : *(const float *)(const void *)a;
        double v = t == DAMO_FLOAT64 ? *(const double *)(const void *)b : *(const float *)(const void *)b;
        if (memcmp(a, b, es) && !(isnan(u) && isnan(v)))
            return 0;
    }
    return 1;
}

/* Calls f (flags 0, profiled) and its DAMO_FN_DEVICE_ONLY twin on x;
 * checks their outputs have the same bits; returns how many of f's steps
 * ran on the host in its last call (-1 when unknown). */
static int same_bits(damo_graph *g, damo_var *in, damo_var *out, damo_array *x, const char *what)
{
    damo_function *f = damo_function_simple(g, 1, &in, 1, &out, DAMO_FN_PROFILE);
    damo_function *d = damo_function_simple(g, 1, &in, 1, &out, DAMO_FN_DEVICE_ONLY);
    CHECK_MSG(f && d, "%s: %s", what, damo_graph_errmsg(g));
    if (!f || !d) {
        damo_function_free(f);
        damo_function_free(d);
        return -1;
    }
    damo_array *of = NULL, *od = NULL;
    CHECK(damo_call(f, (damo_arg[]){DAMO_ARG(x)}, 1, &of, 1) == DAMO_OK);
    CHECK(damo_call(d, (damo_arg[]){DAMO_ARG(x)}, 1, &od, 1) == DAMO_OK);
    int host = -1;
    if (of && od) {
        size_t sf, sd;
        void *bf = bytes_of(of, &sf), *bd = bytes_of(od, &sd);
        CHECK_MSG(sf == sd && same_values(damo_array_dtype(of), bf, bd, sf),
                  "%s%s: the host's bits differ from the kernel's", what,
                  special ? " (with special values)" : "");
        free(bf);
        free(bd);
        host = 0;
        for (size_t i = 0; i < damo_function_n_steps(f); i++) {
            damo_step_profile sp;
            damo_function_step_profile(f, i, &sp);
            host += sp.host_calls == sp.calls && sp.events == 0;
        }
    }
    damo_array_release(of);
    damo_array_release(od);
    damo_function_free(f);
    damo_function_free(d);
    return host;
}

static void test_elemwise(void)
{
    static const int64_t sizes[] = {1, 5, 31, 32, 33, 100, 127, 128, 129, 1000, 4000};
    damo_graph *g = damo_graph_new(ctx);
    damo_var *x = damo_dvector(g, "x");
    damo_var *ax = damo_abs(x), *one = damo_float(g, 1);
    damo_var *progs[] = {
        damo_exp(damo_div(x, damo_float(g, 1e3))),
        damo_add(damo_log(ax), damo_log1p(ax)),
        damo_sigmoid(damo_mul(x, damo_float(g, 1e-3))),
        damo_softplus(damo_mul(x, damo_float(g, 1e-2))),
        damo_div(one, damo_add(one, damo_exp(damo_neg(damo_mul(x, damo_float(g, 1e-4)))))),
    };
    /* up to 1000 elements each program is estimated below a dispatch
     * (sprog_host_ns: at most 33 ns an element); at 4000 the two with
     * the most fmath calls are not, and run as kernels */
    int ran = 0, small = 0, big = 0;
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        damo_array *a = device_array(DAMO_FLOAT64, 1, &sizes[s]);
        for (size_t k = 0; k < sizeof progs / sizeof progs[0]; k++) {
            char what[64];
            snprintf(what, sizeof what, "program %zu over %lld", k, (long long)sizes[s]);
            int host = same_bits(g, x, progs[k], a, what);
            ran += sizes[s] <= 1000 && host > 0;
            small += sizes[s] <= 1000;
            big += sizes[s] > 1000 && host > 0;
        }
        damo_array_release(a);
    }
    if (on_cpu && !special) {
        CHECK_INT(ran, small);
        CHECK_INT(big, 3);
    }
    damo_graph_free(g);
}

/* The host evaluator keeps what depends only on broadcast values (s + 1,
 * s * s, c * (s * s) along a row) from one call to the next and computes
 * it again only when one of them changes: over calls whose s changes,
 * comes back to an earlier value, and stays, whose c differs per row and
 * between calls, and whose rows cross the evaluator's blocks of 512, every
 * element is x * (s + 1) + c * (s * s), exactly (IEEE operations only). */
static void test_kept(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_var *x = damo_dmatrix(g, "x"), *s = damo_dscalar(g, "s");
    damo_var *c = damo_tensor(g, DAMO_FLOAT64, 2, (const int64_t[]){DAMO_DIM_UNKNOWN, 1}, "c");
    /* s filled to x's shape, as a gradient's seed is: the fused step then
     * reads it as a broadcast input */
    damo_var *sx = damo_fill(x, s);
    damo_var *y = damo_add(damo_mul(x, damo_add(sx, damo_float(g, 1))),
                           damo_mul(c, damo_mul(sx, sx)));
    damo_var *in[] = {x, c, s};
    damo_function *f = damo_function_simple(g, 3, in, 1, &y, DAMO_FN_PROFILE);
    CHECK_MSG(f, "%s", damo_graph_errmsg(g));
    special = 0;
    static const double ss[] = {1.5, 2.5, 2.5, 1.5, 0, -3};
    static const int64_t shapes[][2] = {{3, 5}, {3, 5}, {2, 700}, {2, 700}, {3, 5}, {4, 1100}};
    for (size_t k = 0; f && k < sizeof ss / sizeof ss[0]; k++) {
        int64_t rows = shapes[k][0], cols = shapes[k][1];
        size_t n = (size_t)(rows * cols);
        double *xv = malloc(n * sizeof *xv), *got = malloc(n * sizeof *got), cv[4];
        for (int64_t i = 0; i < rows * cols; i++)
            xv[i] = value((int)i);
        for (int64_t r = 0; r < rows; r++)
            cv[r] = r == 1 ? cv[0] : (double)(k + 1) * 0.75 - (double)r; /* rows 0 and 1 alike */
        damo_array *xa = damo_array_from_data(ctx, DAMO_FLOAT64, 2, shapes[k], xv);
        damo_array *ca = damo_array_from_data(ctx, DAMO_FLOAT64, 2, (const int64_t[]){rows, 1}, cv);
        damo_array *out = NULL;
        damo_arg args[] = {DAMO_ARG(xa), DAMO_ARG(ca), DAMO_FLOAT(ss[k])};
        CHECK(damo_call(f, args, 3, &out, 1) == DAMO_OK);
        if (out && damo_array_read(out, got) == DAMO_OK) {
            int64_t bad = 0;
            for (int64_t i = 0; i < rows * cols; i++)
                bad += got[i] != xv[i] * (ss[k] + 1) + cv[i / cols] * (ss[k] * ss[k]);
            CHECK_MSG(!bad, "call %zu (s = %g, %lld x %lld): %lld elements wrong", k, ss[k],
                      (long long)rows, (long long)cols, (long long)bad);
        }
        damo_array_release(out);
        damo_array_release(xa);
        damo_array_release(ca);
        free(xv);
        free(got);
    }
    /* shapes that do not broadcast after ones that did, then good ones
     * again: the step's shapes are those of each call's inputs */
    for (int k = 0; f && k < 3; k++) {
        int64_t rows = k == 1 ? 4 : 3;
        double xv[15] = {0}, cv[4] = {1, 2, 3, 4}, got[15];
        damo_array *xa = damo_array_from_data(ctx, DAMO_FLOAT64, 2, (const int64_t[]){3, 5}, xv);
        damo_array *ca = damo_array_from_data(ctx, DAMO_FLOAT64, 2, (const int64_t[]){rows, 1}, cv);
        damo_array *out = NULL;
        damo_arg args[] = {DAMO_ARG(xa), DAMO_ARG(ca), DAMO_FLOAT(2)};
        damo_status st = damo_call(f, args, 3, &out, 1);
        CHECK_INT(st, k == 1 ? DAMO_ERR_SHAPE : DAMO_OK);
        if (k == 1)
            CHECK_MSG(strstr(damo_last_errmsg(), "cannot be broadcast"), "%s", damo_last_errmsg());
        if (out && damo_array_read(out, got) == DAMO_OK)
            CHECK(got[14] == 12 && got[0] == 4);
        damo_array_release(out);
        damo_array_release(xa);
        damo_array_release(ca);
    }
    if (f && on_cpu) {
        damo_step_profile sp;
        int host = 0;
        for (size_t i = 0; i < damo_function_n_steps(f); i++) {
            damo_function_step_profile(f, i, &sp);
            host += strstr(damo_function_step_text(f, i), "fused") && sp.host_calls == sp.calls;
        }
        CHECK_MSG(host == 1, "the fused step ran on the calling thread in every call");
    }
    damo_function_free(f);
    damo_graph_free(g);
}

/* Every reduction kind of interest, float32 and float64, 1-D and 2-D,
 * with and without work before and after it. */
static void test_reduce(void)
{
    static const int64_t lens[] = {1, 2, 7, 8, 15, 16, 17, 31, 32, 33, 40, 63, 64, 65, 100, 255, 256,
                                   257, 1000, 2047};
    static const damo_dtype types[] = {DAMO_FLOAT64, DAMO_FLOAT32};
    int ran = 0, cases = 0;
    for (size_t t = 0; t < 2; t++) {
        damo_graph *g = damo_graph_new(ctx);
        damo_var *v = damo_tensor(g, types[t], 1, NULL, "v");
        damo_var *m = damo_tensor(g, types[t], 2, NULL, "m");
        damo_var *pre = damo_sub(damo_mul(v, v), damo_mul(v, damo_float(g, 0.3)));
        damo_var *outs1[] = {
            damo_sum(v, NULL, 0, 0),
            damo_mean(v, NULL, 0, 0),
            damo_max(v, NULL, 0, 0),
            damo_min(v, NULL, 0, 0),
            damo_argmax(v, 0, 0),
            damo_sum(pre, NULL, 0, 0),
            damo_sub(damo_mul(damo_sum(v, NULL, 0, 0), damo_float(g, 2)), damo_float(g, 1)),
            damo_prod(damo_add(damo_mul(v, damo_float(g, 1e-9)), damo_float(g, 1)), NULL, 0, 0),
            damo_argmin(v, 0, 0),
            damo_any(damo_gt(v, damo_float(g, 1e7)), NULL, 0, 0),
            damo_sum(damo_cast(damo_mul(v, damo_float(g, 100)), DAMO_INT32), NULL, 0, 0),
        };
        damo_var *outs2[] = {
            damo_sum(m, (int[]){0}, 1, 0),
            damo_sum(m, (int[]){1}, 1, 0),
            damo_sum(m, NULL, 0, 1),
            damo_mean(damo_mul(m, m), (int[]){1}, 1, 1),
        };
        for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
            damo_array *a = device_array(types[t], 1, &lens[l]);
            for (size_t k = 0; k < sizeof outs1 / sizeof outs1[0]; k++) {
                char what[96];
                snprintf(what, sizeof what, "%s reduction %zu over %lld",
                         damo_dtype_name(types[t]), k, (long long)lens[l]);
                ran += same_bits(g, v, outs1[k], a, what) > 0;
                cases++;
            }
            damo_array_release(a);
            /* short rows, and rows long enough for the kernels' lanes */
            int64_t shapes[2][2] = {{lens[l] < 40 ? lens[l] : 40, 3 + lens[l] % 5},
                                    {2 + lens[l] % 3, lens[l] < 300 ? lens[l] : 300}};
            for (int s = 0; s < 2; s++) {
                damo_array *b = device_array(types[t], 2, shapes[s]);
                for (size_t k = 0; k < sizeof outs2 / sizeof outs2[0]; k++) {
                    char what[96];
                    snprintf(what, sizeof what, "%s 2-d reduction %zu over (%lld, %lld)",
                             damo_dtype_name(types[t]), k, (long long)shapes[s][0],
                             (long long)shapes[s][1]);
                    int host = same_bits(g, m, outs2[k], b, what);
                    /* a row sum runs on the thread, with lanes where rows
                     * are long */
                    if (k == 1) {
                        ran += host > 0;
                        cases++;
                    }
                }
                damo_array_release(b);
            }
        }
        damo_graph_free(g);
    }
    /* every 1-D case and every row sum is small enough for the thread */
    if (on_cpu && !special)
        CHECK_INT(ran, cases);
}

static void test_logistic(void)
{
    enum { N = 20, FEATS = 8, STEPS = 50 };
    double xv[N * FEATS], yv[N], w0[FEATS], w[2][FEATS], b[2];
    for (int i = 0; i < N * FEATS; i++)
        xv[i] = 2 * unit() - 1;
    for (int i = 0; i < N; i++)
        yv[i] = unit() > 0.5;
    for (int j = 0; j < FEATS; j++)
        w0[j] = unit() - 0.5;
    damo_array *x = damo_array_from_data(ctx, DAMO_FLOAT64, 2, (int64_t[]){N, FEATS}, xv);
    damo_array *y = damo_array_from_data(ctx, DAMO_FLOAT64, 1, (int64_t[]){N}, yv);
    damo_array *wa = damo_array_from_data(ctx, DAMO_FLOAT64, 1, (int64_t[]){FEATS}, w0);
    CHECK(damo_array_to_device(x) == DAMO_OK && damo_array_to_device(y) == DAMO_OK);
    for (int run = 0; run < 2; run++) {
        damo_shared *ws = damo_shared_new(ctx, wa, "w", NULL), *bs = damo_shared_float(ctx, 0, "b");
        logistic_model m;
        CHECK_MSG(!logistic_model_build(&m, ctx, ws, bs, run ? DAMO_FN_DEVICE_ONLY : DAMO_FN_PROFILE),
                  "%s", damo_graph_errmsg(m.g));
        damo_function *train = m.train;
        damo_ctx_stats before, after;
        for (int s = 0; train && s < STEPS; s++) {
            damo_array *outs[2] = {NULL, NULL};
            /* from the third call: the update values ping-pong between two
             * buffers made by the first two */
            if (s == 2) {
                damo_ctx_finish(ctx);
                damo_ctx_get_stats(ctx, &before);
            }
            CHECK(damo_call(train, (damo_arg[]){DAMO_ARG(x), DAMO_ARG(y)}, 2, outs, 2) == DAMO_OK);
            damo_array_release(outs[0]);
            damo_array_release(outs[1]);
        }
        damo_ctx_get_stats(ctx, &after);
        if (run == 0 && on_cpu && train) {
            /* nothing enqueued, no buffer made, no wait */
            CHECK_INT(after.buffers_created - before.buffers_created, 0);
            CHECK_INT(after.host_waits - before.host_waits, 0);
            for (size_t i = 0; i < damo_function_n_steps(train); i++) {
                damo_step_profile sp;
                damo_function_step_profile(train, i, &sp);
                CHECK_MSG(sp.events == 0 && sp.host_calls == sp.calls, "step %zu (%s): %llu events",
                          i, damo_function_step_text(train, i), (unsigned long long)sp.events);
            }
        }
        damo_array *wv = damo_shared_get_value(ws), *bv = damo_shared_get_value(bs);
        CHECK(wv && damo_array_read(wv, w[run]) == DAMO_OK);
        CHECK(bv && damo_array_get_f64(bv, 0, &b[run]) == DAMO_OK);
        damo_array_release(wv);
        damo_array_release(bv);
        logistic_model_free(&m);
        damo_shared_release(ws);
        damo_shared_release(bs);
    }
    CHECK_MSG(!memcmp(w[0], w[1], sizeof w[0]) && !memcmp(&b[0], &b[1], sizeof b[0]),
              "w or b differ between the thread and the device (b %.17g / %.17g)", b[0], b[1]);
    damo_array_release(x);
    damo_array_release(y);
    damo_array_release(wa);
}

/* Reads of results computed on the thread do not wait; a small step
 * behind queued work waits for it once. */
static void test_waits(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_var *x = damo_dvector(g, "x");
    damo_var *big = damo_exp(damo_mul(x, damo_float(g, 1e-3)));
    damo_var *small = damo_sum(x, NULL, 0, 0);
    damo_function *fb = damo_function_simple(g, 1, &x, 1, &big, 0);
    damo_function *fs = damo_function_simple(g, 1, &x, 1, &small, 0);
    int64_t n_big = 1 << 20, n_small = 100;
    damo_array *ab = device_array(DAMO_FLOAT64, 1, &n_big);
    damo_array *as = device_array(DAMO_FLOAT64, 1, &n_small);
    damo_ctx_finish(ctx);
    damo_ctx_stats before, after;
    damo_array *o = NULL;
    damo_ctx_get_stats(ctx, &before);
    CHECK(damo_call(fs, (damo_arg[]){DAMO_ARG(as)}, 1, &o, 1) == DAMO_OK);
    if (on_cpu)
        CHECK(o && damo_array_on_device(o) && !damo_array_on_host(o));
    double s = 0;
    CHECK(o && damo_array_get_f64(o, 0, &s) == DAMO_OK);
    damo_ctx_get_stats(ctx, &after);
    if (on_cpu)
        CHECK_INT(after.host_waits - before.host_waits, 0);
    damo_array_release(o);
    /* the big kernel is queued; the small sum of its result waits once */
    damo_array *e = NULL;
    CHECK(damo_call(fb, (damo_arg[]){DAMO_ARG(ab)}, 1, &e, 1) == DAMO_OK);
    damo_ctx_get_stats(ctx, &before);
    damo_array *es = e ? damo_array_strided_view(e, 1, &n_small, (int64_t[]){1}, 0) : NULL;
    CHECK(es != NULL);
    o = NULL;
    CHECK(es && damo_call(fs, (damo_arg[]){DAMO_ARG(es)}, 1, &o, 1) == DAMO_OK);
    damo_ctx_get_stats(ctx, &after);
    if (on_cpu)
        CHECK_INT(after.host_waits - before.host_waits, 1);
    double want = 0, v;
    for (int64_t i = 0; es && i < n_small; i++) {
        CHECK(damo_array_get_f64(es, i, &v) == DAMO_OK);
        want += v;
    }
    CHECK(o && damo_array_get_f64(o, 0, &s) == DAMO_OK);
    CHECK_CLOSE(s, want, 1e-13, 0);
    damo_array_release(o);
    damo_array_release(es);
    damo_array_release(e);
    damo_array_release(ab);
    damo_array_release(as);
    damo_function_free(fb);
    damo_function_free(fs);
    damo_graph_free(g);
}

int main(void)
{
    char msg[256];
    if (damo_ctx_new(&ctx, msg, sizeof msg) != DAMO_OK) {
        fprintf(stderr, "no device: %s\n", msg);
        return 1;
    }
    /* the host BLAS route is taken exactly on devices with host buffers */
    damo_graph *g = damo_graph_new(ctx);
    damo_var *a = damo_dmatrix(g, "a"), *v = damo_dvector(g, "v"), *in[] = {a, v};
    damo_var *p = damo_dot(a, v);
    damo_function *f = damo_function_simple(g, 2, in, 1, &p, 0);
    for (size_t i = 0; f && i < damo_function_n_steps(f); i++)
        on_cpu |= strstr(damo_function_step_text(f, i), "host BLAS") != NULL;
    damo_function_free(f);
    damo_graph_free(g);
    printf("device '%s': %s\n", damo_ctx_device_name(ctx),
           on_cpu ? "small work runs on the calling thread" : "no host buffers: equalities only");
    for (special = 0; special < 2; special++) {
        test_elemwise();
        test_reduce();
    }
    test_kept();
    test_logistic();
    test_waits();
    damo_ctx_free(ctx);
    return check_done();
}
