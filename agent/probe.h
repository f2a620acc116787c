/*
 * probe.h - the probe loop: one thread that runs every check.
 *
 * One epoll set. Every descriptor in it has a handler (epoll_event.data.ptr,
 * as redis' aeFileEvent): the loop's own timerfd and eventfd, the sockets
 * libcurl hands over, and any a check type watches itself. One timerfd holds
 * the earliest of three deadlines - the next due check (a heap on the
 * monotonic clock), the next check-type timer, libcurl's timeout - and is
 * set lazily: only when that deadline is earlier than the one it holds, or
 * after the one it holds passed; a deadline due already runs without it.
 * Wake-ups fall on the ends of 1 ms cells, so checks due close together
 * start together (PROBE_COALESCE_NS, probe_int.h).
 * Check types plug in
 * through the services in collectors/check.h; results go to the sinks the
 * generation built for each check.
 *
 * Other threads talk to the loop only through probe_loop_swap, _call and
 * _stop (a mutex-protected slot and an eventfd write) and read atomics and
 * recorders; nothing they do can block it.
 */
#ifndef OUTPOST_PROBE_H
#define OUTPOST_PROBE_H

#include "check.h"
#include "clock.h"
#include "common.h"
#include "gen.h"
#include "recorder.h"
#include "scheduler.h"

#include <stdbool.h>

/* Allocate epoll, the timerfd, the eventfd and the libcurl multi handle;
 * all timing on clock (borrowed, must outlive the loop). Caller frees. */
enum op_rc probe_loop_new(const struct clock *clock, struct probe_loop **out) WUR;
/* Start the thread on generation g (the loop takes its own reference). */
enum op_rc probe_loop_start(struct probe_loop *pl, struct gen *g) WUR;
/* One-shot runs (`outpost check`) instead of a schedule. */
struct probe_once {
    /* Per check of the generation: run it (borrowed until the loop stops). */
    const bool *run;
    /* The final result of each run, after its retries, on the probe thread
     * after the check's sinks; res is borrowed for the call, its tail and
     * steps included. Runs cancelled by probe_loop_stop, or that could not
     * start, never report. */
    void (*report)(void *arg, size_t check, const struct check_result *res);
    void *arg;
};
/* probe_loop_start, except that each check i of g with once->run[i] starts
 * at once, a single time (never shed), and no other run is ever planned;
 * a timeout during a stall of the loop is reported like any result. once
 * is borrowed until the loop stops; no swap may follow. */
enum op_rc probe_loop_start_once(struct probe_loop *pl, struct gen *g,
                                 const struct probe_once *once) WUR;
/* Hand over a new generation (the loop takes its own reference). Returns at
 * once; the loop switches at its next wake-up, within microseconds. Runs in
 * flight finish on the generation they started on. A check of the same
 * name and interval keeps its due time. */
void probe_loop_swap(struct probe_loop *pl, struct gen *g);
/* Run fn(arg) on the loop's thread and wait until it ran: the way other
 * threads change state the loop owns (a canary's samples). Runs fn here
 * when the loop thread is not running. fn must not block. */
void probe_loop_call(struct probe_loop *pl, void (*fn)(void *arg), void *arg);
/*
 * One run of c now, outside the schedule and with no sink (blackbox's
 * /probe): it never touches a scheduled check's slot, never retries, and
 * a timeout during a stall of the loop is reported like any result (its
 * caller waits for it). report(arg, res) runs exactly once, on the probe
 * thread: with the result (borrowed for the call, its tail and steps
 * included: copy what is needed), or with res NULL when the run could not
 * start or the loop stopped first. c and arg are borrowed until report
 * has run. Any thread; returns at once. OP_ERR_LIMIT when max runs of
 * this kind are in flight already, OP_ERR_STATE when the loop does not
 * run: report will then never run.
 */
enum op_rc probe_loop_run_adhoc(struct probe_loop *pl, const struct check_spec *c, unsigned max,
                                void (*report)(void *arg, const struct check_result *res),
                                void *arg) WUR;
/* Adhoc runs asked for whose report has not run yet. Any thread. */
unsigned probe_loop_adhoc_in_flight(const struct probe_loop *pl);
/* Make the loop look at its clock again now (tests that move a fake clock). */
void probe_loop_wake(struct probe_loop *pl);
/* Cancel runs in flight (they are not recorded) and join the thread.
 * Idempotent. */
void probe_loop_stop(struct probe_loop *pl);
void probe_loop_free(struct probe_loop *pl);

/* True once the loop runs (readiness). Any thread. */
bool probe_loop_running(const struct probe_loop *pl);
unsigned probe_loop_in_flight(const struct probe_loop *pl);
/* Histogram of start time - planned time, seconds; borrowed. */
struct rec *probe_loop_lag(const struct probe_loop *pl);
/* Overruns so far by reason (scheduler.h): runs started late, planned runs
 * skipped, timeouts not recorded because the loop stalled. Any thread. */
void probe_loop_overruns(const struct probe_loop *pl, uint64_t out[SCHED_OVERRUN_COUNT]);
/* Times the timerfd was set (lazily, as above; exposed for tests). */
uint64_t probe_loop_timer_sets(const struct probe_loop *pl);

/* Bucket bounds of the lag histogram. */
extern const double probe_lag_bounds[];
extern const size_t probe_lag_bounds_count;

#endif
