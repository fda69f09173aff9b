/* A growable NUL-terminated string. A failed allocation sets `failed` and
 * later appends do nothing, so builders check once at the end. */
#ifndef DAMO_COMMON_STRBUF_H
#define DAMO_COMMON_STRBUF_H

#include <stddef.h>

#include "err.h"

typedef struct strbuf {
    char *s;
    size_t len, cap;
    int failed;
} strbuf;

void sb_init(strbuf *b);
void sb_free(strbuf *b);
void sb_puts(strbuf *b, const char *s);
void sb_putn(strbuf *b, const char *s, size_t n);
void sb_printf(strbuf *b, const char *fmt, ...) DAMO_PRINTF(2, 3);
/* Hands the string to the caller (free() it); NULL if an append failed. */
char *sb_take(strbuf *b);

#endif
