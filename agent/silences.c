/*
 * silences.c - the silences module's table and settings: what callers want
 * (silences_want, silences_drop), the refcounted Alertmanager list
 * silences_configure builds and swaps in, the JSON of one silence, the
 * reading of Alertmanager's answers, and the counters.
 *
 * The thread that makes the Alertmanagers agree lives in
 * silences_sync.c; the two files share their internals through
 * silences_int.h, which also states the locking.
 */
#include "silences_int.h"
#include "alerts.h"
#include "clock.h"
#include "buf.h"
#include "log.h"
#include "names.h"

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- settings ---- */

struct sil_settings *sil_settings_ref(struct sil_settings *s)
{
    if (s)
        atomic_fetch_add(&s->refs, 1);
    return s;
}

/* Drop a reference to c; the last one frees it (NULL is a no-op). */
static void counter_unref(struct sil_counter *c)
{
    if (c && atomic_fetch_sub(&c->refs, 1) == 1)
        free(c);
}

void sil_settings_unref(struct sil_settings *s)
{
    if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    for (size_t i = 0; i < s->n_ams; i++) {
        free(s->ams[i].base);
        free(s->ams[i].name);
        counter_unref(s->ams[i].ctr);
    }
    free(s);
}

/*
 * New settings from spec (borrowed), one reference for the caller. The
 * URLs are the alert sender's: the configured base URL (path prefix kept,
 * trailing slashes already gone) with the API path appended. Each
 * Alertmanager takes over the counters of the one called the same in old
 * (borrowed, may be NULL), each old counter going to one new Alertmanager
 * only, as alerts.c does.
 */
static struct sil_settings *settings_build(const struct alerting_spec *spec,
                                           const struct sil_settings *old)
{
    struct sil_settings *s = xcalloc(1, sizeof(*s));
    atomic_init(&s->refs, 1);
    bool taken[CFG_MAX_ALERTMANAGERS] = {false};
    size_t n = spec ? spec->n_alertmanagers : 0;
    if (n > CFG_MAX_ALERTMANAGERS)
        n = CFG_MAX_ALERTMANAGERS; /* the config loader rejects more */
    for (size_t i = 0; i < n; i++) {
        struct sil_am *m = &s->ams[i];
        /* The longest URL made from it must fit: base, path, an ID. */
        if (strlen(spec->alertmanagers[i]) + 32 + SILENCES_ID_MAX < SILENCES_URL_MAX)
            m->base = xstrdup(spec->alertmanagers[i]);
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
            atomic_init(&m->ctr->created, 0);
            atomic_init(&m->ctr->expired, 0);
            atomic_init(&m->ctr->errors, 0);
            atomic_init(&m->ctr->refs, 1);
        }
    }
    s->n_ams = n;
    return s;
}

/* ---- the table ---- */

static const char *want_key(const void *owner, size_t i)
{
    const struct silences *s = owner;
    return s->w[i].key;
}

struct silences *silences_new(const struct clock *clock)
{
    struct silences *s = xcalloc(1, sizeof(*s));
    s->clock = clock;
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->config_lock, NULL);
    pthread_cond_init(&s->passed, NULL);
    s->ix = names_new(want_key, s);
    s->settings = settings_build(NULL, NULL);
    return s;
}

static void free_matchers(struct sil_matcher *m, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(m[i].name);
        free(m[i].value);
    }
    free(m);
}

/* Free what w owns (not w: it lives in the table's array). */
static void free_want(struct sil_want *w)
{
    free(w->key);
    free(w->comment);
    free(w->body);
    free_matchers(w->m, w->n);
    for (size_t i = 0; i < CFG_MAX_ALERTMANAGERS; i++)
        free(w->slot[i].id);
}

struct sil_want *sil_find(struct silences *s, const char *key)
{
    long i = names_find(s->ix, key);
    return i < 0 ? NULL : &s->w[i];
}

void sil_remove_locked(struct silences *s, size_t i)
{
    free_want(&s->w[i]);
    s->w[i] = s->w[--s->n];
    names_clear(s->ix);
    for (size_t k = 0; k < s->n; k++)
        (void)names_add(s->ix, k);
}

/* ---- JSON ---- */

/* The POST body of one silence, or NULL when over SILENCES_BODY_MAX.
 * Strings borrowed. Caller frees. */
