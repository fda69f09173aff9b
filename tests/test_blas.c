/* Matrix products: damo_dot (v.v, m.v, v.m, m.m) and damo_outer.
 *
 * tests/data/tensor_blas.txt, written by tests/data/make_tensor_cases.py
 * with NumPy 2.4, holds numpy.dot of random operands: every operand
 * combination in float32 and float64, transposed operands (damo_transpose
 * of a matrix input: BLAS's transpose flags), strided views as inputs (a
 * window with a leading dimension larger than its rows, every other row,
 * reversed columns, every other element of a vector, a 0-stride broadcast
 * matrix), empty and 1x1 products, larger ones (generated inputs), integer
 * dots (int32, int64, int8 and uint8 wrapping, int8 . int16), float32 .
 * float64; outer products; alpha * dot(A, B) + beta * C (the gemm
 * rewrite: its value, and that it is one BLAS step); and the logistic
 * regression 1 / (1 + exp(-dot(x, w) - b)), which must be one BLAS step
 * and one fused elementwise step.
 *
 * Tolerances: integers exactly. A float dot of inner size K computed by
 * any summation order differs from the exact value by at most
 * gamma_K * (|A| . |B|)_ij, gamma_K = K u / (1 - K u) with u the unit
 * roundoff of the output dtype (Higham, Accuracy and Stability, 3.5); NumPy
 * and damo each meet it, so they may differ by twice that: the test allows
 * 2 (K + 2) eps (|A| . |B|)_ij (eps = 2u), plus the smallest normal number
 * for sums that cancel to 0. Later elementwise work adds a few eps.
 *
 * Every case runs on each route: the default one (the host CBLAS on a CPU
 * device, small products on the calling thread when the queue is idle) in
 * this process, then, each in a copy of this program started with the
 * variable set before its context exists (fork and exec of
 * /proc/self/exe), DAMO_BLAS=host-queued (every product a native kernel;
 * only where the default route is the host's) and DAMO_BLAS=clblast; the
 * copies' checks count here. CLBlast
 * compiles its kernels on first use (seconds each on PoCL), so the copy
 * keeps to few routines: gemm, gemv and dot in float32 and float64 (and
 * what the outer product uses). */
#include <damo.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "tcase.h"

/* ---------------------------------------------------------------------- */
/* File cases                                                              */
/* ---------------------------------------------------------------------- */

static const char *route = "default";

/* Element (i, j) of an operand as a 2-d matrix: a vector is a row (as
 * the first operand) or a column (as the second); tr transposes. */
static double opnd(const parray *p, int tr, int is_first, int64_t i, int64_t j)
{
    int64_t at;
    if (p->ndim == 1)
        at = is_first ? j : i;
    else
        at = tr ? j * p->shape[1] + i : i * p->shape[1] + j;
    switch (p->t) {
    case DAMO_FLOAT32: return ((const float *)p->data)[at];
    case DAMO_FLOAT64: return ((const double *)p->data)[at];
    default: return 0;
    }
}

/* (|A'| . |B'|) flattened in the result's C order, and the inner size. */
static double *abs_product(const parray *a, int ta, const parray *b, int tb, int64_t *n_out, int64_t *k_out)
{
    int64_t m = a->ndim == 1 ? 1 : (ta ? a->shape[1] : a->shape[0]);
    int64_t k = a->ndim == 1 ? a->shape[0] : (ta ? a->shape[0] : a->shape[1]);
    int64_t n = b->ndim == 1 ? 1 : (tb ? b->shape[0] : b->shape[1]);
    double *r = calloc((size_t)(m * n) + 1, sizeof *r);
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double s = 0;
            for (int64_t q = 0; q < k; q++)
                s += fabs(opnd(a, ta, 1, i, q)) * fabs(opnd(b, tb, 0, q, j));
            r[i * n + j] = s;
        }
    *n_out = m * n;
    *k_out = k;
    return r;
}

static double eps_of(damo_dtype t) { return t == DAMO_FLOAT32 ? 0x1p-23 : 0x1p-52; }
static double tiny_of(damo_dtype t) { return t == DAMO_FLOAT32 ? 0x1p-126 : 0x1p-1022; }

typedef struct blas_stats {
    int cases, calls, failed_cases;
    int blas_steps_seen;
    char first_text[2][256]; /* step text of the first float m.m, per dtype */
} blas_stats;
static blas_stats bs;

static int n_kind(damo_function *f, damo_step_kind k)
{
    int n = 0;
    for (size_t i = 0; i < damo_function_n_steps(f); i++)
        n += damo_function_step_kind(f, i) == k;
    return n;
}

static void print_steps(damo_function *f, const char *what)
{
    fprintf(stderr, "    %s: %zu steps:", what, damo_function_n_steps(f));
    for (size_t i = 0; i < damo_function_n_steps(f); i++)
        fprintf(stderr, " [%d] %s;", (int)damo_function_step_kind(f, i), damo_function_step_text(f, i));
    fprintf(stderr, "\n");
}

