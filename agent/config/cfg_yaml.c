/* cfg_yaml.c - node access, errors, paths, typed getters and named lists. */
#include "cfg_yaml.h"
#include "names.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- errors ---- */

static void put_where(struct buf *b, const char *file, const yaml_node_t *n)
{
    if (n)
        buf_addf(b, "%s:%zu:%zu: ", file, n->start_mark.line + 1, n->start_mark.column + 1);
    else
        buf_addf(b, "%s: ", file);
}

void cfg_err(struct cfg_parser *p, const yaml_node_t *n, const char *path, const char *fmt, ...)
{
    p->n_errors++;
    if (p->n_errors > CFG_MAX_ERRORS)
        return;
    /* One line per problem, each bounded (paths by CFG_PATH_CAP, quoted user
     * text by CFG_MAX_QUOTED), at most CFG_MAX_ERRORS of them: the list fits
     * the callers' CFG_MAX_ERRORS_BYTES. Should it not, the buffer fails as
     * a whole and the load still fails, so nothing wrong is ever accepted. */
    put_where(p->errors, p->file, n);
    if (path && *path)
        buf_addf(p->errors, "%s: ", path);
    va_list ap;
    va_start(ap, fmt);
    buf_vaddf(p->errors, fmt, ap);
    va_end(ap);
    buf_addc(p->errors, '\n');
    if (p->n_errors == CFG_MAX_ERRORS)
        buf_addf(p->errors, "%s: too many errors, stopping the list here\n", p->file);
}

const char *cfg_duration_text(const yaml_node_t *n, int64_t ms, char *out)
{
    int64_t v;
    if (n && n->type == YAML_SCALAR_NODE && cfg_parse_duration(cfg_scalar(n), &v) == OP_OK &&
        v == ms)
        return cfg_quote(cfg_scalar(n), out);
    return cfg_format_duration(ms, out, CFG_MAX_QUOTED + 4);
}

const char *cfg_timeout_text(struct cfg_parser *p, const yaml_node_t *n, int64_t ms, char *out)
{
    const yaml_node_t *t = cfg_map_value(p, n, "timeout");
    return cfg_duration_text(t ? t : p->timeout_node, ms, out);
}

const char *cfg_quote(const char *s, char *out)
{
    size_t n = strnlen(s, CFG_MAX_QUOTED + 1);
    if (n <= CFG_MAX_QUOTED) {
        memcpy(out, s, n + 1);
        return out;
    }
    /* Cut at a UTF-8 character boundary so the message stays valid text. */
    n = CFG_MAX_QUOTED;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    memcpy(out, s, n);
    memcpy(out + n, "...", 4);
    return out;
}

/* ---- nodes ---- */

static const char *node_type_name(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_SCALAR_NODE:
        return "a scalar";
    case YAML_SEQUENCE_NODE:
        return "a list";
    case YAML_MAPPING_NODE:
        return "a mapping";
    default:
        return "empty";
    }
}

