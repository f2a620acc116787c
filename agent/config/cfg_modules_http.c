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
    const yaml_node_t *fail_ssl, *fail_not_ssl; /* set to true */
};

/* valid_http_versions (Go's resp.Proto: "HTTP/1.1", "HTTP/2.0") as
 * expect.http_versions (1.1, 2). */
static void http_versions(struct bb_tr *t, const yaml_node_t *v, const char *path)
{
    static const struct {
        const char *go, *outpost;
    } known[] = {{"HTTP/1.0", "1.0"}, {"HTTP/1.1", "1.1"}, {"HTTP/2.0", "2"},
                 {"HTTP/2", "2"},     {"HTTP/3.0", "3"},   {"HTTP/3", "3"}};
    if (cfg_is_null(v) || !cfg_want_sequence(t->p, v, path) || cfg_seq_len(v) == 0)
        return;
    int seq = bbt_seq(t, v);
    for (size_t i = 0; i < cfg_seq_len(v); i++) {
        char sub[CFG_PATH_CAP], q[CFG_MAX_QUOTED + 4];
        cfg_path_index(sub, path, i);
        yaml_node_t *it = cfg_seq_item(t->p, v, i);
        if (!it || !cfg_want_scalar(t->p, it, sub))
            return;
        size_t k;
        for (k = 0; k < ARRAY_SIZE(known); k++)
            if (strcmp(cfg_scalar(it), known[k].go) == 0)
                break;
        if (k == ARRAY_SIZE(known)) {
            cfg_err(t->p, it, sub,
                    "\"%s\" is not an HTTP version (HTTP/1.0, HTTP/1.1, HTTP/2.0 or HTTP/3.0)",
                    cfg_quote(cfg_scalar(it), q));
            return;
        }
        bbt_append(t, seq,
                   bbt_scalar_tag(t, known[k].outpost, NULL, YAML_DOUBLE_QUOTED_SCALAR_STYLE, it));
    }
    bbt_put(t, bbt_sub(t, t->entry, "expect", v), "http_versions", seq);
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

static bool basic_auth_key(struct cfg_parser *p, const char *key, yaml_node_t *v, const char *path,
                           void *arg)
{
    struct bb_map_walk *w = arg;
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
    struct bb_map_walk w = {t, bbt_map(t, v)};
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

/* An RFC 9110 token (an auth scheme). */
static bool http_token_ok(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!(*s > 0x20 && *s < 0x7f && !strchr("\"(),/:;<=>?@[\\]{}", *s)))
            return false;
    return true;
}

/* True when the mapping hm (in out) has a key equal to name, case ignored. */
static bool has_header(struct bb_tr *t, int hm, const char *name)
{
    yaml_node_t *m = yaml_document_get_node(t->out, hm);
    for (yaml_node_pair_t *pr = m ? m->data.mapping.pairs.start : NULL;
         m && pr < m->data.mapping.pairs.top; pr++)
        if (strcasecmp((const char *)yaml_document_get_node(t->out, pr->key)->data.scalar.value,
                       name) == 0)
            return true;
    return false;
}

/* name: value (a translated pattern) into the mapping hm. */
static void put_header(struct bb_tr *t, int hm, const yaml_node_t *name, int value)
{
    int k = bbt_scalar_tag(t, cfg_scalar(name), NULL, YAML_DOUBLE_QUOTED_SCALAR_STYLE, name);
    if (!hm || !k || !value || !yaml_document_append_mapping_pair(t->out, hm, k, value))
        t->nomem = true;
}

/*
 * fail_if_header_not_matches (forbid: false) and fail_if_header_matches
 * (forbid: true), each {header, regexp, allow_missing}, as blackbox judges
 * them: a header with several values passes "not matches" when one value
 * matches and fails "matches" when one does; a missing header fails
 * either unless allow_missing. In outpost's keys:
 *   not matches            -> expect.headers (missing fails)
 *   not matches, allowed   -> expect.headers_if_present
 *   matches                -> expect.headers_not_matches, and the header
 *                             required by expect.headers with "" (any value)
 *   matches, allowed       -> expect.headers_not_matches
 */
static void http_header_rules(struct bb_tr *t, const yaml_node_t *v, const char *path, bool forbid)
{
    static const char *const names[] = {"header", "regexp", "allow_missing", NULL};
    static const struct cfg_keys keys = {.names = names};
    if (cfg_is_null(v) || !cfg_want_sequence(t->p, v, path))
        return;
    for (size_t i = 0; i < cfg_seq_len(v); i++) {
        char sub[CFG_PATH_CAP], kp[CFG_PATH_CAP];
        cfg_path_index(sub, path, i);
        yaml_node_t *it = cfg_seq_item(t->p, v, i);
        if (!it || !cfg_want_mapping(t->p, it, sub))
            continue;
        const yaml_node_t *hn = NULL, *rn = NULL;
        bool allow_missing = false;
        int before = t->p->n_errors;
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
            if (strcmp(key, "header") == 0) {
                if (cfg_want_scalar(t->p, val, kp))
                    hn = val;
            } else if (strcmp(key, "regexp") == 0) {
                if (cfg_want_scalar(t->p, val, kp))
                    rn = val;
            } else if (strcmp(key, "allow_missing") == 0) {
                (void)cfg_get_bool(t->p, val, kp, &allow_missing);
            } else {
                cfg_unknown_key(t->p, k, sub, &keys);
            }
        }
        if (t->p->n_errors != before)
            continue;
        if (!hn || !rn) {
            cfg_err(t->p, it, sub, "needs header and regexp");
            continue;
        }
        int expect = bbt_sub(t, t->entry, "expect", v);
        const char *list = forbid          ? "headers_not_matches"
                           : allow_missing ? "headers_if_present"
                                           : "headers";
        int hm = bbt_sub(t, expect, list, v);
        /* outpost keeps one pattern per header and list. */
        if (has_header(t, hm, cfg_scalar(hn))) {
            cfg_err(t->p, hn, sub, "a second pattern for one header is not supported by outpost");
            continue;
        }
        put_header(t, hm, hn, bbt_go_regex(t, rn));
        if (forbid && !allow_missing) {
            int req = bbt_sub(t, expect, "headers", v);
            if (!has_header(t, req, cfg_scalar(hn)))
                put_header(t, req, hn,
                           bbt_scalar_tag(t, "", NULL, YAML_DOUBLE_QUOTED_SCALAR_STYLE, hn));
        }
    }
}

