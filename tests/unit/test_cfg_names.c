/*
 * test_cfg_names.c - how configuration errors call things: a named entry
 * by index and name (checks[1] "orders-api"), nested entries included; an
 * entry without a usable name by its index; names escaped and shortened;
 * paths that never outgrow CFG_PATH_CAP; durations echoed as written and
 * our own values in Prometheus' form (cfg_format_duration). Every message
 * is compared whole.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "buf.h"
#include "cfg_yaml.h"
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The whole error text of a config that must not load. Caller frees. */
static char *errors_of(const char *yaml)
{
    struct buf err;
    buf_init(&err, 1u << 20);
    struct cfg *c = NULL;
    assert_int_equal(cfg_load_string(yaml, strlen(yaml), "n.yml", &c, &err), OP_ERR_INVALID);
    assert_null(c);
    return buf_take(&err);
}

static void expect_errors(const char *yaml, const char *want)
{
    char *got = errors_of(yaml);
    if (strcmp(got, want) != 0)
        fail_msg("got:\n%swant:\n%s", got, want);
    free(got);
}

/* ---- cfg_format_duration ---- */

static void test_format_duration(void **state)
{
    (void)state;
    static const struct {
        int64_t ms;
        const char *text;
    } cases[] = {
        {0, "0s"},
        {1, "1ms"},
        {250, "250ms"},
        {1000, "1s"},
        {1500, "1s500ms"},
        {60000, "1m"},
        {90000, "1m30s"},
        {5400000, "1h30m"},
        {86400000, "1d"},
        {172800000, "2d"},
        {604800000, "1w"},
        {1209600000, "2w"},
        /* Weeks and years only when they divide the value, as in
         * Prometheus: 90d, not 12w6d; 8d, not 1w1d. */
        {7776000000, "90d"},
        {691200000, "8d"},
        {31536000000, "1y"},
        {63072000000, "2y"},
        {94608000000, "3y"},
        {31622400000, "366d"},
        {31536000001, "365d1ms"},
        {1209600000 + 3600000, "14d1h"},
        {INT64_MAX, "106751991167d7h12m55s807ms"},
        /* Never from a parsed duration, but still readable. */
        {-1500, "-1s500ms"},
        {INT64_MIN, "-106751991167d7h12m55s808ms"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[CFG_DURATION_TEXT];
        const char *got = cfg_format_duration(cases[i].ms, out, sizeof(out));
        assert_ptr_equal(got, out);
        if (strcmp(got, cases[i].text) != 0)
            fail_msg("%lld ms: got %s, want %s", (long long)cases[i].ms, got, cases[i].text);
        /* What it prints reads back as the same value. */
        int64_t back = -1;
        if (cases[i].ms >= 0 && (cfg_parse_duration(got, &back) != OP_OK || back != cases[i].ms))
            fail_msg("%s reads back as %lld", got, (long long)back);
    }
    /* A short buffer holds a cut, terminated text. */
    char small[4];
    assert_string_equal(cfg_format_duration(5400000, small, sizeof(small)), "1h3");
}

/* ---- names in paths ---- */

#define FLOW                                                                                       \
    "checks:\n"                                                                                    \
    "  - name: login-flow\n"                                                                       \
    "    type: flow\n"                                                                             \
    "    steps:\n"                                                                                 \
    "      - name: login\n"                                                                        \
    "        url: http://h/\n"                                                                     \
    "      - name: get-token\n"                                                                    \
    "        url: http://h/\n"

static void test_named_entries(void **state)
{
    (void)state;
    /* A nested entry: the check and the step, each by index and name. */
    expect_errors(FLOW "        expect: {stauts: 200}\n",
                  "n.yml:9:18: checks[0] \"login-flow\".steps[1] \"get-token\".expect: unknown key "
                  "\"stauts\" (did you mean \"status\"?)\n");
    /* The second check; the first has no name to give. */
    expect_errors("checks:\n"
                  "  - url: http://h/\n"
                  "  - name: orders-api\n"
                  "    url: http://h/\n"
                  "    tls: {ca: x}\n",
                  "n.yml:2:5: checks[0]: missing key \"name\"\n"
                  "n.yml:5:11: checks[1] \"orders-api\".tls: unknown key \"ca\"\n");
    /* A name that is not a scalar, or empty, is no name. */
    expect_errors("checks:\n  - name: [a]\n    url: http://h/\n",
                  "n.yml:2:11: checks[0].name: expected a single value, got a list\n"
                  "n.yml:2:5: checks[0]: missing key \"name\"\n");
    expect_errors("checks:\n  - name: ''\n    url: http://h/\n",
                  "n.yml:2:5: checks[0]: name must be 1 to 128 bytes without control characters\n");
    /* Quotes and backslashes are escaped, so the name reads back as one. */
    expect_errors("checks:\n  - name: 'say \"hi\" \\ bye'\n    url: http://h/\n    bogus: 1\n",
                  "n.yml:4:5: checks[0] \"say \\\"hi\\\" \\\\ bye\": unknown key \"bogus\"\n");
    /* Control bytes (never in a valid name) show as \xHH on the one line. */
    expect_errors("checks:\n  - name: \"a\\nb\\x7f\"\n    url: http://h/\n",
                  "n.yml:2:5: checks[0] \"a\\x0ab\\x7f\": name must be 1 to 128 bytes without "
                  "control characters\n");
    /* SLOs, canaries and maintenance windows too. */
    expect_errors("checks: [{name: a, url: 'http://h/'}]\n"
                  "slos:\n"
                  "  - {name: avail, objective: 99.9, sli: {checks: [a, b]}}\n",
                  "n.yml:3:54: slos[0] \"avail\".sli.checks[1]: no check named \"b\"\n");
    expect_errors("checks: [{name: a, url: 'http://h/'}]\n"
                  "canaries:\n"
                  "  - {name: release, baseline_check: a, canary_check: nope}\n",
                  "n.yml:3:54: canaries[0] \"release\".canary: no check named \"nope\"\n");
    expect_errors("checks: [{name: a, url: 'http://h/'}]\n"
                  "maintenance:\n"
                  "  - name: upgrade\n"
                  "    schedule: {start: '2026-12-06T02:00:00Z', duration: 2h}\n"
                  "    checks: [b]\n",
                  "n.yml:5:14: maintenance[0] \"upgrade\".checks[0]: no check named \"b\"\n");
}

/* A name at the 128-byte cap is shortened to 64 bytes and "..." in the
 * path, at a character boundary; the rest of the path follows it. */
static void test_long_names(void **state)
{
    (void)state;
    char name[129], yaml[512], want[512];
    memset(name, 'b', 128);
    name[128] = '\0';
    snprintf(yaml, sizeof(yaml), "checks:\n  - name: %s\n    url: http://h/\n    tls: {ca: x}\n",
             name);
    snprintf(want, sizeof(want), "n.yml:4:11: checks[0] \"%.64s...\".tls: unknown key \"ca\"\n",
             name);
    expect_errors(yaml, want);
    /* 63 bytes, then a 2-byte character across the 64-byte mark. */
    snprintf(yaml, sizeof(yaml),
             "checks:\n  - name: %.63s\xc3\xa9z\n    url: http://h/\n    tls: {ca: x}\n", name);
    snprintf(want, sizeof(want), "n.yml:4:11: checks[0] \"%.63s...\".tls: unknown key \"ca\"\n",
             name);
    expect_errors(yaml, want);
}

/* Two levels of names made of control bytes (each escaped to 4 bytes)
 * outgrow CFG_PATH_CAP: the inner name is shortened at a whole escape and
 * marked "...", the path stays under the cap, the message is whole. */
static void test_path_cap(void **state)
{
    (void)state;
    struct buf y;
    buf_init(&y, 1u << 16);
    buf_addf(&y, "checks:\n  - name: \"");
    for (int i = 0; i < 64; i++)
        buf_addf(&y, "\\x01");
    buf_addf(&y, "\"\n    type: flow\n    steps:\n      - name: \"");
    for (int i = 0; i < 64; i++)
        buf_addf(&y, "\\x02");
    buf_addf(&y, "\"\n        url: http://h/\n");
    char *got = errors_of(buf_str(&y));
    buf_free(&y);
    /* The step's name is refused first (at its value), then the check's. */
    struct buf w;
    buf_init(&w, 1u << 16);
    buf_addf(&w, "n.yml:5:15: checks[0] \"");
    for (int i = 0; i < 64; i++)
        buf_addf(&w, "\\x01");
    buf_addf(&w, "\".steps[0] \"");
    /* Of the 512 bytes: 274 for checks[0] "..." and .steps, 6 for
     * [0] "", the NUL, and 32 kept for the keys after the name leave 199
     * for the name: 49 escapes and "...". */
    for (int i = 0; i < 49; i++)
        buf_addf(&w, "\\x02");
    buf_addf(&w, "...\".name: name must be 1 to 128 bytes without control characters\n");
    buf_addf(&w, "n.yml:2:5: checks[0] \"");
    for (int i = 0; i < 64; i++)
        buf_addf(&w, "\\x01");
    buf_addf(&w, "\": name must be 1 to 128 bytes without control characters\n");
    assert_string_equal(got, buf_str(&w));
    buf_free(&w);
    free(got);

    /* A long key after the names: the path is cut at a character boundary
     * (here between two 2-byte characters) and ends in "...". */
    buf_init(&y, 1u << 16);
    buf_addf(&y, "checks:\n  - name: \"");
    for (int i = 0; i < 64; i++)
        buf_addf(&y, "\\x01");
    buf_addf(&y, "\"\n    url: http://h/\n    headers: {");
    for (int i = 0; i < 200; i++)
        buf_addf(&y, "\xc3\xa9");
    buf_addf(&y, ": v}\n");
    got = errors_of(buf_str(&y));
    buf_free(&y);
    const char *key = strstr(got, "\".headers.");
    assert_non_null(key);
    const char *end = strstr(key, "...: \"");
    assert_non_null(end);
    key += strlen("\".headers.");
    assert_int_equal((end - key) % 2, 0);
    for (const char *c = key; c < end; c += 2)
        assert_memory_equal(c, "\xc3\xa9", 2);
    const char *path = strstr(got, ": ") + 2;
    /* The cut at CFG_PATH_CAP - 4 falls inside a character: one byte
     * less, then "...". */
    assert_int_equal(end + 3 - path, CFG_PATH_CAP - 2);
    free(got);
}

/* ---- durations in messages ---- */

static void test_durations_as_written(void **state)
{
    (void)state;
    expect_errors("checks:\n"
                  "  - name: orders-api\n"
                  "    url: http://h/\n"
                  "    interval: 2y\n"
                  "    timeout: 3y\n",
                  "n.yml:5:14: checks[0] \"orders-api\": timeout (3y) must not be longer than "
                  "interval (2y)\n");
    /* 90m stays 90m (Prometheus would print 1h30m); the interval comes
     * from global:, as written there. */
    expect_errors("global: {interval: 60m}\n"
                  "checks:\n"
                  "  - name: a\n"
                  "    url: http://h/\n"
                  "    timeout: 90m\n",
                  "n.yml:5:14: checks[0] \"a\": timeout (90m) must not be longer than interval "
                  "(60m)\n");
    expect_errors("global: {timeout: 90m, interval: 2h}\n"
                  "checks:\n"
                  "  - name: a\n"
                  "    url: http://h/\n"
                  "    interval: 3600s\n",
                  "n.yml:3:5: checks[0] \"a\": global timeout (90m) is longer than this check's "
                  "interval (3600s)\n");
    expect_errors("global: {interval: 10s, timeout: 90s}\nchecks: []\n",
                  "n.yml:1:9: global: timeout (90s) must not be longer than interval (10s)\n");
    /* The default interval (15000 ms) is ours: Prometheus' form. */
    expect_errors("checks:\n  - name: a\n    url: http://h/\n    timeout: 16000ms\n",
                  "n.yml:4:14: checks[0] \"a\": timeout (16000ms) must not be longer than "
                  "interval (15s)\n");
    /* Retries: timeout and delay as written, in the check or in global:. */
    expect_errors("global: {retry: {delay: 1500ms}}\n"
                  "checks:\n"
                  "  - name: a\n"
                  "    url: http://h/\n"
                  "    interval: 5s\n"
                  "    timeout: 2000ms\n"
                  "    retry: {attempts: 2}\n",
                  "n.yml:3:5: checks[0] \"a\": retry: 3 attempts of up to 2000ms plus 1500ms "
                  "between them do not fit in the interval (5s)\n");
    /* A bound is ours. */
    expect_errors("checks:\n  - name: a\n    url: http://h/\n    interval: 50ms\n",
                  "n.yml:4:15: checks[0] \"a\": interval must be at least 100ms\n");
    expect_errors("checks: []\nalerting: {resend_interval: 500ms}\n",
                  "n.yml:2:29: alerting.resend_interval: resend_interval must be at least 1s\n");
    /* An SLO's policy window against its period. */
    expect_errors("checks: [{name: a, url: 'http://h/'}]\n"
                  "slos:\n"
                  "  - name: s\n"
                  "    objective: 99\n"
                  "    period: 7d\n"
                  "    policy: {freeze_when_consumed: 0.5, over: 240h}\n"
                  "    sli: {checks: [a]}\n",
                  "n.yml:3:5: slos[0] \"s\": policy.over (240h) is longer than the period (7d)\n");
    /* A canary's window against its interval (the default, 1s, is ours). */
    expect_errors("checks: [{name: a, url: 'http://h/'}]\n"
                  "canaries:\n"
                  "  - {name: k, baseline_check: a, canary_check: a, window: 500ms}\n",
                  "n.yml:3:5: canaries[0] \"k\": window (500ms) must not be shorter than interval "
                  "(1s)\n");
    /* A flow step's timeout against the flow's. */
    expect_errors(FLOW "        timeout: 90s\n",
                  "n.yml:9:18: checks[0] \"login-flow\".steps[1] \"get-token\": a step's timeout "
                  "(90s) must not be longer than the flow's (5s)\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_duration),      cmocka_unit_test(test_named_entries),
        cmocka_unit_test(test_long_names),           cmocka_unit_test(test_path_cap),
        cmocka_unit_test(test_durations_as_written),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
