/* Runtime layer: device listing and selection, buffers and their pool,
 * program building with the in-memory and on-disk caches. */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "runtime/runtime.h"

static const char *ADD_SRC =
    "__kernel void add(__global const float *a, __global const float *b,\n"
    "                  __global float *c, uint n)\n"
    "{\n"
    "    uint i = get_global_id(0);\n"
    "    if (i < n)\n"
    "        c[i] = SCALE * (a[i] + b[i]);\n"
    "}\n";

static rt_device *devs;
static size_t ndevs;

static void test_listing(void)
{
    damo_err e;
    err_clear(&e);
    CHECK_INT(rt_list_devices(&devs, &ndevs, &e), DAMO_OK);
    CHECK(ndevs >= 1);
    for (size_t i = 0; i < ndevs; i++) {
        CHECK(devs[i].name[0] != '\0');
        CHECK(devs[i].max_work_group >= 1);
        CHECK(devs[i].global_mem > 0);
    }

    rt_device *fake;
    size_t nfake;
    setenv("DAMO_FAKE_NO_FP64", "1", 1);
    CHECK_INT(rt_list_devices(&fake, &nfake, &e), DAMO_OK);
    unsetenv("DAMO_FAKE_NO_FP64");
    CHECK_INT(nfake, ndevs);
    for (size_t i = 0; i < nfake; i++)
        CHECK_INT(fake[i].fp64, 0);
    free(fake);
}

static int has_type(cl_device_type t)
{
    for (size_t i = 0; i < ndevs; i++)
        if (devs[i].type & t)
            return 1;
    return 0;
}

static void test_selection(void)
{
    damo_err e;
    err_clear(&e);
    size_t pick = 99;
    char why[256];

    unsetenv("DAMO_DEVICE");
    CHECK_INT(rt_select_device(devs, ndevs, NULL, &pick, why, sizeof why, &e), DAMO_OK);
    CHECK(pick < ndevs);
    CHECK_STR_HAS(why, "default");
    if (!has_type(CL_DEVICE_TYPE_GPU) && has_type(CL_DEVICE_TYPE_CPU)) {
        CHECK(devs[pick].type & CL_DEVICE_TYPE_CPU);
        CHECK_STR_HAS(why, "no GPU, first CPU");
    }

    if (has_type(CL_DEVICE_TYPE_CPU)) {
        CHECK_INT(rt_select_device(devs, ndevs, "CPU", &pick, why, sizeof why, &e), DAMO_OK);
        CHECK(devs[pick].type & CL_DEVICE_TYPE_CPU);
        setenv("DAMO_DEVICE", "cpu", 1);
        CHECK_INT(rt_select_device(devs, ndevs, "", &pick, why, sizeof why, &e), DAMO_OK);
        CHECK(devs[pick].type & CL_DEVICE_TYPE_CPU);
        CHECK(strcmp(why, "DAMO_DEVICE=cpu") == 0);
        unsetenv("DAMO_DEVICE");
    }

    CHECK_INT(rt_select_device(devs, ndevs, "0:0", &pick, why, sizeof why, &e), DAMO_OK);
    CHECK_INT(devs[pick].platform_index, 0);
    CHECK_INT(devs[pick].device_index, 0);

    /* a mid-name substring in upper case: matching ignores case */
    const rt_device *last = &devs[ndevs - 1];
    char sub[8] = "";
    size_t len = strlen(last->name), from = len > 6 ? len / 2 - 3 : 0;
    for (size_t i = 0; i < 6 && from + i < len; i++)
        sub[i] = (char)toupper((unsigned char)last->name[from + i]);
    CHECK_INT(rt_select_device(devs, ndevs, sub, &pick, why, sizeof why, &e), DAMO_OK);
    CHECK_STR_HAS(devs[pick].name, last->name + from);
    CHECK_STR_HAS(why, sub);

    const char *bad[] = {"9:9", "nosuchdevice", "0:", "-1:0", has_type(CL_DEVICE_TYPE_GPU) ? NULL : "gpu"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0] && bad[i]; i++) {
        err_clear(&e);
        CHECK_INT(rt_select_device(devs, ndevs, bad[i], &pick, why, sizeof why, &e),
                  DAMO_ERR_NO_DEVICE);
        CHECK_INT(e.code, DAMO_ERR_NO_DEVICE);
        CHECK_STR_HAS(e.msg, bad[i]);
        CHECK_STR_HAS(e.msg, devs[0].name);
        CHECK_STR_HAS(e.msg, "0:0 ");
    }
    setenv("DAMO_DEVICE", "nosuchdevice", 1);
    CHECK_INT(rt_select_device(devs, ndevs, NULL, &pick, why, sizeof why, &e), DAMO_ERR_NO_DEVICE);
    CHECK_STR_HAS(e.msg, "DAMO_DEVICE 'nosuchdevice'");
    unsetenv("DAMO_DEVICE");
}

