/* debugprint of variables and of compiled functions: the optimized graph,
 * then the schedule the plan runs. */
#include <stdio.h>
#include <stdlib.h>

#include "../graph/print.h"
#include "api.h"

const char *step_kind_name(step_kind k)
{
    static const char *const names[] = {
        [STEP_ELEMWISE] = "elemwise", [STEP_REDUCE] = "reduce", [STEP_BLAS] = "blas",
        [STEP_VIEW] = "view",         [STEP_COPY] = "copy",     [STEP_GATHER] = "gather",
        [STEP_SCATTER] = "scatter",   [STEP_HOST] = "host"};
    return names[k];
}

char *text_result(strbuf *b, damo_status st, damo_err *e)
{
    char *s = st == DAMO_OK ? sb_take(b) : NULL;
    if (st == DAMO_OK && !s)
        err_set(e, DAMO_ERR_NOMEM, "out of memory formatting text");
    sb_free(b);
    return s;
}

static char *finish(strbuf *b, gprint *pr, damo_status st, damo_err *e)
{
    gprint_free(pr);
    return text_result(b, st, e);
}

char *damo_debugprint(const damo_var *v)
{
    if (!v)
        return err_set(NULL, DAMO_ERR_INVALID, "debugprint: variable is NULL"), NULL;
    strbuf b;
    gprint pr;
    sb_init(&b);
    damo_status st = gprint_init(&pr, v->g, &b, &v->g->err);
    if (st == DAMO_OK)
        st = gprint_tree(&pr, v, NULL, &v->g->err);
    return finish(&b, &pr, st, &v->g->err);
}

const char *update_name(const plan *p, size_t u)
{
    return p->targets[u]->name ? p->targets[u]->name : "<unnamed shared>";
}

/* What value v of the plan is, after its id. */
static void value_text(strbuf *b, gprint *pr, const plan *p, int v)
{
    const pvalue *pv = &p->vals[v];
    char id[32];
    sb_printf(b, "%s ", gprint_id(pr, pv->var, id, sizeof id));
    switch (pv->kind) {
    case VAL_INPUT:
        sb_printf(b, "input %d", pv->index);
        break;
    case VAL_CONST:
        sb_puts(b, "constant");
        break;
    case VAL_SHARED:
        sb_printf(b, "shared '%s'", p->stores[pv->index]->name ? p->stores[pv->index]->name : "<unnamed shared>");
        break;
    case VAL_TEMP:
        sb_printf(b, "temp in buffer slot %d", pv->index);
        break;
    case VAL_VIEW:
        sb_printf(b, "view of %s", gprint_id(pr, p->vals[pv->root].var, id, sizeof id));
        break;
    case VAL_RESULT:
        sb_puts(b, "result");
        break;
    case VAL_INTO:
        sb_printf(b, "computed in the memory of %s, which is updated there in place",
                  gprint_id(pr, p->vals[pv->index].var, id, sizeof id));
        break;
    }
    for (size_t r = 0; r < p->n_outputs + p->n_updates; r++) {
        if (p->result_val[r] != v)
            continue;
        if (r < p->n_outputs)
            sb_printf(b, ", output %zu", r);
        else
            sb_printf(b, ", update of '%s'", update_name(p, r - p->n_outputs));
    }
}

static void values(strbuf *b, gprint *pr, const plan *p, const char *what, const int *vals, int n)
{
    sb_printf(b, "      %s:", what);
    for (int k = 0; k < n; k++) {
        sb_puts(b, k ? "; " : " ");
        value_text(b, pr, p, vals[k]);
    }
    sb_puts(b, "\n");
}

static void schedule(strbuf *b, gprint *pr, const plan *p)
{
    sb_printf(b, "schedule: %zu step%s, %zu temp buffer%s\n", p->n_steps, p->n_steps == 1 ? "" : "s",
              p->n_slots, p->n_slots == 1 ? "" : "s");
    for (size_t i = 0; i < p->n_steps; i++) {
        const pstep *s = &p->steps[i];
        sb_printf(b, "  step %zu  %s  %s\n      ops: ", i, step_kind_name(s->kind), s->text);
        op_label(b, s->node);
        sb_puts(b, "\n");
        values(b, pr, p, "in", s->in, s->n_in);
        values(b, pr, p, "out", s->out, s->n_out);
    }
    for (size_t u = 0; u < p->n_updates; u++) {
        char id[32];
        sb_printf(b, "update of '%s' <- %s: %s\n", update_name(p, u),
                  gprint_id(pr, p->vals[p->result_val[p->n_outputs + u]].var, id, sizeof id),
                  plan_update_how(p, u));
    }
}

char *damo_function_debugprint(damo_function *f)
{
    if (!f)
        return err_set(NULL, DAMO_ERR_INVALID, "function_debugprint: function is NULL"), NULL;
    const plan *p = f->plan;
    damo_err *e = &f->err;
    strbuf b;
    gprint pr;
    sb_init(&b);
    sb_printf(&b, "function: %zu input%s, %zu output%s, %zu update%s\noptimized graph:\n",
              p->n_inputs, p->n_inputs == 1 ? "" : "s", p->n_outputs, p->n_outputs == 1 ? "" : "s",
              p->n_updates, p->n_updates == 1 ? "" : "s");
    damo_status st = gprint_init(&pr, p->fg->g, &b, e);
    for (size_t r = 0; r < p->n_outputs + p->n_updates && st == DAMO_OK; r++) {
        char note[300];
        if (r < p->n_outputs)
            snprintf(note, sizeof note, "-> output %zu", r);
        else
            snprintf(note, sizeof note, "-> update of '%s'", update_name(p, r - p->n_outputs));
        st = gprint_tree(&pr, p->fg->outputs[r], note, e);
    }
    if (st == DAMO_OK)
        schedule(&b, &pr, p);
    return finish(&b, &pr, st, e);
}
