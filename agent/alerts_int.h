/*
 * alerts_int.h - internals of the alerts module, shared by its two files:
 * alerts.c (the alert table and the settings) and alert_sender.c (the
 * sender thread). Include it from those two files only; everything else,
 * unit tests included, uses alerts.h.
 *
 * Locking: a->lock guards the table, the current settings pointer and the
 * sender's published state (multi handle, wake counters, stop request). It
 * is held only for table work: no logging, no I/O, no libcurl call but
 * curl_multi_wakeup (a write on a socketpair). The sender's per-Alertmanager
 * state (transfers, backoff) is its own and needs no lock. config_lock
 * serialises alerts_configure calls with each other; it waits for nothing
 * but another configure building its settings.
 */
#ifndef OUTPOST_ALERTS_INT_H
#define OUTPOST_ALERTS_INT_H

#include "alerts.h"
#include "buf.h"
#include "config.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct names;

/* A macro's value as a string literal, for log fields. */
#define STR_(x) #x
#define STR(x) STR_(x)

#define NS_PER_MS INT64_C(1000000)

_Static_assert(CFG_MAX_ALERTMANAGERS <= 32, "one dirty bit per Alertmanager");

/* Every Alertmanager's bit: bits beyond the configured ones are ignored. */
#define ALL_AMS ((uint32_t)((1ull << CFG_MAX_ALERTMANAGERS) - 1))

/* ---- settings ---- */

/* Counters of one Alertmanager, shared (by name) by every settings object
 * that lists it, so they follow it across reloads without a copy that
 * could miss an increment made meanwhile. Atomics: the sender counts
 * without the lock. */
struct am_counter {
    atomic_uint_fast64_t sent, errors;
    atomic_int refs;
};

struct am_conf {
    char *url;  /* .../api/v2/alerts, may hold credentials; NULL when over ALERTS_URL_MAX */
    char *name; /* for the metric label and logs */
    struct am_counter *ctr;
};

/* Immutable once built (but for the counters' atomics); freed with its
 * last reference: a->settings holds one, the sender one for what it uses. */
struct settings {
    atomic_int refs;
    struct am_conf ams[CFG_MAX_ALERTMANAGERS];
    size_t n_ams;
    int64_t resend_ns;
    double resend_s, eval_s;
    struct header_kv *ext;
    size_t n_ext;
    char *runbook_base, *generator_url;
};

/* ---- the module ---- */

struct entry {
    char *key; /* identity: the label set */
    char *alertname, *severity, *klabel, *kvalue, *summary, *description;
    double starts_at;                            /* wall; -1 until alerts_end commits the alert */
    double resolved_at;                          /* wall, as given to alerts_end; 0 while firing */
    int64_t resolved_mono_ns;                    /* when it resolved, for the 15 minutes */
    bool seen;                                   /* stated in the current evaluation */
    uint32_t dirty;                              /* bit per Alertmanager: changed, send at once */
    uint64_t version;                            /* bumped with every change that sets dirty */
    int64_t last_sent_ns[CFG_MAX_ALERTMANAGERS]; /* monotonic */
};

struct alerts {
    const struct clock *clock; /* borrowed */
    struct audit *audit;       /* borrowed; set before the first evaluation */
    pthread_mutex_t lock;
    pthread_mutex_t config_lock;
    pthread_cond_t passed; /* the sender ended a pass: wakes_done moved */
    struct settings *settings;
    /* the sender */
    pthread_t thread;
    bool joinable; /* a thread to join */
    bool running;  /* the sender has not left its loop yet */
    bool stopping; /* alerts_stop was called; no thread starts after it */
    int64_t drain_until_ns;
    CURLM *multi; /* the sender's, while it runs; others only wake it */
    uint64_t wakes_asked, wakes_done;
    /* the table */
    struct entry *e;
    size_t n, cap;
    struct names *ix; /* key -> entry index; rebuilt when entries move */
};

/* ---- defined in alerts.c, used by the sender ---- */

/* Another reference to s (NULL stays NULL); drop it with
 * alerts_settings_unref. */
struct settings *alerts_settings_ref(struct settings *s);
/* Drop a reference; the last one frees s (NULL is a no-op). */
void alerts_settings_unref(struct settings *s);
/* The entry whose identity is key (borrowed), or NULL; O(1). The entry is
 * borrowed until the lock is released. Caller holds the lock. */
struct entry *alerts_find(struct alerts *a, const char *key);
/* Append entry e as Alertmanager API v2 takes it to b (capped by the
 * caller), with the settings s; wall is the time of sending. False when b
 * or the runbook URL went over its cap: b is then unusable. Caller holds
 * the lock. */
bool alerts_entry_json(const struct settings *s, const struct entry *e, double wall, struct buf *b);

/* ---- defined in alert_sender.c, used by the table and settings ---- */

/* Start the sender thread unless one was started already or alerts_stop
 * was called. False only when the thread could not be created (the caller
 * logs it once the lock is released). Caller holds the lock. */
bool sender_start_locked(struct alerts *a);
/* Make the sender run a pass soon (a no-op while none runs). Caller holds
 * the lock. */
void sender_wake_locked(struct alerts *a);

#endif
