/* Reduction kernels: a prologue computing each value, a combine step per
 * kind (compensated for float sums), a finish, and an epilogue on each
 * result. Values are combined in the order the host layout gives; results
 * do not depend on it except through rounding, which the compensation
 * keeps below a pairwise sum's. */
#include <stdio.h>
#include <string.h>

#include "emit.h"

/* Independent vector accumulators: a compensated add waits on the one
 * before it, so one chain would leave the adders idle. */
#define CHAINS 4
/* Vectors of adjacent results per work-item in kvec mode: each row of a
 * strided reduction is read KVEC_CHAINS * kvec elements at a time, so a
 * page of the input serves many results per visit. */
#define KVEC_CHAINS 8

static int is_float(damo_dtype t) { return dtype_kind_of(t) == KIND_FLOAT; }

static int compensated(const cg_reduce_spec *s)
{
    return (s->kind == RED_SUM || s->kind == RED_MEAN) && is_float(s->acc);
}

int cg_reduce_vectorizable(red_kind kind, damo_dtype val, damo_dtype acc, const sprog *pro)
{
    if (!is_float(val) || !is_float(acc) || (pro && !cg_vectorizable(pro)))
        return 0;
    return kind == RED_SUM || kind == RED_MEAN || kind == RED_PROD || kind == RED_MAX ||
           kind == RED_MIN;
}

int cg_reduce_kvec_results(int kvec) { return kvec * KVEC_CHAINS; }

int cg_reduce_chains(void) { return CHAINS; }

/* The kind's starting value in dtype t. */
static const char *identity(red_kind k, damo_dtype t)
{
    static const char *const lows[] = {
        [DAMO_BOOL] = "0", [DAMO_INT8] = "CHAR_MIN", [DAMO_INT16] = "SHRT_MIN",
        [DAMO_INT32] = "INT_MIN", [DAMO_INT64] = "LONG_MIN", [DAMO_UINT8] = "0",
        [DAMO_UINT16] = "0", [DAMO_UINT32] = "0", [DAMO_UINT64] = "0",
        [DAMO_FLOAT32] = "-INFINITY", [DAMO_FLOAT64] = "-INFINITY"};
    static const char *const highs[] = {
        [DAMO_BOOL] = "1", [DAMO_INT8] = "CHAR_MAX", [DAMO_INT16] = "SHRT_MAX",
        [DAMO_INT32] = "INT_MAX", [DAMO_INT64] = "LONG_MAX", [DAMO_UINT8] = "UCHAR_MAX",
        [DAMO_UINT16] = "USHRT_MAX", [DAMO_UINT32] = "UINT_MAX", [DAMO_UINT64] = "ULONG_MAX",
        [DAMO_FLOAT32] = "INFINITY", [DAMO_FLOAT64] = "INFINITY"};
    switch (k) {
    case RED_PROD:
    case RED_ALL:
        return "1";
    case RED_MAX:
    case RED_ARGMAX:
        return lows[t];
    case RED_MIN:
    case RED_ARGMIN:
        return highs[t];
    default:
        return "0";
    }
}

/* damo_combine(&s, &c, &bi, v, i): one value v at flat index i into the
 * state (sum s and compensation c, or the best value s at index bi), and
 * with lanes its vector form damo_combine_v. Partial results combine with
 * the same step. */
