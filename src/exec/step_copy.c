/* Copy steps: set_subtensor / inc_subtensor (x copied, then the indexed
 * region set from or incremented by y) and concatenate (each input copied
 * into its slice of the result). */
#include <stdio.h>
#include <string.h>

#include "../common/strbuf.h"
#include "plan.h"

static damo_status copy_build(plan *p, pstep *s, damo_err *e)
{
    char a[256], b2[256];
    const gnode *n = s->node;
    strbuf b;
    sb_init(&b);
    if (n->op == OP_CONCAT)
        sb_printf(&b, "copy: concatenate %d arrays along axis %d", n->n_in, n->params.axis);
    else
        sb_printf(&b, "copy: %s %s from %s", n->params.kind ? "inc_subtensor" : "set_subtensor",
                  value_label(p, s->in[0], a, sizeof a), value_label(p, s->in[1], b2, sizeof b2));
    if (!(s->text = sb_take(&b)))
        return err_set(e, DAMO_ERR_NOMEM, "out of memory planning the function");
    return DAMO_OK;
}

/* A new output of the given shape with its device memory ready. */
static damo_array *output(plan *p, pstep *s, int nd, const int64_t *shape, damo_err *e)
{
    damo_array *o = plan_output(p, s->out[0], nd, shape, e);
    return o && array_device_write(o, e) ? o : NULL;
}

static damo_status run_set(plan *p, pstep *s, damo_err *e)
{
    damo_array *x = p->cur[s->in[0]], *y = p->cur[s->in[1]];
    damo_array *o = output(p, s, x->ndim, x->shape, e);
    if (!o)
        return e->code;
    layout xl, ol, region, yl;
    array_layout(x, &xl);
    layout_c(&ol, x->ndim, x->shape);
    const char *lab = step_in_label(p, s);
    if (plan_copy(p, s, o, &ol, x, &xl, 0, e) != DAMO_OK ||
        layout_subtensor(&s->node->params, &ol, &region, lab, e) != DAMO_OK)
        return e->code;
    array_layout(y, &yl);
    if (!layout_broadcast(&yl, region.ndim, region.shape, &yl)) {
        char a[160], b[160];
        gtype ty = {y->dtype, y->ndim, {0}}, tr = {y->dtype, region.ndim, {0}};
        memcpy(ty.shape, y->shape, (size_t)y->ndim * sizeof ty.shape[0]);
        memcpy(tr.shape, region.shape, (size_t)region.ndim * sizeof tr.shape[0]);
        return err_set(e, DAMO_ERR_SHAPE, "%s of %s: shape mismatch: a value of shape %s could not "
                       "be broadcast to the indexed region of shape %s",
                       s->node->params.kind ? "inc_subtensor" : "set_subtensor", lab,
                       gtype_shape_str(&ty, a, sizeof a), gtype_shape_str(&tr, b, sizeof b));
    }
    return plan_copy(p, s, o, &region, y, &yl, s->node->params.kind, e);
}

static damo_status run_concat(plan *p, pstep *s, damo_err *e)
{
    int axis = s->node->params.axis;
    const damo_array *x0 = p->cur[s->in[0]];
    int64_t shape[DAMO_MAX_DIMS];
    memcpy(shape, x0->shape, (size_t)x0->ndim * sizeof *shape);
    shape[axis] = 0;
    for (int j = 0; j < s->n_in; j++) {
        const damo_array *x = p->cur[s->in[j]];
        for (int d = 0; d < x->ndim; d++)
            if (d != axis && x->shape[d] != shape[d]) {
                char lab[256];
                return err_set(e, DAMO_ERR_SHAPE,
                               "concatenate: all the input array dimensions except for the "
                               "concatenation axis must match exactly, but along dimension %d, "
                               "the first array has size %lld and %s (index %d) has size %lld", d,
                               (long long)shape[d], value_label(p, s->in[j], lab, sizeof lab), j,
                               (long long)x->shape[d]);
            }
        shape[axis] += x->shape[axis];
    }
    damo_array *o = output(p, s, x0->ndim, shape, e);
    if (!o)
        return e->code;
    layout ol;
    layout_c(&ol, x0->ndim, shape);
    for (int j = 0; j < s->n_in; j++) {
        damo_array *x = p->cur[s->in[j]];
        layout xl;
        array_layout(x, &xl);
        layout region = ol;
        region.shape[axis] = x->shape[axis];
        if (plan_copy(p, s, o, &region, x, &xl, 0, e) != DAMO_OK)
            return e->code;
        ol.offset += x->shape[axis] * ol.strides[axis];
    }
    return DAMO_OK;
}

static damo_status copy_run(plan *p, pstep *s, damo_err *e)
{
    return s->node->op == OP_CONCAT ? run_concat(p, s, e) : run_set(p, s, e);
}

const step_class step_copy = {STEP_COPY, copy_build, copy_run};
