/*
 * test_tz.c - the TZif reader (tz.c): offsets and their changes in real
 * zones (the system's tzdata), footer rules, synthetic and corrupt files,
 * names, $TZDIR.
 *
 * Pinned values were computed once with Python's zoneinfo (same tzdata) and
 * agree with `zdump -v`; the sweep compares every offset with glibc's
 * localtime_r (TZ set in this single-threaded process), an independent
 * reader of the same files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_util.h"
#include "tz.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static struct tz *load_ok(const char *name)
{
    struct buf err;
    struct tz *z = NULL;
    buf_init(&err, 4096);
    enum op_rc rc = tz_load(name, &z, &err);
    if (rc != OP_OK)
        fprintf(stderr, "tz_load(%s): %s\n", name, buf_str(&err));
    assert_int_equal(rc, OP_OK);
    assert_non_null(z);
    assert_string_equal(buf_str(&err), "");
    buf_free(&err);
    return z;
}

/* ---- real zones ---- */

struct change {
    const char *zone;
    int64_t at; /* the first second of the new offset */
    int32_t before, after;
};

/* Each zone's transitions of 2026 (from the file's table) and 2050 (after
 * the table, which ends in 2037: the footer rule). Nuuk's rule has a
 * negative time (M3.5.0/-1), Santiago's 24:00 (M9.1.6/24), Chatham's 2:45,
 * Dublin's a negative DST (IST-1GMT0, winter is the "daylight" time),
 * Lord_Howe's a 30-minute DST. */
static const struct change changes[] = {
    {"Europe/Madrid", 1774746000, 3600, 7200},         /* 2026-03-29T01:00:00Z */
    {"Europe/Madrid", 1792890000, 7200, 3600},         /* 2026-10-25T01:00:00Z */
    {"America/New_York", 1772953200, -18000, -14400},  /* 2026-03-08T07:00:00Z */
    {"America/New_York", 1793512800, -14400, -18000},  /* 2026-11-01T06:00:00Z */
    {"Australia/Lord_Howe", 1775314800, 39600, 37800}, /* 2026-04-04T15:00:00Z */
    {"Australia/Lord_Howe", 1791041400, 37800, 39600}, /* 2026-10-03T15:30:00Z */
    {"Europe/Madrid", 2531955600, 3600, 7200},         /* 2050-03-27T01:00:00Z */
    {"Europe/Madrid", 2550704400, 7200, 3600},         /* 2050-10-30T01:00:00Z */
    {"America/New_York", 2530767600, -18000, -14400},  /* 2050-03-13T07:00:00Z */
    {"America/New_York", 2551327200, -14400, -18000},  /* 2050-11-06T06:00:00Z */
    {"Australia/Lord_Howe", 2532524400, 39600, 37800}, /* 2050-04-02T15:00:00Z */
    {"Australia/Lord_Howe", 2548251000, 37800, 39600}, /* 2050-10-01T15:30:00Z */
    {"America/Nuuk", 2531955600, -7200, -3600},        /* 2050-03-27T01:00:00Z */
    {"America/Nuuk", 2550704400, -3600, -7200},        /* 2050-10-30T01:00:00Z */
    {"America/Santiago", 2532567600, -10800, -14400},  /* 2050-04-03T03:00:00Z */
    {"America/Santiago", 2545876800, -14400, -10800},  /* 2050-09-04T04:00:00Z */
    {"Pacific/Chatham", 2532520800, 49500, 45900},     /* 2050-04-02T14:00:00Z */
    {"Pacific/Chatham", 2547640800, 45900, 49500},     /* 2050-09-24T14:00:00Z */
    {"Europe/Dublin", 2531955600, 0, 3600},            /* 2050-03-27T01:00:00Z */
    {"Europe/Dublin", 2550704400, 3600, 0},            /* 2050-10-30T01:00:00Z */
};

#define T2026 INT64_C(1767225600) /* 2026-01-01T00:00:00Z */
#define T2050 INT64_C(2524608000) /* 2050-01-01T00:00:00Z */

/* Offsets on both sides of each change, and tz_next_change from the start
 * of the year finds the year's two changes in order. */
