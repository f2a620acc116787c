/*
 * http_judge.c - the judgement of an `http` run: libcurl's error as a
 * failure reason, a complete response against the check's expectations
 * (status, headers, body expressions within PCRE2 limits, JSON, latency),
 * and libcurl's timers as phases. Pure functions of their inputs.
 */
#include "http_check.h"
#include "common.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum check_reason http_classify_curl(CURLcode code, bool body_overflow)
{
    if (body_overflow)
        return CHECK_REASON_BODY;
    switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
        return CHECK_REASON_TIMEOUT;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return CHECK_REASON_DNS;
    case CURLE_COULDNT_CONNECT:
        return CHECK_REASON_CONNECT;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_USE_SSL_FAILED:
        return CHECK_REASON_TLS;
    case CURLE_FILESIZE_EXCEEDED:
        return CHECK_REASON_BODY;
    default:
        return CHECK_REASON_OTHER;
    }
}

/*
 * The match context with outpost's limits (HTTP_REGEX_*), made once and
 * shared: pcre2_match only reads it. Patterns are interpreted, never
 * JIT-compiled: the systemd unit forbids the writable and executable
 * memory JIT needs (MemoryDenyWriteExecute), and with one engine
 * everywhere a pattern hits the limits on the same bodies in every
 * deployment (JIT counts its match limit differently).
 */
static pcre2_match_context *g_match_ctx;
static pthread_once_t g_match_once = PTHREAD_ONCE_INIT;

static void match_ctx_init(void)
{
    g_match_ctx = pcre2_match_context_create(NULL);
    if (!g_match_ctx)
        return; /* regex_matches reports PCRE2_ERROR_NOMEMORY */
    (void)pcre2_set_match_limit(g_match_ctx, HTTP_REGEX_MATCH_LIMIT);
    (void)pcre2_set_depth_limit(g_match_ctx, HTTP_REGEX_DEPTH_LIMIT);
    (void)pcre2_set_heap_limit(g_match_ctx, HTTP_REGEX_HEAP_LIMIT_KIB);
}

/* *error: the PCRE2 error code of a match that erred, else left alone. */
static bool regex_matches(const struct regex *re, const char *s, size_t len, int *error)
{
    pthread_once(&g_match_once, match_ctx_init);
    pcre2_match_data *md =
        g_match_ctx ? pcre2_match_data_create_from_pattern(re->code, NULL) : NULL;
    if (!md) {
        *error = PCRE2_ERROR_NOMEMORY;
        return false;
    }
    int rc = pcre2_match(re->code, (PCRE2_SPTR)s, len, 0, 0, md, g_match_ctx);
    pcre2_match_data_free(md);
    if (rc >= 0)
        return true;
    /* Hitting a limit is a failed expectation, not a crash and not a
     * success. */
    if (rc != PCRE2_ERROR_NOMATCH)
        *error = rc;
    return false;
}

int http_regex_find(const struct regex *re, const char *s, size_t len, unsigned group,
                    size_t *start, size_t *glen)
{
    pthread_once(&g_match_once, match_ctx_init);
    pcre2_match_data *md =
        g_match_ctx ? pcre2_match_data_create_from_pattern(re->code, NULL) : NULL;
    if (!md)
        return PCRE2_ERROR_NOMEMORY;
    int rc = pcre2_match(re->code, (PCRE2_SPTR)s, len, 0, 0, md, g_match_ctx);
    if (rc == PCRE2_ERROR_NOMATCH) {
        rc = 0;
    } else if (rc >= 0) {
        /* rc is the highest group set, plus one (0: more than the vector
         * holds, which a pattern's own vector never is). */
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        /* \K in a lookaround can end a match before its start: no span. */
        rc = group < pcre2_get_ovector_count(md) && ov[2 * group] != PCRE2_UNSET &&
             ov[2 * group + 1] >= ov[2 * group];
        if (rc) {
            *start = ov[2 * group];
            *glen = ov[2 * group + 1] - ov[2 * group];
        }
    }
    pcre2_match_data_free(md);
    return rc;
}

enum header_seen { HEADER_MATCHED, HEADER_MISSING, HEADER_NO_MATCH };

/* Whether the header block holds `name` with a value matching re; *error:
 * the PCRE2 error of a value whose match erred, when none matched. */
