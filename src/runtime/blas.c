/* Float matrix products on the context's queue, by one of two routes.
 *
 * Host: the host's CBLAS (OpenBLAS) runs inside an OpenCL native kernel, in
 * order with the kernels around it, without a host wait; a small product
 * finding the queue idle runs on the calling thread instead (see
 * INLINE_MAX_MACS). Buffers of such a
 * context are host memory it owns (CL_MEM_USE_HOST_PTR) and the call
 * reads them through their host addresses: PoCL 3.1 swaps the memory
 * objects of a native kernel that is passed several (DESIGN.md), so the
 * addresses the runtime substitutes are not used. The memory objects are
 * still passed, so that the runtime keeps them alive until the call runs.
 *
 * CLBlast: CLBlast's C API on the context's queue. It compiles its kernels
 * on first use per routine and precision (seconds on PoCL), then reuses
 * them for the process's life. */
#include "runtime.h"

#include <cblas.h>
#include <clblast_c.h>
#include <stdlib.h>
#include <string.h>

const char *rt_blas_route_name(rt_blas_route r)
{
    return r == RT_BLAS_HOST ? "host BLAS" : "CLBlast";
}

damo_status rt_blas_init(rt_ctx *rt, damo_err *e)
{
    const rt_device *d = &rt->dev;
    int can_host = !d->is_gpu && d->host_unified && d->native_kernels;
    rt->host_bufs = can_host;
    rt->blas_inline = 1;
    const char *env = getenv("DAMO_BLAS");
#ifdef DAMO_BLAS_CLBLAST
    rt->blas = RT_BLAS_CLBLAST;
#else
    rt->blas = can_host ? RT_BLAS_HOST : RT_BLAS_CLBLAST;
#endif
    if (!env || !*env || !strcmp(env, "auto"))
        return DAMO_OK;
    if (!strcmp(env, "clblast")) {
        rt->blas = RT_BLAS_CLBLAST;
        return DAMO_OK;
    }
    int queued = !strcmp(env, "host-queued");
    if (strcmp(env, "host") && !queued)
        return err_set(e, DAMO_ERR_INVALID,
                       "DAMO_BLAS is '%s': expected auto, host, host-queued or clblast", env);
    if (!can_host)
        return err_set(e, DAMO_ERR_UNSUPPORTED,
                       "DAMO_BLAS=%s: device '%s' cannot run the host's BLAS (it needs a CPU "
                       "device sharing the host's memory with native kernels)", env, d->name);
    rt->blas = RT_BLAS_HOST;
    rt->blas_inline = !queued;
    return DAMO_OK;
}

damo_status rt_blas_ready(rt_ctx *rt, damo_err *e)
{
    if (rt->blas != RT_BLAS_HOST)
        return DAMO_OK;
    damo_status st = rt_host_direct_ready(rt, e);
    /* the host route reads buffers through their host memory: a device
     * that keeps a copy elsewhere would give it stale values */
    if (st == DAMO_OK && !rt->host_direct)
        rt->blas = RT_BLAS_CLBLAST;
    return st;
}

/* ---- host route ------------------------------------------------------------ */

enum { N_MEMS = 5 };

/* What a native kernel receives (copied by the runtime). */
typedef struct host_call {
    rt_blas_kind kind;
    int f64, ta, tb;
    int m, n, k, lda, ldb, ldc;
    char *a, *b, *c;                  /* element 0 of each operand */
    double alpha, beta;
    const char *alpha_at, *beta_at;   /* when set, read there as the call runs */
    cl_mem mems[N_MEMS];              /* replaced by the runtime; unused */
} host_call;

static double coef(const host_call *c, const char *at, double v)
{
    if (!at)
        return v;
    return c->f64 ? *(const double *)at : *(const float *)at;
}

/* c = beta * c over m x n contiguous elements (zeros for beta 0, never
 * NaN * 0). */
static void scale_c(const host_call *c, double beta, int count)
{
    if (beta == 0) {
        memset(c->c, 0, (size_t)count * (c->f64 ? 8 : 4));
    } else if (c->f64) {
        cblas_dscal(count, beta, (double *)c->c, 1);
    } else {
        cblas_sscal(count, (float)beta, (float *)c->c, 1);
    }
}

