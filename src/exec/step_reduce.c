/* Reduction steps. Per call the host lays the iteration space out (kept
 * and reduced dimensions, each list merged where every operand is
 * contiguous across it, the reduced dimension with the smallest stride
 * innermost), then picks a strategy:
 *   ROW      a work-item per result when there are enough results to
 *            fill the device (or too few values to be worth splitting);
 *   PARTIAL  otherwise the reduced range is split among groups, each
 *   + FINAL  writing a partial result (a tree within a group on GPUs),
 *            which a second kernel combines per result.
 * On CPU devices work-items take contiguous chunks and read them as
 * vectors; on GPUs consecutive work-items read consecutive elements. */
#include <stdio.h>
#include <string.h>

#include "../common/strbuf.h"
#include "plan.h"

#define MAX_OPS 64
/* Lanes of a CPU reduction's vectors, and the values below which a
 * reduction is not split among work-groups (measured on PoCL: a second
 * launch costs what ~8k values do). */
#define RED_LANES 8
#define SPLIT_MIN_CPU 8192
#define SPLIT_MIN_GPU 2048

typedef struct red_info {
    red_kind kind;
    damo_dtype val, acc, out;
    const sprog *pro, *epi;
    int n_in, n_epi, n_out;
} red_info;

static void info_of(const plan *p, const pstep *s, red_info *r)
{
    const op_params *pa = &s->node->params;
    r->kind = (red_kind)pa->kind;
    r->pro = pa->fused ? &pa->fused->prog : NULL;
    r->epi = pa->epilogue ? &pa->epilogue->prog : NULL;
    r->val = r->pro ? sprog_out_dtype(r->pro, 0) : s->node->in[0]->type.dtype;
    r->out = red_out_dtype(r->kind, r->val);
    r->acc = red_acc_dtype(r->kind, r->val, p->ctx->rt.dev.fp64);
    r->n_in = r->pro ? r->pro->n_in : 1;
    r->n_epi = r->epi ? r->epi->n_in - 1 : 0;
    r->n_out = s->n_out;
}

/* What a kernel is generated from besides the step's programs. */
typedef struct red_key {
    int32_t mode, nk, nr, vw, kvec, local, interleave;
    int32_t acc;                   /* float64 unless the device lacks it */
    unsigned char modes[MAX_OPS];  /* cg_access per input */
} red_key;

static damo_status gen_reduce(const void *key, const pstep *s, const char *name, cg_kernel *out)
{
    const red_key *k = key;
    const op_params *pa = &s->node->params;
    cg_access modes[MAX_OPS];
    for (int i = 0; i < s->n_in; i++)
        modes[i] = (cg_access)k->modes[i];
    const sprog *pro = pa->fused ? &pa->fused->prog : NULL, *epi = pa->epilogue ? &pa->epilogue->prog : NULL;
    damo_dtype val = pro ? sprog_out_dtype(pro, 0) : s->node->in[0]->type.dtype;
    damo_dtype acc = (damo_dtype)k->acc;
    cg_reduce_spec spec = {(red_kind)pa->kind, val, acc, red_out_dtype((red_kind)pa->kind, val),
                           pro, epi, pro ? pro->n_in : 1, epi ? epi->n_in - 1 : 0, modes,
                           k->nk, k->nr, k->vw, k->kvec, (cg_red_mode)k->mode, k->local,
                           k->interleave};
    return cg_reduce(&spec, name, out);
}

