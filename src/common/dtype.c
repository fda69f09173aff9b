#include "dtype.h"

#include <math.h>
#include <string.h>

static const struct {
    const char *name, *cl, *wrap, *sfx, *npy;
    size_t size;
    dtype_kind kind;
} info[DAMO_NUM_DTYPES] = {
    [DAMO_BOOL] = {"bool", "uchar", "uint", "b", "b1", 1, KIND_BOOL},
    [DAMO_INT8] = {"int8", "char", "uint", "i8", "i1", 1, KIND_INT},
    [DAMO_INT16] = {"int16", "short", "uint", "i16", "i2", 2, KIND_INT},
    [DAMO_INT32] = {"int32", "int", "uint", "i32", "i4", 4, KIND_INT},
    [DAMO_INT64] = {"int64", "long", "ulong", "i64", "i8", 8, KIND_INT},
    [DAMO_UINT8] = {"uint8", "uchar", "uint", "u8", "u1", 1, KIND_UINT},
    [DAMO_UINT16] = {"uint16", "ushort", "uint", "u16", "u2", 2, KIND_UINT},
    [DAMO_UINT32] = {"uint32", "uint", "uint", "u32", "u4", 4, KIND_UINT},
    [DAMO_UINT64] = {"uint64", "ulong", "ulong", "u64", "u8", 8, KIND_UINT},
    [DAMO_FLOAT32] = {"float32", "float", "float", "f32", "f4", 4, KIND_FLOAT},
    [DAMO_FLOAT64] = {"float64", "double", "double", "f64", "f8", 8, KIND_FLOAT},
};

int dtype_valid(damo_dtype t) { return (unsigned)t < DAMO_NUM_DTYPES; }
const char *damo_dtype_name(damo_dtype t) { return dtype_valid(t) ? info[t].name : "?"; }
size_t damo_dtype_size(damo_dtype t) { return dtype_valid(t) ? info[t].size : 0; }
dtype_kind dtype_kind_of(damo_dtype t) { return info[t].kind; }
const char *dtype_cl_name(damo_dtype t) { return info[t].cl; }
const char *dtype_cl_wrap_name(damo_dtype t) { return info[t].wrap; }
const char *dtype_suffix(damo_dtype t) { return info[t].sfx; }
const char *dtype_npy_descr(damo_dtype t) { return info[t].npy; }

static damo_dtype int_of_size(size_t size, int is_signed)
{
    switch (size) {
    case 1: return is_signed ? DAMO_INT8 : DAMO_UINT8;
    case 2: return is_signed ? DAMO_INT16 : DAMO_UINT16;
    case 4: return is_signed ? DAMO_INT32 : DAMO_UINT32;
    default: return is_signed ? DAMO_INT64 : DAMO_UINT64;
    }
}

/* Smallest float that holds every value of an integer of this size. */
static damo_dtype float_for_int(size_t size) { return size <= 2 ? DAMO_FLOAT32 : DAMO_FLOAT64; }

damo_dtype damo_dtype_promote(damo_dtype a, damo_dtype b)
{
    if (!dtype_valid(a) || !dtype_valid(b))
        return DAMO_NUM_DTYPES;
    if (a == b)
        return a;
    dtype_kind ka = info[a].kind, kb = info[b].kind;
    size_t sa = info[a].size, sb = info[b].size;
    if (ka == KIND_BOOL)
        return b;
    if (kb == KIND_BOOL)
        return a;
    if (ka == KIND_FLOAT && kb == KIND_FLOAT)
        return sa >= sb ? a : b;
    if (ka == KIND_FLOAT || kb == KIND_FLOAT) {
        damo_dtype f = ka == KIND_FLOAT ? a : b;
        size_t isz = ka == KIND_FLOAT ? sb : sa;
        damo_dtype need = float_for_int(isz);
        return info[need].size > info[f].size ? need : f;
    }
    if (ka == kb)
        return sa >= sb ? a : b;
    /* signed with unsigned: the signed type must be wider than the unsigned */
    size_t ss = ka == KIND_INT ? sa : sb, us = ka == KIND_UINT ? sa : sb;
    if (ss > us)
        return ka == KIND_INT ? a : b;
    if (us < 8)
        return int_of_size(us * 2, 1);
    return DAMO_FLOAT64;
}

