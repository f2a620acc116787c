/* webcfg.c - the exporter-toolkit web config (webcfg.h). */
#include "webcfg.h"
#include "cfg_compose.h"
#include "cfg_yaml.h"
#include "webauth.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What the walk collects before the rules across keys are checked. */
struct webcfg_parse {
    struct webcfg *c;
    const char *dir; /* the file's directory: "" when the name has none, "/" */
    yaml_node_t *tls, *users, *http;
    /* tls_server_config */
    char *cert_file, *key_file, *client_ca_file;
    const yaml_node_t *cert_node, *key_node, *ca_node, *auth_node;
    enum webtls_client_auth client_auth;
    enum webtls_version min_version;
    bool any_tls_key;
};

/* exporter-toolkit keys outpost does not implement, and why. */
static const struct {
    const char *section, *key, *why;
} unsupported[] = {
    {"tls_server_config", "cipher_suites", "GnuTLS chooses the cipher suites"},
    {"tls_server_config", "curve_preferences", "GnuTLS chooses the curves"},
    {"tls_server_config", "max_version", "TLS 1.3 is always offered"},
    {"tls_server_config", "prefer_server_cipher_suites", "GnuTLS chooses the cipher suites"},
    {"http_server_config", "http2", "outpost serves HTTP/1.1"},
};

static bool unsupported_key(struct cfg_parser *p, const char *section, const char *key,
                            const yaml_node_t *v, const char *path)
{
    for (size_t i = 0; i < ARRAY_SIZE(unsupported); i++) {
        if (strcmp(unsupported[i].section, section) == 0 && strcmp(unsupported[i].key, key) == 0) {
            cfg_err(p, v, path, "an exporter-toolkit setting outpost does not support (%s)",
                    unsupported[i].why);
            return true;
        }
    }
    return false;
}

/* A string setting; null or "" leave *out NULL. A relative path is joined
 * to the file's directory. */
static bool get_path(struct webcfg_parse *wp, struct cfg_parser *p, const yaml_node_t *v,
                     const char *path, char **out)
{
    if (cfg_is_null(v) || !cfg_want_scalar(p, v, path))
        return true;
    const char *s = cfg_scalar(v);
    if (!*s)
        return true;
    free(*out);
    if (s[0] == '/' || !*wp->dir) {
        *out = xstrdup(s);
    } else {
        const char *d = strcmp(wp->dir, "/") == 0 ? "" : wp->dir;
        size_t n = strlen(d) + 1 + strlen(s) + 1;
        *out = xmalloc(n);
        snprintf(*out, n, "%s/%s", d, s);
    }
    return true;
}

static bool tls_key(struct cfg_parser *p, const char *key, yaml_node_t *v, const char *path,
                    void *arg)
{
    struct webcfg_parse *wp = arg;
    char q[CFG_MAX_QUOTED + 4];
    if (strcmp(key, "cert_file") == 0) {
        wp->cert_node = v;
        return get_path(wp, p, v, path, &wp->cert_file);
    }
    if (strcmp(key, "key_file") == 0) {
        wp->key_node = v;
        return get_path(wp, p, v, path, &wp->key_file);
    }
    if (strcmp(key, "client_ca_file") == 0) {
        wp->ca_node = v;
        return get_path(wp, p, v, path, &wp->client_ca_file);
    }
    if (strcmp(key, "client_auth_type") == 0) {
        if (cfg_is_null(v) || !cfg_want_scalar(p, v, path) || !*cfg_scalar(v))
            return true;
        wp->auth_node = v;
        const char *s = cfg_scalar(v);
        for (int a = WEBTLS_NO_CLIENT_CERT; a <= WEBTLS_REQUIRE_AND_VERIFY_CLIENT_CERT; a++) {
            if (strcmp(s, webtls_client_auth_name((enum webtls_client_auth)a)) == 0) {
                wp->client_auth = (enum webtls_client_auth)a;
                return true;
            }
        }
        if (strcmp(s, "RequireClientCert") == 0)
            cfg_err(p, v, path, "\"RequireClientCert\" is the old name of RequireAnyClientCert");
        else
            cfg_err(p, v, path,
                    "unknown value \"%s\" (NoClientCert, RequestClientCert, RequireAnyClientCert, "
                    "VerifyClientCertIfGiven or RequireAndVerifyClientCert)",
                    cfg_quote(s, q));
        return true;
    }
    if (strcmp(key, "min_version") == 0) {
        if (cfg_is_null(v) || !cfg_want_scalar(p, v, path))
            return true;
        const char *s = cfg_scalar(v);
        if (strcmp(s, "TLS12") == 0)
            wp->min_version = WEBTLS_TLS12;
        else if (strcmp(s, "TLS13") == 0)
            wp->min_version = WEBTLS_TLS13;
        else if (strcmp(s, "TLS10") == 0 || strcmp(s, "TLS11") == 0)
            cfg_err(p, v, path, "%s is not supported by outpost (TLS12 or TLS13)", s);
        else
            cfg_err(p, v, path, "unknown value \"%s\" (TLS12 or TLS13)", cfg_quote(s, q));
        return true;
    }
    return unsupported_key(p, "tls_server_config", key, v, path);
}

