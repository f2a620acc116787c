/*
 * test_state.c - unit tests for the SLO state file (state.c): encode and
 * decode, restore by SLI identity, every way a file can be rejected, and the
 * atomic write / read / move-aside path in a temporary directory.
 *
 * All times are explicit Unix milliseconds (a fake clock). Windows are
 * checked against a brute-force count of the events that went in, at whole
 * UTC hours where every window is exact.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "buf.h"
#include "config.h"
#include "sli_window.h"
#include "slo.h"
#include "slo_state.h"
#include "state.h"
#include "test_util.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define SEC 1000LL
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)

/* 2026-01-01T00:00:00Z: a whole UTC hour, and the start of a month. */
#define H0 1767225600000LL
/* The last event of the round trip: 2026-01-11T07:00:00Z, a whole hour. */
#define NOW (H0 + 10 * DAY + 7 * HOUR)

#define ERRS_MAX (1u << 20)
#define N_SLOS 3

#define CHECKS                                                                                     \
    "checks:\n"                                                                                    \
    "  - {name: a, url: \"http://127.0.0.1:1/\", interval: 1s}\n"                                  \
    "  - {name: b, url: \"http://127.0.0.1:1/\", interval: 1s}\n"

/* Three SLOs: rolling 30 d availability, rolling 7 d latency, calendar month. */
static const char cfg_base[] =
    CHECKS "slos:\n"
           "  - {name: avail, objective: 99.9, period: 30d, sli: {checks: [a]}}\n"
           "  - {name: latency, objective: 99, period: 7d,\n"
           "     sli: {checks: [a, b], latency: {threshold: 300ms}}}\n"
           "  - {name: monthly, objective: 99.5, calendar: month, sli: {checks: [b]}}\n";

/* Same names, SLI definitions changed: other checks, other threshold. */
static const char cfg_sli_changed[] =
    CHECKS "slos:\n"
           "  - {name: avail, objective: 99.9, period: 30d, sli: {checks: [a, b]}}\n"
           "  - {name: latency, objective: 99, period: 7d,\n"
           "     sli: {checks: [a, b], latency: {threshold: 250ms}}}\n"
           "  - {name: monthly, objective: 99.5, calendar: month, sli: {checks: [a]}}\n";

/* Other single check, latency -> availability, availability -> latency. */
static const char cfg_sli_changed2[] =
    CHECKS "slos:\n"
           "  - {name: avail, objective: 99.9, period: 30d, sli: {checks: [b]}}\n"
           "  - {name: latency, objective: 99, period: 7d, sli: {checks: [a, b]}}\n"
           "  - {name: monthly, objective: 99.5, calendar: month,\n"
           "     sli: {checks: [b], latency: {threshold: 1s}}}\n";

/* Same SLI definitions (check order does not matter), objective, period,
 * policy and min_events changed: the events are kept. */
static const char cfg_obj_changed[] =
    CHECKS "slos:\n"
           "  - {name: avail, objective: 99.5, period: 7d, min_events: 3,\n"
           "     policy: {freeze_when_consumed: 0.5, over: 1d}, sli: {checks: [a]}}\n"
           "  - {name: latency, objective: 95, period: 28d,\n"
           "     sli: {checks: [b, a], latency: {threshold: 300ms}}}\n"
           "  - {name: monthly, objective: 99.99, period: 30d, sli: {checks: [b]}}\n";

static const char *const slo_names[N_SLOS] = {"avail", "latency", "monthly"};

static struct cfg *load_cfg(const char *yaml)
{
    struct cfg *c = NULL;
    struct buf errs;
    buf_init(&errs, ERRS_MAX);
    enum op_rc rc = cfg_load_string(yaml, strlen(yaml), "t.yml", &c, &errs);
    if (rc != OP_OK)
        print_error("config: %s\n", buf_str(&errs));
    assert_int_equal(rc, OP_OK);
    assert_int_equal(cfg_slo_count(c), N_SLOS);
    for (size_t i = 0; i < N_SLOS; i++)
        assert_string_equal(cfg_slo(c, i)->name, slo_names[i]);
    buf_free(&errs);
    return c;
}

/* ---- a deterministic history over twelve days ---- */

struct ev {
    int64_t t;
    uint32_t events, bad;
};

#define MAX_EV 1200

struct history {
    struct ev e[MAX_EV];
    size_t n;
    uint64_t events, bad; /* totals */
};

static int cmp_ev(const void *a, const void *b)
{
    const struct ev *x = a, *y = b;
    return (x->t > y->t) - (x->t < y->t);
}

static uint64_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s >> 33;
}

static void push(struct history *h, int64_t t, uint32_t events, uint32_t bad)
{
    assert_true(h->n < MAX_EV);
    h->e[h->n++] = (struct ev){t, events, bad};
    h->events += events;
    h->bad += bad;
}

/* Events across twelve days up to NOW (from 2025-12-30, so the calendar
 * SLO has events before its month), denser in the last day and hour so all
 * three levels hold many buckets. Some sit exactly on 10 s / 5 min / 1 h
 * bucket edges. Sorted by time. */
static void make_history(struct history *h, uint64_t seed)
{
    memset(h, 0, sizeof(*h));
    uint64_t s = seed;
    for (int k = 0; k < 400; k++) {
        int64_t t = NOW - 12 * DAY + (int64_t)(lcg(&s) % (uint64_t)(12 * DAY)) + 1;
        uint32_t e = 1 + (uint32_t)(lcg(&s) % 9);
        push(h, t, e, k % 7 == 0 ? 1 + (uint32_t)(lcg(&s) % e) : 0);
    }
    for (int k = 0; k < 300; k++) {
        int64_t t = NOW - DAY + (int64_t)(lcg(&s) % (uint64_t)DAY) + 1;
        uint32_t e = 1 + (uint32_t)(lcg(&s) % 5);
        push(h, t, e, k % 5 == 0 ? 1 : 0);
    }
    for (int k = 0; k < 300; k++) {
        int64_t t = NOW - HOUR + (int64_t)(lcg(&s) % (uint64_t)HOUR) + 1;
        uint32_t e = 1 + (uint32_t)(lcg(&s) % 3);
        push(h, t, e, k % 3 == 0 ? e : 0);
    }
    /* Exact bucket edges: the event belongs to the bucket ending there. */
    push(h, H0 + 10 * DAY, 4, 2);
    push(h, NOW - 10 * SEC, 3, 1);
    push(h, NOW - 5 * MIN, 2, 0);
    push(h, NOW - HOUR, 5, 5);
    push(h, H0, 7, 3); /* the last instant of December: not in January */
    push(h, NOW, 1, 1);
    qsort(h->e, h->n, sizeof(h->e[0]), cmp_ev);
    assert_true(h->e[h->n - 1].t == NOW);
}

/* Events and bad events with lo < t <= hi. */
static void brute(const struct history *h, int64_t lo, int64_t hi, uint64_t *ev, uint64_t *bad)
{
    *ev = 0;
    *bad = 0;
    for (size_t i = 0; i < h->n; i++) {
        if (h->e[i].t > lo && h->e[i].t <= hi) {
            *ev += h->e[i].events;
            *bad += h->e[i].bad;
        }
    }
}

static void fill(struct slo_state *st, const struct history *h)
{
    for (size_t i = 0; i < h->n; i++)
        slost_add(st, h->e[i].t, h->e[i].events, h->e[i].bad);
}

/* Events and bad events of window w (SLO_W_PERIOD: the spec's period) at at. */
static void win_sum(struct slo_state *st, const struct slo_spec *spec, enum slo_window w,
                    int64_t at, uint64_t *ev, uint64_t *bad)
{
    uint64_t et, bt;
    struct sliw *c = slost_copy(st, &et, &bt);
    if (w != SLO_W_PERIOD) {
        sliw_sum(c, at, slo_window_ms(w), ev, bad);
    } else if (spec->calendar_month) {
        int64_t start, len;
        slo_calendar_month(at, &start, &len);
        sliw_sum_since(c, at, start, ev, bad);
    } else {
        sliw_sum(c, at, spec->period_ms, ev, bad);
    }
    free(c);
}

/* Lower bound of window w at at, for the brute force. */
static int64_t win_lo(const struct slo_spec *spec, enum slo_window w, int64_t at)
{
    if (w != SLO_W_PERIOD)
        return at - slo_window_ms(w);
    if (spec->calendar_month) {
        int64_t start, len;
        slo_calendar_month(at, &start, &len);
        return start;
    }
    return at - spec->period_ms;
}

static void totals(struct slo_state *st, uint64_t *ev, uint64_t *bad)
{
    free(slost_copy(st, ev, bad));
}

