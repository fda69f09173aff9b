/* The .npy codec against files written by NumPy (tests/data, made by
 * tests/data/make_npy.py with NumPy 2.4.6), against headers crafted here,
 * against truncated and corrupted files, and against paths that are not
 * regular files. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/npy.h"
#include "check.h"
#include "common/dtype.h"

#ifndef DAMO_TEST_DATA_DIR
#error "compile with -DDAMO_TEST_DATA_DIR='\"/path/to/tests/data\"'"
#endif

static char tmp_dir[256];

static const char *data_file(const char *name)
{
    static char buf[1024];
    snprintf(buf, sizeof buf, "%s/%s", DAMO_TEST_DATA_DIR, name);
    return buf;
}

static const char *tmp_file(const char *name)
{
    static char buf[1024];
    snprintf(buf, sizeof buf, "%s/%s", tmp_dir, name);
    return buf;
}

/* Whole file into a malloc'ed buffer; NULL if it cannot be read. */
static unsigned char *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    unsigned char *buf = NULL;
    size_t cap = 0, len = 0, got;
    do {
        if (len == cap) {
            cap = cap ? cap * 2 : 4096;
            unsigned char *grown = realloc(buf, cap);
            if (!grown) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = grown;
        }
        got = fread(buf + len, 1, cap - len, f);
        len += got;
    } while (got > 0);
    fclose(f);
    *size = len;
    return buf;
}

static void write_bytes(const char *path, const void *bytes, size_t n)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f)
        return;
    CHECK(fwrite(bytes, 1, n, f) == n);
    fclose(f);
}

/* A format 1.0 file with this exact header text (no alignment padding:
 * the reader must not depend on it) followed by n data bytes. */
static void write_v1(const char *path, const char *header, const void *data, size_t n)
{
    size_t hlen = strlen(header);
    unsigned char *buf = malloc(10 + hlen + n + 1);
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (unsigned char)(hlen & 0xff);
    buf[9] = (unsigned char)(hlen >> 8);
    memcpy(buf + 10, header, hlen);
    if (n)
        memcpy(buf + 10 + hlen, data, n);
    write_bytes(path, buf, 10 + hlen + n);
    free(buf);
}

/* Elements equal bit for bit, except that any NaN equals any NaN. */
static int same_values(damo_dtype t, const void *a, const void *b, int64_t n)
{
    size_t isz = damo_dtype_size(t);
    for (int64_t i = 0; i < n; i++) {
        if (dtype_kind_of(t) == KIND_FLOAT) {
            double x = hval_to_double(t, hval_load(t, a, i));
            double y = hval_to_double(t, hval_load(t, b, i));
            if (isnan(x) && isnan(y))
                continue;
        }
        if (memcmp((const char *)a + i * (int64_t)isz, (const char *)b + i * (int64_t)isz, isz))
            return 0;
    }
    return 1;
}

/* Values in C order, as NumPy holds them (see make_npy.py). */
static const uint8_t v_bool[] = {1, 0, 1, 1, 0};
static const int8_t v_i1[] = {-128, -1, 0, 1, 127};
static const int16_t v_i2[] = {-32768, -2, 0, 3, 32767};
static const int32_t v_i4[] = {INT32_MIN, -5, 0, 7, INT32_MAX};
static const int64_t v_i8[] = {INT64_MIN, -9, 0, 11, INT64_MAX};
static const uint8_t v_u1[] = {0, 1, 128, 255};
static const uint16_t v_u2[] = {0, 1, 32768, 65535};
static const uint32_t v_u4[] = {0, 1, 2147483648u, 4294967295u};
static const uint64_t v_u8[] = {0, 1, 9223372036854775808u, 18446744073709551615u};
static const float v_f4[] = {0.0f, -1.5f, 3.14159274f, INFINITY, -INFINITY, NAN,
                             1.40129846e-45f, 3.40282347e38f};
static const double v_f8[] = {0.0, -0.0, 0.1, -2.5, 1e300, 4.9406564584124654e-324,
                              INFINITY, NAN};
