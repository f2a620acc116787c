/*
 * cfg_url.c - the rule for the http(s) URLs of the config (checks, flow
 * steps, browser checks, proxies, Alertmanagers), and messages that say
 * how to fix one that breaks it.
 *
 * libcurl alone is too kind for a config: it reads "http:/x" as
 * "http://x/" and "localhost:8080/health" as the scheme "localhost", so
 * the shape "scheme://host" is checked here first, and libcurl then
 * judges the rest (characters, port).
 *
 * A URL may hold credentials (userinfo, a token in the query) or come
 * from a ${env:}/${file:} reference: such a URL is never shown in a
 * message. A plain scheme://host:port/path is, with its fix written out.
 */
#include "cfg_yaml.h"

#include <curl/curl.h>
#include <string.h>
#include <strings.h>

enum url_fault {
    URL_OK,
    URL_EMPTY,
    URL_PATH,          /* "/health" */
    URL_NO_SCHEME,     /* "example.com/health", "localhost:8080/health" */
    URL_NO_SCHEME_SEP, /* "//host/x" */
    URL_NO_SLASH,      /* "http:x" */
    URL_ONE_SLASH,     /* "http:/x" */
    URL_NO_HOST,       /* "http:///x", "http://user@/" */
    URL_SCHEME,        /* "htp://x", "ftp://x" */
    URL_INVALID,       /* libcurl refuses it: a space in the host, a bad port */
};

/* The shape of u. *scheme_len: the scheme's length where there is one;
 * *rest: what follows "scheme:" or the authority (for URL_NO_HOST);
 * *curl_why: libcurl's reason (static) for URL_INVALID. */
static enum url_fault classify(const char *u, size_t *scheme_len, const char **rest,
                               const char **curl_why)
{
    *scheme_len = 0;
    *rest = u;
    if (!*u)
        return URL_EMPTY;
    if (u[0] == '/')
        return u[1] == '/' ? URL_NO_SCHEME_SEP : URL_PATH;
    size_t n = 0;
    bool alpha = (u[0] >= 'a' && u[0] <= 'z') || (u[0] >= 'A' && u[0] <= 'Z');
    if (alpha)
        n = 1 + strspn(u + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.");
    if (n == 0 || u[n] != ':')
        return URL_NO_SCHEME;
    const char *r = u + n + 1;
    *scheme_len = n;
    *rest = r;
    bool http =
        (n == 4 && strncasecmp(u, "http", 4) == 0) || (n == 5 && strncasecmp(u, "https", 5) == 0);
    if (!http) {
        /* "host:port" is not a scheme: digits up to the path's start. */
        size_t d = strspn(r, "0123456789");
        if (d > 0 && (r[d] == '\0' || r[d] == '/' || r[d] == '?' || r[d] == '#'))
            return URL_NO_SCHEME;
        return URL_SCHEME;
    }
    if (r[0] != '/')
        return URL_NO_SLASH;
    if (r[1] != '/')
        return URL_ONE_SLASH;
    const char *auth = r + 2;
    size_t alen = strcspn(auth, "/?#");
    const char *at = memrchr(auth, '@', alen);
    const char *host = at ? at + 1 : auth;
    *rest = auth + alen;
    if (host == auth + alen || *host == ':') {
        /* The port written stays in the fix: "http://:8080/" is
         * http://HOST:8080/. */
        if (*host == ':')
            *rest = host;
        return URL_NO_HOST;
    }
    CURLU *cu = curl_url();
    char *h = NULL;
    enum url_fault f = URL_INVALID;
    CURLUcode rc = cu ? curl_url_set(cu, CURLUPART_URL, u, 0) : CURLUE_OUT_OF_MEMORY;
    *curl_why = curl_url_strerror(rc);
    if (rc == CURLUE_OK)
        f = curl_url_get(cu, CURLUPART_HOST, &h, 0) == CURLUE_OK && *h ? URL_OK : URL_NO_HOST;
    curl_free(h);
    curl_url_cleanup(cu);
    return f;
}

/* Fit to be shown: short, printable, and without the places that hold
 * credentials (userinfo, query, fragment). */
static bool showable(const char *u)
{
    size_t n = strlen(u);
    if (n > CFG_URL_ECHO_MAX || strpbrk(u, "@?#"))
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)u[i] < 0x20 || u[i] == 0x7f)
            return false;
    return true;
}

