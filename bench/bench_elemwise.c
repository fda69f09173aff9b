/*
 * Elementwise fusion benchmark: a chain of k cheap float64 ops on n elements,
 * run as one fused damo kernel, as k unfused damo kernels, against a
 * hand-written OpenCL triad on the same device (the memory-bandwidth ceiling
 * a streaming kernel can hope for) and against NumPy (the CPU baseline damo
 * aims to replace).
 *
 *   meson compile -C build bench/bench_elemwise && ./build/bench/bench_elemwise
 *
 * The device is chosen as damo_ctx_new does (DAMO_DEVICE overrides).
 */
#include "bench_util.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { N_KS = 3, N_NS = 3 };
static const int KS[N_KS] = {1, 4, 16};
static const int LOG2_NS[N_NS] = {16, 20, 24};
/* Batches long enough to swamp timer and scheduling noise, short enough to
 * keep the whole run within a few minutes on a 2-core PoCL machine. */
static const bench_plan PLAN = {
    .warmup_calls = 2, .min_reps = 5, .batches = 3, .target_batch_s = 0.3, .calibrate = 0};
static const double MUL_C = 1.0001, ADD_C = 0.5;

/* Median per-call time of one contender alone: each cell of the table is
 * timed on its own. */
static int measure(bench_call_fn call, void *state, double *median_s)
{
    bench_entry e = bench_entry_of(call, NULL, state, NULL);
    int rc = bench_measure_all(&PLAN, &e, 1);
    *median_s = e.t.sec;
    return rc;
}

/* ---- the chain, in its three spellings (damo graph, C, NumPy) ---------- */

/* Scaling and shifting alternate so that no rewrite can fold neighbouring
 * ops into one constant: k stays the number of ops actually executed. */
static damo_var *chain_op(damo_graph *g, damo_var *y, int i)
{
    return i % 2 == 0 ? damo_mul(y, damo_float(g, MUL_C)) : damo_add(y, damo_float(g, ADD_C));
}

static double chain_host(double y, int k)
{
    for (int i = 0; i < k; i++)
        y = i % 2 == 0 ? y * MUL_C : y + ADD_C;
    return y;
}

/* "((x*1.0001)+0.5)": NumPy evaluates it with its usual temporaries.
 * Returns 0, or 1 when buf is too small. */
static int chain_numpy(char *buf, size_t size, int k)
{
    if ((size_t)k + 2 > size)
        return 1;
    memset(buf, '(', (size_t)k);
    size_t len = (size_t)k;
    buf[len++] = 'x';
    buf[len] = '\0';
    for (int i = 0; i < k; i++) {
        int w = snprintf(buf + len, size - len, "%c%.17g)", i % 2 == 0 ? '*' : '+',
                         i % 2 == 0 ? MUL_C : ADD_C);
        if (w < 0 || (size_t)w >= size - len)
            return 1;
        len += (size_t)w;
    }
    return 0;
}

static damo_function *compile_chain(damo_ctx *ctx, int k, unsigned flags)
{
    damo_graph *g = damo_graph_new(ctx);
    if (!g) {
        fprintf(stderr, "damo_graph_new: out of memory\n");
        return NULL;
    }
    damo_var *x = damo_dvector(g, "x");
    damo_var *y = x;
    for (int i = 0; i < k; i++)
        y = chain_op(g, y, i);
    damo_function *f = NULL;
    if (!y) {
        fprintf(stderr, "building the k=%d chain: %s\n", k, damo_graph_errmsg(g));
    } else {
        f = damo_function_simple(g, 1, &x, 1, &y, flags);
        if (!f)
            fprintf(stderr, "compiling the k=%d chain: %s\n", k, damo_graph_errmsg(g));
    }
    damo_graph_free(g);
    return f;
}

/* ---- damo calls ---------------------------------------------------------- */

typedef struct damo_bench {
    damo_ctx *ctx;
    damo_function *f;
    damo_array *x;
} damo_bench;

static int damo_once(void *state)
{
    damo_bench *b = state;
    damo_arg arg = DAMO_ARG(b->x);
    damo_array *y = NULL;
    if (damo_call(b->f, &arg, 1, &y, 1) != DAMO_OK) {
        fprintf(stderr, "damo_call: %s\n", damo_function_errmsg(b->f));
        return 1;
    }
    damo_array_release(y);
    if (damo_ctx_finish(b->ctx) != DAMO_OK) {
        fprintf(stderr, "damo_ctx_finish: %s\n", damo_ctx_errmsg(b->ctx));
        return 1;
    }
    return 0;
}

