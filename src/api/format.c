/* A port of the parts of numpy/_core/arrayprint.py that repr() uses with
 * the default options: _formatArray's line wrapping and summarisation,
 * FloatingFormat, IntegerFormat and BoolFormat, and array_repr's suffixes.
 * NumPy's Dragon4 digits are reproduced with printf: the fewest digits that
 * read back as the same value ("unique"), which strtod/strtof can check. */
#include "format.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/dtype.h"
#include "../common/strbuf.h"

/* numpy.get_printoptions() defaults */
enum { LINE_WIDTH = 75, THRESHOLD = 1000, EDGE_ITEMS = 3, PRECISION = 8 };
static const char repr_prefix[] = "array(";

/* Longest element text: a padded float is at most ~25 characters. */
enum { WORD_MAX = 96 };

typedef struct formatter {
    damo_dtype dtype;
    int ndim;
    const int64_t *shape;
    int64_t strides[DAMO_MAX_DIMS];
    const void *data;
    int summarize;

    int int_width; /* IntegerFormat */

    /* FloatingFormat */
    int any_nonzero, any_nonfinite, any_neginf;
    double max_abs, min_abs; /* over nonzero finite values */
    int exp_format;
    int precision; /* digits after the point in exponent format */
    int pad_left, pad_right, exp_size;
} formatter;

/* A printed number cut into its parts, whatever the locale's radix. */
typedef struct num_parts {
    char ipart[WORD_MAX]; /* sign and integer digits */
    char radix[8];        /* as printf wrote it, so that strtod reads it back */
    char fpart[WORD_MAX]; /* fraction digits */
    int has_exp, exp;
} num_parts;

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* Copies the digits at s into dst (size bytes); returns what follows them. */
static const char *copy_digits(const char *s, char *dst, size_t size)
{
    size_t n = 0;
    while (is_digit(*s) && n + 1 < size)
        dst[n++] = *s++;
    dst[n] = '\0';
    return s;
}

static void split_number(const char *s, num_parts *p)
{
    int neg = *s == '-';
    p->ipart[0] = '-';
    s = copy_digits(s + neg, p->ipart + neg, sizeof p->ipart - 1);
    size_t n = 0;
    while (*s && !is_digit(*s) && *s != 'e' && n + 1 < sizeof p->radix)
        p->radix[n++] = *s++;
    p->radix[n] = '\0';
    s = copy_digits(s, p->fpart, sizeof p->fpart);
    p->has_exp = *s == 'e';
    p->exp = p->has_exp ? atoi(s + 1) : 0;
}

/* Digits in the exponent as printf writes it: at least two. */
static int exp_digits(int exp)
{
    int n = 1;
    for (exp = abs(exp); exp >= 10; exp /= 10)
        n++;
    return n < 2 ? 2 : n;
}

/* Room for "%.8f" of the largest double (309 integer digits). */
enum { PRINT_MAX = 400 };

static void print_conv(char *buf, char conv, int digits, double x)
{
    snprintf(buf, PRINT_MAX, conv == 'e' ? "%.*e" : "%.*f", digits, x);
}

static int reads_back(const num_parts *p, double x, int is_f32)
{
    char buf[PRINT_MAX];
    snprintf(buf, sizeof buf, p->has_exp ? "%s%s%se%d" : "%s%s%s", p->ipart, p->radix, p->fpart,
             p->exp);
    if (is_f32)
        return strtof(buf, NULL) == (float)x;
    return strtod(buf, NULL) == x;
}

/* Adds one unit in the last digit to the magnitude of p. */
static void step_up(num_parts *p)
{
    char *parts[2] = {p->fpart, p->ipart};
    for (int k = 0; k < 2; k++) {
        for (size_t i = strlen(parts[k]); i-- > 0 && is_digit(parts[k][i]);) {
            if (parts[k][i] != '9') {
                parts[k][i]++;
                return;
            }
            parts[k][i] = '0';
        }
    }
    /* every digit was a 9 and is now a 0: 9.99e+04 -> 1.00e+05, 99.9 -> 100.0 */
    char *first = p->ipart + (p->ipart[0] == '-');
    if (p->has_exp) {
        *first = '1';
        p->exp++;
    } else if (strlen(p->ipart) + 1 < sizeof p->ipart) {
        memmove(first + 1, first, strlen(first) + 1);
        *first = '1';
    }
}

