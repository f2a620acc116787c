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
 */
#ifndef OUTPOST_RECORDER_H
#define OUTPOST_RECORDER_H

#include "check.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REC_MAX_BUCKETS 64

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
/* The first n steps (at most rec_step_count), from one moment; any thread. */
void rec_read_steps(const struct rec *r, struct rec_step *out, size_t n);

#endif
