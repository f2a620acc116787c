/*
 * test_slo_replay.c - unit tests for `outpost slo replay` (slo_replay.c),
 * through slo_replay_run: CSV events in, one JSON document out, parsed with
 * jansson and checked against hand-computed figures and against a brute-force
 * count of a month of synthetic events. Every time is explicit (a virtual
 * clock); the math is docs/slo.md's.
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
#include "slo_replay.h"
#include "slo_state.h"
#include "state.h"
#include "test_util.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ERRS_MAX (1u << 20)
#define OUT_MAX (1u << 24)
#define CSV_MAX (1u << 26)

/* 2026-01-11T00:00:00Z, 2026-02-01 and 2026-03-01 (whole UTC hours). */
#define T 1768089600LL
#define FEB1 1769904000LL
#define MAR1 1772323200LL
#define P30 2592000.0 /* 30 d in seconds */

#define CHECK_A "checks: [{name: a, url: \"http://127.0.0.1:1/\", interval: 1s}]\n"

/* ---- helpers ---- */

static struct cfg *load(const char *yaml)
{
    struct cfg *c = NULL;
    struct buf errs;
    buf_init(&errs, ERRS_MAX);
    enum op_rc rc = cfg_load_string(yaml, strlen(yaml), "t.yml", &c, &errs);
    if (rc != OP_OK)
        print_error("config: %s\n", buf_str(&errs));
    assert_int_equal(rc, OP_OK);
    buf_free(&errs);
    return c;
}

/* Run csv against cfg and parse the document. raw (optional) gets the text. */
static json_t *run_cfg(const struct cfg *c, const char *csv, size_t len, double at,
                       const char *state_out, struct buf *raw)
{
    struct buf out, errs;
    buf_init(&out, OUT_MAX);
    buf_init(&errs, ERRS_MAX);
    enum op_rc rc =
        slo_replay_run(c, "e.csv", csv, len, at, REPLAY_BUDGET_OBSERVED, state_out, &out, &errs);
    if (rc != OP_OK)
        print_error("replay: %s\n", buf_str(&errs));
    assert_int_equal(rc, OP_OK);
    assert_int_equal(errs.len, 0);
    /* One line, newline-terminated. */
    assert_true(out.len > 2);
    assert_int_equal(out.data[out.len - 1], '\n');
    assert_null(memchr(out.data, '\n', out.len - 1));
    json_error_t jerr;
    json_t *root = json_loads(buf_str(&out), 0, &jerr);
    if (!root)
        print_error("bad JSON (%s): %s\n", jerr.text, buf_str(&out));
    assert_non_null(root);
    assert_true(json_is_object(root));
    assert_int_equal(json_object_size(root), 2);
    if (raw) {
        buf_reset(raw);
        buf_add(raw, out.data, out.len);
    }
    buf_free(&out);
    buf_free(&errs);
    return root;
}

static json_t *run(const char *yaml, const char *csv, double at, struct buf *raw)
{
    struct cfg *c = load(yaml);
    json_t *root = run_cfg(c, csv, strlen(csv), at, NULL, raw);
    cfg_free(c);
    return root;
}

static json_t *slo_of(json_t *root, const char *name)
{
    json_t *s = json_object_get(json_object_get(root, "slos"), name);
    if (!s)
        print_error("no SLO \"%s\" in the output\n", name);
    assert_non_null(s);
    return s;
}

static double num(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_number(v))
        print_error("\"%s\" is not a number\n", key);
    assert_true(json_is_number(v));
    return json_number_value(v);
}

static void expect_num(json_t *o, const char *key, double want)
{
    double got = num(o, key);
    if (got != want)
        print_error("\"%s\": %.17g, want %.17g\n", key, got, want);
    assert_true(got == want);
}

static void expect_bool(json_t *o, const char *key, bool want)
{
    json_t *v = json_object_get(o, key);
    assert_true(json_is_boolean(v));
    if (json_is_true(v) != want)
        print_error("\"%s\": %d, want %d\n", key, json_is_true(v), want);
    assert_int_equal(json_is_true(v), want);
}

/* Events, bad events, SLI and burn rate of one window: sli = 1 - bad/events,
 * burn = (bad/events)/eps, both null while the window is empty. */
static void expect_window(json_t *slo, const char *w, uint64_t events, uint64_t bad, double eps)
{
    json_t *o = json_object_get(json_object_get(slo, "windows"), w);
    assert_non_null(o);
    assert_int_equal(json_object_size(o), 4);
    json_t *e = json_object_get(o, "events"), *b = json_object_get(o, "bad");
    assert_true(json_is_integer(e) && json_is_integer(b));
    if ((uint64_t)json_integer_value(e) != events || (uint64_t)json_integer_value(b) != bad)
        print_error("window %s: %lld/%lld, want %llu/%llu\n", w, json_integer_value(e),
                    json_integer_value(b), (unsigned long long)events, (unsigned long long)bad);
    assert_int_equal(json_integer_value(e), events);
    assert_int_equal(json_integer_value(b), bad);
    if (events == 0) {
        assert_true(json_is_null(json_object_get(o, "sli_ratio")));
        assert_true(json_is_null(json_object_get(o, "burn_rate")));
        return;
    }
    double err = (double)bad / (double)events;
    expect_num(o, "sli_ratio", 1.0 - err);
    expect_num(o, "burn_rate", err / eps);
}

static void expect_inf_exhaustion(json_t *slo)
{
    json_t *v = json_object_get(slo, "error_budget_exhaustion_seconds");
    assert_true(json_is_string(v));
    assert_string_equal(json_string_value(v), "+Inf");
}

static void expect_alerts(json_t *slo, bool page, bool ticket)
{
    json_t *a = json_object_get(slo, "alerts");
    assert_non_null(a);
    assert_int_equal(json_object_size(a), 2);
    expect_bool(a, "page", page);
    expect_bool(a, "ticket", ticket);
}

static const char *const wnames[SLO_W_COUNT] = {"5m", "30m", "1h", "2h",
                                                "6h", "1d",  "3d", "period"};
static const int64_t wsecs[SLO_W_PERIOD] = {300, 1800, 3600, 7200, 21600, 86400, 259200};

/* ---- hand-computed figures ---- */

/* 99.9 % / 30 d (eps = 0.001) at T = 2026-01-11T00:00Z. Tiers: page 1h/5m >
 * 14.4, page 6h/30m > 6, ticket 1d/2h > 3, ticket 3d/6h > 1. */
