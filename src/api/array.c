#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "format.h"
#include "npy.h"

static storage *storage_new(damo_ctx *ctx, size_t bytes)
{
    storage *st = calloc(1, sizeof *st);
    if (st) {
        st->refcount = 1;
        st->ctx = ctx;
        st->bytes = bytes;
    }
    return st;
}

/* Waits until no queued upload still reads the storage's host copy, before
 * that memory is freed or overwritten. */
static damo_status storage_wait_uploads(storage *st)
{
    if (st->host && st->upload_epoch > st->ctx->epoch_done)
        return damo_ctx_finish(st->ctx);
    return DAMO_OK;
}

static void storage_release(storage *st)
{
    if (!st || --st->refcount > 0)
        return;
    storage_wait_uploads(st);
    rt_buf_release(st->dev);
    free(st->host);
    free(st);
}

static int check_shape(damo_ctx *ctx, const char *what, damo_dtype dtype, int ndim,
                       const int64_t *shape, int64_t *size)
{
    if (!dtype_valid(dtype)) {
        err_set(&ctx->err, DAMO_ERR_TYPE, "%s: invalid dtype %d", what, dtype);
        return 0;
    }
    if (ndim < 0 || ndim > DAMO_MAX_DIMS || (ndim && !shape)) {
        err_set(&ctx->err, DAMO_ERR_SHAPE, "%s: ndim %d is outside 0..%d or shape is NULL", what,
                ndim, DAMO_MAX_DIMS);
        return 0;
    }
    int64_t n = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 0 || (shape[d] && n > INT64_MAX / 16 / shape[d])) {
            err_set(&ctx->err, DAMO_ERR_SHAPE, "%s: dimension %d has invalid size %lld", what, d,
                    (long long)shape[d]);
            return 0;
        }
        n *= shape[d];
    }
    *size = n;
    return 1;
}

damo_array *array_alloc(damo_ctx *ctx, damo_dtype dtype, int ndim, const int64_t *shape)
{
    int64_t n;
    if (!ctx || !check_shape(ctx, "array", dtype, ndim, shape, &n))
        return NULL;
    damo_array *a = calloc(1, sizeof *a);
    if (!a || !(a->st = storage_new(ctx, (size_t)n * damo_dtype_size(dtype)))) {
        free(a);
        err_set(&ctx->err, DAMO_ERR_NOMEM, "out of memory creating an array");
        return NULL;
    }
    a->refcount = 1;
    a->ctx = ctx;
    a->dtype = dtype;
    a->ndim = ndim;
    int64_t s = 1;
    for (int d = ndim - 1; d >= 0; d--) {
        a->shape[d] = shape[d];
        a->strides[d] = s;
        s *= shape[d];
    }
    return a;
}

/* Host memory of a storage, allocated on first use. */
static void *storage_host(storage *st)
{
    if (!st->host && !(st->host = calloc(st->bytes ? st->bytes : 1, 1)))
        err_set(&st->ctx->err, DAMO_ERR_NOMEM, "out of memory for %zu bytes of array data",
                st->bytes);
    return st->host;
}

damo_array *damo_array_zeros(damo_ctx *ctx, damo_dtype dtype, int ndim, const int64_t *shape)
{
    damo_array *a = array_alloc(ctx, dtype, ndim, shape);
    if (a && !storage_host(a->st)) {
        damo_array_release(a);
        return NULL;
    }
    if (a)
        a->st->host_valid = 1;
    return a;
}

damo_array *damo_array_from_data(damo_ctx *ctx, damo_dtype dtype, int ndim,
                                 const int64_t *shape, const void *data)
{
    if (ctx && !data) {
        err_set(&ctx->err, DAMO_ERR_INVALID, "array_from_data: data is NULL");
        return NULL;
    }
    damo_array *a = damo_array_zeros(ctx, dtype, ndim, shape);
    if (a) {
        memcpy(a->st->host, data, a->st->bytes);
        if (dtype == DAMO_BOOL)
            for (size_t i = 0; i < a->st->bytes; i++)
                ((unsigned char *)a->st->host)[i] = ((unsigned char *)a->st->host)[i] != 0;
    }
    return a;
}

damo_array *damo_array_scalar(damo_ctx *ctx, damo_dtype dtype, double value)
{
    damo_array *a = damo_array_zeros(ctx, dtype, 0, NULL);
    if (a)
        hval_store(dtype, a->st->host, 0, hval_from_double(dtype, value));
    return a;
}

