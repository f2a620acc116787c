/* detail.c - the cleaned, capped one-line text of a result (detail.h). */
#include "detail.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

void detail_init(struct detail *d, char *s, size_t cap)
{
    d->s = s;
    d->cap = s ? cap : 0;
    d->len = 0;
    d->cut = false;
    if (d->cap)
        s[0] = '\0';
}

/* Length of the UTF-8 sequence at p (n bytes there), 0 when the bytes do
 * not start one well-formed sequence (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF). */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
    unsigned c = p[0], lo = 0x80, hi = 0xBF;
    size_t len;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        lo = c == 0xE0 ? 0xA0 : 0x80;
        hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF;
    } else {
        return 0;
    }
    if (n < len || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (p[i] < 0x80 || p[i] > 0xBF)
            return 0;
    return len;
}

/* Out of room: drop whole characters until "..." fits, then end with it.
 * Everything later is a no-op, so the text never reads as complete. */
static void cut(struct detail *d)
{
    d->cut = true;
    if (d->cap < 4)
        return; /* not even room for "...": keep what fits */
    while (d->len + 3 > d->cap - 1) {
        do
            d->len--;
        while (d->len > 0 && ((unsigned char)d->s[d->len] & 0xC0) == 0x80);
    }
    memcpy(d->s + d->len, "...", 4);
    d->len += 3;
}

/* Append one whole character (k bytes) or cut. */
static void put(struct detail *d, const char *p, size_t k)
{
    if (d->cut || d->cap == 0)
        return;
    if (d->len + k > d->cap - 1) {
        cut(d);
        return;
    }
    memcpy(d->s + d->len, p, k);
    d->len += k;
    d->s[d->len] = '\0';
}

/* Append n bytes of text, cleaned, at most limit bytes of them. Returns
 * true when the text was longer than limit. */
static bool add_clean(struct detail *d, const char *text, size_t n, size_t limit)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t i = 0, shown = 0;
    while (i < n && !d->cut) {
        size_t k = utf8_seq(p + i, n - i);
        const char *piece = text + i;
        if (k == 0 || (k == 1 && (p[i] < 0x20 || p[i] == 0x7f))) {
            /* A control character could break the line (logs, alerts); a
             * stray byte would make the JSON of the API invalid. */
            piece = "?";
            k = 1;
        }
        if (shown + k > limit)
            return true;
        put(d, piece, k);
        shown += k;
        i += k;
    }
    return false;
}

void detail_addn(struct detail *d, const char *text, size_t n)
{
    (void)add_clean(d, text, n, SIZE_MAX);
}

void detail_add(struct detail *d, const char *text)
{
    detail_addn(d, text, strlen(text));
}

void detail_addf(struct detail *d, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    detail_addn(d, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
    if ((size_t)n >= sizeof(tmp) && !d->cut && d->cap)
        cut(d);
}

void detail_value(struct detail *d, const char *v, size_t n)
{
    if (add_clean(d, v, n, DETAIL_MAX_VALUE))
        detail_add(d, "...");
}
