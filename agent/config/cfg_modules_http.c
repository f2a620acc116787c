/*
 * cfg_modules_http.c - blackbox_exporter's http prober settings as the
 * outpost http type's keys (cfg_modules_tr.c has the other probers).
 */
#include "cfg_modules_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- http ---- */

static const char *const http_names[] = {"valid_status_codes",
                                         "valid_http_versions",
                                         "method",
                                         "headers",
                                         "body",
                                         "body_size_limit",
                                         "compression",
                                         "follow_redirects",
                                         "no_follow_redirects",
                                         "fail_if_ssl",
                                         "fail_if_not_ssl",
                                         "fail_if_body_matches_regexp",
                                         "fail_if_body_not_matches_regexp",
                                         "fail_if_header_matches",
                                         "fail_if_header_not_matches",
                                         "tls_config",
                                         "basic_auth",
                                         "bearer_token",
                                         "bearer_token_file",
                                         "proxy_url",
                                         "skip_resolve_phase_with_proxy",
                                         "oauth2",
                                         "enable_http2",
                                         "preferred_ip_protocol",
                                         "ip_protocol_fallback",
                                         "authorization",
                                         "no_proxy",
                                         "proxy_from_environment",
                                         "proxy_connect_header",
                                         "body_file",
                                         NULL};
static const struct cfg_keys http_keys = {.names = http_names};

struct http_walk {
    struct bb_tr *t;
    struct bb_ip ip;
    const yaml_node_t *follow, *no_follow;
};

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

static bool basic_auth_key(struct cfg_parser *p, const char *key, yaml_node_t *v, const char *path,
                           void *arg)
{
    struct tls_walk *w = arg; /* the same pair: translator and target map */
    if (strcmp(key, "username") == 0) {
        if (cfg_want_scalar(p, v, path))
            bbt_put(w->t, w->map, "username", bbt_literal(w->t, v, false));
    } else if (strcmp(key, "password") == 0) {
        if (cfg_want_scalar(p, v, path))
            bbt_put(w->t, w->map, "password", bbt_literal(w->t, v, true));
    } else if (strcmp(key, "password_file") == 0) {
        int id = file_ref(w->t, v, path);
        if (id)
            bbt_put(w->t, w->map, "password", id);
    } else {
        return false;
    }
    return true;
}

static void http_basic_auth(struct bb_tr *t, const yaml_node_t *v, const char *path)
{
    static const char *const names[] = {"username", "password", "password_file", NULL};
    static const struct cfg_keys keys = {.names = names};
    if (!cfg_want_mapping(t->p, v, path))
        return;
    struct tls_walk w = {t, bbt_map(t, v)};
    int before = t->p->n_errors;
    cfg_walk_map_keys(t->p, v, path, basic_auth_key, &w, &keys);
    yaml_node_t *m = yaml_document_get_node(t->out, w.map);
    size_t n_pass = 0;
    for (yaml_node_pair_t *pr = m ? m->data.mapping.pairs.start : NULL;
         m && pr < m->data.mapping.pairs.top; pr++)
        n_pass += strcmp((const char *)yaml_document_get_node(t->out, pr->key)->data.scalar.value,
                         "password") == 0;
    if (n_pass > 1)
        cfg_err(t->p, v, path, "use password or password_file, not both");
    if (t->p->n_errors == before)
        bbt_put(t, t->entry, "basic_auth", w.map);
}

/* blackbox's body_size_limit (units.Base2Bytes: "10MB" is 10 MiB) as a
 * byte count; 0 (no limit) leaves outpost's max_body_bytes default. */
static void http_body_size(struct bb_tr *t, const yaml_node_t *v, const char *path)
{
    static const struct {
        const char *sfx;
        unsigned long long mul;
    } units[] = {{"KiB", 1ull << 10},
                 {"MiB", 1ull << 20},
                 {"GiB", 1ull << 30},
                 {"KB", 1ull << 10},
                 {"MB", 1ull << 20},
                 {"GB", 1ull << 30},
                 {"B", 1},
                 {"", 1}};
    if (!cfg_want_scalar(t->p, v, path))
        return;
    const char *s = cfg_scalar(v);
    size_t digits = strspn(s, "0123456789");
    size_t u;
    for (u = 0; u < ARRAY_SIZE(units); u++)
        if (strcmp(s + digits, units[u].sfx) == 0)
            break;
    unsigned long long n = 0;
    bool ok = digits > 0 && digits <= 10 && u < ARRAY_SIZE(units);
    for (size_t i = 0; ok && i < digits; i++)
        n = n * 10 + (unsigned long long)(s[i] - '0');
    if (ok && n > (CFG_MAX_BODY_CAP / units[u].mul))
        ok = false;
    char q[CFG_MAX_QUOTED + 4], num[32];
    if (!ok) {
        cfg_err(t->p, v, path, "\"%s\" is not a size from 0 to 1GiB (e.g. 10MB)", cfg_quote(s, q));
        return;
    }
    if (n == 0)
        return;
    snprintf(num, sizeof(num), "%llu", n * units[u].mul);
    bbt_put(t, t->entry, "max_body_bytes", bbt_scalar(t, num, true, v));
}

