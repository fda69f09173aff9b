/* Program building with two caches: built programs in memory (per
 * context), and program binaries on disk keyed by everything that could
 * change the binary (a build costs ~0.5 s on PoCL, a saved binary ~3 ms).
 *
 * A disk entry is <key>.bin in the cache directory:
 *   "DAMOBIN1" | key u64 | binary length u64 | FNV-1a of the binary u64 | binary
 * (native byte order; a foreign machine's file fails the key check). Any
 * mismatch, a short or long file, or a binary the driver refuses means a
 * rebuild that overwrites the entry: a cache file is never trusted blindly.
 * Writes go to a temporary file renamed into place, so a reader never sees
 * half a file even with several processes sharing the directory.
 *
 * Build options are passed through untouched; without -cl-std a device
 * compiles OpenCL C 1.x (the highest it has), which is what damo emits. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/hash.h"
#include "../common/strbuf.h"
#include "runtime.h"

#define HEADER_BYTES 32

typedef struct prog_entry {
    uint64_t key;
    char *source, *options;
    cl_program prog;
    struct prog_entry *next;
} prog_entry;

struct rt_prog_cache {
    prog_entry *head;
    uint64_t device_hash;  /* everything in the disk key but the program */
    char *dir;             /* NULL: no usable cache directory */
};

static const char MAGIC[8] = {'D', 'A', 'M', 'O', 'B', 'I', 'N', '1'};

void rt_progs_release(rt_ctx *rt)
{
    if (!rt->progs)
        return;
    for (prog_entry *p = rt->progs->head, *next; p; p = next) {
        next = p->next;
        clReleaseProgram(p->prog);
        free(p->source);
        free(p->options);
        free(p);
    }
    free(rt->progs->dir);
    free(rt->progs);
    rt->progs = NULL;
}

/* mkdir -p; 0 on failure. */
static int make_dirs(char *path)
{
    for (char *p = path + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            int ok = mkdir(path, 0700) == 0 || errno == EEXIST;
            *p = '/';
            if (!ok)
                return 0;
        }
    return mkdir(path, 0700) == 0 || errno == EEXIST;
}

/* DAMO_CACHE_DIR, else $XDG_CACHE_HOME/damo, else $HOME/.cache/damo, created
 * if missing; NULL when none can be made (the disk cache is then skipped:
 * it saves time, it is never needed for correctness). */
static char *cache_dir(void)
{
    const char *env = getenv("DAMO_CACHE_DIR"), *xdg = getenv("XDG_CACHE_HOME"),
               *home = getenv("HOME");
    strbuf b;
    sb_init(&b);
    if (env && *env)
        sb_puts(&b, env);
    else if (xdg && *xdg)
        sb_printf(&b, "%s/damo", xdg);
    else if (home && *home)
        sb_printf(&b, "%s/.cache/damo", home);
    else
        return NULL;
    char *dir = sb_take(&b);
    if (dir && !make_dirs(dir)) {
        free(dir);
        dir = NULL;
    }
    return dir;
}

static uint64_t device_hash(const rt_device *d)
{
    char pver[256] = "";
    if (clGetPlatformInfo(d->platform, CL_PLATFORM_VERSION, sizeof pver, pver, NULL) != CL_SUCCESS)
        pver[0] = '\0';
    uint64_t h = hash_str(HASH_SEED, d->name);
    h = hash_str(h, d->version);
    h = hash_str(h, d->driver_version);
    h = hash_str(h, pver);
    return hash_str(h, DAMO_VERSION_STRING);
}

static damo_status cache_open(rt_ctx *rt, damo_err *e)
{
    if (rt->progs)
        return DAMO_OK;
    if (!(rt->progs = calloc(1, sizeof *rt->progs)))
        return err_set(e, DAMO_ERR_NOMEM, "out of memory creating the program cache");
    rt->progs->device_hash = device_hash(&rt->dev);
    rt->progs->dir = cache_dir();
    return DAMO_OK;
}

/* The entry's path, or NULL (no cache directory, or out of memory). */
static char *entry_path(const rt_prog_cache *c, uint64_t key)
{
    if (!c->dir)
        return NULL;
    strbuf b;
    sb_init(&b);
    sb_printf(&b, "%s/%016llx.bin", c->dir, (unsigned long long)key);
    return sb_take(&b);
}

