/*
 * cfg_modules_tr.c - blackbox_exporter prober settings (its 0.23 names and
 * defaults) as outpost check keys.
 *
 * Every blackbox key is either translated, accepted because its value is
 * what outpost does anyway (fail_if_ssl: false, enable_http2: true), or
 * refused with "not supported by outpost": a module never probes
 * differently from what it says without the user hearing about it. Keys
 * blackbox does not know either are unknown, with the nearest as a hint.
 */
#include "cfg_modules_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- building the translated document ---- */

static void set_marks(struct bb_tr *t, int id, const yaml_node_t *at)
{
    yaml_node_t *n = id ? yaml_document_get_node(t->out, id) : NULL;
    if (!id)
        t->nomem = true;
    if (n && at) {
        n->start_mark = at->start_mark;
        n->end_mark = at->end_mark;
    }
}

int bbt_scalar_tag(struct bb_tr *t, const char *s, const char *tag, yaml_scalar_style_t style,
                   const yaml_node_t *at)
{
    int id = yaml_document_add_scalar(t->out, (yaml_char_t *)tag, (yaml_char_t *)s, (int)strlen(s),
                                      style);
    set_marks(t, id, at);
    return id;
}

int bbt_scalar(struct bb_tr *t, const char *s, bool plain, const yaml_node_t *at)
{
    return bbt_scalar_tag(t, s, NULL,
                          plain ? YAML_PLAIN_SCALAR_STYLE : YAML_DOUBLE_QUOTED_SCALAR_STYLE, at);
}

int bbt_map(struct bb_tr *t, const yaml_node_t *at)
{
    int id = yaml_document_add_mapping(t->out, NULL, YAML_BLOCK_MAPPING_STYLE);
    set_marks(t, id, at);
    return id;
}

int bbt_seq(struct bb_tr *t, const yaml_node_t *at)
{
    int id = yaml_document_add_sequence(t->out, NULL, YAML_BLOCK_SEQUENCE_STYLE);
    set_marks(t, id, at);
    return id;
}

void bbt_put(struct bb_tr *t, int map, const char *key, int val)
{
    if (!map || !val) {
        t->nomem = true;
        return;
    }
    int k = bbt_scalar(t, key, true, yaml_document_get_node(t->out, val));
    if (!k || !yaml_document_append_mapping_pair(t->out, map, k, val))
        t->nomem = true;
}

void bbt_append(struct bb_tr *t, int seq, int item)
{
    if (!seq || !item || !yaml_document_append_sequence_item(t->out, seq, item))
        t->nomem = true;
}

int bbt_sub(struct bb_tr *t, int map, const char *key, const yaml_node_t *at)
{
    yaml_node_t *m = map ? yaml_document_get_node(t->out, map) : NULL;
    if (!m)
        return 0;
    for (yaml_node_pair_t *pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = yaml_document_get_node(t->out, pr->key);
        if (k && strcmp((const char *)k->data.scalar.value, key) == 0)
            return pr->value;
    }
    int sub = bbt_map(t, at);
    bbt_put(t, map, key, sub);
    return sub;
}

int bbt_copy(struct bb_tr *t, const yaml_node_t *src)
{
    yaml_document_t *d = t->p->doc;
    if (src->type == YAML_SCALAR_NODE)
        return bbt_scalar_tag(t, cfg_scalar(src), (const char *)src->tag, src->data.scalar.style,
                              src);
    if (src->type == YAML_SEQUENCE_NODE) {
        int seq = bbt_seq(t, src);
        for (yaml_node_item_t *it = src->data.sequence.items.start;
             it < src->data.sequence.items.top; it++)
            bbt_append(t, seq, bbt_copy(t, yaml_document_get_node(d, *it)));
        return seq;
    }
    int map = bbt_map(t, src);
    for (yaml_node_pair_t *pr = src->data.mapping.pairs.start; pr < src->data.mapping.pairs.top;
         pr++) {
        int k = bbt_copy(t, yaml_document_get_node(d, pr->key));
        int v = bbt_copy(t, yaml_document_get_node(d, pr->value));
        if (!map || !k || !v || !yaml_document_append_mapping_pair(t->out, map, k, v))
            t->nomem = true;
    }
    return map;
}

