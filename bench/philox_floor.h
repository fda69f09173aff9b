/* The host Philox floor (philox_floor.c). */
#ifndef BENCH_PHILOX_FLOOR_H
#define BENCH_PHILOX_FLOOR_H

#include <stdint.h>

/* Writes n (even) uniform float64 numbers into out from Philox4x32-10
 * counters 0 .. n/2 - 1, on `threads` threads (the caller's among them).
 * 0 on success; 1 for a bad argument or a thread that could not start
 * (out is then partly written). */
int philox_floor_fill(double *out, int64_t n, int threads);

#endif
