/* Draws: each a new state with its default update, and elementwise work
 * on the random bits of RAND_* ops, so that fusion puts a draw inside the
 * kernel of the elementwise work that reads it. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "random.h"

typedef struct draw {
    damo_graph *g;
    int ndim;
    damo_var *dims[DAMO_MAX_DIMS];
    damo_var *key, *ctr, *grid;
} draw;

damo_var *damo_size(damo_graph *g, int n, const int64_t *dims)
{
    if (!g)
        return err_set(NULL, DAMO_ERR_INVALID, "size: graph is NULL"), NULL;
    if (n < 0 || n > DAMO_MAX_DIMS || (n && !dims))
        return err_set(&g->err, DAMO_ERR_INVALID, "size: %d sizes (0..%d, dims not NULL)", n,
                       DAMO_MAX_DIMS), NULL;
    int64_t len = n;
    return graph_const(g, DAMO_INT64, 1, &len, dims, WEAK_NONE);
}

/* d->ndim and d->dims from size, or from the parameters' static
 * broadcast shape when size is NULL; every parameter must broadcast to
 * the size (NumPy). */
static damo_status draw_sizes(const char *what, int n_par, damo_var *const *par, damo_var *size,
                              draw *d)
{
    damo_graph *g = d->g;
    gtype want = {DAMO_INT64, 0, {0}};
    if (size) {
        const gtype *t = &size->type;
        dtype_kind k = dtype_kind_of(t->dtype);
        if (t->ndim != 1 || t->shape[0] == DAMO_DIM_UNKNOWN || t->shape[0] > DAMO_MAX_DIMS ||
            (k != KIND_INT && k != KIND_UINT))
            return err_set(&g->err, DAMO_ERR_TYPE, "%s: the size must be an integer vector of "
                           "static length 0..%d", what, DAMO_MAX_DIMS);
        want.ndim = d->ndim = (int)t->shape[0];
        for (int i = 0; i < d->ndim; i++) {
            damo_slice at = DAMO_INDEX(i);
            d->dims[i] = size->kind == VAR_CONST
                             ? damo_int(g, hval_convert(t->dtype, DAMO_INT64,
                                                        hval_load(t->dtype, size->data, i)).i)
                             : damo_subtensor(size, 1, &at);
            if (!d->dims[i])
                return g->err.code;
            want.shape[i] = d->dims[i]->kind == VAR_CONST ? hval_load(DAMO_INT64, d->dims[i]->data, 0).i
                                                          : DAMO_DIM_UNKNOWN;
        }
    } else {
        const gtype *ts[8];
        for (int i = 0; i < n_par; i++)
            ts[i] = &par[i]->type;
        int bad = 0;
        if (gtype_broadcast(ts, n_par, &want, &bad) != DAMO_OK || gtype_static_size(&want) < 0)
            return err_set(&g->err, DAMO_ERR_SHAPE, "%s: without a size the parameters must "
                           "broadcast to a static shape", what);
        d->ndim = want.ndim;
        for (int i = 0; i < d->ndim; i++)
            if (!(d->dims[i] = damo_int(g, want.shape[i])))
                return g->err.code;
    }
    for (int i = 0; i < n_par; i++) {
        const gtype *ts[2] = {&want, &par[i]->type};
        gtype out;
        int bad = 0;
        char lab[256], a[128], b[128];
        if (gtype_broadcast(ts, 2, &out, &bad) != DAMO_OK || out.ndim != want.ndim ||
            memcmp(out.shape, want.shape, (size_t)want.ndim * sizeof *want.shape))
            return err_set(&g->err, DAMO_ERR_SHAPE, "%s: parameter %s of shape %s does not "
                           "broadcast to the size %s", what, var_label(par[i], lab, sizeof lab),
                           gtype_shape_str(&par[i]->type, a, sizeof a),
                           gtype_shape_str(&want, b, sizeof b));
    }
    return DAMO_OK;
}