/* Both stores hold exactly the same rings: same heads, same buckets. */
static void assert_same_rings(struct slo_state *a, struct slo_state *b)
{
    uint64_t e1, b1, e2, b2;
    struct sliw *x = slost_copy(a, &e1, &b1);
    struct sliw *y = slost_copy(b, &e2, &b2);
    assert_int_equal(e1, e2);
    assert_int_equal(b1, b2);
    for (int l = 0; l < SLIW_LEVELS; l++) {
        struct sliw_level_view vx, vy;
        sliw_level(x, l, &vx);
        sliw_level(y, l, &vy);
        assert_int_equal(vx.bucket_ms, vy.bucket_ms);
        assert_int_equal(vx.n, vy.n);
        assert_true(vx.head == vy.head);
        assert_true(vx.head != INT64_MIN);
        for (int64_t k = vx.head - (int64_t)vx.n + 1; k <= vx.head; k++) {
            const struct sliw_bucket *p = &vx.buckets[sliw_slot(k, vx.n)];
            const struct sliw_bucket *q = &vy.buckets[sliw_slot(k, vy.n)];
            assert_int_equal(p->events, q->events);
            assert_int_equal(p->bad, q->bad);
        }
    }
    free(x);
    free(y);
}

static void new_states(const struct cfg *c, struct slo_state *st[N_SLOS])
{
    for (size_t i = 0; i < N_SLOS; i++) {
        st[i] = slost_new(cfg_slo(c, i));
        assert_true(slost_identity(st[i]) == cfg_slo(c, i)->identity);
    }
}

static void unref_states(struct slo_state *st[N_SLOS])
{
    for (size_t i = 0; i < N_SLOS; i++)
        slost_unref(st[i]);
}

static void fill_states(struct slo_state *st[N_SLOS], struct history h[N_SLOS])
{
    for (size_t i = 0; i < N_SLOS; i++) {
        make_history(&h[i], 0x5eed0000u + i);
        fill(st[i], &h[i]);
    }
}

static enum op_rc decode(const struct buf *b, struct state_file **f, struct buf *errs)
{
    return state_decode(b->data, b->len, f, errs);
}

/* Whole hours at and after the last event, where every window is exact. */
static const int64_t exact_at[] = {
    NOW, NOW + HOUR, NOW + 7 * HOUR, NOW + DAY, NOW + 2 * DAY + 22 * HOUR,
};
/* Anywhere, also before the last event and off the bucket grid. */
static const int64_t any_at[] = {
    NOW - 1,        NOW - 7 * MIN - 3, NOW + 17 * SEC,
    NOW - 5 * HOUR, NOW - 2 * DAY - 1, NOW + 3 * DAY + 1,
};

/* ---- encode, decode, restore ---- */

static void test_round_trip(void **state)
{
    (void)state;
    struct cfg *c = load_cfg(cfg_base);
    struct slo_state *orig[N_SLOS], *back[N_SLOS];
    static struct history h[N_SLOS];
    new_states(c, orig);
    fill_states(orig, h);

    struct buf enc, errs;
    buf_init(&enc, 1u << 24);
    buf_init(&errs, ERRS_MAX);
    state_encode(slo_names, orig, N_SLOS, &enc);
    assert_false(enc.failed);
    assert_memory_equal(enc.data, "OUTPOSTS", 8);

    struct state_file *f = NULL;
    assert_int_equal(decode(&enc, &f, &errs), OP_OK);
    assert_non_null(f);
    assert_int_equal(errs.len, 0);
    assert_int_equal(state_record_count(f), N_SLOS);

    new_states(c, back);
    for (size_t i = 0; i < N_SLOS; i++)
        assert_true(state_restore(f, cfg_slo(c, i), back[i], STATE_MAX_TIME_MS));

    for (size_t i = 0; i < N_SLOS; i++) {
        const struct slo_spec *spec = cfg_slo(c, i);
        /* Raw counters: every event ever added, also those out of reach. */
        uint64_t et, bt, eo, bo;
        totals(back[i], &et, &bt);
        totals(orig[i], &eo, &bo);
        assert_int_equal(et, h[i].events);
        assert_int_equal(bt, h[i].bad);
        assert_int_equal(eo, et);
        assert_int_equal(bo, bt);
        assert_same_rings(orig[i], back[i]);

        for (size_t k = 0; k < ARRAY_SIZE(exact_at); k++) {
            for (int w = 0; w < SLO_W_COUNT; w++) {
                uint64_t ev, bad, ev0, bad0, want_ev, want_bad;
                int64_t at = exact_at[k];
                win_sum(back[i], spec, (enum slo_window)w, at, &ev, &bad);
                win_sum(orig[i], spec, (enum slo_window)w, at, &ev0, &bad0);
                brute(&h[i], win_lo(spec, (enum slo_window)w, at), at, &want_ev, &want_bad);
                if (ev != want_ev || bad != want_bad)
                    print_error("%s window %s at %lld: %llu/%llu, want %llu/%llu\n", slo_names[i],
                                slo_window_name((enum slo_window)w), (long long)at,
                                (unsigned long long)ev, (unsigned long long)bad,
                                (unsigned long long)want_ev, (unsigned long long)want_bad);
                assert_int_equal(ev, want_ev);
                assert_int_equal(bad, want_bad);
                assert_int_equal(ev0, want_ev);
                assert_int_equal(bad0, want_bad);
            }
        }
        for (size_t k = 0; k < ARRAY_SIZE(any_at); k++) {
            for (int w = 0; w < SLO_W_COUNT; w++) {
                uint64_t ev, bad, ev0, bad0;
                win_sum(back[i], spec, (enum slo_window)w, any_at[k], &ev, &bad);
                win_sum(orig[i], spec, (enum slo_window)w, any_at[k], &ev0, &bad0);
                assert_int_equal(ev, ev0);
                assert_int_equal(bad, bad0);
            }
        }
    }

    /* The data is not trivial: every level holds events at the first exact
     * hour, and the calendar period leaves December out. */
    uint64_t ev, bad, ev2, bad2;
    const int64_t t1 = exact_at[0];
    win_sum(back[0], cfg_slo(c, 0), SLO_W_1H, t1, &ev, &bad);
    assert_true(ev > 300 && bad > 50);
    win_sum(back[0], cfg_slo(c, 0), SLO_W_1D, t1, &ev2, &bad2);
    assert_true(ev2 > ev + 300);
    win_sum(back[0], cfg_slo(c, 0), SLO_W_PERIOD, t1, &ev, &bad);
    assert_int_equal(ev, h[0].events); /* everything is inside 30 d */
    win_sum(back[2], cfg_slo(c, 2), SLO_W_PERIOD, t1, &ev, &bad);
    brute(&h[2], H0, t1, &ev2, &bad2);
    assert_int_equal(ev, ev2);
    assert_int_equal(bad, bad2);
    assert_true(ev < h[2].events); /* December is left out */

    /* Encoding the restored states gives the same bytes. */
    struct buf enc2;
    buf_init(&enc2, 1u << 24);
    state_encode(slo_names, back, N_SLOS, &enc2);
    assert_int_equal(enc2.len, enc.len);
    assert_memory_equal(enc2.data, enc.data, enc.len);

    /* A name the file does not hold restores nothing. */
    struct slo_spec other = *cfg_slo(c, 0);
    other.name = "not-saved";
    struct slo_state *fresh = slost_new(&other);
    assert_false(state_restore(f, &other, fresh, STATE_MAX_TIME_MS));
    totals(fresh, &ev, &bad);
    assert_int_equal(ev, 0);
    assert_int_equal(bad, 0);
    slost_unref(fresh);

    state_file_free(f);
    unref_states(orig);
    unref_states(back);
    buf_free(&enc);
    buf_free(&enc2);
    buf_free(&errs);
    cfg_free(c);
}

/* An empty file (no records) and empty states are valid. */
static void test_empty_states(void **state)
{
    (void)state;
    struct cfg *c = load_cfg(cfg_base);
    struct slo_state *st[N_SLOS];
    new_states(c, st);
    struct buf enc, errs;
    buf_init(&enc, 1u << 20);
    buf_init(&errs, ERRS_MAX);

    state_encode(slo_names, st, 0, &enc);
    assert_int_equal(enc.len, 8 + 4 + 4 + 4);
    struct state_file *f = NULL;
    assert_int_equal(decode(&enc, &f, &errs), OP_OK);
    assert_int_equal(state_record_count(f), 0);
    assert_false(state_restore(f, cfg_slo(c, 0), st[0], STATE_MAX_TIME_MS));
    state_file_free(f);

    /* Three records without a single bucket or rate: 8 + 4 + 4, per record
     * 2 + name + 8 + 8 + 8 + 1 + 3 * (8 + 4) + 2 (version 2: the rate
     * count) + 8 + 8 (version 3: keep_ms, retired_ms), and the CRC. */
    buf_reset(&enc);
    state_encode(slo_names, st, N_SLOS, &enc);
    size_t want = 16 + 4;
    for (size_t i = 0; i < N_SLOS; i++)
        want += 2 + strlen(slo_names[i]) + 25 + 3 * 12 + 2 + 16;
    assert_int_equal(enc.len, want);
    f = NULL;
    assert_int_equal(decode(&enc, &f, &errs), OP_OK);
    assert_int_equal(state_record_count(f), N_SLOS);
    struct slo_state *back[N_SLOS];
    new_states(c, back);
    for (size_t i = 0; i < N_SLOS; i++) {
        assert_true(state_restore(f, cfg_slo(c, i), back[i], STATE_MAX_TIME_MS));
        uint64_t ev, bad;
        totals(back[i], &ev, &bad);
        assert_int_equal(ev, 0);
        assert_int_equal(bad, 0);
        win_sum(back[i], cfg_slo(c, i), SLO_W_PERIOD, NOW, &ev, &bad);
        assert_int_equal(ev, 0);
    }
    state_file_free(f);
    unref_states(st);
    unref_states(back);
    buf_free(&enc);
    buf_free(&errs);
    cfg_free(c);
}

