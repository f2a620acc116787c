/*
 * slo_state.h - the live state of one SLO: its SLI windows, raw event
 * counters and the last alert evaluation.
 *
 * Writers: the probe thread (one event per probe), replay and restore.
 * Readers: scrapes, the 10 s evaluator, snapshots. A short per-SLO mutex
 * guards the windows: the probe thread holds it for one O(1) add, a reader
 * only for a memcpy of the store (~11 KiB for 30 d), and computes outside
 * it. Refcounted and matched by name + SLI identity across reloads.
 */
#ifndef OUTPOST_SLO_STATE_H
#define OUTPOST_SLO_STATE_H

#include "config.h"
#include "slo.h"

#include <stdbool.h>
#include <stdint.h>

struct slo_state;

/* Parameters of the math for a configured SLO. */
void slo_params_from_spec(const struct slo_spec *s, struct slo_params *out);

/* New empty state for spec (refcount 1); caller releases with slost_unref. */
struct slo_state *slost_new(const struct slo_spec *spec);
void slost_ref(struct slo_state *st);
void slost_unref(struct slo_state *st);
uint64_t slost_identity(const struct slo_state *st);
/* How far back its windows reach (the level-2 ring's span, a little more
 * than the period or the policy window): after that long without events
 * nothing of it is left in any window. */
int64_t slost_span_ms(struct slo_state *st);

/* Fit the level-2 ring to a changed period or policy, keeping the events
 * (same SLI identity). Any thread. */
void slost_reshape(struct slo_state *st, const struct slo_spec *spec);

/* The schedule produces per_ms events per millisecond from from_ms (Unix
 * ms) on: a new rate when it differs from the last (a reload changed an
 * interval), and rates older than the ring's span are forgotten. At most
 * SLO_MAX_RATES are kept (the oldest merge into the next). Any thread. */
void slost_set_rate(struct slo_state *st, int64_t from_ms, double per_ms);
/* Copy the rates (oldest first) into out; returns how many (<= cap). */
size_t slost_rates(struct slo_state *st, struct slo_rate *out, size_t cap);

/* Count events at t (Unix ms). */
void slost_add(struct slo_state *st, int64_t t_ms, uint64_t events, uint64_t bad);

/* Copy of the windows (caller frees with free()) and the raw counters. */
struct sliw *slost_copy(struct slo_state *st, uint64_t *events_total, uint64_t *bad_total);

/* Every figure of the SLO at now_ms, from a copy of its windows (the lock
 * is held only for the copy). Totals (may be NULL) get the raw counters. */
void slost_figures(struct slo_state *st, const struct slo_spec *spec, int64_t now_ms,
                   struct slo_figures *out, uint64_t *events_total, uint64_t *bad_total);

/* slost_figures and the burndown (slo_burndown, at most max points into
 * pts) from one copy of the windows, so its last point is
 * out->budget_remaining. The copy is made into *scratch (NULL at first;
 * the caller frees it with free() after its last call), so a reader of
 * many SLOs allocates once. Returns the points written. */
size_t slost_figures_burndown(struct slo_state *st, const struct slo_spec *spec, int64_t now_ms,
                              struct slo_figures *out, struct slo_point *pts, size_t max,
                              struct sliw **scratch);

/* Put persisted data back: counters, one bucket at a time, and the rates
 * (before any slost_set_rate). */
void slost_restore_totals(struct slo_state *st, uint64_t events_total, uint64_t bad_total);
void slost_restore_bucket(struct slo_state *st, int level, int64_t idx, struct sliw_bucket b);
void slost_restore_rates(struct slo_state *st, const struct slo_rate *rates, size_t n);

/* Events per millisecond the SLO's checks produce on their schedule (the
 * sum over its checks of 1 / interval). */
double slo_spec_rate(const struct cfg *c, const struct slo_spec *s);

/* Last evaluation by the agent's 10 s evaluator. */
void slost_set_alerts(struct slo_state *st, bool page, bool ticket);
void slost_alerts(const struct slo_state *st, bool *page, bool *ticket);
/* The freeze the evaluator reports now; returns the one it reported last
 * (false for a new state), so a change is told once. */
bool slost_swap_freeze(struct slo_state *st, bool freeze);

#endif
