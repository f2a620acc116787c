/* cfg_syntax.c - a YAML syntax error said as what the user did (cfg_syntax.h). */
#include "cfg_syntax.h"
#include "cfg_syntax_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* A key written on a line: its 0-based column and name. */
struct key {
    bool found;
    size_t no;
    size_t col;
    char name[CFG_SYNTAX_NAME_MAX + 1];
};

/* What the translation chose: the message and the mark it is about. */
struct said {
    struct buf *msg;
    yaml_mark_t at;
};

static char at(const struct cfg_syntax_line *l, size_t off)
{
    return off < l->n ? l->s[off] : '\0';
}

static size_t skip_spaces(const struct cfg_syntax_line *l, size_t off)
{
    while (off < l->n && l->s[off] == ' ')
        off++;
    return off;
}

/* Empty, spaces only or a comment: no content for indentation. */
static bool blank(const struct cfg_syntax_line *l)
{
    size_t i = skip_spaces(l, 0);
    return i == l->n || l->s[i] == '#';
}

/* A ':' that ends a key: followed by a space, a tab or the line's end. */
static bool key_colon(const struct cfg_syntax_line *l, size_t off)
{
    return at(l, off) == ':' &&
           (off + 1 == l->n || at(l, off + 1) == ' ' || at(l, off + 1) == '\t');
}

/* The plain word at off, fit to be named in a message: printable, no
 * quotes, at most CFG_SYNTAX_NAME_MAX bytes; it ends at a key colon or a
 * space. False when there is none. */
static bool word_at(const struct cfg_syntax_line *l, size_t off, char *out)
{
    size_t i = off;
    while (i < l->n && l->s[i] != ' ' && l->s[i] != '\t' && !key_colon(l, i)) {
        unsigned char ch = (unsigned char)l->s[i];
        if (ch < 0x20 || ch == 0x7f || ch == '"' || ch == '\'' || ch == '\\' ||
            i - off == CFG_SYNTAX_NAME_MAX)
            return false;
        i++;
    }
    if (i == off)
        return false;
    memcpy(out, l->s + off, i - off);
    out[i - off] = '\0';
    return true;
}

/* The key of a "key:" or "- key:" line, if any. */
static bool key_of(const struct cfg_syntax_line *l, struct key *k)
{
    size_t i = skip_spaces(l, 0);
    while (at(l, i) == '-' && (at(l, i + 1) == ' ' || i + 1 == l->n))
        i = skip_spaces(l, i + 1);
    char name[CFG_SYNTAX_NAME_MAX + 1];
    if (!word_at(l, i, name) || !key_colon(l, i + strlen(name)))
        return false;
    *k = (struct key){true, l->no, cfg_syntax_byte_col(l, i), ""};
    memcpy(k->name, name, sizeof(name));
    return true;
}

/* Keys, passwords and userinfo: a line that may hold one is never shown,
 * and no value is quoted from it. */
static bool may_hold_secret(const struct cfg_syntax_line *l)
{
    static const char *const words[] = {"pass", "secret", "token",      "auth",
                                        "key",  "cookie", "credential", "@"};
    for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++) {
        size_t wn = strlen(words[w]);
        for (size_t i = 0; i + wn <= l->n; i++)
            if (strncasecmp(l->s + i, words[w], wn) == 0)
                return true;
    }
    /* A URL's query or fragment (a signature, a token), as in cfg_url. */
    for (size_t i = 0; i + 3 <= l->n; i++) {
        if (memcmp(l->s + i, "://", 3) != 0)
            continue;
        for (size_t j = i + 3; j < l->n && l->s[j] != ' ' && l->s[j] != '\t'; j++)
            if (l->s[j] == '?' || l->s[j] == '#')
                return true;
    }
    return false;
}

/* Line l, or the value it goes on with, may hold a secret: a line that is
 * not a key of its own (a token broken onto the next line, a block
 * scalar's text) is judged with the lines above it up to the key it
 * belongs to. */
static bool secret_line(const char *text, const struct cfg_syntax_line *l)
{
    if (may_hold_secret(l))
        return true;
    struct key k;
    if (key_of(l, &k))
        return false;
    size_t indent = skip_spaces(l, 0);
    struct cfg_syntax_line u = *l;
    while (cfg_syntax_line_prev(text, &u, &u)) {
        if (blank(&u))
            continue;
        if (may_hold_secret(&u))
            return true;
        if (key_of(&u, &k) || skip_spaces(&u, 0) < indent)
            return false;
    }
    return false;
}

