/*
 * test_cfg_syntax.c - YAML syntax errors said as what the user did
 * (cfg_syntax.c, through cfg_compose as the loader calls it) and the rule
 * for http(s) URLs with its messages (cfg_url.c).
 *
 * Every case compares the whole text: the message, libyaml's words, the
 * shown line and the caret, so a wrong column or a line shown that should
 * not be fails.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "buf.h"
#include "cfg_compose.h"
#include "cfg_syntax.h"
#include "cfg_yaml.h"
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct syntax_case {
    const char *name;
    const char *yaml;
    const char *want; /* the whole error text */
};

static const struct syntax_case syntax_cases[] = {
    {"indent under item",
     "checks:\n"
     "  - name: a\n"
     "   url: http://x/\n",
     "t.yml:3:4: wrong indentation: \"url\" starts at column 4, but \"name\" above it (line 2) "
     "starts at column 5 (YAML: did not find expected '-' indicator)\n"
     "    3 |    url: http://x/\n"
     "      |    ^\n"},
    {"indent deeper",
     "checks:\n"
     "  - name: a\n"
     "     url: http://x/\n",
     "t.yml:3:6: wrong indentation: \"url\" starts at column 6, but \"name\" above it (line 2) "
     "starts at column 5 (YAML: mapping values are not allowed in this context)\n"
     "    3 |      url: http://x/\n"
     "      |      ^\n"},
    {"indent outside item",
     "checks:\n"
     "  - name: a\n"
     " url: http://x/\n",
     "t.yml:3:2: wrong indentation: \"url\" starts at column 2, but \"name\" above it (line 2) "
     "starts at column 5 and \"checks\" (line 1) at column 1 (YAML: did not find expected key)\n"
     "    3 |  url: http://x/\n"
     "      |  ^\n"},
    {"indent between keys",
     "global:\n"
     "  a: 1\n"
     " b: 2\n",
     "t.yml:3:2: wrong indentation: \"b\" starts at column 2, but \"a\" above it (line 2) starts "
     "at column 3 and \"global\" (line 1) at column 1 (YAML: did not find expected key)\n"
     "    3 |  b: 2\n"
     "      |  ^\n"},
    {"indent with crlf",
     "a: 1\x0d"
     "\n"
     " b: 2\x0d"
     "\n",
     "t.yml:2:2: wrong indentation: \"b\" starts at column 2, but \"a\" above it (line 1) starts "
     "at column 1 (YAML: mapping values are not allowed in this context)\n"
     "    2 |  b: 2\n"
     "      |  ^\n"},
    {"indent after utf-8",
     "a: \xc3"
     "\xa9"
     "\n"
     "   b: 2\n",
     "t.yml:2:4: wrong indentation: \"b\" starts at column 4, but \"a\" above it (line 1) starts "
     "at column 1 (YAML: mapping values are not allowed in this context)\n"
     "    2 |    b: 2\n"
     "      |    ^\n"},
    {"tab indents",
     "checks:\n"
     "\t- name: b\n",
     "t.yml:2:1: a tab character: YAML does not allow tabs for indentation; use spaces (YAML: "
     "found character that cannot start any token)\n"
     "    2 | \t- name: b\n"
     "      | ^\n"},
    {"tab after spaces",
     "checks:\n"
     "  - name: a\n"
     "  \turl: x\n",
     "t.yml:3:3: a tab character: YAML does not allow tabs for indentation; use spaces (YAML: "
     "found a tab character that violates indentation)\n"
     "    3 |   \turl: x\n"
     "      |   ^\n"},
    {"tab after dash",
     "checks:\n"
     "  -\tname: a\n",
     "t.yml:2:4: a tab character: YAML does not allow tabs for indentation; use spaces (YAML: "
     "found character that cannot start any token)\n"
     "    2 |   -\tname: a\n"
     "      |    ^\n"},
    {"colon in value",
     "checks:\n"
     "  - name: a\n"
     "    headers:\n"
     "      X-A: b: c\n",
     "t.yml:4:13: a colon followed by a space inside a value: put the value in quotes, e.g. X-A: "
     "\"b: c\" (YAML: mapping values are not allowed in this context)\n"
     "    4 |       X-A: b: c\n"
     "      |             ^\n"},
    {"colon in url value", "a: http://x: y # note\n",
     "t.yml:1:12: a colon followed by a space inside a value: put the value in quotes, e.g. a: "
     "\"http://x: y\" (YAML: mapping values are not allowed in this context)\n"
     "    1 | a: http://x: y # note\n"
     "      |            ^\n"},
    {"colon in secret value",
     "a:\n"
     "  password: b: c\n",
     "t.yml:2:14: a colon followed by a space inside a value: put the value in quotes (YAML: "
     "mapping values are not allowed in this context)\n"},
    {"unclosed double quote",
     "checks:\n"
     "  - name: \"a\n"
     "    url: http://x/\n",
     "t.yml:2:11: this quote is never closed: end the value with \" (YAML: found unexpected end of "
     "stream)\n"
     "    2 |   - name: \"a\n"
     "      |           ^\n"},
    {"unclosed single quote", "a: 'abc\n",
     "t.yml:1:4: this quote is never closed: end the value with ' (YAML: found unexpected end of "
     "stream)\n"
     "    1 | a: 'abc\n"
     "      |    ^\n"},
    {"text after quote", "a: \"x\" y\n",
     "t.yml:1:8: text after the closing quote: put the whole value inside the quotes (YAML: did "
     "not find expected key)\n"
     "    1 | a: \"x\" y\n"
     "      |        ^\n"},
    {"single quote inside", "a: 'it's'\n",
     "t.yml:1:8: text after the closing quote: put the whole value inside the quotes (in single "
     "quotes a quote is written twice: 'it''s') (YAML: did not find expected key)\n"
     "    1 | a: 'it's'\n"
     "      |        ^\n"},
    {"unclosed list",
     "checks: [\n"
     "  {name: a, url: \"http://example.com/\"}\n",
     "t.yml:1:9: this \"[\" is never closed: add \"]\" after the last item (YAML: did not find "
     "expected ',' or ']')\n"
     "    1 | checks: [\n"
     "      |         ^\n"},
    {"unclosed mapping",
     "a: {x: 1\n"
     "b: 3\n",
     "t.yml:1:4: this \"{\" is never closed: add \"}\" after the last pair (YAML: did not find "
     "expected ',' or '}')\n"
     "    1 | a: {x: 1\n"
     "      |    ^\n"},
    {"missing comma", "a: [\"x\" \"y\"]\n",
     "t.yml:1:9: a \",\" between the items or a \"]\" is missing here (YAML: did not find expected "
     "',' or ']')\n"
     "    1 | a: [\"x\" \"y\"]\n"
     "      |         ^\n"},
    {"item where key expected",
     "a: 1\n"
     "- b\n",
     "t.yml:2:1: a list item where a key is expected: the keys of this mapping start at column 1 "
     "(line 1); a list goes under a key that ends with \":\" (YAML: did not find expected key)\n"
     "    2 | - b\n"
     "      | ^\n"},
    {"item indented off, key expected",
     "checks:\n"
     "  - name: a\n"
     "    url: x\n"
     "    - name: b\n",
     "t.yml:4:5: wrong indentation: this list item starts at column 5, but the items of the list "
     "above it (line 2) start at column 3 (YAML: did not find expected key)\n"
     "    4 |     - name: b\n"
     "      |     ^\n"},
    {"item indented less",
     "checks:\n"
     "  - name: a\n"
     " - name: b\n",
     "t.yml:3:2: wrong indentation: this list item starts at column 2, but the items of the list "
     "above it (line 2) start at column 3 (YAML: did not find expected key)\n"
     "    3 |  - name: b\n"
     "      |  ^\n"},
    {"item indented more",
     "checks:\n"
     "  - name: a\n"
     "   - name: b\n",
     "t.yml:3:4: wrong indentation: this list item starts at column 4, but the items of its list "
     "(line 2) start at column 3 (YAML: did not find expected '-' indicator)\n"
     "    3 |    - name: b\n"
     "      |    ^\n"},
    {"key in line with items",
     "- a\n"
     "b: 1\n",
     "t.yml:2:1: \"b\" is in line with the items of the list on line 1, but is not an item: start "
     "it with \"- \", or move it out of the list (YAML: did not find expected '-' indicator)\n"
     "    2 | b: 1\n"
     "      | ^\n"},
    {"item on key's line", "a: - b\n",
     "t.yml:1:4: a list item cannot start on the line of its key: put \"- \" on the next line, "
     "indented (YAML: block sequence entries are not allowed in this context)\n"
     "    1 | a: - b\n"
     "      |    ^\n"},
    {"dash without space",
     "checks:\n"
     "  -name: a\n"
     "    url: b\n",
     "t.yml:2:3: \"-name\" is a key, not a list item: put a space after \"-\" (YAML: mapping "
     "values are not allowed in this context)\n"
     "    2 |   -name: a\n"
     "      |   ^\n"},
    {"word without colon",
     "a\n"
     "b: 1\n",
     "t.yml:1:1: \"a\" has no colon after it, so YAML reads line 2 as going on with it: write \"a: "
     "VALUE\" or remove it (YAML: mapping values are not allowed in this context)\n"
     "    1 | a\n"
     "      | ^\n"},
    {"key without colon",
     "a:\n"
     "  b: 1\n"
     "  c\n"
     "  d: 2\n",
     "t.yml:3:3: \"c\" has no colon after it: write \"c: VALUE\", or indent it to go on with the "
     "value above (YAML: could not find expected ':')\n"
     "    3 |   c\n"
     "      |   ^\n"},
    {"block scalar header",
     "a: |x\n"
     "  y\n",
     "t.yml:1:5: only an indentation digit, \"+\" or \"-\" may follow \"|\" or \">\": the text "
     "goes on the lines below, indented (YAML: did not find expected comment or line break)\n"
     "    1 | a: |x\n"
     "      |     ^\n"},
    {"unknown escape", "a: \"\\d+\"\n",
     "t.yml:1:5: \"\\d\" is not an escape in double quotes: write \"\\\\d\" for a backslash, or "
     "use single quotes, where a backslash is just a backslash (YAML: found unknown escape "
     "character)\n"
     "    1 | a: \"\\d+\"\n"
     "      |     ^\n"},
    {"reserved indicator", "a: `x\n",
     "t.yml:1:4: a value cannot start with \"`\" (YAML reserves it): put the value in quotes "
     "(YAML: found character that cannot start any token)\n"
     "    1 | a: `x\n"
     "      |    ^\n"},
    {"unknown problem", "a: [1]]\n",
     "t.yml:1:7: YAML syntax error: did not find expected key\n"
     "    1 | a: [1]]\n"
     "      |       ^\n"},
    {"file ends in a list", "a: [\n",
     "t.yml:1:4: this \"[\" is never closed: add \"]\" after the last item (YAML: did not find "
     "expected node content)\n"
     "    1 | a: [\n"
     "      |    ^\n"},
    {"file ends in a mapping",
     "checks:\n"
     "  - {name: a, url: \"http://x/ [\"\n",
     "t.yml:2:5: this \"{\" is never closed: add \"}\" after the last pair (YAML: did not find "
     "expected ',' or '}')\n"
     "    2 |   - {name: a, url: \"http://x/ [\"\n"
     "      |     ^\n"},
    {"file ends in nested", "a: [1, {b: \"]\", c: [2]\n",
     "t.yml:1:8: this \"{\" is never closed: add \"}\" after the last pair (YAML: did not find "
     "expected ',' or '}')\n"
     "    1 | a: [1, {b: \"]\", c: [2]\n"
     "      |        ^\n"},
    {"file ends after comma",
     "a:\n"
     "  - [1,   # [\n",
     "t.yml:2:5: this \"[\" is never closed: add \"]\" after the last item (YAML: did not find "
     "expected node content)\n"
     "    2 |   - [1,   # [\n"
     "      |     ^\n"},
    {"unknown problem at a value", "a: ]\n",
     "t.yml:1:4: YAML syntax error: did not find expected node content\n"
     "    1 | a: ]\n"
     "      |    ^\n"},
    {"colon in a flow mapping", "a: {x: b: c}\n",
     "t.yml:1:9: a colon followed by a space inside a value: put the value in quotes (YAML: did "
     "not find expected ',' or '}')\n"
     "    1 | a: {x: b: c}\n"
     "      |         ^\n"},
};

