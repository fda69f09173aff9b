/* The compiled function: its private graph, fused steps with their kernels,
 * and the value slots a call fills. Shared by function.c and call.c. */
#ifndef DAMO_API_FUNCTION_H
#define DAMO_API_FUNCTION_H

#include "../codegen/codegen.h"
#include "../rewrite/rewrite.h"
#include "api.h"

/* A kernel built for one assignment of access modes to the operands. */
typedef struct kvariant {
    cg_access *modes;     /* n_in inputs then n_out outputs */
    cl_kernel kernel;
    char *source;
} kvariant;

typedef struct fn_step {
    fstep s;
    int id;               /* names the kernels: damo_s<id> */
    kvariant *variants;
    int n_variants;
    cg_access *modes;     /* scratch: this call's modes */
    int64_t *iter;        /* scratch: this call's iteration shape */
    int64_t *strides;     /* scratch: DAMO_MAX_DIMS kernel strides per operand */
    damo_array **arrays;  /* scratch: the operands' arrays */
    sp_view *views;       /* scratch: the operands for a host run */
} fn_step;

typedef struct fn_input {
    damo_var *var;        /* in the function's graph */
    char *name;           /* call-by-name key, or NULL */
    damo_array *dflt;     /* default value, or NULL */
} fn_input;

struct damo_function {
    damo_ctx *ctx;
    damo_err err;
    unsigned flags;
    fgraph fg;
    fn_step *steps;
    size_t n_steps;
    fn_input *inputs;
    size_t n_inputs, n_outputs, n_updates;
    shared_store **upd_store;  /* update i stores fg.outputs[n_outputs + i] */
    damo_array **vals;         /* per graph variable: its value in a call */
    size_t n_vals;             /* variables compiled over; copies may add
                                * more to the graph, which this function
                                * never reads */
    damo_array **bound;        /* scratch: per input, a converted argument */
    int64_t *shapes;           /* scratch: DAMO_MAX_DIMS per instruction */
};

/* Checks a value against a variable's type (rank, static sizes, dtype) and
 * returns a new reference to the value to use: itself, or a converted copy
 * when the dtype differs but converts without loss. NULL and a message
 * naming `what` and the variable otherwise. */
damo_array *fn_fit_value(damo_array *v, const damo_var *var, const char *what, damo_err *e);
/* The kernel of step fs for its current modes, built on first use. */
damo_status step_kernel(damo_function *f, fn_step *fs, cl_kernel *out);

#endif
