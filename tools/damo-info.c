/* damo-info: lists the OpenCL devices damo sees and the one it would pick
 * (honouring DAMO_DEVICE, or a selector given as the argument), with the
 * reason. Exit status 1 when no device matches. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/runtime.h"

int main(int argc, char **argv)
{
    if (argc > 2 || (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")))) {
        fprintf(stderr, "usage: damo-info [selector]\n"
                        "  selector: gpu, cpu, P:D indices or part of a device name\n"
                        "  (default: the DAMO_DEVICE environment variable, then damo's rule)\n");
        return argc > 2 ? 2 : 0;
    }
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
        printf("%d:%d  %s  (%s, %s, fp64 %s, %u CUs, %llu MiB, work-group %zu)\n",
               d->platform_index, d->device_index, d->name, rt_device_type_name(d->type),
               d->c_version, d->fp64 ? "yes" : "no", d->compute_units,
               (unsigned long long)(d->global_mem >> 20), d->max_work_group);
    }
    int rc = 0;
    if (rt_select_device(devs, n, selector, &pick, why, sizeof why, &e) == DAMO_OK) {
        printf("damo uses %d:%d %s (%s)\n", devs[pick].platform_index, devs[pick].device_index,
               devs[pick].name, why);
    } else {
        fprintf(stderr, "damo-info: %s\n", e.msg);
        rc = 1;
    }
    free(devs);
    return rc;
}
