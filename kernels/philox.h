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
 * DAMO_F64 (double) where float64 is available. */

/* log(x) for x in (0, 1] normal: fdlibm's e_log.c (Copyright (C) 1993 by
 * Sun Microsystems, Inc. Permission to use, copy, modify, and distribute
 * this software is freely granted, provided that this notice is
 * preserved), both of its final branches computed and one selected. */
DAMO_FN DAMO_F64 damo_rand_log(DAMO_F64 x)
{
    union {
        DAMO_F64 d;
        DAMO_U64 u;
    } b;
    b.d = x;
    DAMO_U32 hx = (DAMO_U32)(b.u >> 32);
    int k = (int)(hx >> 20) - 1023;
    hx &= 0x000fffffu;
    DAMO_U32 i = (hx + 0x95f64u) & 0x100000u;
    /* normalize x or x / 2 into [sqrt(2) / 2, sqrt(2)) */
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
    return sel > 0 ? big : small;
}

/* sin(x) and cos(x) for |x| <= pi / 4: fdlibm's k_sin.c and k_cos.c
 * polynomials (same notice), cos without the tail correction of
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
    return sqrt(-2.0 * damo_rand_log(1.0 - u)) * damo_rand_cos2pi(v);
}
#endif
