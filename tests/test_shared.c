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
    damo_status st = damo_call(f, args, n, &out, 1);
    CHECK_MSG(st == DAMO_OK, "call: %s", damo_function_errmsg(f));
    if (st == DAMO_OK)
        CHECK(damo_array_get_f64(out, 0, &v) == DAMO_OK);
    damo_array_release(out);
    return v;
}

static double state_of(damo_shared *s)
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
    /* f = function([x, In(y, value=1)], x + y) */
    damo_var *z = damo_add(x, y);
    damo_spec *s1 = damo_spec_new(g);
    damo_spec_input(s1, x);
    damo_spec_input_default(s1, y, DAMO_INT(1));
    damo_spec_output(s1, z);
    damo_function *f = damo_compile(s1);
    damo_spec_free(s1);
    CHECK_MSG(f, "%s", damo_graph_errmsg(g));
    CHECK_CLOSE(call_num(f, (damo_arg[]){DAMO_INT(33)}, 1), 34, 0, 0);
    CHECK_CLOSE(call_num(f, (damo_arg[]){DAMO_INT(33), DAMO_INT(2)}, 2), 35, 0, 0);

    /* function([x, In(y, value=1), In(w, value=2, name='w_by_name')], (x + y) * w) */
    damo_var *z2 = damo_mul(damo_add(x, y), w);
    damo_spec *s2 = damo_spec_new(g);
    damo_spec_input(s2, x);
    damo_spec_input_default(s2, y, DAMO_INT(1));
    damo_spec_input_default(s2, w, damo_named("w_by_name", DAMO_INT(2)));
    damo_spec_output(s2, z2);
    damo_function *f2 = damo_compile(s2);
    damo_spec_free(s2);
    CHECK_MSG(f2, "%s", damo_graph_errmsg(g));
    CHECK_CLOSE(call_num(f2, (damo_arg[]){DAMO_INT(33)}, 1), 68, 0, 0);
    CHECK_CLOSE(call_num(f2, (damo_arg[]){DAMO_INT(33), DAMO_INT(2)}, 2), 70, 0, 0);
    CHECK_CLOSE(call_num(f2, (damo_arg[]){DAMO_INT(33), DAMO_INT(0), DAMO_INT(1)}, 3), 33, 0, 0);
    CHECK_CLOSE(call_num(f2, (damo_arg[]){DAMO_INT(33), damo_named("w_by_name", DAMO_INT(1))}, 2),
                34, 0, 0);
    CHECK_CLOSE(call_num(f2, (damo_arg[]){DAMO_INT(33), damo_named("w_by_name", DAMO_INT(1)),
                                           damo_named("y", DAMO_INT(0))}, 3), 33, 0, 0);
    /* a value given twice, a missing value, an unknown name */
    damo_array *out = NULL;
    CHECK(damo_call(f2, (damo_arg[]){DAMO_INT(33), DAMO_INT(1), damo_named("y", DAMO_INT(0))}, 3,
                    &out, 1) == DAMO_ERR_NAME);
    CHECK_STR_HAS(damo_function_errmsg(f2), "'y'");
    CHECK(damo_call(f2, (damo_arg[]){damo_named("y", DAMO_INT(0))}, 1, &out, 1) == DAMO_ERR_INVALID);
    CHECK_STR_HAS(damo_function_errmsg(f2), "'x'");
    CHECK(damo_call(f2, (damo_arg[]){DAMO_INT(1), damo_named("w", DAMO_INT(0))}, 2, &out, 1) ==
          DAMO_ERR_NAME);
    CHECK_STR_HAS(damo_function_errmsg(f2), "'w'");
    damo_function_free(f);
    damo_function_free(f2);
    damo_graph_free(g);
}

/* The tutorial's accumulator: state = shared(0), inc = iscalar('inc'),
 * function([inc], state, updates=[(state, state + inc)]). */
static damo_function *accumulator(damo_graph *g, damo_shared *state, damo_var **inc, damo_var **expr)
{
    damo_var *sv = damo_shared_var(g, state);
    *inc = damo_iscalar(g, "inc");
    *expr = damo_add(sv, *inc);
    damo_spec *s = damo_spec_new(g);
    damo_spec_input(s, *inc);
    damo_spec_output(s, sv);
    damo_spec_update(s, sv, *expr);
    damo_function *acc = damo_compile(s);
    damo_spec_free(s);
    CHECK_MSG(acc, "%s", damo_graph_errmsg(g));
    return acc;
}

