/* Gradients (damo_grad), the stabilizing rewrites and the tutorial's
 * logistic regression.
 *
 * Part 1 checks the gradient of every op against central finite
 * differences (Aesara's verify_grad): for an expression e of inputs x_i at
 * a random point, cost = sum(e * R) with R a fixed random array of e's
 * shape; d cost / d x_i from damo_grad must match (cost(x + h) - cost(x -
 * h)) / 2h element by element, in float64. Inputs are declared with
 * unknown sizes unless the case says otherwise (static size 1 is how a
 * broadcast dimension is declared).
 *
 * Part 2: closed forms (the tutorial's cost, whose gradient is x.T (p - y)
 * / N + 0.02 w and mean(p - y)), the stable forms (log(sigmoid(z)) at z =
 * +-800 is finite and equals -softplus(-z), as are its gradients), the
 * API's errors and options, and a small logistic regression against a
 * NumPy reference written by hand (tests/data/make_logreg_ref.py), with
 * the compiled train function's step count and buffers. */
#include <damo.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tcase.h"

/* ---------------------------------------------------------------------- */
/* Part 1: finite differences                                              */
/* ---------------------------------------------------------------------- */

enum { MAX_IN = 4, MAX_ELEMS = 64 };

typedef struct in_spec {
    int ndim;
    int64_t shape[3];
    double lo, hi;    /* values drawn uniformly from [lo, hi] */
    int static_shape; /* declare the sizes (else unknown) */
} in_spec;

typedef damo_var *(*build_fn)(damo_var *const *x);

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static double uniform(double lo, double hi)
{
    rng_state = rng_state * 6364136223846793005u + 1442695040888963407u;
    return lo + (hi - lo) * (double)(rng_state >> 11) / 9007199254740992.0;
}

static int64_t spec_size(const in_spec *s)
{
    int64_t n = 1;
    for (int d = 0; d < s->ndim; d++)
        n *= s->shape[d];
    return n;
}

/* The cost at values v[i] (the function's first output); NAN on error. */
static double cost_at(damo_function *f, int n_in, const in_spec *in, double *const *v, damo_array **grads)
{
    damo_arg args[MAX_IN];
    damo_array *arrs[MAX_IN], *outs[1 + MAX_IN] = {NULL};
    for (int i = 0; i < n_in; i++) {
        arrs[i] = damo_array_from_data(ctx, DAMO_FLOAT64, in[i].ndim, in[i].shape, v[i]);
        args[i] = DAMO_ARG(arrs[i]);
    }
    double c = NAN;
    size_t n_out = damo_function_n_outputs(f);
    if (damo_call(f, args, (size_t)n_in, outs, n_out) == DAMO_OK)
        damo_array_get_f64(outs[0], 0, &c);
    else
        fprintf(stderr, "    call: %s\n", damo_function_errmsg(f));
    for (size_t o = 1; o < n_out; o++) {
        if (grads)
            grads[o - 1] = outs[o];
        else
            damo_array_release(outs[o]);
    }
    damo_array_release(outs[0]);
    for (int i = 0; i < n_in; i++)
        damo_array_release(arrs[i]);
    return c;
}

static int n_verified;
static damo_graph *cur_g; /* the graph verify builds in */

/* verify_grad: e = build(x) at a random point, cost = sum(e * R). */
static void verify(const char *name, int n_in, const in_spec *in, build_fn build)
{
    damo_graph *g = cur_g = damo_graph_new(ctx);
    damo_var *x[MAX_IN];
    double *v[MAX_IN];
    char nm[8];
    for (int i = 0; i < n_in; i++) {
        snprintf(nm, sizeof nm, "x%d", i);
        int64_t unknown[3] = {DAMO_DIM_UNKNOWN, DAMO_DIM_UNKNOWN, DAMO_DIM_UNKNOWN};
        x[i] = damo_tensor(g, DAMO_FLOAT64, in[i].ndim, in[i].static_shape ? in[i].shape : unknown, nm);
        v[i] = malloc((size_t)(spec_size(&in[i]) + 1) * sizeof(double));
        for (int64_t k = 0; k < spec_size(&in[i]); k++)
            v[i][k] = uniform(in[i].lo, in[i].hi);
    }
    damo_var *e = build(x);
    CHECK_MSG(e, "%s: build: %s", name, damo_graph_errmsg(g));
    damo_function *fe = e ? damo_function_simple(g, (size_t)n_in, x, 1, &e, 0) : NULL;
    CHECK_MSG(!e || fe, "%s: compile e: %s", name, damo_graph_errmsg(g));
    damo_array *ev = NULL;
    if (fe) {
        damo_arg args[MAX_IN];
        damo_array *arrs[MAX_IN];
        for (int i = 0; i < n_in; i++) {
            arrs[i] = damo_array_from_data(ctx, DAMO_FLOAT64, in[i].ndim, in[i].shape, v[i]);
            args[i] = DAMO_ARG(arrs[i]);
        }
        CHECK_MSG(damo_call(fe, args, (size_t)n_in, &ev, 1) == DAMO_OK, "%s: %s", name, damo_function_errmsg(fe));
        for (int i = 0; i < n_in; i++)
            damo_array_release(arrs[i]);
    }
    damo_var *grads[MAX_IN] = {NULL};
    damo_function *f = NULL;
    if (ev) {
        int64_t n = damo_array_size(ev);
        double *r = malloc((size_t)(n + 1) * sizeof *r);
        for (int64_t k = 0; k < n; k++)
            r[k] = uniform(-1, 1);
        damo_array *ra = damo_array_from_data(ctx, DAMO_FLOAT64, damo_array_ndim(ev), damo_array_shape(ev), r);
        damo_var *cost = damo_sum(damo_mul(e, damo_constant(g, ra)), NULL, 0, 0);
        damo_array_release(ra);
        free(r);
        damo_status st = damo_grad(cost, n_in, x, grads);
        CHECK_MSG(st == DAMO_OK, "%s: grad: %s", name, damo_graph_errmsg(g));
        damo_var *outs[1 + MAX_IN] = {cost};
        for (int i = 0; i < n_in; i++)
            outs[1 + i] = grads[i];
        if (st == DAMO_OK) {
            f = damo_function_simple(g, (size_t)n_in, x, (size_t)(1 + n_in), outs, 0);
            CHECK_MSG(f, "%s: compile: %s", name, damo_graph_errmsg(g));
        }
    }
    if (f) {
        damo_array *ga[MAX_IN] = {NULL};
        cost_at(f, n_in, in, v, ga);
        for (int i = 0; i < n_in; i++) {
            int64_t n = spec_size(&in[i]);
            double got[MAX_ELEMS];
            CHECK_MSG(ga[i] && damo_array_size(ga[i]) == n && damo_array_read(ga[i], got) == DAMO_OK,
                      "%s: gradient %d has the wrong size", name, i);
            for (int64_t k = 0; ga[i] && damo_array_size(ga[i]) == n && k < n; k++) {
                double x0 = v[i][k], h = 1e-6 * fmax(1, fabs(x0));
                v[i][k] = x0 + h;
                double cp = cost_at(f, n_in, in, v, NULL);
                v[i][k] = x0 - h;
                double cm = cost_at(f, n_in, in, v, NULL);
                v[i][k] = x0;
                double num = (cp - cm) / (2 * h);
                CHECK_MSG(check_close_(got[k], num, 1e-5, 1e-6),
                          "%s: d cost / d x%d[%lld] = %.12g, finite differences %.12g", name, i,
                          (long long)k, got[k], num);
            }
            damo_array_release(ga[i]);
        }
        n_verified++;
    }
    damo_array_release(ev);
    damo_function_free(f);
    damo_function_free(fe);
    for (int i = 0; i < n_in; i++)
        free(v[i]);
    damo_graph_free(g);
}