/* s with every "${" as "$${" (caller frees). */
static char *escape_refs(const char *s)
{
    struct buf b;
    buf_init(&b, CFG_MAX_FILE_BYTES * 2);
    for (const char *q = s; *q; q++) {
        if (q[0] == '$' && q[1] == '{')
            buf_addc(&b, '$');
        buf_addc(&b, *q);
    }
    return buf_take(&b);
}

int bbt_literal(struct bb_tr *t, const yaml_node_t *src, bool secret)
{
    char *v = escape_refs(cfg_scalar(src));
    int id =
        bbt_scalar_tag(t, v, secret ? BB_SECRET_TAG : NULL, YAML_DOUBLE_QUOTED_SCALAR_STYLE, src);
    free(v);
    return id;
}

/* ---- shared pieces ---- */

void bb_unsupported(struct cfg_parser *p, const yaml_node_t *v, const char *path)
{
    cfg_err(p, v, path, "not supported by outpost");
}

/* A boolean that outpost only supports at its blackbox default. */
void bb_only_default(struct cfg_parser *p, const yaml_node_t *v, const char *path, bool def)
{
    bool b;
    if (cfg_get_bool(p, v, path, &b) && b != def)
        bb_unsupported(p, v, path);
}

/* A list key whose entries outpost cannot honour: fine when empty. */
void bb_only_empty(struct cfg_parser *p, const yaml_node_t *v, const char *path)
{
    if (!cfg_is_null(v) && cfg_want_sequence(p, v, path) && cfg_seq_len(v) > 0)
        bb_unsupported(p, v, path);
}

bool bb_ip_key(struct cfg_parser *p, const char *key, yaml_node_t *v, const char *path,
               struct bb_ip *ip)
{
    if (strcmp(key, "preferred_ip_protocol") == 0) {
        if (!cfg_want_scalar(p, v, path))
            return true;
        const char *s = cfg_scalar(v);
        if (strcmp(s, "ip4") != 0 && strcmp(s, "ip6") != 0 && *s)
            cfg_err(p, v, path, "must be ip4 or ip6");
        else if (*s)
            ip->pref = v;
        return true;
    }
    if (strcmp(key, "ip_protocol_fallback") == 0) {
        ip->fallback = v;
        ip->has_fallback = cfg_get_bool(p, v, path, &ip->fallback_v);
        return true;
    }
    return false;
}

/* ip_protocol and ip_protocol_fallback with blackbox's defaults (ip6,
 * fallback on), which are not outpost's (auto). */
static void ip_emit(struct bb_tr *t, const struct bb_ip *ip, const yaml_node_t *at)
{
    const yaml_node_t *pa = ip->pref ? ip->pref : at;
    bbt_put(t, t->entry, "ip_protocol",
            bbt_scalar(t, ip->pref ? cfg_scalar(ip->pref) : "ip6", true, pa));
    bool fb = ip->has_fallback ? ip->fallback_v : true;
    bbt_put(t, t->entry, "ip_protocol_fallback",
            bbt_scalar(t, fb ? "true" : "false", true, ip->fallback ? ip->fallback : at));
}

/* ---- tls_config ---- */

static const char *const tls_names[] = {
    "insecure_skip_verify", "ca_file", "cert_file", "key_file", "server_name", "min_version", NULL};
static const struct cfg_keys tls_keys = {.names = tls_names};

static bool tls_key(struct cfg_parser *p, const char *key, yaml_node_t *v, const char *path,
                    void *arg)
{
    struct tls_walk *w = arg;
    size_t i;
    for (i = 0; tls_names[i]; i++)
        if (strcmp(key, tls_names[i]) == 0)
            break;
    if (!tls_names[i])
        return false;
    if (strcmp(key, "min_version") == 0)
        bb_unsupported(p, v, path);
    else if (!cfg_is_null(v))
        bbt_put(w->t, w->map, key, bbt_copy(w->t, v));
    return true;
}

/* tls_config as outpost's tls: mapping; 0 when v is not a mapping. */
int bb_tls_map(struct bb_tr *t, const yaml_node_t *v, const char *path)
{
    if (!cfg_want_mapping(t->p, v, path))
        return 0;
    struct tls_walk w = {t, bbt_map(t, v)};
    cfg_walk_map_keys(t->p, v, path, tls_key, &w, &tls_keys);
    return w.map;
}

