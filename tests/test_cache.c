/* The disk kernel cache against what someone else may have left in it: an
 * entry copied from another kernel, a symlink, a FIFO, and cache directories
 * that others can write to or that are not ours. Each case gets its own
 * directory; the kernels are real and their results are checked, since a
 * wrong entry shows up as wrong numbers. */
#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "runtime/runtime.h"

/* Both kernels are named f, so an entry of one would run for the other. */
static const char *NEG_SRC = "__kernel void f(__global float *x)\n"
                             "{\n"
                             "    size_t i = get_global_id(0);\n"
                             "    x[i] = -x[i];\n"
                             "}\n";
static const char *EXP_SRC = "__kernel void f(__global float *x)\n"
                             "{\n"
                             "    size_t i = get_global_id(0);\n"
                             "    x[i] = exp(x[i]);\n"
                             "}\n";

static float neg_ref(float x) { return -x; }
static float exp_ref(float x) { return expf(x); }

static const rt_device *dev;

typedef struct run_result {
    uint64_t hits, builds;
    char info[1024];
} run_result;

/* A fresh context under the current DAMO_CACHE_DIR: records rt_cache_info
 * before anything is built, then runs src's f on a few values and checks
 * them against ref. */
static void fresh_run(const char *src, float (*ref)(float), run_result *r)
{
    static const float in[8] = {-2, -1, -0.5f, 0, 0.5f, 1, 2, 3};
    float out[8];
    rt_ctx rt;
    damo_err e;
    err_clear(&e);
    memset(r, 0, sizeof *r);
    if (!CHECK(rt_ctx_init(&rt, dev, &e) == DAMO_OK))
        return;
    snprintf(r->info, sizeof r->info, "%s", rt_cache_info(&rt));
    cl_program prog;
    cl_kernel k = NULL;
    rt_buf *b = NULL;
    int ok = CHECK(rt_program_get(&rt, src, NULL, &prog, &e) == DAMO_OK) &&
             CHECK(rt_kernel_create(&rt, prog, "f", &k, &e) == DAMO_OK) &&
             CHECK((b = rt_buf_alloc(&rt, sizeof in, &e)) != NULL);
    if (ok) {
        cl_mem m = rt_buf_mem(b);
        cl_event pending;
        CHECK(rt_upload(&rt, b, 0, sizeof in, in, &pending, &e) == DAMO_OK && !pending);
        CHECK(clSetKernelArg(k, 0, sizeof m, &m) == CL_SUCCESS);
        CHECK(rt_launch(&rt, k, 8, 8, &e) == DAMO_OK);
        CHECK(rt_buf_read(&rt, b, 0, sizeof out, out, &e) == DAMO_OK);
        for (int i = 0; i < 8; i++)
            CHECK_CLOSE(out[i], ref(in[i]), 1e-5, 1e-6);
    } else {
        fprintf(stderr, "    %s\n", e.msg);
    }
    rt_buf_release(b);
    if (k)
        clReleaseKernel(k);
    r->hits = rt.disk_hits;
    r->builds = rt.builds;
    rt_ctx_release(&rt);
}

static void new_dir(char *out, size_t size)
{
    const char *base = getenv("TMPDIR");
    snprintf(out, size, "%s/damo-test-cache-XXXXXX", base && *base ? base : "/tmp");
    CHECK(mkdtemp(out) != NULL);
}

/* Names in dir other than . and ..; the last one into name (if not NULL). */
static int count_entries(const char *dir, char *name, size_t size)
{
    DIR *d = opendir(dir);
    struct dirent *ent;
    int n = 0;
    while (d && (ent = readdir(d)))
        if (strcmp(ent->d_name, ".") != 0 && strcmp(ent->d_name, "..") != 0) {
            if (name)
                snprintf(name, size, "%s", ent->d_name);
            n++;
        }
    if (d)
        closedir(d);
    return n;
}

/* rm -r without following symlinks. */
static void remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    DIR *d = S_ISDIR(st.st_mode) ? opendir(path) : NULL;
    struct dirent *ent;
    char sub[1024];
    while (d && (ent = readdir(d)))
        if (strcmp(ent->d_name, ".") != 0 && strcmp(ent->d_name, "..") != 0) {
            snprintf(sub, sizeof sub, "%s/%s", path, ent->d_name);
            remove_tree(sub);
        }
    if (d)
        closedir(d);
    CHECK(remove(path) == 0);
}

