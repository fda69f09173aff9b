#include <stdlib.h>
#include <string.h>

#include "rewrite.h"

typedef struct fuser {
    const fgraph *fg;
    size_t n;              /* variables in the clone */
    unsigned char *needed; /* reachable from an output or update */
    size_t *cons_start;    /* CSR lists of consumers */
    damo_var **cons;
    size_t *parent;        /* union-find over variable ids */
    unsigned char *seen;   /* scratch for path searches */
    size_t *stack;
} fuser;

static size_t find(fuser *f, size_t i)
{
    while (f->parent[i] != i)
        i = f->parent[i] = f->parent[f->parent[i]];
    return i;
}

static int is_apply(const fuser *f, const damo_var *v) { return v->kind == VAR_APPLY && f->needed[v->id]; }

/* Nodes fuse only with nodes of the same rank and static broadcast pattern,
 * so one iteration space serves the whole step (as Aesara's fusion). */
static int same_pattern(const damo_var *a, const damo_var *b)
{
    if (a->type.ndim != b->type.ndim)
        return 0;
    for (int d = 0; d < a->type.ndim; d++)
        if ((a->type.shape[d] == 1) != (b->type.shape[d] == 1))
            return 0;
    return 1;
}

/* 1 when some path leaves cluster x, passes a node outside x and y, and
 * enters y: merging x and y would then make a cycle between steps. */
static int path_through_outside(fuser *f, size_t x, size_t y)
{
    damo_var **vars = f->fg->g->vars;
    size_t top = 0;
    int found = 0;
    memset(f->seen, 0, f->n);
    for (size_t i = 0; i < f->n; i++) {
        if (!is_apply(f, vars[i]) || find(f, i) != x)
            continue;
        for (size_t k = f->cons_start[i]; k < f->cons_start[i + 1]; k++) {
            size_t c = f->cons[k]->id, r = find(f, c);
            if (r != x && r != y && !f->seen[c]) {
                f->seen[c] = 1;
                f->stack[top++] = c;
            }
        }
    }
    while (top && !found) {
        size_t i = f->stack[--top];
        for (size_t k = f->cons_start[i]; k < f->cons_start[i + 1] && !found; k++) {
            size_t c = f->cons[k]->id, r = find(f, c);
            if (r == y)
                found = 1;
            else if (!f->seen[c]) {
                f->seen[c] = 1;
                f->stack[top++] = c;
            }
        }
    }
    return found;
}

static void try_merge(fuser *f, const damo_var *a, const damo_var *b)
{
    size_t x = find(f, a->id), y = find(f, b->id);
    if (x == y || !same_pattern(a, b) || path_through_outside(f, x, y) ||
        path_through_outside(f, y, x))
        return;
    f->parent[y] = x;
}

static int fuser_init(fuser *f, const fgraph *fg)
{
    memset(f, 0, sizeof *f);
    f->fg = fg;
    f->n = fg->g->n;
    size_t n = f->n ? f->n : 1;
    f->needed = calloc(n, 1);
    f->cons_start = calloc(n + 1, sizeof *f->cons_start);
    f->parent = malloc(n * sizeof *f->parent);
    f->seen = calloc(n, 1);
    f->stack = malloc(n * sizeof *f->stack);
    if (!f->needed || !f->cons_start || !f->parent || !f->seen || !f->stack)
        return 0;
    damo_var **vars = fg->g->vars;
    for (size_t i = 0; i < fg->n_outputs + fg->n_updates; i++)
        f->needed[fg->outputs[i]->id] = 1;
    for (size_t i = f->n; i-- > 0;) {
        f->parent[i] = i;
        if (f->needed[i] && vars[i]->kind == VAR_APPLY)
            for (int k = 0; k < vars[i]->n_in; k++)
                f->needed[vars[i]->in[k]->id] = 1;
    }
    for (size_t i = 0; i < f->n; i++)
        if (is_apply(f, vars[i]))
            for (int k = 0; k < vars[i]->n_in; k++)
                f->cons_start[vars[i]->in[k]->id + 1]++;
    for (size_t i = 0; i < f->n; i++)
        f->cons_start[i + 1] += f->cons_start[i];
    f->cons = malloc((f->cons_start[f->n] ? f->cons_start[f->n] : 1) * sizeof *f->cons);
    size_t *fill = calloc(n, sizeof *fill);
    if (!f->cons || !fill) {
        free(fill);
        return 0;
    }
    for (size_t i = 0; i < f->n; i++)
        if (is_apply(f, vars[i]))
            for (int k = 0; k < vars[i]->n_in; k++) {
                size_t u = vars[i]->in[k]->id;
                f->cons[f->cons_start[u] + fill[u]++] = vars[i];
            }
    free(fill);
    return 1;
}