static const char cfg_hand[] =
    CHECK_A "slos:\n"
            "  - {name: avail, objective: 99.9, period: 30d, sli: {checks: [a]},\n"
            "     policy: {freeze_when_consumed: 0.7, over: 7d}}\n"
            "  - {name: hot, objective: 99.9, period: 30d, sli: {checks: [a]}}\n"
            "  - {name: idle, objective: 99.9, period: 30d, sli: {checks: [a]}}\n"
            "  - {name: calm, objective: 99.9, period: 30d, sli: {checks: [a]}}\n"
            "  - {name: frozen, objective: 99.9, period: 30d, sli: {checks: [a]},\n"
            "     policy: {freeze_when_consumed: 0.7, over: 7d}}\n"
            "  - {name: spent, objective: 99.9, period: 30d, sli: {checks: [a]},\n"
            "     policy: {freeze_when_consumed: 0.7, over: 7d}}\n"
            "  - {name: few, objective: 99.9, period: 30d, sli: {checks: [a]}}\n"
            "  - {name: few5, objective: 99.9, period: 30d, min_events: 5, sli: {checks: [a]}}\n";

static void hand_csv(struct buf *b)
{
    /* avail and hot: 1000 good events over the last hour, 10 every 36 s
     * (T - 3564 ... T), and 1e6 good ones 5 days ago. */
    for (int i = 0; i < 100; i++) {
        buf_addf(b, "%lld,avail,10,0\n", T - 3600 + 36 * (i + 1));
        buf_addf(b, "%lld,hot,10,0\n", T - 3600 + 36 * (i + 1));
    }
    buf_addf(b, "%lld,avail,1000000,0\n", T - 5 * 86400);
    buf_addf(b, "%lld,hot,1000000,0\n", T - 5 * 86400);
    /* avail: 2 bad, at T - 60 (in 5m) and T - 2000 (in 1h, not in 30m). */
    buf_addf(b, "%lld,avail,0,1\n", T - 60);
    buf_addf(b, "%lld,avail,0,1\n", T - 2000);
    /* hot: 20 bad at T - 60, 1 at T - 2000. */
    buf_addf(b, "%lld,hot,0,20\n", T - 60);
    buf_addf(b, "%lld,hot,0,1\n", T - 2000);
    /* calm: 5 good every 30 s over the last hour (T - 2970 ... T), 4 bad of
     * 14 three hours ago, 100000 good two days ago. */
    for (int k = 0; k < 100; k++)
        buf_addf(b, "%lld,calm,5,0\n", T - 30 * k);
    buf_addf(b, "%lld,calm,10,4\n", T - 3 * 3600);
    buf_addf(b, "%lld,calm,100000,0\n", T - 2 * 86400);
    /* frozen: 10000 good 20 days ago, 8 bad 2 days ago: 8 / (0.001 * 10008)
     * = 0.7994 of the budget in 7 days > 0.7. */
    buf_addf(b, "%lld,frozen,10000,0\n", T - 20 * 86400);
    buf_addf(b, "%lld,frozen,0,8\n", T - 2 * 86400);
    /* spent: like frozen with 7 bad (0.6926 < 0.7), plus 100 bad 8 days ago
     * (in the period, not in the policy's 7 d): budget spent. */
    buf_addf(b, "%lld,spent,10000,0\n", T - 20 * 86400);
    buf_addf(b, "%lld,spent,0,100\n", T - 8 * 86400);
    buf_addf(b, "%lld,spent,0,7\n", T - 2 * 86400);
    /* few, few5: 5 events in the last minute, all bad. */
    buf_addf(b, "%lld,few,0,5\n%lld,few5,0,5\n", T - 30, T - 30);
}

