/* Profiles of functions: compile cost, and per-step times of calls when
 * profiled (exec/profile.c records them). */
#include <stdio.h>
#include <stdlib.h>

#include "../common/strbuf.h"
#include "../exec/profile.h"
#include "api.h"

damo_status compile_plan(plan **out, damo_ctx *ctx, fgraph *fg, shared_store *const *swap_from,
                         shared_store *const *swap_to, size_t n_swaps, int keep_updates,
                         unsigned flags, fn_compile *c, damo_err *e)
{
    const rt_ctx *rt = &ctx->rt;
    uint64_t prog = rt->program_ns, builds = rt->builds, disk = rt->disk_hits, mem = rt->memory_hits;
    uint64_t t0 = rt_now_ns();
    damo_status st = plan_build(out, ctx, fg, swap_from, swap_to, n_swaps, keep_updates, flags, e);
    c->plan_ns = rt_now_ns() - t0;
    c->program_ns = rt->program_ns - prog;
    c->builds = rt->builds - builds;
    c->disk_hits = rt->disk_hits - disk;
    c->memory_hits = rt->memory_hits - mem;
    return st;
}

damo_status damo_function_get_profile(damo_function *f, damo_profile *out)
{
    if (!f || !out)
        return err_set(f ? &f->err : NULL, DAMO_ERR_INVALID, "get_profile: NULL argument");
    const fn_compile *c = &f->compile;
    const prof *pr = f->plan->prof;
    *out = (damo_profile){0};
    out->rewrite_seconds = (double)c->rewrite_ns * 1e-9;
    out->fusion_seconds = (double)c->fusion_ns * 1e-9;
    out->plan_seconds = (double)c->plan_ns * 1e-9;
    out->program_seconds = (double)c->program_ns * 1e-9;
    out->builds = c->builds;
    out->disk_hits = c->disk_hits;
    out->memory_hits = c->memory_hits;
    if (!pr)
        return DAMO_OK;
    err_clear(&f->err);
    damo_status st = prof_settle(f->plan, &f->err);
    out->enabled = 1;
    out->calls = pr->calls;
    out->call_seconds = (double)pr->call_ns * 1e-9;
    out->wait_seconds = (double)pr->wait_ns * 1e-9;
    out->call_builds = pr->builds;
    return st;
}

damo_status damo_function_step_profile(damo_function *f, size_t i, damo_step_profile *out)
{
    if (!f || !out)
        return err_set(f ? &f->err : NULL, DAMO_ERR_INVALID, "step_profile: NULL argument");
    err_clear(&f->err);
    if (!f->plan->prof)
        return err_set(&f->err, DAMO_ERR_INVALID, "step_profile: the function is not profiled "
                       "(compile it with DAMO_FN_PROFILE, or with DAMO_PROFILE=1 in the environment)");
    if (i >= f->plan->n_steps)
        return err_set(&f->err, DAMO_ERR_INVALID, "step_profile: step %zu of %zu", i, f->plan->n_steps);
    damo_status st = prof_settle(f->plan, &f->err);
    const prof_step *ps = &f->plan->prof->steps[i];
    *out = (damo_step_profile){ps->calls, ps->host_calls, ps->events, (double)ps->device_ns * 1e-9,
                               (double)ps->host_ns * 1e-9};
    return st;
}

static void steps_table(strbuf *b, damo_function *f, const damo_profile *fp)
{
    const plan *p = f->plan;
    double total = 0;
    for (size_t i = 0; i < p->n_steps; i++) {
        const prof_step *ps = &p->prof->steps[i];
        total += (double)(ps->device_ns + ps->host_ns) * 1e-9;
    }
    sb_printf(b, "calls: %llu, host time in calls %.3f ms (%.2f us per call), waiting for the "
                 "device %.3f ms, programs built or loaded during calls: %llu\n",
              (unsigned long long)fp->calls, fp->call_seconds * 1e3,
              fp->calls ? fp->call_seconds * 1e6 / (double)fp->calls : 0.0, fp->wait_seconds * 1e3,
              (unsigned long long)fp->call_builds);
    sb_printf(b, "steps: %.3f ms in all (device time of their commands, host clock of work done "
                 "on the host)\n", total * 1e3);
    sb_printf(b, "%5s  %-8s %8s %11s %10s %7s  %-17s %s\n", "step", "kind", "calls", "total ms",
              "mean us", "share", "where", "what");
    for (size_t i = 0; i < p->n_steps; i++) {
        const prof_step *ps = &p->prof->steps[i];
        double t = (double)(ps->device_ns + ps->host_ns) * 1e-9;
        char where[64];
        if (ps->host_calls == ps->calls)
            snprintf(where, sizeof where, "host");
        else if (ps->host_calls)
            snprintf(where, sizeof where, "both (%llu host)", (unsigned long long)ps->host_calls);
        else
            snprintf(where, sizeof where, "device (%llu cmd)", (unsigned long long)ps->events);
        sb_printf(b, "%5zu  %-8s %8llu %11.3f %10.2f %6.1f%%  %-17s %s\n", i,
                  step_kind_name(p->steps[i].kind), (unsigned long long)ps->calls, t * 1e3,
                  ps->calls ? t * 1e6 / (double)ps->calls : 0.0, total > 0 ? 100 * t / total : 0.0,
                  where, p->steps[i].text);
    }
}

char *damo_function_profile(damo_function *f)
{
    damo_profile fp;
    if (damo_function_get_profile(f, &fp) != DAMO_OK)
        return NULL;
    strbuf b;
    sb_init(&b);
    sb_printf(&b, "profile of a function of %zu step%s on '%s'\n", f->plan->n_steps,
              f->plan->n_steps == 1 ? "" : "s", f->ctx->rt.dev.name);
    if (fp.enabled)
        steps_table(&b, f, &fp);
    else
        sb_puts(&b, "calls not profiled: compile with DAMO_FN_PROFILE, or with DAMO_PROFILE=1 in "
                    "the environment\n");
    sb_printf(&b, "compile: %.3f ms = rewrites %.3f ms + fusion %.3f ms + schedule %.3f ms "
                  "(codegen and planning %.3f ms, programs %.3f ms: %llu built, %llu from the disk "
                  "cache, %llu in memory)\n",
              (fp.rewrite_seconds + fp.fusion_seconds + fp.plan_seconds) * 1e3,
              fp.rewrite_seconds * 1e3, fp.fusion_seconds * 1e3, fp.plan_seconds * 1e3,
              (fp.plan_seconds - fp.program_seconds) * 1e3, fp.program_seconds * 1e3,
              (unsigned long long)fp.builds,
              (unsigned long long)fp.disk_hits, (unsigned long long)fp.memory_hits);
    return text_result(&b, DAMO_OK, &f->err);
}
