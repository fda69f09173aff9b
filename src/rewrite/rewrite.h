/*
 * Rewrite layer: turns the user's graph into a function graph (a private
 * clone holding what the outputs and updates need, givens applied),
 * rewrites it to a fixed point with local rules (merge and constant folding
 * among them), then fuses its elementwise nodes into fused nodes. Every
 * walk is iterative, so graph depth costs heap, never stack.
 */
#ifndef DAMO_REWRITE_H
#define DAMO_REWRITE_H

#include "../graph/graph.h"
#include "../graph/op.h"

typedef struct fg_clients {
    gnode **nodes;        /* nodes reading the variable (may repeat) */
    size_t n, cap;
} fg_clients;

typedef struct fgraph {
    int refcount;           /* a function and its copies share it */
    damo_graph *g;          /* owned arena; replaced nodes stay in it unused */
    damo_var **inputs;      /* the function's inputs, in order */
    size_t n_inputs;
    damo_var **outputs;     /* function outputs, then update values */
    size_t n_outputs, n_updates;
    shared_store **update_stores; /* the store update i writes (retained) */
    /* rewriting state, dropped by fgraph_seal */
    fg_clients *clients;    /* per variable id */
    size_t cap_clients;
    gnode **queue;          /* worklist (a ring) and its membership flags */
    size_t q_head, q_len, q_cap;
    unsigned char *queued;
    size_t cap_queued;
} fgraph;

typedef struct fg_update {
    shared_store *store;
    damo_var *expr;
    damo_dtype dtype;     /* the store's: expr is converted to it */
} fg_update;

typedef struct fgraph_spec {
    damo_var *const *inputs;
    size_t n_inputs;
    damo_var *const *outputs;
    size_t n_outputs;
    const fg_update *updates;
    size_t n_updates;
    damo_var *const *given_vars;  /* given_vars[i] is replaced by given_with[i] */
    damo_var *const *given_with;
    size_t n_givens;
} fgraph_spec;

/* Builds *out (refcount 1) from spec over the source graph src: clones
 * what the outputs and updates need, inputs first. Errors (an output
 * needing an input that is not given, a cyclic given, a given that makes
 * static shapes clash) go to e with the variables named. */
damo_status fgraph_build(fgraph **out, damo_graph *src, const fgraph_spec *spec, damo_err *e);
fgraph *fgraph_retain(fgraph *fg);
void fgraph_release(fgraph *fg);

/* Replaces every use of `old` (node inputs and function outputs) by `with`
 * and queues the nodes that read it now. */
void fg_replace(fgraph *fg, damo_var *old, damo_var *with);
/* Registers a node made during rewriting (its inputs' client lists) and
 * queues it. 0 when out of memory (message on fg->g). */
int fg_adopt(fgraph *fg, gnode *n);
/* Queues n again, for a rule whose answer depends on n's neighbours
 * (0 when out of memory). */
int fg_requeue(fgraph *fg, gnode *n);
/* The next queued node, or NULL when the worklist is empty. */
gnode *fg_dequeue(fgraph *fg);
/* The clients of v (nodes reading it; may repeat and include unused ones). */
const fg_clients *fg_clients_of(const fgraph *fg, const damo_var *v);
/* 1 when v is one of the function's outputs or update values. */
int fg_is_output(const fgraph *fg, const damo_var *v);
/* 1 when no output of n is read or returned (a replaced node). */
int fg_unused(const fgraph *fg, const gnode *n);

/* The nodes that roots[0..n_roots) need, in an order where each comes
 * after the nodes computing its inputs (iterative DFS). *nodes is
 * malloc'ed (caller frees). DAMO_ERR_NOMEM only. */
damo_status fg_live_nodes(const fgraph *fg, damo_var *const *roots, size_t n_roots,
                          gnode ***nodes, size_t *n, damo_err *e);

/* Runs the rewrite rules (rules.c) to a fixed point: merge, constant
 * folding, canonicalization. */
damo_status rewrite_run(fgraph *fg, damo_err *e);

/* Replaces the elementwise nodes by fused nodes (OP_FUSED): maximal groups
 * of one rank and static broadcast pattern, never forming a cycle between
 * steps, siblings that read a common input together; with no_fusion every
 * node is its own group. A group whose kernel would take more than
 * max_param_bytes of arguments is split. Then fuse_reductions, unless
 * no_fusion. */
damo_status fuse(fgraph *fg, int no_fusion, size_t max_param_bytes, damo_err *e);

/* Fuses elementwise work into reductions (fuse_reduce.c): a reduction's
 * fused producer becomes its prologue, its fused reader its epilogue. */
damo_status fuse_reductions(fgraph *fg, damo_err *e);

/* Drops the rewriting state once the graph is final. */
void fgraph_seal(fgraph *fg);

#endif
