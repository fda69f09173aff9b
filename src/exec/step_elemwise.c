/* Fused elementwise steps: a generated kernel per (outputs kept, input
 * access modes, vector width), or the host evaluator for small exact work
 * (plan_small) whose inputs are on the host, or anywhere on a context
 * whose buffers are host memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/strbuf.h"
#include "plan.h"

static damo_status plan_kernel(plan *p, pstep *s, const psub *sub, int vw, cl_kernel *k,
                               const kvariant **kvo, damo_err *e);

/* Runtime shape of an array, left-padded with 1s to nd dims. */
static void padded_shape(const damo_array *a, int nd, int64_t *out)
{
    for (int d = 0; d < nd; d++)
        out[d] = d < nd - a->ndim ? 1 : a->shape[d - (nd - a->ndim)];
}

static int broadcast_into(int64_t *acc, const int64_t *s, int nd)
{
    for (int d = 0; d < nd; d++) {
        if (acc[d] == 1)
            acc[d] = s[d];
        else if (s[d] != 1 && s[d] != acc[d])
            return 0;
    }
    return 1;
}

static const char *shape_text(const int64_t *s, int nd, char *buf, size_t size)
{
    size_t len = (size_t)snprintf(buf, size, "(");
    for (int d = 0; d < nd && len < size; d++)
        len += (size_t)snprintf(buf + len, size - len, "%s%lld", d ? ", " : "", (long long)s[d]);
    if (len < size)
        snprintf(buf + len, size - len, ")");
    return buf;
}

/* Shapes of every instruction of step s in this call: those of the last
 * call when its inputs' shapes are the same. */
static damo_status step_shapes(plan *p, pstep *s, damo_err *e)
{
    const sprog *prog = &s->fp->prog;
    int nd = s->ndim, same = s->shapes_known;
    int64_t arg[3][DAMO_MAX_DIMS], in[DAMO_MAX_DIMS];
    char lab[256], sa[160], sb[160];
    for (int i = 0; i < prog->n_in; i++) {
        int64_t *known = s->in_shapes + (size_t)i * DAMO_MAX_DIMS;
        padded_shape(p->cur[s->in[i]], nd, in);
        same &= !memcmp(in, known, (size_t)nd * sizeof *in);
        memcpy(known, in, (size_t)nd * sizeof *in);
    }
    if (same)
        return DAMO_OK;
    s->shapes_known = 0;
    for (int i = 0; i < prog->n_instr; i++) {
        int64_t *sh = s->shapes + (size_t)i * DAMO_MAX_DIMS;
        for (int d = 0; d < nd; d++)
            sh[d] = 1;
        for (int k = 0; k < prog->instr[i].n_args; k++) {
            sp_ref r = prog->instr[i].args[k];
            const int64_t *from = r.kind == REF_INSTR ? s->shapes : s->in_shapes;
            memcpy(arg[k], from + (size_t)r.index * DAMO_MAX_DIMS, (size_t)nd * sizeof *arg[k]);
            if (!broadcast_into(sh, arg[k], nd))
                return err_set(e, DAMO_ERR_SHAPE,
                               "%s %s: shapes %s and %s cannot be broadcast together",
                               op_get(prog->instr[i].op)->name,
                               var_label(s->fp->instr_var[i], lab, sizeof lab),
                               shape_text(sh, nd, sa, sizeof sa), shape_text(arg[k], nd, sb, sizeof sb));
        }
        if (prog->instr[i].op == SOP_UNBROADCAST && memcmp(arg[0], arg[1], (size_t)nd * sizeof *arg[0]))
            return err_set(e, DAMO_ERR_SHAPE,
                           "gradient %s: a value of shape %s was broadcast to %s at run time on an "
                           "axis of unknown size; gradients sum over broadcast axes only where "
                           "the size 1 is static (declare it so), as in Aesara",
                           var_label(s->fp->instr_var[i], lab, sizeof lab),
                           shape_text(arg[1], nd, sa, sizeof sa), shape_text(arg[0], nd, sb, sizeof sb));
    }
    s->shapes_known = 1;
    return DAMO_OK;
}

