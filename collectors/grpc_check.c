/*
 * grpc_check.c - runs of the `grpc` check type: one libcurl easy handle per
 * run on the probe loop's multi handle, POSTing the health request over
 * HTTP/2 (prior knowledge on cleartext, ALPN "h2" over TLS), the reply's
 * headers and trailers read for grpc-status and grpc-message, its body
 * kept within GRPC_FRAME_HEADER_BYTES + GRPC_MAX_MESSAGE_BYTES and judged
 * by grpc_judge (grpc_proto.c). TLS is the http type's (curl_tls.h); the
 * transport failures are described as the http type describes them.
 */
#include "grpc_check.h"
#include "tls_facts.h"
#include "buf.h"
#include "curl_tls.h"
#include "http_check.h"

#include <math.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* One run in flight. */
struct grpc_probe {
    CURL *easy;
    const struct check_spec *check;
    const struct grpc_spec *spec;
    struct probe_job *job;
    struct curl_tls tls;
    struct curl_slist *headers, *connect_to;
    char *url; /* the spec's, with tls.server_name as its host when set */
    uint8_t *request;
    size_t request_len;
    struct buf body;
    bool body_overflow;
    int grpc_status; /* -1: none yet */
    bool grpc_status_bad;
    char grpc_message[GRPC_MAX_STATUS_MESSAGE];
    /* TLS without "h2" in ALPN: the request is never sent (on_prereq). */
    bool not_h2;
    char alpn[32];           /* what the server chose instead, "" for nothing */
    const char *tls_version; /* tls_version_label's, NULL until the handshake */
    /* ip_protocol with ip_protocol_fallback: the name had no address of the
     * preferred family, and the call was made again with the other. */
    bool fell_back;
    curl_off_t first_total_us; /* the first attempt's time */
    char errbuf[CURL_ERROR_SIZE];
};

/* ---- callbacks ---- */

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    struct grpc_probe *gp = arg;
    size_t n = size * nmemb;
    if (buf_add(&gp->body, data, n) != OP_OK) {
        gp->body_overflow = true;
        return 0; /* more than one health response can be: stop reading */
    }
    return n;
}

/* The value of a "name: value\r\n" line whose name is `name` (with its
 * colon), blanks and line end trimmed; NULL when the line is another's. */
static const char *header_value(const char *line, size_t n, const char *name, size_t *vlen)
{
    size_t k = strlen(name);
    if (n < k || strncasecmp(line, name, k) != 0)
        return NULL;
    const char *v = line + k, *end = line + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && strchr(" \t\r\n", end[-1]))
        end--;
    *vlen = (size_t)(end - v);
    return v;
}

/* Headers and, after the body, trailers (libcurl hands HTTP/2 trailers to
 * the header callback too): grpc-status and grpc-message may be in either,
 * a reply without a message carrying them in its headers alone. */
static size_t on_header(char *data, size_t size, size_t nmemb, void *arg)
{
    struct grpc_probe *gp = arg;
    size_t n = size * nmemb, vlen;
    const char *v;
    if ((v = header_value(data, n, "grpc-status:", &vlen))) {
        int st;
        gp->grpc_status_bad = !grpc_status_parse(v, vlen, &st);
        gp->grpc_status = gp->grpc_status_bad ? -1 : st;
    } else if ((v = header_value(data, n, "grpc-message:", &vlen))) {
        (void)grpc_percent_decode(v, vlen, gp->grpc_message, sizeof(gp->grpc_message));
    }
    return n;
}

/*
 * After the connection is made and before the request goes out: over TLS
 * the server must have chosen "h2" in ALPN, else libcurl would send the
 * call as HTTP/1.1, which no gRPC server answers; the run stops here.
 */
