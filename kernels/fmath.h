/*
 * float64 log, log1p and exp with IEEE arithmetic only, for the elementwise
 * ops LOG, LOG1P, EXP, SIGMOID and SOFTPLUS (src/scalar/ops.def). Written
 * in the common subset of C99 and OpenCL C: the host library includes this
 * file and the build embeds the same text into the scalar kernels that
 * call them, so host and device compute one definition and give the same
 * bits (which lets small float64 work with these ops run on the calling
 * thread of a CPU device, src/exec/). The includer defines DAMO_FN,
 * DAMO_F64 (double), DAMO_I64, DAMO_U64 and DAMO_U32 first.
 *
 * Why not the device's log: PoCL's scalar log and log1p are calls its
 * compiler does not vectorize across work-items, 14 ns an element on this
 * 2-core machine, against 1.2 ns for log on double8 and 2.4 ns for a
 * scalar exp; the logistic regression's fused kernel spent 85% of its
 * 20 us in one log1p per element. These are straight-line code (special
 * values chosen by selects at the end) that a CPU compiler vectorizes.
 * Kernels on whole vectors (the VEC path) keep the device's vector log.
 */

/* The quiet NaN 0x7ff8000000000000. OpenCL's NAN is a float constant,
 * which becomes 0x7fffffffe0000000 as a double, C's this one: results
 * built from it would differ between host and device. */
DAMO_FN DAMO_F64 damo_nan64(void)
{
    union {
        DAMO_U64 u;
        DAMO_F64 d;
    } b;
    b.u = (DAMO_U64)0x7ff8u << 48;
    return b.d;
}

/* log(x): fdlibm's e_log.c (Copyright (C) 1993 by Sun Microsystems, Inc.
 * Permission to use, copy, modify, and distribute this software is freely
 * granted, provided that this notice is preserved), both of its final
 * branches computed and one selected, subnormals scaled by 2^54 first;
 * under 1 ulp. */
DAMO_FN DAMO_F64 damo_log64(DAMO_F64 x)
{
    int sub = x < 0x1p-1022;
    union {
        DAMO_F64 d;
        DAMO_U64 u;
    } b;
    b.d = sub ? x * 0x1p54 : x;
    DAMO_U32 hx = (DAMO_U32)(b.u >> 32);
    int k = (int)((hx >> 20) & 0x7ffu) - 1023 - (sub ? 54 : 0);
    hx &= 0x000fffffu;
    DAMO_U32 i = (hx + 0x95f64u) & 0x100000u;
    /* normalize into [sqrt(2) / 2, sqrt(2)) */
    b.u = (DAMO_U64)(hx | (i ^ 0x3ff00000u)) << 32 | (b.u & 0xffffffffu);
    k += (int)(i >> 20);
    DAMO_F64 f = b.d - 1.0, dk = (DAMO_F64)k;
    DAMO_F64 s = f / (2.0 + f), z = s * s, w = z * z;
    DAMO_F64 t1 = w * (3.999999999940941908e-01 + w * (2.222219843214978396e-01 +
                                                       w * 1.531383769920937332e-01));
    DAMO_F64 t2 = z * (6.666666666666735130e-01 +
                       w * (2.857142874366239149e-01 +
                            w * (1.818357216161805012e-01 + w * 1.479819860511658591e-01)));
    DAMO_F64 r = t2 + t1, hfsq = 0.5 * f * f;
    const DAMO_F64 ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
    int sel = ((int)hx - 0x6147a) | (0x6b851 - (int)hx);
    DAMO_F64 big = dk * ln2_hi - ((hfsq - (s * (hfsq + r) + dk * ln2_lo)) - f);
    DAMO_F64 small = dk * ln2_hi - ((s * (f - r) - dk * ln2_lo) - f);
    DAMO_F64 y = sel > 0 ? big : small;
    /* NaN, negative: NaN; +-0: -inf; +inf: +inf. A bitwise and, not &&:
     * PoCL did not vectorize the branch that && makes (the tutorial's
     * fused kernel over 4000 elements: 84 us, against 31 us) */
    DAMO_F64 special = x == 0 ? -INFINITY : x == INFINITY ? x : damo_nan64();
    return ((x > 0) & (x < INFINITY)) ? y : special;
}