static void test_hand_computed(void **state)
{
    (void)state;
    struct buf csv, raw;
    buf_init(&csv, CSV_MAX);
    buf_init(&raw, OUT_MAX);
    hand_csv(&csv);
    json_t *root = run(cfg_hand, buf_str(&csv), (double)T, &raw);
    expect_num(root, "at", (double)T);
    assert_int_equal(json_object_size(json_object_get(root, "slos")), 8);
    /* Exactly 0.999 and 2592000 in the text, not 0.99899999999999999. */
    assert_non_null(
        strstr(buf_str(&raw), "\"avail\":{\"objective\":0.999,\"period_seconds\":2592000,"));
    const double eps = 0.001;

    /* avail */
    json_t *s = slo_of(root, "avail");
    expect_num(s, "objective", 0.999);
    expect_num(s, "period_seconds", P30);
    assert_true(json_is_integer(json_object_get(s, "period_seconds")));
    expect_window(s, "5m", 91, 1, eps); /* 9 lines of 10 (T-288 ... T) + 1 bad */
    expect_window(s, "30m", 501, 1, eps);
    expect_window(s, "1h", 1002, 2, eps);
    expect_window(s, "2h", 1002, 2, eps);
    expect_window(s, "6h", 1002, 2, eps);
    expect_window(s, "1d", 1002, 2, eps);
    expect_window(s, "3d", 1002, 2, eps);
    expect_window(s, "period", 1001002, 2, eps);
    /* burn 5m = (1/91)/0.001 = 10.99: below 14.4; 1h, 6h, 1d, 3d = 1.996:
     * only the 3d/6h ticket tier (> 1) fires. */
    expect_num(json_object_get(json_object_get(s, "windows"), "5m"), "burn_rate",
               (1.0 / 91.0) / 0.001);
    double rem = 1.0 - 2.0 / (0.001 * 1001002.0);
    assert_true(fabs(rem - 0.998002) < 1e-6);
    expect_num(s, "error_budget_remaining_ratio", rem);
    double burn1h = (2.0 / 1002.0) / 0.001;
    expect_num(s, "error_budget_exhaustion_seconds", rem * P30 / burn1h);
    assert_true(fabs(num(s, "error_budget_exhaustion_seconds") - 1295997.4158) < 1e-3);
    expect_alerts(s, false, true);
    expect_bool(s, "policy_freeze", false); /* 2 / 1001.002 = 0.002 */
    assert_int_equal(json_object_size(s), 7);

    /* hot: 5m 110/20 (burn 181.8), 1h 1021/21 (20.57 > 14.4): every tier. */
    s = slo_of(root, "hot");
    expect_window(s, "5m", 110, 20, eps);
    expect_window(s, "30m", 520, 20, eps);
    for (int w = 2; w < 7; w++)
        expect_window(s, wnames[w], 1021, 21, eps);
    expect_window(s, "period", 1001021, 21, eps);
    rem = 1.0 - 21.0 / (0.001 * 1001021.0);
    expect_num(s, "error_budget_remaining_ratio", rem);
    expect_num(s, "error_budget_exhaustion_seconds", rem * P30 / ((21.0 / 1021.0) / 0.001));
    expect_alerts(s, true, true);
    expect_bool(s, "policy_freeze", false); /* no policy */

    /* idle: nothing at all. */
    s = slo_of(root, "idle");
    for (int w = 0; w < SLO_W_COUNT; w++)
        expect_window(s, wnames[w], 0, 0, eps);
    expect_num(s, "error_budget_remaining_ratio", 1.0);
    expect_inf_exhaustion(s);
    expect_alerts(s, false, false);
    expect_bool(s, "policy_freeze", false);
    assert_non_null(strstr(
        buf_str(&raw), "\"idle\":{\"objective\":0.999,\"period_seconds\":2592000,\"windows\":{"
                       "\"5m\":{\"events\":0,\"bad\":0,\"sli_ratio\":null,\"burn_rate\":null},"));

    /* calm: no bad event in the last hour: burn 0, exhaustion +Inf. The 6h
     * and 1d windows burn 7.8 (4/514), but their short windows (30m, 2h)
     * do not: no alert. */
    s = slo_of(root, "calm");
    expect_window(s, "5m", 50, 0, eps);
    expect_window(s, "30m", 300, 0, eps);
    expect_window(s, "1h", 500, 0, eps);
    expect_window(s, "2h", 500, 0, eps);
    expect_window(s, "6h", 514, 4, eps);
    expect_window(s, "1d", 514, 4, eps);
    expect_window(s, "3d", 100514, 4, eps);
    expect_window(s, "period", 100514, 4, eps);
    expect_num(json_object_get(json_object_get(s, "windows"), "1h"), "burn_rate", 0.0);
    expect_num(json_object_get(json_object_get(s, "windows"), "1h"), "sli_ratio", 1.0);
    expect_num(s, "error_budget_remaining_ratio", 1.0 - 4.0 / (0.001 * 100514.0));
    expect_inf_exhaustion(s);
    expect_alerts(s, false, false);

    /* frozen: freeze = 8 / (0.001 * 10008) = 0.7994 > 0.7. Nothing in the
     * last hour: exhaustion +Inf; 3d burns 1000 but 6h is empty. */
    s = slo_of(root, "frozen");
    for (int w = 0; w < 6; w++)
        expect_window(s, wnames[w], 0, 0, eps);
    expect_window(s, "3d", 8, 8, eps);
    expect_window(s, "period", 10008, 8, eps);
    expect_num(json_object_get(json_object_get(s, "windows"), "3d"), "sli_ratio", 0.0);
    expect_num(json_object_get(json_object_get(s, "windows"), "3d"), "burn_rate", 1000.0);
    rem = 1.0 - 8.0 / (0.001 * 10008.0);
    assert_true(fabs(rem - 0.2006395) < 1e-6);
    expect_num(s, "error_budget_remaining_ratio", rem);
    expect_inf_exhaustion(s);
    expect_alerts(s, false, false);
    expect_bool(s, "policy_freeze", true);

    /* spent: freeze = 7 / (0.001 * 10107) = 0.6926 <= 0.7; remaining
     * 1 - 107/10.107 < 0: exhaustion 0. */
    s = slo_of(root, "spent");
    expect_window(s, "3d", 7, 7, eps);
    expect_window(s, "period", 10107, 107, eps);
    rem = 1.0 - 107.0 / (0.001 * 10107.0);
    assert_true(rem < -9.5 && rem > -9.6);
    expect_num(s, "error_budget_remaining_ratio", rem);
    expect_num(s, "error_budget_exhaustion_seconds", 0.0);
    expect_bool(s, "policy_freeze", false);

    /* few: 5 of 5 bad (burn 1000) but 1h holds 5 < min_events 10: no alert;
     * few5 (min_events 5) pages and tickets. */
    s = slo_of(root, "few");
    expect_window(s, "5m", 5, 5, eps);
    expect_window(s, "1h", 5, 5, eps);
    expect_num(s, "error_budget_exhaustion_seconds", 0.0);
    expect_alerts(s, false, false);
    expect_alerts(slo_of(root, "few5"), true, true);

    json_decref(root);
    buf_free(&csv);
    buf_free(&raw);
}

/* ---- a month of synthetic events against brute force ---- */

/* at = 2026-01-31T00:00Z; the 30 d period starts at MBASE. Lines j = -150
 * ... 43230, one a minute: t_j = MBASE + 60 j - off(j). */
#define MAT (T + 20 * 86400)
#define MBASE (MAT - 30 * 86400)
#define MJ_LO (-150)
#define MJ_HI (43200 + 30)

static int64_t pmod(int64_t a, int64_t m)
{
    return ((a % m) + m) % m;
}

static int64_t m_time(int64_t j)
{
    int64_t off = pmod(j, 4) == 0 ? 0 : pmod(j * 7919, 59);
    return MBASE + 60 * j - off;
}

static void m_counts(int64_t j, uint64_t *good, uint64_t *bad)
{
    *good = 5 + (uint64_t)pmod(j, 7);
    *bad = 0;
    if (pmod(j, 997) == 0)
        *bad = 1;
    if (pmod(j, 60) == 0 && pmod(j / 60, 24) == 13)
        *bad += 1; /* 13:00 every day */
    if (j > 43200 - 20 && j <= 43200 - 10) {
        *good = 0; /* a 10-minute outage before at */
        *bad = 8;
    }
    if (j > 43200)
        *bad += 1000; /* after at: ignored */
}

static void month_line(struct buf *b, int64_t j, const char *name)
{
    uint64_t g, k;
    m_counts(j, &g, &k);
    buf_addf(b, "%lld,%s,%llu,%llu\n", (long long)m_time(j), name, (unsigned long long)g,
             (unsigned long long)k);
}

static void month_csv(struct buf *b, const char *name)
{
    for (int64_t j = MJ_LO; j <= MJ_HI; j++)
        month_line(b, j, name);
}

/* Every figure from window counts, the way docs/slo.md defines them. */
struct figs {
    uint64_t ev[SLO_W_COUNT], bad[SLO_W_COUNT];
    uint64_t bad_over; /* bad events in the policy's window */
};