static void put_combine(strbuf *b, const cg_reduce_spec *s, int vw)
{
    const char *T = dtype_cl_name(s->acc), *W = dtype_cl_wrap_name(s->acc);
    char ty[16];
    snprintf(ty, sizeof ty, vw ? "%s%d" : "%s", T, vw);
    if (vw)
        sb_printf(b, "void damo_combine_v(%s *s, %s *c, const %s v)\n{\n", ty, ty, ty);
    else
        sb_printf(b, "void damo_combine(%s *s, %s *c, long *bi, const %s v, const long i)\n{\n", T, T, T);
    switch (s->kind) {
    case RED_SUM:
    case RED_MEAN:
        /* an infinite sum keeps no compensation: inf - inf would be NaN */
        if (compensated(s) && vw)
            sb_printf(b, "    const %s y = v - *c, t = *s + y;\n"
                         "    *c = select((%s)(0), (t - *s) - y, isfinite(t));\n    *s = t;\n", ty, ty);
        else if (compensated(s))
            sb_printf(b, "    const %s y = v - *c, t = *s + y;\n"
                         "    *c = isfinite(t) ? (t - *s) - y : (%s)0;\n    *s = t;\n", ty, ty);
        else
            sb_printf(b, "    *s = (%s)((%s)*s + (%s)v);\n", T, W, W);
        break;
    case RED_PROD:
        if (is_float(s->acc))
            sb_puts(b, "    *s = *s * v;\n");
        else
            sb_printf(b, "    *s = (%s)((%s)*s * (%s)v);\n", T, W, W);
        break;
    case RED_MAX:
    case RED_MIN: {
        const char *cmp = s->kind == RED_MAX ? ">=" : "<=";
        if (vw)
            sb_printf(b, "    *s = select(v, *s, (*s %s v) | isnan(*s));\n", cmp);
        else if (is_float(s->acc))
            sb_printf(b, "    *s = (*s %s v || isnan(*s)) ? *s : v;\n", cmp);
        else
            sb_printf(b, "    *s = *s %s v ? *s : v;\n", cmp);
        break;
    }
    case RED_ARGMAX:
    case RED_ARGMIN: {
        /* the first index wins among equals, and the first NaN over all */
        const char *gt = s->kind == RED_ARGMAX ? ">" : "<";
        sb_puts(b, "    if (i < 0)\n        return;\n");
        if (is_float(s->acc))
            sb_printf(b, "    const int take = *bi < 0 || (isnan(*s) ? isnan(v) && i < *bi\n"
                         "        : isnan(v) || v %s *s || (v == *s && i < *bi));\n", gt);
        else
            sb_printf(b, "    const int take = *bi < 0 || v %s *s || (v == *s && i < *bi);\n", gt);
        sb_puts(b, "    if (take) {\n        *s = v;\n        *bi = i;\n    }\n");
        break;
    }
    case RED_ALL:
        sb_puts(b, "    *s = *s && v;\n");
        break;
    case RED_ANY:
        sb_puts(b, "    *s = *s || v;\n");
        break;
    default:
        break;
    }
    sb_puts(b, "}\n");
}

/* Kernel text under construction. */
typedef struct gen {
    const cg_reduce_spec *s;
    strbuf *b;
    params ps;
    int n_ops;          /* inputs + epilogue inputs */
    char names[64][16]; /* input value names */
    int kvec_chains;    /* elements are this many kvec-lane vectors of results */
} gen;

static int mem_input(const gen *g, int i) { return g->s->modes[i] != CG_VALUE; }

static damo_dtype input_dtype(const gen *g, int i)
{
    const cg_reduce_spec *s = g->s;
    if (i < s->n_in)
        return s->pro ? s->pro->in_dtype[i] : s->val;
    return s->epi->in_dtype[i - s->n_in + 1];
}

