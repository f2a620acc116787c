/* httpd.c - HTTP endpoints: the daemons, routing, and the guard on
 * connections (httpd.h, httpd_int.h). */
#include "httpd_int.h"
#include "listener.h"
#include "log.h"
#include "runtime.h"

#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A response that makes no progress for this long is dropped (a client
 * that stopped reading); never shorter than --web.read-timeout, which
 * closes connections waiting for a request. */
#define HTTPD_WRITE_TIMEOUT_S 30
/* The longest pause after a render of a page before the next (pages.h):
 * renders take at most a quarter of a core each, and a scrape that comes
 * right after a render never waits longer than this for its turn. */
#define HTTPD_PAGE_MAX_GAP_MS 1000

const char *const httpd_route_names[ROUTE_COUNT] = {
    "landing",  "metrics",     "healthy", "ready",      "reload", "flagger",
    "argo",     "api",         "other",   "probe",      "runs",   "flagger_slo",
    "argo_slo", "maintenance", "status",  "status_api",
};

/* ---- responses ---- */

enum MHD_Result httpd_respond(struct req *q, unsigned status, struct MHD_Response *r)
{
    if (!r)
        return MHD_NO;
    const struct header_kv *hd;
    size_t n = websec_headers(q->sec, &hd);
    for (size_t i = 0; i < n; i++)
        MHD_add_response_header(r, hd[i].name, hd[i].value);
    enum MHD_Result ret = MHD_queue_response(q->c, status, r);
    if (ret == MHD_YES) {
        q->status = status;
        /* The request is in: no read deadline, never evicted. */
        if (q->conn)
            ct_answering(q->conn);
    }
    MHD_destroy_response(r);
    return ret;
}

struct MHD_Response *httpd_text_response(const char *text)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    if (r)
        MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
    return r;
}

enum MHD_Result httpd_send_text(struct req *q, unsigned status, const char *text)
{
    return httpd_respond(q, status, httpd_text_response(text));
}

/* Takes ownership of body (malloc'ed). */
enum MHD_Result httpd_send_owned(struct req *q, unsigned status, char *body, size_t len,
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
    return httpd_respond(q, status, r);
}

static enum MHD_Result method_not_allowed(struct req *q, const char *allow)
{
    struct MHD_Response *r = httpd_text_response("method not allowed\n");
    if (r)
        MHD_add_response_header(r, "Allow", allow);
    return httpd_respond(q, MHD_HTTP_METHOD_NOT_ALLOWED, r);
}

/* 401 with a challenge for each way in that is configured. The text does
 * not say whether credentials were missing or wrong. */
enum MHD_Result httpd_send_unauthorized(struct req *q)
{
    bool users = websec_has_users(q->sec), tokens = websec_has_tokens(q->sec);
    struct MHD_Response *r = httpd_text_response(
        users && tokens ? "authentication required (basic auth or a bearer token)\n"
        : users         ? "authentication required (basic auth)\n"
                        : "authentication required (a bearer token)\n");
    if (r && users)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Basic realm=\"outpost\"");
    if (r && tokens)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"outpost\"");
    return httpd_respond(q, MHD_HTTP_UNAUTHORIZED, r);
}

static enum MHD_Result send_too_many(struct req *q, uint32_t retry_after_s)
{
    char text[96], secs[16];
    snprintf(text, sizeof(text), "too many requests from this address; retry in %u s\n",
             retry_after_s);
    snprintf(secs, sizeof(secs), "%u", retry_after_s);
    struct MHD_Response *r = httpd_text_response(text);
    if (r)
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, secs);
    return httpd_respond(q, MHD_HTTP_TOO_MANY_REQUESTS, r);
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
        return httpd_send_text(q, MHD_HTTP_INTERNAL_SERVER_ERROR, "landing page too large\n");
    size_t len = b.len;
    return httpd_send_owned(q, MHD_HTTP_OK, buf_take(&b), len, "text/html; charset=utf-8", false);
}

