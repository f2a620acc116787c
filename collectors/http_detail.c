/*
 * http_detail.c - the detail texts of the `http` type: for each way a run
 * fails, what was expected and what came (detail.h has the rules). Only
 * configuration that is never reference-expanded (ranges, patterns, JSON
 * paths, header names) and cleaned, cut response values are shown; never a
 * request header, a URL or a response header's value.
 */
#include "http_check.h"
#include "common.h"

#include <errno.h>
#include <math.h>
#include <openssl/x509_vfy.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

void http_detail_status(struct detail *d, const struct http_expect *e, int status)
{
    detail_addf(d, "status %d not in [", status);
    for (size_t i = 0; i < e->n_status; i++) {
        const struct status_range *r = &e->status[i];
        if (r->lo == r->hi)
            detail_addf(d, "%s%d", i ? ", " : "", r->lo);
        else
            detail_addf(d, "%s%d-%d", i ? ", " : "", r->lo, r->hi);
    }
    detail_add(d, "]");
}

/* Why a match erred: PCRE2's limits in our words (the pattern, not the
 * target, is what to change), anything else in PCRE2's. */
static void add_regex_error(struct detail *d, int pcre_rc, const char *subject)
{
    const char *limit = pcre_rc == PCRE2_ERROR_MATCHLIMIT   ? "match"
                        : pcre_rc == PCRE2_ERROR_DEPTHLIMIT ? "depth"
                        : pcre_rc == PCRE2_ERROR_HEAPLIMIT  ? "heap"
                                                            : NULL;
    if (limit) {
        detail_addf(d, "regex %s limit hit (pattern too costly for this %s)", limit, subject);
        return;
    }
    PCRE2_UCHAR msg[120];
    if (pcre2_get_error_message(pcre_rc, msg, sizeof(msg)) < 0)
        msg[0] = '\0';
    detail_addf(d, "regex error: %s", (const char *)msg);
}

void http_detail_header(struct detail *d, const struct header_expect *h, bool missing, int pcre_rc)
{
    /* The value itself is never shown: it may be a cookie or a token. */
    detail_add(d, "header ");
    detail_add(d, h->name);
    if (missing) {
        detail_add(d, ": missing");
        return;
    }
    if (pcre_rc) {
        detail_add(d, " /");
        detail_add(d, h->re.pattern);
        detail_add(d, "/: ");
        add_regex_error(d, pcre_rc, "value");
        return;
    }
    detail_add(d, ": no value matched /");
    detail_add(d, h->re.pattern);
    detail_add(d, "/");
}

void http_detail_header_matched(struct detail *d, const struct header_expect *h, int pcre_rc)
{
    detail_add(d, "header ");
    detail_add(d, h->name);
    if (pcre_rc) {
        detail_add(d, " /");
        detail_add(d, h->re.pattern);
        detail_add(d, "/: ");
        add_regex_error(d, pcre_rc, "value");
        return;
    }
    detail_add(d, ": a value matched /");
    detail_add(d, h->re.pattern);
    detail_add(d, "/");
}

void http_detail_body(struct detail *d, const struct regex *re, bool want_match, int pcre_rc)
{
    if (pcre_rc) {
        /* The expectation fails either way: the body is neither known to
         * match nor known not to. */
        detail_add(d, "body /");
        detail_add(d, re->pattern);
        detail_add(d, "/: ");
        add_regex_error(d, pcre_rc, "body");
        return;
    }
    detail_add(d, want_match ? "body did not match /" : "body matched /");
    detail_add(d, re->pattern);
    detail_add(d, "/");
}

/* True when the config's scalar reads as a JSON literal (a finite number,
 * true, false, null or YAML's ~), so it is shown bare; else quoted. */
static bool is_literal(const struct json_expect *j)
{
    const char *w = j->equals;
    if (j->equals_quoted)
        return false;
    if (!strcmp(w, "true") || !strcmp(w, "false") || !strcmp(w, "null") || !strcmp(w, "~"))
        return true;
    char *end;
    double v = strtod(w, &end);
    return end != w && !*end && isfinite(v);
}

static void add_want(struct detail *d, const struct json_expect *j)
{
    if (j->is_exists) {
        detail_add(d, j->exists ? "present" : "absent");
    } else if (!strcmp(j->equals, "~") && !j->equals_quoted) {
        detail_add(d, "null");
    } else if (is_literal(j)) {
        detail_add(d, j->equals);
    } else {
        detail_add(d, "\"");
        detail_add(d, j->equals);
        detail_add(d, "\"");
    }
}

