/*
 * cfg_modules_int.h - the pieces of the modules loader (cfg_modules.c)
 * shared with the translation of blackbox_exporter's prober settings into
 * outpost check keys (cfg_modules_tr.c, cfg_modules_http.c). Internal to
 * agent/config/.
 */
#ifndef OUTPOST_CFG_MODULES_INT_H
#define OUTPOST_CFG_MODULES_INT_H

#include "cfg_yaml.h"
#include "modules.h"

/* The tag a translated scalar carries when its value may be a secret:
 * bb_module_describe shows it as <secret>. The loader ignores tags. */
#define BB_SECRET_TAG "!outpost-secret"

/*
 * One module being translated: keys are read from the blackbox document
 * of p (errors name its file:line:col) and written as an outpost check
 * entry into out, each node carrying the mark of the source node it came
 * from, so the check schema's own errors point into the blackbox file.
 */
struct bb_tr {
    struct cfg_parser *p;
    yaml_document_t *out;
    int entry;  /* the check entry (a mapping) in out */
    bool nomem; /* libyaml could not add a node: the module is refused */
};

/* New nodes of out with at's marks (at may be NULL); 0 when out of memory. */
int bbt_scalar(struct bb_tr *t, const char *s, bool plain, const yaml_node_t *at);
int bbt_map(struct bb_tr *t, const yaml_node_t *at);
int bbt_seq(struct bb_tr *t, const yaml_node_t *at);
/* map[key] = val (the key node gets val's marks). */
void bbt_put(struct bb_tr *t, int map, const char *key, int val);
void bbt_append(struct bb_tr *t, int seq, int item);
/* The mapping under key in map, made (with at's marks) when absent. */
int bbt_sub(struct bb_tr *t, int map, const char *key, const yaml_node_t *at);
/* A deep copy of src (a node of p's document). */
int bbt_copy(struct bb_tr *t, const yaml_node_t *src);
/* A copy of the scalar src with every "${" written "$${": outpost expands
 * ${env:} and ${file:} in these keys, blackbox_exporter does not, so the
 * value stays what it says. secret: tagged BB_SECRET_TAG. */
int bbt_literal(struct bb_tr *t, const yaml_node_t *src, bool secret);

/* The address family keys every prober has. */
struct bb_ip {
    const yaml_node_t *pref, *fallback;
    bool has_fallback, fallback_v;
};

/* A scalar with a tag (BB_SECRET_TAG, or NULL) and style. */
int bbt_scalar_tag(struct bb_tr *t, const char *s, const char *tag, yaml_scalar_style_t style,
                   const yaml_node_t *at);

/* ---- the key tables of the translations ---- */

/* What a row does with its blackbox key's value v. */
enum bb_act {
    BB_COPY,        /* a scalar, copied as `to` */
    BB_LITERAL,     /* a scalar as bbt_literal (BB_SECRET: tagged secret) */
    BB_GO_RE,       /* a scalar Go regular expression, as bbt_go_regex */
    BB_FILE,        /* a file name, as the secret "${file:NAME}" */
    BB_LIST,        /* a list of scalars, copied (none when empty) */
    BB_GO_LIST,     /* a list of Go regular expressions (none when empty) */
    BB_UNSUPPORTED, /* "not supported by outpost" */
    BB_ONLY,        /* a boolean outpost supports only at blackbox's default `on` */
    BB_BOOL,        /* a boolean whose either value is what outpost does */
    BB_KEEP,        /* a scalar kept in the walk's node[] for the prober to read after */
    BB_FN,          /* fn does it all */
};

/* Row flags. */
#define BB_NULL_OK 1u  /* a null value does nothing */
#define BB_NONEMPTY 2u /* "" does nothing (COPY, LITERAL) */
#define BB_SECRET 4u   /* LITERAL: the value may be a credential */
#define BB_ANY 8u      /* COPY, KEEP: any node, not only a scalar */

