/*
 * http_config.c - the configuration schema of the `http` check type: its
 * keys, their defaults and rules, and the `target` label.
 */
#include "cfg_yaml.h"
#include "http_check.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The settings are parsed into a struct http_spec; `target` is held here
 * until finish hands it to the check (the loader owns check_spec). */
struct http_parse {
    struct http_spec s;
    char *target;
};

const char *const http_compression_names[] = {"identity", "gzip", "br", "deflate", NULL};

const struct http_spec *http_spec_of(const struct check_spec *c)
{
    return c->spec;
}

bool http_status_ok(const struct http_expect *e, int code)
{
    for (size_t i = 0; i < e->n_status; i++)
        if (code >= e->status[i].lo && code <= e->status[i].hi)
            return true;
    return false;
}

/* ---- small rules ---- */

bool http_header_name_ok(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        /* RFC 9110 token characters. */
        if (!(c > 0x20 && c < 0x7f && !strchr("\"(),/:;<=>?@[\\]{}", c)))
            return false;
    }
    return true;
}

static const char *header_name_why(const char *key)
{
    return http_header_name_ok(key) ? NULL : "is not a valid header name";
}

static const char *header_value_why(const char *v)
{
    return strpbrk(v, "\r\n") ? "header value must not contain line breaks" : NULL;
}

/* ---- regular expressions ---- */

bool http_compile_regex(struct cfg_parser *p, const yaml_node_t *n, const char *path,
                        struct regex *re)
{
    if (!cfg_want_scalar(p, n, path))
        return false;
    int err;
    PCRE2_SIZE off;
    pcre2_code *code =
        pcre2_compile((PCRE2_SPTR)cfg_scalar(n), PCRE2_ZERO_TERMINATED, 0, &err, &off, NULL);
    if (!code) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(err, msg, sizeof(msg));
        cfg_err(p, n, path, "bad regular expression at offset %zu: %s", (size_t)off,
                (const char *)msg);
        return false;
    }
    re->pattern = xstrdup(cfg_scalar(n));
    re->code = code;
    return true;
}

static void regex_free(struct regex *re)
{
    free(re->pattern);
    pcre2_code_free(re->code);
}

static void add_regex(struct cfg_parser *p, const yaml_node_t *n, const char *path,
                      struct regex **arr, size_t *cnt)
{
    struct regex re;
    if (*cnt == HTTP_MAX_EXPECTS) {
        cfg_err(p, n, path, "more than %d patterns", HTTP_MAX_EXPECTS);
        return;
    }
    if (!http_compile_regex(p, n, path, &re))
        return;
    *arr = xrealloc(*arr, (*cnt + 1) * sizeof(**arr));
    (*arr)[(*cnt)++] = re;
}

/* A pattern or a list of patterns, appended to *arr. */
static void get_regex_list(struct cfg_parser *p, const yaml_node_t *n, const char *path,
                           struct regex **arr, size_t *cnt)
{
    if (n->type == YAML_SCALAR_NODE) {
        add_regex(p, n, path, arr, cnt);
        return;
    }
    if (!cfg_want_sequence(p, n, path))
        return;
    for (size_t i = 0; i < cfg_seq_len(n); i++) {
        char sub[CFG_PATH_CAP];
        cfg_path_index(sub, path, i);
        yaml_node_t *it = cfg_seq_item(p, n, i);
        if (it)
            add_regex(p, it, sub, arr, cnt);
    }
}

/* ---- expect ---- */

