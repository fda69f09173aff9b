/* Random streams: the bits of every draw against Philox4x32-10 (validated
 * by test_philox against Random123's vectors) and the documented mapping
 * from bits to numbers, on the device and the host path, fused and not;
 * distributions against closed forms (mean, variance, Kolmogorov-Smirnov,
 * chi-square); the tutorial's semantics (new numbers per call, none with
 * no default updates, one draw per call, seeding, copying state, failing
 * calls); and errors. */
#include <damo.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define DAMO_FN static inline
#define DAMO_U32 uint32_t
#define DAMO_U64 uint64_t
#include "philox.h"

static damo_ctx *ctx;

/* CHECK(ok) as an expression, printing msg when it fails. */
static int checked(int ok, const char *msg)
{
    if (!check_report_(ok, __FILE__, __LINE__, msg))
        fprintf(stderr, "    %s\n", msg);
    return ok;
}

/* Compiles function([inputs], out) with flags and calls it once with
 * args; returns the output's values as doubles (caller frees) and its
 * size in *n, or NULL on error. */
static double *run(damo_graph *g, size_t n_in, damo_var *const *in, damo_var *out, unsigned flags,
                   const damo_arg *args, int64_t *n)
{
    damo_function *f = damo_function_simple(g, n_in, in, 1, &out, flags);
    if (!checked(!!(f), damo_graph_errmsg(g)))
        return NULL;
    damo_array *a = NULL;
    double *v = NULL;
    if (checked(damo_call(f, args, n_in, &a, 1) == DAMO_OK, damo_function_errmsg(f))) {
        *n = damo_array_size(a);
        v = malloc((size_t)(*n ? *n : 1) * sizeof *v);
        for (int64_t i = 0; i < *n; i++)
            damo_array_get_f64(a, i, &v[i]);
    }
    damo_array_release(a);
    damo_function_free(f);
    return v;
}

/* Calls f (no inputs) and reads its one output as doubles into out. */
static int64_t call_read(damo_function *f, double *out)
{
    damo_array *a = NULL;
    if (!checked(damo_call(f, NULL, 0, &a, 1) == DAMO_OK, damo_function_errmsg(f)))
        return 0;
    int64_t n = damo_array_size(a);
    for (int64_t i = 0; i < n; i++)
        damo_array_get_f64(a, i, &out[i]);
    damo_array_release(a);
    return n;
}

static void state_of(damo_shared *s, uint64_t st[2])
{
    damo_array *v = damo_shared_get_value(s);
    CHECK(damo_array_read(v, st) == DAMO_OK);
    damo_array_release(v);
}

static void set_state(damo_shared *s, uint64_t key, uint64_t ctr)
{
    uint64_t st[2] = {key, ctr};
    damo_array *v = damo_array_from_data(ctx, DAMO_UINT64, 1, (int64_t[]){2}, st);
    CHECK(damo_shared_set_value(s, v) == DAMO_OK);
    damo_array_release(v);
}

/* The reference: word pair `pair` of block ctr + i under key. */
static uint64_t ref_bits(uint64_t key, uint64_t ctr, uint64_t i, int pair)
{
    uint64_t n = ctr + i;
    uint32_t c[4] = {(uint32_t)n, (uint32_t)(n >> 32), 0, 0};
    damo_philox4x32_10(c, (uint32_t)key, (uint32_t)(key >> 32));
    return (uint64_t)c[2 * pair + 1] << 32 | c[2 * pair];
}

static double ref_uniform(uint64_t key, uint64_t ctr, uint64_t i, int pair)
{
    return (double)(ref_bits(key, ctr, i, pair) >> 11) * 0x1p-53;
}

static float ref_uniform32(uint64_t key, uint64_t ctr, uint64_t i, int pair)
{
    return (float)(ref_bits(key, ctr, i, pair) >> 40) * 0x1p-24f;
}

/* ---- the bits: device, host path, fused or not --------------------------- */

/* Float64 normal, exponential, gamma, poisson, binomial and truncated
 * normal draws: the same bits on every path. The
 * first flag set's values (fi 0) are kept in *first (taking *v). */
static void same_bits(const char *what, double **first, double **v, size_t fi, int64_t n)
{
    if (fi == 0) {
        free(*first);
        *first = *v;
        *v = NULL;
    } else if (*v && *first) {
        CHECK_MSG(!memcmp(*v, *first, (size_t)n * sizeof **v),
                  "%s: other bits than with the first flags (set %zu, n %lld)", what, fi, (long long)n);
    }
}

