/*
 * alerts.c - alert table and Alertmanager sender thread.
 *
 * Locking: a->lock guards the table, the current settings pointer and the
 * sender's published state (multi handle, wake counters, stop request). It
 * is held only for table work: no logging, no I/O, no libcurl call but
 * curl_multi_wakeup (a write on a socketpair). The sender's per-Alertmanager
 * state (transfers, backoff) is its own and needs no lock. config_lock
 * serialises alerts_configure calls with each other; it waits for nothing
 * but another configure building its settings.
 */
#include "alerts.h"
#include "clock.h"
#include "buf.h"
#include "log.h"
#include "names.h"

#include <curl/curl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A macro's value as a string literal, for log fields. */
#define STR_(x) #x
#define STR(x) STR_(x)

#define NS_PER_MS INT64_C(1000000)
#define NS_PER_S INT64_C(1000000000)
#define INITIAL_BACKOFF_MS 1000

_Static_assert(CFG_MAX_ALERTMANAGERS <= 32, "one dirty bit per Alertmanager");
_Static_assert(ALERTS_ALERT_MAX + 2 < ALERTS_BODY_MAX, "any one alert fits an empty body");

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

/* Another reference to s (NULL stays NULL); drop it with settings_unref. */
static struct settings *settings_ref(struct settings *s)
{
    if (s)
        atomic_fetch_add(&s->refs, 1);
    return s;
}

/* Drop a reference to c; the last one frees it (NULL is a no-op). */
static void counter_unref(struct am_counter *c)
{
    if (c && atomic_fetch_sub(&c->refs, 1) == 1)
        free(c);
}

/* Drop a reference; the last one frees s (NULL is a no-op). */
static void settings_unref(struct settings *s)
{
    if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    for (size_t i = 0; i < s->n_ams; i++) {
        free(s->ams[i].url);
        free(s->ams[i].name);
        counter_unref(s->ams[i].ctr);
    }
    for (size_t i = 0; i < s->n_ext; i++) {
        free(s->ext[i].name);
        free(s->ext[i].value);
    }
    free(s->ext);
    free(s->runbook_base);
    free(s->generator_url);
    free(s);
}

/*
 * New settings from spec (borrowed), holding one reference for the caller.
 * Each Alertmanager takes over the counters of the one called the same in
 * old (borrowed, may be NULL); an old counter goes to one new Alertmanager
 * only, so a name listed twice is not counted twice. Needs no lock: old
 * is immutable and its counters are shared through atomics.
 */
static struct settings *settings_build(const struct alerting_spec *spec, const struct settings *old)
{
    struct settings *s = xcalloc(1, sizeof(*s));
    atomic_init(&s->refs, 1);
    bool taken[CFG_MAX_ALERTMANAGERS] = {false};
    size_t n = spec->n_alertmanagers;
    if (n > CFG_MAX_ALERTMANAGERS)
        n = CFG_MAX_ALERTMANAGERS; /* the config loader rejects more */
    for (size_t i = 0; i < n; i++) {
        struct am_conf *m = &s->ams[i];
        struct buf u;
        buf_init(&u, ALERTS_URL_MAX);
        buf_addf(&u, "%s/api/v2/alerts", spec->alertmanagers[i]);
        /* Over the cap: no URL, so every POST fails and is counted. */
        m->url = u.failed ? NULL : buf_take(&u);
        buf_free(&u);
        m->name = xstrdup(spec->alertmanager_names[i]);
        for (size_t k = 0; old && k < old->n_ams && !m->ctr; k++) {
            if (!taken[k] && strcmp(old->ams[k].name, m->name) == 0) {
                taken[k] = true;
                m->ctr = old->ams[k].ctr;
                atomic_fetch_add(&m->ctr->refs, 1);
            }
        }
        if (!m->ctr) {
            m->ctr = xcalloc(1, sizeof(*m->ctr));
            atomic_init(&m->ctr->sent, 0);
            atomic_init(&m->ctr->errors, 0);
            atomic_init(&m->ctr->refs, 1);
        }
    }
    s->n_ams = n;
    s->resend_ns = spec->resend_interval_ms * NS_PER_MS;
    s->resend_s = (double)spec->resend_interval_ms / 1000.0;
    s->eval_s = (double)spec->evaluation_interval_ms / 1000.0;
    s->ext = xcalloc(spec->n_external_labels + 1, sizeof(*s->ext));
    for (size_t i = 0; i < spec->n_external_labels; i++) {
        s->ext[i].name = xstrdup(spec->external_labels[i].name);
        s->ext[i].value = xstrdup(spec->external_labels[i].value);
    }
    s->n_ext = spec->n_external_labels;
    s->runbook_base = spec->runbook_url_base ? xstrdup(spec->runbook_url_base) : NULL;
    s->generator_url = spec->generator_url ? xstrdup(spec->generator_url) : NULL;
    return s;
}

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

