/*
 * test_slo.c - unit tests for the SLO figures (slo.c): tier factors, the SRE
 * Workbook alert timings under a fake clock, min_events, calendar months,
 * freeze policy, budget and exhaustion, per-window SLI and burn rate. All
 * times are explicit Unix milliseconds; every expected value below is worked
 * out by hand from the formulas in docs/slo.md.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common.h"
#include "slo.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEC 1000LL
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)

/* 2026-01-01T00:00:00Z: a whole UTC hour. */
#define H0 1767225600000LL

static void close_to(double got, double want, double rel, const char *what, int line)
{
    double tol = rel * (fabs(want) > 1 ? fabs(want) : 1);
    if (!(fabs(got - want) <= tol)) {
        print_error("line %d: %s = %.17g, want %.17g (tol %g)\n", line, what, got, want, tol);
        fail();
    }
}
#define assert_close(got, want) close_to((got), (want), 1e-9, #got, __LINE__)

static struct slo_params rolling(double objective, int64_t period_ms)
{
    struct slo_params p;
    memset(&p, 0, sizeof(p));
    p.objective = objective;
    p.period_ms = period_ms;
    p.min_events = 10;
    return p;
}

/* ---- constants ---- */

static void test_tier_factors(void **state)
{
    (void)state;
    static const struct {
        int64_t period;
        double f[SLO_TIERS];
    } rows[] = {
        {30 * DAY, {14.4, 6, 3, 1}},
        {28 * DAY, {13.44, 5.6, 2.8, 28.0 / 30.0}},
        {31 * DAY, {14.88, 6.2, 3.1, 31.0 / 30.0}},
        {7 * DAY, {3.36, 1.4, 0.7, 7.0 / 30.0}},
    };
    for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
        double f[SLO_TIERS];
        slo_tier_factors(rows[i].period, f);
        for (int t = 0; t < SLO_TIERS; t++)
            close_to(f[t], rows[i].f[t], 1e-9, "factor", __LINE__);
    }
    double f[SLO_TIERS];
    slo_tier_factors(28 * DAY, f);
    assert_close(f[3], 0.9333333333333333);

    static const struct {
        enum slo_window lw, sw;
    } tw[SLO_TIERS] = {
        {SLO_W_1H, SLO_W_5M}, {SLO_W_6H, SLO_W_30M}, {SLO_W_1D, SLO_W_2H}, {SLO_W_3D, SLO_W_6H}};
    for (int t = 0; t < SLO_TIERS; t++) {
        enum slo_window lw, sw;
        slo_tier_windows(t, &lw, &sw);
        assert_int_equal(lw, tw[t].lw);
        assert_int_equal(sw, tw[t].sw);
        /* short window = long window / 12 */
        assert_int_equal(slo_window_ms(lw), 12 * slo_window_ms(sw));
    }
}

static void test_window_names(void **state)
{
    (void)state;
    static const struct {
        enum slo_window w;
        const char *name;
        int64_t ms;
    } rows[] = {
        {SLO_W_5M, "5m", 5 * MIN},   {SLO_W_30M, "30m", 30 * MIN},
        {SLO_W_1H, "1h", HOUR},      {SLO_W_2H, "2h", 2 * HOUR},
        {SLO_W_6H, "6h", 6 * HOUR},  {SLO_W_1D, "1d", DAY},
        {SLO_W_3D, "3d", 3 * DAY},   {SLO_W_PERIOD, "period", 0},
        {SLO_W_COUNT, "unknown", 0}, {(enum slo_window) - 1, "unknown", 0},
    };
    for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
        assert_string_equal(slo_window_name(rows[i].w), rows[i].name);
        assert_int_equal(slo_window_ms(rows[i].w), rows[i].ms);
    }
}

static void test_l2_hours(void **state)
{
    (void)state;
    static const struct {
        int64_t period;
        bool calendar, has_policy;
        int64_t over;
        uint32_t want;
    } rows[] = {
        {30 * DAY, false, false, 0, 721},
        {28 * DAY, false, false, 0, 673},
        {0, true, false, 0, 745}, /* 31 days + 1 h */
        {30 * DAY, false, true, 7 * DAY, 721},
        {30 * DAY, false, true, 45 * DAY, 1081}, /* policy longer than the period */
        {0, true, true, 45 * DAY, 1081},
        {7 * DAY, false, true, 30 * DAY, 721},
        {0, true, false, 45 * DAY, 745}, /* over ignored without a policy */
        {7 * DAY, false, false, 0, 169},
    };
    for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
        struct slo_params p = rolling(0.999, rows[i].period);
        p.calendar_month = rows[i].calendar;
        p.has_policy = rows[i].has_policy;
        p.freeze_when_consumed = 0.7;
        p.policy_over_ms = rows[i].over;
        assert_int_equal(slo_l2_hours(&p), rows[i].want);
    }
}

/* ---- empty store, per-window figures ---- */

static void test_empty(void **state)
{
    (void)state;
    struct slo_params p = rolling(0.999, 30 * DAY);
    p.has_policy = true;
    p.freeze_when_consumed = 0.7;
    p.policy_over_ms = 7 * DAY;
    p.min_events = 0; /* even with no minimum, an empty window never fires */
    struct sliw *w = sliw_new(slo_l2_hours(&p));
    struct slo_figures f;
    memset(&f, 0x5a, sizeof(f));
    slo_compute(w, &p, H0 + 1234, &f);
    assert_int_equal(f.at_ms, H0 + 1234);
    assert_int_equal(f.period_ms, 30 * DAY);
    for (int i = 0; i < SLO_W_COUNT; i++) {
        assert_int_equal(f.events[i], 0);
        assert_int_equal(f.bad[i], 0);
        assert_true(isnan(f.sli[i]));
        assert_true(isnan(f.burn[i]));
    }
    assert_true(f.budget_remaining == 1.0);
    assert_true(isinf(f.exhaustion_s) && f.exhaustion_s > 0);
    for (int t = 0; t < SLO_TIERS; t++)
        assert_false(f.tier_firing[t]);
    assert_false(f.page);
    assert_false(f.ticket);
    assert_false(f.freeze);
    free(w);
}