static const int64_t *out_shape(const pstep *s, int o)
{
    return s->shapes + (size_t)s->fp->prog.out[o] * DAMO_MAX_DIMS;
}

/* How a kernel reads an operand of shape/strides (padded to nd) in the
 * iteration space; fills eff with the strides it uses. */
static cg_access access_mode(const damo_array *a, const int64_t *iter, int nd, int64_t *eff)
{
    int zero = 1, flat = 1;
    int64_t c = 1;
    for (int d = nd - 1; d >= 0; d--) {
        int k = d - (nd - a->ndim);
        int64_t size = k >= 0 ? a->shape[k] : 1, stride = k >= 0 ? a->strides[k] : 0;
        eff[d] = size == 1 ? 0 : stride;
        zero &= eff[d] == 0;
        flat &= size == iter[d] && (size == 1 || stride == c);
        c *= size;
    }
    if (zero)
        return a->st->host_valid ? CG_VALUE : CG_SCALAR;
    return flat ? CG_FLAT : CG_STRIDED;
}

/* The cached sub-program of s for the kept outputs. */
static psub *sub_for(pstep *s, damo_err *e)
{
    for (int i = 0; i < s->n_subs; i++)
        if (!memcmp(s->subs[i]->keep, s->keep, (size_t)s->n_out))
            return s->subs[i];
    psub **subs = realloc(s->subs, (size_t)(s->n_subs + 1) * sizeof *subs);
    psub *sub = subs ? calloc(1, sizeof *sub) : NULL;
    if (subs)
        s->subs = subs;
    if (!sub || !(sub->keep = malloc((size_t)s->n_out)) ||
        !(sub->in_map = malloc((size_t)(s->n_in + 1) * sizeof *sub->in_map)) ||
        sprog_subset(&s->fp->prog, s->keep, &sub->prog, sub->in_map, NULL) != DAMO_OK) {
        if (sub) {
            free(sub->keep);
            free(sub->in_map);
        }
        free(sub);
        err_set(e, DAMO_ERR_NOMEM, "out of memory splitting a step");
        return NULL;
    }
    memcpy(sub->keep, s->keep, (size_t)s->n_out);
    sub->vectorizable = cg_vectorizable(&sub->prog);
    s->subs[s->n_subs++] = sub;
    return sub;
}


/* Vector lanes per work-item for a program over n elements: on a CPU
 * device, 64 bytes of the program's one dtype (an AVX-512 register), when
 * the program computes on vectors, reads nothing strided, and has work
 * for several vectors. 0: one element per work-item (GPUs, where lanes are
 * work-items already). */
static int vector_width(const plan *p, const sprog *prog, int vectorizable,
                        const cg_access *modes, int64_t n)
{
    if (p->ctx->rt.dev.is_gpu || !vectorizable || !prog->n_instr)
        return 0;
    for (int k = 0; k < prog->n_in; k++)
        if (modes[k] == CG_STRIDED)
            return 0;
    int vw = (int)(64 / damo_dtype_size(prog->instr[0].types.compute));
    return n >= 4 * vw ? vw : 0;
}

typedef struct ew_numbers {
    const pstep *s;
    const int64_t *iter;
    int64_t n;
} ew_numbers;

static int64_t ew_num(const void *ctx, const cg_arg *a)
{
    const ew_numbers *c = ctx;
    if (a->kind == CGA_SIZE)
        return c->n;
    if (a->kind == CGA_SHAPE)
        return c->iter[a->dim];
    return c->s->strides[(size_t)a->operand * DAMO_MAX_DIMS + a->dim];
}

