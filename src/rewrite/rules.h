/* The local rewrite rules and what the engine hands them. Each rule looks
 * at one node; when it applies it replaces the node's outputs (fg_replace)
 * and returns 1, else 0, or -1 on error (message on the function graph's
 * arena). Adding a canonicalize / stabilize / specialize rewrite is adding
 * an entry to rw_rules. */
#ifndef DAMO_REWRITE_RULES_H
#define DAMO_REWRITE_RULES_H

#include "rewrite.h"

typedef struct rw_ctx {
    fgraph *fg;
    struct rw_tables {
        void **slots;
        size_t cap, n;
    } nodes, consts;
    damo_err *e;
} rw_ctx;

typedef struct rw_rule {
    const char *name;
    op_id op;   /* the only op it looks at, or OP_COUNT for every op */
    int (*fn)(rw_ctx *c, gnode *n);
} rw_rule;

extern const rw_rule rw_rules[];
extern const size_t rw_n_rules;

/* The canonical constant equal to v (v itself when it is the first). */
damo_var *rw_const(rw_ctx *c, damo_var *v);

#endif
