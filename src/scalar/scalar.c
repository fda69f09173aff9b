/* The op table built from ops.def: names, rules, OpenCL text and host
 * functions all come from the one X-macro line per op. */
#include "scalar.h"

#include <string.h>
#include <tgmath.h>

/* An NA expression is never evaluated (the rule never selects that kind),
 * but the host instantiation must still compile. */
#define NA ((T)0)

#define HOST_FN(ID, cls, TYPE, MEMBER, EXPR)                                 \
    static hval host_##ID##_##cls(hval A, hval B, hval C)                   \
    {                                                                        \
        typedef TYPE T;                                                      \
        T a = A.MEMBER, b = B.MEMBER, c = C.MEMBER;                          \
        (void)a; (void)b; (void)c;                                           \
        hval r;                                                              \
        r.MEMBER = (T)(EXPR);                                                \
        return r;                                                            \
    }

#if defined(__GNUC__)
/* Unsigned and bool instantiations of signed-looking expressions compare
 * against zero; harmless here, so keep -Wextra quiet for the generated
 * functions only. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wtype-limits"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wbool-operation"
#endif
#define DAMO_OP(ID, name, arity, rule, F, I, U, B)                           \
    HOST_FN(ID, f32, float, f32, F)                                          \
    HOST_FN(ID, f64, double, f64, F)                                         \
    HOST_FN(ID, int, int64_t, i, I)                                          \
    HOST_FN(ID, uint, uint64_t, u, U)                                        \
    HOST_FN(ID, bool, uint64_t, u, B)
#include "ops.def"
#undef DAMO_OP
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

/* Stringized directly (#F), so the text is the token sequence as written,
 * before <tgmath.h> or NA expand; "NA" is filtered by op_cl_text. */
static const op_def table[OP_COUNT] = {
#define DAMO_OP(ID, nm, ar, ru, F, I, U, B)                                  \
    [OP_##ID] = {.name = #nm, .arity = ar, .rule = ru,                       \
                 .cl = {#F, #I, #U, #B},                                     \
                 .host = {host_##ID##_f32, host_##ID##_f64, host_##ID##_int, \
                          host_##ID##_uint, host_##ID##_bool}},
#include "ops.def"
#undef DAMO_OP
};

const op_def *op_get(scalar_op op) { return (unsigned)op < OP_COUNT ? &table[op] : NULL; }

const char *op_cl_text(scalar_op op, damo_dtype compute)
{
    static const int kind_slot[] = {[KIND_FLOAT] = 0, [KIND_INT] = 1, [KIND_UINT] = 2,
                                    [KIND_BOOL] = 3};
    const char *s = table[op].cl[kind_slot[dtype_kind_of(compute)]];
    return strcmp(s, "NA") ? s : NULL;
}

scalar_op op_by_name(const char *name)
{
    for (int i = 0; i < OP_COUNT; i++)
        if (!strcmp(table[i].name, name))
            return (scalar_op)i;
    return OP_COUNT;
}

/* NumPy promotion of several operands under NEP 50: strong dtypes promote
 * among themselves, then weak literals adjust the result's kind. */
static void promote(const op_operand *args, int n, damo_dtype *dt, weak_kind *weak)
{
    int have_strong = 0;
    weak_kind w = WEAK_NONE;
    damo_dtype s = DAMO_BOOL;
    for (int i = 0; i < n; i++) {
        if (args[i].weak == WEAK_NONE) {
            s = have_strong ? damo_dtype_promote(s, args[i].dtype) : args[i].dtype;
            have_strong = 1;
        } else if (args[i].weak > w) {
            w = args[i].weak;
        }
    }
    if (!have_strong) {
        *dt = dtype_of_weak(w);
        *weak = w;
        return;
    }
    *dt = dtype_promote_weak(s, w);
    *weak = WEAK_NONE;
}

damo_status op_infer(scalar_op op, const op_operand *args, damo_dtype cast_to,
                     op_types *out, damo_err *e)
{
    const op_def *d = op_get(op);
    damo_dtype t;
    weak_kind w;
    switch (d->rule) {
    case RULE_SWITCH:
        promote(args + 1, 2, &t, &w);
        w = args[0].weak && w ? w : WEAK_NONE;
        *out = (op_types){t, t, w};
        return DAMO_OK;
    case RULE_CAST:
        *out = (op_types){args[0].dtype, cast_to, WEAK_NONE};
        return DAMO_OK;
    case RULE_PRED:
        *out = (op_types){args[0].dtype, DAMO_BOOL, WEAK_NONE};
        return DAMO_OK;
    default:
        break;
    }
    promote(args, d->arity, &t, &w);
    switch (d->rule) {
    case RULE_FLOAT:
        t = dtype_to_float(t);
        if (w)
            w = WEAK_FLOAT;
        *out = (op_types){t, t, w};
        return DAMO_OK;
    case RULE_CMP:
        *out = (op_types){t, DAMO_BOOL, WEAK_NONE};
        return DAMO_OK;
    case RULE_BITS:
        if (dtype_kind_of(t) == KIND_FLOAT) {
            if (d->arity == 1)
                return err_set(e, DAMO_ERR_TYPE, "%s: not defined for %s (integers and bool only)",
                               d->name, damo_dtype_name(args[0].dtype));
            return err_set(e, DAMO_ERR_TYPE,
                           "%s: not defined for %s and %s (integers and bool only)", d->name,
                           damo_dtype_name(args[0].dtype), damo_dtype_name(args[1].dtype));
        }
        *out = (op_types){t, t, w};
        return DAMO_OK;
    default:
        *out = (op_types){t, t, w};
        return DAMO_OK;
    }
}

static int host_class(damo_dtype t)
{
    switch (dtype_kind_of(t)) {
    case KIND_FLOAT: return t == DAMO_FLOAT32 ? 0 : 1;
    case KIND_INT: return 2;
    case KIND_UINT: return 3;
    default: return 4;
    }
}

hval op_eval(scalar_op op, damo_dtype compute, hval a, hval b, hval c)
{
    hval r = op_get(op)->host[host_class(compute)](a, b, c);
    /* The class type is wider than the dtype; wrap like the device does. */
    return hval_convert(compute, compute, r);
}