struct auth_walk {
    struct bb_tr *t;
    const yaml_node_t *type, *cred, *cred_file;
};

static bool authorization_key(struct cfg_parser *p, const char *key, yaml_node_t *v,
                              const char *path, void *arg)
{
    struct auth_walk *w = arg;
    if (!cfg_want_scalar(p, v, path))
        return true;
    if (strcmp(key, "type") == 0)
        w->type = v;
    else if (strcmp(key, "credentials") == 0)
        w->cred = v;
    else if (strcmp(key, "credentials_file") == 0)
        w->cred_file = v;
    else
        return false;
    return true;
}

/* Prometheus' authorization {type, credentials, credentials_file} as the
 * header "Authorization: TYPE CREDENTIALS" (type Bearer by default); a
 * credentials_file is a ${file:} reference, read at load. */
static void http_authorization(struct bb_tr *t, const yaml_node_t *v, const char *path)
{
    static const char *const names[] = {"type", "credentials", "credentials_file", NULL};
    static const struct cfg_keys keys = {.names = names};
    if (!cfg_want_mapping(t->p, v, path))
        return;
    struct auth_walk w = {.t = t};
    int before = t->p->n_errors;
    cfg_walk_map_keys(t->p, v, path, authorization_key, &w, &keys);
    const char *type = w.type && *cfg_scalar(w.type) ? cfg_scalar(w.type) : "Bearer";
    if (strcasecmp(type, "basic") == 0)
        cfg_err(t->p, w.type, path, "type Basic: use basic_auth");
    else if (!http_token_ok(type))
        cfg_err(t->p, w.type, path, "type must be one word");
    if (w.cred && w.cred_file)
        cfg_err(t->p, v, path, "use credentials or credentials_file, not both");
    if (w.cred_file && (!*cfg_scalar(w.cred_file) || strchr(cfg_scalar(w.cred_file), '}')))
        cfg_err(t->p, w.cred_file, path, "credentials_file must be a file name without \"}\"");
    int hm = bbt_sub(t, t->entry, "headers", v);
    if (has_header(t, hm, "Authorization"))
        cfg_err(t->p, v, path, "a second Authorization header (headers sets one)");
    if (t->p->n_errors != before)
        return;
    struct buf b;
    buf_init(&b, CFG_MAX_FILE_BYTES * 2);
    buf_addf(&b, "%s ", type);
    if (w.cred_file) {
        buf_addf(&b, "${file:%s}", cfg_scalar(w.cred_file));
    } else if (w.cred) {
        for (const char *q = cfg_scalar(w.cred); *q; q++) {
            if (q[0] == '$' && q[1] == '{')
                buf_addc(&b, '$'); /* literal, as bbt_literal */
            buf_addc(&b, *q);
        }
    }
    const yaml_node_t *at = w.cred_file ? w.cred_file : w.cred ? w.cred : v;
    int k = bbt_scalar_tag(t, "Authorization", NULL, YAML_DOUBLE_QUOTED_SCALAR_STYLE, at);
    int val = bbt_scalar_tag(t, buf_str(&b), BB_SECRET_TAG, YAML_DOUBLE_QUOTED_SCALAR_STYLE, at);
    buf_free(&b);
    if (!hm || !k || !val || !yaml_document_append_mapping_pair(t->out, hm, k, val))
        t->nomem = true;
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
        /* Shared with `authorization`, which adds its header here. */
        int map = bbt_sub(t, t->entry, "headers", v);
        for (yaml_node_pair_t *pr = v->data.mapping.pairs.start; pr < v->data.mapping.pairs.top;
             pr++) {
            yaml_node_t *k = yaml_document_get_node(p->doc, pr->key);
            yaml_node_t *val = yaml_document_get_node(p->doc, pr->value);
            char sub[CFG_PATH_CAP];
            cfg_path_key(sub, path, k && k->type == YAML_SCALAR_NODE ? cfg_scalar(k) : "?");
            if (!k || !val || !cfg_want_scalar(p, k, path) || !cfg_want_scalar(p, val, sub))
                continue;
            if (strcasecmp(cfg_scalar(k), "Authorization") == 0 &&
                has_header(t, map, "Authorization")) {
                cfg_err(p, k, sub, "a second Authorization header (authorization sets one)");
                continue;
            }
            int kid = bbt_copy(t, k);
            /* A header value may be a credential (Authorization). */
            int vid = bbt_literal(t, val, true);
            if (!map || !kid || !vid || !yaml_document_append_mapping_pair(t->out, map, kid, vid))
                t->nomem = true;
        }
    } else if (strcmp(key, "body") == 0) {
        if (cfg_want_scalar(p, v, path))
            bbt_put(t, t->entry, "body", bbt_literal(t, v, true));
    } else if (strcmp(key, "body_size_limit") == 0) {
        http_body_size(t, v, path);
    } else if (strcmp(key, "compression") == 0) {
        /* "" and identity: no encoding, outpost's default. The http type
         * checks the name (gzip, br, deflate). */
        if (cfg_want_scalar(p, v, path) && *cfg_scalar(v) && strcmp(cfg_scalar(v), "identity"))
            bbt_put(t, t->entry, "compression", bbt_copy(t, v));
    } else if (strcmp(key, "follow_redirects") == 0) {
        w->follow = v;
    } else if (strcmp(key, "no_follow_redirects") == 0) {
        w->no_follow = v;
    } else if (strcmp(key, "fail_if_ssl") == 0 || strcmp(key, "fail_if_not_ssl") == 0) {
        bool b;
        if (cfg_get_bool(p, v, path, &b) && b)
            *(strcmp(key, "fail_if_ssl") == 0 ? &w->fail_ssl : &w->fail_not_ssl) = v;
    } else if (strcmp(key, "skip_resolve_phase_with_proxy") == 0 ||
               strcmp(key, "proxy_from_environment") == 0) {
        /* Through an HTTP proxy outpost never resolves the target itself
         * (skip_resolve_phase_with_proxy: true); without proxy_url libcurl
         * reads the *_proxy environment variables either way. */
        bool b;
        (void)cfg_get_bool(p, v, path, &b);
    } else if (strcmp(key, "enable_http2") == 0) {
        bool b;
        if (cfg_get_bool(p, v, path, &b) && !b)
            bbt_put(t, t->entry, "http2", bbt_scalar(t, "false", true, v));
    } else if (strcmp(key, "fail_if_header_matches") == 0) {
        http_header_rules(t, v, path, true);
    } else if (strcmp(key, "valid_http_versions") == 0) {
        http_versions(t, v, path);
    } else if (strcmp(key, "fail_if_body_matches_regexp") == 0) {
        bb_regex_list(t, bbt_sub(t, t->entry, "expect", v), "body_not_matches", v, path, true);
    } else if (strcmp(key, "fail_if_body_not_matches_regexp") == 0) {
        bb_regex_list(t, bbt_sub(t, t->entry, "expect", v), "body_matches", v, path, true);
    } else if (strcmp(key, "fail_if_header_not_matches") == 0) {
        http_header_rules(t, v, path, false);
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
    } else if (strcmp(key, "body_file") == 0) {
        int id = cfg_is_null(v) ? 0 : file_ref(t, v, path);
        if (id)
            bbt_put(t, t->entry, "body", id);
    } else if (strcmp(key, "authorization") == 0) {
        if (!cfg_is_null(v))
            http_authorization(t, v, path);
    } else if (strcmp(key, "proxy_url") == 0 || strcmp(key, "no_proxy") == 0) {
        /* A proxy URL may hold credentials. */
        if (!cfg_is_null(v) && cfg_want_scalar(p, v, path) && *cfg_scalar(v))
            bbt_put(t, t->entry, key, bbt_literal(t, v, key[0] == 'p'));
    } else if (strcmp(key, "oauth2") == 0 || strcmp(key, "proxy_connect_header") == 0) {
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
    if (w.fail_ssl && w.fail_not_ssl)
        cfg_err(t->p, w.fail_not_ssl, path,
                "fail_if_ssl and fail_if_not_ssl together fail every probe");
    else if (w.fail_ssl || w.fail_not_ssl)
        bbt_put(t, bbt_sub(t, t->entry, "expect", sec), "tls",
                bbt_scalar(t, w.fail_ssl ? "false" : "true", true,
                           w.fail_ssl ? w.fail_ssl : w.fail_not_ssl));
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
