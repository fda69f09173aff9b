/* The rewrite rules: constant folding, canonicalization and
 * stabilization. Every canonicalization here is exact (the rewritten graph
 * computes the same bits), so results never depend on whether one fired;
 * the stabilizations (marked) trade an overflow or a cancellation for a
 * finite, accurate value, as Aesara's stabilize rewrites do. */
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

/* A node op(in...) of the graph, adopted; NULL on error. */
static damo_var *make(rw_ctx *c, op_id op, const op_params *p, damo_var *const *in, int n_in)
{
    gnode *m = graph_apply_node(c->fg->g, op, p, in, n_in);
    if (!m || !fg_adopt(c->fg, m))
        return NULL;
    return m->out[0];
}

/* The 0-d constant value of dtype t. */
static damo_var *scalar_const(rw_ctx *c, damo_dtype t, double value)
{
    unsigned char v[8];
    hval_store(t, v, 0, hval_from_double(t, value));
    damo_var *k = graph_const(c->fg->g, t, 0, NULL, v, WEAK_NONE);
    return k ? rw_const(c, k) : NULL;
}

/* --x -> x */
static int rule_neg_neg(rw_ctx *c, gnode *n)
{
    gnode *inner = var_producer(n->in[0], OP_NEG);
    return inner ? become(c, n, inner->in[0]) : 0;
}

/* x * 1 -> x, 1 * x -> x */
static int rule_mul_one(rw_ctx *c, gnode *n)
{
    for (int k = 0; k < 2; k++)
        if (var_const_is(n->in[k], 1) && become(c, n, n->in[1 - k]))
            return 1;
    return 0;
}

/* x / 1 -> x and x - 0 -> x (exact for every float, -0 and NaN included) */
static int rule_right_identity(rw_ctx *c, gnode *n)
{
    return var_const_is(n->in[1], n->op == OP_TRUE_DIV ? 1 : 0) ? become(c, n, n->in[0]) : 0;
}

/* x + 0 -> x for integers only: for floats -0 + 0 is +0 */
static int rule_add_zero(rw_ctx *c, gnode *n)
{
    if (dtype_kind_of(n->out[0]->type.dtype) == KIND_FLOAT)
        return 0;
    for (int k = 0; k < 2; k++)
        if (var_const_is(n->in[k], 0) && become(c, n, n->in[1 - k]))
            return 1;
    return 0;
}

/* switch(c, x, x) -> x where c cannot broadcast x to a larger shape */
static int rule_switch_same(rw_ctx *c, gnode *n)
{
    return n->in[1] == n->in[2] && gtype_fits_into(&n->in[0]->type, &n->in[1]->type) ? become(c, n, n->in[1]) : 0;
}

/* cast(x, dtype of x) -> x */
static int rule_cast_same(rw_ctx *c, gnode *n)
{
    return n->in[0]->type.dtype == (damo_dtype)n->params.dtype ? become(c, n, n->in[0]) : 0;
}

/* x ** 2 -> sqr(x), as NumPy's power does for a scalar exponent of 2;
 * x ** 1 -> x (pow is exact there; what a gradient of x ** 2 leaves) */
static int rule_pow_small(rw_ctx *c, gnode *n)
{
    if (var_const_is(n->in[1], 2))
        return become_op(c, n, OP_SQR, n->in, 1);
    return var_const_is(n->in[1], 1) ? become(c, n, n->in[0]) : 0;
}

/* z, or a + b (a node of the graph) when b is not NULL; NULL on error. */
static damo_var *pattern_arg(rw_ctx *c, damo_var *a, damo_var *b)
{
    op_params p = {0};
    damo_var *in[2] = {a, b};
    return b ? make(c, OP_ADD, &p, in, 2) : a;
}

/* 1 / (1 + exp(-z)) -> sigmoid(z): sigmoid's definition is that very
 * expression, so the values are the same; the graph says what it means.
 * Also 1 / (1 + exp(-a - b)) -> sigmoid(a + b): -a - b is -(a + b) but for
 * the sign of a zero, which exp does not see. */