static void test_translations(void **state)
{
    (void)state;
    int bad = 0;
    for (size_t i = 0; i < sizeof(syntax_cases) / sizeof(syntax_cases[0]); i++) {
        const struct syntax_case *c = &syntax_cases[i];
        yaml_document_t doc;
        struct buf errs;
        buf_init(&errs, 1u << 16);
        if (cfg_compose(c->yaml, strlen(c->yaml), "t.yml", NULL, &doc, &errs) == OP_OK) {
            yaml_document_delete(&doc);
            printf("%s: parsed\n", c->name);
            bad++;
        } else if (strcmp(buf_str(&errs), c->want) != 0) {
            printf("%s:\n got: %s\nwant: %s\n", c->name, buf_str(&errs), c->want);
            bad++;
        }
        buf_free(&errs);
    }
    assert_int_equal(bad, 0);
}

/* The function itself, with problems libyaml would report elsewhere. */
static void explain(const char *text, const struct cfg_syntax_problem *p, const char *want)
{
    struct buf out;
    buf_init(&out, 1u << 16);
    cfg_syntax_explain(&out, "t.yml", text, strlen(text), p);
    assert_string_equal(buf_str(&out), want);
    buf_free(&out);
}

static void test_shown_line(void **state)
{
    (void)state;
    const char *mv = "mapping values are not allowed in this context";
    /* A tab before the caret is copied under it; a control byte is shown
     * as \xNN and the caret moves past all four characters. */
    explain("a:\t\x01 b: c\n",
            &(struct cfg_syntax_problem){.problem = mv, .problem_mark = {0, 0, 6}},
            "t.yml:1:7: a colon followed by a space inside a value: put the value in quotes "
            "(YAML: mapping values are not allowed in this context)\n"
            "    1 | a:\t\\x01 b: c\n"
            "      |   \t      ^\n");
    /* A long line: CFG_SYNTAX_SHOW_COLS characters around the caret. */
    char line[256];
    memset(line, 'x', sizeof(line));
    memcpy(line, "a: ", 3);
    memcpy(line + 103, ": ", 2);
    memcpy(line + 250, "\n", 2);
    struct buf want;
    buf_init(&want, 4096);
    buf_addf(&want,
             "t.yml:1:104: a colon followed by a space inside a value: put the value in quotes "
             "(YAML: %s)\n"
             "    1 | ...%.120s...\n"
             "      |    %60s^\n",
             mv, line + 43, "");
    explain(line, &(struct cfg_syntax_problem){.problem = mv, .problem_mark = {0, 0, 103}},
            buf_str(&want));
    buf_free(&want);
    /* Reader errors carry a byte offset: the mark is worked out from it. */
    explain("a: 1\nb: \xc3\xa9\x02\n",
            &(struct cfg_syntax_problem){.error = YAML_READER_ERROR,
                                         .problem = "control characters are not allowed",
                                         .problem_offset = 10,
                                         .problem_value = 2},
            "t.yml:2:5: a control character (0x02) is not allowed in YAML: remove it (YAML: "
            "control characters are not allowed)\n"
            "    2 | b: \xc3\xa9\\x02\n"
            "      |     ^\n");
    /* A problem it does not know keeps its old form, line and caret added;
     * no problem at all is "unknown". */
    explain("a: b\n",
            &(struct cfg_syntax_problem){.problem = "something new", .problem_mark = {0, 0, 3}},
            "t.yml:1:4: YAML syntax error: something new\n"
            "    1 | a: b\n"
            "      |    ^\n");
    explain("", &(struct cfg_syntax_problem){.problem = NULL},
            "t.yml:1:1: YAML syntax error: unknown\n");
    /* A mark past the end of the text shows no line. */
    explain("a: b\n", &(struct cfg_syntax_problem){.problem = mv, .problem_mark = {0, 7, 0}},
            "t.yml:8:1: YAML syntax error: mapping values are not allowed in this context\n");
}

