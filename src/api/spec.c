/* Function specs (built call by call) and compiling them: validate,
 * build the function graph, rewrite, fuse, plan. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/grow.h"
#include "api.h"

damo_spec *damo_spec_new(damo_graph *g)
{
    if (!g)
        return err_set(NULL, DAMO_ERR_INVALID, "spec_new: graph is NULL"), NULL;
    damo_spec *s = calloc(1, sizeof *s);
    if (!s)
        return err_set(&g->err, DAMO_ERR_NOMEM, "out of memory creating a spec"), NULL;
    s->g = g;
    return s;
}

void damo_spec_free(damo_spec *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_inputs; i++) {
        free(s->inputs[i].name);
        if (s->inputs[i].has_default && s->inputs[i].dflt.kind == DAMO_VALUE_ARRAY)
            damo_array_release(s->inputs[i].dflt.array);
    }
    free(s->inputs);
    free(s->outputs);
    free(s->upd_var);
    free(s->upd_expr);
    free(s->given_var);
    free(s->given_with);
    free(s);
}

/* Grows the parallel arrays of one list of a spec (b may be NULL) by one
 * entry; both share the capacity *cap. */
static int grow(damo_spec *s, size_t n, size_t *cap, void **a, size_t ea, void **b, size_t eb)
{
    size_t ca = *cap, cb = *cap;
    if (!grow_array(a, &ca, n + 1, ea) || (b && !grow_array(b, &cb, n + 1, eb))) {
        err_set(&s->err, DAMO_ERR_NOMEM, "out of memory building a spec");
        return 0;
    }
    /* both grew from the same capacity to at least n + 1; keep the smaller */
    *cap = b && cb < ca ? cb : ca;
    return 1;
}

/* The spec's sticky error, or a check that v belongs to the spec's graph. */
static damo_status usable(damo_spec *s, const damo_var *v, const char *what)
{
    if (!s)
        return err_set(NULL, DAMO_ERR_INVALID, "%s: spec is NULL", what);
    if (s->err.code)
        return s->err.code;
    if (!v)
        return err_set(&s->err, DAMO_ERR_INVALID, "%s: variable is NULL", what);
    if (v->g != s->g)
        return err_set(&s->err, DAMO_ERR_INVALID, "%s: the variable belongs to another graph",
                       what);
    return DAMO_OK;
}

static damo_status add_input(damo_spec *s, damo_var *v, const char *name, const damo_arg *dflt)
{
    char lab[256];
    if (usable(s, v, "spec_input") != DAMO_OK)
        return s ? s->err.code : DAMO_ERR_INVALID;
    var_label(v, lab, sizeof lab);
    if (v->kind != VAR_INPUT)
        return err_set(&s->err, DAMO_ERR_INVALID,
                       "input %zu (%s) is a %s, not an input variable (use givens to replace it)",
                       s->n_inputs, lab,
                       v->kind == VAR_SHARED ? "shared variable"
                       : v->kind == VAR_CONST ? "constant" : "computed expression");
    if (!dflt && s->n_inputs && s->inputs[s->n_inputs - 1].has_default)
        return err_set(&s->err, DAMO_ERR_INVALID,
                       "input %s has no default but follows an input with a default; inputs with "
                       "defaults must come last", lab);
    if (dflt && dflt->kind == DAMO_VALUE_ARRAY && !dflt->array)
        return err_set(&s->err, DAMO_ERR_INVALID, "default of input %s: the array is NULL", lab);
    name = name ? name : v->name;
    for (size_t j = 0; j < s->n_inputs; j++) {
        const spec_input *o = &s->inputs[j];
        if (o->var == v)
            return err_set(&s->err, DAMO_ERR_INVALID, "input %s is listed twice", lab);
        if (name && o->name && !strcmp(name, o->name))
            return err_set(&s->err, DAMO_ERR_NAME, "two inputs are named '%s'", name);
    }
    if (!grow(s, s->n_inputs, &s->cap_inputs, (void **)&s->inputs, sizeof *s->inputs, NULL, 0))
        return s->err.code;
    spec_input *in = &s->inputs[s->n_inputs];
    memset(in, 0, sizeof *in);
    if (name && !(in->name = strdup(name)))
        return err_set(&s->err, DAMO_ERR_NOMEM, "out of memory building a spec");
    in->var = v;
    if (dflt) {
        in->has_default = 1;
        in->dflt = *dflt;
        in->dflt.name = NULL;
        if (dflt->kind == DAMO_VALUE_ARRAY)
            damo_array_retain(dflt->array);
    }
    s->n_inputs++;
    return DAMO_OK;
}

damo_status damo_spec_input(damo_spec *s, damo_var *v) { return add_input(s, v, NULL, NULL); }

damo_status damo_spec_input_named(damo_spec *s, damo_var *v, const char *name)
{
    return add_input(s, v, name, NULL);
}

damo_status damo_spec_input_default(damo_spec *s, damo_var *v, damo_arg value)
{
    return add_input(s, v, value.name, &value);
}

