/*
 * test_slo_burndown.c - running sums over the SLI window's buckets
 * (sliw_running) and the error budget burndown made of them
 * (slo_burndown): where the points fall, what each counts, and that the
 * last one is exactly the figure slo_compute gives. Times are explicit
 * Unix milliseconds; expected values are worked out by hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common.h"
#include "slo.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SEC 1000LL
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)

/* 2026-01-01T00:00:00Z: a whole UTC hour. */
#define H0 1767225600000LL

static void expect_point(const struct sliw_point *p, int64_t t, uint64_t ev, uint64_t bad, int k)
{
    if (p->t_ms != t || p->events != ev || p->bad != bad)
        fail_msg("point %d: t %lld events %llu bad %llu; want %lld %llu %llu", k,
                 (long long)p->t_ms, (unsigned long long)p->events, (unsigned long long)p->bad,
                 (long long)t, (unsigned long long)ev, (unsigned long long)bad);
}

static void test_running_window(void **state)
{
    (void)state;
    struct sliw *w = sliw_new(SLIW_L2_MIN_N);
    struct sliw_point pts[80];
    /* Nothing recorded: the points are there, all zero. */
    assert_int_equal(sliw_running(w, H0, HOUR, 0, pts, 60), 60);
    expect_point(&pts[59], H0, 0, 0, 59);
    assert_int_equal(sliw_running(w, H0, HOUR, 0, pts, 0), 0);

    sliw_add(w, H0 - HOUR, 5, 5);         /* the bucket before the window: never counted */
    sliw_add(w, H0 - HOUR + 1, 1, 1);     /* the window's first 10 s bucket */
    sliw_add(w, H0 - 30 * MIN, 2, 1);     /* closes bucket 180 of 360 */
    sliw_add(w, H0 - 30 * MIN + 1, 4, 0); /* opens bucket 181 */
    sliw_add(w, H0, 8, 2);                /* the last bucket */
    /* 1h of 10 s buckets (level 0), 60 points of 6 buckets (a minute). */
    assert_int_equal(sliw_running(w, H0, HOUR, 0, pts, 60), 60);
    for (int k = 0; k < 60; k++) {
        int64_t t = H0 - HOUR + (k + 1) * MIN;
        if (k < 29)
            expect_point(&pts[k], t, 1, 1, k);
        else if (k == 29)
            expect_point(&pts[k], t, 3, 2, k); /* t = H0 - 30m: its bucket is in */
        else if (k < 59)
            expect_point(&pts[k], t, 7, 2, k);
        else
            expect_point(&pts[k], H0, 15, 4, k);
    }
    uint64_t ev, bad;
    sliw_sum(w, H0, HOUR, &ev, &bad);
    assert_int_equal(ev, 15);
    assert_int_equal(bad, 4);

    /* Not on a bucket edge: the last point is at `at`, the others at the
     * ends of their buckets. 5m = 30 buckets, fewer than 60: one a bucket. */
    int64_t at = H0 + 3 * SEC;
    sliw_add(w, H0 + 2 * SEC, 1, 1);
    assert_int_equal(sliw_running(w, at, 5 * MIN, 0, pts, 60), 30);
    /* The window (at - 5m, at] is summed from buckets H0-290s .. H0+10s. */
    for (int k = 0; k < 29; k++)
        expect_point(&pts[k], H0 - 280 * SEC + k * 10 * SEC, k < 28 ? 0 : 8, k < 28 ? 0 : 2, k);
    expect_point(&pts[29], at, 9, 3, 29);
    sliw_sum(w, at, 5 * MIN, &ev, &bad);
    assert_int_equal(ev, 9);
    assert_int_equal(bad, 3);
    /* 30 buckets into 7 points: point k holds the first (k + 1) x 30 / 7
     * buckets: 4, 8, 12, 17, 21, 25, 30. */
    assert_int_equal(sliw_running(w, at, 5 * MIN, 0, pts, 7), 7);
    const int holds[7] = {4, 8, 12, 17, 21, 25, 30};
    for (int k = 0; k < 6; k++)
        expect_point(&pts[k], H0 - 290 * SEC + holds[k] * 10 * SEC, 0, 0, k);
    expect_point(&pts[6], at, 9, 3, 6);
    free(w);
}

static void test_running_since(void **state)
{
    (void)state;
    struct sliw *w = sliw_new(SLIW_L2_MIN_N);
    struct sliw_point pts[60];
    sliw_add(w, H0 - 5 * HOUR, 100, 100); /* before since: out */
    sliw_add(w, H0 - 4 * HOUR - 1, 3, 1);
    sliw_add(w, H0 - 31 * MIN, 2, 2);
    /* Level 2 from since = H0 - 5h up to at = H0 - 30m: five hours. */
    assert_int_equal(sliw_running(w, H0 - 30 * MIN, 0, H0 - 5 * HOUR, pts, 60), 5);
    expect_point(&pts[0], H0 - 4 * HOUR, 3, 1, 0);
    expect_point(&pts[1], H0 - 3 * HOUR, 3, 1, 1);
    expect_point(&pts[2], H0 - 2 * HOUR, 3, 1, 2);
    expect_point(&pts[3], H0 - 1 * HOUR, 3, 1, 3);
    expect_point(&pts[4], H0 - 30 * MIN, 5, 3, 4);
    /* since after at: one empty point. */
    assert_int_equal(sliw_running(w, H0 - 30 * MIN, 0, H0 + HOUR, pts, 60), 1);
    expect_point(&pts[0], H0 - 30 * MIN, 0, 0, 0);
    free(w);
}

/* The last point is sliw_sum's whole sum, whatever the events and the
 * window (a seeded pseudo-random run over every level). */