static void test_bits(void)
{
    static const unsigned flag_sets[] = {0, DAMO_FN_DEVICE_ONLY, DAMO_FN_NO_FUSION,
                                         DAMO_FN_NO_FUSION | DAMO_FN_DEVICE_ONLY};
    static const int64_t sizes[] = {1, 17, 4097, 100003};
    double *first_z = NULL, *first_ex = NULL, *first_ga = NULL, *first_po = NULL, *first_bi = NULL,
           *first_tn = NULL;
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        int64_t n = sizes[si];
        for (size_t fi = 0; fi < sizeof flag_sets / sizeof flag_sets[0]; fi++) {
            unsigned flags = flag_sets[fi] | DAMO_FN_NO_DEFAULT_UPDATES;
            damo_graph *g = damo_graph_new(ctx);
            damo_random_stream *s = damo_random_stream_new(ctx, 99);
            damo_var *size = damo_size(g, 1, &n);
            damo_var *u = damo_random_uniform(s, damo_float(g, -1), damo_float(g, 3), size, DAMO_FLOAT64);
            damo_var *u32 = damo_random_uniform(s, damo_float(g, 0), damo_float(g, 1), size, DAMO_FLOAT32);
            damo_var *z = damo_random_normal(s, damo_float(g, 0), damo_float(g, 1), size, DAMO_FLOAT64);
            damo_var *k = damo_random_integers(s, damo_int(g, -5), damo_int(g, 1000), size);
            damo_var *ex = damo_random_exponential(s, damo_float(g, 2), size, DAMO_FLOAT64);
            damo_var *be = damo_random_bernoulli(s, damo_float(g, 0.25), size);
            damo_var *ga = damo_random_gamma(s, damo_float(g, 0.7), damo_float(g, 1), size, DAMO_FLOAT64);
            damo_var *po = damo_random_poisson(s, damo_float(g, 30), size);
            damo_var *bi = damo_random_binomial(s, damo_int(g, 100), damo_float(g, 0.3), size);
            damo_var *tn = damo_random_truncated_normal(s, damo_float(g, 0), damo_float(g, 1),
                                                        damo_float(g, 1), damo_float(g, 4), size,
                                                        DAMO_FLOAT64);
            /* a counter near 2^64 wraps */
            set_state(damo_random_state(s, 3), 0x0123456789abcdefull, (uint64_t)0 - 7);
            uint64_t st[6][2];
            for (int v = 0; v < 6; v++)
                state_of(damo_random_state(s, (size_t)v), st[v]);
            int64_t m = 0;
            double *vu = run(g, 0, NULL, u, flags, NULL, &m);
            double *vu32 = run(g, 0, NULL, u32, flags, NULL, &m);
            double *vz = run(g, 0, NULL, z, flags, NULL, &m);
            double *vk = run(g, 0, NULL, k, flags, NULL, &m);
            double *vex = run(g, 0, NULL, ex, flags, NULL, &m);
            double *vbe = run(g, 0, NULL, be, flags, NULL, &m);
            double *vga = run(g, 0, NULL, ga, flags, NULL, &m), *vpo = run(g, 0, NULL, po, flags, NULL, &m);
            same_bits("gamma", &first_ga, &vga, fi, n);
            same_bits("poisson", &first_po, &vpo, fi, n);
            double *vbi = run(g, 0, NULL, bi, flags, NULL, &m);
            same_bits("binomial", &first_bi, &vbi, fi, n);
            free(vbi);
            double *vtn = run(g, 0, NULL, tn, flags, NULL, &m);
            same_bits("truncated normal", &first_tn, &vtn, fi, n);
            free(vtn);
            free(vga);
            free(vpo);
            int bad_u = 0, bad_u32 = 0, bad_k = 0, bad_z = 0, bad_ex = 0, bad_be = 0;
            for (int64_t i = 0; vex && vbe && i < n; i++) {
                bad_ex += !check_close_(vex[i], -2 * log(1 - ref_uniform(st[4][0], st[4][1], (uint64_t)i, 0)),
                                        1e-14, 0);
                bad_be += vbe[i] != (ref_uniform(st[5][0], st[5][1], (uint64_t)i, 0) < 0.25);
            }
            CHECK_MSG(vex && !bad_ex, "exponential: %d of %lld differ (flags %u)", bad_ex, (long long)n, flags);
            CHECK_MSG(vbe && !bad_be, "bernoulli: %d of %lld differ (flags %u)", bad_be, (long long)n, flags);
            same_bits("exponential", &first_ex, &vex, fi, n);
            free(vex);
            free(vbe);
            for (int64_t i = 0; vu && vu32 && vz && vk && i < n; i++) {
                bad_u += vu[i] != -1 + 4 * ref_uniform(st[0][0], st[0][1], (uint64_t)i, 0);
                bad_u32 += vu32[i] != (double)ref_uniform32(st[1][0], st[1][1], (uint64_t)i, 0);
                bad_k += vk[i] != (double)(-5 + (int64_t)(ref_bits(st[3][0], st[3][1], (uint64_t)i, 0) % 1005));
                double a = ref_uniform(st[2][0], st[2][1], (uint64_t)i, 0);
                double b = ref_uniform(st[2][0], st[2][1], (uint64_t)i, 1);
                double want = sqrt(-2 * log(1 - a)) * cos(6.283185307179586 * b);
                /* damo's log and cos against libm's: a few ulp; near a
                 * zero of the cosine the reference itself is off by up to
                 * |r| * 2 pi * 2^-53 (the rounded argument 2 pi v), under
                 * 1e-14 for |r| < 9 */
                bad_z += !check_close_(vz[i], want, 1e-14, 1e-14);
            }
            CHECK_MSG(vu && !bad_u, "uniform float64: %d of %lld differ (flags %u)", bad_u, (long long)n, flags);
            CHECK_MSG(vu32 && !bad_u32, "uniform float32: %d of %lld differ (flags %u)", bad_u32, (long long)n, flags);
            CHECK_MSG(vk && !bad_k, "integers: %d of %lld differ (flags %u)", bad_k, (long long)n, flags);
            CHECK_MSG(vz && !bad_z, "normal: %d of %lld differ (flags %u)", bad_z, (long long)n, flags);
            same_bits("normal", &first_z, &vz, fi, n);
            free(vu);
            free(vu32);
            free(vz);
            free(vk);
            damo_random_stream_free(s);
            damo_graph_free(g);
        }
    }
    free(first_z);
    free(first_ex);
    free(first_ga);
    free(first_po);
    free(first_bi);
    free(first_tn);
}

/* Keys: variable i's key is block i of the stream keyed by the seed. */
static void test_keys(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_random_stream *s = damo_random_stream_new(ctx, 234);
    damo_var *size = damo_size(g, 1, (int64_t[]){3});
    for (int i = 0; i < 3; i++)
        CHECK(damo_random_uniform(s, damo_float(g, 0), damo_float(g, 1), size, DAMO_FLOAT64));
    CHECK_INT(damo_random_n_states(s), 3);
    CHECK(damo_random_state(s, 3) == NULL);
    for (size_t i = 0; i < 3; i++) {
        uint64_t st[2];
        state_of(damo_random_state(s, i), st);
        CHECK(st[0] == ref_bits(234, i, 0, 0));
        CHECK(st[1] == 0);
    }
    /* Random123's first vector (key 0, counter 0: words 6627e8d5 e169c58d
     * ...) through the library on the device: element 0 of a uniform */
    damo_var *u = damo_random_uniform(s, damo_float(g, 0), damo_float(g, 1), size, DAMO_FLOAT64);
    set_state(damo_random_state(s, 3), 0, 0);
    int64_t m = 0;
    double *v = run(g, 0, NULL, u, DAMO_FN_DEVICE_ONLY, NULL, &m);
    CHECK(v && v[0] == (double)(0xe169c58d6627e8d5ull >> 11) * 0x1p-53);
    free(v);
    damo_random_stream_free(s);
    damo_graph_free(g);
}

/* ---- distributions ------------------------------------------------------- */

#define NS (1 << 18)

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Kolmogorov-Smirnov statistic of v (sorted here) against cdf. */
static double ks(double *v, int64_t n, double (*cdf)(double))
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    double d = 0;
    for (int64_t i = 0; i < n; i++) {
        double c = cdf(v[i]);
        d = fmax(d, fmax(c - (double)i / (double)n, (double)(i + 1) / (double)n - c));
    }
    return d;
}

static double cdf_uniform25(double x) { return (x - 2) / 3; }
static double cdf_exponential2(double x) { return 1 - exp(-x / 2); }
static double cdf_normal(double x) { return 0.5 * erfc(-(x - 1.5) / 2 / sqrt(2)); }

/* Mean and variance within 5 standard errors of the closed forms (mu,
 * var, fourth central moment mu4): a false alarm has probability < 1e-6. */
static void check_moments(const char *what, const double *v, int64_t n, double mu, double var,
                          double mu4)
{
    double m = 0, s2 = 0;
    for (int64_t i = 0; i < n; i++)
        m += v[i];
    m /= (double)n;
    for (int64_t i = 0; i < n; i++)
        s2 += (v[i] - m) * (v[i] - m);
    s2 /= (double)n;
    CHECK_MSG(fabs(m - mu) < 5 * sqrt(var / (double)n), "%s: mean %.6g, expected %.6g", what, m, mu);
    CHECK_MSG(fabs(s2 - var) < 5 * sqrt((mu4 - var * var) / (double)n), "%s: variance %.6g, expected %.6g",
              what, s2, var);
}

/* 1.95 / sqrt(n) is the Kolmogorov distribution's 0.999 quantile. */
#define KS_LIMIT (1.95 / sqrt((double)NS))

