/*
 * test_scheduler.c - unit tests for the timer heap and the phase arithmetic
 * (scheduler.c). Times are plain numbers: the scheduler never reads a clock,
 * so every due time below is exact.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "scheduler.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEC 1000000000ll
#define MS 1000000ll

/* Fixed-seed LCG (Knuth's MMIX constants): the same sequence every run. */
static uint64_t lcg_state;

static uint64_t lcg(void)
{
    lcg_state = lcg_state * 6364136223846793005ull + 1442695040888963407ull;
    return lcg_state >> 17;
}

struct ent {
    int64_t due;
    uint32_t id;
};

static int ent_cmp(const void *a, const void *b)
{
    const struct ent *x = a, *y = b;
    if (x->due != y->due)
        return x->due < y->due ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* ---- heap ---- */

static void test_heap_empty(void **state)
{
    (void)state;
    struct sched *s = sched_new();
    int64_t due = 123;
    uint32_t id = 456;
    assert_int_equal(sched_len(s), 0);
    assert_false(sched_peek(s, &due, &id));
    assert_false(sched_pop(s, &due, &id));
    /* Outputs untouched on failure. */
    assert_int_equal(due, 123);
    assert_int_equal(id, 456);

    sched_push(s, 5, 1);
    assert_int_equal(sched_len(s), 1);
    assert_true(sched_peek(s, &due, &id));
    assert_int_equal(due, 5);
    assert_int_equal(id, 1);
    assert_int_equal(sched_len(s), 1); /* peek does not remove */
    assert_true(sched_pop(s, &due, &id));
    assert_int_equal(due, 5);
    assert_int_equal(id, 1);
    assert_int_equal(sched_len(s), 0);
    assert_false(sched_pop(s, &due, &id));

    /* Clear empties but the heap stays usable. */
    for (uint32_t i = 0; i < 100; i++)
        sched_push(s, 1000 - i, i);
    assert_int_equal(sched_len(s), 100);
    sched_clear(s);
    assert_int_equal(sched_len(s), 0);
    assert_false(sched_peek(s, &due, &id));
    sched_push(s, 7, 9);
    assert_true(sched_pop(s, &due, &id));
    assert_int_equal(due, 7);
    assert_int_equal(id, 9);
    sched_free(s);
    sched_free(NULL);
}

/* Small hand-written table: ties break on id, whatever the push order. */
static void test_heap_small_table(void **state)
{
    (void)state;
    static const struct ent pushes[] = {
        {30, 3}, {10, 7}, {10, 2},        {20, 1},        {-5, 9},
        {10, 4}, {0, 0},  {INT64_MAX, 1}, {INT64_MIN, 2},
    };
    static const struct ent want[] = {
        {INT64_MIN, 2}, {-5, 9}, {0, 0},  {10, 2},        {10, 4},
        {10, 7},        {20, 1}, {30, 3}, {INT64_MAX, 1},
    };
    struct sched *s = sched_new();
    for (size_t i = 0; i < ARRAY_SIZE(pushes); i++)
        sched_push(s, pushes[i].due, pushes[i].id);
    for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
        int64_t due;
        uint32_t id;
        assert_true(sched_pop(s, &due, &id));
        if (due != want[i].due || id != want[i].id)
            fail_msg("pop %zu: got (%lld,%u), want (%lld,%u)", i, (long long)due, id,
                     (long long)want[i].due, want[i].id);
    }
    assert_int_equal(sched_len(s), 0);
    sched_free(s);
}

/* Many random pushes (with many equal due times) pop in (due, id) order and
 * give back exactly what went in. */
