/* Shape and structure ops: dimshuffle, reshape, shape, alloc, arange, eye
 * and concatenate. Builders, static types, and the host evaluation that
 * constant folding uses; the layouts of the view ops are in layout.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "op.h"

static damo_var *int_const(damo_graph *g, int64_t v)
{
    return graph_const(g, DAMO_INT64, 0, NULL, &v, WEAK_NONE);
}

/* ---- dimshuffle -------------------------------------------------------- */

damo_status dimshuffle_infer(const gnode *n, gtype *types, weak_kind *weak, damo_err *e)
{
    (void)weak;
    const gtype *x = &n->in[0]->type;
    const op_params *p = &n->params;
    char lab[256];
    var_label(n->in[0], lab, sizeof lab);
    if (p->ndim < 0 || p->ndim > DAMO_MAX_DIMS)
        return err_set(e, DAMO_ERR_INVALID, "dimshuffle of %s: ndim %d is outside 0..%d", lab,
                       p->ndim, DAMO_MAX_DIMS);
    unsigned used = 0;
    types[0].dtype = x->dtype;
    types[0].ndim = p->ndim;
    for (int d = 0; d < p->ndim; d++) {
        int a = p->order[d];
        if (a == DAMO_NEWAXIS) {
            types[0].shape[d] = 1;
            continue;
        }
        if (a < 0 || a >= x->ndim || (used & (1u << a)))
            return err_set(e, DAMO_ERR_INVALID,
                           "dimshuffle of %s: order entry %d (%d) is not an unused axis of a "
                           "%d-dimensional input or DAMO_NEWAXIS", lab, d, a, x->ndim);
        used |= 1u << a;
        types[0].shape[d] = x->shape[a];
    }
    for (int a = 0; a < x->ndim; a++)
        if (!(used & (1u << a)) && x->shape[a] != 1)
            return err_set(e, DAMO_ERR_SHAPE,
                           "dimshuffle of %s: axis %d is dropped but is not known to have size 1",
                           lab, a);
    return DAMO_OK;
}

/* A view op's host evaluation: the C layout of input 0 mapped by `map`. */
static damo_status host_view(const gnode *n, const void *src, void *dst, damo_err *e,
                             damo_status (*map)(const gnode *, const layout *, layout *, damo_err *))
{
    layout in, out;
    layout_c(&in, n->in[0]->type.ndim, n->in[0]->type.shape);
    damo_status st = map(n, &in, &out, e);
    if (st == DAMO_OK)
        layout_gather(n->in[0]->type.dtype, &out, src, dst);
    return st;
}

static damo_status map_dimshuffle(const gnode *n, const layout *in, layout *out, damo_err *e)
{
    (void)e;
    layout_dimshuffle(&n->params, in, out);
    return DAMO_OK;
}

damo_status dimshuffle_host(const gnode *n, void *const *in, void *const *out, damo_err *e)
{
    return host_view(n, in[0], out[0], e, map_dimshuffle);
}

damo_var *damo_dimshuffle(damo_var *x, int ndim, const int *order)
{
    if (!x)
        return NULL;
    if (ndim < 0 || ndim > DAMO_MAX_DIMS || (ndim && !order)) {
        err_set(&x->g->err, DAMO_ERR_INVALID, "dimshuffle: ndim %d is outside 0..%d or order is NULL",
                ndim, DAMO_MAX_DIMS);
        return NULL;
    }
    int identity = ndim == x->type.ndim;
    op_params p = {0};
    p.ndim = ndim;
    for (int d = 0; d < ndim; d++) {
        p.order[d] = order[d];
        identity &= order[d] == d;
    }
    return identity ? x : graph_apply(x->g, OP_DIMSHUFFLE, &p, &x, 1);
}

damo_var *damo_transpose(damo_var *x)
{
    if (!x)
        return NULL;
    int order[DAMO_MAX_DIMS];
    for (int d = 0; d < x->type.ndim; d++)
        order[d] = x->type.ndim - 1 - d;
    return damo_dimshuffle(x, x->type.ndim, order);
}

/* ---- sizes from scalar variables ---------------------------------------- */

/* Adds dims[0..ndim) to node inputs `in` (from *n_in on) and params.shape:
 * a constant's value directly (at least `least`: reshape allows -1), any
 * other 0-d integer as SHAPE_FROM_INPUT. */
