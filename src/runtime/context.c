/* One OpenCL context and in-order queue per damo context. The queue is
 * made without profiling, and without events commands carry no
 * timestamps; the first profiled function replaces it by one that records
 * them (events.c). Creation and release hold the discovery lock (see
 * runtime.h). */
#include <stdlib.h>
#include <string.h>

#include "runtime.h"

static damo_status init_locked(rt_ctx *rt, const rt_device *dev, damo_err *e)
{
    /* a copy first, so that dev may point into rt (re-initialising a ctx) */
    rt_device d = *dev;
    memset(rt, 0, sizeof *rt);
    rt->dev = d;
    cl_int rc;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)d.platform, 0};
    rt->context = clCreateContext(props, 1, &d.device, NULL, NULL, &rc);
    if (rc != CL_SUCCESS) {
        rt->context = NULL;
        return err_set(e, DAMO_ERR_DEVICE, "creating an OpenCL context on '%s': %s", d.name,
                       rt_cl_error_name(rc));
    }
    rt->queue = clCreateCommandQueue(rt->context, d.device, 0, &rc);
    if (rc != CL_SUCCESS) {
        rt->queue = NULL;
        clReleaseContext(rt->context);
        rt->context = NULL;
        return err_set(e, DAMO_ERR_DEVICE, "creating a command queue on '%s': %s", d.name,
                       rt_cl_error_name(rc));
    }
    rt->drained = 1;
    damo_status st = rt_blas_init(rt, e);
    if (st != DAMO_OK) {
        clReleaseCommandQueue(rt->queue);
        clReleaseContext(rt->context);
        rt->queue = NULL;
        rt->context = NULL;
    }
    return st;
}

damo_status rt_ctx_init(rt_ctx *rt, const rt_device *dev, damo_err *e)
{
    rt_lock();
    damo_status st = init_locked(rt, dev, e);
    rt_unlock();
    return st;
}

damo_status rt_open(rt_ctx *rt, const char *selector, damo_err *e)
{
    rt_device *devs;
    size_t n, pick;
    damo_status st = rt_list_devices(&devs, &n, e);
    if (st == DAMO_OK && (st = rt_select_device(devs, n, selector, &pick, NULL, 0, e)) == DAMO_OK)
        st = rt_ctx_init(rt, &devs[pick], e);
    free(devs);
    return st;
}

void rt_ctx_release(rt_ctx *rt)
{
    /* queued kernels may still use pooled buffers, cached programs and
     * staging memory */
    if (rt->queue)
        clFinish(rt->queue);
    rt_transfers_release(rt);
    rt_progs_release(rt);
    rt_pool_release(rt);
    if (rt->last)
        clReleaseEvent(rt->last);
    rt_lock();
    if (rt->queue)
        clReleaseCommandQueue(rt->queue);
    if (rt->context)
        clReleaseContext(rt->context);
    rt_unlock();
    memset(rt, 0, sizeof *rt);
}

damo_status rt_finish(rt_ctx *rt, damo_err *e)
{
    uint64_t w = rt_wait_begin(rt);
    cl_int rc = clFinish(rt->queue);
    rt_wait_end(rt, w);
    rt->drained = rc == CL_SUCCESS;
    if (rc != CL_SUCCESS)
        return err_set(e, DAMO_ERR_DEVICE, "waiting for the queue on '%s' (clFinish): %s",
                       rt->dev.name, rt_cl_error_name(rc));
    return DAMO_OK;
}

damo_status rt_flush(rt_ctx *rt, damo_err *e)
{
    cl_int rc = clFlush(rt->queue);
    if (rc != CL_SUCCESS)
        return err_set(e, DAMO_ERR_DEVICE, "submitting work on '%s' (clFlush): %s", rt->dev.name,
                       rt_cl_error_name(rc));
    return DAMO_OK;
}