/* Elements one call draws, as a uint64 scalar. */
static damo_var *draw_count(draw *d)
{
    uint64_t n = 1;
    int known = 1;
    for (int i = 0; i < d->ndim; i++) {
        known &= d->dims[i]->kind == VAR_CONST;
        if (known)
            n *= (uint64_t)hval_load(DAMO_INT64, d->dims[i]->data, 0).i;
    }
    if (known)
        return graph_const(d->g, DAMO_UINT64, 0, NULL, &n, WEAK_NONE);
    damo_var *count = damo_const_scalar(d->g, DAMO_UINT64, 1);
    for (int i = 0; i < d->ndim; i++)
        count = damo_mul(count, damo_cast(d->dims[i], DAMO_UINT64));
    return count;
}

static int float_dtype(damo_graph *g, const char *what, damo_dtype dtype)
{
    if (dtype == DAMO_FLOAT64 || dtype == DAMO_FLOAT32)
        return 1;
    err_set(&g->err, DAMO_ERR_TYPE, "%s: dtype %s is not float32 or float64", what,
            damo_dtype_name(dtype));
    return 0;
}

/* 1 when v is a constant with an element for which bad(x) holds. */
static int const_any(const damo_var *v, int (*bad)(double))
{
    if (v->kind != VAR_CONST)
        return 0;
    int64_t n = gtype_static_size(&v->type);
    for (int64_t i = 0; i < n; i++)
        if (bad(hval_to_double(v->type.dtype, hval_load(v->type.dtype, v->data, i))))
            return 1;
    return 0;
}

static int negative(double x) { return x < 0; }
static int not_positive(double x) { return !(x > 0); }
static int outside_unit(double p) { return !(p >= 0 && p <= 1); }

/* The constant parameters NumPy's Generator refuses (ValueError), checked
 * before a draw takes a state: parameter i is refused where bad[i] (when
 * not NULL) holds, `why` saying which. */
typedef struct refusal {
    int (*bad[4])(double);
    const char *why;
} refusal;

static const refusal REFUSE_NORMAL = {{NULL, negative}, "std < 0"};
static const refusal REFUSE_SCALE = {{negative, NULL}, "scale < 0"};
static const refusal REFUSE_GAMMA = {{negative, negative}, "shape or scale < 0"};
static const refusal REFUSE_BETA = {{not_positive, not_positive}, "a or b <= 0"};
static const refusal REFUSE_POISSON = {{negative, NULL}, "lam < 0"};
static const refusal REFUSE_BERNOULLI = {{outside_unit, NULL}, "p outside [0, 1]"};
static const refusal REFUSE_BINOMIAL = {{negative, outside_unit}, "n < 0 or p outside [0, 1]"};
static const refusal REFUSE_TRUNCNORM = {{NULL, negative}, "std < 0"};

static int int_dtype(damo_graph *g, const char *what, const damo_var *v)
{
    dtype_kind k = dtype_kind_of(v->type.dtype);
    if (k == KIND_INT || k == KIND_UINT || k == KIND_BOOL)
        return 1;
    err_set(&g->err, DAMO_ERR_TYPE, "%s: parameter of dtype %s is not an integer", what,
            damo_dtype_name(v->type.dtype));
    return 0;
}

/* integers' parameters: integer dtypes, and not constants low >= high. */
static damo_status refuse_integers(damo_graph *g, damo_var *const *par)
{
    if (!int_dtype(g, "integers", par[0]) || !int_dtype(g, "integers", par[1]))
        return DAMO_ERR_TYPE;
    const damo_var *lo = par[0], *hi = par[1];
    if (lo->kind == VAR_CONST && hi->kind == VAR_CONST && !lo->type.ndim && !hi->type.ndim &&
        hval_convert(lo->type.dtype, DAMO_INT64, hval_load(lo->type.dtype, lo->data, 0)).i >=
            hval_convert(hi->type.dtype, DAMO_INT64, hval_load(hi->type.dtype, hi->data, 0)).i)
        return err_set(&g->err, DAMO_ERR_INVALID, "integers: low >= high (NumPy's ValueError)");
    return DAMO_OK;
}

