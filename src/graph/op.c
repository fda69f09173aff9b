/* The op registry: elementwise entries generated from ops.def, then the
 * ops written out here. */
#include "op.h"

#include <stdio.h>
#include <stdlib.h>


damo_status elemwise_types(const gnode *n, op_types *t, damo_err *e)
{
    op_operand args[3];
    for (int i = 0; i < n->n_in; i++)
        args[i] = (op_operand){n->in[i]->type.dtype, n->in[i]->weak};
    return op_infer(op_scalar(n->op), args, n->params.dtype, t, e);
}

/* NumPy 2 refuses arithmetic with a Python integer the array's integer
 * dtype cannot hold (comparisons and clip bounds never get here: the
 * builders rewrite them), and integers to negative integer powers. */
static damo_status check_int_constants(const gnode *n, const op_types *t, damo_err *e)
{
    if (dtype_kind_of(t->compute) != KIND_INT && dtype_kind_of(t->compute) != KIND_UINT)
        return DAMO_OK;
    const char *name = op_get(op_scalar(n->op))->name;
    for (int k = 0; k < n->n_in; k++) {
        const damo_var *c = n->in[k];
        if (c->kind != VAR_CONST)
            continue;
        if (c->weak == WEAK_INT) {
            int64_t v = hval_load(DAMO_INT64, c->data, 0).i;
            if (!dtype_holds_int(t->compute, v))
                return err_set(e, DAMO_ERR_OVERFLOW,
                               "%s: the C integer %lld is out of bounds for %s (NumPy 2 raises "
                               "OverflowError; cast one operand first)",
                               name, (long long)v, damo_dtype_name(t->compute));
        }
        if (n->op == OP_POW && k == 1 && dtype_kind_of(c->type.dtype) == KIND_INT) {
            int64_t size = gtype_static_size(&c->type);
            for (int64_t i = 0; i < size; i++)
                if (hval_load(c->type.dtype, c->data, i).i < 0)
                    return err_set(e, DAMO_ERR_INVALID,
                                   "pow: integers to negative integer powers are not allowed "
                                   "(as in NumPy; use a float base)");
        }
    }
    return DAMO_OK;
}

static damo_status ew_infer(const gnode *n, gtype *types, weak_kind *weak, damo_err *e)
{
    op_types t;
    if (elemwise_types(n, &t, e) != DAMO_OK || check_int_constants(n, &t, e) != DAMO_OK)
        return e->code;
    const gtype *ts[3];
    for (int i = 0; i < n->n_in; i++)
        ts[i] = &n->in[i]->type;
    int bad = 0;
    if (gtype_broadcast(ts, n->n_in, &types[0], &bad) != DAMO_OK) {
        char msg[1024] = "", lab[256], shp[128];
        size_t len = 0;
        for (int i = 0; i < n->n_in && len < sizeof msg; i++)
            len += (size_t)snprintf(msg + len, sizeof msg - len, "%s%s has shape %s",
                                    i ? ", " : "", var_label(n->in[i], lab, sizeof lab),
                                    gtype_shape_str(ts[i], shp, sizeof shp));
        return err_set(e, DAMO_ERR_SHAPE,
                       "%s: shapes cannot be broadcast together (dimension %d of the result): %s",
                       op_get(op_scalar(n->op))->name, bad, msg);
    }
    types[0].dtype = t.out;
    weak[0] = t.weak;
    return DAMO_OK;
}

/* C-order strides of an operand of type `t` read in the iteration space
 * `out`: 0 along broadcast and missing leading dimensions. */
static void broadcast_strides(const gtype *t, const gtype *out, int64_t *strides)
{
    int64_t s = 1;
    for (int d = out->ndim - 1; d >= 0; d--) {
        int k = d - (out->ndim - t->ndim);
        int64_t size = k >= 0 ? t->shape[k] : 1;
        strides[d] = size == 1 ? 0 : s;
        s *= size;
    }
}

static damo_status ew_host(const gnode *n, void *const *in, void *const *out, damo_err *e)
{
    op_types t;
    if (elemwise_types(n, &t, e) != DAMO_OK)
        return e->code;
    const gtype *ot = &n->out[0]->type;
    sprog p;
    sprog_init(&p);
    sp_ref refs[3];
    sp_view views[3], res;
    int64_t strides[3][DAMO_MAX_DIMS], out_strides[DAMO_MAX_DIMS];
    damo_status st = DAMO_OK;
    for (int i = 0; i < n->n_in && st == DAMO_OK; i++) {
        refs[i] = (sp_ref){REF_INPUT, sprog_add_input(&p, n->in[i]->type.dtype)};
        broadcast_strides(&n->in[i]->type, ot, strides[i]);
        views[i] = (sp_view){in[i], strides[i], 0};
        st = refs[i].index < 0 ? DAMO_ERR_NOMEM : DAMO_OK;
    }
    broadcast_strides(ot, ot, out_strides);
    int ins = st == DAMO_OK ? sprog_add_instr(&p, op_scalar(n->op), &t, n->n_in, refs) : -1;
    if (ins < 0 || sprog_add_output(&p, ins) < 0) {
        st = err_set(e, DAMO_ERR_NOMEM, "out of memory evaluating %s on the host", op_info_of(n->op)->name);
    } else {
        res = (sp_view){out[0], out_strides, 0};
        if ((st = sprog_eval(&p, NULL, ot->ndim, ot->shape, views, &res)) != DAMO_OK)
            err_set(e, st, "out of memory evaluating %s on the host", op_info_of(n->op)->name);
    }
    sprog_free(&p);
    return st;
}