static int on_prereq(void *arg, char *primary_ip, char *local_ip, int primary_port, int local_port)
{
    (void)primary_ip;
    (void)local_ip;
    (void)primary_port;
    (void)local_port;
    struct grpc_probe *gp = arg;
    if (!gp->spec->tls_enabled)
        return CURL_PREREQFUNC_OK;
    SSL *ssl = curl_tls_ssl(gp->easy);
    if (!ssl)
        return CURL_PREREQFUNC_OK; /* not knowable: the HTTP version is checked later */
    gp->tls_version = tls_version_label(SSL_version(ssl));
    const unsigned char *proto = NULL;
    unsigned len = 0;
    SSL_get0_alpn_selected(ssl, &proto, &len);
    if (len == 2 && memcmp(proto, "h2", 2) == 0)
        return CURL_PREREQFUNC_OK;
    gp->not_h2 = true;
    size_t k = len < sizeof(gp->alpn) - 1 ? len : sizeof(gp->alpn) - 1;
    if (k)
        memcpy(gp->alpn, proto, k);
    gp->alpn[k] = '\0';
    return CURL_PREREQFUNC_ABORT;
}

/* ---- set-up ---- */

static void probe_free(struct grpc_probe *gp)
{
    if (!gp)
        return;
    curl_tls_release(&gp->tls);
    if (gp->easy)
        curl_easy_cleanup(gp->easy);
    curl_slist_free_all(gp->headers);
    curl_slist_free_all(gp->connect_to);
    free(gp->url);
    free(gp->request);
    buf_free(&gp->body);
    free(gp);
}

static enum op_rc add_header(struct grpc_probe *gp, const char *name, const char *value)
{
    struct buf b;
    buf_init(&b, 1u << 20);
    buf_addf(&b, "%s: %s", name, value);
    struct curl_slist *l = b.failed ? NULL : curl_slist_append(gp->headers, buf_str(&b));
    /* Wipe: the value may be a secret. */
    if (b.data)
        memset(b.data, 0, b.cap);
    buf_free(&b);
    if (!l)
        return OP_ERR_SYSTEM;
    gp->headers = l;
    return OP_OK;
}

static long ipresolve(int proto)
{
    return proto == IP_PROTO_4   ? CURL_IPRESOLVE_V4
           : proto == IP_PROTO_6 ? CURL_IPRESOLVE_V6
                                 : CURL_IPRESOLVE_WHATEVER;
}

/* A configured easy handle for one run of c. Caller frees (probe_free). */
static enum op_rc probe_new(const struct check_spec *c, struct grpc_probe **out)
{
    const struct grpc_spec *s = grpc_spec_of(c);
    struct grpc_probe *gp = xcalloc(1, sizeof(*gp));
    gp->check = c;
    gp->spec = s;
    gp->grpc_status = -1;
    buf_init(&gp->body, GRPC_FRAME_HEADER_BYTES + GRPC_MAX_MESSAGE_BYTES);
    gp->request = grpc_health_request(s->service, &gp->request_len);
    enum op_rc rc = OP_ERR_SYSTEM;
    CURL *e = gp->easy = curl_easy_init();
    if (!e)
        goto fail;
    if (s->tls_enabled && s->tls.server_name &&
        (rc = curl_tls_server_name(s->url, s->tls.server_name, &gp->url, &gp->connect_to)) != OP_OK)
        goto fail;
    rc = OP_ERR_SYSTEM;
    /* The call's own headers; libcurl's Accept and Expect are not gRPC's. */
    char timeout[32];
    snprintf(timeout, sizeof(timeout), "%lldm",
             (long long)(c->timeout_ms < 99999999 ? c->timeout_ms : 99999999));
    if (add_header(gp, "content-type", "application/grpc") != OP_OK ||
        add_header(gp, "te", "trailers") != OP_OK ||
        add_header(gp, "grpc-timeout", timeout) != OP_OK || add_header(gp, "accept", "") != OP_OK)
        goto fail;
    /* "accept: " with nothing after the colon removes libcurl's; "Expect:"
     * the same. */
    struct curl_slist *l = curl_slist_append(gp->headers, "Expect:");
    if (!l)
        goto fail;
    gp->headers = l;
    for (size_t i = 0; i < s->n_metadata; i++)
        if (add_header(gp, s->metadata[i].name, s->metadata[i].value) != OP_OK)
            goto fail;