/* The nearest key above the line from, and, when from's content (at
 * column col) lies outside that key's block, the key of the block around
 * it. */
static void keys_above(const char *text, const struct cfg_syntax_line *from, size_t col,
                       struct key *near, struct key *outer)
{
    near->found = outer->found = false;
    struct cfg_syntax_line l = *from;
    while (cfg_syntax_line_prev(text, &l, &l)) {
        if (blank(&l))
            continue;
        struct key k;
        bool is_key = key_of(&l, &k);
        if (!near->found && is_key)
            *near = k;
        size_t start = skip_spaces(&l, 0);
        if (cfg_syntax_byte_col(&l, start) < col) {
            /* The first line to the left: a plain key encloses the line;
             * a list item's keys are the near ones. */
            if (near->found && is_key && k.no != near->no && at(&l, start) != '-')
                *outer = k;
            return;
        }
    }
}

static yaml_mark_t mark(size_t no, size_t col)
{
    return (yaml_mark_t){0, no, col};
}

/* "wrong indentation: ..." for line l, whose content starts at col. */
static void say_indent(const char *text, const struct cfg_syntax_line *l, size_t col,
                       struct said *s)
{
    char name[CFG_SYNTAX_NAME_MAX + 1];
    struct key near, outer;
    keys_above(text, l, col, &near, &outer);
    buf_adds(s->msg, "wrong indentation: ");
    if (!secret_line(text, l) && word_at(l, cfg_syntax_col_byte(l, col), name))
        buf_addf(s->msg, "\"%s\" starts at column %zu", name, col + 1);
    else
        buf_addf(s->msg, "this line starts at column %zu", col + 1);
    if (near.found)
        buf_addf(s->msg, ", but \"%s\" above it (line %zu) starts at column %zu", near.name,
                 near.no + 1, near.col + 1);
    if (outer.found)
        buf_addf(s->msg, " and \"%s\" (line %zu) at column %zu", outer.name, outer.no + 1,
                 outer.col + 1);
    s->at = mark(l->no, col);
}

/* A tab where libyaml wants spaces; the mark is moved onto the tab. */
static bool say_tab(const struct cfg_syntax_line *l, yaml_mark_t m, struct said *s)
{
    size_t off = cfg_syntax_col_byte(l, m.column);
    if (at(l, off) != '\t') {
        const char *tab = memchr(l->s, '\t', l->n);
        if (!tab)
            return false;
        off = (size_t)(tab - l->s);
    }
    buf_adds(s->msg, "a tab character: YAML does not allow tabs for indentation; use spaces");
    s->at = mark(l->no, cfg_syntax_byte_col(l, off));
    return true;
}

/* The ": " inside a value on line l (the problem mark at a colon). */
static bool say_colon_in_value(const char *text, const struct cfg_syntax_line *l, size_t colon,
                               struct said *s)
{
    size_t k = skip_spaces(l, 0);
    while (at(l, k) == '-' && at(l, k + 1) == ' ')
        k = skip_spaces(l, k + 1);
    size_t first = k;
    while (first < colon && !key_colon(l, first))
        first++;
    if (first == colon)
        return false;
    buf_adds(s->msg, "a colon followed by a space inside a value: put the value in quotes");
    size_t v = skip_spaces(l, first + 1), end = l->n;
    for (size_t i = v; i < l->n; i++)
        if (l->s[i] == '#' && l->s[i - 1] == ' ') {
            end = i;
            break;
        }
    while (end > v && l->s[end - 1] == ' ')
        end--;
    /* The example quotes the value as written, when that is exact and
     * short enough to read. */
    bool plain = !secret_line(text, l) && end - v <= 60 && first - k <= CFG_SYNTAX_NAME_MAX;
    for (size_t i = k; plain && i < end; i++) {
        unsigned char ch = (unsigned char)l->s[i];
        plain = ch >= 0x20 && ch != 0x7f && ch != '"' && ch != '\\' && ch != '\'';
    }
    if (plain)
        buf_addf(s->msg, ", e.g. %.*s: \"%.*s\"", (int)(first - k), l->s + k, (int)(end - v),
                 l->s + v);
    s->at = mark(l->no, cfg_syntax_byte_col(l, colon));
    return true;
}

