/* View steps: dimshuffle, basic indexing and alloc give their result as a
 * new layout over the input's memory; reshape does when the input is
 * C-contiguous, and otherwise copies it into the step's own memory once. */
#include <stdio.h>
#include <string.h>

#include "../common/strbuf.h"
#include "plan.h"

static void put_slices(strbuf *b, const op_params *p)
{
    sb_puts(b, "[");
    for (int d = 0; d < p->n_idx; d++) {
        const op_slice *s = &p->idx[d];
        if (d)
            sb_puts(b, ", ");
        if (s->is_index) {
            sb_printf(b, "%lld", (long long)s->start);
            continue;
        }
        if (s->start != DAMO_NONE)
            sb_printf(b, "%lld", (long long)s->start);
        sb_puts(b, ":");
        if (s->stop != DAMO_NONE)
            sb_printf(b, "%lld", (long long)s->stop);
        if (s->step != 1)
            sb_printf(b, ":%lld", (long long)s->step);
    }
    sb_puts(b, "]");
}

static void put_sizes(strbuf *b, const op_params *p, int nd)
{
    sb_puts(b, "(");
    for (int d = 0; d < nd; d++) {
        if (p->shape[d] == SHAPE_FROM_INPUT)
            sb_printf(b, "%s?", d ? ", " : "");
        else if (p->shape[d] == SHAPE_KEEP)
            sb_printf(b, "%sshape[%d]", d ? ", " : "", d);
        else if (p->shape[d] == SHAPE_REST)
            sb_printf(b, "%sprod(shape[%d:])", d ? ", " : "", d);
        else
            sb_printf(b, "%s%lld", d ? ", " : "", (long long)p->shape[d]);
    }
    sb_puts(b, nd == 1 ? ",)" : ")");
}

static damo_status view_build(plan *p, pstep *s, damo_err *e)
{
    const gnode *n = s->node;
    const op_params *pa = &n->params;
    char lab[256];
    value_label(p, s->in[0], lab, sizeof lab);
    strbuf b;
    sb_init(&b);
    switch (n->op) {
    case OP_DIMSHUFFLE:
        sb_printf(&b, "view: dimshuffle %s (", lab);
        for (int d = 0; d < pa->ndim; d++)
            sb_printf(&b, pa->order[d] == DAMO_NEWAXIS ? "%s'x'" : "%s%d", d ? ", " : "", pa->order[d]);
        sb_puts(&b, ")");
        break;
    case OP_SUBTENSOR:
        sb_printf(&b, "view: %s", lab);
        put_slices(&b, pa);
        break;
    case OP_ALLOC:
        sb_printf(&b, "view: %s broadcast to ", lab);
        put_sizes(&b, pa, pa->ndim);
        break;
    case OP_INDEX_GRID:
        sb_puts(&b, "view: index grid of a random draw ");
        put_sizes(&b, pa, pa->ndim);
        break;
    default:
        sb_printf(&b, "view: reshape %s to ", lab);
        put_sizes(&b, pa, pa->ndim);
        sb_puts(&b, " (copied when not C-contiguous)");
        break;
    }
    if (!(s->text = sb_take(&b)))
        return err_set(e, DAMO_ERR_NOMEM, "out of memory planning the function");
    return DAMO_OK;
}

/* The sizes of params.shape with its scalar inputs' values. */
static damo_status sizes_now(plan *p, const pstep *s, int nd, int first, int64_t *out, damo_err *e)
{
    int64_t vals[DAMO_MAX_DIMS];
    for (int k = first; k < s->n_in; k++)
        if (plan_host_int(p->cur[s->in[k]], &vals[k - first], e) != DAMO_OK)
            return e->code;
    node_sizes(s->node, nd, first, vals, out);
    return DAMO_OK;
}

/* x copied in C order into the step's own memory, as a layout l there. */
static storage *copied(plan *p, pstep *s, damo_array *x, const layout *in, damo_err *e)
{
    size_t bytes = (size_t)layout_size(in) * damo_dtype_size(x->dtype);
    storage *st = plan_private(p, s, 0, bytes, e);
    if (!st)
        return NULL;
    damo_array tmp = {1, p->ctx, x->dtype, 0, {0}, {0}, 0, st};
    layout c;
    layout_c(&c, in->ndim, in->shape);
    if (!array_device_write(&tmp, e) || plan_copy(p, s, &tmp, &c, x, in, 0, e) != DAMO_OK)
        return NULL;
    return st;
}

static damo_status view_run(plan *p, pstep *s, damo_err *e)
{
    const gnode *n = s->node;
    damo_array *x = p->cur[s->in[0]];
    layout in, out;
    array_layout(x, &in);
    storage *st = x->st;
    const char *lab = step_in_label(p, s);
    int64_t sizes[DAMO_MAX_DIMS];
    int nd = n->params.ndim;
    switch (n->op) {
    case OP_DIMSHUFFLE:
        layout_dimshuffle(&n->params, &in, &out);
        break;
    case OP_SUBTENSOR:
        if (layout_subtensor(&n->params, &in, &out, lab, e) != DAMO_OK)
            return e->code;
        break;
    case OP_ALLOC:
        if (sizes_now(p, s, nd, 1, sizes, e) != DAMO_OK ||
            layout_alloc(&in, nd, sizes, &out, lab, e) != DAMO_OK)
            return e->code;
        break;
    case OP_INDEX_GRID:
        if (sizes_now(p, s, nd, 1, sizes, e) != DAMO_OK)
            return e->code;
        layout_c(&out, nd, sizes);
        out.offset = in.offset;
        break;
    default: {
        int64_t res[DAMO_MAX_DIMS];
        int unknown = 0;
        if (sizes_now(p, s, nd, 1, sizes, e) != DAMO_OK)
            return e->code;
        reshape_resolve(nd, sizes, in.ndim, in.shape, &unknown);
        if (reshape_sizes(nd, sizes, layout_size(&in), res, lab, e) != DAMO_OK)
            return e->code;
        int64_t offset = in.offset;
        if (!layout_is_c(&in)) {
            if (!(st = copied(p, s, x, &in, e)))
                return e->code;
            offset = 0;
        }
        layout_c(&out, nd, res);
        out.offset = offset;
        break;
    }
    }
    return plan_view(p, s->out[0], st, &out, e) ? DAMO_OK : e->code;
}

const step_class step_view = {STEP_VIEW, view_build, view_run};
