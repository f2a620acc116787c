/* maint.c - maintenance windows: evaluation, coverage, holding, silences (maint.h). */
#include "maint_int.h"
#include "audit.h"
#include "cron.h"
#include "gen.h"
#include "log.h"
#include "silences.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- schedules ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* The first cron start after t (ms), in ms; INT64_MAX when none. Starts
 * are whole seconds: s * 1000 > t exactly when s > floor(t / 1000). */
static int64_t cron_after(const struct maint_sched *s, int64_t t)
{
    int64_t next = cron_next(s->cron, s->tz, floor_div(t, 1000));
    return next == INT64_MAX || next > INT64_MAX / 1000 ? INT64_MAX : next * 1000;
}

bool maint_sched_active(const struct maint_sched *s, int64_t t, int64_t *start, int64_t *end)
{
    int64_t st = s->cron ? cron_after(s, t - s->duration_ms) : s->start_ms;
    if (st == INT64_MAX || st > t || t >= st + s->duration_ms)
        return false;
    *start = st;
    *end = st + s->duration_ms;
    return true;
}

int64_t maint_sched_next_start(const struct maint_sched *s, int64_t t)
{
    if (s->cron)
        return cron_after(s, t);
    return s->start_ms > t ? s->start_ms : INT64_MAX;
}

int64_t maint_sched_next_change(const struct maint_sched *s, int64_t t)
{
    int64_t start = maint_sched_next_start(s, t), end;
    if (s->cron) {
        /* The earliest end after t belongs to the earliest start after
         * t - duration (windows may overlap when duration is long). */
        int64_t st = cron_after(s, t - s->duration_ms);
        end = st == INT64_MAX ? INT64_MAX : st + s->duration_ms;
    } else {
        end = s->start_ms + s->duration_ms > t ? s->start_ms + s->duration_ms : INT64_MAX;
    }
    return start < end ? start : end;
}

/* ---- coverage ---- */

void maint_cover(const struct cfg *cfg, char *const *checks, size_t n_checks, char *const *slos,
                 size_t n_slos, const struct maint_cover *out)
{
    size_t nc = cfg_check_count(cfg), ns = cfg_slo_count(cfg);
    if (!n_checks && !n_slos) {
        for (size_t c = 0; c < nc; c++) {
            if (out->held_check)
                out->held_check[c] = true;
        }
        for (size_t s = 0; s < ns; s++) {
            if (out->held_slo)
                out->held_slo[s] = true;
            if (out->excl_slo)
                out->excl_slo[s] = true;
        }
        return;
    }
    if (n_slos) {
        for (size_t k = 0; k < n_slos; k++) {
            long s = cfg_find_slo(cfg, slos[k]);
            if (s < 0)
                continue;
            if (out->held_slo)
                out->held_slo[s] = true;
            if (out->excl_slo)
                out->excl_slo[s] = true;
            const struct slo_spec *sp = cfg_slo(cfg, (size_t)s);
            for (size_t j = 0; out->held_check && j < sp->n_checks; j++)
                out->held_check[sp->check_idx[j]] = true;
        }
        return;
    }
    bool *listed = xcalloc(nc ? nc : 1, sizeof(bool));
    for (size_t k = 0; k < n_checks; k++) {
        long c = cfg_find_check(cfg, checks[k]);
        if (c < 0)
            continue;
        listed[c] = true;
        if (out->held_check)
            out->held_check[c] = true;
        if (out->excl_check)
            out->excl_check[c] = true;
    }
    /* An SLO is held only when none of its checks still speaks. */
    for (size_t s = 0; out->held_slo && s < ns; s++) {
        const struct slo_spec *sp = cfg_slo(cfg, s);
        bool all = sp->n_checks > 0;
        for (size_t j = 0; j < sp->n_checks && all; j++)
            all = listed[sp->check_idx[j]];
        if (all)
            out->held_slo[s] = true;
    }
    free(listed);
}

/* ---- windows ---- */

void maint_window_free(struct window *w)
{
    free(w->name);
    if (w->adhoc) {
        for (size_t k = 0; k < w->n_checks; k++)
            free(w->checks[k]);
        for (size_t k = 0; k < w->n_slos; k++)
            free(w->slos[k]);
        free(w->checks);
        free(w->slos);
    }
}