static void test_per_window(void **state)
{
    (void)state;
    /* objective 99 %: eps = 0.01, so burn = error ratio * 100. T is a whole
     * hour, so every window is exact. Each add lands in the windows from
     * its own onwards (adds are in time order). */
    const int64_t T = H0;
    static const struct {
        int64_t back;
        uint64_t events, bad;
    } adds[] = {
        {30 * DAY, 999, 999},    /* exactly T - 30d: outside (T - 30d, T] */
        {20 * DAY, 64000, 6400}, /* period only */
        {2 * DAY, 32000, 0},     /* 3d */
        {20 * HOUR, 16000, 480}, /* 1d */
        {5 * HOUR, 8000, 0},     /* 6h */
        {90 * MIN, 4000, 120},   /* 2h */
        {45 * MIN, 2000, 30},    /* 1h */
        {10 * MIN, 1000, 8},     /* 30m */
        {1 * SEC, 1000, 2},      /* 5m */
    };
    static const struct {
        uint64_t events, bad;
        double sli, burn;
    } want[SLO_W_COUNT] = {
        [SLO_W_5M] = {1000, 2, 0.998, 0.2},   [SLO_W_30M] = {2000, 10, 0.995, 0.5},
        [SLO_W_1H] = {4000, 40, 0.99, 1.0},   [SLO_W_2H] = {8000, 160, 0.98, 2.0},
        [SLO_W_6H] = {16000, 160, 0.99, 1.0}, [SLO_W_1D] = {32000, 640, 0.98, 2.0},
        [SLO_W_3D] = {64000, 640, 0.99, 1.0}, [SLO_W_PERIOD] = {128000, 7040, 0.945, 5.5},
    };
    struct slo_params p = rolling(0.99, 30 * DAY);
    struct sliw *w = sliw_new(slo_l2_hours(&p));
    for (size_t i = 0; i < ARRAY_SIZE(adds); i++)
        sliw_add(w, T - adds[i].back, adds[i].events, adds[i].bad);
    struct slo_figures f;
    slo_compute(w, &p, T, &f);
    for (int i = 0; i < SLO_W_COUNT; i++) {
        assert_int_equal(f.events[i], want[i].events);
        assert_int_equal(f.bad[i], want[i].bad);
        close_to(f.sli[i], want[i].sli, 1e-9, slo_window_name((enum slo_window)i), __LINE__);
        close_to(f.burn[i], want[i].burn, 1e-9, slo_window_name((enum slo_window)i), __LINE__);
    }
    /* consumed = 7040 / (0.01 * 128000) = 5.5 -> remaining -4.5, spent. */
    assert_close(f.budget_remaining, -4.5);
    assert_true(f.exhaustion_s == 0);
    /* Factors 14.4/6/3/1: 1h = 1.0 and 30m = 0.5 do not page; 1d = 2 and
     * 2h = 2 are under 3; 3d = 1.0 is not > 1: nothing fires. */
    assert_false(f.page);
    assert_false(f.ticket);
    free(w);

    /* Empty short windows give NaN, the others still have figures. */
    w = sliw_new(slo_l2_hours(&p));
    sliw_add(w, T - 3 * HOUR, 200, 3);
    slo_compute(w, &p, T, &f);
    for (int i = 0; i < SLO_W_COUNT; i++) {
        bool empty = i <= SLO_W_2H;
        assert_int_equal(f.events[i], empty ? 0 : 200);
        assert_int_equal(f.bad[i], empty ? 0 : 3);
        assert_int_equal(isnan(f.sli[i]), empty);
        assert_int_equal(isnan(f.burn[i]), empty);
        if (!empty) {
            assert_close(f.sli[i], 0.985);
            assert_close(f.burn[i], 1.5);
        }
    }
    /* remaining = 1 - 3 / (0.01 * 200) = -0.5 */
    assert_close(f.budget_remaining, -0.5);
    free(w);
}

/* ---- alert thresholds: strictly greater ---- */

