/*
 * test_sli_window.c - unit tests for the multi-resolution rolling event
 * counts (sli_window.c). Every time is an explicit Unix millisecond (a fake
 * clock); windows are (T - w, T] and bucket k of size b holds k*b < t <=
 * (k+1)*b. Sums are checked against a brute-force count of the same events.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common.h"
#include "sli_window.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEC 1000LL
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)

/* 2026-01-01T00:00:00Z: a whole UTC hour (and day). */
#define H0 1767225600000LL

/* The windows the SLO engine asks for, with the bucket size of the level
 * that serves each (the finest whose span covers the window). */
static const struct {
    const char *name;
    int64_t w, b;
} windows[] = {
    {"5m", 5 * MIN, SLIW_L0_MS},  {"30m", 30 * MIN, SLIW_L0_MS}, {"1h", HOUR, SLIW_L0_MS},
    {"2h", 2 * HOUR, SLIW_L1_MS}, {"6h", 6 * HOUR, SLIW_L1_MS},  {"1d", DAY, SLIW_L1_MS},
    {"3d", 3 * DAY, SLIW_L2_MS},  {"30d", 30 * DAY, SLIW_L2_MS},
};

static uint64_t sum_events(const struct sliw *w, int64_t at, int64_t win)
{
    uint64_t ev = 0, bad = 0;
    sliw_sum(w, at, win, &ev, &bad);
    return ev;
}

/* Sum of every bucket a level's ring holds. */
static uint64_t level_total(const struct sliw *w, int level, uint64_t *bad)
{
    struct sliw_level_view v;
    sliw_level(w, level, &v);
    uint64_t ev = 0, bd = 0;
    for (uint32_t i = 0; i < v.n; i++) {
        ev += v.buckets[i].events;
        bd += v.buckets[i].bad;
    }
    if (bad)
        *bad = bd;
    return ev;
}

/* The bucket at absolute index idx of a level (idx must be >= 0). */
static struct sliw_bucket bucket_at(const struct sliw *w, int level, int64_t idx)
{
    struct sliw_level_view v;
    sliw_level(w, level, &v);
    return v.buckets[(uint64_t)idx % v.n];
}

static int64_t head_of(const struct sliw *w, int level)
{
    struct sliw_level_view v;
    sliw_level(w, level, &v);
    return v.head;
}

/* ---- geometry, size ---- */

static void test_geometry_and_size(void **state)
{
    (void)state;
    struct sliw *w = sliw_new(721);
    const int64_t bms[SLIW_LEVELS] = {10000, 300000, 3600000};
    const uint32_t ns[SLIW_LEVELS] = {360, 288, 721};
    for (int l = 0; l < SLIW_LEVELS; l++) {
        struct sliw_level_view v;
        sliw_level(w, l, &v);
        assert_int_equal(v.bucket_ms, bms[l]);
        assert_int_equal(v.n, ns[l]);
        assert_true(v.head == INT64_MIN);
        assert_int_equal(level_total(w, l, NULL), 0);
    }
    /* The memory budget: a 30 d SLO's state is at most 16 KiB. */
    size_t sz = sliw_size(w);
    assert_true(sz <= 16384);
    assert_true(sz >= (360 + 288 + 721) * sizeof(struct sliw_bucket));

    /* l2_hours is clamped to [72, 2161]; each extra hour costs one bucket. */
    static const struct {
        uint32_t asked, n;
    } clamp[] = {{0, 72},      {71, 72},     {72, 72},      {722, 722},
                 {2161, 2161}, {2162, 2161}, {100000, 2161}};
    for (size_t i = 0; i < ARRAY_SIZE(clamp); i++) {
        struct sliw *x = sliw_new(clamp[i].asked);
        struct sliw_level_view v;
        sliw_level(x, 2, &v);
        assert_int_equal(v.n, clamp[i].n);
        int64_t extra = ((int64_t)clamp[i].n - 721) * (int64_t)sizeof(struct sliw_bucket);
        assert_int_equal((int64_t)sliw_size(x), (int64_t)sz + extra);
        free(x);
    }
    free(w);
}

/* ---- bucket edges ---- */

