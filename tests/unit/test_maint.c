/*
 * test_maint.c - maintenance windows (maint.c, maint_api.c) on a fake
 * clock: when one-off and cron windows are active (exact boundaries, DST
 * in Europe/Madrid), what a window covers and which check/SLO pairs it
 * takes out of the SLOs, the SLO sinks switched at each start and end and
 * before a new generation is used, alert holding, ad-hoc windows (the
 * API's answers, the file that keeps them across a restart), the metrics.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "alerts.h"
#include "audit.h"
#include "buf.h"
#include "clock.h"
#include "config.h"
#include "cron.h"
#include "expo.h"
#include "gen.h"
#include "maint.h"
#include "maint_int.h"
#include "silences.h"
#include "slo_state.h"
#include "test_util.h"
#include "tz.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define T0_MS 1796515200000LL /* 2026-12-06T00:00:00Z, a Sunday */
#define S 1000LL
#define MIN (60 * S)
#define H (60 * MIN)

static struct cfg *load(const char *yaml)
{
    struct buf err;
    buf_init(&err, 1u << 16);
    struct cfg *c = NULL;
    if (cfg_load_string(yaml, strlen(yaml), "maint.yml", &c, &err) != OP_OK)
        fail_msg("config: %s", buf_str(&err));
    buf_free(&err);
    return c;
}

/* ---- schedules ---- */

static void test_one_off_boundaries(void **state)
{
    (void)state;
    struct maint_sched s = {.start_ms = T0_MS + 2 * H, .duration_ms = 2 * H};
    int64_t st = 0, en = 0;
    assert_false(maint_sched_active(&s, T0_MS + 2 * H - 1, &st, &en));
    assert_true(maint_sched_active(&s, T0_MS + 2 * H, &st, &en));
    assert_int_equal(st, T0_MS + 2 * H);
    assert_int_equal(en, T0_MS + 4 * H);
    assert_true(maint_sched_active(&s, T0_MS + 4 * H - 1, &st, &en));
    assert_false(maint_sched_active(&s, T0_MS + 4 * H, &st, &en));
    /* Next start and next change, strictly after t. */
    assert_int_equal(maint_sched_next_start(&s, T0_MS), T0_MS + 2 * H);
    assert_int_equal(maint_sched_next_start(&s, T0_MS + 2 * H), INT64_MAX);
    assert_int_equal(maint_sched_next_change(&s, T0_MS), T0_MS + 2 * H);
    assert_int_equal(maint_sched_next_change(&s, T0_MS + 2 * H), T0_MS + 4 * H);
    assert_int_equal(maint_sched_next_change(&s, T0_MS + 4 * H - 1), T0_MS + 4 * H);
    assert_int_equal(maint_sched_next_change(&s, T0_MS + 4 * H), INT64_MAX);
}

/* A cron schedule of expr in zone (NULL: UTC); free with sched_free. */
static struct maint_sched cron_sched(const char *expr, const char *zone, int64_t duration_ms)
{
    struct maint_sched s = {.duration_ms = duration_ms};
    struct buf err;
    buf_init(&err, 1024);
    if (cron_parse(expr, &s.cron, &err) != OP_OK)
        fail_msg("cron %s: %s", expr, buf_str(&err));
    if (zone && tz_load(zone, &s.tz, &err) != OP_OK)
        fail_msg("zone %s: %s", zone, buf_str(&err));
    buf_free(&err);
    return s;
}

static void sched_free(struct maint_sched *s)
{
    cron_free(s->cron);
    tz_free(s->tz);
}

/* Active or not at t, and the occurrence when active. */
struct at_case {
    int64_t t;
    bool active;
    int64_t start; /* when active */
    int64_t next_change;
};

static void check_at(const struct maint_sched *s, const char *what, const struct at_case *c,
                     size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int64_t st = -1, en = -1;
        bool on = maint_sched_active(s, c[i].t, &st, &en);
        if (on != c[i].active || (on && (st != c[i].start || en != st + s->duration_ms)))
            fail_msg("%s, case %zu: active %d start %lld end %lld", what, i, on, (long long)st,
                     (long long)en);
        int64_t next = maint_sched_next_change(s, c[i].t);
        if (next != c[i].next_change)
            fail_msg("%s, case %zu: next change %lld, want %lld", what, i, (long long)next,
                     (long long)c[i].next_change);
    }
}

/* Sundays at 03:00 UTC for 30 minutes, from Sunday 2026-12-06 00:00Z. */
static void test_cron_boundaries(void **state)
{
    (void)state;
    struct maint_sched s = cron_sched("0 3 * * SUN", NULL, 30 * MIN);
    const int64_t w = T0_MS + 3 * H, week = 7 * 24 * H;
    const struct at_case cases[] = {
        {T0_MS, false, 0, w},
        {w - 1, false, 0, w},
        {w, true, w, w + 30 * MIN},
        {w + 30 * MIN - 1, true, w, w + 30 * MIN},
        {w + 30 * MIN, false, 0, w + week},
        {w + week, true, w + week, w + week + 30 * MIN},
    };
    check_at(&s, "UTC", cases, sizeof(cases) / sizeof(cases[0]));
    assert_int_equal(maint_sched_next_start(&s, w), w + week);
    assert_int_equal(maint_sched_next_start(&s, w - 1), w);
    sched_free(&s);
}

/* Europe/Madrid: 03:00 local is 02:00Z in winter. At the spring-forward gap
 * (2027-03-28, 02:00 CET -> 03:00 CEST) 02:30 does not exist and the window
 * starts at the first instant after the gap, 03:00 CEST = 01:00Z. At the
 * fall-back (2026-10-25, 03:00 CEST -> 02:00 CET) 02:30 happens twice and
 * the window starts only at the first, 00:30Z. */
