/* The core: waits only where the caller reads (host-wait counter), planned
 * buffers (no device allocation in a steady loop, temps sharing slots),
 * the rewrite engine's rules, run-time splitting of fused steps, results
 * independent of where a step runs, and the API points of the redesign. */
#include <damo.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"

static damo_ctx *ctx;

static damo_ctx_stats stats(void)
{
    damo_ctx_stats s;
    damo_ctx_get_stats(ctx, &s);
    return s;
}

static damo_array *vec(int64_t n, double (*fill)(int64_t))
{
    double *v = malloc((size_t)n * sizeof *v);
    for (int64_t i = 0; i < n; i++)
        v[i] = fill(i);
    damo_array *a = damo_array_from_data(ctx, DAMO_FLOAT64, 1, &n, v);
    free(v);
    return a;
}

static double ramp(int64_t i) { return (double)i * 0.25 - 3; }
static double ones(int64_t i) { return (void)i, 1.0; }

/* A device-path step taking a learning rate as a C number, a small host
 * step feeding a device step, and an output rewritten on the host each
 * call: none of them waits for the device. Reading waits exactly once. */
static void test_host_waits(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_var *w = damo_dvector(g, "w"), *gr = damo_dvector(g, "g"), *lr = damo_dscalar(g, "lr");
    damo_var *step = damo_sub(w, damo_mul(lr, gr));
    damo_var *ins[] = {w, gr, lr};
    damo_function *f = damo_function_simple(g, 3, ins, 1, &step, 0);
    damo_array *wa = vec(100000, ramp), *ga = vec(100000, ones);
    damo_array *out = NULL;
    CHECK(damo_call(f, (damo_arg[]){DAMO_ARG(wa), DAMO_ARG(ga), DAMO_FLOAT(0.1)}, 3, &out, 1) ==
          DAMO_OK);
    damo_array_release(out);
    damo_ctx_stats before = stats();
    int ok = 1;
    for (int i = 0; i < 200 && ok; i++) {
        ok = damo_call(f, (damo_arg[]){DAMO_ARG(wa), DAMO_ARG(ga), DAMO_FLOAT(0.01 * i)}, 3, &out,
                       1) == DAMO_OK;
        if (i < 199)
            damo_array_release(out);
    }
    CHECK(ok);
    CHECK_INT(stats().host_waits - before.host_waits, 0);
    double last = 0;
    CHECK(damo_array_get_f64(out, 99999, &last) == DAMO_OK);
    CHECK_CLOSE(last, ramp(99999) - 0.01 * 199, 1e-15, 0);
    CHECK_INT(stats().host_waits - before.host_waits, 1);
    damo_array_release(out);

    /* t = a * 2 + 1 is 8 elements of exact work on the host; y = X * t runs
     * on the device and needs t there; t is also an output, rewritten on
     * the host every call while its previous upload may still be queued */
    damo_var *a = damo_dvector(g, "a"), *x = damo_dmatrix(g, "X");
    damo_var *t = damo_add(damo_mul(a, damo_float(g, 2)), damo_float(g, 1));
    damo_var *y = damo_mul(x, t);
    damo_var *ins2[] = {a, x}, *outs2[] = {t, y};
    damo_function *f2 = damo_function_simple(g, 2, ins2, 2, outs2, 0);
    CHECK_MSG(f2, "%s", damo_graph_errmsg(g));
    CHECK_INT(damo_function_n_steps(f2), 2);
    damo_array *aa = vec(8, ramp);
    double *xm = malloc(20000 * 8 * sizeof *xm);
    for (int i = 0; i < 20000 * 8; i++)
        xm[i] = i % 8;
    damo_array *xa = damo_array_from_data(ctx, DAMO_FLOAT64, 2, (int64_t[]){20000, 8}, xm);
    free(xm);
    CHECK(damo_array_to_device(xa) == DAMO_OK);
    damo_array *o2[2];
    CHECK(damo_call(f2, (damo_arg[]){DAMO_ARG(aa), DAMO_ARG(xa)}, 2, o2, 2) == DAMO_OK);
    CHECK(damo_array_on_host(o2[0]) && damo_array_on_device(o2[1]) && !damo_array_on_host(o2[1]));
    damo_array_release(o2[0]);
    damo_array_release(o2[1]);
    before = stats();
    for (int i = 0; i < 200 && ok; i++) {
        ok = damo_call(f2, (damo_arg[]){DAMO_ARG(aa), DAMO_ARG(xa)}, 2, o2, 2) == DAMO_OK;
        damo_array_release(o2[0]);
        damo_array_release(o2[1]);
    }
    CHECK(ok);
    CHECK_INT(stats().host_waits - before.host_waits, 0);
    CHECK(damo_call(f2, (damo_arg[]){DAMO_ARG(aa), DAMO_ARG(xa)}, 2, o2, 2) == DAMO_OK);
    double y_last = 0;
    CHECK(damo_array_get_f64(o2[1], 20000 * 8 - 1, &y_last) == DAMO_OK);
    CHECK_CLOSE(y_last, 7 * (ramp(7) * 2 + 1), 0, 0);
    damo_array_release(o2[0]);
    damo_array_release(o2[1]);
    damo_array_release(aa);
    damo_array_release(xa);
    damo_array_release(wa);
    damo_array_release(ga);
    damo_function_free(f);
    damo_function_free(f2);
    damo_graph_free(g);
}

