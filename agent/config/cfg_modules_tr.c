/*
 * cfg_modules_tr.c - blackbox_exporter prober settings (its 0.23 names and
 * defaults) as outpost check keys.
 *
 * Every blackbox key is either translated, accepted because its value is
 * what outpost does anyway (fail_if_ssl: false, enable_http2: true), or
 * refused with "not supported by outpost": a module never probes
 * differently from what it says without the user hearing about it. Keys
 * blackbox does not know either are unknown, with the nearest as a hint.
 *
 * Each prober's keys are a table of rows (struct bb_row) walked by
 * bb_walk: the row says what becomes of the value, and only keys whose
 * translation is special have a callback.
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
    /* A copy: adding the key may move out's nodes. */
    yaml_node_t at = *yaml_document_get_node(t->out, val);
    int k = bbt_scalar(t, key, true, &at);
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

static void bb_unsupported(struct cfg_parser *p, const yaml_node_t *v, const char *path)
{
    cfg_err(p, v, path, "not supported by outpost");
}

void bb_ip_pref(struct bb_walk *w, const struct bb_row *r, yaml_node_t *v, const char *path)
{
    (void)r;
    if (!cfg_want_scalar(w->t->p, v, path))
        return;
    const char *s = cfg_scalar(v);
    if (strcmp(s, "ip4") != 0 && strcmp(s, "ip6") != 0 && *s)
        cfg_err(w->t->p, v, path, "must be ip4 or ip6");
    else if (*s)
        w->ip.pref = v;
}

