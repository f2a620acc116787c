/*
 * test_recorder.c - unit tests for the per-check recorder (recorder.c):
 * counters, gauges and histogram after each result of a scripted sequence,
 * and a writer/reader thread pair that checks every snapshot a reader can
 * see is consistent.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double bounds3[] = {0.1, 0.5, 1.0};

static struct check_result ok_result(double duration, int status)
{
    struct check_result r;
    memset(&r, 0, sizeof(r));
    r.success = true;
    r.reason = CHECK_REASON_NONE;
    r.duration = duration;
    r.status = status;
    return r;
}

static struct check_result fail_result(enum check_reason why, double duration, int status)
{
    struct check_result r = ok_result(duration, status);
    r.success = false;
    r.reason = why;
    return r;
}

static void test_fresh(void **state)
{
    (void)state;
    struct rec *r = rec_new(bounds3, 3);
    struct rec_snapshot s;
    memset(&s, 0xff, sizeof(s));
    rec_read(r, &s);
    assert_int_equal(s.runs, 0);
    for (int i = 0; i < CHECK_REASON_COUNT; i++)
        assert_int_equal(s.failures[i], 0);
    assert_int_equal(s.n_bounds, 3);
    for (size_t i = 0; i <= 3; i++)
        assert_int_equal(s.cumulative[i], 0);
    assert_true(s.sum == 0.0);
    assert_false(s.has_result);
    assert_false(s.up);
    assert_int_equal(s.consecutive_failures, 0);
    assert_true(s.last_success == 0.0);
    for (int p = 0; p < CHECK_PHASE_COUNT; p++)
        assert_true(s.phases[p] == 0.0);
    assert_int_equal(s.status, 0);
    assert_true(s.cert_expiry == 0.0);
    assert_true(s.last_run == 0.0);
    assert_true(s.last_duration == 0.0);
    assert_int_equal(s.last_reason, CHECK_REASON_NONE);
    assert_string_equal(s.detail, "");

    assert_int_equal(rec_bound_count(r), 3);
    assert_memory_equal(rec_bounds(r), bounds3, sizeof(bounds3));
    rec_unref(r);
}

/* A scripted sequence of results; after each, the whole snapshot is checked. */
static void test_record_sequence(void **state)
{
    (void)state;
    /* Step i runs at wall time 1000 + 10 i; runs is i + 1. Failure counts
     * are {timeout, dns, http_status, other}. */
    static const struct {
        bool success;
        enum check_reason why;
        double duration;
        int status;
        /* expected after this step */
        uint64_t f[4];
        uint64_t consecutive;
        bool up;
        double last_success;
        uint64_t cum[4];
        int want_status;
    } steps[] = {
        {true, CHECK_REASON_NONE, 0.1, 200, {0, 0, 0, 0}, 0, true, 1000, {1, 1, 1, 1}, 200},
        {false, CHECK_REASON_TIMEOUT, 0.5, 0, {1, 0, 0, 0}, 1, false, 1000, {1, 2, 2, 2}, 0},
        {false, CHECK_REASON_DNS, 0.25, 0, {1, 1, 0, 0}, 2, false, 1000, {1, 3, 3, 3}, 0},
        /* 1.0 is exactly the last bound: counted in it, not in +Inf. */
        {false,
         CHECK_REASON_HTTP_STATUS,
         1.0,
         503,
         {1, 1, 1, 0},
         3,
         false,
         1000,
         {1, 3, 4, 4},
         503},
        /* Success resets the consecutive count and moves last_success. */
        {true, CHECK_REASON_NONE, 2.0, 204, {1, 1, 1, 0}, 0, true, 1040, {1, 3, 4, 5}, 204},
        /* A negative status is stored as 0. */
        {false, CHECK_REASON_TIMEOUT, 1.0000001, -1, {2, 1, 1, 0}, 1, false, 1040, {1, 3, 4, 6}, 0},
        /* An out-of-range reason on a failure counts as other. */
        {false, (enum check_reason)99, 0.0, 0, {2, 1, 1, 1}, 2, false, 1040, {2, 4, 5, 7}, 0},
        /* So does CHECK_REASON_NONE on a failure. */
        {false, CHECK_REASON_NONE, 0.05, 0, {2, 1, 1, 2}, 3, false, 1040, {3, 5, 6, 8}, 0},
        {true, CHECK_REASON_NONE, 0.1, 200, {2, 1, 1, 2}, 0, true, 1080, {4, 6, 7, 9}, 200},
    };
    static const enum check_reason counted[4] = {CHECK_REASON_TIMEOUT, CHECK_REASON_DNS,
                                                 CHECK_REASON_HTTP_STATUS, CHECK_REASON_OTHER};
    /* Expected sum, accumulated in the recorder's order so it is exact. */
    double want_sum = 0.0;
    struct rec *r = rec_new(bounds3, 3);
    for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
        struct check_result res =
            steps[i].success ? ok_result(steps[i].duration, steps[i].status)
                             : fail_result(steps[i].why, steps[i].duration, steps[i].status);
        for (int p = 0; p < CHECK_PHASE_COUNT; p++)
            res.phases[p] = (double)(i + 1) * 0.001 * (p + 1);
        char want_detail[CHECK_DETAIL_MAX] = "";
        if (!steps[i].success)
            snprintf(want_detail, sizeof(want_detail), "step %zu failed", i);
        memcpy(res.detail, want_detail, sizeof(res.detail));
        rec_record(r, &res, 1000.0 + 10.0 * (double)i);
        want_sum += steps[i].duration;
        struct rec_snapshot s;
        rec_read(r, &s);
        if (s.runs != i + 1)
            fail_msg("step %zu: runs %llu, want %zu", i, (unsigned long long)s.runs, i + 1);
        for (size_t k = 0; k < 4; k++)
            if (s.failures[counted[k]] != steps[i].f[k])
                fail_msg("step %zu: failures[%s] %llu, want %llu", i, check_reason_name(counted[k]),
                         (unsigned long long)s.failures[counted[k]],
                         (unsigned long long)steps[i].f[k]);
        assert_int_equal(s.failures[CHECK_REASON_CONNECT], 0);
        assert_int_equal(s.failures[CHECK_REASON_TLS], 0);
        assert_int_equal(s.failures[CHECK_REASON_BODY], 0);
        assert_int_equal(s.failures[CHECK_REASON_LATENCY], 0);
        if (s.consecutive_failures != steps[i].consecutive)
            fail_msg("step %zu: consecutive %llu, want %llu", i,
                     (unsigned long long)s.consecutive_failures,
                     (unsigned long long)steps[i].consecutive);
        assert_true(s.has_result);
        assert_int_equal(s.up, steps[i].up);
        if (s.last_success != steps[i].last_success)
            fail_msg("step %zu: last_success %.17g, want %.17g", i, s.last_success,
                     steps[i].last_success);
        for (size_t k = 0; k < 4; k++)
            if (s.cumulative[k] != steps[i].cum[k])
                fail_msg("step %zu bucket %zu: %llu, want %llu", i, k,
                         (unsigned long long)s.cumulative[k], (unsigned long long)steps[i].cum[k]);
        for (size_t k = 1; k < 4; k++)
            assert_true(s.cumulative[k] >= s.cumulative[k - 1]);
        assert_int_equal(s.cumulative[3], s.runs);
        if (s.sum != want_sum)
            fail_msg("step %zu: sum %.17g, want %.17g", i, s.sum, want_sum);
        assert_int_equal(s.status, steps[i].want_status);
        for (int p = 0; p < CHECK_PHASE_COUNT; p++)
            assert_true(s.phases[p] == (double)(i + 1) * 0.001 * (p + 1));
        /* The last result: its time, duration, reason (an unknown one as
         * other) and detail; a success clears the detail. */
        assert_true(s.last_run == 1000.0 + 10.0 * (double)i);
        assert_true(s.last_duration == steps[i].duration);
        enum check_reason want_reason = steps[i].success ? CHECK_REASON_NONE
                                        : (unsigned)steps[i].why < CHECK_REASON_COUNT
                                            ? steps[i].why
                                            : CHECK_REASON_OTHER;
        if (s.last_reason != want_reason)
            fail_msg("step %zu: last_reason %s, want %s", i, check_reason_name(s.last_reason),
                     check_reason_name(want_reason));
        assert_string_equal(s.detail, want_detail);
    }
    rec_unref(r);
}