/* ---- identity ---- */

static void test_identity(void **state)
{
    (void)state;
    struct cfg *c = load_cfg(cfg_base);
    struct slo_state *orig[N_SLOS];
    static struct history h[N_SLOS];
    new_states(c, orig);
    fill_states(orig, h);
    struct buf enc, errs;
    buf_init(&enc, 1u << 24);
    buf_init(&errs, ERRS_MAX);
    state_encode(slo_names, orig, N_SLOS, &enc);
    struct state_file *f = NULL;
    assert_int_equal(decode(&enc, &f, &errs), OP_OK);

    /* Changed checks, threshold, or availability <-> latency: a different
     * identity, nothing restored. */
    const char *const changed[] = {cfg_sli_changed, cfg_sli_changed2};
    for (size_t k = 0; k < ARRAY_SIZE(changed); k++) {
        struct cfg *c2 = load_cfg(changed[k]);
        for (size_t i = 0; i < N_SLOS; i++) {
            const struct slo_spec *spec = cfg_slo(c2, i);
            assert_true(spec->identity != cfg_slo(c, i)->identity);
            struct slo_state *st = slost_new(spec);
            assert_false(state_restore(f, spec, st, STATE_MAX_TIME_MS));
            uint64_t ev, bad;
            totals(st, &ev, &bad);
            assert_int_equal(ev, 0);
            assert_int_equal(bad, 0);
            for (int w = 0; w < SLO_W_COUNT; w++) {
                win_sum(st, spec, (enum slo_window)w, exact_at[0], &ev, &bad);
                assert_int_equal(ev, 0);
                assert_int_equal(bad, 0);
            }
            slost_unref(st);
        }
        cfg_free(c2);
    }

    /* Objective, period (also rolling <-> calendar), policy, min_events and
     * the order of checks changed: same identity, events restored. */
    struct cfg *c3 = load_cfg(cfg_obj_changed);
    for (size_t i = 0; i < N_SLOS; i++) {
        const struct slo_spec *spec = cfg_slo(c3, i);
        assert_true(spec->identity == cfg_slo(c, i)->identity);
        struct slo_state *st = slost_new(spec);
        assert_true(state_restore(f, spec, st, STATE_MAX_TIME_MS));
        uint64_t ev, bad;
        totals(st, &ev, &bad);
        assert_int_equal(ev, h[i].events);
        assert_int_equal(bad, h[i].bad);
        /* Every window equals the brute force over what the old level-2
         * ring still held: the 7 d latency SLO kept 169 hours ending at NOW,
         * so its new 28 d period holds just those. */
        struct slo_params op;
        slo_params_from_spec(cfg_slo(c, i), &op);
        int64_t reach = NOW - (int64_t)slo_l2_hours(&op) * HOUR;
        for (size_t k = 0; k < ARRAY_SIZE(exact_at); k++) {
            for (int w = 0; w < SLO_W_COUNT; w++) {
                uint64_t want_ev, want_bad;
                int64_t at = exact_at[k];
                int64_t lo = win_lo(spec, (enum slo_window)w, at);
                if (w >= SLO_W_3D && lo < reach)
                    lo = reach;
                win_sum(st, spec, (enum slo_window)w, at, &ev, &bad);
                brute(&h[i], lo, at, &want_ev, &want_bad);
                assert_int_equal(ev, want_ev);
                assert_int_equal(bad, want_bad);
            }
        }
        slost_unref(st);
    }
    /* The 30 d -> 7 d SLO now sees only its last 7 days. */
    uint64_t ev, bad, want_ev, want_bad;
    struct slo_state *st = slost_new(cfg_slo(c3, 0));
    assert_true(state_restore(f, cfg_slo(c3, 0), st, STATE_MAX_TIME_MS));
    win_sum(st, cfg_slo(c3, 0), SLO_W_PERIOD, exact_at[0], &ev, &bad);
    brute(&h[0], exact_at[0] - 7 * DAY, exact_at[0], &want_ev, &want_bad);
    assert_int_equal(ev, want_ev);
    assert_true(ev < h[0].events);
    slost_unref(st);
    cfg_free(c3);

    state_file_free(f);
    unref_states(orig);
    buf_free(&enc);
    buf_free(&errs);
    cfg_free(c);
}

/* ---- crafted files ---- */

static void put(struct buf *b, uint64_t v, int bytes)
{
    unsigned char t[8];
    for (int i = 0; i < bytes; i++)
        t[i] = (unsigned char)(v >> (8 * i));
    buf_add(b, t, (size_t)bytes);
}

static void put_crc(struct buf *b)
{
    put(b, (uint32_t)crc32(0L, (const Bytef *)b->data, (uInt)b->len), 4);
}

#define K0 (H0 / SLIW_L0_MS)

struct craft_level {
    int64_t bucket_ms;
    uint32_t count;   /* as written */
    uint32_t written; /* buckets actually present */
    int64_t idx[4];
    uint32_t ev[4], bad[4];
};

struct craft {
    char magic[8];
    uint32_t version, records;
    char name[200];
    size_t name_len;   /* as written */
    size_t name_bytes; /* bytes actually present */
    uint64_t identity, events_total, bad_total;
    uint8_t n_levels;
    struct craft_level lv[4];
    uint16_t n_rates; /* version 2: the schedule's rates (none by default) */
    struct slo_rate rates[2];
    int64_t keep_ms, retired_ms; /* version 3 */
    size_t extra;                /* garbage between the last record and the CRC */
};

/* What a fresh "avail" state holds after slost_add(H0 + 5 s, 10, 1) and
 * slost_add(H0 + 15 s, 5, 0). */
static void craft_default(struct craft *c, uint64_t identity)
{
    memset(c, 0, sizeof(*c));
    memcpy(c->magic, "OUTPOSTS", 8);
    c->version = STATE_VERSION;
    c->records = 1;
    memcpy(c->name, "avail", 5);
    c->name_len = c->name_bytes = 5;
    c->identity = identity;
    c->events_total = 15;
    c->bad_total = 1;
    c->n_levels = SLIW_LEVELS;
    c->lv[0] = (struct craft_level){SLIW_L0_MS, 2, 2, {K0, K0 + 1}, {10, 5}, {1, 0}};
    c->lv[1] = (struct craft_level){SLIW_L1_MS, 1, 1, {H0 / SLIW_L1_MS}, {15}, {1}};
    c->lv[2] = (struct craft_level){SLIW_L2_MS, 1, 1, {H0 / SLIW_L2_MS}, {15}, {1}};
    /* A 30 d SLO keeps its level 2 for 721 hours. */
    c->keep_ms = 721 * HOUR;
}

static void craft_write(const struct craft *c, struct buf *b)
{
    buf_reset(b);
    buf_add(b, c->magic, 8);
    put(b, c->version, 4);
    put(b, c->records, 4);
    put(b, c->name_len, 2);
    buf_add(b, c->name, c->name_bytes);
    put(b, c->identity, 8);
    put(b, c->events_total, 8);
    put(b, c->bad_total, 8);
    put(b, c->n_levels, 1);
    for (int l = 0; l < c->n_levels && l < 4; l++) {
        const struct craft_level *lv = &c->lv[l];
        put(b, (uint64_t)lv->bucket_ms, 8);
        put(b, lv->count, 4);
        for (uint32_t k = 0; k < lv->written && k < 4; k++) {
            put(b, (uint64_t)lv->idx[k], 8);
            put(b, lv->ev[k], 4);
            put(b, lv->bad[k], 4);
        }
    }
    if (c->version >= 2) {
        put(b, c->n_rates, 2);
        for (uint16_t k = 0; k < c->n_rates && k < 2; k++) {
            uint64_t bits;
            memcpy(&bits, &c->rates[k].per_ms, sizeof(bits));
            put(b, (uint64_t)c->rates[k].from_ms, 8);
            put(b, bits, 8);
        }
    }
    if (c->version >= 3) {
        put(b, (uint64_t)c->keep_ms, 8);
        put(b, (uint64_t)c->retired_ms, 8);
    }
    for (size_t i = 0; i < c->extra; i++)
        buf_addc(b, (char)(0xa5 ^ i));
    put_crc(b);
}

/* One mutation of the default file. */
struct craft_case {
    const char *what;
    void (*mutate)(struct craft *c);
    bool ok;
    const char *msg; /* part of the message; NULL: any non-empty one */
};

