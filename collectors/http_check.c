/*
 * http_check.c - runs of the `http` check type: one libcurl easy handle per
 * run, added to the probe loop's multi handle, its response captured within
 * caps and judged (http_judge.c) against the check's expectations.
 */
#include "http_check.h"
#include "tls_facts.h"
#include "curl_tls.h"
#include "common.h"

#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* One connection per hop at most: curl_tls watches that many. */
_Static_assert(CURL_TLS_MAX_CELLS >= HTTP_MAX_REDIRECTS + 1, "a cell for every hop");

/* One run in flight. */
struct http_probe {
    CURL *easy;
    const struct check_spec *check;
    const struct http_spec *spec;
    struct probe_job *job;
    struct curl_tls tls; /* CA store, client certificate, the chain's expiry */
    struct curl_slist *req_headers;
    struct curl_slist *connect_to;
    char *url; /* URL with server_name substituted, when set */
    /* What this request is: the check's own settings, or what another
     * type's run decided for it (http_request_start). */
    const char *req_url; /* the URL asked for (before server_name) */
    int64_t timeout_ms;  /* the whole request, redirects included */
    http_request_cb cb;  /* NULL: report to the probe loop (probe_done) */
    void *cb_arg;
    bool keep_body, keep_headers;
    bool body_overflow, headers_overflow;
    uint64_t body_bytes;
    struct buf body;
    struct buf headers;
    /* The last response's status-line version and TLS protocol (tail). */
    double http_version;
    const char *tls_version;
    /* Redirects are followed here, hop by hop on the same easy handle
     * (follow_redirect): libcurl would send configured headers to any host. */
    char *origin;       /* scheme://host:port of the first request, at the first redirect */
    const char *method; /* this hop's method: the spec's, or "GET" after a 301/302/303 */
    bool location, redirect_response; /* this response has a Location; it is one to follow */
    long redirects;                   /* hops followed */
    /* libcurl's timers summed over hops, as libcurl's own following sums
     * them: namelookup, connect, appconnect, starttransfer, total (T_*). */
    curl_off_t timers[5];
    /* The handle may serve a later run (probe_easy_give): every hop so far
     * was plain http, with no proxy and no share, so a reset leaves it
     * with no TLS session, cookie or share a later run would inherit. */
    bool reusable;
    char errbuf[CURL_ERROR_SIZE];
};

/* A proxy from the environment (libcurl's http_proxy and the like) may be
 * an https:// one, whose TLS sessions an easy handle caches: then no
 * handle is reused. Read once: the environment is the process's. */
static bool g_env_proxy;

static enum op_rc http_global_init(void)
{
    static const char *const vars[] = {"http_proxy",  "HTTP_PROXY", "https_proxy",
                                       "HTTPS_PROXY", "all_proxy",  "ALL_PROXY"};
    g_env_proxy = false;
    for (size_t i = 0; i < ARRAY_SIZE(vars); i++) {
        const char *v = getenv(vars[i]);
        g_env_proxy = g_env_proxy || (v && *v);
    }
    return curl_tls_global_init();
}

/* A response's status line begins (after "HTTP/"): its version, and the
 * TLS session it came over, read while the connection surely lives. */
static void note_response(struct http_probe *hp, const char *v, size_t n)
{
    char ver[8];
    size_t k = 0;
    while (k < n && k < sizeof(ver) - 1 && (v[k] == '.' || (v[k] >= '0' && v[k] <= '9'))) {
        ver[k] = v[k];
        k++;
    }
    ver[k] = '\0';
    char *end;
    double d = strtod(ver, &end);
    hp->http_version = k && *end == '\0' ? d : 0;
    SSL *ssl = curl_tls_ssl(hp->easy);
    hp->tls_version = ssl ? tls_version_label(SSL_version(ssl)) : NULL;
}

