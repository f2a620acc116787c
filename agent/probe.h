/*
 * probe.h - the probe engine: one thread that owns libcurl.
 *
 * epoll + a scheduler timerfd + a libcurl timerfd + an eventfd for control
 * messages, driving curl's multi socket API (curl's ephiperfifo pattern).
 * Other threads talk to it only through probe_engine_swap/stop and read
 * atomics or recorders; nothing they do can block it.
 */
#ifndef OUTPOST_PROBE_H
#define OUTPOST_PROBE_H

#include "common.h"
#include "gen.h"
#include "recorder.h"

#include <stdbool.h>

struct probe_engine;

/* Allocate epoll, timers and the curl multi handle. Caller frees. */
enum op_rc probe_engine_new(struct probe_engine **out) WUR;
/* Start the thread on generation g (the engine takes its own reference). */
enum op_rc probe_engine_start(struct probe_engine *pe, struct gen *g) WUR;
/* Hand over a new generation (the engine takes its own reference). Returns
 * at once; the probe thread switches at its next wake-up, within
 * microseconds. Probes in flight finish on the generation they started on. */
void probe_engine_swap(struct probe_engine *pe, struct gen *g);
/* Cancel in-flight probes and join the thread. Idempotent. */
void probe_engine_stop(struct probe_engine *pe);
void probe_engine_free(struct probe_engine *pe);

/* True once the loop runs (readiness). Any thread. */
bool probe_engine_running(const struct probe_engine *pe);
unsigned probe_engine_in_flight(const struct probe_engine *pe);
/* Histogram of start time - planned time, seconds; borrowed. */
struct rec *probe_engine_lag(const struct probe_engine *pe);

/* Bucket bounds of the lag histogram. */
extern const double probe_lag_bounds[];
extern const size_t probe_lag_bounds_count;

#endif