static void test_bucket_edges(void **state)
{
    (void)state;
    /* An event at exactly k*b belongs to the bucket ending at k*b. */
    static const struct {
        int64_t t;
        int64_t head[SLIW_LEVELS];
    } place[] = {
        {H0, {H0 / 10000 - 1, H0 / 300000 - 1, H0 / 3600000 - 1}},
        {H0 + 1, {H0 / 10000, H0 / 300000, H0 / 3600000}},
        {H0 + 10000, {H0 / 10000, H0 / 300000, H0 / 3600000}},
        {H0 + 10001, {H0 / 10000 + 1, H0 / 300000, H0 / 3600000}},
        {H0 + 300000, {H0 / 10000 + 29, H0 / 300000, H0 / 3600000}},
        {H0 + 300001, {H0 / 10000 + 30, H0 / 300000 + 1, H0 / 3600000}},
        {H0 + HOUR, {H0 / 10000 + 359, H0 / 300000 + 11, H0 / 3600000}},
    };
    for (size_t i = 0; i < ARRAY_SIZE(place); i++) {
        struct sliw *w = sliw_new(721);
        sliw_add(w, place[i].t, 3, 1);
        for (int l = 0; l < SLIW_LEVELS; l++) {
            assert_int_equal(head_of(w, l), place[i].head[l]);
            struct sliw_bucket b = bucket_at(w, l, place[i].head[l]);
            assert_int_equal(b.events, 3);
            assert_int_equal(b.bad, 1);
            assert_int_equal(level_total(w, l, NULL), 3);
        }
        free(w);
    }

    /* One event at t, window w summed at T: T - w < t <= T. */
    static const struct {
        int64_t t, at, win;
        uint64_t want;
    } sums[] = {
        /* level 0 (10 s) */
        {H0 + 10000, H0 + 10000, 5 * MIN, 1},     /* t == T: inside */
        {H0 + 10000, H0 + 310000, 5 * MIN, 0},    /* t == T - w: outside */
        {H0 + 10001, H0 + 310000, 5 * MIN, 1},    /* just inside */
        {H0 + 10000, H0 + 10000 + HOUR, HOUR, 0}, /* 1h edge */
        {H0 + 10001, H0 + 10000 + HOUR, HOUR, 1}, /* 1h edge */
        {H0 + 10000, H0 + 10000 + 29 * MIN, 30 * MIN, 1},
        /* Non-aligned T = H0 + 309999: the exact window (H0 + 9999, T]
         * holds the event, but its bucket (H0, H0 + 10 s] is only partly
         * covered, so it is left out: 0 <= true count 1. */
        {H0 + 10000, H0 + 309999, 5 * MIN, 0},
        /* level 1 (5 min) */
        {H0 + 300000, H0 + 300000 + 2 * HOUR, 2 * HOUR, 0},
        {H0 + 300001, H0 + 300000 + 2 * HOUR, 2 * HOUR, 1},
        {H0 + 300000, H0 + 300000 + DAY, DAY, 0},
        {H0 + 300001, H0 + 300000 + DAY, DAY, 1},
        {H0 + 300000, H0 + 300000 + 6 * HOUR - 300000, 6 * HOUR, 1},
        /* level 2 (1 h) */
        {H0, H0 + 3 * DAY, 3 * DAY, 0},
        {H0 + 1, H0 + 3 * DAY, 3 * DAY, 1},
        {H0, H0 + 3 * DAY - HOUR, 3 * DAY, 1},
        {H0, H0 + 30 * DAY, 30 * DAY, 0},
        {H0 + 1, H0 + 30 * DAY, 30 * DAY, 1},
        {H0 + HOUR, H0 + 30 * DAY, 30 * DAY, 1},
    };
    for (size_t i = 0; i < ARRAY_SIZE(sums); i++) {
        struct sliw *w = sliw_new(721);
        sliw_add(w, sums[i].t, 1, 1);
        uint64_t ev = 99, bad = 99;
        sliw_sum(w, sums[i].at, sums[i].win, &ev, &bad);
        if (ev != sums[i].want || bad != sums[i].want)
            print_error("row %zu: events %llu bad %llu, want %llu\n", i, (unsigned long long)ev,
                        (unsigned long long)bad, (unsigned long long)sums[i].want);
        assert_int_equal(ev, sums[i].want);
        assert_int_equal(bad, sums[i].want);
        free(w);
    }
}

