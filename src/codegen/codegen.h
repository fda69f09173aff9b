/*
 * Codegen layer: OpenCL C source for fused elementwise programs. Makes
 * strings only; calls no OpenCL API and knows nothing about graphs.
 *
 * Kernel arguments, in order:
 *   for each input i:  __global const Ti *in_i, long in_i_off
 *   for each output o: __global To *out_o, long out_o_off
 *   long n                        (elements of the iteration space)
 *   long shape_0 .. shape_{nd-1}  (only when some operand is CG_STRIDED)
 *   for each CG_STRIDED input, then output: long strides[0..nd-1]
 * Offsets and strides count elements.
 */
#ifndef DAMO_CODEGEN_H
#define DAMO_CODEGEN_H

#include "../scalar/program.h"

typedef enum cg_access {
    CG_FLAT,     /* element gid: contiguous with the iteration space's shape */
    CG_SCALAR,   /* one element for all: every stride is 0 */
    CG_STRIDED   /* general strides (broadcast dims have stride 0) */
} cg_access;

/* Source of a kernel named `name` computing p over an ndim iteration space.
 * Deterministic: the same arguments give the same text, so the program
 * cache hits. Returns a malloc'ed string, NULL when out of memory. */
char *cg_elemwise(const sprog *p, int ndim, const cg_access *in_modes,
                  const cg_access *out_modes, const char *name);

#endif
