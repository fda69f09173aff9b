/* Static types: sizes, broadcasting, the checks of a value against a type,
 * and labels for messages. */
#include <stdio.h>
#include <string.h>

#include "../common/ckd.h"
#include "graph.h"
#include "op.h"

int64_t gtype_static_size(const gtype *t)
{
    for (int d = 0; d < t->ndim; d++)
        if (t->shape[d] == DAMO_DIM_UNKNOWN)
            return -1;
    int64_t n;
    return ckd_prod64(t->shape, t->ndim, &n) ? n : -1;
}

int gtype_fits_into(const gtype *u, const gtype *t)
{
    if (u->ndim > t->ndim)
        return 0;
    for (int d = 0; d < u->ndim; d++) {
        int64_t us = u->shape[d], ts = t->shape[d + t->ndim - u->ndim];
        if (us != 1 && (us == DAMO_DIM_UNKNOWN || us != ts))
            return 0;
    }
    return 1;
}

damo_status gtype_broadcast(const gtype *const *ts, int n, gtype *out, int *bad_dim)
{
    int nd = 0;
    for (int i = 0; i < n; i++)
        if (ts[i]->ndim > nd)
            nd = ts[i]->ndim;
    out->ndim = nd;
    for (int d = 0; d < nd; d++) {
        /* 1 until something bigger or unknown is seen */
        int64_t size = 1;
        int unknown = 0;
        for (int i = 0; i < n; i++) {
            int k = d - (nd - ts[i]->ndim);
            if (k < 0)
                continue;
            int64_t s = ts[i]->shape[k];
            if (s == DAMO_DIM_UNKNOWN) {
                unknown = 1;
            } else if (s != 1) {
                if (size != 1 && size != s) {
                    if (bad_dim)
                        *bad_dim = d;
                    return DAMO_ERR_SHAPE;
                }
                size = s;
            }
        }
        out->shape[d] = size == 1 && unknown ? DAMO_DIM_UNKNOWN : size;
    }
    return DAMO_OK;
}

/* What of (dtype, ndim, shape) t rejects: 0 nothing, 1 the dtype, 2 the
 * number of dimensions, 3 + d dimension d's size. */
static int gtype_mismatch(const gtype *t, damo_dtype dtype, int ndim, const int64_t *shape,
                          int same_dtype)
{
    if (same_dtype && dtype != t->dtype)
        return 1;
    if (ndim != t->ndim)
        return 2;
    for (int d = 0; d < ndim; d++)
        if (t->shape[d] != DAMO_DIM_UNKNOWN && shape[d] != DAMO_DIM_UNKNOWN &&
            t->shape[d] != shape[d])
            return 3 + d;
    return 0;
}

int gtype_accepts(const gtype *t, damo_dtype dtype, int ndim, const int64_t *shape, int same_dtype)
{
    return !gtype_mismatch(t, dtype, ndim, shape, same_dtype);
}

damo_status gtype_check(const gtype *t, damo_dtype dtype, int ndim, const int64_t *shape,
                        int same_dtype, const char *what, const char *label, damo_err *e)
{
    int m = gtype_mismatch(t, dtype, ndim, shape, same_dtype), d = m - 3;
    if (!m)
        return DAMO_OK;
    if (m == 1)
        return err_set(e, DAMO_ERR_TYPE, "%s %s: expected %s, got %s", what, label,
                       damo_dtype_name(t->dtype), damo_dtype_name(dtype));
    if (m == 2)
        return err_set(e, DAMO_ERR_SHAPE, "%s %s: expected %d dimensions, got %d", what, label,
                       t->ndim, ndim);
    return err_set(e, DAMO_ERR_SHAPE, "%s %s: dimension %d must be %lld, got %lld", what, label, d,
                   (long long)t->shape[d], (long long)shape[d]);
}

const char *gtype_shape_str(const gtype *t, char *buf, size_t size)
{
    size_t len = (size_t)snprintf(buf, size, "(");
    for (int d = 0; d < t->ndim && len < size; d++) {
        if (t->shape[d] == DAMO_DIM_UNKNOWN)
            len += (size_t)snprintf(buf + len, size - len, "%sNone", d ? ", " : "");
        else
            len += (size_t)snprintf(buf + len, size - len, "%s%lld", d ? ", " : "",
                                    (long long)t->shape[d]);
    }
    if (len < size)
        snprintf(buf + len, size - len, t->ndim == 1 ? ",)" : ")");
    return buf;
}

/* Labels nest arguments this deep at most, so a message about a deep chain
 * costs a bounded amount of stack and text. */
#define LABEL_DEPTH 3

static void label_at(const damo_var *v, char *buf, size_t size, int depth)
{
    if (v->name) {
        snprintf(buf, size, "'%s'", v->name);
    } else if (v->kind == VAR_CONST) {
        snprintf(buf, size, "<constant>");
    } else if (v->kind == VAR_SHARED) {
        snprintf(buf, size, "<unnamed shared>");
    } else if (v->kind == VAR_INPUT) {
        snprintf(buf, size, "<unnamed input>");
    } else if (depth >= LABEL_DEPTH) {
        snprintf(buf, size, "%s(...)", op_info_of(v->node->op)->name);
    } else {
        const gnode *n = v->node;
        size_t len = (size_t)snprintf(buf, size, "%s(", op_info_of(n->op)->name);
        for (int i = 0; i < n->n_in && len < size; i++) {
            char arg[160];
            label_at(n->in[i], arg, sizeof arg, depth + 1);
            len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? ", " : "", arg);
        }
        if (len < size)
            snprintf(buf + len, size - len, ")");
    }
}

const char *var_label(const damo_var *v, char *buf, size_t size)
{
    label_at(v, buf, size, 0);
    return buf;
}