static void test_tier_threshold(void **state)
{
    (void)state;
    /* Objectives whose eps is exact in binary (0.25, 0.125) and 30 d
     * factors 6, 3 and 1 (exact too) put a burn rate exactly on a factor.
     * One block of 400 events at T - 10 min lands in every window but 5m,
     * so every other window has the same burn = (bad / 400) / eps. A tier
     * fires only when both windows are strictly above its factor. */
    const int64_t T = H0;
    static const struct {
        double objective;
        uint64_t bad;
        double burn;
        bool tier[SLO_TIERS];
    } rows[] = {
        {0.75, 99, 0.99, {false, false, false, false}},
        {0.75, 100, 1.0, {false, false, false, false}}, /* == 1: no ticket */
        {0.75, 101, 1.01, {false, false, false, true}},
        {0.75, 300, 3.0, {false, false, false, true}}, /* == 3: tier 3 holds */
        {0.75, 301, 3.01, {false, false, true, true}},
        {0.875, 300, 6.0, {false, false, true, true}}, /* == 6: no page */
        {0.875, 301, 6.02, {false, true, true, true}},
        {0.875, 400, 8.0, {false, true, true, true}}, /* 5m empty: no tier 1 */
    };
    for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
        struct slo_params p = rolling(rows[i].objective, 30 * DAY);
        p.min_events = 1;
        struct sliw *w = sliw_new(slo_l2_hours(&p));
        sliw_add(w, T - 10 * MIN, 400, rows[i].bad);
        struct slo_figures f;
        slo_compute(w, &p, T, &f);
        assert_true(isnan(f.burn[SLO_W_5M]));
        for (int k = SLO_W_30M; k < SLO_W_COUNT; k++)
            assert_close(f.burn[k], rows[i].burn);
        for (int t = 0; t < SLO_TIERS; t++) {
            if (f.tier_firing[t] != rows[i].tier[t])
                print_error("row %zu tier %d: %d\n", i, t, f.tier_firing[t]);
            assert_int_equal(f.tier_firing[t], rows[i].tier[t]);
        }
        assert_int_equal(f.page, rows[i].tier[0] || rows[i].tier[1]);
        assert_int_equal(f.ticket, rows[i].tier[2] || rows[i].tier[3]);
        free(w);
    }

    /* Tier 4 with one window exactly on the factor and the other above it:
     * block A (400 events at T - 10 min) is in 6h and 3d, block B (at
     * T - 2d) in 3d only. 101 / 404 = 0.25 puts 3d at burn 1.0 exactly. */
    static const struct {
        uint64_t a_bad, b_events, b_bad;
        double burn_6h, burn_3d;
        bool tier4;
    } mixed[] = {
        {101, 4, 0, 1.01, 1.0, false},        /* long == factor */
        {100, 4, 4, 1.0, 104.0 / 101, false}, /* short == factor */
        {101, 4, 4, 1.01, 105.0 / 101, true},
    };
    for (size_t i = 0; i < ARRAY_SIZE(mixed); i++) {
        struct slo_params p = rolling(0.75, 30 * DAY);
        p.min_events = 1;
        struct sliw *w = sliw_new(slo_l2_hours(&p));
        sliw_add(w, T - 2 * DAY, mixed[i].b_events, mixed[i].b_bad);
        sliw_add(w, T - 10 * MIN, 400, mixed[i].a_bad);
        struct slo_figures f;
        slo_compute(w, &p, T, &f);
        assert_close(f.burn[SLO_W_6H], mixed[i].burn_6h);
        assert_close(f.burn[SLO_W_3D], mixed[i].burn_3d);
        assert_int_equal(f.tier_firing[3], mixed[i].tier4);
        assert_int_equal(f.ticket, mixed[i].tier4);
        free(w);
    }
}

/* ---- exhaustion ---- */

static void test_exhaustion(void **state)
{
    (void)state;
    const int64_t T = H0;
    static const struct {
        const char *name;
        double objective;
        uint64_t old_ev, old_bad; /* at T - 10d */
        uint64_t hr_ev, hr_bad;   /* at T - 30m: the 1h window only */
        double remaining, exhaustion_s;
    } rows[] = {
        /* total 1e6, bad 236: remaining 1 - 236/1000 = 0.764; burn_1h =
         * (36/3600)/0.001 = 10; 0.764 * 2592000 s / 10 = 198028.8 s. */
        {"burning", 0.999, 996400, 200, 3600, 36, 0.764, 198028.8},
        /* burn_1h = (9/3600)/0.001 = 2.5: 0.791 * 2592000 / 2.5 */
        {"slow burn", 0.999, 996400, 200, 3600, 9, 0.791, 820108.8},
        /* no bad event in the last hour: burn 0 -> +Inf */
        {"not burning", 0.999, 996400, 200, 3600, 0, 0.8, INFINITY},
        /* no event in the last hour at all: burn NaN -> +Inf */
        {"idle", 0.999, 1000000, 200, 0, 0, 0.8, INFINITY},
        /* consumed 1236/1000: remaining -0.236, spent -> 0 */
        {"spent", 0.999, 996400, 1200, 3600, 36, -0.236, 0},
        /* eps 0.25 is exact: 250 / (0.25 * 1000) leaves exactly 0 -> 0 */
        {"exactly spent", 0.75, 0, 0, 1000, 250, 0, 0},
        /* exactly spent while not burning: still 0, never +Inf */
        {"exactly spent, idle", 0.75, 1000, 250, 0, 0, 0, 0},
        {"spent, not burning", 0.999, 996400, 1200, 3600, 0, -0.2, 0},
        /* no bad at all: the budget is full, time is +Inf */
        {"full", 0.999, 996400, 0, 3600, 0, 1, INFINITY},
    };
    for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
        struct slo_params p = rolling(rows[i].objective, 30 * DAY);
        struct sliw *w = sliw_new(slo_l2_hours(&p));
        sliw_add(w, T - 10 * DAY, rows[i].old_ev, rows[i].old_bad);
        sliw_add(w, T - 30 * MIN, rows[i].hr_ev, rows[i].hr_bad);
        struct slo_figures f;
        slo_compute(w, &p, T, &f);
        close_to(f.budget_remaining, rows[i].remaining, 1e-9, rows[i].name, __LINE__);
        if (isinf(rows[i].exhaustion_s))
            assert_true(isinf(f.exhaustion_s) && f.exhaustion_s > 0);
        else if (rows[i].exhaustion_s == 0)
            assert_true(f.exhaustion_s == 0);
        else
            close_to(f.exhaustion_s, rows[i].exhaustion_s, 1e-9, rows[i].name, __LINE__);
        /* The 5m window is empty: exhaustion uses the 1h burn only. */
        assert_true(isnan(f.burn[SLO_W_5M]));
        free(w);
    }
}

/* ---- the SRE Workbook figures ---- */

/* One event at every whole second in (from, to]; bad when it falls in
 * (bad_from, bad_to]. */
static void feed_seconds(struct sliw *w, int64_t from, int64_t to, int64_t bad_from, int64_t bad_to)
{
    for (int64_t t = from + SEC; t <= to; t += SEC)
        sliw_add(w, t, 1, t > bad_from && t <= bad_to);
}

struct edges {
    int64_t on[SLO_TIERS + 2], off[SLO_TIERS + 2]; /* tiers, then page, ticket */
    int flips[SLO_TIERS + 2];
};

static void note(struct edges *e, int k, bool was, bool is, int64_t t)
{
    if (was == is)
        return;
    e->flips[k]++;
    if (is && e->on[k] < 0)
        e->on[k] = t;
    if (!is && e->off[k] < 0)
        e->off[k] = t;
}

