/*
 * Matrix products: float64 DGEMM (1024^3 and 256^3) and DGEMV (x @ v and
 * x.T @ u with x 400 x 784, a logistic regression's shape) through damo's
 * damo_dot, on each of its routes (the default one, and DAMO_BLAS=clblast),
 * against the libraries damo calls, called directly in the same run:
 * OpenBLAS (cblas_* on host memory), CLBlast (CLBlast* on cl_mem, on damo's
 * own queue) and NumPy (np.dot, its bundled OpenBLAS).
 *
 *   meson compile -C build bench/bench_blas && ./build/bench/bench_blas
 *
 * The device is chosen as damo_ctx_new does (DAMO_DEVICE overrides).
 * DAMO_BLAS is read when a context is opened: the default route runs on a
 * context opened with DAMO_BLAS unset, the CLBlast route on a second one
 * opened with DAMO_BLAS=clblast (the build's meson option blas=clblast
 * would make both CLBlast; the route each one took is printed).
 *
 * Every result is checked against direct OpenBLAS before timing, and a
 * wrong one aborts the run. damo's is checked after its context's buffer
 * pool has been left holding NaN (see poison_pool): a product that reads
 * its output buffer instead of only writing it fails then.
 * BENCH_BLAS_NO_POISON=1 skips that, to time a route with such a bug;
 * BENCH_BLAS_ROUTES=default times only damo's default route (its
 * DAMO_BLAS=clblast cells read n/a).
 */
#include <damo.h>

/* CLBlast must run on damo's own cl_context and queue so that it competes
 * for the same device under the same queue settings; only the internal
 * struct damo_ctx exposes them. */
#include "exec/exec.h"

#include <cblas.h>
#include <clblast_c.h>
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

enum { WARMUP_CALLS = 2, MIN_REPS = 3, BATCHES = 5 };
/* Long enough per batch to swamp timer and scheduling noise, short enough
 * to keep the whole run within a few minutes on a 2-core PoCL machine. */
static const double TARGET_BATCH_S = 0.3;
/* Goals this benchmark makes checkable. */
static const double GOAL_GEMM_VS_OPENBLAS = 0.9; /* damo GFLOP/s >= 0.9x OpenBLAS's */
static const double GOAL_GEMV_VS_OPENBLAS = 1.5; /* damo time in a loop <= 1.5x OpenBLAS's */

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

/* One call, and a sync that finishes what calls queued (NULL when each call
 * finishes its own work). 0 on success; the callee printed why otherwise. */
typedef int (*call_fn)(void *state);
/* A whole batch of reps calls timed elsewhere (NumPy): seconds per call. */
typedef int (*batch_fn)(void *state, int reps, double *per_call_s);

typedef struct timing {
    double sec;             /* median seconds per call */
    double waits_per_call;  /* damo host waits per call (-1: not damo) */
    double bufs_per_call;   /* damo device buffers created per call */
} timing;

static int time_batch(call_fn call, call_fn sync, void *state, int reps, double *per_call_s)
{
    double t0 = now_s();
    for (int i = 0; i < reps; i++)
        if (call(state))
            return 1;
    if (sync && sync(state))
        return 1;
    *per_call_s = (now_s() - t0) / reps;
    return 0;
}

static int reps_for(double per_call_s)
{
    double r = ceil(TARGET_BATCH_S / fmax(per_call_s, 1e-9));
    return r < MIN_REPS ? MIN_REPS : r > 1e6 ? 1000000 : (int)r;
}

/* One contender of a table: what to call, and its timing once measured. */
typedef struct entry {
    call_fn call, sync;
    batch_fn batch;  /* instead of call and sync */
    int skip;        /* not timed (t.sec stays 0) */
    void *state;
    damo_ctx *ctx;  /* a damo context whose host waits and buffer creations
                     * are counted over the timed batches, or NULL */
    int reps;
    double batches[BATCHES];
    uint64_t waits, bufs;
    timing t;
} entry;

static int time_entry(entry *e, int reps, double *per_call_s)
{
    return e->batch ? e->batch(e->state, reps, per_call_s)
                    : time_batch(e->call, e->sync, e->state, reps, per_call_s);
}

static entry entry_of(call_fn call, call_fn sync, void *state, damo_ctx *ctx)
{
    entry e;
    memset(&e, 0, sizeof e);
    e.call = call;
    e.sync = sync;
    e.state = state;
    e.ctx = ctx;
    return e;
}

/* Median per-call time of BATCHES batches of each entry. Warm-up calls
 * (kernels built, buffers pooled) and one calibration batch size each
 * entry's batches: a call in a loop without syncs may cost much less than
 * a lone synced one. The batches are interleaved, one of each entry per
 * round, so that load from elsewhere on the machine falls on all entries
 * alike and the ratios stay meaningful. */
