/*
 * Layouts of views: how dimshuffle, basic indexing, alloc and reshape map
 * an input's shape, strides (elements) and offset to their result's. The
 * one home of these rules: static shape inference, constant folding and
 * the exec layer's view steps all call them.
 */
#ifndef DAMO_GRAPH_LAYOUT_H
#define DAMO_GRAPH_LAYOUT_H

#include "graph.h"

typedef struct layout {
    int ndim;
    int64_t shape[DAMO_MAX_DIMS];
    int64_t strides[DAMO_MAX_DIMS];
    int64_t offset;
} layout;

/* C-contiguous layout of a shape, offset 0. */
void layout_c(layout *l, int ndim, const int64_t *shape);
/* 1 when l is C-contiguous (size-1 axes may have any stride). */
int layout_is_c(const layout *l);
int64_t layout_size(const layout *l);

/* Python's slice.indices and len(range(...)) for an axis of `size`:
 * *start and the length of the slice. step is non-zero. */
void slice_bounds(const op_slice *s, int64_t size, int64_t *start, int64_t *len);

/* Result layout of each view op over `in`. Errors (message on e naming
 * `label`): an index out of range (subtensor), a value that does not
 * broadcast to the sizes (alloc), sizes that do not hold the elements
 * (reshape; *is_view 0 when the result must be a copy). */
void layout_dimshuffle(const op_params *p, const layout *in, layout *out);
damo_status layout_subtensor(const op_params *p, const layout *in, layout *out, const char *label,
                             damo_err *e);
damo_status layout_alloc(const layout *value, int ndim, const int64_t *sizes, layout *out,
                         const char *label, damo_err *e);
/* The sizes of a reshape of `count` elements: sizes[i] as given, one -1
 * inferred. */
damo_status reshape_sizes(int ndim, const int64_t *sizes, int64_t count, int64_t *out,
                          const char *label, damo_err *e);

/* Resolves SHAPE_KEEP and SHAPE_REST in sizes[0..ndim) against an input
 * of x_ndim sizes x_shape (DAMO_DIM_UNKNOWN where not known: the result is
 * then unknown too, and *unknown is set). */
void reshape_resolve(int ndim, int64_t *sizes, int x_ndim, const int64_t *x_shape, int *unknown);

/* Copies the elements of the view (l over src) to dst in C order. */
void layout_gather(damo_dtype dtype, const layout *l, const void *src, void *dst);

#endif