    CURLcode cc = CURLE_OK;
#define OPT(opt, val)                                                                              \
    do {                                                                                           \
        if (cc == CURLE_OK)                                                                        \
            cc = curl_easy_setopt(e, opt, val);                                                    \
    } while (0)
    OPT(CURLOPT_URL, gp->url ? gp->url : s->url);
    if (gp->connect_to)
        OPT(CURLOPT_CONNECT_TO, gp->connect_to);
    OPT(CURLOPT_NOSIGNAL, 1L);
    OPT(CURLOPT_ERRORBUFFER, gp->errbuf);
    OPT(CURLOPT_PROTOCOLS_STR, "http,https");
    OPT(CURLOPT_HTTP_VERSION,
        s->tls_enabled ? (long)CURL_HTTP_VERSION_2TLS : (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
    OPT(CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
    OPT(CURLOPT_CONNECTTIMEOUT_MS, (long)c->timeout_ms);
    OPT(CURLOPT_USERAGENT, "outpost/" OUTPOST_VERSION);
    OPT(CURLOPT_IPRESOLVE, ipresolve(s->ip_protocol));
    /* Like the http type and blackbox_exporter: every probe resolves,
     * connects and handshakes. */
    OPT(CURLOPT_FRESH_CONNECT, 1L);
    OPT(CURLOPT_FORBID_REUSE, 1L);
    OPT(CURLOPT_DNS_CACHE_TIMEOUT, 0L);
    OPT(CURLOPT_POST, 1L);
    OPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)gp->request_len);
    OPT(CURLOPT_POSTFIELDS, (char *)gp->request);
    OPT(CURLOPT_HTTPHEADER, gp->headers);
    OPT(CURLOPT_WRITEFUNCTION, on_body);
    OPT(CURLOPT_WRITEDATA, gp);
    OPT(CURLOPT_HEADERFUNCTION, on_header);
    OPT(CURLOPT_HEADERDATA, gp);
    OPT(CURLOPT_PREREQFUNCTION, on_prereq);
    OPT(CURLOPT_PREREQDATA, gp);
#undef OPT
    if (cc == CURLE_OK && s->tls_enabled)
        cc = curl_tls_setopt(&gp->tls, e, &s->tls);
    if (cc != CURLE_OK)
        goto fail;
    *out = gp;
    return OP_OK;
fail:
    probe_free(gp);
    return rc;
}

/* ---- judgement ---- */

static double us(curl_off_t v)
{
    return v > 0 ? (double)v / 1e6 : 0;
}

static int http_major(long v)
{
    switch (v) {
    case CURL_HTTP_VERSION_1_0:
    case CURL_HTTP_VERSION_1_1:
        return 1;
    case CURL_HTTP_VERSION_2_0:
        return 2;
    case CURL_HTTP_VERSION_3:
        return 3;
    default:
        return 0;
    }
}

/* The detail of a call that did not complete, as the http type words it. */
static void failure_detail(struct grpc_probe *gp, CURLcode code, const curl_off_t t[4],
                           char *detail, size_t cap)
{
    if (code == CURLE_ABORTED_BY_CALLBACK && gp->not_h2) {
        struct detail d;
        detail_init(&d, detail, cap);
        detail_add(&d, "not HTTP/2: the server did not choose h2 in TLS ALPN (");
        if (gp->alpn[0])
            detail_value(&d, gp->alpn, strlen(gp->alpn));
        else
            detail_add(&d, "no ALPN");
        detail_add(&d, ")");
        return;
    }
    long verify = 0, os_errno = 0;
    (void)curl_easy_getinfo(gp->easy, CURLINFO_SSL_VERIFYRESULT, &verify);
    (void)curl_easy_getinfo(gp->easy, CURLINFO_OS_ERRNO, &os_errno);
    /* libcurl's text for a failed SSL_CTX callback says nothing; ours
     * does. The target is host:port as written (no references): libcurl's
     * messages name nothing secret. */
    const char *text =
        code == CURLE_SSL_CACERT_BADFILE && gp->tls.ca_error[0] ? gp->tls.ca_error : gp->errbuf;
    struct http_failure f = {
        .code = code,
        .timeout_ms = gp->check->timeout_ms,
        .phase = http_running_phase(t[0], t[1], t[2], t[3], gp->spec->tls_enabled),
        .verify_result = verify,
        .cert_expiry = gp->tls.cert_expiry,
        .os_errno = (int)os_errno,
        .message = text,
    };
    http_failure_detail(&f, detail, cap);
}

static void probe_finish(struct grpc_probe *gp, CURLcode code, struct check_result *out,
                         struct grpc_tail *tail)
{
    memset(out, 0, sizeof(*out));
    memset(tail, 0, sizeof(*tail));
    CURL *e = gp->easy;
    static const CURLINFO info[5] = {
        CURLINFO_NAMELOOKUP_TIME_T,    CURLINFO_CONNECT_TIME_T, CURLINFO_APPCONNECT_TIME_T,
        CURLINFO_STARTTRANSFER_TIME_T, CURLINFO_TOTAL_TIME_T,
    };
    curl_off_t t[5] = {0};
    for (size_t i = 0; i < 5; i++)
        (void)curl_easy_getinfo(e, info[i], &t[i]);
    long status = 0, version = 0;
    char *ip = NULL;
    (void)curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    (void)curl_easy_getinfo(e, CURLINFO_HTTP_VERSION, &version);
    (void)curl_easy_getinfo(e, CURLINFO_PRIMARY_IP, &ip);