/* The detail goes in whole up to its last byte, and comes out
 * NUL-terminated with nothing after its end, whatever the type left in the
 * array. */
static void test_detail_kept(void **state)
{
    (void)state;
    struct rec *r = rec_new(bounds3, 3);
    struct check_result res = fail_result(CHECK_REASON_JSON, 0.1, 200);
    struct rec_snapshot s;

    /* The longest detail: CHECK_DETAIL_MAX - 1 bytes. */
    memset(res.detail, 'L', sizeof(res.detail) - 1);
    res.detail[sizeof(res.detail) - 1] = '\0';
    rec_record(r, &res, 5.0);
    rec_read(r, &s);
    assert_int_equal(strlen(s.detail), CHECK_DETAIL_MAX - 1);
    assert_memory_equal(s.detail, res.detail, CHECK_DETAIL_MAX);

    /* A short detail after a long one: no tail of the old one shows, and
     * bytes the type left after the NUL are not kept. */
    memset(res.detail, 'G', sizeof(res.detail));
    memcpy(res.detail, "short", 6);
    rec_record(r, &res, 6.0);
    memset(&s, 0x55, sizeof(s));
    rec_read(r, &s);
    assert_string_equal(s.detail, "short");
    for (size_t i = 6; i < CHECK_DETAIL_MAX; i++)
        assert_int_equal(s.detail[i], 0);
    assert_true(s.last_run == 6.0);

    /* An array without a NUL: its first CHECK_DETAIL_MAX - 1 bytes. */
    memset(res.detail, 'U', sizeof(res.detail));
    rec_record(r, &res, 7.0);
    rec_read(r, &s);
    assert_int_equal(strlen(s.detail), CHECK_DETAIL_MAX - 1);

    /* rec_observe (the scheduler's lag) leaves the last result alone. */
    rec_observe(r, 0.2);
    rec_read(r, &s);
    assert_int_equal(strlen(s.detail), CHECK_DETAIL_MAX - 1);
    assert_true(s.last_run == 7.0);
    assert_int_equal(s.last_reason, CHECK_REASON_JSON);
    rec_unref(r);
}

