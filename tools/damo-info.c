/* damo-info: lists the OpenCL devices damo sees and the one it would pick
 * (honouring DAMO_DEVICE, or a selector given as the argument), with the
 * reason, then checks that damo works there: builds a small kernel, runs
 * it, checks its results and times a round trip. Exit status 1 when no
 * device matches or the check fails. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/runtime.h"

#define CHECK_N 1024
#define TRIPS 200

static const char check_src[] =
    "__kernel void damo_check(__global float *x)\n"
    "{\n"
    "    size_t i = get_global_id(0);\n"
    "    x[i] = x[i] * 2.0f + 1.0f;\n"
    "}\n";

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Builds and runs check_src over CHECK_N floats on rt and verifies every
 * value; then the median of TRIPS round trips (a 1-item launch and a
 * wait for it). */
static damo_status self_check(rt_ctx *rt, damo_err *e)
{
    static float v[CHECK_N];
    for (int i = 0; i < CHECK_N; i++)
        v[i] = (float)i;
    uint64_t t0 = rt_now_ns();
    cl_kernel k;
    damo_status st = rt_kernel_get(rt, check_src, "", "damo_check", &k, e);
    if (st != DAMO_OK)
        return st;
    double build_ms = (double)(rt_now_ns() - t0) / 1e6;
    rt_buf *b = rt_buf_alloc(rt, sizeof v, e);
    if (!b)
        return e->code;
    cl_mem m = rt_buf_mem(b);
    cl_event pending = NULL;
    cl_int rc = clSetKernelArg(k, 0, sizeof m, &m);
    if (rc != CL_SUCCESS)
        st = err_set(e, DAMO_ERR_DEVICE, "setting the check kernel's argument: %s", rt_cl_error_name(rc));
    if (st == DAMO_OK && (st = rt_upload(rt, b, 0, sizeof v, v, &pending, e)) == DAMO_OK && pending)
        st = rt_event_wait(rt, pending, e);
    if (st == DAMO_OK && (st = rt_launch(rt, k, CHECK_N, 0, e)) == DAMO_OK)
        st = rt_buf_read(rt, b, 0, sizeof v, v, e);
    for (int i = 0; i < CHECK_N && st == DAMO_OK; i++)
        if (v[i] != 2.0f * (float)i + 1.0f)
            st = err_set(e, DAMO_ERR_DEVICE, "the check kernel computed %g at %d, not %g", v[i], i,
                         2.0 * i + 1);
    uint64_t trips[TRIPS];
    for (int i = 0; i < TRIPS && st == DAMO_OK; i++) {
        uint64_t t = rt_now_ns();
        if ((st = rt_launch(rt, k, 1, 0, e)) == DAMO_OK && (st = rt_finish(rt, e)) == DAMO_OK)
            trips[i] = rt_now_ns() - t;
    }
    rt_buf_release(b);
    if (st != DAMO_OK)
        return st;
    qsort(trips, TRIPS, sizeof trips[0], cmp_u64);
    printf("self-check: ok (a kernel built or loaded in %.1f ms, %d values right; %s)\n"
           "round trip (a 1-item kernel and a wait for it): median %.1f us, fastest %.1f us of %d\n",
           build_ms, CHECK_N, rt_cache_info(rt), (double)trips[TRIPS / 2] / 1e3,
           (double)trips[0] / 1e3, TRIPS);
    return DAMO_OK;
}

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
        rt_ctx rt;
        if (rt_ctx_init(&rt, &devs[pick], &e) != DAMO_OK || self_check(&rt, &e) != DAMO_OK) {
            fprintf(stderr, "damo-info: self-check failed: %s\n", e.msg);
            rc = 1;
        }
        if (rt.context)
            rt_ctx_release(&rt);
    } else {
        fprintf(stderr, "damo-info: %s\n", e.msg);
        rc = 1;
    }
    free(devs);
    return rc;
}