/* fail_if_header_not_matches: each {header, regexp} is an expected header
 * (outpost fails when the header is missing or none of its values match:
 * blackbox's allow_missing: false). */
static void http_header_expects(struct bb_tr *t, const yaml_node_t *v, const char *path)
{
    static const char *const names[] = {"header", "regexp", "allow_missing", NULL};
    if (cfg_is_null(v) || !cfg_want_sequence(t->p, v, path))
        return;
    for (size_t i = 0; i < cfg_seq_len(v); i++) {
        char sub[CFG_PATH_CAP], kp[CFG_PATH_CAP];
        cfg_path_index(sub, path, i);
        yaml_node_t *it = cfg_seq_item(t->p, v, i);
        if (!it || !cfg_want_mapping(t->p, it, sub))
            continue;
        const yaml_node_t *hn = NULL, *rn = NULL;
        for (yaml_node_pair_t *pr = it->data.mapping.pairs.start; pr < it->data.mapping.pairs.top;
             pr++) {
            yaml_node_t *k = yaml_document_get_node(t->p->doc, pr->key);
            yaml_node_t *val = yaml_document_get_node(t->p->doc, pr->value);
            if (!k || !val || k->type != YAML_SCALAR_NODE) {
                cfg_err(t->p, k ? k : it, sub, "keys must be strings");
                continue;
            }
            const char *key = cfg_scalar(k);
            cfg_path_key(kp, sub, key);
            if (strcmp(key, "header") == 0 && cfg_want_scalar(t->p, val, kp))
                hn = val;
            else if (strcmp(key, "regexp") == 0 && cfg_want_scalar(t->p, val, kp))
                rn = val;
            else if (strcmp(key, "allow_missing") == 0)
                bb_only_default(t->p, val, kp, false);
            else if (strcmp(key, names[0]) != 0 && strcmp(key, names[1]) != 0) {
                static const struct cfg_keys keys = {.names = names};
                cfg_unknown_key(t->p, k, sub, &keys);
            }
        }
        if (!hn || !rn) {
            cfg_err(t->p, it, sub, "needs header and regexp");
            continue;
        }
        int hm = bbt_sub(t, bbt_sub(t, t->entry, "expect", v), "headers", v);
        yaml_node_t *m = yaml_document_get_node(t->out, hm);
        bool dup = false;
        for (yaml_node_pair_t *pr = m ? m->data.mapping.pairs.start : NULL;
             m && pr < m->data.mapping.pairs.top; pr++)
            dup |=
                strcasecmp((const char *)yaml_document_get_node(t->out, pr->key)->data.scalar.value,
                           cfg_scalar(hn)) == 0;
        if (dup) {
            cfg_err(t->p, hn, sub, "a second pattern for one header is not supported by outpost");
            continue;
        }
        int k = bbt_scalar_tag(t, cfg_scalar(hn), NULL, YAML_DOUBLE_QUOTED_SCALAR_STYLE, hn);
        if (!hm || !k || !yaml_document_append_mapping_pair(t->out, hm, k, bbt_go_regex(t, rn)))
            t->nomem = true;
    }
}