/* Binds a kernel's arguments from its descriptor and enqueues it. */
static damo_status launch(plan *p, pstep *s, const kvariant *kv, cl_kernel k,
                          damo_array *const *ops, const int64_t *iter, int64_t n, damo_err *e)
{
    ew_numbers nums = {s, iter, n};
    karg args = {ops, NULL, NULL, ew_num, &nums};
    if (plan_bind(k, &kv->cg, &args, e) != DAMO_OK)
        return e->code;
    /* GPUs get 256-item groups; on CPU devices groups of 1024 elements let
     * PoCL vectorize across work-items (measured best, bench_elemwise) */
    size_t items = kv->vw ? (size_t)((n + kv->vw - 1) / kv->vw) : (size_t)n;
    size_t want = p->ctx->rt.dev.is_gpu ? 256 : kv->vw ? (size_t)(1024 / kv->vw) : 1024;
    return plan_launch(p, k, items, want, e);
}

/* Runs (part of) step s over the iteration space iter: the program `sub`
 * (NULL: the whole one), on the host or the device. */
static damo_status run_part(plan *p, pstep *s, psub *sub, const int64_t *iter, int64_t n,
                            int on_host, damo_err *e)
{
    const sprog *prog = sub ? &sub->prog : &s->fp->prog;
    int nd = s->ndim;
    damo_array *ops[2 * 64];
    damo_array **operands = prog->n_in + prog->n_out <= 128
                                ? ops : malloc((size_t)(prog->n_in + prog->n_out) * sizeof *ops);
    if (!operands)
        return err_set(e, DAMO_ERR_NOMEM, "out of memory running a step");
    damo_status st = DAMO_OK;
    for (int k = 0; k < prog->n_in; k++) {
        damo_array *a = p->cur[s->in[sub ? sub->in_map[k] : k]];
        operands[k] = a;
        s->modes[k] = access_mode(a, iter, nd, s->strides + (size_t)k * DAMO_MAX_DIMS);
        if (on_host && !(s->views[k].data = (void *)array_direct_read(a, e)))
            st = e->code;
        else if (!on_host && s->modes[k] != CG_VALUE && !array_device_read(a, e))
            st = e->code;
    }
    for (int o = 0, j = prog->n_in; o < s->n_out && st == DAMO_OK; o++) {
        if (sub && !sub->keep[o])
            continue;
        damo_array *a = p->cur[s->out[o]];
        operands[j] = a;
        if (on_host ? !(s->views[j].data = on_host == 2 ? array_direct_write(a, e)
                                                        : array_host_write(a, e))
                    : !array_device_write(a, e))
            st = e->code;
        j++;
    }
    if (st == DAMO_OK && on_host) {
        for (int k = 0; k < prog->n_in + prog->n_out; k++) {
            damo_array *a = operands[k];
            int64_t *str = k < prog->n_in ? s->strides + (size_t)k * DAMO_MAX_DIMS
                                          : s->out_strides + (size_t)k * DAMO_MAX_DIMS;
            if (k >= prog->n_in)
                memcpy(str, a->strides, (size_t)nd * sizeof *str);
            s->views[k].strides = str;
            s->views[k].offset = a->offset;
        }
        if (sprog_eval(prog, sub ? &sub->work : &s->work, nd, iter, s->views,
                       s->views + prog->n_in) != DAMO_OK)
            st = err_set(e, DAMO_ERR_NOMEM, "out of memory running a step on the host");
    } else if (st == DAMO_OK && n > 0) {
        cl_kernel k;
        const kvariant *kv;
        int vw = vector_width(p, prog, sub ? sub->vectorizable : s->vectorizable, s->modes, n);
        if ((st = plan_kernel(p, s, sub, vw, &k, &kv, e)) == DAMO_OK)
            st = launch(p, s, kv, k, operands, iter, n, e);
    }
    if (operands != ops)
        free(operands);
    return st;
}

static int inputs_on_host(const plan *p, const pstep *s)
{
    for (int k = 0; k < s->n_in; k++)
        if (!p->cur[s->in[k]]->st->host_valid)
            return 0;
    return 1;
}