static void test_distributions(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_random_stream *s = damo_random_stream_new(ctx, 2882);
    int64_t n = NS, m = 0;
    damo_var *size = damo_size(g, 1, &n);
    damo_var *u = damo_random_uniform(s, damo_float(g, 2), damo_float(g, 5), size, DAMO_FLOAT64);
    damo_var *u32 = damo_random_uniform(s, damo_float(g, 0), damo_float(g, 1), size, DAMO_FLOAT32);
    damo_var *z = damo_random_normal(s, damo_float(g, 1.5), damo_float(g, 2), size, DAMO_FLOAT64);
    damo_var *z32 = damo_random_normal(s, damo_float(g, 0), damo_float(g, 1), size, DAMO_FLOAT32);
    damo_var *k = damo_random_integers(s, damo_int(g, 0), damo_int(g, 10), size);
    damo_var *ex = damo_random_exponential(s, damo_float(g, 2), size, DAMO_FLOAT64);
    damo_var *be = damo_random_bernoulli(s, damo_float(g, 0.3), size);
    CHECK(damo_var_dtype(ex) == DAMO_FLOAT64 && damo_var_dtype(be) == DAMO_INT64);
    CHECK(damo_var_dtype(u) == DAMO_FLOAT64 && damo_var_dtype(u32) == DAMO_FLOAT32);
    CHECK(damo_var_dtype(z32) == DAMO_FLOAT32 && damo_var_dtype(k) == DAMO_INT64);

    double *v = run(g, 0, NULL, u, 0, NULL, &m);
    if (v) {
        /* uniform(a, b): mean (a + b) / 2, variance (b - a)^2 / 12, mu4 (b - a)^4 / 80 */
        check_moments("uniform(2, 5)", v, m, 3.5, 0.75, 81.0 / 80);
        double d = ks(v, m, cdf_uniform25);
        CHECK_MSG(d < KS_LIMIT, "uniform KS %.5f >= %.5f", d, KS_LIMIT);
        CHECK(v[0] >= 2 && v[m - 1] < 5);
    }
    free(v);
    if ((v = run(g, 0, NULL, u32, 0, NULL, &m)))
        check_moments("uniform float32", v, m, 0.5, 1.0 / 12, 1.0 / 80);
    free(v);
    if ((v = run(g, 0, NULL, z, 0, NULL, &m))) {
        /* normal: mu4 = 3 sigma^4 */
        check_moments("normal(1.5, 2)", v, m, 1.5, 4, 48);
        double d = ks(v, m, cdf_normal);
        CHECK_MSG(d < KS_LIMIT, "normal KS %.5f >= %.5f", d, KS_LIMIT);
    }
    free(v);
    if ((v = run(g, 0, NULL, z32, 0, NULL, &m)))
        check_moments("normal float32", v, m, 0, 1, 3);
    free(v);
    if ((v = run(g, 0, NULL, ex, 0, NULL, &m))) {
        /* exponential(scale 2): mean 2, variance 4, mu4 9 * 2^4 */
        check_moments("exponential(2)", v, m, 2, 4, 144);
        double d = ks(v, m, cdf_exponential2);
        CHECK_MSG(d < KS_LIMIT, "exponential KS %.5f >= %.5f", d, KS_LIMIT);
    }
    free(v);
    if ((v = run(g, 0, NULL, be, 0, NULL, &m)))
        /* bernoulli(p): mean p, variance p q, mu4 p q (1 - 3 p q) */
        check_moments("bernoulli(0.3)", v, m, 0.3, 0.21, 0.21 * (1 - 3 * 0.21));
    free(v);
    if ((v = run(g, 0, NULL, k, 0, NULL, &m))) {
        double counts[10] = {0}, mu4 = 0;
        for (int64_t i = 0; i < m; i++)
            counts[(int)v[i]]++;
        double chi2 = 0, e = (double)m / 10;
        for (int c = 0; c < 10; c++) {
            chi2 += (counts[c] - e) * (counts[c] - e) / e;
            mu4 += pow(c - 4.5, 4) / 10;
        }
        /* chi-square, 9 degrees of freedom: 27.88 is the 0.999 quantile */
        CHECK_MSG(chi2 < 27.88, "integers chi-square %.2f", chi2);
        check_moments("integers(0, 10)", v, m, 4.5, 99.0 / 12, mu4);
    }
    free(v);
    damo_random_stream_free(s);
    damo_graph_free(g);
}

/* Chi-square of counts against Poisson(lam) over the bins lo..hi, the
 * tails lumped into the end bins. */
static double chi2_poisson(const double *v, int64_t n, double lam, int lo, int hi)
{
    double counts[128] = {0}, chi2 = 0, below = 0;
    for (int64_t i = 0; i < n; i++) {
        int k = (int)v[i];
        counts[k < lo ? 0 : k > hi ? hi - lo : k - lo]++;
    }
    for (int k = 0; k < lo; k++)
        below += exp(k * log(lam) - lam - lgamma(k + 1.0));
    double total = 0;
    for (int k = lo; k <= hi; k++) {
        double p = k == lo ? below + exp(k * log(lam) - lam - lgamma(k + 1.0))
                           : exp(k * log(lam) - lam - lgamma(k + 1.0));
        if (k == hi)
            p = 1 - total;
        total += p;
        double e = p * (double)n;
        chi2 += (counts[k - lo] - e) * (counts[k - lo] - e) / e;
    }
    return chi2;
}

static void test_rejection_distributions(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_random_stream *s = damo_random_stream_new(ctx, 1234);
    int64_t n = NS, m = 0;
    damo_var *size = damo_size(g, 1, &n);
    damo_var *g1 = damo_random_gamma(s, damo_float(g, 2.5), damo_float(g, 2), size, DAMO_FLOAT64);
    damo_var *g2 = damo_random_gamma(s, damo_float(g, 0.5), damo_float(g, 1), size, DAMO_FLOAT32);
    damo_var *bt = damo_random_beta(s, damo_float(g, 2), damo_float(g, 3), size, DAMO_FLOAT64);
    damo_var *p4 = damo_random_poisson(s, damo_float(g, 4), size);
    damo_var *p50 = damo_random_poisson(s, damo_float(g, 50), size);
    damo_var *b10 = damo_random_binomial(s, damo_int(g, 10), damo_float(g, 0.3), size);
    damo_var *b1k = damo_random_binomial(s, damo_int(g, 1000), damo_float(g, 0.4), size);
    CHECK(damo_var_dtype(g2) == DAMO_FLOAT32 && damo_var_dtype(p4) == DAMO_INT64);
    double *v;
    /* central fourth moments from scipy.stats (gamma(2.5, scale=2),
     * gamma(0.5), beta(2, 3)).expect(lambda x: (x - mean)**4), scipy 1.17 */
    if ((v = run(g, 0, NULL, g1, 0, NULL, &m)))
        check_moments("gamma(2.5, 2)", v, m, 5, 10, 540);
    free(v);
    if ((v = run(g, 0, NULL, g2, 0, NULL, &m)))
        check_moments("gamma(0.5) float32", v, m, 0.5, 0.5, 3.75);
    free(v);
    if ((v = run(g, 0, NULL, bt, 0, NULL, &m))) {
        check_moments("beta(2, 3)", v, m, 0.4, 0.04, 0.0037714285714285714);
        int inside = 1;
        for (int64_t i = 0; i < m; i++)
            inside &= v[i] >= 0 && v[i] <= 1;
        CHECK(inside);
    }
    free(v);
    /* Poisson: variance lam, mu4 lam (1 + 3 lam); chi-square at the 0.999
     * quantiles of 12 and 42 degrees of freedom (scipy.stats.chi2.ppf) */
    if ((v = run(g, 0, NULL, p4, 0, NULL, &m))) {
        check_moments("poisson(4)", v, m, 4, 4, 52);
        double c = chi2_poisson(v, m, 4, 0, 12);
        CHECK_MSG(c < 32.909, "poisson(4) chi-square %.2f", c);
    }
    free(v);
    if ((v = run(g, 0, NULL, p50, 0, NULL, &m))) {
        check_moments("poisson(50)", v, m, 50, 50, 7550);
        double c = chi2_poisson(v, m, 50, 29, 71);
        CHECK_MSG(c < 76.084, "poisson(50) chi-square %.2f", c);
    }
    free(v);
    /* binomial: mean n p, variance n p q, mu4 n p q (1 + 3 (n - 2) p q);
     * chi-square over k = 0..10 at the 0.999 quantile of 10 degrees of
     * freedom, 29.588 (scipy.stats.chi2.ppf) */
    if ((v = run(g, 0, NULL, b10, 0, NULL, &m))) {
        check_moments("binomial(10, 0.3)", v, m, 3, 2.1, 2.1 * (1 + 3 * 8 * 0.21));
        double counts[11] = {0}, chi2 = 0;
        for (int64_t i = 0; i < m; i++)
            counts[(int)v[i]]++;
        for (int k = 0; k <= 10; k++) {
            double e = (double)m * exp(lgamma(11.0) - lgamma(k + 1.0) - lgamma(11.0 - k) +
                                       k * log(0.3) + (10 - k) * log(0.7));
            chi2 += (counts[k] - e) * (counts[k] - e) / e;
        }
        CHECK_MSG(chi2 < 29.588, "binomial(10, 0.3) chi-square %.2f", chi2);
    }
    free(v);
    if ((v = run(g, 0, NULL, b1k, 0, NULL, &m)))
        check_moments("binomial(1000, 0.4)", v, m, 400, 240, 240 * (1 + 3 * 998 * 0.24));
    free(v);
    damo_random_stream_free(s);
    damo_graph_free(g);
}

