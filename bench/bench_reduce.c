/*
 * Reductions: the sum of n = 2^24 float64 and the fused sum of squares
 * ((x ** 2).sum(), spelled damo_sum(damo_sqr(x)) and damo_sum(damo_pow(x,
 * 2))), input on the device, each call finished, against the memory
 * bandwidth a plain OpenCL triad reaches on damo's own queue and against
 * NumPy (x.sum(), (x**2).sum()), all timed in the same run.
 *
 *   meson compile -C build bench/bench_reduce && ./build/bench/bench_reduce
 *
 * The device is chosen as damo_ctx_new does (DAMO_DEVICE overrides).
 * Every value is checked against the exact sum before timing (also over a
 * view of n - 3 elements, a length no vector or group size divides); a
 * wrong one aborts the run. Batches of all contenders, NumPy included (a
 * python3 coprocess), are interleaved, so that load from elsewhere on the
 * machine falls on all of them alike.
 */
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

enum { LOG2_N = 24, WARMUP_CALLS = 2, MIN_REPS = 5, BATCHES = 5 };
/* Long enough per batch to swamp timer and scheduling noise, short enough
 * to keep the whole run within a minute on a 2-core PoCL machine. */
static const double TARGET_BATCH_S = 0.3;
static const double TRIAD_S = 3.0;
/* Goals this benchmark makes checkable. */
static const double GOAL_VS_TRIAD = 0.8;  /* damo GB/s >= 0.8x the triad's */
/* Kahan within a work-item and a tree across them: far below this. */
static const double MAX_REL_ERR = 1e-12;

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

/* ---- timing ---------------------------------------------------------------- */

/* One complete call, finished on the device; 0 on success (the callee has
 * printed the reason otherwise). */
typedef int (*call_fn)(void *state);
/* A whole batch of reps calls timed elsewhere (NumPy): seconds per call. */
typedef int (*batch_fn)(void *state, int reps, double *per_call_s);

typedef struct timing {
    double sec;            /* median seconds per call */
    double waits_per_call; /* damo host waits per call (-1: not damo) */
} timing;

/* One contender of the table: what to call, and its timing once measured. */
typedef struct entry {
    call_fn call;    /* or: */
    batch_fn batch;
    void *state;
    damo_ctx *ctx;   /* a damo context whose host waits are counted, or NULL */
    int reps;
    double batches[BATCHES];
    uint64_t waits;
    timing t;
} entry;

static int time_batch(entry *e, int reps, double *per_call_s)
{
    if (e->batch)
        return e->batch(e->state, reps, per_call_s);
    double t0 = now_s();
    for (int i = 0; i < reps; i++)
        if (e->call(e->state))
            return 1;
    *per_call_s = (now_s() - t0) / reps;
    return 0;
}

static int reps_for(double per_call_s)
{
    double r = ceil(TARGET_BATCH_S / fmax(per_call_s, 1e-9));
    return r < MIN_REPS ? MIN_REPS : r > 1e6 ? 1000000 : (int)r;
}

/* Median per-call time of BATCHES batches of each entry, sized from its
 * last warm-up call (kernels built, buffers pooled). The batches are
 * interleaved, one of each entry per round. */
static int measure_all(entry *es, int n)
{
    for (int i = 0; i < n; i++) {
        double t = 0;
        for (int w = 0; w < WARMUP_CALLS; w++)
            if (time_batch(&es[i], 1, &t))
                return 1;
        es[i].reps = reps_for(t);
    }
    for (int b = 0; b < BATCHES; b++) {
        for (int i = 0; i < n; i++) {
            entry *e = &es[i];
            damo_ctx_stats before = {0}, after = {0};
            damo_ctx_get_stats(e->ctx, &before);
            if (time_batch(e, e->reps, &e->batches[b]))
                return 1;
            damo_ctx_get_stats(e->ctx, &after);
            e->waits += after.host_waits - before.host_waits;
        }
    }
    for (int i = 0; i < n; i++) {
        entry *e = &es[i];
        qsort(e->batches, BATCHES, sizeof e->batches[0], cmp_double);
        e->t.sec = e->batches[BATCHES / 2];
        e->t.waits_per_call = e->ctx ? (double)e->waits / ((double)e->reps * BATCHES) : -1;
    }
    return 0;
}

