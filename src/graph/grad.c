/* Reverse-mode gradients (Aesara's grad): the cost's ancestors are walked
 * from the last node to the first (creation order is topological), each
 * node's gradient facet turns the gradients of its outputs into gradients
 * of its inputs, and the contributions to each variable are summed. The
 * results are ordinary nodes of the graph, rewritten and fused with the
 * rest when a function is compiled. */
#include <stdlib.h>

#include "op.h"

static int is_float(const damo_var *v) { return dtype_kind_of(v->type.dtype) == KIND_FLOAT; }

/* 1 when every other elementwise operand of n leaves axis d (of n's
 * output) to input i alone: absent there or of static size 1, or input i
 * itself. Then input i's size on d is the output's. */
static int sole_size(const gnode *n, int i, int d)
{
    int nd = n->out[0]->type.ndim;
    for (int k = 0; k < n->n_in; k++) {
        const damo_var *u = n->in[k];
        int at = d - (nd - u->type.ndim);
        if (k != i && u != n->in[i] && at >= 0 && u->type.shape[at] != 1)
            return 0;
    }
    return 1;
}

damo_var *grad_sum_to(damo_var *gz, damo_var *x, const gnode *n, int i)
{
    if (!gz || !x)
        return NULL;
    const gtype *o = &gz->type, *t = &x->type;
    int lead = o->ndim - t->ndim, axes[DAMO_MAX_DIMS], n_axes = 0, checked = 0;
    if (lead < 0)
        return err_set(&x->g->err, DAMO_ERR_INVALID, "internal error: a gradient of rank %d for a "
                       "value of rank %d", o->ndim, t->ndim), NULL;
    if (n && n->out[0]->type.ndim != o->ndim)
        n = NULL; /* sole_size reads n's operands in its output's axes */
    for (int d = 0; d < o->ndim; d++) {
        int64_t xs = d < lead ? 1 : t->shape[d - lead], os = o->shape[d];
        if (d < lead || (xs == 1 && os != 1))
            axes[n_axes++] = d;
        else if (xs == DAMO_DIM_UNKNOWN && os != 1 && !(n && sole_size(n, i, d)))
            checked = 1;
    }
    damo_var *r = gz;
    if (n_axes) {
        r = damo_sum(gz, axes, n_axes, n_axes > lead);
        if (r && n_axes > lead && lead) {
            int order[DAMO_MAX_DIMS];
            for (int d = 0; d < t->ndim; d++)
                order[d] = d + lead;
            r = damo_dimshuffle(r, t->ndim, order);
        }
    }
    if (checked && r) {
        damo_var *in[2] = {r, x};
        op_params p = {0};
        r = graph_apply(x->g, OP_UNBROADCAST, &p, in, 2);
    }
    return r;
}

/* Marks in mark[] (by variable id, below n_vars) every ancestor of the
 * costs through which a gradient flows: not through a variable in
 * blocked[]. */
static void mark_ancestors(const damo_graph *g, size_t n_nodes, unsigned char *mark,
                           const unsigned char *blocked)
{
    for (size_t j = n_nodes; j-- > 0;) {
        const gnode *n = g->nodes[j];
        int live = 0;
        for (int o = 0; o < n->n_out; o++)
            live |= mark[n->out[o]->id] && !blocked[n->out[o]->id];
        if (live)
            for (int k = 0; k < n->n_in; k++)
                mark[n->in[k]->id] = 1;
    }
}

/* The gradient term for x from node n, in x's dtype. */
static damo_var *as_dtype(damo_var *v, const damo_var *x)
{
    return v && v->type.dtype != x->type.dtype ? damo_cast(v, x->type.dtype) : v;
}

/* 1 when a value between v and the pattern's a and b (v included) is
 * marked in stop (a wrt, or one to hold constant), looking at most `depth`
 * nodes down. */
static int passes_stop(const damo_var *v, const damo_var *a, const damo_var *b, const unsigned char *stop,
                       size_t n_vars, int depth)
{
    if (v == a || v == b)
        return 0;
    if (v->id < n_vars && stop[v->id])
        return 1;
    if (v->kind != VAR_APPLY || depth == 0)
        return 0;
    for (int k = 0; k < v->node->n_in; k++)
        if (passes_stop(v->node->in[k], a, b, stop, n_vars, depth - 1))
            return 1;
    return 0;
}