static void run_blas_case(const tcase *c)
{
    int kind = !strcmp(c->kind, "dot")        ? 0
               : !strcmp(c->kind, "outer")    ? 1
               : !strcmp(c->kind, "gemm")     ? 2
               : !strcmp(c->kind, "logistic") ? 3
                                              : -1;
    if (kind < 0) {
        CHECK_MSG(0, "case %s: unknown kind %s", c->id, c->kind);
        return;
    }
    bs.cases++;
    int failed_before = check_failed_;
    const char *tags[3] = {kind == 3 ? "x" : "a", kind == 3 ? "w" : "b", kind == 3 ? "b" : "c"};
    int n_in = kind >= 2 ? 3 : 2;
    parray base[3], shown[3], want;
    damo_array *in[3] = {NULL, NULL, NULL};
    memset(base, 0, sizeof base);
    memset(shown, 0, sizeof shown);
    int ok = case_array(c, "out", &want);
    for (int i = 0; i < n_in; i++)
        ok &= (in[i] = case_input(c, tags[i], &base[i], &shown[i])) != NULL;
    double tr[2] = {0, 0}, alpha = 1, beta = 0;
    case_doubles(c, "transpose", tr, 2);
    case_doubles(c, "alpha", &alpha, 1);
    case_doubles(c, "beta", &beta, 1);
    int ta = tr[0] != 0, tb = tr[1] != 0;

    damo_graph *g = damo_graph_new(ctx);
    damo_var *v[3] = {NULL, NULL, NULL};
    for (int i = 0; ok && i < n_in; i++) {
        /* a transposed operand's input has the stored (untransposed) shape */
        v[i] = damo_tensor(g, shown[i].t, shown[i].ndim, NULL, tags[i]);
    }
    damo_var *out = NULL;
    if (ok) {
        damo_var *a = ta ? damo_transpose(v[0]) : v[0], *b = tb ? damo_transpose(v[1]) : v[1];
        if (kind == 0)
            out = damo_dot(a, b);
        else if (kind == 1)
            out = damo_outer(a, b);
        else if (kind == 2)
            out =
                damo_add(damo_mul(damo_float(g, alpha), damo_dot(a, b)), damo_mul(damo_float(g, beta), v[2]));
        else
            out =
                damo_true_div(damo_float(g, 1),
                              damo_add(damo_float(g, 1), damo_exp(damo_sub(damo_neg(damo_dot(a, b)), v[2]))));
        CHECK_MSG(out, "case %s %s: build: %s", c->id, c->kind, damo_graph_errmsg(g));
    }
    /* tolerances */
    double *tol = NULL;
    if (out && is_float(want.t)) {
        int64_t n = 0, k = 0;
        double *ab = kind == 1 ? NULL : abs_product(&shown[0], ta, &shown[1], tb, &n, &k);
        double eps = eps_of(want.t), tiny = tiny_of(want.t);
        tol = calloc((size_t)want.n + 1, sizeof *tol);
        for (int64_t i = 0; i < want.n; i++) {
            if (kind == 1) {
                int64_t nb = shown[1].shape[0];
                double p = fabs(opnd(&shown[0], 0, 1, 0, i / nb) * opnd(&shown[1], 0, 0, i % nb, 0));
                tol[i] = 2 * eps * p + tiny;
            } else if (kind == 0) {
                tol[i] = 2 * (double)(k + 2) * eps * ab[i] + tiny;
            } else if (kind == 2) {
                double cij = fabs(elem_f64(shown[2].t, shown[2].data, i));
                tol[i] = 2 * (double)(k + 2) * eps * fabs(alpha) * ab[i] + 4 * eps * fabs(beta) * cij + tiny;
            } else {
                /* sigmoid' <= 1/4; exp, add and divide add a few eps */
                tol[i] = 0.25 * 2 * (double)(k + 4) * eps *
                             (ab[i] + fabs(elem_f64(shown[2].t, shown[2].data, 0))) +
                         16 * eps + tiny;
            }
            if (n && n != want.n)
                tol[i] = 0;
        }
        CHECK_MSG(kind == 1 || n == want.n, "case %s: %lld products for %lld values", c->id, (long long)n,
                  (long long)want.n);
        free(ab);
    }
    if (out)
        CHECK_MSG(damo_var_dtype(out) == want.t && damo_var_ndim(out) == want.ndim,
                  "case %s %s: variable %s %d-d, NumPy %s %d-d", c->id, c->kind,
                  damo_dtype_name(damo_var_dtype(out)), damo_var_ndim(out), damo_dtype_name(want.t),
                  want.ndim);
    for (int p = 0; out && p < 2; p++) {
        damo_function *f = damo_function_simple(g, (size_t)n_in, v, 1, &out, both_paths[p]);
        CHECK_MSG(f, "case %s %s (%s): compile: %s", c->id, c->kind, path_name(both_paths[p]),
                  damo_graph_errmsg(g));
        if (!f)
            continue;
        int nb = n_kind(f, DAMO_STEP_BLAS);
        bs.blas_steps_seen += nb;
        if ((kind == 0 && is_float(want.t)) || kind == 2) {
            /* an empty product needs no BLAS call; others have exactly one
             * (integer dots: test_integer_kernel) */
            const parray *a0 = &shown[0];
            int64_t inner = a0->ndim == 1 ? a0->shape[0] : a0->shape[ta ? 0 : 1];
            int empty = want.n == 0 || inner == 0;
            CHECK_MSG(nb == 1 || (empty && nb == 0), "case %s %s (%s): %d BLAS steps", c->id, c->kind,
                      path_name(both_paths[p]), nb);
        }
        /* steps that do work: VIEW steps (the transposes) do none */
        int n_work = (int)damo_function_n_steps(f) - n_kind(f, DAMO_STEP_VIEW);
        if (kind == 2) {
            CHECK_MSG(
                n_work == 1 && nb == 1,
                "case %s: alpha * dot(A, B) + beta * C is %d working steps (%d BLAS), expected one gemm",
                c->id, n_work, nb);
            if (n_work != 1 && p == 0)
                print_steps(f, "gemm");
        }
        if (kind == 3) {
            int ok_steps = n_work == 2 && nb == 1 && n_kind(f, DAMO_STEP_ELEMWISE) == 1 &&
                           damo_function_step_kind(f, damo_function_n_steps(f) - 1) == DAMO_STEP_ELEMWISE;
            CHECK_MSG(ok_steps, "case %s: logistic regression is not one BLAS + one elementwise step", c->id);
            if (!ok_steps && p == 0)
                print_steps(f, "logistic");
        }
        if (kind == 0 && nb == 1 && is_float(want.t) && shown[0].ndim == 2 && shown[1].ndim == 2) {
            char *slot = bs.first_text[want.t == DAMO_FLOAT64];
            for (size_t i = 0; !slot[0] && i < damo_function_n_steps(f); i++)
                if (damo_function_step_kind(f, i) == DAMO_STEP_BLAS)
                    snprintf(slot, 256, "%s", damo_function_step_text(f, i));
        }
        damo_arg args[3];
        for (int i = 0; i < n_in; i++)
            args[i] = DAMO_ARG(in[i]);
        for (int call = 0; call < 2; call++) {
            damo_array *r = NULL;
            damo_status st = damo_call(f, args, (size_t)n_in, &r, 1);
            bs.calls++;
            char what[200];
            snprintf(what, sizeof what, "case %s %s (%s route, %s, call %d)", c->id, c->kind, route,
                     path_name(both_paths[p]), call + 1);
            CHECK_MSG(st == DAMO_OK, "%s: %s", what, damo_function_errmsg(f));
            if (st == DAMO_OK)
                expect_array(r, &want, tol, what);
            damo_array_release(r);
        }
        damo_function_free(f);
    }
    report_case(c, failed_before, &bs.failed_cases, 20);
    free(tol);
    damo_graph_free(g);
    for (int i = 0; i < 3; i++) {
        damo_array_release(in[i]);
        free_input(&base[i], &shown[i]);
    }
    free(want.data);
}

