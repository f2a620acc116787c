/*
 * recorder.h - per-check counters, histogram and last-probe gauges.
 *
 * One writer (the probe thread), any number of readers (scrapes). Writes are
 * a seqlock write section over relaxed atomics: the writer never waits, and
 * a reader retries in the rare case it overlapped a write, so a scrape can
 * never stall a probe. A reader always sees a consistent record (bucket
 * counts, sum and count from the same moment; the last result's reason,
 * detail and time together).
 *
 * Recorders are refcounted and matched by check name across config reloads,
 * so counters of unchanged checks never reset.
 *
 * Each recorder also keeps the last 10 minutes in a small ring (the trend):
 * per 30 s slot of wall-clock time, its runs, failures, duration sum and
 * bucket counts, so the status page shows the recent latency quantiles and
 * failures of a check without reading Prometheus.
 */
#ifndef OUTPOST_RECORDER_H
#define OUTPOST_RECORDER_H

#include "check.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REC_MAX_BUCKETS 64
/* The recent-trend ring: REC_TREND_SLOTS slots of REC_TREND_STEP_S seconds
 * of wall-clock time each (the last 10 minutes). */
#define REC_TREND_SLOTS 20
#define REC_TREND_STEP_S 30

struct rec;

/* Snapshot of a recorder, filled by rec_read. */
struct rec_snapshot {
    uint64_t runs;
    uint64_t failures[CHECK_REASON_COUNT];
    size_t n_bounds;
    uint64_t cumulative[REC_MAX_BUCKETS + 1]; /* per bound, then +Inf (== runs) */
    double sum;
    bool has_result; /* false until the first probe finished */
    bool up;
    uint64_t consecutive_failures;
    uint64_t consecutive_successes;
    uint64_t retries;    /* re-probes of failed probes (not in runs) */
    double last_success; /* unix seconds; 0 = never */
    double phases[CHECK_PHASE_COUNT];
    int status;
    double cert_expiry; /* 0 = no certificate seen yet */
    /* The last run's type gauges (check_result.gauges); NaN: absent. */
    double gauges[CHECK_GAUGE_MAX];
    /* The last result (meaningful once has_result): */
    double last_run;               /* unix seconds it was recorded */
    double last_duration;          /* seconds */
    enum check_reason last_reason; /* CHECK_REASON_NONE when it succeeded */
    char detail[CHECK_DETAIL_MAX]; /* its detail, NUL-terminated; "" on success */
};

/* One slot of the trend as rec_read_trend copies it. */
struct rec_trend_slot {
    int64_t start;     /* unix seconds of the slot's start (a multiple of REC_TREND_STEP_S) */
    uint32_t runs;     /* results recorded in it */
    uint32_t failures; /* of which failed */
    double sum;        /* their durations, seconds (microsecond resolution) */
};

/* The results of the last REC_TREND_SLOTS slots up to a moment. */
struct rec_trend {
    struct rec_trend_slot slots[REC_TREND_SLOTS]; /* oldest first; the last holds the moment */
    uint64_t runs, failures;                      /* over every slot */
    size_t n_bounds;
    uint64_t cumulative[REC_MAX_BUCKETS + 1]; /* durations over every slot: per bound, then
                                               * +Inf (== runs) */
};

/* New recorder with refcount 1; bounds copied (n <= REC_MAX_BUCKETS,
 * strictly increasing). Caller releases with rec_unref. */
struct rec *rec_new(const double *bounds, size_t n);
/* The same for a check whose runs report n_steps steps (check_result.steps,
 * a flow's): it also keeps each step's last run and failures. */
struct rec *rec_new_steps(const double *bounds, size_t n, size_t n_steps);
size_t rec_step_count(const struct rec *r);

/* One step as rec_read_steps copies it. */
struct rec_step {
    bool has_result; /* a run reported this step (ran or skipped) */
    bool up;         /* it ran and passed in the last run */
    double duration; /* seconds, the last run; 0 when it did not run */
    uint64_t failures[CHECK_REASON_COUNT];
};
void rec_ref(struct rec *r);
/* Bytes the trend ring adds to a recorder with n_bounds bounds (for the
 * docs' memory budget). */
size_t rec_trend_bytes(size_t n_bounds);
void rec_unref(struct rec *r);

bool rec_same_bounds(const struct rec *r, const double *bounds, size_t n);
size_t rec_bound_count(const struct rec *r);
/* Borrowed, valid while r lives. */
const double *rec_bounds(const struct rec *r);

/* Writer side (one thread only). O(number of buckets), no allocation. */
void rec_record(struct rec *r, const struct check_result *res, double wall_now);
/* A failed probe that will be probed again before it counts. Same
 * single-writer rule. */
void rec_count_retry(struct rec *r);
/* Histogram-only observation (scheduler lag). Same single-writer rule. */
void rec_observe(struct rec *r, double value);

/* Reader side: consistent copy; any thread. */
void rec_read(const struct rec *r, struct rec_snapshot *out);
/* Whether a result was recorded and whether the last one succeeded: one
 * atomic load, for code that counts states over every check. Any thread. */
void rec_read_state(const struct rec *r, bool *has_result, bool *up);
/* The trend of the slots up to wall_now (unix seconds): the slot holding
 * wall_now and the REC_TREND_SLOTS - 1 before it; a slot no result was
 * recorded in (or that was overwritten since) has runs 0. Consistent copy;
 * any thread. */
void rec_read_trend(const struct rec *r, double wall_now, struct rec_trend *out);
/* Prometheus' histogram_quantile of cumulative counts (per bound, then
 * +Inf): linear interpolation inside the bucket holding rank q x count
 * (the first bucket from 0 unless its bound is <= 0); the highest finite
 * bound when the rank falls in +Inf. NaN with no observation or no finite
 * bound; q outside [0, 1] gives -Inf / +Inf. Pure. */
double rec_quantile(double q, const double *bounds, size_t n_bounds, const uint64_t *cumulative);
/* The first n steps (at most rec_step_count), from one moment; any thread. */
void rec_read_steps(const struct rec *r, struct rec_step *out, size_t n);

#endif
