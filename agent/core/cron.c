/* cron.c - cron expressions: parsing into bitsets, the next start in a zone. */
#include "cron.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* cron_next answers for `after` in the years 1 to 9990 (tz.h's rules hold
 * up to 9999, and the horizon must fit before). */
#define CRON_T_MIN TZ_RULE_T_MIN
#define CRON_T_MAX INT64_C(253118303999) /* 9990-12-31T23:59:59Z */

struct cron {
    uint64_t minute; /* bits 0-59 */
    uint32_t hour;   /* bits 0-23 */
    uint32_t dom;    /* bits 1-31 */
    uint32_t month;  /* bits 1-12 */
    uint32_t dow;    /* bits 0-6, Sunday 0 (7 folded into it) */
    /* A bare '*' in a day field: the day matches on the other field alone. */
    bool dom_star, dow_star;
    /* The days 1-31 whose weekday is in dow, for a month starting on weekday
     * w: a month's matching days are then one OR or AND of two masks. */
    uint32_t dow_days[7];
};

struct cron_field {
    const char *name;
    int min, max;
    int star_max;             /* what '*' and "a/step" run up to (day-of-week: 6) */
    const char *const *names; /* [nnames] names, the first one for min, or NULL */
    int nnames;
    const char *want; /* the values, for messages */
};

