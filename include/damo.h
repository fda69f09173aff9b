/*
 * damo — symbolic tensor graphs compiled to OpenCL.
 *
 * The one public header. Conventions (SQLite/ArrayFire style):
 *  - Functions that can fail return a damo_status (DAMO_OK == 0) or NULL.
 *    The message goes to the handle the call concerns (a context for arrays,
 *    a graph for building and compiling, a function for calls, a shared
 *    variable for its value) AND to the calling thread's last error
 *    (damo_last_errmsg), which always holds the most recent failure.
 *  - Graph builders accept NULL inputs and then return NULL without a new
 *    message, so a chained expression reports its first error.
 *  - Ownership is stated on every function: "caller owns" means the caller
 *    must release it with the matching *_free / *_release; "borrowed" means
 *    the pointer stays valid as long as its owner does, and must not be freed.
 *  - NULL handles are safe everywhere: accessors return the documented
 *    "nothing" value (0, NULL, "", DAMO_DIM_UNKNOWN), actions return
 *    DAMO_ERR_INVALID, and *_free / *_release do nothing.
 *  - Nothing in the library prints, aborts or exits.
 *
 * Threads: a context and everything made from it (arrays, graphs, shared
 * variables, functions) must be used by one thread at a time; distinct
 * contexts may be used from different threads at the same time, and
 * damo_ctx_new may be called from any number of threads at once. The last
 * error is per thread.
 */
#ifndef DAMO_H
#define DAMO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DAMO_VERSION_MAJOR 0
#define DAMO_VERSION_MINOR 2
#define DAMO_VERSION_PATCH 0
#define DAMO_VERSION_STRING "0.2.0"

/** Most dimensions an array or tensor type may have. */
#define DAMO_MAX_DIMS 8
/** A dimension whose size is not known statically (Aesara's None). */
#define DAMO_DIM_UNKNOWN (-1)

typedef enum damo_status {
    DAMO_OK = 0,
    DAMO_ERR_INVALID = 1,      /* bad argument (NULL, out of range, ...) */
    DAMO_ERR_NOMEM = 2,        /* host allocation failed */
    DAMO_ERR_TYPE = 3,         /* dtype mismatch or unsupported dtype */
    DAMO_ERR_SHAPE = 4,        /* shape or rank mismatch */
    DAMO_ERR_NAME = 5,         /* unknown, duplicate or missing name */
    DAMO_ERR_NO_DEVICE = 6,    /* no OpenCL device, or DAMO_DEVICE matches none */
    DAMO_ERR_UNSUPPORTED = 7,  /* the device lacks a needed feature (fp64, ...) */
    DAMO_ERR_BUILD = 8,        /* an OpenCL program failed to build */
    DAMO_ERR_DEVICE = 9,       /* an OpenCL call failed */
    DAMO_ERR_IO = 10,          /* file could not be opened, read or written */
    DAMO_ERR_FORMAT = 11,      /* a file's content is corrupt or not supported */
    DAMO_ERR_OVERFLOW = 12,    /* a value does not fit its type (NumPy's OverflowError) */
    DAMO_ERR_INDEX = 13        /* an index outside its axis (NumPy's IndexError) */
} damo_status;

/** Short constant English name of a status ("DAMO_ERR_SHAPE"); never NULL. */
const char *damo_status_name(damo_status s);

/** The status and message of the most recent failure in the calling thread
 *  (borrowed, valid until this thread's next failure), or DAMO_OK / "" when
 *  nothing has failed yet. Successful calls leave them as they are. */
damo_status damo_last_error(void);
const char *damo_last_errmsg(void);

typedef enum damo_dtype {
    DAMO_BOOL = 0,
    DAMO_INT8, DAMO_INT16, DAMO_INT32, DAMO_INT64,
    DAMO_UINT8, DAMO_UINT16, DAMO_UINT32, DAMO_UINT64,
    DAMO_FLOAT32, DAMO_FLOAT64,
    DAMO_NUM_DTYPES
} damo_dtype;

/** NumPy's name of a dtype ("float64"), or "?" for an invalid value. */
const char *damo_dtype_name(damo_dtype t);
/** Size of one element in bytes (bool is 1), 0 for an invalid value. */
size_t damo_dtype_size(damo_dtype t);
/** NumPy's result_type of two dtypes (int32 + float32 -> float64), or
 *  DAMO_NUM_DTYPES when either is invalid. */
damo_dtype damo_dtype_promote(damo_dtype a, damo_dtype b);

/* ------------------------------------------------------------------------ */
/* Context: one OpenCL device, its queue, caches and error state.            */
/* ------------------------------------------------------------------------ */

typedef struct damo_ctx damo_ctx;

/**
 * Opens a context on the default device: the DAMO_DEVICE environment
 * variable when set ("gpu", "cpu", "P:D" platform:device indices, or a
 * case-insensitive substring of the device name), else the first GPU with
 * fp64, else any GPU, else the first CPU device.
 * Returns DAMO_OK and *out (caller owns; damo_ctx_free). On failure *out is
 * NULL and, when errmsg is not NULL, a message of at most errmsg_size bytes
 * (NUL-terminated) explains why (no platform, DAMO_DEVICE matches nothing...).
 */
damo_status damo_ctx_new(damo_ctx **out, char *errmsg, size_t errmsg_size);

/** Like damo_ctx_new, with an explicit selector in DAMO_DEVICE's syntax
 *  (NULL: same as damo_ctx_new). */
damo_status damo_ctx_new_on(const char *selector, damo_ctx **out, char *errmsg,
                            size_t errmsg_size);

/** Waits for queued work, then frees the context. Arrays, graphs, shared
 *  variables and functions made on it must be freed first. */
void damo_ctx_free(damo_ctx *ctx);

/** Last error on this context (arrays, device work), or "" (borrowed). */
const char *damo_ctx_errmsg(const damo_ctx *ctx);
damo_status damo_ctx_errcode(const damo_ctx *ctx);

/** Device name, e.g. "pthread-skylake-avx512-AMD EPYC" (borrowed; "" for
 *  NULL). */
const char *damo_ctx_device_name(const damo_ctx *ctx);
/** 1 when the device supports float64. */
int damo_ctx_has_fp64(const damo_ctx *ctx);
/** Blocks until all work queued on the context has finished. */
damo_status damo_ctx_finish(damo_ctx *ctx);
/** Where compiled kernels are cached on disk ("disk cache: DIR"), or why
 *  they are not ("disk cache off: ..."): a directory that is not the
 *  user's own, or that others may write, is skipped, never trusted. One
 *  line (borrowed, valid while ctx lives; "" for NULL). */
const char *damo_ctx_cache_info(damo_ctx *ctx);

/** Counters of a context, for tests and tuning (all monotonic). */
typedef struct damo_ctx_stats {
    uint64_t memory_hits;     /* programs found built in this process */
    uint64_t disk_hits;       /* programs loaded from the on-disk cache */
    uint64_t builds;          /* programs compiled from source */
    uint64_t host_waits;      /* times the host blocked until the device
                               * finished something (reads, finishes, waits
                               * for an upload before its memory is reused) */
    uint64_t buffers_created; /* device buffers allocated (not reused from
                               * the context's pool) */
    uint64_t profile_events;  /* OpenCL events made to time profiled
                               * functions (none for the others) */
} damo_ctx_stats;
/** Fills *out (all zeros for a NULL ctx). */
void damo_ctx_get_stats(const damo_ctx *ctx, damo_ctx_stats *out);

