/* What the step classes share to run generated kernels: finding or
 * building a kernel by its spec, binding arguments from a descriptor,
 * launching, strided copies between views, and layout helpers. */
#include <stdlib.h>
#include <string.h>

#include "plan.h"

damo_status plan_gkernel(plan *p, pstep *s, const void *key, size_t size, gen_fn gen,
                         const gkernel **out, damo_err *e)
{
    unsigned char k[GK_KEY_BYTES] = {0};
    if (size > sizeof k)
        return err_set(e, DAMO_ERR_INVALID, "internal error: a kernel key of %zu bytes", size);
    memcpy(k, key, size);
    for (int i = 0; i < s->n_gks; i++)
        if (!memcmp(s->gks[i].key, k, sizeof k)) {
            *out = &s->gks[i];
            return DAMO_OK;
        }
    gkernel *gs = realloc(s->gks, (size_t)(s->n_gks + 1) * sizeof *gs);
    if (!gs)
        return err_set(e, DAMO_ERR_NOMEM, "out of memory building a kernel");
    s->gks = gs;
    gkernel *g = &gs[s->n_gks];
    memset(g, 0, sizeof *g);
    memcpy(g->key, k, sizeof k);
    if (gen(key, s, "damo_k", &g->cg) != DAMO_OK)
        return err_set(e, DAMO_ERR_NOMEM, "out of memory generating a kernel");
    damo_status st = rt_kernel_get(&p->ctx->rt, g->cg.source, p->build_options, "damo_k",
                                   &g->kernel, e);
    if (st != DAMO_OK) {
        cg_kernel_free(&g->cg);
        return st;
    }
    s->n_gks++;
    *out = g;
    return DAMO_OK;
}

#define SET_ARG(k, i, n, v)                                                              \
    do {                                                                                 \
        cl_int rc_ = clSetKernelArg(k, (cl_uint)(i), n, v);                              \
        if (rc_ != CL_SUCCESS)                                                           \
            return err_set(e, DAMO_ERR_DEVICE, "setting argument %d of a kernel: %s", i, \
                           rt_cl_error_name(rc_));                                       \
    } while (0)

damo_status plan_bind(cl_kernel kernel, const cg_kernel *cg, const karg *src, damo_err *e)
{
    for (int i = 0; i < cg->n_args; i++) {
        const cg_arg *arg = &cg->args[i];
        cl_long v;
        switch (arg->kind) {
        case CGA_MEM:
        case CGA_SCRATCH: {
            rt_buf *b = arg->kind == CGA_MEM ? src->ops[arg->operand]->st->dev : src->scratch[arg->dim];
            cl_mem m = rt_buf_mem(b);
            SET_ARG(kernel, i, sizeof m, &m);
            continue;
        }
        case CGA_VALUE: {
            const damo_array *a = src->ops[arg->operand];
            unsigned char bytes[8];
            hval_store(a->dtype, bytes, 0, array_host_elem(a, a->st->host, 0));
            SET_ARG(kernel, i, damo_dtype_size(a->dtype), bytes);
            continue;
        }
        case CGA_OFFSET:
            v = src->offsets ? src->offsets[arg->operand] : src->ops[arg->operand]->offset;
            break;
        default:
            v = src->num(src->ctx, arg);
            break;
        }
        SET_ARG(kernel, i, sizeof v, &v);
    }
    return DAMO_OK;
}

/* A kernel's dispatch: ~40 us on PoCL's pthread device, ~15 us on a GPU
 * (DESIGN.md, bench_call). */
#define DISPATCH_NS_CPU 40000
#define DISPATCH_NS_GPU 15000

int plan_small(const plan *p, double ns)
{
    int dispatch = p->ctx->rt.dev.is_gpu ? DISPATCH_NS_GPU : DISPATCH_NS_CPU;
    return !(p->flags & DAMO_FN_DEVICE_ONLY) && ns <= dispatch;
}

damo_status plan_thread_begin(plan *p, damo_err *e)
{
    return rt_queue_idle(&p->ctx->rt) ? DAMO_OK : rt_finish(&p->ctx->rt, e);
}

damo_status plan_launch(plan *p, cl_kernel k, size_t global, size_t local, damo_err *e)
{
    const rt_device *dev = &p->ctx->rt.dev;
    if (!local)
        local = dev->is_gpu ? 256 : 1024;
    if (local > dev->max_work_group)
        local = dev->max_work_group;
    p->on_device = 1;
    return rt_launch(&p->ctx->rt, k, global, local, e);
}