static void put_params(gen *g)
{
    const cg_reduce_spec *s = g->s;
    int row = s->mode == CG_RED_ROW, partial = s->mode == CG_RED_PARTIAL, fin = s->mode == CG_RED_FINAL;
    int arg = red_is_arg(s->kind), n_out = s->epi ? s->epi->n_out : 1;
    for (int i = 0; i < g->n_ops; i++) {
        /* the prologue's inputs are read by ROW and PARTIAL, the
         * epilogue's by ROW and FINAL */
        if ((i < s->n_in && fin) || (i >= s->n_in && partial))
            continue;
        const char *ty = dtype_cl_name(input_dtype(g, i));
        if (!mem_input(g, i)) {
            param(&g->ps, CGA_VALUE, i, 0, "const %s v%d", ty, i);
            continue;
        }
        param(&g->ps, CGA_MEM, i, 0, "__global const %s *restrict p%d", ty, i);
        param(&g->ps, CGA_OFFSET, i, 0, "const long p%d_off", i);
    }
    if (partial || fin) {
        param(&g->ps, CGA_SCRATCH, 0, 0, "__global %s%s *restrict part", fin ? "const " : "",
              dtype_cl_name(s->acc));
        if (arg)
            param(&g->ps, CGA_SCRATCH, 0, 1, "__global %slong *restrict pidx", fin ? "const " : "");
    }
    for (int o = 0; o < n_out && !partial; o++) {
        int j = g->n_ops + o;
        damo_dtype t = s->epi ? sprog_out_dtype(s->epi, o) : s->out;
        param(&g->ps, CGA_MEM, j, 0, "__global %s *restrict p%d", dtype_cl_name(t), j);
    }
    int coords = !fin || s->n_epi;
    for (int d = 0; coords && d < s->nk; d++)
        param(&g->ps, CGA_KSIZE, 0, d, "const long ks%d", d);
    for (int d = 0; !fin && d < s->nr; d++)
        param(&g->ps, CGA_RSIZE, 0, d, "const long rs%d", d);
    for (int i = 0; i < g->n_ops; i++) {
        if (!mem_input(g, i) || (i < s->n_in && fin) || (i >= s->n_in && partial))
            continue;
        for (int d = 0; d < s->nk; d++)
            param(&g->ps, CGA_KSTRIDE, i, d, "const long p%d_k%d", i, d);
        for (int d = 0; i < s->n_in && d < s->nr; d++)
            param(&g->ps, CGA_RSTRIDE, i, d, "const long p%d_r%d", i, d);
    }
    for (int d = 0; arg && !fin && d < s->nr; d++)
        param(&g->ps, CGA_RSTRIDE, CG_INDEX_OPERAND, d, "const long x_r%d", d);
    if (s->kind == RED_MEAN && !partial)
        param(&g->ps, CGA_COUNT, 0, 0, "const long count");
    if (!row)
        param(&g->ps, CGA_GROUPS, 0, 0, "const long groups");
    if (partial && !s->interleave)
        param(&g->ps, CGA_CHUNK, 0, 0, "const long chunk");
}

/* The kept coordinates k0.. of result o, and each memory input's base. */
static void put_coords(gen *g, int first, int last)
{
    const cg_reduce_spec *s = g->s;
    if (s->nk) {
        sb_puts(g->b, "    long q = o;\n");
        for (int d = s->nk - 1; d > 0; d--)
            sb_printf(g->b, "    const long k%d = q %% ks%d;\n    q /= ks%d;\n", d, d, d);
        sb_puts(g->b, "    const long k0 = q;\n");
    }
    for (int i = first; i < last; i++) {
        if (!mem_input(g, i))
            continue;
        sb_printf(g->b, "    const long b%d = p%d_off", i, i);
        for (int d = 0; d < s->nk; d++)
            sb_printf(g->b, " + k%d * p%d_k%d", d, i, d);
        sb_puts(g->b, ";\n");
    }
}

/* The prologue over the inputs named g->names, giving the value (in acc)
 * as the expression in `val`. */
static void put_value(gen *g, const char *indent, strbuf *val)
{
    const cg_reduce_spec *s = g->s;
    const char *in[64];
    for (int i = 0; i < s->n_in; i++)
        in[i] = g->names[i];
    char v[32];
    if (s->pro) {
        put_instrs(g->b, s->pro, in, "a", indent);
        snprintf(v, sizeof v, "a%d", s->pro->out[0]);
    } else {
        snprintf(v, sizeof v, "%s", in[0]);
    }
    put_convert(val, s->val, s->acc, v);
}

static void put_vector_step(gen *g, int d, const char *level, int lane, int acc, const char *indent);

/* One element: inputs loaded at their offsets `at` (c<i>_<level>), the
 * value combined at flat index `idx`. */
static void put_element(gen *g, const char *level, const char *idx, const char *indent)
{
    const cg_reduce_spec *s = g->s;
    if (g->kvec_chains) {
        for (int u = 0; u < g->kvec_chains; u++)
            put_vector_step(g, 0, level, u, u, indent);
        return;
    }
    for (int i = 0; i < s->n_in; i++) {
        if (!mem_input(g, i)) {
            snprintf(g->names[i], sizeof g->names[i], "v%d", i);
            continue;
        }
        snprintf(g->names[i], sizeof g->names[i], "x%d", i);
        sb_printf(g->b, "%sconst %s x%d = p%d[c%d%s];\n", indent, dtype_cl_name(input_dtype(g, i)), i,
                  i, i, level);
    }
    strbuf val;
    sb_init(&val);
    put_value(g, indent, &val);
    sb_printf(g->b, "%sdamo_combine(&s, &c, &bi, %s, %s);\n", indent, val.s ? val.s : "", idx);
    g->b->failed |= val.failed;
    sb_free(&val);
}



