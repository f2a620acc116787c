/*
 * test_cfg_maint.c - the `maintenance:` section (cfg_maint.c): RFC 3339
 * times, what a valid window loads to (defaults included), and every
 * error with its file:line:col, key path and exact message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "buf.h"
#include "config.h"
#include "cron.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_rfc3339(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int64_t ms; /* INT64_MIN: refused */
    } cases[] = {
        {"2026-12-06T02:00:00Z", 1796522400000LL},
        {"2026-12-06t02:00:00z", 1796522400000LL},
        {"2026-12-06T03:00:00+01:00", 1796522400000LL},
        {"2026-12-05T21:30:00-04:30", 1796522400000LL},
        {"2026-12-06T02:00:00.5Z", 1796522400500LL},
        {"2026-12-06T02:00:00.123456789Z", 1796522400123LL},
        {"1970-01-01T00:00:00Z", 0},
        {"1969-12-31T23:59:59Z", -1000},
        {"2028-02-29T00:00:00Z", 1835395200000LL}, /* a leap day */
        {"2026-02-29T00:00:00Z", INT64_MIN},       /* not a leap year */
        {"2100-02-29T00:00:00Z", INT64_MIN},
        {"2026-04-31T00:00:00Z", INT64_MIN},
        {"2026-13-01T00:00:00Z", INT64_MIN},
        {"2026-12-06T24:00:00Z", INT64_MIN},
        {"2026-12-06T23:60:00Z", INT64_MIN},
        {"2026-12-06T23:59:60Z", INT64_MIN}, /* leap seconds are not kept */
        {"2026-12-06T02:00:00", INT64_MIN},  /* no offset */
        {"2026-12-06 02:00:00Z", INT64_MIN},
        {"2026-12-06T02:00:00.Z", INT64_MIN},
        {"2026-12-06T02:00:00+0100", INT64_MIN},
        {"2026-12-06T02:00:00+24:00", INT64_MIN},
        {"2026-12-06T02:00:00Zjunk", INT64_MIN},
        {"2026-12-6T02:00:00Z", INT64_MIN},
        {"", INT64_MIN},
        {"tomorrow", INT64_MIN},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t ms = 0;
        enum op_rc rc = cfg_parse_rfc3339(cases[i].s, &ms);
        if (cases[i].ms == INT64_MIN ? rc == OP_OK : rc != OP_OK || ms != cases[i].ms)
            fail_msg("\"%s\": rc %d, %lld ms", cases[i].s, rc, (long long)ms);
    }
}

#define BASE                                                                                       \
    "checks:\n"                                                                                    \
    "  - {name: a, url: 'http://127.0.0.1:1/a'}\n"                                                 \
    "  - {name: b, url: 'http://127.0.0.1:1/b'}\n"                                                 \
    "slos:\n"                                                                                      \
    "  - {name: s, objective: 99, sli: {checks: [a, b]}}\n"

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

static void test_valid(void **state)
{
    (void)state;
    struct cfg *c =
        load_ok(BASE "alerting: {alertmanagers: ['http://127.0.0.1:9093']}\n"
                     "maintenance:\n"
                     "  - name: db-upgrade\n"
                     "    schedule: {start: '2026-12-06T03:00:00+01:00', duration: 2h}\n"
                     "  - name: patch\n"
                     "    schedule: {start: '2026-12-07T00:00:00Z', duration: 31d}\n"
                     "    checks: [b]\n"
                     "    exclude_from_slos: false\n"
                     "    alertmanager_silence: true\n"
                     "  - name: slo-only\n"
                     "    schedule: {start: '2026-12-07T00:00:00Z', duration: 1s}\n"
                     "    slos: [s]\n");
    assert_int_equal(cfg_maint_count(c), 3);
    const struct maint_spec *w = cfg_maint(c, 0);
    assert_string_equal(w->name, "db-upgrade");
    assert_int_equal(w->sched.start_ms, 1796522400000LL);
    assert_int_equal(w->sched.duration_ms, 7200000);
    assert_null(w->sched.cron);
    assert_null(w->cron_expr);
    assert_int_equal(w->n_checks + w->n_slos, 0);
    assert_true(w->exclude_from_slos);
    assert_false(w->alertmanager_silence);
    assert_int_equal(w->line, 8);
    assert_int_equal(w->column, 5);
    w = cfg_maint(c, 1);
    assert_int_equal(w->sched.duration_ms, 31LL * 86400000);
    assert_int_equal(w->n_checks, 1);
    assert_string_equal(w->checks[0], "b");
    assert_int_equal(w->check_idx[0], 1);
    assert_false(w->exclude_from_slos);
    assert_true(w->alertmanager_silence);
    w = cfg_maint(c, 2);
    assert_int_equal(w->n_slos, 1);
    assert_int_equal(w->slo_idx[0], 0);
    assert_int_equal(cfg_find_maint(c, "patch"), 1);
    cfg_free(c);
    c = load_ok(BASE "maintenance:\n"
                     "  - name: weekly\n"
                     "    schedule: {cron: '0 3 * * SUN', duration: 30m, timezone: "
                     "Europe/Madrid}\n"
                     "  - name: utc\n"
                     "    schedule: {cron: '@daily', duration: 1h}\n");
    w = cfg_maint(c, 0);
    assert_non_null(w->sched.cron);
    assert_non_null(w->sched.tz);
    assert_string_equal(w->cron_expr, "0 3 * * SUN");
    assert_string_equal(w->timezone, "Europe/Madrid");
    assert_int_equal(w->sched.duration_ms, 1800000);
    /* 03:00 in Madrid on Sunday 2026-12-06 is 02:00Z. */
    assert_int_equal(cron_next(w->sched.cron, w->sched.tz, 1796515200), 1796522400);
    w = cfg_maint(c, 1);
    assert_non_null(w->sched.cron);
    assert_null(w->sched.tz);
    assert_null(w->timezone);
    assert_int_equal(cfg_find_maint(c, "nope"), -1);
    cfg_free(c);
    /* No section: no windows. */
    c = load_ok(BASE);
    assert_int_equal(cfg_maint_count(c), 0);
    assert_int_equal(cfg_find_maint(c, "x"), -1);
    cfg_free(c);
}