const char *cfg_scalar(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

bool cfg_is_plain(const yaml_node_t *n)
{
    return n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

bool cfg_is_null(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE || !cfg_is_plain(n))
        return false;
    const char *s = cfg_scalar(n);
    return !*s || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
           strcmp(s, "NULL") == 0;
}

bool cfg_want_scalar(struct cfg_parser *p, const yaml_node_t *n, const char *path)
{
    if (n->type == YAML_SCALAR_NODE)
        return true;
    cfg_err(p, n, path, "expected a single value, got %s", node_type_name(n));
    return false;
}

bool cfg_want_mapping(struct cfg_parser *p, const yaml_node_t *n, const char *path)
{
    if (n->type == YAML_MAPPING_NODE)
        return true;
    cfg_err(p, n, path, "expected a mapping, got %s", node_type_name(n));
    return false;
}

bool cfg_want_sequence(struct cfg_parser *p, const yaml_node_t *n, const char *path)
{
    if (n->type == YAML_SEQUENCE_NODE)
        return true;
    cfg_err(p, n, path, "expected a list, got %s", node_type_name(n));
    return false;
}

size_t cfg_seq_len(const yaml_node_t *n)
{
    return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

yaml_node_t *cfg_seq_item(struct cfg_parser *p, const yaml_node_t *n, size_t i)
{
    return yaml_document_get_node(p->doc, n->data.sequence.items.start[i]);
}

yaml_node_t *cfg_map_value(struct cfg_parser *p, const yaml_node_t *map, const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top;
         pr++) {
        yaml_node_t *k = yaml_document_get_node(p->doc, pr->key);
        if (k && k->type == YAML_SCALAR_NODE && strcmp(cfg_scalar(k), key) == 0)
            return yaml_document_get_node(p->doc, pr->value);
    }
    return NULL;
}

/* A path from a format into out (CFG_PATH_CAP bytes). One that does not
 * fit is cut at a character boundary and ends in "...": a label that
 * shows it is shortened, and still valid UTF-8. */
static void path_fmt(char *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void path_fmt(char *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, CFG_PATH_CAP, fmt, ap);
    va_end(ap);
    if (n < 0) {
        out[0] = '\0';
        return;
    }
    if (n < CFG_PATH_CAP)
        return;
    size_t cut = CFG_PATH_CAP - 4;
    while (cut > 0 && ((unsigned char)out[cut] & 0xC0) == 0x80)
        cut--;
    memcpy(out + cut, "...", 4);
}

void cfg_path_key(char *out, const char *parent, const char *key)
{
    path_fmt(out, "%s%s%s", parent, *parent ? "." : "", key);
}

void cfg_path_index(char *out, const char *parent, size_t i)
{
    path_fmt(out, "%s[%zu]", parent, i);
}

/* Bytes an entry's name takes in a path at most: cfg_quote's text with
 * every byte escaped as \xHH. */
#define NAME_SEGMENT_CAP (4 * (CFG_MAX_QUOTED + 3) + 1)
/* Bytes a name leaves for the keys after it (".basic_auth.password"). */
#define PATH_TAIL_ROOM 32

/* The bytes s[0] stands for in a segment: 2 for '"' and '\\', 4 for a
 * control byte (\xHH), else 1. */
static size_t escaped_len(unsigned char c)
{
    return c == '"' || c == '\\' ? 2 : c < 0x20 || c == 0x7f ? 4 : 1;
}

/* name shortened (cfg_quote) and escaped for a double-quoted segment, in
 * at most room bytes (and a NUL): when the escaped text does not fit, it
 * stops at a whole character and escape and ends in "...", so a deep path
 * is shortened inside the name rather than cut through an escape. */
static void name_segment(const char *name, char *out, size_t room)
{
    static const char hex[] = "0123456789abcdef";
    char q[CFG_MAX_QUOTED + 4];
    const unsigned char *s = (const unsigned char *)cfg_quote(name, q);
    size_t need = 0;
    for (const unsigned char *c = s; *c; c++)
        need += escaped_len(*c);
    size_t limit = need <= room ? need : room - 3, o = 0;
    while (*s) {
        /* A character (its UTF-8 continuation bytes with it), whole or not at all. */
        size_t n = 1, len = escaped_len(*s);
        while ((s[n] & 0xC0) == 0x80)
            n++, len++;
        if (o + len > limit)
            break;
        for (size_t k = 0; k < n; k++, s++) {
            if (*s == '"' || *s == '\\') {
                out[o++] = '\\';
                out[o++] = (char)*s;
            } else if (*s < 0x20 || *s == 0x7f) {
                /* A valid name has none, but an invalid one is still shown
                 * on one line, byte for byte recognisable. */
                out[o++] = '\\';
                out[o++] = 'x';
                out[o++] = hex[*s >> 4];
                out[o++] = hex[*s & 15];
            } else {
                out[o++] = (char)*s;
            }
        }
    }
    if (need > room)
        memcpy(out + o, "...", 3), o += 3;
    out[o] = '\0';
}

void cfg_path_named(char *out, const char *parent, size_t i, const char *name)
{
    if (!name || !*name) {
        cfg_path_index(out, parent, i);
        return;
    }
    /* Room left for the name: what the path holds, less the parent, the
     * index, the two quotes, the NUL and PATH_TAIL_ROOM for the keys that
     * follow it. A name with no room for even "..." is left to path_fmt's
     * cut. */
    int head = snprintf(NULL, 0, "%s[%zu] \"\"", parent, i);
    size_t used = head >= 0 ? (size_t)head + 1 + PATH_TAIL_ROOM : SIZE_MAX;
    size_t room = used < CFG_PATH_CAP ? CFG_PATH_CAP - used : 0;
    if (room > NAME_SEGMENT_CAP - 1)
        room = NAME_SEGMENT_CAP - 1;
    char seg[NAME_SEGMENT_CAP];
    if (room >= 3)
        name_segment(name, seg, room);
    else
        name_segment(name, seg, NAME_SEGMENT_CAP - 1);
    path_fmt(out, "%s[%zu] \"%s\"", parent, i, seg);
}

void cfg_path_entry(struct cfg_parser *p, char *out, const char *parent, size_t i,
                    const yaml_node_t *item)
{
    const yaml_node_t *nm = cfg_map_value(p, item, "name");
    cfg_path_named(out, parent, i, nm && nm->type == YAML_SCALAR_NODE ? cfg_scalar(nm) : NULL);
}

void cfg_walk_map(struct cfg_parser *p, const yaml_node_t *map, const char *path, cfg_map_fn fn,
                  void *arg)
{
    cfg_walk_map_keys(p, map, path, fn, arg, NULL);
}

bool cfg_cancelled(struct cfg_parser *p)
{
    if (p->cancelled)
        return true;
    if (!p->opts.cancel || !atomic_load(p->opts.cancel))
        return false;
    p->cancelled = true;
    p->n_errors++;
    buf_addf(p->errors, "%s: load cancelled: the agent is stopping\n", p->file);
    return true;
}

/* A mapping's keys, for finding the repeated ones. */
struct map_key {
    const char *s;
    size_t pos; /* index of the pair */
};

static int map_key_cmp(const void *a, const void *b)
{
    const struct map_key *x = a, *y = b;
    int c = strcmp(x->s, y->s);
    return c ? c : (x->pos > y->pos) - (x->pos < y->pos);
}

/* Pairs up to this many compare keys pairwise (no allocation); larger
 * mappings sort theirs. */
#define CFG_DUP_SCAN_PAIRS 16

/* Mark dup[i] for every pair whose scalar key an earlier pair already has.
 * O(n log n) whatever the keys are: a mapping of 1.55 million keys was
 * hours of pairwise strcmp, and a hash table can be flooded. */
static void find_duplicates(struct cfg_parser *p, const yaml_node_pair_t *pairs, size_t n,
                            bool *dup)
{
    struct map_key *k = xcalloc(n, sizeof(*k));
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *kn = yaml_document_get_node(p->doc, pairs[i].key);
        if (kn && kn->type == YAML_SCALAR_NODE)
            k[m++] = (struct map_key){cfg_scalar(kn), i};
    }
    qsort(k, m, sizeof(*k), map_key_cmp);
    /* Equal keys sort by position: every one after the first repeats it. */
    for (size_t i = 1; i < m; i++)
        if (strcmp(k[i].s, k[i - 1].s) == 0)
            dup[k[i].pos] = true;
    free(k);
}