static bool parse_status_item(const char *s, struct status_range *r)
{
    long lo, hi;
    size_t len = strlen(s);
    if (len == 3 && s[0] >= '1' && s[0] <= '5' && (s[1] == 'x' || s[1] == 'X') &&
        (s[2] == 'x' || s[2] == 'X')) {
        r->lo = (s[0] - '0') * 100;
        r->hi = r->lo + 99;
        return true;
    }
    const char *dash = strchr(s, '-');
    if (dash) {
        char *a = xstrndup(s, (size_t)(dash - s));
        bool ok = cfg_parse_long(a, &lo) && cfg_parse_long(dash + 1, &hi);
        free(a);
        if (!ok)
            return false;
    } else {
        if (!cfg_parse_long(s, &lo))
            return false;
        hi = lo;
    }
    if (lo < 100 || hi > 599 || lo > hi)
        return false;
    r->lo = (int)lo;
    r->hi = (int)hi;
    return true;
}

void http_expect_finish(struct cfg_parser *p, const yaml_node_t *n, const char *path,
                        struct http_expect *e, int64_t timeout_ms)
{
    if (e->max_duration_ms > timeout_ms) {
        const yaml_node_t *md = cfg_map_value(p, cfg_map_value(p, n, "expect"), "max_duration");
        char mt[CFG_MAX_QUOTED + 4], tt[CFG_MAX_QUOTED + 4];
        cfg_err(
            p, n, path, "expect.max_duration (%s) is longer than timeout (%s), it could never fail",
            cfg_duration_text(md, e->max_duration_ms, mt), cfg_timeout_text(p, n, timeout_ms, tt));
    }
    if (!e->n_status) {
        e->status = xcalloc(1, sizeof(*e->status));
        e->status[0] = (struct status_range){200, 299};
        e->n_status = 1;
    }
}

bool http_expect_status(struct cfg_parser *p, yaml_node_t *n, const char *path, void *obj)
{
    struct http_expect *e = obj;
    const yaml_node_t *single = n->type == YAML_SCALAR_NODE ? n : NULL;
    size_t cnt = single ? 1 : 0;
    if (!single) {
        if (!cfg_want_sequence(p, n, path))
            return false;
        cnt = cfg_seq_len(n);
        if (cnt == 0) {
            cfg_err(p, n, path, "needs at least one status code or range");
            return false;
        }
        if (cnt > HTTP_MAX_EXPECTS) {
            cfg_err(p, n, path, "more than %d status codes or ranges", HTTP_MAX_EXPECTS);
            return false;
        }
    }
    struct status_range *r = xcalloc(cnt, sizeof(*r));
    for (size_t i = 0; i < cnt; i++) {
        const yaml_node_t *it = single ? single : cfg_seq_item(p, n, i);
        char sub[CFG_PATH_CAP], q[CFG_MAX_QUOTED + 4];
        if (single)
            snprintf(sub, sizeof(sub), "%s", path);
        else
            cfg_path_index(sub, path, i);
        if (!it || !cfg_want_scalar(p, it, sub))
            goto fail;
        if (!parse_status_item(cfg_scalar(it), &r[i])) {
            cfg_err(p, it, sub,
                    "\"%s\" is not a status code (100-599), a range like \"200-299\" or a class "
                    "like \"2xx\"",
                    cfg_quote(cfg_scalar(it), q));
            goto fail;
        }
    }
    free(e->status);
    e->status = r;
    e->n_status = cnt;
    return true;
fail:
    free(r);
    return false;
}

static bool expect_body_matches(struct cfg_parser *p, yaml_node_t *n, const char *path, void *obj)
{
    struct http_expect *e = obj;
    get_regex_list(p, n, path, &e->body_matches, &e->n_body_matches);
    return true;
}

static bool expect_body_not_matches(struct cfg_parser *p, yaml_node_t *n, const char *path,
                                    void *obj)
{
    struct http_expect *e = obj;
    get_regex_list(p, n, path, &e->body_not_matches, &e->n_body_not_matches);
    return true;
}

/* Where a map of expected headers goes: one of http_expect's lists. */
struct header_list {
    struct header_expect **arr;
    size_t *n;
};

