/*
 * The op registry: one entry per op holding every facet the layers above
 * need, so that adding an op touches one place (plus its gradient and
 * tests). Elementwise ops come from the one-line definitions of
 * scalar/ops.def; other ops are written out in op.c.
 */
#ifndef DAMO_GRAPH_OP_H
#define DAMO_GRAPH_OP_H

#include "../scalar/program.h"
#include "graph.h"

/* What a fused node computes: its program, and for messages the node each
 * instruction came from (still in the arena, replaced). */
typedef struct fused_prog {
    sprog prog;
    damo_var **instr_var;
} fused_prog;

enum {
    OPF_ELEMWISE = 1u << 0, /* one scalar op applied with broadcasting */
    OPF_VIEW = 1u << 1,     /* its output aliases its first input's memory */
    OPF_IMPURE = 1u << 2,   /* not a function of its inputs (random draws):
                             * never merged or folded */
    OPF_DESTROYS = 1u << 3  /* overwrites its first input */
};

/* Gradient facet (reverse mode): given the node and the gradients of its
 * outputs (NULL where an output does not reach the cost), sets the
 * gradient of each input (NULL where disconnected). */
typedef damo_status (*op_grad_fn)(damo_graph *g, const gnode *n, damo_var *const *out_grads,
                                  damo_var **in_grads);

typedef struct op_info {
    const char *name;
    int arity;       /* number of inputs; -1: any */
    int n_out;       /* number of outputs infer gives (0: set per node) */
    unsigned flags;  /* OPF_* */
    /* Output types (dtype and static shape) and weakness of node n, whose
     * inputs and params are set. NULL: the op's nodes are only made with
     * their types given (graph_node). */
    damo_status (*infer)(const gnode *n, gtype *types, weak_kind *weak, damo_err *e);
    /* Evaluates n on the host (constant folding): in[i] holds input i's
     * values and out[o] room for output o's, C order, with every static
     * size known. NULL: never folded. */
    damo_status (*host)(const gnode *n, void *const *in, void *const *out, damo_err *e);
    op_grad_fn grad; /* filled by the gradient work; NULL: not differentiable yet */
    /* Frees what n's params own (NULL: they own nothing). */
    void (*params_free)(op_params *p);
} op_info;

const op_info *op_info_of(op_id op);

/* The scalar op of an elementwise op. */
static inline scalar_op op_scalar(op_id op) { return (scalar_op)op; }

/* The scalar types (compute, output, argument conversions) of elementwise
 * node n: the one home of elementwise type inference, used by infer,
 * folding and fusion alike. */
damo_status elemwise_types(const gnode *n, op_types *t, damo_err *e);

#endif