void cfg_walk_map_keys(struct cfg_parser *p, const yaml_node_t *map, const char *path,
                       cfg_map_fn fn, void *arg, const struct cfg_keys *keys)
{
    yaml_node_pair_t *start = map->data.mapping.pairs.start;
    yaml_node_pair_t *top = map->data.mapping.pairs.top;
    size_t n = (size_t)(top - start);
    bool *dup = n > CFG_DUP_SCAN_PAIRS ? xcalloc(n, sizeof(bool)) : NULL;
    if (dup)
        find_duplicates(p, start, n, dup);
    for (yaml_node_pair_t *pair = start; pair < top; pair++) {
        if ((pair - start) % 4096 == 4095 && cfg_cancelled(p))
            break;
        yaml_node_t *k = yaml_document_get_node(p->doc, pair->key);
        yaml_node_t *v = yaml_document_get_node(p->doc, pair->value);
        if (!k || !v)
            continue;
        if (k->type != YAML_SCALAR_NODE) {
            cfg_err(p, k, path, "keys must be plain names, got %s", node_type_name(k));
            continue;
        }
        bool is_dup = dup && dup[pair - start];
        for (yaml_node_pair_t *q = start; !dup && q < pair && !is_dup; q++) {
            yaml_node_t *k2 = yaml_document_get_node(p->doc, q->key);
            is_dup =
                k2 && k2->type == YAML_SCALAR_NODE && strcmp(cfg_scalar(k2), cfg_scalar(k)) == 0;
        }
        char sub[CFG_PATH_CAP];
        cfg_path_key(sub, path, cfg_scalar(k));
        if (is_dup) {
            cfg_err(p, k, sub, "duplicate key");
            continue;
        }
        if (!fn(p, cfg_scalar(k), v, sub, arg))
            cfg_unknown_key(p, k, path, keys);
    }
    free(dup);
}