static const double v_f8_0d[] = {34.0};
static const int32_t v_i4_0d[] = {-7};
static const int64_t v_i8_2x3[] = {0, 1, 2, 3, 4, 5};
static const uint8_t v_u1_2x1x3[] = {1, 2, 3, 4, 5, 6};
static const uint8_t v_bool_raw[] = {0, 1, 1, 1};
static const uint16_t v_u2_v3[] = {1, 2, 3, 65535};
static const double v_f8_v2[] = {0, 1, 2, 3, 4};
static float v_f4_2x3x4[24];
static double v_f8_3x4[12];
static int16_t v_i2_2x3x4[24];

typedef struct load_case {
    const char *file;
    damo_dtype dtype;
    int ndim;
    int64_t shape[DAMO_MAX_DIMS];
    const void *values;
    int save_identical; /* numpy.save wrote it, so npy_save must match it */
} load_case;

static const load_case load_cases[] = {
    {"bool_1d.npy", DAMO_BOOL, 1, {5}, v_bool, 1},
    {"i1_1d.npy", DAMO_INT8, 1, {5}, v_i1, 1},
    {"i2_1d.npy", DAMO_INT16, 1, {5}, v_i2, 1},
    {"i4_1d.npy", DAMO_INT32, 1, {5}, v_i4, 1},
    {"i8_1d.npy", DAMO_INT64, 1, {5}, v_i8, 1},
    {"u1_1d.npy", DAMO_UINT8, 1, {4}, v_u1, 1},
    {"u2_1d.npy", DAMO_UINT16, 1, {4}, v_u2, 1},
    {"u4_1d.npy", DAMO_UINT32, 1, {4}, v_u4, 1},
    {"u8_1d.npy", DAMO_UINT64, 1, {4}, v_u8, 1},
    {"f4_1d.npy", DAMO_FLOAT32, 1, {8}, v_f4, 1},
    {"f8_1d.npy", DAMO_FLOAT64, 1, {8}, v_f8, 1},
    {"f8_0d.npy", DAMO_FLOAT64, 0, {0}, v_f8_0d, 1},
    {"i4_0d.npy", DAMO_INT32, 0, {0}, v_i4_0d, 1},
    {"i8_2x3.npy", DAMO_INT64, 2, {2, 3}, v_i8_2x3, 1},
    {"f4_2x3x4.npy", DAMO_FLOAT32, 3, {2, 3, 4}, v_f4_2x3x4, 1},
    {"u1_2x1x3.npy", DAMO_UINT8, 3, {2, 1, 3}, v_u1_2x1x3, 1},
    {"f8_0x3.npy", DAMO_FLOAT64, 2, {0, 3}, NULL, 1},
    {"bool_raw.npy", DAMO_BOOL, 1, {4}, v_bool_raw, 0},
    {"f8_fortran_3x4.npy", DAMO_FLOAT64, 2, {3, 4}, v_f8_3x4, 0},
    {"i2_fortran_2x3x4.npy", DAMO_INT16, 3, {2, 3, 4}, v_i2_2x3x4, 0},
    {"f8_v2.npy", DAMO_FLOAT64, 1, {5}, v_f8_v2, 0},
    {"u2_v3.npy", DAMO_UINT16, 2, {2, 2}, v_u2_v3, 0},
};

static int64_t count_of(int ndim, const int64_t *shape)
{
    int64_t n = 1;
    for (int i = 0; i < ndim; i++)
        n *= shape[i];
    return n;
}