/* A training-like loop (an update computed on the device every call, the
 * output released) creates no device buffer after its first calls: update
 * values ping-pong between two arrays, outputs are reused. */
static void test_no_allocation(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_array *w0 = vec(50000, ramp);
    damo_shared *w = damo_shared_new(ctx, w0, "w", NULL);
    damo_var *wv = damo_shared_var(g, w), *lr = damo_dscalar(g, "lr");
    damo_var *loss = damo_mul(wv, wv);
    damo_spec *s = damo_spec_new(g);
    damo_spec_input(s, lr);
    damo_spec_output(s, loss);
    damo_spec_update(s, wv, damo_sub(wv, damo_mul(lr, damo_mul(wv, damo_float(g, 2)))));
    damo_function *f = damo_compile(s);
    damo_spec_free(s);
    CHECK_MSG(f, "%s", damo_graph_errmsg(g));
    damo_array *out = NULL;
    int ok = 1;
    for (int i = 0; i < 3 && ok; i++) {
        ok = damo_call(f, (damo_arg[]){DAMO_FLOAT(0.125)}, 1, &out, 1) == DAMO_OK;
        damo_array_release(out);
    }
    damo_ctx_stats before = stats();
    for (int i = 0; i < 1000 && ok; i++) {
        ok = damo_call(f, (damo_arg[]){DAMO_FLOAT(0.125)}, 1, &out, 1) == DAMO_OK;
        damo_array_release(out);
    }
    CHECK(ok);
    CHECK_INT(stats().buffers_created - before.buffers_created, 0);
    CHECK_INT(stats().host_waits - before.host_waits, 0);
    /* w <- w - 0.125 * 2w = 0.75 w, 1003 times */
    damo_array *wn = damo_shared_get_value(w);
    double got = 0;
    CHECK(damo_array_get_f64(wn, 40000, &got) == DAMO_OK);
    CHECK_CLOSE(got, ramp(40000) * pow(0.75, 1003), 1e-12, 0);
    damo_array_release(wn);
    damo_array_release(w0);
    damo_function_free(f);
    damo_graph_free(g);
    damo_shared_release(w);
}

/* Without fusion a 20-step chain runs in 20 steps whose intermediates share
 * two buffers (a step never writes where it reads). */
