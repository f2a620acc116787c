/*
 * scheduler.h - timer heap and per-check phase offsets for the probe thread.
 *
 * Times are CLOCK_MONOTONIC nanoseconds passed in by the caller, so tests run
 * the scheduler on a fake clock. A check with interval I and offset O runs at
 * the times t with t mod I == O. O is derived from the check name, so checks
 * spread evenly over their interval, and a reload (or a restart) keeps every
 * unchanged check on the same phase instead of bunching them all up.
 */
#ifndef OUTPOST_SCHED_H
#define OUTPOST_SCHED_H

#include "common.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sched;

/* Empty heap; caller frees with sched_free. */
struct sched *sched_new(void);
void sched_free(struct sched *s);
void sched_clear(struct sched *s);
size_t sched_len(const struct sched *s);

/* O(log n). Ties pop in insertion-independent id order. */
void sched_push(struct sched *s, int64_t due_ns, uint32_t id);
/* False when empty. */
bool sched_peek(const struct sched *s, int64_t *due_ns, uint32_t *id);
bool sched_pop(struct sched *s, int64_t *due_ns, uint32_t *id);

/* Phase of a check inside its interval: FNV-1a of the name mod interval. */
int64_t sched_offset_ns(const char *name, int64_t interval_ns);
/* Smallest t >= now with t mod interval == offset. */
int64_t sched_next_due(int64_t now_ns, int64_t interval_ns, int64_t offset_ns);
/* Due time after a run planned at `planned`: planned + interval, or, when
 * the loop fell further behind than one interval, the next phase-aligned time
 * after now (missed runs are skipped, never bunched). */
int64_t sched_after_run(int64_t planned_ns, int64_t now_ns, int64_t interval_ns, int64_t offset_ns);
/* Planned times strictly between planned and next (both on the check's
 * phase) that never got a run: what sched_after_run skipped. */
uint64_t sched_missed(int64_t planned_ns, int64_t next_ns, int64_t interval_ns);

/*
 * Overruns: the probe loop falling behind its own schedule. They are the
 * agent's problem, not the target's, so they are counted on their own
 * (outpost_scheduler_overruns_total{reason}) and never become a failed
 * check.
 */
enum sched_overrun {
    SCHED_OVERRUN_LATE,    /* started more than sched_late_ns after its planned time */
    SCHED_OVERRUN_SKIPPED, /* a planned run that never started (sched_missed) */
    SCHED_OVERRUN_STALLED, /* timed out while the loop stalled: not recorded */
    SCHED_OVERRUN_COUNT,
};

/* Label value of r; a static string. */
const char *sched_overrun_name(enum sched_overrun r);

/* A start is late when it lags its planned time by more than a tenth of
 * the interval, and never by more than SCHED_LATE_MAX_NS. */
#define SCHED_LATE_SHARE 10
#define SCHED_LATE_MAX_NS 1000000000LL
int64_t sched_late_ns(int64_t interval_ns);

/* The loop is stalled while its earliest deadline is overdue. Overdue spells
 * up to SCHED_STALL_FLOOR_NS are the kernel's timer slack and wake-up
 * latency, not a stall. */
#define SCHED_STALL_FLOOR_NS 1000000LL
/* The stall to add at now when the earliest pending deadline is due_ns:
 * the overdue time since *mark_ns (the previous call), or 0 for a spell
 * within the floor; *mark_ns moves to now. Spells never overlap, so the
 * sum over calls is the time the loop owed work. */
int64_t sched_stall_add(int64_t due_ns, int64_t now_ns, int64_t *mark_ns);
/* A run that timed out after the loop stalled stall_ns while the run was in
 * flight was not given its timeout: the target may have answered while
 * the loop could not read. True when the stall exceeds 1/SCHED_STALL_SHARE
 * of the timeout. */
#define SCHED_STALL_SHARE 10
bool sched_stall_is_ours(int64_t stall_ns, int64_t timeout_ns);

/* The loop's load: the share of recent time it spent stalled, an
 * exponentially weighted average with time constant SCHED_LOAD_TAU_NS (like
 * the Unix load average), in [0, 1]. load is the previous value, dt_ns the
 * time since it, stall_ns the stall within dt_ns (at its end). */
#define SCHED_LOAD_TAU_NS (30 * 1000000000LL)
double sched_load_update(double load, int64_t dt_ns, int64_t stall_ns);
/* Shedding: while the load is above SCHED_SHED_LOAD, a run that would start
 * late is skipped instead. Starting it would only add work to a loop that
 * cannot keep up, and every run in flight would then time out; skipped, the
 * loop drains and the runs it does start are measured fairly. A single
 * pause (a frozen VM) leaves the load below it unless it lasts ~20 s. */
#define SCHED_SHED_LOAD 0.5
bool sched_should_shed(double load, int64_t lag_ns, int64_t interval_ns);

/*
 * Overrun counters: one writer (the probe loop), any reader. The writer
 * also decides when to log, at most one summary line per
 * SCHED_LOG_EVERY_NS, so an overloaded loop does not flood the log on top.
 */
#define SCHED_LOG_EVERY_NS (60 * 1000000000LL)
struct sched_overruns;

/* Zeroed counters; caller frees with sched_overruns_free. */
struct sched_overruns *sched_overruns_new(void);
void sched_overruns_free(struct sched_overruns *o);
/* Writer: count n overruns of reason r; lag_ns (0 if none) feeds the
 * largest lag reported in the next log line. */
void sched_overruns_add(struct sched_overruns *o, enum sched_overrun r, uint64_t n, int64_t lag_ns);
/* Any thread: the totals. */
void sched_overruns_read(const struct sched_overruns *o, uint64_t out[SCHED_OVERRUN_COUNT]);
/* Writer: true when a log line is due at now: there are overruns since the
 * last line, and that line is SCHED_LOG_EVERY_NS old (the first one is due
 * at once). Then since[] holds the counts since the last line, *max_lag_ns
 * the largest lag among them, and the next line waits again. */
bool sched_overruns_log_due(struct sched_overruns *o, int64_t now_ns,
                            uint64_t since[SCHED_OVERRUN_COUNT], int64_t *max_lag_ns);

#endif
