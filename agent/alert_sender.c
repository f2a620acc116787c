/*
 * alert_sender.c - the alerts module's sender thread: the POSTs to every
 * Alertmanager through the thread's own libcurl multi handle, the
 * scheduling pass that decides what is due, the backoff, and the thread's
 * start, wake-ups and drain on stop.
 *
 * Split from alerts.c (the alert table and the settings) so that the one
 * file holding libcurl and the thread's life is read on its own; the two
 * share their internals through alerts_int.h, which states the locking.
 * The sender's per-Alertmanager state (transfers, backoff) lives here and
 * needs no lock.
 */
#include "alerts_int.h"
#include "clock.h"
#include "buf.h"
#include "log.h"

#include <curl/curl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INITIAL_BACKOFF_MS 1000

_Static_assert(ALERTS_ALERT_MAX + 2 < ALERTS_BODY_MAX, "any one alert fits an empty body");

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
        if (!alerts_entry_json(s, e, wall, &one)) {
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
            struct entry *e = alerts_find(a, x->items[k].key);
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
        alerts_settings_ref(cur);
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
    alerts_settings_unref(sd->s);
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
    alerts_settings_unref(sd.s);
    return NULL;
}

/* Caller holds the lock, which the new thread takes first: it runs only
 * once the caller has released it. a->running is set before the thread
 * exists and cleared by the thread alone (or here when it never starts). */
bool sender_start_locked(struct alerts *a)
{
    if (a->joinable || a->stopping)
        return true;
    a->running = true;
    if (pthread_create(&a->thread, NULL, sender_main, a) == 0) {
        a->joinable = true;
        return true;
    }
    a->running = false;
    return false;
}

/* Make the sender run a pass soon. Caller holds the lock. */
void sender_wake_locked(struct alerts *a)
{
    if (a->multi)
        curl_multi_wakeup(a->multi);
}

/* Ask for a pass and wait for one that began after the ask (its clock
 * readings are then at least as new as the caller's). */
void alerts_wake(struct alerts *a)
{
    pthread_mutex_lock(&a->lock);
    uint64_t ticket = ++a->wakes_asked;
    sender_wake_locked(a);
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
    sender_wake_locked(a);
    bool join = a->joinable;
    a->joinable = false;
    pthread_mutex_unlock(&a->lock);
    if (join)
        pthread_join(a->thread, NULL);
}