static void CL_CALLBACK run_host(void *args)
{
    const host_call *c = args;
    double alpha = coef(c, c->alpha_at, c->alpha), beta = coef(c, c->beta_at, c->beta);
    /* c may hold anything (a pooled buffer, NaN included), and whether a
     * BLAS reads it when beta is 0 differs between versions: clear it */
    if (beta == 0 && c->kind != RT_DOT)
        scale_c(c, 0, c->kind == RT_GEMM ? c->m * c->n : c->m);
    CBLAS_TRANSPOSE ta = c->ta ? CblasTrans : CblasNoTrans, tb = c->tb ? CblasTrans : CblasNoTrans;
    switch (c->kind) {
    case RT_GEMM:
        if (c->k == 0)
            scale_c(c, beta, c->m * c->n);
        else if (c->f64)
            cblas_dgemm(CblasRowMajor, ta, tb, c->m, c->n, c->k, alpha, (double *)c->a, c->lda,
                        (double *)c->b, c->ldb, beta, (double *)c->c, c->ldc);
        else
            cblas_sgemm(CblasRowMajor, ta, tb, c->m, c->n, c->k, (float)alpha, (float *)c->a,
                        c->lda, (float *)c->b, c->ldb, (float)beta, (float *)c->c, c->ldc);
        break;
    case RT_GEMV: {
        /* a is stored m x k, or k x m when transposed */
        int rows = c->ta ? c->k : c->m, cols = c->ta ? c->m : c->k;
        if (c->k == 0)
            scale_c(c, beta, c->m);
        else if (c->f64)
            cblas_dgemv(CblasRowMajor, ta, rows, cols, alpha, (double *)c->a, c->lda,
                        (double *)c->b, c->ldb, beta, (double *)c->c, c->ldc);
        else
            cblas_sgemv(CblasRowMajor, ta, rows, cols, (float)alpha, (float *)c->a, c->lda,
                        (float *)c->b, c->ldb, (float)beta, (float *)c->c, c->ldc);
        break;
    }
    case RT_DOT:
        if (c->f64)
            *(double *)c->c = c->k ? cblas_ddot(c->k, (double *)c->a, c->lda, (double *)c->b, c->ldb) : 0;
        else
            *(float *)c->c = c->k ? cblas_sdot(c->k, (float *)c->a, c->lda, (float *)c->b, c->ldb) : 0;
        break;
    }
}

static char *host_at(const rt_blas_operand *o, size_t esize)
{
    return o->buf ? (char *)rt_buf_host(o->buf) + o->offset * esize : NULL;
}

/* The most multiply-adds a product may have to run on the calling thread
 * (a DGEMM of 256^3: 0.35-0.7 ms of OpenBLAS on the 2-core machine this
 * was measured on). Queued, a product costs a PoCL worker's hand-off:
 * DGEMV 400 x 784 took 30-39 us as a native kernel against 17-18 us
 * called directly, while PoCL's second worker thread, woken for every
 * command, competed with OpenBLAS's own (POCL_MAX_PTHREAD_COUNT=1 brought
 * it to 19 us), and a queued DGEMM of 256^3 ran at 0.72x OpenBLAS's
 * GFLOP/s in one run. A larger product stays queued, so that the call
 * returns while it runs; at 1024^3 the hand-off is lost in the work. */
static const double INLINE_MAX_MACS = 16777216; /* 2^24 */

static double macs(const rt_blas_call *c)
{
    double mk = (double)c->m * (double)c->k;
    return c->kind == RT_GEMM ? mk * (double)c->n : c->kind == RT_GEMV ? mk : (double)c->k;
}

