/*
 * Random fills: uniform and normal float64 draws of n = 2^24 numbers,
 * each call finished on the device, in GB/s of numbers written, against a
 * plain OpenCL kernel writing n doubles on damo's own queue, and against
 * NumPy's Generator with PCG64 and with Philox on the host (a python3
 * child; n/a when python3 or NumPy is missing), all in the same run.
 *
 *   meson compile -C build bench/bench_random && ./build/bench/bench_random
 *
 * Each figure is the median of ROUNDS timed calls after a warm-up call.
 * The draws' first numbers are checked against Philox4x32-10 on the host
 * before timing.
 */
#include <damo.h>

/* The write kernel must run on damo's own context and queue; only the
 * internal struct damo_ctx exposes them. */
#include "exec/exec.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DAMO_FN static inline
#define DAMO_U32 uint32_t
#define DAMO_U64 uint64_t
#include "philox.h"

enum { LOG2_N = 24, ROUNDS = 9 };
static const double GOAL_UNIFORM = 0.7, GOAL_NORMAL = 0.5; /* x the write kernel */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median seconds of ROUNDS calls of fn after one warm-up; < 0 on error. */
static double median_s(int (*fn)(void *), void *state)
{
    double t[ROUNDS];
    if (fn(state))
        return -1;
    for (int r = 0; r < ROUNDS; r++) {
        double t0 = now_s();
        if (fn(state))
            return -1;
        t[r] = now_s() - t0;
    }
    qsort(t, ROUNDS, sizeof t[0], cmp_double);
    return t[ROUNDS / 2];
}

/* ---- the write kernel ----------------------------------------------------- */

typedef struct writer {
    cl_command_queue queue;
    cl_kernel kern;
    cl_mem buf;
    size_t n;
} writer;

static int write_once(void *state)
{
    writer *w = state;
    return clEnqueueNDRangeKernel(w->queue, w->kern, 1, NULL, &w->n, NULL, 0, NULL, NULL) ||
           clFinish(w->queue);
}

static int writer_setup(damo_ctx *ctx, size_t n, writer *w)
{
    static const char *src = "#pragma OPENCL EXTENSION cl_khr_fp64 : enable\n"
                             "__kernel void fill(__global double *restrict a, const double s)\n"
                             "{\n    a[get_global_id(0)] = s;\n}\n";
    cl_int err;
    double s = 0.5;
    memset(w, 0, sizeof *w);
    w->queue = ctx->rt.queue;
    w->n = n;
    cl_program prog = clCreateProgramWithSource(ctx->rt.context, 1, &src, NULL, &err);
    if (err || clBuildProgram(prog, 1, &ctx->rt.dev.device, "", NULL, NULL))
        return 1;
    w->kern = clCreateKernel(prog, "fill", &err);
    clReleaseProgram(prog);
    if (err)
        return 1;
    w->buf = clCreateBuffer(ctx->rt.context, CL_MEM_READ_WRITE, n * sizeof(double), NULL, &err);
    return err || clSetKernelArg(w->kern, 0, sizeof w->buf, &w->buf) ||
           clSetKernelArg(w->kern, 1, sizeof s, &s);
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

/* function([], uniform(0, 1, n)) or normal(0, 1, n); the first numbers
 * of a call checked against the host's Philox (the normal's to 1e-12). */
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
    for (int64_t i = 0; i < 8 && !bad; i++) {
        uint32_t c[4] = {(uint32_t)i, 0, 0, 0};
        damo_philox4x32_10(c, (uint32_t)st[0], (uint32_t)(st[0] >> 32));
        double u = (double)(((uint64_t)c[1] << 32 | c[0]) >> 11) * 0x1p-53;
        double v2 = (double)(((uint64_t)c[3] << 32 | c[2]) >> 11) * 0x1p-53;
        double want = normal ? sqrt(-2 * log(1 - u)) * cos(6.283185307179586 * v2) : u, got = NAN;
        damo_array_get_f64(out, i, &got);
        if (!(fabs(got - want) <= (normal ? 1e-12 : 0))) {
            fprintf(stderr, "WRONG RESULT: element %lld is %.17g, expected %.17g\n", (long long)i,
                    got, want);
            bad = 1;
        }
    }
    if (bad && !f)
        fprintf(stderr, "damo: %s\n", damo_graph_errmsg(g));
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

/* ---- NumPy --------------------------------------------------------------------- */

/* Prints the median seconds of 9 fills of n doubles (after a warm-up)
 * for PCG64 uniform, PCG64 normal, Philox uniform, Philox normal. */
static const char PY[] =
    "import sys, time\n"
    "import numpy as np\n"
    "n = int(sys.argv[1])\n"
    "out = np.empty(n)\n"
    "for bg in (np.random.PCG64, np.random.Philox):\n"
    "    g = np.random.Generator(bg(42))\n"
    "    for fill in (lambda: g.random(out=out), lambda: g.standard_normal(out=out)):\n"
    "        fill()\n"
    "        t = []\n"
    "        for _ in range(9):\n"
    "            t0 = time.perf_counter()\n"
    "            fill()\n"
    "            t.append(time.perf_counter() - t0)\n"
    "        print(sorted(t)[4])\n";

/* 0 and four medians, or 1 when python3 or NumPy is missing. */
static int numpy_times(int64_t n, double t[4])
{
    char path[] = "/tmp/damo_bench_random_XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f)
        return 1;
    fputs(PY, f);
    fclose(f);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "python3 %s %lld 2>/dev/null", path, (long long)n);
    FILE *p = popen(cmd, "r");
    int got = 0;
    while (p && got < 4 && fscanf(p, "%lf", &t[got]) == 1)
        got++;
    if (p)
        pclose(p);
    remove(path);
    return got != 4;
}