/* log(1 + x): log(u) for u = 1 + x rounded, corrected by the rounding
 * error (x - (u - 1)) / u, which log's slope 1 / u turns into the missing
 * part of the result; x itself where u rounds to 1. */
DAMO_FN DAMO_F64 damo_log1p64(DAMO_F64 x)
{
    DAMO_F64 u = 1.0 + x;
    DAMO_F64 y = damo_log64(u) + (x - (u - 1.0)) / u;
    /* the correction is NaN at u = 0 and u = inf, where log's value stands.
     * log(u) is written twice on purpose: held in one variable, PoCL
     * stopped vectorizing the tutorial's kernel (90 us over 4000 elements
     * against 34); a compiler computes it once either way */
    return u == 1.0 ? x : u == 0 || u == INFINITY ? damo_log64(u) : y;
}

/* exp(x): fdlibm's e_exp.c (Copyright (C) 2004 by Sun Microsystems, Inc.
 * Permission to use, copy, modify, and distribute this software is freely
 * granted, provided that this notice is preserved), its reduction
 * x = k ln2 + r used for every x (with k = 0 it gives the bits of its
 * branch for small x), 2^k put on the exponent bits, and results below
 * 2^-1021 finished by one multiplication by 2^-1000, so that a subnormal
 * result rounds once; under 1 ulp (test_fmath). k is x / ln2 rounded to
 * nearest by adding 1.5 * 2^52, where it lands in the low bits, not by a
 * conversion to int: gcc then vectorizes the host's loops over it (no
 * 64-bit conversion before AVX-512). A Taylor polynomial instead of
 * fdlibm's rational form (no division, 0.88 ulp) made PoCL's kernel over
 * 10^6 elements 4.5x slower (Horner) and 3.4x (Estrin). */
DAMO_FN DAMO_F64 damo_exp64(DAMO_F64 x)
{
    const DAMO_F64 ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
    /* the reduction sees a number in range (converting NaN or a huge value
     * to int is undefined in C); the special results are chosen at the end */
    DAMO_F64 xc = x > 709.8 ? 709.8 : x < -745.2 ? -745.2 : x == x ? x : 0.0;
    union {
        DAMO_F64 d;
        DAMO_U64 u;
    } m, b, f;
    m.d = 1.44269504088896338700e+00 * xc + 0x1.8p52;
    DAMO_I64 k = (DAMO_I64)(m.u - 0x4338000000000000u);
    DAMO_F64 dk = m.d - 0x1.8p52, hi = xc - dk * ln2_hi, lo = dk * ln2_lo, r = hi - lo;
    DAMO_F64 t = r * r;
    DAMO_F64 c = r - t * (1.66666666666666019037e-01 +
                          t * (-2.77777777770155933842e-03 +
                               t * (6.61375632143793436117e-05 +
                                    t * (-1.65339022054652515390e-06 +
                                         t * 4.13813679705723846039e-08))));
    DAMO_F64 y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi);
    /* low results get 1000 more on the exponent and a factor 2^-1000, the
     * others the factor 1: arithmetic, not selects, which a compiler turns
     * into both sides computed, one multiplying a value whose exponent
     * wrapped around (k + 1000 for a large k) at the cost of a denormal's
     * microcode assist (exp over [20, 40] took 9.1 ns a value on the
     * host, against 2.5) */
    DAMO_I64 low = k < -1021;
    b.d = y;
    b.u += (DAMO_U64)(k + low * 1000) << 52;
    f.u = 0x3ff0000000000000u - (DAMO_U64)low * ((DAMO_U64)1000 << 52);
    DAMO_F64 scaled = b.d * f.d;
    /* NaN: NaN; over log(DBL_MAX): inf; under the log of half the
     * smallest subnormal: 0 */
    return x != x ? x + x
           : x > 7.09782712893383973096e+02 ? INFINITY
           : x < -7.45133219101941108420e+02 ? 0.0 : scaled;
}