static void test_cron_dst(void **state)
{
    (void)state;
    struct maint_sched sun = cron_sched("0 3 * * SUN", "Europe/Madrid", 30 * MIN);
    const int64_t w = 1796522400000LL; /* 2026-12-06T02:00:00Z */
    const struct at_case winter[] = {
        {w - 1, false, 0, w},
        {w, true, w, w + 30 * MIN},
        {w + 30 * MIN, false, 0, w + 7 * 24 * H},
    };
    check_at(&sun, "Sundays in winter", winter, 3);
    sched_free(&sun);

    struct maint_sched daily = cron_sched("30 2 * * *", "Europe/Madrid", H);
    const int64_t gap = 1806195600000LL;  /* 2027-03-28T01:00:00Z = 03:00 CEST */
    const int64_t next = 1806280200000LL; /* 2027-03-29T00:30:00Z = 02:30 CEST */
    const struct at_case spring[] = {
        {gap - 1, false, 0, gap},
        {gap, true, gap, gap + H},
        {gap + H - 1, true, gap, gap + H},
        {gap + H, false, 0, next},
    };
    check_at(&daily, "spring forward", spring, 4);
    const int64_t first = 1792888200000LL;  /* 2026-10-25T00:30:00Z = 02:30 CEST */
    const int64_t second = 1792891800000LL; /* 2026-10-25T01:30:00Z = 02:30 CET, skipped */
    const int64_t monday = 1792978200000LL; /* 2026-10-26T01:30:00Z = 02:30 CET */
    const struct at_case fall[] = {
        {first - 1, false, 0, first},          {first, true, first, second},
        {second - 1, true, first, second},     {second, false, 0, monday},
        {second + 30 * MIN, false, 0, monday},
    };
    check_at(&daily, "fall back", fall, 5);
    sched_free(&daily);
}

/* Occurrences that overlap (every minute, 90 s each) are one stretch on
 * the fake clock: the same start throughout, its end moved out. */
static void test_cron_overlap(void **state)
{
    (void)state;
    struct maint_sched s = cron_sched("* * * * *", NULL, 90 * S);
    int64_t st, en;
    assert_true(maint_sched_active(&s, T0_MS + 30 * S, &st, &en));
    assert_int_equal(st, T0_MS); /* the earliest occurrence that holds t */
    assert_int_equal(en, T0_MS + 90 * S);
    assert_int_equal(maint_sched_next_change(&s, T0_MS + 30 * S), T0_MS + 60 * S);
    sched_free(&s);

    struct clock *clk = clock_fake_new(1000000000, T0_MS);
    struct maint *m = maint_new(&(struct maint_options){.clock = clk, .storage_path = tu_tmpdir()});
    struct gen *g = gen_new(load("checks: [{name: a, url: 'http://127.0.0.1:1/'}]\n"
                                 "maintenance:\n"
                                 "  - {name: m, schedule: {cron: '* * * * *', duration: 90s}}\n"),
                            NULL, NULL, clk);
    maint_use_gen(m, g);
    struct buf out;
    buf_init(&out, 1u << 16);
    /* The end shown is the earliest end of the occurrences running. */
    static const char *const ends[] = {"2026-12-06T00:00:30Z", "2026-12-06T00:01:30Z",
                                       "2026-12-06T00:01:30Z", "2026-12-06T00:02:30Z"};
    for (int k = 0; k < 4; k++) {
        buf_reset(&out);
        maint_list_json(m, &out);
        char want[160];
        snprintf(want, sizeof(want),
                 "\"active\":true,\"start\":\"2026-12-05T23:59:00Z\","
                 "\"end\":\"%s\"",
                 ends[k]);
        if (!strstr(buf_str(&out), want))
            fail_msg("step %d: %s", k, buf_str(&out));
        clock_fake_advance(clk, 30 * S * 1000000);
        (void)maint_tick(m);
    }
    maint_free(m);
    gen_unref(g);

    /* Back to back (the duration is the gap): one stretch too. */
    m = maint_new(&(struct maint_options){.clock = clk, .storage_path = tu_tmpdir()});
    g = gen_new(load("checks: [{name: a, url: 'http://127.0.0.1:1/'}]\n"
                     "maintenance:\n"
                     "  - {name: m, schedule: {cron: '* * * * *', duration: 60s}}\n"),
                NULL, NULL, clk);
    maint_use_gen(m, g);
    clock_fake_advance(clk, 60 * S * 1000000);
    (void)maint_tick(m);
    buf_reset(&out);
    maint_list_json(m, &out);
    assert_non_null(strstr(buf_str(&out), "\"active\":true,\"start\":\"2026-12-06T00:02:00Z\","
                                          "\"end\":\"2026-12-06T00:04:00Z\""));
    buf_free(&out);
    maint_free(m);
    gen_unref(g);
    clock_fake_free(clk);
}

/* ---- coverage ---- */

#define COVER_CFG                                                                                  \
    "checks:\n"                                                                                    \
    "  - {name: a, url: 'http://127.0.0.1:1/a'}\n"                                                 \
    "  - {name: b, url: 'http://127.0.0.1:1/b'}\n"                                                 \
    "  - {name: c, url: 'http://127.0.0.1:1/c'}\n"                                                 \
    "slos:\n"                                                                                      \
    "  - {name: ab, objective: 99, sli: {checks: [a, b]}}\n"                                       \
    "  - {name: c1, objective: 99, sli: {checks: [c]}}\n"                                          \
    "  - {name: a1, objective: 99, sli: {checks: [a]}}\n"

/* Each kind of window against the same checks a, b, c and SLOs ab {a, b},
 * c1 {c}, a1 {a}: held checks, held SLOs, and for every pair the SLO
 * counts (check a, SLO ab) whether it is excluded. */
