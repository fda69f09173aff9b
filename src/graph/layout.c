/* View layouts: the rules of dimshuffle, basic indexing, alloc and
 * reshape over shapes, strides and offsets. */
#include "layout.h"

#include <stdio.h>
#include <string.h>

#include "../common/ckd.h"

void layout_c(layout *l, int ndim, const int64_t *shape)
{
    l->ndim = ndim;
    l->offset = 0;
    int64_t s = 1;
    for (int d = ndim - 1; d >= 0; d--) {
        l->shape[d] = shape[d];
        l->strides[d] = s;
        s *= shape[d];
    }
}

int layout_is_c(const layout *l)
{
    int64_t s = 1;
    for (int d = l->ndim - 1; d >= 0; d--) {
        if (l->shape[d] != 1 && l->strides[d] != s)
            return 0;
        s *= l->shape[d];
    }
    return 1;
}

int64_t layout_size(const layout *l)
{
    int64_t n = 1;
    for (int d = 0; d < l->ndim; d++)
        n *= l->shape[d];
    return n;
}

/* A bound of a slice clamped as Python does: negative counts from the end,
 * then into [lo, hi]. */
static int64_t clamp_bound(int64_t v, int64_t size, int64_t lo, int64_t hi)
{
    if (v < 0)
        v = v < -size ? lo : v + size;
    return v < lo ? lo : v > hi ? hi : v;
}

void slice_bounds(const op_slice *s, int64_t size, int64_t *start, int64_t *len)
{
    int64_t step = s->step, lo = step > 0 ? 0 : -1, hi = step > 0 ? size : size - 1;
    int64_t a = s->start == DAMO_NONE ? (step > 0 ? lo : hi) : clamp_bound(s->start, size, lo, hi);
    int64_t b = s->stop == DAMO_NONE ? (step > 0 ? hi : lo) : clamp_bound(s->stop, size, lo, hi);
    *start = a;
    if (step > 0)
        *len = b > a ? (b - a - 1) / step + 1 : 0;
    else
        *len = a > b ? (a - b - 1) / (-(step + 1) + 1) + 1 : 0;
}

void layout_dimshuffle(const op_params *p, const layout *in, layout *out)
{
    out->ndim = p->ndim;
    out->offset = in->offset;
    for (int d = 0; d < p->ndim; d++) {
        int a = p->order[d];
        out->shape[d] = a == DAMO_NEWAXIS ? 1 : in->shape[a];
        out->strides[d] = a == DAMO_NEWAXIS ? 0 : in->strides[a];
    }
}

damo_status layout_subtensor(const op_params *p, const layout *in, layout *out, const char *label,
                             damo_err *e)
{
    int nd = 0;
    out->offset = in->offset;
    for (int d = 0; d < in->ndim; d++) {
        int64_t size = in->shape[d], stride = in->strides[d];
        if (d >= p->n_idx) {
            out->shape[nd] = size;
            out->strides[nd++] = stride;
            continue;
        }
        const op_slice *s = &p->idx[d];
        if (s->is_index) {
            int64_t i = s->start < 0 ? s->start + size : s->start;
            if (s->start < -size || i >= size)
                return err_set(e, DAMO_ERR_INDEX,
                               "index %lld is out of bounds for axis %d of %s with size %lld",
                               (long long)s->start, d, label, (long long)size);
            out->offset += i * stride;
            continue;
        }
        int64_t start, len;
        slice_bounds(s, size, &start, &len);
        if (len > 0)
            out->offset += start * stride;
        out->shape[nd] = len;
        out->strides[nd++] = stride * s->step;
    }
    out->ndim = nd;
    return DAMO_OK;
}

static const char *sizes_text(const int64_t *s, int nd, char *buf, size_t size)
{
    size_t len = (size_t)snprintf(buf, size, "(");
    for (int d = 0; d < nd && len < size; d++)
        len += (size_t)snprintf(buf + len, size - len, "%s%lld", d ? ", " : "", (long long)s[d]);
    if (len < size)
        snprintf(buf + len, size - len, nd == 1 ? ",)" : ")");
    return buf;
}

damo_status layout_alloc(const layout *value, int ndim, const int64_t *sizes, layout *out,
                         const char *label, damo_err *e)
{
    out->ndim = ndim;
    out->offset = value->offset;
    for (int d = 0; d < ndim; d++) {
        int k = d - (ndim - value->ndim);
        int64_t vs = k >= 0 ? value->shape[k] : 1;
        if (sizes[d] < 0 || (vs != 1 && vs != sizes[d])) {
            char a[160], b[160];
            return err_set(e, DAMO_ERR_SHAPE, "alloc %s: a value of shape %s cannot be broadcast to %s",
                           label, sizes_text(value->shape, value->ndim, a, sizeof a),
                           sizes_text(sizes, ndim, b, sizeof b));
        }
        out->shape[d] = sizes[d];
        out->strides[d] = vs == 1 ? 0 : value->strides[k];
    }
    return DAMO_OK;
}

damo_status reshape_sizes(int ndim, const int64_t *sizes, int64_t count, int64_t *out,
                          const char *label, damo_err *e)
{
    int infer = -1;
    int64_t known = 1;
    for (int d = 0; d < ndim; d++) {
        out[d] = sizes[d];
        if (sizes[d] == -1 && infer < 0) {
            infer = d;
        } else if (sizes[d] < 0) {
            return err_set(e, DAMO_ERR_SHAPE, "reshape %s: %s", label,
                           sizes[d] == -1 ? "can only specify one unknown dimension (-1)"
                                          : "negative dimensions are not allowed");
        } else if (!ckd_mul64(known, sizes[d], &known)) {
            return err_set(e, DAMO_ERR_SHAPE, "reshape %s: the sizes overflow", label);
        }
    }
    if (infer >= 0 && known > 0 && count % known == 0)
        out[infer] = count / known;
    if ((infer >= 0 && (known == 0 || count % known != 0)) || (infer < 0 && known != count)) {
        char a[200];
        return err_set(e, DAMO_ERR_SHAPE, "reshape %s: cannot reshape an array of size %lld into shape %s",
                       label, (long long)count, sizes_text(sizes, ndim, a, sizeof a));
    }
    return DAMO_OK;
}

void reshape_resolve(int ndim, int64_t *sizes, int x_ndim, const int64_t *x_shape, int *unknown)
{
    for (int d = 0; d < ndim; d++) {
        if (sizes[d] != SHAPE_KEEP && sizes[d] != SHAPE_REST)
            continue;
        int64_t v = 1;
        for (int k = d; k < (sizes[d] == SHAPE_KEEP ? d + 1 : x_ndim) && v != DAMO_DIM_UNKNOWN; k++)
            v = k >= x_ndim || x_shape[k] == DAMO_DIM_UNKNOWN ? DAMO_DIM_UNKNOWN : v * x_shape[k];
        if (v == DAMO_DIM_UNKNOWN)
            *unknown = 1;
        sizes[d] = v;
    }
}

void layout_gather(damo_dtype dtype, const layout *l, const void *src, void *dst)
{
    int64_t n = layout_size(l);
    for (int64_t i = 0; i < n; i++) {
        int64_t off = l->offset, r = i;
        for (int d = l->ndim - 1; d >= 0; d--) {
            off += (r % l->shape[d]) * l->strides[d];
            r /= l->shape[d];
        }
        hval_store(dtype, dst, i, hval_load(dtype, src, off));
    }
}
