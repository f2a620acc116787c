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

/* valid_http_versions (Go's resp.Proto: "HTTP/1.1", "HTTP/2.0") as
 * expect.http_versions (1.1, 2). */
static void http_versions(struct bb_walk *w, const struct bb_row *r, yaml_node_t *v,
                          const char *path)
{
    (void)r;
    struct bb_tr *t = w->t;
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

static const struct bb_row basic_auth_rows[] = {
    {.key = "username", .act = BB_LITERAL},
    {.key = "password", .act = BB_LITERAL, .flags = BB_SECRET},
    {.key = "password_file", .act = BB_FILE, .to = "password"},
    {0}};

static void http_basic_auth(struct bb_walk *hw, const struct bb_row *r, yaml_node_t *v,
                            const char *path)
{
    (void)r;
    struct bb_tr *t = hw->t;
    if (!cfg_want_mapping(t->p, v, path))
        return;
    struct bb_walk w = {.t = t, .map = bbt_map(t, v), .rows = basic_auth_rows};
    int before = t->p->n_errors;
    bb_walk(&w, v, path);
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
static void http_body_size(struct bb_walk *w, const struct bb_row *r, yaml_node_t *v,
                           const char *path)
{
    (void)r;
    struct bb_tr *t = w->t;
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

/* A boolean, kept when true. */
static void keep_true(struct bb_walk *w, const struct bb_row *r, yaml_node_t *v, const char *path)
{
    bool b;
    if (cfg_get_bool(w->t->p, v, path, &b) && b)
        bb_keep(w, r, v);
}

static const struct bb_row header_rule_rows[] = {
    {.key = "header", .act = BB_KEEP},
    {.key = "regexp", .act = BB_KEEP},
    {.key = "allow_missing", .act = BB_FN, .fn = keep_true},
    {0}};

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
static void http_header_rules(struct bb_walk *w, const struct bb_row *r, yaml_node_t *v,
                              const char *path)
{
    struct bb_tr *t = w->t;
    bool forbid = r->on;
    if (cfg_is_null(v) || !cfg_want_sequence(t->p, v, path))
        return;
    for (size_t i = 0; i < cfg_seq_len(v); i++) {
        char sub[CFG_PATH_CAP];
        cfg_path_index(sub, path, i);
        yaml_node_t *it = cfg_seq_item(t->p, v, i);
        if (!it || !cfg_want_mapping(t->p, it, sub))
            continue;
        int before = t->p->n_errors;
        struct bb_walk hw = {.t = t, .rows = header_rule_rows};
        bb_walk(&hw, it, sub);
        const yaml_node_t *hn = bb_kept(&hw, "header"), *rn = bb_kept(&hw, "regexp");
        bool allow_missing = bb_kept(&hw, "allow_missing") != NULL;
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

static const struct bb_row auth_rows[] = {{.key = "type", .act = BB_KEEP},
                                          {.key = "credentials", .act = BB_KEEP},
                                          {.key = "credentials_file", .act = BB_KEEP},
                                          {0}};

/* Prometheus' authorization {type, credentials, credentials_file} as the
 * header "Authorization: TYPE CREDENTIALS" (type Bearer by default); a
 * credentials_file is a ${file:} reference, read at load. */
static void http_authorization(struct bb_walk *hw, const struct bb_row *r, yaml_node_t *v,
                               const char *path)
{
    (void)r;
    struct bb_tr *t = hw->t;
    if (!cfg_want_mapping(t->p, v, path))
        return;
    struct bb_walk aw = {.t = t, .rows = auth_rows};
    int before = t->p->n_errors;
    bb_walk(&aw, v, path);
    const yaml_node_t *tn = bb_kept(&aw, "type"), *cred = bb_kept(&aw, "credentials");
    const yaml_node_t *cred_file = bb_kept(&aw, "credentials_file");
    const char *type = tn && *cfg_scalar(tn) ? cfg_scalar(tn) : "Bearer";
    if (strcasecmp(type, "basic") == 0)
        cfg_err(t->p, tn, path, "type Basic: use basic_auth");
    else if (!http_token_ok(type))
        cfg_err(t->p, tn, path, "type must be one word");
    if (cred && cred_file)
        cfg_err(t->p, v, path, "use credentials or credentials_file, not both");
    if (cred_file && (!*cfg_scalar(cred_file) || strchr(cfg_scalar(cred_file), '}')))
        cfg_err(t->p, cred_file, path, "credentials_file must be a file name without \"}\"");
    int hm = bbt_sub(t, t->entry, "headers", v);
    if (has_header(t, hm, "Authorization"))
        cfg_err(t->p, v, path, "a second Authorization header (headers sets one)");
    if (t->p->n_errors != before)
        return;
    struct buf b;
    buf_init(&b, CFG_MAX_FILE_BYTES * 2);
    buf_addf(&b, "%s ", type);
    if (cred_file) {
        buf_addf(&b, "${file:%s}", cfg_scalar(cred_file));
    } else if (cred) {
        for (const char *q = cfg_scalar(cred); *q; q++) {
            if (q[0] == '$' && q[1] == '{')
                buf_addc(&b, '$'); /* literal, as bbt_literal */
            buf_addc(&b, *q);
        }
    }
    const yaml_node_t *at = cred_file ? cred_file : cred ? cred : v;
    int k = bbt_scalar_tag(t, "Authorization", NULL, YAML_DOUBLE_QUOTED_SCALAR_STYLE, at);
    int val = bbt_scalar_tag(t, buf_str(&b), BB_SECRET_TAG, YAML_DOUBLE_QUOTED_SCALAR_STYLE, at);
    buf_free(&b);
    if (!hm || !k || !val || !yaml_document_append_mapping_pair(t->out, hm, k, val))
        t->nomem = true;
}

/* headers, shared with `authorization`, which adds its header too. */
static void http_headers(struct bb_walk *w, const struct bb_row *r, yaml_node_t *v,
                         const char *path)
{
    (void)r;
    struct bb_tr *t = w->t;
    struct cfg_parser *p = t->p;
    if (!cfg_want_mapping(p, v, path))
        return;
    int map = bbt_sub(t, t->entry, "headers", v);
    for (yaml_node_pair_t *pr = v->data.mapping.pairs.start; pr < v->data.mapping.pairs.top; pr++) {
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
}

/* "" and identity: no encoding, outpost's default. The http type checks
 * the name (gzip, br, deflate). */
static void http_compression(struct bb_walk *w, const struct bb_row *r, yaml_node_t *v,
                             const char *path)
{
    if (cfg_want_scalar(w->t->p, v, path) && *cfg_scalar(v) && strcmp(cfg_scalar(v), "identity"))
        bbt_put(w->t, w->map, r->key, bbt_copy(w->t, v));
}

static void http_enable_http2(struct bb_walk *w, const struct bb_row *r, yaml_node_t *v,
                              const char *path)
{
    (void)r;
    bool b;
    if (cfg_get_bool(w->t->p, v, path, &b) && !b)
        bbt_put(w->t, w->map, "http2", bbt_scalar(w->t, "false", true, v));
}

static void http_tls_config(struct bb_walk *w, const struct bb_row *r, yaml_node_t *v,
                            const char *path)
{
    (void)r;
    int m = bb_tls_map(w->t, v, path);
    if (m)
        bbt_put(w->t, w->map, "tls", m);
}

/* Through an HTTP proxy outpost never resolves the target itself
 * (skip_resolve_phase_with_proxy: true); without proxy_url libcurl reads
 * the *_proxy environment variables either way (proxy_from_environment). */
static const struct bb_row http_rows[] = {
    /* [] means blackbox's default, 2xx: outpost's default too. */
    {.key = "valid_status_codes", .act = BB_LIST, .to = "status", .under = "expect"},
    {.key = "valid_http_versions", .act = BB_FN, .fn = http_versions},
    {.key = "method", .act = BB_COPY},
    {.key = "headers", .act = BB_FN, .flags = BB_NULL_OK, .fn = http_headers},
    {.key = "body", .act = BB_LITERAL, .flags = BB_SECRET},
    {.key = "body_size_limit", .act = BB_FN, .fn = http_body_size},
    {.key = "compression", .act = BB_FN, .fn = http_compression},
    {.key = "follow_redirects", .act = BB_KEEP, .flags = BB_ANY},
    {.key = "no_follow_redirects", .act = BB_KEEP, .flags = BB_ANY},
    {.key = "fail_if_ssl", .act = BB_FN, .fn = keep_true},
    {.key = "fail_if_not_ssl", .act = BB_FN, .fn = keep_true},
    {.key = "fail_if_body_matches_regexp",
     .act = BB_GO_LIST,
     .to = "body_not_matches",
     .under = "expect"},
    {.key = "fail_if_body_not_matches_regexp",
     .act = BB_GO_LIST,
     .to = "body_matches",
     .under = "expect"},
    {.key = "fail_if_header_matches", .act = BB_FN, .on = true, .fn = http_header_rules},
    {.key = "fail_if_header_not_matches", .act = BB_FN, .on = false, .fn = http_header_rules},
    {.key = "tls_config", .act = BB_FN, .flags = BB_NULL_OK, .fn = http_tls_config},
    {.key = "basic_auth", .act = BB_FN, .flags = BB_NULL_OK, .fn = http_basic_auth},
    /* A token, a proxy URL may hold credentials. */
    {.key = "bearer_token", .act = BB_LITERAL, .flags = BB_NONEMPTY | BB_SECRET},
    {.key = "bearer_token_file", .act = BB_FILE, .to = "bearer_token"},
    {.key = "proxy_url", .act = BB_LITERAL, .flags = BB_NULL_OK | BB_NONEMPTY | BB_SECRET},
    {.key = "skip_resolve_phase_with_proxy", .act = BB_BOOL},
    {.key = "oauth2", .act = BB_UNSUPPORTED, .flags = BB_NULL_OK},
    {.key = "enable_http2", .act = BB_FN, .fn = http_enable_http2},
    BB_IP_ROWS,
    {.key = "authorization", .act = BB_FN, .flags = BB_NULL_OK, .fn = http_authorization},
    {.key = "no_proxy", .act = BB_LITERAL, .flags = BB_NULL_OK | BB_NONEMPTY},
    {.key = "proxy_from_environment", .act = BB_BOOL},
    {.key = "proxy_connect_header", .act = BB_UNSUPPORTED, .flags = BB_NULL_OK},
    {.key = "body_file", .act = BB_FILE, .to = "body", .flags = BB_NULL_OK},
    {0}};

void bb_translate_http(struct bb_tr *t, const yaml_node_t *sec, const yaml_node_t *at,
                       const char *path)
{
    struct bb_walk w = {.t = t, .map = t->entry, .rows = http_rows};
    if (sec)
        bb_walk(&w, sec, path);
    const yaml_node_t *fail_ssl = bb_kept(&w, "fail_if_ssl");
    const yaml_node_t *fail_not_ssl = bb_kept(&w, "fail_if_not_ssl");
    const yaml_node_t *follow_v = bb_kept(&w, "follow_redirects");
    const yaml_node_t *no_follow = bb_kept(&w, "no_follow_redirects");
    if (fail_ssl && fail_not_ssl)
        cfg_err(t->p, fail_not_ssl, path,
                "fail_if_ssl and fail_if_not_ssl together fail every probe");
    else if (fail_ssl || fail_not_ssl)
        bbt_put(
            t, bbt_sub(t, t->entry, "expect", sec), "tls",
            bbt_scalar(t, fail_ssl ? "false" : "true", true, fail_ssl ? fail_ssl : fail_not_ssl));
    /* blackbox 0.23 reads both; no_follow_redirects wins. */
    bool follow = true, b;
    const yaml_node_t *fa = NULL;
    if (follow_v && cfg_get_bool(t->p, follow_v, path, &b)) {
        follow = b;
        fa = follow_v;
    }
    if (no_follow && cfg_get_bool(t->p, no_follow, path, &b)) {
        follow = !b;
        fa = no_follow;
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