/* One vector step into accumulator `acc`: along the innermost reduced
 * dimension at j<d> + lane * vw, or (kvec) at the offsets c<i><level>. */
static void put_vector_step(gen *g, int d, const char *level, int lane, int acc, const char *indent)
{
    const cg_reduce_spec *s = g->s;
    int vw = s->kvec ? s->kvec : s->vw;
    const char *in[64];
    char names[64][16];
    sb_printf(g->b, "%s{\n", indent);
    char in_ind[32];
    snprintf(in_ind, sizeof in_ind, "%s    ", indent);
    for (int i = 0; i < s->n_in; i++) {
        const char *ty = dtype_cl_name(input_dtype(g, i));
        snprintf(names[i], sizeof names[i], "x%d", i);
        in[i] = names[i];
        char at[64];
        if (level)
            snprintf(at, sizeof at, "c%d%s + %d", i, level, lane * vw);
        else if (d)
            snprintf(at, sizeof at, "c%d_%d + j%d + %d", i, d - 1, d, lane * vw);
        else
            snprintf(at, sizeof at, "b%d + j%d + %d", i, d, lane * vw);
        if (mem_input(g, i))
            sb_printf(g->b, "%sconst %s%d x%d = vload%d(0, p%d + %s);\n", in_ind, ty, vw, i, vw, i, at);
        else
            sb_printf(g->b, "%sconst %s%d x%d = (%s%d)(v%d);\n", in_ind, ty, vw, i, ty, vw, i);
    }
    char v[32];
    if (s->pro) {
        put_vector_instrs(g->b, s->pro, in, "a", vw, in_ind);
        snprintf(v, sizeof v, "a%d", s->pro->out[0]);
    } else {
        snprintf(v, sizeof v, "x0");
    }
    if (s->val == s->acc)
        sb_printf(g->b, "%sdamo_combine_v(&sv%d, &cv%d, %s);\n", in_ind, acc, acc, v);
    else
        sb_printf(g->b, "%sdamo_combine_v(&sv%d, &cv%d, convert_%s%d(%s));\n", in_ind, acc, acc,
                  dtype_cl_name(s->acc), vw, v);
    sb_printf(g->b, "%s}\n", indent);
}

/* Vector steps over [j, end) of the innermost dimension, CHAINS vectors at
 * a time, then one at a time; the caller finishes the rest element by
 * element. */
static void put_vector_loop(gen *g, int d, const char *end, const char *indent)
{
    int vw = g->s->vw;
    char in_ind[32];
    snprintf(in_ind, sizeof in_ind, "%s    ", indent);
    sb_printf(g->b, "%sfor (; j%d + %d <= %s; j%d += %d) {\n", indent, d, CHAINS * vw, end, d,
              CHAINS * vw);
    for (int u = 0; u < CHAINS; u++)
        put_vector_step(g, d, NULL, u, u, in_ind);
    sb_printf(g->b, "%s}\n", indent);
    sb_printf(g->b, "%sfor (; j%d + %d <= %s; j%d += %d)\n", indent, d, vw, end, d, vw);
    put_vector_step(g, d, NULL, 0, 0, in_ind);
}

/* The loop nest from reduced dimension d in; offsets c<i>_<d> of level d
 * add j<d> strides to those of level d - 1 (the bases b<i> for d 0). */