    http_phases(t[0], t[1], t[2], t[3], t[4], out->phases);
    /* A fallback's first attempt was a lookup that found nothing. */
    out->phases[CHECK_PHASE_RESOLVE] += us(gp->first_total_us);
    out->duration = us(t[4]) + us(gp->first_total_us);
    out->status = (int)status;
    out->cert_expiry = gp->tls.cert_expiry;
    out->type = &grpc_check_type;
    tail->ip_protocol = ip && *ip ? (strchr(ip, ':') ? 6 : 4) : 0;
    tail->tls = gp->spec->tls_enabled;
    tail->tls_version = gp->tls_version;
    tail->http_version = status ? http_major(version) : 0;
    out->tail = tail;

    enum check_reason r;
    int serving = -1;
    if (code != CURLE_OK && !gp->body_overflow) {
        r = code == CURLE_ABORTED_BY_CALLBACK && gp->not_h2 ? CHECK_REASON_OTHER
                                                            : http_classify_curl(code, false);
        failure_detail(gp, code, t, out->detail, sizeof(out->detail));
    } else {
        struct grpc_reply reply = {
            .http_version = tail->http_version,
            .http_status = (int)status,
            .grpc_status = gp->grpc_status,
            .grpc_status_bad = gp->grpc_status_bad,
            .grpc_message = gp->grpc_message,
            .body = (const uint8_t *)gp->body.data,
            .body_len = gp->body.len,
            .body_overflow = gp->body_overflow,
        };
        r = grpc_judge(&reply, &serving, out->detail, sizeof(out->detail));
    }
    tail->grpc_status = gp->grpc_status;
    tail->serving_status = serving;
    out->gauges[0] = gp->grpc_status >= 0 ? gp->grpc_status : NAN;
    out->gauges[1] = serving >= 0 ? serving : NAN;
    out->reason = r;
    out->success = r == CHECK_REASON_NONE;
}

/* ---- the check type ---- */

static void on_done(struct probe_loop *loop, CURL *easy, CURLcode code, void *arg);

/*
 * ip_protocol ip4 or ip6 with ip_protocol_fallback: libcurl resolves to one
 * family (CURLOPT_IPRESOLVE) or takes whatever the resolver gives; a
 * preference it cannot express. So the preferred family goes first and,
 * when the name has no address of it, the call is made once more with the
 * other family in the time left. True when that second attempt runs.
 */
static bool fall_back(struct probe_loop *loop, struct grpc_probe *gp, CURLcode code)
{
    const struct grpc_spec *s = gp->spec;
    if (code != CURLE_COULDNT_RESOLVE_HOST || gp->fell_back || !s->ip_protocol_fallback ||
        s->ip_protocol == IP_PROTO_AUTO)
        return false;
    curl_off_t total = 0;
    (void)curl_easy_getinfo(gp->easy, CURLINFO_TOTAL_TIME_T, &total);
    int64_t left_ms = gp->check->timeout_ms - (int64_t)(total / 1000);
    if (left_ms <= 0)
        return false;
    int other = s->ip_protocol == IP_PROTO_4 ? IP_PROTO_6 : IP_PROTO_4;
    CURLcode cc = curl_easy_setopt(gp->easy, CURLOPT_IPRESOLVE, ipresolve(other));
    if (cc == CURLE_OK)
        cc = curl_easy_setopt(gp->easy, CURLOPT_TIMEOUT_MS, (long)left_ms);
    if (cc == CURLE_OK)
        cc = curl_easy_setopt(gp->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)left_ms);
    if (cc != CURLE_OK)
        return false;
    gp->errbuf[0] = '\0';
    if (probe_add_easy(loop, gp->easy, on_done, gp) != OP_OK)
        return false;
    gp->fell_back = true;
    gp->first_total_us = total;
    return true;
}