void alerts_rfc3339(double t, char *out, size_t cap)
{
    time_t secs = (time_t)floor(t);
    int ms = (int)((t - floor(t)) * 1000.0);
    if (ms > 999)
        ms = 999;
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

/* names_key_fn over the alert table: entry i's key (borrowed). */
static const char *entry_key(const void *owner, size_t i)
{
    const struct alerts *a = owner;
    return a->e[i].key;
}

/* Caller frees with alerts_free; clock borrowed. */
struct alerts *alerts_new(const struct clock *clock)
{
    struct alerts *a = xcalloc(1, sizeof(*a));
    a->clock = clock;
    pthread_mutex_init(&a->lock, NULL);
    pthread_mutex_init(&a->config_lock, NULL);
    pthread_cond_init(&a->passed, NULL);
    /* The map reaches entries through a, so a->e may move (realloc). */
    a->ix = names_new(entry_key, a);
    /* Defaults until configured: no Alertmanager, so nothing is sent. */
    struct alerting_spec none = {.resend_interval_ms = 60000, .evaluation_interval_ms = 10000};
    a->settings = settings_build(&none, NULL);
    return a;
}

/* Free what e owns (not e: it lives in the table's array). */
static void free_entry(struct entry *e)
{
    free(e->key);
    free(e->alertname);
    free(e->severity);
    free(e->klabel);
    free(e->kvalue);
    free(e->summary);
    free(e->description);
}

/* Make the sender run a pass soon. Caller holds the lock. */
static void wake_locked(struct alerts *a)
{
    if (a->multi)
        curl_multi_wakeup(a->multi);
}

/* ---- JSON ---- */

/* Append "k":"v" (borrowed) to a JSON object being written to b. */
static void json_kv(struct buf *b, bool *first, const char *k, const char *v)
{
    if (!*first)
        buf_addc(b, ',');
    *first = false;
    buf_add_json_string(b, k);
    buf_addc(b, ':');
    buf_add_json_string(b, v);
}

/* ASCII only: runbook anchors are generated from ASCII alert names. */
static void lowercase(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

/* One alert as Alertmanager API v2 takes it, appended to b (capped by the
 * caller); wall is the time of sending. False when b or the runbook URL
 * went over its cap: b is then unusable. Caller holds the lock. */
static bool alert_json(const struct settings *s, const struct entry *e, double wall, struct buf *b)
{
    bool first = true;
    buf_adds(b, "{\"labels\":{");
    json_kv(b, &first, "alertname", e->alertname);
    json_kv(b, &first, "severity", e->severity);
    json_kv(b, &first, e->klabel, e->kvalue);
    for (size_t i = 0; i < s->n_ext; i++)
        json_kv(b, &first, s->ext[i].name, s->ext[i].value);
    buf_adds(b, "},\"annotations\":{");
    first = true;
    json_kv(b, &first, "summary", e->summary);
    json_kv(b, &first, "description", e->description);
    bool url_ok = true;
    if (s->runbook_base) {
        /* The anchor is the lowercased alert name (a Markdown heading). */
        struct buf u;
        buf_init(&u, ALERTS_ALERT_MAX);
        buf_adds(&u, s->runbook_base);
        buf_addc(&u, '#');
        size_t anchor = u.len;
        buf_adds(&u, e->alertname);
        url_ok = !u.failed;
        if (url_ok) {
            lowercase(u.data + anchor);
            json_kv(b, &first, "runbook_url", buf_str(&u));
        }
        buf_free(&u);
    }
    char ts[48];
    alerts_rfc3339(e->starts_at, ts, sizeof(ts));
    buf_adds(b, "},\"startsAt\":");
    buf_add_json_string(b, ts);
    double ends = e->resolved_at > 0 ? e->resolved_at : wall + 4 * fmax(s->eval_s, s->resend_s);
    alerts_rfc3339(ends, ts, sizeof(ts));
    buf_adds(b, ",\"endsAt\":");
    buf_add_json_string(b, ts);
    if (s->generator_url) {
        buf_adds(b, ",\"generatorURL\":");
        buf_add_json_string(b, s->generator_url);
    }
    buf_addc(b, '}');
    return url_ok && !b->failed;
}

/* ---- evaluation ---- */

/* Re-index every entry after entries moved. O(n). Caller holds the lock. */
static void index_rebuild(struct alerts *a)
{
    names_clear(a->ix);
    for (size_t i = 0; i < a->n; i++)
        (void)names_add(a->ix, i);
}

/* O(1): one lookup per stated alert and per sent key, so an evaluation
 * with every one of 10,000 checks down stays linear. Caller holds the lock. */
static struct entry *find(struct alerts *a, const char *key)
{
    long i = names_find(a->ix, key);
    return i < 0 ? NULL : &a->e[i];
}

/* Start an evaluation: every alert is unstated until alerts_fire. */
void alerts_begin(struct alerts *a)
{
    pthread_mutex_lock(&a->lock);
    for (size_t i = 0; i < a->n; i++)
        a->e[i].seen = false;
    pthread_mutex_unlock(&a->lock);
}

/* All strings borrowed and copied. */
void alerts_fire(struct alerts *a, const char *alertname, const char *severity,
                 const char *key_label, const char *key_value, const char *summary,
                 const char *description)
{
    struct buf k;
    buf_init(&k, ALERTS_KEY_MAX);
    buf_addf(&k, "%s\x01%s\x01%s\x01%s", alertname, severity, key_label, key_value);
    if (k.failed) {
        /* No identity, no entry: the alert cannot reach any Alertmanager. */
        pthread_mutex_lock(&a->lock);
        for (size_t i = 0; i < a->settings->n_ams; i++)
            atomic_fetch_add(&a->settings->ams[i].ctr->errors, 1);
        pthread_mutex_unlock(&a->lock);
        log_error("alert not sent: its identity is over the cap", "alertname", alertname, "label",
                  key_label, "cap", STR(ALERTS_KEY_MAX));
        buf_free(&k);
        return;
    }
    bool fired = false; /* logged once the lock is released */
    pthread_mutex_lock(&a->lock);
    struct entry *e = find(a, buf_str(&k));
    if (!e) {
        if (a->n == a->cap) {
            a->cap = a->cap ? a->cap * 2 : 64;
            a->e = xrealloc(a->e, a->cap * sizeof(*a->e));
        }
        e = &a->e[a->n++];
        memset(e, 0, sizeof(*e));
        e->key = buf_take(&k);
        e->alertname = xstrdup(alertname);
        e->severity = xstrdup(severity);
        e->klabel = xstrdup(key_label);
        e->kvalue = xstrdup(key_value);
        e->summary = xstrdup(summary);
        e->description = xstrdup(description);
        e->starts_at = -1; /* set by alerts_end */
        e->dirty = ALL_AMS;
        (void)names_add(a->ix, a->n - 1); /* new key: find() just missed it */
        fired = true;
    } else {
        if (e->resolved_at > 0) {
            /* It fires again: a new episode with its own startsAt. */
            e->resolved_at = 0;
            e->starts_at = -1;
            e->dirty = ALL_AMS;
            e->version++;
            fired = true;
        }
        free(e->description);
        e->description = xstrdup(description);
    }
    e->seen = true;
    pthread_mutex_unlock(&a->lock);
    if (fired)
        log_warn("alert firing", "alertname", alertname, key_label, key_value);
    buf_free(&k);
}

/* Alerts resolved by one alerts_end, copied for logging after the lock. */
struct resolved_log {
    char **kv; /* alertname, key label, key value per alert; owned */
    size_t n, cap;
};

/* Copy e's names (borrowed) into r. Caller holds the lock. */
static void resolved_add(struct resolved_log *r, const struct entry *e)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 8;
        r->kv = xrealloc(r->kv, 3 * r->cap * sizeof(char *));
    }
    r->kv[3 * r->n] = xstrdup(e->alertname);
    r->kv[3 * r->n + 1] = xstrdup(e->klabel);
    r->kv[3 * r->n + 2] = xstrdup(e->kvalue);
    r->n++;
}

