/* 64-bit FNV-1a, for cache keys and hash-consing (not for security). */
#ifndef DAMO_COMMON_HASH_H
#define DAMO_COMMON_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_SEED 0xcbf29ce484222325ull

uint64_t hash_bytes(uint64_t h, const void *data, size_t n);
uint64_t hash_str(uint64_t h, const char *s);
uint64_t hash_u64(uint64_t h, uint64_t v);

#endif
