/* Functions with defaults, names, shared variables, updates, givens and
 * copies: the tutorial's sections "Setting a Default Value for an
 * Argument", "Using Shared Variables" and "Copying functions", with the
 * tutorial's printed values. */
#include <damo.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static damo_ctx *ctx;

/* Calls f and returns output 0 as a double (NAN on error). */
static double call_num(damo_function *f, const damo_arg *args, size_t n)
{
    damo_array *out = NULL;
    double v = NAN;
    damo_status st = damo_call(f, args, n, &out);
    CHECK_MSG(st == DAMO_OK, "call: %s", damo_function_errmsg(f));
    if (st == DAMO_OK)
        CHECK(damo_array_get_f64(out, 0, &v) == DAMO_OK);
    damo_array_release(out);
    return v;
}

static double state_of(damo_var *s)
{
    double v = NAN;
    CHECK(damo_shared_get_f64(s, &v) == DAMO_OK);
    return v;
}

static void test_defaults(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_var *x, *y, *w;
    CHECK(damo_dscalars(g, "x, y, w", &x, &y, &w) == DAMO_OK);
    damo_array *one = damo_array_scalar(ctx, DAMO_FLOAT64, 1);
    damo_array *two = damo_array_scalar(ctx, DAMO_FLOAT64, 2);
    /* f = function([x, In(y, value=1)], x + y) */
    damo_var *z = damo_add(x, y);
    damo_in in1[] = {{x, NULL, NULL}, {y, one, NULL}};
    damo_function_spec s1 = {in1, 2, &z, 1, NULL, 0, NULL, 0, 0};
    damo_function *f = damo_function_new(g, &s1);
    CHECK_MSG(f, "%s", damo_graph_errmsg(g));
    CHECK_CLOSE(call_num(f, (damo_arg[]){DAMO_NUM(33)}, 1), 34, 0, 0);
    CHECK_CLOSE(call_num(f, (damo_arg[]){DAMO_NUM(33), DAMO_NUM(2)}, 2), 35, 0, 0);

    /* function([x, In(y, value=1), In(w, value=2, name='w_by_name')], (x + y) * w) */
    damo_var *z2 = damo_mul(damo_add(x, y), w);
    damo_in in2[] = {{x, NULL, NULL}, {y, one, NULL}, {w, two, "w_by_name"}};
    damo_function_spec s2 = {in2, 3, &z2, 1, NULL, 0, NULL, 0, 0};
    damo_function *f2 = damo_function_new(g, &s2);
    CHECK_MSG(f2, "%s", damo_graph_errmsg(g));
    CHECK_CLOSE(call_num(f2, (damo_arg[]){DAMO_NUM(33)}, 1), 68, 0, 0);
    CHECK_CLOSE(call_num(f2, (damo_arg[]){DAMO_NUM(33), DAMO_NUM(2)}, 2), 70, 0, 0);
    CHECK_CLOSE(call_num(f2, (damo_arg[]){DAMO_NUM(33), DAMO_NUM(0), DAMO_NUM(1)}, 3), 33, 0, 0);
    CHECK_CLOSE(call_num(f2, (damo_arg[]){DAMO_NUM(33), DAMO_NAMED_NUM("w_by_name", 1)}, 2), 34, 0, 0);
    CHECK_CLOSE(call_num(f2, (damo_arg[]){DAMO_NUM(33), DAMO_NAMED_NUM("w_by_name", 1),
                                           DAMO_NAMED_NUM("y", 0)}, 3), 33, 0, 0);
    /* a value given twice, a missing value, an unknown name */
    damo_array *out = NULL;
    CHECK(damo_call(f2, (damo_arg[]){DAMO_NUM(33), DAMO_NUM(1), DAMO_NAMED_NUM("y", 0)}, 3, &out) ==
          DAMO_ERR_NAME);
    CHECK_STR_HAS(damo_function_errmsg(f2), "'y'");
    CHECK(damo_call(f2, (damo_arg[]){DAMO_NAMED_NUM("y", 0)}, 1, &out) == DAMO_ERR_INVALID);
    CHECK_STR_HAS(damo_function_errmsg(f2), "'x'");
    CHECK(damo_call(f2, (damo_arg[]){DAMO_NUM(1), DAMO_NAMED_NUM("w", 0)}, 2, &out) == DAMO_ERR_NAME);
    CHECK_STR_HAS(damo_function_errmsg(f2), "'w'");
    damo_array_release(one);
    damo_array_release(two);
    damo_function_free(f);
    damo_function_free(f2);
    damo_graph_free(g);
}

