/* Matrix products with numpy.dot's semantics for 1-d and 2-d operands.
 * Floats become a dot node (a BLAS step); integers and bools become a
 * reduction of a broadcast product, which fusion turns into one generated
 * kernel. gemm is dot with alpha, beta and C (rewrite/rules.c makes it). */
#include <stdlib.h>

#include "../scalar/reduce.h"
#include "op.h"

/* The contracted size of each operand: a's last axis, b's first. */
static int64_t inner_a(const gtype *a) { return a->shape[a->ndim - 1]; }
static int64_t inner_b(const gtype *b) { return b->shape[0]; }

static void dot_shape(const gtype *a, const gtype *b, gtype *t)
{
    t->ndim = 0;
    if (a->ndim == 2)
        t->shape[t->ndim++] = a->shape[0];
    if (b->ndim == 2)
        t->shape[t->ndim++] = b->shape[1];
}

static damo_status check_dot(const gtype *a, const gtype *b, damo_err *e)
{
    if (a->ndim < 1 || a->ndim > 2 || b->ndim < 1 || b->ndim > 2)
        return err_set(e, DAMO_ERR_UNSUPPORTED,
                       "dot: operands of %d and %d dimensions (1 or 2 are supported)", a->ndim, b->ndim);
    int64_t ka = inner_a(a), kb = inner_b(b);
    if (ka != DAMO_DIM_UNKNOWN && kb != DAMO_DIM_UNKNOWN && ka != kb) {
        char sa[128], sb[128];
        return err_set(e, DAMO_ERR_SHAPE, "dot: shapes %s and %s not aligned: %lld (dim %d) != %lld (dim 0)",
                       gtype_shape_str(a, sa, sizeof sa), gtype_shape_str(b, sb, sizeof sb),
                       (long long)ka, a->ndim - 1, (long long)kb);
    }
    return DAMO_OK;
}

damo_status dot_infer(const gnode *n, gtype *types, weak_kind *weak, damo_err *e)
{
    (void)weak;
    const gtype *a = &n->in[0]->type, *b = &n->in[1]->type;
    if (check_dot(a, b, e) != DAMO_OK)
        return e->code;
    if (a->dtype != b->dtype || dtype_kind_of(a->dtype) != KIND_FLOAT)
        return err_set(e, DAMO_ERR_TYPE, "internal error: a dot node of %s and %s",
                       damo_dtype_name(a->dtype), damo_dtype_name(b->dtype));
    types[0].dtype = a->dtype;
    dot_shape(a, b, &types[0]);
    return DAMO_OK;
}

/* out = alpha * a.b + beta * c (c NULL: beta 0), accumulated in float64. */
static void host_dot(const gtype *a, const gtype *b, const void *pa, const void *pb, double alpha,
                     double beta, const void *pc, void *out, damo_dtype t)
{
    int64_t m = a->ndim == 2 ? a->shape[0] : 1, k = inner_a(a), nn = b->ndim == 2 ? b->shape[1] : 1;
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < nn; j++) {
            double s = 0;
            for (int64_t l = 0; l < k; l++)
                s += hval_to_double(t, hval_load(t, pa, i * k + l)) *
                     hval_to_double(t, hval_load(t, pb, l * nn + j));
            double r = alpha * s + (pc ? beta * hval_to_double(t, hval_load(t, pc, i * nn + j)) : 0);
            hval_store(t, out, i * nn + j, hval_from_double(t, r));
        }
}

damo_status dot_host(const gnode *n, void *const *in, void *const *out, damo_err *e)
{
    (void)e;
    host_dot(&n->in[0]->type, &n->in[1]->type, in[0], in[1], 1, 0, NULL, out[0], n->out[0]->type.dtype);
    return DAMO_OK;
}

damo_status gemm_infer(const gnode *n, gtype *types, weak_kind *weak, damo_err *e)
{
    if (dot_infer(n, types, weak, e) != DAMO_OK)
        return e->code;
    for (int i = 2; i < 5; i++)
        if (n->in[i]->type.dtype != types[0].dtype || (i > 2 && n->in[i]->type.ndim != 0))
            return err_set(e, DAMO_ERR_TYPE, "internal error: a gemm node with a mismatched operand");
    return DAMO_OK;
}