/* Gradients through a sigmoid or the log of one, however spelled
 * (pattern.c), taken as the stable forms the compiler rewrites them to:
 * d sigmoid(z) = s (1 - s) with s the forward result, d log(sigmoid(z)) =
 * sigmoid(-z), d log(1 - sigmoid(z)) = -sigmoid(z). Differentiating the
 * spelled-out 1 / (1 + exp(-z)) instead gives inf * 0 = NaN once exp
 * overflows. The pattern's inner values then get no gradient of their own,
 * so it is not used when one of them is a wrt or held constant (stop).
 * When n is such a node, sets *a and *b, *z (a, or a + b when *b is not
 * NULL) and *dz, and returns 1; 0 when it is not, -1 on error. */
static int stable_partial(const gnode *n, damo_var *gz, const unsigned char *stop, size_t n_vars, damo_var **a,
                          damo_var **b, damo_var **z, damo_var **dz)
{
    damo_var *out = n->out[0];
    int kind = n->op == OP_LOG ? log_sigmoid_pattern(out, a, b)
               : n->op == OP_TRUE_DIV ? sigmoid_pattern(out, a, b) * 2 : 0;
    for (int k = 0; kind && k < n->n_in; k++)
        if (passes_stop(n->in[k], *a, *b, stop, n_vars, 8))
            kind = 0;
    if (!kind)
        return 0;
    if (!(*z = *b ? damo_add(*a, *b) : *a))
        return -1;
    if (kind == 2)
        *dz = damo_mul(damo_mul(gz, out), damo_sub(damo_float(out->g, 1), out));
    else
        *dz = kind == 1 ? damo_mul(gz, damo_sigmoid(damo_neg(*z))) : damo_neg(damo_mul(gz, damo_sigmoid(*z)));
    return *dz ? 1 : -1;
}

/* Gradients of one z = a (+ b) of stable_partial, summed before they are
 * summed to a's and b's shapes (the tutorial's log(p) and log(1 - p) share
 * their z: one reduction for b, not two). Each has z's shape: a gradient
 * always has its variable's shape. */
typedef struct pending {
    damo_var *a, *b, *z, *dz; /* z: a + b, whose node sum_to reads for its
                               * operands' shapes (a itself without b) */
    size_t due; /* handed on before node `due` (a's or b's producer) */
} pending;

enum { MAX_PENDING = 16 };

/* Adds term, a gradient of x, to x's sum (NULL term: the error on g). */
static damo_status accumulate(damo_graph *g, damo_var **sum, const unsigned char *from_wrt, damo_var *x,
                              damo_var *term)
{
    if (!term)
        return g->err.code ? g->err.code : DAMO_ERR_NOMEM;
    if (!from_wrt[x->id] || !is_float(x))
        return DAMO_OK;
    term = as_dtype(term, x);
    sum[x->id] = sum[x->id] ? damo_add(sum[x->id], term) : term;
    return sum[x->id] ? DAMO_OK : g->err.code ? g->err.code : DAMO_ERR_NOMEM;
}

static size_t producer_index(const damo_var *v) { return v && v->kind == VAR_APPLY ? v->node->id + 1 : 0; }

/* Hands the pending gradients due at node index `at` (all with at 0) on
 * to a and b. */
static damo_status flush_pending(damo_graph *g, pending *pd, int *n_pd, size_t at, damo_var **sum,
                                 const unsigned char *from_wrt)
{
    for (int k = 0; k < *n_pd;) {
        pending *p = &pd[k];
        if (at && p->due < at) {
            k++;
            continue;
        }
        const gnode *zn = p->b ? p->z->node : NULL;
        damo_status st = accumulate(g, sum, from_wrt, p->a, grad_sum_to(p->dz, p->a, zn, 0));
        if (st == DAMO_OK && p->b)
            st = accumulate(g, sum, from_wrt, p->b, grad_sum_to(p->dz, p->b, zn, 1));
        if (st != DAMO_OK)
            return st;
        *p = pd[--*n_pd];
    }
    return DAMO_OK;
}

