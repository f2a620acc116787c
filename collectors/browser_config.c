/*
 * browser_config.c - the configuration schema of the `browser` check type:
 * the page, what it must show, the request headers and user agent the
 * browser sends, and the browser to run (global.browser, found once per
 * load: a configuration whose browser checks have no Chromium to run is
 * refused when it loads, not at every probe).
 *
 * Only what the engine (chrome.h) can do is configurable: no method, body,
 * client certificate or CA file; keys of the http type that a browser
 * check cannot honour are unknown keys with the usual hints.
 */
#include "browser_check.h"
#include "cfg_yaml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The settings, and `target` as written until finish hands it to the
 * check (the loader owns check_spec). */
struct browser_parse {
    struct browser_spec s;
    char *target;
};

const struct browser_spec *browser_spec_of(const struct check_spec *c)
{
    return &((const struct browser_parse *)c->spec)->s;
}

/* ---- keys ----
 * Each parser fills its part of obj (the parse record, or the spec inside
 * it) from node v; false after reporting why it cannot. */

static bool browser_url(struct cfg_parser *p, yaml_node_t *v, const char *path, void *obj)
{
    struct browser_parse *bp = obj;
    if (!cfg_get_url(p, v, path, &bp->s.url))
        return false;
    /* The URL may hold credentials: shown only when it holds none. */
    if (!cfg_check_http_url(p, v, path, bp->s.url))
        return false;
    free(bp->target);
    bp->target = cfg_url_target(cfg_scalar(v));
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

static bool browser_headers(struct cfg_parser *p, yaml_node_t *v, const char *path, void *obj)
{
    struct browser_spec *s = obj;
    cfg_get_string_map(p, v, path, true, header_name_why, header_value_why, &s->headers,
                       &s->n_headers, BROWSER_MAX_HEADERS);
    return true;
}

/* A string a page is asked about or sent with: not empty, no longer than
 * cap, no line breaks when single_line. */
static bool short_string(struct cfg_parser *p, yaml_node_t *v, const char *path, size_t cap,
                         bool single_line, char **out)
{
    if (!cfg_get_str(p, v, path, false, out))
        return false;
    size_t len = strlen(*out);
    if (!len)
        cfg_err(p, v, path, "must not be empty");
    else if (len > cap)
        cfg_err(p, v, path, "longer than %zu bytes", cap);
    else if (single_line && strpbrk(*out, "\r\n"))
        cfg_err(p, v, path, "must not contain line breaks");
    else
        return true;
    free(*out);
    *out = NULL;
    return false;
}

static bool browser_user_agent(struct cfg_parser *p, yaml_node_t *v, const char *path, void *obj)
{
    return short_string(p, v, path, BROWSER_MAX_USER_AGENT_BYTES, true,
                        &((struct browser_spec *)obj)->user_agent);
}

static bool tls_key(struct cfg_parser *p, const char *key, yaml_node_t *v, const char *path,
                    void *arg)
{
    struct browser_spec *s = arg;
    if (strcmp(key, "insecure_skip_verify") == 0) {
        (void)cfg_get_bool(p, v, path, &s->insecure_skip_verify);
        return true;
    }
    /* The http type's other TLS keys: known words, not slips, so they get
     * a reason instead of a hint. */
    static const char *const other[] = {"ca_file", "cert_file", "key_file", "server_name"};
    for (size_t i = 0; i < ARRAY_SIZE(other); i++)
        if (strcmp(key, other[i]) == 0) {
            cfg_err(p, v, path,
                    "not supported by type browser (Chromium verifies certificates itself; only "
                    "insecure_skip_verify can be set)");
            return true;
        }
    return false;
}

static bool browser_tls(struct cfg_parser *p, yaml_node_t *v, const char *path, void *obj)
{
    static const char *const names[] = {"insecure_skip_verify", NULL};
    static const struct cfg_keys keys = {.names = names};
    if (!cfg_want_mapping(p, v, path))
        return false;
    cfg_walk_map_keys(p, v, path, tls_key, obj, &keys);
    return true;
}

static bool expect_text(struct cfg_parser *p, yaml_node_t *v, const char *path, void *obj)
{
    return short_string(p, v, path, BROWSER_MAX_EXPECT_BYTES, false,
                        &((struct browser_spec *)obj)->text);
}

static bool expect_selector(struct cfg_parser *p, yaml_node_t *v, const char *path, void *obj)
{
    return short_string(p, v, path, BROWSER_MAX_EXPECT_BYTES, false,
                        &((struct browser_spec *)obj)->selector);
}

static bool expect_status(struct cfg_parser *p, yaml_node_t *v, const char *path, void *obj)
{
    return http_expect_status(p, v, path, &((struct browser_spec *)obj)->expect);
}

/* Offsets are into struct browser_spec (the expect map is walked with the
 * spec as its object, so text and selector land beside the rest). */
static const struct cfg_field expect_fields[] = {
    {.key = "text", .kind = CFG_CUSTOM, .parse = expect_text},
    {.key = "selector", .kind = CFG_CUSTOM, .parse = expect_selector},
    {.key = "status", .kind = CFG_CUSTOM, .parse = expect_status},
    {.key = "max_duration",
     .kind = CFG_DURATION,
     .offset =
         offsetof(struct browser_spec, expect) + offsetof(struct http_expect, max_duration_ms)},
    {0},
};

static bool browser_expect(struct cfg_parser *p, yaml_node_t *v, const char *path, void *obj)
{
    if (!cfg_want_mapping(p, v, path))
        return false;
    (void)cfg_walk_fields(p, v, path, expect_fields, obj, NULL, NULL, NULL);
    return true;
}

/* Offsets are into struct browser_parse, whose first member is the spec. */
static const struct cfg_field browser_fields[] = {
    {.key = "url", .kind = CFG_CUSTOM, .parse = browser_url},
    {.key = "headers", .kind = CFG_CUSTOM, .parse = browser_headers},
    {.key = "user_agent", .kind = CFG_CUSTOM, .parse = browser_user_agent},
    {.key = "tls", .kind = CFG_CUSTOM, .parse = browser_tls},
    {.key = "expect", .kind = CFG_CUSTOM, .parse = browser_expect},
    {0},
};

/* ---- the schema ---- */

static const struct cfg_keys browser_keys = {.fields = browser_fields};

static void *browser_new_spec(void)
{
    struct browser_parse *bp = xcalloc(1, sizeof(*bp));
    cfg_fields_default(browser_fields, &bp->s);
    return bp;
}

/* Free a string that may be a secret without leaving it in freed memory. */
static void free_secret(char *s)
{
    if (s)
        memset(s, 0, strlen(s));
    free(s);
}

static void browser_free_spec(void *spec)
{
    struct browser_parse *bp = spec;
    struct browser_spec *s = &bp->s;
    free_secret(s->url);
    free(s->text);
    free(s->selector);
    free(s->user_agent);
    for (size_t i = 0; i < s->n_headers; i++) {
        free(s->headers[i].name);
        free_secret(s->headers[i].value);
        if (s->header_lines)
            free_secret(s->header_lines[i]);
    }
    free(s->headers);
    free(s->header_lines);
    free(s->expect.status);
    free(s->executable);
    free(bp->target);
    free(bp);
}

static bool browser_key(struct cfg_parser *p, const char *key, struct yaml_node_s *v,
                        const char *path, struct check_spec *c)
{
    struct browser_parse *bp = c->spec;
    return cfg_field_apply(p, browser_fields, key, v, path, bp, &bp->s.seen);
}

/* The executable global.browser names, or the one the default search
 * finds: looked for once per load (by the first browser check), reported
 * once, at that check. */
static void find_browser(struct cfg_parser *p, const struct yaml_node_s *n, const char *path)
{
    if (p->browser_looked)
        return;
    p->browser_looked = true;
    p->browser_path = chrome_find_executable(p->browser.executable);
    /* A file linted without its secrets (--config.skip-secrets) never runs
     * here, and is often checked on a machine other than the one that
     * runs it (CI): Chromium is that machine's business. */
    if (p->browser_path || p->opts.skip_secrets)
        return;
    /* The path names the check (checks[i] "NAME"), as people search the
     * file for it. */
    char q[CFG_MAX_QUOTED + 4];
    if (p->browser.executable)
        cfg_err(p, n, path,
                "type browser needs Chromium: global.browser.executable \"%s\" is not an "
                "executable file (apt-get install chromium)",
                cfg_quote(p->browser.executable, q));
    else
        cfg_err(p, n, path,
                "type browser needs Chromium: apt-get install chromium (or set "
                "global.browser.executable)");
}

static void browser_finish(struct cfg_parser *p, const struct yaml_node_s *n, const char *path,
                           struct check_spec *c)
{
    struct browser_parse *bp = c->spec;
    struct browser_spec *s = &bp->s;
    if (!(s->seen & CFG_SEEN(cfg_field_index(browser_fields, "url"))))
        cfg_err(p, n, path, "missing key \"url\"");
    http_expect_finish(p, n, path, &s->expect, c->timeout_ms);
    for (size_t i = 0; i < s->n_headers; i++)
        if (s->user_agent && strcasecmp(s->headers[i].name, "User-Agent") == 0)
            cfg_err(p, n, path, "use either user_agent or a User-Agent header, not both");
    s->header_lines = xcalloc(s->n_headers ? s->n_headers : 1, sizeof(*s->header_lines));
    for (size_t i = 0; i < s->n_headers; i++) {
        struct buf b;
        buf_init(&b, strlen(s->headers[i].name) + strlen(s->headers[i].value) + 3);
        (void)buf_addf(&b, "%s: %s", s->headers[i].name, s->headers[i].value);
        s->header_lines[i] = buf_take(&b);
    }
    find_browser(p, n, path);
    free(s->executable);
    s->executable = p->browser_path ? xstrdup(p->browser_path) : NULL;
    s->max_concurrent = p->browser.max_concurrent;
    free(c->target);
    c->target = bp->target ? bp->target : xstrdup("");
    bp->target = NULL;
}

static uint64_t browser_identity(const struct check_spec *c)
{
    const struct browser_spec *s = browser_spec_of(c);
    return hash_str(s->url ? s->url : "");
}

const struct check_schema browser_schema = {
    .name = "browser",
    .new_spec = browser_new_spec,
    .free_spec = browser_free_spec,
    .key = browser_key,
    .keys = &browser_keys,
    .finish = browser_finish,
    .identity = browser_identity,
};