static void on_done(struct probe_loop *loop, CURL *easy, CURLcode code, void *arg)
{
    (void)easy;
    struct grpc_probe *gp = arg;
    if (fall_back(loop, gp, code))
        return;
    struct check_result res;
    struct grpc_tail tail;
    probe_finish(gp, code, &res, &tail);
    probe_done(loop, gp->job, &res);
    probe_free(gp);
}

static enum op_rc grpc_start(struct probe_loop *loop, const struct check_spec *c,
                             struct probe_job *job, void **run)
{
    struct grpc_probe *gp;
    enum op_rc rc = probe_new(c, &gp);
    if (rc != OP_OK)
        return rc;
    gp->job = job;
    rc = probe_add_easy(loop, gp->easy, on_done, gp);
    if (rc != OP_OK) {
        probe_free(gp);
        return rc;
    }
    *run = gp;
    return OP_OK;
}

static void grpc_cancel(struct probe_loop *loop, void *run)
{
    struct grpc_probe *gp = run;
    probe_remove_easy(loop, gp->easy);
    probe_free(gp);
}

/* Everything a grpc run may report. */
static const enum check_reason grpc_reasons[] = {
    CHECK_REASON_TIMEOUT, CHECK_REASON_DNS,         CHECK_REASON_CONNECT,
    CHECK_REASON_TLS,     CHECK_REASON_GRPC_STATUS, CHECK_REASON_OTHER,
};

static const struct check_gauge grpc_gauges[] = {
    {.name = "outpost_check_grpc_status",
     .help = "gRPC status code of the last health check reply (0 = OK); absent when none came"},
    {.name = "outpost_check_grpc_serving",
     .help = "ServingStatus of the last health check reply (0 UNKNOWN, 1 SERVING, 2 NOT_SERVING, "
             "3 SERVICE_UNKNOWN); absent when none came"},
};

const struct check_type grpc_check_type = {
    .schema = &grpc_schema,
    .reasons = grpc_reasons,
    .n_reasons = ARRAY_SIZE(grpc_reasons),
    .status_name = "HTTP status",
    .gauges = grpc_gauges,
    .n_gauges = ARRAY_SIZE(grpc_gauges),
    .global_init = curl_tls_global_init,
    .global_fini = curl_tls_global_fini,
    .start = grpc_start,
    .cancel = grpc_cancel,
};