static void test_heap_random(void **state)
{
    (void)state;
    enum { N = 20000 };
    struct ent *ref = malloc(N * sizeof(*ref));
    assert_non_null(ref);
    struct sched *s = sched_new();
    lcg_state = 42;
    for (size_t i = 0; i < N; i++) {
        ref[i].due = (int64_t)(lcg() % 2000) - 1000; /* ~10 entries per due time */
        ref[i].id = (uint32_t)(lcg() % 100000);
        sched_push(s, ref[i].due, ref[i].id);
    }
    assert_int_equal(sched_len(s), N);
    qsort(ref, N, sizeof(*ref), ent_cmp);
    for (size_t i = 0; i < N; i++) {
        int64_t due, pdue;
        uint32_t id, pid;
        assert_true(sched_peek(s, &pdue, &pid));
        assert_true(sched_pop(s, &due, &id));
        assert_true(pdue == due && pid == id);
        if (due != ref[i].due || id != ref[i].id)
            fail_msg("pop %zu: got (%lld,%u), want (%lld,%u)", i, (long long)due, id,
                     (long long)ref[i].due, ref[i].id);
        assert_int_equal(sched_len(s), N - i - 1);
    }
    assert_false(sched_pop(s, &(int64_t){0}, &(uint32_t){0}));

    /* Interleaved pushes and pops, as the probe loop does: every pop returns
     * the minimum of what is in the heap at that moment. */
    lcg_state = 7;
    size_t n_ref = 0;
    for (int round = 0; round < N; round++) {
        if (n_ref == 0 || lcg() % 3 != 0) {
            struct ent e = {(int64_t)(lcg() % 500), (uint32_t)(lcg() % 50)};
            sched_push(s, e.due, e.id);
            ref[n_ref++] = e;
        } else {
            size_t min = 0;
            for (size_t k = 1; k < n_ref; k++)
                if (ent_cmp(&ref[k], &ref[min]) < 0)
                    min = k;
            int64_t due;
            uint32_t id;
            assert_true(sched_pop(s, &due, &id));
            if (due != ref[min].due || id != ref[min].id)
                fail_msg("round %d: got (%lld,%u), want (%lld,%u)", round, (long long)due, id,
                         (long long)ref[min].due, ref[min].id);
            ref[min] = ref[--n_ref];
        }
        assert_int_equal(sched_len(s), n_ref);
    }
    sched_free(s);
    free(ref);
}

/* ---- phase offsets ---- */

/* Independent FNV-1a 64 reference. */
static uint64_t fnv1a(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ull;
    }
    return h;
}

static void test_offset_values(void **state)
{
    (void)state;
    /* Published FNV-1a 64 test vectors (a one-digit typo in the offset
     * basis once made every phase differ from the documented FNV-1a); the
     * per-name offsets below were checked against an independent FNV-1a. */
    assert_true(hash_str("") == 0xcbf29ce484222325ull);
    assert_true(hash_str("a") == 0xaf63dc4c8601ec8cull);
    assert_true(hash_str("foobar") == 0x85944171f73967e8ull);

    static const struct {
        const char *name;
        int64_t interval;
    } cases[] = {
        {"a", 10 * SEC}, {"foobar", 10 * SEC}, {"api-health", 15 * SEC}, {"api-health", 60 * SEC},
        {"", 15 * SEC},  {"x", 100 * MS},      {"checkout", 1},          {"checkout", 86400 * SEC},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        int64_t want = (int64_t)(fnv1a(cases[i].name) % (uint64_t)cases[i].interval);
        int64_t got = sched_offset_ns(cases[i].name, cases[i].interval);
        if (got != want)
            fail_msg("row %zu: got %lld, want %lld", i, (long long)got, (long long)want);
        /* Stable: same name, same interval, same value. */
        assert_true(sched_offset_ns(cases[i].name, cases[i].interval) == got);
        assert_true(got >= 0 && got < cases[i].interval);
    }
    /* 0xaf63dc4c8601ec8c % 10e9, worked out by hand as a pinned value. */
    assert_true(sched_offset_ns("a", 10 * SEC) ==
                (int64_t)(0xaf63dc4c8601ec8cull % 10000000000ull));
    /* Degenerate intervals give phase 0 rather than dividing by zero. */
    assert_true(sched_offset_ns("a", 0) == 0);
    assert_true(sched_offset_ns("a", -5) == 0);
    assert_true(sched_offset_ns("a", 1) == 0);
}

/* 1000 check names spread over a 10 s interval: no 1 s slot holds more than
 * twice its fair share, and names differ in phase. */