static int measure_all(entry *es, int n)
{
    for (int i = 0; i < n; i++) {
        entry *e = &es[i];
        double t = 0;
        if (e->skip)
            continue;
        for (int w = 0; w < WARMUP_CALLS; w++)
            if (time_entry(e, 1, &t))
                return 1;
        if (time_entry(e, reps_for(t), &t))
            return 1;
        e->reps = reps_for(t);
    }
    for (int b = 0; b < BATCHES; b++) {
        for (int i = 0; i < n; i++) {
            entry *e = &es[i];
            damo_ctx_stats before = {0}, after = {0};
            if (e->skip)
                continue;
            damo_ctx_get_stats(e->ctx, &before);
            if (time_entry(e, e->reps, &e->batches[b]))
                return 1;
            damo_ctx_get_stats(e->ctx, &after);
            e->waits += after.host_waits - before.host_waits;
            e->bufs += after.buffers_created - before.buffers_created;
        }
    }
    for (int i = 0; i < n; i++) {
        entry *e = &es[i];
        double calls = (double)e->reps * BATCHES;
        if (e->skip)
            continue;
        qsort(e->batches, BATCHES, sizeof e->batches[0], cmp_double);
        e->t.sec = e->batches[BATCHES / 2];
        e->t.waits_per_call = e->ctx ? (double)e->waits / calls : -1;
        e->t.bufs_per_call = e->ctx ? (double)e->bufs / calls : -1;
    }
    return 0;
}

/* ---- inputs, the same in C and in the NumPy script -------------------------- */

/* v[i] = ((i * mul) % mod) / mod - 0.5: integer arithmetic then one
 * division and one subtraction, so NumPy computes the same bits. */
static double *fill(int64_t count, int64_t mul, int64_t mod)
{
    double *v = malloc((size_t)count * sizeof *v);
    if (!v) {
        fprintf(stderr, "out of memory (%lld doubles)\n", (long long)count);
        return NULL;
    }
    for (int64_t i = 0; i < count; i++)
        v[i] = (double)((i * mul) % mod) / (double)mod - 0.5;
    return v;
}

/* A matrix product's values against the direct OpenBLAS result: a wrong
 * transpose or a missing block differs by O(1), rounding by O(k * eps). */
static int check_values(const char *who, const char *what, const double *got,
                        const double *want, int64_t count, int64_t k)
{
    double tol = 1e-12 * (double)k;
    for (int64_t i = 0; i < count; i++) {
        if (!(fabs(got[i] - want[i]) <= tol)) {
            fprintf(stderr, "WRONG RESULT: %s, %s: element %lld is %.17g, OpenBLAS gives %.17g\n",
                    who, what, (long long)i, got[i], want[i]);
            return 1;
        }
    }
    return 0;
}

/* ---- OpenCL / CLBlast helpers ------------------------------------------------ */

static int cl_failed(cl_int err, const char *what)
{
    if (err == CL_SUCCESS)
        return 0;
    fprintf(stderr, "%s: %s\n", what, rt_cl_error_name(err));
    return 1;
}

static int clblast_failed(CLBlastStatusCode st, const char *what)
{
    if (st == CLBlastSuccess)
        return 0;
    fprintf(stderr, "%s: CLBlast status %d\n", what, (int)st);
    return 1;
}

static cl_mem device_copy(damo_ctx *ctx, const double *src, size_t count)
{
    cl_int err;
    cl_mem m = clCreateBuffer(ctx->rt.context, CL_MEM_READ_WRITE, count * sizeof(double), NULL, &err);
    if (cl_failed(err, "clCreateBuffer"))
        return NULL;
    /* No src: zeros. CLBlast's DGEMV computes beta * y even for beta 0, so
     * an output buffer holding NaN garbage gives NaN (BLAS says y need not
     * be set then): the output starts as zeros. */
    static const double zero = 0.0;
    cl_int st = src ? clEnqueueWriteBuffer(ctx->rt.queue, m, CL_TRUE, 0, count * sizeof(double),
                                           src, 0, NULL, NULL)
                    : clEnqueueFillBuffer(ctx->rt.queue, m, &zero, sizeof zero, 0,
                                          count * sizeof(double), 0, NULL, NULL);
    if (cl_failed(st, src ? "clEnqueueWriteBuffer" : "clEnqueueFillBuffer")) {
        clReleaseMemObject(m);
        return NULL;
    }
    return m;
}

/* ---- the product, in each implementation ------------------------------------ */

typedef enum kind { GEMM, GEMV, GEMV_T } kind;

/* One product: a is m x k (C order). GEMM: a @ b with b k x n. GEMV: a @ v
 * with v of length k (n is 1). GEMV_T: a.T @ u with u of length m (the
 * result has k elements). */
typedef struct problem {
    kind kind;
    int64_t m, n, k;
    const char *label;
    double *a, *b;     /* host inputs */
    double *want;      /* direct OpenBLAS result */
    double *got;       /* room for a result read back */
    int64_t out_count;
} problem;

/* OpenBLAS on host memory. */
typedef struct blas_state {
    problem *p;
} blas_state;

static int openblas_once(void *state)
{
    problem *p = ((blas_state *)state)->p;
    switch (p->kind) {
    case GEMM:
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)p->m, (blasint)p->n,
                    (blasint)p->k, 1.0, p->a, (blasint)p->k, p->b, (blasint)p->n, 0.0, p->want,
                    (blasint)p->n);
        break;
    case GEMV:
        cblas_dgemv(CblasRowMajor, CblasNoTrans, (blasint)p->m, (blasint)p->k, 1.0, p->a,
                    (blasint)p->k, p->b, 1, 0.0, p->want, 1);
        break;
    case GEMV_T:
        cblas_dgemv(CblasRowMajor, CblasTrans, (blasint)p->m, (blasint)p->k, 1.0, p->a,
                    (blasint)p->k, p->b, 1, 0.0, p->want, 1);
        break;
    }
    return 0;
}

