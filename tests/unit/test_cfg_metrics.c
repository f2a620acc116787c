/*
 * test_cfg_metrics.c - the `metrics:` map (global and per check): what
 * each check resolves to, every error with its file:line:col, and the
 * series /metrics renders for one check of each profile, counted exactly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "buf.h"
#include "check.h"
#include "clock.h"
#include "config.h"
#include "gen.h"
#include "metrics.h"
#include "recorder.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0_MS 1767225600000LL /* 2026-01-01T00:00:00Z */

static struct cfg *load_ok(const char *yaml)
{
    struct buf err;
    buf_init(&err, 1u << 16);
    struct cfg *c = NULL;
    if (cfg_load_string(yaml, strlen(yaml), "test.yml", &c, &err) != OP_OK)
        fail_msg("config: %s", buf_str(&err));
    buf_free(&err);
    return c;
}

/* The error text of a config that must not load; caller frees. */
static char *errors_of(const char *yaml)
{
    struct buf err;
    buf_init(&err, 1u << 16);
    struct cfg *c = NULL;
    if (cfg_load_string(yaml, strlen(yaml), "test.yml", &c, &err) == OP_OK) {
        cfg_free(c);
        fail_msg("loaded: %s", yaml);
    }
    return buf_take(&err);
}

static const struct check_metrics *metrics_of(const struct cfg *c, const char *name)
{
    long i = cfg_find_check(c, name);
    if (i < 0)
        fail_msg("no check %s", name);
    return &cfg_check(c, (size_t)i)->metrics;
}

static void want(const struct cfg *c, const char *name, bool phases, bool histogram,
                 bool status_code)
{
    const struct check_metrics *m = metrics_of(c, name);
    if (m->phases != phases || m->histogram != histogram || m->status_code != status_code)
        fail_msg("%s: phases %d histogram %d status_code %d, want %d %d %d", name, m->phases,
                 m->histogram, m->status_code, phases, histogram, status_code);
}

#define CANARY_AND_FLOW                                                                            \
    "canaries:\n"                                                                                  \
    "  - name: web\n"                                                                              \
    "    baseline_check: a\n"                                                                      \
    "    canary: {url: 'http://127.0.0.1:1/new'}\n"                                                \
    "    interval: 1s\n"                                                                           \
    "    window: 1m\n"

#define FLOW                                                                                       \
    "  - name: f\n"                                                                                \
    "    type: flow\n"                                                                             \
    "    steps:\n"                                                                                 \
    "      - {name: s1, url: 'http://127.0.0.1:1/s'}\n"

static void test_defaults(void **state)
{
    (void)state;
    struct cfg *c = load_ok("checks:\n"
                            "  - {name: a, url: 'http://127.0.0.1:1/a'}\n" FLOW CANARY_AND_FLOW);
    assert_int_equal(cfg_check_count(c), 3); /* a, f and the canary's arm */
    for (size_t i = 0; i < cfg_check_count(c); i++) {
        const struct check_metrics *m = &cfg_check(c, i)->metrics;
        assert_true(m->phases && m->histogram && m->status_code);
    }
    cfg_free(c);
}

/* Global keys set the default of every check, the canary's arm and flows
 * included; each key of a check's own map overrides that key only. */
static void test_override(void **state)
{
    (void)state;
    struct cfg *c = load_ok("global:\n"
                            "  metrics: {phases: false, histogram: false}\n"
                            "checks:\n"
                            "  - {name: a, url: 'http://127.0.0.1:1/a'}\n"
                            "  - name: b\n"
                            "    url: 'http://127.0.0.1:1/b'\n"
                            "    metrics: {histogram: true}\n"
                            "  - name: d\n"
                            "    url: 'http://127.0.0.1:1/d'\n"
                            "    metrics: {status_code: false, phases: true}\n"
                            "  - name: e\n"
                            "    url: 'http://127.0.0.1:1/e'\n"
                            "    metrics: {}\n" FLOW CANARY_AND_FLOW);
    want(c, "a", false, false, true);
    want(c, "b", false, true, true);
    want(c, "d", true, false, false);
    want(c, "e", false, false, true);
    want(c, "f", false, false, true);
    bool arm_seen = false;
    for (size_t i = 0; i < cfg_check_count(c); i++) {
        const struct check_spec *cs = cfg_check(c, i);
        if (!cfg_check_is_canary_arm(cs))
            continue;
        arm_seen = true;
        assert_false(cs->metrics.phases);
        assert_false(cs->metrics.histogram);
        assert_true(cs->metrics.status_code);
    }
    assert_true(arm_seen);
    cfg_free(c);

    /* A check turns on what global turned off; global: null is the defaults. */
    c = load_ok("global:\n"
                "  metrics: {status_code: false}\n"
                "checks:\n"
                "  - name: a\n"
                "    url: 'http://127.0.0.1:1/a'\n"
                "    metrics: {status_code: true, phases: false}\n"
                "  - {name: b, url: 'http://127.0.0.1:1/b'}\n");
    want(c, "a", false, true, true);
    want(c, "b", true, true, false);
    cfg_free(c);
}