/* Two variables of one stream: no 53-bit value of one appears in the
 * other (2^17 each: a chance collision has probability ~2^-19). */
static void test_no_overlap(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_random_stream *s = damo_random_stream_new(ctx, 1);
    int64_t n = 1 << 17, m1 = 0, m2 = 0;
    damo_var *size = damo_size(g, 1, &n);
    damo_var *a = damo_random_uniform(s, damo_float(g, 0), damo_float(g, 1), size, DAMO_FLOAT64);
    damo_var *b = damo_random_uniform(s, damo_float(g, 0), damo_float(g, 1), size, DAMO_FLOAT64);
    double *va = run(g, 0, NULL, a, 0, NULL, &m1), *vb = run(g, 0, NULL, b, 0, NULL, &m2);
    if (va && vb) {
        qsort(va, (size_t)m1, sizeof *va, cmp_double);
        qsort(vb, (size_t)m2, sizeof *vb, cmp_double);
        int64_t common = 0;
        for (int64_t i = 0, j = 0; i < m1 && j < m2;) {
            if (va[i] == vb[j])
                common++, i++, j++;
            else if (va[i] < vb[j])
                i++;
            else
                j++;
        }
        CHECK_INT(common, 0);
    }
    free(va);
    free(vb);
    damo_random_stream_free(s);
    damo_graph_free(g);
}

/* ---- the tutorial's semantics -------------------------------------------- */

static int same(const double *a, const double *b, int64_t n)
{
    return !memcmp(a, b, (size_t)n * sizeof *a);
}

static void test_semantics(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_random_stream *srng = damo_random_stream_new(ctx, 234);
    damo_var *size = damo_size(g, 2, (int64_t[]){2, 2});
    damo_var *rv_u = damo_random_uniform(srng, damo_float(g, 0), damo_float(g, 1), size, DAMO_FLOAT64);
    damo_var *rv_n = damo_random_normal(srng, damo_float(g, 0), damo_float(g, 1), size, DAMO_FLOAT64);
    damo_var *nz = damo_sub(damo_add(rv_u, rv_u), damo_mul(damo_float(g, 2), rv_u));
    damo_function *f = damo_function_simple(g, 0, NULL, 1, &rv_u, 0);
    damo_function *gf = damo_function_simple(g, 0, NULL, 1, &rv_n, DAMO_FN_NO_DEFAULT_UPDATES);
    damo_function *nearly_zeros = damo_function_simple(g, 0, NULL, 1, &nz, 0);
    if (!checked(!!(f && gf && nearly_zeros), damo_graph_errmsg(g)))
        return;
    damo_shared *su = damo_random_state(srng, 0), *sn = damo_random_state(srng, 1);
    uint64_t st[2], st0[2];
    double a[4], b[4], c[4], d[4];

    /* new numbers each call; the counter moves by the 4 elements drawn */
    call_read(f, a);
    state_of(su, st);
    CHECK(st[1] == 4);
    call_read(f, b);
    state_of(su, st);
    CHECK(st[1] == 8);
    CHECK(!same(a, b, 4));
    /* no default updates: the same numbers, the state untouched */
    state_of(sn, st0);
    call_read(gf, c);
    call_read(gf, d);
    CHECK(same(c, d, 4));
    state_of(sn, st);
    CHECK(st[0] == st0[0] && st[1] == 0);
    /* drawn once per call: exactly zero, and f's generator advances */
    CHECK_INT(call_read(nearly_zeros, c), 4);
    for (int i = 0; i < 4; i++)
        CHECK(c[i] == 0);
    state_of(su, st);
    CHECK(st[1] == 12);

    /* seeding reproduces, and gives each variable its own key */
    CHECK(damo_random_seed(srng, 902340) == DAMO_OK);
    call_read(f, a);
    call_read(nearly_zeros, c);
    call_read(f, b);
    CHECK(damo_random_seed(srng, 902340) == DAMO_OK);
    call_read(f, c);
    CHECK(same(a, c, 4));
    call_read(nearly_zeros, c);
    call_read(f, d);
    CHECK(same(b, d, 4));
    state_of(su, st);
    state_of(sn, st0);
    CHECK(st[0] == ref_bits(902340, 0, 0, 0) && st0[0] == ref_bits(902340, 1, 0, 0));
    CHECK(st[0] != st0[0]);
    CHECK(damo_random_seed(NULL, 1) == DAMO_ERR_INVALID);

    /* the function outlives the stream and the graph */
    damo_random_stream_free(srng);
    damo_graph_free(g);
    CHECK_INT(call_read(f, a), 4);
    damo_function_free(f);
    damo_function_free(gf);
    damo_function_free(nearly_zeros);
}