int merge_dims(int nd, int64_t *shape, int n, int64_t (*strides)[DAMO_MAX_DIMS])
{
    int out = 0;
    for (int d = 0; d < nd; d++) {
        if (shape[d] == 1)
            continue;
        int merge = out > 0;
        for (int j = 0; j < n && merge; j++)
            merge = strides[j][out - 1] == strides[j][d] * shape[d];
        if (merge) {
            shape[out - 1] *= shape[d];
            for (int j = 0; j < n; j++)
                strides[j][out - 1] = strides[j][d];
            continue;
        }
        shape[out] = shape[d];
        for (int j = 0; j < n; j++)
            strides[j][out] = strides[j][d];
        out++;
    }
    return out;
}

void array_layout(const damo_array *a, layout *l)
{
    l->ndim = a->ndim;
    memcpy(l->shape, a->shape, (size_t)a->ndim * sizeof *l->shape);
    memcpy(l->strides, a->strides, (size_t)a->ndim * sizeof *l->strides);
    l->offset = a->offset;
}

int layout_broadcast(const layout *from, int nd, const int64_t *shape, layout *out)
{
    const layout copy = *from, *src = &copy; /* out may be from */
    if (src->ndim > nd)
        return 0;
    out->ndim = nd;
    out->offset = src->offset;
    for (int d = 0; d < nd; d++) {
        int k = d - (nd - src->ndim);
        int64_t size = k >= 0 ? src->shape[k] : 1;
        if (size != 1 && size != shape[d])
            return 0;
        out->shape[d] = shape[d];
        out->strides[d] = size == 1 ? 0 : src->strides[k];
    }
    return 1;
}

typedef struct copy_layout {
    int64_t shape[DAMO_MAX_DIMS];
    int64_t strides[2][DAMO_MAX_DIMS];
} copy_layout;

static int64_t copy_num(const void *ctx, const cg_arg *a)
{
    const copy_layout *c = ctx;
    return a->kind == CGA_SHAPE ? c->shape[a->dim] : c->strides[a->operand][a->dim];
}

static damo_status gen_copy(const void *key, const pstep *s, const char *name, cg_kernel *out)
{
    (void)s;
    return cg_copy(key, name, out);
}

damo_status plan_copy(plan *p, pstep *s, damo_array *dst, const layout *dl, damo_array *src,
                      const layout *sl, int add, damo_err *e)
{
    int64_t n = layout_size(dl);
    if (n == 0)
        return DAMO_OK;
    size_t es = damo_dtype_size(dst->dtype);
    if (!add && dst->dtype == src->dtype && src->st->dev_valid && layout_is_c(dl) && layout_is_c(sl))
        return rt_buf_copy(&p->ctx->rt, src->st->dev, (size_t)sl->offset * es, dst->st->dev,
                           (size_t)dl->offset * es, (size_t)n * es, e);
    copy_layout c;
    memcpy(c.shape, dl->shape, (size_t)dl->ndim * sizeof *c.shape);
    memcpy(c.strides[0], dl->strides, (size_t)dl->ndim * sizeof *c.strides[0]);
    memcpy(c.strides[1], sl->strides, (size_t)dl->ndim * sizeof *c.strides[1]);
    int nd = merge_dims(dl->ndim, c.shape, 2, c.strides);
    int value = src->st->host_valid;
    for (int d = 0; d < nd && value; d++)
        value = c.strides[1][d] == 0;
    if (!value && !array_device_read(src, e))
        return e->code;
    cg_copy_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.dst = dst->dtype;
    spec.src = src->dtype;
    spec.src_mode = value ? CG_VALUE : CG_STRIDED;
    spec.add = add;
    spec.ndim = nd;
    const gkernel *k;
    damo_array *ops[2] = {dst, src};
    int64_t offsets[2] = {dl->offset, sl->offset};
    karg args = {ops, offsets, NULL, copy_num, &c};
    damo_status st = plan_gkernel(p, s, &spec, sizeof spec, gen_copy, &k, e);
    if (st == DAMO_OK)
        st = plan_bind(k->kernel, &k->cg, &args, e);
    return st == DAMO_OK ? plan_launch(p, k->kernel, (size_t)n, 0, e) : st;
}

damo_status plan_host_int(damo_array *a, int64_t *out, damo_err *e)
{
    const void *host = array_host_read(a, e);
    if (!host)
        return e->code;
    *out = hval_convert(a->dtype, DAMO_INT64, array_host_elem(a, host, 0)).i;
    return DAMO_OK;
}

const char *step_in_label(const plan *p, pstep *s)
{
    if (!s->in_label) {
        char lab[256];
        s->in_label = strdup(value_label(p, s->in[0], lab, sizeof lab));
    }
    return s->in_label ? s->in_label : "a value";
}

const char *value_label(const plan *p, int v, char *buf, size_t size)
{
    return var_label(p->vals[v].var, buf, size);
}