void bb_ip_fallback(struct bb_walk *w, const struct bb_row *r, yaml_node_t *v, const char *path)
{
    (void)r;
    w->ip.fallback = v;
    w->ip.has_fallback = cfg_get_bool(w->t->p, v, path, &w->ip.fallback_v);
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

/* "${file:PATH}" for a blackbox *_file key: outpost reads it at load
 * (and for every /probe check built from the module). */
static int file_ref(struct bb_tr *t, const yaml_node_t *v, const char *path)
{
    if (!cfg_want_scalar(t->p, v, path))
        return 0;
    const char *f = cfg_scalar(v);
    if (!*f || strchr(f, '}')) {
        cfg_err(t->p, v, path, "must be a file name without \"}\"");
        return 0;
    }
    struct buf b;
    buf_init(&b, CFG_MAX_FILE_BYTES);
    buf_addf(&b, "${file:%s}", f);
    int id = bbt_scalar_tag(t, buf_str(&b), BB_SECRET_TAG, YAML_DOUBLE_QUOTED_SCALAR_STYLE, v);
    buf_free(&b);
    return id;
}

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

/* A list of scalars v copied as key of map (nothing when empty); go_re:
 * each is a Go regular expression, copied with bbt_go_regex. */
static void bb_regex_list(struct bb_tr *t, int map, const char *key, const yaml_node_t *v,
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

/* ---- the table walker ---- */

static size_t row_index(const struct bb_walk *w, const char *key)
{
    size_t i;
    for (i = 0; w->rows[i].key; i++)
        if (strcmp(w->rows[i].key, key) == 0)
            break;
    return i;
}

void bb_keep(struct bb_walk *w, const struct bb_row *r, const yaml_node_t *v)
{
    w->node[r - w->rows] = v;
}

const yaml_node_t *bb_kept(const struct bb_walk *w, const char *key)
{
    size_t i = row_index(w, key);
    return w->rows[i].key ? w->node[i] : NULL;
}

/* Whether key was present in the walk. */
static bool bb_seen(const struct bb_walk *w, const char *key)
{
    size_t i = row_index(w, key);
    return w->rows[i].key && (w->seen & CFG_SEEN(i));
}

/* A scalar the row takes (BB_NONEMPTY: and not ""). */
static bool row_scalar(struct cfg_parser *p, const struct bb_row *r, const yaml_node_t *v,
                       const char *path)
{
    return cfg_want_scalar(p, v, path) && (!(r->flags & BB_NONEMPTY) || *cfg_scalar(v));
}

static bool row_key(struct cfg_parser *p, const char *key, yaml_node_t *v, const char *path,
                    void *arg)
{
    struct bb_walk *w = arg;
    struct bb_tr *t = w->t;
    size_t i = row_index(w, key);
    const struct bb_row *r = &w->rows[i];
    if (!r->key)
        return false;
    w->seen |= CFG_SEEN(i);
    int map = r->under ? bbt_sub(t, w->map, r->under, v) : w->map;
    const char *to = r->to ? r->to : r->key;
    bool b;
    if ((r->flags & BB_NULL_OK) && cfg_is_null(v))
        return true;
    switch (r->act) {
    case BB_COPY:
        if ((r->flags & BB_ANY) || row_scalar(p, r, v, path))
            bbt_put(t, map, to, bbt_copy(t, v));
        break;
    case BB_LITERAL:
        if (row_scalar(p, r, v, path))
            bbt_put(t, map, to, bbt_literal(t, v, r->flags & BB_SECRET));
        break;
    case BB_GO_RE:
        if (cfg_want_scalar(p, v, path))
            bbt_put(t, map, to, bbt_go_regex(t, v));
        break;
    case BB_FILE: {
        int id = file_ref(t, v, path);
        if (id)
            bbt_put(t, map, to, id);
        break;
    }
    case BB_LIST:
    case BB_GO_LIST:
        bb_regex_list(t, map, to, v, path, r->act == BB_GO_LIST);
        break;
    case BB_UNSUPPORTED:
        bb_unsupported(p, v, path);
        break;
    case BB_ONLY:
        if (cfg_get_bool(p, v, path, &b) && b != r->on)
            bb_unsupported(p, v, path);
        break;
    case BB_BOOL:
        (void)cfg_get_bool(p, v, path, &b);
        break;
    case BB_KEEP:
        if ((r->flags & BB_ANY) || cfg_want_scalar(p, v, path))
            w->node[i] = v;
        break;
    case BB_FN:
        r->fn(w, r, v, path);
        break;
    }
    return true;
}

void bb_walk(struct bb_walk *w, const yaml_node_t *v, const char *path)
{
    /* The table's keys are the hints for an unknown key. */
    const char *names[BB_MAX_ROWS + 1];
    size_t n = 0;
    for (; w->rows[n].key && n < BB_MAX_ROWS; n++)
        names[n] = w->rows[n].key;
    names[n] = NULL;
    const struct cfg_keys keys = {.names = names};
    cfg_walk_map_keys(w->t->p, v, path, row_key, w, &keys);
}

/* ---- tls_config ---- */

static const struct bb_row tls_rows[] = {
    {.key = "insecure_skip_verify", .act = BB_COPY, .flags = BB_NULL_OK | BB_ANY},
    {.key = "ca_file", .act = BB_COPY, .flags = BB_NULL_OK | BB_ANY},
    {.key = "cert_file", .act = BB_COPY, .flags = BB_NULL_OK | BB_ANY},
    {.key = "key_file", .act = BB_COPY, .flags = BB_NULL_OK | BB_ANY},
    {.key = "server_name", .act = BB_COPY, .flags = BB_NULL_OK | BB_ANY},
    {.key = "min_version", .act = BB_UNSUPPORTED},
    {0}};

/* tls_config as outpost's tls: mapping; 0 when v is not a mapping. */
int bb_tls_map(struct bb_tr *t, const yaml_node_t *v, const char *path)
{
    if (!cfg_want_mapping(t->p, v, path))
        return 0;
    struct bb_walk w = {.t = t, .map = bbt_map(t, v), .rows = tls_rows};
    bb_walk(&w, v, path);
    return w.map;
}

/* ---- tcp ---- */

/* A step's starttls, kept when true. */
static void qr_starttls(struct bb_walk *w, const struct bb_row *r, yaml_node_t *v, const char *path)
{
    if (!cfg_want_scalar(w->t->p, v, path))
        return;
    bbt_put(w->t, w->map, r->key, bbt_copy(w->t, v));
    if (strcmp(cfg_scalar(v), "true") == 0)
        bb_keep(w, r, v);
}

static const struct bb_row qr_rows[] = {{.key = "expect", .act = BB_GO_RE},
                                        {.key = "send", .act = BB_COPY},
                                        {.key = "starttls", .act = BB_FN, .fn = qr_starttls},
                                        {0}};

/* query_response: the dialogue, kept when a step upgrades with starttls. */
static void tcp_query_response(struct bb_walk *w, const struct bb_row *r, yaml_node_t *v,
                               const char *path)
{
    struct bb_tr *t = w->t;
    if (cfg_is_null(v) || !cfg_want_sequence(t->p, v, path) || cfg_seq_len(v) == 0)
        return;
    int seq = bbt_seq(t, v);
    for (size_t i = 0; i < cfg_seq_len(v); i++) {
        char sub[CFG_PATH_CAP];
        cfg_path_index(sub, path, i);
        yaml_node_t *it = cfg_seq_item(t->p, v, i);
        if (!it || !cfg_want_mapping(t->p, it, sub))
            continue;
        struct bb_walk qw = {.t = t, .map = bbt_map(t, it), .rows = qr_rows};
        bb_walk(&qw, it, sub);
        bbt_append(t, seq, qw.map);
        if (bb_kept(&qw, "starttls"))
            bb_keep(w, r, v);
    }
    bbt_put(t, t->entry, "query_response", seq);
}

static const struct bb_row tcp_rows[] = {
    BB_IP_ROWS,
    {.key = "source_ip_address", .act = BB_UNSUPPORTED, .flags = BB_NULL_OK},
    {.key = "query_response", .act = BB_FN, .fn = tcp_query_response},
    {.key = "tls", .act = BB_KEEP, .flags = BB_ANY},
    {.key = "tls_config", .act = BB_KEEP, .flags = BB_NULL_OK | BB_ANY},
    {0}};

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
    struct bb_walk w = {.t = t, .map = t->entry, .rows = tcp_rows};
    if (sec)
        bb_walk(&w, sec, path);
    ip_emit(t, &w.ip, at);
    tls_emit(t, bb_kept(&w, "tls"), bb_kept(&w, "tls_config"), path,
             bb_kept(&w, "query_response") != NULL);
}

/* ---- dns ---- */

/* One of blackbox's answer checks; w->arg: the section (answers,
 * authority, additional), r->to: the suffix of the outpost key. */
static void dns_rr_rule(struct bb_walk *w, const struct bb_row *r, yaml_node_t *v, const char *path)
{
    char okey[64];
    snprintf(okey, sizeof(okey), "%s%s", (const char *)w->arg, r->to);
    bb_regex_list(w->t, w->map, okey, v, path, true);
}

static const struct bb_row rr_rows[] = {
    {.key = "fail_if_matches_regexp", .act = BB_FN, .to = "_not_match", .fn = dns_rr_rule},
    {.key = "fail_if_all_match_regexp", .act = BB_FN, .to = "_not_all_match", .fn = dns_rr_rule},
    {.key = "fail_if_not_matches_regexp", .act = BB_FN, .to = "_all_match", .fn = dns_rr_rule},
    {.key = "fail_if_none_matches_regexp", .act = BB_FN, .to = "_match", .fn = dns_rr_rule},
    {0}};

/* validate_*_rrs; r->to: the section. */
static void dns_rrs(struct bb_walk *w, const struct bb_row *r, yaml_node_t *v, const char *path)
{
    struct bb_tr *t = w->t;
    if (cfg_is_null(v) || !cfg_want_mapping(t->p, v, path))
        return;
    struct bb_walk rw = {
        .t = t, .map = bbt_sub(t, t->entry, "expect", v), .rows = rr_rows, .arg = r->to};
    bb_walk(&rw, v, path);
}

/* valid_rcodes: an empty list is blackbox's default, NOERROR; kept when not. */
static void dns_rcodes(struct bb_walk *w, const struct bb_row *r, yaml_node_t *v, const char *path)
{
    if (!cfg_is_null(v) && cfg_want_sequence(w->t->p, v, path) && cfg_seq_len(v) > 0) {
        bb_keep(w, r, v);
        bb_regex_list(w->t, bbt_sub(w->t, w->map, "expect", v), "rcode", v, path, false);
    }
}

/* tls_config: only read for dns_over_tls, which is refused. */
static void dns_tls_config(struct bb_walk *w, const struct bb_row *r, yaml_node_t *v,
                           const char *path)
{
    (void)r;
    (void)(cfg_is_null(v) || cfg_want_mapping(w->t->p, v, path));
}

static const struct bb_row dns_rows[] = {
    BB_IP_ROWS,
    {.key = "source_ip_address", .act = BB_UNSUPPORTED, .flags = BB_NULL_OK},
    {.key = "transport_protocol", .act = BB_COPY, .to = "transport", .under = "query"},
    {.key = "dns_over_tls", .act = BB_ONLY, .on = false},
    {.key = "tls_config", .act = BB_FN, .fn = dns_tls_config},
    {.key = "query_name", .act = BB_COPY, .to = "name", .under = "query"},
    {.key = "query_type", .act = BB_COPY, .to = "type", .under = "query"},
    {.key = "query_class", .act = BB_COPY, .to = "class", .under = "query"},
    {.key = "recursion_desired", .act = BB_COPY, .under = "query"},
    {.key = "valid_rcodes", .act = BB_FN, .fn = dns_rcodes},
    {.key = "validate_answer_rrs", .act = BB_FN, .to = "answers", .fn = dns_rrs},
    {.key = "validate_authority_rrs", .act = BB_FN, .to = "authority", .fn = dns_rrs},
    {.key = "validate_additional_rrs", .act = BB_FN, .to = "additional", .fn = dns_rrs},
    {0}};

void bb_translate_dns(struct bb_tr *t, const yaml_node_t *sec, const yaml_node_t *at,
                      const char *path)
{
    const yaml_node_t *here = sec ? sec : at;
    struct bb_walk w = {.t = t, .map = t->entry, .rows = dns_rows};
    int query = bbt_sub(t, t->entry, "query", here);
    int expect = bbt_sub(t, t->entry, "expect", here);
    if (sec)
        bb_walk(&w, sec, path);
    if (!bb_seen(&w, "query_name"))
        cfg_err(t->p, here, path, "missing key \"query_name\"");
    /* blackbox's defaults, written out: outpost's may differ. */
    static const struct {
        const char *bb, *key, *def;
    } defaults[] = {{"query_type", "type", "ANY"},
                    {"query_class", "class", "IN"},
                    {"transport_protocol", "transport", "udp"},
                    {"recursion_desired", "recursion_desired", "true"}};
    for (size_t i = 0; i < ARRAY_SIZE(defaults); i++)
        if (!bb_seen(&w, defaults[i].bb))
            bbt_put(t, query, defaults[i].key, bbt_scalar(t, defaults[i].def, true, here));
    if (!bb_kept(&w, "valid_rcodes")) {
        int seq = bbt_seq(t, here);
        bbt_append(t, seq, bbt_scalar(t, "NOERROR", true, here));
        bbt_put(t, expect, "rcode", seq);
    }
    ip_emit(t, &w.ip, here);
}

/* ---- icmp ---- */

/* ttl: blackbox's 0 means the system's TTL, unset. */
static void icmp_ttl(struct bb_walk *w, const struct bb_row *r, yaml_node_t *v, const char *path)
{
    if (v->type == YAML_SCALAR_NODE && !strcmp(cfg_scalar(v), "0"))
        return;
    if (cfg_want_scalar(w->t->p, v, path))
        bbt_put(w->t, w->map, r->key, bbt_copy(w->t, v));
}

static const struct bb_row icmp_rows[] = {
    BB_IP_ROWS,
    {.key = "source_ip_address", .act = BB_UNSUPPORTED, .flags = BB_NULL_OK},
    {.key = "dont_fragment", .act = BB_COPY},
    {.key = "payload_size", .act = BB_COPY},
    {.key = "ttl", .act = BB_FN, .fn = icmp_ttl},
    {0}};

void bb_translate_icmp(struct bb_tr *t, const yaml_node_t *sec, const yaml_node_t *at,
                       const char *path)
{
    struct bb_walk w = {.t = t, .map = t->entry, .rows = icmp_rows};
    /* One echo request, as blackbox sends. */
    bbt_put(t, t->entry, "packets", bbt_scalar(t, "1", true, sec ? sec : at));
    if (sec)
        bb_walk(&w, sec, path);
    ip_emit(t, &w.ip, sec ? sec : at);
}

/* ---- grpc ---- */

static const struct bb_row grpc_rows[] = {
    {.key = "service", .act = BB_COPY, .flags = BB_NONEMPTY},
    BB_IP_ROWS,
    {.key = "tls", .act = BB_KEEP, .flags = BB_ANY},
    {.key = "tls_config", .act = BB_KEEP, .flags = BB_NULL_OK | BB_ANY},
    {0}};

void bb_translate_grpc(struct bb_tr *t, const yaml_node_t *sec, const yaml_node_t *at,
                       const char *path)
{
    struct bb_walk w = {.t = t, .map = t->entry, .rows = grpc_rows};
    if (sec)
        bb_walk(&w, sec, path);
    ip_emit(t, &w.ip, sec ? sec : at);
    tls_emit(t, bb_kept(&w, "tls"), bb_kept(&w, "tls_config"), path, false);
}
