/* dtype facts shared by every layer: sizes, kinds, NumPy promotion,
 * OpenCL type names, and the value conversions both the host evaluator
 * and the generated kernels follow. */
#ifndef DAMO_COMMON_DTYPE_H
#define DAMO_COMMON_DTYPE_H

#include <stdint.h>

#include "damo.h"

typedef enum dtype_kind { KIND_BOOL, KIND_INT, KIND_UINT, KIND_FLOAT } dtype_kind;

dtype_kind dtype_kind_of(damo_dtype t);
int dtype_valid(damo_dtype t);
/* OpenCL C scalar type ("double", "uchar" for bool). */
const char *dtype_cl_name(damo_dtype t);
/* The unsigned OpenCL type integer arithmetic of t wraps in ("uint" up to
 * 32 bits, so that C's promotion to int never overflows; "ulong" for 64). */
const char *dtype_cl_wrap_name(damo_dtype t);
/* Short suffix used in generated names ("f64", "b"). */
const char *dtype_suffix(damo_dtype t);
/* NumPy's '<f8' style descriptor character pair ("f8", "b1"). */
const char *dtype_npy_descr(damo_dtype t);
/* Aesara's upgrade_to_float: ints of <= 16 bits -> float32, wider -> float64. */
damo_dtype dtype_to_float(damo_dtype t);
/* True when every value of `from` is exactly representable in `to`. */
int dtype_can_cast_safely(damo_dtype from, damo_dtype to);
/* True when the integer v is a value of the integer or bool dtype t. */
int dtype_holds_int(damo_dtype t, int64_t v);
/* Smallest and largest value of an integer dtype, as int64 (the largest
 * uint64 saturates to INT64_MAX: callers compare against int64 values). */
int64_t dtype_int_min(damo_dtype t);
int64_t dtype_int_max(damo_dtype t);

/* What a device guarantees for float32 beyond OpenCL's minimum (float64
 * always has both): denormals kept, division and sqrt correctly rounded. */
enum { FP32_DENORMS = 1u << 0, FP32_CR_DIV_SQRT = 1u << 1 };

/* A weakly typed C literal (NEP 50): int or float kind, no fixed size. */
typedef enum weak_kind { WEAK_NONE = 0, WEAK_INT, WEAK_FLOAT } weak_kind;
/* Result dtype of a strong dtype combined with a weak literal kind. */
damo_dtype dtype_promote_weak(damo_dtype strong, weak_kind weak);
/* Dtype a weak literal takes when nothing strong is beside it. */
damo_dtype dtype_of_weak(weak_kind weak);

/* One element held in its dtype's widest C type of the same kind. */
typedef union hval {
    double f64;
    float f32;
    int64_t i;
    uint64_t u;
} hval;

/* The host's loops over blocks of values are built also for AVX2 on
 * x86-64, picked at load time (on static functions: gcc and clang differ
 * on clones of external ones). */
#if defined(__x86_64__) && defined(__GNUC__) && defined(__ELF__)
#define HOST_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define HOST_CLONES
#endif

/* Reads element i of a buffer of dtype t. */
hval hval_load(damo_dtype t, const void *base, int64_t i);
/* Writes v (held as dtype t) to element i of a buffer of dtype t. */
void hval_store(damo_dtype t, void *base, int64_t i, hval v);
/* The same for the n elements i, i + stride, ... (dst[j] / src[j]). */
void hval_load_n(damo_dtype t, const void *base, int64_t i, int64_t stride, hval *dst, int n);
void hval_store_n(damo_dtype t, void *base, int64_t i, int64_t stride, const hval *src, int n);
/* How a value of one dtype becomes another: the one definition that the
 * host (hval_convert) and the generated kernels (codegen) both spell out. */
typedef enum cvt_rule {
    CVT_SAME,         /* nothing to do */
    CVT_TO_BOOL,      /* != 0 (NaN is true) */
    CVT_FLOAT_TO_INT, /* truncate toward zero, saturate, NaN -> 0 */
    CVT_PLAIN         /* C's conversion: ints wrap to narrower ints, ints and
                       * floats round to nearest float */
} cvt_rule;
cvt_rule dtype_cvt_rule(damo_dtype from, damo_dtype to);
/* Converts a value held as dtype `from` into dtype `to` by that rule. */
hval hval_convert(damo_dtype from, damo_dtype to, hval v);
/* dst[j] = hval_convert(from, to, src[j]) for j < n; dst may be src. */
void hval_convert_n(damo_dtype from, damo_dtype to, const hval *src, hval *dst, int n);
/* A value computed in t's wider host class, brought back into t: integers
 * wrap to t's width, bools become 0/1. */
hval hval_wrap(damo_dtype t, hval v);
/* As a double / from a double (converted as hval_convert from float64). */
double hval_to_double(damo_dtype t, hval v);
hval hval_from_double(damo_dtype t, double d);
/* From an int64 (converted as hval_convert from int64: exact in every
 * integer dtype that holds it, wrapping in the others). */
hval hval_from_int(damo_dtype t, int64_t i);

#endif
