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
#include "canary_state.h"
#include "slo_state.h"

struct state_file;

struct gen;

/* New generation with refcount 1. Takes ownership of cfg. prev (borrowed,
 * may be NULL) donates recorders of same-named checks whose histogram bounds
 * did not change, and SLO states of same-named SLOs whose SLI definition did
 * not change. SLOs new to this process are restored from saved (borrowed,
 * may be NULL) when it holds the same name and definition. Caller releases
 * with gen_unref. */
struct gen *gen_new(struct cfg *cfg, const struct gen *prev, const struct state_file *saved);
void gen_ref(struct gen *g);
void gen_unref(struct gen *g);

/* Borrowed accessors, valid while the caller holds a reference. */
const struct cfg *gen_cfg(const struct gen *g);
size_t gen_count(const struct gen *g);
struct rec *gen_rec(const struct gen *g, size_t i);
size_t gen_slo_count(const struct gen *g);
struct slo_state *gen_slo(const struct gen *g, size_t i);
size_t gen_canary_count(const struct gen *g);
struct canary_state *gen_canary(const struct gen *g, size_t i);
/* Canary arms fed by check i, each as canary index * 2 + arm; *list
 * borrowed. Returns the count. */
size_t gen_check_arms(const struct gen *g, size_t check, const uint32_t **list);
/* SLO indexes fed by check i; *list borrowed. Returns the count. */
size_t gen_check_slos(const struct gen *g, size_t check, const uint32_t **list);

#endif