static damo_status enqueue_host(rt_ctx *rt, const rt_blas_call *call, damo_err *e)
{
    size_t es = call->f64 ? 8 : 4;
    if (call->m > INT32_MAX || call->n > INT32_MAX || call->k > INT32_MAX || call->a.ld > INT32_MAX ||
        call->b.ld > INT32_MAX || call->c.ld > INT32_MAX)
        return err_set(e, DAMO_ERR_UNSUPPORTED, "a matrix product with a size over 2^31 - 1 (the "
                       "host's CBLAS takes 32-bit sizes)");
    host_call c = {call->kind, call->f64, call->a.trans, call->b.trans, (int)call->m, (int)call->n,
                   (int)call->k, (int)call->a.ld, (int)call->b.ld, (int)call->c.ld,
                   host_at(&call->a, es), host_at(&call->b, es), host_at(&call->c, es),
                   call->alpha.value, call->beta.value, NULL, NULL, {0}};
    const void *locs[N_MEMS];
    cl_uint n_mems = 0;
    const rt_buf *bufs[N_MEMS] = {call->a.buf, call->b.buf, call->c.buf, call->alpha.buf, call->beta.buf};
    for (int i = 0; i < N_MEMS; i++) {
        if (!bufs[i])
            continue;
        if (!rt_buf_host(bufs[i]))
            return err_set(e, DAMO_ERR_DEVICE, "internal error: a buffer without host memory "
                           "reached the host BLAS");
        c.mems[n_mems] = rt_buf_mem(bufs[i]);
        locs[n_mems] = &c.mems[n_mems];
        n_mems++;
    }
    if (call->alpha.buf)
        c.alpha_at = (const char *)rt_buf_host(call->alpha.buf) + call->alpha.offset * es;
    if (call->beta.buf)
        c.beta_at = (const char *)rt_buf_host(call->beta.buf) + call->beta.offset * es;
    /* an idle queue has written every operand and reads none */
    if (rt->blas_inline && macs(call) <= INLINE_MAX_MACS && rt_queue_idle(rt)) {
        run_host(&c);
        return DAMO_OK;
    }
    cl_int rc = clEnqueueNativeKernel(rt->queue, run_host, &c, sizeof c, n_mems, c.mems, locs, 0,
                                      NULL, rt_rec(rt));
    if (rc != CL_SUCCESS)
        return err_set(e, DAMO_ERR_DEVICE, "queueing the host BLAS on '%s': %s", rt->dev.name,
                       rt_cl_error_name(rc));
    return DAMO_OK;
}

/* ---- CLBlast route ----------------------------------------------------------- */

static damo_status clblast_status(rt_ctx *rt, CLBlastStatusCode s, const char *what, damo_err *e)
{
    if (s == CLBlastSuccess)
        return DAMO_OK;
    return err_set(e, s == CLBlastOpenCLBuildProgramFailure ? DAMO_ERR_BUILD : DAMO_ERR_DEVICE,
                   "CLBlast %s on '%s' failed with status %d", what, rt->dev.name, (int)s);
}

static damo_status coef_value(rt_ctx *rt, const rt_blas_coef *c, int f64, double *out, damo_err *e)
{
    *out = c->value;
    if (!c->buf)
        return DAMO_OK;
    unsigned char v[8];
    damo_status st = rt_buf_read(rt, c->buf, c->offset * (f64 ? 8 : 4), f64 ? 8 : 4, v, e);
    if (st == DAMO_OK) {
        if (f64)
            memcpy(out, v, 8);
        else {
            float f;
            memcpy(&f, v, 4);
            *out = f;
        }
    }
    return st;
}

/* c = beta * c, or zeros, for count contiguous elements of c. */
static damo_status clblast_scale(rt_ctx *rt, const rt_blas_call *call, double beta, size_t count,
                                 damo_err *e)
{
    if (count == 0)
        return DAMO_OK;
    size_t es = call->f64 ? 8 : 4;
    if (beta == 0) {
        const unsigned char zero[8] = {0};
        cl_int rc = clEnqueueFillBuffer(rt->queue, rt_buf_mem(call->c.buf), zero, es,
                                        call->c.offset * es, count * es, 0, NULL, rt_rec(rt));
        return rc == CL_SUCCESS ? DAMO_OK
                                : err_set(e, DAMO_ERR_DEVICE, "filling a buffer on '%s': %s",
                                          rt->dev.name, rt_cl_error_name(rc));
    }
    cl_mem cm = rt_buf_mem(call->c.buf);
    CLBlastStatusCode s = call->f64 ? CLBlastDscal(count, beta, cm, call->c.offset, 1, &rt->queue, rt_rec(rt))
                                    : CLBlastSscal(count, (float)beta, cm, call->c.offset, 1, &rt->queue, rt_rec(rt));
    return clblast_status(rt, s, "scal", e);
}

