/* The rewrite engine: every node goes through the rules (rules.c) until no
 * rule changes anything. A rule that replaces a node's outputs queues the
 * nodes that read them, so work follows the changes and a graph of n
 * nodes costs O(n) rule visits plus what the changes add. Merging
 * (hash-consing of constants and of nodes with equal op, params and
 * inputs) is a rule like the others, with its tables kept here. */
#include <stdlib.h>
#include <string.h>

#include "../common/hash.h"
#include "rules.h"

/* A table holds gnode* (nodes) or damo_var* (constants). */
typedef struct rw_tables rw_merge;

static uint64_t node_key(const gnode *n)
{
    uint64_t h = hash_u64(HASH_SEED, (uint64_t)n->op * 131 + (uint64_t)n->n_in);
    h = hash_bytes(h, &n->params, sizeof n->params);
    for (int k = 0; k < n->n_in; k++)
        h = hash_u64(h, n->in[k]->id);
    return h;
}

static int same_node(const gnode *a, const gnode *b)
{
    if (a->op != b->op || a->n_in != b->n_in || a->n_out != b->n_out ||
        memcmp(&a->params, &b->params, sizeof a->params))
        return 0;
    for (int k = 0; k < a->n_in; k++)
        if (a->in[k] != b->in[k])
            return 0;
    return 1;
}

static size_t const_bytes(const damo_var *v)
{
    return (size_t)gtype_static_size(&v->type) * damo_dtype_size(v->type.dtype);
}

static uint64_t const_key(const damo_var *v)
{
    uint64_t h = hash_u64(HASH_SEED ^ 0x5bd1e995, (uint64_t)v->type.dtype * 8 + v->weak);
    h = hash_bytes(h, v->type.shape, (size_t)v->type.ndim * sizeof v->type.shape[0]);
    return hash_bytes(h, v->data, const_bytes(v));
}

static int same_const(const damo_var *a, const damo_var *b)
{
    return a->type.dtype == b->type.dtype && a->weak == b->weak && a->type.ndim == b->type.ndim &&
           !memcmp(a->type.shape, b->type.shape, (size_t)a->type.ndim * sizeof a->type.shape[0]) &&
           !memcmp(a->data, b->data, const_bytes(a));
}

/* Open addressing; keys are recomputed from the items, so an item whose
 * inputs changed since it was recorded is merely found under a stale key
 * and compared by its current content. */
static int table_grow(rw_merge *m, int consts)
{
    size_t cap = m->cap ? 2 * m->cap : 256;
    void **slots = calloc(cap, sizeof *slots);
    if (!slots)
        return 0;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->slots[i])
            continue;
        uint64_t k = consts ? const_key(m->slots[i]) : node_key(m->slots[i]);
        size_t j = k & (cap - 1);
        while (slots[j])
            j = (j + 1) & (cap - 1);
        slots[j] = m->slots[i];
    }
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return 1;
}

/* The item equal to `item` already recorded, else records item and
 * returns it; NULL when out of memory. Nodes replaced since they were
 * recorded are passed over (fg given). */
static void *intern(rw_merge *m, void *item, int consts, const fgraph *fg)
{
    if ((m->n + 1) * 2 > m->cap && !table_grow(m, consts))
        return NULL;
    uint64_t k = consts ? const_key(item) : node_key(item);
    size_t j = k & (m->cap - 1);
    for (; m->slots[j]; j = (j + 1) & (m->cap - 1)) {
        void *w = m->slots[j];
        if (w == item || (consts ? same_const(item, w)
                                 : same_node(item, w) && !fg_unused(fg, w)))
            return w;
    }
    m->slots[j] = item;
    m->n++;
    return item;
}

damo_var *rw_const(rw_ctx *c, damo_var *v)
{
    damo_var *w = intern(&c->consts, v, 1, c->fg);
    if (!w)
        err_set(c->e, DAMO_ERR_NOMEM, "out of memory merging constants");
    return w;
}

/* Merge: a node equal to one seen before is replaced by it. */
static int rule_merge(rw_ctx *c, gnode *n)
{
    if (op_info_of(n->op)->flags & OPF_IMPURE)
        return 0;
    gnode *w = intern(&c->nodes, n, 0, c->fg);
    if (!w) {
        err_set(c->e, DAMO_ERR_NOMEM, "out of memory merging the graph");
        return -1;
    }
    if (w == n)
        return 0;
    for (int o = 0; o < n->n_out; o++)
        fg_replace(c->fg, n->out[o], w->out[o]);
    return 1;
}

damo_status rewrite_run(fgraph *fg, damo_err *e)
{
    rw_ctx c = {fg, {0, 0, 0}, {0, 0, 0}, e};
    err_clear(e);
    /* identical constants become one first, so that nodes reading them
     * compare equal */
    damo_graph *g = fg->g;
    for (size_t i = 0; i < g->n && e->code == DAMO_OK; i++) {
        damo_var *v = g->vars[i];
        if (v->kind != VAR_CONST)
            continue;
        damo_var *w = rw_const(&c, v);
        if (w && w != v)
            fg_replace(fg, v, w);
    }
    gnode *n;
    while (e->code == DAMO_OK && (n = fg_dequeue(fg))) {
        if (fg_unused(fg, n))
            continue;
        int r = rule_merge(&c, n);
        for (size_t i = 0; r == 0 && i < rw_n_rules; i++)
            if (rw_rules[i].op == OP_COUNT || rw_rules[i].op == n->op)
                r = rw_rules[i].fn(&c, n);
        if (r < 0 && e->code == DAMO_OK)
            err_copy(e, &g->err);
    }
    free(c.nodes.slots);
    free(c.consts.slots);
    return e->code;
}
