#include "npy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/dtype.h"
#include "../common/strbuf.h"

/* The format is specified in numpy/lib/_format_impl.py (NEP 1). */
static const char npy_magic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};
enum { MAGIC_LEN = 8, ARRAY_ALIGN = 64, GROWTH_AXIS_MAX_DIGITS = 21 };

typedef struct npy_header {
    damo_dtype dtype;
    int fortran;
    int ndim;
    int64_t shape[DAMO_MAX_DIMS];
    /* the descr string inside the header text, read once the whole
     * dictionary has parsed so that a syntax error is reported as one */
    const char *descr;
    size_t descr_len;
} npy_header;

/* A cursor over the header text, which is a Python dict literal and is not
 * NUL-terminated (a corrupt file may hold NULs anywhere in it). */
typedef struct hdr_cursor {
    const char *path;
    const char *s;
    size_t n, pos;
    damo_err *e;
} hdr_cursor;

static damo_status malformed(hdr_cursor *c, const char *what)
{
    return err_set(c->e, DAMO_ERR_FORMAT, "%s: malformed .npy header: %s at byte %zu of the header",
                   c->path, what, c->pos);
}

static int is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v';
}

static void skip_ws(hdr_cursor *c)
{
    while (c->pos < c->n && is_space(c->s[c->pos]))
        c->pos++;
}

/* Skips whitespace, then consumes ch if it comes next. */
static int accept(hdr_cursor *c, char ch)
{
    skip_ws(c);
    if (c->pos < c->n && c->s[c->pos] == ch) {
        c->pos++;
        return 1;
    }
    return 0;
}

static int peek(hdr_cursor *c, char ch)
{
    skip_ws(c);
    return c->pos < c->n && c->s[c->pos] == ch;
}

/* A quoted string, either quote; the body is returned raw because no valid
 * key or descr needs an escape, so one simply fails to match later. */
static int parse_string(hdr_cursor *c, const char **body, size_t *len)
{
    skip_ws(c);
    if (c->pos >= c->n || (c->s[c->pos] != '\'' && c->s[c->pos] != '"'))
        return 0;
    char q = c->s[c->pos];
    size_t start = c->pos + 1, i = start;
    while (i < c->n && c->s[i] != q && c->s[i] != '\n') {
        if (c->s[i] == '\\')
            i++;
        i++;
    }
    if (i >= c->n || c->s[i] != q)
        return 0;
    *body = c->s + start;
    *len = i - start;
    c->pos = i + 1;
    return 1;
}

static int is_ident_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_';
}

static int accept_word(hdr_cursor *c, const char *word)
{
    skip_ws(c);
    size_t len = strlen(word);
    if (c->n - c->pos < len || memcmp(c->s + c->pos, word, len) != 0)
        return 0;
    if (c->pos + len < c->n && is_ident_char(c->s[c->pos + len]))
        return 0;
    c->pos += len;
    return 1;
}

static int str_is(const char *body, size_t len, const char *word)
{
    return strlen(word) == len && memcmp(body, word, len) == 0;
}

/* Maps a dtype descriptor ("<f8", "|b1", "=i4") to a damo dtype. */
static damo_status parse_descr(hdr_cursor *c, const char *d, size_t len, damo_dtype *out)
{
    static const struct {
        char kind;
        int size;
        damo_dtype dtype;
    } table[] = {
        {'b', 1, DAMO_BOOL},   {'i', 1, DAMO_INT8},    {'i', 2, DAMO_INT16},
        {'i', 4, DAMO_INT32},  {'i', 8, DAMO_INT64},   {'u', 1, DAMO_UINT8},
        {'u', 2, DAMO_UINT16}, {'u', 4, DAMO_UINT32},  {'u', 8, DAMO_UINT64},
        {'f', 4, DAMO_FLOAT32}, {'f', 8, DAMO_FLOAT64},
    };
    int shown = len > 32 ? 32 : (int)len;
    size_t i = 0;
    char order = '|';
    if (len > 0 && (d[0] == '<' || d[0] == '>' || d[0] == '|' || d[0] == '='))
        order = d[i++];
    int size = 0;
    char kind = i < len ? d[i++] : '\0';
    if (kind == '?' && i == len) {
        kind = 'b';
        size = 1;
    }
    for (; i < len && d[i] >= '0' && d[i] <= '9' && size < 1000; i++)
        size = size * 10 + (d[i] - '0');
    for (size_t k = 0; i == len && k < sizeof table / sizeof table[0]; k++) {
        if (table[k].kind != kind || table[k].size != size)
            continue;
        /* Byte order means nothing for one-byte types, so '>' is harmless
         * there (NumPy itself normalises '>i1' to '|i1'). */
        if (order == '>' && size > 1)
            return err_set(c->e, DAMO_ERR_TYPE,
                           "%s: big-endian data ('%.*s') is not supported; "
                           "convert it with arr.astype(arr.dtype.newbyteorder('<'))",
                           c->path, shown, d);
        *out = table[k].dtype;
        return DAMO_OK;
    }
    return err_set(c->e, DAMO_ERR_TYPE,
                   "%s: unsupported dtype '%.*s' (damo reads bool, int8-64, uint8-64, "
                   "float32 and float64)",
                   c->path, shown, d);
}

