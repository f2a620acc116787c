/* slo_state.c - one SLO's windows behind a short mutex. */
#include "slo_state.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct slo_state {
    atomic_uint refs;
    uint64_t identity;
    pthread_mutex_t lock; /* guards w and the totals */
    struct sliw *w;
    uint64_t events_total, bad_total;
    struct slo_rate rates[SLO_MAX_RATES];
    size_t n_rates;
    int64_t span_ms; /* how far back windows reach: older rates are useless */
    atomic_bool page, ticket;
    atomic_bool freeze; /* as the evaluator last reported it */
};

void slo_params_from_spec(const struct slo_spec *s, struct slo_params *out)
{
    out->objective = s->objective;
    out->budget = s->budget;
    out->period_ms = s->period_ms;
    out->calendar_month = s->calendar_month;
    out->min_events = s->min_events;
    out->has_policy = s->has_policy;
    out->freeze_when_consumed = s->freeze_when_consumed;
    out->policy_over_ms = s->policy_over_ms;
    /* The schedule lives with the state (slost_set_rate), not the spec. */
    out->rates = NULL;
    out->n_rates = 0;
}

static uint32_t hours_for(const struct slo_spec *spec)
{
    struct slo_params p;
    slo_params_from_spec(spec, &p);
    return slo_l2_hours(&p);
}

struct slo_state *slost_new(const struct slo_spec *spec)
{
    struct slo_state *st = xcalloc(1, sizeof(*st));
    atomic_init(&st->refs, 1);
    atomic_init(&st->page, false);
    atomic_init(&st->ticket, false);
    st->identity = spec->identity;
    pthread_mutex_init(&st->lock, NULL);
    st->w = sliw_new(hours_for(spec));
    st->span_ms = (int64_t)hours_for(spec) * SLIW_L2_MS;
    return st;
}

void slost_ref(struct slo_state *st)
{
    atomic_fetch_add_explicit(&st->refs, 1, memory_order_relaxed);
}

void slost_unref(struct slo_state *st)
{
    if (!st || atomic_fetch_sub_explicit(&st->refs, 1, memory_order_acq_rel) != 1)
        return;
    pthread_mutex_destroy(&st->lock);
    free(st->w);
    free(st);
}

uint64_t slost_identity(const struct slo_state *st)
{
    return st->identity;
}

int64_t slost_span_ms(struct slo_state *st)
{
    pthread_mutex_lock(&st->lock);
    int64_t span = st->span_ms;
    pthread_mutex_unlock(&st->lock);
    return span;
}

/* Copy every bucket of `from` into `to` (same levels, maybe other sizes). */
static void migrate(struct sliw *to, const struct sliw *from)
{
    for (int l = 0; l < SLIW_LEVELS; l++) {
        struct sliw_level_view v;
        sliw_level(from, l, &v);
        if (v.head == INT64_MIN)
            continue;
        /* Oldest first, so the new ring's head moves forward only. */
        for (int64_t i = v.head - (int64_t)v.n + 1; i <= v.head; i++)
            sliw_restore_bucket(to, l, i, v.buckets[sliw_slot(i, v.n)]);
    }
}

void slost_reshape(struct slo_state *st, const struct slo_spec *spec)
{
    struct sliw *fresh = sliw_new(hours_for(spec));
    pthread_mutex_lock(&st->lock);
    struct sliw_level_view v;
    sliw_level(st->w, SLIW_LEVELS - 1, &v);
    struct sliw_level_view nv;
    sliw_level(fresh, SLIW_LEVELS - 1, &nv);
    if (v.n == nv.n) {
        pthread_mutex_unlock(&st->lock);
        free(fresh);
        return;
    }
    migrate(fresh, st->w);
    struct sliw *old = st->w;
    st->w = fresh;
    st->span_ms = (int64_t)nv.n * SLIW_L2_MS;
    pthread_mutex_unlock(&st->lock);
    free(old);
}

/* Drop rate 0 when rate 1 already covers everything the windows reach:
 * the first rate stands for all time before it. */
static void prune_rates(struct slo_state *st, int64_t now_ms)
{
    while (st->n_rates > 1 && st->rates[1].from_ms <= now_ms - st->span_ms) {
        memmove(st->rates, st->rates + 1, (st->n_rates - 1) * sizeof(st->rates[0]));
        st->n_rates--;
    }
}

void slost_set_rate(struct slo_state *st, int64_t from_ms, double per_ms)
{
    pthread_mutex_lock(&st->lock);
    prune_rates(st, from_ms);
    if (st->n_rates && st->rates[st->n_rates - 1].per_ms == per_ms) {
        pthread_mutex_unlock(&st->lock);
        return;
    }
    if (st->n_rates && st->rates[st->n_rates - 1].from_ms >= from_ms) {
        /* A rate set at the same moment (or a clock that went back)
         * replaces the last one. */
        st->rates[st->n_rates - 1].per_ms = per_ms;
    } else {
        if (st->n_rates == SLO_MAX_RATES) {
            /* Sixty-four reloads that changed intervals within one period:
             * the oldest rate gives way, the next one covers its time. */
            memmove(st->rates, st->rates + 1, (st->n_rates - 1) * sizeof(st->rates[0]));
            st->n_rates--;
        }
        st->rates[st->n_rates++] = (struct slo_rate){from_ms, per_ms};
    }
    pthread_mutex_unlock(&st->lock);
}