bool cfg_http_url_explain(const char *u, bool echo, struct buf *why)
{
    size_t sl;
    const char *rest, *curl_why = "";
    enum url_fault f = classify(u, &sl, &rest, &curl_why);
    if (f == URL_OK)
        return true;
    bool show = echo && showable(u);
    int sn = (int)sl;
    switch (f) {
    case URL_OK:
        break;
    case URL_EMPTY:
        buf_adds(why, "the URL is empty: write http://HOST/PATH");
        break;
    case URL_PATH:
        if (show)
            buf_addf(why, "\"%s\" is a path, not a URL: write http://HOST%s", u, u);
        else
            buf_adds(why, "the URL is a path: write it whole, http://HOST/PATH");
        break;
    case URL_NO_SCHEME:
        if (show)
            buf_addf(why, "\"%s\" needs a scheme: write http://%s", u, u);
        else
            buf_adds(why, "the URL needs a scheme: write http:// or https:// before the host");
        break;
    case URL_NO_SCHEME_SEP:
        if (show)
            buf_addf(why, "\"%s\" needs a scheme: write http:%s", u, u);
        else
            buf_adds(why, "the URL needs a scheme: write http: or https: before the \"//\"");
        break;
    case URL_NO_SLASH:
        if (show)
            buf_addf(why, "\"%s\" has no \"//\" after \"%.*s:\": write %.*s://%s", u, sn, u, sn, u,
                     rest);
        else
            buf_adds(why, "the URL has no \"//\" after its scheme: write http://HOST/PATH");
        break;
    case URL_ONE_SLASH:
        if (show)
            buf_addf(why, "\"%s\" has one slash after \"%.*s:\": write %.*s://%s", u, sn, u, sn, u,
                     rest + 1);
        else
            buf_adds(why, "the URL has one slash after its scheme: write http://HOST/PATH");
        break;
    case URL_NO_HOST:
        if (show)
            buf_addf(why, "\"%s\" has no host: write %.*s://HOST%s", u, sn, u, rest);
        else
            buf_adds(why, "the URL has no host: write http://HOST/PATH");
        break;
    case URL_SCHEME:
        if (show)
            buf_addf(why, "the URL's scheme must be http or https, not \"%.*s\"", sn, u);
        else
            buf_adds(why, "the URL's scheme must be http or https");
        break;
    case URL_INVALID:
        if (show)
            buf_addf(why, "\"%s\" is not a valid URL: %s", u, curl_why);
        else
            buf_addf(why, "the URL is not valid: %s", curl_why);
        break;
    }
    return false;
}

bool cfg_http_url_ok(const char *u, const char **why)
{
    static const char *const rules[] = {
        [URL_OK] = "",
        [URL_EMPTY] = "the URL is empty",
        [URL_PATH] = "the URL is a path, not an absolute URL",
        [URL_NO_SCHEME] = "the URL needs a scheme (http:// or https://)",
        [URL_NO_SCHEME_SEP] = "the URL needs a scheme (http: or https: before the \"//\")",
        [URL_NO_SLASH] = "the URL has no \"//\" after its scheme",
        [URL_ONE_SLASH] = "the URL has one slash after its scheme",
        [URL_NO_HOST] = "the URL has no host",
        [URL_SCHEME] = "the URL's scheme must be http or https",
        [URL_INVALID] = "the URL is not valid",
    };
    size_t sl;
    const char *rest, *curl_why;
    enum url_fault f = classify(u, &sl, &rest, &curl_why);
    *why = rules[f];
    return f == URL_OK;
}

bool cfg_check_http_url(struct cfg_parser *p, const yaml_node_t *v, const char *path,
                        const char *url)
{
    struct buf why;
    buf_init(&why, 2 * CFG_URL_ECHO_MAX + 256);
    /* Shown only as written: a reference or a capture may stand for a
     * secret, and what it resolved to is never shown. */
    const char *written = cfg_scalar(v);
    bool ok = cfg_http_url_explain(url, written && strcmp(written, url) == 0, &why);
    if (!ok)
        cfg_err(p, v, path, "%s", buf_str_or(&why, "the URL is not valid"));
    buf_free(&why);
    return ok;
}

char *cfg_url_target(const char *raw)
{
    const char *sep = strstr(raw, "://");
    if (!sep)
        return xstrdup(raw);
    const char *auth = sep + 3;
    size_t alen = strcspn(auth, "/?#");
    const char *at = memrchr(auth, '@', alen);
    const char *host = at ? at + 1 : auth;
    const char *rest = auth + alen;
    size_t plen = strcspn(rest, "?#");
    /* Never longer than raw: the cap cannot be hit. */
    struct buf b;
    buf_init(&b, strlen(raw) + 1);
    buf_add(&b, raw, (size_t)(auth - raw));
    buf_add(&b, host, (size_t)(rest - host));
    buf_add(&b, rest, plen);
    return buf_take(&b);
}