static void run_file(void)
{
    tfile tf;
    if (!load_cases("tensor_blas.txt", &tf))
        return;
    for (int i = 0; i < tf.n_cases; i++)
        if (selected(&tf.cases[i]))
            run_blas_case(&tf.cases[i]);
    printf("[%s route] file cases: %d (%d with a failure), %d calls, %d BLAS steps\n", route, bs.cases,
           bs.failed_cases, bs.calls, bs.blas_steps_seen);
    printf("[%s route] float32 m.m step: %s\n[%s route] float64 m.m step: %s\n", route, bs.first_text[0],
           route, bs.first_text[1]);
    if (!getenv("DAMO_TEST_CASE"))
        CHECK_MSG(bs.cases >= 60, "only %d cases", bs.cases);
    free_cases(&tf);
}

/* ---------------------------------------------------------------------- */
/* Written here                                                            */
/* ---------------------------------------------------------------------- */

/* Static shape mismatches are errors when building; unknown ones at run
 * time, after which the function stays usable. */
static void test_shape_errors(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_var *a34 = damo_tensor(g, DAMO_FLOAT64, 2, (int64_t[]){3, 4}, "a34");
    damo_var *v5 = damo_tensor(g, DAMO_FLOAT64, 1, (int64_t[]){5}, "v5");
    damo_var *b52 = damo_tensor(g, DAMO_FLOAT64, 2, (int64_t[]){5, 2}, "b52");
    damo_var *v3 = damo_tensor(g, DAMO_FLOAT64, 1, (int64_t[]){3}, "v3");
    damo_var *v4 = damo_tensor(g, DAMO_FLOAT64, 1, (int64_t[]){4}, "v4");
    struct {
        const char *what;
        damo_var *got;
    } bad[] = {
        {"dot (3, 4) . (5,)", damo_dot(a34, v5)},
        {"dot (3, 4) . (5, 2)", damo_dot(a34, b52)},
        {"dot (4,) . (3,)", damo_dot(v4, v3)},
        {"dot (4,) . (3, 4)", damo_dot(v4, a34)},
        {"dot (3, 4).T . (4,)", damo_dot(damo_transpose(a34), v4)},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_MSG(!bad[i].got, "%s: built, expected DAMO_ERR_SHAPE", bad[i].what);
        CHECK_MSG(damo_graph_errcode(g) == DAMO_ERR_SHAPE, "%s: %s (%s)", bad[i].what,
                  damo_status_name(damo_graph_errcode(g)), damo_graph_errmsg(g));
    }
    /* numpy.outer flattens its operands: a matrix is beyond the header (two
     * vectors) but, if it builds, it must mean that */
    damo_var *om = damo_outer(a34, v4);
    CHECK_MSG(!om || (damo_var_ndim(om) == 2 && damo_var_dim(om, 1) == 4 &&
                      (damo_var_dim(om, 0) == 12 || damo_var_dim(om, 0) == DAMO_DIM_UNKNOWN)),
              "outer of a (3, 4) matrix and a (4,) vector: %d-d", damo_var_ndim(om));
    CHECK_MSG(!damo_dot(damo_dtensor3(g, "t3"), v4), "dot of a 3-d tensor built (header: 1-d and 2-d)");
    CHECK(damo_dot(NULL, v4) == NULL);
    /* the graph is still usable and the right shapes build */
    damo_var *ok1 = damo_dot(a34, v4), *ok2 = damo_dot(v3, a34), *ok3 = damo_dot(damo_transpose(a34), v3);
    CHECK(ok1 && damo_var_ndim(ok1) == 1 && damo_var_dim(ok1, 0) == 3);
    CHECK(ok2 && damo_var_ndim(ok2) == 1 && damo_var_dim(ok2, 0) == 4);
    CHECK(ok3 && damo_var_ndim(ok3) == 1 && damo_var_dim(ok3, 0) == 4);
    damo_var *vv = damo_dot(v4, v4);
    CHECK(vv && damo_var_ndim(vv) == 0 && damo_var_dtype(vv) == DAMO_FLOAT64);
    CHECK(damo_var_dtype(damo_dot(damo_fmatrix(g, "fm"), damo_fvector(g, "fv"))) == DAMO_FLOAT32);
    CHECK(damo_var_dtype(damo_dot(damo_imatrix(g, "im"), damo_ivector(g, "iv"))) == DAMO_INT32);
    /* unknown sizes: the mismatch is found when calling */
    damo_var *m = damo_dmatrix(g, "m"), *v = damo_dvector(g, "v");
    damo_var *mv = damo_dot(m, v);
    damo_var *ins[] = {m, v};
    double d[12];
    for (int i = 0; i < 12; i++)
        d[i] = i + 1;
    damo_array *m34 = damo_array_from_data(ctx, DAMO_FLOAT64, 2, (int64_t[]){3, 4}, d);
    damo_array *w5 = damo_array_from_data(ctx, DAMO_FLOAT64, 1, (int64_t[]){5}, d);
    damo_array *w4 = damo_array_from_data(ctx, DAMO_FLOAT64, 1, (int64_t[]){4}, d);
    for (int p = 0; p < 2; p++) {
        damo_function *f = damo_function_simple(g, 2, ins, 1, &mv, both_paths[p]);
        CHECK_MSG(f, "%s", damo_graph_errmsg(g));
        damo_array *r = (damo_array *)&r;
        damo_arg badargs[] = {DAMO_ARG(m34), DAMO_ARG(w5)}, goodargs[] = {DAMO_ARG(m34), DAMO_ARG(w4)};
        CHECK_MSG(f && damo_call(f, badargs, 2, &r, 1) != DAMO_OK && r == NULL,
                  "dot (3, 4) . (5,) at run time succeeded");
        CHECK_MSG(!f || damo_function_errmsg(f)[0], "no message");
        r = NULL;
        CHECK(f && damo_call(f, goodargs, 2, &r, 1) == DAMO_OK);
        /* np.arange(1., 13).reshape(3, 4) @ np.arange(1., 5) -> [30, 70, 110] */
        double got[3] = {0};
        CHECK(r && damo_array_read(r, got) == DAMO_OK && got[0] == 30 && got[1] == 70 && got[2] == 110);
        damo_array_release(r);
        damo_function_free(f);
    }
    damo_array_release(m34);
    damo_array_release(w5);
    damo_array_release(w4);
    damo_graph_free(g);
}

