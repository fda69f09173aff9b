/* The op table built from ops.def: names, rules, OpenCL text and host
 * functions all come from the one X-macro line per op. */
#include "scalar.h"

#include <string.h>
#include <tgmath.h>

#if defined(__GNUC__)
/* inlined into the loops of the host forms, which gcc then vectorizes */
#define DAMO_FN static inline __attribute__((always_inline))
#else
#define DAMO_FN static inline
#endif
#define DAMO_I64 int64_t
#define DAMO_U64 uint64_t
#define DAMO_U32 uint32_t
#define DAMO_F64 double
#include "intmath.h"
#include "fmath.h"
#include "philox.h"

/* The table's damo_flog, damo_flog1p and damo_fexp: kernels/fmath.h's in
 * float64, the C library's in float32 (the same choice as scalar kernels
 * make, see codegen/emit.c). */
#define damo_flog(a) (sizeof(a) == sizeof(double) ? damo_log64(a) : log(a))
#define damo_flog1p(a) (sizeof(a) == sizeof(double) ? damo_log1p64(a) : log1p(a))
#define damo_fexp(a) (sizeof(a) == sizeof(double) ? damo_exp64(a) : exp(a))

/* An NA expression is never evaluated (op_infer never selects that kind),
 * but the host instantiation must still compile. */
#define NA ((T)0)

/* Each op's host form runs over n elements at once (the host evaluator
 * works in blocks); one element is a block of one. */
#define HOST_FN(ID, cls, TYPE, UTYPE, MEMBER, EXPR)                          \
    HOST_CLONES static void host_##ID##_##cls(hval *r, const hval *A,        \
                                              const hval *B,                 \
                                  const hval *C, int n)                      \
    {                                                                        \
        typedef TYPE T;                                                      \
        typedef UTYPE U;                                                     \
        for (int j = 0; j < n; j++) {                                        \
            T a = A[j].MEMBER, b = B[j].MEMBER, c = C[j].MEMBER;             \
            (void)a; (void)b; (void)c;                                       \
            r[j].MEMBER = (T)(EXPR);                                         \
        }                                                                    \
    }

#if defined(__GNUC__)
/* Unsigned and bool instantiations of signed-looking expressions compare
 * against zero, and most expressions never use U; harmless here, so keep
 * -Wextra quiet for the generated functions only. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wtype-limits"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wbool-operation"
#pragma GCC diagnostic ignored "-Wunused-local-typedefs"
#endif
#define DAMO_OP(ID, name, arity, rule, flags, F, I, UN, B)                   \
    HOST_FN(ID, f32, float, float, f32, F)                                   \
    HOST_FN(ID, f64, double, double, f64, F)                                 \
    HOST_FN(ID, int, int64_t, uint64_t, i, I)                                \
    HOST_FN(ID, uint, uint64_t, uint64_t, u, UN)                             \
    HOST_FN(ID, bool, uint64_t, uint64_t, u, B)
#include "ops.def"
#undef DAMO_OP
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

/* Stringized directly (#F), so the text is the token sequence as written,
 * before <tgmath.h> or NA expand; "NA" is filtered by op_cl_text. */
