/* The tutorial's logistic regression, built and compiled:
 *
 *   x = T.dmatrix("x"); y = T.dvector("y")
 *   p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
 *   prediction = p_1 > 0.5
 *   xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
 *   cost = xent.mean() + 0.01 * (w ** 2).sum()
 *   gw, gb = T.grad(cost, [w, b])
 *   train = function([x, y], [prediction, xent],
 *                    updates=((w, w - 0.1 * gw), (b, b - 0.1 * gb)))
 *   predict = function([x], prediction)
 *
 * over the shared variables w and b, compiled with the given function
 * flags (DAMO_FN_*). Used by examples/logistic_regression.c,
 * bench/bench_logreg.c and tests/test_thread.c, so that the benchmark
 * times the example's own graph. */
#ifndef DAMO_EXAMPLE_LOGISTIC_MODEL_H
#define DAMO_EXAMPLE_LOGISTIC_MODEL_H

#include <damo.h>

typedef struct logistic_model {
    damo_graph *g;
    damo_function *train, *predict;
} logistic_model;

/* 0 on success; otherwise 1 with the message on m->g (or the thread's last
 * error). logistic_model_free also after a failure. */
static inline int logistic_model_build(logistic_model *m, damo_ctx *ctx, damo_shared *ws,
                                       damo_shared *bs, unsigned flags)
{
    damo_graph *g = m->g = damo_graph_new(ctx);
    m->train = m->predict = NULL;
    damo_var *x = damo_dmatrix(g, "x"), *y = damo_dvector(g, "y");
    damo_var *w = damo_shared_var(g, ws), *b = damo_shared_var(g, bs), *one = damo_float(g, 1);
    damo_var *p_1 = damo_div(one, damo_add(one, damo_exp(damo_sub(damo_neg(damo_dot(x, w)), b))));
    damo_var *prediction = damo_gt(p_1, damo_float(g, 0.5));
    damo_var *xent = damo_sub(damo_mul(damo_neg(y), damo_log(p_1)),
                              damo_mul(damo_sub(one, y), damo_log(damo_sub(one, p_1))));
    damo_var *cost = damo_add(damo_mean(xent, NULL, 0, 0),
                              damo_mul(damo_float(g, 0.01), damo_sum(damo_pow(w, damo_int(g, 2)), NULL, 0, 0)));
    damo_var *wrt[2] = {w, b}, *grads[2];
    if (damo_grad(cost, 2, wrt, grads) != DAMO_OK)
        return 1;
    damo_spec *spec = damo_spec_new(g);
    damo_spec_input(spec, x);
    damo_spec_input(spec, y);
    damo_spec_output(spec, prediction);
    damo_spec_output(spec, xent);
    damo_spec_update(spec, w, damo_sub(w, damo_mul(damo_float(g, 0.1), grads[0])));
    damo_spec_update(spec, b, damo_sub(b, damo_mul(damo_float(g, 0.1), grads[1])));
    damo_spec_flags(spec, flags);
    m->train = damo_compile(spec);
    damo_spec_free(spec);
    m->predict = m->train ? damo_function_simple(g, 1, &x, 1, &prediction, flags) : NULL;
    return !m->predict;
}

static inline void logistic_model_free(logistic_model *m)
{
    damo_function_free(m->train);
    damo_function_free(m->predict);
    damo_graph_free(m->g);
}

#endif