/* ---- 31 days of events against brute force ---- */

/* Events every 5 s (so every other one sits exactly on a 10 s edge) over
 * 31 days ending at H0, with varying counts and bad counts. */
#define BF_STEP (5 * SEC)
#define BF_START (H0 - 31 * DAY)
#define BF_N ((size_t)(31 * DAY / BF_STEP))
#define BF_MAXC 5u

static int64_t bf_time(size_t i)
{
    return BF_START + BF_STEP * (int64_t)(i + 1);
}

static uint64_t bf_count(size_t i)
{
    return 1 + ((i * 2654435761u) >> 9) % BF_MAXC;
}

static uint64_t bf_bad(size_t i)
{
    if (i % 13 == 0)
        return bf_count(i);
    return i % 3 == 0 ? 1 : 0;
}

/* Number of generated events with time <= t. */
static size_t bf_le(int64_t t)
{
    if (t < BF_START + BF_STEP)
        return 0;
    int64_t k = (t - BF_START) / BF_STEP;
    return (size_t)k > BF_N ? BF_N : (size_t)k;
}

struct bf {
    uint64_t *ev, *bad; /* prefix sums, BF_N + 1 entries */
};

/* Brute force: events and bad events with lo < t <= hi. */
static void bf_range(const struct bf *p, int64_t lo, int64_t hi, uint64_t *ev, uint64_t *bad)
{
    size_t a = bf_le(lo), b = bf_le(hi);
    *ev = p->ev[b] - p->ev[a];
    *bad = p->bad[b] - p->bad[a];
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static void test_brute_force(void **state)
{
    (void)state;
    struct bf p;
    p.ev = xcalloc(BF_N + 1, sizeof(uint64_t));
    p.bad = xcalloc(BF_N + 1, sizeof(uint64_t));
    for (size_t i = 0; i < BF_N; i++) {
        p.ev[i + 1] = p.ev[i] + bf_count(i);
        p.bad[i + 1] = p.bad[i] + bf_bad(i);
    }
    assert_true(bf_time(BF_N - 1) == H0);

    /* Check times in increasing order; events are fed up to each one. */
    static const struct {
        int64_t at;
        bool whole_hour;
    } checks[] = {
        {H0 - DAY, true},                         /* 30 d of history */
        {H0 - DAY + HOUR + 130 * SEC, false},     /* 10 s edge, not 5 min */
        {H0 - DAY + 2 * HOUR + 600 * SEC, false}, /* 5 min edge, not hour */
        {H0 - DAY + 3 * HOUR + 17 * MIN + 23456, false},
        {H0 - DAY + 5 * HOUR + 5 * SEC, false}, /* exactly an event time */
        {H0 - DAY + 5 * HOUR + 5 * SEC + 1, false},
        {H0 - DAY + 7 * HOUR, true},
        {H0 - DAY + 12 * HOUR + 1, false},
        {H0 - DAY + 13 * HOUR - 1, false},
        {H0 - 2 * HOUR, true},
        {H0, true},
    };
    struct sliw *w = sliw_new(721);
    size_t next = 0;
    for (size_t c = 0; c < ARRAY_SIZE(checks); c++) {
        int64_t T = checks[c].at;
        assert_int_equal(checks[c].whole_hour, T % HOUR == 0);
        for (; next < BF_N && bf_time(next) <= T; next++)
            sliw_add(w, bf_time(next), bf_count(next), bf_bad(next));
        for (size_t k = 0; k < ARRAY_SIZE(windows); k++) {
            int64_t win = windows[k].w, b = windows[k].b;
            uint64_t ev, bad, tev, tbad;
            sliw_sum(w, T, win, &ev, &bad);
            bf_range(&p, T - win, T, &tev, &tbad);
            assert_true(tev > 0);
            if (checks[c].whole_hour) {
                if (ev != tev || bad != tbad)
                    print_error("T=%lld %s: %llu/%llu, want %llu/%llu\n", (long long)T,
                                windows[k].name, (unsigned long long)ev, (unsigned long long)bad,
                                (unsigned long long)tev, (unsigned long long)tbad);
                assert_int_equal(ev, tev);
                assert_int_equal(bad, tbad);
                continue;
            }
            /* Elsewhere: never more than the true count, short by at most
             * one bucket of the level, and exactly the events after the
             * edge of the oldest whole bucket. */
            assert_true(ev <= tev);
            assert_true(bad <= tbad);
            assert_true(tev - ev <= (uint64_t)(b / BF_STEP) * BF_MAXC);
            assert_true(tbad - bad <= (uint64_t)(b / BF_STEP) * BF_MAXC);
            int64_t hi = floor_div(T - 1, b);
            int64_t edge = (hi - win / b + 1) * b;
            assert_true(edge >= T - win && edge < T - win + b);
            uint64_t eev, ebad;
            bf_range(&p, edge, T, &eev, &ebad);
            if (ev != eev || bad != ebad)
                print_error("T=%lld %s: %llu/%llu, want %llu/%llu\n", (long long)T, windows[k].name,
                            (unsigned long long)ev, (unsigned long long)bad,
                            (unsigned long long)eev, (unsigned long long)ebad);
            assert_int_equal(ev, eev);
            assert_int_equal(bad, ebad);
        }
    }
    assert_int_equal(next, BF_N);
    free(w);
    free(p.ev);
    free(p.bad);
}

/* ---- rings: dropping, advancing, order ---- */

static void test_drop_per_level(void **state)
{
    (void)state;
    const int64_t T = H0;
    struct sliw *w = sliw_new(721);
    sliw_add(w, T, 1, 0);
    /* Exactly one L0 ring (1 h) old: its bucket is head - 360, gone from
     * level 0 only. 1 ms later it is head - 359, still held. */
    sliw_add(w, T - HOUR, 10, 1);
    sliw_add(w, T - HOUR + 1, 100, 2);
    /* Older than level 1's day: level 2 only. */
    sliw_add(w, T - 2 * DAY, 1000, 3);
    /* Level 2 reaches head - 720: (T - 30d - 1h, T - 30d] stays, one more
     * hour back is gone everywhere. */
    sliw_add(w, T - 30 * DAY - HOUR, 10000, 4);
    sliw_add(w, T - 30 * DAY - HOUR + 1, 20000, 5);

    uint64_t bad;
    assert_int_equal(level_total(w, 0, &bad), 101);
    assert_int_equal(bad, 2);
    assert_int_equal(level_total(w, 1, &bad), 111);
    assert_int_equal(bad, 3);
    assert_int_equal(level_total(w, 2, &bad), 21111);
    assert_int_equal(bad, 11);
    for (int l = 0; l < SLIW_LEVELS; l++)
        assert_int_equal(head_of(w, l), floor_div(T - 1, l == 0 ? 10000 : l == 1 ? 300000 : HOUR));

    assert_int_equal(sum_events(w, T, HOUR), 101);
    assert_int_equal(sum_events(w, T, 2 * HOUR), 111);
    assert_int_equal(sum_events(w, T, DAY), 111);
    assert_int_equal(sum_events(w, T, 3 * DAY), 1111);
    assert_int_equal(sum_events(w, T, 30 * DAY), 1111);
    uint64_t ev;
    sliw_sum_since(w, T, T - 40 * DAY, &ev, &bad); /* clipped to the ring */
    assert_int_equal(ev, 21111);
    assert_int_equal(bad, 11);

    /* A query long after the last event, with no add in between: only
     * what the window still covers. */
    assert_int_equal(sum_events(w, T + 2 * HOUR, HOUR), 0);
    assert_int_equal(sum_events(w, T + 2 * HOUR, 30 * MIN), 0);
    assert_int_equal(sum_events(w, T + 2 * HOUR, 6 * HOUR), 111);
    assert_int_equal(sum_events(w, T + 2 * DAY, DAY), 0);
    assert_int_equal(sum_events(w, T + 2 * DAY, 3 * DAY), 111);
    free(w);
}

static void test_advance(void **state)
{
    (void)state;
    const int64_t T = H0;
    struct sliw *w = sliw_new(721);
    sliw_add(w, T, 5, 1);
    /* Level 0 advanced by n - 1 buckets keeps the old head ... */
    sliw_add(w, T + 359 * 10000, 1, 0);
    assert_int_equal(level_total(w, 0, NULL), 6);
    assert_int_equal(sum_events(w, T + 359 * 10000, HOUR), 6);
    /* ... and by n buckets drops it (from level 0 only). */
    sliw_add(w, T + 360 * 10000, 1, 0);
    assert_int_equal(level_total(w, 0, NULL), 2);
    assert_int_equal(level_total(w, 1, NULL), 7);
    assert_int_equal(level_total(w, 2, NULL), 7);
    assert_int_equal(sum_events(w, T + HOUR, HOUR), 2);
    assert_int_equal(sum_events(w, T + HOUR, 2 * HOUR), 7);

    /* A jump of exactly the level 2 ring (721 h) and then of 100 days:
     * every level holds only the newest event. */
    const int64_t jumps[] = {T + 721 * HOUR + HOUR, T + 721 * HOUR + HOUR + 100 * DAY};
    for (size_t j = 0; j < ARRAY_SIZE(jumps); j++) {
        sliw_add(w, jumps[j], 1, 1);
        for (int l = 0; l < SLIW_LEVELS; l++) {
            uint64_t bad;
            assert_int_equal(level_total(w, l, &bad), 1);
            assert_int_equal(bad, 1);
        }
        for (size_t k = 0; k < ARRAY_SIZE(windows); k++)
            assert_int_equal(sum_events(w, jumps[j], windows[k].w), 1);
    }
    free(w);
}

static void test_out_of_order(void **state)
{
    (void)state;
    const int64_t T = H0;
    const int64_t h0 = T / 10000 - 1, h1 = T / 300000 - 1, h2 = T / HOUR - 1;
    struct sliw *w = sliw_new(721);
    sliw_add(w, T, 1, 0);
    sliw_add(w, T - 25 * SEC, 2, 1);     /* L0 head-2, L1 head, L2 head */
    sliw_add(w, T - 4000 * SEC, 4, 0);   /* L0: too old; L1 head-13; L2 head-1 */
    sliw_add(w, T - 10 * SEC - 1, 8, 8); /* L0 head-1 */
    sliw_add(w, T - 10 * SEC, 16, 0);    /* L0 head-1 too: the edge ends that bucket */

    static const struct {
        int level;
        int64_t back;
        uint32_t events, bad;
    } want[] = {
        {0, 0, 1, 0}, {0, 1, 24, 8}, {0, 2, 2, 1},  {0, 3, 0, 0}, {1, 0, 27, 9}, {1, 13, 4, 0},
        {1, 1, 0, 0}, {1, 14, 0, 0}, {2, 0, 27, 9}, {2, 1, 4, 0}, {2, 2, 0, 0},
    };
    const int64_t heads[SLIW_LEVELS] = {h0, h1, h2};
    for (int l = 0; l < SLIW_LEVELS; l++)
        assert_int_equal(head_of(w, l), heads[l]);
    for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
        struct sliw_bucket b = bucket_at(w, want[i].level, heads[want[i].level] - want[i].back);
        assert_int_equal(b.events, want[i].events);
        assert_int_equal(b.bad, want[i].bad);
    }
    assert_int_equal(level_total(w, 0, NULL), 27);

    uint64_t ev, bad;
    sliw_sum(w, T, 10 * SEC, &ev, &bad);
    assert_int_equal(ev, 1);
    sliw_sum(w, T, 20 * SEC, &ev, &bad);
    assert_int_equal(ev, 25);
    assert_int_equal(bad, 8);
    sliw_sum(w, T, 5 * MIN, &ev, &bad);
    assert_int_equal(ev, 27);
    assert_int_equal(bad, 9);
    sliw_sum(w, T, 2 * HOUR, &ev, &bad);
    assert_int_equal(ev, 31);
    /* A past T inside the ring sees the late event in its own bucket. */
    sliw_sum(w, T - 20 * SEC, 10 * SEC, &ev, &bad);
    assert_int_equal(ev, 2);
    assert_int_equal(bad, 1);
    free(w);
}

