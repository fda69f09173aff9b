/* Fused elementwise kernels. Each (op, compute dtype) used becomes a helper
 * function wrapping the op's text from ops.def; the kernel loads each
 * input, converts and calls helpers in program order, and stores the
 * outputs. Floating-point contraction is off, so a * b + c is never fused
 * into an fma: the kernel rounds exactly where the host evaluator does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emit.h"

/* Names of a program's inputs: "<c><i>". */
typedef struct in_names {
    char text[64][16];
    const char *ptr[64];
    const char **names;
    char (*heap)[16];
} in_names;

static int names_init(in_names *n, int count, char c)
{
    n->heap = NULL;
    n->names = n->ptr;
    char (*t)[16] = n->text;
    if (count > 64) {
        n->heap = malloc((size_t)count * sizeof *n->heap);
        n->names = malloc((size_t)count * sizeof *n->names);
        if (!n->heap || !n->names) {
            free(n->heap);
            free(n->names);
            return 0;
        }
        t = n->heap;
    }
    for (int i = 0; i < count; i++) {
        snprintf(t[i], sizeof t[i], "%c%d", c, i);
        n->names[i] = t[i];
    }
    return 1;
}

static void names_free(in_names *n)
{
    if (n->heap) {
        free(n->heap);
        free(n->names);
    }
}

/* The position of input j's element read as `mode` at element `idx`. */
static void put_offset(strbuf *b, int j, cg_access mode, int ndim, const char *idx)
{
    sb_printf(b, "p%d_off", j);
    if (mode == CG_FLAT)
        sb_printf(b, " + %s", idx);
    else if (mode == CG_STRIDED)
        for (int d = 0; d < ndim; d++)
            sb_printf(b, " + i%d * p%d_s%d", d, j, d);
}

/* One element's work at element `idx`: load the inputs (a VALUE input is
 * its parameter v<i>), convert and call the helpers, store the outputs. */
static void put_scalar_body(strbuf *b, const sprog *p, int ndim, const cg_access *modes,
                            const char *idx, const char *indent)
{
    for (int i = 0; i < p->n_in; i++) {
        if (modes[i] == CG_VALUE)
            continue;
        /* an index input is its position; anything else is loaded there */
        const char *ty = dtype_cl_name(p->in_dtype[i]);
        int index = sprog_in_is_index(p, i);
        if (index)
            sb_printf(b, "%sconst %s v%d = (%s)(", indent, ty, i, ty);
        else
            sb_printf(b, "%sconst %s v%d = p%d[", indent, ty, i, i);
        put_offset(b, i, modes[i], ndim, idx);
        sb_puts(b, index ? ");\n" : "];\n");
    }
    in_names v;
    if (!names_init(&v, p->n_in, 'v')) {
        b->failed = 1;
        return;
    }
    put_instrs(b, p, v.names, "t", indent);
    names_free(&v);
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
    in_names x;
    if (!names_init(&x, p->n_in, 'x')) {
        b->failed = 1;
        return;
    }
    put_vector_instrs(b, p, x.names, "u", vw, indent);
    names_free(&x);
    for (int o = 0; o < p->n_out; o++)
        sb_printf(b, "%svstore%d(u%d, 0, p%d + base);\n", indent, vw, p->out[o], p->n_in + o);
}

int cg_vectorizable(const sprog *p)
{
    for (int i = 0; i < p->n_instr; i++) {
        const sp_instr *ins = &p->instr[i];
        damo_dtype t = ins->types.compute;
        unsigned f = op_get(ins->op)->flags;
        if (dtype_kind_of(t) != KIND_FLOAT || !(f & VEC) || ((f & FMATH) && t == DAMO_FLOAT64) ||
            ins->types.out != t)
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

    put_preamble(&b, sprog_uses_fp64(p));
    put_helpers(&b, &p, 1, 0);
    if (vw)
        put_helpers(&b, &p, 1, vw);

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
    return finish_kernel(&b, &ps, out);
}
