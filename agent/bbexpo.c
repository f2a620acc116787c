/* bbexpo.c - blackbox_exporter's /probe families and probe log (bbexpo.h). */
#include "bbexpo.h"
#include "expo.h"

#include <arpa/inet.h>
#include <string.h>
#include <time.h>

void bbexpo_copy(struct bbexpo_result *out, const struct check_result *res)
{
    memset(out, 0, sizeof(*out));
    out->ran = true;
    out->res = *res;
    out->res.tail = NULL;
    out->res.steps = NULL;
    out->res.n_steps = 0;
    out->type = res->type ? res->type->schema->name : "";
    if (res->type == &http_check_type && res->tail) {
        out->has_http = true;
        out->http = *(const struct http_tail *)res->tail;
    } else if (res->type == &icmp_check_type && res->tail) {
        out->has_icmp = true;
        out->icmp = *(const struct icmp_tail *)res->tail;
    } else if (res->type == &tcp_check_type && res->tail) {
        out->has_tcp = true;
        out->tcp = *(const struct tcp_tail *)res->tail;
    } else if (res->type == &dns_check_type && res->tail) {
        out->has_dns = true;
        out->dns = *(const struct dns_tail *)res->tail;
    } else if (res->type == &grpc_check_type && res->tail) {
        out->has_grpc = true;
        out->grpc = *(const struct grpc_tail *)res->tail;
    }
}

/* One unlabelled gauge family. */
static void gauge(struct expo *e, const char *name, const char *help, double v)
{
    expo_family(e, name, EXPO_GAUGE, help);
    expo_sample(e, name, "", NULL, 0, NULL, v);
}

/* blackbox_exporter's probe_ip_addr_hash: FNV-1a (32 bits) of the address'
 * bytes, 4 for IPv4, 16 for IPv6. */
static bool ip_hash(const char *ip, double *out)
{
    unsigned char a[16];
    size_t n;
    if (inet_pton(AF_INET, ip, a) == 1)
        n = 4;
    else if (inet_pton(AF_INET6, ip, a) == 1)
        n = 16;
    else
        return false;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= a[i];
        h *= 16777619u;
    }
    *out = (double)h;
    return true;
}

/* probe_http_duration_seconds{phase}, in blackbox's label order. */
static void http_phase_family(struct expo *e, const struct check_result *res)
{
    static const struct {
        const char *name;
        enum check_phase p;
    } order[] = {{"connect", CHECK_PHASE_CONNECT},
                 {"processing", CHECK_PHASE_PROCESSING},
                 {"resolve", CHECK_PHASE_RESOLVE},
                 {"tls", CHECK_PHASE_TLS},
                 {"transfer", CHECK_PHASE_TRANSFER}};
    const char *n = "probe_http_duration_seconds";
    expo_family(e, n, EXPO_GAUGE, "Duration of http request by phase, summed over all redirects");
    for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
        struct label l = {"phase", order[i].name};
        expo_sample(e, n, "", &l, 1, NULL, res->phases[order[i].p]);
    }
}

/* outpost's addition: which reason failed the run, one series per reason
 * the type may report, 1 for the failing one (all 0 on success). */
static void failure_reason(struct expo *e, const struct bbexpo_result *r,
                           const enum check_reason *reasons, size_t n_reasons)
{
    const char *n = "probe_failure_reason";
    enum check_reason failed = !r->ran          ? CHECK_REASON_TIMEOUT
                               : r->res.success ? CHECK_REASON_NONE
                                                : r->res.reason;
    expo_family(e, n, EXPO_GAUGE,
                "Why the probe failed (outpost): 1 for the reason of the failure, 0 for the "
                "other reasons of its type");
    for (size_t i = 0; i < n_reasons; i++) {
        struct label l = {"reason", check_reason_name(reasons[i])};
        expo_sample(e, n, "", &l, 1, NULL, reasons[i] == failed ? 1 : 0);
    }
}

/* The families of an http run, in name order. blackbox registers all of
 * them before it probes (so they exist also when it fails, at 0), and the
 * TLS ones only when the final response came over TLS. */