size_t slost_rates(struct slo_state *st, struct slo_rate *out, size_t cap)
{
    pthread_mutex_lock(&st->lock);
    size_t n = st->n_rates < cap ? st->n_rates : cap;
    memcpy(out, st->rates, n * sizeof(*out));
    pthread_mutex_unlock(&st->lock);
    return n;
}

void slost_restore_rates(struct slo_state *st, const struct slo_rate *rates, size_t n)
{
    pthread_mutex_lock(&st->lock);
    st->n_rates = n < SLO_MAX_RATES ? n : SLO_MAX_RATES;
    memcpy(st->rates, rates + (n - st->n_rates), st->n_rates * sizeof(*rates));
    pthread_mutex_unlock(&st->lock);
}

double slo_spec_rate(const struct cfg *c, const struct slo_spec *s)
{
    double r = 0;
    for (size_t k = 0; k < s->n_checks; k++)
        r += 1.0 / (double)cfg_check(c, s->check_idx[k])->interval_ms;
    return r;
}

void slost_add(struct slo_state *st, int64_t t_ms, uint64_t events, uint64_t bad)
{
    pthread_mutex_lock(&st->lock);
    sliw_add(st->w, t_ms, events, bad);
    st->events_total += events;
    st->bad_total += bad > events ? events : bad;
    pthread_mutex_unlock(&st->lock);
}

struct sliw *slost_copy(struct slo_state *st, uint64_t *events_total, uint64_t *bad_total)
{
    pthread_mutex_lock(&st->lock);
    struct sliw *c = sliw_clone(st->w);
    *events_total = st->events_total;
    *bad_total = st->bad_total;
    pthread_mutex_unlock(&st->lock);
    return c;
}

/* The figures, and with max > 0 the burndown, from one copy of the
 * windows made into *scratch. Returns the burndown's points. */
static size_t figures(struct slo_state *st, const struct slo_spec *spec, int64_t now_ms,
                      struct slo_figures *out, uint64_t *events_total, uint64_t *bad_total,
                      struct slo_point *pts, size_t max, struct sliw **scratch)
{
    struct slo_params p;
    slo_params_from_spec(spec, &p);
    struct slo_rate rates[SLO_MAX_RATES];
    p.n_rates = slost_rates(st, rates, SLO_MAX_RATES);
    p.rates = rates;
    pthread_mutex_lock(&st->lock);
    struct sliw *w = *scratch = sliw_clone_into(st->w, *scratch);
    uint64_t ev = st->events_total, bad = st->bad_total;
    pthread_mutex_unlock(&st->lock);
    slo_compute(w, &p, now_ms, out);
    size_t n = max ? slo_burndown(w, &p, out, pts, max) : 0;
    if (events_total)
        *events_total = ev;
    if (bad_total)
        *bad_total = bad;
    return n;
}

void slost_figures(struct slo_state *st, const struct slo_spec *spec, int64_t now_ms,
                   struct slo_figures *out, uint64_t *events_total, uint64_t *bad_total)
{
    struct sliw *w = NULL;
    (void)figures(st, spec, now_ms, out, events_total, bad_total, NULL, 0, &w);
    free(w);
}

size_t slost_figures_burndown(struct slo_state *st, const struct slo_spec *spec, int64_t now_ms,
                              struct slo_figures *out, struct slo_point *pts, size_t max,
                              struct sliw **scratch)
{
    return figures(st, spec, now_ms, out, NULL, NULL, pts, max, scratch);
}

void slost_restore_totals(struct slo_state *st, uint64_t events_total, uint64_t bad_total)
{
    pthread_mutex_lock(&st->lock);
    st->events_total += events_total;
    st->bad_total += bad_total;
    pthread_mutex_unlock(&st->lock);
}

void slost_restore_bucket(struct slo_state *st, int level, int64_t idx, struct sliw_bucket b)
{
    pthread_mutex_lock(&st->lock);
    sliw_restore_bucket(st->w, level, idx, b);
    pthread_mutex_unlock(&st->lock);
}

void slost_set_alerts(struct slo_state *st, bool page, bool ticket)
{
    atomic_store(&st->page, page);
    atomic_store(&st->ticket, ticket);
}

bool slost_swap_freeze(struct slo_state *st, bool freeze)
{
    return atomic_exchange(&st->freeze, freeze);
}

void slost_alerts(const struct slo_state *st, bool *page, bool *ticket)
{
    *page = atomic_load(&((struct slo_state *)st)->page);
    *ticket = atomic_load(&((struct slo_state *)st)->ticket);
}
