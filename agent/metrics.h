/*
 * metrics.h - renders every outpost metric family (metrics.md: "Checks" and
 * "The agent itself") from a generation's recorders. Runs on HTTP threads;
 * reads recorders through their seqlocks and never blocks the probe thread.
 */
#ifndef OUTPOST_METRICS_H
#define OUTPOST_METRICS_H

#include "alerts.h"
#include "audit.h"
#include "expo.h"
#include "gen.h"
#include "recorder.h"
#include "scheduler.h"

#include <stdbool.h>

/* Figures about the agent that live outside the generation. */
struct metrics_agent {
    bool reload_ok;
    double reload_success_ts;
    unsigned in_flight;
    const struct rec *lag;
    uint64_t overruns[SCHED_OVERRUN_COUNT];
    double last_scrape_seconds;
    uint64_t snapshots, snapshot_failures, restore_failures;
    int64_t now_ms; /* wall clock, for SLO windows */
    struct alerts *alerts;
    /* The audit log (may be NULL: then every count is 0, and the write
     * failures 1 when audit_unavailable says it could not be opened). */
    const struct audit *audit;
    bool audit_unavailable;
    /* More families from outside the runtime (may be NULL). */
    void (*extra)(struct expo *e, void *arg);
    void *extra_arg;
    unsigned shard_index, shard_count; /* --shard; 0 of 1 when not sharded */
};

/* Append all families to e (the caller calls expo_finish). g borrowed. */
void metrics_render(struct expo *e, const struct gen *g, const struct metrics_agent *a);

#endif