static void m_none(struct craft *c)
{
    (void)c;
}
static void m_name128(struct craft *c)
{
    memset(c->name, 'x', 128);
    c->name_len = c->name_bytes = 128;
}
static void m_name129(struct craft *c)
{
    memset(c->name, 'x', 129);
    c->name_len = c->name_bytes = 129;
}
static void m_name0(struct craft *c)
{
    c->name_len = c->name_bytes = 0;
}
static void m_bad_eq_events(struct craft *c)
{
    c->lv[1].bad[0] = 15;
}
static void m_bad_gt_events(struct craft *c)
{
    c->lv[1].bad[0] = 16;
}
static void m_bad_gt_events_l0(struct craft *c)
{
    c->lv[0].bad[1] = 6;
}
static void m_no_buckets(struct craft *c)
{
    for (int l = 0; l < SLIW_LEVELS; l++)
        c->lv[l].count = c->lv[l].written = 0;
}
static void m_idx_equal(struct craft *c)
{
    c->lv[0].idx[1] = c->lv[0].idx[0];
}
static void m_idx_decreasing(struct craft *c)
{
    c->lv[0].idx[0] = K0 + 1;
    c->lv[0].idx[1] = K0;
}
static void m_l0_ms(struct craft *c)
{
    c->lv[0].bucket_ms = 5000;
}
static void m_l1_ms(struct craft *c)
{
    c->lv[1].bucket_ms = SLIW_L0_MS;
}
static void m_l2_ms(struct craft *c)
{
    c->lv[2].bucket_ms = 0;
}
static void m_levels_swapped(struct craft *c)
{
    struct craft_level t = c->lv[1];
    c->lv[1] = c->lv[2];
    c->lv[2] = t;
}
static void m_two_levels(struct craft *c)
{
    c->n_levels = 2;
}
static void m_four_levels(struct craft *c)
{
    c->n_levels = 4;
    c->lv[3] = (struct craft_level){SLIW_L2_MS * 24, 0, 0, {0}, {0}, {0}};
}
static void m_count_over_max(struct craft *c)
{
    c->lv[0].count = SLIW_L0_N + 1;
}
static void m_count_over_data(struct craft *c)
{
    c->lv[2].count = 3;
}
static void m_count_under_data(struct craft *c)
{
    c->lv[0].count = 1;
}
static void m_more_records(struct craft *c)
{
    c->records = 2;
}
static void m_too_many_records(struct craft *c)
{
    c->records = CFG_MAX_SLOS + 1;
}
static void m_zero_records_with_data(struct craft *c)
{
    c->records = 0;
}
static void m_garbage1(struct craft *c)
{
    c->extra = 1;
}
static void m_garbage16(struct craft *c)
{
    c->extra = 16;
}
static void m_version0(struct craft *c)
{
    c->version = 0;
}
static void m_version2(struct craft *c)
{
    c->version = STATE_VERSION + 1;
}
static void m_magic(struct craft *c)
{
    memcpy(c->magic, "OUTPOSTZ", 8);
}
static void m_name_over_data(struct craft *c)
{
    /* The length claims the rest of the file and more. */
    c->name_len = 100;
}

static void m_version1(struct craft *c)
{
    c->version = 1; /* the layout before rates: still read */
}
static void m_two_rates(struct craft *c)
{
    c->n_rates = 2;
    c->rates[0] = (struct slo_rate){H0 - 3600 * SEC, 1.0 / 15000};
    c->rates[1] = (struct slo_rate){H0, 2.0 / 15000};
}
static void m_rates_equal_from(struct craft *c)
{
    m_two_rates(c);
    c->rates[1].from_ms = c->rates[0].from_ms;
}
static void m_rate_negative(struct craft *c)
{
    m_two_rates(c);
    c->rates[1].per_ms = -1.0 / 15000;
}
static void m_rate_nan(struct craft *c)
{
    m_two_rates(c);
    c->rates[0].per_ms = NAN;
}
static void m_rate_over_cap(struct craft *c)
{
    m_two_rates(c);
    c->rates[1].per_ms = STATE_MAX_RATE_PER_MS * 2;
}
static void m_rates_over_max(struct craft *c)
{
    c->n_rates = SLO_MAX_RATES + 1; /* and only two present */
}
static void m_version2_old(struct craft *c)
{
    c->version = 2; /* the layout before keep_ms and retired_ms: still read */
}
static void m_retired(struct craft *c)
{
    c->retired_ms = H0 + DAY;
}
static void m_keep0(struct craft *c)
{
    c->keep_ms = 0;
}
static void m_keep_max(struct craft *c)
{
    c->keep_ms = STATE_MAX_KEEP_MS;
}
static void m_keep_over_max(struct craft *c)
{
    c->keep_ms = STATE_MAX_KEEP_MS + 1;
}
static void m_retired_negative(struct craft *c)
{
    c->retired_ms = -1;
}
static void m_retired_after_9999(struct craft *c)
{
    c->retired_ms = STATE_MAX_TIME_MS + 1;
}

static const struct craft_case craft_cases[] = {
    {"version 1, no rates", m_version1, true, NULL},
    {"version 2, no keep_ms", m_version2_old, true, NULL},
    {"retired a day after H0", m_retired, true, NULL},
    {"keep_ms at its cap", m_keep_max, true, NULL},
    {"keep_ms 0", m_keep0, false, "malformed"},
    {"keep_ms above its cap", m_keep_over_max, false, "malformed"},
    {"retired_ms negative", m_retired_negative, false, "malformed"},
    {"retired_ms after 9999", m_retired_after_9999, false, "malformed"},
    {"two rates", m_two_rates, true, NULL},
    {"rates from the same time", m_rates_equal_from, false, "malformed"},
    {"a negative rate", m_rate_negative, false, "malformed"},
    {"a NaN rate", m_rate_nan, false, "malformed"},
    {"a rate above the cap", m_rate_over_cap, false, "malformed"},
    {"65 rates announced", m_rates_over_max, false, "malformed"},
    {"default", m_none, true, NULL},
    {"name of 128 bytes", m_name128, true, NULL},
    {"bad == events", m_bad_eq_events, true, NULL},
    {"no buckets", m_no_buckets, true, NULL},
    {"name of 129 bytes", m_name129, false, "malformed"},
    {"name of 0 bytes", m_name0, false, "malformed"},
    {"name longer than the file", m_name_over_data, false, "malformed"},
    {"bad > events (level 1)", m_bad_gt_events, false, "malformed"},
    {"bad > events (level 0)", m_bad_gt_events_l0, false, "malformed"},
    {"equal bucket indexes", m_idx_equal, false, "malformed"},
    {"decreasing bucket indexes", m_idx_decreasing, false, "malformed"},
    {"level 0 bucket_ms 5000", m_l0_ms, false, "malformed"},
    {"level 1 bucket_ms 10000", m_l1_ms, false, "malformed"},
    {"level 2 bucket_ms 0", m_l2_ms, false, "malformed"},
    {"levels 1 and 2 swapped", m_levels_swapped, false, "malformed"},
    {"two levels", m_two_levels, false, "malformed"},
    {"four levels", m_four_levels, false, "malformed"},
    {"level 0 count above its ring", m_count_over_max, false, "malformed"},
    {"count above the buckets present", m_count_over_data, false, "malformed"},
    {"count below the buckets present", m_count_under_data, false, "malformed"},
    {"2 records announced, 1 present", m_more_records, false, "malformed"},
    {"too many records", m_too_many_records, false, "too many"},
    {"0 records announced, 1 present", m_zero_records_with_data, false, "malformed"},
    {"1 byte of garbage before the CRC", m_garbage1, false, "malformed"},
    {"16 bytes of garbage before the CRC", m_garbage16, false, "malformed"},
    {"version 0", m_version0, false, "version"},
    {"a version after this build's", m_version2, false, "version"},
    {"other magic", m_magic, false, "not an outpost state file"},
};

