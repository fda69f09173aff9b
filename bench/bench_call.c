/* Per-call overhead and compile time, beside one empty-kernel dispatch
 * with a host wait on the same device, all in one run:
 *
 *   meson compile -C build bench/bench_call && ./build/bench/bench_call
 *
 * Calls: the tutorial's f(33) (a scalar add with a default input), its
 * accumulator, and a device-path step taking a learning rate as a C number
 * (w - lr * g on 1000 float64, no read), in microseconds per call, medians
 * of batches; then that step profiled (DAMO_FN_PROFILE), and unprofiled
 * again on the context's queue that profiling turned on. Compile: the tutorial's logistic function and a chain of
 * 1000 elementwise ops, in a fresh process with empty kernel caches (damo's
 * and PoCL's), in a fresh process with damo's disk cache warm, and again in
 * the same process. */
#define _POSIX_C_SOURCE 200809L
#include <damo.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

/* The empty kernel must run on damo's own queue; only the internal struct
 * damo_ctx exposes it. */
#include "exec/exec.h"

#define BATCHES 7
#define PER_BATCH 2000

extern char **environ;

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef int (*job)(void *arg); /* one call; nonzero on failure */

/* Median over BATCHES of the mean time of n calls of fn. */
static double median_us(job fn, void *arg, int n)
{
    double t[BATCHES];
    for (int i = 0; i < 10; i++)
        if (fn(arg))
            return -1;
    for (int b = 0; b < BATCHES; b++) {
        double t0 = now_us();
        for (int i = 0; i < n; i++)
            if (fn(arg))
                return -1;
        t[b] = (now_us() - t0) / n;
    }
    qsort(t, BATCHES, sizeof t[0], cmp);
    return t[BATCHES / 2];
}

typedef struct fcall {
    damo_function *f;
    damo_arg args[3];
    size_t n_args;
    int read;
} fcall;

static int call_f(void *p)
{
    fcall *c = p;
    damo_array *out = NULL;
    double v = 0;
    int bad = damo_call(c->f, c->args, c->n_args, &out, 1) != DAMO_OK ||
              (c->read && damo_array_get_f64(out, 0, &v) != DAMO_OK);
    damo_array_release(out);
    if (bad)
        fprintf(stderr, "call failed: %s\n", damo_function_errmsg(c->f));
    return bad;
}

typedef struct kcall {
    damo_ctx *ctx;
    cl_kernel k;
} kcall;

static int call_empty(void *p)
{
    kcall *c = p;
    size_t one = 1;
    return clEnqueueNDRangeKernel(c->ctx->rt.queue, c->k, 1, NULL, &one, NULL, 0, NULL, NULL) !=
               CL_SUCCESS ||
           clFinish(c->ctx->rt.queue) != CL_SUCCESS;
}

/* One line of the table: the median time of fn, and the waits and
 * buffers it cost. */
static void row(const char *what, job fn, void *arg, int n, damo_ctx *ctx, double empty)
{
    damo_ctx_stats before, after;
    damo_ctx_get_stats(ctx, &before);
    double t = median_us(fn, arg, n);
    damo_ctx_get_stats(ctx, &after);
    printf("%-56s %10.2f %12.3f   (host waits %llu, buffers %llu)\n", what, t, t / empty,
           (unsigned long long)(after.host_waits - before.host_waits),
           (unsigned long long)(after.buffers_created - before.buffers_created));
}

static damo_function *compile_spec(damo_spec *s)
{
    damo_function *f = damo_compile(s);
    damo_spec_free(s);
    return f;
}