/* Whole file into a malloc'ed buffer; NULL if it cannot be read. */
static unsigned char *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    unsigned char *buf = NULL;
    long n = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) &&
        fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *size = buf ? (size_t)n : 0;
    return buf;
}

/* Builds src in a new directory (into dir); its one entry's path into file. */
static void cached_entry(const char *src, float (*ref)(float), char *dir, size_t dsize,
                         char *file, size_t fsize)
{
    char name[512] = "";
    run_result r;
    new_dir(dir, dsize);
    setenv("DAMO_CACHE_DIR", dir, 1);
    fresh_run(src, ref, &r);
    CHECK_INT(r.builds, 1);
    CHECK_INT(count_entries(dir, name, sizeof name), 1);
    snprintf(file, fsize, "%s/%s", dir, name);
}

/* An entry's key is the hex number its file name starts with. */
static uint64_t key_of(const char *file)
{
    const char *slash = strrchr(file, '/');
    return strtoull(slash ? slash + 1 : file, NULL, 16);
}

/* neg's entry planted under exp's name, made self-consistent by writing
 * exp's key wherever neg's appears in it: exp must still compute exp. */
static void test_planted_entry(void)
{
    char neg_dir[512], neg_file[1024], exp_dir[512], exp_file[1024];
    cached_entry(NEG_SRC, neg_ref, neg_dir, sizeof neg_dir, neg_file, sizeof neg_file);
    cached_entry(EXP_SRC, exp_ref, exp_dir, sizeof exp_dir, exp_file, sizeof exp_file);
    size_t n = 0;
    unsigned char *bytes = slurp(neg_file, &n);
    if (!CHECK(bytes != NULL))
        return;
    uint64_t from = key_of(neg_file), to = key_of(exp_file);
    for (size_t i = 0; i + sizeof from <= n; i++)
        if (memcmp(bytes + i, &from, sizeof from) == 0)
            memcpy(bytes + i, &to, sizeof to);
    FILE *f = fopen(exp_file, "wb");
    CHECK(f && fwrite(bytes, 1, n, f) == n);
    if (f)
        fclose(f);
    free(bytes);

    run_result r;
    fresh_run(EXP_SRC, exp_ref, &r);
    CHECK_INT(r.hits, 0);
    CHECK_INT(r.builds, 1);
    fresh_run(EXP_SRC, exp_ref, &r); /* the rebuild replaced the planted entry */
    CHECK_INT(r.hits, 1);
    CHECK_INT(r.builds, 0);
    remove_tree(neg_dir);
    remove_tree(exp_dir);
}

/* A symlink under an entry's name, pointing at a valid entry elsewhere: not
 * followed, and replaced by a file of its own (the target left alone). */
static void test_symlink_entry(void)
{
    char real_dir[512], real_file[1024], dir[512], link[1024];
    cached_entry(EXP_SRC, exp_ref, real_dir, sizeof real_dir, real_file, sizeof real_file);
    size_t n0 = 0, n1 = 0;
    unsigned char *before = slurp(real_file, &n0);
    new_dir(dir, sizeof dir);
    snprintf(link, sizeof link, "%s%s", dir, strrchr(real_file, '/'));
    CHECK(symlink(real_file, link) == 0);
    setenv("DAMO_CACHE_DIR", dir, 1);

    run_result r;
    fresh_run(EXP_SRC, exp_ref, &r);
    CHECK_INT(r.hits, 0);
    CHECK_INT(r.builds, 1);
    struct stat st;
    CHECK(lstat(link, &st) == 0 && S_ISREG(st.st_mode));
    unsigned char *after = slurp(real_file, &n1);
    CHECK(before && after && n0 == n1 && memcmp(before, after, n0) == 0);
    free(before);
    free(after);
    remove_tree(real_dir);
    remove_tree(dir);
}

static void on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "test_cache: timed out (a cache entry blocked the reader)\n";
    if (write(STDERR_FILENO, msg, sizeof msg - 1) < 0)
        _exit(2);
    _exit(1);
}

/* A FIFO under an entry's name: opening it for reading would wait for a
 * writer forever, so the alarm turns a hang into a failure. */