/* Runs each case through cfg_compose, as the loader does; the number of
 * cases whose whole error text is not the one wanted. */
static int compose_cases(const struct syntax_case *cases, size_t n)
{
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        yaml_document_t doc;
        struct buf errs;
        buf_init(&errs, 1u << 16);
        if (cfg_compose(cases[i].yaml, strlen(cases[i].yaml), "t.yml", NULL, &doc, &errs) ==
            OP_OK) {
            yaml_document_delete(&doc);
            printf("%s: parsed\n", cases[i].name);
            bad++;
        } else if (strcmp(buf_str(&errs), cases[i].want) != 0) {
            printf("%s:\n got: %s\nwant: %s\n", cases[i].name, buf_str(&errs), cases[i].want);
            bad++;
        }
        buf_free(&errs);
    }
    return bad;
}

/* libyaml's value is a character (U+NNNN past ASCII), or -1 for an
 * incomplete sequence (the byte is read from the text); characters a
 * terminal would act on or not show are shown escaped. */
static void test_reader_errors(void **state)
{
    (void)state;
    static const struct syntax_case cases[] = {
        {"C1 control", "a: \xc2\x9b[31m\n",
         "t.yml:1:4: the character U+009B is not allowed in YAML: remove it (YAML: control "
         "characters are not allowed)\n"
         "    1 | a: \\u009B[31m\n"
         "      |    ^\n"},
        {"noncharacter", "a: \xef\xbf\xbe\n",
         "t.yml:1:4: the character U+FFFE is not allowed in YAML: remove it (YAML: control "
         "characters are not allowed)\n"
         "    1 | a: \xef\xbf\xbe\n"
         "      |    ^\n"},
        {"surrogate", "a: \xed\xa0\x80\n",
         "t.yml:1:4: U+D800 is not a character (a surrogate or past U+10FFFF): save the file as "
         "UTF-8 (YAML: invalid Unicode character)\n"
         "    1 | a: \\uD800\n"
         "      |    ^\n"},
        {"incomplete at the end", "a: b\xc3",
         "t.yml:1:5: the file is not UTF-8 here (byte 0xc3): save it as UTF-8 (YAML: incomplete "
         "UTF-8 octet sequence)\n"
         "    1 | a: b\\xc3\n"
         "      |     ^\n"},
    };
    assert_int_equal(compose_cases(cases, sizeof(cases) / sizeof(cases[0])), 0);
}