static damo_status take_sizes(damo_graph *g, const char *what, int64_t least, int ndim,
                              damo_var *const *dims, op_params *p, damo_var **in, int *n_in)
{
    for (int d = 0; d < ndim; d++) {
        damo_var *v = dims[d];
        if (!v)
            return g->err.code ? g->err.code : err_set(&g->err, DAMO_ERR_INVALID, "%s: size %d is NULL", what, d);
        if (v->g != g)
            return err_set(&g->err, DAMO_ERR_INVALID, "%s: size %d belongs to another graph", what, d);
        dtype_kind k = dtype_kind_of(v->type.dtype);
        if (v->type.ndim != 0 || (k != KIND_INT && k != KIND_UINT))
            return err_set(&g->err, DAMO_ERR_TYPE, "%s: size %d must be an integer scalar, got a "
                           "%d-dimensional %s", what, d, v->type.ndim, damo_dtype_name(v->type.dtype));
        if (v->kind == VAR_CONST) {
            p->shape[d] = hval_convert(v->type.dtype, DAMO_INT64, hval_load(v->type.dtype, v->data, 0)).i;
            if (p->shape[d] < least)
                return err_set(&g->err, DAMO_ERR_SHAPE, "%s: size %d is negative (%lld)", what, d,
                               (long long)p->shape[d]);
        } else {
            p->shape[d] = SHAPE_FROM_INPUT;
            in[(*n_in)++] = v;
        }
    }
    return DAMO_OK;
}

/* ---- reshape ------------------------------------------------------------ */

damo_status reshape_infer(const gnode *n, gtype *types, weak_kind *weak, damo_err *e)
{
    (void)weak;
    const op_params *p = &n->params;
    const gtype *x = &n->in[0]->type;
    char lab[256];
    var_label(n->in[0], lab, sizeof lab);
    if (p->ndim < 0 || p->ndim > DAMO_MAX_DIMS)
        return err_set(e, DAMO_ERR_INVALID, "reshape of %s: ndim %d is outside 0..%d", lab, p->ndim,
                       DAMO_MAX_DIMS);
    int64_t sizes[DAMO_MAX_DIMS];
    node_sizes(n, p->ndim, 1, NULL, sizes);
    int unknown = 0, infer = 0;
    for (int d = 0; d < p->ndim; d++) {
        infer += p->shape[d] == -1;
        if (p->shape[d] == SHAPE_FROM_INPUT && sizes[d] == DAMO_DIM_UNKNOWN)
            unknown = 1;
        else if (sizes[d] < -1 && sizes[d] != SHAPE_KEEP && sizes[d] != SHAPE_REST)
            return err_set(e, DAMO_ERR_SHAPE, "reshape of %s: negative dimensions are not allowed", lab);
    }
    if (infer > 1)
        return err_set(e, DAMO_ERR_SHAPE, "reshape of %s: can only specify one unknown dimension (-1)", lab);
    /* a size from an unknown input size is unknown, not inferred */
    int64_t marks[DAMO_MAX_DIMS];
    memcpy(marks, sizes, sizeof marks);
    reshape_resolve(p->ndim, sizes, x->ndim, x->shape, &unknown);
    types[0].dtype = x->dtype;
    types[0].ndim = p->ndim;
    int64_t count = gtype_static_size(x);
    if (!unknown && count >= 0)
        return reshape_sizes(p->ndim, sizes, count, types[0].shape, lab, e);
    for (int d = 0; d < p->ndim; d++)
        types[0].shape[d] = marks[d] == -1 || sizes[d] < 0 ? DAMO_DIM_UNKNOWN : sizes[d];
    return DAMO_OK;
}

damo_status reshape_host(const gnode *n, void *const *in, void *const *out, damo_err *e)
{
    (void)e;
    const gtype *t = &n->out[0]->type;
    size_t bytes = (size_t)gtype_static_size(t) * damo_dtype_size(t->dtype);
    if (bytes)
        memcpy(out[0], in[0], bytes);
    return DAMO_OK;
}

static damo_var *reshape_from(damo_var *x, int ndim, const int64_t *fixed, damo_var *const *dims)
{
    damo_graph *g = x->g;
    op_params p = {0};
    damo_var *in[1 + DAMO_MAX_DIMS] = {x};
    int n_in = 1;
    if (ndim < 0 || ndim > DAMO_MAX_DIMS || (ndim && !fixed && !dims)) {
        err_set(&g->err, DAMO_ERR_INVALID, "reshape: ndim %d is outside 0..%d or the sizes are NULL",
                ndim, DAMO_MAX_DIMS);
        return NULL;
    }
    p.ndim = ndim;
    for (int d = 0; d < ndim && fixed; d++) {
        if (fixed[d] < -1 && fixed[d] != SHAPE_KEEP && fixed[d] != SHAPE_REST) {
            err_set(&g->err, DAMO_ERR_SHAPE, "reshape: negative dimensions are not allowed (%lld)",
                    (long long)fixed[d]);
            return NULL;
        }
        p.shape[d] = fixed[d];
    }
    if (dims && take_sizes(g, "reshape", -1, ndim, dims, &p, in, &n_in) != DAMO_OK)
        return NULL;
    return graph_apply(g, OP_RESHAPE, &p, in, n_in);
}