static void test_changes(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(changes); i += 2) {
        struct tz *z = load_ok(changes[i].zone);
        for (size_t k = i; k < i + 2; k++) {
            const struct change *c = &changes[k];
            assert_int_equal(tz_offset(z, c->at - 1), c->before);
            assert_int_equal(tz_offset(z, c->at), c->after);
            assert_int_equal(tz_offset(z, c->at + 1), c->after);
        }
        int64_t year = changes[i].at < T2050 ? T2026 : T2050;
        int64_t first = tz_next_change(z, year);
        if (first != changes[i].at)
            fprintf(stderr, "%s: next change after %lld is %lld, want %lld\n", changes[i].zone,
                    (long long)year, (long long)first, (long long)changes[i].at);
        assert_int_equal(first, changes[i].at);
        assert_int_equal(tz_next_change(z, first - 1), changes[i].at);
        assert_int_equal(tz_next_change(z, first), changes[i + 1].at);
        assert_int_equal(tz_next_change(z, changes[i + 1].at - 1), changes[i + 1].at);
        tz_free(z);
    }
}

/* Madrid's next change after 2026-10-25 is 2027-03-28T01:00:00Z; before its
 * first transition (1901-01-01) the first time type, LMT -0:14:44, applies
 * (RFC 8536 3.2), however far back. */
static void test_madrid_ends(void **state)
{
    (void)state;
    struct tz *z = load_ok("Europe/Madrid");
    assert_int_equal(tz_next_change(z, 1792890000), INT64_C(1806195600));
    assert_int_equal(tz_offset(z, INT64_C(-2177452801)), -884); /* 1900-12-31T23:59:59Z */
    assert_int_equal(tz_offset(z, INT64_C(-2177452800)), 0);    /* 1901-01-01T00:00:00Z */
    assert_int_equal(tz_offset(z, INT64_MIN), -884);
    assert_int_equal(tz_next_change(z, INT64_MIN), INT64_C(-2177452800));
    /* Far ahead the rule still answers, and never overflows. */
    assert_int_equal(tz_offset(z, INT64_MAX), 3600);
    assert_int_equal(tz_next_change(z, INT64_MAX), INT64_MAX);
    assert_int_equal(tz_next_change(z, TZ_RULE_T_MAX), INT64_MAX);
    tz_free(z);
}

/* glibc's localtime_r reads the same files: every offset must agree, from
 * 1800 (before every zone's first transition) to 2400 (the footer rule). */
static const char *const sweep_zones[] = {
    "Europe/Madrid",    "America/New_York",  "Australia/Lord_Howe", "America/Nuuk",
    "America/Santiago", "Pacific/Chatham",   "Europe/Dublin",       "Asia/Kolkata",
    "Asia/Kathmandu",   "Africa/Casablanca", "Pacific/Apia",        "Antarctica/Troll",
    "America/St_Johns", "Europe/London",     "Australia/Sydney",    "Pacific/Kiritimati",
    "Asia/Tehran",      "America/Adak",      "Etc/GMT+5",           "America/Sao_Paulo",
};

static long glibc_offset(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    assert_non_null(localtime_r(&tt, &tm));
    return tm.tm_gmtoff;
}

static void sweep_one(const char *name, const struct tz *z)
{
    const int64_t from = INT64_C(-5364662400); /* 1800-01-01 */
    const int64_t to = INT64_C(13569465600);   /* 2400-01-01 */
    size_t n = 0, changes_seen = 0;
    /* Every 6 days and 7 hours: every weekday and hour of the day. */
    for (int64_t t = from; t < to; t += 6 * 86400 + 7 * 3600 + 17) {
        long want = glibc_offset(t);
        if (tz_offset(z, t) != want)
            fprintf(stderr, "%s at %lld: %d, glibc %ld\n", name, (long long)t, tz_offset(z, t),
                    want);
        assert_int_equal(tz_offset(z, t), want);
        n++;
    }
    /* Each change reported is one for glibc too, and between two of them
     * glibc sees no other (checked at both ends and in the middle). */
    for (int64_t t = from; t < to;) {
        int64_t c = tz_next_change(z, t);
        int64_t end = c < to ? c : to;
        long o = glibc_offset(t);
        assert_int_equal(glibc_offset(end - 1), o);
        assert_int_equal(glibc_offset(t + (end - t) / 2), o);
        if (c >= to)
            break;
        assert_int_not_equal(glibc_offset(c), o);
        assert_int_equal(tz_offset(z, c), glibc_offset(c));
        changes_seen++;
        t = c;
    }
    assert_true(n > 30000);
    (void)changes_seen;
}

