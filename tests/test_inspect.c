/* Seeing inside functions: debugprint, Graphviz DOT and profiles, checked
 * by structure (ids, braces, edges, sums of times), never against saved
 * output. */
#define _POSIX_C_SOURCE 200809L
#include <damo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"

static damo_ctx *ctx;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* The ids of a debugprint, from `from` up to `to` (NULL: the end): every
 * id is defined (a line with its dtype) exactly once and every reference
 * ("(above)") names an id defined on an earlier line. Returns the number
 * of ids defined, or -1 when a check failed. */
static int check_ids(const char *from, const char *to)
{
    char defined[4096][8];
    int n_def = 0, ok = 1;
    for (const char *line = from; line && *line && (!to || line < to);) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char buf[1024];
        snprintf(buf, sizeof buf, "%.*s", (int)(len < sizeof buf ? len : sizeof buf - 1), line);
        line = end ? end + 1 : NULL;
        const char *at = strstr(buf, "[id ");
        if (!at)
            continue;
        char id[8];
        if (sscanf(at, "[id %7[A-Z]]", id) != 1) {
            ok = 0;
            continue;
        }
        int found = 0;
        for (int k = 0; k < n_def; k++)
            found |= !strcmp(defined[k], id);
        if (strstr(at, "(above)")) {
            CHECK_MSG(found, "reference to [id %s] before its definition", id);
            ok &= found;
        } else {
            CHECK_MSG(!found, "[id %s] defined twice", id);
            ok &= !found;
            if (!found && n_def < 4096)
                strcpy(defined[n_def++], id);
        }
    }
    return ok ? n_def : -1;
}

static void test_logistic(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_var *x = damo_dmatrix(g, "x");
    damo_var *s = damo_div(damo_float(g, 1), damo_add(damo_float(g, 1), damo_exp(damo_neg(x))));
    char *text = damo_debugprint(s);
    /* before rewrites: the graph as built, x and the constants marked */
    CHECK_STR_HAS(text, "true_div [id A] float64 (None, None)");
    CHECK_STR_HAS(text, "exp");
    CHECK_STR_HAS(text, "x [id ");
    CHECK_STR_HAS(text, "input");
    CHECK_STR_HAS(text, "constant");
    CHECK_INT(check_ids(text, NULL), 7);
    free(text);

    damo_function *f = damo_function_simple(g, 1, &x, 1, &s, 0);
    CHECK(f != NULL);
    text = damo_function_debugprint(f);
    const char *sched = text ? strstr(text, "schedule:") : NULL;
    CHECK(sched != NULL);
    CHECK_STR_HAS(text, "fused{sigmoid} [id A] float64 (None, None) -> output 0");
    CHECK(sched && !strstr(sched + 1, "schedule:"));
    CHECK_INT(sched ? count(sched, "\n  step ") : -1, 1);
    CHECK_STR_HAS(sched, "step 0  elemwise  fused elementwise: 1 op (sigmoid), 1 output");
    CHECK_STR_HAS(sched, "in: [id B] input 0");
    CHECK_STR_HAS(sched, "out: [id A] result, output 0");
    CHECK_INT(check_ids(text, sched), 2);
    free(text);
    damo_function_free(f);
    damo_graph_free(g);
}

/* A subgraph used three times is printed once and then referenced. */
static void test_shared_subgraph(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_var *x = damo_dvector(g, "x");
    damo_var *y = damo_exp(x);
    damo_var *z = damo_add(damo_mul(y, y), y);
    char *text = damo_debugprint(z);
    CHECK_INT(check_ids(text, NULL), 4);
    CHECK_INT(text ? count(text, "(above)") : -1, 2);
    CHECK_INT(text ? count(text, "x [id") : -1, 1);
    free(text);
    CHECK(damo_debugprint(NULL) == NULL);
    damo_graph_free(g);
}