/* A configured window's run-time record (names borrowed from spec). */
static struct window conf_window(const struct maint_spec *sp)
{
    return (struct window){
        .name = xstrdup(sp->name),
        .sched = sp->sched,
        .spec = sp,
        .checks = sp->checks,
        .n_checks = sp->n_checks,
        .slos = sp->slos,
        .n_slos = sp->n_slos,
        .exclude = sp->exclude_from_slos,
        .silence = sp->alertmanager_silence,
    };
}

struct window *maint_find_locked(struct maint *m, const char *name, bool *adhoc)
{
    for (size_t i = 0; i < m->n_conf; i++)
        if (strcmp(m->conf[i].name, name) == 0) {
            *adhoc = false;
            return &m->conf[i];
        }
    for (size_t i = 0; i < m->n_adhoc; i++)
        if (strcmp(m->adhoc[i].name, name) == 0) {
            *adhoc = true;
            return &m->adhoc[i];
        }
    return NULL;
}

void maint_fmt_time(int64_t ms, char *out, size_t cap)
{
    time_t t = (time_t)floor_div(ms, 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    size_t n = strftime(out, cap, "%Y-%m-%dT%H:%M:%S", &tm);
    int64_t frac = ms - (int64_t)t * 1000;
    if (frac)
        snprintf(out + n, cap - n, ".%03dZ", (int)frac);
    else
        snprintf(out + n, cap - n, "Z");
}

/* ---- silences ---- */

/* names as one regular expression of Alertmanager's (RE2, which anchors
 * it itself): the names' metacharacters escaped, joined by '|'. */
static void add_alternation(struct buf *b, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            buf_addc(b, '|');
        for (const char *p = names[i]; *p; p++) {
            if (strchr("\\.+*?()|[]{}^$", *p))
                buf_addc(b, '\\');
            buf_addc(b, *p);
        }
    }
}

const char *const maint_kind_label[2] = {"check", "slo"};

void maint_silence_comment(const char *window, int64_t start_ms, char *out, size_t cap)
{
    char start[40];
    maint_fmt_time(start_ms, start, sizeof(start));
    snprintf(out, cap, "outpost maintenance window %s starting %s", window, start);
}

void maint_silence_values(struct maint *m, const struct window *w, struct buf re[2])
{
    if (!m->gen)
        return;
    const struct cfg *cfg = gen_cfg(m->gen);
    size_t nc = cfg_check_count(cfg), ns = cfg_slo_count(cfg);
    bool *hc = xcalloc(nc + 1, sizeof(bool)), *hs = xcalloc(ns + 1, sizeof(bool));
    maint_cover(cfg, w->checks, w->n_checks, w->slos, w->n_slos,
                &(struct maint_cover){.held_check = hc, .held_slo = hs});
    for (int kind = 0; kind < 2; kind++) {
        size_t n = kind ? ns : nc, k = 0;
        const char **names = xcalloc(n + 1, sizeof(char *));
        for (size_t i = 0; i < n; i++)
            if (kind ? hs[i] : hc[i])
                names[k++] = kind ? cfg_slo(cfg, i)->name : cfg_check(cfg, i)->name;
        add_alternation(&re[kind], names, k);
        free(names);
    }
    free(hc);
    free(hs);
}

/* One silence per kind of subject the window covers ("<window>/check",
 * "<window>/slo"), over its occurrence; a kind it no longer covers (after
 * a reload) is dropped. */
static void want_silences(struct maint *m, const struct window *w)
{
    if (!m->gen)
        return;
    char comment[MAINT_COMMENT_BYTES];
    maint_silence_comment(w->name, w->cur_start, comment, sizeof(comment));
    struct buf re[2];
    for (int kind = 0; kind < 2; kind++)
        buf_init(&re[kind], MAINT_MAX_MATCHER_BYTES);
    maint_silence_values(m, w, re);
    for (int kind = 0; kind < 2; kind++) {
        char key[CFG_MAX_NAME_BYTES + 8];
        snprintf(key, sizeof(key), "%s/%s", w->name, maint_kind_label[kind]);
        if (!re[kind].len && !re[kind].failed) {
            silences_drop(m->silences, key);
        } else if (re[kind].failed) {
            log_error("maintenance window covers too many names for one silence; none made",
                      "window", w->name, "label", maint_kind_label[kind]);
        } else {
            struct silence_matcher sm = {maint_kind_label[kind], buf_str(&re[kind]), true};
            silences_want(m->silences, key, &sm, 1, (double)w->cur_start / 1000.0,
                          (double)w->cur_end / 1000.0, comment);
        }
        buf_free(&re[kind]);
    }
    /* maintenance.json keeps what is wanted, for a restart to retire what
     * it no longer wants. */
    m->save_needed = true;
}

