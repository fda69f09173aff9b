/* Contexts and graphs. */
#include <stdio.h>
#include <stdlib.h>

#include "api.h"

damo_status damo_ctx_new(damo_ctx **out, char *errmsg, size_t errmsg_size)
{
    return damo_ctx_new_on(NULL, out, errmsg, errmsg_size);
}

damo_status damo_ctx_new_on(const char *selector, damo_ctx **out, char *errmsg,
                            size_t errmsg_size)
{
    damo_err e;
    err_clear(&e);
    damo_ctx *ctx = NULL;
    if (!out) {
        err_set(&e, DAMO_ERR_INVALID, "damo_ctx_new: out is NULL");
        goto fail;
    }
    *out = NULL;
    if (!(ctx = calloc(1, sizeof *ctx))) {
        err_set(&e, DAMO_ERR_NOMEM, "out of memory creating a context");
        goto fail;
    }
    if (rt_open(&ctx->rt, selector, &e) != DAMO_OK)
        goto fail;
    *out = ctx;
    return DAMO_OK;
fail:
    free(ctx);
    if (errmsg && errmsg_size)
        snprintf(errmsg, errmsg_size, "%s", e.msg);
    return e.code;
}

void damo_ctx_free(damo_ctx *ctx)
{
    if (!ctx)
        return;
    rt_ctx_release(&ctx->rt);
    free(ctx);
}

const char *damo_ctx_errmsg(const damo_ctx *ctx) { return ctx ? ctx->err.msg : ""; }
damo_status damo_ctx_errcode(const damo_ctx *ctx) { return ctx ? ctx->err.code : DAMO_ERR_INVALID; }
const char *damo_ctx_device_name(const damo_ctx *ctx) { return ctx ? ctx->rt.dev.name : ""; }
int damo_ctx_has_fp64(const damo_ctx *ctx) { return ctx ? ctx->rt.dev.fp64 : 0; }

const char *damo_ctx_cache_info(damo_ctx *ctx) { return ctx ? rt_cache_info(&ctx->rt) : ""; }

damo_status damo_ctx_finish(damo_ctx *ctx)
{
    return ctx ? rt_finish(&ctx->rt, &ctx->err) : err_set(NULL, DAMO_ERR_INVALID, "ctx is NULL");
}

void damo_ctx_get_stats(const damo_ctx *ctx, damo_ctx_stats *out)
{
    if (!out)
        return;
    *out = (damo_ctx_stats){0, 0, 0, 0, 0, 0};
    if (!ctx)
        return;
    out->memory_hits = ctx->rt.memory_hits;
    out->disk_hits = ctx->rt.disk_hits;
    out->builds = ctx->rt.builds;
    out->host_waits = ctx->rt.host_waits;
    out->buffers_created = ctx->rt.buffers_created;
    out->profile_events = ctx->rt.events_recorded;
}

damo_graph *damo_graph_new(damo_ctx *ctx)
{
    if (!ctx)
        return err_set(NULL, DAMO_ERR_INVALID, "graph_new: ctx is NULL"), NULL;
    damo_graph *g = graph_create(ctx, shared_retain, shared_release);
    if (!g)
        err_set(&ctx->err, DAMO_ERR_NOMEM, "out of memory creating a graph");
    return g;
}
