/* Running a plan: bind values, run each step by its class, then hand out
 * outputs and commit updates, only once every step has succeeded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile.h"

damo_array *plan_output(plan *p, int v, int nd, const int64_t *shape, damo_err *e)
{
    pvalue *pv = &p->vals[v];
    if (pv->kind == VAL_INTO)
        return p->cur[v] = plan_output(p, pv->index, nd, shape, e);
    damo_array *a = pv->arr;
    size_t esize = damo_dtype_size(pv->var->type.dtype);
    int64_t n = 1;
    for (int d = 0; d < nd; d++)
        n *= shape[d];
    if (pv->kind == VAL_TEMP) {
        int64_t stride = 1;
        for (int d = nd - 1; d >= 0; d--) {
            a->shape[d] = shape[d];
            a->strides[d] = stride;
            stride *= shape[d];
        }
        a->offset = 0;
        storage_resize(a->st, (size_t)n * esize);
        return p->cur[v] = a;
    }
    if (!(a && a->refcount == 1 && a->st->refcount == 1 && a->ndim == nd &&
          !memcmp(a->shape, shape, (size_t)nd * sizeof *shape))) {
        damo_array_release(a);
        a = pv->arr = array_new(p->ctx, pv->var->type.dtype, nd, shape, e);
    }
    return p->cur[v] = a;
}

damo_array *plan_view(plan *p, int v, storage *st, const layout *l, damo_err *e)
{
    pvalue *pv = &p->vals[v];
    damo_array *a = pv->arr;
    if (!a) {
        if (!(a = calloc(1, sizeof *a))) {
            err_set(e, DAMO_ERR_NOMEM, "out of memory for a view");
            return NULL;
        }
        a->refcount = 1;
        a->ctx = p->ctx;
        a->dtype = pv->var->type.dtype;
        pv->arr = a;
    }
    st->refcount++;
    storage_release(a->st);
    a->st = st;
    a->ndim = l->ndim;
    memcpy(a->shape, l->shape, (size_t)l->ndim * sizeof *a->shape);
    memcpy(a->strides, l->strides, (size_t)l->ndim * sizeof *a->strides);
    a->offset = l->offset;
    return p->cur[v] = a;
}

/* At the end of a call a view lets go of the memory it shares, so that a
 * reused result is not held by the plan itself; a view an outside holder
 * keeps is left to it. */
static void detach_views(plan *p)
{
    for (size_t v = 0; v < p->n_vals; v++) {
        pvalue *pv = &p->vals[v];
        if (pv->kind != VAL_VIEW || !pv->arr)
            continue;
        if (pv->arr->refcount > 1) {
            damo_array_release(pv->arr);
            pv->arr = NULL;
        } else {
            storage_release(pv->arr->st);
            pv->arr->st = NULL;
        }
    }
}

storage *plan_private(plan *p, pstep *s, int i, size_t bytes, damo_err *e)
{
    storage *st = s->priv[i];
    if (st && st->refcount > 1) {
        storage_release(st);
        st = s->priv[i] = NULL;
    }
    if (!st && !(st = s->priv[i] = storage_new(p->ctx, bytes))) {
        err_set(e, DAMO_ERR_NOMEM, "out of memory for a step's buffer");
        return NULL;
    }
    storage_resize(st, bytes);
    return st;
}

/* Update values go to the shared variables only now, all computed. Each
 * new value is taken before any old one is dropped, so updates may permute
 * shared values freely. An old value nobody else holds becomes the plan's
 * array for the next call's value: a training loop ping-pongs between two
 * arrays and allocates nothing. */
static void commit(plan *p)
{
    size_t base = p->n_outputs;
    for (size_t u = 0; u < p->n_updates; u++)
        damo_array_retain(p->cur[p->result_val[base + u]]);
    for (size_t u = 0; u < p->n_updates; u++) {
        p->old[u] = p->targets[u]->value;
        p->targets[u]->value = p->cur[p->result_val[base + u]];
    }
    for (size_t u = 0; u < p->n_updates; u++) {
        pvalue *pv = &p->vals[p->result_val[base + u]];
        damo_array *old = p->old[u];
        if (pv->kind == VAL_RESULT && pv->arr == p->targets[u]->value && old &&
            old->refcount == 1 && old->st->refcount == 1 && old->dtype == pv->arr->dtype) {
            damo_array_release(pv->arr);
            pv->arr = old;
        } else {
            damo_array_release(old);
        }
        p->old[u] = NULL;
    }
}

const char *plan_update_how(const plan *p, size_t u)
{
    /* as commit() applies it: never into the shared value's memory */
    switch (p->vals[p->result_val[p->n_outputs + u]].kind) {
    case VAL_RESULT:
        return "computed into a buffer of its own, swapped in after the call (copy-then-swap; "
               "the old buffer is reused next call when nobody holds it)";
    case VAL_VIEW:
        return "a view of another value, swapped in after the call";
    default:
        return "an existing value, swapped in after the call (nothing computed)";
    }
}

damo_status plan_run(plan *p, damo_array *const *inputs, damo_array **outputs, damo_err *e)
{
    for (size_t v = 0; v < p->n_vals; v++) {
        const pvalue *pv = &p->vals[v];
        p->cur[v] = pv->kind == VAL_CONST ? pv->arr
                    : pv->kind == VAL_SHARED ? p->stores[pv->index]->value : NULL;
    }
    for (size_t i = 0; i < p->n_inputs; i++)
        if (p->input_val[i] >= 0)
            p->cur[p->input_val[i]] = inputs[i];
    damo_status st = DAMO_OK;
    p->on_device = 0;
    if (p->prof)
        prof_call_begin(p);
    for (size_t i = 0; i < p->n_steps && st == DAMO_OK; i++)
        st = p->prof ? prof_step_run(p, i, e) : p->steps[i].cls->run(p, &p->steps[i], e);
    for (size_t u = 0; u < p->n_updates && st == DAMO_OK; u++) {
        const damo_array *a = p->cur[p->result_val[p->n_outputs + u]];
        char lab[300];
        if (gtype_accepts(&p->targets[u]->type, a->dtype, a->ndim, a->shape, 1))
            continue;
        snprintf(lab, sizeof lab, "'%s' (its new value)",
                 p->targets[u]->name ? p->targets[u]->name : "<unnamed shared>");
        st = gtype_check(&p->targets[u]->type, a->dtype, a->ndim, a->shape, 1, "update of", lab, e);
    }
    /* queued work starts now rather than at the next wait */
    if (p->on_device && st == DAMO_OK)
        st = rt_flush(&p->ctx->rt, e);
    if (st == DAMO_OK) {
        for (size_t o = 0; outputs && o < p->n_outputs; o++)
            outputs[o] = damo_array_retain(p->cur[p->result_val[o]]);
        commit(p);
    }
    for (size_t v = 0; v < p->n_vals; v++)
        p->cur[v] = NULL;
    detach_views(p);
    if (p->prof)
        prof_call_end(p);
    return st;
}
