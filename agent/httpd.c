/* httpd.c - HTTP endpoints. */
#include "httpd.h"
#include "buf.h"
#include "listener.h"
#include "log.h"
#include "websec.h"

#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include <zlib.h>

#include "canary_state.h"

/* Idle or slow clients are dropped after this many seconds, and at most this
 * many connections are served at once: a stuck client must not pin threads. */
#define HTTPD_CONN_TIMEOUT_S 30
#define HTTPD_CONN_LIMIT 256
/* Flagger's webhook body is a few hundred bytes; anything larger is not it. */
#define HTTPD_MAX_GATE_BODY (64u << 10)
/* outpost_http_requests_total keeps a counter for every status 100-599. */
#define HTTPD_STATUS_MIN 100
#define HTTPD_STATUS_SLOTS 500

#define FLAGGER_PREFIX "/gates/flagger/"
#define ARGO_PREFIX "/gates/argo/"
#define CHECKS_PATH "/api/v1/checks"

/* The handler label of outpost_http_requests_total: a fixed name per
 * route, never the path a client sent. */
enum route {
    ROUTE_LANDING,
    ROUTE_METRICS,
    ROUTE_HEALTHY,
    ROUTE_READY,
    ROUTE_RELOAD,
    ROUTE_FLAGGER,
    ROUTE_ARGO,
    ROUTE_API,
    ROUTE_OTHER,
    ROUTE_COUNT
};

static const char *const route_names[ROUTE_COUNT] = {
    "landing", "metrics", "healthy", "ready", "reload", "flagger", "argo", "api", "other",
};

struct httpd {
    struct MHD_Daemon *daemons[HTTPD_MAX_LISTEN];
    size_t n;
    struct runtime *rt;
    struct websec *sec;
    char *telemetry_path;
    unsigned max_requests;
    bool enable_lifecycle;
    atomic_uint active_scrapes;
    atomic_uint_fast64_t requests[ROUTE_COUNT][HTTPD_STATUS_SLOTS];
};

/* One request, from its first call to its completion: the route, the web
 * security generation it is judged by, the status it got (counted at
 * completion), and Flagger's body. */
struct req {
    struct httpd *h;
    struct MHD_Connection *c;
    enum route route;
    unsigned status; /* 0 until a response is queued */
    struct websec_gen *sec;
    bool authed;  /* credentials checked, or none needed */
    bool reading; /* Flagger: the body is being read */
    bool too_big;
    struct buf body;
    char client[64];
    uint8_t key[RL_KEY_BYTES];
};

/* ---- responses ---- */

/* Every response goes out here: the configured headers, the status kept
 * for the request counter. Takes r (destroyed). */
static enum MHD_Result respond(struct req *q, unsigned status, struct MHD_Response *r)
{
    if (!r)
        return MHD_NO;
    const struct header_kv *hd;
    size_t n = websec_headers(q->sec, &hd);
    for (size_t i = 0; i < n; i++)
        MHD_add_response_header(r, hd[i].name, hd[i].value);
    enum MHD_Result ret = MHD_queue_response(q->c, status, r);
    if (ret == MHD_YES)
        q->status = status;
    MHD_destroy_response(r);
    return ret;
}

static struct MHD_Response *text_response(const char *text)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    if (r)
        MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
    return r;
}

static enum MHD_Result send_text(struct req *q, unsigned status, const char *text)
{
    return respond(q, status, text_response(text));
}

/* Takes ownership of body (malloc'ed). */
static enum MHD_Result send_owned(struct req *q, unsigned status, char *body, size_t len,
                                  const char *ctype, bool gzip)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", ctype);
    if (gzip)
        MHD_add_response_header(r, "Content-Encoding", "gzip");
    MHD_add_response_header(r, "Vary", "Accept-Encoding, Accept");
    return respond(q, status, r);
}

static enum MHD_Result method_not_allowed(struct req *q, const char *allow)
{
    struct MHD_Response *r = text_response("method not allowed\n");
    if (r)
        MHD_add_response_header(r, "Allow", allow);
    return respond(q, MHD_HTTP_METHOD_NOT_ALLOWED, r);
}

/* 401 with a challenge for each way in that is configured. The text does
 * not say whether credentials were missing or wrong. */
