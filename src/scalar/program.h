/*
 * A fused elementwise program: a straight-line sequence of scalar ops over
 * inputs, with one or more outputs. Codegen turns it into one OpenCL
 * kernel; sprog_eval runs it on the host (constant folding, small work).
 * Every value is computed per element of one iteration space.
 */
#ifndef DAMO_SCALAR_PROGRAM_H
#define DAMO_SCALAR_PROGRAM_H

#include "scalar.h"

typedef enum sp_ref_kind { REF_INPUT, REF_INSTR } sp_ref_kind;

typedef struct sp_ref {
    sp_ref_kind kind;
    int index;
} sp_ref;

typedef struct sp_instr {
    scalar_op op;
    op_types types;       /* compute and output dtype, argument conversions */
    int n_args;
    sp_ref args[3];
} sp_instr;

typedef struct sprog {
    int n_in, n_instr, n_out;
    size_t cap_in, cap_instr, cap_out;
    damo_dtype *in_dtype;
    sp_instr *instr;
    int *out;             /* instruction index of each output */
} sprog;

void sprog_init(sprog *p);
void sprog_free(sprog *p);
/* Each adder returns the new item's index, or -1 when out of memory. */
int sprog_add_input(sprog *p, damo_dtype dtype);
int sprog_add_instr(sprog *p, scalar_op op, const op_types *types, int n_args,
                    const sp_ref *args);
int sprog_add_output(sprog *p, int instr);
damo_dtype sprog_ref_dtype(const sprog *p, sp_ref r);
damo_dtype sprog_out_dtype(const sprog *p, int o);
/* 1 when an instruction of p is op. */
int sprog_has_op(const sprog *p, scalar_op op);
/* 1 when the program computes in float64 anywhere (needs cl_khr_fp64). */
int sprog_uses_fp64(const sprog *p);
/* 1 when every instruction gives the same bits on a device with float32
 * guarantees fp32 as on the host (op_exact). */
int sprog_exact(const sprog *p, unsigned fp32);
/* The host evaluator's estimated time per element of p, in ns: 0.5 an op,
 * plus what the calls of kernels/ functions in its text cost (8 for each
 * of fmath.h's, 20-200 for philox.h's draws). Measured here in blocks of
 * 400 elements: arithmetic 0.2-0.3 ns, exp 2.8, log1p 3.6, softplus (four
 * calls) 26. */
double sprog_host_ns(const sprog *p);
/* 1 when input i is an index input: read as argument c of an INDEX_C op,
 * its value at an element is the element's position in the input's own
 * layout (offset + sum of index * stride), never a load from memory. */
int sprog_in_is_index(const sprog *p, int i);
/* dst = the part of p that computes the outputs o with keep[o] set, in
 * order, over only the inputs it reads: dst's input i is p's input
 * in_map[i] (in_map: room for p->n_in entries), and its instruction j p's
 * instr_map[j] (when instr_map is not NULL; room for p->n_instr).
 * DAMO_ERR_NOMEM only. */
damo_status sprog_subset(const sprog *p, const unsigned char *keep, sprog *dst, int *in_map,
                         int *instr_map);
/* How many instructions that are not cheap (every op but the IEEE-exact
 * ones) output o needs together with some other output: the work
 * computing o apart from the others would repeat. -1 when out of memory. */
int sprog_shared_costly(const sprog *p, int o);
/* dst = p with input i renumbered in_new[i] (a permutation).
 * DAMO_ERR_NOMEM only. */
damo_status sprog_permute(const sprog *p, const int *in_new, sprog *dst);

/* Where one operand of sprog_eval lives: element (i0..ik) is at
 * data[offset + sum(i_d * strides[d])] (strides in elements, 0 to
 * broadcast). */
typedef struct sp_view {
    void *data;
    const int64_t *strides;
    int64_t offset;
} sp_view;

/* What sprog_eval keeps from one call of a program to the next, so that
 * a call in a loop allocates nothing, fills the block of a broadcast input
 * (a constant, a scalar) only when its value changed, and computes what
 * depends only on such inputs only when one of them changed. All zeros
 * is empty; sp_work_free releases it. One work serves one program, in one
 * call at a time. */
typedef struct sp_work {
    const sprog *p;       /* the program the memory is laid out for */
    int bs;               /* elements per block */
    hval *mem;            /* per input and instruction a block, 3 for
                           * conversions, then the fields below */
    const hval **val;     /* per input and instruction: its block's values */
    hval *held;           /* per input: the value its block holds copies of */
    int *held_n;          /* per input and instruction: how many elements
                           * of its block hold a uniform value (0: none) */
    unsigned char *flags; /* per input and instruction (program.c) */
    struct sp_exec *exec; /* per instruction: how it runs (program.c) */
} sp_work;

void sp_work_free(sp_work *w);

/* Runs p on the host over the iteration space `shape` (ndim dims), with
 * the caller's work w (NULL: a temporary one). DAMO_ERR_NOMEM only. */
damo_status sprog_eval(const sprog *p, sp_work *w, int ndim, const int64_t *shape,
                       const sp_view *in, const sp_view *out);

#endif