static void test_offset_spread(void **state)
{
    (void)state;
    enum { N = 1000, SLOTS = 10 };
    const int64_t interval = 10 * SEC;
    int slot[SLOTS] = {0};
    int64_t *offs = malloc(N * sizeof(*offs));
    assert_non_null(offs);
    for (int i = 0; i < N; i++) {
        char name[64];
        snprintf(name, sizeof(name), "check-%d", i);
        offs[i] = sched_offset_ns(name, interval);
        assert_true(offs[i] >= 0 && offs[i] < interval);
        slot[offs[i] / SEC]++;
    }
    const int mean = N / SLOTS;
    for (int k = 0; k < SLOTS; k++) {
        if (slot[k] > 2 * mean)
            fail_msg("slot %d holds %d of %d offsets (mean %d)", k, slot[k], N, mean);
        if (slot[k] == 0)
            fail_msg("slot %d is empty", k);
    }
    /* Distinct names give distinct offsets (with 1000 names over 1e10 ns a
     * collision would mean a broken hash). */
    int same = 0;
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++)
            same += offs[i] == offs[j];
    assert_int_equal(same, 0);
    /* Names that differ in one character differ in phase. */
    assert_true(sched_offset_ns("api-1", interval) != sched_offset_ns("api-2", interval));
    free(offs);
}

/* ---- due times ---- */

static void test_next_due_table(void **state)
{
    (void)state;
    static const struct {
        int64_t now, interval, offset, want;
    } cases[] = {
        /* interval 10 s, phase 3 s: runs at 3, 13, 23, ... */
        {0, 10 * SEC, 3 * SEC, 3 * SEC},
        {1, 10 * SEC, 3 * SEC, 3 * SEC},
        {3 * SEC - 1, 10 * SEC, 3 * SEC, 3 * SEC},
        {3 * SEC, 10 * SEC, 3 * SEC, 3 * SEC}, /* exactly on phase: now */
        {3 * SEC + 1, 10 * SEC, 3 * SEC, 13 * SEC},
        {9 * SEC, 10 * SEC, 3 * SEC, 13 * SEC},
        {10 * SEC, 10 * SEC, 3 * SEC, 13 * SEC},
        {12 * SEC + 999999999, 10 * SEC, 3 * SEC, 13 * SEC},
        {13 * SEC, 10 * SEC, 3 * SEC, 13 * SEC},
        /* phase 0 */
        {0, 10 * SEC, 0, 0},
        {20 * SEC, 10 * SEC, 0, 20 * SEC},
        {20 * SEC + 1, 10 * SEC, 0, 30 * SEC},
        {29 * SEC, 10 * SEC, 0, 30 * SEC},
        /* last nanosecond of the interval as phase */
        {0, 10 * SEC, 10 * SEC - 1, 10 * SEC - 1},
        {10 * SEC - 1, 10 * SEC, 10 * SEC - 1, 10 * SEC - 1},
        {10 * SEC, 10 * SEC, 10 * SEC - 1, 20 * SEC - 1},
        /* a realistic monotonic clock (days of uptime), 15 s interval */
        {864000 * SEC + 7 * SEC + 5, 15 * SEC, 2 * SEC + 500 * MS,
         864000 * SEC + 17 * SEC + 500 * MS},
        {864000 * SEC, 15 * SEC, 0, 864000 * SEC},
        /* 100 ms interval */
        {1234 * MS, 100 * MS, 50 * MS, 1250 * MS},
        {1250 * MS, 100 * MS, 50 * MS, 1250 * MS},
        {1251 * MS, 100 * MS, 50 * MS, 1350 * MS},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        int64_t got = sched_next_due(cases[i].now, cases[i].interval, cases[i].offset);
        if (got != cases[i].want)
            fail_msg("row %zu: got %lld, want %lld", i, (long long)got, (long long)cases[i].want);
        /* Contract: smallest t >= now with t mod interval == offset. */
        assert_true(got >= cases[i].now);
        assert_true(got % cases[i].interval == cases[i].offset);
        assert_true(got - cases[i].interval < cases[i].now);
    }
}

static void test_after_run_table(void **state)
{
    (void)state;
    const int64_t I = 10 * SEC, O = 3 * SEC;
    static const struct {
        int64_t planned, now, want;
    } cases[] = {
        /* On time or a little late: the plan advances by one interval. */
        {13 * SEC, 13 * SEC, 23 * SEC},
        {13 * SEC, 13 * SEC + 200 * MS, 23 * SEC},
        {13 * SEC, 22 * SEC, 23 * SEC},
        {13 * SEC, 23 * SEC, 23 * SEC}, /* the next run is due right now */
        /* Fell behind by more than an interval: the next phase after now,
         * missed runs skipped. */
        {13 * SEC, 23 * SEC + 1, 33 * SEC},
        {13 * SEC, 13 * SEC + 35 * SEC, 53 * SEC}, /* 3.5 intervals late */
        {13 * SEC, 43 * SEC, 43 * SEC},            /* exactly on a later phase */
        {13 * SEC, 1013 * SEC + 1, 1023 * SEC},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        int64_t got = sched_after_run(cases[i].planned, cases[i].now, I, O);
        if (got != cases[i].want)
            fail_msg("row %zu: got %lld, want %lld", i, (long long)got, (long long)cases[i].want);
        assert_true(got >= cases[i].now);
        assert_true(got % I == O);
        assert_true(got < cases[i].now + I || got == cases[i].planned + I);
    }
}

