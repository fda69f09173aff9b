/* What the benchmarks share: timing contenders in batches interleaved so
 * that load from elsewhere on the machine falls on all of them alike, a
 * plain OpenCL triad for the bandwidth a streaming kernel can reach, and a
 * python3 coprocess that times NumPy inside those rounds. Header-only, like
 * tests/check.h, so that each benchmark stays one source file in the build. */
#ifndef DAMO_BENCH_UTIL_H
#define DAMO_BENCH_UTIL_H

#include <damo.h>

/* The triad must run on damo's own cl_context and queue so that it competes
 * for the same device under the same queue settings; only the internal
 * struct damo_ctx exposes them. */
#include "exec/exec.h"

#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static inline double bench_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* "n/a" for a value that was not measured (0) or came out of a division by
 * one that was not. */
static inline const char *bench_fmt(char *buf, size_t size, const char *f, double v)
{
    if (v > 0 && isfinite(v))
        snprintf(buf, size, f, v);
    else
        snprintf(buf, size, "n/a");
    return buf;
}

/* The machine's load when the run starts: timings on a 2-core machine
 * that is also running something else are not the device's. */
static inline void bench_print_load(void)
{
    FILE *f = fopen("/proc/loadavg", "r");
    double l1 = 0;
    if (f && fscanf(f, "%lf", &l1) == 1)
        printf("load average (1 min) at start: %.2f%s\n", l1,
               l1 > 0.5 ? "  -- the machine is busy: timings are noisy" : "");
    if (f)
        fclose(f);
}

/* A context on the device damo_ctx_new picks (DAMO_DEVICE overrides); every
 * benchmark measures float64, so a device without it ends the run. */
static inline int bench_ctx_new(damo_ctx **ctx)
{
    char err[512];
    if (damo_ctx_new(ctx, err, sizeof err) != DAMO_OK) {
        fprintf(stderr, "damo_ctx_new: %s\n", err);
        return 1;
    }
    if (!damo_ctx_has_fp64(*ctx)) {
        fprintf(stderr, "device %s has no float64 support\n", damo_ctx_device_name(*ctx));
        damo_ctx_free(*ctx);
        return 1;
    }
    return 0;
}

/* x[i] = i / n on the device, upload finished: distinct, finite, cheap to
 * recompute for checks, and with n a power of 2 every value is exact. */
static inline damo_array *bench_make_input(damo_ctx *ctx, int64_t n)
{
    double *data = malloc((size_t)n * sizeof *data);
    if (!data) {
        fprintf(stderr, "out of memory for n=%lld\n", (long long)n);
        return NULL;
    }
    for (int64_t i = 0; i < n; i++)
        data[i] = (double)i / (double)n;
    damo_array *a = damo_array_from_data(ctx, DAMO_FLOAT64, 1, &n, data);
    free(data);
    if (!a || damo_array_to_device(a) != DAMO_OK || damo_ctx_finish(ctx) != DAMO_OK) {
        fprintf(stderr, "input n=%lld: %s\n", (long long)n, damo_ctx_errmsg(ctx));
        damo_array_release(a);
        return NULL;
    }
    return a;
}

/* ---- timing ---------------------------------------------------------------- */

enum { BENCH_MAX_BATCHES = 9 };

/* How contenders are timed; each benchmark trades run time against noise
 * for its own sizes. */
typedef struct bench_plan {
    int warmup_calls;      /* untimed: kernels built, buffers pooled */
    int min_reps;
    int batches;           /* at most BENCH_MAX_BATCHES; their median counts */
    double target_batch_s; /* long enough to swamp timer and scheduling noise */
    /* Size the batches from a whole batch sized from the last warm-up call,
     * not from that call alone: a call in a loop without syncs may cost
     * much less than a lone synced one. */
    int calibrate;
} bench_plan;

/* One call, finished on the device or queued for sync; 0 on success, the
 * callee having printed why otherwise. */
