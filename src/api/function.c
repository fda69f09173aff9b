/* Compiling a function: validate the spec, build the function graph, fuse
 * it into steps and build each step's kernel. */
#include <stdlib.h>
#include <string.h>

#include "function.h"

static const char *input_name(const damo_in *in) { return in->name ? in->name : in->var->name; }

/* Checks a value against a variable's type; returns the value to keep (a
 * safe conversion when dtypes differ), NULL with a message otherwise. */
damo_array *fn_fit_value(damo_array *v, const damo_var *var, const char *what,
                             damo_err *e)
{
    char lab[256];
    var_label(var, lab, sizeof lab);
    if (v->ndim != var->type.ndim) {
        err_set(e, DAMO_ERR_SHAPE, "%s %s: expected %d dimensions, got %d", what, lab,
                var->type.ndim, v->ndim);
        return NULL;
    }
    for (int d = 0; d < v->ndim; d++)
        if (var->type.shape[d] != DAMO_DIM_UNKNOWN && var->type.shape[d] != v->shape[d]) {
            err_set(e, DAMO_ERR_SHAPE, "%s %s: dimension %d must be %lld, got %lld", what, lab, d,
                    (long long)var->type.shape[d], (long long)v->shape[d]);
            return NULL;
        }
    if (v->dtype == var->type.dtype)
        return damo_array_retain(v);
    if (!dtype_can_cast_safely(v->dtype, var->type.dtype)) {
        err_set(e, DAMO_ERR_TYPE, "%s %s is %s: a %s value would lose precision (cast it first)",
                what, lab, damo_dtype_name(var->type.dtype), damo_dtype_name(v->dtype));
        return NULL;
    }
    damo_array *c = array_convert(v, var->type.dtype);
    if (!c)
        err_copy(e, &v->ctx->err);
    return c;
}

static damo_status check_inputs(damo_graph *g, const damo_function_spec *spec)
{
    int seen_default = 0;
    for (size_t i = 0; i < spec->n_inputs; i++) {
        const damo_in *in = &spec->inputs[i];
        char lab[256];
        if (!in->var)
            return err_set(&g->err, DAMO_ERR_INVALID, "input %zu is NULL", i);
        var_label(in->var, lab, sizeof lab);
        if (in->var->g != g)
            return err_set(&g->err, DAMO_ERR_INVALID, "input %s belongs to another graph", lab);
        if (in->var->kind != VAR_INPUT)
            return err_set(&g->err, DAMO_ERR_INVALID,
                           "input %zu (%s) is a %s, not an input variable (use givens to "
                           "replace it)", i, lab,
                           in->var->kind == VAR_SHARED ? "shared variable"
                           : in->var->kind == VAR_CONST ? "constant" : "computed expression");
        if (seen_default && !in->value)
            return err_set(&g->err, DAMO_ERR_INVALID,
                           "input %s has no default but follows an input with a default; inputs "
                           "with defaults must come last", lab);
        seen_default |= in->value != NULL;
        for (size_t j = 0; j < i; j++) {
            const damo_in *o = &spec->inputs[j];
            if (o->var == in->var)
                return err_set(&g->err, DAMO_ERR_INVALID, "input %s is listed twice", lab);
            if (input_name(in) && input_name(o) && !strcmp(input_name(in), input_name(o)))
                return err_set(&g->err, DAMO_ERR_NAME, "two inputs are named '%s'",
                               input_name(in));
        }
    }
    return DAMO_OK;
}

/* Validates the updates and gives each expression the shared variable's
 * dtype (a cast node when the conversion is safe). */
