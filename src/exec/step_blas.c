/* BLAS steps: dot, gemv and gemm of float32 / float64 operands, through
 * the context's route (runtime/blas.c). A transposed view reaches BLAS as
 * a transpose flag with its leading dimension; only an operand no flag can
 * describe (a step other than 1 along both axes, a broadcast) is packed
 * into the step's own memory first. gemm's C is copied into the result,
 * which BLAS then updates. */
#include <stdio.h>
#include <string.h>

#include "../common/strbuf.h"
#include "plan.h"

static const char *form(const gnode *n)
{
    int a = n->in[0]->type.ndim, b = n->in[1]->type.ndim;
    return a == 1 && b == 1 ? "dot" : a == 2 && b == 2 ? "gemm" : "gemv";
}

static damo_status blas_build(plan *p, pstep *s, damo_err *e)
{
    const gnode *n = s->node;
    char a[256], b[256], c[256];
    if (n->out[0]->type.dtype == DAMO_FLOAT64 && !p->ctx->rt.dev.fp64)
        return err_set(e, DAMO_ERR_UNSUPPORTED,
                       "device '%s' does not support float64 (cl_khr_fp64), which %s needs",
                       p->ctx->rt.dev.name, value_label(p, s->out[0], a, sizeof a));
    if (rt_blas_ready(&p->ctx->rt, e) != DAMO_OK)
        return e->code;
    strbuf t;
    sb_init(&t);
    sb_printf(&t, "%s(%s, %s", form(n), value_label(p, s->in[0], a, sizeof a),
              value_label(p, s->in[1], b, sizeof b));
    if (n->op == OP_GEMM)
        sb_printf(&t, ", %s", value_label(p, s->in[2], c, sizeof c));
    sb_printf(&t, ") via %s", rt_blas_route_name(p->ctx->rt.blas));
    if (!(s->text = sb_take(&t)))
        return err_set(e, DAMO_ERR_NOMEM, "out of memory planning the function");
    return DAMO_OK;
}

/* The matrix l (rows x cols) as a BLAS operand: row-major with a leading
 * dimension, or its transpose; 0 when neither describes it. */
static int as_matrix(const layout *l, rt_blas_operand *o)
{
    int64_t r = l->shape[0], c = l->shape[1], s0 = l->strides[0], s1 = l->strides[1];
    int64_t mc = c > 1 ? c : 1, mr = r > 1 ? r : 1;
    o->offset = (size_t)l->offset;
    if ((c == 1 || s1 == 1) && (r == 1 || s0 >= mc)) {
        o->trans = 0;
        o->ld = (size_t)(r == 1 ? mc : s0);
        return 1;
    }
    if ((r == 1 || s0 == 1) && (c == 1 || s1 >= mr)) {
        o->trans = 1;
        o->ld = (size_t)(c == 1 ? mr : s1);
        return 1;
    }
    return 0;
}

static int as_vector(const layout *l, rt_blas_operand *o)
{
    int64_t n = l->shape[0], s = l->strides[0];
    o->offset = (size_t)l->offset;
    o->trans = 0;
    o->ld = (size_t)(n <= 1 ? 1 : s);
    return n <= 1 || s >= 1;
}

/* Operand `arr` read through l as a BLAS operand: as it is, or packed in
 * C order into the step's memory `slot`. */
static damo_status operand(plan *p, pstep *s, int slot, damo_array *arr, const layout *l,
                           rt_blas_operand *o, damo_err *e)
{
    if (l->ndim == 2 ? as_matrix(l, o) : as_vector(l, o)) {
        rt_buf *b = array_device_read(arr, e);
        o->buf = b;
        return b ? DAMO_OK : e->code;
    }
    storage *st = plan_private(p, s, slot, (size_t)layout_size(l) * damo_dtype_size(arr->dtype), e);
    if (!st)
        return e->code;
    damo_array tmp = {1, p->ctx, arr->dtype, 0, {0}, {0}, 0, st};
    layout c;
    layout_c(&c, l->ndim, l->shape);
    if (!(o->buf = array_device_write(&tmp, e)) || plan_copy(p, s, &tmp, &c, arr, l, 0, e) != DAMO_OK)
        return e->code;
    o->offset = 0;
    o->trans = 0;
    o->ld = (size_t)(l->ndim == 2 ? (l->shape[1] > 1 ? l->shape[1] : 1) : 1);
    return DAMO_OK;
}

static damo_status coefficient(damo_array *a, rt_blas_coef *c, damo_err *e)
{
    memset(c, 0, sizeof *c);
    if (a->st->host_valid) {
        c->value = hval_to_double(a->dtype, array_host_elem(a, a->st->host, 0));
        return DAMO_OK;
    }
    c->buf = array_device_read(a, e);
    c->offset = (size_t)a->offset;
    return c->buf ? DAMO_OK : e->code;
}

/* a's layout with its size-1 axis `d` stretched to `size` (stride 0). */
static void stretched(const damo_array *a, int d, int64_t size, layout *l)
{
    array_layout(a, l);
    if (d < l->ndim && l->shape[d] != size) {
        l->shape[d] = size;
        l->strides[d] = 0;
    }
}

