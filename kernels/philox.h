/*
 * Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2,
 * 3", SC'11; Random123's philox4x32 with 10 rounds) and the draws damo's
 * random streams make from it. Written in the common subset of C99 and
 * OpenCL C: the host library includes this file and the build embeds the
 * same text into every generated kernel that draws numbers, so the host
 * and every device compute one definition. The includer defines DAMO_FN
 * (storage class), DAMO_U32 and DAMO_U64 first.
 */

/* One round: two 32 x 32 -> 64-bit products whose halves are crossed
 * with the other words and the round's key (the key bumped r times by the
 * Weyl constants, as in Random123). */
#define DAMO_PHILOX_ROUND(r)                                                  \
    {                                                                        \
        DAMO_U64 p0 = (DAMO_U64)0xD2511F53u * c0, p1 = (DAMO_U64)0xCD9E8D57u * c2; \
        c0 = (DAMO_U32)(p1 >> 32) ^ c1 ^ (k0 + (DAMO_U32)(r) * 0x9E3779B9u); \
        c1 = (DAMO_U32)p1;                                                   \
        c2 = (DAMO_U32)(p0 >> 32) ^ c3 ^ (k1 + (DAMO_U32)(r) * 0xBB67AE85u); \
        c3 = (DAMO_U32)p0;                                                   \
    }

/* c[0..3] = philox4x32_10(counter c[0..3], key (k0, k1)), in place. The
 * rounds are written out and the words kept in scalars: PoCL neither
 * unrolls the loop nor vectorizes across work-items a kernel that calls a
 * function it has not inlined (measured: 7x slower), so the includer of a
 * device build also makes DAMO_FN always inline. */
DAMO_FN void damo_philox4x32_10(DAMO_U32 *c, DAMO_U32 k0, DAMO_U32 k1)
{
    DAMO_U32 c0 = c[0], c1 = c[1], c2 = c[2], c3 = c[3];
    DAMO_PHILOX_ROUND(0) DAMO_PHILOX_ROUND(1) DAMO_PHILOX_ROUND(2) DAMO_PHILOX_ROUND(3)
    DAMO_PHILOX_ROUND(4) DAMO_PHILOX_ROUND(5) DAMO_PHILOX_ROUND(6) DAMO_PHILOX_ROUND(7)
    DAMO_PHILOX_ROUND(8) DAMO_PHILOX_ROUND(9)
    c[0] = c0;
    c[1] = c1;
    c[2] = c2;
    c[3] = c3;
}

/* The 64 bits of word pair `pair` (words 2 * pair, low, and 2 * pair + 1,
 * high) of the block at counter (ctr + idx mod 2^64 in words 0 and 1, 0 in
 * words 2 and 3) under the 64-bit key, shifted right by `shift`. Element
 * idx of a draw uses block ctr + idx, whatever the device, the work-group
 * size or the kernel it is computed in. */
DAMO_FN DAMO_U64 damo_rand_bits(DAMO_U64 key, DAMO_U64 ctr, DAMO_U64 idx, int pair, int shift)
{
    DAMO_U64 n = ctr + idx;
    DAMO_U32 c[4];
    c[0] = (DAMO_U32)n;
    c[1] = (DAMO_U32)(n >> 32);
    c[2] = 0;
    c[3] = 0;
    damo_philox4x32_10(c, (DAMO_U32)key, (DAMO_U32)(key >> 32));
    return ((DAMO_U64)c[2 * pair + 1] << 32 | c[2 * pair]) >> shift;
}

#ifdef DAMO_F64
/* Standard normal numbers in float64 from two uniforms, with IEEE
 * arithmetic and sqrt only (no libm call), so that host and devices give
 * the same bits and a device compiler can vectorize across work-items
 * (PoCL's scalar libm calls cost 25 ns each). The includer defines
 * DAMO_F64 (double) where float64 is available, and then includes
 * kernels/fmath.h first, for its log (damo_log64). */

/* sin(x) and cos(x) for |x| <= pi / 4: fdlibm's k_sin.c and k_cos.c
 * polynomials (Copyright (C) 1993 by Sun Microsystems, Inc. Permission to
 * use, copy, modify, and distribute this software is freely granted,
 * provided that this notice is preserved), cos without the tail correction of
 * |x| > 0.3 (under 2 ulp). */
DAMO_FN DAMO_F64 damo_rand_ksin(DAMO_F64 x)
{
    DAMO_F64 z = x * x, v = z * x;
    DAMO_F64 r = 8.33333333332248946124e-03 +
                 z * (-1.98412698298579493134e-04 +
                      z * (2.75573137070700676789e-06 +
                           z * (-2.50507602534068634195e-08 + z * 1.58969099521155010221e-10)));
    return x + v * (-1.66666666666666324348e-01 + z * r);
}