static int calls(damo_ctx *ctx)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_var *x, *y;
    damo_dscalars(g, "x, y", &x, &y);
    damo_var *z = damo_add(x, y);
    damo_function *f[2];
    for (int d = 0; d < 2; d++) {
        damo_spec *s = damo_spec_new(g);
        damo_spec_input(s, x);
        damo_spec_input_default(s, y, DAMO_INT(1));
        damo_spec_output(s, z);
        damo_spec_flags(s, d ? DAMO_FN_DEVICE_ONLY : 0);
        f[d] = compile_spec(s);
    }
    damo_shared *state = damo_shared_int(ctx, 0, "state");
    damo_var *sv = damo_shared_var(g, state), *inc = damo_iscalar(g, "inc");
    damo_function *acc[2];
    for (int d = 0; d < 2; d++) {
        damo_spec *s = damo_spec_new(g);
        damo_spec_input(s, inc);
        damo_spec_output(s, sv);
        damo_spec_update(s, sv, damo_add(sv, inc));
        damo_spec_flags(s, d ? DAMO_FN_DEVICE_ONLY : 0);
        acc[d] = compile_spec(s);
    }
    damo_var *w = damo_dvector(g, "w"), *gr = damo_dvector(g, "g"), *lr = damo_dscalar(g, "lr");
    damo_var *step = damo_sub(w, damo_mul(lr, gr)), *ins[] = {w, gr, lr};
    damo_function *fl = damo_function_simple(g, 3, ins, 1, &step, DAMO_FN_DEVICE_ONLY);
    double wv[1000], gv[1000];
    for (int i = 0; i < 1000; i++)
        wv[i] = gv[i] = i;
    damo_array *wa = damo_array_from_data(ctx, DAMO_FLOAT64, 1, (int64_t[]){1000}, wv);
    damo_array *ga = damo_array_from_data(ctx, DAMO_FLOAT64, 1, (int64_t[]){1000}, gv);
    damo_array *lra = damo_array_scalar(ctx, DAMO_FLOAT64, 0.01);
    damo_array_to_device(wa);
    damo_array_to_device(ga);

    damo_err e;
    cl_program prog;
    cl_kernel k;
    if (!f[0] || !f[1] || !acc[0] || !acc[1] || !fl ||
        rt_program_get(&ctx->rt, "__kernel void empty(void) {}", "", &prog, &e) != DAMO_OK ||
        rt_kernel_create(&ctx->rt, prog, "empty", &k, &e) != DAMO_OK) {
        fprintf(stderr, "setup failed: %s\n", damo_last_errmsg());
        return 1;
    }
    kcall kc = {ctx, k};
    fcall c_f = {f[0], {DAMO_INT(33)}, 1, 1}, c_fcall = {f[0], {DAMO_INT(33)}, 1, 0},
          c_fd = {f[1], {DAMO_INT(33)}, 1, 1}, c_acc = {acc[0], {DAMO_INT(1)}, 1, 1},
          c_accd = {acc[1], {DAMO_INT(1)}, 1, 1},
          c_lr = {fl, {DAMO_ARG(wa), DAMO_ARG(ga), DAMO_FLOAT(0.01)}, 3, 0},
          c_lra = {fl, {DAMO_ARG(wa), DAMO_ARG(ga), DAMO_ARG(lra)}, 3, 0},
          c_lrr = {fl, {DAMO_ARG(wa), DAMO_ARG(ga), DAMO_FLOAT(0.01)}, 3, 1};
    double empty = median_us(call_empty, &kc, PER_BATCH / 4);
    struct { const char *what; job fn; void *arg; int n; } rows[] = {
        {"f(33), result read (default: host for small work)", call_f, &c_f, PER_BATCH},
        {"f(33), call only, no read (host side of a call)", call_f, &c_fcall, PER_BATCH},
        {"f(33), result read, DAMO_FN_DEVICE_ONLY", call_f, &c_fd, PER_BATCH / 4},
        {"accumulator(1), result read (default)", call_f, &c_acc, PER_BATCH},
        {"accumulator(1), result read, DAMO_FN_DEVICE_ONLY", call_f, &c_accd, PER_BATCH / 4},
        {"w - lr*g (1000 f64, device), lr a C number, no read", call_f, &c_lr, PER_BATCH},
        {"same, lr a kept 0-d array, no read", call_f, &c_lra, PER_BATCH},
        {"same, lr a C number, result read each call", call_f, &c_lrr, PER_BATCH / 4},
    };
    printf("damo per-call overhead, device: %s\n", damo_ctx_device_name(ctx));
    printf("median of %d batches; microseconds per call\n\n", BATCHES);
    printf("%-56s %10s %12s\n", "what", "us/call", "vs dispatch");
    printf("%-56s %10.2f %12s\n", "empty kernel + clFinish (device round trip)", empty, "1.00");
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        row(rows[i].what, rows[i].fn, rows[i].arg, rows[i].n, ctx, empty);
    /* compiled only now: the first profiled function gives the context a
     * queue that records timestamps, which the rows above must not have */
    damo_function *fp = damo_function_simple(g, 3, ins, 1, &step, DAMO_FN_DEVICE_ONLY | DAMO_FN_PROFILE);
    fcall c_lrp = {fp, {DAMO_ARG(wa), DAMO_ARG(ga), DAMO_FLOAT(0.01)}, 3, 0};
    if (!fp) {
        fprintf(stderr, "setup failed: %s\n", damo_last_errmsg());
        return 1;
    }
    row("w - lr*g as above, DAMO_FN_PROFILE", call_f, &c_lrp, PER_BATCH, ctx, empty);
    row("w - lr*g unprofiled, on the profiling queue", call_f, &c_lr, PER_BATCH, ctx, empty);
    damo_ctx_finish(ctx);
    damo_function_free(fp);
    clReleaseKernel(k);
    for (int d = 0; d < 2; d++) {
        damo_function_free(f[d]);
        damo_function_free(acc[d]);
    }
    damo_function_free(fl);
    damo_array_release(wa);
    damo_array_release(ga);
    damo_array_release(lra);
    damo_shared_release(state);
    damo_graph_free(g);
    return 0;
}