typedef int (*bench_call_fn)(void *state);
/* A whole batch of reps calls timed elsewhere (NumPy): seconds per call. */
typedef int (*bench_batch_fn)(void *state, int reps, double *per_call_s);

typedef struct bench_timing {
    double sec;            /* median seconds per call */
    double waits_per_call; /* damo host waits per call (-1: not damo) */
} bench_timing;

/* One contender of a table: what to call, and its timing once measured. */
typedef struct bench_entry {
    bench_call_fn call;
    bench_call_fn sync;    /* after a batch of calls, or NULL: each call finishes its work */
    bench_batch_fn batch;  /* instead of call and sync */
    int skip;              /* not timed (t.sec stays 0) */
    void *state;
    damo_ctx *ctx;         /* a damo context whose host waits are counted, or NULL */
    int reps;
    double batches[BENCH_MAX_BATCHES];
    uint64_t waits;
    bench_timing t;
} bench_entry;

static inline bench_entry bench_entry_of(bench_call_fn call, bench_call_fn sync, void *state,
                                         damo_ctx *ctx)
{
    bench_entry e;
    memset(&e, 0, sizeof e);
    e.call = call;
    e.sync = sync;
    e.state = state;
    e.ctx = ctx;
    return e;
}

static inline int bench_time_batch(bench_entry *e, int reps, double *per_call_s)
{
    if (e->batch)
        return e->batch(e->state, reps, per_call_s);
    double t0 = bench_now_s();
    for (int i = 0; i < reps; i++)
        if (e->call(e->state))
            return 1;
    if (e->sync && e->sync(e->state))
        return 1;
    *per_call_s = (bench_now_s() - t0) / reps;
    return 0;
}

static inline int bench_reps_for(const bench_plan *plan, double per_call_s)
{
    double r = ceil(plan->target_batch_s / fmax(per_call_s, 1e-9));
    return r < plan->min_reps ? plan->min_reps : r > 1e6 ? 1000000 : (int)r;
}

/* Median per-call time of plan->batches batches of each entry, one batch
 * of every entry per round. */
static inline int bench_measure_all(const bench_plan *plan, bench_entry *es, int n)
{
    if (plan->batches < 1 || plan->batches > BENCH_MAX_BATCHES) {
        fprintf(stderr, "bench_measure_all: %d batches, at most %d\n", plan->batches,
                BENCH_MAX_BATCHES);
        return 1;
    }
    for (int i = 0; i < n; i++) {
        bench_entry *e = &es[i];
        double t = 0;
        if (e->skip)
            continue;
        for (int w = 0; w < plan->warmup_calls; w++)
            if (bench_time_batch(e, 1, &t))
                return 1;
        if (plan->calibrate && bench_time_batch(e, bench_reps_for(plan, t), &t))
            return 1;
        e->reps = bench_reps_for(plan, t);
    }
    for (int b = 0; b < plan->batches; b++) {
        for (int i = 0; i < n; i++) {
            bench_entry *e = &es[i];
            damo_ctx_stats before = {0}, after = {0};
            if (e->skip)
                continue;
            damo_ctx_get_stats(e->ctx, &before);
            if (bench_time_batch(e, e->reps, &e->batches[b]))
                return 1;
            damo_ctx_get_stats(e->ctx, &after);
            e->waits += after.host_waits - before.host_waits;
        }
    }
    for (int i = 0; i < n; i++) {
        bench_entry *e = &es[i];
        if (e->skip)
            continue;
        qsort(e->batches, (size_t)plan->batches, sizeof e->batches[0], bench_cmp_double);
        e->t.sec = e->batches[plan->batches / 2];
        e->t.waits_per_call =
            e->ctx ? (double)e->waits / ((double)e->reps * plan->batches) : -1;
    }
    return 0;
}

/* ---- plain OpenCL triad ------------------------------------------------------ */