static void render_http(struct expo *e, const struct bbexpo_result *r, double duration,
                        const enum check_reason *reasons, size_t n_reasons)
{
    const struct http_tail *t = &r->http;
    const struct check_result *res = &r->res;
    double hash = 0;
    bool hashed = r->has_http && ip_hash(t->ip, &hash);
    /* blackbox registers these three when it resolves, i.e. always for a
     * target it could parse. */
    gauge(e, "probe_dns_lookup_time_seconds",
          "Returns the time taken for probe dns lookup in seconds",
          res->phases[CHECK_PHASE_RESOLVE]);
    gauge(e, "probe_duration_seconds", "Returns how long the probe took to complete in seconds",
          duration);
    gauge(e, "probe_failed_due_to_regex", "Indicates if probe failed due to regex",
          t->failed_due_to_regex ? 1 : 0);
    failure_reason(e, r, reasons, n_reasons);
    gauge(e, "probe_http_content_length", "Length of http content response",
          r->has_http && res->status > 0 ? (double)t->content_length : 0);
    http_phase_family(e, res);
    gauge(e, "probe_http_redirects", "The number of redirects", (double)t->redirects);
    gauge(e, "probe_http_ssl", "Indicates if SSL was used for the final redirect", t->ssl ? 1 : 0);
    gauge(e, "probe_http_status_code", "Response HTTP status code", (double)t->status);
    gauge(e, "probe_http_uncompressed_body_length", "Length of uncompressed response body",
          (double)t->body_bytes);
    gauge(e, "probe_http_version", "Returns the version of HTTP of the probe response",
          t->http_version);
    gauge(e, "probe_ip_addr_hash",
          "Specifies the hash of IP address. It's useful to detect if the IP address changes.",
          hashed ? hash : 0);
    gauge(e, "probe_ip_protocol", "Specifies whether probe ip protocol is IP4 or IP6",
          (double)t->ip_protocol);
    if (t->ssl && res->cert_expiry > 0)
        gauge(e, "probe_ssl_earliest_cert_expiry", "Returns last SSL chain expiry in unixtime",
              res->cert_expiry);
    gauge(e, "probe_success", "Displays whether or not the probe was a success",
          res->success ? 1 : 0);
    if (t->ssl && t->tls_version) {
        const char *n = "probe_tls_version_info";
        expo_family(e, n, EXPO_GAUGE, "Returns the TLS version used or NaN when unknown");
        struct label l = {"version", t->tls_version};
        expo_sample(e, n, "", &l, 1, NULL, 1);
    }
}

/* The host of a target "host:port", "[v6]:port" or a bare host, into out
 * (for probe_ip_addr_hash when the tail has no address but the target is
 * an IP literal). */
static void host_of(const char *target, char *out, size_t cap)
{
    const char *s = target, *e;
    if (*s == '[') {
        s++;
        e = strchr(s, ']');
    } else {
        e = strrchr(s, ':');
        if (e && strchr(s, ':') != e)
            e = NULL; /* a bare IPv6 address */
    }
    size_t n = e ? (size_t)(e - s) : strlen(s);
    if (n >= cap)
        n = 0;
    memcpy(out, s, n);
    out[n] = '\0';
}

/* probe_ip_addr_hash and probe_ip_protocol, as chooseProtocol leaves them:
 * the hash only when the address is known (here: an IP literal target). */
static void addr_families(struct expo *e, const char *target, int ip_protocol)
{
    char host[64];
    double hash;
    host_of(target, host, sizeof(host));
    if (ip_protocol && ip_hash(host, &hash))
        gauge(e, "probe_ip_addr_hash",
              "Specifies the hash of IP address. It's useful to detect if the IP address changes.",
              hash);
    gauge(e, "probe_ip_protocol", "Specifies whether probe ip protocol is IP4 or IP6",
          (double)ip_protocol);
}

static void lookup_time(struct expo *e, const struct check_result *res)
{
    gauge(e, "probe_dns_lookup_time_seconds",
          "Returns the time taken for probe dns lookup in seconds",
          res->phases[CHECK_PHASE_RESOLVE]);
}

