/*
 * gen.h - a config generation: an immutable config, the live state it
 * feeds (one recorder per check, SLO states, canary sample rings), and for
 * each check the list of sinks a result goes to. Refcounted: reload builds
 * a new generation, and threads that still hold the old one (a scrape in
 * progress, probes in flight) keep it alive until they let go.
 *
 * State follows names across reloads: a recorder stays with a check of the
 * same name and histogram bounds (counters never reset), an SLO state with
 * an SLO of the same name and SLI definition, canary samples with a canary
 * whose arms probe the same targets (its ring resized to the new window).
 */
#ifndef OUTPOST_GEN_H
#define OUTPOST_GEN_H

#include "canary_state.h"
#include "check.h"
#include "clock.h"
#include "config.h"
#include "recorder.h"
#include "slo_state.h"

struct state_file;
struct gen;
struct slo_feed;

/*
 * Where one check's results go. The generation builds the list for each
 * check (its recorder, every SLO that counts it, every canary arm it is),
 * so the probe loop hands a result to deliver() without knowing what it
 * feeds. deliver runs on the probe thread and is O(1).
 */
struct sink {
    void (*deliver)(const struct sink *s, const struct check_result *r, int64_t wall_ms);
    void *target;  /* the recorder, SLO state or canary state; owned by the generation */
    int64_t param; /* an SLO's latency threshold in ms (0: availability), or the canary arm */
    /* An SLO sink's switch: while a maintenance window excludes this check
     * from this SLO, results are counted as excluded instead. NULL for
     * other sinks. Owned by the generation. */
    struct slo_feed *feed;
};

/* New generation with refcount 1. Takes ownership of cfg. prev (borrowed,
 * may be NULL) donates the state of matching names (see above). SLOs new
 * to this process are restored from saved (borrowed, may be NULL) when it
 * holds the same name and definition, leaving out buckets after the wall
 * time of clock (borrowed). Caller releases with gen_unref. */
struct gen *gen_new(struct cfg *cfg, const struct gen *prev, const struct state_file *saved,
                    const struct clock *clock);
void gen_ref(struct gen *g);
void gen_unref(struct gen *g);

/* Borrowed accessors, valid while the caller holds a reference. */
const struct cfg *gen_cfg(const struct gen *g);
size_t gen_check_count(const struct gen *g);
struct rec *gen_rec(const struct gen *g, size_t check);
/* The type of check i (from the registry). */
const struct check_type *gen_check_type(const struct gen *g, size_t check);
size_t gen_slo_count(const struct gen *g);
struct slo_state *gen_slo(const struct gen *g, size_t i);
size_t gen_canary_count(const struct gen *g);
struct canary_state *gen_canary(const struct gen *g, size_t i);
/* A failed probe of check i is probed again: count it (its recorder's
 * outpost_check_retries_total). Probe thread. */
void gen_note_retry(const struct gen *g, size_t check);
/* Maintenance (maint.h): check c's results count for SLO s unless
 * slo_all[s] or check_any[c] (arrays of the config's SLO and check
 * counts). Sets every SLO sink's switch (relaxed stores: a result being
 * delivered meanwhile goes either way). Any thread; O(SLO sinks). */
void gen_set_slo_exclusion(const struct gen *g, const bool *slo_all, const bool *check_any);
/* Whether check c's results are excluded from SLO s now (for tests);
 * false when s does not count c. */
bool gen_slo_excluded_pair(const struct gen *g, size_t check, size_t slo);
/* Results not counted for SLO i because of a window: a counter that
 * follows the SLO's state across reloads. */
uint64_t gen_slo_excluded(const struct gen *g, size_t i);
/* The sinks of check i; *list borrowed. Returns the count (>= 1: the
 * recorder comes first). */
size_t gen_sinks(const struct gen *g, size_t check, const struct sink **list);

#endif
