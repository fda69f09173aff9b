/*
 * Reductions at the scalar level: what each kind computes, the dtypes it
 * gives and accumulates in (Aesara's rules), and the host implementation
 * that constant folding uses. Codegen spells the same combine steps in
 * OpenCL C (codegen/reduce.c).
 */
#ifndef DAMO_SCALAR_REDUCE_H
#define DAMO_SCALAR_REDUCE_H

#include "scalar.h"

typedef enum red_kind {
    RED_SUM, RED_PROD, RED_MEAN, RED_MAX, RED_MIN, RED_ALL, RED_ANY, RED_ARGMAX, RED_ARGMIN,
    RED_COUNT
} red_kind;

const char *red_name(red_kind k);
/* The result dtype of reducing values of dtype `in`: sum and prod give
 * int64 for bools and signed ints, uint64 for unsigned ints, the float's
 * own dtype for floats; mean gives float64 for ints and bools; max and
 * min keep the dtype; argmax and argmin give int64; all and any bool. */
damo_dtype red_out_dtype(red_kind k, damo_dtype in);
/* The dtype the combine runs in: float32 sums and means accumulate in
 * float64 when the device has it (fp64), as Aesara's acc_dtype does;
 * means of integers in float64; max, min and the arg kinds compare in the
 * input's dtype. */
damo_dtype red_acc_dtype(red_kind k, damo_dtype in, int fp64);
/* 0 for the kinds with no value over no elements (max, min, argmax,
 * argmin): reducing nothing with them is an error, as in NumPy. */
int red_has_identity(red_kind k);
/* 1 when the kind tracks an index (argmax, argmin). */
int red_is_arg(red_kind k);

/* A running reduction on the host. Sums are compensated (Kahan). */
typedef struct red_acc {
    hval s, c;      /* value and compensation, in the acc dtype */
    int64_t index;  /* arg kinds: index of the best value so far (-1: none) */
} red_acc;

void red_init(red_kind k, damo_dtype acc, red_acc *a);
/* Adds value v (of dtype `in`) at flat index `index`. */
void red_step(red_kind k, damo_dtype in, damo_dtype acc, red_acc *a, hval v, int64_t index);
/* 1 when the result does not depend on the order values are combined in:
 * integer and bool accumulators (wrapping sums), the arg kinds (the first
 * index wins among equals). Float sums, means, products, max and min
 * (signed zeros) do. */
int red_order_free(red_kind k, damo_dtype acc);
/* Lanes times chains at most, for red_row. */
#define RED_ROW_MAX 128
/* Adds the n values v[j] (flat indices j) of one result in the order a
 * CPU kernel of codegen/reduce.c combines a row in, so that the host gets
 * its bits: with lanes 0 one value after another; else `chains` vectors
 * of `lanes` accumulators take whole blocks, chain 0 the remaining whole
 * vectors, the result the values left one by one, and then each lane (and
 * its compensation, negated) is combined into the result, chain by chain. */
void red_row(red_kind k, damo_dtype in, damo_dtype acc, red_acc *a, const hval *v, int64_t n,
             int lanes, int chains);
/* The result (of dtype red_out_dtype) after `count` values. */
hval red_finish(red_kind k, damo_dtype in, damo_dtype acc, const red_acc *a, int64_t count);

#endif
