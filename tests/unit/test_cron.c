/*
 * test_cron.c - cron expressions (cron.c): parsing, errors, and the next
 * start in UTC and in zones with daylight saving time.
 *
 * Expected starts were computed once by a brute-force reference (a separate
 * Python program stepping through UTC minutes with zoneinfo, same tzdata)
 * and pinned here; the rule it implements is cron.h's: a matching local time
 * starts at the first instant whose local time is that or later, unless a
 * later local time was already shown (a repeated hour's second pass).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cron.h"
#include "test_util.h"
#include "tz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct cron *parse_ok(const char *expr)
{
    struct buf err;
    struct cron *c = NULL;
    buf_init(&err, 1024);
    enum op_rc rc = cron_parse(expr, &c, &err);
    if (rc != OP_OK)
        fprintf(stderr, "cron_parse(%s): %s\n", expr, buf_str(&err));
    assert_int_equal(rc, OP_OK);
    assert_non_null(c);
    assert_string_equal(buf_str(&err), "");
    buf_free(&err);
    return c;
}

static struct tz *zone(const char *name)
{
    if (!name)
        return NULL;
    struct buf err;
    struct tz *z = NULL;
    buf_init(&err, 1024);
    assert_int_equal(tz_load(name, &z, &err), OP_OK);
    buf_free(&err);
    return z;
}

struct next_case {
    const char *expr, *zone;
    int64_t after, want;
};

static const struct next_case cases[] = {
    /* Weekly at 03:00 in Madrid across both 2026 changes: 03:00 is the first
     * instant after the spring gap, and shown once in the autumn. */
    {"0 3 * * SUN", "Europe/Madrid", 1774180800 /* 2026-03-22T12:00:00Z */,
     1774746000 /* 2026-03-29T01:00:00Z */},
    {"0 3 * * SUN", "Europe/Madrid", 1774746000 /* 2026-03-29T01:00:00Z */,
     1775350800 /* 2026-04-05T01:00:00Z */},
    {"0 3 * * SUN", "Europe/Madrid", 1792324800 /* 2026-10-18T12:00:00Z */,
     1792893600 /* 2026-10-25T02:00:00Z */},
    {"0 3 * * SUN", "Europe/Madrid", 1792893600 /* 2026-10-25T02:00:00Z */,
     1793498400 /* 2026-11-01T02:00:00Z */},
    /* 02:30 does not exist on 2026-03-29: it starts when the gap ends (03:00
     * local); it exists twice on 2026-10-25: only the first counts, also
     * when asked from inside the second pass. */
    {"30 2 * * *", "Europe/Madrid", 1774699200 /* 2026-03-28T12:00:00Z */,
     1774746000 /* 2026-03-29T01:00:00Z */},
    {"30 2 * * *", "Europe/Madrid", 1774746000 /* 2026-03-29T01:00:00Z */,
     1774830600 /* 2026-03-30T00:30:00Z */},
    {"30 2 * * *", "Europe/Madrid", 1792843200 /* 2026-10-24T12:00:00Z */,
     1792888200 /* 2026-10-25T00:30:00Z */},
    {"30 2 * * *", "Europe/Madrid", 1792888200 /* 2026-10-25T00:30:00Z */,
     1792978200 /* 2026-10-26T01:30:00Z */},
    {"30 2 * * *", "Europe/Madrid", 1792890600 /* 2026-10-25T01:10:00Z */,
     1792978200 /* 2026-10-26T01:30:00Z */},
    {"30 2 * * *", "Europe/Madrid", 1792891800 /* 2026-10-25T01:30:00Z */,
     1792978200 /* 2026-10-26T01:30:00Z */},
    /* Every skipped local time starts once, at the end of the gap. */
    {"*/15 2 * * *", "Europe/Madrid", 1774742340 /* 2026-03-28T23:59:00Z */,
     1774746000 /* 2026-03-29T01:00:00Z */},
    {"*/15 2 * * *", "Europe/Madrid", 1774746000 /* 2026-03-29T01:00:00Z */,
     1774828800 /* 2026-03-30T00:00:00Z */},
    {"*/15 2 * * *", "Europe/Madrid", 1792886400 /* 2026-10-25T00:00:00Z */,
     1792887300 /* 2026-10-25T00:15:00Z */},
    {"*/15 2 * * *", "Europe/Madrid", 1792889100 /* 2026-10-25T00:45:00Z */,
     1792976400 /* 2026-10-26T01:00:00Z */},
    /* Hourly: the gap's 02:00 and 03:00 start together; the repeated 02:00
     * does not start again. */
    {"0 * * * *", "Europe/Madrid", 1774744200 /* 2026-03-29T00:30:00Z */,
     1774746000 /* 2026-03-29T01:00:00Z */},
    {"0 * * * *", "Europe/Madrid", 1774746000 /* 2026-03-29T01:00:00Z */,
     1774749600 /* 2026-03-29T02:00:00Z */},
    {"0 * * * *", "Europe/Madrid", 1792888200 /* 2026-10-25T00:30:00Z */,
     1792893600 /* 2026-10-25T02:00:00Z */},
    {"0 * * * *", "Europe/Madrid", 1792890000 /* 2026-10-25T01:00:00Z */,
     1792893600 /* 2026-10-25T02:00:00Z */},
    {"30 2 * * *", "America/New_York", 1772884800 /* 2026-03-07T12:00:00Z */,
     1772953200 /* 2026-03-08T07:00:00Z */},
    {"30 1 * * *", "America/New_York", 1793448000 /* 2026-10-31T12:00:00Z */,
     1793511000 /* 2026-11-01T05:30:00Z */},
    {"30 1 * * *", "America/New_York", 1793511000 /* 2026-11-01T05:30:00Z */,
     1793601000 /* 2026-11-02T06:30:00Z */},
    /* Lord Howe's half-hour: 01:30-02:00 twice on 2026-04-05, 02:00-02:30
     * skipped on 2026-10-04. */
    {"45 1 * * *", "Australia/Lord_Howe", 1775304000 /* 2026-04-04T12:00:00Z */,
     1775313900 /* 2026-04-04T14:45:00Z */},
    {"45 1 * * *", "Australia/Lord_Howe", 1775313900 /* 2026-04-04T14:45:00Z */,
     1775402100 /* 2026-04-05T15:15:00Z */},
    {"15 2 * * *", "Australia/Lord_Howe", 1791028800 /* 2026-10-03T12:00:00Z */,
     1791041400 /* 2026-10-03T15:30:00Z */},
    {"15 2 * * *", "Australia/Lord_Howe", 1791041400 /* 2026-10-03T15:30:00Z */,
     1791126900 /* 2026-10-04T15:15:00Z */},
    /* 2050: past the file's table, the footer rule decides. */
    {"0 3 * * SUN", "Europe/Madrid", 2531390400 /* 2050-03-20T12:00:00Z */,
     2531955600 /* 2050-03-27T01:00:00Z */},
    {"30 2 * * *", "Europe/Madrid", 2531908800 /* 2050-03-26T12:00:00Z */,
     2531955600 /* 2050-03-27T01:00:00Z */},
    {"30 2 * * *", "Europe/Madrid", 2550657600 /* 2050-10-29T12:00:00Z */,
     2550702600 /* 2050-10-30T00:30:00Z */},
    /* Vixie: both day fields restricted, either matches (the 1st or a
     * Monday); one a bare '*', the other alone decides. */
    {"0 0 1 * MON", NULL, 1767225600 /* 2026-01-01T00:00:00Z */,
     1767571200 /* 2026-01-05T00:00:00Z */},
    {"0 0 1 * MON", NULL, 1769385600 /* 2026-01-26T00:00:00Z */,
     1769904000 /* 2026-02-01T00:00:00Z */},
    {"0 0 1 * MON", NULL, 1769904000 /* 2026-02-01T00:00:00Z */,
     1769990400 /* 2026-02-02T00:00:00Z */},
    {"0 0 1 * *", NULL, 1767225600 /* 2026-01-01T00:00:00Z */,
     1769904000 /* 2026-02-01T00:00:00Z */},
    {"0 0 * * MON", NULL, 1767225600 /* 2026-01-01T00:00:00Z */,
     1767571200 /* 2026-01-05T00:00:00Z */},
    /* A step on '*' restricts the field: odd days OR Mondays. */
    {"0 0 */2 * MON", NULL, 1767225600 /* 2026-01-01T00:00:00Z */,
     1767398400 /* 2026-01-03T00:00:00Z */},
    {"0 0 */2 * MON", NULL, 1767398400 /* 2026-01-03T00:00:00Z */,
     1767571200 /* 2026-01-05T00:00:00Z */},
    {"0 0 */2 * MON", NULL, 1768089600 /* 2026-01-11T00:00:00Z */,
     1768176000 /* 2026-01-12T00:00:00Z */},
    {"0 0 */2 * MON", NULL, 1768176000 /* 2026-01-12T00:00:00Z */,
     1768262400 /* 2026-01-13T00:00:00Z */},
    /* Steps; strictly after, from a time that is not a whole minute too. */
    {"*/15 * * * *", NULL, 1777975650 /* 2026-05-05T10:07:30Z */,
     1777976100 /* 2026-05-05T10:15:00Z */},
    {"*/15 * * * *", NULL, 1777976100 /* 2026-05-05T10:15:00Z */,
     1777977000 /* 2026-05-05T10:30:00Z */},
    {"*/15 * * * *", NULL, 1778025000 /* 2026-05-05T23:50:00Z */,
     1778025600 /* 2026-05-06T00:00:00Z */},
    {"1-10/3 * * * *", NULL, 1777975620 /* 2026-05-05T10:07:00Z */,
     1777975800 /* 2026-05-05T10:10:00Z */},
    {"1-10/3 * * * *", NULL, 1777975800 /* 2026-05-05T10:10:00Z */,
     1777978860 /* 2026-05-05T11:01:00Z */},
    /* 7 is Sunday, as 0 is. */
    {"0 0 * * 7", NULL, 1767225600 /* 2026-01-01T00:00:00Z */,
     1767484800 /* 2026-01-04T00:00:00Z */},
    {"0 0 * * 0", NULL, 1767225600 /* 2026-01-01T00:00:00Z */,
     1767484800 /* 2026-01-04T00:00:00Z */},
    {"0 0 * * 5-7", NULL, 1767484800 /* 2026-01-04T00:00:00Z */,
     1767916800 /* 2026-01-09T00:00:00Z */},
    {"0 12 * JAN,jul mon-FRI", NULL, 1769778000 /* 2026-01-30T13:00:00Z */,
     1782907200 /* 2026-07-01T12:00:00Z */},
    /* Months without the day are skipped. */
    {"5 4 31 * *", NULL, 1775001600 /* 2026-04-01T00:00:00Z */,
     1780200300 /* 2026-05-31T04:05:00Z */},
    {"0 0 30 2,4 *", NULL, 1767225600 /* 2026-01-01T00:00:00Z */,
     1777507200 /* 2026-04-30T00:00:00Z */},
    {"59 23 31 12 *", NULL, 1798761540 /* 2026-12-31T23:59:00Z */,
     1830297540 /* 2027-12-31T23:59:00Z */},
    {"0 22 * * 1-5", NULL, 1767391200 /* 2026-01-02T22:00:00Z */,
     1767650400 /* 2026-01-05T22:00:00Z */},
    {"@hourly", NULL, 1767265199 /* 2026-01-01T10:59:59Z */, 1767265200 /* 2026-01-01T11:00:00Z */},
    {"@daily", NULL, 1767261600 /* 2026-01-01T10:00:00Z */, 1767312000 /* 2026-01-02T00:00:00Z */},
    {"@midnight", NULL, 1767261600 /* 2026-01-01T10:00:00Z */,
     1767312000 /* 2026-01-02T00:00:00Z */},
    {"@weekly", NULL, 1767261600 /* 2026-01-01T10:00:00Z */, 1767484800 /* 2026-01-04T00:00:00Z */},
    {"@monthly", NULL, 1767261600 /* 2026-01-01T10:00:00Z */,
     1769904000 /* 2026-02-01T00:00:00Z */},
    {"@yearly", NULL, 1767225600 /* 2026-01-01T00:00:00Z */, 1798761600 /* 2027-01-01T00:00:00Z */},
    {"@annually", NULL, 1767225600 /* 2026-01-01T00:00:00Z */,
     1798761600 /* 2027-01-01T00:00:00Z */},
    /* February 29: the next one, also across 2100 (not a leap year): 2921
     * days, inside the 2928-day horizon. Never: INT64_MAX. */
    {"0 0 29 2 *", NULL, 1767225600 /* 2026-01-01T00:00:00Z */,
     1835395200 /* 2028-02-29T00:00:00Z */},
    {"0 0 29 2 *", NULL, 3981312000 /* 2096-02-29T00:00:00Z */,
     4233686400 /* 2104-02-29T00:00:00Z */},
    {"0 0 29 2 *", "Europe/Madrid", 3981398400 /* 2096-03-01T00:00:00Z */,
     4233686400 - 3600 /* 2104-02-29T00:00:00+01:00 */},
    {"0 0 31 2 *", NULL, 1767225600, INT64_MAX},
    {"0 0 30 2 *", "Europe/Madrid", 1767225600, INT64_MAX},
    {"0 0 31 4,6,9,11 *", NULL, 1767225600, INT64_MAX},
};

