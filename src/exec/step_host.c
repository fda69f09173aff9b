/* Host steps: values computed on the host from shapes and scalars
 * (shape, shape_i, arange, eye, a random permutation), written to host
 * memory; a kernel that reads one uploads it. */
#include <stdio.h>
#include <string.h>

#include "../common/strbuf.h"
#include "plan.h"

static damo_status host_build(plan *p, pstep *s, damo_err *e)
{
    char lab[256];
    const gnode *n = s->node;
    strbuf b;
    sb_init(&b);
    if (n->op == OP_SHAPE)
        sb_printf(&b, "host: shape of %s", value_label(p, s->in[0], lab, sizeof lab));
    else if (n->op == OP_SHAPE_I)
        sb_printf(&b, "host: size %d of %s", n->params.axis, value_label(p, s->in[0], lab, sizeof lab));
    else
        sb_printf(&b, "host: %s", op_info_of(n->op)->name);
    if (!(s->text = sb_take(&b)))
        return err_set(e, DAMO_ERR_NOMEM, "out of memory planning the function");
    return DAMO_OK;
}

/* Host memory of a new output of the given shape. */
static void *output(plan *p, pstep *s, int nd, const int64_t *shape, damo_err *e)
{
    damo_array *a = plan_output(p, s->out[0], nd, shape, e);
    return a ? array_host_write(a, e) : NULL;
}

static damo_status run_arange(plan *p, pstep *s, damo_err *e)
{
    damo_dtype t = s->node->out[0]->type.dtype, from[3];
    hval v[3], a[3];
    for (int i = 0; i < 3; i++) {
        damo_array *x = p->cur[s->in[i]];
        const void *h = array_host_read(x, e);
        if (!h)
            return e->code;
        from[i] = x->dtype;
        v[i] = array_host_elem(x, h, 0);
    }
    arange_args(t, from, v, a);
    if (arange_step_zero(t, a[2]))
        return err_set(e, DAMO_ERR_INVALID, "arange: step is zero");
    int64_t len = arange_length(t, a[0], a[1], a[2]);
    void *dst = output(p, s, 1, &len, e);
    if (!dst)
        return e->code;
    arange_fill(t, a[0], a[2], len, dst);
    return DAMO_OK;
}

static damo_status host_run(plan *p, pstep *s, damo_err *e)
{
    const gnode *n = s->node;
    if (n->op == OP_ARANGE)
        return run_arange(p, s, e);
    if (n->op == OP_EYE) {
        int64_t vals[2], sizes[2];
        for (int k = 0; k < s->n_in; k++)
            if (plan_host_int(p->cur[s->in[k]], &vals[k], e) != DAMO_OK)
                return e->code;
        node_sizes(n, 2, 0, vals, sizes);
        if (sizes[0] < 0 || sizes[1] < 0)
            return err_set(e, DAMO_ERR_SHAPE, "eye: negative dimensions are not allowed (%lld, %lld)",
                           (long long)sizes[0], (long long)sizes[1]);
        void *dst = output(p, s, 2, sizes, e);
        if (!dst)
            return e->code;
        eye_fill(n->out[0]->type.dtype, sizes[0], sizes[1], n->params.k, dst);
        return DAMO_OK;
    }
    if (n->op == OP_PERMUTATION) {
        int64_t v[3];
        for (int k = 0; k < 3; k++)
            if (plan_host_int(p->cur[s->in[k]], &v[k], e) != DAMO_OK)
                return e->code;
        if (v[2] < 0)
            return err_set(e, DAMO_ERR_INVALID, "permutation: n is negative (%lld)", (long long)v[2]);
        int64_t *dst = output(p, s, 1, &v[2], e);
        if (!dst)
            return e->code;
        permutation_fill((uint64_t)v[0], (uint64_t)v[1], v[2], dst);
        return DAMO_OK;
    }
    const damo_array *x = p->cur[s->in[0]];
    int64_t len = x->ndim;
    int64_t *dst = output(p, s, n->op == OP_SHAPE, &len, e);
    if (!dst)
        return e->code;
    if (n->op == OP_SHAPE)
        memcpy(dst, x->shape, (size_t)x->ndim * sizeof *dst);
    else
        *dst = x->shape[n->params.axis];
    return DAMO_OK;
}

const step_class step_host = {STEP_HOST, host_build, host_run};