/* ---- numbers ---- */

bool cfg_parse_long(const char *s, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end)
        return false;
    *out = v;
    return true;
}

bool cfg_parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v))
        return false;
    *out = v;
    return true;
}

enum op_rc cfg_parse_percent(const char *s, double *ratio, double *budget)
{
    /* pct = m / 10^k, read digit by digit: no strtod, so no exponent, hex,
     * sign, space or locale can sneak in, and the value is exact. */
    uint64_t m = 0, scale = 100; /* the ratio's denominator: 100 * 10^k */
    int digits = 0;
    bool dot = false, frac_digit = false;
    const char *q = s;
    if (*q < '0' || *q > '9')
        return OP_ERR_INVALID;
    for (; *q; q++) {
        if (*q == '.' && !dot) {
            dot = true;
            continue;
        }
        if (*q < '0' || *q > '9')
            return OP_ERR_INVALID;
        /* 15 significant digits keep m and scale below 2^53, where every
         * integer is a double: each result is then one correctly rounded
         * division. Leading zeros are not significant. */
        if (m || *q != '0')
            digits++;
        if (digits > 15)
            return OP_ERR_INVALID;
        m = m * 10 + (uint64_t)(*q - '0');
        if (dot) {
            scale *= 10;
            frac_digit = true;
            if (scale > (1ULL << 53))
                return OP_ERR_INVALID;
        }
    }
    if (dot && !frac_digit)
        return OP_ERR_INVALID; /* "99." */
    if (m == 0 || m >= scale)
        return OP_ERR_INVALID; /* not above 0 and below 100 */
    *ratio = (double)m / (double)scale;
    *budget = (double)(scale - m) / (double)scale;
    return OP_OK;
}

/* ---- getters ---- */

bool cfg_get_str(struct cfg_parser *p, const yaml_node_t *n, const char *path, bool expand,
                 char **out)
{
    if (!cfg_want_scalar(p, n, path))
        return false;
    char *v = expand ? cfg_expand_refs(p, n, path, cfg_scalar(n)) : xstrdup(cfg_scalar(n));
    if (!v)
        return false;
    free(*out);
    *out = v;
    return true;
}

bool cfg_get_bool(struct cfg_parser *p, const yaml_node_t *n, const char *path, bool *out)
{
    if (!cfg_want_scalar(p, n, path))
        return false;
    const char *s = cfg_scalar(n);
    if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 || strcmp(s, "TRUE") == 0) {
        *out = true;
        return true;
    }
    if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 || strcmp(s, "FALSE") == 0) {
        *out = false;
        return true;
    }
    char q[CFG_MAX_QUOTED + 4];
    cfg_err(p, n, path, "expected true or false, got \"%s\"", cfg_quote(s, q));
    return false;
}

bool cfg_get_duration(struct cfg_parser *p, const yaml_node_t *n, const char *path, int64_t *out)
{
    if (!cfg_want_scalar(p, n, path))
        return false;
    int64_t v;
    char q[CFG_MAX_QUOTED + 4];
    if (cfg_parse_duration(cfg_scalar(n), &v) != OP_OK) {
        cfg_err(p, n, path, "\"%s\" is not a duration (use e.g. 250ms, 10s, 5m, 1h, 1d)",
                cfg_quote(cfg_scalar(n), q));
        return false;
    }
    if (v <= 0) {
        cfg_err(p, n, path, "duration must be greater than 0");
        return false;
    }
    *out = v;
    return true;
}