static void test_crafted(void **state)
{
    (void)state;
    struct cfg *c = load_cfg(cfg_base);
    const struct slo_spec *spec = cfg_slo(c, 0);
    struct buf b, errs;
    buf_init(&b, 1u << 20);
    buf_init(&errs, ERRS_MAX);

    /* The documented layout is what state_encode writes, byte for byte. */
    struct slo_state *st = slost_new(spec);
    slost_add(st, H0 + 5 * SEC, 10, 1);
    slost_add(st, H0 + 15 * SEC, 5, 0);
    struct buf enc;
    buf_init(&enc, 1u << 20);
    const char *name = "avail";
    state_encode(&name, &st, 1, &enc);
    struct craft cr;
    craft_default(&cr, spec->identity);
    craft_write(&cr, &b);
    assert_int_equal(b.len, enc.len);
    assert_memory_equal(b.data, enc.data, b.len);
    slost_unref(st);
    buf_free(&enc);

    for (size_t i = 0; i < ARRAY_SIZE(craft_cases); i++) {
        const struct craft_case *cc = &craft_cases[i];
        craft_default(&cr, spec->identity);
        cc->mutate(&cr);
        craft_write(&cr, &b);
        buf_reset(&errs);
        struct state_file *f = NULL;
        enum op_rc rc = decode(&b, &f, &errs);
        if ((rc == OP_OK) != cc->ok)
            print_error("case \"%s\": rc %d, errors \"%s\"\n", cc->what, rc, buf_str(&errs));
        if (cc->ok) {
            assert_int_equal(rc, OP_OK);
            assert_non_null(f);
            assert_int_equal(errs.len, 0);
            assert_int_equal(state_record_count(f), 1);
            state_file_free(f);
            continue;
        }
        assert_int_equal(rc, OP_ERR_INVALID);
        assert_null(f);
        assert_true(errs.len > 0);
        if (cc->msg && !strstr(buf_str(&errs), cc->msg))
            print_error("case \"%s\": \"%s\" lacks \"%s\"\n", cc->what, buf_str(&errs), cc->msg);
        assert_non_null(strstr(buf_str(&errs), cc->msg));
    }

    /* The default file restores to exactly those two adds. */
    craft_default(&cr, spec->identity);
    craft_write(&cr, &b);
    struct state_file *f = NULL;
    assert_int_equal(decode(&b, &f, &errs), OP_OK);
    st = slost_new(spec);
    assert_true(state_restore(f, spec, st, STATE_MAX_TIME_MS));
    static const struct {
        enum slo_window w;
        int64_t at;
        uint64_t ev, bad;
    } want[] = {
        {SLO_W_5M, H0 + 10 * SEC, 10, 1},     {SLO_W_5M, H0 + 20 * SEC, 15, 1},
        {SLO_W_5M, H0 + 5 * MIN, 15, 1},      {SLO_W_5M, H0 + 5 * MIN + 10 * SEC, 5, 0},
        {SLO_W_5M, H0 + 6 * MIN, 0, 0},       {SLO_W_1H, H0 + HOUR, 15, 1},
        {SLO_W_2H, H0 + 2 * HOUR, 15, 1},     {SLO_W_2H, H0 + 2 * HOUR + 5 * MIN, 0, 0},
        {SLO_W_3D, H0 + 3 * DAY, 15, 1},      {SLO_W_3D, H0 + 3 * DAY + HOUR, 0, 0},
        {SLO_W_PERIOD, H0 + 30 * DAY, 15, 1},
    };
    for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
        uint64_t ev, bad;
        win_sum(st, spec, want[i].w, want[i].at, &ev, &bad);
        assert_int_equal(ev, want[i].ev);
        assert_int_equal(bad, want[i].bad);
    }
    uint64_t et, bt;
    totals(st, &et, &bt);
    assert_int_equal(et, 15);
    assert_int_equal(bt, 1);
    slost_unref(st);
    state_file_free(f);

    buf_free(&b);
    buf_free(&errs);
    cfg_free(c);
}

/* A small real file with events in all three levels, for the O(n^2) loops. */
static void small_file(const struct slo_spec *spec, struct buf *enc)
{
    struct slo_state *st = slost_new(spec);
    for (int k = 0; k < 40; k++)
        slost_add(st, NOW - (int64_t)k * k * 5 * MIN - k * 777, 1 + (uint64_t)k % 4,
                  k % 3 == 0 ? 1 : 0);
    const char *name = spec->name;
    state_encode(&name, &st, 1, enc);
    slost_unref(st);
}

static void expect_invalid(const void *data, size_t len, const char *why)
{
    struct buf errs;
    buf_init(&errs, ERRS_MAX);
    struct state_file *f = NULL;
    enum op_rc rc = state_decode(data, len, &f, &errs);
    if (rc != OP_ERR_INVALID || !errs.len)
        print_error("%s (len %zu): rc %d \"%s\"\n", why, len, rc, buf_str(&errs));
    assert_int_equal(rc, OP_ERR_INVALID);
    assert_null(f);
    assert_true(errs.len > 0);
    buf_free(&errs);
}

static void test_damaged(void **state)
{
    (void)state;
    struct cfg *c = load_cfg(cfg_base);
    struct buf enc, errs;
    buf_init(&enc, 1u << 20);
    buf_init(&errs, ERRS_MAX);
    small_file(cfg_slo(c, 0), &enc);
    struct state_file *f = NULL;
    assert_int_equal(decode(&enc, &f, &errs), OP_OK);
    state_file_free(f);
    assert_true(enc.len > 500);

    /* Each length from 0 to len - 1, in a heap block of exactly that size
     * so ASan sees any read past the end. */
    for (size_t n = 0; n < enc.len; n++) {
        char *p = xmalloc(n ? n : 1);
        memcpy(p, enc.data, n);
        expect_invalid(p, n, "truncated");
        free(p);
    }

    /* One byte flipped anywhere (CRC-32 catches every one). */
    char *p = xmalloc(enc.len);
    for (size_t i = 0; i < enc.len; i++) {
        for (int bit = 0; bit < 8; bit += 7) {
            memcpy(p, enc.data, enc.len);
            p[i] ^= (char)(1 << bit);
            expect_invalid(p, enc.len, "one bit flipped");
        }
        memcpy(p, enc.data, enc.len);
        p[i] ^= (char)0xff;
        expect_invalid(p, enc.len, "one byte flipped");
    }
    free(p);

    /* Checksum mismatch names it. */
    p = xmalloc(enc.len);
    memcpy(p, enc.data, enc.len);
    p[enc.len / 2] ^= 1;
    buf_reset(&errs);
    f = NULL;
    assert_int_equal(state_decode(p, enc.len, &f, &errs), OP_ERR_INVALID);
    assert_non_null(strstr(buf_str(&errs), "checksum"));
    free(p);

    /* Garbage after the CRC. */
    for (size_t extra = 1; extra <= 8; extra++) {
        p = xmalloc(enc.len + extra);
        memcpy(p, enc.data, enc.len);
        memset(p + enc.len, 0, extra);
        expect_invalid(p, enc.len + extra, "trailing garbage");
        /* Even when the garbage is a copy of the CRC. */
        memcpy(p + enc.len, enc.data + enc.len - (extra < 4 ? extra : 4), extra < 4 ? extra : 4);
        expect_invalid(p, enc.len + extra, "trailing CRC copy");
        free(p);
    }
    /* The file twice. */
    p = xmalloc(2 * enc.len);
    memcpy(p, enc.data, enc.len);
    memcpy(p + enc.len, enc.data, enc.len);
    expect_invalid(p, 2 * enc.len, "doubled");
    free(p);

    buf_free(&enc);
    buf_free(&errs);
    cfg_free(c);
}

static void test_foreign(void **state)
{
    (void)state;
    static const unsigned char png[] = {
        0x89, 'P',  'N',  'G', '\r', '\n', 0x1a, '\n', 0,   0,   0,   0x0d, 'I',  'H',  'D',
        'R',  0,    0,    0,   1,    0,    0,    0,    1,   8,   2,   0,    0,    0,    0x90,
        0x77, 0x53, 0xde, 0,   0,    0,    0,    'I',  'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82};
    static const char yaml[] = "checks:\n  - name: a\n    url: http://example.com/\n";
    static const char magic_only[] = "OUTPOSTS";
    static const char gz[] = "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\x03\x00\x00\x00\x00\x00"
                             "\x00\x00\x00\x00";
    static const char zeros[64] = {0};
    char ff[64];
    memset(ff, 0xff, sizeof(ff));
    const struct {
        const void *p;
        size_t n;
    } files[] = {
        {png, sizeof(png)},     {yaml, strlen(yaml)}, {magic_only, 8}, {gz, sizeof(gz) - 1},
        {zeros, sizeof(zeros)}, {ff, sizeof(ff)},     {"", 0},         {"OUTPOSTS\1\0\0\0", 12},
    };
    for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
        char *p = xmalloc(files[i].n ? files[i].n : 1);
        memcpy(p, files[i].p, files[i].n);
        expect_invalid(p, files[i].n, "foreign");
        struct buf errs;
        buf_init(&errs, ERRS_MAX);
        struct state_file *f = NULL;
        assert_int_equal(state_decode(p, files[i].n, &f, &errs), OP_ERR_INVALID);
        /* Too short for a header, or another magic. */
        assert_string_equal(buf_str(&errs), "not an outpost state file");
        buf_free(&errs);
        free(p);
    }

    /* A YAML text that happens to start with the magic and ends in a valid
     * CRC is still rejected (it is not a well-formed record list). */
    struct buf b;
    buf_init(&b, 1u << 16);
    buf_adds(&b, "OUTPOSTS");
    put(&b, STATE_VERSION, 4);
    put(&b, 1, 4);
    buf_adds(&b, yaml);
    put_crc(&b);
    expect_invalid(b.data, b.len, "yaml with magic");
    buf_free(&b);
}

/* ---- files in a temporary directory ---- */

/* A fresh empty directory inside the test's temporary directory. */
static void subdir(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", tu_tmpdir(), name);
    tu_rm_rf(out);
    assert_int_equal(mkdir(out, 0700), 0);
}

static void path_of(char *out, size_t cap, const char *dir, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* Names in dir, sorted, joined by '|'. */
static void listing(const char *dir, char *out, size_t cap)
{
    char names[16][sizeof(((struct dirent *)0)->d_name)];
    int n = 0;
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        assert_true(n < 16);
        snprintf(names[n++], sizeof(names[0]), "%s", de->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof(names[0]), cmp_name);
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (i)
            strncat(out, "|", cap - strlen(out) - 1);
        strncat(out, names[i], cap - strlen(out) - 1);
    }
}

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, n, fp), n);
    assert_int_equal(fclose(fp), 0);
}