/* Compiles the logistic function and a 1000-op chain, twice, and prints
 * the four times in ms (the child side of the compile table). */
static int compile_times(damo_ctx *ctx)
{
    double ms[2][2];
    for (int rep = 0; rep < 2; rep++) {
        damo_graph *g = damo_graph_new(ctx);
        damo_var *x = damo_dmatrix(g, "x");
        damo_var *s = damo_div(damo_float(g, 1), damo_add(damo_float(g, 1), damo_exp(damo_neg(x))));
        damo_var *c = x;
        for (int i = 0; i < 1000; i++)
            c = i % 2 ? damo_mul(c, damo_float(g, 1.0001)) : damo_add(c, damo_float(g, 0.5));
        damo_var *outs[] = {s, c};
        for (int k = 0; k < 2; k++) {
            double t0 = now_us();
            damo_function *f = damo_function_simple(g, 1, &x, 1, &outs[k], 0);
            ms[rep][k] = (now_us() - t0) / 1e3;
            if (!f) {
                fprintf(stderr, "compile failed: %s\n", damo_graph_errmsg(g));
                return 1;
            }
            damo_function_free(f);
        }
        damo_graph_free(g);
    }
    printf("%f %f %f %f\n", ms[0][0], ms[0][1], ms[1][0], ms[1][1]);
    return 0;
}

/* Runs this program as `--compile` with the caches in dir; reads the four
 * times back. */
static int child_compile(const char *self, const char *dir, double t[4])
{
    char out[4096], damo_env[4200], pocl_env[4200];
    snprintf(out, sizeof out, "%s/times", dir);
    snprintf(damo_env, sizeof damo_env, "DAMO_CACHE_DIR=%s/damo", dir);
    snprintf(pocl_env, sizeof pocl_env, "POCL_CACHE_DIR=%s/pocl", dir);
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 3, sizeof *env);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "DAMO_CACHE_DIR=", 15) && strncmp(environ[i], "POCL_CACHE_DIR=", 15))
            env[k++] = environ[i];
    env[k++] = damo_env;
    env[k++] = pocl_env;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid;
    char *argv[] = {(char *)self, "--compile", NULL};
    int rc = posix_spawn(&pid, self, &fa, NULL, argv, env), status = 0;
    posix_spawn_file_actions_destroy(&fa);
    free(env);
    if (rc != 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
        return 1;
    FILE *f = fopen(out, "r");
    int ok = f && fscanf(f, "%lf %lf %lf %lf", &t[0], &t[1], &t[2], &t[3]) == 4;
    if (f)
        fclose(f);
    return !ok;
}

static int compile_table(const char *self)
{
    char dir[] = "/tmp/damo-bench-XXXXXX";
    double cold[4], warm[4];
    if (!mkdtemp(dir) || child_compile(self, dir, cold) || child_compile(self, dir, warm)) {
        fprintf(stderr, "compile benchmark failed\n");
        return 1;
    }
    printf("\ncompile time, ms (one run each; caches in %s)\n\n", dir);
    printf("%-44s %12s %14s\n", "", "logistic", "1000-op chain");
    printf("%-44s %12.1f %14.1f\n", "new process, empty caches (damo + PoCL)", cold[0], cold[1]);
    printf("%-44s %12.1f %14.1f\n", "new process, damo's disk cache warm", warm[0], warm[1]);
    printf("%-44s %12.2f %14.2f\n", "same process, compiled again", warm[2], warm[3]);
    return 0;
}

int main(int argc, char **argv)
{
    char err[512];
    damo_ctx *ctx;
    if (damo_ctx_new(&ctx, err, sizeof err) != DAMO_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    int rc = argc > 1 && !strcmp(argv[1], "--compile") ? compile_times(ctx) : calls(ctx);
    damo_ctx_free(ctx);
    if (rc || argc > 1)
        return rc;
    return compile_table(argv[0]);
}
