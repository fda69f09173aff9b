/*
 * Graphs as text for people: an op's label with its parameters, Aesara's
 * debugprint trees, and Graphviz DOT. Ids are Aesara's ("A" .. "Z", "BA",
 * ...), one per variable, given in the order variables are first named,
 * so that a schedule printed after the trees names the same variables.
 */
#ifndef DAMO_GRAPH_PRINT_H
#define DAMO_GRAPH_PRINT_H

#include "../common/strbuf.h"
#include "op.h"

/* Appends n's op and its parameters: "sum{axes=(0,)}", "fused{neg, exp}",
 * "dimshuffle{1,0}". */
void op_label(strbuf *b, const gnode *n);
/* Appends the name a variable is printed with: its op label (".k" for
 * output k of a node of several), its name, or a scalar constant's
 * value. */
void var_text(strbuf *b, const damo_var *v);
/* Appends the ops of a fused program, comma-separated. */
void prog_ops(strbuf *b, const sprog *p);

typedef struct gprint {
    strbuf *out;
    uint32_t *id;            /* per variable id: 0, or 1 + its ordinal */
    unsigned char *printed;  /* per variable id */
    unsigned char *expanded; /* per node id: its inputs were printed */
    uint32_t n_ids;
} gprint;

/* A printer for the variables of g, appending to out. DAMO_ERR_NOMEM
 * only. */
damo_status gprint_init(gprint *pr, const damo_graph *g, strbuf *out, damo_err *e);
void gprint_free(gprint *pr);
/* v's id ("[id A]"), given on first use, into buf. */
const char *gprint_id(gprint *pr, const damo_var *v, char *buf, size_t size);
/* The tree under root, one line per variable indented by its depth:
 * "<op or name> [id X] <dtype> <shape>" with inputs, shared variables
 * and constants marked and names quoted. A variable printed before is a
 * line "<label> [id X] (above)" and its inputs are not repeated. `note`,
 * when not NULL, ends root's line. Iterative: a deep chain costs heap, and
 * lines deeper than GPRINT_MAX_INDENT levels say their depth instead of
 * indenting further. */
#define GPRINT_MAX_INDENT 64
damo_status gprint_tree(gprint *pr, const damo_var *root, const char *note, damo_err *e);

/* A DOT node's name for v: its producing node (or the instruction of a
 * fused node computing it), or the variable itself when it has none. */
void dot_var_ref(strbuf *b, const damo_var *v);
/* What a DOT drawing of roots needs from the layer drawing it: a title for
 * the cluster or box of node n (NULL: its op label), and a label for
 * root r (NULL: "output r"). */
typedef struct dot_labels {
    const char *(*node_title)(const gnode *n, void *ctx);
    const char *(*root_label)(size_t r, void *ctx);
    void *ctx;
} dot_labels;
/* `digraph name { ... }` over everything roots[0..n) need: inputs
 * (ellipses), shared variables (cylinders), constants (plain text) and
 * roots (double octagons) drawn apart; each fused node, and each
 * reduction, a cluster of its instructions; matrix products and views
 * boxes of their own colour and style. */
damo_status graph_to_dot(strbuf *b, const char *name, damo_var *const *roots, size_t n,
                         const dot_labels *labels, damo_err *e);

#endif
