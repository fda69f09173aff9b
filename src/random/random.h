/*
 * Random streams: the stream object and its states (stream.c) and the
 * draws built from them (draw.c). A top-layer module beside api/: it
 * builds graph nodes and makes shared variables.
 */
#ifndef DAMO_RANDOM_H
#define DAMO_RANDOM_H

#include "../api/api.h"

/* A new state of s for a variable drawn in g: the shared uint64 vector
 * {key, 0}, key from the stream's seed and the variable's number. The
 * stream keeps a reference (borrowed by the caller). NULL with a message
 * on g on error. */
damo_shared *random_state_new(damo_random_stream *s, damo_graph *g);

#endif