/* ------------------------------------------------------------------------ */
/* Arrays: dtype, shape, strides; values on the host, the device, or both.   */
/* Arrays are reference counted and their values never change once made.    */
/* ------------------------------------------------------------------------ */

typedef struct damo_array damo_array;

/**
 * New C-contiguous array of zeros. shape may be NULL when ndim is 0.
 * Returns NULL on error (message on ctx). Caller owns: damo_array_release.
 */
damo_array *damo_array_zeros(damo_ctx *ctx, damo_dtype dtype, int ndim,
                             const int64_t *shape);

/**
 * New C-contiguous array holding a copy of `data` (prod(shape) elements of
 * `dtype`, C order; bools are one byte each, any non-zero byte is true;
 * may be NULL when there are no elements). The caller keeps ownership of
 * `data`. Returns NULL on error (message on
 * ctx). Caller owns the result: damo_array_release.
 */
damo_array *damo_array_from_data(damo_ctx *ctx, damo_dtype dtype, int ndim,
                                 const int64_t *shape, const void *data);

/** 0-d array from a C number, converted to dtype as damo_cast converts a
 *  float64 (so 300.7 as int8 saturates to 127). Caller owns the result;
 *  NULL on error (message on ctx). */
damo_array *damo_array_scalar(damo_ctx *ctx, damo_dtype dtype, double value);
/** 0-d array from a C integer, exact for every int64 (wrapping as NumPy's
 *  astype does for narrower dtypes). Caller owns; NULL on error. */
damo_array *damo_array_scalar_int(damo_ctx *ctx, damo_dtype dtype, int64_t value);

/**
 * View with explicit element strides and element offset into the data of
 * `base` (which must be C-contiguous); no data is copied. The view shares
 * base's storage and keeps it alive. A view that would reach outside base
 * (or whose sizes, strides or offset overflow) is an error.
 * Caller owns the result; NULL on error (message on base's ctx).
 */
damo_array *damo_array_strided_view(damo_array *base, int ndim,
                                    const int64_t *shape,
                                    const int64_t *strides, int64_t offset);

/** Adds a reference; returns a. */
damo_array *damo_array_retain(damo_array *a);
/** Drops a reference; the last one frees the array. Never waits for the
 *  device. */
void damo_array_release(damo_array *a);

/** dtype (DAMO_NUM_DTYPES for NULL), ndim (0 for NULL). */
damo_dtype damo_array_dtype(const damo_array *a);
int damo_array_ndim(const damo_array *a);
/** Shape and element strides (borrowed, ndim entries; NULL for NULL). */
const int64_t *damo_array_shape(const damo_array *a);
const int64_t *damo_array_strides(const damo_array *a);
/** Number of elements (1 for a 0-d array, 0 for NULL). */
int64_t damo_array_size(const damo_array *a);
/** 1 when the array's current values are on the host / on the device. */
int damo_array_on_host(const damo_array *a);
int damo_array_on_device(const damo_array *a);

/**
 * Copies the array's values, converted to C order, into `dst` (room for
 * damo_array_size elements of the array's dtype). Waits for the device work
 * that produces them; a device-only contiguous array is read straight into
 * dst (on a CPU device whose buffers are host memory, with the queue idle,
 * a memcpy and no wait). Returns DAMO_OK or an error (message on the ctx).
 */
damo_status damo_array_read(damo_array *a, void *dst);

/** Reads element `index` (flat C-order index) as a double / an int64
 *  (converted as damo_cast converts). */
damo_status damo_array_get_f64(damo_array *a, int64_t index, double *out);
damo_status damo_array_get_i64(damo_array *a, int64_t index, int64_t *out);

/** Makes the values present on the device (uploads if needed, no wait). */
damo_status damo_array_to_device(damo_array *a);

/**
 * Formats the array like NumPy's repr (`array([[0.5, 0.73105858], ...])`)
 * into a new NUL-terminated string. Caller owns it: free() it.
 * Returns NULL on error (message on the ctx).
 */
char *damo_array_to_string(damo_array *a);

/** Loads a NumPy .npy file (format 1.0-3.0, little-endian, C or Fortran
 *  order, damo's dtypes). Only regular files are read (a FIFO or device is
 *  refused, never waited on). Caller owns the result; NULL on error with
 *  the reason and the path on ctx. */
damo_array *damo_array_load_npy(damo_ctx *ctx, const char *path);
/** Saves as a .npy file (format 1.0, C order). An existing path that is
 *  not a regular file (a FIFO, a device) is refused, never written or
 *  removed. */
damo_status damo_array_save_npy(damo_array *a, const char *path);

/* ------------------------------------------------------------------------ */
/* Graphs: typed symbolic variables, constants and operations.               */
/* ------------------------------------------------------------------------ */

/** An arena that owns every variable built in it. */
typedef struct damo_graph damo_graph;
/** A symbolic variable; owned by its graph (never freed alone). */
typedef struct damo_var damo_var;

/** New empty graph on ctx. Caller owns it: damo_graph_free. NULL if out of
 *  memory or ctx is NULL. */
damo_graph *damo_graph_new(damo_ctx *ctx);
/** Frees the graph and every variable in it. Compiled functions and shared
 *  variables are independent of it and stay usable. */
void damo_graph_free(damo_graph *g);
/** Last error of building or compiling in this graph, or "" (borrowed). */
const char *damo_graph_errmsg(const damo_graph *g);
damo_status damo_graph_errcode(const damo_graph *g);

/* Inspecting variables (all borrowed / by value; NULL gives DAMO_NUM_DTYPES,
 * 0, DAMO_DIM_UNKNOWN and NULL). */
damo_dtype damo_var_dtype(const damo_var *v);
int damo_var_ndim(const damo_var *v);
/** Static size of dimension i, or DAMO_DIM_UNKNOWN. */
int64_t damo_var_dim(const damo_var *v, int i);
/** Name, or NULL for an unnamed variable (borrowed). */
const char *damo_var_name(const damo_var *v);
/** Sets the name (copied). Returns v. */
damo_var *damo_var_set_name(damo_var *v, const char *name);

/**
 * General input variable: dtype, ndim, and static shape (shape[i] is a
 * size >= 0 or DAMO_DIM_UNKNOWN; NULL means every dimension unknown).
 * name may be NULL. Returns NULL on error (message on g).
 */
damo_var *damo_tensor(damo_graph *g, damo_dtype dtype, int ndim,
                      const int64_t *shape, const char *name);

/* Aesara's constructors: b=int8, w=int16, i=int32, l=int64, f=float32,
 * d=float64; scalar/vector/matrix/tensor3/tensor4 with unknown sizes. */
#define DAMO_DECLARE_CONSTRUCTORS(p)                                       \
    damo_var *damo_##p##scalar(damo_graph *g, const char *name);           \
    damo_var *damo_##p##vector(damo_graph *g, const char *name);           \
    damo_var *damo_##p##matrix(damo_graph *g, const char *name);           \
    damo_var *damo_##p##tensor3(damo_graph *g, const char *name);          \
    damo_var *damo_##p##tensor4(damo_graph *g, const char *name);          \
    damo_status damo_##p##scalars(damo_graph *g, const char *names, ...);  \
    damo_status damo_##p##vectors(damo_graph *g, const char *names, ...);  \
    damo_status damo_##p##matrices(damo_graph *g, const char *names, ...);
