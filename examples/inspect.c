/* Seeing inside a compiled function, as Aesara's debugprint, pydotprint
 * and ProfileStats show it, on the training step of the tutorial's
 * logistic regression (its gradient written out by hand):
 *
 *   p_1 = 1 / (1 + exp(-dot(x, w) - b))
 *   w <- w - 0.1 * (dot(x.T, p_1 - y) / N + 0.02 * w)
 *   b <- b - 0.1 * mean(p_1 - y)
 *
 *   ./build/examples/inspect [train.dot]
 *   dot -Tsvg train.dot -o train.svg      # with Graphviz installed
 *
 * Prints the function's debugprint (optimized graph and schedule), writes
 * its Graphviz DOT to the file, and runs 100 profiled steps on random
 * data, printing the profile.
 */
#include <damo.h>
#include <stdio.h>
#include <stdlib.h>

#define N 400
#define FEATS 784

static int fail(const char *what, const char *msg)
{
    fprintf(stderr, "%s: %s\n", what, msg);
    return 1;
}

static damo_function *train_step(damo_graph *g, damo_shared *ws, damo_shared *bs)
{
    damo_var *x = damo_dmatrix(g, "x"), *y = damo_dvector(g, "y");
    damo_var *w = damo_shared_var(g, ws), *b = damo_shared_var(g, bs);
    damo_var *one = damo_float(g, 1);
    damo_var *p_1 = damo_div(one, damo_add(one, damo_exp(damo_sub(damo_neg(damo_dot(x, w)), b))));
    damo_var *err = damo_sub(p_1, y);
    damo_var *gw = damo_add(damo_div(damo_dot(damo_transpose(x), err), damo_float(g, N)),
                            damo_mul(damo_float(g, 0.02), w));
    damo_var *gb = damo_mean(err, NULL, 0, 0);
    damo_spec *s = damo_spec_new(g);
    damo_spec_input(s, x);
    damo_spec_input(s, y);
    damo_spec_output(s, damo_gt(p_1, damo_float(g, 0.5)));
    damo_spec_update(s, w, damo_sub(w, damo_mul(damo_float(g, 0.1), gw)));
    damo_spec_update(s, b, damo_sub(b, damo_mul(damo_float(g, 0.1), gb)));
    damo_spec_flags(s, DAMO_FN_PROFILE);
    damo_function *f = damo_compile(s);
    damo_spec_free(s);
    return f;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "train.dot";
    char err[512];
    damo_ctx *ctx;
    if (damo_ctx_new(&ctx, err, sizeof err) != DAMO_OK)
        return fail("damo_ctx_new", err);
    static double xv[N * FEATS], yv[N], wv[FEATS];
    srand(1);
    for (int i = 0; i < N * FEATS; i++)
        xv[i] = (double)rand() / RAND_MAX - 0.5;
    for (int i = 0; i < N; i++)
        yv[i] = rand() % 2;
    damo_array *xa = damo_array_from_data(ctx, DAMO_FLOAT64, 2, (int64_t[]){N, FEATS}, xv);
    damo_array *ya = damo_array_from_data(ctx, DAMO_FLOAT64, 1, (int64_t[]){N}, yv);
    damo_array *wa = damo_array_from_data(ctx, DAMO_FLOAT64, 1, (int64_t[]){FEATS}, wv);
    damo_shared *w = damo_shared_new(ctx, wa, "w", NULL), *b = damo_shared_float(ctx, 0, "b");
    damo_array_release(wa);
    damo_graph *g = damo_graph_new(ctx);
    damo_function *f = train_step(g, w, b);
    int rc = 0;
    if (!f) {
        rc = fail("compile", damo_graph_errmsg(g));
        goto done;
    }
    char *text = damo_function_debugprint(f);
    printf("%s\n", text ? text : damo_function_errmsg(f));
    free(text);

    char *dot = damo_function_to_dot(f);
    FILE *out = dot ? fopen(path, "w") : NULL;
    if (!out || fputs(dot, out) < 0 || fclose(out) != 0) {
        rc = fail(path, dot ? "cannot write the DOT file" : damo_function_errmsg(f));
        free(dot);
        goto done;
    }
    free(dot);
    printf("Graphviz DOT written to %s\n\n", path);

    for (int i = 0; i < 100 && rc == 0; i++) {
        damo_array *pred = NULL;
        if (damo_call(f, (damo_arg[]){DAMO_ARG(xa), DAMO_ARG(ya)}, 2, &pred, 1) != DAMO_OK)
            rc = fail("call", damo_function_errmsg(f));
        damo_array_release(pred);
    }
    text = rc ? NULL : damo_function_profile(f);
    if (text)
        printf("%s", text);
    free(text);
done:
    damo_function_free(f);
    damo_graph_free(g);
    damo_shared_release(w);
    damo_shared_release(b);
    damo_array_release(xa);
    damo_array_release(ya);
    damo_ctx_free(ctx);
    return rc;
}
