/* The function graph: an iterative clone of what the outputs and updates
 * need, with givens applied, plus the bookkeeping rewrites need (clients
 * of every variable, a worklist of nodes to look at). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/grow.h"
#include "rewrite.h"

typedef struct frame {
    damo_var *v;
    int state;  /* 0: first visit; 1: its dependencies are done */
} frame;

typedef struct cloner {
    damo_graph *src, *dst;
    damo_var **memo;      /* src id -> clone */
    unsigned char *busy;  /* src id -> its given's replacement is being cloned */
    size_t *given;        /* src id -> 1 + index of its given, or 0 */
    const fgraph_spec *spec;
    frame *stack;
    size_t sp, cap;
    damo_err *e;
} cloner;

static int push(cloner *c, damo_var *v)
{
    if (!grow_array((void **)&c->stack, &c->cap, c->sp + 1, sizeof *c->stack)) {
        err_set(c->e, DAMO_ERR_NOMEM, "out of memory cloning the graph");
        return 0;
    }
    c->stack[c->sp++] = (frame){v, 0};
    return 1;
}

/* The clone of node n, whose inputs are all cloned: types are inferred
 * again, since a given may fix a size that was unknown. */
static int clone_node(cloner *c, const gnode *n)
{
    damo_var *small[4], **ins = n->n_in <= 4 ? small : malloc((size_t)n->n_in * sizeof *ins);
    if (!ins) {
        err_set(c->e, DAMO_ERR_NOMEM, "out of memory cloning the graph");
        return 0;
    }
    for (int k = 0; k < n->n_in; k++)
        ins[k] = c->memo[n->in[k]->id];
    gnode *m = graph_apply_node(c->dst, n->op, &n->params, ins, n->n_in);
    if (ins != small)
        free(ins);
    if (!m) {
        err_copy(c->e, &c->dst->err);
        return 0;
    }
    for (int o = 0; o < n->n_out; o++) {
        c->memo[n->out[o]->id] = m->out[o];
        if (n->out[o]->name && !damo_var_set_name(m->out[o], n->out[o]->name)->name)
            return err_copy(c->e, &c->dst->err), 0;
    }
    return 1;
}

/* Clones root and everything it depends on, depth first with an explicit
 * stack. */
static damo_var *clone(cloner *c, damo_var *root)
{
    char lab[256];
    c->sp = 0;
    if (!push(c, root))
        return NULL;
    while (c->sp) {
        frame *f = &c->stack[c->sp - 1];
        damo_var *v = f->v, *w = NULL;
        if (c->memo[v->id]) {
            c->sp--;
            continue;
        }
        if (c->given[v->id]) {
            damo_var *with = c->spec->given_with[c->given[v->id] - 1];
            if (f->state == 0) {
                if (c->busy[v->id]) {
                    err_set(c->e, DAMO_ERR_INVALID,
                            "givens: the replacement of %s depends on %s itself",
                            var_label(v, lab, sizeof lab), lab);
                    return NULL;
                }
                c->busy[v->id] = 1;
                f->state = 1;
                if (!push(c, with))
                    return NULL;
                continue;
            }
            c->busy[v->id] = 0;
            c->memo[v->id] = c->memo[with->id];
            c->sp--;
            continue;
        }
        switch (v->kind) {
        case VAR_INPUT:
            err_set(c->e, DAMO_ERR_INVALID,
                    "an output needs input %s, which is neither an input of the function nor "
                    "replaced by a given", var_label(v, lab, sizeof lab));
            return NULL;
        case VAR_CONST:
            w = graph_const(c->dst, v->type.dtype, v->type.ndim, v->type.shape, v->data, v->weak);
            break;
        case VAR_SHARED:
            w = graph_shared(c->dst, v->store, &v->type, v->name);
            break;
        case VAR_APPLY:
            if (f->state == 0) {
                f->state = 1;
                const gnode *n = v->node;
                for (int k = n->n_in - 1; k >= 0; k--)
                    if (!c->memo[n->in[k]->id] && !push(c, n->in[k]))
                        return NULL;
                continue;
            }
            if (!clone_node(c, v->node))
                return NULL;
            c->sp--;
            continue;
        }
        if (!w) {
            err_copy(c->e, &c->dst->err);
            return NULL;
        }
        c->memo[v->id] = w;
        c->sp--;
    }
    return c->memo[root->id];
}

static int add_client(fgraph *fg, damo_var *v, gnode *n)
{
    if (!grow_array((void **)&fg->clients, &fg->cap_clients, (size_t)v->id + 1, sizeof *fg->clients))
        return 0;
    fg_clients *c = &fg->clients[v->id];
    if (!grow_array((void **)&c->nodes, &c->cap, c->n + 1, sizeof *c->nodes))
        return 0;
    c->nodes[c->n++] = n;
    return 1;
}