/* A graph's generators copied into another graph's: the same numbers. */
static void test_copy_state(void)
{
    damo_graph *g1 = damo_graph_new(ctx), *g2 = damo_graph_new(ctx);
    damo_random_stream *s1 = damo_random_stream_new(ctx, 3), *s2 = damo_random_stream_new(ctx, 5);
    damo_var *o1[2], *o2[2];
    damo_graph *gs[2] = {g1, g2};
    damo_random_stream *ss[2] = {s1, s2};
    damo_var **os[2] = {o1, o2};
    for (int k = 0; k < 2; k++) {
        damo_var *size = damo_size(gs[k], 1, (int64_t[]){5});
        os[k][0] = damo_random_normal(ss[k], damo_float(gs[k], 0), damo_float(gs[k], 1), size, DAMO_FLOAT64);
        os[k][1] = damo_random_integers(ss[k], damo_int(gs[k], 0), damo_int(gs[k], 1000000), size);
    }
    damo_function *f1 = damo_function_simple(g1, 0, NULL, 1, &o1[0], 0);
    damo_function *f2 = damo_function_simple(g2, 0, NULL, 1, &o2[0], 0);
    damo_function *h1 = damo_function_simple(g1, 0, NULL, 1, &o1[1], 0);
    damo_function *h2 = damo_function_simple(g2, 0, NULL, 1, &o2[1], 0);
    double a[5], b[5];
    call_read(f1, a);
    call_read(f2, b);
    CHECK(!same(a, b, 5));
    for (size_t i = 0; i < damo_random_n_states(s1); i++) {
        damo_array *v = damo_shared_get_value(damo_random_state(s1, i));
        CHECK(damo_shared_set_value(damo_random_state(s2, i), v) == DAMO_OK);
        damo_array_release(v);
    }
    call_read(f1, a);
    call_read(f2, b);
    CHECK(same(a, b, 5));
    call_read(h1, a);
    call_read(h2, b);
    CHECK(same(a, b, 5));
    damo_function_free(f1);
    damo_function_free(f2);
    damo_function_free(h1);
    damo_function_free(h2);
    damo_random_stream_free(s1);
    damo_random_stream_free(s2);
    damo_graph_free(g1);
    damo_graph_free(g2);
}

/* A symbolic size; a call that fails advances nothing. */
static void test_symbolic_and_failure(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_random_stream *s = damo_random_stream_new(ctx, 11);
    damo_var *x = damo_dvector(g, "x");
    damo_var *y = damo_add(x, damo_random_uniform(s, damo_float(g, 0), damo_float(g, 1), damo_shape(x),
                                                  DAMO_FLOAT64));
    /* the reshape fails at run time unless x has 3 elements */
    damo_var *outs[2] = {y, damo_reshape(x, 1, (int64_t[]){3})};
    damo_function *f = damo_function_simple(g, 1, &x, 2, outs, 0);
    if (!checked(!!(f), damo_graph_errmsg(g)))
        return;
    damo_shared *st = damo_random_state(s, 0);
    uint64_t v[2];
    double data[4] = {10, 20, 30, 40};
    damo_array *x4 = damo_array_from_data(ctx, DAMO_FLOAT64, 1, (int64_t[]){4}, data);
    damo_array *x3 = damo_array_from_data(ctx, DAMO_FLOAT64, 1, (int64_t[]){3}, data);
    damo_array *out[2];
    CHECK(damo_call(f, (damo_arg[]){DAMO_ARG(x4)}, 1, out, 2) == DAMO_ERR_SHAPE);
    state_of(st, v);
    CHECK(v[1] == 0);
    CHECK(damo_call(f, (damo_arg[]){DAMO_ARG(x3)}, 1, out, 2) == DAMO_OK);
    state_of(st, v);
    CHECK(v[1] == 3);
    double got[3];
    CHECK(damo_array_read(out[0], got) == DAMO_OK);
    for (int i = 0; i < 3; i++)
        CHECK(got[i] == data[i] + ref_uniform(v[0], 0, (uint64_t)i, 0));
    damo_array_release(out[0]);
    damo_array_release(out[1]);
    damo_array_release(x4);
    damo_array_release(x3);
    damo_function_free(f);
    damo_random_stream_free(s);
    damo_graph_free(g);
}

/* A draw whose size is 1 at run time broadcasts in the kernel that reads
 * it (every element the draw's one number), and consumes one block. */
static void test_runtime_broadcast(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_random_stream *s = damo_random_stream_new(ctx, 12);
    damo_var *x = damo_dvector(g, "x"), *y = damo_dvector(g, "y");
    damo_var *u = damo_random_uniform(s, damo_float(g, 0), damo_float(g, 1), damo_shape(y), DAMO_FLOAT64);
    damo_var *ins[2] = {x, y}, *z = damo_add(x, u);
    damo_function *f = damo_function_simple(g, 2, ins, 1, &z, DAMO_FN_DEVICE_ONLY);
    if (!checked(!!f, damo_graph_errmsg(g)))
        return;
    double xv[5] = {1, 2, 3, 4, 5}, yv[1] = {0}, out[5];
    damo_array *xa = damo_array_from_data(ctx, DAMO_FLOAT64, 1, (int64_t[]){5}, xv);
    damo_array *ya = damo_array_from_data(ctx, DAMO_FLOAT64, 1, (int64_t[]){1}, yv);
    uint64_t st[2], after[2];
    state_of(damo_random_state(s, 0), st);
    damo_array *o = NULL;
    CHECK(damo_call(f, (damo_arg[]){DAMO_ARG(xa), DAMO_ARG(ya)}, 2, &o, 1) == DAMO_OK);
    CHECK(damo_array_read(o, out) == DAMO_OK);
    for (int i = 0; i < 5; i++)
        CHECK(out[i] == xv[i] + ref_uniform(st[0], st[1], 0, 0));
    state_of(damo_random_state(s, 0), after);
    CHECK(after[1] == st[1] + 1);
    damo_array_release(o);
    damo_array_release(xa);
    damo_array_release(ya);
    damo_function_free(f);
    damo_random_stream_free(s);
    damo_graph_free(g);
}

/* x + normal(...): one kernel computes the draw and the sum, and no
 * buffer holds the draw; the state's update is the only other step
 * with work. */
static void test_fusion(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_random_stream *s = damo_random_stream_new(ctx, 5);
    int64_t n = 1000;
    damo_var *x = damo_tensor(g, DAMO_FLOAT64, 1, &n, "x");
    damo_var *y = damo_add(x, damo_random_normal(s, damo_float(g, 0), damo_float(g, 1),
                                                 damo_size(g, 1, &n), DAMO_FLOAT64));
    damo_function *f = damo_function_simple(g, 1, &x, 1, &y, 0);
    if (!checked(!!(f), damo_graph_errmsg(g)))
        return;
    CHECK_INT(damo_function_n_kernels(f), 2);
    CHECK_INT(damo_function_n_temp_buffers(f), 0);
    int draws = 0;
    for (size_t i = 0; i < damo_function_n_steps(f); i++) {
        const char *t = damo_function_step_text(f, i);
        if (strstr(t, "rand_u53")) {
            draws++;
            CHECK_STR_HAS(t, "rand_normal, add, add), 1 output");
        }
    }
    CHECK_INT(draws, 1);
    damo_function_free(f);
    damo_random_stream_free(s);
    damo_graph_free(g);
}

/* Draws next to reductions: a reduction of a draw and a draw added to a
 * reduction's result (reduction kernels never compute a draw). */
