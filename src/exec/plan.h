/*
 * A compiled plan: typed steps over a table of values. Built once from a
 * final function graph; a call binds the inputs and enqueues the steps.
 *
 * Values are the function's inputs, constants, shared variables, temps
 * (intermediates no one outside sees), results (outputs and update values,
 * handed out as arrays) and views (a dimshuffle, index, alloc or reshape of
 * another value, sharing its memory). Temps live in buffer slots assigned
 * at plan time by liveness: two temps whose lifetimes do not overlap share
 * a slot, which grows to the largest size it is asked for, so a steady
 * loop allocates nothing. A view keeps the value it shares (its root)
 * alive as long as itself, and a temp that a returned view shares becomes
 * a result. A result's array is reused when nobody else holds it.
 *
 * Each step belongs to a class (step_elemwise.c, step_reduce.c, ...) that
 * builds it once and runs it per call.
 */
#ifndef DAMO_EXEC_PLAN_H
#define DAMO_EXEC_PLAN_H

#include "../codegen/codegen.h"
#include "../graph/layout.h"
#include "../rewrite/rewrite.h"
#include "exec.h"

/* The kinds of step; the public damo_step_kind mirrors them. */
typedef enum step_kind {
    STEP_ELEMWISE, /* a fused elementwise program: a generated kernel, or the
                    * host evaluator for small exact work */
    STEP_REDUCE,   /* a generated reduction with fused prologue and epilogue */
    STEP_BLAS,     /* a float matrix product (host CBLAS or CLBlast) */
    STEP_VIEW,     /* a view of another value (reshape may copy) */
    STEP_COPY,     /* copies into slices: set / inc_subtensor, concatenate */
    STEP_GATHER,   /* rows at an index vector */
    STEP_SCATTER,  /* rows added at an index vector */
    STEP_HOST      /* computed on the host: shapes, arange, eye */
} step_kind;

typedef enum val_kind {
    VAL_INPUT, VAL_CONST, VAL_SHARED, VAL_TEMP, VAL_RESULT, VAL_VIEW,
    VAL_INTO /* a gemm's c, computed in the memory of the gemm's result
              * (value `index`), which the gemm then updates in place */
} val_kind;

typedef struct pvalue {
    val_kind kind;
    const damo_var *var;  /* in the function graph: type and label */
    int index;            /* input number, store index, slot, or (into)
                           * the value whose memory it is computed in */
    damo_array *arr;      /* const: its array; temp: a view on its slot;
                           * result: the last call's, reused when free;
                           * view: the plan's array, attached per call */
    int root;             /* view: the value whose memory it shares */
    int is_result;        /* view: an output or update value */
} pvalue;

/* The part of a step's program computing some of its outputs (kept
 * outputs differ in shape at run time), over the inputs it reads. */
typedef struct psub {
    unsigned char *keep;  /* per output of the step */
    sprog prog;
    int *in_map;          /* sub input -> step input */
    int vectorizable;     /* cg_vectorizable(&prog) */
    sp_work work;         /* prog's on the host */
} psub;

/* An elementwise kernel built for one choice of outputs and input access
 * modes. */
typedef struct kvariant {
    const psub *sub;      /* NULL: the whole program */
    int vw;               /* vector lanes per work-item, or 0 */
    cg_access *modes;     /* per program input */
    cg_kernel cg;
    cl_kernel kernel;     /* owned by the context's program cache */
} kvariant;

/* Any other generated kernel, found by the bytes of its generator's spec. */
#define GK_KEY_BYTES 128
typedef struct gkernel {
    unsigned char key[GK_KEY_BYTES];
    cg_kernel cg;
    cl_kernel kernel;     /* owned by the context's program cache */
} gkernel;

struct plan;
struct pstep;
typedef struct prof prof; /* profile.h */

