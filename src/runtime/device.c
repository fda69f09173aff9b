/* Device discovery, probing and selection. */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../common/dtype.h"
#include "../common/strbuf.h"
#include "runtime.h"

const char *rt_cl_error_name(cl_int code)
{
    switch (code) {
#define E(x) case x: return #x;
    E(CL_SUCCESS) E(CL_DEVICE_NOT_FOUND) E(CL_DEVICE_NOT_AVAILABLE)
    E(CL_COMPILER_NOT_AVAILABLE) E(CL_MEM_OBJECT_ALLOCATION_FAILURE) E(CL_OUT_OF_RESOURCES)
    E(CL_OUT_OF_HOST_MEMORY) E(CL_PROFILING_INFO_NOT_AVAILABLE) E(CL_MEM_COPY_OVERLAP)
    E(CL_IMAGE_FORMAT_MISMATCH) E(CL_IMAGE_FORMAT_NOT_SUPPORTED) E(CL_BUILD_PROGRAM_FAILURE)
    E(CL_MAP_FAILURE) E(CL_MISALIGNED_SUB_BUFFER_OFFSET)
    E(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST) E(CL_COMPILE_PROGRAM_FAILURE)
    E(CL_LINKER_NOT_AVAILABLE) E(CL_LINK_PROGRAM_FAILURE) E(CL_DEVICE_PARTITION_FAILED)
    E(CL_KERNEL_ARG_INFO_NOT_AVAILABLE)
    E(CL_INVALID_VALUE) E(CL_INVALID_DEVICE_TYPE) E(CL_INVALID_PLATFORM) E(CL_INVALID_DEVICE)
    E(CL_INVALID_CONTEXT) E(CL_INVALID_QUEUE_PROPERTIES) E(CL_INVALID_COMMAND_QUEUE)
    E(CL_INVALID_HOST_PTR) E(CL_INVALID_MEM_OBJECT) E(CL_INVALID_IMAGE_FORMAT_DESCRIPTOR)
    E(CL_INVALID_IMAGE_SIZE) E(CL_INVALID_SAMPLER) E(CL_INVALID_BINARY)
    E(CL_INVALID_BUILD_OPTIONS) E(CL_INVALID_PROGRAM) E(CL_INVALID_PROGRAM_EXECUTABLE)
    E(CL_INVALID_KERNEL_NAME) E(CL_INVALID_KERNEL_DEFINITION) E(CL_INVALID_KERNEL)
    E(CL_INVALID_ARG_INDEX) E(CL_INVALID_ARG_VALUE) E(CL_INVALID_ARG_SIZE)
    E(CL_INVALID_KERNEL_ARGS) E(CL_INVALID_WORK_DIMENSION) E(CL_INVALID_WORK_GROUP_SIZE)
    E(CL_INVALID_WORK_ITEM_SIZE) E(CL_INVALID_GLOBAL_OFFSET) E(CL_INVALID_EVENT_WAIT_LIST)
    E(CL_INVALID_EVENT) E(CL_INVALID_OPERATION) E(CL_INVALID_GL_OBJECT)
    E(CL_INVALID_BUFFER_SIZE) E(CL_INVALID_MIP_LEVEL) E(CL_INVALID_GLOBAL_WORK_SIZE)
    E(CL_INVALID_PROPERTY) E(CL_INVALID_IMAGE_DESCRIPTOR) E(CL_INVALID_COMPILER_OPTIONS)
    E(CL_INVALID_LINKER_OPTIONS) E(CL_INVALID_DEVICE_PARTITION_COUNT)
#undef E
    /* what the ICD loader answers when no driver is installed (cl_khr_icd) */
    case -1001: return "CL_PLATFORM_NOT_FOUND_KHR";
    default: return "CL_ERROR_UNKNOWN";
    }
}

const char *rt_device_type_name(cl_device_type t)
{
    if (t & CL_DEVICE_TYPE_GPU)
        return "GPU";
    if (t & CL_DEVICE_TYPE_CPU)
        return "CPU";
    if (t & CL_DEVICE_TYPE_ACCELERATOR)
        return "accelerator";
    return "other";
}

