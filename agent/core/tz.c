/* tz.c - TZif files (RFC 8536) and POSIX TZ rules: offsets and their changes. */
#include "tz.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TZ_DEFAULT_DIR "/usr/share/zoneinfo"
/* Longest path tried ($TZDIR, '/', the name). */
#define TZ_MAX_PATH_BYTES 4096
#define TZ_HEADER_BYTES 44
/* Transition times beyond +-2^62 are refused, so that a transition plus or
 * minus a few days never overflows (zic writes nothing below -2^59). */
#define TZ_TIME_LIMIT (INT64_C(1) << 62)
/* The RFC's cap on time types: a transition's type is one octet. */
#define TZ_MAX_TYPES 256
/* A rule that changes nothing in 401 years after an instant never will: the
 * Gregorian calendar repeats every 400 years to the weekday. */
#define TZ_RULE_SCAN_YEARS 401

/* The date of a POSIX rule's transition in some year. */
enum tz_date_kind {
    TZ_DATE_JULIAN, /* Jn: 1-365, February 29 never counted */
    TZ_DATE_DAY,    /* n: 0-365, February 29 counted */
    TZ_DATE_MWD,    /* Mm.w.d: day d (0 Sunday) of week w (5: the last) of month m */
};

struct tz_date {
    enum tz_date_kind kind;
    int n, m, w, d;
    int32_t time; /* seconds after local midnight: -167 h to 167 h (RFC 8536 3.3.1) */
};

/* A footer's TZ string, offsets as this module counts them (local = utc + off,
 * the opposite sign of POSIX's). */
struct tz_rule {
    int32_t std_off, dst_off;
    bool has_dst;              /* false also when both offsets are equal: nothing changes */
    struct tz_date start, end; /* start in standard time, end in daylight time */
};

struct tz {
    /* The transition table reduced to the instants where the offset changes:
     * from at[i] on (up to at[i + 1]) the offset is off[i]; before at[0] it is
     * off0, time type 0's (RFC 8536 3.2). */
    size_t n;
    int64_t *at;
    int32_t *off;
    int32_t off0;
    /* From rule_from on (the instant after the last transition, or always when
     * there is none) the footer's rule gives the offset. */
    bool has_rule;
    int64_t rule_from;
    struct tz_rule rule;
};

/* ---- calendar ---- */

int64_t tz_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t mp = (m + 9) % 12;
    int64_t doy = (153 * mp + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void tz_civil_from_days(int64_t days, int64_t *y, int *m, int *d)
{
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

int tz_weekday(int64_t days)
{
    /* 1970-01-01 was a Thursday. */
    int64_t r = (days + 4) % 7;
    return (int)(r < 0 ? r + 7 : r);
}

static bool tz_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int tz_month_days(int64_t y, int m)
{
    static const int len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && tz_leap(y))
        return 29;
    return len[(m - 1) % 12];
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b < 0) ? q - 1 : q;
}

static int64_t year_of(int64_t t)
{
    int64_t y;
    int m, d;
    tz_civil_from_days(floor_div(t, 86400), &y, &m, &d);
    return y;
}

/* ---- POSIX rules ---- */

/* Day number of the rule date in year y. */
static int64_t rule_day(const struct tz_date *dt, int64_t y)
{
    int64_t jan1 = tz_days_from_civil(y, 1, 1);
    switch (dt->kind) {
    case TZ_DATE_JULIAN:
        return jan1 + dt->n - 1 + (tz_leap(y) && dt->n >= 60);
    case TZ_DATE_DAY:
        return jan1 + dt->n;
    case TZ_DATE_MWD:
    default: {
        int64_t first = tz_days_from_civil(y, dt->m, 1);
        int dd = (dt->d - tz_weekday(first) + 7) % 7 + (dt->w - 1) * 7;
        int len = tz_month_days(y, dt->m);
        while (dd >= len)
            dd -= 7;
        return first + dd;
    }
    }
}

struct tz_event {
    int64_t t;
    bool on; /* daylight time starts (true) or ends */
};

