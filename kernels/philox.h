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
