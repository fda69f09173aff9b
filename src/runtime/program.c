/* Program building with two caches: built programs in memory (per
 * context), and program binaries on disk (a build costs ~0.5 s on PoCL, a
 * saved binary ~3 ms).
 *
 * Whoever can write a disk entry chooses the code damo runs, so nothing
 * found on disk is trusted. The directory must be a directory owned by the
 * effective user and writable by nobody else (what ssh demands of ~/.ssh),
 * or the disk cache is off. An entry is <key>.bin, key a 64-bit hash of its
 * header:
 *   "DAMOBIN3"
 *   device name | device version | driver version | platform version |
 *   damo version | build options | kernel source
 *                              (each a u64 length, then that many bytes)
 *   binary length u64 | FNV-1a of the binary u64 | binary
 * (native byte order). The hash only names the file: an entry is used when
 * its header equals, byte for byte, the one this lookup would write, so a
 * colliding entry or one copied from another kernel is never run. Entries
 * are opened without following symlinks and without blocking (a FIFO under
 * an entry's name would otherwise hang the reader) and must be regular
 * files. Any mismatch, a short or long file, or a binary the driver refuses
 * means a rebuild that overwrites the entry.
 * Writes go to a temporary file (mode 0600) renamed into place, so a reader
 * never sees half a file even with several processes sharing the directory.
 *
 * Build options are passed through untouched; without -cl-std a device
 * compiles OpenCL C 1.x (the highest it has), which is what damo emits. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/hash.h"
#include "../common/strbuf.h"
#include "runtime.h"

typedef struct prog_entry {
    uint64_t key;
    char *source, *options;
    cl_program prog;
    cl_kernel kernel;      /* rt_kernel_get's, created on first use */
    char *kernel_name;
    struct prog_entry *next;
} prog_entry;

struct rt_prog_cache {
    prog_entry *head;
    strbuf device_fields;  /* the magic and the device's fields: how every
                            * entry header of this context starts */
    char *dir;             /* NULL: the disk cache is off */
    char *info;            /* rt_cache_info's line; NULL when out of memory */
};

static const char MAGIC[8] = {'D', 'A', 'M', 'O', 'B', 'I', 'N', '3'};

void rt_progs_release(rt_ctx *rt)
{
    if (!rt->progs)
        return;
    for (prog_entry *p = rt->progs->head, *next; p; p = next) {
        next = p->next;
        if (p->kernel)
            clReleaseKernel(p->kernel);
        free(p->kernel_name);
        clReleaseProgram(p->prog);
        free(p->source);
        free(p->options);
        free(p);
    }
    sb_free(&rt->progs->device_fields);
    free(rt->progs->dir);
    free(rt->progs->info);
    free(rt->progs);
    rt->progs = NULL;
}

/* mkdir -p; 0 on failure (errno set). */
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

/* DAMO_CACHE_DIR, else $XDG_CACHE_HOME/damo, else $HOME/.cache/damo, into
 * b; 0 when none is set. */
static int cache_dir_path(strbuf *b)
{
    const char *env = getenv("DAMO_CACHE_DIR"), *xdg = getenv("XDG_CACHE_HOME"),
               *home = getenv("HOME");
    if (env && *env)
        sb_puts(b, env);
    else if (xdg && *xdg)
        sb_printf(b, "%s/damo", xdg);
    else if (home && *home)
        sb_printf(b, "%s/.cache/damo", home);
    else
        return 0;
    return 1;
}

/* Sets c->dir to the cache directory, created if missing, or leaves it NULL
 * (the disk cache saves time, it is never needed for correctness), and
 * c->info to the line saying which and why. The checks come after mkdir so
 * that a directory someone else made first is caught too. */
static void open_cache_dir(rt_prog_cache *c)
{
    strbuf path, info;
    sb_init(&path);
    sb_init(&info);
    struct stat st;
    int usable = 0;
    if (!cache_dir_path(&path))
        sb_puts(&info, "disk cache off: none of DAMO_CACHE_DIR, XDG_CACHE_HOME, HOME is set");
    else if (path.failed)
        sb_puts(&info, "disk cache off: out of memory");
    else if (!make_dirs(path.s))
        sb_printf(&info, "disk cache off: cannot create %s: %s", path.s, strerror(errno));
    else if (stat(path.s, &st) != 0)
        sb_printf(&info, "disk cache off: %s: %s", path.s, strerror(errno));
    else if (!S_ISDIR(st.st_mode))
        sb_printf(&info, "disk cache off: %s is not a directory", path.s);
    else if (st.st_uid != geteuid())
        sb_printf(&info, "disk cache off: %s is owned by uid %ld, not by this user (uid %ld)",
                  path.s, (long)st.st_uid, (long)geteuid());
    else if (st.st_mode & (S_IWGRP | S_IWOTH))
        sb_printf(&info, "disk cache off: %s is writable by %s", path.s,
                  st.st_mode & S_IWOTH ? "others" : "its group");
    else {
        sb_printf(&info, "disk cache: %s", path.s);
        usable = 1;
    }
    c->info = sb_take(&info);
    if (usable && c->info)
        c->dir = sb_take(&path);
    sb_free(&path);
}

