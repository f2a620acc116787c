/* smoke_url.c - --url-prefix: parse a prefix, rebase URLs onto it. */
#include "smoke_url.h"
#include "browser_check.h"
#include "cfg_yaml.h"
#include "flow_check.h"
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

/* Capture k of a template stands in the URL as "zqcapKKq" while it is
 * rebased: letters and digits, which a URL's path, query and fragment keep
 * as they are. */
#define TOKEN "zqcap"

/* A flow step's url template (cfg_yaml.h) rebased onto p: its captures
 * stay where they are in the path, query or fragment; one in the host (or
 * anywhere a prefix replaces) cannot be rebased. *out: a template too. */
static enum op_rc rebase_template(const char *tmpl, const struct smoke_prefix *p, char **out,
                                  const char **why)
{
    enum op_rc rc = OP_ERR_INVALID;
    char *rebased = NULL;
    struct buf b, back;
    buf_init(&b, 4 * strlen(tmpl) + 16);
    buf_init(&back, 1); /* sized once the rebased URL is known */
    size_t n_marks = 0;
    *why = "its url cannot be rebased";
    if (strstr(tmpl, TOKEN))
        goto out;
    for (const char *q = tmpl; *q; q++) {
        if (*q == CFG_CAPTURE_MARK && q[1] && q[1] != CFG_CAPTURE_MARK) {
            buf_addf(&b, TOKEN "%02uq", (unsigned)((unsigned char)q[1] - CFG_CAPTURE_BASE));
            q++;
            n_marks++;
        } else {
            buf_addc(&b, *q);
        }
    }
    if (b.failed || smoke_rebase_url(buf_str(&b), p, &rebased) != OP_OK)
        goto out;
    /* Back to markers (shorter than their tokens); every capture must
     * have come through. */
    buf_free(&back);
    buf_init(&back, strlen(rebased) + 1);
    size_t found = 0;
    for (const char *q = rebased; *q;) {
        unsigned k;
        if (strncmp(q, TOKEN, 5) == 0 && q[5] >= '0' && q[5] <= '9' && q[6] >= '0' && q[6] <= '9' &&
            q[7] == 'q' &&
            (k = (unsigned)(q[5] - '0') * 10 + (unsigned)(q[6] - '0')) < CFG_MAX_CAPTURES) {
            buf_addc(&back, CFG_CAPTURE_MARK);
            buf_addc(&back, (char)(k + CFG_CAPTURE_BASE));
            q += 8;
            found++;
        } else {
            buf_addc(&back, *q++);
        }
    }
    *why = "a capture in its url's host cannot be rebased";
    if (back.failed || found != n_marks)
        goto out;
    *out = buf_take(&back);
    rc = OP_OK;
out:
    free(rebased);
    buf_free(&b);
    buf_free(&back);
    return rc;
}

/* url rebased in place, the result checked as the configuration checks it. */
static enum op_rc rebase_in_place(char **url, const struct smoke_prefix *p, const char **why)
{
    char *out = NULL;
    *why = "its url cannot be rebased";
    if (flow_is_template(*url) ? rebase_template(*url, p, &out, why) != OP_OK
                               : smoke_rebase_url(*url, p, &out) != OP_OK)
        return OP_ERR_INVALID;
    char *sample = cfg_capture_sample(out);
    bool ok = cfg_http_url_ok(sample, why);
    free(sample);
    if (!ok) {
        free(out);
        return OP_ERR_INVALID;
    }
    free(*url);
    *url = out;
    return OP_OK;
}

enum op_rc smoke_rebase_check(const struct check_spec *c, const struct smoke_prefix *p,
                              const char **why)
{
    /* Each check type with URLs has its row here. */
    if (c->type == &http_schema)
        return rebase_in_place(&((struct http_spec *)c->spec)->url, p, why);
    if (c->type == &browser_schema)
        return rebase_in_place(&((struct browser_spec *)browser_spec_of(c))->url, p, why);
    if (c->type == &flow_schema) {
        /* Every step: a flow checks one system, wherever the prefix says. */
        const struct flow_spec *fs = flow_spec_of(c);
        for (size_t i = 0; i < fs->n_steps; i++) {
            struct http_spec *s = (struct http_spec *)http_spec_of(&fs->steps[i].http);
            if (rebase_in_place(&s->url, p, why) != OP_OK)
                return OP_ERR_INVALID;
        }
        return OP_OK;
    }
    *why = "its type has no URL to rebase";
    return OP_ERR_INVALID;
}