DAMO_DECLARE_CONSTRUCTORS(b)
DAMO_DECLARE_CONSTRUCTORS(w)
DAMO_DECLARE_CONSTRUCTORS(i)
DAMO_DECLARE_CONSTRUCTORS(l)
DAMO_DECLARE_CONSTRUCTORS(f)
DAMO_DECLARE_CONSTRUCTORS(d)
#undef DAMO_DECLARE_CONSTRUCTORS
/* The plural forms take a list of names separated by commas and/or spaces
 * ("a, b") followed by one `damo_var **` per name, like sscanf:
 *     damo_var *a, *b;  damo_dmatrices(g, "a, b", &a, &b);
 * On error every output is set to NULL and the message is on g. */

/**
 * Constants. A C number is "weakly typed" as in NumPy 2 (NEP 50): combined
 * with a tensor it takes the tensor's dtype when the kinds agree, so
 * `damo_float(g, 1) + fmatrix` is float32 and `damo_int(g, 1) + iscalar` is
 * int32; alone it is float64 / int64. As in NumPy 2, arithmetic with a C
 * integer that the other operand's integer dtype cannot hold is an error
 * (DAMO_ERR_OVERFLOW: `int8 + 300`), comparisons with one give the
 * mathematically right answer (`uint8 < -1` is false), and a clip's lower
 * bound below the dtype's range (or upper bound above it) is clamped to it.
 * Comparisons of a signed integer with a uint64 are exact (not through
 * float64), as in NumPy 2.
 */
damo_var *damo_float(damo_graph *g, double value);
damo_var *damo_int(damo_graph *g, int64_t value);
/** Constant of a fixed dtype from a C number (converted as damo_cast). */
damo_var *damo_const_scalar(damo_graph *g, damo_dtype dtype, double value);
/** Constant holding a copy of an array's values (an array of g's context). */
damo_var *damo_constant(damo_graph *g, damo_array *value);

/* Elementwise operations with NumPy broadcasting and type promotion.
 * Each returns a new variable owned by the inputs' graph, or NULL on error
 * (incompatible static shapes, unsupported dtype, NULL input, inputs from
 * different graphs) with the message on the graph. Integer arithmetic wraps
 * around as NumPy's does. "Floating" ops upgrade integer inputs as Aesara
 * does: bool, (u)int8 and (u)int16 to float32, wider integers to float64. */
#define DAMO_DECLARE_UNARY(name) damo_var *damo_##name(damo_var *a);
#define DAMO_DECLARE_BINARY(name) damo_var *damo_##name(damo_var *a, damo_var *b);
DAMO_DECLARE_BINARY(add)      /* a + b */
DAMO_DECLARE_BINARY(sub)      /* a - b (not for two bools, as in NumPy) */
DAMO_DECLARE_BINARY(mul)      /* a * b */
DAMO_DECLARE_BINARY(true_div) /* a / b, floating; integers and bools give float64
                               * as in NumPy */
DAMO_DECLARE_BINARY(int_div)  /* a // b, floor division; for integers x // 0 is 0
                               * and INT_MIN // -1 is INT_MIN (NumPy) */
DAMO_DECLARE_BINARY(mod)      /* a % b with the sign of b (Python); x % 0 is 0
                               * for integers */
DAMO_DECLARE_BINARY(pow)      /* a ** b; exact for integers, wrapping. A negative
                               * integer exponent is an error when it is a
                               * constant; at run time it gives 1 ** b == 1,
                               * (-1) ** b == +-1 and 0 for any other base (the
                               * truncated value 1 / a**-b), with 0 ** -b == 0 */
DAMO_DECLARE_BINARY(arctan2)  /* floating */
DAMO_DECLARE_BINARY(maximum)  /* NaN-propagating, like NumPy */
DAMO_DECLARE_BINARY(minimum)
DAMO_DECLARE_BINARY(lt)
DAMO_DECLARE_BINARY(gt)
DAMO_DECLARE_BINARY(le)
DAMO_DECLARE_BINARY(ge)
DAMO_DECLARE_BINARY(eq)
DAMO_DECLARE_BINARY(neq)
DAMO_DECLARE_UNARY(neg)       /* not for bool, as in NumPy */
DAMO_DECLARE_UNARY(abs)
DAMO_DECLARE_UNARY(sign)      /* not for bool, as in NumPy */
DAMO_DECLARE_UNARY(exp)       /* exp .. isinf: floating (isnan/isinf give bool) */
DAMO_DECLARE_UNARY(expm1)
DAMO_DECLARE_UNARY(log)
DAMO_DECLARE_UNARY(log1p)
DAMO_DECLARE_UNARY(log2)
DAMO_DECLARE_UNARY(log10)
DAMO_DECLARE_UNARY(sqrt)
DAMO_DECLARE_UNARY(sqr)       /* a * a; bool gives int8 as NumPy's square */
DAMO_DECLARE_UNARY(sin)
DAMO_DECLARE_UNARY(cos)
DAMO_DECLARE_UNARY(tan)
DAMO_DECLARE_UNARY(arcsin)
DAMO_DECLARE_UNARY(arccos)
DAMO_DECLARE_UNARY(arctan)
DAMO_DECLARE_UNARY(sinh)
DAMO_DECLARE_UNARY(cosh)
DAMO_DECLARE_UNARY(tanh)
DAMO_DECLARE_UNARY(sigmoid)   /* 1 / (1 + exp(-a)) */
DAMO_DECLARE_UNARY(softplus)  /* log(1 + exp(a)), computed stably */
DAMO_DECLARE_UNARY(erf)
DAMO_DECLARE_UNARY(floor)
DAMO_DECLARE_UNARY(ceil)
DAMO_DECLARE_UNARY(round)     /* half to even, like numpy.round */
DAMO_DECLARE_UNARY(isnan)
DAMO_DECLARE_UNARY(isinf)
#undef DAMO_DECLARE_UNARY
#undef DAMO_DECLARE_BINARY
/* int_div, mod and pow of two bools compute in int8, as NumPy's do.
 * Bitwise on integers, logical on bool; floats are a type error. (Spelled
 * out because and/or/xor/not are operator tokens in C++.) */
damo_var *damo_and(damo_var *a, damo_var *b);
damo_var *damo_or(damo_var *a, damo_var *b);
damo_var *damo_xor(damo_var *a, damo_var *b);
damo_var *damo_not(damo_var *a);
/** a / b (Aesara's `/`): the same as damo_true_div. */
damo_var *damo_div(damo_var *a, damo_var *b);
/** clip(a, lo, hi) = minimum(maximum(a, lo), hi). */
damo_var *damo_clip(damo_var *a, damo_var *lo, damo_var *hi);
/** switch(cond, a, b): a where cond is non-zero, else b (numpy.where). */
damo_var *damo_switch(damo_var *cond, damo_var *a, damo_var *b);
/** a converted to dtype: to bool is `!= 0`; floats to ints truncate toward
 *  zero and saturate, NaN becoming 0 (NumPy leaves those undefined);
 *  integers to narrower integers wrap. */
damo_var *damo_cast(damo_var *a, damo_dtype dtype);

