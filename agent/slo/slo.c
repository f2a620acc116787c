/* slo.c - SLO figures; docs/slo.md states every formula. */
#include "slo.h"

#include <math.h>
#include <time.h>

static const char *const window_names[SLO_W_COUNT] = {"5m", "30m", "1h", "2h",
                                                      "6h", "1d",  "3d", "period"};
static const int64_t window_ms[SLO_W_COUNT] = {300000,   1800000,  3600000,   7200000,
                                               21600000, 86400000, 259200000, 0};

const char *slo_window_name(enum slo_window w)
{
    return (unsigned)w < SLO_W_COUNT ? window_names[w] : "unknown";
}

int64_t slo_window_ms(enum slo_window w)
{
    return (unsigned)w < SLO_W_COUNT ? window_ms[w] : 0;
}

static const struct {
    enum slo_window long_w, short_w;
    double budget_share;
} tiers[SLO_TIERS] = {
    {SLO_W_1H, SLO_W_5M, 0.02},
    {SLO_W_6H, SLO_W_30M, 0.05},
    {SLO_W_1D, SLO_W_2H, 0.10},
    {SLO_W_3D, SLO_W_6H, 0.10},
};

void slo_tier_factors(int64_t period_ms, double out[SLO_TIERS])
{
    for (int i = 0; i < SLO_TIERS; i++)
        out[i] = tiers[i].budget_share * (double)period_ms / (double)window_ms[tiers[i].long_w];
}

void slo_tier_windows(int tier, enum slo_window *long_w, enum slo_window *short_w)
{
    *long_w = tiers[tier].long_w;
    *short_w = tiers[tier].short_w;
}

void slo_calendar_month(int64_t t_ms, int64_t *start_ms, int64_t *length_ms)
{
    /* The month holding t under (start, end] semantics: an event exactly at
     * midnight on the 1st still belongs to the month before. */
    int64_t ms = t_ms - 1;
    time_t secs = (time_t)(ms / 1000 - (ms % 1000 < 0 ? 1 : 0)); /* floor */
    struct tm tm;
    gmtime_r(&secs, &tm);
    tm.tm_mday = 1;
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    time_t start = timegm(&tm);
    tm.tm_mon += 1;
    time_t end = timegm(&tm); /* timegm normalises month 12 to January */
    *start_ms = (int64_t)start * 1000;
    *length_ms = ((int64_t)end - (int64_t)start) * 1000;
}

uint32_t slo_l2_hours(const struct slo_params *p)
{
    int64_t span = p->calendar_month ? 31LL * 86400000 : p->period_ms;
    if (p->has_policy && p->policy_over_ms > span)
        span = p->policy_over_ms;
    return (uint32_t)(span / SLIW_L2_MS + 1);
}

double slo_expected(const struct slo_params *p, int64_t from_ms, int64_t to_ms)
{
    double sum = 0;
    for (size_t i = 0; i < p->n_rates && to_ms > from_ms; i++) {
        /* Rate i holds from its start (the first: from always) to the next. */
        int64_t lo = i == 0 ? from_ms : p->rates[i].from_ms;
        int64_t hi = i + 1 < p->n_rates ? p->rates[i + 1].from_ms : to_ms;
        if (lo < from_ms)
            lo = from_ms;
        if (hi > to_ms)
            hi = to_ms;
        if (hi > lo)
            sum += (double)(hi - lo) * p->rates[i].per_ms;
    }
    return sum;
}

static double budget_share(const struct slo_params *p)
{
    return p->budget > 0 ? p->budget : 1.0 - p->objective;
}

/* What remains of a budget of `allowed` bad events after `bad`: full while
 * nothing bad happened, -Inf when bad events meet a budget of none. */
static double remaining(uint64_t bad, double allowed)
{
    return bad == 0 ? 1.0 : allowed > 0 ? 1.0 - (double)bad / allowed : -INFINITY;
}

