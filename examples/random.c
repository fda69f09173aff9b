/* The tutorial's "Using Random Numbers" section in C:
 *
 *   srng = RandomStream(seed=234)
 *   rv_u = srng.uniform(0, 1, size=(2,2))
 *   rv_n = srng.normal(0, 1, size=(2,2))
 *   f = function([], rv_u)
 *   g = function([], rv_n, no_default_updates=True)
 *   nearly_zeros = function([], rv_u + rv_u - 2 * rv_u)
 *   srng.seed(902340)
 *
 * and "Copying Random State Between Graphs": a second graph with its own
 * stream is given the first one's generator states and then draws the
 * same numbers.
 */
#include <damo.h>
#include <stdio.h>
#include <stdlib.h>

static int fail(const char *what, const char *msg)
{
    fprintf(stderr, "%s: %s\n", what, msg);
    return 1;
}

/* Calls f with no arguments and prints its one output after label. */
static int show(damo_function *f, const char *label)
{
    damo_array *out = NULL;
    if (damo_call(f, NULL, 0, &out, 1) != DAMO_OK)
        return fail(label, damo_function_errmsg(f));
    char *text = damo_array_to_string(out);
    printf("%s\n%s\n", label, text ? text : "(out of memory)");
    free(text);
    damo_array_release(out);
    return 0;
}

/* A graph drawing uniform(0, 1, (2, 2)) and normal(0, 1, (2, 2)) from a
 * stream of its own, and the function returning both. */
typedef struct model {
    damo_graph *g;
    damo_random_stream *srng;
    damo_function *f;
} model;

static int model_new(damo_ctx *ctx, uint64_t seed, model *m)
{
    m->g = damo_graph_new(ctx);
    m->srng = damo_random_stream_new(ctx, seed);
    damo_var *size = damo_size(m->g, 2, (int64_t[]){2, 2});
    damo_var *outs[2] = {
        damo_random_uniform(m->srng, damo_float(m->g, 0), damo_float(m->g, 1), size, DAMO_FLOAT64),
        damo_random_normal(m->srng, damo_float(m->g, 0), damo_float(m->g, 1), size, DAMO_FLOAT64)};
    m->f = damo_function_simple(m->g, 0, NULL, 2, outs, 0);
    return m->f ? 0 : fail("model", damo_graph_errmsg(m->g));
}

static void model_free(model *m)
{
    damo_function_free(m->f);
    damo_random_stream_free(m->srng);
    damo_graph_free(m->g);
}

static int show_model(model *m, const char *label)
{
    damo_array *out[2] = {NULL, NULL};
    if (damo_call(m->f, NULL, 0, out, 2) != DAMO_OK)
        return fail(label, damo_function_errmsg(m->f));
    for (int i = 0; i < 2; i++) {
        char *text = damo_array_to_string(out[i]);
        printf("%s %s\n%s\n", label, i ? "normal" : "uniform", text ? text : "(out of memory)");
        free(text);
        damo_array_release(out[i]);
    }
    return 0;
}

/* The tutorial's "Copying Random State Between Graphs": every state of
 * m2's stream takes the value of the same state of m1's (Aesara's
 * state_updates, in drawing order). */
static int copy_random_state(const model *m1, model *m2)
{
    for (size_t i = 0; i < damo_random_n_states(m1->srng); i++) {
        damo_shared *from = damo_random_state(m1->srng, i), *to = damo_random_state(m2->srng, i);
        damo_array *v = damo_shared_get_value(from);
        damo_status st = damo_shared_set_value(to, v);
        damo_array_release(v);
        if (st != DAMO_OK)
            return fail("copy state", damo_shared_errmsg(to));
    }
    return 0;
}

int main(void)
{
    char err[512];
    damo_ctx *ctx;
    if (damo_ctx_new(&ctx, err, sizeof err) != DAMO_OK)
        return fail("damo_ctx_new", err);
    printf("device: %s\n", damo_ctx_device_name(ctx));

    damo_graph *g = damo_graph_new(ctx);
    damo_random_stream *srng = damo_random_stream_new(ctx, 234);
    damo_var *size = damo_size(g, 2, (int64_t[]){2, 2});
    damo_var *rv_u = damo_random_uniform(srng, damo_float(g, 0), damo_float(g, 1), size, DAMO_FLOAT64);
    damo_var *rv_n = damo_random_normal(srng, damo_float(g, 0), damo_float(g, 1), size, DAMO_FLOAT64);
    /* rv_u + rv_u - 2 * rv_u */
    damo_var *nz = damo_sub(damo_add(rv_u, rv_u), damo_mul(damo_float(g, 2), rv_u));
    damo_function *f = damo_function_simple(g, 0, NULL, 1, &rv_u, 0);
    damo_function *gf = damo_function_simple(g, 0, NULL, 1, &rv_n, DAMO_FN_NO_DEFAULT_UPDATES);
    damo_function *nearly_zeros = damo_function_simple(g, 0, NULL, 1, &nz, 0);
    int rc = !f || !gf || !nearly_zeros ? fail("build", damo_graph_errmsg(g)) : 0;

    rc = rc || show(f, "f_val0 = f()") || show(f, "f_val1 = f()  # different numbers from f_val0");
    rc = rc || show(gf, "g_val0 = g()  # different numbers from f_val0 and f_val1") ||
         show(gf, "g_val1 = g()  # same numbers as g_val0!");
    rc = rc || show(nearly_zeros, "nearly_zeros()  # rv_u drawn once: exactly 0");
    if (!rc) {
        damo_random_seed(srng, 902340); /* seeds rv_u and rv_n with different seeds each */
        rc = show(f, "f() after srng.seed(902340)") ||
             show(nearly_zeros, "nearly_zeros()  # advances f's generator too") ||
             show(f, "f()  # so this is the third draw since seeding");
    }

    /* Copying random state between graphs */
    model m1 = {0}, m2 = {0};
    rc = rc || model_new(ctx, 3, &m1) || model_new(ctx, 5, &m2);
    rc = rc || show_model(&m1, "f1()");
    rc = rc || show_model(&m2, "f2() before copying the state  # different numbers");
    rc = rc || copy_random_state(&m1, &m2);
    rc = rc || show_model(&m1, "f1()") || show_model(&m2, "f2() after copying  # same as f1()");
    model_free(&m1);
    model_free(&m2);

    damo_function_free(f);
    damo_function_free(gf);
    damo_function_free(nearly_zeros);
    damo_random_stream_free(srng);
    damo_graph_free(g);
    damo_ctx_free(ctx);
    return rc;
}