damo_array *damo_array_strided_view(damo_array *base, int ndim, const int64_t *shape,
                                    const int64_t *strides, int64_t offset)
{
    if (!base)
        return NULL;
    damo_ctx *ctx = base->ctx;
    int64_t n;
    if (!check_shape(ctx, "strided_view", base->dtype, ndim, shape, &n))
        return NULL;
    if (!array_is_contiguous(base)) {
        err_set(&ctx->err, DAMO_ERR_INVALID, "strided_view: the base array must be C-contiguous");
        return NULL;
    }
    /* Every reachable element must lie inside the base's storage. */
    int64_t lo = offset, hi = offset, limit = damo_array_size(base);
    for (int d = 0; d < ndim && n; d++) {
        int64_t span = (shape[d] - 1) * strides[d];
        if (span < 0)
            lo += span;
        else
            hi += span;
    }
    if (n && (lo < 0 || hi >= limit)) {
        err_set(&ctx->err, DAMO_ERR_SHAPE,
                "strided_view: elements %lld..%lld fall outside the base's %lld elements",
                (long long)lo, (long long)hi, (long long)limit);
        return NULL;
    }
    damo_array *a = calloc(1, sizeof *a);
    if (!a) {
        err_set(&ctx->err, DAMO_ERR_NOMEM, "out of memory creating a view");
        return NULL;
    }
    *a = (damo_array){1, ctx, base->dtype, ndim, {0}, {0}, base->offset + offset, base->st};
    memcpy(a->shape, shape, (size_t)ndim * sizeof *shape);
    memcpy(a->strides, strides, (size_t)ndim * sizeof *strides);
    base->st->refcount++;
    return a;
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

damo_dtype damo_array_dtype(const damo_array *a) { return a->dtype; }
int damo_array_ndim(const damo_array *a) { return a->ndim; }
const int64_t *damo_array_shape(const damo_array *a) { return a->shape; }
const int64_t *damo_array_strides(const damo_array *a) { return a->strides; }
int damo_array_on_host(const damo_array *a) { return a->st->host_valid; }
int damo_array_on_device(const damo_array *a) { return a->st->dev_valid; }

int64_t damo_array_size(const damo_array *a)
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

void *array_host_base(damo_array *a)
{
    storage *st = a->st;
    if (!storage_host(st))
        return NULL;
    if (!st->host_valid && st->dev_valid) {
        if (rt_buf_read(&a->ctx->rt, st->dev, 0, st->bytes, st->host, &a->ctx->err) != DAMO_OK)
            return NULL;
        ctx_mark_synced(a->ctx);
        st->host_valid = 1;
    }
    return st->host;
}

void *array_host_for_write(damo_array *a)
{
    storage *st = a->st;
    if (storage_wait_uploads(st) != DAMO_OK || !storage_host(st))
        return NULL;
    st->host_valid = 1;
    st->dev_valid = 0;
    return st->host;
}

rt_buf *array_device_buf(damo_array *a)
{
    storage *st = a->st;
    damo_ctx *ctx = a->ctx;
    if (st->dev_valid)
        return st->dev;
    if (!st->dev && !(st->dev = rt_buf_alloc(&ctx->rt, st->bytes, &ctx->err)))
        return NULL;
    if (st->host_valid && st->bytes) {
        if (rt_buf_write(&ctx->rt, st->dev, 0, st->bytes, st->host, 0, &ctx->err) != DAMO_OK)
            return NULL;
        st->upload_epoch = ++ctx->epoch_queued;
    }
    st->dev_valid = 1;
    return st->dev;
}

void array_set_device(damo_array *a, rt_buf *buf)
{
    storage *st = a->st;
    if (st->dev != buf) {
        rt_buf_retain(buf);
        rt_buf_release(st->dev);
        st->dev = buf;
    }
    st->dev_valid = 1;
    st->host_valid = 0;
}

damo_status damo_array_to_device(damo_array *a)
{
    if (!a)
        return DAMO_ERR_INVALID;
    return array_device_buf(a) ? DAMO_OK : a->ctx->err.code;
}

/* Visits every element in C order: calls fn(i, storage index). */
static void for_each(const damo_array *a, void (*fn)(void *, int64_t, int64_t), void *arg)
{
    int64_t n = damo_array_size(a), idx[DAMO_MAX_DIMS] = {0}, off = a->offset;
    for (int64_t i = 0; i < n; i++) {
        fn(arg, i, off);
        for (int d = a->ndim - 1; d >= 0; d--) {
            off += a->strides[d];
            if (++idx[d] < a->shape[d])
                break;
            off -= a->strides[d] * a->shape[d];
            idx[d] = 0;
        }
    }
}

typedef struct copy_job {
    damo_dtype from, to;
    const void *src;
    void *dst;
} copy_job;

static void copy_one(void *arg, int64_t i, int64_t off)
{
    copy_job *j = arg;
    hval_store(j->to, j->dst, i, hval_convert(j->from, j->to, hval_load(j->from, j->src, off)));
}

damo_status damo_array_read(damo_array *a, void *dst)
{
    if (!a || !dst)
        return a ? err_set(&a->ctx->err, DAMO_ERR_INVALID, "array_read: dst is NULL")
                 : DAMO_ERR_INVALID;
    const void *base = array_host_base(a);
    if (!base)
        return a->ctx->err.code;
    if (array_is_contiguous(a)) {
        memcpy(dst, (const char *)base + a->offset * (int64_t)damo_dtype_size(a->dtype),
               (size_t)damo_array_size(a) * damo_dtype_size(a->dtype));
    } else {
        copy_job j = {a->dtype, a->dtype, base, dst};
        for_each(a, copy_one, &j);
    }
    return DAMO_OK;
}

damo_array *array_convert(damo_array *a, damo_dtype to)
{
    const void *base = array_host_base(a);
    damo_array *r = base ? damo_array_zeros(a->ctx, to, a->ndim, a->shape) : NULL;
    if (r) {
        copy_job j = {a->dtype, to, base, r->st->host};
        for_each(a, copy_one, &j);
    }
    return r;
}

damo_status damo_array_get_f64(damo_array *a, int64_t index, double *out)
{
    if (!a || !out)
        return DAMO_ERR_INVALID;
    if (index < 0 || index >= damo_array_size(a))
        return err_set(&a->ctx->err, DAMO_ERR_SHAPE, "array_get_f64: index %lld is outside 0..%lld",
                       (long long)index, (long long)damo_array_size(a) - 1);
    const void *base = array_host_base(a);
    if (!base)
        return a->ctx->err.code;
    int64_t off = a->offset, rem = index;
    for (int d = a->ndim - 1; d >= 0; d--) {
        off += (rem % a->shape[d]) * a->strides[d];
        rem /= a->shape[d];
    }
    *out = hval_to_double(a->dtype, hval_load(a->dtype, base, off));
    return DAMO_OK;
}

/* The values in C order: the storage itself when contiguous, else a copy
 * the caller frees (*owned set). */
static void *c_order_data(damo_array *a, int *owned)
{
    *owned = 0;
    char *base = array_host_base(a);
    if (!base)
        return NULL;
    if (array_is_contiguous(a))
        return base + a->offset * (int64_t)damo_dtype_size(a->dtype);
    void *buf = malloc((size_t)damo_array_size(a) * damo_dtype_size(a->dtype) + 1);
    if (!buf) {
        err_set(&a->ctx->err, DAMO_ERR_NOMEM, "out of memory copying an array");
        return NULL;
    }
    damo_array_read(a, buf);
    *owned = 1;
    return buf;
}

char *damo_array_to_string(damo_array *a)
{
    if (!a)
        return NULL;
    int owned;
    void *data = c_order_data(a, &owned);
    if (!data)
        return NULL;
    char *s = format_array_repr(a->dtype, a->ndim, a->shape, data);
    if (!s)
        err_set(&a->ctx->err, DAMO_ERR_NOMEM, "out of memory formatting an array");
    if (owned)
        free(data);
    return s;
}

damo_array *damo_array_load_npy(damo_ctx *ctx, const char *path)
{
    if (!ctx)
        return NULL;
    damo_dtype dtype;
    int ndim;
    int64_t shape[DAMO_MAX_DIMS];
    void *data = NULL;
    if (npy_load(path, &dtype, &ndim, shape, &data, &ctx->err) != DAMO_OK)
        return NULL;
    damo_array *a = array_alloc(ctx, dtype, ndim, shape);
    if (a) {
        a->st->host = data;
        a->st->host_valid = 1;
    } else {
        free(data);
    }
    return a;
}

damo_status damo_array_save_npy(damo_array *a, const char *path)
{
    if (!a)
        return DAMO_ERR_INVALID;
    int owned;
    void *data = c_order_data(a, &owned);
    if (!data)
        return a->ctx->err.code;
    damo_status st = npy_save(path, a->dtype, a->ndim, a->shape, data, &a->ctx->err);
    if (owned)
        free(data);
    return st;
}