/* At the agent's start: expire the silences saved before the restart that
 * the windows do not want now (the configuration changed meanwhile: a
 * window covers other names, or fewer kinds, or asks for no silence, or is
 * gone). Each is looked for exactly by its comment and matcher, so another
 * agent's silence of the same window is left alone. */
static void retire_previous(struct maint *m)
{
    for (size_t i = 0; i < m->n_prev; i++) {
        const struct prev_silence *p = &m->prev[i];
        bool adhoc;
        const struct window *w = maint_find_locked(m, p->window, &adhoc);
        bool same = false;
        if (w && w->active && w->silence && w->cur_start == p->start_ms) {
            struct buf re[2];
            for (int kind = 0; kind < 2; kind++)
                buf_init(&re[kind], MAINT_MAX_MATCHER_BYTES);
            maint_silence_values(m, w, re);
            same = !re[p->kind].failed && strcmp(buf_str(&re[p->kind]), p->value) == 0;
            for (int kind = 0; kind < 2; kind++)
                buf_free(&re[kind]);
        }
        if (same || !m->silences)
            continue;
        char key[CFG_MAX_NAME_BYTES + 32], comment[MAINT_COMMENT_BYTES];
        snprintf(key, sizeof(key), "%s/%s/previous", p->window, maint_kind_label[p->kind]);
        maint_silence_comment(p->window, p->start_ms, comment, sizeof(comment));
        struct silence_matcher sm = {maint_kind_label[p->kind], p->value, true};
        silences_retire(m->silences, key, &sm, 1, (double)p->end_ms / 1000.0, comment);
    }
    maint_prev_free(m);
    m->save_needed = true;
}

static void drop_silences(struct maint *m, const struct window *w)
{
    char key[CFG_MAX_NAME_BYTES + 8];
    snprintf(key, sizeof(key), "%s/check", w->name);
    silences_drop(m->silences, key);
    snprintf(key, sizeof(key), "%s/slo", w->name);
    silences_drop(m->silences, key);
    m->save_needed = true;
}

/* ---- transitions ---- */

/* A window starts (its occurrence in w->cur_start/cur_end) or ends (early
 * when `at` is before cur_end: deleted or removed by a reload). The one
 * place every start and end goes through: the log, the audit log's
 * maintenance_start/maintenance_end events, the silences. */
static void maint_on_transition(struct maint *m, const struct window *w, bool starting, int64_t at)
{
    char start[40], end[40], now[40];
    maint_fmt_time(w->cur_start, start, sizeof(start));
    maint_fmt_time(w->cur_end, end, sizeof(end));
    maint_fmt_time(at, now, sizeof(now));
    const char *source = w->adhoc ? "api" : "config";
    if (starting) {
        log_info("maintenance window started", "window", w->name, "source", source, "start", start,
                 "end", end);
        audit_event(m->audit, "maintenance_start", "window", w->name, "source", source, "start",
                    start, "end", end, NULL);
    } else {
        log_info("maintenance window ended", "window", w->name, "source", source, "at", now,
                 "planned_end", end);
        audit_event(m->audit, "maintenance_end", "window", w->name, "source", source, "at", now,
                    "planned_end", end, NULL);
    }
    if (!m->silences || !w->silence)
        return;
    if (starting)
        want_silences(m, w);
    else
        drop_silences(m, w);
}

/* Switch every SLO sink of the generation for the windows active now. */
static void apply_exclusion(struct maint *m)
{
    if (!m->gen)
        return;
    const struct cfg *cfg = gen_cfg(m->gen);
    size_t nc = cfg_check_count(cfg), ns = cfg_slo_count(cfg);
    bool *xs = xcalloc(ns + 1, sizeof(bool)), *xc = xcalloc(nc + 1, sizeof(bool));
    struct maint_cover cv = {.excl_slo = xs, .excl_check = xc};
    for (size_t i = 0; i < m->n_conf + m->n_adhoc; i++) {
        const struct window *w = i < m->n_conf ? &m->conf[i] : &m->adhoc[i - m->n_conf];
        if (w->active && w->exclude)
            maint_cover(cfg, w->checks, w->n_checks, w->slos, w->n_slos, &cv);
    }
    gen_set_slo_exclusion(m->gen, xs, xc);
    free(xs);
    free(xc);
}