/* The le bound is inclusive: a value equal to a bound counts in it. */
static void test_bucket_edges(void **state)
{
    (void)state;
    const double b[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
    static const struct {
        double v;
        size_t bucket; /* index of the first bound >= v; 11 = +Inf */
    } cases[] = {
        {0.0, 0},  {0.005, 0},     {0.0050001, 1}, {0.01, 1},  {0.1, 4},   {0.1000001, 5},
        {0.25, 5}, {1.0, 7},       {1.0000001, 8}, {10.0, 10}, {10.5, 11}, {1e9, 11},
        {-1.0, 0}, {0.0049999, 0}, {2.5, 8},       {5.0, 9},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct rec *r = rec_new(b, ARRAY_SIZE(b));
        rec_observe(r, cases[i].v);
        struct rec_snapshot s;
        rec_read(r, &s);
        for (size_t k = 0; k <= ARRAY_SIZE(b); k++) {
            uint64_t want = k >= cases[i].bucket ? 1 : 0;
            if (s.cumulative[k] != want)
                fail_msg("value %g: cumulative[%zu] = %llu, want %llu", cases[i].v, k,
                         (unsigned long long)s.cumulative[k], (unsigned long long)want);
        }
        rec_unref(r);
    }
}

/* Many values: cumulative counts equal a direct count of values <= bound. */
static void test_histogram_many(void **state)
{
    (void)state;
    const double b[] = {0.125, 0.25, 0.5, 1, 2};
    struct rec *r = rec_new(b, 5);
    uint64_t want[6] = {0};
    double want_sum = 0;
    uint64_t x = 1;
    for (int i = 0; i < 10000; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        /* Multiples of 1/64 up to 3.98: exact in binary, many on a bound. */
        double v = (double)((x >> 33) % 256) / 64.0;
        rec_observe(r, v);
        want_sum += v;
        for (size_t k = 0; k < 5; k++)
            if (v <= b[k])
                want[k]++;
        want[5]++;
    }
    struct rec_snapshot s;
    rec_read(r, &s);
    assert_int_equal(s.runs, 10000);
    for (size_t k = 0; k < 6; k++)
        assert_int_equal(s.cumulative[k], want[k]);
    assert_true(s.sum == want_sum);
    rec_unref(r);
}

/* rec_observe feeds the histogram (count, sum) only. */
static void test_observe(void **state)
{
    (void)state;
    struct rec *r = rec_new(bounds3, 3);
    rec_observe(r, 0.5);
    rec_observe(r, 0.75);
    rec_observe(r, 3.0);
    struct rec_snapshot s;
    rec_read(r, &s);
    assert_int_equal(s.runs, 3);
    assert_int_equal(s.cumulative[0], 0);
    assert_int_equal(s.cumulative[1], 1);
    assert_int_equal(s.cumulative[2], 2);
    assert_int_equal(s.cumulative[3], 3);
    assert_true(s.sum == 4.25);
    assert_false(s.has_result);
    assert_false(s.up);
    for (int i = 0; i < CHECK_REASON_COUNT; i++)
        assert_int_equal(s.failures[i], 0);
    assert_int_equal(s.consecutive_failures, 0);
    rec_unref(r);

    /* No bounds: everything lands in +Inf. (A valid pointer with n = 0:
     * memcpy from NULL is undefined even for 0 bytes.) */
    r = rec_new(bounds3, 0);
    rec_observe(r, 0.001);
    rec_observe(r, 1e6);
    rec_read(r, &s);
    assert_int_equal(s.n_bounds, 0);
    assert_int_equal(s.cumulative[0], 2);
    assert_int_equal(s.runs, 2);
    assert_true(s.sum == 0.001 + 1e6);
    rec_unref(r);
}

/* A type's gauges: NaN (no series) until a run reports them, then the
 * last run's values exactly, a NaN of a later run included. */
static void test_gauges(void **state)
{
    (void)state;
    struct rec *r = rec_new(bounds3, 3);
    struct rec_snapshot s;
    rec_read(r, &s);
    for (int i = 0; i < CHECK_GAUGE_MAX; i++)
        assert_true(isnan(s.gauges[i]));
    struct check_result res = {.success = true, .reason = CHECK_REASON_NONE};
    for (int i = 0; i < CHECK_GAUGE_MAX; i++)
        res.gauges[i] = NAN;
    res.gauges[0] = 3;
    res.gauges[1] = 0.25;
    rec_record(r, &res, 100);
    rec_read(r, &s);
    assert_true(s.gauges[0] == 3);
    assert_true(s.gauges[1] == 0.25);
    assert_true(isnan(s.gauges[2]));
    res.success = false;
    res.reason = CHECK_REASON_DNS_RCODE;
    res.gauges[0] = NAN;
    res.gauges[1] = 2;
    rec_record(r, &res, 101);
    rec_read(r, &s);
    assert_true(isnan(s.gauges[0]));
    assert_true(s.gauges[1] == 2);
    assert_int_equal(s.failures[CHECK_REASON_DNS_RCODE], 1);
    rec_unref(r);
}

static void test_cert_expiry_kept(void **state)
{
    (void)state;
    struct rec *r = rec_new(bounds3, 3);
    static const struct {
        double in, want;
    } steps[] = {
        {0, 0},
        {1700000000.0, 1700000000.0},
        {0, 1700000000.0}, /* probe saw no certificate: keep the last one */
        {1800000000.0, 1800000000.0},
        {0, 1800000000.0},
        {1600000000.0, 1600000000.0}, /* a new, earlier certificate replaces it */
    };
    for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
        struct check_result res =
            i % 2 ? fail_result(CHECK_REASON_CONNECT, 0.1, 0) : ok_result(0.1, 200);
        res.cert_expiry = steps[i].in;
        rec_record(r, &res, 100.0);
        struct rec_snapshot s;
        rec_read(r, &s);
        if (s.cert_expiry != steps[i].want)
            fail_msg("step %zu: cert_expiry %.17g, want %.17g", i, s.cert_expiry, steps[i].want);
    }
    rec_unref(r);
}

