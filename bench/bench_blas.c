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

#include "bench_util.h"

#include <cblas.h>
#include <clblast_c.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Batches long enough to swamp timer and scheduling noise, short enough to
 * keep the whole run within a few minutes on a 2-core PoCL machine. */
static const bench_plan PLAN = {
    .warmup_calls = 2, .min_reps = 3, .batches = 5, .target_batch_s = 0.3, .calibrate = 1};
/* Goals this benchmark makes checkable. */
static const double GOAL_GEMM_VS_OPENBLAS = 0.9; /* damo GFLOP/s >= 0.9x OpenBLAS's */
static const double GOAL_GEMV_VS_OPENBLAS = 1.5; /* damo time in a loop <= 1.5x OpenBLAS's */

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
    if (bench_cl_failed(err, "clCreateBuffer"))
        return NULL;
    /* No src: zeros. CLBlast's DGEMV computes beta * y even for beta 0, so
     * an output buffer holding NaN garbage gives NaN (BLAS says y need not
     * be set then): the output starts as zeros. */
    static const double zero = 0.0;
    cl_int st = src ? clEnqueueWriteBuffer(ctx->rt.queue, m, CL_TRUE, 0, count * sizeof(double),
                                           src, 0, NULL, NULL)
                    : clEnqueueFillBuffer(ctx->rt.queue, m, &zero, sizeof zero, 0,
                                          count * sizeof(double), 0, NULL, NULL);
    if (bench_cl_failed(st, src ? "clEnqueueWriteBuffer" : "clEnqueueFillBuffer")) {
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
    return bench_cl_failed(clFinish(((clblast_state *)state)->ctx->rt.queue), "clFinish");
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
    double t0 = bench_now_s();
    if (damo_call(s->f, args, 2, &y, 1) != DAMO_OK || damo_ctx_finish(s->ctx) != DAMO_OK) {
        fprintf(stderr, "damo (%s), %s: %s\n", who, p->label, damo_last_errmsg());
        damo_array_release(y);
        return 1;
    }
    *first_s = bench_now_s() - t0;
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
    double t0 = bench_now_s();
    if (clblast_once(s))
        return 1;
    *first_s = bench_now_s() - t0;
    if (bench_cl_failed(clEnqueueReadBuffer(ctx->rt.queue, s->c, CL_TRUE, 0,
                                            (size_t)p->out_count * sizeof(double), p->got, 0,
                                            NULL, NULL),
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
 * line (a check), then times it as BENCH_PY_LOOP says (as function 0). */
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
    "fns = [fn]\n"
    BENCH_PY_LOOP;

/* Starts NumPy on p's product and checks its result against OpenBLAS's.
 * Returns 0 when it runs, 1 when python3 or NumPy is missing (NumPy then
 * reads n/a), -1 on a wrong result (the run aborts). */
static int numpy_start(bench_py *py, const problem *p)
{
    static const char *const OPS[] = {"gemm", "gemv", "gemv_t"};
    char dims[3][32];
    snprintf(dims[0], sizeof dims[0], "%lld", (long long)p->m);
    snprintf(dims[1], sizeof dims[1], "%lld", (long long)p->n);
    snprintf(dims[2], sizeof dims[2], "%lld", (long long)p->k);
    char *argv[] = {"python3", "-c", (char *)PY_SCRIPT, (char *)OPS[p->kind],
                    dims[0], dims[1], dims[2], NULL};
    double sum = 0, abs_sum = 0;
    if (bench_py_start(py, argv) || fscanf(py->from, "%lf %lf", &sum, &abs_sum) != 2) {
        bench_py_stop(py);
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
        bench_py_stop(py);
        return -1;
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

/* Every contender of one product, set up and checked. */
typedef struct contenders {
    problem p;
    blas_state bs;
    clblast_state cs;
    damo_state ds[2];
    bench_py py;
    bench_py_fn np;
    int have_numpy;
    double first_cl, first_d[2]; /* first calls (kernel builds, not timed) */
} contenders;

/* contenders_teardown also after a failure. */
static int contenders_setup(contenders *c, damo_ctx *ctx[2], const char *route_name[2], kind kd,
                            int64_t m, int64_t n, int64_t k, const char *label)
{
    memset(c, 0, sizeof *c);
    c->bs.p = &c->p;
    c->np.py = &c->py;
    int rc = problem_init(&c->p, kd, m, n, k, label) ||
             clblast_setup(&c->cs, ctx[0], &c->p, &c->first_cl);
    for (int r = 0; r < n_routes && !rc; r++)
        rc = damo_setup(&c->ds[r], ctx[r], r, &c->p) ||
             damo_check(&c->ds[r], route_name[r], &c->first_d[r]);
    if (rc)
        return 1;
    int np_rc = numpy_start(&c->py, &c->p);
    c->have_numpy = np_rc == 0;
    return np_rc < 0;
}

static void contenders_teardown(contenders *c)
{
    bench_py_stop(&c->py);
    for (int r = 0; r < n_routes; r++)
        damo_teardown(&c->ds[r]);
    clblast_teardown(&c->cs);
    problem_free(&c->p);
}

/* ---- report ------------------------------------------------------------------ */

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
        contenders c;
        bench_entry es[N_TIMED + 1];
        int rc = contenders_setup(&c, ctx, route_name, GEMM, s, s, s, LABELS[i]);
        if (!rc) {
            es[0] = bench_entry_of(openblas_once, NULL, &c.bs, NULL);
            es[1] = bench_entry_of(clblast_once, NULL, &c.cs, NULL);
            es[2] = bench_entry_of(damo_once, NULL, &c.ds[0], ctx[0]);
            es[3] = bench_entry_of(damo_once, NULL, &c.ds[1], ctx[1]);
            es[3].skip = n_routes < 2;
            es[4] = bench_py_entry(&c.np);
            es[4].skip = !c.have_numpy;
            rc = bench_measure_all(&PLAN, es, N_TIMED + 1);
        }
        if (!rc) {
            for (int j = 0; j <= N_TIMED; j++)
                gf[i][j] = es[j].skip ? 0 : flops / es[j].t.sec * 1e-9;
            for (int r = 0; r < 2 && i == 0; r++)
                snprintf(route[r], sizeof route[r], "%s", c.ds[r].route);
            printf("  %s: checked; first calls (kernel builds, not timed): CLBlast %.2f s, damo "
                   "%.2f s, damo DAMO_BLAS=clblast %.2f s\n",
                   LABELS[i], c.first_cl, c.first_d[0], c.first_d[1]);
            fflush(stdout);
        }
        contenders_teardown(&c);
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
               LABELS[i] + 6, g[0], g[1], g[2], bench_fmt(c[0], sizeof c[0], "%.2f", g[3]),
               bench_fmt(b[0], sizeof b[0], "%.2f", g[4]), g[2] / g[0], g[2] / g[1],
               bench_fmt(c[1], sizeof c[1], "%.2f", g[3] / g[1]), g[3] > 0 ? "x" : " ",
               bench_fmt(b[1], sizeof b[1], "%.2f", g[4] > 0 ? g[2] / g[4] : 0),
               g[4] > 0 ? "x" : " ");
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

static void gemv_line(const char *what, const bench_timing *t, double openblas_s, double clblast_s)
{
    char b[2][32];
    if (t->sec <= 0) {
        printf("  %-46s %9s\n", what, "n/a");
        return;
    }
    printf("  %-46s %9.2f %10.2fx %9s%s %10s\n", what, t->sec * 1e6, t->sec / openblas_s,
           clblast_s > 0 ? bench_fmt(b[0], sizeof b[0], "%.2f", t->sec / clblast_s) : "-",
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
        contenders c;
        bench_entry es[N_TIMED + 1];
        int rc = contenders_setup(&c, ctx, route_name, KINDS[i], 400, 1, 784, LABELS[i]);
        if (!rc) {
            es[0] = bench_entry_of(openblas_once, NULL, &c.bs, NULL);
            es[1] = bench_entry_of(clblast_once, NULL, &c.cs, NULL);
            es[2] = bench_entry_of(clblast_enqueue, clblast_sync, &c.cs, NULL);
            es[3] = bench_entry_of(damo_once, NULL, &c.ds[0], ctx[0]);
            es[4] = bench_entry_of(damo_enqueue, damo_sync, &c.ds[0], ctx[0]);
            es[5] = bench_entry_of(damo_once, NULL, &c.ds[1], ctx[1]);
            es[6] = bench_entry_of(damo_enqueue, damo_sync, &c.ds[1], ctx[1]);
            es[5].skip = es[6].skip = n_routes < 2;
            es[7] = bench_py_entry(&c.np);
            es[7].skip = !c.have_numpy;
            rc = bench_measure_all(&PLAN, es, N_TIMED + 1);
        }
        if (!rc) {
            char b[32], b2[32];
            double ob = es[0].t.sec, cl = es[1].t.sec, cl_loop = es[2].t.sec, np_s = es[7].t.sec;
            printf("\n%s   (checked; first calls, not timed: CLBlast %.2f s, damo %.3f s, damo "
                   "clblast %.2f s)\n", LABELS[i], c.first_cl, c.first_d[0], c.first_d[1]);
            printf("  damo default route:     %s\n  damo DAMO_BLAS=clblast: %s\n\n", c.ds[0].route,
                   c.ds[1].route);
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
                   bench_fmt(b, sizeof b, "%.2f", np_s * 1e6),
                   bench_fmt(b2, sizeof b2, "%.2f", np_s / ob),
                   np_s > 0 ? "x" : " ", "-", "-");
            add_goal(es[4].t.sec / ob, GOAL_GEMV_VS_OPENBLAS, 0,
                     "%s: damo (default route) in a loop without reads, time / direct OpenBLAS "
                     "time <= 1.50", SHORT[i]);
            fflush(stdout);
        }
        contenders_teardown(&c);
        if (rc)
            return 1;
    }
    return 0;
}

/* ---- main ------------------------------------------------------------------------ */

int main(void)
{
    char err[512];
    damo_ctx *ctx[2] = {NULL, NULL};
    const char *route_name[2] = {"default", "DAMO_BLAS=clblast"};
    /* DAMO_BLAS is read when a context is opened. */
    route_env(0);
    if (bench_ctx_new(&ctx[0]))
        return 1;
    const char *routes = getenv("BENCH_BLAS_ROUTES");
    if (routes && !strcmp(routes, "default"))
        n_routes = 1;
    route_env(1);
    if (damo_ctx_new(&ctx[1], err, sizeof err) != DAMO_OK) {
        fprintf(stderr, "damo_ctx_new (DAMO_BLAS=clblast): %s\n", err);
        damo_ctx_free(ctx[0]);
        return 1;
    }
    int have_numpy = system("python3 -c 'import numpy' >/dev/null 2>&1") == 0;

    printf("damo matrix-product benchmark\n");
    printf("device: %s\n", damo_ctx_device_name(ctx[0]));
    bench_print_load();
    printf("OpenBLAS (linked): %s, core %s, %d thread(s)\n", openblas_get_config(),
           openblas_get_corename(), openblas_get_num_threads());
    printf("per cell: %d warm-up calls and a calibration batch, then the median of %d batches of "
           ">=%d calls (~%.1f s each),\nthe batches of a table's contenders interleaved. First "
           "calls build kernels (CLBlast compiles for\nseconds on PoCL unless PoCL's cache has "
           "them) and are never timed. All results are checked against\ndirect OpenBLAS before "
           "timing%s; inputs are on the device (damo, CLBlast) or in host memory\n(OpenBLAS, "
           "NumPy).\n\n",
           PLAN.warmup_calls, PLAN.batches, PLAN.min_reps, PLAN.target_batch_s,
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