/* One window at now: its start or end. Occurrences of a cron window that
 * overlap (a duration longer than the gap between starts) are one stretch:
 * no end and start in between, its end moved out (and its silences with
 * it). An occurrence that begins after the known end is a new one (the
 * clock jumped past an end). */
static void step(struct maint *m, struct window *w, int64_t now)
{
    int64_t s = 0, e = 0;
    bool on = maint_sched_active(&w->sched, now, &s, &e);
    bool resched = w->resched;
    w->resched = false;
    if (w->active && on && s <= w->cur_end) {
        /* Still active under a schedule a reload changed: the stretch is
         * the new schedule's occurrence (an end moved earlier included),
         * without an end and a start in between. */
        if (resched && (s != w->cur_start || e != w->cur_end)) {
            w->cur_start = s;
            w->cur_end = e;
            if (m->silences && w->silence)
                want_silences(m, w);
        } else if (e > w->cur_end) {
            w->cur_end = e;
            if (m->silences && w->silence)
                want_silences(m, w);
        }
        return;
    }
    if (w->active) {
        w->active = false;
        maint_on_transition(m, w, false, now);
    }
    if (on && !w->active) {
        w->active = true;
        w->cur_start = s;
        w->cur_end = e;
        maint_on_transition(m, w, true, now);
    }
}

int64_t maint_evaluate_locked(struct maint *m, int64_t now)
{
    for (size_t i = 0; i < m->n_conf; i++)
        step(m, &m->conf[i], now);
    size_t kept = 0;
    bool dropped = false;
    for (size_t i = 0; i < m->n_adhoc; i++) {
        struct window *w = &m->adhoc[i];
        step(m, w, now);
        if (!w->active && w->sched.start_ms + w->sched.duration_ms <= now) {
            maint_window_free(w);
            dropped = true;
            continue;
        }
        m->adhoc[kept++] = *w;
    }
    m->n_adhoc = kept;
    if (dropped || m->save_needed)
        maint_save_locked(m);
    apply_exclusion(m);
    int64_t next = INT64_MAX;
    for (size_t i = 0; i < m->n_conf + m->n_adhoc; i++) {
        const struct window *w = i < m->n_conf ? &m->conf[i] : &m->adhoc[i - m->n_conf];
        int64_t t = maint_sched_next_change(&w->sched, now);
        if (t < next)
            next = t;
    }
    m->next_change = next;
    return next;
}

void maint_drop_adhoc_locked(struct maint *m, size_t i, int64_t now)
{
    struct window *w = &m->adhoc[i];
    if (w->active) {
        w->active = false;
        maint_on_transition(m, w, false, now);
    }
    maint_window_free(w);
    memmove(w, w + 1, (m->n_adhoc - i - 1) * sizeof(*w));
    m->n_adhoc--;
    maint_save_locked(m);
    apply_exclusion(m);
}

/* ---- life cycle ---- */

void maint_prev_free(struct maint *m)
{
    for (size_t i = 0; i < m->n_prev; i++) {
        free(m->prev[i].window);
        free(m->prev[i].value);
    }
    free(m->prev);
    m->prev = NULL;
    m->n_prev = 0;
}

struct maint *maint_new(const struct maint_options *o)
{
    struct maint *m = xcalloc(1, sizeof(*m));
    pthread_mutex_init(&m->lock, NULL);
    m->clock = o->clock;
    m->silences = o->silences;
    m->audit = o->audit;
    m->wake = o->wake;
    m->wake_arg = o->wake_arg;
    m->dir = xstrdup(o->storage_path);
    m->next_change = INT64_MAX;
    maint_load(m);
    return m;
}

void maint_free(struct maint *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_conf; i++)
        maint_window_free(&m->conf[i]);
    for (size_t i = 0; i < m->n_adhoc; i++)
        maint_window_free(&m->adhoc[i]);
    free(m->conf);
    free(m->adhoc);
    maint_prev_free(m);
    gen_unref(m->gen);
    free(m->dir);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

