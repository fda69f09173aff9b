/* Evaluating a node whose inputs are all constants, through its op's host
 * facet: constant folding at compile time, and C literals at build time. */
#include <stdlib.h>

#include "graph.h"
#include "op.h"

/* Ops with more outputs than this are never folded. */
#define FOLD_MAX_OUTPUTS 8

int graph_fold(damo_graph *g, const gnode *n, damo_var **out)
{
    const op_info *info = op_info_of(n->op);
    if (!info->host || (info->flags & OPF_IMPURE))
        return 0;
    for (int i = 0; i < n->n_in; i++)
        if (n->in[i]->kind != VAR_CONST)
            return 0;
    void *data[FOLD_MAX_OUTPUTS] = {0};
    if (n->n_out > FOLD_MAX_OUTPUTS)
        return 0;
    for (int o = 0; o < n->n_out; o++) {
        int64_t size = gtype_static_size(&n->out[o]->type);
        if (size < 0 || size > FOLD_MAX_ELEMENTS)
            return 0;
    }
    void *in[3] = {NULL, NULL, NULL};
    void **ins = n->n_in <= 3 ? in : malloc((size_t)n->n_in * sizeof *ins);
    int rc = 1;
    if (!ins)
        rc = -1;
    for (int i = 0; rc > 0 && i < n->n_in; i++)
        ins[i] = n->in[i]->data;
    for (int o = 0; rc > 0 && o < n->n_out; o++) {
        const gtype *t = &n->out[o]->type;
        if (!(data[o] = malloc((size_t)gtype_static_size(t) * damo_dtype_size(t->dtype) + 1)))
            rc = -1;
    }
    if (rc < 0)
        err_set(&g->err, DAMO_ERR_NOMEM, "out of memory folding constants");
    else if (info->host(n, ins, data, &g->err) != DAMO_OK)
        rc = -1;
    damo_var *res[FOLD_MAX_OUTPUTS];
    for (int o = 0; rc > 0 && o < n->n_out; o++) {
        const gtype *t = &n->out[o]->type;
        if (!(res[o] = graph_const(g, t->dtype, t->ndim, t->shape, data[o], n->out[o]->weak)))
            rc = -1;
    }
    for (int o = 0; rc > 0 && o < n->n_out; o++)
        out[o] = res[o];
    for (int o = 0; o < n->n_out; o++)
        free(data[o]);
    if (ins != in)
        free(ins);
    return rc;
}
