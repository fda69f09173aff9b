/* Building a plan from a final function graph: the value table, one step
 * per node (its class by op), temp slots by liveness over the values views
 * share, and each step's build. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/grow.h"
#include "../common/strbuf.h"
#include "profile.h"

static shared_store *swapped(shared_store *s, shared_store *const *from, shared_store *const *to,
                             size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (from[i] == s)
            return to[i];
    return s;
}

/* A constant's array, on the host. */
static damo_array *const_array(damo_ctx *ctx, const damo_var *v, damo_err *e)
{
    damo_array *a = array_new(ctx, v->type.dtype, v->type.ndim, v->type.shape, e);
    void *dst = a ? array_host_write(a, e) : NULL;
    if (a && !dst) {
        damo_array_release(a);
        return NULL;
    }
    if (a && a->st->bytes)
        memcpy(dst, v->data, a->st->bytes);
    return a;
}

typedef struct builder {
    plan *p;
    int *val_of;      /* var id -> value index, or -1 */
    size_t cap_vals, cap_stores;
    shared_store *const *swap_from, *const *swap_to;
    size_t n_swaps;
    damo_err *e;
} builder;

/* The value index of v, added on first sight; -1 on error. */
static int value_of(builder *b, const damo_var *v, int is_result)
{
    plan *p = b->p;
    if (b->val_of[v->id] >= 0) {
        pvalue *pv = &p->vals[b->val_of[v->id]];
        if (is_result && pv->kind == VAL_TEMP)
            pv->kind = VAL_RESULT;
        if (is_result && pv->kind == VAL_VIEW)
            pv->is_result = 1;
        return b->val_of[v->id];
    }
    if (!grow_array((void **)&p->vals, &b->cap_vals, p->n_vals + 1, sizeof *p->vals))
        return err_set(b->e, DAMO_ERR_NOMEM, "out of memory planning the function"), -1;
    pvalue pv = {VAL_TEMP, v, -1, NULL, (int)p->n_vals, 0};
    switch (v->kind) {
    case VAR_INPUT:
        pv.kind = VAL_INPUT;
        for (size_t i = 0; i < p->fg->n_inputs; i++)
            if (p->fg->inputs[i] == v)
                pv.index = (int)i;
        break;
    case VAR_CONST:
        pv.kind = VAL_CONST;
        if (!(pv.arr = const_array(p->ctx, v, b->e)))
            return -1;
        break;
    case VAR_SHARED: {
        if (!grow_array((void **)&p->stores, &b->cap_stores, p->n_stores + 1, sizeof *p->stores))
            return err_set(b->e, DAMO_ERR_NOMEM, "out of memory planning the function"), -1;
        shared_store *s = swapped(v->store, b->swap_from, b->swap_to, b->n_swaps);
        shared_retain(s);
        pv.kind = VAL_SHARED;
        pv.index = (int)p->n_stores;
        p->stores[p->n_stores++] = s;
        break;
    }
    case VAR_APPLY:
        pv.kind = is_result ? VAL_RESULT : VAL_TEMP;
        break;
    }
    p->vals[p->n_vals] = pv;
    return b->val_of[v->id] = (int)p->n_vals++;
}

static const step_class *class_of(op_id op)
{
    switch (op) {
    case OP_FUSED: return &step_elemwise;
    case OP_REDUCE: return &step_reduce;
    case OP_DOT:
    case OP_GEMM: return &step_blas;
    case OP_DIMSHUFFLE:
    case OP_RESHAPE:
    case OP_ALLOC:
    case OP_INDEX_GRID:
    case OP_SUBTENSOR: return &step_view;
    case OP_SET_SUBTENSOR:
    case OP_CONCAT: return &step_copy;
    case OP_TAKE: return &step_gather;
    case OP_INC_TAKE: return &step_scatter;
    case OP_SHAPE:
    case OP_SHAPE_I:
    case OP_ARANGE:
    case OP_EYE:
    case OP_PERMUTATION: return &step_host;
    default: return NULL;
    }
}

