/* Error state carried by every handle: a status plus a message. Every
 * message set on a handle is also the calling thread's last error. */
#ifndef DAMO_COMMON_ERR_H
#define DAMO_COMMON_ERR_H

#include "damo.h"

#define DAMO_ERRMSG_SIZE 4096

typedef struct damo_err {
    damo_status code;
    char msg[DAMO_ERRMSG_SIZE];
} damo_err;

#if defined(__GNUC__) || defined(__clang__)
#define DAMO_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define DAMO_PRINTF(f, a)
#endif

/* Records code and a formatted message on e (NULL e records only the
 * thread's last error); returns code so that callers can
 * `return err_set(...)`. */
damo_status err_set(damo_err *e, damo_status code, const char *fmt, ...) DAMO_PRINTF(3, 4);
/* Prefixes the message already on e with a formatted context ("input x: "). */
void err_prefix(damo_err *e, const char *fmt, ...) DAMO_PRINTF(2, 3);
void err_clear(damo_err *e);
/* Copies src's code and message to dst (and the thread's last error);
 * returns the code. */
damo_status err_copy(damo_err *dst, const damo_err *src);

#endif
