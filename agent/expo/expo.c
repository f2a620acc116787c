/* expo.c - exposition formats. */
#include "expo.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void expo_init(struct expo *e, struct buf *b, enum expo_format fmt)
{
    e->b = b;
    e->fmt = fmt;
}

void expo_format_double(char *out, size_t cap, double v)
{
    fmt_double(out, cap, v);
}

void expo_escape_label(struct buf *b, const char *v)
{
    for (const char *p = v; *p; p++) {
        if (*p == '\\')
            buf_adds(b, "\\\\");
        else if (*p == '"')
            buf_adds(b, "\\\"");
        else if (*p == '\n')
            buf_adds(b, "\\n");
        else
            buf_addc(b, *p);
    }
}

void expo_escape_help(struct buf *b, const char *v, enum expo_format fmt)
{
    for (const char *p = v; *p; p++) {
        if (*p == '\\')
            buf_adds(b, "\\\\");
        else if (*p == '\n')
            buf_adds(b, "\\n");
        else if (*p == '"' && fmt == EXPO_OPENMETRICS)
            buf_adds(b, "\\\"");
        else
            buf_addc(b, *p);
    }
}

static bool ends_with(const char *s, const char *sfx)
{
    size_t n = strlen(s), m = strlen(sfx);
    return n >= m && strcmp(s + n - m, sfx) == 0;
}

void expo_family(struct expo *e, const char *name, enum expo_type type, const char *help)
{
    size_t len = strlen(name);
    const char *tname = "gauge";
    if (e->fmt == EXPO_OPENMETRICS) {
        /* OpenMetrics names the family without the sample suffix. */
        if (type == EXPO_COUNTER && ends_with(name, "_total"))
            len -= 6;
        else if (type == EXPO_INFO && ends_with(name, "_info"))
            len -= 5;
        tname = type == EXPO_COUNTER     ? "counter"
                : type == EXPO_HISTOGRAM ? "histogram"
                : type == EXPO_SUMMARY   ? "summary"
                : type == EXPO_INFO      ? "info"
                                         : "gauge";
    } else {
        tname = type == EXPO_COUNTER     ? "counter"
                : type == EXPO_HISTOGRAM ? "histogram"
                : type == EXPO_SUMMARY   ? "summary"
                                         : "gauge";
    }
    buf_adds(e->b, "# HELP ");
    buf_add(e->b, name, len);
    buf_addc(e->b, ' ');
    expo_escape_help(e->b, help, e->fmt);
    buf_adds(e->b, "\n# TYPE ");
    buf_add(e->b, name, len);
    buf_addf(e->b, " %s\n", tname);
}

static void put_series(struct expo *e, const char *name, const char *suffix,
                       const struct label *labels, size_t n, const struct label *extra)
{
    buf_adds(e->b, name);
    buf_adds(e->b, suffix);
    if (n == 0 && !extra)
        return;
    buf_addc(e->b, '{');
    for (size_t i = 0; i < n + (extra != NULL); i++) {
        const struct label *l = i < n ? &labels[i] : extra;
        if (i)
            buf_addc(e->b, ',');
        buf_adds(e->b, l->name);
        buf_adds(e->b, "=\"");
        expo_escape_label(e->b, l->value);
        buf_addc(e->b, '"');
    }
    buf_addc(e->b, '}');
}

void expo_sample(struct expo *e, const char *name, const char *suffix, const struct label *labels,
                 size_t n_labels, const struct label *extra, double value)
{
    char num[64];
    expo_format_double(num, sizeof(num), value);
    put_series(e, name, suffix, labels, n_labels, extra);
    buf_addc(e->b, ' ');
    buf_adds(e->b, num);
    buf_addc(e->b, '\n');
}

void expo_sample_u64(struct expo *e, const char *name, const char *suffix,
                     const struct label *labels, size_t n_labels, const struct label *extra,
                     uint64_t value)
{
    put_series(e, name, suffix, labels, n_labels, extra);
    buf_addf(e->b, " %llu\n", (unsigned long long)value);
}

void expo_histogram(struct expo *e, const char *name, const struct label *labels, size_t n_labels,
                    const double *bounds, size_t n, const uint64_t *cumulative, double sum)
{
    char le[64];
    for (size_t i = 0; i <= n; i++) {
        if (i < n)
            expo_format_double(le, sizeof(le), bounds[i]);
        else
            snprintf(le, sizeof(le), "+Inf");
        struct label extra = {"le", le};
        expo_sample_u64(e, name, "_bucket", labels, n_labels, &extra, cumulative[i]);
    }
    expo_sample(e, name, "_sum", labels, n_labels, NULL, sum);
    expo_sample_u64(e, name, "_count", labels, n_labels, NULL, cumulative[n]);
}

void expo_finish(struct expo *e)
{
    if (e->fmt == EXPO_OPENMETRICS)
        buf_adds(e->b, "# EOF\n");
}

/* q-value of one media range's parameters (";q=0.5"); 1 when absent. */
static double media_q(const char *params, size_t len)
{
    const char *p = params, *end = params + len;
    while (p < end) {
        while (p < end && (*p == ';' || *p == ' ' || *p == '\t'))
            p++;
        if (end - p >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
            char tmp[16];
            size_t n = 0;
            for (const char *q = p + 2; q < end && *q != ';' && n < sizeof(tmp) - 1; q++)
                tmp[n++] = *q;
            tmp[n] = '\0';
            char *stop;
            double q = strtod(tmp, &stop);
            if (stop == tmp || q < 0 || q > 1)
                return 0; /* malformed q: ignore the range */
            return q;
        }
        while (p < end && *p != ';')
            p++;
    }
    return 1;
}

enum expo_format expo_negotiate(const char *accept)
{
    if (!accept)
        return EXPO_TEXT;
    double q_om = 0, q_text = 0;
    const char *p = accept;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        while (len && (*p == ' ' || *p == '\t')) {
            p++;
            len--;
        }
        const char *semi = memchr(p, ';', len);
        size_t tlen = semi ? (size_t)(semi - p) : len;
        while (tlen && (p[tlen - 1] == ' ' || p[tlen - 1] == '\t'))
            tlen--;
        double q = media_q(p + tlen, len - tlen);
        if (tlen == 28 && strncasecmp(p, "application/openmetrics-text", 28) == 0) {
            if (q > q_om)
                q_om = q;
        } else if ((tlen == 10 && strncasecmp(p, "text/plain", 10) == 0) ||
                   (tlen == 6 && strncasecmp(p, "text/*", 6) == 0) ||
                   (tlen == 3 && strncmp(p, "*/*", 3) == 0)) {
            if (q > q_text)
                q_text = q;
        }
        if (!end)
            break;
        p = end + 1;
    }
    return q_om > 0 && q_om > q_text ? EXPO_OPENMETRICS : EXPO_TEXT;
}