DAMO_FN DAMO_F64 damo_rand_kcos(DAMO_F64 x)
{
    DAMO_F64 z = x * x;
    DAMO_F64 r = z * (4.16666666666666019037e-02 +
                      z * (-1.38888888888741095749e-03 +
                           z * (2.48015872894767294178e-05 +
                                z * (-2.75573143513906633035e-07 +
                                     z * (2.08757232129817482790e-09 +
                                          z * -1.13596475577881948265e-11)))));
    return 1.0 - (0.5 * z - z * r);
}

/* cos(2 pi v) for v in [0, 1): by symmetry sin(2 pi t) for t = 1/4 - w,
 * w = min(v, 1 - v) (exact); |t| <= 1/8 by the sine polynomial, else as
 * cos(2 pi (1/4 - |t|)) (exact argument). */
DAMO_FN DAMO_F64 damo_rand_cos2pi(DAMO_F64 v)
{
    DAMO_F64 w = v > 0.5 ? 1.0 - v : v, t = 0.25 - w, a = t < 0 ? -t : t;
    const DAMO_F64 two_pi = 6.283185307179586;
    DAMO_F64 r = a <= 0.125 ? damo_rand_ksin(two_pi * a) : damo_rand_kcos(two_pi * (0.25 - a));
    return t < 0 ? -r : r;
}

/* Box-Muller: u and v uniform on [0, 1); 1 - u is in (0, 1] (exact), so
 * the log is finite. */
DAMO_FN DAMO_F64 damo_rand_normal(DAMO_F64 u, DAMO_F64 v)
{
    return sqrt(-2.0 * damo_log64(1.0 - u)) * damo_rand_cos2pi(v);
}

/* exp(x): fdlibm's e_exp.c (same notice) without its special cases for
 * tiny |x|; 0 below -745.2, inf above 709.8, the power of two applied in
 * two halves so that results in the subnormal range come out right. */
DAMO_FN DAMO_F64 damo_rand_exp(DAMO_F64 x)
{
    if (x < -745.2)
        return 0.0;
    if (x > 709.8)
        return x * 0x1p1023;
    int k = (int)(1.44269504088896338700e+00 * x + (x < 0 ? -0.5 : 0.5));
    DAMO_F64 hi = x - (DAMO_F64)k * 6.93147180369123816490e-01;
    DAMO_F64 lo = (DAMO_F64)k * 1.90821492927058770002e-10;
    DAMO_F64 r = hi - lo, t = r * r;
    DAMO_F64 c = r - t * (1.66666666666666019037e-01 +
                          t * (-2.77777777770155933842e-03 +
                               t * (6.61375632143793436117e-05 +
                                    t * (-1.65339022054652515390e-06 + t * 4.13813679705723846039e-08))));
    DAMO_F64 y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi);
    union {
        DAMO_F64 d;
        DAMO_U64 u;
    } p1, p2;
    int k1 = k / 2;
    p1.u = (DAMO_U64)(k1 + 1023) << 52;
    p2.u = (DAMO_U64)(k - k1 + 1023) << 52;
    return y * p1.d * p2.d;
}

/*
 * Draws that take a varying number of uniforms (rejection, counting). An
 * element's numbers come from its own Philox sub-stream: key sa, counter
 * (j, sb low, sb high, 0) for its j-th uniform, where sa and sb are the
 * 53-bit halves of its block in the variable's stream, passed as the
 * float64 values that hold them exactly. Every uniform is in (0, 1].
 */
DAMO_FN DAMO_F64 damo_rand_sub(DAMO_F64 sa, DAMO_F64 sb, DAMO_U32 j)
{
    DAMO_U64 ka = (DAMO_U64)sa, kb = (DAMO_U64)sb;
    DAMO_U32 c[4];
    c[0] = j;
    c[1] = (DAMO_U32)kb;
    c[2] = (DAMO_U32)(kb >> 32);
    c[3] = 0;
    damo_philox4x32_10(c, (DAMO_U32)ka, (DAMO_U32)(ka >> 32));
    return 1.0 - (DAMO_F64)(((DAMO_U64)c[1] << 32 | c[0]) >> 11) * 0x1p-53;
}