/* Dragon4 with unique=True, precision=PRECISION, trim='.': the fewest
 * digits after the point that identify x, or PRECISION digits when more
 * would be needed, then trailing zeros dropped. conv is 'e' or 'f'.
 * Dragon4 takes the shortest digits inside x's rounding interval, which
 * the correctly rounded printf text is, except at a power of two: there
 * the interval reaches twice as far above x as below it, so the digits
 * rounded up can identify x when those rounded to nearest (down) do not.
 * NumPy only prints positionally below 10**8 (10**6 for float32), where
 * every integer is exact, so %f never prints digits past the unique ones. */
static void unique_digits(double x, int is_f32, char conv, num_parts *p)
{
    char buf[PRINT_MAX];
    int e;
    int pow2 = fabs(frexp(x, &e)) == 0.5;
    for (int digits = 0;; digits++) {
        print_conv(buf, conv, digits, x);
        split_number(buf, p);
        if (reads_back(p, x, is_f32))
            break;
        if (pow2) {
            num_parts up = *p;
            step_up(&up);
            if (reads_back(&up, x, is_f32)) {
                *p = up;
                break;
            }
        }
        if (digits == PRECISION)
            break;
    }
    size_t n = strlen(p->fpart);
    while (n > 0 && p->fpart[n - 1] == '0')
        p->fpart[--n] = '\0';
}

static double elem_double(const formatter *f, int64_t i)
{
    return hval_to_double(f->dtype, hval_load(f->dtype, f->data, i));
}

static int imax(int a, int b) { return a > b ? a : b; }

/* Visits the elements the output shows: all of them, or only the
 * EDGE_ITEMS at each end of a long axis when summarising. */
typedef void (*visit_fn)(formatter *f, int64_t index);

static void for_each_shown(formatter *f, int axis, int64_t offset, visit_fn fn)
{
    if (axis == f->ndim) {
        fn(f, offset);
        return;
    }
    int64_t n = f->shape[axis];
    int cut = f->summarize && n > 2 * EDGE_ITEMS;
    for (int64_t i = 0; i < n; i++) {
        if (cut && i == EDGE_ITEMS)
            i = n - EDGE_ITEMS;
        for_each_shown(f, axis + 1, offset + i * f->strides[axis], fn);
    }
}

static int int_text(const formatter *f, int64_t i, char *buf, size_t size)
{
    hval v = hval_load(f->dtype, f->data, i);
    if (dtype_kind_of(f->dtype) == KIND_INT)
        return snprintf(buf, size, "%lld", (long long)v.i);
    return snprintf(buf, size, "%llu", (unsigned long long)v.u);
}

static void visit_int_width(formatter *f, int64_t i)
{
    char buf[32];
    f->int_width = imax(f->int_width, int_text(f, i, buf, sizeof buf));
}

static void visit_float_range(formatter *f, int64_t i)
{
    double x = elem_double(f, i);
    if (!isfinite(x)) {
        f->any_nonfinite = 1;
        f->any_neginf |= isinf(x) && x < 0;
        return;
    }
    if (x == 0)
        return;
    double a = fabs(x);
    if (!f->any_nonzero || a > f->max_abs)
        f->max_abs = a;
    if (!f->any_nonzero || a < f->min_abs)
        f->min_abs = a;
    f->any_nonzero = 1;
}

static void visit_float_widths(formatter *f, int64_t i)
{
    double x = elem_double(f, i);
    if (!isfinite(x))
        return;
    num_parts p;
    unique_digits(x, f->dtype == DAMO_FLOAT32, f->exp_format ? 'e' : 'f', &p);
    f->pad_left = imax(f->pad_left, (int)strlen(p.ipart));
    if (f->exp_format) {
        f->precision = imax(f->precision, (int)strlen(p.fpart));
        f->exp_size = imax(f->exp_size, exp_digits(p.exp));
    } else {
        f->pad_right = imax(f->pad_right, (int)strlen(p.fpart));
    }
}

