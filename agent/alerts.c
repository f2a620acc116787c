/* alerts.c - alert table and Alertmanager sender thread. */
#include "alerts.h"
#include "clock.h"
#include "buf.h"
#include "log.h"
#include "names.h"

#include <curl/curl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A macro's value as a string literal, for log fields. */
#define STR_(x) #x
#define STR(x) STR_(x)

struct entry {
    char *key; /* identity: the label set */
    char *alertname, *severity, *klabel, *kvalue, *summary, *description;
    double starts_at;
    double resolved_at; /* 0 while firing */
    bool seen;          /* stated in the current evaluation */
    uint32_t dirty;     /* bit per Alertmanager: changed, send at once */
    double last_sent[CFG_MAX_ALERTMANAGERS];
};

struct am {
    char *url;  /* .../api/v2/alerts, may hold credentials */
    char *name; /* for the metric label */
    uint64_t sent, errors;
    double next_try;
    int64_t backoff_ms;
    CURL *easy; /* sender thread only */
};

struct alerts {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_cond_t idle; /* signalled when a POST in flight is done */
    bool busy;           /* the sender is posting without the lock */
    bool thread_started, stopping;
    double drain_until;
    pthread_t thread;
    /* settings */
    struct am ams[CFG_MAX_ALERTMANAGERS];
    size_t n_ams;
    double resend_s, eval_s;
    struct header_kv *ext;
    size_t n_ext;
    char *runbook_base, *generator_url;
    /* table */
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

struct alerts *alerts_new(void)
{
    struct alerts *a = xcalloc(1, sizeof(*a));
    /* The map reaches entries through a, so a->e may move (realloc). */
    a->ix = names_new(entry_key, a);
    pthread_mutex_init(&a->lock, NULL);
    pthread_cond_init(&a->wake, NULL);
    pthread_cond_init(&a->idle, NULL);
    a->resend_s = 60;
    a->eval_s = 10;
    return a;
}

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

static void clear_settings(struct alerts *a)
{
    for (size_t i = 0; i < a->n_ams; i++) {
        free(a->ams[i].url);
        free(a->ams[i].name);
        if (a->ams[i].easy)
            curl_easy_cleanup(a->ams[i].easy);
    }
    memset(a->ams, 0, sizeof(a->ams));
    a->n_ams = 0;
    for (size_t i = 0; i < a->n_ext; i++) {
        free(a->ext[i].name);
        free(a->ext[i].value);
    }
    free(a->ext);
    a->ext = NULL;
    a->n_ext = 0;
    free(a->runbook_base);
    free(a->generator_url);
    a->runbook_base = a->generator_url = NULL;
}

/* ---- JSON ---- */

static void json_kv(struct buf *b, bool *first, const char *k, const char *v)
{
    if (!*first)
        buf_addc(b, ',');
    *first = false;
    buf_add_json_string(b, k);
    buf_addc(b, ':');
    buf_add_json_string(b, v);
}

static void lowercase(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

_Static_assert(ALERTS_ALERT_MAX + 2 < ALERTS_BODY_MAX, "any one alert fits an empty body");

/* One alert as Alertmanager API v2 takes it, appended to b (capped by the
 * caller). False when b or the runbook URL went over its cap: b is then
 * unusable. Caller holds the lock. */
static bool alert_json(const struct alerts *a, const struct entry *e, double now, struct buf *b)
{
    bool first = true;
    buf_adds(b, "{\"labels\":{");
    json_kv(b, &first, "alertname", e->alertname);
    json_kv(b, &first, "severity", e->severity);
    json_kv(b, &first, e->klabel, e->kvalue);
    for (size_t i = 0; i < a->n_ext; i++)
        json_kv(b, &first, a->ext[i].name, a->ext[i].value);
    buf_adds(b, "},\"annotations\":{");
    first = true;
    json_kv(b, &first, "summary", e->summary);
    json_kv(b, &first, "description", e->description);
    bool url_ok = true;
    if (a->runbook_base) {
        /* The anchor is the lowercased alert name (a Markdown heading). */
        struct buf u;
        buf_init(&u, ALERTS_ALERT_MAX);
        buf_adds(&u, a->runbook_base);
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
    double ends = e->resolved_at > 0 ? e->resolved_at : now + 4 * fmax(a->eval_s, a->resend_s);
    alerts_rfc3339(ends, ts, sizeof(ts));
    buf_adds(b, ",\"endsAt\":");
    buf_add_json_string(b, ts);
    if (a->generator_url) {
        buf_adds(b, ",\"generatorURL\":");
        buf_add_json_string(b, a->generator_url);
    }
    buf_addc(b, '}');
    return url_ok && !b->failed;
}

/* ---- evaluation ---- */

/* Re-index every entry after entries moved. O(n). */
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

void alerts_begin(struct alerts *a)
{
    pthread_mutex_lock(&a->lock);
    for (size_t i = 0; i < a->n; i++)
        a->e[i].seen = false;
    pthread_mutex_unlock(&a->lock);
}

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
        for (size_t i = 0; i < a->n_ams; i++)
            a->ams[i].errors++;
        pthread_mutex_unlock(&a->lock);
        log_error("alert not sent: its identity is over the cap", "alertname", alertname, "label",
                  key_label, "cap", STR(ALERTS_KEY_MAX));
        buf_free(&k);
        return;
    }
    bool fired = false; /* logged once the lock is released */
    pthread_mutex_lock(&a->lock);
    struct entry *e = find(a, buf_str(&k));
    uint32_t all = (uint32_t)((1ull << a->n_ams) - 1);
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
        e->dirty = all;
        (void)names_add(a->ix, a->n - 1); /* new key: find() just missed it */
        fired = true;
    } else {
        if (e->resolved_at > 0) {
            /* It fires again: a new episode with its own startsAt. */
            e->resolved_at = 0;
            e->starts_at = -1;
            e->dirty = all;
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
    char **kv; /* alertname, key label, key value per alert; caller frees */
    size_t n, cap;
};

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

void alerts_end(struct alerts *a, double now)
{
    struct resolved_log res = {0};
    pthread_mutex_lock(&a->lock);
    uint32_t all = (uint32_t)((1ull << a->n_ams) - 1);
    size_t w = 0;
    for (size_t i = 0; i < a->n; i++) {
        struct entry *e = &a->e[i];
        if (e->seen && e->starts_at < 0)
            e->starts_at = now;
        if (!e->seen && e->resolved_at == 0) {
            e->resolved_at = now;
            e->dirty = all;
            resolved_add(&res, e);
        }
        /* Resolved alerts are re-sent for 15 minutes, then forgotten. */
        if (e->resolved_at > 0 && now - e->resolved_at > ALERTS_RESOLVED_RESEND_S) {
            free_entry(e);
            continue;
        }
        a->e[w++] = *e;
    }
    bool moved = w != a->n;
    a->n = w;
    if (moved)
        index_rebuild(a);
    pthread_cond_signal(&a->wake);
    pthread_mutex_unlock(&a->lock);
    resolved_flush(&res);
}

size_t alerts_firing(struct alerts *a)
{
    pthread_mutex_lock(&a->lock);
    size_t n = 0;
    for (size_t i = 0; i < a->n; i++)
        n += a->e[i].resolved_at == 0 && a->e[i].starts_at >= 0;
    pthread_mutex_unlock(&a->lock);
    return n;
}

/* ---- sending ---- */

static size_t discard(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (void)u;
    return s * n;
}

/* POST body to am; true on 2xx. Runs without the lock. */
static bool post(struct am *m, const char *body, size_t len, long timeout_ms, char *err,
                 size_t errcap)
{
    if (!m->url) {
        snprintf(err, errcap, "URL over the cap of " STR(ALERTS_URL_MAX) " bytes");
        return false;
    }
    if (!m->easy)
        m->easy = curl_easy_init();
    CURL *e = m->easy;
    if (!e) {
        snprintf(err, errcap, "cannot create a curl handle");
        return false;
    }
    curl_easy_reset(e);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    /* Bodies over 1 MiB would wait for "100 Continue" first: a round trip
     * for nothing, or a second lost to a server that never sends it. */
    h = curl_slist_append(h, "Expect:");
    char ebuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(e, CURLOPT_URL, m->url);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "outpost/" OUTPOST_VERSION);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, ebuf);
    CURLcode rc = curl_easy_perform(e);
    long status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    if (rc != CURLE_OK) {
        snprintf(err, errcap, "%s", ebuf[0] ? ebuf : curl_easy_strerror(rc));
        return false;
    }
    if (status < 200 || status > 299) {
        snprintf(err, errcap, "HTTP status %ld", status);
        return false;
    }
    return true;
}