static char *silence_body(const struct silence_matcher *m, size_t n, double starts, double ends,
                          const char *comment)
{
    struct buf b;
    buf_init(&b, SILENCES_BODY_MAX);
    buf_adds(&b, "{\"matchers\":[");
    for (size_t i = 0; i < n; i++) {
        buf_adds(&b, i ? ",{\"name\":" : "{\"name\":");
        buf_add_json_string(&b, m[i].name);
        buf_adds(&b, ",\"value\":");
        buf_add_json_string(&b, m[i].value);
        buf_adds(&b, m[i].is_regex ? ",\"isRegex\":true" : ",\"isRegex\":false");
        buf_adds(&b, ",\"isEqual\":true}");
    }
    char ts[48];
    alerts_rfc3339(starts, ts, sizeof(ts));
    buf_adds(&b, "],\"startsAt\":");
    buf_add_json_string(&b, ts);
    alerts_rfc3339(ends, ts, sizeof(ts));
    buf_adds(&b, ",\"endsAt\":");
    buf_add_json_string(&b, ts);
    buf_adds(&b, ",\"createdBy\":\"" SILENCES_CREATED_BY "\",\"comment\":");
    buf_add_json_string(&b, comment);
    buf_addc(&b, '}');
    char *out = b.failed ? NULL : buf_take(&b);
    buf_free(&b);
    return out;
}

bool sil_id_ok(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > SILENCES_ID_MAX)
        return false;
    /* It goes into a URL path: UUID characters only. */
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              c == '-'))
            return false;
    }
    return true;
}

/* Digits at *p, exactly n of them, as a number; false when not. */
static bool digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return true;
}

/* RFC 3339 as Alertmanager writes it ("2026-12-01T06:39:28.000Z", any
 * fraction, Z or an offset) to Unix seconds; false when malformed. */
bool sil_parse_time(const char *s, double *out)
{
    const char *p = s;
    int y, mo, d, h, mi, sec;
    if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
        !digits(&p, 2, &d))
        return false;
    if (*p != 'T' && *p != 't')
        return false;
    p++;
    if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi) || *p++ != ':' ||
        !digits(&p, 2, &sec))
        return false;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return false;
    double frac = 0, scale = 0.1;
    if (*p == '.') {
        if (p[1] < '0' || p[1] > '9')
            return false;
        for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
            frac += (*p - '0') * scale;
    }
    int off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1, oh, om;
        if (!digits(&p, 2, &oh) || *p++ != ':' || !digits(&p, 2, &om) || oh > 23 || om > 59)
            return false;
        off = sign * (oh * 3600 + om * 60);
    } else {
        return false;
    }
    if (*p)
        return false;
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = sec};
    *out = (double)timegm(&tm) - off + frac;
    return true;
}

void sil_list_free(struct sil_cand *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(c[i].id);
        free(c[i].comment);
        free_matchers(c[i].m, c[i].n);
    }
    free(c);
}