static void expect_figures(json_t *s, const struct figs *f, double eps, double period_s,
                           uint64_t min_events, double freeze_at)
{
    for (int w = 0; w < SLO_W_COUNT; w++)
        expect_window(s, wnames[w], f->ev[w], f->bad[w], eps);
    expect_num(s, "period_seconds", period_s);
    uint64_t total = f->ev[SLO_W_PERIOD];
    double rem = total ? 1.0 - (double)f->bad[SLO_W_PERIOD] / (eps * (double)total) : 1.0;
    expect_num(s, "error_budget_remaining_ratio", rem);
    double b1h = f->ev[SLO_W_1H] ? ((double)f->bad[SLO_W_1H] / (double)f->ev[SLO_W_1H]) / eps : 0;
    if (rem <= 0)
        expect_num(s, "error_budget_exhaustion_seconds", 0.0);
    else if (b1h <= 0)
        expect_inf_exhaustion(s);
    else
        expect_num(s, "error_budget_exhaustion_seconds", rem * period_s / b1h);
    /* Tiers: budget share x period / long window, both windows above it. */
    static const struct {
        int lw, sw;
        double share;
    } tier[4] = {{2, 0, 0.02}, {4, 1, 0.05}, {5, 3, 0.10}, {6, 4, 0.10}};
    bool fire[4];
    for (int t = 0; t < 4; t++) {
        double factor = tier[t].share * period_s / (double)wsecs[tier[t].lw];
        int lw = tier[t].lw, sw = tier[t].sw;
        fire[t] = f->ev[lw] >= min_events && f->ev[sw] > 0 &&
                  (double)f->bad[lw] / (double)f->ev[lw] / eps > factor &&
                  (double)f->bad[sw] / (double)f->ev[sw] / eps > factor;
    }
    expect_alerts(s, fire[0] || fire[1], fire[2] || fire[3]);
    bool freeze =
        freeze_at > 0 && total > 0 && (double)f->bad_over / (eps * (double)total) > freeze_at;
    expect_bool(s, "policy_freeze", freeze);
}

static void month_brute(int64_t at, int64_t period_s, struct figs *f)
{
    memset(f, 0, sizeof(*f));
    for (int64_t j = MJ_LO; j <= MJ_HI; j++) {
        int64_t t = m_time(j);
        if (t > at)
            continue;
        uint64_t g, k;
        m_counts(j, &g, &k);
        for (int w = 0; w < SLO_W_COUNT; w++) {
            int64_t len = w == SLO_W_PERIOD ? period_s : wsecs[w];
            if (t > at - len) {
                f->ev[w] += g + k;
                f->bad[w] += k;
            }
        }
        if (t > at - 7 * 86400)
            f->bad_over += k;
    }
}

static const char cfg_month[] =
    CHECK_A "slos:\n"
            "  - {name: m, objective: 99.9, period: 30d, sli: {checks: [a]},\n"
            "     policy: {freeze_when_consumed: 0.25, over: 7d}}\n";

static void test_month(void **state)
{
    (void)state;
    struct buf csv;
    buf_init(&csv, CSV_MAX);
    month_csv(&csv, "m");
    struct figs f;
    month_brute(MAT, 30 * 86400, &f);
    /* By hand: 5m holds j = 43196 ... 43200 (good 11, 5, 6, 7, 8); 30m
     * holds j = 43171 ... 43200: 20 lines with 157 good and the outage's 10
     * lines of 8 bad. */
    assert_int_equal(f.ev[SLO_W_5M], 37);
    assert_int_equal(f.bad[SLO_W_5M], 0);
    assert_int_equal(f.ev[SLO_W_30M], 237);
    assert_int_equal(f.bad[SLO_W_30M], 80);
    assert_true(f.ev[SLO_W_PERIOD] > 43200 * 7);

    json_t *root = run(cfg_month, buf_str(&csv), (double)MAT, NULL);
    expect_num(root, "at", (double)MAT);
    json_t *s = slo_of(root, "m");
    expect_figures(s, &f, 0.001, P30, 10, 0.25);
    /* The outage: 6h/30m and 1d/2h burn (5m does not); the policy freezes. */
    expect_alerts(s, true, true);
    expect_bool(s, "policy_freeze", true);
    assert_true(json_is_number(json_object_get(s, "error_budget_exhaustion_seconds")));
    json_decref(root);

    /* Other whole hours inside the month, and one after it (the last events
     * age out). */
    const int64_t ats[] = {MAT - 3600, MAT - 13 * 3600, MAT - 86400 * 9 - 7200, MBASE + 86400,
                           MAT + 2 * 86400};
    for (size_t i = 0; i < ARRAY_SIZE(ats); i++) {
        month_brute(ats[i], 30 * 86400, &f);
        root = run(cfg_month, buf_str(&csv), (double)ats[i], NULL);
        expect_num(root, "at", (double)ats[i]);
        expect_figures(slo_of(root, "m"), &f, 0.001, P30, 10, 0.25);
        json_decref(root);
    }
    buf_free(&csv);
}

/* ---- order, --at ---- */

/* Fisher-Yates over the lines of text, deterministic. */
static void shuffle_lines(const char *text, struct buf *out, uint64_t seed)
{
    size_t n = 0, cap = 1024;
    const char **lines = xcalloc(cap, sizeof(*lines));
    for (const char *p = text; *p;) {
        if (n == cap) {
            cap *= 2;
            lines = xrealloc(lines, cap * sizeof(*lines));
        }
        lines[n++] = p;
        p = strchr(p, '\n') + 1;
    }
    uint64_t s = seed;
    for (size_t i = n - 1; i > 0; i--) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        size_t k = (size_t)((s >> 33) % (i + 1));
        const char *t = lines[i];
        lines[i] = lines[k];
        lines[k] = t;
    }
    for (size_t i = 0; i < n; i++)
        buf_add(out, lines[i], (size_t)(strchr(lines[i], '\n') - lines[i] + 1));
    free(lines);
}