static void test_reductions(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_random_stream *s = damo_random_stream_new(ctx, 8);
    damo_var *size = damo_size(g, 2, (int64_t[]){300, 7});
    damo_var *u = damo_random_uniform(s, damo_float(g, 0), damo_float(g, 1), size, DAMO_FLOAT64);
    damo_var *total = damo_sum(damo_mul(u, damo_float(g, 2)), NULL, 0, 0);
    damo_var *x = damo_dmatrix(g, "x");
    damo_var *v = damo_random_uniform(s, damo_float(g, 0), damo_float(g, 1),
                                      damo_size(g, 1, (int64_t[]){7}), DAMO_FLOAT64);
    damo_var *cols = damo_add(damo_sum(x, (int[]){0}, 1, 0), v);
    uint64_t su[2], sv[2];
    state_of(damo_random_state(s, 0), su);
    state_of(damo_random_state(s, 1), sv);
    int64_t m = 0;
    double want = 0;
    for (uint64_t i = 0; i < 2100; i++)
        want += 2 * ref_uniform(su[0], su[1], i, 0);
    double *got = run(g, 0, NULL, total, 0, NULL, &m);
    CHECK(got && m == 1 && check_close_(got[0], want, 1e-12, 0));
    free(got);
    double ones[2 * 7];
    for (int i = 0; i < 14; i++)
        ones[i] = 1;
    damo_array *xa = damo_array_from_data(ctx, DAMO_FLOAT64, 2, (int64_t[]){2, 7}, ones);
    got = run(g, 1, &x, cols, 0, (damo_arg[]){DAMO_ARG(xa)}, &m);
    for (int64_t j = 0; got && j < 7; j++)
        CHECK(got[j] == 2 + ref_uniform(sv[0], sv[1], (uint64_t)j, 0));
    free(got);
    damo_array_release(xa);
    damo_random_stream_free(s);
    damo_graph_free(g);
}

/* Gradients flow through a draw's parameters (reparametrization), not
 * into its random bits: d sum(mean + std * z) / d mean = n, / d std =
 * sum(z); d sum(scale * e) / d scale = sum(e). */
static void test_gradients(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_random_stream *s = damo_random_stream_new(ctx, 77);
    damo_var *mean = damo_dscalar(g, "mean"), *std = damo_dscalar(g, "std"), *size = damo_size(g, 1, (int64_t[]){1000});
    damo_var *z = damo_random_normal(s, mean, std, size, DAMO_FLOAT64);
    damo_var *e = damo_random_exponential(s, std, size, DAMO_FLOAT64);
    damo_var *wrt[2] = {mean, std}, *gz[2] = {NULL, NULL}, *ge = NULL;
    CHECK(damo_grad(damo_sum(z, NULL, 0, 0), 2, wrt, gz) == DAMO_OK);
    CHECK(damo_grad(damo_sum(e, NULL, 0, 0), 1, &std, &ge) == DAMO_OK);
    damo_var *outs[5] = {z, e, gz[0], gz[1], ge};
    damo_function *f = damo_function_simple(g, 2, wrt, 5, outs, 0);
    damo_array *o[5] = {NULL};
    if (checked(!!f, damo_graph_errmsg(g)) &&
        checked(damo_call(f, (damo_arg[]){DAMO_FLOAT(0.5), DAMO_FLOAT(2)}, 2, o, 5) == DAMO_OK,
                damo_function_errmsg(f))) {
        double zs[1000], es[1000], gm, gs, gse, sum_z = 0, sum_e = 0;
        damo_array_read(o[0], zs);
        damo_array_read(o[1], es);
        damo_array_get_f64(o[2], 0, &gm);
        damo_array_get_f64(o[3], 0, &gs);
        damo_array_get_f64(o[4], 0, &gse);
        for (int i = 0; i < 1000; i++) {
            sum_z += (zs[i] - 0.5) / 2;
            sum_e += es[i] / 2;
        }
        CHECK_CLOSE(gm, 1000, 0, 0);
        CHECK_CLOSE(gs, sum_z, 1e-9, 1e-9);
        CHECK_CLOSE(gse, sum_e, 1e-9, 0);
    }
    for (int i = 0; i < 5; i++)
        damo_array_release(o[i]);
    damo_function_free(f);
    damo_random_stream_free(s);
    damo_graph_free(g);
}

static double tn_a, tn_b, tn_mean, tn_std;
static double phi(double x) { return 0.5 * erfc(-x / sqrt(2)); }
static double cdf_truncnorm(double x)
{
    double z = (x - tn_mean) / tn_std;
    return (phi(z) - phi(tn_a)) / (phi(tn_b) - phi(tn_a));
}

/* Truncated normals: every proposal of Robert's algorithm (narrow around
 * 0, upper tail, narrow off 0, mirrored lower tail, wide) against
 * scipy.stats.truncnorm(a, b, loc, scale)'s mean, variance and
 * expect((x - mean)**4) (scipy 1.17), within [low, high], and KS. */
static void test_truncated_normal(void)
{
    static const struct {
        double mean, std, low, high, mu, var, mu4;
    } cases[] = {
        {1, 2, 0, 4, 1.7125457683541194, 1.1209926006049002, 2.5865506056864915},
        {1, 2, 5, INFINITY, 5.74643106564568, 0.45711640165633316, 1.2576181158448316},
        {0, 1, 0.5, 0.75, 0.6217528842191813, 0.005191176744350212, 4.867322882181211e-05},
        {0, 1, -INFINITY, -1.5, -1.9386771666225433, 0.1495465935502024, 0.1237757828959838},
        {0, 1, -3, 3, 0.0, 0.9733369246625415, 2.6800430959504986},
    };
    damo_graph *g = damo_graph_new(ctx);
    damo_random_stream *s = damo_random_stream_new(ctx, 404);
    int64_t n = NS, m = 0;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        damo_var *x = damo_random_truncated_normal(
            s, damo_float(g, cases[c].mean), damo_float(g, cases[c].std), damo_float(g, cases[c].low),
            damo_float(g, cases[c].high), damo_size(g, 1, &n), DAMO_FLOAT64);
        double *v = run(g, 0, NULL, x, 0, NULL, &m);
        if (!v)
            continue;
        char what[64];
        snprintf(what, sizeof what, "truncated normal %zu", c);
        check_moments(what, v, m, cases[c].mu, cases[c].var, cases[c].mu4);
        int inside = 1;
        for (int64_t i = 0; i < m; i++)
            inside &= v[i] >= cases[c].low && v[i] <= cases[c].high;
        CHECK_MSG(inside, "%s leaves [low, high]", what);
        tn_mean = cases[c].mean;
        tn_std = cases[c].std;
        tn_a = (cases[c].low - tn_mean) / tn_std;
        tn_b = (cases[c].high - tn_mean) / tn_std;
        double d = ks(v, m, cdf_truncnorm);
        CHECK_MSG(d < KS_LIMIT, "%s: KS %.5f >= %.5f", what, d, KS_LIMIT);
        free(v);
    }
    CHECK(!damo_random_truncated_normal(s, damo_float(g, 0), damo_float(g, 1), damo_float(g, 2),
                                        damo_float(g, 2), NULL, DAMO_FLOAT64));
    CHECK_STR_HAS(damo_graph_errmsg(g), "low >= high");
    damo_random_stream_free(s);
    damo_graph_free(g);
}

/* Permutations against a Fisher-Yates shuffle over the reference bits;
 * the first element uniform over many calls (chi-square, 9 degrees of
 * freedom, 0.999 quantile 27.88); choice without replacement. */