static void test_glibc_sweep(void **state)
{
    (void)state;
    char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
    for (size_t i = 0; i < ARRAY_SIZE(sweep_zones); i++) {
        struct tz *z = load_ok(sweep_zones[i]);
        char tzenv[300];
        snprintf(tzenv, sizeof(tzenv), ":%s", sweep_zones[i]);
        setenv("TZ", tzenv, 1);
        tzset();
        sweep_one(sweep_zones[i], z);
        tz_free(z);
    }
    if (old)
        setenv("TZ", old, 1);
    else
        unsetenv("TZ");
    tzset();
    free(old);
}

static void test_null_and_utc(void **state)
{
    (void)state;
    assert_int_equal(tz_offset(NULL, 0), 0);
    assert_int_equal(tz_offset(NULL, INT64_MIN), 0);
    assert_int_equal(tz_next_change(NULL, 0), INT64_MAX);
    tz_free(NULL);
    /* Built in: found even where $TZDIR has no file at all. */
    setenv("TZDIR", tu_tmpdir(), 1);
    const char *names[] = {"UTC", "Etc/UTC"};
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        struct tz *z = load_ok(names[i]);
        assert_int_equal(tz_offset(z, T2026), 0);
        assert_int_equal(tz_offset(z, INT64_MIN), 0);
        assert_int_equal(tz_next_change(z, T2026), INT64_MAX);
        tz_free(z);
    }
    unsetenv("TZDIR");
}

/* ---- synthetic files ---- */

struct tzif_spec {
    char version; /* 0 (version 1), '2', '3' */
    size_t ntimes;
    const int64_t *times;
    const uint8_t *idx;
    size_t ntypes;
    const int32_t *utoff;
    const char *footer; /* v2+: the TZ string; NULL writes no footer at all */
};

struct out {
    unsigned char b[8192];
    size_t n;
};

static void put(struct out *o, const void *p, size_t n)
{
    assert_true(o->n + n <= sizeof(o->b));
    if (n)
        memcpy(o->b + o->n, p, n);
    o->n += n;
}

static void put32(struct out *o, uint32_t v)
{
    unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 8), (unsigned char)v};
    put(o, b, 4);
}

static void put64(struct out *o, uint64_t v)
{
    put32(o, (uint32_t)(v >> 32));
    put32(o, (uint32_t)v);
}

static void put_header(struct out *o, char version, uint32_t timecnt, uint32_t typecnt,
                       uint32_t charcnt)
{
    unsigned char zero[15] = {0};
    put(o, "TZif", 4);
    put(o, &version, 1);
    put(o, zero, 15);
    put32(o, 0); /* isutcnt */
    put32(o, 0); /* isstdcnt */
    put32(o, 0); /* leapcnt */
    put32(o, timecnt);
    put32(o, typecnt);
    put32(o, charcnt);
}

/* A TZif file: for version 2+, a version 1 block whose one time type is
 * +3:25:45 (a reader that used it would show), then the real data in the
 * 64-bit block and the footer. Every type is named "ZZZ". */
static void tzif_build(const struct tzif_spec *s, struct out *o)
{
    o->n = 0;
    if (s->version != 0) {
        put_header(o, s->version, 0, 1, 4);
        put32(o, 12345);
        put(o, "\0\0ZZZ", 5); /* isdst 0, desigidx 0, then the designation */
        put(o, "", 1);
    }
    put_header(o, s->version, (uint32_t)s->ntimes, (uint32_t)s->ntypes, 4);
    for (size_t i = 0; i < s->ntimes; i++) {
        if (s->version != 0)
            put64(o, (uint64_t)s->times[i]);
        else
            put32(o, (uint32_t)(int32_t)s->times[i]);
    }
    put(o, s->idx, s->ntimes);
    for (size_t i = 0; i < s->ntypes; i++) {
        put32(o, (uint32_t)s->utoff[i]);
        put(o, "\0\0", 2);
    }
    put(o, "ZZZ", 4);
    if (s->version != 0 && s->footer) {
        put(o, "\n", 1);
        put(o, s->footer, strlen(s->footer));
        put(o, "\n", 1);
    }
}