/* A new draw of s in the parameters' graph giving dtype (float32 or
 * float64; int64 for integer draws): sizes, a state whose default update
 * advances its counter by the elements drawn, the key and counter as
 * scalars, and the index grid. */
static damo_status draw_begin(damo_random_stream *s, const char *what, int n_par,
                              damo_var *const *par, damo_var *size, damo_dtype dtype,
                              const refusal *refuse, draw *d)
{
    if (!(d->g = builder_graph(what, n_par, par)))
        return DAMO_ERR_INVALID;
    damo_graph *g = d->g;
    if (!s)
        return err_set(&g->err, DAMO_ERR_INVALID, "%s: stream is NULL", what);
    if (dtype != DAMO_INT64 && !float_dtype(g, what, dtype))
        return DAMO_ERR_TYPE;
    for (int i = 0; refuse && i < n_par; i++)
        if (refuse->bad[i] && const_any(par[i], refuse->bad[i]))
            return err_set(&g->err, DAMO_ERR_INVALID, "%s: %s (NumPy's ValueError)", what,
                           refuse->why);
    if (size && size->g != g)
        return err_set(&g->err, DAMO_ERR_INVALID, "%s: the size belongs to another graph", what);
    if (draw_sizes(what, n_par, par, size, d) != DAMO_OK)
        return g->err.code;
    damo_shared *st = random_state_new(s, g);
    damo_var *sv = st ? damo_shared_var(g, st) : NULL;
    if (!sv)
        return g->err.code;
    damo_slice k = DAMO_INDEX(0), c = DAMO_INDEX(1);
    d->key = damo_subtensor(sv, 1, &k);
    d->ctr = damo_subtensor(sv, 1, &c);
    d->grid = graph_index_grid(g, d->ndim, d->dims);
    /* {key, counter} + count * {0, 1}: one small elementwise step */
    uint64_t unit_ctr[2] = {0, 1};
    int64_t two = 2;
    sv->default_update = damo_add(sv, damo_mul(draw_count(d), graph_const(g, DAMO_UINT64, 1, &two,
                                                                         unit_ctr, WEAK_NONE)));
    return d->key && d->ctr && d->grid && sv->default_update ? DAMO_OK : g->err.code;
}

/* The random bits of op (a RAND_* op) for every element of the draw. */
static damo_var *bits(const draw *d, op_id op)
{
    op_params p = {0};
    damo_var *in[3] = {d->key, d->ctr, d->grid};
    return graph_apply(d->g, op, &p, in, 3);
}

/* Uniform on [0, 1) in dtype from the first (second: 0) or second word
 * pair: whole numbers of 53 or 24 bits scaled exactly. */
static damo_var *unit(const draw *d, damo_dtype dtype, int second)
{
    int f64 = dtype == DAMO_FLOAT64;
    op_id op = f64 ? (second ? OP_RAND_V53 : OP_RAND_U53) : (second ? OP_RAND_V24 : OP_RAND_U24);
    return damo_mul(damo_cast(bits(d, op), dtype),
                    damo_const_scalar(d->g, dtype, f64 ? 0x1p-53 : 0x1p-24));
}

static damo_var *as_dtype(damo_var *v, damo_dtype dtype)
{
    return v && v->type.dtype != dtype ? damo_cast(v, dtype) : v;
}

damo_var *damo_random_uniform(damo_random_stream *s, damo_var *low, damo_var *high,
                              damo_var *size, damo_dtype dtype)
{
    damo_var *par[2] = {low, high};
    draw d;
    if (draw_begin(s, "uniform", 2, par, size, dtype, NULL, &d) != DAMO_OK)
        return NULL;
    low = as_dtype(low, dtype);
    return damo_add(low, damo_mul(damo_sub(as_dtype(high, dtype), low), unit(&d, dtype, 0)));
}

/* x, with NaN where the parameter v is negative (a constant v was
 * checked when building). */