#define SPEC1(lo, hi) {2, {2, 3}, lo, hi, 0}
#define UNARY(op, lo, hi)                                                                       \
    static damo_var *b_##op(damo_var *const *x) { return damo_##op(x[0]); }                  \
    static void v_##op(void) { verify(#op, 1, (in_spec[]){SPEC1(lo, hi)}, b_##op); }
UNARY(neg, -2, 2)
UNARY(abs, 0.2, 2)
UNARY(sqr, -2, 2)
UNARY(exp, -2, 2)
UNARY(expm1, -2, 2)
UNARY(log, 0.5, 3)
UNARY(log1p, 0, 2)
UNARY(log2, 0.5, 3)
UNARY(log10, 0.5, 3)
UNARY(sqrt, 0.5, 3)
UNARY(sin, -3, 3)
UNARY(cos, -3, 3)
UNARY(tan, -1, 1)
UNARY(arcsin, -0.8, 0.8)
UNARY(arccos, -0.8, 0.8)
UNARY(arctan, -3, 3)
UNARY(sinh, -2, 2)
UNARY(cosh, -2, 2)
UNARY(tanh, -2, 2)
UNARY(sigmoid, -4, 4)
UNARY(softplus, -4, 4)
UNARY(erf, -2, 2)
UNARY(floor, 0.1, 0.9)
UNARY(ceil, 0.1, 0.9)
UNARY(round, 0.1, 0.4)
UNARY(sign, 0.1, 0.9)

