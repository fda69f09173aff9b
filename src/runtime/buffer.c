/* Device buffers with reference counts and a per-context pool.
 *
 * Sizing: a buffer is allocated at its request rounded up to a multiple of
 * 64 bytes (at least 64, so zero-byte requests work), not at a power of two:
 * a 300 MiB array should not cost 512 MiB of device memory or fail against
 * CL_DEVICE_MAX_MEM_ALLOC_SIZE. Reuse: the pool is kept sorted by capacity
 * and a request takes the smallest pooled buffer that holds it, provided it
 * is at most twice the request, so a steady loop that asks for the same
 * sizes allocates nothing and a small request never pins a huge buffer.
 * The pool holds at most POOL_MAX_BYTES; beyond that the least recently
 * pooled buffers are freed.
 *
 * Every buffer must be released before its rt_ctx (damo_ctx_free's
 * contract): a buffer finds its pool through the ctx. */
#include <stdlib.h>
#include <string.h>

#include "../common/grow.h"
#include "runtime.h"

#define BUF_ALIGN ((size_t)64)
#define POOL_MAX_BYTES ((size_t)256 << 20)

struct rt_buf {
    rt_ctx *rt;
    cl_mem mem;
    size_t size;      /* bytes asked for; what copies are checked against */
    size_t cap;       /* bytes allocated */
    int refcount;
    int wrapped;      /* over host memory (rt_buf_wrap): never pooled */
    void *host;       /* the host memory under it, when host-backed */
    uint64_t pooled;  /* pool clock when last released, for LRU eviction */
};

struct rt_pool {
    rt_buf **items;   /* sorted by cap, ascending */
    size_t n, alloc;
    size_t bytes;
    uint64_t clock;
};

static void buf_free(rt_buf *b)
{
    clReleaseMemObject(b->mem);
    free(b);
}

/* First index whose cap is >= cap. */
static size_t lower_bound(const rt_pool *p, size_t cap)
{
    size_t lo = 0, hi = p->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->items[mid]->cap < cap)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static rt_buf *pool_take(rt_pool *p, size_t i)
{
    rt_buf *b = p->items[i];
    memmove(p->items + i, p->items + i + 1, (p->n - i - 1) * sizeof *p->items);
    p->n--;
    p->bytes -= b->cap;
    return b;
}

/* Frees the least recently pooled buffers until the pool holds <= limit. */
static void pool_trim(rt_pool *p, size_t limit)
{
    while (p->bytes > limit) {
        size_t oldest = 0;
        for (size_t i = 1; i < p->n; i++)
            if (p->items[i]->pooled < p->items[oldest]->pooled)
                oldest = i;
        buf_free(pool_take(p, oldest));
    }
}

/* 0 when the buffer could not be kept (the caller frees it). */
static int pool_put(rt_pool *p, rt_buf *b)
{
    if (b->cap > POOL_MAX_BYTES)
        return 0;
    if (!grow_array((void **)&p->items, &p->alloc, p->n + 1, sizeof *p->items))
        return 0;
    /* before its equals, so that the most recently released is reused first */
    size_t i = lower_bound(p, b->cap);
    memmove(p->items + i + 1, p->items + i, (p->n - i) * sizeof *p->items);
    p->items[i] = b;
    p->n++;
    p->bytes += b->cap;
    b->pooled = ++p->clock;
    pool_trim(p, POOL_MAX_BYTES);
    return 1;
}

static void CL_CALLBACK free_host(cl_mem m, void *host)
{
    (void)m;
    free(host);
}

/* A cl_mem over `host` (freed with the buffer), or NULL with *rc set. */
static cl_mem over_host(rt_ctx *rt, void *host, size_t bytes, cl_int *rc)
{
    /* zero bytes: OpenCL refuses empty buffers; a byte of host memory is
     * always there (hosts allocate at least one) */
    cl_mem m = clCreateBuffer(rt->context, CL_MEM_READ_WRITE | CL_MEM_USE_HOST_PTR,
                              bytes ? bytes : 1, host, rc);
    if (*rc == CL_SUCCESS && (*rc = clSetMemObjectDestructorCallback(m, free_host, host)) != CL_SUCCESS) {
        clReleaseMemObject(m);
        return NULL;
    }
    return *rc == CL_SUCCESS ? m : NULL;
}