bool cfg_get_number(struct cfg_parser *p, const yaml_node_t *n, const char *path, double *out)
{
    if (!cfg_want_scalar(p, n, path))
        return false;
    char q[CFG_MAX_QUOTED + 4];
    if (!cfg_parse_double(cfg_scalar(n), out)) {
        cfg_err(p, n, path, "\"%s\" is not a number", cfg_quote(cfg_scalar(n), q));
        return false;
    }
    return true;
}

bool cfg_get_count(struct cfg_parser *p, const yaml_node_t *n, const char *path, int64_t min,
                   int64_t max, int64_t *out)
{
    if (!cfg_want_scalar(p, n, path))
        return false;
    long v;
    char q[CFG_MAX_QUOTED + 4];
    if (!cfg_parse_long(cfg_scalar(n), &v) || v < min || v > max) {
        if (max == INT64_MAX)
            cfg_err(p, n, path, "\"%s\" is not a whole number >= %lld", cfg_quote(cfg_scalar(n), q),
                    (long long)min);
        else
            cfg_err(p, n, path, "\"%s\" is not a whole number from %lld to %lld",
                    cfg_quote(cfg_scalar(n), q), (long long)min, (long long)max);
        return false;
    }
    *out = v;
    return true;
}

bool cfg_get_size(struct cfg_parser *p, const yaml_node_t *n, const char *path, uint64_t *out)
{
    static const struct {
        const char *sfx;
        uint64_t mul;
    } sfx[] = {{"KiB", 1024},      {"MiB", 1048576}, {"GiB", 1073741824},
               {"kB", 1000},       {"KB", 1000},     {"MB", 1000000},
               {"GB", 1000000000}, {"B", 1},         {"", 1}};
    if (!cfg_want_scalar(p, n, path))
        return false;
    const char *s = cfg_scalar(n);
    char q[CFG_MAX_QUOTED + 4];
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *s < '0' || *s > '9') {
        cfg_err(p, n, path, "\"%s\" is not a size in bytes (e.g. 1048576 or 1MiB)",
                cfg_quote(s, q));
        return false;
    }
    for (size_t i = 0; i < ARRAY_SIZE(sfx); i++) {
        if (strcmp(end, sfx[i].sfx) == 0) {
            if (v > CFG_MAX_BODY_CAP / sfx[i].mul || v * sfx[i].mul == 0) {
                cfg_err(p, n, path, "size must be between 1 byte and 1GiB");
                return false;
            }
            *out = v * sfx[i].mul;
            return true;
        }
    }
    cfg_err(p, n, path, "\"%s\" is not a size in bytes (e.g. 1048576 or 1MiB)", cfg_quote(s, q));
    return false;
}

bool cfg_get_buckets(struct cfg_parser *p, const yaml_node_t *n, const char *path, double **out,
                     size_t *n_out)
{
    if (!cfg_want_sequence(p, n, path))
        return false;
    size_t cnt = cfg_seq_len(n);
    if (cnt == 0 || cnt > CFG_MAX_BUCKETS) {
        cfg_err(p, n, path, "needs 1 to %d bucket bounds", CFG_MAX_BUCKETS);
        return false;
    }
    double *b = xcalloc(cnt, sizeof(*b));
    for (size_t i = 0; i < cnt; i++) {
        yaml_node_t *it = cfg_seq_item(p, n, i);
        char sub[CFG_PATH_CAP], q[CFG_MAX_QUOTED + 4];
        cfg_path_index(sub, path, i);
        if (!it || !cfg_want_scalar(p, it, sub) || !cfg_parse_double(cfg_scalar(it), &b[i])) {
            if (it && it->type == YAML_SCALAR_NODE)
                cfg_err(p, it, sub, "\"%s\" is not a finite number", cfg_quote(cfg_scalar(it), q));
            free(b);
            return false;
        }
        if (i > 0 && b[i] <= b[i - 1]) {
            cfg_err(p, it, sub, "bucket bounds must be strictly increasing");
            free(b);
            return false;
        }
    }
    free(*out);
    *out = b;
    *n_out = cnt;
    return true;
}