static bool expect_header_key(struct cfg_parser *p, const char *key, yaml_node_t *v,
                              const char *path, void *arg)
{
    struct header_list *l = arg;
    char q[CFG_MAX_QUOTED + 4];
    if (!http_header_name_ok(key)) {
        cfg_err(p, v, path, "\"%s\" is not a valid header name", cfg_quote(key, q));
        return true;
    }
    if (*l->n == HTTP_MAX_HEADERS) {
        cfg_err(p, v, path, "more than %d expected headers", HTTP_MAX_HEADERS);
        return true;
    }
    struct regex re;
    if (http_compile_regex(p, v, path, &re)) {
        *l->arr = xrealloc(*l->arr, (*l->n + 1) * sizeof(**l->arr));
        (*l->arr)[*l->n].name = xstrdup(key);
        (*l->arr)[*l->n].re = re;
        (*l->n)++;
    }
    return true;
}

static bool header_map(struct cfg_parser *p, yaml_node_t *n, const char *path,
                       struct header_list *l)
{
    if (!cfg_want_mapping(p, n, path))
        return false;
    cfg_walk_map(p, n, path, expect_header_key, l);
    return true;
}

static bool expect_headers(struct cfg_parser *p, yaml_node_t *n, const char *path, void *obj)
{
    struct http_expect *e = obj;
    struct header_list l = {&e->headers, &e->n_headers};
    return header_map(p, n, path, &l);
}

static bool expect_headers_if_present(struct cfg_parser *p, yaml_node_t *n, const char *path,
                                      void *obj)
{
    struct http_expect *e = obj;
    struct header_list l = {&e->headers_if_present, &e->n_headers_if_present};
    return header_map(p, n, path, &l);
}

static bool expect_headers_not_matches(struct cfg_parser *p, yaml_node_t *n, const char *path,
                                       void *obj)
{
    struct http_expect *e = obj;
    struct header_list l = {&e->headers_not_matches, &e->n_headers_not_matches};
    return header_map(p, n, path, &l);
}

bool http_json_path_parse(const char *s, struct json_expect *j)
{
    const char *q = s;
    if (!*q)
        return false;
    while (*q) {
        struct json_step st = {NULL, 0};
        if (*q == '[') {
            q++;
            if (*q < '0' || *q > '9')
                return false;
            char *end;
            errno = 0;
            st.index = strtol(q, &end, 10);
            if (errno || *end != ']')
                return false;
            q = end + 1;
        } else {
            const char *start = q;
            while (*q && *q != '.' && *q != '[')
                q++;
            if (q == start)
                return false;
            st.key = xstrndup(start, (size_t)(q - start));
        }
        j->steps = xrealloc(j->steps, (j->n_steps + 1) * sizeof(*j->steps));
        j->steps[j->n_steps++] = st;
        if (*q == '.') {
            q++;
            if (!*q || *q == '.' || *q == '[')
                return false;
        } else if (*q && *q != '[') {
            return false;
        }
    }
    return true;
}

void http_json_expect_free(struct json_expect *j)
{
    free(j->path);
    for (size_t i = 0; i < j->n_steps; i++)
        free(j->steps[i].key);
    free(j->steps);
    free(j->equals);
}

struct json_parse {
    struct json_expect *j;
    bool has_path, has_op;
};

static bool json_key(struct cfg_parser *p, const char *key, yaml_node_t *v, const char *path,
                     void *arg)
{
    struct json_parse *jp = arg;
    char q[CFG_MAX_QUOTED + 4];
    if (strcmp(key, "path") == 0) {
        if (!cfg_want_scalar(p, v, path))
            return true;
        jp->has_path = true;
        jp->j->path = xstrdup(cfg_scalar(v));
        if (!http_json_path_parse(cfg_scalar(v), jp->j))
            cfg_err(p, v, path, "\"%s\" is not a JSON path (use a.b[0].c)",
                    cfg_quote(cfg_scalar(v), q));
    } else if (strcmp(key, "equals") == 0 || strcmp(key, "exists") == 0) {
        if (jp->has_op) {
            cfg_err(p, v, path, "use either equals or exists, not both");
            return true;
        }
        jp->has_op = true;
        if (key[1] == 'x') {
            jp->j->is_exists = true;
            (void)cfg_get_bool(p, v, path, &jp->j->exists);
        } else if (cfg_want_scalar(p, v, path)) {
            jp->j->equals = xstrdup(cfg_scalar(v));
            jp->j->equals_quoted = !cfg_is_plain(v);
        }
    } else {
        return false;
    }
    return true;
}