static void write_file(const char *name, const void *p, size_t n)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", tu_tmpdir(), name);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    mkdir(path, 0700);
    *slash = '/';
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* A zone from a spec through tz_load, with $TZDIR pointing at the files. */
static struct tz *load_spec(const char *name, const struct tzif_spec *s)
{
    struct out o;
    tzif_build(s, &o);
    write_file(name, o.b, o.n);
    setenv("TZDIR", tu_tmpdir(), 1);
    struct tz *z = load_ok(name);
    unsetenv("TZDIR");
    return z;
}

static const int32_t one_type_utoff[] = {0};

/* Slim files: no transition, the footer says everything. */
static void test_footer_only(void **state)
{
    (void)state;
    struct tzif_spec s = {'2', 0, NULL, NULL, 1, one_type_utoff, "<+03>-3"};
    struct tz *z = load_spec("Test/Plus3", &s);
    assert_int_equal(tz_offset(z, T2026), 10800);
    assert_int_equal(tz_offset(z, INT64_MIN), 10800);
    assert_int_equal(tz_offset(z, INT64_MAX), 10800);
    assert_int_equal(tz_next_change(z, INT64_MIN), INT64_MAX);
    tz_free(z);

    /* New York's rule alone gives New York's changes (pinned above). */
    s.footer = "EST5EDT,M3.2.0,M11.1.0";
    z = load_spec("Test/NY", &s);
    assert_int_equal(tz_offset(z, 1772953200 - 1), -18000);
    assert_int_equal(tz_offset(z, 1772953200), -14400);
    assert_int_equal(tz_next_change(z, T2026), 1772953200);
    assert_int_equal(tz_next_change(z, 1772953200), 1793512800);
    assert_int_equal(tz_next_change(z, T2050), 2530767600);
    tz_free(z);

    /* A daylight name without dates: the US rules, as tzcode. */
    s.footer = "EST5EDT";
    z = load_spec("Test/NYdefault", &s);
    assert_int_equal(tz_next_change(z, T2026), 1772953200);
    assert_int_equal(tz_next_change(z, 1772953200), 1793512800);
    tz_free(z);

    /* Version 3 times: negative and beyond 24 h (Nuuk's and Santiago's). */
    s.version = '3';
    s.footer = "<-02>2<-01>,M3.5.0/-1,M10.5.0/0";
    z = load_spec("Test/Nuuk", &s);
    assert_int_equal(tz_next_change(z, T2050), 2531955600);
    assert_int_equal(tz_next_change(z, 2531955600), 2550704400);
    assert_int_equal(tz_offset(z, 2531955600), -3600);
    tz_free(z);
    s.footer = "<-04>4<-03>,M9.1.6/24,M4.1.6/24";
    z = load_spec("Test/Santiago", &s);
    assert_int_equal(tz_next_change(z, T2050), 2532567600);
    assert_int_equal(tz_next_change(z, 2532567600), 2545876800);
    assert_int_equal(tz_offset(z, 2532567600), -14400);
    tz_free(z);
    /* The extremes: 167 h after the last Sunday of March 2026 (2026-03-29)
     * is 2026-04-04T23:00 standard time; 167 h before the last Sunday of
     * October (2026-10-25) is 2026-10-18T01:00 daylight time. */
    s.footer = "AAA0BBB,M3.5.0/167,M10.5.0/-167";
    z = load_spec("Test/Extreme", &s);
    assert_int_equal(tz_next_change(z, T2026), 1775343600);
    assert_int_equal(tz_next_change(z, 1775343600), 1792281600);
    assert_int_equal(tz_offset(z, 1775343600 - 1), 0);
    assert_int_equal(tz_offset(z, 1775343600), 3600);
    assert_int_equal(tz_offset(z, 1792281600), 0);
    tz_free(z);
    /* Jn never counts February 29, n does: J60 is March 1 every year; day
     * 300 counted from 0 is October 28 in 2026, October 27 in 2028. */
    s.footer = "AAA0BBB,J60/0,300/0";
    z = load_spec("Test/Julian", &s);
    assert_int_equal(tz_next_change(z, T2026), 1772323200);
    assert_int_equal(tz_next_change(z, 1772323200), 1793142000);
    assert_int_equal(tz_next_change(z, 1793142000), 1803859200); /* 2027-03-01 */
    assert_int_equal(tz_next_change(z, 1830297600), 1835481600); /* from 2028-01-01 */
    assert_int_equal(tz_next_change(z, 1835481600), 1856214000);
    tz_free(z);
    /* RFC 8536's permanent daylight time: the end (Dec 31 25:00 daylight)
     * meets the next start (Jan 1 00:00 standard); nothing ever changes. */
    s.footer = "EST5EDT,0/0,J365/25";
    z = load_spec("Test/Permanent", &s);
    const int64_t at[] = {T2026, T2026 - 1, T2026 + 3600, 1798761540, 1782864000, T2050};
    for (size_t i = 0; i < ARRAY_SIZE(at); i++)
        assert_int_equal(tz_offset(z, at[i]), -14400);
    assert_int_equal(tz_next_change(z, T2026), INT64_MAX);
    tz_free(z);
    /* Equal offsets: a daylight name that changes nothing. */
    s.footer = "AAA-1BBB-1,M3.5.0,M10.5.0";
    z = load_spec("Test/Same", &s);
    assert_int_equal(tz_offset(z, 1782864000), 3600);
    assert_int_equal(tz_next_change(z, T2026), INT64_MAX);
    tz_free(z);
    /* An empty footer: no rule, the last (here the only) type stays. */
    s.footer = "";
    z = load_spec("Test/Empty", &s);
    assert_int_equal(tz_offset(z, T2050), 0);
    assert_int_equal(tz_next_change(z, 0), INT64_MAX);
    tz_free(z);
}

