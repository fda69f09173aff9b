/* Integer-vector indexing along the first axis: gather (x[idx]) and
 * scatter-add (inc_take). Every index is checked on the host before any
 * kernel reads with it (read back first, a counted wait, when only the
 * device has the indices), so no kernel ever reads or writes outside x. */
#include <stdio.h>
#include <string.h>

#include "../common/strbuf.h"
#include "plan.h"

static damo_status index_build(plan *p, pstep *s, damo_err *e)
{
    char a[256], b2[256], c[256];
    strbuf b;
    sb_init(&b);
    value_label(p, s->in[0], a, sizeof a);
    value_label(p, s->in[1], b2, sizeof b2);
    if (s->kind == STEP_GATHER)
        sb_printf(&b, "gather: rows of %s at %s", a, b2);
    else
        sb_printf(&b, "scatter: %s added to rows of %s at %s",
                  value_label(p, s->in[2], c, sizeof c), a, b2);
    if (!(s->text = sb_take(&b)))
        return err_set(e, DAMO_ERR_NOMEM, "out of memory planning the function");
    return DAMO_OK;
}

/* Checks every index against x's first axis. */
static damo_status check_indices(plan *p, pstep *s, damo_array *ix, const char *what, damo_err *e)
{
    damo_array *x = p->cur[s->in[0]];
    const void *h = array_host_read(ix, e);
    if (!h)
        return e->code;
    int64_t n = array_size(ix), rows = x->shape[0];
    for (int64_t i = 0; i < n; i++) {
        hval v = array_host_elem(ix, h, i);
        if (take_row(ix->dtype, v, rows) < 0)
            return take_index_error(what, p->vals[s->in[0]].var, ix->dtype, v, i, rows, e);
    }
    return DAMO_OK;
}

typedef struct index_layout {
    int64_t rows, row, count;
    int64_t shape[DAMO_MAX_DIMS + 1];   /* by kernel dim 1..ndim */
    int64_t strides[DAMO_MAX_DIMS + 1]; /* of x or y: dim 0 per index, 1.. the row's */
} index_layout;

static int64_t index_num(const void *ctx, const cg_arg *a)
{
    const index_layout *l = ctx;
    switch (a->kind) {
    case CGA_ROWS: return l->rows;
    case CGA_SIZE: return l->row;
    case CGA_COUNT: return l->count;
    case CGA_SHAPE: return l->shape[a->dim];
    default: return l->strides[a->dim];
    }
}

static damo_status gen_gather(const void *key, const pstep *s, const char *name, cg_kernel *out)
{
    (void)s;
    return cg_gather(key, name, out);
}

/* The row's dimensions of a layout (from `first` on) merged into l. */
static int row_dims(const layout *src, int first, index_layout *l)
{
    int64_t shape[DAMO_MAX_DIMS], strides[1][DAMO_MAX_DIMS];
    int nd = src->ndim - first;
    memcpy(shape, src->shape + first, (size_t)nd * sizeof *shape);
    memcpy(strides[0], src->strides + first, (size_t)nd * sizeof *strides[0]);
    nd = merge_dims(nd, shape, 1, strides);
    l->row = 1;
    for (int d = 0; d < nd; d++) {
        l->shape[d + 1] = shape[d];
        l->strides[d + 1] = strides[0][d];
        l->row *= shape[d];
    }
    return nd;
}

/* An array over private memory i holding src in C order. */
static damo_status packed(plan *p, pstep *s, int i, damo_array *src, damo_array *tmp, damo_err *e)
{
    layout sl, c;
    array_layout(src, &sl);
    layout_c(&c, sl.ndim, sl.shape);
    storage *st = plan_private(p, s, i, (size_t)layout_size(&sl) * damo_dtype_size(src->dtype), e);
    if (!st)
        return e->code;
    *tmp = (damo_array){1, p->ctx, src->dtype, sl.ndim, {0}, {0}, 0, st};
    memcpy(tmp->shape, c.shape, (size_t)c.ndim * sizeof c.shape[0]);
    memcpy(tmp->strides, c.strides, (size_t)c.ndim * sizeof c.strides[0]);
    if (!array_device_write(tmp, e))
        return e->code;
    return plan_copy(p, s, tmp, &c, src, &sl, 0, e);
}

/* idx checked, contiguous on the device (packed into *tmp if need be). */
static damo_status indices(plan *p, pstep *s, damo_array **idx, damo_array *tmp, const char *what,
                           damo_err *e)
{
    if (check_indices(p, s, *idx, what, e) != DAMO_OK)
        return e->code;
    if (array_is_contiguous(*idx))
        return array_device_read(*idx, e) ? DAMO_OK : e->code;
    if (packed(p, s, 1, *idx, tmp, e) != DAMO_OK)
        return e->code;
    *idx = tmp;
    return DAMO_OK;
}

