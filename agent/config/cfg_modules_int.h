/*
 * cfg_modules_int.h - the pieces of the modules loader (cfg_modules.c)
 * shared with the translation of blackbox_exporter's prober settings into
 * outpost check keys (cfg_modules_tr.c). Internal to agent/config/.
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

/* A translator and the mapping a walk writes into. */
struct tls_walk {
    struct bb_tr *t;
    int map;
};

/* A scalar with a tag (BB_SECRET_TAG, or NULL) and style. */
int bbt_scalar_tag(struct bb_tr *t, const char *s, const char *tag, yaml_scalar_style_t style,
                   const yaml_node_t *at);

/* ---- shared rules of the translations ---- */

/* "not supported by outpost" at v. */
void bb_unsupported(struct cfg_parser *p, const yaml_node_t *v, const char *path);
/* A boolean outpost supports only at blackbox's default def. */
void bb_only_default(struct cfg_parser *p, const yaml_node_t *v, const char *path, bool def);
/* A list outpost cannot honour: fine when empty. */
void bb_only_empty(struct cfg_parser *p, const yaml_node_t *v, const char *path);
/* preferred_ip_protocol and ip_protocol_fallback into ip; false for
 * other keys. */
bool bb_ip_key(struct cfg_parser *p, const char *key, yaml_node_t *v, const char *path,
               struct bb_ip *ip);
/* tls_config as outpost's tls: mapping; 0 when v is not a mapping. */
int bb_tls_map(struct bb_tr *t, const yaml_node_t *v, const char *path);
/* A list of scalars v copied as key of map (nothing when empty); go_re:
 * each is a Go regular expression, copied with bbt_go_regex. */
void bb_regex_list(struct bb_tr *t, int map, const char *key, const yaml_node_t *v,
                   const char *path, bool go_re);
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
