#include "program.h"

#include "../common/grow.h"

#include <stdlib.h>
#include <string.h>

void sprog_init(sprog *p) { memset(p, 0, sizeof *p); }

void sprog_free(sprog *p)
{
    free(p->in_dtype);
    free(p->instr);
    free(p->out);
    sprog_init(p);
}

int sprog_add_input(sprog *p, damo_dtype dtype)
{
    if (!grow_array((void **)&p->in_dtype, &p->cap_in, (size_t)p->n_in + 1, sizeof *p->in_dtype))
        return -1;
    p->in_dtype[p->n_in] = dtype;
    return p->n_in++;
}

int sprog_add_instr(sprog *p, scalar_op op, const op_types *types, int n_args,
                    const sp_ref *args)
{
    if (!grow_array((void **)&p->instr, &p->cap_instr, (size_t)p->n_instr + 1, sizeof *p->instr))
        return -1;
    sp_instr *ins = &p->instr[p->n_instr];
    memset(ins, 0, sizeof *ins);
    ins->op = op;
    ins->types = *types;
    ins->n_args = n_args;
    if (n_args)
        memcpy(ins->args, args, (size_t)n_args * sizeof *args);
    return p->n_instr++;
}

int sprog_add_output(sprog *p, int instr)
{
    if (!grow_array((void **)&p->out, &p->cap_out, (size_t)p->n_out + 1, sizeof *p->out))
        return -1;
    p->out[p->n_out] = instr;
    return p->n_out++;
}

damo_dtype sprog_ref_dtype(const sprog *p, sp_ref r)
{
    return r.kind == REF_INPUT ? p->in_dtype[r.index] : p->instr[r.index].types.out;
}

damo_dtype sprog_out_dtype(const sprog *p, int o) { return p->instr[p->out[o]].types.out; }

int sprog_has_op(const sprog *p, scalar_op op)
{
    for (int i = 0; i < p->n_instr; i++)
        if (p->instr[i].op == op)
            return 1;
    return 0;
}

int sprog_uses_fp64(const sprog *p)
{
    for (int i = 0; i < p->n_in; i++)
        if (p->in_dtype[i] == DAMO_FLOAT64)
            return 1;
    for (int i = 0; i < p->n_instr; i++) {
        const op_types *t = &p->instr[i].types;
        if (t->compute == DAMO_FLOAT64 || t->out == DAMO_FLOAT64)
            return 1;
    }
    return 0;
}

int sprog_exact(const sprog *p, unsigned fp32)
{
    for (int i = 0; i < p->n_instr; i++)
        if (!op_exact(p->instr[i].op, p->instr[i].types.compute, fp32))
            return 0;
    return 1;
}

/* Marks in need[0..n_instr + n_in) the instructions and inputs the outputs
 * o with keep[o] read: instructions only read earlier ones, so one
 * backward sweep finds them all. */
static void mark_needed(const sprog *p, const unsigned char *keep, unsigned char *need)
{
    for (int o = 0; o < p->n_out; o++)
        if (keep[o])
            need[p->out[o]] = 1;
    for (int i = p->n_instr - 1; i >= 0; i--)
        for (int k = 0; need[i] && k < p->instr[i].n_args; k++) {
            sp_ref r = p->instr[i].args[k];
            need[r.kind == REF_INSTR ? r.index : p->n_instr + r.index] = 1;
        }
}

damo_status sprog_subset(const sprog *p, const unsigned char *keep, sprog *dst, int *in_map,
                         int *instr_map)
{
    sprog_init(dst);
    size_t n = (size_t)(p->n_instr + p->n_in + 1);
    int *map = malloc(n * sizeof *map), *in_new = map ? map + p->n_instr : NULL;
    unsigned char *need = calloc(n, 1);
    damo_status st = map && need ? DAMO_OK : DAMO_ERR_NOMEM;
    if (st == DAMO_OK)
        mark_needed(p, keep, need);
    for (int i = 0; i < p->n_in && st == DAMO_OK; i++) {
        if (!need[p->n_instr + i])
            continue;
        if ((in_new[i] = sprog_add_input(dst, p->in_dtype[i])) < 0)
            st = DAMO_ERR_NOMEM;
        else
            in_map[in_new[i]] = i;
    }
    for (int i = 0; i < p->n_instr && st == DAMO_OK; i++) {
        if (!need[i])
            continue;
        sp_ref args[3];
        const sp_instr *ins = &p->instr[i];
        for (int k = 0; k < ins->n_args; k++) {
            args[k] = ins->args[k];
            args[k].index = args[k].kind == REF_INSTR ? map[args[k].index] : in_new[args[k].index];
        }
        if ((map[i] = sprog_add_instr(dst, ins->op, &ins->types, ins->n_args, args)) < 0)
            st = DAMO_ERR_NOMEM;
        else if (instr_map)
            instr_map[map[i]] = i;
    }
    for (int o = 0; o < p->n_out && st == DAMO_OK; o++)
        if (keep[o] && sprog_add_output(dst, map[p->out[o]]) < 0)
            st = DAMO_ERR_NOMEM;
    free(map);
    free(need);
    if (st != DAMO_OK)
        sprog_free(dst);
    return st;
}