/* Applies a regex list from the blackbox key into key of map. */
int bbt_go_regex(struct bb_tr *t, const yaml_node_t *src)
{
    /* Go's RE2 takes a quantifier on an anchor ("^+OK", in blackbox's own
     * example config: one or more starts of text, i.e. one); PCRE2 refuses
     * it unless the anchor is a group. (?:^) means the same in both. */
    const char *s = cfg_scalar(src);
    struct buf b;
    buf_init(&b, CFG_MAX_FILE_BYTES * 2);
    bool in_class = false;
    for (const char *q = s; *q; q++) {
        if (*q == '\\' && q[1]) {
            buf_add(&b, q, 2);
            q++;
            continue;
        }
        if (in_class) {
            in_class = *q != ']';
        } else if (*q == '[') {
            in_class = true;
            /* A ']' right after '[' or '[^' is a literal. */
            buf_addc(&b, *q);
            if (q[1] == '^')
                buf_addc(&b, *++q);
            if (q[1] == ']')
                buf_addc(&b, *++q);
            continue;
        } else if ((*q == '^' || *q == '$') && q[1] && strchr("*+?{", q[1])) {
            buf_addf(&b, "(?:%c)", *q);
            continue;
        }
        buf_addc(&b, *q);
    }
    int id = bbt_scalar_tag(t, buf_str(&b), NULL, YAML_DOUBLE_QUOTED_SCALAR_STYLE, src);
    buf_free(&b);
    return id;
}

void bb_regex_list(struct bb_tr *t, int map, const char *key, const yaml_node_t *v,
                   const char *path, bool go_re)
{
    if (cfg_is_null(v) || !cfg_want_sequence(t->p, v, path) || cfg_seq_len(v) == 0)
        return;
    for (size_t i = 0; i < cfg_seq_len(v); i++) {
        char sub[CFG_PATH_CAP];
        cfg_path_index(sub, path, i);
        yaml_node_t *it = cfg_seq_item(t->p, v, i);
        if (!it || !cfg_want_scalar(t->p, it, sub))
            return;
    }
    if (!go_re) {
        bbt_put(t, map, key, bbt_copy(t, v));
        return;
    }
    int seq = bbt_seq(t, v);
    for (size_t i = 0; i < cfg_seq_len(v); i++)
        bbt_append(t, seq, bbt_go_regex(t, cfg_seq_item(t->p, v, i)));
    bbt_put(t, map, key, seq);
}

/* ---- tcp ---- */

static const char *const tcp_names[] = {"preferred_ip_protocol",
                                        "ip_protocol_fallback",
                                        "source_ip_address",
                                        "query_response",
                                        "tls",
                                        "tls_config",
                                        NULL};
static const struct cfg_keys tcp_keys = {.names = tcp_names};

struct tcp_walk {
    struct bb_tr *t;
    struct bb_ip ip;
    const yaml_node_t *tls, *tls_config;
    bool starttls;
};

static bool qr_key(struct cfg_parser *p, const char *key, yaml_node_t *v, const char *path,
                   void *arg)
{
    struct tls_walk *w = arg;
    if (strcmp(key, "expect") && strcmp(key, "send") && strcmp(key, "starttls"))
        return false;
    if (cfg_want_scalar(p, v, path))
        bbt_put(w->t, w->map, key,
                strcmp(key, "expect") == 0 ? bbt_go_regex(w->t, v) : bbt_copy(w->t, v));
    return true;
}

