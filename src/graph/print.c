/* debugprint trees and op labels (print.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../scalar/reduce.h"
#include "print.h"

void prog_ops(strbuf *b, const sprog *p)
{
    for (int i = 0; i < p->n_instr; i++)
        sb_printf(b, "%s%s", i ? ", " : "", op_get(p->instr[i].op)->name);
}

static void sizes(strbuf *b, int ndim, const int64_t *shape)
{
    sb_puts(b, "(");
    for (int d = 0; d < ndim; d++) {
        if (shape[d] == SHAPE_FROM_INPUT)
            sb_printf(b, "%s?", d ? ", " : "");
        else
            sb_printf(b, "%s%lld", d ? ", " : "", (long long)shape[d]);
    }
    sb_puts(b, ndim == 1 ? ",)" : ")");
}

static void bound(strbuf *b, int64_t v)
{
    if (v != DAMO_NONE)
        sb_printf(b, "%lld", (long long)v);
}

void op_label(strbuf *b, const gnode *n)
{
    const op_params *p = &n->params;
    const char *name = op_info_of(n->op)->name;
    switch (n->op) {
    case OP_CAST:
        sb_printf(b, "cast{%s}", damo_dtype_name((damo_dtype)p->dtype));
        return;
    case OP_FUSED:
        sb_puts(b, "fused{");
        prog_ops(b, &p->fused->prog);
        sb_puts(b, "}");
        return;
    case OP_REDUCE:
        sb_printf(b, "%s{axes=(", red_name((red_kind)p->kind));
        int k = 0;
        for (int d = 0; d < p->ndim; d++)
            if (p->axes & (1u << d))
                sb_printf(b, "%s%d", k++ ? ", " : "", d);
        sb_puts(b, k == 1 ? ",)" : ")");
        sb_puts(b, p->keepdims ? ", keepdims" : "");
        if (p->fused) {
            sb_puts(b, ", of: ");
            prog_ops(b, &p->fused->prog);
        }
        if (p->epilogue) {
            sb_puts(b, ", then: ");
            prog_ops(b, &p->epilogue->prog);
        }
        sb_puts(b, "}");
        return;
    case OP_DIMSHUFFLE:
        sb_puts(b, "dimshuffle{");
        for (int d = 0; d < p->ndim; d++) {
            if (p->order[d] == DAMO_NEWAXIS)
                sb_printf(b, "%sx", d ? "," : "");
            else
                sb_printf(b, "%s%d", d ? "," : "", p->order[d]);
        }
        sb_puts(b, "}");
        return;
    case OP_RESHAPE:
    case OP_ALLOC:
    case OP_INDEX_GRID:
        sb_printf(b, "%s{", name);
        sizes(b, p->ndim, p->shape);
        sb_puts(b, "}");
        return;
    case OP_SUBTENSOR:
    case OP_SET_SUBTENSOR:
        sb_printf(b, "%s{", n->op == OP_SUBTENSOR ? name : p->kind ? "inc_subtensor" : name);
        for (int d = 0; d < p->n_idx; d++) {
            const op_slice *s = &p->idx[d];
            sb_puts(b, d ? ", " : "");
            if (s->is_index) {
                sb_printf(b, "%lld", (long long)s->start);
                continue;
            }
            bound(b, s->start);
            sb_puts(b, ":");
            bound(b, s->stop);
            if (s->step != 1)
                sb_printf(b, ":%lld", (long long)s->step);
        }
        sb_puts(b, "}");
        return;
    case OP_CONCAT:
    case OP_SHAPE_I:
        sb_printf(b, "%s{axis=%d}", name, p->axis);
        return;
    case OP_EYE:
        sb_printf(b, "eye{k=%d}", p->k);
        return;
    default:
        sb_puts(b, name);
        return;
    }
}

damo_status gprint_init(gprint *pr, const damo_graph *g, strbuf *out, damo_err *e)
{
    memset(pr, 0, sizeof *pr);
    pr->out = out;
    pr->id = calloc(g->n + 1, sizeof *pr->id);
    pr->printed = calloc(g->n + 1, 1);
    pr->expanded = calloc(g->n_nodes + 1, 1);
    if (!pr->id || !pr->printed || !pr->expanded) {
        gprint_free(pr);
        return err_set(e, DAMO_ERR_NOMEM, "out of memory printing a graph");
    }
    return DAMO_OK;
}

void gprint_free(gprint *pr)
{
    free(pr->id);
    free(pr->printed);
    free(pr->expanded);
    memset(pr, 0, sizeof *pr);
}

const char *gprint_id(gprint *pr, const damo_var *v, char *buf, size_t size)
{
    if (!pr->id[v->id])
        pr->id[v->id] = ++pr->n_ids;
    /* Aesara's ids: base 26 in the letters A-Z, so the 27th is "BA" */
    char digits[16];
    int n = 0;
    for (uint32_t k = pr->id[v->id] - 1;; k /= 26) {
        digits[n++] = (char)('A' + k % 26);
        if (k < 26)
            break;
    }
    size_t len = (size_t)snprintf(buf, size, "[id ");
    while (n > 0 && len + 2 < size)
        buf[len++] = digits[--n];
    snprintf(buf + len, size - len, "]");
    return buf;
}

