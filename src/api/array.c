/* The public array functions: making arrays and views, reading them,
 * printing and files. Residency itself is exec/array.c's. */
#include <stdlib.h>
#include <string.h>

#include "../common/ckd.h"
#include "api.h"
#include "format.h"
#include "npy.h"

damo_array *damo_array_zeros(damo_ctx *ctx, damo_dtype dtype, int ndim, const int64_t *shape)
{
    if (!ctx)
        return err_set(NULL, DAMO_ERR_INVALID, "array_zeros: ctx is NULL"), NULL;
    damo_array *a = array_new(ctx, dtype, ndim, shape, &ctx->err);
    void *host = a ? array_host_write(a, &ctx->err) : NULL;
    if (a && !host) {
        damo_array_release(a);
        return NULL;
    }
    if (a)
        memset(host, 0, a->st->bytes);
    return a;
}

damo_array *damo_array_from_data(damo_ctx *ctx, damo_dtype dtype, int ndim,
                                 const int64_t *shape, const void *data)
{
    damo_array *a = damo_array_zeros(ctx, dtype, ndim, shape);
    if (a && a->st->bytes && !data) {
        damo_array_release(a);
        err_set(&ctx->err, DAMO_ERR_INVALID, "array_from_data: data is NULL");
        return NULL;
    }
    if (a && a->st->bytes) {
        unsigned char *h = a->st->host;
        memcpy(h, data, a->st->bytes);
        if (dtype == DAMO_BOOL)
            for (size_t i = 0; i < a->st->bytes; i++)
                h[i] = h[i] != 0;
    }
    return a;
}

static damo_array *scalar_of(damo_ctx *ctx, damo_dtype dtype, hval v)
{
    damo_array *a = damo_array_zeros(ctx, dtype, 0, NULL);
    if (a)
        hval_store(dtype, a->st->host, 0, v);
    return a;
}

damo_array *damo_array_scalar(damo_ctx *ctx, damo_dtype dtype, double value)
{
    return scalar_of(ctx, dtype, dtype_valid(dtype) ? hval_from_double(dtype, value) : (hval){0});
}

damo_array *damo_array_scalar_int(damo_ctx *ctx, damo_dtype dtype, int64_t value)
{
    return scalar_of(ctx, dtype, dtype_valid(dtype) ? hval_from_int(dtype, value) : (hval){0});
}

damo_array *damo_array_strided_view(damo_array *base, int ndim, const int64_t *shape,
                                    const int64_t *strides, int64_t offset)
{
    if (!base)
        return err_set(NULL, DAMO_ERR_INVALID, "strided_view: base is NULL"), NULL;
    damo_err *e = &base->ctx->err;
    if (ndim < 0 || ndim > DAMO_MAX_DIMS || (ndim && (!shape || !strides))) {
        err_set(e, DAMO_ERR_SHAPE, "strided_view: ndim %d is outside 0..%d or shape/strides is NULL",
                ndim, DAMO_MAX_DIMS);
        return NULL;
    }
    if (!array_is_contiguous(base)) {
        err_set(e, DAMO_ERR_INVALID, "strided_view: the base array must be C-contiguous");
        return NULL;
    }
    /* Every reachable element must lie inside the base's elements; each
     * step of the bound computation is checked, as sizes, strides and the
     * offset come from the caller. */
    int64_t n, lo = offset, hi = offset, limit = array_size(base);
    int ok = ckd_prod64(shape, ndim, &n) && ckd_add64(base->offset, offset, &(int64_t){0});
    for (int d = 0; ok && d < ndim && n; d++) {
        int64_t span;
        ok = ckd_mul64(shape[d] - 1, strides[d], &span) &&
             (span < 0 ? ckd_add64(lo, span, &lo) : ckd_add64(hi, span, &hi));
    }
    if (!ok) {
        err_set(e, DAMO_ERR_SHAPE,
                "strided_view: the shape, strides and offset overflow (or a size is negative)");
        return NULL;
    }
    if (n && (lo < 0 || hi >= limit)) {
        err_set(e, DAMO_ERR_SHAPE,
                "strided_view: elements %lld..%lld fall outside the base's %lld elements",
                (long long)lo, (long long)hi, (long long)limit);
        return NULL;
    }
    damo_array *a = calloc(1, sizeof *a);
    if (!a) {
        err_set(e, DAMO_ERR_NOMEM, "out of memory creating a view");
        return NULL;
    }
    *a = (damo_array){1, base->ctx, base->dtype, ndim, {0}, {0}, base->offset + offset, base->st};
    if (ndim) {
        memcpy(a->shape, shape, (size_t)ndim * sizeof *shape);
        memcpy(a->strides, strides, (size_t)ndim * sizeof *strides);
    }
    base->st->refcount++;
    return a;
}

