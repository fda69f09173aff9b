/*
 * Exec layer: values (arrays over host and device storage, shared
 * variables) and compiled plans (typed steps over values) with their
 * execution. Together with runtime/, the only layer that calls OpenCL.
 *
 * Residency: an array's values live in a `storage` that views share; the
 * storage holds a host copy, a device copy, or both, with validity flags.
 * Values move only when asked (a read, or a step that needs them where
 * they are not). An upload that reads the host copy in place leaves its
 * event on the storage: the host copy is not overwritten before it
 * completes, and is freed only after it completes, without a wait.
 *
 * On a device that shares the host's memory, a large host copy that a
 * kernel must read is not uploaded: its device buffer wraps the host
 * memory itself (zero copy), and owns it from then on. Kernels only ever
 * read such a buffer; a storage about to be written gets fresh memory
 * instead, the wrapped buffer freeing the old once its readers are done.
 */
#ifndef DAMO_EXEC_H
#define DAMO_EXEC_H

#include "../graph/graph.h"
#include "../runtime/runtime.h"

struct damo_ctx {
    rt_ctx rt;
    damo_err err;
};

typedef struct storage {
    int refcount;
    damo_ctx *ctx;
    size_t bytes;        /* what the values take */
    void *host;          /* NULL until first needed */
    size_t host_cap;
    int host_valid, dev_valid;
    rt_buf *dev;         /* may be larger than bytes (temp slots grow) */
    int host_in_dev;     /* dev wraps host (rt_buf_wrap) and owns it */
    cl_event upload;     /* an upload still reading `host`, or NULL */
} storage;

struct damo_array {
    int refcount;
    damo_ctx *ctx;
    damo_dtype dtype;
    int ndim;
    int64_t shape[DAMO_MAX_DIMS];
    int64_t strides[DAMO_MAX_DIMS]; /* elements */
    int64_t offset;                 /* elements */
    storage *st;
};

/* A shared variable's value, counted by every handle, graph and function
 * that uses it. `type` holds the static shape its values must keep. */
struct damo_shared {
    int refcount;
    damo_ctx *ctx;
    gtype type;
    char *name;
    damo_array *value;
    damo_err err;
};

/* New C-contiguous array with no values yet (neither copy valid). Sizes
 * are checked for overflow. NULL on error (message on e). */
damo_array *array_new(damo_ctx *ctx, damo_dtype dtype, int ndim, const int64_t *shape,
                      damo_err *e);
/* The same, sharing storage st (retained): a view at offset 0 with C
 * strides. */
damo_array *array_on_storage(storage *st, damo_dtype dtype, int ndim, const int64_t *shape,
                             damo_err *e);
storage *storage_new(damo_ctx *ctx, size_t bytes);
void storage_release(storage *st);
int array_is_contiguous(const damo_array *a);
int64_t array_size(const damo_array *a);
/* Host address of element 0 of the array's storage with current values,
 * downloading first when only the device has them (a counted wait). NULL
 * on error (on e). */
void *array_host_read(damo_array *a, damo_err *e);
/* Host memory about to be overwritten with all the array's values: made
 * the only valid copy, once no upload still reads it. NULL on error. */
void *array_host_write(damo_array *a, damo_err *e);
/* Device buffer holding the values, uploading (no wait) when needed. */
rt_buf *array_device_read(damo_array *a, damo_err *e);
/* Device buffer about to be overwritten with all the array's values (of
 * at least the storage's bytes), made the only valid copy. */
rt_buf *array_device_write(damo_array *a, damo_err *e);
/* The values in C order into dst: read straight from the device into dst
 * when only the device has them and the array is contiguous (one copy,
 * nothing kept on the host), else through the host copy. Waits for the
 * device work that produces them (a counted wait). */
damo_status array_read(damo_array *a, void *dst, damo_err *e);
/* Memory for work on the calling thread. On a context with host_direct
 * (buffers are host memory), and only while the queue is idle: a read
 * gives the device buffer's own memory when only the device has the
 * values, and a write makes the device buffer the only valid copy and
 * gives its memory, so that queued work after it finds the values without
 * a transfer. Elsewhere array_host_read / array_host_write. NULL on
 * error. */
const void *array_direct_read(damo_array *a, damo_err *e);
void *array_direct_write(damo_array *a, damo_err *e);
/* Element i (flat C order) of an array whose host copy is valid. */
hval array_host_elem(const damo_array *a, const void *base, int64_t i);
/* The values as a new C-contiguous host array of dtype `to` (converted as
 * hval_convert does). */
damo_array *array_convert(damo_array *a, damo_dtype to, damo_err *e);
/* Storage bytes may grow to `bytes` (temp slots): host copy and device
 * buffer are reallocated as needed when next written. */
void storage_resize(storage *st, size_t bytes);

void shared_retain(shared_store *s);
void shared_release(shared_store *s);

#endif