/* FloatingFormat.fillFormat with sign='-', suppress_small=False. */
static void fill_float_format(formatter *f)
{
    for_each_shown(f, 0, 0, visit_float_range);
    if (f->any_nonzero) {
        /* NumPy compares in the array's dtype, and caps the positional
         * range at 10**min(8, finfo(dtype).precision). */
        if (f->dtype == DAMO_FLOAT32) {
            float mx = (float)f->max_abs, mn = (float)f->min_abs;
            f->exp_format = mx >= 1e6f || mn < 0.0001f || mx / mn > 1000.f;
        } else {
            f->exp_format = f->max_abs >= 1e8 || f->min_abs < 0.0001 ||
                            f->max_abs / f->min_abs > 1000.;
        }
    }
    for_each_shown(f, 0, 0, visit_float_widths);
    if (f->exp_format)
        f->pad_right = f->exp_size + 2 + f->precision;
    if (f->any_nonfinite) {
        /* room for "nan", "inf" and "-inf" across the whole column */
        int offset = f->pad_right + 1;
        f->pad_left = imax(f->pad_left, imax(3 - offset, 3 + f->any_neginf - offset));
    }
}

/* The element's text in buf (WORD_MAX bytes); returns its length. */
static int float_text(const formatter *f, int64_t i, char *buf)
{
    double x = elem_double(f, i);
    int width = f->pad_left + f->pad_right + 1;
    if (isnan(x))
        return snprintf(buf, WORD_MAX, "%*s", width, "nan");
    if (isinf(x))
        return snprintf(buf, WORD_MAX, "%*s", width, x < 0 ? "-inf" : "inf");
    num_parts p;
    if (f->exp_format) {
        /* precision == min_digits: the unique digits when there are that
         * many, else exactly `precision` digits of x, rounded */
        unique_digits(x, f->dtype == DAMO_FLOAT32, 'e', &p);
        if ((int)strlen(p.fpart) != f->precision) {
            char tmp[PRINT_MAX];
            print_conv(tmp, 'e', f->precision, x);
            split_number(tmp, &p);
        }
        return snprintf(buf, WORD_MAX, "%*s.%se%c%0*d", f->pad_left, p.ipart, p.fpart,
                        p.exp < 0 ? '-' : '+', f->exp_size, abs(p.exp));
    }
    unique_digits(x, f->dtype == DAMO_FLOAT32, 'f', &p);
    return snprintf(buf, WORD_MAX, "%*s.%-*s", f->pad_left, p.ipart, f->pad_right, p.fpart);
}

static int elem_text(const formatter *f, int64_t i, char *buf)
{
    switch (dtype_kind_of(f->dtype)) {
    case KIND_BOOL:
        /* " True" lines up with "False", except in a 0-d array */
        return snprintf(buf, WORD_MAX, "%s",
                        hval_load(f->dtype, f->data, i).u ? (f->ndim ? " True" : "True")
                                                          : "False");
    case KIND_FLOAT:
        return float_text(f, i, buf);
    default: {
        char digits[32];
        int_text(f, i, digits, sizeof digits);
        return snprintf(buf, WORD_MAX, "%*s", f->int_width, digits);
    }
    }
}

static void put_spaces(strbuf *b, int n)
{
    for (int i = 0; i < n; i++)
        sb_putn(b, " ", 1);
}

/* _extendLine: starts a new line (indented) when the word does not fit,
 * unless the line holds nothing but its indent. */
static void extend_line(strbuf *s, strbuf *line, const char *word, size_t wlen, int width,
                        int indent)
{
    if (line->len + wlen > (size_t)width && line->len > (size_t)indent) {
        size_t keep = line->len;
        while (keep > 0 && line->s[keep - 1] == ' ')
            keep--;
        sb_putn(s, line->s, keep);
        sb_putn(s, "\n", 1);
        line->len = 0;
        put_spaces(line, indent);
    }
    sb_putn(line, word, wlen);
}

/* _formatArray's recurser: appends the bracketed text of the sub-array at
 * `offset` along `axis`. Lines after the first start with `indent` spaces;
 * `width` is the room left before the closing brackets. */