static damo_status enqueue_clblast(rt_ctx *rt, const rt_blas_call *c, damo_err *e)
{
    double alpha, beta;
    if (coef_value(rt, &c->alpha, c->f64, &alpha, e) != DAMO_OK ||
        coef_value(rt, &c->beta, c->f64, &beta, e) != DAMO_OK)
        return e->code;
    cl_mem am = c->a.buf ? rt_buf_mem(c->a.buf) : NULL, bm = c->b.buf ? rt_buf_mem(c->b.buf) : NULL;
    cl_mem cm = rt_buf_mem(c->c.buf);
    CLBlastTranspose ta = c->a.trans ? CLBlastTransposeYes : CLBlastTransposeNo;
    CLBlastTranspose tb = c->b.trans ? CLBlastTransposeYes : CLBlastTransposeNo;
    CLBlastStatusCode s;
    /* c may hold anything (a pooled buffer, NaN included), and CLBlast's
     * gemv reads it even when beta is 0 (0 * NaN is NaN): clear it */
    if (beta == 0 && c->kind != RT_DOT && c->k &&
        clblast_scale(rt, c, 0, c->kind == RT_GEMM ? c->m * c->n : c->m, e) != DAMO_OK)
        return e->code;
    switch (c->kind) {
    case RT_GEMM:
        if (c->k == 0)
            return clblast_scale(rt, c, beta, c->m * c->n, e);
        s = c->f64 ? CLBlastDgemm(CLBlastLayoutRowMajor, ta, tb, c->m, c->n, c->k, alpha, am,
                                  c->a.offset, c->a.ld, bm, c->b.offset, c->b.ld, beta, cm,
                                  c->c.offset, c->c.ld, &rt->queue, rt_rec(rt))
                   : CLBlastSgemm(CLBlastLayoutRowMajor, ta, tb, c->m, c->n, c->k, (float)alpha, am,
                                  c->a.offset, c->a.ld, bm, c->b.offset, c->b.ld, (float)beta, cm,
                                  c->c.offset, c->c.ld, &rt->queue, rt_rec(rt));
        return clblast_status(rt, s, "gemm", e);
    case RT_GEMV: {
        if (c->k == 0)
            return clblast_scale(rt, c, beta, c->m, e);
        size_t rows = c->a.trans ? c->k : c->m, cols = c->a.trans ? c->m : c->k;
        s = c->f64 ? CLBlastDgemv(CLBlastLayoutRowMajor, ta, rows, cols, alpha, am, c->a.offset,
                                  c->a.ld, bm, c->b.offset, c->b.ld, beta, cm, c->c.offset, c->c.ld,
                                  &rt->queue, rt_rec(rt))
                   : CLBlastSgemv(CLBlastLayoutRowMajor, ta, rows, cols, (float)alpha, am,
                                  c->a.offset, c->a.ld, bm, c->b.offset, c->b.ld, (float)beta, cm,
                                  c->c.offset, c->c.ld, &rt->queue, rt_rec(rt));
        return clblast_status(rt, s, "gemv", e);
    }
    case RT_DOT:
        if (c->k == 0)
            return clblast_scale(rt, c, 0, 1, e);
        s = c->f64 ? CLBlastDdot(c->k, cm, c->c.offset, am, c->a.offset, c->a.ld, bm, c->b.offset,
                                 c->b.ld, &rt->queue, rt_rec(rt))
                   : CLBlastSdot(c->k, cm, c->c.offset, am, c->a.offset, c->a.ld, bm, c->b.offset,
                                 c->b.ld, &rt->queue, rt_rec(rt));
        return clblast_status(rt, s, "dot", e);
    }
    return DAMO_OK;
}

damo_status rt_blas(rt_ctx *rt, const rt_blas_call *call, damo_err *e)
{
    if (call->m == 0 || (call->kind == RT_GEMM && call->n == 0))
        return DAMO_OK;
    return rt->blas == RT_BLAS_HOST ? enqueue_host(rt, call, e) : enqueue_clblast(rt, call, e);
}