/* A header field: its length, then its bytes. */
static void put_field(strbuf *b, const char *s)
{
    uint64_t n = strlen(s);
    sb_putn(b, (const char *)&n, sizeof n);
    sb_putn(b, s, (size_t)n);
}

static void put_device_fields(strbuf *b, const rt_device *d)
{
    char pver[256] = "";
    if (clGetPlatformInfo(d->platform, CL_PLATFORM_VERSION, sizeof pver, pver, NULL) != CL_SUCCESS)
        pver[0] = '\0';
    sb_putn(b, MAGIC, sizeof MAGIC);
    put_field(b, d->name);
    put_field(b, d->version);
    put_field(b, d->driver_version);
    put_field(b, pver);
    put_field(b, DAMO_VERSION_STRING);
}

static damo_status cache_open(rt_ctx *rt, damo_err *e)
{
    if (rt->progs)
        return DAMO_OK;
    if (!(rt->progs = calloc(1, sizeof *rt->progs)))
        return err_set(e, DAMO_ERR_NOMEM, "out of memory creating the program cache");
    sb_init(&rt->progs->device_fields);
    put_device_fields(&rt->progs->device_fields, &rt->dev);
    if (!rt->progs->device_fields.failed)
        open_cache_dir(rt->progs);
    return DAMO_OK;
}

const char *rt_cache_info(rt_ctx *rt)
{
    /* the only failure is running out of memory, which leaves the cache off */
    if (cache_open(rt, NULL) != DAMO_OK || !rt->progs->info)
        return "disk cache off: out of memory";
    return rt->progs->info;
}

/* The entry's path, or NULL (out of memory). */
static char *entry_path(const rt_prog_cache *c, uint64_t key)
{
    strbuf b;
    sb_init(&b);
    sb_printf(&b, "%s/%016llx.bin", c->dir, (unsigned long long)key);
    return sb_take(&b);
}