/* ---- errors ---- */

#define ONE_OFF "    schedule: {start: '2026-12-06T02:00:00Z', duration: 2h}\n"

static const struct {
    const char *what, *yaml, *errors;
} err_cases[] = {
    {"no schedule", BASE "maintenance:\n  - name: w\n",
     "test.yml:7:5: maintenance[0] \"w\": missing key \"schedule\"\n"},
    {"no name", BASE "maintenance:\n  - schedule: {start: '2026-12-06T02:00:00Z', duration: 2h}\n",
     "test.yml:7:5: maintenance[0]: missing key \"name\"\n"},
    {"name with a control character", BASE "maintenance:\n  - name: \"a\\tb\"\n" ONE_OFF,
     "test.yml:7:5: maintenance[0] \"a\\x09b\": name must be 1 to 128 bytes without control "
     "characters\n"},
    {"names twice", BASE "maintenance:\n  - name: w\n" ONE_OFF "  - name: w\n" ONE_OFF,
     "test.yml:9:5: maintenance[1] \"w\": duplicate maintenance window name (first used by "
     "maintenance[0] at line 7)\n"},
    {"neither start nor cron", BASE "maintenance:\n  - name: w\n    schedule: {duration: 2h}\n",
     "test.yml:8:15: maintenance[0] \"w\".schedule: needs start (one window, an RFC 3339 time) or "
     "cron "
     "(recurring windows)\n"},
    {"start and cron",
     BASE "maintenance:\n  - name: w\n"
          "    schedule: {start: '2026-12-06T02:00:00Z', cron: '0 3 * * *', duration: 2h}\n",
     "test.yml:8:15: maintenance[0] \"w\".schedule: use either start (one window) or cron "
     "(recurring), "
     "not both\n"},
    {"no duration",
     BASE "maintenance:\n  - name: w\n    schedule: {start: '2026-12-06T02:00:00Z'}\n",
     "test.yml:8:15: maintenance[0] \"w\".schedule: missing key \"duration\"\n"},
    {"duration 0",
     BASE "maintenance:\n  - name: w\n"
          "    schedule: {start: '2026-12-06T02:00:00Z', duration: 0s}\n",
     "test.yml:8:57: maintenance[0] \"w\".schedule.duration: duration must be greater than 0\n"},
    {"duration over 31d",
     BASE "maintenance:\n  - name: w\n"
          "    schedule: {start: '2026-12-06T02:00:00Z', duration: 31d1ms}\n",
     "test.yml:8:57: maintenance[0] \"w\".schedule.duration: a window lasts at most 31d\n"},
    {"not a duration",
     BASE "maintenance:\n  - name: w\n"
          "    schedule: {start: '2026-12-06T02:00:00Z', duration: soon}\n",
     "test.yml:8:57: maintenance[0] \"w\".schedule.duration: \"soon\" is not a duration (use e.g. "
     "250ms, 10s, 5m, 1h, 1d)\n"},
    {"bad start",
     BASE "maintenance:\n  - name: w\n"
          "    schedule: {start: '2026-02-30T02:00:00Z', duration: 2h}\n",
     "test.yml:8:23: maintenance[0] \"w\".schedule.start: \"2026-02-30T02:00:00Z\" is not an RFC "
     "3339 "
     "time (e.g. 2026-12-06T02:00:00Z or 2026-12-06T03:00:00+01:00)\n"},
    {"timezone with start",
     BASE "maintenance:\n  - name: w\n"
          "    schedule: {start: '2026-12-06T02:00:00Z', duration: 2h, timezone: UTC}\n",
     "test.yml:8:71: maintenance[0] \"w\".schedule.timezone: timezone applies to cron; an RFC 3339 "
     "start carries its own offset\n"},
    {"unknown schedule key",
     BASE "maintenance:\n  - name: w\n"
          "    schedule: {start: '2026-12-06T02:00:00Z', duration: 2h, durations: 1h}\n",
     "test.yml:8:61: maintenance[0] \"w\".schedule: unknown key \"durations\" (did you mean "
     "\"duration\"?)\n"},
    {"unknown key", BASE "maintenance:\n  - name: w\n" ONE_OFF "    check: [a]\n",
     "test.yml:9:5: maintenance[0] \"w\": unknown key \"check\" (did you mean \"checks\"?)\n"},
    {"checks and slos",
     BASE "maintenance:\n  - name: w\n" ONE_OFF "    checks: [a]\n    slos: [s]\n",
     "test.yml:7:5: maintenance[0] \"w\": use either checks or slos, not both (leave out both to "
     "cover everything)\n"},
    {"unknown check", BASE "maintenance:\n  - name: w\n" ONE_OFF "    checks: [a, nope]\n",
     "test.yml:9:17: maintenance[0] \"w\".checks[1]: no check named \"nope\"\n"},
    {"unknown SLO", BASE "maintenance:\n  - name: w\n" ONE_OFF "    slos: [nope]\n",
     "test.yml:9:12: maintenance[0] \"w\".slos[0]: no SLO named \"nope\"\n"},
    {"a check twice", BASE "maintenance:\n  - name: w\n" ONE_OFF "    checks: [a, a]\n",
     "test.yml:9:17: maintenance[0] \"w\".checks[1]: \"a\" listed twice\n"},
    {"empty list", BASE "maintenance:\n  - name: w\n" ONE_OFF "    slos: []\n",
     "test.yml:9:11: maintenance[0] \"w\".slos: an empty list covers nothing (leave out checks and "
     "slos to cover everything)\n"},
    {"checks not a list", BASE "maintenance:\n  - name: w\n" ONE_OFF "    checks: a\n",
     "test.yml:9:13: maintenance[0] \"w\".checks: expected a list, got a scalar\n"},
    {"a silence without Alertmanagers",
     BASE "maintenance:\n  - name: w\n" ONE_OFF "    alertmanager_silence: true\n",
     "test.yml:9:27: maintenance[0] \"w\".alertmanager_silence: needs alerting.alertmanagers to "
     "create "
     "the silence in\n"},
    {"exclude_from_slos not a bool",
     BASE "maintenance:\n  - name: w\n" ONE_OFF "    exclude_from_slos: maybe\n",
     "test.yml:9:24: maintenance[0] \"w\".exclude_from_slos: expected true or false, got "
     "\"maybe\"\n"},
    {"bad cron",
     BASE "maintenance:\n  - name: w\n    schedule: {cron: '0 3 * * FUNDAY', duration: 30m}\n",
     "test.yml:8:22: maintenance[0] \"w\".schedule.cron: day-of-week: \"FUNDAY\" is not 0-7 or "
     "SUN-SAT\n"},
    {"cron of four fields",
     BASE "maintenance:\n  - name: w\n    schedule: {cron: '0 3 * *', duration: 30m}\n",
     "test.yml:8:22: maintenance[0] \"w\".schedule.cron: cron expression: \"0 3 * *\" has 4 "
     "fields, "
     "not 5 (minute hour day-of-month month day-of-week)\n"},
    {"unknown time zone",
     BASE "maintenance:\n  - name: w\n"
          "    schedule: {cron: '0 3 * * SUN', duration: 30m, timezone: Mars/Olympus}\n",
     "test.yml:8:62: maintenance[0] \"w\".schedule.timezone: unknown time zone \"Mars/Olympus\" "
     "(no "
     "file /usr/share/zoneinfo/Mars/Olympus)\n"},
    {"time zone outside the zone directory",
     BASE "maintenance:\n  - name: w\n"
          "    schedule: {cron: '0 3 * * SUN', duration: 30m, timezone: ../etc/passwd}\n",
     "test.yml:8:62: maintenance[0] \"w\".schedule.timezone: time zone \"../etc/passwd\" holds "
     "\"..\"\n"},
    {"section not a list", BASE "maintenance: {}\n",
     "test.yml:6:14: maintenance: expected a list, got a mapping\n"},
};

static void test_errors(void **state)
{
    (void)state;
    int bad = 0;
    for (size_t i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
        struct buf err;
        buf_init(&err, 1u << 16);
        struct cfg *c = NULL;
        enum op_rc rc =
            cfg_load_string(err_cases[i].yaml, strlen(err_cases[i].yaml), "test.yml", &c, &err);
        if (rc != OP_ERR_INVALID || strcmp(buf_str(&err), err_cases[i].errors) != 0) {
            print_error("%s: rc %d, got:\n%swant:\n%s", err_cases[i].what, rc, buf_str(&err),
                        err_cases[i].errors);
            bad++;
        }
        cfg_free(c);
        buf_free(&err);
    }
    assert_int_equal(bad, 0);
}

int main(void)
{
    /* Zone messages name the directory they were looked for in. */
    setenv("TZDIR", "/usr/share/zoneinfo", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc3339),
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