static cl_mem try_create(rt_ctx *rt, size_t cap, void **host, cl_int *rc)
{
    *host = NULL;
    if (!rt->host_bufs)
        return clCreateBuffer(rt->context, CL_MEM_READ_WRITE, cap, NULL, rc);
    if (posix_memalign(host, rt->dev.mem_align, cap) != 0) {
        *host = NULL;
        *rc = CL_OUT_OF_HOST_MEMORY;
        return NULL;
    }
    cl_mem m = over_host(rt, *host, cap, rc);
    if (!m) {
        free(*host);
        *host = NULL;
    }
    return m;
}

static cl_mem create_mem(rt_ctx *rt, size_t cap, void **host, cl_int *rc)
{
    cl_mem m = try_create(rt, cap, host, rc);
    if (*rc == CL_SUCCESS || rt->pool->n == 0)
        return m;
    /* pooled buffers may be what exhausts the device: drop them, try again */
    pool_trim(rt->pool, 0);
    return try_create(rt, cap, host, rc);
}

rt_buf *rt_buf_alloc(rt_ctx *rt, size_t bytes, damo_err *e)
{
    if (bytes > SIZE_MAX - BUF_ALIGN || (rt->dev.max_alloc && bytes > rt->dev.max_alloc)) {
        err_set(e, DAMO_ERR_DEVICE,
                "a buffer of %zu bytes exceeds the largest allocation of '%s' (%llu bytes)",
                bytes, rt->dev.name, (unsigned long long)rt->dev.max_alloc);
        return NULL;
    }
    if (!rt->pool && !(rt->pool = calloc(1, sizeof *rt->pool))) {
        err_set(e, DAMO_ERR_NOMEM, "out of memory creating the buffer pool");
        return NULL;
    }
    size_t cap = bytes < BUF_ALIGN ? BUF_ALIGN : (bytes + BUF_ALIGN - 1) / BUF_ALIGN * BUF_ALIGN;
    rt_pool *p = rt->pool;
    size_t i = lower_bound(p, cap);
    rt_buf *b;
    if (i < p->n && p->items[i]->cap / 2 <= cap) {
        b = pool_take(p, i);
    } else {
        if (!(b = calloc(1, sizeof *b))) {
            err_set(e, DAMO_ERR_NOMEM, "out of memory for a buffer handle");
            return NULL;
        }
        cl_int rc;
        b->mem = create_mem(rt, cap, &b->host, &rc);
        rt->buffers_created += rc == CL_SUCCESS;
        if (rc != CL_SUCCESS) {
            free(b);
            err_set(e, DAMO_ERR_DEVICE, "allocating a device buffer of %zu bytes on '%s': %s",
                    cap, rt->dev.name, rt_cl_error_name(rc));
            return NULL;
        }
        b->rt = rt;
        b->cap = cap;
    }
    b->size = bytes;
    b->refcount = 1;
    return b;
}

rt_buf *rt_buf_retain(rt_buf *b)
{
    if (b)
        b->refcount++;
    return b;
}

rt_buf *rt_buf_wrap(rt_ctx *rt, void *host, size_t bytes, damo_err *e)
{
    rt_buf *b = calloc(1, sizeof *b);
    if (!b) {
        err_set(e, DAMO_ERR_NOMEM, "out of memory for a buffer handle");
        return NULL;
    }
    cl_int rc;
    b->mem = over_host(rt, host, bytes, &rc);
    if (rc != CL_SUCCESS) {
        free(b);
        err_set(e, DAMO_ERR_DEVICE, "wrapping %zu bytes of host memory on '%s': %s", bytes,
                rt->dev.name, rt_cl_error_name(rc));
        return NULL;
    }
    rt->buffers_created++;
    b->rt = rt;
    b->size = b->cap = bytes;
    b->refcount = 1;
    b->wrapped = 1;
    b->host = host;
    return b;
}