/* CLBlast on cl_mem, on damo's queue. */
typedef struct clblast_state {
    problem *p;
    damo_ctx *ctx;
    cl_mem a, b, c;
} clblast_state;

static int clblast_enqueue(void *state)
{
    clblast_state *s = state;
    problem *p = s->p;
    cl_command_queue q = s->ctx->rt.queue;
    cl_event ev = NULL;
    CLBlastStatusCode st;
    switch (p->kind) {
    case GEMM:
        st = CLBlastDgemm(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeNo,
                          (size_t)p->m, (size_t)p->n, (size_t)p->k, 1.0, s->a, 0, (size_t)p->k,
                          s->b, 0, (size_t)p->n, 0.0, s->c, 0, (size_t)p->n, &q, &ev);
        break;
    case GEMV:
    case GEMV_T:
        st = CLBlastDgemv(CLBlastLayoutRowMajor,
                          p->kind == GEMV ? CLBlastTransposeNo : CLBlastTransposeYes,
                          (size_t)p->m, (size_t)p->k, 1.0, s->a, 0, (size_t)p->k, s->b, 0, 1,
                          0.0, s->c, 0, 1, &q, &ev);
        break;
    default:
        st = CLBlastInvalidOperation;
    }
    if (ev)
        clReleaseEvent(ev);
    return clblast_failed(st, "CLBlast call");
}

static int clblast_sync(void *state)
{
    return cl_failed(clFinish(((clblast_state *)state)->ctx->rt.queue), "clFinish");
}

static int clblast_once(void *state)
{
    return clblast_enqueue(state) || clblast_sync(state);
}

/* How many of damo's routes run: 2 (default, DAMO_BLAS=clblast), or 1
 * with BENCH_BLAS_ROUTES=default. */
static int n_routes = 2;

/* The environment of route r (0: default, 1: DAMO_BLAS=clblast), set
 * both when a context is opened and when a function is compiled on it, so
 * that the route holds whichever of the two reads DAMO_BLAS. */
static void route_env(int r)
{
    if (r)
        setenv("DAMO_BLAS", "clblast", 1);
    else
        unsetenv("DAMO_BLAS");
}

/* damo: f(a, b) = dot(a, b) or dot(a.T, b), compiled on one context. */
typedef struct damo_state {
    problem *p;
    damo_ctx *ctx;
    damo_function *f;
    damo_array *a, *b;
    char route[512];   /* the schedule's steps: the route the product took */
} damo_state;

static int damo_enqueue(void *state)
{
    damo_state *s = state;
    damo_arg args[2] = {DAMO_ARG(s->a), DAMO_ARG(s->b)};
    damo_array *y = NULL;
    if (damo_call(s->f, args, 2, &y, 1) != DAMO_OK) {
        fprintf(stderr, "damo_call: %s\n", damo_function_errmsg(s->f));
        return 1;
    }
    damo_array_release(y);
    return 0;
}

static int damo_sync(void *state)
{
    damo_state *s = state;
    if (damo_ctx_finish(s->ctx) != DAMO_OK) {
        fprintf(stderr, "damo_ctx_finish: %s\n", damo_ctx_errmsg(s->ctx));
        return 1;
    }
    return 0;
}

static int damo_once(void *state)
{
    return damo_enqueue(state) || damo_sync(state);
}

static int damo_setup(damo_state *s, damo_ctx *ctx, int route, problem *p)
{
    route_env(route);
    memset(s, 0, sizeof *s);
    s->p = p;
    s->ctx = ctx;
    damo_graph *g = damo_graph_new(ctx);
    if (!g) {
        fprintf(stderr, "damo_graph_new: out of memory\n");
        return 1;
    }
    damo_var *a = damo_dmatrix(g, "a");
    damo_var *b = p->kind == GEMM ? damo_dmatrix(g, "b") : damo_dvector(g, "b");
    damo_var *y = damo_dot(p->kind == GEMV_T ? damo_transpose(a) : a, b);
    damo_var *ins[2] = {a, b};
    if (y)
        s->f = damo_function_simple(g, 2, ins, 1, &y, 0);
    if (!s->f) {
        fprintf(stderr, "damo: building %s: %s\n", p->label, damo_graph_errmsg(g));
        damo_graph_free(g);
        return 1;
    }
    damo_graph_free(g);
    /* The schedule, one step after another: which route the product took. */
    size_t n_steps = damo_function_n_steps(s->f), len = 0;
    int has_blas = 0;
    for (size_t i = 0; i < n_steps && len < sizeof s->route; i++) {
        const char *t = damo_function_step_text(s->f, i);
        has_blas |= damo_function_step_kind(s->f, i) == DAMO_STEP_BLAS;
        int w = snprintf(s->route + len, sizeof s->route - len, "%s%s", i ? "; " : "", t ? t : "?");
        len += w > 0 ? (size_t)w : 0;
    }
    if (!has_blas && len < sizeof s->route)
        snprintf(s->route + len, sizeof s->route - len, " (no BLAS step)");
    int64_t ashape[2] = {p->m, p->k}, bshape[2] = {p->k, p->n};
    int64_t blen = p->kind == GEMV_T ? p->m : p->k;
    s->a = damo_array_from_data(ctx, DAMO_FLOAT64, 2, ashape, p->a);
    s->b = p->kind == GEMM ? damo_array_from_data(ctx, DAMO_FLOAT64, 2, bshape, p->b)
                           : damo_array_from_data(ctx, DAMO_FLOAT64, 1, &blen, p->b);
    if (!s->a || !s->b || damo_array_to_device(s->a) != DAMO_OK ||
        damo_array_to_device(s->b) != DAMO_OK || damo_ctx_finish(ctx) != DAMO_OK) {
        fprintf(stderr, "damo: inputs for %s: %s\n", p->label, damo_ctx_errmsg(ctx));
        return 1;
    }
    return 0;
}