static damo_status reduce_build(plan *p, pstep *s, damo_err *e)
{
    red_info r;
    info_of(p, s, &r);
    const op_params *pa = &s->node->params;
    char lab[256];
    int fp64 = r.val == DAMO_FLOAT64 || r.acc == DAMO_FLOAT64 || r.out == DAMO_FLOAT64 ||
               (r.pro && sprog_uses_fp64(r.pro)) || (r.epi && sprog_uses_fp64(r.epi));
    if (fp64 && !p->ctx->rt.dev.fp64)
        return err_set(e, DAMO_ERR_UNSUPPORTED,
                       "device '%s' does not support float64 (cl_khr_fp64), which %s needs; use "
                       "float32 types or choose a device with fp64 through DAMO_DEVICE",
                       p->ctx->rt.dev.name, value_label(p, s->out[0], lab, sizeof lab));
    if (s->n_in > MAX_OPS || s->n_out > 8)
        return err_set(e, DAMO_ERR_UNSUPPORTED, "a reduction with %d inputs and %d outputs (at "
                       "most %d and 8)", s->n_in, s->n_out, MAX_OPS);
    strbuf b;
    sb_init(&b);
    sb_printf(&b, "reduce %s", red_name(r.kind));
    int n_axes = 0, first = -1;
    for (int d = 0; d < pa->ndim; d++)
        if (pa->axes & (1u << d))
            first = n_axes++ ? first : d;
    if (n_axes == pa->ndim && n_axes != 1)
        sb_puts(&b, " over all axes");
    else if (n_axes == 1)
        sb_printf(&b, " axis %d", first);
    else {
        sb_puts(&b, " axes (");
        for (int d = 0, k = 0; d < pa->ndim; d++)
            if (pa->axes & (1u << d))
                sb_printf(&b, "%s%d", k++ ? ", " : "", d);
        sb_puts(&b, ")");
    }
    if (r.pro) {
        sb_printf(&b, " of fused elementwise: %d op%s (", r.pro->n_instr, r.pro->n_instr == 1 ? "" : "s");
        for (int i = 0; i < r.pro->n_instr; i++)
            sb_printf(&b, "%s%s", i ? ", " : "", op_get(r.pro->instr[i].op)->name);
        sb_puts(&b, ")");
    }
    if (r.epi) {
        sb_printf(&b, ", then %d op%s (", r.epi->n_instr, r.epi->n_instr == 1 ? "" : "s");
        for (int i = 0; i < r.epi->n_instr; i++)
            sb_printf(&b, "%s%s", i ? ", " : "", op_get(r.epi->instr[i].op)->name);
        sb_printf(&b, "), %d output%s", r.epi->n_out, r.epi->n_out == 1 ? "" : "s");
    }
    if (!(s->text = sb_take(&b)))
        return err_set(e, DAMO_ERR_NOMEM, "out of memory planning the function");
    s->host_ns = r.pro ? sprog_host_ns(r.pro) : 0;
    s->epi_ns = r.epi ? sprog_host_ns(r.epi) : 0;
    return DAMO_OK;
}

/* The numbers a reduction kernel's arguments take. Operand MAX_OPS holds
 * the flat index's strides (argmax, argmin). */
typedef struct red_layout {
    int nk, nr;
    int64_t ks[DAMO_MAX_DIMS], rs[DAMO_MAX_DIMS];
    int64_t kstr[MAX_OPS + 1][DAMO_MAX_DIMS], rstr[MAX_OPS + 1][DAMO_MAX_DIMS];
    int64_t count, groups, chunk;
} red_layout;

static int64_t red_num(const void *ctx, const cg_arg *a)
{
    const red_layout *l = ctx;
    int op = a->operand == CG_INDEX_OPERAND ? MAX_OPS : a->operand;
    switch (a->kind) {
    case CGA_KSIZE: return l->ks[a->dim];
    case CGA_RSIZE: return l->rs[a->dim];
    case CGA_KSTRIDE: return l->kstr[op][a->dim];
    case CGA_RSTRIDE: return l->rstr[op][a->dim];
    case CGA_COUNT: return l->count;
    case CGA_GROUPS: return l->groups;
    default: return l->chunk;
    }
}

/* Splits the iteration space's dimensions into the kept and reduced lists
 * of l, merged, over operands [0, n) and the index pseudo-operand. */
