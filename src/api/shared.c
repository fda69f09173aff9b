/* Shared variables (values that persist across calls) and array constants:
 * the graph builders that need arrays. */
#include <stdlib.h>
#include <string.h>

#include "api.h"

damo_var *damo_shared(damo_graph *g, damo_array *value, const char *name,
                      const int64_t *static_shape)
{
    if (!g)
        return NULL;
    if (!value) {
        err_set(&g->err, DAMO_ERR_INVALID, "shared %s: value is NULL", name ? name : "");
        return NULL;
    }
    gtype t = {value->dtype, value->ndim, {0}};
    for (int d = 0; d < value->ndim; d++) {
        t.shape[d] = static_shape ? static_shape[d] : DAMO_DIM_UNKNOWN;
        if (t.shape[d] != DAMO_DIM_UNKNOWN && t.shape[d] != value->shape[d]) {
            err_set(&g->err, DAMO_ERR_SHAPE,
                    "shared %s: static size %lld of dimension %d does not match the value's %lld",
                    name ? name : "", (long long)t.shape[d], d, (long long)value->shape[d]);
            return NULL;
        }
    }
    shared_store *s = calloc(1, sizeof *s);
    if (!s) {
        err_set(&g->err, DAMO_ERR_NOMEM, "out of memory creating a shared variable");
        return NULL;
    }
    *s = (shared_store){0, g->ctx, t, damo_array_retain(value)};
    damo_var *v = graph_shared(g, s, &t, name);
    if (!v) {
        damo_array_release(value);
        free(s);
    }
    return v;
}

static damo_var *shared_number(damo_graph *g, damo_dtype t, const void *value, const char *name)
{
    if (!g)
        return NULL;
    damo_array *a = damo_array_from_data(g->ctx, t, 0, NULL, value);
    if (!a) {
        err_copy(&g->err, &((damo_ctx *)g->ctx)->err);
        return NULL;
    }
    damo_var *v = damo_shared(g, a, name, NULL);
    damo_array_release(a);
    return v;
}

damo_var *damo_shared_int(damo_graph *g, int64_t value, const char *name)
{
    return shared_number(g, DAMO_INT64, &value, name);
}

damo_var *damo_shared_float(damo_graph *g, double value, const char *name)
{
    return shared_number(g, DAMO_FLOAT64, &value, name);
}

static shared_store *store_of(damo_var *v)
{
    if (!v)
        return NULL;
    if (v->kind != VAR_SHARED) {
        char lab[256];
        err_set(&v->g->err, DAMO_ERR_INVALID, "%s is not a shared variable",
                var_label(v, lab, sizeof lab));
        return NULL;
    }
    return v->store;
}

/* Values are never changed in place by updates (a call swaps in the new
 * value), so handing out a reference is as safe as a copy. */
damo_array *damo_shared_get_value(damo_var *v)
{
    shared_store *s = store_of(v);
    return s ? damo_array_retain(s->value) : NULL;
}

damo_status damo_shared_get_f64(damo_var *v, double *out)
{
    shared_store *s = store_of(v);
    if (!s)
        return v ? v->g->err.code : DAMO_ERR_INVALID;
    if (damo_array_size(s->value) != 1 || s->value->ndim != 0)
        return err_set(&v->g->err, DAMO_ERR_SHAPE, "shared_get_f64: the value is not 0-d");
    if (damo_array_get_f64(s->value, 0, out) != DAMO_OK)
        return err_copy(&v->g->err, &s->ctx->err);
    return DAMO_OK;
}

damo_status damo_shared_set_value(damo_var *v, damo_array *value)
{
    shared_store *s = store_of(v);
    if (!s)
        return v ? v->g->err.code : DAMO_ERR_INVALID;
    char lab[256];
    var_label(v, lab, sizeof lab);
    if (!value)
        return err_set(&v->g->err, DAMO_ERR_INVALID, "set_value of %s: value is NULL", lab);
    if (value->dtype != s->type.dtype)
        return err_set(&v->g->err, DAMO_ERR_TYPE, "set_value of %s: expected %s, got %s", lab,
                       damo_dtype_name(s->type.dtype), damo_dtype_name(value->dtype));
    if (value->ndim != s->type.ndim)
        return err_set(&v->g->err, DAMO_ERR_SHAPE, "set_value of %s: expected %d dimensions, got %d",
                       lab, s->type.ndim, value->ndim);
    for (int d = 0; d < value->ndim; d++)
        if (s->type.shape[d] != DAMO_DIM_UNKNOWN && s->type.shape[d] != value->shape[d])
            return err_set(&v->g->err, DAMO_ERR_SHAPE,
                           "set_value of %s: dimension %d must be %lld, got %lld", lab, d,
                           (long long)s->type.shape[d], (long long)value->shape[d]);
    damo_array_retain(value);
    damo_array_release(s->value);
    s->value = value;
    return DAMO_OK;
}

damo_var *damo_constant(damo_graph *g, damo_array *value)
{
    if (!g)
        return NULL;
    if (!value) {
        err_set(&g->err, DAMO_ERR_INVALID, "constant: value is NULL");
        return NULL;
    }
    int64_t n = damo_array_size(value);
    void *buf = malloc((size_t)n * damo_dtype_size(value->dtype) + 1);
    if (!buf) {
        err_set(&g->err, DAMO_ERR_NOMEM, "out of memory for a constant");
        return NULL;
    }
    damo_var *v = NULL;
    if (damo_array_read(value, buf) != DAMO_OK)
        err_copy(&g->err, &value->ctx->err);
    else
        v = graph_const(g, value->dtype, value->ndim, value->shape, buf, WEAK_NONE);
    free(buf);
    return v;
}
