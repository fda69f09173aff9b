/* Device discovery, probing and selection. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "runtime.h"

const char *rt_cl_error_name(cl_int code)
{
    switch (code) {
#define E(x) case x: return #x;
    E(CL_SUCCESS) E(CL_DEVICE_NOT_FOUND) E(CL_DEVICE_NOT_AVAILABLE)
    E(CL_COMPILER_NOT_AVAILABLE) E(CL_MEM_OBJECT_ALLOCATION_FAILURE) E(CL_OUT_OF_RESOURCES)
    E(CL_OUT_OF_HOST_MEMORY) E(CL_BUILD_PROGRAM_FAILURE) E(CL_INVALID_VALUE)
    E(CL_INVALID_DEVICE) E(CL_INVALID_BINARY) E(CL_INVALID_BUILD_OPTIONS)
    E(CL_INVALID_PROGRAM) E(CL_INVALID_PROGRAM_EXECUTABLE) E(CL_INVALID_KERNEL_NAME)
    E(CL_INVALID_KERNEL) E(CL_INVALID_ARG_INDEX) E(CL_INVALID_ARG_VALUE)
    E(CL_INVALID_ARG_SIZE) E(CL_INVALID_KERNEL_ARGS) E(CL_INVALID_WORK_DIMENSION)
    E(CL_INVALID_WORK_GROUP_SIZE) E(CL_INVALID_WORK_ITEM_SIZE) E(CL_INVALID_GLOBAL_OFFSET)
    E(CL_INVALID_EVENT_WAIT_LIST) E(CL_INVALID_MEM_OBJECT) E(CL_INVALID_BUFFER_SIZE)
    E(CL_INVALID_COMMAND_QUEUE) E(CL_INVALID_CONTEXT) E(CL_INVALID_PLATFORM)
    E(CL_MISALIGNED_SUB_BUFFER_OFFSET)
    E(CL_INVALID_GLOBAL_WORK_SIZE)
#undef E
    default: return "CL_ERROR_UNKNOWN";
    }
}

static void probe(rt_device *d)
{
    clGetDeviceInfo(d->device, CL_DEVICE_NAME, sizeof d->name, d->name, NULL);
    clGetDeviceInfo(d->device, CL_DEVICE_VENDOR, sizeof d->vendor, d->vendor, NULL);
    clGetDeviceInfo(d->device, CL_DEVICE_VERSION, sizeof d->version, d->version, NULL);
    clGetDeviceInfo(d->device, CL_DRIVER_VERSION, sizeof d->driver_version, d->driver_version, NULL);
    clGetDeviceInfo(d->device, CL_DEVICE_OPENCL_C_VERSION, sizeof d->c_version, d->c_version, NULL);
    clGetPlatformInfo(d->platform, CL_PLATFORM_NAME, sizeof d->platform_name, d->platform_name, NULL);
    clGetDeviceInfo(d->device, CL_DEVICE_TYPE, sizeof d->type, &d->type, NULL);
    clGetDeviceInfo(d->device, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof d->compute_units,
                    &d->compute_units, NULL);
    clGetDeviceInfo(d->device, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof d->max_work_group,
                    &d->max_work_group, NULL);
    clGetDeviceInfo(d->device, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof d->global_mem, &d->global_mem, NULL);
    clGetDeviceInfo(d->device, CL_DEVICE_LOCAL_MEM_SIZE, sizeof d->local_mem, &d->local_mem, NULL);
    clGetDeviceInfo(d->device, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof d->max_alloc, &d->max_alloc, NULL);
    clGetDeviceInfo(d->device, CL_DEVICE_MAX_PARAMETER_SIZE, sizeof d->max_param_size,
                    &d->max_param_size, NULL);
    cl_device_fp_config fp = 0;
    clGetDeviceInfo(d->device, CL_DEVICE_DOUBLE_FP_CONFIG, sizeof fp, &fp, NULL);
    d->fp64 = fp != 0;
    d->is_gpu = (d->type & CL_DEVICE_TYPE_GPU) != 0;
    if (d->max_work_group == 0)
        d->max_work_group = 1;
    const char *fake = getenv("DAMO_FAKE_NO_FP64");
    if (fake && *fake && strcmp(fake, "0"))
        d->fp64 = 0;
}

damo_status rt_list_devices(rt_device **out, size_t *n, damo_err *e)
{
    *out = NULL;
    *n = 0;
    cl_uint np = 0;
    cl_int rc = clGetPlatformIDs(0, NULL, &np);
    if (rc != CL_SUCCESS || np == 0)
        return err_set(e, DAMO_ERR_NO_DEVICE,
                       "no OpenCL platform found (%s): install an OpenCL driver, e.g. PoCL "
                       "(apt install pocl-opencl-icd)", rt_cl_error_name(rc));
    cl_platform_id *plats = calloc(np, sizeof *plats);
    if (!plats)
        return err_set(e, DAMO_ERR_NOMEM, "out of memory listing platforms");
    clGetPlatformIDs(np, plats, NULL);
    rt_device *devs = NULL;
    size_t count = 0;
    for (cl_uint p = 0; p < np; p++) {
        cl_uint nd = 0;
        if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 0, NULL, &nd) != CL_SUCCESS || !nd)
            continue;
        cl_device_id *ids = calloc(nd, sizeof *ids);
        rt_device *more = realloc(devs, (count + nd) * sizeof *devs);
        if (!ids || !more) {
            free(ids);
            free(more ? more : devs);
            free(plats);
            return err_set(e, DAMO_ERR_NOMEM, "out of memory listing devices");
        }
        devs = more;
        clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, nd, ids, NULL);
        for (cl_uint d = 0; d < nd; d++) {
            rt_device *dv = &devs[count++];
            memset(dv, 0, sizeof *dv);
            dv->platform = plats[p];
            dv->device = ids[d];
            dv->platform_index = (int)p;
            dv->device_index = (int)d;
            probe(dv);
        }
        free(ids);
    }
    free(plats);
    *out = devs;
    *n = count;
    return DAMO_OK;
}

static int contains_nocase(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return 1;
    }
    return 0;
}

/* First device matching want_gpu (1 GPU, 0 CPU), preferring fp64. */
static long first_of(const rt_device *devs, size_t n, int want_gpu, int need_fp64)
{
    for (size_t i = 0; i < n; i++) {
        int gpu = devs[i].is_gpu, cpu = (devs[i].type & CL_DEVICE_TYPE_CPU) != 0;
        if ((want_gpu ? gpu : cpu) && (!need_fp64 || devs[i].fp64))
            return (long)i;
    }
    return -1;
}

