/*
 * Profiling a plan (DAMO_FN_PROFILE): each step of each call is timed by
 * the OpenCL events of the commands it enqueued (on a queue made with
 * profiling), or by the host clock when it enqueued none (work done on the
 * host, views). Events are read once completed, never waited for during
 * a call: each call takes the times of those already done, and
 * prof_settle waits for the rest. An unprofiled plan has no prof and its
 * calls record no events.
 */
#ifndef DAMO_EXEC_PROFILE_H
#define DAMO_EXEC_PROFILE_H

#include "plan.h"

typedef struct prof_step {
    uint64_t calls;       /* runs of the step */
    uint64_t host_calls;  /* runs that enqueued nothing: timed on the host */
    uint64_t events;      /* completed commands timed */
    uint64_t device_ns;   /* their device time */
    uint64_t host_ns;     /* host clock of the runs that enqueued nothing */
    rt_events pending;    /* commands, read up to `read` */
    size_t read;
} prof_step;

struct prof {
    prof_step *steps;     /* per plan step */
    uint64_t calls;
    uint64_t call_ns;     /* host time inside plan_run */
    uint64_t wait_ns;     /* of it, blocked on the device */
    uint64_t builds;      /* programs built or loaded during calls */
    uint64_t call_start, wait_start, builds_start; /* the call in progress */
};

/* Turns profiling on for p (and the context's queue). */
damo_status prof_attach(plan *p, damo_err *e);
void prof_free(plan *p);
/* Around one call of p, and each step's run within it. */
void prof_call_begin(plan *p);
damo_status prof_step_run(plan *p, size_t i, damo_err *e);
void prof_call_end(plan *p);
/* Waits for every command still pending (one counted wait, when any is)
 * and adds their times. */
damo_status prof_settle(plan *p, damo_err *e);

#endif