static int read_u64(FILE *f, uint64_t *v) { return fread(v, sizeof *v, 1, f) == 1; }
static int write_u64(FILE *f, uint64_t v) { return fwrite(&v, sizeof v, 1, f) == 1; }

/* The entry's binary when every check passes; NULL otherwise. */
static unsigned char *disk_load(const char *path, uint64_t key, size_t *len)
{
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct stat st;
    char magic[sizeof MAGIC];
    uint64_t k, n, sum;
    /* the length must match the file's, so that a corrupt header cannot ask
     * for a huge allocation and trailing bytes are caught */
    int ok = fstat(fileno(f), &st) == 0 && st.st_size > HEADER_BYTES &&
             fread(magic, 1, sizeof magic, f) == sizeof magic &&
             memcmp(magic, MAGIC, sizeof magic) == 0 && read_u64(f, &k) && k == key &&
             read_u64(f, &n) && n == (uint64_t)st.st_size - HEADER_BYTES && read_u64(f, &sum);
    unsigned char *bin = ok ? malloc((size_t)n) : NULL;
    if (bin && (fread(bin, 1, (size_t)n, f) != n || hash_bytes(HASH_SEED, bin, (size_t)n) != sum)) {
        free(bin);
        bin = NULL;
    }
    fclose(f);
    if (bin)
        *len = (size_t)n;
    return bin;
}

/* Best effort: a failed write only costs a rebuild next time. */
static void disk_store(const char *path, uint64_t key, const unsigned char *bin, size_t len)
{
    strbuf b;
    sb_init(&b);
    sb_printf(&b, "%s.XXXXXX", path);
    char *tmp = sb_take(&b);
    int fd = tmp ? mkstemp(tmp) : -1;
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!f) {
        if (fd >= 0) {
            close(fd);
            unlink(tmp);
        }
        free(tmp);
        return;
    }
    int ok = fwrite(MAGIC, 1, sizeof MAGIC, f) == sizeof MAGIC && write_u64(f, key) &&
             write_u64(f, len) && write_u64(f, hash_bytes(HASH_SEED, bin, len)) &&
             fwrite(bin, 1, len, f) == len;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0)
        unlink(tmp);
    free(tmp);
}

static damo_status build_error(rt_ctx *rt, cl_program prog, cl_int rc, const char *options,
                               damo_err *e)
{
    size_t len = 0;
    char *log = NULL;
    if (clGetProgramBuildInfo(prog, rt->dev.device, CL_PROGRAM_BUILD_LOG, 0, NULL, &len) ==
            CL_SUCCESS &&
        (log = malloc(len + 1))) {
        if (clGetProgramBuildInfo(prog, rt->dev.device, CL_PROGRAM_BUILD_LOG, len, log, NULL) !=
            CL_SUCCESS)
            len = 0;
        log[len] = '\0';
    }
    /* err_set truncates to DAMO_ERRMSG_SIZE, keeping the log's start,
     * where the first error is */
    err_set(e, DAMO_ERR_BUILD, "building an OpenCL program on '%s' (options \"%s\"): %s; "
            "build log:\n%s", rt->dev.name, options, rt_cl_error_name(rc),
            !log ? "(out of memory reading the log)" : *log ? log : "(empty)");
    free(log);
    return DAMO_ERR_BUILD;
}

static cl_program from_binary(rt_ctx *rt, const unsigned char *bin, size_t len,
                              const char *options)
{
    cl_int rc, status;
    cl_program p = clCreateProgramWithBinary(rt->context, 1, &rt->dev.device, &len, &bin,
                                             &status, &rc);
    if (rc != CL_SUCCESS)
        return NULL;
    if (status != CL_SUCCESS ||
        clBuildProgram(p, 1, &rt->dev.device, options, NULL, NULL) != CL_SUCCESS) {
        clReleaseProgram(p);
        return NULL;
    }
    return p;
}

static damo_status from_source(rt_ctx *rt, const char *source, const char *options,
                               cl_program *out, damo_err *e)
{
    cl_int rc;
    cl_program p = clCreateProgramWithSource(rt->context, 1, &source, NULL, &rc);
    if (rc != CL_SUCCESS)
        return err_set(e, DAMO_ERR_BUILD, "creating an OpenCL program on '%s': %s",
                       rt->dev.name, rt_cl_error_name(rc));
    if ((rc = clBuildProgram(p, 1, &rt->dev.device, options, NULL, NULL)) != CL_SUCCESS) {
        build_error(rt, p, rc, options, e);
        clReleaseProgram(p);
        return DAMO_ERR_BUILD;
    }
    *out = p;
    return DAMO_OK;
}