/* A dot feeding a reduction and another dot: (A @ B).sum() and A @ (B @ v)
 * for A = np.arange(6.).reshape(2, 3), B = np.arange(12.).reshape(3, 4) - 5,
 * v = np.array([1., -1, 2, 0.5]): 94.0 and [26.0, 44.0]. */
static void test_chains(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_var *A = damo_dmatrix(g, "A"), *B = damo_dmatrix(g, "B"), *v = damo_dvector(g, "v");
    damo_var *outs[] = {damo_sum(damo_dot(A, B), NULL, 0, 0), damo_dot(A, damo_dot(B, v))};
    damo_var *ins[] = {A, B, v};
    double a[6], b[12];
    for (int i = 0; i < 6; i++)
        a[i] = i;
    for (int i = 0; i < 12; i++)
        b[i] = i - 5;
    const double vv[] = {1, -1, 2, 0.5};
    damo_array *vals[] = {damo_array_from_data(ctx, DAMO_FLOAT64, 2, (int64_t[]){2, 3}, a),
                          damo_array_from_data(ctx, DAMO_FLOAT64, 2, (int64_t[]){3, 4}, b),
                          damo_array_from_data(ctx, DAMO_FLOAT64, 1, (int64_t[]){4}, vv)};
    for (int p = 0; p < 2; p++) {
        damo_function *f = damo_function_simple(g, 3, ins, 2, outs, both_paths[p]);
        CHECK_MSG(f, "%s", damo_graph_errmsg(g));
        damo_arg args[] = {DAMO_ARG(vals[0]), DAMO_ARG(vals[1]), DAMO_ARG(vals[2])};
        damo_array *r[2] = {NULL, NULL};
        CHECK(f && damo_call(f, args, 3, r, 2) == DAMO_OK);
        double s = 0, w[2] = {0};
        CHECK(r[0] && damo_array_get_f64(r[0], 0, &s) == DAMO_OK);
        CHECK_CLOSE(s, 94.0, 0, 0);
        CHECK(r[1] && damo_array_read(r[1], w) == DAMO_OK);
        CHECK_CLOSE(w[0], 26.0, 0, 0);
        CHECK_CLOSE(w[1], 44.0, 0, 0);
        damo_array_release(r[0]);
        damo_array_release(r[1]);
        damo_function_free(f);
    }
    for (int i = 0; i < 3; i++)
        damo_array_release(vals[i]);
    damo_graph_free(g);
}