/* The two transitions of year y as instants. */
static void rule_events(const struct tz_rule *r, int64_t y, struct tz_event ev[2])
{
    ev[0].t = rule_day(&r->start, y) * 86400 + r->start.time - r->std_off;
    ev[0].on = true;
    ev[1].t = rule_day(&r->end, y) * 86400 + r->end.time - r->dst_off;
    ev[1].on = false;
}

static int64_t clamp_rule_t(int64_t t)
{
    return t < TZ_RULE_T_MIN ? TZ_RULE_T_MIN : t > TZ_RULE_T_MAX ? TZ_RULE_T_MAX : t;
}

/* The offset the rule gives at t: the state set by the latest transition at
 * or before t. A transition's date plus its time (up to 167 h either way)
 * stays within a week of its year, so the years y-2 to y+1 hold the latest
 * one. Of two at the same instant, the start counts as the later: a rule
 * whose daylight time ends as the next year's starts (RFC 8536's example of
 * permanent daylight time, "EST5EDT,0/0,J365/25") stays in daylight time. */
static int32_t rule_offset(const struct tz_rule *r, int64_t t)
{
    if (!r->has_dst)
        return r->std_off;
    t = clamp_rule_t(t);
    int64_t y = year_of(t);
    bool found = false;
    struct tz_event best = {0, false};
    for (int64_t yy = y - 2; yy <= y + 1; yy++) {
        struct tz_event ev[2];
        rule_events(r, yy, ev);
        for (int i = 0; i < 2; i++) {
            if (ev[i].t > t)
                continue;
            if (!found || ev[i].t > best.t || (ev[i].t == best.t && ev[i].on)) {
                best = ev[i];
                found = true;
            }
        }
    }
    return found && best.on ? r->dst_off : r->std_off;
}

/* The first transition after t that changes the rule's offset; INT64_MAX when
 * none does before the end of year 9999 or within TZ_RULE_SCAN_YEARS. Scans
 * calendar years one at a time; the transitions falling inside year yy come
 * from the rules of years yy-1, yy and yy+1. */
static int64_t rule_next_change(const struct tz_rule *r, int64_t t)
{
    if (!r->has_dst || t >= TZ_RULE_T_MAX)
        return INT64_MAX;
    if (t < TZ_RULE_T_MIN)
        t = TZ_RULE_T_MIN;
    int32_t o = rule_offset(r, t);
    int64_t y0 = year_of(t);
    for (int64_t yy = y0; yy <= y0 + TZ_RULE_SCAN_YEARS && yy <= 9999; yy++) {
        int64_t lo = tz_days_from_civil(yy, 1, 1) * 86400;
        int64_t hi = tz_days_from_civil(yy + 1, 1, 1) * 86400;
        struct tz_event ev[6];
        int n = 0;
        for (int64_t k = yy - 1; k <= yy + 1; k++) {
            struct tz_event two[2];
            rule_events(r, k, two);
            for (int i = 0; i < 2; i++)
                if (two[i].t > t && two[i].t >= lo && two[i].t < hi && two[i].t <= TZ_RULE_T_MAX)
                    ev[n++] = two[i];
        }
        /* Insertion sort of at most six. */
        for (int i = 1; i < n; i++)
            for (int j = i; j > 0 && ev[j].t < ev[j - 1].t; j--) {
                struct tz_event x = ev[j];
                ev[j] = ev[j - 1];
                ev[j - 1] = x;
            }
        for (int i = 0; i < n; i++)
            if (rule_offset(r, ev[i].t) != o)
                return ev[i].t;
    }
    return INT64_MAX;
}

struct tz_scan {
    const char *s;
    size_t len, i;
};

static int scan_peek(const struct tz_scan *sc)
{
    return sc->i < sc->len ? (unsigned char)sc->s[sc->i] : -1;
}