static enum MHD_Result send_unauthorized(struct req *q)
{
    bool users = websec_has_users(q->sec), tokens = websec_has_tokens(q->sec);
    struct MHD_Response *r =
        text_response(users && tokens ? "authentication required (basic auth or a bearer token)\n"
                      : users         ? "authentication required (basic auth)\n"
                                      : "authentication required (a bearer token)\n");
    if (r && users)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Basic realm=\"outpost\"");
    if (r && tokens)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"outpost\"");
    return respond(q, MHD_HTTP_UNAUTHORIZED, r);
}

static enum MHD_Result send_too_many(struct req *q, uint32_t retry_after_s)
{
    char text[96], secs[16];
    snprintf(text, sizeof(text), "too many requests from this address; retry in %u s\n",
             retry_after_s);
    snprintf(secs, sizeof(secs), "%u", retry_after_s);
    struct MHD_Response *r = text_response(text);
    if (r)
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, secs);
    return respond(q, MHD_HTTP_TOO_MANY_REQUESTS, r);
}

/* gzip-compress in (caller frees *out). */
static enum op_rc gzip_buf(const char *in, size_t len, char **out, size_t *out_len)
{
    z_stream z = {0};
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return OP_ERR_SYSTEM;
    size_t cap = deflateBound(&z, (uLong)len);
    char *dst = xmalloc(cap);
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    z.next_out = (Bytef *)dst;
    z.avail_out = (uInt)cap;
    int zrc = deflate(&z, Z_FINISH);
    size_t n = z.total_out;
    deflateEnd(&z);
    if (zrc != Z_STREAM_END) {
        free(dst);
        return OP_ERR_SYSTEM;
    }
    *out = dst;
    *out_len = n;
    return OP_OK;
}

static enum MHD_Result serve_metrics(struct req *q)
{
    struct httpd *h = q->h;
    unsigned active = atomic_fetch_add(&h->active_scrapes, 1) + 1;
    enum MHD_Result ret;
    if (h->max_requests && active > h->max_requests) {
        ret = send_text(q, MHD_HTTP_SERVICE_UNAVAILABLE,
                        "too many parallel scrapes (see --web.max-requests)\n");
        goto out;
    }
    const char *accept = MHD_lookup_connection_value(q->c, MHD_HEADER_KIND, "Accept");
    enum expo_format fmt = expo_negotiate(accept);
    struct buf b;
    buf_init(&b, RT_MAX_SCRAPE_BYTES);
    if (rt_render(h->rt, fmt, &b) != OP_OK) {
        buf_free(&b);
        char cap[24];
        snprintf(cap, sizeof(cap), "%u", RT_MAX_SCRAPE_BYTES);
        log_error("metrics page exceeds its size cap", "cap_bytes", cap);
        ret = send_text(q, MHD_HTTP_INTERNAL_SERVER_ERROR, "metrics page too large\n");
        goto out;
    }
    const char *ctype = fmt == EXPO_OPENMETRICS ? EXPO_CT_OPENMETRICS : EXPO_CT_TEXT;
    const char *ae = MHD_lookup_connection_value(q->c, MHD_HEADER_KIND, "Accept-Encoding");
    if (expo_accepts_gzip(ae)) {
        char *z;
        size_t zlen;
        if (gzip_buf(buf_str(&b), b.len, &z, &zlen) == OP_OK) {
            buf_free(&b);
            ret = send_owned(q, MHD_HTTP_OK, z, zlen, ctype, true);
            goto out;
        }
    }
    size_t len = b.len;
    ret = send_owned(q, MHD_HTTP_OK, buf_take(&b), len, ctype, false);
out:
    atomic_fetch_sub(&h->active_scrapes, 1);
    return ret;
}

/* The request counters, appended to the metrics page (rt_set_metrics_hook).
 * A family appears once any request was counted; each (handler, code)
 * series once it happened. */
static void render_requests(struct expo *e, void *arg)
{
    struct httpd *h = arg;
    expo_family(e, "outpost_http_requests_total", EXPO_COUNTER,
                "HTTP requests answered, by handler and status code.");
    for (int r = 0; r < ROUTE_COUNT; r++) {
        for (int s = 0; s < HTTPD_STATUS_SLOTS; s++) {
            uint64_t v = atomic_load(&h->requests[r][s]);
            if (!v)
                continue;
            char code[8];
            snprintf(code, sizeof(code), "%d", s + HTTPD_STATUS_MIN);
            struct label l[] = {{"handler", route_names[r]}, {"code", code}};
            expo_sample_u64(e, "outpost_http_requests_total", "", l, 2, NULL, v);
        }
    }
}