/* A gemm's c computed by elementwise work is computed in the result's
 * memory, which the gemm then updates in place; a c that broadcasts is
 * copied as before. 2 A.v + 3 u^2 and A.B - exp(z) with z of static shape
 * (1, 4), for A = [[0, 1, 2], [3, 4, 5]], v = [1, -1, 2], u = [0.5, -2],
 * B[i][j] = 4 i + j - 5, z = 0: [6.75, 30] and [[4, 7, 10, 13], [-5, 7,
 * 19, 31]] (worked by hand). */
static void test_gemm_c_computed(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_var *A = damo_dmatrix(g, "A"), *B = damo_dmatrix(g, "B"), *v = damo_dvector(g, "v"),
             *u = damo_dvector(g, "u"), *z = damo_tensor(g, DAMO_FLOAT64, 2, (int64_t[]){1, 4}, "z");
    damo_var *outs[] = {damo_add(damo_mul(damo_float(g, 2), damo_dot(A, v)), damo_mul(damo_float(g, 3), damo_sqr(u))),
                        damo_sub(damo_dot(A, B), damo_exp(z))};
    damo_var *ins[] = {A, B, v, u, z};
    double a[6], b[12];
    for (int i = 0; i < 6; i++)
        a[i] = i;
    for (int i = 0; i < 12; i++)
        b[i] = i - 5;
    const double vv[] = {1, -1, 2}, uv[] = {0.5, -2}, zv[4] = {0};
    const double want0[] = {6.75, 30}, want1[] = {4, 7, 10, 13, -5, 7, 19, 31};
    damo_array *vals[] = {damo_array_from_data(ctx, DAMO_FLOAT64, 2, (int64_t[]){2, 3}, a),
                          damo_array_from_data(ctx, DAMO_FLOAT64, 2, (int64_t[]){3, 4}, b),
                          damo_array_from_data(ctx, DAMO_FLOAT64, 1, (int64_t[]){3}, vv),
                          damo_array_from_data(ctx, DAMO_FLOAT64, 1, (int64_t[]){2}, uv),
                          damo_array_from_data(ctx, DAMO_FLOAT64, 2, (int64_t[]){1, 4}, zv)};
    for (int p = 0; p < 2; p++) {
        damo_function *f = damo_function_simple(g, 5, ins, 2, outs, both_paths[p]);
        CHECK_MSG(f, "%s", damo_graph_errmsg(g));
        int n_blas = 0;
        for (size_t i = 0; f && i < damo_function_n_steps(f); i++)
            n_blas += damo_function_step_kind(f, i) == DAMO_STEP_BLAS;
        CHECK_INT(n_blas, 2);
        damo_arg args[5];
        for (int i = 0; i < 5; i++)
            args[i] = DAMO_ARG(vals[i]);
        for (int call = 0; f && call < 3; call++) {
            damo_array *r[2] = {NULL, NULL};
            double got0[2] = {0}, got1[8] = {0};
            CHECK(damo_call(f, args, 5, r, 2) == DAMO_OK);
            CHECK(r[0] && damo_array_read(r[0], got0) == DAMO_OK);
            CHECK(r[1] && damo_array_read(r[1], got1) == DAMO_OK);
            for (int i = 0; i < 2; i++)
                CHECK_CLOSE(got0[i], want0[i], 0, 0);
            for (int i = 0; i < 8; i++)
                CHECK_CLOSE(got1[i], want1[i], 0, 0);
            /* the first call's results are still held here: the later calls
             * must not write into them */
            if (call == 0) {
                damo_array_release(r[1]);
                for (int again = 0; again < 2; again++) {
                    damo_array *r2[2] = {NULL, NULL};
                    CHECK(damo_call(f, args, 5, r2, 2) == DAMO_OK);
                    damo_array_release(r2[0]);
                    damo_array_release(r2[1]);
                }
                CHECK(damo_array_read(r[0], got0) == DAMO_OK);
                for (int i = 0; i < 2; i++)
                    CHECK_CLOSE(got0[i], want0[i], 0, 0);
                damo_array_release(r[0]);
                continue;
            }
            damo_array_release(r[0]);
            damo_array_release(r[1]);
        }
        damo_function_free(f);
    }
    for (int i = 0; i < 5; i++)
        damo_array_release(vals[i]);
    damo_graph_free(g);
}