static damo_var *nan_where_negative(damo_var *v, damo_var *x)
{
    if (!v || !x || v->kind == VAR_CONST)
        return x;
    damo_dtype t = x->type.dtype;
    return damo_switch(damo_lt(v, damo_const_scalar(x->g, t, 0)), damo_const_scalar(x->g, t, NAN), x);
}

damo_var *damo_random_normal(damo_random_stream *s, damo_var *mean, damo_var *std,
                             damo_var *size, damo_dtype dtype)
{
    damo_var *par[2] = {mean, std};
    draw d;
    if (draw_begin(s, "normal", 2, par, size, dtype, &REFUSE_NORMAL, &d) != DAMO_OK)
        return NULL;
    damo_graph *g = d.g;
    /* Box-Muller from the block's two word pairs: in float64 one op of
     * IEEE arithmetic (kernels/philox.h), in float32 libm's (1 - u is in
     * (0, 1], so the log is finite) */
    damo_var *u = unit(&d, dtype, 0), *v = unit(&d, dtype, 1), *z;
    if (dtype == DAMO_FLOAT64) {
        op_params p = {0};
        damo_var *in[2] = {u, v};
        z = u && v ? graph_apply(g, OP_RAND_NORMAL, &p, in, 2) : NULL;
    } else {
        damo_var *r = damo_sqrt(damo_mul(damo_const_scalar(g, dtype, -2),
                                         damo_log(damo_sub(damo_const_scalar(g, dtype, 1), u))));
        z = damo_mul(r, damo_cos(damo_mul(damo_const_scalar(g, dtype, 6.283185307179586), v)));
    }
    std = as_dtype(std, dtype);
    return nan_where_negative(std, damo_add(as_dtype(mean, dtype), damo_mul(std, z)));
}

damo_var *damo_random_exponential(damo_random_stream *s, damo_var *scale, damo_var *size,
                                  damo_dtype dtype)
{
    draw d;
    if (draw_begin(s, "exponential", 1, &scale, size, dtype, &REFUSE_SCALE, &d) != DAMO_OK)
        return NULL;
    /* inversion; 1 - u is in (0, 1]; in float64 by damo's own log, as
     * for normal */
    damo_var *one_minus_u = damo_sub(damo_const_scalar(d.g, dtype, 1), unit(&d, dtype, 0));
    op_params p = {0};
    damo_var *e = damo_neg(dtype == DAMO_FLOAT64 && one_minus_u
                               ? graph_apply(d.g, OP_RAND_LOG, &p, &one_minus_u, 1)
                               : damo_log(one_minus_u));
    scale = as_dtype(scale, dtype);
    return nan_where_negative(scale, damo_mul(scale, e));
}


damo_var *damo_random_bernoulli(damo_random_stream *s, damo_var *p, damo_var *size)
{
    draw d;
    if (draw_begin(s, "bernoulli", 1, &p, size, DAMO_INT64, &REFUSE_BERNOULLI, &d) != DAMO_OK)
        return NULL;
    return damo_cast(damo_lt(unit(&d, DAMO_FLOAT64, 0), as_dtype(p, DAMO_FLOAT64)), DAMO_INT64);
}

damo_var *damo_random_integers(damo_random_stream *s, damo_var *low, damo_var *high,
                               damo_var *size)
{
    damo_var *par[2] = {low, high};
    draw d;
    damo_graph *g = builder_graph("integers", 2, par);
    if (!g || refuse_integers(g, par) != DAMO_OK ||
        draw_begin(s, "integers", 2, par, size, DAMO_INT64, NULL, &d) != DAMO_OK)
        return NULL;
    low = as_dtype(low, DAMO_INT64);
    high = as_dtype(high, DAMO_INT64);
    /* in uint64, where high - low and the sum wrap exactly */
    damo_var *range = damo_cast(damo_sub(high, low), DAMO_UINT64);
    damo_var *x = damo_cast(damo_add(damo_cast(low, DAMO_UINT64),
                                     damo_mod(bits(&d, OP_RAND_U64), range)), DAMO_INT64);
    return damo_switch(damo_gt(high, low), x, low);
}