static void damo_teardown(damo_state *s)
{
    damo_array_release(s->a);
    damo_array_release(s->b);
    damo_function_free(s->f);
}

/* Leaves NaN in device buffers of the result's size, back in the
 * context's pool, so that a result the product does not wholly write (a
 * BLAS call with beta 0 over garbage: CLBlast's DGEMV then gives NaN)
 * fails the check instead of passing on fresh zeroed memory. Best effort:
 * the pool decides what the product's first call gets. */
static int poison_pool(damo_ctx *ctx, int64_t count)
{
    const char *off = getenv("BENCH_BLAS_NO_POISON");
    if (off && *off && strcmp(off, "0"))
        return 0;
    damo_graph *g = damo_graph_new(ctx);
    damo_var *x = damo_dvector(g, "x");
    damo_var *y = damo_mul(x, damo_float(g, NAN));
    damo_function *f = y ? damo_function_simple(g, 1, &x, 1, &y, DAMO_FN_DEVICE_ONLY) : NULL;
    damo_array *z = damo_array_zeros(ctx, DAMO_FLOAT64, 1, &count);
    damo_array *out = NULL;
    damo_arg arg = DAMO_ARG(z);
    double v = 0;
    int rc = !f || !z || damo_call(f, &arg, 1, &out, 1) != DAMO_OK ||
             damo_array_get_f64(out, count - 1, &v) != DAMO_OK || !isnan(v);
    if (rc)
        fprintf(stderr, "poisoning the buffer pool: %s\n", damo_last_errmsg());
    damo_array_release(out);
    damo_array_release(z);
    damo_function_free(f);
    damo_graph_free(g);
    return rc;
}

/* First call (timed: it may build kernels) and the values against OpenBLAS. */
static int damo_check(damo_state *s, const char *who, double *first_s)
{
    problem *p = s->p;
    if (poison_pool(s->ctx, p->out_count))
        return 1;
    damo_arg args[2] = {DAMO_ARG(s->a), DAMO_ARG(s->b)};
    damo_array *y = NULL;
    double t0 = now_s();
    if (damo_call(s->f, args, 2, &y, 1) != DAMO_OK || damo_ctx_finish(s->ctx) != DAMO_OK) {
        fprintf(stderr, "damo (%s), %s: %s\n", who, p->label, damo_last_errmsg());
        damo_array_release(y);
        return 1;
    }
    *first_s = now_s() - t0;
    int64_t want_shape[2] = {p->m, p->n};
    int want_ndim = p->kind == GEMM ? 2 : 1;
    if (p->kind == GEMV_T)
        want_shape[0] = p->k;
    int bad = damo_array_ndim(y) != want_ndim;
    for (int i = 0; !bad && i < want_ndim; i++)
        bad = damo_array_shape(y)[i] != want_shape[i];
    if (bad || damo_array_dtype(y) != DAMO_FLOAT64) {
        fprintf(stderr, "WRONG RESULT: damo (%s), %s: dtype %s, ndim %d\n", who, p->label,
                damo_dtype_name(damo_array_dtype(y)), damo_array_ndim(y));
        damo_array_release(y);
        return 1;
    }
    if (damo_array_read(y, p->got) != DAMO_OK) {
        fprintf(stderr, "damo_array_read: %s\n", damo_ctx_errmsg(s->ctx));
        damo_array_release(y);
        return 1;
    }
    damo_array_release(y);
    char whobuf[128];
    snprintf(whobuf, sizeof whobuf, "damo (%s)", who);
    return check_values(whobuf, p->label, p->got, p->want, p->out_count,
                        p->kind == GEMV_T ? p->m : p->k);
}

static int clblast_setup(clblast_state *s, damo_ctx *ctx, problem *p, double *first_s)
{
    memset(s, 0, sizeof *s);
    s->p = p;
    s->ctx = ctx;
    int64_t blen = p->kind == GEMM ? p->k * p->n : p->kind == GEMV ? p->k : p->m;
    s->a = device_copy(ctx, p->a, (size_t)(p->m * p->k));
    s->b = s->a ? device_copy(ctx, p->b, (size_t)blen) : NULL;
    s->c = s->b ? device_copy(ctx, NULL, (size_t)p->out_count) : NULL;
    if (!s->c)
        return 1;
    /* The first call compiles CLBlast's kernels for this context. */
    double t0 = now_s();
    if (clblast_once(s))
        return 1;
    *first_s = now_s() - t0;
    if (cl_failed(clEnqueueReadBuffer(ctx->rt.queue, s->c, CL_TRUE, 0,
                                      (size_t)p->out_count * sizeof(double), p->got, 0, NULL,
                                      NULL),
                  "clEnqueueReadBuffer"))
        return 1;
    return check_values("CLBlast", p->label, p->got, p->want, p->out_count,
                        p->kind == GEMV_T ? p->m : p->k);
}