/* A device string of any length, truncated into dst; "" when the query
 * fails (a probe never fails the listing: a device with an odd answer is
 * still listed and selectable). */
static void info_str(cl_device_id dev, cl_device_info what, char *dst, size_t size)
{
    size_t len = 0;
    dst[0] = '\0';
    if (clGetDeviceInfo(dev, what, 0, NULL, &len) != CL_SUCCESS || len == 0)
        return;
    char *s = malloc(len + 1);
    if (s && clGetDeviceInfo(dev, what, len, s, NULL) == CL_SUCCESS) {
        s[len] = '\0';
        snprintf(dst, size, "%s", s);
    }
    free(s);
}

static int has_extension(cl_device_id dev, const char *ext)
{
    size_t len = 0, n = strlen(ext);
    if (clGetDeviceInfo(dev, CL_DEVICE_EXTENSIONS, 0, NULL, &len) != CL_SUCCESS || len == 0)
        return 0;
    char *s = malloc(len + 1);
    int found = 0;
    if (s && clGetDeviceInfo(dev, CL_DEVICE_EXTENSIONS, len, s, NULL) == CL_SUCCESS) {
        s[len] = '\0';
        /* whole space-separated tokens only, so a longer name is no match */
        for (const char *p = s; (p = strstr(p, ext)) && !found; p += n)
            found = (p == s || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' ');
    }
    free(s);
    return found;
}

static int fake_no_fp64(void)
{
    const char *v = getenv("DAMO_FAKE_NO_FP64");
    return v && *v && strcmp(v, "0") != 0;
}

static void probe(rt_device *d)
{
    cl_device_id id = d->device;
    info_str(id, CL_DEVICE_NAME, d->name, sizeof d->name);
    info_str(id, CL_DEVICE_VENDOR, d->vendor, sizeof d->vendor);
    info_str(id, CL_DEVICE_VERSION, d->version, sizeof d->version);
    info_str(id, CL_DRIVER_VERSION, d->driver_version, sizeof d->driver_version);
    info_str(id, CL_DEVICE_OPENCL_C_VERSION, d->c_version, sizeof d->c_version);
    if (clGetPlatformInfo(d->platform, CL_PLATFORM_NAME, sizeof d->platform_name,
                          d->platform_name, NULL) != CL_SUCCESS)
        d->platform_name[0] = '\0';
    clGetDeviceInfo(id, CL_DEVICE_TYPE, sizeof d->type, &d->type, NULL);
    clGetDeviceInfo(id, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof d->compute_units,
                    &d->compute_units, NULL);
    clGetDeviceInfo(id, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof d->max_work_group,
                    &d->max_work_group, NULL);
    clGetDeviceInfo(id, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof d->global_mem, &d->global_mem, NULL);
    clGetDeviceInfo(id, CL_DEVICE_LOCAL_MEM_SIZE, sizeof d->local_mem, &d->local_mem, NULL);
    clGetDeviceInfo(id, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof d->max_alloc, &d->max_alloc, NULL);
    clGetDeviceInfo(id, CL_DEVICE_MAX_PARAMETER_SIZE, sizeof d->max_param_size,
                    &d->max_param_size, NULL);
    cl_bool unified = CL_FALSE;
    cl_uint align_bits = 0;
    clGetDeviceInfo(id, CL_DEVICE_HOST_UNIFIED_MEMORY, sizeof unified, &unified, NULL);
    clGetDeviceInfo(id, CL_DEVICE_MEM_BASE_ADDR_ALIGN, sizeof align_bits, &align_bits, NULL);
    d->host_unified = unified == CL_TRUE;
    d->mem_align = align_bits >= 8 * sizeof(void *) ? align_bits / 8 : sizeof(void *);
    cl_device_exec_capabilities caps = 0;
    clGetDeviceInfo(id, CL_DEVICE_EXECUTION_CAPABILITIES, sizeof caps, &caps, NULL);
    d->native_kernels = (caps & CL_EXEC_NATIVE_KERNEL) != 0;
    cl_device_fp_config fp = 0, sp = 0;
    clGetDeviceInfo(id, CL_DEVICE_DOUBLE_FP_CONFIG, sizeof fp, &fp, NULL);
    clGetDeviceInfo(id, CL_DEVICE_SINGLE_FP_CONFIG, sizeof sp, &sp, NULL);
    d->fp32 = ((sp & CL_FP_DENORM) ? FP32_DENORMS : 0) |
              ((sp & CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT) ? FP32_CR_DIV_SQRT : 0);
    d->is_gpu = (d->type & CL_DEVICE_TYPE_GPU) != 0;
    d->fp64 = !fake_no_fp64() && (fp != 0 || has_extension(id, "cl_khr_fp64"));
    /* launches divide by it; a device that does not answer still runs 1 */
    if (d->max_work_group == 0)
        d->max_work_group = 1;
}