/* A Python int literal: optional sign, digits, and the 'L' suffix that
 * Python 2 wrote. */
static damo_status parse_dim(hdr_cursor *c, int64_t *out)
{
    skip_ws(c);
    int neg = 0;
    if (c->pos < c->n && (c->s[c->pos] == '-' || c->s[c->pos] == '+'))
        neg = c->s[c->pos++] == '-';
    size_t start = c->pos;
    uint64_t v = 0;
    int overflow = 0;
    for (; c->pos < c->n && c->s[c->pos] >= '0' && c->s[c->pos] <= '9'; c->pos++) {
        unsigned digit = (unsigned)(c->s[c->pos] - '0');
        if (v > ((uint64_t)INT64_MAX - digit) / 10)
            overflow = 1;
        else
            v = v * 10 + digit;
    }
    if (c->pos == start)
        return malformed(c, "expected an integer in 'shape'");
    if (c->pos < c->n && (c->s[c->pos] == 'L' || c->s[c->pos] == 'l'))
        c->pos++;
    if (c->pos < c->n && is_ident_char(c->s[c->pos]))
        return malformed(c, "bad integer in 'shape'");
    if (overflow)
        return err_set(c->e, DAMO_ERR_FORMAT, "%s: a dimension in the .npy shape is too large",
                       c->path);
    if (neg && v != 0)
        return err_set(c->e, DAMO_ERR_FORMAT, "%s: negative dimension -%llu in the .npy shape",
                       c->path, (unsigned long long)v);
    *out = (int64_t)v;
    return DAMO_OK;
}

/* A tuple of ints: (), (3,), (2, 3), (2, 3,). "(3)" is an int in Python,
 * not a tuple, so it is rejected as NumPy does. */
static damo_status parse_shape(hdr_cursor *c, npy_header *h)
{
    if (!accept(c, '('))
        return malformed(c, "'shape' is not a tuple");
    int n = 0, had_comma = 0;
    while (!accept(c, ')')) {
        int64_t dim = 0;
        damo_status st = parse_dim(c, &dim);
        if (st != DAMO_OK)
            return st;
        if (n < DAMO_MAX_DIMS)
            h->shape[n] = dim;
        n++;
        had_comma = accept(c, ',');
        if (!had_comma && !peek(c, ')'))
            return malformed(c, "expected ',' or ')' in 'shape'");
    }
    if (n == 1 && !had_comma)
        return malformed(c, "'shape' is not a tuple");
    if (n > DAMO_MAX_DIMS)
        return err_set(c->e, DAMO_ERR_FORMAT,
                       "%s: the array has %d dimensions; damo supports at most %d", c->path, n,
                       DAMO_MAX_DIMS);
    h->ndim = n;
    return DAMO_OK;
}

static damo_status parse_value(hdr_cursor *c, const char *key, size_t klen, npy_header *h)
{
    if (str_is(key, klen, "descr")) {
        if (peek(c, '[') || peek(c, '{'))
            return err_set(c->e, DAMO_ERR_TYPE, "%s: structured dtypes are not supported",
                           c->path);
        if (!parse_string(c, &h->descr, &h->descr_len))
            return malformed(c, "'descr' is not a string");
        return DAMO_OK;
    }
    if (str_is(key, klen, "fortran_order")) {
        if (accept_word(c, "True"))
            h->fortran = 1;
        else if (accept_word(c, "False"))
            h->fortran = 0;
        else
            return malformed(c, "'fortran_order' is not True or False");
        return DAMO_OK;
    }
    if (str_is(key, klen, "shape"))
        return parse_shape(c, h);
    int shown = klen > 32 ? 32 : (int)klen;
    return err_set(c->e, DAMO_ERR_FORMAT, "%s: unexpected key '%.*s' in the .npy header",
                   c->path, shown, key);
}