static void test_permutation(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_random_stream *s = damo_random_stream_new(ctx, 31);
    damo_var *n = damo_lscalar(g, "n");
    damo_var *perm = damo_random_permutation(s, n);
    damo_var *a = damo_dvector(g, "a");
    damo_var *ch = damo_random_choice(s, a, 3);
    damo_function *f = damo_function_simple(g, 1, &n, 1, &perm, 0);
    damo_function *fc = damo_function_simple(g, 1, &a, 1, &ch, 0);
    if (!checked(f && fc, damo_graph_errmsg(g)))
        return;
    uint64_t st[2];
    state_of(damo_random_state(s, 0), st);
    damo_array *out = NULL;
    int64_t got[1000], want[1000];
    CHECK(damo_call(f, (damo_arg[]){DAMO_INT(1000)}, 1, &out, 1) == DAMO_OK);
    CHECK(damo_array_read(out, got) == DAMO_OK);
    damo_array_release(out);
    for (int64_t i = 0; i < 1000; i++)
        want[i] = i;
    for (int64_t i = 999; i > 0; i--) {
        int64_t j = (int64_t)(ref_bits(st[0], st[1], (uint64_t)i, 0) % (uint64_t)(i + 1)), t = want[i];
        want[i] = want[j];
        want[j] = t;
    }
    CHECK(!memcmp(got, want, sizeof got));
    uint64_t after[2];
    state_of(damo_random_state(s, 0), after);
    CHECK(after[1] == st[1] + 1000);
    double counts[10] = {0}, chi2 = 0;
    for (int c = 0; c < 5000; c++) {
        int64_t p10[10];
        if (damo_call(f, (damo_arg[]){DAMO_INT(10)}, 1, &out, 1) == DAMO_OK &&
            damo_array_read(out, p10) == DAMO_OK)
            counts[p10[0]]++;
        damo_array_release(out);
    }
    for (int k = 0; k < 10; k++)
        chi2 += (counts[k] - 500) * (counts[k] - 500) / 500;
    CHECK_MSG(chi2 < 27.88, "permutation: first element chi-square %.2f", chi2);
    CHECK(damo_call(f, (damo_arg[]){DAMO_INT(-1)}, 1, &out, 1) == DAMO_ERR_INVALID);
    double av[6] = {10, 11, 12, 13, 14, 15}, cv[3] = {0};
    damo_array *aa = damo_array_from_data(ctx, DAMO_FLOAT64, 1, (int64_t[]){6}, av);
    CHECK(damo_call(fc, (damo_arg[]){DAMO_ARG(aa)}, 1, &out, 1) == DAMO_OK);
    CHECK(damo_array_size(out) == 3 && damo_array_read(out, cv) == DAMO_OK);
    CHECK(cv[0] != cv[1] && cv[1] != cv[2] && cv[0] != cv[2]);
    for (int i = 0; i < 3; i++)
        CHECK(cv[i] >= 10 && cv[i] <= 15 && cv[i] == floor(cv[i]));
    damo_array_release(out);
    /* k beyond a's length at run time: a's length */
    damo_array *a2 = damo_array_from_data(ctx, DAMO_FLOAT64, 1, (int64_t[]){2}, av);
    CHECK(damo_call(fc, (damo_arg[]){DAMO_ARG(a2)}, 1, &out, 1) == DAMO_OK);
    CHECK_INT(damo_array_size(out), 2);
    damo_array_release(out);
    damo_array_release(a2);
    damo_array_release(aa);
    CHECK(!damo_random_choice(s, damo_tensor(g, DAMO_FLOAT64, 1, (int64_t[]){2}, "b"), 3));
    CHECK_INT(damo_graph_errcode(g), DAMO_ERR_INVALID);
    CHECK(!damo_random_permutation(s, damo_int(g, -2)));
    damo_function_free(f);
    damo_function_free(fc);
    damo_random_stream_free(s);
    damo_graph_free(g);
}

/* ---- bad parameters ------------------------------------------------------ */

