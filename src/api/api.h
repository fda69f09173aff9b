/*
 * API layer internals: the structs behind the public function and spec
 * handles and the helpers the API files share. The top layer: it binds
 * arguments and returns arrays, and leaves all device work to exec/.
 */
#ifndef DAMO_API_H
#define DAMO_API_H

#include "../common/strbuf.h"
#include "../exec/plan.h"

/* An input of a spec, as given. */
typedef struct spec_input {
    damo_var *var;
    char *name;           /* call-by-name key (owned), or NULL */
    int has_default;
    damo_arg dflt;        /* its array is retained */
} spec_input;

struct damo_spec {
    damo_graph *g;
    damo_err err;         /* the first error, reported by damo_compile */
    unsigned flags;
    spec_input *inputs;
    size_t n_inputs, cap_inputs;
    damo_var **outputs;
    size_t n_outputs, cap_outputs;
    damo_var **upd_var, **upd_expr;
    size_t n_updates, cap_updates;
    damo_var **given_var, **given_with;
    size_t n_givens, cap_givens;
};

typedef struct fn_input {
    const damo_var *var;  /* in the function graph */
    char *name;           /* call-by-name key, or NULL */
    damo_array *dflt;     /* default value, or NULL */
    char label[256];      /* var_label of var for messages, made once so
                           * that a call formats none */
} fn_input;

/* What compiling a function cost (damo_function_get_profile). */
typedef struct fn_compile {
    uint64_t rewrite_ns, fusion_ns, plan_ns;
    uint64_t program_ns, builds, disk_hits, memory_hits; /* of plan_ns */
} fn_compile;

struct damo_function {
    damo_ctx *ctx;
    damo_err err;
    unsigned flags;
    plan *plan;
    fn_input *inputs;
    size_t n_inputs;
    damo_array **bound;   /* per input: the argument of the call in progress */
    damo_array **num;     /* per input: a 0-d array reused for C numbers */
    fn_compile compile;
};

/* The array to bind to a variable of type t: `v` itself, or a copy
 * converted to t's dtype when that loses nothing. NULL with a message
 * naming `what` and `label` otherwise (another context, rank, static
 * sizes, a lossy dtype). */
damo_array *fit_array(damo_ctx *ctx, damo_array *v, const gtype *t, const char *what,
                      const char *label, damo_err *e);
/* A 0-d array of t's dtype holding a C number exactly, reusing *reuse when
 * nobody else holds it. NULL with a message when the number does not fit
 * t exactly, or t is not 0-d. */
damo_array *number_array(damo_ctx *ctx, const damo_arg *arg, const gtype *t, damo_array **reuse,
                         const char *what, const char *label, damo_err *e);
/* A function over plan pl (taken), with inputs named and defaulted like
 * `like` (NULL: set by the caller). NULL when out of memory (message on e). */
damo_function *function_new(damo_ctx *ctx, plan *pl, unsigned flags, damo_err *e);

/* plan_build, its time and program work added to *c (profile.c). */
damo_status compile_plan(plan **out, damo_ctx *ctx, fgraph *fg, shared_store *const *swap_from,
                         shared_store *const *swap_to, size_t n_swaps, int keep_updates,
                         unsigned flags, fn_compile *c, damo_err *e);
/* "elemwise", "reduce", "blas", ... and the name of the shared variable
 * update u writes (debugprint.c). */
const char *step_kind_name(step_kind k);
const char *update_name(const plan *p, size_t u);
/* b's string handed to the caller when st is DAMO_OK (b is freed either
 * way); NULL when st is not (its message is on e already) or when out of
 * memory (a message on e). */
char *text_result(strbuf *b, damo_status st, damo_err *e);

#endif
