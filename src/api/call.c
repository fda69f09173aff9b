/* Calling a function: bind arguments, run every step without host waits,
 * then hand out outputs and commit updates (only once all succeeded). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "function.h"

/* 0-d array of the input's dtype from a C number, refusing values the dtype
 * cannot hold exactly (as Aesara refuses 1.5 for an int input). */
static damo_array *number_arg(damo_function *f, const fn_input *in, double v)
{
    damo_dtype t = in->var->type.dtype;
    char lab[256];
    var_label(in->var, lab, sizeof lab);
    if (in->var->type.ndim != 0) {
        err_set(&f->err, DAMO_ERR_SHAPE, "input %s has %d dimensions: pass an array, not a number",
                lab, in->var->type.ndim);
        return NULL;
    }
    hval h = hval_from_double(t, v);
    if (!(hval_to_double(t, h) == v || (v != v && dtype_kind_of(t) == KIND_FLOAT))) {
        err_set(&f->err, DAMO_ERR_TYPE, "input %s is %s: the number %.17g does not fit exactly",
                lab, damo_dtype_name(t), v);
        return NULL;
    }
    damo_array *a = damo_array_zeros(f->ctx, t, 0, NULL);
    if (a)
        hval_store(t, a->st->host, 0, h);
    else
        err_copy(&f->err, &f->ctx->err);
    return a;
}

static damo_status bind_one(damo_function *f, size_t i, const damo_arg *arg)
{
    const fn_input *in = &f->inputs[i];
    char lab[256];
    if (f->bound[i])
        return err_set(&f->err, DAMO_ERR_NAME, "input %s is given twice",
                       var_label(in->var, lab, sizeof lab));
    if (!arg->array)
        f->bound[i] = number_arg(f, in, arg->value);
    else if (arg->array->ctx != f->ctx)
        return err_set(&f->err, DAMO_ERR_INVALID, "input %s: the array belongs to another context",
                       var_label(in->var, lab, sizeof lab));
    else
        f->bound[i] = fn_fit_value(arg->array, in->var, "input", &f->err);
    return f->bound[i] ? DAMO_OK : f->err.code;
}

/* Positional arguments first, then named ones, then defaults. */
static damo_status bind(damo_function *f, const damo_arg *args, size_t n_args)
{
    size_t pos = 0;
    damo_status st = DAMO_OK;
    for (size_t a = 0; a < n_args && st == DAMO_OK; a++) {
        if (args[a].name) {
            size_t i = 0;
            while (i < f->n_inputs && !(f->inputs[i].name && !strcmp(f->inputs[i].name, args[a].name)))
                i++;
            if (i == f->n_inputs)
                return err_set(&f->err, DAMO_ERR_NAME, "no input is named '%s'", args[a].name);
            st = bind_one(f, i, &args[a]);
        } else {
            if (a != pos)
                return err_set(&f->err, DAMO_ERR_INVALID,
                               "positional argument %zu follows a named argument", a);
            if (pos >= f->n_inputs)
                return err_set(&f->err, DAMO_ERR_INVALID,
                               "too many arguments: the function takes %zu inputs", f->n_inputs);
            st = bind_one(f, pos++, &args[a]);
        }
    }
    for (size_t i = 0; i < f->n_inputs && st == DAMO_OK; i++) {
        if (f->bound[i])
            continue;
        char lab[256];
        if (!f->inputs[i].dflt)
            return err_set(&f->err, DAMO_ERR_INVALID, "missing a value for input %s",
                           var_label(f->inputs[i].var, lab, sizeof lab));
        f->bound[i] = damo_array_retain(f->inputs[i].dflt);
    }
    return st;
}

/* Runtime shape of a program operand, left-padded with 1s to nd dims. */
static void operand_shape(const damo_function *f, const fn_step *fs, sp_ref r, int64_t *out)
{
    int nd = fs->s.ndim;
    for (int d = 0; d < nd; d++)
        out[d] = 1;
    if (r.kind == REF_INSTR) {
        memcpy(out, f->shapes + (size_t)r.index * DAMO_MAX_DIMS, (size_t)nd * sizeof *out);
    } else if (r.kind == REF_INPUT) {
        const damo_array *a = f->vals[fs->s.ins[r.index]->id];
        memcpy(out + (nd - a->ndim), a->shape, (size_t)a->ndim * sizeof *out);
    }
}