void slo_compute(const struct sliw *w, const struct slo_params *p, int64_t at_ms,
                 struct slo_figures *out)
{
    double eps = budget_share(p);
    out->at_ms = at_ms;
    for (int i = 0; i < SLO_W_PERIOD; i++)
        sliw_sum(w, at_ms, window_ms[i], &out->events[i], &out->bad[i]);
    int64_t start;
    if (p->calendar_month) {
        slo_calendar_month(at_ms, &start, &out->period_ms);
        sliw_sum_since(w, at_ms, start, &out->events[SLO_W_PERIOD], &out->bad[SLO_W_PERIOD]);
    } else {
        out->period_ms = p->period_ms;
        start = at_ms - p->period_ms;
        sliw_sum(w, at_ms, p->period_ms, &out->events[SLO_W_PERIOD], &out->bad[SLO_W_PERIOD]);
    }
    /* What a full window holds: a window the agent has not seen whole is
     * judged against the events it will hold, not the few it has. A
     * calendar month counts to its end (its budget is the month's). */
    for (int i = 0; i < SLO_W_COUNT; i++) {
        if (!p->n_rates)
            out->expected[i] = (double)out->events[i];
        else if (i == SLO_W_PERIOD)
            out->expected[i] = slo_expected(p, start, start + out->period_ms);
        else
            out->expected[i] = slo_expected(p, at_ms - window_ms[i], at_ms);
    }
    for (int i = 0; i < SLO_W_COUNT; i++) {
        if (out->events[i] == 0) {
            out->sli[i] = NAN;
            out->burn[i] = NAN;
            continue;
        }
        double err = (double)out->bad[i] / (double)out->events[i];
        out->sli[i] = 1.0 - err;
        out->burn[i] = err / eps;
    }

    /* Budget over the period: the bad events against the budget of the
     * events the period holds (never an average of ratios), full while
     * nothing bad happened. */
    double allowed = eps * out->expected[SLO_W_PERIOD];
    uint64_t bad = out->bad[SLO_W_PERIOD];
    out->budget_remaining = remaining(bad, allowed);

    double b1h = out->burn[SLO_W_1H];
    if (out->budget_remaining <= 0)
        out->exhaustion_s = 0;
    else if (isnan(b1h) || b1h <= 0)
        out->exhaustion_s = INFINITY;
    else
        out->exhaustion_s = out->budget_remaining * ((double)out->period_ms / 1000.0) / b1h;

    double f[SLO_TIERS];
    slo_tier_factors(out->period_ms, f);
    for (int t = 0; t < SLO_TIERS; t++) {
        enum slo_window lw = tiers[t].long_w, sw = tiers[t].short_w;
        /* The long window: the budget its bad events spent, against a full
         * window's expected events, so a handful of events in a fresh
         * window cannot fire it. The short window: the observed ratio, so
         * the alert resets as soon as the problem stops. NaN compares
         * false: an empty window never fires. */
        double spent =
            out->expected[lw] > 0 ? (double)out->bad[lw] / (eps * out->expected[lw]) : NAN;
        out->tier_firing[t] =
            out->events[lw] >= p->min_events && spent > f[t] && out->burn[sw] > f[t];
    }
    out->page = out->tier_firing[0] || out->tier_firing[1];
    out->ticket = out->tier_firing[2] || out->tier_firing[3];

    out->freeze = false;
    out->policy_consumed = NAN;
    if (p->has_policy && allowed > 0) {
        uint64_t ev_over, bad_over;
        sliw_sum(w, at_ms, p->policy_over_ms, &ev_over, &bad_over);
        out->policy_consumed = (double)bad_over / allowed;
        out->freeze = out->policy_consumed > p->freeze_when_consumed;
    }
}

size_t slo_burndown(const struct sliw *w, const struct slo_params *p, const struct slo_figures *f,
                    struct slo_point *out, size_t max)
{
    struct sliw_point pts[SLO_BURNDOWN_POINTS];
    if (max > SLO_BURNDOWN_POINTS)
        max = SLO_BURNDOWN_POINTS;
    /* The buckets slo_compute summed for the period, so the last point is
     * its figure exactly. */
    size_t n;
    if (p->calendar_month) {
        int64_t start, len;
        slo_calendar_month(f->at_ms, &start, &len);
        n = sliw_running(w, f->at_ms, 0, start, pts, max);
    } else {
        n = sliw_running(w, f->at_ms, p->period_ms, 0, pts, max);
    }
    double allowed = budget_share(p) * f->expected[SLO_W_PERIOD];
    for (size_t i = 0; i < n; i++)
        out[i] = (struct slo_point){pts[i].t_ms, remaining(pts[i].bad, allowed)};
    return n;
}
