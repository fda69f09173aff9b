#include "hash.h"

#include <string.h>

uint64_t hash_bytes(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

uint64_t hash_str(uint64_t h, const char *s)
{
    /* the terminator is hashed too, so ("ab","c") and ("a","bc") differ */
    return hash_bytes(h, s ? s : "", s ? strlen(s) + 1 : 1);
}

uint64_t hash_u64(uint64_t h, uint64_t v) { return hash_bytes(h, &v, sizeof v); }