static void test_saturation_and_clamp(void **state)
{
    (void)state;
    const int64_t T = H0;
    struct sliw *w = sliw_new(721);
    sliw_add(w, T, UINT32_MAX - 1, UINT32_MAX - 1);
    sliw_add(w, T, 5, 3);
    for (int l = 0; l < SLIW_LEVELS; l++) {
        struct sliw_bucket b = bucket_at(w, l, head_of(w, l));
        assert_int_equal(b.events, UINT32_MAX);
        assert_int_equal(b.bad, UINT32_MAX);
    }
    /* One add larger than a bucket holds, in the previous 10 s bucket
     * (the same 5 min and 1 h buckets). */
    sliw_add(w, T - 10 * SEC, (uint64_t)1 << 40, 7);
    struct sliw_bucket b = bucket_at(w, 0, head_of(w, 0) - 1);
    assert_int_equal(b.events, UINT32_MAX);
    assert_int_equal(b.bad, 7);
    /* Sums are 64-bit: two saturated buckets do not wrap. */
    uint64_t ev, bad;
    sliw_sum(w, T, 5 * MIN, &ev, &bad);
    assert_true(ev == 2ull * UINT32_MAX);
    assert_true(bad == (uint64_t)UINT32_MAX + 7);
    /* Level 1 holds both adds in one saturated bucket. */
    sliw_sum(w, T, 2 * HOUR, &ev, &bad);
    assert_true(ev == UINT32_MAX);
    assert_true(bad == UINT32_MAX);
    free(w);

    /* bad > events is clamped to events; zero events add nothing. */
    static const struct {
        uint64_t events, bad;
        uint32_t want_ev, want_bad;
    } clamp[] = {{5, 9, 5, 5}, {5, 5, 5, 5}, {5, 4, 5, 4}, {0, 3, 0, 0}, {1, UINT64_MAX, 1, 1}};
    for (size_t i = 0; i < ARRAY_SIZE(clamp); i++) {
        w = sliw_new(721);
        sliw_add(w, T, clamp[i].events, clamp[i].bad);
        for (int l = 0; l < SLIW_LEVELS; l++) {
            uint64_t tb;
            assert_int_equal(level_total(w, l, &tb), clamp[i].want_ev);
            assert_int_equal(tb, clamp[i].want_bad);
        }
        free(w);
    }
}