/* The tutorial's accumulator: state = shared(0), inc = iscalar('inc'),
 * function([inc], state, updates=[(state, state + inc)]). */
static damo_function *accumulator(damo_graph *g, damo_var **state, damo_var **inc,
                                  damo_update *up)
{
    *state = damo_shared_int(g, 0, "state");
    *inc = damo_iscalar(g, "inc");
    *up = (damo_update){*state, damo_add(*state, *inc)};
    damo_in in = {*inc, NULL, NULL};
    damo_function_spec s = {&in, 1, state, 1, up, 1, NULL, 0, 0};
    damo_function *acc = damo_function_new(g, &s);
    CHECK_MSG(acc, "%s", damo_graph_errmsg(g));
    return acc;
}

static void test_accumulator(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_var *state, *inc;
    damo_update up;
    damo_function *acc = accumulator(g, &state, &inc, &up);
    damo_in in[] = {{inc, NULL, NULL}};
    /* shared(0) is int64; iscalar is int32; state + inc is int64 */
    CHECK_INT(damo_var_dtype(state), DAMO_INT64);
    CHECK_INT(damo_var_dtype(up.expr), DAMO_INT64);
    CHECK_CLOSE(state_of(state), 0, 0, 0);
    CHECK_CLOSE(call_num(acc, (damo_arg[]){DAMO_NUM(1)}, 1), 0, 0, 0);
    CHECK_CLOSE(state_of(state), 1, 0, 0);
    CHECK_CLOSE(call_num(acc, (damo_arg[]){DAMO_NUM(300)}, 1), 1, 0, 0);
    CHECK_CLOSE(state_of(state), 301, 0, 0);
    /* state.set_value(-1); accumulator(3) -> -1; state -> 2 */
    damo_array *m1 = damo_array_scalar(ctx, DAMO_INT64, -1);
    CHECK(damo_shared_set_value(state, m1) == DAMO_OK);
    CHECK_CLOSE(call_num(acc, (damo_arg[]){DAMO_NUM(3)}, 1), -1, 0, 0);
    CHECK_CLOSE(state_of(state), 2, 0, 0);
    /* set_value checks the dtype */
    damo_array *wrong = damo_array_scalar(ctx, DAMO_FLOAT64, 1);
    CHECK(damo_shared_set_value(state, wrong) == DAMO_ERR_TYPE);
    CHECK_STR_HAS(damo_graph_errmsg(g), "'state'");
    /* a second function updates the same state: decrementor(2) -> 2, state -> 0 */
    damo_update down = {state, damo_sub(state, inc)};
    damo_function_spec sd = {in, 1, &state, 1, &down, 1, NULL, 0, 0};
    damo_function *dec = damo_function_new(g, &sd);
    CHECK_CLOSE(call_num(dec, (damo_arg[]){DAMO_NUM(2)}, 1), 2, 0, 0);
    CHECK_CLOSE(state_of(state), 0, 0, 0);
    /* givens: skip_shared(1, 3) -> 7 using foo for the state; state stays 0 */
    damo_var *foo = damo_tensor(g, damo_var_dtype(state), 0, NULL, "foo");
    damo_var *fn_of_state = damo_add(damo_mul(state, damo_int(g, 2)), inc);
    damo_in sin[] = {{inc, NULL, NULL}, {foo, NULL, NULL}};
    damo_given gv = {state, foo};
    damo_function_spec ss = {sin, 2, &fn_of_state, 1, NULL, 0, &gv, 1, 0};
    damo_function *skip = damo_function_new(g, &ss);
    CHECK_MSG(skip, "%s", damo_graph_errmsg(g));
    CHECK_CLOSE(call_num(skip, (damo_arg[]){DAMO_NUM(1), DAMO_NUM(3)}, 2), 7, 0, 0);
    CHECK_CLOSE(state_of(state), 0, 0, 0);
    /* a failing call (bad argument) changes no shared value */
    damo_array *out = NULL;
    CHECK(damo_call(acc, (damo_arg[]){DAMO_NUM(0.5)}, 1, &out) == DAMO_ERR_TYPE);
    CHECK_CLOSE(state_of(state), 0, 0, 0);
    /* a call that fails halfway (the update's value computed, then a shape
     * error in another step) changes no shared value either */
    damo_var *u = damo_dvector(g, "u"), *v = damo_dmatrix(g, "v");
    damo_var *uv = damo_add(u, v);
    damo_in hin[] = {{inc, NULL, NULL}, {u, NULL, NULL}, {v, NULL, NULL}};
    damo_function_spec sh = {hin, 3, &uv, 1, &up, 1, NULL, 0, 0};
    damo_function *half = damo_function_new(g, &sh);
    CHECK_MSG(half, "%s", damo_graph_errmsg(g));
    const double three[] = {1, 2, 3}, four[] = {1, 2, 3, 4};
    damo_array *ua = damo_array_from_data(ctx, DAMO_FLOAT64, 1, (int64_t[]){3}, three);
    damo_array *va = damo_array_from_data(ctx, DAMO_FLOAT64, 2, (int64_t[]){1, 4}, four);
    CHECK(damo_call(half, (damo_arg[]){DAMO_NUM(5), DAMO_ARG(ua), DAMO_ARG(va)}, 3, &out) ==
          DAMO_ERR_SHAPE);
    CHECK_STR_HAS(damo_function_errmsg(half), "'u'");
    CHECK_CLOSE(state_of(state), 0, 0, 0);
    damo_array_release(ua);
    damo_array_release(va);
    damo_function_free(half);
    /* update errors at compile time: not shared, updated twice, lossy type */
    damo_update bad1 = {inc, damo_add(inc, inc)};
    damo_function_spec sb1 = {in, 1, &state, 1, &bad1, 1, NULL, 0, 0};
    CHECK(!damo_function_new(g, &sb1));
    CHECK_STR_HAS(damo_graph_errmsg(g), "'inc'");
    damo_update twice[] = {up, down};
    damo_function_spec sb2 = {in, 1, &state, 1, twice, 2, NULL, 0, 0};
    CHECK(!damo_function_new(g, &sb2));
    CHECK_STR_HAS(damo_graph_errmsg(g), "twice");
    damo_update lossy = {state, damo_mul(state, damo_float(g, 0.5))};
    damo_function_spec sb3 = {in, 1, &state, 1, &lossy, 1, NULL, 0, 0};
    CHECK(!damo_function_new(g, &sb3));
    CHECK_INT(damo_graph_errcode(g), DAMO_ERR_TYPE);
    CHECK_STR_HAS(damo_graph_errmsg(g), "'state'");
    damo_array_release(m1);
    damo_array_release(wrong);
    damo_function_free(acc);
    damo_function_free(dec);
    damo_function_free(skip);
    damo_graph_free(g);
}