static void test_same_bounds(void **state)
{
    (void)state;
    struct rec *r = rec_new(bounds3, 3);
    const double same[] = {0.1, 0.5, 1.0};
    const double other[] = {0.1, 0.5, 2.0};
    const double longer[] = {0.1, 0.5, 1.0, 2.0};
    assert_true(rec_same_bounds(r, same, 3));
    assert_false(rec_same_bounds(r, other, 3));
    assert_false(rec_same_bounds(r, same, 2));
    assert_false(rec_same_bounds(r, longer, 4));
    assert_false(rec_same_bounds(r, same, 0));
    rec_unref(r);

    r = rec_new(bounds3, 0);
    assert_true(rec_same_bounds(r, same, 0));
    assert_false(rec_same_bounds(r, same, 1));
    rec_unref(r);

    /* The bounds are copied, not borrowed. */
    double mine[] = {1, 2};
    r = rec_new(mine, 2);
    mine[1] = 3;
    assert_true(rec_bounds(r)[1] == 2.0);
    assert_false(rec_same_bounds(r, mine, 2));
    rec_unref(r);
}

static void test_refcount(void **state)
{
    (void)state;
    struct rec *r = rec_new(bounds3, 3);
    rec_ref(r);
    rec_ref(r);
    rec_unref(r);
    rec_unref(r);
    /* Still alive with one reference (ASan would flag a use after free). */
    rec_observe(r, 0.2);
    struct rec_snapshot s;
    rec_read(r, &s);
    assert_int_equal(s.runs, 1);
    rec_unref(r);
    rec_unref(NULL);
}