/* ------------------------------------------------------------------------ */
/* Reductions. `axes` lists n_axes axes (negative ones count from the end,  */
/* each at most once); NULL or n_axes 0 reduces over every axis. keepdims  */
/* keeps the reduced axes with size 1. Dtypes follow Aesara: sum and prod   */
/* of bool and signed integers give int64, of unsigned integers uint64, of  */
/* floats their own dtype (float32 accumulates in float64 where the device  */
/* has it); mean, variance and std of integers and bools give float64       */
/* (accumulated in float64, as numpy.mean); max and min keep the dtype;     */
/* argmax and argmin give int64; all and any give bool. Over no elements:   */
/* sum 0, prod 1, all true, any false, mean / variance / std NaN (NumPy     */
/* warns); max, min, argmax and argmin are DAMO_ERR_SHAPE at run time, as   */
/* NumPy raises. Max, min, argmax and argmin propagate NaN (the first NaN   */
/* wins), and argmax / argmin give the first of equal values. Float sums    */
/* are compensated (Kahan) within each work-item and the partial sums are   */
/* added as a tree (GPUs) or compensated again (CPU devices): NumPy's       */
/* pairwise accuracy or better. Elementwise work on the input is computed   */
/* inside the reduction's kernel, and elementwise work on its result after  */
/* it, when nothing else needs the values between. Each returns NULL on     */
/* error (DAMO_ERR_INVALID: an axis out of range or repeated) with the      */
/* message on the graph.                                                    */
/* ------------------------------------------------------------------------ */

damo_var *damo_sum(damo_var *x, const int *axes, int n_axes, int keepdims);
damo_var *damo_prod(damo_var *x, const int *axes, int n_axes, int keepdims);
damo_var *damo_mean(damo_var *x, const int *axes, int n_axes, int keepdims);
damo_var *damo_max(damo_var *x, const int *axes, int n_axes, int keepdims);
damo_var *damo_min(damo_var *x, const int *axes, int n_axes, int keepdims);
damo_var *damo_all(damo_var *x, const int *axes, int n_axes, int keepdims);
damo_var *damo_any(damo_var *x, const int *axes, int n_axes, int keepdims);
/** Population variance (ddof 0) and standard deviation, as numpy.var/std. */
damo_var *damo_variance(damo_var *x, const int *axes, int n_axes, int keepdims);
damo_var *damo_std(damo_var *x, const int *axes, int n_axes, int keepdims);
/** Index of the largest / smallest element along `axis`, or of the
 *  flattened array with DAMO_AXIS_NONE (NumPy's axis=None). */
#define DAMO_AXIS_NONE 0x7fffffff
damo_var *damo_argmax(damo_var *x, int axis, int keepdims);
damo_var *damo_argmin(damo_var *x, int axis, int keepdims);

/* ------------------------------------------------------------------------ */
/* Shape and structure. Results are views of their input where the layout   */
/* allows (dimshuffle, transpose, reshape of a contiguous array, basic      */
/* subtensor, alloc of a value), copies only where it does not.             */
/* ------------------------------------------------------------------------ */

/** A new broadcastable dimension in a dimshuffle order (Aesara's 'x'). */
#define DAMO_NEWAXIS (-1)
/** Aesara's dimshuffle: order lists, for each of the result's ndim axes,
 *  an axis of x or DAMO_NEWAXIS; every axis of x appears at most once, and
 *  one left out must have static size 1. */
damo_var *damo_dimshuffle(damo_var *x, int ndim, const int *order);
/** The axes in reverse order (x.T). */
damo_var *damo_transpose(damo_var *x);
/** x with ndim axes of the given sizes (one may be -1: inferred), the same
 *  elements in C order. A size that does not match x's element count is an
 *  error when building if x's sizes are known, else at run time. */
damo_var *damo_reshape(damo_var *x, int ndim, const int64_t *shape);
/** The same with the sizes an integer vector variable of static length
 *  holds (e.g. damo_shape(y)). */
damo_var *damo_reshape_to(damo_var *x, damo_var *shape);
/** Aesara's flatten: the first ndim - 1 axes kept, the rest merged
 *  (ndim 1: a vector of every element). */
damo_var *damo_flatten(damo_var *x, int ndim);
/** x's shape as an int64 vector, and size i of it as an int64 scalar
 *  (negative i counts from the end). Symbolic values, usable like any. */
damo_var *damo_shape(damo_var *x);
damo_var *damo_shape_i(damo_var *x, int i);
/** value (broadcastable to it) repeated to the shape of the ndim integer
 *  scalar variables dims (Aesara's alloc). */
damo_var *damo_alloc(damo_var *value, int ndim, damo_var *const *dims);
damo_var *damo_zeros(damo_graph *g, damo_dtype dtype, int ndim, damo_var *const *dims);
damo_var *damo_ones(damo_graph *g, damo_dtype dtype, int ndim, damo_var *const *dims);
/** value broadcast to like's shape, in value's dtype (Aesara's fill). */
damo_var *damo_fill(damo_var *like, damo_var *value);
damo_var *damo_zeros_like(damo_var *x);
damo_var *damo_ones_like(damo_var *x);
/** numpy.arange(start, stop, step) of scalar variables; the dtype is their
 *  promotion (int64 or float64 for C numbers). */
damo_var *damo_arange(damo_var *start, damo_var *stop, damo_var *step);
/** numpy.eye(n, m, k): ones on diagonal k of an n x m matrix (m NULL: n).
 *  n and m are integer scalar variables. */
damo_var *damo_eye(damo_var *n, damo_var *m, int k, damo_dtype dtype);
/** numpy.concatenate along axis (negative counts from the end) and
 *  numpy.stack along a new axis, of n variables of one rank; dtypes
 *  promote. */
damo_var *damo_concatenate(int n, damo_var *const *xs, int axis);
damo_var *damo_stack(int n, damo_var *const *xs, int axis);

/* ------------------------------------------------------------------------ */
/* Indexing.                                                                 */
/* ------------------------------------------------------------------------ */

/** One axis of a basic index: an integer (the axis goes away) or a slice
 *  start:stop:step with Python's rules (negative bounds count from the end,
 *  DAMO_NONE for an omitted bound, step non-zero). Axes past the n given
 *  are taken whole. */
typedef struct damo_slice {
    int is_index;
    int64_t start, stop, step;
} damo_slice;
#define DAMO_NONE INT64_MIN
#ifdef __cplusplus
#define DAMO_SLICE_INIT_(i, a, b, s) (damo_slice{(i), (a), (b), (s)})
#else
#define DAMO_SLICE_INIT_(i, a, b, s) ((damo_slice){(i), (a), (b), (s)})
#endif
#define DAMO_INDEX(i) DAMO_SLICE_INIT_(1, (i), 0, 0)
#define DAMO_SLICE(start, stop, step) DAMO_SLICE_INIT_(0, (start), (stop), (step))
#define DAMO_ALL DAMO_SLICE(DAMO_NONE, DAMO_NONE, 1)

/** x[idx...], a view. An integer index outside its axis is an error
 *  (DAMO_ERR_INDEX) naming x and the index: when building if the axis's
 *  size is known, else at run time. */
damo_var *damo_subtensor(damo_var *x, int n, const damo_slice *idx);
/** x with x[idx...] replaced by / incremented by y (broadcast to it):
 *  Aesara's set_subtensor and inc_subtensor. */
