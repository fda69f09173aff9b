/*
 * Rewrite layer: turns the user's graph into a function graph (a private
 * clone holding only what the outputs and updates need, with givens
 * applied, identical subgraphs merged and constant subgraphs folded), then
 * groups its elementwise nodes into fused steps.
 */
#ifndef DAMO_REWRITE_H
#define DAMO_REWRITE_H

#include "../graph/graph.h"
#include "../scalar/program.h"

typedef struct fgraph {
    damo_graph *g;          /* owned clone; creation order is topological */
    damo_var **inputs;      /* clones of the function's inputs, in order */
    size_t n_inputs;
    damo_var **outputs;     /* function outputs, then update expressions */
    size_t n_outputs, n_updates;
    damo_var **update_vars; /* the shared variable each update stores to: the
                             * source graph's variable, valid while it lives */
} fgraph;

typedef struct fgraph_spec {
    damo_var *const *inputs;
    size_t n_inputs;
    damo_var *const *outputs;
    size_t n_outputs;
    const damo_update *updates;
    size_t n_updates;
    const damo_given *givens;
    size_t n_givens;
} fgraph_spec;

/* Builds fg from spec over the source graph src. The clone shares shared
 * stores through src's retain/release hooks. Errors (an output needing an
 * input that is not given, a given of another type, a cyclic given) go to
 * e with the variables named. */
damo_status fgraph_build(fgraph *fg, damo_graph *src, const fgraph_spec *spec, damo_err *e);
void fgraph_free(fgraph *fg);

/* Hash-consing of a clone under construction: identical constants and
 * identical apply nodes (same op, dtype, inputs) are made once. */
typedef struct merge_table merge_table;
merge_table *merge_new(size_t expected);
void merge_free(merge_table *m);
/* Returns the variable already equal to v, or records v and returns it.
 * NULL when out of memory. */
damo_var *merge_intern(merge_table *m, damo_var *v);
/* Finds an apply node equal to (op, out dtype, inputs) without building one. */
damo_var *merge_find_apply(merge_table *m, scalar_op op, damo_dtype out, int n,
                           damo_var *const *in);

/* Constant folding: when every input of op is a constant, evaluates it on
 * the host and returns the folded constant in g (NULL otherwise or on
 * error, with *st set). Larger results than FOLD_MAX_ELEMENTS stay nodes. */
#define FOLD_MAX_ELEMENTS (1 << 16)
damo_var *fold_apply(damo_graph *g, scalar_op op, damo_dtype cast_to, int n,
                     damo_var *const *in, damo_status *st);

/* One fused step: an elementwise program over the step's inputs. */
typedef struct fstep {
    sprog prog;
    int ndim;               /* rank of the iteration space */
    damo_var **ins;         /* fgraph variables read (program inputs) */
    damo_var **outs;        /* fgraph variables written (program outputs) */
    damo_var **instr_var;   /* the variable each instruction computes */
    int n_in, n_out;
} fstep;

/* Groups the apply nodes that outputs and updates need into steps, in an
 * order where each step's inputs are ready. With no_fusion every node is
 * its own step. Clusters hold nodes of one rank and static broadcast
 * pattern, never form a cycle between steps, and siblings that share an
 * input merge into one multi-output step. */
damo_status fuse(const fgraph *fg, int no_fusion, fstep **steps, size_t *n_steps, damo_err *e);
void fstep_clear(fstep *s);
void fsteps_free(fstep *steps, size_t n);

#endif
