/*
 * silences_sync.c - the silences module's thread: it makes every
 * Alertmanager hold what the table wants, through its own libcurl multi
 * handle (one request in flight per Alertmanager), with backoff, wake-ups
 * and the drain on stop.
 *
 * One pass looks at each idle Alertmanager and picks its next step: expire
 * a silence no longer wanted (or whose want changed), else, when a key
 * needs a silence there, read the list of silences once and then for each
 * such key reuse a silence of the list or POST a new one. The list is
 * dropped when no key needs it any more and after a POST fails (the POST
 * may have been made; the next list shows it), so it is read afresh before
 * every round of creates.
 */
#include "silences_int.h"
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

enum xop { XOP_LIST, XOP_CREATE, XOP_EXPIRE };

static const char *const op_name[] = {"list", "create", "expire"};

/* One request, being built and then in flight. */
struct xfer {
    enum xop op;
    size_t am;        /* index in the thread's settings */
    char *key;        /* create, expire */
    uint64_t version; /* create: the want's version the body is of */
    char *id;         /* expire */
    bool replace;     /* expire: the want changed, a new silence follows */
    char *url, *body;
    CURL *easy;
    struct curl_slist *hdr;
    bool added;        /* in the multi handle: counted in s->in_flight */
    struct buf answer; /* capped per op */
    char err[CURL_ERROR_SIZE];
};

/* The thread's own state for one Alertmanager of its settings. */
struct am_run {
    struct xfer *x; /* in flight, or NULL */
    struct sil_cand *list;
    size_t n_list;
    bool listed; /* list holds a fresh answer */
    int64_t list_next_ns, list_backoff_ms;
};

struct sync {
    struct silences *s;
    CURLM *multi;
    struct sil_settings *st; /* what run[] was made with; a reference */
    struct am_run run[CFG_MAX_ALERTMANAGERS];
};

/* A record to log once the lock is released. */
struct note {
    const char *msg;
    char *key, *id;
    size_t am;
};

struct notes {
    struct note *v;
    size_t n, cap;
};

/* Queue a record (strings copied). Caller holds the lock. */
static void note_add(struct notes *ns, const char *msg, const char *key, const char *id, size_t am)
{
    if (ns->n == ns->cap) {
        ns->cap = ns->cap ? 2 * ns->cap : 4;
        ns->v = xrealloc(ns->v, ns->cap * sizeof(*ns->v));
    }
    ns->v[ns->n++] = (struct note){msg, xstrdup(key), xstrdup(id), am};
}

/* Log and free the queued records. Caller does not hold the lock. */
static void notes_flush(struct notes *ns, const struct sil_settings *st)
{
    for (size_t i = 0; i < ns->n; i++) {
        struct note *n = &ns->v[i];
        log_info(n->msg, "alertmanager", st->ams[n->am].name, "key", n->key, "silence_id", n->id);
        free(n->key);
        free(n->id);
    }
    free(ns->v);
    *ns = (struct notes){0};
}

static void next_backoff(int64_t *backoff_ms, int64_t *next_ns, int64_t now)
{
    *backoff_ms = *backoff_ms ? 2 * *backoff_ms : SILENCES_INITIAL_BACKOFF_MS;
    if (*backoff_ms > SILENCES_MAX_BACKOFF_MS)
        *backoff_ms = SILENCES_MAX_BACKOFF_MS;
    *next_ns = now + *backoff_ms * NS_PER_MS;
}

static struct xfer *xfer_new(enum xop op, size_t am)
{
    struct xfer *x = xcalloc(1, sizeof(*x));
    x->op = op;
    x->am = am;
    buf_init(&x->answer, op == XOP_LIST ? SILENCES_LIST_MAX : SILENCES_ANSWER_MAX);
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
    buf_free(&x->answer);
    free(x->key);
    free(x->id);
    free(x->url);
    free(x->body);
    free(x);
}

static void drop_list(struct am_run *r)
{
    sil_list_free(r->list, r->n_list);
    r->list = NULL;
    r->n_list = 0;
    r->listed = false;
}

/* libcurl write callback: the answer, within its cap (over it, the
 * transfer fails with CURLE_WRITE_ERROR). */
static size_t keep(char *p, size_t size, size_t n, void *u)
{
    struct xfer *x = u;
    return buf_add(&x->answer, p, size * n) == OP_OK ? size * n : 0;
}