static void put_loops(gen *g, int d, const char *indent)
{
    const cg_reduce_spec *s = g->s;
    int arg = red_is_arg(s->kind);
    if (d == s->nr) {
        char level[16], idx[16];
        snprintf(level, sizeof level, "_%d", d - 1);
        snprintf(idx, sizeof idx, arg ? "x_%d" : "0", d - 1);
        put_element(g, level, idx, indent);
        return;
    }
    char end[32], inner[32];
    snprintf(end, sizeof end, "rs%d", d);
    snprintf(inner, sizeof inner, "%s    ", indent);
    int outer_split = d == 0 && s->mode == CG_RED_PARTIAL;
    if (outer_split && !s->interleave) {
        sb_printf(g->b, "%sconst long lo = w * chunk, hi = min(rs0, lo + chunk);\n", indent);
        snprintf(end, sizeof end, "hi");
    }
    if (s->vw && d == s->nr - 1) {
        sb_printf(g->b, "%slong j%d = %s;\n", indent, d, outer_split ? "lo" : "0");
        put_vector_loop(g, d, end, indent);
        sb_printf(g->b, "%sfor (; j%d < %s; j%d++) {\n", indent, d, end, d);
    } else if (outer_split && s->interleave) {
        sb_printf(g->b, "%sfor (long j0 = w; j0 < rs0; j0 += workers) {\n", indent);
    } else {
        sb_printf(g->b, "%sfor (long j%d = %s; j%d < %s; j%d++) {\n", indent, d,
                  outer_split ? "lo" : "0", d, end, d);
    }
    for (int i = 0; i < s->n_in; i++)
        if (mem_input(g, i)) {
            char prev[32];
            if (d)
                snprintf(prev, sizeof prev, "c%d_%d", i, d - 1);
            else
                snprintf(prev, sizeof prev, "b%d", i);
            sb_printf(g->b, "%sconst long c%d_%d = %s + j%d * p%d_r%d;\n", inner, i, d, prev, d, i, d);
        }
    if (arg) {
        char prev[32];
        snprintf(prev, sizeof prev, d ? "x_%d" : "0", d - 1);
        sb_printf(g->b, "%sconst long x_%d = %s + j%d * x_r%d;\n", inner, d, prev, d, d);
    }
    put_loops(g, d + 1, inner);
    sb_printf(g->b, "%s}\n", indent);
}

/* Folds the vector accumulators' lanes into the scalar state. */
static void put_fold_lanes(gen *g)
{
    static const char hex[] = "0123456789abcdef";
    for (int u = 0; u < CHAINS; u++)
        for (int l = 0; l < g->s->vw; l++) {
            sb_printf(g->b, "    damo_combine(&s, &c, &bi, sv%d.s%c, 0);\n", u, hex[l]);
            if (compensated(g->s))
                sb_printf(g->b, "    damo_combine(&s, &c, &bi, -cv%d.s%c, 0);\n", u, hex[l]);
        }
}

/* The result of the state as dtype out, then the epilogue and stores. */
static void put_finish(gen *g)
{
    const cg_reduce_spec *s = g->s;
    const char *A = dtype_cl_name(s->acc);
    char expr[128];
    if (red_is_arg(s->kind))
        snprintf(expr, sizeof expr, "bi");
    else if (s->kind == RED_MEAN)
        snprintf(expr, sizeof expr, "(%s)((s - c) / (%s)count)", A, A);
    else if (compensated(s))
        snprintf(expr, sizeof expr, "(%s)(s - c)", A);
    else
        snprintf(expr, sizeof expr, "s");
    sb_printf(g->b, "    const %s r = ", dtype_cl_name(s->out));
    put_convert(g->b, red_is_arg(s->kind) ? DAMO_INT64 : s->acc, s->out, expr);
    sb_puts(g->b, ";\n");
    if (!s->epi) {
        sb_printf(g->b, "    p%d[o] = r;\n", g->n_ops);
        return;
    }
    const char *in[64];
    char names[64][16];
    in[0] = "r";
    for (int j = 1; j <= s->n_epi; j++) {
        int i = s->n_in + j - 1;
        snprintf(names[j], sizeof names[j], mem_input(g, i) ? "y%d" : "v%d", mem_input(g, i) ? j : i);
        in[j] = names[j];
        if (mem_input(g, i))
            sb_printf(g->b, "    const %s y%d = p%d[b%d];\n", dtype_cl_name(input_dtype(g, i)), j, i, i);
    }
    put_instrs(g->b, s->epi, in, "e", "    ");
    for (int o = 0; o < s->epi->n_out; o++)
        sb_printf(g->b, "    p%d[o] = e%d;\n", g->n_ops + o, s->epi->out[o]);
}

/* Partial results: the group's work-items combined as a tree in local
 * memory, written by its first. */
