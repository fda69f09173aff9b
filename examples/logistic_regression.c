/* The tutorial's "A Real Example: Logistic Regression" in C:
 *
 *   rng = numpy.random; N = 400; feats = 784
 *   D = (rng.randn(N, feats), rng.randint(size=N, low=0, high=2))
 *   x = T.dmatrix("x"); y = T.dvector("y")
 *   w = shared(rng.randn(feats), name="w"); b = shared(0., name="b")
 *   p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
 *   prediction = p_1 > 0.5
 *   xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
 *   cost = xent.mean() + 0.01 * (w ** 2).sum()
 *   gw, gb = T.grad(cost, [w, b])
 *   train = function([x, y], [prediction, xent],
 *                    updates=((w, w - 0.1 * gw), (b, b - 0.1 * gb)))
 *   predict = function([x], prediction)
 *   for i in range(training_steps): pred, err = train(D[0], D[1])
 *
 * The graph and the two functions are built in logistic_model.h.
 *
 * Usage: logistic_regression [--steps N] [--x x.npy --y y.npy [--w0 w0.npy]]
 *                            [--out DIR] [--seed S]
 * Without files the data come from a seeded generator (normal x and w0,
 * labels 0/1); with them, from arrays NumPy saved (y may be int64: it is
 * converted to float64 once). --out saves the final w.npy and b.npy.
 */
#include <damo.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "logistic_model.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int fail(const char *what, const char *msg)
{
    fprintf(stderr, "logistic_regression: %s: %s\n", what, msg);
    return 1;
}

/* splitmix64, and normals from it by Box-Muller */
static uint64_t next_u64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static double next_unit(uint64_t *s) { return ((double)(next_u64(s) >> 11) + 0.5) / 9007199254740992.0; }

static double next_normal(uint64_t *s)
{
    return sqrt(-2 * log(next_unit(s))) * cos(6.283185307179586 * next_unit(s));
}

static damo_array *normals(damo_ctx *ctx, uint64_t *s, int ndim, const int64_t *shape)
{
    int64_t n = ndim == 2 ? shape[0] * shape[1] : shape[0];
    double *v = malloc((size_t)n * sizeof *v);
    if (!v)
        return NULL;
    for (int64_t i = 0; i < n; i++)
        v[i] = next_normal(s);
    damo_array *a = damo_array_from_data(ctx, DAMO_FLOAT64, ndim, shape, v);
    free(v);
    return a;
}

/* y as float64: an int64 or bool array from a file is converted once. */
static damo_array *labels_f64(damo_ctx *ctx, damo_array *y)
{
    if (!y || damo_array_dtype(y) == DAMO_FLOAT64 || damo_array_ndim(y) != 1)
        return y;
    int64_t n = damo_array_size(y);
    double *v = malloc((size_t)(n + 1) * sizeof *v);
    damo_array *r = NULL;
    int ok = v != NULL;
    for (int64_t i = 0; ok && i < n; i++)
        ok = damo_array_get_f64(y, i, &v[i]) == DAMO_OK;
    if (ok)
        r = damo_array_from_data(ctx, DAMO_FLOAT64, 1, &n, v);
    free(v);
    damo_array_release(y);
    return r;
}

static void print_array(const char *title, damo_array *a)
{
    char *text = damo_array_to_string(a);
    if (title)
        printf("%s\n", title);
    printf("%s\n", text ? text : "(out of memory)");
    free(text);
}

typedef struct options {
    long steps;
    const char *x, *y, *w0, *out;
    uint64_t seed;
} options;

static int parse(int argc, char **argv, options *o)
{
    *o = (options){10000, NULL, NULL, NULL, NULL, 1234};
    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            return 0;
        if (!strcmp(a, "--steps"))
            o->steps = strtol(v, NULL, 10);
        else if (!strcmp(a, "--x"))
            o->x = v;
        else if (!strcmp(a, "--y"))
            o->y = v;
        else if (!strcmp(a, "--w0"))
            o->w0 = v;
        else if (!strcmp(a, "--out"))
            o->out = v;
        else if (!strcmp(a, "--seed"))
            o->seed = strtoull(v, NULL, 10);
        else
            return 0;
    }
    return o->steps >= 0 && !o->x == !o->y;
}

