/* Indexing: basic subtensor (a view), set / inc_subtensor, and integer
 * arrays along the first axis (take, inc_take). Builders, static types and
 * host evaluation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "op.h"

/* The static type of x[p->idx...]: an integer index must lie inside an
 * axis whose size is known. */
static damo_status sub_type(const damo_var *x, const op_params *p, gtype *t, damo_err *e)
{
    const gtype *xt = &x->type;
    char lab[256];
    if (p->n_idx > xt->ndim)
        return err_set(e, DAMO_ERR_INDEX,
                       "too many indices for %s: it is %d-dimensional, but %d were indexed",
                       var_label(x, lab, sizeof lab), xt->ndim, p->n_idx);
    t->dtype = xt->dtype;
    t->ndim = 0;
    for (int d = 0; d < xt->ndim; d++) {
        int64_t size = xt->shape[d];
        if (d >= p->n_idx) {
            t->shape[t->ndim++] = size;
            continue;
        }
        const op_slice *s = &p->idx[d];
        if (s->is_index) {
            if (size != DAMO_DIM_UNKNOWN && (s->start < -size || s->start >= size))
                return err_set(e, DAMO_ERR_INDEX,
                               "index %lld is out of bounds for axis %d of %s with size %lld",
                               (long long)s->start, d, var_label(x, lab, sizeof lab), (long long)size);
            continue;
        }
        if (s->step == 0)
            return err_set(e, DAMO_ERR_INVALID, "indexing %s: slice step cannot be zero",
                           var_label(x, lab, sizeof lab));
        int64_t start, len = DAMO_DIM_UNKNOWN;
        if (size != DAMO_DIM_UNKNOWN)
            slice_bounds(s, size, &start, &len);
        t->shape[t->ndim++] = len;
    }
    return DAMO_OK;
}

damo_status subtensor_infer(const gnode *n, gtype *types, weak_kind *weak, damo_err *e)
{
    (void)weak;
    return sub_type(n->in[0], &n->params, types, e);
}

static damo_status map_subtensor(const gnode *n, const layout *in, layout *out, damo_err *e)
{
    return layout_subtensor(&n->params, in, out, "", e);
}

damo_status subtensor_host(const gnode *n, void *const *in, void *const *out, damo_err *e)
{
    layout l, v;
    layout_c(&l, n->in[0]->type.ndim, n->in[0]->type.shape);
    damo_status st = map_subtensor(n, &l, &v, e);
    if (st == DAMO_OK)
        layout_gather(n->in[0]->type.dtype, &v, in[0], out[0]);
    return st;
}

static damo_status index_params(damo_var *x, int n, const damo_slice *idx, op_params *p)
{
    if (n < 0 || n > DAMO_MAX_DIMS || (n && !idx))
        return err_set(&x->g->err, DAMO_ERR_INVALID, "indexing: %d indices, or a NULL list", n);
    p->n_idx = n;
    for (int d = 0; d < n; d++)
        p->idx[d] = (op_slice){idx[d].start, idx[d].stop, idx[d].step, idx[d].is_index != 0};
    return DAMO_OK;
}

damo_var *damo_subtensor(damo_var *x, int n, const damo_slice *idx)
{
    if (!x)
        return NULL;
    op_params p = {0};
    if (index_params(x, n, idx, &p) != DAMO_OK)
        return NULL;
    /* shape(y)[i] is shape_i(y, i): a host value, no view of a vector */
    if (x->kind == VAR_APPLY && x->node->op == OP_SHAPE && n == 1 && idx[0].is_index) {
        int nd = x->node->in[0]->type.ndim;
        if (idx[0].start >= -nd && idx[0].start < nd)
            return damo_shape_i(x->node->in[0], (int)idx[0].start);
    }
    damo_var *v = graph_apply(x->g, OP_SUBTENSOR, &p, &x, 1);
    if (v && x->kind == VAR_CONST && graph_fold(x->g, v->node, &v) < 0)
        return NULL;
    return v;
}

/* The static check of y broadcast into a region of type t (NumPy's
 * message). */
static damo_status fits_region(const char *what, const damo_var *y, const gtype *t, damo_err *e)
{
    const gtype *yt = &y->type;
    int ok = yt->ndim <= t->ndim;
    for (int d = 0; ok && d < yt->ndim; d++) {
        int64_t ys = yt->shape[d], ts = t->shape[d + t->ndim - yt->ndim];
        ok = ys == 1 || ys == DAMO_DIM_UNKNOWN || ts == DAMO_DIM_UNKNOWN || ys == ts;
    }
    if (ok)
        return DAMO_OK;
    char a[128], b[128];
    return err_set(e, DAMO_ERR_SHAPE,
                   "%s: shape mismatch: a value of shape %s could not be broadcast to the indexed "
                   "region of shape %s", what, gtype_shape_str(yt, a, sizeof a),
                   gtype_shape_str(t, b, sizeof b));
}

