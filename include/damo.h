/*
 * damo — symbolic tensor graphs compiled to OpenCL.
 *
 * The one public header. Conventions (SQLite/ArrayFire style):
 *  - Functions that can fail return a damo_status (DAMO_OK == 0) or NULL, and
 *    leave a message on the handle they concern: damo_ctx_errmsg() for
 *    contexts and arrays, damo_graph_errmsg() for graph building and
 *    compilation, damo_function_errmsg() for calls.
 *  - Graph builders accept NULL inputs and then return NULL without a new
 *    message, so a chained expression reports its first error.
 *  - Ownership is stated on every function: "caller owns" means the caller
 *    must release it with the matching *_free / *_release; "borrowed" means
 *    the pointer stays valid as long as its owner does, and must not be freed.
 *  - Nothing in the library prints, aborts or exits.
 */
#ifndef DAMO_H
#define DAMO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DAMO_VERSION_MAJOR 0
#define DAMO_VERSION_MINOR 1
#define DAMO_VERSION_PATCH 0
#define DAMO_VERSION_STRING "0.1.0"

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
    DAMO_ERR_FORMAT = 11       /* a file's content is corrupt or not supported */
} damo_status;

/** Short constant English name of a status ("DAMO_ERR_SHAPE"); never NULL. */
const char *damo_status_name(damo_status s);

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
/** NumPy's result_type of two dtypes (int32 + float32 -> float64). */
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

/** Waits for queued work, then frees the context. Arrays, graphs and
 *  functions made on it must be freed first. NULL is a no-op. */
void damo_ctx_free(damo_ctx *ctx);

/** Last error on this context (arrays, device work), or "" (borrowed). */
const char *damo_ctx_errmsg(const damo_ctx *ctx);
damo_status damo_ctx_errcode(const damo_ctx *ctx);

/** Device name, e.g. "pthread-skylake-avx512-AMD EPYC" (borrowed). */
const char *damo_ctx_device_name(const damo_ctx *ctx);
/** 1 when the device supports float64. */
int damo_ctx_has_fp64(const damo_ctx *ctx);
/** Blocks until all work queued on the context has finished. */
damo_status damo_ctx_finish(damo_ctx *ctx);

/** Program-cache counters of the context (for tests and tuning). */
typedef struct damo_cache_stats {
    uint64_t memory_hits;  /* programs found built in this process */
    uint64_t disk_hits;    /* programs loaded from the on-disk cache */
    uint64_t builds;       /* programs compiled from source */
} damo_cache_stats;
void damo_ctx_cache_stats(const damo_ctx *ctx, damo_cache_stats *out);

/* ------------------------------------------------------------------------ */
/* Arrays: dtype, shape, strides; values on the host, the device, or both.   */
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
 * `dtype`, C order; bools are one byte each, 0 or 1). The caller keeps
 * ownership of `data`. Returns NULL on error (message on ctx).
 * Caller owns the result: damo_array_release.
 */
damo_array *damo_array_from_data(damo_ctx *ctx, damo_dtype dtype, int ndim,
                                 const int64_t *shape, const void *data);

/** 0-d array from a C number, converted to dtype as a C cast would.
 *  Caller owns the result; NULL on error (message on ctx). */
damo_array *damo_array_scalar(damo_ctx *ctx, damo_dtype dtype, double value);

/**
 * View with explicit element strides and element offset into the data of
 * `base` (which must be C-contiguous); no data is copied. The view shares
 * base's storage and keeps it alive. Out-of-bounds views are an error.
 * Caller owns the result; NULL on error (message on ctx).
 */
damo_array *damo_array_strided_view(damo_array *base, int ndim,
                                    const int64_t *shape,
                                    const int64_t *strides, int64_t offset);

/** Adds a reference; returns a. */
damo_array *damo_array_retain(damo_array *a);
/** Drops a reference; the last one frees the array. NULL is a no-op. */
void damo_array_release(damo_array *a);