/* A bandwidth figure for wrong results is worthless: compare the last
 * element (the one most likely to expose a bad bound) with the C chain. */
static int check_chain(damo_bench *b, int k, int64_t n, const char *label)
{
    damo_arg arg = DAMO_ARG(b->x);
    damo_array *y = NULL;
    if (damo_call(b->f, &arg, 1, &y, 1) != DAMO_OK) {
        fprintf(stderr, "damo_call: %s\n", damo_function_errmsg(b->f));
        return 1;
    }
    double got;
    damo_status st = damo_array_get_f64(y, n - 1, &got);
    damo_array_release(y);
    if (st != DAMO_OK) {
        fprintf(stderr, "damo_array_get_f64: %s\n", damo_ctx_errmsg(b->ctx));
        return 1;
    }
    /* The device may contract mul+add into fma, so allow a few ulps. */
    double want = chain_host((double)(n - 1) / (double)n, k);
    if (fabs(got - want) > 1e-12 * fabs(want)) {
        fprintf(stderr, "%s k=%d n=%lld: y[n-1] = %.17g, expected %.17g\n", label, k,
                (long long)n, got, want);
        return 1;
    }
    return 0;
}

/* ---- plain OpenCL triad -------------------------------------------------- */

static int time_triad(damo_ctx *ctx, size_t n, double *sec)
{
    bench_triad t;
    int rc = bench_triad_setup(ctx, n, &t) || measure(bench_triad_once, &t, sec);
    bench_triad_teardown(&t);
    return rc;
}

/* ---- NumPy and PyTensor ---------------------------------------------------- */

/* Same protocol as measure(): warm-up, batches sized from the last warm-up,
 * median per-call time. The result of each call is dropped, as damo's
 * output is released. `expr` is Python over x and exp, evaluated by NumPy
 * directly or compiled by PyTensor's C backend (mode CVM, its linker of C
 * thunks). No single quotes: it travels inside the shell's. */
static const char PY_SCRIPT[] =
    "import math, statistics, sys, time, warnings\n"
    "import numpy as np\n"
    "backend, rows, cols = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])\n"
    "warm, reps_min, batches = (int(a) for a in sys.argv[4:7])\n"
    "target = float(sys.argv[7])\n"
    "shape = (rows, cols) if rows > 1 else (cols,)\n"
    "x = (np.arange(rows * cols, dtype=np.float64) / (rows * cols)).reshape(shape)\n"
    "if backend == \"numpy\":\n"
    "    exp = np.exp\n"
    "    fn = eval(\"lambda x: \" + sys.argv[8])\n"
    "else:\n"
    "    warnings.simplefilter(\"ignore\")\n"
    "    import pytensor, pytensor.tensor as pt\n"
    "    xs = pt.dmatrix(\"x\") if rows > 1 else pt.dvector(\"x\")\n"
    "    y = eval(sys.argv[8], {\"x\": xs, \"exp\": pt.exp})\n"
    "    fn = pytensor.function([xs], y, mode=\"CVM\")\n"
    "def batch(reps):\n"
    "    t = time.perf_counter()\n"
    "    for _ in range(reps):\n"
    "        fn(x)\n"
    "    return (time.perf_counter() - t) / reps\n"
    "t = [batch(1) for _ in range(warm)][-1]\n"
    "reps = max(reps_min, math.ceil(target / max(t, 1e-9)))\n"
    "print(statistics.median(batch(reps) for _ in range(batches)))\n";

/* Seconds per call of expr over a rows x cols float64 array (a vector
 * when rows is 1) on `backend` ("numpy" or "pytensor"), or 0 when Python,
 * NumPy or PyTensor could not be run. */
static double time_python(const char *backend, const char *expr, int64_t rows, int64_t cols)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "python3 -c '%s' %s %lld %lld %d %d %d %g '%s' 2>/dev/null",
             PY_SCRIPT, backend, (long long)rows, (long long)cols, PLAN.warmup_calls,
             PLAN.min_reps, PLAN.batches, PLAN.target_batch_s, expr);
    FILE *p = popen(cmd, "r");
    if (!p)
        return 0;
    double sec = 0;
    if (fscanf(p, "%lf", &sec) != 1)
        sec = 0;
    return pclose(p) == 0 ? sec : 0;
}

/* ---- table ----------------------------------------------------------------- */

