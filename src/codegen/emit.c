/* Emitters every kernel generator shares. */
#include "emit.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/grow.h"

/* The rule hval_convert follows on the host, spelled in OpenCL C. */
void put_convert(strbuf *b, damo_dtype from, damo_dtype to, const char *expr)
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

void put_preamble(strbuf *b, int fp64)
{
    /* no contraction: a * b + c rounds where the host evaluator rounds */
    if (fp64)
        sb_puts(b, "#pragma OPENCL EXTENSION cl_khr_fp64 : enable\n");
    sb_puts(b, "#pragma OPENCL FP_CONTRACT OFF\n");
}

static unsigned needs_shared(scalar_op op, damo_dtype t);

static void helper(strbuf *b, scalar_op op, damo_dtype t, int vw)
{
    const op_def *d = op_get(op);
    /* scalar float64 code takes fmath.h's functions (see there), vectors
     * and float32 the device's */
    if (d->flags & FMATH) {
        int own = t == DAMO_FLOAT64 && !vw;
        sb_printf(b, "#undef damo_flog\n#define damo_flog(a) %s(a)\n#undef damo_flog1p\n"
                     "#define damo_flog1p(a) %s(a)\n#undef damo_fexp\n#define damo_fexp(a) %s(a)\n",
                  own ? "damo_log64" : "log", own ? "damo_log1p64" : "log1p",
                  own ? "damo_exp64" : "exp");
    }
    /* a helper drawing random bits is as big as Philox: inlined only when
     * forced (kernels/philox.h) */
    if (needs_shared(op, t) & 2u)
        sb_puts(b, "inline __attribute__((always_inline)) ");
    char ty[16], wrap[16];
    snprintf(ty, sizeof ty, vw ? "%s%d" : "%s", dtype_cl_name(t), vw);
    snprintf(wrap, sizeof wrap, vw ? "%s%d" : "%s", dtype_cl_wrap_name(t), vw);
    sb_printf(b, "%s damo_%s_%s%s(", ty, d->name, dtype_suffix(t), vw ? "_v" : "");
    for (int k = 0; k < d->arity; k++)
        sb_printf(b, "%s%s %c", k ? ", " : "", ty, 'a' + k);
    sb_printf(b, ")\n{\n    typedef %s T;\n    typedef %s U;\n    return (T)(%s);\n}\n", ty, wrap,
              op_cl_text(op, t));
}

/* The hand-written sources of kernels/ an op's scalar text calls, as
 * bits: 1 integer powers (intmath.h), 2 random bits (philox.h), 4 float64
 * functions (fmath.h). */
static unsigned needs_shared(scalar_op op, damo_dtype t)
{
    const char *text = op_cl_text(op, t);
    int fmath = strstr(text, "damo_log64") || (t == DAMO_FLOAT64 && (op_get(op)->flags & FMATH));
    return (strstr(text, "damo_upow") || strstr(text, "damo_ipow") ? 1u : 0u) |
           (strstr(text, "damo_rand_") ? 2u : 0u) | (fmath ? 4u : 0u);
}

/* fp64: the kernel enables float64, so philox.h's float64 part may be
 * compiled. */
static void put_shared(strbuf *b, unsigned which, int fp64)
{
    if (!which)
        return;
    if (fp64 && (which & 6u))
        sb_puts(b, "#define DAMO_F64 double\n");
    /* always inlined: see kernels/philox.h */
    sb_puts(b, "#define DAMO_FN inline __attribute__((always_inline))\n#define DAMO_I64 long\n"
               "#define DAMO_U64 ulong\n#define DAMO_U32 uint\n");
    if (which & 1u)
        sb_printf(b, "%s\n", scalar_intmath_cl);
    /* philox.h's float64 part calls fmath.h's log */
    if ((which & 4u) || (fp64 && (which & 2u)))
        sb_printf(b, "%s\n", scalar_fmath_cl);
    if (which & 2u)
        sb_printf(b, "%s\n", scalar_philox_cl);
}

/* 1 when instruction i of progs[k] repeats an (op, dtype) met before. */
static int seen_before(const sprog *const *progs, int k, int i)
{
    const sp_instr *x = &progs[k]->instr[i];
    for (int q = 0; q <= k; q++)
        for (int j = 0; j < (q == k ? i : progs[q]->n_instr); j++)
            if (progs[q]->instr[j].op == x->op && progs[q]->instr[j].types.compute == x->types.compute)
                return 1;
    return 0;
}

void put_helpers(strbuf *b, const sprog *const *progs, int n_progs, int vw)
{
    unsigned shared = 0;
    int fp64 = 0;
    for (int k = 0; k < n_progs && !vw; k++) {
        fp64 |= sprog_uses_fp64(progs[k]);
        for (int i = 0; i < progs[k]->n_instr; i++)
            shared |= needs_shared(progs[k]->instr[i].op, progs[k]->instr[i].types.compute);
    }
    put_shared(b, shared, fp64);
    for (int k = 0; k < n_progs; k++)
        for (int i = 0; i < progs[k]->n_instr; i++)
            if (!seen_before(progs, k, i))
                helper(b, progs[k]->instr[i].op, progs[k]->instr[i].types.compute, vw);
}

void put_op_helper(strbuf *b, scalar_op op, damo_dtype t)
{
    put_shared(b, needs_shared(op, t), t == DAMO_FLOAT64);
    helper(b, op, t, 0);
}

static void ref_name(char *buf, size_t size, const sp_ref *r, const char *const *in, const char *pfx)
{
    if (r->kind == REF_INPUT)
        snprintf(buf, size, "%s", in[r->index]);
    else
        snprintf(buf, size, "%s%d", pfx, r->index);
}

void put_instrs(strbuf *b, const sprog *p, const char *const *in, const char *pfx,
                const char *indent)
{
    for (int i = 0; i < p->n_instr; i++) {
        const sp_instr *ins = &p->instr[i];
        damo_dtype t = ins->types.compute;
        strbuf call;
        sb_init(&call);
        sb_printf(&call, "damo_%s_%s(", op_get(ins->op)->name, dtype_suffix(t));
        for (int a = 0; a < ins->n_args; a++) {
            char ref[64];
            ref_name(ref, sizeof ref, &ins->args[a], in, pfx);
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
        sb_printf(b, "%sconst %s %s%d = ", indent, dtype_cl_name(ins->types.out), pfx, i);
        put_convert(b, t, ins->types.out, call.s ? call.s : "");
        sb_puts(b, ";\n");
        b->failed |= call.failed;
        sb_free(&call);
    }
}

void put_vector_instrs(strbuf *b, const sprog *p, const char *const *in, const char *pfx, int vw,
                       const char *indent)
{
    for (int i = 0; i < p->n_instr; i++) {
        const sp_instr *ins = &p->instr[i];
        damo_dtype t = ins->types.compute;
        sb_printf(b, "%sconst %s%d %s%d = damo_%s_%s_v(", indent, dtype_cl_name(t), vw, pfx, i,
                  op_get(ins->op)->name, dtype_suffix(t));
        for (int a = 0; a < ins->n_args; a++) {
            char ref[64];
            ref_name(ref, sizeof ref, &ins->args[a], in, pfx);
            sb_printf(b, "%s%s", a ? ", " : "", ref);
        }
        sb_puts(b, ");\n");
    }
}

void param(params *ps, cg_arg_kind kind, int operand, int dim, const char *fmt, ...)
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

damo_status finish_kernel(strbuf *b, params *ps, cg_kernel *out)
{
    out->source = sb_take(b);
    out->args = ps->args;
    out->n_args = ps->n;
    if (!out->source || ps->failed) {
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