static enum header_seen header_matches(const struct header_expect *h, const char *block, size_t len,
                                       int *error)
{
    size_t nlen = strlen(h->name);
    const char *p = block, *end = block + len;
    bool seen = false;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = eol ? eol : end;
        if ((size_t)(line_end - p) > nlen && p[nlen] == ':' && strncasecmp(p, h->name, nlen) == 0) {
            const char *v = p + nlen + 1;
            while (v < line_end && (*v == ' ' || *v == '\t'))
                v++;
            const char *ve = line_end;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            /* A match that errs (a PCRE2 limit) is no match. */
            int err = 0;
            seen = true;
            if (regex_matches(&h->re, v, (size_t)(ve - v), &err) && !err)
                return HEADER_MATCHED;
            if (err)
                *error = err;
        }
        p = eol ? eol + 1 : end;
    }
    return seen ? HEADER_NO_MATCH : HEADER_MISSING;
}

const json_t *http_json_find(const struct json_expect *j, const json_t *root)
{
    const json_t *cur = root;
    for (size_t i = 0; i < j->n_steps && cur; i++) {
        const struct json_step *st = &j->steps[i];
        if (st->key)
            cur = json_is_object(cur) ? json_object_get(cur, st->key) : NULL;
        else
            cur = json_is_array(cur) ? json_array_get(cur, (size_t)st->index) : NULL;
    }
    return cur;
}

bool http_json_holds(const struct json_expect *j, const json_t *root)
{
    const json_t *cur = http_json_find(j, root);
    if (j->is_exists)
        return (cur != NULL) == j->exists;
    if (!cur)
        return false;
    const char *want = j->equals;
    if (json_is_string(cur))
        return strcmp(json_string_value(cur), want) == 0;
    if (j->equals_quoted)
        return false; /* "5" in the config only matches the string "5" */
    if (json_is_true(cur))
        return strcmp(want, "true") == 0;
    if (json_is_false(cur))
        return strcmp(want, "false") == 0;
    if (json_is_null(cur))
        return strcmp(want, "null") == 0 || strcmp(want, "~") == 0;
    if (json_is_number(cur)) {
        char *end;
        double w = strtod(want, &end);
        if (end == want || *end || !isfinite(w))
            return false;
        return json_number_value(cur) == w;
    }
    return false; /* objects and arrays never equal a scalar */
}

/* The header block says Content-Encoding: name (the last such header, as
 * the body's outermost encoding). */
static bool encoded_as(const char *block, size_t len, const char *name)
{
    static const char key[] = "content-encoding:";
    const char *p = block, *end = block + len, *last = NULL, *last_end = NULL;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = eol ? eol : end;
        if ((size_t)(line_end - p) >= sizeof(key) - 1 &&
            strncasecmp(p, key, sizeof(key) - 1) == 0) {
            last = p + sizeof(key) - 1;
            last_end = line_end;
        }
        p = eol ? eol + 1 : end;
    }
    if (!last)
        return false;
    while (last < last_end && (*last == ' ' || *last == '\t'))
        last++;
    while (last_end > last && (last_end[-1] == '\r' || last_end[-1] == ' ' || last_end[-1] == '\t'))
        last_end--;
    size_t n = strlen(name);
    return (size_t)(last_end - last) == n && strncasecmp(last, name, n) == 0;
}