static void test_errors(void **state)
{
    (void)state;
    static const struct {
        const char *yaml, *want;
    } cases[] = {
        {"global:\n  metrics: {phase: false}\nchecks: []\n",
         "test.yml:2:13: global.metrics: unknown key \"phase\" (did you mean \"phases\"?)\n"},
        {"global:\n  metrics: {histogram: no}\nchecks: []\n",
         "test.yml:2:24: global.metrics.histogram: expected true or false, got \"no\"\n"},
        {"global:\n  metrics: false\nchecks: []\n",
         "test.yml:2:12: global.metrics: expected a mapping, got a scalar\n"},
        {"checks:\n"
         "  - name: a\n"
         "    url: 'http://127.0.0.1:1/a'\n"
         "    metrics:\n"
         "      status_code: 0\n"
         "      bogus: true\n",
         "test.yml:5:20: checks[0] \"a\".metrics.status_code: expected true or false, got \"0\"\n"
         "test.yml:6:7: checks[0] \"a\".metrics: unknown key \"bogus\"\n"},
        {"checks:\n"
         "  - name: a\n"
         "    url: 'http://127.0.0.1:1/a'\n"
         "    metrics: [phases]\n",
         "test.yml:4:14: checks[0] \"a\".metrics: expected a mapping, got a list\n"},
        {"checks:\n"
         "  - name: a\n"
         "    url: 'http://127.0.0.1:1/a'\n"
         "    metrics: {phases: [true]}\n",
         "test.yml:4:23: checks[0] \"a\".metrics.phases: expected a single value, got a list\n"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char *got = errors_of(cases[i].yaml);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("case %zu:\n got: %s\nwant: %s", i, got, cases[i].want);
        free(got);
    }
}

/* ---- rendering ---- */

/* Series (sample lines) of check `name` in text. */
static size_t series_of(const char *text, const char *name)
{
    char needle[64];
    snprintf(needle, sizeof(needle), "check=\"%s\"", name);
    size_t n = 0;
    for (const char *line = text; *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (line[0] != '#') {
            const char *hit = strstr(line, needle);
            if (hit && hit < line + len)
                n++;
        }
        line += len + (end ? 1 : 0);
    }
    return n;
}

/* Whether text has a sample line that starts with prefix. */
static bool has_line(const char *text, const char *prefix)
{
    size_t n = strlen(prefix);
    for (const char *line = text; line; line = strchr(line, '\n')) {
        if (*line == '\n')
            line++;
        if (strncmp(line, prefix, n) == 0)
            return true;
    }
    return false;
}

static char *render(const struct gen *g)
{
    static const double lag_bounds[] = {0.001, 0.01};
    struct rec *lag = rec_new(lag_bounds, 2);
    struct metrics_agent a = {.reload_ok = true, .lag = lag, .now_ms = T0_MS};
    struct buf b;
    buf_init(&b, 1u << 22);
    struct expo e;
    expo_init(&e, &b, EXPO_TEXT);
    metrics_render(&e, g, &a);
    expo_finish(&e);
    rec_unref(lag);
    return buf_take(&b);
}

static void record(const struct gen *g, const char *name, enum check_reason reason, int status)
{
    long i = cfg_find_check(gen_cfg(g), name);
    assert_true(i >= 0);
    struct check_result r;
    memset(&r, 0, sizeof(r));
    r.success = reason == CHECK_REASON_NONE;
    r.reason = reason;
    r.duration = 0.02;
    r.status = status;
    r.type = gen_check_type(g, (size_t)i);
    for (size_t k = 0; k < CHECK_GAUGE_MAX; k++)
        r.gauges[k] = NAN;
    rec_record(gen_rec(g, (size_t)i), &r, (double)T0_MS / 1000.0);
}

#define LEAN "metrics: {phases: false, histogram: false"
#define PROFILES                                                                                   \
    "checks:\n"                                                                                    \
    "  - {name: def, url: 'http://127.0.0.1:1/'}\n"                                                \
    "  - {name: nophases, url: 'http://127.0.0.1:1/', metrics: {phases: false}}\n"                 \
    "  - {name: nohist, url: 'http://127.0.0.1:1/', metrics: {histogram: false}}\n"                \
    "  - {name: lean, url: 'http://127.0.0.1:1/', " LEAN "}}\n"                                    \
    "  - {name: leaner, url: 'http://127.0.0.1:1/', " LEAN ", status_code: false}}\n"              \
    "  - {name: leanfail, url: 'http://127.0.0.1:1/', " LEAN "}}\n"                                \
    "  - {name: deffail, url: 'http://127.0.0.1:1/'}\n"                                            \
    "  - {name: leanretry, url: 'http://127.0.0.1:1/', retry: {attempts: 1}, " LEAN "}}\n"         \
    "  - {name: tcp, type: tcp, target: '127.0.0.1:1'}\n"                                          \
    "  - {name: leantcp, type: tcp, target: '127.0.0.1:1', " LEAN "}}\n"

/* The series of one check per profile (the figures docs/metrics.md
 * tabulates): healthy, failing with one reason, and before the first run. */
static void test_render_counts(void **state)
{
    (void)state;
    struct clock *clk = clock_fake_new(1000000000, T0_MS);
    struct gen *g = gen_new(load_ok(PROFILES), NULL, NULL, clk);
    static const struct {
        const char *name;
        size_t before, after; /* series before the first run, and after it */
    } want_counts[] = {
        /* info, runs, 10 reasons, 14 histogram, retries, 2 thresholds; then
         * up, consecutive failures, last success, 5 phases, status code. */
        {"def", 29, 38},      /* everything */
        {"nophases", 18, 22}, /* no phases, no reasons at 0, no retries */
        {"nohist", 4, 13},    /* no histogram, the same */
        {"lean", 4, 8},       /* neither */
        {"leaner", 4, 7},     /* and no status code */
        {"leanfail", 4, 9},   /* + the one reason it failed with */
        {"deffail", 29, 38},  /* every reason at 0 but one */
        {"leanretry", 5, 9},  /* retries configured: the counter stays */
        {"tcp", 25, 33},      /* 6 reasons, no status code */
        {"leantcp", 4, 7},    /* the same lean */
    };
    char *text = render(g);
    for (size_t i = 0; i < ARRAY_SIZE(want_counts); i++)
        if (series_of(text, want_counts[i].name) != want_counts[i].before)
            fail_msg("%s before: %zu series, want %zu", want_counts[i].name,
                     series_of(text, want_counts[i].name), want_counts[i].before);
    free(text);

    const char *ok[] = {"def", "nophases", "nohist", "lean", "leaner", "leanretry"};
    for (size_t i = 0; i < ARRAY_SIZE(ok); i++)
        record(g, ok[i], CHECK_REASON_NONE, 200);
    record(g, "leanfail", CHECK_REASON_HTTP_STATUS, 503);
    record(g, "deffail", CHECK_REASON_HTTP_STATUS, 503);
    record(g, "tcp", CHECK_REASON_NONE, 0);
    record(g, "leantcp", CHECK_REASON_NONE, 0);
    text = render(g);
    for (size_t i = 0; i < ARRAY_SIZE(want_counts); i++)
        if (series_of(text, want_counts[i].name) != want_counts[i].after)
            fail_msg("%s after: %zu series, want %zu\n%s", want_counts[i].name,
                     series_of(text, want_counts[i].name), want_counts[i].after, text);

    /* Which ones: the failing lean check's reason, at its value. */
    assert_true(has_line(text, "outpost_check_failures_total{check=\"leanfail\",reason="
                               "\"http_status\"} 1\n"));
    assert_false(has_line(text, "outpost_check_failures_total{check=\"leanfail\",reason="
                                "\"timeout\"}"));
    assert_true(has_line(text, "outpost_check_http_status_code{check=\"leanfail\"} 503\n"));
    assert_false(has_line(text, "outpost_check_http_status_code{check=\"leaner\"}"));
    assert_true(has_line(text, "outpost_check_retries_total{check=\"leanretry\"} 0\n"));
    assert_false(has_line(text, "outpost_check_retries_total{check=\"lean\"}"));
    assert_false(has_line(text, "outpost_check_duration_seconds_count{check=\"lean\"}"));
    assert_true(has_line(text, "outpost_check_duration_seconds_count{check=\"nophases\"} 1\n"));
    assert_false(has_line(text, "outpost_check_phase_duration_seconds{check=\"nophases\""));
    assert_true(has_line(text, "outpost_check_phase_duration_seconds{check=\"nohist\","
                               "phase=\"connect\"} 0\n"));
    /* A default check keeps every reason at 0. */
    assert_true(has_line(text, "outpost_check_failures_total{check=\"deffail\",reason="
                               "\"timeout\"} 0\n"));
    /* The families stay declared even when no check has a series in them. */
    assert_non_null(strstr(text, "# TYPE outpost_check_duration_seconds histogram\n"));
    free(text);

    gen_unref(g);
    clock_fake_free(clk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_override),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_render_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