static void test_temp_slots(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_var *x = damo_dvector(g, "x"), *y = x;
    for (int i = 0; i < 20; i++)
        y = i % 2 ? damo_mul(y, damo_float(g, 1.5)) : damo_add(y, damo_float(g, 1));
    damo_function *f = damo_function_simple(g, 1, &x, 1, &y, DAMO_FN_NO_FUSION | DAMO_FN_DEVICE_ONLY);
    damo_function *ff = damo_function_simple(g, 1, &x, 1, &y, DAMO_FN_DEVICE_ONLY);
    CHECK_INT(damo_function_n_steps(f), 20);
    CHECK_INT(damo_function_n_temp_buffers(f), 2);
    CHECK_INT(damo_function_n_steps(ff), 1);
    CHECK_INT(damo_function_n_temp_buffers(ff), 0);
    damo_array *xa = vec(5000, ramp), *o1 = NULL, *o2 = NULL;
    CHECK(damo_call(f, (damo_arg[]){DAMO_ARG(xa)}, 1, &o1, 1) == DAMO_OK);
    CHECK(damo_call(ff, (damo_arg[]){DAMO_ARG(xa)}, 1, &o2, 1) == DAMO_OK);
    double want = ramp(4321);
    for (int i = 0; i < 20; i++)
        want = i % 2 ? want * 1.5 : want + 1;
    double r1 = 0, r2 = 0;
    CHECK(damo_array_get_f64(o1, 4321, &r1) == DAMO_OK && damo_array_get_f64(o2, 4321, &r2) == DAMO_OK);
    CHECK(r1 == want && r2 == want);
    damo_array_release(o1);
    damo_array_release(o2);
    damo_array_release(xa);
    damo_function_free(f);
    damo_function_free(ff);
    damo_graph_free(g);
}

static double seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Compiling a chain of n elementwise nodes: near-linear, in kernels of at
 * most 256 ops (the device compiler's time grows faster than linearly with
 * a kernel's size) that share one source, so one program is built. */
static double chain_compile(int n)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_var *x = damo_dvector(g, "x"), *y = x;
    for (int i = 0; i < n; i++)
        y = i % 2 ? damo_mul(y, damo_float(g, 0.5)) : damo_add(y, damo_float(g, 1));
    double t0 = seconds();
    damo_function *f = damo_function_simple(g, 1, &x, 1, &y, 0);
    double t = seconds() - t0;
    CHECK_MSG(f, "%s", damo_graph_errmsg(g));
    CHECK_INT(damo_function_n_kernels(f), (n + 255) / 256);
    CHECK(!strcmp(damo_function_step_source(f, 0), damo_function_step_source(f, 1)));
    damo_array *xa = vec(4, ramp), *o = NULL;
    CHECK(damo_call(f, (damo_arg[]){DAMO_ARG(xa)}, 1, &o, 1) == DAMO_OK);
    double got = 0, want = ramp(3);
    for (int i = 0; i < n; i++)
        want = i % 2 ? want * 0.5 : want + 1;
    CHECK(damo_array_get_f64(o, 3, &got) == DAMO_OK && got == want);
    damo_array_release(o);
    damo_array_release(xa);
    damo_function_free(f);
    damo_graph_free(g);
    return t;
}

static void test_long_chains(void)
{
    double t1 = chain_compile(1000), t10 = chain_compile(10000);
    printf("compile: chain of 1000 ops %.3f s, 10000 ops %.3f s\n", t1, t10);
    CHECK_MSG(t10 < 20 * t1 + 1, "10x the chain took %.1fx the time", t10 / t1);
}

static damo_function *compile1(damo_graph *g, damo_var *in, damo_var *out)
{
    damo_function *f = damo_function_simple(g, 1, &in, 1, &out, 0);
    CHECK_MSG(f, "%s", damo_graph_errmsg(g));
    return f;
}

/* The rules: merging compares params; each canonicalization fires where it
 * is exact and not where it is not. */