static rt_device *default_device(void)
{
    size_t pick = 0;
    rt_select_device(devs, ndevs, NULL, &pick, NULL, 0, NULL);
    return &devs[pick];
}


/* An upload whose source may change as soon as it returns. */
static damo_status put(rt_ctx *rt, rt_buf *b, size_t off, size_t size, const void *src, damo_err *e)
{
    cl_event pending;
    damo_status st = rt_upload(rt, b, off, size, src, &pending, e);
    if (st == DAMO_OK && pending)
        st = rt_event_wait(rt, pending, e);
    return st;
}

static void test_buffers(rt_ctx *rt)
{
    damo_err e;
    err_clear(&e);
    double src[100], dst[100], mid[100];
    for (int i = 0; i < 100; i++)
        src[i] = i * 0.5 - 7;
    rt_buf *a = rt_buf_alloc(rt, sizeof src, &e), *b = rt_buf_alloc(rt, sizeof src, &e);
    CHECK(a && b);
    CHECK_INT(rt_buf_size(a), sizeof src);
    CHECK_INT(put(rt, a, 0, sizeof src, src, &e), DAMO_OK);
    CHECK_INT(rt_buf_read(rt, a, 0, sizeof dst, dst, &e), DAMO_OK);
    CHECK(memcmp(src, dst, sizeof src) == 0);

    /* copy 10 doubles from a[5..15) to b[20..30) */
    memset(mid, 0, sizeof mid);
    CHECK_INT(put(rt, b, 0, sizeof mid, mid, &e), DAMO_OK);
    CHECK_INT(rt_buf_copy(rt, a, 5 * sizeof(double), b, 20 * sizeof(double), 10 * sizeof(double), &e),
              DAMO_OK);
    CHECK_INT(rt_buf_read(rt, b, 0, sizeof dst, dst, &e), DAMO_OK);
    CHECK(dst[19] == 0 && dst[20] == src[5] && dst[29] == src[14] && dst[30] == 0);

    CHECK_INT(put(rt, a, 8, sizeof src, src, &e), DAMO_ERR_INVALID);
    CHECK_STR_HAS(e.msg, "outside a buffer of 800 bytes");
    CHECK_INT(rt_buf_copy(rt, a, 0, b, 1, sizeof src, &e), DAMO_ERR_INVALID);

    rt_buf *z = rt_buf_alloc(rt, 0, &e);
    CHECK(z != NULL);
    if (z) {
        CHECK_INT(rt_buf_size(z), 0);
        CHECK_INT(put(rt, z, 0, 0, src, &e), DAMO_OK);
        CHECK_INT(rt_buf_read(rt, z, 0, 0, dst, &e), DAMO_OK);
        CHECK_INT(rt_buf_copy(rt, z, 0, a, 0, 0, &e), DAMO_OK);
    }

    CHECK_INT(rt_buf_refcount(a), 1);
    CHECK(rt_buf_retain(a) == a);
    CHECK_INT(rt_buf_refcount(a), 2);
    rt_buf_release(a);
    CHECK_INT(rt_buf_refcount(a), 1);

    /* pool: the same size reuses the released cl_mem; so does a request
     * at least half its size; a much smaller one does not */
    cl_mem ma = rt_buf_mem(a);
    rt_buf_release(a);
    rt_buf *c = rt_buf_alloc(rt, sizeof src, &e);
    CHECK(c && rt_buf_mem(c) == ma);
    rt_buf_release(c);
    c = rt_buf_alloc(rt, sizeof src / 2 + 8, &e);
    CHECK(c && rt_buf_mem(c) == ma);
    CHECK_INT(rt_buf_size(c), sizeof src / 2 + 8);
    rt_buf *small = rt_buf_alloc(rt, 16, &e);
    CHECK(small && rt_buf_mem(small) != ma);
    rt_buf_release(c);
    rt_buf_release(small);
    rt_buf_release(b);
    rt_buf_release(z);

    /* the pool keeps at most 256 MiB: of three released 100 MiB buffers
     * the least recently released is freed, the other two are reused */
    size_t big = (size_t)100 << 20;
    if (rt->dev.max_alloc >= big) {
        rt_buf *x = rt_buf_alloc(rt, big, &e), *y = rt_buf_alloc(rt, big, &e),
               *w = rt_buf_alloc(rt, big, &e);
        CHECK(x && y && w);
        cl_mem my = rt_buf_mem(y), mw = rt_buf_mem(w);
        rt_buf_release(x);
        rt_buf_release(y);
        rt_buf_release(w);
        x = rt_buf_alloc(rt, big, &e);
        y = rt_buf_alloc(rt, big, &e);
        w = rt_buf_alloc(rt, big, &e);
        CHECK(x && rt_buf_mem(x) == mw);
        CHECK(y && rt_buf_mem(y) == my);
        CHECK(w && rt_buf_mem(w) != mw && rt_buf_mem(w) != my);
        rt_buf_release(x);
        rt_buf_release(y);
        rt_buf_release(w);
    }

    CHECK(rt_buf_alloc(rt, (size_t)rt->dev.max_alloc + 1, &e) == NULL);
    CHECK_INT(e.code, DAMO_ERR_DEVICE);
    CHECK_STR_HAS(e.msg, "largest allocation");
}