/* ---- calendar sums, clone ---- */

static void test_sum_since(void **state)
{
    (void)state;
    /* M = 2027-05-01T00:00:00Z, the start of a calendar month. */
    const int64_t M = 1809129600000LL;
    struct sliw *w = sliw_new(745);
    for (int64_t t = M - 5 * DAY + HOUR; t <= M + 10 * DAY; t += HOUR) {
        sliw_add(w, t, 1, 0);
        if (t == M)
            sliw_add(w, M, 100, 100); /* midnight on the 1st: the month before */
    }
    sliw_add(w, M + 1, 1000, 10); /* first ms of the month: inside */

    static const struct {
        int64_t at, since;
        uint64_t ev, bad;
    } rows[] = {
        {M + 10 * DAY, M, 240 + 1000, 10},
        {M + 10 * DAY + 30 * MIN, M, 240 + 1000, 10}, /* mid-hour T */
        {M + 10 * DAY, M - 2 * DAY, 48 + 100 + 240 + 1000, 110},
        {M + 10 * DAY, M + 10 * DAY, 0, 0},        /* empty range */
        {M + 10 * DAY, M + 10 * DAY - HOUR, 1, 0}, /* last hour */
        {M + 5 * DAY, M, 120 + 1000, 10},          /* past T in the ring */
        {M, M - DAY, 24 + 100, 100},               /* T = midnight: inclusive */
    };
    for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
        uint64_t ev = 99, bad = 99;
        sliw_sum_since(w, rows[i].at, rows[i].since, &ev, &bad);
        if (ev != rows[i].ev || bad != rows[i].bad)
            print_error("row %zu: %llu/%llu\n", i, (unsigned long long)ev, (unsigned long long)bad);
        assert_int_equal(ev, rows[i].ev);
        assert_int_equal(bad, rows[i].bad);
    }
    free(w);

    /* A start older than the ring reaches is clipped to the ring: a 72 h
     * store only has the last 72 hourly events. */
    w = sliw_new(0);
    for (int64_t t = M - 5 * DAY + HOUR; t <= M + 10 * DAY; t += HOUR)
        sliw_add(w, t, 1, 0);
    uint64_t ev, bad;
    sliw_sum_since(w, M + 10 * DAY, M, &ev, &bad);
    assert_int_equal(ev, 72);
    free(w);
}

