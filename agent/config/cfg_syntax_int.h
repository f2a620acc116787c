/*
 * cfg_syntax_int.h - the file's lines as libyaml counts them, for the
 * translation of syntax errors (cfg_syntax.c). Internal to agent/config/.
 */
#ifndef OUTPOST_CFG_SYNTAX_INT_H
#define OUTPOST_CFG_SYNTAX_INT_H

#include <stdbool.h>
#include <stddef.h>

/* One line of the file, without its line break (borrowed from the
 * text). no is 0-based. */
struct cfg_syntax_line {
    const char *s;
    size_t n;
    size_t no;
};

/* The bytes of a UTF-8 byte order mark at the start of text: libyaml's
 * reader drops it before any column is counted, so it is no part of the
 * first line here either. */
size_t cfg_syntax_bom_len(const char *text, size_t len);
/* The bytes of the line break at text[i], 0 for none. libyaml ends a
 * line at "\r\n", "\n", a lone "\r", and at NEL, LS and PS (U+0085,
 * U+2028, U+2029): its line numbers count them all, so these do too. */
size_t cfg_syntax_brk_at(const char *text, size_t len, size_t i);
/* Line no (0-based) of text (len bytes), as libyaml counts lines. False
 * past the last line. */
bool cfg_syntax_line_get(const char *text, size_t len, size_t no, struct cfg_syntax_line *l);
/* The line before l (false for the first), found backwards from l, so
 * that walking up a file is linear in what is walked. */
bool cfg_syntax_line_prev(const char *text, const struct cfg_syntax_line *l,
                          struct cfg_syntax_line *prev);
/* libyaml's columns count characters: the byte where column col starts
 * (the line's length past its end), and the column of byte off. */
size_t cfg_syntax_col_byte(const struct cfg_syntax_line *l, size_t col);
size_t cfg_syntax_byte_col(const struct cfg_syntax_line *l, size_t off);

#endif