/* Ops print with their parameters. */
static void test_labels(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_var *m = damo_dmatrix(g, "m");
    damo_slice idx[] = {DAMO_SLICE(1, DAMO_NONE, 1), DAMO_SLICE(DAMO_NONE, DAMO_NONE, 2)};
    damo_var *v = damo_cast(damo_reshape(damo_subtensor(m, 2, idx), 1, (int64_t[]){-1}), DAMO_INT32);
    damo_var *parts[] = {v, v};
    damo_var *c = damo_max(damo_concatenate(2, parts, 0), NULL, 0, 1);
    char *text = damo_debugprint(c);
    CHECK_STR_HAS(text, "max{axes=(0,), keepdims} [id A] int32 (1,)");
    CHECK_STR_HAS(text, "concatenate{axis=0}");
    CHECK_STR_HAS(text, "cast{int32}");
    CHECK_STR_HAS(text, "reshape{(-1,)}");
    CHECK_STR_HAS(text, "subtensor{1:, ::2}");
    CHECK_INT(text ? count(text, "(above)") : -1, 1);
    free(text);
    damo_graph_free(g);
}

/* A chain far deeper than the stack would allow recursion for: lines
 * past 64 levels say their depth instead of indenting. */
static void test_deep_chain(void)
{
    damo_graph *g = damo_graph_new(ctx);
    damo_var *v = damo_dvector(g, "x");
    for (int i = 0; i < 20000; i++)
        v = damo_neg(v);
    char *text = damo_debugprint(v);
    CHECK_STR_HAS(text, "(depth 20000) x [id ");
    CHECK_STR_HAS(text, "(depth 65) neg [id ");
    CHECK(text && !strstr(text, "(depth 64)"));
    CHECK_INT(text ? count(text, "\n") : -1, 20001);
    free(text);
    damo_graph_free(g);
}

/* Outputs y = W . x (BLAS), s = sum(W.T * 2, axis 0) (a view read by a
 * reduction), and the update b <- b + sum(y). */
typedef struct model {
    damo_graph *g;
    damo_shared *w, *b;
    damo_var *x, *outs[2];
    damo_spec *spec;
} model;

static void model_new(model *m)
{
    double wv[12];
    for (int i = 0; i < 12; i++)
        wv[i] = 0.25 * i - 1;
    damo_array *wa = damo_array_from_data(ctx, DAMO_FLOAT64, 2, (int64_t[]){3, 4}, wv);
    m->w = damo_shared_new(ctx, wa, "W", NULL);
    damo_array_release(wa);
    m->b = damo_shared_float(ctx, 0, "b");
    m->g = damo_graph_new(ctx);
    damo_var *w = damo_shared_var(m->g, m->w), *b = damo_shared_var(m->g, m->b);
    m->x = damo_dvector(m->g, "x");
    m->outs[0] = damo_dot(w, m->x);
    m->outs[1] = damo_sum(damo_mul(damo_transpose(w), damo_float(m->g, 2)), (int[]){0}, 1, 0);
    m->spec = damo_spec_new(m->g);
    damo_spec_input(m->spec, m->x);
    damo_spec_output(m->spec, m->outs[0]);
    damo_spec_output(m->spec, m->outs[1]);
    damo_spec_update(m->spec, b, damo_add(b, damo_sum(m->outs[0], NULL, 0, 0)));
}

static void model_free(model *m)
{
    damo_spec_free(m->spec);
    damo_graph_free(m->g);
    damo_shared_release(m->w);
    damo_shared_release(m->b);
}