/* The string member k of object o, or NULL when absent or not a string. */
static const char *str_member(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* One silence of the list as a candidate for reuse: false when it is not
 * ours (createdBy), not active or pending, or not well formed. */
static bool cand_from(const json_t *o, struct sil_cand *c)
{
    const char *id = str_member(o, "id"), *by = str_member(o, "createdBy");
    const char *comment = str_member(o, "comment");
    const char *state = str_member(json_object_get(o, "status"), "state");
    const char *st = str_member(o, "startsAt"), *en = str_member(o, "endsAt");
    const json_t *ms = json_object_get(o, "matchers");
    if (!id || !by || !comment || !state || !st || !en || !json_is_array(ms))
        return false;
    bool pending = strcmp(state, "pending") == 0;
    if (strcmp(by, SILENCES_CREATED_BY) != 0 || (!pending && strcmp(state, "active") != 0))
        return false;
    size_t n = json_array_size(ms);
    if (!sil_id_ok(id) || n == 0 || n > SILENCES_MATCHERS_MAX || !sil_parse_time(st, &c->starts) ||
        !sil_parse_time(en, &c->ends))
        return false;
    c->m = xcalloc(n, sizeof(*c->m));
    for (size_t i = 0; i < n; i++) {
        const json_t *mo = json_array_get(ms, i);
        const char *name = str_member(mo, "name"), *value = str_member(mo, "value");
        const json_t *re = json_object_get(mo, "isRegex"), *eq = json_object_get(mo, "isEqual");
        /* isEqual came with Alertmanager 0.22; before, every matcher was =. */
        if (!name || !value || !json_is_boolean(re) || (eq && !json_is_boolean(eq))) {
            free_matchers(c->m, i);
            c->m = NULL;
            return false;
        }
        c->m[i].name = xstrdup(name);
        c->m[i].value = xstrdup(value);
        c->m[i].is_regex = json_is_true(re);
        c->m[i].is_equal = !eq || json_is_true(eq);
        c->n = i + 1;
    }
    c->id = xstrdup(id);
    c->comment = xstrdup(comment);
    c->pending = pending;
    return true;
}

enum op_rc sil_parse_list(const char *text, size_t len, struct sil_cand **out, size_t *n_out,
                          struct buf *err)
{
    json_error_t je;
    json_t *j = json_loadb(text, len, 0, &je);
    *out = NULL;
    *n_out = 0;
    if (!j) {
        buf_addf(err, "the list of silences is not JSON: %s (line %d, column %d)", je.text, je.line,
                 je.column);
        return OP_ERR_INVALID;
    }
    if (!json_is_array(j)) {
        buf_adds(err, "the list of silences is not a JSON array");
        json_decref(j);
        return OP_ERR_INVALID;
    }
    struct sil_cand *c = NULL;
    size_t n = 0, cap = 0;
    for (size_t i = 0; i < json_array_size(j); i++) {
        if (n == cap) {
            cap = cap ? 2 * cap : 8;
            c = xrealloc(c, cap * sizeof(*c));
        }
        memset(&c[n], 0, sizeof(c[n]));
        if (cand_from(json_array_get(j, i), &c[n]))
            n++;
    }
    json_decref(j);
    *out = c;
    *n_out = n;
    return OP_OK;
}

enum op_rc sil_parse_created(const char *text, size_t len, char **id, struct buf *err)
{
    json_error_t je;
    json_t *j = json_loadb(text, len, 0, &je);
    *id = NULL;
    if (!j) {
        buf_addf(err, "the answer is not JSON: %s", je.text);
        return OP_ERR_INVALID;
    }
    const char *v = str_member(j, "silenceID");
    if (v && sil_id_ok(v))
        *id = xstrdup(v);
    else
        buf_adds(err, "the answer has no valid silenceID");
    json_decref(j);
    return *id ? OP_OK : OP_ERR_INVALID;
}

/* Matchers are a set to Alertmanager: compare without order. */
static bool matchers_equal(const struct sil_matcher *a, size_t na, const struct sil_matcher *b,
                           size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++) {
        bool found = false;
        for (size_t k = 0; k < nb && !found; k++)
            found = b[k].is_equal && a[i].is_regex == b[k].is_regex &&
                    strcmp(a[i].name, b[k].name) == 0 && strcmp(a[i].value, b[k].value) == 0;
        if (!found)
            return false;
    }
    return true;
}

struct sil_cand *sil_match(const struct sil_want *w, struct sil_cand *c, size_t n, bool *same_times)
{
    for (size_t i = 0; i < n; i++) {
        if (c[i].taken || strcmp(c[i].comment, w->comment) != 0 ||
            !matchers_equal(w->m, w->n, c[i].m, c[i].n))
            continue;
        /* Alertmanager moves a start in the past to the creation time, so
         * only a pending silence still shows the start it was given. */
        *same_times = fabs(c[i].ends - w->ends) < 1.0 &&
                      (!c[i].pending || fabs(c[i].starts - w->starts) < 1.0);
        return &c[i];
    }
    return NULL;
}

/* ---- the caller's side ---- */

/* Why the want cannot be kept, or NULL. */
static const char *want_invalid(const char *key, const struct silence_matcher *m, size_t n,
                                double starts, double ends, const char *comment)
{
    if (!key || !comment)
        return "no key or comment";
    if (n == 0 || n > SILENCES_MATCHERS_MAX)
        return "between 1 and " STR(SILENCES_MATCHERS_MAX) " matchers are needed";
    for (size_t i = 0; i < n; i++)
        if (!m[i].name || !m[i].value || !m[i].name[0])
            return "a matcher without name or value";
    if (!isfinite(starts) || !isfinite(ends) || starts >= ends)
        return "the start is not before the end";
    return NULL;
}