static void test_clone(void **state)
{
    (void)state;
    struct sliw *w = sliw_new(721);
    for (int64_t t = H0 - 2 * DAY; t <= H0; t += 7 * SEC)
        sliw_add(w, t, 2, (uint64_t)(t / SEC) % 3 == 0);
    struct sliw *c = sliw_clone(w);
    assert_int_equal(sliw_size(c), sliw_size(w));
    uint64_t before[ARRAY_SIZE(windows)];
    for (size_t k = 0; k < ARRAY_SIZE(windows); k++) {
        before[k] = sum_events(w, H0, windows[k].w);
        assert_int_equal(sum_events(c, H0, windows[k].w), before[k]);
    }
    for (int l = 0; l < SLIW_LEVELS; l++) {
        struct sliw_level_view a, b;
        sliw_level(w, l, &a);
        sliw_level(c, l, &b);
        assert_true(a.buckets != b.buckets);
        assert_int_equal(a.head, b.head);
        assert_memory_equal(a.buckets, b.buckets, a.n * sizeof(struct sliw_bucket));
    }

    /* Writing to the clone leaves the original alone, and back. */
    sliw_add(c, H0, 1000, 1000);
    for (size_t k = 0; k < ARRAY_SIZE(windows); k++) {
        assert_int_equal(sum_events(w, H0, windows[k].w), before[k]);
        assert_int_equal(sum_events(c, H0, windows[k].w), before[k] + 1000);
    }
    sliw_add(w, H0, 7, 0);
    assert_int_equal(sum_events(w, H0, 5 * MIN), before[0] + 7);
    assert_int_equal(sum_events(c, H0, 5 * MIN), before[0] + 1000);
    /* Advancing the clone's rings two hours leaves the original's head. */
    sliw_add(c, H0 + 2 * HOUR, 1, 0);
    assert_int_equal(sum_events(c, H0, 5 * MIN), 0);
    assert_int_equal(sum_events(w, H0, 5 * MIN), before[0] + 7);
    free(w);
    /* The clone owns its buckets: still readable after the original is
     * freed (ASan would catch a shared pointer). */
    assert_int_equal(sum_events(c, H0 + 2 * HOUR, 30 * DAY), before[7] + 1000 + 1);
    free(c);
}

