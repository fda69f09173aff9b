#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../common/strbuf.h"
#include "codegen.h"

/* Writes `expr` (of dtype from) converted to dtype to, as hval_convert
 * does: to bool is != 0, float to int saturates with NaN -> 0 (OpenCL's
 * _sat conversions), everything else is a C cast. */
static void put_convert(strbuf *b, damo_dtype from, damo_dtype to, const char *expr)
{
    if (to == DAMO_BOOL)
        sb_printf(b, "(uchar)((%s) != 0)", expr);
    else if (from == to)
        sb_puts(b, expr);
    else if (dtype_kind_of(from) == KIND_FLOAT && dtype_kind_of(to) != KIND_FLOAT)
        /* The spec makes _sat map NaN to 0, but NVIDIA's driver gives the
         * type's minimum, so NaN is tested explicitly. */
        sb_printf(b, "(isnan(%s) ? (%s)0 : convert_%s_sat(%s))", expr, dtype_cl_name(to),
                  dtype_cl_name(to), expr);
    else
        sb_printf(b, "(%s)(%s)", dtype_cl_name(to), expr);
}

/* A constant as an exact OpenCL literal of its dtype. */
static void put_literal(strbuf *b, damo_dtype t, hval v)
{
    const char *ty = dtype_cl_name(t);
    switch (dtype_kind_of(t)) {
    case KIND_FLOAT: {
        double d = t == DAMO_FLOAT32 ? (double)v.f32 : v.f64;
        if (d != d)
            sb_printf(b, "((%s)NAN)", ty);
        else if (isinf(d))
            sb_printf(b, "(%s(%s)INFINITY)", d < 0 ? "-" : "", ty);
        else
            sb_printf(b, "((%s)%a%s)", ty, d, t == DAMO_FLOAT32 ? "f" : "");
        break;
    }
    case KIND_INT:
        if (v.i == INT64_MIN)
            sb_printf(b, "((%s)(-9223372036854775807L - 1))", ty);
        else
            sb_printf(b, "((%s)%lldL)", ty, (long long)v.i);
        break;
    default:
        sb_printf(b, "((%s)%lluUL)", ty, (unsigned long long)v.u);
        break;
    }
}

static void put_ref(strbuf *b, const sp_ref r)
{
    static const char prefix[] = {[REF_INPUT] = 'v', [REF_CONST] = 'k', [REF_INSTR] = 't'};
    sb_printf(b, "%c%d", prefix[r.kind], r.index);
}

/* One helper function per (op, compute dtype) the program uses, in order
 * of first use: `T damo_<op>_<sfx>(T a, T b, T c)` wrapping the op's text. */
static void put_helpers(strbuf *b, const sprog *p)
{
    for (int i = 0; i < p->n_instr; i++) {
        const sp_instr *ins = &p->instr[i];
        int seen = 0;
        for (int j = 0; j < i && !seen; j++)
            seen = p->instr[j].op == ins->op && p->instr[j].compute == ins->compute;
        if (seen)
            continue;
        const op_def *d = op_get(ins->op);
        const char *ty = dtype_cl_name(ins->compute);
        sb_printf(b, "%s damo_%s_%s(", ty, d->name, dtype_suffix(ins->compute));
        for (int k = 0; k < d->arity; k++)
            sb_printf(b, "%s%s %c", k ? ", " : "", ty, 'a' + k);
        sb_printf(b, ")\n{\n    typedef %s T;\n    return (T)(%s);\n}\n", ty,
                  op_cl_text(ins->op, ins->compute));
    }
}

/* The index expression of an operand: "name[name_off + ...]". */
static void put_index(strbuf *b, const char *name, cg_access mode, int ndim)
{
    sb_printf(b, "%s[%s_off", name, name);
    if (mode == CG_FLAT)
        sb_puts(b, " + gid");
    else if (mode == CG_STRIDED)
        for (int d = 0; d < ndim; d++)
            sb_printf(b, " + i%d * %s_s%d", d, name, d);
    sb_puts(b, "]");
}

