/* Reductions: builders (Aesara's names and dtype rules), static types and
 * the host evaluation constant folding uses. */
#include <stdlib.h>

#include "../scalar/reduce.h"
#include "op.h"

/* The axes as a mask of x's dimensions; NULL or none: every axis. */
static damo_status axes_mask(const damo_var *x, const int *axes, int n_axes, const char *what,
                             uint32_t *mask)
{
    int nd = x->type.ndim;
    damo_err *e = &x->g->err;
    if (n_axes < 0)
        return err_set(e, DAMO_ERR_INVALID, "%s: n_axes is negative (%d)", what, n_axes);
    if (!axes || n_axes == 0) {
        *mask = nd ? (1u << nd) - 1 : 0;
        return DAMO_OK;
    }
    *mask = 0;
    for (int i = 0; i < n_axes; i++) {
        int a = axes[i];
        if (a < -nd || a >= nd)
            return err_set(e, DAMO_ERR_INVALID,
                           "%s: axis %d is out of bounds for an array of dimension %d", what, a, nd);
        int d = a < 0 ? a + nd : a;
        if (*mask & (1u << d))
            return err_set(e, DAMO_ERR_INVALID, "%s: duplicate value in 'axis' (%d)", what, a);
        *mask |= 1u << d;
    }
    return DAMO_OK;
}

static damo_var *reduce_node(red_kind k, damo_var *x, uint32_t mask, int keepdims)
{
    op_params p = {0};
    p.kind = (int32_t)k;
    p.axes = mask;
    p.keepdims = keepdims != 0;
    p.ndim = x->type.ndim;
    return graph_apply(x->g, OP_REDUCE, &p, &x, 1);
}

static damo_var *reduce(red_kind k, damo_var *x, const int *axes, int n_axes, int keepdims)
{
    uint32_t mask;
    if (!x || axes_mask(x, axes, n_axes, red_name(k), &mask) != DAMO_OK)
        return NULL;
    return reduce_node(k, x, mask, keepdims);
}

#define DEFINE_REDUCE(fn, K)                                                         \
    damo_var *damo_##fn(damo_var *x, const int *axes, int n_axes, int keepdims)      \
    {                                                                                \
        return reduce(K, x, axes, n_axes, keepdims);                                 \
    }
DEFINE_REDUCE(sum, RED_SUM)
DEFINE_REDUCE(prod, RED_PROD)
DEFINE_REDUCE(mean, RED_MEAN)
DEFINE_REDUCE(max, RED_MAX)
DEFINE_REDUCE(min, RED_MIN)
DEFINE_REDUCE(all, RED_ALL)
DEFINE_REDUCE(any, RED_ANY)

/* Aesara's var: mean((x - mean(x, keepdims)) ** 2), ddof 0. */
damo_var *damo_variance(damo_var *x, const int *axes, int n_axes, int keepdims)
{
    uint32_t mask;
    if (!x || axes_mask(x, axes, n_axes, "variance", &mask) != DAMO_OK)
        return NULL;
    damo_var *m = reduce_node(RED_MEAN, x, mask, 1);
    damo_var *d = damo_sqr(damo_sub(x, m));
    return d ? reduce_node(RED_MEAN, d, mask, keepdims) : NULL;
}

damo_var *damo_std(damo_var *x, const int *axes, int n_axes, int keepdims)
{
    return damo_sqrt(damo_variance(x, axes, n_axes, keepdims));
}

static damo_var *arg_reduce(red_kind k, damo_var *x, int axis, int keepdims)
{
    if (!x)
        return NULL;
    if (axis == DAMO_AXIS_NONE)
        return reduce(k, x, NULL, 0, keepdims);
    return reduce(k, x, &axis, 1, keepdims);
}

damo_var *damo_argmax(damo_var *x, int axis, int keepdims) { return arg_reduce(RED_ARGMAX, x, axis, keepdims); }
damo_var *damo_argmin(damo_var *x, int axis, int keepdims) { return arg_reduce(RED_ARGMIN, x, axis, keepdims); }

damo_status reduce_infer(const gnode *n, gtype *types, weak_kind *weak, damo_err *e)
{
    (void)weak;
    if (n->params.fused || n->params.epilogue)
        return err_set(e, DAMO_ERR_INVALID, "internal error: a fused reduction is made with its types");
    const gtype *x = &n->in[0]->type;
    gtype *t = &types[0];
    t->dtype = red_out_dtype((red_kind)n->params.kind, x->dtype);
    t->ndim = 0;
    for (int d = 0; d < x->ndim; d++) {
        if (!(n->params.axes & (1u << d)))
            t->shape[t->ndim++] = x->shape[d];
        else if (n->params.keepdims)
            t->shape[t->ndim++] = 1;
    }
    return DAMO_OK;
}