/* ---- persistence round trip ---- */

static void copy_all(const struct sliw *from, struct sliw *to)
{
    for (int l = 0; l < SLIW_LEVELS; l++) {
        struct sliw_level_view v;
        sliw_level(from, l, &v);
        if (v.head == INT64_MIN)
            continue;
        for (int64_t idx = v.head - (int64_t)v.n + 1; idx <= v.head; idx++) {
            struct sliw_bucket b = v.buckets[(uint64_t)idx % v.n];
            if (b.events || b.bad)
                sliw_restore_bucket(to, l, idx, b);
        }
    }
}

static void test_restore_round_trip(void **state)
{
    (void)state;
    struct sliw *a = sliw_new(721);
    for (int64_t t = H0 - 31 * DAY + MIN; t <= H0; t += MIN) {
        uint64_t i = (uint64_t)(t / MIN);
        sliw_add(a, t, 1 + i % 7, i % 5 == 0);
    }
    sliw_add(a, H0 - 3 * HOUR, 50, 50);
    struct sliw *b = sliw_new(721);
    copy_all(a, b);
    for (int l = 0; l < SLIW_LEVELS; l++) {
        struct sliw_level_view va, vb;
        sliw_level(a, l, &va);
        sliw_level(b, l, &vb);
        assert_int_equal(va.head, vb.head);
        assert_memory_equal(va.buckets, vb.buckets, va.n * sizeof(struct sliw_bucket));
    }
    const int64_t ats[] = {H0, H0 - 2 * HOUR, H0 + 37 * SEC, H0 + 3 * HOUR};
    for (size_t i = 0; i < ARRAY_SIZE(ats); i++) {
        for (size_t k = 0; k < ARRAY_SIZE(windows); k++) {
            uint64_t ea, ba, eb, bb;
            sliw_sum(a, ats[i], windows[k].w, &ea, &ba);
            sliw_sum(b, ats[i], windows[k].w, &eb, &bb);
            assert_int_equal(ea, eb);
            assert_int_equal(ba, bb);
        }
        uint64_t ea, ba, eb, bb;
        sliw_sum_since(a, ats[i], H0 - 20 * DAY, &ea, &ba);
        sliw_sum_since(b, ats[i], H0 - 20 * DAY, &eb, &bb);
        assert_int_equal(ea, eb);
        assert_int_equal(ba, bb);
    }
    /* Live adds after the restore keep them equal. */
    sliw_add(a, H0 + 15 * SEC, 3, 1);
    sliw_add(b, H0 + 15 * SEC, 3, 1);
    for (size_t k = 0; k < ARRAY_SIZE(windows); k++)
        assert_int_equal(sum_events(a, H0 + 15 * SEC, windows[k].w),
                         sum_events(b, H0 + 15 * SEC, windows[k].w));
    free(a);
    free(b);

    /* Restore semantics: adds to what the ring holds; ignored out of reach;
     * an empty bucket changes nothing (not even the head). */
    struct sliw *w = sliw_new(721);
    sliw_add(w, H0, 4, 1);
    const int64_t h = head_of(w, 0);
    sliw_restore_bucket(w, 0, h, (struct sliw_bucket){6, 2});
    assert_int_equal(bucket_at(w, 0, h).events, 10);
    assert_int_equal(bucket_at(w, 0, h).bad, 3);
    sliw_restore_bucket(w, 0, h - 360, (struct sliw_bucket){100, 0}); /* out of reach */
    sliw_restore_bucket(w, 0, h - 359, (struct sliw_bucket){1000, 0});
    assert_int_equal(level_total(w, 0, NULL), 1010);
    sliw_restore_bucket(w, 0, h + 1000, (struct sliw_bucket){0, 0});
    assert_int_equal(head_of(w, 0), h);
    assert_int_equal(level_total(w, 0, NULL), 1010);
    free(w);
}

