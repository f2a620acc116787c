/* recorder.c - seqlock-protected per-check statistics. */
#include "recorder.h"
#include "common.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define DETAIL_WORDS (CHECK_DETAIL_MAX / 8)
_Static_assert(CHECK_DETAIL_MAX % 8 == 0, "the detail is kept as whole 64-bit words");

struct rec {
    atomic_uint refs;
    atomic_uint_fast64_t seq; /* odd while a write is in progress */
    size_t n_bounds;
    double *bounds; /* n_bounds entries, in the same allocation */
    /* Everything below is written only inside a write section. Doubles are
     * stored as their bit patterns so that every access is atomic. */
    atomic_uint_fast64_t runs;
    atomic_uint_fast64_t failures[CHECK_REASON_COUNT];
    atomic_uint_fast64_t *buckets; /* n_bounds + 1, not cumulative; same allocation */
    atomic_uint_fast64_t sum;
    atomic_uint_fast64_t flags; /* bit 0: has_result, bit 1: up */
    atomic_uint_fast64_t consecutive;
    atomic_uint_fast64_t consecutive_ok;
    atomic_uint_fast64_t retries;
    atomic_uint_fast64_t last_success;
    atomic_uint_fast64_t phases[CHECK_PHASE_COUNT];
    atomic_uint_fast64_t status;
    atomic_uint_fast64_t cert_expiry;
    atomic_uint_fast64_t gauges[CHECK_GAUGE_MAX];
    atomic_uint_fast64_t last_run, last_duration, last_reason;
    /* The last detail as 64-bit words (its bytes in memory order), so it
     * is read and written with atomics like everything else here. */
    atomic_uint_fast64_t detail[DETAIL_WORDS];
    /* Steps of multi-step runs: STEP_WORDS per step, same allocation. */
    size_t n_steps;
    atomic_uint_fast64_t *steps;
    /* The trend ring (REC_TREND_SLOTS slots, same allocation), kept as
     * small as the data allows because every check has one: per slot its
     * number (wall seconds / REC_TREND_STEP_S; 0: never written), the
     * duration sum in microseconds, the failures, and a count per bucket
     * (n_bounds + 1, slot after slot). The runs are the sum of the bucket
     * counts. Counts saturate; at the shortest interval (100 ms) a slot
     * holds 300 runs, far below the 16-bit ceiling. */
    _Atomic uint32_t *t_slot, *t_sum_us;
    _Atomic uint16_t *t_fail, *t_count;
};

_Static_assert(sizeof(_Atomic uint16_t) == 2 && sizeof(_Atomic uint32_t) == 4,
               "the trend ring's counters are plain-sized atomics");

/* A step's words: its failures by reason, then its last duration and its
 * flags (bit 0: has_result, bit 1: up). */
#define STEP_DURATION CHECK_REASON_COUNT
#define STEP_FLAGS (CHECK_REASON_COUNT + 1)
#define STEP_WORDS (CHECK_REASON_COUNT + 2)

static uint64_t d2u(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof(u));
    return u;
}

static double u2d(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof(d));
    return d;
}

#define LD(x) atomic_load_explicit(&(x), memory_order_relaxed)
#define ST(x, v) atomic_store_explicit(&(x), (v), memory_order_relaxed)

struct rec *rec_new(const double *bounds, size_t n)
{
    return rec_new_steps(bounds, n, 0);
}