static damo_status add_step(builder *b, const gnode *n, pstep *s)
{
    plan *p = b->p;
    s->node = n;
    s->cls = class_of(n->op);
    if (!s->cls)
        return err_set(b->e, DAMO_ERR_UNSUPPORTED, "internal error: no step runs op %s",
                       op_info_of(n->op)->name);
    s->kind = s->cls->kind;
    s->n_in = n->n_in;
    s->n_out = n->n_out;
    s->in = malloc((size_t)(n->n_in + 1) * sizeof *s->in);
    s->out = malloc((size_t)(n->n_out + 1) * sizeof *s->out);
    if (!s->in || !s->out)
        return err_set(b->e, DAMO_ERR_NOMEM, "out of memory planning the function");
    for (int k = 0; k < n->n_in; k++)
        if ((s->in[k] = value_of(b, n->in[k], 0)) < 0)
            return b->e->code;
    for (int o = 0; o < n->n_out; o++) {
        int v = value_of(b, n->out[o], fg_is_output(p->fg, n->out[o]));
        if ((s->out[o] = v) < 0)
            return b->e->code;
        if (s->kind == STEP_VIEW) {
            pvalue *pv = &p->vals[v];
            pv->is_result = pv->kind == VAL_RESULT;
            pv->kind = VAL_VIEW;
            pv->root = p->vals[s->in[0]].root;
        }
    }
    return DAMO_OK;
}

/* A temp that a returned view shares is handed out with it: a result. */
static void promote_roots(plan *p)
{
    for (size_t v = 0; v < p->n_vals; v++) {
        pvalue *root = &p->vals[p->vals[v].root];
        if (p->vals[v].kind == VAL_VIEW && p->vals[v].is_result && root->kind == VAL_TEMP)
            root->kind = VAL_RESULT;
    }
}

/* A gemm's c, when it is a temp that an elementwise step computes and
 * only the gemm reads, is computed in the memory of the gemm's result (an
 * output or update value, so no other temp shares that memory): the gemm
 * then adds its product in place instead of copying c first. */
static void compute_into(plan *p)
{
    for (size_t i = 0; i < p->n_steps; i++) {
        pstep *s = &p->steps[i];
        if (s->node->op != OP_GEMM)
            continue;
        int c = s->in[2], readers = 0, made_by_elemwise = 0;
        pvalue *pc = &p->vals[c];
        if (pc->kind != VAL_TEMP || p->vals[s->out[0]].kind != VAL_RESULT)
            continue;
        for (size_t j = 0; j < p->n_steps; j++) {
            const pstep *t = &p->steps[j];
            for (int k = 0; k < t->n_in; k++)
                readers += p->vals[t->in[k]].root == c;
            for (int o = 0; o < t->n_out; o++)
                made_by_elemwise |= t->out[o] == c && t->kind == STEP_ELEMWISE;
        }
        if (readers == 1 && made_by_elemwise) {
            pc->kind = VAL_INTO;
            pc->index = s->out[0];
        }
    }
}

/* Temps share slots when their lifetimes (first write to the last read of
 * it or of a view sharing it, in step order) do not overlap; a step's
 * outputs never share a slot with its inputs. */
