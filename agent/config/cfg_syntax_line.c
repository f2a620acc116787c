/* cfg_syntax_line.c - the lines of a file as libyaml counts them (cfg_syntax_int.h). */
#include "cfg_syntax_int.h"

#include <string.h>

/* The bytes of a UTF-8 byte order mark at the start of text: libyaml's
 * reader drops it before any column is counted, so it is no part of the
 * first line here either. */
size_t cfg_syntax_bom_len(const char *text, size_t len)
{
    return len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
}

/* The bytes of the line break at text[i], 0 for none. libyaml ends a
 * line at "\r\n", "\n", a lone "\r", and at NEL, LS and PS (U+0085,
 * U+2028, U+2029): its line numbers count them all, so these do too. */
size_t cfg_syntax_brk_at(const char *text, size_t len, size_t i)
{
    const unsigned char *t = (const unsigned char *)text;
    if (i >= len)
        return 0;
    if (t[i] == '\r')
        return i + 1 < len && t[i + 1] == '\n' ? 2 : 1;
    if (t[i] == '\n')
        return 1;
    if (t[i] == 0xC2 && i + 1 < len && t[i + 1] == 0x85)
        return 2;
    if (t[i] == 0xE2 && i + 2 < len && t[i + 1] == 0x80 && (t[i + 2] == 0xA8 || t[i + 2] == 0xA9))
        return 3;
    return 0;
}

/* The bytes of the line break that ends just before text[i], 0 for none. */
static size_t brk_before(const char *text, size_t i)
{
    const unsigned char *t = (const unsigned char *)text;
    if (i >= 1 && t[i - 1] == '\n')
        return i >= 2 && t[i - 2] == '\r' ? 2 : 1;
    if (i >= 1 && t[i - 1] == '\r')
        return 1;
    if (i >= 2 && t[i - 2] == 0xC2 && t[i - 1] == 0x85)
        return 2;
    if (i >= 3 && t[i - 3] == 0xE2 && t[i - 2] == 0x80 && (t[i - 1] == 0xA8 || t[i - 1] == 0xA9))
        return 3;
    return 0;
}

/* Line no (0-based) of text, as libyaml counts lines (cfg_syntax_brk_at).
 * False past the last line. */
bool cfg_syntax_line_get(const char *text, size_t len, size_t no, struct cfg_syntax_line *l)
{
    size_t i = cfg_syntax_bom_len(text, len);
    for (size_t cur = 0; cur < no; cur++) {
        size_t b = 0;
        while (i < len && (b = cfg_syntax_brk_at(text, len, i)) == 0)
            i++;
        if (i == len)
            return false;
        i += b;
    }
    size_t end = i;
    while (end < len && cfg_syntax_brk_at(text, len, end) == 0)
        end++;
    *l = (struct cfg_syntax_line){text + i, end - i, no};
    return true;
}

/* The line before l (false for the first), found backwards from l, so
 * that walking up a file is linear in what is walked. */
bool cfg_syntax_line_prev(const char *text, const struct cfg_syntax_line *l,
                          struct cfg_syntax_line *prev)
{
    if (l->no == 0)
        return false;
    size_t end = (size_t)(l->s - text);
    end -= brk_before(text, end); /* the break before l */
    size_t start = end;
    while (start > 0 && brk_before(text, start) == 0)
        start--;
    if (start == 0)
        start = cfg_syntax_bom_len(text, end);
    *prev = (struct cfg_syntax_line){text + start, end - start, l->no - 1};
    return true;
}

/* libyaml's columns count characters: the byte where column col starts
 * (the line's length past its end). */
size_t cfg_syntax_col_byte(const struct cfg_syntax_line *l, size_t col)
{
    size_t c = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (((unsigned char)l->s[i] & 0xC0) == 0x80)
            continue;
        if (c++ == col)
            return i;
    }
    return l->n;
}

/* The column of byte off of l. */
size_t cfg_syntax_byte_col(const struct cfg_syntax_line *l, size_t off)
{
    size_t c = 0;
    for (size_t i = 0; i < off && i < l->n; i++)
        c += ((unsigned char)l->s[i] & 0xC0) != 0x80;
    return c;
}