static void duration_family(struct expo *e, double duration)
{
    gauge(e, "probe_duration_seconds", "Returns how long the probe took to complete in seconds",
          duration);
}

static void success_family(struct expo *e, const struct bbexpo_result *r)
{
    gauge(e, "probe_success", "Displays whether or not the probe was a success",
          r->ran && r->res.success ? 1 : 0);
}

static void tls_version_family(struct expo *e, const char *version)
{
    const char *n = "probe_tls_version_info";
    expo_family(e, n, EXPO_GAUGE, "Returns the TLS version used or NaN when unknown");
    struct label l = {"version", version};
    expo_sample(e, n, "", &l, 1, NULL, 1);
}

/* A tcp run: blackbox registers the regex gauge first, the address
 * families when it resolves, the TLS ones once TLS is up. */
static void render_tcp(struct expo *e, const struct bbexpo_result *r, const char *target,
                       double duration, const enum check_reason *reasons, size_t n_reasons)
{
    const struct tcp_tail *t = &r->tcp;
    lookup_time(e, &r->res);
    duration_family(e, duration);
    gauge(e, "probe_failed_due_to_regex", "Indicates if probe failed due to regex",
          t->failed_due_to_regex ? 1 : 0);
    failure_reason(e, r, reasons, n_reasons);
    addr_families(e, target, t->ip_protocol);
    if (t->tls && r->res.cert_expiry > 0)
        gauge(e, "probe_ssl_earliest_cert_expiry", "Returns last SSL chain expiry in unixtime",
              r->res.cert_expiry);
    if (t->tls && t->last_chain_expiry > 0)
        gauge(e, "probe_ssl_last_chain_expiry_timestamp_seconds",
              "Returns last SSL chain expiry in timestamp", t->last_chain_expiry);
    success_family(e, r);
    if (t->tls && t->tls_version && *t->tls_version)
        tls_version_family(e, t->tls_version);
}

/* A dns run: blackbox registers its five families before it asks, the
 * serial for SOA queries. */
static void render_dns(struct expo *e, const struct bbexpo_result *r, const char *target,
                       double duration, const enum check_reason *reasons, size_t n_reasons)
{
    const struct dns_tail *t = &r->dns;
    const struct check_result *res = &r->res;
    gauge(e, "probe_dns_additional_rrs",
          "Returns number of entries in the additional resource record list", t->additional);
    gauge(e, "probe_dns_answer_rrs", "Returns number of entries in the answer resource record list",
          t->answers);
    gauge(e, "probe_dns_authority_rrs",
          "Returns number of entries in the authority resource record list", t->authority);
    const char *n = "probe_dns_duration_seconds";
    expo_family(e, n, EXPO_GAUGE, "Duration of DNS request by phase");
    const struct {
        const char *phase;
        double v;
    } ph[] = {{"connect", res->phases[CHECK_PHASE_CONNECT]},
              {"request", res->phases[CHECK_PHASE_PROCESSING]},
              {"resolve", res->phases[CHECK_PHASE_RESOLVE]}};
    for (size_t i = 0; i < ARRAY_SIZE(ph); i++) {
        struct label l = {"phase", ph[i].phase};
        expo_sample(e, n, "", &l, 1, NULL, ph[i].v);
    }
    lookup_time(e, res);
    gauge(e, "probe_dns_query_succeeded",
          "Displays whether or not the query was executed successfully", t->rcode >= 0 ? 1 : 0);
    if (t->has_serial)
        gauge(e, "probe_dns_serial", "Returns the serial number of the zone", (double)t->serial);
    duration_family(e, duration);
    failure_reason(e, r, reasons, n_reasons);
    addr_families(e, target, t->ip_protocol);
    success_family(e, r);
}

/* blackbox's names of the four health states (grpc_health_v1). */
static const char *const serving_names[] = {"UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"};

/* OpenSSL's protocol name as blackbox writes it ("TLSv1.3" -> "TLS 1.3"). */
/* A grpc run: every family registered up front (the cert expiry too, 0
 * without TLS), the serving states one series each. */