/* Parses "{'descr': ..., 'fortran_order': ..., 'shape': ...}" with the keys
 * in any order, as ast.literal_eval would (a repeated key: the last wins). */
static damo_status parse_header(const char *path, const char *s, size_t n, npy_header *h,
                                damo_err *e)
{
    hdr_cursor c = {path, s, n, 0, e};
    static const char *const keys[] = {"descr", "fortran_order", "shape"};
    int seen[3] = {0, 0, 0};
    if (!accept(&c, '{'))
        return malformed(&c, "expected '{'");
    while (!accept(&c, '}')) {
        const char *key;
        size_t klen;
        if (!parse_string(&c, &key, &klen))
            return malformed(&c, "expected a quoted key or '}'");
        if (!accept(&c, ':'))
            return malformed(&c, "expected ':'");
        damo_status st = parse_value(&c, key, klen, h);
        if (st != DAMO_OK)
            return st;
        for (int k = 0; k < 3; k++)
            seen[k] |= str_is(key, klen, keys[k]);
        if (!accept(&c, ',') && !peek(&c, '}'))
            return malformed(&c, "expected ',' or '}'");
    }
    skip_ws(&c);
    if (c.pos != n)
        return malformed(&c, "unexpected text after the dictionary");
    for (int k = 0; k < 3; k++)
        if (!seen[k])
            return err_set(e, DAMO_ERR_FORMAT, "%s: the .npy header has no '%s'", path, keys[k]);
    return parse_descr(&c, h->descr, h->descr_len, &h->dtype);
}