static bool expect_json(struct cfg_parser *p, yaml_node_t *n, const char *path, void *obj)
{
    struct http_expect *e = obj;
    if (!cfg_want_sequence(p, n, path))
        return false;
    if (cfg_seq_len(n) > HTTP_MAX_EXPECTS) {
        cfg_err(p, n, path, "more than %d JSON expectations", HTTP_MAX_EXPECTS);
        return false;
    }
    for (size_t i = 0; i < cfg_seq_len(n); i++) {
        char sub[CFG_PATH_CAP];
        cfg_path_index(sub, path, i);
        yaml_node_t *it = cfg_seq_item(p, n, i);
        if (!it || !cfg_want_mapping(p, it, sub))
            continue;
        struct json_expect j = {0};
        struct json_parse jp = {&j, false, false};
        int before = p->n_errors;
        static const char *const names[] = {"path", "equals", "exists", NULL};
        static const struct cfg_keys keys = {.names = names};
        cfg_walk_map_keys(p, it, sub, json_key, &jp, &keys);
        if (!jp.has_path)
            cfg_err(p, it, sub, "missing key \"path\"");
        if (!jp.has_op)
            cfg_err(p, it, sub, "needs \"equals\" or \"exists\"");
        if (p->n_errors != before) {
            http_json_expect_free(&j);
            continue;
        }
        e->json = xrealloc(e->json, (e->n_json + 1) * sizeof(*e->json));
        e->json[e->n_json++] = j;
    }
    return true;
}

static bool expect_tls(struct cfg_parser *p, yaml_node_t *n, const char *path, void *obj)
{
    struct http_expect *e = obj;
    bool b;
    if (!cfg_get_bool(p, n, path, &b))
        return false;
    e->tls = b ? 1 : -1;
    return true;
}

/* The versions a status line can have, as libcurl's HTTP versions. */
static bool http_version_parse(const char *s, double *v)
{
    static const struct {
        const char *text;
        double v;
    } known[] = {{"1.0", 1.0}, {"1.1", 1.1}, {"2", 2}, {"2.0", 2}, {"3", 3}, {"3.0", 3}};
    for (size_t i = 0; i < ARRAY_SIZE(known); i++)
        if (strcmp(s, known[i].text) == 0) {
            *v = known[i].v;
            return true;
        }
    return false;
}

static bool expect_http_versions(struct cfg_parser *p, yaml_node_t *n, const char *path, void *obj)
{
    struct http_expect *e = obj;
    if (!cfg_want_sequence(p, n, path))
        return false;
    size_t cnt = cfg_seq_len(n);
    if (cnt == 0 || cnt > 8) {
        cfg_err(p, n, path, "needs 1 to 8 versions");
        return false;
    }
    double *v = xcalloc(cnt, sizeof(*v));
    for (size_t i = 0; i < cnt; i++) {
        char sub[CFG_PATH_CAP], q[CFG_MAX_QUOTED + 4];
        cfg_path_index(sub, path, i);
        yaml_node_t *it = cfg_seq_item(p, n, i);
        if (!it || !cfg_want_scalar(p, it, sub))
            goto fail;
        if (!http_version_parse(cfg_scalar(it), &v[i])) {
            cfg_err(p, it, sub, "\"%s\" is not an HTTP version (1.0, 1.1, 2 or 3)",
                    cfg_quote(cfg_scalar(it), q));
            goto fail;
        }
    }
    free(e->http_versions);
    e->http_versions = v;
    e->n_http_versions = cnt;
    return true;
fail:
    free(v);
    return false;
}

