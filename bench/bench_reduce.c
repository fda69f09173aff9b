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
#include "bench_util.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>

enum { LOG2_N = 24 };
/* Batches long enough to swamp timer and scheduling noise, short enough to
 * keep the whole run within a minute on a 2-core PoCL machine. */
static const bench_plan PLAN = {
    .warmup_calls = 2, .min_reps = 5, .batches = 5, .target_batch_s = 0.3, .calibrate = 0};
/* Goals this benchmark makes checkable. */
static const double GOAL_VS_TRIAD = 0.8;  /* damo GB/s >= 0.8x the triad's */
/* Kahan within a work-item and a tree across them: far below this. */
static const double MAX_REL_ERR = 1e-12;

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
 * functions' values on one line, then times them as BENCH_PY_LOOP says. */
static const char PY_SCRIPT[] =
    "import sys, time\n"
    "import numpy as np\n"
    "n = int(sys.argv[1])\n"
    "x = np.arange(n, dtype=np.float64) / n\n"
    "fns = [eval(\"lambda: \" + e) for e in sys.argv[2:]]\n"
    "print(\" \".join(repr(float(f())) for f in fns), flush=True)\n"
    BENCH_PY_LOOP;

static const char *const NP_EXPRS[2] = {"x.sum()", "(x**2).sum()"};

/* Starts the coprocess and reads the values of NP_EXPRS; 1 when python3 or
 * NumPy is missing (NumPy then reads n/a). */
static int numpy_start(bench_py *py, int64_t n, double values[2])
{
    char nbuf[32];
    snprintf(nbuf, sizeof nbuf, "%lld", (long long)n);
    char *argv[] = {"python3", "-c", (char *)PY_SCRIPT, nbuf, (char *)NP_EXPRS[0],
                    (char *)NP_EXPRS[1], NULL};
    return bench_py_start(py, argv) ||
           fscanf(py->from, "%lf %lf", &values[0], &values[1]) != 2;
}

/* ---- main ---------------------------------------------------------------------- */

static void row(const char *what, double bytes, const bench_timing *t, double triad_gbs,
                double numpy_s)
{
    char b[3][32];
    double gbs = bytes / t->sec * 1e-9;
    printf("  %-46s %9.3f %8.2f %8.2fx %9s%s %10s\n", what, t->sec * 1e3, gbs, gbs / triad_gbs,
           bench_fmt(b[0], sizeof b[0], "%.2f", numpy_s / t->sec), numpy_s > 0 ? "x" : " ",
           t->waits_per_call >= 0 ? (snprintf(b[1], sizeof b[1], "%.2f", t->waits_per_call), b[1])
                                  : "-");
}

/* Indices of the timed entries. */
enum { E_TRIAD, E_SUM, E_SUM_SQR, E_SUM_POW2, E_SUM_READ, E_NP_SUM, E_NP_SQR, N_ENTRIES };

static int run(damo_ctx *ctx, int64_t n, damo_function *const f[N_EXPRS], damo_array *x)
{
    const double bytes = 8.0 * (double)n;
    bench_py py;
    double np_values[2] = {0, 0};
    int have_numpy = !numpy_start(&py, n, np_values);
    if (have_numpy && (!(rel_err(np_values[0], exact(SUM, n, n)) <= MAX_REL_ERR) ||
                       !(rel_err(np_values[1], exact(SUM_SQR, n, n)) <= MAX_REL_ERR))) {
        fprintf(stderr, "WRONG RESULT: NumPy gives %.17g and %.17g\n", np_values[0], np_values[1]);
        bench_py_stop(&py);
        return 1;
    }

    bench_triad tr;
    damo_bench db[N_EXPRS + 1];
    bench_py_fn nf[2] = {{&py, 0}, {&py, 1}};
    bench_entry es[N_ENTRIES];
    int rc = bench_triad_setup(ctx, (size_t)n, &tr);
    es[E_TRIAD] = bench_entry_of(bench_triad_once, NULL, &tr, NULL);
    for (int e = 0; e <= N_EXPRS; e++) {
        db[e] = (damo_bench){ctx, f[e < N_EXPRS ? e : SUM], x, e == N_EXPRS, 0};
        es[E_SUM + e] = bench_entry_of(damo_once, NULL, &db[e], ctx);
    }
    for (int k = 0; k < 2; k++)
        es[E_NP_SUM + k] = bench_py_entry(&nf[k]);
    rc = rc || bench_measure_all(&PLAN, es, have_numpy ? N_ENTRIES : E_NP_SUM);
    bench_triad_teardown(&tr);
    bench_py_stop(&py);
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
        printf("  %-64s %6s  %s\n", goals[i].what,
               bench_fmt(b[0], sizeof b[0], "%.2f", goals[i].value),
               known ? (pass ? "PASS" : "FAIL") : "n/a");
    }
    printf("\nNumPy runs in a python3 coprocess, its batches interleaved with damo's%s.\n",
           have_numpy ? "" : " (python3 with numpy not found: n/a)");
    return 0;
}

int main(void)
{
    damo_ctx *ctx;
    if (bench_ctx_new(&ctx))
        return 1;
    const int64_t n = (int64_t)1 << LOG2_N;
    printf("damo reduction benchmark\n");
    printf("device: %s\n", damo_ctx_device_name(ctx));
    bench_print_load();
    printf("x[i] = i / n, n = 2^%d float64 (%.0f MiB) on the device; per row: %d warm-up calls, "
           "then the median\nof %d interleaved batches of >=%d calls (~%.1f s each), each call "
           "finished on the device (damo_ctx_finish)\n\n",
           LOG2_N, 8.0 * (double)n / 1048576.0, PLAN.warmup_calls, PLAN.batches, PLAN.min_reps,
           PLAN.target_batch_s);
    fflush(stdout);

    damo_function *f[N_EXPRS] = {NULL};
    damo_array *x = bench_make_input(ctx, n), *x_odd = NULL;
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