static void test_fifo_entry(void)
{
    char dir[512], file[1024];
    cached_entry(EXP_SRC, exp_ref, dir, sizeof dir, file, sizeof file);
    CHECK(remove(file) == 0);
    CHECK(mkfifo(file, 0600) == 0);
    signal(SIGALRM, on_alarm);
    alarm(60);
    run_result r;
    fresh_run(EXP_SRC, exp_ref, &r);
    alarm(0);
    CHECK_INT(r.hits, 0);
    CHECK_INT(r.builds, 1);
    struct stat st;
    CHECK(lstat(file, &st) == 0 && S_ISREG(st.st_mode));
    remove_tree(dir);
}

/* The cache is off with the reason naming dir, and nothing lands there. */
static void expect_refused(const char *dir, const char *words)
{
    setenv("DAMO_CACHE_DIR", dir, 1);
    run_result r;
    fresh_run(EXP_SRC, exp_ref, &r);
    CHECK_STR_HAS(r.info, "disk cache off: ");
    CHECK_STR_HAS(r.info, dir);
    CHECK_STR_HAS(r.info, words);
    CHECK_INT(r.builds, 1);
    fresh_run(EXP_SRC, exp_ref, &r);
    CHECK_INT(r.builds, 1);
}

static void test_refused_dirs(void)
{
    static const struct {
        mode_t mode;
        const char *words;
    } modes[] = {{0777, "writable by others"}, {0703, "writable by others"},
                 {0730, "writable by its group"}};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        char dir[512];
        new_dir(dir, sizeof dir);
        CHECK(chmod(dir, modes[i].mode) == 0);
        expect_refused(dir, modes[i].words);
        CHECK_INT(count_entries(dir, NULL, 0), 0);
        remove_tree(dir);
    }

    char dir[512], file[1024];
    new_dir(dir, sizeof dir);
    snprintf(file, sizeof file, "%s/file", dir);
    FILE *f = fopen(file, "w");
    CHECK(f != NULL);
    if (f)
        fclose(f);
    expect_refused(file, "not a directory");

    /* someone else's directory: root can make one, others have "/" */
    if (geteuid() == 0) {
        char theirs[1024];
        snprintf(theirs, sizeof theirs, "%s/theirs", dir);
        CHECK(mkdir(theirs, 0755) == 0);
        CHECK(chown(theirs, 65534, 65534) == 0);
        expect_refused(theirs, "owned by uid 65534");
        CHECK_INT(count_entries(theirs, NULL, 0), 0);
    } else {
        expect_refused("/", "owned by uid");
    }
    remove_tree(dir);
}

/* Missing directories are made 0700, entries 0600, and the line says where
 * the cache is. */
static void test_created_modes(void)
{
    char dir[512], sub[1024], cache[1024], name[512] = "", entry[2048];
    new_dir(dir, sizeof dir);
    snprintf(sub, sizeof sub, "%s/a", dir);
    snprintf(cache, sizeof cache, "%s/a/b", dir);
    setenv("DAMO_CACHE_DIR", cache, 1);
    run_result r;
    fresh_run(EXP_SRC, exp_ref, &r);
    CHECK_INT(r.builds, 1);
    char want[1100];
    snprintf(want, sizeof want, "disk cache: %s", cache);
    CHECK_MSG(strcmp(r.info, want) == 0, "info \"%s\"", r.info);
    struct stat st;
    CHECK(stat(sub, &st) == 0 && (st.st_mode & 0777) == 0700);
    CHECK(stat(cache, &st) == 0 && (st.st_mode & 0777) == 0700);
    CHECK_INT(count_entries(cache, name, sizeof name), 1);
    snprintf(entry, sizeof entry, "%s/%s", cache, name);
    CHECK(stat(entry, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0777) == 0600);
    fresh_run(EXP_SRC, exp_ref, &r);
    CHECK_INT(r.hits, 1);
    CHECK_INT(r.builds, 0);
    remove_tree(dir);
}

int main(void)
{
    rt_device *devs = NULL;
    size_t ndevs = 0, pick = 0;
    damo_err e;
    err_clear(&e);
    CHECK_INT(rt_list_devices(&devs, &ndevs, &e), DAMO_OK);
    if (ndevs == 0)
        return check_done();
    CHECK_INT(rt_select_device(devs, ndevs, NULL, &pick, NULL, 0, &e), DAMO_OK);
    dev = &devs[pick];
    umask(022);

    test_planted_entry();
    test_symlink_entry();
    test_fifo_entry();
    test_refused_dirs();
    test_created_modes();
    free(devs);
    return check_done();
}
