/*
 * Runtime layer: OpenCL devices, one context + in-order queue per damo_ctx,
 * device buffers with a size-bucketed pool, and program building with an
 * in-memory and on-disk binary cache. Knows nothing about graphs.
 *
 * Queue discipline: work is enqueued without host waits; the host blocks
 * only in rt_finish, blocking reads and rt_event_wait, and each of those
 * counts in rt_ctx.host_waits (a host sync costs ~60 us on PoCL while a
 * queued kernel costs ~1.5 us).
 *
 * Threads: every entry point that touches device discovery or context
 * creation and release holds one process-wide lock (PoCL's device queries
 * crash when two threads run them at once); everything else on an rt_ctx
 * must be used by one thread at a time.
 */
#ifndef DAMO_RUNTIME_H
#define DAMO_RUNTIME_H

#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"

/* What damo probes on a device. */
typedef struct rt_device {
    cl_platform_id platform;
    cl_device_id device;
    int platform_index, device_index;
    char name[256], vendor[256], platform_name[256];
    char version[128], driver_version[128], c_version[128];
    cl_device_type type;
    int is_gpu;
    int fp64;                 /* cl_khr_fp64 or a non-zero double fp config */
    cl_uint compute_units;
    size_t max_work_group;
    cl_ulong global_mem, local_mem, max_alloc;
    size_t max_param_size;    /* CL_DEVICE_MAX_PARAMETER_SIZE */
    int host_unified;         /* device and host share memory (CPU devices) */
    size_t mem_align;         /* CL_DEVICE_MEM_BASE_ADDR_ALIGN, in bytes */
    int native_kernels;       /* runs clEnqueueNativeKernel (CL_EXEC_NATIVE_KERNEL) */
    unsigned fp32;            /* FP32_* (scalar.h) float32 guarantees: denormals
                               * kept; division and sqrt correctly rounded
                               * (under -cl-fp32-correctly-rounded-divide-sqrt) */
} rt_device;

/* Lists every device of every platform (platform order, then device order).
 * *out is malloc'ed (caller frees), *n its length. An empty list is not an
 * error (n = 0). DAMO_ERR_NO_DEVICE when no platform answers.
 * Setting DAMO_FAKE_NO_FP64=1 in the environment reports every device as
 * lacking fp64 (to test that path on machines whose devices all have it). */
damo_status rt_list_devices(rt_device **out, size_t *n, damo_err *e);
/* The process-wide discovery lock (recursive use is not allowed). */
void rt_lock(void);
void rt_unlock(void);

/* Picks a device by selector (NULL or "": DAMO_DEVICE from the environment,
 * then the default rule: first GPU with fp64, else any GPU, else first CPU,
 * else the first device). Selector syntax: "gpu", "cpu", "P:D" indices, or a
 * case-insensitive substring of the device name. Writes the index into devs
 * to *chosen and a one-line human reason to `why` (may be NULL).
 * DAMO_ERR_NO_DEVICE with a message naming the selector and listing the
 * devices when nothing matches. */
damo_status rt_select_device(const rt_device *devs, size_t n, const char *selector,
                             size_t *chosen, char *why, size_t why_size, damo_err *e);

typedef struct rt_buf rt_buf;
typedef struct rt_prog_cache rt_prog_cache;
typedef struct rt_pool rt_pool;
typedef struct rt_transfers rt_transfers;

/* Where float matrix products run (blas.c). */
typedef enum rt_blas_route {
    RT_BLAS_HOST,     /* the host's CBLAS, queued as native kernels or,
                       * when small and the queue is idle, on the calling
                       * thread */
    RT_BLAS_CLBLAST   /* CLBlast's kernels on the device */
} rt_blas_route;

