/* Arrays and their storage: where the values are, and moving them. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../common/ckd.h"
#include "exec.h"

storage *storage_new(damo_ctx *ctx, size_t bytes)
{
    storage *st = calloc(1, sizeof *st);
    if (st) {
        st->refcount = 1;
        st->ctx = ctx;
        st->bytes = bytes;
    }
    return st;
}

/* Host memory freed or reused only once no upload or kernel reads it. */
static void host_free(storage *st)
{
    if (st->host_in_dev) {
        /* the wrapping buffer frees it when its last reader is done */
        rt_buf_release(st->dev);
        st->dev = NULL;
        st->host_in_dev = 0;
        st->dev_valid = 0;
    } else if (st->upload) {
        rt_defer_free(&st->ctx->rt, st->host, st->upload);
    } else {
        free(st->host);
    }
    st->upload = NULL;
    st->host = NULL;
    st->host_cap = 0;
}

void storage_release(storage *st)
{
    if (!st || --st->refcount > 0)
        return;
    host_free(st);
    rt_buf_release(st->dev);
    free(st);
}

void storage_resize(storage *st, size_t bytes)
{
    st->bytes = bytes;
    st->host_valid = st->dev_valid = 0;
}

static int fill_shape(damo_array *a, damo_dtype dtype, int ndim, const int64_t *shape,
                      damo_err *e, int64_t *n)
{
    if (!dtype_valid(dtype))
        return err_set(e, DAMO_ERR_TYPE, "array: invalid dtype %d", dtype), 0;
    if (ndim < 0 || ndim > DAMO_MAX_DIMS || (ndim && !shape))
        return err_set(e, DAMO_ERR_SHAPE, "array: ndim %d is outside 0..%d or shape is NULL",
                       ndim, DAMO_MAX_DIMS), 0;
    int64_t bytes;
    for (int d = 0; d < ndim; d++)
        if (shape[d] < 0)
            return err_set(e, DAMO_ERR_SHAPE, "array: dimension %d has negative size %lld", d,
                           (long long)shape[d]), 0;
    if (!ckd_prod64(shape, ndim, n) || !ckd_mul64(*n, (int64_t)damo_dtype_size(dtype), &bytes) ||
        (uint64_t)bytes > SIZE_MAX / 2)
        return err_set(e, DAMO_ERR_SHAPE, "array: %d dimensions of these sizes overflow", ndim), 0;
    a->refcount = 1;
    a->dtype = dtype;
    a->ndim = ndim;
    int64_t s = 1;
    for (int d = ndim - 1; d >= 0; d--) {
        a->shape[d] = shape[d];
        a->strides[d] = s;
        s *= shape[d];
    }
    return 1;
}

damo_array *array_on_storage(storage *st, damo_dtype dtype, int ndim, const int64_t *shape,
                             damo_err *e)
{
    damo_array *a = calloc(1, sizeof *a);
    int64_t n;
    if (!a) {
        err_set(e, DAMO_ERR_NOMEM, "out of memory creating an array");
        return NULL;
    }
    if (!fill_shape(a, dtype, ndim, shape, e, &n)) {
        free(a);
        return NULL;
    }
    a->ctx = st->ctx;
    a->st = st;
    st->refcount++;
    return a;
}

damo_array *array_new(damo_ctx *ctx, damo_dtype dtype, int ndim, const int64_t *shape,
                      damo_err *e)
{
    damo_array tmp;
    int64_t n;
    if (!fill_shape(&tmp, dtype, ndim, shape, e, &n))
        return NULL;
    storage *st = storage_new(ctx, (size_t)n * damo_dtype_size(dtype));
    damo_array *a = st ? array_on_storage(st, dtype, ndim, shape, e) : NULL;
    if (!st)
        err_set(e, DAMO_ERR_NOMEM, "out of memory creating an array");
    storage_release(st);
    return a;
}

int64_t array_size(const damo_array *a)
{
    int64_t n = 1;
    for (int d = 0; d < a->ndim; d++)
        n *= a->shape[d];
    return n;
}

int array_is_contiguous(const damo_array *a)
{
    int64_t s = 1;
    for (int d = a->ndim - 1; d >= 0; d--) {
        if (a->shape[d] != 1 && a->strides[d] != s)
            return 0;
        s *= a->shape[d];
    }
    return 1;
}

/* Host memory of at least st->bytes, allocated or grown (its contents kept
 * only when it is not grown), aligned for the device to wrap it. */
static void *host_mem(storage *st, damo_err *e)
{
    size_t need = st->bytes ? st->bytes : 1;
    if (st->host && st->host_cap >= need)
        return st->host;
    host_free(st);
    size_t align = st->ctx->rt.dev.mem_align;
    if (posix_memalign(&st->host, align, need) != 0) {
        st->host = NULL;
        err_set(e, DAMO_ERR_NOMEM, "out of memory for %zu bytes of array data", st->bytes);
        return NULL;
    }
    memset(st->host, 0, need);
    st->host_cap = need;
    return st->host;
}

void *array_host_read(damo_array *a, damo_err *e)
{
    storage *st = a->st;
    if (st->host_valid)
        return st->host;
    if (!host_mem(st, e))
        return NULL;
    if (st->dev_valid) {
        if (rt_buf_read(&a->ctx->rt, st->dev, 0, st->bytes, st->host, e) != DAMO_OK)
            return NULL;
        st->host_valid = 1;
    }
    return st->host;
}