static void test_rewrites(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_var *x = damo_dvector(g, "x"), *i = damo_ivector(g, "i");
    /* the same cast twice is one node; casts to different dtypes are two */
    damo_var *same = damo_add(damo_cast(x, DAMO_INT32), damo_cast(x, DAMO_INT32));
    damo_var *diff = damo_add(damo_cast(x, DAMO_INT32), damo_cast(x, DAMO_INT64));
    damo_function *fs = compile1(g, x, same), *fd = compile1(g, x, diff);
    CHECK_STR_HAS(damo_function_step_text(fs, 0), "2 ops (cast, add)");
    CHECK_STR_HAS(damo_function_step_text(fd, 0), "3 ops (cast, cast, add)");
    /* --x, x * 1, x / 1, x - 0, x ** 2 */
    damo_var *canon = damo_pow(damo_sub(damo_div(damo_mul(damo_neg(damo_neg(x)), damo_float(g, 1)),
                                                 damo_float(g, 1)), damo_float(g, 0)),
                               damo_float(g, 2));
    damo_function *fc = compile1(g, x, canon);
    CHECK_STR_HAS(damo_function_step_text(fc, 0), "1 op (sqr)");
    /* integer x + 0 goes; float x + 0 stays: -0.0 + 0 is +0.0 */
    damo_function *fi = compile1(g, i, damo_add(i, damo_int(g, 0)));
    CHECK_INT(damo_function_n_steps(fi), 0);
    damo_var *fz = damo_add(x, damo_float(g, 0));
    damo_function *ff = compile1(g, x, fz);
    CHECK_STR_HAS(damo_function_step_text(ff, 0), "1 op (add)");
    damo_array *nz = damo_array_from_data(ctx, DAMO_FLOAT64, 1, (int64_t[]){1}, (double[]){-0.0});
    damo_array *o = NULL;
    CHECK(damo_call(ff, (damo_arg[]){DAMO_ARG(nz)}, 1, &o, 1) == DAMO_OK);
    double z = -1;
    CHECK(damo_array_read(o, &z) == DAMO_OK && z == 0 && !signbit(z));
    damo_array_release(o);
    /* an output that rewrites to an input returns the input's values */
    damo_function *fid = compile1(g, x, damo_mul(x, damo_float(g, 1)));
    CHECK_INT(damo_function_n_steps(fid), 0);
    CHECK(damo_call(fid, (damo_arg[]){DAMO_ARG(nz)}, 1, &o, 1) == DAMO_OK);
    CHECK(damo_array_read(o, &z) == DAMO_OK && z == 0 && signbit(z));
    damo_array_release(o);
    /* broadcasting x * ones((2, 3)) changes the shape: not x */
    const double six[] = {1, 1, 1, 1, 1, 1};
    damo_array *ones23 = damo_array_from_data(ctx, DAMO_FLOAT64, 2, (int64_t[]){2, 3}, six);
    damo_var *m = damo_mul(x, damo_constant(g, ones23));
    damo_array_release(ones23);
    damo_function *fm = compile1(g, x, m);
    CHECK_INT(damo_function_n_steps(fm), 1);
    damo_array_release(nz);
    damo_function_free(fs);
    damo_function_free(fd);
    damo_function_free(fc);
    damo_function_free(fi);
    damo_function_free(ff);
    damo_function_free(fid);
    damo_function_free(fm);
    damo_graph_free(g);
}

/* Fused outputs whose shapes differ only at run time (an unknown size that
 * is 1 for one operand) run as separate parts instead of failing. */
static void test_runtime_split(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_var *a = damo_dmatrix(g, "a"), *b = damo_dmatrix(g, "b"), *c = damo_dmatrix(g, "c");
    damo_var *outs[] = {damo_add(a, b), damo_mul(a, c), damo_exp(a)};
    damo_var *ins[] = {a, b, c};
    for (int pass = 0; pass < 2; pass++) {
        damo_function *f = damo_function_simple(g, 3, ins, 3, outs, pass ? DAMO_FN_DEVICE_ONLY : 0);
        CHECK_INT(damo_function_n_kernels(f), 1);
        double bv[12], cv[15];
        for (int i = 0; i < 15; i++)
            (i < 12 ? (bv[i] = i) : 0), cv[i] = 100 + i;
        damo_array *aa = damo_array_from_data(ctx, DAMO_FLOAT64, 2, (int64_t[]){1, 3}, (double[]){1, 2, 3});
        damo_array *ba = damo_array_from_data(ctx, DAMO_FLOAT64, 2, (int64_t[]){4, 3}, bv);
        damo_array *ca = damo_array_from_data(ctx, DAMO_FLOAT64, 2, (int64_t[]){5, 3}, cv);
        damo_array *o[3] = {NULL, NULL, NULL};
        CHECK_MSG(damo_call(f, (damo_arg[]){DAMO_ARG(aa), DAMO_ARG(ba), DAMO_ARG(ca)}, 3, o, 3) ==
                      DAMO_OK, "%s", damo_function_errmsg(f));
        double r0[12], r1[15], r2[3];
        CHECK(o[0] && damo_array_shape(o[0])[0] == 4 && damo_array_read(o[0], r0) == DAMO_OK);
        CHECK(o[1] && damo_array_shape(o[1])[0] == 5 && damo_array_read(o[1], r1) == DAMO_OK);
        CHECK(o[2] && damo_array_shape(o[2])[0] == 1 && damo_array_read(o[2], r2) == DAMO_OK);
        for (int i = 0; o[0] && o[1] && o[2] && i < 15; i++) {
            if (i < 12)
                CHECK(r0[i] == 1 + i % 3 + bv[i]);
            CHECK(r1[i] == (1 + i % 3) * cv[i]);
            if (i < 3)
                CHECK_CLOSE(r2[i], exp(1.0 + i), 1e-15, 0);
        }
        /* an empty operand: the other outputs are still computed */
        damo_array *e0 = damo_array_zeros(ctx, DAMO_FLOAT64, 2, (int64_t[]){0, 3});
        for (int k = 0; k < 3; k++)
            damo_array_release(o[k]);
        CHECK(damo_call(f, (damo_arg[]){DAMO_ARG(aa), DAMO_ARG(e0), DAMO_ARG(ca)}, 3, o, 3) == DAMO_OK);
        CHECK(o[0] && damo_array_size(o[0]) == 0);
        CHECK(o[2] && damo_array_read(o[2], r2) == DAMO_OK && fabs(r2[0] - exp(1.0)) < 1e-15);
        for (int k = 0; k < 3; k++)
            damo_array_release(o[k]);
        damo_array_release(e0);
        damo_array_release(aa);
        damo_array_release(ba);
        damo_array_release(ca);
        damo_function_free(f);
    }
    damo_graph_free(g);
}