static const char *const month_names[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                          "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
static const char *const dow_names[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

static const struct cron_field fields[5] = {
    {"minute", 0, 59, 59, NULL, 0, "0-59"},
    {"hour", 0, 23, 23, NULL, 0, "0-23"},
    {"day-of-month", 1, 31, 31, NULL, 0, "1-31"},
    {"month", 1, 12, 12, month_names, 12, "1-12 or JAN-DEC"},
    {"day-of-week", 0, 7, 6, dow_names, 7, "0-7 or SUN-SAT"},
};

static const struct {
    const char *name, *expr;
} macros[] = {
    {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
};

/* `what: "text"` with the text escaped, the start of every message. */
static void err_quote(struct buf *err, const char *what, const char *s, size_t n)
{
    char *t = xstrndup(s, n);
    if (what)
        buf_addf(err, "%s: ", what);
    buf_add_json_string(err, t);
    free(t);
}

static int upper(int c)
{
    return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
}

/* One value of field f: digits, or a name where the field has names. */
static bool parse_value(const struct cron_field *f, const char *s, size_t n, int *out)
{
    uint64_t v;
    if (n > 0 && s[0] >= '0' && s[0] <= '9') {
        if (parse_u64(s, n, (uint64_t)f->max, &v) != OP_OK || (int)v < f->min)
            return false;
        *out = (int)v;
        return true;
    }
    if (!f->names || n != 3)
        return false;
    for (int i = 0; i < f->nnames; i++) {
        const char *name = f->names[i];
        if (upper(s[0]) == name[0] && upper(s[1]) == name[1] && upper(s[2]) == name[2]) {
            *out = f->min + i;
            return true;
        }
    }
    return false;
}

/* One element of a list: '*', a, a-b, each with an optional /step. */
static bool parse_element(const struct cron_field *f, const char *s, size_t n, uint64_t *bits,
                          struct buf *err)
{
    const char *slash = memchr(s, '/', n);
    size_t base_n = slash ? (size_t)(slash - s) : n;
    int lo, hi, step = 1;

    if (base_n == 1 && s[0] == '*') {
        lo = f->min;
        hi = f->star_max;
    } else {
        const char *dash = memchr(s, '-', base_n);
        size_t a_n = dash ? (size_t)(dash - s) : base_n;
        size_t b_n = dash ? base_n - a_n - 1 : 0;
        bool a_ok = parse_value(f, s, a_n, &lo);
        bool b_ok = dash ? parse_value(f, dash + 1, b_n, &hi) : (hi = slash ? f->star_max : lo, 1);
        if (!a_ok || !b_ok) {
            /* The value at fault; the whole element when a side is empty. */
            if (a_n == 0 || (dash && b_n == 0))
                err_quote(err, f->name, s, base_n);
            else if (!a_ok)
                err_quote(err, f->name, s, a_n);
            else
                err_quote(err, f->name, dash + 1, b_n);
            buf_addf(err, " is not %s", f->want);
            return false;
        }
        if (hi < lo) {
            err_quote(err, f->name, s, base_n);
            buf_adds(err, ": the range ends before it starts");
            if (f->names == dow_names && hi == 0)
                buf_adds(err, " (Sunday ends a range as 7)");
            return false;
        }
    }
    if (slash) {
        uint64_t v;
        int span = f->star_max - f->min + 1;
        size_t step_n = n - base_n - 1;
        if (parse_u64(slash + 1, step_n, (uint64_t)span, &v) != OP_OK || v == 0) {
            err_quote(err, f->name, s, n);
            buf_addf(err, ": the step is not 1-%d", span);
            return false;
        }
        step = (int)v;
    }
    for (int v = lo; v <= hi; v += step)
        *bits |= UINT64_C(1) << (f->names == dow_names && v == 7 ? 0 : v);
    return true;
}

static bool parse_field(const struct cron_field *f, const char *s, size_t n, uint64_t *bits,
                        bool *star, struct buf *err)
{
    *bits = 0;
    *star = n == 1 && s[0] == '*';
    size_t i = 0;
    for (;;) {
        const char *comma = memchr(s + i, ',', n - i);
        size_t e = comma ? (size_t)(comma - s) : n;
        if (e == i) {
            err_quote(err, f->name, s, n);
            buf_adds(err, " has an empty list element");
            return false;
        }
        if (!parse_element(f, s + i, e - i, bits, err))
            return false;
        if (!comma)
            return true;
        i = e + 1;
    }
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

enum op_rc cron_parse(const char *expr, struct cron **out, struct buf *err)
{
    size_t len = strlen(expr);
    *out = NULL;
    if (len > CRON_MAX_EXPR_BYTES) {
        buf_addf(err, "cron expression: longer than %d bytes", CRON_MAX_EXPR_BYTES);
        return OP_ERR_LIMIT;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)expr[i];
        if ((c < 0x20 && c != '\t') || c >= 0x7f) {
            buf_addf(err, "cron expression: byte %zu is a control character or not ASCII", i + 1);
            return OP_ERR_INVALID;
        }
    }
    size_t b = 0, e = len;
    while (b < e && is_blank(expr[b]))
        b++;
    while (e > b && is_blank(expr[e - 1]))
        e--;
    if (b == e) {
        buf_adds(err, "cron expression: empty");
        return OP_ERR_INVALID;
    }
    const char *s = expr + b;
    size_t n = e - b;
    if (s[0] == '@') {
        for (size_t i = 0; i < ARRAY_SIZE(macros); i++)
            if (strlen(macros[i].name) == n && strncmp(s, macros[i].name, n) == 0)
                return cron_parse(macros[i].expr, out, err);
        err_quote(err, "cron expression", s, n);
        buf_adds(err, " is not one of @yearly @annually @monthly @weekly @daily @midnight "
                      "@hourly");
        return OP_ERR_INVALID;
    }

    /* Split into fields. */
    const char *fs[6];
    size_t fn[6];
    int nf = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && !is_blank(s[j]))
            j++;
        if (nf < 6) {
            fs[nf] = s + i;
            fn[nf] = j - i;
        }
        nf++;
        while (j < n && is_blank(s[j]))
            j++;
        i = j;
    }
    if (nf != 5) {
        err_quote(err, "cron expression", s, n);
        buf_addf(err, " has %d field%s, not 5 (minute hour day-of-month month day-of-week)", nf,
                 nf == 1 ? "" : "s");
        return OP_ERR_INVALID;
    }

    struct cron *c = xcalloc(1, sizeof(*c));
    uint64_t bits[5];
    bool star[5];
    for (int i = 0; i < 5; i++)
        if (!parse_field(&fields[i], fs[i], fn[i], &bits[i], &star[i], err)) {
            free(c);
            return OP_ERR_INVALID;
        }
    c->minute = bits[0];
    c->hour = (uint32_t)bits[1];
    c->dom = (uint32_t)bits[2];
    c->month = (uint32_t)bits[3];
    c->dow = (uint32_t)bits[4];
    c->dom_star = star[2];
    c->dow_star = star[4];
    for (int w = 0; w < 7; w++)
        for (int d = 1; d <= 31; d++)
            if (c->dow & (1u << ((w + d - 1) % 7)))
                c->dow_days[w] |= 1u << d;
    *out = c;
    return OP_OK;
}

void cron_free(struct cron *c)
{
    free(c);
}

/* ---- the next start ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b < 0) ? q - 1 : q;
}

/* The days of month m of year y that match (bits 1-31). Vixie's rule: with
 * both day fields restricted a day matches either; with one a bare '*', the
 * other decides (the '*' field has every bit, so AND gives that). */
static uint32_t month_days(const struct cron *c, int64_t y, int m)
{
    int len = tz_month_days(y, m);
    uint32_t valid = ((UINT32_C(1) << len) - 1) << 1;
    uint32_t dow = c->dow_days[tz_weekday(tz_days_from_civil(y, m, 1))];
    uint32_t days = c->dom_star || c->dow_star ? c->dom & dow : c->dom | dow;
    return days & valid;
}

/* Lowest bit set at or above bit `from` in v (64 when none). */
static int next_bit(uint64_t v, int from)
{
    if (from >= 64)
        return 64;
    v &= ~UINT64_C(0) << from;
    return v ? __builtin_ctzll(v) : 64;
}

/* The first local time (seconds of the proleptic calendar read as if UTC) at
 * or after l0, a whole minute, that the expression matches; INT64_MAX when it
 * is later than limit. Whole months, days and hours that cannot match are
 * skipped with one bit search each, so a year costs a few steps. */
static int64_t next_local(const struct cron *c, int64_t l0, int64_t limit)
{
    int64_t day = floor_div(l0, 86400);
    int sec = (int)(l0 - day * 86400);
    int h = sec / 3600, mi = sec % 3600 / 60, mo, d;
    int64_t y;
    tz_civil_from_days(day, &y, &mo, &d);

    while (day * 86400 <= limit) {
        if (!(c->month & (1u << mo))) {
            int nm = next_bit(c->month, mo + 1);
            if (nm > 12) {
                y++;
                nm = next_bit(c->month, 1);
            }
            mo = nm;
            d = 1;
            h = mi = 0;
            day = tz_days_from_civil(y, mo, d);
            continue;
        }
        int nd = next_bit(month_days(c, y, mo), d);
        if (nd > 31) {
            if (++mo > 12) {
                mo = 1;
                y++;
            }
            d = 1;
            h = mi = 0;
            day = tz_days_from_civil(y, mo, d);
            continue;
        }
        if (nd != d) {
            day += nd - d;
            d = nd;
            h = mi = 0;
            continue;
        }
        int nh = next_bit(c->hour, h);
        if (nh > 23) {
            day++;
            tz_civil_from_days(day, &y, &mo, &d);
            h = mi = 0;
            continue;
        }
        if (nh != h) {
            h = nh;
            mi = 0;
        }
        int nmi = next_bit(c->minute, mi);
        if (nmi > 59) {
            h++;
            mi = 0;
            if (h == 24) {
                day++;
                tz_civil_from_days(day, &y, &mo, &d);
                h = 0;
            }
            continue;
        }
        int64_t l = day * 86400 + h * 3600 + nmi * 60;
        return l <= limit ? l : INT64_MAX;
    }
    return INT64_MAX;
}

/* The latest local time the zone's clocks have shown at or before `after`:
 * later than after's own local time when `after` falls in a repeated hour's
 * second pass. Only the last TZ_OFFSET_MAX - TZ_OFFSET_MIN seconds can show
 * a later local time than `after` does (offsets differ by at most that), and
 * within each stretch of one offset the latest is its end. */
static int64_t local_max(const struct tz *z, int64_t after)
{
    int64_t best = after + tz_offset(z, after);
    int64_t s = after - (TZ_OFFSET_MAX - TZ_OFFSET_MIN + 1);
    while (s < after) {
        int32_t o = tz_offset(z, s);
        int64_t next = tz_next_change(z, s);
        int64_t end = next <= after ? next - 1 : after;
        if (end + o > best)
            best = end + o;
        if (next > after)
            break;
        s = next;
    }
    return best;
}

/* The first instant after `after` whose local time is l or later: l itself
 * when the clocks show it, the end of the gap when a spring-forward skips it. */
static int64_t first_instant(const struct tz *z, int64_t after, int64_t l)
{
    int64_t s = l - TZ_OFFSET_MAX;
    if (s <= after)
        s = after + 1;
    for (;;) {
        int32_t o = tz_offset(z, s);
        int64_t next = tz_next_change(z, s);
        int64_t t = l - o < s ? s : l - o;
        if (t < next)
            return t;
        s = next;
    }
}

/* Every local time L the expression matches starts at S(L), the first
 * instant whose local time is L or later; S never decreases as L grows. So
 * the answer is S of the first matching L later than any local time shown up
 * to `after`: a local time skipped by a gap starts when the gap ends, and
 * one shown twice starts at its first showing only (by the second, a later
 * local time has been shown already). */
int64_t cron_next(const struct cron *c, const struct tz *z, int64_t after)
{
    if (!c || after < CRON_T_MIN || after > CRON_T_MAX)
        return INT64_MAX;
    int64_t m = local_max(z, after);
    int64_t l = next_local(c, floor_div(m, 60) * 60 + 60, m + (int64_t)CRON_HORIZON_DAYS * 86400);
    if (l == INT64_MAX)
        return INT64_MAX;
    return first_instant(z, after, l);
}