struct rec *rec_new_steps(const double *bounds, size_t n, size_t n_steps)
{
    if (n > REC_MAX_BUCKETS)
        n = REC_MAX_BUCKETS; /* config caps this earlier; never reached */
    /* One allocation sized to the configured buckets: a check with the 11
     * default buckets costs ~650 bytes here (160 of them the last detail)
     * and 680 more for the trend ring, not the worst case; a step adds 144
     * bytes. The 8-byte arrays come first, then the ring's 4- and 2-byte
     * ones, so alignment holds. */
    size_t words = (n + 1) + n_steps * STEP_WORDS;
    size_t size = sizeof(struct rec) + n * sizeof(double) + words * sizeof(atomic_uint_fast64_t) +
                  rec_trend_bytes(n);
    struct rec *r = xcalloc(1, size);
    r->bounds = (double *)(r + 1);
    r->buckets = (atomic_uint_fast64_t *)(r->bounds + n);
    for (size_t i = 0; i <= n; i++)
        atomic_init(&r->buckets[i], 0);
    r->n_steps = n_steps;
    r->steps = r->buckets + n + 1;
    for (size_t i = 0; i < n_steps * STEP_WORDS; i++)
        atomic_init(&r->steps[i], 0);
    /* 32-bit arrays first, then 16-bit ones: each stays aligned. */
    r->t_slot = (_Atomic uint32_t *)(r->steps + n_steps * STEP_WORDS);
    r->t_sum_us = r->t_slot + REC_TREND_SLOTS;
    r->t_fail = (_Atomic uint16_t *)(r->t_sum_us + REC_TREND_SLOTS);
    r->t_count = r->t_fail + REC_TREND_SLOTS;
    for (size_t i = 0; i < REC_TREND_SLOTS; i++) {
        atomic_init(&r->t_slot[i], 0);
        atomic_init(&r->t_sum_us[i], 0);
        atomic_init(&r->t_fail[i], 0);
    }
    for (size_t i = 0; i < REC_TREND_SLOTS * (n + 1); i++)
        atomic_init(&r->t_count[i], 0);
    atomic_init(&r->refs, 1);
    atomic_init(&r->last_reason, (uint64_t)CHECK_REASON_NONE);
    for (size_t i = 0; i < CHECK_GAUGE_MAX; i++)
        atomic_init(&r->gauges[i], d2u(NAN));
    r->n_bounds = n;
    if (n)
        memcpy(r->bounds, bounds, n * sizeof(double));
    return r;
}

size_t rec_trend_bytes(size_t n_bounds)
{
    return REC_TREND_SLOTS * (2 * sizeof(uint32_t) + sizeof(uint16_t) * (n_bounds + 2));
}

void rec_ref(struct rec *r)
{
    atomic_fetch_add_explicit(&r->refs, 1, memory_order_relaxed);
}

void rec_unref(struct rec *r)
{
    if (r && atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) == 1)
        free(r);
}

bool rec_same_bounds(const struct rec *r, const double *bounds, size_t n)
{
    return r->n_bounds == n && memcmp(r->bounds, bounds, n * sizeof(double)) == 0;
}

size_t rec_step_count(const struct rec *r)
{
    return r->n_steps;
}

size_t rec_bound_count(const struct rec *r)
{
    return r->n_bounds;
}

const double *rec_bounds(const struct rec *r)
{
    return r->bounds;
}

/* Seqlock write section (single writer, so no CAS is needed). */
static void write_begin(struct rec *r)
{
    uint64_t s = LD(r->seq);
    ST(r->seq, s + 1);
    atomic_thread_fence(memory_order_release);
}

static void write_end(struct rec *r)
{
    uint64_t s = LD(r->seq);
    atomic_store_explicit(&r->seq, s + 1, memory_order_release);
}

/* Histogram update inside a write section; returns the bucket v fell in. */
static size_t observe_locked(struct rec *r, double v)
{
    size_t i = 0;
    while (i < r->n_bounds && v > r->bounds[i])
        i++;
    ST(r->buckets[i], LD(r->buckets[i]) + 1);
    ST(r->sum, d2u(u2d(LD(r->sum)) + v));
    ST(r->runs, LD(r->runs) + 1);
    return i;
}

/* The trend slot number of a wall time; 0 (never a current slot) when it
 * does not fit, so such a result stays out of the trend. */
static uint32_t trend_slot(double wall)
{
    double s = floor(wall / REC_TREND_STEP_S);
    return s >= 1 && s <= (double)UINT32_MAX ? (uint32_t)s : 0;
}