static int enqueue(fgraph *fg, gnode *n)
{
    if (!grow_array((void **)&fg->queued, &fg->cap_queued, (size_t)n->id + 1, 1))
        return 0;
    if (fg->queued[n->id])
        return 1;
    if (fg->q_len == fg->q_cap) {
        size_t cap = fg->q_cap ? 2 * fg->q_cap : 256;
        gnode **q = malloc(cap * sizeof *q);
        if (!q)
            return 0;
        for (size_t i = 0; i < fg->q_len; i++)
            q[i] = fg->queue[(fg->q_head + i) % fg->q_cap];
        free(fg->queue);
        fg->queue = q;
        fg->q_head = 0;
        fg->q_cap = cap;
    }
    fg->queue[(fg->q_head + fg->q_len++) % fg->q_cap] = n;
    fg->queued[n->id] = 1;
    return 1;
}

gnode *fg_dequeue(fgraph *fg)
{
    if (!fg->q_len)
        return NULL;
    gnode *n = fg->queue[fg->q_head];
    fg->q_head = (fg->q_head + 1) % fg->q_cap;
    fg->q_len--;
    fg->queued[n->id] = 0;
    return n;
}

int fg_requeue(fgraph *fg, gnode *n) { return enqueue(fg, n); }

int fg_adopt(fgraph *fg, gnode *n)
{
    for (int k = 0; k < n->n_in; k++)
        if (!add_client(fg, n->in[k], n))
            goto oom;
    if (enqueue(fg, n))
        return 1;
oom:
    err_set(&fg->g->err, DAMO_ERR_NOMEM, "out of memory rewriting the graph");
    return 0;
}

void fg_replace(fgraph *fg, damo_var *old, damo_var *with)
{
    /* out of memory below only leaves a client off a list: the graph stays
     * correct, a later rule may just not see that node again */
    fg_clients taken = {0};
    if (old->id < fg->cap_clients) {
        taken = fg->clients[old->id];
        memset(&fg->clients[old->id], 0, sizeof taken);
    }
    for (size_t i = 0; i < taken.n; i++) {
        gnode *c = taken.nodes[i];
        int hit = 0;
        for (int k = 0; k < c->n_in; k++)
            if (c->in[k] == old) {
                c->in[k] = with;
                hit = 1;
            }
        if (hit && add_client(fg, with, c))
            enqueue(fg, c);
    }
    free(taken.nodes);
    for (size_t i = 0; i < fg->n_outputs + fg->n_updates; i++)
        if (fg->outputs[i] == old)
            fg->outputs[i] = with;
}

const fg_clients *fg_clients_of(const fgraph *fg, const damo_var *v)
{
    static const fg_clients none = {0};
    return v->id < fg->cap_clients ? &fg->clients[v->id] : &none;
}

int fg_is_output(const fgraph *fg, const damo_var *v)
{
    for (size_t i = 0; i < fg->n_outputs + fg->n_updates; i++)
        if (fg->outputs[i] == v)
            return 1;
    return 0;
}

int fg_unused(const fgraph *fg, const gnode *n)
{
    for (int o = 0; o < n->n_out; o++)
        if (fg_clients_of(fg, n->out[o])->n || fg_is_output(fg, n->out[o]))
            return 0;
    return 1;
}

damo_status fg_live_nodes(const fgraph *fg, damo_var *const *roots, size_t n_roots,
                          gnode ***out, size_t *n_out, damo_err *e)
{
    size_t nn = fg->g->n_nodes ? fg->g->n_nodes : 1, n = 0, sp = 0;
    gnode **order = malloc(nn * sizeof *order);
    unsigned char *seen = calloc(nn, 1);
    /* (node, next input to visit) */
    struct { gnode *n; int k; } *stack = malloc(nn * sizeof *stack);
    if (!order || !seen || !stack) {
        free(order);
        free(seen);
        free(stack);
        return err_set(e, DAMO_ERR_NOMEM, "out of memory ordering the graph");
    }
    for (size_t i = 0; i < n_roots; i++) {
        const damo_var *root = roots[i];
        if (root->kind != VAR_APPLY || seen[root->node->id])
            continue;
        seen[root->node->id] = 1;
        stack[sp].n = root->node;
        stack[sp++].k = 0;
        while (sp) {
            gnode *nd = stack[sp - 1].n;
            int k = stack[sp - 1].k++;
            if (k == nd->n_in) {
                order[n++] = nd;
                sp--;
                continue;
            }
            const damo_var *u = nd->in[k];
            if (u->kind == VAR_APPLY && !seen[u->node->id]) {
                seen[u->node->id] = 1;
                stack[sp].n = u->node;
                stack[sp++].k = 0;
            }
        }
    }
    free(seen);
    free(stack);
    *out = order;
    *n_out = n;
    return DAMO_OK;
}

/* A given must hold the same kind of values: the same dtype and rank, and
 * no static size that contradicts the replaced variable's. */
