/*
 * A floor under Philox4x32-10 fills on the host: uniform float64
 * numbers from counters 0, 1, 2, ..., two per Philox call (the 53 bits a
 * double takes twice fit in its four words), nothing else computed, on as
 * many threads as asked. Built with -O3 -march=native (bench/meson.build)
 * so that the compiler vectorizes the rounds across counters with the
 * host's widest vectors. bench_random prints it beside damo's fill: what
 * a Philox fill reaches on these cores when it computes nothing else
 * (gcc 12 and clang 14 make it 2.1x apart here).
 */
#include "philox_floor.h"

#include <pthread.h>
#include <stdint.h>

#define DAMO_FN static inline
#define DAMO_U32 uint32_t
#define DAMO_U64 uint64_t
#include "philox.h"

typedef struct part {
    double *out;
    int64_t lo, hi; /* Philox calls [lo, hi) */
} part;

static void *fill_part(void *arg)
{
    part *p = arg;
    for (int64_t i = p->lo; i < p->hi; i++) {
        uint32_t c[4] = {(uint32_t)i, (uint32_t)((uint64_t)i >> 32), 0, 0};
        damo_philox4x32_10(c, 0x12345678u, 0x9abcdef0u);
        p->out[2 * i] = (double)(((uint64_t)c[1] << 32 | c[0]) >> 11) * 0x1p-53;
        p->out[2 * i + 1] = (double)(((uint64_t)c[3] << 32 | c[2]) >> 11) * 0x1p-53;
    }
    return NULL;
}

int philox_floor_fill(double *out, int64_t n, int threads)
{
    enum { MAX_THREADS = 64 };
    pthread_t t[MAX_THREADS];
    part parts[MAX_THREADS];
    if (threads < 1 || threads > MAX_THREADS || n % 2)
        return 1;
    int64_t calls = n / 2;
    for (int k = 0; k < threads; k++)
        parts[k] = (part){out, calls * k / threads, calls * (k + 1) / threads};
    /* the caller fills the last part, and any whose thread did not start */
    int started = 0;
    while (started < threads - 1 && !pthread_create(&t[started], NULL, fill_part, &parts[started]))
        started++;
    for (int k = started; k < threads; k++)
        fill_part(&parts[k]);
    for (int k = 0; k < started; k++)
        pthread_join(t[k], NULL);
    return started < threads - 1;
}