int sprog_shared_costly(const sprog *p, int o)
{
    size_t n = (size_t)(p->n_instr + p->n_in + 1);
    unsigned char *keep = calloc((size_t)p->n_out + 1, 1), *a = calloc(n, 1), *b = calloc(n, 1);
    int costly = -1;
    if (keep && a && b) {
        keep[o] = 1;
        mark_needed(p, keep, a);
        for (int q = 0; q < p->n_out; q++)
            keep[q] = q != o && p->out[q] != p->out[o];
        mark_needed(p, keep, b);
        costly = 0;
        for (int i = 0; i < p->n_instr; i++)
            costly += a[i] && b[i] && !(op_get(p->instr[i].op)->flags & (EXACT | EXACT_CR));
    }
    free(keep);
    free(a);
    free(b);
    return costly;
}

damo_status sprog_permute(const sprog *p, const int *in_new, sprog *dst)
{
    sprog_init(dst);
    damo_status st = DAMO_OK;
    for (int i = 0; i < p->n_in && st == DAMO_OK; i++)
        st = sprog_add_input(dst, DAMO_BOOL) < 0 ? DAMO_ERR_NOMEM : DAMO_OK;
    for (int i = 0; i < p->n_in && st == DAMO_OK; i++)
        dst->in_dtype[in_new[i]] = p->in_dtype[i];
    for (int i = 0; i < p->n_instr && st == DAMO_OK; i++) {
        sp_instr ins = p->instr[i];
        for (int k = 0; k < ins.n_args; k++)
            if (ins.args[k].kind == REF_INPUT)
                ins.args[k].index = in_new[ins.args[k].index];
        if (sprog_add_instr(dst, ins.op, &ins.types, ins.n_args, ins.args) < 0)
            st = DAMO_ERR_NOMEM;
    }
    for (int o = 0; o < p->n_out && st == DAMO_OK; o++)
        if (sprog_add_output(dst, p->out[o]) < 0)
            st = DAMO_ERR_NOMEM;
    if (st != DAMO_OK)
        sprog_free(dst);
    return st;
}

double sprog_host_ns(const sprog *p)
{
    /* the shared functions an op's text may call, and what a call costs
     * (ns, with margin; the random ones loop, some until they accept) */
    static const struct { const char *name; double ns; } calls[] = {
        {"damo_fexp", 8},        {"damo_flog", 8},          {"damo_flog1p", 8},
        {"damo_log64", 8},       {"damo_ipow", 5},          {"damo_upow", 5},
        {"damo_rand_bits", 20},  {"damo_rand_normal", 40},  {"damo_rand_gamma", 200},
        {"damo_rand_poisson", 200}, {"damo_rand_binomial", 200}, {"damo_rand_truncnorm", 200},
    };
    double ns = 0;
    for (int i = 0; i < p->n_instr; i++) {
        ns += 0.5;
        const char *text = op_cl_text(p->instr[i].op, p->instr[i].types.compute);
        for (size_t f = 0; text && f < sizeof calls / sizeof calls[0]; f++) {
            size_t len = strlen(calls[f].name);
            /* a whole name: damo_flog must not count damo_flog1p's calls */
            for (const char *at = text; (at = strstr(at, calls[f].name)) != NULL; at += len)
                if (at[len] == '(' || at[len] == ' ')
                    ns += calls[f].ns;
        }
    }
    return ns;
}

int sprog_in_is_index(const sprog *p, int i)
{
    for (int k = 0; k < p->n_instr; k++) {
        const sp_instr *ins = &p->instr[k];
        if ((op_get(ins->op)->flags & INDEX_C) && ins->args[2].kind == REF_INPUT &&
            ins->args[2].index == i)
            return 1;
    }
    return 0;
}

/* The host evaluator works on blocks of up to BLOCK elements along the
 * innermost dimension: each instruction runs over a whole block before the
 * next, so its loop stays tight. Each instruction costs ~30 ns a block
 * besides its loop, so blocks are long: 35 additions and multiplications
 * over 400 elements took 8.4 us in blocks of 32, 4.4 in 128 and 2.6 in
 * 512 (the values then live in the second-level cache). */
#define BLOCK 512

/* Element offset of view v at index idx (the innermost index excluded). */
static int64_t row_offset(const sp_view *v, int ndim, const int64_t *idx)
{
    int64_t off = v->offset;
    for (int d = 0; d + 1 < ndim; d++)
        off += idx[d] * v->strides[d];
    return off;
}