static damo_status assign_slots(plan *p, damo_err *e)
{
    int *last = malloc((p->n_vals + 1) * sizeof *last);
    size_t *free_slots = malloc((p->n_vals + 1) * sizeof *free_slots), n_free = 0;
    p->slots = calloc(p->n_vals + 1, sizeof *p->slots);
    if (!last || !free_slots || !p->slots) {
        free(last);
        free(free_slots);
        return err_set(e, DAMO_ERR_NOMEM, "out of memory planning the function");
    }
    for (size_t v = 0; v < p->n_vals; v++)
        last[v] = -1;
    for (size_t i = 0; i < p->n_steps; i++)
        for (int k = 0; k < p->steps[i].n_in; k++)
            last[p->vals[p->steps[i].in[k]].root] = (int)i;
    damo_status st = DAMO_OK;
    for (size_t i = 0; i < p->n_steps && st == DAMO_OK; i++) {
        pstep *s = &p->steps[i];
        for (int o = 0; o < s->n_out && st == DAMO_OK; o++) {
            pvalue *pv = &p->vals[s->out[o]];
            if (pv->kind != VAL_TEMP)
                continue;
            if (n_free) {
                pv->index = (int)free_slots[--n_free];
            } else if ((p->slots[p->n_slots] = storage_new(p->ctx, 0))) {
                pv->index = (int)p->n_slots++;
            } else {
                st = err_set(e, DAMO_ERR_NOMEM, "out of memory planning the function");
                break;
            }
            const gtype *t = &pv->var->type;
            int64_t zeros[DAMO_MAX_DIMS] = {0};
            if (!(pv->arr = array_on_storage(p->slots[pv->index], t->dtype, t->ndim, zeros, e)))
                st = e->code;
        }
        for (int k = 0; k < s->n_in; k++) {
            int r = p->vals[s->in[k]].root;
            const pvalue *pv = &p->vals[r];
            /* once, even when the step reads the value twice */
            if (pv->kind == VAL_TEMP && last[r] == (int)i) {
                free_slots[n_free++] = (size_t)pv->index;
                last[r] = -1;
            }
        }
    }
    free(last);
    free(free_slots);
    return st;
}

static damo_status build(builder *b, int keep_updates)
{
    plan *p = b->p;
    fgraph *fg = p->fg;
    size_t n_roots = fg->n_outputs + (keep_updates ? fg->n_updates : 0), n_nodes = 0;
    gnode **nodes = NULL;
    damo_status st = fg_live_nodes(fg, fg->outputs, n_roots, &nodes, &n_nodes, b->e);
    if (st != DAMO_OK)
        return st;
    p->steps = calloc(n_nodes + 1, sizeof *p->steps);
    if (!p->steps) {
        free(nodes);
        return err_set(b->e, DAMO_ERR_NOMEM, "out of memory planning the function");
    }
    for (size_t i = 0; i < n_nodes && st == DAMO_OK; i++) {
        st = add_step(b, nodes[i], &p->steps[i]);
        p->n_steps = i + 1;
    }
    free(nodes);
    for (size_t r = 0; r < n_roots && st == DAMO_OK; r++)
        if ((p->result_val[r] = value_of(b, fg->outputs[r], 1)) < 0)
            st = b->e->code;
    for (size_t i = 0; i < fg->n_inputs && st == DAMO_OK; i++)
        p->input_val[i] = b->val_of[fg->inputs[i]->id];
    if (st == DAMO_OK) {
        promote_roots(p);
        compute_into(p);
        st = assign_slots(p, b->e);
    }
    if (st == DAMO_OK && !(p->cur = calloc(p->n_vals + 1, sizeof *p->cur)))
        st = err_set(b->e, DAMO_ERR_NOMEM, "out of memory planning the function");
    for (size_t i = 0; i < p->n_steps && st == DAMO_OK; i++)
        st = p->steps[i].cls->build(p, &p->steps[i], b->e);
    return st;
}