typedef struct rt_ctx {
    rt_device dev;
    /* buffers are host memory the context owns (CL_MEM_USE_HOST_PTR), so
     * that native kernels can reach them: CPU devices with native kernels */
    int host_bufs;
    /* the calling thread may read and write buffers through rt_buf_host
     * while the queue is idle: host_bufs, and a map gave the buffer's own
     * memory (rt_host_direct_ready). That catches a device mapping other
     * memory, not one that keeps a second copy: this rests on PoCL's CPU
     * device computing in the host memory itself. */
    int host_direct;
    int host_checked;
    rt_blas_route blas;       /* chosen at creation (DAMO_BLAS, the build's
                               * default, the device); host is confirmed on
                               * first use (rt_blas_ready) */
    int blas_inline;          /* small host products may run on the calling
                               * thread when the queue is idle (rt_blas) */
    cl_context context;
    cl_command_queue queue;
    rt_prog_cache *progs;
    rt_pool *pool;
    rt_transfers *xfer;       /* staging memory and deferred frees */
    uint64_t memory_hits, disk_hits, builds;
    uint64_t host_waits;      /* blocking waits for the device */
    uint64_t buffers_created; /* cl_mem allocations (not pool reuses) */
    /* profiling (events.c) */
    int profiling;            /* the queue records timestamps */
    struct rt_events *record; /* when set, every command enqueued adds its
                               * event here (NULL: only the newest is kept) */
    uint64_t events_recorded;
    /* the queue's newest command: its event, held (`last`) or in the
     * record list while a step records (`newest` points at it); `drained`
     * when a finish has emptied the queue since (events.c) */
    cl_event last;
    cl_event *newest;
    int drained;
    uint64_t wait_ns;         /* time blocked in counted waits while recording */
    uint64_t program_ns;      /* time loading or building programs */
} rt_ctx;

/* Creates the OpenCL context and an in-order queue on dev. */
damo_status rt_ctx_init(rt_ctx *rt, const rt_device *dev, damo_err *e);
/* Lists the devices, picks one by selector (rt_select_device) and creates
 * its context (rt_ctx_init). */
damo_status rt_open(rt_ctx *rt, const char *selector, damo_err *e);
/* Finishes the queue and releases everything (programs, pooled buffers,
 * staging memory, deferred frees). */
void rt_ctx_release(rt_ctx *rt);
/* Frees the context's cached programs / pooled buffers / transfer state
 * (rt_ctx_release). */
void rt_progs_release(rt_ctx *rt);
void rt_pool_release(rt_ctx *rt);
void rt_transfers_release(rt_ctx *rt);
/* clFinish (a counted host wait). */
damo_status rt_finish(rt_ctx *rt, damo_err *e);
/* Submits queued work to the device without waiting (clFlush), so that it
 * runs while the host goes on. */
damo_status rt_flush(rt_ctx *rt, damo_err *e);

/* Copies size bytes of src into b at offset without a host wait. A small
 * transfer goes through staging memory the runtime owns, so src may be
 * reused at once and *pending is set to NULL; a larger one reads src
 * directly and *pending receives its event: src must stay unchanged until
 * it completes (rt_event_wait, or rt_defer_free to free it). With
 * host_direct and an idle queue it is a memcpy on the calling thread
 * (*pending NULL, the queue stays idle). */
damo_status rt_upload(rt_ctx *rt, rt_buf *b, size_t offset, size_t size, const void *src,
                      cl_event *pending, damo_err *e);
/* 1 when ev has completed (or failed); never blocks. */
int rt_event_done(cl_event ev);
/* Waits for ev (a counted host wait, unless it had already completed) and
 * releases it. */
damo_status rt_event_wait(rt_ctx *rt, cl_event ev, damo_err *e);
/* Frees host memory `mem` once ev has completed, without waiting now; ev
 * is released then. Out of memory, it waits instead. */
void rt_defer_free(rt_ctx *rt, void *mem, cl_event ev);

/* Device buffers, reference counted. The last release returns the cl_mem to
 * the context's pool for reuse by a later rt_buf_alloc of a close size, so a
 * steady-state loop allocates nothing. */
rt_buf *rt_buf_alloc(rt_ctx *rt, size_t bytes, damo_err *e);
/* A buffer over `host` (bytes long, aligned to dev.mem_align) itself, on a
 * device that shares the host's memory (dev.host_unified): kernels read
 * the host's bytes, nothing is copied. The buffer takes `host`: it is
 * freed, with free(), once the buffer is released and every command using
 * it has completed (so the caller never waits for that). Never pooled. NULL
 * on error (message on e; host stays the caller's). */
