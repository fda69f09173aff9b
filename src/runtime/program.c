/* Program building with two caches: built programs in memory (per
 * context), and program binaries on disk keyed by everything that could
 * change the binary. A disk entry is checked (magic, key, length, checksum)
 * and rebuilt when anything is off; it is never trusted blindly. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/hash.h"
#include "runtime.h"

typedef struct prog_entry {
    uint64_t key;
    char *source, *options;
    cl_program prog;
    struct prog_entry *next;
} prog_entry;

struct rt_prog_cache {
    prog_entry *head;
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
    free(rt->progs);
    rt->progs = NULL;
}

static uint64_t disk_key(const rt_ctx *rt, const char *source, const char *options)
{
    uint64_t h = hash_str(HASH_SEED, source);
    h = hash_str(h, options);
    h = hash_str(h, rt->dev.name);
    h = hash_str(h, rt->dev.driver_version);
    h = hash_str(h, rt->dev.version);
    return hash_str(h, DAMO_VERSION_STRING);
}

/* mkdir -p; 0 on failure (the disk cache is then skipped). */
static int make_dirs(char *path)
{
    for (char *p = path + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            int ok = mkdir(path, 0755) == 0 || errno == EEXIST;
            *p = '/';
            if (!ok)
                return 0;
        }
    return mkdir(path, 0755) == 0 || errno == EEXIST;
}

/* The cache file path for key, or 0 when no cache directory is usable. */
static int cache_path(uint64_t key, char *out, size_t size)
{
    char dir[1024];
    const char *env = getenv("DAMO_CACHE_DIR"), *xdg = getenv("XDG_CACHE_HOME"),
               *home = getenv("HOME");
    if (env && *env)
        snprintf(dir, sizeof dir, "%s", env);
    else if (xdg && *xdg)
        snprintf(dir, sizeof dir, "%s/damo", xdg);
    else if (home && *home)
        snprintf(dir, sizeof dir, "%s/.cache/damo", home);
    else
        return 0;
    if (!make_dirs(dir))
        return 0;
    return snprintf(out, size, "%s/%016llx.bin", dir, (unsigned long long)key) < (int)size;
}

/* Reads a validated binary; NULL when absent or not to be trusted. */
static unsigned char *disk_load(const char *path, uint64_t key, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char magic[8];
    uint64_t k, n, sum;
    unsigned char *bin = NULL;
    if (fread(magic, 1, 8, f) == 8 && !memcmp(magic, MAGIC, 8) && fread(&k, 8, 1, f) == 1 &&
        k == key && fread(&n, 8, 1, f) == 1 && fread(&sum, 8, 1, f) == 1 && n > 0 &&
        n < ((uint64_t)1 << 31) && (bin = malloc(n))) {
        if (fread(bin, 1, n, f) != n || hash_bytes(HASH_SEED, bin, n) != sum || fgetc(f) != EOF) {
            free(bin);
            bin = NULL;
        }
    }
    fclose(f);
    *len = (size_t)(bin ? n : 0);
    return bin;
}

/* Best effort: a failure to write only costs a rebuild next time. */
static void disk_store(const char *path, uint64_t key, const unsigned char *bin, size_t len)
{
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return;
    uint64_t n = len, sum = hash_bytes(HASH_SEED, bin, len);
    int ok = fwrite(MAGIC, 1, 8, f) == 8 && fwrite(&key, 8, 1, f) == 1 && fwrite(&n, 8, 1, f) == 1 &&
             fwrite(&sum, 8, 1, f) == 1 && fwrite(bin, 1, len, f) == len;
    ok &= fclose(f) == 0;
    if (!ok || rename(tmp, path) != 0)
        remove(tmp);
}

static damo_status build_error(rt_ctx *rt, cl_program prog, cl_int rc, damo_err *e)
{
    size_t len = 0;
    clGetProgramBuildInfo(prog, rt->dev.device, CL_PROGRAM_BUILD_LOG, 0, NULL, &len);
    char *log = malloc(len + 1);
    if (log) {
        clGetProgramBuildInfo(prog, rt->dev.device, CL_PROGRAM_BUILD_LOG, len, log, NULL);
        log[len] = '\0';
    }
    err_set(e, DAMO_ERR_BUILD, "OpenCL program failed to build on '%s' (%s); build log:\n%s",
            rt->dev.name, rt_cl_error_name(rc), log ? log : "(out of memory for the log)");
    free(log);
    return DAMO_ERR_BUILD;
}

