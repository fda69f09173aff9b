/* Timing the steps of a profiled plan (profile.h). */
#include <stdlib.h>
#include <string.h>

#include "profile.h"

damo_status prof_attach(plan *p, damo_err *e)
{
    damo_status st = rt_profile_on(&p->ctx->rt, e);
    if (st != DAMO_OK)
        return st;
    if (!(p->prof = calloc(1, sizeof *p->prof)) ||
        !(p->prof->steps = calloc(p->n_steps + 1, sizeof *p->prof->steps))) {
        prof_free(p);
        return err_set(e, DAMO_ERR_NOMEM, "out of memory for a profile");
    }
    return DAMO_OK;
}

void prof_free(plan *p)
{
    prof *pr = p->prof;
    if (!pr)
        return;
    for (size_t i = 0; pr->steps && i < p->n_steps; i++) {
        rt_events *l = &pr->steps[i].pending;
        for (size_t k = pr->steps[i].read; k < l->n; k++)
            if (l->ev[k])
                clReleaseEvent(l->ev[k]);
        free(l->ev);
    }
    free(pr->steps);
    free(pr);
    p->prof = NULL;
}

/* Adds the times of the step's completed commands. The queue is in
 * order, so the first one still running ends the scan: a host running
 * ahead of the device costs each call one look, not one per command in
 * flight, and the list is compacted only when half of it is read. */
static void harvest(prof_step *ps)
{
    rt_events *l = &ps->pending;
    for (; ps->read < l->n; ps->read++) {
        cl_event ev = l->ev[ps->read];
        if (ev && !rt_event_done(ev))
            break;
        if (ev) {
            ps->device_ns += rt_event_ns(ev);
            ps->events++;
            clReleaseEvent(ev);
        }
    }
    if (ps->read && 2 * ps->read >= l->n) {
        memmove(l->ev, l->ev + ps->read, (l->n - ps->read) * sizeof *l->ev);
        l->n -= ps->read;
        ps->read = 0;
    }
}

void prof_call_begin(plan *p)
{
    prof *pr = p->prof;
    for (size_t i = 0; i < p->n_steps; i++)
        harvest(&pr->steps[i]);
    pr->wait_start = p->ctx->rt.wait_ns;
    pr->builds_start = p->ctx->rt.builds + p->ctx->rt.disk_hits;
    pr->call_start = rt_now_ns();
}

damo_status prof_step_run(plan *p, size_t i, damo_err *e)
{
    prof_step *ps = &p->prof->steps[i];
    rt_ctx *rt = &p->ctx->rt;
    size_t before = ps->pending.n;
    rt->record = &ps->pending;
    uint64_t t0 = rt_now_ns();
    damo_status st = p->steps[i].cls->run(p, &p->steps[i], e);
    uint64_t dt = rt_now_ns() - t0;
    rt_record_stop(rt);
    ps->calls++;
    if (ps->pending.n == before) {
        ps->host_calls++;
        ps->host_ns += dt;
    }
    return st;
}

void prof_call_end(plan *p)
{
    prof *pr = p->prof;
    rt_ctx *rt = &p->ctx->rt;
    pr->calls++;
    pr->call_ns += rt_now_ns() - pr->call_start;
    pr->wait_ns += rt->wait_ns - pr->wait_start;
    pr->builds += rt->builds + rt->disk_hits - pr->builds_start;
}

damo_status prof_settle(plan *p, damo_err *e)
{
    prof *pr = p->prof;
    int pending = 0;
    for (size_t i = 0; i < p->n_steps && !pending; i++) {
        harvest(&pr->steps[i]);
        pending = pr->steps[i].pending.n > 0;
    }
    damo_status st = pending ? rt_finish(&p->ctx->rt, e) : DAMO_OK;
    for (size_t i = 0; i < p->n_steps; i++)
        harvest(&pr->steps[i]);
    return st;
}
