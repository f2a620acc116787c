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