int main(int argc, char **argv)
{
    options o;
    if (!parse(argc, argv, &o)) {
        fprintf(stderr, "usage: %s [--steps N] [--x x.npy --y y.npy [--w0 w0.npy]] [--out DIR] [--seed S]\n",
                argv[0]);
        return 2;
    }
    char err[512];
    damo_ctx *ctx;
    if (damo_ctx_new(&ctx, err, sizeof err) != DAMO_OK)
        return fail("damo_ctx_new", err);
    printf("device: %s\n", damo_ctx_device_name(ctx));

    const int64_t N = 400, feats = 784;
    uint64_t s = o.seed;
    damo_array *dx, *dy, *w0;
    if (o.x) {
        dx = damo_array_load_npy(ctx, o.x);
        dy = labels_f64(ctx, damo_array_load_npy(ctx, o.y));
    } else {
        dx = normals(ctx, &s, 2, (const int64_t[]){N, feats});
        double *yv = malloc((size_t)N * sizeof *yv);
        for (int64_t i = 0; yv && i < N; i++)
            yv[i] = (double)(next_u64(&s) >> 63);
        dy = yv ? damo_array_from_data(ctx, DAMO_FLOAT64, 1, &N, yv) : NULL;
        free(yv);
    }
    if (!dx || !dy || damo_array_ndim(dx) != 2 || damo_array_ndim(dy) != 1 ||
        damo_array_shape(dx)[0] != damo_array_shape(dy)[0])
        return fail("data", dx && dy ? "x must be (N, feats) and y (N,)" : damo_ctx_errmsg(ctx));
    int64_t nf = damo_array_shape(dx)[1];
    w0 = o.w0 ? damo_array_load_npy(ctx, o.w0) : normals(ctx, &s, 1, &nf);
    if (!w0)
        return fail("w0", damo_ctx_errmsg(ctx));

    /* w = shared(rng.randn(feats), name="w"); b = shared(0., name="b") */
    damo_shared *ws = damo_shared_new(ctx, w0, "w", NULL), *bs = damo_shared_float(ctx, 0, "b");
    damo_array_release(w0);
    printf("Initial model:\n");
    damo_array *wv = damo_shared_get_value(ws), *bv = damo_shared_get_value(bs);
    print_array(NULL, wv);
    print_array(NULL, bv);
    damo_array_release(wv);
    damo_array_release(bv);

    double t0 = now_s();
    logistic_model m;
    if (logistic_model_build(&m, ctx, ws, bs, 0))
        return fail("build", damo_last_errmsg());
    damo_function *train = m.train, *predict = m.predict;
    double t_compile = now_s() - t0;

    damo_arg args[2] = {DAMO_ARG(dx), DAMO_ARG(dy)};
    t0 = now_s();
    for (long i = 0; i < o.steps; i++) {
        damo_array *outs[2];
        if (damo_call(train, args, 2, outs, 2) != DAMO_OK)
            return fail("train", damo_function_errmsg(train));
        damo_array_release(outs[0]);
        damo_array_release(outs[1]);
    }
    damo_ctx_finish(ctx);
    double t_train = now_s() - t0;

    printf("Final model:\n");
    wv = damo_shared_get_value(ws);
    bv = damo_shared_get_value(bs);
    print_array(NULL, wv);
    print_array(NULL, bv);
    print_array("target values for D:", dy);
    damo_array *pred = NULL;
    if (damo_call(predict, args, 1, &pred, 1) != DAMO_OK)
        return fail("predict", damo_function_errmsg(predict));
    print_array("prediction on D:", pred);

    int64_t n = damo_array_size(dy), right = 0;
    for (int64_t i = 0; i < n; i++) {
        double p = 0, t = 0;
        damo_array_get_f64(pred, i, &p);
        damo_array_get_f64(dy, i, &t);
        right += p == t;
    }
    printf("training accuracy: %.4f (%lld of %lld)\n", (double)right / (double)n, (long long)right,
           (long long)n);
    printf("compile: %.3f s; %ld training steps: %.3f s (%.1f us per step)\n", t_compile, o.steps, t_train,
           o.steps ? t_train / (double)o.steps * 1e6 : 0.0);

    int rc = 0;
    if (o.out) {
        char path[4096];
        snprintf(path, sizeof path, "%s/w.npy", o.out);
        rc |= damo_array_save_npy(wv, path) != DAMO_OK;
        snprintf(path, sizeof path, "%s/b.npy", o.out);
        rc |= damo_array_save_npy(bv, path) != DAMO_OK;
        if (rc)
            fail("--out", damo_ctx_errmsg(ctx));
    }
    damo_array_release(pred);
    damo_array_release(wv);
    damo_array_release(bv);
    damo_array_release(dx);
    damo_array_release(dy);
    logistic_model_free(&m);
    damo_shared_release(ws);
    damo_shared_release(bs);
    damo_ctx_free(ctx);
    return rc;
}
