#include "graph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    free(g->vars);
    free(g);
}

const char *damo_graph_errmsg(const damo_graph *g) { return g ? g->err.msg : "graph is NULL"; }
damo_status damo_graph_errcode(const damo_graph *g) { return g ? g->err.code : DAMO_ERR_INVALID; }

damo_var *graph_add_var(damo_graph *g, var_kind kind, const gtype *t, const char *name)
{
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 64;
        damo_var **vars = realloc(g->vars, cap * sizeof *vars);
        if (!vars)
            goto oom;
        g->vars = vars;
        g->cap = cap;
    }
    damo_var *v = calloc(1, sizeof *v);
    if (!v)
        goto oom;
    if (name && !(v->name = strdup(name))) {
        free(v);
        goto oom;
    }
    v->g = g;
    v->id = (uint32_t)g->n;
    v->kind = kind;
    v->type = *t;
    g->vars[g->n++] = v;
    return v;
oom:
    err_set(&g->err, DAMO_ERR_NOMEM, "out of memory building the graph");
    return NULL;
}

int64_t gtype_static_size(const gtype *t)
{
    int64_t n = 1;
    for (int d = 0; d < t->ndim; d++)
        n *= t->shape[d];
    return n;
}

damo_var *graph_const(damo_graph *g, damo_dtype dtype, int ndim, const int64_t *shape,
                      const void *data, weak_kind weak)
{
    gtype t = {dtype, ndim, {0}};
    for (int d = 0; d < ndim; d++)
        t.shape[d] = shape[d];
    size_t bytes = (size_t)gtype_static_size(&t) * damo_dtype_size(dtype);
    void *copy = malloc(bytes ? bytes : 1);
    if (!copy) {
        err_set(&g->err, DAMO_ERR_NOMEM, "out of memory for a constant of %zu bytes", bytes);
        return NULL;
    }
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
    damo_var *v = graph_add_var(g, VAR_SHARED, t, name);
    if (v) {
        v->store = store;
        g->store_retain(store);
    }
    return v;
}

damo_status gtype_broadcast(const gtype *const *ts, int n, gtype *out, int *bad_dim)
{
    int nd = 0;
    for (int i = 0; i < n; i++)
        if (ts[i]->ndim > nd)
            nd = ts[i]->ndim;
    out->ndim = nd;
    for (int d = 0; d < nd; d++) {
        /* 1 until something bigger or unknown is seen */
        int64_t size = 1;
        int unknown = 0;
        for (int i = 0; i < n; i++) {
            int k = d - (nd - ts[i]->ndim);
            if (k < 0)
                continue;
            int64_t s = ts[i]->shape[k];
            if (s == DAMO_DIM_UNKNOWN) {
                unknown = 1;
            } else if (s != 1) {
                if (size != 1 && size != s) {
                    if (bad_dim)
                        *bad_dim = d;
                    return DAMO_ERR_SHAPE;
                }
                size = s;
            }
        }
        out->shape[d] = size == 1 && unknown ? DAMO_DIM_UNKNOWN : size;
    }
    return DAMO_OK;
}

const char *gtype_shape_str(const gtype *t, char *buf, size_t size)
{
    size_t len = 0;
    len += (size_t)snprintf(buf + len, size - len, "(");
    for (int d = 0; d < t->ndim && len < size; d++) {
        if (t->shape[d] == DAMO_DIM_UNKNOWN)
            len += (size_t)snprintf(buf + len, size - len, "%sNone", d ? ", " : "");
        else
            len += (size_t)snprintf(buf + len, size - len, "%s%lld", d ? ", " : "",
                                    (long long)t->shape[d]);
    }
    if (len < size)
        snprintf(buf + len, size - len, t->ndim == 1 ? ",)" : ")");
    return buf;
}

const char *var_label(const damo_var *v, char *buf, size_t size)
{
    if (v->name) {
        snprintf(buf, size, "'%s'", v->name);
    } else if (v->kind == VAR_CONST) {
        snprintf(buf, size, "<constant>");
    } else if (v->kind == VAR_APPLY) {
        char a[3][96] = {"", "", ""};
        for (int i = 0; i < v->n_in; i++)
            var_label(v->in[i], a[i], sizeof a[i]);
        snprintf(buf, size, "%s(%s%s%s%s%s)", op_get(v->op)->name, a[0], v->n_in > 1 ? ", " : "",
                 a[1], v->n_in > 2 ? ", " : "", a[2]);
    } else {
        snprintf(buf, size, "<unnamed %s>", v->kind == VAR_SHARED ? "shared" : "input");
    }
    return buf;
}

damo_var *graph_apply(damo_graph *g, scalar_op op, int n, damo_var *const *in,
                      damo_dtype cast_to)
{
    const op_def *d = op_get(op);
    op_operand args[3];
    const gtype *ts[3];
    for (int i = 0; i < n; i++) {
        args[i] = (op_operand){in[i]->type.dtype, in[i]->weak};
        ts[i] = &in[i]->type;
    }
    op_types types;
    if (op_infer(op, args, cast_to, &types, &g->err) != DAMO_OK)
        return NULL;
    gtype out;
    int bad = 0;
    if (gtype_broadcast(ts, n, &out, &bad) != DAMO_OK) {
        char msg[1024] = "", lab[256], shp[128];
        size_t len = 0;
        for (int i = 0; i < n; i++)
            len += (size_t)snprintf(msg + len, sizeof msg - len, "%s%s has shape %s",
                                    i ? ", " : "", var_label(in[i], lab, sizeof lab),
                                    gtype_shape_str(ts[i], shp, sizeof shp));
        err_set(&g->err, DAMO_ERR_SHAPE,
                "%s: shapes cannot be broadcast together (dimension %d of the result): %s",
                d->name, bad, msg);
        return NULL;
    }
    out.dtype = types.out;
    damo_var *v = graph_add_var(g, VAR_APPLY, &out, NULL);
    if (!v)
        return NULL;
    v->op = op;
    v->n_in = n;
    v->weak = types.weak;
    for (int i = 0; i < n; i++)
        v->in[i] = in[i];
    return v;
}

damo_dtype damo_var_dtype(const damo_var *v) { return v->type.dtype; }
int damo_var_ndim(const damo_var *v) { return v->type.ndim; }
int64_t damo_var_dim(const damo_var *v, int i)
{
    return i >= 0 && i < v->type.ndim ? v->type.shape[i] : DAMO_DIM_UNKNOWN;
}
const char *damo_var_name(const damo_var *v) { return v->name; }

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