static const struct cfg_field expect_fields[] = {
    {.key = "status", .kind = CFG_CUSTOM, .parse = http_expect_status},
    {.key = "body_matches", .kind = CFG_CUSTOM, .parse = expect_body_matches},
    {.key = "body_not_matches", .kind = CFG_CUSTOM, .parse = expect_body_not_matches},
    {.key = "headers", .kind = CFG_CUSTOM, .parse = expect_headers},
    {.key = "headers_if_present", .kind = CFG_CUSTOM, .parse = expect_headers_if_present},
    {.key = "headers_not_matches", .kind = CFG_CUSTOM, .parse = expect_headers_not_matches},
    {.key = "json", .kind = CFG_CUSTOM, .parse = expect_json},
    {.key = "tls", .kind = CFG_CUSTOM, .parse = expect_tls},
    {.key = "http_versions", .kind = CFG_CUSTOM, .parse = expect_http_versions},
    {.key = "max_duration",
     .kind = CFG_DURATION,
     .offset = offsetof(struct http_expect, max_duration_ms)},
    {0},
};

static void header_list_free(struct header_expect *h, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(h[i].name);
        regex_free(&h[i].re);
    }
    free(h);
}

static void expect_free(struct http_expect *e)
{
    free(e->status);
    for (size_t i = 0; i < e->n_body_matches; i++)
        regex_free(&e->body_matches[i]);
    free(e->body_matches);
    for (size_t i = 0; i < e->n_body_not_matches; i++)
        regex_free(&e->body_not_matches[i]);
    free(e->body_not_matches);
    free(e->http_versions);
    header_list_free(e->headers, e->n_headers);
    header_list_free(e->headers_if_present, e->n_headers_if_present);
    header_list_free(e->headers_not_matches, e->n_headers_not_matches);
    for (size_t i = 0; i < e->n_json; i++)
        http_json_expect_free(&e->json[i]);
    free(e->json);
}

/* ---- tls ---- */

/* ---- the check's own keys ---- */

static bool http_url(struct cfg_parser *p, yaml_node_t *v, const char *path, void *obj)
{
    struct http_parse *hp = obj;
    if (!cfg_get_url(p, v, path, &hp->s.url))
        return false;
    /* A flow's step may hold captures: the URL with sample values in
     * their place must be valid (what a value makes of it is the run's). */
    char *sample = p->capture_ref ? cfg_capture_sample(hp->s.url) : NULL;
    bool ok = cfg_check_http_url(p, v, path, sample ? sample : hp->s.url);
    free(sample);
    if (!ok)
        return false;
    free(hp->target);
    hp->target = cfg_url_target(cfg_scalar(v));
    return true;
}

static bool http_proxy(struct cfg_parser *p, yaml_node_t *v, const char *path, void *obj)
{
    struct http_spec *s = obj;
    if (!cfg_get_url(p, v, path, &s->proxy_url))
        return false;
    /* The URL may hold credentials: shown only when it holds none. */
    return cfg_check_http_url(p, v, path, s->proxy_url);
}

static bool http_method(struct cfg_parser *p, yaml_node_t *v, const char *path, void *obj)
{
    struct http_spec *s = obj;
    char q[CFG_MAX_QUOTED + 4];
    if (!cfg_get_str(p, v, path, false, &s->method))
        return false;
    if (http_header_name_ok(s->method))
        return true;
    cfg_err(p, v, path, "\"%s\" is not an HTTP method", cfg_quote(s->method, q));
    return false;
}

