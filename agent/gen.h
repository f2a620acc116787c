/*
 * gen.h - a config generation: an immutable config plus one recorder per
 * check, refcounted. Reload builds a new generation; threads that still hold
 * the old one (a scrape in progress, probes in flight) keep it alive until
 * they let go. Recorders are carried over by check name, so counters of
 * checks that survive a reload never reset.
 */
#ifndef OUTPOST_GEN_H
#define OUTPOST_GEN_H

#include "config.h"
#include "recorder.h"

struct gen;

/* New generation with refcount 1. Takes ownership of cfg. prev (borrowed,
 * may be NULL) donates recorders of same-named checks whose histogram bounds
 * did not change. Caller releases with gen_unref. */
struct gen *gen_new(struct cfg *cfg, const struct gen *prev);
void gen_ref(struct gen *g);
void gen_unref(struct gen *g);

/* Borrowed accessors, valid while the caller holds a reference. */
const struct cfg *gen_cfg(const struct gen *g);
size_t gen_count(const struct gen *g);
struct rec *gen_rec(const struct gen *g, size_t i);

#endif