static const op_def table[SOP_COUNT] = {
#define DAMO_OP(ID, nm, ar, ru, fl, F, I, UN, B)                             \
    [SOP_##ID] = {.name = #nm, .arity = ar, .rule = ru, .flags = fl,         \
                  .cl = {#F, #I, #UN, #B},                                   \
                  .host = {host_##ID##_f32, host_##ID##_f64, host_##ID##_int, \
                           host_##ID##_uint, host_##ID##_bool}},
#include "ops.def"
#undef DAMO_OP
};

const op_def *op_get(scalar_op op) { return (unsigned)op < SOP_COUNT ? &table[op] : NULL; }

static int kind_slot(damo_dtype t)
{
    static const int slot[] = {[KIND_FLOAT] = 0, [KIND_INT] = 1, [KIND_UINT] = 2, [KIND_BOOL] = 3};
    return slot[dtype_kind_of(t)];
}

const char *op_cl_text(scalar_op op, damo_dtype compute)
{
    const char *s = table[op].cl[kind_slot(compute)];
    return strcmp(s, "NA") ? s : NULL;
}

int op_exact(scalar_op op, damo_dtype compute, unsigned fp32)
{
    if (dtype_kind_of(compute) != KIND_FLOAT)
        return 1;
    if (compute == DAMO_FLOAT64)
        fp32 = FP32_DENORMS | FP32_CR_DIV_SQRT;
    unsigned f = table[op].flags;
    if (compute == DAMO_FLOAT64 && (f & FMATH))
        return 1;
    /* a device that flushes denormals to zero rounds differently */
    return (fp32 & FP32_DENORMS) && ((f & EXACT) || ((f & EXACT_CR) && (fp32 & FP32_CR_DIV_SQRT)));
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

static void set_types(op_types *out, damo_dtype compute, damo_dtype res, weak_kind w)
{
    *out = (op_types){compute, res, w, {compute, compute, compute}};
}

static damo_status type_error(const op_def *d, const op_operand *args, const char *why,
                              damo_err *e)
{
    if (d->arity == 1)
        return err_set(e, DAMO_ERR_TYPE, "%s: not defined for %s (%s)", d->name,
                       damo_dtype_name(args[0].dtype), why);
    return err_set(e, DAMO_ERR_TYPE, "%s: not defined for %s and %s (%s)", d->name,
                   damo_dtype_name(args[0].dtype), damo_dtype_name(args[1].dtype), why);
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
        set_types(out, t, t, args[0].weak && w ? w : WEAK_NONE);
        out->via[0] = DAMO_BOOL;
        return DAMO_OK;
    case RULE_CAST:
        set_types(out, args[0].dtype, cast_to, WEAK_NONE);
        return DAMO_OK;
    case RULE_FIRST:
        set_types(out, args[0].dtype, args[0].dtype, args[0].weak);
        return DAMO_OK;
    case RULE_PRED:
        set_types(out, args[0].dtype, DAMO_BOOL, WEAK_NONE);
        return DAMO_OK;
    default:
        break;
    }
    promote(args, d->arity, &t, &w);
    switch (d->rule) {
    case RULE_FLOAT:
    case RULE_DIV:
        if (dtype_kind_of(t) != KIND_FLOAT)
            t = d->rule == RULE_DIV ? DAMO_FLOAT64 : dtype_to_float(t);
        set_types(out, t, t, w ? WEAK_FLOAT : WEAK_NONE);
        return DAMO_OK;
    case RULE_CMP:
        set_types(out, t, DAMO_BOOL, WEAK_NONE);
        return DAMO_OK;
    case RULE_BITS:
        if (dtype_kind_of(t) == KIND_FLOAT)
            return type_error(d, args, "integers and bool only", e);
        break;
    default:
        break;
    }
    if (t == DAMO_BOOL && (d->flags & BOOL_INT8))
        t = DAMO_INT8;
    if (!op_cl_text(op, t))
        return type_error(d, args, "as in NumPy; use not / xor for logic on bools", e);
    set_types(out, t, t, w);
    return DAMO_OK;
}

const hval *op_arg_convert_n(const op_types *t, int k, damo_dtype from, const hval *v, hval *tmp,
                             int n)
{
    damo_dtype via = t->via[k];
    if (from != via) {
        hval_convert_n(from, via, v, tmp, n);
        v = tmp;
    }
    if (via == t->compute)
        return v;
    hval_convert_n(via, t->compute, v, tmp, n);
    return tmp;
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

op_host_fn op_host(scalar_op op, damo_dtype compute) { return op_get(op)->host[host_class(compute)]; }

void op_wrap_n(damo_dtype compute, hval *r, int n)
{
    if (dtype_kind_of(compute) != KIND_FLOAT)
        for (int j = 0; j < n; j++)
            r[j] = hval_wrap(compute, r[j]);
}

hval op_eval(scalar_op op, damo_dtype compute, hval a, hval b, hval c)
{
    hval r;
    op_host(op, compute)(&r, &a, &b, &c, 1);
    op_wrap_n(compute, &r, 1);
    return r;
}