static void test_load_and_resave(void)
{
    for (int i = 0; i < 24; i++) {
        v_f4_2x3x4[i] = (float)i / 4;
        v_i2_2x3x4[i] = (int16_t)i;
    }
    for (int i = 0; i < 12; i++)
        v_f8_3x4[i] = i;

    for (size_t k = 0; k < sizeof load_cases / sizeof load_cases[0]; k++) {
        const load_case *c = &load_cases[k];
        damo_err e;
        err_clear(&e);
        damo_dtype dtype;
        int ndim;
        int64_t shape[DAMO_MAX_DIMS];
        void *data;
        damo_status st = npy_load(data_file(c->file), &dtype, &ndim, shape, &data, &e);
        CHECK_MSG(st == DAMO_OK, "%s: %s", c->file, e.msg);
        if (st != DAMO_OK)
            continue;
        CHECK_MSG(dtype == c->dtype, "%s: dtype %s", c->file, damo_dtype_name(dtype));
        CHECK_MSG(ndim == c->ndim && !memcmp(shape, c->shape, sizeof(int64_t) * (size_t)ndim),
                  "%s: wrong shape", c->file);
        int64_t n = count_of(c->ndim, c->shape);
        if (c->values)
            CHECK_MSG(same_values(c->dtype, data, c->values, n), "%s: wrong values", c->file);

        const char *out = tmp_file("resaved.npy");
        st = npy_save(out, dtype, ndim, shape, data, &e);
        CHECK_MSG(st == DAMO_OK, "%s: save: %s", c->file, e.msg);
        if (c->save_identical) {
            size_t na = 0, nb = 0;
            unsigned char *a = slurp(data_file(c->file), &na), *b = slurp(out, &nb);
            CHECK_MSG(a && b && na == nb && !memcmp(a, b, na),
                      "%s: npy_save output differs from numpy.save's", c->file);
            free(a);
            free(b);
        }
        damo_dtype dtype2;
        int ndim2;
        int64_t shape2[DAMO_MAX_DIMS];
        void *data2;
        st = npy_load(out, &dtype2, &ndim2, shape2, &data2, &e);
        CHECK_MSG(st == DAMO_OK && dtype2 == dtype && ndim2 == ndim &&
                      !memcmp(shape2, shape, sizeof(int64_t) * (size_t)ndim) &&
                      same_values(dtype, data2, data, n),
                  "%s: round trip changed the array", c->file);
        if (st == DAMO_OK)
            free(data2);
        free(data);
    }
}

/* Saves and reloads arrays of every dtype at every rank up to the maximum. */
static void test_round_trip_all(void)
{
    unsigned char src[8 * 64];
    for (int t = 0; t < DAMO_NUM_DTYPES; t++) {
        /* arbitrary bytes; bools must be 0 or 1 to come back unchanged */
        for (size_t i = 0; i < sizeof src; i++)
            src[i] = (unsigned char)(i * 37 + 11) & (t == DAMO_BOOL ? 1 : 0xff);
        for (int ndim = 0; ndim <= DAMO_MAX_DIMS; ndim++) {
            int64_t shape[DAMO_MAX_DIMS];
            for (int i = 0; i < ndim; i++)
                shape[i] = i < 3 ? 2 + i % 2 : 1;
            int64_t n = count_of(ndim, shape);
            damo_err e;
            err_clear(&e);
            const char *out = tmp_file("rt.npy");
            damo_status st = npy_save(out, (damo_dtype)t, ndim, shape, src, &e);
            CHECK_MSG(st == DAMO_OK, "save %s %d-d: %s", damo_dtype_name((damo_dtype)t), ndim,
                      e.msg);
            damo_dtype dtype;
            int nd;
            int64_t sh[DAMO_MAX_DIMS];
            void *data;
            st = npy_load(out, &dtype, &nd, sh, &data, &e);
            CHECK_MSG(st == DAMO_OK && dtype == (damo_dtype)t && nd == ndim &&
                          !memcmp(sh, shape, sizeof(int64_t) * (size_t)ndim) &&
                          !memcmp(data, src, (size_t)n * damo_dtype_size(dtype)),
                      "round trip %s %d-d: %s", damo_dtype_name((damo_dtype)t), ndim, e.msg);
            if (st == DAMO_OK)
                free(data);
        }
    }
}