/*
 * 99.9 %/30 d, min_events 10: one good event per second for four days up to
 * a whole hour H, then a total outage (one bad event per second) for two
 * hours up to R = H + 2h, then good events again. The agent evaluates every
 * 10 s. With x = seconds since H:
 *
 * page fires: 1h window (level 0, exact at every 10 s step) holds 3600
 *   events of which x are bad: burn x / 3.6 > 14.4 <=> x > 51.84 -> x = 60.
 *   (The 5m window is all bad by then.)
 * ticket fires: 1d and 3d come from levels 1 (5 min) and 2 (1 h). At
 *   H + x, x < 300, the 1d sum starts at the 5 min edge H - 86100 s (the
 *   partly covered bucket (H - 86400, H - 86100] is left out), so the test
 *   is x / (86100 + x) > 0.003 <=> x > 259.08; the 3d sum starts at the hour
 *   edge H - 71 h: x / (255600 + x) > 0.001 <=> x > 255.86. The exact
 *   windows give x > 259.2 for both. Every one of these lies in (250, 260],
 *   so both ticket tiers first fire at the step x = 260.
 *
 * After recovery, y = seconds since R:
 * page clears when both short windows drop under their factors: 5m (level 0,
 *   exact) holds 300 - y bad: (300 - y) / 0.3 > 14.4 <=> y < 295.68, so tier 1
 *   stops at y = 300; 30m holds 1800 - y bad: (1800 - y) / 1.8 > 6 <=> y <
 *   1789.2, so tier 2 (and the page) stops at y = 1790.
 * ticket clears when 2h (tier 3) and 6h (tier 4) drop: both come from level
 *   1, whose sum starts at the 5 min edge at or after T - w. Exact windows
 *   would clear at y > 7200 (1 - 3e) = 7178.4 and y > 21600 (1 - e) = 21578.4;
 *   with 5 min buckets the last bad bucket (R - 300 s, R] leaves the sum as
 *   soon as T passes R + w - 300 s, i.e. at y = 6910 and y = 21310 (one
 *   bucket early, the documented error). The ticket clears at y = 21310.
 */
static void test_workbook(void **state)
{
    (void)state;
    const int64_t H = H0;
    const int64_t R = H + 2 * HOUR;
    const int64_t end = R + 6 * HOUR + 10 * MIN;
    struct slo_params p = rolling(0.999, 30 * DAY);
    struct sliw *w = sliw_new(slo_l2_hours(&p));
    feed_seconds(w, H - 4 * DAY, H, H, R);

    struct slo_figures f;
    slo_compute(w, &p, H, &f);
    assert_int_equal(f.events[SLO_W_1H], 3600);
    assert_int_equal(f.bad[SLO_W_1H], 0);
    assert_int_equal(f.events[SLO_W_3D], 3 * 86400);
    assert_int_equal(f.events[SLO_W_PERIOD], 4 * 86400);
    assert_false(f.page);
    assert_false(f.ticket);

    struct edges e;
    for (int k = 0; k < SLO_TIERS + 2; k++) {
        e.on[k] = e.off[k] = -1;
        e.flips[k] = 0;
    }
    bool prev[SLO_TIERS + 2] = {false};
    for (int64_t T = H + 10 * SEC; T <= end; T += 10 * SEC) {
        feed_seconds(w, T - 10 * SEC, T, H, R);
        slo_compute(w, &p, T, &f);
        bool now[SLO_TIERS + 2];
        for (int t = 0; t < SLO_TIERS; t++)
            now[t] = f.tier_firing[t];
        now[SLO_TIERS] = f.page;
        now[SLO_TIERS + 1] = f.ticket;
        assert_int_equal(f.page, f.tier_firing[0] || f.tier_firing[1]);
        assert_int_equal(f.ticket, f.tier_firing[2] || f.tier_firing[3]);
        for (int k = 0; k < SLO_TIERS + 2; k++) {
            note(&e, k, prev[k], now[k], T);
            prev[k] = now[k];
        }
        if (T == H + 60 * SEC) {
            /* 60 bad in the last hour: burn 60 / 3600 / 0.001 = 16.67. */
            assert_int_equal(f.bad[SLO_W_1H], 60);
            assert_close(f.burn[SLO_W_1H], 60.0 / 3.6);
        }
    }

    /* Seconds since the outage (fire) or recovery (clear), as doubles. */
    const double page_on = (double)(e.on[SLO_TIERS] - H) / 1000;
    const double ticket_on = (double)(e.on[SLO_TIERS + 1] - H) / 1000;
    const double page_off = (double)(e.off[SLO_TIERS] - R) / 1000;
    const double ticket_off = (double)(e.off[SLO_TIERS + 1] - R) / 1000;
    print_message("page %.0f s into the outage, ticket %.0f s; clear %.0f s and %.0f s after\n",
                  page_on, ticket_on, page_off, ticket_off);

    /* Page: 51.84 s rounded up to the next 10 s step. */
    assert_true(page_on >= 51.84 && page_on <= 51.84 + 10);
    assert_int_equal(e.on[SLO_TIERS], H + 60 * SEC);
    assert_int_equal(e.on[0], H + 60 * SEC);
    /* Tier 2: 6h from level 1: x / (21300 + x) > 0.006 <=> x > 128.57
     * (exact 129.6) -> 130. */
    assert_int_equal(e.on[1], H + 130 * SEC);

    /* Ticket: 259.2 s within one step; exactly the 260 s step. */
    assert_true(ticket_on >= 259.2 - 10 && ticket_on <= 259.2 + 10);
    assert_int_equal(e.on[SLO_TIERS + 1], H + 260 * SEC);
    assert_int_equal(e.on[2], H + 260 * SEC);
    assert_int_equal(e.on[3], H + 260 * SEC);

    /* Clearing: tier 1 at the 5m window, the page at the 30m window. */
    assert_int_equal(e.off[0], R + 300 * SEC);
    assert_true((double)(e.off[0] - R) / 1000 - 295.68 <= 10);
    assert_int_equal(e.off[1], R + 1790 * SEC);
    assert_true(page_off >= 1789.2 && page_off <= 1789.2 + 10);
    assert_int_equal(e.off[SLO_TIERS], R + 1790 * SEC);
    /* Ticket: tier 3 at the 2h window, the ticket at the 6h window, each
     * within one level-1 bucket (300 s) plus one step of the exact time. */
    assert_int_equal(e.off[2], R + 6910 * SEC);
    assert_true(fabs((double)(e.off[2] - R) / 1000 - 7178.4) <= 300 + 10);
    assert_int_equal(e.off[3], R + 21310 * SEC);
    assert_int_equal(e.off[SLO_TIERS + 1], R + 21310 * SEC);
    assert_true(fabs(ticket_off - 21578.4) <= 300 + 10);

    /* One rise and one fall each: no flapping in between. */
    for (int k = 0; k < SLO_TIERS + 2; k++)
        assert_int_equal(e.flips[k], 2);
    free(w);
}

