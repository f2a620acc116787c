/*
 * expo.h - Prometheus text 0.0.4 and OpenMetrics 1.0 writer.
 *
 * Callers describe families with their text-format names (counters end in
 * _total, info gauges in _info); the writer derives the OpenMetrics family
 * names and types from them, so one renderer serves both formats.
 */
#ifndef OUTPOST_EXPO_H
#define OUTPOST_EXPO_H

#include "buf.h"

#include <stdbool.h>
#include <stdint.h>

enum expo_format { EXPO_TEXT, EXPO_OPENMETRICS };

enum expo_type { EXPO_COUNTER, EXPO_GAUGE, EXPO_HISTOGRAM, EXPO_INFO, EXPO_SUMMARY };

#define EXPO_CT_TEXT "text/plain; version=0.0.4; charset=utf-8"
#define EXPO_CT_OPENMETRICS "application/openmetrics-text; version=1.0.0; charset=utf-8"

struct label {
    const char *name;
    const char *value;
};

/* Bucket bounds whose text the writer keeps between histograms. */
#define EXPO_LE_CACHE 64

/* Writer state; lives on the caller's stack. b is borrowed. */
struct expo {
    struct buf *b;
    enum expo_format fmt;
    /* The bounds of the last histogram and their text: every check of a
     * scrape usually has the same ones, and formatting them is most of
     * what a histogram costs. le_n > EXPO_LE_CACHE: nothing kept. */
    size_t le_n;
    double le_bounds[EXPO_LE_CACHE];
    char le_text[EXPO_LE_CACHE][FMT_DOUBLE_BYTES];
    unsigned char le_len[EXPO_LE_CACHE];
};

void expo_init(struct expo *e, struct buf *b, enum expo_format fmt);

/* Family header. name: text-format name (counter: ..._total, info: ..._info). */
void expo_family(struct expo *e, const char *name, enum expo_type type, const char *help);
/* One sample: name + suffix (e.g. "_bucket", or "" ) with labels, plus an
 * optional extra label (le) that may be NULL. */
void expo_sample(struct expo *e, const char *name, const char *suffix, const struct label *labels,
                 size_t n_labels, const struct label *extra, double value);
/* Same with an exact unsigned integer value (counters beyond 2^53). */
void expo_sample_u64(struct expo *e, const char *name, const char *suffix,
                     const struct label *labels, size_t n_labels, const struct label *extra,
                     uint64_t value);
/* Histogram: n bounds, cumulative counts for each bound then +Inf, sum. */
void expo_histogram(struct expo *e, const char *name, const struct label *labels, size_t n_labels,
                    const double *bounds, size_t n, const uint64_t *cumulative, double sum);
/* Trailer (OpenMetrics "# EOF"). */
void expo_finish(struct expo *e);

/* fmt_double (common.h) under the exposition's name: text that reads back
 * as exactly v; "+Inf", "-Inf", "NaN" as both formats spell them. */
void expo_format_double(char *out, size_t cap, double v);
/* Escape a label value: backslash, double quote and newline, nothing else. */
void expo_escape_label(struct buf *b, const char *v);
/* Escape HELP text: backslash and newline (OpenMetrics also double quote). */
void expo_escape_help(struct buf *b, const char *v, enum expo_format fmt);

/* Choose the format from an Accept header (may be NULL): OpenMetrics only
 * when its q-value is higher than text's. */
enum expo_format expo_negotiate(const char *accept);

/* True when an Accept-Encoding header (may be NULL) allows gzip: a "gzip"
 * coding with q > 0. A malformed q ignores the coding (identity is always
 * acceptable), and "*" is not taken as gzip. */
bool expo_accepts_gzip(const char *accept_encoding);

#endif