damo_status rt_select_device(const rt_device *devs, size_t n, const char *selector,
                             size_t *chosen, char *why, size_t why_size, damo_err *e)
{
    const char *from = "selector";
    if (!selector || !*selector) {
        selector = getenv("DAMO_DEVICE");
        from = "DAMO_DEVICE";
    }
    char reason[256];
    long pick = -1;
    if (n == 0)
        return err_set(e, DAMO_ERR_NO_DEVICE, "no OpenCL device found on any platform");
    if (!selector || !*selector) {
        if ((pick = first_of(devs, n, 1, 1)) >= 0)
            snprintf(reason, sizeof reason, "default: first GPU with fp64");
        else if ((pick = first_of(devs, n, 1, 0)) >= 0)
            snprintf(reason, sizeof reason, "default: first GPU (none has fp64)");
        else if ((pick = first_of(devs, n, 0, 0)) >= 0)
            snprintf(reason, sizeof reason, "default: no GPU, first CPU device");
        else
            snprintf(reason, sizeof reason, "default: first device"), pick = 0;
    } else {
        int p, d;
        char tail;
        if (!strcasecmp(selector, "gpu") || !strcasecmp(selector, "cpu")) {
            int gpu = !strcasecmp(selector, "gpu");
            if ((pick = first_of(devs, n, gpu, 1)) < 0)
                pick = first_of(devs, n, gpu, 0);
        } else if (sscanf(selector, "%d:%d%c", &p, &d, &tail) == 2) {
            for (size_t i = 0; i < n; i++)
                if (devs[i].platform_index == p && devs[i].device_index == d)
                    pick = (long)i;
        } else {
            for (size_t i = 0; i < n && pick < 0; i++)
                if (contains_nocase(devs[i].name, selector))
                    pick = (long)i;
        }
        snprintf(reason, sizeof reason, "%s=%s", from, selector);
    }
    if (pick < 0) {
        char list[2048] = "";
        size_t len = 0;
        for (size_t i = 0; i < n && len < sizeof list; i++)
            len += (size_t)snprintf(list + len, sizeof list - len, "%s%d:%d %s (%s)", i ? ", " : "",
                                    devs[i].platform_index, devs[i].device_index, devs[i].name,
                                    devs[i].is_gpu ? "GPU" : "CPU");
        return err_set(e, DAMO_ERR_NO_DEVICE,
                       "%s '%s' matches no OpenCL device (use gpu, cpu, P:D or part of a name); "
                       "devices: %s", from, selector, list);
    }
    *chosen = (size_t)pick;
    if (why && why_size)
        snprintf(why, why_size, "%s", reason);
    return DAMO_OK;
}