static bool http_key(struct cfg_parser *p, const char *key, yaml_node_t *v, const char *path,
                     void *arg)
{
    struct http_walk *w = arg;
    struct bb_tr *t = w->t;
    if (bb_ip_key(p, key, v, path, &w->ip))
        return true;
    if (strcmp(key, "valid_status_codes") == 0) {
        /* [] means blackbox's default, 2xx: outpost's default too. */
        bb_regex_list(t, bbt_sub(t, t->entry, "expect", v), "status", v, path, false);
    } else if (strcmp(key, "method") == 0) {
        if (cfg_want_scalar(p, v, path))
            bbt_put(t, t->entry, "method", bbt_copy(t, v));
    } else if (strcmp(key, "headers") == 0) {
        if (cfg_is_null(v) || !cfg_want_mapping(p, v, path))
            return true;
        int map = bbt_map(t, v);
        for (yaml_node_pair_t *pr = v->data.mapping.pairs.start; pr < v->data.mapping.pairs.top;
             pr++) {
            yaml_node_t *k = yaml_document_get_node(p->doc, pr->key);
            yaml_node_t *val = yaml_document_get_node(p->doc, pr->value);
            char sub[CFG_PATH_CAP];
            cfg_path_key(sub, path, k && k->type == YAML_SCALAR_NODE ? cfg_scalar(k) : "?");
            if (!k || !val || !cfg_want_scalar(p, k, path) || !cfg_want_scalar(p, val, sub))
                continue;
            int kid = bbt_copy(t, k);
            /* A header value may be a credential (Authorization). */
            int vid = bbt_literal(t, val, true);
            if (!map || !kid || !vid || !yaml_document_append_mapping_pair(t->out, map, kid, vid))
                t->nomem = true;
        }
        bbt_put(t, t->entry, "headers", map);
    } else if (strcmp(key, "body") == 0) {
        if (cfg_want_scalar(p, v, path))
            bbt_put(t, t->entry, "body", bbt_literal(t, v, true));
    } else if (strcmp(key, "body_size_limit") == 0) {
        http_body_size(t, v, path);
    } else if (strcmp(key, "compression") == 0) {
        /* outpost asks for no encoding and never decodes one. */
        if (cfg_want_scalar(p, v, path) && *cfg_scalar(v) && strcmp(cfg_scalar(v), "identity"))
            bb_unsupported(p, v, path);
    } else if (strcmp(key, "follow_redirects") == 0) {
        w->follow = v;
    } else if (strcmp(key, "no_follow_redirects") == 0) {
        w->no_follow = v;
    } else if (strcmp(key, "fail_if_ssl") == 0 || strcmp(key, "fail_if_not_ssl") == 0 ||
               strcmp(key, "skip_resolve_phase_with_proxy") == 0 ||
               strcmp(key, "proxy_from_environment") == 0) {
        bb_only_default(p, v, path, false);
    } else if (strcmp(key, "enable_http2") == 0) {
        bb_only_default(p, v, path, true);
    } else if (strcmp(key, "valid_http_versions") == 0 ||
               strcmp(key, "fail_if_header_matches") == 0) {
        bb_only_empty(p, v, path);
    } else if (strcmp(key, "fail_if_body_matches_regexp") == 0) {
        bb_regex_list(t, bbt_sub(t, t->entry, "expect", v), "body_not_matches", v, path, true);
    } else if (strcmp(key, "fail_if_body_not_matches_regexp") == 0) {
        bb_regex_list(t, bbt_sub(t, t->entry, "expect", v), "body_matches", v, path, true);
    } else if (strcmp(key, "fail_if_header_not_matches") == 0) {
        http_header_expects(t, v, path);
    } else if (strcmp(key, "tls_config") == 0) {
        int m = cfg_is_null(v) ? 0 : bb_tls_map(t, v, path);
        if (m)
            bbt_put(t, t->entry, "tls", m);
    } else if (strcmp(key, "basic_auth") == 0) {
        if (!cfg_is_null(v))
            http_basic_auth(t, v, path);
    } else if (strcmp(key, "bearer_token") == 0) {
        if (cfg_want_scalar(p, v, path) && *cfg_scalar(v))
            bbt_put(t, t->entry, "bearer_token", bbt_literal(t, v, true));
    } else if (strcmp(key, "bearer_token_file") == 0) {
        int id = file_ref(t, v, path);
        if (id)
            bbt_put(t, t->entry, "bearer_token", id);
    } else if (strcmp(key, "proxy_url") == 0 || strcmp(key, "no_proxy") == 0 ||
               strcmp(key, "body_file") == 0) {
        if (!cfg_is_null(v) && (v->type != YAML_SCALAR_NODE || *cfg_scalar(v)))
            bb_unsupported(p, v, path);
    } else if (strcmp(key, "oauth2") == 0 || strcmp(key, "authorization") == 0 ||
               strcmp(key, "proxy_connect_header") == 0) {
        if (!cfg_is_null(v))
            bb_unsupported(p, v, path);
    } else {
        return false;
    }
    return true;
}

void bb_translate_http(struct bb_tr *t, const yaml_node_t *sec, const yaml_node_t *at,
                       const char *path)
{
    struct http_walk w = {.t = t};
    if (sec)
        cfg_walk_map_keys(t->p, sec, path, http_key, &w, &http_keys);
    /* blackbox 0.23 reads both; no_follow_redirects wins. */
    bool follow = true, b;
    const yaml_node_t *fa = NULL;
    if (w.follow && cfg_get_bool(t->p, w.follow, path, &b)) {
        follow = b;
        fa = w.follow;
    }
    if (w.no_follow && cfg_get_bool(t->p, w.no_follow, path, &b)) {
        follow = !b;
        fa = w.no_follow;
    }
    if (fa)
        bbt_put(t, t->entry, "follow_redirects",
                bbt_scalar(t, follow ? "true" : "false", true, fa));
    /* outpost's http type has no fallback: libcurl picks the family. A
     * strict family is the same; a preference with fallback (blackbox's
     * default) is auto, which tries both (happy eyeballs). */
    const char *fam = "auto";
    if (w.ip.has_fallback && !w.ip.fallback_v)
        fam = w.ip.pref ? cfg_scalar(w.ip.pref) : "ip6";
    const yaml_node_t *ia = w.ip.pref ? w.ip.pref : w.ip.fallback ? w.ip.fallback : at;
    bbt_put(t, t->entry, "ip_protocol", bbt_scalar(t, fam, true, ia));
}
