/* httpd.c - HTTP endpoints. */
#include "httpd.h"
#include "buf.h"
#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
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

#define FLAGGER_PREFIX "/gates/flagger/"
#define ARGO_PREFIX "/gates/argo/"
#define CHECKS_PATH "/api/v1/checks"

/* Per-request state, only for requests that read a body (Flagger). */
struct req_ctx {
    struct buf body;
    bool too_big;
};

struct httpd {
    struct MHD_Daemon *daemons[HTTPD_MAX_LISTEN];
    size_t n;
    struct runtime *rt;
    char *telemetry_path;
    unsigned max_requests;
    atomic_uint active_scrapes;
};

enum op_rc httpd_split_address(const char *addr, char *host_out, char *port_out)
{
    const char *colon;
    host_out[0] = '\0';
    if (addr[0] == '[') {
        const char *close = strchr(addr, ']');
        if (!close || close[1] != ':' || (size_t)(close - addr - 1) >= 256)
            return OP_ERR_INVALID;
        memcpy(host_out, addr + 1, (size_t)(close - addr - 1));
        host_out[close - addr - 1] = '\0';
        colon = close + 1;
    } else {
        colon = strrchr(addr, ':');
        if (!colon || (size_t)(colon - addr) >= 256)
            return OP_ERR_INVALID;
        memcpy(host_out, addr, (size_t)(colon - addr));
        host_out[colon - addr] = '\0';
        if (strchr(host_out, ':'))
            return OP_ERR_INVALID; /* bare IPv6 needs brackets */
    }
    const char *port = colon + 1;
    if (*port < '0' || *port > '9')
        return OP_ERR_INVALID; /* strtol would accept a sign or spaces */
    char *end;
    errno = 0;
    long p = strtol(port, &end, 10);
    if (errno || end == port || *end || p < 0 || p > 65535)
        return OP_ERR_INVALID;
    snprintf(port_out, 16, "%ld", p);
    return OP_OK;
}

/* ---- responses ---- */

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status, const char *text)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* Takes ownership of body (malloc'ed). */
static enum MHD_Result send_owned(struct MHD_Connection *c, unsigned status, char *body, size_t len,
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
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
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

static enum MHD_Result serve_metrics(struct httpd *h, struct MHD_Connection *c)
{
    unsigned active = atomic_fetch_add(&h->active_scrapes, 1) + 1;
    enum MHD_Result ret;
    if (h->max_requests && active > h->max_requests) {
        ret = send_text(c, MHD_HTTP_SERVICE_UNAVAILABLE,
                        "too many parallel scrapes (see --web.max-requests)\n");
        goto out;
    }
    const char *accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept");
    enum expo_format fmt = expo_negotiate(accept);
    struct buf b;
    buf_init(&b, RT_MAX_SCRAPE_BYTES);
    if (rt_render(h->rt, fmt, &b) != OP_OK) {
        buf_free(&b);
        char cap[24];
        snprintf(cap, sizeof(cap), "%u", RT_MAX_SCRAPE_BYTES);
        log_error("metrics page exceeds its size cap", "cap_bytes", cap);
        ret = send_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "metrics page too large\n");
        goto out;
    }
    const char *ctype = fmt == EXPO_OPENMETRICS ? EXPO_CT_OPENMETRICS : EXPO_CT_TEXT;
    const char *ae = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Encoding");
    if (expo_accepts_gzip(ae)) {
        char *z;
        size_t zlen;
        if (gzip_buf(buf_str(&b), b.len, &z, &zlen) == OP_OK) {
            buf_free(&b);
            ret = send_owned(c, MHD_HTTP_OK, z, zlen, ctype, true);
            goto out;
        }
    }
    size_t len = b.len;
    ret = send_owned(c, MHD_HTTP_OK, buf_take(&b), len, ctype, false);
out:
    atomic_fetch_sub(&h->active_scrapes, 1);
    return ret;
}

static enum MHD_Result serve_landing(struct httpd *h, struct MHD_Connection *c)
{
    struct buf b;
    buf_init(&b, 1u << 16);
    /* The telemetry path is an operator's flag, shown as text, escaped. */
    buf_adds(&b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>outpost</title>"
                 "</head><body>\n<h1>outpost</h1>\n<p>Synthetic checks, SLOs and canary "
                 "judgement for Prometheus.</p>\n<p>Version " OUTPOST_VERSION
                 " (revision " OUTPOST_REVISION ")</p>\n<ul>\n<li><a href=\"");
    for (const char *p = h->telemetry_path; *p; p++) {
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
        return send_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "landing page too large\n");
    size_t len = b.len;
    return send_owned(c, MHD_HTTP_OK, buf_take(&b), len, "text/html; charset=utf-8", false);
}

static enum MHD_Result serve_reload(struct httpd *h, struct MHD_Connection *c)
{
    struct buf errors;
    buf_init(&errors, 1u << 20);
    enum MHD_Result ret;
    if (rt_reload(h->rt, &errors) == OP_OK) {
        ret = send_text(c, MHD_HTTP_OK, "configuration reloaded\n");
    } else {
        ret = send_text(
            c, MHD_HTTP_INTERNAL_SERVER_ERROR,
            buf_str_or(
                &errors,
                "the list of problems is longer than its cap; fix the first ones and retry\n"));
    }
    buf_free(&errors);
    return ret;
}

static enum MHD_Result method_not_allowed(struct MHD_Connection *c, const char *allow)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        strlen("method not allowed\n"), (void *)"method not allowed\n", MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Allow", allow);
    MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_METHOD_NOT_ALLOWED, r);
    MHD_destroy_response(r);
    return ret;
}