/* Integer dots run a generated reduction: no BLAS step, no BLAS library. */
static void test_integer_kernel(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_var *a = damo_lmatrix(g, "a"), *b = damo_lmatrix(g, "b");
    damo_var *c = damo_dot(a, b);
    damo_var *ins[] = {a, b};
    damo_function *f = damo_function_simple(g, 2, ins, 1, &c, DAMO_FN_DEVICE_ONLY);
    CHECK_MSG(f, "%s", damo_graph_errmsg(g));
    /* the header: an integer dot is the sum of a broadcast product, one
     * REDUCE step with the product fused into it, and no BLAS call */
    int n_work = 0, n_blas = 0, n_red = 0;
    for (size_t i = 0; f && i < damo_function_n_steps(f); i++) {
        n_work += damo_function_step_kind(f, i) != DAMO_STEP_VIEW;
        n_blas += damo_function_step_kind(f, i) == DAMO_STEP_BLAS;
        n_red += damo_function_step_kind(f, i) == DAMO_STEP_REDUCE;
    }
    CHECK_MSG(f && n_work == 1 && n_red == 1 && n_blas == 0,
              "int64 matrix product: %d working steps, %d REDUCE, %d BLAS", n_work, n_red, n_blas);
    if (f && (n_work != 1 || n_red != 1 || n_blas != 0))
        print_steps(f, "int64 dot");
    /* products that overflow int64 wrap as NumPy's do:
     * np.dot(np.array([[2**62, 3]]), np.array([[4], [5]])) -> [[15]] */
    const int64_t av[] = {(int64_t)1 << 62, 3}, bv[] = {4, 5};
    damo_array *aa = damo_array_from_data(ctx, DAMO_INT64, 2, (int64_t[]){1, 2}, av);
    damo_array *ba = damo_array_from_data(ctx, DAMO_INT64, 2, (int64_t[]){2, 1}, bv);
    damo_arg args[] = {DAMO_ARG(aa), DAMO_ARG(ba)};
    damo_array *r = NULL;
    int64_t got = 0;
    CHECK(f && damo_call(f, args, 2, &r, 1) == DAMO_OK && damo_array_get_i64(r, 0, &got) == DAMO_OK);
    CHECK_INT(got, 15);
    damo_array_release(r);
    damo_array_release(aa);
    damo_array_release(ba);
    damo_function_free(f);
    damo_graph_free(g);
}

/* An output buffer taken from the pool may hold anything, NaN included:
 * a product with beta = 0 must not read it (CLBlast's gemv computes
 * beta * y; 0 * NaN is NaN). Each product runs after a device function
 * that left NaNs in a pooled buffer of the output's size. */
/* Where a product ran, seen in a profile: runs that enqueued nothing ran on
 * the calling thread. A GEMV of 40 x 50 (2000 multiply-adds) does on the
 * host route when each call finds the queue finished, unless DAMO_BLAS is
 * host-queued; a GEMM of 256 x 512 x 256 (2^25, over the 2^24 limit) is
 * always queued. Values: A of ones times b[k] = k gives sum(k) = k(k-1)/2
 * in every element, exact in float64. */
