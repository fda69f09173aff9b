/* The arena: variables and nodes, freed together. A node owns what its
 * params point to from the moment graph_node is called. */
#include "graph.h"

#include <stdlib.h>
#include <string.h>

#include "../common/grow.h"
#include "op.h"

damo_graph *graph_create(void *ctx, void (*retain)(shared_store *),
                         void (*release)(shared_store *))
{
    damo_graph *g = calloc(1, sizeof *g);
    if (g) {
        g->ctx = ctx;
        g->store_retain = retain;
        g->store_release = release;
    }
    return g;
}

void damo_graph_free(damo_graph *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->n; i++) {
        damo_var *v = g->vars[i];
        if (v->store && g->store_release)
            g->store_release(v->store);
        free(v->name);
        free(v->data);
        free(v);
    }
    for (size_t i = 0; i < g->n_nodes; i++) {
        gnode *n = g->nodes[i];
        const op_info *info = op_info_of(n->op);
        if (info->params_free)
            info->params_free(&n->params);
        free(n);
    }
    free(g->vars);
    free(g->nodes);
    free(g->shared);
    free(g);
}

const char *damo_graph_errmsg(const damo_graph *g) { return g ? g->err.msg : ""; }
damo_status damo_graph_errcode(const damo_graph *g) { return g ? g->err.code : DAMO_ERR_INVALID; }

damo_var *graph_add_var(damo_graph *g, var_kind kind, const gtype *t, const char *name)
{
    damo_var *v = NULL;
    if (!grow_array((void **)&g->vars, &g->cap, g->n + 1, sizeof *g->vars) ||
        !(v = calloc(1, sizeof *v)) || (name && !(v->name = strdup(name)))) {
        free(v);
        err_set(&g->err, DAMO_ERR_NOMEM, "out of memory building the graph");
        return NULL;
    }
    v->g = g;
    v->id = (uint32_t)g->n;
    v->kind = kind;
    v->type = *t;
    g->vars[g->n++] = v;
    return v;
}

damo_var *graph_const(damo_graph *g, damo_dtype dtype, int ndim, const int64_t *shape,
                      const void *data, weak_kind weak)
{
    gtype t = {dtype, ndim, {0}};
    if (ndim)
        memcpy(t.shape, shape, (size_t)ndim * sizeof *shape);
    size_t bytes = (size_t)gtype_static_size(&t) * damo_dtype_size(dtype);
    void *copy = malloc(bytes ? bytes : 1);
    if (!copy) {
        err_set(&g->err, DAMO_ERR_NOMEM, "out of memory for a constant of %zu bytes", bytes);
        return NULL;
    }
    if (bytes)
        memcpy(copy, data, bytes);
    damo_var *v = graph_add_var(g, VAR_CONST, &t, NULL);
    if (!v) {
        free(copy);
        return NULL;
    }
    v->data = copy;
    v->weak = weak;
    return v;
}

damo_var *graph_shared(damo_graph *g, shared_store *store, const gtype *t, const char *name)
{
    for (size_t i = 0; i < g->n_shared; i++)
        if (g->shared[i]->store == store)
            return g->shared[i];
    if (!grow_array((void **)&g->shared, &g->cap_shared, g->n_shared + 1, sizeof *g->shared)) {
        err_set(&g->err, DAMO_ERR_NOMEM, "out of memory building the graph");
        return NULL;
    }
    damo_var *v = graph_add_var(g, VAR_SHARED, t, name);
    if (v) {
        v->store = store;
        g->store_retain(store);
        g->shared[g->n_shared++] = v;
    }
    return v;
}

gnode *graph_node(damo_graph *g, op_id op, const op_params *params, damo_var *const *in,
                  int n_in, const gtype *types, const weak_kind *weak, int n_out)
{
    size_t bytes = sizeof(gnode) + (size_t)(n_in + n_out) * sizeof(damo_var *);
    gnode *n = NULL;
    if (!grow_array((void **)&g->nodes, &g->cap_nodes, g->n_nodes + 1, sizeof *g->nodes) ||
        !(n = calloc(1, bytes))) {
        op_params p = *params;
        if (op_info_of(op)->params_free)
            op_info_of(op)->params_free(&p);
        err_set(&g->err, DAMO_ERR_NOMEM, "out of memory building the graph");
        return NULL;
    }
    n->id = (uint32_t)g->n_nodes;
    n->op = op;
    n->params = *params;
    n->n_in = n_in;
    n->in = (damo_var **)(n + 1);
    n->out = n->in + n_in;
    if (n_in)
        memcpy(n->in, in, (size_t)n_in * sizeof *in);
    /* registered first, so that the arena frees it (and what its params
     * own) even when an output fails to allocate */
    g->nodes[g->n_nodes++] = n;
    for (int o = 0; o < n_out; o++) {
        damo_var *v = graph_add_var(g, VAR_APPLY, &types[o], NULL);
        if (!v)
            return NULL;
        v->node = n;
        v->index = o;
        v->weak = weak[o];
        n->out[n->n_out++] = v;
    }
    return n;
}

/* Outputs infer can give at most. */
#define MAX_INFERRED_OUTPUTS 4

gnode *graph_apply_node(damo_graph *g, op_id op, const op_params *params, damo_var *const *in,
                        int n_in)
{
    const op_info *info = op_info_of(op);
    gnode probe = {0, op, *params, n_in, 0, (damo_var **)in, NULL};
    gtype types[MAX_INFERRED_OUTPUTS];
    weak_kind weak[MAX_INFERRED_OUTPUTS] = {WEAK_NONE};
    if (info->infer(&probe, types, weak, &g->err) != DAMO_OK)
        return NULL;
    return graph_node(g, op, params, in, n_in, types, weak, info->n_out);
}

damo_var *graph_apply(damo_graph *g, op_id op, const op_params *params, damo_var *const *in,
                      int n_in)
{
    gnode *n = graph_apply_node(g, op, params, in, n_in);
    return n ? n->out[0] : NULL;
}

damo_dtype damo_var_dtype(const damo_var *v) { return v ? v->type.dtype : DAMO_NUM_DTYPES; }
int damo_var_ndim(const damo_var *v) { return v ? v->type.ndim : 0; }
int64_t damo_var_dim(const damo_var *v, int i)
{
    return v && i >= 0 && i < v->type.ndim ? v->type.shape[i] : DAMO_DIM_UNKNOWN;
}
const char *damo_var_name(const damo_var *v) { return v ? v->name : NULL; }

damo_var *damo_var_set_name(damo_var *v, const char *name)
{
    if (!v)
        return NULL;
    char *copy = name ? strdup(name) : NULL;
    if (name && !copy) {
        err_set(&v->g->err, DAMO_ERR_NOMEM, "out of memory naming a variable");
        return v;
    }
    free(v->name);
    v->name = copy;
    return v;
}