static damo_status check_given(damo_var *var, damo_var *with, damo_graph *src, damo_err *e)
{
    char a[256], b[256], c[300];
    if (!var || !with)
        return err_set(e, DAMO_ERR_INVALID, "givens: NULL variable or replacement");
    if (var->g != src || with->g != src)
        return err_set(e, DAMO_ERR_INVALID, "givens: %s or its replacement belongs to another graph",
                       var_label(var, a, sizeof a));
    snprintf(c, sizeof c, "%s replaced by %s", var_label(var, a, sizeof a),
             var_label(with, b, sizeof b));
    return gtype_check(&var->type, with->type.dtype, with->type.ndim, with->type.shape, 1,
                       "givens:", c, e);
}

static damo_status setup(fgraph *fg, cloner *c, damo_graph *src, const fgraph_spec *spec)
{
    size_t n_src = src->n ? src->n : 1, n_out = spec->n_outputs + spec->n_updates;
    c->memo = calloc(n_src, sizeof *c->memo);
    c->busy = calloc(n_src, 1);
    c->given = calloc(n_src, sizeof *c->given);
    fg->inputs = calloc(spec->n_inputs ? spec->n_inputs : 1, sizeof *fg->inputs);
    fg->outputs = calloc(n_out ? n_out : 1, sizeof *fg->outputs);
    fg->update_stores = calloc(spec->n_updates ? spec->n_updates : 1, sizeof *fg->update_stores);
    if (!c->memo || !c->busy || !c->given || !fg->inputs || !fg->outputs || !fg->update_stores ||
        !(fg->g = c->dst = graph_create(src->ctx, src->store_retain, src->store_release)))
        return err_set(c->e, DAMO_ERR_NOMEM, "out of memory cloning the graph");
    for (size_t i = 0; i < spec->n_givens; i++) {
        if (check_given(spec->given_vars[i], spec->given_with[i], src, c->e) != DAMO_OK)
            return c->e->code;
        c->given[spec->given_vars[i]->id] = i + 1;
    }
    return DAMO_OK;
}

damo_status fgraph_build(fgraph **out, damo_graph *src, const fgraph_spec *spec, damo_err *e)
{
    *out = NULL;
    fgraph *fg = calloc(1, sizeof *fg);
    cloner c = {.src = src, .spec = spec, .e = e};
    err_clear(e);
    if (!fg) {
        err_set(e, DAMO_ERR_NOMEM, "out of memory cloning the graph");
        goto done;
    }
    fg->refcount = 1;
    if (setup(fg, &c, src, spec) != DAMO_OK)
        goto done;
    for (size_t i = 0; i < spec->n_inputs; i++) {
        damo_var *v = spec->inputs[i];
        if (!(fg->inputs[i] = c.memo[v->id] = graph_add_var(c.dst, VAR_INPUT, &v->type, v->name))) {
            err_copy(e, &c.dst->err);
            goto done;
        }
        fg->n_inputs++;
    }
    for (size_t i = 0; i < spec->n_outputs + spec->n_updates; i++) {
        damo_var *v = i < spec->n_outputs ? spec->outputs[i] : spec->updates[i - spec->n_outputs].expr;
        if (!(fg->outputs[i] = clone(&c, v)))
            goto done;
        if (i >= spec->n_outputs && v->type.dtype != spec->updates[i - spec->n_outputs].dtype) {
            op_params cast = {0};
            cast.dtype = spec->updates[i - spec->n_outputs].dtype;
            if (!(fg->outputs[i] = graph_apply(c.dst, OP_CAST, &cast, &fg->outputs[i], 1))) {
                err_copy(e, &c.dst->err);
                goto done;
            }
        }
    }
    fg->n_outputs = spec->n_outputs;
    for (size_t i = 0; i < spec->n_updates; i++) {
        fg->update_stores[i] = spec->updates[i].store;
        src->store_retain(spec->updates[i].store);
        fg->n_updates++;
    }
    for (size_t i = 0; i < c.dst->n_nodes && e->code == DAMO_OK; i++)
        if (!fg_adopt(fg, c.dst->nodes[i]))
            err_copy(e, &c.dst->err);
done:
    free(c.memo);
    free(c.busy);
    free(c.given);
    free(c.stack);
    if (e->code != DAMO_OK) {
        fgraph_release(fg);
        return e->code;
    }
    *out = fg;
    return DAMO_OK;
}

void fgraph_seal(fgraph *fg)
{
    for (size_t i = 0; i < fg->cap_clients; i++)
        free(fg->clients[i].nodes);
    free(fg->clients);
    free(fg->queue);
    free(fg->queued);
    fg->clients = NULL;
    fg->queue = NULL;
    fg->queued = NULL;
    fg->cap_clients = fg->q_cap = fg->q_len = fg->q_head = fg->cap_queued = 0;
}

fgraph *fgraph_retain(fgraph *fg)
{
    if (fg)
        fg->refcount++;
    return fg;
}

void fgraph_release(fgraph *fg)
{
    if (!fg || --fg->refcount > 0)
        return;
    fgraph_seal(fg);
    for (size_t i = 0; fg->g && i < fg->n_updates; i++)
        fg->g->store_release(fg->update_stores[i]);
    damo_graph_free(fg->g);
    free(fg->inputs);
    free(fg->outputs);
    free(fg->update_stores);
    free(fg);
}