static enum MHD_Result serve_landing(struct req *q)
{
    struct buf b;
    buf_init(&b, 1u << 16);
    /* The telemetry path is an operator's flag, shown as text, escaped. */
    buf_adds(&b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>outpost</title>"
                 "</head><body>\n<h1>outpost</h1>\n<p>Synthetic checks, SLOs and canary "
                 "judgement for Prometheus.</p>\n<p>Version " OUTPOST_VERSION
                 " (revision " OUTPOST_REVISION ")</p>\n<ul>\n<li><a href=\"");
    for (const char *p = q->h->telemetry_path; *p; p++) {
        if (*p == '<')
            buf_adds(&b, "&lt;");
        else if (*p == '>')
            buf_adds(&b, "&gt;");
        else if (*p == '&')
            buf_adds(&b, "&amp;");
        else if (*p == '"')
            buf_adds(&b, "&quot;");
        else
            buf_addc(&b, *p);
    }
    buf_adds(&b, "\">Metrics</a></li>\n<li><a href=\"" CHECKS_PATH "\">Checks and their last "
                 "results (JSON)</a></li>\n<li><a href=\"/-/healthy\">Health</a></li>\n"
                 "<li><a href=\"/-/ready\">Readiness</a></li>\n</ul>\n</body></html>\n");
    if (b.failed)
        return send_text(q, MHD_HTTP_INTERNAL_SERVER_ERROR, "landing page too large\n");
    size_t len = b.len;
    return send_owned(q, MHD_HTTP_OK, buf_take(&b), len, "text/html; charset=utf-8", false);
}

static enum MHD_Result serve_reload(struct req *q)
{
    /* Prometheus' rule: reloading over HTTP is opt-in. */
    if (!q->h->enable_lifecycle)
        return send_text(q, MHD_HTTP_FORBIDDEN,
                         "reload over HTTP is off: start outpost with --web.enable-lifecycle "
                         "(SIGHUP always reloads)\n");
    struct buf errors;
    buf_init(&errors, 1u << 20);
    enum MHD_Result ret;
    if (rt_reload(q->h->rt, &errors) == OP_OK) {
        ret = send_text(q, MHD_HTTP_OK, "configuration reloaded\n");
    } else {
        ret = send_text(
            q, MHD_HTTP_INTERNAL_SERVER_ERROR,
            buf_str_or(
                &errors,
                "the list of problems is longer than its cap; fix the first ones and retry\n"));
    }
    buf_free(&errors);
    return ret;
}

/* ---- checks ---- */

/* A JSON error object with the check's name (borrowed), as the API's 404. */
static enum MHD_Result send_json_error(struct req *q, unsigned status, const char *error,
                                       const char *name)
{
    struct buf b;
    buf_init(&b, 1u << 20); /* a name from the request line, bounded by MHD */
    buf_adds(&b, "{\"error\":");
    buf_add_json_string(&b, error);
    if (name) {
        buf_adds(&b, ",\"name\":");
        buf_add_json_string(&b, name);
    }
    buf_adds(&b, "}\n");
    if (b.failed)
        return send_text(q, MHD_HTTP_INTERNAL_SERVER_ERROR, "error too large\n");
    size_t len = b.len;
    return send_owned(q, status, buf_take(&b), len, "application/json", false);
}

/* GET /api/v1/checks (name NULL) and /api/v1/checks/{name}. The listing
 * costs about what a scrape does, so it counts against --web.max-requests. */
static enum MHD_Result serve_checks(struct req *q, const char *name)
{
    struct httpd *h = q->h;
    bool gated = !name;
    unsigned active = gated ? atomic_fetch_add(&h->active_scrapes, 1) + 1 : 0;
    enum MHD_Result ret;
    if (gated && h->max_requests && active > h->max_requests) {
        ret = send_json_error(q, MHD_HTTP_SERVICE_UNAVAILABLE,
                              "too many parallel requests (see --web.max-requests)", NULL);
        goto out;
    }
    struct buf b;
    buf_init(&b, RT_MAX_CHECKS_JSON_BYTES);
    enum op_rc rc = rt_checks_json(h->rt, name, &b);
    if (rc == OP_OK)
        rc = buf_addc(&b, '\n');
    if (rc != OP_OK) {
        buf_free(&b);
        ret = rc == OP_ERR_NOT_FOUND
                  ? send_json_error(q, MHD_HTTP_NOT_FOUND, "no check of that name", name)
                  : send_json_error(q, MHD_HTTP_INTERNAL_SERVER_ERROR, "answer larger than its cap",
                                    NULL);
        goto out;
    }
    size_t len = b.len;
    ret = send_owned(q, MHD_HTTP_OK, buf_take(&b), len, "application/json", false);
out:
    if (gated)
        atomic_fetch_sub(&h->active_scrapes, 1);
    return ret;
}