/* Gamma(alpha, 1) by Marsaglia and Tsang (ACM TOMS 26(3), 2000) from
 * uniforms *j, *j + 1, ... (*j moves past those used); alpha < 1 as
 * Gamma(alpha + 1) * u^(1 / alpha). 0 for alpha 0 (as NumPy), NaN for
 * alpha < 0, NaN or infinite (NumPy raises), or after 10000 rejected
 * attempts (never met: each is accepted with probability > 0.95). */
DAMO_FN DAMO_F64 damo_rand_gamma_at(DAMO_F64 sa, DAMO_F64 sb, DAMO_F64 alpha, DAMO_U32 *j)
{
    if (alpha == 0)
        return 0.0;
    if (!(alpha > 0 && alpha < 0x1p1000))
        return damo_nan64();
    DAMO_F64 a = alpha < 1 ? alpha + 1 : alpha, d = a - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
    for (int attempt = 0; attempt < 10000; attempt++) {
        DAMO_F64 x = damo_rand_normal(1.0 - damo_rand_sub(sa, sb, *j), 1.0 - damo_rand_sub(sa, sb, *j + 1));
        DAMO_F64 u = damo_rand_sub(sa, sb, *j + 2), v = 1.0 + c * x;
        *j += 3;
        if (v <= 0)
            continue;
        DAMO_F64 v3 = v * v * v, x2 = x * x;
        if (u < 1.0 - 0.0331 * x2 * x2 ||
            damo_log64(u) < 0.5 * x2 + d * (1.0 - v3 + 3.0 * damo_log64(v))) {
            DAMO_F64 g = d * v3;
            if (alpha >= 1)
                return g;
            *j += 1;
            return g * damo_rand_exp(damo_log64(damo_rand_sub(sa, sb, *j - 1)) / alpha);
        }
    }
    return damo_nan64();
}

DAMO_FN DAMO_F64 damo_rand_gamma(DAMO_F64 sa, DAMO_F64 sb, DAMO_F64 alpha)
{
    DAMO_U32 j = 0;
    return damo_rand_gamma_at(sa, sb, alpha, &j);
}

/* The standard normal truncated to [a, b] by Robert's proposals (Stat.
 * Comput. 5(2), 1995), mirrored so that b > 0: a normal one for a < 0
 * and b - a >= sqrt(2 pi), a uniform one on narrow intervals, and a
 * translated exponential one in a tail (a >= 0 and b - a above Robert's
 * bound). Its only seed is sa, as binomial's. NaN unless a < b, or after
 * 10000 rejections (never met: every proposal is accepted with
 * probability above 0.3). */
DAMO_FN DAMO_F64 damo_rand_truncnorm(DAMO_F64 sa, DAMO_F64 a, DAMO_F64 b)
{
    if (!(a < b))
        return damo_nan64();
    DAMO_F64 sign = 1.0;
    if (b <= 0) {
        DAMO_F64 t = a;
        a = -b;
        b = -t;
        sign = -1.0;
    }
    DAMO_F64 alpha = (a + sqrt(a * a + 4.0)) / 2.0;
    int normal = a < 0 && b - a >= 2.5066282746310002;
    int tail = a >= 0 && b - a > 2.0 / (a + sqrt(a * a + 4.0)) *
                                     damo_rand_exp((a * a - a * sqrt(a * a + 4.0)) / 4.0 + 0.5);
    DAMO_U32 j = 0;
    for (int attempt = 0; attempt < 10000; attempt++) {
        DAMO_F64 u = damo_rand_sub(sa, 0.0, j), v = damo_rand_sub(sa, 0.0, j + 1), z;
        int ok;
        j += 2;
        if (normal) {
            z = damo_rand_normal(1.0 - u, 1.0 - v);
            ok = z >= a && z <= b;
        } else if (tail) {
            z = a - damo_log64(u) / alpha;
            ok = z <= b && v <= damo_rand_exp(-(z - alpha) * (z - alpha) / 2.0);
        } else {
            z = a + (b - a) * (1.0 - u);
            ok = v <= damo_rand_exp(a > 0 ? (a * a - z * z) / 2.0 : -z * z / 2.0);
        }
        if (ok)
            return sign * z;
    }
    return damo_nan64();
}

/* Binomial(n, p) as a float64 holding the count, by Knuth's recursion
 * (TAOCP 3.4.1): while n > 16, the median X ~ Beta(a, n + 1 - a) of n
 * uniforms (two gammas) halves n, then n comparisons. Its only seed is
 * sa (second counter words 0). -1 (a count no draw gives) for p outside
 * [0, 1] or NaN, or n negative, fractional or at least 2^53. */