static void render_grpc(struct expo *e, const struct bbexpo_result *r, const char *target,
                        double duration, const enum check_reason *reasons, size_t n_reasons)
{
    const struct grpc_tail *t = &r->grpc;
    const struct check_result *res = &r->res;
    lookup_time(e, res);
    duration_family(e, duration);
    failure_reason(e, r, reasons, n_reasons);
    const char *n = "probe_grpc_duration_seconds";
    expo_family(e, n, EXPO_GAUGE, "Duration of gRPC request by phase");
    double check = res->duration - res->phases[CHECK_PHASE_RESOLVE];
    struct label lc = {"phase", "check"}, lr = {"phase", "resolve"};
    if (t->ip_protocol > 0) /* blackbox asks once it resolved */
        expo_sample(e, n, "", &lc, 1, NULL, check > 0 ? check : 0);
    expo_sample(e, n, "", &lr, 1, NULL, res->phases[CHECK_PHASE_RESOLVE]);
    n = "probe_grpc_healthcheck_response";
    expo_family(e, n, EXPO_GAUGE, "Response HealthCheck response");
    for (size_t i = 0; i < ARRAY_SIZE(serving_names); i++) {
        struct label l = {"serving_status", serving_names[i]};
        expo_sample(e, n, "", &l, 1, NULL, t->serving_status == (int)i ? 1 : 0);
    }
    gauge(e, "probe_grpc_ssl", "Indicates if SSL was used for the connection", t->tls ? 1 : 0);
    gauge(e, "probe_grpc_status_code", "Response gRPC status code",
          t->grpc_status > 0 ? t->grpc_status : 0);
    addr_families(e, target, t->ip_protocol);
    gauge(e, "probe_ssl_earliest_cert_expiry", "Returns last SSL chain expiry in unixtime",
          t->tls ? res->cert_expiry : 0);
    success_family(e, r);
    if (t->tls && t->tls_version)
        tls_version_family(e, t->tls_version);
}

/* An icmp run: blackbox's phases resolve, setup and rtt, and the reply's
 * hop limit when a reply came and told it. */
static void render_icmp(struct expo *e, const struct bbexpo_result *r, const char *target,
                        double duration, const enum check_reason *reasons, size_t n_reasons)
{
    const struct icmp_tail *t = &r->icmp;
    const struct check_result *res = &r->res;
    double hash = 0;
    bool hashed = t->ip_protocol && ip_hash(target, &hash);
    gauge(e, "probe_dns_lookup_time_seconds",
          "Returns the time taken for probe dns lookup in seconds",
          res->phases[CHECK_PHASE_RESOLVE]);
    gauge(e, "probe_duration_seconds", "Returns how long the probe took to complete in seconds",
          duration);
    failure_reason(e, r, reasons, n_reasons);
    const char *n = "probe_icmp_duration_seconds";
    expo_family(e, n, EXPO_GAUGE, "Duration of icmp request by phase");
    const struct {
        const char *phase;
        double v;
    } ph[] = {{"resolve", res->phases[CHECK_PHASE_RESOLVE]}, {"rtt", t->rtt}, {"setup", t->setup}};
    for (size_t i = 0; i < ARRAY_SIZE(ph); i++) {
        struct label l = {"phase", ph[i].phase};
        expo_sample(e, n, "", &l, 1, NULL, ph[i].v);
    }
    if (t->received > 0 && t->reply_hop_limit >= 0)
        gauge(e, "probe_icmp_reply_hop_limit", "Replied packet hop limit (TTL for ipv4)",
              (double)t->reply_hop_limit);
    if (hashed)
        gauge(e, "probe_ip_addr_hash",
              "Specifies the hash of IP address. It's useful to detect if the IP address changes.",
              hash);
    gauge(e, "probe_ip_protocol", "Specifies whether probe ip protocol is IP4 or IP6",
          (double)t->ip_protocol);
    gauge(e, "probe_success", "Displays whether or not the probe was a success",
          res->success ? 1 : 0);
}