damo_dtype dtype_to_float(damo_dtype t)
{
    if (info[t].kind == KIND_FLOAT)
        return t;
    return float_for_int(info[t].size);
}

int dtype_can_cast_safely(damo_dtype from, damo_dtype to)
{
    return damo_dtype_promote(from, to) == to;
}

int64_t dtype_int_min(damo_dtype t)
{
    if (info[t].kind != KIND_INT)
        return 0;
    return (int64_t)(UINT64_MAX << (info[t].size * 8 - 1));
}

int64_t dtype_int_max(damo_dtype t)
{
    if (info[t].kind == KIND_BOOL)
        return 1;
    unsigned bits = (unsigned)info[t].size * 8 - (info[t].kind == KIND_INT);
    return bits >= 63 ? INT64_MAX : (int64_t)((UINT64_C(1) << bits) - 1);
}

int dtype_holds_int(damo_dtype t, int64_t v) { return v >= dtype_int_min(t) && v <= dtype_int_max(t); }

damo_dtype dtype_promote_weak(damo_dtype strong, weak_kind weak)
{
    dtype_kind k = info[strong].kind;
    if (weak == WEAK_FLOAT)
        return k == KIND_FLOAT ? strong : DAMO_FLOAT64;
    if (weak == WEAK_INT)
        return k == KIND_BOOL ? DAMO_INT64 : strong;
    return strong;
}

damo_dtype dtype_of_weak(weak_kind weak) { return weak == WEAK_FLOAT ? DAMO_FLOAT64 : DAMO_INT64; }

/* Strided runs of elements: the dtype is switched on once per run, so
 * the host evaluator's loops stay tight. */
#define AS_IS(x) (x)
#define TRUTH(x) ((x) != 0)
#define LOAD_RUN_AS(CT, M, V)                                                \
    if (stride == 1)                                                         \
        for (int j = 0; j < n; j++)                                          \
            dst[j].M = V(((const CT *)base)[i + j]);                         \
    else                                                                     \
        for (int j = 0; j < n; j++)                                          \
            dst[j].M = V(((const CT *)base)[i + j * stride]);                \
    break
#define LOAD_RUN(CT, M) LOAD_RUN_AS(CT, M, AS_IS)
HOST_CLONES static void load_run(damo_dtype t, const void *base, int64_t i, int64_t stride, hval *dst,
                                  int n)
{
    /* one value repeated (a broadcast scalar): loaded once */
    if (stride == 0 && n > 1) {
        load_run(t, base, i, 1, dst, 1);
        for (int j = 1; j < n; j++)
            dst[j] = dst[0];
        return;
    }
    switch (t) {
    case DAMO_BOOL: LOAD_RUN_AS(uint8_t, u, TRUTH);
    case DAMO_INT8: LOAD_RUN(int8_t, i);
    case DAMO_INT16: LOAD_RUN(int16_t, i);
    case DAMO_INT32: LOAD_RUN(int32_t, i);
    case DAMO_INT64: LOAD_RUN(int64_t, i);
    case DAMO_UINT8: LOAD_RUN(uint8_t, u);
    case DAMO_UINT16: LOAD_RUN(uint16_t, u);
    case DAMO_UINT32: LOAD_RUN(uint32_t, u);
    case DAMO_UINT64: LOAD_RUN(uint64_t, u);
    case DAMO_FLOAT32: LOAD_RUN(float, f32);
    default: LOAD_RUN(double, f64);
    }
}
#undef LOAD_RUN
#undef LOAD_RUN_AS

void hval_load_n(damo_dtype t, const void *base, int64_t i, int64_t stride, hval *dst, int n)
{
    load_run(t, base, i, stride, dst, n);
}