damo_var *damo_reshape(damo_var *x, int ndim, const int64_t *shape)
{
    if (!x)
        return NULL;
    /* the internal markers are below -1: a caller's negative size is an error */
    for (int d = 0; shape && d < ndim && d < DAMO_MAX_DIMS; d++)
        if (shape[d] < -1) {
            err_set(&x->g->err, DAMO_ERR_SHAPE, "reshape: negative dimensions are not allowed (%lld)",
                    (long long)shape[d]);
            return NULL;
        }
    return reshape_from(x, ndim, shape, NULL);
}

damo_var *damo_reshape_to(damo_var *x, damo_var *shape)
{
    damo_var *in[2] = {x, shape};
    damo_graph *g = builder_graph("reshape_to", 2, in);
    if (!g)
        return NULL;
    const gtype *t = &shape->type;
    dtype_kind k = dtype_kind_of(t->dtype);
    if (t->ndim != 1 || t->shape[0] == DAMO_DIM_UNKNOWN || t->shape[0] > DAMO_MAX_DIMS ||
        (k != KIND_INT && k != KIND_UINT)) {
        err_set(&g->err, DAMO_ERR_TYPE,
                "reshape_to: the shape must be an integer vector of static length 0..%d",
                DAMO_MAX_DIMS);
        return NULL;
    }
    int nd = (int)t->shape[0];
    if (shape->kind == VAR_CONST) {
        int64_t sizes[DAMO_MAX_DIMS];
        for (int d = 0; d < nd; d++)
            sizes[d] = hval_convert(t->dtype, DAMO_INT64, hval_load(t->dtype, shape->data, d)).i;
        return reshape_from(x, nd, sizes, NULL);
    }
    damo_var *dims[DAMO_MAX_DIMS];
    for (int d = 0; d < nd; d++) {
        damo_slice at = DAMO_INDEX(d);
        dims[d] = damo_subtensor(shape, 1, &at);
    }
    return reshape_from(x, nd, NULL, dims);
}

damo_var *damo_flatten(damo_var *x, int ndim)
{
    if (!x)
        return NULL;
    if ((ndim < 1 || ndim > x->type.ndim) && !(ndim == 1 && x->type.ndim == 0)) {
        err_set(&x->g->err, DAMO_ERR_INVALID, "flatten: ndim %d is outside 1..%d", ndim, x->type.ndim);
        return NULL;
    }
    int64_t sizes[DAMO_MAX_DIMS];
    for (int d = 0; d < ndim; d++)
        sizes[d] = d < ndim - 1 ? SHAPE_KEEP : SHAPE_REST;
    return reshape_from(x, ndim, sizes, NULL);
}

/* ---- shape, shape_i ------------------------------------------------------ */

damo_status shape_infer(const gnode *n, gtype *types, weak_kind *weak, damo_err *e)
{
    (void)weak;
    (void)e;
    types[0].dtype = DAMO_INT64;
    types[0].ndim = 1;
    types[0].shape[0] = n->in[0]->type.ndim;
    return DAMO_OK;
}

damo_status shape_host(const gnode *n, void *const *in, void *const *out, damo_err *e)
{
    (void)in;
    (void)e;
    memcpy(out[0], n->in[0]->type.shape, (size_t)n->in[0]->type.ndim * sizeof(int64_t));
    return DAMO_OK;
}

damo_status shape_i_infer(const gnode *n, gtype *types, weak_kind *weak, damo_err *e)
{
    (void)weak;
    if (n->params.axis < 0 || n->params.axis >= n->in[0]->type.ndim)
        return err_set(e, DAMO_ERR_INVALID, "shape_i: axis %d is out of bounds for dimension %d",
                       n->params.axis, n->in[0]->type.ndim);
    types[0].dtype = DAMO_INT64;
    types[0].ndim = 0;
    return DAMO_OK;
}

damo_status shape_i_host(const gnode *n, void *const *in, void *const *out, damo_err *e)
{
    (void)in;
    (void)e;
    *(int64_t *)out[0] = n->in[0]->type.shape[n->params.axis];
    return DAMO_OK;
}

damo_var *damo_shape(damo_var *x)
{
    if (!x)
        return NULL;
    const gtype *t = &x->type;
    int64_t len = t->ndim;
    if (gtype_static_size(t) >= 0 || t->ndim == 0)
        return graph_const(x->g, DAMO_INT64, 1, &len, t->shape, WEAK_NONE);
    op_params p = {0};
    return graph_apply(x->g, OP_SHAPE, &p, &x, 1);
}

