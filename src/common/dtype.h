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
/* Short suffix used in generated names ("f64", "b"). */
const char *dtype_suffix(damo_dtype t);
/* NumPy's '<f8' style descriptor character pair ("f8", "b1"). */
const char *dtype_npy_descr(damo_dtype t);
/* Aesara's upgrade_to_float: ints of <= 16 bits -> float32, wider -> float64. */
damo_dtype dtype_to_float(damo_dtype t);
/* True when every value of `from` is exactly representable in `to`. */
int dtype_can_cast_safely(damo_dtype from, damo_dtype to);

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

/* Reads element i of a buffer of dtype t. */
hval hval_load(damo_dtype t, const void *base, int64_t i);
/* Writes v (held as dtype t) to element i of a buffer of dtype t. */
void hval_store(damo_dtype t, void *base, int64_t i, hval v);
/* Converts a value held as dtype `from` into dtype `to`, as the kernels do:
 * to bool is `!= 0`, float to int truncates and saturates with NaN -> 0,
 * int to narrower int wraps. */
hval hval_convert(damo_dtype from, damo_dtype to, hval v);
/* As a double / from a double (converted as hval_convert from float64). */
double hval_to_double(damo_dtype t, hval v);
hval hval_from_double(damo_dtype t, double d);

#endif