damo_status damo_spec_output(damo_spec *s, damo_var *v)
{
    if (usable(s, v, "spec_output") != DAMO_OK)
        return s ? s->err.code : DAMO_ERR_INVALID;
    if (!grow(s, s->n_outputs, &s->cap_outputs, (void **)&s->outputs, sizeof *s->outputs, NULL, 0))
        return s->err.code;
    s->outputs[s->n_outputs++] = v;
    return DAMO_OK;
}

damo_status damo_spec_update(damo_spec *s, damo_var *var, damo_var *expr)
{
    char lab[256], ex[256], el[600], sb[128];
    if (usable(s, var, "spec_update") != DAMO_OK || usable(s, expr, "spec_update") != DAMO_OK)
        return s ? s->err.code : DAMO_ERR_INVALID;
    var_label(var, lab, sizeof lab);
    if (var->kind != VAR_SHARED)
        return err_set(&s->err, DAMO_ERR_INVALID,
                       "update of %s: only shared variables can be updated", lab);
    for (size_t j = 0; j < s->n_updates; j++)
        if (s->upd_var[j] == var)
            return err_set(&s->err, DAMO_ERR_INVALID, "%s is updated twice", lab);
    const gtype *x = &expr->type;
    var_label(expr, ex, sizeof ex);
    snprintf(el, sizeof el, "%s (the expression %s, shape %s)", lab, ex,
             gtype_shape_str(x, sb, sizeof sb));
    if (gtype_check(&var->type, x->dtype, x->ndim, x->shape, 0, "update of", el, &s->err))
        return s->err.code;
    if (x->dtype != var->type.dtype && !dtype_can_cast_safely(x->dtype, var->type.dtype))
        return err_set(&s->err, DAMO_ERR_TYPE,
                       "update of %s (%s): the expression %s is %s, which cannot be stored without "
                       "loss (cast it)", lab, damo_dtype_name(var->type.dtype), ex,
                       damo_dtype_name(x->dtype));
    if (!grow(s, s->n_updates, &s->cap_updates, (void **)&s->upd_var, sizeof *s->upd_var,
              (void **)&s->upd_expr, sizeof *s->upd_expr))
        return s->err.code;
    s->upd_var[s->n_updates] = var;
    s->upd_expr[s->n_updates++] = expr;
    return DAMO_OK;
}

damo_status damo_spec_given(damo_spec *s, damo_var *var, damo_var *with)
{
    if (usable(s, var, "spec_given") != DAMO_OK || usable(s, with, "spec_given") != DAMO_OK)
        return s ? s->err.code : DAMO_ERR_INVALID;
    if (!grow(s, s->n_givens, &s->cap_givens, (void **)&s->given_var, sizeof *s->given_var,
              (void **)&s->given_with, sizeof *s->given_with))
        return s->err.code;
    s->given_var[s->n_givens] = var;
    s->given_with[s->n_givens++] = with;
    return DAMO_OK;
}

damo_status damo_spec_flags(damo_spec *s, unsigned flags)
{
    if (!s)
        return err_set(NULL, DAMO_ERR_INVALID, "spec_flags: spec is NULL");
    s->flags = flags;
    return s->err.code;
}

static void mark_var(unsigned char *mark, const damo_var *v)
{
    if (v)
        mark[v->id] = 1;
}

/* Adds to upd (room for every shared variable of the graph after the
 * n_upd explicit ones) the default updates of the shared variables the
 * function reads and does not update: those the outputs, updates and
 * givens reach, then those the added updates reach, to a fixed point.
 * Variables are numbered in creation order, so one sweep from the last
 * down marks everything a marked variable reads. */
static damo_status add_default_updates(const damo_spec *s, fg_update *upd, size_t *n_upd,
                                       damo_err *e)
{
    damo_graph *g = s->g;
    unsigned char *mark = calloc(g->n + 1, 1), *done = calloc(g->n_shared + 1, 1);
    if (!mark || !done) {
        free(mark);
        free(done);
        return err_set(e, DAMO_ERR_NOMEM, "out of memory compiling");
    }
    for (size_t o = 0; o < s->n_outputs; o++)
        mark_var(mark, s->outputs[o]);
    for (size_t u = 0; u < s->n_updates; u++)
        mark_var(mark, s->upd_expr[u]);
    for (size_t k = 0; k < s->n_givens; k++)
        mark_var(mark, s->given_with[k]);
    for (int added = 1; added;) {
        for (size_t i = g->n; i-- > 0;) {
            const damo_var *v = g->vars[i];
            if (mark[i] && v->kind == VAR_APPLY)
                for (int k = 0; k < v->node->n_in; k++)
                    mark_var(mark, v->node->in[k]);
        }
        added = 0;
        for (size_t j = 0; j < g->n_shared; j++) {
            damo_var *v = g->shared[j];
            int explicit_update = 0;
            for (size_t u = 0; u < s->n_updates; u++)
                explicit_update |= s->upd_var[u] == v;
            if (done[j] || !mark[v->id] || !v->default_update || explicit_update)
                continue;
            done[j] = 1;
            added = 1;
            mark_var(mark, v->default_update);
            upd[(*n_upd)++] = (fg_update){v->store, v->default_update, v->type.dtype};
        }
    }
    free(mark);
    free(done);
    return DAMO_OK;
}