static uint16_t sat16(uint16_t v)
{
    return v < UINT16_MAX ? (uint16_t)(v + 1) : v;
}

/* One result into the trend ring, inside a write section: a slot that
 * still holds an older slot's counts starts over. */
static void trend_locked(struct rec *r, double wall, size_t bucket, double duration, bool failed)
{
    uint32_t slot = trend_slot(wall);
    if (!slot)
        return;
    /* A slot ahead of this one was written before the wall clock stepped
     * back (results arrive in time order): dropped, or once the clock
     * reaches its time again its old counts would show as recent and
     * take new results in. */
    for (size_t k = 0; k < REC_TREND_SLOTS; k++)
        if (LD(r->t_slot[k]) > slot)
            ST(r->t_slot[k], 0);
    size_t i = slot % REC_TREND_SLOTS, nb = r->n_bounds + 1;
    _Atomic uint16_t *counts = r->t_count + i * nb;
    if (LD(r->t_slot[i]) != slot) {
        ST(r->t_slot[i], slot);
        ST(r->t_sum_us[i], 0);
        ST(r->t_fail[i], 0);
        for (size_t k = 0; k < nb; k++)
            ST(counts[k], 0);
    }
    ST(counts[bucket], sat16(LD(counts[bucket])));
    if (failed)
        ST(r->t_fail[i], sat16(LD(r->t_fail[i])));
    double us = duration > 0 ? duration * 1e6 + 0.5 : 0;
    uint64_t sum =
        (uint64_t)LD(r->t_sum_us[i]) + (us < (double)UINT32_MAX ? (uint64_t)us : UINT32_MAX);
    ST(r->t_sum_us[i], sum < UINT32_MAX ? (uint32_t)sum : UINT32_MAX);
}

void rec_count_retry(struct rec *r)
{
    write_begin(r);
    ST(r->retries, LD(r->retries) + 1);
    write_end(r);
}

void rec_observe(struct rec *r, double value)
{
    write_begin(r);
    (void)observe_locked(r, value);
    write_end(r);
}

/* The reason a failed result counts under: an unknown one is "other". */
static enum check_reason why_failed(const struct check_result *res)
{
    return (unsigned)res->reason < CHECK_REASON_COUNT ? res->reason : CHECK_REASON_OTHER;
}

void rec_record(struct rec *r, const struct check_result *res, double wall_now)
{
    write_begin(r);
    size_t bucket = observe_locked(r, res->duration);
    trend_locked(r, wall_now, bucket, res->duration, !res->success);
    uint64_t flags = 1;
    if (res->success) {
        flags |= 2;
        ST(r->consecutive, 0);
        ST(r->consecutive_ok, LD(r->consecutive_ok) + 1);
        ST(r->last_success, d2u(wall_now));
    } else {
        enum check_reason why = why_failed(res);
        ST(r->failures[why], LD(r->failures[why]) + 1);
        ST(r->consecutive, LD(r->consecutive) + 1);
        ST(r->consecutive_ok, 0);
    }
    ST(r->flags, flags);
    for (int p = 0; p < CHECK_PHASE_COUNT; p++)
        ST(r->phases[p], d2u(res->phases[p]));
    ST(r->status, (uint64_t)(res->status > 0 ? res->status : 0));
    /* Keep the last known expiry when a probe saw no certificate (e.g. the
     * connection failed before TLS): the certificate did not go away. */
    if (res->cert_expiry > 0)
        ST(r->cert_expiry, d2u(res->cert_expiry));
    for (size_t i = 0; i < CHECK_GAUGE_MAX; i++)
        ST(r->gauges[i], d2u(res->gauges[i]));
    ST(r->last_run, d2u(wall_now));
    ST(r->last_duration, d2u(res->duration));
    ST(r->last_reason, (uint64_t)(res->success ? CHECK_REASON_NONE : why_failed(res)));
    /* Bytes after the NUL are zero, whatever the type left there. */
    uint64_t w[DETAIL_WORDS] = {0};
    memcpy(w, res->detail, strnlen(res->detail, CHECK_DETAIL_MAX - 1));
    for (size_t i = 0; i < DETAIL_WORDS; i++)
        ST(r->detail[i], w[i]);
    /* Steps by position: the type reports every configured step, in
     * order. A skipped step did not run: not up, no time, no failure. */
    size_t n = res->steps && res->n_steps < r->n_steps ? res->n_steps : r->n_steps;
    for (size_t i = 0; res->steps && i < n; i++) {
        const struct check_step *st = &res->steps[i];
        atomic_uint_fast64_t *w8 = r->steps + i * STEP_WORDS;
        bool ran = !st->skipped;
        if (ran && !st->success) {
            enum check_reason why =
                (unsigned)st->reason < CHECK_REASON_COUNT ? st->reason : CHECK_REASON_OTHER;
            ST(w8[why], LD(w8[why]) + 1);
        }
        ST(w8[STEP_DURATION], d2u(ran ? st->duration : 0));
        ST(w8[STEP_FLAGS], 1 | (ran && st->success ? 2 : 0));
    }
    write_end(r);
}

