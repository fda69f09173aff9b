/*
 * kernels/fmath.h's float64 log, log1p and exp on the host (the same text
 * is embedded into scalar kernels; test_numpy's items 10 and 11 check them
 * there): special values against C99's definitions, and accuracy against
 * the C library's long double logl, log1pl and expl (x87's 64-bit
 * significand, so the reference carries 11 bits more than the result)
 * over 4 x 10^6 arguments each: for the logs positive doubles of every
 * exponent, near 1, near 0 (both signs, subnormals included) and just
 * above -1; for exp the whole finite range, near 0, and the range of
 * subnormal results. Bounds: log and exp 1 ulp (fdlibm states under 1),
 * log1p 2 ulp (OpenCL 1.2's bound for log1p); the largest errors seen are
 * printed. The values of the specials other than 0, 1, inf and NaN are
 * NumPy 2.4.6's (np.log(5e-324), np.log(np.finfo(float).max),
 * np.exp(1.0), np.exp(-745.1332191019411), np.exp(709.782712893384)).
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "check.h"

#define DAMO_FN static inline
#define DAMO_F64 double
#define DAMO_I64 int64_t
#define DAMO_U64 uint64_t
#define DAMO_U32 uint32_t
#include "fmath.h"

/* |got - ref| in units of the spacing of doubles at ref (ref finite). */
static double ulp_error(double got, long double ref)
{
    double r = (double)ref;
    double spacing = r == 0 ? 0x1p-1074 : nextafter(fabs(r), INFINITY) - fabs(r);
    return (double)(fabsl((long double)got - ref) / (long double)spacing);
}

static uint64_t rng = 88172645463325252u;
static uint64_t next_u64(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}
static double unit(void) { return (double)(next_u64() >> 11) * 0x1p-53; }

static int same(double a, double b)
{
    return (isnan(a) && isnan(b)) || (a == b && signbit(a) == signbit(b));
}

static void specials(void)
{
    static const struct { double x, log, log1p; } cases[] = {
        {0.0, -INFINITY, 0.0},        {-0.0, -INFINITY, -0.0},      {1.0, 0.0, 0.6931471805599453},
        {-1.0, NAN, -INFINITY},       {-2.0, NAN, NAN},             {INFINITY, INFINITY, INFINITY},
        {-INFINITY, NAN, NAN},        {NAN, NAN, NAN},              {0x1p-1074, -744.4400719213812, 0x1p-1074},
        {DBL_MAX, 709.782712893384, 709.782712893384},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double x = cases[i].x, l = damo_log64(x), l1 = damo_log1p64(x);
        CHECK_MSG(same(l, cases[i].log) || (isfinite(l) && ulp_error(l, cases[i].log) <= 1),
                  "log(%a) = %a, expected %a", x, l, cases[i].log);
        CHECK_MSG(same(l1, cases[i].log1p) || (isfinite(l1) && ulp_error(l1, cases[i].log1p) <= 1),
                  "log1p(%a) = %a, expected %a", x, l1, cases[i].log1p);
    }
}

static void exp_specials(void)
{
    static const struct { double x, exp; } cases[] = {
        {0.0, 1.0},
        {-0.0, 1.0},
        {1.0, 2.718281828459045},
        {0x1p-40, 1.0000000000009095},
        {INFINITY, INFINITY},
        {-INFINITY, 0.0},
        {NAN, NAN},
        {709.782712893384, 1.7976931348622732e+308},
        {709.79, INFINITY},
        {-745.1332191019411, 5e-324},
        {-745.2, 0.0},
        {-800.0, 0.0},
        {1000.0, INFINITY},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double x = cases[i].x, e = damo_exp64(x);
        CHECK_MSG(same(e, cases[i].exp) || (isfinite(e) && ulp_error(e, cases[i].exp) <= 1),
                  "exp(%a) = %a, expected %a", x, e, cases[i].exp);
    }
}

static void exp_accuracy(void)
{
    enum { N = 4000000 };
    double worst = 0, at = 0;
    for (long i = 0; i < N; i++) {
        double x;
        switch (i % 4) {
        case 0: /* the whole range of finite nonzero results */
            x = -745.13 + unit() * (709.78 + 745.13);
            break;
        case 1: /* near 0 */
            x = (2 * unit() - 1) * ldexp(1.0, -(int)(next_u64() % 60));
            break;
        case 2: /* subnormal results */
            x = -745.13 + unit() * (745.13 - 708.39);
            break;
        default: /* moderate arguments, where most values are */
            x = (2 * unit() - 1) * 40;
            break;
        }
        double e = ulp_error(damo_exp64(x), expl((long double)x));
        if (e > worst) {
            worst = e;
            at = x;
        }
    }
    printf("largest error over %d arguments: exp %.3f ulp (at %a)\n", N, worst, at);
    CHECK_MSG(worst <= 1.0, "exp: %.3f ulp at %a", worst, at);
}

static void accuracy(void)
{
    enum { N = 4000000 };
    double worst[2] = {0, 0}, at[2] = {0, 0};
    for (long i = 0; i < N; i++) {
        double x;
        switch (i % 4) {
        case 0: { /* a positive finite double of any exponent */
            uint64_t b = next_u64() & 0x7fefffffffffffffu;
            memcpy(&x, &b, sizeof x);
            break;
        }
        case 1:
            x = 1.0 + (unit() - 0.5) * ldexp(1.0, -(int)(next_u64() % 60));
            break;
        case 2:
            x = (2 * unit() - 1) * ldexp(1.0, -(int)(next_u64() % 1100));
            break;
        default:
            x = -1.0 + unit() * ldexp(1.0, -(int)(next_u64() % 60));
            break;
        }
        if (x > 0) {
            double e = ulp_error(damo_log64(x), logl((long double)x));
            if (e > worst[0]) {
                worst[0] = e;
                at[0] = x;
            }
        }
        if (x > -1) {
            double e = ulp_error(damo_log1p64(x), log1pl((long double)x));
            if (e > worst[1]) {
                worst[1] = e;
                at[1] = x;
            }
        }
    }
    printf("largest errors over %d arguments: log %.3f ulp (at %a), log1p %.3f ulp (at %a)\n", N,
           worst[0], at[0], worst[1], at[1]);
    CHECK_MSG(worst[0] <= 1.0, "log: %.3f ulp at %a", worst[0], at[0]);
    CHECK_MSG(worst[1] <= 2.0, "log1p: %.3f ulp at %a", worst[1], at[1]);
}

int main(void)
{
    specials();
    accuracy();
    exp_specials();
    exp_accuracy();
    return check_done();
}