/* True when a step upgrades with starttls. */
static bool tcp_query_response(struct bb_tr *t, const yaml_node_t *v, const char *path)
{
    static const char *const names[] = {"expect", "send", "starttls", NULL};
    static const struct cfg_keys keys = {.names = names};
    bool starttls = false;
    if (cfg_is_null(v) || !cfg_want_sequence(t->p, v, path) || cfg_seq_len(v) == 0)
        return false;
    int seq = bbt_seq(t, v);
    for (size_t i = 0; i < cfg_seq_len(v); i++) {
        char sub[CFG_PATH_CAP];
        cfg_path_index(sub, path, i);
        yaml_node_t *it = cfg_seq_item(t->p, v, i);
        if (!it || !cfg_want_mapping(t->p, it, sub))
            continue;
        struct tls_walk w = {t, bbt_map(t, it)};
        cfg_walk_map_keys(t->p, it, sub, qr_key, &w, &keys);
        bbt_append(t, seq, w.map);
        for (yaml_node_pair_t *pr = it->data.mapping.pairs.start; pr < it->data.mapping.pairs.top;
             pr++) {
            yaml_node_t *k = yaml_document_get_node(t->p->doc, pr->key);
            yaml_node_t *val = yaml_document_get_node(t->p->doc, pr->value);
            bool on = false;
            if (k && val && k->type == YAML_SCALAR_NODE && !strcmp(cfg_scalar(k), "starttls") &&
                val->type == YAML_SCALAR_NODE && !strcmp(cfg_scalar(val), "true"))
                on = true;
            starttls |= on;
        }
    }
    bbt_put(t, t->entry, "query_response", seq);
    return starttls;
}

static bool tcp_key(struct cfg_parser *p, const char *key, yaml_node_t *v, const char *path,
                    void *arg)
{
    struct tcp_walk *w = arg;
    if (bb_ip_key(p, key, v, path, &w->ip))
        return true;
    if (strcmp(key, "source_ip_address") == 0) {
        if (!cfg_is_null(v))
            bb_unsupported(p, v, path);
    } else if (strcmp(key, "query_response") == 0) {
        w->starttls = tcp_query_response(w->t, v, path);
    } else if (strcmp(key, "tls") == 0) {
        w->tls = v;
    } else if (strcmp(key, "tls_config") == 0) {
        w->tls_config = cfg_is_null(v) ? NULL : v;
    } else {
        return false;
    }
    return true;
}

/* tls: true|false and tls_config into outpost's `tls: true|{...}`. With
 * tls off blackbox reads tls_config only for a starttls upgrade. */
static void tls_emit(struct bb_tr *t, const yaml_node_t *tls, const yaml_node_t *cfg,
                     const char *path, bool starttls)
{
    bool on = false;
    char sub[CFG_PATH_CAP];
    cfg_path_key(sub, path, "tls");
    if (tls && !cfg_get_bool(t->p, tls, sub, &on))
        return;
    /* outpost's tcp type starts a dialogue with a starttls step in plain
     * text, and its `tls:` then configures the upgrade. */
    if (on && starttls) {
        cfg_err(t->p, tls, sub, "TLS from the start and a starttls step: not supported by outpost");
        return;
    }
    cfg_path_key(sub, path, "tls_config");
    int m = cfg ? bb_tls_map(t, cfg, sub) : 0;
    if (m && (on || starttls))
        bbt_put(t, t->entry, "tls", m);
    else if (on)
        bbt_put(t, t->entry, "tls", bbt_scalar(t, "true", true, tls));
    /* tls_config without TLS or starttls: blackbox does not read it either. */
}

void bb_translate_tcp(struct bb_tr *t, const yaml_node_t *sec, const yaml_node_t *at,
                      const char *path)
{
    struct tcp_walk w = {.t = t};
    if (sec)
        cfg_walk_map_keys(t->p, sec, path, tcp_key, &w, &tcp_keys);
    ip_emit(t, &w.ip, at);
    tls_emit(t, w.tls, w.tls_config, path, w.starttls);
}

/* ---- dns ---- */

static const char *const dns_names[] = {"preferred_ip_protocol",
                                        "ip_protocol_fallback",
                                        "source_ip_address",
                                        "transport_protocol",
                                        "dns_over_tls",
                                        "tls_config",
                                        "query_name",
                                        "query_type",
                                        "query_class",
                                        "recursion_desired",
                                        "valid_rcodes",
                                        "validate_answer_rrs",
                                        "validate_authority_rrs",
                                        "validate_additional_rrs",
                                        NULL};
static const struct cfg_keys dns_keys = {.names = dns_names};

struct dns_walk {
    struct bb_tr *t;
    struct bb_ip ip;
    int query, expect;
    bool has_name, has_type, has_class, has_transport, has_rd, has_rcodes;
};

/* blackbox's answer checks, and the outpost key each one is. */
static const struct {
    const char *bb, *suffix;
} rr_rules[] = {
    {"fail_if_matches_regexp", "_not_match"},
    {"fail_if_all_match_regexp", "_not_all_match"},
    {"fail_if_not_matches_regexp", "_all_match"},
    {"fail_if_none_matches_regexp", "_match"},
};