/* Several updates in one call see the old values (a swap), static shapes
 * of shared variables, a given of the wrong type, and device arrays passed
 * from one call to the next without a read. */
static void test_more(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_var *a = damo_shared_int(g, 1, "a"), *b = damo_shared_int(g, 2, "b");
    damo_update swap[] = {{a, b}, {b, a}};
    damo_function_spec s = {NULL, 0, &a, 1, swap, 2, NULL, 0, 0};
    damo_function *f = damo_function_new(g, &s);
    CHECK_MSG(f, "%s", damo_graph_errmsg(g));
    CHECK_CLOSE(call_num(f, NULL, 0), 1, 0, 0);
    CHECK(state_of(a) == 2 && state_of(b) == 1);
    CHECK_CLOSE(call_num(f, NULL, 0), 2, 0, 0);
    CHECK(state_of(a) == 1 && state_of(b) == 2);

    /* shape=(1, None): set_value may change the unknown size only */
    const double v3[] = {1, 2, 3}, v4[] = {1, 2, 3, 4};
    damo_array *r3 = damo_array_from_data(ctx, DAMO_FLOAT64, 2, (int64_t[]){1, 3}, v3);
    damo_array *r4 = damo_array_from_data(ctx, DAMO_FLOAT64, 2, (int64_t[]){1, 4}, v4);
    damo_array *c2 = damo_array_from_data(ctx, DAMO_FLOAT64, 2, (int64_t[]){2, 2}, v4);
    damo_var *w = damo_shared(g, r3, "w", (int64_t[]){1, DAMO_DIM_UNKNOWN});
    CHECK(w && damo_var_dim(w, 0) == 1 && damo_var_dim(w, 1) == DAMO_DIM_UNKNOWN);
    CHECK(damo_shared_set_value(w, r4) == DAMO_OK);
    CHECK(damo_shared_set_value(w, c2) == DAMO_ERR_SHAPE);
    CHECK_STR_HAS(damo_graph_errmsg(g), "'w'");
    CHECK(!damo_shared(g, c2, "bad", (int64_t[]){1, DAMO_DIM_UNKNOWN}));

    /* a given must keep the dtype */
    damo_var *x = damo_dvector(g, "x"), *k = damo_ivector(g, "k");
    damo_var *y = damo_exp(x);
    damo_given gv = {x, k};
    damo_in in[] = {{k, NULL, NULL}};
    damo_function_spec sg = {in, 1, &y, 1, NULL, 0, &gv, 1, 0};
    CHECK(!damo_function_new(g, &sg));
    CHECK_INT(damo_graph_errcode(g), DAMO_ERR_TYPE);
    CHECK_STR_HAS(damo_graph_errmsg(g), "'x'");
    CHECK_STR_HAS(damo_graph_errmsg(g), "'k'");

    /* an output left on the device feeds the next call as it is */
    damo_in xin = {x, NULL, NULL};
    damo_function_spec sd = {&xin, 1, &y, 1, NULL, 0, NULL, 0, DAMO_FN_DEVICE_ONLY};
    damo_function *fd = damo_function_new(g, &sd);
    const double zeros[2048] = {0};
    damo_array *in0 = damo_array_from_data(ctx, DAMO_FLOAT64, 1, (int64_t[]){2048}, zeros);
    damo_array *o1 = NULL, *o2 = NULL;
    CHECK(fd && damo_call(fd, (damo_arg[]){DAMO_ARG(in0)}, 1, &o1) == DAMO_OK);
    CHECK(o1 && damo_array_on_device(o1) && !damo_array_on_host(o1));
    CHECK(fd && damo_call(fd, (damo_arg[]){DAMO_ARG(o1)}, 1, &o2) == DAMO_OK);
    CHECK(o1 && !damo_array_on_host(o1)); /* never copied to the host */
    double e1 = 0;
    CHECK(o2 && damo_array_get_f64(o2, 2047, &e1) == DAMO_OK);
    CHECK_CLOSE(e1, 2.718281828459045, 4e-16, 0); /* exp(exp(0)) = e */
    damo_array_release(o1);
    damo_array_release(o2);
    damo_array_release(in0);
    damo_array_release(r3);
    damo_array_release(r4);
    damo_array_release(c2);
    damo_function_free(f);
    damo_function_free(fd);
    damo_graph_free(g);
}