static int run(damo_ctx *ctx, damo_array *const x[N_NS], int have_numpy, int have_pytensor)
{
    double triad_gbs[N_NS];
    for (int j = 0; j < N_NS; j++) {
        size_t n = (size_t)1 << LOG2_NS[j];
        double sec;
        if (time_triad(ctx, n, &sec))
            return 1;
        triad_gbs[j] = 24.0 * (double)n / sec * 1e-9;
    }

    damo_function *fused[N_KS] = {NULL}, *unfused[N_KS] = {NULL};
    int rc = 0;
    for (int i = 0; i < N_KS && !rc; i++) {
        fused[i] = compile_chain(ctx, KS[i], 0);
        unfused[i] = compile_chain(ctx, KS[i], DAMO_FN_NO_FUSION);
        rc = !fused[i] || !unfused[i];
        if (!rc)
            printf("k=%-2d  fused: %zu kernel(s), unfused: %zu kernel(s)\n", KS[i],
                   damo_function_n_kernels(fused[i]), damo_function_n_kernels(unfused[i]));
    }
    if (!rc) {
        printf("\n%4s %6s %11s %13s %11s %11s %14s %12s %12s %15s\n", "k", "n", "fused GB/s",
               "unfused GB/s", "triad GB/s", "numpy GB/s", "pytensor GB/s", "fused/triad",
               "fused/numpy", "fused/pytensor");
        fflush(stdout);
    }
    for (int i = 0; i < N_KS && !rc; i++) {
        for (int j = 0; j < N_NS; j++) {
            int64_t n = (int64_t)1 << LOG2_NS[j];
            double bytes = 16.0 * (double)n, t_fused, t_unfused;
            damo_bench fb = {ctx, fused[i], x[j]}, ub = {ctx, unfused[i], x[j]};
            rc = check_chain(&fb, KS[i], n, "fused") || check_chain(&ub, KS[i], n, "unfused") ||
                 measure(damo_once, &fb, &t_fused) || measure(damo_once, &ub, &t_unfused);
            if (rc)
                break;
            char expr[1024];
            double t_numpy = 0, t_pt = 0;
            if (!chain_numpy(expr, sizeof expr, KS[i])) {
                t_numpy = have_numpy ? time_python("numpy", expr, 1, n) : 0;
                t_pt = have_pytensor ? time_python("pytensor", expr, 1, n) : 0;
            }
            double fused_gbs = bytes / t_fused * 1e-9;
            char nbuf[16], numpy_s[32], pt_s[32], speedup_s[32], pt_speedup_s[32];
            snprintf(nbuf, sizeof nbuf, "2^%d", LOG2_NS[j]);
            printf("%4d %6s %11.2f %13.2f %11.2f %11s %14s %12.2f %12s %15s\n", KS[i], nbuf,
                   fused_gbs, bytes / t_unfused * 1e-9, triad_gbs[j],
                   bench_fmt(numpy_s, sizeof numpy_s, "%.2f",
                             t_numpy > 0 ? bytes / t_numpy * 1e-9 : 0),
                   bench_fmt(pt_s, sizeof pt_s, "%.2f", t_pt > 0 ? bytes / t_pt * 1e-9 : 0),
                   fused_gbs / triad_gbs[j],
                   bench_fmt(speedup_s, sizeof speedup_s, "%.2fx", t_numpy / t_fused),
                   bench_fmt(pt_speedup_s, sizeof pt_speedup_s, "%.2fx", t_pt / t_fused));
            fflush(stdout);
        }
    }
    for (int i = 0; i < N_KS; i++) {
        damo_function_free(fused[i]);
        damo_function_free(unfused[i]);
    }
    return rc;
}

/* ---- the tutorial's logistic at a realistic size --------------------------- */

typedef struct logistic_bench {
    damo_function *f;
    damo_array *x;
    double *dst;   /* read into the caller's memory, or NULL: left on the device */
    damo_ctx *ctx;
} logistic_bench;

static int logistic_once(void *state)
{
    logistic_bench *b = state;
    damo_arg arg = DAMO_ARG(b->x);
    damo_array *y = NULL;
    int bad = damo_call(b->f, &arg, 1, &y, 1) != DAMO_OK ||
              (b->dst ? damo_array_read(y, b->dst) : damo_ctx_finish(b->ctx)) != DAMO_OK;
    if (bad)
        fprintf(stderr, "logistic: %s\n", damo_last_errmsg());
    damo_array_release(y);
    return bad;
}

