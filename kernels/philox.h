/*
 * Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2,
 * 3", SC'11; Random123's philox4x32 with 10 rounds) and the draws damo's
 * random streams make from it. Written in the common subset of C99 and
 * OpenCL C: the host library includes this file and the build embeds the
 * same text into every generated kernel that draws numbers, so the host
 * and every device compute one definition. The includer defines DAMO_FN
 * (storage class), DAMO_U32 and DAMO_U64 first.
 */

/* One round: two 32 x 32 -> 64-bit products, their halves crossed with
 * the other words and the key. */
DAMO_FN void damo_philox_round(DAMO_U32 *c, DAMO_U32 k0, DAMO_U32 k1)
{
    DAMO_U64 p0 = (DAMO_U64)0xD2511F53u * c[0], p1 = (DAMO_U64)0xCD9E8D57u * c[2];
    DAMO_U32 hi0 = (DAMO_U32)(p0 >> 32), lo0 = (DAMO_U32)p0;
    DAMO_U32 hi1 = (DAMO_U32)(p1 >> 32), lo1 = (DAMO_U32)p1;
    DAMO_U32 c1 = c[1], c3 = c[3];
    c[0] = hi1 ^ c1 ^ k0;
    c[1] = lo1;
    c[2] = hi0 ^ c3 ^ k1;
    c[3] = lo0;
}

/* c[0..3] = philox4x32_10(counter c[0..3], key (k0, k1)), in place. The
 * key is bumped by the Weyl constants between rounds, as in Random123. */
DAMO_FN void damo_philox4x32_10(DAMO_U32 *c, DAMO_U32 k0, DAMO_U32 k1)
{
    for (int r = 0; r < 10; r++) {
        damo_philox_round(c, k0, k1);
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
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
