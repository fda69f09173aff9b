/* The tutorial's "Logistic Function" section in C:
 *
 *   x = at.dmatrix('x'); s = 1 / (1 + at.exp(-x))
 *   logistic = aesara.function([x], s)
 *   logistic([[0, 1], [-1, -2]])
 *   s2 = (1 + at.tanh(x / 2)) / 2   -> the same values
 */
#include <damo.h>
#include <stdio.h>
#include <stdlib.h>

static int fail(const char *what, const char *msg)
{
    fprintf(stderr, "%s: %s\n", what, msg);
    return 1;
}

/* Compiles f = function([x], expr), calls it on data, prints the result. */
static int run(damo_graph *g, damo_var *x, damo_var *expr, damo_array *data, const char *label)
{
    damo_function *f = damo_function_simple(g, 1, &x, 1, &expr, 0);
    if (!f)
        return fail("compile", damo_graph_errmsg(g));
    damo_array *out = NULL;
    damo_arg arg = DAMO_ARG(data);
    if (damo_call(f, &arg, 1, &out, 1) != DAMO_OK) {
        int rc = fail("call", damo_function_errmsg(f));
        damo_function_free(f);
        return rc;
    }
    char *text = damo_array_to_string(out);
    printf("%s(%s)\n%s\n", label, "[[0, 1], [-1, -2]]", text ? text : "(out of memory)");
    printf("  (%zu kernel%s)\n", damo_function_n_kernels(f),
           damo_function_n_kernels(f) == 1 ? "" : "s");
    free(text);
    damo_array_release(out);
    damo_function_free(f);
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
    damo_var *x = damo_dmatrix(g, "x");
    /* s = 1 / (1 + exp(-x)) */
    damo_var *s = damo_div(damo_float(g, 1), damo_add(damo_float(g, 1), damo_exp(damo_neg(x))));
    /* s2 = (1 + tanh(x / 2)) / 2 */
    damo_var *s2 = damo_div(damo_add(damo_float(g, 1), damo_tanh(damo_div(x, damo_float(g, 2)))),
                            damo_float(g, 2));

    const double values[] = {0, 1, -1, -2};
    damo_array *data = damo_array_from_data(ctx, DAMO_FLOAT64, 2, (int64_t[]){2, 2}, values);
    int rc = !data || !s || !s2 ? fail("build", damo_graph_errmsg(g))
                                : run(g, x, s, data, "logistic") || run(g, x, s2, data, "logistic2");
    damo_array_release(data);
    damo_graph_free(g);
    damo_ctx_free(ctx);
    return rc;
}
