/* damo-info: lists the OpenCL devices damo sees and the one it would pick
 * (honouring DAMO_DEVICE), with the reason. */
#include <stdio.h>
#include <stdlib.h>

#include "runtime/runtime.h"

int main(int argc, char **argv)
{
    const char *selector = argc > 1 ? argv[1] : NULL;
    damo_err e;
    err_clear(&e);
    rt_device *devs;
    size_t n, pick;
    char why[256];
    if (rt_list_devices(&devs, &n, &e) != DAMO_OK) {
        fprintf(stderr, "damo-info: %s\n", e.msg);
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        const rt_device *d = &devs[i];
        printf("%d:%d  %-40s %s  %s  fp64 %-3s  %u CUs  %llu MiB  wg %zu\n", d->platform_index,
               d->device_index, d->name, d->is_gpu ? "GPU" : "CPU", d->c_version,
               d->fp64 ? "yes" : "no", d->compute_units,
               (unsigned long long)(d->global_mem >> 20), d->max_work_group);
    }
    int rc = 0;
    if (rt_select_device(devs, n, selector, &pick, why, sizeof why, &e) == DAMO_OK) {
        printf("damo would use %d:%d %s (%s)\n", devs[pick].platform_index,
               devs[pick].device_index, devs[pick].name, why);
    } else {
        fprintf(stderr, "damo-info: %s\n", e.msg);
        rc = 1;
    }
    free(devs);
    return rc;
}