/* Is anything in flight for key? */
static bool busy_with(const struct sync *sd, const char *key)
{
    for (size_t i = 0; i < CFG_MAX_ALERTMANAGERS; i++)
        if (sd->run[i].x && sd->run[i].x->key && strcmp(sd->run[i].x->key, key) == 0)
            return true;
    return false;
}

/* Nothing left to do for a dropped key: no silence known or suspected. */
static bool settled(const struct sil_want *w)
{
    for (size_t i = 0; i < CFG_MAX_ALERTMANAGERS; i++)
        if (w->slot[i].id || w->slot[i].uncertain)
            return false;
    return true;
}

/* Book x's outcome: the table, counters, backoff, the list; log; free x.
 * x is out of the multi handle. */
static void complete(struct sync *sd, struct xfer *x, CURLcode rc, long status)
{
    struct silences *s = sd->s;
    struct am_run *r = &sd->run[x->am];
    const struct sil_am *m = &sd->st->ams[x->am];
    char err[CURL_ERROR_SIZE + 256] = "";
    struct buf why;
    buf_init(&why, 512);
    struct sil_cand *list = NULL;
    size_t n_list = 0;
    char *id = NULL;
    bool ok = rc == CURLE_OK && status >= 200 && status <= 299, gone = false;
    const char *answer = buf_str(&x->answer);
    if (rc == CURLE_WRITE_ERROR && x->answer.failed)
        snprintf(err, sizeof(err), "answer over the cap of %zu bytes", x->answer.max);
    else if (rc != CURLE_OK)
        snprintf(err, sizeof(err), "%s", x->err[0] ? x->err : curl_easy_strerror(rc));
    else if (x->op == XOP_EXPIRE && !ok && (status == 404 || strstr(answer, "not found")))
        gone = ok = true; /* expired and collected already (0.25 answers 500 "not found") */
    else if (!ok)
        snprintf(err, sizeof(err), "HTTP status %ld: %.200s", status, answer);
    else if (x->op == XOP_LIST &&
             sil_parse_list(answer, x->answer.len, &list, &n_list, &why) != OP_OK)
        ok = false;
    else if (x->op == XOP_CREATE && sil_parse_created(answer, x->answer.len, &id, &why) != OP_OK)
        ok = false;
    if (!ok && !err[0])
        snprintf(err, sizeof(err), "%s", buf_str_or(&why, "malformed answer"));
    buf_free(&why);

    pthread_mutex_lock(&s->lock);
    s->in_flight -= x->added;
    int64_t now = clock_mono_ns(s->clock);
    bool current = sd->st == s->settings, stopping = s->stopping;
    struct sil_want *w = x->key ? sil_find(s, x->key) : NULL;
    struct sil_slot *slot = w ? &w->slot[x->am] : NULL;
    if (!current) {
        /* The Alertmanagers changed meanwhile: the next list tells. */
    } else if (!ok) {
        atomic_fetch_add(&m->ctr->errors, 1);
        if (x->op == XOP_LIST) {
            next_backoff(&r->list_backoff_ms, &r->list_next_ns, now);
        } else if (slot) {
            next_backoff(&slot->backoff_ms, &slot->next_try_ns, now);
            slot->drained_out = stopping;
            slot->uncertain |= x->op == XOP_CREATE; /* it may have been made */
        }
    } else if (x->op == XOP_LIST) {
        r->list_backoff_ms = r->list_next_ns = 0;
    } else if (x->op == XOP_CREATE) {
        atomic_fetch_add(&m->ctr->created, 1);
        if (slot) {
            free(slot->id);
            slot->id = xstrdup(id);
            slot->id_version = w->version == x->version ? x->version : 0;
            slot->uncertain = false;
            slot->backoff_ms = slot->next_try_ns = 0;
        }
    } else {
        if (!gone)
            atomic_fetch_add(&m->ctr->expired, 1);
        if (slot && slot->id && strcmp(slot->id, x->id) == 0) {
            free(slot->id);
            slot->id = NULL;
            slot->backoff_ms = slot->next_try_ns = 0;
        }
    }
    pthread_mutex_unlock(&s->lock);

    const char *op = op_name[x->op];
    if (!current) {
        sil_list_free(list, n_list);
    } else if (!ok) {
        if (x->op == XOP_CREATE)
            drop_list(r);
        log_warn(stopping ? "silence request failed while stopping"
                          : "silence request failed, will retry",
                 "alertmanager", m->name, "op", op, "key", x->key, "err", err);
    } else if (x->op == XOP_LIST) {
        drop_list(r);
        r->list = list;
        r->n_list = n_list;
        r->listed = true;
    } else if (x->op == XOP_CREATE) {
        log_info("silence created", "alertmanager", m->name, "key", x->key, "silence_id", id);
    } else {
        log_info(gone ? "silence already gone" : "silence expired", "alertmanager", m->name, "key",
                 x->key, "silence_id", x->id, "reason", x->replace ? "changed" : "dropped");
    }
    free(id);
    r->x = NULL;
    xfer_free(x);
}