struct rr_walk {
    struct bb_tr *t;
    int expect;
    const char *section; /* answers, authority, additional */
};

static bool rr_key(struct cfg_parser *p, const char *key, yaml_node_t *v, const char *path,
                   void *arg)
{
    (void)p;
    struct rr_walk *w = arg;
    for (size_t i = 0; i < ARRAY_SIZE(rr_rules); i++) {
        if (strcmp(key, rr_rules[i].bb) != 0)
            continue;
        char okey[64];
        snprintf(okey, sizeof(okey), "%s%s", w->section, rr_rules[i].suffix);
        bb_regex_list(w->t, w->expect, okey, v, path, true);
        return true;
    }
    return false;
}

static void dns_rrs(struct dns_walk *w, const char *section, const yaml_node_t *v, const char *path)
{
    static const char *const names[] = {"fail_if_matches_regexp", "fail_if_all_match_regexp",
                                        "fail_if_not_matches_regexp", "fail_if_none_matches_regexp",
                                        NULL};
    static const struct cfg_keys keys = {.names = names};
    if (cfg_is_null(v) || !cfg_want_mapping(w->t->p, v, path))
        return;
    struct rr_walk rw = {w->t, w->expect, section};
    cfg_walk_map_keys(w->t->p, v, path, rr_key, &rw, &keys);
}

static void put_copy(struct bb_tr *t, int map, const char *key, const yaml_node_t *v,
                     const char *path)
{
    if (cfg_want_scalar(t->p, v, path))
        bbt_put(t, map, key, bbt_copy(t, v));
}

static bool dns_key(struct cfg_parser *p, const char *key, yaml_node_t *v, const char *path,
                    void *arg)
{
    struct dns_walk *w = arg;
    struct bb_tr *t = w->t;
    if (bb_ip_key(p, key, v, path, &w->ip))
        return true;
    if (strcmp(key, "source_ip_address") == 0) {
        if (!cfg_is_null(v))
            bb_unsupported(p, v, path);
    } else if (strcmp(key, "dns_over_tls") == 0) {
        bb_only_default(p, v, path, false);
    } else if (strcmp(key, "tls_config") == 0) {
        /* Only read for dns_over_tls, which is refused above. */
        (void)(cfg_is_null(v) || cfg_want_mapping(p, v, path));
    } else if (strcmp(key, "query_name") == 0) {
        w->has_name = true;
        put_copy(t, w->query, "name", v, path);
    } else if (strcmp(key, "query_type") == 0) {
        w->has_type = true;
        put_copy(t, w->query, "type", v, path);
    } else if (strcmp(key, "query_class") == 0) {
        w->has_class = true;
        put_copy(t, w->query, "class", v, path);
    } else if (strcmp(key, "transport_protocol") == 0) {
        w->has_transport = true;
        put_copy(t, w->query, "transport", v, path);
    } else if (strcmp(key, "recursion_desired") == 0) {
        w->has_rd = true;
        put_copy(t, w->query, "recursion_desired", v, path);
    } else if (strcmp(key, "valid_rcodes") == 0) {
        /* An empty list is blackbox's default, NOERROR. */
        if (!cfg_is_null(v) && cfg_want_sequence(p, v, path) && cfg_seq_len(v) > 0) {
            w->has_rcodes = true;
            bb_regex_list(t, w->expect, "rcode", v, path, false);
        }
    } else if (strcmp(key, "validate_answer_rrs") == 0) {
        dns_rrs(w, "answers", v, path);
    } else if (strcmp(key, "validate_authority_rrs") == 0) {
        dns_rrs(w, "authority", v, path);
    } else if (strcmp(key, "validate_additional_rrs") == 0) {
        dns_rrs(w, "additional", v, path);
    } else {
        return false;
    }
    return true;
}