/* ---- checks ---- */

/* A JSON error object with the check's name (borrowed), as the API's 404. */
static enum MHD_Result send_json_error(struct MHD_Connection *c, unsigned status, const char *error,
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
        return send_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "error too large\n");
    size_t len = b.len;
    return send_owned(c, status, buf_take(&b), len, "application/json", false);
}

/* GET /api/v1/checks (name NULL) and /api/v1/checks/{name}. The listing
 * costs about what a scrape does, so it counts against --web.max-requests. */
static enum MHD_Result serve_checks(struct httpd *h, struct MHD_Connection *c, const char *name)
{
    bool gated = !name;
    unsigned active = gated ? atomic_fetch_add(&h->active_scrapes, 1) + 1 : 0;
    enum MHD_Result ret;
    if (gated && h->max_requests && active > h->max_requests) {
        ret = send_json_error(c, MHD_HTTP_SERVICE_UNAVAILABLE,
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
                  ? send_json_error(c, MHD_HTTP_NOT_FOUND, "no check of that name", name)
                  : send_json_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "answer larger than its cap",
                                    NULL);
        goto out;
    }
    size_t len = b.len;
    ret = send_owned(c, MHD_HTTP_OK, buf_take(&b), len, "application/json", false);
out:
    if (gated)
        atomic_fetch_sub(&h->active_scrapes, 1);
    return ret;
}

/* ---- gates ---- */

static enum MHD_Result serve_argo(struct httpd *h, struct MHD_Connection *c, const char *name)
{
    struct canary_verdict v;
    bool reset;
    if (rt_canary(h->rt, name, NULL, &v, &reset) != OP_OK)
        return send_text(c, MHD_HTTP_NOT_FOUND, "no canary of that name\n");
    struct buf b;
    buf_init(&b, 1u << 20);
    canary_verdict_json(&v, name, true, &b);
    buf_addc(&b, '\n');
    if (b.failed) {
        buf_free(&b);
        return send_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "verdict too large\n");
    }
    size_t len = b.len;
    return send_owned(c, MHD_HTTP_OK, buf_take(&b), len, "application/json", false);
}

/* Validate Flagger's body: a JSON object whose known fields are strings
 * (metadata: an object of strings). *checksum: borrowed from root, may be
 * NULL. Returns a static reason on error. */
static const char *flagger_body(json_t *root, const char **checksum)
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