damo_dtype damo_array_dtype(const damo_array *a);
int damo_array_ndim(const damo_array *a);
/** Shape and element strides (borrowed, ndim entries). */
const int64_t *damo_array_shape(const damo_array *a);
const int64_t *damo_array_strides(const damo_array *a);
/** Number of elements (1 for a 0-d array). */
int64_t damo_array_size(const damo_array *a);
/** 1 when the array's current values are on the host / on the device. */
int damo_array_on_host(const damo_array *a);
int damo_array_on_device(const damo_array *a);

/**
 * Copies the array's values, converted to C order, into `dst` (room for
 * damo_array_size elements of the array's dtype). Waits for device work
 * that produces them. Returns DAMO_OK or an error (message on the ctx).
 */
damo_status damo_array_read(damo_array *a, void *dst);

/** Reads element `index` (flat C-order index) as a double. */
damo_status damo_array_get_f64(damo_array *a, int64_t index, double *out);

/** Makes the values present on the device (uploads if needed, no wait). */
damo_status damo_array_to_device(damo_array *a);

/**
 * Formats the array like NumPy's repr (`array([[0.5, 0.73105858], ...])`)
 * into a new NUL-terminated string. Caller owns it: free() it.
 * Returns NULL on error (message on the ctx).
 */
char *damo_array_to_string(damo_array *a);

/** Loads a NumPy .npy file (format 1.0-3.0, little-endian, C or Fortran
 *  order, damo's dtypes). Caller owns the result; NULL on error with the
 *  reason (I/O, format, dtype) on ctx. */
damo_array *damo_array_load_npy(damo_ctx *ctx, const char *path);
/** Saves as a .npy file (format 1.0, C order). */
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
/** Frees the graph and every variable in it. Compiled functions keep their
 *  own copy and stay usable. NULL is a no-op. */
void damo_graph_free(damo_graph *g);
/** Last error of building or compiling in this graph, or "" (borrowed). */
const char *damo_graph_errmsg(const damo_graph *g);
damo_status damo_graph_errcode(const damo_graph *g);

/* Inspecting variables (all borrowed / by value). */
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
 * int32; alone it is float64 / int64.
 */
damo_var *damo_float(damo_graph *g, double value);
damo_var *damo_int(damo_graph *g, int64_t value);
/** Constant of a fixed dtype from a C number (converted as a C cast). */
damo_var *damo_const_scalar(damo_graph *g, damo_dtype dtype, double value);
/** Constant holding a copy of an array's values. */
damo_var *damo_constant(damo_graph *g, damo_array *value);

/* Elementwise operations with NumPy broadcasting and type promotion.
 * Each returns a new variable owned by the inputs' graph, or NULL on error
 * (incompatible static shapes, unsupported dtype, NULL input, inputs from
 * different graphs) with the message on the graph. */
#define DAMO_DECLARE_UNARY(name) damo_var *damo_##name(damo_var *a);
#define DAMO_DECLARE_BINARY(name) damo_var *damo_##name(damo_var *a, damo_var *b);
DAMO_DECLARE_BINARY(add)      /* a + b */
DAMO_DECLARE_BINARY(sub)      /* a - b */
DAMO_DECLARE_BINARY(mul)      /* a * b */
DAMO_DECLARE_BINARY(true_div) /* a / b, always floating (ints -> float64) */
DAMO_DECLARE_BINARY(int_div)  /* a // b, floor division (x // 0 == 0 for ints) */
DAMO_DECLARE_BINARY(mod)      /* a % b with the sign of b (Python) */
DAMO_DECLARE_BINARY(pow)      /* a ** b */
DAMO_DECLARE_BINARY(arctan2)
DAMO_DECLARE_BINARY(maximum)  /* NaN-propagating, like NumPy */
DAMO_DECLARE_BINARY(minimum)
DAMO_DECLARE_BINARY(lt)
DAMO_DECLARE_BINARY(gt)
DAMO_DECLARE_BINARY(le)
DAMO_DECLARE_BINARY(ge)
DAMO_DECLARE_BINARY(eq)
DAMO_DECLARE_BINARY(neq)
DAMO_DECLARE_UNARY(neg)
DAMO_DECLARE_UNARY(abs)
DAMO_DECLARE_UNARY(sign)
DAMO_DECLARE_UNARY(exp)
DAMO_DECLARE_UNARY(expm1)
DAMO_DECLARE_UNARY(log)
DAMO_DECLARE_UNARY(log1p)
DAMO_DECLARE_UNARY(log2)
DAMO_DECLARE_UNARY(log10)
DAMO_DECLARE_UNARY(sqrt)
DAMO_DECLARE_UNARY(sqr)       /* a * a */
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
/* Bitwise on integers, logical on bool; floats are a type error. (Spelled
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
/** a converted to dtype (floats to ints truncate toward zero and
 *  saturate; NaN becomes 0). */