DAMO_FN DAMO_F64 damo_rand_binomial(DAMO_F64 sa, DAMO_F64 n, DAMO_F64 p)
{
    if (!(p >= 0 && p <= 1) || !(n >= 0 && n < 0x1p53) || n != floor(n))
        return -1.0;
    DAMO_U32 j = 0;
    DAMO_F64 k = 0;
    while (n > 16) {
        DAMO_F64 a = 1 + floor(n / 2), b = n + 1 - a;
        DAMO_F64 g1 = damo_rand_gamma_at(sa, 0.0, a, &j), g2 = damo_rand_gamma_at(sa, 0.0, b, &j);
        DAMO_F64 x = g1 / (g1 + g2);
        if (x >= p) {
            n = a - 1;
            p = p / x;
        } else {
            k += a;
            n = b - 1;
            p = (p - x) / (1 - x);
        }
    }
    for (DAMO_F64 i = 0; i < n; i += 1)
        k += 1.0 - damo_rand_sub(sa, 0.0, j++) < p ? 1.0 : 0.0;
    return k;
}

/* log(Gamma(x)) for x >= 1: NumPy's random_loggam (Stirling's series
 * from x + n >= 7, then the recurrence down). */
DAMO_FN DAMO_F64 damo_rand_loggam(DAMO_F64 x)
{
    if (x == 1 || x == 2)
        return 0.0;
    int n = x < 7 ? (int)(7 - x) : 0;
    DAMO_F64 x0 = x + n, x2 = 1.0 / (x0 * x0);
    DAMO_F64 gl0 = -1.39243221690590e+00;
    gl0 = gl0 * x2 + 1.796443723688307e-01;
    gl0 = gl0 * x2 - 2.955065359477124e-02;
    gl0 = gl0 * x2 + 6.410256410256410e-03;
    gl0 = gl0 * x2 - 1.917526917526918e-03;
    gl0 = gl0 * x2 + 8.417508417508418e-04;
    gl0 = gl0 * x2 - 5.952380952380952e-04;
    gl0 = gl0 * x2 + 7.936507936507937e-04;
    gl0 = gl0 * x2 - 2.777777777777778e-03;
    gl0 = gl0 * x2 + 8.333333333333333e-02;
    DAMO_F64 gl = gl0 / x0 + 0.5 * damo_log64(6.283185307179586) + (x0 - 0.5) * damo_log64(x0) - x0;
    for (int k = 0; k < n; k++) {
        x0 -= 1.0;
        gl -= damo_log64(x0);
    }
    return gl;
}

/* Poisson(lam) as a float64 holding the count: multiplication of
 * uniforms (Knuth) below lam 10, else Hoermann's PTRS (Insurance Math.
 * Econom. 12, 1993) as NumPy has it. -1 (a count no draw gives) for lam <
 * 0, NaN or at least 2^53 (NumPy raises), or after 10000 rejected
 * attempts (never met). */
DAMO_FN DAMO_F64 damo_rand_poisson(DAMO_F64 sa, DAMO_F64 sb, DAMO_F64 lam)
{
    if (!(lam >= 0 && lam < 0x1p53))
        return -1.0;
    DAMO_U32 j = 0;
    if (lam < 10) {
        DAMO_F64 limit = damo_rand_exp(-lam), prod = damo_rand_sub(sa, sb, j++);
        DAMO_F64 k = 0;
        while (prod > limit && j < 10000) {
            prod *= damo_rand_sub(sa, sb, j++);
            k += 1;
        }
        return j < 10000 ? k : -1.0;
    }
    DAMO_F64 slam = sqrt(lam), loglam = damo_log64(lam), b = 0.931 + 2.53 * slam;
    DAMO_F64 a = -0.059 + 0.02483 * b, invalpha = 1.1239 + 1.1328 / (b - 3.4);
    DAMO_F64 vr = 0.9277 - 3.6224 / (b - 2);
    for (int attempt = 0; attempt < 10000; attempt++) {
        DAMO_F64 u = damo_rand_sub(sa, sb, j) - 0.5, v = damo_rand_sub(sa, sb, j + 1);
        j += 2;
        DAMO_F64 us = 0.5 - fabs(u), k = floor((2 * a / us + b) * u + lam + 0.43);
        if (us >= 0.07 && v <= vr)
            return k;
        if (k < 0 || (us < 0.013 && v > us))
            continue;
        if (damo_log64(v) + damo_log64(invalpha) - damo_log64(a / (us * us) + b) <=
            -lam + k * loglam - damo_rand_loggam(k + 1))
            return k;
    }
    return -1.0;
}
#endif