static damo_status shape_error(damo_function *f, const damo_var *v, const char *what,
                               const int64_t *a, const int64_t *b, int nd)
{
    char lab[256], sa[160] = "(", sb[160] = "(";
    for (int d = 0; d < nd; d++) {
        size_t la = strlen(sa), lb = strlen(sb);
        snprintf(sa + la, sizeof sa - la, "%s%lld", d ? ", " : "", (long long)a[d]);
        snprintf(sb + lb, sizeof sb - lb, "%s%lld", d ? ", " : "", (long long)b[d]);
    }
    strcat(sa, ")");
    strcat(sb, ")");
    return err_set(&f->err, DAMO_ERR_SHAPE, "%s %s: shapes %s and %s cannot be broadcast together",
                   what, var_label(v, lab, sizeof lab), sa, sb);
}

/* acc = broadcast(acc, s); 0 on a mismatch. */
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

/* Shapes of every instruction, and the step's iteration space. */
static damo_status step_shapes(damo_function *f, fn_step *fs)
{
    int nd = fs->s.ndim;
    const sprog *p = &fs->s.prog;
    int64_t arg[DAMO_MAX_DIMS];
    for (int i = 0; i < p->n_instr; i++) {
        int64_t *sh = f->shapes + (size_t)i * DAMO_MAX_DIMS;
        for (int d = 0; d < nd; d++)
            sh[d] = 1;
        for (int k = 0; k < p->instr[i].n_args; k++) {
            operand_shape(f, fs, p->instr[i].args[k], arg);
            if (!broadcast_into(sh, arg, nd))
                return shape_error(f, fs->s.instr_var[i], op_get(p->instr[i].op)->name, sh, arg, nd);
        }
    }
    for (int d = 0; d < nd; d++)
        fs->iter[d] = 1;
    for (int o = 0; o < p->n_out; o++) {
        const int64_t *sh = f->shapes + (size_t)p->out[o] * DAMO_MAX_DIMS;
        if (!broadcast_into(fs->iter, sh, nd))
            return shape_error(f, fs->s.outs[o], "fused outputs of", fs->iter, sh, nd);
    }
    return DAMO_OK;
}

/* The function's array for a step output: reused when nobody else holds
 * it and the shape is unchanged, so a steady loop allocates nothing. Its
 * host or device copy is about to be overwritten and becomes the only
 * valid one. */
static damo_array *output_array(damo_function *f, const damo_var *v, const int64_t *shape, int nd,
                                int on_host)
{
    damo_array *a = f->vals[v->id];
    if (!(a && a->refcount == 1 && a->st->refcount == 1 && a->dtype == v->type.dtype &&
          a->ndim == nd && !memcmp(a->shape, shape, (size_t)nd * sizeof *shape))) {
        damo_array_release(a);
        if (!(a = f->vals[v->id] = array_alloc(f->ctx, v->type.dtype, nd, shape)))
            return err_copy(&f->err, &f->ctx->err), NULL;
    }
    if (on_host)
        return array_host_for_write(a) ? a : (err_copy(&f->err, &f->ctx->err), NULL);
    rt_buf *b = a->st->dev ? rt_buf_retain(a->st->dev) : rt_buf_alloc(&f->ctx->rt, a->st->bytes, &f->err);
    if (!b)
        return NULL;
    array_set_device(a, b);
    rt_buf_release(b);
    return a;
}

/* Small work whose inputs are on the host runs there: a device round trip
 * (~60 us on PoCL) costs far more than a few hundred elements. */
#define HOST_MAX_ELEMENTS 1024

static int runs_on_host(const damo_function *f, const fn_step *fs, int64_t n)
{
    if ((f->flags & DAMO_FN_DEVICE_ONLY) || n > HOST_MAX_ELEMENTS)
        return 0;
    for (int k = 0; k < fs->s.n_in; k++)
        if (!f->vals[fs->s.ins[k]->id]->st->host_valid)
            return 0;
    return 1;
}

/* Evaluates the step's program on the host with the op table's host
 * implementations. */
