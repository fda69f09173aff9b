/* NumPy's repr() of an array, from host data: what damo_array_to_string
 * prints. Kept apart from damo_array so it can be tested on its own. */
#ifndef DAMO_API_FORMAT_H
#define DAMO_API_FORMAT_H

#include <stdint.h>

#include "damo.h"

/*
 * The text numpy.array(...).__repr__() gives with NumPy 2's default print
 * options (precision 8, floatmode 'maxprec', linewidth 75, threshold 1000,
 * edgeitems 3): "array([[0.5       , 0.73105858], ...])", with ", dtype=..."
 * and ", shape=..." where NumPy adds them. `data` holds prod(shape) elements
 * of `dtype` in C order (shape may be NULL when ndim is 0).
 * Returns a new NUL-terminated string (caller frees), NULL if out of memory.
 */
char *format_array_repr(damo_dtype dtype, int ndim, const int64_t *shape, const void *data);

#endif