/* The tutorial's "Copying functions" section. */
static void test_copy(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_var *state, *inc;
    damo_update up;
    damo_function *acc = accumulator(g, &state, &inc, &up);
    CHECK_CLOSE(call_num(acc, (damo_arg[]){DAMO_NUM(10)}, 1), 0, 0, 0);
    CHECK_CLOSE(state_of(state), 10, 0, 0);

    damo_cache_stats before, after;
    damo_ctx_cache_stats(ctx, &before);
    /* new_accumulator = accumulator.copy(swap={state: new_state}) */
    damo_var *new_state = damo_shared_int(g, 0, "new_state");
    damo_given swap = {state, new_state};
    damo_function *new_acc = damo_function_copy(acc, &swap, 1, 0);
    CHECK_MSG(new_acc, "%s", damo_function_errmsg(acc));
    CHECK_CLOSE(call_num(new_acc, (damo_arg[]){DAMO_NUM(100)}, 1), 0, 0, 0);
    CHECK_CLOSE(state_of(new_state), 100, 0, 0);
    CHECK_CLOSE(state_of(state), 10, 0, 0);
    /* null_accumulator = accumulator.copy(delete_updates=True) */
    damo_function *null_acc = damo_function_copy(acc, NULL, 0, 1);
    CHECK_MSG(null_acc, "%s", damo_function_errmsg(acc));
    CHECK_CLOSE(call_num(null_acc, (damo_arg[]){DAMO_NUM(9000)}, 1), 10, 0, 0);
    CHECK_CLOSE(state_of(state), 10, 0, 0);
    /* the copies reuse the compiled kernels: nothing was built again */
    damo_ctx_cache_stats(ctx, &after);
    CHECK_INT(after.builds, before.builds);
    CHECK_INT(after.disk_hits, before.disk_hits);
    /* the original is unchanged by its copies */
    CHECK_CLOSE(call_num(acc, (damo_arg[]){DAMO_NUM(1)}, 1), 10, 0, 0);
    CHECK_CLOSE(state_of(state), 11, 0, 0);
    /* swapping for a variable of another dtype is an error naming both */
    damo_var *fstate = damo_shared_float(g, 0, "fstate");
    damo_given bad = {state, fstate};
    CHECK(!damo_function_copy(acc, &bad, 1, 0));
    CHECK_STR_HAS(damo_function_errmsg(acc), "'fstate'");
    damo_function_free(acc);
    damo_function_free(new_acc);
    damo_function_free(null_acc);
    damo_graph_free(g);
}