/* ---- capture callbacks ---- */

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    struct http_probe *hp = arg;
    size_t n = size * nmemb;
    if (hp->redirect_response)
        return n; /* a redirect's body is not the response's, as with libcurl's following */
    if (hp->body_bytes + n > hp->spec->max_body_bytes) {
        /* Never read an unbounded body: stop the transfer (CURLE_WRITE_ERROR). */
        hp->body_overflow = true;
        return 0;
    }
    hp->body_bytes += n;
    if (hp->keep_body && buf_add(&hp->body, data, n) != OP_OK) {
        hp->body_overflow = true;
        return 0;
    }
    return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *arg)
{
    struct http_probe *hp = arg;
    size_t n = size * nmemb;
    /* Each response of a redirect chain starts with a status line: only the
     * final response's headers are judged. */
    if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) {
        buf_reset(&hp->headers);
        hp->location = hp->redirect_response = false;
        note_response(hp, data + 5, n - 5);
    } else if (n > 9 && strncasecmp(data, "Location:", 9) == 0) {
        /* libcurl's rule: a non-empty Location in a 3xx answer is followed. */
        for (size_t i = 9; i < n && !hp->location; i++)
            hp->location = !strchr(" \t\r\n", data[i]);
    } else if ((n == 2 && data[0] == '\r' && data[1] == '\n') || (n == 1 && data[0] == '\n')) {
        long code = 0;
        (void)curl_easy_getinfo(hp->easy, CURLINFO_RESPONSE_CODE, &code);
        hp->redirect_response =
            hp->spec->follow_redirects && hp->location && code >= 300 && code <= 399;
    }
    if (hp->keep_headers && buf_add(&hp->headers, data, n) != OP_OK) {
        hp->headers_overflow = true;
        return 0; /* more header bytes than HTTP_MAX_HEADER_BYTES: fail */
    }
    return n;
}

/* ---- set-up ---- */

static enum op_rc add_header(struct http_probe *hp, const char *name, const char *value)
{
    struct buf b;
    buf_init(&b, 1u << 20);
    buf_addf(&b, "%s: %s", name, value);
    struct curl_slist *l = b.failed ? NULL : curl_slist_append(hp->req_headers, buf_str(&b));
    /* Wipe: the value may be a secret. */
    if (b.data)
        memset(b.data, 0, b.cap);
    buf_free(&b);
    if (!l)
        return OP_ERR_SYSTEM;
    hp->req_headers = l;
    return OP_OK;
}

/* "scheme://host:port" of the URL in u, lowercased, the port spelled out
 * (http://a and http://A:80 are one origin). Caller frees; NULL when a part
 * is missing. */
static char *origin_of(CURLU *u)
{
    char *scheme = NULL, *host = NULL, *port = NULL, *out = NULL;
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
        struct buf b;
        buf_init(&b, 4096);
        buf_addf(&b, "%s://%s:%s", scheme, host, port);
        out = b.failed ? NULL : buf_take(&b);
        buf_free(&b);
        for (char *c = out; c && *c; c++)
            if (*c >= 'A' && *c <= 'Z')
                *c = (char)(*c - 'A' + 'a');
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    return out;
}

static char *url_origin(const char *url)
{
    CURLU *u = curl_url();
    char *out = u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK ? origin_of(u) : NULL;
    curl_url_cleanup(u);
    return out;
}

/*
 * The configured headers and credentials (basic_auth, bearer_token) go to
 * the first request's origin only: with send false the request carries
 * none. libcurl has that rule for Authorization and Cookie only, and would
 * hand an `X-Api-Key: ${file:...}` to whatever host a redirect names.
 */
static CURLcode set_secrets(struct http_probe *hp, bool send)
{
    const struct http_spec *s = hp->spec;
    CURL *e = hp->easy;
    bool bearer = send && s->bearer_token, basic = send && s->basic_user;
    CURLcode cc = curl_easy_setopt(e, CURLOPT_HTTPHEADER, send ? hp->req_headers : NULL);
    if (cc == CURLE_OK)
        cc = curl_easy_setopt(e, CURLOPT_HTTPAUTH,
                              (long)(bearer ? CURLAUTH_BEARER : CURLAUTH_BASIC));
    if (cc == CURLE_OK)
        cc = curl_easy_setopt(e, CURLOPT_XOAUTH2_BEARER, bearer ? s->bearer_token : NULL);
    if (cc == CURLE_OK)
        cc = curl_easy_setopt(e, CURLOPT_USERNAME, basic ? s->basic_user : NULL);
    if (cc == CURLE_OK)
        cc = curl_easy_setopt(e, CURLOPT_PASSWORD,
                              basic ? (s->basic_pass ? s->basic_pass : "") : NULL);
    return cc;
}

static void probe_free(struct probe_loop *loop, struct http_probe *hp);