/* ---- gates ---- */

static enum MHD_Result serve_argo(struct req *q, const char *name)
{
    struct canary_verdict v;
    bool reset;
    if (rt_canary(q->h->rt, name, NULL, &v, &reset) != OP_OK)
        return send_text(q, MHD_HTTP_NOT_FOUND, "no canary of that name\n");
    struct buf b;
    buf_init(&b, 1u << 20);
    canary_verdict_json(&v, name, true, &b);
    buf_addc(&b, '\n');
    if (b.failed) {
        buf_free(&b);
        return send_text(q, MHD_HTTP_INTERNAL_SERVER_ERROR, "verdict too large\n");
    }
    size_t len = b.len;
    return send_owned(q, MHD_HTTP_OK, buf_take(&b), len, "application/json", false);
}

/* Validate Flagger's body: a JSON object whose known fields are strings
 * (metadata: an object of strings). *checksum: borrowed from root, may be
 * NULL. Returns a static reason on error. STATIC: tests/fuzz reaches both. */
STATIC const char *flagger_body(json_t *root, const char **checksum);
STATIC const char *flagger_token(json_t *root);

STATIC const char *flagger_body(json_t *root, const char **checksum)
{
    static const char *const strings[] = {"name", "namespace", "phase", "checksum"};
    *checksum = NULL;
    if (!json_is_object(root))
        return "body must be a JSON object";
    for (size_t i = 0; i < ARRAY_SIZE(strings); i++) {
        json_t *f = json_object_get(root, strings[i]);
        if (f && !json_is_string(f))
            return "name, namespace, phase and checksum must be strings";
    }
    json_t *md = json_object_get(root, "metadata");
    if (md && !json_is_null(md)) {
        if (!json_is_object(md))
            return "metadata must be an object of strings";
        const char *k;
        json_t *v;
        json_object_foreach(md, k, v)
        {
            if (!json_is_string(v))
                return "metadata must be an object of strings";
        }
    }
    json_t *cs = json_object_get(root, "checksum");
    if (cs) {
        *checksum = json_string_value(cs);
        if (strlen(*checksum) >= CANARY_MAX_CHECKSUM)
            return "checksum longer than 255 bytes";
    }
    return NULL;
}

/* metadata.token of a Flagger body, if it is a string (borrowed from root). */
STATIC const char *flagger_token(json_t *root)
{
    json_t *md = json_is_object(root) ? json_object_get(root, "metadata") : NULL;
    json_t *tok = json_is_object(md) ? json_object_get(md, "token") : NULL;
    return json_is_string(tok) ? json_string_value(tok) : NULL;
}