static void test_coverage_table(void **state)
{
    (void)state;
    struct cfg *cfg = load(COVER_CFG);
    static char *chk_a[] = {"a"}, *chk_ab[] = {"a", "b"}, *slo_ab[] = {"ab"},
                *chk_gone[] = {"gone", "c"};
    static const struct {
        const char *what;
        char **checks;
        size_t n_checks;
        char **slos;
        size_t n_slos;
        bool held_check[3]; /* a, b, c */
        bool held_slo[3];   /* ab, c1, a1 */
        /* pairs (a,ab) (b,ab) (c,c1) (a,a1) */
        bool excluded[4];
    } cases[] = {
        {"all", NULL, 0, NULL, 0, {1, 1, 1}, {1, 1, 1}, {1, 1, 1, 1}},
        /* ab keeps b speaking: not held, and b still counts for it. */
        {"checks a", chk_a, 1, NULL, 0, {1, 0, 0}, {0, 0, 1}, {1, 0, 0, 1}},
        {"checks a b", chk_ab, 2, NULL, 0, {1, 1, 0}, {1, 0, 1}, {1, 1, 0, 1}},
        /* The SLO and its checks' alerts; a still counts for a1. */
        {"slos ab", NULL, 0, slo_ab, 1, {1, 1, 0}, {1, 0, 0}, {1, 1, 0, 0}},
        /* A name a reload removed is ignored; the others stay covered. */
        {"checks gone c", chk_gone, 2, NULL, 0, {0, 0, 1}, {0, 1, 0}, {0, 0, 1, 0}},
    };
    static const struct {
        const char *check, *slo;
    } pairs[4] = {{"a", "ab"}, {"b", "ab"}, {"c", "c1"}, {"a", "a1"}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bool hc[3] = {0}, hs[3] = {0}, xs[3] = {0}, xc[3] = {0};
        struct maint_cover cv = {hc, hs, xs, xc};
        maint_cover(cfg, cases[i].checks, cases[i].n_checks, cases[i].slos, cases[i].n_slos, &cv);
        for (int k = 0; k < 3; k++) {
            if (hc[k] != cases[i].held_check[k] || hs[k] != cases[i].held_slo[k])
                fail_msg("%s: index %d: held check %d slo %d", cases[i].what, k, hc[k], hs[k]);
        }
        for (int k = 0; k < 4; k++) {
            long c = cfg_find_check(cfg, pairs[k].check), s = cfg_find_slo(cfg, pairs[k].slo);
            bool x = xs[s] || xc[c];
            if (x != cases[i].excluded[k])
                fail_msg("%s: pair (%s, %s) excluded %d", cases[i].what, pairs[k].check,
                         pairs[k].slo, x);
        }
    }
    cfg_free(cfg);
}

/* ---- windows at run time ---- */

static int wakes;
static void count_wake(void *arg)
{
    (void)arg;
    wakes++;
}

/* A fresh storage directory under the test's temporary one. */
static const char *storage(const char *name)
{
    static char path[512];
    snprintf(path, sizeof(path), "%s/%s", tu_tmpdir(), name);
    mkdir(path, 0700);
    return path;
}

static struct maint *new_maint(const struct clock *clk, const char *dir)
{
    struct maint_options o = {.clock = clk, .storage_path = dir, .wake = count_wake};
    return maint_new(&o);
}

static struct check_result result(bool ok)
{
    struct check_result r;
    memset(&r, 0, sizeof(r));
    r.success = ok;
    r.reason = ok ? CHECK_REASON_NONE : CHECK_REASON_CONNECT;
    r.duration = 0.01;
    return r;
}

static void deliver(const struct gen *g, const char *name, bool ok, int64_t wall_ms)
{
    long i = cfg_find_check(gen_cfg(g), name);
    assert_true(i >= 0);
    const struct sink *s;
    size_t n = gen_sinks(g, (size_t)i, &s);
    struct check_result r = result(ok);
    for (size_t k = 0; k < n; k++)
        s[k].deliver(&s[k], &r, wall_ms);
}

static uint64_t slo_events(const struct gen *g, size_t i)
{
    uint64_t ev, bad;
    free(slost_copy(gen_slo(g, i), &ev, &bad));
    return ev;
}

#define ONE_OFF_CFG                                                                                \
    COVER_CFG "maintenance:\n"                                                                     \
              "  - name: w\n"                                                                      \
              "    schedule: {start: '2026-12-06T00:00:10Z', duration: 5s}\n"                      \
              "    checks: [a]\n"

/* A one-off window on the fake clock: maint_tick says when the next start
 * or end is due, the SLO sinks switch exactly then, excluded results are
 * counted per SLO and events of other pairs still count. */
static void test_one_off_run(void **state)
{
    (void)state;
    struct clock *clk = clock_fake_new(1000000000, T0_MS);
    struct maint *m = new_maint(clk, storage("one-off"));
    struct gen *g = gen_new(load(ONE_OFF_CFG), NULL, NULL, clk);
    maint_use_gen(m, g);
    long a = cfg_find_check(gen_cfg(g), "a"), ab = cfg_find_slo(gen_cfg(g), "ab");
    long a1 = cfg_find_slo(gen_cfg(g), "a1"), b = cfg_find_check(gen_cfg(g), "b");
    assert_false(gen_slo_excluded_pair(g, (size_t)a, (size_t)ab));
    assert_int_equal(maint_tick(m), 10 * S);

    clock_fake_advance(clk, 10 * S * 1000000 - 1000000); /* 1 ms before the start */
    assert_int_equal(maint_tick(m), 1);
    assert_false(gen_slo_excluded_pair(g, (size_t)a, (size_t)ab));
    clock_fake_advance(clk, 1000000);
    assert_int_equal(maint_tick(m), 5 * S);
    assert_true(gen_slo_excluded_pair(g, (size_t)a, (size_t)ab));
    assert_true(gen_slo_excluded_pair(g, (size_t)a, (size_t)a1));
    assert_false(gen_slo_excluded_pair(g, (size_t)b, (size_t)ab));

    deliver(g, "a", false, T0_MS + 10 * S);
    deliver(g, "b", false, T0_MS + 10 * S);
    assert_int_equal(slo_events(g, (size_t)ab), 1); /* b's */
    assert_int_equal(slo_events(g, (size_t)a1), 0);
    assert_int_equal(gen_slo_excluded(g, (size_t)ab), 1);
    assert_int_equal(gen_slo_excluded(g, (size_t)a1), 1);

    clock_fake_advance(clk, 5 * S * 1000000 - 1000000);
    assert_int_equal(maint_tick(m), 1);
    assert_true(gen_slo_excluded_pair(g, (size_t)a, (size_t)ab));
    clock_fake_advance(clk, 1000000);
    assert_int_equal(maint_tick(m), INT64_MAX);
    assert_false(gen_slo_excluded_pair(g, (size_t)a, (size_t)ab));
    deliver(g, "a", false, T0_MS + 15 * S);
    assert_int_equal(slo_events(g, (size_t)a1), 1);
    assert_int_equal(gen_slo_excluded(g, (size_t)a1), 1);

    maint_free(m);
    gen_unref(g);
    clock_fake_free(clk);
}