static uint32_t read_le(const unsigned char *p, int nbytes)
{
    uint32_t v = 0;
    for (int i = nbytes - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* Where a .npy comes from: an open file, or a buffer in memory (which lets
 * a fuzzer drive the very code that reads files). */
typedef struct npy_src {
    const char *path; /* names the source in every message */
    FILE *f;          /* NULL: reading mem */
    const unsigned char *mem;
    size_t size;      /* the file's size when opened, or the buffer's */
    size_t pos;       /* in mem */
} npy_src;

/* Up to n bytes; fewer at the end of the source or on a read error. */
static size_t src_read(npy_src *s, void *dst, size_t n)
{
    if (s->f)
        return fread(dst, 1, n, s->f);
    size_t got = n < s->size - s->pos ? n : s->size - s->pos;
    if (got)
        memcpy(dst, s->mem + s->pos, got);
    s->pos += got;
    return got;
}

static int src_failed(const npy_src *s) { return s->f && ferror(s->f); }

/* Reads exactly n bytes; a short read is an I/O error or, at end of file,
 * a file that shrank since its size was checked. */
static damo_status read_exact(npy_src *s, void *dst, size_t n, damo_err *e)
{
    if (src_read(s, dst, n) == n)
        return DAMO_OK;
    if (src_failed(s))
        return err_set(e, DAMO_ERR_IO, "%s: read failed: %s", s->path, strerror(errno));
    return err_set(e, DAMO_ERR_FORMAT, "%s: unexpected end of file", s->path);
}

/* Element count and byte size of the data, or an error when either does not
 * fit in an int64 (a corrupt header must not lead to a huge allocation). */
static damo_status data_size(const npy_header *h, const char *path, int64_t *count,
                             int64_t *nbytes, damo_err *e)
{
    int64_t total = 1;
    for (int i = 0; i < h->ndim; i++)
        if (h->shape[i] == 0)
            total = 0;
    for (int i = 0; i < h->ndim && total != 0; i++) {
        if (total > INT64_MAX / h->shape[i])
            return err_set(e, DAMO_ERR_FORMAT, "%s: the .npy shape has too many elements", path);
        total *= h->shape[i];
    }
    int64_t isz = (int64_t)damo_dtype_size(h->dtype);
    if (total > INT64_MAX / isz)
        return err_set(e, DAMO_ERR_FORMAT, "%s: the .npy shape has too many elements", path);
    *count = total;
    *nbytes = total * isz;
    return DAMO_OK;
}

/* Fortran-order data to C order, one element at a time (a one-off load
 * cost, not worth a blocked transpose). Needs count > 0: the strides are
 * then at most count, while beside a zero dimension the others' product
 * can overflow. */
static void fortran_to_c(const unsigned char *src, unsigned char *dst, const npy_header *h,
                         size_t isz, int64_t count)
{
    int64_t idx[DAMO_MAX_DIMS] = {0}, fstride[DAMO_MAX_DIMS];
    for (int k = 0; k < h->ndim; k++)
        fstride[k] = k == 0 ? 1 : fstride[k - 1] * h->shape[k - 1];
    int64_t off = 0;
    for (int64_t i = 0; i < count; i++) {
        memcpy(dst + (size_t)i * isz, src + (size_t)off * isz, isz);
        for (int k = h->ndim - 1; k >= 0; k--) {
            idx[k]++;
            off += fstride[k];
            if (idx[k] < h->shape[k])
                break;
            off -= idx[k] * fstride[k];
            idx[k] = 0;
        }
    }
}

static damo_status decode(npy_src *s, npy_header *h, void **data, damo_err *e)
{
    const char *path = s->path;
    int64_t fsize = (int64_t)s->size;
    unsigned char pre[12];
    size_t got = src_read(s, pre, MAGIC_LEN);
    if (src_failed(s))
        return err_set(e, DAMO_ERR_IO, "%s: read failed: %s", path, strerror(errno));
    if (got == 0)
        return err_set(e, DAMO_ERR_FORMAT, "%s: empty file, not a .npy file", path);
    if (memcmp(pre, npy_magic, got < sizeof npy_magic ? got : sizeof npy_magic) != 0)
        return err_set(e, DAMO_ERR_FORMAT, "%s: not a .npy file (bad magic string)", path);
    if (got < MAGIC_LEN)
        return err_set(e, DAMO_ERR_FORMAT, "%s: truncated .npy file (%zu bytes)", path, got);
    int major = pre[6], minor = pre[7];
    if (!((major == 1 || major == 2 || major == 3) && minor == 0))
        return err_set(e, DAMO_ERR_FORMAT,
                       "%s: unsupported .npy format version %d.%d (damo reads 1.0, 2.0, 3.0)",
                       path, major, minor);
    int lenbytes = major == 1 ? 2 : 4;
    damo_status st = read_exact(s, pre + MAGIC_LEN, (size_t)lenbytes, e);
    if (st != DAMO_OK)
        return st;
    int64_t hlen = read_le(pre + MAGIC_LEN, lenbytes);
    int64_t data_off = MAGIC_LEN + lenbytes + hlen;
    if (data_off > fsize)
        return err_set(e, DAMO_ERR_FORMAT,
                       "%s: the .npy header length (%lld bytes) goes past the end of the file "
                       "(%lld bytes)",
                       path, (long long)hlen, (long long)fsize);

    /* + 1: an empty header is a parse error, not a failed malloc(0) */
    char *text = malloc((size_t)hlen + 1);
    if (!text)
        return err_set(e, DAMO_ERR_NOMEM, "%s: out of memory reading the header", path);
    st = read_exact(s, text, (size_t)hlen, e);
    if (st == DAMO_OK)
        st = parse_header(path, text, (size_t)hlen, h, e);
    free(text);
    if (st != DAMO_OK)
        return st;

    int64_t count, nbytes;
    st = data_size(h, path, &count, &nbytes, e);
    if (st != DAMO_OK)
        return st;
    if (nbytes > fsize - data_off)
        return err_set(e, DAMO_ERR_FORMAT,
                       "%s: truncated .npy data: the shape needs %lld bytes, the file has %lld",
                       path, (long long)nbytes, (long long)(fsize - data_off));

    size_t size = (size_t)nbytes, isz = damo_dtype_size(h->dtype);
    unsigned char *buf = malloc(size ? size : 1);
    if (!buf)
        return err_set(e, DAMO_ERR_NOMEM, "%s: out of memory for %zu bytes of data", path, size);
    st = read_exact(s, buf, size, e);
    if (st != DAMO_OK) {
        free(buf);
        return st;
    }
    if (h->fortran && h->ndim > 1 && count > 0) {
        unsigned char *c_order = malloc(size ? size : 1);
        if (!c_order) {
            free(buf);
            return err_set(e, DAMO_ERR_NOMEM, "%s: out of memory for %zu bytes of data", path,
                           size);
        }
        fortran_to_c(buf, c_order, h, isz, count);
        free(buf);
        buf = c_order;
    }
    /* damo's kernels treat a bool byte as 0 or 1, so other values (legal in
     * a NumPy buffer) are normalised here rather than trusted. */
    if (h->dtype == DAMO_BOOL)
        for (size_t i = 0; i < size; i++)
            buf[i] = buf[i] != 0;
    *data = buf;
    return DAMO_OK;
}

/* Clears *data, then checks the arguments every reader takes; `name` is
 * the path or the name standing for it, `name_param` what fn calls it. */
static damo_status check_outputs(const char *fn, const char *name_param, const char *name,
                                 damo_dtype *dtype, int *ndim, const int64_t *shape,
                                 void **data, damo_err *e)
{
    if (data)
        *data = NULL;
    if (!name)
        return err_set(e, DAMO_ERR_INVALID, "%s: %s is NULL", fn, name_param);
    if (!dtype || !ndim || !shape || !data)
        return err_set(e, DAMO_ERR_INVALID, "%s: %s: NULL output argument", name, fn);
    return DAMO_OK;
}

static damo_status read_npy(npy_src *s, damo_dtype *dtype, int *ndim,
                            int64_t shape[DAMO_MAX_DIMS], void **data, damo_err *e)
{
    npy_header h;
    memset(&h, 0, sizeof h);
    damo_status st = decode(s, &h, data, e);
    if (st != DAMO_OK)
        return st;
    *dtype = h.dtype;
    *ndim = h.ndim;
    memcpy(shape, h.shape, sizeof h.shape);
    return DAMO_OK;
}

/* Opens path as a stream, refusing anything but a regular file: opening a
 * FIFO waits until another process opens its other end (forever, if none
 * does), and a device or a directory is no place for an array. O_NONBLOCK
 * only keeps the open itself from waiting; it is cleared before any I/O.
 * *size (if not NULL): the file's size once open. */
static damo_status open_regular(const char *path, int flags, FILE **out, int64_t *size,
                                damo_err *e)
{
    *out = NULL;
    int fd = open(path, flags | O_NONBLOCK | O_CLOEXEC, 0666);
    if (fd < 0)
        return err_set(e, DAMO_ERR_IO, "%s: cannot %s: %s", path,
                       flags & O_CREAT ? "create" : "open", strerror(errno));
    struct stat st;
    int fl = 0;
    damo_status code = DAMO_OK;
    if (fstat(fd, &st) != 0)
        code = err_set(e, DAMO_ERR_IO, "%s: %s", path, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        code = err_set(e, DAMO_ERR_IO, "%s: not a regular file", path);
    else if ((fl = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0 ||
             !(*out = fdopen(fd, flags & O_CREAT ? "wb" : "rb")))
        code = err_set(e, DAMO_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    if (code != DAMO_OK) {
        close(fd);
        return code;
    }
    if (size)
        *size = (int64_t)st.st_size;
    return DAMO_OK;
}

damo_status npy_load(const char *path, damo_dtype *dtype, int *ndim,
                     int64_t shape[DAMO_MAX_DIMS], void **data, damo_err *e)
{
    damo_status st = check_outputs("npy_load", "path", path, dtype, ndim, shape, data, e);
    if (st != DAMO_OK)
        return st;
    FILE *f;
    int64_t size;
    if ((st = open_regular(path, O_RDONLY, &f, &size, e)) != DAMO_OK)
        return st;
    npy_src s = {path, f, NULL, (size_t)size, 0};
    st = read_npy(&s, dtype, ndim, shape, data, e);
    fclose(f);
    return st;
}

damo_status npy_parse(const void *buf, size_t len, const char *name, damo_dtype *dtype,
                      int *ndim, int64_t shape[DAMO_MAX_DIMS], void **data, damo_err *e)
{
    damo_status st = check_outputs("npy_parse", "name", name, dtype, ndim, shape, data, e);
    if (st != DAMO_OK)
        return st;
    if (!buf && len > 0)
        return err_set(e, DAMO_ERR_INVALID, "%s: npy_parse: NULL buffer", name);
    npy_src s = {name, NULL, buf, len, 0};
    return read_npy(&s, dtype, ndim, shape, data, e);
}

/* NumPy's header for a C-order array, with its trailing spaces: room for the
 * first dimension to grow to GROWTH_AXIS_MAX_DIGITS digits in place, then
 * padding so that the data starts on an ARRAY_ALIGN boundary. */
static void build_header(strbuf *b, damo_dtype dtype, int ndim, const int64_t *shape)
{
    char order = damo_dtype_size(dtype) == 1 ? '|' : '<';
    sb_printf(b, "{'descr': '%c%s', 'fortran_order': False, 'shape': (", order,
              dtype_npy_descr(dtype));
    for (int i = 0; i < ndim; i++)
        sb_printf(b, i ? ", %lld" : "%lld", (long long)shape[i]);
    sb_puts(b, ndim == 1 ? ",), }" : "), }");
    if (ndim > 0) {
        int digits = snprintf(NULL, 0, "%lld", (long long)shape[0]);
        for (int i = digits; i < GROWTH_AXIS_MAX_DIGITS; i++)
            sb_putn(b, " ", 1);
    }
    /* NumPy pads a full extra block when the header is already aligned. */
    size_t pad = ARRAY_ALIGN - (MAGIC_LEN + 2 + b->len + 1) % ARRAY_ALIGN;
    for (size_t i = 0; i < pad; i++)
        sb_putn(b, " ", 1);
    sb_putn(b, "\n", 1);
}

damo_status npy_save(const char *path, damo_dtype dtype, int ndim, const int64_t *shape,
                     const void *data, damo_err *e)
{
    if (!path)
        return err_set(e, DAMO_ERR_INVALID, "npy_save: path is NULL");
    if (!dtype_valid(dtype))
        return err_set(e, DAMO_ERR_INVALID, "%s: invalid dtype %d", path, (int)dtype);
    if (ndim < 0 || ndim > DAMO_MAX_DIMS || (ndim > 0 && !shape))
        return err_set(e, DAMO_ERR_INVALID, "%s: invalid rank %d", path, ndim);
    npy_header h;
    memset(&h, 0, sizeof h);
    h.dtype = dtype;
    h.ndim = ndim;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0)
            return err_set(e, DAMO_ERR_INVALID, "%s: negative dimension %lld", path,
                           (long long)shape[i]);
        h.shape[i] = shape[i];
    }
    int64_t count, nbytes;
    if (data_size(&h, path, &count, &nbytes, e) != DAMO_OK)
        return err_set(e, DAMO_ERR_INVALID, "%s: the shape has too many elements", path);
    if (!data && nbytes > 0)
        return err_set(e, DAMO_ERR_INVALID, "%s: data is NULL", path);

    strbuf hdr;
    sb_init(&hdr);
    build_header(&hdr, dtype, ndim, shape);
    if (hdr.failed) {
        sb_free(&hdr);
        return err_set(e, DAMO_ERR_NOMEM, "%s: out of memory building the header", path);
    }
    unsigned char pre[MAGIC_LEN + 2];
    memcpy(pre, npy_magic, sizeof npy_magic);
    pre[6] = 1;
    pre[7] = 0;
    pre[8] = (unsigned char)(hdr.len & 0xff);
    pre[9] = (unsigned char)(hdr.len >> 8);

    FILE *f;
    damo_status st = open_regular(path, O_WRONLY | O_CREAT | O_TRUNC, &f, NULL, e);
    if (st != DAMO_OK) {
        sb_free(&hdr);
        return st;
    }
    int ok = fwrite(pre, 1, sizeof pre, f) == sizeof pre &&
             fwrite(hdr.s, 1, hdr.len, f) == hdr.len &&
             (nbytes == 0 || fwrite(data, 1, (size_t)nbytes, f) == (size_t)nbytes);
    int saved_errno = errno;
    if (fclose(f) != 0 && ok) {
        ok = 0;
        saved_errno = errno;
    }
    sb_free(&hdr);
    if (!ok) {
        remove(path);
        return err_set(e, DAMO_ERR_IO, "%s: write failed: %s", path, strerror(saved_errno));
    }
    return DAMO_OK;
}