static void test_where_products_run(void)
{
    const char *env = getenv("DAMO_BLAS");
    int queued = env && !strcmp(env, "host-queued");
    static const int64_t SIZES[2][3] = {{40, 50, 1}, {256, 512, 256}};
    for (int big = 0; big < 2; big++) {
        int64_t m = SIZES[big][0], k = SIZES[big][1], n = SIZES[big][2];
        damo_graph *g = damo_graph_new(ctx);
        damo_var *a = damo_dmatrix(g, "a"), *b = big ? damo_dmatrix(g, "b") : damo_dvector(g, "b");
        damo_var *y = damo_dot(a, b), *ins[2] = {a, b};
        damo_function *f = damo_function_simple(g, 2, ins, 1, &y, DAMO_FN_PROFILE);
        CHECK_MSG(f, "%s", damo_graph_errmsg(g));
        double *av = malloc((size_t)(m * k) * sizeof *av), *bv = malloc((size_t)(k * n) * sizeof *bv);
        double *got = malloc((size_t)(m * n) * sizeof *got);
        for (int64_t i = 0; av && i < m * k; i++)
            av[i] = 1;
        for (int64_t i = 0; bv && i < k * n; i++)
            bv[i] = (double)(i / n) * (double)(1 + i % n);
        damo_array *A = damo_array_from_data(ctx, DAMO_FLOAT64, 2, (int64_t[]){m, k}, av);
        damo_array *B = big ? damo_array_from_data(ctx, DAMO_FLOAT64, 2, (int64_t[]){k, n}, bv)
                            : damo_array_from_data(ctx, DAMO_FLOAT64, 1, &k, bv);
        /* uploaded first: a call that uploads them finds its queue busy */
        CHECK(damo_array_to_device(A) == DAMO_OK && damo_array_to_device(B) == DAMO_OK);
        const int CALLS = 6;
        size_t blas = 0;
        for (int call = 0; f && got && call < CALLS; call++) {
            damo_array *r = NULL;
            CHECK(damo_ctx_finish(ctx) == DAMO_OK);
            CHECK(damo_call(f, (damo_arg[]){DAMO_ARG(A), DAMO_ARG(B)}, 2, &r, 1) == DAMO_OK);
            CHECK(r && damo_array_read(r, got) == DAMO_OK);
            int wrong = 0;
            for (int64_t i = 0; i < m * n; i++)
                wrong += got[i] != (double)(k * (k - 1) / 2) * (double)(1 + i % n);
            CHECK_MSG(!wrong, "%s route: %s product: %d of %lld elements wrong", route,
                      big ? "large" : "small", wrong, (long long)(m * n));
            damo_array_release(r);
        }
        for (size_t i = 0; f && i < damo_function_n_steps(f); i++)
            if (damo_function_step_kind(f, i) == DAMO_STEP_BLAS)
                blas = i;
        damo_step_profile sp;
        const char *text = f ? damo_function_step_text(f, blas) : NULL;
        int host = text && strstr(text, "host BLAS");
        if (f && damo_function_step_profile(f, blas, &sp) == DAMO_OK) {
            uint64_t on_thread = host && !queued && !big ? (uint64_t)CALLS : 0;
            CHECK_MSG(sp.host_calls == on_thread && sp.events >= (uint64_t)CALLS - on_thread,
                      "%s route, %s product (%s): %llu of %d calls ran on the calling thread, "
                      "%llu commands queued; expected %llu on the thread", route,
                      big ? "large" : "small", text, (unsigned long long)sp.host_calls, CALLS,
                      (unsigned long long)sp.events, (unsigned long long)on_thread);
        } else {
            CHECK_MSG(0, "no profile for the product's step");
        }
        damo_array_release(A);
        damo_array_release(B);
        free(av);
        free(bv);
        free(got);
        damo_function_free(f);
        damo_graph_free(g);
    }
}

