/* Calling a function: bind arguments to inputs (positional, named,
 * defaults), then run the plan. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

damo_array *fit_array(damo_ctx *ctx, damo_array *v, const gtype *t, const char *what,
                      const char *label, damo_err *e)
{
    if (v->ctx != ctx) {
        err_set(e, DAMO_ERR_INVALID, "%s %s: the array belongs to another context", what, label);
        return NULL;
    }
    if (gtype_check(t, v->dtype, v->ndim, v->shape, 0, what, label, e) != DAMO_OK)
        return NULL;
    if (v->dtype == t->dtype)
        return damo_array_retain(v);
    if (!dtype_can_cast_safely(v->dtype, t->dtype)) {
        err_set(e, DAMO_ERR_TYPE, "%s %s is %s: a %s value would lose precision (cast it first)",
                what, label, damo_dtype_name(t->dtype), damo_dtype_name(v->dtype));
        return NULL;
    }
    return array_convert(v, t->dtype, e);
}

/* 1 when the integer i is a value of dtype t exactly. */
static int int_fits(int64_t i, damo_dtype t)
{
    if (dtype_kind_of(t) != KIND_FLOAT)
        return dtype_kind_of(t) == KIND_UINT ? i >= 0 && (t == DAMO_UINT64 || dtype_holds_int(t, i))
                                              : dtype_holds_int(t, i);
    /* 2^63 is the first double past INT64_MAX: test the range before
     * converting back */
    double d = t == DAMO_FLOAT32 ? (double)(float)i : (double)i;
    return d >= -9223372036854775808.0 && d < 9223372036854775808.0 && (int64_t)d == i;
}

/* 1 when the double f is a value of dtype t exactly. */
static int float_fits(double f, damo_dtype t)
{
    switch (dtype_kind_of(t)) {
    case KIND_FLOAT: return t == DAMO_FLOAT64 || f != f || (double)(float)f == f;
    case KIND_BOOL: return f == 0 || f == 1;
    case KIND_UINT:
        return f == floor(f) && f >= 0 && f < 18446744073709551616.0 &&
               (t == DAMO_UINT64 || f <= (double)dtype_int_max(t));
    default:
        return f == floor(f) && f >= -9223372036854775808.0 && f < 9223372036854775808.0 &&
               dtype_holds_int(t, (int64_t)f);
    }
}

/* The number as a value of dtype t, when it is one exactly. */
static int number_fits(const damo_arg *arg, damo_dtype t, hval *out)
{
    if (arg->kind == DAMO_VALUE_INT) {
        *out = hval_from_int(t, arg->i);
        return int_fits(arg->i, t);
    }
    *out = hval_from_double(t, arg->f);
    return float_fits(arg->f, t);
}

damo_array *number_array(damo_ctx *ctx, const damo_arg *arg, const gtype *t, damo_array **reuse,
                         const char *what, const char *label, damo_err *e)
{
    if (t->ndim != 0) {
        err_set(e, DAMO_ERR_SHAPE, "%s %s has %d dimensions: pass an array, not a number", what,
                label, t->ndim);
        return NULL;
    }
    if (arg->kind != DAMO_VALUE_INT && arg->kind != DAMO_VALUE_FLOAT) {
        err_set(e, DAMO_ERR_INVALID, "%s %s: unknown value kind %d", what, label, (int)arg->kind);
        return NULL;
    }
    hval v;
    if (!number_fits(arg, t->dtype, &v)) {
        if (arg->kind == DAMO_VALUE_INT)
            err_set(e, DAMO_ERR_TYPE, "%s %s is %s: the number %lld does not fit exactly", what,
                    label, damo_dtype_name(t->dtype), (long long)arg->i);
        else
            err_set(e, DAMO_ERR_TYPE, "%s %s is %s: the number %.17g does not fit exactly", what,
                    label, damo_dtype_name(t->dtype), arg->f);
        return NULL;
    }
    damo_array *a = reuse ? *reuse : NULL;
    if (!(a && a->refcount == 1 && a->st->refcount == 1)) {
        if (reuse) {
            damo_array_release(a);
            *reuse = NULL;
        }
        if (!(a = array_new(ctx, t->dtype, 0, NULL, e)))
            return NULL;
        if (reuse)
            *reuse = a;
    }
    void *host = array_host_write(a, e);
    if (!host) {
        if (!reuse)
            damo_array_release(a);
        return NULL;
    }
    hval_store(t->dtype, host, 0, v);
    return reuse ? damo_array_retain(a) : a;
}

damo_arg damo_named(const char *name, damo_arg value)
{
    value.name = name;
    return value;
}

static damo_status bind_one(damo_function *f, size_t i, const damo_arg *arg)
{
    const fn_input *in = &f->inputs[i];
    const char *lab = in->label;
    if (f->bound[i])
        return err_set(&f->err, DAMO_ERR_NAME, "input %s is given twice", lab);
    if (arg->kind == DAMO_VALUE_ARRAY)
        f->bound[i] = arg->array ? fit_array(f->ctx, arg->array, &in->var->type, "input", lab, &f->err)
                                 : (err_set(&f->err, DAMO_ERR_INVALID, "input %s: the array is NULL",
                                            lab), NULL);
    else
        f->bound[i] = number_array(f->ctx, arg, &in->var->type, &f->num[i], "input", lab, &f->err);
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

damo_status damo_call(damo_function *f, const damo_arg *args, size_t n_args, damo_array **outputs,
                      size_t n_outputs)
{
    for (size_t o = 0; outputs && o < n_outputs; o++)
        outputs[o] = NULL;
    if (!f)
        return err_set(NULL, DAMO_ERR_INVALID, "call: function is NULL");
    err_clear(&f->err);
    if (n_args && !args)
        return err_set(&f->err, DAMO_ERR_INVALID, "call: args is NULL");
    if (outputs ? n_outputs != f->plan->n_outputs : n_outputs != 0)
        return err_set(&f->err, DAMO_ERR_INVALID,
                       "call: the function has %zu outputs, but room for %zu was given%s",
                       f->plan->n_outputs, n_outputs, outputs ? "" : " with outputs NULL");
    damo_status st = bind(f, args, n_args);
    if (st == DAMO_OK)
        st = plan_run(f->plan, f->bound, outputs, &f->err);
    for (size_t i = 0; i < f->n_inputs; i++) {
        damo_array_release(f->bound[i]);
        f->bound[i] = NULL;
    }
    return st;
}