static damo_status host_run(damo_function *f, fn_step *fs)
{
    int n_in = fs->s.n_in, n_out = fs->s.n_out;
    for (int k = 0; k < n_in + n_out; k++) {
        damo_array *a = fs->arrays[k];
        void *base = array_host_base(a);
        if (!base)
            return err_copy(&f->err, &f->ctx->err);
        fs->views[k] = (sp_view){base, fs->strides + (size_t)k * DAMO_MAX_DIMS, a->offset};
    }
    if (sprog_eval(&fs->s.prog, fs->s.ndim, fs->iter, fs->views, fs->views + n_in) != DAMO_OK)
        return err_set(&f->err, DAMO_ERR_NOMEM, "out of memory running a step on the host");
    return DAMO_OK;
}

/* Access mode of an operand of shape/strides (padded to nd) in the
 * iteration space; fills eff with the strides the kernel uses. */
static cg_access access_mode(const int64_t *shape, const int64_t *strides, const int64_t *iter,
                             int nd, int64_t *eff)
{
    int zero = 1, flat = 1;
    int64_t c = 1;
    for (int d = nd - 1; d >= 0; d--) {
        eff[d] = shape[d] == 1 ? 0 : strides[d];
        zero &= eff[d] == 0;
        flat &= shape[d] == iter[d] && (shape[d] == 1 || strides[d] == c);
        c *= shape[d];
    }
    return zero ? CG_SCALAR : flat ? CG_FLAT : CG_STRIDED;
}

#define SET_ARG(k, n, v)                                                               \
    do {                                                                               \
        cl_int rc_ = clSetKernelArg(k, argi++, n, v);                                  \
        if (rc_ != CL_SUCCESS)                                                         \
            return err_set(&f->err, DAMO_ERR_DEVICE, "clSetKernelArg: %s",             \
                           rt_cl_error_name(rc_));                                     \
    } while (0)

/* Binds the kernel's arguments (see codegen.h for their order) and
 * enqueues it; no host wait. */
static damo_status launch(damo_function *f, fn_step *fs, cl_kernel k, int64_t n)
{
    damo_array **as = fs->arrays;
    const int64_t *effs = fs->strides;
    int n_in = fs->s.n_in, n_out = fs->s.n_out, nd = fs->s.ndim;
    cl_uint argi = 0;
    int strided = 0;
    for (int j = 0; j < n_in + n_out; j++) {
        rt_buf *b = array_device_buf(as[j]);
        if (!b)
            return err_copy(&f->err, &f->ctx->err);
        cl_mem m = rt_buf_mem(b);
        cl_long off = as[j]->offset;
        SET_ARG(k, sizeof m, &m);
        SET_ARG(k, sizeof off, &off);
        strided |= fs->modes[j] == CG_STRIDED;
    }
    cl_long total = n;
    SET_ARG(k, sizeof total, &total);
    if (strided) {
        for (int d = 0; d < nd; d++) {
            cl_long s = fs->iter[d];
            SET_ARG(k, sizeof s, &s);
        }
        for (int j = 0; j < n_in + n_out; j++)
            for (int d = 0; fs->modes[j] == CG_STRIDED && d < nd; d++) {
                cl_long s = effs[(size_t)j * DAMO_MAX_DIMS + d];
                SET_ARG(k, sizeof s, &s);
            }
    }
    /* GPUs get 256-item groups. On CPU devices the runtime's own choice
     * is faster (PoCL then vectorises whole groups), so only the global size
     * is rounded, to a multiple it can divide well. */
    const rt_device *dev = &f->ctx->rt.dev;
    size_t local = dev->max_work_group < 256 ? dev->max_work_group : 256;
    size_t global = ((size_t)n + local - 1) / local * local;
    return rt_launch(&f->ctx->rt, k, global, dev->is_gpu ? local : 0, &f->err);
}

