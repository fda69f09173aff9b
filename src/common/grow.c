#include "grow.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int grow_array(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 1;
    size_t c = *cap ? *cap : 16;
    while (c < need)
        c = c > SIZE_MAX / 2 ? need : 2 * c;
    if (c > SIZE_MAX / elem)
        return 0;
    char *p = realloc(*arr, c * elem);
    if (!p)
        return 0;
    memset(p + *cap * elem, 0, (c - *cap) * elem);
    *arr = p;
    *cap = c;
    return 1;
}
