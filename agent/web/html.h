/*
 * html.h - the pieces of server-rendered HTML every part of the status page
 * needs: text escaped for element content and attribute values, query
 * arguments, and numbers written the way a person reads them.
 *
 * Everything appends to a capped buffer (buf.h), so a writer appends many
 * pieces and checks the buffer's failure once at the end. Strings come from
 * a jansson model, which holds valid UTF-8 only; escaping does not need to
 * repair encodings, only to keep markup characters out.
 */
#ifndef OUTPOST_HTML_H
#define OUTPOST_HTML_H

#include "buf.h"

#include <stdbool.h>

/* s (borrowed; NULL appends nothing) as HTML text that is also safe inside
 * a double- or single-quoted attribute: & < > " ' become references and
 * control characters other than tab and newline, which HTML forbids,
 * become U+FFFD. */
void html_text(struct buf *b, const char *s);
/* s percent-encoded for a URL query value: everything but A-Z a-z 0-9 - . _ ~
 * as %XX, so the result is also safe inside an attribute. */
void html_query_value(struct buf *b, const char *s);

/* ratio (0.724) as a percentage with decimals digits ("72.4 %"); a value
 * that rounds to zero is written without a minus sign, and a ratio strictly
 * between 0 and 1 that would round to 0 or 100 % as "< 0.1 %" or
 * "> 99.9 %". */
void html_percent(struct buf *b, double ratio, int decimals);
/* An objective such as 0.999 as "99.9 %": up to four decimals, trailing
 * zeros dropped, so 0.9995 is not rounded to a target it does not have. */
void html_objective(struct buf *b, double ratio);
/* A latency in seconds, three significant digits in a unit that fits:
 * "850 µs", "12.3 ms", "1.24 s". sign: a leading "+" on values >= 0 (a
 * shift), else only negatives carry a sign. */
void html_seconds(struct buf *b, double s, bool sign);
/* A duration in words, the two largest units, rounded down: "45 s",
 * "12 min", "3 h 20 min", "2 days 4 h". Negative durations are written as 0 s. */
void html_duration(struct buf *b, double s);
/* An RFC 3339 UTC time ("2026-12-01T13:00:00Z") as a <time> element
 * reading "2026-12-01 13:00:00 UTC"; other text as it is, escaped; NULL as
 * an en dash. */
void html_time(struct buf *b, const char *rfc3339);

/* The standard base64 of n bytes (for CSP hashes). */
void html_base64(struct buf *b, const unsigned char *p, size_t n);

#endif