/* ---- min_events ---- */

/*
 * Sparse traffic: one event per minute (on whole minutes), good for four
 * days up to H, then all bad. Windows at H + x hold: 1h exactly 60 events
 * (level 0); 6h 355 + bad (level 1 from H - 21300 s while x <= 300); 1d 1435 +
 * bad; 3d 4260 + bad (level 2 from H - 71 h). b = x / 60 bad events.
 *   tier 1: b / 60 > 0.0144 <=> b >= 1 -> x = 60 (needs min_events <= 60)
 *   tier 2: b / (355 + b) > 0.006 <=> b >= 3 -> x = 180 (min_events <= ~358)
 *   tier 3: b / (1435 + b) > 0.003 <=> b >= 5 -> x = 300 (<= ~1440)
 *   tier 4: b / (4260 + b) > 0.001 <=> b >= 5 -> x = 300 (<= ~4380)
 */
static void test_min_events(void **state)
{
    (void)state;
    static const struct {
        uint64_t min_events;
        int64_t page_at, ticket_at; /* seconds after H; -1: never in 2 h */
    } rows[] = {
        {10, 60, 300}, {60, 60, 300}, {61, 180, 300}, {1000, -1, 300}, {5000, -1, -1},
    };
    const int64_t H = H0;
    struct sliw *base = sliw_new(721);
    for (int64_t t = H - 4 * DAY + MIN; t <= H; t += MIN)
        sliw_add(base, t, 1, 0);
    for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
        struct slo_params p = rolling(0.999, 30 * DAY);
        p.min_events = rows[i].min_events;
        struct sliw *w = sliw_clone(base);
        int64_t page_at = -1, ticket_at = -1;
        struct slo_figures f;
        for (int64_t T = H + 10 * SEC; T <= H + 2 * HOUR; T += 10 * SEC) {
            if ((T - H) % MIN == 0)
                sliw_add(w, T, 1, 1);
            slo_compute(w, &p, T, &f);
            if (f.page && page_at < 0)
                page_at = (T - H) / SEC;
            if (f.ticket && ticket_at < 0)
                ticket_at = (T - H) / SEC;
        }
        print_message("min_events %llu: page %lld ticket %lld\n",
                      (unsigned long long)rows[i].min_events, (long long)page_at,
                      (long long)ticket_at);
        assert_int_equal(page_at, rows[i].page_at);
        assert_int_equal(ticket_at, rows[i].ticket_at);
        /* At the end every window burns far above its factor: only the
         * event count holds an alert back. */
        assert_int_equal(f.events[SLO_W_1H], 60);
        assert_true(f.burn[SLO_W_1H] > 14.4 && f.burn[SLO_W_5M] > 14.4);
        assert_true(f.burn[SLO_W_6H] > 6 && f.burn[SLO_W_30M] > 6);
        assert_true(f.burn[SLO_W_3D] > 1 && f.burn[SLO_W_6H] > 1);
        free(w);
    }
    free(base);
}

/* ---- calendar months ---- */

static void test_calendar_month(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        int64_t t, start, days;
    } rows[] = {
        {"mid-May 2024", 1715776496000LL, 1714521600000LL, 31},
        {"2024-06-01 00:00 is May's end", 1717200000000LL, 1714521600000LL, 31},
        {"2024-06-01 00:00:00.001", 1717200000001LL, 1717200000000LL, 30},
        {"2028-02-10 (leap)", 1833782400000LL, 1832976000000LL, 29},
        {"2028-02-01 00:00:00.001", 1832976000001LL, 1832976000000LL, 29},
        {"2028-03-01 00:00 is February's end", 1835481600000LL, 1832976000000LL, 29},
        {"2100-02 (not leap)", 4105123200000LL + 5 * DAY, 4105123200000LL, 28},
        {"2000-02 (leap)", 949363200000LL + 28 * DAY + 1, 949363200000LL, 29},
        {"2027-12-31 23:59:59.999", 1830297599999LL, 1827619200000LL, 31},
        {"2028-01-01 00:00 is December's end", 1830297600000LL, 1827619200000LL, 31},
        {"2028-01-01 00:00:00.001", 1830297600001LL, 1830297600000LL, 31},
        {"2028-01-01 00:00:00.999", 1830297600999LL, 1830297600000LL, 31},
    };
    for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
        int64_t start = 0, len = 0;
        slo_calendar_month(rows[i].t, &start, &len);
        if (start != rows[i].start || len != rows[i].days * DAY)
            print_error("%s: start %lld len %lld\n", rows[i].what, (long long)start,
                        (long long)len);
        assert_int_equal(start, rows[i].start);
        assert_int_equal(len, rows[i].days * DAY);
    }
}