#define STORE_RUN_AS(CT, M, V)                                               \
    if (stride == 1)                                                         \
        for (int j = 0; j < n; j++)                                          \
            ((CT *)base)[i + j] = (CT)V(src[j].M);                           \
    else                                                                     \
        for (int j = 0; j < n; j++)                                          \
            ((CT *)base)[i + j * stride] = (CT)V(src[j].M);                  \
    break
#define STORE_RUN(CT, M) STORE_RUN_AS(CT, M, AS_IS)
HOST_CLONES static void store_run(damo_dtype t, void *base, int64_t i, int64_t stride,
                                   const hval *src, int n)
{
    switch (t) {
    case DAMO_BOOL: STORE_RUN_AS(uint8_t, u, TRUTH);
    case DAMO_INT8: STORE_RUN(int8_t, i);
    case DAMO_INT16: STORE_RUN(int16_t, i);
    case DAMO_INT32: STORE_RUN(int32_t, i);
    case DAMO_INT64: STORE_RUN(int64_t, i);
    case DAMO_UINT8: STORE_RUN(uint8_t, u);
    case DAMO_UINT16: STORE_RUN(uint16_t, u);
    case DAMO_UINT32: STORE_RUN(uint32_t, u);
    case DAMO_UINT64: STORE_RUN(uint64_t, u);
    case DAMO_FLOAT32: STORE_RUN(float, f32);
    default: STORE_RUN(double, f64);
    }
}
#undef STORE_RUN
#undef STORE_RUN_AS
#undef AS_IS
#undef TRUTH

void hval_store_n(damo_dtype t, void *base, int64_t i, int64_t stride, const hval *src, int n)
{
    store_run(t, base, i, stride, src, n);
}

hval hval_load(damo_dtype t, const void *base, int64_t i)
{
    hval v;
    hval_load_n(t, base, i, 0, &v, 1);
    return v;
}

void hval_store(damo_dtype t, void *base, int64_t i, hval v) { hval_store_n(t, base, i, 0, &v, 1); }

/* Integer bounds of a dtype, as doubles, for saturating float conversion. */
static void int_bounds(damo_dtype t, double *lo, double *hi)
{
    size_t bits = info[t].size * 8;
    if (info[t].kind == KIND_UINT) {
        *lo = 0;
        *hi = ldexp(1.0, (int)bits) - 1;
    } else {
        *lo = -ldexp(1.0, (int)bits - 1);
        *hi = ldexp(1.0, (int)bits - 1) - 1;
    }
}

/* Wraps an integer held in 64 bits to the width and signedness of t. */
static hval wrap_int(damo_dtype t, uint64_t bits)
{
    hval v;
    switch (t) {
    case DAMO_INT8: v.i = (int8_t)bits; break;
    case DAMO_INT16: v.i = (int16_t)bits; break;
    case DAMO_INT32: v.i = (int32_t)bits; break;
    case DAMO_INT64: v.i = (int64_t)bits; break;
    case DAMO_UINT8: v.u = (uint8_t)bits; break;
    case DAMO_UINT16: v.u = (uint16_t)bits; break;
    case DAMO_UINT32: v.u = (uint32_t)bits; break;
    default: v.u = bits; break;
    }
    return v;
}

hval hval_wrap(damo_dtype t, hval v)
{
    switch (info[t].kind) {
    case KIND_FLOAT: return v;
    case KIND_BOOL: v.u = v.u != 0; return v;
    default: return wrap_int(t, v.u);
    }
}

cvt_rule dtype_cvt_rule(damo_dtype from, damo_dtype to)
{
    if (from == to)
        return CVT_SAME;
    if (info[to].kind == KIND_BOOL)
        return CVT_TO_BOOL;
    if (info[from].kind == KIND_FLOAT && info[to].kind != KIND_FLOAT)
        return CVT_FLOAT_TO_INT;
    return CVT_PLAIN;
}

static double as_double(damo_dtype t, hval v)
{
    switch (info[t].kind) {
    case KIND_FLOAT: return t == DAMO_FLOAT32 ? (double)v.f32 : v.f64;
    case KIND_INT: return (double)v.i;
    default: return (double)v.u;
    }
}

