/*
 * alerts.h - the agent's own alerts, pushed to Alertmanager API v2 the way
 * Prometheus' notifier does it.
 *
 * The evaluator (main thread, every evaluation interval) states which alerts
 * fire now: alerts_begin, alerts_fire for each, alerts_end. Alerts that fired
 * before and are not stated again resolve. A sender thread posts, to every
 * configured Alertmanager, each alert that changed at once and every alert
 * again each resend interval; resolved alerts are re-sent for 15 minutes,
 * then forgotten. startsAt stays the first firing time; endsAt is now + 4 x
 * max(evaluation interval, resend interval) while firing and the resolve
 * time after. Labels are alertname, severity, the key label and the external
 * labels; annotations are summary, description and runbook_url (the
 * configured base, '#', the alert name lowercased); generatorURL when set.
 * POSTs go to <Alertmanager URL>/api/v2/alerts, so a path prefix is kept.
 *
 * Sending. The sender thread drives the POSTs through its own libcurl multi
 * handle (probes keep the probe thread's multi handle to themselves): at
 * most one request in flight per Alertmanager, batches of at most
 * ALERTS_BATCH alerts and ALERTS_BODY_MAX bytes, ALERTS_TIMEOUT_MS each. A
 * failing Alertmanager is retried with exponential backoff (1 s doubling to
 * 30 s). The thread sleeps in curl_multi_poll for exactly the time until its
 * next due event (a resend, a backoff retry, curl's own timeout) and is woken
 * by alerts_end, alerts_configure, alerts_stop and alerts_wake; it never
 * polls on a fixed period.
 *
 * Time. Every schedule (resend, backoff, drain deadline, the 15 minutes of
 * resolved alerts) runs on the injected clock's monotonic time; the times
 * shown to Alertmanager come from its wall time (endsAt of firing alerts)
 * and from the evaluation time given to alerts_end (startsAt, resolve time).
 *
 * Settings. alerts_configure builds an immutable, refcounted settings object
 * (Alertmanagers, intervals, external labels, runbook base, generator URL)
 * and swaps it in under the lock in O(1); it never waits for I/O. The
 * sender picks the new object up at the top of its loop, aborts the POSTs
 * made with the old one and makes every alert due again for every
 * Alertmanager (new ones must learn the current state). Counters follow an
 * Alertmanager across reloads by its name.
 *
 * The "queue" is the alert table itself: one entry per alert identity, so
 * it is bounded by the configuration (checks, SLOs, canaries), and an
 * Alertmanager that was down for minutes gets every still-firing alert as
 * soon as it answers again.
 *
 * Threads: every function may be called from any thread; the module never
 * logs or does I/O while holding its lock.
 */
#ifndef OUTPOST_ALERTS_H
#define OUTPOST_ALERTS_H

#include "common.h"
#include "config.h"

#include <stdint.h>

struct clock;
struct audit;

#define ALERTS_BATCH 256
/* Caps on what outside input (check, SLO and canary names, descriptions,
 * the configured URLs) sizes. Over a cap is an error, logged and counted
 * as a notification error, never a truncation. */
#define ALERTS_KEY_MAX 4096        /* an alert's identity: name, severity, key */
#define ALERTS_ALERT_MAX 65536     /* one alert as JSON */
#define ALERTS_BODY_MAX (4u << 20) /* one POST body; a batch ends before it */
#define ALERTS_URL_MAX 65536       /* an Alertmanager's POST URL */
#define ALERTS_TIMEOUT_MS 10000
#define ALERTS_RESOLVED_RESEND_S 900.0
#define ALERTS_MAX_BACKOFF_MS 30000

struct alerts;

/* Idle: no thread until alerts_configure is given an Alertmanager. clock is
 * borrowed and must outlive the module (clock_system() in the agent, a fake
 * clock in tests). Caller frees with alerts_free. */
struct alerts *alerts_new(const struct clock *clock);
/* Write alert_fired and alert_resolved events (alertname, severity, the key
 * label and its value) to audit (borrowed, must outlive a; NULL: none) as
 * alerts change state: firing from alerts_fire, resolved from alerts_end,
 * after the table's lock is released. Call before the first evaluation. */
void alerts_set_audit(struct alerts *a, struct audit *audit);
/* Take (copy) the alerting settings; spec is borrowed for the call only.
 * Starts the sender thread the first time Alertmanagers are configured
 * (never after alerts_stop). Returns without waiting for the sender or any
 * POST in flight. */
void alerts_configure(struct alerts *a, const struct alerting_spec *spec);

/* One evaluation at wall time now (Unix seconds). Strings are borrowed for
 * the call and copied. */
void alerts_begin(struct alerts *a);
void alerts_fire(struct alerts *a, const char *alertname, const char *severity,
                 const char *key_label, const char *key_value, const char *summary,
                 const char *description);
void alerts_end(struct alerts *a, double now);

/* Make the sender look at its schedule again now, and return once it has
 * (at once when no sender runs). For tests that move a fake clock: the
 * sender cannot see a fake clock move, so after clock_fake_advance the test
 * calls this; when it returns, whatever became due at the new time has been
 * handed to libcurl (it may still be on its way). */
void alerts_wake(struct alerts *a);

/* Stop: send what is still dirty (changed, not yet sent) within drain_ms,
 * then abort whatever is in flight and join the thread. Returns within
 * drain_ms plus a few milliseconds whatever the Alertmanagers do. */
void alerts_stop(struct alerts *a, int64_t drain_ms);
/* Stops (without draining) and frees; NULL is a no-op. */
void alerts_free(struct alerts *a);

/* Counters per Alertmanager for the metrics page (any thread). */
struct alerts_am_stat {
    char *name; /* the whole name as configured; owned by the caller */
    uint64_t sent, errors;
};
/* Fills out[0 .. min(n, cap)) with copies, in configuration order, and
 * returns n, how many Alertmanagers there are. The caller releases the
 * filled entries with alerts_stats_release. */
size_t alerts_stats(struct alerts *a, struct alerts_am_stat *out, size_t cap);
/* Free the names alerts_stats copied into st[0 .. n). */
void alerts_stats_release(struct alerts_am_stat *st, size_t n);

/* True while that alert fires (stated by an evaluation that has ended and
 * not resolved since): what hysteresis decides from. Any thread. */
bool alerts_is_firing(struct alerts *a, const char *alertname, const char *severity,
                      const char *key_label, const char *key_value);

/* Alerts firing now (for tests and logs). */
size_t alerts_firing(struct alerts *a);

/* One alert firing now, as alerts_firing_list copies it (owned by the
 * list). */
struct alerts_item {
    char *alertname, *severity;
    /* The other labels it is sent with, as name/value pairs: its key
     * label (check, slo or canary), then the external labels. */
    char **labels;
    size_t n_labels;
    double since; /* unix seconds: its startsAt */
};
/* Copies of the alerts firing now (committed by an evaluation, not
 * resolved), in the order they first fired; *out NULL when none. Caller
 * frees with alerts_items_free. Any thread. */
size_t alerts_firing_list(struct alerts *a, struct alerts_item **out);
void alerts_items_free(struct alerts_item *items, size_t n);

/* RFC 3339 UTC with milliseconds ("2026-11-22T08:00:00.123Z"); exposed for
 * tests. out holds at least 32 bytes. */
void alerts_rfc3339(double t, char *out, size_t cap);

#endif
