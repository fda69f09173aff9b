/* Data movement kernels: a strided copy or copy-and-add between views
 * (converting dtypes as casts do), and the row gather and scatter of
 * integer-vector indexing. A work-item per element written, except the
 * scatter, whose work-items each own one element of a row and add the
 * indexed rows in order, so repeated indices accumulate deterministically
 * and never race. */
#include <stdio.h>
#include <string.h>

#include "emit.h"

/* Coordinates i<first>..i<last> of `var` over shape<d> (C order); the
 * coordinate `first` takes the rest. */
static void put_split(strbuf *b, const char *var, int first, int last)
{
    sb_printf(b, "    long r = %s;\n", var);
    for (int d = last; d > first; d--)
        sb_printf(b, "    const long i%d = r %% shape%d;\n    r /= shape%d;\n", d, d, d);
    sb_printf(b, "    const long i%d = r;\n", first);
}

/* `+ i<d> * p<j>_s<d>` for d in [first, last]. */
static void put_offset(strbuf *b, int j, int first, int last)
{
    sb_printf(b, "p%d_off", j);
    for (int d = first; d <= last; d++)
        sb_printf(b, " + i%d * p%d_s%d", d, j, d);
}

static void put_source(params *ps, int j, damo_dtype t, cg_access mode)
{
    if (mode == CG_VALUE) {
        param(ps, CGA_VALUE, j, 0, "const %s v%d", dtype_cl_name(t), j);
    } else {
        param(ps, CGA_MEM, j, 0, "__global const %s *restrict p%d", dtype_cl_name(t), j);
        param(ps, CGA_OFFSET, j, 0, "const long p%d_off", j);
    }
}

damo_status cg_copy(const cg_copy_spec *s, const char *name, cg_kernel *out)
{
    memset(out, 0, sizeof *out);
    strbuf b;
    sb_init(&b);
    params ps = {&b, NULL, 0, 0, 0};
    int nd = s->ndim;
    put_preamble(&b, s->dst == DAMO_FLOAT64 || s->src == DAMO_FLOAT64);
    if (s->add)
        put_op_helper(&b, SOP_ADD, s->dst);
    sb_printf(&b, "__kernel void %s(", name);
    param(&ps, CGA_MEM, 0, 0, "__global %s *restrict p0", dtype_cl_name(s->dst));
    param(&ps, CGA_OFFSET, 0, 0, "const long p0_off");
    put_source(&ps, 1, s->src, s->src_mode);
    for (int d = 1; d < nd; d++)
        param(&ps, CGA_SHAPE, 0, d, "const long shape%d", d);
    for (int j = 0; j < 2; j++)
        for (int d = 0; d < nd && (j == 0 || s->src_mode != CG_VALUE); d++)
            param(&ps, CGA_STRIDE, j, d, "const long p%d_s%d", j, d);
    sb_puts(&b, ")\n{\n");
    if (nd)
        put_split(&b, "(long)get_global_id(0)", 0, nd - 1);
    sb_puts(&b, "    const long at = ");
    put_offset(&b, 0, 0, nd - 1);
    sb_printf(&b, ";\n    const %s x = ", dtype_cl_name(s->src));
    if (s->src_mode == CG_VALUE) {
        sb_puts(&b, "v1");
    } else {
        sb_puts(&b, "p1[");
        put_offset(&b, 1, 0, nd - 1);
        sb_puts(&b, "]");
    }
    sb_puts(&b, ";\n    p0[at] = ");
    if (s->add)
        sb_printf(&b, "damo_add_%s(p0[at], ", dtype_suffix(s->dst));
    put_convert(&b, s->src, s->dst, "x");
    sb_puts(&b, s->add ? ");\n}\n" : ";\n}\n");
    return finish_kernel(&b, &ps, out);
}

damo_status cg_gather(const cg_gather_spec *s, const char *name, cg_kernel *out)
{
    memset(out, 0, sizeof *out);
    strbuf b;
    sb_init(&b);
    params ps = {&b, NULL, 0, 0, 0};
    int nd = s->ndim;
    const char *T = dtype_cl_name(s->t);
    put_preamble(&b, s->t == DAMO_FLOAT64);
    if (s->scatter)
        put_op_helper(&b, SOP_ADD, s->t);
    sb_printf(&b, "__kernel void %s(", name);
    param(&ps, CGA_MEM, 0, 0, "__global %s *restrict p0", T);
    int xi = s->scatter ? 2 : 1, ii = s->scatter ? 1 : 2;
    if (!s->scatter)
        put_source(&ps, 1, s->t, CG_STRIDED);
    param(&ps, CGA_MEM, ii, 0, "__global const %s *restrict p%d", dtype_cl_name(s->idx), ii);
    param(&ps, CGA_OFFSET, ii, 0, "const long p%d_off", ii);
    if (s->scatter)
        put_source(&ps, 2, s->t, s->y_mode);
    param(&ps, CGA_ROWS, 0, 0, "const long rows");
    param(&ps, CGA_SIZE, 0, 0, "const long row");
    if (s->scatter)
        param(&ps, CGA_COUNT, 0, 0, "const long count");
    for (int d = 1; d <= nd; d++)
        param(&ps, CGA_SHAPE, 0, d, "const long shape%d", d);
    for (int d = 0; d <= nd && (!s->scatter || s->y_mode != CG_VALUE); d++)
        param(&ps, CGA_STRIDE, xi, d, "const long p%d_s%d", xi, d);
    sb_puts(&b, ")\n{\n");
    if (!s->scatter) {
        sb_puts(&b, "    const long gid = get_global_id(0);\n");
        sb_printf(&b, "    long k = (long)p2[p2_off + gid / row];\n    const long i0 = k < 0 ? k + rows : k;\n");
        if (nd)
            put_split(&b, "gid % row", 1, nd);
        sb_puts(&b, "    p0[gid] = p1[");
        put_offset(&b, 1, 0, nd);
        sb_puts(&b, "];\n}\n");
        return finish_kernel(&b, &ps, out);
    }
    sb_puts(&b, "    const long e = get_global_id(0);\n");
    if (nd)
        put_split(&b, "e", 1, nd);
    if (s->y_mode != CG_VALUE) {
        sb_puts(&b, "    const long y0 = ");
        put_offset(&b, 2, 1, nd);
        sb_puts(&b, ";\n");
    }
    sb_puts(&b, "    for (long i = 0; i < count; i++) {\n"
                "        long k = (long)p1[p1_off + i];\n"
                "        const long at = (k < 0 ? k + rows : k) * row + e;\n");
    sb_printf(&b, "        p0[at] = damo_add_%s(p0[at], %s);\n    }\n}\n", dtype_suffix(s->t),
              s->y_mode == CG_VALUE ? "v2" : "p2[y0 + i * p2_s0]");
    return finish_kernel(&b, &ps, out);
}
