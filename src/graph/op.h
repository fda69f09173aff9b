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
    op_grad_fn grad; /* NULL: no input gets a gradient through it (its
                      * inputs are integers, or it is made only by
                      * rewrites) */
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

/* Facets of the ops beyond elementwise, each in the file of its family
 * (reduce.c, structure.c, index.c, dot.c). */
typedef damo_status (*op_infer_fn)(const gnode *n, gtype *types, weak_kind *weak, damo_err *e);
typedef damo_status (*op_host_fn_t)(const gnode *n, void *const *in, void *const *out, damo_err *e);
#define DECLARE_FACETS(name)                                                                 \
    damo_status name##_infer(const gnode *n, gtype *types, weak_kind *weak, damo_err *e);   \
    damo_status name##_host(const gnode *n, void *const *in, void *const *out, damo_err *e)
DECLARE_FACETS(reduce);
DECLARE_FACETS(dimshuffle);
DECLARE_FACETS(reshape);
DECLARE_FACETS(shape);
DECLARE_FACETS(shape_i);
DECLARE_FACETS(alloc);
DECLARE_FACETS(arange);
DECLARE_FACETS(eye);
DECLARE_FACETS(concat);
DECLARE_FACETS(subtensor);
DECLARE_FACETS(set_subtensor);
DECLARE_FACETS(take);
DECLARE_FACETS(inc_take);
DECLARE_FACETS(dot);
DECLARE_FACETS(gemm);
#undef DECLARE_FACETS
#define DECLARE_GRAD(name) \
    damo_status name##_grad(damo_graph *g, const gnode *n, damo_var *const *out_grads, damo_var **in_grads)
DECLARE_GRAD(elemwise);
DECLARE_GRAD(reduce);
DECLARE_GRAD(dimshuffle);
DECLARE_GRAD(reshape);
DECLARE_GRAD(alloc);
DECLARE_GRAD(concat);
DECLARE_GRAD(subtensor);
DECLARE_GRAD(set_subtensor);
DECLARE_GRAD(take);
DECLARE_GRAD(inc_take);
DECLARE_GRAD(dot);
#undef DECLARE_GRAD

/* gz, a gradient over the shape of node n's output, summed to the shape
 * of x (input i of n; n may be NULL): over the leading axes x lacks and
 * the axes where x's size is statically 1. On an axis where x's size is
 * unknown and another operand of elementwise node n could have set the
 * result's, the values pass through an unbroadcast check (ops.def). NULL
 * with the message on the graph on error. */
damo_var *grad_sum_to(damo_var *gz, damo_var *x, const gnode *n, int i);
void fused_params_free(op_params *p);

/* arange and eye as NumPy computes them, for folding and the host steps:
 * arange's arguments brought to the result dtype's host class (int64 or
 * float64), its length, whether the step is zero, and its values. */
void arange_args(damo_dtype dtype, const damo_dtype *from, const hval *v, hval *out);
int64_t arange_length(damo_dtype dtype, hval start, hval stop, hval step);
int arange_step_zero(damo_dtype dtype, hval step);
void arange_fill(damo_dtype dtype, hval start, hval step, int64_t n, void *out);
void eye_fill(damo_dtype dtype, int64_t rows, int64_t cols, int64_t k, void *out);
/* A random permutation of 0..n-1 from the blocks (key, ctr + i), as the
 * host step of OP_PERMUTATION computes it. */
damo_status permutation_infer(const gnode *n, gtype *types, weak_kind *weak, damo_err *e);
void permutation_fill(uint64_t key, uint64_t ctr, int64_t n, int64_t *out);

/* The row an index v of dtype idx_dtype picks in an axis of `rows`
 * (negative entries count from the end), or -1 when out of range; and the
 * error for such an entry, naming `what`, x, the index and the entry. */
int64_t take_row(damo_dtype idx_dtype, hval v, int64_t rows);
damo_status take_index_error(const char *what, const damo_var *x, damo_dtype idx_dtype, hval v,
                             int64_t entry, int64_t rows, damo_err *e);

/* Patterns (pattern.c). var_const_is: v is a constant whose every element
 * equals value. var_producer: v's node when it is an op node, else NULL.
 * sigmoid_pattern: 1 when v is sigmoid(z), 1 / (1 + exp(-z)) or
 * 1 / (1 + exp(-a - b)), with z = *a (+ *b when *b is not NULL).
 * log_sigmoid_pattern: 1 when v is log(sigmoid(z)), -1 when it is
 * log(1 - sigmoid(z)), z as above; else 0. */
int var_const_is(const damo_var *v, double value);
gnode *var_producer(const damo_var *v, op_id op);
int sigmoid_pattern(const damo_var *v, damo_var **a, damo_var **b);
int log_sigmoid_pattern(const damo_var *v, damo_var **a, damo_var **b);

/* For builders: the graph of in[0..n), or NULL when an input is NULL (no
 * new message: the first error of a chained expression stays) or inputs
 * mix graphs (a message naming `what`). */
damo_graph *builder_graph(const char *what, int n, damo_var *const *in);

/* The ndim sizes of params.shape with each SHAPE_FROM_INPUT entry taken
 * from the node's next scalar input from `first` on: values[i] for input
 * first + i when values is given (run time), else the input's value when
 * it is a constant and DAMO_DIM_UNKNOWN when not (static). */
void node_sizes(const gnode *n, int ndim, int first, const int64_t *values, int64_t *out);

#endif