static damo_status check_updates(damo_graph *g, const damo_function_spec *spec,
                                 damo_update *upd)
{
    for (size_t i = 0; i < spec->n_updates; i++) {
        damo_update u = spec->updates[i];
        char lab[256], el[256], sa[128], sb[128];
        if (!u.var || !u.expr)
            return err_set(&g->err, DAMO_ERR_INVALID, "update %zu: NULL variable or expression", i);
        var_label(u.var, lab, sizeof lab);
        if (u.var->g != g || u.expr->g != g)
            return err_set(&g->err, DAMO_ERR_INVALID, "update of %s: belongs to another graph", lab);
        if (u.var->kind != VAR_SHARED)
            return err_set(&g->err, DAMO_ERR_INVALID,
                           "update of %s: only shared variables can be updated", lab);
        for (size_t j = 0; j < i; j++)
            if (spec->updates[j].var == u.var)
                return err_set(&g->err, DAMO_ERR_INVALID, "%s is updated twice", lab);
        const gtype *t = &u.var->type, *x = &u.expr->type;
        int ok = t->ndim == x->ndim;
        for (int d = 0; ok && d < t->ndim; d++)
            ok = t->shape[d] == DAMO_DIM_UNKNOWN || x->shape[d] == DAMO_DIM_UNKNOWN ||
                 t->shape[d] == x->shape[d];
        if (!ok)
            return err_set(&g->err, DAMO_ERR_SHAPE,
                           "update of %s (shape %s): the expression %s has shape %s", lab,
                           gtype_shape_str(t, sa, sizeof sa), var_label(u.expr, el, sizeof el),
                           gtype_shape_str(x, sb, sizeof sb));
        if (x->dtype != t->dtype) {
            if (!dtype_can_cast_safely(x->dtype, t->dtype))
                return err_set(&g->err, DAMO_ERR_TYPE,
                               "update of %s (%s): the expression %s is %s, which cannot be stored "
                               "without loss (cast it)", lab, damo_dtype_name(t->dtype),
                               var_label(u.expr, el, sizeof el), damo_dtype_name(x->dtype));
            if (!(u.expr = damo_cast(u.expr, t->dtype)))
                return g->err.code;
        }
        upd[i] = u;
    }
    return DAMO_OK;
}

static damo_status check_outputs(damo_graph *g, const damo_function_spec *spec)
{
    for (size_t i = 0; i < spec->n_outputs; i++) {
        if (!spec->outputs[i])
            return err_set(&g->err, DAMO_ERR_INVALID, "output %zu is NULL", i);
        if (spec->outputs[i]->g != g)
            return err_set(&g->err, DAMO_ERR_INVALID, "output %zu belongs to another graph", i);
    }
    return DAMO_OK;
}

/* Modes a step's kernel is first built with: 0-d operands are scalars,
 * the rest flat. A call that sees other layouts builds another variant. */
static void default_modes(fn_step *fs)
{
    for (int i = 0; i < fs->s.n_in; i++)
        fs->modes[i] = fs->s.ins[i]->type.ndim == 0 ? CG_SCALAR : CG_FLAT;
    for (int o = 0; o < fs->s.n_out; o++)
        fs->modes[fs->s.n_in + o] = CG_FLAT;
}

damo_status step_kernel(damo_function *f, fn_step *fs, cl_kernel *out)
{
    int n = fs->s.n_in + fs->s.n_out;
    for (int v = 0; v < fs->n_variants; v++)
        if (!memcmp(fs->variants[v].modes, fs->modes, (size_t)n * sizeof *fs->modes)) {
            *out = fs->variants[v].kernel;
            return DAMO_OK;
        }
    kvariant *vs = realloc(fs->variants, (size_t)(fs->n_variants + 1) * sizeof *vs);
    if (!vs)
        return err_set(&f->err, DAMO_ERR_NOMEM, "out of memory building a kernel");
    fs->variants = vs;
    kvariant *kv = &vs[fs->n_variants];
    memset(kv, 0, sizeof *kv);
    kv->modes = malloc((size_t)(n ? n : 1) * sizeof *kv->modes);
    kv->source = cg_elemwise(&fs->s.prog, fs->s.ndim, fs->modes, fs->modes + fs->s.n_in, "damo_ew");
    if (!kv->modes || !kv->source) {
        free(kv->modes);
        free(kv->source);
        return err_set(&f->err, DAMO_ERR_NOMEM, "out of memory generating a kernel");
    }
    memcpy(kv->modes, fs->modes, (size_t)n * sizeof *fs->modes);
    cl_program prog;
    damo_status st = rt_program_get(&f->ctx->rt, kv->source, "", &prog, &f->err);
    if (st == DAMO_OK)
        st = rt_kernel_create(&f->ctx->rt, prog, "damo_ew", &kv->kernel, &f->err);
    if (st != DAMO_OK) {
        free(kv->modes);
        free(kv->source);
        return st;
    }
    fs->n_variants++;
    *out = kv->kernel;
    return DAMO_OK;
}

/* Arrays for constants the steps read or the function returns. */
static damo_status const_values(damo_function *f)
{
    damo_var **vars = f->fg.g->vars;
    for (size_t i = 0; i < f->n_vals; i++) {
        damo_var *v = vars[i];
        if (v->kind != VAR_CONST)
            continue;
        f->vals[i] = damo_array_from_data(f->ctx, v->type.dtype, v->type.ndim, v->type.shape,
                                          v->data);
        if (!f->vals[i])
            return err_copy(&f->err, &f->ctx->err);
    }
    return DAMO_OK;
}

