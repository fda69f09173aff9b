/*
 * Graph layer: typed symbolic variables owned by an arena (damo_graph).
 * A variable is a graph input, a constant, a shared variable, or the single
 * output of an apply node (an elementwise op over up to three inputs).
 * Knows nothing about OpenCL; shared values are opaque stores owned by the
 * API layer, which hands the graph a release function.
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

typedef struct shared_store shared_store; /* defined by the API layer */

struct damo_var {
    damo_graph *g;
    uint32_t id;          /* index in g->vars: creation order is topological */
    var_kind kind;
    gtype type;
    weak_kind weak;       /* a C literal, or an op over literals only */
    char *name;
    /* VAR_APPLY */
    scalar_op op;
    int n_in;
    damo_var *in[3];
    /* VAR_CONST: prod(shape) elements of type.dtype, C order (owned) */
    void *data;
    /* VAR_SHARED: a counted reference to the value's store */
    shared_store *store;
};

struct damo_graph {
    void *ctx;            /* the damo_ctx, opaque to this layer */
    damo_err err;
    damo_var **vars;
    size_t n, cap;
    void (*store_retain)(shared_store *);
    void (*store_release)(shared_store *);
};

/* New empty graph; the API layer supplies its context and how shared
 * stores are counted. NULL when out of memory. */
damo_graph *graph_create(void *ctx, void (*retain)(shared_store *),
                         void (*release)(shared_store *));
/* Arena-internal constructor; name may be NULL (copied). NULL and a message
 * on g when out of memory. */
damo_var *graph_add_var(damo_graph *g, var_kind kind, const gtype *t, const char *name);
/* Constant from C-order data (copied). */
damo_var *graph_const(damo_graph *g, damo_dtype dtype, int ndim, const int64_t *shape,
                      const void *data, weak_kind weak);
/* Apply node with type inference and static broadcasting checks. */
damo_var *graph_apply(damo_graph *g, scalar_op op, int n, damo_var *const *in,
                      damo_dtype cast_to);
/* Shared variable over a store (retained). */
damo_var *graph_shared(damo_graph *g, shared_store *store, const gtype *t, const char *name);

/* Number of elements of a constant. */
int64_t gtype_static_size(const gtype *t);
/* Static broadcasting of several types (NumPy rules; unknown sizes stay
 * unknown unless another operand fixes them). DAMO_ERR_SHAPE when two known
 * sizes differ and neither is 1. */
damo_status gtype_broadcast(const gtype *const *ts, int n, gtype *out, int *bad_dim);
/* "(2, None)" style text of a static shape into buf. */
const char *gtype_shape_str(const gtype *t, char *buf, size_t size);
/* A short label for messages: the name in quotes, or "add(x, <constant>)". */
const char *var_label(const damo_var *v, char *buf, size_t size);

#endif