static inline int bench_cl_failed(cl_int err, const char *what)
{
    if (err == CL_SUCCESS)
        return 0;
    fprintf(stderr, "%s: %s\n", what, rt_cl_error_name(err));
    return 1;
}

/* a = b + s * c over n doubles: two reads and one write per element and no
 * arithmetic to speak of, the memory bandwidth a streaming kernel can hope
 * for on this device. */
typedef struct bench_triad {
    cl_command_queue queue;
    cl_kernel kern;
    size_t n;
    cl_mem buf[3];
} bench_triad;

static inline int bench_triad_once(void *state)
{
    bench_triad *t = state;
    return bench_cl_failed(clEnqueueNDRangeKernel(t->queue, t->kern, 1, NULL, &t->n, NULL, 0,
                                                  NULL, NULL),
                           "clEnqueueNDRangeKernel") ||
           bench_cl_failed(clFinish(t->queue), "clFinish");
}

/* Builds kernel `name` of the OpenCL source src on damo's device into
 * *kern; 0 on success, 1 with the failing call printed. */
static inline int bench_kernel(damo_ctx *ctx, const char *src, const char *name, cl_kernel *kern)
{
    cl_int err;
    cl_program prog = clCreateProgramWithSource(ctx->rt.context, 1, &src, NULL, &err);
    if (bench_cl_failed(err, "clCreateProgramWithSource"))
        return 1;
    int rc = bench_cl_failed(clBuildProgram(prog, 1, &ctx->rt.dev.device, "", NULL, NULL),
                             "clBuildProgram");
    if (!rc) {
        *kern = clCreateKernel(prog, name, &err);
        rc = bench_cl_failed(err, "clCreateKernel");
    }
    /* The kernel keeps its program alive. */
    clReleaseProgram(prog);
    return rc;
}

/* Builds the triad over n doubles on damo's queue and checks it once:
 * a = 1 + s * 2 everywhere. bench_triad_teardown also after a failure. */
static inline int bench_triad_setup(damo_ctx *ctx, size_t n, bench_triad *tr)
{
    static const char src_text[] =
        "#pragma OPENCL EXTENSION cl_khr_fp64 : enable\n"
        "__kernel void triad(__global double *restrict a, __global const double *restrict b,\n"
        "                    __global const double *restrict c, const double s)\n"
        "{\n"
        "    size_t i = get_global_id(0);\n"
        "    a[i] = b[i] + s * c[i];\n"
        "}\n";
    const double s = 3.0;
    memset(tr, 0, sizeof *tr);
    cl_int err;
    int rc = bench_kernel(ctx, src_text, "triad", &tr->kern);
    tr->queue = ctx->rt.queue;
    tr->n = n;
    const double fill[3] = {0.0, 1.0, 2.0};
    for (int i = 0; i < 3 && !rc; i++) {
        tr->buf[i] = clCreateBuffer(ctx->rt.context, CL_MEM_READ_WRITE, n * sizeof(double), NULL,
                                    &err);
        rc = bench_cl_failed(err, "clCreateBuffer") ||
             bench_cl_failed(clEnqueueFillBuffer(ctx->rt.queue, tr->buf[i], &fill[i],
                                                 sizeof fill[i], 0, n * sizeof(double), 0, NULL,
                                                 NULL),
                             "clEnqueueFillBuffer") ||
             bench_cl_failed(clSetKernelArg(tr->kern, (cl_uint)i, sizeof(cl_mem), &tr->buf[i]),
                             "clSetKernelArg");
    }
    rc = rc || bench_cl_failed(clSetKernelArg(tr->kern, 3, sizeof s, &s), "clSetKernelArg");
    double last = 0;
    rc = rc || bench_triad_once(tr) ||
         bench_cl_failed(clEnqueueReadBuffer(ctx->rt.queue, tr->buf[0], CL_TRUE,
                                             (n - 1) * sizeof(double), sizeof last, &last, 0,
                                             NULL, NULL),
                         "clEnqueueReadBuffer");
    if (!rc && last != 1.0 + s * 2.0) {
        fprintf(stderr, "WRONG RESULT: triad a[n-1] = %g, expected %g\n", last, 1.0 + s * 2.0);
        rc = 1;
    }
    return rc;
}