damo_status reduce_host(const gnode *n, void *const *in, void *const *out, damo_err *e)
{
    const gtype *x = &n->in[0]->type;
    red_kind k = (red_kind)n->params.kind;
    damo_dtype acc = red_acc_dtype(k, x->dtype, 1), to = n->out[0]->type.dtype;
    int64_t kept = 1, reduced = 1;
    for (int d = 0; d < x->ndim; d++) {
        if (n->params.axes & (1u << d))
            reduced *= x->shape[d];
        else
            kept *= x->shape[d];
    }
    if (reduced == 0 && kept > 0 && !red_has_identity(k))
        return err_set(e, DAMO_ERR_SHAPE,
                       "%s: zero-size array to reduction operation %s which has no identity",
                       red_name(k), red_name(k));
    red_acc *accs = malloc((size_t)(kept ? kept : 1) * sizeof *accs);
    if (!accs)
        return err_set(e, DAMO_ERR_NOMEM, "out of memory folding a reduction");
    for (int64_t o = 0; o < kept; o++)
        red_init(k, acc, &accs[o]);
    int64_t size = kept * reduced;
    for (int64_t i = 0; i < size; i++) {
        int64_t rem = i, o = 0, r = 0, ks = 1, rs = 1;
        for (int d = x->ndim - 1; d >= 0; d--) {
            int64_t c = rem % x->shape[d];
            rem /= x->shape[d];
            if (n->params.axes & (1u << d)) {
                r += c * rs;
                rs *= x->shape[d];
            } else {
                o += c * ks;
                ks *= x->shape[d];
            }
        }
        red_step(k, x->dtype, acc, &accs[o], hval_load(x->dtype, in[0], i), r);
    }
    for (int64_t o = 0; o < kept; o++)
        hval_store(to, out[0], o, red_finish(k, x->dtype, acc, &accs[o], reduced));
    free(accs);
    return DAMO_OK;
}

/* gz with the reduced axes back as size-1 axes (x's rank). */
static damo_var *expand(damo_var *gz, const gnode *n)
{
    const op_params *p = &n->params;
    if (p->keepdims)
        return gz;
    int order[DAMO_MAX_DIMS], k = 0;
    for (int d = 0; d < p->ndim; d++)
        order[d] = (p->axes & (1u << d)) ? DAMO_NEWAXIS : k++;
    return damo_dimshuffle(gz, p->ndim, order);
}

/* The number of values each result reduces, as a 0-d value of dtype t. */
static damo_var *reduced_count(damo_var *x, uint32_t axes, damo_dtype t)
{
    damo_var *count = NULL;
    for (int d = 0; d < x->type.ndim; d++)
        if (axes & (1u << d))
            count = count ? damo_mul(count, damo_shape_i(x, d)) : damo_shape_i(x, d);
    return count ? damo_cast(count, t) : damo_const_scalar(x->g, t, 1);
}

damo_status reduce_grad(damo_graph *g, const gnode *n, damo_var *const *out_grads, damo_var **in_grads)
{
    if (n->params.fused || n->params.epilogue)
        return err_set(&g->err, DAMO_ERR_UNSUPPORTED, "gradient: of a fused reduction");
    damo_var *x = n->in[0], *gz = expand(out_grads[0], n), *r = NULL;
    switch ((red_kind)n->params.kind) {
    case RED_SUM:
        r = damo_fill(x, gz);
        break;
    case RED_MEAN:
        r = damo_fill(x, damo_true_div(gz, reduced_count(x, n->params.axes, gz ? gz->type.dtype : DAMO_FLOAT64)));
        break;
    case RED_PROD: /* prod / x: NaN where x is 0 */
        r = damo_true_div(damo_mul(damo_fill(x, gz), expand(n->out[0], n)), x);
        break;
    case RED_MAX:
    case RED_MIN: /* to every element equal to the result, as Aesara */
        r = damo_mul(damo_fill(x, gz), damo_eq(x, expand(n->out[0], n)));
        break;
    default: /* argmax, argmin, all, any: discrete results */
        return DAMO_OK;
    }
    in_grads[0] = r;
    return r ? DAMO_OK : g->err.code ? g->err.code : DAMO_ERR_NOMEM;
}