/* "name:a" (the word at off of line l, in name): a key run into its
 * value, which YAML reads as one plain text. A URL's "http://" is not. */
static bool say_no_space(const char *text, const struct cfg_syntax_line *l, size_t off,
                         const char *name, struct said *s)
{
    size_t c = strcspn(name, ":");
    if (c == 0 || name[c] != ':' || name[c + 1] == '/' ||
        strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != c)
        return false;
    if (secret_line(text, l))
        buf_adds(s->msg, "a key needs a space after its colon: write \"KEY: VALUE\"");
    else
        buf_addf(s->msg, "\"%s\" needs a space after its colon: write \"%.*s: %s\"", name, (int)c,
                 name, name + c + 1);
    s->at = mark(l->no, cfg_syntax_byte_col(l, off + c));
    return true;
}

/* "mapping values are not allowed in this context": a colon inside a
 * value, or a line YAML reads as going on with the value above it. */
static bool say_mapping_value(const char *text, const struct cfg_syntax_line *l, yaml_mark_t m,
                              struct said *s)
{
    if (say_colon_in_value(text, l, cfg_syntax_col_byte(l, m.column), s))
        return true;
    struct cfg_syntax_line prev = *l;
    do {
        if (!cfg_syntax_line_prev(text, &prev, &prev))
            return false;
    } while (blank(&prev));
    size_t p = skip_spaces(&prev, 0);
    char name[CFG_SYNTAX_NAME_MAX + 1];
    if (at(&prev, p) == '-' && at(&prev, p + 1) != ' ' && word_at(&prev, p, name)) {
        buf_addf(s->msg, "\"%s\" is a key, not a list item: put a space after \"-\"", name);
        s->at = mark(prev.no, cfg_syntax_byte_col(&prev, p));
        return true;
    }
    struct key k;
    if (!key_of(&prev, &k)) {
        /* "- name:a": the item's text, a key run into its value. */
        while (at(&prev, p) == '-' && at(&prev, p + 1) == ' ')
            p = skip_spaces(&prev, p + 1);
        if (!word_at(&prev, p, name))
            return false;
        if (say_no_space(text, &prev, p, name, s))
            return true;
        if (secret_line(text, &prev))
            buf_addf(s->msg,
                     "this line has no colon, so YAML reads line %zu as going on with it: "
                     "write \"KEY: VALUE\" or remove it",
                     l->no + 1);
        else
            buf_addf(s->msg,
                     "\"%s\" has no colon after it, so YAML reads line %zu as going on with it: "
                     "write \"%s: VALUE\" or remove it",
                     name, l->no + 1, name);
        s->at = mark(prev.no, cfg_syntax_byte_col(&prev, p));
        return true;
    }
    say_indent(text, l, cfg_syntax_byte_col(l, skip_spaces(l, 0)), s);
    return true;
}

/* The mark's line is a list item ("- ..."). */
static bool item_line(const struct cfg_syntax_line *l, size_t col)
{
    size_t off = cfg_syntax_col_byte(l, col);
    return at(l, off) == '-' && (off + 1 == l->n || at(l, off + 1) == ' ');
}

/* "did not find expected '-' indicator": a line inside a list that is
 * not one of its items. */
static void say_block_seq(const char *text, const struct cfg_syntax_line *l,
                          const struct cfg_syntax_problem *p, struct said *s)
{
    size_t col = p->problem_mark.column, list = p->context_mark.column;
    if (item_line(l, col) && col != list) {
        buf_addf(s->msg,
                 "wrong indentation: this list item starts at column %zu, but the items of its "
                 "list (line %zu) start at column %zu",
                 col + 1, p->context_mark.line + 1, list + 1);
        s->at = p->problem_mark;
        return;
    }
    char name[CFG_SYNTAX_NAME_MAX + 1];
    if (col == list) {
        if (!secret_line(text, l) && word_at(l, cfg_syntax_col_byte(l, col), name))
            buf_addf(s->msg, "\"%s\" is", name);
        else
            buf_adds(s->msg, "this line is");
        buf_addf(s->msg,
                 " in line with the items of the list on line %zu, but is not an item: start it "
                 "with \"- \", or move it out of the list",
                 p->context_mark.line + 1);
        s->at = p->problem_mark;
        return;
    }
    say_indent(text, l, col, s);
}