/* Whole file into b. */
static bool read_whole(const char *path, struct buf *b)
{
    buf_reset(b);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return false;
    char chunk[4096];
    size_t got;
    while ((got = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        buf_add(b, chunk, got);
    fclose(fp);
    return true;
}

/* The one entry of dir that is "slo-state.bin.corrupt-<digits>". */
static void assert_moved_aside(const char *dir, struct buf *content)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    int corrupt = 0, other = 0;
    char found[1024] = "";
    const char *prefix = STATE_FILE_NAME ".corrupt-";
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (strncmp(de->d_name, prefix, strlen(prefix)) == 0) {
            const char *q = de->d_name + strlen(prefix);
            assert_true(*q != '\0');
            for (; *q; q++)
                assert_true(*q >= '0' && *q <= '9');
            corrupt++;
            snprintf(found, sizeof(found), "%s/%s", dir, de->d_name);
        } else {
            other++;
        }
    }
    closedir(d);
    assert_int_equal(corrupt, 1);
    assert_int_equal(other, 0); /* slo-state.bin itself is gone */
    char orig[512];
    path_of(orig, sizeof(orig), dir, STATE_FILE_NAME);
    assert_int_equal(access(orig, F_OK), -1);
    if (content) {
        struct buf got;
        buf_init(&got, 1u << 24);
        assert_true(read_whole(found, &got));
        assert_int_equal(got.len, content->len);
        if (got.len)
            assert_memory_equal(got.data, content->data, got.len);
        buf_free(&got);
    }
}

static void test_write_read(void **state)
{
    (void)state;
    struct cfg *c = load_cfg(cfg_base);
    struct slo_state *st[N_SLOS];
    static struct history h[N_SLOS];
    new_states(c, st);
    fill_states(st, h);
    char dir[256], file[512], ls[1024];
    subdir(dir, sizeof(dir), "rw");
    path_of(file, sizeof(file), dir, STATE_FILE_NAME);

    struct buf errs, bytes, enc;
    buf_init(&errs, ERRS_MAX);
    buf_init(&bytes, 1u << 24);
    buf_init(&enc, 1u << 24);

    /* Nothing there yet: first start. */
    struct state_file *f = NULL;
    assert_int_equal(state_read(dir, &f, &errs), OP_ERR_NOT_FOUND);
    assert_null(f);
    listing(dir, ls, sizeof(ls));
    assert_string_equal(ls, "");

    assert_int_equal(state_write(dir, slo_names, st, N_SLOS, &errs), OP_OK);
    assert_int_equal(errs.len, 0);
    listing(dir, ls, sizeof(ls));
    assert_string_equal(ls, STATE_FILE_NAME); /* no temp file left */
    /* The file holds exactly the encoding. */
    state_encode(slo_names, st, N_SLOS, &enc);
    assert_true(read_whole(file, &bytes));
    assert_int_equal(bytes.len, enc.len);
    assert_memory_equal(bytes.data, enc.data, enc.len);

    assert_int_equal(state_read(dir, &f, &errs), OP_OK);
    assert_non_null(f);
    assert_int_equal(errs.len, 0);
    assert_int_equal(state_record_count(f), N_SLOS);
    struct slo_state *back[N_SLOS];
    new_states(c, back);
    for (size_t i = 0; i < N_SLOS; i++) {
        assert_true(state_restore(f, cfg_slo(c, i), back[i], STATE_MAX_TIME_MS));
        assert_same_rings(st[i], back[i]);
    }
    unref_states(back);
    state_file_free(f);
    /* Reading does not consume or move the file. */
    listing(dir, ls, sizeof(ls));
    assert_string_equal(ls, STATE_FILE_NAME);

    /* A second write replaces the file (one record now). */
    assert_int_equal(state_write(dir, slo_names + 1, st + 1, 1, &errs), OP_OK);
    f = NULL;
    assert_int_equal(state_read(dir, &f, &errs), OP_OK);
    assert_int_equal(state_record_count(f), 1);
    struct slo_state *one = slost_new(cfg_slo(c, 0));
    assert_false(state_restore(f, cfg_slo(c, 0), one, STATE_MAX_TIME_MS)); /* avail is not in it */
    slost_unref(one);
    one = slost_new(cfg_slo(c, 1));
    assert_true(state_restore(f, cfg_slo(c, 1), one, STATE_MAX_TIME_MS));
    assert_same_rings(st[1], one);
    slost_unref(one);
    state_file_free(f);
    listing(dir, ls, sizeof(ls));
    assert_string_equal(ls, STATE_FILE_NAME);

    /* A directory that does not exist: an error, nothing created. */
    char missing[512];
    path_of(missing, sizeof(missing), dir, "no/such");
    buf_reset(&errs);
    assert_int_not_equal(state_write(missing, slo_names, st, N_SLOS, &errs), OP_OK);
    assert_true(errs.len > 0);
    f = NULL;
    assert_int_equal(state_read(missing, &f, &errs), OP_ERR_NOT_FOUND);
    assert_null(f);

    unref_states(st);
    buf_free(&errs);
    buf_free(&bytes);
    buf_free(&enc);
    cfg_free(c);
}

static void test_read_corrupt(void **state)
{
    (void)state;
    struct cfg *c = load_cfg(cfg_base);
    char dir[256], file[512];
    struct buf errs, content;
    buf_init(&errs, ERRS_MAX);
    buf_init(&content, 1u << 20);

    /* A valid file with one byte flipped, a truncated one, an empty one, a
     * foreign one. */
    struct buf good;
    buf_init(&good, 1u << 20);
    small_file(cfg_slo(c, 0), &good);
    for (int k = 0; k < 4; k++) {
        buf_reset(&content);
        if (k == 0) {
            buf_add(&content, good.data, good.len);
            content.data[good.len / 3] ^= 0x10;
        } else if (k == 1) {
            buf_add(&content, good.data, good.len - 1);
        } else if (k == 3) {
            buf_adds(&content, "\x89PNG\r\n\x1a\n0123456789abcdef0123456789");
        }
        subdir(dir, sizeof(dir), "corrupt");
        path_of(file, sizeof(file), dir, STATE_FILE_NAME);
        write_file(file, content.data ? content.data : "", content.len);

        buf_reset(&errs);
        struct state_file *f = NULL;
        assert_int_equal(state_read(dir, &f, &errs), OP_ERR_INVALID);
        assert_null(f);
        /* The message names the file, the reason and where it went. */
        assert_non_null(strstr(buf_str(&errs), file));
        assert_non_null(strstr(buf_str(&errs), "moved aside"));
        assert_non_null(strstr(buf_str(&errs), ".corrupt-"));
        assert_moved_aside(dir, &content);

        /* The next start finds nothing and starts fresh. */
        assert_int_equal(state_read(dir, &f, &errs), OP_ERR_NOT_FOUND);
        assert_null(f);
    }

    /* Something that is not a regular file (a directory or a FIFO named
     * slo-state.bin) is refused at once, never read, never moved, and never
     * replaced by a snapshot. A FIFO without a writer used to block the
     * start for ever. */
    for (int k = 0; k < 2; k++) {
        subdir(dir, sizeof(dir), "corrupt");
        path_of(file, sizeof(file), dir, STATE_FILE_NAME);
        assert_int_equal(k ? mkfifo(file, 0600) : mkdir(file, 0700), 0);
        buf_reset(&errs);
        struct state_file *f = NULL;
        assert_int_equal(state_read(dir, &f, &errs), OP_ERR_INVALID);
        assert_null(f);
        char want[1024];
        snprintf(want, sizeof(want),
                 "%s: not a regular file; left in place, SLO state is not saved until it is "
                 "removed",
                 file);
        assert_string_equal(buf_str(&errs), want);
        char ls[1024];
        listing(dir, ls, sizeof(ls));
        assert_string_equal(ls, STATE_FILE_NAME);
        struct stat sb;
        assert_int_equal(lstat(file, &sb), 0);
        assert_true(k ? S_ISFIFO(sb.st_mode) : S_ISDIR(sb.st_mode));

        struct slo_state *one = slost_new(cfg_slo(c, 0));
        const char *name = "avail";
        buf_reset(&errs);
        assert_int_equal(state_write(dir, &name, &one, 1, &errs), OP_ERR_IO);
        snprintf(want, sizeof(want), "%s: not a regular file; not replacing it", file);
        assert_string_equal(buf_str(&errs), want);
        listing(dir, ls, sizeof(ls));
        assert_string_equal(ls, STATE_FILE_NAME);
        assert_int_equal(lstat(file, &sb), 0);
        assert_true(k ? S_ISFIFO(sb.st_mode) : S_ISDIR(sb.st_mode));
        slost_unref(one);
    }

    buf_free(&good);
    buf_free(&errs);
    buf_free(&content);
    cfg_free(c);
}