/* The rules across the TLS keys, then the files themselves. */
static void finish_tls(struct webcfg_parse *wp, struct cfg_parser *p)
{
    const char *path = "tls_server_config";
    if (!wp->any_tls_key)
        return; /* absent or empty: plain HTTP */
    if (!wp->cert_file)
        cfg_err(p, wp->tls, path, "missing cert_file");
    if (!wp->key_file)
        cfg_err(p, wp->tls, path, "missing key_file");
    bool verifies = wp->client_auth == WEBTLS_VERIFY_CLIENT_CERT_IF_GIVEN ||
                    wp->client_auth == WEBTLS_REQUIRE_AND_VERIFY_CLIENT_CERT;
    if (wp->client_ca_file && wp->client_auth == WEBTLS_NO_CLIENT_CERT)
        cfg_err(p, wp->ca_node, "tls_server_config.client_ca_file",
                "given without a client_auth_type that asks for client certificates");
    if (verifies && !wp->client_ca_file)
        cfg_err(p, wp->auth_node, "tls_server_config.client_auth_type",
                "%s needs client_ca_file (the CAs that sign client certificates)",
                webtls_client_auth_name(wp->client_auth));
    if (p->n_errors)
        return;
    struct webtls_settings s = {wp->cert_file, wp->key_file, wp->client_ca_file, wp->client_auth,
                                wp->min_version};
    struct buf why;
    buf_init(&why, 4096);
    enum webtls_culprit culprit;
    if (webtls_new(&s, &wp->c->tls, &why, &culprit) != OP_OK) {
        wp->c->tls = NULL;
        const yaml_node_t *n = culprit == WEBTLS_CULPRIT_CA    ? wp->ca_node
                               : culprit == WEBTLS_CULPRIT_KEY ? wp->key_node
                                                               : wp->cert_node;
        const char *key = culprit == WEBTLS_CULPRIT_CA    ? "tls_server_config.client_ca_file"
                          : culprit == WEBTLS_CULPRIT_KEY ? "tls_server_config.key_file"
                                                          : "tls_server_config.cert_file";
        cfg_err(p, n, key, "%s", buf_str_or(&why, "cannot load"));
    }
    buf_free(&why);
}

/* A bcrypt hash as libxcrypt and Go's bcrypt both read it:
 * $2a$, $2b$ or $2y$, a two-digit cost from 04 to 31, '$', then 22
 * characters of salt and 31 of hash in bcrypt's base64 alphabet. */
static bool bcrypt_hash_ok(const char *h)
{
    if (strlen(h) != 60 || h[0] != '$' || h[1] != '2' || !strchr("aby", h[2]) || !h[2] ||
        h[3] != '$' || h[6] != '$')
        return false;
    if (h[4] < '0' || h[4] > '3' || h[5] < '0' || h[5] > '9')
        return false;
    int cost = (h[4] - '0') * 10 + (h[5] - '0');
    if (cost < 4 || cost > 31)
        return false;
    for (const char *c = h + 7; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '.' || *c == '/'))
            return false;
    return true;
}