static void test_next(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        const struct next_case *k = &cases[i];
        struct cron *c = parse_ok(k->expr);
        struct tz *z = zone(k->zone);
        int64_t got = cron_next(c, z, k->after);
        if (got != k->want)
            fprintf(stderr, "case %zu: \"%s\" in %s after %lld: %lld, want %lld\n", i, k->expr,
                    k->zone ? k->zone : "UTC", (long long)k->after, (long long)got,
                    (long long)k->want);
        assert_int_equal(got, k->want);
        tz_free(z);
        cron_free(c);
    }
}

/* Successive starts through a day with a change, each from the one before. */
static void test_chains(void **state)
{
    (void)state;
    static const struct {
        const char *expr, *zone;
        int64_t from;
        int64_t want[10];
    } chains[] = {
        /* 2026-10-25, Madrid: 01:00-03:40 local every 20 min; 02:xx once. */
        {"*/20 1-3 * * *",
         "Europe/Madrid",
         1792879200,
         {1792882800, 1792884000, 1792885200, 1792886400, 1792887600, 1792888800, 1792893600,
          1792894800, 1792896000, 1792972800}},
        /* 2026-03-29, Madrid: 02:xx skipped, starting with 03:00 at 01:00Z. */
        {"*/20 1-3 * * *",
         "Europe/Madrid",
         1774735200,
         {1774742400, 1774743600, 1774744800, 1774746000, 1774747200, 1774748400, 1774825200,
          1774826400, 0, 0}},
        /* 2026-11-01, New York: 01:10 and 01:40 in EDT only. */
        {"10,40 1 * * *",
         "America/New_York",
         1793505600,
         {1793509800, 1793511600, 1793599800, 1793601600, 0, 0, 0, 0, 0, 0}},
    };
    for (size_t i = 0; i < ARRAY_SIZE(chains); i++) {
        struct cron *c = parse_ok(chains[i].expr);
        struct tz *z = zone(chains[i].zone);
        int64_t t = chains[i].from;
        for (size_t k = 0; k < 10 && chains[i].want[k]; k++) {
            t = cron_next(c, z, t);
            assert_int_equal(t, chains[i].want[k]);
        }
        tz_free(z);
        cron_free(c);
    }
}