damo_status plan_build(plan **out, damo_ctx *ctx, fgraph *fg, shared_store *const *swap_from,
                       shared_store *const *swap_to, size_t n_swaps, int keep_updates,
                       unsigned flags, damo_err *e)
{
    *out = NULL;
    plan *p = calloc(1, sizeof *p);
    builder b = {p, NULL, 0, 0, swap_from, swap_to, n_swaps, e};
    if (!p)
        return err_set(e, DAMO_ERR_NOMEM, "out of memory planning the function");
    p->ctx = ctx;
    p->fg = fgraph_retain(fg);
    p->flags = flags;
    /* float32 division and sqrt then round as the host's do */
    p->build_options =
        (ctx->rt.dev.fp32 & FP32_CR_DIV_SQRT) ? "-cl-fp32-correctly-rounded-divide-sqrt" : "";
    p->n_inputs = fg->n_inputs;
    p->n_outputs = fg->n_outputs;
    damo_status ready = rt_host_direct_ready(&ctx->rt, e);
    if (ready != DAMO_OK) {
        plan_free(p);
        return ready;
    }
    p->n_updates = keep_updates ? fg->n_updates : 0;
    p->input_val = malloc((fg->n_inputs + 1) * sizeof *p->input_val);
    p->result_val = malloc((p->n_outputs + p->n_updates + 1) * sizeof *p->result_val);
    p->targets = calloc(p->n_updates + 1, sizeof *p->targets);
    p->old = calloc(p->n_updates + 1, sizeof *p->old);
    b.val_of = malloc((fg->g->n + 1) * sizeof *b.val_of);
    damo_status st = DAMO_OK;
    if (!p->input_val || !p->result_val || !p->targets || !p->old || !b.val_of) {
        st = err_set(e, DAMO_ERR_NOMEM, "out of memory planning the function");
    } else {
        for (size_t i = 0; i < fg->g->n; i++)
            b.val_of[i] = -1;
        for (size_t u = 0; u < p->n_updates; u++) {
            p->targets[u] = swapped(fg->update_stores[u], swap_from, swap_to, n_swaps);
            shared_retain(p->targets[u]);
        }
        st = build(&b, keep_updates);
    }
    if (st == DAMO_OK && (flags & DAMO_FN_PROFILE))
        st = prof_attach(p, e);
    free(b.val_of);
    if (st != DAMO_OK) {
        plan_free(p);
        return st;
    }
    *out = p;
    return DAMO_OK;
}

int plan_uses(const plan *p, const shared_store *s)
{
    for (size_t i = 0; i < p->n_stores; i++)
        if (p->stores[i] == s)
            return 1;
    for (size_t u = 0; u < p->n_updates; u++)
        if (p->targets[u] == s)
            return 1;
    return 0;
}

void plan_free(plan *p)
{
    if (!p)
        return;
    prof_free(p);
    for (size_t i = 0; i < p->n_steps; i++) {
        pstep *s = &p->steps[i];
        for (int v = 0; v < s->n_variants; v++) {
            free(s->variants[v].modes);
            cg_kernel_free(&s->variants[v].cg);
        }
        for (int v = 0; v < s->n_subs; v++) {
            free(s->subs[v]->keep);
            free(s->subs[v]->in_map);
            sprog_free(&s->subs[v]->prog);
            sp_work_free(&s->subs[v]->work);
            free(s->subs[v]);
        }
        for (int v = 0; v < s->n_gks; v++)
            cg_kernel_free(&s->gks[v].cg);
        free(s->gks);
        for (int v = 0; v < STEP_PRIVATE; v++)
            storage_release(s->priv[v]);
        free(s->variants);
        free(s->subs);
        free(s->in);
        free(s->out);
        free(s->modes);
        free(s->shapes);
        free(s->in_shapes);
        free(s->strides);
        free(s->keep);
        free(s->views);
        free(s->out_strides);
        free(s->text);
        free(s->in_label);
        sp_work_free(&s->work);
        sp_work_free(&s->epi_work);
    }
    free(p->steps);
    for (size_t v = 0; v < p->n_vals; v++)
        damo_array_release(p->vals[v].arr);
    free(p->vals);
    for (size_t i = 0; i < p->n_slots; i++)
        storage_release(p->slots[i]);
    free(p->slots);
    for (size_t i = 0; i < p->n_stores; i++)
        shared_release(p->stores[i]);
    free(p->stores);
    for (size_t u = 0; u < p->n_updates; u++)
        shared_release(p->targets[u]);
    free(p->targets);
    free(p->old);
    free(p->input_val);
    free(p->result_val);
    free(p->cur);
    fgraph_release(p->fg);
    free(p);
}
