/* Philox4x32-10 against Random123's published known-answer vectors
 * (shared/reference/philox4x32_10_kat.txt, from Random123's
 * tests/kat_vectors): kernels/philox.h compiled for the host, the same
 * text as the library embeds it run in an OpenCL kernel on the default
 * device, and the library's RAND_* ops (the host evaluator's table). */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <damo.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "scalar/scalar.h"

#define DAMO_FN static inline
#define DAMO_U32 uint32_t
#define DAMO_U64 uint64_t
#include "philox.h"

typedef struct kat {
    uint32_t ctr[4], key[2], out[4];
} kat;

static const kat kats[] = {
    {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
    {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff},
     {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
    {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0},
     {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
};
#define N_KATS (int)(sizeof kats / sizeof kats[0])

static void test_host(void)
{
    for (int i = 0; i < N_KATS; i++) {
        uint32_t c[4];
        memcpy(c, kats[i].ctr, sizeof c);
        damo_philox4x32_10(c, kats[i].key[0], kats[i].key[1]);
        for (int w = 0; w < 4; w++)
            CHECK_MSG(c[w] == kats[i].out[w], "host vector %d word %d: %08x, expected %08x", i, w,
                      c[w], kats[i].out[w]);
    }
}

/* The library's ops: block (ctr + idx, 0, 0) under the key, word pairs
 * shifted as each op says. Vector 0 is the block at counter 0, key 0. */
static void test_ops(void)
{
    const kat *k = &kats[0];
    uint64_t pair0 = (uint64_t)k->out[1] << 32 | k->out[0], pair1 = (uint64_t)k->out[3] << 32 | k->out[2];
    struct {
        scalar_op op;
        uint64_t want;
    } cases[] = {{SOP_RAND_U64, pair0}, {SOP_RAND_U53, pair0 >> 11}, {SOP_RAND_V53, pair1 >> 11},
                 {SOP_RAND_U24, pair0 >> 40}, {SOP_RAND_V24, pair1 >> 40}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hval zero = {.u = 0};
        /* counter 0 reached as counter 5 plus index 2^64 - 5 (wrapping) */
        hval five = {.u = 5}, idx = {.u = (uint64_t)0 - 5};
        CHECK(op_eval(cases[i].op, DAMO_UINT64, zero, zero, zero).u == cases[i].want);
        CHECK(op_eval(cases[i].op, DAMO_UINT64, zero, five, idx).u == cases[i].want);
    }
}

static const char kernel_src[] =
    "__kernel void kat(__global const uint *in, __global uint *out)\n"
    "{\n"
    "    const int i = get_global_id(0);\n"
    "    uint c[4];\n"
    "    for (int w = 0; w < 4; w++)\n"
    "        c[w] = in[6 * i + w];\n"
    "    damo_philox4x32_10(c, in[6 * i + 4], in[6 * i + 5]);\n"
    "    for (int w = 0; w < 4; w++)\n"
    "        out[4 * i + w] = c[w];\n"
    "}\n";

/* The embedded text, as codegen puts it before a kernel, on the device
 * damo picks. */
static void test_device(void)
{
    damo_ctx *ctx;
    char err[512];
    if (!CHECK(damo_ctx_new(&ctx, err, sizeof err) == DAMO_OK))
        return;
    const char *want = damo_ctx_device_name(ctx);
    cl_platform_id plats[8];
    cl_uint np = 0;
    cl_device_id dev = NULL;
    clGetPlatformIDs(8, plats, &np);
    for (cl_uint p = 0; p < np && !dev; p++) {
        cl_device_id devs[16];
        cl_uint nd = 0;
        if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 16, devs, &nd) != CL_SUCCESS)
            continue;
        for (cl_uint d = 0; d < nd && !dev; d++) {
            char name[256] = "";
            clGetDeviceInfo(devs[d], CL_DEVICE_NAME, sizeof name, name, NULL);
            if (!strcmp(name, want))
                dev = devs[d];
        }
    }
    damo_ctx_free(ctx);
    if (!CHECK(dev))
        return;
    cl_int rc;
    cl_context cl = clCreateContext(NULL, 1, &dev, NULL, NULL, &rc);
    cl_command_queue q = clCreateCommandQueue(cl, dev, 0, &rc);
    const char *pre = "#define DAMO_FN\n#define DAMO_U32 uint\n#define DAMO_U64 ulong\n";
    const char *srcs[3] = {pre, scalar_philox_cl, kernel_src};
    cl_program prog = clCreateProgramWithSource(cl, 3, srcs, NULL, &rc);
    rc = clBuildProgram(prog, 1, &dev, "", NULL, NULL);
    if (!CHECK(rc == CL_SUCCESS)) {
        char log[4096] = "";
        clGetProgramBuildInfo(prog, dev, CL_PROGRAM_BUILD_LOG, sizeof log, log, NULL);
        fprintf(stderr, "%s\n", log);
    } else {
        uint32_t in[6 * N_KATS], out[4 * N_KATS] = {0};
        for (int i = 0; i < N_KATS; i++) {
            memcpy(in + 6 * i, kats[i].ctr, 16);
            memcpy(in + 6 * i + 4, kats[i].key, 8);
        }
        cl_mem bin = clCreateBuffer(cl, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, sizeof in, in, &rc);
        cl_mem bout = clCreateBuffer(cl, CL_MEM_WRITE_ONLY, sizeof out, NULL, &rc);
        cl_kernel k = clCreateKernel(prog, "kat", &rc);
        clSetKernelArg(k, 0, sizeof bin, &bin);
        clSetKernelArg(k, 1, sizeof bout, &bout);
        size_t gsize = N_KATS;
        CHECK(clEnqueueNDRangeKernel(q, k, 1, NULL, &gsize, NULL, 0, NULL, NULL) == CL_SUCCESS);
        CHECK(clEnqueueReadBuffer(q, bout, CL_TRUE, 0, sizeof out, out, 0, NULL, NULL) == CL_SUCCESS);
        for (int i = 0; i < N_KATS; i++)
            for (int w = 0; w < 4; w++)
                CHECK_MSG(out[4 * i + w] == kats[i].out[w], "device vector %d word %d: %08x, expected %08x",
                          i, w, out[4 * i + w], kats[i].out[w]);
        clReleaseKernel(k);
        clReleaseMemObject(bin);
        clReleaseMemObject(bout);
    }
    clReleaseProgram(prog);
    clReleaseCommandQueue(q);
    clReleaseContext(cl);
}

int main(void)
{
    test_host();
    test_ops();
    test_device();
    return check_done();
}