/* Spellings of one schedule give the same starts. */
static void test_same(void **state)
{
    (void)state;
    static const char *const groups[][4] = {
        {"0 0 * * 7", "0 0 * * 0", "0 0 * * sun", "@weekly"},
        {"0 0 * * *", "@daily", "  0\t0 *  * *  ", "0 0 1-31 * *"},
        {"*/15 * * * *", "0,15,30,45 * * * *", "0-59/15 * * * *", "0/15 * * * *"},
        {"5/20 * * * *", "5,25,45 * * * *", "5-59/20 * * * *", "5-45/20 * * * *"},
        {"0 9 * 1-3,10-12 MON-FRI", "0 9 * JAN-MAR,OCT-DEC 1-5", "0 9 * jan-mar,oct-dec mon-fri",
         "0 9 * 1,2,3,10,11,12 1,2,3,4,5"},
        {"0 0 * * 1-7/2", "0 0 * * MON,WED,FRI,SUN", "0 0 * * 0,1,3,5", "0 0 * * 1,3,5,7"},
        /* "a/step" runs to the field's last value, Saturday for the days of
         * the week, as '*' does (robfig/cron). */
        {"0 0 * * 1/2", "0 0 * * 1,3,5", "0 0 * * MON-SAT/2", "0 0 * * 1-6/2"},
        {"0 0 * * */2", "0 0 * * 0,2,4,6", "0 0 * * 0/2", "0 0 * * SUN-SAT/2"},
    };
    for (size_t g = 0; g < ARRAY_SIZE(groups); g++) {
        struct cron *c[4];
        for (int i = 0; i < 4; i++)
            c[i] = parse_ok(groups[g][i]);
        int64_t t[4] = {1767225600, 1767225600, 1767225600, 1767225600};
        for (int n = 0; n < 200; n++) {
            for (int i = 0; i < 4; i++)
                t[i] = cron_next(c[i], NULL, t[i]);
            for (int i = 1; i < 4; i++) {
                if (t[i] != t[0])
                    fprintf(stderr, "\"%s\" gives %lld, \"%s\" %lld\n", groups[g][i],
                            (long long)t[i], groups[g][0], (long long)t[0]);
                assert_int_equal(t[i], t[0]);
            }
        }
        for (int i = 0; i < 4; i++)
            cron_free(c[i]);
    }
}

