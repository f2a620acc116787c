/* smoke_url.c - --url-prefix: parse a prefix, rebase URLs onto it. */
#include "smoke_url.h"
#include "cfg_yaml.h"
#include "http_check.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

/* The URL as written, dot segments included: a prefix does not change what
 * the check asks for. */
#define URL_FLAGS CURLU_PATH_AS_IS

/* Whether part of u is present (libcurl's "no such part" codes). */
static bool has_part(CURLU *u, CURLUPart part)
{
    char *v = NULL;
    CURLUcode rc = curl_url_get(u, part, &v, 0);
    curl_free(v);
    return rc == CURLUE_OK;
}

static char *dup_part(CURLU *u, CURLUPart part)
{
    char *v = NULL;
    if (curl_url_get(u, part, &v, 0) != CURLUE_OK)
        return NULL;
    char *s = xstrdup(v);
    curl_free(v);
    return s;
}

enum op_rc smoke_prefix_parse(const char *text, struct smoke_prefix *out, const char **why)
{
    memset(out, 0, sizeof(*out));
    enum op_rc rc = OP_ERR_INVALID;
    CURLU *u = curl_url();
    if (!u) {
        *why = "out of memory";
        return OP_ERR_SYSTEM;
    }
    *why = "not an absolute URL (scheme://host[:port][/path])";
    if (curl_url_set(u, CURLUPART_URL, text, URL_FLAGS) != CURLUE_OK)
        goto out;
    out->scheme = dup_part(u, CURLUPART_SCHEME);
    out->host = dup_part(u, CURLUPART_HOST);
    out->port = dup_part(u, CURLUPART_PORT);
    out->path = dup_part(u, CURLUPART_PATH);
    *why = "the scheme must be http or https";
    if (!out->scheme || (strcmp(out->scheme, "http") != 0 && strcmp(out->scheme, "https") != 0))
        goto out;
    *why = "it has no host";
    if (!out->host || !*out->host)
        goto out;
    *why = "it must not hold user info: give credentials in the configuration";
    if (has_part(u, CURLUPART_USER) || has_part(u, CURLUPART_PASSWORD))
        goto out;
    *why = "it must not have a query or fragment";
    if (has_part(u, CURLUPART_QUERY) || has_part(u, CURLUPART_FRAGMENT))
        goto out;
    if (!out->path)
        out->path = xstrdup("");
    size_t n = strlen(out->path);
    while (n && out->path[n - 1] == '/')
        out->path[--n] = '\0';
    out->text = xstrdup(text);
    rc = OP_OK;
out:
    curl_url_cleanup(u);
    if (rc != OP_OK)
        smoke_prefix_free(out);
    return rc;
}

void smoke_prefix_free(struct smoke_prefix *p)
{
    free(p->text);
    free(p->scheme);
    free(p->host);
    free(p->port);
    free(p->path);
    memset(p, 0, sizeof(*p));
}

enum op_rc smoke_rebase_url(const char *url, const struct smoke_prefix *p, char **out)
{
    enum op_rc rc = OP_ERR_INVALID;
    char *path = NULL, *joined = NULL, *result = NULL;
    CURLU *u = curl_url();
    if (!u)
        return OP_ERR_SYSTEM;
    if (curl_url_set(u, CURLUPART_URL, url, URL_FLAGS) != CURLUE_OK)
        goto out;
    if (curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK)
        goto out;
    size_t bl = strlen(p->path), pl = strlen(path);
    joined = xmalloc(bl + pl + 1);
    memcpy(joined, p->path, bl);
    memcpy(joined + bl, path, pl + 1);
    /* A NULL port removes the URL's own: the prefix's scheme decides. */
    if (curl_url_set(u, CURLUPART_SCHEME, p->scheme, 0) != CURLUE_OK ||
        curl_url_set(u, CURLUPART_HOST, p->host, 0) != CURLUE_OK ||
        curl_url_set(u, CURLUPART_PORT, p->port, 0) != CURLUE_OK ||
        curl_url_set(u, CURLUPART_PATH, joined, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_URL, &result, 0) != CURLUE_OK)
        goto out;
    *out = xstrdup(result);
    rc = OP_OK;
out:
    curl_free(path);
    curl_free(result);
    free(joined);
    curl_url_cleanup(u);
    return rc;
}

enum op_rc smoke_rebase_check(const struct check_spec *c, const struct smoke_prefix *p,
                              const char **why)
{
    /* Each check type with URLs has its row here. */
    if (c->type == &http_schema) {
        struct http_spec *s = c->spec;
        char *url = NULL;
        *why = "its url cannot be rebased";
        if (smoke_rebase_url(s->url, p, &url) != OP_OK)
            return OP_ERR_INVALID;
        if (!cfg_http_url_ok(url, why)) {
            free(url);
            return OP_ERR_INVALID;
        }
        free(s->url);
        s->url = url;
        return OP_OK;
    }
    *why = "its type has no URL to rebase";
    return OP_ERR_INVALID;
}