/* binary ops on (2, 3) and (2, 3) */
#define BINARY(op, lo0, hi0, lo1, hi1)                                                           \
    static damo_var *b2_##op(damo_var *const *x) { return damo_##op(x[0], x[1]); }             \
    static void v2_##op(void)                                                                   \
    {                                                                                           \
        verify(#op, 2, (in_spec[]){SPEC1(lo0, hi0), SPEC1(lo1, hi1)}, b2_##op);                 \
    }
BINARY(add, -2, 2, -2, 2)
BINARY(sub, -2, 2, -2, 2)
BINARY(mul, -2, 2, -2, 2)
BINARY(true_div, -2, 2, 0.5, 2)
BINARY(pow, 0.5, 2, -1, 2)
BINARY(arctan2, -2, 2, 0.5, 2)
BINARY(maximum, -2, -0.1, 0.1, 2)
BINARY(minimum, -2, -0.1, 0.1, 2)
BINARY(mod, 2.1, 2.9, 1.1, 1.9)
BINARY(int_div, 2.1, 2.9, 1.1, 1.9)

static damo_var *b_clip(damo_var *const *x) { return damo_clip(x[0], x[1], x[2]); }
static damo_var *b_switch(damo_var *const *x) { return damo_switch(damo_gt(x[0], damo_float(cur_g, 0)), x[1], x[2]); }
static damo_var *b_cast(damo_var *const *x) { return damo_cast(damo_mul(x[0], x[0]), DAMO_FLOAT64); }

/* broadcasting: the gradient of the smaller operand is summed */
static damo_var *b_add(damo_var *const *x) { return damo_add(x[0], x[1]); }
static damo_var *b_mul(damo_var *const *x) { return damo_mul(x[0], x[1]); }

/* reductions */
static const int AX0[] = {0}, AX1[] = {1}, AXN[] = {-1, 0};
static damo_var *r_sum(damo_var *const *x) { return damo_sum(x[0], NULL, 0, 0); }
static damo_var *r_sum0(damo_var *const *x) { return damo_sum(x[0], AX0, 1, 0); }
static damo_var *r_sum1k(damo_var *const *x) { return damo_sum(x[0], AX1, 1, 1); }
static damo_var *r_mean(damo_var *const *x) { return damo_mean(x[0], AX0, 1, 0); }
static damo_var *r_mean_all(damo_var *const *x) { return damo_mean(x[0], AXN, 2, 1); }
static damo_var *r_prod(damo_var *const *x) { return damo_prod(x[0], AX1, 1, 0); }
static damo_var *r_max(damo_var *const *x) { return damo_max(x[0], AX1, 1, 0); }
static damo_var *r_min(damo_var *const *x) { return damo_min(x[0], NULL, 0, 0); }
static damo_var *r_var(damo_var *const *x) { return damo_variance(x[0], AX1, 1, 0); }
static damo_var *r_std(damo_var *const *x) { return damo_std(x[0], AX0, 1, 1); }

/* structure and indexing */
static damo_var *s_transpose(damo_var *const *x) { return damo_mul(damo_transpose(x[0]), x[1]); }
static damo_var *s_dimshuffle(damo_var *const *x)
{
    return damo_dimshuffle(x[0], 3, (const int[]){1, DAMO_NEWAXIS, 0});
}
static damo_var *s_drop(damo_var *const *x) { return damo_dimshuffle(damo_exp(x[0]), 1, (const int[]){1}); }
static damo_var *s_reshape(damo_var *const *x) { return damo_sin(damo_reshape(x[0], 2, (const int64_t[]){3, -1})); }
static damo_var *s_flatten(damo_var *const *x) { return damo_flatten(damo_sqr(x[0]), 1); }
static damo_var *s_fill(damo_var *const *x) { return damo_mul(damo_fill(x[1], x[0]), x[1]); }
static damo_var *s_concat0(damo_var *const *x) { return damo_concatenate(2, x, 0); }
static damo_var *s_concat1(damo_var *const *x) { return damo_exp(damo_concatenate(2, x, 1)); }
static damo_var *s_stack(damo_var *const *x) { return damo_stack(2, x, 1); }
static damo_var *s_sub(damo_var *const *x)
{
    return damo_subtensor(x[0], 2, (const damo_slice[]){DAMO_SLICE(DAMO_NONE, DAMO_NONE, -2), DAMO_INDEX(-1)});
}
static damo_var *s_set(damo_var *const *x)
{
    return damo_sqr(damo_set_subtensor(x[0], 1, (const damo_slice[]){DAMO_SLICE(1, 3, 1)}, x[1]));
}
static damo_var *s_inc(damo_var *const *x)
{
    return damo_sqr(damo_inc_subtensor(x[0], 2, (const damo_slice[]){DAMO_ALL, DAMO_INDEX(0)}, x[1]));
}
static damo_var *take_idx(damo_graph *g)
{
    const int64_t idx[] = {2, 0, 2, -1};
    damo_array *a = damo_array_from_data(ctx, DAMO_INT64, 1, (const int64_t[]){4}, idx);
    damo_var *v = damo_constant(g, a);
    damo_array_release(a);
    return v;
}
static damo_var *s_take(damo_var *const *x) { return damo_take(x[0], take_idx(cur_g)); }
static damo_var *s_inc_take(damo_var *const *x) { return damo_sqr(damo_inc_take(x[0], take_idx(cur_g), x[1])); }
static damo_var *d_dot(damo_var *const *x) { return damo_dot(x[0], x[1]); }
static damo_var *d_dot_t(damo_var *const *x) { return damo_dot(damo_transpose(x[0]), x[1]); }
static damo_var *d_outer(damo_var *const *x) { return damo_outer(x[0], x[1]); }

static void part1(void)
{
    void (*unary[])(void) = {v_neg, v_abs, v_sqr, v_exp, v_expm1, v_log, v_log1p, v_log2, v_log10,
                             v_sqrt, v_sin, v_cos, v_tan, v_arcsin, v_arccos, v_arctan, v_sinh,
                             v_cosh, v_tanh, v_sigmoid, v_softplus, v_erf, v_floor, v_ceil,
                             v_round, v_sign, v2_add, v2_sub, v2_mul, v2_true_div, v2_pow,
                             v2_arctan2, v2_maximum, v2_minimum, v2_mod, v2_int_div};
    for (size_t i = 0; i < sizeof unary / sizeof unary[0]; i++)
        unary[i]();
    in_spec m23 = SPEC1(-2, 2), m23p = SPEC1(0.5, 2), v3 = {1, {3}, -2, 2, 0}, s0 = {0, {0}, -2, 2, 0};
    in_spec m21s = {2, {2, 1}, -2, 2, 1}, m13s = {2, {1, 3}, -2, 2, 1};
    verify("clip", 3, (in_spec[]){{1, {6}, -3, 3, 0}, {1, {6}, -1.5, -0.5, 0}, {1, {6}, 0.5, 1.5, 0}}, b_clip);
    verify("switch", 3, (in_spec[]){m23, m23, v3}, b_switch);
    verify("cast", 1, (in_spec[]){m23}, b_cast);
    verify("add (2,3) + (3,)", 2, (in_spec[]){m23, v3}, b_add);
    verify("mul (2,3) * ()", 2, (in_spec[]){m23, s0}, b_mul);
    verify("mul (2,3) * static (2,1)", 2, (in_spec[]){m23, m21s}, b_mul);
    verify("add static (1,3) + static (2,1)", 2, (in_spec[]){m13s, m21s}, b_add);
    verify("sum", 1, (in_spec[]){m23}, r_sum);
    verify("sum axis 0", 1, (in_spec[]){m23}, r_sum0);
    verify("sum axis 1 keepdims", 1, (in_spec[]){m23}, r_sum1k);
    verify("mean axis 0", 1, (in_spec[]){m23}, r_mean);
    verify("mean axes (-1, 0) keepdims", 1, (in_spec[]){m23}, r_mean_all);
    verify("prod axis 1", 1, (in_spec[]){m23p}, r_prod);
    verify("max axis 1", 1, (in_spec[]){m23}, r_max);
    verify("min", 1, (in_spec[]){m23}, r_min);
    verify("variance axis 1", 1, (in_spec[]){m23}, r_var);
    verify("std axis 0 keepdims", 1, (in_spec[]){m23}, r_std);
    in_spec m32 = {2, {3, 2}, -2, 2, 0}, m43 = {2, {4, 3}, -2, 2, 0};
    verify("transpose", 2, (in_spec[]){m23, m32}, s_transpose);
    verify("dimshuffle with a new axis", 1, (in_spec[]){m23}, s_dimshuffle);
    verify("dimshuffle dropping a static 1", 1, (in_spec[]){{2, {1, 3}, -2, 2, 1}}, s_drop);
    verify("reshape", 1, (in_spec[]){m23}, s_reshape);
    verify("flatten", 1, (in_spec[]){m23}, s_flatten);
    verify("fill", 2, (in_spec[]){s0, m23}, s_fill);
    verify("concatenate axis 0", 2, (in_spec[]){m23, m43}, s_concat0);
    verify("concatenate axis 1", 2, (in_spec[]){m23, {2, {2, 4}, -2, 2, 1}}, s_concat1);
    verify("stack", 2, (in_spec[]){m23, m23}, s_stack);
    verify("subtensor", 1, (in_spec[]){m43}, s_sub);
    verify("set_subtensor", 2, (in_spec[]){m43, {1, {3}, -2, 2, 0}}, s_set);
    verify("inc_subtensor", 2, (in_spec[]){m43, {1, {4}, -2, 2, 0}}, s_inc);
    verify("take", 1, (in_spec[]){m43}, s_take);
    verify("inc_take", 2, (in_spec[]){m43, {2, {4, 3}, -2, 2, 0}}, s_inc_take);
    verify("dot matrix . matrix", 2, (in_spec[]){m23, m32}, d_dot);
    verify("dot matrix . vector", 2, (in_spec[]){m23, v3}, d_dot);
    verify("dot vector . matrix", 2, (in_spec[]){{1, {2}, -2, 2, 0}, m23}, d_dot);
    verify("dot vector . vector", 2, (in_spec[]){v3, v3}, d_dot);
    verify("dot of a transpose", 2, (in_spec[]){m32, m32}, d_dot_t);
    verify("outer", 2, (in_spec[]){v3, {1, {2}, -2, 2, 0}}, d_outer);
    printf("finite-difference checks: %d expressions\n", n_verified);
}

/* ---------------------------------------------------------------------- */
/* Part 2                                                                   */
/* ---------------------------------------------------------------------- */

static damo_array *arr1(int64_t n, const double *v) { return damo_array_from_data(ctx, DAMO_FLOAT64, 1, &n, v); }

/* Runs f on args and reads output o's n values into out. */
static int run_read(damo_function *f, damo_arg *args, size_t n_args, size_t o, double *out, int64_t n)
{
    size_t n_out = damo_function_n_outputs(f);
    damo_array *outs[8] = {NULL};
    int ok = damo_call(f, args, n_args, outs, n_out) == DAMO_OK && damo_array_size(outs[o]) == n &&
             damo_array_read(outs[o], out) == DAMO_OK;
    if (!ok)
        fprintf(stderr, "    call: %s\n", damo_function_errmsg(f));
    for (size_t k = 0; k < n_out; k++)
        damo_array_release(outs[k]);
    return ok;
}

/* How many times op appears in a step text's op list "(a, b, ...)". */
static int count_op(const char *text, const char *op)
{
    int n = 0;
    size_t len = strlen(op);
    for (const char *p = strchr(text, '('); p && (p = strstr(p, op)); p += len)
        n += (p[-1] == '(' || p[-1] == ' ') && (p[len] == ',' || p[len] == ')');
    return n;
}

/* log(sigmoid(z)) and log(1 - sigmoid(z)), spelled as the tutorial does,
 * at z = -800, -30, 0, 30, 800: finite, equal to -softplus(-z) and
 * -softplus(z) (closed forms: -log1p(exp(-z)) for z > 0, z - log1p(exp(z))
 * below), and so are their gradients (sigmoid(-z), -sigmoid(z)). */
static void test_stable(void)
{
    static const double zs[] = {-800, -30, 0, 30, 800};
    damo_graph *g = damo_graph_new(ctx);
    damo_var *z = damo_dvector(g, "z");
    damo_var *p = damo_div(damo_float(g, 1), damo_add(damo_float(g, 1), damo_exp(damo_neg(z))));
    damo_var *ls = damo_log(p), *l1s = damo_log(damo_sub(damo_float(g, 1), p));
    damo_var *gr[2];
    CHECK(damo_grad(damo_sum(ls, NULL, 0, 0), 1, &z, &gr[0]) == DAMO_OK);
    CHECK(damo_grad(damo_sum(l1s, NULL, 0, 0), 1, &z, &gr[1]) == DAMO_OK);
    damo_var *outs[] = {ls, l1s, gr[0], gr[1]};
    for (int path = 0; path < 2; path++) {
        damo_function *f = damo_function_simple(g, 1, &z, 4, outs, both_paths[path]);
        CHECK_MSG(f, "%s", damo_graph_errmsg(g));
        /* one elementwise kernel, and in it one exp and one log1p for the
         * two softplus and the two sigmoids (besides it: z's size and the
         * ones the sums' gradients broadcast, no work) */
        const char *text = "";
        int n_ew = 0;
        for (size_t i = 0; f && i < damo_function_n_steps(f); i++)
            if (damo_function_step_kind(f, i) == DAMO_STEP_ELEMWISE && ++n_ew)
                text = damo_function_step_text(f, i);
        CHECK_INT(n_ew, 1);
        CHECK_MSG(count_op(text, "exp") == 1 && count_op(text, "log1p") == 1 && count_op(text, "sigmoid") == 0 &&
                      count_op(text, "softplus") == 0,
                  "%s", text);
        damo_array *za = arr1(5, zs);
        damo_arg arg = DAMO_ARG(za);
        double v[4][5];
        for (int o = 0; f && o < 4; o++)
            CHECK(run_read(f, &arg, 1, (size_t)o, v[o], 5));
        for (int i = 0; f && i < 5; i++) {
            double zi = zs[i];
            double sp_neg = zi > 0 ? log1p(exp(-zi)) : -zi + log1p(exp(zi)); /* softplus(-z) */
            double sp = zi > 0 ? zi + log1p(exp(-zi)) : log1p(exp(zi));      /* softplus(z) */
            double sig = zi >= 0 ? 1 / (1 + exp(-zi)) : exp(zi) / (1 + exp(zi));
            double sig_neg = zi >= 0 ? exp(-zi) / (1 + exp(-zi)) : 1 / (1 + exp(zi)); /* sigmoid(-z) */
            CHECK_MSG(isfinite(v[0][i]) && isfinite(v[1][i]) && isfinite(v[2][i]) && isfinite(v[3][i]),
                      "z = %g (%s): %g %g %g %g", zi, path_name(both_paths[path]), v[0][i], v[1][i],
                      v[2][i], v[3][i]);
            CHECK_CLOSE(v[0][i], -sp_neg, 1e-15, 0);
            CHECK_CLOSE(v[1][i], -sp, 1e-15, 0);
            CHECK_CLOSE(v[2][i], sig_neg, 1e-15, 1e-300);
            CHECK_CLOSE(v[3][i], -sig, 1e-15, 1e-300);
        }
        damo_array_release(za);
        damo_function_free(f);
    }
    damo_graph_free(g);
}

/* The logistic regression data of make_logreg_ref.py. */
enum { LN = 20, LF = 8, LSTEPS = 50 };
/* NumPy 2.4.6: python3 tests/data/make_logreg_ref.py */
static const double REF_W[8] = {0.6047715936041845, 0.49510133504966203, 0.303114778739319, 0.06091906629299193, -0.19258308692827306, -0.41695869184545575, -0.5757169010536807, -0.6412478738321579};
static const double REF_B = -0.1396392612500892;
static const int REF_Y[20] = {0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 0, 1, 0};

static void lr_data(double *x, double *y, double *w0)
{
    for (int i = 0; i < LN; i++) {
        double d = 0;
        for (int j = 0; j < LF; j++) {
            x[i * LF + j] = sin(0.37 * (LF * i + j) + 0.1);
            d += x[i * LF + j] * cos(1.3 * j);
        }
        y[i] = d > 0;
    }
    for (int j = 0; j < LF; j++)
        w0[j] = 0.05 * (j - 3.5);
}

/* The tutorial's graph over shared w and b. */
typedef struct lr_graph {
    damo_graph *g;
    damo_var *x, *y, *w, *b, *p1, *pred, *xent, *cost, *gw, *gb;
} lr_graph;

static int lr_build(lr_graph *m, damo_shared *ws, damo_shared *bs)
{
    damo_graph *g = m->g = damo_graph_new(ctx);
    m->x = damo_dmatrix(g, "x");
    m->y = damo_dvector(g, "y");
    m->w = damo_shared_var(g, ws);
    m->b = damo_shared_var(g, bs);
    damo_var *one = damo_float(g, 1);
    /* p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b)) */
    m->p1 = damo_div(one, damo_add(one, damo_exp(damo_sub(damo_neg(damo_dot(m->x, m->w)), m->b))));
    m->pred = damo_gt(m->p1, damo_float(g, 0.5));
    /* xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1) */
    m->xent = damo_sub(damo_mul(damo_neg(m->y), damo_log(m->p1)),
                       damo_mul(damo_sub(one, m->y), damo_log(damo_sub(one, m->p1))));
    /* cost = xent.mean() + 0.01 * (w ** 2).sum() */
    m->cost = damo_add(damo_mean(m->xent, NULL, 0, 0),
                       damo_mul(damo_float(g, 0.01), damo_sum(damo_pow(m->w, damo_int(g, 2)), NULL, 0, 0)));
    damo_var *wrt[2] = {m->w, m->b}, *gr[2];
    if (damo_grad(m->cost, 2, wrt, gr) != DAMO_OK)
        return 0;
    m->gw = gr[0];
    m->gb = gr[1];
    return 1;
}

/* Against the closed form at w0, b = 0.3: gw = x.T (p - y) / N + 0.02 w,
 * gb = mean(p - y). */
static void test_closed_form(void)
{
    double x[LN * LF], y[LN], w0[LF], b0 = 0.3;
    lr_data(x, y, w0);
    damo_array *wa = arr1(LF, w0);
    damo_shared *ws = damo_shared_new(ctx, wa, "w", NULL), *bs = damo_shared_float(ctx, b0, "b");
    lr_graph m;
    CHECK_MSG(lr_build(&m, ws, bs), "%s", damo_graph_errmsg(m.g));
    damo_var *ins[2] = {m.x, m.y}, *outs[3] = {m.gw, m.gb, m.cost};
    damo_function *f = m.gw ? damo_function_simple(m.g, 2, ins, 3, outs, 0) : NULL;
    CHECK_MSG(f, "%s", damo_graph_errmsg(m.g));
    double gw_want[LF] = {0}, gb_want = 0, cost_want = 0;
    for (int i = 0; i < LN; i++) {
        double z = b0;
        for (int j = 0; j < LF; j++)
            z += x[i * LF + j] * w0[j];
        double p = 1 / (1 + exp(-z));
        gb_want += (p - y[i]) / LN;
        cost_want += (-y[i] * log(p) - (1 - y[i]) * log(1 - p)) / LN;
        for (int j = 0; j < LF; j++)
            gw_want[j] += x[i * LF + j] * (p - y[i]) / LN;
    }
    for (int j = 0; j < LF; j++) {
        gw_want[j] += 0.02 * w0[j];
        cost_want += 0.01 * w0[j] * w0[j];
    }
    damo_array *xa = damo_array_from_data(ctx, DAMO_FLOAT64, 2, (const int64_t[]){LN, LF}, x), *ya = arr1(LN, y);
    damo_arg args[2] = {DAMO_ARG(xa), DAMO_ARG(ya)};
    double gw[LF], gb, cost;
    if (f && run_read(f, args, 2, 0, gw, LF) && run_read(f, args, 2, 1, &gb, 1) && run_read(f, args, 2, 2, &cost, 1)) {
        for (int j = 0; j < LF; j++)
            CHECK_CLOSE(gw[j], gw_want[j], 1e-12, 1e-15);
        CHECK_CLOSE(gb, gb_want, 1e-12, 1e-15);
        CHECK_CLOSE(cost, cost_want, 1e-12, 0);
    } else {
        CHECK_MSG(0, "closed form: the call failed");
    }
    damo_array_release(xa);
    damo_array_release(ya);
    damo_array_release(wa);
    damo_function_free(f);
    damo_graph_free(m.g);
    damo_shared_release(ws);
    damo_shared_release(bs);
}

/* 50 steps of train at 20 x 8 against make_logreg_ref.py's w and b; the
 * predictions then match the labels. Also: train's steps, and that no
 * call after the first creates a device buffer or builds a program. */
static void test_logreg(void)
{
    double x[LN * LF], y[LN], w0[LF];
    lr_data(x, y, w0);
    for (int i = 0; i < LN; i++)
        CHECK_INT((int)y[i], REF_Y[i]);
    for (int path = 0; path < 2; path++) {
        damo_array *wa = arr1(LF, w0);
        damo_shared *ws = damo_shared_new(ctx, wa, "w", NULL), *bs = damo_shared_float(ctx, 0, "b");
        lr_graph m;
        CHECK_MSG(lr_build(&m, ws, bs), "%s", damo_graph_errmsg(m.g));
        damo_spec *s = damo_spec_new(m.g);
        damo_spec_input(s, m.x);
        damo_spec_input(s, m.y);
        damo_spec_output(s, m.pred);
        damo_spec_output(s, m.xent);
        damo_spec_update(s, m.w, damo_sub(m.w, damo_mul(damo_float(m.g, 0.1), m.gw)));
        damo_spec_update(s, m.b, damo_sub(m.b, damo_mul(damo_float(m.g, 0.1), m.gb)));
        damo_spec_flags(s, both_paths[path]);
        damo_function *train = damo_compile(s);
        damo_spec_free(s);
        CHECK_MSG(train, "%s", damo_graph_errmsg(m.g));
        /* the bound: 2 BLAS calls, x . w and the new w as one gemv
         * (c - 0.1 x.T . dz); 3 kernels over the data: the forward and
         * backward elementwise work (prediction, xent, d cost / d z), c =
         * w - 0.1 * 0.02 w (another shape), and b's gradient as a reduction
         * with b's update after it; and 2 elementwise steps over 0-d sizes
         * (the mean's count from x's and y's), which run on the host. The
         * rest are host steps for sizes and views. */
        size_t n_steps = train ? damo_function_n_steps(train) : 0, n_blas = 0;
        for (size_t i = 0; i < n_steps; i++)
            n_blas += damo_function_step_kind(train, i) == DAMO_STEP_BLAS;
        CHECK_INT(n_blas, 2);
        CHECK_MSG(train && damo_function_n_kernels(train) <= 5, "train has %zu kernel steps, expected 5",
                  damo_function_n_kernels(train));
        if (train && damo_function_n_kernels(train) > 5)
            for (size_t i = 0; i < n_steps; i++)
                fprintf(stderr, "      step %zu: %s\n", i, damo_function_step_text(train, i));
        damo_array *xa = damo_array_from_data(ctx, DAMO_FLOAT64, 2, (const int64_t[]){LN, LF}, x), *ya = arr1(LN, y);
        damo_arg args[2] = {DAMO_ARG(xa), DAMO_ARG(ya)};
        damo_ctx_stats st0 = {0}, st1 = {0};
        double xent[LN];
        for (int step = 0; train && step < LSTEPS; step++) {
            if (step == 2)
                damo_ctx_get_stats(ctx, &st0);
            damo_array *outs[2] = {NULL, NULL};
            CHECK_MSG(damo_call(train, args, 2, outs, 2) == DAMO_OK, "%s", damo_function_errmsg(train));
            if (step == LSTEPS - 1)
                CHECK(outs[1] && damo_array_read(outs[1], xent) == DAMO_OK);
            damo_array_release(outs[0]);
            damo_array_release(outs[1]);
        }
        damo_ctx_get_stats(ctx, &st1);
        CHECK_MSG(st1.buffers_created == st0.buffers_created && st1.builds == st0.builds,
                  "%s: calls 3..50 created %llu buffers and built %llu programs", path_name(both_paths[path]),
                  (unsigned long long)(st1.buffers_created - st0.buffers_created),
                  (unsigned long long)(st1.builds - st0.builds));
        damo_array *wv = damo_shared_get_value(ws);
        double w[LF], b = NAN;
        CHECK(damo_array_read(wv, w) == DAMO_OK && damo_shared_get_f64(bs, &b) == DAMO_OK);
        for (int j = 0; j < LF; j++)
            CHECK_CLOSE(w[j], REF_W[j], 1e-12, 1e-14);
        CHECK_CLOSE(b, REF_B, 1e-12, 1e-14);
        for (int i = 0; i < LN; i++)
            CHECK(isfinite(xent[i]));
        /* predict = function([x], prediction) */
        damo_function *predict = damo_function_simple(m.g, 1, &m.x, 1, &m.pred, both_paths[path]);
        damo_array *pa = NULL;
        unsigned char pred[LN];
        CHECK(predict && damo_call(predict, args, 1, &pa, 1) == DAMO_OK && damo_array_read(pa, pred) == DAMO_OK);
        for (int i = 0; i < LN; i++)
            CHECK_INT(pred[i], REF_Y[i]);
        damo_array_release(pa);
        damo_function_free(predict);
        damo_array_release(wv);
        damo_array_release(xa);
        damo_array_release(ya);
        damo_array_release(wa);
        damo_function_free(train);
        damo_graph_free(m.g);
        damo_shared_release(ws);
        damo_shared_release(bs);
    }
}

/* Found by review: the sigmoid op itself (not spelled out) with its
 * gradient compiled beside it keeps log(sigmoid(z)) finite; a gradient
 * with respect to a value inside a sigmoid pattern is that value's own
 * (d sum(log s) / d s = 1 / s); switch(c, x, x) keeps c's broadcast; and
 * log(1 + x) of a wrapping integer is not log1p(x). */
static void test_review_cases(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_var *z = damo_dvector(g, "z"), *gz[2];
    damo_var *ls = damo_log(damo_sigmoid(z)), *l1s = damo_log(damo_sub(damo_float(g, 1), damo_sigmoid(z)));
    CHECK(damo_grad(damo_sum(ls, NULL, 0, 0), 1, &z, &gz[0]) == DAMO_OK);
    CHECK(damo_grad(damo_sum(l1s, NULL, 0, 0), 1, &z, &gz[1]) == DAMO_OK);
    damo_var *outs[4] = {ls, l1s, gz[0], gz[1]};
    damo_function *f = damo_function_simple(g, 1, &z, 4, outs, 0);
    CHECK_MSG(f, "%s", damo_graph_errmsg(g));
    const double zv[] = {-800, 800};
    damo_array *za = arr1(2, zv);
    damo_arg arg = DAMO_ARG(za);
    double v[4][2];
    for (int o = 0; f && o < 4; o++)
        CHECK(run_read(f, &arg, 1, (size_t)o, v[o], 2));
    if (f) {
        /* closed forms: log sigmoid(-800) = -800, log sigmoid(800) = -0;
         * log(1 - sigmoid(800)) = -800; gradients sigmoid(-z), -sigmoid(z) */
        CHECK_CLOSE(v[0][0], -800, 1e-15, 0);
        CHECK_CLOSE(v[0][1], 0, 0, 1e-300);
        CHECK_CLOSE(v[1][0], 0, 0, 1e-300);
        CHECK_CLOSE(v[1][1], -800, 1e-15, 0);
        CHECK_CLOSE(v[2][0], 1, 1e-15, 0);
        CHECK_CLOSE(v[2][1], 0, 0, 1e-300);
        CHECK_CLOSE(v[3][0], 0, 0, 1e-300);
        CHECK_CLOSE(v[3][1], -1, 1e-15, 0);
    }
    damo_function_free(f);
    damo_array_release(za);
    /* d sum(log(s)) / d s with s = 1 / (1 + exp(-z)) */
    damo_var *sv = damo_div(damo_float(g, 1), damo_add(damo_float(g, 1), damo_exp(damo_neg(z))));
    damo_var *wrt[2] = {sv, z}, *gr[2];
    CHECK(damo_grad(damo_sum(damo_log(sv), NULL, 0, 0), 2, wrt, gr) == DAMO_OK);
    f = damo_function_simple(g, 1, &z, 2, gr, 0);
    const double z3[] = {-1, 0, 2};
    za = arr1(3, z3);
    arg = DAMO_ARG(za);
    double ds[3], dz[3];
    if (f && run_read(f, &arg, 1, 0, ds, 3) && run_read(f, &arg, 1, 1, dz, 3))
        for (int i = 0; i < 3; i++) {
            double s_ = 1 / (1 + exp(-z3[i]));
            CHECK_CLOSE(ds[i], 1 / s_, 1e-14, 0);
            CHECK_CLOSE(dz[i], 1 - s_, 1e-14, 0);
        }
    else
        CHECK_MSG(0, "gradient inside a sigmoid: %s", f ? damo_function_errmsg(f) : damo_graph_errmsg(g));
    damo_function_free(f);
    damo_array_release(za);
    /* switch(c, x, x) with c (3,) and x (1,) at run time: NumPy gives (3,) */
    damo_var *cond = damo_bvector(g, "c"), *x = damo_dvector(g, "x");
    damo_var *sw = damo_switch(cond, x, x), *ins[2] = {cond, x};
    f = damo_function_simple(g, 2, ins, 1, &sw, 0);
    const unsigned char cv[] = {1, 0, 1};
    const double xv[] = {4.5};
    damo_array *ca = damo_array_from_data(ctx, DAMO_BOOL, 1, (const int64_t[]){3}, cv), *xa = arr1(1, xv);
    damo_arg args[2] = {DAMO_ARG(ca), DAMO_ARG(xa)};
    damo_array *r = NULL;
    CHECK(f && damo_call(f, args, 2, &r, 1) == DAMO_OK && r && damo_array_size(r) == 3);
    damo_array_release(r);
    damo_array_release(ca);
    damo_array_release(xa);
    damo_function_free(f);
    /* log(1 + x) for uint8 x = [255, 3]: 1 + 255 wraps to 0 (NumPy: -inf,
     * log(4)) */
    damo_var *u8 = damo_tensor(g, DAMO_UINT8, 1, NULL, "u8"), *lg = damo_log(damo_add(damo_int(g, 1), u8));
    f = damo_function_simple(g, 1, &u8, 1, &lg, 0);
    const unsigned char uv[] = {255, 3};
    damo_array *ua = damo_array_from_data(ctx, DAMO_UINT8, 1, (const int64_t[]){2}, uv);
    arg = DAMO_ARG(ua);
    double lv[2] = {0};
    damo_array *lr = NULL;
    CHECK(f && damo_call(f, &arg, 1, &lr, 1) == DAMO_OK && lr && damo_array_get_f64(lr, 0, &lv[0]) == DAMO_OK &&
          damo_array_get_f64(lr, 1, &lv[1]) == DAMO_OK);
    CHECK(isinf(lv[0]) && lv[0] < 0);
    CHECK_CLOSE(lv[1], log(4.0), 1e-6, 0);
    damo_array_release(lr);
    damo_array_release(ua);
    damo_function_free(f);
    damo_graph_free(g);
}

/* Errors and options of damo_grad / damo_grad_ex. */
static void test_api(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_var *x = damo_dvector(g, "x"), *u = damo_dvector(g, "u"), *k = damo_lvector(g, "k");
    damo_var *gr[3] = {x, x, x};
    /* a cost that is not a scalar */
    CHECK_INT(damo_grad(damo_exp(x), 1, &x, gr), DAMO_ERR_SHAPE);
    CHECK(gr[0] == NULL);
    CHECK_STR_HAS(damo_graph_errmsg(g), "must be a scalar");
    /* a wrt the cost does not depend on: an error naming it, or zeros */
    damo_var *c = damo_sum(damo_sqr(x), NULL, 0, 0), *wrt[2] = {x, u};
    CHECK_INT(damo_grad(c, 2, wrt, gr), DAMO_ERR_INVALID);
    CHECK(gr[0] == NULL && gr[1] == NULL);
    CHECK_STR_HAS(damo_graph_errmsg(g), "'u'");
    CHECK_INT(damo_grad_ex(1, &c, 2, wrt, 0, NULL, DAMO_GRAD_DISCONNECTED_ZERO, gr), DAMO_OK);
    /* an integer wrt and an integer path: zeros, not errors */
    damo_var *ck = damo_sum(damo_mul(x, damo_cast(k, DAMO_FLOAT64)), NULL, 0, 0);
    damo_var *wrt3[3] = {x, u, k};
    CHECK_INT(damo_grad_ex(1, &ck, 3, wrt3, 0, NULL, DAMO_GRAD_DISCONNECTED_ZERO, gr), DAMO_OK);
    CHECK(gr[2] && damo_var_dtype(gr[2]) == DAMO_FLOAT64);
    /* several costs are summed; consider_constant stops the gradient at
     * x^2 wherever it is used, as Aesara's: d/dx [sum(c) + sum(x * c)] with
     * c = x^2 held constant is x^2, and 2x + 3x^2 without */
    damo_var *sq = damo_sqr(x);
    damo_var *costs[2] = {damo_sum(sq, NULL, 0, 0), damo_sum(damo_mul(x, sq), NULL, 0, 0)};
    damo_var *gx = NULL, *gc = NULL;
    CHECK_INT(damo_grad_ex(2, costs, 1, &x, 1, &sq, 0, &gx), DAMO_OK);
    CHECK_INT(damo_grad_ex(2, costs, 1, &x, 0, NULL, 0, &gc), DAMO_OK);
    damo_var *outs[2] = {gx, gc};
    damo_function *f = damo_function_simple(g, 1, &x, 2, outs, 0);
    CHECK_MSG(f, "%s", damo_graph_errmsg(g));
    const double xv[] = {1, -2, 0.5};
    damo_array *xa = arr1(3, xv);
    damo_arg arg = DAMO_ARG(xa);
    double a[3], b[3];
    if (f && run_read(f, &arg, 1, 0, a, 3) && run_read(f, &arg, 1, 1, b, 3)) {
        for (int i = 0; i < 3; i++) {
            CHECK_CLOSE(a[i], xv[i] * xv[i], 1e-15, 0);
            CHECK_CLOSE(b[i], 2 * xv[i] + 3 * xv[i] * xv[i], 1e-15, 0);
        }
    }
    damo_function_free(f);
    /* an axis of unknown size that is broadcast at run time: the gradient
     * call fails, naming it, and the function stays usable */
    damo_var *cb = damo_sum(damo_mul(x, u), NULL, 0, 0), *gu = NULL;
    CHECK_INT(damo_grad(cb, 1, &u, &gu), DAMO_OK);
    damo_var *ins[2] = {x, u};
    f = damo_function_simple(g, 2, ins, 1, &gu, 0);
    CHECK_MSG(f, "%s", damo_graph_errmsg(g));
    const double one[] = {2};
    damo_array *ua = arr1(1, one), *ub = arr1(3, xv);
    damo_arg bad[2] = {DAMO_ARG(xa), DAMO_ARG(ua)}, good[2] = {DAMO_ARG(xa), DAMO_ARG(ub)};
    damo_array *r = NULL;
    CHECK(f && damo_call(f, bad, 2, &r, 1) == DAMO_ERR_SHAPE && r == NULL);
    CHECK_STR_HAS(f ? damo_function_errmsg(f) : "", "broadcast");
    CHECK(f && run_read(f, good, 2, 0, a, 3));
    for (int i = 0; f && i < 3; i++)
        CHECK_CLOSE(a[i], xv[i], 0, 0);
    damo_function_free(f);
    damo_array_release(ua);
    damo_array_release(ub);
    damo_array_release(xa);
    /* an op without a gradient on the path */
    damo_var *bad_cost = damo_sum(damo_cast(damo_argmax(x, 0, 0), DAMO_FLOAT64), NULL, 0, 0);
    CHECK_INT(damo_grad(bad_cost, 1, &x, gr), DAMO_OK); /* argmax: zeros (an integer path) */
    damo_graph_free(g);
}

int main(void)
{
    if (!open_ctx())
        return 1;
    (void)selected;
    part1();
    test_stable();
    test_closed_form();
    test_logreg();
    test_api();
    test_review_cases();
    damo_ctx_free(ctx);
    return check_done();
}