/* A byte order mark is no column to libyaml: none in the column, the
 * caret, the shown line or a quoted example; the tab after it is one. */
static void test_bom(void **state)
{
    (void)state;
    static const struct syntax_case cases[] = {
        {"control after a bom",
         "\xef\xbb\xbf"
         "a: \x01\n",
         "t.yml:1:4: a control character (0x01) is not allowed in YAML: remove it (YAML: control "
         "characters are not allowed)\n"
         "    1 | a: \\x01\n"
         "      |    ^\n"},
        {"tab after a bom",
         "\xef\xbb\xbf"
         "\tglobal:\n",
         "t.yml:1:1: a tab character: YAML does not allow tabs for indentation; use spaces (YAML: "
         "found character that cannot start any token)\n"
         "    1 | \tglobal:\n"
         "      | ^\n"},
        {"colon after a bom",
         "\xef\xbb\xbf"
         "name: a: b\n",
         "t.yml:1:8: a colon followed by a space inside a value: put the value in quotes, e.g. "
         "name: \"a: b\" (YAML: mapping values are not allowed in this context)\n"
         "    1 | name: a: b\n"
         "      |        ^\n"},
    };
    assert_int_equal(compose_cases(cases, sizeof(cases) / sizeof(cases[0])), 0);
}

/* NEL, LS and PS end a line to libyaml: its line numbers count them, and
 * so do the shown line and the walk up to the key above. */