/* 0: a kernel; 1: the host, into host copies; 2: the calling thread, into
 * the device buffers' own memory (rt host_direct), when an input is only
 * on the device: the values stay where queued work finds them. */
static int runs_on_host(const plan *p, const pstep *s, int64_t n)
{
    if (!s->exact || !plan_small(p, (double)n * s->host_ns))
        return 0;
    if (inputs_on_host(p, s))
        return 1;
    return p->ctx->rt.host_direct ? 2 : 0;
}

static int64_t elements(const int64_t *shape, int nd)
{
    int64_t n = 1;
    for (int d = 0; d < nd; d++)
        n *= shape[d];
    return n;
}

/* Outputs of one shape are computed together; a step whose outputs differ
 * in shape at run time (an unknown size that is 1, or 0, for some of them)
 * runs once per shape, each part computing only its outputs. */
static damo_status run_step(plan *p, pstep *s, int *on_device, damo_err *e)
{
    damo_status st = step_shapes(p, s, e);
    int nd = s->ndim, parts = 0;
    int64_t most = 0;
    for (int o = 0; o < s->n_out && st == DAMO_OK; o++) {
        const int64_t *sh = out_shape(s, o);
        if (!plan_output(p, s->out[o], nd, sh, e))
            st = e->code;
        int64_t n = elements(sh, nd);
        most = n > most ? n : most;
        parts += !memcmp(sh, out_shape(s, 0), (size_t)nd * sizeof *sh) ? o == 0 : 1;
    }
    if (st != DAMO_OK)
        return st;
    int on_host = runs_on_host(p, s, most);
    *on_device |= !on_host;
    if (on_host == 2 && plan_thread_begin(p, e) != DAMO_OK)
        return e->code;
    if (parts == 1)
        return run_part(p, s, NULL, out_shape(s, 0), most, on_host, e);
    /* one part per distinct output shape, led by its first output */
    for (int o = 0; o < s->n_out && st == DAMO_OK; o++) {
        const int64_t *sh = out_shape(s, o);
        int first = 1;
        for (int q = 0; q < s->n_out; q++) {
            s->keep[q] = !memcmp(out_shape(s, q), sh, (size_t)nd * sizeof *sh);
            first &= !(s->keep[q] && q < o);
        }
        if (!first)
            continue;
        psub *sub = sub_for(s, e);
        st = sub ? run_part(p, s, sub, sh, elements(sh, nd), on_host, e) : e->code;
    }
    return st;
}

/* The kernel's first variant: 0-d inputs by value (a C number or a host
 * 0-d array, the common case), the rest contiguous. */
static damo_status first_kernel(plan *p, pstep *s, damo_err *e)
{
    for (int k = 0; k < s->n_in; k++)
        s->modes[k] = p->vals[s->in[k]].var->type.ndim == 0 ? CG_VALUE : CG_FLAT;
    cl_kernel kern;
    const kvariant *kv;
    return plan_kernel(p, s, NULL, 0, &kern, &kv, e);
}

/* Builds (or finds) the kernel of step s for its sub-program (NULL: the
 * whole), the current modes and vw vector lanes per work-item (0: one
 * element each). */