damo_var *damo_set_subtensor(damo_var *x, int n, const damo_slice *idx, damo_var *y);
damo_var *damo_inc_subtensor(damo_var *x, int n, const damo_slice *idx, damo_var *y);
/** x[idx] for an integer array idx along x's first axis (the result has
 *  idx's shape, then x's without its first axis; negative entries count
 *  from the end). Every entry is checked on the host before a kernel uses
 *  it (indices only the device has are read back first: a counted wait);
 *  one out of range is DAMO_ERR_INDEX naming x, the index and the entry,
 *  and nothing outside x is ever read. */
damo_var *damo_take(damo_var *x, damo_var *idx);
/** x with y[i] added to row idx[i] for each i, repeated rows accumulating
 *  in order (Aesara's inc_subtensor(x[idx], y); numpy.add.at). */
damo_var *damo_inc_take(damo_var *x, damo_var *idx, damo_var *y);

/* ------------------------------------------------------------------------ */
/* Matrix products, with NumPy's semantics for 1-d and 2-d operands.         */
/* ------------------------------------------------------------------------ */

/** vector . vector -> scalar, matrix . vector, vector . matrix, matrix .
 *  matrix (numpy.dot; a 0-d operand multiplies). float32 and float64 go to
 *  BLAS: CLBlast on GPUs, the host's CBLAS (OpenBLAS) on CPU devices, in
 *  the device's queue; the environment variable DAMO_BLAS=clblast (or
 *  =host; read when a context is made) or the meson option blas=clblast
 *  sends them to CLBlast on every device. On the host route a product of
 *  at most 2^24 multiply-adds that finds all queued work finished runs on
 *  the thread calling damo_call, before it returns (PoCL's hand-off to
 *  its worker threads costs more than such a product); DAMO_BLAS=host-queued
 *  queues every product instead. Transposed operands reach BLAS as
 *  transpose flags, never copies. alpha * dot(a, b) + beta * c with c of
 *  the product's shape compiles to one GEMM (or GEMV) call. Integers and
 *  bools become a generated reduction of the products (a REDUCE step).
 *  Operands of more than 2 dimensions are DAMO_ERR_UNSUPPORTED; a static
 *  shape mismatch is DAMO_ERR_SHAPE when building. */
damo_var *damo_dot(damo_var *a, damo_var *b);
/** numpy.outer of two vectors. */
damo_var *damo_outer(damo_var *a, damo_var *b);

/* ------------------------------------------------------------------------ */
/* Gradients (reverse mode, Aesara's grad).                                  */
/* ------------------------------------------------------------------------ */

/** With DAMO_GRAD_DISCONNECTED_ZERO a wrt that the cost does not depend on
 *  gets zeros instead of an error (Aesara's disconnected_inputs='ignore'). */
#define DAMO_GRAD_DISCONNECTED_ZERO 1u

/** The gradient of the scalar cost with respect to each of wrt[0..n_wrt):
 *  grads[j] receives a variable of wrt[j]'s shape and dtype, owned by the
 *  graph like any other (it is rewritten and fused when compiled). Where
 *  an operand was broadcast, its gradient is summed over the broadcast
 *  axes: the leading axes it lacks and those where its size is statically
 *  1. An axis whose size is unknown when building is taken not to have
 *  been broadcast, as in Aesara; a call where it was fails with
 *  DAMO_ERR_SHAPE naming the value (give it static size 1 to differentiate
 *  through the broadcast). Paths through integer and bool values carry no
 *  gradient: a wrt reached only through them gets zeros, and an integer or
 *  bool wrt gets float64 zeros. Errors, with every grads[j] set to NULL
 *  and the message on the graph: the cost is not 0-d (DAMO_ERR_SHAPE); the
 *  cost does not depend on a wrt (DAMO_ERR_INVALID, naming it); an op on
 *  the path has no gradient (DAMO_ERR_UNSUPPORTED); NULL or foreign
 *  variables (DAMO_ERR_INVALID). */
damo_status damo_grad(damo_var *cost, int n_wrt, damo_var *const *wrt, damo_var **grads);
/** The same for the sum of n_costs scalar costs, with the gradient stopped
 *  at each variable of consider_constant (treated as a constant: nothing
 *  flows into what computes it, Aesara's consider_constant) and flags
 *  DAMO_GRAD_*. */
damo_status damo_grad_ex(int n_costs, damo_var *const *costs, int n_wrt, damo_var *const *wrt,
                         int n_const, damo_var *const *consider_constant, unsigned flags,
                         damo_var **grads);

/* ------------------------------------------------------------------------ */
/* Shared variables: values that persist across calls, shared by every      */
/* function that uses them. Independent of graphs: a program keeps the      */
/* handle (a model's weights) after freeing the graphs it built with it.    */
/* ------------------------------------------------------------------------ */

typedef struct damo_shared damo_shared;

/**
 * New shared variable holding `value` (an array of ctx; arrays never
 * change, so it is kept, not copied). `static_shape` (ndim entries,
 * DAMO_DIM_UNKNOWN for "any size") may be NULL: every dimension is then
 * unknown (Aesara's default). name may be NULL (copied). Caller owns the
 * result: damo_shared_release. NULL on error (message on ctx).
 */
damo_shared *damo_shared_new(damo_ctx *ctx, damo_array *value, const char *name,
                             const int64_t *static_shape);
/** Shared 0-d int64 / float64 from a C number (Aesara's shared(0), shared(0.)). */
damo_shared *damo_shared_int(damo_ctx *ctx, int64_t value, const char *name);
damo_shared *damo_shared_float(damo_ctx *ctx, double value, const char *name);
damo_shared *damo_shared_retain(damo_shared *s);
/** Drops a reference; graphs and functions that use s hold their own. */
void damo_shared_release(damo_shared *s);

/** The variable standing for s in g: the same variable on every call for
 *  the same (g, s). g holds a reference to s. NULL on error (message on g). */
damo_var *damo_shared_var(damo_graph *g, damo_shared *s);
/** The shared variable a variable stands for (borrowed), or NULL. */
damo_shared *damo_var_shared(const damo_var *v);

/** Name (borrowed; NULL when unnamed) and last error ("" if none). */
const char *damo_shared_name(const damo_shared *s);
const char *damo_shared_errmsg(const damo_shared *s);

/** Current value (caller owns a new reference: damo_array_release). NULL
 *  only for a NULL s. */
damo_array *damo_shared_get_value(damo_shared *s);
/** Replaces the value by `value` (kept, not copied): same context and
 *  dtype, and static dimensions keep their size. Error (message on s)
 *  otherwise. */
damo_status damo_shared_set_value(damo_shared *s, damo_array *value);
/** The value of a 0-d shared variable as a double / an exact int64. */
damo_status damo_shared_get_f64(damo_shared *s, double *out);
damo_status damo_shared_get_i64(damo_shared *s, int64_t *out);

/* ------------------------------------------------------------------------ */
/* Values from C: call arguments and input defaults.                        */
/* ------------------------------------------------------------------------ */

typedef enum damo_value_kind {
    DAMO_VALUE_ARRAY = 0,  /* `array` (borrowed) */
    DAMO_VALUE_INT,        /* the int64 `i`, exact */
    DAMO_VALUE_FLOAT       /* the double `f` */
} damo_value_kind;

/** One value: positional when name is NULL. A number must fit the input's
 *  dtype exactly (1.5 for an int input, or 2^53 + 1 for a float64 input, is
 *  an error naming the input); an array of another dtype is converted when
 *  that loses nothing, as Aesara does. */