static bool http_headers(struct cfg_parser *p, yaml_node_t *v, const char *path, void *obj)
{
    struct http_spec *s = obj;
    cfg_get_string_map(p, v, path, true, header_name_why, header_value_why, &s->headers,
                       &s->n_headers, HTTP_MAX_HEADERS);
    return true;
}

static bool http_bearer(struct cfg_parser *p, yaml_node_t *v, const char *path, void *obj)
{
    struct http_spec *s = obj;
    if (!cfg_get_str(p, v, path, true, &s->bearer_token))
        return false;
    if (!strpbrk(s->bearer_token, "\r\n"))
        return true;
    cfg_err(p, v, path, "bearer token must not contain line breaks");
    return false;
}

struct basic_auth {
    struct http_spec *s;
    bool has_user, has_pass;
};

static bool basic_auth_key(struct cfg_parser *p, const char *key, yaml_node_t *v, const char *path,
                           void *arg)
{
    struct basic_auth *ba = arg;
    if (strcmp(key, "username") == 0) {
        /* Present even if it fails to resolve: that error is enough. */
        ba->has_user = true;
        (void)cfg_get_str(p, v, path, true, &ba->s->basic_user);
    } else if (strcmp(key, "password") == 0) {
        ba->has_pass = cfg_get_str(p, v, path, true, &ba->s->basic_pass);
    } else {
        return false;
    }
    return true;
}

static bool http_basic_auth(struct cfg_parser *p, yaml_node_t *v, const char *path, void *obj)
{
    static const char *const names[] = {"username", "password", NULL};
    static const struct cfg_keys keys = {.names = names};
    struct basic_auth ba = {obj, false, false};
    if (!cfg_want_mapping(p, v, path))
        return false;
    cfg_walk_map_keys(p, v, path, basic_auth_key, &ba, &keys);
    if (!ba.has_user)
        cfg_err(p, v, path, "missing key \"username\"");
    if (!ba.has_pass) {
        /* basic_auth without a password sends an empty one. */
        free(ba.s->basic_pass);
        ba.s->basic_pass = xstrdup("");
    }
    return true;
}

/* The value of key in the mapping map, NULL when absent. */
static bool http_tls(struct cfg_parser *p, yaml_node_t *v, const char *path, void *obj)
{
    return tls_spec_parse(p, v, path, &((struct http_spec *)obj)->tls);
}

static bool http_expect(struct cfg_parser *p, yaml_node_t *v, const char *path, void *obj)
{
    struct http_spec *s = obj;
    if (!cfg_want_mapping(p, v, path))
        return false;
    (void)cfg_walk_fields(p, v, path, expect_fields, &s->expect, NULL, NULL, NULL);
    return true;
}

/* Offsets are into struct http_parse, whose first member is the spec. */
static const struct cfg_field http_fields[] = {
    {.key = "url", .kind = CFG_CUSTOM, .parse = http_url},
    {.key = "method", .kind = CFG_CUSTOM, .parse = http_method},
    {.key = "headers", .kind = CFG_CUSTOM, .parse = http_headers},
    {.key = "body", .kind = CFG_SECRET, .offset = offsetof(struct http_spec, body)},
    {.key = "follow_redirects",
     .kind = CFG_BOOL,
     .offset = offsetof(struct http_spec, follow_redirects),
     .def_i = 1},
    {.key = "ip_protocol",
     .kind = CFG_ENUM,
     .offset = offsetof(struct http_spec, ip_protocol),
     .names = tls_ip_proto_names,
     .def_i = IP_PROTO_AUTO},
    {.key = "reuse_connection",
     .kind = CFG_BOOL,
     .offset = offsetof(struct http_spec, reuse_connection)},
    {.key = "basic_auth", .kind = CFG_CUSTOM, .parse = http_basic_auth},
    {.key = "bearer_token", .kind = CFG_CUSTOM, .parse = http_bearer},
    {.key = "tls", .kind = CFG_CUSTOM, .parse = http_tls},
    {.key = "max_body_bytes",
     .kind = CFG_SIZE,
     .offset = offsetof(struct http_spec, max_body_bytes),
     .def_i = HTTP_DEFAULT_MAX_BODY_BYTES},
    {.key = "proxy_url", .kind = CFG_CUSTOM, .parse = http_proxy},
    {.key = "no_proxy", .kind = CFG_STR, .offset = offsetof(struct http_spec, no_proxy)},
    {.key = "http2", .kind = CFG_BOOL, .offset = offsetof(struct http_spec, http2), .def_i = 1},
    {.key = "compression",
     .kind = CFG_ENUM,
     .offset = offsetof(struct http_spec, compression),
     .names = http_compression_names},
    {.key = "expect", .kind = CFG_CUSTOM, .parse = http_expect},
    {0},
};

