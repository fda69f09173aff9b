/* Fused elementwise kernels. Each (op, compute dtype) used becomes a helper
 * function wrapping the op's text from ops.def; the kernel loads each
 * input, converts and calls helpers in program order, and stores the
 * outputs. Floating-point contraction is off, so a * b + c is never fused
 * into an fma: the kernel rounds exactly where the host evaluator does. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/grow.h"
#include "../common/strbuf.h"
#include "codegen.h"

/* Writes `expr` (of dtype from) converted to dtype `to` by dtype_cvt_rule,
 * the rule hval_convert follows on the host. */
static void put_convert(strbuf *b, damo_dtype from, damo_dtype to, const char *expr)
{
    const char *ty = dtype_cl_name(to);
    switch (dtype_cvt_rule(from, to)) {
    case CVT_SAME:
        sb_puts(b, expr);
        break;
    case CVT_TO_BOOL:
        sb_printf(b, "(uchar)((%s) != 0)", expr);
        break;
    case CVT_FLOAT_TO_INT:
        /* The spec makes _sat map NaN to 0, but NVIDIA's driver gives the
         * type's minimum, so NaN is tested explicitly. */
        sb_printf(b, "(isnan(%s) ? (%s)0 : convert_%s_sat(%s))", expr, ty, ty, expr);
        break;
    case CVT_PLAIN:
        sb_printf(b, "(%s)(%s)", ty, expr);
        break;
    }
}

static int uses_helper(const sprog *p, int i)
{
    for (int j = 0; j < i; j++)
        if (p->instr[j].op == p->instr[i].op && p->instr[j].types.compute == p->instr[i].types.compute)
            return 1;
    return 0;
}

/* One helper per (op, compute dtype) the program uses, in order of first
 * use: `T damo_<op>_<sfx>(T a, T b, T c)` wrapping the op's text, or with
 * vw lanes `damo_<op>_<sfx>_v` over vector types. The integer helpers of
 * kernels/intmath.h come first when a text calls one. */
static void put_helpers(strbuf *b, const sprog *p, int vw)
{
    int intmath = 0;
    for (int i = 0; i < p->n_instr && !vw; i++)
        intmath |= strstr(op_cl_text(p->instr[i].op, p->instr[i].types.compute), "damo_") != NULL;
    if (intmath)
        sb_printf(b, "#define DAMO_FN\n#define DAMO_I64 long\n#define DAMO_U64 ulong\n%s\n",
                  scalar_intmath_cl);
    for (int i = 0; i < p->n_instr; i++) {
        if (uses_helper(p, i))
            continue;
        const sp_instr *ins = &p->instr[i];
        const op_def *d = op_get(ins->op);
        damo_dtype t = ins->types.compute;
        char ty[16], wrap[16];
        snprintf(ty, sizeof ty, vw ? "%s%d" : "%s", dtype_cl_name(t), vw);
        snprintf(wrap, sizeof wrap, vw ? "%s%d" : "%s", dtype_cl_wrap_name(t), vw);
        sb_printf(b, "%s damo_%s_%s%s(", ty, d->name, dtype_suffix(t), vw ? "_v" : "");
        for (int k = 0; k < d->arity; k++)
            sb_printf(b, "%s%s %c", k ? ", " : "", ty, 'a' + k);
        sb_printf(b, ")\n{\n    typedef %s T;\n    typedef %s U;\n    return (T)(%s);\n}\n", ty,
                  wrap, op_cl_text(ins->op, t));
    }
}

/* Parameter list and descriptor, built side by side so they cannot
 * disagree. */
typedef struct params {
    strbuf *b;
    cg_arg *args;
    int n;
    size_t cap;
    int failed;
} params;

static void param(params *ps, cg_arg_kind kind, int operand, int dim, const char *fmt, ...)
    DAMO_PRINTF(5, 6);

