/*
 * canary_state.h - the live samples of one canary: a ring per arm, the last
 * Flagger checksum, and a verdict cached for one interval.
 *
 * The probe thread adds samples under a short mutex (O(1)). Verdicts are
 * computed on the reader's thread (scrape, gate), from a copy of the
 * samples, under a second mutex, so the probe thread never waits for
 * statistics. Refcounted; kept across reloads while the arms' targets stay.
 */
#ifndef OUTPOST_CANARY_STATE_H
#define OUTPOST_CANARY_STATE_H

#include "canary.h"
#include "config.h"

#include <stdint.h>

/* Samples per arm, at most. The configuration rejects a window / interval
 * that needs more; asking for more here is a programming error (abort). */
#define CANARY_MAX_RING 1000000u
/* Samples per arm, at least: slack for probes that land late in the window. */
#define CANARY_MIN_RING 16u
#define CANARY_MAX_CHECKSUM 256u

enum canary_arm_id { ARM_BASELINE = 0, ARM_CANARY = 1 };

struct canary_state;

/* ring_cap: samples each arm keeps (the window's worth at the fastest arm
 * interval, plus slack); below CANARY_MIN_RING it is raised to it, above
 * CANARY_MAX_RING it aborts. Caller releases with canst_unref. */
struct canary_state *canst_new(uint64_t identity, size_t ring_cap);
void canst_ref(struct canary_state *st);
void canst_unref(struct canary_state *st);
uint64_t canst_identity(const struct canary_state *st);

/* Probe thread: one sample at t (Unix ms). */
void canst_add(struct canary_state *st, enum canary_arm_id arm, int64_t t_ms, double latency,
               bool ok);
/* Drop every sample (a new revision). */
void canst_reset(struct canary_state *st);
/* Remember a Flagger checksum; when it differs from the last one seen,
 * reset the samples and return true. An empty checksum changes nothing. */
bool canst_checksum(struct canary_state *st, const char *checksum);

/* Verdict over the samples of (now - window, now], recomputed at most once
 * per interval. */
void canst_verdict(struct canary_state *st, const struct canary_spec *spec, int64_t now_ms,
                   struct canary_verdict *out);

#endif
