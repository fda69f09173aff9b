/* The rewrite rules: constant folding and canonicalization. Every
 * canonicalization here is exact (the rewritten graph computes the same
 * bits), so results never depend on whether a rule fired. */
#include "rules.h"

/* Constant folding through the op's host facet (graph_fold). */
static int rule_fold(rw_ctx *c, gnode *n)
{
    damo_var *outs[8];
    if (n->n_out > 8)
        return 0;
    int r = graph_fold(c->fg->g, n, outs);
    if (r <= 0)
        return r;
    for (int o = 0; o < n->n_out; o++) {
        damo_var *k = rw_const(c, outs[o]);
        if (!k)
            return -1;
        fg_replace(c->fg, n->out[o], k);
    }
    return 1;
}

/* 1 when v is a constant whose every element equals `value`. */
static int const_is(const damo_var *v, double value)
{
    if (v->kind != VAR_CONST)
        return 0;
    int64_t size = gtype_static_size(&v->type);
    for (int64_t i = 0; i < size; i++)
        if (hval_to_double(v->type.dtype, hval_load(v->type.dtype, v->data, i)) != value)
            return 0;
    return 1;
}

static int same_type(const damo_var *a, const damo_var *b)
{
    const gtype *s = &a->type, *t = &b->type;
    if (s->dtype != t->dtype || s->ndim != t->ndim)
        return 0;
    for (int d = 0; d < s->ndim; d++)
        if (s->shape[d] != t->shape[d])
            return 0;
    return 1;
}

/* Replaces n's output by x when x has exactly its type. */
static int become(rw_ctx *c, gnode *n, damo_var *x)
{
    if (!same_type(n->out[0], x))
        return 0;
    fg_replace(c->fg, n->out[0], x);
    return 1;
}

/* Replaces n's output by a new node op(in...) when that has its type. */
static int become_op(rw_ctx *c, gnode *n, op_id op, damo_var *const *in, int n_in)
{
    op_params p = {0};
    gnode *m = graph_apply_node(c->fg->g, op, &p, in, n_in);
    if (!m)
        return -1;
    if (!same_type(n->out[0], m->out[0]))
        return 0;
    if (!fg_adopt(c->fg, m))
        return -1;
    fg_replace(c->fg, n->out[0], m->out[0]);
    return 1;
}

static gnode *producer(const damo_var *v, op_id op)
{
    return v->kind == VAR_APPLY && v->node->op == op ? v->node : NULL;
}

/* --x -> x */
static int rule_neg_neg(rw_ctx *c, gnode *n)
{
    gnode *inner = producer(n->in[0], OP_NEG);
    return inner ? become(c, n, inner->in[0]) : 0;
}

/* x * 1 -> x, 1 * x -> x */
static int rule_mul_one(rw_ctx *c, gnode *n)
{
    for (int k = 0; k < 2; k++)
        if (const_is(n->in[k], 1) && become(c, n, n->in[1 - k]))
            return 1;
    return 0;
}

/* x / 1 -> x and x - 0 -> x (exact for every float, -0 and NaN included) */
static int rule_right_identity(rw_ctx *c, gnode *n)
{
    return const_is(n->in[1], n->op == OP_TRUE_DIV ? 1 : 0) ? become(c, n, n->in[0]) : 0;
}

/* x + 0 -> x for integers only: for floats -0 + 0 is +0 */
static int rule_add_zero(rw_ctx *c, gnode *n)
{
    if (dtype_kind_of(n->out[0]->type.dtype) == KIND_FLOAT)
        return 0;
    for (int k = 0; k < 2; k++)
        if (const_is(n->in[k], 0) && become(c, n, n->in[1 - k]))
            return 1;
    return 0;
}

/* x ** 2 -> sqr(x), as NumPy's power does for a scalar exponent of 2 */
static int rule_pow_two(rw_ctx *c, gnode *n)
{
    return const_is(n->in[1], 2) ? become_op(c, n, OP_SQR, n->in, 1) : 0;
}

/* 1 / (1 + exp(-z)) -> sigmoid(z): sigmoid's definition is that very
 * expression, so the values are the same; the graph says what it means. */
static int rule_sigmoid(rw_ctx *c, gnode *n)
{
    gnode *add = producer(n->in[1], OP_ADD);
    if (!const_is(n->in[0], 1) || !add)
        return 0;
    for (int k = 0; k < 2; k++) {
        gnode *ex = producer(add->in[1 - k], OP_EXP);
        gnode *ng = ex ? producer(ex->in[0], OP_NEG) : NULL;
        if (const_is(add->in[k], 1) && ng) {
            int r = become_op(c, n, OP_SIGMOID, ng->in, 1);
            if (r)
                return r;
        }
    }
    return 0;
}

const rw_rule rw_rules[] = {
    {"constant folding", OP_COUNT, rule_fold},
    {"--x", OP_NEG, rule_neg_neg},
    {"x * 1", OP_MUL, rule_mul_one},
    {"x / 1", OP_TRUE_DIV, rule_right_identity},
    {"x - 0", OP_SUB, rule_right_identity},
    {"x + 0 (integers)", OP_ADD, rule_add_zero},
    {"x ** 2", OP_POW, rule_pow_two},
    {"1 / (1 + exp(-z))", OP_TRUE_DIV, rule_sigmoid},
};
const size_t rw_n_rules = sizeof rw_rules / sizeof rw_rules[0];