static void fuser_free(fuser *f)
{
    free(f->needed);
    free(f->cons_start);
    free(f->cons);
    free(f->parent);
    free(f->seen);
    free(f->stack);
}

static int is_output(const fgraph *fg, const damo_var *v)
{
    for (size_t i = 0; i < fg->n_outputs + fg->n_updates; i++)
        if (fg->outputs[i] == v)
            return 1;
    return 0;
}

/* Index of v in list[0..n), appending it when absent; -1 when out of memory. */
static int index_of(damo_var ***list, int *n, damo_var *v)
{
    for (int i = 0; i < *n; i++)
        if ((*list)[i] == v)
            return i;
    damo_var **l = realloc(*list, (size_t)(*n + 1) * sizeof *l);
    if (!l)
        return -1;
    l[*n] = v;
    *list = l;
    return (*n)++;
}

/* Builds the program of the cluster whose root is `root`. */
static damo_status build_step(fuser *f, size_t root, fstep *s, damo_err *e)
{
    damo_var **vars = f->fg->g->vars;
    damo_var **consts = NULL;
    int n_consts = 0, n_members = 0;
    sprog_init(&s->prog);
    for (size_t i = 0; i < f->n; i++) {
        damo_var *v = vars[i];
        if (!is_apply(f, v) || find(f, i) != root)
            continue;
        s->ndim = v->type.ndim;
        op_operand ops[3];
        sp_ref refs[3];
        for (int k = 0; k < v->n_in; k++) {
            damo_var *u = v->in[k];
            ops[k] = (op_operand){u->type.dtype, u->weak};
            if (is_apply(f, u) && find(f, u->id) == root) {
                int j = 0;
                while (s->instr_var[j] != u)
                    j++;
                refs[k] = (sp_ref){REF_INSTR, j};
            } else if (u->kind == VAR_CONST && u->type.ndim == 0) {
                int before = n_consts, j = index_of(&consts, &n_consts, u);
                if (j >= 0 && j == before &&
                    sprog_add_const(&s->prog, u->type.dtype, hval_load(u->type.dtype, u->data, 0)) < 0)
                    j = -1;
                refs[k] = (sp_ref){REF_CONST, j};
            } else {
                int before = s->n_in, j = index_of(&s->ins, &s->n_in, u);
                if (j >= 0 && j == before && sprog_add_input(&s->prog, u->type.dtype) < 0)
                    j = -1;
                refs[k] = (sp_ref){REF_INPUT, j};
            }
            if (refs[k].index < 0)
                goto oom;
        }
        op_types t;
        if (op_infer(v->op, ops, v->type.dtype, &t, e) != DAMO_OK) {
            free(consts);
            return e->code;
        }
        damo_var **iv = realloc(s->instr_var, (size_t)(n_members + 1) * sizeof *iv);
        if (!iv)
            goto oom;
        s->instr_var = iv;
        iv[n_members++] = v;
        if (sprog_add_instr(&s->prog, v->op, t.compute, v->type.dtype, v->n_in, refs) < 0)
            goto oom;
        int escapes = is_output(f->fg, v);
        for (size_t k = f->cons_start[i]; k < f->cons_start[i + 1] && !escapes; k++)
            escapes = find(f, f->cons[k]->id) != root;
        if (escapes) {
            if (sprog_add_output(&s->prog, n_members - 1) < 0 ||
                index_of(&s->outs, &s->n_out, v) < 0)
                goto oom;
        }
    }
    free(consts);
    return DAMO_OK;
oom:
    free(consts);
    return err_set(e, DAMO_ERR_NOMEM, "out of memory fusing the graph");
}

