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
#define DAMO_OP(ID, name, arity, rule, flags, F, I, U, B) SOP_##ID,
#include "ops.def"
#undef DAMO_OP
    SOP_COUNT
} scalar_op;

typedef enum op_rule {
    RULE_SAME, RULE_FLOAT, RULE_DIV, RULE_CMP, RULE_PRED, RULE_BITS, RULE_SWITCH, RULE_CAST,
    RULE_FIRST
} op_rule;

/* Flags of an op line (see ops.def). */
enum {
    EXACT = 1u << 0,     /* float form identical on every device and the host */
    EXACT_CR = 1u << 1,  /* ... where division and sqrt are correctly rounded */
    BOOL_INT8 = 1u << 2, /* bools compute in int8 */
    VEC = 1u << 3,       /* the float form is valid on vector types */
    INDEX_C = 1u << 4,   /* argument c is the element's index in its own
                          * shape, not a value loaded (random draws) */
    FMATH = 1u << 5,     /* float64 form is kernels/fmath.h's: exact, and
                          * scalar only (the vector form is the device's) */
    PASS_A = 1u << 6     /* the result is argument a, unchanged before its
                          * conversion to the output dtype */
};

/* A host implementation over n elements: r[j] = op(a[j], b[j], c[j]),
 * arguments held in the compute dtype's class (see hval), results in the
 * same class (not yet wrapped to the dtype's width: op_wrap_n does that).
 * Arguments an op does not take may point anywhere readable for n. */
typedef void (*op_host_fn)(hval *r, const hval *a, const hval *b, const hval *c, int n);

typedef struct op_def {
    const char *name;
    int arity;
    op_rule rule;
    unsigned flags;
    /* expression text per kind (float, int, uint, bool); read through
     * op_cl_text, which maps "NA" to NULL */
    const char *cl[4];
    /* host implementation per class: float32, float64, int, uint, bool */
    op_host_fn host[5];
} op_def;

const op_def *op_get(scalar_op op);
/* OpenCL expression of op for compute dtype T, or NULL where op does not
 * compute in T's kind. */
const char *op_cl_text(scalar_op op, damo_dtype compute);
/* 1 when op computing in `compute` gives the same bits on a device with
 * float32 guarantees `fp32` as on the host. */
int op_exact(scalar_op op, damo_dtype compute, unsigned fp32);

/* One operand's type as the rules see it: a dtype plus NEP 50 weakness. */
typedef struct op_operand {
    damo_dtype dtype;
    weak_kind weak;
} op_operand;

typedef struct op_types {
    damo_dtype compute;   /* T: the expression's type */
    damo_dtype out;
    weak_kind weak;       /* the result is weak when every input is */
    damo_dtype via[3];    /* each argument is converted to via[k], then to
                           * T (a switch reads its condition as a bool) */
} op_types;

/* Applies op's rule to its operands (cast_to is used by RULE_CAST).
 * DAMO_ERR_TYPE with a message naming the op and dtypes when the rule
 * rejects them (bitwise ops on floats, neg of a bool). */
damo_status op_infer(scalar_op op, const op_operand *args, damo_dtype cast_to,
                     op_types *out, damo_err *e);

/* Converts the n values v of argument k, of dtype `from`, as op_infer's
 * types say: returns v itself when nothing changes, else tmp (room for n)
 * holding them converted. */
const hval *op_arg_convert_n(const op_types *t, int k, damo_dtype from, const hval *v, hval *tmp,
                             int n);
/* Evaluates op on values already converted to the compute dtype. */
hval op_eval(scalar_op op, damo_dtype compute, hval a, hval b, hval c);
/* op's host form computing in `compute` (over n elements into r, which
 * must not be a, b or c), and what wraps its n results to an integer
 * compute dtype's width (nothing for floats): op_eval does both for one
 * element; the host evaluator looks the function up once per program. */
op_host_fn op_host(scalar_op op, damo_dtype compute);
void op_wrap_n(damo_dtype compute, hval *r, int n);

/* The shared integer helpers (kernels/intmath.h) as OpenCL source, for
 * kernels whose expressions call them. */
extern const char scalar_intmath_cl[];
/* Philox4x32-10 and the random bits of the RAND_* ops (kernels/philox.h)
 * as OpenCL source, for kernels that draw numbers. */
extern const char scalar_philox_cl[];
/* float64 log, log1p, exp and a NaN with IEEE arithmetic only
 * (kernels/fmath.h) as OpenCL source, for float64 kernels computing them
 * and for philox.h's float64 part. */
extern const char scalar_fmath_cl[];

#endif