void bbexpo_render(const struct bbexpo_result *r, const char *prober, const char *target,
                   double duration, const enum check_reason *reasons, size_t n_reasons,
                   struct buf *out)
{
    struct expo e;
    expo_init(&e, out, EXPO_TEXT);
    if (strcmp(prober, "http") == 0 && (r->has_http || !r->ran)) {
        render_http(&e, r, duration, reasons, n_reasons);
    } else if (strcmp(prober, "icmp") == 0 && r->has_icmp) {
        render_icmp(&e, r, target, duration, reasons, n_reasons);
    } else if (strcmp(prober, "tcp") == 0 && r->has_tcp) {
        render_tcp(&e, r, target, duration, reasons, n_reasons);
    } else if (strcmp(prober, "dns") == 0 && r->has_dns) {
        render_dns(&e, r, target, duration, reasons, n_reasons);
    } else if (strcmp(prober, "grpc") == 0 && r->has_grpc) {
        render_grpc(&e, r, target, duration, reasons, n_reasons);
    } else {
        /* A type whose facts this file does not know yet: the families
         * every prober has. */
        gauge(&e, "probe_duration_seconds",
              "Returns how long the probe took to complete in seconds", duration);
        failure_reason(&e, r, reasons, n_reasons);
        gauge(&e, "probe_success", "Displays whether or not the probe was a success",
              r->ran && r->res.success ? 1 : 0);
    }
    expo_finish(&e);
}

/* One logfmt line in blackbox's shape: ts, caller, module, target, level,
 * msg, then the caller's pairs (already "key=value ..."). */
static void log_line(struct buf *out, const char *module, const char *target, const char *level,
                     const char *msg)
{
    char ts[40];
    struct timespec now;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    buf_addf(out, "ts=%s.%03ldZ caller=probe module=", ts, now.tv_nsec / 1000000);
    buf_add_json_string(out, module);
    buf_adds(out, " target=");
    buf_add_json_string(out, target);
    buf_addf(out, " level=%s msg=", level);
    buf_add_json_string(out, msg);
}

void bbexpo_log(const struct bbexpo_result *r, const char *module, const char *prober,
                const char *target, double timeout_s, double duration, struct buf *out)
{
    log_line(out, module, target, "info", "Beginning probe");
    buf_addf(out, " probe=%s timeout_seconds=%g\n", prober, timeout_s);
    if (r->has_http && r->http.ip[0]) {
        log_line(out, module, target, "info", "Resolved target address");
        buf_addf(out, " ip=%s ip_protocol=ip%d\n", r->http.ip, r->http.ip_protocol);
    }
    if (r->ran) {
        const double *p = r->res.phases;
        log_line(out, module, target, "info", "Phase durations");
        buf_addf(out, " resolve=%g connect=%g tls=%g processing=%g transfer=%g\n",
                 p[CHECK_PHASE_RESOLVE], p[CHECK_PHASE_CONNECT], p[CHECK_PHASE_TLS],
                 p[CHECK_PHASE_PROCESSING], p[CHECK_PHASE_TRANSFER]);
        if (r->res.status > 0) {
            log_line(out, module, target, "info", "Received response");
            buf_addf(out, " status_code=%d", r->res.status);
            if (r->has_http)
                buf_addf(out, " redirects=%ld body_bytes=%llu tls=%s", r->http.redirects,
                         (unsigned long long)r->http.body_bytes,
                         r->http.tls_version ? r->http.tls_version : "none");
            buf_addc(out, '\n');
        }
    }
    if (r->ran && r->res.success) {
        log_line(out, module, target, "info", "Probe succeeded");
        buf_addf(out, " duration_seconds=%g\n", duration);
        return;
    }
    log_line(out, module, target, "error", "Probe failed");
    buf_addf(out, " duration_seconds=%g reason=%s detail=", duration,
             check_reason_name(r->ran ? r->res.reason : CHECK_REASON_TIMEOUT));
    buf_add_json_string(out, r->ran ? r->res.detail
                                    : "no result within the timeout (or the agent stopped)");
    buf_addc(out, '\n');
}