/* A run loop on a fake clock where some probes finish very late: the due
 * times stay on phase, never fall behind now, and never come in a burst
 * (two runs less than one interval apart). */
static void test_after_run_no_burst(void **state)
{
    (void)state;
    const int64_t I = 5 * SEC, O = sched_offset_ns("burst-check", 5 * SEC);
    int64_t now = 1000 * SEC + 17;
    int64_t due = sched_next_due(now, I, O);
    int64_t prev_due = INT64_MIN;
    lcg_state = 99;
    for (int i = 0; i < 5000; i++) {
        /* The loop wakes at due; the probe takes 0..17.5 intervals. */
        now = due;
        int64_t took = (int64_t)(lcg() % 8 == 0 ? lcg() % (uint64_t)(35 * I / 2) : lcg() % 100);
        now += took;
        int64_t next = sched_after_run(due, now, I, O);
        assert_true(next >= now);
        assert_true(next % I == O);
        assert_true(next - due >= I);
        if (prev_due != INT64_MIN)
            assert_true(due - prev_due >= I);
        prev_due = due;
        due = next;
    }
}

/* ---- overruns ---- */

/* The runs sched_after_run skipped, for every row of its table above. */
static void test_missed_table(void **state)
{
    (void)state;
    const int64_t I = 10 * SEC;
    static const struct {
        int64_t planned, next;
        uint64_t want;
    } cases[] = {
        {13 * SEC, 23 * SEC, 0},                              /* the next run follows the plan */
        {13 * SEC, 33 * SEC, 1},                              /* 23 s never ran */
        {13 * SEC, 53 * SEC, 3},                              /* 23, 33, 43 */
        {13 * SEC, 43 * SEC, 2},                              /* 23, 33 */
        {13 * SEC, 1023 * SEC, 100}, {13 * SEC, 13 * SEC, 0}, /* not after the plan at all */
        {13 * SEC, 28 * SEC, 0}, /* the interval changed: no whole slot between */
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        uint64_t got = sched_missed(cases[i].planned, cases[i].next, I);
        if (got != cases[i].want)
            fail_msg("row %zu: got %llu, want %llu", i, (unsigned long long)got,
                     (unsigned long long)cases[i].want);
    }
    /* Together with sched_after_run: every planned time is either the one
     * that ran, a missed one, or the next. */
    const int64_t O = 3 * SEC;
    for (int64_t late = 0; late < 100 * SEC; late += 700 * MS) {
        int64_t next = sched_after_run(13 * SEC, 13 * SEC + late, I, O);
        assert_int_equal(sched_missed(13 * SEC, next, I), (next - 13 * SEC) / I - 1);
    }
    assert_int_equal(sched_missed(0, 50 * SEC, 0), 0); /* no interval: nothing to count */
}

