#include <stdlib.h>
#include <string.h>

#include "../common/hash.h"
#include "rewrite.h"

struct merge_table {
    damo_var **slots;
    size_t cap, n;
};

merge_table *merge_new(size_t expected)
{
    merge_table *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->cap = 64;
    while (m->cap < expected * 2)
        m->cap *= 2;
    m->slots = calloc(m->cap, sizeof *m->slots);
    if (!m->slots) {
        free(m);
        return NULL;
    }
    return m;
}

void merge_free(merge_table *m)
{
    if (m)
        free(m->slots);
    free(m);
}

static uint64_t key_apply(scalar_op op, damo_dtype out, int n, damo_var *const *in)
{
    uint64_t h = hash_u64(HASH_SEED, (uint64_t)op * 31 + (uint64_t)out);
    for (int i = 0; i < n; i++)
        h = hash_u64(h, in[i]->id);
    return h;
}

static uint64_t key_of(const damo_var *v)
{
    if (v->kind == VAR_APPLY)
        return key_apply(v->op, v->type.dtype, v->n_in, v->in);
    uint64_t h = hash_u64(HASH_SEED ^ 0x5bd1e995, (uint64_t)v->type.dtype * 8 + v->weak);
    h = hash_bytes(h, v->type.shape, (size_t)v->type.ndim * sizeof v->type.shape[0]);
    return hash_bytes(h, v->data,
                      (size_t)gtype_static_size(&v->type) * damo_dtype_size(v->type.dtype));
}

static int same_apply(const damo_var *v, scalar_op op, damo_dtype out, int n, damo_var *const *in)
{
    if (v->kind != VAR_APPLY || v->op != op || v->type.dtype != out || v->n_in != n)
        return 0;
    for (int i = 0; i < n; i++)
        if (v->in[i] != in[i])
            return 0;
    return 1;
}

static int same_const(const damo_var *a, const damo_var *b)
{
    if (b->kind != VAR_CONST || a->type.dtype != b->type.dtype || a->weak != b->weak ||
        a->type.ndim != b->type.ndim)
        return 0;
    for (int d = 0; d < a->type.ndim; d++)
        if (a->type.shape[d] != b->type.shape[d])
            return 0;
    return !memcmp(a->data, b->data,
                   (size_t)gtype_static_size(&a->type) * damo_dtype_size(a->type.dtype));
}

static int grow(merge_table *m)
{
    size_t cap = m->cap * 2;
    damo_var **slots = calloc(cap, sizeof *slots);
    if (!slots)
        return 0;
    for (size_t i = 0; i < m->cap; i++) {
        damo_var *v = m->slots[i];
        if (!v)
            continue;
        size_t j = key_of(v) & (cap - 1);
        while (slots[j])
            j = (j + 1) & (cap - 1);
        slots[j] = v;
    }
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return 1;
}

damo_var *merge_find_apply(merge_table *m, scalar_op op, damo_dtype out, int n,
                           damo_var *const *in)
{
    for (size_t j = key_apply(op, out, n, in) & (m->cap - 1); m->slots[j]; j = (j + 1) & (m->cap - 1))
        if (same_apply(m->slots[j], op, out, n, in))
            return m->slots[j];
    return NULL;
}

damo_var *merge_intern(merge_table *m, damo_var *v)
{
    if (v->kind != VAR_APPLY && v->kind != VAR_CONST)
        return v;
    if ((m->n + 1) * 2 > m->cap && !grow(m))
        return NULL;
    size_t j = key_of(v) & (m->cap - 1);
    for (; m->slots[j]; j = (j + 1) & (m->cap - 1)) {
        damo_var *w = m->slots[j];
        if (v->kind == VAR_APPLY ? same_apply(w, v->op, v->type.dtype, v->n_in, v->in)
                                 : same_const(v, w))
            return w;
    }
    m->slots[j] = v;
    m->n++;
    return v;
}