damo_var *damo_shape_i(damo_var *x, int i)
{
    if (!x)
        return NULL;
    int nd = x->type.ndim;
    if (i < -nd || i >= nd) {
        err_set(&x->g->err, DAMO_ERR_INVALID, "shape_i: axis %d is out of bounds for dimension %d",
                i, nd);
        return NULL;
    }
    int d = i < 0 ? i + nd : i;
    if (x->type.shape[d] != DAMO_DIM_UNKNOWN)
        return int_const(x->g, x->type.shape[d]);
    op_params p = {0};
    p.axis = d;
    return graph_apply(x->g, OP_SHAPE_I, &p, &x, 1);
}

/* ---- alloc and friends ----------------------------------------------------- */

damo_status alloc_infer(const gnode *n, gtype *types, weak_kind *weak, damo_err *e)
{
    (void)weak;
    const gtype *v = &n->in[0]->type;
    int nd = n->params.ndim;
    char lab[256];
    var_label(n->in[0], lab, sizeof lab);
    if (nd < v->ndim || nd > DAMO_MAX_DIMS)
        return err_set(e, DAMO_ERR_SHAPE, "alloc of %s: %d sizes for a %d-dimensional value", lab,
                       nd, v->ndim);
    types[0].dtype = v->dtype;
    types[0].ndim = nd;
    node_sizes(n, nd, 1, NULL, types[0].shape);
    for (int d = 0; d < nd; d++) {
        int k = d - (nd - v->ndim);
        int64_t vs = k >= 0 ? v->shape[k] : 1, *s = &types[0].shape[d];
        if (*s < 0 && *s != DAMO_DIM_UNKNOWN)
            return err_set(e, DAMO_ERR_SHAPE, "alloc of %s: size %d is negative", lab, d);
        if (vs == DAMO_DIM_UNKNOWN || vs == 1)
            continue;
        if (*s != DAMO_DIM_UNKNOWN && *s != vs)
            return err_set(e, DAMO_ERR_SHAPE,
                           "alloc of %s: dimension %d of the value has size %lld, which cannot be "
                           "broadcast to %lld", lab, k, (long long)vs, (long long)*s);
        *s = vs;
    }
    return DAMO_OK;
}

static damo_status map_alloc(const gnode *n, const layout *in, layout *out, damo_err *e)
{
    return layout_alloc(in, n->out[0]->type.ndim, n->out[0]->type.shape, out, "", e);
}

damo_status alloc_host(const gnode *n, void *const *in, void *const *out, damo_err *e)
{
    return host_view(n, in[0], out[0], e, map_alloc);
}

damo_var *damo_alloc(damo_var *value, int ndim, damo_var *const *dims)
{
    if (!value)
        return NULL;
    damo_graph *g = value->g;
    if (ndim < 0 || ndim > DAMO_MAX_DIMS || (ndim && !dims)) {
        err_set(&g->err, DAMO_ERR_INVALID, "alloc: ndim %d is outside 0..%d or dims is NULL", ndim,
                DAMO_MAX_DIMS);
        return NULL;
    }
    op_params p = {0};
    p.ndim = ndim;
    damo_var *in[1 + DAMO_MAX_DIMS] = {value};
    int n_in = 1;
    if (take_sizes(g, "alloc", 0, ndim, dims, &p, in, &n_in) != DAMO_OK)
        return NULL;
    return graph_apply(g, OP_ALLOC, &p, in, n_in);
}

damo_var *graph_index_grid(damo_graph *g, int ndim, damo_var *const *dims)
{
    op_params p = {0};
    p.ndim = ndim;
    damo_var *in[1 + DAMO_MAX_DIMS] = {damo_const_scalar(g, DAMO_UINT64, 0)};
    int n_in = 1;
    if (!in[0] || take_sizes(g, "random draw", 0, ndim, dims, &p, in, &n_in) != DAMO_OK)
        return NULL;
    return graph_apply(g, OP_INDEX_GRID, &p, in, n_in);
}

static damo_var *filled(damo_graph *g, damo_dtype dtype, double value, int ndim, damo_var *const *dims)
{
    if (!g)
        return err_set(NULL, DAMO_ERR_INVALID, "zeros / ones: graph is NULL"), NULL;
    return damo_alloc(damo_const_scalar(g, dtype, value), ndim, dims);
}

damo_var *damo_zeros(damo_graph *g, damo_dtype dtype, int ndim, damo_var *const *dims)
{
    return filled(g, dtype, 0, ndim, dims);
}

damo_var *damo_ones(damo_graph *g, damo_dtype dtype, int ndim, damo_var *const *dims)
{
    return filled(g, dtype, 1, ndim, dims);
}

