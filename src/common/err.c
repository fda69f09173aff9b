#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The calling thread's most recent failure (damo_last_error). */
static _Thread_local damo_err last;

static void note_last(const damo_err *e)
{
    if (e != &last) {
        last.code = e->code;
        memcpy(last.msg, e->msg, sizeof last.msg);
    }
}

damo_status err_set(damo_err *e, damo_status code, const char *fmt, ...)
{
    damo_err *dst = e ? e : &last;
    dst->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst->msg, sizeof dst->msg, fmt, ap);
    va_end(ap);
    note_last(dst);
    return code;
}

void err_prefix(damo_err *e, const char *fmt, ...)
{
    if (!e)
        return;
    char prefix[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    size_t pl = strlen(prefix), ml = strlen(e->msg);
    if (pl + ml + 1 > sizeof e->msg)
        ml = sizeof e->msg - pl - 1;
    memmove(e->msg + pl, e->msg, ml);
    memcpy(e->msg, prefix, pl);
    e->msg[pl + ml] = '\0';
    note_last(e);
}

void err_clear(damo_err *e)
{
    if (!e)
        return;
    e->code = DAMO_OK;
    e->msg[0] = '\0';
}

damo_status err_copy(damo_err *dst, const damo_err *src)
{
    if (!src)
        return DAMO_OK;
    if (dst && dst != src) {
        dst->code = src->code;
        memcpy(dst->msg, src->msg, sizeof dst->msg);
    }
    if (src->code != DAMO_OK)
        note_last(src);
    return src->code;
}

damo_status damo_last_error(void) { return last.code; }
const char *damo_last_errmsg(void) { return last.msg; }

const char *damo_status_name(damo_status s)
{
    static const char *const names[] = {
        "DAMO_OK", "DAMO_ERR_INVALID", "DAMO_ERR_NOMEM", "DAMO_ERR_TYPE",
        "DAMO_ERR_SHAPE", "DAMO_ERR_NAME", "DAMO_ERR_NO_DEVICE",
        "DAMO_ERR_UNSUPPORTED", "DAMO_ERR_BUILD", "DAMO_ERR_DEVICE",
        "DAMO_ERR_IO", "DAMO_ERR_FORMAT", "DAMO_ERR_OVERFLOW", "DAMO_ERR_INDEX",
    };
    if ((unsigned)s < sizeof names / sizeof names[0])
        return names[s];
    return "DAMO_ERR_UNKNOWN";
}