/* function([inputs...], output, updates=[(var, expr)], givens=[(gvar, gwith)]) */
static damo_function *compile_upd(damo_graph *g, size_t ni, damo_var *const *in, damo_var *out,
                                  damo_var *var, damo_var *expr, damo_var *gvar, damo_var *gwith)
{
    damo_spec *s = damo_spec_new(g);
    for (size_t i = 0; i < ni; i++)
        damo_spec_input(s, in[i]);
    damo_spec_output(s, out);
    if (var)
        damo_spec_update(s, var, expr);
    if (gvar)
        damo_spec_given(s, gvar, gwith);
    damo_function *f = damo_compile(s);
    damo_spec_free(s);
    return f;
}

static void test_accumulator(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_shared *state = damo_shared_int(ctx, 0, "state");
    damo_var *inc, *expr;
    damo_function *acc = accumulator(g, state, &inc, &expr);
    damo_var *sv = damo_shared_var(g, state);
    /* shared(0) is int64; iscalar is int32; state + inc is int64 */
    CHECK_INT(damo_var_dtype(sv), DAMO_INT64);
    CHECK_INT(damo_var_dtype(expr), DAMO_INT64);
    CHECK(damo_shared_var(g, state) == sv); /* one variable per shared per graph */
    CHECK(damo_var_shared(sv) == state);
    CHECK_CLOSE(state_of(state), 0, 0, 0);
    CHECK_CLOSE(call_num(acc, (damo_arg[]){DAMO_INT(1)}, 1), 0, 0, 0);
    CHECK_CLOSE(state_of(state), 1, 0, 0);
    CHECK_CLOSE(call_num(acc, (damo_arg[]){DAMO_INT(300)}, 1), 1, 0, 0);
    CHECK_CLOSE(state_of(state), 301, 0, 0);
    /* state.set_value(-1); accumulator(3) -> -1; state -> 2 */
    damo_array *m1 = damo_array_scalar_int(ctx, DAMO_INT64, -1);
    CHECK(damo_shared_set_value(state, m1) == DAMO_OK);
    CHECK_CLOSE(call_num(acc, (damo_arg[]){DAMO_INT(3)}, 1), -1, 0, 0);
    CHECK_CLOSE(state_of(state), 2, 0, 0);
    /* set_value checks the dtype */
    damo_array *wrong = damo_array_scalar(ctx, DAMO_FLOAT64, 1);
    CHECK(damo_shared_set_value(state, wrong) == DAMO_ERR_TYPE);
    CHECK_STR_HAS(damo_shared_errmsg(state), "'state'");
    /* a second function updates the same state: decrementor(2) -> 2, state -> 0 */
    damo_function *dec = compile_upd(g, 1, &inc, sv, sv, damo_sub(sv, inc), NULL, NULL);
    CHECK_CLOSE(call_num(dec, (damo_arg[]){DAMO_INT(2)}, 1), 2, 0, 0);
    CHECK_CLOSE(state_of(state), 0, 0, 0);
    /* givens: skip_shared(1, 3) -> 7 using foo for the state; state stays 0 */
    damo_var *foo = damo_tensor(g, damo_var_dtype(sv), 0, NULL, "foo");
    damo_var *fn_of_state = damo_add(damo_mul(sv, damo_int(g, 2)), inc);
    damo_var *sin[] = {inc, foo};
    damo_function *skip = compile_upd(g, 2, sin, fn_of_state, NULL, NULL, sv, foo);
    CHECK_MSG(skip, "%s", damo_graph_errmsg(g));
    CHECK_CLOSE(call_num(skip, (damo_arg[]){DAMO_INT(1), DAMO_INT(3)}, 2), 7, 0, 0);
    CHECK_CLOSE(state_of(state), 0, 0, 0);
    /* a failing call (bad argument) changes no shared value */
    damo_array *out = NULL;
    CHECK(damo_call(acc, (damo_arg[]){DAMO_FLOAT(0.5)}, 1, &out, 1) == DAMO_ERR_TYPE);
    CHECK(out == NULL);
    CHECK_CLOSE(state_of(state), 0, 0, 0);
    /* a call that fails halfway (the update's value computed, then a shape
     * error in another step) changes no shared value either */
    damo_var *u = damo_dvector(g, "u"), *v = damo_dmatrix(g, "v");
    damo_var *hin[] = {inc, u, v};
    damo_function *half = compile_upd(g, 3, hin, damo_add(u, v), sv, expr, NULL, NULL);
    CHECK_MSG(half, "%s", damo_graph_errmsg(g));
    const double three[] = {1, 2, 3}, four[] = {1, 2, 3, 4};
    damo_array *ua = damo_array_from_data(ctx, DAMO_FLOAT64, 1, (int64_t[]){3}, three);
    damo_array *va = damo_array_from_data(ctx, DAMO_FLOAT64, 2, (int64_t[]){1, 4}, four);
    CHECK(damo_call(half, (damo_arg[]){DAMO_INT(5), DAMO_ARG(ua), DAMO_ARG(va)}, 3, &out, 1) ==
          DAMO_ERR_SHAPE);
    CHECK_STR_HAS(damo_function_errmsg(half), "'u'");
    CHECK_CLOSE(state_of(state), 0, 0, 0);
    damo_array_release(ua);
    damo_array_release(va);
    damo_function_free(half);
    /* update errors at compile time: not shared, updated twice, lossy type */
    CHECK(!compile_upd(g, 1, &inc, sv, inc, damo_add(inc, inc), NULL, NULL));
    CHECK_STR_HAS(damo_graph_errmsg(g), "'inc'");
    damo_spec *twice = damo_spec_new(g);
    damo_spec_input(twice, inc);
    damo_spec_update(twice, sv, expr);
    CHECK(damo_spec_update(twice, sv, damo_sub(sv, inc)) == DAMO_ERR_INVALID);
    CHECK(!damo_compile(twice));
    CHECK_STR_HAS(damo_graph_errmsg(g), "twice");
    damo_spec_free(twice);
    CHECK(!compile_upd(g, 1, &inc, sv, sv, damo_mul(sv, damo_float(g, 0.5)), NULL, NULL));
    CHECK_INT(damo_graph_errcode(g), DAMO_ERR_TYPE);
    CHECK_STR_HAS(damo_graph_errmsg(g), "'state'");
    damo_array_release(m1);
    damo_array_release(wrong);
    damo_function_free(acc);
    damo_function_free(dec);
    damo_function_free(skip);
    damo_graph_free(g);
    /* the shared variable outlives the graph and its functions */
    CHECK_CLOSE(state_of(state), 0, 0, 0);
    damo_shared_release(state);
}