static inline void bench_triad_teardown(bench_triad *tr)
{
    for (int i = 0; i < 3; i++)
        if (tr->buf[i])
            clReleaseMemObject(tr->buf[i]);
    if (tr->kern)
        clReleaseKernel(tr->kern);
}

/* ---- NumPy, a python3 coprocess ------------------------------------------------ */

/* The end of every coprocess script, after the script has set up its
 * functions fns (taking no arguments) and printed its check line: each
 * "k reps" line of stdin is answered with the seconds per call of reps
 * calls of fns[k], so that NumPy's batches take their turn in the rounds
 * like any contender's. */
#define BENCH_PY_LOOP                                                          \
    "for line in sys.stdin:\n"                                                 \
    "    k, reps = (int(a) for a in line.split())\n"                           \
    "    f = fns[k]\n"                                                         \
    "    t = time.perf_counter()\n"                                            \
    "    for _ in range(reps):\n"                                              \
    "        f()\n"                                                            \
    "    print(repr((time.perf_counter() - t) / reps), flush=True)\n"

typedef struct bench_py {
    pid_t pid;
    FILE *to, *from;
} bench_py;

/* One of the coprocess's functions, as a bench_entry's batch state. */
typedef struct bench_py_fn {
    bench_py *py;
    int k;
} bench_py_fn;

static inline void bench_py_stop(bench_py *py)
{
    if (py->to)
        fclose(py->to); /* EOF on its stdin ends it */
    if (py->from)
        fclose(py->from);
    if (py->pid > 0) {
        int status;
        waitpid(py->pid, &status, 0);
    }
    memset(py, 0, sizeof *py);
}

/* Starts argv (python3 -c SCRIPT ...) with pipes on its stdin and stdout;
 * 0 when it runs, 1 when it could not be started. A missing NumPy shows
 * only when its first line does not come. */
static inline int bench_py_start(bench_py *py, char *const argv[])
{
    /* A coprocess that dies must not kill the benchmark with SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);
    memset(py, 0, sizeof *py);
    int in[2], out[2];
    if (pipe(in))
        return 1;
    if (pipe(out)) {
        close(in[0]);
        close(in[1]);
        return 1;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addclose(&fa, in[1]);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    int rc = posix_spawnp(&py->pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(out[1]);
    if (rc) {
        py->pid = 0;
        close(in[1]);
        close(out[0]);
        return 1;
    }
    py->to = fdopen(in[1], "w");
    if (!py->to)
        close(in[1]);
    py->from = fdopen(out[0], "r");
    if (!py->from)
        close(out[0]);
    if (!py->to || !py->from) {
        bench_py_stop(py);
        return 1;
    }
    return 0;
}

static inline int bench_py_batch(void *state, int reps, double *per_call_s)
{
    bench_py_fn *f = state;
    if (fprintf(f->py->to, "%d %d\n", f->k, reps) < 0 || fflush(f->py->to) ||
        fscanf(f->py->from, "%lf", per_call_s) != 1) {
        fprintf(stderr, "the NumPy coprocess stopped answering\n");
        return 1;
    }
    /* NumPy's OpenBLAS threads spin for a while after its last call
     * (OpenBLAS's THREAD_TIMEOUT, 2^28 cycles by default): the contender
     * after it would share the cores with them (measured: direct DGEMV
     * 400 x 784 then took 23 us instead of 16) */
    nanosleep(&(struct timespec){0, 200000000}, NULL);
    return 0;
}

static inline bench_entry bench_py_entry(bench_py_fn *f)
{
    bench_entry e = bench_entry_of(NULL, NULL, f, NULL);
    e.batch = bench_py_batch;
    return e;
}

#endif