static void split_dims(red_layout *l, int nd, const int64_t *iter, uint32_t axes, int n,
                       int64_t (*str)[DAMO_MAX_DIMS])
{
    int64_t ks[DAMO_MAX_DIMS], rs[DAMO_MAX_DIMS];
    int nk = 0, nr = 0;
    for (int d = 0; d < nd; d++) {
        int red = (axes >> d) & 1;
        int at = red ? nr++ : nk++;
        (red ? rs : ks)[at] = iter[d];
        for (int j = 0; j <= MAX_OPS; j++)
            if (j < n || j == MAX_OPS)
                (red ? l->rstr : l->kstr)[j][at] = str[j][d];
    }
    /* merge_dims works on the first n rows: move the index row next to them */
    memcpy(l->kstr[n], l->kstr[MAX_OPS], sizeof l->kstr[n]);
    memcpy(l->rstr[n], l->rstr[MAX_OPS], sizeof l->rstr[n]);
    l->nk = merge_dims(nk, ks, n + 1, l->kstr);
    l->nr = merge_dims(nr, rs, n + 1, l->rstr);
    memcpy(l->kstr[MAX_OPS], l->kstr[n], sizeof l->kstr[n]);
    memcpy(l->rstr[MAX_OPS], l->rstr[n], sizeof l->rstr[n]);
    memcpy(l->ks, ks, sizeof ks);
    memcpy(l->rs, rs, sizeof rs);
}

/* Moves the reduced dimension where operand j has the smallest stride to
 * the innermost place. */
static void innermost(red_layout *l, int j, int n)
{
    int best = l->nr - 1;
    for (int d = 0; d < l->nr; d++) {
        int64_t a = l->rstr[j][d] < 0 ? -l->rstr[j][d] : l->rstr[j][d];
        int64_t b = l->rstr[j][best] < 0 ? -l->rstr[j][best] : l->rstr[j][best];
        if (a < b)
            best = d;
    }
    for (int d = best; d < l->nr - 1; d++) {
        int64_t t = l->rs[d];
        l->rs[d] = l->rs[d + 1];
        l->rs[d + 1] = t;
        for (int k = 0; k <= MAX_OPS; k++)
            if (k < n || k == MAX_OPS) {
                t = l->rstr[k][d];
                l->rstr[k][d] = l->rstr[k][d + 1];
                l->rstr[k][d + 1] = t;
            }
    }
}

/* A device buffer of the step's own memory i. */
static rt_buf *scratch(plan *p, pstep *s, int i, size_t bytes, damo_err *e)
{
    storage *st = plan_private(p, s, i, bytes, e);
    damo_array tmp = {1, p->ctx, DAMO_UINT8, 0, {0}, {0}, 0, st};
    return st ? array_device_write(&tmp, e) : NULL;
}

static damo_status run_kernel(plan *p, pstep *s, red_key *key, damo_array *const *ops,
                              rt_buf *const *bufs, const red_layout *l, size_t global, size_t local,
                              damo_err *e)
{
    const gkernel *k;
    karg args = {ops, NULL, bufs, red_num, l};
    if (plan_gkernel(p, s, key, sizeof *key, gen_reduce, &k, e) != DAMO_OK ||
        plan_bind(k->kernel, &k->cg, &args, e) != DAMO_OK)
        return e->code;
    return plan_launch(p, k->kernel, global, local, e);
}

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

/* Each result's values (of dtype r->val at src, strides over iter) in
 * their reduced order into row o of rows (`reduced` values a row): element
 * idx goes to row sum(idx[d] * kstr[d]), place sum(idx[d] * rstr[d]). */