static void test_errors(void **state)
{
    (void)state;
    static const struct {
        const char *expr, *want;
    } cases_err[] = {
        {"", "cron expression: empty"},
        {" \t ", "cron expression: empty"},
        {"0 0 * *", "cron expression: \"0 0 * *\" has 4 fields, not 5 (minute hour "
                    "day-of-month month day-of-week)"},
        {"0 0 * * * *", "cron expression: \"0 0 * * * *\" has 6 fields, not 5 (minute hour "
                        "day-of-month month day-of-week)"},
        {"daily", "cron expression: \"daily\" has 1 field, not 5 (minute hour day-of-month "
                  "month day-of-week)"},
        {"60 * * * *", "minute: \"60\" is not 0-59"},
        {"* 24 * * *", "hour: \"24\" is not 0-23"},
        {"* * 0 * *", "day-of-month: \"0\" is not 1-31"},
        {"* * 32 * *", "day-of-month: \"32\" is not 1-31"},
        {"* * * 13 *", "month: \"13\" is not 1-12 or JAN-DEC"},
        {"* * * JANUARY *", "month: \"JANUARY\" is not 1-12 or JAN-DEC"},
        {"* * * * JAN", "day-of-week: \"JAN\" is not 0-7 or SUN-SAT"},
        {"0 0 * * SUNN", "day-of-week: \"SUNN\" is not 0-7 or SUN-SAT"},
        {"0 0 * * 8", "day-of-week: \"8\" is not 0-7 or SUN-SAT"},
        {"0 0 * * MON-SUN",
         "day-of-week: \"MON-SUN\": the range ends before it starts (Sunday ends a range as 7)"},
        {"5-3 * * * *", "minute: \"5-3\": the range ends before it starts"},
        {"*/0 * * * *", "minute: \"*/0\": the step is not 1-60"},
        {"*/61 * * * *", "minute: \"*/61\": the step is not 1-60"},
        {"0 */x * * *", "hour: \"*/x\": the step is not 1-24"},
        {"0 0 * * */", "day-of-week: \"*/\": the step is not 1-7"},
        {"1,,2 * * * *", "minute: \"1,,2\" has an empty list element"},
        {"1, * * * *", "minute: \"1,\" has an empty list element"},
        {"-5 * * * *", "minute: \"-5\" is not 0-59"},
        {"5- * * * *", "minute: \"5-\" is not 0-59"},
        {"1-2-3 * * * *", "minute: \"2-3\" is not 0-59"},
        {"? * * * *", "minute: \"?\" is not 0-59"},
        {"*5 * * * *", "minute: \"*5\" is not 0-59"},
        {"99999999999999999999 * * * *", "minute: \"99999999999999999999\" is not 0-59"},
        {"@reboot", "cron expression: \"@reboot\" is not one of @yearly @annually @monthly "
                    "@weekly @daily @midnight @hourly"},
        {"@DAILY", "cron expression: \"@DAILY\" is not one of"},
        {"@daily 0", "cron expression: \"@daily 0\" is not one of"},
        {"0 0 * * *\n", "cron expression: byte 10 is a control character or not ASCII"},
        {"0 0 * * \xc3\xa9", "cron expression: byte 9 is a control character or not ASCII"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases_err); i++) {
        struct buf err;
        struct cron *c = (struct cron *)&err;
        buf_init(&err, 1024);
        assert_int_equal(cron_parse(cases_err[i].expr, &c, &err), OP_ERR_INVALID);
        assert_null(c);
        if (strncmp(buf_str(&err), cases_err[i].want, strlen(cases_err[i].want)) != 0)
            fprintf(stderr, "\"%s\": got %s\n want %s\n", cases_err[i].expr, buf_str(&err),
                    cases_err[i].want);
        assert_true(strncmp(buf_str(&err), cases_err[i].want, strlen(cases_err[i].want)) == 0);
        assert_null(strchr(buf_str(&err), '\n'));
        buf_free(&err);
    }
    char longer[CRON_MAX_EXPR_BYTES + 2];
    memset(longer, ' ', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    memcpy(longer, "* * * * *", 9);
    struct buf err;
    struct cron *c = NULL;
    buf_init(&err, 1024);
    assert_int_equal(cron_parse(longer, &c, &err), OP_ERR_LIMIT);
    assert_string_equal(buf_str(&err), "cron expression: longer than 256 bytes");
    assert_null(c);
    buf_free(&err);
    longer[CRON_MAX_EXPR_BYTES] = '\0';
    c = parse_ok(longer);
    cron_free(c);
}

static void test_bounds(void **state)
{
    (void)state;
    struct cron *c = parse_ok("* * * * *");
    assert_int_equal(cron_next(NULL, NULL, 0), INT64_MAX);
    assert_int_equal(cron_next(c, NULL, INT64_MIN), INT64_MAX);
    assert_int_equal(cron_next(c, NULL, INT64_MAX), INT64_MAX);
    assert_int_equal(cron_next(c, NULL, TZ_RULE_T_MIN - 1), INT64_MAX);
    assert_int_equal(cron_next(c, NULL, TZ_RULE_T_MIN), TZ_RULE_T_MIN + 60);
    assert_int_equal(cron_next(c, NULL, INT64_C(253118303999)), INT64_C(253118304000));
    assert_int_equal(cron_next(c, NULL, INT64_C(253118304000)), INT64_MAX);
    assert_int_equal(cron_next(c, NULL, -1), 0);
    assert_int_equal(cron_next(c, NULL, -61), -60);
    cron_free(c);
    cron_free(NULL);
}

/* A hostile zone: 20000 transitions one second apart between the two
 * extreme offsets. cron_next still ends, with a start after `after` whose
 * local time is a whole minute at or after the one asked for. */
static void test_hostile_zone(void **state)
{
    (void)state;
    enum { N = 20000 };
    size_t cap = 2 * 44 + 10 + N * 9 + 12 + 4 + 16;
    unsigned char *f = calloc(1, cap), *p = f;
    struct tz *z = NULL;
    struct buf err;
#define PUT32(v)                                                                                   \
    do {                                                                                           \
        uint32_t v_ = (uint32_t)(v);                                                               \
        *p++ = (unsigned char)(v_ >> 24);                                                          \
        *p++ = (unsigned char)(v_ >> 16);                                                          \
        *p++ = (unsigned char)(v_ >> 8);                                                           \
        *p++ = (unsigned char)v_;                                                                  \
    } while (0)
    for (int h = 0; h < 2; h++) {
        memcpy(p, "TZif2", 5);
        p += 20;
        PUT32(0);
        PUT32(0);
        PUT32(0);
        PUT32(h ? N : 0);
        PUT32(h ? 2 : 1);
        PUT32(4);
        if (!h) {
            PUT32(0);
            p += 2;
            memcpy(p, "ZZZ", 4);
            p += 4;
        }
    }
    for (int i = 0; i < N; i++) {
        PUT32(0);
        PUT32(1767225600 + i);
    }
    for (int i = 0; i < N; i++)
        *p++ = (unsigned char)(i & 1);
    PUT32(TZ_OFFSET_MIN);
    p += 2;
    PUT32(TZ_OFFSET_MAX);
    p += 2;
    memcpy(p, "ZZZ", 4);
    p += 4;
    memcpy(p, "\n\n", 2);
    p += 2;
    buf_init(&err, 1024);
    assert_int_equal(tz_parse(f, (size_t)(p - f), "hostile", &z, &err), OP_OK);
    struct cron *c = parse_ok("*/7 * * * *");
    for (int64_t after = 1767225600 - 3 * 86400; after < 1767225600 + N + 3 * 86400;
         after += 4567) {
        int64_t t = cron_next(c, z, after);
        assert_true(t > after);
        assert_true(t < after + 4 * 86400);
        assert_true(t + tz_offset(z, t) >= after + tz_offset(z, after) - 200000);
    }
    cron_free(c);
    tz_free(z);
    buf_free(&err);
    free(f);
#undef PUT32
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The worst cases for the search: a day found once in four (or eight)
 * years, and days that never come (the whole horizon walked). Each call
 * must take well under a millisecond; the mean over 2000 calls from spread
 * out starting times is checked, and printed. */
static void test_speed(void **state)
{
    (void)state;
    static const char *const exprs[] = {"0 0 29 2 *", "0 0 31 2 *", "*/5 * 30 2 *", "0 3 * * SUN"};
    struct tz *z = zone("Europe/Madrid");
    for (size_t i = 0; i < ARRAY_SIZE(exprs); i++) {
        struct cron *c = parse_ok(exprs[i]);
        const int n = 2000;
        double worst = 0, t0 = now_s();
        for (int k = 0; k < n; k++) {
            int64_t after = INT64_C(1767225600) + (int64_t)k * 86400 * 7 + k;
            double a = now_s();
            int64_t next = cron_next(c, z, after);
            double b = now_s() - a;
            assert_true(next > after);
            if (b > worst)
                worst = b;
        }
        double mean = (now_s() - t0) / n;
        fprintf(stderr, "cron_next(\"%s\", Europe/Madrid): mean %.2f us, max %.2f us (%d calls)\n",
                exprs[i], mean * 1e6, worst * 1e6, n);
        assert_true(mean < 1e-3);
        cron_free(c);
    }
    tz_free(z);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_next),   cmocka_unit_test(test_chains),
        cmocka_unit_test(test_same),   cmocka_unit_test(test_errors),
        cmocka_unit_test(test_bounds), cmocka_unit_test(test_hostile_zone),
        cmocka_unit_test(test_speed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
