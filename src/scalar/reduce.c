/* Reductions on the host: dtype rules and the combine steps constant
 * folding runs. The generated kernels combine the same way. */
#include "reduce.h"

#include <math.h>

static const char *const names[RED_COUNT] = {"sum", "prod", "mean", "max", "min",
                                             "all", "any", "argmax", "argmin"};

const char *red_name(red_kind k) { return (unsigned)k < RED_COUNT ? names[k] : "?"; }

int red_has_identity(red_kind k)
{
    return k != RED_MAX && k != RED_MIN && k != RED_ARGMAX && k != RED_ARGMIN;
}

int red_is_arg(red_kind k) { return k == RED_ARGMAX || k == RED_ARGMIN; }

damo_dtype red_out_dtype(red_kind k, damo_dtype in)
{
    dtype_kind kind = dtype_kind_of(in);
    switch (k) {
    case RED_SUM:
    case RED_PROD:
        return kind == KIND_FLOAT ? in : kind == KIND_UINT ? DAMO_UINT64 : DAMO_INT64;
    case RED_MEAN:
        return kind == KIND_FLOAT ? in : DAMO_FLOAT64;
    case RED_ALL:
    case RED_ANY:
        return DAMO_BOOL;
    case RED_ARGMAX:
    case RED_ARGMIN:
        return DAMO_INT64;
    default:
        return in;
    }
}

damo_dtype red_acc_dtype(red_kind k, damo_dtype in, int fp64)
{
    if (k == RED_SUM || k == RED_PROD || k == RED_MEAN) {
        damo_dtype out = red_out_dtype(k, in);
        return out == DAMO_FLOAT32 && fp64 ? DAMO_FLOAT64 : out;
    }
    return k == RED_ALL || k == RED_ANY ? DAMO_BOOL : in;
}

static int is_float(damo_dtype t) { return dtype_kind_of(t) == KIND_FLOAT; }

static double as_double(damo_dtype t, hval v) { return hval_to_double(t, v); }

void red_init(red_kind k, damo_dtype acc, red_acc *a)
{
    a->c = hval_from_int(acc, 0);
    a->index = -1;
    switch (k) {
    case RED_PROD:
    case RED_ALL:
        a->s = hval_from_int(acc, 1);
        break;
    default:
        a->s = hval_from_int(acc, 0);
        break;
    }
}

/* Kahan's step on a float64 sum s with compensation c. An infinite sum
 * keeps no compensation: inf - inf would make it NaN. */
static inline void kahan64(double *s, double *c, double v)
{
    double y = v - *c, t = *s + y;
    *c = isfinite(t) ? (t - *s) - y : 0;
    *s = t;
}

/* Kahan's step in the acc dtype's host class (float32 adds round to float
 * as the device's do). */
static void kahan(damo_dtype acc, red_acc *a, double v)
{
    if (acc == DAMO_FLOAT32) {
        float y = (float)v - a->c.f32, t = a->s.f32 + y;
        a->c.f32 = isfinite(t) ? (t - a->s.f32) - y : 0;
        a->s.f32 = t;
    } else {
        kahan64(&a->s.f64, &a->c.f64, v);
    }
}

/* a better than b for max (sign 1) or min (-1), NaN first: the first NaN
 * wins, as in NumPy. */
static int better(damo_dtype t, hval a, hval b, int sign)
{
    if (is_float(t)) {
        double x = as_double(t, a), y = as_double(t, b);
        if (isnan(y))
            return 0;
        return isnan(x) || (sign > 0 ? x > y : x < y);
    }
    if (dtype_kind_of(t) == KIND_UINT)
        return sign > 0 ? a.u > b.u : a.u < b.u;
    return sign > 0 ? a.i > b.i : a.i < b.i;
}

void red_step(red_kind k, damo_dtype in, damo_dtype acc, red_acc *a, hval v, int64_t index)
{
    hval x = hval_convert(in, acc, v);
    switch (k) {
    case RED_SUM:
    case RED_MEAN:
        if (is_float(acc))
            kahan(acc, a, as_double(acc, x));
        else
            a->s = hval_wrap(acc, (hval){.u = a->s.u + x.u});
        break;
    case RED_PROD:
        if (acc == DAMO_FLOAT32)
            a->s.f32 *= x.f32;
        else if (acc == DAMO_FLOAT64)
            a->s.f64 *= x.f64;
        else
            a->s = hval_wrap(acc, (hval){.u = a->s.u * x.u});
        break;
    case RED_MAX:
    case RED_MIN:
    case RED_ARGMAX:
    case RED_ARGMIN: {
        int sign = k == RED_MAX || k == RED_ARGMAX ? 1 : -1;
        if (a->index < 0 || better(acc, x, a->s, sign)) {
            a->s = x;
            a->index = index;
        }
        break;
    }
    case RED_ALL:
        a->s.u = a->s.u && x.u;
        break;
    case RED_ANY:
        a->s.u = a->s.u || x.u;
        break;
    default:
        break;
    }
}