/* The machine's load when the run starts: timings on a 2-core machine
 * that is also running something else are not the device's. */
static void print_load(void)
{
    FILE *f = fopen("/proc/loadavg", "r");
    double l1 = 0;
    if (f && fscanf(f, "%lf", &l1) == 1)
        printf("load average (1 min) at start: %.2f%s\n", l1,
               l1 > 0.5 ? "  -- the machine is busy: timings are noisy" : "");
    if (f)
        fclose(f);
}

/* ---- plain OpenCL triad (as bench_elemwise's) -------------------------------- */

static const char TRIAD_SRC[] =
    "#pragma OPENCL EXTENSION cl_khr_fp64 : enable\n"
    "__kernel void triad(__global double *restrict a, __global const double *restrict b,\n"
    "                    __global const double *restrict c, const double s)\n"
    "{\n"
    "    size_t i = get_global_id(0);\n"
    "    a[i] = b[i] + s * c[i];\n"
    "}\n";

static int cl_failed(cl_int err, const char *what)
{
    if (err == CL_SUCCESS)
        return 0;
    fprintf(stderr, "%s: %s\n", what, rt_cl_error_name(err));
    return 1;
}

typedef struct triad {
    cl_command_queue queue;
    cl_kernel kern;
    size_t n;
    cl_mem buf[3];
} triad;

static int triad_once(void *state)
{
    triad *t = state;
    return cl_failed(clEnqueueNDRangeKernel(t->queue, t->kern, 1, NULL, &t->n, NULL, 0, NULL, NULL),
                     "clEnqueueNDRangeKernel") ||
           cl_failed(clFinish(t->queue), "clFinish");
}

/* Builds the triad over n doubles on damo's queue and checks it once:
 * a = 1 + 3 * 2 everywhere. */
static int triad_setup(damo_ctx *ctx, size_t n, triad *tr)
{
    memset(tr, 0, sizeof *tr);
    const char *src = TRIAD_SRC;
    cl_int err;
    cl_program prog = clCreateProgramWithSource(ctx->rt.context, 1, &src, NULL, &err);
    if (cl_failed(err, "clCreateProgramWithSource"))
        return 1;
    int rc = cl_failed(clBuildProgram(prog, 1, &ctx->rt.dev.device, "", NULL, NULL),
                       "clBuildProgram");
    if (!rc) {
        tr->kern = clCreateKernel(prog, "triad", &err);
        rc = cl_failed(err, "clCreateKernel");
    }
    /* The kernel keeps its program alive. */
    clReleaseProgram(prog);
    tr->queue = ctx->rt.queue;
    tr->n = n;
    const double fill[3] = {0.0, 1.0, 2.0};
    double s = TRIAD_S;
    for (int i = 0; i < 3 && !rc; i++) {
        tr->buf[i] = clCreateBuffer(ctx->rt.context, CL_MEM_READ_WRITE, n * sizeof(double), NULL,
                                    &err);
        rc = cl_failed(err, "clCreateBuffer") ||
             cl_failed(clEnqueueFillBuffer(ctx->rt.queue, tr->buf[i], &fill[i], sizeof fill[i], 0,
                                           n * sizeof(double), 0, NULL, NULL),
                       "clEnqueueFillBuffer") ||
             cl_failed(clSetKernelArg(tr->kern, (cl_uint)i, sizeof(cl_mem), &tr->buf[i]),
                       "clSetKernelArg");
    }
    rc = rc || cl_failed(clSetKernelArg(tr->kern, 3, sizeof s, &s), "clSetKernelArg");
    double last = 0;
    rc = rc || triad_once(tr) ||
         cl_failed(clEnqueueReadBuffer(ctx->rt.queue, tr->buf[0], CL_TRUE,
                                       (n - 1) * sizeof(double), sizeof last, &last, 0, NULL, NULL),
                   "clEnqueueReadBuffer");
    if (!rc && last != 1.0 + TRIAD_S * 2.0) {
        fprintf(stderr, "WRONG RESULT: triad a[n-1] = %g, expected %g\n", last,
                1.0 + TRIAD_S * 2.0);
        rc = 1;
    }
    return rc;
}

