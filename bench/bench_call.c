/* Per-call overhead: the tutorial's f(33) (a scalar add with a default
 * input, result read back) and the accumulator, beside one empty-kernel
 * dispatch with a host wait on the same device, all in one run.
 * Medians of batches, in microseconds per call. */
#define _POSIX_C_SOURCE 200809L
#include <damo.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "api/api.h"

#define BATCHES 7
#define PER_BATCH 2000

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
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
    damo_arg arg;
    int read;
} fcall;

static int call_f(void *p)
{
    fcall *c = p;
    damo_array *out = NULL;
    double v = 0;
    int bad = damo_call(c->f, &c->arg, 1, &out, 1) != DAMO_OK ||
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

int main(void)
{
    char err[512];
    damo_ctx *ctx;
    if (damo_ctx_new(&ctx, err, sizeof err) != DAMO_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    damo_graph *g = damo_graph_new(ctx);
    damo_var *x, *y;
    damo_dscalars(g, "x, y", &x, &y);
    damo_var *z = damo_add(x, y);
    damo_array *one = damo_array_scalar(ctx, DAMO_FLOAT64, 1);
    damo_in in[] = {{x, NULL, NULL}, {y, one, NULL}};
    damo_function_spec s = {in, 2, &z, 1, NULL, 0, NULL, 0, 0};
    damo_function *f = damo_function_new(g, &s);
    s.flags = DAMO_FN_DEVICE_ONLY;
    damo_function *fd = damo_function_new(g, &s);

    damo_var *state = damo_shared_int(g, 0, "state");
    damo_var *inc = damo_iscalar(g, "inc");
    damo_in ai[] = {{inc, NULL, NULL}};
    damo_update up = {state, damo_add(state, inc)};
    damo_function_spec sa = {ai, 1, &state, 1, &up, 1, NULL, 0, 0};
    damo_function *acc = damo_function_new(g, &sa);
    sa.flags = DAMO_FN_DEVICE_ONLY;
    damo_function *accd = damo_function_new(g, &sa);

    cl_program prog;
    cl_kernel k;
    damo_err e;
    if (!f || !fd || !acc || !accd ||
        rt_program_get(&ctx->rt, "__kernel void empty(void) {}", "", &prog, &e) != DAMO_OK ||
        rt_kernel_create(&ctx->rt, prog, "empty", &k, &e) != DAMO_OK) {
        fprintf(stderr, "setup failed: %s\n", damo_graph_errmsg(g));
        return 1;
    }
    kcall kc = {ctx, k};
    fcall c_f = {f, DAMO_FLOAT(33), 1}, c_fcall = {f, DAMO_FLOAT(33), 0}, c_fd = {fd, DAMO_FLOAT(33), 1},
          c_acc = {acc, DAMO_FLOAT(1), 1}, c_accd = {accd, DAMO_FLOAT(1), 1};
    double empty = median_us(call_empty, &kc, PER_BATCH / 4);
    struct { const char *what; job fn; void *arg; } rows[] = {
        {"f(33), result read (default: host for small work)", call_f, &c_f},
        {"f(33), call only, no read (host side of a call)", call_f, &c_fcall},
        {"f(33), result read, DAMO_FN_DEVICE_ONLY", call_f, &c_fd},
        {"accumulator(1), result read (default)", call_f, &c_acc},
        {"accumulator(1), result read, DAMO_FN_DEVICE_ONLY", call_f, &c_accd},
    };
    printf("damo per-call overhead, device: %s\n", damo_ctx_device_name(ctx));
    printf("median of %d batches; microseconds per call\n\n", BATCHES);
    printf("%-52s %10s %12s\n", "what", "us/call", "vs dispatch");
    printf("%-52s %10.2f %12s\n", "empty kernel + clFinish (device round trip)", empty, "1.00");
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int n = i == 2 || i == 4 ? PER_BATCH / 4 : PER_BATCH;
        double t = median_us(rows[i].fn, rows[i].arg, n);
        printf("%-52s %10.2f %12.3f\n", rows[i].what, t, t / empty);
    }
    printf("\nreference, not measured in this run: Aesara 2.9's compiled f(33) costs about\n"
           "15 us per call on this machine (issue 3).\n");
    clReleaseKernel(k);
    damo_function_free(f);
    damo_function_free(fd);
    damo_function_free(acc);
    damo_function_free(accd);
    damo_array_release(one);
    damo_graph_free(g);
    damo_ctx_free(ctx);
    return 0;
}