/* Does w already hold exactly this want? */
static bool want_same(const struct sil_want *w, const struct silence_matcher *m, size_t n,
                      double starts, double ends, const char *comment)
{
    if (w->n != n || w->starts != starts || w->ends != ends || strcmp(w->comment, comment) != 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (strcmp(w->m[i].name, m[i].name) != 0 || strcmp(w->m[i].value, m[i].value) != 0 ||
            w->m[i].is_regex != m[i].is_regex)
            return false;
    return true;
}

void silences_want(struct silences *s, const char *key, const struct silence_matcher *m, size_t n,
                   double starts, double ends, const char *comment)
{
    const char *why = want_invalid(key, m, n, starts, ends, comment);
    if (why) {
        log_error("silence not kept", "key", key, "err", why);
        return;
    }
    if (ends <= clock_wall(s->clock)) {
        silences_drop(s, key); /* over already: Alertmanager has expired it */
        return;
    }
    /* Built outside the lock: it may be 64 KiB. */
    char *body = silence_body(m, n, starts, ends, comment);
    if (!body) {
        log_error("silence not kept: over the size cap", "key", key, "cap", STR(SILENCES_BODY_MAX));
        return;
    }
    pthread_mutex_lock(&s->lock);
    struct sil_want *w = sil_find(s, key);
    bool changed = !w || !want_same(w, m, n, starts, ends, comment);
    if (!w) {
        if (s->n == s->cap) {
            s->cap = s->cap ? 2 * s->cap : 8;
            s->w = xrealloc(s->w, s->cap * sizeof(*s->w));
        }
        w = &s->w[s->n];
        memset(w, 0, sizeof(*w));
        w->key = xstrdup(key);
        (void)names_add(s->ix, s->n++);
    }
    if (changed) {
        free(w->comment);
        free(w->body);
        free_matchers(w->m, w->n);
        w->m = xcalloc(n, sizeof(*w->m));
        for (size_t i = 0; i < n; i++) {
            w->m[i].name = xstrdup(m[i].name);
            w->m[i].value = xstrdup(m[i].value);
            w->m[i].is_regex = m[i].is_regex;
            w->m[i].is_equal = true;
        }
        w->n = n;
        w->starts = starts;
        w->ends = ends;
        w->comment = xstrdup(comment);
        w->body = body;
        body = NULL;
        w->version++;
        /* A new spec may be tried at once everywhere. */
        for (size_t i = 0; i < CFG_MAX_ALERTMANAGERS; i++)
            w->slot[i].next_try_ns = w->slot[i].backoff_ms = 0;
    }
    bool wake = changed || !w->wanted;
    w->wanted = true;
    if (wake)
        sil_wake_locked(s);
    pthread_mutex_unlock(&s->lock);
    free(body);
}

void silences_drop(struct silences *s, const char *key)
{
    if (!key)
        return;
    pthread_mutex_lock(&s->lock);
    struct sil_want *w = sil_find(s, key);
    if (w && w->wanted) {
        w->wanted = false;
        for (size_t i = 0; i < CFG_MAX_ALERTMANAGERS; i++)
            w->slot[i].next_try_ns = w->slot[i].backoff_ms = 0;
        sil_wake_locked(s);
    }
    pthread_mutex_unlock(&s->lock);
}

void silences_retire(struct silences *s, const char *key, const struct silence_matcher *m, size_t n,
                     double ends, const char *comment)
{
    const char *why = want_invalid(key, m, n, ends - 1, ends, comment);
    if (why) {
        log_error("silence not retired", "key", key, "err", why);
        return;
    }
    pthread_mutex_lock(&s->lock);
    if (sil_find(s, key)) {
        pthread_mutex_unlock(&s->lock);
        silences_drop(s, key);
        return;
    }
    if (ends <= clock_wall(s->clock) || s->settings->n_ams == 0) {
        pthread_mutex_unlock(&s->lock);
        return; /* such a silence has ended, or there is nowhere to look */
    }
    /* A dropped want that may have a silence in every Alertmanager: the
     * thread lists, takes the one sil_match finds and expires it, or
     * forgets the key when there is none. */
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 8;
        s->w = xrealloc(s->w, s->cap * sizeof(*s->w));
    }
    struct sil_want *w = &s->w[s->n];
    memset(w, 0, sizeof(*w));
    w->key = xstrdup(key);
    w->comment = xstrdup(comment);
    w->m = xcalloc(n, sizeof(*w->m));
    for (size_t i = 0; i < n; i++) {
        w->m[i].name = xstrdup(m[i].name);
        w->m[i].value = xstrdup(m[i].value);
        w->m[i].is_regex = m[i].is_regex;
        w->m[i].is_equal = true;
    }
    w->n = n;
    w->starts = ends - 1;
    w->ends = ends;
    w->version = 1;
    for (size_t i = 0; i < s->settings->n_ams; i++)
        w->slot[i].uncertain = true;
    (void)names_add(s->ix, s->n++);
    sil_wake_locked(s);
    pthread_mutex_unlock(&s->lock);
}