/* A value from the response: strings cut and cleaned, containers named. */
static void add_got(struct detail *d, const json_t *v)
{
    char num[FMT_DOUBLE_BYTES];
    switch (json_typeof(v)) {
    case JSON_STRING:
        detail_add(d, "\"");
        detail_value(d, json_string_value(v), json_string_length(v));
        detail_add(d, "\"");
        break;
    case JSON_INTEGER:
        detail_addf(d, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
    case JSON_REAL:
        fmt_double(num, sizeof(num), json_real_value(v));
        detail_add(d, num);
        break;
    case JSON_TRUE:
        detail_add(d, "true");
        break;
    case JSON_FALSE:
        detail_add(d, "false");
        break;
    case JSON_NULL:
        detail_add(d, "null");
        break;
    case JSON_OBJECT:
        detail_add(d, "an object");
        break;
    case JSON_ARRAY:
        detail_add(d, "an array");
        break;
    }
}

/* What a value is, not what it says. */
static void add_kind(struct detail *d, const json_t *v)
{
    static const char *const kinds[] = {
        [JSON_OBJECT] = "an object", [JSON_ARRAY] = "an array", [JSON_STRING] = "a string",
        [JSON_INTEGER] = "a number", [JSON_REAL] = "a number",  [JSON_TRUE] = "true",
        [JSON_FALSE] = "false",      [JSON_NULL] = "null",
    };
    detail_add(d, kinds[json_typeof(v)]);
}

void http_detail_json(struct detail *d, const struct json_expect *j, const json_t *root)
{
    if (!root) {
        /* jansson's message would quote the body: not shown. */
        detail_add(d, "body is not JSON");
        return;
    }
    const json_t *v = http_json_find(j, root);
    detail_add(d, "json ");
    detail_add(d, j->path);
    if (!v) {
        detail_add(d, ": missing");
        return;
    }
    detail_add(d, ": want ");
    add_want(d, j);
    detail_add(d, ", got ");
    if (j->quiet)
        add_kind(d, v);
    else
        add_got(d, v);
}

void http_detail_latency(struct detail *d, double duration, int64_t max_duration_ms)
{
    detail_addf(d, "took %.3f s, more than max_duration %.3f s", duration,
                (double)max_duration_ms / 1000.0);
}

/* ---- transfers that did not complete ---- */

/* "Connection refused" as "connection refused". */
static void add_errno(struct detail *d, int err)
{
    char tmp[128];
    const char *s = strerror_r(err, tmp, sizeof(tmp)); /* GNU: may not use tmp */
    if (s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'a' && s[1] <= 'z') {
        detail_addf(d, "%c", s[0] - 'A' + 'a');
        s++;
    }
    detail_add(d, s);
}

static void add_message(struct detail *d, const struct http_failure *f)
{
    detail_add(d, f->message && *f->message ? f->message : curl_easy_strerror(f->code));
}

void http_failure_detail(const struct http_failure *f, char *detail, size_t cap)
{
    struct detail d;
    detail_init(&d, detail, cap);
    if (f->body_overflow || f->code == CURLE_FILESIZE_EXCEEDED) {
        detail_addf(&d, "body larger than %llu bytes", (unsigned long long)f->max_body_bytes);
        return;
    }
    if (f->headers_overflow) {
        detail_addf(&d, "headers larger than %u bytes", HTTP_MAX_HEADER_BYTES);
        return;
    }
    switch (http_classify_curl(f->code, false)) {
    case CHECK_REASON_TIMEOUT:
        detail_addf(&d, "timeout after %.3f s in phase %s", (double)f->timeout_ms / 1000.0,
                    check_phase_name(f->phase));
        return;
    case CHECK_REASON_DNS:
        /* Not libcurl's text: it names the host, which may be a resolved
         * reference. */
        detail_add(&d, f->code == CURLE_COULDNT_RESOLVE_PROXY ? "dns: could not resolve proxy"
                                                              : "dns: could not resolve host");
        return;
    case CHECK_REASON_CONNECT:
        detail_add(&d, "connect: ");
        if (f->os_errno)
            add_errno(&d, f->os_errno);
        else
            detail_add(&d, "could not connect");
        return;
    case CHECK_REASON_TLS:
        detail_add(&d, "tls: ");
        if (f->verify_result == X509_V_ERR_CERT_HAS_EXPIRED && f->cert_expiry > 0) {
            time_t t = (time_t)f->cert_expiry;
            struct tm tm;
            char day[16];
            if (gmtime_r(&t, &tm) && strftime(day, sizeof(day), "%Y-%m-%d", &tm)) {
                detail_addf(&d, "certificate has expired (notAfter %s)", day);
                return;
            }
        }
        add_message(&d, f);
        return;
    default:
        break;
    }
    if (f->code == CURLE_TOO_MANY_REDIRECTS) {
        detail_addf(&d, "more than %d redirects", HTTP_MAX_REDIRECTS);
        return;
    }
    add_message(&d, f);
}

/* The host of a URL-like text: after "://" (and any user info), up to the
 * port or the path; [v6] keeps its brackets, as libcurl returns it. */
static size_t label_host(const char *s, const char **host)
{
    const char *p = strstr(s, "://");
    p = p ? p + 3 : s;
    size_t alen = strcspn(p, "/?#");
    const char *at = memrchr(p, '@', alen);
    if (at) {
        alen -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    *host = p;
    if (*p == '[') {
        const char *close = memchr(p, ']', alen);
        return close ? (size_t)(close - p + 1) : alen;
    }
    const char *colon = memchr(p, ':', alen);
    return colon ? (size_t)(colon - p) : alen;
}

void http_scrub_message(const char *msg, const char *url, const char *target, char *out, size_t cap)
{
    if (!cap)
        return;
    char *host = NULL;
    CURLU *u = curl_url();
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK)
        (void)curl_url_get(u, CURLUPART_HOST, &host, 0);
    const char *shown;
    size_t shown_len = label_host(target, &shown);
    size_t hlen = host ? strlen(host) : 0;
    bool secret = hlen && !(hlen == shown_len && strncasecmp(host, shown, hlen) == 0);
    size_t o = 0;
    for (const char *p = msg; *p && o + 1 < cap;) {
        if (secret && strncasecmp(p, host, hlen) == 0) {
            static const char mask[] = "<host>";
            size_t n = sizeof(mask) - 1 < cap - 1 - o ? sizeof(mask) - 1 : cap - 1 - o;
            memcpy(out + o, mask, n);
            o += n;
            p += hlen;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
    curl_free(host);
    curl_url_cleanup(u);
}