static void triad_teardown(triad *tr)
{
    for (int i = 0; i < 3; i++)
        if (tr->buf[i])
            clReleaseMemObject(tr->buf[i]);
    if (tr->kern)
        clReleaseKernel(tr->kern);
}

/* ---- damo ---------------------------------------------------------------------- */

typedef enum expr { SUM, SUM_SQR, SUM_POW2, N_EXPRS } expr;
static const char *const EXPR_TEXT[N_EXPRS] = {"sum(x)", "sum(sqr(x))", "sum(pow(x, 2))"};

typedef struct damo_bench {
    damo_ctx *ctx;
    damo_function *f;
    damo_array *x;
    int read;        /* read the result each call, else only finish */
    double value;
} damo_bench;

static int damo_once(void *state)
{
    damo_bench *b = state;
    damo_arg arg = DAMO_ARG(b->x);
    damo_array *y = NULL;
    int bad = damo_call(b->f, &arg, 1, &y, 1) != DAMO_OK ||
              (b->read ? damo_array_get_f64(y, 0, &b->value) : damo_ctx_finish(b->ctx)) != DAMO_OK;
    if (bad)
        fprintf(stderr, "damo: %s\n", damo_last_errmsg());
    damo_array_release(y);
    return bad;
}

static damo_function *compile_expr(damo_ctx *ctx, expr e)
{
    damo_graph *g = damo_graph_new(ctx);
    if (!g) {
        fprintf(stderr, "damo_graph_new: out of memory\n");
        return NULL;
    }
    damo_var *x = damo_dvector(g, "x");
    damo_var *y = e == SUM        ? damo_sum(x, NULL, 0, 0)
                  : e == SUM_SQR ? damo_sum(damo_sqr(x), NULL, 0, 0)
                                 : damo_sum(damo_pow(x, damo_float(g, 2)), NULL, 0, 0);
    damo_function *f = y ? damo_function_simple(g, 1, &x, 1, &y, 0) : NULL;
    if (!f)
        fprintf(stderr, "damo: building %s: %s\n", EXPR_TEXT[e], damo_graph_errmsg(g));
    damo_graph_free(g);
    return f;
}

/* The exact value of EXPR over x[i] = i / n, i < count (n a power of 2:
 * every x[i] is exact, and so is the sum of their squares' exact values). */
static long double exact(expr e, int64_t count, int64_t n)
{
    long double c = (long double)count, nn = (long double)n;
    return e == SUM ? c * (c - 1) / 2 / nn : (c - 1) * c * (2 * c - 1) / 6 / (nn * nn);
}

static double rel_err(double got, long double want)
{
    return (double)(fabsl((long double)got - want) / fabsl(want));
}

/* The function's value on b->x (count elements of x[i] = i / n) against
 * the exact one; the relative error through *err. */
static int check(damo_bench *b, expr e, int64_t count, int64_t n, const char *what, double *err)
{
    b->read = 1;
    if (damo_once(b))
        return 1;
    *err = rel_err(b->value, exact(e, count, n));
    if (!(*err <= MAX_REL_ERR)) {
        fprintf(stderr, "WRONG RESULT: damo %s over %s: %.17g, exact %.17Lg (relative error %.3g)\n",
                EXPR_TEXT[e], what, b->value, exact(e, count, n), *err);
        return 1;
    }
    return 0;
}

/* One line per function: its steps, for the table's notes. */
static void print_steps(const char *what, damo_function *f)
{
    size_t n = damo_function_n_steps(f);
    printf("  %-16s %zu step(s), %zu kernel(s):", what, n, damo_function_n_kernels(f));
    for (size_t i = 0; i < n; i++) {
        const char *t = damo_function_step_text(f, i);
        printf("%s %s", i ? ";" : "", t ? t : "?");
    }
    printf("\n");
}

/* ---- NumPy, a python3 coprocess ------------------------------------------------- */

/* argv: n, then one Python expression over x per function. Prints the
 * functions' values on one line, then answers each "k reps" line of stdin
 * with the seconds per call of reps calls of function k. */