damo_status fuse(const fgraph *fg, int no_fusion, fstep **steps_out, size_t *n_steps, damo_err *e)
{
    fuser f;
    size_t *roots = NULL, *indeg = NULL, *order = NULL, n_roots = 0;
    fstep *steps = NULL;
    damo_status st = DAMO_OK;
    *steps_out = NULL;
    *n_steps = 0;
    if (!fuser_init(&f, fg))
        goto oom;
    damo_var **vars = fg->g->vars;
    if (!no_fusion) {
        for (size_t i = 0; i < f.n; i++)
            if (is_apply(&f, vars[i]))
                for (int k = 0; k < vars[i]->n_in; k++)
                    if (is_apply(&f, vars[i]->in[k]))
                        try_merge(&f, vars[i]->in[k], vars[i]);
        for (size_t i = 0; i < f.n; i++)
            for (size_t a = f.cons_start[i]; a < f.cons_start[i + 1]; a++)
                for (size_t b = a + 1; b < f.cons_start[i + 1]; b++)
                    try_merge(&f, f.cons[a], f.cons[b]);
    }
    /* Steps in dependency order (Kahn over clusters). */
    roots = calloc(f.n ? f.n : 1, sizeof *roots);
    indeg = calloc(f.n ? f.n : 1, sizeof *indeg);
    order = calloc(f.n ? f.n : 1, sizeof *order);
    if (!roots || !indeg || !order)
        goto oom;
    for (size_t i = 0; i < f.n; i++) {
        if (!is_apply(&f, vars[i]))
            continue;
        size_t r = find(&f, i);
        if (r == i)
            roots[n_roots++] = i;
        for (int k = 0; k < vars[i]->n_in; k++)
            if (is_apply(&f, vars[i]->in[k]) && find(&f, vars[i]->in[k]->id) != r)
                indeg[r]++;
    }
    size_t head = 0, tail = 0;
    for (size_t j = 0; j < n_roots; j++)
        if (!indeg[roots[j]])
            order[tail++] = roots[j];
    while (head < tail) {
        size_t r = order[head++];
        for (size_t i = 0; i < f.n; i++) {
            if (!is_apply(&f, vars[i]) || find(&f, i) != r)
                continue;
            for (size_t k = f.cons_start[i]; k < f.cons_start[i + 1]; k++) {
                size_t rc = find(&f, f.cons[k]->id);
                if (rc != r && --indeg[rc] == 0)
                    order[tail++] = rc;
            }
        }
    }
    if (tail != n_roots) {
        st = err_set(e, DAMO_ERR_INVALID, "internal error: fused steps form a cycle");
        goto done;
    }
    steps = calloc(n_roots ? n_roots : 1, sizeof *steps);
    if (!steps)
        goto oom;
    for (size_t j = 0; j < tail && st == DAMO_OK; j++)
        st = build_step(&f, order[j], &steps[j], e);
    if (st != DAMO_OK) {
        fsteps_free(steps, n_roots);
        steps = NULL;
    } else {
        *steps_out = steps;
        *n_steps = n_roots;
    }
    goto done;
oom:
    st = err_set(e, DAMO_ERR_NOMEM, "out of memory fusing the graph");
done:
    fuser_free(&f);
    free(roots);
    free(indeg);
    free(order);
    return st;
}

void fstep_clear(fstep *s)
{
    sprog_free(&s->prog);
    free(s->ins);
    free(s->outs);
    free(s->instr_var);
    memset(s, 0, sizeof *s);
}

void fsteps_free(fstep *steps, size_t n)
{
    for (size_t i = 0; steps && i < n; i++)
        fstep_clear(&steps[i]);
    free(steps);
}
