#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    rt_device *devs = NULL;
    size_t n = 0, pick = 0;
    damo_ctx *ctx = NULL;
    if (!out) {
        err_set(&e, DAMO_ERR_INVALID, "damo_ctx_new: out is NULL");
        goto fail;
    }
    *out = NULL;
    if (rt_list_devices(&devs, &n, &e) != DAMO_OK ||
        rt_select_device(devs, n, selector, &pick, NULL, 0, &e) != DAMO_OK)
        goto fail;
    if (!(ctx = calloc(1, sizeof *ctx))) {
        err_set(&e, DAMO_ERR_NOMEM, "out of memory creating a context");
        goto fail;
    }
    if (rt_ctx_init(&ctx->rt, &devs[pick], &e) != DAMO_OK)
        goto fail;
    free(devs);
    *out = ctx;
    return DAMO_OK;
fail:
    free(devs);
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

const char *damo_ctx_errmsg(const damo_ctx *ctx) { return ctx ? ctx->err.msg : "context is NULL"; }
damo_status damo_ctx_errcode(const damo_ctx *ctx) { return ctx ? ctx->err.code : DAMO_ERR_INVALID; }
const char *damo_ctx_device_name(const damo_ctx *ctx) { return ctx->rt.dev.name; }
int damo_ctx_has_fp64(const damo_ctx *ctx) { return ctx->rt.dev.fp64; }

void ctx_mark_synced(damo_ctx *ctx) { ctx->epoch_done = ctx->epoch_queued; }

damo_status damo_ctx_finish(damo_ctx *ctx)
{
    if (!ctx)
        return DAMO_ERR_INVALID;
    damo_status st = rt_finish(&ctx->rt, &ctx->err);
    if (st == DAMO_OK)
        ctx_mark_synced(ctx);
    return st;
}

void damo_ctx_cache_stats(const damo_ctx *ctx, damo_cache_stats *out)
{
    out->memory_hits = ctx->rt.memory_hits;
    out->disk_hits = ctx->rt.disk_hits;
    out->builds = ctx->rt.builds;
}

void shared_store_retain(shared_store *s) { s->refcount++; }

void shared_store_release(shared_store *s)
{
    if (s && --s->refcount == 0) {
        damo_array_release(s->value);
        free(s);
    }
}

damo_graph *damo_graph_new(damo_ctx *ctx)
{
    return ctx ? graph_create(ctx, shared_store_retain, shared_store_release) : NULL;
}