static enum MHD_Result serve_reload(struct req *q)
{
    /* Prometheus' rule: reloading over HTTP is opt-in. */
    if (!q->h->enable_lifecycle)
        return httpd_send_text(q, MHD_HTTP_FORBIDDEN,
                               "reload over HTTP is off: start outpost with --web.enable-lifecycle "
                               "(SIGHUP always reloads)\n");
    struct buf errors;
    buf_init(&errors, 1u << 20);
    enum MHD_Result ret;
    if (rt_reload(q->h->rt, &errors) == OP_OK) {
        ret = httpd_send_text(q, MHD_HTTP_OK, "configuration reloaded\n");
    } else {
        ret = httpd_send_text(
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
enum MHD_Result httpd_send_json_error(struct req *q, unsigned status, const char *error,
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
        return httpd_send_text(q, MHD_HTTP_INTERNAL_SERVER_ERROR, "error too large\n");
    size_t len = b.len;
    return httpd_send_owned(q, status, buf_take(&b), len, "application/json", false);
}

/* ---- routing ---- */

static enum route classify(const struct httpd *h, const char *url)
{
    if (strncmp(url, FLAGGER_SLO_PREFIX, strlen(FLAGGER_SLO_PREFIX)) == 0)
        return ROUTE_FLAGGER_SLO;
    if (strncmp(url, ARGO_SLO_PREFIX, strlen(ARGO_SLO_PREFIX)) == 0)
        return ROUTE_ARGO_SLO;
    if (strncmp(url, FLAGGER_PREFIX, strlen(FLAGGER_PREFIX)) == 0)
        return ROUTE_FLAGGER;
    if (strncmp(url, ARGO_PREFIX, strlen(ARGO_PREFIX)) == 0)
        return ROUTE_ARGO;
    if (strncmp(url, CHECKS_PATH, strlen(CHECKS_PATH)) == 0 &&
        (url[strlen(CHECKS_PATH)] == '\0' || url[strlen(CHECKS_PATH)] == '/'))
        return ROUTE_API;
    if (strncmp(url, RUNS_PREFIX, strlen(RUNS_PREFIX)) == 0)
        return ROUTE_RUNS;
    if (strncmp(url, MAINT_PATH, strlen(MAINT_PATH)) == 0 &&
        (url[strlen(MAINT_PATH)] == '\0' || url[strlen(MAINT_PATH)] == '/'))
        return ROUTE_MAINT;
    if (strcmp(url, STATUS_API_PATH) == 0)
        return ROUTE_STATUS_API;
    if (strcmp(url, STATUS_PATH) == 0)
        return ROUTE_STATUS;
    if (strcmp(url, "/-/reload") == 0)
        return ROUTE_RELOAD;
    if (strcmp(url, PROBE_PATH) == 0)
        return ROUTE_PROBE;
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
    /* Maintenance holds alerts and silences them: never open to anyone
     * who can reach the port. */
    if (q->route == ROUTE_MAINT && !websec_auth_required(q->sec)) {
        *ret = httpd_send_text(q, MHD_HTTP_FORBIDDEN,
                               "the maintenance API needs credentials: configure basic_auth_users "
                               "(--web.config.file) or --web.bearer-tokens-file\n");
        return true;
    }
    if (!websec_auth_required(q->sec)) {
        q->authed = true;
        return false;
    }
    const char *authz = MHD_lookup_connection_value(q->c, MHD_HEADER_KIND, "Authorization");
    if (!authz && (q->route == ROUTE_FLAGGER || q->route == ROUTE_FLAGGER_SLO) &&
        strcmp(method, "POST") == 0)
        return false;
    if (websec_authenticate(q->sec, authz, q->client, httpd_route_names[q->route]) ==
        WEBSEC_AUTH_OK) {
        q->authed = true;
        return false;
    }
    *ret = httpd_send_unauthorized(q);
    return true;
}

static enum MHD_Result dispatch(struct req *q, const char *url, const char *method)
{
    bool is_get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    switch (q->route) {
    case ROUTE_FLAGGER:
        if (strcmp(method, "POST") != 0)
            return method_not_allowed(q, "POST");
        return httpd_start_body(q);
    case ROUTE_ARGO:
        if (!is_get && strcmp(method, "POST") != 0)
            return method_not_allowed(q, "GET, POST");
        return httpd_serve_argo(q, url + strlen(ARGO_PREFIX));
    case ROUTE_FLAGGER_SLO:
        if (strcmp(method, "POST") != 0)
            return method_not_allowed(q, "POST");
        return httpd_start_body(q);
    case ROUTE_ARGO_SLO:
        if (!is_get && strcmp(method, "POST") != 0)
            return method_not_allowed(q, "GET, POST");
        return httpd_serve_argo_slo(q, url + strlen(ARGO_SLO_PREFIX));
    case ROUTE_API: {
        /* libmicrohttpd hands the path %-decoded, so a name with a '/' (a
         * canary arm, "<canary>/baseline") may come as is or as %2F; the
         * name is everything after the prefix. */
        if (!is_get)
            return method_not_allowed(q, "GET, HEAD");
        const char *rest = url + strlen(CHECKS_PATH);
        return httpd_serve_checks(q, *rest ? rest + 1 : NULL);
    }
    case ROUTE_RELOAD:
        if (strcmp(method, "POST") != 0 && strcmp(method, "PUT") != 0)
            return method_not_allowed(q, "POST, PUT");
        return serve_reload(q);
    case ROUTE_METRICS:
        if (!is_get)
            return method_not_allowed(q, "GET, HEAD");
        return httpd_serve_metrics(q);
    case ROUTE_HEALTHY:
        if (!is_get)
            return method_not_allowed(q, "GET, HEAD");
        return httpd_send_text(q, MHD_HTTP_OK, "OK\n");
    case ROUTE_READY:
        if (!is_get)
            return method_not_allowed(q, "GET, HEAD");
        if (rt_ready(q->h->rt))
            return httpd_send_text(q, MHD_HTTP_OK, "OK\n");
        return httpd_send_text(q, MHD_HTTP_SERVICE_UNAVAILABLE, "not ready\n");
    case ROUTE_LANDING:
        if (!is_get)
            return method_not_allowed(q, "GET, HEAD");
        return serve_landing(q);
    case ROUTE_PROBE:
        if (!is_get)
            return method_not_allowed(q, "GET, HEAD");
        return httpd_serve_probe(q);
    case ROUTE_RUNS:
        if (!is_get)
            return method_not_allowed(q, "GET, HEAD");
        return httpd_serve_runs(q, url + strlen(RUNS_PREFIX));
    case ROUTE_MAINT:
        return httpd_serve_maint(q, url, method);
    case ROUTE_STATUS:
        if (!is_get)
            return method_not_allowed(q, "GET, HEAD");
        return httpd_serve_status_page(q);
    case ROUTE_STATUS_API:
        if (!is_get)
            return method_not_allowed(q, "GET, HEAD");
        return httpd_serve_status_api(q);
    case ROUTE_OTHER:
    case ROUTE_COUNT:
        break;
    }
    return httpd_send_text(q, MHD_HTTP_NOT_FOUND, "not found\n");
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
    if (q->conn) {
        /* Kept alive, the connection now waits for its next request. */
        ct_waiting(q->conn);
        ct_unref(q->conn);
    }
    buf_free(&q->body);
    websec_release(q->sec);
    free(q);
    *con_cls = NULL;
}

/* What a connection carries from its start to its close (the socket
 * context): its entry in the connection table and, for HTTPS, the TLS
 * settings it was given. */
struct conn_ctx {
    struct ct_conn *ct; /* NULL when it was refused */
    struct webtls *tls;
};

static struct ct_conn *conn_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    const struct conn_ctx *cc = ci ? ci->socket_context : NULL;
    return cc ? cc->ct : NULL;
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
         * except Flagger's gates and a maintenance POST, the endpoints
         * that read a body (a capped buffer across MHD's calls). MHD
         * discards the rest of any other upload once an answer is queued
         * (bounded work). */
        q = xcalloc(1, sizeof(*q));
        q->h = h;
        q->c = c;
        q->conn = conn_of(c);
        if (q->conn)
            ct_ref(q->conn);
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
    if (!httpd_read_body(q, upload_data, upload_data_size, &early))
        return early;
    if (q->too_big)
        return MHD_YES; /* the 413 is queued already */
    q->reading = false;
    if (q->route == ROUTE_FLAGGER_SLO)
        return httpd_serve_flagger_slo(q, url + strlen(FLAGGER_SLO_PREFIX));
    if (q->route == ROUTE_MAINT)
        return httpd_maint_post(q);
    return httpd_serve_flagger(q, url + strlen(FLAGGER_PREFIX));
}

/* ---- connections ---- */

/* Every connection passes the connection table when accepted (limits,
 * making room) and leaves it when closed. An HTTPS connection that is
 * admitted gets the TLS settings current then (webtls.h), before its
 * handshake, and holds them until it closes. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct httpd *h = cls;
    if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        struct conn_ctx *cc = *socket_context;
        if (cc) {
            ct_close(cc->ct);
            websec_tls_done(cc->tls);
            free(cc);
        }
        *socket_context = NULL;
        return;
    }
    if (code != MHD_CONNECTION_NOTIFY_STARTED)
        return;
    struct conn_ctx *cc = xcalloc(1, sizeof(*cc));
    *socket_context = cc;
    const union MHD_ConnectionInfo *fdi =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    const union MHD_ConnectionInfo *ai =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (fdi) {
        char client[64];
        uint8_t key[RL_KEY_BYTES];
        websec_client(ai ? ai->client_addr : NULL, client, sizeof(client), key);
        /* Refusals are counted, not logged: under a flood a line each
         * would be the flood's. */
        if (ct_open(h->ct, key, fdi->connect_fd, &cc->ct) != CT_ADMITTED)
            return;
    }
    if (!websec_tls(h->sec))
        return;
    const union MHD_ConnectionInfo *ti =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    if (!ti || !ti->tls_session || websec_tls_session(h->sec, ti->tls_session, &cc->tls) != OP_OK)
        log_error("cannot set up TLS for a connection; it will fail its handshake");
}

/* The reaper: closes connections that waited --web.read-timeout for a
 * request, as soon as each is due (and looks at least once a second). */
static void *reaper(void *arg)
{
    struct httpd *h = arg;
    pthread_mutex_lock(&h->reaper_lock);
    while (!h->stopping) {
        pthread_mutex_unlock(&h->reaper_lock);
        int64_t wait_ms = 1000, next = ct_sweep(h->ct);
        if (next >= 0 && next < wait_ms)
            wait_ms = next;
        if (wait_ms < 10)
            wait_ms = 10;
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += wait_ms / 1000;
        until.tv_nsec += (wait_ms % 1000) * 1000000;
        if (until.tv_nsec >= 1000000000) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000;
        }
        pthread_mutex_lock(&h->reaper_lock);
        if (!h->stopping)
            pthread_cond_timedwait(&h->reaper_wake, &h->reaper_lock, &until);
    }
    pthread_mutex_unlock(&h->reaper_lock);
    return NULL;
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
    /* Most of libmicrohttpd's messages are about one client (closed early,
     * malformed, timed out): under a flood, a warning each would be the
     * flood's, and the defences are counted in metrics. Those about the
     * process itself (threads, memory) stay warnings. */
    if (strstr(msg, "thread") || strstr(msg, "memory"))
        log_warn("http server", "err", msg);
    else
        log_debug("http server", "err", msg);
}