damo_var *damo_fill(damo_var *like, damo_var *value)
{
    damo_var *in[2] = {like, value};
    if (!builder_graph("fill", 2, in))
        return NULL;
    damo_var *dims[DAMO_MAX_DIMS];
    for (int d = 0; d < like->type.ndim; d++)
        dims[d] = damo_shape_i(like, d);
    return damo_alloc(value, like->type.ndim, dims);
}

damo_var *damo_zeros_like(damo_var *x)
{
    return x ? damo_fill(x, damo_const_scalar(x->g, x->type.dtype, 0)) : NULL;
}

damo_var *damo_ones_like(damo_var *x)
{
    return x ? damo_fill(x, damo_const_scalar(x->g, x->type.dtype, 1)) : NULL;
}

/* ---- arange ---------------------------------------------------------------- */

int64_t arange_length(damo_dtype dtype, hval start, hval stop, hval step)
{
    if (dtype_kind_of(dtype) == KIND_FLOAT) {
        double len = ceil((stop.f64 - start.f64) / step.f64);
        return len > 0 ? (len < 9.2e18 ? (int64_t)len : INT64_MAX) : 0;
    }
    /* exact: the distance and the step's magnitude as uint64 */
    int up = step.i > 0;
    if (up ? stop.i <= start.i : stop.i >= start.i)
        return 0;
    uint64_t dist = up ? (uint64_t)stop.i - (uint64_t)start.i : (uint64_t)start.i - (uint64_t)stop.i;
    uint64_t mag = up ? (uint64_t)step.i : 0 - (uint64_t)step.i;
    uint64_t len = dist / mag + (dist % mag != 0);
    return len > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)len;
}

void arange_fill(damo_dtype dtype, hval start, hval step, int64_t n, void *out)
{
    if (dtype_kind_of(dtype) != KIND_FLOAT) {
        for (int64_t i = 0; i < n; i++)
            hval_store(dtype, out, i, hval_wrap(dtype, (hval){.u = (uint64_t)start.i + (uint64_t)i * (uint64_t)step.i}));
        return;
    }
    /* NumPy's fill: start, start + step, then start + i * delta with delta
     * the difference of the first two, in the dtype */
    if (dtype == DAMO_FLOAT32) {
        float *o = out, a = (float)start.f64, b = (float)(start.f64 + step.f64), delta = b - a;
        for (int64_t i = 0; i < n; i++)
            o[i] = i == 0 ? a : i == 1 ? b : a + (float)i * delta;
    } else {
        double *o = out, a = start.f64, b = start.f64 + step.f64, delta = b - a;
        for (int64_t i = 0; i < n; i++)
            o[i] = i == 0 ? a : i == 1 ? b : a + (double)i * delta;
    }
}

/* start, stop and step as the dtype's host class (int64 for integers,
 * float64 for floats). */
static hval arange_arg(damo_dtype dtype, damo_dtype from, hval v)
{
    return dtype_kind_of(dtype) == KIND_FLOAT ? (hval){.f64 = hval_to_double(from, v)}
                                              : hval_convert(from, DAMO_INT64, v);
}

void arange_args(damo_dtype dtype, const damo_dtype *from, const hval *v, hval *out)
{
    for (int i = 0; i < 3; i++)
        out[i] = arange_arg(dtype, from[i], v[i]);
}

int arange_step_zero(damo_dtype dtype, hval step)
{
    return dtype_kind_of(dtype) == KIND_FLOAT ? step.f64 == 0 : step.i == 0;
}

damo_status arange_infer(const gnode *n, gtype *types, weak_kind *weak, damo_err *e)
{
    (void)weak;
    damo_dtype t = (damo_dtype)n->params.dtype;
    types[0].dtype = t;
    types[0].ndim = 1;
    types[0].shape[0] = DAMO_DIM_UNKNOWN;
    for (int i = 0; i < 3; i++)
        if (n->in[i]->kind != VAR_CONST)
            return DAMO_OK;
    hval v[3], a[3];
    damo_dtype from[3];
    for (int i = 0; i < 3; i++) {
        from[i] = n->in[i]->type.dtype;
        v[i] = hval_load(from[i], n->in[i]->data, 0);
    }
    arange_args(t, from, v, a);
    if (arange_step_zero(t, a[2]))
        return err_set(e, DAMO_ERR_INVALID, "arange: step is zero");
    types[0].shape[0] = arange_length(t, a[0], a[1], a[2]);
    return DAMO_OK;
}

damo_status arange_host(const gnode *n, void *const *in, void *const *out, damo_err *e)
{
    (void)e;
    damo_dtype t = n->out[0]->type.dtype, from[3];
    hval v[3], a[3];
    for (int i = 0; i < 3; i++) {
        from[i] = n->in[i]->type.dtype;
        v[i] = hval_load(from[i], in[i], 0);
    }
    arange_args(t, from, v, a);
    arange_fill(t, a[0], a[2], n->out[0]->type.shape[0], out[0]);
    return DAMO_OK;
}

