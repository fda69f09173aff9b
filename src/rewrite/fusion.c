/* Elementwise fusion: groups elementwise nodes into clusters, then
 * replaces each cluster by one OP_FUSED node holding its program.
 *
 * Nodes are visited in topological order; each merges its cluster with
 * those of its elementwise producers and of a few siblings reading the
 * same inputs, when both have the same rank and static broadcast pattern
 * and the merge makes no cycle between steps (no path from one cluster
 * through outside nodes into the other). Paths are searched from the
 * smaller cluster's side, only between the clusters' first and last
 * positions, and within a visit budget (running out refuses the merge);
 * two clusters both larger than SMALL_CLUSTER are not merged. A chain thus
 * fuses in O(n), and every graph in near-linear time. */
#include <stdlib.h>
#include <string.h>

#include "../common/grow.h"
#include "rewrite.h"

#define SEARCH_BUDGET 4096     /* nodes one legality search may visit */
#define SMALL_CLUSTER 64       /* clusters merged with each other at most this big */
#define SIBLINGS_TRIED 8       /* readers of one input considered as siblings */
/* Ops in one kernel at most: the device compiler's time grows faster than
 * linearly with a kernel's size (PoCL took 87 s on 100 000), while runs of
 * a long chain share one source, built once. */
#define MAX_FUSED_OPS 256

typedef struct fuser {
    fgraph *fg;
    gnode **live;          /* topological order */
    size_t n_live, n_ids;
    long *pos;             /* node id -> position in live, or -1 */
    size_t *parent;        /* union-find over node ids */
    size_t *size, *first, *last; /* per root: members, first and last position */
    size_t *next;          /* per node: next member of its cluster (circular) */
    unsigned *seen;        /* search marks (by node id), by generation */
    unsigned *var_seen;    /* the same by variable id */
    int *member;           /* node id -> index in its cluster's member list
                            * (-1: not in the cluster being split) */
    unsigned gen;
    gnode **stack;
    int no_fusion;
    damo_err *e;
} fuser;

static size_t find(fuser *f, size_t i)
{
    while (f->parent[i] != i)
        i = f->parent[i] = f->parent[f->parent[i]];
    return i;
}

static int fusible(const fuser *f, const gnode *n)
{
    return (op_info_of(n->op)->flags & OPF_ELEMWISE) && f->pos[n->id] >= 0;
}

/* One iteration space serves a cluster: same rank and broadcast pattern. */
static int same_pattern(const damo_var *a, const damo_var *b)
{
    if (a->type.ndim != b->type.ndim)
        return 0;
    for (int d = 0; d < a->type.ndim; d++)
        if ((a->type.shape[d] == 1) != (b->type.shape[d] == 1))
            return 0;
    return 1;
}

/* Marks n for the current search; 0 when it was marked already. */
static int mark(fuser *f, const gnode *n)
{
    if (f->seen[n->id] == f->gen)
        return 0;
    f->seen[n->id] = f->gen;
    return 1;
}

/* 1 when a node reachable from the `from` nodes on the stack, moving
 * backward (to inputs) or forward (to readers) without leaving positions
 * [lo, hi], is a member of cluster c; also 1 when the search runs out of
 * budget, which refuses the merge. The caller has pushed and marked the
 * starting nodes. */
static int search(fuser *f, size_t top, int forward, size_t lo, size_t hi, size_t c)
{
    size_t visits = 0;
    while (top) {
        gnode *n = f->stack[--top];
        long p = f->pos[n->id];
        if (p < 0 || (size_t)p < lo || (size_t)p > hi)
            continue;
        if (fusible(f, n) && find(f, n->id) == c)
            return 1;
        if (++visits > SEARCH_BUDGET)
            return 1;
        if (forward) {
            for (int o = 0; o < n->n_out; o++) {
                const fg_clients *cl = fg_clients_of(f->fg, n->out[o]);
                for (size_t j = 0; j < cl->n; j++)
                    if (mark(f, cl->nodes[j]))
                        f->stack[top++] = cl->nodes[j];
            }
        } else {
            for (int k = 0; k < n->n_in; k++)
                if (n->in[k]->kind == VAR_APPLY && mark(f, n->in[k]->node))
                    f->stack[top++] = n->in[k]->node;
        }
    }
    return 0;
}

