/* html.c - escaping and human-readable numbers for the status page (html.h). */
#include "html.h"
#include "common.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void html_text(struct buf *b, const char *s)
{
    if (!s)
        return;
    /* Safe runs go out in one append: names and details are mostly plain. */
    const char *run = s;
    const unsigned char *p = (const unsigned char *)s;
    for (; *p; p++) {
        const char *rep;
        switch (*p) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        default:
            if ((*p >= 0x20 && *p != 0x7f) || *p == '\t' || *p == '\n')
                continue;
            rep = "\xef\xbf\xbd"; /* U+FFFD REPLACEMENT CHARACTER */
        }
        buf_add(b, run, (size_t)((const char *)p - run));
        buf_adds(b, rep);
        run = (const char *)p + 1;
    }
    buf_add(b, run, (size_t)((const char *)p - run));
}

void html_query_value(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            buf_addc(b, (char)*p);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            buf_add(b, e, 3);
        }
    }
}

void html_percent(struct buf *b, double ratio, int decimals)
{
    double v = ratio * 100.0, unit = pow(10.0, -decimals);
    /* A ratio strictly between 0 and 1 is never shown as exactly 0 or
     * 100 %: an SLI of 0.9999996 is not "100.000 %" while events were bad,
     * and an error ratio of 1e-6 is not "0.00 %". It reads "> 99.999 %",
     * "< 0.01 %" instead. */
    if (ratio > 0 && ratio < 1 && v >= 100.0 - unit / 2) {
        buf_addf(b, "> %.*f %%", decimals, 100.0 - unit);
        return;
    }
    if (ratio > 0 && ratio < 1 && v < unit / 2) {
        buf_addf(b, "< %.*f %%", decimals, unit);
        return;
    }
    /* "-0.0 %" reads as a sign error: what rounds to zero is zero. */
    if (fabs(v) < unit / 2)
        v = 0.0;
    buf_addf(b, "%.*f %%", decimals, v);
}

void html_objective(struct buf *b, double ratio)
{
    char s[64];
    snprintf(s, sizeof(s), "%.4f", ratio * 100.0);
    size_t n = strlen(s);
    if (strchr(s, '.')) {
        while (n > 0 && s[n - 1] == '0')
            n--;
        if (n > 0 && s[n - 1] == '.')
            n--;
    }
    buf_add(b, s, n);
    buf_adds(b, " %");
}

void html_seconds(struct buf *b, double s, bool sign)
{
    if (!isfinite(s)) {
        buf_adds(b, "\xe2\x80\x93"); /* – */
        return;
    }
    static const struct {
        double below, scale;
        const char *unit;
    } units[] = {{1e-3, 1e6, "\xc2\xb5s"}, {1.0, 1e3, "ms"}, {INFINITY, 1.0, "s"}}; /* µs */
    const char *prefix = s < 0 ? "-" : sign ? "+" : "";
    double a = fabs(s);
    size_t u = 0;
    while (a >= units[u].below)
        u++;
    double v = a * units[u].scale;
    int decimals = v < 10.0 ? 2 : v < 100.0 ? 1 : 0;
    /* The digits are chosen for the value as it will be rounded: 999.7 ms
     * reads "1.00 s", not "1000 ms", and 9.996 ms "10.0 ms", not "10.00 ms". */
    double r = round(v * pow(10.0, decimals)) / pow(10.0, decimals);
    if (r >= 1000.0 && u + 1 < ARRAY_SIZE(units)) {
        u++;
        v = a * units[u].scale;
        decimals = 2;
    } else if ((decimals == 2 && r >= 10.0) || (decimals == 1 && r >= 100.0)) {
        decimals--;
    }
    if (a == 0.0) {
        decimals = 0;
        prefix = sign ? "+" : "";
    }
    buf_addf(b, "%s%.*f %s", prefix, decimals, v, units[u].unit);
}

void html_duration(struct buf *b, double s)
{
    if (!(s > 0.0))
        s = 0.0;
    /* Beyond about 300 years nobody reads the number: cap it so the
     * conversion stays defined. */
    if (s > 1e10)
        s = 1e10;
    unsigned long long t = (unsigned long long)s;
    unsigned long long d = t / 86400, h = t % 86400 / 3600, m = t % 3600 / 60;
    if (d > 0) {
        buf_addf(b, "%llu %s", d, d == 1 ? "day" : "days");
        if (h > 0)
            buf_addf(b, " %llu h", h);
    } else if (h > 0) {
        buf_addf(b, "%llu h", h);
        if (m > 0)
            buf_addf(b, " %llu min", m);
    } else if (m > 0) {
        buf_addf(b, "%llu min", m);
    } else {
        buf_addf(b, "%llu s", t);
    }
}

/* "YYYY-MM-DDTHH:MM:SSZ" exactly: digits where digits belong. */
static bool is_rfc3339_utc(const char *s)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
    if (strlen(s) != sizeof(shape) - 1)
        return false;
    for (size_t i = 0; shape[i]; i++) {
        if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
            return false;
    }
    return true;
}

void html_time(struct buf *b, const char *rfc3339)
{
    if (!rfc3339) {
        buf_adds(b, "\xe2\x80\x93"); /* – */
        return;
    }
    if (!is_rfc3339_utc(rfc3339)) {
        html_text(b, rfc3339);
        return;
    }
    buf_adds(b, "<time datetime=\"");
    buf_adds(b, rfc3339);
    buf_adds(b, "\">");
    buf_add(b, rfc3339, 10);
    buf_addc(b, ' ');
    buf_add(b, rfc3339 + 11, 8);
    buf_adds(b, " UTC</time>");
}

void html_base64(struct buf *b, const unsigned char *p, size_t n)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
        char o[4] = {alphabet[v >> 18], alphabet[v >> 12 & 63], alphabet[v >> 6 & 63],
                     alphabet[v & 63]};
        buf_add(b, o, 4);
    }
    if (n - i == 1) {
        unsigned v = (unsigned)p[i] << 16;
        char o[4] = {alphabet[v >> 18], alphabet[v >> 12 & 63], '=', '='};
        buf_add(b, o, 4);
    } else if (n - i == 2) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8;
        char o[4] = {alphabet[v >> 18], alphabet[v >> 12 & 63], alphabet[v >> 6 & 63], '='};
        buf_add(b, o, 4);
    }
}