/* The 53-bit halves of every element's block, as exact float64 values:
 * the seeds of its sub-stream (kernels/philox.h). */
static void seeds(const draw *d, damo_var **sa, damo_var **sb)
{
    *sa = damo_cast(bits(d, OP_RAND_U53), DAMO_FLOAT64);
    *sb = damo_cast(bits(d, OP_RAND_V53), DAMO_FLOAT64);
}

/* op (RAND_GAMMA or RAND_POISSON) of the sub-stream (sa, sb) at param. */
static damo_var *sub_draw(damo_graph *g, op_id op, damo_var *sa, damo_var *sb, damo_var *param)
{
    op_params p = {0};
    damo_var *in[3] = {sa, sb, as_dtype(param, DAMO_FLOAT64)};
    return sa && sb && in[2] ? graph_apply(g, op, &p, in, 3) : NULL;
}

damo_var *damo_random_gamma(damo_random_stream *s, damo_var *shape, damo_var *scale,
                            damo_var *size, damo_dtype dtype)
{
    damo_var *par[2] = {shape, scale}, *sa, *sb;
    draw d;
    if (draw_begin(s, "gamma", 2, par, size, dtype, &REFUSE_GAMMA, &d) != DAMO_OK)
        return NULL;
    seeds(&d, &sa, &sb);
    damo_var *x = damo_mul(sub_draw(d.g, OP_RAND_GAMMA, sa, sb, shape), as_dtype(scale, DAMO_FLOAT64));
    return as_dtype(nan_where_negative(scale, x), dtype);
}

damo_var *damo_random_beta(damo_random_stream *s, damo_var *a, damo_var *b, damo_var *size,
                           damo_dtype dtype)
{
    damo_var *par[2] = {a, b}, *sa, *sb;
    draw d;
    if (draw_begin(s, "beta", 2, par, size, dtype, &REFUSE_BETA, &d) != DAMO_OK)
        return NULL;
    seeds(&d, &sa, &sb);
    /* X / (X + Y), Y from the sub-stream with the seeds swapped */
    damo_var *x = sub_draw(d.g, OP_RAND_GAMMA, sa, sb, a), *y = sub_draw(d.g, OP_RAND_GAMMA, sb, sa, b);
    return as_dtype(damo_true_div(x, damo_add(x, y)), dtype);
}

damo_var *damo_random_poisson(damo_random_stream *s, damo_var *lam, damo_var *size)
{
    damo_var *sa, *sb;
    draw d;
    if (draw_begin(s, "poisson", 1, &lam, size, DAMO_INT64, &REFUSE_POISSON, &d) != DAMO_OK)
        return NULL;
    seeds(&d, &sa, &sb);
    return damo_cast(sub_draw(d.g, OP_RAND_POISSON, sa, sb, lam), DAMO_INT64);
}

damo_var *damo_random_binomial(damo_random_stream *s, damo_var *n, damo_var *p, damo_var *size)
{
    damo_var *par[2] = {n, p}, *sa, *sb;
    draw d;
    damo_graph *g = builder_graph("binomial", 2, par);
    if (!g || !int_dtype(g, "binomial", n) ||
        draw_begin(s, "binomial", 2, par, size, DAMO_INT64, &REFUSE_BINOMIAL, &d) != DAMO_OK)
        return NULL;
    seeds(&d, &sa, &sb);
    op_params q = {0};
    damo_var *in[3] = {sa, as_dtype(n, DAMO_FLOAT64), as_dtype(p, DAMO_FLOAT64)};
    return damo_cast(sa && in[1] && in[2] ? graph_apply(d.g, OP_RAND_BINOMIAL, &q, in, 3) : NULL,
                     DAMO_INT64);
}

/* Permutations are drawn on the host (a Fisher-Yates shuffle needs the
 * whole vector), from the blocks of a state like any draw's. */
