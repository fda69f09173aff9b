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

#include "../common/grow.h"
#include "runtime.h"

#define STAGE_MAX_BYTES ((size_t)64 << 10) /* larger uploads are not staged */

typedef struct stage {
    void *mem;
    size_t cap;
    cl_event ev;       /* the upload reading it */
} stage;

typedef struct deferred {
    void *mem;
    cl_event ev;
} deferred;

/* Staging blocks in flight form a FIFO in enqueue order: the queue is in
 * order, so the oldest completes first and is the only one to ask about. A
 * host far ahead of the device keeps more blocks in flight (as the queue
 * itself keeps more commands) rather than waiting. */
struct rt_transfers {
    stage *ring;
    size_t head, len, cap;
    stage spare;       /* a completed block kept for the next upload */
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
        uint64_t w = rt_wait_begin(rt);
        rc = clWaitForEvents(1, &ev);
        rt_wait_end(rt, w);
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
        if (grow_array((void **)&x->defer, &x->cap_defer, x->n_defer + 1, sizeof *x->defer)) {
            x->defer[x->n_defer++] = (deferred){mem, ev};
            return;
        }
    }
    rt_event_wait(rt, ev, NULL);
    free(mem);
}

/* Moves completed blocks off the front of the ring; the last one stays as
 * the spare. */
static void retire(rt_transfers *x)
{
    while (x->len && rt_event_done(x->ring[x->head].ev)) {
        stage *s = &x->ring[x->head];
        clReleaseEvent(s->ev);
        s->ev = NULL;
        if (s->cap > x->spare.cap) {
            free(x->spare.mem);
            x->spare = *s;
        } else {
            free(s->mem);
        }
        x->head = (x->head + 1) % x->cap;
        x->len--;
    }
}

/* Staging memory of at least size bytes: the spare, grown if needed. */
static void *stage_mem(rt_transfers *x, size_t size)
{
    if (x->spare.cap < size) {
        void *m = realloc(x->spare.mem, size);
        if (!m)
            return NULL;
        x->spare.mem = m;
        x->spare.cap = size;
    }
    return x->spare.mem;
}

/* Puts the spare, now read by the upload ev, at the back of the ring. */
static int stage_push(rt_transfers *x, cl_event ev)
{
    if (x->len == x->cap) {
        size_t cap = x->cap ? 2 * x->cap : 16;
        stage *r = malloc(cap * sizeof *r);
        if (!r)
            return 0;
        for (size_t i = 0; i < x->len; i++)
            r[i] = x->ring[(x->head + i) % x->cap];
        free(x->ring);
        x->ring = r;
        x->head = 0;
        x->cap = cap;
    }
    x->spare.ev = ev;
    x->ring[(x->head + x->len++) % x->cap] = x->spare;
    x->spare = (stage){NULL, 0, NULL};
    return 1;
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
    /* nothing queued reads or writes b: copy on the calling thread */
    if (rt_direct_now(rt)) {
        memcpy((char *)rt_buf_host(b) + offset, src, size);
        return DAMO_OK;
    }
    rt_transfers *x = transfers(rt);
    if (!x)
        return err_set(e, DAMO_ERR_NOMEM, "out of memory for transfer bookkeeping");
    sweep(x);
    retire(x);
    int staged = size <= STAGE_MAX_BYTES;
    if (staged) {
        void *m = stage_mem(x, size);
        if (!m)
            return err_set(e, DAMO_ERR_NOMEM, "out of memory staging an upload of %zu bytes",
                           size);
        memcpy(m, src, size);
        src = m;
    }
    cl_event ev;
    cl_int rc = clEnqueueWriteBuffer(rt->queue, rt_buf_mem(b), CL_FALSE, offset, size, src, 0,
                                     NULL, &ev);
    if (rc != CL_SUCCESS)
        return err_set(e, DAMO_ERR_DEVICE, "uploading %zu bytes to '%s': %s", size, rt->dev.name,
                       rt_cl_error_name(rc));
    /* the upload's event serves the transfer bookkeeping too */
    cl_event *rec = rt_rec(rt);
    if (rec && clRetainEvent(ev) == CL_SUCCESS)
        *rec = ev;
    if (!staged) {
        *pending = ev;
    } else if (!stage_push(x, ev)) {
        /* no room to track the block: let the upload finish with it */
        rt_event_wait(rt, ev, NULL);
    }
    return DAMO_OK;
}

void rt_transfers_release(rt_ctx *rt)
{
    rt_transfers *x = rt->xfer;
    if (!x)
        return;
    /* the caller has finished the queue: every event has completed */
    for (size_t i = 0; i < x->len; i++) {
        stage *s = &x->ring[(x->head + i) % x->cap];
        clReleaseEvent(s->ev);
        free(s->mem);
    }
    free(x->ring);
    free(x->spare.mem);
    for (size_t i = 0; i < x->n_defer; i++) {
        clReleaseEvent(x->defer[i].ev);
        free(x->defer[i].mem);
    }
    free(x->defer);
    free(x);
    rt->xfer = NULL;
}