struct string_map {
    bool expand;
    const char *(*name_ok)(const char *key);
    const char *(*value_ok)(const char *value);
    struct header_kv **kv;
    size_t *n_kv, max;
    const yaml_node_t *node;
};

static bool string_map_key(struct cfg_parser *p, const char *key, yaml_node_t *v, const char *path,
                           void *arg)
{
    struct string_map *m = arg;
    const char *why = m->name_ok ? m->name_ok(key) : NULL;
    char q[CFG_MAX_QUOTED + 4];
    if (why) {
        cfg_err(p, v, path, "\"%s\" %s", cfg_quote(key, q), why);
        return true;
    }
    if (*m->n_kv == m->max) {
        cfg_err(p, v, path, "more than %zu entries", m->max);
        return true;
    }
    char *val = NULL;
    if (!cfg_get_str(p, v, path, m->expand, &val))
        return true;
    why = m->value_ok ? m->value_ok(val) : NULL;
    if (why) {
        cfg_err(p, v, path, "%s", why);
        free(val);
        return true;
    }
    *m->kv = xrealloc(*m->kv, (*m->n_kv + 1) * sizeof(**m->kv));
    (*m->kv)[*m->n_kv].name = xstrdup(key);
    (*m->kv)[*m->n_kv].value = val;
    (*m->n_kv)++;
    return true;
}

void cfg_get_string_map(struct cfg_parser *p, const yaml_node_t *n, const char *path, bool expand,
                        const char *(*name_ok)(const char *key),
                        const char *(*value_ok)(const char *value), struct header_kv **kv,
                        size_t *n_kv, size_t max)
{
    if (!cfg_want_mapping(p, n, path))
        return;
    struct string_map m = {expand, name_ok, value_ok, kv, n_kv, max, n};
    cfg_walk_map(p, n, path, string_map_key, &m);
}

/* ---- named lists ---- */

size_t cfg_named_list(struct cfg_parser *p, const yaml_node_t *n, const struct cfg_list *l,
                      void *arg, struct names **map)
{
    *map = names_new(l->name, arg);
    if (!cfg_want_sequence(p, n, l->section))
        return 0;
    size_t cnt = cfg_seq_len(n);
    if (cnt > l->max) {
        cfg_err(p, n, l->section, "more than %zu entries", l->max);
        return 0;
    }
    l->alloc(cnt, arg);
    for (size_t i = 0; i < cnt; i++) {
        if (cfg_cancelled(p))
            return cnt;
        /* The name is read from the node before the entry is parsed, so
         * every message about the entry, nested ones too, carries it. */
        char path[CFG_PATH_CAP];
        yaml_node_t *it = cfg_seq_item(p, n, i);
        cfg_path_entry(p, path, l->section, i, it);
        if (it && cfg_want_mapping(p, it, path))
            l->parse(p, it, path, i, arg);
    }
    for (size_t i = 0; i < cnt; i++) {
        const char *name = l->name(arg, i);
        if (!name)
            continue;
        long first = names_add(*map, i);
        if (first < 0)
            continue;
        /* The path names the entry; the message says which one had the
         * name first, the way its own messages call it. */
        char path[CFG_PATH_CAP];
        yaml_node_t *it = cfg_seq_item(p, n, i);
        cfg_path_entry(p, path, l->section, i, it);
        cfg_err(p, it, path, "duplicate %s name (first used by %s[%ld] at line %d)", l->what,
                l->section, first, l->line(arg, (size_t)first));
    }
    return cnt;
}

bool cfg_name_ok(const char *name)
{
    size_t len = strlen(name);
    bool ok = len > 0 && len <= CFG_MAX_NAME_BYTES;
    for (const char *s = name; *s && ok; s++)
        ok = (unsigned char)*s >= 0x20 && *s != 0x7f;
    return ok;
}

bool cfg_check_name(struct cfg_parser *p, const yaml_node_t *n, const char *path, const char *name)
{
    if (!name) {
        cfg_err(p, n, path, "missing key \"name\"");
        return false;
    }
    bool ok = cfg_name_ok(name);
    if (!ok)
        cfg_err(p, n, path, "name must be 1 to %d bytes without control characters",
                CFG_MAX_NAME_BYTES);
    return ok;
}