damo_var *damo_random_permutation(damo_random_stream *s, damo_var *n)
{
    damo_graph *g = builder_graph("permutation", 1, &n);
    if (!g || !int_dtype(g, "permutation", n))
        return NULL;
    if (n->type.ndim != 0)
        return err_set(&g->err, DAMO_ERR_SHAPE, "permutation: n must be a scalar"), NULL;
    if (n->kind == VAR_CONST && hval_convert(n->type.dtype, DAMO_INT64, hval_load(n->type.dtype, n->data, 0)).i < 0)
        return err_set(&g->err, DAMO_ERR_INVALID, "permutation: n < 0 (NumPy's ValueError)"), NULL;
    draw d;
    damo_var *len = as_dtype(n, DAMO_INT64), *size = damo_reshape(len, 1, (int64_t[]){1});
    if (draw_begin(s, "permutation", 1, &len, size, DAMO_INT64, NULL, &d) != DAMO_OK)
        return NULL;
    op_params p = {0};
    damo_var *in[3] = {d.key, d.ctr, len};
    return graph_apply(g, OP_PERMUTATION, &p, in, 3);
}

damo_var *damo_random_choice(damo_random_stream *s, damo_var *a, int64_t k)
{
    if (!a)
        return NULL;
    damo_graph *g = a->g;
    if (a->type.ndim != 1)
        return err_set(&g->err, DAMO_ERR_SHAPE, "choice: a must be a vector (got %d dimensions)",
                       a->type.ndim), NULL;
    if (k < 0 || (a->type.shape[0] != DAMO_DIM_UNKNOWN && k > a->type.shape[0]))
        return err_set(&g->err, DAMO_ERR_INVALID, "choice: cannot take a sample of %lld from %lld "
                       "without replacement (NumPy's ValueError)", (long long)k,
                       (long long)a->type.shape[0]), NULL;
    damo_slice first = DAMO_SLICE(0, k, 1);
    damo_var *perm = damo_random_permutation(s, damo_shape_i(a, 0));
    return damo_take(a, damo_subtensor(perm, 1, &first));
}

damo_var *damo_random_truncated_normal(damo_random_stream *s, damo_var *mean, damo_var *std,
                                       damo_var *low, damo_var *high, damo_var *size,
                                       damo_dtype dtype)
{
    damo_var *par[4] = {mean, std, low, high}, *sa, *sb;
    damo_graph *g = builder_graph("truncated_normal", 4, par);
    if (g && low->kind == VAR_CONST && high->kind == VAR_CONST && !low->type.ndim &&
        !high->type.ndim &&
        !(hval_to_double(low->type.dtype, hval_load(low->type.dtype, low->data, 0)) <
          hval_to_double(high->type.dtype, hval_load(high->type.dtype, high->data, 0))))
        return err_set(&g->err, DAMO_ERR_INVALID, "truncated_normal: low >= high (scipy's "
                       "truncnorm refuses it)"), NULL;
    draw d;
    if (!g || draw_begin(s, "truncated_normal", 4, par, size, dtype, &REFUSE_TRUNCNORM, &d) != DAMO_OK)
        return NULL;
    seeds(&d, &sa, &sb);
    mean = as_dtype(mean, DAMO_FLOAT64);
    std = as_dtype(std, DAMO_FLOAT64);
    low = as_dtype(low, DAMO_FLOAT64);
    high = as_dtype(high, DAMO_FLOAT64);
    op_params q = {0};
    damo_var *in[3] = {sa, damo_true_div(damo_sub(low, mean), std), damo_true_div(damo_sub(high, mean), std)};
    damo_var *z = sa && in[1] && in[2] ? graph_apply(g, OP_RAND_TRUNCNORM, &q, in, 3) : NULL;
    /* rounding in mean + std * z must not leave [low, high] */
    damo_var *x = damo_clip(damo_add(mean, damo_mul(std, z)), low, high);
    return as_dtype(nan_where_negative(std, x), dtype);
}