/* A step of exact ops gives the same bits on the host (small inputs) and
 * on the device (large ones), so a result never depends on an array's
 * size; float32 division included where the device divides correctly
 * rounded (PoCL does). All 65 536 values go through both paths. */
static void test_same_bits(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_var *x = damo_fvector(g, "x"), *y = damo_fvector(g, "y");
    damo_var *e = damo_div(damo_add(damo_mul(x, y), damo_float(g, 0.1)), damo_sub(y, x));
    damo_var *ins[] = {x, y};
    damo_function *f = damo_function_simple(g, 2, ins, 1, &e, 0);
    enum { CHUNK = 128, LARGE = 1 << 16 };
    float *xs = malloc(LARGE * sizeof *xs), *ys = malloc(LARGE * sizeof *ys);
    float *host = malloc(LARGE * sizeof *host), *dev = malloc(LARGE * sizeof *dev);
    for (int i = 0; i < LARGE; i++) {
        xs[i] = (float)sin(i * 0.37) * 1e3f;
        ys[i] = i % 1000 ? (float)cos(i * 0.11) * 7.3f : 1e-39f; /* some denormals */
    }
    int on_host = 1;
    for (int c = 0; c < LARGE; c += CHUNK) {
        damo_array *xc = damo_array_from_data(ctx, DAMO_FLOAT32, 1, (int64_t[]){CHUNK}, xs + c);
        damo_array *yc = damo_array_from_data(ctx, DAMO_FLOAT32, 1, (int64_t[]){CHUNK}, ys + c);
        damo_array *o = NULL;
        CHECK(damo_call(f, (damo_arg[]){DAMO_ARG(xc), DAMO_ARG(yc)}, 2, &o, 1) == DAMO_OK);
        on_host &= damo_array_on_host(o) && !damo_array_on_device(o);
        CHECK(damo_array_read(o, host + c) == DAMO_OK);
        damo_array_release(o);
        damo_array_release(xc);
        damo_array_release(yc);
    }
    CHECK(on_host);
    damo_array *xl = damo_array_from_data(ctx, DAMO_FLOAT32, 1, (int64_t[]){LARGE}, xs);
    damo_array *yl = damo_array_from_data(ctx, DAMO_FLOAT32, 1, (int64_t[]){LARGE}, ys);
    damo_array *ol = NULL;
    CHECK(damo_call(f, (damo_arg[]){DAMO_ARG(xl), DAMO_ARG(yl)}, 2, &ol, 1) == DAMO_OK);
    CHECK(!damo_array_on_host(ol));
    CHECK(damo_array_read(ol, dev) == DAMO_OK);
    int same = !memcmp(host, dev, LARGE * sizeof *host);
    CHECK_MSG(same, "host and device results differ");
    damo_array_release(ol);
    damo_array_release(xl);
    damo_array_release(yl);
    free(xs);
    free(ys);
    free(host);
    free(dev);
    damo_function_free(f);
    damo_graph_free(g);
}