/* Transitions then a footer; a version 1 file (no footer) keeps the last
 * transition's type for ever; transitions that keep the offset are not
 * changes; the version 1 block of a version 2 file is ignored. */
static void test_table(void **state)
{
    (void)state;
    const int64_t times[] = {-1000, 0, 1000, 2000};
    const uint8_t idx[] = {1, 2, 1, 0};
    const int32_t utoff[] = {3600, 7200, 7200}; /* types 1 and 2 differ only in name */
    struct tzif_spec s = {'2', 4, times, idx, 3, utoff, "<+05>-5"};
    struct tz *z = load_spec("Test/Table", &s);
    assert_int_equal(tz_offset(z, INT64_MIN), 3600); /* type 0 before the first */
    assert_int_equal(tz_offset(z, -1001), 3600);
    assert_int_equal(tz_offset(z, -1000), 7200);
    assert_int_equal(tz_offset(z, 1999), 7200);
    assert_int_equal(tz_offset(z, 2000), 3600);  /* the last transition itself */
    assert_int_equal(tz_offset(z, 2001), 18000); /* after it: the footer */
    assert_int_equal(tz_next_change(z, -5000), -1000);
    assert_int_equal(tz_next_change(z, -1000), 2000); /* 0 and 1000 keep 7200 */
    assert_int_equal(tz_next_change(z, 2000), 2001);
    assert_int_equal(tz_next_change(z, 2001), INT64_MAX);
    tz_free(z);

    /* A footer that agrees with the last type: no change at its start. */
    s.footer = "<+01>-1";
    z = load_spec("Test/Table2", &s);
    assert_int_equal(tz_next_change(z, -1000), 2000);
    assert_int_equal(tz_next_change(z, 2000), INT64_MAX);
    tz_free(z);

    s.version = 0;
    s.footer = NULL;
    z = load_spec("Test/V1", &s);
    assert_int_equal(tz_offset(z, -1001), 3600);
    assert_int_equal(tz_offset(z, 500), 7200);
    assert_int_equal(tz_offset(z, INT64_MAX), 3600);
    assert_int_equal(tz_next_change(z, 2000), INT64_MAX);
    tz_free(z);
}

/* ---- refused input ---- */

static void expect_invalid(const void *p, size_t n, const char *want)
{
    struct buf err;
    struct tz *z = (struct tz *)&err; /* must be reset to NULL */
    buf_init(&err, 4096);
    assert_int_equal(tz_parse(p, n, "f", &z, &err), OP_ERR_INVALID);
    assert_null(z);
    if (!strstr(buf_str(&err), want))
        fprintf(stderr, "message: %s\nwant: %s\n", buf_str(&err), want);
    assert_non_null(strstr(buf_str(&err), want));
    assert_true(strncmp(buf_str(&err), "f: not a valid TZif file: ", 26) == 0);
    buf_free(&err);
}