/* Take x out of the multi handle and free it. quick: do not wait for a
 * name resolution still running (only when stopping: it may leak it). */
static void xfer_abort(struct sync *sd, struct xfer *x, bool quick)
{
    if (x->easy) {
        if (quick)
            curl_easy_setopt(x->easy, CURLOPT_QUICK_EXIT, 1L);
        curl_multi_remove_handle(sd->multi, x->easy);
    }
    if (x->added) {
        pthread_mutex_lock(&sd->s->lock);
        sd->s->in_flight--;
        pthread_mutex_unlock(&sd->s->lock);
    }
    xfer_free(x);
}

/* Hand x to libcurl; a set-up failure completes it as failed at once. */
static void start(struct sync *sd, struct xfer *x)
{
    sd->run[x->am].x = x;
    if (!x->url) {
        snprintf(x->err, sizeof(x->err), "URL over the cap of %d bytes", SILENCES_URL_MAX);
        complete(sd, x, CURLE_URL_MALFORMAT, 0);
        return;
    }
    CURL *e = x->easy = curl_easy_init();
    bool ok = e != NULL;
    if (ok && x->op == XOP_CREATE) {
        x->hdr = curl_slist_append(NULL, "Content-Type: application/json");
        /* No "Expect: 100-continue" round trip for a body over 1 KiB. */
        struct curl_slist *h = x->hdr ? curl_slist_append(x->hdr, "Expect:") : NULL;
        ok = h != NULL;
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(x->body));
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->hdr);
    }
    if (ok) {
        if (x->op == XOP_EXPIRE)
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "DELETE");
        curl_easy_setopt(e, CURLOPT_URL, x->url);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)SILENCES_TIMEOUT_MS);
        curl_easy_setopt(e, CURLOPT_USERAGENT, "outpost/" OUTPOST_VERSION);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, keep);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->err);
        curl_easy_setopt(e, CURLOPT_PRIVATE, x);
        ok = x->added = curl_multi_add_handle(sd->multi, e) == CURLM_OK;
    }
    if (ok) {
        pthread_mutex_lock(&sd->s->lock);
        sd->s->in_flight++;
        pthread_mutex_unlock(&sd->s->lock);
    } else {
        snprintf(x->err, sizeof(x->err), "cannot set up a libcurl transfer");
        complete(sd, x, CURLE_FAILED_INIT, 0);
    }
}

/* Book every transfer libcurl has finished. */
static void reap(struct sync *sd)
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
        complete(sd, x, rc, status);
    }
}

/* Abort every transfer in flight and forget the lists read. */
static void abort_all(struct sync *sd, bool quick)
{
    for (size_t i = 0; i < CFG_MAX_ALERTMANAGERS; i++) {
        if (sd->run[i].x)
            xfer_abort(sd, sd->run[i].x, quick);
        drop_list(&sd->run[i]);
    }
    memset(sd->run, 0, sizeof(sd->run));
}

/* Take up the current settings if they changed (silences_configure moved
 * the table's slots already): give up what is in flight, outside the lock. */
static void pick_up_settings(struct sync *sd)
{
    struct silences *s = sd->s;
    pthread_mutex_lock(&s->lock);
    struct sil_settings *cur = s->settings;
    bool changed = cur != sd->st;
    if (changed)
        sil_settings_ref(cur);
    pthread_mutex_unlock(&s->lock);
    if (!changed)
        return;
    abort_all(sd, false);
    sil_settings_unref(sd->st);
    sd->st = cur;
}

/* The URL of an operation on Alertmanager m (id for an expiry), or NULL
 * when its URL is over the cap. Caller frees. */