/* Each start and end of a window is one audit event, at its exact time:
 * maintenance_start with the occurrence, maintenance_end with when it
 * ended and when it was planned to. */
static void test_audit_events(void **state)
{
    (void)state;
    struct clock *clk = clock_fake_new(1000000000, T0_MS);
    const char *dir = storage("audited");
    struct audit *a;
    struct buf err;
    buf_init(&err, 4096);
    assert_int_equal(audit_open(dir, 1u << 20, 2, clk, &a, &err), OP_OK);
    struct maint_options o = {.clock = clk, .storage_path = dir, .wake = count_wake, .audit = a};
    struct maint *m = maint_new(&o);
    struct gen *g = gen_new(load(ONE_OFF_CFG), NULL, NULL, clk);
    maint_use_gen(m, g);
    clock_fake_advance(clk, 10 * S * 1000000);
    (void)maint_tick(m);
    clock_fake_advance(clk, 5 * S * 1000000);
    (void)maint_tick(m);
    (void)maint_tick(m); /* nothing more happens */
    maint_free(m);
    gen_unref(g);
    audit_close(a);
    char path[600];
    snprintf(path, sizeof(path), "%s/audit.jsonl", dir);
    FILE *in = fopen(path, "r");
    assert_non_null(in);
    static const char *const want[][9] = {
        {"maintenance_start", "window", "w", "source", "config", "start", "2026-12-06T00:00:10Z",
         "end", "2026-12-06T00:00:15Z"},
        {"maintenance_end", "window", "w", "source", "config", "at", "2026-12-06T00:00:15Z",
         "planned_end", "2026-12-06T00:00:15Z"},
    };
    char line[4096];
    size_t n = 0;
    while (fgets(line, sizeof(line), in)) {
        json_error_t jerr;
        json_t *ev = json_loads(line, 0, &jerr);
        assert_non_null(ev);
        assert_true(n < ARRAY_SIZE(want));
        assert_string_equal(json_string_value(json_object_get(ev, "event")), want[n][0]);
        json_t *f = json_object_get(ev, "fields");
        assert_int_equal(json_object_size(f), 4);
        for (size_t k = 1; k < 9; k += 2)
            assert_string_equal(json_string_value(json_object_get(f, want[n][k])), want[n][k + 1]);
        json_decref(ev);
        n++;
    }
    fclose(in);
    assert_int_equal(n, ARRAY_SIZE(want));
    buf_free(&err);
    clock_fake_free(clk);
}

#define ACTIVE_CFG                                                                                 \
    COVER_CFG "maintenance:\n"                                                                     \
              "  - name: now\n"                                                                    \
              "    schedule: {start: '2026-12-05T23:00:00Z', duration: 2h}\n"

/* A reload hands the new generation over before it is swapped in: its
 * switches are set at once. A window the reload keeps stays active without
 * an end and a start; the excluded counter follows the SLO's state; a
 * window the reload removes ends, and the next generation counts again. */
static void test_reload(void **state)
{
    (void)state;
    struct clock *clk = clock_fake_new(1000000000, T0_MS);
    struct maint *m = new_maint(clk, storage("reload"));
    struct gen *g1 = gen_new(load(ACTIVE_CFG), NULL, NULL, clk);
    maint_use_gen(m, g1);
    assert_true(gen_slo_excluded_pair(g1, 0, 0));
    deliver(g1, "a", true, T0_MS);
    assert_int_equal(gen_slo_excluded(g1, 0), 1);

    struct gen *g2 = gen_new(load(ACTIVE_CFG), g1, NULL, clk);
    assert_false(gen_slo_excluded_pair(g2, 0, 0)); /* built, not yet handed over */
    maint_use_gen(m, g2);
    assert_true(gen_slo_excluded_pair(g2, 0, 0));
    assert_int_equal(gen_slo_excluded(g2, 0), 1); /* the same counter */
    struct buf out;
    buf_init(&out, 1u << 16);
    maint_list_json(m, &out);
    assert_non_null(strstr(buf_str(&out), "\"name\":\"now\",\"source\":\"config\",\"active\":true,"
                                          "\"start\":\"2026-12-05T23:00:00Z\",\"end\":"
                                          "\"2026-12-06T01:00:00Z\",\"next_start\":null"));

    struct gen *g3 = gen_new(load(COVER_CFG), g2, NULL, clk);
    maint_use_gen(m, g3);
    assert_false(gen_slo_excluded_pair(g3, 0, 0));
    buf_reset(&out);
    maint_list_json(m, &out);
    assert_string_equal(buf_str(&out), "{\"windows\":[]}\n");
    buf_free(&out);
    maint_free(m);
    gen_unref(g1);
    gen_unref(g2);
    gen_unref(g3);
    clock_fake_free(clk);
}

/* A reload that changes an active window's schedule takes its occurrence
 * from the new schedule when the window stays active under it: the API,
 * the next change and the end logged follow the new end, shorter or
 * longer, and a new start. */
