/*
 * test_rec_trend.c - the recorder's 10-minute trend ring (recorder.c):
 * slots keyed by wall-clock time, rollover as time moves on (the wall time
 * is an argument, so the test moves it by hand), saturation, and
 * rec_quantile against Prometheus' histogram_quantile by hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdint.h>
#include <cmocka.h>

#include "common.h"
#include "recorder.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>

/* 2026-11-01T12:00:00Z, a multiple of 30 s: slot A starts here. */
#define T0 1793534400.0

static const double bounds3[] = {0.1, 0.5, 1.0};

static void record(struct rec *r, double wall, double duration, bool ok)
{
    struct check_result res;
    memset(&res, 0, sizeof(res));
    res.success = ok;
    res.reason = ok ? CHECK_REASON_NONE : CHECK_REASON_TIMEOUT;
    res.duration = duration;
    rec_record(r, &res, wall);
}

/* Every slot of t is empty but those listed (by index from the oldest). */
static void expect_slot(const struct rec_trend *t, size_t k, double start, uint32_t runs,
                        uint32_t failures, double sum)
{
    const struct rec_trend_slot *s = &t->slots[k];
    if (s->start != (int64_t)start || s->runs != runs || s->failures != failures ||
        fabs(s->sum - sum) > 1e-9)
        fail_msg("slot %zu: start %lld runs %u failures %u sum %.9f; want %.0f %u %u %.9f", k,
                 (long long)s->start, s->runs, s->failures, s->sum, start, runs, failures, sum);
}

