/*
 * Integer helpers that elementwise expressions in src/scalar/ops.def call.
 * Written in the common subset of C99 and OpenCL C: the host library
 * includes this file, and the build embeds the same text into every
 * generated kernel that calls one of them, so host and device run one
 * definition. The includer defines DAMO_FN (storage class), DAMO_I64 and
 * DAMO_U64 (64-bit integer types) first.
 *
 * Powers are computed in 64 bits with wrap-around; the caller narrows the
 * result, which is exact because a product mod 2^64, narrowed, equals the
 * product mod the narrower width.
 */

/* a ** b by squaring, modulo 2^64. */
DAMO_FN DAMO_U64 damo_upow(DAMO_U64 a, DAMO_U64 b)
{
    DAMO_U64 r = 1;
    while (b) {
        if (b & 1)
            r *= a;
        a *= a;
        b >>= 1;
    }
    return r;
}

/* Signed a ** b. A negative exponent gives the truncated value of
 * 1 / a ** -b: 1 for a == 1, +-1 for a == -1, else 0 (NumPy raises there;
 * damo refuses constant negative exponents when building the graph). */
DAMO_FN DAMO_I64 damo_ipow(DAMO_I64 a, DAMO_I64 b)
{
    if (b < 0)
        return a == 1 ? 1 : a == -1 ? ((b & 1) ? -1 : 1) : 0;
    return (DAMO_I64)damo_upow((DAMO_U64)a, (DAMO_U64)b);
}
