/*
 * API layer internals: the structs behind the public handles and the
 * helpers the API files share. The top layer: it may use every other.
 *
 * Residency: an array's values live in a `storage` that views share; the
 * storage holds a host copy, a device copy, or both, with validity flags.
 * Values move only when asked (damo_array_read, or a kernel needing them).
 * A non-blocking upload reads the host copy later, so the storage records
 * the context epoch of its last upload and waits for it before freeing.
 */
#ifndef DAMO_API_H
#define DAMO_API_H

#include "../graph/graph.h"
#include "../runtime/runtime.h"

struct damo_ctx {
    rt_ctx rt;
    damo_err err;
    uint64_t epoch_queued;   /* bumped by each non-blocking upload */
    uint64_t epoch_done;     /* every upload up to this one has completed */
};

typedef struct storage {
    int refcount;
    damo_ctx *ctx;
    size_t bytes;
    void *host;
    int host_valid, dev_valid;
    rt_buf *dev;
    uint64_t upload_epoch;
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

/* A shared variable's value, counted by every graph and function that use
 * it. `type` holds the static shape its values must keep. */
struct shared_store {
    int refcount;
    damo_ctx *ctx;
    gtype type;
    damo_array *value;
};

/* New C-contiguous array with no values yet (neither copy valid). */
damo_array *array_alloc(damo_ctx *ctx, damo_dtype dtype, int ndim, const int64_t *shape);
int array_is_contiguous(const damo_array *a);
/* Host address of element 0 of the array's storage, downloading first when
 * the host copy is stale (a blocking read). NULL on error (on ctx). */
void *array_host_base(damo_array *a);
/* Host memory about to be overwritten: made the only valid copy, after any
 * queued upload that reads it has finished. NULL on error (on ctx). */
void *array_host_for_write(damo_array *a);
/* Device buffer holding the values, uploading without a wait when needed. */
rt_buf *array_device_buf(damo_array *a);
/* Makes `buf` (retained) the array's only valid copy. */
void array_set_device(damo_array *a, rt_buf *buf);
/* The values as a new C-contiguous host array of dtype `to` (converting as
 * hval_convert does). */
damo_array *array_convert(damo_array *a, damo_dtype to);

/* Called after a blocking device operation: every queued upload is done. */
void ctx_mark_synced(damo_ctx *ctx);

void shared_store_retain(shared_store *s);
void shared_store_release(shared_store *s);

#endif