static void clblast_teardown(clblast_state *s)
{
    if (s->a)
        clReleaseMemObject(s->a);
    if (s->b)
        clReleaseMemObject(s->b);
    if (s->c)
        clReleaseMemObject(s->c);
}

/* ---- NumPy ----------------------------------------------------------------- */

/* argv: op ("gemm", "gemv", "gemv_t"), m, n, k; inputs as fill() makes
 * them. Prints the sum and the sum of magnitudes of np.dot's result on one
 * line (a check), then answers each "reps" line of stdin with the seconds
 * per call of reps calls. */
static const char PY_SCRIPT[] =
    "import sys, time\n"
    "import numpy as np\n"
    "op = sys.argv[1]\n"
    "m, n, k = (int(a) for a in sys.argv[2:5])\n"
    "def fill(count, mul, mod):\n"
    "    return ((np.arange(count, dtype=np.int64) * mul) % mod) / float(mod) - 0.5\n"
    "a = fill(m * k, 37, 101).reshape(m, k)\n"
    "if op == \"gemm\":\n"
    "    b = fill(k * n, 53, 103).reshape(k, n)\n"
    "    fn = lambda: np.dot(a, b)\n"
    "elif op == \"gemv\":\n"
    "    b = fill(k, 53, 103)\n"
    "    fn = lambda: np.dot(a, b)\n"
    "else:\n"
    "    b = fill(m, 53, 103)\n"
    "    fn = lambda: np.dot(a.T, b)\n"
    "r = fn()\n"
    "print(repr(float(r.sum())), repr(float(np.abs(r).sum())), flush=True)\n"
    "for line in sys.stdin:\n"
    "    reps = int(line)\n"
    "    t = time.perf_counter()\n"
    "    for _ in range(reps):\n"
    "        fn()\n"
    "    print(repr((time.perf_counter() - t) / reps), flush=True)\n";

typedef struct numpy {
    pid_t pid;
    FILE *to, *from;
} numpy;

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
    memset(py, 0, sizeof *py);
}

/* Starts NumPy on p's product and checks its result against OpenBLAS's.
 * Returns 0 when it runs, 1 when python3 or NumPy is missing (NumPy then
 * reads n/a), -1 on a wrong result (the run aborts). */
static int numpy_start(numpy *py, const problem *p)
{
    static const char *const OPS[] = {"gemm", "gemv", "gemv_t"};
    memset(py, 0, sizeof *py);
    int in[2], out[2];
    if (pipe(in))
        return 1;
    if (pipe(out)) {
        close(in[0]);
        close(in[1]);
        return 1;
    }
    char dims[3][32];
    snprintf(dims[0], sizeof dims[0], "%lld", (long long)p->m);
    snprintf(dims[1], sizeof dims[1], "%lld", (long long)p->n);
    snprintf(dims[2], sizeof dims[2], "%lld", (long long)p->k);
    char *argv[] = {"python3", "-c", (char *)PY_SCRIPT, (char *)OPS[p->kind],
                    dims[0], dims[1], dims[2], NULL};
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
        py->pid = 0;
        close(in[1]);
        close(out[0]);
        return 1;
    }
    py->to = fdopen(in[1], "w");
    py->from = fdopen(out[0], "r");
    double sum = 0, abs_sum = 0;
    if (!py->to || !py->from || fscanf(py->from, "%lf %lf", &sum, &abs_sum) != 2) {
        numpy_stop(py);
        return 1;
    }
    double want = 0, want_abs = 0;
    for (int64_t i = 0; i < p->out_count; i++) {
        want += p->want[i];
        want_abs += fabs(p->want[i]);
    }
    if (fabs(sum - want) > 1e-9 * want_abs || fabs(abs_sum - want_abs) > 1e-9 * want_abs) {
        fprintf(stderr, "WRONG RESULT: NumPy, %s: sum %.17g, sum |.| %.17g; OpenBLAS gives %.17g, "
                "%.17g\n", p->label, sum, abs_sum, want, want_abs);
        numpy_stop(py);
        return -1;
    }
    return 0;
}

static int numpy_batch(void *state, int reps, double *per_call_s)
{
    numpy *py = state;
    if (fprintf(py->to, "%d\n", reps) < 0 || fflush(py->to) ||
        fscanf(py->from, "%lf", per_call_s) != 1) {
        fprintf(stderr, "the NumPy coprocess stopped answering\n");
        return 1;
    }
    return 0;
}

/* ---- problems --------------------------------------------------------------- */