typedef struct step_class {
    step_kind kind;
    /* Once, with the step's values bound: the text, checks that need the
     * device, the kernels that can be built before the first call. */
    damo_status (*build)(struct plan *p, struct pstep *s, damo_err *e);
    /* Per call: the inputs' arrays are in p->cur; sets the outputs'. */
    damo_status (*run)(struct plan *p, struct pstep *s, damo_err *e);
} step_class;

#define STEP_PRIVATE 3

typedef struct pstep {
    step_kind kind;
    const step_class *cls;
    const gnode *node;
    int n_in, n_out;
    int *in, *out;        /* value indices */
    char *text;           /* one line for introspection */
    char *in_label;       /* input 0's label for messages (step_in_label) */
    gkernel *gks;         /* kernels other than elementwise */
    int n_gks;
    storage *priv[STEP_PRIVATE]; /* the step's own memory: partial results,
                                  * packed operands, a reshape's copy */
    /* elementwise */
    const fused_prog *fp;
    int ndim;
    int exact;            /* may run on the host (results bit-identical) */
    double host_ns, epi_ns; /* sprog_host_ns of the program (a reduction's
                             * prologue) and of a reduction's epilogue */
    int vectorizable;     /* cg_vectorizable of the whole program */
    sp_work work, epi_work; /* the program's (a reduction's prologue's) and
                             * the epilogue's on the host */
    kvariant *variants;
    int n_variants;
    psub **subs;          /* each allocated alone: variants point to them */
    int n_subs;
    /* scratch of one call, sized at plan time */
    cg_access *modes;     /* per input */
    int64_t *shapes;      /* per instruction, DAMO_MAX_DIMS sizes */
    int64_t *in_shapes;   /* per input, its padded shape in the last call */
    int shapes_known;     /* shapes are those of inputs of in_shapes */
    int64_t *strides;     /* per input, DAMO_MAX_DIMS effective strides */
    unsigned char *keep;  /* per output */
    sp_view *views;       /* per input and output */
    int64_t *out_strides; /* per output, DAMO_MAX_DIMS */
} pstep;

typedef struct plan {
    damo_ctx *ctx;
    fgraph *fg;           /* retained */
    unsigned flags;
    const char *build_options;
    pvalue *vals;
    size_t n_vals;
    pstep *steps;
    size_t n_steps;
    size_t n_inputs, n_outputs, n_updates;
    int *input_val;       /* per input: its value, or -1 when no step needs it */
    int *result_val;      /* per output, then per update: its value */
    shared_store **stores;   /* read by the plan, swaps applied (retained) */
    size_t n_stores;
    shared_store **targets;  /* per update (retained) */
    storage **slots;      /* temp buffers */
    size_t n_slots;
    damo_array **cur;     /* per value: its array during a call */
    damo_array **old;     /* per update: scratch for committing */
    int on_device;        /* this call enqueued device work */
    prof *prof;           /* DAMO_FN_PROFILE: step and call times, else NULL */
} plan;

/* Builds a plan over the final graph fg (retained) on ctx. Each store
 * swap_from[i] that fg reads or updates is replaced by swap_to[i]; updates
 * are dropped unless keep_updates. Builds every step's first kernel.
 * Errors (fp64 missing, a kernel that does not build) go to e. */
damo_status plan_build(plan **out, damo_ctx *ctx, fgraph *fg, shared_store *const *swap_from,
                       shared_store *const *swap_to, size_t n_swaps, int keep_updates,
                       unsigned flags, damo_err *e);
void plan_free(plan *p);
/* How update u reaches its shared variable, in a few words for
 * debugprint. */
const char *plan_update_how(const plan *p, size_t u);
/* 1 when p reads or updates s. */
int plan_uses(const plan *p, const shared_store *s);

/* Runs p with input i bound to inputs[i] (already checked against the
 * input's type and dtype). On success outputs[o] (when outputs is not
 * NULL) receives a new reference to output o and the updates take effect;
 * on error nothing is returned and no shared value changes (message on e).
 * The host waits only to read values a host step needs. */
damo_status plan_run(plan *p, damo_array *const *inputs, damo_array **outputs, damo_err *e);