rt_buf *rt_buf_wrap(rt_ctx *rt, void *host, size_t bytes, damo_err *e);
/* Host address of b's memory on a context with host_bufs (and of every
 * wrapped buffer); NULL otherwise. Only native kernels queued after the
 * commands that write b may use it. */
void *rt_buf_host(const rt_buf *b);
/* Once per context with host_bufs: maps a buffer and sets host_direct
 * when the map gives the buffer's own host memory (one counted wait).
 * Errors only from allocating the buffer. */
damo_status rt_host_direct_ready(rt_ctx *rt, damo_err *e);
rt_buf *rt_buf_retain(rt_buf *b);
void rt_buf_release(rt_buf *b);
cl_mem rt_buf_mem(const rt_buf *b);
size_t rt_buf_size(const rt_buf *b);
int rt_buf_refcount(const rt_buf *b);
/* DAMO_ERR_INVALID unless [offset, offset + size) lies inside b; `what`
 * names the transfer in the message. */
damo_status rt_buf_check_range(const rt_buf *b, size_t offset, size_t size, const char *what,
                               damo_err *e);
/* Device -> host copy (offset and size in bytes); blocking, so a counted
 * host wait, except with host_direct and an idle queue: a memcpy. */
damo_status rt_buf_read(rt_ctx *rt, rt_buf *b, size_t offset, size_t size,
                        void *dst, damo_err *e);
damo_status rt_buf_copy(rt_ctx *rt, rt_buf *src, size_t src_off, rt_buf *dst,
                        size_t dst_off, size_t size, damo_err *e);

/* Returns a built program for (source, options). Looks in memory, then on
 * disk, else builds and stores the binary. The disk cache directory is
 * DAMO_CACHE_DIR, else $XDG_CACHE_HOME/damo, else ~/.cache/damo, created
 * with mode 0700 if missing; one that is not a directory, not owned by the
 * effective user or writable by group or others turns the disk cache off
 * (rt_cache_info says why). An entry is used only when it is a regular file
 * (symlinks and FIFOs are skipped) recording exactly this source, these
 * options, the device's name and versions and damo's version; anything else
 * is ignored and rebuilt. The program is owned by the cache (do not release
 * it). DAMO_ERR_BUILD carries the build log in the message. */
damo_status rt_program_get(rt_ctx *rt, const char *source, const char *options,
                           cl_program *out, damo_err *e);
/* One line on the disk cache, "disk cache: DIR" or "disk cache off: REASON"
 * naming the directory. Resolves the directory first if no program was
 * built yet. The string lives until rt_ctx_release. */
const char *rt_cache_info(rt_ctx *rt);
/* The kernel `name` of the program for (source, options), created once per
 * program and owned by the cache (do not release it). Every user of one
 * program shares it: a context is used by one thread at a time, and a
 * launch captures the arguments set just before it. */
damo_status rt_kernel_get(rt_ctx *rt, const char *source, const char *options, const char *name,
                          cl_kernel *out, damo_err *e);
/* clCreateKernel; the caller owns the kernel (clReleaseKernel). */
damo_status rt_kernel_create(rt_ctx *rt, cl_program prog, const char *name,
                             cl_kernel *out, damo_err *e);
/* Enqueues exactly `global` work-items of a 1-D kernel (none when 0): in
 * groups of `local` as far as they divide, and the remainder at an offset
 * in groups the runtime chooses (everything, when local is 0). No wait.
 * Arguments are set by the caller (clSetKernelArg). */
damo_status rt_launch(rt_ctx *rt, cl_kernel k, size_t global, size_t local, damo_err *e);

/* ---- BLAS (blas.c) ------------------------------------------------------ */

/* The route the context's products take: at creation DAMO_BLAS=clblast,
 * =host or =host-queued in the environment, else the build's default
 * (meson option blas), else the host's CBLAS on a CPU device with native
 * kernels and CLBlast elsewhere. The host route is confirmed on first use: a buffer over host
 * memory must map to that memory itself (one counted wait, once per
 * context), or CLBlast is used instead. */
