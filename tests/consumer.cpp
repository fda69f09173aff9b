// Built by consumer.sh: the public header used from C++ (extern "C", the
// DAMO_ARG macros), checked against the tutorial's values.
#include <damo.h>

#include <cmath>
#include <cstdio>
#include <vector>

int main()
{
    char err[512];
    damo_ctx *ctx = nullptr;
    if (damo_ctx_new(&ctx, err, sizeof err) != DAMO_OK) {
        std::fprintf(stderr, "%s\n", err);
        return 1;
    }
    damo_graph *g = damo_graph_new(ctx);
    damo_var *x = damo_dmatrix(g, "x");
    damo_var *s2 = damo_div(damo_add(damo_float(g, 1), damo_tanh(damo_div(x, damo_float(g, 2)))),
                            damo_float(g, 2));
    damo_function *f = damo_function_simple(g, 1, &x, 1, &s2, 0);
    std::vector<double> in = {0, 1, -1, -2}, want = {0.5, 0.73105858, 0.26894142, 0.11920292};
    int64_t shape[] = {2, 2};
    damo_array *a = damo_array_from_data(ctx, DAMO_FLOAT64, 2, shape, in.data());
    damo_array *out = nullptr;
    damo_arg arg = DAMO_ARG(a);
    std::vector<double> got(4);
    bool ok = f && damo_call(f, &arg, 1, &out, 1) == DAMO_OK &&
              damo_array_read(out, got.data()) == DAMO_OK;
    for (int i = 0; ok && i < 4; i++)
        ok = std::fabs(got[i] - want[i]) < 1e-8;
    // The tutorial's accumulator through a spec, with a named default and
    // numbers: what needed designated initialisers before works in C++11.
    damo_shared *state = damo_shared_int(ctx, 0, "state");
    damo_var *sv = damo_shared_var(g, state), *inc = damo_lscalar(g, "inc");
    damo_spec *spec = damo_spec_new(g);
    damo_spec_input_default(spec, inc, damo_named("step", DAMO_INT(1)));
    damo_spec_output(spec, sv);
    damo_spec_update(spec, sv, damo_add(sv, inc));
    damo_function *acc = damo_compile(spec);
    damo_spec_free(spec);
    damo_arg by_name[] = {damo_named("step", DAMO_INT(41))};
    int64_t total = 0;
    ok = ok && acc && damo_call(acc, nullptr, 0, nullptr, 0) == DAMO_OK &&
         damo_call(acc, by_name, 1, nullptr, 0) == DAMO_OK &&
         damo_shared_get_i64(state, &total) == DAMO_OK && total == 42;
    damo_function_free(acc);
    damo_shared_release(state);
    std::printf("C++ consumer: %s\n", ok ? "ok" : "WRONG");
    damo_array_release(out);
    damo_array_release(a);
    damo_function_free(f);
    damo_graph_free(g);
    damo_ctx_free(ctx);
    return ok ? 0 : 1;
}