static void test_unicode_breaks(void **state)
{
    (void)state;
    static const struct syntax_case cases[] = {
        {"line separator",
         "a: x\xe2\x80\xa8"
         "b: 1: 2\n",
         "t.yml:2:5: a colon followed by a space inside a value: put the value in quotes, e.g. "
         "b: \"1: 2\" (YAML: mapping values are not allowed in this context)\n"
         "    2 | b: 1: 2\n"
         "      |     ^\n"},
        {"next line, key above",
         "a: 1\xc2\x85"
         " b: 2\n",
         "t.yml:2:2: wrong indentation: \"b\" starts at column 2, but \"a\" above it (line 1) "
         "starts at column 1 (YAML: mapping values are not allowed in this context)\n"
         "    2 |  b: 2\n"
         "      |  ^\n"},
    };
    assert_int_equal(compose_cases(cases, sizeof(cases) / sizeof(cases[0])), 0);
}

/* A key run into its value ("name:a") is one plain text to YAML: said
 * as the missing space, not as a "-" or a whole text without a colon. */
static void test_no_space(void **state)
{
    (void)state;
    static const struct syntax_case cases[] = {
        {"item", "checks:\n  - name:a\n    url: http://x/\n",
         "t.yml:2:9: \"name:a\" needs a space after its colon: write \"name: a\" (YAML: mapping "
         "values are not allowed in this context)\n"
         "    2 |   - name:a\n"
         "      |         ^\n"},
        {"key", "checks:\n  - name: a\n    url:http://x/\n    interval: 5s\n",
         "t.yml:3:8: \"url:http://x/\" needs a space after its colon: write \"url: http://x/\" "
         "(YAML: could not find expected ':')\n"
         "    3 |     url:http://x/\n"
         "      |        ^\n"},
        {"secret", "checks:\n  - name: a\n    password:hunter2\n      interval: 5s\n",
         "t.yml:3:13: a key needs a space after its colon: write \"KEY: VALUE\" (YAML: could not "
         "find expected ':')\n"},
    };
    assert_int_equal(compose_cases(cases, sizeof(cases) / sizeof(cases[0])), 0);
}