static damo_status try_load(const char *path, damo_err *e)
{
    damo_dtype dtype;
    int ndim;
    int64_t shape[DAMO_MAX_DIMS];
    void *data = (void *)&dtype;
    err_clear(e);
    damo_status st = npy_load(path, &dtype, &ndim, shape, &data, e);
    if (st == DAMO_OK)
        free(data);
    else
        CHECK_MSG(data == NULL, "%s: data left set on failure", path);
    return st;
}

static void expect_error(const char *path, damo_status code, const char *words)
{
    damo_err e;
    damo_status st = try_load(path, &e);
    CHECK_MSG(st == code, "%s: got %s (%s), expected %s", path, damo_status_name(st), e.msg,
              damo_status_name(code));
    CHECK_STR_HAS(e.msg, path);
    CHECK_STR_HAS(e.msg, words);
}

static void test_error_files(void)
{
    expect_error(data_file("err_bigendian.npy"), DAMO_ERR_TYPE, "big-endian");
    expect_error(data_file("err_complex.npy"), DAMO_ERR_TYPE, "'<c16'");
    expect_error(data_file("err_float16.npy"), DAMO_ERR_TYPE, "'<f2'");
    expect_error(data_file("err_unicode.npy"), DAMO_ERR_TYPE, "'<U2'");
    expect_error(data_file("err_structured.npy"), DAMO_ERR_TYPE, "structured");
    expect_error(data_file("err_9d.npy"), DAMO_ERR_FORMAT, "9 dimensions");
    expect_error(data_file("err_truncated.npy"), DAMO_ERR_FORMAT, "truncated");
    expect_error(data_file("err_badmagic.npy"), DAMO_ERR_FORMAT, "bad magic");
    expect_error(data_file("err_version.npy"), DAMO_ERR_FORMAT, "version 4.0");
    expect_error(data_file("err_hlen.npy"), DAMO_ERR_FORMAT, "past the end");
    expect_error(data_file("no_such_file.npy"), DAMO_ERR_IO, strerror(ENOENT));
    expect_error(DAMO_TEST_DATA_DIR, DAMO_ERR_IO, "not a regular file");
}

typedef struct header_case {
    const char *header;
    damo_status expect;
    const char *words; /* in the message, for an error */
} header_case;

/* Two accepted headers whose meaning is checked beyond being accepted. */
static const char fortran_header[] = "{\"descr\":\"=f8\",\"fortran_order\":True,\"shape\":(3,2)}\n";
static const char repeated_key_header[] =
    "{'descr': '<f8', 'fortran_order': False, 'shape': (+3,), 'shape': (2,)}";

/* Header texts a Python-literal parser must take or refuse. Each file gets
 * 48 data bytes, so every accepted header here describes <= 48 bytes. */