static void test_reload_reschedules(void **state)
{
    (void)state;
    struct clock *clk = clock_fake_new(1000000000, T0_MS);
    struct maint *m = new_maint(clk, storage("reschedule"));
    struct gen *g1 = gen_new(load(ACTIVE_CFG), NULL, NULL, clk);
    maint_use_gen(m, g1);
    assert_int_equal(maint_tick(m), 1 * H);
    struct buf out;
    buf_init(&out, 1u << 16);
    static const struct {
        const char *sched, *start, *end;
        int64_t next;
    } steps[] = {
        /* 2h -> 90m: ends at 00:30, not 01:00. */
        {"{start: '2026-12-05T23:00:00Z', duration: 90m}", "2026-12-05T23:00:00Z",
         "2026-12-06T00:30:00Z", 30 * MIN},
        /* Moved to 23:30 for 2h: starts 23:30, ends 01:30. */
        {"{start: '2026-12-05T23:30:00Z', duration: 2h}", "2026-12-05T23:30:00Z",
         "2026-12-06T01:30:00Z", 90 * MIN},
        /* Unchanged: kept as it is. */
        {"{start: '2026-12-05T23:30:00Z', duration: 2h}", "2026-12-05T23:30:00Z",
         "2026-12-06T01:30:00Z", 90 * MIN},
    };
    struct gen *prev = g1;
    for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
        char yaml[2048], want[256];
        snprintf(yaml, sizeof(yaml), COVER_CFG "maintenance:\n  - name: now\n    schedule: %s\n",
                 steps[i].sched);
        struct gen *g = gen_new(load(yaml), prev, NULL, clk);
        maint_use_gen(m, g);
        gen_unref(prev);
        prev = g;
        buf_reset(&out);
        maint_list_json(m, &out);
        snprintf(want, sizeof(want),
                 "\"name\":\"now\",\"source\":\"config\",\"active\":true,\"start\":\"%s\","
                 "\"end\":\"%s\"",
                 steps[i].start, steps[i].end);
        if (!strstr(buf_str(&out), want))
            fail_msg("step %zu: %s", i, buf_str(&out));
        assert_int_equal(maint_tick(m), steps[i].next);
    }
    buf_free(&out);
    maint_free(m);
    gen_unref(prev);
    clock_fake_free(clk);
}

/* Alert holding: a held subject states no new alert, but one that fires
 * already (it fired before the window started) goes on firing. */
static void test_hold(void **state)
{
    (void)state;
    struct clock *clk = clock_fake_new(1000000000, T0_MS);
    struct maint *m = new_maint(clk, storage("hold"));
    struct gen *g = gen_new(load(ONE_OFF_CFG), NULL, NULL, clk);
    maint_use_gen(m, g);
    struct maint_hold *h = maint_hold_new(m, gen_cfg(g));
    assert_false(maint_check_held(h, 0));
    maint_hold_free(h);

    struct alerts *al = alerts_new(clk);
    alerts_begin(al);
    alerts_fire(al, "OutpostCheckDown", "critical", "check", "a", "s", "d");
    alerts_end(al, (double)T0_MS / 1000);

    clock_fake_advance(clk, 10 * S * 1000000);
    (void)maint_tick(m);
    h = maint_hold_new(m, gen_cfg(g));
    /* a is held, b and c are not; a1 (only a) is held, ab (a, b) is not. */
    assert_true(maint_check_held(h, 0));
    assert_false(maint_check_held(h, 1));
    assert_false(maint_check_held(h, 2));
    assert_false(maint_slo_held(h, 0));
    assert_false(maint_slo_held(h, 1));
    assert_true(maint_slo_held(h, 2));
    /* Already firing: stated again. New: held. Not held: stated. */
    assert_true(maint_alert_allowed(al, true, "OutpostCheckDown", "critical", "check", "a"));
    assert_false(maint_alert_allowed(al, true, "OutpostCertExpiringSoon", "warning", "check", "a"));
    assert_true(maint_alert_allowed(al, false, "OutpostCheckDown", "critical", "check", "b"));
    /* Once it resolved it is a new alert, held while the window lasts. */
    alerts_begin(al);
    alerts_end(al, (double)(T0_MS + 10 * S) / 1000);
    assert_false(maint_alert_allowed(al, true, "OutpostCheckDown", "critical", "check", "a"));
    maint_hold_free(h);

    clock_fake_advance(clk, 5 * S * 1000000);
    (void)maint_tick(m);
    h = maint_hold_new(m, gen_cfg(g));
    assert_false(maint_check_held(h, 0));
    assert_false(maint_slo_held(h, 2));
    maint_hold_free(h);
    alerts_free(al);
    maint_free(m);
    gen_unref(g);
    clock_fake_free(clk);
}

/* ---- ad-hoc windows ---- */

static enum op_rc start(struct maint *m, const char *name, int64_t dur, const char *const *checks,
                        size_t n_checks, const char *const *slos, size_t n_slos, struct buf *out,
                        struct buf *why)
{
    struct maint_request r = {.name = name,
                              .duration_ms = dur,
                              .checks = checks,
                              .n_checks = n_checks,
                              .slos = slos,
                              .n_slos = n_slos,
                              .exclude_from_slos = true};
    buf_reset(out);
    buf_reset(why);
    return maint_start(m, &r, out, why);
}

/* The API's answers: a started window's JSON, each refusal with its one
 * line; ending one early; the file written at each change. */