/* 1 / (1 + exp(-x)) on a 1000 x 1000 float64 matrix x = i / 10^6 on the
 * host (uploaded at the first call): the tutorial's first example at a
 * size where the work counts. */
static int run_logistic(damo_ctx *ctx, int have_numpy, int have_pytensor)
{
    enum { R = 1000, C = 1000 };
    double *data = malloc((size_t)R * C * sizeof *data), *dst = malloc((size_t)R * C * sizeof *dst);
    for (int64_t i = 0; data && i < (int64_t)R * C; i++)
        data[i] = (double)i / ((double)R * C);
    damo_graph *g = damo_graph_new(ctx);
    damo_var *xv = damo_dmatrix(g, "x");
    damo_var *s = damo_div(damo_float(g, 1), damo_add(damo_float(g, 1), damo_exp(damo_neg(xv))));
    damo_function *f = damo_function_simple(g, 1, &xv, 1, &s, 0);
    damo_array *x = data ? damo_array_from_data(ctx, DAMO_FLOAT64, 2, (int64_t[]){R, C}, data) : NULL;
    int rc = !f || !x || !dst;
    double t_read = 0, t_dev = 0;
    if (!rc) {
        logistic_bench rb = {f, x, dst, ctx}, db = {f, x, NULL, ctx};
        rc = measure(logistic_once, &rb, &t_read) || measure(logistic_once, &db, &t_dev);
        rc = rc || fabs(dst[R * C - 1] - 1 / (1 + exp(-data[R * C - 1]))) > 1e-15;
    }
    if (!rc) {
        const char *expr = "1 / (1 + exp(-x))";
        double t_np = have_numpy ? time_python("numpy", expr, R, C) : 0;
        double t_pt = have_pytensor ? time_python("pytensor", expr, R, C) : 0;
        char a[32], b[32];
        printf("\nlogistic 1 / (1 + exp(-x)), 1000 x 1000 float64, ms per call (median):\n");
        printf("  damo, result read into the caller's memory   %8.3f\n", t_read * 1e3);
        printf("  damo, result left on the device              %8.3f\n", t_dev * 1e3);
        printf("  NumPy                                        %8s\n",
               bench_fmt(a, sizeof a, "%.2f", t_np * 1e3));
        printf("  PyTensor C (CVM)                             %8s\n",
               bench_fmt(b, sizeof b, "%.2f", t_pt * 1e3));
    }
    damo_array_release(x);
    damo_function_free(f);
    damo_graph_free(g);
    free(data);
    free(dst);
    return rc;
}

int main(void)
{
    damo_ctx *ctx;
    if (bench_ctx_new(&ctx))
        return 1;
    int have_numpy = system("python3 -c 'import numpy' >/dev/null 2>&1") == 0;
    int have_pytensor = system("python3 -c 'import pytensor' >/dev/null 2>&1") == 0;

    printf("damo elementwise fusion benchmark\n");
    printf("device: %s\n", damo_ctx_device_name(ctx));
    printf("chain: y = x, then k float64 ops alternating y*%g and y+%g; per cell: %d warm-up "
           "calls,\nthen the median of %d batches of >=%d calls (~%.1f s each), each call "
           "finished on the device\n\n",
           MUL_C, ADD_C, PLAN.warmup_calls, PLAN.batches, PLAN.min_reps, PLAN.target_batch_s);
    fflush(stdout);

    damo_array *x[N_NS] = {NULL};
    int rc = 0;
    for (int j = 0; j < N_NS && !rc; j++) {
        x[j] = bench_make_input(ctx, (int64_t)1 << LOG2_NS[j]);
        rc = !x[j];
    }
    rc = rc || run(ctx, x, have_numpy, have_pytensor) ||
         run_logistic(ctx, have_numpy, have_pytensor);

    if (!rc)
        printf("\nGB/s = 1e9 bytes/s. fused, unfused and numpy are effective rates: 16*n "
               "bytes per\ncall (read x, write y once); unfused really moves k*16*n bytes "
               "through k kernels.\ntriad: a = b + s*c in plain OpenCL on damo's queue, 24*n "
               "bytes per call.\nfused/triad is the ratio of those rates; fused/numpy is the "
               "speedup over NumPy; PyTensor runs its C backend (mode CVM)%s.\n",
               have_numpy && have_pytensor ? "" : "\n(python3 with numpy or pytensor not found: n/a)");
    for (int j = 0; j < N_NS; j++)
        damo_array_release(x[j]);
    damo_ctx_free(ctx);
    return rc;
}