damo_status rt_blas_init(rt_ctx *rt, damo_err *e);
damo_status rt_blas_ready(rt_ctx *rt, damo_err *e);

/* One operand of a BLAS call: elements from `offset` of buf, row-major
 * with leading dimension ld (vectors: ld is the increment), transposed
 * when trans. */
typedef struct rt_blas_operand {
    rt_buf *buf;
    size_t offset, ld;
    int trans;
} rt_blas_operand;

/* alpha or beta: `value`, or when buf is set the element at offset of buf
 * as the call runs (on the CLBlast route it is read first: a counted
 * wait). */
typedef struct rt_blas_coef {
    double value;
    rt_buf *buf;
    size_t offset;
} rt_blas_coef;

typedef enum rt_blas_kind {
    RT_GEMM, /* c (m x n) = alpha * op(a) (m x k) . op(b) (k x n) + beta * c */
    RT_GEMV, /* c (m) = alpha * op(a) (m x k) . b (k) + beta * c */
    RT_DOT   /* c (one element) = a (k) . b (k) */
} rt_blas_kind;

typedef struct rt_blas_call {
    rt_blas_kind kind;
    int f64;                  /* double, else float */
    size_t m, n, k;
    rt_blas_operand a, b, c;  /* c is written; with beta 0 it is never read */
    rt_blas_coef alpha, beta;
} rt_blas_call;

/* Enqueues the call on the context's queue (no wait but the one the
 * CLBlast route needs for a coefficient in a buffer), by rt->blas; on the
 * host route a product of at most 2^24 multiply-adds that finds the queue
 * idle runs before this returns, on the calling thread (rt->blas_inline,
 * cleared by DAMO_BLAS=host-queued). k 0 is allowed (c becomes beta * c,
 * or zeros). */
damo_status rt_blas(rt_ctx *rt, const rt_blas_call *call, damo_err *e);
const char *rt_blas_route_name(rt_blas_route r);

/* ---- profiling (events.c) ---------------------------------------------- */

/* The events of commands enqueued while a list records (rt_ctx.record);
 * an entry is NULL when its command failed. */
typedef struct rt_events {
    cl_event *ev;
    size_t n, cap;
} rt_events;

/* Where every command enqueued without a wait puts its event: a new entry
 * of rt->record while a step records (profiling), else the context's own
 * slot. Either way the runtime keeps the newest command's event, to tell
 * when the queue is idle (rt_queue_idle). */
cl_event *rt_rec(rt_ctx *rt);
/* Ends recording: the newest event, if the list holds it, is kept by the
 * context instead (the list's entries belong to the profile). */
void rt_record_stop(rt_ctx *rt);
/* 1 when every command enqueued so far has finished, without waiting:
 * a finish emptied the queue since, or the newest command is complete.
 * 0 when unknown (an enqueue that failed leaves no event). */
int rt_queue_idle(rt_ctx *rt);
/* 1 when the calling thread may read and write buffers through
 * rt_buf_host now, with no command: host_direct and an idle queue. */
int rt_direct_now(rt_ctx *rt);
/* Recreates the queue with CL_QUEUE_PROFILING_ENABLE (once per context;
 * the old queue is finished first: a counted wait). */
damo_status rt_profile_on(rt_ctx *rt, damo_err *e);
/* Device time of a completed command in ns; 0 when it has not completed
 * (or failed, or has no timestamps). */
uint64_t rt_event_ns(cl_event ev);
/* A monotonic clock in ns. */
uint64_t rt_now_ns(void);
/* Brackets a blocking wait: counts it, and times it while recording. */
static inline uint64_t rt_wait_begin(rt_ctx *rt)
{
    rt->host_waits++;
    return rt->record ? rt_now_ns() : 0;
}
static inline void rt_wait_end(rt_ctx *rt, uint64_t t0)
{
    if (t0)
        rt->wait_ns += rt_now_ns() - t0;
}

/* Name of an OpenCL error code ("CL_OUT_OF_RESOURCES"). */
const char *rt_cl_error_name(cl_int code);
/* "GPU", "CPU", "accelerator" or "other" (for listings and messages). */
const char *rt_device_type_name(cl_device_type type);

#endif