/* The function graph of s: cloned, rewritten and fused. */
static damo_status function_graph(const damo_spec *s, fgraph **fg, fn_compile *c, damo_err *e)
{
    damo_ctx *ctx = s->g->ctx;
    damo_var **ins = malloc((s->n_inputs + 1) * sizeof *ins);
    fg_update *upd = malloc((s->n_updates + s->g->n_shared + 1) * sizeof *upd);
    size_t n_upd = s->n_updates;
    damo_status st;
    if (!ins || !upd) {
        st = err_set(e, DAMO_ERR_NOMEM, "out of memory compiling");
        goto done;
    }
    for (size_t i = 0; i < s->n_inputs; i++)
        ins[i] = s->inputs[i].var;
    for (size_t u = 0; u < s->n_updates; u++)
        upd[u] = (fg_update){s->upd_var[u]->store, s->upd_expr[u], s->upd_var[u]->type.dtype};
    if (!(s->flags & DAMO_FN_NO_DEFAULT_UPDATES) &&
        (st = add_default_updates(s, upd, &n_upd, e)) != DAMO_OK)
        goto done;
    fgraph_spec fs = {ins, s->n_inputs, s->outputs, s->n_outputs, upd, n_upd,
                      s->given_var, s->given_with, s->n_givens};
    uint64_t t0 = rt_now_ns();
    if ((st = fgraph_build(fg, s->g, &fs, e)) == DAMO_OK && (st = rewrite_run(*fg, e)) == DAMO_OK) {
        uint64_t t1 = rt_now_ns();
        c->rewrite_ns = t1 - t0;
        if ((st = fuse(*fg, s->flags & DAMO_FN_NO_FUSION, ctx->rt.dev.max_param_size, e)) == DAMO_OK)
            fgraph_seal(*fg);
        c->fusion_ns = rt_now_ns() - t1;
    }
done:
    free(ins);
    free(upd);
    return st;
}

damo_function *damo_compile(const damo_spec *s)
{
    if (!s)
        return err_set(NULL, DAMO_ERR_INVALID, "compile: spec is NULL"), NULL;
    damo_graph *g = s->g;
    err_clear(&g->err);
    if (s->err.code) {
        err_copy(&g->err, &s->err);
        return NULL;
    }
    damo_ctx *ctx = g->ctx;
    fgraph *fg = NULL;
    plan *pl = NULL;
    damo_function *f = NULL;
    fn_compile c = {0};
    const char *env = getenv("DAMO_PROFILE");
    unsigned flags = s->flags | (env && !strcmp(env, "1") ? DAMO_FN_PROFILE : 0);
    if (function_graph(s, &fg, &c, &g->err) != DAMO_OK ||
        compile_plan(&pl, ctx, fg, NULL, NULL, 0, 1, flags, &c, &g->err) != DAMO_OK ||
        !(f = function_new(ctx, pl, flags, &g->err)))
        goto fail;
    pl = NULL;
    f->compile = c;
    for (size_t i = 0; i < s->n_inputs; i++) {
        const spec_input *in = &s->inputs[i];
        fn_input *fi = &f->inputs[i];
        char lab[256];
        var_label(in->var, lab, sizeof lab);
        if (in->name && !(fi->name = strdup(in->name))) {
            err_set(&g->err, DAMO_ERR_NOMEM, "out of memory compiling");
            goto fail;
        }
        if (!in->has_default)
            continue;
        const gtype *t = &fi->var->type;
        fi->dflt = in->dflt.kind == DAMO_VALUE_ARRAY
                       ? fit_array(ctx, in->dflt.array, t, "default of input", lab, &g->err)
                       : number_array(ctx, &in->dflt, t, NULL, "default of input", lab, &g->err);
        if (!fi->dflt)
            goto fail;
    }
    fgraph_release(fg);
    return f;
fail:
    damo_function_free(f);
    plan_free(pl);
    fgraph_release(fg);
    return NULL;
}

damo_function *damo_function_simple(damo_graph *g, size_t n_inputs, damo_var *const *inputs,
                                    size_t n_outputs, damo_var *const *outputs, unsigned flags)
{
    if (!g)
        return err_set(NULL, DAMO_ERR_INVALID, "function_simple: graph is NULL"), NULL;
    if ((n_inputs && !inputs) || (n_outputs && !outputs)) {
        err_set(&g->err, DAMO_ERR_INVALID, "function_simple: NULL list of inputs or outputs");
        return NULL;
    }
    damo_spec *s = damo_spec_new(g);
    for (size_t i = 0; s && i < n_inputs; i++)
        damo_spec_input(s, inputs[i]);
    for (size_t o = 0; s && o < n_outputs; o++)
        damo_spec_output(s, outputs[o]);
    if (s)
        damo_spec_flags(s, flags);
    damo_function *f = s ? damo_compile(s) : NULL;
    damo_spec_free(s);
    return f;
}