static cl_program from_binary(rt_ctx *rt, const unsigned char *bin, size_t len, const char *options)
{
    cl_int rc, status;
    cl_program p = clCreateProgramWithBinary(rt->context, 1, &rt->dev.device, &len, &bin, &status, &rc);
    if (rc != CL_SUCCESS || status != CL_SUCCESS)
        return NULL;
    if (clBuildProgram(p, 1, &rt->dev.device, options, NULL, NULL) != CL_SUCCESS) {
        clReleaseProgram(p);
        return NULL;
    }
    return p;
}

static unsigned char *binary_of(rt_ctx *rt, cl_program p, size_t *len)
{
    *len = 0;
    if (clGetProgramInfo(p, CL_PROGRAM_BINARY_SIZES, sizeof *len, len, NULL) != CL_SUCCESS || !*len)
        return NULL;
    unsigned char *bin = malloc(*len);
    if (bin && clGetProgramInfo(p, CL_PROGRAM_BINARIES, sizeof bin, &bin, NULL) != CL_SUCCESS) {
        free(bin);
        bin = NULL;
    }
    (void)rt;
    return bin;
}

damo_status rt_program_get(rt_ctx *rt, const char *source, const char *options,
                           cl_program *out, damo_err *e)
{
    options = options ? options : "";
    uint64_t key = disk_key(rt, source, options);
    if (!rt->progs && !(rt->progs = calloc(1, sizeof *rt->progs)))
        return err_set(e, DAMO_ERR_NOMEM, "out of memory for the program cache");
    for (prog_entry *p = rt->progs->head; p; p = p->next)
        if (p->key == key && !strcmp(p->source, source) && !strcmp(p->options, options)) {
            rt->memory_hits++;
            *out = p->prog;
            return DAMO_OK;
        }
    prog_entry *ent = calloc(1, sizeof *ent);
    if (!ent || !(ent->source = strdup(source)) || !(ent->options = strdup(options))) {
        if (ent)
            free(ent->source);
        free(ent);
        return err_set(e, DAMO_ERR_NOMEM, "out of memory for the program cache");
    }
    char path[1024];
    int disk = cache_path(key, path, sizeof path);
    size_t len = 0;
    unsigned char *bin = disk ? disk_load(path, key, &len) : NULL;
    cl_program prog = bin ? from_binary(rt, bin, len, options) : NULL;
    free(bin);
    if (prog) {
        rt->disk_hits++;
    } else {
        cl_int rc;
        prog = clCreateProgramWithSource(rt->context, 1, &source, NULL, &rc);
        if (rc == CL_SUCCESS)
            rc = clBuildProgram(prog, 1, &rt->dev.device, options, NULL, NULL);
        if (rc != CL_SUCCESS) {
            damo_status st = prog ? build_error(rt, prog, rc, e)
                                  : err_set(e, DAMO_ERR_BUILD, "clCreateProgramWithSource: %s",
                                            rt_cl_error_name(rc));
            if (prog)
                clReleaseProgram(prog);
            free(ent->source);
            free(ent->options);
            free(ent);
            return st;
        }
        rt->builds++;
        if (disk && (bin = binary_of(rt, prog, &len)))
            disk_store(path, key, bin, len);
        free(bin);
    }
    ent->key = key;
    ent->prog = prog;
    ent->next = rt->progs->head;
    rt->progs->head = ent;
    *out = prog;
    return DAMO_OK;
}

damo_status rt_kernel_create(rt_ctx *rt, cl_program prog, const char *name, cl_kernel *out,
                             damo_err *e)
{
    cl_int rc;
    *out = clCreateKernel(prog, name, &rc);
    if (rc != CL_SUCCESS)
        return err_set(e, DAMO_ERR_BUILD, "clCreateKernel '%s' on '%s': %s", name, rt->dev.name,
                       rt_cl_error_name(rc));
    return DAMO_OK;
}
