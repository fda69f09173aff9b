/* Growing arrays: the one doubling-realloc every list in damo uses. */
#ifndef DAMO_COMMON_GROW_H
#define DAMO_COMMON_GROW_H

#include <stddef.h>

/* Makes the malloc'ed array *arr (of *cap elements of elem bytes) hold at
 * least `need` elements, doubling its capacity (from 16); elements past the
 * old capacity are zeroed. 0 when out of memory (the array is unchanged). */
int grow_array(void **arr, size_t *cap, size_t need, size_t elem);

#endif