damo_var *damo_arange(damo_var *start, damo_var *stop, damo_var *step)
{
    damo_var *in[3] = {start, stop, step};
    damo_graph *g = builder_graph("arange", 3, in);
    if (!g)
        return NULL;
    op_operand args[2];
    op_types t = {0};
    damo_dtype dt = DAMO_INT64;
    weak_kind wk = WEAK_NONE;
    for (int i = 0; i < 3; i++) {
        if (in[i]->type.ndim != 0 || in[i]->type.dtype == DAMO_BOOL) {
            err_set(&g->err, DAMO_ERR_TYPE, "arange: argument %d must be a numeric scalar", i);
            return NULL;
        }
        args[0] = (op_operand){i ? dt : in[0]->type.dtype, i ? wk : in[0]->weak};
        args[1] = (op_operand){in[i]->type.dtype, in[i]->weak};
        if (op_infer(SOP_ADD, args, DAMO_INT64, &t, &g->err) != DAMO_OK)
            return NULL;
        dt = t.out;
        wk = t.weak;
    }
    op_params p = {0};
    p.dtype = wk != WEAK_NONE ? dtype_of_weak(wk) : dt;
    damo_var *v = graph_apply(g, OP_ARANGE, &p, in, 3);
    if (v && v->type.shape[0] >= 0 && v->type.shape[0] <= FOLD_MAX_ELEMENTS &&
        graph_fold(g, v->node, &v) < 0)
        return NULL;
    return v;
}

/* ---- eye ------------------------------------------------------------------ */

damo_status eye_infer(const gnode *n, gtype *types, weak_kind *weak, damo_err *e)
{
    (void)weak;
    (void)e;
    types[0].dtype = (damo_dtype)n->params.dtype;
    types[0].ndim = 2;
    node_sizes(n, 2, 0, NULL, types[0].shape);
    return DAMO_OK;
}

void eye_fill(damo_dtype dtype, int64_t rows, int64_t cols, int64_t k, void *out)
{
    memset(out, 0, (size_t)(rows * cols) * damo_dtype_size(dtype));
    for (int64_t i = 0; i < rows; i++)
        if (i + k >= 0 && i + k < cols)
            hval_store(dtype, out, i * cols + i + k, hval_from_int(dtype, 1));
}

damo_status eye_host(const gnode *n, void *const *in, void *const *out, damo_err *e)
{
    (void)in;
    (void)e;
    const gtype *t = &n->out[0]->type;
    eye_fill(t->dtype, t->shape[0], t->shape[1], n->params.k, out[0]);
    return DAMO_OK;
}

/* ---- permutation ------------------------------------------------------------ */

/* Inputs: key, counter (uint64 scalars) and n (an integer scalar). */
damo_status permutation_infer(const gnode *n, gtype *types, weak_kind *weak, damo_err *e)
{
    (void)weak;
    (void)e;
    const damo_var *len = n->in[2];
    types[0].dtype = DAMO_INT64;
    types[0].ndim = 1;
    types[0].shape[0] = len->kind == VAR_CONST
                            ? hval_convert(len->type.dtype, DAMO_INT64, hval_load(len->type.dtype, len->data, 0)).i
                            : DAMO_DIM_UNKNOWN;
    return DAMO_OK;
}

void permutation_fill(uint64_t key, uint64_t ctr, int64_t n, int64_t *out)
{
    for (int64_t i = 0; i < n; i++)
        out[i] = i;
    /* Fisher-Yates, position i swapped with one of 0..i picked by the 64
     * bits of block ctr + i (bias below (i + 1) / 2^64) */
    for (int64_t i = n - 1; i > 0; i--) {
        uint64_t r = op_eval(SOP_RAND_U64, DAMO_UINT64, (hval){.u = key}, (hval){.u = ctr},
                             (hval){.u = (uint64_t)i}).u;
        int64_t j = (int64_t)(r % (uint64_t)(i + 1)), t = out[i];
        out[i] = out[j];
        out[j] = t;
    }
}

damo_var *damo_eye(damo_var *n, damo_var *m, int k, damo_dtype dtype)
{
    if (!n)
        return NULL;
    damo_graph *g = n->g;
    if (!dtype_valid(dtype)) {
        err_set(&g->err, DAMO_ERR_TYPE, "eye: invalid dtype %d", dtype);
        return NULL;
    }
    op_params p = {0};
    p.dtype = dtype;
    p.k = k;
    damo_var *dims[2] = {n, m ? m : n}, *in[2];
    int n_in = 0;
    if (take_sizes(g, "eye", 0, 2, dims, &p, in, &n_in) != DAMO_OK)
        return NULL;
    damo_var *v = graph_apply(g, OP_EYE, &p, in, n_in);
    if (v && gtype_static_size(&v->type) >= 0 && gtype_static_size(&v->type) <= FOLD_MAX_ELEMENTS &&
        graph_fold(g, v->node, &v) < 0)
        return NULL;
    return v;
}

