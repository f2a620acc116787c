/*
 * cfg_yaml.h - the toolkit every configuration section and every check
 * type's schema parses with: libyaml node access, errors that name file,
 * line, column and key, typed getters, and field tables.
 *
 * Internal to the loader and the check types; users of a loaded config
 * only need config.h.
 *
 * Field tables (the idea of redis' standardConfig and haproxy's keyword
 * lists): a section lists its scalar keys as rows - key, kind, where the
 * value goes, its bounds and its default - and cfg_walk_fields does the
 * rest: defaults in one place, unknown and duplicate keys reported once,
 * every value checked the same way. Keys whose value is a nested map or a
 * list keep a callback (CFG_CUSTOM).
 *
 * Errors are collected, not fatal: a user fixing a config wants the whole
 * list (up to CFG_MAX_ERRORS). Messages never print a value that may be a
 * secret; user text that is quoted in a message is shortened to
 * CFG_MAX_QUOTED bytes with "..." so one huge scalar cannot crowd out the
 * rest of the list.
 */
#ifndef OUTPOST_CFG_YAML_H
#define OUTPOST_CFG_YAML_H

#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

/* A path names one value: "checks[3] \"orders-api\".steps[1] \"login\".url".
 * Two named levels with names at CFG_MAX_QUOTED fit with room to spare. */
#define CFG_PATH_CAP 512
#define CFG_MAX_QUOTED 64
#define CFG_MAX_ERRORS_BYTES (1u << 20)

/* One load: the document, the error list and the defaults of `global:`. */
struct cfg_parser {
    const char *file;
    yaml_document_t *doc;
    struct buf *errors;
    int n_errors;
    struct cfg_load_options opts;
    /* Defaults from `global:` for every check. */
    int64_t interval_ms, timeout_ms;
    bool timeout_set;
    /* The scalars those came from (NULL: the default), so a message about
     * a check that inherits one can echo it as written. */
    const yaml_node_t *interval_node, *timeout_node, *retry_delay_node;
    double *buckets;
    size_t n_buckets;
    struct check_policy policy;
    struct check_metrics metrics;
    struct browser_settings browser;
    /* The browser executable global.browser names or the default search
     * finds, looked for once per load by the first browser check (the
     * search is the engine's, a layer above this one): browser_looked says
     * it was, browser_path (owned; NULL: none found) what it found. */
    bool browser_looked;
    char *browser_path;
    bool cancelled; /* opts.cancel was seen set: the walk stops */
    /* Set by a flow while its step's url, headers or body expands: a
     * ${capture:NAME} reference is kept as a marker (CFG_CAPTURE_MARK) for
     * the run to substitute, and this says which capture NAME is (0 to
     * CFG_MAX_CAPTURES - 1), or -1 after reporting why it cannot be used
     * there. NULL everywhere else: such a reference is an error. */
    int (*capture_ref)(struct cfg_parser *p, const yaml_node_t *n, const char *path,
                       const char *name, void *arg);
    void *capture_arg;
};

/*
 * A value expanded with capture_ref set is a template: CFG_CAPTURE_MARK
 * followed by a byte k + CFG_CAPTURE_BASE stands for capture k, and the
 * mark twice for one literal mark byte (a value may hold any byte). A
 * template without the mark is the value itself.
 */
#define CFG_CAPTURE_MARK '\x01'
#define CFG_CAPTURE_BASE 2
#define CFG_MAX_CAPTURES 64
/* A template with each capture as the text "capture" and each doubled
 * mark as one: a sample of what the run sends, for rules such as "a valid
 * URL". Caller frees. */
char *cfg_capture_sample(const char *tmpl);

/* True once the load is cancelled (opts.cancel set): loops over entries
 * or keys stop. The first call that sees it records one error line. */
bool cfg_cancelled(struct cfg_parser *p);

