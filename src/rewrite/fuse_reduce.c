/* Elementwise work fused into reductions, after elementwise fusion: the
 * fused node producing a reduction's input becomes the reduction's
 * prologue (the values are computed where they are summed and never
 * stored), and a fused node that only reads the reduction's result and
 * computes over the result's shape becomes its epilogue (no second
 * launch). A producer with other outputs gives up the one output when the
 * work the two would share has no costly op (anything beyond IEEE-exact
 * arithmetic), so that fusing never repeats a transcendental. Work with a
 * gradient's unbroadcast check stays out of reductions: only the
 * elementwise step makes that check. */
#include <stdlib.h>
#include <string.h>

#include "rewrite.h"

/* Nodes one dependency search may visit before it gives up (and refuses). */
#define DEPENDS_BUDGET 4096

/* The nodes the outputs need when fusing into reductions starts (by id:
 * live[id]), so that a node fusion left behind, still listed as a reader
 * by other nodes left behind, does not count; nodes made since (ids from
 * n_live on) are live. */
typedef struct liveness {
    const unsigned char *live;
    size_t n_live;
} liveness;

/* The one live reader of v, or NULL when there are none or several. */
static gnode *only_client(const fgraph *fg, const liveness *lv, const damo_var *v)
{
    const fg_clients *cl = fg_clients_of(fg, v);
    gnode *only = NULL;
    for (size_t j = 0; j < cl->n; j++) {
        gnode *c = cl->nodes[j];
        if (fg_unused(fg, c) || c == only || (c->id < lv->n_live && !lv->live[c->id]))
            continue;
        if (only)
            return NULL;
        only = c;
    }
    return only;
}

/* A fused program over instructions drawn from `from` (map[j]: the
 * instruction of `from` that instruction j of prog is). Takes prog. */
static fused_prog *fused_from(sprog *prog, const fused_prog *from, const int *map)
{
    fused_prog *fp = calloc(1, sizeof *fp);
    if (!fp || !(fp->instr_var = malloc((size_t)(prog->n_instr + 1) * sizeof *fp->instr_var))) {
        free(fp);
        sprog_free(prog);
        return NULL;
    }
    fp->prog = *prog;
    for (int j = 0; j < prog->n_instr; j++)
        fp->instr_var[j] = from->instr_var[map ? map[j] : j];
    return fp;
}

static damo_status nomem(damo_err *e) { return err_set(e, DAMO_ERR_NOMEM, "out of memory fusing a reduction"); }

/* A new node of op over in[0..n_in) in place of the outputs olds[0..n_out),
 * with their types. Owns what params point to. */
static gnode *replace_with(fgraph *fg, op_id op, const op_params *params, damo_var **in, int n_in,
                           damo_var *const *olds, int n_out, damo_err *e)
{
    gtype types[64];
    weak_kind weak[64];
    if (n_out > 64) {
        op_params p = *params;
        fused_params_free(&p);
        return NULL;
    }
    for (int o = 0; o < n_out; o++) {
        types[o] = olds[o]->type;
        weak[o] = olds[o]->weak;
    }
    gnode *n = graph_node(fg->g, op, params, in, n_in, types, weak, n_out);
    if (!n || !fg_adopt(fg, n)) {
        err_copy(e, &fg->g->err);
        return NULL;
    }
    for (int o = 0; o < n_out; o++) {
        if (olds[o]->name)
            damo_var_set_name(n->out[o], olds[o]->name);
        fg_replace(fg, olds[o], n->out[o]);
    }
    return n;
}

/* The subset of fused node f's program computing the outputs with keep
 * set, as a fused program, and the inputs it reads (ins: room for f's). */
static fused_prog *part_of(const gnode *f, const unsigned char *keep, damo_var **ins, int *n_ins)
{
    const fused_prog *fp = f->params.fused;
    int *in_map = malloc((size_t)(fp->prog.n_in + 1) * sizeof *in_map);
    int *instr_map = malloc((size_t)(fp->prog.n_instr + 1) * sizeof *instr_map);
    sprog sub;
    fused_prog *r = NULL;
    if (in_map && instr_map && sprog_subset(&fp->prog, keep, &sub, in_map, instr_map) == DAMO_OK) {
        for (int j = 0; j < sub.n_in; j++)
            ins[j] = f->in[in_map[j]];
        *n_ins = sub.n_in;
        r = fused_from(&sub, fp, instr_map);
    }
    free(in_map);
    free(instr_map);
    return r;
}

/* 1 when fused node f draws random numbers: reduction kernels load every
 * input, and an index input must never be loaded (scalar/program.h). */
static int draws(const gnode *f)
{
    for (int i = 0; i < f->params.fused->prog.n_in; i++)
        if (sprog_in_is_index(&f->params.fused->prog, i))
            return 1;
    return 0;
}

/* Makes the fused producer of r's input r's prologue; returns the new
 * reduction (r itself when nothing changed), or NULL on error. */