int main(void)
{
    char err[512];
    damo_ctx *ctx;
    if (damo_ctx_new(&ctx, err, sizeof err) != DAMO_OK) {
        fprintf(stderr, "damo_ctx_new: %s\n", err);
        return 1;
    }
    const int64_t n = (int64_t)1 << LOG2_N;
    const double bytes = (double)n * sizeof(double);
    printf("device: %s\nn = 2^%d float64 per fill, median of %d calls, GB/s of numbers written\n\n",
           damo_ctx_device_name(ctx), LOG2_N, ROUNDS);
    writer w;
    draw_fn du = {ctx, compile_draw(ctx, 0, n)}, dn = {ctx, compile_draw(ctx, 1, n)};
    if (writer_setup(ctx, (size_t)n, &w) || !du.f || !dn.f) {
        fprintf(stderr, "set-up failed\n");
        return 1;
    }
    double t_write = median_s(write_once, &w);
    double t_u = median_s(draw_once, &du), t_n = median_s(draw_once, &dn);
    double np[4];
    int no_numpy = numpy_times(n, np);
    if (t_write < 0 || t_u < 0 || t_n < 0)
        return 1;
    printf("| what | ms | GB/s | x write kernel |\n|---|---|---|---|\n");
    printf("| plain OpenCL write kernel | %.2f | %.2f | 1.00 |\n", t_write * 1e3, bytes / t_write / 1e9);
    printf("| damo uniform float64 | %.2f | %.2f | %.2f |\n", t_u * 1e3, bytes / t_u / 1e9, t_write / t_u);
    printf("| damo normal float64 | %.2f | %.2f | %.2f |\n", t_n * 1e3, bytes / t_n / 1e9, t_write / t_n);
    static const char *const np_names[4] = {"NumPy PCG64 random", "NumPy PCG64 standard_normal",
                                            "NumPy Philox random", "NumPy Philox standard_normal"};
    for (int i = 0; i < 4; i++) {
        if (no_numpy)
            printf("| %s | n/a | n/a | n/a |\n", np_names[i]);
        else
            printf("| %s | %.2f | %.2f | %.2f |\n", np_names[i], np[i] * 1e3, bytes / np[i] / 1e9,
                   t_write / np[i]);
    }
    printf("\ngoals: uniform >= %.1fx the write kernel: %s; normal >= %.1fx: %s", GOAL_UNIFORM,
           t_write / t_u >= GOAL_UNIFORM ? "met" : "NOT met", GOAL_NORMAL,
           t_write / t_n >= GOAL_NORMAL ? "met" : "NOT met");
    if (!no_numpy)
        printf("; faster than NumPy (best of its four fills per kind): uniform %s, normal %s",
               t_u < fmin(np[0], np[2]) ? "yes" : "NO", t_n < fmin(np[1], np[3]) ? "yes" : "NO");
    printf("\n");
    clReleaseMemObject(w.buf);
    clReleaseKernel(w.kern);
    damo_function_free(du.f);
    damo_function_free(dn.f);
    damo_ctx_free(ctx);
    return 0;
}