/* "did not find expected key": a mapping's line that is not a key. */
static bool say_block_map(const char *text, const struct cfg_syntax_line *l,
                          const struct cfg_syntax_problem *p, struct said *s)
{
    size_t col = p->problem_mark.column, off = cfg_syntax_col_byte(l, col);
    if (item_line(l, col)) {
        /* Most often an item of the list above, indented off. */
        struct cfg_syntax_line up = *l;
        while (cfg_syntax_line_prev(text, &up, &up)) {
            size_t d = skip_spaces(&up, 0);
            if (blank(&up) || !item_line(&up, cfg_syntax_byte_col(&up, d)))
                continue;
            if (cfg_syntax_byte_col(&up, d) == col)
                break;
            buf_addf(s->msg,
                     "wrong indentation: this list item starts at column %zu, but the items of "
                     "the list above it (line %zu) start at column %zu",
                     col + 1, up.no + 1, cfg_syntax_byte_col(&up, d) + 1);
            s->at = p->problem_mark;
            return true;
        }
        buf_addf(s->msg,
                 "a list item where a key is expected: the keys of this mapping start at column "
                 "%zu (line %zu); a list goes under a key that ends with \":\"",
                 p->context_mark.column + 1, p->context_mark.line + 1);
        s->at = p->problem_mark;
        return true;
    }
    if (off == skip_spaces(l, 0)) {
        say_indent(text, l, col, s);
        return true;
    }
    size_t b = off;
    while (b > 0 && l->s[b - 1] == ' ')
        b--;
    char q = b > 0 ? l->s[b - 1] : '\0';
    if (q != '"' && q != '\'')
        return false;
    buf_addf(s->msg, "text after the closing quote: put the whole value inside the quotes");
    if (q == '\'')
        buf_adds(s->msg, " (in single quotes a quote is written twice: 'it''s')");
    s->at = p->problem_mark;
    return true;
}

static bool is(const char *a, const char *b)
{
    return a && strcmp(a, b) == 0;
}

/* The mark of a reader error: libyaml gives a byte offset. */
static yaml_mark_t offset_mark(const char *text, size_t len, size_t off)
{
    yaml_mark_t m = {off, 0, 0};
    for (size_t i = cfg_syntax_bom_len(text, len); i < off && i < len;) {
        size_t b = cfg_syntax_brk_at(text, len, i);
        if (b > 0) {
            m.line++;
            m.column = 0;
            i += b;
            continue;
        }
        if (((unsigned char)text[i] & 0xC0) != 0x80)
            m.column++;
        i++;
    }
    return m;
}

/* Only spaces and line breaks from mark m to the end of the text. */
static bool at_end(const char *text, size_t len, yaml_mark_t m)
{
    struct cfg_syntax_line l;
    if (!cfg_syntax_line_get(text, len, m.line, &l))
        return true;
    for (size_t i = (size_t)(l.s - text) + cfg_syntax_col_byte(&l, m.column); i < len; i++)
        if (text[i] != ' ' && text[i] != '\n' && text[i] != '\r')
            return false;
    return true;
}

/* The innermost "[" or "{" the text leaves open, for a file that ends
 * inside one (libyaml's marks are then both at the end). A bracket opens
 * only where a value can start; quotes and comments are skipped. Nesting
 * past CFG_SYNTAX_FLOW_MAX is not followed. */
