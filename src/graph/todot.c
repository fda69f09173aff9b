/* Graphviz DOT drawings of graphs (print.h). Node names: v<id> for a
 * variable without a producer, n<id> for a node drawn as one box, and
 * n<id>_i<j> / _p<j> / _r / _e<j> for the instructions of a fused node and
 * the prologue, reduction and epilogue of a reduction. */
#include <stdlib.h>
#include <string.h>

#include "../scalar/reduce.h"
#include "print.h"

/* s inside a DOT string: quotes and backslashes escaped, newlines kept as
 * DOT's \n. */
static void quoted(strbuf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            sb_putn(b, "\\", 1);
        if (*s == '\n')
            sb_puts(b, "\\n");
        else
            sb_putn(b, s, 1);
    }
}

void dot_var_ref(strbuf *b, const damo_var *v)
{
    if (v->kind != VAR_APPLY) {
        sb_printf(b, "v%u", v->id);
        return;
    }
    const gnode *n = v->node;
    if (n->op == OP_FUSED)
        sb_printf(b, "n%u_i%d", n->id, n->params.fused->prog.out[v->index]);
    else if (n->op == OP_REDUCE && n->params.epilogue)
        sb_printf(b, "n%u_e%d", n->id, n->params.epilogue->prog.out[v->index]);
    else if (n->op == OP_REDUCE)
        sb_printf(b, "n%u_r", n->id);
    else
        sb_printf(b, "n%u", n->id);
}

static void leaf(strbuf *b, const damo_var *v)
{
    static const char *const style[] = {
        [VAR_INPUT] = "shape=ellipse, style=filled, fillcolor=palegreen",
        [VAR_SHARED] = "shape=cylinder, style=filled, fillcolor=lightblue",
        [VAR_CONST] = "shape=plaintext",
        [VAR_APPLY] = ""};
    strbuf t;
    sb_init(&t);
    char shape[300];
    var_text(&t, v);
    sb_printf(&t, "\n%s %s", damo_dtype_name(v->type.dtype), gtype_shape_str(&v->type, shape, sizeof shape));
    sb_printf(b, "  v%u [label=\"", v->id);
    quoted(b, t.failed ? "?" : t.s);
    sb_printf(b, "\", %s];\n", style[v->kind]);
    sb_free(&t);
}

/* Nodes are declared where they belong (a cluster's inside it) and every
 * edge comes after all of them: Graphviz puts a node into the subgraph
 * where it first appears, an edge included. */
typedef struct dot_out {
    strbuf *nodes, *edges;
} dot_out;

/* The instructions of a fused program and the edges into them; input k
 * of the program is `in(k)`. */
typedef void (*input_ref)(strbuf *b, const gnode *n, int k);

static void prog_nodes(dot_out *o, const gnode *n, const sprog *p, char tag, input_ref in)
{
    for (int j = 0; j < p->n_instr; j++) {
        const sp_instr *ins = &p->instr[j];
        sb_printf(o->nodes, "    n%u_%c%d [label=\"%s\", shape=box];\n", n->id, tag, j,
                  op_get(ins->op)->name);
        for (int a = 0; a < ins->n_args; a++) {
            sb_puts(o->edges, "  ");
            if (ins->args[a].kind == REF_INSTR)
                sb_printf(o->edges, "n%u_%c%d", n->id, tag, ins->args[a].index);
            else
                in(o->edges, n, ins->args[a].index);
            sb_printf(o->edges, " -> n%u_%c%d;\n", n->id, tag, j);
        }
    }
}

static void node_input(strbuf *b, const gnode *n, int k) { dot_var_ref(b, n->in[k]); }

/* Epilogue input 0 is the reduction's result, input k > 0 the node's
 * input after the values the prologue reads. */
static void epilogue_input(strbuf *b, const gnode *n, int k)
{
    int first = n->params.fused ? n->params.fused->prog.n_in : 1;
    if (k == 0)
        sb_printf(b, "n%u_r", n->id);
    else
        dot_var_ref(b, n->in[first + k - 1]);
}

static void cluster(dot_out *o, const gnode *n, const char *title)
{
    const op_params *p = &n->params;
    strbuf *b = o->nodes;
    sb_printf(b, "  subgraph cluster_n%u {\n    label=\"", n->id);
    quoted(b, title);
    sb_puts(b, "\";\n    style=\"rounded,filled\"; fillcolor=\"#eeeeee\";\n");
    if (n->op == OP_FUSED) {
        prog_nodes(o, n, &p->fused->prog, 'i', node_input);
    } else {
        sb_printf(b, "    n%u_r [label=\"%s\", shape=invtrapezium, style=filled, fillcolor=khaki];\n",
                  n->id, red_name((red_kind)p->kind));
        if (p->fused) {
            prog_nodes(o, n, &p->fused->prog, 'p', node_input);
            sb_printf(o->edges, "  n%u_p%d -> n%u_r;\n", n->id, p->fused->prog.out[0], n->id);
        } else {
            sb_puts(o->edges, "  ");
            dot_var_ref(o->edges, n->in[0]);
            sb_printf(o->edges, " -> n%u_r;\n", n->id);
        }
        if (p->epilogue)
            prog_nodes(o, n, &p->epilogue->prog, 'e', epilogue_input);
    }
    sb_puts(b, "  }\n");
}