/* sp_work's flags of a value (an input or an instruction's result) in
 * the block at hand. */
enum {
    V_INDEX = 1,   /* an index input */
    V_UNIFORM = 2, /* one value repeated over the block */
    V_KEPT = 4     /* uniform, and what the block held before: instructions
                    * over kept values need not run again */
};

/* The value of reference r: inputs first, then instructions. */
static int ref_slot(const sprog *p, sp_ref r)
{
    return r.kind == REF_INPUT ? r.index : p->n_in + r.index;
}

/* An instruction as the evaluator runs it, looked up once per work. */
typedef struct sp_exec {
    op_host_fn fn;         /* op_host */
    int slot[3];           /* its arguments' values (ref_slot) */
    unsigned char convert; /* bit k: argument k is converted; bit 3: the result */
    unsigned char wrap;    /* integer results wrapped (op_wrap_n) */
    unsigned char pass;    /* PASS_A */
} sp_exec;

static void exec_of(const sprog *p, int i, sp_exec *x)
{
    const sp_instr *in = &p->instr[i];
    const op_types *t = &in->types;
    x->fn = op_host(in->op, t->compute);
    x->convert = t->out != t->compute ? 8 : 0;
    for (int k = 0; k < in->n_args; k++) {
        damo_dtype from = sprog_ref_dtype(p, in->args[k]);
        x->slot[k] = ref_slot(p, in->args[k]);
        x->convert |= (unsigned char)((from != t->via[k] || t->via[k] != t->compute) << k);
    }
    x->wrap = dtype_kind_of(t->compute) != KIND_FLOAT;
    x->pass = in->n_args && (op_get(in->op)->flags & PASS_A) && !(x->convert & 9);
}

/* Instruction i of p over the n elements of a block, into its own block
 * (tmp: 3 blocks for conversions). An instruction over uniform values
 * computes one repeated value: where those values were kept from before,
 * so is its own, and it does not run again (a constant's arithmetic runs
 * once, not once per call). An op passing its argument a unchanged (PASS_A)
 * with no conversion points at a's values instead of copying them. */
static void eval_instr(const sprog *p, sp_work *w, int i, hval *tmp, int n)
{
    const sp_instr *in = &p->instr[i];
    const sp_exec *x = &w->exec[i];
    int slot = p->n_in + i, flags = V_UNIFORM | V_KEPT;
    for (int k = 0; k < in->n_args; k++)
        flags &= w->flags[x->slot[k]];
    if (x->pass) {
        w->val[slot] = w->val[x->slot[0]];
        w->flags[slot] = (unsigned char)flags;
        w->held_n[slot] = 0;
        return;
    }
    /* held_n is set only below, where val becomes the own block */
    if ((flags & V_KEPT) && w->held_n[slot] >= n) {
        w->flags[slot] = (unsigned char)flags;
        return;
    }
    const hval *arg[3] = {tmp, tmp, tmp};
    for (int k = 0; k < in->n_args; k++) {
        const hval *v = w->val[x->slot[k]];
        arg[k] = x->convert & (1 << k)
                     ? op_arg_convert_n(&in->types, k, sprog_ref_dtype(p, in->args[k]), v,
                                        tmp + (size_t)k * w->bs, n)
                     : v;
    }
    for (int k = in->n_args; k < 3; k++)
        arg[k] = arg[0];
    hval *res = w->mem + (size_t)slot * w->bs;
    x->fn(res, arg[0], arg[1], arg[2], n);
    if (x->wrap)
        op_wrap_n(in->types.compute, res, n);
    if (x->convert & 8)
        hval_convert_n(in->types.compute, in->types.out, res, res, n);
    w->val[slot] = res;
    w->flags[slot] = (unsigned char)(flags & V_UNIFORM);
    w->held_n[slot] = (flags & V_UNIFORM) ? n : 0;
}

void sp_work_free(sp_work *w)
{
    free(w->mem);
    memset(w, 0, sizeof *w);
}

/* Lays w out for p in blocks of bs elements: a block per input and
 * instruction, and 3 for conversions. Kept while it is for p and large
 * enough, with the uniform values its blocks hold. */