static bool user_key(struct cfg_parser *p, const char *key, yaml_node_t *v, const char *path,
                     void *arg)
{
    struct webcfg_parse *wp = arg;
    struct webcfg *c = wp->c;
    char q[CFG_MAX_QUOTED + 4];
    bool bad_name = false;
    for (const unsigned char *s = (const unsigned char *)key; *s; s++)
        bad_name |= *s < 0x20 || *s == 0x7f;
    if (!*key)
        cfg_err(p, v, "basic_auth_users", "an empty user name");
    else if (bad_name)
        cfg_err(p, v, "basic_auth_users", "a user name holds a control character");
    else if (strchr(key, ':'))
        cfg_err(p, v, "basic_auth_users",
                "user \"%s\" holds ':', which a basic-auth header cannot carry", cfg_quote(key, q));
    else if (c->n_users == WEBCFG_MAX_USERS)
        cfg_err(p, v, "basic_auth_users", "more than %d users", WEBCFG_MAX_USERS);
    else if (!cfg_want_scalar(p, v, path))
        ;
    else if (!bcrypt_hash_ok(cfg_scalar(v)))
        cfg_err(p, v, path,
                "not a bcrypt hash ($2a$, $2b$ or $2y$, a cost from 04 to 31, 60 characters in "
                "all); make one with htpasswd -nBC 10 %s",
                cfg_quote(key, q));
    else {
        c->user_names = xrealloc(c->user_names, (c->n_users + 1) * sizeof(char *));
        c->user_hashes = xrealloc(c->user_hashes, (c->n_users + 1) * sizeof(char *));
        c->user_names[c->n_users] = xstrdup(key);
        c->user_hashes[c->n_users] = xstrdup(cfg_scalar(v));
        c->n_users++;
    }
    return true;
}

/* exporter-toolkit's extraHTTPHeaders: the only names promtool accepts, and
 * the values it insists on (NULL: any). */
static const struct {
    const char *name;
    const char *values[3];
    const char *expected;
} header_rules[] = {
    {"Strict-Transport-Security", {NULL}, NULL},
    {"X-Content-Type-Options", {"nosniff", NULL}, "\"nosniff\""},
    {"X-Frame-Options", {"deny", "sameorigin", NULL}, "\"deny\" or \"sameorigin\""},
    {"X-XSS-Protection", {NULL}, NULL},
    {"Content-Security-Policy", {NULL}, NULL},
};

static bool header_key(struct cfg_parser *p, const char *key, yaml_node_t *v, const char *path,
                       void *arg)
{
    struct webcfg *c = ((struct webcfg_parse *)arg)->c;
    char q[CFG_MAX_QUOTED + 4];
    size_t r = 0;
    while (r < ARRAY_SIZE(header_rules) && strcmp(header_rules[r].name, key) != 0)
        r++;
    if (r == ARRAY_SIZE(header_rules)) {
        cfg_err(p, v, "http_server_config.headers",
                "HTTP header \"%s\" can not be configured (only Strict-Transport-Security, "
                "X-Content-Type-Options, X-Frame-Options, X-XSS-Protection and "
                "Content-Security-Policy can)",
                cfg_quote(key, q));
        return true;
    }
    if (!cfg_want_scalar(p, v, path))
        return true;
    const char *val = cfg_scalar(v);
    bool ctl = false;
    for (const unsigned char *s = (const unsigned char *)val; *s; s++)
        ctl |= (*s < 0x20 && *s != '\t') || *s == 0x7f;
    if (!*val) {
        cfg_err(p, v, path, "an empty value");
        return true;
    }
    if (ctl) {
        cfg_err(p, v, path, "the value holds a control character");
        return true;
    }
    if (header_rules[r].values[0]) {
        bool ok = false;
        for (size_t i = 0; header_rules[r].values[i]; i++)
            ok |= strcmp(header_rules[r].values[i], val) == 0;
        if (!ok) {
            cfg_err(p, v, path, "invalid value \"%s\", expected %s", cfg_quote(val, q),
                    header_rules[r].expected);
            return true;
        }
    }
    c->headers = xrealloc(c->headers, (c->n_headers + 1) * sizeof(*c->headers));
    c->headers[c->n_headers].name = xstrdup(key);
    c->headers[c->n_headers].value = xstrdup(val);
    c->n_headers++;
    return true;
}

static bool http_key(struct cfg_parser *p, const char *key, yaml_node_t *v, const char *path,
                     void *arg)
{
    struct webcfg_parse *wp = arg;
    if (strcmp(key, "headers") == 0) {
        if (!cfg_is_null(v) && cfg_want_mapping(p, v, path))
            cfg_walk_map(p, v, path, header_key, wp);
        return true;
    }
    return unsupported_key(p, "http_server_config", key, v, path);
}

static bool top_key(struct cfg_parser *p, const char *key, yaml_node_t *v, const char *path,
                    void *arg)
{
    (void)p;
    (void)path;
    struct webcfg_parse *wp = arg;
    if (strcmp(key, "tls_server_config") == 0)
        wp->tls = v;
    else if (strcmp(key, "basic_auth_users") == 0)
        wp->users = v;
    else if (strcmp(key, "http_server_config") == 0)
        wp->http = v;
    else
        return false;
    return true;
}