void rec_read_steps(const struct rec *rc, struct rec_step *out, size_t n)
{
    struct rec *r = (struct rec *)rc; /* read only; see rec_read */
    if (n > r->n_steps)
        n = r->n_steps;
    for (;;) {
        uint64_t s1 = atomic_load_explicit(&r->seq, memory_order_acquire);
        if (s1 & 1)
            continue;
        for (size_t i = 0; i < n; i++) {
            atomic_uint_fast64_t *w8 = r->steps + i * STEP_WORDS;
            for (int k = 0; k < CHECK_REASON_COUNT; k++)
                out[i].failures[k] = LD(w8[k]);
            out[i].duration = u2d(LD(w8[STEP_DURATION]));
            uint64_t flags = LD(w8[STEP_FLAGS]);
            out[i].has_result = flags & 1;
            out[i].up = flags & 2;
        }
        atomic_thread_fence(memory_order_acquire);
        if (LD(r->seq) == s1)
            return;
    }
}

void rec_read(const struct rec *rc, struct rec_snapshot *out)
{
    /* The fields are atomics, so reading through a non-const alias is only
     * about the C type system; nothing is written. */
    struct rec *r = (struct rec *)rc;
    for (;;) {
        uint64_t s1 = atomic_load_explicit(&r->seq, memory_order_acquire);
        if (s1 & 1)
            continue; /* a write is in progress: it takes nanoseconds */
        out->runs = LD(r->runs);
        for (int i = 0; i < CHECK_REASON_COUNT; i++)
            out->failures[i] = LD(r->failures[i]);
        out->n_bounds = r->n_bounds;
        uint64_t acc = 0;
        for (size_t i = 0; i <= r->n_bounds; i++) {
            acc += LD(r->buckets[i]);
            out->cumulative[i] = acc;
        }
        out->sum = u2d(LD(r->sum));
        uint64_t flags = LD(r->flags);
        out->has_result = flags & 1;
        out->up = flags & 2;
        out->consecutive_failures = LD(r->consecutive);
        out->consecutive_successes = LD(r->consecutive_ok);
        out->retries = LD(r->retries);
        out->last_success = u2d(LD(r->last_success));
        for (int p = 0; p < CHECK_PHASE_COUNT; p++)
            out->phases[p] = u2d(LD(r->phases[p]));
        out->status = (int)LD(r->status);
        out->cert_expiry = u2d(LD(r->cert_expiry));
        for (size_t i = 0; i < CHECK_GAUGE_MAX; i++)
            out->gauges[i] = u2d(LD(r->gauges[i]));
        out->last_run = u2d(LD(r->last_run));
        out->last_duration = u2d(LD(r->last_duration));
        out->last_reason = (enum check_reason)LD(r->last_reason);
        uint64_t w[DETAIL_WORDS];
        for (size_t i = 0; i < DETAIL_WORDS; i++)
            w[i] = LD(r->detail[i]);
        memcpy(out->detail, w, sizeof(out->detail));
        out->detail[CHECK_DETAIL_MAX - 1] = '\0';
        atomic_thread_fence(memory_order_acquire);
        if (LD(r->seq) == s1)
            return;
    }
}