static int rule_sigmoid(rw_ctx *c, gnode *n)
{
    damo_var *a, *b;
    /* 1 / (1 + exp(-|u|)) is left as it is: it is rule_logistic_share's
     * form, whose exp other nodes share */
    if (!sigmoid_pattern(n->out[0], &a, &b) || (!b && var_producer(a, OP_ABS)))
        return 0;
    damo_var *z = pattern_arg(c, a, b);
    return z ? become_op(c, n, OP_SIGMOID, &z, 1) : -1;
}

/* Stabilizations, as Aesara's: not exact, but finite where the original
 * overflows or loses every digit, and otherwise within an ulp or two.
 * log(sigmoid(z)) -> -softplus(-z), log(1 - sigmoid(z)) -> -softplus(z). */
static int rule_log_sigmoid(rw_ctx *c, gnode *n)
{
    damo_var *a, *b;
    int kind = log_sigmoid_pattern(n->out[0], &a, &b);
    if (!kind)
        return 0;
    op_params p = {0};
    damo_var *z = pattern_arg(c, a, b);
    if (z && kind > 0)
        z = make(c, OP_NEG, &p, &z, 1);
    damo_var *sp = z ? make(c, OP_SOFTPLUS, &p, &z, 1) : NULL;
    int r = sp ? become_op(c, n, OP_NEG, &sp, 1) : -1;
    /* the sigmoid may now share its exp with this softplus
     * (rule_logistic_share waited for this rule) */
    gnode *sg = var_producer(n->in[0], OP_SIGMOID), *sub = var_producer(n->in[0], OP_SUB);
    if (!sg && sub)
        sg = var_producer(sub->in[1], OP_SIGMOID);
    if (r > 0 && sg && !fg_requeue(c->fg, sg))
        return -1;
    return r;
}

static int is_logistic(const fgraph *fg, const gnode *m)
{
    return !fg_unused(fg, m) && (m->op == OP_SIGMOID || m->op == OP_SOFTPLUS);
}

/* 1 when v has a live reader of op; *reader then is one. */
static int read_by(const fgraph *fg, const damo_var *v, op_id op, gnode **reader)
{
    const fg_clients *cl = fg_clients_of(fg, v);
    for (size_t j = 0; j < cl->n; j++)
        if (cl->nodes[j]->op == op && !fg_unused(fg, cl->nodes[j])) {
            *reader = cl->nodes[j];
            return 1;
        }
    return 0;
}

/* The live sigmoid and softplus nodes of u and of -u, and exp(-|u|) (which
 * the rewrite below makes: one of them was rewritten already). With
 * requeue, queues those nodes again (they may now share); -1 when out of
 * memory. */
static int logistic_family(fgraph *fg, damo_var *u, int requeue)
{
    int count = 0;
    gnode *na, *ex;
    const fg_clients *cl = fg_clients_of(fg, u);
    for (size_t j = 0; j < cl->n; j++) {
        gnode *m = cl->nodes[j];
        if (fg_unused(fg, m))
            continue;
        if (is_logistic(fg, m))
            count++;
        else if (m->op == OP_ABS)
            count += read_by(fg, m->out[0], OP_NEG, &na) && read_by(fg, na->out[0], OP_EXP, &ex);
        else if (m->op == OP_NEG)
            for (size_t k = 0, n2 = fg_clients_of(fg, m->out[0])->n; k < n2; k++) {
                gnode *q = fg_clients_of(fg, m->out[0])->nodes[k];
                if (is_logistic(fg, q) && requeue && !fg_requeue(fg, q))
                    return -1;
                count += is_logistic(fg, q);
            }
        if (is_logistic(fg, m) && requeue && !fg_requeue(fg, m))
            return -1;
    }
    return count;
}

/* 1 when v is read by log, or by 1 - v that log reads: rule_log_sigmoid's
 * patterns, which go first (its softplus form is finite where a log of the
 * shared form is not). */
