/*
 * detail.h - the writer of a result's `detail` (check_result.detail): why a
 * probe failed, in words, for people reading the API or the debug log.
 *
 * A detail is one line of valid UTF-8 without control characters, never
 * longer than its array. Text is cleaned as it is added (a control
 * character or a byte that is not UTF-8 becomes '?'), and text that does
 * not fit is cut at a character boundary and ends in "..." (a display cap:
 * the reason, not the detail, is what metrics and alerts count on).
 *
 * What goes in is the type's business, with one rule: no secrets. Text from
 * the configuration that is never reference-expanded (patterns, JSON paths,
 * header names) is safe; values from a response go through detail_value,
 * which also cuts them to DETAIL_MAX_VALUE bytes so one long value cannot
 * crowd out the rest of the line.
 */
#ifndef OUTPOST_DETAIL_H
#define OUTPOST_DETAIL_H

#include <stdbool.h>
#include <stddef.h>

/* Bytes of one response value shown before "...". */
#define DETAIL_MAX_VALUE 64

/* A writer over the caller's array; fields are read-only for callers. */
struct detail {
    char *s;    /* the caller's array, always NUL-terminated (when cap > 0) */
    size_t cap; /* its size, NUL included; 0: every call is a no-op */
    size_t len;
    bool cut; /* something did not fit: the text ends in "..." and stays so */
};

/* Start an empty text in s (cap bytes, borrowed; s may be NULL when cap is 0). */
void detail_init(struct detail *d, char *s, size_t cap);
/* Append text (borrowed), cleaned; n bytes, or up to its NUL for detail_add. */
void detail_add(struct detail *d, const char *text);
void detail_addn(struct detail *d, const char *text, size_t n);
/* Append formatted text, cleaned. For numbers and short words: the
 * expansion is cut at 256 bytes. */
void detail_addf(struct detail *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append n bytes of a value taken from a response: cleaned, and when
 * longer than DETAIL_MAX_VALUE bytes cut (at a character boundary) and
 * followed by "...". */
void detail_value(struct detail *d, const char *v, size_t n);

#endif
