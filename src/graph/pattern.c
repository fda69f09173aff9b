/* Shapes of expressions that both the rewrite rules and the gradient
 * recognise, so that the two agree on what they stand for. */
#include "op.h"

int var_const_is(const damo_var *v, double value)
{
    if (v->kind != VAR_CONST)
        return 0;
    int64_t size = gtype_static_size(&v->type);
    for (int64_t i = 0; i < size; i++)
        if (hval_to_double(v->type.dtype, hval_load(v->type.dtype, v->data, i)) != value)
            return 0;
    return 1;
}

gnode *var_producer(const damo_var *v, op_id op)
{
    return v->kind == VAR_APPLY && v->node->op == op ? v->node : NULL;
}

int sigmoid_pattern(const damo_var *v, damo_var **a, damo_var **b)
{
    gnode *n = var_producer(v, OP_SIGMOID);
    if (n) {
        *a = n->in[0];
        *b = NULL;
        return 1;
    }
    gnode *div = var_producer(v, OP_TRUE_DIV), *add = div ? var_producer(div->in[1], OP_ADD) : NULL;
    if (!add || !var_const_is(div->in[0], 1))
        return 0;
    for (int k = 0; k < 2; k++) {
        gnode *ex = var_producer(add->in[1 - k], OP_EXP);
        if (!var_const_is(add->in[k], 1) || !ex)
            continue;
        gnode *ng = var_producer(ex->in[0], OP_NEG), *sub = var_producer(ex->in[0], OP_SUB);
        gnode *ng2 = sub ? var_producer(sub->in[0], OP_NEG) : NULL;
        if (ng) {
            *a = ng->in[0];
            *b = NULL;
            return 1;
        }
        if (ng2) {
            *a = ng2->in[0];
            *b = sub->in[1];
            return 1;
        }
    }
    return 0;
}

int log_sigmoid_pattern(const damo_var *v, damo_var **a, damo_var **b)
{
    gnode *lg = var_producer(v, OP_LOG);
    if (!lg)
        return 0;
    if (sigmoid_pattern(lg->in[0], a, b))
        return 1;
    gnode *sub = var_producer(lg->in[0], OP_SUB);
    if (sub && var_const_is(sub->in[0], 1) && sigmoid_pattern(sub->in[1], a, b))
        return -1;
    return 0;
}