static const header_case header_cases[] = {
    {"{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", DAMO_OK, NULL},
    {"{'shape': (2, 3), 'fortran_order': False, 'descr': '<i4'}", DAMO_OK, NULL},
    {fortran_header, DAMO_OK, NULL},
    {" {\n 'descr' : '|u1' ,\n\t'fortran_order' : False ,\n 'shape' : ( 4 , 5 , ) ,\n }  \n",
     DAMO_OK, NULL},
    {"{'descr': '<i8', 'fortran_order': False, 'shape': (2L, 3L), }", DAMO_OK, NULL},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (), }", DAMO_OK, NULL},
    {"{'descr': '|?', 'fortran_order': False, 'shape': (0, 7), }", DAMO_OK, NULL},
    /* found by scripts/fuzz-npy.sh: no elements, but the other dimensions'
     * product overflows (UBSan caught the Fortran strides computing it) */
    {"{'descr': '<f8', 'fortran_order': True, 'shape': (1, 34, 2222222222222222222, 0), }",
     DAMO_OK, NULL},
    {"{'descr': '>u1', 'fortran_order': False, 'shape': (6,), }", DAMO_OK, NULL},
    {repeated_key_header, DAMO_OK, NULL},
    {"{'descr': '<f8', 'fortran_order': False, 'shape': (3), }", DAMO_ERR_FORMAT, "not a tuple"},
    {"{'descr': '<f8', 'fortran_order': False, 'shape': [3], }", DAMO_ERR_FORMAT, "not a tuple"},
    {"{'descr': '<f8', 'fortran_order': False, 'shape': (-3,), }", DAMO_ERR_FORMAT, "negative"},
    {"{'descr': '<f8', 'fortran_order': False, 'shape': (3,,), }", DAMO_ERR_FORMAT, "integer"},
    {"{'descr': '<f8', 'fortran_order': False, 'shape': (3 4), }", DAMO_ERR_FORMAT, "','"},
    {"{'descr': '<f8', 'fortran_order': False, 'shape': (3x,), }", DAMO_ERR_FORMAT, "integer"},
    {"{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999,), }",
     DAMO_ERR_FORMAT, "too large"},
    {"{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 4), }",
     DAMO_ERR_FORMAT, "too many elements"},
    {"{'descr': '<f8', 'fortran_order': False, 'shape': (1152921504606846976,), }",
     DAMO_ERR_FORMAT, "too many elements"},
    {"{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,), }", DAMO_ERR_FORMAT,
     "truncated"},
    {"{'descr': '<f8', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1), }",
     DAMO_ERR_FORMAT, "9 dimensions"},
    {"{'descr': '<f8', 'fortran_order': 0, 'shape': (3,), }", DAMO_ERR_FORMAT, "True or False"},
    {"{'descr': '<f8', 'fortran_order': Falsey, 'shape': (3,), }", DAMO_ERR_FORMAT,
     "True or False"},
    {"{'descr': '<f8', 'shape': (3,), }", DAMO_ERR_FORMAT, "no 'fortran_order'"},
    {"{'fortran_order': False, 'shape': (3,), }", DAMO_ERR_FORMAT, "no 'descr'"},
    {"{'descr': '<f8', 'fortran_order': False}", DAMO_ERR_FORMAT, "no 'shape'"},
    {"{'descr': '<f8', 'fortran_order': False, 'shape': (3,), 'x': 1}", DAMO_ERR_FORMAT,
     "unexpected key 'x'"},
    {"{'descr': '<f8', 'fortran_order': False, 'shape': (3,)", DAMO_ERR_FORMAT, "'}'"},
    {"{'descr': '<f8' 'fortran_order': False, 'shape': (3,)}", DAMO_ERR_FORMAT, "','"},
    {"{'descr' '<f8', 'fortran_order': False, 'shape': (3,)}", DAMO_ERR_FORMAT, "':'"},
    {"{'descr': '<f8, 'fortran_order': False, 'shape': (3,)}", DAMO_ERR_FORMAT, "malformed"},
    {"{'descr': '<f8', 'fortran_order': False, 'shape': (3,)} x", DAMO_ERR_FORMAT, "after"},
    {"['descr', '<f8']", DAMO_ERR_FORMAT, "'{'"},
    {"", DAMO_ERR_FORMAT, "'{'"},
    {"{'descr': 8, 'fortran_order': False, 'shape': (3,)}", DAMO_ERR_FORMAT, "not a string"},
    {"{'descr': '>i4', 'fortran_order': False, 'shape': (3,)}", DAMO_ERR_TYPE, "big-endian"},
    {"{'descr': '<c8', 'fortran_order': False, 'shape': (3,)}", DAMO_ERR_TYPE, "'<c8'"},
    {"{'descr': '|O', 'fortran_order': False, 'shape': (3,)}", DAMO_ERR_TYPE, "'|O'"},
    {"{'descr': '<f16', 'fortran_order': False, 'shape': (3,)}", DAMO_ERR_TYPE, "'<f16'"},
    {"{'descr': '<f8 ', 'fortran_order': False, 'shape': (3,)}", DAMO_ERR_TYPE, "'<f8 '"},
    {"{'descr': '', 'fortran_order': False, 'shape': (3,)}", DAMO_ERR_TYPE, "''"},
};