damo_dtype damo_array_dtype(const damo_array *a) { return a ? a->dtype : DAMO_NUM_DTYPES; }
int damo_array_ndim(const damo_array *a) { return a ? a->ndim : 0; }
const int64_t *damo_array_shape(const damo_array *a) { return a ? a->shape : NULL; }
const int64_t *damo_array_strides(const damo_array *a) { return a ? a->strides : NULL; }
int64_t damo_array_size(const damo_array *a) { return a ? array_size(a) : 0; }
int damo_array_on_host(const damo_array *a) { return a ? a->st->host_valid : 0; }
int damo_array_on_device(const damo_array *a) { return a ? a->st->dev_valid : 0; }

damo_status damo_array_to_device(damo_array *a)
{
    if (!a)
        return err_set(NULL, DAMO_ERR_INVALID, "array_to_device: array is NULL");
    return array_device_read(a, &a->ctx->err) ? DAMO_OK : a->ctx->err.code;
}

damo_status damo_array_read(damo_array *a, void *dst)
{
    if (!a || !dst)
        return err_set(a ? &a->ctx->err : NULL, DAMO_ERR_INVALID, "array_read: %s is NULL",
                       a ? "dst" : "array");
    return array_read(a, dst, &a->ctx->err);
}

static damo_status get_elem(damo_array *a, int64_t index, damo_dtype to, const void *dst,
                            hval *out)
{
    if (!a || !dst)
        return err_set(a ? &a->ctx->err : NULL, DAMO_ERR_INVALID, "array_get: %s is NULL",
                       a ? "out" : "array");
    if (index < 0 || index >= array_size(a))
        return err_set(&a->ctx->err, DAMO_ERR_SHAPE, "array_get: index %lld is outside 0..%lld",
                       (long long)index, (long long)array_size(a) - 1);
    const void *base = array_host_read(a, &a->ctx->err);
    if (!base)
        return a->ctx->err.code;
    *out = hval_convert(a->dtype, to, array_host_elem(a, base, index));
    return DAMO_OK;
}

damo_status damo_array_get_f64(damo_array *a, int64_t index, double *out)
{
    hval v;
    damo_status st = get_elem(a, index, DAMO_FLOAT64, out, &v);
    if (st == DAMO_OK)
        *out = v.f64;
    return st;
}

damo_status damo_array_get_i64(damo_array *a, int64_t index, int64_t *out)
{
    hval v;
    damo_status st = get_elem(a, index, DAMO_INT64, out, &v);
    if (st == DAMO_OK)
        *out = v.i;
    return st;
}

/* The values in C order: the storage itself when contiguous, else a copy
 * the caller frees (*owned set). */
static void *c_order_data(damo_array *a, int *owned)
{
    *owned = 0;
    char *base = array_host_read(a, &a->ctx->err);
    if (!base)
        return NULL;
    if (array_is_contiguous(a))
        return base + a->offset * (int64_t)damo_dtype_size(a->dtype);
    void *buf = malloc((size_t)array_size(a) * damo_dtype_size(a->dtype) + 1);
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
        return err_set(NULL, DAMO_ERR_INVALID, "array_to_string: array is NULL"), NULL;
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
        return err_set(NULL, DAMO_ERR_INVALID, "array_load_npy: ctx is NULL"), NULL;
    if (!path)
        return err_set(&ctx->err, DAMO_ERR_INVALID, "array_load_npy: path is NULL"), NULL;
    damo_dtype dtype;
    int ndim;
    int64_t shape[DAMO_MAX_DIMS];
    void *data = NULL;
    if (npy_load(path, &dtype, &ndim, shape, &data, &ctx->err) != DAMO_OK)
        return NULL;
    damo_array *a = array_new(ctx, dtype, ndim, shape, &ctx->err);
    if (a) {
        a->st->host = data;
        a->st->host_cap = a->st->bytes ? a->st->bytes : 1;
        a->st->host_valid = 1;
    } else {
        free(data);
    }
    return a;
}

damo_status damo_array_save_npy(damo_array *a, const char *path)
{
    if (!a || !path)
        return err_set(a ? &a->ctx->err : NULL, DAMO_ERR_INVALID, "array_save_npy: %s is NULL",
                       a ? "path" : "array");
    int owned;
    void *data = c_order_data(a, &owned);
    if (!data)
        return a->ctx->err.code;
    damo_status st = npy_save(path, a->dtype, a->ndim, a->shape, data, &a->ctx->err);
    if (owned)
        free(data);
    return st;
}