/* ---- one writer, one reader ---- */

enum { N_WRITES = 200000 };

struct race {
    struct rec *r;
    atomic_bool started; /* the reader is running: the writer may begin */
    atomic_bool done;
    /* Reader results, checked by the main thread after join (cmocka's
     * asserts must not run on another thread). */
    atomic_uint_fast64_t snapshots;
    uint64_t mid; /* snapshots taken while the writer was half-way */
    uint64_t bad;
    char first_bad[512];
};

/* The detail of write i: "" for a success (even i); for a failure a
 * nearly full line whose every byte depends on i, so a snapshot mixing
 * words of two writes never equals what either wrote. */
static void race_detail(uint64_t i, char out[CHECK_DETAIL_MAX])
{
    memset(out, 0, CHECK_DETAIL_MAX);
    if (i % 2 == 0)
        return;
    int n = snprintf(out, CHECK_DETAIL_MAX, "timeout of write %llu ", (unsigned long long)i);
    memset(out + n, 'a' + (int)(i / 2 % 26), CHECK_DETAIL_MAX - 1 - (size_t)n);
}

static void *writer_main(void *arg)
{
    struct race *rc = arg;
    while (!atomic_load(&rc->started))
        ; /* spin: start writing only once the reader is looping */
    for (uint64_t i = 0; i < N_WRITES; i++) {
        /* Even runs succeed, odd runs time out, so every field depends on
         * the run count and a torn snapshot shows up. */
        struct check_result res =
            i % 2 == 0 ? ok_result(1.0, 200) : fail_result(CHECK_REASON_TIMEOUT, 1.0, 504);
        race_detail(i, res.detail);
        rec_record(rc->r, &res, (double)(i + 1));
        /* A back-to-back writer would starve the reader (every read
         * overlaps a write and retries); a short busy gap after most writes
         * lets reads land between them, while every eighth write follows the
         * previous one immediately. */
        for (volatile int k = 0; i % 8 != 7 && k < 50; k++)
            ;
        /* Every 1000 writes, wait for the reader to finish one more
         * snapshot, so it is provably reading all along the run even when
         * the scheduler favours this thread. */
        if (i % 1000 == 999) {
            uint64_t seen = atomic_load(&rc->snapshots);
            while (atomic_load(&rc->snapshots) == seen)
                sched_yield();
        }
    }
    atomic_store(&rc->done, true);
    return NULL;
}