/* Builds ADD_SRC, runs it on n elements and checks c = scale * (a + b). */
static void run_add(rt_ctx *rt, const char *options, float scale, size_t n, size_t local)
{
    damo_err e;
    err_clear(&e);
    cl_program prog;
    cl_kernel k = NULL;
    CHECK_INT(rt_program_get(rt, ADD_SRC, options, &prog, &e), DAMO_OK);
    if (e.code != DAMO_OK) {
        fprintf(stderr, "    %s\n", e.msg);
        return;
    }
    CHECK_INT(rt_kernel_create(rt, prog, "add", &k, &e), DAMO_OK);
    float *ha = malloc(n * sizeof *ha), *hb = malloc(n * sizeof *hb), *hc = malloc(n * sizeof *hc);
    for (size_t i = 0; i < n; i++) {
        ha[i] = (float)i;
        hb[i] = 0.25f * (float)i - 3;
    }
    rt_buf *a = rt_buf_alloc(rt, n * sizeof(float), &e), *b = rt_buf_alloc(rt, n * sizeof(float), &e),
           *c = rt_buf_alloc(rt, n * sizeof(float), &e);
    cl_mem ma = rt_buf_mem(a), mb = rt_buf_mem(b), mc = rt_buf_mem(c);
    cl_uint un = (cl_uint)n;
    CHECK_INT(put(rt, a, 0, n * sizeof(float), ha, &e), DAMO_OK);
    CHECK_INT(put(rt, b, 0, n * sizeof(float), hb, &e), DAMO_OK);
    CHECK(clSetKernelArg(k, 0, sizeof ma, &ma) == CL_SUCCESS);
    CHECK(clSetKernelArg(k, 1, sizeof mb, &mb) == CL_SUCCESS);
    CHECK(clSetKernelArg(k, 2, sizeof mc, &mc) == CL_SUCCESS);
    CHECK(clSetKernelArg(k, 3, sizeof un, &un) == CL_SUCCESS);
    CHECK_INT(rt_launch(rt, k, n, local, &e), DAMO_OK);
    CHECK_INT(rt_buf_read(rt, c, 0, n * sizeof(float), hc, &e), DAMO_OK);
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += hc[i] != scale * (1.25f * (float)i - 3);
    CHECK_INT(bad, 0);
    rt_buf_release(a);
    rt_buf_release(b);
    rt_buf_release(c);
    free(ha);
    free(hb);
    free(hc);
    clReleaseKernel(k);
}

static void test_programs(rt_ctx *rt)
{
    damo_err e;
    err_clear(&e);
    run_add(rt, "-DSCALE=1", 1, 1000, 64); /* 960 in groups, 40 at an offset */
    CHECK_INT(rt->builds, 1);
    CHECK_INT(rt->memory_hits, 0);
    run_add(rt, "-DSCALE=1", 1, 17, 64); /* fewer than a group: all at offset 0 */
    CHECK_INT(rt->memory_hits, 1);
    CHECK_INT(rt->builds, 1);
    run_add(rt, "-DSCALE=2 -cl-std=CL1.2", 2, 100, 25); /* other options, other program */
    CHECK_INT(rt->builds, 2);
    CHECK_INT(rt_finish(rt, &e), DAMO_OK);

    cl_program prog;
    cl_kernel k;
    CHECK_INT(rt_program_get(rt, ADD_SRC, "-DSCALE=1", &prog, &e), DAMO_OK);
    CHECK_INT(rt_kernel_create(rt, prog, "no_such_kernel", &k, &e), DAMO_ERR_NAME);
    CHECK_STR_HAS(e.msg, "no_such_kernel");
    CHECK_INT(rt_kernel_create(rt, prog, "add", &k, &e), DAMO_OK);
    CHECK_INT(rt_launch(rt, k, 0, 64, &e), DAMO_OK);
    clReleaseKernel(k);

    const char *broken = "__kernel void f(__global float *x) { x[0] = undeclared_thing_xyz; }\n";
    CHECK_INT(rt_program_get(rt, broken, NULL, &prog, &e), DAMO_ERR_BUILD);
    CHECK_INT(e.code, DAMO_ERR_BUILD);
    CHECK_STR_HAS(e.msg, "undeclared_thing_xyz");
    CHECK_STR_HAS(e.msg, rt->dev.name);
    CHECK_STR_HAS(e.msg, "CL_BUILD_PROGRAM_FAILURE");
}

