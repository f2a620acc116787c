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
};

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
     * default buckets costs ~650 bytes here (160 of them the last detail),
     * not the worst case; a step adds 144 bytes. The trailing arrays hold
     * 8-byte elements, so alignment holds. */
    size_t words = (n + 1) + n_steps * STEP_WORDS;
    size_t size = sizeof(struct rec) + n * sizeof(double) + words * sizeof(atomic_uint_fast64_t);
    struct rec *r = xcalloc(1, size);
    r->bounds = (double *)(r + 1);
    r->buckets = (atomic_uint_fast64_t *)(r->bounds + n);
    for (size_t i = 0; i <= n; i++)
        atomic_init(&r->buckets[i], 0);
    r->n_steps = n_steps;
    r->steps = r->buckets + n + 1;
    for (size_t i = 0; i < n_steps * STEP_WORDS; i++)
        atomic_init(&r->steps[i], 0);
    atomic_init(&r->refs, 1);
    atomic_init(&r->last_reason, (uint64_t)CHECK_REASON_NONE);
    for (size_t i = 0; i < CHECK_GAUGE_MAX; i++)
        atomic_init(&r->gauges[i], d2u(NAN));
    r->n_bounds = n;
    if (n)
        memcpy(r->bounds, bounds, n * sizeof(double));
    return r;
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

/* Histogram update inside a write section. */
static void observe_locked(struct rec *r, double v)
{
    size_t i = 0;
    while (i < r->n_bounds && v > r->bounds[i])
        i++;
    ST(r->buckets[i], LD(r->buckets[i]) + 1);
    ST(r->sum, d2u(u2d(LD(r->sum)) + v));
    ST(r->runs, LD(r->runs) + 1);
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
    observe_locked(r, value);
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
    observe_locked(r, res->duration);
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