static void gather(const red_info *r, int nd, const int64_t *iter, const sp_view *src,
                   const int64_t *kstr, const int64_t *rstr, int64_t reduced, hval *rows)
{
    int64_t idx[DAMO_MAX_DIMS] = {0}, off = src->offset, o = 0, ri = 0, size = 1;
    for (int d = 0; d < nd; d++)
        size *= iter[d];
    /* a reduced innermost dimension fills its row in runs */
    int run = nd && kstr[nd - 1] == 0 && rstr[nd - 1] == 1 && iter[nd - 1] <= INT32_MAX;
    int outer = run ? nd - 1 : nd;
    if (run)
        size /= iter[nd - 1] ? iter[nd - 1] : 1;
    for (int64_t i = 0; i < size; i++) {
        if (run)
            hval_load_n(r->val, src->data, off, src->strides[nd - 1], rows + o * reduced + ri,
                        (int)iter[nd - 1]);
        else
            rows[o * reduced + ri] = hval_load(r->val, src->data, off);
        for (int d = outer - 1; d >= 0; d--) {
            off += src->strides[d];
            o += kstr[d];
            ri += rstr[d];
            if (++idx[d] < iter[d])
                break;
            off -= iter[d] * src->strides[d];
            o -= iter[d] * kstr[d];
            ri -= iter[d] * rstr[d];
            idx[d] = 0;
        }
    }
}

/* The reduction on the calling thread, with the bits the kernel would give
 * (reduce_run checks that it can): the prologue into a buffer of values in
 * C order, each result's values in its kernel's order (red_row, with the
 * kernel's lanes vw), then the epilogue over the results. ops: inputs,
 * epilogue inputs, outputs; str: their strides over the iteration space
 * (row MAX_OPS: the reduced index's). */
static damo_status reduce_on_thread(plan *p, pstep *s, const red_info *r, int nd,
                                    const int64_t *iter, int64_t kept, int vw,
                                    int64_t (*str)[DAMO_MAX_DIMS], damo_array **ops, int res_nd,
                                    const int64_t *res, damo_err *e)
{
    const op_params *pa = &s->node->params;
    int n_ops = r->n_in + r->n_epi;
    sp_view views[MAX_OPS + 8];
    int64_t rstr[MAX_OPS][DAMO_MAX_DIMS], kstr[DAMO_MAX_DIMS];
    if (plan_thread_begin(p, e) != DAMO_OK)
        return e->code;
    for (int i = 0; i < n_ops + r->n_out; i++) {
        void *d = i < n_ops ? (void *)array_direct_read(ops[i], e) : array_direct_write(ops[i], e);
        if (!d)
            return e->code;
        views[i] = (sp_view){d, i < n_ops ? str[i] : ops[i]->strides, ops[i]->offset};
    }
    /* the results and the values in C order; result strides per iteration
     * dimension (0 on reduced ones), and each epilogue operand's strides
     * over the result's dimensions */
    layout rl, vl;
    layout_c(&rl, res_nd, res);
    layout_c(&vl, nd, iter);
    for (int d = 0, rd = 0; d < nd; d++) {
        int red = (pa->axes >> d) & 1;
        kstr[d] = red ? 0 : rl.strides[rd];
        for (int i = 0; i < r->n_epi && (!red || pa->keepdims); i++)
            rstr[i][rd] = str[r->n_in + i][d];
        rd += !red || pa->keepdims;
    }
    int64_t size = layout_size(&vl), reduced = size / kept;
    /* 64-bit values already laid out as the rows (a whole contiguous array
     * summed, say) are read where they are */
    int in_place = !r->pro && (r->val == DAMO_FLOAT64 || r->val == DAMO_INT64 ||
                               r->val == DAMO_UINT64);
    for (int d = 0; d < nd && in_place; d++)
        in_place = iter[d] == 1 || views[0].strides[d] == kstr[d] * reduced + str[MAX_OPS][d];
    size_t vbytes = r->pro ? ((size_t)size * damo_dtype_size(r->val) + 15) / 16 * 16 : 0;
    size_t rbytes = in_place ? 0 : (size_t)size * sizeof(hval);
    char *mem = malloc(vbytes + rbytes + (size_t)kept * 8 + 1);
    if (!mem)
        return err_set(e, DAMO_ERR_NOMEM, "out of memory reducing on the host");
    hval *rows = (hval *)(void *)(mem + vbytes);
    damo_status st = DAMO_OK;
    sp_view src = views[0];
    if (r->pro) {
        src = (sp_view){mem, vl.strides, 0};
        st = sprog_eval(r->pro, &s->work, nd, iter, views, &src);
    }
    if (in_place)
        rows = (hval *)src.data + src.offset;
    else if (st == DAMO_OK)
        gather(r, nd, iter, &src, kstr, str[MAX_OPS], reduced, rows);
    /* without an epilogue the results go straight to the output */
    void *results = r->epi ? (void *)(mem + vbytes + rbytes) : views[n_ops].data;
    int64_t roff = r->epi ? 0 : views[n_ops].offset;
    for (int64_t o = 0; o < kept && st == DAMO_OK; o++) {
        red_acc acc;
        red_init(r->kind, r->acc, &acc);
        red_row(r->kind, r->val, r->acc, &acc, rows + o * reduced, reduced, vw, cg_reduce_chains());
        hval_store(r->out, results, roff + o, red_finish(r->kind, r->val, r->acc, &acc, reduced));
    }
    if (r->epi && st == DAMO_OK) {
        sp_view in[MAX_OPS + 1];
        in[0] = (sp_view){results, rl.strides, 0};
        for (int i = 0; i < r->n_epi; i++)
            in[i + 1] = (sp_view){views[r->n_in + i].data, rstr[i], views[r->n_in + i].offset};
        st = sprog_eval(r->epi, &s->epi_work, res_nd, res, in, views + n_ops);
    }
    free(mem);
    return st == DAMO_OK ? DAMO_OK : err_set(e, DAMO_ERR_NOMEM, "out of memory reducing on the host");
}