static void test_function_debugprint(void)
{
    model m;
    model_new(&m);
    damo_function *f = damo_compile(m.spec);
    CHECK(f != NULL);
    char *text = damo_function_debugprint(f);
    const char *sched = text ? strstr(text, "schedule:") : NULL;
    CHECK(sched != NULL);
    CHECK(check_ids(text, sched) > 0);
    CHECK_STR_HAS(text, "W [id");
    CHECK_STR_HAS(text, "shared");
    CHECK_STR_HAS(text, "-> update of 'b'");
    CHECK_STR_HAS(sched, "blas");
    CHECK_STR_HAS(sched, "reduce");
    CHECK_STR_HAS(sched, "view");
    CHECK_STR_HAS(sched, "dimshuffle{1,0}");
    CHECK_STR_HAS(sched, "shared 'W'");
    CHECK_STR_HAS(sched, "view of [id ");
    CHECK_STR_HAS(sched, "update of 'b' <- [id ");
    CHECK_STR_HAS(sched, "copy-then-swap");
    CHECK_INT(sched ? count(sched, "\n  step ") : -1, (long long)damo_function_n_steps(f));
    /* every id the schedule names is one the graph above defined */
    for (const char *at = sched; at && (at = strstr(at, "[id ")); at++) {
        char id[16], def[32];
        if (sscanf(at, "[id %7[A-Z]]", id) == 1) {
            snprintf(def, sizeof def, "[id %s] ", id);
            CHECK_MSG(strstr(text, def) < sched, "[id %s] is not in the graph", id);
        }
    }
    free(text);
    damo_function_free(f);

    /* a gemv's c, computed in the memory of its result, updated in place */
    damo_var *u = damo_dvector(m.g, "u"), *xu[] = {m.x, u};
    damo_var *gemv = damo_add(damo_mul(damo_float(m.g, 2), m.outs[0]), damo_mul(damo_float(m.g, 3), damo_sqr(u)));
    f = damo_function_simple(m.g, 2, xu, 1, &gemv, 0);
    text = damo_function_debugprint(f);
    CHECK_STR_HAS(text, "gemm [id A]");
    CHECK_STR_HAS(text, "computed in the memory of [id A], which is updated there in place");
    CHECK_STR_HAS(text, "out: [id A] result, output 0");
    free(text);
    damo_function_free(f);

    /* the product is a temp the reduction reads */
    damo_var *t = damo_sum(damo_exp(m.outs[0]), NULL, 0, 0);
    f = damo_function_simple(m.g, 1, &m.x, 1, &t, 0);
    text = damo_function_debugprint(f);
    CHECK_STR_HAS(text, "out: [id B] temp in buffer slot 0");
    CHECK_STR_HAS(text, "in: [id B] temp in buffer slot 0");
    CHECK_STR_HAS(text, "sum{axes=(0,), of: exp}");
    free(text);
    damo_function_free(f);
    model_free(&m);
}

/* DOT's structure without Graphviz: braces balance outside strings, and
 * each edge's ends are declared nodes (or clusters' nodes). */
static void check_dot_structure(const char *dot)
{
    int depth = 0, min_depth = 0, in_str = 0;
    for (const char *p = dot; *p; p++) {
        if (in_str) {
            if (*p == '\\' && p[1])
                p++;
            else if (*p == '"')
                in_str = 0;
            continue;
        }
        if (*p == '"')
            in_str = 1;
        depth += (*p == '{') - (*p == '}');
        min_depth = depth < min_depth ? depth : min_depth;
    }
    CHECK_INT(depth, 0);
    CHECK_INT(min_depth, 0);
    CHECK_INT(in_str, 0);
    int edges = 0;
    for (const char *line = dot; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        char a[64], b[64];
        if (sscanf(line, " %63[A-Za-z0-9_] -> %63[A-Za-z0-9_];", a, b) != 2)
            continue;
        edges++;
        for (int k = 0; k < 2; k++) {
            char decl[80];
            snprintf(decl, sizeof decl, " %s [label=", k ? b : a);
            CHECK_MSG(strstr(dot, decl), "edge end %s is not declared", k ? b : a);
        }
    }
    CHECK(edges > 0);
}