static int read_by_log(const fgraph *fg, const damo_var *v)
{
    gnode *m;
    if (read_by(fg, v, OP_LOG, &m))
        return 1;
    const fg_clients *cl = fg_clients_of(fg, v);
    for (size_t j = 0; j < cl->n; j++) {
        gnode *sub = cl->nodes[j];
        if (sub->op == OP_SUB && !fg_unused(fg, sub) && sub->in[1] == v && var_const_is(sub->in[0], 1) &&
            read_by(fg, sub->out[0], OP_LOG, &m))
            return 1;
    }
    return 0;
}

/* Stabilization: sigmoid(+-u) and softplus(+-u) of one u, when two or more
 * of them are computed, from one e = exp(-|u|) and one log1p(e):
 * softplus(+-u) = max(+-u, 0) + log1p(e); sigmoid(u) = 1 / (1 + e) where
 * u >= 0, else e / (1 + e) (and the other way round for -u). Each is as
 * accurate as the op's own formula, and the tutorial's step then takes
 * one exp and one log1p per example instead of five exps and two. */
static int rule_logistic_share(rw_ctx *c, gnode *n)
{
    gnode *ng = var_producer(n->in[0], OP_NEG);
    damo_var *u = ng ? ng->in[0] : n->in[0];
    if (dtype_kind_of(u->type.dtype) != KIND_FLOAT || (n->op == OP_SIGMOID && read_by_log(c->fg, n->out[0])) ||
        logistic_family(c->fg, u, 0) < 2)
        return 0;
    if (logistic_family(c->fg, u, 1) < 0)
        return -1;
    op_params p = {0};
    damo_dtype t = u->type.dtype;
    damo_var *zero = scalar_const(c, t, 0), *one = scalar_const(c, t, 1);
    if (!zero || !one)
        return -1;
    damo_var *au = make(c, OP_ABS, &p, &u, 1), *nau = au ? make(c, OP_NEG, &p, &au, 1) : NULL;
    damo_var *e = nau ? make(c, OP_EXP, &p, &nau, 1) : NULL;
    if (!e)
        return -1;
    if (n->op == OP_SOFTPLUS) {
        damo_var *mx_in[2] = {n->in[0], zero};
        damo_var *mx = make(c, OP_MAXIMUM, &p, mx_in, 2), *l = make(c, OP_LOG1P, &p, &e, 1);
        damo_var *sum_in[2] = {mx, l};
        return mx && l ? become_op(c, n, OP_ADD, sum_in, 2) : -1;
    }
    damo_var *d_in[2] = {one, e}, *d = make(c, OP_ADD, &p, d_in, 2);
    damo_var *q1_in[2] = {one, d}, *qe_in[2] = {e, d}, *ge_in[2] = {u, zero};
    damo_var *q1 = d ? make(c, OP_TRUE_DIV, &p, q1_in, 2) : NULL, *qe = d ? make(c, OP_TRUE_DIV, &p, qe_in, 2) : NULL;
    damo_var *pos = make(c, OP_GE, &p, ge_in, 2);
    if (!q1 || !qe || !pos)
        return -1;
    damo_var *sw[3] = {pos, ng ? qe : q1, ng ? q1 : qe};
    return become_op(c, n, OP_SWITCH, sw, 3);
}

/* Stabilization: log(1 + x) -> log1p(x), for a float 1 + x (an integer
 * one wraps before the log sees it) */
static int rule_log1p(rw_ctx *c, gnode *n)
{
    gnode *add = var_producer(n->in[0], OP_ADD);
    if (add && dtype_kind_of(add->out[0]->type.dtype) != KIND_FLOAT)
        return 0;
    for (int k = 0; add && k < 2; k++)
        if (var_const_is(add->in[k], 1))
            return become_op(c, n, OP_LOG1P, &add->in[1 - k], 1);
    return 0;
}