static void test_headers(void)
{
    unsigned char payload[48];
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (unsigned char)i;
    const char *path = tmp_file("hdr.npy");
    for (size_t k = 0; k < sizeof header_cases / sizeof header_cases[0]; k++) {
        const header_case *c = &header_cases[k];
        write_v1(path, c->header, payload, sizeof payload);
        damo_err e;
        damo_status st = try_load(path, &e);
        CHECK_MSG(st == c->expect, "header %s: got %s (%s)", c->header, damo_status_name(st),
                  e.msg);
        if (c->words && st != DAMO_OK) {
            CHECK_STR_HAS(e.msg, c->words);
            CHECK_STR_HAS(e.msg, path);
        }
    }

    /* What the accepted headers mean, checked on two of them. */
    damo_dtype dtype;
    int ndim;
    int64_t shape[DAMO_MAX_DIMS];
    void *data;
    damo_err e;
    write_v1(path, fortran_header, payload, sizeof payload);
    if (CHECK(npy_load(path, &dtype, &ndim, shape, &data, &e) == DAMO_OK)) {
        CHECK(dtype == DAMO_FLOAT64 && ndim == 2 && shape[0] == 3 && shape[1] == 2);
        /* Fortran (3, 2): C element (i, j) is stored element i + 3 j. */
        static const int stored[6] = {0, 3, 1, 4, 2, 5};
        for (int k = 0; k < 6; k++)
            CHECK(!memcmp((const char *)data + 8 * k, payload + 8 * stored[k], 8));
        free(data);
    }
    write_v1(path, repeated_key_header, payload, sizeof payload);
    if (CHECK(npy_load(path, &dtype, &ndim, shape, &data, &e) == DAMO_OK)) {
        CHECK(ndim == 1 && shape[0] == 2);
        free(data);
    }
}

/* npy_save's status and message for one call, which must name the path. */
static void expect_save_error(const char *path, damo_dtype dtype, int ndim,
                              const int64_t *shape, const void *data, damo_status code,
                              const char *words)
{
    damo_err e;
    err_clear(&e);
    damo_status st = npy_save(path, dtype, ndim, shape, data, &e);
    CHECK_MSG(st == code, "save %s: got %s (%s), expected %s", path, damo_status_name(st),
              e.msg, damo_status_name(code));
    CHECK_STR_HAS(e.msg, path);
    CHECK_STR_HAS(e.msg, words);
}

static void test_save_errors(void)
{
    damo_err e;
    int64_t shape[DAMO_MAX_DIMS + 1] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    double x[2] = {1, 2};
    const char *bad = tmp_file("bad.npy");
    expect_save_error(bad, DAMO_FLOAT64, DAMO_MAX_DIMS + 1, shape, x, DAMO_ERR_INVALID, "rank");
    int64_t neg[1] = {-1};
    expect_save_error(bad, DAMO_FLOAT64, 1, neg, x, DAMO_ERR_INVALID, "negative");
    expect_save_error(bad, DAMO_FLOAT64, 1, shape, NULL, DAMO_ERR_INVALID, "data is NULL");
    expect_save_error(bad, DAMO_NUM_DTYPES, 1, shape, x, DAMO_ERR_INVALID, "dtype");
    int64_t huge[2] = {INT64_MAX, 2};
    expect_save_error(bad, DAMO_FLOAT64, 2, huge, x, DAMO_ERR_INVALID, "too many elements");
    CHECK(npy_save(NULL, DAMO_FLOAT64, 1, shape, x, &e) == DAMO_ERR_INVALID);
    expect_save_error(tmp_file("no/such/dir.npy"), DAMO_FLOAT64, 1, shape, x, DAMO_ERR_IO,
                      strerror(ENOENT));
    expect_save_error(tmp_dir, DAMO_FLOAT64, 1, shape, x, DAMO_ERR_IO, strerror(EISDIR));
    int64_t zero[1] = {0};
    CHECK(npy_save(tmp_file("empty.npy"), DAMO_FLOAT64, 1, zero, NULL, &e) == DAMO_OK);
}