void rec_read_state(const struct rec *rc, bool *has_result, bool *up)
{
    struct rec *r = (struct rec *)rc; /* read only; see rec_read */
    /* One word, written whole: no seqlock needed for it alone. */
    uint64_t flags = atomic_load_explicit(&r->flags, memory_order_relaxed);
    *has_result = flags & 1;
    *up = flags & 2;
}

void rec_read_trend(const struct rec *rc, double wall_now, struct rec_trend *out)
{
    struct rec *r = (struct rec *)rc; /* read only; see rec_read */
    size_t nb = r->n_bounds + 1;
    uint32_t slot[REC_TREND_SLOTS], sum[REC_TREND_SLOTS];
    uint16_t fail[REC_TREND_SLOTS], counts[REC_TREND_SLOTS * (REC_MAX_BUCKETS + 1)];
    for (;;) {
        uint64_t s1 = atomic_load_explicit(&r->seq, memory_order_acquire);
        if (s1 & 1)
            continue;
        for (size_t i = 0; i < REC_TREND_SLOTS; i++) {
            slot[i] = LD(r->t_slot[i]);
            sum[i] = LD(r->t_sum_us[i]);
            fail[i] = LD(r->t_fail[i]);
        }
        for (size_t i = 0; i < REC_TREND_SLOTS * nb; i++)
            counts[i] = LD(r->t_count[i]);
        atomic_thread_fence(memory_order_acquire);
        if (LD(r->seq) == s1)
            break;
    }
    memset(out, 0, sizeof(*out));
    out->n_bounds = r->n_bounds;
    uint32_t now = trend_slot(wall_now);
    uint64_t per_bucket[REC_MAX_BUCKETS + 1] = {0};
    for (size_t k = 0; k < REC_TREND_SLOTS; k++) {
        /* Oldest first: slot now - (SLOTS - 1) ... now. */
        int64_t want = (int64_t)now - (int64_t)(REC_TREND_SLOTS - 1 - k);
        struct rec_trend_slot *ts = &out->slots[k];
        ts->start = want * REC_TREND_STEP_S;
        size_t i = (size_t)(want >= 0 ? want : 0) % REC_TREND_SLOTS;
        if (want < 1 || slot[i] != (uint32_t)want)
            continue;
        for (size_t b = 0; b < nb; b++) {
            ts->runs += counts[i * nb + b];
            per_bucket[b] += counts[i * nb + b];
        }
        ts->failures = fail[i];
        ts->sum = (double)sum[i] / 1e6;
        out->runs += ts->runs;
        out->failures += ts->failures;
    }
    uint64_t acc = 0;
    for (size_t b = 0; b < nb; b++) {
        acc += per_bucket[b];
        out->cumulative[b] = acc;
    }
}

double rec_quantile(double q, const double *bounds, size_t n_bounds, const uint64_t *cumulative)
{
    if (q < 0)
        return -INFINITY;
    if (q > 1)
        return INFINITY;
    /* Prometheus needs two buckets (one finite bound and +Inf). */
    if (n_bounds < 1 || cumulative[n_bounds] == 0)
        return NAN;
    double rank = q * (double)cumulative[n_bounds];
    size_t b = 0;
    while (b < n_bounds && (double)cumulative[b] < rank)
        b++;
    if (b == n_bounds)
        return bounds[n_bounds - 1];
    if (b == 0 && bounds[0] <= 0)
        return bounds[0];
    double start = 0, count = (double)cumulative[b];
    if (b > 0) {
        start = bounds[b - 1];
        count -= (double)cumulative[b - 1];
        rank -= (double)cumulative[b - 1];
    }
    return start + (bounds[b] - start) * (rank / count);
}