static void test_late_threshold(void **state)
{
    (void)state;
    static const struct {
        int64_t interval, want;
    } cases[] = {
        {100 * MS, 10 * MS},   {1 * SEC, 100 * MS}, {5 * SEC, 500 * MS},
        {10 * SEC, 1 * SEC},   {60 * SEC, 1 * SEC}, /* capped */
        {3600 * SEC, 1 * SEC},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
        assert_int_equal(sched_late_ns(cases[i].interval), cases[i].want);
}

/* Overdue spells between calls add up without overlap; spells within the
 * floor are timer noise. */
static void test_stall_add(void **state)
{
    (void)state;
    int64_t mark = 0;
    /* Nothing overdue: the mark just moves. */
    assert_int_equal(sched_stall_add(10 * SEC, 5 * SEC, &mark), 0);
    assert_int_equal(mark, 5 * SEC);
    /* Woken 50 us after the deadline: slack, not a stall. */
    assert_int_equal(sched_stall_add(6 * SEC, 6 * SEC + 50000, &mark), 0);
    assert_int_equal(mark, 6 * SEC + 50000);
    /* Exactly the floor is still noise; one nanosecond more is a stall. */
    mark = 0;
    assert_int_equal(sched_stall_add(7 * SEC, 7 * SEC + SCHED_STALL_FLOOR_NS, &mark), 0);
    mark = 0;
    assert_int_equal(sched_stall_add(7 * SEC, 7 * SEC + SCHED_STALL_FLOOR_NS + 1, &mark),
                     SCHED_STALL_FLOOR_NS + 1);
    /* One deadline overdue across three calls: each counts only its part. */
    mark = 9 * SEC;
    int64_t total = 0;
    total += sched_stall_add(10 * SEC, 10 * SEC + 300 * MS, &mark);
    total += sched_stall_add(10 * SEC, 10 * SEC + 700 * MS, &mark);
    total += sched_stall_add(10 * SEC, 12 * SEC, &mark);
    assert_int_equal(total, 2 * SEC);
    assert_int_equal(mark, 12 * SEC);
}

static void test_stall_is_ours(void **state)
{
    (void)state;
    static const struct {
        int64_t stall, timeout;
        bool want;
    } cases[] = {
        {0, 5 * SEC, false},           {400 * MS, 5 * SEC, false},
        {500 * MS, 5 * SEC, false}, /* exactly a tenth */
        {500 * MS + 1, 5 * SEC, true}, {3 * SEC, 5 * SEC, true},
        {20 * MS, 100 * MS, true},     {0, 0, false},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
        if (sched_stall_is_ours(cases[i].stall, cases[i].timeout) != cases[i].want)
            fail_msg("row %zu: want %d", i, cases[i].want);
}

/* The load rises towards 1 while the loop stalls and decays with time
 * constant SCHED_LOAD_TAU_NS once it keeps up. */
static void test_load(void **state)
{
    (void)state;
    /* Stalled the whole time, in 10 ms steps: 1 - e^(-t/tau). */
    double load = 0;
    for (int i = 0; i < 3000; i++)
        load = sched_load_update(load, 10 * MS, 10 * MS);
    assert_float_equal(load, 1 - exp(-1.0), 1e-9); /* 30 s = tau */
    /* The same as one 30 s stall in one step. */
    assert_float_equal(sched_load_update(0, 30 * SEC, 30 * SEC), 1 - exp(-1.0), 1e-12);
    /* Then 30 s without a stall: back by e. */
    double before = load;
    load = sched_load_update(load, 30 * SEC, 0);
    assert_float_equal(load, before * exp(-1.0), 1e-12);
    /* Never above 1, whatever the stall; a stall longer than dt counts dt. */
    assert_true(sched_load_update(1.0, 3600 * SEC, 3600 * SEC) <= 1.0);
    assert_float_equal(sched_load_update(0, 1 * SEC, 5 * SEC), sched_load_update(0, SEC, SEC), 0);
    /* Half busy (a stall of h at the end of every 2h): it settles at
     * 1 / (1 + e^(-h/tau)), about a half. */
    load = 0;
    for (int i = 0; i < 100000; i++)
        load = sched_load_update(load, 20 * MS, 10 * MS);
    assert_float_equal(load, 0.5, 0.001);
    /* No time passed: unchanged. */
    assert_float_equal(sched_load_update(0.3, 0, 0), 0.3, 0);
    /* A 20 s freeze alone stays below the shedding load; 21 s goes over. */
    assert_true(sched_load_update(0, 20 * SEC, 20 * SEC) < SCHED_SHED_LOAD);
    assert_true(sched_load_update(0, 21 * SEC, 21 * SEC) > SCHED_SHED_LOAD);
}

static void test_should_shed(void **state)
{
    (void)state;
    static const struct {
        double load;
        int64_t lag, interval;
        bool want;
    } cases[] = {
        {0.9, 0, 10 * SEC, false},          /* on time: always starts */
        {0.9, 1 * SEC, 10 * SEC, false},    /* exactly the late threshold */
        {0.9, 1 * SEC + 1, 10 * SEC, true}, /* late under load */
        {0.5, 5 * SEC, 10 * SEC, false},    /* load not above the limit */
        {0.51, 5 * SEC, 10 * SEC, true},
        {0.2, 50 * SEC, 10 * SEC, false}, /* late after a short pause: runs late */
        {0.9, 150 * MS, 1 * SEC, true},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
        if (sched_should_shed(cases[i].load, cases[i].lag, cases[i].interval) != cases[i].want)
            fail_msg("row %zu: want %d", i, cases[i].want);
}

static void test_overrun_names(void **state)
{
    (void)state;
    assert_string_equal(sched_overrun_name(SCHED_OVERRUN_LATE), "late");
    assert_string_equal(sched_overrun_name(SCHED_OVERRUN_SKIPPED), "skipped");
    assert_string_equal(sched_overrun_name(SCHED_OVERRUN_STALLED), "stalled");
    assert_string_equal(sched_overrun_name(SCHED_OVERRUN_COUNT), "unknown");
}

/* Counting, and the log line: the first at once, then at most one per
 * SCHED_LOG_EVERY_NS with the counts since the previous one. */
static void test_overruns_log_rate(void **state)
{
    (void)state;
    struct sched_overruns *o = sched_overruns_new();
    uint64_t n[SCHED_OVERRUN_COUNT], since[SCHED_OVERRUN_COUNT];
    int64_t max_lag = -1;
    sched_overruns_read(o, n);
    for (int r = 0; r < SCHED_OVERRUN_COUNT; r++)
        assert_int_equal(n[r], 0);
    assert_false(sched_overruns_log_due(o, 100 * SEC, since, &max_lag)); /* nothing to say */

    sched_overruns_add(o, SCHED_OVERRUN_LATE, 1, 300 * MS);
    sched_overruns_add(o, SCHED_OVERRUN_SKIPPED, 0, 9 * SEC); /* zero: no count, no lag */
    assert_true(sched_overruns_log_due(o, 101 * SEC, since, &max_lag));
    assert_int_equal(since[SCHED_OVERRUN_LATE], 1);
    assert_int_equal(since[SCHED_OVERRUN_SKIPPED], 0);
    assert_int_equal(max_lag, 300 * MS);

    /* A burst within the minute: counted at once, logged once, later. */
    for (int i = 0; i < 1000; i++) {
        sched_overruns_add(o, SCHED_OVERRUN_LATE, 1, (int64_t)i * MS);
        sched_overruns_add(o, SCHED_OVERRUN_SKIPPED, 2, 0);
        assert_false(sched_overruns_log_due(o, 101 * SEC + i * 50 * MS, since, &max_lag));
    }
    sched_overruns_add(o, SCHED_OVERRUN_STALLED, 3, 0);
    sched_overruns_read(o, n);
    assert_int_equal(n[SCHED_OVERRUN_LATE], 1001);
    assert_int_equal(n[SCHED_OVERRUN_SKIPPED], 2000);
    assert_int_equal(n[SCHED_OVERRUN_STALLED], 3);
    assert_false(sched_overruns_log_due(o, 161 * SEC - 1, since, &max_lag));
    assert_true(sched_overruns_log_due(o, 161 * SEC, since, &max_lag));
    assert_int_equal(since[SCHED_OVERRUN_LATE], 1000);
    assert_int_equal(since[SCHED_OVERRUN_SKIPPED], 2000);
    assert_int_equal(since[SCHED_OVERRUN_STALLED], 3);
    assert_int_equal(max_lag, 999 * MS);
    /* Quiet again: no line, however long. */
    assert_false(sched_overruns_log_due(o, 10000 * SEC, since, &max_lag));
    /* The next overrun after a quiet spell is logged at once. */
    sched_overruns_add(o, SCHED_OVERRUN_STALLED, 1, 0);
    assert_true(sched_overruns_log_due(o, 10000 * SEC, since, &max_lag));
    assert_int_equal(since[SCHED_OVERRUN_STALLED], 1);
    assert_int_equal(since[SCHED_OVERRUN_LATE], 0);
    assert_int_equal(max_lag, 0);
    sched_overruns_free(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_heap_empty),
        cmocka_unit_test(test_heap_small_table),
        cmocka_unit_test(test_heap_random),
        cmocka_unit_test(test_offset_values),
        cmocka_unit_test(test_offset_spread),
        cmocka_unit_test(test_next_due_table),
        cmocka_unit_test(test_after_run_table),
        cmocka_unit_test(test_after_run_no_burst),
        cmocka_unit_test(test_missed_table),
        cmocka_unit_test(test_late_threshold),
        cmocka_unit_test(test_stall_add),
        cmocka_unit_test(test_stall_is_ours),
        cmocka_unit_test(test_load),
        cmocka_unit_test(test_should_shed),
        cmocka_unit_test(test_overrun_names),
        cmocka_unit_test(test_overruns_log_rate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