static int outside(fuser *f, const gnode *n, size_t x, size_t y)
{
    if (f->pos[n->id] < 0 || !fusible(f, n))
        return 1;
    size_t r = find(f, n->id);
    return r != x && r != y;
}

/* 1 when a path leaves cluster x, passes nodes outside x and y, and enters
 * y: merging them would then make a cycle between steps. Searched from the
 * smaller cluster's side: forward from x's readers outside, or backward
 * from y's inputs from outside. */
static int path_between(fuser *f, size_t x, size_t y)
{
    if (f->last[y] < f->first[x])
        return 0;
    size_t top = 0, m;
    f->gen++;
    int forward = f->size[x] <= f->size[y];
    size_t from = forward ? x : y;
    m = from;
    do {
        const gnode *n = f->live[f->pos[m]];
        if (forward) {
            const fg_clients *cl = fg_clients_of(f->fg, n->out[0]);
            for (size_t j = 0; j < cl->n; j++)
                if (outside(f, cl->nodes[j], x, y) && mark(f, cl->nodes[j]))
                    f->stack[top++] = cl->nodes[j];
        } else {
            for (int k = 0; k < n->n_in; k++) {
                const damo_var *w = n->in[k];
                if (w->kind == VAR_APPLY && outside(f, w->node, x, y) && mark(f, w->node))
                    f->stack[top++] = w->node;
            }
        }
        m = f->next[m];
    } while (m != from);
    return search(f, top, forward, f->first[x], f->last[y], forward ? y : x);
}

static void unite(fuser *f, size_t a, size_t b)
{
    size_t na = f->next[a];
    f->next[a] = f->next[b];
    f->next[b] = na;
    f->parent[b] = a;
    f->size[a] += f->size[b];
    if (f->first[b] < f->first[a])
        f->first[a] = f->first[b];
    if (f->last[b] > f->last[a])
        f->last[a] = f->last[b];
}

/* Merges the clusters of nodes x and y when legal. */
static void try_merge(fuser *f, const gnode *x, const gnode *y)
{
    size_t a = find(f, x->id), b = find(f, y->id);
    if (a == b || !same_pattern(x->out[0], y->out[0]) ||
        (f->size[a] > SMALL_CLUSTER && f->size[b] > SMALL_CLUSTER))
        return;
    if (path_between(f, a, b) || path_between(f, b, a))
        return;
    unite(f, a, b);
}

static void cluster(fuser *f)
{
    for (size_t i = 0; i < f->n_live; i++) {
        gnode *n = f->live[i];
        if (!fusible(f, n) || f->no_fusion)
            continue;
        for (int k = 0; k < n->n_in; k++) {
            const damo_var *u = n->in[k];
            if (u->kind == VAR_APPLY && fusible(f, u->node))
                try_merge(f, n, u->node);
        }
        for (int k = 0; k < n->n_in; k++) {
            const fg_clients *cl = fg_clients_of(f->fg, n->in[k]);
            int tried = 0;
            for (size_t j = 0; j < cl->n && tried < SIBLINGS_TRIED; j++) {
                gnode *s = cl->nodes[j];
                if (s != n && fusible(f, s) && (size_t)f->pos[s->id] < i) {
                    tried++;
                    try_merge(f, n, s);
                }
            }
        }
    }
}

/* Index of v in list[0..n), appending it when absent; -1 when out of memory. */
static int index_of(damo_var ***list, int *n, size_t *cap, damo_var *v)
{
    for (int i = 0; i < *n; i++)
        if ((*list)[i] == v)
            return i;
    if (!grow_array((void **)list, cap, (size_t)*n + 1, sizeof **list))
        return -1;
    (*list)[*n] = v;
    return (*n)++;
}