static bool is_alpha(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* A zone abbreviation: three or more letters, or <...> holding three or more
 * letters, digits, '+' or '-' ("<+03>"). */
static bool scan_abbr(struct tz_scan *sc)
{
    size_t start;
    if (scan_peek(sc) == '<') {
        start = ++sc->i;
        while (is_alpha(scan_peek(sc)) || is_digit(scan_peek(sc)) || scan_peek(sc) == '+' ||
               scan_peek(sc) == '-')
            sc->i++;
        if (scan_peek(sc) != '>' || sc->i - start < 3)
            return false;
        sc->i++;
        return true;
    }
    start = sc->i;
    while (is_alpha(scan_peek(sc)))
        sc->i++;
    return sc->i - start >= 3;
}

/* One to max_digits decimal digits, at most max. */
static bool scan_num(struct tz_scan *sc, int max_digits, int max, int *out)
{
    int v = 0, k = 0;
    while (k < max_digits && is_digit(scan_peek(sc))) {
        v = v * 10 + (scan_peek(sc) - '0');
        sc->i++;
        k++;
    }
    if (k == 0 || v > max || is_digit(scan_peek(sc)))
        return false;
    *out = v;
    return true;
}

/* [+-]hh[:mm[:ss]] in seconds, hh at most max_h. */
static bool scan_hms(struct tz_scan *sc, int max_h, int32_t *out)
{
    int sign = 1, h, m = 0, s = 0;
    if (scan_peek(sc) == '+' || scan_peek(sc) == '-')
        sign = sc->s[sc->i++] == '-' ? -1 : 1;
    if (!scan_num(sc, 3, max_h, &h))
        return false;
    if (scan_peek(sc) == ':') {
        sc->i++;
        if (!scan_num(sc, 2, 59, &m))
            return false;
        if (scan_peek(sc) == ':') {
            sc->i++;
            if (!scan_num(sc, 2, 59, &s))
                return false;
        }
    }
    *out = sign * (h * 3600 + m * 60 + s);
    return true;
}

/* Jn, n or Mm.w.d, then [/time] (default 02:00:00). */
static bool scan_date(struct tz_scan *sc, struct tz_date *dt)
{
    int c = scan_peek(sc);
    if (c == 'J') {
        sc->i++;
        dt->kind = TZ_DATE_JULIAN;
        if (!scan_num(sc, 3, 365, &dt->n) || dt->n < 1)
            return false;
    } else if (is_digit(c)) {
        dt->kind = TZ_DATE_DAY;
        if (!scan_num(sc, 3, 365, &dt->n))
            return false;
    } else if (c == 'M') {
        sc->i++;
        dt->kind = TZ_DATE_MWD;
        if (!scan_num(sc, 2, 12, &dt->m) || dt->m < 1 || scan_peek(sc) != '.')
            return false;
        sc->i++;
        if (!scan_num(sc, 1, 5, &dt->w) || dt->w < 1 || scan_peek(sc) != '.')
            return false;
        sc->i++;
        if (!scan_num(sc, 1, 6, &dt->d))
            return false;
    } else {
        return false;
    }
    dt->time = 7200;
    if (scan_peek(sc) == '/') {
        sc->i++;
        if (!scan_hms(sc, 167, &dt->time))
            return false;
    }
    return true;
}

/* std offset [dst [offset] [,start[/time],end[/time]]], the whole of s. A
 * daylight name without dates takes the US rules (",M3.2.0,M11.1.0"), as
 * tzcode does. OP_ERR_INVALID with *why (static) otherwise. */
static enum op_rc parse_rule(const char *s, size_t len, struct tz_rule *r, const char **why)
{
    struct tz_scan sc = {s, len, 0};
    int32_t posix_std, posix_dst;
    memset(r, 0, sizeof(*r));
    if (!scan_abbr(&sc)) {
        *why = "no standard time name (three or more letters, or <...>)";
        return OP_ERR_INVALID;
    }
    if (!scan_hms(&sc, 24, &posix_std)) {
        *why = "no valid standard time offset ([+-]hh[:mm[:ss]], hh 0-24)";
        return OP_ERR_INVALID;
    }
    r->std_off = -posix_std;
    r->dst_off = r->std_off;
    if (sc.i == len)
        return OP_OK;
    if (!scan_abbr(&sc)) {
        *why = "no valid daylight time name after the standard offset";
        return OP_ERR_INVALID;
    }
    r->has_dst = true;
    r->dst_off = r->std_off + 3600;
    int c = scan_peek(&sc);
    if (c == '+' || c == '-' || is_digit(c)) {
        if (!scan_hms(&sc, 24, &posix_dst)) {
            *why = "no valid daylight time offset ([+-]hh[:mm[:ss]], hh 0-24)";
            return OP_ERR_INVALID;
        }
        r->dst_off = -posix_dst;
    }
    if (sc.i == len) {
        r->start = (struct tz_date){TZ_DATE_MWD, 0, 3, 2, 0, 7200};
        r->end = (struct tz_date){TZ_DATE_MWD, 0, 11, 1, 0, 7200};
    } else if (scan_peek(&sc) != ',' || (sc.i++, !scan_date(&sc, &r->start)) ||
               scan_peek(&sc) != ',' || (sc.i++, !scan_date(&sc, &r->end)) || sc.i != len) {
        *why = "no valid rule (,start[/time],end[/time] with Jn, n or Mm.w.d dates)";
        return OP_ERR_INVALID;
    }
    /* A rule that never changes the offset (equal offsets, or daylight time
     * all year as in RFC 8536's "EST5EDT,0/0,J365/25") becomes the fixed
     * offset it gives, so that no query scans 401 years for a change. */
    if (r->dst_off == r->std_off) {
        r->has_dst = false;
    } else if (rule_next_change(r, 0) == INT64_MAX) {
        r->std_off = rule_offset(r, 0);
        r->has_dst = false;
    }
    return OP_OK;
}

/* ---- TZif ---- */

struct tz_hdr {
    char version; /* 0 for version 1, else '2', '3', ... */
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const unsigned char *p)
{
    return (uint64_t)be32(p) << 32 | be32(p + 4);
}

static enum op_rc tz_bad(struct buf *err, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum op_rc tz_bad(struct buf *err, const char *what, const char *fmt, ...)
{
    va_list ap;
    buf_addf(err, "%s: not a valid TZif file: ", what);
    va_start(ap, fmt);
    buf_vaddf(err, fmt, ap);
    va_end(ap);
    return OP_ERR_INVALID;
}

static enum op_rc read_hdr(const unsigned char *p, size_t len, size_t pos, const char *what,
                           struct tz_hdr *h, struct buf *err)
{
    if (len - pos < TZ_HEADER_BYTES)
        return tz_bad(err, what, "%s at byte %zu (%zu bytes left, a header is 44)",
                      pos ? "the second header is truncated" : "shorter than its header", pos,
                      len - pos);
    if (memcmp(p + pos, "TZif", 4) != 0)
        return tz_bad(err, what, "no \"TZif\" magic at byte %zu", pos);
    h->version = (char)p[pos + 4];
    if (h->version != 0 && h->version < '2')
        return tz_bad(err, what, "unknown version byte 0x%02x", (unsigned char)h->version);
    const unsigned char *c = p + pos + 20;
    h->isutcnt = be32(c);
    h->isstdcnt = be32(c + 4);
    h->leapcnt = be32(c + 8);
    h->timecnt = be32(c + 12);
    h->typecnt = be32(c + 16);
    h->charcnt = be32(c + 20);
    return OP_OK;
}

/* Bytes of the data block a header announces, with times of tsize bytes. */
static uint64_t block_bytes(const struct tz_hdr *h, unsigned tsize)
{
    return (uint64_t)h->timecnt * (tsize + 1) + (uint64_t)h->typecnt * 6 + h->charcnt +
           (uint64_t)h->leapcnt * (tsize + 4) + h->isstdcnt + h->isutcnt;
}

/* Check the data block at p (its size already checked) and build z's table. */
static enum op_rc read_block(const unsigned char *p, const struct tz_hdr *h, unsigned tsize,
                             const char *what, struct tz *z, struct buf *err)
{
    if (h->typecnt == 0 || h->typecnt > TZ_MAX_TYPES)
        return tz_bad(err, what, "%u time types (1-%d)", h->typecnt, TZ_MAX_TYPES);
    if (h->charcnt == 0)
        return tz_bad(err, what, "no time zone designations (charcnt 0)");
    if (h->isstdcnt != 0 && h->isstdcnt != h->typecnt)
        return tz_bad(err, what, "%u standard/wall indicators for %u time types", h->isstdcnt,
                      h->typecnt);
    if (h->isutcnt != 0 && h->isutcnt != h->typecnt)
        return tz_bad(err, what, "%u UT/local indicators for %u time types", h->isutcnt,
                      h->typecnt);
    if (h->leapcnt != 0)
        return tz_bad(err, what,
                      "%u leap-second records (leap-second \"right/\" zones are not supported)",
                      h->leapcnt);
    const unsigned char *times = p;
    const unsigned char *idx = times + (size_t)h->timecnt * tsize;
    const unsigned char *types = idx + h->timecnt;
    const unsigned char *chars = types + (size_t)h->typecnt * 6;
    const unsigned char *isstd = chars + h->charcnt;
    const unsigned char *isut = isstd + h->isstdcnt;

    int32_t utoff[TZ_MAX_TYPES];
    for (uint32_t i = 0; i < h->typecnt; i++) {
        const unsigned char *t = types + (size_t)i * 6;
        int32_t o = (int32_t)be32(t);
        if (o < TZ_OFFSET_MIN || o > TZ_OFFSET_MAX)
            return tz_bad(err, what, "time type %u: offset %d s is outside %d to %d", i, o,
                          TZ_OFFSET_MIN, TZ_OFFSET_MAX);
        if (t[4] > 1)
            return tz_bad(err, what, "time type %u: DST flag %u is not 0 or 1", i, t[4]);
        if (t[5] >= h->charcnt)
            return tz_bad(err, what, "time type %u: designation index %u beyond %u bytes", i, t[5],
                          h->charcnt);
        utoff[i] = o;
    }
    if (chars[h->charcnt - 1] != '\0')
        return tz_bad(err, what, "the designations do not end with a NUL byte");
    for (uint32_t i = 0; i < h->isstdcnt; i++)
        if (isstd[i] > 1 || (h->isutcnt && isut[i] == 1 && isstd[i] != 1))
            return tz_bad(err, what, "time type %u: bad standard/wall indicator %u", i, isstd[i]);
    for (uint32_t i = 0; i < h->isutcnt; i++)
        if (isut[i] > 1)
            return tz_bad(err, what, "time type %u: bad UT/local indicator %u", i, isut[i]);

    z->off0 = utoff[0];
    z->at = xmalloc(((size_t)h->timecnt + 1) * sizeof(*z->at));
    z->off = xmalloc(((size_t)h->timecnt + 1) * sizeof(*z->off));
    int32_t prev = z->off0;
    int64_t last = 0;
    for (uint32_t i = 0; i < h->timecnt; i++) {
        const unsigned char *t = times + (size_t)i * tsize;
        int64_t at = tsize == 8 ? (int64_t)be64(t) : (int64_t)(int32_t)be32(t);
        if (at < -TZ_TIME_LIMIT || at > TZ_TIME_LIMIT)
            return tz_bad(err, what, "transition %u at %lld is out of range", i, (long long)at);
        if (i > 0 && at <= last)
            return tz_bad(err, what, "transition %u (%lld) is not after the one before (%lld)", i,
                          (long long)at, (long long)last);
        if (idx[i] >= h->typecnt)
            return tz_bad(err, what, "transition %u names time type %u of %u", i, idx[i],
                          h->typecnt);
        last = at;
        if (utoff[idx[i]] != prev) {
            prev = utoff[idx[i]];
            z->at[z->n] = at;
            z->off[z->n] = prev;
            z->n++;
        }
    }
    z->rule_from = h->timecnt ? last + 1 : INT64_MIN;
    return OP_OK;
}

enum op_rc tz_parse(const void *data, size_t len, const char *what, struct tz **out,
                    struct buf *err)
{
    const unsigned char *p = data;
    struct tz_hdr h;
    struct tz *z = NULL;
    enum op_rc rc;
    size_t pos = 0;
    unsigned tsize = 4;

    *out = NULL;
    if (len > TZ_MAX_FILE_BYTES) {
        buf_addf(err, "%s: larger than %d bytes", what, TZ_MAX_FILE_BYTES);
        return OP_ERR_LIMIT;
    }
    rc = read_hdr(p, len, 0, what, &h, err);
    if (rc != OP_OK)
        return rc;
    pos = TZ_HEADER_BYTES;
    if (h.version != 0) {
        /* Version 2+: skip the 32-bit block for the 64-bit one after it. */
        uint64_t skip = block_bytes(&h, 4);
        if (skip > len - pos)
            return tz_bad(err, what, "truncated: the version 1 data needs %llu bytes, %zu follow",
                          (unsigned long long)skip, len - pos);
        pos += (size_t)skip;
        rc = read_hdr(p, len, pos, what, &h, err);
        if (rc != OP_OK)
            return rc;
        if (h.version == 0)
            return tz_bad(err, what, "the second header says version 1");
        pos += TZ_HEADER_BYTES;
        tsize = 8;
    }
    uint64_t need = block_bytes(&h, tsize);
    if (need > len - pos)
        return tz_bad(err, what, "truncated: the header announces %llu bytes of data, %zu follow",
                      (unsigned long long)need, len - pos);
    z = xcalloc(1, sizeof(*z));
    rc = read_block(p + pos, &h, tsize, what, z, err);
    if (rc != OP_OK)
        goto out;
    pos += (size_t)need;
    if (h.version != 0) {
        /* The footer: a newline, a POSIX TZ string (maybe empty), a newline. */
        const unsigned char *nl =
            pos + 1 < len && p[pos] == '\n' ? memchr(p + pos + 1, '\n', len - pos - 1) : NULL;
        if (!nl) {
            rc = tz_bad(err, what, "no footer (a TZ string between newlines) after the data");
            goto out;
        }
        const char *s = (const char *)p + pos + 1;
        size_t slen = (size_t)((const char *)nl - s);
        if (memchr(s, '\0', slen)) {
            rc = tz_bad(err, what, "a NUL byte in the footer");
            goto out;
        }
        if (slen > 0) {
            const char *why = "";
            if (parse_rule(s, slen, &z->rule, &why) != OP_OK) {
                /* Quoted with escapes: the bytes may be anything. */
                char *shown = xstrndup(s, slen > 64 ? 64 : slen);
                rc = tz_bad(err, what, "footer ");
                buf_add_json_string(err, shown);
                buf_addf(err, "%s: %s", slen > 64 ? "..." : "", why);
                free(shown);
                goto out;
            }
            z->has_rule = true;
        }
    }
    *out = z;
    z = NULL;
out:
    tz_free(z);
    return rc;
}

/* ---- loading ---- */

/* The name's rules (tz.h); false with a message in err. */
static bool name_ok(const char *name, struct buf *err)
{
    size_t len = strlen(name);
    const char *why = NULL;
    if (len == 0)
        why = "is empty";
    else if (len > TZ_MAX_NAME_BYTES)
        why = "is longer than 255 bytes";
    else if (name[0] == '/')
        why = "starts with '/' (names are relative to the zoneinfo directory)";
    else if (strstr(name, ".."))
        why = "holds \"..\"";
    else
        for (size_t i = 0; i < len && !why; i++) {
            int c = (unsigned char)name[i];
            if (!is_alpha(c) && !is_digit(c) && c != '/' && c != '_' && c != '-' && c != '+')
                why = "holds a character other than letters, digits, '/', '_', '-' and '+'";
        }
    if (!why)
        return true;
    buf_adds(err, "time zone ");
    if (len > TZ_MAX_NAME_BYTES)
        buf_add_json_string(err, "...");
    else
        buf_add_json_string(err, name);
    buf_addf(err, " %s", why);
    return false;
}

/* The regular file at path into b (capped at TZ_MAX_FILE_BYTES). Opened
 * non-blocking so that a FIFO in the directory cannot stall the caller. */
static enum op_rc read_file(const char *path, struct buf *b, const char **why)
{
    enum op_rc rc = OP_OK;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        *why = strerror(errno);
        return errno == ENOENT || errno == ENOTDIR ? OP_ERR_NOT_FOUND : OP_ERR_IO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        *why = strerror(errno);
        rc = OP_ERR_IO;
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        *why = "not a regular file";
        rc = OP_ERR_IO;
        goto out;
    }
    if (st.st_size > TZ_MAX_FILE_BYTES) {
        *why = "larger than 1048576 bytes";
        rc = OP_ERR_LIMIT;
        goto out;
    }
    char chunk[4096];
    for (;;) {
        ssize_t r = read(fd, chunk, sizeof(chunk));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            *why = strerror(errno);
            rc = OP_ERR_IO;
            goto out;
        }
        if (r == 0)
            break;
        if (buf_add(b, chunk, (size_t)r) != OP_OK) {
            *why = "larger than 1048576 bytes";
            rc = OP_ERR_LIMIT;
            goto out;
        }
    }
out:
    close(fd);
    return rc;
}