static damo_status fp64_check(damo_function *f, const fn_step *fs)
{
    if (f->ctx->rt.dev.fp64 || !sprog_uses_fp64(&fs->s.prog))
        return DAMO_OK;
    char lab[256];
    return err_set(&f->err, DAMO_ERR_UNSUPPORTED,
                   "device '%s' does not support float64 (cl_khr_fp64), which %s needs; use "
                   "float32 types (damo_fscalar, damo_fmatrix, ...) or choose a device with fp64 "
                   "through DAMO_DEVICE (damo-info lists the devices)",
                   f->ctx->rt.dev.name, var_label(fs->s.instr_var[0], lab, sizeof lab));
}

static damo_status compile(damo_function *f, damo_graph *g, const damo_function_spec *spec)
{
    damo_status st;
    damo_var **ins = calloc(spec->n_inputs ? spec->n_inputs : 1, sizeof *ins);
    damo_var **outs = calloc(spec->n_outputs ? spec->n_outputs : 1, sizeof *outs);
    damo_update *upd = calloc(spec->n_updates ? spec->n_updates : 1, sizeof *upd);
    f->inputs = calloc(spec->n_inputs ? spec->n_inputs : 1, sizeof *f->inputs);
    f->upd_store = calloc(spec->n_updates ? spec->n_updates : 1, sizeof *f->upd_store);
    f->bound = calloc(spec->n_inputs ? spec->n_inputs : 1, sizeof *f->bound);
    if (!ins || !outs || !upd || !f->inputs || !f->upd_store || !f->bound) {
        st = err_set(&f->err, DAMO_ERR_NOMEM, "out of memory compiling");
        goto done;
    }
    if ((st = check_inputs(g, spec)) || (st = check_outputs(g, spec)) ||
        (st = check_updates(g, spec, upd))) {
        err_copy(&f->err, &g->err);
        goto done;
    }
    for (size_t i = 0; i < spec->n_inputs; i++)
        ins[i] = spec->inputs[i].var;
    memcpy(outs, spec->outputs, spec->n_outputs * sizeof *outs);
    fgraph_spec fs = {ins, spec->n_inputs, outs, spec->n_outputs, upd, spec->n_updates,
                      spec->givens, spec->n_givens};
    if ((st = fgraph_build(&f->fg, g, &fs, &f->err)) != DAMO_OK)
        goto done;
    f->n_inputs = spec->n_inputs;
    f->n_outputs = spec->n_outputs;
    f->n_updates = spec->n_updates;
    for (size_t i = 0; i < spec->n_inputs; i++) {
        const damo_in *in = &spec->inputs[i];
        f->inputs[i].var = f->fg.inputs[i];
        if (input_name(in) && !(f->inputs[i].name = strdup(input_name(in)))) {
            st = err_set(&f->err, DAMO_ERR_NOMEM, "out of memory compiling");
            goto done;
        }
        if (in->value && !(f->inputs[i].dflt = fn_fit_value(in->value, in->var, "default of input",
                                                          &f->err))) {
            st = f->err.code;
            goto done;
        }
    }
    for (size_t i = 0; i < spec->n_updates; i++) {
        f->upd_store[i] = f->fg.update_vars[i]->store;
        shared_store_retain(f->upd_store[i]);
    }
    fstep *steps;
    if ((st = fuse(&f->fg, f->flags & DAMO_FN_NO_FUSION, &steps, &f->n_steps, &f->err)))
        goto done;
    f->steps = calloc(f->n_steps ? f->n_steps : 1, sizeof *f->steps);
    f->n_vals = f->fg.g->n;
    f->vals = calloc(f->n_vals ? f->n_vals : 1, sizeof *f->vals);
    size_t max_instr = 1;
    for (size_t i = 0; i < f->n_steps; i++)
        if ((size_t)steps[i].prog.n_instr > max_instr)
            max_instr = (size_t)steps[i].prog.n_instr;
    f->shapes = calloc(max_instr * DAMO_MAX_DIMS, sizeof *f->shapes);
    if (!f->steps || !f->vals || !f->shapes) {
        fsteps_free(steps, f->n_steps);
        f->n_steps = 0;
        st = err_set(&f->err, DAMO_ERR_NOMEM, "out of memory compiling");
        goto done;
    }
    for (size_t i = 0; i < f->n_steps; i++) {
        f->steps[i].s = steps[i];
        f->steps[i].id = (int)i;
    }
    free(steps);
    if ((st = const_values(f)) != DAMO_OK)
        goto done;
    for (size_t i = 0; i < f->n_steps && st == DAMO_OK; i++) {
        fn_step *s = &f->steps[i];
        int n = s->s.n_in + s->s.n_out;
        s->modes = calloc((size_t)(n ? n : 1), sizeof *s->modes);
        s->iter = calloc(DAMO_MAX_DIMS, sizeof *s->iter);
        s->strides = calloc((size_t)(n ? n : 1) * DAMO_MAX_DIMS, sizeof *s->strides);
        s->arrays = calloc((size_t)(n ? n : 1), sizeof *s->arrays);
        s->views = calloc((size_t)(n ? n : 1), sizeof *s->views);
        if (!s->modes || !s->iter || !s->strides || !s->arrays || !s->views) {
            st = err_set(&f->err, DAMO_ERR_NOMEM, "out of memory compiling");
            break;
        }
        cl_kernel k;
        default_modes(s);
        if ((st = fp64_check(f, s)) == DAMO_OK)
            st = step_kernel(f, s, &k);
    }
done:
    free(ins);
    free(outs);
    free(upd);
    return st;
}