/* Every proper prefix of a real file is refused: its footer's closing
 * newline is the last byte. */
static void test_truncated(void **state)
{
    (void)state;
    struct buf data;
    buf_init(&data, TZ_MAX_FILE_BYTES);
    assert_int_equal(buf_read_file(&data, "/usr/share/zoneinfo/Europe/Madrid"), OP_OK);
    assert_true(data.len > 1000);
    for (size_t n = 0; n < data.len; n++) {
        struct buf err;
        struct tz *z = NULL;
        buf_init(&err, 4096);
        assert_int_equal(tz_parse(data.data, n, "f", &z, &err), OP_ERR_INVALID);
        assert_null(z);
        assert_true(err.len > 26);
        buf_free(&err);
    }
    expect_invalid(data.data, 10, "shorter than its header at byte 0 (10 bytes left");
    expect_invalid(data.data, 100, "truncated: the version 1 data needs");
    expect_invalid(data.data, data.len - 1, "no footer");
    struct tz *z = NULL;
    struct buf err;
    buf_init(&err, 4096);
    assert_int_equal(tz_parse(data.data, data.len, "f", &z, &err), OP_OK);
    tz_free(z);
    buf_free(&err);
    buf_free(&data);
}

static void test_bad_counts(void **state)
{
    (void)state;
    const int64_t times[] = {0, 1000};
    const uint8_t idx[] = {1, 0};
    const int32_t utoff[] = {3600, 7200};
    /* A footer long enough to leave room for a leap-second record. */
    struct tzif_spec s = {'2', 2, times, idx, 2, utoff, "CET-1CEST,M3.5.0,M10.5.0/3"};
    struct out o;
    /* The 64-bit header starts after the v1 header (44) and block (4 + 6 + 1
     * ... see tzif_build): 44 + 6 + 4 = 54. Its counts start 20 bytes in. */
    const size_t h2 = 54, counts = h2 + 20;

    expect_invalid("TZjf", 4, "shorter than its header");
    tzif_build(&s, &o);
    o.b[0] = 'X';
    expect_invalid(o.b, o.n, "no \"TZif\" magic at byte 0");
    tzif_build(&s, &o);
    o.b[h2] = 'X';
    expect_invalid(o.b, o.n, "no \"TZif\" magic at byte 54");
    tzif_build(&s, &o);
    o.b[4] = '1';
    expect_invalid(o.b, o.n, "unknown version byte 0x31");

    /* timecnt 2^32 - 1: far more than the file holds. */
    tzif_build(&s, &o);
    memset(o.b + counts + 12, 0xff, 4);
    expect_invalid(o.b, o.n, "truncated: the header announces 38654705671 bytes of data");
    /* The same in the version 1 header. */
    tzif_build(&s, &o);
    memset(o.b + 20 + 12, 0xff, 4);
    expect_invalid(o.b, o.n, "truncated: the version 1 data needs");
    /* typecnt 0 (and the data shrinks accordingly: still refused). */
    tzif_build(&s, &o);
    o.b[counts + 19] = 0;
    expect_invalid(o.b, o.n, "0 time types (1-256)");
    /* isstdcnt 1 for 2 types. */
    tzif_build(&s, &o);
    o.b[counts + 7] = 1;
    expect_invalid(o.b, o.n, "1 standard/wall indicators for 2 time types");
    o.b[counts + 7] = 0;
    o.b[counts + 3] = 1;
    expect_invalid(o.b, o.n, "1 UT/local indicators for 2 time types");
    /* A leap-second record (room made by the footer's bytes). */
    tzif_build(&s, &o);
    o.b[counts + 11] = 1;
    expect_invalid(o.b, o.n, "1 leap-second records");
    /* charcnt 0. */
    tzif_build(&s, &o);
    o.b[counts + 23] = 0;
    expect_invalid(o.b, o.n, "no time zone designations");

    const size_t data = h2 + 44; /* times (16), idx (2), types (12), chars (4) */
    tzif_build(&s, &o);
    o.b[data + 16] = 2; /* transition 0 names type 2 of 2 */
    expect_invalid(o.b, o.n, "transition 0 names time type 2 of 2");
    tzif_build(&s, &o);
    memset(o.b + data + 8, 0, 8); /* transition 1 at 0: not after transition 0 */
    expect_invalid(o.b, o.n, "transition 1 (0) is not after the one before (0)");
    tzif_build(&s, &o);
    o.b[data] = 0x7f; /* transition 0 near 2^63 */
    expect_invalid(o.b, o.n, "transition 0 at 9151314442816847872 is out of range");
    tzif_build(&s, &o);
    memset(o.b + data + 18, 0x80, 1); /* type 0's offset: -2^31 + 3600 */
    expect_invalid(o.b, o.n, "time type 0: offset -2147480048 s is outside -89999 to 93599");
    tzif_build(&s, &o);
    o.b[data + 18 + 4] = 2;
    expect_invalid(o.b, o.n, "time type 0: DST flag 2 is not 0 or 1");
    tzif_build(&s, &o);
    o.b[data + 18 + 5] = 4;
    expect_invalid(o.b, o.n, "time type 0: designation index 4 beyond 4 bytes");
    tzif_build(&s, &o);
    o.b[data + 18 + 12 + 3] = 'Z';
    expect_invalid(o.b, o.n, "the designations do not end with a NUL byte");
}

