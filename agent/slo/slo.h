/*
 * slo.h - SLO figures from SLI windows: ratios, burn rates, error budget,
 * exhaustion time, multiwindow multi-burn-rate alerts, freeze policy.
 * Pure functions of (windows, parameters, time): the live agent and
 * `outpost slo replay` call the same code. Math: docs/slo.md.
 */
#ifndef OUTPOST_SLO_H
#define OUTPOST_SLO_H

#include "sli_window.h"

#include <stdbool.h>
#include <stdint.h>

enum slo_window {
    SLO_W_5M,
    SLO_W_30M,
    SLO_W_1H,
    SLO_W_2H,
    SLO_W_6H,
    SLO_W_1D,
    SLO_W_3D,
    SLO_W_PERIOD,
    SLO_W_COUNT,
};

/* Alert tiers: page 1h/5m, page 6h/30m, ticket 1d/2h, ticket 3d/6h. */
#define SLO_TIERS 4

/*
 * Events the schedule produces, per millisecond, from from_ms on (until the
 * next rate). The agent knows its own schedule, so a synthetic SLI's
 * denominator is known in advance: budgets and the long windows of the
 * alert tiers are judged against the events a full window holds, not
 * against the few a fresh window has seen.
 */
struct slo_rate {
    int64_t from_ms;
    double per_ms;
};

#define SLO_MAX_RATES 64

struct slo_params {
    double objective;  /* ratio, 0 < o < 1 */
    double budget;     /* error budget 1 - objective; 0 = derive it from objective */
    int64_t period_ms; /* rolling period; ignored when calendar_month */
    bool calendar_month;
    uint64_t min_events;
    bool has_policy;
    double freeze_when_consumed;
    int64_t policy_over_ms;
    /* The schedule's rates, oldest first (the first also covers all time
     * before it); borrowed. With none, budgets count against the events
     * observed so far, as rule-based tools must (`slo replay
     * --budget=observed`). */
    const struct slo_rate *rates;
    size_t n_rates;
};

struct slo_figures {
    int64_t at_ms;
    int64_t period_ms; /* the current period's length */
    uint64_t events[SLO_W_COUNT], bad[SLO_W_COUNT];
    double expected[SLO_W_COUNT]; /* events a full window holds (period: the whole
                                   * period, calendar months to their end); the
                                   * observed events when no rate is known */
    double sli[SLO_W_COUNT];      /* NaN while the window holds no event */
    double burn[SLO_W_COUNT];     /* observed: NaN while the window holds no event */
    double budget_remaining;      /* 1 - bad / (budget x expected events of the period);
                                   * 1 with no bad event; may go below 0 */
    double exhaustion_s;          /* +Inf when not burning, 0 when spent */
    bool tier_firing[SLO_TIERS];
    bool page, ticket;
    /* The share of the period's budget spent by the bad events of the
     * policy's window (what the freeze compares with freeze_when_consumed);
     * NaN without a policy or without expected events. */
    double policy_consumed;
    bool freeze;
};

/* Label value of a window ("5m" ... "period"). */
const char *slo_window_name(enum slo_window w);
/* Length of a fixed window in ms (period excluded). */
int64_t slo_window_ms(enum slo_window w);

/* Burn-rate factors of the four tiers for a period (30 d: 14.4, 6, 3, 1):
 * budget share (2 %, 5 %, 10 %, 10 %) x period / long window. */
void slo_tier_factors(int64_t period_ms, double out[SLO_TIERS]);
/* Long and short window of a tier. */
void slo_tier_windows(int tier, enum slo_window *long_w, enum slo_window *short_w);

/* Start and length of the UTC calendar month holding t (ms). */
void slo_calendar_month(int64_t t_ms, int64_t *start_ms, int64_t *length_ms);

/* Events the rates produce over (from_ms, to_ms]; 0 without rates. */
double slo_expected(const struct slo_params *p, int64_t from_ms, int64_t to_ms);

/* Compute every figure at time at_ms. */
void slo_compute(const struct sliw *w, const struct slo_params *p, int64_t at_ms,
                 struct slo_figures *out);

/* The burndown: the error budget remaining at points across the current
 * period (rolling: the period up to at_ms; calendar: the month so far),
 * counting the bad events from the period's start up to each point against
 * the period's whole budget, the one budget_remaining uses. */
#define SLO_BURNDOWN_POINTS 60
struct slo_point {
    int64_t t_ms;
    double budget_remaining; /* 1 while nothing bad happened; may go below 0 */
};
/* f: the figures slo_compute gave for w and p at f->at_ms. At most max
 * points, oldest first, spread evenly over the SLI window's buckets of the
 * period (one a bucket when they are fewer); the last is at f->at_ms and
 * equals f->budget_remaining. Returns how many were written. */
size_t slo_burndown(const struct sliw *w, const struct slo_params *p, const struct slo_figures *f,
                    struct slo_point *out, size_t max);

/* Level-2 buckets (hours) a store needs for these parameters. */
uint32_t slo_l2_hours(const struct slo_params *p);

#endif
