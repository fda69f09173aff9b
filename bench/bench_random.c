/*
 * Random fills: uniform and normal float64 draws of n = 2^24 numbers,
 * each call finished on the device, in GB/s of numbers written, against a
 * plain OpenCL kernel writing n doubles on damo's own queue, and against
 * NumPy's Generator with PCG64 and with Philox on the host (random(out=)
 * and standard_normal(out=) into one array; a python3 coprocess, n/a when
 * python3 or NumPy is missing), batches of all contenders interleaved in
 * the same run (bench_util.h).
 *
 *   meson compile -C build bench/bench_random && ./build/bench/bench_random
 *
 * A last peer is a floor under Philox fills on these cores: the fastest
 * host fill we could write (philox_floor.c: two uniform doubles per Philox
 * call, vectorized by the compiler for this machine, on every core,
 * computing nothing else; how fast depends on the compiler). damo's
 * speed is printed against it too.
 *
 * The draws' first numbers are checked against Philox4x32-10 computed on
 * the host before timing; a wrong one aborts the run.
 */
#include "bench_util.h"
#include "philox_floor.h"

#define DAMO_FN static inline
#define DAMO_U32 uint32_t
#define DAMO_U64 uint64_t
#include "philox.h"

enum { LOG2_N = 24 };
static const bench_plan PLAN = {
    .warmup_calls = 2, .min_reps = 3, .batches = 5, .target_batch_s = 0.3, .calibrate = 0};
/* The goals, x the write kernel's GB/s. */
static const double GOAL_UNIFORM = 0.7, GOAL_NORMAL = 0.5;

/* ---- the write kernel: a[i] = s ---------------------------------------------- */

typedef struct writer {
    cl_command_queue queue;
    cl_kernel kern;
    cl_mem buf;
    size_t n;
} writer;

static int write_once(void *state)
{
    writer *w = state;
    return bench_cl_failed(clEnqueueNDRangeKernel(w->queue, w->kern, 1, NULL, &w->n, NULL, 0, NULL,
                                                  NULL), "clEnqueueNDRangeKernel") ||
           bench_cl_failed(clFinish(w->queue), "clFinish");
}

static int writer_setup(damo_ctx *ctx, size_t n, writer *w)
{
    static const char src[] = "#pragma OPENCL EXTENSION cl_khr_fp64 : enable\n"
                             "__kernel void fill(__global double *restrict a, const double s)\n"
                             "{\n    a[get_global_id(0)] = s;\n}\n";
    cl_int err;
    double s = 0.5;
    memset(w, 0, sizeof *w);
    w->queue = ctx->rt.queue;
    w->n = n;
    int rc = bench_kernel(ctx, src, "fill", &w->kern);
    if (!rc) {
        w->buf = clCreateBuffer(ctx->rt.context, CL_MEM_READ_WRITE, n * sizeof(double), NULL, &err);
        rc = bench_cl_failed(err, "clCreateBuffer") ||
             bench_cl_failed(clSetKernelArg(w->kern, 0, sizeof w->buf, &w->buf), "clSetKernelArg") ||
             bench_cl_failed(clSetKernelArg(w->kern, 1, sizeof s, &s), "clSetKernelArg");
    }
    return rc;
}

static void writer_teardown(writer *w)
{
    if (w->buf)
        clReleaseMemObject(w->buf);
    if (w->kern)
        clReleaseKernel(w->kern);
}

/* ---- damo ------------------------------------------------------------------- */

typedef struct draw_fn {
    damo_ctx *ctx;
    damo_function *f;
} draw_fn;

static int draw_once(void *state)
{
    draw_fn *d = state;
    damo_array *out = NULL;
    int bad = damo_call(d->f, NULL, 0, &out, 1) != DAMO_OK || damo_ctx_finish(d->ctx) != DAMO_OK;
    if (bad)
        fprintf(stderr, "damo: %s\n", damo_last_errmsg());
    damo_array_release(out);
    return bad;
}

/* The host's value of element i of a uniform (or normal, to 1e-12) draw
 * under state st. */
static double expected(const uint64_t st[2], int normal, int64_t i)
{
    uint64_t n = st[1] + (uint64_t)i;
    uint32_t c[4] = {(uint32_t)n, (uint32_t)(n >> 32), 0, 0};
    damo_philox4x32_10(c, (uint32_t)st[0], (uint32_t)(st[0] >> 32));
    double u = (double)(((uint64_t)c[1] << 32 | c[0]) >> 11) * 0x1p-53;
    double v = (double)(((uint64_t)c[3] << 32 | c[2]) >> 11) * 0x1p-53;
    return normal ? sqrt(-2 * log(1 - u)) * cos(6.283185307179586 * v) : u;
}