typedef struct damo_arg {
    const char *name;
    damo_value_kind kind;
    damo_array *array;
    int64_t i;
    double f;
} damo_arg;
#ifdef __cplusplus
#define DAMO_ARG_INIT_(k, a, i, f) (damo_arg{NULL, (k), (a), (int64_t)(i), (double)(f)})
#else
#define DAMO_ARG_INIT_(k, a, i, f) ((damo_arg){NULL, (k), (a), (int64_t)(i), (double)(f)})
#endif
#define DAMO_ARG(a) DAMO_ARG_INIT_(DAMO_VALUE_ARRAY, (a), 0, 0)
#define DAMO_INT(v) DAMO_ARG_INIT_(DAMO_VALUE_INT, NULL, (v), 0)
#define DAMO_FLOAT(v) DAMO_ARG_INIT_(DAMO_VALUE_FLOAT, NULL, 0, (v))
/** The same value, passed by name: damo_named("w_by_name", DAMO_INT(1)). */
damo_arg damo_named(const char *name, damo_arg value);

/* ------------------------------------------------------------------------ */
/* Functions: compile inputs -> outputs (+ updates, givens) and call.         */
/* ------------------------------------------------------------------------ */

/** Compilation flags. */
enum {
    DAMO_FN_NO_FUSION = 1u << 0,          /* one kernel per operation */
    DAMO_FN_NO_DEFAULT_UPDATES = 1u << 1, /* Aesara's no_default_updates: ignore
                                           * the default updates of the graph's
                                           * variables (the states of random
                                           * variables have them) */
    DAMO_FN_DEVICE_ONLY = 1u << 2,        /* never run small steps on the host
                                           * (they run there only when the
                                           * host gives the kernel's bits:
                                           * IEEE ops, float64 exp/log/log1p,
                                           * reductions in the kernel's
                                           * order) */
    DAMO_FN_PROFILE = 1u << 3             /* time every step of every call
                                           * (damo_function_profile); the
                                           * environment variable DAMO_PROFILE=1,
                                           * read by damo_compile, sets it for
                                           * every function. The first profiled
                                           * function of a context gives it a
                                           * queue that records timestamps
                                           * (compiling it waits once for queued
                                           * work); unprofiled functions still
                                           * record no timings (profile_events
                                           * does not grow) */
};

/** What a function is compiled from: built up call by call, then given to
 *  damo_compile. Each call returns DAMO_OK or an error, which also sticks
 *  to the spec so that damo_compile reports the first one. */
typedef struct damo_spec damo_spec;

/** New empty spec over g (caller owns: damo_spec_free). NULL for a NULL g
 *  or when out of memory. */
damo_spec *damo_spec_new(damo_graph *g);
void damo_spec_free(damo_spec *s);
/** Appends an input; v must be an input variable of g. */
damo_status damo_spec_input(damo_spec *s, damo_var *v);
/** Appends an input called `name` (copied) instead of v's own name. */
damo_status damo_spec_input_named(damo_spec *s, damo_var *v, const char *name);
/** Appends an input with a default (Aesara's In(v, value=..., name=...)):
 *  `value` is a number or an array (kept); its name, when not NULL, is the
 *  input's name for calls. Inputs with defaults must come last. */
damo_status damo_spec_input_default(damo_spec *s, damo_var *v, damo_arg value);
/** Appends an output. */
damo_status damo_spec_output(damo_spec *s, damo_var *v);
/** Adds the update (shared variable <- expr); expr is converted to the
 *  variable's dtype when that loses nothing. */
damo_status damo_spec_update(damo_spec *s, damo_var *shared_var, damo_var *expr);
/** Replaces `var` by `with` in this function only (same dtype and rank). */
damo_status damo_spec_given(damo_spec *s, damo_var *var, damo_var *with);
/** Sets the DAMO_FN_* flags. */
damo_status damo_spec_flags(damo_spec *s, unsigned flags);

typedef struct damo_function damo_function;

/**
 * Compiles the spec. Returns NULL on error with the message on the spec's
 * graph (the spec's first error, an output that does not depend only on the
 * inputs, a kernel that does not build...). Caller owns the result:
 * damo_function_free. The function is independent of the graph and the
 * spec, which may be freed at once.
 */
damo_function *damo_compile(const damo_spec *s);

/** Shorthand: inputs without defaults, no updates or givens. */
damo_function *damo_function_simple(damo_graph *g, size_t n_inputs,
                                    damo_var *const *inputs, size_t n_outputs,
                                    damo_var *const *outputs, unsigned flags);

void damo_function_free(damo_function *f);
/** Last error of a call or copy, or "" (borrowed). */
const char *damo_function_errmsg(const damo_function *f);
damo_status damo_function_errcode(const damo_function *f);
size_t damo_function_n_inputs(const damo_function *f);
size_t damo_function_n_outputs(const damo_function *f);

/**
 * Calls f. Arguments bind to inputs by position, then by name; inputs not
 * given take their default. n_outputs must be f's number of outputs (or 0
 * with outputs NULL to drop them); outputs[i] then receives a new
 * reference to output i (caller owns each: damo_array_release), whose
 * values may still be on the device until read. On error every outputs[i]
 * is set to NULL, no shared value changes, the message is on f, and f stays
 * usable. A call waits for the device only to read values it needs on the
 * host, or, on a CPU device whose buffers are host memory, before a small
 * step that runs on the calling thread while queued work is unfinished
 * (the host-wait counter of damo_ctx_get_stats shows both). Such a step
 * gives the kernel's bits, but for the sign and payload of a NaN (see
 * DAMO_FN_DEVICE_ONLY).
 */
damo_status damo_call(damo_function *f, const damo_arg *args, size_t n_args,
                      damo_array **outputs, size_t n_outputs);

/** (shared variable of f, its replacement in a copy). */
typedef struct damo_swap {
    damo_shared *from;
    damo_shared *to;
} damo_swap;

/**
 * Copies f (Aesara's Function.copy): the copy runs the same compiled
 * kernels (nothing is built again) and leaves f unchanged. Each swap makes
 * the copy read and update `to` where f reads and updates `from` (same
 * dtype and static shape). With delete_updates the copy updates nothing.
 * Returns NULL on error with the message on f. Caller owns the result:
 * damo_function_free.
 */
damo_function *damo_function_copy(damo_function *f, const damo_swap *swaps, size_t n_swaps,
                                  int delete_updates);

/* Introspection: the compiled schedule, a list of typed steps. */
typedef enum damo_step_kind {
    DAMO_STEP_ELEMWISE = 0, /* a generated fused elementwise kernel; a call may
                             * run a small one on the host instead */
    DAMO_STEP_REDUCE,       /* a generated reduction, elementwise work on its
                             * input fused into it; on a CPU device a call
                             * may run a small one on the host instead */
    DAMO_STEP_BLAS,         /* a BLAS call (CLBlast, or host CBLAS queued as
                             * a native kernel) */
    DAMO_STEP_VIEW,         /* no work: the result shares its input's memory
                             * (a reshape of a non-contiguous input copies) */
    DAMO_STEP_COPY,         /* a strided copy, or copy-and-add, into a slice */
    DAMO_STEP_GATHER,       /* rows picked by an index vector */
    DAMO_STEP_SCATTER,      /* rows added at an index vector */
    DAMO_STEP_HOST          /* computed on the host (shapes, arange, eye) */
} damo_step_kind;
size_t damo_function_n_steps(const damo_function *f);
damo_step_kind damo_function_step_kind(const damo_function *f, size_t i);
/** One line saying what step i does ("fused elementwise: 4 ops (neg, exp,
 *  add, true_div), 1 output") (borrowed), or NULL. */