/* Several updates in one call see the old values (a swap), static shapes
 * of shared variables, a given of the wrong type, and device arrays passed
 * from one call to the next without a read. */
static void test_more(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_shared *sa = damo_shared_int(ctx, 1, "a"), *sb = damo_shared_int(ctx, 2, "b");
    damo_var *a = damo_shared_var(g, sa), *b = damo_shared_var(g, sb);
    damo_spec *s = damo_spec_new(g);
    damo_spec_output(s, a);
    damo_spec_update(s, a, b);
    damo_spec_update(s, b, a);
    damo_function *f = damo_compile(s);
    damo_spec_free(s);
    CHECK_MSG(f, "%s", damo_graph_errmsg(g));
    CHECK_CLOSE(call_num(f, NULL, 0), 1, 0, 0);
    CHECK(state_of(sa) == 2 && state_of(sb) == 1);
    CHECK_CLOSE(call_num(f, NULL, 0), 2, 0, 0);
    CHECK(state_of(sa) == 1 && state_of(sb) == 2);

    /* shape=(1, None): set_value may change the unknown size only */
    const double v3[] = {1, 2, 3}, v4[] = {1, 2, 3, 4};
    damo_array *r3 = damo_array_from_data(ctx, DAMO_FLOAT64, 2, (int64_t[]){1, 3}, v3);
    damo_array *r4 = damo_array_from_data(ctx, DAMO_FLOAT64, 2, (int64_t[]){1, 4}, v4);
    damo_array *c2 = damo_array_from_data(ctx, DAMO_FLOAT64, 2, (int64_t[]){2, 2}, v4);
    damo_shared *sw = damo_shared_new(ctx, r3, "w", (int64_t[]){1, DAMO_DIM_UNKNOWN});
    damo_var *w = damo_shared_var(g, sw);
    CHECK(w && damo_var_dim(w, 0) == 1 && damo_var_dim(w, 1) == DAMO_DIM_UNKNOWN);
    CHECK(damo_shared_set_value(sw, r4) == DAMO_OK);
    CHECK(damo_shared_set_value(sw, c2) == DAMO_ERR_SHAPE);
    CHECK_STR_HAS(damo_shared_errmsg(sw), "'w'");
    CHECK(!damo_shared_new(ctx, c2, "bad", (int64_t[]){1, DAMO_DIM_UNKNOWN}));

    /* a given must keep the dtype */
    damo_var *x = damo_dvector(g, "x"), *k = damo_ivector(g, "k");
    damo_var *y = damo_exp(x);
    CHECK(!compile_upd(g, 1, &k, y, NULL, NULL, x, k));
    CHECK_INT(damo_graph_errcode(g), DAMO_ERR_TYPE);
    CHECK_STR_HAS(damo_graph_errmsg(g), "'x'");
    CHECK_STR_HAS(damo_graph_errmsg(g), "'k'");

    /* an output left on the device feeds the next call as it is */
    damo_function *fd = damo_function_simple(g, 1, &x, 1, &y, DAMO_FN_DEVICE_ONLY);
    const double zeros[2048] = {0};
    damo_array *in0 = damo_array_from_data(ctx, DAMO_FLOAT64, 1, (int64_t[]){2048}, zeros);
    damo_array *o1 = NULL, *o2 = NULL;
    CHECK(fd && damo_call(fd, (damo_arg[]){DAMO_ARG(in0)}, 1, &o1, 1) == DAMO_OK);
    CHECK(o1 && damo_array_on_device(o1) && !damo_array_on_host(o1));
    CHECK(fd && damo_call(fd, (damo_arg[]){DAMO_ARG(o1)}, 1, &o2, 1) == DAMO_OK);
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
    damo_shared_release(sa);
    damo_shared_release(sb);
    damo_shared_release(sw);
}