static void test_bad_footers(void **state)
{
    (void)state;
    static const struct {
        const char *footer, *want;
    } cases[] = {
        {"CET-1CEST,M3.5.0", "footer \"CET-1CEST,M3.5.0\": no valid rule"},
        {"XX0", "footer \"XX0\": no standard time name"},
        {"CET", "no valid standard time offset"},
        {"CET-25", "no valid standard time offset"},
        {"CET-1:60", "no valid standard time offset"},
        {"<+03-3", "no standard time name"},
        {"<+3>-3", "no standard time name"},
        {"CET-1 x", "no valid daylight time name"},
        {"CET-1CEST-25,M3.5.0,M10.5.0", "no valid daylight time offset"},
        {"CET-1CEST,M13.5.0,M10.5.0", "no valid rule"},
        {"CET-1CEST,M3.6.0,M10.5.0", "no valid rule"},
        {"CET-1CEST,M3.5.7,M10.5.0", "no valid rule"},
        {"CET-1CEST,M3.5.0/168,M10.5.0", "no valid rule"},
        {"CET-1CEST,J0,J365", "no valid rule"},
        {"CET-1CEST,366,J365", "no valid rule"},
        {"CET-1CEST,M3.5.0,M10.5.0,", "no valid rule"},
        {"CET-1CEST,M3.5.0,M10.5.0/3x", "no valid rule"},
        {"\x01\x7f", "footer \"\\u0001\x7f\": no standard time name"},
    };
    const int64_t times[] = {0};
    const uint8_t idx[] = {0};
    struct tzif_spec s = {'2', 1, times, idx, 1, one_type_utoff, NULL};
    struct out o;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        s.footer = cases[i].footer;
        tzif_build(&s, &o);
        expect_invalid(o.b, o.n, cases[i].want);
    }
    s.footer = "CET-1";
    tzif_build(&s, &o);
    expect_invalid(o.b, o.n - 1, "no footer");
    o.b[o.n - 3] = '\0';
    expect_invalid(o.b, o.n, "a NUL byte in the footer");
    s.footer = NULL;
    tzif_build(&s, &o);
    expect_invalid(o.b, o.n, "no footer");
    /* Bytes after the footer are left alone (room for later versions). */
    s.footer = "CET-1";
    tzif_build(&s, &o);
    put(&o, "more", 4);
    struct buf err;
    struct tz *z = NULL;
    buf_init(&err, 4096);
    assert_int_equal(tz_parse(o.b, o.n, "f", &z, &err), OP_OK);
    assert_int_equal(tz_offset(z, 1), 3600);
    tz_free(z);
    buf_free(&err);
}

static void expect_load(const char *name, enum op_rc want_rc, const char *want)
{
    struct buf err;
    struct tz *z = (struct tz *)&err;
    buf_init(&err, 4096);
    assert_int_equal(tz_load(name, &z, &err), want_rc);
    assert_null(z);
    if (!strstr(buf_str(&err), want))
        fprintf(stderr, "message: %s\nwant: %s\n", buf_str(&err), want);
    assert_non_null(strstr(buf_str(&err), want));
    buf_free(&err);
}