/* Resident memory in KiB (host allocations and, on a CPU device, device
 * buffers too). */
static long rss_kib(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return resident * 4;
}

/* ASan's quarantine and valgrind's freed-block queue keep freed memory
 * resident on purpose, so resident size says nothing under them; their own
 * leak checks cover this test there. */
static int memory_tool_active(void)
{
#if defined(__SANITIZE_ADDRESS__)
    return 1;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
    return 1;
#endif
#endif
    const char *pre = getenv("LD_PRELOAD");
    return pre && strstr(pre, "vgpreload") != NULL;
}

/* 100 000 calls of the accumulator, each output read and released: the
 * state ends at the closed-form sum and memory does not grow. */
static void test_no_growth(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_var *state, *inc;
    damo_update up;
    damo_function *acc = accumulator(g, &state, &inc, &up);
    long before = 0;
    int ok = 1;
    for (int i = 1; i <= 101000 && ok; i++) {
        if (i == 1001)
            before = rss_kib();
        damo_arg a = DAMO_NUM(i);
        damo_array *out = NULL;
        double v;
        ok = damo_call(acc, &a, 1, &out) == DAMO_OK && damo_array_get_f64(out, 0, &v) == DAMO_OK &&
             v == (double)(i - 1) * i / 2;
        damo_array_release(out);
    }
    CHECK(ok);
    CHECK_CLOSE(state_of(state), 101000.0 * 101001 / 2, 0, 0);
    long growth = rss_kib() - before;
    if (!memory_tool_active())
        CHECK_MSG(growth < 256, "resident memory grew by %ld KiB over 100000 calls", growth);
    damo_function_free(acc);
    damo_graph_free(g);
}

int main(void)
{
    char err[512];
    if (damo_ctx_new(&ctx, err, sizeof err) != DAMO_OK) {
        fprintf(stderr, "no device: %s\n", err);
        return 1;
    }
    test_defaults();
    test_accumulator();
    test_copy();
    test_more();
    test_no_growth();
    damo_ctx_free(ctx);
    return check_done();
}