static damo_status run_step(damo_function *f, fn_step *fs)
{
    damo_status st;
    if ((st = step_shapes(f, fs)) != DAMO_OK)
        return st;
    int nd = fs->s.ndim, n_in = fs->s.n_in, n_out = fs->s.n_out;
    int64_t n = 1;
    for (int d = 0; d < nd; d++)
        n *= fs->iter[d];
    int on_host = runs_on_host(f, fs, n);
    for (int k = 0; k < n_in + n_out && st == DAMO_OK; k++) {
        int64_t shape[DAMO_MAX_DIMS], strides[DAMO_MAX_DIMS];
        damo_array *a;
        if (k < n_in) {
            a = f->vals[fs->s.ins[k]->id];
        } else {
            const int64_t *sh = f->shapes + (size_t)fs->s.prog.out[k - n_in] * DAMO_MAX_DIMS;
            if (!(a = output_array(f, fs->s.outs[k - n_in], sh, nd, on_host)))
                st = f->err.code;
        }
        if (st != DAMO_OK)
            break;
        fs->arrays[k] = a;
        int pad = nd - a->ndim;
        for (int d = 0; d < nd; d++) {
            shape[d] = d < pad ? 1 : a->shape[d - pad];
            strides[d] = d < pad ? 0 : a->strides[d - pad];
        }
        fs->modes[k] = access_mode(shape, strides, fs->iter, nd, fs->strides + (size_t)k * DAMO_MAX_DIMS);
    }
    if (st == DAMO_OK && on_host)
        return host_run(f, fs);
    cl_kernel kern = NULL;
    if (st == DAMO_OK)
        st = step_kernel(f, fs, &kern);
    if (st == DAMO_OK && n > 0)
        st = launch(f, fs, kern, n);
    return st;
}

/* An update's value must keep the shared variable's static sizes. */
static damo_status check_update_shape(damo_function *f, size_t u)
{
    const shared_store *s = f->upd_store[u];
    const damo_array *v = f->vals[f->fg.outputs[f->n_outputs + u]->id];
    for (int d = 0; d < s->type.ndim; d++)
        if (s->type.shape[d] != DAMO_DIM_UNKNOWN && s->type.shape[d] != v->shape[d])
            return err_set(&f->err, DAMO_ERR_SHAPE,
                           "update %zu: dimension %d of the new value is %lld, but the shared "
                           "variable's static size is %lld", u, d, (long long)v->shape[d],
                           (long long)s->type.shape[d]);
    return DAMO_OK;
}

damo_status damo_call(damo_function *f, const damo_arg *args, size_t n_args, damo_array **outputs)
{
    if (!f)
        return DAMO_ERR_INVALID;
    err_clear(&f->err);
    damo_status st = n_args && !args ? err_set(&f->err, DAMO_ERR_INVALID, "args is NULL")
                                     : bind(f, args, n_args);
    damo_graph *g = f->fg.g;
    for (size_t i = 0; i < f->n_inputs && st == DAMO_OK; i++)
        f->vals[f->inputs[i].var->id] = f->bound[i];
    for (size_t i = 0; i < f->n_vals && st == DAMO_OK; i++)
        if (g->vars[i]->kind == VAR_SHARED)
            f->vals[i] = g->vars[i]->store->value;
    for (size_t i = 0; i < f->n_steps && st == DAMO_OK; i++)
        st = run_step(f, &f->steps[i]);
    for (size_t u = 0; u < f->n_updates && st == DAMO_OK; u++)
        st = check_update_shape(f, u);
    if (st == DAMO_OK) {
        for (size_t o = 0; outputs && o < f->n_outputs; o++)
            outputs[o] = damo_array_retain(f->vals[f->fg.outputs[o]->id]);
        /* All values are computed (queued): now the updates take effect. */
        for (size_t u = 0; u < f->n_updates; u++) {
            shared_store *s = f->upd_store[u];
            damo_array *nv = damo_array_retain(f->vals[f->fg.outputs[f->n_outputs + u]->id]);
            damo_array_release(s->value);
            s->value = nv;
        }
    }
    /* Borrowed slots are cleared so nothing dangles between calls. */
    for (size_t i = 0; i < f->n_vals; i++)
        if (g->vars[i]->kind == VAR_SHARED || g->vars[i]->kind == VAR_INPUT)
            f->vals[i] = NULL;
    for (size_t i = 0; i < f->n_inputs; i++) {
        damo_array_release(f->bound[i]);
        f->bound[i] = NULL;
    }
    return st;
}