static void test_names(void **state)
{
    (void)state;
    char longname[300];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    expect_load("", OP_ERR_INVALID, "time zone \"\" is empty");
    expect_load("../etc/passwd", OP_ERR_INVALID, "time zone \"../etc/passwd\" holds \"..\"");
    expect_load("Europe/../../etc/passwd", OP_ERR_INVALID, "holds \"..\"");
    expect_load("/etc/localtime", OP_ERR_INVALID, "starts with '/'");
    expect_load("Europe/Madrid ", OP_ERR_INVALID,
                "time zone \"Europe/Madrid \" holds a character other than");
    expect_load("Europe/Ma\ndrid", OP_ERR_INVALID, "time zone \"Europe/Ma\\ndrid\" holds");
    expect_load("Europe/.hidden", OP_ERR_INVALID, "holds a character other than");
    expect_load(longname, OP_ERR_INVALID, "is longer than 255 bytes");

    setenv("TZDIR", tu_tmpdir(), 1);
    char want[600];
    snprintf(want, sizeof(want), "unknown time zone \"Nowhere/Land\" (no file %s/Nowhere/Land)",
             tu_tmpdir());
    expect_load("Nowhere/Land", OP_ERR_NOT_FOUND, want);
    /* A directory and a FIFO: refused without reading (or blocking). */
    write_file("Dir/x", "x", 1);
    expect_load("Dir", OP_ERR_IO, "not a regular file");
    char fifo[600];
    snprintf(fifo, sizeof(fifo), "%s/Fifo", tu_tmpdir());
    assert_int_equal(mkfifo(fifo, 0600), 0);
    expect_load("Fifo", OP_ERR_IO, "not a regular file");
    /* Not TZif at all; over the cap. */
    write_file("Text", "hello", 5);
    expect_load("Text", OP_ERR_INVALID, "not a valid TZif file: shorter than its header");
    char *big = calloc(1, TZ_MAX_FILE_BYTES + 1);
    memcpy(big, "TZif2", 5);
    write_file("Big", big, TZ_MAX_FILE_BYTES + 1);
    free(big);
    expect_load("Big", OP_ERR_LIMIT, "larger than 1048576 bytes");
    /* The default directory again once $TZDIR is empty. */
    setenv("TZDIR", "", 1);
    struct tz *z = load_ok("Europe/Madrid");
    tz_free(z);
    unsetenv("TZDIR");
}

static void test_calendar(void **state)
{
    (void)state;
    assert_int_equal(tz_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(tz_days_from_civil(2026, 3, 29), 20541);
    assert_int_equal(tz_days_from_civil(1, 1, 1), -719162);
    assert_int_equal(tz_days_from_civil(2000, 2, 29), 11016);
    assert_int_equal(tz_weekday(0), 4);       /* Thursday */
    assert_int_equal(tz_weekday(20541), 0);   /* 2026-03-29, a Sunday */
    assert_int_equal(tz_weekday(-719162), 1); /* 0001-01-01, a Monday */
    assert_int_equal(tz_month_days(2100, 2), 28);
    assert_int_equal(tz_month_days(2000, 2), 29);
    assert_int_equal(tz_month_days(2026, 12), 31);
    /* Round trip over 1600 years around the epoch. */
    for (int64_t d = -300000; d <= 300000; d += 13) {
        int64_t y;
        int m, dd;
        tz_civil_from_days(d, &y, &m, &dd);
        assert_true(m >= 1 && m <= 12 && dd >= 1 && dd <= tz_month_days(y, m));
        assert_int_equal(tz_days_from_civil(y, m, dd), d);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_changes),     cmocka_unit_test(test_madrid_ends),
        cmocka_unit_test(test_glibc_sweep), cmocka_unit_test(test_null_and_utc),
        cmocka_unit_test(test_footer_only), cmocka_unit_test(test_table),
        cmocka_unit_test(test_truncated),   cmocka_unit_test(test_bad_counts),
        cmocka_unit_test(test_bad_footers), cmocka_unit_test(test_names),
        cmocka_unit_test(test_calendar),
    };
    return cmocka_run_group_tests(tests, tu_tmpdir_setup, tu_tmpdir_teardown);
}