enum op_rc tz_load(const char *name, struct tz **out, struct buf *err)
{
    struct buf path, data, what;
    enum op_rc rc;
    const char *why = "";

    *out = NULL;
    if (!name_ok(name, err))
        return OP_ERR_INVALID;
    /* Built in, so that UTC works on a system without tzdata. */
    if (strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0) {
        *out = xcalloc(1, sizeof(**out));
        return OP_OK;
    }
    const char *dir = getenv("TZDIR");
    if (!dir || !*dir)
        dir = TZ_DEFAULT_DIR;
    buf_init(&path, TZ_MAX_PATH_BYTES);
    buf_init(&data, TZ_MAX_FILE_BYTES);
    buf_init(&what, TZ_MAX_PATH_BYTES + TZ_MAX_NAME_BYTES + 64);
    buf_addf(&path, "%s/%s", dir, name);
    buf_adds(&what, "time zone ");
    buf_add_json_string(&what, name);
    buf_addf(&what, " (%s)", buf_str(&path));
    if (path.failed || what.failed) {
        buf_addf(err, "time zone \"%s\": $TZDIR is too long", name);
        rc = OP_ERR_LIMIT;
        goto out;
    }
    rc = read_file(buf_str(&path), &data, &why);
    if (rc == OP_ERR_NOT_FOUND) {
        buf_addf(err, "unknown time zone \"%s\" (no file %s)", name, buf_str(&path));
        goto out;
    }
    if (rc != OP_OK) {
        buf_addf(err, "%s: %s", buf_str(&what), why);
        goto out;
    }
    rc = tz_parse(data.data ? data.data : "", data.len, buf_str(&what), out, err);
out:
    buf_free(&path);
    buf_free(&data);
    buf_free(&what);
    return rc;
}

