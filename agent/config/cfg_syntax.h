/*
 * cfg_syntax.h - a YAML syntax error said as what the user did.
 *
 * libyaml names the parser's state ("did not find expected '-' indicator",
 * "mapping values are not allowed in this context"), which readers have to
 * translate into the mistake they made: a key indented one space off, a
 * tab, a colon inside an unquoted value. This module makes that
 * translation from the file's text and libyaml's problem, context and
 * marks, picks the mark that points at the mistake, and shows that line
 * with a caret under the column, as compilers do:
 *
 *   b.yml:3:4: wrong indentation: "url" starts at column 4, but "name" above
 *   it (line 2) starts at column 5 (YAML: did not find expected '-' indicator)
 *       3 |    url: http://x/
 *         |    ^
 *
 * (the first line is one line). libyaml's words stay at the end so nothing
 * is lost; a problem it does not know keeps the form
 * "NAME:LINE:COL: YAML syntax error: PROBLEM". The shown lines start with a
 * space, so a reader of the error list (log_lines) can tell them from the
 * next problem. A line that may hold a secret (a password, token, key,
 * userinfo or a URL's query), or that goes on with the value of a key that
 * may, is never shown nor quoted from.
 */
#ifndef OUTPOST_CFG_SYNTAX_H
#define OUTPOST_CFG_SYNTAX_H

#include "buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

/* The shown line: at most this many characters around the caret. */
#define CFG_SYNTAX_SHOW_COLS 120
/* A key or word named in a message: at most this many bytes. */
#define CFG_SYNTAX_NAME_MAX 40

/* libyaml's description of the error (the fields of yaml_parser_t). */
struct cfg_syntax_problem {
    yaml_error_type_t error;  /* YAML_READER_ERROR: offset and value, not marks */
    const char *problem;      /* NULL: unknown */
    yaml_mark_t problem_mark; /* scanner and parser errors */
    size_t problem_offset;    /* reader errors: the byte offset */
    int problem_value;        /* reader errors: the byte, or -1 */
    const char *context;      /* NULL: none */
    yaml_mark_t context_mark;
};

/* Append the problem's message (one line ending in '\n') and the lines
 * showing where it is to out. text (len bytes, borrowed) is the parsed
 * file; name (borrowed) starts the message. A pure function of its
 * arguments. */
void cfg_syntax_explain(struct buf *out, const char *name, const char *text, size_t len,
                        const struct cfg_syntax_problem *p);

#endif
