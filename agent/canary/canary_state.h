/*
 * canary_state.h - the live samples of one canary: a ring per arm, the last
 * Flagger checksum, and a verdict cached for one interval. Refcounted; kept
 * across reloads while the arms' targets stay.
 *
 * Threading contract.
 *
 * - One owner thread, the probe thread, is the only one that changes the
 *   samples: canst_add, canst_reset and canst_checksum are owner-only. The
 *   owner role may pass to another thread only across a happens-before edge
 *   (thread creation, join, a mutex), never be shared.
 * - canst_verdict, canst_set_capacity, canst_identity, canst_ref and
 *   canst_unref may be called from any thread, concurrently with the owner and
 *   with each other.
 * - The owner never waits for a reader: the lock it takes in canst_add (once
 *   per sample, O(1)) is held by readers only to copy a few indexes, never
 *   while they copy samples or judge. Readers copy the samples without that
 *   lock and drop any the owner may have overwritten meanwhile, so a verdict
 *   always judges a contiguous run of one arm's samples. Readers serialise
 *   among themselves on a second per-canary lock that the owner never takes;
 *   the judge runs under it, once per interval.
 * - Rings start small and grow by doubling, on the owner thread, up to the
 *   capacity asked for; an array the owner replaces is freed by the next
 *   reader (or the last canst_unref), never under a reader still copying it.
 */
#ifndef OUTPOST_CANARY_STATE_H
#define OUTPOST_CANARY_STATE_H

#include "canary.h"
#include "config.h"

#include <stdint.h>

/* Samples per arm, at most. The configuration rejects a window / interval
 * that needs more; asking for more here is a programming error (abort). */
#define CANARY_MAX_RING ((size_t)CFG_MAX_CANARY_SAMPLES) /* the config refuses more */
/* Samples per arm, at least: slack for probes that land late in the window. */
#define CANARY_MIN_RING 16u
#define CANARY_MAX_CHECKSUM 256u

enum canary_arm_id { ARM_BASELINE = 0, ARM_CANARY = 1 };

struct canary_state;

/* ring_cap: samples each arm keeps (the window's worth at the fastest arm
 * interval, plus slack); below CANARY_MIN_RING it is raised to it, above
 * CANARY_MAX_RING it aborts. Memory grows with the samples held, not with
 * ring_cap. Caller releases with canst_unref. Any thread. */
struct canary_state *canst_new(uint64_t identity, size_t ring_cap);
/* Any thread. canst_unref(NULL) is a no-op. */
void canst_ref(struct canary_state *st);
void canst_unref(struct canary_state *st);
/* Any thread; fixed at creation. */
uint64_t canst_identity(const struct canary_state *st);

/* Any thread, O(1), never waits: the capacity the live configuration wants
 * (same bounds as canst_new). Recorded only; the owner applies it to both
 * arms on its next canst_add. Growing keeps every sample; shrinking keeps
 * the newest ring_cap of each arm. The last call wins. */
void canst_set_capacity(struct canary_state *st, size_t ring_cap);

/* Owner only: one sample at t_ms (Unix ms, |t_ms| < 2^62). O(1) amortised
 * (growth copies the ring once per doubling); takes the short lock once. */
void canst_add(struct canary_state *st, enum canary_arm_id arm, int64_t t_ms, double latency,
               bool ok);
/* Owner only: drop every sample (a new revision). Cached verdicts die: the
 * next canst_verdict recomputes. Safe against concurrent readers. */
void canst_reset(struct canary_state *st);
/* Owner only: remember a Flagger checksum; when it differs from the last one
 * seen, canst_reset and return true. An empty or NULL checksum changes
 * nothing. Checksums are compared by their first CANARY_MAX_CHECKSUM - 1
 * bytes. */
bool canst_checksum(struct canary_state *st, const char *checksum);

/* Any thread: verdict over the samples of (now - window, now], recomputed at
 * most once per spec->interval_ms (and at once after a reset or when now goes
 * backwards). Judges on the calling thread; spec borrowed. */
void canst_verdict(struct canary_state *st, const struct canary_spec *spec, int64_t now_ms,
                   struct canary_verdict *out);

/* Any thread: the verdict the agent's evaluation reports now; returns the
 * one it reported last (inconclusive for a new state, as a canary starts
 * without samples), so a change is told once. */
enum canary_verdict_kind canst_swap_reported(struct canary_state *st, enum canary_verdict_kind v);

#ifdef OUTPOST_TESTING
/* Tests only. The hook, when set, is called by a reader in the middle of
 * copying each arm's samples (no lock but the readers' own held). */
extern void (*canst_copy_hook)(enum canary_arm_id arm, void *arg);
extern void *canst_copy_hook_arg;
/* The samples of arm in (since_ms, now_ms], oldest first, as a reader sees
 * them; *out: caller frees. Any thread. */
size_t canst_samples(struct canary_state *st, enum canary_arm_id arm, int64_t since_ms,
                     int64_t now_ms, struct canary_sample **out);
#endif

#endif