/* Log and free what resolved_add collected. */
static void resolved_flush(struct resolved_log *r)
{
    for (size_t i = 0; i < r->n; i++) {
        char **kv = &r->kv[3 * i];
        log_info("alert resolved", "alertname", kv[0], kv[1], kv[2]);
        free(kv[0]);
        free(kv[1]);
        free(kv[2]);
    }
    free(r->kv);
}

/* Commit the evaluation at wall time now: new alerts start, unstated ones
 * resolve, resolved ones older than 15 minutes (monotonic) go. */
void alerts_end(struct alerts *a, double now)
{
    struct resolved_log res = {0};
    pthread_mutex_lock(&a->lock);
    int64_t mono = clock_mono_ns(a->clock);
    size_t w = 0;
    for (size_t i = 0; i < a->n; i++) {
        struct entry *e = &a->e[i];
        if (e->seen && e->starts_at < 0)
            e->starts_at = now;
        if (!e->seen && e->resolved_at == 0) {
            e->resolved_at = now;
            e->resolved_mono_ns = mono;
            e->dirty = ALL_AMS;
            e->version++;
            resolved_add(&res, e);
        }
        /* Resolved alerts are re-sent for 15 minutes, then forgotten. */
        if (e->resolved_at > 0 &&
            mono - e->resolved_mono_ns > (int64_t)(ALERTS_RESOLVED_RESEND_S * NS_PER_S)) {
            free_entry(e);
            continue;
        }
        a->e[w++] = *e;
    }
    bool moved = w != a->n;
    a->n = w;
    if (moved)
        index_rebuild(a);
    wake_locked(a);
    pthread_mutex_unlock(&a->lock);
    resolved_flush(&res);
}