static damo_status plan_kernel(plan *p, pstep *s, const psub *sub, int vw, cl_kernel *k,
                               const kvariant **kvo, damo_err *e)
{
    const sprog *prog = sub ? &sub->prog : &s->fp->prog;
    size_t n = (size_t)prog->n_in;
    for (int v = 0; v < s->n_variants; v++) {
        const kvariant *kv = &s->variants[v];
        if (kv->sub == sub && kv->vw == vw && !memcmp(kv->modes, s->modes, n * sizeof *s->modes)) {
            *k = kv->kernel;
            *kvo = kv;
            return DAMO_OK;
        }
    }
    kvariant *vs = realloc(s->variants, (size_t)(s->n_variants + 1) * sizeof *vs);
    if (!vs)
        return err_set(e, DAMO_ERR_NOMEM, "out of memory building a kernel");
    s->variants = vs;
    kvariant *kv = &vs[s->n_variants];
    memset(kv, 0, sizeof *kv);
    kv->sub = sub;
    kv->vw = vw;
    if (!(kv->modes = malloc((n ? n : 1) * sizeof *kv->modes)) ||
        cg_elemwise(prog, s->ndim, s->modes, vw, "damo_ew", &kv->cg) != DAMO_OK) {
        free(kv->modes);
        return err_set(e, DAMO_ERR_NOMEM, "out of memory generating a kernel");
    }
    if (n)
        memcpy(kv->modes, s->modes, n * sizeof *s->modes);
    damo_status st = rt_kernel_get(&p->ctx->rt, kv->cg.source, p->build_options, "damo_ew",
                                   &kv->kernel, e);
    if (st != DAMO_OK) {
        free(kv->modes);
        cg_kernel_free(&kv->cg);
        return st;
    }
    s->n_variants++;
    *k = kv->kernel;
    *kvo = kv;
    return DAMO_OK;
}


static char *step_text(const fused_prog *fp)
{
    const sprog *prog = &fp->prog;
    strbuf b;
    sb_init(&b);
    sb_printf(&b, "fused elementwise: %d op%s (", prog->n_instr, prog->n_instr == 1 ? "" : "s");
    for (int i = 0; i < prog->n_instr; i++)
        sb_printf(&b, "%s%s", i ? ", " : "", op_get(prog->instr[i].op)->name);
    sb_printf(&b, "), %d output%s", prog->n_out, prog->n_out == 1 ? "" : "s");
    return sb_take(&b);
}

static damo_status ew_build(plan *p, pstep *s, damo_err *e)
{
    char lab[256];
    const gnode *n = s->node;
    const fused_prog *fp = n->params.fused;
    const sprog *prog = &fp->prog;
    if (!p->ctx->rt.dev.fp64 && sprog_uses_fp64(prog))
        return err_set(e, DAMO_ERR_UNSUPPORTED,
                       "device '%s' does not support float64 (cl_khr_fp64), which %s needs; use "
                       "float32 types (damo_fscalar, damo_fmatrix, ...) or choose a device with "
                       "fp64 through DAMO_DEVICE (damo-info lists the devices)",
                       p->ctx->rt.dev.name, var_label(fp->instr_var[0], lab, sizeof lab));
    s->fp = fp;
    s->ndim = n->out[0]->type.ndim;
    s->exact = sprog_exact(prog, p->ctx->rt.dev.fp32);
    s->host_ns = sprog_host_ns(prog);
    s->vectorizable = cg_vectorizable(prog);
    size_t ops = (size_t)(n->n_in + n->n_out) + 1, instrs = (size_t)prog->n_instr + 1;
    s->modes = calloc(ops, sizeof *s->modes);
    s->shapes = calloc(instrs * DAMO_MAX_DIMS, sizeof *s->shapes);
    s->in_shapes = calloc(ops * DAMO_MAX_DIMS, sizeof *s->in_shapes);
    s->strides = calloc(ops * DAMO_MAX_DIMS, sizeof *s->strides);
    s->keep = calloc(ops, 1);
    s->views = calloc(ops, sizeof *s->views);
    s->out_strides = calloc(ops * DAMO_MAX_DIMS, sizeof *s->out_strides);
    s->text = step_text(fp);
    if (!s->modes || !s->shapes || !s->in_shapes || !s->strides || !s->keep || !s->views ||
        !s->out_strides || !s->text)
        return err_set(e, DAMO_ERR_NOMEM, "out of memory planning the function");
    return first_kernel(p, s, e);
}

static damo_status ew_run(plan *p, pstep *s, damo_err *e)
{
    int on_device = 0;
    damo_status st = run_step(p, s, &on_device, e);
    p->on_device |= on_device;
    return st;
}

const step_class step_elemwise = {STEP_ELEMWISE, ew_build, ew_run};