static int problem_init(problem *p, kind kd, int64_t m, int64_t n, int64_t k, const char *label)
{
    memset(p, 0, sizeof *p);
    p->kind = kd;
    p->m = m;
    p->n = n;
    p->k = k;
    p->label = label;
    p->out_count = kd == GEMM ? m * n : kd == GEMV ? m : k;
    p->a = fill(m * k, 37, 101);
    p->b = fill(kd == GEMM ? k * n : kd == GEMV ? k : m, 53, 103);
    p->want = calloc((size_t)p->out_count, sizeof(double));
    p->got = calloc((size_t)p->out_count, sizeof(double));
    if (!p->a || !p->b || !p->want || !p->got) {
        fprintf(stderr, "out of memory for %s\n", label);
        return 1;
    }
    blas_state bs = {p};
    return openblas_once(&bs);
}

static void problem_free(problem *p)
{
    free(p->a);
    free(p->b);
    free(p->want);
    free(p->got);
}

/* ---- report ------------------------------------------------------------------ */

static const char *fmt(char *buf, size_t size, const char *f, double v)
{
    if (v > 0 && isfinite(v))
        snprintf(buf, size, f, v);
    else
        snprintf(buf, size, "n/a");
    return buf;
}

typedef struct goal {
    char text[160];
    double value, limit;
    int at_least;  /* pass when value >= limit; else when value <= limit */
} goal;

enum { MAX_GOALS = 8 };
static goal goals[MAX_GOALS];
static int n_goals;

static void add_goal(double value, double limit, int at_least, const char *fmtstr, const char *what)
{
    if (n_goals == MAX_GOALS)
        return;
    goal *g = &goals[n_goals++];
    snprintf(g->text, sizeof g->text, fmtstr, what);
    g->value = value;
    g->limit = limit;
    g->at_least = at_least;
}

/* ---- DGEMM -------------------------------------------------------------------- */

static int run_gemm(damo_ctx *ctx[2], const char *route_name[2])
{
    static const int64_t SIZES[] = {1024, 256};
    static const char *const LABELS[] = {"DGEMM 1024^3", "DGEMM 256^3"};
    enum { N_SIZES = 2, N_TIMED = 4 };
    /* GFLOP/s of OpenBLAS, CLBlast, damo, damo (clblast), NumPy */
    double gf[N_SIZES][N_TIMED + 1];
    char route[2][512] = {"", ""};
    memset(gf, 0, sizeof gf);
    for (int i = 0; i < N_SIZES; i++) {
        int64_t s = SIZES[i];
        double flops = 2.0 * (double)s * (double)s * (double)s;
        problem p;
        blas_state bs = {&p};
        clblast_state cs;
        damo_state ds[2];
        memset(ds, 0, sizeof ds);
        memset(&cs, 0, sizeof cs);
        double first_cl = 0, first_d[2] = {0};
        int rc = problem_init(&p, GEMM, s, s, s, LABELS[i]) ||
                 clblast_setup(&cs, ctx[0], &p, &first_cl);
        for (int r = 0; r < n_routes && !rc; r++)
            rc = damo_setup(&ds[r], ctx[r], r, &p) ||
                 damo_check(&ds[r], route_name[r], &first_d[r]);
        entry es[N_TIMED + 1];
        numpy py = {0};
        int np_rc = rc ? 1 : numpy_start(&py, &p);
        rc = rc || np_rc < 0;
        if (!rc) {
            es[0] = entry_of(openblas_once, NULL, &bs, NULL);
            es[1] = entry_of(clblast_once, NULL, &cs, NULL);
            es[2] = entry_of(damo_once, NULL, &ds[0], ctx[0]);
            es[3] = entry_of(damo_once, NULL, &ds[1], ctx[1]);
            es[3].skip = n_routes < 2;
            es[4] = entry_of(NULL, NULL, &py, NULL);
            es[4].batch = numpy_batch;
            es[4].skip = np_rc != 0;
            rc = measure_all(es, N_TIMED + 1);
        }
        numpy_stop(&py);
        if (!rc) {
            for (int j = 0; j <= N_TIMED; j++)
                gf[i][j] = es[j].skip ? 0 : flops / es[j].t.sec * 1e-9;
            for (int r = 0; r < 2 && i == 0; r++)
                snprintf(route[r], sizeof route[r], "%s", ds[r].route);
            printf("  %s: checked; first calls (kernel builds, not timed): CLBlast %.2f s, damo "
                   "%.2f s, damo DAMO_BLAS=clblast %.2f s\n",
                   LABELS[i], first_cl, first_d[0], first_d[1]);
            fflush(stdout);
        }
        for (int r = 0; r < n_routes; r++)
            damo_teardown(&ds[r]);
        clblast_teardown(&cs);
        problem_free(&p);
        if (rc)
            return 1;
    }

    printf("\nDGEMM C = A @ B, float64, square; GFLOP/s = 2*n^3 flops / median time of a call, "
           "each call finished.\nRatios are of GFLOP/s (above 1: damo faster).\n\n");
    printf("%-7s %9s %9s %9s %14s %9s | %14s %13s %17s %11s\n", "size", "OpenBLAS", "CLBlast",
           "damo", "damo(clblast)", "NumPy", "damo/OpenBLAS", "damo/CLBlast",
           "damo(cl)/CLBlast", "damo/NumPy");
    for (int i = 0; i < N_SIZES; i++) {
        double *g = gf[i];
        char b[2][32];
        char c[3][32];
        printf("%-7s %9.2f %9.2f %9.2f %14s %9s | %13.2fx %12.2fx %16s%s %10s%s\n",
               LABELS[i] + 6, g[0], g[1], g[2], fmt(c[0], sizeof c[0], "%.2f", g[3]),
               fmt(b[0], sizeof b[0], "%.2f", g[4]), g[2] / g[0], g[2] / g[1],
               fmt(c[1], sizeof c[1], "%.2f", g[3] / g[1]), g[3] > 0 ? "x" : " ",
               fmt(b[1], sizeof b[1], "%.2f", g[4] > 0 ? g[2] / g[4] : 0), g[4] > 0 ? "x" : " ");
        add_goal(g[2] / g[0], GOAL_GEMM_VS_OPENBLAS, 1,
                 "%s: damo (default route) GFLOP/s / direct OpenBLAS GFLOP/s >= 0.90", LABELS[i]);
    }
    printf("\n  damo default route:      %s\n  damo DAMO_BLAS=clblast:  %s\n", route[0], route[1]);
    if (n_routes == 2 && !strcmp(route[0], route[1]))
        printf("  NOTE: both contexts took the same route (DAMO_BLAS=clblast changed nothing, or "
               "the build forces one)\n");
    return 0;
}