static void test_quantile(void **state)
{
    (void)state;
    /* 2 in (0, 0.1], 4 in (0.1, 0.5], 3 in (0.5, 1], 1 above. */
    const uint64_t cum[] = {2, 6, 9, 10};
    /* rank 5 in the second bucket: 0.1 + 0.4 x (5 - 2) / 4. */
    assert_true(rec_quantile(0.5, bounds3, 3, cum) == 0.1 + 0.4 * (3.0 / 4.0));
    /* rank 1 in the first bucket, interpolated from 0. */
    assert_true(rec_quantile(0.1, bounds3, 3, cum) == 0.05);
    /* rank 9 reaches the third bucket's top exactly. */
    assert_true(rec_quantile(0.9, bounds3, 3, cum) == 1.0);
    /* rank 9.5 falls in +Inf: the highest finite bound. */
    assert_true(rec_quantile(0.95, bounds3, 3, cum) == 1.0);
    /* No observation, no finite bound: NaN; q outside [0, 1]: infinities. */
    const uint64_t none[] = {0, 0, 0, 0};
    assert_true(isnan(rec_quantile(0.5, bounds3, 3, none)));
    const uint64_t only_inf[] = {5};
    assert_true(isnan(rec_quantile(0.5, bounds3, 0, only_inf)));
    assert_true(rec_quantile(-0.1, bounds3, 3, cum) == -INFINITY);
    assert_true(rec_quantile(1.1, bounds3, 3, cum) == INFINITY);
    /* A first bound <= 0 is returned as it is. */
    const double zero_first[] = {0, 1};
    const uint64_t cz[] = {3, 4, 4};
    assert_true(rec_quantile(0.5, zero_first, 2, cz) == 0);
    /* p95 of a spread over the default buckets: rank 95 of 100, all of
     * them in (0.025, 0.05] but 10 below: 0.025 + 0.025 x 85 / 90. */
    const double def[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
    const uint64_t cd[] = {0, 0, 10, 100, 100, 100, 100, 100, 100, 100, 100, 100};
    assert_true(rec_quantile(0.95, def, 11, cd) == 0.025 + 0.025 * (85.0 / 90.0));
    assert_true(rec_quantile(0.5, def, 11, cd) == 0.025 + 0.025 * (40.0 / 90.0));
}

static void test_slots(void **state)
{
    (void)state;
    struct rec *r = rec_new(bounds3, 3);
    struct rec_trend t;
    rec_read_trend(r, T0 + 45, &t);
    assert_int_equal(t.runs, 0);
    assert_int_equal(t.n_bounds, 3);
    for (size_t k = 0; k < REC_TREND_SLOTS; k++)
        expect_slot(&t, k, T0 + 30 - 30.0 * (double)(REC_TREND_SLOTS - 1 - k), 0, 0, 0);

    record(r, T0 + 1, 0.05, true);      /* slot A, bucket 0 */
    record(r, T0 + 29.999, 0.3, false); /* slot A, bucket 1 */
    record(r, T0 + 30, 0.7, true);      /* slot A+1, bucket 2 */
    record(r, T0 + 59, 2.0, false);     /* slot A+1, +Inf */
    rec_read_trend(r, T0 + 45, &t);
    expect_slot(&t, REC_TREND_SLOTS - 2, T0, 2, 1, 0.35);
    expect_slot(&t, REC_TREND_SLOTS - 1, T0 + 30, 2, 1, 2.7);
    for (size_t k = 0; k < REC_TREND_SLOTS - 2; k++)
        assert_int_equal(t.slots[k].runs, 0);
    assert_int_equal(t.runs, 4);
    assert_int_equal(t.failures, 2);
    const uint64_t want[] = {1, 2, 3, 4};
    assert_memory_equal(t.cumulative, want, sizeof(want));
    /* p50: rank 2 reaches the second bucket's top. */
    assert_true(rec_quantile(0.5, bounds3, 3, t.cumulative) == 0.5);

    /* Nine and a half minutes on, slot A is the oldest still shown. */
    rec_read_trend(r, T0 + 30 * (REC_TREND_SLOTS - 1) + 29, &t);
    expect_slot(&t, 0, T0, 2, 1, 0.35);
    expect_slot(&t, 1, T0 + 30, 2, 1, 2.7);
    /* One slot later it is gone. */
    rec_read_trend(r, T0 + 30 * REC_TREND_SLOTS, &t);
    expect_slot(&t, 0, T0 + 30, 2, 1, 2.7);
    assert_int_equal(t.runs, 2);
    /* A result in slot A+20 reuses A's place in the ring: A's counts do
     * not leak into it. */
    record(r, T0 + 30 * REC_TREND_SLOTS + 5, 0.2, true);
    rec_read_trend(r, T0 + 30 * REC_TREND_SLOTS + 6, &t);
    expect_slot(&t, REC_TREND_SLOTS - 1, T0 + 30 * REC_TREND_SLOTS, 1, 0, 0.2);
    expect_slot(&t, 0, T0 + 30, 2, 1, 2.7);
    assert_int_equal(t.runs, 3);
    const uint64_t want2[] = {0, 1, 2, 3};
    assert_memory_equal(t.cumulative, want2, sizeof(want2));
    /* Long after, nothing is left, though the ring was never written. */
    rec_read_trend(r, T0 + 86400, &t);
    assert_int_equal(t.runs, 0);
    assert_int_equal(t.failures, 0);
    assert_int_equal(t.cumulative[3], 0);
    /* The counters the metrics show are untouched by any of it. */
    struct rec_snapshot s;
    rec_read(r, &s);
    assert_int_equal(s.runs, 5);
    rec_unref(r);
}

static void test_clock_back(void **state)
{
    (void)state;
    struct rec *r = rec_new(bounds3, 3);
    record(r, T0 + 300, 0.05, true);
    /* The wall clock stepped back 10 minutes: that result's slot is in
     * the future of the new now, so it is not shown... */
    struct rec_trend t;
    rec_read_trend(r, T0 - 300, &t);
    assert_int_equal(t.runs, 0);
    /* ...and one recorded now counts where it belongs. */
    record(r, T0 - 299, 0.05, false);
    rec_read_trend(r, T0 - 290, &t);
    assert_int_equal(t.runs, 1);
    assert_int_equal(t.failures, 1);
    /* Before the epoch's first slot nothing is kept. */
    record(r, 10, 0.05, true);
    rec_read_trend(r, 11, &t);
    assert_int_equal(t.runs, 0);
    rec_unref(r);
}

/* The clock stepped back an hour and a half minute after a result (so the
 * next result lands elsewhere in the ring), and a check of a long interval
 * recorded nothing since: when the clock reads that result's time again,
 * an hour later, the result is an hour old. */
static void test_clock_back_stale(void **state)
{
    (void)state;
    struct rec *r = rec_new(bounds3, 3);
    record(r, T0 + 300, 0.05, true);
    record(r, T0 + 300 - 3630, 0.05, false);
    struct rec_trend t;
    rec_read_trend(r, T0 + 301, &t);
    assert_int_equal(t.runs, 0);
    /* A result now fills that slot alone. */
    record(r, T0 + 302, 0.2, true);
    rec_read_trend(r, T0 + 303, &t);
    expect_slot(&t, REC_TREND_SLOTS - 1, T0 + 300, 1, 0, 0.2);
    assert_int_equal(t.runs, 1);
    rec_unref(r);
}

static void test_saturation(void **state)
{
    (void)state;
    struct rec *r = rec_new(bounds3, 3);
    /* 70,000 results in one slot: the 16-bit counts stop at 65,535. */
    for (int i = 0; i < 70000; i++)
        record(r, T0 + 1, 0.05, false);
    struct rec_trend t;
    rec_read_trend(r, T0 + 2, &t);
    expect_slot(&t, REC_TREND_SLOTS - 1, T0, 65535, 65535, 3500.0);
    /* The microsecond sum stops at 2^32 - 1 (4294.967295 s). */
    for (int i = 0; i < 20; i++)
        record(r, T0 + 31, 300.0, true);
    rec_read_trend(r, T0 + 32, &t);
    expect_slot(&t, REC_TREND_SLOTS - 1, T0 + 30, 20, 0, 4294.967295);
    rec_unref(r);
}

/* A writer records 50 rounds of 4,000 results, each round in the next
 * slot, failed and good in turn, each of 1 s; a reader copies the trend of
 * the writer's slot meanwhile. Every copy must be of one moment: the
 * slot's runs equal to the histogram's count and to its sum in seconds,
 * its failures the ceiling of half of them. */
#define RACE_ROUNDS 50
#define RACE_RUNS 4000
struct race {
    struct rec *r;
    atomic_int round;     /* the writer's, -1 when done */
    atomic_bool started;  /* the reader made its first copy: the writer may go */
    uint64_t copies, bad; /* the reader's; read after the join */
};

static void *race_reader(void *arg)
{
    struct race *rc = arg;
    struct rec_trend t;
    int round;
    while ((round = atomic_load(&rc->round)) >= 0) {
        rec_read_trend(rc->r, T0 + 30.0 * round + 2, &t);
        const struct rec_trend_slot *s = &t.slots[REC_TREND_SLOTS - 1];
        rc->copies++;
        atomic_store(&rc->started, true);
        if (t.cumulative[3] != t.runs || s->sum != (double)s->runs ||
            s->failures != (s->runs + 1) / 2 || s->runs > RACE_RUNS)
            rc->bad++;
    }
    return NULL;
}

static void test_concurrent_reader(void **state)
{
    (void)state;
    struct race rc = {.r = rec_new(bounds3, 3)};
    atomic_init(&rc.round, 0);
    atomic_init(&rc.started, false);
    pthread_t rd;
    assert_int_equal(pthread_create(&rd, NULL, race_reader, &rc), 0);
    /* On a busy machine the reader may start late: the writes must overlap
     * its copies for the test to mean anything. */
    while (!atomic_load(&rc.started))
        sched_yield();
    for (int round = 0; round < RACE_ROUNDS; round++) {
        atomic_store(&rc.round, round);
        for (int k = 0; k < RACE_RUNS; k++)
            record(rc.r, T0 + 30.0 * round + 1, 1.0, k % 2 == 1);
    }
    atomic_store(&rc.round, -1);
    assert_int_equal(pthread_join(rd, NULL), 0);
    assert_true(rc.copies > 0);
    if (rc.bad)
        fail_msg("%llu of %llu copies inconsistent", (unsigned long long)rc.bad,
                 (unsigned long long)rc.copies);
    /* The last 20 rounds are in the ring, whole. */
    struct rec_trend t;
    rec_read_trend(rc.r, T0 + 30.0 * (RACE_ROUNDS - 1) + 2, &t);
    assert_int_equal(t.runs, 20 * RACE_RUNS);
    assert_int_equal(t.failures, 10 * RACE_RUNS);
    rec_unref(rc.r);
}

static void test_size(void **state)
{
    (void)state;
    /* The default 11 buckets: 20 x (4 + 4 + 2 + 12 x 2) bytes. */
    assert_int_equal(rec_trend_bytes(11), 680);
    assert_int_equal(rec_trend_bytes(0), 240);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quantile),          cmocka_unit_test(test_slots),
        cmocka_unit_test(test_clock_back),        cmocka_unit_test(test_clock_back_stale),
        cmocka_unit_test(test_saturation),        cmocka_unit_test(test_size),
        cmocka_unit_test(test_concurrent_reader),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