static damo_status gather_run(plan *p, pstep *s, damo_err *e)
{
    damo_array *x = p->cur[s->in[0]], *idx = p->cur[s->in[1]], tmp;
    if (indices(p, s, &idx, &tmp, "take", e) != DAMO_OK)
        return e->code;
    int64_t shape[2 * DAMO_MAX_DIMS];
    memcpy(shape, idx->shape, (size_t)idx->ndim * sizeof *shape);
    memcpy(shape + idx->ndim, x->shape + 1, (size_t)(x->ndim - 1) * sizeof *shape);
    damo_array *o = plan_output(p, s->out[0], idx->ndim + x->ndim - 1, shape, e);
    if (!o || !array_device_write(o, e))
        return e->code;
    layout xl;
    array_layout(x, &xl);
    index_layout l = {x->shape[0], 1, array_size(idx), {0}, {0}};
    l.strides[0] = x->strides[0];
    cg_gather_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.t = x->dtype;
    spec.idx = idx->dtype;
    spec.ndim = row_dims(&xl, 1, &l);
    int64_t n = l.count * l.row;
    if (n == 0)
        return DAMO_OK;
    if (!array_device_read(x, e))
        return e->code;
    const gkernel *k;
    damo_array *ops[3] = {o, x, idx};
    karg args = {ops, NULL, NULL, index_num, &l};
    if (plan_gkernel(p, s, &spec, sizeof spec, gen_gather, &k, e) != DAMO_OK ||
        plan_bind(k->kernel, &k->cg, &args, e) != DAMO_OK)
        return e->code;
    return plan_launch(p, k->kernel, (size_t)n, 0, e);
}

static damo_status scatter_run(plan *p, pstep *s, damo_err *e)
{
    damo_array *x = p->cur[s->in[0]], *idx = p->cur[s->in[1]], *y = p->cur[s->in[2]], tmp, ytmp;
    if (indices(p, s, &idx, &tmp, "inc_take", e) != DAMO_OK)
        return e->code;
    damo_array *o = plan_output(p, s->out[0], x->ndim, x->shape, e);
    layout xl, ol, yl;
    array_layout(x, &xl);
    layout_c(&ol, x->ndim, x->shape);
    if (!o || !array_device_write(o, e) || plan_copy(p, s, o, &ol, x, &xl, 0, e) != DAMO_OK)
        return e->code;
    /* y over the region idx.shape + x.shape[1:] */
    int64_t region[2 * DAMO_MAX_DIMS];
    int rn = idx->ndim + x->ndim - 1;
    memcpy(region, idx->shape, (size_t)idx->ndim * sizeof *region);
    memcpy(region + idx->ndim, x->shape + 1, (size_t)(x->ndim - 1) * sizeof *region);
    array_layout(y, &yl);
    if (!layout_broadcast(&yl, rn, region, &yl)) {
        char lab[256];
        return err_set(e, DAMO_ERR_SHAPE, "inc_take of %s: the value cannot be broadcast to the "
                       "indexed rows", value_label(p, s->in[0], lab, sizeof lab));
    }
    index_layout l = {x->shape[0], 1, array_size(idx), {0}, {0}};
    /* the index dimensions of y must step by one stride: pack y otherwise */
    layout il = yl;
    il.ndim = idx->ndim;
    int64_t ishape[DAMO_MAX_DIMS], istr[1][DAMO_MAX_DIMS];
    memcpy(ishape, il.shape, (size_t)il.ndim * sizeof *ishape);
    memcpy(istr[0], il.strides, (size_t)il.ndim * sizeof *istr[0]);
    int ind = merge_dims(il.ndim, ishape, 1, istr);
    if (ind > 1) {
        damo_array yv = *y;
        yv.ndim = yl.ndim;
        memcpy(yv.shape, yl.shape, (size_t)yl.ndim * sizeof yv.shape[0]);
        memcpy(yv.strides, yl.strides, (size_t)yl.ndim * sizeof yv.strides[0]);
        yv.offset = yl.offset;
        if (packed(p, s, 2, &yv, &ytmp, e) != DAMO_OK)
            return e->code;
        y = &ytmp;
        array_layout(y, &yl);
        ind = l.count > 1;
        istr[0][0] = l.count > 1 ? yl.strides[idx->ndim - 1] : 0;
    }
    l.strides[0] = ind ? istr[0][0] : 0;
    cg_gather_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.t = x->dtype;
    spec.idx = idx->dtype;
    spec.scatter = 1;
    spec.ndim = row_dims(&yl, idx->ndim, &l);
    int value = y->st->host_valid && l.strides[0] == 0;
    for (int d = 1; d <= spec.ndim && value; d++)
        value = l.strides[d] == 0;
    spec.y_mode = value ? CG_VALUE : CG_STRIDED;
    if (l.count == 0 || l.row == 0)
        return DAMO_OK;
    if (!value && !array_device_read(y, e))
        return e->code;
    const gkernel *k;
    damo_array *ops[3] = {o, idx, y};
    int64_t offsets[3] = {0, idx->offset, yl.offset};
    karg args = {ops, offsets, NULL, index_num, &l};
    if (plan_gkernel(p, s, &spec, sizeof spec, gen_gather, &k, e) != DAMO_OK ||
        plan_bind(k->kernel, &k->cg, &args, e) != DAMO_OK)
        return e->code;
    return plan_launch(p, k->kernel, (size_t)l.row, 0, e);
}

const step_class step_gather = {STEP_GATHER, index_build, gather_run};
const step_class step_scatter = {STEP_SCATTER, index_build, scatter_run};