damo_status gemm_host(const gnode *n, void *const *in, void *const *out, damo_err *e)
{
    (void)e;
    damo_dtype t = n->out[0]->type.dtype;
    double alpha = hval_to_double(t, hval_load(t, in[3], 0)), beta = hval_to_double(t, hval_load(t, in[4], 0));
    /* c is broadcast to the product's shape */
    const gtype *ct = &n->in[2]->type, *ot = &n->out[0]->type;
    int64_t size = gtype_static_size(ot);
    void *c = malloc((size_t)(size ? size : 1) * damo_dtype_size(t));
    if (!c)
        return err_set(e, DAMO_ERR_NOMEM, "out of memory folding a gemm");
    for (int64_t i = 0; i < size; i++) {
        int64_t off = 0, r = i, s = 1;
        for (int d = ot->ndim - 1; d >= 0; d--) {
            int k = d - (ot->ndim - ct->ndim);
            int64_t cs = k >= 0 ? ct->shape[k] : 1;
            off += cs == 1 ? 0 : (r % ot->shape[d]) * s;
            r /= ot->shape[d];
            s *= cs;
        }
        hval_store(t, c, i, hval_load(t, in[2], off));
    }
    host_dot(&n->in[0]->type, &n->in[1]->type, in[0], in[1], alpha, beta, c, out[0], t);
    free(c);
    return DAMO_OK;
}

/* sum(a' * b', axis) for integers, a' and b' dimshuffled so that the
 * contracted axes meet; bools give "any of the ands", as NumPy's dot. */
static damo_var *integer_dot(damo_var *a, damo_var *b, damo_dtype t)
{
    int na = a->type.ndim, nb = b->type.ndim;
    damo_var *pa = a, *pb = b;
    int axis = 0;
    if (na == 2 && nb == 2) {
        int oa[3] = {0, 1, DAMO_NEWAXIS}, ob[3] = {DAMO_NEWAXIS, 0, 1};
        pa = damo_dimshuffle(a, 3, oa);
        pb = damo_dimshuffle(b, 3, ob);
        axis = 1;
    } else if (na == 2) {
        axis = 1;
    } else if (nb == 2) {
        int oa[2] = {0, DAMO_NEWAXIS};
        pa = damo_dimshuffle(a, 2, oa);
    }
    damo_var *s = damo_sum(damo_mul(pa, pb), na + nb > 2 ? &axis : NULL, na + nb > 2, 0);
    return damo_cast(s, t);
}

damo_var *damo_dot(damo_var *a, damo_var *b)
{
    damo_var *in[2] = {a, b};
    damo_graph *g = builder_graph("dot", 2, in);
    if (!g)
        return NULL;
    if (a->type.ndim == 0 || b->type.ndim == 0)
        return damo_mul(a, b);
    if (check_dot(&a->type, &b->type, &g->err) != DAMO_OK)
        return NULL;
    op_operand args[2] = {{a->type.dtype, a->weak}, {b->type.dtype, b->weak}};
    op_types ty;
    if (op_infer(SOP_MUL, args, DAMO_INT64, &ty, &g->err) != DAMO_OK)
        return NULL;
    damo_dtype t = ty.out;
    if (dtype_kind_of(t) != KIND_FLOAT)
        return integer_dot(a, b, t);
    for (int i = 0; i < 2; i++)
        if (in[i]->type.dtype != t && !(in[i] = damo_cast(in[i], t)))
            return NULL;
    op_params p = {0};
    damo_var *v = graph_apply(g, OP_DOT, &p, in, 2);
    if (v && in[0]->kind == VAR_CONST && in[1]->kind == VAR_CONST && graph_fold(g, v->node, &v) < 0)
        return NULL;
    return v;
}

damo_var *damo_outer(damo_var *a, damo_var *b)
{
    damo_var *in[2] = {a, b};
    damo_graph *g = builder_graph("outer", 2, in);
    if (!g)
        return NULL;
    damo_var *fa = a->type.ndim == 1 ? a : damo_flatten(a, 1);
    damo_var *fb = b->type.ndim == 1 ? b : damo_flatten(b, 1);
    int oa[2] = {0, DAMO_NEWAXIS}, ob[2] = {DAMO_NEWAXIS, 0};
    return damo_mul(damo_dimshuffle(fa, 2, oa), damo_dimshuffle(fb, 2, ob));
}

/* numpy.dot's gradients for each operand combination: with gz of the
 * product's shape, da = gz . b^T and db = a^T . gz, written for vectors as
 * products with a scalar or outer products. */
damo_status dot_grad(damo_graph *g, const gnode *n, damo_var *const *out_grads, damo_var **in_grads)
{
    damo_var *a = n->in[0], *b = n->in[1], *gz = out_grads[0];
    int na = a->type.ndim, nb = b->type.ndim;
    if (na == 1 && nb == 1) {
        in_grads[0] = damo_mul(gz, b);
        in_grads[1] = damo_mul(gz, a);
    } else if (na == 2 && nb == 1) {
        in_grads[0] = damo_outer(gz, b);
        in_grads[1] = damo_dot(damo_transpose(a), gz);
    } else if (na == 1) {
        in_grads[0] = damo_dot(b, gz);
        in_grads[1] = damo_outer(a, gz);
    } else {
        in_grads[0] = damo_dot(gz, damo_transpose(b));
        in_grads[1] = damo_dot(damo_transpose(a), gz);
    }
    return in_grads[0] && in_grads[1] ? DAMO_OK : g->err.code ? g->err.code : DAMO_ERR_NOMEM;
}
