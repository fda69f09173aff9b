/* Shared variables (values that persist across calls) and array
 * constants: the builders that need arrays. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

static const char *label_of(const damo_shared *s, char *buf, size_t size)
{
    snprintf(buf, size, "'%s'", s->name ? s->name : "<unnamed shared>");
    return buf;
}

damo_shared *damo_shared_new(damo_ctx *ctx, damo_array *value, const char *name,
                             const int64_t *static_shape)
{
    if (!ctx)
        return err_set(NULL, DAMO_ERR_INVALID, "shared_new: ctx is NULL"), NULL;
    const char *nm = name ? name : "";
    if (!value)
        return err_set(&ctx->err, DAMO_ERR_INVALID, "shared %s: value is NULL", nm), NULL;
    if (value->ctx != ctx)
        return err_set(&ctx->err, DAMO_ERR_INVALID,
                       "shared %s: the value belongs to another context", nm), NULL;
    gtype t = {value->dtype, value->ndim, {0}};
    for (int d = 0; d < value->ndim; d++) {
        t.shape[d] = static_shape ? static_shape[d] : DAMO_DIM_UNKNOWN;
        if (t.shape[d] < DAMO_DIM_UNKNOWN) {
            err_set(&ctx->err, DAMO_ERR_SHAPE, "shared %s: static size %lld of dimension %d is "
                    "negative", nm, (long long)t.shape[d], d);
            return NULL;
        }
    }
    if (gtype_check(&t, value->dtype, value->ndim, value->shape, 1, "shared", nm, &ctx->err))
        return NULL;
    damo_shared *s = calloc(1, sizeof *s);
    if (!s || (name && !(s->name = strdup(name)))) {
        free(s);
        err_set(&ctx->err, DAMO_ERR_NOMEM, "out of memory creating a shared variable");
        return NULL;
    }
    s->refcount = 1;
    s->ctx = ctx;
    s->type = t;
    s->value = damo_array_retain(value);
    return s;
}

static damo_shared *shared_number(damo_ctx *ctx, damo_array *a, const char *name)
{
    damo_shared *s = a ? damo_shared_new(ctx, a, name, NULL) : NULL;
    damo_array_release(a);
    return s;
}

damo_shared *damo_shared_int(damo_ctx *ctx, int64_t value, const char *name)
{
    return shared_number(ctx, damo_array_scalar_int(ctx, DAMO_INT64, value), name);
}

damo_shared *damo_shared_float(damo_ctx *ctx, double value, const char *name)
{
    return shared_number(ctx, damo_array_scalar(ctx, DAMO_FLOAT64, value), name);
}

damo_shared *damo_shared_retain(damo_shared *s)
{
    if (s)
        shared_retain(s);
    return s;
}

void damo_shared_release(damo_shared *s) { shared_release(s); }

damo_var *damo_shared_var(damo_graph *g, damo_shared *s)
{
    if (!g)
        return err_set(NULL, DAMO_ERR_INVALID, "shared_var: graph is NULL"), NULL;
    if (!s)
        return err_set(&g->err, DAMO_ERR_INVALID, "shared_var: shared variable is NULL"), NULL;
    if (s->ctx != g->ctx) {
        char lab[300];
        err_set(&g->err, DAMO_ERR_INVALID, "shared_var: %s belongs to another context",
                label_of(s, lab, sizeof lab));
        return NULL;
    }
    return graph_shared(g, s, &s->type, s->name);
}

damo_shared *damo_var_shared(const damo_var *v) { return v && v->kind == VAR_SHARED ? v->store : NULL; }
const char *damo_shared_name(const damo_shared *s) { return s ? s->name : NULL; }
const char *damo_shared_errmsg(const damo_shared *s) { return s ? s->err.msg : ""; }

/* Values are never changed in place (a call swaps in new ones), so a
 * reference is as safe as a copy. */
damo_array *damo_shared_get_value(damo_shared *s) { return s ? damo_array_retain(s->value) : NULL; }

damo_status damo_shared_set_value(damo_shared *s, damo_array *value)
{
    if (!s)
        return err_set(NULL, DAMO_ERR_INVALID, "shared_set_value: shared variable is NULL");
    char lab[300];
    label_of(s, lab, sizeof lab);
    if (!value)
        return err_set(&s->err, DAMO_ERR_INVALID, "set_value of %s: value is NULL", lab);
    if (value->ctx != s->ctx)
        return err_set(&s->err, DAMO_ERR_INVALID,
                       "set_value of %s: the value belongs to another context", lab);
    if (gtype_check(&s->type, value->dtype, value->ndim, value->shape, 1, "set_value of", lab,
                    &s->err) != DAMO_OK)
        return s->err.code;
    damo_array_retain(value);
    damo_array_release(s->value);
    s->value = value;
    return DAMO_OK;
}

static damo_status get_scalar(damo_shared *s, damo_dtype to, hval *out, const void *dst)
{
    if (!s || !dst)
        return err_set(s ? &s->err : NULL, DAMO_ERR_INVALID, "shared_get: %s is NULL",
                       s ? "out" : "shared variable");
    char lab[300];
    if (s->value->ndim != 0)
        return err_set(&s->err, DAMO_ERR_SHAPE, "shared_get of %s: the value is not 0-d",
                       label_of(s, lab, sizeof lab));
    const void *base = array_host_read(s->value, &s->err);
    if (!base)
        return s->err.code;
    *out = hval_convert(s->value->dtype, to, array_host_elem(s->value, base, 0));
    return DAMO_OK;
}

damo_status damo_shared_get_f64(damo_shared *s, double *out)
{
    hval v;
    damo_status st = get_scalar(s, DAMO_FLOAT64, &v, out);
    if (st == DAMO_OK)
        *out = v.f64;
    return st;
}

damo_status damo_shared_get_i64(damo_shared *s, int64_t *out)
{
    hval v;
    damo_status st = get_scalar(s, DAMO_INT64, &v, out);
    if (st == DAMO_OK)
        *out = v.i;
    return st;
}

damo_var *damo_constant(damo_graph *g, damo_array *value)
{
    if (!g)
        return err_set(NULL, DAMO_ERR_INVALID, "constant: graph is NULL"), NULL;
    if (!value)
        return err_set(&g->err, DAMO_ERR_INVALID, "constant: value is NULL"), NULL;
    if (value->ctx != g->ctx)
        return err_set(&g->err, DAMO_ERR_INVALID, "constant: the array belongs to another context"),
               NULL;
    void *buf = malloc((size_t)array_size(value) * damo_dtype_size(value->dtype) + 1);
    if (!buf)
        return err_set(&g->err, DAMO_ERR_NOMEM, "out of memory for a constant"), NULL;
    damo_var *v = NULL;
    if (damo_array_read(value, buf) != DAMO_OK)
        err_copy(&g->err, &value->ctx->err);
    else
        v = graph_const(g, value->dtype, value->ndim, value->shape, buf, WEAK_NONE);
    free(buf);
    return v;
}