damo_status set_subtensor_infer(const gnode *n, gtype *types, weak_kind *weak, damo_err *e)
{
    (void)weak;
    gtype region;
    if (sub_type(n->in[0], &n->params, &region, e) != DAMO_OK ||
        fits_region(n->params.kind ? "inc_subtensor" : "set_subtensor", n->in[1], &region, e) != DAMO_OK)
        return e->code;
    if (n->in[1]->type.dtype != n->in[0]->type.dtype)
        return err_set(e, DAMO_ERR_TYPE, "set_subtensor: the value must have the dtype of x");
    types[0] = n->in[0]->type;
    return DAMO_OK;
}

/* y's strides (elements, 0 where broadcast) as read over a region of ndim
 * dimensions with the given shape. */
static void broadcast_into(const gtype *y, int ndim, const int64_t *shape, int64_t *strides)
{
    int64_t s = 1;
    for (int d = ndim - 1; d >= 0; d--) {
        int k = d - (ndim - y->ndim);
        int64_t size = k >= 0 ? y->shape[k] : 1;
        strides[d] = size == 1 && shape[d] != 1 ? 0 : k >= 0 ? s : 0;
        s *= size;
    }
}

/* Element i (C order over `shape`) of a view with these strides. */
static int64_t elem_offset(int ndim, const int64_t *shape, const int64_t *strides, int64_t off,
                           int64_t i)
{
    for (int d = ndim - 1; d >= 0; d--) {
        off += (i % shape[d]) * strides[d];
        i /= shape[d];
    }
    return off;
}

/* dst[at] = y[i] or dst[at] += y[i], in x's dtype. */
static void put_elem(damo_dtype t, int inc, void *dst, int64_t at, const void *y, int64_t yi)
{
    hval v = hval_load(t, y, yi);
    if (inc)
        v = hval_wrap(t, op_eval(SOP_ADD, t, hval_load(t, dst, at), v, v));
    hval_store(t, dst, at, v);
}

damo_status set_subtensor_host(const gnode *n, void *const *in, void *const *out, damo_err *e)
{
    const gtype *x = &n->in[0]->type;
    damo_dtype t = x->dtype;
    layout l, r;
    layout_c(&l, x->ndim, x->shape);
    if (layout_subtensor(&n->params, &l, &r, "", e) != DAMO_OK)
        return e->code;
    memcpy(out[0], in[0], (size_t)gtype_static_size(x) * damo_dtype_size(t));
    int64_t ys[DAMO_MAX_DIMS], size = layout_size(&r);
    broadcast_into(&n->in[1]->type, r.ndim, r.shape, ys);
    for (int64_t i = 0; i < size; i++)
        put_elem(t, n->params.kind, out[0], elem_offset(r.ndim, r.shape, r.strides, r.offset, i), in[1],
                 elem_offset(r.ndim, r.shape, ys, 0, i));
    return DAMO_OK;
}

static damo_var *set_or_inc(damo_var *x, int n, const damo_slice *idx, damo_var *y, int inc)
{
    damo_var *in[2] = {x, y};
    damo_graph *g = builder_graph(inc ? "inc_subtensor" : "set_subtensor", 2, in);
    if (!g)
        return NULL;
    op_params p = {0};
    if (index_params(x, n, idx, &p) != DAMO_OK)
        return NULL;
    p.kind = inc;
    if (y->type.dtype != x->type.dtype && !(in[1] = damo_cast(y, x->type.dtype)))
        return NULL;
    return graph_apply(g, OP_SET_SUBTENSOR, &p, in, 2);
}

damo_var *damo_set_subtensor(damo_var *x, int n, const damo_slice *idx, damo_var *y)
{
    return set_or_inc(x, n, idx, y, 0);
}

damo_var *damo_inc_subtensor(damo_var *x, int n, const damo_slice *idx, damo_var *y)
{
    return set_or_inc(x, n, idx, y, 1);
}

/* ---- take and inc_take ------------------------------------------------------ */