static void test_unsorted(void **state)
{
    (void)state;
    struct buf csv, mixed, a, b;
    buf_init(&csv, CSV_MAX);
    buf_init(&mixed, CSV_MAX);
    buf_init(&a, OUT_MAX);
    buf_init(&b, OUT_MAX);
    month_csv(&csv, "m");
    shuffle_lines(buf_str(&csv), &mixed, 42);
    assert_int_equal(mixed.len, csv.len);
    assert_memory_not_equal(mixed.data, csv.data, 200);
    json_decref(run(cfg_month, buf_str(&csv), (double)MAT, &a));
    json_decref(run(cfg_month, buf_str(&mixed), (double)MAT, &b));
    assert_string_equal(buf_str(&a), buf_str(&b));
    /* Without --at as well: the last event's time either way. */
    json_t *r1 = run(cfg_month, buf_str(&csv), -1, &a);
    json_t *r2 = run(cfg_month, buf_str(&mixed), -1, &b);
    assert_string_equal(buf_str(&a), buf_str(&b));
    expect_num(r1, "at", (double)m_time(MJ_HI));
    json_decref(r1);
    json_decref(r2);
    buf_free(&csv);
    buf_free(&mixed);
    buf_free(&a);
    buf_free(&b);
}

static const char cfg_a[] =
    CHECK_A "slos:\n  - {name: s, objective: 99.9, period: 30d, sli: {checks: [a]}}\n";

static void test_at(void **state)
{
    (void)state;
    struct buf csv;
    buf_init(&csv, CSV_MAX);
    buf_addf(&csv, "%lld,s,1,0\n%lld,s,1,1\n%lld,s,0,4\n", T - 10, T, T + 1);

    /* at = T: the event exactly at T counts, the one after it does not. */
    json_t *root = run(cfg_a, buf_str(&csv), (double)T, NULL);
    expect_num(root, "at", (double)T);
    json_t *s = slo_of(root, "s");
    for (int w = 0; w < SLO_W_COUNT; w++)
        expect_window(s, wnames[w], 3, 1, 0.001);
    json_decref(root);

    /* No --at: the last event's time. */
    root = run(cfg_a, buf_str(&csv), -1, NULL);
    expect_num(root, "at", (double)(T + 1));
    s = slo_of(root, "s");
    for (int w = 0; w < SLO_W_COUNT; w++)
        expect_window(s, wnames[w], 7, 5, 0.001);
    json_decref(root);

    /* Exactly at the first event, and 1 ms before it. */
    root = run(cfg_a, buf_str(&csv), (double)(T - 10), NULL);
    expect_window(slo_of(root, "s"), "5m", 1, 0, 0.001);
    json_decref(root);
    root = run(cfg_a, buf_str(&csv), (double)(T - 10) - 0.001, NULL);
    expect_num(root, "at", (double)(T - 10) - 0.001);
    s = slo_of(root, "s");
    for (int w = 0; w < SLO_W_COUNT; w++)
        expect_window(s, wnames[w], 0, 0, 0.001);
    json_decref(root);

    /* Long after: the events left the short windows; 30 d later the
     * period too. */
    root = run(cfg_a, buf_str(&csv), (double)(T + 2 * 3600), NULL);
    s = slo_of(root, "s");
    expect_window(s, "1h", 0, 0, 0.001);
    expect_window(s, "6h", 7, 5, 0.001);
    json_decref(root);
    root = run(cfg_a, buf_str(&csv), (double)(T + 30 * 86400 + 3600), NULL);
    s = slo_of(root, "s");
    expect_window(s, "period", 0, 0, 0.001);
    expect_num(s, "error_budget_remaining_ratio", 1.0);
    json_decref(root);

    buf_free(&csv);
}

static void test_fractional_and_format(void **state)
{
    (void)state;
    struct buf csv;
    buf_init(&csv, CSV_MAX);
    buf_addf(&csv, "%lld.000,s,1,0\n", T - 300);   /* exactly 5 m before: not in 5m */
    buf_addf(&csv, "%lld.5,s,2,0\n", T - 300);     /* T - 299.5 */
    buf_addf(&csv, "%lld.75,s,3,1\n", T - 1);      /* T - 0.25 */
    buf_addf(&csv, "%lld.5,s,8,8\n", T);           /* T + 0.5 */
    buf_addf(&csv, "%lld.999,s,16,0\n", T - 3601); /* T - 3600.001: not in 1h */
    buf_addf(&csv, "%lld.001,s,32,0\n", T - 3600); /* T - 3599.999: in 1h */

    json_t *root = run(cfg_a, buf_str(&csv), (double)T, NULL);
    json_t *s = slo_of(root, "s");
    expect_window(s, "5m", 2 + 4, 1, 0.001);
    expect_window(s, "30m", 1 + 2 + 4, 1, 0.001);
    expect_window(s, "1h", 1 + 2 + 4 + 32, 1, 0.001);
    expect_window(s, "2h", 1 + 2 + 4 + 16 + 32, 1, 0.001);
    json_decref(root);

    /* A fractional --at: the event exactly at it counts. Off the 10 s grid
     * the oldest, partly covered bucket (T - 300, T - 290] is left out (the
     * documented error of at most one bucket), so T - 299.5 is not in 5m. */
    root = run(cfg_a, buf_str(&csv), (double)T + 0.5, NULL);
    expect_num(root, "at", (double)T + 0.5);
    s = slo_of(root, "s");
    expect_window(s, "5m", 4 + 16, 9, 0.001);
    json_decref(root);
    /* Below a millisecond: the time and --at round alike, so an event
     * exactly at --at still counts. */
    root = run(cfg_a, "1768089600.0007,s,1,0\n", (double)T + 0.0007, NULL);
    expect_num(root, "at", (double)T + 0.0007);
    expect_window(slo_of(root, "s"), "5m", 1, 0, 0.001);
    json_decref(root);
    /* Without --at the last event is T + 0.5 too. */
    root = run(cfg_a, buf_str(&csv), -1, NULL);
    expect_num(root, "at", (double)T + 0.5);
    json_decref(root);

    /* Comments, blank lines, spaces, tabs, CRLF and a last line without a
     * newline. */
    buf_reset(&csv);
    buf_adds(&csv, "# unix_seconds,slo_name,good_count,bad_count\r\n\r\n   \r\n\t# indented\r\n");
    buf_addf(&csv, "%lld,s,3,1\r\n", T - 10);
    buf_addf(&csv, "  %lld.25 ,\ts , 2 ,0\t\r\n\r\n", T - 5);
    buf_adds(&csv, "#\n");
    buf_addf(&csv, "%lld,s,1,1", T);
    root = run(cfg_a, buf_str(&csv), -1, NULL);
    expect_num(root, "at", (double)T);
    s = slo_of(root, "s");
    for (int w = 0; w < SLO_W_COUNT; w++)
        expect_window(s, wnames[w], 4 + 2 + 2, 2, 0.001);
    json_decref(root);
    buf_free(&csv);
}