#define CFG_SYNTAX_FLOW_MAX 64
static bool open_flow(const char *text, size_t len, yaml_mark_t *m, char *open)
{
    yaml_mark_t stack[CFG_SYNTAX_FLOW_MAX];
    char kind[CFG_SYNTAX_FLOW_MAX];
    size_t depth = 0, line = 0, col = 0;
    char prev = '\n'; /* the last character that is not a space */
    for (size_t i = cfg_syntax_bom_len(text, len); i < len; i++) {
        char ch = text[i];
        size_t b = cfg_syntax_brk_at(text, len, i);
        if (b > 0) {
            line++;
            col = 0;
            prev = '\n';
            i += b - 1;
            continue;
        }
        bool starts =
            prev == '\n' || prev == ':' || prev == '-' || prev == ',' || prev == '[' || prev == '{';
        if (ch == '#' && (i == 0 || text[i - 1] == ' ' || text[i - 1] == '\t' || prev == '\n')) {
            while (i + 1 < len && cfg_syntax_brk_at(text, len, i + 1) == 0)
                i++;
            continue;
        }
        if ((ch == '"' || ch == '\'') && starts) {
            /* Skip to the closing quote; a quote never closed ends the
             * text (libyaml reports that one itself). */
            size_t j = i + 1;
            while (j < len && text[j] != ch)
                j += ch == '"' && text[j] == '\\' && j + 1 < len ? 2 : 1;
            while (i < j && i < len) {
                size_t qb = cfg_syntax_brk_at(text, len, i);
                if (qb > 0) {
                    line++;
                    col = 0;
                    i += qb;
                    continue;
                }
                if (((unsigned char)text[i] & 0xC0) != 0x80)
                    col++;
                i++;
            }
            prev = ch;
            col++;
            continue;
        }
        if ((ch == '[' || ch == '{') && starts && depth < CFG_SYNTAX_FLOW_MAX) {
            stack[depth] = mark(line, col);
            kind[depth++] = ch;
        } else if ((ch == ']' || ch == '}') && depth > 0) {
            depth--;
        }
        if (ch != ' ' && ch != '\t')
            prev = ch;
        if (((unsigned char)ch & 0xC0) != 0x80)
            col++;
    }
    if (depth == 0)
        return false;
    *m = stack[depth - 1];
    *open = kind[depth - 1];
    return true;
}