static void format_axis(const formatter *f, strbuf *out, int axis, int64_t offset, int indent,
                        int width)
{
    char word[WORD_MAX];
    if (axis == f->ndim) {
        sb_putn(out, word, (size_t)elem_text(f, offset, word));
        return;
    }
    int64_t n = f->shape[axis], stride = f->strides[axis];
    int summary = f->summarize && n > 2 * EDGE_ITEMS;
    /* Built with the first line's indent too, then cut, as NumPy does. */
    strbuf s;
    sb_init(&s);
    if (axis == f->ndim - 1) {
        int elem_width = width - 1; /* room for the ',' or ']' after it */
        strbuf line;
        sb_init(&line);
        put_spaces(&line, indent);
        for (int64_t i = 0; i < n; i++) {
            if (summary && i == EDGE_ITEMS) {
                extend_line(&s, &line, "...", 3, elem_width, indent);
                sb_puts(&line, ", ");
                i = n - EDGE_ITEMS;
            }
            size_t wlen = (size_t)elem_text(f, offset + i * stride, word);
            extend_line(&s, &line, word, wlen, elem_width, indent);
            if (i < n - 1)
                sb_puts(&line, ", ");
        }
        if (line.failed)
            s.failed = 1;
        else
            sb_putn(&s, line.s, line.len);
        sb_free(&line);
    } else {
        /* a blank line between blocks for each axis below the next */
        int newlines = f->ndim - axis - 1;
        for (int64_t i = 0; i < n; i++) {
            if (summary && i == EDGE_ITEMS) {
                put_spaces(&s, indent);
                sb_puts(&s, "...,");
                for (int k = 0; k < newlines; k++)
                    sb_putn(&s, "\n", 1);
                i = n - EDGE_ITEMS;
            }
            put_spaces(&s, indent);
            format_axis(f, &s, axis + 1, offset + i * stride, indent + 1, width - 1);
            if (i < n - 1) {
                sb_putn(&s, ",", 1);
                for (int k = 0; k < newlines; k++)
                    sb_putn(&s, "\n", 1);
            }
        }
    }
    if (s.failed) {
        out->failed = 1;
    } else {
        sb_putn(out, "[", 1);
        sb_putn(out, s.s + indent, s.len - (size_t)indent);
        sb_putn(out, "]", 1);
    }
    sb_free(&s);
}

static void put_shape(strbuf *b, int ndim, const int64_t *shape)
{
    sb_putn(b, "(", 1);
    for (int i = 0; i < ndim; i++)
        sb_printf(b, i ? ", %lld" : "%lld", (long long)shape[i]);
    sb_puts(b, ndim == 1 ? ",)" : ")");
}

char *format_array_repr(damo_dtype dtype, int ndim, const int64_t *shape, const void *data)
{
    formatter f;
    memset(&f, 0, sizeof f);
    f.dtype = dtype;
    f.ndim = ndim;
    f.shape = shape;
    f.data = data;
    int64_t count = 1;
    for (int i = ndim - 1; i >= 0; i--) {
        f.strides[i] = count;
        count *= shape[i];
    }
    f.summarize = count > THRESHOLD;
    if (count > 0) {
        if (dtype_kind_of(dtype) == KIND_FLOAT)
            fill_float_format(&f);
        else if (dtype_kind_of(dtype) != KIND_BOOL)
            for_each_shown(&f, 0, 0, visit_int_width);
    }

    strbuf b;
    sb_init(&b);
    sb_puts(&b, repr_prefix);
    if (count == 0)
        sb_puts(&b, "[]");
    else
        /* array2string keeps room for repr's closing ')' */
        format_axis(&f, &b, 0, 0, (int)strlen(repr_prefix) + 1, LINE_WIDTH - 1);

    /* array_repr adds what the text does not imply: the shape when it is
     * hidden (empty or summarised), and any dtype but int64, float64, bool */
    strbuf extra;
    sb_init(&extra);
    if ((count == 0 && !(ndim == 1 && shape[0] == 0)) || count > THRESHOLD) {
        sb_puts(&extra, "shape=");
        put_shape(&extra, ndim, shape);
    }
    if (count == 0 || !(dtype == DAMO_INT64 || dtype == DAMO_FLOAT64 || dtype == DAMO_BOOL))
        sb_printf(&extra, "%sdtype=%s", extra.len ? ", " : "", damo_dtype_name(dtype));
    if (extra.len) {
        sb_putn(&b, ",", 1);
        const char *nl = b.s ? strrchr(b.s, '\n') : NULL;
        size_t last_line = nl ? b.len - (size_t)(nl - b.s + 1) : b.len;
        /* the extras and the closing ')' go on their own line if need be */
        if (last_line + extra.len + 2 > LINE_WIDTH) {
            sb_putn(&b, "\n", 1);
            put_spaces(&b, (int)strlen(repr_prefix));
        } else {
            sb_putn(&b, " ", 1);
        }
        if (extra.failed)
            b.failed = 1;
        else
            sb_putn(&b, extra.s, extra.len);
    }
    sb_free(&extra);
    sb_putn(&b, ")", 1);
    return sb_take(&b);
}
