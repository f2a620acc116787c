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

#endif