static char *api_url(const struct sil_am *m, const char *id)
{
    if (!m->base)
        return NULL;
    struct buf u;
    buf_init(&u, SILENCES_URL_MAX);
    if (id)
        buf_addf(&u, "%s/api/v2/silence/%s", m->base, id);
    else
        buf_addf(&u, "%s/api/v2/silences", m->base);
    char *out = u.failed ? NULL : buf_take(&u);
    buf_free(&u);
    return out;
}

enum step { STEP_NONE, STEP_AGAIN, STEP_XFER };

/*
 * The next step for idle Alertmanager i: an expiry, the list, a reuse (no
 * request: STEP_AGAIN, look again), a create, or nothing due (*next
 * lowered to when something is). While stopping, only expiries of dropped
 * keys, each tried once more even in backoff. Caller holds the lock.
 */
static enum step choose(struct sync *sd, size_t i, int64_t now, bool stopping, int64_t *next,
                        struct xfer **out, struct notes *ns)
{
    struct silences *s = sd->s;
    struct am_run *r = &sd->run[i];
    struct sil_want *del = NULL, *look = NULL;
    bool need_list = false;
    for (size_t k = 0; k < s->n; k++) {
        struct sil_want *w = &s->w[k];
        struct sil_slot *sl = &w->slot[i];
        bool expire = sl->id && (!w->wanted || (!stopping && sl->id_version != w->version));
        bool lookup = !stopping && !sl->id && (w->wanted || sl->uncertain);
        if (!expire && !lookup)
            continue;
        need_list |= lookup;
        if (stopping ? sl->drained_out : now < sl->next_try_ns) {
            if (!stopping && sl->next_try_ns < *next)
                *next = sl->next_try_ns;
            continue;
        }
        if (expire && !del)
            del = w;
        if (lookup && !look)
            look = w;
    }
    struct xfer *x;
    if (del) {
        x = *out = xfer_new(XOP_EXPIRE, i);
        x->key = xstrdup(del->key);
        x->id = xstrdup(del->slot[i].id);
        x->replace = del->wanted;
        x->url = api_url(&sd->st->ams[i], x->id);
        return STEP_XFER;
    }
    if (!need_list)
        drop_list(r); /* read afresh before the next round of creates */
    if (!look)
        return STEP_NONE;
    if (!r->listed) {
        if (now < r->list_next_ns) {
            if (r->list_next_ns < *next)
                *next = r->list_next_ns;
            return STEP_NONE;
        }
        x = *out = xfer_new(XOP_LIST, i);
        x->url = api_url(&sd->st->ams[i], NULL);
        return STEP_XFER;
    }
    struct sil_slot *sl = &look->slot[i];
    bool same = false;
    struct sil_cand *c = sil_match(look, r->list, r->n_list, &same);
    sl->uncertain = false;
    if (c) {
        /* Different times: expired and made anew by the next steps. */
        c->taken = true;
        sl->id = xstrdup(c->id);
        sl->id_version = same ? look->version : 0;
        note_add(ns, "silence reused", look->key, c->id, i);
        return STEP_AGAIN;
    }
    if (!look->wanted)
        return STEP_AGAIN; /* dropped, and none was made after all */
    x = *out = xfer_new(XOP_CREATE, i);
    x->key = xstrdup(look->key);
    x->version = look->version;
    x->body = xstrdup(look->body);
    x->url = api_url(&sd->st->ams[i], NULL);
    return STEP_XFER;
}

/* Monotonic time at which wall time reaches t (INT64_MAX when far). */
static int64_t mono_at(int64_t now, double wall, double t)
{
    double d = (t - wall) * 1e9;
    if (d <= 0)
        return now;
    if (d >= (double)(INT64_MAX - now))
        return INT64_MAX;
    return now + (int64_t)d + 1;
}

/*
 * One look at the table: forget what is over, start a request for every
 * idle Alertmanager with a step due. Returns false when the thread is done
 * (stopping, and the drain deadline passed or no expiry is left); otherwise
 * sets *wait_ms to how long nothing is due (0 when requests just started).
 */