/* Midnight on the 1st belongs to the month before ((start, end] rule),
 * also at t = 0, which needs floor division of t - 1 ms, not truncation. */
static void test_calendar_month_epoch(void **state)
{
    (void)state;
    int64_t start = 0, len = 0;
    slo_calendar_month(1, &start, &len);
    assert_int_equal(start, 0);
    assert_int_equal(len, 31 * DAY);
    slo_calendar_month(0, &start, &len);
    assert_int_equal(start, -2678400000LL); /* 1969-12-01T00:00:00Z */
    assert_int_equal(len, 31 * DAY);
}

static void test_calendar_compute(void **state)
{
    (void)state;
    /* May 2027 (31 days) into June (30 days); objective 99 %, eps 0.01. */
    const int64_t apr30_12 = 1809086400000LL, may1 = 1809129600000LL;
    const int64_t may10_06 = 1809928800000LL, may20_12 = 1810814400000LL;
    const int64_t may31_23 = 1811804400000LL, jun1 = 1811808000000LL;
    const int64_t jun1_0030 = 1811809800000LL, jun1_01 = 1811811600000LL;
    struct slo_params p = rolling(0.99, 0);
    p.calendar_month = true;
    p.min_events = 1;
    struct sliw *w = sliw_new(slo_l2_hours(&p));
    struct slo_figures f;

    sliw_add(w, apr30_12, 10, 10);
    sliw_add(w, may1, 20, 20); /* midnight on the 1st: still April */
    sliw_add(w, may1 + 1, 1000, 1);
    sliw_add(w, may10_06, 200, 4);
    sliw_add(w, may20_12, 100, 1);
    slo_compute(w, &p, may20_12, &f);
    assert_int_equal(f.period_ms, 31 * DAY);
    assert_int_equal(f.events[SLO_W_PERIOD], 1300);
    assert_int_equal(f.bad[SLO_W_PERIOD], 6);
    /* remaining = 1 - 6 / (0.01 * 1300) = 7/13; burn_1h = (1/100)/0.01 = 1;
     * exhaustion = 7/13 * 31 d in seconds / 1. */
    assert_close(f.budget_remaining, 7.0 / 13.0);
    assert_close(f.burn[SLO_W_1H], 1.0);
    assert_close(f.exhaustion_s, 7.0 / 13.0 * 31 * 86400);
    /* The fixed windows ignore the calendar: 3d is (May 17 12:00, T]. */
    assert_int_equal(f.events[SLO_W_3D], 100);

    sliw_add(w, may31_23, 500, 2);
    sliw_add(w, jun1, 300, 3); /* midnight on June 1st: May's last event */
    slo_compute(w, &p, jun1, &f);
    assert_int_equal(f.period_ms, 31 * DAY);
    assert_int_equal(f.events[SLO_W_PERIOD], 2100);
    assert_int_equal(f.bad[SLO_W_PERIOD], 11);
    assert_close(f.budget_remaining, 1 - 11.0 / 21.0);

    /* After the rollover only June counts; May is still in the store. */
    sliw_add(w, jun1_0030, 40, 4);
    slo_compute(w, &p, jun1_01, &f);
    assert_int_equal(f.period_ms, 30 * DAY);
    assert_int_equal(f.events[SLO_W_PERIOD], 40);
    assert_int_equal(f.bad[SLO_W_PERIOD], 4);
    assert_close(f.sli[SLO_W_PERIOD], 0.9);
    assert_close(f.burn[SLO_W_PERIOD], 10.0);
    /* remaining 1 - 4 / 0.4 = -9: spent. */
    assert_close(f.budget_remaining, -9.0);
    assert_true(f.exhaustion_s == 0);
    assert_int_equal(f.events[SLO_W_1D], 840);
    assert_int_equal(f.bad[SLO_W_1D], 9);
    free(w);
}

/* ---- freeze policy ---- */