damo_var *damo_cast(damo_var *a, damo_dtype dtype);

/* ------------------------------------------------------------------------ */
/* Shared variables: a variable with a value that persists across calls.     */
/* ------------------------------------------------------------------------ */

/**
 * New shared variable holding a copy of `value`. `static_shape` (ndim
 * entries, DAMO_DIM_UNKNOWN for "any size") may be NULL: every dimension is
 * then unknown (Aesara's default). name may be NULL. The value lives on the
 * device and is shared by every function that uses the variable; it outlives
 * the graph as long as a function uses it. NULL on error (message on g).
 */
damo_var *damo_shared(damo_graph *g, damo_array *value, const char *name,
                      const int64_t *static_shape);
/** Shared 0-d int64 / float64 from a C number (Aesara's shared(0), shared(0.)). */
damo_var *damo_shared_int(damo_graph *g, int64_t value, const char *name);
damo_var *damo_shared_float(damo_graph *g, double value, const char *name);

/** Current value of a shared variable as a new array (caller owns it:
 *  damo_array_release). NULL on error (message on the variable's graph). */
damo_array *damo_shared_get_value(damo_var *shared);
/** Replaces the value with a copy of `value`: dtype must match and static
 *  dimensions keep their size. Error (message on the graph) otherwise. */
damo_status damo_shared_set_value(damo_var *shared, damo_array *value);
/** Convenience: the value of a 0-d shared variable as a double. */
damo_status damo_shared_get_f64(damo_var *shared, double *out);

/* ------------------------------------------------------------------------ */
/* Functions: compile inputs -> outputs (+ updates, givens) and call.         */
/* ------------------------------------------------------------------------ */

typedef struct damo_function damo_function;

/** An input (Aesara's In): the variable, an optional default value
 *  (borrowed during compilation, copied), and an optional name that
 *  overrides the variable's name for calls by name. */
typedef struct damo_in {
    damo_var *var;
    damo_array *value;
    const char *name;
} damo_in;

/** (shared variable, new value expression). */
typedef struct damo_update {
    damo_var *var;
    damo_var *expr;
} damo_update;

/** (variable, its replacement) for one function. */
typedef struct damo_given {
    damo_var *var;
    damo_var *with;
} damo_given;

/** Compilation flags. By default a step with at most 1024 elements whose
 *  inputs are all on the host runs on the host (same op definitions), since
 *  a device round trip costs far more than such work; its outputs are then
 *  on the host. */
enum {
    DAMO_FN_NO_FUSION = 1u << 0,     /* one kernel per operation */
    DAMO_FN_NO_DEFAULT_UPDATES = 1u << 1, /* Aesara's no_default_updates; default
                                           * updates arrive with random streams,
                                           * until then there are none */
    DAMO_FN_DEVICE_ONLY = 1u << 2 /* never run small steps on the host */
};

