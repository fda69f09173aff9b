/* NumPy .npy files to and from host memory: no device, no damo_array, so
 * the codec can be tested on its own. Assumes a little-endian host, as every
 * platform damo targets is. */
#ifndef DAMO_API_NPY_H
#define DAMO_API_NPY_H

#include <stdint.h>

#include "../common/err.h"

/*
 * Reads a .npy file (format 1.0, 2.0 or 3.0; little-endian or byte-order-free
 * descr; C or Fortran order; damo's dtypes). On success sets *dtype, *ndim,
 * shape[0..ndim-1] and *data: prod(shape) elements in C order, bools as 0/1
 * bytes, malloc'ed (caller frees; never NULL, even for zero elements).
 * On failure *data is NULL and e holds a message naming the path:
 * DAMO_ERR_IO (open/read), DAMO_ERR_FORMAT (corrupt or unsupported layout),
 * DAMO_ERR_TYPE (unsupported dtype), DAMO_ERR_NOMEM.
 */
damo_status npy_load(const char *path, damo_dtype *dtype, int *ndim,
                     int64_t shape[DAMO_MAX_DIMS], void **data, damo_err *e);

/*
 * Writes prod(shape) elements of `data` (C order) as a format 1.0 .npy file
 * byte-identical to what numpy.save writes for the same array. shape may be
 * NULL when ndim is 0. A partly written file is removed on failure.
 */
damo_status npy_save(const char *path, damo_dtype dtype, int ndim,
                     const int64_t *shape, const void *data, damo_err *e);

#endif