/* Appends platform p's devices to *devs; 0 on out of memory. A platform
 * without devices (CL_DEVICE_NOT_FOUND) adds nothing. */
static int add_platform(cl_platform_id plat, int p, rt_device **devs, size_t *count)
{
    cl_uint nd = 0;
    if (clGetDeviceIDs(plat, CL_DEVICE_TYPE_ALL, 0, NULL, &nd) != CL_SUCCESS || nd == 0)
        return 1;
    cl_device_id *ids = calloc(nd, sizeof *ids);
    rt_device *more = ids ? realloc(*devs, (*count + nd) * sizeof *more) : NULL;
    if (!more) {
        free(ids);
        return 0;
    }
    *devs = more;
    if (clGetDeviceIDs(plat, CL_DEVICE_TYPE_ALL, nd, ids, NULL) == CL_SUCCESS) {
        for (cl_uint d = 0; d < nd; d++) {
            rt_device *dv = &more[(*count)++];
            memset(dv, 0, sizeof *dv);
            dv->platform = plat;
            dv->device = ids[d];
            dv->platform_index = p;
            dv->device_index = (int)d;
            probe(dv);
        }
    }
    free(ids);
    return 1;
}

static pthread_mutex_t discovery = PTHREAD_MUTEX_INITIALIZER;

void rt_lock(void) { pthread_mutex_lock(&discovery); }
void rt_unlock(void) { pthread_mutex_unlock(&discovery); }

static damo_status list_devices(rt_device **out, size_t *n, damo_err *e)
{
    *out = NULL;
    *n = 0;
    cl_uint np = 0;
    cl_int rc = clGetPlatformIDs(0, NULL, &np);
    if (rc != CL_SUCCESS || np == 0)
        return err_set(e, DAMO_ERR_NO_DEVICE,
                       "no OpenCL platform found (clGetPlatformIDs: %s); install an OpenCL "
                       "driver, e.g. PoCL for the CPU (Debian: pocl-opencl-icd)",
                       rt_cl_error_name(rc));
    cl_platform_id *plats = calloc(np, sizeof *plats);
    if (!plats)
        return err_set(e, DAMO_ERR_NOMEM, "out of memory listing OpenCL platforms");
    if ((rc = clGetPlatformIDs(np, plats, NULL)) != CL_SUCCESS) {
        free(plats);
        return err_set(e, DAMO_ERR_NO_DEVICE, "listing OpenCL platforms: clGetPlatformIDs: %s",
                       rt_cl_error_name(rc));
    }
    rt_device *devs = NULL;
    size_t count = 0;
    for (cl_uint p = 0; p < np; p++)
        if (!add_platform(plats[p], (int)p, &devs, &count)) {
            free(plats);
            free(devs);
            return err_set(e, DAMO_ERR_NOMEM, "out of memory listing OpenCL devices");
        }
    free(plats);
    *out = devs;
    *n = count;
    return DAMO_OK;
}

damo_status rt_list_devices(rt_device **out, size_t *n, damo_err *e)
{
    rt_lock();
    damo_status st = list_devices(out, n, e);
    rt_unlock();
    return st;
}

static int contains_nocase(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return 1;
    return 0;
}

/* Index of the first device of the type (preferring fp64 when asked), or
 * -1. type 0 accepts any device. */
static long first_of(const rt_device *devs, size_t n, cl_device_type type, int need_fp64)
{
    for (size_t i = 0; i < n; i++)
        if ((!type || (devs[i].type & type)) && (!need_fp64 || devs[i].fp64))
            return (long)i;
    return -1;
}