/* ---- near the epoch ---- */

/* Buckets before the epoch (negative indexes, as a fake clock or a replay
 * starting near 0 produces) need a floor modulus for their ring slot; with
 * an unsigned modulus index -16 once shared slot 0 and one event counted
 * twice. */
static void test_near_epoch(void **state)
{
    (void)state;
    struct sliw *w = sliw_new(721);
    sliw_add(w, 1000, 1, 1);
    int wrong = 0;
    for (size_t k = 0; k < ARRAY_SIZE(windows); k++) {
        uint64_t ev, bad;
        sliw_sum(w, 1000, windows[k].w, &ev, &bad);
        if (ev != 1 || bad != 1) {
            print_error("window %s at T=1s: %llu/%llu, want 1/1\n", windows[k].name,
                        (unsigned long long)ev, (unsigned long long)bad);
            wrong++;
        }
    }
    assert_int_equal(wrong, 0);
    free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_geometry_and_size),
        cmocka_unit_test(test_bucket_edges),
        cmocka_unit_test(test_brute_force),
        cmocka_unit_test(test_drop_per_level),
        cmocka_unit_test(test_advance),
        cmocka_unit_test(test_out_of_order),
        cmocka_unit_test(test_saturation_and_clamp),
        cmocka_unit_test(test_sum_since),
        cmocka_unit_test(test_clone),
        cmocka_unit_test(test_restore_round_trip),
        cmocka_unit_test(test_near_epoch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
