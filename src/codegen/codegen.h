/*
 * Codegen layer: OpenCL C source for fused elementwise programs, with the
 * launch descriptor that says what each kernel argument is. Makes strings
 * only; calls no OpenCL API and knows nothing about graphs.
 */
#ifndef DAMO_CODEGEN_H
#define DAMO_CODEGEN_H

#include "../scalar/program.h"

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
    CGA_SIZE,    /* elements of the iteration space (vector kernels) */
    CGA_SHAPE,   /* size of dimension `dim` of the iteration space */
    CGA_STRIDE   /* the operand's stride along dimension `dim` */
} cg_arg_kind;

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

#endif