static void test_errors(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_random_stream *s = damo_random_stream_new(ctx, 1);
    damo_var *two = damo_size(g, 1, (int64_t[]){2});
    /* constants NumPy refuses */
    CHECK(!damo_random_normal(s, damo_float(g, 0), damo_float(g, -1), two, DAMO_FLOAT64));
    CHECK_INT(damo_graph_errcode(g), DAMO_ERR_INVALID);
    CHECK_STR_HAS(damo_graph_errmsg(g), "std < 0 (NumPy's ValueError)");
    CHECK(!damo_random_integers(s, damo_int(g, 5), damo_int(g, 5), two));
    CHECK_INT(damo_graph_errcode(g), DAMO_ERR_INVALID);
    CHECK_STR_HAS(damo_graph_errmsg(g), "low >= high");
    CHECK(!damo_random_truncated_normal(s, damo_float(g, 0), damo_float(g, -1), damo_float(g, 0),
                                        damo_float(g, 1), two, DAMO_FLOAT64));
    CHECK_STR_HAS(damo_graph_errmsg(g), "truncated_normal: std < 0");
    CHECK(!damo_random_exponential(s, damo_float(g, -1), two, DAMO_FLOAT64));
    CHECK_STR_HAS(damo_graph_errmsg(g), "scale < 0");
    CHECK(!damo_random_gamma(s, damo_float(g, -1), damo_float(g, 1), two, DAMO_FLOAT64));
    CHECK_STR_HAS(damo_graph_errmsg(g), "shape or scale < 0");
    CHECK(!damo_random_beta(s, damo_float(g, 0), damo_float(g, 1), two, DAMO_FLOAT64));
    CHECK_STR_HAS(damo_graph_errmsg(g), "a or b <= 0");
    CHECK(!damo_random_poisson(s, damo_float(g, -3), two));
    CHECK_STR_HAS(damo_graph_errmsg(g), "lam < 0");
    CHECK(!damo_random_binomial(s, damo_int(g, 5), damo_float(g, 1.5), two));
    CHECK_STR_HAS(damo_graph_errmsg(g), "n < 0 or p outside [0, 1]");
    CHECK(!damo_random_binomial(s, damo_float(g, 5), damo_float(g, 0.5), two));
    CHECK_INT(damo_graph_errcode(g), DAMO_ERR_TYPE);
    CHECK(!damo_random_bernoulli(s, damo_float(g, 1.5), two));
    CHECK_STR_HAS(damo_graph_errmsg(g), "p outside [0, 1]");
    CHECK(!damo_random_uniform(s, damo_float(g, 0), damo_float(g, 1), two, DAMO_INT32));
    CHECK_INT(damo_graph_errcode(g), DAMO_ERR_TYPE);
    CHECK(!damo_random_integers(s, damo_float(g, 0), damo_int(g, 1), two));
    CHECK_INT(damo_graph_errcode(g), DAMO_ERR_TYPE);
    /* parameters that do not broadcast to the size */
    int64_t three = 3;
    damo_var *m3 = damo_tensor(g, DAMO_FLOAT64, 1, &three, "m3");
    CHECK(!damo_random_normal(s, m3, damo_float(g, 1), two, DAMO_FLOAT64));
    CHECK_INT(damo_graph_errcode(g), DAMO_ERR_SHAPE);
    CHECK(!damo_random_normal(s, damo_dvector(g, "m"), damo_float(g, 1), NULL, DAMO_FLOAT64));
    CHECK_INT(damo_graph_errcode(g), DAMO_ERR_SHAPE);
    CHECK(!damo_random_normal(s, damo_float(g, 0), damo_float(g, 1), damo_fvector(g, "v"), DAMO_FLOAT64));
    CHECK_INT(damo_graph_errcode(g), DAMO_ERR_TYPE);
    CHECK(!damo_random_uniform(NULL, damo_float(g, 0), damo_float(g, 1), two, DAMO_FLOAT64));
    CHECK(!damo_random_uniform(s, NULL, damo_float(g, 1), two, DAMO_FLOAT64));
    CHECK(!damo_size(g, -1, NULL));
    /* a refused draw takes no state */
    CHECK_INT(damo_random_n_states(s), 0);

    /* without a size: the parameters' static shape (m3's) */
    damo_var *zm = damo_random_normal(s, m3, damo_float(g, 1), NULL, DAMO_FLOAT64);
    CHECK(zm && damo_var_ndim(zm) == 1 && damo_var_dim(zm, 0) == 3);

    /* at run time: NaN where std < 0, low where low >= high */
    damo_var *sd = damo_dvector(g, "sd");
    damo_var *z = damo_random_normal(s, damo_float(g, 0), sd, two, DAMO_FLOAT64);
    double sdv[2] = {1, -1};
    damo_array *sda = damo_array_from_data(ctx, DAMO_FLOAT64, 1, (int64_t[]){2}, sdv);
    int64_t m = 0;
    double *v = run(g, 1, &sd, z, 0, (damo_arg[]){DAMO_ARG(sda)}, &m);
    CHECK(v && isfinite(v[0]) && isnan(v[1]));
    free(v);
    damo_var *ez = damo_random_exponential(s, sd, two, DAMO_FLOAT64);
    v = run(g, 1, &sd, ez, 0, (damo_arg[]){DAMO_ARG(sda)}, &m);
    CHECK(v && v[0] >= 0 && isnan(v[1]));
    free(v);
    /* gamma: NaN for shape < 0, 0 for shape 0; poisson: -1 for lam < 0 */
    double shv[2] = {0, -1};
    damo_array *sha = damo_array_from_data(ctx, DAMO_FLOAT64, 1, (int64_t[]){2}, shv);
    v = run(g, 1, &sd, damo_random_gamma(s, sd, damo_float(g, 1), two, DAMO_FLOAT64), 0,
            (damo_arg[]){DAMO_ARG(sha)}, &m);
    CHECK(v && v[0] == 0 && isnan(v[1]));
    free(v);
    v = run(g, 1, &sd, damo_random_beta(s, sd, damo_float(g, 2), two, DAMO_FLOAT64), 0,
            (damo_arg[]){DAMO_ARG(sha)}, &m);
    CHECK(v && v[0] == 0 && isnan(v[1]));
    free(v);
    v = run(g, 1, &sd, damo_random_beta(s, damo_float(g, 2), sd, two, DAMO_FLOAT64), 0,
            (damo_arg[]){DAMO_ARG(sha)}, &m);
    CHECK(v && v[0] == 1 && isnan(v[1]));
    free(v);
    /* truncated normal: the mean for std 0, NaN for std < 0 and for low >=
     * high */
    v = run(g, 1, &sd, damo_random_truncated_normal(s, damo_float(g, 0), sd, damo_float(g, -1),
                                                    damo_float(g, 1), two, DAMO_FLOAT64),
            0, (damo_arg[]){DAMO_ARG(sha)}, &m);
    CHECK(v && v[0] == 0 && isnan(v[1]));
    free(v);
    v = run(g, 1, &sd, damo_random_truncated_normal(s, damo_float(g, 0), damo_float(g, 1), sd,
                                                    damo_float(g, 0), two, DAMO_FLOAT64),
            0, (damo_arg[]){DAMO_ARG(sha)}, &m);
    CHECK(v && isnan(v[0]) && !isnan(v[1]) && v[1] >= -1 && v[1] <= 0);
    free(v);
    v = run(g, 1, &sd, damo_random_poisson(s, sd, two), 0, (damo_arg[]){DAMO_ARG(sha)}, &m);
    CHECK(v && v[0] == 0 && v[1] == -1);
    free(v);
    /* binomial: -1 for p outside [0, 1]; p 0 and 1 give 0 and n */
    double bpv[2] = {1, 1.5};
    damo_array *bpa = damo_array_from_data(ctx, DAMO_FLOAT64, 1, (int64_t[]){2}, bpv);
    v = run(g, 1, &sd, damo_random_binomial(s, damo_int(g, 40), sd, two), 0,
            (damo_arg[]){DAMO_ARG(bpa)}, &m);
    CHECK(v && v[0] == 40 && v[1] == -1);
    free(v);
    damo_array_release(bpa);
    damo_var *bn = damo_lscalar(g, "bn");
    v = run(g, 1, &bn, damo_random_binomial(s, bn, damo_float(g, 0.5), two), 0,
            (damo_arg[]){DAMO_INT(-1)}, &m);
    CHECK(v && v[0] == -1 && v[1] == -1);
    free(v);
    damo_array_release(sha);
    /* p = -1 and 2: never and always */
    double pv[2] = {-1, 2};
    damo_array *pa = damo_array_from_data(ctx, DAMO_FLOAT64, 1, (int64_t[]){2}, pv);
    damo_var *pvar = damo_dvector(g, "p");
    v = run(g, 1, &pvar, damo_random_bernoulli(s, pvar, two), 0, (damo_arg[]){DAMO_ARG(pa)}, &m);
    CHECK(v && v[0] == 0 && v[1] == 1);
    free(v);
    damo_array_release(pa);
    damo_array_release(sda);
    damo_var *lo = damo_lscalar(g, "lo"), *hi = damo_lscalar(g, "hi");
    damo_var *k = damo_random_integers(s, lo, hi, two);
    damo_var *ins[2] = {lo, hi};
    damo_function *f = damo_function_simple(g, 2, ins, 1, &k, 0);
    damo_array *out = NULL;
    int64_t kv[2] = {0, 0};
    CHECK(f && damo_call(f, (damo_arg[]){DAMO_INT(7), DAMO_INT(3)}, 2, &out, 1) == DAMO_OK);
    CHECK(damo_array_read(out, kv) == DAMO_OK && kv[0] == 7 && kv[1] == 7);
    damo_array_release(out);
    damo_function_free(f);
    /* uniform with low > high: values in (high, low], as NumPy */
    damo_var *ur = damo_random_uniform(s, damo_float(g, 5), damo_float(g, 2),
                                       damo_size(g, 1, (int64_t[]){1000}), DAMO_FLOAT64);
    if ((v = run(g, 0, NULL, ur, 0, NULL, &m))) {
        int inside = 1;
        for (int64_t i = 0; i < m; i++)
            inside &= v[i] > 2 && v[i] <= 5;
        CHECK(inside);
    }
    free(v);
    damo_random_stream_free(s);
    damo_graph_free(g);
}

int main(void)
{
    char err[512];
    if (damo_ctx_new(&ctx, err, sizeof err) != DAMO_OK) {
        fprintf(stderr, "no device: %s\n", err);
        return 77;
    }
    test_bits();
    test_keys();
    test_distributions();
    test_rejection_distributions();
    test_no_overlap();
    test_semantics();
    test_copy_state();
    test_symbolic_and_failure();
    test_fusion();
    test_runtime_broadcast();
    test_reductions();
    test_gradients();
    test_permutation();
    test_truncated_normal();
    test_errors();
    damo_ctx_free(ctx);
    return check_done();
}