const char *damo_function_step_text(const damo_function *f, size_t i);
/** Generated OpenCL source of step i's first kernel, or NULL (borrowed). */
const char *damo_function_step_source(const damo_function *f, size_t i);
/** Number of steps that run generated kernels (elementwise, reduce, copy,
 *  gather, scatter); BLAS, view and host steps are not counted. */
size_t damo_function_n_kernels(const damo_function *f);
/** Device buffers the schedule keeps for intermediate values, which steps
 *  share when their lifetimes do not overlap. */
size_t damo_function_n_temp_buffers(const damo_function *f);

/* ------------------------------------------------------------------------ */
/* Seeing inside: Aesara's debugprint, pydotprint and ProfileStats.          */
/* ------------------------------------------------------------------------ */

/**
 * The graph computing v as text, one line per variable indented by its
 * depth: "<op> [id X] <dtype> <static shape>", inputs, shared variables
 * and constants marked as such, names quoted. Every variable gets an id
 * ([id A], [id B], ...) on its first line; where it is met again the line
 * is "<op> [id X] (above)" and its inputs are not repeated. Lines deeper
 * than 64 levels say their depth instead of indenting further.
 * Returns a new string (caller owns it: free()), or NULL for a NULL v or
 * when out of memory (message on v's graph).
 */
char *damo_debugprint(const damo_var *v);
/**
 * The compiled function: its optimized graph (rewritten and fused, as
 * damo_debugprint prints it, each output and update value ending with
 * "-> output i" or "-> update of 'name'"), then the schedule: each step
 * with its kind and text, the ops fused into it, its inputs and outputs by
 * id (with what each value is: input, constant, shared, temp in buffer
 * slot k, result, view), and how each update reaches its shared variable.
 * Caller owns the string (free()); NULL for a NULL f or when out of
 * memory (message on f).
 */
char *damo_function_debugprint(damo_function *f);

/**
 * Graphviz DOT text (`dot -Tsvg`) of the graph computing v / of the
 * compiled function: inputs as green ellipses, shared variables as blue
 * cylinders, constants as plain text, outputs (and updates) as double
 * octagons; matrix products as orange boxes and views as dashed ones. In
 * a function each fused kernel and each reduction is a cluster of its
 * operations titled with its step. Caller owns the string (free()); NULL
 * for a NULL argument or when out of memory (message on the graph / f).
 */
char *damo_var_to_dot(const damo_var *v);
char *damo_function_to_dot(damo_function *f);

/** Times of one step of a profiled function, summed over its calls. */
typedef struct damo_step_profile {
    uint64_t calls;        /* calls that ran the step */
    uint64_t host_calls;   /* of them, runs that enqueued nothing (work
                            * done on the host, a view, a product run on
                            * the calling thread): timed by the host clock */
    uint64_t events;       /* device commands timed (OpenCL events;
                            * kernels, native-kernel BLAS, transfers) */
    double device_seconds; /* their device time, start to end */
    double host_seconds;   /* the host clock of the host_calls */
} damo_step_profile;

/** What a function's calls and its compiling cost. */
typedef struct damo_profile {
    int enabled;             /* compiled with DAMO_FN_PROFILE (or
                              * DAMO_PROFILE=1); the call fields are 0
                              * otherwise */
    uint64_t calls;          /* calls that ran the plan */
    double call_seconds;     /* host time running the plan (enqueueing
                              * included, binding arguments not) */
    double wait_seconds;     /* of it, blocked waiting for the device */
    uint64_t call_builds;    /* programs built or loaded from disk during
                              * calls (kernels for new layouts) */
    double rewrite_seconds;  /* compiling: graph clone and rewrites */
    double fusion_seconds;   /* elementwise fusion and fusion into reductions */
    double plan_seconds;     /* the schedule: codegen and kernel builds */
    double program_seconds;  /* of it, OpenCL programs built or loaded */
    uint64_t builds, disk_hits, memory_hits; /* programs built from source,
                              * loaded from the disk cache, found in memory */
} damo_profile;

/** Fills *out. On a profiled function, waits first for the device work
 *  of earlier calls not yet timed (a counted wait). DAMO_ERR_INVALID for
 *  NULL arguments; a device error (message on f). */
damo_status damo_function_get_profile(damo_function *f, damo_profile *out);
/** Fills *out for step i (as damo_function_get_profile, it may wait).
 *  DAMO_ERR_INVALID when f is not profiled or i is out of range (message
 *  on f). */
damo_status damo_function_step_profile(damo_function *f, size_t i, damo_step_profile *out);
/**
 * The profile as a table in the manner of Aesara's ProfileStats: per step
 * its kind and text, calls, total and mean time, share of the total, and
 * where it ran; then the host time per call and the time spent waiting,
 * and the compile time (rewrites, fusion, schedule, program builds and
 * cache hits). For an unprofiled function only the compile part, and a
 * line saying how to profile. Caller owns the string (free()); NULL on
 * error (message on f).
 */
char *damo_function_profile(damo_function *f);

/* ------------------------------------------------------------------------ */
/* Random streams (Aesara's RandomStream) on Philox4x32-10.                  */
/* ------------------------------------------------------------------------ */

/**
 * A stream hands out random variables. Each variable owns its generator
 * state, a shared uint64 vector {key, counter}, whose default update adds
 * the number of elements one call draws to the counter: a function using
 * the variable gives new numbers every call, one compiled with
 * DAMO_FN_NO_DEFAULT_UPDATES the same numbers every call. A variable is
 * drawn at most once per call however often a graph uses it, and states
 * are shared by every function that uses them (Aesara's semantics).
 *
 * Element i of a draw is computed from the Philox4x32-10 block at counter
 * (counter + i mod 2^64, 0, 0) under the variable's key (Random123's
 * layout), whatever the device, work-group size or fusion: integers,
 * bernoulli, uniform, poisson, binomial, gamma, beta, truncated normal,
 * permutation, and float64 normal and exponential draws are the same bits
 * on every device and the host (damo computes their logs, exponentials
 * and cosines itself, with IEEE arithmetic); float32 normal and
 * exponential draws pass through the device's log (and cos), so they
 * differ where its last ulps differ. A draw read only by elementwise
 * operations is computed inside their fused kernel; no buffer holds it.
 *
 * Keys: variable i of a stream seeded with s gets the key Philox gives
 * for key s, counter i (the stream's "temporary generator"), and counter 0.
 */
typedef struct damo_random_stream damo_random_stream;

/** New stream on ctx seeded with `seed`. Caller owns it:
 *  damo_random_stream_free. NULL on error (message on ctx). */
damo_random_stream *damo_random_stream_new(damo_ctx *ctx, uint64_t seed);
/** Frees the stream; its variables' states stay alive as long as graphs,
 *  functions or the caller hold them. */
void damo_random_stream_free(damo_random_stream *s);
/** Reseeds every variable drawn from the stream so far (key from `seed`,
 *  counter 0), as Aesara's RandomStream.seed. Error (message on the state
 *  that failed and the thread) only when out of memory. */