static void parse_document(struct webcfg_parse *wp, struct cfg_parser *p, yaml_node_t *root)
{
    static const char *const top_names[] = {"tls_server_config", "basic_auth_users",
                                            "http_server_config", NULL};
    static const struct cfg_keys top_keys = {.names = top_names};
    static const char *const tls_names[] = {"cert_file",      "key_file",    "client_auth_type",
                                            "client_ca_file", "min_version", NULL};
    static const struct cfg_keys tls_keys = {.names = tls_names};
    static const char *const http_names[] = {"headers", NULL};
    static const struct cfg_keys http_keys = {.names = http_names};
    if (!root || cfg_is_null(root))
        return; /* an empty file: plain HTTP, no users, no headers */
    if (!cfg_want_mapping(p, root, ""))
        return;
    cfg_walk_map_keys(p, root, "", top_key, wp, &top_keys);
    if (wp->tls && !cfg_is_null(wp->tls) && cfg_want_mapping(p, wp->tls, "tls_server_config")) {
        wp->any_tls_key = wp->tls->data.mapping.pairs.top > wp->tls->data.mapping.pairs.start;
        cfg_walk_map_keys(p, wp->tls, "tls_server_config", tls_key, wp, &tls_keys);
    }
    if (wp->users && !cfg_is_null(wp->users) && cfg_want_mapping(p, wp->users, "basic_auth_users"))
        cfg_walk_map(p, wp->users, "basic_auth_users", user_key, wp);
    if (wp->http && !cfg_is_null(wp->http) && cfg_want_mapping(p, wp->http, "http_server_config"))
        cfg_walk_map_keys(p, wp->http, "http_server_config", http_key, wp, &http_keys);
    finish_tls(wp, p);
}

enum op_rc webcfg_load_string(const char *text, size_t len, const char *name, struct webcfg **out,
                              struct buf *errors)
{
    enum op_rc rc = OP_ERR_INVALID;
    yaml_document_t doc;
    bool have_doc = false;
    struct cfg_parser p = {.file = name, .doc = &doc, .errors = errors};
    struct webcfg_parse wp = {.c = xcalloc(1, sizeof(struct webcfg))};
    const char *slash = strrchr(name, '/');
    char *dir = !slash          ? xstrdup("")
                : slash == name ? xstrdup("/")
                                : xstrndup(name, (size_t)(slash - name));
    wp.dir = dir;
    if (len > WEBCFG_MAX_FILE_BYTES) {
        cfg_err(&p, NULL, NULL, "larger than %u bytes", WEBCFG_MAX_FILE_BYTES);
        goto out;
    }
    /* The loader's caps on nesting, nodes and aliases: a reload re-reads
     * this file too, and must never hang on it. */
    if (cfg_compose(text, len, name, NULL, &doc, errors) != OP_OK) {
        p.n_errors++;
        goto out;
    }
    have_doc = true;
    parse_document(&wp, &p, yaml_document_get_root_node(&doc));
    if (p.n_errors == 0 && !errors->failed) {
        rc = OP_OK;
        *out = wp.c;
        wp.c = NULL;
    }
out:
    if (p.n_errors == 0 && rc != OP_OK)
        buf_addf(errors, "%s: cannot parse (out of memory in YAML parser)\n", name);
    if (have_doc)
        yaml_document_delete(&doc);
    free(wp.cert_file);
    free(wp.key_file);
    free(wp.client_ca_file);
    free(dir);
    webcfg_free(wp.c);
    return rc;
}

enum op_rc webcfg_load_file(const char *path, struct webcfg **out, struct buf *errors)
{
    struct buf text;
    const char *why = NULL;
    enum op_rc rc = webauth_read_file(path, WEBCFG_MAX_FILE_BYTES, &text, &why);
    if (rc == OP_ERR_LIMIT)
        buf_addf(errors, "%s: larger than %u bytes\n", path, WEBCFG_MAX_FILE_BYTES);
    else if (rc != OP_OK)
        buf_addf(errors, "%s: cannot read: %s\n", path, why);
    if (rc == OP_OK)
        rc = webcfg_load_string(buf_str(&text), text.len, path, out, errors);
    buf_free(&text);
    return rc;
}

void webcfg_free(struct webcfg *c)
{
    if (!c)
        return;
    webtls_unref(c->tls);
    for (size_t i = 0; i < c->n_users; i++) {
        free(c->user_names[i]);
        free(c->user_hashes[i]);
    }
    free(c->user_names);
    free(c->user_hashes);
    for (size_t i = 0; i < c->n_headers; i++) {
        free(c->headers[i].name);
        free(c->headers[i].value);
    }
    free(c->headers);
    free(c);
}
