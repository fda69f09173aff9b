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

/* cast(x, dtype of x) -> x */
static int rule_cast_same(rw_ctx *c, gnode *n)
{
    return n->in[0]->type.dtype == (damo_dtype)n->params.dtype ? become(c, n, n->in[0]) : 0;
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

/* A term scale * base: mul(s, b) or mul(b, s) with s 0-d, neg(b) (scale
 * -1, *neg set), or the term itself (scale NULL: 1). A scaling node must
 * have the term as its only reader. */
typedef struct scaled {
    damo_var *scale, *base;
    int neg;
} scaled;

static int one_reader(const fgraph *fg, const damo_var *v)
{
    const fg_clients *cl = fg_clients_of(fg, v);
    const gnode *seen = NULL;
    for (size_t j = 0; j < cl->n; j++) {
        if (fg_unused(fg, cl->nodes[j]) || cl->nodes[j] == seen)
            continue;
        if (seen)
            return 0;
        seen = cl->nodes[j];
    }
    return !fg_is_output(fg, v);
}

static scaled scaled_term(const fgraph *fg, damo_var *v)
{
    scaled t = {NULL, v, 0};
    if (v->kind != VAR_APPLY || !one_reader(fg, v))
        return t;
    gnode *n = v->node;
    if (n->op == OP_NEG)
        return (scaled){NULL, n->in[0], 1};
    if (n->op == OP_MUL)
        for (int k = 0; k < 2; k++)
            if (n->in[k]->type.ndim == 0 && n->in[1 - k]->type.ndim > 0)
                return (scaled){n->in[k], n->in[1 - k], 0};
    return t;
}

/* A node op(in...) of the graph, adopted; NULL on error. */
static damo_var *make(rw_ctx *c, op_id op, const op_params *p, damo_var *const *in, int n_in)
{
    gnode *m = graph_apply_node(c->fg->g, op, p, in, n_in);
    if (!m || !fg_adopt(c->fg, m))
        return NULL;
    return m->out[0];
}

/* The coefficient (scale, negated when neg) as a 0-d value of dtype t. */
static damo_var *coefficient(rw_ctx *c, damo_var *scale, int neg, damo_dtype t)
{
    if (!scale) {
        unsigned char one[8];
        hval_store(t, one, 0, hval_from_double(t, neg ? -1 : 1));
        damo_var *k = graph_const(c->fg->g, t, 0, NULL, one, WEAK_NONE);
        return k ? rw_const(c, k) : NULL;
    }
    op_params p = {0};
    p.dtype = t;
    damo_var *v = scale->type.dtype == t ? scale : make(c, OP_CAST, &p, &scale, 1);
    op_params none = {0};
    return v && neg ? make(c, OP_NEG, &none, &v, 1) : v;
}

/* C takes the product's place as Aesara's gemm wants it: of the same rank,
 * never broadcast where the product is not (a bias added to every row
 * stays in the elementwise kernel that reads the product anyway). Sizes
 * that differ only at run time are the gemm step's to broadcast. */
static int c_fits(const gtype *c, const gtype *d)
{
    if (c->ndim != d->ndim)
        return 0;
    for (int i = 0; i < d->ndim; i++)
        if (c->shape[i] == 1 && d->shape[i] != 1)
            return 0;
    return 1;
}

/* alpha * dot(a, b) + beta * c -> gemm(a, b, c, alpha, beta), and the same
 * with subtraction (Aesara's gemm rewrite): one BLAS call. */
static int rule_gemm(rw_ctx *c, gnode *n)
{
    for (int k = 0; k < 2; k++) {
        scaled d = scaled_term(c->fg, n->in[k]), cc = scaled_term(c->fg, n->in[1 - k]);
        damo_var *dot = d.base;
        if (dot->kind != VAR_APPLY || dot->node->op != OP_DOT || dot->type.ndim == 0 ||
            !one_reader(c->fg, dot) || !same_type(dot, n->out[0]) ||
            cc.base->type.dtype != dot->type.dtype || !c_fits(&cc.base->type, &dot->type))
            continue;
        int sub = n->op == OP_SUB;
        damo_dtype t = dot->type.dtype;
        damo_var *in[5] = {dot->node->in[0], dot->node->in[1], cc.base,
                           coefficient(c, d.scale, d.neg ^ (sub && k == 1), t),
                           coefficient(c, cc.scale, cc.neg ^ (sub && k == 0), t)};
        if (!in[3] || !in[4])
            return -1;
        return become_op(c, n, OP_GEMM, in, 5);
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
    {"cast to the same dtype", OP_CAST, rule_cast_same},
    {"1 / (1 + exp(-z))", OP_TRUE_DIV, rule_sigmoid},
    {"alpha * dot(a, b) + beta * c", OP_ADD, rule_gemm},
    {"alpha * dot(a, b) - beta * c", OP_SUB, rule_gemm},
};
const size_t rw_n_rules = sizeof rw_rules / sizeof rw_rules[0];
