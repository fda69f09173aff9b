/*
 * Codegen layer: OpenCL C source for fused elementwise programs, with the
 * launch descriptor that says what each kernel argument is. Makes strings
 * only; calls no OpenCL API and knows nothing about graphs.
 */
#ifndef DAMO_CODEGEN_H
#define DAMO_CODEGEN_H

#include "../scalar/program.h"
#include "../scalar/reduce.h"

/* How a kernel reads an input. Outputs are always whole contiguous arrays
 * of the iteration space's shape, written at their element gid. */
typedef enum cg_access {
    CG_VALUE,    /* a 0-d value passed by value (no buffer) */
    CG_SCALAR,   /* one element for all: every stride is 0 */
    CG_FLAT,     /* element gid: contiguous with the iteration space's shape */
    CG_STRIDED   /* general strides (broadcast dims have stride 0) */
} cg_access;

/* What one kernel argument holds. Operands are numbered inputs first, then
 * outputs; everything but CGA_MEM and CGA_VALUE is a 64-bit integer
 * counted in elements. */
typedef enum cg_arg_kind {
    CGA_MEM,     /* the operand's buffer */
    CGA_OFFSET,  /* the (input) operand's element offset */
    CGA_VALUE,   /* the operand's value, in its dtype */
    CGA_SIZE,    /* elements of the iteration space (vector kernels); a
                  * gather's or scatter's elements per row */
    CGA_SHAPE,   /* size of dimension `dim` of the iteration space */
    CGA_STRIDE,  /* the operand's stride along dimension `dim` */
    CGA_SCRATCH, /* reduction partials: buffer `dim` (0 values, 1 indices) */
    CGA_KSIZE,   /* size of kept dimension `dim` */
    CGA_RSIZE,   /* size of reduced dimension `dim` */
    CGA_KSTRIDE, /* the operand's stride along kept dimension `dim` */
    CGA_RSTRIDE, /* ... along reduced dimension `dim` (CG_INDEX_OPERAND: the
                  * flat index's, for argmax and argmin) */
    CGA_COUNT,   /* elements reduced per result; a scatter's indices */
    CGA_GROUPS,  /* partial results per result */
    CGA_CHUNK,   /* outer reduced iterations per work-item (chunked) */
    CGA_ROWS     /* size of the axis an index vector indexes */
} cg_arg_kind;

#define CG_INDEX_OPERAND (-1)

typedef struct cg_arg {
    cg_arg_kind kind;
    int operand, dim;
} cg_arg;

typedef struct cg_kernel {
    char *source;   /* the program's text; its kernel is named as asked */
    cg_arg *args;   /* in the kernel's parameter order */
    int n_args;
} cg_kernel;

/* The kernel `name` computing p over an ndim iteration space, reading
 * input i as in_modes[i]. With vw > 0 (a program cg_vectorizable accepts,
 * no input CG_STRIDED) each work-item computes vw consecutive elements on
 * vector types, the last one any rest element by element: launch
 * ceil(size / vw) work-items. With vw 0, one work-item per element.
 * Deterministic: the same arguments give the same text, so the program
 * cache hits. DAMO_ERR_NOMEM only. */
damo_status cg_elemwise(const sprog *p, int ndim, const cg_access *in_modes, int vw,
                        const char *name, cg_kernel *out);
/* 1 when every instruction of p computes a float op valid on vectors (the
 * VEC flag) with no conversion of its arguments or result. */
int cg_vectorizable(const sprog *p);
void cg_kernel_free(cg_kernel *k);

/* ---- reductions (reduce.c) ---------------------------------------------- */

typedef enum cg_red_mode {
    CG_RED_ROW,     /* a work-item per result, reducing all its elements */
    CG_RED_PARTIAL, /* groups of `local` work-items per partial result:
                     * launch results x groups x local items */
    CG_RED_FINAL    /* a work-item per result, combining its partials */
} cg_red_mode;

/* A reduction over an iteration space of nk kept and nr reduced
 * dimensions (after merging), results in C order over the kept ones.
 * Operands: the n_in inputs of the prologue (or the one input reduced),
 * the n_epi inputs of the epilogue after its first (the result), then the
 * outputs. The values reduced are the prologue's output (dtype val),
 * combined in acc, finished into out, then given to the epilogue. */
typedef struct cg_reduce_spec {
    red_kind kind;
    damo_dtype val, acc, out;
    const sprog *pro, *epi;     /* NULL: input 0 / the result itself */
    int n_in, n_epi;
    const cg_access *modes;     /* per input: CG_VALUE or CG_STRIDED */
    int nk, nr;
    int vw;                     /* lanes along the innermost reduced
                                 * dimension, where every input has stride
                                 * 1 (0: none) */
    int kvec;                   /* ROW: lanes along the innermost kept
                                 * dimension instead (every input has stride
                                 * 1 there): a work-item per
                                 * cg_reduce_kvec_results(kvec) results,
                                 * launched (kept / ks_last) * ceil(ks_last
                                 * / that) work-items (0: none) */
    cg_red_mode mode;
    int local;                  /* PARTIAL: work-items per group (a power of 2) */
    int interleave;             /* PARTIAL: work-items take every W-th outer
                                 * iteration (GPUs), else a chunk each */
} cg_reduce_spec;

/* 1 when the kind combines on vectors over a float accumulator. */
int cg_reduce_vectorizable(red_kind kind, damo_dtype val, damo_dtype acc, const sprog *pro);
int cg_reduce_kvec_results(int kvec);
/* Vectors of accumulators a CPU row kernel with lanes combines in turn
 * (the host mirrors its order: red_row). */
int cg_reduce_chains(void);
damo_status cg_reduce(const cg_reduce_spec *s, const char *name, cg_kernel *out);

/* ---- copies, gathers and scatters (copy.c) ------------------------------- */

/* dst (operand 0, strided) = or += src (operand 1: CG_VALUE or
 * CG_STRIDED, converted to dst's dtype) over an ndim space. */
typedef struct cg_copy_spec {
    damo_dtype dst, src;
    cg_access src_mode;
    int add;
    int ndim;
} cg_copy_spec;
damo_status cg_copy(const cg_copy_spec *s, const char *name, cg_kernel *out);

/* Gather: out (operand 0, contiguous) = rows of x (operand 1) at idx
 * (operand 2, contiguous); a work-item per element. Scatter: out (operand
 * 0, contiguous) += y (operand 2) at rows idx (operand 1); a work-item per
 * element of a row, adding in index order. ndim: x's axes after the first
 * (merged); strides of x or y along dim 0 step one index, along 1..ndim
 * the row's axes. */
typedef struct cg_gather_spec {
    damo_dtype t, idx;
    int ndim;
    int scatter;
    cg_access y_mode;           /* scatter: CG_VALUE or CG_STRIDED */
} cg_gather_spec;
damo_status cg_gather(const cg_gather_spec *s, const char *name, cg_kernel *out);

#endif
