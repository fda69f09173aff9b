/* Events: the newest command's, kept to tell when the queue is idle, and
 * for profiling a queue that records timestamps, made only when some
 * function asks for it, with the event lists commands fill while a step
 * records. */
#include <stdlib.h>
#include <time.h>

#include "runtime.h"

uint64_t rt_now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* A new entry of the record list; NULL when out of memory. */
static cl_event *event_slot(rt_ctx *rt)
{
    rt_events *l = rt->record;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        cl_event *ev = realloc(l->ev, cap * sizeof *ev);
        if (!ev)
            return NULL;
        l->ev = ev;
        l->cap = cap;
    }
    rt->events_recorded++;
    l->ev[l->n] = NULL;
    return &l->ev[l->n++];
}

cl_event *rt_rec(rt_ctx *rt)
{
    cl_event *slot = rt->record ? event_slot(rt) : NULL;
    if (rt->last) {
        clReleaseEvent(rt->last);
        rt->last = NULL;
    }
    rt->drained = 0;
    rt->newest = slot ? slot : &rt->last;
    return rt->newest;
}

void rt_record_stop(rt_ctx *rt)
{
    if (rt->newest && rt->newest != &rt->last) {
        if (*rt->newest && clRetainEvent(*rt->newest) == CL_SUCCESS)
            rt->last = *rt->newest;
        rt->newest = &rt->last;
    }
    rt->record = NULL;
}

int rt_queue_idle(rt_ctx *rt)
{
    if (rt->drained)
        return 1;
    cl_event ev = rt->newest ? *rt->newest : NULL;
    return ev && rt_event_done(ev);
}

int rt_direct_now(rt_ctx *rt) { return rt->host_direct && rt_queue_idle(rt); }

damo_status rt_profile_on(rt_ctx *rt, damo_err *e)
{
    if (rt->profiling)
        return DAMO_OK;
    /* OpenCL 1.2 cannot turn profiling on in a queue: a new one takes over
     * once the old one has drained, so the order of commands holds */
    damo_status st = rt_finish(rt, e);
    if (st != DAMO_OK)
        return st;
    cl_int rc;
    cl_command_queue q =
        clCreateCommandQueue(rt->context, rt->dev.device, CL_QUEUE_PROFILING_ENABLE, &rc);
    if (rc != CL_SUCCESS)
        return err_set(e, DAMO_ERR_DEVICE, "creating a profiling command queue on '%s': %s",
                       rt->dev.name, rt_cl_error_name(rc));
    rt_lock();
    clReleaseCommandQueue(rt->queue);
    rt_unlock();
    rt->queue = q;
    rt->profiling = 1;
    return DAMO_OK;
}

uint64_t rt_event_ns(cl_event ev)
{
    cl_ulong start = 0, end = 0;
    if (!ev || !rt_event_done(ev) ||
        clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_START, sizeof start, &start, NULL) != CL_SUCCESS ||
        clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_END, sizeof end, &end, NULL) != CL_SUCCESS)
        return 0;
    return end > start ? (uint64_t)(end - start) : 0;
}
