#include "program.h"

#include <stdlib.h>
#include <string.h>

void sprog_init(sprog *p) { memset(p, 0, sizeof *p); }

void sprog_free(sprog *p)
{
    free(p->in_dtype);
    free(p->const_dtype);
    free(p->const_val);
    free(p->instr);
    free(p->out);
    sprog_init(p);
}

/* Grows one array of a program; 0 when out of memory. */
static int grow(void **arr, int *cap, int need, size_t elem)
{
    if (need <= *cap)
        return 1;
    int c = *cap ? *cap * 2 : 8;
    while (c < need)
        c *= 2;
    void *q = realloc(*arr, (size_t)c * elem);
    if (!q)
        return 0;
    *arr = q;
    *cap = c;
    return 1;
}

int sprog_add_input(sprog *p, damo_dtype dtype)
{
    if (!grow((void **)&p->in_dtype, &p->cap_in, p->n_in + 1, sizeof *p->in_dtype))
        return -1;
    p->in_dtype[p->n_in] = dtype;
    return p->n_in++;
}

int sprog_add_const(sprog *p, damo_dtype dtype, hval value)
{
    int cap = p->cap_const;
    if (!grow((void **)&p->const_dtype, &cap, p->n_const + 1, sizeof *p->const_dtype))
        return -1;
    cap = p->cap_const;
    if (!grow((void **)&p->const_val, &cap, p->n_const + 1, sizeof *p->const_val))
        return -1;
    p->cap_const = cap;
    p->const_dtype[p->n_const] = dtype;
    p->const_val[p->n_const] = value;
    return p->n_const++;
}

int sprog_add_instr(sprog *p, scalar_op op, damo_dtype compute, damo_dtype out, int n_args,
                    const sp_ref *args)
{
    if (!grow((void **)&p->instr, &p->cap_instr, p->n_instr + 1, sizeof *p->instr))
        return -1;
    sp_instr *ins = &p->instr[p->n_instr];
    memset(ins, 0, sizeof *ins);
    ins->op = op;
    ins->compute = compute;
    ins->out = out;
    ins->n_args = n_args;
    memcpy(ins->args, args, (size_t)n_args * sizeof *args);
    return p->n_instr++;
}

int sprog_add_output(sprog *p, int instr)
{
    if (!grow((void **)&p->out, &p->cap_out, p->n_out + 1, sizeof *p->out))
        return -1;
    p->out[p->n_out] = instr;
    return p->n_out++;
}

damo_dtype sprog_ref_dtype(const sprog *p, sp_ref r)
{
    switch (r.kind) {
    case REF_INPUT: return p->in_dtype[r.index];
    case REF_CONST: return p->const_dtype[r.index];
    default: return p->instr[r.index].out;
    }
}

int sprog_uses_fp64(const sprog *p)
{
    for (int i = 0; i < p->n_in; i++)
        if (p->in_dtype[i] == DAMO_FLOAT64)
            return 1;
    for (int i = 0; i < p->n_const; i++)
        if (p->const_dtype[i] == DAMO_FLOAT64)
            return 1;
    for (int i = 0; i < p->n_instr; i++) {
        const sp_instr *ins = &p->instr[i];
        if (ins->compute == DAMO_FLOAT64 || ins->out == DAMO_FLOAT64)
            return 1;
        /* integer pow goes through double (see ops.def) */
        if (ins->op == OP_POW && dtype_kind_of(ins->compute) != KIND_FLOAT)
            return 1;
    }
    return 0;
}

hval sprog_arg_convert(const sp_instr *ins, int arg, damo_dtype from, hval v)
{
    if (ins->op == OP_SWITCH && arg == 0)
        return hval_convert(DAMO_BOOL, ins->compute, hval_convert(from, DAMO_BOOL, v));
    return hval_convert(from, ins->compute, v);
}

damo_status sprog_eval(const sprog *p, int ndim, const int64_t *shape, const sp_view *in,
                       const sp_view *out)
{
    hval stack_vals[64];
    hval *vals = p->n_instr <= 64 ? stack_vals : malloc((size_t)p->n_instr * sizeof *vals);
    if (!vals)
        return DAMO_ERR_NOMEM;
    int64_t total = 1;
    for (int d = 0; d < ndim; d++)
        total *= shape[d];
    int64_t idx[DAMO_MAX_DIMS] = {0};
    for (int64_t n = 0; n < total; n++) {
        for (int i = 0; i < p->n_instr; i++) {
            const sp_instr *ins = &p->instr[i];
            hval a[3] = {{0}, {0}, {0}};
            for (int k = 0; k < ins->n_args; k++) {
                sp_ref r = ins->args[k];
                hval v;
                if (r.kind == REF_INPUT) {
                    int64_t off = in[r.index].offset;
                    for (int d = 0; d < ndim; d++)
                        off += idx[d] * in[r.index].strides[d];
                    v = hval_load(p->in_dtype[r.index], in[r.index].data, off);
                } else if (r.kind == REF_CONST) {
                    v = p->const_val[r.index];
                } else {
                    v = vals[r.index];
                }
                a[k] = sprog_arg_convert(ins, k, sprog_ref_dtype(p, r), v);
            }
            vals[i] = hval_convert(ins->compute, ins->out,
                                   op_eval(ins->op, ins->compute, a[0], a[1], a[2]));
        }
        for (int o = 0; o < p->n_out; o++) {
            int64_t off = out[o].offset;
            for (int d = 0; d < ndim; d++)
                off += idx[d] * out[o].strides[d];
            hval_store(p->instr[p->out[o]].out, out[o].data, off, vals[p->out[o]]);
        }
        for (int d = ndim - 1; d >= 0; d--) {
            if (++idx[d] < shape[d])
                break;
            idx[d] = 0;
        }
    }
    if (vals != stack_vals)
        free(vals);
    return DAMO_OK;
}