/* A configured easy handle (the loop's, probe_easy_take) for one run of c,
 * as rq says (NULL: the check's own settings). Caller frees (probe_free). */
static enum op_rc probe_new(struct probe_loop *loop, const struct check_spec *c,
                            const struct http_request *rq, struct http_probe **out)
{
    const struct http_spec *s = http_spec_of(c);
    struct http_probe *hp = xcalloc(1, sizeof(*hp));
    hp->check = c;
    hp->spec = s;
    hp->req_url = rq && rq->url ? rq->url : s->url;
    hp->timeout_ms = rq ? rq->timeout_ms : c->timeout_ms;
    const struct header_kv *headers = rq && rq->headers ? rq->headers : s->headers;
    const char *body = rq && rq->body ? rq->body : s->body;
    bool reuse = rq ? !rq->fresh_connect : s->reuse_connection;
    hp->keep_body = s->expect.n_body_matches || s->expect.n_body_not_matches || s->expect.n_json ||
                    (rq && rq->keep_body);
    hp->keep_headers = s->expect.n_headers > 0 || s->expect.n_headers_if_present > 0 ||
                       s->expect.n_headers_not_matches > 0 || s->compression ||
                       (rq && rq->keep_headers);
    buf_init(&hp->body, s->max_body_bytes);
    buf_init(&hp->headers, HTTP_MAX_HEADER_BYTES);
    enum op_rc rc = OP_ERR_SYSTEM;
    CURL *e = hp->easy = probe_easy_take(loop);
    if (!e)
        goto fail;
    hp->reusable = !(rq && rq->share) && !s->proxy_url && !g_env_proxy;

    /* For tls.server_name: request https://server_name/... and connect to
     * the configured host. */
    if (s->tls.server_name && (rc = curl_tls_server_name(hp->req_url, s->tls.server_name, &hp->url,
                                                         &hp->connect_to)) != OP_OK)
        goto fail;
    rc = OP_ERR_SYSTEM;
    CURLcode cc = CURLE_OK;
    /* Options are set in one pass and their results folded: the first
     * failure wins and the handle is discarded as a whole. */
#define OPT(opt, val)                                                                              \
    do {                                                                                           \
        if (cc == CURLE_OK)                                                                        \
            cc = curl_easy_setopt(e, opt, val);                                                    \
    } while (0)
    OPT(CURLOPT_URL, hp->url ? hp->url : hp->req_url);
    if (hp->connect_to)
        OPT(CURLOPT_CONNECT_TO, hp->connect_to);
    OPT(CURLOPT_NOSIGNAL, 1L);
    OPT(CURLOPT_ERRORBUFFER, hp->errbuf);
    /* Every hop of a redirect chain is a request of its own: http and
     * https only. */
    OPT(CURLOPT_PROTOCOLS_STR, "http,https");
    OPT(CURLOPT_TIMEOUT_MS, (long)hp->timeout_ms);
    OPT(CURLOPT_CONNECTTIMEOUT_MS, (long)hp->timeout_ms);
    OPT(CURLOPT_FOLLOWLOCATION, 0L); /* follow_redirect does */
    OPT(CURLOPT_USERAGENT, "outpost/" OUTPOST_VERSION);
    OPT(CURLOPT_WRITEFUNCTION, on_body);
    OPT(CURLOPT_WRITEDATA, hp);
    OPT(CURLOPT_HEADERFUNCTION, on_header);
    OPT(CURLOPT_HEADERDATA, hp);
    OPT(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)s->max_body_bytes);
    /* Asked for (unless a configured Accept-Encoding says otherwise) and
     * decoded; the judgement requires the response to use it. */
    if (s->compression)
        OPT(CURLOPT_ACCEPT_ENCODING, http_compression_names[s->compression]);
    /* libcurl's default offers HTTP/2 over TLS and speaks HTTP/1.1 in
     * clear text, as Go's client (and so blackbox_exporter) does. */
    if (!s->http2)
        OPT(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    if (s->proxy_url)
        OPT(CURLOPT_PROXY, s->proxy_url);
    if (s->no_proxy)
        OPT(CURLOPT_NOPROXY, s->no_proxy);
    OPT(CURLOPT_IPRESOLVE, s->ip_protocol == IP_PROTO_4   ? CURL_IPRESOLVE_V4
                           : s->ip_protocol == IP_PROTO_6 ? CURL_IPRESOLVE_V6
                                                          : CURL_IPRESOLVE_WHATEVER);
    if (!reuse) {
        /* Like blackbox_exporter: every probe resolves, connects and
         * handshakes, so those phases are measured and not hidden by a pool. */
        OPT(CURLOPT_FRESH_CONNECT, 1L);
        OPT(CURLOPT_DNS_CACHE_TIMEOUT, 0L);
    }
    if (!reuse || (rq && rq->forbid_reuse))
        OPT(CURLOPT_FORBID_REUSE, 1L);
    if (rq && rq->share) {
        /* The caller's run shares cookies (and maybe connections) between
         * its requests: the cookie engine on, its jar in the share. */
        OPT(CURLOPT_SHARE, rq->share);
        OPT(CURLOPT_COOKIEFILE, "");
    }

    hp->method = s->method;
    /* A body makes libcurl POST: the method is named whenever it is not
     * a plain GET. */
    if (strcmp(s->method, "GET") != 0 || body)
        OPT(CURLOPT_CUSTOMREQUEST, s->method);
    if (strcmp(s->method, "HEAD") == 0)
        OPT(CURLOPT_NOBODY, 1L);
    if (body) {
        /* Borrowed: the spec's lives with the check, a caller's until the
         * request reports. */
        OPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
        OPT(CURLOPT_POSTFIELDS, body);
    }
    for (size_t i = 0; i < s->n_headers; i++)
        if (add_header(hp, headers[i].name, headers[i].value) != OP_OK)
            goto fail;
    if (cc == CURLE_OK)
        cc = set_secrets(hp, true);

    if (cc == CURLE_OK)
        cc = curl_tls_setopt(&hp->tls, e, &s->tls);
#undef OPT
    if (cc != CURLE_OK)
        goto fail;
    *out = hp;
    return OP_OK;
fail:
    hp->reusable = false; /* options half set */
    probe_free(loop, hp);
    return rc;
}

