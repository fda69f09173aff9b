/* NumPy .npy files to and from host memory: no device, no damo_array, so
 * the codec can be tested on its own. Assumes a little-endian host, as every
 * platform damo targets is. */
#ifndef DAMO_API_NPY_H
#define DAMO_API_NPY_H

#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"

/*
 * Reads a .npy file (format 1.0, 2.0 or 3.0; little-endian or byte-order-free
 * descr; C or Fortran order; damo's dtypes). On success sets *dtype, *ndim,
 * shape[0..ndim-1] and *data: prod(shape) elements in C order, bools as 0/1
 * bytes, malloc'ed (caller frees; never NULL, even for zero elements).
 * On failure *data is NULL and e holds a message naming the path:
 * DAMO_ERR_IO (open/read, or not a regular file: a FIFO is refused rather
 * than waited on), DAMO_ERR_FORMAT (corrupt or unsupported layout),
 * DAMO_ERR_TYPE (unsupported dtype), DAMO_ERR_NOMEM, DAMO_ERR_INVALID (a
 * NULL argument).
 */
damo_status npy_load(const char *path, damo_dtype *dtype, int *ndim,
                     int64_t shape[DAMO_MAX_DIMS], void **data, damo_err *e);

/*
 * npy_load on the len bytes at buf (NULL only when len is 0) instead of a
 * file; `name` stands for the path in messages. The bytes after the data
 * are ignored, as npy_load ignores the rest of a file.
 */
damo_status npy_parse(const void *buf, size_t len, const char *name, damo_dtype *dtype,
                      int *ndim, int64_t shape[DAMO_MAX_DIMS], void **data, damo_err *e);

/*
 * Writes prod(shape) elements of `data` (C order) as a format 1.0 .npy file
 * byte-identical to what numpy.save writes for the same array. shape may be
 * NULL when ndim is 0. An existing path must be a regular file (DAMO_ERR_IO
 * otherwise, leaving it alone). A partly written file is removed on
 * failure. Every message names the path.
 */
damo_status npy_save(const char *path, damo_dtype dtype, int ndim,
                     const int64_t *shape, const void *data, damo_err *e);

#endif