static gnode *absorb_producer(fgraph *fg, const liveness *lv, gnode *r, damo_err *e)
{
    damo_var *x = r->in[0];
    if (x->kind != VAR_APPLY || x->node->op != OP_FUSED || fg_is_output(fg, x) ||
        only_client(fg, lv, x) != r || sprog_has_op(&x->node->params.fused->prog, SOP_UNBROADCAST) ||
        draws(x->node))
        return r;
    gnode *f = x->node;
    int o = x->index;
    if (f->n_out > 1 && sprog_shared_costly(&f->params.fused->prog, o) != 0)
        return r;
    unsigned char *keep = calloc((size_t)f->n_out, 1);
    damo_var **ins = malloc((size_t)(f->n_in + 1) * sizeof *ins);
    damo_var **rest = malloc((size_t)f->n_out * sizeof *rest);
    gnode *res = NULL;
    int n_ins = 0;
    if (!keep || !ins || !rest) {
        nomem(e);
        goto done;
    }
    keep[o] = 1;
    op_params p = r->params;
    if (!(p.fused = part_of(f, keep, ins, &n_ins))) {
        nomem(e);
        goto done;
    }
    if (!(res = replace_with(fg, OP_REDUCE, &p, ins, n_ins, r->out, 1, e)))
        goto done;
    if (f->n_out > 1) {
        int n_rest = 0;
        for (int q = 0; q < f->n_out; q++) {
            keep[q] = q != o;
            if (q != o)
                rest[n_rest++] = f->out[q];
        }
        op_params fp = {0};
        if (!(fp.fused = part_of(f, keep, ins, &n_ins))) {
            nomem(e);
            res = NULL;
        } else if (!replace_with(fg, OP_FUSED, &fp, ins, n_ins, rest, n_rest, e)) {
            res = NULL;
        }
    }
done:
    free(keep);
    free(ins);
    free(rest);
    return res;
}

/* 1 when the value v depends on node r (or the search runs out). */
static int depends_on(const fgraph *fg, damo_var *v, const gnode *r, unsigned char *seen,
                      gnode **stack)
{
    if (v->kind != VAR_APPLY)
        return 0;
    size_t top = 0, visits = 0;
    memset(seen, 0, fg->g->n_nodes);
    stack[top++] = v->node;
    seen[v->node->id] = 1;
    while (top) {
        gnode *n = stack[--top];
        if (n == r || ++visits > DEPENDS_BUDGET)
            return 1;
        for (int k = 0; k < n->n_in; k++) {
            damo_var *u = n->in[k];
            if (u->kind == VAR_APPLY && !seen[u->node->id]) {
                seen[u->node->id] = 1;
                stack[top++] = u->node;
            }
        }
    }
    return 0;
}

/* Makes the fused reader of r's result r's epilogue. */
static damo_status absorb_consumer(fgraph *fg, const liveness *lv, gnode *r, damo_err *e)
{
    damo_var *res = r->out[0];
    gnode *c = only_client(fg, lv, res);
    if (r->n_out != 1 || r->params.epilogue || fg_is_output(fg, res) || !c || c->op != OP_FUSED ||
        sprog_has_op(&c->params.fused->prog, SOP_UNBROADCAST) || draws(c))
        return DAMO_OK;
    /* c reads the result, so its outputs have the result's shape exactly
     * when none of its other inputs can enlarge it */
    int at = -1;
    for (int k = 0; k < c->n_in; k++)
        if (c->in[k] == res)
            at = k;
        else if (!gtype_fits_into(&c->in[k]->type, &res->type))
            return DAMO_OK;
    unsigned char *seen = calloc(fg->g->n_nodes + 1, 1);
    gnode **stack = malloc((fg->g->n_nodes + 1) * sizeof *stack);
    int *in_new = malloc((size_t)(c->n_in + 1) * sizeof *in_new);
    damo_var **ins = malloc((size_t)(r->n_in + c->n_in + 1) * sizeof *ins);
    damo_status st = DAMO_OK;
    if (!seen || !stack || !in_new || !ins) {
        st = nomem(e);
        goto done;
    }
    for (int k = 0; k < c->n_in; k++)
        if (k != at && depends_on(fg, c->in[k], r, seen, stack))
            goto done;
    int n_ins = r->n_in;
    memcpy(ins, r->in, (size_t)r->n_in * sizeof *ins);
    for (int k = 0; k < c->n_in; k++) {
        in_new[k] = k == at ? 0 : k < at ? k + 1 : k;
        if (k != at)
            ins[n_ins++] = c->in[k];
    }
    sprog epi;
    op_params p = r->params;
    if (sprog_permute(&c->params.fused->prog, in_new, &epi) != DAMO_OK ||
        !(p.epilogue = fused_from(&epi, c->params.fused, NULL))) {
        st = nomem(e);
        goto done;
    }
    /* the prologue moves to the new node */
    r->params.fused = NULL;
    if (!replace_with(fg, OP_REDUCE, &p, ins, n_ins, c->out, c->n_out, e))
        st = e->code ? e->code : nomem(e);
done:
    free(seen);
    free(stack);
    free(in_new);
    free(ins);
    return st;
}

damo_status fuse_reductions(fgraph *fg, damo_err *e)
{
    gnode **nodes;
    size_t n;
    damo_status st = fg_live_nodes(fg, fg->outputs, fg->n_outputs + fg->n_updates, &nodes, &n, e);
    if (st != DAMO_OK)
        return st;
    liveness lv = {calloc(fg->g->n_nodes + 1, 1), fg->g->n_nodes};
    if (!lv.live)
        st = nomem(e);
    for (size_t i = 0; i < n && lv.live; i++)
        ((unsigned char *)lv.live)[nodes[i]->id] = 1;
    for (size_t i = 0; i < n && st == DAMO_OK; i++) {
        gnode *r = nodes[i];
        if (r->op != OP_REDUCE || r->params.fused || r->params.epilogue || fg_unused(fg, r))
            continue;
        gnode *m = absorb_producer(fg, &lv, r, e);
        st = m ? absorb_consumer(fg, &lv, m, e) : e->code ? e->code : nomem(e);
    }
    free((void *)lv.live);
    free(nodes);
    return st;
}
