/* Random streams: seeds, and the states of the variables drawn. */
#include <stdio.h>
#include <stdlib.h>

#include "../common/grow.h"
#include "random.h"

struct damo_random_stream {
    damo_ctx *ctx;
    uint64_t seed;
    damo_shared **states; /* one counted reference each, drawing order */
    size_t n, cap;
};

/* Variable i's key: block i of the Philox stream keyed by the seed, the
 * same function the draws compute (kernels/philox.h), so a key is a
 * known-answer value too. */
static uint64_t key_of(uint64_t seed, uint64_t i)
{
    return op_eval(SOP_RAND_U64, DAMO_UINT64, (hval){.u = seed}, (hval){.u = i}, (hval){.u = 0}).u;
}

static damo_array *state_value(damo_ctx *ctx, uint64_t seed, size_t i)
{
    uint64_t v[2] = {key_of(seed, i), 0};
    int64_t two = 2;
    return damo_array_from_data(ctx, DAMO_UINT64, 1, &two, v);
}

damo_random_stream *damo_random_stream_new(damo_ctx *ctx, uint64_t seed)
{
    if (!ctx)
        return err_set(NULL, DAMO_ERR_INVALID, "random_stream_new: ctx is NULL"), NULL;
    damo_random_stream *s = calloc(1, sizeof *s);
    if (!s)
        return err_set(&ctx->err, DAMO_ERR_NOMEM, "out of memory creating a random stream"), NULL;
    s->ctx = ctx;
    s->seed = seed;
    return s;
}

void damo_random_stream_free(damo_random_stream *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        damo_shared_release(s->states[i]);
    free(s->states);
    free(s);
}

damo_shared *random_state_new(damo_random_stream *s, damo_graph *g)
{
    if (g->ctx != s->ctx)
        return err_set(&g->err, DAMO_ERR_INVALID, "random draw: the stream belongs to another "
                       "context than the graph"), NULL;
    if (!grow_array((void **)&s->states, &s->cap, s->n + 1, sizeof *s->states))
        return err_set(&g->err, DAMO_ERR_NOMEM, "out of memory drawing a random variable"), NULL;
    char name[48];
    snprintf(name, sizeof name, "random_state_%zu", s->n);
    int64_t two = 2;
    damo_array *v = state_value(s->ctx, s->seed, s->n);
    damo_shared *st = v ? damo_shared_new(s->ctx, v, name, &two) : NULL;
    damo_array_release(v);
    if (!st)
        return err_set(&g->err, damo_last_error(), "random draw: %s", damo_last_errmsg()), NULL;
    return s->states[s->n++] = st;
}

damo_status damo_random_seed(damo_random_stream *s, uint64_t seed)
{
    if (!s)
        return err_set(NULL, DAMO_ERR_INVALID, "random_seed: stream is NULL");
    s->seed = seed;
    for (size_t i = 0; i < s->n; i++) {
        damo_array *v = state_value(s->ctx, seed, i);
        damo_status st = v ? damo_shared_set_value(s->states[i], v) : damo_last_error();
        damo_array_release(v);
        if (st != DAMO_OK)
            return st;
    }
    return DAMO_OK;
}

size_t damo_random_n_states(const damo_random_stream *s) { return s ? s->n : 0; }

damo_shared *damo_random_state(const damo_random_stream *s, size_t i)
{
    return s && i < s->n ? s->states[i] : NULL;
}
