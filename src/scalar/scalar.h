/*
 * Scalar layer: the elementwise op table (ops.def) with its type rules,
 * OpenCL expressions and host implementations, and the fused elementwise
 * program that codegen turns into a kernel and the host evaluates.
 * No graphs, no OpenCL calls.
 */
#ifndef DAMO_SCALAR_H
#define DAMO_SCALAR_H

#include "../common/dtype.h"
#include "../common/err.h"

typedef enum scalar_op {
#define DAMO_OP(ID, name, arity, rule, F, I, U, B) OP_##ID,
#include "ops.def"
#undef DAMO_OP
    OP_COUNT
} scalar_op;

typedef enum op_rule {
    RULE_SAME, RULE_FLOAT, RULE_CMP, RULE_PRED, RULE_BITS, RULE_SWITCH, RULE_CAST
} op_rule;

/* A host implementation: arguments held in the compute dtype's class (see
 * hval), result in the same class. */
typedef hval (*op_host_fn)(hval a, hval b, hval c);

typedef struct op_def {
    const char *name;
    int arity;
    op_rule rule;
    /* expression text per kind (float, int, uint, bool); read through
     * op_cl_text, which maps the never-used "NA" to NULL */
    const char *cl[4];
    /* host implementation per class: float32, float64, int, uint, bool */
    op_host_fn host[5];
} op_def;

const op_def *op_get(scalar_op op);
/* OpenCL expression of op for compute dtype T, or NULL where the rule
 * never computes in T's kind. */
const char *op_cl_text(scalar_op op, damo_dtype compute);
/* Looks up an op by its name ("add"); OP_COUNT when unknown. */
scalar_op op_by_name(const char *name);

/* One operand's type as the rules see it: a dtype plus NEP 50 weakness. */
typedef struct op_operand {
    damo_dtype dtype;
    weak_kind weak;
} op_operand;

typedef struct op_types {
    damo_dtype compute;   /* T: every argument is converted to it */
    damo_dtype out;
    weak_kind weak;       /* the result is weak when every input is */
} op_types;

/* Applies op's rule to its operands (cast_to is used by RULE_CAST).
 * DAMO_ERR_TYPE with a message naming the op and dtypes when the rule
 * rejects them (bitwise ops on floats). */
damo_status op_infer(scalar_op op, const op_operand *args, damo_dtype cast_to,
                     op_types *out, damo_err *e);

/* Evaluates op on values already converted to the compute dtype. */
hval op_eval(scalar_op op, damo_dtype compute, hval a, hval b, hval c);

#endif