/* 1 when v is read outside cluster c or returned by the function. */
static int escapes(fuser *f, const damo_var *v, size_t c)
{
    if (fg_is_output(f->fg, v))
        return 1;
    const fg_clients *cl = fg_clients_of(f->fg, v);
    for (size_t j = 0; j < cl->n; j++) {
        const gnode *r = cl->nodes[j];
        if (f->pos[r->id] >= 0 && (!fusible(f, r) || f->parent[r->id] != c))
            return 1;
    }
    return 0;
}

/* Builds the fused node of the cluster whose members are members[0..m)
 * (topological order) and puts it in their place. */
static damo_status build(fuser *f, gnode **members, int m)
{
    size_t c = f->parent[members[0]->id];
    fused_prog *fp = calloc(1, sizeof *fp);
    sprog *p = fp ? &fp->prog : NULL;
    damo_var **ins = NULL, **outs = NULL;
    int n_ins = 0, n_outs = 0;
    size_t cap_ins = 0, cap_outs = 0;
    int *instr_of = malloc((size_t)m * sizeof *instr_of);
    gtype *types = NULL;
    weak_kind *weak = NULL;
    damo_status st = DAMO_OK;
    if (!fp || !instr_of || !(fp->instr_var = malloc((size_t)m * sizeof *fp->instr_var)))
        goto oom;
    sprog_init(p);
    for (int i = 0; i < m; i++) {
        gnode *n = members[i];
        op_types t;
        if (elemwise_types(n, &t, f->e) != DAMO_OK) {
            st = f->e->code;
            goto fail;
        }
        sp_ref refs[3];
        for (int k = 0; k < n->n_in; k++) {
            damo_var *u = n->in[k];
            int j = -1;
            if (u->kind == VAR_APPLY && fusible(f, u->node) && f->parent[u->node->id] == c) {
                j = f->member[u->node->id] - f->member[members[0]->id];
                refs[k] = (sp_ref){REF_INSTR, instr_of[j]};
                continue;
            }
            int before = n_ins;
            if ((j = index_of(&ins, &n_ins, &cap_ins, u)) < 0 ||
                (j == before && sprog_add_input(p, u->type.dtype) < 0))
                goto oom;
            refs[k] = (sp_ref){REF_INPUT, j};
        }
        if ((instr_of[i] = sprog_add_instr(p, op_scalar(n->op), &t, n->n_in, refs)) < 0)
            goto oom;
        fp->instr_var[instr_of[i]] = n->out[0];
        if (escapes(f, n->out[0], c) &&
            (sprog_add_output(p, instr_of[i]) < 0 || index_of(&outs, &n_outs, &cap_outs, n->out[0]) < 0))
            goto oom;
    }
    types = malloc((size_t)n_outs * sizeof *types);
    weak = malloc((size_t)n_outs * sizeof *weak);
    if (!types || !weak)
        goto oom;
    for (int o = 0; o < n_outs; o++) {
        types[o] = outs[o]->type;
        weak[o] = outs[o]->weak;
    }
    op_params params = {0};
    params.fused = fp;
    fp = NULL; /* the node owns it now, even on failure */
    gnode *fused = graph_node(f->fg->g, OP_FUSED, &params, ins, n_ins, types, weak, n_outs);
    if (!fused || !fg_adopt(f->fg, fused)) {
        st = err_copy(f->e, &f->fg->g->err);
        goto fail;
    }
    for (int o = 0; o < n_outs; o++) {
        if (outs[o]->name)
            damo_var_set_name(fused->out[o], outs[o]->name);
        fg_replace(f->fg, outs[o], fused->out[o]);
    }
    goto fail;
oom:
    st = err_set(f->e, DAMO_ERR_NOMEM, "out of memory fusing the graph");
fail:
    if (fp) {
        sprog_free(&fp->prog);
        free(fp->instr_var);
        free(fp);
    }
    free(ins);
    free(outs);
    free(instr_of);
    free(types);
    free(weak);
    return st;
}

