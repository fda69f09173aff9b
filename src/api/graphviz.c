/* Graphviz DOT of variables and of compiled functions, whose fused
 * kernels and reductions become clusters titled with their steps. */
#include <stdio.h>
#include <stdlib.h>

#include "../graph/print.h"
#include "api.h"

char *damo_var_to_dot(const damo_var *v)
{
    if (!v)
        return err_set(NULL, DAMO_ERR_INVALID, "var_to_dot: variable is NULL"), NULL;
    strbuf b;
    sb_init(&b);
    damo_var *root = (damo_var *)v;
    return text_result(&b, graph_to_dot(&b, "damo", &root, 1, NULL, &v->g->err), &v->g->err);
}

typedef struct fn_labels {
    const plan *p;
    int *step_of;   /* per node id: its step, or -1 */
    char buf[512];
} fn_labels;

static const char *node_title(const gnode *n, void *ctx)
{
    fn_labels *l = ctx;
    int i = l->step_of[n->id];
    if (i < 0)
        return NULL;
    snprintf(l->buf, sizeof l->buf, "step %d: %s", i, l->p->steps[i].text);
    return l->buf;
}

static const char *root_label(size_t r, void *ctx)
{
    fn_labels *l = ctx;
    if (r < l->p->n_outputs)
        snprintf(l->buf, sizeof l->buf, "output %zu", r);
    else
        snprintf(l->buf, sizeof l->buf, "update of '%s'", update_name(l->p, r - l->p->n_outputs));
    return l->buf;
}

char *damo_function_to_dot(damo_function *f)
{
    if (!f)
        return err_set(NULL, DAMO_ERR_INVALID, "function_to_dot: function is NULL"), NULL;
    const plan *p = f->plan;
    fn_labels l = {p, malloc((p->fg->g->n_nodes + 1) * sizeof *l.step_of), ""};
    if (!l.step_of)
        return err_set(&f->err, DAMO_ERR_NOMEM, "out of memory drawing a graph"), NULL;
    for (size_t k = 0; k < p->fg->g->n_nodes; k++)
        l.step_of[k] = -1;
    for (size_t i = 0; i < p->n_steps; i++)
        l.step_of[p->steps[i].node->id] = (int)i;
    dot_labels labels = {node_title, root_label, &l};
    strbuf b;
    sb_init(&b);
    damo_status st = graph_to_dot(&b, "damo_function", p->fg->outputs, p->n_outputs + p->n_updates,
                                  &labels, &f->err);
    free(l.step_of);
    return text_result(&b, st, &f->err);
}
