/* Function handles: making, copying, freeing and looking inside. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

damo_function *function_new(damo_ctx *ctx, plan *pl, unsigned flags, damo_err *e)
{
    damo_function *f = calloc(1, sizeof *f);
    size_t n = pl->n_inputs + 1;
    if (!f || !(f->inputs = calloc(n, sizeof *f->inputs)) || !(f->bound = calloc(n, sizeof *f->bound)) ||
        !(f->num = calloc(n, sizeof *f->num))) {
        if (f) {
            free(f->inputs);
            free(f->bound);
        }
        free(f);
        err_set(e, DAMO_ERR_NOMEM, "out of memory creating a function");
        return NULL;
    }
    f->ctx = ctx;
    f->flags = flags;
    f->plan = pl;
    f->n_inputs = pl->n_inputs;
    for (size_t i = 0; i < f->n_inputs; i++) {
        f->inputs[i].var = pl->fg->inputs[i];
        var_label(f->inputs[i].var, f->inputs[i].label, sizeof f->inputs[i].label);
    }
    return f;
}

void damo_function_free(damo_function *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n_inputs; i++) {
        free(f->inputs[i].name);
        damo_array_release(f->inputs[i].dflt);
        damo_array_release(f->num[i]);
    }
    free(f->inputs);
    free(f->bound);
    free(f->num);
    plan_free(f->plan);
    free(f);
}

damo_function *damo_function_copy(damo_function *f, const damo_swap *swaps, size_t n_swaps,
                                  int delete_updates)
{
    if (!f)
        return err_set(NULL, DAMO_ERR_INVALID, "copy: function is NULL"), NULL;
    err_clear(&f->err);
    if (n_swaps && !swaps)
        return err_set(&f->err, DAMO_ERR_INVALID, "copy: swaps is NULL"), NULL;
    shared_store **from = malloc((n_swaps + 1) * sizeof *from), **to = malloc((n_swaps + 1) * sizeof *to);
    damo_function *c = NULL;
    plan *pl = NULL;
    if (!from || !to) {
        err_set(&f->err, DAMO_ERR_NOMEM, "out of memory copying a function");
        goto done;
    }
    for (size_t i = 0; i < n_swaps; i++) {
        const damo_swap *s = &swaps[i];
        if (!s->from || !s->to) {
            err_set(&f->err, DAMO_ERR_INVALID, "copy: swap %zu names a NULL shared variable", i);
            goto done;
        }
        char a[300];
        snprintf(a, sizeof a, "'%s' for '%s'", s->from->name ? s->from->name : "<unnamed shared>",
                 s->to->name ? s->to->name : "<unnamed shared>");
        if (s->to->ctx != f->ctx) {
            err_set(&f->err, DAMO_ERR_INVALID, "copy: swap %s: it belongs to another context", a);
            goto done;
        }
        if (gtype_check(&s->from->type, s->to->type.dtype, s->to->type.ndim, s->to->type.shape, 1,
                        "copy: swap", a, &f->err) != DAMO_OK)
            goto done;
        if (!plan_uses(f->plan, s->from)) {
            err_set(&f->err, DAMO_ERR_INVALID, "copy: swap %s: the function does not use '%s'", a,
                    s->from->name ? s->from->name : "<unnamed shared>");
            goto done;
        }
        from[i] = s->from;
        to[i] = s->to;
    }
    fn_compile cost = {0};
    if (compile_plan(&pl, f->ctx, f->plan->fg, from, to, n_swaps, !delete_updates, f->flags, &cost,
                     &f->err) != DAMO_OK ||
        !(c = function_new(f->ctx, pl, f->flags, &f->err)))
        goto done;
    pl = NULL;
    c->compile = cost;
    for (size_t i = 0; i < f->n_inputs; i++) {
        c->inputs[i].dflt = damo_array_retain(f->inputs[i].dflt);
        if (f->inputs[i].name && !(c->inputs[i].name = strdup(f->inputs[i].name))) {
            err_set(&f->err, DAMO_ERR_NOMEM, "out of memory copying a function");
            damo_function_free(c);
            c = NULL;
            goto done;
        }
    }
done:
    plan_free(pl);
    free(from);
    free(to);
    return c;
}

const char *damo_function_errmsg(const damo_function *f) { return f ? f->err.msg : ""; }
damo_status damo_function_errcode(const damo_function *f) { return f ? f->err.code : DAMO_ERR_INVALID; }
size_t damo_function_n_inputs(const damo_function *f) { return f ? f->n_inputs : 0; }
size_t damo_function_n_outputs(const damo_function *f) { return f ? f->plan->n_outputs : 0; }
size_t damo_function_n_steps(const damo_function *f) { return f ? f->plan->n_steps : 0; }
size_t damo_function_n_temp_buffers(const damo_function *f) { return f ? f->plan->n_slots : 0; }

static const pstep *step_at(const damo_function *f, size_t i)
{
    return f && i < f->plan->n_steps ? &f->plan->steps[i] : NULL;
}

_Static_assert((int)DAMO_STEP_ELEMWISE == (int)STEP_ELEMWISE && (int)DAMO_STEP_REDUCE == (int)STEP_REDUCE &&
                   (int)DAMO_STEP_BLAS == (int)STEP_BLAS && (int)DAMO_STEP_VIEW == (int)STEP_VIEW &&
                   (int)DAMO_STEP_COPY == (int)STEP_COPY && (int)DAMO_STEP_GATHER == (int)STEP_GATHER &&
                   (int)DAMO_STEP_SCATTER == (int)STEP_SCATTER && (int)DAMO_STEP_HOST == (int)STEP_HOST,
               "step kinds mirror exec's");

damo_step_kind damo_function_step_kind(const damo_function *f, size_t i)
{
    const pstep *s = step_at(f, i);
    return s ? (damo_step_kind)s->kind : DAMO_STEP_ELEMWISE;
}

const char *damo_function_step_text(const damo_function *f, size_t i)
{
    const pstep *s = step_at(f, i);
    return s ? s->text : NULL;
}

const char *damo_function_step_source(const damo_function *f, size_t i)
{
    const pstep *s = step_at(f, i);
    if (s && s->n_variants)
        return s->variants[0].cg.source;
    return s && s->n_gks ? s->gks[0].cg.source : NULL;
}

size_t damo_function_n_kernels(const damo_function *f)
{
    size_t n = 0;
    for (size_t i = 0; f && i < f->plan->n_steps; i++) {
        step_kind k = f->plan->steps[i].kind;
        n += k == STEP_ELEMWISE || k == STEP_REDUCE || k == STEP_COPY || k == STEP_GATHER ||
             k == STEP_SCATTER;
    }
    return n;
}