void tz_free(struct tz *z)
{
    if (!z)
        return;
    free(z->at);
    free(z->off);
    free(z);
}

/* ---- queries ---- */

/* Number of table changes at or before t. */
static size_t table_count(const struct tz *z, int64_t t)
{
    size_t lo = 0, hi = z->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (z->at[mid] <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int32_t tz_offset(const struct tz *z, int64_t t)
{
    if (!z)
        return 0;
    if (z->has_rule && t >= z->rule_from)
        return rule_offset(&z->rule, t);
    size_t i = table_count(z, t);
    return i == 0 ? z->off0 : z->off[i - 1];
}

int64_t tz_next_change(const struct tz *z, int64_t t)
{
    if (!z)
        return INT64_MAX;
    int32_t o = tz_offset(z, t);
    int64_t cur = t;
    /* At most three rounds: a table change, the rule's first instant (which
     * may keep the offset), a change of the rule. */
    for (;;) {
        int64_t cand;
        if (z->has_rule && cur >= z->rule_from) {
            cand = rule_next_change(&z->rule, cur);
        } else {
            size_t i = table_count(z, cur);
            cand = i < z->n ? z->at[i] : z->has_rule ? z->rule_from : INT64_MAX;
        }
        if (cand == INT64_MAX || tz_offset(z, cand) != o)
            return cand;
        cur = cand;
    }
}