static void put_partial_store(gen *g)
{
    const cg_reduce_spec *s = g->s;
    int arg = red_is_arg(s->kind), L = s->local;
    const char *A = dtype_cl_name(s->acc);
    if (compensated(s))
        sb_puts(g->b, "    s = s - c;\n    c = 0;\n");
    if (L > 1) {
        sb_printf(g->b, "    __local %s ls[%d];\n", A, L);
        if (arg)
            sb_printf(g->b, "    __local long li[%d];\n", L);
        sb_printf(g->b, "    const int t = (int)get_local_id(0);\n    ls[t] = s;\n%s", arg ? "    li[t] = bi;\n" : "");
        sb_printf(g->b, "    for (int h = %d; h > 0; h >>= 1) {\n        barrier(CLK_LOCAL_MEM_FENCE);\n"
                        "        if (t < h) {\n            %s u = ls[t], uc = 0;\n            long ui = %s;\n"
                        "            damo_combine(&u, &uc, &ui, ls[t + h], %s);\n"
                        "            ls[t] = u;\n%s        }\n    }\n",
                  L / 2, A, arg ? "li[t]" : "0", arg ? "li[t + h]" : "0", arg ? "            li[t] = ui;\n" : "");
        sb_puts(g->b, "    if (t == 0) {\n");
        sb_printf(g->b, "        part[o * groups + g] = ls[0];\n%s    }\n",
                  arg ? "        pidx[o * groups + g] = li[0];\n" : "");
    } else {
        sb_printf(g->b, "    part[o * groups + g] = s;\n%s", arg ? "    pidx[o * groups + g] = bi;\n" : "");
    }
}

/* ROW with kvec lanes of results: a full vector of results computed on
 * vectors, then finished lane by lane; a row's last, partial vector result
 * by result. */
/* One result's values: the element itself when nothing is reduced, else
 * the loops over the reduced dimensions. */
static void put_row_values(gen *g)
{
    if (g->s->nr == 0) {
        for (int i = 0; i < g->s->n_in; i++)
            if (mem_input(g, i))
                sb_printf(g->b, "    const long c%d_ = b%d;\n", i, i);
        put_element(g, "_", "0", "    ");
    } else {
        put_loops(g, 0, "    ");
    }
}

/* Results o .. o + chains * kvec - 1 (o set by the caller): computed on
 * vectors, then finished lane by lane. */
static void put_kvec_block(gen *g, int chains)
{
    const cg_reduce_spec *s = g->s;
    strbuf *b = g->b;
    const char *A = dtype_cl_name(s->acc);
    int V = s->kvec, K = V * chains;
    for (int u = 0; u < chains; u++)
        sb_printf(b, "    %s%d sv%d = (%s%d)(%s), cv%d = (%s%d)(0);\n", A, V, u, A, V,
                  identity(s->kind, s->acc), u, A, V);
    put_coords(g, 0, s->n_in);
    g->kvec_chains = chains;
    put_row_values(g);
    g->kvec_chains = 0;
    sb_printf(b, "    %s ls[%d], lc[%d];\n", A, K, K);
    for (int u = 0; u < chains; u++)
        sb_printf(b, "    vstore%d(sv%d, 0, ls + %d);\n    vstore%d(cv%d, 0, lc + %d);\n", V, u, u * V,
                  V, u, u * V);
    sb_printf(b, "    for (int l = 0; l < %d; l++) {\n    const long o = o0 + l;\n"
                 "    const %s s = ls[l], c = lc[l];\n    const long bi = -1;\n", K, A);
    put_coords(g, s->n_in, g->n_ops);
    put_finish(g);
    sb_puts(b, "    }\n");
}

/* ROW with lanes of adjacent results: a work-item takes KVEC_CHAINS
 * vectors of them; a row's last results go a vector, then one, at a time. */
static void put_kvec(gen *g)
{
    const cg_reduce_spec *s = g->s;
    strbuf *b = g->b;
    const char *A = dtype_cl_name(s->acc);
    int V = s->kvec, K = V * KVEC_CHAINS, last = s->nk - 1;
    sb_printf(b, "    const long nv = (ks%d + %d) / %d, gid = get_global_id(0), kv = gid %% nv;\n"
                 "    const long row0 = gid / nv * ks%d, end = row0 + ks%d;\n"
                 "    long o0 = row0 + kv * %d;\n",
              last, K - 1, K, last, last, K);
    sb_printf(b, "    if (o0 + %d <= end) {\n    const long o = o0;\n", K);
    put_kvec_block(g, KVEC_CHAINS);
    sb_printf(b, "    } else {\n    for (; o0 + %d <= end; o0 += %d) {\n    const long o = o0;\n", V, V);
    put_kvec_block(g, 1);
    sb_puts(b, "    }\n    for (long o = o0; o < end; o++) {\n");
    sb_printf(b, "    %s s = %s, c = 0;\n    long bi = -1;\n", A, identity(s->kind, s->acc));
    put_coords(g, 0, g->n_ops);
    put_row_values(g);
    put_finish(g);
    sb_puts(b, "    }\n    }\n");
}