static damo_status work_ready(sp_work *w, const sprog *p, int bs)
{
    if (w->p == p && w->bs >= bs)
        return DAMO_OK;
    size_t n_slots = (size_t)p->n_in + (size_t)p->n_instr;
    size_t n_vals = (n_slots + 3) * (size_t)bs, n_held = (size_t)p->n_in + 1;
    size_t bytes = (n_vals + n_held) * sizeof(hval) + (size_t)p->n_instr * sizeof(sp_exec) +
                   n_slots * (sizeof(hval *) + sizeof(int) + 1);
    hval *mem = malloc(bytes);
    if (!mem)
        return DAMO_ERR_NOMEM;
    free(w->mem);
    w->p = p;
    w->bs = bs;
    w->mem = mem;
    w->held = mem + n_vals;
    w->exec = (sp_exec *)(void *)(w->held + n_held);
    for (int i = 0; i < p->n_instr; i++)
        exec_of(p, i, &w->exec[i]);
    w->val = (const hval **)(void *)(w->exec + p->n_instr);
    w->held_n = (int *)(void *)(w->val + n_slots);
    w->flags = (unsigned char *)(w->held_n + n_slots);
    for (size_t i = 0; i < n_slots; i++) {
        w->val[i] = NULL;
        w->held_n[i] = 0;
        w->flags[i] = i < (size_t)p->n_in && sprog_in_is_index(p, (int)i) ? V_INDEX : 0;
    }
    return DAMO_OK;
}

/* Points w->val[i] at input i's n values of the block at element offset
 * off (stride along the block), loading them into its block unless they
 * lie as hval holds them; a repeated value is copied in only when it is
 * not what the block holds already. */
static void load_input(const sprog *p, sp_work *w, const sp_view *in, int i, int64_t off,
                       int64_t stride, int n)
{
    hval *dst = w->mem + (size_t)i * (size_t)w->bs;
    damo_dtype t = p->in_dtype[i];
    w->val[i] = dst;
    if (w->flags[i] & V_INDEX) {
        for (int j = 0; j < n; j++)
            dst[j].u = (uint64_t)(off + j * stride);
        w->held_n[i] = 0;
    } else if (stride == 0) {
        hval v;
        v.u = 0; /* a float32 leaves the high bytes as they are */
        hval_load_n(t, in->data, off, 0, &v, 1);
        w->flags[i] = V_UNIFORM | V_KEPT;
        if (w->held_n[i] < n || v.u != w->held[i].u) {
            for (int j = 0; j < w->bs; j++)
                dst[j] = v;
            w->held[i] = v;
            w->held_n[i] = w->bs;
            w->flags[i] = V_UNIFORM;
        }
    } else {
        w->flags[i] = 0;
        if (stride == 1 && (t == DAMO_FLOAT64 || t == DAMO_INT64 || t == DAMO_UINT64)) {
            w->val[i] = (const hval *)in->data + off;
        } else {
            hval_load_n(t, in->data, off, stride, dst, n);
            w->held_n[i] = 0;
        }
    }
}

static void eval_blocks(const sprog *p, sp_work *w, int ndim, const int64_t *shape,
                        const sp_view *in, const sp_view *out, int64_t rows, int64_t len)
{
    int bs = w->bs;
    hval *tmp = w->mem + (size_t)(p->n_in + p->n_instr) * bs;
    int64_t idx[DAMO_MAX_DIMS] = {0};
    for (int64_t row = 0; row < rows; row++) {
        for (int64_t j0 = 0; j0 < len; j0 += bs) {
            int n = (int)(len - j0 < bs ? len - j0 : bs);
            for (int i = 0; i < p->n_in; i++) {
                int64_t stride = ndim ? in[i].strides[ndim - 1] : 0;
                load_input(p, w, &in[i], i, row_offset(&in[i], ndim, idx) + j0 * stride, stride, n);
            }
            for (int i = 0; i < p->n_instr; i++)
                eval_instr(p, w, i, tmp, n);
            for (int o = 0; o < p->n_out; o++) {
                int64_t stride = ndim ? out[o].strides[ndim - 1] : 0;
                hval_store_n(sprog_out_dtype(p, o), out[o].data,
                             row_offset(&out[o], ndim, idx) + j0 * stride, stride,
                             w->val[p->n_in + p->out[o]], n);
            }
        }
        for (int d = ndim - 2; d >= 0; d--) {
            if (++idx[d] < shape[d])
                break;
            idx[d] = 0;
        }
    }
}

damo_status sprog_eval(const sprog *p, sp_work *w, int ndim, const int64_t *shape,
                       const sp_view *in, const sp_view *out)
{
    int64_t rows = 1, len = ndim ? shape[ndim - 1] : 1;
    for (int d = 0; d + 1 < ndim; d++)
        rows *= shape[d];
    if (rows == 0 || len == 0)
        return DAMO_OK;
    /* a short innermost dimension takes short blocks */
    int bs = len < BLOCK ? (int)len : BLOCK;
    sp_work once = {0}, *use = w ? w : &once;
    if (work_ready(use, p, bs) != DAMO_OK)
        return DAMO_ERR_NOMEM;
    eval_blocks(p, use, ndim, shape, in, out, rows, len);
    if (!w)
        sp_work_free(&once);
    return DAMO_OK;
}