struct bb_walk;
struct bb_row {
    const char *key; /* blackbox's */
    enum bb_act act;
    const char *to;    /* the outpost key written (NULL: the same as key) */
    const char *under; /* ...in this mapping of the walk's map, made when absent (NULL: the map) */
    unsigned flags;
    bool on; /* BB_ONLY: the value allowed; BB_FN: the callback's own switch */
    void (*fn)(struct bb_walk *w, const struct bb_row *r, yaml_node_t *v, const char *path);
};

/* Rows a table may hold (the bits of cfg_seen). */
#define BB_MAX_ROWS 64

/* One walk of a blackbox mapping through a table (rows end with a NULL key). */
struct bb_walk {
    struct bb_tr *t;
    int map; /* where the rows write */
    const struct bb_row *rows;
    const void *arg; /* for the rows' callbacks */
    struct bb_ip ip; /* BB_IP_ROWS */
    /* Out: the rows present, and the value of each BB_KEEP row present
     * (or of a BB_FN row that keeps it, as bb_keep). */
    cfg_seen seen;
    const yaml_node_t *node[BB_MAX_ROWS];
};

/* Apply w->rows to the mapping v (path names it): each key through its
 * row, an unknown key reported with the nearest of the table's keys. */
void bb_walk(struct bb_walk *w, const yaml_node_t *v, const char *path);
/* The value of key's BB_KEEP row after a walk, or NULL. */
const yaml_node_t *bb_kept(const struct bb_walk *w, const char *key);
/* For a BB_FN row: keep v as a BB_KEEP row would. */
void bb_keep(struct bb_walk *w, const struct bb_row *r, const yaml_node_t *v);

/* preferred_ip_protocol and ip_protocol_fallback into w->ip. */
void bb_ip_pref(struct bb_walk *w, const struct bb_row *r, yaml_node_t *v, const char *path);
void bb_ip_fallback(struct bb_walk *w, const struct bb_row *r, yaml_node_t *v, const char *path);
/* clang-format off */
#define BB_IP_ROWS                                                                        \
    {.key = "preferred_ip_protocol", .act = BB_FN, .fn = bb_ip_pref},                     \
    {.key = "ip_protocol_fallback", .act = BB_FN, .fn = bb_ip_fallback}
/* clang-format on */

/* ---- shared rules of the translations ---- */

/* tls_config as outpost's tls: mapping; 0 when v is not a mapping. */
int bb_tls_map(struct bb_tr *t, const yaml_node_t *v, const char *path);
/* A copy of the scalar src, a Go (RE2) regular expression, as the PCRE2
 * pattern that means the same: a quantified anchor (^+) becomes a group. */
int bbt_go_regex(struct bb_tr *t, const yaml_node_t *src);

/* Translate the prober's section (sec: its mapping, NULL when absent; at:
 * the module, for errors about missing keys) into t->entry. path names
 * the section ("modules.NAME.http"). */
void bb_translate_http(struct bb_tr *t, const yaml_node_t *sec, const yaml_node_t *at,
                       const char *path);
void bb_translate_tcp(struct bb_tr *t, const yaml_node_t *sec, const yaml_node_t *at,
                      const char *path);
void bb_translate_dns(struct bb_tr *t, const yaml_node_t *sec, const yaml_node_t *at,
                      const char *path);
void bb_translate_icmp(struct bb_tr *t, const yaml_node_t *sec, const yaml_node_t *at,
                       const char *path);
void bb_translate_grpc(struct bb_tr *t, const yaml_node_t *sec, const yaml_node_t *at,
                       const char *path);

/* Sections of a loaded config (cfg.c calls these). */
void cfg_parse_modules(struct cfg_parser *p, const yaml_node_t *n, struct cfg *c);
/* Read path (a blackbox_exporter configuration: top-level `modules:`) and
 * add its modules to c; problems are reported through p, naming path. */
void cfg_load_modules_file(struct cfg_parser *p, const char *path, struct cfg *c);
void cfg_modules_free(struct cfg *c);

#endif
