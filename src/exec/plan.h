/*
 * A compiled plan: typed steps over a table of values. Built once from a
 * final function graph; a call binds the inputs and enqueues the steps.
 *
 * Values are the function's inputs, constants, shared variables, temps
 * (intermediates no one outside sees) and results (outputs and update
 * values, handed out as arrays). Temps live in buffer slots assigned at
 * plan time by liveness: two temps whose lifetimes do not overlap share a
 * slot, which grows to the largest size it is asked for, so a steady loop
 * allocates nothing. A result's array is reused when nobody else holds it.
 */
#ifndef DAMO_EXEC_PLAN_H
#define DAMO_EXEC_PLAN_H

#include "../codegen/codegen.h"
#include "../rewrite/rewrite.h"
#include "exec.h"

/* The kinds of step; the public damo_step_kind mirrors them. */
typedef enum step_kind {
    STEP_ELEMWISE  /* a fused elementwise program: a generated kernel, or the
                    * host evaluator for small exact work */
} step_kind;

typedef enum val_kind { VAL_INPUT, VAL_CONST, VAL_SHARED, VAL_TEMP, VAL_RESULT } val_kind;

typedef struct pvalue {
    val_kind kind;
    const damo_var *var;  /* in the function graph: type and label */
    int index;            /* input number, store index, or slot */
    damo_array *arr;      /* const: its array; temp: a view on its slot;
                           * result: the last call's, reused when free */
} pvalue;

/* The part of a step's program computing some of its outputs (kept
 * outputs differ in shape at run time), over the inputs it reads. */
typedef struct psub {
    unsigned char *keep;  /* per output of the step */
    sprog prog;
    int *in_map;          /* sub input -> step input */
    int vectorizable;     /* cg_vectorizable(&prog) */
} psub;

/* A kernel built for one choice of outputs and input access modes. */
typedef struct kvariant {
    const psub *sub;      /* NULL: the whole program */
    int vw;               /* vector lanes per work-item, or 0 */
    cg_access *modes;     /* per program input */
    cg_kernel cg;
    cl_kernel kernel;     /* owned by the context's program cache */
} kvariant;

typedef struct pstep {
    step_kind kind;
    const fused_prog *fp;
    int ndim;
    int n_in, n_out;
    int *in, *out;        /* value indices */
    int exact;            /* may run on the host (results bit-identical) */
    int vectorizable;     /* cg_vectorizable of the whole program */
    char *text;           /* one line for introspection */
    kvariant *variants;
    int n_variants;
    psub **subs;          /* each allocated alone: variants point to them */
    int n_subs;
    /* scratch of one call, sized at plan time */
    cg_access *modes;     /* per input */
    int64_t *shapes;      /* per instruction, DAMO_MAX_DIMS sizes */
    int64_t *strides;     /* per input, DAMO_MAX_DIMS effective strides */
    unsigned char *keep;  /* per output */
    sp_view *views;       /* per input and output */
    int64_t *out_strides; /* per output, DAMO_MAX_DIMS */
} pstep;

typedef struct plan {
    damo_ctx *ctx;
    fgraph *fg;           /* retained */
    unsigned flags;
    const char *build_options;
    pvalue *vals;
    size_t n_vals;
    pstep *steps;
    size_t n_steps;
    size_t n_inputs, n_outputs, n_updates;
    int *input_val;       /* per input: its value, or -1 when no step needs it */
    int *result_val;      /* per output, then per update: its value */
    shared_store **stores;   /* read by the plan, swaps applied (retained) */
    size_t n_stores;
    shared_store **targets;  /* per update (retained) */
    storage **slots;      /* temp buffers */
    size_t n_slots;
    damo_array **cur;     /* per value: its array during a call */
    damo_array **old;     /* per update: scratch for committing */
} plan;

/* Builds a plan over the final graph fg (retained) on ctx. Each store
 * swap_from[i] that fg reads or updates is replaced by swap_to[i]; updates
 * are dropped unless keep_updates. Builds every step's first kernel.
 * Errors (fp64 missing, a kernel that does not build) go to e. */
damo_status plan_build(plan **out, damo_ctx *ctx, fgraph *fg, shared_store *const *swap_from,
                       shared_store *const *swap_to, size_t n_swaps, int keep_updates,
                       unsigned flags, damo_err *e);
void plan_free(plan *p);
/* 1 when p reads or updates s. */
int plan_uses(const plan *p, const shared_store *s);

/* Runs p with input i bound to inputs[i] (already checked against the
 * input's type and dtype). On success outputs[o] (when outputs is not
 * NULL) receives a new reference to output o and the updates take effect;
 * on error nothing is returned and no shared value changes (message on e).
 * The host waits only to read values a host step needs. */
damo_status plan_run(plan *p, damo_array *const *inputs, damo_array **outputs, damo_err *e);

/* Builds (or finds) the kernel of step s for its sub-program (NULL: the
 * whole), the current modes and vw vector lanes per work-item (0: one
 * element each). */
damo_status plan_kernel(plan *p, pstep *s, const psub *sub, int vw, cl_kernel *k,
                        const kvariant **kv, damo_err *e);

#endif