static void box(dot_out *o, const gnode *n, const char *title)
{
    strbuf *b = o->nodes;
    const char *style = n->op == OP_DOT || n->op == OP_GEMM ? ", style=filled, fillcolor=orange"
                        : op_info_of(n->op)->flags & OPF_VIEW ? ", style=dashed"
                                                              : "";
    char shape[300];
    sb_printf(b, "  n%u [label=\"", n->id);
    quoted(b, title);
    for (int o = 0; o < n->n_out; o++)
        sb_printf(b, "\\n%s %s", damo_dtype_name(n->out[o]->type.dtype),
                  gtype_shape_str(&n->out[o]->type, shape, sizeof shape));
    sb_printf(b, "\", shape=box%s];\n", style);
    for (int k = 0; k < n->n_in; k++) {
        sb_puts(o->edges, "  ");
        dot_var_ref(o->edges, n->in[k]);
        sb_printf(o->edges, " -> n%u;\n", n->id);
    }
}

static void draw_node(dot_out *o, const gnode *n, const dot_labels *labels)
{
    const char *title = labels && labels->node_title ? labels->node_title(n, labels->ctx) : NULL;
    strbuf own;
    sb_init(&own);
    if (!title) {
        op_label(&own, n);
        title = own.failed ? "?" : own.s;
    }
    if (n->op == OP_FUSED || n->op == OP_REDUCE)
        cluster(o, n, title);
    else
        box(o, n, title);
    sb_free(&own);
}

damo_status graph_to_dot(strbuf *b, const char *name, damo_var *const *roots, size_t n,
                         const dot_labels *labels, damo_err *e)
{
    const damo_graph *g = n ? roots[0]->g : NULL;
    size_t n_vars = g ? g->n : 0, n_nodes = g ? g->n_nodes : 0, top = 0;
    unsigned char *seen = calloc(n_vars + 1, 1), *drawn = calloc(n_nodes + 1, 1);
    const damo_var **stack = malloc((n_vars + 1) * sizeof *stack);
    if (!seen || !drawn || !stack) {
        free(seen);
        free(drawn);
        free(stack);
        return err_set(e, DAMO_ERR_NOMEM, "out of memory drawing a graph");
    }
    strbuf edges;
    sb_init(&edges);
    dot_out o = {b, &edges};
    sb_printf(b, "digraph %s {\n  graph [fontname=\"Helvetica\"];\n  node [fontname=\"Helvetica\"];\n",
              name);
    /* a variable is marked when pushed, so the stack holds each at most
     * once */
    for (size_t r = 0; r < n; r++)
        if (!seen[roots[r]->id]) {
            seen[roots[r]->id] = 1;
            stack[top++] = roots[r];
        }
    while (top) {
        const damo_var *v = stack[--top];
        if (v->kind != VAR_APPLY) {
            leaf(b, v);
            continue;
        }
        const gnode *nd = v->node;
        if (drawn[nd->id])
            continue;
        drawn[nd->id] = 1;
        draw_node(&o, nd, labels);
        for (int k = 0; k < nd->n_in; k++)
            if (!seen[nd->in[k]->id]) {
                seen[nd->in[k]->id] = 1;
                stack[top++] = nd->in[k];
            }
    }
    for (size_t r = 0; r < n; r++) {
        const char *lab = labels && labels->root_label ? labels->root_label(r, labels->ctx) : NULL;
        sb_printf(b, "  r%zu [label=\"", r);
        if (lab)
            quoted(b, lab);
        else
            sb_printf(b, "output %zu", r);
        sb_printf(b, "\", shape=doubleoctagon];\n");
        sb_puts(&edges, "  ");
        dot_var_ref(&edges, roots[r]);
        sb_printf(&edges, " -> r%zu;\n", r);
    }
    sb_puts(b, edges.s && !edges.failed ? edges.s : "");
    sb_puts(b, "}\n");
    b->failed |= edges.failed;
    sb_free(&edges);
    free(seen);
    free(drawn);
    free(stack);
    return b->failed ? err_set(e, DAMO_ERR_NOMEM, "out of memory drawing a graph") : DAMO_OK;
}