/* Committed alerts that fire now. */
size_t alerts_firing(struct alerts *a)
{
    pthread_mutex_lock(&a->lock);
    size_t n = 0;
    for (size_t i = 0; i < a->n; i++)
        n += a->e[i].resolved_at == 0 && a->e[i].starts_at >= 0;
    pthread_mutex_unlock(&a->lock);
    return n;
}

/* ---- the sender ---- */

/* An alert in a POST: enough to find it again when the answer comes. */
struct sent_item {
    char *key;
    uint64_t version; /* still the same: what was sent is what is current */
};

/* One POST, being built and then in flight. */
struct xfer {
    size_t am; /* index in the sender's settings */
    CURL *easy;
    struct curl_slist *hdr;
    struct buf body;
    struct sent_item *items;
    size_t n;
    size_t rejected;     /* alerts left out: over ALERTS_ALERT_MAX */
    char *rejected_name; /* the first one's alertname, for the log */
    char err[CURL_ERROR_SIZE];
};

/* The sender's own state for one Alertmanager of its settings. */
struct am_run {
    struct xfer *x;      /* in flight, or NULL */
    int64_t next_try_ns; /* backoff: no POST before (monotonic) */
    int64_t backoff_ms;  /* 0 after a success */
    bool drained_out;    /* failed while draining: no more tries */
};

struct sender {
    struct alerts *a;
    CURLM *multi;
    struct settings *s; /* what the transfers in run[] were made with; a reference */
    struct am_run run[CFG_MAX_ALERTMANAGERS];
};

/* An empty batch for Alertmanager am; freed with xfer_free. */
static struct xfer *xfer_new(size_t am)
{
    struct xfer *x = xcalloc(1, sizeof(*x));
    x->am = am;
    buf_init(&x->body, ALERTS_BODY_MAX);
    x->items = xcalloc(ALERTS_BATCH, sizeof(*x->items));
    return x;
}