/* ---- for the step classes ----------------------------------------------- */

extern const step_class step_elemwise, step_reduce, step_blas, step_view, step_copy,
    step_gather, step_scatter, step_host;

/* The array a step writes value v into, C-contiguous with the given shape:
 * a temp's view on its slot, or a result array (reused when nobody else
 * holds it). */
damo_array *plan_output(plan *p, int v, int nd, const int64_t *shape, damo_err *e);
/* Makes view value v the layout l over storage st (retained until the
 * call ends). */
damo_array *plan_view(plan *p, int v, storage *st, const layout *l, damo_err *e);
/* Step-private storage i of at least `bytes`: fresh when a returned array
 * still holds the last one. */
storage *plan_private(plan *p, pstep *s, int i, size_t bytes, damo_err *e);
/* The kernel for a generator spec (key: its bytes, zero-filled), generated
 * and built on first use; name is the kernel's name in the source. */
typedef damo_status (*gen_fn)(const void *key, const pstep *s, const char *name, cg_kernel *out);
damo_status plan_gkernel(plan *p, pstep *s, const void *key, size_t size, gen_fn gen,
                         const gkernel **out, damo_err *e);

/* What a kernel's arguments are bound from: operand arrays (CGA_MEM: the
 * device buffer, CGA_OFFSET, CGA_VALUE), scratch buffers, and the step's
 * numbers for every other kind. */
typedef struct karg {
    damo_array *const *ops;
    const int64_t *offsets;      /* per operand, in place of its array's (or NULL) */
    rt_buf *const *scratch;
    int64_t (*num)(const void *ctx, const cg_arg *a);
    const void *ctx;
} karg;
damo_status plan_bind(cl_kernel kernel, const cg_kernel *cg, const karg *src, damo_err *e);
/* Where small work runs. Work that gives the device's bits on the host
 * (exact ops, a reduction combined in the kernel's order) runs on the host
 * instead of a kernel when the function allows it (not
 * DAMO_FN_DEVICE_ONLY) and its estimated host time `ns` (sprog_host_ns
 * per element) is below a kernel's dispatch. */
int plan_small(const plan *p, double ns);
/* Before such work reads or writes device buffers through their host
 * memory (rt host_direct): waits for the queue when it still has
 * commands (a counted wait). */
damo_status plan_thread_begin(plan *p, damo_err *e);
/* Enqueues `global` work-items in groups of `local` (0: the runtime's). */
damo_status plan_launch(plan *p, cl_kernel k, size_t global, size_t local, damo_err *e);
/* dst (a region of dst's storage, whose device copy is current) = src, or
 * += src with add; src is read through sl, strides 0 where it broadcasts
 * to dl's shape. Converts to dst's dtype. */
damo_status plan_copy(plan *p, pstep *s, damo_array *dst, const layout *dl, damo_array *src,
                      const layout *sl, int add, damo_err *e);
/* a's layout; and src's layout read over `shape` (broadcast, NumPy's
 * rules; out may be src), 0 when it does not broadcast. */
void array_layout(const damo_array *a, layout *l);
int layout_broadcast(const layout *src, int nd, const int64_t *shape, layout *out);
/* Merges adjacent dimensions across which every one of n operands is
 * contiguous (strides[j][d] of operand j) and drops those of size 1;
 * returns the new number of dimensions. */
int merge_dims(int nd, int64_t *shape, int n, int64_t (*strides)[DAMO_MAX_DIMS]);
/* Element 0 of a 0-d (or any) array as an int64, read on the host (a
 * counted wait when only the device has it). */
damo_status plan_host_int(damo_array *a, int64_t *out, damo_err *e);
/* "'x'" or "add(x, y)": a label of value v for messages. */
const char *value_label(const plan *p, int v, char *buf, size_t size);
/* The label of step s's input 0, made on first use and kept: building a
 * label takes about a microsecond, too much for every call. */
const char *step_in_label(const plan *p, pstep *s);

#endif