static bool same_str(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* Whether two configured windows have the same schedule (by what the
 * configuration says: the parsed cron and zone are per generation). */
static bool same_sched(const struct maint_spec *a, const struct maint_spec *b)
{
    return a->sched.start_ms == b->sched.start_ms && a->sched.duration_ms == b->sched.duration_ms &&
           same_str(a->cron_expr, b->cron_expr) && same_str(a->timezone, b->timezone);
}

/* Wake the ticking thread when the next start or end came earlier than
 * the time it sleeps until. Called without the lock. */
static void wake_if_earlier(struct maint *m, int64_t before, int64_t after)
{
    if (after < before && m->wake)
        m->wake(m->wake_arg);
}

void maint_use_gen(struct maint *m, struct gen *g)
{
    const struct cfg *cfg = gen_cfg(g);
    int64_t now = clock_wall_ms(m->clock);
    pthread_mutex_lock(&m->lock);
    int64_t before = m->next_change;
    /* Configured windows follow their names: a window the reload keeps
     * stays active through it (no end and start), one it removes ends. */
    size_t n = cfg_maint_count(cfg);
    struct window *conf = xcalloc(n + 1, sizeof(*conf));
    for (size_t i = 0; i < n; i++)
        conf[i] = conf_window(cfg_maint(cfg, i));
    for (size_t i = 0; i < m->n_conf; i++) {
        struct window *old = &m->conf[i];
        long j = cfg_find_maint(cfg, old->name);
        if (j >= 0) {
            conf[j].active = old->active;
            conf[j].cur_start = old->cur_start;
            conf[j].cur_end = old->cur_end;
            conf[j].resched = old->active && !same_sched(old->spec, conf[j].spec);
            if (old->active && old->silence && !conf[j].silence && m->silences)
                drop_silences(m, old);
        } else if (old->active) {
            maint_on_transition(m, old, false, now);
        }
        maint_window_free(old);
    }
    free(m->conf);
    m->conf = conf;
    m->n_conf = n;
    /* A name both configured and ad-hoc (the config changed while the
     * agent was stopped; reloads refuse it): the configuration wins. */
    size_t kept = 0;
    bool dropped = false;
    for (size_t i = 0; i < m->n_adhoc; i++) {
        struct window *w = &m->adhoc[i];
        if (cfg_find_maint(cfg, w->name) < 0) {
            m->adhoc[kept++] = *w;
            continue;
        }
        log_warn("an ad-hoc maintenance window has the name of a configured one; dropped", "window",
                 w->name);
        if (w->active)
            maint_on_transition(m, w, false, now);
        maint_window_free(w);
        dropped = true;
    }
    m->n_adhoc = kept;
    if (dropped)
        maint_save_locked(m);
    struct gen *old = m->gen;
    gen_ref(g);
    m->gen = g;
    int64_t after = maint_evaluate_locked(m, now);
    /* What an active window covers may have changed with the checks and
     * SLOs: its silences follow (the same ones change nothing). */
    for (size_t i = 0; m->silences && i < m->n_conf + m->n_adhoc; i++) {
        const struct window *w = i < m->n_conf ? &m->conf[i] : &m->adhoc[i - m->n_conf];
        if (w->active && w->silence)
            want_silences(m, w);
    }
    if (!old)
        retire_previous(m);
    if (m->save_needed)
        maint_save_locked(m);
    pthread_mutex_unlock(&m->lock);
    gen_unref(old);
    wake_if_earlier(m, before, after);
}

int64_t maint_tick(struct maint *m)
{
    int64_t now = clock_wall_ms(m->clock);
    pthread_mutex_lock(&m->lock);
    int64_t next = maint_evaluate_locked(m, now);
    pthread_mutex_unlock(&m->lock);
    return next == INT64_MAX ? INT64_MAX : next - now;
}

enum op_rc maint_check_cfg(struct maint *m, const struct cfg *cfg, struct buf *errors)
{
    enum op_rc rc = OP_OK;
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < m->n_adhoc; i++) {
        long j = cfg_find_maint(cfg, m->adhoc[i].name);
        if (j < 0)
            continue;
        const struct maint_spec *sp = cfg_maint(cfg, (size_t)j);
        char end[40];
        maint_fmt_time(m->adhoc[i].sched.start_ms + m->adhoc[i].sched.duration_ms, end,
                       sizeof(end));
        buf_addf(errors,
                 "%s:%d:%d: maintenance[%ld]: an ad-hoc window called \"%s\" runs until %s; end "
                 "it first (DELETE /api/v1/maintenance/{name}) or choose another name\n",
                 cfg_source(cfg), sp->line, sp->column, j, sp->name, end);
        rc = OP_ERR_INVALID;
    }
    pthread_mutex_unlock(&m->lock);
    return rc;
}