static void test_freeze(void **state)
{
    (void)state;
    /* 99.9 %/30 d, freeze when > 70 % of the budget went in 7 days. The
     * period holds 1e8 events, so eps * total = 100000 and the freeze
     * threshold is 70000 bad events inside (T - 7d, T]. */
    const int64_t T = H0;
    static const struct {
        uint64_t bad_7d;
        int64_t back;     /* where the recent block sits */
        uint64_t bad_old; /* at T - 20d: budget, not policy */
        bool has_policy;
        bool freeze;
    } rows[] = {
        {69999, DAY, 0, true, false},            /* 0.69999 */
        {70000, DAY, 0, true, false},            /* exactly 0.7 is not > 0.7 */
        {70001, DAY, 0, true, true},             /* 0.70001 */
        {69999, DAY, 50000, true, false},        /* old bad events don't count */
        {70001, 7 * DAY, 0, true, false},        /* at T - 7d: outside */
        {70001, 7 * DAY - 1, 0, true, true},     /* 1 ms later: inside */
        {70001, DAY, 0, false, false},           /* no policy */
        {100000, 7 * DAY - HOUR, 0, true, true}, /* the whole budget */
    };
    for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
        struct slo_params p = rolling(0.999, 30 * DAY);
        p.has_policy = rows[i].has_policy;
        p.freeze_when_consumed = 0.7;
        p.policy_over_ms = 7 * DAY;
        struct sliw *w = sliw_new(slo_l2_hours(&p));
        sliw_add(w, T - 20 * DAY, 100000000 - 200000, rows[i].bad_old);
        sliw_add(w, T - rows[i].back, 200000, rows[i].bad_7d);
        struct slo_figures f;
        slo_compute(w, &p, T, &f);
        assert_int_equal(f.events[SLO_W_PERIOD], 100000000);
        assert_int_equal(f.bad[SLO_W_PERIOD], rows[i].bad_7d + rows[i].bad_old);
        if (f.freeze != rows[i].freeze)
            print_error("row %zu: freeze %d\n", i, f.freeze);
        assert_int_equal(f.freeze, rows[i].freeze);
        /* What the freeze compared: the policy window's bad events over
         * the period's budget (100000 bad events here); NaN without a
         * policy. */
        if (rows[i].has_policy) {
            uint64_t inside = rows[i].back < 7 * DAY ? rows[i].bad_7d : 0;
            assert_close(f.policy_consumed, (double)inside / 100000.0);
        } else {
            assert_true(isnan(f.policy_consumed));
        }
        free(w);
    }

    /* The denominator is the period's events, not the 7 days': 700 bad of
     * 1000 recent events (a 70 % error ratio) spend 0.7 % of the budget of
     * a 1e8-event period, exactly 70 % (not more) of a 1e6-event one and
     * just over 70 % of a 999999-event one. */
    static const struct {
        uint64_t total;
        bool freeze;
    } denom[] = {{100000000, false}, {1000000, false}, {999999, true}};
    for (size_t i = 0; i < ARRAY_SIZE(denom); i++) {
        struct slo_params p = rolling(0.999, 30 * DAY);
        p.has_policy = true;
        p.freeze_when_consumed = 0.7;
        p.policy_over_ms = 7 * DAY;
        struct sliw *w = sliw_new(slo_l2_hours(&p));
        sliw_add(w, T - 20 * DAY, denom[i].total - 1000, 0);
        sliw_add(w, T - HOUR, 1000, 700);
        struct slo_figures f;
        slo_compute(w, &p, T, &f);
        assert_int_equal(f.freeze, denom[i].freeze);
        free(w);
    }

    /* With eps = 0.25 (exact in binary) the ratio can sit exactly on the
     * threshold: 700 / (0.25 * 4000) == 0.7 is not > 0.7; 701 is. */
    static const struct {
        uint64_t bad;
        bool freeze;
    } exact[] = {{699, false}, {700, false}, {701, true}};
    for (size_t i = 0; i < ARRAY_SIZE(exact); i++) {
        struct slo_params p = rolling(0.75, 30 * DAY);
        p.has_policy = true;
        p.freeze_when_consumed = 0.7;
        p.policy_over_ms = 7 * DAY;
        struct sliw *w = sliw_new(slo_l2_hours(&p));
        sliw_add(w, T - 20 * DAY, 3000, 0);
        sliw_add(w, T - DAY, 1000, exact[i].bad);
        struct slo_figures f;
        slo_compute(w, &p, T, &f);
        assert_int_equal(f.freeze, exact[i].freeze);
        free(w);
    }

    /* A policy window longer than the period (45 d over 30 d) still sees
     * bad events 40 days back, as slo_l2_hours sizes the store for it. */
    struct slo_params p = rolling(0.999, 30 * DAY);
    p.has_policy = true;
    p.freeze_when_consumed = 0.7;
    p.policy_over_ms = 45 * DAY;
    struct sliw *w = sliw_new(slo_l2_hours(&p));
    sliw_add(w, T - 40 * DAY, 1000, 1000);
    sliw_add(w, T - DAY, 1000000, 0);
    struct slo_figures f;
    slo_compute(w, &p, T, &f);
    assert_int_equal(f.events[SLO_W_PERIOD], 1000000);
    assert_int_equal(f.bad[SLO_W_PERIOD], 0);
    assert_true(f.freeze); /* 1000 / (0.001 * 1e6) = 1 > 0.7 */
    free(w);
}

/* ---- budgets against the expected events ---- */

/* Events the schedule produces: piecewise rates, the first one covering
 * all time before it. */
static void test_expected_integral(void **state)
{
    (void)state;
    const struct slo_rate rates[] = {{H0, 1.0 / 1000}, {H0 + HOUR, 2.0 / 1000}};
    struct slo_params p = rolling(0.999, 30 * DAY);
    assert_true(slo_expected(&p, H0, H0 + HOUR) == 0.0); /* no rates, no schedule */
    p.rates = rates;
    p.n_rates = 2;
    assert_close(slo_expected(&p, H0 - HOUR, H0), 3600);                /* before: the first rate */
    assert_close(slo_expected(&p, H0 + 30 * MIN, H0 + 90 * MIN), 5400); /* 1800 + 3600 */
    assert_close(slo_expected(&p, H0 + 2 * HOUR, H0 + 3 * HOUR), 7200);
    assert_true(slo_expected(&p, H0, H0) == 0.0);
    assert_true(slo_expected(&p, H0 + HOUR, H0) == 0.0);
}

/*
 * A fresh SLO: 99.9 %/30 d over one check every 15 s, 25 minutes of good
 * probes (100), then one failed probe. Against the events observed (no
 * schedule) that one failure reads as a burn of 1 / 101 / 0.001 = 9.9 in
 * every window: the 6h/30m page tier and both ticket tiers fire and the
 * budget shows -890 %. Against the expected events nothing fires: the 1h
 * window has spent 1 / (0.001 x 240) = 4.2 (< 14.4), the 6h window 0.69
 * (< 6), 1d 0.17 (< 3), 3d 0.058 (< 1); the budget is 1 - 1 / 172.8.
 */
