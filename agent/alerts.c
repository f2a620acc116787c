/*
 * alerts.c - the alerts module's table and settings: what the evaluator
 * states (alerts_begin, alerts_fire, alerts_end), the refcounted settings
 * alerts_configure builds and swaps in, the counters for the metrics page,
 * and the JSON of one alert.
 *
 * The sender thread that POSTs the table to the Alertmanagers lives in
 * alert_sender.c: split by responsibility, so that this file makes no
 * libcurl call and the thread's transfers, schedule and life are read on
 * their own. The two files share the structures and a few functions
 * through alerts_int.h, which also states the locking.
 */
#include "alerts_int.h"
#include "audit.h"
#include "clock.h"
#include "buf.h"
#include "log.h"
#include "names.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NS_PER_S INT64_C(1000000000)

/* ---- settings ---- */

/* Another reference to s (NULL stays NULL); drop it with alerts_settings_unref. */
struct settings *alerts_settings_ref(struct settings *s)
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
void alerts_settings_unref(struct settings *s)
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
    s->runbook_base = spec->runbook_base_url ? xstrdup(spec->runbook_base_url) : NULL;
    s->generator_url = spec->generator_url ? xstrdup(spec->generator_url) : NULL;
    return s;
}

/* ---- the module ---- */

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
bool alerts_entry_json(const struct settings *s, const struct entry *e, double wall, struct buf *b)
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
struct entry *alerts_find(struct alerts *a, const char *key)
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
    struct entry *e = alerts_find(a, buf_str(&k));
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
        (void)names_add(a->ix, a->n - 1); /* new key: alerts_find() just missed it */
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
    if (fired) {
        log_warn("alert firing", "alertname", alertname, key_label, key_value);
        audit_event(a->audit, "alert_fired", "alertname", alertname, "severity", severity,
                    key_label, key_value, NULL);
    }
    buf_free(&k);
}

/* Alerts resolved by one alerts_end, copied for logging (and the audit
 * log) after the lock. */
struct resolved_log {
    char **kv; /* alertname, severity, key label, key value per alert; owned */
    size_t n, cap;
};

/* Copy e's names (borrowed) into r. Caller holds the lock. */
static void resolved_add(struct resolved_log *r, const struct entry *e)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 8;
        r->kv = xrealloc(r->kv, 4 * r->cap * sizeof(char *));
    }
    r->kv[4 * r->n] = xstrdup(e->alertname);
    r->kv[4 * r->n + 1] = xstrdup(e->severity);
    r->kv[4 * r->n + 2] = xstrdup(e->klabel);
    r->kv[4 * r->n + 3] = xstrdup(e->kvalue);
    r->n++;
}

/* Log, audit and free what resolved_add collected. */
static void resolved_flush(struct alerts *a, struct resolved_log *r)
{
    for (size_t i = 0; i < r->n; i++) {
        char **kv = &r->kv[4 * i];
        log_info("alert resolved", "alertname", kv[0], kv[2], kv[3]);
        audit_event(a->audit, "alert_resolved", "alertname", kv[0], "severity", kv[1], kv[2], kv[3],
                    NULL);
        for (int k = 0; k < 4; k++)
            free(kv[k]);
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
    sender_wake_locked(a);
    pthread_mutex_unlock(&a->lock);
    resolved_flush(a, &res);
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

/* Copies made under the lock: the table's strings change with it. */
size_t alerts_firing_list(struct alerts *a, struct alerts_item **out)
{
    *out = NULL;
    pthread_mutex_lock(&a->lock);
    size_t n = 0;
    for (size_t i = 0; i < a->n; i++)
        n += a->e[i].resolved_at == 0 && a->e[i].starts_at >= 0;
    struct alerts_item *items = n ? xcalloc(n, sizeof(*items)) : NULL;
    const struct settings *s = a->settings;
    size_t k = 0;
    for (size_t i = 0; i < a->n && k < n; i++) {
        const struct entry *e = &a->e[i];
        if (e->resolved_at != 0 || e->starts_at < 0)
            continue;
        struct alerts_item *it = &items[k++];
        it->alertname = xstrdup(e->alertname);
        it->severity = xstrdup(e->severity);
        it->since = e->starts_at;
        it->n_labels = 1 + s->n_ext;
        it->labels = xcalloc(2 * it->n_labels, sizeof(char *));
        it->labels[0] = xstrdup(e->klabel);
        it->labels[1] = xstrdup(e->kvalue);
        for (size_t x = 0; x < s->n_ext; x++) {
            it->labels[2 + 2 * x] = xstrdup(s->ext[x].name);
            it->labels[3 + 2 * x] = xstrdup(s->ext[x].value);
        }
    }
    pthread_mutex_unlock(&a->lock);
    *out = items;
    return n;
}

/* Frees items and everything they hold; NULL is fine. */
void alerts_items_free(struct alerts_item *items, size_t n)
{
    for (size_t i = 0; items && i < n; i++) {
        free(items[i].alertname);
        free(items[i].severity);
        for (size_t k = 0; k < 2 * items[i].n_labels; k++)
            free(items[i].labels[k]);
        free(items[i].labels);
    }
    free(items);
}

/* Strings borrowed. */
bool alerts_is_firing(struct alerts *a, const char *alertname, const char *severity,
                      const char *key_label, const char *key_value)
{
    struct buf k;
    buf_init(&k, ALERTS_KEY_MAX);
    buf_addf(&k, "%s\x01%s\x01%s\x01%s", alertname, severity, key_label, key_value);
    bool firing = false;
    if (!k.failed) {
        pthread_mutex_lock(&a->lock);
        struct entry *e = alerts_find(a, buf_str(&k));
        firing = e && e->resolved_at == 0 && e->starts_at >= 0;
        pthread_mutex_unlock(&a->lock);
    }
    buf_free(&k);
    return firing;
}

/* audit borrowed. */
void alerts_set_audit(struct alerts *a, struct audit *audit)
{
    a->audit = audit;
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
    if (s->n_ams > 0)
        start_failed = !sender_start_locked(a);
    sender_wake_locked(a);
    pthread_mutex_unlock(&a->lock);
    alerts_settings_unref(old);
    if (start_failed)
        log_error("cannot start the alert sender thread");
    /* Still under config_lock: no later configure can free s meanwhile. */
    for (size_t i = 0; i < s->n_ams; i++)
        if (!s->ams[i].url)
            log_error("Alertmanager URL over the cap: sending to it will fail", "alertmanager",
                      s->ams[i].name, "cap", STR(ALERTS_URL_MAX));
    pthread_mutex_unlock(&a->config_lock);
}

/* Frees a and everything it owns; the clock stays the caller's. */
void alerts_free(struct alerts *a)
{
    if (!a)
        return;
    alerts_stop(a, 0);
    alerts_settings_unref(a->settings);
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
    struct settings *s = alerts_settings_ref(a->settings);
    pthread_mutex_unlock(&a->lock);
    for (size_t i = 0; i < s->n_ams && i < cap; i++) {
        out[i].name = xstrdup(s->ams[i].name);
        out[i].sent = atomic_load(&s->ams[i].ctr->sent);
        out[i].errors = atomic_load(&s->ams[i].ctr->errors);
    }
    size_t n = s->n_ams;
    alerts_settings_unref(s);
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
