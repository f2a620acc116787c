/* expo.c - exposition formats. */
#include "expo.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The longest bucket line start (name, labels, le=") repeated by copy. */
#define EXPO_MAX_BUCKET_PREFIX 512

void expo_init(struct expo *e, struct buf *b, enum expo_format fmt)
{
    e->b = b;
    e->fmt = fmt;
    e->le_n = EXPO_LE_CACHE + 1;
}

void expo_format_double(char *out, size_t cap, double v)
{
    fmt_double(out, cap, v);
}

void expo_escape_label(struct buf *b, const char *v)
{
    /* Runs without anything to escape (nearly every value) in one copy. */
    for (const char *p = v;;) {
        size_t run = strcspn(p, "\\\"\n");
        buf_add(b, p, run);
        p += run;
        if (!*p)
            return;
        buf_adds(b, *p == '\\' ? "\\\\" : *p == '"' ? "\\\"" : "\\n");
        p++;
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
    buf_addc(e->b, ' ');
    buf_adds(e->b, tname);
    buf_addc(e->b, '\n');
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
    char num[FMT_DOUBLE_BYTES + 2];
    num[0] = ' ';
    expo_format_double(num + 1, FMT_DOUBLE_BYTES, value);
    size_t n = strlen(num);
    num[n] = '\n';
    put_series(e, name, suffix, labels, n_labels, extra);
    buf_add(e->b, num, n + 1);
}

void expo_sample_u64(struct expo *e, const char *name, const char *suffix,
                     const struct label *labels, size_t n_labels, const struct label *extra,
                     uint64_t value)
{
    char num[FMT_U64_BYTES + 2];
    num[0] = ' ';
    size_t n = fmt_u64(num + 1, value);
    num[n + 1] = '\n';
    put_series(e, name, suffix, labels, n_labels, extra);
    buf_add(e->b, num, n + 2);
}

/* Under e: the text of bounds[0..n), formatted once while the bounds stay
 * the same from one histogram to the next. False when n is too many to
 * keep. */
static bool le_cached(struct expo *e, const double *bounds, size_t n)
{
    if (n > EXPO_LE_CACHE)
        return false;
    if (e->le_n == n && (n == 0 || memcmp(e->le_bounds, bounds, n * sizeof(*bounds)) == 0))
        return true;
    for (size_t i = 0; i < n; i++) {
        expo_format_double(e->le_text[i], sizeof(e->le_text[i]), bounds[i]);
        e->le_len[i] = (unsigned char)strlen(e->le_text[i]);
    }
    if (n)
        memcpy(e->le_bounds, bounds, n * sizeof(*bounds));
    e->le_n = n;
    return true;
}

void expo_histogram(struct expo *e, const char *name, const struct label *labels, size_t n_labels,
                    const double *bounds, size_t n, const uint64_t *cumulative, double sum)
{
    /* Every bucket line starts the same up to its bound: write that prefix
     * once, keep a copy, and repeat it. */
    char pre[EXPO_MAX_BUCKET_PREFIX];
    size_t start = e->b->len, plen = 0;
    put_series(e, name, "_bucket", labels, n_labels, NULL);
    if (n_labels) {
        buf_truncate(e->b, e->b->len - 1); /* reopen the label set */
        buf_add(e->b, ",le=\"", 5);
    } else {
        buf_add(e->b, "{le=\"", 5);
    }
    if (e->b->failed)
        return;
    plen = e->b->len - start;
    if (plen <= sizeof(pre) && le_cached(e, bounds, n)) {
        memcpy(pre, e->b->data + start, plen);
        for (size_t i = 0; i <= n; i++) {
            char num[FMT_U64_BYTES + 3] = "\"} ";
            size_t k = fmt_u64(num + 3, cumulative[i]);
            num[k + 3] = '\n';
            if (i)
                buf_add(e->b, pre, plen);
            if (i < n)
                buf_add(e->b, e->le_text[i], e->le_len[i]);
            else
                buf_add(e->b, "+Inf", 4);
            buf_add(e->b, num, k + 4);
        }
    } else {
        /* Long labels or many bounds: line by line. */
        buf_truncate(e->b, start);
        char le[64];
        for (size_t i = 0; i <= n; i++) {
            if (i < n)
                expo_format_double(le, sizeof(le), bounds[i]);
            else
                snprintf(le, sizeof(le), "+Inf");
            struct label extra = {"le", le};
            expo_sample_u64(e, name, "_bucket", labels, n_labels, &extra, cumulative[i]);
        }
    }
    expo_sample(e, name, "_sum", labels, n_labels, NULL, sum);
    expo_sample_u64(e, name, "_count", labels, n_labels, NULL, cumulative[n]);
}

void expo_finish(struct expo *e)
{
    if (e->fmt == EXPO_OPENMETRICS)
        buf_adds(e->b, "# EOF\n");
}

/* An RFC 9110 qvalue in [s, s + len), trailing spaces allowed: "0" with up
 * to three decimals or "1" with up to three zeros, nothing else (no sign,
 * exponent or more digits, all of which strtod would take or cut). Counted
 * in thousandths, so equal texts compare equal. */
static enum op_rc parse_qvalue(const char *s, size_t len, double *out)
{
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    if (len == 0 || (s[0] != '0' && s[0] != '1'))
        return OP_ERR_INVALID;
    unsigned thousandths = s[0] == '1' ? 1000 : 0;
    if (len > 1) {
        if (s[1] != '.' || len > 5)
            return OP_ERR_INVALID;
        unsigned scale = 100;
        for (size_t i = 2; i < len; i++, scale /= 10) {
            if (s[i] < '0' || s[i] > '9')
                return OP_ERR_INVALID;
            thousandths += (unsigned)(s[i] - '0') * scale;
        }
        if (thousandths > 1000)
            return OP_ERR_INVALID;
    }
    *out = thousandths / 1000.0;
    return OP_OK;
}

/* q-value of one range's parameters (";q=0.5"); 1 when absent, 0 when
 * malformed (the range is then ignored). */
static double media_q(const char *params, size_t len)
{
    const char *p = params, *end = params + len;
    while (p < end) {
        while (p < end && (*p == ';' || *p == ' ' || *p == '\t'))
            p++;
        const char *semi = memchr(p, ';', (size_t)(end - p));
        const char *pend = semi ? semi : end;
        if (pend - p >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
            double q;
            return parse_qvalue(p + 2, (size_t)(pend - p - 2), &q) == OP_OK ? q : 0;
        }
        p = pend;
    }
    return 1;
}

/* Split the next comma-separated element of a header list starting at *p
 * into its token [*tok, *tok + *tlen) and parameters [*tok + *tlen, +*plen);
 * moves *p past it. False at the end of the list. */
static bool next_element(const char **p, const char **tok, size_t *tlen, size_t *plen)
{
    if (!**p)
        return false;
    const char *s = *p;
    const char *comma = strchr(s, ',');
    size_t len = comma ? (size_t)(comma - s) : strlen(s);
    *p = comma ? comma + 1 : s + len;
    while (len && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    const char *semi = memchr(s, ';', len);
    size_t t = semi ? (size_t)(semi - s) : len;
    *tok = s;
    while (t && (s[t - 1] == ' ' || s[t - 1] == '\t'))
        t--;
    *tlen = t;
    /* The parameters start where the token's trailing spaces start. */
    *plen = len - t;
    return true;
}

bool expo_accepts_gzip(const char *accept_encoding)
{
    if (!accept_encoding)
        return false;
    const char *p = accept_encoding, *tok;
    size_t tlen, plen;
    while (next_element(&p, &tok, &tlen, &plen)) {
        if (tlen == 4 && strncasecmp(tok, "gzip", 4) == 0 && media_q(tok + tlen, plen) > 0)
            return true;
    }
    return false;
}

enum expo_format expo_negotiate(const char *accept)
{
    if (!accept)
        return EXPO_TEXT;
    double q_om = 0, q_text = 0;
    const char *p = accept, *tok;
    size_t tlen, plen;
    while (next_element(&p, &tok, &tlen, &plen)) {
        double q = media_q(tok + tlen, plen);
        if (tlen == 28 && strncasecmp(tok, "application/openmetrics-text", 28) == 0) {
            if (q > q_om)
                q_om = q;
        } else if ((tlen == 10 && strncasecmp(tok, "text/plain", 10) == 0) ||
                   (tlen == 6 && strncasecmp(tok, "text/*", 6) == 0) ||
                   (tlen == 3 && strncmp(tok, "*/*", 3) == 0)) {
            if (q > q_text)
                q_text = q;
        }
    }
    return q_om > 0 && q_om > q_text ? EXPO_OPENMETRICS : EXPO_TEXT;
}