/* Free x; it must not be in the multi handle any more. */
static void xfer_free(struct xfer *x)
{
    if (!x)
        return;
    if (x->easy)
        curl_easy_cleanup(x->easy);
    curl_slist_free_all(x->hdr);
    buf_free(&x->body);
    for (size_t i = 0; i < x->n; i++)
        free(x->items[i].key);
    free(x->items);
    free(x->rejected_name);
    free(x);
}

/* Take x out of the multi handle and free it. quick: do not wait for a
 * name resolution still running (only when stopping: it may leak it). */
static void xfer_abort(struct sender *sd, struct xfer *x, bool quick)
{
    if (x->easy) {
        if (quick)
            curl_easy_setopt(x->easy, CURLOPT_QUICK_EXIT, 1L);
        curl_multi_remove_handle(sd->multi, x->easy);
    }
    xfer_free(x);
}

/* libcurl write callback: Alertmanager's answer body is not needed. */
static size_t discard(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (void)u;
    return s * n;
}

/*
 * Fill x with the alerts due for Alertmanager i (of settings s): at most
 * ALERTS_BATCH, and the batch ends before an alert that would not fit the
 * body (it goes in the next one). An alert whose JSON is over
 * ALERTS_ALERT_MAX is counted as an error and treated as sent, so it is
 * tried again at the next resend rather than in a loop. *next_due is
 * lowered to the earliest resend of what is not due yet; not computed
 * when the batch is full (its answer brings the next pass). Caller holds
 * the lock.
 */
static void collect(struct alerts *a, const struct settings *s, size_t i, int64_t now, double wall,
                    bool only_dirty, struct xfer *x, int64_t *next_due)
{
    struct buf one;
    buf_init(&one, ALERTS_ALERT_MAX);
    buf_addc(&x->body, '[');
    for (size_t k = 0; k < a->n; k++) {
        struct entry *e = &a->e[k];
        if (e->starts_at < 0)
            continue; /* stated but not yet committed by alerts_end */
        bool dirty = e->dirty & (1u << i);
        int64_t resend_at = e->last_sent_ns[i] + s->resend_ns;
        if (!dirty && (only_dirty || now < resend_at)) {
            if (!only_dirty && resend_at < *next_due)
                *next_due = resend_at;
            continue;
        }
        if (x->n == ALERTS_BATCH)
            break;
        buf_reset(&one);
        if (!alert_json(s, e, wall, &one)) {
            atomic_fetch_add(&s->ams[i].ctr->errors, 1);
            e->dirty &= ~(1u << i);
            e->last_sent_ns[i] = now;
            if (!x->rejected++)
                x->rejected_name = xstrdup(e->alertname);
            continue;
        }
        /* Room for the comma and the closing bracket. */
        if (x->body.len + 1 + one.len + 1 > ALERTS_BODY_MAX)
            break;
        if (x->n)
            buf_addc(&x->body, ',');
        buf_add(&x->body, one.data, one.len);
        x->items[x->n].key = xstrdup(e->key);
        x->items[x->n].version = e->version;
        x->n++;
    }
    buf_addc(&x->body, ']');
    buf_free(&one);
}

/* Book the answer to x (ok, or err): counters, what was sent, backoff;
 * then log, free x and clear its slot. x is out of the multi handle. */
