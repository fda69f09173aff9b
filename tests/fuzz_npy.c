/* libFuzzer target for the .npy reader. Built and run by scripts/fuzz-npy.sh
 * rather than by meson, since it needs clang's libFuzzer. Besides the
 * sanitizers' findings, a result that breaks npy_parse's contract is a
 * crash too. */
#include <stdint.h>
#include <stdlib.h>

#include "api/npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t len)
{
    damo_dtype dtype;
    int ndim;
    int64_t shape[DAMO_MAX_DIMS];
    void *data = &dtype;
    damo_err e;
    err_clear(&e);
    damo_status st = npy_parse(bytes, len, "fuzz", &dtype, &ndim, shape, &data, &e);
    if (st != DAMO_OK) {
        if (data != NULL || e.code != st || e.msg[0] == '\0')
            abort();
        return 0;
    }
    if (data == NULL || ndim < 0 || ndim > DAMO_MAX_DIMS)
        abort();
    for (int i = 0; i < ndim; i++)
        if (shape[i] < 0)
            abort();
    free(data);
    return 0;
}