typedef struct damo_function_spec {
    const damo_in *inputs;
    size_t n_inputs;
    damo_var *const *outputs;
    size_t n_outputs;
    const damo_update *updates;
    size_t n_updates;
    const damo_given *givens;
    size_t n_givens;
    unsigned flags;
} damo_function_spec;

/**
 * Compiles a function. Returns NULL on error with the message on g
 * (an output that does not depend only on the inputs, a bad update or
 * given, a kernel that does not build...). Caller owns the result:
 * damo_function_free. The function keeps its own copy of the graph.
 */
damo_function *damo_function_new(damo_graph *g, const damo_function_spec *spec);

/** Shorthand: inputs without defaults, no updates or givens. */
damo_function *damo_function_simple(damo_graph *g, size_t n_inputs,
                                    damo_var *const *inputs, size_t n_outputs,
                                    damo_var *const *outputs);

void damo_function_free(damo_function *f);
/** Last error of a call, or "" (borrowed). */
const char *damo_function_errmsg(const damo_function *f);
damo_status damo_function_errcode(const damo_function *f);
size_t damo_function_n_inputs(const damo_function *f);
size_t damo_function_n_outputs(const damo_function *f);

/** One argument of a call: positional when name is NULL. Either `array`
 *  (borrowed) or, when array is NULL, the C number `value`. */
typedef struct damo_arg {
    const char *name;
    damo_array *array;
    double value;
} damo_arg;
#ifdef __cplusplus
#define DAMO_ARG_INIT_(n, a, v) (damo_arg{(n), (a), (double)(v)})
#else
#define DAMO_ARG_INIT_(n, a, v) ((damo_arg){(n), (a), (double)(v)})
#endif
#define DAMO_ARG(a) DAMO_ARG_INIT_(NULL, (a), 0)
#define DAMO_NUM(v) DAMO_ARG_INIT_(NULL, NULL, (v))
#define DAMO_NAMED(n, a) DAMO_ARG_INIT_((n), (a), 0)
#define DAMO_NAMED_NUM(n, v) DAMO_ARG_INIT_((n), NULL, (v))

/**
 * Calls f. Arguments bind to inputs by position, then by name; inputs not
 * given take their default. Arrays whose dtype differs are converted when
 * no precision is lost (as Aesara does), else it is an error naming the
 * input. On success, when `outputs` is not NULL, outputs[i] receives a new
 * reference to output i (caller owns each: damo_array_release); its values
 * may still be on the device until read. On error nothing is returned,
 * no shared value changes, the message is on f, and f stays usable.
 */
damo_status damo_call(damo_function *f, const damo_arg *args, size_t n_args,
                      damo_array **outputs);

/**
 * Copies f (Aesara's Function.copy): the copy uses the same compiled
 * kernels (no program is built again) and its own output buffers. Each
 * swap pair (var: a shared variable f uses, with: another shared variable
 * of the same dtype and rank) makes the copy read and update `with` where f
 * reads and updates `var`. With delete_updates the copy updates nothing.
 * Returns NULL on error with the message on f. Caller owns the result:
 * damo_function_free.
 */
damo_function *damo_function_copy(damo_function *f, const damo_given *swap, size_t n_swap,
                                  int delete_updates);

/* Introspection: the compiled schedule. Every step so far is a generated
 * kernel; a call may still run a small one on the host (see the flags). */
typedef enum damo_step_kind {
    DAMO_STEP_KERNEL = 0 /* a generated OpenCL kernel */
} damo_step_kind;
size_t damo_function_n_steps(const damo_function *f);
damo_step_kind damo_function_step_kind(const damo_function *f, size_t i);
/** Generated OpenCL source of step i, or NULL (borrowed). */
const char *damo_function_step_source(const damo_function *f, size_t i);
/** Number of generated kernels in the schedule. */
size_t damo_function_n_kernels(const damo_function *f);

#ifdef __cplusplus
}
#endif
#endif /* DAMO_H */