/* ---- concatenate and stack -------------------------------------------------- */

damo_status concat_infer(const gnode *n, gtype *types, weak_kind *weak, damo_err *e)
{
    (void)weak;
    const gtype *x0 = &n->in[0]->type;
    int axis = n->params.axis;
    *types = *x0;
    for (int i = 1; i < n->n_in; i++) {
        const gtype *x = &n->in[i]->type;
        if (x->ndim != x0->ndim || x->dtype != x0->dtype)
            return err_set(e, DAMO_ERR_SHAPE,
                           "concatenate: the array at index %d has %d dimensions and dtype %s, the "
                           "first %d and %s", i, x->ndim, damo_dtype_name(x->dtype), x0->ndim,
                           damo_dtype_name(x0->dtype));
        for (int d = 0; d < x->ndim; d++) {
            int64_t *s = &types->shape[d];
            if (d == axis) {
                *s = *s == DAMO_DIM_UNKNOWN || x->shape[d] == DAMO_DIM_UNKNOWN ? DAMO_DIM_UNKNOWN
                                                                                : *s + x->shape[d];
            } else if (x->shape[d] != DAMO_DIM_UNKNOWN) {
                if (*s != DAMO_DIM_UNKNOWN && *s != x->shape[d])
                    return err_set(e, DAMO_ERR_SHAPE,
                                   "concatenate: all the input array dimensions except for the "
                                   "concatenation axis must match exactly, but along dimension "
                                   "%d, an earlier array has size %lld and the array at index "
                                   "%d has size %lld", d, (long long)*s, i, (long long)x->shape[d]);
                *s = x->shape[d];
            }
        }
    }
    return DAMO_OK;
}

damo_status concat_host(const gnode *n, void *const *in, void *const *out, damo_err *e)
{
    (void)e;
    const gtype *t = &n->out[0]->type;
    size_t es = damo_dtype_size(t->dtype);
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < t->ndim; d++) {
        if (d < n->params.axis)
            outer *= t->shape[d];
        else if (d > n->params.axis)
            inner *= t->shape[d];
    }
    char *dst = out[0];
    for (int64_t o = 0; o < outer; o++)
        for (int i = 0; i < n->n_in; i++) {
            size_t row = (size_t)(n->in[i]->type.shape[n->params.axis] * inner) * es;
            memcpy(dst, (const char *)in[i] + (size_t)o * row, row);
            dst += row;
        }
    return DAMO_OK;
}

damo_var *damo_concatenate(int n, damo_var *const *xs, int axis)
{
    if (n < 1 || !xs)
        return err_set(NULL, DAMO_ERR_INVALID, "concatenate: needs at least one array"), NULL;
    damo_graph *g = builder_graph("concatenate", n, xs);
    if (!g)
        return NULL;
    int nd = xs[0]->type.ndim;
    if (nd == 0) {
        err_set(&g->err, DAMO_ERR_SHAPE, "concatenate: zero-dimensional arrays cannot be concatenated");
        return NULL;
    }
    if (axis < -nd || axis >= nd) {
        err_set(&g->err, DAMO_ERR_INVALID,
                "concatenate: axis %d is out of bounds for an array of dimension %d", axis, nd);
        return NULL;
    }
    damo_dtype t = xs[0]->type.dtype;
    for (int i = 1; i < n; i++) {
        op_operand args[2] = {{t, WEAK_NONE}, {xs[i]->type.dtype, WEAK_NONE}};
        op_types ty;
        if (op_infer(SOP_ADD, args, DAMO_INT64, &ty, &g->err) != DAMO_OK)
            return NULL;
        t = ty.out;
    }
    if (n == 1)
        return xs[0];
    damo_var **in = malloc((size_t)n * sizeof *in);
    if (!in) {
        err_set(&g->err, DAMO_ERR_NOMEM, "out of memory building the graph");
        return NULL;
    }
    int ok = 1;
    for (int i = 0; i < n && ok; i++)
        ok = (in[i] = xs[i]->type.dtype == t ? xs[i] : damo_cast(xs[i], t)) != NULL;
    op_params p = {0};
    p.axis = axis < 0 ? axis + nd : axis;
    damo_var *v = ok ? graph_apply(g, OP_CONCAT, &p, in, n) : NULL;
    free(in);
    return v;
}