static void complete(struct sender *sd, struct xfer *x, bool ok, const char *err)
{
    struct alerts *a = sd->a;
    struct am_run *r = &sd->run[x->am];
    const struct am_conf *m = &sd->s->ams[x->am];
    pthread_mutex_lock(&a->lock);
    int64_t now = clock_mono_ns(a->clock);
    bool stopping = a->stopping;
    if (ok) {
        atomic_fetch_add(&m->ctr->sent, x->n);
        for (size_t k = 0; k < x->n; k++) {
            struct entry *e = find(a, x->items[k].key);
            if (!e)
                continue; /* dropped meanwhile */
            e->last_sent_ns[x->am] = now;
            /* Changed while in flight: still dirty, sent again at once. */
            if (e->version == x->items[k].version)
                e->dirty &= ~(1u << x->am);
        }
    } else {
        atomic_fetch_add(&m->ctr->errors, x->n);
    }
    pthread_mutex_unlock(&a->lock);
    if (ok) {
        r->backoff_ms = 0;
        r->next_try_ns = 0;
    } else {
        r->backoff_ms = r->backoff_ms ? 2 * r->backoff_ms : INITIAL_BACKOFF_MS;
        if (r->backoff_ms > ALERTS_MAX_BACKOFF_MS)
            r->backoff_ms = ALERTS_MAX_BACKOFF_MS;
        r->next_try_ns = now + r->backoff_ms * NS_PER_MS;
        r->drained_out = stopping;
        if (stopping)
            log_warn("sending alerts failed while stopping, giving up", "alertmanager", m->name,
                     "err", err);
        else
            log_warn("sending alerts failed, will retry", "alertmanager", m->name, "err", err);
    }
    r->x = NULL;
    xfer_free(x);
}

/* Hand x (collected for its Alertmanager) to libcurl; on a set-up failure
 * it is completed as failed at once. */
static void start(struct sender *sd, struct xfer *x)
{
    const struct am_conf *m = &sd->s->ams[x->am];
    sd->run[x->am].x = x;
    if (!m->url) {
        complete(sd, x, false, "URL over the cap of " STR(ALERTS_URL_MAX) " bytes");
        return;
    }
    CURL *e = x->easy = curl_easy_init();
    struct curl_slist *h = x->hdr = curl_slist_append(NULL, "Content-Type: application/json");
    /* Bodies over 1 MiB would wait for "100 Continue" first: a round trip
     * for nothing, or a second lost to a server that never sends it. */
    if (h)
        h = curl_slist_append(h, "Expect:");
    bool ok = e && h;
    if (ok) {
        curl_easy_setopt(e, CURLOPT_URL, m->url);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->body.data);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->body.len);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->hdr);
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)ALERTS_TIMEOUT_MS);
        curl_easy_setopt(e, CURLOPT_USERAGENT, "outpost/" OUTPOST_VERSION);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->err);
        curl_easy_setopt(e, CURLOPT_PRIVATE, x);
        ok = curl_multi_add_handle(sd->multi, e) == CURLM_OK;
    }
    if (!ok)
        complete(sd, x, false, "cannot set up a libcurl transfer");
}

/* Book every transfer libcurl has finished. */
static void reap(struct sender *sd)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(sd->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *e = msg->easy_handle;
        CURLcode rc = msg->data.result;
        struct xfer *x = NULL;
        curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&x);
        long status = 0;
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
        curl_multi_remove_handle(sd->multi, e);
        char err[CURL_ERROR_SIZE + 64] = "";
        bool ok = rc == CURLE_OK && status >= 200 && status <= 299;
        if (rc != CURLE_OK)
            snprintf(err, sizeof(err), "%s", x->err[0] ? x->err : curl_easy_strerror(rc));
        else if (!ok)
            snprintf(err, sizeof(err), "HTTP status %ld", status);
        complete(sd, x, ok, err);
    }
}

/* Abort every transfer in flight (quick: see xfer_abort). */
static void abort_all(struct sender *sd, bool quick)
{
    for (size_t i = 0; i < CFG_MAX_ALERTMANAGERS; i++) {
        if (sd->run[i].x)
            xfer_abort(sd, sd->run[i].x, quick);
        sd->run[i].x = NULL;
    }
}

/* Take up the current settings if they changed: abort the transfers made
 * with the old ones (outside the lock: libcurl may take its time), forget
 * their backoff, and make every alert due for every Alertmanager. */
static void pick_up_settings(struct sender *sd)
{
    struct alerts *a = sd->a;
    pthread_mutex_lock(&a->lock);
    struct settings *cur = a->settings;
    bool changed = cur != sd->s;
    if (changed) {
        settings_ref(cur);
        for (size_t i = 0; i < a->n; i++) {
            a->e[i].dirty = ALL_AMS;
            memset(a->e[i].last_sent_ns, 0, sizeof(a->e[i].last_sent_ns));
        }
    }
    pthread_mutex_unlock(&a->lock);
    if (!changed)
        return;
    abort_all(sd, false);
    memset(sd->run, 0, sizeof(sd->run));
    settings_unref(sd->s);
    sd->s = cur;
}

