/* Public graph builders: input constructors, literals and elementwise ops.
 * A NULL input yields NULL without a new message, so that the first error
 * of a chained expression is the one reported. */
#include <ctype.h>
#include <stdarg.h>
#include <string.h>

#include "graph.h"
#include "op.h"

damo_var *damo_tensor(damo_graph *g, damo_dtype dtype, int ndim, const int64_t *shape,
                      const char *name)
{
    if (!g)
        return err_set(NULL, DAMO_ERR_INVALID, "tensor %s: graph is NULL", name ? name : ""), NULL;
    if (!dtype_valid(dtype)) {
        err_set(&g->err, DAMO_ERR_TYPE, "tensor %s: invalid dtype %d", name ? name : "", dtype);
        return NULL;
    }
    if (ndim < 0 || ndim > DAMO_MAX_DIMS) {
        err_set(&g->err, DAMO_ERR_SHAPE, "tensor %s: ndim %d is outside 0..%d", name ? name : "",
                ndim, DAMO_MAX_DIMS);
        return NULL;
    }
    gtype t = {dtype, ndim, {0}};
    for (int d = 0; d < ndim; d++) {
        int64_t s = shape ? shape[d] : DAMO_DIM_UNKNOWN;
        if (s < 0 && s != DAMO_DIM_UNKNOWN) {
            err_set(&g->err, DAMO_ERR_SHAPE, "tensor %s: dimension %d has negative size %lld",
                    name ? name : "", d, (long long)s);
            return NULL;
        }
        t.shape[d] = s;
    }
    return graph_add_var(g, VAR_INPUT, &t, name);
}

/* Splits "a, b c" into names and creates one variable per name; the
 * variadic arguments are the `damo_var **` outputs. */