static enum MHD_Result serve_flagger(struct req *q, const char *name)
{
    const char *hook = MHD_lookup_connection_value(q->c, MHD_GET_ARGUMENT_KIND, "hook");
    json_error_t jerr;
    json_t *root = q->body.len ? json_loadb(q->body.data, q->body.len, 0, &jerr) : NULL;
    /* Flagger cannot send headers: without them its body's metadata.token
     * stands for a bearer token, and nothing else happens (no sample reset
     * for a new checksum) before it passed. */
    if (!q->authed &&
        websec_authenticate_token(q->sec, root ? flagger_token(root) : NULL, q->client,
                                  route_names[q->route]) != WEBSEC_AUTH_OK) {
        json_decref(root);
        return send_unauthorized(q);
    }
    if (!hook)
        hook = "rollout";
    bool rollback = strcmp(hook, "rollback") == 0;
    if (!rollback && strcmp(hook, "rollout") != 0 && strcmp(hook, "confirm-promotion") != 0) {
        json_decref(root);
        return send_text(q, MHD_HTTP_BAD_REQUEST,
                         "hook must be rollout, confirm-promotion or rollback\n");
    }
    if (!root)
        return send_text(q, MHD_HTTP_BAD_REQUEST,
                         "body is not JSON (Flagger sends {name, namespace, phase, checksum, "
                         "metadata})\n");
    const char *checksum;
    const char *bad = flagger_body(root, &checksum);
    if (bad) {
        json_decref(root);
        struct buf m;
        buf_init(&m, 1024);
        buf_addf(&m, "%s\n", bad);
        enum MHD_Result r = send_text(q, MHD_HTTP_BAD_REQUEST, buf_str(&m));
        buf_free(&m);
        return r;
    }
    struct canary_verdict v;
    bool reset;
    enum op_rc rc = rt_canary(q->h->rt, name, checksum, &v, &reset);
    json_decref(root);
    if (rc != OP_OK)
        return send_text(q, MHD_HTTP_NOT_FOUND, "no canary of that name\n");
    /* Flagger counts <= 202 as success. For rollback hooks success means
     * "roll back now", so they pass only on a significant failure. */
    bool ok = rollback ? v.verdict == CANARY_FAIL : v.verdict == CANARY_PASS;
    struct buf m;
    buf_init(&m, 1024);
    if (rollback && !ok)
        buf_addf(&m, "no significant failure, %s\n", v.reason);
    else
        buf_addf(&m, "%s\n", v.reason);
    enum MHD_Result r = send_text(q, ok ? MHD_HTTP_OK : MHD_HTTP_PRECONDITION_FAILED, buf_str(&m));
    buf_free(&m);
    return r;
}

/* Start reading Flagger's body into a capped buffer (the first call). */
static enum MHD_Result start_body(struct req *q)
{
    /* Content-Length is digits only (RFC 9110): a sign, a suffix or an
     * empty value is a malformed request, not a small body. */
    const char *cl = MHD_lookup_connection_value(q->c, MHD_HEADER_KIND, "Content-Length");
    uint64_t cl_bytes;
    enum op_rc clrc = cl ? parse_u64(cl, strlen(cl), HTTPD_MAX_GATE_BODY, &cl_bytes) : OP_OK;
    if (clrc == OP_ERR_LIMIT)
        return send_text(q, MHD_HTTP_CONTENT_TOO_LARGE, "body larger than 65536 bytes\n");
    if (clrc != OP_OK)
        return send_text(q, MHD_HTTP_BAD_REQUEST, "malformed Content-Length\n");
    buf_init(&q->body, HTTPD_MAX_GATE_BODY);
    q->reading = true;
    return MHD_YES;
}

/* Accumulate Flagger's body across MHD's calls, capped. Returns true once
 * the body is complete (the final call); *early is set when a response was
 * already queued (oversized). */
static bool read_body(struct req *q, const char *upload, size_t *upload_size,
                      enum MHD_Result *early)
{
    if (*upload_size == 0)
        return true;
    if (!q->too_big && buf_add(&q->body, upload, *upload_size) != OP_OK) {
        q->too_big = true;
        *early = send_text(q, MHD_HTTP_CONTENT_TOO_LARGE, "body larger than 65536 bytes\n");
    }
    *upload_size = 0;
    return false;
}

/* ---- routing ---- */

static enum route classify(const struct httpd *h, const char *url)
{
    if (strncmp(url, FLAGGER_PREFIX, strlen(FLAGGER_PREFIX)) == 0)
        return ROUTE_FLAGGER;
    if (strncmp(url, ARGO_PREFIX, strlen(ARGO_PREFIX)) == 0)
        return ROUTE_ARGO;
    if (strncmp(url, CHECKS_PATH, strlen(CHECKS_PATH)) == 0 &&
        (url[strlen(CHECKS_PATH)] == '\0' || url[strlen(CHECKS_PATH)] == '/'))
        return ROUTE_API;
    if (strcmp(url, "/-/reload") == 0)
        return ROUTE_RELOAD;
    if (strcmp(url, h->telemetry_path) == 0)
        return ROUTE_METRICS;
    if (strcmp(url, "/-/healthy") == 0)
        return ROUTE_HEALTHY;
    if (strcmp(url, "/-/ready") == 0)
        return ROUTE_READY;
    if (strcmp(url, "/") == 0)
        return ROUTE_LANDING;
    return ROUTE_OTHER;
}

/* The rate limit, then credentials, for every route but the probes'.
 * Returns true when a response (429, 401) is queued in *ret. A Flagger
 * POST without an Authorization header is let through to have its body's
 * metadata.token checked. */