enum op_rc httpd_parse_bytes(const char *s, uint64_t *out)
{
    static const struct {
        const char *sfx;
        uint64_t mul;
    } sfx[] = {{"KiB", 1u << 10}, {"MiB", 1u << 20},  {"GiB", 1u << 30}, {"kB", 1000}, {"KB", 1000},
               {"MB", 1000000},   {"GB", 1000000000}, {"B", 1},          {"", 1}};
    const uint64_t min = 1u << 20, max = 64ull << 30;
    if (strcmp(s, "auto") == 0) {
        *out = 0;
        return OP_OK;
    }
    size_t digits = strspn(s, "0123456789");
    uint64_t v;
    if (parse_u64(s, digits, max, &v) != OP_OK)
        return OP_ERR_INVALID;
    for (size_t i = 0; i < ARRAY_SIZE(sfx); i++) {
        if (strcmp(s + digits, sfx[i].sfx) != 0)
            continue;
        if (v > max / sfx[i].mul || v * sfx[i].mul < min)
            return OP_ERR_INVALID;
        *out = v * sfx[i].mul;
        return OP_OK;
    }
    return OP_ERR_INVALID;
}

/* One daemon on the listening socket fd. */
static struct MHD_Daemon *start_daemon(struct httpd *h, const struct httpd_options *o, int fd,
                                       bool tls)
{
    /* A thread per connection (docs/internals.md: a slow render, a bcrypt
     * or a reload never delays a health check), polling with poll() so
     * descriptors above FD_SETSIZE work. libmicrohttpd's own limit sits a
     * quarter above ours: connections being closed to make room still
     * count there for a moment, and must not make it refuse one we admit. */
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_POLL | MHD_USE_ERROR_LOG;
    unsigned limit = o->max_connections + o->max_connections / 4 + 16;
    unsigned timeout_s = (unsigned)((o->read_timeout_ms + 999) / 1000);
    if (timeout_s < HTTPD_WRITE_TIMEOUT_S)
        timeout_s = HTTPD_WRITE_TIMEOUT_S;
    if (tls)
        return MHD_start_daemon(
            flags | MHD_USE_TLS, 0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
            NULL, MHD_OPTION_NOTIFY_COMPLETED, on_completed, h, MHD_OPTION_NOTIFY_CONNECTION,
            on_connection, h, MHD_OPTION_HTTPS_CERT_CALLBACK, no_certificate,
            MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_TIMEOUT, timeout_s,
            MHD_OPTION_CONNECTION_LIMIT, limit, MHD_OPTION_END);
    return MHD_start_daemon(flags, 0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER,
                            mhd_log, NULL, MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
                            MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
                            MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_TIMEOUT, timeout_s,
                            MHD_OPTION_CONNECTION_LIMIT, limit, MHD_OPTION_END);
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
    h->max_probes = o->max_probes ? o->max_probes : HTTPD_DEFAULT_MAX_PROBES;
    pthread_mutex_init(&h->probe_lock, NULL);
    h->enable_lifecycle = o->enable_lifecycle;
    h->history = o->history;
    atomic_init(&h->history_missing, 0);
    atomic_init(&h->active_scrapes, 0);
    struct conntrack_options co = {o->max_connections, o->max_connections_per_ip,
                                   o->read_timeout_ms, clock_system()};
    h->ct = ct_new(&co);
    struct pages_options po = {.n_variants = HTTPD_PAGE_COUNT,
                               .max_gap_ms = HTTPD_PAGE_MAX_GAP_MS,
                               .max_held_bytes = o->max_response_memory,
                               .auto_min_bytes = HTTPD_AUTO_RESPONSE_MEMORY_MIN,
                               .auto_max_bytes = HTTPD_AUTO_RESPONSE_MEMORY_MAX,
                               .clock = clock_system(),
                               .render = httpd_render_page,
                               .render_arg = h};
    h->pages = pages_new(&po);
    pthread_mutex_init(&h->reaper_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&h->reaper_wake, &ca);
    pthread_condattr_destroy(&ca);
    rt_set_metrics_hook(rt, httpd_render_families, h);
    int err = pthread_create(&h->reaper, NULL, reaper, h);
    if (err) {
        log_error("cannot start the HTTP reaper thread", "err", strerror(err));
        goto fail;
    }
    h->reaper_running = true;
    for (size_t i = 0; i < o->n_listen; i++) {
        int port = 0;
        int fd = listener_open(o->listen[i], &port);
        if (fd < 0)
            goto fail;
        struct MHD_Daemon *d = start_daemon(h, o, fd, tls);
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
    httpd_probe_stop(h);
    for (size_t i = 0; i < h->n; i++) {
        /* MHD does not close a socket it was handed. */
        const union MHD_DaemonInfo *info =
            MHD_get_daemon_info(h->daemons[i], MHD_DAEMON_INFO_LISTEN_FD);
        int fd = info ? info->listen_fd : -1;
        MHD_stop_daemon(h->daemons[i]);
        if (fd >= 0)
            close(fd);
    }
    /* Every connection is closed and every response freed now: nothing
     * holds a page or a table entry any more. */
    if (h->reaper_running) {
        pthread_mutex_lock(&h->reaper_lock);
        h->stopping = true;
        pthread_cond_signal(&h->reaper_wake);
        pthread_mutex_unlock(&h->reaper_lock);
        pthread_join(h->reaper, NULL);
    }
    rt_set_metrics_hook(h->rt, NULL, NULL);
    pages_free(h->pages);
    ct_free(h->ct);
    pthread_cond_destroy(&h->reaper_wake);
    pthread_mutex_destroy(&h->reaper_lock);
    pthread_mutex_destroy(&h->probe_lock);
    free(h->telemetry_path);
    free(h);
}