static void test_adhoc_api(void **state)
{
    (void)state;
    struct clock *clk = clock_fake_new(1000000000, T0_MS);
    const char *dir = storage("api");
    struct maint *m = new_maint(clk, dir);
    struct gen *g = gen_new(load(ONE_OFF_CFG), NULL, NULL, clk);
    maint_use_gen(m, g);
    struct buf out, why;
    buf_init(&out, 1u << 16);
    buf_init(&why, 1024);
    static const char *const a[] = {"a"}, *const ab[] = {"ab"}, *const zz[] = {"zz"},
                             *const aa[] = {"a", "a"};
    wakes = 0;
    assert_int_equal(start(m, "x", 3 * S, a, 1, NULL, 0, &out, &why), OP_OK);
    assert_string_equal(buf_str(&out),
                        "{\"name\":\"x\",\"source\":\"api\",\"active\":true,\"start\":\"2026-12-"
                        "06T00:00:00Z\",\"end\":\"2026-12-06T00:00:03Z\",\"next_start\":null,"
                        "\"duration_seconds\":3,\"covers\":\"checks\",\"checks\":[\"a\"],"
                        "\"exclude_from_slos\":true,\"alertmanager_silence\":false}");
    assert_int_equal(wakes, 1); /* its end (3 s) comes before w's start (10 s) */
    assert_true(gen_slo_excluded_pair(g, 0, 0));
    assert_int_equal(maint_tick(m), 3 * S);

    static const struct {
        const char *name;
        int64_t dur;
        const char *const *checks;
        size_t n_checks;
        const char *const *slos;
        size_t n_slos;
        enum op_rc rc;
        const char *why;
    } bad[] = {
        {"x", S, NULL, 0, NULL, 0, OP_ERR_STATE,
         "an ad-hoc window of that name runs until 2026-12-06T00:00:03Z (DELETE it first)"},
        {"w", S, NULL, 0, NULL, 0, OP_ERR_STATE, "a configured window has that name"},
        {"y", S, zz, 1, NULL, 0, OP_ERR_INVALID, "no check named \"zz\""},
        {"y", S, NULL, 0, zz, 1, OP_ERR_INVALID, "no SLO named \"zz\""},
        {"y", S, aa, 2, NULL, 0, OP_ERR_INVALID, "listed twice: \"a\""},
        {"y", S, a, 1, ab, 1, OP_ERR_INVALID,
         "use either checks or slos, not both (leave out both to cover everything)"},
        {"y", 0, NULL, 0, NULL, 0, OP_ERR_INVALID, "duration must be above 0 and at most 31d"},
        {"y", 31 * 24 * H + 1, NULL, 0, NULL, 0, OP_ERR_INVALID,
         "duration must be above 0 and at most 31d"},
        {"", S, NULL, 0, NULL, 0, OP_ERR_INVALID,
         "name must be 1 to 128 bytes without control characters"},
        {"a\nb", S, NULL, 0, NULL, 0, OP_ERR_INVALID,
         "name must be 1 to 128 bytes without control characters"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        enum op_rc rc = start(m, bad[i].name, bad[i].dur, bad[i].checks, bad[i].n_checks,
                              bad[i].slos, bad[i].n_slos, &out, &why);
        if (rc != bad[i].rc || strcmp(buf_str(&why), bad[i].why) != 0)
            fail_msg("case %zu: rc %d, why \"%s\"", i, rc, buf_str(&why));
    }
    /* 31d exactly is allowed; every name may be listed as an SLO. */
    assert_int_equal(start(m, "long", 31 * 24 * H, NULL, 0, ab, 1, &out, &why), OP_OK);
    struct maint_request sil = {.name = "s", .duration_ms = S, .alertmanager_silence = true};
    buf_reset(&why);
    assert_int_equal(maint_start(m, &sil, &out, &why), OP_ERR_INVALID);
    assert_string_equal(buf_str(&why),
                        "alertmanager_silence needs alerting.alertmanagers in the configuration");

    /* Ending: unknown, configured, then x for real. */
    buf_reset(&out);
    buf_reset(&why);
    assert_int_equal(maint_end(m, "nope", &out, &why), OP_ERR_NOT_FOUND);
    buf_reset(&why);
    assert_int_equal(maint_end(m, "w", &out, &why), OP_ERR_STATE);
    assert_string_equal(buf_str(&why),
                        "the window is configured: edit the configuration to change it");
    clock_fake_advance(clk, 1 * S * 1000000);
    buf_reset(&out);
    assert_int_equal(maint_end(m, "x", &out, &why), OP_OK);
    assert_non_null(strstr(buf_str(&out), "\"active\":false,\"start\":\"2026-12-06T00:00:00Z\","
                                          "\"end\":\"2026-12-06T00:00:01Z\""));
    /* long (slos: ab) still excludes a from ab, no longer from a1. */
    assert_true(gen_slo_excluded_pair(g, 0, 0));
    assert_false(gen_slo_excluded_pair(g, 0, 2));
    buf_reset(&why);
    assert_int_equal(maint_end(m, "x", &out, &why), OP_ERR_NOT_FOUND);

    /* The file holds long only. */
    char path[600];
    snprintf(path, sizeof(path), "%s/maintenance.json", dir);
    struct buf file;
    buf_init(&file, 1u << 16);
    assert_int_equal(buf_read_file(&file, path), OP_OK);
    assert_string_equal(buf_str(&file),
                        "{\"version\":1,\"windows\":[\n{\"name\":\"long\",\"start_ms\":"
                        "1796515200000,\"duration_ms\":2678400000,\"checks\":[],\"slos\":[\"ab\"],"
                        "\"exclude_from_slos\":true,\"alertmanager_silence\":false}\n]}\n");
    buf_free(&file);
    buf_free(&out);
    buf_free(&why);
    maint_free(m);
    gen_unref(g);
    clock_fake_free(clk);
}

/* A restart during an ad-hoc window keeps it (active from the first
 * generation on); one that ended while the agent was stopped is dropped;
 * a broken file is moved aside. */
static void test_adhoc_restart(void **state)
{
    (void)state;
    struct clock *clk = clock_fake_new(1000000000, T0_MS);
    const char *dir = storage("restart");
    struct maint *m = new_maint(clk, dir);
    struct gen *g = gen_new(load(COVER_CFG), NULL, NULL, clk);
    maint_use_gen(m, g);
    struct buf out, why;
    buf_init(&out, 1u << 16);
    buf_init(&why, 1024);
    static const char *const c[] = {"c"};
    assert_int_equal(start(m, "short", 2 * S, NULL, 0, NULL, 0, &out, &why), OP_OK);
    assert_int_equal(start(m, "long", 60 * S, c, 1, NULL, 0, &out, &why), OP_OK);
    maint_free(m);
    gen_unref(g);

    clock_fake_advance(clk, 5 * S * 1000000); /* the restart takes 5 s */
    m = new_maint(clk, dir);
    g = gen_new(load(COVER_CFG), NULL, NULL, clk);
    maint_use_gen(m, g);
    assert_true(gen_slo_excluded_pair(g, 2, 1));  /* c from c1 */
    assert_false(gen_slo_excluded_pair(g, 0, 0)); /* short has ended */
    assert_int_equal(maint_tick(m), 55 * S);
    buf_reset(&out);
    maint_list_json(m, &out);
    assert_null(strstr(buf_str(&out), "short"));
    assert_non_null(strstr(buf_str(&out), "\"name\":\"long\",\"source\":\"api\",\"active\":true"));
    maint_free(m);
    gen_unref(g);

    /* A configured window of the same name: a reload is refused... */
    m = new_maint(clk, dir);
    struct cfg *clash = load(COVER_CFG "maintenance:\n"
                                       "  - name: long\n"
                                       "    schedule: {start: '2026-12-07T00:00:00Z', duration: "
                                       "1h}\n");
    buf_reset(&why);
    assert_int_equal(maint_check_cfg(m, clash, &why), OP_ERR_INVALID);
    assert_string_equal(buf_str(&why),
                        "maint.yml:10:5: maintenance[0]: an ad-hoc window called \"long\" runs "
                        "until 2026-12-06T00:01:00Z; end it first (DELETE "
                        "/api/v1/maintenance/{name}) or choose another name\n");
    /* ...and at a start the configuration wins. */
    g = gen_new(clash, NULL, NULL, clk);
    maint_use_gen(m, g);
    assert_false(gen_slo_excluded_pair(g, 2, 1));
    maint_free(m);
    gen_unref(g);

    char path[600], aside[600];
    snprintf(path, sizeof(path), "%s/maintenance.json", dir);
    snprintf(aside, sizeof(aside), "%s/maintenance.json.bad", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"version\":1,\"windows\":[{\"name\":7}]}", f);
    fclose(f);
    m = new_maint(clk, dir);
    assert_int_equal(access(path, F_OK), -1);
    assert_int_equal(access(aside, F_OK), 0);
    maint_free(m);
    buf_free(&out);
    buf_free(&why);
    clock_fake_free(clk);
}

/* The silences kept for active windows are in maintenance.json (for a
 * restart to retire those no longer wanted); a start reads them back and
 * the first generation consumes them; an end takes them out. */
static void test_saved_silences(void **state)
{
    (void)state;
    struct clock *clk = clock_fake_new(1000000000, T0_MS);
    const char *dir = storage("saved-silences");
    struct silences *sil = silences_new(clk); /* no Alertmanager: no thread */
    struct maint_options o = {.clock = clk, .storage_path = dir, .silences = sil};
    struct maint *m = maint_new(&o);
    static const char *yaml = COVER_CFG "alerting: {alertmanagers: ['http://127.0.0.1:1/']}\n"
                                        "maintenance:\n"
                                        "  - name: w\n"
                                        "    schedule: {start: '2026-12-05T23:00:00Z', duration: "
                                        "2h}\n"
                                        "    checks: [a, b]\n"
                                        "    alertmanager_silence: true\n";
    struct gen *g = gen_new(load(yaml), NULL, NULL, clk);
    maint_use_gen(m, g);
    char path[600];
    snprintf(path, sizeof(path), "%s/maintenance.json", dir);
    struct buf file;
    buf_init(&file, 1u << 16);
    assert_int_equal(buf_read_file(&file, path), OP_OK);
    assert_string_equal(buf_str(&file),
                        "{\"version\":1,\"windows\":[\n]"
                        ",\"silences\":[\n{\"window\":\"w\",\"label\":\"check\",\"value\":\"a|b\","
                        "\"start_ms\":1796511600000,\"end_ms\":1796518800000},\n{\"window\":\"w\","
                        "\"label\":\"slo\",\"value\":\"ab|a1\",\"start_ms\":1796511600000,"
                        "\"end_ms\":1796518800000}\n]}\n");
    maint_free(m);

    /* A restart reads them; the first generation retires what it does not
     * want and keeps the file current. */
    m = maint_new(&o);
    assert_int_equal(m->n_prev, 2);
    assert_string_equal(m->prev[1].value, "ab|a1");
    assert_int_equal(m->prev[1].kind, 1);
    maint_use_gen(m, g);
    assert_int_equal(m->n_prev, 0);
    buf_reset(&file);
    assert_int_equal(buf_read_file(&file, path), OP_OK);
    assert_non_null(strstr(buf_str(&file), "\"value\":\"ab|a1\""));

    /* The window ends: nothing is kept. */
    clock_fake_advance(clk, 1 * H * 1000000);
    (void)maint_tick(m);
    buf_reset(&file);
    assert_int_equal(buf_read_file(&file, path), OP_OK);
    assert_string_equal(buf_str(&file), "{\"version\":1,\"windows\":[\n],\"silences\":[\n]}\n");
    buf_free(&file);
    maint_free(m);
    gen_unref(g);
    silences_free(sil);
    clock_fake_free(clk);
}

/* outpost_maintenance_active for every window, the excluded counter per SLO. */
static void test_metrics(void **state)
{
    (void)state;
    struct clock *clk = clock_fake_new(1000000000, T0_MS);
    struct maint *m = new_maint(clk, storage("metrics"));
    struct gen *g = gen_new(load(ONE_OFF_CFG), NULL, NULL, clk);
    maint_use_gen(m, g);
    struct buf out, why;
    buf_init(&out, 1u << 16);
    buf_init(&why, 1024);
    assert_int_equal(start(m, "x\"y", 3 * S, NULL, 0, NULL, 0, &out, &why), OP_OK);
    deliver(g, "c", true, T0_MS);
    buf_reset(&out);
    struct expo e;
    expo_init(&e, &out, EXPO_TEXT);
    maint_render(m, &e, g);
    assert_string_equal(buf_str(&out),
                        "# HELP outpost_maintenance_active 1 while the maintenance window is "
                        "active.\n"
                        "# TYPE outpost_maintenance_active gauge\n"
                        "outpost_maintenance_active{window=\"w\"} 0\n"
                        "outpost_maintenance_active{window=\"x\\\"y\"} 1\n"
                        "# HELP outpost_slo_excluded_events_total Probe results not counted by "
                        "the SLO because a maintenance window excluded them.\n"
                        "# TYPE outpost_slo_excluded_events_total counter\n"
                        "outpost_slo_excluded_events_total{slo=\"ab\"} 0\n"
                        "outpost_slo_excluded_events_total{slo=\"c1\"} 1\n"
                        "outpost_slo_excluded_events_total{slo=\"a1\"} 0\n");
    buf_free(&out);
    buf_free(&why);
    maint_free(m);
    gen_unref(g);
    clock_fake_free(clk);
}

/* ---- threads ---- */

/* What the agent's threads do at once: main ticks and evaluates (holds),
 * HTTP threads start, list and end ad-hoc windows and scrape, the reload
 * thread hands generations over, the probe thread delivers results to the
 * generations' SLO sinks. Run under TSan (make tsan). */
struct race {
    struct maint *m;
    struct clock *clk;
    struct gen *gens[3];
    atomic_bool stop;
    atomic_uint wakes;
};

#define RACE_ROUNDS 300

static void race_wake(void *arg)
{
    struct race *r = arg;
    atomic_fetch_add(&r->wakes, 1);
}

static void *race_ticker(void *arg)
{
    struct race *r = arg;
    while (!atomic_load(&r->stop)) {
        clock_fake_advance(r->clk, 100 * MIN * 1000);
        (void)maint_tick(r->m);
        maint_hold_free(maint_hold_new(r->m, gen_cfg(r->gens[0])));
    }
    return NULL;
}

static void *race_reloader(void *arg)
{
    struct race *r = arg;
    for (int i = 0; !atomic_load(&r->stop); i++) {
        maint_use_gen(r->m, r->gens[i % 3]);
        struct buf err;
        buf_init(&err, 1u << 16);
        enum op_rc rc = maint_check_cfg(r->m, gen_cfg(r->gens[i % 3]), &err);
        (void)rc;
        buf_free(&err);
    }
    return NULL;
}

static void *race_probe(void *arg)
{
    struct race *r = arg;
    for (int i = 0; !atomic_load(&r->stop); i++) {
        deliver(r->gens[i % 3], "a", i % 2, T0_MS);
        (void)gen_slo_excluded(r->gens[i % 3], 0);
    }
    return NULL;
}

static void *race_scrape(void *arg)
{
    struct race *r = arg;
    struct buf out;
    buf_init(&out, 1u << 20);
    while (!atomic_load(&r->stop)) {
        buf_reset(&out);
        struct expo e;
        expo_init(&e, &out, EXPO_TEXT);
        maint_render(r->m, &e, r->gens[1]);
        buf_reset(&out);
        maint_list_json(r->m, &out);
    }
    buf_free(&out);
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    struct race r = {.clk = clock_fake_new(1000000000, T0_MS)};
    atomic_init(&r.stop, false);
    atomic_init(&r.wakes, 0);
    struct maint_options o = {
        .clock = r.clk, .storage_path = storage("threads"), .wake = race_wake, .wake_arg = &r};
    r.m = maint_new(&o);
    r.gens[0] = gen_new(load(ONE_OFF_CFG), NULL, NULL, r.clk);
    r.gens[1] = gen_new(load(ACTIVE_CFG), r.gens[0], NULL, r.clk);
    r.gens[2] = gen_new(load(COVER_CFG "maintenance:\n"
                                       "  - name: often\n"
                                       "    schedule: {cron: '* * * * *', duration: 30s}\n"
                                       "    checks: [a]\n"),
                        r.gens[1], NULL, r.clk);
    maint_use_gen(r.m, r.gens[0]);
    pthread_t t[4];
    void *(*fn[4])(void *) = {race_ticker, race_reloader, race_probe, race_scrape};
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, fn[i], &r), 0);
    /* This thread is the API's. */
    struct buf out, why;
    buf_init(&out, 1u << 16);
    buf_init(&why, 1024);
    static const char *const a[] = {"a"};
    for (int i = 0; i < RACE_ROUNDS; i++) {
        char name[16];
        snprintf(name, sizeof(name), "x%d", i % 4);
        (void)start(r.m, name, (i % 5 + 1) * H, i % 2 ? a : NULL, i % 2, NULL, 0, &out, &why);
        buf_reset(&out);
        buf_reset(&why);
        if (i % 3 == 0)
            assert_int_not_equal(maint_end(r.m, name, &out, &why), OP_ERR_STATE);
    }
    atomic_store(&r.stop, true);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    buf_free(&out);
    buf_free(&why);
    maint_free(r.m);
    for (int i = 0; i < 3; i++)
        gen_unref(r.gens[i]);
    clock_fake_free(r.clk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_off_boundaries),
        cmocka_unit_test(test_cron_boundaries),
        cmocka_unit_test(test_cron_dst),
        cmocka_unit_test(test_cron_overlap),
        cmocka_unit_test(test_coverage_table),
        cmocka_unit_test(test_one_off_run),
        cmocka_unit_test(test_audit_events),
        cmocka_unit_test(test_reload),
        cmocka_unit_test(test_reload_reschedules),
        cmocka_unit_test(test_hold),
        cmocka_unit_test(test_adhoc_api),
        cmocka_unit_test(test_adhoc_restart),
        cmocka_unit_test(test_saved_silences),
        cmocka_unit_test(test_metrics),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, tu_tmpdir_setup, tu_tmpdir_teardown);
}
