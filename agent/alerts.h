/*
 * alerts.h - the agent's own alerts, pushed to Alertmanager API v2 the way
 * Prometheus' notifier does it.
 *
 * The evaluator (main thread, every evaluation interval) states which alerts
 * fire now: alerts_begin, alerts_fire for each, alerts_end. Alerts that fired
 * before and are not stated again resolve. A sender thread posts, to every
 * configured Alertmanager, each alert that changed at once and every alert
 * again each resend interval; resolved alerts are re-sent for 15 minutes.
 * startsAt stays the first firing time; endsAt is now + 4 x max(evaluation
 * interval, resend interval) while firing and the resolve time after.
 * Batches hold at most 256 alerts, requests time out after 10 s, a failing
 * Alertmanager is retried with exponential backoff (1 s ... 30 s), and what
 * is due is drained at shutdown within a deadline.
 *
 * The "queue" is the alert table itself: one entry per alert identity, so
 * it is bounded by the configuration (checks, SLOs, canaries), and an
 * Alertmanager that was down for minutes gets every still-firing alert as
 * soon as it answers again.
 *
 * The sender uses its own libcurl easy handles on its own thread; probes
 * keep the probe thread's multi handle to themselves.
 */
#ifndef OUTPOST_ALERTS_H
#define OUTPOST_ALERTS_H

#include "common.h"
#include "config.h"

#include <stdint.h>

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

/* Idle: no thread until alerts_configure is given an Alertmanager. */
struct alerts *alerts_new(void);
/* Take (copy) the alerting settings; starts the sender thread the first
 * time Alertmanagers are configured. Every alert becomes due for every
 * Alertmanager (new ones must learn the current state). */
void alerts_configure(struct alerts *a, const struct alerting_spec *spec);

/* One evaluation at wall time now (Unix seconds). Strings are copied. */
void alerts_begin(struct alerts *a);
void alerts_fire(struct alerts *a, const char *alertname, const char *severity,
                 const char *key_label, const char *key_value, const char *summary,
                 const char *description);
void alerts_end(struct alerts *a, double now);

/* Stop: send what is due within drain_ms, then join the thread. */
void alerts_stop(struct alerts *a, int64_t drain_ms);
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

/* Alerts firing now (for tests and logs). */
size_t alerts_firing(struct alerts *a);

/* RFC 3339 UTC with milliseconds ("2026-11-22T08:00:00.123Z"); exposed for
 * tests. out holds at least 32 bytes. */
void alerts_rfc3339(double t, char *out, size_t cap);

#endif