void rt_buf_release(rt_buf *b)
{
    if (!b || --b->refcount > 0)
        return;
    if (b->wrapped) {
        buf_free(b);
        return;
    }
    /* the queue is in order, so work still queued on this buffer runs
     * before anything a later owner enqueues on it */
    if (!pool_put(b->rt->pool, b))
        buf_free(b);
}

void rt_pool_release(rt_ctx *rt)
{
    if (!rt->pool)
        return;
    pool_trim(rt->pool, 0);
    free(rt->pool->items);
    free(rt->pool);
    rt->pool = NULL;
}

cl_mem rt_buf_mem(const rt_buf *b) { return b->mem; }
void *rt_buf_host(const rt_buf *b) { return b->host; }
size_t rt_buf_size(const rt_buf *b) { return b->size; }
int rt_buf_refcount(const rt_buf *b) { return b->refcount; }

damo_status rt_buf_check_range(const rt_buf *b, size_t offset, size_t size, const char *what,
                               damo_err *e)
{
    if (offset > b->size || size > b->size - offset)
        return err_set(e, DAMO_ERR_INVALID,
                       "%s of %zu bytes at offset %zu is outside a buffer of %zu bytes", what,
                       size, offset, b->size);
    return DAMO_OK;
}

/* Zero-byte transfers succeed without touching the queue: OpenCL rejects
 * them (CL_INVALID_VALUE) but empty arrays are ordinary. */

damo_status rt_host_direct_ready(rt_ctx *rt, damo_err *e)
{
    if (!rt->host_bufs || rt->host_checked)
        return DAMO_OK;
    rt->host_checked = 1;
    rt_buf *b = rt_buf_alloc(rt, 64, e);
    if (!b)
        return e->code;
    cl_int rc;
    uint64_t w = rt_wait_begin(rt);
    void *p = clEnqueueMapBuffer(rt->queue, rt_buf_mem(b), CL_TRUE, CL_MAP_READ, 0, 64, 0, NULL,
                                 NULL, &rc);
    rt_wait_end(rt, w);
    if (rc == CL_SUCCESS)
        clEnqueueUnmapMemObject(rt->queue, rt_buf_mem(b), p, 0, NULL, rt_rec(rt));
    rt->host_direct = rc == CL_SUCCESS && p == rt_buf_host(b);
    rt_buf_release(b);
    return DAMO_OK;
}

damo_status rt_buf_read(rt_ctx *rt, rt_buf *b, size_t offset, size_t size, void *dst, damo_err *e)
{
    if (rt_buf_check_range(b, offset, size, "read", e) != DAMO_OK)
        return DAMO_ERR_INVALID;
    if (size == 0)
        return DAMO_OK;
    /* an idle queue has written b: its memory is the host's, no command */
    if (rt_direct_now(rt)) {
        memcpy(dst, (const char *)rt_buf_host(b) + offset, size);
        return DAMO_OK;
    }
    uint64_t w = rt_wait_begin(rt);
    cl_int rc = clEnqueueReadBuffer(rt->queue, b->mem, CL_TRUE, offset, size, dst, 0, NULL, rt_rec(rt));
    rt_wait_end(rt, w);
    if (rc != CL_SUCCESS)
        return err_set(e, DAMO_ERR_DEVICE, "reading %zu bytes from a device buffer on '%s': %s",
                       size, rt->dev.name, rt_cl_error_name(rc));
    return DAMO_OK;
}

damo_status rt_buf_copy(rt_ctx *rt, rt_buf *src, size_t src_off, rt_buf *dst, size_t dst_off,
                        size_t size, damo_err *e)
{
    if (rt_buf_check_range(src, src_off, size, "copy source", e) != DAMO_OK ||
        rt_buf_check_range(dst, dst_off, size, "copy destination", e) != DAMO_OK)
        return DAMO_ERR_INVALID;
    if (size == 0)
        return DAMO_OK;
    cl_int rc = clEnqueueCopyBuffer(rt->queue, src->mem, dst->mem, src_off, dst_off, size, 0,
                                    NULL, rt_rec(rt));
    if (rc != CL_SUCCESS)
        return err_set(e, DAMO_ERR_DEVICE, "copying %zu bytes between device buffers on '%s': %s",
                       size, rt->dev.name, rt_cl_error_name(rc));
    return DAMO_OK;
}