static void test_write_fails(void **state)
{
    (void)state;
    struct cfg *c = load_cfg(cfg_base);
    struct slo_state *st[N_SLOS];
    static struct history h[N_SLOS];
    new_states(c, st);
    fill_states(st, h);
    char dir[256], file[512], tmp[512], ls[1024];
    subdir(dir, sizeof(dir), "wfail");
    path_of(file, sizeof(file), dir, STATE_FILE_NAME);
    path_of(tmp, sizeof(tmp), dir, STATE_FILE_NAME ".tmp");
    struct buf errs, before, after;
    buf_init(&errs, ERRS_MAX);
    buf_init(&before, 1u << 24);
    buf_init(&after, 1u << 24);

    assert_int_equal(state_write(dir, slo_names, st, 1, &errs), OP_OK);
    assert_true(read_whole(file, &before));

    /* The temp path is a directory: open fails even for root. */
    assert_int_equal(mkdir(tmp, 0700), 0);
    for (size_t i = 0; i < N_SLOS; i++)
        slost_add(st[i], NOW + MIN, 1000, 999);
    buf_reset(&errs);
    enum op_rc rc = state_write(dir, slo_names, st, N_SLOS, &errs);
    assert_int_not_equal(rc, OP_OK);
    assert_int_equal(rc, OP_ERR_IO);
    assert_non_null(strstr(buf_str(&errs), tmp));
    assert_non_null(strstr(buf_str(&errs), "create"));

    /* The previous file is intact, byte for byte, and still loads. */
    assert_true(read_whole(file, &after));
    assert_int_equal(after.len, before.len);
    assert_memory_equal(after.data, before.data, before.len);
    listing(dir, ls, sizeof(ls));
    assert_string_equal(ls, STATE_FILE_NAME "|" STATE_FILE_NAME ".tmp");
    struct stat sb;
    assert_int_equal(lstat(tmp, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
    listing(tmp, ls, sizeof(ls));
    assert_string_equal(ls, "");
    struct state_file *f = NULL;
    assert_int_equal(state_read(dir, &f, &errs), OP_OK);
    assert_int_equal(state_record_count(f), 1);
    state_file_free(f);

    /* A FIFO there (no reader): refused at once, not blocked on, and left
     * in place. */
    assert_int_equal(rmdir(tmp), 0);
    assert_int_equal(mkfifo(tmp, 0600), 0);
    buf_reset(&errs);
    assert_int_equal(state_write(dir, slo_names, st, N_SLOS, &errs), OP_ERR_IO);
    char want[1024];
    snprintf(want, sizeof(want), "%s: cannot create: No such device or address", tmp);
    assert_string_equal(buf_str(&errs), want);
    assert_int_equal(lstat(tmp, &sb), 0);
    assert_true(S_ISFIFO(sb.st_mode));
    assert_true(read_whole(file, &after));
    assert_memory_equal(after.data, before.data, before.len);
    assert_int_equal(unlink(tmp), 0);

    /* Once the obstacle is gone the write works again. */
    assert_int_equal(state_write(dir, slo_names, st, N_SLOS, &errs), OP_OK);
    listing(dir, ls, sizeof(ls));
    assert_string_equal(ls, STATE_FILE_NAME);
    f = NULL;
    assert_int_equal(state_read(dir, &f, &errs), OP_OK);
    assert_int_equal(state_record_count(f), N_SLOS);
    state_file_free(f);

    unref_states(st);
    buf_free(&errs);
    buf_free(&before);
    buf_free(&after);
    cfg_free(c);
}

/* ---- records of SLOs no longer configured ---- */

/* An SLO a reload removed is kept, written with the live ones, restored
 * with its windows and totals when it comes back, and dropped once its
 * level-2 span (721 hours for 30 d) has passed since it left. */
static void test_kept_records(void **state)
{
    (void)state;
    struct cfg *c = load_cfg(cfg_base);
    struct slo_state *st[N_SLOS];
    static struct history h[N_SLOS];
    new_states(c, st);
    fill_states(st, h);
    struct buf enc, errs;
    buf_init(&enc, 1u << 24);
    buf_init(&errs, ERRS_MAX);

    /* "avail" leaves at NOW; the other two stay configured. */
    struct state_file *kept = state_file_new();
    state_retire(kept, "avail", st[0], NOW);
    assert_int_equal(state_record_count(kept), 1);
    assert_true(state_has(kept, "avail"));
    /* Retiring again replaces the record. */
    state_retire(kept, "avail", st[0], NOW);
    assert_int_equal(state_record_count(kept), 1);

    /* The file holds the live two and the kept one, once each: a kept
     * record of a live name is left out. */
    state_encode_kept(slo_names + 1, st + 1, N_SLOS - 1, kept, &enc);
    struct state_file *f = NULL;
    assert_int_equal(decode(&enc, &f, &errs), OP_OK);
    assert_int_equal(state_record_count(f), N_SLOS);
    state_file_free(f);
    buf_reset(&enc);
    state_encode_kept(slo_names, st, N_SLOS, kept, &enc);
    f = NULL;
    assert_int_equal(decode(&enc, &f, &errs), OP_OK);
    assert_int_equal(state_record_count(f), N_SLOS);
    state_file_free(f);

    /* Back in the configuration: the same windows and totals as the
     * history that went in. */
    struct slo_state *back = slost_new(cfg_slo(c, 0));
    assert_true(state_restore(kept, cfg_slo(c, 0), back, NOW));
    uint64_t ev, bad, want_ev, want_bad;
    totals(back, &ev, &bad);
    totals(st[0], &want_ev, &want_bad);
    assert_int_equal(ev, want_ev);
    assert_int_equal(bad, want_bad);
    assert_true(want_ev > 0);
    assert_same_rings(back, st[0]);
    uint64_t pe, pb;
    win_sum(back, cfg_slo(c, 0), SLO_W_PERIOD, NOW, &pe, &pb);
    assert_true(pe > 0);
    slost_unref(back);

    /* Through the file too: kept records survive a restart. */
    buf_reset(&enc);
    state_encode_kept(slo_names + 1, st + 1, N_SLOS - 1, kept, &enc);
    f = NULL;
    assert_int_equal(decode(&enc, &f, &errs), OP_OK);
    back = slost_new(cfg_slo(c, 0));
    assert_true(state_restore(f, cfg_slo(c, 0), back, NOW));
    totals(back, &ev, &bad);
    assert_int_equal(ev, want_ev);
    slost_unref(back);

    /* forget: a configured name goes (the live state is the truth). */
    assert_int_equal(state_forget(f, c, NOW), 0);
    assert_int_equal(state_record_count(f), 0);
    state_file_free(f);

    /* forget: kept until 721 hours after it left, then dropped. */
    /* No configuration (NULL): nothing is configured. */
    const struct cfg *none = NULL;
    assert_int_equal(state_forget(kept, none, NOW + 721 * HOUR - 1), 0);
    assert_true(state_has(kept, "avail"));
    assert_int_equal(state_forget(kept, none, NOW + 721 * HOUR), 1);
    assert_false(state_has(kept, "avail"));
    assert_int_equal(state_record_count(kept), 0);

    /* A record saved while configured (retired_ms 0) that start-up finds
     * unconfigured leaves at that start: kept from then on. */
    buf_reset(&enc);
    state_encode(slo_names, st, N_SLOS, &enc);
    f = NULL;
    assert_int_equal(decode(&enc, &f, &errs), OP_OK);
    const int64_t start = NOW + 100 * DAY;
    assert_int_equal(state_forget(f, none, start), 0);
    assert_int_equal(state_record_count(f), N_SLOS);
    /* 7 d latency: 169 hours; 30 d: 721; a calendar month: 31 d + 1 h. */
    assert_int_equal(state_forget(f, none, start + 169 * HOUR), 1);
    assert_false(state_has(f, "latency"));
    assert_int_equal(state_forget(f, none, start + 721 * HOUR), 1);
    assert_false(state_has(f, "avail"));
    assert_int_equal(state_forget(f, none, start + 745 * HOUR - 1), 0);
    assert_int_equal(state_forget(f, none, start + 745 * HOUR), 1);
    assert_int_equal(state_record_count(f), 0);
    state_file_free(f);

    /* A version 2 file says nothing of how long: kept STATE_MAX_KEEP_MS. */
    struct craft cr;
    craft_default(&cr, cfg_slo(c, 0)->identity);
    cr.version = 2;
    struct buf b;
    buf_init(&b, 1u << 20);
    craft_write(&cr, &b);
    f = NULL;
    assert_int_equal(decode(&b, &f, &errs), OP_OK);
    assert_int_equal(state_forget(f, none, NOW), 0);
    assert_int_equal(state_forget(f, none, NOW + STATE_MAX_KEEP_MS - 1), 0);
    assert_int_equal(state_forget(f, none, NOW + STATE_MAX_KEEP_MS), 1);
    state_file_free(f);
    assert_int_equal(STATE_MAX_KEEP_MS, 2161 * HOUR);

    /* At most CFG_MAX_SLOS records in a file (what state_decode reads):
     * with 3 SLOs configured, 9,997 kept ones fit; the ones that left
     * first go. */
    char name[32];
    struct slo_state *empty = slost_new(cfg_slo(c, 0));
    for (int i = 0; i < CFG_MAX_SLOS; i++) {
        snprintf(name, sizeof(name), "r%d", i);
        state_retire(kept, name, empty, H0 + i + 1);
    }
    slost_unref(empty);
    assert_int_equal(state_record_count(kept), CFG_MAX_SLOS);
    assert_int_equal(state_forget(kept, c, H0 + DAY), 3);
    assert_int_equal(state_record_count(kept), CFG_MAX_SLOS - 3);
    assert_false(state_has(kept, "r0"));
    assert_false(state_has(kept, "r2"));
    assert_true(state_has(kept, "r3"));
    assert_true(state_has(kept, "r9999"));
    buf_reset(&enc);
    state_encode_kept(slo_names, st, N_SLOS, kept, &enc);
    assert_false(enc.failed);
    f = NULL;
    assert_int_equal(decode(&enc, &f, &errs), OP_OK);
    assert_int_equal(state_record_count(f), CFG_MAX_SLOS);
    state_file_free(f);

    buf_free(&b);
    state_file_free(kept);
    unref_states(st);
    buf_free(&enc);
    buf_free(&errs);
    cfg_free(c);
}

/* Buckets later than "now" at restore (the clock was ahead when they were
 * saved) are left out; otherwise the ring's head would sit in the future and
 * every new event would be dropped until real time caught up. */
static void test_restore_skips_future(void **state)
{
    (void)state;
    struct cfg *c = load_cfg(cfg_base);
    const struct slo_spec *spec = cfg_slo(c, 0);
    const int64_t h = 1767225600000LL; /* a whole UTC hour */
    struct slo_state *src = slost_new(spec);
    slost_add(src, h - 60000, 10, 1);   /* a minute before now */
    slost_add(src, h + 7200000, 20, 2); /* two hours after now */
    const char *names[1] = {spec->name};
    struct buf enc, errs;
    buf_init(&enc, ERRS_MAX);
    buf_init(&errs, ERRS_MAX);
    state_encode(names, &src, 1, &enc);
    struct state_file *f = NULL;
    assert_int_equal(state_decode(enc.data, enc.len, &f, &errs), OP_OK);
    struct slo_state *dst = slost_new(spec);
    assert_true(state_restore(f, spec, dst, h));
    /* A new event now counts: the 10 s ring's head is not in the future. (In
     * src the future bucket had already pushed the minute-old event out of
     * that one-hour ring, which is the harm this guards against.) */
    slost_add(dst, h, 5, 0);
    uint64_t et, bt, ev, bad;
    struct sliw *w = slost_copy(dst, &et, &bt);
    sliw_sum(w, h, 300000, &ev, &bad);
    assert_int_equal(ev, 5);
    assert_int_equal(bad, 0);
    /* The 5 min ring restored the past bucket only. */
    sliw_sum(w, h, 6 * 3600000, &ev, &bad);
    assert_int_equal(ev, 15);
    assert_int_equal(bad, 1);
    sliw_sum(w, h + 7200000, 6 * 3600000, &ev, &bad);
    assert_int_equal(ev, 15);
    free(w);
    state_file_free(f);
    slost_unref(src);
    slost_unref(dst);
    buf_free(&enc);
    buf_free(&errs);
    cfg_free(c);
}

/* Bucket indexes must be times a clock can show (0 ... the year 9999),
 * and one level's indexes must fit in its ring's span: anything else would
 * make a restore or the next snapshot loop for ages or overflow (an index
 * near INT64_MIN made advance() walk ~9.2e18 slots; INT64_MAX made
 * state_encode's k++ overflow). The decoder stops at the first bad bucket,
 * so the span check never computes 0 - INT64_MIN (UBSan caught that once).
 * Kept last in main() so a sanitizer abort cannot hide other tests. */
static void test_bucket_index_range(void **state)
{
    (void)state;
    struct cfg *c = load_cfg(cfg_base);
    struct craft cr;
    struct buf b, errs;
    buf_init(&b, 1u << 20);
    buf_init(&errs, ERRS_MAX);
    const int64_t max0 = STATE_MAX_TIME_MS / SLIW_L0_MS;
    /* Level 0 slots 0 (older) and 1 (newer). */
    static const struct {
        int64_t idx0, idx1;
        bool ok;
    } cases[] = {
        {INT64_MIN, K0 + 1, false},
        {INT64_MIN + 5, K0 + 1, false},
        {INT64_MIN + SLIW_L0_N, K0 + 1, false},
        {-1, 0, false},
        {-SLIW_L0_N, -1, false},
        {0, 1, true},
        {0, SLIW_L0_N - 1, true},
        {0, SLIW_L0_N, false}, /* wider than the 360-slot ring */
        {K0, K0 + SLIW_L0_N - 1, true},
        {K0, K0 + SLIW_L0_N, false},
        {K0, INT64_MAX, false},
        {K0, INT64_MAX - 5, false},
        {max0 - 1, max0, true},
        {max0, max0 + 1, false},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        craft_default(&cr, cfg_slo(c, 0)->identity);
        cr.lv[0].idx[0] = cases[i].idx0;
        cr.lv[0].idx[1] = cases[i].idx1;
        craft_write(&cr, &b);
        buf_reset(&errs);
        struct state_file *f = NULL;
        enum op_rc rc = state_decode(b.data, b.len, &f, &errs);
        if ((rc == OP_OK) != cases[i].ok)
            print_error("level-0 indexes %lld, %lld: rc %d\n", (long long)cases[i].idx0,
                        (long long)cases[i].idx1, rc);
        assert_int_equal(rc, cases[i].ok ? OP_OK : OP_ERR_INVALID);
        if (rc != OP_OK) {
            assert_null(f);
            assert_true(errs.len > 0);
            continue;
        }
        /* Accepted ones restore and encode again without trouble. */
        struct slo_state *st = slost_new(cfg_slo(c, 0));
        assert_true(state_restore(f, cfg_slo(c, 0), st, STATE_MAX_TIME_MS));
        struct sliw_level_view v;
        struct sliw *w = slost_copy(st, &(uint64_t){0}, &(uint64_t){0});
        sliw_level(w, 0, &v);
        assert_true(v.head == cases[i].idx1);
        free(w);
        struct buf enc;
        buf_init(&enc, 1u << 20);
        const char *name = "avail";
        state_encode(&name, &st, 1, &enc);
        struct state_file *f2 = NULL;
        assert_int_equal(state_decode(enc.data, enc.len, &f2, &errs), OP_OK);
        state_file_free(f2);
        buf_free(&enc);
        slost_unref(st);
        state_file_free(f);
    }
    /* Level 2 has its own span (SLIW_L2_MAX_N hours) and bucket size. */
    craft_default(&cr, cfg_slo(c, 0)->identity);
    cr.lv[2].count = cr.lv[2].written = 2;
    cr.lv[2].idx[1] = cr.lv[2].idx[0] + SLIW_L2_MAX_N - 1;
    cr.lv[2].ev[1] = 1;
    craft_write(&cr, &b);
    struct state_file *f = NULL;
    assert_int_equal(state_decode(b.data, b.len, &f, &errs), OP_OK);
    state_file_free(f);
    cr.lv[2].idx[1] = cr.lv[2].idx[0] + SLIW_L2_MAX_N;
    craft_write(&cr, &b);
    f = NULL;
    assert_int_equal(state_decode(b.data, b.len, &f, &errs), OP_ERR_INVALID);
    assert_null(f);
    buf_free(&b);
    buf_free(&errs);
    cfg_free(c);
}

/* The schedule's rates travel with the SLO through the file: the period's
 * expected events after a restart count each part at its own interval. */
static void test_rates_round_trip(void **state)
{
    (void)state;
    struct cfg *c = load_cfg(cfg_base);
    const struct slo_spec *spec = cfg_slo(c, 0);
    struct slo_state *st = slost_new(spec);
    slost_set_rate(st, H0, 1.0 / 15000);
    slost_set_rate(st, H0 + HOUR, 1.0 / 30000);
    slost_set_rate(st, H0 + 2 * HOUR, 1.0 / 30000); /* the same rate: no new entry */
    const char *name = spec->name;
    struct buf enc, errs;
    buf_init(&enc, 1u << 20);
    buf_init(&errs, ERRS_MAX);
    state_encode(&name, &st, 1, &enc);
    struct state_file *f = NULL;
    assert_int_equal(decode(&enc, &f, &errs), OP_OK);
    struct slo_state *back = slost_new(spec);
    assert_true(state_restore(f, spec, back, STATE_MAX_TIME_MS));
    struct slo_rate r[4];
    assert_int_equal(slost_rates(back, r, 4), 2);
    assert_int_equal(r[0].from_ms, H0);
    assert_true(r[0].per_ms == 1.0 / 15000);
    assert_int_equal(r[1].from_ms, H0 + HOUR);
    assert_true(r[1].per_ms == 1.0 / 30000);
    state_file_free(f);
    slost_unref(st);
    slost_unref(back);
    buf_free(&enc);
    buf_free(&errs);
    cfg_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_rates_round_trip),
        cmocka_unit_test(test_empty_states),
        cmocka_unit_test(test_identity),
        cmocka_unit_test(test_crafted),
        cmocka_unit_test(test_damaged),
        cmocka_unit_test(test_foreign),
        cmocka_unit_test(test_write_read),
        cmocka_unit_test(test_read_corrupt),
        cmocka_unit_test(test_write_fails),
        cmocka_unit_test(test_kept_records),
        cmocka_unit_test(test_restore_skips_future),
        cmocka_unit_test(test_bucket_index_range),
    };
    return cmocka_run_group_tests(tests, tu_tmpdir_setup, tu_tmpdir_teardown);
}