static const char PY_SCRIPT[] =
    "import sys, time\n"
    "import numpy as np\n"
    "n = int(sys.argv[1])\n"
    "x = np.arange(n, dtype=np.float64) / n\n"
    "fns = [eval(\"lambda x: \" + e) for e in sys.argv[2:]]\n"
    "print(\" \".join(repr(float(f(x))) for f in fns), flush=True)\n"
    "for line in sys.stdin:\n"
    "    k, reps = (int(a) for a in line.split())\n"
    "    f = fns[k]\n"
    "    t = time.perf_counter()\n"
    "    for _ in range(reps):\n"
    "        f(x)\n"
    "    print(repr((time.perf_counter() - t) / reps), flush=True)\n";

typedef struct numpy {
    pid_t pid;
    FILE *to, *from;
} numpy;

typedef struct numpy_fn {
    numpy *py;
    int k;
} numpy_fn;

/* Starts the coprocess and reads the n_fns values; 1 when python3 or
 * NumPy is missing (NumPy then reads n/a). */
static int numpy_start(numpy *py, int64_t n, int n_fns, const char *const *exprs, double *values)
{
    memset(py, 0, sizeof *py);
    py->pid = -1;
    int in[2], out[2];
    if (pipe(in))
        return 1;
    if (pipe(out)) {
        close(in[0]);
        close(in[1]);
        return 1;
    }
    char nbuf[32];
    snprintf(nbuf, sizeof nbuf, "%lld", (long long)n);
    char *argv[8] = {"python3", "-c", (char *)PY_SCRIPT, nbuf};
    for (int i = 0; i < n_fns && i < 4; i++)
        argv[4 + i] = (char *)exprs[i];
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addclose(&fa, in[1]);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    int rc = posix_spawnp(&py->pid, "python3", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(out[1]);
    if (rc) {
        py->pid = -1;
        close(in[1]);
        close(out[0]);
        return 1;
    }
    py->to = fdopen(in[1], "w");
    py->from = fdopen(out[0], "r");
    if (!py->to || !py->from)
        return 1;
    for (int i = 0; i < n_fns; i++)
        if (fscanf(py->from, "%lf", &values[i]) != 1)
            return 1;
    return 0;
}

static int numpy_batch(void *state, int reps, double *per_call_s)
{
    numpy_fn *f = state;
    if (fprintf(f->py->to, "%d %d\n", f->k, reps) < 0 || fflush(f->py->to) ||
        fscanf(f->py->from, "%lf", per_call_s) != 1) {
        fprintf(stderr, "the NumPy coprocess stopped answering\n");
        return 1;
    }
    return 0;
}

static void numpy_stop(numpy *py)
{
    if (py->to)
        fclose(py->to);  /* EOF on its stdin ends it */
    if (py->from)
        fclose(py->from);
    if (py->pid > 0) {
        int status;
        waitpid(py->pid, &status, 0);
    }
}

/* ---- main ---------------------------------------------------------------------- */

static const char *fmt(char *buf, size_t size, const char *f, double v)
{
    if (v > 0 && isfinite(v))
        snprintf(buf, size, f, v);
    else
        snprintf(buf, size, "n/a");
    return buf;
}

static void row(const char *what, double bytes, const timing *t, double triad_gbs, double numpy_s)
{
    char b[3][32];
    double gbs = bytes / t->sec * 1e-9;
    printf("  %-46s %9.3f %8.2f %8.2fx %9s%s %10s\n", what, t->sec * 1e3, gbs, gbs / triad_gbs,
           fmt(b[0], sizeof b[0], "%.2f", numpy_s / t->sec), numpy_s > 0 ? "x" : " ",
           t->waits_per_call >= 0 ? (snprintf(b[1], sizeof b[1], "%.2f", t->waits_per_call), b[1])
                                  : "-");
}

static damo_array *make_input(damo_ctx *ctx, int64_t n)
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

/* Indices of the timed entries. */
enum { E_TRIAD, E_SUM, E_SUM_SQR, E_SUM_POW2, E_SUM_READ, E_NP_SUM, E_NP_SQR, N_ENTRIES };

static int run(damo_ctx *ctx, int64_t n, damo_function *const f[N_EXPRS], damo_array *x)
{
    const double bytes = 8.0 * (double)n;
    static const char *const NP_EXPRS[2] = {"x.sum()", "(x**2).sum()"};
    numpy py;
    double np_values[2] = {0, 0};
    int have_numpy = !numpy_start(&py, n, 2, NP_EXPRS, np_values);
    if (have_numpy && (!(rel_err(np_values[0], exact(SUM, n, n)) <= MAX_REL_ERR) ||
                       !(rel_err(np_values[1], exact(SUM_SQR, n, n)) <= MAX_REL_ERR))) {
        fprintf(stderr, "WRONG RESULT: NumPy gives %.17g and %.17g\n", np_values[0], np_values[1]);
        numpy_stop(&py);
        return 1;
    }

    triad tr;
    damo_bench db[N_EXPRS + 1];
    numpy_fn nf[2] = {{&py, 0}, {&py, 1}};
    entry es[N_ENTRIES];
    memset(es, 0, sizeof es);
    int rc = triad_setup(ctx, (size_t)n, &tr);
    es[E_TRIAD].call = triad_once;
    es[E_TRIAD].state = &tr;
    for (int e = 0; e <= N_EXPRS; e++) {
        db[e] = (damo_bench){ctx, f[e < N_EXPRS ? e : SUM], x, e == N_EXPRS, 0};
        es[E_SUM + e].call = damo_once;
        es[E_SUM + e].state = &db[e];
        es[E_SUM + e].ctx = ctx;
    }
    for (int k = 0; k < 2; k++) {
        es[E_NP_SUM + k].batch = numpy_batch;
        es[E_NP_SUM + k].state = &nf[k];
    }
    rc = rc || measure_all(es, have_numpy ? N_ENTRIES : E_NP_SUM);
    triad_teardown(&tr);
    numpy_stop(&py);
    if (rc)
        return 1;

    double triad_gbs = 24.0 * (double)n / es[E_TRIAD].t.sec * 1e-9;
    double np_sum = have_numpy ? es[E_NP_SUM].t.sec : 0, np_sq = have_numpy ? es[E_NP_SQR].t.sec : 0;
    char b[2][32];
    printf("  %-46s %9s %8s %9s %10s %10s\n", "", "ms/call", "GB/s", "/triad", "vs NumPy",
           "waits/call");
    printf("  %-46s %9.3f %8.2f %8.2fx %10s %10s\n", "triad a = b + s*c, plain OpenCL (24*n bytes)",
           es[E_TRIAD].t.sec * 1e3, triad_gbs, 1.0, "", "-");
    row("damo sum(x)", bytes, &es[E_SUM].t, triad_gbs, np_sum);
    row("damo sum(x), result read each call", bytes, &es[E_SUM_READ].t, triad_gbs, np_sum);
    if (have_numpy)
        row("NumPy x.sum()", bytes, &es[E_NP_SUM].t, triad_gbs, np_sum);
    row("damo sum(sqr(x))", bytes, &es[E_SUM_SQR].t, triad_gbs, np_sq);
    row("damo sum(pow(x, 2))", bytes, &es[E_SUM_POW2].t, triad_gbs, np_sq);
    if (have_numpy)
        row("NumPy (x**2).sum()", bytes, &es[E_NP_SQR].t, triad_gbs, np_sq);

    printf("\n  GB/s: 8*n bytes read per call / median time (the triad: 24*n bytes, two read and "
           "one written).\n  /triad: ratio of GB/s. vs NumPy: NumPy's time / damo's (above 1: "
           "damo faster). waits/call: damo's host waits.\n");
    if (have_numpy)
        printf("\n  NumPy's values: relative error %.2g (sum), %.2g (sum of squares)\n",
               rel_err(np_values[0], exact(SUM, n, n)), rel_err(np_values[1], exact(SUM_SQR, n, n)));
    printf("  damo's schedules:\n");
    for (int e = 0; e < N_EXPRS; e++)
        print_steps(EXPR_TEXT[e], f[e]);

    struct { const char *what; double value, limit; int strictly; } goals[] = {
        {"sum(x): damo GB/s / triad GB/s >= 0.80", triad_gbs > 0 ? bytes / es[E_SUM].t.sec * 1e-9 / triad_gbs : 0,
         GOAL_VS_TRIAD, 0},
        {"sum(x): NumPy time / damo time > 1 (faster than NumPy)", np_sum / es[E_SUM].t.sec, 1, 1},
        {"sum(sqr(x)): damo GB/s / triad GB/s >= 0.80",
         bytes / es[E_SUM_SQR].t.sec * 1e-9 / triad_gbs, GOAL_VS_TRIAD, 0},
        {"sum(sqr(x)): NumPy time / damo time > 1 (faster than NumPy)",
         np_sq / es[E_SUM_SQR].t.sec, 1, 1},
        {"sum(pow(x, 2)): damo GB/s / triad GB/s >= 0.80",
         bytes / es[E_SUM_POW2].t.sec * 1e-9 / triad_gbs, GOAL_VS_TRIAD, 0},
        {"sum(pow(x, 2)): NumPy time / damo time > 1 (faster than NumPy)",
         np_sq / es[E_SUM_POW2].t.sec, 1, 1},
    };
    printf("\ngoals (this device):\n");
    for (size_t i = 0; i < sizeof goals / sizeof goals[0]; i++) {
        int known = goals[i].value > 0 && isfinite(goals[i].value);
        int pass = goals[i].strictly ? goals[i].value > goals[i].limit
                                     : goals[i].value >= goals[i].limit;
        printf("  %-64s %6s  %s\n", goals[i].what, fmt(b[0], sizeof b[0], "%.2f", goals[i].value),
               known ? (pass ? "PASS" : "FAIL") : "n/a");
    }
    printf("\nNumPy runs in a python3 coprocess, its batches interleaved with damo's%s.\n",
           have_numpy ? "" : " (python3 with numpy not found: n/a)");
    return 0;
}

int main(void)
{
    /* A NumPy coprocess that dies must not kill the benchmark. */
    signal(SIGPIPE, SIG_IGN);
    char err[512];
    damo_ctx *ctx;
    if (damo_ctx_new(&ctx, err, sizeof err) != DAMO_OK) {
        fprintf(stderr, "damo_ctx_new: %s\n", err);
        return 1;
    }
    if (!damo_ctx_has_fp64(ctx)) {
        fprintf(stderr, "device %s has no float64 support\n", damo_ctx_device_name(ctx));
        damo_ctx_free(ctx);
        return 1;
    }
    const int64_t n = (int64_t)1 << LOG2_N;
    printf("damo reduction benchmark\n");
    printf("device: %s\n", damo_ctx_device_name(ctx));
    print_load();
    printf("x[i] = i / n, n = 2^%d float64 (%.0f MiB) on the device; per row: %d warm-up calls, "
           "then the median\nof %d interleaved batches of >=%d calls (~%.1f s each), each call "
           "finished on the device (damo_ctx_finish)\n\n",
           LOG2_N, 8.0 * (double)n / 1048576.0, WARMUP_CALLS, BATCHES, MIN_REPS, TARGET_BATCH_S);
    fflush(stdout);

    damo_function *f[N_EXPRS] = {NULL};
    damo_array *x = make_input(ctx, n), *x_odd = NULL;
    int rc = !x;
    for (int e = 0; e < N_EXPRS && !rc; e++)
        rc = !(f[e] = compile_expr(ctx, e));
    /* A length that is no multiple of any vector or group size: a view of
     * x's first n - 3 elements. */
    if (!rc) {
        int64_t odd = n - 3, stride = 1;
        x_odd = damo_array_strided_view(x, 1, &odd, &stride, 0);
        rc = !x_odd;
        if (rc)
            fprintf(stderr, "damo_array_strided_view: %s\n", damo_ctx_errmsg(ctx));
    }
    double errs[N_EXPRS] = {0};
    for (int e = 0; e < N_EXPRS && !rc; e++) {
        damo_bench b = {ctx, f[e], x_odd, 1, 0};
        double odd_err;
        rc = check(&b, e, n - 3, n, "x[:n-3] (a view)", &odd_err);
        b.x = x;
        rc = rc || check(&b, e, n, n, "x", &errs[e]);
    }
    if (!rc) {
        printf("checked against the exact sums (over x and a view of its first n - 3): relative "
               "error\nsum %.2g, sum(sqr) %.2g, sum(pow) %.2g\n\n",
               errs[SUM], errs[SUM_SQR], errs[SUM_POW2]);
        fflush(stdout);
        rc = run(ctx, n, f, x);
    }
    for (int e = 0; e < N_EXPRS; e++)
        damo_function_free(f[e]);
    damo_array_release(x_odd);
    damo_array_release(x);
    damo_ctx_free(ctx);
    return rc;
}