/*
 * Move each key's knowledge of an Alertmanager to that Alertmanager's
 * place in the new settings (matched by URL); an Alertmanager no longer
 * listed is forgotten. Requests in flight are given up by the thread, so
 * every slot without a silence may have one (a POST that was on its way):
 * the next list tells. Caller holds the lock.
 */
static void remap_locked(struct silences *s, const struct sil_settings *old,
                         const struct sil_settings *cur)
{
    long from[CFG_MAX_ALERTMANAGERS];
    for (size_t j = 0; j < cur->n_ams; j++) {
        from[j] = -1;
        for (size_t i = 0; i < old->n_ams && from[j] < 0; i++)
            if (old->ams[i].base && cur->ams[j].base &&
                strcmp(old->ams[i].base, cur->ams[j].base) == 0)
                from[j] = (long)i;
    }
    for (size_t k = 0; k < s->n; k++) {
        struct sil_want *w = &s->w[k];
        struct sil_slot slot[CFG_MAX_ALERTMANAGERS];
        memset(slot, 0, sizeof(slot));
        for (size_t j = 0; j < cur->n_ams; j++) {
            if (from[j] >= 0) {
                slot[j] = w->slot[from[j]];
                w->slot[from[j]].id = NULL;
            }
            slot[j].uncertain = !slot[j].id;
            slot[j].next_try_ns = slot[j].backoff_ms = 0;
        }
        for (size_t i = 0; i < CFG_MAX_ALERTMANAGERS; i++)
            free(w->slot[i].id);
        memcpy(w->slot, slot, sizeof(slot));
    }
}

void silences_configure(struct silences *s, const struct alerting_spec *spec)
{
    pthread_mutex_lock(&s->config_lock);
    struct sil_settings *old = s->settings;
    struct sil_settings *cur = settings_build(spec, old);
    bool start_failed = false;
    pthread_mutex_lock(&s->lock);
    remap_locked(s, old, cur);
    s->settings = cur;
    if (cur->n_ams > 0)
        start_failed = !sil_start_locked(s);
    sil_wake_locked(s);
    pthread_mutex_unlock(&s->lock);
    sil_settings_unref(old);
    if (start_failed)
        log_error("cannot start the silences thread");
    for (size_t i = 0; i < cur->n_ams; i++)
        if (!cur->ams[i].base)
            log_error("Alertmanager URL over the cap: silences in it will fail", "alertmanager",
                      cur->ams[i].name, "cap", STR(SILENCES_URL_MAX));
    pthread_mutex_unlock(&s->config_lock);
}

void silences_free(struct silences *s)
{
    if (!s)
        return;
    silences_stop(s, 0);
    sil_settings_unref(s->settings);
    for (size_t i = 0; i < s->n; i++)
        free_want(&s->w[i]);
    free(s->w);
    names_free(s->ix);
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->config_lock);
    pthread_cond_destroy(&s->passed);
    free(s);
}

size_t silences_stats(struct silences *s, struct silences_am_stat *out, size_t cap)
{
    pthread_mutex_lock(&s->lock);
    struct sil_settings *st = sil_settings_ref(s->settings);
    pthread_mutex_unlock(&s->lock);
    for (size_t i = 0; i < st->n_ams && i < cap; i++) {
        out[i].name = xstrdup(st->ams[i].name);
        out[i].created = atomic_load(&st->ams[i].ctr->created);
        out[i].expired = atomic_load(&st->ams[i].ctr->expired);
        out[i].errors = atomic_load(&st->ams[i].ctr->errors);
    }
    size_t n = st->n_ams;
    sil_settings_unref(st);
    return n;
}

void silences_stats_release(struct silences_am_stat *st, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(st[i].name);
        st[i].name = NULL;
    }
}