/* A UTF-16 file: libyaml's marks count its characters, so no line of
 * its bytes is shown (nor one holding a password, which the byte-wise
 * check for secrets cannot read). */
static void test_utf16(void **state)
{
    (void)state;
    static const char text[] = "\xff\xfe"
                               "a\0:\0\n\0 \0p\0a\0s\0s\0:\0 \0h\0:\0 \0x\0\n\0";
    static const char ctrl[] = "\xff\xfe"
                               "a\0:\0 \0\x01\0\n\0";
    struct {
        const char *text;
        size_t len;
        const char *want;
    } cases[] = {
        {text, sizeof(text) - 1,
         "t.yml:2:9: YAML syntax error: mapping values are not allowed in this context (the file "
         "is UTF-16)\n"},
        {ctrl, sizeof(ctrl) - 1,
         "t.yml: YAML syntax error at byte 8: control characters are not allowed (the file is "
         "UTF-16)\n"},
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        yaml_document_t doc;
        struct buf errs;
        buf_init(&errs, 1u << 16);
        if (cfg_compose(cases[i].text, cases[i].len, "t.yml", NULL, &doc, &errs) == OP_OK) {
            yaml_document_delete(&doc);
            printf("case %zu: parsed\n", i);
            bad++;
        } else if (strcmp(buf_str(&errs), cases[i].want) != 0) {
            printf("case %zu:\n got: %s\nwant: %s\n", i, buf_str(&errs), cases[i].want);
            bad++;
        }
        buf_free(&errs);
    }
    assert_int_equal(bad, 0);
}

/* Lines that may hold a secret are never shown, nor quoted from. */
static void test_secret_lines(void **state)
{
    (void)state;
    static const char *const lines[] = {
        "    password: a: b\n",        "    bearer_token: a: b\n",  "    X-Api-Key: a: b\n",
        "    url: http://u:p@h/: b\n", "    Authorization: a: b\n", "    cookie: a: b\n",
    };
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        char text[128];
        snprintf(text, sizeof(text), "a:\n%s", lines[i]);
        yaml_document_t doc;
        struct buf errs;
        buf_init(&errs, 1u << 16);
        assert_int_not_equal(cfg_compose(text, strlen(text), "t.yml", NULL, &doc, &errs), OP_OK);
        const char *e = buf_str(&errs);
        /* One line: the message, without the value. */
        assert_ptr_equal(strchr(e, '\n'), e + strlen(e) - 1);
        assert_non_null(strstr(e, "put the value in quotes (YAML:"));
        buf_free(&errs);
    }
}

/* A value broken onto lines of its own, or a URL with a query: neither
 * shown nor quoted in the message, whichever translation reports it. */
static void test_secret_values(void **state)
{
    (void)state;
    static const struct {
        const char *yaml, *want;
    } cases[] = {
        {"checks:\n  - name: a\n    bearer_token:\n      SeCrEt\n     interval: 5s\n",
         "t.yml:4:7: this line has no colon, so YAML reads line 5 as going on with it: write "
         "\"KEY: VALUE\" or remove it (YAML: mapping values are not allowed in this context)\n"},
        {"checks:\n  - name: a\n    bearer_token: x\n    SeCrEt\n    interval: 5s\n",
         "t.yml:4:5: this line has no colon: write \"KEY: VALUE\", or indent it to go on with the "
         "value above (YAML: could not find expected ':')\n"},
        {"a:\n  key_pem: |\n    SeCrEt\n  x\n",
         "t.yml:4:3: this line has no colon: write \"KEY: VALUE\", or indent it to go on with the "
         "value above (YAML: could not find expected ':')\n"},
        {"a:\n  url: http://h/?sig=Zq9x: d\n",
         "t.yml:2:26: a colon followed by a space inside a value: put the value in quotes (YAML: "
         "mapping values are not allowed in this context)\n"},
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        yaml_document_t doc;
        struct buf errs;
        buf_init(&errs, 1u << 16);
        if (cfg_compose(cases[i].yaml, strlen(cases[i].yaml), "t.yml", NULL, &doc, &errs) ==
            OP_OK) {
            yaml_document_delete(&doc);
            printf("case %zu: parsed\n", i);
            bad++;
        } else if (strcmp(buf_str(&errs), cases[i].want) != 0 || strstr(buf_str(&errs), "SeCrEt") ||
                   strstr(buf_str(&errs), "Zq9x")) {
            printf("case %zu:\n got: %s\nwant: %s\n", i, buf_str(&errs), cases[i].want);
            bad++;
        }
        buf_free(&errs);
    }
    assert_int_equal(bad, 0);
}

