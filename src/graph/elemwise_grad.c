/* The gradient facet of every elementwise op of scalar/ops.def: each op's
 * partial derivatives times the output's gradient, over the output's
 * shape, then summed back to each input's shape (grad_sum_to). Where a
 * derivative is a function of the result (exp, sigmoid, tanh, sqrt, ...)
 * it reads the forward result, so the backward pass reuses it. */
#include "op.h"

/* ln 2, ln 10 and 2 / sqrt(pi) (C11 does not define LN2 and the like) */
#define LN2 0.69314718055994530942
#define LN10 2.30258509299404568402
#define TWO_OVER_SQRT_PI 1.12837916709551257390

static damo_var *num(damo_var *like, double v) { return damo_float(like->g, v); }

/* The partial gradients d[k] (over the output's shape) of node n with
 * output gradient gz; d[k] NULL where input k gets nothing (a zero, or a
 * discrete input). */
static void partials(const gnode *n, damo_var *gz, damo_var **d)
{
    damo_var *a = n->in[0], *b = n->n_in > 1 ? n->in[1] : NULL, *c = n->n_in > 2 ? n->in[2] : NULL;
    damo_var *out = n->out[0];
    switch ((scalar_op)n->op) {
    case SOP_ADD:
        d[0] = d[1] = gz;
        break;
    case SOP_SUB:
        d[0] = gz;
        d[1] = damo_neg(gz);
        break;
    case SOP_MUL:
        d[0] = damo_mul(gz, b);
        d[1] = damo_mul(gz, a);
        break;
    case SOP_TRUE_DIV:
        d[0] = damo_true_div(gz, b);
        d[1] = damo_neg(damo_true_div(damo_mul(gz, out), b));
        break;
    case SOP_MOD: /* a - b * floor(a / b) */
        d[0] = gz;
        d[1] = damo_neg(damo_mul(gz, damo_int_div(a, b)));
        break;
    case SOP_POW:
        d[0] = damo_mul(damo_mul(gz, b), damo_pow(a, damo_sub(b, num(b, 1))));
        d[1] = damo_mul(damo_mul(gz, out), damo_log(a));
        break;
    case SOP_ARCTAN2: {
        damo_var *r2 = damo_add(damo_sqr(a), damo_sqr(b));
        d[0] = damo_true_div(damo_mul(gz, b), r2);
        d[1] = damo_neg(damo_true_div(damo_mul(gz, a), r2));
        break;
    }
    case SOP_MAXIMUM:
    case SOP_MINIMUM: /* both inputs get it where they tie, as in Aesara */
        d[0] = damo_mul(gz, damo_eq(out, a));
        d[1] = damo_mul(gz, damo_eq(out, b));
        break;
    case SOP_NEG:
        d[0] = damo_neg(gz);
        break;
    case SOP_ABS:
        d[0] = damo_mul(gz, damo_sign(a));
        break;
    case SOP_SQR:
        d[0] = damo_mul(damo_mul(gz, a), num(a, 2));
        break;
    case SOP_EXP:
        d[0] = damo_mul(gz, out);
        break;
    case SOP_EXPM1:
        d[0] = damo_mul(gz, damo_add(out, num(out, 1)));
        break;
    case SOP_LOG:
    case SOP_RAND_LOG:
        d[0] = damo_true_div(gz, a);
        break;
    case SOP_LOG1P:
        d[0] = damo_true_div(gz, damo_add(a, num(a, 1)));
        break;
    case SOP_LOG2:
        d[0] = damo_true_div(gz, damo_mul(a, num(a, LN2)));
        break;
    case SOP_LOG10:
        d[0] = damo_true_div(gz, damo_mul(a, num(a, LN10)));
        break;
    case SOP_SQRT:
        d[0] = damo_true_div(damo_mul(gz, num(gz, 0.5)), out);
        break;
    case SOP_SIN:
        d[0] = damo_mul(gz, damo_cos(a));
        break;
    case SOP_COS:
        d[0] = damo_neg(damo_mul(gz, damo_sin(a)));
        break;
    case SOP_TAN:
        d[0] = damo_mul(gz, damo_add(damo_sqr(out), num(out, 1)));
        break;
    case SOP_ARCSIN:
        d[0] = damo_true_div(gz, damo_sqrt(damo_sub(num(a, 1), damo_sqr(a))));
        break;
    case SOP_ARCCOS:
        d[0] = damo_neg(damo_true_div(gz, damo_sqrt(damo_sub(num(a, 1), damo_sqr(a)))));
        break;
    case SOP_ARCTAN:
        d[0] = damo_true_div(gz, damo_add(damo_sqr(a), num(a, 1)));
        break;
    case SOP_SINH:
        d[0] = damo_mul(gz, damo_cosh(a));
        break;
    case SOP_COSH:
        d[0] = damo_mul(gz, damo_sinh(a));
        break;
    case SOP_TANH:
        d[0] = damo_mul(gz, damo_sub(num(out, 1), damo_sqr(out)));
        break;
    case SOP_SIGMOID:
        d[0] = damo_mul(damo_mul(gz, out), damo_sub(num(out, 1), out));
        break;
    case SOP_SOFTPLUS:
        d[0] = damo_mul(gz, damo_sigmoid(a));
        break;
    case SOP_ERF:
        d[0] = damo_mul(damo_mul(gz, num(a, TWO_OVER_SQRT_PI)), damo_exp(damo_neg(damo_sqr(a))));
        break;
    case SOP_CLIP:
        d[0] = damo_mul(gz, damo_and(damo_ge(a, b), damo_le(a, c)));
        d[1] = damo_mul(gz, damo_lt(a, b));
        d[2] = damo_mul(gz, damo_gt(a, c));
        break;
    case SOP_SWITCH: {
        damo_var *zero = num(gz, 0);
        d[1] = damo_switch(a, gz, zero);
        d[2] = damo_switch(a, zero, gz);
        break;
    }
    case SOP_CAST:
    case SOP_UNBROADCAST:
        d[0] = gz;
        break;
    default: /* piecewise constant (floor, ceil, round, sign, int_div) or
              * discrete-valued: zero */
        break;
    }
}

damo_status elemwise_grad(damo_graph *g, const gnode *n, damo_var *const *out_grads, damo_var **in_grads)
{
    damo_var *d[3] = {NULL, NULL, NULL};
    partials(n, out_grads[0], d);
    for (int k = 0; k < n->n_in && k < 3; k++) {
        if (!d[k])
            continue;
        if (!(in_grads[k] = grad_sum_to(d[k], n->in[k], n, k)))
            return g->err.code ? g->err.code : DAMO_ERR_NOMEM;
    }
    return DAMO_OK;
}