damo_var *damo_stack(int n, damo_var *const *xs, int axis)
{
    if (n < 1 || !xs)
        return err_set(NULL, DAMO_ERR_INVALID, "stack: needs at least one array"), NULL;
    damo_graph *g = builder_graph("stack", n, xs);
    if (!g)
        return NULL;
    int nd = xs[0]->type.ndim;
    if (axis < -(nd + 1) || axis > nd || nd + 1 > DAMO_MAX_DIMS) {
        err_set(&g->err, DAMO_ERR_INVALID, "stack: axis %d is out of bounds for an array of dimension %d",
                axis, nd + 1);
        return NULL;
    }
    int a = axis < 0 ? axis + nd + 1 : axis, order[DAMO_MAX_DIMS];
    for (int d = 0, k = 0; d <= nd; d++)
        order[d] = d == a ? DAMO_NEWAXIS : k++;
    damo_var **in = malloc((size_t)n * sizeof *in);
    if (!in) {
        err_set(&g->err, DAMO_ERR_NOMEM, "out of memory building the graph");
        return NULL;
    }
    int ok = 1;
    for (int i = 0; i < n && ok; i++) {
        if (xs[i]->type.ndim != nd) {
            err_set(&g->err, DAMO_ERR_SHAPE, "stack: all input arrays must have the same shape "
                    "(the array at index %d has %d dimensions, the first %d)", i, xs[i]->type.ndim, nd);
            ok = 0;
        } else {
            ok = (in[i] = damo_dimshuffle(xs[i], nd + 1, order)) != NULL;
        }
    }
    damo_var *v = ok ? damo_concatenate(n, in, a) : NULL;
    free(in);
    return v;
}

damo_status dimshuffle_grad(damo_graph *g, const gnode *n, damo_var *const *out_grads, damo_var **in_grads)
{
    const op_params *p = &n->params;
    int nd = n->in[0]->type.ndim, inv[DAMO_MAX_DIMS];
    for (int a = 0; a < nd; a++)
        inv[a] = DAMO_NEWAXIS; /* an axis dropped had size 1 */
    for (int d = 0; d < p->ndim; d++)
        if (p->order[d] != DAMO_NEWAXIS)
            inv[p->order[d]] = d;
    in_grads[0] = damo_dimshuffle(out_grads[0], nd, inv);
    return in_grads[0] ? DAMO_OK : g->err.code ? g->err.code : DAMO_ERR_NOMEM;
}

damo_status reshape_grad(damo_graph *g, const gnode *n, damo_var *const *out_grads, damo_var **in_grads)
{
    in_grads[0] = damo_reshape_to(out_grads[0], damo_shape(n->in[0]));
    return in_grads[0] ? DAMO_OK : g->err.code ? g->err.code : DAMO_ERR_NOMEM;
}

damo_status alloc_grad(damo_graph *g, const gnode *n, damo_var *const *out_grads, damo_var **in_grads)
{
    in_grads[0] = grad_sum_to(out_grads[0], n->in[0], NULL, 0);
    return in_grads[0] ? DAMO_OK : g->err.code ? g->err.code : DAMO_ERR_NOMEM;
}

/* Input i's part of gz: a slice along the axis while every size before it
 * is known, else rows picked by an arange of symbolic offsets. */
damo_status concat_grad(damo_graph *g, const gnode *n, damo_var *const *out_grads, damo_var **in_grads)
{
    int axis = n->params.axis, nd = n->out[0]->type.ndim;
    damo_var *gz = out_grads[0], *start = NULL;
    int64_t at = 0;
    for (int i = 0; i < n->n_in; i++) {
        damo_var *x = n->in[i];
        int64_t s = x->type.shape[axis];
        if (!start && s != DAMO_DIM_UNKNOWN) {
            damo_slice idx[DAMO_MAX_DIMS];
            for (int d = 0; d < nd; d++)
                idx[d] = d == axis ? DAMO_SLICE(at, at + s, 1) : DAMO_ALL;
            in_grads[i] = damo_subtensor(gz, nd, idx);
            at += s;
        } else {
            int order[DAMO_MAX_DIMS], back[DAMO_MAX_DIMS];
            order[0] = axis;
            for (int d = 0, k = 1; d < nd; d++)
                if (d != axis)
                    order[k++] = d;
            for (int d = 0; d < nd; d++)
                back[order[d]] = d;
            if (!start)
                start = damo_int(g, at);
            damo_var *stop = damo_add(start, damo_shape_i(x, axis));
            damo_var *rows = damo_take(damo_dimshuffle(gz, nd, order), damo_arange(start, stop, damo_int(g, 1)));
            in_grads[i] = damo_dimshuffle(rows, nd, back);
            start = stop;
        }
        if (!in_grads[i])
            return g->err.code ? g->err.code : DAMO_ERR_NOMEM;
    }
    return DAMO_OK;
}