struct url_case {
    const char *url;
    const char *echoed; /* NULL: valid */
    const char *hidden; /* the message when the URL may not be shown */
};

static const struct url_case url_cases[] = {
    {"http://x/", NULL, NULL},
    {"https://example.com:8443/a?b=c#d", NULL, NULL},
    {"HTTP://[::1]:80/", NULL, NULL},
    {"http://u:p@h/", NULL, NULL},
    {"http:/x", "\"http:/x\" has one slash after \"http:\": write http://x",
     "the URL has one slash after its scheme: write http://HOST/PATH"},
    {"https:/x/y", "\"https:/x/y\" has one slash after \"https:\": write https://x/y",
     "the URL has one slash after its scheme: write http://HOST/PATH"},
    {"http:x", "\"http:x\" has no \"//\" after \"http:\": write http://x",
     "the URL has no \"//\" after its scheme: write http://HOST/PATH"},
    {"localhost:8080/health",
     "\"localhost:8080/health\" needs a scheme: write "
     "http://localhost:8080/health",
     "the URL needs a scheme: write http:// or https:// before the host"},
    {"example.com:80", "\"example.com:80\" needs a scheme: write http://example.com:80",
     "the URL needs a scheme: write http:// or https:// before the host"},
    {"example.com/health",
     "\"example.com/health\" needs a scheme: write "
     "http://example.com/health",
     "the URL needs a scheme: write http:// or https:// before the host"},
    {"//host/x", "\"//host/x\" needs a scheme: write http://host/x",
     "the URL needs a scheme: write http: or https: before the \"//\""},
    {"/health", "\"/health\" is a path, not a URL: write http://HOST/health",
     "the URL is a path: write it whole, http://HOST/PATH"},
    {"http:///x", "\"http:///x\" has no host: write http://HOST/x",
     "the URL has no host: write http://HOST/PATH"},
    {"http://", "\"http://\" has no host: write http://HOST",
     "the URL has no host: write http://HOST/PATH"},
    {"https://:443/", "\"https://:443/\" has no host: write https://HOST:443/",
     "the URL has no host: write http://HOST/PATH"},
    {"htp://x", "the URL's scheme must be http or https, not \"htp\"",
     "the URL's scheme must be http or https"},
    {"ftp://example.com/file", "the URL's scheme must be http or https, not \"ftp\"",
     "the URL's scheme must be http or https"},
    {"http://exa mple.com/", "\"http://exa mple.com/\" is not a valid URL: Bad hostname",
     "the URL is not valid: Bad hostname"},
    {"http://h:99999/",
     "\"http://h:99999/\" is not a valid URL: Port number was not a decimal "
     "number between 0 and 65535",
     "the URL is not valid: Port number was not a decimal number between 0 and 65535"},
    {"", "the URL is empty: write http://HOST/PATH", "the URL is empty: write http://HOST/PATH"},
    /* Userinfo, a query or a fragment: never shown, even when allowed. */
    {"http:/u:p@x", "the URL has one slash after its scheme: write http://HOST/PATH",
     "the URL has one slash after its scheme: write http://HOST/PATH"},
    {"localhost:8080/x?token=t",
     "the URL needs a scheme: write http:// or https:// before the host",
     "the URL needs a scheme: write http:// or https:// before the host"},
    {"http:///x#t", "the URL has no host: write http://HOST/PATH",
     "the URL has no host: write http://HOST/PATH"},
};