/* Where the next kernel of a cluster must start so that its arguments
 * fit max_bytes (codegen's layout: per input a pointer, an offset and, in
 * the worst case, a stride per dimension; per output a pointer; the size
 * and the shape), and at most MAX_FUSED_OPS: the members from m[start] on,
 * as many as fit. A member
 * is an output of the run when it escapes the cluster or a member after
 * the run reads it (last[j]: the last member reading member j). A single
 * member always fits (at most three inputs). Runs of consecutive members
 * in topological order never form a cycle between them. */
static int run_end(fuser *f, gnode **m, int start, int count, const int *last,
                   const unsigned char *escaping, size_t max_bytes)
{
    int nd = m[start]->out[0]->type.ndim;
    size_t per_input = 16 + 8 * (size_t)nd, fixed = 8 + 8 * (size_t)nd, in_bytes = 0;
    int outs = 0;
    unsigned stamp = ++f->gen;
    for (int i = start; i < count; i++) {
        size_t more = 0;
        int closed = 0;
        for (int k = 0; k < m[i]->n_in; k++) {
            const damo_var *u = m[i]->in[k];
            if (f->var_seen[u->id] != stamp)
                more += per_input;
            else if (u->kind == VAR_APPLY && f->member[u->node->id] >= start &&
                     f->member[u->node->id] < i && m[f->member[u->node->id]] == u->node &&
                     last[f->member[u->node->id]] == i && !escaping[f->member[u->node->id]])
                closed++;
        }
        int open = outs - closed + (escaping[i] || last[i] > i);
        if (i > start && (fixed + in_bytes + more + 8 * (size_t)open > max_bytes ||
                          i - start == MAX_FUSED_OPS))
            return i;
        in_bytes += more;
        outs = open;
        for (int k = 0; k < m[i]->n_in; k++)
            f->var_seen[m[i]->in[k]->id] = stamp;
        f->var_seen[m[i]->out[0]->id] = stamp;
    }
    return count;
}

/* Splits the cluster m[0..n) into runs that fit max_bytes; each run
 * becomes a cluster of its own, named by its first member. */
static damo_status split(fuser *f, gnode **m, int n, size_t max_bytes)
{
    int *last = malloc((size_t)n * sizeof *last);
    unsigned char *escaping = malloc((size_t)n);
    if (!last || !escaping) {
        free(last);
        free(escaping);
        return err_set(f->e, DAMO_ERR_NOMEM, "out of memory fusing the graph");
    }
    size_t c = f->parent[m[0]->id];
    for (int i = 0; i < n; i++) {
        f->member[m[i]->id] = i;
        last[i] = -1;
        escaping[i] = (unsigned char)escapes(f, m[i]->out[0], c);
    }
    for (int i = 0; i < n; i++)
        for (int k = 0; k < m[i]->n_in; k++) {
            const damo_var *u = m[i]->in[k];
            if (u->kind == VAR_APPLY && fusible(f, u->node) && f->parent[u->node->id] == c)
                last[f->member[u->node->id]] = i;
        }
    for (int s = 0, e; s < n; s = e) {
        e = run_end(f, m, s, n, last, escaping, max_bytes);
        for (int i = s; i < e; i++)
            f->parent[m[i]->id] = m[s]->id;
    }
    free(last);
    free(escaping);
    return DAMO_OK;
}