/* SLO names are JSON-escaped. */
static void test_name_escaping(void **state)
{
    (void)state;
    static const char yaml[] =
        CHECK_A "slos:\n  - {name: \"q\\\"uo\\\\te/\\u00e9\", objective: 99.5, period: 7d,\n"
                "     sli: {checks: [a]}}\n";
    struct buf csv;
    buf_init(&csv, CSV_MAX);
    buf_addf(&csv, "%lld,q\"uo\\te/\xc3\xa9,9,1\n", T);
    json_t *root = run(yaml, buf_str(&csv), -1, NULL);
    json_t *s = slo_of(root, "q\"uo\\te/\xc3\xa9");
    expect_num(s, "objective", 0.995);
    expect_num(s, "period_seconds", 7 * 86400.0);
    expect_window(s, "5m", 10, 1, 0.005);
    json_decref(root);
    buf_free(&csv);
}

/* ---- bad input ---- */

static void expect_bad(const char *yaml, const char *csv, double at, const char *want)
{
    struct cfg *c = load(yaml);
    struct buf out, errs;
    buf_init(&out, OUT_MAX);
    buf_init(&errs, ERRS_MAX);
    enum op_rc rc =
        slo_replay_run(c, "e.csv", csv, strlen(csv), at, REPLAY_BUDGET_OBSERVED, NULL, &out, &errs);
    if (rc != OP_ERR_INVALID || strcmp(buf_str(&errs), want) != 0)
        print_error("csv \"%s\": rc %d, errors \"%s\", want \"%s\"\n", csv, rc, buf_str(&errs),
                    want);
    assert_int_equal(rc, OP_ERR_INVALID);
    assert_string_equal(buf_str(&errs), want);
    assert_int_equal(out.len, 0); /* no half document */
    buf_free(&out);
    buf_free(&errs);
    cfg_free(c);
}

#define L12 "# header\n1768089599,s,1,0\n"
#define NO_SLO "no SLO of that name in the configuration"
#define FIELDS "expected unix_seconds,slo_name,good_count,bad_count"
#define TIME "unix_seconds is not a positive number up to 253402300799"
#define GOOD "good_count is not a whole number >= 0"
#define BAD "bad_count is not a whole number >= 0"

static void test_bad_input(void **state)
{
    (void)state;
    static const struct {
        const char *line3, *why;
    } cases[] = {
        {"1768089600,nosuch,1,0", NO_SLO},
        {"1768089600,S,1,0", NO_SLO},
        {"1768089600,,1,0", NO_SLO},
        {"1768089600,s,1", FIELDS},
        {"1768089600,s,1,0,5", FIELDS},
        {"1768089600,s,1,0,", FIELDS},
        {"1768089600 s 1 0", FIELDS},
        {",", FIELDS},
        {"1768089600,s,-1,0", GOOD},
        {"1768089600,s,+1,0", GOOD},
        {"1768089600,s,x,0", GOOD},
        {"1768089600,s,1.5,0", GOOD},
        {"1768089600,s,,0", GOOD},
        {"1768089600,s,1e3,0", GOOD},
        {"1768089600,s,99999999999999999999,0", GOOD},
        {"1768089600,s,1,-2", BAD},
        {"1768089600,s,1,0x1", BAD},
        {"1768089600,s,1,", BAD},
        {"1768089600,s,1,two", BAD},
        {"1768089600,s,4294967296,0", "counts above 4294967295 in one line are not supported"},
        {"1768089600,s,0,4294967296", "counts above 4294967295 in one line are not supported"},
        {"0,s,1,0", TIME},
        {"0.0,s,1,0", TIME},
        {"-5,s,1,0", TIME},
        {"abc,s,1,0", TIME},
        {"nan,s,1,0", TIME},
        {"inf,s,1,0", TIME},
        {"1e999,s,1,0", TIME},
        {",s,1,0", TIME},
        {"17680896OO,s,1,0", TIME},
        /* The time is checked first, then the name, then the counts. */
        {"-1,nosuch,x,y", TIME},
        {"1768089600,nosuch,x,y", NO_SLO},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char csv[256], want[256];
        snprintf(csv, sizeof(csv), L12 "%s\n1768089601,s,1,0\n", cases[i].line3);
        snprintf(want, sizeof(want), "e.csv:3: %s\n", cases[i].why);
        expect_bad(cfg_a, csv, -1, want);
        /* The same with CRLF and with --at. */
        snprintf(csv, sizeof(csv), L12 "%s\r\n", cases[i].line3);
        expect_bad(cfg_a, csv, (double)T, want);
    }

    /* Several problems: one line each, in order. */
    expect_bad(cfg_a, "1768089600,s,1,0\nx,s,1,0\n\n# ok\n1768089600,t,1,0\n1768089600,s,1,-1\n",
               -1, "e.csv:2: " TIME "\ne.csv:5: " NO_SLO "\ne.csv:6: " BAD "\n");
}

/* ---- calendar month ---- */

static const char cfg_cal[] =
    CHECK_A "slos:\n  - {name: cal, objective: 99, calendar: month, sli: {checks: [a]}}\n";