enum check_reason http_evaluate(const struct check_spec *c, int status, const char *headers,
                                size_t headers_len, const char *body, size_t body_len,
                                double duration, char *detail, size_t cap)
{
    const struct http_expect *e = &http_spec_of(c)->expect;
    struct detail d;
    detail_init(&d, detail, cap);
    if (!http_status_ok(e, status)) {
        http_detail_status(&d, e, status);
        return CHECK_REASON_HTTP_STATUS;
    }
    int comp = http_spec_of(c)->compression;
    if (comp && !encoded_as(headers ? headers : "", headers_len, http_compression_names[comp])) {
        detail_add(&d, "body not ");
        detail_add(&d, http_compression_names[comp]);
        detail_add(&d, "-encoded (its Content-Encoding differs or is missing)");
        return CHECK_REASON_BODY;
    }
    for (size_t i = 0; i < e->n_headers; i++) {
        int err = 0;
        enum header_seen h =
            header_matches(&e->headers[i], headers ? headers : "", headers_len, &err);
        if (h != HEADER_MATCHED) {
            http_detail_header(&d, &e->headers[i], h == HEADER_MISSING, err);
            return CHECK_REASON_HEADER;
        }
    }
    for (size_t i = 0; i < e->n_headers_if_present; i++) {
        int err = 0;
        enum header_seen h =
            header_matches(&e->headers_if_present[i], headers ? headers : "", headers_len, &err);
        if (h == HEADER_NO_MATCH) {
            http_detail_header(&d, &e->headers_if_present[i], false, err);
            return CHECK_REASON_HEADER;
        }
    }
    for (size_t i = 0; i < e->n_headers_not_matches; i++) {
        int err = 0;
        enum header_seen h =
            header_matches(&e->headers_not_matches[i], headers ? headers : "", headers_len, &err);
        /* header_matches stops at the first value that matches; one whose
         * match erred counts as matched (the expectation cannot hold). */
        if (h == HEADER_MATCHED || err) {
            http_detail_header_matched(&d, &e->headers_not_matches[i],
                                       h == HEADER_MATCHED ? 0 : err);
            return CHECK_REASON_HEADER;
        }
    }
    /* An expression that errs (a PCRE2 limit) fails its expectation,
     * whichever way the expectation points. */
    for (size_t i = 0; i < e->n_body_matches; i++) {
        int err = 0;
        if (!regex_matches(&e->body_matches[i], body ? body : "", body_len, &err) || err) {
            http_detail_body(&d, &e->body_matches[i], true, err);
            return CHECK_REASON_BODY;
        }
    }
    for (size_t i = 0; i < e->n_body_not_matches; i++) {
        int err = 0;
        if (regex_matches(&e->body_not_matches[i], body ? body : "", body_len, &err) || err) {
            http_detail_body(&d, &e->body_not_matches[i], false, err);
            return CHECK_REASON_BODY;
        }
    }
    if (e->n_json) {
        json_error_t jerr;
        json_t *root = json_loadb(body ? body : "", body_len, JSON_DECODE_ANY, &jerr);
        if (!root) {
            http_detail_json(&d, NULL, NULL);
            return CHECK_REASON_JSON;
        }
        bool ok = true;
        for (size_t i = 0; i < e->n_json && ok; i++) {
            ok = http_json_holds(&e->json[i], root);
            if (!ok)
                http_detail_json(&d, &e->json[i], root);
        }
        json_decref(root);
        if (!ok)
            return CHECK_REASON_JSON;
    }
    if (e->max_duration_ms && duration * 1000.0 > (double)e->max_duration_ms) {
        http_detail_latency(&d, duration, e->max_duration_ms);
        return CHECK_REASON_LATENCY;
    }
    return CHECK_REASON_NONE;
}

enum check_reason http_judge_transport(const struct http_expect *e, bool ssl, double version,
                                       char *detail, size_t cap)
{
    struct detail d;
    detail_init(&d, detail, cap);
    if (e->n_http_versions) {
        bool ok = false;
        for (size_t i = 0; i < e->n_http_versions; i++)
            ok |= e->http_versions[i] == version;
        if (!ok) {
            detail_addf(&d, "HTTP version %g not in [", version);
            for (size_t i = 0; i < e->n_http_versions; i++)
                detail_addf(&d, "%s%g", i ? ", " : "", e->http_versions[i]);
            detail_add(&d, "]");
            return CHECK_REASON_HTTP_STATUS;
        }
    }
    if (e->tls && (e->tls > 0) != ssl) {
        detail_add(&d,
                   ssl ? "final response came over TLS" : "final response did not come over TLS");
        return CHECK_REASON_TLS;
    }
    return CHECK_REASON_NONE;
}

static double us(int64_t v)
{
    return v > 0 ? (double)v / 1e6 : 0;
}

void http_phases(int64_t namelookup, int64_t connect, int64_t appconnect, int64_t starttransfer,
                 int64_t total, double out[CHECK_PHASE_COUNT])
{
    /* curl reports cumulative offsets from the start; a phase that did not
     * happen reads 0, so every difference is clamped at zero. */
    int64_t ready = appconnect > 0 ? appconnect : connect;
    out[CHECK_PHASE_RESOLVE] = us(namelookup);
    out[CHECK_PHASE_CONNECT] = connect > 0 ? us(connect - namelookup) : 0;
    out[CHECK_PHASE_TLS] = appconnect > 0 ? us(appconnect - connect) : 0;
    out[CHECK_PHASE_PROCESSING] = starttransfer > 0 && ready > 0 ? us(starttransfer - ready) : 0;
    out[CHECK_PHASE_TRANSFER] = starttransfer > 0 ? us(total - starttransfer) : 0;
}

enum check_phase http_running_phase(int64_t namelookup, int64_t connect, int64_t appconnect,
                                    int64_t starttransfer, bool tls)
{
    /* Each timer is stamped when its phase ends; 0 until then. */
    if (starttransfer > 0)
        return CHECK_PHASE_TRANSFER;
    if (tls ? appconnect > 0 : connect > 0)
        return CHECK_PHASE_PROCESSING;
    if (connect > 0)
        return CHECK_PHASE_TLS;
    if (namelookup > 0)
        return CHECK_PHASE_CONNECT;
    return CHECK_PHASE_RESOLVE;
}