static enum MHD_Result serve_flagger(struct httpd *h, struct MHD_Connection *c, const char *name,
                                     struct req_ctx *ctx)
{
    const char *hook = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "hook");
    if (!hook)
        hook = "rollout";
    bool rollback = strcmp(hook, "rollback") == 0;
    if (!rollback && strcmp(hook, "rollout") != 0 && strcmp(hook, "confirm-promotion") != 0)
        return send_text(c, MHD_HTTP_BAD_REQUEST,
                         "hook must be rollout, confirm-promotion or rollback\n");
    json_error_t jerr;
    json_t *root = ctx->body.len ? json_loadb(ctx->body.data, ctx->body.len, 0, &jerr) : NULL;
    if (!root)
        return send_text(c, MHD_HTTP_BAD_REQUEST,
                         "body is not JSON (Flagger sends {name, namespace, phase, checksum, "
                         "metadata})\n");
    const char *checksum;
    const char *bad = flagger_body(root, &checksum);
    if (bad) {
        json_decref(root);
        struct buf m;
        buf_init(&m, 1024);
        buf_addf(&m, "%s\n", bad);
        enum MHD_Result r = send_text(c, MHD_HTTP_BAD_REQUEST, buf_str(&m));
        buf_free(&m);
        return r;
    }
    struct canary_verdict v;
    bool reset;
    enum op_rc rc = rt_canary(h->rt, name, checksum, &v, &reset);
    json_decref(root);
    if (rc != OP_OK)
        return send_text(c, MHD_HTTP_NOT_FOUND, "no canary of that name\n");
    /* Flagger counts <= 202 as success. For rollback hooks success means
     * "roll back now", so they pass only on a significant failure. */
    bool ok = rollback ? v.verdict == CANARY_FAIL : v.verdict == CANARY_PASS;
    struct buf m;
    buf_init(&m, 1024);
    if (rollback && !ok)
        buf_addf(&m, "no significant failure, %s\n", v.reason);
    else
        buf_addf(&m, "%s\n", v.reason);
    enum MHD_Result r = send_text(c, ok ? MHD_HTTP_OK : MHD_HTTP_PRECONDITION_FAILED, buf_str(&m));
    buf_free(&m);
    return r;
}

/* Accumulate a Flagger body across MHD calls, capped. Returns true once the
 * body is complete (the final call); *early is set when a response was
 * already queued (oversized). */
static bool read_body(struct MHD_Connection *c, struct req_ctx *ctx, const char *upload,
                      size_t *upload_size, enum MHD_Result *early)
{
    if (*upload_size == 0)
        return true;
    if (!ctx->too_big && buf_add(&ctx->body, upload, *upload_size) != OP_OK) {
        ctx->too_big = true;
        *early = send_text(c, MHD_HTTP_CONTENT_TOO_LARGE, "body larger than 65536 bytes\n");
    }
    *upload_size = 0;
    return false;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    struct req_ctx *ctx = *con_cls;
    if (ctx) {
        buf_free(&ctx->body);
        free(ctx);
        *con_cls = NULL;
    }
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    struct httpd *h = cls;
    bool is_get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    /* Flagger's gate is the one endpoint that reads a body: it keeps a
     * capped buffer across MHD's calls. Every other answer is queued on the
     * first call, and MHD discards the rest of any upload (bounded work). */
    if (strncmp(url, FLAGGER_PREFIX, strlen(FLAGGER_PREFIX)) == 0) {
        if (strcmp(method, "POST") != 0)
            return method_not_allowed(c, "POST");
        struct req_ctx *ctx = *con_cls;
        if (!ctx) {
            /* Content-Length is digits only (RFC 9110): a sign, a suffix or
             * an empty value is a malformed request, not a small body. */
            const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
            uint64_t cl_bytes;
            enum op_rc clrc =
                cl ? parse_u64(cl, strlen(cl), HTTPD_MAX_GATE_BODY, &cl_bytes) : OP_OK;
            if (clrc == OP_ERR_LIMIT)
                return send_text(c, MHD_HTTP_CONTENT_TOO_LARGE, "body larger than 65536 bytes\n");
            if (clrc != OP_OK)
                return send_text(c, MHD_HTTP_BAD_REQUEST, "malformed Content-Length\n");
            ctx = xcalloc(1, sizeof(*ctx));
            buf_init(&ctx->body, HTTPD_MAX_GATE_BODY);
            *con_cls = ctx;
            return MHD_YES;
        }
        enum MHD_Result early = MHD_YES;
        if (!read_body(c, ctx, upload_data, upload_data_size, &early))
            return early;
        if (ctx->too_big)
            return MHD_YES; /* the 413 is queued already */
        return serve_flagger(h, c, url + strlen(FLAGGER_PREFIX), ctx);
    }
    if (strncmp(url, ARGO_PREFIX, strlen(ARGO_PREFIX)) == 0) {
        if (!is_get && strcmp(method, "POST") != 0)
            return method_not_allowed(c, "GET, POST");
        return serve_argo(h, c, url + strlen(ARGO_PREFIX));
    }
    /* libmicrohttpd hands the path %-decoded, so a name with a '/' (a
     * canary arm, "<canary>/baseline") may come as is or as %2F; the name
     * is everything after the prefix. */
    if (strncmp(url, CHECKS_PATH, strlen(CHECKS_PATH)) == 0 &&
        (url[strlen(CHECKS_PATH)] == '\0' || url[strlen(CHECKS_PATH)] == '/')) {
        if (!is_get)
            return method_not_allowed(c, "GET, HEAD");
        const char *rest = url + strlen(CHECKS_PATH);
        return serve_checks(h, c, *rest ? rest + 1 : NULL);
    }
    if (strcmp(url, "/-/reload") == 0) {
        if (strcmp(method, "POST") != 0 && strcmp(method, "PUT") != 0)
            return method_not_allowed(c, "POST, PUT");
        return serve_reload(h, c);
    }
    if (strcmp(url, h->telemetry_path) == 0) {
        if (!is_get)
            return method_not_allowed(c, "GET, HEAD");
        return serve_metrics(h, c);
    }
    if (strcmp(url, "/-/healthy") == 0) {
        if (!is_get)
            return method_not_allowed(c, "GET, HEAD");
        return send_text(c, MHD_HTTP_OK, "OK\n");
    }
    if (strcmp(url, "/-/ready") == 0) {
        if (!is_get)
            return method_not_allowed(c, "GET, HEAD");
        if (rt_ready(h->rt))
            return send_text(c, MHD_HTTP_OK, "OK\n");
        return send_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "not ready\n");
    }
    if (strcmp(url, "/") == 0) {
        if (!is_get)
            return method_not_allowed(c, "GET, HEAD");
        return serve_landing(h, c);
    }
    return send_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
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