static damo_status backprop(damo_graph *g, size_t n_nodes, size_t n_vars, const unsigned char *reach,
                            const unsigned char *from_wrt, const unsigned char *blocked,
                            const unsigned char *stop, damo_var **sum)
{
    damo_var *outs[64], *ins[64];
    pending pd[MAX_PENDING];
    int n_pd = 0;
    damo_status st;
    for (size_t j = n_nodes; j-- > 0;) {
        const gnode *n = g->nodes[j];
        if ((st = flush_pending(g, pd, &n_pd, j + 1, sum, from_wrt)) != DAMO_OK)
            return st;
        int any_out = 0, any_in = 0;
        for (int o = 0; o < n->n_out && o < 64; o++) {
            damo_var *v = n->out[o];
            outs[o] = reach[v->id] && !blocked[v->id] && is_float(v) ? sum[v->id] : NULL;
            any_out |= outs[o] != NULL;
        }
        for (int k = 0; k < n->n_in; k++)
            any_in |= from_wrt[n->in[k]->id] && is_float(n->in[k]);
        if (!any_out || !any_in)
            continue;
        damo_var *a = NULL, *b = NULL, *z = NULL, *dz = NULL;
        int stable = n->n_out == 1 ? stable_partial(n, outs[0], stop, n_vars, &a, &b, &z, &dz) : 0;
        if (stable < 0)
            return g->err.code ? g->err.code : DAMO_ERR_NOMEM;
        if (stable) {
            int k = 0;
            while (k < n_pd && (pd[k].a != a || pd[k].b != b))
                k++;
            if (k == n_pd && n_pd == MAX_PENDING && (st = flush_pending(g, pd, &n_pd, 0, sum, from_wrt)) != DAMO_OK)
                return st;
            if (k >= n_pd) {
                k = n_pd++;
                size_t pa = producer_index(a), pb = producer_index(b);
                pd[k] = (pending){a, b, z, dz, pa > pb ? pa : pb};
            } else if (!(pd[k].dz = damo_add(pd[k].dz, dz))) {
                return g->err.code ? g->err.code : DAMO_ERR_NOMEM;
            }
            continue;
        }
        const op_info *info = op_info_of(n->op);
        char lab[256];
        if (n->n_out > 64 || n->n_in > 64)
            return err_set(&g->err, DAMO_ERR_UNSUPPORTED, "gradient: %s has more than 64 inputs "
                           "or outputs", info->name);
        if (!info->grad)
            return err_set(&g->err, DAMO_ERR_UNSUPPORTED, "gradient: %s has no gradient (needed "
                           "for %s)", info->name, var_label(n->out[0], lab, sizeof lab));
        for (int k = 0; k < n->n_in; k++)
            ins[k] = NULL;
        if ((st = info->grad(g, n, outs, ins)) != DAMO_OK)
            return st;
        for (int k = 0; k < n->n_in; k++)
            if (ins[k] && (st = accumulate(g, sum, from_wrt, n->in[k], ins[k])) != DAMO_OK)
                return st;
    }
    return flush_pending(g, pd, &n_pd, 0, sum, from_wrt);
}

static damo_status check_vars(damo_graph *g, int n, damo_var *const *v, const char *what)
{
    if (n < 0 || (n && !v))
        return err_set(&g->err, DAMO_ERR_INVALID, "gradient: %s: bad list", what);
    for (int i = 0; i < n; i++)
        if (!v[i] || v[i]->g != g)
            return err_set(&g->err, DAMO_ERR_INVALID, "gradient: %s %d is %s", what, i,
                           v[i] ? "from another graph" : "NULL");
    return DAMO_OK;
}