void *array_host_write(damo_array *a, damo_err *e)
{
    storage *st = a->st;
    if (st->host_in_dev)
        host_free(st); /* kernels may still read it: write elsewhere */
    if (st->upload) {
        cl_event ev = st->upload;
        st->upload = NULL;
        if (rt_event_wait(&a->ctx->rt, ev, e) != DAMO_OK)
            return NULL;
    }
    if (!host_mem(st, e))
        return NULL;
    st->host_valid = 1;
    st->dev_valid = 0;
    return st->host;
}

/* A device buffer of at least st->bytes (contents kept only when it is
 * not replaced). */
static rt_buf *dev_mem(storage *st, damo_err *e)
{
    if (st->dev && rt_buf_size(st->dev) >= st->bytes && !st->host_in_dev)
        return st->dev;
    if (st->host_in_dev)
        host_free(st);
    rt_buf_release(st->dev);
    st->dev = rt_buf_alloc(&st->ctx->rt, st->bytes, e);
    return st->dev;
}

/* Host copies this large are wrapped rather than uploaded, on a device
 * that shares the host's memory: smaller ones are staged (runtime) at the
 * cost of a memcpy, cheaper than creating a buffer. */
#define WRAP_MIN_BYTES ((size_t)64 << 10)

rt_buf *array_device_read(damo_array *a, damo_err *e)
{
    storage *st = a->st;
    if (st->dev_valid)
        return st->dev;
    rt_ctx *rt = &a->ctx->rt;
    if (st->host_valid && !st->dev && !st->upload && rt->dev.host_unified &&
        st->bytes >= WRAP_MIN_BYTES && (uintptr_t)st->host % rt->dev.mem_align == 0) {
        if (!(st->dev = rt_buf_wrap(rt, st->host, st->host_cap, e)))
            return NULL;
        st->host_in_dev = 1;
        st->dev_valid = 1;
        return st->dev;
    }
    if (!dev_mem(st, e))
        return NULL;
    if (st->host_valid) {
        cl_event pending;
        if (rt_upload(&a->ctx->rt, st->dev, 0, st->bytes, st->host, &pending, e) != DAMO_OK)
            return NULL;
        if (pending) {
            /* host copies are never overwritten while valid, so at most one
             * upload reads this memory at a time */
            if (st->upload)
                clReleaseEvent(st->upload);
            st->upload = pending;
        }
    }
    st->dev_valid = 1;
    return st->dev;
}

rt_buf *array_device_write(damo_array *a, damo_err *e)
{
    storage *st = a->st;
    if (!dev_mem(st, e))
        return NULL;
    st->dev_valid = 1;
    st->host_valid = 0;
    return st->dev;
}

const void *array_direct_read(damo_array *a, damo_err *e)
{
    storage *st = a->st;
    if (a->ctx->rt.host_direct && !st->host_valid && st->dev_valid)
        return rt_buf_host(st->dev);
    return array_host_read(a, e);
}

void *array_direct_write(damo_array *a, damo_err *e)
{
    if (!a->ctx->rt.host_direct)
        return array_host_write(a, e);
    rt_buf *b = array_device_write(a, e);
    return b ? rt_buf_host(b) : NULL;
}

hval array_host_elem(const damo_array *a, const void *base, int64_t i)
{
    int64_t off = a->offset;
    for (int d = a->ndim - 1; d >= 0; d--) {
        off += (i % a->shape[d]) * a->strides[d];
        i /= a->shape[d];
    }
    return hval_load(a->dtype, base, off);
}

damo_status array_read(damo_array *a, void *dst, damo_err *e)
{
    size_t esize = damo_dtype_size(a->dtype), bytes = (size_t)array_size(a) * esize;
    storage *st = a->st;
    /* straight from the device into the caller's memory, one copy */
    if (array_is_contiguous(a) && !st->host_valid && st->dev_valid)
        return rt_buf_read(&a->ctx->rt, st->dev, (size_t)a->offset * esize, bytes, dst, e);
    const void *base = array_host_read(a, e);
    if (!base)
        return e->code;
    if (array_is_contiguous(a)) {
        if (bytes)
            memcpy(dst, (const char *)base + a->offset * (int64_t)esize, bytes);
        return DAMO_OK;
    }
    int64_t n = array_size(a);
    for (int64_t i = 0; i < n; i++)
        hval_store(a->dtype, dst, i, array_host_elem(a, base, i));
    return DAMO_OK;
}

damo_array *array_convert(damo_array *a, damo_dtype to, damo_err *e)
{
    const void *base = array_host_read(a, e);
    damo_array *r = base ? array_new(a->ctx, to, a->ndim, a->shape, e) : NULL;
    void *dst = r ? array_host_write(r, e) : NULL;
    if (r && !dst) {
        damo_array_release(r);
        return NULL;
    }
    int64_t n = r ? array_size(r) : 0;
    for (int64_t i = 0; i < n; i++)
        hval_store(to, dst, i, hval_convert(a->dtype, to, array_host_elem(a, base, i)));
    return r;
}

void shared_retain(shared_store *s) { s->refcount++; }

void shared_release(shared_store *s)
{
    if (s && --s->refcount == 0) {
        damo_array_release(s->value);
        free(s->name);
        free(s);
    }
}

damo_array *damo_array_retain(damo_array *a)
{
    if (a)
        a->refcount++;
    return a;
}

void damo_array_release(damo_array *a)
{
    if (!a || --a->refcount > 0)
        return;
    storage_release(a->st);
    free(a);
}