/* The tutorial's "Copying functions" section. */
static void test_copy(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_shared *state = damo_shared_int(ctx, 0, "state");
    damo_var *inc, *expr;
    damo_function *acc = accumulator(g, state, &inc, &expr);
    CHECK_CLOSE(call_num(acc, (damo_arg[]){DAMO_INT(10)}, 1), 0, 0, 0);
    CHECK_CLOSE(state_of(state), 10, 0, 0);
    damo_ctx_stats before, after;
    damo_ctx_get_stats(ctx, &before);
    /* new_accumulator = accumulator.copy(swap={state: new_state}) */
    damo_shared *new_state = damo_shared_int(ctx, 0, "new_state");
    damo_swap swap = {state, new_state};
    damo_function *new_acc = damo_function_copy(acc, &swap, 1, 0);
    CHECK_MSG(new_acc, "%s", damo_function_errmsg(acc));
    CHECK_CLOSE(call_num(new_acc, (damo_arg[]){DAMO_INT(100)}, 1), 0, 0, 0);
    CHECK_CLOSE(state_of(new_state), 100, 0, 0);
    CHECK_CLOSE(state_of(state), 10, 0, 0);
    /* null_accumulator = accumulator.copy(delete_updates=True) */
    damo_function *null_acc = damo_function_copy(acc, NULL, 0, 1);
    CHECK_MSG(null_acc, "%s", damo_function_errmsg(acc));
    CHECK_CLOSE(call_num(null_acc, (damo_arg[]){DAMO_INT(9000)}, 1), 10, 0, 0);
    CHECK_CLOSE(state_of(state), 10, 0, 0);
    /* the copies reuse the compiled kernels: nothing was built again */
    damo_ctx_get_stats(ctx, &after);
    CHECK_INT(after.builds, before.builds);
    CHECK_INT(after.disk_hits, before.disk_hits);
    /* the original is unchanged by its copies, and copies outlive it */
    CHECK_CLOSE(call_num(acc, (damo_arg[]){DAMO_INT(1)}, 1), 10, 0, 0);
    CHECK_CLOSE(state_of(state), 11, 0, 0);
    /* swapping for a variable of another dtype is an error naming both */
    damo_shared *fstate = damo_shared_float(ctx, 0, "fstate");
    damo_swap bad = {state, fstate};
    CHECK(!damo_function_copy(acc, &bad, 1, 0));
    CHECK_STR_HAS(damo_function_errmsg(acc), "'fstate'");
    damo_function_free(acc);
    damo_graph_free(g);
    CHECK_CLOSE(call_num(new_acc, (damo_arg[]){DAMO_INT(1)}, 1), 100, 0, 0);
    CHECK_CLOSE(state_of(new_state), 101, 0, 0);
    damo_function_free(new_acc);
    damo_function_free(null_acc);
    damo_shared_release(state);
    damo_shared_release(new_state);
    damo_shared_release(fstate);
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
    damo_shared *state = damo_shared_int(ctx, 0, "state");
    damo_var *inc, *expr;
    damo_function *acc = accumulator(g, state, &inc, &expr);
    long before = 0;
    int ok = 1;
    for (int i = 1; i <= 101000 && ok; i++) {
        if (i == 1001)
            before = rss_kib();
        damo_arg a = DAMO_INT(i);
        damo_array *out = NULL;
        double v;
        ok = damo_call(acc, &a, 1, &out, 1) == DAMO_OK && damo_array_get_f64(out, 0, &v) == DAMO_OK &&
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
    damo_shared_release(state);
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