static damo_status make_many(damo_graph *g, damo_dtype dtype, int ndim, const char *names,
                             va_list ap)
{
    if (!names)
        return err_set(g ? &g->err : NULL, DAMO_ERR_INVALID, "names is NULL");
    /* without a graph every output is still set, to NULL */
    damo_status st = g ? DAMO_OK : err_set(NULL, DAMO_ERR_INVALID, "%s: graph is NULL", names);
    const char *p = names;
    for (;;) {
        while (*p == ',' || isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        const char *start = p;
        while (*p && *p != ',' && !isspace((unsigned char)*p))
            p++;
        char name[256];
        size_t len = (size_t)(p - start) < sizeof name - 1 ? (size_t)(p - start) : sizeof name - 1;
        memcpy(name, start, len);
        name[len] = '\0';
        damo_var **out = va_arg(ap, damo_var **);
        *out = st == DAMO_OK ? damo_tensor(g, dtype, ndim, NULL, name) : NULL;
        if (!*out && st == DAMO_OK)
            st = g->err.code ? g->err.code : DAMO_ERR_NOMEM;
    }
    return st;
}

#define DEFINE_CONSTRUCTORS(p, DT)                                                        \
    damo_var *damo_##p##scalar(damo_graph *g, const char *n) { return damo_tensor(g, DT, 0, NULL, n); } \
    damo_var *damo_##p##vector(damo_graph *g, const char *n) { return damo_tensor(g, DT, 1, NULL, n); } \
    damo_var *damo_##p##matrix(damo_graph *g, const char *n) { return damo_tensor(g, DT, 2, NULL, n); } \
    damo_var *damo_##p##tensor3(damo_graph *g, const char *n) { return damo_tensor(g, DT, 3, NULL, n); } \
    damo_var *damo_##p##tensor4(damo_graph *g, const char *n) { return damo_tensor(g, DT, 4, NULL, n); } \
    damo_status damo_##p##scalars(damo_graph *g, const char *names, ...)                 \
    {                                                                                     \
        va_list ap;                                                                       \
        va_start(ap, names);                                                              \
        damo_status st = make_many(g, DT, 0, names, ap);                                  \
        va_end(ap);                                                                       \
        return st;                                                                        \
    }                                                                                     \
    damo_status damo_##p##vectors(damo_graph *g, const char *names, ...)                 \
    {                                                                                     \
        va_list ap;                                                                       \
        va_start(ap, names);                                                              \
        damo_status st = make_many(g, DT, 1, names, ap);                                  \
        va_end(ap);                                                                       \
        return st;                                                                        \
    }                                                                                     \
    damo_status damo_##p##matrices(damo_graph *g, const char *names, ...)                \
    {                                                                                     \
        va_list ap;                                                                       \
        va_start(ap, names);                                                              \
        damo_status st = make_many(g, DT, 2, names, ap);                                  \
        va_end(ap);                                                                       \
        return st;                                                                        \
    }
DEFINE_CONSTRUCTORS(b, DAMO_INT8)
DEFINE_CONSTRUCTORS(w, DAMO_INT16)
DEFINE_CONSTRUCTORS(i, DAMO_INT32)
DEFINE_CONSTRUCTORS(l, DAMO_INT64)
DEFINE_CONSTRUCTORS(f, DAMO_FLOAT32)
DEFINE_CONSTRUCTORS(d, DAMO_FLOAT64)

damo_var *damo_float(damo_graph *g, double value)
{
    if (!g)
        return err_set(NULL, DAMO_ERR_INVALID, "float: graph is NULL"), NULL;
    return graph_const(g, DAMO_FLOAT64, 0, NULL, &value, WEAK_FLOAT);
}

damo_var *damo_int(damo_graph *g, int64_t value)
{
    if (!g)
        return err_set(NULL, DAMO_ERR_INVALID, "int: graph is NULL"), NULL;
    return graph_const(g, DAMO_INT64, 0, NULL, &value, WEAK_INT);
}

damo_var *damo_const_scalar(damo_graph *g, damo_dtype dtype, double value)
{
    if (!g)
        return err_set(NULL, DAMO_ERR_INVALID, "const_scalar: graph is NULL"), NULL;
    if (!dtype_valid(dtype)) {
        err_set(&g->err, DAMO_ERR_TYPE, "const_scalar: invalid dtype %d", dtype);
        return NULL;
    }
    unsigned char buf[8];
    hval_store(dtype, buf, 0, hval_from_double(dtype, value));
    return graph_const(g, dtype, 0, NULL, buf, WEAK_NONE);
}

damo_graph *builder_graph(const char *what, int n, damo_var *const *in)
{
    for (int i = 0; i < n; i++)
        if (!in[i])
            return NULL;
    damo_graph *g = in[0]->g;
    for (int i = 1; i < n; i++)
        if (in[i]->g != g) {
            err_set(&g->err, DAMO_ERR_INVALID, "%s: input %d belongs to another graph", what, i);
            return NULL;
        }
    return g;
}

static damo_graph *common_graph(op_id op, int n, damo_var *const *in)
{
    return builder_graph(op_info_of(op)->name, n, in);
}

/* An elementwise op; over C literals only it is evaluated at once, as
 * Python evaluates `-300` before NumPy sees it, so a literal's value is
 * always known to the range checks. */
static damo_var *apply_params(op_id op, int n, damo_var *const *in, const op_params *params)
{
    damo_graph *g = common_graph(op, n, in);
    if (!g)
        return NULL;
    int literals = 1;
    for (int i = 0; i < n; i++)
        literals &= in[i]->kind == VAR_CONST && in[i]->weak != WEAK_NONE;
    damo_var *v = graph_apply(g, op, params, in, n);
    if (v && literals && graph_fold(g, v->node, &v) < 0)
        return NULL;
    return v;
}

static damo_var *apply(op_id op, int n, damo_var *const *in)
{
    op_params params = {0};
    return apply_params(op, n, in, &params);
}

/* The value of a C integer literal, when v is one. */
static int int_literal(const damo_var *v, int64_t *value)
{
    if (v->kind != VAR_CONST || v->weak != WEAK_INT)
        return 0;
    *value = hval_load(DAMO_INT64, v->data, 0).i;
    return 1;
}

static int is_strong_int(const damo_var *v)
{
    dtype_kind k = dtype_kind_of(v->type.dtype);
    return v->weak == WEAK_NONE && (k == KIND_INT || k == KIND_UINT);
}

/* The comparison with its operands swapped: a < b is b > a. */
static const op_id mirror[] = {[OP_LT] = OP_GT, [OP_GT] = OP_LT, [OP_LE] = OP_GE,
                               [OP_GE] = OP_LE, [OP_EQ] = OP_EQ, [OP_NEQ] = OP_NEQ};

static int is_signed_and_uint64(const damo_var *x, const damo_var *y)
{
    return x->weak == WEAK_NONE && y->weak == WEAK_NONE && dtype_kind_of(x->type.dtype) == KIND_INT &&
           y->type.dtype == DAMO_UINT64;
}

/* A signed integer and a uint64 promote to float64, which rounds both; as
 * NumPy 2 does, comparisons between them are exact instead: x < y is
 * x < 0 or uint64(x) < y, and so on. */
static damo_var *compare_mixed(op_id op, damo_var *a, damo_var *b)
{
    int flip = a->type.dtype == DAMO_UINT64;
    damo_var *x = flip ? b : a, *y = flip ? a : b;
    op_id o = flip ? mirror[op] : op;
    damo_var *ux[2] = {damo_cast(x, DAMO_UINT64), y};
    damo_var *zero[2] = {x, damo_int(x->g, 0)};
    damo_var *same = apply(o, 2, ux);
    /* a negative x is below every y */
    if (o == OP_LT || o == OP_LE || o == OP_NEQ)
        return damo_or(apply(OP_LT, 2, zero), same);
    return damo_and(apply(OP_GE, 2, zero), same);
}

/* x op c with c outside x's integer dtype is the same for every x, as
 * NumPy 2 answers it: such a comparison becomes an always-true (x >= min)
 * or always-false (x < min) one within the dtype's range. */
static damo_var *compare(op_id op, damo_var *a, damo_var *b)
{
    damo_var *in[2] = {a, b};
    damo_graph *g = common_graph(op, 2, in);
    if (!g)
        return NULL;
    if (is_signed_and_uint64(a, b) || is_signed_and_uint64(b, a))
        return compare_mixed(op, a, b);
    int64_t c;
    int flip = int_literal(a, &c) && is_strong_int(b);
    if (!flip && !(int_literal(b, &c) && is_strong_int(a)))
        return apply(op, 2, in);
    damo_var *x = flip ? b : a;
    damo_dtype t = x->type.dtype;
    if (dtype_holds_int(t, c))
        return apply(op, 2, in);
    /* as x op' c: c < x is x > c */
    op_id o = flip ? mirror[op] : op;
    int below = c < dtype_int_min(t);
    int always = o == OP_NEQ || (below ? (o == OP_GT || o == OP_GE) : (o == OP_LT || o == OP_LE));
    damo_var *args[2] = {x, damo_int(g, dtype_int_min(t))};
    return apply(always ? OP_GE : OP_LT, 2, args);
}

#define DEFINE_UNARY(fn, ID)                                                  \
    damo_var *damo_##fn(damo_var *a) { return apply(OP_##ID, 1, &a); }
#define DEFINE_BINARY(fn, ID)                                                 \
    damo_var *damo_##fn(damo_var *a, damo_var *b)                             \
    {                                                                         \
        damo_var *in[2] = {a, b};                                             \
        return apply(OP_##ID, 2, in);                                         \
    }
#define DEFINE_COMPARE(fn, ID)                                                \
    damo_var *damo_##fn(damo_var *a, damo_var *b) { return compare(OP_##ID, a, b); }
DEFINE_BINARY(add, ADD)
DEFINE_BINARY(sub, SUB)
DEFINE_BINARY(mul, MUL)
DEFINE_BINARY(true_div, TRUE_DIV)
DEFINE_BINARY(div, TRUE_DIV)
DEFINE_BINARY(int_div, INT_DIV)
DEFINE_BINARY(mod, MOD)
DEFINE_BINARY(pow, POW)
DEFINE_BINARY(arctan2, ARCTAN2)
DEFINE_BINARY(maximum, MAXIMUM)
DEFINE_BINARY(minimum, MINIMUM)
DEFINE_COMPARE(lt, LT)
DEFINE_COMPARE(gt, GT)
DEFINE_COMPARE(le, LE)
DEFINE_COMPARE(ge, GE)
DEFINE_COMPARE(eq, EQ)
DEFINE_COMPARE(neq, NEQ)
DEFINE_BINARY(and, AND)
DEFINE_BINARY(or, OR)
DEFINE_BINARY(xor, XOR)
DEFINE_UNARY(not, NOT)
DEFINE_UNARY(neg, NEG)
DEFINE_UNARY(abs, ABS)
DEFINE_UNARY(sign, SIGN)
DEFINE_UNARY(sqr, SQR)
DEFINE_UNARY(exp, EXP)
DEFINE_UNARY(expm1, EXPM1)
DEFINE_UNARY(log, LOG)
DEFINE_UNARY(log1p, LOG1P)
DEFINE_UNARY(log2, LOG2)
DEFINE_UNARY(log10, LOG10)
DEFINE_UNARY(sqrt, SQRT)
DEFINE_UNARY(sin, SIN)
DEFINE_UNARY(cos, COS)
DEFINE_UNARY(tan, TAN)
DEFINE_UNARY(arcsin, ARCSIN)
DEFINE_UNARY(arccos, ARCCOS)
DEFINE_UNARY(arctan, ARCTAN)
DEFINE_UNARY(sinh, SINH)
DEFINE_UNARY(cosh, COSH)
DEFINE_UNARY(tanh, TANH)
DEFINE_UNARY(sigmoid, SIGMOID)
DEFINE_UNARY(softplus, SOFTPLUS)
DEFINE_UNARY(erf, ERF)
DEFINE_UNARY(floor, FLOOR)
DEFINE_UNARY(ceil, CEIL)
DEFINE_UNARY(round, ROUND)
DEFINE_UNARY(isnan, ISNAN)
DEFINE_UNARY(isinf, ISINF)

/* A C integer lower bound below a strong integer dtype's range, or upper
 * bound above it, clamps to the range, as NumPy 2's clip does: the clip is
 * unchanged by it. Any other bound outside the range stays, and is the
 * OverflowError NumPy gives. */
static damo_var *clamp_bound(damo_var *bound, const damo_var *a, int upper)
{
    int64_t c;
    if (!bound || !a || !is_strong_int(a) || !int_literal(bound, &c))
        return bound;
    damo_dtype t = a->type.dtype;
    if (!upper && c < dtype_int_min(t))
        return damo_int(bound->g, dtype_int_min(t));
    if (upper && c > dtype_int_max(t))
        return damo_int(bound->g, dtype_int_max(t));
    return bound;
}

damo_var *damo_clip(damo_var *a, damo_var *lo, damo_var *hi)
{
    damo_var *in[3] = {a, clamp_bound(lo, a, 0), clamp_bound(hi, a, 1)};
    return apply(OP_CLIP, 3, in);
}

damo_var *damo_switch(damo_var *cond, damo_var *a, damo_var *b)
{
    damo_var *in[3] = {cond, a, b};
    return apply(OP_SWITCH, 3, in);
}

damo_var *damo_cast(damo_var *a, damo_dtype dtype)
{
    if (!a)
        return NULL;
    if (!dtype_valid(dtype)) {
        err_set(&a->g->err, DAMO_ERR_TYPE, "cast: invalid dtype %d", dtype);
        return NULL;
    }
    op_params params = {0};
    params.dtype = dtype;
    return apply_params(OP_CAST, 1, &a, &params);
}