/* What collect() left out because it was over a cap. */
struct rejected {
    size_t n;
    char *alertname; /* the first one, for the log; caller frees */
};

/*
 * Collect the alerts due for Alertmanager i into body (capped at
 * ALERTS_BODY_MAX): at most ALERTS_BATCH, and the batch ends before an alert
 * that would not fit (it goes in the next one). An alert whose JSON is over
 * ALERTS_ALERT_MAX is counted as an error and treated as sent, so it is
 * tried again at the next resend instead of at once, forever. Keys copied
 * into *keys (caller frees each and the array). Caller holds the lock.
 */
static size_t collect(struct alerts *a, size_t i, double now, bool only_dirty, struct buf *body,
                      char ***keys, struct rejected *rej)
{
    size_t n = 0;
    struct buf one;
    buf_init(&one, ALERTS_ALERT_MAX);
    *keys = xcalloc(ALERTS_BATCH, sizeof(char *));
    buf_addc(body, '[');
    for (size_t k = 0; k < a->n && n < ALERTS_BATCH; k++) {
        struct entry *e = &a->e[k];
        if (e->starts_at < 0)
            continue; /* stated but not yet committed by alerts_end */
        bool dirty = e->dirty & (1u << i);
        bool due = dirty || (!only_dirty && now - e->last_sent[i] >= a->resend_s);
        if (!due)
            continue;
        buf_reset(&one);
        if (!alert_json(a, e, now, &one)) {
            a->ams[i].errors++;
            e->dirty &= ~(1u << i);
            e->last_sent[i] = now;
            if (!rej->n++)
                rej->alertname = xstrdup(e->alertname);
            continue;
        }
        /* Room for the comma and the closing bracket. */
        if (body->len + 1 + one.len + 1 > ALERTS_BODY_MAX)
            break;
        if (n)
            buf_addc(body, ',');
        buf_add(body, one.data, one.len);
        (*keys)[n++] = xstrdup(e->key);
    }
    buf_addc(body, ']');
    buf_free(&one);
    return n;
}