damo_status cg_reduce(const cg_reduce_spec *s, const char *name, cg_kernel *out)
{
    memset(out, 0, sizeof *out);
    strbuf b;
    sb_init(&b);
    gen g = {s, &b, {&b, NULL, 0, 0, 0}, s->n_in + s->n_epi, {{0}}, 0};
    if (g.n_ops > 64)
        return DAMO_ERR_NOMEM;
    int fp64 = s->val == DAMO_FLOAT64 || s->acc == DAMO_FLOAT64 || s->out == DAMO_FLOAT64 ||
               (s->pro && sprog_uses_fp64(s->pro)) || (s->epi && sprog_uses_fp64(s->epi));
    put_preamble(&b, fp64);
    const sprog *progs[2];
    int n_progs = 0;
    if (s->pro && s->mode != CG_RED_FINAL)
        progs[n_progs++] = s->pro;
    if (s->epi && s->mode != CG_RED_PARTIAL)
        progs[n_progs++] = s->epi;
    put_helpers(&b, progs, n_progs, 0);
    if ((s->vw || s->kvec) && s->pro)
        put_helpers(&b, &s->pro, 1, s->vw + s->kvec);
    put_combine(&b, s, 0);
    if (s->vw || s->kvec)
        put_combine(&b, s, s->vw + s->kvec);
    sb_printf(&b, "__kernel void %s(", name);
    put_params(&g);
    sb_puts(&b, ")\n{\n");
    const char *A = dtype_cl_name(s->acc);
    if (s->kvec) {
        put_kvec(&g);
        sb_puts(&b, "}\n");
        return finish_kernel(&b, &g.ps, out);
    }
    if (s->mode == CG_RED_PARTIAL) {
        sb_printf(&b, "    const long grp = get_group_id(0), o = grp / groups, g = grp %% groups;\n"
                      "    const long w = g * %d + (long)get_local_id(0), workers = groups * %d;\n",
                  s->local, s->local);
    } else {
        sb_puts(&b, "    const long o = get_global_id(0);\n");
    }
    sb_printf(&b, "    %s s = %s, c = 0;\n    long bi = -1;\n", A, identity(s->kind, s->acc));
    for (int u = 0; (s->vw || s->kvec) && u < CHAINS; u++)
        sb_printf(&b, "    %s%d sv%d = (%s%d)(%s), cv%d = (%s%d)(0);\n", A, s->vw + s->kvec, u, A,
                  s->vw + s->kvec, identity(s->kind, s->acc), u, A, s->vw + s->kvec);
    if (s->mode == CG_RED_FINAL) {
        sb_printf(&b, "    for (long g = 0; g < groups; g++)\n"
                      "        damo_combine(&s, &c, &bi, part[o * groups + g], %s);\n",
                  red_is_arg(s->kind) ? "pidx[o * groups + g]" : "0");
        if (s->n_epi)
            put_coords(&g, s->n_in, g.n_ops);
        put_finish(&g);
    } else {
        put_coords(&g, 0, s->mode == CG_RED_ROW ? g.n_ops : s->n_in);
        if (s->nr == 0) {
            for (int i = 0; i < s->n_in; i++)
                if (mem_input(&g, i))
                    sb_printf(&b, "    const long c%d_ = b%d;\n", i, i);
            put_element(&g, "_", "0", "    ");
        } else {
            put_loops(&g, 0, "    ");
        }
        if (s->vw)
            put_fold_lanes(&g);
        if (s->mode == CG_RED_ROW)
            put_finish(&g);
        else
            put_partial_store(&g);
    }
    sb_puts(&b, "}\n");
    return finish_kernel(&b, &g.ps, out);
}