static long first_preferring_fp64(const rt_device *devs, size_t n, cl_device_type type)
{
    long i = first_of(devs, n, type, 1);
    return i >= 0 ? i : first_of(devs, n, type, 0);
}

/* "P:D" with plain decimal indices (no sign, no spaces); 0 otherwise. */
static int parse_index(const char *s, long *p, long *d)
{
    char *end;
    if (!isdigit((unsigned char)s[0]))
        return 0;
    *p = strtol(s, &end, 10);
    if (*end != ':' || !isdigit((unsigned char)end[1]))
        return 0;
    *d = strtol(end + 1, &end, 10);
    return *end == '\0';
}

static long pick_default(const rt_device *devs, size_t n, const char **reason)
{
    long i;
    if ((i = first_of(devs, n, CL_DEVICE_TYPE_GPU, 1)) >= 0)
        *reason = "default: first GPU with fp64";
    else if ((i = first_of(devs, n, CL_DEVICE_TYPE_GPU, 0)) >= 0)
        *reason = "default: no GPU has fp64, first GPU";
    else if ((i = first_of(devs, n, CL_DEVICE_TYPE_CPU, 0)) >= 0)
        *reason = "default: no GPU, first CPU device";
    else if ((i = first_of(devs, n, 0, 0)) >= 0)
        *reason = "default: no GPU or CPU, first device";
    return i;
}

static long pick_by_selector(const rt_device *devs, size_t n, const char *sel)
{
    long p, d;
    if (strcasecmp(sel, "gpu") == 0)
        return first_preferring_fp64(devs, n, CL_DEVICE_TYPE_GPU);
    if (strcasecmp(sel, "cpu") == 0)
        return first_preferring_fp64(devs, n, CL_DEVICE_TYPE_CPU);
    if (parse_index(sel, &p, &d)) {
        for (size_t i = 0; i < n; i++)
            if (devs[i].platform_index == p && devs[i].device_index == d)
                return (long)i;
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (contains_nocase(devs[i].name, sel))
            return (long)i;
    return -1;
}

static damo_status no_match(const rt_device *devs, size_t n, const char *from, const char *sel,
                            damo_err *e)
{
    strbuf list;
    sb_init(&list);
    for (size_t i = 0; i < n; i++)
        sb_printf(&list, "%s%d:%d %s (%s)", i ? ", " : "", devs[i].platform_index,
                  devs[i].device_index, devs[i].name, rt_device_type_name(devs[i].type));
    char *s = sb_take(&list);
    err_set(e, DAMO_ERR_NO_DEVICE,
            "%s '%s' matches no OpenCL device (use gpu, cpu, P:D indices or part of a device "
            "name); devices: %s",
            from, sel, n == 0 ? "none" : s ? s : "(out of memory listing them)");
    free(s);
    return DAMO_ERR_NO_DEVICE;
}

damo_status rt_select_device(const rt_device *devs, size_t n, const char *selector,
                             size_t *chosen, char *why, size_t why_size, damo_err *e)
{
    int from_env = !selector || !*selector;
    if (from_env)
        selector = getenv("DAMO_DEVICE");
    const char *reason = NULL;
    long pick;
    if (!selector || !*selector) {
        if ((pick = pick_default(devs, n, &reason)) < 0)
            return err_set(e, DAMO_ERR_NO_DEVICE,
                           "no OpenCL device found on any platform; install an OpenCL driver, "
                           "e.g. PoCL for the CPU (Debian: pocl-opencl-icd)");
    } else if ((pick = pick_by_selector(devs, n, selector)) < 0) {
        return no_match(devs, n, from_env ? "DAMO_DEVICE" : "selector", selector, e);
    }
    *chosen = (size_t)pick;
    if (why && why_size) {
        if (reason)
            snprintf(why, why_size, "%s", reason);
        else if (from_env)
            snprintf(why, why_size, "DAMO_DEVICE=%s", selector);
        else
            snprintf(why, why_size, "selector \"%s\"", selector);
    }
    return DAMO_OK;
}