/* function([], uniform(0, 1, n)) or normal(0, 1, n), its first numbers
 * checked; NULL on error (printed). */
static damo_function *compile_draw(damo_ctx *ctx, int normal, int64_t n)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_random_stream *s = damo_random_stream_new(ctx, 42);
    damo_var *size = damo_size(g, 1, &n);
    damo_var *v = normal ? damo_random_normal(s, damo_float(g, 0), damo_float(g, 1), size, DAMO_FLOAT64)
                         : damo_random_uniform(s, damo_float(g, 0), damo_float(g, 1), size, DAMO_FLOAT64);
    damo_function *f = v ? damo_function_simple(g, 0, NULL, 1, &v, 0) : NULL;
    uint64_t st[2] = {0, 0};
    damo_array *sv = damo_shared_get_value(damo_random_state(s, 0)), *out = NULL;
    int bad = !f || damo_array_read(sv, st) != DAMO_OK || damo_call(f, NULL, 0, &out, 1) != DAMO_OK;
    if (bad)
        fprintf(stderr, "damo: %s\n", f ? damo_function_errmsg(f) : damo_graph_errmsg(g));
    for (int64_t i = 0; i < 8 && !bad; i++) {
        double got = NAN, want = expected(st, normal, i);
        damo_array_get_f64(out, i, &got);
        if (!(fabs(got - want) <= (normal ? 1e-12 : 0))) {
            fprintf(stderr, "WRONG RESULT: element %lld is %.17g, expected %.17g\n", (long long)i,
                    got, want);
            bad = 1;
        }
    }
    damo_array_release(out);
    damo_array_release(sv);
    damo_random_stream_free(s);
    damo_graph_free(g);
    if (bad) {
        damo_function_free(f);
        return NULL;
    }
    return f;
}

/* ---- the host floor ------------------------------------------------------------ */

typedef struct floor_fill {
    double *out;
    int64_t n;
    int threads;
} floor_fill;

static int floor_once(void *state)
{
    floor_fill *f = state;
    return philox_floor_fill(f->out, f->n, f->threads);
}

/* 0 when the floor's first numbers are Philox4x32-10's (key 0x9abcdef012345678). */
static int floor_check(floor_fill *f)
{
    if (!f->out || floor_once(f))
        return 1;
    for (int64_t i = 0; i < 8; i++) {
        uint64_t bits = damo_rand_bits(0x9abcdef012345678u, 0, (uint64_t)i / 2, (int)(i % 2), 11);
        if (f->out[i] != (double)bits * 0x1p-53) {
            fprintf(stderr, "WRONG RESULT: the host floor's element %lld\n", (long long)i);
            return 1;
        }
    }
    return 0;
}

/* ---- NumPy ---------------------------------------------------------------------- */

/* fns: PCG64 random, PCG64 standard_normal, Philox random, Philox
 * standard_normal, each filling one array of n doubles. */
static const char PY_SCRIPT[] =
    "import sys, time\n"
    "import numpy as np\n"
    "n = int(sys.argv[1])\n"
    "out = np.empty(n)\n"
    "gens = [np.random.Generator(bg(42)) for bg in (np.random.PCG64, np.random.Philox)]\n"
    "fns = [f for g in gens for f in (lambda g=g: g.random(out=out),\n"
    "                                 lambda g=g: g.standard_normal(out=out))]\n"
    "print('ready', flush=True)\n" BENCH_PY_LOOP;

static int numpy_start(bench_py *py, int64_t n)
{
    char nbuf[32], ready[8] = "";
    snprintf(nbuf, sizeof nbuf, "%lld", (long long)n);
    char *argv[] = {"python3", "-c", (char *)PY_SCRIPT, nbuf, NULL};
    if (bench_py_start(py, argv))
        return 1;
    if (fscanf(py->from, "%7s", ready) != 1 || strcmp(ready, "ready")) {
        bench_py_stop(py);
        return 1;
    }
    return 0;
}

/* ---- main ---------------------------------------------------------------------- */