damo_function *damo_function_new(damo_graph *g, const damo_function_spec *spec)
{
    if (!g)
        return NULL;
    err_clear(&g->err);
    if (!spec || (spec->n_inputs && !spec->inputs) || (spec->n_outputs && !spec->outputs) ||
        (spec->n_updates && !spec->updates) || (spec->n_givens && !spec->givens)) {
        err_set(&g->err, DAMO_ERR_INVALID, "function: NULL spec or list");
        return NULL;
    }
    damo_function *f = calloc(1, sizeof *f);
    if (!f) {
        err_set(&g->err, DAMO_ERR_NOMEM, "out of memory compiling");
        return NULL;
    }
    f->ctx = g->ctx;
    f->flags = spec->flags;
    if (compile(f, g, spec) != DAMO_OK) {
        err_copy(&g->err, &f->err);
        damo_function_free(f);
        return NULL;
    }
    return f;
}

damo_function *damo_function_simple(damo_graph *g, size_t n_inputs, damo_var *const *inputs,
                                    size_t n_outputs, damo_var *const *outputs)
{
    if (!g)
        return NULL;
    damo_in *ins = calloc(n_inputs ? n_inputs : 1, sizeof *ins);
    if (!ins) {
        err_set(&g->err, DAMO_ERR_NOMEM, "out of memory compiling");
        return NULL;
    }
    for (size_t i = 0; inputs && i < n_inputs; i++)
        ins[i].var = inputs[i];
    damo_function_spec spec = {ins, n_inputs, outputs, n_outputs, NULL, 0, NULL, 0, 0};
    damo_function *f = damo_function_new(g, &spec);
    free(ins);
    return f;
}

void damo_function_free(damo_function *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n_steps; i++) {
        fn_step *s = &f->steps[i];
        for (int v = 0; v < s->n_variants; v++) {
            clReleaseKernel(s->variants[v].kernel);
            free(s->variants[v].modes);
            free(s->variants[v].source);
        }
        free(s->variants);
        free(s->modes);
        free(s->iter);
        free(s->strides);
        free(s->arrays);
        free(s->views);
        fstep_clear(&s->s);
    }
    free(f->steps);
    for (size_t i = 0; i < f->n_inputs; i++) {
        free(f->inputs[i].name);
        damo_array_release(f->inputs[i].dflt);
    }
    free(f->inputs);
    for (size_t i = 0; i < f->n_updates; i++)
        shared_store_release(f->upd_store[i]);
    free(f->upd_store);
    if (f->vals)
        for (size_t i = 0; i < f->n_vals; i++)
            damo_array_release(f->vals[i]);
    free(f->vals);
    free(f->bound);
    free(f->shapes);
    fgraph_free(&f->fg);
    free(f);
}

const char *damo_function_errmsg(const damo_function *f) { return f ? f->err.msg : "function is NULL"; }
damo_status damo_function_errcode(const damo_function *f) { return f ? f->err.code : DAMO_ERR_INVALID; }
size_t damo_function_n_inputs(const damo_function *f) { return f->n_inputs; }
size_t damo_function_n_outputs(const damo_function *f) { return f->n_outputs; }
size_t damo_function_n_steps(const damo_function *f) { return f->n_steps; }
size_t damo_function_n_kernels(const damo_function *f) { return f->n_steps; }
damo_step_kind damo_function_step_kind(const damo_function *f, size_t i)
{
    (void)f;
    (void)i;
    return DAMO_STEP_KERNEL;
}

const char *damo_function_step_source(const damo_function *f, size_t i)
{
    if (!f || i >= f->n_steps || !f->steps[i].n_variants)
        return NULL;
    return f->steps[i].variants[0].source;
}