static bool gate(struct req *q, const char *method, enum MHD_Result *ret)
{
    if (q->route == ROUTE_HEALTHY || q->route == ROUTE_READY) {
        q->authed = true;
        return false;
    }
    uint32_t retry;
    if (!websec_rate_ok(q->h->sec, q->key, &retry)) {
        *ret = send_too_many(q, retry);
        return true;
    }
    if (!websec_auth_required(q->sec)) {
        q->authed = true;
        return false;
    }
    const char *authz = MHD_lookup_connection_value(q->c, MHD_HEADER_KIND, "Authorization");
    if (!authz && q->route == ROUTE_FLAGGER && strcmp(method, "POST") == 0)
        return false;
    if (websec_authenticate(q->sec, authz, q->client, route_names[q->route]) == WEBSEC_AUTH_OK) {
        q->authed = true;
        return false;
    }
    *ret = send_unauthorized(q);
    return true;
}

static enum MHD_Result dispatch(struct req *q, const char *url, const char *method)
{
    bool is_get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    switch (q->route) {
    case ROUTE_FLAGGER:
        if (strcmp(method, "POST") != 0)
            return method_not_allowed(q, "POST");
        return start_body(q);
    case ROUTE_ARGO:
        if (!is_get && strcmp(method, "POST") != 0)
            return method_not_allowed(q, "GET, POST");
        return serve_argo(q, url + strlen(ARGO_PREFIX));
    case ROUTE_API: {
        /* libmicrohttpd hands the path %-decoded, so a name with a '/' (a
         * canary arm, "<canary>/baseline") may come as is or as %2F; the
         * name is everything after the prefix. */
        if (!is_get)
            return method_not_allowed(q, "GET, HEAD");
        const char *rest = url + strlen(CHECKS_PATH);
        return serve_checks(q, *rest ? rest + 1 : NULL);
    }
    case ROUTE_RELOAD:
        if (strcmp(method, "POST") != 0 && strcmp(method, "PUT") != 0)
            return method_not_allowed(q, "POST, PUT");
        return serve_reload(q);
    case ROUTE_METRICS:
        if (!is_get)
            return method_not_allowed(q, "GET, HEAD");
        return serve_metrics(q);
    case ROUTE_HEALTHY:
        if (!is_get)
            return method_not_allowed(q, "GET, HEAD");
        return send_text(q, MHD_HTTP_OK, "OK\n");
    case ROUTE_READY:
        if (!is_get)
            return method_not_allowed(q, "GET, HEAD");
        if (rt_ready(q->h->rt))
            return send_text(q, MHD_HTTP_OK, "OK\n");
        return send_text(q, MHD_HTTP_SERVICE_UNAVAILABLE, "not ready\n");
    case ROUTE_LANDING:
        if (!is_get)
            return method_not_allowed(q, "GET, HEAD");
        return serve_landing(q);
    case ROUTE_OTHER:
    case ROUTE_COUNT:
        break;
    }
    return send_text(q, MHD_HTTP_NOT_FOUND, "not found\n");
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)c;
    (void)toe;
    struct httpd *h = cls;
    struct req *q = *con_cls;
    if (!q)
        return;
    if (q->status >= HTTPD_STATUS_MIN && q->status < HTTPD_STATUS_MIN + HTTPD_STATUS_SLOTS)
        atomic_fetch_add(&h->requests[q->route][q->status - HTTPD_STATUS_MIN], 1);
    buf_free(&q->body);
    websec_release(q->sec);
    free(q);
    *con_cls = NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    struct httpd *h = cls;
    struct req *q = *con_cls;
    if (!q) {
        /* The first call, with the headers: everything is decided here
         * except Flagger's gate, the one endpoint that reads a body (a
         * capped buffer across MHD's calls). MHD discards the rest of any
         * other upload once an answer is queued (bounded work). */
        q = xcalloc(1, sizeof(*q));
        q->h = h;
        q->c = c;
        q->route = classify(h, url);
        q->sec = websec_acquire(h->sec);
        buf_init(&q->body, 0);
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        websec_client(ci ? ci->client_addr : NULL, q->client, sizeof(q->client), q->key);
        *con_cls = q;
        enum MHD_Result ret;
        if (gate(q, method, &ret))
            return ret;
        return dispatch(q, url, method);
    }
    if (!q->reading)
        return MHD_YES;
    enum MHD_Result early = MHD_YES;
    if (!read_body(q, upload_data, upload_data_size, &early))
        return early;
    if (q->too_big)
        return MHD_YES; /* the 413 is queued already */
    q->reading = false;
    return serve_flagger(q, url + strlen(FLAGGER_PREFIX));
}