/* The one cache file in dir (path into out), or 0. */
static int cache_file(const char *dir, char *out, size_t size)
{
    DIR *d = opendir(dir);
    struct dirent *ent;
    int found = 0;
    while (d && (ent = readdir(d)))
        if (ent->d_name[0] != '.') {
            snprintf(out, size, "%s/%s", dir, ent->d_name);
            found++;
        }
    if (d)
        closedir(d);
    return found == 1;
}

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *ent;
    char path[1024];
    while (d && (ent = readdir(d)))
        if (ent->d_name[0] != '.') {
            snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
            remove(path);
        }
    if (d)
        closedir(d);
    rmdir(dir);
}

/* A fresh context runs the kernel; returns its counters. */
static void fresh_ctx_run(const rt_device *dev, uint64_t *disk_hits, uint64_t *builds)
{
    rt_ctx rt;
    damo_err e;
    err_clear(&e);
    CHECK_INT(rt_ctx_init(&rt, dev, &e), DAMO_OK);
    run_add(&rt, "-DSCALE=3", 3, 50, 0);
    *disk_hits = rt.disk_hits;
    *builds = rt.builds;
    rt_ctx_release(&rt);
}

static void overwrite(const char *path, long at, const char *bytes, size_t n)
{
    FILE *f = fopen(path, "r+b");
    CHECK(f != NULL);
    if (f) {
        fseek(f, at, SEEK_SET);
        fwrite(bytes, 1, n, f);
        fclose(f);
    }
}

static void test_disk_cache(const rt_device *dev)
{
    char dir[] = "/tmp/damo-test-cache-XXXXXX", file[1024];
    CHECK(mkdtemp(dir) != NULL);
    setenv("DAMO_CACHE_DIR", dir, 1);
    uint64_t hits, builds;

    fresh_ctx_run(dev, &hits, &builds);
    CHECK_INT(hits, 0);
    CHECK_INT(builds, 1);
    CHECK(cache_file(dir, file, sizeof file));
    fresh_ctx_run(dev, &hits, &builds);
    CHECK_INT(hits, 1);
    CHECK_INT(builds, 0);

    /* flipped bytes inside the binary (the entry's end): the checksum
     * catches them */
    struct stat sb;
    CHECK(stat(file, &sb) == 0 && sb.st_size > 64);
    overwrite(file, (long)sb.st_size - 16, "\xde\xad\xbe\xef", 4);
    fresh_ctx_run(dev, &hits, &builds);
    CHECK_INT(hits, 0);
    CHECK_INT(builds, 1);
    fresh_ctx_run(dev, &hits, &builds); /* the rebuild overwrote the entry */
    CHECK_INT(hits, 1);
    CHECK_INT(builds, 0);

    CHECK(truncate(file, 200) == 0);
    fresh_ctx_run(dev, &hits, &builds);
    CHECK_INT(builds, 1);

    overwrite(file, 0, "DAMOBIN2", 8); /* foreign format */
    fresh_ctx_run(dev, &hits, &builds);
    CHECK_INT(builds, 1);

    CHECK(truncate(file, 0) == 0);
    fresh_ctx_run(dev, &hits, &builds);
    CHECK_INT(builds, 1);
    CHECK(cache_file(dir, file, sizeof file)); /* no temporary left behind */
    remove_dir(dir);

    /* an unusable directory only disables the disk cache */
    setenv("DAMO_CACHE_DIR", "/dev/null/damo", 1);
    fresh_ctx_run(dev, &hits, &builds);
    CHECK_INT(builds, 1);
}

int main(void)
{
    char dir[] = "/tmp/damo-test-cache-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    setenv("DAMO_CACHE_DIR", dir, 1);

    test_listing();
    if (ndevs == 0)
        return check_done();
    test_selection();

    rt_ctx rt;
    damo_err e;
    err_clear(&e);
    const rt_device *dev = default_device();
    CHECK_INT(rt_ctx_init(&rt, dev, &e), DAMO_OK);
    CHECK(rt.context && rt.queue);
    test_buffers(&rt);
    test_programs(&rt);
    rt_ctx_release(&rt);
    remove_dir(dir);

    test_disk_cache(dev);
    free(devs);
    return check_done();
}