/* NULL arguments: the message names the path whenever there is one. */
static void test_null_arguments(void)
{
    damo_err e;
    damo_dtype dtype;
    int ndim;
    int64_t shape[DAMO_MAX_DIMS];
    void *data = &e;
    const char *path = data_file("f8_1d.npy");
    CHECK(npy_load(NULL, NULL, NULL, NULL, NULL, &e) == DAMO_ERR_INVALID);
    CHECK(npy_load(NULL, &dtype, &ndim, shape, &data, &e) == DAMO_ERR_INVALID);
    CHECK(data == NULL);
    CHECK_STR_HAS(e.msg, "path is NULL");
    CHECK(npy_load(path, &dtype, &ndim, shape, NULL, &e) == DAMO_ERR_INVALID);
    CHECK_STR_HAS(e.msg, path);
    CHECK(npy_load(path, NULL, &ndim, shape, &data, &e) == DAMO_ERR_INVALID);
    CHECK_STR_HAS(e.msg, path);
    CHECK(npy_load(path, &dtype, NULL, shape, &data, &e) == DAMO_ERR_INVALID);
    CHECK_STR_HAS(e.msg, path);
    CHECK(npy_load(path, &dtype, &ndim, NULL, &data, &e) == DAMO_ERR_INVALID);
    CHECK_STR_HAS(e.msg, path);
    CHECK(npy_parse("x", 1, "buf", &dtype, &ndim, shape, NULL, &e) == DAMO_ERR_INVALID);
    CHECK_STR_HAS(e.msg, "buf");
    CHECK(npy_parse("x", 1, NULL, &dtype, &ndim, shape, &data, &e) == DAMO_ERR_INVALID);
    CHECK(npy_parse(NULL, 1, "buf", &dtype, &ndim, shape, &data, &e) == DAMO_ERR_INVALID);
    CHECK_STR_HAS(e.msg, "buf");
    CHECK(npy_parse(NULL, 0, "buf", &dtype, &ndim, shape, &data, &e) == DAMO_ERR_FORMAT);
    CHECK_STR_HAS(e.msg, "buf: empty file");
}

static void on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "test_npy: timed out (opening a FIFO blocked)\n";
    if (write(STDERR_FILENO, msg, sizeof msg - 1) < 0)
        _exit(2);
    _exit(1);
}

/* A FIFO with nobody at the other end: opening it to read or write would
 * wait forever, so the alarm turns a hang into a failure. Both calls refuse
 * it and leave it in place. */
static void test_fifo(void)
{
    const char *path = tmp_file("fifo.npy");
    CHECK(mkfifo(path, 0600) == 0);
    signal(SIGALRM, on_alarm);
    alarm(30);
    expect_error(path, DAMO_ERR_IO, "not a regular file");
    double x[1] = {1};
    int64_t shape[1] = {1};
    expect_save_error(path, DAMO_FLOAT64, 1, shape, x, DAMO_ERR_IO, strerror(ENXIO));
    alarm(0);
    struct stat st;
    CHECK(lstat(path, &st) == 0 && S_ISFIFO(st.st_mode));
}

/* Each seed file from memory gives what npy_load gives from the file: the
 * same array, or the same error with the name in place of the path; and
 * every proper prefix of it is refused. */