enum { E_WRITE, E_UNIFORM, E_NORMAL, E_FLOOR, E_NP, N_ENTRIES = E_NP + 4 };
static const char *const NAMES[N_ENTRIES] = {
    "plain OpenCL write kernel a[i] = s", "damo uniform(0, 1) float64", "damo normal(0, 1) float64",
    "host floor: C Philox uniform, all cores, 2 per call", "NumPy PCG64 random",
    "NumPy PCG64 standard_normal", "NumPy Philox random", "NumPy Philox standard_normal"};

int main(void)
{
    damo_ctx *ctx;
    if (bench_ctx_new(&ctx))
        return 1;
    bench_print_load();
    const int64_t n = (int64_t)1 << LOG2_N;
    const double bytes = 8.0 * (double)n;
    writer w;
    draw_fn du = {ctx, compile_draw(ctx, 0, n)}, dn = {ctx, compile_draw(ctx, 1, n)};
    bench_py py;
    int have_numpy = !numpy_start(&py, n);
    bench_py_fn nf[4] = {{&py, 0}, {&py, 1}, {&py, 2}, {&py, 3}};
    bench_entry es[N_ENTRIES];
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    floor_fill ff = {malloc((size_t)n * sizeof(double)), n,
                     cores > 0 && cores <= 64 ? (int)cores : 1};
    int rc = !du.f || !dn.f || writer_setup(ctx, (size_t)n, &w) || floor_check(&ff);
    es[E_WRITE] = bench_entry_of(write_once, NULL, &w, NULL);
    es[E_UNIFORM] = bench_entry_of(draw_once, NULL, &du, ctx);
    es[E_NORMAL] = bench_entry_of(draw_once, NULL, &dn, ctx);
    es[E_FLOOR] = bench_entry_of(floor_once, NULL, &ff, NULL);
    for (int k = 0; k < 4; k++)
        es[E_NP + k] = bench_py_entry(&nf[k]);
    rc = rc || bench_measure_all(&PLAN, es, have_numpy ? N_ENTRIES : E_NP);
    writer_teardown(&w);
    free(ff.out);
    if (have_numpy)
        bench_py_stop(&py);
    if (!rc) {
        printf("n = 2^%d float64 per fill, median of %d interleaved batches; host floor on %d "
               "threads\n\n", LOG2_N, PLAN.batches, ff.threads);
        printf("| what | ms per fill | GB/s | x write kernel |\n|---|---:|---:|---:|\n");
        for (int e = 0; e < (have_numpy ? N_ENTRIES : E_NP); e++)
            printf("| %s | %.2f | %.2f | %.2f |\n", NAMES[e], es[e].t.sec * 1e3,
                   bytes / es[e].t.sec * 1e-9, es[E_WRITE].t.sec / es[e].t.sec);
        if (!have_numpy)
            printf("| NumPy | n/a | n/a | n/a |\n");
        double xu = es[E_WRITE].t.sec / es[E_UNIFORM].t.sec, xn = es[E_WRITE].t.sec / es[E_NORMAL].t.sec;
        printf("\ngoal uniform >= %.1fx the write kernel: %s (%.2fx); normal >= %.1fx: %s (%.2fx)\n",
               GOAL_UNIFORM, xu >= GOAL_UNIFORM ? "met" : "NOT met", xu, GOAL_NORMAL,
               xn >= GOAL_NORMAL ? "met" : "NOT met", xn);
        double xf = es[E_WRITE].t.sec / es[E_FLOOR].t.sec;
        printf("the host floor reaches %.2fx the write kernel (as this build's compiler made it);\n"
               "damo uniform is %.2fx the floor's speed, normal %.2fx\n", xf,
               es[E_FLOOR].t.sec / es[E_UNIFORM].t.sec, es[E_FLOOR].t.sec / es[E_NORMAL].t.sec);
        if (have_numpy)
            printf("faster than NumPy's fastest generator: uniform %s (%.2fx), normal %s (%.2fx)\n",
                   es[E_UNIFORM].t.sec < fmin(es[E_NP].t.sec, es[E_NP + 2].t.sec) ? "yes" : "NO",
                   fmin(es[E_NP].t.sec, es[E_NP + 2].t.sec) / es[E_UNIFORM].t.sec,
                   es[E_NORMAL].t.sec < fmin(es[E_NP + 1].t.sec, es[E_NP + 3].t.sec) ? "yes" : "NO",
                   fmin(es[E_NP + 1].t.sec, es[E_NP + 3].t.sec) / es[E_NORMAL].t.sec);
    }
    damo_function_free(du.f);
    damo_function_free(dn.f);
    damo_ctx_free(ctx);
    return rc;
}