char *cg_elemwise(const sprog *p, int ndim, const cg_access *in_modes,
                  const cg_access *out_modes, const char *name)
{
    strbuf b;
    sb_init(&b);
    int strided = 0;
    for (int i = 0; i < p->n_in; i++)
        strided |= in_modes[i] == CG_STRIDED;
    for (int o = 0; o < p->n_out; o++)
        strided |= out_modes[o] == CG_STRIDED;

    if (sprog_uses_fp64(p))
        sb_puts(&b, "#pragma OPENCL EXTENSION cl_khr_fp64 : enable\n");
    put_helpers(&b, p);

    sb_printf(&b, "__kernel void %s(", name);
    for (int i = 0; i < p->n_in; i++)
        sb_printf(&b, "__global const %s *restrict in%d, const long in%d_off, ",
                  dtype_cl_name(p->in_dtype[i]), i, i);
    for (int o = 0; o < p->n_out; o++)
        sb_printf(&b, "__global %s *restrict out%d, const long out%d_off, ",
                  dtype_cl_name(p->instr[p->out[o]].out), o, o);
    sb_puts(&b, "const long n");
    if (strided) {
        for (int d = 0; d < ndim; d++)
            sb_printf(&b, ", const long shape%d", d);
        for (int i = 0; i < p->n_in; i++)
            for (int d = 0; in_modes[i] == CG_STRIDED && d < ndim; d++)
                sb_printf(&b, ", const long in%d_s%d", i, d);
        for (int o = 0; o < p->n_out; o++)
            for (int d = 0; out_modes[o] == CG_STRIDED && d < ndim; d++)
                sb_printf(&b, ", const long out%d_s%d", o, d);
    }
    sb_puts(&b, ")\n{\n    const long gid = get_global_id(0);\n    if (gid >= n)\n        return;\n");
    if (strided) {
        sb_puts(&b, "    long r = gid;\n");
        for (int d = ndim - 1; d >= 0; d--) {
            if (d > 0)
                sb_printf(&b, "    const long i%d = r %% shape%d;\n    r /= shape%d;\n", d, d, d);
            else
                sb_puts(&b, "    const long i0 = r;\n");
        }
    }
    for (int i = 0; i < p->n_in; i++) {
        char nm[16];
        snprintf(nm, sizeof nm, "in%d", i);
        sb_printf(&b, "    const %s v%d = ", dtype_cl_name(p->in_dtype[i]), i);
        put_index(&b, nm, in_modes[i], ndim);
        sb_puts(&b, ";\n");
    }
    for (int k = 0; k < p->n_const; k++) {
        sb_printf(&b, "    const %s k%d = ", dtype_cl_name(p->const_dtype[k]), k);
        put_literal(&b, p->const_dtype[k], p->const_val[k]);
        sb_puts(&b, ";\n");
    }
    for (int i = 0; i < p->n_instr; i++) {
        const sp_instr *ins = &p->instr[i];
        const op_def *d = op_get(ins->op);
        strbuf call;
        sb_init(&call);
        sb_printf(&call, "damo_%s_%s(", d->name, dtype_suffix(ins->compute));
        for (int a = 0; a < ins->n_args; a++) {
            strbuf arg;
            sb_init(&arg);
            put_ref(&arg, ins->args[a]);
            damo_dtype from = sprog_ref_dtype(p, ins->args[a]);
            if (a)
                sb_puts(&call, ", ");
            if (ins->op == OP_SWITCH && a == 0) {
                strbuf cond;
                sb_init(&cond);
                put_convert(&cond, from, DAMO_BOOL, arg.s ? arg.s : "");
                put_convert(&call, DAMO_BOOL, ins->compute, cond.s ? cond.s : "");
                call.failed |= cond.failed;
                sb_free(&cond);
            } else {
                put_convert(&call, from, ins->compute, arg.s ? arg.s : "");
            }
            call.failed |= arg.failed;
            sb_free(&arg);
        }
        sb_puts(&call, ")");
        sb_printf(&b, "    const %s t%d = ", dtype_cl_name(ins->out), i);
        put_convert(&b, ins->compute, ins->out, call.s ? call.s : "");
        sb_puts(&b, ";\n");
        b.failed |= call.failed;
        sb_free(&call);
    }
    for (int o = 0; o < p->n_out; o++) {
        char nm[16];
        snprintf(nm, sizeof nm, "out%d", o);
        sb_puts(&b, "    ");
        put_index(&b, nm, out_modes[o], ndim);
        sb_printf(&b, " = t%d;\n", p->out[o]);
    }
    sb_puts(&b, "}\n");
    return sb_take(&b);
}