static void test_fresh_state_one_failure(void **state)
{
    (void)state;
    const int64_t start = H0 + 17 * SEC; /* off any bucket edge */
    struct slo_params p = rolling(0.999, 30 * DAY);
    struct sliw *w = sliw_new(slo_l2_hours(&p));
    for (int i = 1; i <= 100; i++)
        sliw_add(w, start + i * 15 * SEC, 1, 0);
    int64_t at = start + 101 * 15 * SEC;
    sliw_add(w, at, 1, 1);

    struct slo_figures f;
    slo_compute(w, &p, at, &f);
    assert_true(f.page && f.ticket);
    assert_close(f.budget_remaining, 1.0 - 1.0 / (0.001 * 101));

    const struct slo_rate every_15s = {start, 1.0 / 15000};
    p.rates = &every_15s;
    p.n_rates = 1;
    slo_compute(w, &p, at, &f);
    for (int t = 0; t < SLO_TIERS; t++)
        assert_false(f.tier_firing[t]);
    assert_false(f.page);
    assert_false(f.ticket);
    assert_close(f.expected[SLO_W_1H], 240);
    assert_close(f.expected[SLO_W_6H], 1440);
    assert_close(f.expected[SLO_W_1D], 5760);
    assert_close(f.expected[SLO_W_PERIOD], 172800);
    assert_close(f.budget_remaining, 1.0 - 1.0 / 172.8);
    assert_false(f.budget_remaining <= 0);
    /* The ratios stay over what was observed. */
    assert_int_equal(f.events[SLO_W_1H], 101);
    assert_close(f.burn[SLO_W_1H], (1.0 / 101) / 0.001);

    /* 173 failures spend the whole budget of the period (172.8). */
    for (int i = 2; i <= 173; i++)
        sliw_add(w, at + (i - 1) * 15 * SEC, 1, 1);
    slo_compute(w, &p, at + 172 * 15 * SEC, &f);
    assert_close(f.budget_remaining, 1.0 - 173.0 / 172.8);
    assert_true(f.budget_remaining < 0);
    free(w);
}

/*
 * The Workbook outage of test_workbook, judged against the expected events
 * (one a second): the steady state gives the same edges. The long windows
 * now divide by what a full window holds: 1h x / 3.6 > 14.4 <=> x > 51.84
 * -> 60; 6h x / 21.6 > 6 <=> x > 129.6 -> 130; 1d x / 86.4 > 3 and 3d
 * x / 259.2 > 1 <=> x > 259.2 -> 260. Clearing depends on the short
 * windows, which stay observed: the same steps as before.
 */
static void test_workbook_expected(void **state)
{
    (void)state;
    const int64_t H = H0;
    const int64_t R = H + 2 * HOUR;
    const int64_t end = R + 6 * HOUR + 10 * MIN;
    const struct slo_rate per_second = {H - 4 * DAY, 1.0 / 1000};
    struct slo_params p = rolling(0.999, 30 * DAY);
    p.rates = &per_second;
    p.n_rates = 1;
    struct sliw *w = sliw_new(slo_l2_hours(&p));
    feed_seconds(w, H - 4 * DAY, H, H, R);
    struct edges e;
    for (int k = 0; k < SLO_TIERS + 2; k++) {
        e.on[k] = e.off[k] = -1;
        e.flips[k] = 0;
    }
    bool prev[SLO_TIERS + 2] = {false};
    struct slo_figures f;
    for (int64_t T = H + 10 * SEC; T <= end; T += 10 * SEC) {
        feed_seconds(w, T - 10 * SEC, T, H, R);
        slo_compute(w, &p, T, &f);
        bool now[SLO_TIERS + 2];
        for (int t = 0; t < SLO_TIERS; t++)
            now[t] = f.tier_firing[t];
        now[SLO_TIERS] = f.page;
        now[SLO_TIERS + 1] = f.ticket;
        for (int k = 0; k < SLO_TIERS + 2; k++) {
            note(&e, k, prev[k], now[k], T);
            prev[k] = now[k];
        }
    }
    assert_int_equal(e.on[0], H + 60 * SEC);
    assert_int_equal(e.on[1], H + 130 * SEC);
    assert_int_equal(e.on[SLO_TIERS], H + 60 * SEC);
    assert_int_equal(e.on[2], H + 260 * SEC);
    assert_int_equal(e.on[3], H + 260 * SEC);
    assert_int_equal(e.on[SLO_TIERS + 1], H + 260 * SEC);
    assert_int_equal(e.off[0], R + 300 * SEC);
    assert_int_equal(e.off[SLO_TIERS], R + 1790 * SEC);
    assert_int_equal(e.off[2], R + 6910 * SEC);
    assert_int_equal(e.off[SLO_TIERS + 1], R + 21310 * SEC);
    for (int k = 0; k < SLO_TIERS + 2; k++)
        assert_int_equal(e.flips[k], 2);
    /* The period's budget: 7,200 bad against 0.001 x 2,592,000 expected. */
    assert_close(f.expected[SLO_W_PERIOD], 2592000);
    assert_close(f.budget_remaining, 1.0 - 7200.0 / 2592.0);
    free(w);
}

/* A calendar month's budget is the whole month's: its expected events run
 * to the month's end. */
static void test_calendar_expected(void **state)
{
    (void)state;
    const int64_t feb = 1769904000000LL; /* 2026-02-01T00:00:00Z, 28 days */
    const struct slo_rate per_minute = {feb, 1.0 / 60000};
    struct slo_params p = rolling(0.99, 0);
    p.calendar_month = true;
    p.rates = &per_minute;
    p.n_rates = 1;
    struct sliw *w = sliw_new(slo_l2_hours(&p));
    sliw_add(w, feb + HOUR, 1, 1);
    struct slo_figures f;
    slo_compute(w, &p, feb + 2 * HOUR, &f);
    assert_close(f.expected[SLO_W_PERIOD], 28.0 * 1440);
    assert_close(f.budget_remaining, 1.0 - 1.0 / (0.01 * 28 * 1440));
    free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tier_factors),
        cmocka_unit_test(test_window_names),
        cmocka_unit_test(test_l2_hours),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_per_window),
        cmocka_unit_test(test_tier_threshold),
        cmocka_unit_test(test_exhaustion),
        cmocka_unit_test(test_workbook),
        cmocka_unit_test(test_min_events),
        cmocka_unit_test(test_calendar_month),
        cmocka_unit_test(test_calendar_month_epoch),
        cmocka_unit_test(test_calendar_compute),
        cmocka_unit_test(test_freeze),
        cmocka_unit_test(test_expected_integral),
        cmocka_unit_test(test_fresh_state_one_failure),
        cmocka_unit_test(test_workbook_expected),
        cmocka_unit_test(test_calendar_expected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