void bb_translate_dns(struct bb_tr *t, const yaml_node_t *sec, const yaml_node_t *at,
                      const char *path)
{
    const yaml_node_t *here = sec ? sec : at;
    struct dns_walk w = {.t = t};
    w.query = bbt_sub(t, t->entry, "query", here);
    w.expect = bbt_sub(t, t->entry, "expect", here);
    if (sec)
        cfg_walk_map_keys(t->p, sec, path, dns_key, &w, &dns_keys);
    if (!w.has_name)
        cfg_err(t->p, here, path, "missing key \"query_name\"");
    /* blackbox's defaults, written out: outpost's may differ. */
    if (!w.has_type)
        bbt_put(t, w.query, "type", bbt_scalar(t, "ANY", true, here));
    if (!w.has_class)
        bbt_put(t, w.query, "class", bbt_scalar(t, "IN", true, here));
    if (!w.has_transport)
        bbt_put(t, w.query, "transport", bbt_scalar(t, "udp", true, here));
    if (!w.has_rd)
        bbt_put(t, w.query, "recursion_desired", bbt_scalar(t, "true", true, here));
    if (!w.has_rcodes) {
        int seq = bbt_seq(t, here);
        bbt_append(t, seq, bbt_scalar(t, "NOERROR", true, here));
        bbt_put(t, w.expect, "rcode", seq);
    }
    ip_emit(t, &w.ip, here);
}

/* ---- icmp ---- */

static const char *const icmp_names[] = {"preferred_ip_protocol",
                                         "ip_protocol_fallback",
                                         "source_ip_address",
                                         "dont_fragment",
                                         "payload_size",
                                         "ttl",
                                         NULL};
static const struct cfg_keys icmp_keys = {.names = icmp_names};

struct icmp_walk {
    struct bb_tr *t;
    struct bb_ip ip;
};

static bool icmp_key(struct cfg_parser *p, const char *key, yaml_node_t *v, const char *path,
                     void *arg)
{
    struct icmp_walk *w = arg;
    if (bb_ip_key(p, key, v, path, &w->ip))
        return true;
    if (strcmp(key, "source_ip_address") == 0) {
        if (!cfg_is_null(v))
            bb_unsupported(p, v, path);
    } else if (strcmp(key, "dont_fragment") == 0 || strcmp(key, "payload_size") == 0 ||
               strcmp(key, "ttl") == 0) {
        /* blackbox: 0 means the system's TTL, unset. */
        if (strcmp(key, "ttl") == 0 && v->type == YAML_SCALAR_NODE && !strcmp(cfg_scalar(v), "0"))
            return true;
        put_copy(w->t, w->t->entry, key, v, path);
    } else {
        return false;
    }
    return true;
}

void bb_translate_icmp(struct bb_tr *t, const yaml_node_t *sec, const yaml_node_t *at,
                       const char *path)
{
    struct icmp_walk w = {.t = t};
    /* One echo request, as blackbox sends. */
    bbt_put(t, t->entry, "packets", bbt_scalar(t, "1", true, sec ? sec : at));
    if (sec)
        cfg_walk_map_keys(t->p, sec, path, icmp_key, &w, &icmp_keys);
    ip_emit(t, &w.ip, sec ? sec : at);
}

/* ---- grpc ---- */

static const char *const grpc_names[] = {
    "service", "preferred_ip_protocol", "ip_protocol_fallback", "tls", "tls_config", NULL};
static const struct cfg_keys grpc_keys = {.names = grpc_names};

static bool grpc_key(struct cfg_parser *p, const char *key, yaml_node_t *v, const char *path,
                     void *arg)
{
    struct tcp_walk *w = arg;
    if (bb_ip_key(p, key, v, path, &w->ip))
        return true;
    if (strcmp(key, "service") == 0) {
        if (cfg_want_scalar(p, v, path) && *cfg_scalar(v))
            bbt_put(w->t, w->t->entry, "service", bbt_copy(w->t, v));
    } else if (strcmp(key, "tls") == 0) {
        w->tls = v;
    } else if (strcmp(key, "tls_config") == 0) {
        w->tls_config = cfg_is_null(v) ? NULL : v;
    } else {
        return false;
    }
    return true;
}

void bb_translate_grpc(struct bb_tr *t, const yaml_node_t *sec, const yaml_node_t *at,
                       const char *path)
{
    struct tcp_walk w = {.t = t};
    if (sec)
        cfg_walk_map_keys(t->p, sec, path, grpc_key, &w, &grpc_keys);
    ip_emit(t, &w.ip, sec ? sec : at);
    tls_emit(t, w.tls, w.tls_config, path, false);
}