/* ---- DGEMV -------------------------------------------------------------------- */

static void gemv_line(const char *what, const timing *t, double openblas_s, double clblast_s)
{
    char b[2][32];
    if (t->sec <= 0) {
        printf("  %-46s %9s\n", what, "n/a");
        return;
    }
    printf("  %-46s %9.2f %10.2fx %9s%s %10s\n", what, t->sec * 1e6, t->sec / openblas_s,
           clblast_s > 0 ? fmt(b[0], sizeof b[0], "%.2f", t->sec / clblast_s) : "-",
           clblast_s > 0 ? "x" : " ",
           t->waits_per_call >= 0 ? (snprintf(b[1], sizeof b[1], "%.3f", t->waits_per_call), b[1])
                                  : "-");
}

static int run_gemv(damo_ctx *ctx[2], const char *route_name[2])
{
    static const kind KINDS[] = {GEMV, GEMV_T};
    static const char *const LABELS[] = {"DGEMV y = x @ v, x 400 x 784, v 784",
                                         "DGEMV y = x.T @ u, x 400 x 784, u 400"};
    static const char *const SHORT[] = {"DGEMV x @ v", "DGEMV x.T @ u"};
    enum { N_TIMED = 7 };
    printf("\nDGEMV, float64; microseconds per call (median). 'finished': each call followed by a "
           "finish;\n'loop': calls queued back to back, results released unread, one finish at the "
           "end, total / calls.\nRatios are of times (below 1: faster than the peer); /CLBlast "
           "compares like with like (finished\nwith finished, loop with loop); waits/call: "
           "damo's host waits per call.\n");
    fflush(stdout);
    for (int i = 0; i < 2; i++) {
        problem p;
        blas_state bs = {&p};
        clblast_state cs;
        damo_state ds[2];
        memset(ds, 0, sizeof ds);
        memset(&cs, 0, sizeof cs);
        double first_cl = 0, first_d[2] = {0};
        int rc = problem_init(&p, KINDS[i], 400, 1, 784, LABELS[i]) ||
                 clblast_setup(&cs, ctx[0], &p, &first_cl);
        for (int r = 0; r < n_routes && !rc; r++)
            rc = damo_setup(&ds[r], ctx[r], r, &p) || damo_check(&ds[r], route_name[r], &first_d[r]);
        entry es[N_TIMED + 1];
        numpy py = {0};
        int np_rc = rc ? 1 : numpy_start(&py, &p);
        rc = rc || np_rc < 0;
        if (!rc) {
            es[0] = entry_of(openblas_once, NULL, &bs, NULL);
            es[1] = entry_of(clblast_once, NULL, &cs, NULL);
            es[2] = entry_of(clblast_enqueue, clblast_sync, &cs, NULL);
            es[3] = entry_of(damo_once, NULL, &ds[0], ctx[0]);
            es[4] = entry_of(damo_enqueue, damo_sync, &ds[0], ctx[0]);
            es[5] = entry_of(damo_once, NULL, &ds[1], ctx[1]);
            es[6] = entry_of(damo_enqueue, damo_sync, &ds[1], ctx[1]);
            es[5].skip = es[6].skip = n_routes < 2;
            es[7] = entry_of(NULL, NULL, &py, NULL);
            es[7].batch = numpy_batch;
            es[7].skip = np_rc != 0;
            rc = measure_all(es, N_TIMED + 1);
        }
        numpy_stop(&py);
        double np_s = rc || np_rc ? 0 : es[7].t.sec;
        if (!rc) {
            char b[32], b2[32];
            double ob = es[0].t.sec, cl = es[1].t.sec, cl_loop = es[2].t.sec;
            printf("\n%s   (checked; first calls, not timed: CLBlast %.2f s, damo %.3f s, damo "
                   "clblast %.2f s)\n", LABELS[i], first_cl, first_d[0], first_d[1]);
            printf("  damo default route:     %s\n  damo DAMO_BLAS=clblast: %s\n\n", ds[0].route,
                   ds[1].route);
            printf("  %-46s %9s %11s %10s %10s\n", "", "us/call", "/OpenBLAS", "/CLBlast",
                   "waits/call");
            gemv_line("OpenBLAS cblas_dgemv, host memory (direct)", &es[0].t, ob, 0);
            gemv_line("CLBlast CLBlastDgemv, finished (direct)", &es[1].t, ob, cl);
            gemv_line("CLBlast CLBlastDgemv, loop (direct)", &es[2].t, ob, cl_loop);
            gemv_line("damo default route, finished", &es[3].t, ob, cl);
            gemv_line("damo default route, loop without reads", &es[4].t, ob, cl_loop);
            gemv_line("damo DAMO_BLAS=clblast, finished", &es[5].t, ob, cl);
            gemv_line("damo DAMO_BLAS=clblast, loop without reads", &es[6].t, ob, cl_loop);
            printf("  %-46s %9s %10s%s %9s  %10s\n", "NumPy np.dot",
                   fmt(b, sizeof b, "%.2f", np_s * 1e6), fmt(b2, sizeof b2, "%.2f", np_s / ob),
                   np_s > 0 ? "x" : " ", "-", "-");
            add_goal(es[4].t.sec / ob, GOAL_GEMV_VS_OPENBLAS, 0,
                     "%s: damo (default route) in a loop without reads, time / direct OpenBLAS "
                     "time <= 1.50", SHORT[i]);
            fflush(stdout);
        }
        for (int r = 0; r < n_routes; r++)
            damo_teardown(&ds[r]);
        clblast_teardown(&cs);
        problem_free(&p);
        if (rc)
            return 1;
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

/* ---- main ------------------------------------------------------------------------ */

int main(void)
{
    /* A NumPy coprocess that dies must not kill the benchmark. */
    signal(SIGPIPE, SIG_IGN);
    char err[512];
    damo_ctx *ctx[2] = {NULL, NULL};
    const char *route_name[2] = {"default", "DAMO_BLAS=clblast"};
    /* DAMO_BLAS is read when a context is opened. */
    route_env(0);
    if (damo_ctx_new(&ctx[0], err, sizeof err) != DAMO_OK) {
        fprintf(stderr, "damo_ctx_new: %s\n", err);
        return 1;
    }
    const char *routes = getenv("BENCH_BLAS_ROUTES");
    if (routes && !strcmp(routes, "default"))
        n_routes = 1;
    route_env(1);
    if (damo_ctx_new(&ctx[1], err, sizeof err) != DAMO_OK) {
        fprintf(stderr, "damo_ctx_new (DAMO_BLAS=clblast): %s\n", err);
        damo_ctx_free(ctx[0]);
        return 1;
    }
    if (!damo_ctx_has_fp64(ctx[0])) {
        fprintf(stderr, "device %s has no float64 support\n", damo_ctx_device_name(ctx[0]));
        damo_ctx_free(ctx[1]);
        damo_ctx_free(ctx[0]);
        return 1;
    }
    int have_numpy = system("python3 -c 'import numpy' >/dev/null 2>&1") == 0;

    printf("damo matrix-product benchmark\n");
    printf("device: %s\n", damo_ctx_device_name(ctx[0]));
    print_load();
    printf("OpenBLAS (linked): %s, core %s, %d thread(s)\n", openblas_get_config(),
           openblas_get_corename(), openblas_get_num_threads());
    printf("per cell: %d warm-up calls and a calibration batch, then the median of %d batches of "
           ">=%d calls (~%.1f s each),\nthe batches of a table's contenders interleaved. First "
           "calls build kernels (CLBlast compiles for\nseconds on PoCL unless PoCL's cache has "
           "them) and are never timed. All results are checked against\ndirect OpenBLAS before "
           "timing%s; inputs are on the device (damo, CLBlast) or in host memory\n(OpenBLAS, "
           "NumPy).\n\n",
           WARMUP_CALLS, BATCHES, MIN_REPS, TARGET_BATCH_S,
           getenv("BENCH_BLAS_NO_POISON") && strcmp(getenv("BENCH_BLAS_NO_POISON"), "0")
               ? " (BENCH_BLAS_NO_POISON: damo's buffer pool not poisoned first)"
               : ", damo's after its buffer pool was left holding NaN");
    fflush(stdout);

    int rc = run_gemm(ctx, route_name) || run_gemv(ctx, route_name);
    if (!rc) {
        printf("\ngoals (default route, this device):\n");
        for (int i = 0; i < n_goals; i++)
            printf("  %-100s %6.2f  %s\n", goals[i].text, goals[i].value,
                   !(goals[i].value > 0 && isfinite(goals[i].value)) ? "n/a"
                   : (goals[i].at_least ? goals[i].value >= goals[i].limit
                                        : goals[i].value <= goals[i].limit)
                       ? "PASS"
                       : "FAIL");
        printf("\nNumPy runs np.dot with its own bundled OpenBLAS in a python3 coprocess, its batches "
               "interleaved with the others%s.\n",
               have_numpy ? "" : " (python3 with numpy not found: n/a)");
    }
    damo_ctx_free(ctx[1]);
    damo_ctx_free(ctx[0]);
    return rc;
}