/* An int64 0-d constant of the graph. */
static damo_var *int_const(rw_ctx *c, int64_t v)
{
    damo_var *k = graph_const(c->fg->g, DAMO_INT64, 0, NULL, &v, WEAK_NONE);
    return k ? rw_const(c, k) : NULL;
}

/* Size d of x: a constant when static, else a shape_i node. */
static damo_var *size_of(rw_ctx *c, damo_var *x, int d)
{
    if (x->type.shape[d] != DAMO_DIM_UNKNOWN)
        return int_const(c, x->type.shape[d]);
    op_params p = {0};
    p.axis = d;
    return make(c, OP_SHAPE_I, &p, &x, 1);
}

/* Size d of elementwise node m's result from its operands' sizes: the one
 * operand that can set it, or, when several can, each in turn where the
 * sizes so far are 1 (broadcasting). */
static damo_var *elemwise_size(rw_ctx *c, const gnode *m, int d)
{
    int nd = m->out[0]->type.ndim;
    damo_var *r = NULL;
    for (int k = 0; k < m->n_in; k++) {
        damo_var *u = m->in[k];
        int at = d - (nd - u->type.ndim);
        if (at < 0 || u->type.shape[at] == 1)
            continue;
        damo_var *s = size_of(c, u, at);
        if (!s || !r) {
            r = s;
            if (!s)
                return NULL;
            continue;
        }
        op_params p = {0};
        damo_var *one = int_const(c, 1), *eq_in[2] = {r, one};
        damo_var *is1 = one ? make(c, OP_EQ, &p, eq_in, 2) : NULL, *sw[3] = {is1, s, r};
        if (!is1 || !(r = make(c, OP_SWITCH, &p, sw, 3)))
            return NULL;
    }
    return r ? r : int_const(c, 1);
}

/* shape_i(v, d) of a computed v -> v's size from its inputs' sizes, so
 * that asking for a size computes no values (what Aesara's ShapeFeature
 * does for every size). */