static void param(params *ps, cg_arg_kind kind, int operand, int dim, const char *fmt, ...)
{
    if (!grow_array((void **)&ps->args, &ps->cap, (size_t)ps->n + 1, sizeof *ps->args)) {
        ps->failed = 1;
        return;
    }
    ps->args[ps->n++] = (cg_arg){kind, operand, dim};
    char text[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    sb_printf(ps->b, "%s%s", ps->n > 1 ? ", " : "", text);
}

/* The element of input j read as `mode` at element `idx`. */
static void put_index(strbuf *b, int j, cg_access mode, int ndim, const char *idx)
{
    sb_printf(b, "p%d[p%d_off", j, j);
    if (mode == CG_FLAT)
        sb_printf(b, " + %s", idx);
    else if (mode == CG_STRIDED)
        for (int d = 0; d < ndim; d++)
            sb_printf(b, " + i%d * p%d_s%d", d, j, d);
    sb_puts(b, "]");
}

/* One element's work at element `idx`: load the inputs (a VALUE input is
 * its parameter v<i>), convert and call the helpers, store the outputs. */
static void put_scalar_body(strbuf *b, const sprog *p, int ndim, const cg_access *modes,
                            const char *idx, const char *indent)
{
    for (int i = 0; i < p->n_in; i++) {
        if (modes[i] == CG_VALUE)
            continue;
        sb_printf(b, "%sconst %s v%d = ", indent, dtype_cl_name(p->in_dtype[i]), i);
        put_index(b, i, modes[i], ndim, idx);
        sb_puts(b, ";\n");
    }
    for (int i = 0; i < p->n_instr; i++) {
        const sp_instr *ins = &p->instr[i];
        damo_dtype t = ins->types.compute;
        strbuf call;
        sb_init(&call);
        sb_printf(&call, "damo_%s_%s(", op_get(ins->op)->name, dtype_suffix(t));
        for (int a = 0; a < ins->n_args; a++) {
            char ref[16];
            snprintf(ref, sizeof ref, "%c%d", ins->args[a].kind == REF_INPUT ? 'v' : 't',
                     ins->args[a].index);
            strbuf via;
            sb_init(&via);
            put_convert(&via, sprog_ref_dtype(p, ins->args[a]), ins->types.via[a], ref);
            if (a)
                sb_puts(&call, ", ");
            put_convert(&call, ins->types.via[a], t, via.s ? via.s : "");
            call.failed |= via.failed;
            sb_free(&via);
        }
        sb_puts(&call, ")");
        sb_printf(b, "%sconst %s t%d = ", indent, dtype_cl_name(ins->types.out), i);
        put_convert(b, t, ins->types.out, call.s ? call.s : "");
        sb_puts(b, ";\n");
        b->failed |= call.failed;
        sb_free(&call);
    }
    for (int o = 0; o < p->n_out; o++)
        sb_printf(b, "%sp%d[%s] = t%d;\n", indent, p->n_in + o, idx, p->out[o]);
}

/* vw elements' work from element `base` on, in vectors of vw lanes (a
 * program cg_vectorizable accepts: no conversions). */
static void put_vector_body(strbuf *b, const sprog *p, const cg_access *modes, int vw,
                            const char *indent)
{
    for (int i = 0; i < p->n_in; i++) {
        const char *ty = dtype_cl_name(p->in_dtype[i]);
        sb_printf(b, "%sconst %s%d x%d = ", indent, ty, vw, i);
        if (modes[i] == CG_FLAT)
            sb_printf(b, "vload%d(0, p%d + p%d_off + base);\n", vw, i, i);
        else if (modes[i] == CG_VALUE)
            sb_printf(b, "(%s%d)(v%d);\n", ty, vw, i);
        else
            sb_printf(b, "(%s%d)(p%d[p%d_off]);\n", ty, vw, i, i);
    }
    for (int i = 0; i < p->n_instr; i++) {
        const sp_instr *ins = &p->instr[i];
        damo_dtype t = ins->types.compute;
        sb_printf(b, "%sconst %s%d u%d = damo_%s_%s_v(", indent, dtype_cl_name(t), vw, i,
                  op_get(ins->op)->name, dtype_suffix(t));
        for (int a = 0; a < ins->n_args; a++)
            sb_printf(b, "%s%c%d", a ? ", " : "", ins->args[a].kind == REF_INPUT ? 'x' : 'u',
                      ins->args[a].index);
        sb_puts(b, ");\n");
    }
    for (int o = 0; o < p->n_out; o++)
        sb_printf(b, "%svstore%d(u%d, 0, p%d + base);\n", indent, vw, p->out[o], p->n_in + o);
}

int cg_vectorizable(const sprog *p)
{
    for (int i = 0; i < p->n_instr; i++) {
        const sp_instr *ins = &p->instr[i];
        damo_dtype t = ins->types.compute;
        if (dtype_kind_of(t) != KIND_FLOAT || !(op_get(ins->op)->flags & VEC) || ins->types.out != t)
            return 0;
        for (int a = 0; a < ins->n_args; a++)
            if (ins->types.via[a] != t || sprog_ref_dtype(p, ins->args[a]) != t)
                return 0;
    }
    return 1;
}

damo_status cg_elemwise(const sprog *p, int ndim, const cg_access *in_modes, int vw,
                        const char *name, cg_kernel *out)
{
    memset(out, 0, sizeof *out);
    strbuf b;
    sb_init(&b);
    params ps = {&b, NULL, 0, 0, 0};
    int strided = 0;
    for (int i = 0; i < p->n_in; i++)
        strided |= in_modes[i] == CG_STRIDED;

    if (sprog_uses_fp64(p))
        sb_puts(&b, "#pragma OPENCL EXTENSION cl_khr_fp64 : enable\n");
    sb_puts(&b, "#pragma OPENCL FP_CONTRACT OFF\n");
    put_helpers(&b, p, 0);
    if (vw)
        put_helpers(&b, p, vw);

    sb_printf(&b, "__kernel void %s(", name);
    for (int i = 0; i < p->n_in; i++) {
        const char *ty = dtype_cl_name(p->in_dtype[i]);
        if (in_modes[i] == CG_VALUE) {
            param(&ps, CGA_VALUE, i, 0, "const %s v%d", ty, i);
            continue;
        }
        param(&ps, CGA_MEM, i, 0, "__global const %s *restrict p%d", ty, i);
        param(&ps, CGA_OFFSET, i, 0, "const long p%d_off", i);
    }
    /* outputs are whole arrays the plan owns: no offset */
    for (int o = 0; o < p->n_out; o++) {
        int j = p->n_in + o;
        param(&ps, CGA_MEM, j, 0, "__global %s *restrict p%d", dtype_cl_name(sprog_out_dtype(p, o)), j);
    }
    if (vw)
        param(&ps, CGA_SIZE, 0, 0, "const long n");
    for (int d = 0; strided && d < ndim; d++)
        param(&ps, CGA_SHAPE, 0, d, "const long shape%d", d);
    for (int i = 0; i < p->n_in; i++)
        for (int d = 0; in_modes[i] == CG_STRIDED && d < ndim; d++)
            param(&ps, CGA_STRIDE, i, d, "const long p%d_s%d", i, d);
    sb_puts(&b, ")\n{\n");
    if (vw) {
        /* a work-item per vector; the last one finishes a partial vector
         * element by element */
        sb_printf(&b, "    const long base = (long)get_global_id(0) * %d;\n", vw);
        sb_printf(&b, "    if (base + %d <= n) {\n", vw);
        put_vector_body(&b, p, in_modes, vw, "        ");
        sb_puts(&b, "    } else {\n        for (long e = base; e < n; e++) {\n");
        put_scalar_body(&b, p, ndim, in_modes, "e", "            ");
        sb_puts(&b, "        }\n    }\n}\n");
    } else {
        /* no bound check: launches run exactly the iteration space
         * (rt_launch), and an early return stops PoCL's vectorizer */
        sb_puts(&b, "    const long gid = get_global_id(0);\n");
        if (strided) {
            sb_puts(&b, "    long r = gid;\n");
            for (int d = ndim - 1; d > 0; d--)
                sb_printf(&b, "    const long i%d = r %% shape%d;\n    r /= shape%d;\n", d, d, d);
            sb_puts(&b, "    const long i0 = r;\n");
        }
        put_scalar_body(&b, p, ndim, in_modes, "gid", "    ");
        sb_puts(&b, "}\n");
    }
    out->source = sb_take(&b);
    out->args = ps.args;
    out->n_args = ps.n;
    if (!out->source || ps.failed) {
        cg_kernel_free(out);
        return DAMO_ERR_NOMEM;
    }
    return DAMO_OK;
}

void cg_kernel_free(cg_kernel *k)
{
    free(k->source);
    free(k->args);
    memset(k, 0, sizeof *k);
}