/*
 * One look at the schedule: start a POST for every idle Alertmanager with
 * something due. Returns false when the sender is done (stopping, and the
 * drain deadline passed or nothing is left to drain); otherwise sets *wait_ms
 * to how long nothing is due (0 when POSTs just started).
 */
static bool pass(struct sender *sd, int *wait_ms)
{
    struct alerts *a = sd->a;
    const struct settings *s = sd->s;
    struct xfer *batch[CFG_MAX_ALERTMANAGERS] = {NULL};
    bool in_flight = false, started = false;
    int64_t next = INT64_MAX;

    pthread_mutex_lock(&a->lock);
    uint64_t serving = a->wakes_asked;
    int64_t now = clock_mono_ns(a->clock);
    double wall = clock_wall(a->clock);
    bool stopping = a->stopping;
    int64_t deadline = a->drain_until_ns;
    bool over = stopping && now >= deadline;
    for (size_t i = 0; i < s->n_ams && !over; i++) {
        struct am_run *r = &sd->run[i];
        if (r->x) {
            in_flight = true; /* its answer brings the next pass */
            continue;
        }
        /* Draining gives an Alertmanager in backoff one more try. */
        if (stopping ? r->drained_out : now < r->next_try_ns) {
            if (!stopping && r->next_try_ns < next)
                next = r->next_try_ns;
            continue;
        }
        struct xfer *x = xfer_new(i);
        collect(a, s, i, now, wall, stopping, x, &next);
        batch[i] = x;
    }
    a->wakes_done = serving;
    pthread_cond_broadcast(&a->passed);
    pthread_mutex_unlock(&a->lock);

    for (size_t i = 0; i < s->n_ams; i++) {
        struct xfer *x = batch[i];
        if (!x)
            continue;
        if (x->rejected) {
            char count[32];
            snprintf(count, sizeof(count), "%zu", x->rejected);
            log_error("alerts not sent: over the size cap", "alertmanager", s->ams[i].name,
                      "alerts", count, "alertname", x->rejected_name, "cap", STR(ALERTS_ALERT_MAX));
        }
        if (!x->n) {
            xfer_free(x);
            continue;
        }
        start(sd, x);
        started = true;
    }
    if (over || (stopping && !in_flight && !started))
        return false; /* drained, or out of time */
    if (started) {
        *wait_ms = 0;
        return true;
    }
    if (stopping && deadline < next)
        next = deadline;
    long curl_ms = -1;
    curl_multi_timeout(sd->multi, &curl_ms);
    int64_t ms = INT_MAX;
    if (next != INT64_MAX)
        ms = next <= now ? 0 : (next - now + NS_PER_MS - 1) / NS_PER_MS; /* round up */
    if (curl_ms >= 0 && curl_ms < ms)
        ms = curl_ms;
    *wait_ms = ms > INT_MAX ? INT_MAX : (int)ms;
    return true;
}

/* The sender thread (arg: the module, borrowed). It owns the multi handle
 * and every transfer, and publishes the handle only so that others can
 * wake it. */
static void *sender_main(void *arg)
{
    struct sender sd = {.a = arg};
    struct alerts *a = sd.a;
    sd.multi = curl_multi_init();
    pthread_mutex_lock(&a->lock);
    a->multi = sd.multi;
    pthread_mutex_unlock(&a->lock);
    if (!sd.multi)
        log_error("cannot create a libcurl multi handle: alerts will not be sent");
    while (sd.multi) {
        int running = 0;
        curl_multi_perform(sd.multi, &running);
        reap(&sd);
        pick_up_settings(&sd);
        int wait_ms = 0;
        if (!pass(&sd, &wait_ms))
            break;
        if (wait_ms > 0)
            curl_multi_poll(sd.multi, NULL, 0, wait_ms, NULL);
    }
    /* Whatever is still in flight is given up: the deadline passed. */
    if (sd.multi)
        abort_all(&sd, true);
    pthread_mutex_lock(&a->lock);
    a->multi = NULL;
    a->running = false;
    pthread_cond_broadcast(&a->passed);
    pthread_mutex_unlock(&a->lock);
    if (sd.multi)
        curl_multi_cleanup(sd.multi);
    settings_unref(sd.s);
    return NULL;
}