static damo_status blas_call(plan *p, pstep *s, damo_array *a, damo_array *b, damo_array *c, damo_array *out,
                             int nd, const int64_t *shape, int64_t k, damo_err *e);

static damo_status blas_run(plan *p, pstep *s, damo_err *e)
{
    const gnode *n = s->node;
    damo_array *a = p->cur[s->in[0]], *b = p->cur[s->in[1]];
    char la[256], lb[256];
    int64_t k = a->shape[a->ndim - 1];
    if (b->shape[0] != k)
        return err_set(e, DAMO_ERR_SHAPE, "dot: %s and %s are not aligned: %lld (dim %d) != %lld (dim 0)",
                       value_label(p, s->in[0], la, sizeof la), value_label(p, s->in[1], lb, sizeof lb),
                       (long long)k, a->ndim - 1, (long long)b->shape[0]);
    /* the product's shape, then the result's: C may broadcast it */
    int64_t shape[2];
    int nd = 0;
    if (a->ndim == 2)
        shape[nd++] = a->shape[0];
    if (b->ndim == 2)
        shape[nd++] = b->shape[1];
    damo_array *c = n->op == OP_GEMM ? p->cur[s->in[2]] : NULL;
    for (int d = 0; c && d < nd; d++) {
        int64_t cs = c->shape[d];
        if (cs != shape[d] && cs != 1 && shape[d] != 1)
            return err_set(e, DAMO_ERR_SHAPE, "gemm: %s cannot be broadcast to the product's shape",
                           value_label(p, s->in[2], la, sizeof la));
        shape[d] = cs != 1 ? cs : shape[d];
    }
    /* c may have been computed in the result's memory (VAL_INTO). Where
     * it has the result's shape the result stays there and the product is
     * added in place; a broadcast c is held here while the result takes
     * other memory, and copied into it. */
    int in_place = c && c == p->vals[s->out[0]].arr && c->ndim == nd &&
                   !memcmp(c->shape, shape, (size_t)nd * sizeof *shape);
    if (!in_place)
        damo_array_retain(c);
    damo_array *out = plan_output(p, s->out[0], nd, shape, e);
    damo_status st = out ? blas_call(p, s, a, b, c, out, nd, shape, k, e) : e->code;
    if (!in_place)
        damo_array_release(c);
    return st;
}

static damo_status blas_call(plan *p, pstep *s, damo_array *a, damo_array *b, damo_array *c, damo_array *out,
                             int nd, const int64_t *shape, int64_t k, damo_err *e)
{
    /* c in place: its values, perhaps computed on the host, go to the device first */
    if ((c == out && !array_device_read(out, e)) || !array_device_write(out, e))
        return e->code;
    rt_blas_call call;
    memset(&call, 0, sizeof call);
    call.f64 = out->dtype == DAMO_FLOAT64;
    call.k = (size_t)k;
    call.alpha.value = 1;
    call.c.buf = out->st->dev;
    call.c.ld = 1;
    layout la_, lb_;
    if (a->ndim == 2 && b->ndim == 2) {
        call.kind = RT_GEMM;
        call.m = (size_t)shape[0];
        call.n = (size_t)shape[1];
        call.c.ld = call.n > 1 ? call.n : 1;
        stretched(a, 0, shape[0], &la_);
        stretched(b, 1, shape[1], &lb_);
    } else if (a->ndim == 2 || b->ndim == 2) {
        call.kind = RT_GEMV;
        call.m = (size_t)shape[0];
        /* vector . matrix is matrix^T . vector */
        damo_array *mat = a->ndim == 2 ? a : b, *vec = a->ndim == 2 ? b : a;
        stretched(mat, a->ndim == 2 ? 0 : 1, shape[0], &la_);
        if (a->ndim == 1) {
            int64_t t = la_.shape[0];
            la_.shape[0] = la_.shape[1];
            la_.shape[1] = t;
            t = la_.strides[0];
            la_.strides[0] = la_.strides[1];
            la_.strides[1] = t;
        }
        array_layout(vec, &lb_);
        a = mat;
        b = vec;
    } else {
        call.kind = RT_DOT;
        call.m = 1;
        array_layout(a, &la_);
        array_layout(b, &lb_);
    }
    if (operand(p, s, 0, a, &la_, &call.a, e) != DAMO_OK ||
        operand(p, s, 1, b, &lb_, &call.b, e) != DAMO_OK)
        return e->code;
    if (c) {
        layout ol, cl;
        layout_c(&ol, nd, shape);
        array_layout(c, &cl);
        layout_broadcast(&cl, nd, shape, &cl);
        if ((c != out && plan_copy(p, s, out, &ol, c, &cl, 0, e) != DAMO_OK) ||
            coefficient(p->cur[s->in[3]], &call.alpha, e) != DAMO_OK ||
            coefficient(p->cur[s->in[4]], &call.beta, e) != DAMO_OK)
            return e->code;
    }
    p->on_device = 1;
    return rt_blas(&p->ctx->rt, &call, e);
}

const step_class step_blas = {STEP_BLAS, blas_build, blas_run};