damo_status damo_random_seed(damo_random_stream *s, uint64_t seed);
/** Number of variables drawn from the stream, and the state of variable i
 *  in drawing order (borrowed, valid while the stream lives; NULL when i
 *  is out of range): Aesara's state_updates. Read and write a state with
 *  damo_shared_get_value / damo_shared_set_value; copying every state of
 *  one stream into another's reproduces its numbers (examples/random.c). */
size_t damo_random_n_states(const damo_random_stream *s);
damo_shared *damo_random_state(const damo_random_stream *s, size_t i);

/** An int64 vector constant of g holding the n sizes dims (a draw's size
 *  given as a tuple of ints; owned by g). NULL on error: n outside
 *  0..DAMO_MAX_DIMS or dims NULL (message on g). */
damo_var *damo_size(damo_graph *g, int n, const int64_t *dims);

/*
 * Draws. `size` is an integer vector of static length (damo_size, or
 * symbolic: damo_shape(x)), or NULL for the static broadcast shape of the
 * parameters (an error when it is not known). Parameters are variables of
 * one graph that broadcast to size. Each returns a new variable of the
 * parameters' graph, or NULL with the message on that graph. Each call
 * adds one state to the stream.
 *
 * Bad parameters: a constant that NumPy's Generator refuses is refused
 * when building (DAMO_ERR_INVALID, NumPy's ValueError); at run time the
 * draw gives what each function states.
 */
/** Uniform on [low, high): low + (high - low) * u, u taking 53 (float64)
 *  or 24 (float32) random bits. dtype DAMO_FLOAT64 or DAMO_FLOAT32 (the
 *  parameters are cast to it). low > high is allowed, as in NumPy (values
 *  in (high, low]). */
damo_var *damo_random_uniform(damo_random_stream *s, damo_var *low, damo_var *high,
                              damo_var *size, damo_dtype dtype);
/** Normal(mean, std) by Box-Muller from the two 53-bit (24-bit) uniforms
 *  of one block. dtype DAMO_FLOAT64 or DAMO_FLOAT32. In float64 the log
 *  and cosine are damo's own (IEEE arithmetic only, within 1e-14 of libm),
 *  so the numbers are the same bits on every device and the host; in
 *  float32 they are the device's. A constant std < 0 is refused; a
 *  variable one gives NaN where std < 0. */
damo_var *damo_random_normal(damo_random_stream *s, damo_var *mean, damo_var *std,
                             damo_var *size, damo_dtype dtype);
/** Exponential with the given scale (NumPy's parametrization): -scale *
 *  log(1 - u), in float64 with damo's own log (as normal).
 *  dtype DAMO_FLOAT64 or DAMO_FLOAT32. A constant scale < 0 is
 *  refused; a variable one gives NaN where scale < 0. */
damo_var *damo_random_exponential(damo_random_stream *s, damo_var *scale, damo_var *size,
                                  damo_dtype dtype);
/** int64 0 or 1, 1 with probability p (u < p, u of 53 bits). A constant p
 *  outside [0, 1] is refused; at run time p < 0 gives 0, p > 1 gives 1 and
 *  NaN gives 0. */
damo_var *damo_random_bernoulli(damo_random_stream *s, damo_var *p, damo_var *size);
/** Gamma(shape, scale) (NumPy's parametrization) by Marsaglia and Tsang,
 *  and Beta(a, b) as X / (X + Y) of two gammas, computed in float64 (the
 *  same bits everywhere, as normal) and given in dtype (DAMO_FLOAT64 or
 *  DAMO_FLOAT32: a float64 device either way). Each element takes as many
 *  uniforms as its rejections need from a Philox sub-stream of its own,
 *  seeded by its block; its state still advances by one per element.
 *  Constants NumPy refuses (shape or scale < 0; a or b <= 0) are refused;
 *  at run time a negative shape, scale, a or b gives NaN, and shape 0
 *  gives 0 (as NumPy), so a 0 gives 0 and b 0 gives 1. No gradient flows
 *  into shape, a or b (scale's does). */
damo_var *damo_random_gamma(damo_random_stream *s, damo_var *shape, damo_var *scale,
                            damo_var *size, damo_dtype dtype);
damo_var *damo_random_beta(damo_random_stream *s, damo_var *a, damo_var *b, damo_var *size,
                           damo_dtype dtype);
/** int64 Poisson(lam) counts: multiplication of uniforms below lam 10,
 *  else Hoermann's PTRS as NumPy; same sub-streams as gamma. A constant
 *  lam < 0 is refused; at run time lam < 0, NaN or >= 2^53 gives -1. */
damo_var *damo_random_poisson(damo_random_stream *s, damo_var *lam, damo_var *size);
/** int64 Binomial(n, p) counts (n an integer variable) by Knuth's
 *  recursion: log2(n) beta medians, then at most 16 comparisons. Its
 *  sub-stream is keyed by 53 bits of the element's block only, so two
 *  elements of a draw of N share one with probability about N^2 / 2^54.
 *  Constants n < 0 or p outside [0, 1] are refused; at run time they (and
 *  n >= 2^53) give -1. */
damo_var *damo_random_binomial(damo_random_stream *s, damo_var *n, damo_var *p, damo_var *size);
/** int64 random permutation of 0..n-1 (n an integer scalar variable), by
 *  a Fisher-Yates shuffle on the host from the blocks of the variable's
 *  state (element i of the shuffle picks among i + 1 places by 64 random
 *  bits mod i + 1, a bias below (i + 1) / 2^64); the counter advances by
 *  n. A constant n < 0 is refused; at run time it is DAMO_ERR_INVALID. */
damo_var *damo_random_permutation(damo_random_stream *s, damo_var *n);
/** k elements of the vector a chosen without replacement (numpy's
 *  choice(a, k, replace=False)): a taken at the first k entries of a
 *  permutation of its length. k larger than a statically known length is
 *  refused; at run time the result then has a's length. */
damo_var *damo_random_choice(damo_random_stream *s, damo_var *a, int64_t k);
/** Normal(mean, std) truncated to [low, high] (scipy's truncnorm with a =
 *  (low - mean) / std, b = (high - mean) / std; infinite bounds allowed)
 *  by Robert's rejection, computed in float64 (the same bits everywhere)
 *  and given in dtype (DAMO_FLOAT64 or DAMO_FLOAT32), clipped to [low,
 *  high] against rounding. Its sub-stream has binomial's 53-bit seed.
 *  Constants std < 0 or low >= high are refused; at run time they give
 *  NaN (std 0 gives the mean). Its gradient treats the draw as mean + std
 *  * (a standard draw): the bounds' dependence on mean and std is not
 *  differentiated. */
damo_var *damo_random_truncated_normal(damo_random_stream *s, damo_var *mean, damo_var *std,
                                       damo_var *low, damo_var *high, damo_var *size,
                                       damo_dtype dtype);
/** int64 integers on [low, high) (integer parameters): low + r mod
 *  (high - low) for 64 random bits r, biased by less than (high - low) /
 *  2^64. Constants with low >= high are refused (NumPy's ValueError); at
 *  run time such elements are low. */
damo_var *damo_random_integers(damo_random_stream *s, damo_var *low, damo_var *high,
                               damo_var *size);

#ifdef __cplusplus
}
#endif
#endif /* DAMO_H */