damo_status damo_grad_ex(int n_costs, damo_var *const *costs, int n_wrt, damo_var *const *wrt,
                         int n_const, damo_var *const *consider_constant, unsigned flags,
                         damo_var **grads)
{
    for (int j = 0; grads && j < n_wrt; j++)
        grads[j] = NULL;
    if (n_costs < 1 || !costs || !costs[0] || !grads)
        return err_set(costs && n_costs > 0 && costs[0] ? &costs[0]->g->err : NULL, DAMO_ERR_INVALID,
                       "gradient: %s", !grads ? "grads is NULL" : "no cost");
    damo_graph *g = costs[0]->g;
    damo_status st;
    if ((st = check_vars(g, n_costs, costs, "cost")) != DAMO_OK ||
        (st = check_vars(g, n_wrt, wrt, "wrt")) != DAMO_OK ||
        (st = check_vars(g, n_const, consider_constant, "consider_constant")) != DAMO_OK)
        return st;
    char lab[256];
    for (int c = 0; c < n_costs; c++)
        if (costs[c]->type.ndim != 0)
            return err_set(&g->err, DAMO_ERR_SHAPE, "gradient: the cost %s has %d dimensions; it "
                           "must be a scalar (sum or mean it first)",
                           var_label(costs[c], lab, sizeof lab), costs[c]->type.ndim);
    size_t n_vars = g->n, n_nodes = g->n_nodes;
    unsigned char *reach = calloc(n_vars + 1, 1), *from_wrt = calloc(n_vars + 1, 1),
                  *blocked = calloc(n_vars + 1, 1), *stop = calloc(n_vars + 1, 1);
    damo_var **sum = calloc(n_vars + 1, sizeof *sum);
    if (!reach || !from_wrt || !blocked || !stop || !sum) {
        st = err_set(&g->err, DAMO_ERR_NOMEM, "gradient: out of memory");
        goto done;
    }
    for (int c = 0; c < n_const; c++)
        blocked[consider_constant[c]->id] = stop[consider_constant[c]->id] = 1;
    for (int j = 0; j < n_wrt; j++)
        stop[wrt[j]->id] = 1;
    for (int c = 0; c < n_costs; c++)
        reach[costs[c]->id] = 1;
    mark_ancestors(g, n_nodes, reach, blocked);
    for (int j = 0; j < n_wrt; j++)
        from_wrt[wrt[j]->id] = 1;
    for (size_t j = 0; j < n_nodes; j++) {
        const gnode *n = g->nodes[j];
        int any = 0;
        for (int k = 0; k < n->n_in; k++)
            any |= from_wrt[n->in[k]->id] && !blocked[n->in[k]->id];
        for (int o = 0; o < n->n_out && any; o++)
            from_wrt[n->out[o]->id] = 1;
    }
    for (int c = 0; c < n_costs; c++) {
        damo_var *one = is_float(costs[c]) ? damo_const_scalar(g, costs[c]->type.dtype, 1) : NULL;
        if (one)
            sum[costs[c]->id] = sum[costs[c]->id] ? damo_add(sum[costs[c]->id], one) : one;
    }
    if ((st = backprop(g, n_nodes, n_vars, reach, from_wrt, blocked, stop, sum)) != DAMO_OK)
        goto done;
    for (int j = 0; j < n_wrt; j++) {
        damo_var *x = wrt[j];
        if (!reach[x->id] && !(flags & DAMO_GRAD_DISCONNECTED_ZERO)) {
            st = err_set(&g->err, DAMO_ERR_INVALID, "gradient: the cost does not depend on %s "
                         "(wrt %d); pass DAMO_GRAD_DISCONNECTED_ZERO for zeros",
                         var_label(x, lab, sizeof lab), j);
            goto done;
        }
        damo_var *gx = is_float(x) ? sum[x->id] : NULL;
        grads[j] = gx ? gx : damo_zeros_like(is_float(x) ? x : damo_cast(x, DAMO_FLOAT64));
        if (!grads[j]) {
            st = g->err.code ? g->err.code : DAMO_ERR_NOMEM;
            goto done;
        }
    }
done:
    if (st != DAMO_OK)
        for (int j = 0; j < n_wrt; j++)
            grads[j] = NULL;
    free(reach);
    free(from_wrt);
    free(blocked);
    free(stop);
    free(sum);
    return st;
}

damo_status damo_grad(damo_var *cost, int n_wrt, damo_var *const *wrt, damo_var **grads)
{
    return damo_grad_ex(1, &cost, n_wrt, wrt, 0, NULL, 0, grads);
}