/* ---- the schema ---- */

static const struct cfg_keys http_keys = {.fields = http_fields};

static void *http_new_spec(void)
{
    struct http_parse *hp = xcalloc(1, sizeof(*hp));
    cfg_fields_default(http_fields, &hp->s);
    hp->s.method = xstrdup("GET");
    return hp;
}

static void http_free_spec(void *spec)
{
    struct http_parse *hp = spec;
    struct http_spec *s = &hp->s;
    free(s->url);
    free(s->method);
    for (size_t i = 0; i < s->n_headers; i++) {
        free(s->headers[i].name);
        /* Values may be secrets: do not leave them in freed memory. */
        if (s->headers[i].value)
            memset(s->headers[i].value, 0, strlen(s->headers[i].value));
        free(s->headers[i].value);
    }
    free(s->headers);
    free(s->body);
    free(s->basic_user);
    free(s->basic_pass);
    free(s->bearer_token);
    free(s->proxy_url);
    free(s->no_proxy);
    tls_spec_free(&s->tls);
    expect_free(&s->expect);
    free(hp->target);
    free(hp);
}

static bool http_key(struct cfg_parser *p, const char *key, struct yaml_node_s *v, const char *path,
                     struct check_spec *c)
{
    struct http_parse *hp = c->spec;
    /* `url` needs the parse record (for the target); the rest the spec,
     * which is its first member. */
    return cfg_field_apply(p, http_fields, key, v, path, hp, &hp->s.seen);
}

static bool has_header(const struct http_spec *s, const char *name)
{
    for (size_t i = 0; i < s->n_headers; i++)
        if (strcasecmp(s->headers[i].name, name) == 0)
            return true;
    return false;
}

static void http_finish(struct cfg_parser *p, const struct yaml_node_s *n, const char *path,
                        struct check_spec *c)
{
    struct http_parse *hp = c->spec;
    struct http_spec *s = &hp->s;
    if (!(s->seen & CFG_SEEN(cfg_field_index(http_fields, "url"))))
        cfg_err(p, n, path, "missing key \"url\"");
    http_expect_finish(p, n, path, &s->expect, c->timeout_ms);
    int auths =
        (s->basic_user != NULL) + (s->bearer_token != NULL) + has_header(s, "Authorization");
    if (auths > 1)
        cfg_err(p, n, path, "use only one of basic_auth, bearer_token and an Authorization header");
    /* Also for http:// URLs: a redirect may lead to https. */
    tls_spec_finish(p, n, path, &s->tls);
    free(c->target);
    c->target = hp->target;
    hp->target = NULL;
}

static uint64_t http_identity(const struct check_spec *c)
{
    const struct http_spec *s = http_spec_of(c);
    uint64_t h = hash_mem(s->method, strlen(s->method) + 1);
    return hash_mem_from(h, s->url, strlen(s->url) + 1);
}

const struct check_schema http_schema = {
    .name = "http",
    .new_spec = http_new_spec,
    .free_spec = http_free_spec,
    .key = http_key,
    .keys = &http_keys,
    .finish = http_finish,
    .identity = http_identity,
};