static void test_running_matches_sum(void **state)
{
    (void)state;
    struct sliw *w = sliw_new(24 * 31 + 1);
    srand(7);
    int64_t t = H0 - 40 * DAY;
    while (t < H0) {
        sliw_add(w, t, (uint64_t)(rand() % 5), (uint64_t)(rand() % 3));
        t += (int64_t)(rand() % (int)(3 * HOUR));
    }
    const int64_t windows[] = {5 * MIN, HOUR, 6 * HOUR, DAY, 3 * DAY, 30 * DAY};
    struct sliw_point pts[60];
    for (size_t i = 0; i < ARRAY_SIZE(windows); i++) {
        for (int64_t at = H0 - 2 * DAY; at <= H0; at += 7 * HOUR + 13 * SEC) {
            uint64_t ev, bad;
            sliw_sum(w, at, windows[i], &ev, &bad);
            size_t n = sliw_running(w, at, windows[i], 0, pts, 60);
            assert_true(n >= 1 && n <= 60);
            expect_point(&pts[n - 1], at, ev, bad, (int)i);
            for (size_t k = 1; k < n; k++)
                assert_true(pts[k].t_ms > pts[k - 1].t_ms && pts[k].events >= pts[k - 1].events);
        }
    }
    free(w);
}

/* A 99 % SLO over 30 days at one event a minute: 43,200 expected events,
 * 432 of them the budget. */
static void test_burndown_rolling(void **state)
{
    (void)state;
    struct slo_rate rate = {0, 1.0 / (double)MIN};
    struct slo_params p;
    memset(&p, 0, sizeof(p));
    p.objective = 0.99;
    p.budget = 0.01;
    p.period_ms = 30 * DAY;
    p.min_events = 10;
    p.rates = &rate;
    p.n_rates = 1;
    struct sliw *w = sliw_new(slo_l2_hours(&p));
    sliw_add(w, H0 - 20 * DAY, 500, 108); /* in the 21st half-day */
    sliw_add(w, H0 - 1, 300, 216);        /* in the last hour */
    struct slo_figures f;
    slo_compute(w, &p, H0, &f);
    assert_true(fabs(f.budget_remaining - 0.25) < 1e-12);
    struct slo_point pts[SLO_BURNDOWN_POINTS];
    /* 720 hourly buckets: 60 points, one each 12 hours. */
    assert_int_equal(slo_burndown(w, &p, &f, pts, 100), 60);
    for (int k = 0; k < 60; k++) {
        int64_t t = H0 - 30 * DAY + (int64_t)(k + 1) * 12 * HOUR;
        /* The bad events at H0 - 20d close the half-day ending then: k 19. */
        double want = k < 19 ? 1.0 : k < 59 ? 0.75 : 0.25;
        if (pts[k].t_ms != t || fabs(pts[k].budget_remaining - want) > 1e-12)
            fail_msg("point %d: %lld %.17g; want %lld %.17g", k, (long long)pts[k].t_ms,
                     pts[k].budget_remaining, (long long)t, want);
    }
    assert_true(pts[59].budget_remaining == f.budget_remaining);
    /* The budget may go below 0. */
    sliw_add(w, H0 - 1, 500, 432);
    slo_compute(w, &p, H0 + 30 * MIN, &f);
    assert_int_equal(slo_burndown(w, &p, &f, pts, 10), 10);
    assert_true(pts[9].t_ms == H0 + 30 * MIN);
    assert_true(fabs(pts[9].budget_remaining - (1.0 - 756.0 / 432.0)) < 1e-12);
    assert_true(pts[9].budget_remaining == f.budget_remaining);
    free(w);
}

static void test_burndown_calendar(void **state)
{
    (void)state;
    /* January 2026 (31 days) at one event every 10 s: 267,840 expected,
     * a 99.9 % objective allows 267.84 bad. */
    struct slo_rate rate = {0, 1.0 / 10000.0};
    struct slo_params p;
    memset(&p, 0, sizeof(p));
    p.objective = 0.999;
    p.budget = 0.001;
    p.calendar_month = true;
    p.min_events = 10;
    p.rates = &rate;
    p.n_rates = 1;
    struct sliw *w = sliw_new(slo_l2_hours(&p));
    sliw_add(w, H0 - HOUR, 50, 50); /* December: not this month's */
    sliw_add(w, H0 + 1, 10, 3);     /* the month's first hour */
    sliw_add(w, H0 + 3 * HOUR + 1, 10, 4);
    int64_t at = H0 + 4 * HOUR + 20 * MIN;
    struct slo_figures f;
    slo_compute(w, &p, at, &f);
    struct slo_point pts[SLO_BURNDOWN_POINTS];
    /* Five hourly buckets so far: one point each. */
    assert_int_equal(slo_burndown(w, &p, &f, pts, SLO_BURNDOWN_POINTS), 5);
    double allowed = 0.001 * (31.0 * DAY / 10000.0);
    const double want[5] = {1 - 3 / allowed, 1 - 3 / allowed, 1 - 3 / allowed, 1 - 7 / allowed,
                            1 - 7 / allowed};
    for (int k = 0; k < 5; k++) {
        assert_true(pts[k].t_ms == (k < 4 ? H0 + (k + 1) * HOUR : at));
        assert_true(fabs(pts[k].budget_remaining - want[k]) < 1e-12);
    }
    assert_true(pts[4].budget_remaining == f.budget_remaining);
    free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_running_window),      cmocka_unit_test(test_running_since),
        cmocka_unit_test(test_running_matches_sum), cmocka_unit_test(test_burndown_rolling),
        cmocka_unit_test(test_burndown_calendar),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