/* The handle goes back to the loop when it may serve a later run, else
 * it is cleaned up. */
static void release_easy(struct probe_loop *loop, struct http_probe *hp)
{
    if (hp->easy && hp->reusable)
        probe_easy_give(loop, hp->easy);
    else if (hp->easy)
        curl_easy_cleanup(hp->easy);
    hp->easy = NULL;
}

static void probe_free(struct probe_loop *loop, struct http_probe *hp)
{
    if (!hp)
        return;
    curl_tls_release(&hp->tls);
    release_easy(loop, hp);
    curl_slist_free_all(hp->req_headers);
    curl_slist_free_all(hp->connect_to);
    free(hp->url);
    free(hp->origin);
    buf_free(&hp->body);
    buf_free(&hp->headers);
    free(hp);
}

/* ---- judgement (http_judge.c judges a complete response) ---- */

static double us(int64_t v)
{
    return v > 0 ? (double)v / 1e6 : 0;
}

/* The detail of a transfer that did not complete, from what libcurl and
 * the run know of it. */
static void failure_detail(struct http_probe *hp, CURLcode code, curl_off_t nl, curl_off_t cn,
                           curl_off_t ac, curl_off_t st, char *detail, size_t cap)
{
    CURL *e = hp->easy;
    long verify = 0, os_errno = 0;
    char *scheme = NULL;
    char message[CURL_ERROR_SIZE];
    (void)curl_easy_getinfo(e, CURLINFO_SSL_VERIFYRESULT, &verify);
    (void)curl_easy_getinfo(e, CURLINFO_OS_ERRNO, &os_errno);
    (void)curl_easy_getinfo(e, CURLINFO_SCHEME, &scheme);
    /* libcurl's text for a failed SSL_CTX callback says nothing; ours does. */
    const char *text =
        code == CURLE_SSL_CACERT_BADFILE && hp->tls.ca_error[0] ? hp->tls.ca_error : hp->errbuf;
    http_scrub_message(text, hp->req_url, hp->check->target, message, sizeof(message));
    struct http_failure f = {
        .code = code,
        .body_overflow = hp->body_overflow,
        .headers_overflow = hp->headers_overflow,
        .max_body_bytes = hp->spec->max_body_bytes,
        .timeout_ms = hp->timeout_ms,
        .phase = http_running_phase(nl, cn, ac, st, scheme && strcasecmp(scheme, "https") == 0),
        .verify_result = verify,
        .cert_expiry = hp->tls.cert_expiry,
        .os_errno = (int)os_errno,
        .message = message,
    };
    http_failure_detail(&f, detail, cap);
}