/* Renders with Graphviz when it is installed. */
static void check_dot_renders(const char *dot, const char *tag)
{
    if (system("command -v dot >/dev/null 2>&1") != 0) {
        printf("skipping the Graphviz rendering of %s: `dot` is not installed\n", tag);
        return;
    }
    char in[] = "/tmp/damo-dot-XXXXXX", cmd[256];
    int fd = mkstemp(in);
    FILE *fp = fd >= 0 ? fdopen(fd, "w") : NULL;
    CHECK(fp != NULL);
    if (!fp)
        return;
    fputs(dot, fp);
    fclose(fp);
    snprintf(cmd, sizeof cmd, "dot -Tsvg %s -o %s.svg 2>&1", in, in);
    CHECK_INT(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s.svg", in);
    fp = fopen(cmd, "r");
    char head[4096] = "";
    size_t n = fp ? fread(head, 1, sizeof head - 1, fp) : 0;
    head[n] = 0;
    CHECK_STR_HAS(head, "<svg");
    if (fp)
        fclose(fp);
    remove(cmd);
    remove(in);
}

static void test_dot(void)
{
    model m;
    model_new(&m);
    damo_function *f = damo_compile(m.spec);
    char *dot = damo_function_to_dot(f);
    CHECK(dot != NULL);
    if (dot) {
        CHECK(!strncmp(dot, "digraph ", 8));
        CHECK_STR_HAS(dot, "subgraph cluster_");
        CHECK_STR_HAS(dot, "fillcolor=orange");    /* the gemv */
        CHECK_STR_HAS(dot, "shape=cylinder");      /* W and b */
        CHECK_STR_HAS(dot, "shape=ellipse");       /* x */
        CHECK_STR_HAS(dot, "style=dashed");        /* the transpose */
        CHECK_STR_HAS(dot, "update of 'b'");
        CHECK_STR_HAS(dot, "step ");
        check_dot_structure(dot);
        check_dot_renders(dot, "a function");
    }
    free(dot);
    dot = damo_var_to_dot(m.outs[1]);
    CHECK(dot != NULL);
    if (dot) {
        CHECK_STR_HAS(dot, "shape=plaintext"); /* the constant 2 */
        CHECK_STR_HAS(dot, "doubleoctagon");
        check_dot_structure(dot);
        check_dot_renders(dot, "a variable");
    }
    free(dot);
    CHECK(damo_var_to_dot(NULL) == NULL && damo_function_to_dot(NULL) == NULL);
    damo_function_free(f);
    model_free(&m);
}

#define CALLS 25

static void run_calls(damo_function *f, damo_array *x, double *y0)
{
    for (int i = 0; i < CALLS; i++) {
        damo_array *out[2] = {NULL, NULL};
        CHECK_INT(damo_call(f, (damo_arg[]){DAMO_ARG(x)}, 1, out, 2), DAMO_OK);
        if (i == CALLS - 1)
            CHECK_INT(damo_array_get_f64(out[0], 0, y0), DAMO_OK);
        damo_array_release(out[0]);
        damo_array_release(out[1]);
    }
}

static void test_profile(void)
{
    model m;
    model_new(&m);
    damo_array *x = damo_array_from_data(ctx, DAMO_FLOAT64, 1, (int64_t[]){4}, (double[]){1, 2, 3, 4});

    /* off: no timing events, no step profile, and the same results */
    damo_function *off = damo_compile(m.spec);
    damo_ctx_stats before, after;
    damo_ctx_get_stats(ctx, &before);
    double y_off = 0, y_on = 0;
    run_calls(off, x, &y_off);
    damo_ctx_get_stats(ctx, &after);
    CHECK_INT(after.profile_events - before.profile_events, 0);
    damo_step_profile sp;
    CHECK_INT(damo_function_step_profile(off, 0, &sp), DAMO_ERR_INVALID);
    damo_profile fp;
    CHECK_INT(damo_function_get_profile(off, &fp), DAMO_OK);
    CHECK(!fp.enabled && fp.calls == 0 && fp.plan_seconds > 0);
    char *table = damo_function_profile(off);
    CHECK_STR_HAS(table, "calls not profiled");
    CHECK_STR_HAS(table, "compile:");
    free(table);

    /* the first profiled function switches the context's queue, once */
    /* kept on the device, so that its reduction is a kernel with events
     * (small exact work would run on the calling thread); the results
     * below are the same bits as off's */
    damo_spec_flags(m.spec, DAMO_FN_PROFILE | DAMO_FN_DEVICE_ONLY);
    damo_ctx_get_stats(ctx, &before);
    damo_function *on = damo_compile(m.spec);
    damo_ctx_get_stats(ctx, &after);
    CHECK(on != NULL);
    CHECK_INT(after.host_waits - before.host_waits, 1);
    damo_function *again = damo_compile(m.spec);
    damo_ctx_get_stats(ctx, &before);
    CHECK_INT(before.host_waits - after.host_waits, 0);
    damo_function_free(again);
    damo_ctx_finish(ctx);
    double t0 = now_s();
    damo_ctx_get_stats(ctx, &before);
    run_calls(on, x, &y_on);
    CHECK_INT(damo_function_get_profile(on, &fp), DAMO_OK);
    double wall = now_s() - t0;
    damo_ctx_get_stats(ctx, &after);
    CHECK(after.profile_events > before.profile_events);
    CHECK_CLOSE(y_on, y_off, 0, 0);
    CHECK(fp.enabled);
    CHECK_INT(fp.calls, CALLS);
    CHECK(fp.call_seconds > 0 && fp.call_seconds <= wall);
    double sum = 0;
    int kinds[8] = {0};
    for (size_t i = 0; i < damo_function_n_steps(on); i++) {
        CHECK_INT(damo_function_step_profile(on, i, &sp), DAMO_OK);
        CHECK_INT(sp.calls, CALLS);
        double t = sp.device_seconds + sp.host_seconds;
        CHECK_MSG(t > 0, "step %zu (%s) took %g s", i, damo_function_step_text(on, i), t);
        damo_step_kind k = damo_function_step_kind(on, i);
        kinds[k]++;
        if (k == DAMO_STEP_VIEW)
            CHECK_INT(sp.host_calls, CALLS);
        if (k == DAMO_STEP_REDUCE)
            CHECK(sp.events >= CALLS && sp.device_seconds > 0);
        /* a small product runs on the calling thread when it finds the
         * queue idle (host BLAS), else it is queued */
        if (k == DAMO_STEP_BLAS)
            CHECK(sp.events + sp.host_calls >= CALLS);
        sum += t;
    }
    CHECK(kinds[DAMO_STEP_BLAS] && kinds[DAMO_STEP_REDUCE] && kinds[DAMO_STEP_VIEW]);
    CHECK_MSG(sum <= wall, "steps %g s > wall %g s", sum, wall);
    CHECK(damo_function_step_profile(on, damo_function_n_steps(on), &sp) == DAMO_ERR_INVALID);
    table = damo_function_profile(on);
    CHECK_STR_HAS(table, "calls: 25,");
    CHECK_STR_HAS(table, "share");
    CHECK_STR_HAS(table, "blas");
    CHECK_STR_HAS(table, "compile:");
    free(table);

    /* calls never wait for their events; reading the profile waits once */
    damo_ctx_get_stats(ctx, &before);
    for (int i = 0; i < CALLS; i++)
        CHECK_INT(damo_call(on, (damo_arg[]){DAMO_ARG(x)}, 1, NULL, 0), DAMO_OK);
    damo_ctx_get_stats(ctx, &after);
    CHECK_INT(after.host_waits - before.host_waits, 0);
    CHECK_INT(damo_function_get_profile(on, &fp), DAMO_OK);
    damo_ctx_get_stats(ctx, &before);
    CHECK(before.host_waits - after.host_waits <= 1);
    CHECK_INT(fp.calls, 2 * CALLS);

    /* an unprofiled function called after a profiled one still makes none */
    damo_ctx_get_stats(ctx, &before);
    run_calls(off, x, &y_off);
    damo_ctx_get_stats(ctx, &after);
    CHECK_INT(after.profile_events - before.profile_events, 0);

    /* small exact work runs on the host and is timed by the host clock */
    damo_var *a = damo_dscalar(m.g, "a"), *c = damo_dscalar(m.g, "c"), *ac[] = {a, c};
    damo_var *a_c = damo_add(a, c);
    damo_function *host = damo_function_simple(m.g, 2, ac, 1, &a_c, DAMO_FN_PROFILE);
    damo_ctx_get_stats(ctx, &before);
    for (int i = 0; i < CALLS; i++)
        CHECK_INT(damo_call(host, (damo_arg[]){DAMO_FLOAT(1), DAMO_FLOAT(2)}, 2, NULL, 0), DAMO_OK);
    damo_ctx_get_stats(ctx, &after);
    CHECK_INT(after.profile_events - before.profile_events, 0);
    CHECK_INT(damo_function_step_profile(host, 0, &sp), DAMO_OK);
    CHECK(sp.calls == CALLS && sp.host_calls == CALLS && sp.events == 0 && sp.host_seconds > 0);
    table = damo_function_profile(host);
    CHECK_STR_HAS(table, "host ");
    free(table);
    damo_function_free(host);

    /* DAMO_PROFILE=1 profiles without the flag */
    damo_spec_flags(m.spec, 0);
    setenv("DAMO_PROFILE", "1", 1);
    damo_function *env = damo_compile(m.spec);
    unsetenv("DAMO_PROFILE");
    run_calls(env, x, &y_on);
    CHECK_INT(damo_function_step_profile(env, 0, &sp), DAMO_OK);
    CHECK_INT(sp.calls, CALLS);

    damo_function_free(env);
    damo_function_free(on);
    damo_function_free(off);
    damo_array_release(x);
    model_free(&m);
}

int main(void)
{
    char err[512];
    if (damo_ctx_new(&ctx, err, sizeof err) != DAMO_OK) {
        fprintf(stderr, "no context: %s\n", err);
        return 1;
    }
    test_logistic();
    test_shared_subgraph();
    test_deep_chain();
    test_labels();
    test_function_debugprint();
    test_dot();
    test_profile();
    damo_ctx_free(ctx);
    return check_done();
}
