/* Runtime layer: device selection, buffers and the pool, program building
 * with the memory and disk caches (including corrupt entries), build logs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "runtime/runtime.h"

static void test_select(const rt_device *d, size_t n)
{
    damo_err e;
    err_clear(&e);
    size_t pick = 99;
    char why[256];
    CHECK(rt_select_device(d, n, "cpu", &pick, why, sizeof why, &e) == DAMO_OK && pick < n);
    CHECK_STR_HAS(why, "cpu");
    CHECK(rt_select_device(d, n, "0:0", &pick, NULL, 0, &e) == DAMO_OK && pick == 0);
    char part[8];
    snprintf(part, sizeof part, "%.5s", d[0].name + 2);
    CHECK(rt_select_device(d, n, part, &pick, NULL, 0, &e) == DAMO_OK);
    unsetenv("DAMO_DEVICE");
    CHECK(rt_select_device(d, n, NULL, &pick, why, sizeof why, &e) == DAMO_OK);
    CHECK_STR_HAS(why, "default");
    const char *bad[] = {"9:9", "nosuchdevice"};
    for (int i = 0; i < 2; i++) {
        CHECK(rt_select_device(d, n, bad[i], &pick, NULL, 0, &e) == DAMO_ERR_NO_DEVICE);
        CHECK_STR_HAS(e.msg, bad[i]);
        CHECK_STR_HAS(e.msg, d[0].name);
    }
    int have_gpu = 0;
    for (size_t i = 0; i < n; i++)
        have_gpu |= d[i].is_gpu;
    if (!have_gpu)
        CHECK(rt_select_device(d, n, "gpu", &pick, NULL, 0, &e) == DAMO_ERR_NO_DEVICE);
}

static void test_buffers(rt_ctx *rt)
{
    damo_err e;
    err_clear(&e);
    const double in[4] = {1, 2, 3, 4};
    double out[4] = {0};
    rt_buf *a = rt_buf_alloc(rt, sizeof in, &e), *b = rt_buf_alloc(rt, sizeof in, &e);
    CHECK(a && b);
    CHECK(rt_buf_write(rt, a, 0, sizeof in, in, 1, &e) == DAMO_OK);
    CHECK(rt_buf_copy(rt, a, 8, b, 0, 24, &e) == DAMO_OK);
    CHECK(rt_buf_read(rt, b, 0, 24, out, &e) == DAMO_OK);
    CHECK(out[0] == 2 && out[1] == 3 && out[2] == 4);
    cl_mem m = rt_buf_mem(a);
    rt_buf_release(a);
    rt_buf *c = rt_buf_alloc(rt, 20, &e);
    CHECK(c && rt_buf_mem(c) == m); /* the pool hands the released buffer back */
    rt_buf_release(b);
    rt_buf_release(c);
}

static const char *good = "__kernel void k(__global float *x) { x[get_global_id(0)] *= 2.0f; }";

static void test_programs(const rt_device *dev, const char *dir)
{
    damo_err e;
    err_clear(&e);
    rt_ctx a, b, c;
    cl_program p;
    CHECK(rt_ctx_init(&a, dev, &e) == DAMO_OK);
    CHECK(rt_program_get(&a, good, "", &p, &e) == DAMO_OK);
    CHECK(rt_program_get(&a, good, "", &p, &e) == DAMO_OK);
    CHECK(a.builds == 1 && a.memory_hits == 1);
    cl_kernel k;
    CHECK(rt_kernel_create(&a, p, "k", &k, &e) == DAMO_OK);
    float v[3] = {1, 2, 3};
    rt_buf *buf = rt_buf_alloc(&a, sizeof v, &e);
    cl_mem m = rt_buf_mem(buf);
    rt_buf_write(&a, buf, 0, sizeof v, v, 0, &e);
    clSetKernelArg(k, 0, sizeof m, &m);
    CHECK(rt_launch(&a, k, 3, 0, &e) == DAMO_OK);
    CHECK(rt_buf_read(&a, buf, 0, sizeof v, v, &e) == DAMO_OK);
    CHECK(v[0] == 2 && v[1] == 4 && v[2] == 6);
    clReleaseKernel(k);
    rt_buf_release(buf);
    rt_ctx_release(&a);

    /* a new context loads the binary from disk */
    CHECK(rt_ctx_init(&b, dev, &e) == DAMO_OK);
    CHECK(rt_program_get(&b, good, "", &p, &e) == DAMO_OK);
    CHECK(b.disk_hits == 1 && b.builds == 0);
    rt_ctx_release(&b);

    /* a corrupt cache file is ignored and rebuilt */
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "for f in %s/*.bin; do printf garbage | dd of=$f bs=1 seek=40 conv=notrunc 2>/dev/null; done", dir);
    CHECK(system(cmd) == 0);
    CHECK(rt_ctx_init(&c, dev, &e) == DAMO_OK);
    CHECK(rt_program_get(&c, good, "", &p, &e) == DAMO_OK);
    CHECK(c.disk_hits == 0 && c.builds == 1);

    /* a build failure carries the build log */
    CHECK(rt_program_get(&c, "__kernel void k(__global float *x) { x[0] = undefined_thing; }", "",
                          &p, &e) == DAMO_ERR_BUILD);
    CHECK_STR_HAS(e.msg, "undefined_thing");
    CHECK_STR_HAS(e.msg, dev->name);
    rt_ctx_release(&c);
}

int main(void)
{
    damo_err e;
    err_clear(&e);
    rt_device *devs;
    size_t n;
    CHECK(rt_list_devices(&devs, &n, &e) == DAMO_OK && n >= 1);
    if (n == 0)
        return check_done();
    test_select(devs, n);

    setenv("DAMO_FAKE_NO_FP64", "1", 1);
    rt_device *nofp;
    size_t n2;
    CHECK(rt_list_devices(&nofp, &n2, &e) == DAMO_OK && n2 == n && !nofp[0].fp64);
    free(nofp);
    unsetenv("DAMO_FAKE_NO_FP64");

    char dir[] = "/tmp/damo_cache_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    setenv("DAMO_CACHE_DIR", dir, 1);
    rt_ctx rt;
    CHECK(rt_ctx_init(&rt, &devs[0], &e) == DAMO_OK);
    test_buffers(&rt);
    rt_ctx_release(&rt);
    test_programs(&devs[0], dir);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
    free(devs);
    return check_done();
}