/* Report a problem at node n (NULL: the file itself) under key path. */
void cfg_err(struct cfg_parser *p, const yaml_node_t *n, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* User text for a message: at most CFG_MAX_QUOTED bytes, then "...".
 * Returns out (a caller array of CFG_MAX_QUOTED + 4 bytes). */
const char *cfg_quote(const char *s, char *out);
/* A duration for a message, in out (a caller array of CFG_MAX_QUOTED + 4
 * bytes, which also holds any cfg_format_duration text): n's scalar as the
 * user wrote it when n is a duration scalar worth exactly ms, else ms in
 * Prometheus' form (a default or a value worked out from others). n may be
 * NULL. Returns out. */
const char *cfg_duration_text(const yaml_node_t *n, int64_t ms, char *out);
/* The same for the timeout of the check whose entry is n: as written on
 * the entry or in `global:`, else in Prometheus' form. */
const char *cfg_timeout_text(struct cfg_parser *p, const yaml_node_t *n, int64_t ms, char *out);

/* ---- nodes ---- */

const char *cfg_scalar(const yaml_node_t *n);
bool cfg_is_plain(const yaml_node_t *n);
/* A plain "null", "~" or empty scalar: the key counts as absent. */
bool cfg_is_null(const yaml_node_t *n);
bool cfg_want_scalar(struct cfg_parser *p, const yaml_node_t *n, const char *path);
bool cfg_want_mapping(struct cfg_parser *p, const yaml_node_t *n, const char *path);
bool cfg_want_sequence(struct cfg_parser *p, const yaml_node_t *n, const char *path);
size_t cfg_seq_len(const yaml_node_t *n);
yaml_node_t *cfg_seq_item(struct cfg_parser *p, const yaml_node_t *n, size_t i);
/* The value of key in mapping map (the first, if written twice), or NULL
 * (also when map is not a mapping). Borrowed from the document. */
yaml_node_t *cfg_map_value(struct cfg_parser *p, const yaml_node_t *map, const char *key);
/* "parent.key" and "parent[i]" into out (CFG_PATH_CAP bytes). Paths only
 * label messages: a pathological nesting shortens a label (cut at a UTF-8
 * character and marked with "..."), never the config. */
void cfg_path_key(char *out, const char *parent, const char *key);
void cfg_path_index(char *out, const char *parent, size_t i);
/* Entry i of a list of named entries: "parent[i] \"NAME\"", NAME being the
 * item's `name` as written (shortened as cfg_quote does, '"', '\\' and
 * control bytes escaped), or "parent[i]" when the item has no usable name
 * (not a mapping, no `name`, not a scalar, empty). Read from the node, so
 * the label is the same before, during and after the entry's parse. */
void cfg_path_entry(struct cfg_parser *p, char *out, const char *parent, size_t i,
                    const yaml_node_t *item);
/* The same from a name already in hand (NULL or empty: no name). */
void cfg_path_named(char *out, const char *parent, size_t i, const char *name);

/* The keys a mapping knows, for "did you mean" hints: a field table's rows,
 * a NULL-terminated list, and more keys chained on (each may be NULL). */
struct cfg_field;
struct cfg_keys {
    const struct cfg_field *fields;
    const char *const *names;
    const struct cfg_keys *more;
};

/* Walk a mapping: keys must be scalars and unique; fn gets each pair and
 * returns false for a key it does not know (reported as unknown, with the
 * nearest of keys as a hint when one is close; keys may be NULL). */
typedef bool (*cfg_map_fn)(struct cfg_parser *p, const char *key, yaml_node_t *val,
                           const char *path, void *arg);
void cfg_walk_map_keys(struct cfg_parser *p, const yaml_node_t *map, const char *path,
                       cfg_map_fn fn, void *arg, const struct cfg_keys *keys);
/* The same without hints, for maps whose keys are free (headers, labels). */
void cfg_walk_map(struct cfg_parser *p, const yaml_node_t *map, const char *path, cfg_map_fn fn,
                  void *arg);

/* ---- hints (cfg_hint.c) ---- */

/* Edits between two keys (optimal string alignment: insert, delete,
 * substitute, swap neighbours; case ignored); SIZE_MAX for keys too long
 * to be worth it. */
size_t cfg_key_distance(const char *a, const char *b);
/* The known key nearest key when it is a likely slip (at most 2 edits and
 * fewer than half key's length), else NULL. Borrowed from keys. */
const char *cfg_suggest_key(const char *key, const struct cfg_keys *keys);
/* Report the unknown key node k under path: `unknown key "K"`, plus
 * ` (did you mean "N"?)` when cfg_suggest_key finds one. */
void cfg_unknown_key(struct cfg_parser *p, const yaml_node_t *k, const char *path,
                     const struct cfg_keys *keys);
/* For a percentage s that cfg_parse_percent accepted: when it is below 1
 * (a ratio written where a percentage belongs, like 0.999), s times 100 as
 * a plain decimal ("99.9") into out and true; else false. A cap of 32 is
 * enough for any such s. */
bool cfg_percent_hint(const char *s, char *out, size_t cap);

/* ---- typed getters: false (and an error) when the value is unusable ---- */

/* A string; with expand, ${env:NAME} and ${file:PATH} are resolved (the
 * result may be a secret). Replaces *out (caller frees). */
bool cfg_get_str(struct cfg_parser *p, const yaml_node_t *n, const char *path, bool expand,
                 char **out);
bool cfg_get_bool(struct cfg_parser *p, const yaml_node_t *n, const char *path, bool *out);
/* A duration above 0 (cfg_parse_duration). */
bool cfg_get_duration(struct cfg_parser *p, const yaml_node_t *n, const char *path, int64_t *out);
/* A finite number. */
bool cfg_get_number(struct cfg_parser *p, const yaml_node_t *n, const char *path, double *out);
/* A whole number in [min, max]. */
bool cfg_get_count(struct cfg_parser *p, const yaml_node_t *n, const char *path, int64_t min,
                   int64_t max, int64_t *out);
/* Bytes, as an integer or with a KiB/MiB/GiB (kB/MB/GB) suffix, 1 B to 1 GiB. */
bool cfg_get_size(struct cfg_parser *p, const yaml_node_t *n, const char *path, uint64_t *out);
/* Histogram bucket bounds: 1 to CFG_MAX_BUCKETS finite, strictly increasing.
 * Replaces *out (caller frees). */
bool cfg_get_buckets(struct cfg_parser *p, const yaml_node_t *n, const char *path, double **out,
                     size_t *n_out);
/* A map of string values into a header_kv array (appended, at most max).
 * name_ok and value_ok (each may be NULL) vet a key or a value and return
 * why it is refused, or NULL; a refused value is not echoed (it may be a
 * secret). */
void cfg_get_string_map(struct cfg_parser *p, const yaml_node_t *n, const char *path, bool expand,
                        const char *(*name_ok)(const char *key),
                        const char *(*value_ok)(const char *value), struct header_kv **kv,
                        size_t *n_kv, size_t max);

/* Open a file that must be a regular file (or a link to one, as Kubernetes
 * mounts secrets) without blocking on a FIFO or device. NULL with *why
 * (static text) on failure. */
FILE *cfg_open_regular(const char *path, const char **why);
/* Resolve ${env:NAME} and ${file:PATH} in s ("$${" is a literal "${").
 * Caller frees; NULL after reporting an error. The result may be a secret:
 * messages name the reference, never the value.
 *
 * With p->opts.skip_secrets a reference is parsed exactly as always (an
 * unterminated "${", an unknown kind and an empty name stay errors) but
 * not resolved: it becomes CFG_SECRET_PLACEHOLDER, so the value is checked
 * by its own rules with that text in place of the secret. */
char *cfg_expand_refs(struct cfg_parser *p, const yaml_node_t *n, const char *path, const char *s);
/* The same for a URL: when skipping secrets, a reference at the very start
 * stands for a whole base URL (scheme and host) and becomes
 * CFG_URL_PLACEHOLDER; any other reference is CFG_SECRET_PLACEHOLDER. */
char *cfg_expand_url(struct cfg_parser *p, const yaml_node_t *n, const char *path, const char *s);
#define CFG_SECRET_PLACEHOLDER "secret"
#define CFG_URL_PLACEHOLDER "https://secret"
/* A scalar URL with its references resolved (cfg_expand_url). Replaces *out
 * (caller frees). */
bool cfg_get_url(struct cfg_parser *p, const yaml_node_t *n, const char *path, char **out);

/* ---- field tables ---- */

enum cfg_kind {
    CFG_STR,      /* char *, taken as written */
    CFG_SECRET,   /* char *, ${env:}/${file:} resolved */
    CFG_BOOL,     /* bool */
    CFG_DURATION, /* int64_t ms, >= min (when min > 0), <= max (when max > 0) */
    CFG_COUNT,    /* int64_t, whole number in [min, max] */
    CFG_UINT,     /* unsigned, whole number in [min, max] (max <= UINT_MAX) */
    CFG_SIZE,     /* uint64_t bytes */
    CFG_RATIO,    /* double in lo..hi, each end open or closed */
    CFG_ENUM,     /* int: index into names */
    CFG_CUSTOM,   /* parse(p, node, path, obj) does it all */
};

struct cfg_field {
    const char *key;
    enum cfg_kind kind;
    size_t offset; /* of the value inside the object */
    int64_t min, max;
    double lo, hi;
    bool lo_open, hi_open;
    const char *const *names; /* CFG_ENUM, NULL-terminated */
    const char *unit;         /* what a CFG_DURATION minimum is about, for messages */
    bool (*parse)(struct cfg_parser *p, yaml_node_t *n, const char *path, void *obj);
    /* Defaults, applied by cfg_fields_default before the walk. */
    int64_t def_i;     /* DURATION, COUNT, UINT, ENUM, BOOL (0/1), SIZE */
    double def_d;      /* RATIO */
    const char *def_s; /* STR, SECRET */
};

/* Bit i of a cfg_walk_fields result: row i was present (even if its value
 * was refused). Tables hold at most 64 rows. */
typedef uint64_t cfg_seen;
#define CFG_SEEN(i) ((cfg_seen)1 << (i))

/* Set every row's default in obj. */
void cfg_fields_default(const struct cfg_field *tbl, void *obj);
/* Apply a mapping to obj through the table; keys not in it go to extra
 * (may be NULL: then they are unknown). Returns the rows seen; nodes (may
 * be NULL, one slot per row) gets each present row's value node, so rules
 * checked after the walk can point at the value. */
cfg_seen cfg_walk_fields(struct cfg_parser *p, const yaml_node_t *map, const char *path,
                         const struct cfg_field *tbl, void *obj, cfg_map_fn extra, void *arg,
                         const yaml_node_t **nodes);
/* The same, with the keys extra knows as hints for an unknown key
 * (extra_keys may be NULL; the table's keys are always hints). */
cfg_seen cfg_walk_fields_ext(struct cfg_parser *p, const yaml_node_t *map, const char *path,
                             const struct cfg_field *tbl, void *obj, cfg_map_fn extra, void *arg,
                             const struct cfg_keys *extra_keys, const yaml_node_t **nodes);
/* Apply one key through the table (for a schema fed key by key); false
 * when the table has no such key. Marks the row in *seen. */
bool cfg_field_apply(struct cfg_parser *p, const struct cfg_field *tbl, const char *key,
                     yaml_node_t *v, const char *path, void *obj, cfg_seen *seen);
/* Index of key's row (a programming error when absent). */
size_t cfg_field_index(const struct cfg_field *tbl, const char *key);
/* Free the strings a table filled in obj (STR and SECRET rows). */
void cfg_fields_free(const struct cfg_field *tbl, void *obj);

/* ---- lists of named entries (checks, slos, canaries) ---- */

struct names;

/* How one section's list is read. */
struct cfg_list {
    const char *section; /* "checks", for paths */
    const char *what;    /* "check", for messages */
    size_t max;          /* entries allowed; more is an error */
    /* Make room for n entries (called once, before any parse). */
    void (*alloc)(size_t n, void *arg);
    /* Fill entry i from item (a mapping). */
    void (*parse)(struct cfg_parser *p, yaml_node_t *item, const char *path, size_t i, void *arg);
    /* Entry i's name, NULL when it has none (already reported). */
    const char *(*name)(const void *arg, size_t i);
    int (*line)(const void *arg, size_t i);
};

/* Read `section:` as a list of mappings: cap, slots, one parse per item,
 * then duplicate names reported against the first use. *map (caller frees)
 * gets every named entry, for lookups. Returns the entry count. */
size_t cfg_named_list(struct cfg_parser *p, const yaml_node_t *n, const struct cfg_list *l,
                      void *arg, struct names **map);
/* The common name rule: 1 to CFG_MAX_NAME_BYTES bytes, no control
 * characters. Reports "missing key" or the rule itself. */
bool cfg_check_name(struct cfg_parser *p, const yaml_node_t *n, const char *path, const char *name);

/* ---- URLs ---- */

/* The `target` form of a URL as written: without userinfo, query and
 * fragment (caller frees). Working on the written text means a ${env:...}
 * in the path shows as the reference, never as the secret. */
char *cfg_url_target(const char *raw);
/* The longest URL a message shows (cfg_http_url_explain). */
#define CFG_URL_ECHO_MAX 200
/* True for an absolute URL "http(s)://host..." that libcurl accepts;
 * *why (static) names the rule it breaks otherwise, never the URL: for
 * URLs that may hold credentials or captured values. */
bool cfg_http_url_ok(const char *u, const char **why);
/* The same rule; when u breaks it, false and what is wrong with its fix
 * appended to why. u is shown (and its fix written out) only when echo is
 * true and u has no userinfo, query or fragment, no control character and
 * at most CFG_URL_ECHO_MAX bytes. */
bool cfg_http_url_explain(const char *u, bool echo, struct buf *why);
/* cfg_http_url_explain on url, the value of the scalar v (borrowed), and
 * the error reported at path: url is shown only when v holds it as
 * written (no reference, no capture in it). */
bool cfg_check_http_url(struct cfg_parser *p, const yaml_node_t *v, const char *path,
                        const char *url);

/* ---- numbers ---- */

/* A percentage written as a plain decimal ("99.9", "95", "99.95"): digits,
 * an optional '.' and digits, at most 15 significant digits, no sign,
 * exponent or hex. ratio = pct / 100 and budget = 1 - ratio are each the
 * double nearest the exact decimal value, so "99.9" gives a budget of
 * exactly the double nearest 0.001. */
enum op_rc cfg_parse_percent(const char *s, double *ratio, double *budget) WUR;
/* Strict parsers: the whole string, end and range checked. */
bool cfg_parse_long(const char *s, long *out);
bool cfg_parse_double(const char *s, double *out);

#endif
