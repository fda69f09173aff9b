#include <stdlib.h>
#include <string.h>

#include "rewrite.h"

typedef struct cloner {
    damo_graph *src, *dst;
    damo_var **memo;      /* src id -> clone */
    unsigned char *busy;  /* src id -> being cloned through a given */
    const fgraph_spec *spec;
    merge_table *merge;
    damo_err *e;
} cloner;

static const damo_given *given_for(const cloner *c, const damo_var *v)
{
    for (size_t i = 0; i < c->spec->n_givens; i++)
        if (c->spec->givens[i].var == v)
            return &c->spec->givens[i];
    return NULL;
}

static damo_var *clone(cloner *c, damo_var *v);

static damo_var *clone_apply(cloner *c, damo_var *v)
{
    damo_var *in[3];
    for (int i = 0; i < v->n_in; i++)
        if (!(in[i] = clone(c, v->in[i])))
            return NULL;
    damo_status st;
    damo_var *w = fold_apply(c->dst, v->op, v->type.dtype, v->n_in, in, &st);
    if (st != DAMO_OK)
        return err_copy(c->e, &c->dst->err), NULL;
    if (!w && (w = merge_find_apply(c->merge, v->op, v->type.dtype, v->n_in, in)))
        return w;
    if (!w && !(w = graph_apply(c->dst, v->op, v->n_in, in, v->type.dtype)))
        return err_copy(c->e, &c->dst->err), NULL;
    if (v->name && !w->name)
        damo_var_set_name(w, v->name);
    damo_var *m = merge_intern(c->merge, w);
    if (!m)
        err_set(c->e, DAMO_ERR_NOMEM, "out of memory merging the graph");
    return m;
}

static damo_var *clone(cloner *c, damo_var *v)
{
    if (c->memo[v->id])
        return c->memo[v->id];
    char lab[256];
    if (c->busy[v->id]) {
        err_set(c->e, DAMO_ERR_INVALID, "givens: the replacement of %s depends on %s itself",
                var_label(v, lab, sizeof lab), lab);
        return NULL;
    }
    const damo_given *gv = given_for(c, v);
    damo_var *w = NULL;
    if (gv) {
        c->busy[v->id] = 1;
        w = clone(c, gv->with);
        c->busy[v->id] = 0;
    } else {
        switch (v->kind) {
        case VAR_INPUT:
            err_set(c->e, DAMO_ERR_INVALID,
                    "an output needs input %s, which is neither an input of the function nor "
                    "replaced by a given", var_label(v, lab, sizeof lab));
            return NULL;
        case VAR_CONST:
            w = graph_const(c->dst, v->type.dtype, v->type.ndim, v->type.shape, v->data, v->weak);
            if (w && !(w = merge_intern(c->merge, w)))
                err_set(c->e, DAMO_ERR_NOMEM, "out of memory merging the graph");
            break;
        case VAR_SHARED:
            w = graph_shared(c->dst, v->store, &v->type, v->name);
            break;
        case VAR_APPLY:
            return c->memo[v->id] = clone_apply(c, v);
        }
        if (!w && c->e->code == DAMO_OK)
            err_copy(c->e, &c->dst->err);
    }
    return c->memo[v->id] = w;
}

/* A replacement must hold the same kind of values: same dtype and rank,
 * and no static size that contradicts the replaced variable's. */
static damo_status check_given(const damo_given *gv, damo_graph *src, damo_err *e)
{
    char a[256], b[256], sa[128], sb[128];
    if (!gv->var || !gv->with)
        return err_set(e, DAMO_ERR_INVALID, "givens: NULL variable or replacement");
    if (gv->var->g != src || gv->with->g != src)
        return err_set(e, DAMO_ERR_INVALID, "givens: %s or its replacement belongs to another graph",
                       var_label(gv->var, a, sizeof a));
    const gtype *t = &gv->var->type, *u = &gv->with->type;
    int ok = t->dtype == u->dtype && t->ndim == u->ndim;
    for (int d = 0; ok && d < t->ndim; d++)
        ok = t->shape[d] == DAMO_DIM_UNKNOWN || u->shape[d] == DAMO_DIM_UNKNOWN ||
             t->shape[d] == u->shape[d];
    if (!ok)
        return err_set(e, DAMO_ERR_TYPE,
                       "givens: %s (%s, shape %s) cannot be replaced by %s (%s, shape %s)",
                       var_label(gv->var, a, sizeof a), damo_dtype_name(t->dtype),
                       gtype_shape_str(t, sa, sizeof sa), var_label(gv->with, b, sizeof b),
                       damo_dtype_name(u->dtype), gtype_shape_str(u, sb, sizeof sb));
    return DAMO_OK;
}

damo_status fgraph_build(fgraph *fg, damo_graph *src, const fgraph_spec *spec, damo_err *e)
{
    memset(fg, 0, sizeof *fg);
    err_clear(e);
    for (size_t i = 0; i < spec->n_givens; i++)
        if (check_given(&spec->givens[i], src, e) != DAMO_OK)
            return e->code;
    cloner c = {src, graph_create(src->ctx, src->store_retain, src->store_release), calloc(src->n ? src->n : 1, sizeof *c.memo),
                calloc(src->n ? src->n : 1, 1), spec, merge_new(src->n), e};
    size_t n_out = spec->n_outputs + spec->n_updates;
    fg->g = c.dst;
    fg->inputs = calloc(spec->n_inputs ? spec->n_inputs : 1, sizeof *fg->inputs);
    fg->outputs = calloc(n_out ? n_out : 1, sizeof *fg->outputs);
    fg->update_vars = calloc(spec->n_updates ? spec->n_updates : 1, sizeof *fg->update_vars);
    if (!c.dst || !c.memo || !c.busy || !c.merge || !fg->inputs || !fg->outputs ||
        !fg->update_vars) {
        err_set(e, DAMO_ERR_NOMEM, "out of memory cloning the graph");
        goto done;
    }
    fg->n_inputs = spec->n_inputs;
    fg->n_outputs = spec->n_outputs;
    fg->n_updates = spec->n_updates;
    for (size_t i = 0; i < spec->n_inputs; i++) {
        damo_var *v = spec->inputs[i];
        if (!(fg->inputs[i] = c.memo[v->id] = graph_add_var(c.dst, VAR_INPUT, &v->type, v->name))) {
            err_copy(e, &c.dst->err);
            goto done;
        }
    }
    for (size_t i = 0; i < n_out; i++) {
        damo_var *v = i < spec->n_outputs ? spec->outputs[i] : spec->updates[i - spec->n_outputs].expr;
        if (!(fg->outputs[i] = clone(&c, v)))
            goto done;
    }
    /* Updates store to the shared variable itself, even where a given
     * replaces it in the expressions (Aesara's skip_shared example). */
    for (size_t i = 0; i < spec->n_updates; i++)
        fg->update_vars[i] = spec->updates[i].var;
done:
    free(c.memo);
    free(c.busy);
    merge_free(c.merge);
    if (e->code != DAMO_OK) {
        fgraph_free(fg);
        return e->code;
    }
    return DAMO_OK;
}

void fgraph_free(fgraph *fg)
{
    damo_graph_free(fg->g);
    free(fg->inputs);
    free(fg->outputs);
    free(fg->update_vars);
    memset(fg, 0, sizeof *fg);
}