/* The order of libcurl's timers in struct http_probe's sums. */
enum { T_NAMELOOKUP, T_CONNECT, T_APPCONNECT, T_STARTTRANSFER, T_TOTAL, T_COUNT };

/* libcurl's timers of the hop that just ended into hop, and added to the
 * run's sums. A getinfo that fails leaves its zero: the phase did not
 * happen. */
static void add_timers(struct http_probe *hp, curl_off_t hop[T_COUNT])
{
    static const CURLINFO info[T_COUNT] = {
        CURLINFO_NAMELOOKUP_TIME_T,    CURLINFO_CONNECT_TIME_T, CURLINFO_APPCONNECT_TIME_T,
        CURLINFO_STARTTRANSFER_TIME_T, CURLINFO_TOTAL_TIME_T,
    };
    for (size_t i = 0; i < T_COUNT; i++) {
        hop[i] = 0;
        (void)curl_easy_getinfo(hp->easy, info[i], &hop[i]);
        hp->timers[i] += hop[i];
    }
}

/* Judge the finished run (code: its last hop's, from CURLMSG_DONE, or why
 * following stopped) into out; hop: the last hop's timers; tail is out's
 * type-specific part. */
static void probe_finish(struct http_probe *hp, CURLcode code, const curl_off_t hop[T_COUNT],
                         struct check_result *out, struct http_tail *tail)
{
    memset(out, 0, sizeof(*out));
    memset(tail, 0, sizeof(*tail));
    long status = 0;
    (void)curl_easy_getinfo(hp->easy, CURLINFO_RESPONSE_CODE, &status);
    /* Phases from the sums, as libcurl reports them when it follows:
     * resolve, connect and TLS of every hop; the total is the whole run. */
    const curl_off_t *t = hp->timers;
    http_phases(t[T_NAMELOOKUP], t[T_CONNECT], t[T_APPCONNECT], t[T_STARTTRANSFER], t[T_TOTAL],
                out->phases);
    out->duration = us(t[T_TOTAL]);
    out->status = (int)status;
    out->cert_expiry = hp->tls.cert_expiry;
    out->type = &http_check_type;
    tail->status = (int)status;
    tail->redirects = hp->redirects;
    tail->body_bytes = hp->body_bytes;
    curl_off_t cl = -1;
    if (status > 0 &&
        curl_easy_getinfo(hp->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) != CURLE_OK)
        cl = -1;
    tail->content_length = status > 0 ? (int64_t)cl : -1;
    tail->http_version = status > 0 ? hp->http_version : 0;
    tail->ssl = status > 0 && hp->tls_version;
    tail->tls_version = tail->ssl ? hp->tls_version : NULL;
    const char *ip = NULL;
    if (curl_easy_getinfo(hp->easy, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && ip && *ip &&
        strlen(ip) < sizeof(tail->ip)) {
        memcpy(tail->ip, ip, strlen(ip) + 1);
        tail->ip_protocol = strchr(ip, ':') ? 6 : 4;
    }
    out->tail = tail;

    enum check_reason r;
    if (code != CURLE_OK) {
        r = http_classify_curl(code, hp->body_overflow);
        /* The phase it was in is that of the hop that failed. */
        failure_detail(hp, code, hop[T_NAMELOOKUP], hop[T_CONNECT], hop[T_APPCONNECT],
                       hop[T_STARTTRANSFER], out->detail, sizeof(out->detail));
    } else {
        r = http_evaluate(hp->check, out->status, buf_str(&hp->headers), hp->headers.len,
                          buf_str(&hp->body), hp->body.len, out->duration, out->detail,
                          sizeof(out->detail));
        /* Then how the response came, as blackbox_exporter judges it last. */
        if (r == CHECK_REASON_NONE)
            r = http_judge_transport(&http_spec_of(hp->check)->expect, tail->ssl,
                                     tail->http_version, out->detail, sizeof(out->detail));
    }
    out->reason = r;
    out->success = r == CHECK_REASON_NONE;
    /* Only a judged response fails on a pattern (an over-long body is a
     * body failure of the transfer, not of a pattern). */
    tail->failed_due_to_regex =
        code == CURLE_OK && (r == CHECK_REASON_BODY || r == CHECK_REASON_HEADER);
}

/* ---- redirects ---- */

static void on_done(struct probe_loop *loop, CURL *easy, CURLcode code, void *arg);

static CURLcode url_error(CURLUcode uc)
{
    return uc == CURLUE_OUT_OF_MEMORY        ? CURLE_OUT_OF_MEMORY
           : uc == CURLUE_UNSUPPORTED_SCHEME ? CURLE_UNSUPPORTED_PROTOCOL
                                             : CURLE_URL_MALFORMAT;
}

/* The method of the next hop: libcurl's rules (a 301 or 302 turns a POST
 * into a GET, a 303 turns anything but HEAD into a GET, without the body),
 * without libcurl's habit of sending the configured method's name anyway. */
static bool becomes_get(const char *method, long status)
{
    if (status == 301 || status == 302)
        return strcmp(method, "POST") == 0;
    return status == 303 && strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
}

/*
 * After a hop that ended in a redirect (a 3xx with a Location, and
 * follow_redirects): point the easy handle at the target and run it again,
 * and return true; or return false with *code saying why the run ends
 * here. Like libcurl's following: at most HTTP_MAX_REDIRECTS hops, all
 * within the check's timeout, the target resolved against the current URL
 * by libcurl (CURLINFO_REDIRECT_URL). Unlike it, configured headers and
 * credentials go only to the first request's origin (set_secrets).
 */
static bool follow_redirect(struct probe_loop *loop, struct http_probe *hp, CURLcode *code)
{
    CURL *e = hp->easy;
    char *target = NULL, *next = NULL, *origin = NULL;
    long status = 0;
    bool started = false;
    CURLU *u = NULL;
    (void)curl_easy_getinfo(e, CURLINFO_REDIRECT_URL, &target);
    (void)curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    if (!target)
        return false; /* judged as it is */
    if (hp->redirects == HTTP_MAX_REDIRECTS) {
        snprintf(hp->errbuf, sizeof(hp->errbuf), "Maximum (%d) redirects followed",
                 HTTP_MAX_REDIRECTS);
        *code = CURLE_TOO_MANY_REDIRECTS;
        return false;
    }
    int64_t left_ms = hp->timeout_ms - (int64_t)(hp->timers[T_TOTAL] / 1000);
    if (left_ms <= 0) {
        *code = CURLE_OPERATION_TIMEDOUT;
        return false;
    }
    /* As libcurl parses a target it follows: spaces and other bytes a URL
     * may not hold are encoded. */
    u = curl_url();
    CURLUcode uc = u ? curl_url_set(u, CURLUPART_URL, target, CURLU_URLENCODE | CURLU_ALLOW_SPACE)
                     : CURLUE_OUT_OF_MEMORY;
    if (uc == CURLUE_OK)
        uc = curl_url_get(u, CURLUPART_URL, &next, 0);
    if (uc != CURLUE_OK) {
        snprintf(hp->errbuf, sizeof(hp->errbuf), "The redirect target URL could not be parsed: %s",
                 curl_url_strerror(uc));
        *code = url_error(uc);
        goto out;
    }
    origin = origin_of(u);
    /* The first request's origin, needed only now that a hop follows. */
    if (!hp->origin)
        hp->origin = url_origin(hp->url ? hp->url : hp->req_url);
    bool same_origin = origin && hp->origin && strcmp(origin, hp->origin) == 0;
    CURLcode cc = curl_easy_setopt(e, CURLOPT_URL, next);
    if (cc == CURLE_OK)
        cc = curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)left_ms);
    if (cc == CURLE_OK)
        cc = curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)left_ms);
    if (cc == CURLE_OK)
        cc = set_secrets(hp, same_origin);
    if (cc == CURLE_OK && becomes_get(hp->method, status)) {
        hp->method = "GET";
        cc = curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)-1);
        if (cc == CURLE_OK)
            cc = curl_easy_setopt(e, CURLOPT_POSTFIELDS, NULL);
        if (cc == CURLE_OK)
            cc = curl_easy_setopt(e, CURLOPT_HTTPGET, 1L); /* after POSTFIELDS, which means POST */
        if (cc == CURLE_OK)
            cc = curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL);
    }
    if (cc != CURLE_OK) {
        *code = cc;
        goto out;
    }
    hp->errbuf[0] = '\0';
    if (probe_add_easy(loop, e, on_done, hp) != OP_OK) {
        snprintf(hp->errbuf, sizeof(hp->errbuf), "cannot start the redirected request");
        *code = CURLE_FAILED_INIT;
        goto out;
    }
    hp->redirects++;
    started = true;