static void test_calendar_month(void **state)
{
    (void)state;
    struct buf csv;
    buf_init(&csv, CSV_MAX);
    buf_addf(&csv, "%lld,cal,1000,100\n", MAR1 - 2 * 86400 + 3600); /* Feb 27 01:00 */
    buf_addf(&csv, "%lld,cal,50,5\n", MAR1 - 3600 + 1);             /* Feb 28 23:00:01 */
    buf_addf(&csv, "%lld,cal,7,7\n", MAR1); /* the last instant of February */
    buf_addf(&csv, "%lld,cal,3,0\n", MAR1 + 1);
    buf_addf(&csv, "%lld,cal,500,1\n", MAR1 + 10 * 3600);
    buf_addf(&csv, "%lld,cal,100,0\n", MAR1 + 23 * 3600 + 1800);
    const double eps = 0.01;

    /* 2026-03-02T00:00Z: the period is March (31 d) so far: 604 events, 1
     * bad; February's events are only in the rolling windows. */
    json_t *root = run(cfg_cal, buf_str(&csv), (double)(MAR1 + 86400), NULL);
    json_t *s = slo_of(root, "cal");
    expect_num(s, "objective", 0.99);
    expect_num(s, "period_seconds", 31 * 86400.0);
    expect_window(s, "5m", 0, 0, eps);
    expect_window(s, "30m", 0, 0, eps); /* T - 30 m exactly: outside */
    expect_window(s, "1h", 100, 0, eps);
    expect_window(s, "2h", 100, 0, eps);
    expect_window(s, "6h", 100, 0, eps);
    expect_window(s, "1d", 604, 1, eps);
    expect_window(s, "3d", 1100 + 55 + 14 + 604, 113, eps);
    expect_window(s, "period", 604, 1, eps);
    expect_num(s, "error_budget_remaining_ratio", 1.0 - 1.0 / (eps * 604.0));
    expect_inf_exhaustion(s);
    expect_alerts(s, false, false);
    json_decref(root);

    /* 2026-03-01T00:00Z exactly: still February (28 d), whose period holds
     * every event up to and including the one at midnight. Factors for 28 d:
     * page 13.44 (1h 12/69 -> 17.4, 5m 7/14 -> 50), ticket 2.8. */
    root = run(cfg_cal, buf_str(&csv), (double)MAR1, NULL);
    s = slo_of(root, "cal");
    expect_num(s, "period_seconds", 28 * 86400.0);
    expect_window(s, "5m", 14, 7, eps);
    expect_window(s, "1h", 69, 12, eps);
    expect_window(s, "1d", 69, 12, eps);
    expect_window(s, "period", 1169, 112, eps);
    expect_num(s, "error_budget_remaining_ratio", 1.0 - 112.0 / (eps * 1169.0));
    expect_num(s, "error_budget_exhaustion_seconds", 0.0);
    expect_alerts(s, true, true);
    json_decref(root);

    /* One hour into March: only the event at 00:00:01. */
    root = run(cfg_cal, buf_str(&csv), (double)(MAR1 + 3600), NULL);
    s = slo_of(root, "cal");
    expect_num(s, "period_seconds", 31 * 86400.0);
    expect_window(s, "period", 3, 0, eps);
    expect_window(s, "1h", 3 + 0, 0, eps);
    expect_window(s, "2h", 3 + 14 + 55, 12, eps);
    expect_num(s, "error_budget_remaining_ratio", 1.0);
    json_decref(root);

    /* February 1st 00:00 belongs to January (31 d); 00:00 + 1 h to February. */
    root = run(cfg_cal, "1769904000,cal,1,0\n", (double)FEB1, NULL);
    s = slo_of(root, "cal");
    expect_num(s, "period_seconds", 31 * 86400.0);
    expect_window(s, "period", 1, 0, eps);
    json_decref(root);
    root = run(cfg_cal, "1769904000,cal,1,0\n", (double)(FEB1 + 3600), NULL);
    s = slo_of(root, "cal");
    expect_num(s, "period_seconds", 28 * 86400.0);
    expect_window(s, "period", 0, 0, eps);
    expect_window(s, "1h", 0, 0, eps);
    expect_window(s, "2h", 1, 0, eps);
    json_decref(root);
    buf_free(&csv);
}

/* ---- --state-out ---- */

static const char cfg_two[] =
    CHECK_A "slos:\n"
            "  - {name: m, objective: 99.9, period: 30d, sli: {checks: [a]},\n"
            "     policy: {freeze_when_consumed: 0.25, over: 7d}}\n"
            "  - {name: cal, objective: 99, calendar: month, sli: {checks: [a]}}\n"
            "  - {name: empty, objective: 99, period: 7d, sli: {checks: [a]}}\n";

static void test_state_out(void **state)
{
    (void)state;
    struct cfg *c = load(cfg_two);
    struct buf csv, errs;
    buf_init(&csv, CSV_MAX);
    buf_init(&errs, ERRS_MAX);
    month_csv(&csv, "m");
    month_csv(&csv, "cal");
    char dir[256], file[512];
    snprintf(dir, sizeof(dir), "%s/state", tu_tmpdir()); /* does not exist yet */
    snprintf(file, sizeof(file), "%s/%s", dir, STATE_FILE_NAME);

    for (int round = 0; round < 2; round++) { /* the second one overwrites */
        const int64_t at = round ? MAT - 5 * 3600 : MAT;
        json_t *root = run_cfg(c, buf_str(&csv), csv.len, (double)at, dir, NULL);
        assert_int_equal(access(file, R_OK), 0);
        struct state_file *f = NULL;
        assert_int_equal(state_read(dir, &f, &errs), OP_OK);
        assert_int_equal(state_record_count(f), 3);
        for (size_t i = 0; i < cfg_slo_count(c); i++) {
            const struct slo_spec *spec = cfg_slo(c, i);
            struct slo_state *st = slost_new(spec);
            assert_true(state_restore(f, spec, st, STATE_MAX_TIME_MS));
            uint64_t et, bt;
            struct sliw *w = slost_copy(st, &et, &bt);
            json_t *s = slo_of(root, spec->name);
            json_t *wins = json_object_get(s, "windows");
            for (int k = 0; k < SLO_W_COUNT; k++) {
                uint64_t ev, bad;
                if (k < SLO_W_PERIOD) {
                    sliw_sum(w, at * 1000, slo_window_ms((enum slo_window)k), &ev, &bad);
                } else if (spec->calendar_month) {
                    int64_t start, len;
                    slo_calendar_month(at * 1000, &start, &len);
                    sliw_sum_since(w, at * 1000, start, &ev, &bad);
                } else {
                    sliw_sum(w, at * 1000, spec->period_ms, &ev, &bad);
                }
                json_t *o = json_object_get(wins, wnames[k]);
                assert_int_equal(ev, json_integer_value(json_object_get(o, "events")));
                assert_int_equal(bad, json_integer_value(json_object_get(o, "bad")));
            }
            /* The restored state computes the same figures. */
            struct slo_params p;
            slo_params_from_spec(spec, &p);
            struct slo_figures fig;
            slo_compute(w, &p, at * 1000, &fig);
            json_t *rem = json_object_get(s, "error_budget_remaining_ratio");
            assert_true(fig.budget_remaining == json_number_value(rem));
            /* Raw counters: every event up to at. */
            uint64_t want_ev = 0, want_bad = 0;
            if (strcmp(spec->name, "empty") != 0) {
                for (int64_t j = MJ_LO; j <= MJ_HI; j++) {
                    uint64_t g, k;
                    m_counts(j, &g, &k);
                    if (m_time(j) <= at) {
                        want_ev += g + k;
                        want_bad += k;
                    }
                }
            }
            assert_int_equal(et, want_ev);
            assert_int_equal(bt, want_bad);
            free(w);
            slost_unref(st);
        }
        state_file_free(f);
        json_decref(root);
    }

    /* A --state-out that cannot be created: an I/O error; the document was
     * still produced. */
    char blocked[512];
    snprintf(blocked, sizeof(blocked), "%s/plain", tu_tmpdir());
    FILE *fp = fopen(blocked, "w");
    assert_non_null(fp);
    fclose(fp);
    snprintf(blocked, sizeof(blocked), "%s/plain/sub", tu_tmpdir());
    struct buf out;
    buf_init(&out, OUT_MAX);
    buf_reset(&errs);
    const char *one = "1768089600,m,1,0\n";
    enum op_rc rc = slo_replay_run(c, "e.csv", one, strlen(one), -1, REPLAY_BUDGET_OBSERVED,
                                   blocked, &out, &errs);
    assert_int_equal(rc, OP_ERR_IO);
    assert_non_null(strstr(buf_str(&errs), blocked));
    assert_true(out.len > 0);
    buf_free(&out);

    buf_free(&csv);
    buf_free(&errs);
    cfg_free(c);
}