static int rule_shape_i(rw_ctx *c, gnode *n)
{
    damo_var *v = n->in[0], *r = NULL;
    int d = n->params.axis;
    if (v->kind != VAR_APPLY)
        return 0;
    const gnode *m = v->node;
    const op_params *mp = &m->params;
    if (op_info_of(m->op)->flags & OPF_ELEMWISE) {
        r = elemwise_size(c, m, d);
    } else if (m->op == OP_DIMSHUFFLE) {
        r = mp->order[d] == DAMO_NEWAXIS ? int_const(c, 1) : size_of(c, m->in[0], mp->order[d]);
    } else if (m->op == OP_REDUCE && !mp->fused && !mp->epilogue) {
        int at = -1;
        for (int k = 0, kept = 0; k < mp->ndim && at < 0; k++) {
            int red = (mp->axes >> k) & 1;
            if ((!red || mp->keepdims) && kept++ == d)
                at = red ? -2 : k;
        }
        r = at == -2 ? int_const(c, 1) : at >= 0 ? size_of(c, m->in[0], at) : NULL;
    } else if (m->op == OP_DOT) {
        damo_var *a = m->in[0], *b = m->in[1];
        r = a->type.ndim == 2 && d == 0 ? size_of(c, a, 0) : size_of(c, b, b->type.ndim - 1);
    } else if (m->op == OP_ALLOC && mp->shape[d] != SHAPE_FROM_INPUT) {
        r = int_const(c, mp->shape[d]);
    } else if (m->op == OP_ALLOC) {
        int k = 1;
        for (int e = 0; e < d; e++)
            k += mp->shape[e] == SHAPE_FROM_INPUT;
        r = m->in[k]->type.dtype == DAMO_INT64 ? m->in[k] : NULL;
    } else {
        return 0;
    }
    return r ? become(c, n, r) : 0;
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

/* The coefficient (scale, negated when neg) as a 0-d value of dtype t. */
static damo_var *coefficient(rw_ctx *c, damo_var *scale, int neg, damo_dtype t)
{
    if (!scale)
        return scalar_const(c, t, neg ? -1 : 1);
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

/* s * gemm(a, b, c, alpha, beta) + t * d -> gemm(a, b, s beta c + t d,
 * s alpha, 1): the other term joins c, computed by the elementwise work
 * that makes c (a training step's w - lr * (x.T . g + k w) is then one
 * BLAS call after one kernel). */
static int absorb_into_gemm(rw_ctx *c, gnode *n, damo_var *gemm, damo_var *s, damo_var *t, damo_var *d)
{
    gnode *m = gemm->node;
    op_params p = {0};
    damo_var *sa[2] = {s, m->in[3]}, *sb[2] = {s, m->in[4]};
    damo_var *alpha = make(c, OP_MUL, &p, sa, 2), *beta = make(c, OP_MUL, &p, sb, 2);
    damo_var *bc[2] = {beta, m->in[2]}, *td[2] = {t, d};
    damo_var *l = beta ? make(c, OP_MUL, &p, bc, 2) : NULL, *r = make(c, OP_MUL, &p, td, 2);
    damo_var *lr[2] = {l, r}, *cc = l && r ? make(c, OP_ADD, &p, lr, 2) : NULL, *one = coefficient(c, NULL, 0, gemm->type.dtype);
    if (!alpha || !cc || !one)
        return -1;
    if (cc->type.dtype != gemm->type.dtype || !c_fits(&cc->type, &gemm->type))
        return 0;
    damo_var *in[5] = {m->in[0], m->in[1], cc, alpha, one};
    return become_op(c, n, OP_GEMM, in, 5);
}

/* alpha * dot(a, b) + beta * c -> gemm(a, b, c, alpha, beta), and the same
 * with subtraction (Aesara's gemm rewrite): one BLAS call. */
static int rule_gemm(rw_ctx *c, gnode *n)
{
    for (int k = 0; k < 2; k++) {
        scaled d = scaled_term(c->fg, n->in[k]), cc = scaled_term(c->fg, n->in[1 - k]);
        damo_var *dot = d.base;
        int is_gemm = dot->kind == VAR_APPLY && dot->node->op == OP_GEMM;
        if (dot->kind != VAR_APPLY || (dot->node->op != OP_DOT && !is_gemm) || dot->type.ndim == 0 ||
            !one_reader(c->fg, dot) || !same_type(dot, n->out[0]) ||
            cc.base->type.dtype != dot->type.dtype || !c_fits(&cc.base->type, &dot->type))
            continue;
        int sub = n->op == OP_SUB;
        damo_dtype t = dot->type.dtype;
        damo_var *sd = coefficient(c, d.scale, d.neg ^ (sub && k == 1), t),
                 *sc = coefficient(c, cc.scale, cc.neg ^ (sub && k == 0), t);
        if (!sd || !sc)
            return -1;
        if (is_gemm)
            return absorb_into_gemm(c, n, dot, sd, sc, cc.base);
        damo_var *in[5] = {dot->node->in[0], dot->node->in[1], cc.base, sd, sc};
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
    {"x ** 2, x ** 1", OP_POW, rule_pow_small},
    {"cast to the same dtype", OP_CAST, rule_cast_same},
    {"switch(c, x, x)", OP_SWITCH, rule_switch_same},
    {"1 / (1 + exp(-z))", OP_TRUE_DIV, rule_sigmoid},
    {"log(sigmoid(z)), log(1 - sigmoid(z))", OP_LOG, rule_log_sigmoid},
    {"log(1 + x)", OP_LOG, rule_log1p},
    {"sigmoid and softplus sharing exp", OP_SIGMOID, rule_logistic_share},
    {"sigmoid and softplus sharing exp", OP_SOFTPLUS, rule_logistic_share},
    {"shape_i of a computed value", OP_SHAPE_I, rule_shape_i},
    {"alpha * dot(a, b) + beta * c", OP_ADD, rule_gemm},
    {"alpha * dot(a, b) - beta * c", OP_SUB, rule_gemm},
};
const size_t rw_n_rules = sizeof rw_rules / sizeof rw_rules[0];