hval hval_convert(damo_dtype from, damo_dtype to, hval v)
{
    hval r;
    switch (dtype_cvt_rule(from, to)) {
    case CVT_SAME:
        return v;
    case CVT_TO_BOOL:
        r.u = info[from].kind == KIND_FLOAT ? as_double(from, v) != 0 : v.u != 0;
        return r;
    case CVT_FLOAT_TO_INT: {
        /* Comparing against the bounds as doubles is exact where it
         * matters: 2^63 and 2^64 are doubles, and every smaller bound is. */
        double lo, hi, d = as_double(from, v);
        int_bounds(to, &lo, &hi);
        double t = isnan(d) ? 0.0 : trunc(d);
        unsigned bits = (unsigned)info[to].size * 8;
        if (info[to].kind == KIND_UINT) {
            uint64_t max = UINT64_MAX >> (64 - bits);
            r.u = t <= 0 ? 0 : t >= hi ? max : (uint64_t)t;
        } else {
            int64_t max = (int64_t)(UINT64_MAX >> (65 - bits));
            r.i = t <= lo ? -max - 1 : t >= hi ? max : (int64_t)t;
        }
        return r;
    }
    case CVT_PLAIN:
        break;
    }
    if (info[to].kind != KIND_FLOAT)
        return wrap_int(to, v.u); /* from an integer or bool */
    if (info[from].kind == KIND_FLOAT) {
        if (to == DAMO_FLOAT32)
            r.f32 = (float)v.f64; /* only float64 -> float32 reaches here */
        else
            r.f64 = (double)v.f32;
        return r;
    }
    /* integer to float: one rounding, from the integer itself */
    if (to == DAMO_FLOAT32)
        r.f32 = info[from].kind == KIND_INT ? (float)v.i : (float)v.u;
    else
        r.f64 = info[from].kind == KIND_INT ? (double)v.i : (double)v.u;
    return r;
}

HOST_CLONES static void convert_run(damo_dtype from, damo_dtype to, const hval *src, hval *dst,
                                     int n)
{
    cvt_rule rule = dtype_cvt_rule(from, to);
    dtype_kind fk = info[from].kind;
    /* the common runs spelled out (each as hval_convert computes it),
     * every other one element at a time */
    if (rule == CVT_SAME) {
        if (dst != src)
            memmove(dst, src, (size_t)n * sizeof *dst);
    } else if (rule == CVT_TO_BOOL && from == DAMO_FLOAT64) {
        for (int j = 0; j < n; j++)
            dst[j].u = src[j].f64 != 0;
    } else if (rule == CVT_TO_BOOL && fk != KIND_FLOAT) {
        for (int j = 0; j < n; j++)
            dst[j].u = src[j].u != 0;
    } else if (to == DAMO_FLOAT64 && fk == KIND_BOOL) {
        /* a select where AVX2 has no conversion from 64-bit integers */
        for (int j = 0; j < n; j++)
            dst[j].f64 = src[j].u ? 1.0 : 0.0;
    } else if (to == DAMO_FLOAT64 && fk == KIND_UINT) {
        for (int j = 0; j < n; j++)
            dst[j].f64 = (double)src[j].u;
    } else if (to == DAMO_FLOAT64 && fk == KIND_INT) {
        for (int j = 0; j < n; j++)
            dst[j].f64 = (double)src[j].i;
    } else {
        for (int j = 0; j < n; j++)
            dst[j] = hval_convert(from, to, src[j]);
    }
}

void hval_convert_n(damo_dtype from, damo_dtype to, const hval *src, hval *dst, int n)
{
    convert_run(from, to, src, dst, n);
}

double hval_to_double(damo_dtype t, hval v) { return hval_convert(t, DAMO_FLOAT64, v).f64; }

hval hval_from_double(damo_dtype t, double d)
{
    hval v;
    v.f64 = d;
    return hval_convert(DAMO_FLOAT64, t, v);
}

hval hval_from_int(damo_dtype t, int64_t i)
{
    hval v;
    v.i = i;
    return hval_convert(DAMO_INT64, t, v);
}