out:
    curl_free(next);
    free(origin);
    curl_url_cleanup(u);
    return started;
}

/* ---- the check type ---- */

static void on_done(struct probe_loop *loop, CURL *easy, CURLcode code, void *arg)
{
    (void)easy;
    struct http_probe *hp = arg;
    curl_off_t hop[T_COUNT];
    add_timers(hp, hop);
    /* A hop over anything but plain http may have left a TLS session in
     * the handle (or libcurl could not tell): it is not reused. */
    char *scheme = NULL;
    (void)curl_easy_getinfo(hp->easy, CURLINFO_SCHEME, &scheme);
    if (!scheme || strcasecmp(scheme, "http") != 0)
        hp->reusable = false;
    if (code == CURLE_OK && hp->redirect_response && follow_redirect(loop, hp, &code))
        return; /* the next hop runs */
    struct check_result res;
    struct http_tail tail;
    probe_finish(hp, code, hop, &res, &tail);
    if (hp->cb) {
        /* The caller may end its run from the callback and release what
         * the handle used (a share): the handle goes first. */
        release_easy(loop, hp);
        struct http_response resp = {
            .headers = buf_str(&hp->headers),
            .headers_len = hp->headers.len,
            .body = buf_str(&hp->body),
            .body_len = hp->body.len,
        };
        hp->cb(loop, &res, &resp, hp->cb_arg);
    } else {
        probe_done(loop, hp->job, &res);
    }
    probe_free(loop, hp);
}