static bool pass(struct sync *sd, int *wait_ms)
{
    struct silences *s = sd->s;
    const struct sil_settings *st = sd->st;
    struct xfer *todo[CFG_MAX_ALERTMANAGERS] = {NULL};
    struct notes ns = {0};
    bool in_flight = false, started = false;
    int64_t next = INT64_MAX;

    pthread_mutex_lock(&s->lock);
    uint64_t serving = s->wakes_asked;
    int64_t now = clock_mono_ns(s->clock);
    double wall = clock_wall(s->clock);
    bool stopping = s->stopping;
    int64_t deadline = s->drain_until_ns;
    bool over = stopping && now >= deadline;
    /* Reconfigured since pick_up_settings: the slots are laid out for the
     * new Alertmanagers already, so look again once they are taken up. */
    bool stale = s->settings != st;
    /* Backwards: a removal moves the last entry, already seen, into k. */
    for (size_t k = s->n; k-- > 0;) {
        struct sil_want *w = &s->w[k];
        if (w->ends <= wall || (!w->wanted && settled(w) && !busy_with(sd, w->key))) {
            sil_remove_locked(s, k);
            continue;
        }
        int64_t at = mono_at(now, wall, w->ends);
        if (at < next)
            next = at;
    }
    for (size_t i = 0; i < st->n_ams && !over && !stale; i++) {
        if (sd->run[i].x) {
            in_flight = true; /* its answer brings the next pass */
            continue;
        }
        while (choose(sd, i, now, stopping, &next, &todo[i], &ns) == STEP_AGAIN)
            ;
    }
    pthread_mutex_unlock(&s->lock);

    notes_flush(&ns, st);
    for (size_t i = 0; i < st->n_ams; i++) {
        if (todo[i]) {
            start(sd, todo[i]);
            started = true;
        }
    }
    pthread_mutex_lock(&s->lock);
    s->wakes_done = serving;
    pthread_cond_broadcast(&s->passed);
    pthread_mutex_unlock(&s->lock);

    if (over || (stopping && !in_flight && !started))
        return false; /* drained, or out of time */
    if (started || stale) {
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

/* The thread (arg: the module, borrowed). It owns the multi handle and
 * every transfer, and publishes the handle only so that others can wake
 * it. */
static void *sync_main(void *arg)
{
    struct sync sd = {.s = arg};
    struct silences *s = sd.s;
    sd.multi = curl_multi_init();
    pthread_mutex_lock(&s->lock);
    s->multi = sd.multi;
    pthread_mutex_unlock(&s->lock);
    if (!sd.multi)
        log_error("cannot create a libcurl multi handle: silences will not be kept");
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
    if (sd.multi)
        abort_all(&sd, true); /* the drain deadline passed */
    pthread_mutex_lock(&s->lock);
    s->multi = NULL;
    s->running = false;
    pthread_cond_broadcast(&s->passed);
    pthread_mutex_unlock(&s->lock);
    if (sd.multi)
        curl_multi_cleanup(sd.multi);
    sil_settings_unref(sd.st);
    return NULL;
}

/* Caller holds the lock, which the new thread takes first. s->running is
 * set before the thread exists and cleared by the thread alone (or here
 * when it never starts). */
bool sil_start_locked(struct silences *s)
{
    if (s->joinable || s->stopping)
        return true;
    s->running = true;
    if (pthread_create(&s->thread, NULL, sync_main, s) == 0) {
        s->joinable = true;
        return true;
    }
    s->running = false;
    return false;
}

void sil_wake_locked(struct silences *s)
{
    if (s->multi)
        curl_multi_wakeup(s->multi);
}

/* Ask for a pass and wait for one that began after the ask. */
void silences_wake(struct silences *s)
{
    pthread_mutex_lock(&s->lock);
    uint64_t ticket = ++s->wakes_asked;
    sil_wake_locked(s);
    while (s->running && s->wakes_done < ticket)
        pthread_cond_wait(&s->passed, &s->lock);
    pthread_mutex_unlock(&s->lock);
}

void silences_stop(struct silences *s, int64_t drain_ms)
{
    pthread_mutex_lock(&s->lock);
    int64_t until = clock_mono_ns(s->clock) + (drain_ms > 0 ? drain_ms : 0) * NS_PER_MS;
    /* A second stop may shorten the drain, never lengthen it. */
    if (!s->stopping || until < s->drain_until_ns)
        s->drain_until_ns = until;
    s->stopping = true;
    sil_wake_locked(s);
    bool join = s->joinable;
    s->joinable = false;
    pthread_mutex_unlock(&s->lock);
    if (join)
        pthread_join(s->thread, NULL);
}