/* Reads exactly n bytes; 0 on an error or at end of file. */
static int read_full(int fd, void *dst, size_t n)
{
    unsigned char *p = dst;
    while (n > 0) {
        ssize_t got = read(fd, p, n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return 0;
        p += got;
        n -= (size_t)got;
    }
    return 1;
}

/* The entry's binary when the file at path is a regular file holding
 * exactly the header hdr and a binary of the recorded length and checksum;
 * NULL otherwise. */
static unsigned char *disk_load(const char *path, const strbuf *hdr, size_t *len)
{
    *len = 0;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    uint64_t n = 0, sum = 0;
    const uint64_t fixed = hdr->len + sizeof n + sizeof sum;
    char *seen = malloc(hdr->len);
    /* the length must match the file's, so that a corrupt header cannot ask
     * for a huge allocation and trailing bytes are caught */
    int ok = seen && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
             (uint64_t)st.st_size > fixed && read_full(fd, seen, hdr->len) &&
             memcmp(seen, hdr->s, hdr->len) == 0 && read_full(fd, &n, sizeof n) &&
             n == (uint64_t)st.st_size - fixed && read_full(fd, &sum, sizeof sum);
    free(seen);
    unsigned char *bin = ok ? malloc((size_t)n) : NULL;
    if (bin && (!read_full(fd, bin, (size_t)n) || hash_bytes(HASH_SEED, bin, (size_t)n) != sum)) {
        free(bin);
        bin = NULL;
    }
    close(fd);
    if (bin)
        *len = (size_t)n;
    return bin;
}

static int write_u64(FILE *f, uint64_t v) { return fwrite(&v, sizeof v, 1, f) == 1; }

/* Best effort: a failed write only costs a rebuild next time. */
static void disk_store(const char *path, const strbuf *hdr, const unsigned char *bin,
                       size_t len)
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
    int ok = fwrite(hdr->s, 1, hdr->len, f) == hdr->len && write_u64(f, len) &&
             write_u64(f, hash_bytes(HASH_SEED, bin, len)) && fwrite(bin, 1, len, f) == len;
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

static void store_binary(cl_program p, const char *path, const strbuf *hdr)
{
    size_t len = 0;
    if (clGetProgramInfo(p, CL_PROGRAM_BINARY_SIZES, sizeof len, &len, NULL) != CL_SUCCESS ||
        len == 0)
        return;
    unsigned char *bin = malloc(len);
    if (bin && clGetProgramInfo(p, CL_PROGRAM_BINARIES, sizeof bin, &bin, NULL) == CL_SUCCESS)
        disk_store(path, hdr, bin, len);
    free(bin);
}

/* Disk cache, else a build (stored to disk). */
static damo_status load_or_build(rt_ctx *rt, const char *source, const char *options,
                                 cl_program *out, damo_err *e)
{
    const rt_prog_cache *c = rt->progs;
    strbuf hdr;
    sb_init(&hdr);
    char *path = NULL;
    if (c->dir) {
        sb_putn(&hdr, c->device_fields.s, c->device_fields.len);
        put_field(&hdr, options);
        put_field(&hdr, source);
        /* out of memory here only skips the disk cache */
        if (!hdr.failed)
            path = entry_path(c, hash_bytes(HASH_SEED, hdr.s, hdr.len));
    }
    size_t len = 0;
    unsigned char *bin = path ? disk_load(path, &hdr, &len) : NULL;
    *out = bin ? from_binary(rt, bin, len, options) : NULL;
    free(bin);
    damo_status st = DAMO_OK;
    if (*out) {
        rt->disk_hits++;
    } else if ((st = from_source(rt, source, options, out, e)) == DAMO_OK) {
        rt->builds++;
        if (path)
            store_binary(*out, path, &hdr);
    }
    free(path);
    sb_free(&hdr);
    return st;
}

/* The cache entry of (source, options), built or loaded when new. */
static damo_status entry_get(rt_ctx *rt, const char *source, const char *options,
                             prog_entry **out, damo_err *e)
{
    options = options ? options : "";
    if (cache_open(rt, e) != DAMO_OK)
        return DAMO_ERR_NOMEM;
    uint64_t key = hash_str(hash_str(HASH_SEED, source), options);
    for (prog_entry *p = rt->progs->head; p; p = p->next)
        if (p->key == key && strcmp(p->source, source) == 0 && strcmp(p->options, options) == 0) {
            rt->memory_hits++;
            *out = p;
            return DAMO_OK;
        }
    prog_entry *ent = calloc(1, sizeof *ent);
    if (!ent || !(ent->source = strdup(source)) || !(ent->options = strdup(options))) {
        if (ent)
            free(ent->source);
        free(ent);
        return err_set(e, DAMO_ERR_NOMEM, "out of memory caching a program");
    }
    uint64_t t0 = rt_now_ns();
    damo_status st = load_or_build(rt, source, options, &ent->prog, e);
    rt->program_ns += rt_now_ns() - t0;
    if (st != DAMO_OK) {
        free(ent->source);
        free(ent->options);
        free(ent);
        return st;
    }
    ent->key = key;
    ent->next = rt->progs->head;
    rt->progs->head = ent;
    *out = ent;
    return DAMO_OK;
}

damo_status rt_program_get(rt_ctx *rt, const char *source, const char *options,
                           cl_program *out, damo_err *e)
{
    prog_entry *ent;
    damo_status st = entry_get(rt, source, options, &ent, e);
    if (st == DAMO_OK)
        *out = ent->prog;
    return st;
}

damo_status rt_kernel_get(rt_ctx *rt, const char *source, const char *options, const char *name,
                          cl_kernel *out, damo_err *e)
{
    prog_entry *ent;
    damo_status st = entry_get(rt, source, options, &ent, e);
    if (st != DAMO_OK)
        return st;
    if (ent->kernel && strcmp(ent->kernel_name, name) != 0)
        return err_set(e, DAMO_ERR_INVALID, "internal error: kernel '%s' asked of a program whose "
                       "cached kernel is '%s'", name, ent->kernel_name);
    if (!ent->kernel) {
        if (!(ent->kernel_name = strdup(name)))
            return err_set(e, DAMO_ERR_NOMEM, "out of memory caching a kernel");
        if ((st = rt_kernel_create(rt, ent->prog, name, &ent->kernel, e)) != DAMO_OK) {
            free(ent->kernel_name);
            ent->kernel_name = NULL;
            return st;
        }
    }
    *out = ent->kernel;
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
    /* groups of `local` over the largest multiple of it, then the rest as
     * one launch at an offset, sized by the runtime: exactly `global`
     * work-items run, so kernels need no bound check (which stops PoCL's
     * work-item loop vectorizer) */
    size_t main = local ? global / local * local : 0, tail = global - main;
    cl_int rc = CL_SUCCESS;
    if (main)
        rc = clEnqueueNDRangeKernel(rt->queue, k, 1, NULL, &main, &local, 0, NULL, rt_rec(rt));
    if (rc == CL_SUCCESS && tail)
        rc = clEnqueueNDRangeKernel(rt->queue, k, 1, &main, &tail, NULL, 0, NULL, rt_rec(rt));
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