static void store_binary(cl_program p, const char *path, uint64_t key)
{
    size_t len = 0;
    if (clGetProgramInfo(p, CL_PROGRAM_BINARY_SIZES, sizeof len, &len, NULL) != CL_SUCCESS ||
        len == 0)
        return;
    unsigned char *bin = malloc(len);
    if (bin && clGetProgramInfo(p, CL_PROGRAM_BINARIES, sizeof bin, &bin, NULL) == CL_SUCCESS)
        disk_store(path, key, bin, len);
    free(bin);
}

/* Disk cache, else a build (stored to disk). */
static damo_status load_or_build(rt_ctx *rt, const char *source, const char *options,
                                 cl_program *out, damo_err *e)
{
    uint64_t key = hash_str(hash_str(rt->progs->device_hash, source), options);
    char *path = entry_path(rt->progs, key);
    size_t len = 0;
    unsigned char *bin = path ? disk_load(path, key, &len) : NULL;
    *out = bin ? from_binary(rt, bin, len, options) : NULL;
    free(bin);
    damo_status st = DAMO_OK;
    if (*out) {
        rt->disk_hits++;
    } else if ((st = from_source(rt, source, options, out, e)) == DAMO_OK) {
        rt->builds++;
        if (path)
            store_binary(*out, path, key);
    }
    free(path);
    return st;
}

damo_status rt_program_get(rt_ctx *rt, const char *source, const char *options,
                           cl_program *out, damo_err *e)
{
    options = options ? options : "";
    if (cache_open(rt, e) != DAMO_OK)
        return DAMO_ERR_NOMEM;
    uint64_t key = hash_str(hash_str(HASH_SEED, source), options);
    for (prog_entry *p = rt->progs->head; p; p = p->next)
        if (p->key == key && strcmp(p->source, source) == 0 && strcmp(p->options, options) == 0) {
            rt->memory_hits++;
            *out = p->prog;
            return DAMO_OK;
        }
    prog_entry *ent = calloc(1, sizeof *ent);
    if (!ent || !(ent->source = strdup(source)) || !(ent->options = strdup(options))) {
        if (ent)
            free(ent->source);
        free(ent);
        return err_set(e, DAMO_ERR_NOMEM, "out of memory caching a program");
    }
    damo_status st = load_or_build(rt, source, options, &ent->prog, e);
    if (st != DAMO_OK) {
        free(ent->source);
        free(ent->options);
        free(ent);
        return st;
    }
    ent->key = key;
    ent->next = rt->progs->head;
    rt->progs->head = ent;
    *out = ent->prog;
    return DAMO_OK;
}

damo_status rt_kernel_create(rt_ctx *rt, cl_program prog, const char *name, cl_kernel *out,
                             damo_err *e)
{
    cl_int rc;
    *out = clCreateKernel(prog, name, &rc);
    if (rc != CL_SUCCESS) {
        *out = NULL;
        return err_set(e, rc == CL_INVALID_KERNEL_NAME ? DAMO_ERR_NAME : DAMO_ERR_DEVICE,
                       "creating kernel '%s' on '%s': %s", name, rt->dev.name,
                       rt_cl_error_name(rc));
    }
    return DAMO_OK;
}

damo_status rt_launch(rt_ctx *rt, cl_kernel k, size_t global, size_t local, damo_err *e)
{
    /* OpenCL rejects an empty range; an empty array is ordinary */
    if (global == 0)
        return DAMO_OK;
    if (local)
        global = (global + local - 1) / local * local;
    cl_int rc = clEnqueueNDRangeKernel(rt->queue, k, 1, NULL, &global, local ? &local : NULL, 0,
                                       NULL, NULL);
    if (rc != CL_SUCCESS) {
        char name[128] = "?";
        if (clGetKernelInfo(k, CL_KERNEL_FUNCTION_NAME, sizeof name, name, NULL) != CL_SUCCESS)
            strcpy(name, "?");
        return err_set(e, DAMO_ERR_DEVICE,
                       "launching kernel '%s' on '%s' (%zu work-items, groups of %zu): %s", name,
                       rt->dev.name, global, local, rt_cl_error_name(rc));
    }
    return DAMO_OK;
}
