/* Overflow-checked int64 arithmetic for sizes, strides and offsets that
 * come from users. Each returns 1 and stores the result when it fits, 0
 * (result unspecified) when it overflows. */
#ifndef DAMO_COMMON_CKD_H
#define DAMO_COMMON_CKD_H

#include <stdint.h>

static inline int ckd_add64(int64_t a, int64_t b, int64_t *r) { return !__builtin_add_overflow(a, b, r); }
static inline int ckd_mul64(int64_t a, int64_t b, int64_t *r) { return !__builtin_mul_overflow(a, b, r); }

/* Product of n sizes (each >= 0) into *r; 0 when a size is negative or the
 * product overflows. */
static inline int ckd_prod64(const int64_t *s, int n, int64_t *r)
{
    int64_t p = 1;
    for (int i = 0; i < n; i++)
        if (s[i] < 0)
            return 0;
    for (int i = 0; i < n; i++)
        if (s[i] == 0) {
            *r = 0;
            return 1;
        }
    for (int i = 0; i < n; i++)
        if (!ckd_mul64(p, s[i], &p))
            return 0;
    *r = p;
    return 1;
}

#endif
