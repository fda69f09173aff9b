/*
 * API layer internals: the structs behind the public function and spec
 * handles and the helpers the API files share. The top layer: it binds
 * arguments and returns arrays, and leaves all device work to exec/.
 */
#ifndef DAMO_API_H
#define DAMO_API_H

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
} fn_input;

struct damo_function {
    damo_ctx *ctx;
    damo_err err;
    unsigned flags;
    plan *plan;
    fn_input *inputs;
    size_t n_inputs;
    damo_array **bound;   /* per input: the argument of the call in progress */
    damo_array **num;     /* per input: a 0-d array reused for C numbers */
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

#endif