static damo_status check_take(const char *what, const damo_var *x, const damo_var *idx, damo_err *e)
{
    char lab[256];
    dtype_kind k = dtype_kind_of(idx->type.dtype);
    if (k != KIND_INT && k != KIND_UINT)
        return err_set(e, DAMO_ERR_TYPE, "%s: indices must be integers, got %s", what,
                       damo_dtype_name(idx->type.dtype));
    if (x->type.ndim < 1)
        return err_set(e, DAMO_ERR_INDEX, "%s: %s is 0-dimensional and cannot be indexed", what,
                       var_label(x, lab, sizeof lab));
    if (idx->type.ndim + x->type.ndim - 1 > DAMO_MAX_DIMS)
        return err_set(e, DAMO_ERR_SHAPE, "%s: the result would have more than %d dimensions", what,
                       DAMO_MAX_DIMS);
    return DAMO_OK;
}

/* The type of x[idx]: idx's shape, then x's without its first axis. */
static void take_type(const damo_var *x, const damo_var *idx, gtype *t)
{
    t->dtype = x->type.dtype;
    t->ndim = idx->type.ndim + x->type.ndim - 1;
    memcpy(t->shape, idx->type.shape, (size_t)idx->type.ndim * sizeof t->shape[0]);
    memcpy(t->shape + idx->type.ndim, x->type.shape + 1,
           (size_t)(x->type.ndim - 1) * sizeof t->shape[0]);
}

damo_status take_infer(const gnode *n, gtype *types, weak_kind *weak, damo_err *e)
{
    (void)weak;
    if (check_take("take", n->in[0], n->in[1], e) != DAMO_OK)
        return e->code;
    take_type(n->in[0], n->in[1], types);
    return DAMO_OK;
}

int64_t take_row(damo_dtype idx_dtype, hval v, int64_t rows)
{
    if (dtype_kind_of(idx_dtype) == KIND_UINT)
        return v.u < (uint64_t)rows ? (int64_t)v.u : -1;
    int64_t r = v.i < 0 ? v.i + rows : v.i;
    return v.i >= -rows && r < rows ? r : -1;
}

damo_status take_index_error(const char *what, const damo_var *x, damo_dtype idx_dtype, hval v,
                             int64_t entry, int64_t rows, damo_err *e)
{
    char lab[256], num[32];
    if (dtype_kind_of(idx_dtype) == KIND_UINT)
        snprintf(num, sizeof num, "%llu", (unsigned long long)v.u);
    else
        snprintf(num, sizeof num, "%lld", (long long)v.i);
    return err_set(e, DAMO_ERR_INDEX, "%s: index %s (entry %lld of the indices) is out of bounds for "
                   "axis 0 of %s with size %lld", what, num, (long long)entry,
                   var_label(x, lab, sizeof lab), (long long)rows);
}

/* Every entry of a C-order index array inside `rows`, or the error. */
static damo_status check_indices(const char *what, const damo_var *x, damo_dtype t, const void *idx,
                                 int64_t n, int64_t rows, damo_err *e)
{
    for (int64_t i = 0; i < n; i++)
        if (take_row(t, hval_load(t, idx, i), rows) < 0)
            return take_index_error(what, x, t, hval_load(t, idx, i), i, rows, e);
    return DAMO_OK;
}

damo_status take_host(const gnode *n, void *const *in, void *const *out, damo_err *e)
{
    const gtype *x = &n->in[0]->type, *it = &n->in[1]->type;
    int64_t count = gtype_static_size(it), rows = x->shape[0], row = 1;
    for (int d = 1; d < x->ndim; d++)
        row *= x->shape[d];
    if (check_indices("take", n->in[0], it->dtype, in[1], count, rows, e) != DAMO_OK)
        return e->code;
    size_t bytes = (size_t)row * damo_dtype_size(x->dtype);
    for (int64_t i = 0; i < count; i++)
        memcpy((char *)out[0] + (size_t)i * bytes,
               (const char *)in[0] + (size_t)take_row(it->dtype, hval_load(it->dtype, in[1], i), rows) * bytes,
               bytes);
    return DAMO_OK;
}

damo_var *damo_take(damo_var *x, damo_var *idx)
{
    damo_var *in[2] = {x, idx};
    damo_graph *g = builder_graph("take", 2, in);
    if (!g)
        return NULL;
    op_params p = {0};
    damo_var *v = graph_apply(g, OP_TAKE, &p, in, 2);
    if (v && x->kind == VAR_CONST && idx->kind == VAR_CONST && graph_fold(g, v->node, &v) < 0)
        return NULL;
    return v;
}