int red_order_free(red_kind k, damo_dtype acc) { return !is_float(acc) || red_is_arg(k); }

/* A float64 sum's lanes over the whole blocks and vectors of red_row:
 * kahan() on arrays the compiler vectorizes (the lanes are independent;
 * 3.6 ns a value as red_step, one lane after another). */
HOST_CLONES static void sum_f64_lanes(double *s, double *c, const hval *v, int64_t blocks,
                                      int64_t vectors, int lanes, int width)
{
    for (int64_t j = 0; j < vectors; j += j < blocks ? width : lanes) {
        int w = j < blocks ? width : lanes;
        for (int l = 0; l < w; l++)
            kahan64(&s[l], &c[l], v[j + l].f64);
    }
}

void red_row(red_kind k, damo_dtype in, damo_dtype acc, red_acc *a, const hval *v, int64_t n,
             int lanes, int chains)
{
    int fast = (k == RED_SUM || k == RED_MEAN) && in == DAMO_FLOAT64 && acc == DAMO_FLOAT64;
    int width = lanes * chains;
    /* whole blocks of every chain, then vectors into chain 0, then the
     * rest one value at a time into the result's own accumulator (with no
     * lanes, all of them); lanes are independent chains, taken in turn */
    int64_t blocks = lanes ? n / width * width : 0;
    int64_t vectors = lanes ? blocks + (n - blocks) / lanes * lanes : 0;
    if (fast) {
        /* red_step's steps without its conversions and switch, the
         * result's sum in registers */
        double s[RED_ROW_MAX], c[RED_ROW_MAX], as = a->s.f64, ac = a->c.f64;
        for (int l = 0; l < width; l++)
            s[l] = c[l] = 0;
        sum_f64_lanes(s, c, v, blocks, vectors, lanes, width);
        for (int64_t j = vectors; j < n; j++)
            kahan64(&as, &ac, v[j].f64);
        for (int l = 0; l < width; l++) {
            kahan64(&as, &ac, s[l]);
            kahan64(&as, &ac, -c[l]);
        }
        a->s.f64 = as;
        a->c.f64 = ac;
        return;
    }
    red_acc lane[RED_ROW_MAX];
    for (int l = 0; l < width; l++)
        red_init(k, acc, &lane[l]);
    for (int64_t j = 0; j < blocks; j += width)
        for (int l = 0; l < width; l++)
            red_step(k, in, acc, &lane[l], v[j + l], j + l);
    for (int64_t j = blocks; j < vectors; j += lanes)
        for (int l = 0; l < lanes; l++)
            red_step(k, in, acc, &lane[l], v[j + l], j + l);
    for (int64_t j = vectors; j < n; j++)
        red_step(k, in, acc, a, v[j], j);
    if (!lanes)
        return;
    /* the lanes folded in, chain by chain, each with its compensation; a
     * kernel's empty max or min lane holds -inf or inf, which changes
     * nothing, where the host's holds no value (index -1) */
    int kahan_kind = (k == RED_SUM || k == RED_MEAN) && is_float(acc);
    for (int l = 0; l < width; l++) {
        if ((k == RED_MAX || k == RED_MIN) && lane[l].index < 0)
            continue;
        red_step(k, acc, acc, a, lane[l].s, 0);
        if (kahan_kind)
            red_step(k, acc, acc, a, hval_from_double(acc, -as_double(acc, lane[l].c)), 0);
    }
}

hval red_finish(red_kind k, damo_dtype in, damo_dtype acc, const red_acc *a, int64_t count)
{
    damo_dtype out = red_out_dtype(k, in);
    if (red_is_arg(k))
        return (hval){.i = a->index};
    if ((k == RED_SUM || k == RED_MEAN) && is_float(acc)) {
        /* the compensation is what the last add lost */
        double s = acc == DAMO_FLOAT32 ? (double)(a->s.f32 - a->c.f32) : a->s.f64 - a->c.f64;
        if (k == RED_MEAN)
            s = acc == DAMO_FLOAT32 ? (double)((float)s / (float)count) : s / (double)count;
        return hval_convert(DAMO_FLOAT64, out, (hval){.f64 = s});
    }
    return hval_convert(acc, out, a->s);
}
