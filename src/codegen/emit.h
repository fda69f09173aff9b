/* What every kernel generator shares: conversions spelled as the host
 * converts, op helpers, program bodies, and the parameter list built with
 * its descriptor. Private to codegen/. */
#ifndef DAMO_CODEGEN_EMIT_H
#define DAMO_CODEGEN_EMIT_H

#include "../common/strbuf.h"
#include "codegen.h"

/* `expr` (of dtype from) converted to `to` by dtype_cvt_rule. */
void put_convert(strbuf *b, damo_dtype from, damo_dtype to, const char *expr);
/* The pragmas every kernel starts with (fp64 when `fp64`). */
void put_preamble(strbuf *b, int fp64);
/* One helper per (op, compute dtype) the programs use (each once), scalar
 * and, with vw lanes, vector ones; the integer helpers first when needed. */
void put_helpers(strbuf *b, const sprog *const *progs, int n_progs, int vw);
/* The helper for op over dtype t alone (copy kernels add with it). */
void put_op_helper(strbuf *b, scalar_op op, damo_dtype t);
/* Program p's instructions: instruction i becomes `const T <pfx>i`, its
 * inputs read from the expressions in[]. */
void put_instrs(strbuf *b, const sprog *p, const char *const *in, const char *pfx,
                const char *indent);
/* The same on vw-lane vectors (a program cg_vectorizable accepts). */
void put_vector_instrs(strbuf *b, const sprog *p, const char *const *in, const char *pfx, int vw,
                       const char *indent);

/* Parameter list and descriptor, built side by side so they cannot
 * disagree. */
typedef struct params {
    strbuf *b;
    cg_arg *args;
    int n;
    size_t cap;
    int failed;
} params;

void param(params *ps, cg_arg_kind kind, int operand, int dim, const char *fmt, ...)
    DAMO_PRINTF(5, 6);
/* The finished kernel: source and descriptor, or DAMO_ERR_NOMEM. */
damo_status finish_kernel(strbuf *b, params *ps, cg_kernel *out);

#endif