damo_status inc_take_infer(const gnode *n, gtype *types, weak_kind *weak, damo_err *e)
{
    (void)weak;
    gtype region;
    if (check_take("inc_take", n->in[0], n->in[1], e) != DAMO_OK)
        return e->code;
    take_type(n->in[0], n->in[1], &region);
    if (fits_region("inc_take", n->in[2], &region, e) != DAMO_OK)
        return e->code;
    if (n->in[2]->type.dtype != n->in[0]->type.dtype)
        return err_set(e, DAMO_ERR_TYPE, "inc_take: the value must have the dtype of x");
    types[0] = n->in[0]->type;
    return DAMO_OK;
}

damo_status inc_take_host(const gnode *n, void *const *in, void *const *out, damo_err *e)
{
    const gtype *x = &n->in[0]->type, *it = &n->in[1]->type;
    int64_t count = gtype_static_size(it), rows = x->shape[0], row = 1;
    for (int d = 1; d < x->ndim; d++)
        row *= x->shape[d];
    if (check_indices("inc_take", n->in[0], it->dtype, in[1], count, rows, e) != DAMO_OK)
        return e->code;
    memcpy(out[0], in[0], (size_t)gtype_static_size(x) * damo_dtype_size(x->dtype));
    gtype region;
    take_type(n->in[0], n->in[1], &region);
    int64_t ys[DAMO_MAX_DIMS];
    broadcast_into(&n->in[2]->type, region.ndim, region.shape, ys);
    for (int64_t i = 0; i < count * row; i++)
        put_elem(x->dtype, 1, out[0], take_row(it->dtype, hval_load(it->dtype, in[1], i / row), rows) * row + i % row,
                 in[2], elem_offset(region.ndim, region.shape, ys, 0, i));
    return DAMO_OK;
}

damo_var *damo_inc_take(damo_var *x, damo_var *idx, damo_var *y)
{
    damo_var *in[3] = {x, idx, y};
    damo_graph *g = builder_graph("inc_take", 3, in);
    if (!g)
        return NULL;
    if (y->type.dtype != x->type.dtype && !(in[2] = damo_cast(y, x->type.dtype)))
        return NULL;
    op_params p = {0};
    return graph_apply(g, OP_INC_TAKE, &p, in, 3);
}

/* The node's basic index as the public form. */
static int node_index(const gnode *n, damo_slice *idx)
{
    for (int d = 0; d < n->params.n_idx; d++) {
        const op_slice *s = &n->params.idx[d];
        idx[d] = (damo_slice){(int)s->is_index, s->start, s->stop, s->step};
    }
    return n->params.n_idx;
}

/* DAMO_OK when the inputs with bit k of `want` set got a gradient. */
static damo_status grad_done(damo_graph *g, damo_var **in_grads, unsigned want)
{
    for (int k = 0; want >> k; k++)
        if (((want >> k) & 1) && !in_grads[k])
            return g->err.code ? g->err.code : DAMO_ERR_NOMEM;
    return DAMO_OK;
}

damo_status subtensor_grad(damo_graph *g, const gnode *n, damo_var *const *out_grads, damo_var **in_grads)
{
    damo_slice idx[DAMO_MAX_DIMS];
    int k = node_index(n, idx);
    damo_var *x = n->in[0];
    in_grads[0] = damo_inc_subtensor(damo_zeros_like(x), k, idx, damo_cast(out_grads[0], x->type.dtype));
    return grad_done(g, in_grads, 1u);
}

damo_status set_subtensor_grad(damo_graph *g, const gnode *n, damo_var *const *out_grads, damo_var **in_grads)
{
    damo_slice idx[DAMO_MAX_DIMS];
    int k = node_index(n, idx);
    damo_var *gz = out_grads[0], *y = n->in[1];
    in_grads[0] = n->params.kind ? gz : damo_set_subtensor(gz, k, idx, damo_const_scalar(g, gz->type.dtype, 0));
    in_grads[1] = grad_sum_to(damo_subtensor(gz, k, idx), y, NULL, 1);
    return grad_done(g, in_grads, 3u);
}

damo_status take_grad(damo_graph *g, const gnode *n, damo_var *const *out_grads, damo_var **in_grads)
{
    damo_var *x = n->in[0];
    in_grads[0] = damo_inc_take(damo_zeros_like(x), n->in[1], damo_cast(out_grads[0], x->type.dtype));
    return grad_done(g, in_grads, 1u);
}

damo_status inc_take_grad(damo_graph *g, const gnode *n, damo_var *const *out_grads, damo_var **in_grads)
{
    in_grads[0] = out_grads[0];
    in_grads[2] = grad_sum_to(damo_take(out_grads[0], n->in[1]), n->in[2], NULL, 2);
    return grad_done(g, in_grads, 5u);
}
