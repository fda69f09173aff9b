/*
 * Graph layer: typed symbolic variables and the nodes that compute them,
 * owned by an arena (damo_graph). A variable is a graph input, a constant,
 * a shared variable, or output `index` of an apply node; a node is an op
 * from the registry (op.h) with typed parameters, any number of inputs and
 * one or more outputs. Knows nothing about OpenCL; shared values are opaque
 * stores owned by the exec layer, which hands the graph a retain/release
 * pair.
 */
#ifndef DAMO_GRAPH_H
#define DAMO_GRAPH_H

#include "../common/err.h"
#include "../scalar/scalar.h"

typedef struct gtype {
    damo_dtype dtype;
    int ndim;
    int64_t shape[DAMO_MAX_DIMS]; /* size, or DAMO_DIM_UNKNOWN */
} gtype;

typedef enum var_kind { VAR_INPUT, VAR_CONST, VAR_SHARED, VAR_APPLY } var_kind;

typedef struct damo_shared shared_store; /* defined by the exec layer */
typedef struct gnode gnode;

/* Ops: every elementwise op of ops.def (same numbering as scalar_op), then
 * the rest. */
typedef enum op_id {
#define DAMO_OP(ID, ...) OP_##ID,
#include "../scalar/ops.def"
#undef DAMO_OP
    OP_FUSED,         /* a fused elementwise program (rewrite/fusion.c) */
    OP_REDUCE,        /* a reduction, with fused elementwise work before and after */
    OP_DIMSHUFFLE,    /* axes permuted, added (broadcastable) or dropped: a view */
    OP_RESHAPE,       /* the same elements in another shape: a view when contiguous */
    OP_SHAPE,         /* the input's shape as an int64 vector (on the host) */
    OP_SHAPE_I,       /* one size of it, an int64 scalar */
    OP_ALLOC,         /* a value broadcast to given sizes: a view */
    OP_ARANGE,        /* numpy.arange (on the host) */
    OP_EYE,           /* numpy.eye (on the host) */
    OP_CONCAT,        /* numpy.concatenate */
    OP_SUBTENSOR,     /* basic indexing: a view */
    OP_SET_SUBTENSOR, /* a copy of x with a basic index of it set or incremented */
    OP_TAKE,          /* x[idx] along the first axis */
    OP_INC_TAKE,      /* x with y added at rows idx (numpy.add.at) */
    OP_DOT,           /* numpy.dot of 1-d and 2-d operands */
    OP_GEMM,          /* alpha * dot(a, b) + beta * c */
    OP_INDEX_GRID,    /* the element positions of a random draw: a view with
                       * C-contiguous strides over one uint64 zero, read only
                       * as an index input (scalar/program.h), never loaded */
    OP_PERMUTATION,   /* a random permutation of 0..n-1 from a key and a
                       * counter (on the host) */
    OP_COUNT
} op_id;

struct fused_prog;

/* One axis of a basic index (damo_slice without its padding). */
typedef struct op_slice {
    int64_t start, stop, step, is_index;
} op_slice;

/* Sizes in params.shape: taken from the next scalar input at run time;
 * (reshape) the input's size on the same axis; (reshape) the product of
 * the input's sizes from that axis on. */
#define SHAPE_FROM_INPUT (-2)
#define SHAPE_KEEP (-3)
#define SHAPE_REST (-4)

/* A node's parameters: plain data without padding, zero-filled before use,
 * so that merging can hash and compare them as bytes. A field serves every
 * op that needs that kind of parameter. */
typedef struct op_params {
    struct fused_prog *fused;    /* fused: the program (owned by the node);
                                  * reduce: elementwise work giving the values
                                  * reduced (NULL: input 0 is reduced) */
    struct fused_prog *epilogue; /* reduce: elementwise work on the result
                                  * (input 0 of it), the node's outputs */
    int64_t shape[DAMO_MAX_DIMS]; /* reshape, alloc, eye: sizes, -1 inferred,
                                   * SHAPE_FROM_INPUT */
    op_slice idx[DAMO_MAX_DIMS];  /* subtensor: one per indexed axis */
    int32_t order[DAMO_MAX_DIMS]; /* dimshuffle: input axis, or DAMO_NEWAXIS */
    int32_t dtype;                /* cast: the target; eye: the result's */
    int32_t kind;                 /* reduce: red_kind; set_subtensor: 1 inc */
    uint32_t axes;                /* reduce: bit d set when axis d is reduced */
    int32_t keepdims;             /* reduce */
    int32_t ndim;                 /* dimshuffle, reshape, alloc: result rank;
                                   * reduce: rank of the reduced values */
    int32_t n_idx;                /* subtensor: entries of idx */
    int32_t axis;                 /* concatenate, shape_i */
    int32_t k;                    /* eye: the diagonal */
} op_params;

_Static_assert(sizeof(op_params) == 2 * sizeof(void *) + DAMO_MAX_DIMS * (8 + 32 + 4) + 8 * 4,
               "op_params has no padding (merging compares it as bytes)");

struct gnode {
    uint32_t id;           /* creation order */
    op_id op;
    op_params params;
    int n_in, n_out;
    damo_var **in;
    damo_var **out;
};

