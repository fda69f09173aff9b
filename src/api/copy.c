/* Function.copy: recompile from the function's own graph with the swapped
 * shared variables as givens. Every generated kernel is then found in the
 * context's program cache, so a copy builds nothing. */
#include <stdlib.h>

#include "function.h"

/* The variable of f's graph that reads `store`, made when none does yet. */
static damo_var *var_of_store(damo_graph *g, shared_store *store)
{
    for (size_t i = 0; i < g->n; i++)
        if (g->vars[i]->kind == VAR_SHARED && g->vars[i]->store == store)
            return g->vars[i];
    return graph_shared(g, store, &store->type, NULL);
}

static damo_status check_swap(damo_function *f, const damo_given *s)
{
    char a[256], b[256];
    if (!s->var || !s->with)
        return err_set(&f->err, DAMO_ERR_INVALID, "copy: NULL variable in swap");
    if (s->var->kind != VAR_SHARED || s->with->kind != VAR_SHARED)
        return err_set(&f->err, DAMO_ERR_INVALID, "copy: swap %s for %s: both must be shared variables",
                       var_label(s->var, a, sizeof a), var_label(s->with, b, sizeof b));
    if (s->var->type.dtype != s->with->type.dtype || s->var->type.ndim != s->with->type.ndim)
        return err_set(&f->err, DAMO_ERR_TYPE, "copy: cannot swap %s (%s, %d-d) for %s (%s, %d-d)",
                       var_label(s->var, a, sizeof a), damo_dtype_name(s->var->type.dtype),
                       s->var->type.ndim, var_label(s->with, b, sizeof b),
                       damo_dtype_name(s->with->type.dtype), s->with->type.ndim);
    return DAMO_OK;
}

damo_function *damo_function_copy(damo_function *f, const damo_given *swap, size_t n_swap,
                                  int delete_updates)
{
    if (!f)
        return NULL;
    err_clear(&f->err);
    if (n_swap && !swap) {
        err_set(&f->err, DAMO_ERR_INVALID, "copy: swap is NULL");
        return NULL;
    }
    damo_graph *g = f->fg.g;
    size_t n_upd = delete_updates ? 0 : f->n_updates;
    damo_in *ins = calloc(f->n_inputs ? f->n_inputs : 1, sizeof *ins);
    damo_update *upd = calloc(n_upd ? n_upd : 1, sizeof *upd);
    damo_given *giv = calloc(n_swap ? n_swap : 1, sizeof *giv);
    damo_function *c = NULL;
    if (!ins || !upd || !giv) {
        err_set(&f->err, DAMO_ERR_NOMEM, "out of memory copying a function");
        goto done;
    }
    for (size_t i = 0; i < n_swap; i++) {
        if (check_swap(f, &swap[i]) != DAMO_OK)
            goto done;
        giv[i].var = var_of_store(g, swap[i].var->store);
        giv[i].with = var_of_store(g, swap[i].with->store);
        if (!giv[i].var || !giv[i].with) {
            err_copy(&f->err, &g->err);
            goto done;
        }
    }
    for (size_t i = 0; i < f->n_inputs; i++)
        ins[i] = (damo_in){f->inputs[i].var, f->inputs[i].dflt, f->inputs[i].name};
    for (size_t u = 0; u < n_upd; u++) {
        damo_var *target = var_of_store(g, f->upd_store[u]);
        for (size_t i = 0; target && i < n_swap; i++)
            if (giv[i].var == target)
                target = giv[i].with;
        if (!target) {
            err_copy(&f->err, &g->err);
            goto done;
        }
        upd[u] = (damo_update){target, f->fg.outputs[f->n_outputs + u]};
    }
    damo_function_spec spec = {ins, f->n_inputs, f->fg.outputs, f->n_outputs, upd, n_upd,
                               giv, n_swap, f->flags};
    if (!(c = damo_function_new(g, &spec)))
        err_copy(&f->err, &g->err);
done:
    free(ins);
    free(upd);
    free(giv);
    return c;
}