/* d with 15 digits when they read back as d (0.1, not 0.10000000000000001),
 * else all 17. */
static void shortest(strbuf *b, double d)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%.15g", d);
    if (strtod(buf, NULL) != d && d == d)
        snprintf(buf, sizeof buf, "%.17g", d);
    sb_puts(b, buf);
}

void var_text(strbuf *b, const damo_var *v)
{
    switch (v->kind) {
    case VAR_INPUT:
        sb_puts(b, v->name ? v->name : "<input>");
        return;
    case VAR_SHARED:
        sb_puts(b, v->name ? v->name : "<shared>");
        return;
    case VAR_CONST:
        if (v->type.ndim == 0) {
            hval h = hval_load(v->type.dtype, v->data, 0);
            switch (dtype_kind_of(v->type.dtype)) {
            case KIND_FLOAT: shortest(b, hval_to_double(v->type.dtype, h)); return;
            case KIND_UINT: sb_printf(b, "%llu", (unsigned long long)h.u); return;
            case KIND_BOOL: sb_puts(b, h.i ? "True" : "False"); return;
            default: sb_printf(b, "%lld", (long long)h.i); return;
            }
        }
        sb_puts(b, "<array>");
        return;
    case VAR_APPLY:
        op_label(b, v->node);
        if (v->node->n_out > 1)
            sb_printf(b, ".%d", v->index);
        return;
    }
}

static const char *const kind_mark[] = {
    [VAR_INPUT] = " input", [VAR_CONST] = " constant", [VAR_SHARED] = " shared", [VAR_APPLY] = ""};

typedef struct frame {
    const damo_var *v;
    size_t depth;
} frame;

static void line(gprint *pr, const damo_var *v, size_t depth, const char *note)
{
    strbuf *b = pr->out;
    char id[32], shape[300];
    size_t indent = depth < GPRINT_MAX_INDENT ? depth : GPRINT_MAX_INDENT;
    for (size_t d = 1; d < indent; d++)
        sb_puts(b, "  ");
    if (depth)
        sb_puts(b, " |");
    if (depth > indent)
        sb_printf(b, "(depth %zu) ", depth);
    var_text(b, v);
    sb_printf(b, " %s", gprint_id(pr, v, id, sizeof id));
    if (pr->printed[v->id]) {
        sb_puts(b, " (above)");
    } else {
        sb_printf(b, " %s %s%s", damo_dtype_name(v->type.dtype),
                  gtype_shape_str(&v->type, shape, sizeof shape), kind_mark[v->kind]);
        if (v->name && v->kind == VAR_APPLY)
            sb_printf(b, " '%s'", v->name);
    }
    if (note)
        sb_printf(b, " %s", note);
    sb_puts(b, "\n");
}

damo_status gprint_tree(gprint *pr, const damo_var *root, const char *note, damo_err *e)
{
    size_t cap = 64, n = 0;
    frame *stack = malloc(cap * sizeof *stack);
    if (!stack)
        return err_set(e, DAMO_ERR_NOMEM, "out of memory printing a graph");
    stack[n++] = (frame){root, 0};
    while (n) {
        frame f = stack[--n];
        const damo_var *v = f.v;
        line(pr, v, f.depth, f.depth ? NULL : note);
        int expand = !pr->printed[v->id] && v->kind == VAR_APPLY && !pr->expanded[v->node->id];
        pr->printed[v->id] = 1;
        if (!expand)
            continue;
        const gnode *nd = v->node;
        pr->expanded[nd->id] = 1;
        if (n + (size_t)nd->n_in > cap) {
            cap = 2 * (n + (size_t)nd->n_in);
            frame *s = realloc(stack, cap * sizeof *s);
            if (!s) {
                free(stack);
                return err_set(e, DAMO_ERR_NOMEM, "out of memory printing a graph");
            }
            stack = s;
        }
        for (int k = nd->n_in - 1; k >= 0; k--)
            stack[n++] = (frame){nd->in[k], f.depth + 1};
    }
    free(stack);
    return pr->out->failed ? err_set(e, DAMO_ERR_NOMEM, "out of memory printing a graph") : DAMO_OK;
}