static void test_urls(void **state)
{
    (void)state;
    int bad = 0;
    for (size_t i = 0; i < sizeof(url_cases) / sizeof(url_cases[0]); i++) {
        const struct url_case *c = &url_cases[i];
        for (int echo = 0; echo < 2; echo++) {
            const char *want = c->echoed ? (echo ? c->echoed : c->hidden) : "";
            struct buf why;
            buf_init(&why, 1024);
            bool ok = cfg_http_url_explain(c->url, echo, &why);
            const char *static_why;
            bool ok2 = cfg_http_url_ok(c->url, &static_why);
            if (ok != !c->echoed || ok2 != ok || strcmp(buf_str(&why), want) != 0) {
                printf("%s (echo %d):\n got: %d %s\nwant: %s\n", c->url, echo, ok, buf_str(&why),
                       want);
                bad++;
            }
            buf_free(&why);
        }
    }
    assert_int_equal(bad, 0);
}

/* Through the loader: shown as written, never when a reference or
 * userinfo is in it, whichever key holds it. */
static void test_url_keys(void **state)
{
    (void)state;
    static const struct {
        const char *yaml, *want;
    } cases[] = {
        {"checks:\n  - name: a\n    url: http:/x\n",
         "t.yml:3:10: checks[0] \"a\".url: \"http:/x\" has one slash after \"http:\": write "
         "http://x\n"},
        {"checks:\n  - name: a\n    url: localhost:8080/health\n",
         "t.yml:3:10: checks[0] \"a\".url: \"localhost:8080/health\" needs a scheme: write "
         "http://localhost:8080/health\n"},
        {"checks:\n  - name: a\n    url: \"http:/${env:OUTPOST_TEST_URL_HOST}/\"\n",
         "t.yml:3:10: checks[0] \"a\".url: the URL has one slash after its scheme: write "
         "http://HOST/PATH\n"},
        {"checks:\n  - name: a\n    url: \"http://u:p@exa mple.com/\"\n",
         "t.yml:3:10: checks[0] \"a\".url: the URL is not valid: Bad hostname\n"},
        {"checks:\n  - name: a\n    url: http://x/\n    proxy_url: proxy:3128\n",
         "t.yml:4:16: checks[0] \"a\".proxy_url: \"proxy:3128\" needs a scheme: write "
         "http://proxy:3128\n"},
        {"checks:\n  - name: a\n    type: browser\n    url: htp://x/\n",
         "t.yml:4:10: checks[0] \"a\".url: the URL's scheme must be http or https, not \"htp\"\n"},
        {"alerting:\n  alertmanagers: [\"//am:9093\"]\nchecks:\n  - name: a\n    url: http://x/\n",
         "t.yml:2:19: alerting.alertmanagers[0]: \"//am:9093\" needs a scheme: write "
         "http://am:9093\n"},
        {"alerting:\n  runbook_base_url: runbooks.example.com/outpost\n"
         "  generator_url: ftp://g/\nchecks: []\n",
         "t.yml:2:21: alerting.runbook_base_url: \"runbooks.example.com/outpost\" needs a scheme: "
         "write http://runbooks.example.com/outpost\n"
         "t.yml:3:18: alerting.generator_url: the URL's scheme must be http or https, not "
         "\"ftp\"\n"},
    };
    setenv("OUTPOST_TEST_URL_HOST", "secret-host", 1);
    int bad = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct cfg *cfg = NULL;
        struct buf errs;
        buf_init(&errs, 1u << 16);
        enum op_rc rc = cfg_load_string(cases[i].yaml, strlen(cases[i].yaml), "t.yml", &cfg, &errs);
        if (rc == OP_OK || strcmp(buf_str(&errs), cases[i].want) != 0) {
            printf("case %zu:\n got: %s\nwant: %s\n", i, buf_str(&errs), cases[i].want);
            bad++;
        }
        cfg_free(cfg);
        buf_free(&errs);
    }
    unsetenv("OUTPOST_TEST_URL_HOST");
    assert_int_equal(bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_translations),   cmocka_unit_test(test_shown_line),
        cmocka_unit_test(test_secret_lines),   cmocka_unit_test(test_secret_values),
        cmocka_unit_test(test_reader_errors),  cmocka_unit_test(test_bom),
        cmocka_unit_test(test_unicode_breaks), cmocka_unit_test(test_no_space),
        cmocka_unit_test(test_utf16),          cmocka_unit_test(test_urls),
        cmocka_unit_test(test_url_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