struct damo_var {
    damo_graph *g;
    uint32_t id;          /* index in g->vars: creation order is topological
                           * in a user's graph */
    var_kind kind;
    gtype type;
    weak_kind weak;       /* a C literal, or an op over literals only */
    char *name;
    gnode *node;          /* VAR_APPLY: the node, and which of its outputs */
    int index;
    void *data;           /* VAR_CONST: prod(shape) elements, C order (owned) */
    shared_store *store;  /* VAR_SHARED: a counted reference to the store */
    damo_var *default_update; /* VAR_SHARED: its new value after a call of a
                               * function reading it that neither updates it
                               * nor says DAMO_FN_NO_DEFAULT_UPDATES (random
                               * states), or NULL */
};

struct damo_graph {
    void *ctx;            /* the damo_ctx, opaque to this layer */
    damo_err err;
    damo_var **vars;
    size_t n, cap;
    gnode **nodes;
    size_t n_nodes, cap_nodes;
    damo_var **shared;    /* the VAR_SHARED variables, one per store */
    size_t n_shared, cap_shared;
    void (*store_retain)(shared_store *);
    void (*store_release)(shared_store *);
};

/* New empty graph; the exec layer supplies the context and how shared
 * stores are counted. NULL when out of memory. */
damo_graph *graph_create(void *ctx, void (*retain)(shared_store *),
                         void (*release)(shared_store *));
/* Arena-internal constructor; name may be NULL (copied). NULL and a message
 * on g when out of memory. */
damo_var *graph_add_var(damo_graph *g, var_kind kind, const gtype *t, const char *name);
/* Constant from C-order data (copied). */
damo_var *graph_const(damo_graph *g, damo_dtype dtype, int ndim, const int64_t *shape,
                      const void *data, weak_kind weak);
/* The variable standing for `store` in g (made on first use, retaining the
 * store): one variable per store per graph. */
damo_var *graph_shared(damo_graph *g, shared_store *store, const gtype *t, const char *name);
/* A node of op over in[0..n_in) with params (copied; what they point to
 * belongs to the node, or is freed at once when NULL is returned), its
 * output types given (n_out of them). NULL and a message on g when out of
 * memory. */
gnode *graph_node(damo_graph *g, op_id op, const op_params *params, damo_var *const *in,
                  int n_in, const gtype *types, const weak_kind *weak, int n_out);
/* A node of op with its output types inferred by the registry (static
 * shapes checked), or NULL with a message on g. */
gnode *graph_apply_node(damo_graph *g, op_id op, const op_params *params, damo_var *const *in,
                        int n_in);
/* The same, returning the node's first output. */
damo_var *graph_apply(damo_graph *g, op_id op, const op_params *params, damo_var *const *in,
                      int n_in);

/* The index grid of a draw of ndim sizes (integer scalars of g); never
 * folded. NULL and a message on g on error. */
damo_var *graph_index_grid(damo_graph *g, int ndim, damo_var *const *dims);

/* Constant folding: when every input of n is a constant, its op is pure
 * and has a host facet, and each output has at most FOLD_MAX_ELEMENTS,
 * evaluates n on the host and sets out[o] to a constant of g holding
 * output o. Returns 1 when folded, 0 when n is not foldable (out
 * untouched), -1 on error (message on g). */
#define FOLD_MAX_ELEMENTS (1 << 16)
int graph_fold(damo_graph *g, const gnode *n, damo_var **out);

/* Number of elements of a type whose sizes are all known; -1 when one is
 * unknown or the product overflows. */
int64_t gtype_static_size(const gtype *t);
/* Static broadcasting of several types (NumPy rules; unknown sizes stay
 * unknown unless another operand fixes them). DAMO_ERR_SHAPE when two known
 * sizes differ and neither is 1 (*bad_dim: the result dimension). */
damo_status gtype_broadcast(const gtype *const *ts, int n, gtype *out, int *bad_dim);
/* 1 when a value of type u broadcasts into one of type t without
 * enlarging it, whatever sizes the unknown ones take at run time. */
int gtype_fits_into(const gtype *u, const gtype *t);
/* Checks a value of (dtype, ndim, shape) against type t: the same rank, and
 * every static size of t kept; with same_dtype also the same dtype. The one
 * home of these checks: arguments, defaults, shared values, givens and
 * updates all use it. The message says "<what> <label>: ..." on e. */
damo_status gtype_check(const gtype *t, damo_dtype dtype, int ndim, const int64_t *shape,
                        int same_dtype, const char *what, const char *label, damo_err *e);
/* 1 when gtype_check would return DAMO_OK: a caller may then skip making
 * its label. */
int gtype_accepts(const gtype *t, damo_dtype dtype, int ndim, const int64_t *shape, int same_dtype);
/* "(2, None)" style text of a static shape into buf. */
const char *gtype_shape_str(const gtype *t, char *buf, size_t size);
/* A short label for messages: the name in quotes, or "add(x, <constant>)"
 * down to a small depth (deeper arguments print as "..."). */
const char *var_label(const damo_var *v, char *buf, size_t size);

#endif