/* spec borrowed for the call. */
void alerts_configure(struct alerts *a, const struct alerting_spec *spec)
{
    pthread_mutex_lock(&a->config_lock);
    /* Only configure replaces a->settings, and configure is serialised:
     * old stays current while the new object is built without the lock. */
    struct settings *old = a->settings;
    struct settings *s = settings_build(spec, old);
    bool start_failed = false;
    pthread_mutex_lock(&a->lock);
    a->settings = s;
    if (s->n_ams > 0 && !a->joinable && !a->stopping) {
        a->running = true;
        if (pthread_create(&a->thread, NULL, sender_main, a) == 0) {
            a->joinable = true;
        } else {
            a->running = false;
            start_failed = true;
        }
    }
    wake_locked(a);
    pthread_mutex_unlock(&a->lock);
    settings_unref(old);
    if (start_failed)
        log_error("cannot start the alert sender thread");
    /* Still under config_lock: no later configure can free s meanwhile. */
    for (size_t i = 0; i < s->n_ams; i++)
        if (!s->ams[i].url)
            log_error("Alertmanager URL over the cap: sending to it will fail", "alertmanager",
                      s->ams[i].name, "cap", STR(ALERTS_URL_MAX));
    pthread_mutex_unlock(&a->config_lock);
}

/* Ask for a pass and wait for one that began after the ask (its clock
 * readings are then at least as new as the caller's). */
void alerts_wake(struct alerts *a)
{
    pthread_mutex_lock(&a->lock);
    uint64_t ticket = ++a->wakes_asked;
    wake_locked(a);
    while (a->running && a->wakes_done < ticket)
        pthread_cond_wait(&a->passed, &a->lock);
    pthread_mutex_unlock(&a->lock);
}

/* Set the drain deadline, wake the sender and join it. */
void alerts_stop(struct alerts *a, int64_t drain_ms)
{
    pthread_mutex_lock(&a->lock);
    int64_t until = clock_mono_ns(a->clock) + (drain_ms > 0 ? drain_ms : 0) * NS_PER_MS;
    /* A second stop may shorten the drain, never lengthen it. */
    if (!a->stopping || until < a->drain_until_ns)
        a->drain_until_ns = until;
    a->stopping = true;
    wake_locked(a);
    bool join = a->joinable;
    a->joinable = false;
    pthread_mutex_unlock(&a->lock);
    if (join)
        pthread_join(a->thread, NULL);
}

/* Frees a and everything it owns; the clock stays the caller's. */
void alerts_free(struct alerts *a)
{
    if (!a)
        return;
    alerts_stop(a, 0);
    settings_unref(a->settings);
    for (size_t i = 0; i < a->n; i++)
        free_entry(&a->e[i]);
    free(a->e);
    names_free(a->ix);
    pthread_mutex_destroy(&a->lock);
    pthread_mutex_destroy(&a->config_lock);
    pthread_cond_destroy(&a->passed);
    free(a);
}

/* Names copied for the caller (alerts_stats_release). */
size_t alerts_stats(struct alerts *a, struct alerts_am_stat *out, size_t cap)
{
    pthread_mutex_lock(&a->lock);
    struct settings *s = settings_ref(a->settings);
    pthread_mutex_unlock(&a->lock);
    for (size_t i = 0; i < s->n_ams && i < cap; i++) {
        out[i].name = xstrdup(s->ams[i].name);
        out[i].sent = atomic_load(&s->ams[i].ctr->sent);
        out[i].errors = atomic_load(&s->ams[i].ctr->errors);
    }
    size_t n = s->n_ams;
    settings_unref(s);
    return n;
}

/* Frees the names only; st is the caller's. */
void alerts_stats_release(struct alerts_am_stat *st, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(st[i].name);
        st[i].name = NULL;
    }
}