static enum op_rc http_start(struct probe_loop *loop, const struct check_spec *c,
                             struct probe_job *job, void **run)
{
    struct http_probe *hp;
    enum op_rc rc = probe_new(loop, c, NULL, &hp);
    if (rc != OP_OK)
        return rc;
    hp->job = job;
    rc = probe_add_easy(loop, hp->easy, on_done, hp);
    if (rc != OP_OK) {
        probe_free(loop, hp);
        return rc;
    }
    *run = hp;
    return OP_OK;
}

static void http_cancel(struct probe_loop *loop, void *run)
{
    struct http_probe *hp = run;
    probe_remove_easy(loop, hp->easy);
    hp->reusable = false; /* stopped mid-transfer */
    probe_free(loop, hp);
}

enum op_rc http_request_start(struct probe_loop *loop, const struct check_spec *c,
                              const struct http_request *rq, http_request_cb cb, void *arg,
                              void **handle)
{
    struct http_probe *hp;
    enum op_rc rc = probe_new(loop, c, rq, &hp);
    if (rc != OP_OK)
        return rc;
    hp->cb = cb;
    hp->cb_arg = arg;
    rc = probe_add_easy(loop, hp->easy, on_done, hp);
    if (rc != OP_OK) {
        probe_free(loop, hp);
        return rc;
    }
    *handle = hp;
    return OP_OK;
}

void http_request_cancel(struct probe_loop *loop, void *handle)
{
    http_cancel(loop, handle);
}

/* Everything an http run may report. */
static const enum check_reason http_reasons[] = {
    CHECK_REASON_TIMEOUT,     CHECK_REASON_DNS,   CHECK_REASON_CONNECT, CHECK_REASON_TLS,
    CHECK_REASON_HTTP_STATUS, CHECK_REASON_BODY,  CHECK_REASON_HEADER,  CHECK_REASON_JSON,
    CHECK_REASON_LATENCY,     CHECK_REASON_OTHER,
};

const struct check_type http_check_type = {
    .schema = &http_schema,
    .reasons = http_reasons,
    .n_reasons = ARRAY_SIZE(http_reasons),
    .status_name = "HTTP status",
    .global_init = http_global_init,
    .global_fini = curl_tls_global_fini,
    .start = http_start,
    .cancel = http_cancel,
};