/* The translation of p into s; false for a problem it does not know. */
static bool translate(const char *text, size_t len, const struct cfg_syntax_problem *p,
                      struct said *s)
{
    const char *what = p->problem;
    if (p->error == YAML_READER_ERROR) {
        s->at = offset_mark(text, len, p->problem_offset);
        /* libyaml's value is a character for these, a byte or -1 (none:
         * the byte at the offset is the one) for the UTF-8 ones. */
        int v = p->problem_value;
        if (is(what, "control characters are not allowed") && v >= 0 && v < 0x80)
            buf_addf(s->msg, "a control character (0x%02x) is not allowed in YAML: remove it",
                     (unsigned)v);
        else if (is(what, "control characters are not allowed") && v >= 0)
            buf_addf(s->msg, "the character U+%04X is not allowed in YAML: remove it", (unsigned)v);
        else if (is(what, "invalid Unicode character") && v >= 0)
            buf_addf(s->msg,
                     "U+%04X is not a character (a surrogate or past U+10FFFF): save the file "
                     "as UTF-8",
                     (unsigned)v);
        else if (what && strstr(what, "UTF-8") && (v >= 0 || p->problem_offset < len))
            buf_addf(s->msg, "the file is not UTF-8 here (byte 0x%02x): save it as UTF-8",
                     (unsigned)(v >= 0 ? v : (unsigned char)text[p->problem_offset]) & 0xffu);
        else
            return false;
        return true;
    }
    struct cfg_syntax_line l;
    yaml_mark_t pm = p->problem_mark, cm = p->context_mark;
    bool have = cfg_syntax_line_get(text, len, pm.line, &l);
    if (is(what, "found a tab character that violates indentation") && have)
        return say_tab(&l, pm, s);
    if (is(what, "found character that cannot start any token") && have) {
        char ch = at(&l, cfg_syntax_col_byte(&l, pm.column));
        if (ch == '\t')
            return say_tab(&l, pm, s);
        if (ch != '@' && ch != '`' && ch != '%')
            return false;
        buf_addf(s->msg,
                 "a value cannot start with \"%c\" (YAML reserves it): put the value in "
                 "quotes",
                 ch);
        s->at = pm;
        return true;
    }
    if (is(what, "mapping values are not allowed in this context") && have)
        return say_mapping_value(text, &l, pm, s);
    if (is(what, "did not find expected '-' indicator") && have) {
        say_block_seq(text, &l, p, s);
        return true;
    }
    if (is(what, "did not find expected key") && is(p->context, "while parsing a block mapping") &&
        have)
        return say_block_map(text, &l, p, s);
    if (is(what, "could not find expected ':'") && cfg_syntax_line_get(text, len, cm.line, &l)) {
        char name[CFG_SYNTAX_NAME_MAX + 1];
        size_t off = cfg_syntax_col_byte(&l, cm.column);
        if (!word_at(&l, off, name))
            return false;
        if (say_no_space(text, &l, off, name, s))
            return true;
        if (secret_line(text, &l))
            buf_adds(s->msg, "this line has no colon: write \"KEY: VALUE\", or indent it to go "
                             "on with the value above");
        else
            buf_addf(s->msg,
                     "\"%s\" has no colon after it: write \"%s: VALUE\", or indent it to go on "
                     "with the value above",
                     name, name);
        s->at = cm;
        return true;
    }
    if (is(p->context, "while scanning a quoted scalar") &&
        is(what, "found unexpected end of stream") && cfg_syntax_line_get(text, len, cm.line, &l)) {
        char q = at(&l, cfg_syntax_col_byte(&l, cm.column)) == '\'' ? '\'' : '"';
        buf_addf(s->msg, "this quote is never closed: end the value with %c", q);
        s->at = cm;
        return true;
    }
    if (is(what, "found unknown escape character") && have) {
        size_t off = cfg_syntax_col_byte(&l, pm.column);
        unsigned char e = (unsigned char)at(&l, off + 1);
        if (at(&l, off) != '\\' || e < 0x21 || e > 0x7e)
            return false;
        buf_addf(s->msg,
                 "\"\\%c\" is not an escape in double quotes: write \"\\\\%c\" for a backslash, "
                 "or use single quotes, where a backslash is just a backslash",
                 e, e);
        s->at = pm;
        return true;
    }
    bool seq = is(what, "did not find expected ',' or ']'");
    if (seq || is(what, "did not find expected ',' or '}'")) {
        char open = seq ? '[' : '{', close = seq ? ']' : '}';
        if (pm.line == cm.line && have && key_colon(&l, cfg_syntax_col_byte(&l, pm.column)))
            buf_adds(s->msg, "a colon followed by a space inside a value: put the value in "
                             "quotes");
        else if (pm.line > cm.line)
            buf_addf(s->msg, "this \"%c\" is never closed: add \"%c\" after the last %s", open,
                     close, seq ? "item" : "pair");
        else
            buf_addf(s->msg, "a \",\" between the %s or a \"%c\" is missing here",
                     seq ? "items" : "pairs", close);
        s->at = pm.line > cm.line ? cm : pm;
        return true;
    }
    yaml_mark_t fm;
    char open;
    if (is(what, "did not find expected node content") &&
        is(p->context, "while parsing a flow node") && at_end(text, len, pm) &&
        open_flow(text, len, &fm, &open)) {
        buf_addf(s->msg, "this \"%c\" is never closed: add \"%c\" after the last %s", open,
                 open == '[' ? ']' : '}', open == '[' ? "item" : "pair");
        s->at = fm;
        return true;
    }
    if (is(what, "did not find expected comment or line break") &&
        is(p->context, "while scanning a block scalar")) {
        buf_adds(s->msg, "only an indentation digit, \"+\" or \"-\" may follow \"|\" or \">\": "
                         "the text goes on the lines below, indented");
        s->at = pm;
        return true;
    }
    if (is(what, "block sequence entries are not allowed in this context")) {
        buf_adds(s->msg, "a list item cannot start on the line of its key: put \"- \" on the "
                         "next line, indented");
        s->at = pm;
        return true;
    }
    return false;
}

/* A character a terminal would not show as itself: a C1 control (some
 * terminals act on them), a line or paragraph separator, a mark that
 * reorders text or has no width, a byte order mark, a surrogate. */
static bool invisible(const unsigned char *c, size_t n, unsigned *cp)
{
    if (n == 2)
        *cp = (c[0] & 0x1Fu) << 6 | (c[1] & 0x3Fu);
    else if (n == 3)
        *cp = (c[0] & 0x0Fu) << 12 | (c[1] & 0x3Fu) << 6 | (c[2] & 0x3Fu);
    else
        return false;
    return (*cp >= 0x80 && *cp <= 0x9F) || (*cp >= 0x200B && *cp <= 0x200F) ||
           (*cp >= 0x2028 && *cp <= 0x202E) || (*cp >= 0xD800 && *cp <= 0xDFFF) ||
           (*cp >= 0x2066 && *cp <= 0x2069) || *cp == 0xFEFF;
}

