/* Device buffers with reference counts and a pool. Sizes are rounded up to
 * a power of two (at least 64 bytes), so a released buffer serves any later
 * request of the same class; a steady loop then allocates nothing. */
#include <stdlib.h>
#include <string.h>

#include "runtime.h"

#define POOL_CLASSES 64
#define POOL_MAX_BYTES ((size_t)256 << 20)

struct rt_buf {
    rt_ctx *rt;
    cl_mem mem;
    size_t size;   /* the class size actually allocated */
    int refcount;
    rt_buf *next;  /* free list link while pooled */
};

struct rt_pool {
    rt_buf *free[POOL_CLASSES];
    size_t bytes;
};

static int size_class(size_t bytes, size_t *rounded)
{
    size_t s = 64;
    int c = 0;
    while (s < bytes && c < POOL_CLASSES - 1) {
        s *= 2;
        c++;
    }
    *rounded = s < bytes ? bytes : s;
    return c;
}

rt_buf *rt_buf_alloc(rt_ctx *rt, size_t bytes, damo_err *e)
{
    size_t size;
    int c = size_class(bytes, &size);
    if (!rt->pool && !(rt->pool = calloc(1, sizeof *rt->pool))) {
        err_set(e, DAMO_ERR_NOMEM, "out of memory for the buffer pool");
        return NULL;
    }
    rt_buf *b = rt->pool->free[c];
    if (b && b->size >= bytes) {
        rt->pool->free[c] = b->next;
        rt->pool->bytes -= b->size;
        b->next = NULL;
        b->refcount = 1;
        return b;
    }
    if (!(b = calloc(1, sizeof *b))) {
        err_set(e, DAMO_ERR_NOMEM, "out of memory for a buffer handle");
        return NULL;
    }
    cl_int rc;
    b->mem = clCreateBuffer(rt->context, CL_MEM_READ_WRITE, size, NULL, &rc);
    if (rc != CL_SUCCESS) {
        free(b);
        err_set(e, DAMO_ERR_DEVICE, "clCreateBuffer of %zu bytes on '%s': %s", size, rt->dev.name,
                rt_cl_error_name(rc));
        return NULL;
    }
    b->rt = rt;
    b->size = size;
    b->refcount = 1;
    return b;
}

rt_buf *rt_buf_retain(rt_buf *b)
{
    if (b)
        b->refcount++;
    return b;
}

void rt_buf_release(rt_buf *b)
{
    if (!b || --b->refcount > 0)
        return;
    rt_pool *p = b->rt->pool;
    size_t rounded;
    int c = size_class(b->size, &rounded);
    if (p->bytes + b->size <= POOL_MAX_BYTES && rounded == b->size) {
        b->next = p->free[c];
        p->free[c] = b;
        p->bytes += b->size;
        return;
    }
    clReleaseMemObject(b->mem);
    free(b);
}

void rt_pool_release(rt_ctx *rt)
{
    if (!rt->pool)
        return;
    for (int c = 0; c < POOL_CLASSES; c++)
        while (rt->pool->free[c]) {
            rt_buf *b = rt->pool->free[c];
            rt->pool->free[c] = b->next;
            clReleaseMemObject(b->mem);
            free(b);
        }
    free(rt->pool);
    rt->pool = NULL;
}

cl_mem rt_buf_mem(const rt_buf *b) { return b->mem; }
size_t rt_buf_size(const rt_buf *b) { return b->size; }
int rt_buf_refcount(const rt_buf *b) { return b->refcount; }

damo_status rt_buf_write(rt_ctx *rt, rt_buf *b, size_t offset, size_t size, const void *src,
                         int blocking, damo_err *e)
{
    cl_int rc = clEnqueueWriteBuffer(rt->queue, b->mem, blocking ? CL_TRUE : CL_FALSE, offset,
                                     size, src, 0, NULL, NULL);
    if (rc != CL_SUCCESS)
        return err_set(e, DAMO_ERR_DEVICE, "clEnqueueWriteBuffer of %zu bytes: %s", size,
                       rt_cl_error_name(rc));
    return DAMO_OK;
}

damo_status rt_buf_read(rt_ctx *rt, rt_buf *b, size_t offset, size_t size, void *dst, damo_err *e)
{
    cl_int rc = clEnqueueReadBuffer(rt->queue, b->mem, CL_TRUE, offset, size, dst, 0, NULL, NULL);
    if (rc != CL_SUCCESS)
        return err_set(e, DAMO_ERR_DEVICE, "clEnqueueReadBuffer of %zu bytes: %s", size,
                       rt_cl_error_name(rc));
    return DAMO_OK;
}

damo_status rt_buf_copy(rt_ctx *rt, rt_buf *src, size_t src_off, rt_buf *dst, size_t dst_off,
                        size_t size, damo_err *e)
{
    cl_int rc = clEnqueueCopyBuffer(rt->queue, src->mem, dst->mem, src_off, dst_off, size, 0,
                                    NULL, NULL);
    if (rc != CL_SUCCESS)
        return err_set(e, DAMO_ERR_DEVICE, "clEnqueueCopyBuffer of %zu bytes: %s", size,
                       rt_cl_error_name(rc));
    return DAMO_OK;
}