static damo_status build_all(fuser *f, size_t max_bytes)
{
    size_t *head = malloc(f->n_ids * sizeof *head), *count = calloc(f->n_ids, sizeof *count);
    gnode **members = malloc((f->n_live ? f->n_live : 1) * sizeof *members);
    damo_status st = DAMO_OK;
    if (!head || !count || !members) {
        st = err_set(f->e, DAMO_ERR_NOMEM, "out of memory fusing the graph");
        goto done;
    }
    for (size_t i = 0; i < f->n_ids; i++)
        if (f->parent[i] != (size_t)-1)
            f->parent[i] = find(f, i);
    /* members of each cluster in topological order: counting sort by root */
    for (size_t i = 0; i < f->n_live; i++)
        if (fusible(f, f->live[i]))
            count[f->parent[f->live[i]->id]]++;
    size_t at = 0;
    for (size_t r = 0; r < f->n_ids; r++) {
        head[r] = at;
        at += count[r];
        count[r] = head[r];
    }
    for (size_t i = 0; i < f->n_live; i++)
        if (fusible(f, f->live[i]))
            members[count[f->parent[f->live[i]->id]]++] = f->live[i];
    /* every cluster is split before any is built: membership is by parent */
    for (size_t r = 0; r < f->n_ids && st == DAMO_OK; r++)
        if (count[r] > head[r])
            st = split(f, members + head[r], (int)(count[r] - head[r]), max_bytes);
    for (size_t r = 0; r < f->n_ids && st == DAMO_OK; r++) {
        gnode **m = members + head[r];
        int n = (int)(count[r] - head[r]);
        for (int s = 0, e; s < n && st == DAMO_OK; s = e) {
            for (e = s + 1; e < n && f->parent[m[e]->id] == m[s]->id; e++)
                ;
            st = build(f, m + s, e - s);
        }
    }
done:
    free(head);
    free(count);
    free(members);
    return st;
}

damo_status fuse(fgraph *fg, int no_fusion, size_t max_param_bytes, damo_err *e)
{
    fuser f = {.fg = fg, .no_fusion = no_fusion, .e = e};
    damo_status st = fg_live_nodes(fg, fg->outputs, fg->n_outputs + fg->n_updates, &f.live, &f.n_live, e);
    if (st != DAMO_OK)
        return st;
    f.n_ids = fg->g->n_nodes ? fg->g->n_nodes : 1;
    f.pos = malloc(f.n_ids * sizeof *f.pos);
    f.parent = malloc(f.n_ids * sizeof *f.parent);
    f.size = malloc(f.n_ids * sizeof *f.size);
    f.first = malloc(f.n_ids * sizeof *f.first);
    f.last = malloc(f.n_ids * sizeof *f.last);
    f.next = malloc(f.n_ids * sizeof *f.next);
    f.seen = calloc(f.n_ids, sizeof *f.seen);
    f.var_seen = calloc(fg->g->n + 1, sizeof *f.var_seen);
    f.member = malloc(f.n_ids * sizeof *f.member);
    f.stack = malloc(f.n_ids * sizeof *f.stack);
    if (!f.pos || !f.parent || !f.size || !f.first || !f.last || !f.next || !f.seen || !f.var_seen || !f.member || !f.stack) {
        st = err_set(e, DAMO_ERR_NOMEM, "out of memory fusing the graph");
        goto done;
    }
    for (size_t i = 0; i < f.n_ids; i++) {
        f.pos[i] = -1;
        f.parent[i] = (size_t)-1;
        f.member[i] = -1; /* run_end reads it for inputs from outside the cluster too */
    }
    for (size_t i = 0; i < f.n_live; i++) {
        size_t id = f.live[i]->id;
        f.pos[id] = (long)i;
        f.parent[id] = f.next[id] = id;
        f.size[id] = 1;
        f.first[id] = f.last[id] = i;
    }
    cluster(&f);
    st = build_all(&f, max_param_bytes);
    if (st == DAMO_OK && !no_fusion)
        st = fuse_reductions(fg, e);
done:
    free(f.live);
    free(f.pos);
    free(f.parent);
    free(f.size);
    free(f.first);
    free(f.last);
    free(f.next);
    free(f.seen);
    free(f.var_seen);
    free(f.member);
    free(f.stack);
    return st;
}