/* ---- alerts ---- */

struct maint_hold {
    bool *check, *slo;
};

struct maint_hold *maint_hold_new(struct maint *m, const struct cfg *cfg)
{
    struct maint_hold *h = xcalloc(1, sizeof(*h));
    h->check = xcalloc(cfg_check_count(cfg) + 1, sizeof(bool));
    h->slo = xcalloc(cfg_slo_count(cfg) + 1, sizeof(bool));
    struct maint_cover cv = {.held_check = h->check, .held_slo = h->slo};
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < m->n_conf + m->n_adhoc; i++) {
        const struct window *w = i < m->n_conf ? &m->conf[i] : &m->adhoc[i - m->n_conf];
        if (w->active)
            maint_cover(cfg, w->checks, w->n_checks, w->slos, w->n_slos, &cv);
    }
    pthread_mutex_unlock(&m->lock);
    return h;
}

void maint_hold_free(struct maint_hold *h)
{
    if (!h)
        return;
    free(h->check);
    free(h->slo);
    free(h);
}

bool maint_check_held(const struct maint_hold *h, size_t check)
{
    return h->check[check];
}

bool maint_slo_held(const struct maint_hold *h, size_t slo)
{
    return h->slo[slo];
}

bool maint_alert_allowed(struct alerts *a, bool held, const char *alertname, const char *severity,
                         const char *key_label, const char *key_value)
{
    return !held || alerts_is_firing(a, alertname, severity, key_label, key_value);
}

/* ---- metrics ---- */

/* The silences module's counters: it works for the windows alone. */
static void render_silences(struct maint *m, struct expo *e)
{
    struct silences_am_stat st[CFG_MAX_ALERTMANAGERS];
    size_t n = m->silences ? silences_stats(m->silences, st, CFG_MAX_ALERTMANAGERS) : 0;
    if (n > CFG_MAX_ALERTMANAGERS)
        n = CFG_MAX_ALERTMANAGERS;
    if (n) {
        expo_family(e, "outpost_alertmanager_silences_total", EXPO_COUNTER,
                    "Silences created and expired in each Alertmanager for maintenance windows.");
        for (size_t i = 0; i < n; i++) {
            struct label l[2] = {{"alertmanager", st[i].name}, {"op", "create"}};
            expo_sample_u64(e, "outpost_alertmanager_silences_total", "", l, 2, NULL,
                            st[i].created);
            l[1].value = "expire";
            expo_sample_u64(e, "outpost_alertmanager_silences_total", "", l, 2, NULL,
                            st[i].expired);
        }
        expo_family(e, "outpost_alertmanager_silences_errors_total", EXPO_COUNTER,
                    "Silence requests to each Alertmanager that failed (retried).");
        for (size_t i = 0; i < n; i++) {
            struct label l = {"alertmanager", st[i].name};
            expo_sample_u64(e, "outpost_alertmanager_silences_errors_total", "", &l, 1, NULL,
                            st[i].errors);
        }
    }
    silences_stats_release(st, n);
}

void maint_render(struct maint *m, struct expo *e, const struct gen *g)
{
    pthread_mutex_lock(&m->lock);
    if (m->n_conf + m->n_adhoc)
        expo_family(e, "outpost_maintenance_active", EXPO_GAUGE,
                    "1 while the maintenance window is active.");
    for (size_t i = 0; i < m->n_conf + m->n_adhoc; i++) {
        const struct window *w = i < m->n_conf ? &m->conf[i] : &m->adhoc[i - m->n_conf];
        struct label l = {"window", w->name};
        expo_sample(e, "outpost_maintenance_active", "", &l, 1, NULL, w->active ? 1 : 0);
    }
    pthread_mutex_unlock(&m->lock);
    render_silences(m, e);
    const struct cfg *cfg = gen_cfg(g);
    if (!cfg_slo_count(cfg))
        return;
    expo_family(e, "outpost_slo_excluded_events_total", EXPO_COUNTER,
                "Probe results not counted by the SLO because a maintenance window excluded "
                "them.");
    for (size_t i = 0; i < cfg_slo_count(cfg); i++) {
        struct label l = {"slo", cfg_slo(cfg, i)->name};
        expo_sample_u64(e, "outpost_slo_excluded_events_total", "", &l, 1, NULL,
                        gen_slo_excluded(g, i));
    }
}
