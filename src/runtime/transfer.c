/* Host -> device uploads without host waits, and host memory that must
 * outlive the transfers reading it.
 *
 * A non-blocking clEnqueueWriteBuffer reads its source when the queue gets
 * there, so the source must not change or be freed before then. Small
 * uploads (the typical case of a small host step feeding a device step, or
 * an argument of a few elements) copy their source into staging blocks the
 * runtime owns, so the caller's memory is free at once; a block is reused
 * once its transfer has completed, which is asked without blocking. Large
 * uploads read the caller's memory directly and hand back the event; memory
 * freed while such an upload is pending is parked here until it completes. */
#include <stdlib.h>
#include <string.h>

#include "runtime.h"

#define STAGE_MAX_BYTES ((size_t)64 << 10) /* larger uploads are not staged */
#define STAGE_BLOCKS 32                    /* staging blocks kept at most */

typedef struct stage {
    void *mem;
    size_t cap;
    cl_event ev;       /* the upload reading it; NULL when the block is free */
} stage;

typedef struct deferred {
    void *mem;
    cl_event ev;
} deferred;

struct rt_transfers {
    stage stages[STAGE_BLOCKS];
    size_t n_stages;
    size_t next_wait;  /* block to wait for when all are busy (round robin) */
    deferred *defer;
    size_t n_defer, cap_defer;
};

int rt_event_done(cl_event ev)
{
    cl_int status = CL_COMPLETE;
    if (clGetEventInfo(ev, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof status, &status, NULL) !=
        CL_SUCCESS)
        return 1;
    /* negative: the command failed; nothing will read the memory again */
    return status == CL_COMPLETE || status < 0;
}

damo_status rt_event_wait(rt_ctx *rt, cl_event ev, damo_err *e)
{
    cl_int rc = CL_SUCCESS;
    if (!rt_event_done(ev)) {
        rt->host_waits++;
        rc = clWaitForEvents(1, &ev);
    }
    clReleaseEvent(ev);
    if (rc != CL_SUCCESS)
        return err_set(e, DAMO_ERR_DEVICE, "waiting for a transfer on '%s': %s", rt->dev.name,
                       rt_cl_error_name(rc));
    return DAMO_OK;
}

static rt_transfers *transfers(rt_ctx *rt)
{
    if (!rt->xfer)
        rt->xfer = calloc(1, sizeof *rt->xfer);
    return rt->xfer;
}

/* Frees parked memory whose transfers have completed. */
static void sweep(rt_transfers *x)
{
    size_t k = 0;
    for (size_t i = 0; i < x->n_defer; i++) {
        if (rt_event_done(x->defer[i].ev)) {
            clReleaseEvent(x->defer[i].ev);
            free(x->defer[i].mem);
        } else {
            x->defer[k++] = x->defer[i];
        }
    }
    x->n_defer = k;
}

void rt_defer_free(rt_ctx *rt, void *mem, cl_event ev)
{
    rt_transfers *x = transfers(rt);
    if (x) {
        sweep(x);
        if (x->n_defer == x->cap_defer) {
            size_t cap = x->cap_defer ? 2 * x->cap_defer : 16;
            deferred *d = realloc(x->defer, cap * sizeof *d);
            if (d) {
                x->defer = d;
                x->cap_defer = cap;
            }
        }
        if (x->n_defer < x->cap_defer) {
            x->defer[x->n_defer++] = (deferred){mem, ev};
            return;
        }
    }
    rt_event_wait(rt, ev, NULL);
    free(mem);
}

/* A free staging block of at least `size` bytes, or NULL (out of memory). */
static stage *free_stage(rt_ctx *rt, rt_transfers *x, size_t size)
{
    stage *fit = NULL;
    for (size_t i = 0; i < x->n_stages; i++) {
        stage *s = &x->stages[i];
        if (s->ev && rt_event_done(s->ev)) {
            clReleaseEvent(s->ev);
            s->ev = NULL;
        }
        if (!s->ev && (!fit || s->cap >= size))
            fit = s;
    }
    if (!fit && x->n_stages < STAGE_BLOCKS)
        fit = &x->stages[x->n_stages++];
    if (!fit) {
        /* every block is in flight: the device is far behind the host */
        fit = &x->stages[x->next_wait++ % STAGE_BLOCKS];
        cl_event ev = fit->ev;
        fit->ev = NULL;
        if (rt_event_wait(rt, ev, NULL) != DAMO_OK)
            return NULL;
    }
    if (fit->cap < size) {
        void *m = realloc(fit->mem, size);
        if (!m)
            return NULL;
        fit->mem = m;
        fit->cap = size;
    }
    return fit;
}

damo_status rt_upload(rt_ctx *rt, rt_buf *b, size_t offset, size_t size, const void *src,
                      cl_event *pending, damo_err *e)
{
    *pending = NULL;
    if (rt_buf_check_range(b, offset, size, "upload", e) != DAMO_OK)
        return DAMO_ERR_INVALID;
    /* zero bytes: OpenCL rejects the transfer, but empty arrays are ordinary */
    if (size == 0)
        return DAMO_OK;
    rt_transfers *x = transfers(rt);
    if (!x)
        return err_set(e, DAMO_ERR_NOMEM, "out of memory for transfer bookkeeping");
    sweep(x);
    stage *s = NULL;
    if (size <= STAGE_MAX_BYTES) {
        if (!(s = free_stage(rt, x, size)))
            return err_set(e, DAMO_ERR_NOMEM, "out of memory staging an upload of %zu bytes",
                           size);
        memcpy(s->mem, src, size);
        src = s->mem;
    }
    cl_event ev;
    cl_int rc = clEnqueueWriteBuffer(rt->queue, rt_buf_mem(b), CL_FALSE, offset, size, src, 0,
                                     NULL, &ev);
    if (rc != CL_SUCCESS)
        return err_set(e, DAMO_ERR_DEVICE, "uploading %zu bytes to '%s': %s", size, rt->dev.name,
                       rt_cl_error_name(rc));
    if (s)
        s->ev = ev;
    else
        *pending = ev;
    return DAMO_OK;
}

void rt_transfers_release(rt_ctx *rt)
{
    rt_transfers *x = rt->xfer;
    if (!x)
        return;
    /* the caller has finished the queue: every event has completed */
    for (size_t i = 0; i < x->n_stages; i++) {
        if (x->stages[i].ev)
            clReleaseEvent(x->stages[i].ev);
        free(x->stages[i].mem);
    }
    for (size_t i = 0; i < x->n_defer; i++) {
        clReleaseEvent(x->defer[i].ev);
        free(x->defer[i].mem);
    }
    free(x->defer);
    free(x);
    rt->xfer = NULL;
}