static void prog_free(fused_prog **fp)
{
    if (*fp) {
        sprog_free(&(*fp)->prog);
        free((*fp)->instr_var);
        free(*fp);
        *fp = NULL;
    }
}

void fused_params_free(op_params *p)
{
    prog_free(&p->fused);
    prog_free(&p->epilogue);
}

void node_sizes(const gnode *n, int ndim, int first, const int64_t *values, int64_t *out)
{
    for (int d = 0, k = 0; d < ndim; d++) {
        int64_t s = n->params.shape[d];
        if (s == SHAPE_FROM_INPUT) {
            const damo_var *v = n->in[first + k];
            if (values)
                s = values[k];
            else if (v->kind == VAR_CONST)
                s = hval_convert(v->type.dtype, DAMO_INT64, hval_load(v->type.dtype, v->data, 0)).i;
            else
                s = DAMO_DIM_UNKNOWN;
            k++;
        }
        out[d] = s;
    }
}

static const op_info registry[OP_COUNT] = {
#define DAMO_OP(ID, nm, ar, ...)                                                         \
    [OP_##ID] = {.name = #nm, .arity = ar, .n_out = 1, .flags = OPF_ELEMWISE,              \
                 .infer = ew_infer, .host = ew_host, .grad = elemwise_grad},
#include "../scalar/ops.def"
#undef DAMO_OP
    [OP_FUSED] = {.name = "fused", .arity = -1, .params_free = fused_params_free},
#define FACETS(f) .infer = f##_infer, .host = f##_host
    [OP_REDUCE] = {.name = "reduce", .arity = -1, .n_out = 1, FACETS(reduce), .grad = reduce_grad,
                   .params_free = fused_params_free},
    [OP_DIMSHUFFLE] = {.name = "dimshuffle", .arity = 1, .n_out = 1, .flags = OPF_VIEW,
                       FACETS(dimshuffle), .grad = dimshuffle_grad},
    [OP_RESHAPE] = {.name = "reshape", .arity = -1, .n_out = 1, .flags = OPF_VIEW, FACETS(reshape), .grad = reshape_grad},
    [OP_SHAPE] = {.name = "shape", .arity = 1, .n_out = 1, FACETS(shape)},
    [OP_SHAPE_I] = {.name = "shape_i", .arity = 1, .n_out = 1, FACETS(shape_i)},
    [OP_ALLOC] = {.name = "alloc", .arity = -1, .n_out = 1, .flags = OPF_VIEW, FACETS(alloc), .grad = alloc_grad},
    [OP_ARANGE] = {.name = "arange", .arity = 3, .n_out = 1, FACETS(arange)},
    [OP_EYE] = {.name = "eye", .arity = -1, .n_out = 1, FACETS(eye)},
    [OP_CONCAT] = {.name = "concatenate", .arity = -1, .n_out = 1, FACETS(concat), .grad = concat_grad},
    [OP_SUBTENSOR] = {.name = "subtensor", .arity = 1, .n_out = 1, .flags = OPF_VIEW,
                      FACETS(subtensor), .grad = subtensor_grad},
    [OP_SET_SUBTENSOR] = {.name = "set_subtensor", .arity = 2, .n_out = 1, FACETS(set_subtensor), .grad = set_subtensor_grad},
    [OP_TAKE] = {.name = "take", .arity = 2, .n_out = 1, FACETS(take), .grad = take_grad},
    [OP_INC_TAKE] = {.name = "inc_take", .arity = 3, .n_out = 1, FACETS(inc_take), .grad = inc_take_grad},
    [OP_DOT] = {.name = "dot", .arity = 2, .n_out = 1, FACETS(dot), .grad = dot_grad},
    [OP_GEMM] = {.name = "gemm", .arity = 5, .n_out = 1, FACETS(gemm)},
    [OP_PERMUTATION] = {.name = "permutation", .arity = 3, .n_out = 1, .flags = OPF_IMPURE,
                        .infer = permutation_infer},
    [OP_INDEX_GRID] = {.name = "index_grid", .arity = -1, .n_out = 1, .flags = OPF_VIEW,
                       .infer = alloc_infer},
#undef FACETS
};

const op_info *op_info_of(op_id op) { return (unsigned)op < OP_COUNT ? &registry[op] : NULL; }