static void *sender_main(void *arg)
{
    struct alerts *a = arg;
    pthread_mutex_lock(&a->lock);
    for (;;) {
        double now = now_wall();
        bool stopping = a->stopping;
        if (stopping && now >= a->drain_until)
            break;
        bool sent_any = false;
        for (size_t i = 0; i < a->n_ams; i++) {
            struct am *m = &a->ams[i];
            if (now < m->next_try && !stopping)
                continue;
            struct buf body;
            buf_init(&body, ALERTS_BODY_MAX);
            char **keys;
            struct rejected rej = {0};
            size_t n = collect(a, i, now, stopping, &body, &keys, &rej);
            if (rej.n) {
                char count[32];
                snprintf(count, sizeof(count), "%zu", rej.n);
                /* busy keeps m in place while unlocked (see below). */
                a->busy = true;
                pthread_mutex_unlock(&a->lock);
                log_error("alerts not sent: over the size cap", "alertmanager", m->name, "alerts",
                          count, "alertname", rej.alertname, "cap", STR(ALERTS_ALERT_MAX));
                free(rej.alertname);
                pthread_mutex_lock(&a->lock);
                a->busy = false;
                pthread_cond_broadcast(&a->idle);
            }
            if (n == 0) {
                buf_free(&body);
                free(keys);
                continue;
            }
            long timeout = ALERTS_TIMEOUT_MS;
            if (stopping) {
                long left = (long)((a->drain_until - now) * 1000);
                timeout = left < 1 ? 1 : left < timeout ? left : timeout;
            }
            char err[CURL_ERROR_SIZE + 64] = "";
            /* configure() replaces the Alertmanager list only while this
             * thread is not busy, so m stays valid during the POST. */
            a->busy = true;
            pthread_mutex_unlock(&a->lock);
            bool ok = post(m, buf_str(&body), body.len, timeout, err, sizeof(err));
            pthread_mutex_lock(&a->lock);
            a->busy = false;
            pthread_cond_broadcast(&a->idle);
            now = now_wall();
            if (ok) {
                m->sent += n;
                m->backoff_ms = 0;
                m->next_try = 0;
                for (size_t k = 0; k < n; k++) {
                    struct entry *e = find(a, keys[k]);
                    if (e) {
                        e->dirty &= ~(1u << i);
                        e->last_sent[i] = now;
                    }
                }
                sent_any = true;
            } else {
                m->errors += n;
                m->backoff_ms = m->backoff_ms ? m->backoff_ms * 2 : 1000;
                if (m->backoff_ms > ALERTS_MAX_BACKOFF_MS)
                    m->backoff_ms = ALERTS_MAX_BACKOFF_MS;
                m->next_try = now + (double)m->backoff_ms / 1000.0;
                a->busy = true;
                pthread_mutex_unlock(&a->lock);
                log_warn("sending alerts failed, will retry", "alertmanager", m->name, "err", err);
                pthread_mutex_lock(&a->lock);
                a->busy = false;
                pthread_cond_broadcast(&a->idle);
            }
            for (size_t k = 0; k < n; k++)
                free(keys[k]);
            free(keys);
            buf_free(&body);
        }
        if (stopping && !sent_any)
            break; /* drained (or nothing left that can be sent) */
        if (sent_any)
            continue; /* there may be more batches */
        /* Sleep until the next resend or retry is possible, or a wake-up. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&a->wake, &a->lock, &ts);
    }
    pthread_mutex_unlock(&a->lock);
    return NULL;
}

void alerts_configure(struct alerts *a, const struct alerting_spec *spec)
{
    pthread_mutex_lock(&a->lock);
    while (a->busy)
        pthread_cond_wait(&a->idle, &a->lock);
    /* Counters follow an Alertmanager across reloads (no resets): keep the
     * old names (whole, however long) until the new list is matched. */
    struct {
        char *name;
        uint64_t sent, errors;
    } old[CFG_MAX_ALERTMANAGERS];
    size_t n_old = a->n_ams;
    for (size_t i = 0; i < n_old; i++) {
        old[i].name = a->ams[i].name;
        a->ams[i].name = NULL;
        old[i].sent = a->ams[i].sent;
        old[i].errors = a->ams[i].errors;
    }
    clear_settings(a);
    for (size_t i = 0; i < spec->n_alertmanagers; i++) {
        struct buf u;
        buf_init(&u, ALERTS_URL_MAX);
        buf_addf(&u, "%s/api/v2/alerts", spec->alertmanagers[i]);
        /* Over the cap: no URL, so every POST fails and is counted. */
        a->ams[i].url = u.failed ? NULL : buf_take(&u);
        buf_free(&u);
        a->ams[i].name = xstrdup(spec->alertmanager_names[i]);
        for (size_t k = 0; k < n_old; k++) {
            if (strcmp(old[k].name, a->ams[i].name) == 0) {
                a->ams[i].sent = old[k].sent;
                a->ams[i].errors = old[k].errors;
            }
        }
    }
    for (size_t k = 0; k < n_old; k++)
        free(old[k].name);
    a->n_ams = spec->n_alertmanagers;
    a->resend_s = (double)spec->resend_interval_ms / 1000.0;
    a->eval_s = (double)spec->evaluation_interval_ms / 1000.0;
    a->ext = xcalloc(spec->n_external_labels + 1, sizeof(*a->ext));
    for (size_t i = 0; i < spec->n_external_labels; i++) {
        a->ext[i].name = xstrdup(spec->external_labels[i].name);
        a->ext[i].value = xstrdup(spec->external_labels[i].value);
    }
    a->n_ext = spec->n_external_labels;
    a->runbook_base = spec->runbook_url_base ? xstrdup(spec->runbook_url_base) : NULL;
    a->generator_url = spec->generator_url ? xstrdup(spec->generator_url) : NULL;
    uint32_t all = (uint32_t)((1ull << a->n_ams) - 1);
    for (size_t i = 0; i < a->n; i++) {
        a->e[i].dirty = all;
        memset(a->e[i].last_sent, 0, sizeof(a->e[i].last_sent));
    }
    bool start = a->n_ams > 0 && !a->thread_started, start_failed = false;
    if (start) {
        if (pthread_create(&a->thread, NULL, sender_main, a) == 0)
            a->thread_started = true;
        else
            start_failed = true;
    }
    pthread_cond_signal(&a->wake);
    pthread_mutex_unlock(&a->lock);
    if (start_failed)
        log_error("cannot start the alert sender thread");
}

void alerts_stop(struct alerts *a, int64_t drain_ms)
{
    pthread_mutex_lock(&a->lock);
    a->stopping = true;
    a->drain_until = now_wall() + (double)drain_ms / 1000.0;
    pthread_cond_signal(&a->wake);
    bool started = a->thread_started;
    a->thread_started = false;
    pthread_mutex_unlock(&a->lock);
    if (started)
        pthread_join(a->thread, NULL);
}

void alerts_free(struct alerts *a)
{
    if (!a)
        return;
    alerts_stop(a, 0);
    clear_settings(a);
    for (size_t i = 0; i < a->n; i++)
        free_entry(&a->e[i]);
    free(a->e);
    names_free(a->ix);
    pthread_mutex_destroy(&a->lock);
    pthread_cond_destroy(&a->wake);
    pthread_cond_destroy(&a->idle);
    free(a);
}

size_t alerts_stats(struct alerts *a, struct alerts_am_stat *out, size_t cap)
{
    pthread_mutex_lock(&a->lock);
    for (size_t i = 0; i < a->n_ams && i < cap; i++) {
        out[i].name = xstrdup(a->ams[i].name);
        out[i].sent = a->ams[i].sent;
        out[i].errors = a->ams[i].errors;
    }
    size_t n = a->n_ams;
    pthread_mutex_unlock(&a->lock);
    return n;
}

void alerts_stats_release(struct alerts_am_stat *st, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(st[i].name);
        st[i].name = NULL;
    }
}