/* Bind and listen on addr; returns the socket or -1 (logged). */
static int open_listener(const char *addr, int *port_out)
{
    char host[256], port[16];
    if (httpd_split_address(addr, host, port) != OP_OK) {
        log_error("bad listen address (use host:port, :port or [v6]:port)", "address", addr);
        return -1;
    }
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int fd = -1;
    if (!host[0]) {
        /* All interfaces: one dual-stack IPv6 socket, or IPv4 when the
         * host has no IPv6. */
        hints.ai_family = AF_INET6;
        if (getaddrinfo(NULL, port, &hints, &res) != 0) {
            hints.ai_family = AF_INET;
            res = NULL;
        }
    }
    if (!res) {
        int gai = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
        if (gai != 0) {
            log_error("cannot resolve listen address", "address", addr, "err", gai_strerror(gai));
            return -1;
        }
    }
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        int one = 1, zero = 0;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (ai->ai_family == AF_INET6 && !host[0])
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 128) != 0) {
            log_error("cannot listen", "address", addr, "err", strerror(errno));
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        return -1;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    *port_out = 0;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        *port_out = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                   : ((struct sockaddr_in *)&ss)->sin_port);
    return fd;
}

enum op_rc httpd_start(const struct httpd_options *o, struct runtime *rt, struct httpd **out)
{
    struct httpd *h = xcalloc(1, sizeof(*h));
    h->rt = rt;
    h->telemetry_path = xstrdup(o->telemetry_path);
    h->max_requests = o->max_requests;
    atomic_init(&h->active_scrapes, 0);
    for (size_t i = 0; i < o->n_listen; i++) {
        int port = 0;
        int fd = open_listener(o->listen[i], &port);
        if (fd < 0)
            goto fail;
        unsigned flags =
            MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
        struct MHD_Daemon *d = MHD_start_daemon(
            flags, 0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
            MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_LISTEN_SOCKET, fd,
            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTPD_CONN_TIMEOUT_S,
            MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTPD_CONN_LIMIT, MHD_OPTION_END);
        if (!d) {
            close(fd);
            log_error("cannot start the HTTP server", "address", o->listen[i]);
            goto fail;
        }
        h->daemons[h->n++] = d;
        char host[256], p[16], shown[300];
        if (httpd_split_address(o->listen[i], host, p) != OP_OK)
            host[0] = '\0';
        snprintf(shown, sizeof(shown), "%s%s%s:%d", strchr(host, ':') ? "[" : "", host,
                 strchr(host, ':') ? "]" : "", port);
        log_info("listening", "address", shown);
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
    free(h->telemetry_path);
    free(h);
}