static void test_pooled_nan_output(void)
{
    const struct {
        const char *what;
        int64_t ashape[2], bshape[2];
        int an, bn; /* ranks */
    } prods[] = {
        {"m.v", {7, 5}, {5, 0}, 2, 1},         {"v.m", {5, 0}, {5, 7}, 1, 2},
        {"m.m", {4, 3}, {3, 6}, 2, 2},         {"v.v", {9, 0}, {9, 0}, 1, 1},
        {"m.m inner 0", {4, 0}, {0, 6}, 2, 2}, {"m.v inner 0", {7, 0}, {0, 0}, 2, 1},
    };
    for (int ti = 0; ti < 2; ti++) {
        damo_dtype t = ti ? DAMO_FLOAT64 : DAMO_FLOAT32;
        for (size_t k = 0; k < sizeof prods / sizeof prods[0]; k++) {
            damo_graph *g = damo_graph_new(ctx);
            damo_var *a = damo_tensor(g, t, prods[k].an, NULL, "a"),
                     *b = damo_tensor(g, t, prods[k].bn, NULL, "b");
            damo_var *y = damo_dot(a, b), *u = damo_tensor(g, t, 1, NULL, "u"), *nan = damo_log(u);
            int64_t ny =
                (prods[k].an == 2 ? prods[k].ashape[0] : 1) * (prods[k].bn == 2 ? prods[k].bshape[1] : 1);
            int64_t inner = prods[k].an == 2 ? prods[k].ashape[1] : prods[k].ashape[0];
            double ones[64], minus[64];
            float onesf[64], minusf[64];
            for (int i = 0; i < 64; i++) {
                ones[i] = onesf[i] = 1;
                minus[i] = minusf[i] = -1;
            }
            const void *one = ti ? (const void *)ones : (const void *)onesf;
            damo_array *aa = damo_array_from_data(ctx, t, prods[k].an, prods[k].ashape, one);
            damo_array *ba = damo_array_from_data(ctx, t, prods[k].bn, prods[k].bshape, one);
            damo_array *ua =
                damo_array_from_data(ctx, t, 1, &ny, ti ? (const void *)minus : (const void *)minusf);
            /* log(-1) on the device, then everything freed: a pooled buffer
             * of ny NaNs */
            damo_function *fn = damo_function_simple(g, 1, &u, 1, &nan, DAMO_FN_DEVICE_ONLY);
            damo_arg uarg = DAMO_ARG(ua);
            damo_array *n = NULL;
            CHECK(fn && damo_call(fn, &uarg, 1, &n, 1) == DAMO_OK);
            damo_ctx_finish(ctx);
            damo_array_release(n);
            damo_function_free(fn);
            damo_var *ins[] = {a, b};
            damo_function *f = damo_function_simple(g, 2, ins, 1, &y, 0);
            damo_arg args[] = {DAMO_ARG(aa), DAMO_ARG(ba)};
            damo_array *r = NULL;
            damo_status st = f ? damo_call(f, args, 2, &r, 1) : DAMO_ERR_INVALID;
            CHECK_MSG(st == DAMO_OK, "%s %s: %s", damo_dtype_name(t), prods[k].what, damo_function_errmsg(f));
            int bad = 0;
            for (int64_t i = 0; st == DAMO_OK && i < ny; i++) {
                double v = NAN;
                damo_array_get_f64(r, i, &v);
                bad += v != (double)inner;
            }
            CHECK_MSG(st != DAMO_OK || (!bad && damo_array_size(r) == ny),
                      "%s route: %s %s of ones after NaNs were pooled: %d of %lld wrong (%s)", route,
                      damo_dtype_name(t), prods[k].what, bad, (long long)ny,
                      f && damo_function_n_steps(f) ? damo_function_step_text(f, damo_function_n_steps(f) - 1)
                                                    : "");
            damo_array_release(r);
            damo_array_release(aa);
            damo_array_release(ba);
            damo_array_release(ua);
            damo_function_free(f);
            damo_graph_free(g);
        }
    }
}

static int run_route(void)
{
    char err[512];
    if (damo_ctx_new(&ctx, err, sizeof err) != DAMO_OK) {
        fprintf(stderr, "no device: %s\n", err);
        return 0;
    }
    printf("[%s route] device: %s (DAMO_BLAS=%s)\n", route, damo_ctx_device_name(ctx),
           getenv("DAMO_BLAS") ? getenv("DAMO_BLAS") : "(unset)");
    test_shape_errors();
    test_integer_kernel();
    test_chains();
    test_gemm_c_computed();
    test_pooled_nan_output();
    test_where_products_run();
    run_file();
    damo_ctx_stats stats;
    damo_ctx_get_stats(ctx, &stats);
    printf("programs: %llu built, %llu from the disk cache, %llu found in memory\n",
           (unsigned long long)stats.builds, (unsigned long long)stats.disk_hits,
           (unsigned long long)stats.memory_hits);
    damo_ctx_free(ctx);
    return 1;
}

/* A copy of this program on the route named by DAMO_BLAS: its counts come
 * back through the pipe whose fd it is given. */
static int child_main(const char *name, int fd)
{
    route = name;
    int ok = run_route();
    int counts[3] = {check_passed_, check_failed_, ok};
    ssize_t w = write(fd, counts, sizeof counts);
    close(fd);
    return w == (ssize_t)sizeof counts ? 0 : 1;
}

static void run_copy(const char *blas)
{
    int fds[2];
    if (pipe(fds) != 0) {
        CHECK_MSG(0, "pipe: %s", strerror(errno));
        return;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        char fdtext[16];
        snprintf(fdtext, sizeof fdtext, "%d", fds[1]);
        setenv("DAMO_BLAS", blas, 1);
        execl("/proc/self/exe", "test_blas", "--child", blas, fdtext, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    int counts[3] = {0, 0, 0};
    ssize_t got = pid > 0 ? read(fds[0], counts, sizeof counts) : -1;
    close(fds[0]);
    int status = 0;
    if (pid > 0)
        waitpid(pid, &status, 0);
    CHECK_MSG(pid > 0 && got == (ssize_t)sizeof counts && WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
                  counts[2],
              "the DAMO_BLAS=%s copy did not finish (status %d)", blas, status);
    check_passed_ += counts[0];
    check_failed_ += counts[1];
    printf("[%s route] %d passed, %d failed\n", blas, counts[0], counts[1]);
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "--child"))
        return child_main(argv[2], atoi(argv[3]));
    if (!run_route())
        return 1;
    printf("[default route] %d passed, %d failed\n", check_passed_, check_failed_);
    if (!getenv("DAMO_BLAS_TEST_DEFAULT_ONLY")) {
        if (strstr(bs.first_text[1], "host BLAS"))
            run_copy("host-queued");
        run_copy("clblast");
    }
    return check_done();
}