static void note_bad(struct race *rc, const char *what, const struct rec_snapshot *s)
{
    if (rc->bad++ == 0)
        snprintf(rc->first_bad, sizeof(rc->first_bad),
                 "%s: runs=%llu +Inf=%llu sum=%.17g timeouts=%llu up=%d consecutive=%llu "
                 "status=%d last_success=%.17g last_run=%.17g detail=%.40s",
                 what, (unsigned long long)s->runs, (unsigned long long)s->cumulative[3], s->sum,
                 (unsigned long long)s->failures[CHECK_REASON_TIMEOUT], s->up,
                 (unsigned long long)s->consecutive_failures, s->status, s->last_success,
                 s->last_run, s->detail);
}

static void *reader_main(void *arg)
{
    struct race *rc = arg;
    uint64_t last_runs = 0;
    for (;;) {
        bool finished = atomic_load(&rc->done);
        struct rec_snapshot s;
        rec_read(rc->r, &s);
        atomic_store(&rc->started, true);
        atomic_fetch_add(&rc->snapshots, 1);
        uint64_t k = s.runs;
        rc->mid += k > 0 && k < N_WRITES;
        if (k < last_runs)
            note_bad(rc, "runs went down", &s);
        last_runs = k;
        if (s.cumulative[3] != k || s.cumulative[1] != k || s.cumulative[0] != 0)
            note_bad(rc, "buckets", &s);
        if (s.sum != (double)k * 1.0)
            note_bad(rc, "sum", &s);
        if (s.failures[CHECK_REASON_TIMEOUT] != k / 2)
            note_bad(rc, "failures", &s);
        if (k > 0) {
            bool want_up = k % 2 == 1; /* the k-th record was index k-1 */
            if (!s.has_result || s.up != want_up || s.consecutive_failures != (want_up ? 0u : 1u) ||
                s.status != (want_up ? 200 : 504) ||
                s.last_success != (double)(want_up ? k : k - 1))
                note_bad(rc, "gauges", &s);
            /* The last result's time, reason and detail are the k-th's. */
            char want_detail[CHECK_DETAIL_MAX];
            race_detail(k - 1, want_detail);
            if (s.last_run != (double)k ||
                s.last_reason != (want_up ? CHECK_REASON_NONE : CHECK_REASON_TIMEOUT) ||
                memcmp(s.detail, want_detail, CHECK_DETAIL_MAX) != 0)
                note_bad(rc, "last result", &s);
        }
        if (finished)
            break;
    }
    return NULL;
}

static void test_concurrent_reader(void **state)
{
    (void)state;
    const double b[] = {0.5, 1.0, 2.0};
    struct race rc;
    memset(&rc, 0, sizeof(rc));
    rc.r = rec_new(b, 3);
    atomic_init(&rc.snapshots, 0);
    atomic_init(&rc.started, false);
    atomic_init(&rc.done, false);
    pthread_t w, rd;
    assert_int_equal(pthread_create(&rd, NULL, reader_main, &rc), 0);
    assert_int_equal(pthread_create(&w, NULL, writer_main, &rc), 0);
    assert_int_equal(pthread_join(w, NULL), 0);
    assert_int_equal(pthread_join(rd, NULL), 0);
    uint64_t snaps = atomic_load(&rc.snapshots);
    if (rc.bad)
        fail_msg("%llu of %llu snapshots inconsistent; first: %s", (unsigned long long)rc.bad,
                 (unsigned long long)snaps, rc.first_bad);
    /* At least one snapshot per 1000-write checkpoint came mid-run. */
    assert_true(rc.mid >= N_WRITES / 1000 - 1);
    struct rec_snapshot s;
    rec_read(rc.r, &s);
    assert_int_equal(s.runs, N_WRITES);
    assert_int_equal(s.cumulative[3], N_WRITES);
    assert_true(s.sum == (double)N_WRITES);
    assert_int_equal(s.failures[CHECK_REASON_TIMEOUT], N_WRITES / 2);
    rec_unref(rc.r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fresh),
        cmocka_unit_test(test_record_sequence),
        cmocka_unit_test(test_detail_kept),
        cmocka_unit_test(test_bucket_edges),
        cmocka_unit_test(test_histogram_many),
        cmocka_unit_test(test_observe),
        cmocka_unit_test(test_cert_expiry_kept),
        cmocka_unit_test(test_gauges),
        cmocka_unit_test(test_same_bounds),
        cmocka_unit_test(test_refcount),
        cmocka_unit_test(test_concurrent_reader),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