/* ---- TLS ---- */

/* Each HTTPS connection gets the TLS settings current when it is accepted
 * (webtls.h), before its handshake; it holds them until it closes. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct httpd *h = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
        struct webtls *ref = NULL;
        if (ci && ci->tls_session && websec_tls_session(h->sec, ci->tls_session, &ref) == OP_OK)
            *socket_context = ref;
        else
            log_error("cannot set up TLS for a connection; it will fail its handshake");
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        websec_tls_done(*socket_context);
        *socket_context = NULL;
    }
}

/* libmicrohttpd's own credentials are never used: each session is given
 * outpost's in on_connection. Should that ever not happen, this callback
 * has no certificate to offer and the handshake fails (closed, not open). */
static int no_certificate(gnutls_session_t s, const gnutls_datum_t *req_ca_dn, int n_req,
                          const gnutls_pk_algorithm_t *algos, int n_algos, gnutls_retr2_st *st)
{
    (void)s;
    (void)req_ca_dn;
    (void)n_req;
    (void)algos;
    (void)n_algos;
    (void)st;
    return -1;
}

__attribute__((format(printf, 2, 0))) static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    log_warn("http server", "err", msg);
}

enum op_rc httpd_start(const struct httpd_options *o, struct runtime *rt, struct websec *sec,
                       struct httpd **out)
{
    bool tls = websec_tls(sec);
    if (tls && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
        log_error("this libmicrohttpd has no TLS support; remove tls_server_config from the web "
                  "configuration or use a build with GnuTLS");
        return OP_ERR_SYSTEM;
    }
    struct httpd *h = xcalloc(1, sizeof(*h));
    h->rt = rt;
    h->sec = sec;
    h->telemetry_path = xstrdup(o->telemetry_path);
    h->max_requests = o->max_requests;
    h->enable_lifecycle = o->enable_lifecycle;
    atomic_init(&h->active_scrapes, 0);
    rt_set_metrics_hook(rt, render_requests, h);
    for (size_t i = 0; i < o->n_listen; i++) {
        int port = 0;
        int fd = listener_open(o->listen[i], &port);
        if (fd < 0)
            goto fail;
        unsigned flags =
            MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
        struct MHD_Daemon *d;
        if (tls)
            d = MHD_start_daemon(
                flags | MHD_USE_TLS, 0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER,
                mhd_log, NULL, MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
                MHD_OPTION_NOTIFY_CONNECTION, on_connection, h, MHD_OPTION_HTTPS_CERT_CALLBACK,
                no_certificate, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_TIMEOUT,
                (unsigned)HTTPD_CONN_TIMEOUT_S, MHD_OPTION_CONNECTION_LIMIT,
                (unsigned)HTTPD_CONN_LIMIT, MHD_OPTION_END);
        else
            d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER,
                                 mhd_log, NULL, MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
                                 MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_TIMEOUT,
                                 (unsigned)HTTPD_CONN_TIMEOUT_S, MHD_OPTION_CONNECTION_LIMIT,
                                 (unsigned)HTTPD_CONN_LIMIT, MHD_OPTION_END);
        if (!d) {
            close(fd);
            log_error("cannot start the HTTP server", "address", o->listen[i]);
            goto fail;
        }
        h->daemons[h->n++] = d;
        char shown[300];
        listener_describe(o->listen[i], port, shown, sizeof(shown));
        log_info("listening", "address", shown, "tls", tls ? "true" : "false");
    }
    *out = h;
    return OP_OK;
fail:
    httpd_stop(h);
    return OP_ERR_IO;
}

void httpd_stop(struct httpd *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->n; i++) {
        /* MHD does not close a socket it was handed. */
        const union MHD_DaemonInfo *info =
            MHD_get_daemon_info(h->daemons[i], MHD_DAEMON_INFO_LISTEN_FD);
        int fd = info ? info->listen_fd : -1;
        MHD_stop_daemon(h->daemons[i]);
        if (fd >= 0)
            close(fd);
    }
    rt_set_metrics_hook(h->rt, NULL, NULL);
    free(h->telemetry_path);
    free(h);
}