/* Times must fit the engine's millisecond clock: up to the year 9999
 * (253402300799 s), as the state file allows. Anything beyond used to
 * overflow llround() into INT64_MIN and then bucket_of(t_ms - 1). */
static void test_time_range(void **state)
{
    (void)state;
    static const char *const lines[] = {"1e300,s,1,0\n", "9.3e15,s,1,0\n", "253402300800,s,1,0\n",
                                        "253402300799.5,s,1,0\n"};
    for (size_t i = 0; i < ARRAY_SIZE(lines); i++)
        expect_bad(cfg_a, lines[i], -1, "e.csv:1: " TIME "\n");
    /* The last second of 9999 itself is fine (a 10-minute window, nothing
     * else in it). */
    json_t *root = run(cfg_a, "253402300799,s,3,1\n", -1, NULL);
    expect_num(root, "at", 253402300799.0);
    json_t *s = slo_of(root, "s");
    expect_window(s, "1h", 4, 1, 0.001);
    expect_window(s, "period", 4, 1, 0.001);
    json_decref(root);
}

/* A file without events: fine with --at (every window empty), an error
 * without it. No qsort of a NULL array either (UBSan caught that once).
 * Kept last so a sanitizer abort cannot hide other tests. */
static void test_no_events(void **state)
{
    (void)state;
    static const char *const empty[] = {"", "# only a comment\n\n\r\n"};
    for (size_t i = 0; i < ARRAY_SIZE(empty); i++) {
        json_t *root = run(cfg_a, empty[i], (double)T, NULL);
        expect_num(root, "at", (double)T);
        json_t *s = slo_of(root, "s");
        for (int w = 0; w < SLO_W_COUNT; w++)
            expect_window(s, wnames[w], 0, 0, 0.001);
        expect_num(s, "error_budget_remaining_ratio", 1.0);
        expect_inf_exhaustion(s);
        expect_alerts(s, false, false);
        json_decref(root);
        expect_bad(cfg_a, empty[i], -1, "e.csv: no events, and no --at given\n");
    }
}

/*
 * The default budget counts against the configured schedule: a new
 * 99.9 %/30 d SLO over one check every 15 s, 25 minutes of good probes,
 * then one failure. Counted against the 101 events seen it would page,
 * open a ticket and show a budget of -890 %; against the 172,800 events
 * the period holds it spends 1 / 172.8 of the budget and fires nothing.
 */
static void test_expected_budget(void **state)
{
    (void)state;
    struct cfg *c = load("checks: [{name: a, url: \"http://127.0.0.1:1/\", interval: 15s}]\n"
                         "slos: [{name: s, objective: 99.9, sli: {checks: [a]}}]\n");
    struct buf csv;
    buf_init(&csv, 1u << 16);
    const long long t0 = 1767225617; /* off any bucket edge */
    for (int i = 1; i <= 100; i++)
        buf_addf(&csv, "%lld,s,1,0\n", t0 + 15LL * i);
    buf_addf(&csv, "%lld,s,0,1\n", t0 + 15LL * 101);
    for (int mode = 0; mode < 2; mode++) {
        struct buf out, errs;
        buf_init(&out, OUT_MAX);
        buf_init(&errs, ERRS_MAX);
        assert_int_equal(slo_replay_run(c, "e.csv", csv.data, csv.len, -1,
                                        mode ? REPLAY_BUDGET_OBSERVED : REPLAY_BUDGET_EXPECTED,
                                        NULL, &out, &errs),
                         OP_OK);
        json_error_t jerr;
        json_t *root = json_loads(buf_str(&out), 0, &jerr);
        assert_non_null(root);
        json_t *sl = slo_of(root, "s");
        json_t *alerts = json_object_get(sl, "alerts");
        if (mode == 0) {
            assert_true(json_is_false(json_object_get(alerts, "page")));
            assert_true(json_is_false(json_object_get(alerts, "ticket")));
            expect_num(sl, "error_budget_remaining_ratio", 1.0 - 1.0 / (0.001 * (2592000.0 / 15)));
        } else {
            assert_true(json_is_true(json_object_get(alerts, "page")));
            assert_true(json_is_true(json_object_get(alerts, "ticket")));
            expect_num(sl, "error_budget_remaining_ratio", 1.0 - 1.0 / (0.001 * 101));
        }
        json_decref(root);
        buf_free(&out);
        buf_free(&errs);
    }
    buf_free(&csv);
    cfg_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_computed),
        cmocka_unit_test(test_month),
        cmocka_unit_test(test_unsorted),
        cmocka_unit_test(test_at),
        cmocka_unit_test(test_fractional_and_format),
        cmocka_unit_test(test_name_escaping),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_calendar_month),
        cmocka_unit_test(test_state_out),
        cmocka_unit_test(test_time_range),
        cmocka_unit_test(test_no_events),
        cmocka_unit_test(test_expected_budget),
    };
    return cmocka_run_group_tests(tests, tu_tmpdir_setup, tu_tmpdir_teardown);
}