/* The API points of the redesign, each with the misuse it prevents. */
static void test_api(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_var *a, *b;
    CHECK(damo_dvectors(g, "a b", &a, &b) == DAMO_OK);
    damo_var *outs[] = {damo_sub(a, b), damo_add(a, b), damo_mul(a, b)};
    damo_var *ins[] = {a, b};
    damo_function *f = damo_function_simple(g, 2, ins, 3, outs, 0);
    damo_array *av = vec(3, ramp), *bv = vec(3, ones);
    damo_arg args[] = {DAMO_ARG(av), DAMO_ARG(bv)};
    /* room for one output of three: refused, outputs set to NULL */
    damo_array *one = av;
    CHECK(damo_call(f, args, 2, &one, 1) == DAMO_ERR_INVALID);
    CHECK(one == NULL);
    CHECK_STR_HAS(damo_function_errmsg(f), "3 outputs");
    CHECK_INT(damo_last_error(), DAMO_ERR_INVALID);
    CHECK_STR_HAS(damo_last_errmsg(), "3 outputs");
    damo_array *three[3] = {av, av, av};
    /* a failing call NULLs every output it was given */
    CHECK(damo_call(f, args, 1, three, 3) == DAMO_ERR_INVALID);
    CHECK(!three[0] && !three[1] && !three[2]);
    CHECK(damo_call(f, args, 2, NULL, 0) == DAMO_OK);
    CHECK(damo_call(f, args, 2, three, 3) == DAMO_OK);
    for (int k = 0; k < 3; k++)
        damo_array_release(three[k]);
    /* errors of graph building land on the graph and on the thread */
    damo_var *bad = damo_and(a, b);
    CHECK(!bad && damo_last_error() == DAMO_ERR_TYPE);
    CHECK_STR_HAS(damo_last_errmsg(), "and");
    /* exact int64 arguments beyond 2^53, and numbers that do not fit */
    damo_var *l = damo_lscalar(g, "l"), *d = damo_dscalar(g, "d");
    damo_function *fl = damo_function_simple(g, 1, &l, 1, &l, 0);
    damo_function *fdd = damo_function_simple(g, 1, &d, 1, &d, 0);
    damo_array *o = NULL;
    int64_t big = (INT64_C(1) << 53) + 1, got = 0;
    CHECK(damo_call(fl, (damo_arg[]){DAMO_INT(big)}, 1, &o, 1) == DAMO_OK);
    CHECK(damo_array_get_i64(o, 0, &got) == DAMO_OK && got == big);
    damo_array_release(o);
    CHECK(damo_call(fdd, (damo_arg[]){DAMO_INT(big)}, 1, &o, 1) == DAMO_ERR_TYPE);
    CHECK_STR_HAS(damo_function_errmsg(fdd), "9007199254740993");
    CHECK(damo_call(fl, (damo_arg[]){DAMO_FLOAT(9223372036854775808.0)}, 1, &o, 1) == DAMO_ERR_TYPE);
    /* each dtype's exact range, with no rounding into it (long double is
     * not relied on: valgrind computes it in double) */
    struct { damo_dtype t; damo_arg v; int fits; } nums[] = {
        {DAMO_BOOL, DAMO_INT(1), 1}, {DAMO_BOOL, DAMO_INT(2), 0}, {DAMO_BOOL, DAMO_FLOAT(0.5), 0},
        {DAMO_UINT8, DAMO_INT(255), 1}, {DAMO_UINT8, DAMO_INT(256), 0}, {DAMO_UINT8, DAMO_INT(-1), 0},
        {DAMO_INT8, DAMO_FLOAT(-128), 1}, {DAMO_INT8, DAMO_FLOAT(-129), 0},
        {DAMO_UINT64, DAMO_FLOAT(18446744073709549568.0), 1}, {DAMO_UINT64, DAMO_FLOAT(18446744073709551616.0), 0},
        {DAMO_INT64, DAMO_INT(INT64_MAX), 1}, {DAMO_INT64, DAMO_FLOAT(-9223372036854775808.0), 1},
        {DAMO_FLOAT32, DAMO_INT(16777216), 1}, {DAMO_FLOAT32, DAMO_INT(16777217), 0},
        {DAMO_FLOAT32, DAMO_FLOAT(0.1), 0}, {DAMO_FLOAT32, DAMO_FLOAT(0.5), 1},
        {DAMO_FLOAT32, DAMO_FLOAT(NAN), 1}, {DAMO_FLOAT64, DAMO_INT(INT64_MAX), 0},
        {DAMO_INT32, DAMO_FLOAT(INFINITY), 0}, {DAMO_INT32, DAMO_FLOAT(NAN), 0},
    };
    for (size_t k = 0; k < sizeof nums / sizeof nums[0]; k++) {
        damo_var *in = damo_tensor(g, nums[k].t, 0, NULL, "n");
        damo_function *fn = damo_function_simple(g, 1, &in, 1, &in, 0);
        damo_status st = damo_call(fn, &nums[k].v, 1, &o, 1);
        CHECK_MSG(st == (nums[k].fits ? DAMO_OK : DAMO_ERR_TYPE), "case %zu: %s", k,
                  damo_function_errmsg(fn));
        damo_array_release(o);
        damo_function_free(fn);
    }
    /* defaults given as numbers; named through damo_named */
    damo_spec *s = damo_spec_new(g);
    damo_spec_input(s, a);
    damo_spec_input_default(s, d, damo_named("scale", DAMO_FLOAT(0.5)));
    damo_spec_output(s, damo_mul(a, d));
    damo_spec_flags(s, DAMO_FN_DEVICE_ONLY);
    damo_function *fs = damo_compile(s);
    damo_spec_free(s);
    CHECK_MSG(fs, "%s", damo_graph_errmsg(g));
    double r[3];
    CHECK(damo_call(fs, args, 1, &o, 1) == DAMO_OK && damo_array_read(o, r) == DAMO_OK &&
          r[2] == ramp(2) * 0.5 && damo_array_on_device(o));
    damo_array_release(o);
    CHECK(damo_call(fs, (damo_arg[]){DAMO_ARG(av), damo_named("scale", DAMO_INT(4))}, 2, &o, 1) ==
              DAMO_OK && damo_array_read(o, r) == DAMO_OK && r[1] == ramp(1) * 4);
    damo_array_release(o);
    /* functions, and shared variables, outlive the graph */
    damo_shared *acc = damo_shared_float(ctx, 0, "acc");
    damo_var *av_ = damo_shared_var(g, acc);
    damo_spec *su = damo_spec_new(g);
    damo_spec_input(su, d);
    damo_spec_output(su, av_);
    damo_spec_update(su, av_, damo_add(av_, d));
    damo_function *fu = damo_compile(su);
    damo_spec_free(su);
    damo_function *fu2 = damo_function_copy(fu, NULL, 0, 0);
    damo_graph_free(g);
    CHECK(damo_call(fu, (damo_arg[]){DAMO_FLOAT(2)}, 1, NULL, 0) == DAMO_OK);
    damo_function_free(fu);
    CHECK(damo_call(fu2, (damo_arg[]){DAMO_FLOAT(3)}, 1, NULL, 0) == DAMO_OK);
    double accv = 0;
    CHECK(damo_shared_get_f64(acc, &accv) == DAMO_OK && accv == 5);
    damo_function_free(fu2);
    damo_shared_release(acc);
    damo_array_release(av);
    damo_array_release(bv);
    damo_function_free(f);
    damo_function_free(fl);
    damo_function_free(fdd);
    damo_function_free(fs);
}

int main(void)
{
    char err[512];
    if (damo_ctx_new(&ctx, err, sizeof err) != DAMO_OK) {
        fprintf(stderr, "no device: %s\n", err);
        return 1;
    }
    test_host_waits();
    test_no_allocation();
    test_temp_slots();
    test_long_chains();
    test_rewrites();
    test_runtime_split();
    test_same_bits();
    test_api();
    damo_ctx_free(ctx);
    return check_done();
}
