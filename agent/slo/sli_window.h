/*
 * sli_window.h - event counts over rolling windows, at three resolutions.
 *
 *   level 0: 10 s buckets, the last hour   -> windows 5m, 30m, 1h
 *   level 1:  5 min buckets, the last day  -> windows 2h, 6h, 1d
 *   level 2:  1 h buckets, the period      -> windows 3d, period, policy
 *
 * Buckets are aligned to the Unix epoch; bucket k of size b holds events
 * with k*b < t <= (k+1)*b, matching the window semantics T - w < t <= T. A
 * window is summed from one level only, so no event is ever counted twice.
 * At any T on a whole UTC hour every window is exact; elsewhere the oldest
 * bucket that the window only partly covers is left out, so the error is at
 * most one bucket of that level.
 *
 * Adding an event is O(1) (amortised: advancing the head zeroes the buckets
 * that time skipped, at most the ring size). Not thread-safe: the owner
 * serialises access.
 */
#ifndef OUTPOST_SLI_WINDOW_H
#define OUTPOST_SLI_WINDOW_H

#include "common.h"

#include <stdbool.h>
#include <stdint.h>

#define SLIW_LEVELS 3
#define SLIW_L0_MS 10000LL
#define SLIW_L1_MS 300000LL
#define SLIW_L2_MS 3600000LL
#define SLIW_L0_N 360u
#define SLIW_L1_N 288u
/* Level 2 holds at least 3 days, and at most 90 days + 1 hour. */
#define SLIW_L2_MIN_N 72u
#define SLIW_L2_MAX_N 2161u

struct sliw;

/* One bucket as stored: counts saturate at UINT32_MAX. */
struct sliw_bucket {
    uint32_t events;
    uint32_t bad;
};

/* New empty store whose level 2 holds l2_hours buckets (clamped to
 * [SLIW_L2_MIN_N, SLIW_L2_MAX_N]). Caller frees with free(). */
struct sliw *sliw_new(uint32_t l2_hours);
/* Deep copy (caller frees with free()). */
struct sliw *sliw_clone(const struct sliw *w);
/* The same into dst (a copy made here before, or NULL), grown when w is
 * larger: a reader copying many stores reuses one buffer. Returns the copy
 * (caller frees with free()). */
struct sliw *sliw_clone_into(const struct sliw *w, struct sliw *dst);
/* Bytes the store occupies (for the docs' memory budget). */
size_t sliw_size(const struct sliw *w);

/* Count `events` events of which `bad` are bad at time t (Unix ms). Events
 * older than a level's ring are dropped from that level only. */
void sliw_add(struct sliw *w, int64_t t_ms, uint64_t events, uint64_t bad);

/* Sum of the window (T - window, T]. window must be a multiple of the
 * chosen level's bucket size; the finest level whose span covers it is
 * used. */
void sliw_sum(const struct sliw *w, int64_t at_ms, int64_t window_ms, uint64_t *events,
              uint64_t *bad);
/* Sum of (since, T] from level 2; since must be a whole hour (calendar
 * periods). */
void sliw_sum_since(const struct sliw *w, int64_t at_ms, int64_t since_ms, uint64_t *events,
                    uint64_t *bad);

/* One point of a running sum: the events of the window's start up to t_ms. */
struct sliw_point {
    int64_t t_ms;
    uint64_t events, bad;
};
/* Running sums over the buckets that sliw_sum(w, at_ms, window_ms) adds,
 * or with window_ms 0 those of sliw_sum_since(w, at_ms, since_ms): at most
 * max points, oldest first, spread evenly over those buckets (one a bucket
 * when they are max or fewer). Each is the sum from the first bucket to
 * the end of its own, at that end; the last is at at_ms and equals the
 * whole sum. Returns how many were written (0 when max is 0). */
size_t sliw_running(const struct sliw *w, int64_t at_ms, int64_t window_ms, int64_t since_ms,
                    struct sliw_point *out, size_t max);

/* Raw access for persistence: level geometry and buckets (borrowed). head
 * is the absolute index of the newest bucket, INT64_MIN when empty. */
struct sliw_level_view {
    int64_t bucket_ms;
    uint32_t n;
    int64_t head;
    const struct sliw_bucket *buckets; /* ring, absolute index i at sliw_slot(i, n) */
};
/* Ring position of absolute bucket index i (floor modulus). */
size_t sliw_slot(int64_t i, uint32_t n);
void sliw_level(const struct sliw *w, int level, struct sliw_level_view *out);
/* Put a stored bucket back (absolute index idx of level), keeping what the
 * ring already holds there; ignored when outside the ring's reach. */
void sliw_restore_bucket(struct sliw *w, int level, int64_t idx, struct sliw_bucket b);

#endif