/* The shown line and the caret under column col, or nothing when the
 * line is empty or may hold a secret. A tab is shown as itself and copied
 * into the caret's line, so the caret stays under its column; other
 * control bytes and bytes that are not UTF-8 are shown as \xNN, and
 * characters that would not show as themselves as \uNNNN. */
static void show(struct buf *out, const char *text, size_t len, yaml_mark_t m)
{
    struct cfg_syntax_line l;
    if (!cfg_syntax_line_get(text, len, m.line, &l) || blank(&l) || secret_line(text, &l))
        return;
    size_t from = cfg_syntax_col_byte(
        &l, m.column > CFG_SYNTAX_SHOW_COLS / 2 ? m.column - CFG_SYNTAX_SHOW_COLS / 2 : 0);
    char no[24];
    int w = snprintf(no, sizeof(no), "%5zu", m.line + 1);
    struct buf caret;
    buf_init(&caret, 8 * CFG_SYNTAX_SHOW_COLS);
    buf_addf(out, "%s | ", no);
    buf_addf(&caret, "%*s | ", w, "");
    if (from > 0) {
        buf_adds(out, "...");
        buf_adds(&caret, "   ");
    }
    size_t col = cfg_syntax_byte_col(&l, from), i = from, shown = 0;
    while (i < l.n && shown < CFG_SYNTAX_SHOW_COLS) {
        unsigned char ch = (unsigned char)l.s[i];
        size_t n = 1;
        if (ch >= 0xC0 && ch < 0xF8)
            n = ch < 0xE0 ? 2 : ch < 0xF0 ? 3 : 4;
        bool valid = ch < 0x80 || n > 1;
        for (size_t k = 1; k < n; k++)
            valid = valid && i + k < l.n && ((unsigned char)l.s[i + k] & 0xC0) == 0x80;
        const char *pad = " ";
        unsigned cp;
        if (valid && invisible((const unsigned char *)l.s + i, n, &cp)) {
            buf_addf(out, "\\u%04X", cp);
            pad = "      ";
        } else if (ch == '\t') {
            buf_addc(out, '\t');
            pad = "\t";
        } else if (!valid || ch < 0x20 || ch == 0x7f) {
            buf_addf(out, "\\x%02x", ch);
            pad = "    ";
            n = 1;
        } else {
            buf_add(out, l.s + i, n);
        }
        if (col < m.column)
            buf_adds(&caret, pad);
        /* An invalid byte is a column of its own to libyaml's reader too. */
        col++;
        shown++;
        i += n;
    }
    if (i < l.n)
        buf_adds(out, "...");
    buf_addc(out, '\n');
    buf_adds(&caret, "^\n");
    buf_adds(out, buf_str(&caret));
    buf_free(&caret);
}

void cfg_syntax_explain(struct buf *out, const char *name, const char *text, size_t len,
                        const struct cfg_syntax_problem *p)
{
    const char *what = p->problem ? p->problem : "unknown";
    /* A UTF-16 file (libyaml decodes one after its byte order mark): the
     * marks count its characters, not the bytes here, so no line is
     * looked up, shown or judged for secrets in it. */
    const unsigned char *t = (const unsigned char *)text;
    if (len >= 2 && ((t[0] == 0xFF && t[1] == 0xFE) || (t[0] == 0xFE && t[1] == 0xFF))) {
        if (p->error == YAML_READER_ERROR)
            buf_addf(out, "%s: YAML syntax error at byte %zu: %s (the file is UTF-16)\n", name,
                     p->problem_offset, what);
        else
            buf_addf(out, "%s:%zu:%zu: YAML syntax error: %s (the file is UTF-16)\n", name,
                     p->problem_mark.line + 1, p->problem_mark.column + 1, what);
        return;
    }
    struct buf msg;
    buf_init(&msg, 1024);
    struct said s = {&msg, p->problem_mark};
    if (translate(text, len, p, &s) && !msg.failed)
        buf_addf(out, "%s:%zu:%zu: %s (YAML: %s)\n", name, s.at.line + 1, s.at.column + 1,
                 buf_str(&msg), what);
    else
        buf_addf(out, "%s:%zu:%zu: YAML syntax error: %s\n", name, s.at.line + 1, s.at.column + 1,
                 what);
    show(out, text, len, s.at);
    buf_free(&msg);
}
