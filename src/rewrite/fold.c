#include <stdlib.h>

#include "rewrite.h"

damo_var *fold_apply(damo_graph *g, scalar_op op, damo_dtype cast_to, int n,
                     damo_var *const *in, damo_status *st)
{
    *st = DAMO_OK;
    for (int i = 0; i < n; i++)
        if (in[i]->kind != VAR_CONST)
            return NULL;
    op_operand args[3];
    const gtype *ts[3];
    for (int i = 0; i < n; i++) {
        args[i] = (op_operand){in[i]->type.dtype, in[i]->weak};
        ts[i] = &in[i]->type;
    }
    op_types types;
    gtype out;
    if ((*st = op_infer(op, args, cast_to, &types, &g->err)) != DAMO_OK)
        return NULL;
    if (gtype_broadcast(ts, n, &out, NULL) != DAMO_OK || gtype_static_size(&out) > FOLD_MAX_ELEMENTS)
        return NULL; /* left to graph_apply, which reports a shape error */

    sprog p;
    sprog_init(&p);
    sp_ref refs[3];
    sp_view views[3], res;
    int64_t strides[3][DAMO_MAX_DIMS], out_strides[DAMO_MAX_DIMS];
    for (int i = 0; i < n; i++) {
        refs[i] = (sp_ref){REF_INPUT, sprog_add_input(&p, in[i]->type.dtype)};
        /* C-order strides, 0 on broadcast and missing leading dims */
        int64_t s = 1;
        for (int d = out.ndim - 1; d >= 0; d--) {
            int k = d - (out.ndim - in[i]->type.ndim);
            int64_t size = k >= 0 ? in[i]->type.shape[k] : 1;
            strides[i][d] = size == 1 ? 0 : s;
            s *= size;
        }
        views[i] = (sp_view){in[i]->data, strides[i], 0};
    }
    int64_t s = 1;
    for (int d = out.ndim - 1; d >= 0; d--) {
        out_strides[d] = s;
        s *= out.shape[d];
    }
    int ins = sprog_add_instr(&p, op, types.compute, types.out, n, refs);
    void *data = malloc((size_t)(s ? s : 1) * damo_dtype_size(types.out));
    damo_var *v = NULL;
    if (ins < 0 || !data || sprog_add_output(&p, ins) < 0) {
        *st = err_set(&g->err, DAMO_ERR_NOMEM, "out of memory folding constants");
    } else {
        res = (sp_view){data, out_strides, 0};
        if ((*st = sprog_eval(&p, out.ndim, out.shape, views, &res)) == DAMO_OK) {
            v = graph_const(g, types.out, out.ndim, out.shape, data, types.weak);
            if (!v)
                *st = g->err.code;
        }
    }
    free(data);
    sprog_free(&p);
    return v;
}