static damo_status reduce_run(plan *p, pstep *s, damo_err *e)
{
    red_info r;
    info_of(p, s, &r);
    const op_params *pa = &s->node->params;
    const rt_device *dev = &p->ctx->rt.dev;
    int nd = pa->ndim, n_ops = r.n_in + r.n_epi;
    char lab[256];
    damo_array *ops[MAX_OPS + 8];
    /* the iteration space: the prologue's inputs broadcast together */
    int64_t iter[DAMO_MAX_DIMS];
    for (int d = 0; d < nd; d++)
        iter[d] = 1;
    for (int i = 0; i < r.n_in; i++) {
        const damo_array *a = ops[i] = p->cur[s->in[i]];
        for (int d = 0; d < nd; d++) {
            int k = d - (nd - a->ndim);
            int64_t size = k >= 0 ? a->shape[k] : 1;
            if (size != 1 && iter[d] != 1 && size != iter[d])
                return err_set(e, DAMO_ERR_SHAPE, "%s of %s: the operands' shapes cannot be "
                               "broadcast together (dimension %d: %lld and %lld)", red_name(r.kind),
                               value_label(p, s->out[0], lab, sizeof lab), d, (long long)iter[d],
                               (long long)size);
            if (size != 1)
                iter[d] = size;
        }
    }
    int64_t kept = 1, reduced = 1, res[DAMO_MAX_DIMS];
    int res_nd = 0;
    for (int d = 0; d < nd; d++) {
        if (pa->axes & (1u << d)) {
            reduced *= iter[d];
            if (pa->keepdims)
                res[res_nd++] = 1;
        } else {
            kept *= iter[d];
            res[res_nd++] = iter[d];
        }
    }
    if (reduced == 0 && kept > 0 && !red_has_identity(r.kind))
        return err_set(e, DAMO_ERR_SHAPE, "%s of %s: zero-size array to reduction operation %s "
                       "which has no identity", red_name(r.kind),
                       value_label(p, s->in[0], lab, sizeof lab), red_name(r.kind));
    /* small exact work may run on the calling thread (decided below, once
     * the kernel's layout is known); its operands are then not moved */
    /* ~1 ns to combine a value (measured 0.5 for a float64 sum) */
    double ns = (double)kept * (double)reduced * (1 + s->host_ns) + (double)kept * s->epi_ns;
    unsigned fp32 = p->ctx->rt.dev.fp32;
    /* float32 values combine as the device's only where it keeps denormals */
    int f32 = r.val == DAMO_FLOAT32 || r.acc == DAMO_FLOAT32 || r.out == DAMO_FLOAT32;
    int may_thread = p->ctx->rt.host_direct && plan_small(p, ns) &&
                     (!f32 || (fp32 & FP32_DENORMS)) && (!r.pro || sprog_exact(r.pro, fp32)) &&
                     (!r.epi || sprog_exact(r.epi, fp32));
    for (int o = 0; o < r.n_out; o++) {
        damo_array *a = ops[n_ops + o] = plan_output(p, s->out[o], res_nd, res, e);
        if (!a || (!may_thread && !array_device_write(a, e)))
            return e->code;
    }
    if (kept == 0)
        return DAMO_OK;
    /* each operand's strides over the iteration space */
    static const int64_t zero[DAMO_MAX_DIMS];
    int64_t str[MAX_OPS + 1][DAMO_MAX_DIMS];
    red_key key;
    memset(&key, 0, sizeof key);
    for (int i = 0; i < n_ops; i++) {
        damo_array *a = ops[i] = p->cur[s->in[i]];
        layout al, bl;
        array_layout(a, &al);
        int pro = i < r.n_in;
        if (!layout_broadcast(&al, pro ? nd : res_nd, pro ? iter : res, &bl))
            return err_set(e, DAMO_ERR_SHAPE, "%s of %s: an operand of the work after it does "
                           "not broadcast to the result", red_name(r.kind),
                           value_label(p, s->out[0], lab, sizeof lab));
        for (int d = 0, rd = 0; d < nd; d++) {
            int red = (pa->axes >> d) & 1;
            str[i][d] = pro ? bl.strides[d] : red && !pa->keepdims ? 0 : bl.strides[rd];
            rd += !red || pa->keepdims;
            if (!pro && red)
                str[i][d] = 0;
        }
        int value = a->st->host_valid && !memcmp(str[i], zero, (size_t)nd * sizeof *zero);
        key.modes[i] = (unsigned char)(value ? CG_VALUE : CG_STRIDED);
        if (!value && !may_thread && !array_device_read(a, e))
            return e->code;
    }
    int64_t flat = 1;
    for (int d = nd - 1; d >= 0; d--) {
        str[MAX_OPS][d] = (pa->axes >> d) & 1 ? flat : 0;
        flat *= (pa->axes >> d) & 1 ? iter[d] : 1;
    }
    red_layout l;
    memset(&l, 0, sizeof l);
    split_dims(&l, nd, iter, pa->axes, n_ops, str);
    int first_mem = -1;
    for (int i = 0; i < r.n_in && first_mem < 0; i++)
        if (key.modes[i] == CG_STRIDED)
            first_mem = i;
    if (first_mem >= 0 && l.nr > 1)
        innermost(&l, first_mem, n_ops);
    l.count = reduced;
    int vw = 0;
    if (!dev->is_gpu && l.nr && cg_reduce_vectorizable(r.kind, r.val, r.acc, r.pro) &&
        l.rs[l.nr - 1] >= 2 * RED_LANES) {
        vw = RED_LANES;
        for (int i = 0; i < r.n_in; i++)
            if (key.modes[i] == CG_STRIDED && l.rstr[i][l.nr - 1] != 1)
                vw = 0;
    }
    key.nk = l.nk;
    key.nr = l.nr;
    key.acc = (int32_t)r.acc;
    int64_t units = dev->compute_units ? dev->compute_units : 1;
    int split = l.nr && (dev->is_gpu ? kept < 4096 && reduced >= SPLIT_MIN_GPU
                                     : kept < 4 * units && reduced >= SPLIT_MIN_CPU);
    /* a strided reduced axis beside a contiguous kept one (a matrix summed
     * down its columns): vectors of adjacent results instead */
    int kvec = !split && !dev->is_gpu && !vw && l.nk && l.ks[l.nk - 1] >= RED_LANES &&
               cg_reduce_vectorizable(r.kind, r.val, r.acc, r.pro);
    for (int i = 0; i < r.n_in && kvec; i++)
        kvec = key.modes[i] == CG_VALUE || l.kstr[i][l.nk - 1] == 1;
    /* the host combines in the order of a row kernel over one reduced
     * dimension (red_row); any order gives the same bits for the others */
    if (may_thread && (red_order_free(r.kind, r.acc) || (!split && !kvec && l.nr <= 1)))
        return reduce_on_thread(p, s, &r, nd, iter, kept, vw, str, ops, res_nd, res, e);
    for (int i = 0; i < n_ops + r.n_out && may_thread; i++)
        if (i < n_ops ? key.modes[i] != CG_VALUE && !array_device_read(ops[i], e)
                      : !array_device_write(ops[i], e))
            return e->code;
    /* groups enough for every compute unit twice over */
    int64_t per = kept / (2 * units);
    size_t row_local = dev->is_gpu ? 64 : (size_t)(per > 64 ? 64 : per > 1 ? per : 1);
    if (!split) {
        key.mode = CG_RED_ROW;
        key.vw = vw;
        if (!kvec)
            return run_kernel(p, s, &key, ops, NULL, &l, (size_t)kept, row_local, e);
        key.kvec = RED_LANES;
        int64_t last = l.ks[l.nk - 1], items = kept / last * ceil_div(last, cg_reduce_kvec_results(RED_LANES));
        per = items / (2 * units);
        return run_kernel(p, s, &key, ops, NULL, &l, (size_t)items, (size_t)(per > 1 ? per > 64 ? 64 : per : 1), e);
    }
    int64_t local = 1, groups;
    if (dev->is_gpu) {
        while (local < 256 && (size_t)local * 2 <= dev->max_work_group)
            local *= 2;
        groups = ceil_div(l.rs[0], local * 8);
        int64_t most = 8 * units / kept > 1 ? 8 * units / kept : 1;
        key.interleave = 1;
        groups = groups < most ? groups : most;
    } else {
        int64_t most = 4 * units / kept > 1 ? 4 * units / kept : 1;
        groups = l.rs[0] < most ? l.rs[0] : most;
        key.vw = vw;
    }
    groups = groups > 0 ? groups : 1;
    l.groups = groups;
    l.chunk = ceil_div(l.rs[0], groups * local);
    if (key.vw && l.nr == 1)
        l.chunk = ceil_div(l.chunk, key.vw) * key.vw;
    key.mode = CG_RED_PARTIAL;
    key.local = (int32_t)local;
    size_t parts = (size_t)(kept * groups);
    rt_buf *bufs[2] = {scratch(p, s, 0, parts * damo_dtype_size(r.acc), e), NULL};
    if (!bufs[0] || (red_is_arg(r.kind) && !(bufs[1] = scratch(p, s, 1, parts * 8, e))))
        return e->code;
    if (run_kernel(p, s, &key, ops, bufs, &l, parts * (size_t)local, (size_t)local, e) != DAMO_OK)
        return e->code;
    red_key fin;
    memset(&fin, 0, sizeof fin);
    fin.mode = CG_RED_FINAL;
    fin.nk = key.nk;
    fin.acc = key.acc;
    memcpy(fin.modes, key.modes, sizeof fin.modes);
    return run_kernel(p, s, &fin, ops, bufs, &l, (size_t)kept, row_local, e);
}

const step_class step_reduce = {STEP_REDUCE, reduce_build, reduce_run};