static void test_parse_seeds(void)
{
    DIR *d = opendir(DAMO_TEST_DATA_DIR);
    CHECK(d != NULL);
    struct dirent *ent;
    int seeds = 0;
    while (d && (ent = readdir(d))) {
        size_t nlen = strlen(ent->d_name);
        if (nlen < 4 || strcmp(ent->d_name + nlen - 4, ".npy") != 0)
            continue;
        seeds++;
        char path[1024], name[300];
        snprintf(path, sizeof path, "%s", data_file(ent->d_name));
        snprintf(name, sizeof name, "mem:%s", ent->d_name);
        size_t n = 0;
        unsigned char *bytes = slurp(path, &n);
        if (!CHECK(bytes != NULL))
            continue;
        damo_err ef, em;
        err_clear(&ef);
        err_clear(&em);
        damo_dtype tf, tm;
        int ndf, ndm;
        int64_t shf[DAMO_MAX_DIMS], shm[DAMO_MAX_DIMS];
        void *df, *dm;
        damo_status sf = npy_load(path, &tf, &ndf, shf, &df, &ef);
        damo_status sm = npy_parse(bytes, n, name, &tm, &ndm, shm, &dm, &em);
        CHECK_MSG(sf == sm, "%s: load %s, parse %s", name, damo_status_name(sf),
                  damo_status_name(sm));
        if (sf == DAMO_OK && sm == DAMO_OK) {
            CHECK_MSG(tf == tm && ndf == ndm &&
                          !memcmp(shf, shm, sizeof(int64_t) * (size_t)ndf) &&
                          !memcmp(df, dm, (size_t)count_of(ndf, shf) * damo_dtype_size(tf)),
                      "%s: parse differs from load", name);
        } else if (sf != DAMO_OK && sm != DAMO_OK) {
            CHECK_MSG(!strncmp(em.msg, name, strlen(name)) &&
                          !strcmp(ef.msg + strlen(path), em.msg + strlen(name)),
                      "%s: \"%s\" vs \"%s\"", name, ef.msg, em.msg);
        }
        if (sf == DAMO_OK)
            free(df);
        if (sm == DAMO_OK)
            free(dm);
        int prefix_ok = 0;
        for (size_t len = 0; len < n; len++)
            if (npy_parse(bytes, len, name, &tm, &ndm, shm, &dm, &em) == DAMO_OK) {
                prefix_ok = 1;
                free(dm);
            }
        CHECK_MSG(!prefix_ok, "%s: a proper prefix parsed", name);
        free(bytes);
    }
    if (d)
        closedir(d);
    CHECK(seeds >= 20);
}

/* Every proper prefix of a valid file is an error, and random header bytes
 * never crash the reader (ASan and valgrind watch the memory). */
static void test_fuzz(void)
{
    size_t size = 0;
    unsigned char *good = slurp(data_file("f8_fortran_3x4.npy"), &size);
    CHECK(good != NULL && size > 128);
    if (!good)
        return;
    const char *path = tmp_file("fuzz.npy");
    int all_failed = 1;
    for (size_t len = 0; len < size; len++) {
        write_bytes(path, good, len);
        damo_err e;
        if (try_load(path, &e) == DAMO_OK)
            all_failed = 0;
    }
    CHECK(all_failed);

    uint64_t rng = 0x9e3779b97f4a7c15u;
    unsigned char *mut = malloc(size);
    int refused = 0;
    for (int iter = 0; iter < 3000; iter++) {
        memcpy(mut, good, size);
        int flips = 1 + iter % 4;
        for (int k = 0; k < flips; k++) {
            rng = rng * 6364136223846793005u + 1442695040888963407u;
            size_t pos = (size_t)(rng >> 33) % 128;
            mut[pos] = (unsigned char)(rng >> 17);
        }
        write_bytes(path, mut, size);
        damo_err e;
        refused += try_load(path, &e) != DAMO_OK;
    }
    CHECK(refused > 0);
    free(mut);
    free(good);
}

int main(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmp_dir, sizeof tmp_dir, "%s/damo_test_npy_XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmp_dir)) {
        fprintf(stderr, "mkdtemp: %s\n", strerror(errno));
        return 1;
    }
    test_load_and_resave();
    test_round_trip_all();
    test_error_files();
    test_headers();
    test_save_errors();
    test_null_arguments();
    test_fifo();
    test_parse_seeds();
    test_fuzz();
    static const char *const made[] = {"resaved.npy", "rt.npy", "hdr.npy", "empty.npy",
                                       "fuzz.npy", "bad.npy", "fifo.npy"};
    for (size_t i = 0; i < sizeof made / sizeof made[0]; i++)
        remove(tmp_file(made[i]));
    CHECK(rmdir(tmp_dir) == 0);
    return check_done();
}
