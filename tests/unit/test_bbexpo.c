/*
 * test_bbexpo.c - blackbox_exporter's /probe answer: the families of an
 * http run (names, HELP, label sets, values, name order, the TLS ones only
 * over TLS), probe_failure_reason, the probe log, and the timeout rule of
 * the endpoint (blackbox 0.23's getTimeout).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "bbexpo.h"
#include "buf.h"
#include "http_check.h"

#include <math.h>
#include <string.h>

/* httpd_probe.c's STATIC rule. */
enum op_rc httpd_probe_timeout(const char *header, int64_t module_ms, double *out_s);

static const enum check_reason reasons[] = {CHECK_REASON_TIMEOUT, CHECK_REASON_CONNECT,
                                            CHECK_REASON_HTTP_STATUS, CHECK_REASON_BODY};

static void test_timeout_rule(void **state)
{
    (void)state;
    static const struct {
        const char *header;
        int64_t module_ms;
        double want;
    } cases[] = {
        {NULL, 0, 119.5},   /* no header, no module timeout: 120 - offset */
        {"", 0, 119.5},     /* an empty header is no header */
        {"10", 0, 9.5},     /* the header minus the offset */
        {"10", 5000, 5},    /* the module's when smaller */
        {"10", 20000, 9.5}, /* the header's when the module's is larger */
        {"0", 3000, 3},     /* 0 is "none": 120 - 0.5, the module's smaller */
        {"0.3", 0, 0},      /* nothing left after the offset: the module's (unset) */
        {"0.3", 2000, 2},   /* ... or the module's even when larger */
        {NULL, 150000, 119.5},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        double t = -1;
        assert_int_equal(httpd_probe_timeout(cases[i].header, cases[i].module_ms, &t), OP_OK);
        if (fabs(t - cases[i].want) > 1e-9)
            fail_msg("case %zu: %g, want %g", i, t, cases[i].want);
    }
    double t;
    assert_int_equal(httpd_probe_timeout("ten", 0, &t), OP_ERR_INVALID);
    assert_int_equal(httpd_probe_timeout("10s", 0, &t), OP_ERR_INVALID);
    assert_int_equal(httpd_probe_timeout("nan", 0, &t), OP_ERR_INVALID);
}

static void http_result(struct check_result *res, struct http_tail *t, bool tls)
{
    memset(res, 0, sizeof(*res));
    memset(t, 0, sizeof(*t));
    res->success = true;
    res->reason = CHECK_REASON_NONE;
    res->duration = 0.25;
    res->phases[CHECK_PHASE_RESOLVE] = 0.001;
    res->phases[CHECK_PHASE_CONNECT] = 0.002;
    res->phases[CHECK_PHASE_TLS] = tls ? 0.003 : 0;
    res->phases[CHECK_PHASE_PROCESSING] = 0.004;
    res->phases[CHECK_PHASE_TRANSFER] = 0.005;
    res->status = 200;
    res->cert_expiry = tls ? 1767225600 : 0;
    res->type = &http_check_type;
    res->tail = t;
    t->status = 200;
    t->redirects = 1;
    t->body_bytes = 42;
    t->content_length = 42;
    t->http_version = 1.1;
    t->ssl = tls;
    t->tls_version = tls ? "TLS 1.3" : NULL;
    t->ip_protocol = 4;
    memcpy(t->ip, "127.0.0.1", 10);
}

static void test_http_families(void **state)
{
    (void)state;
    struct check_result res;
    struct http_tail t;
    http_result(&res, &t, false);
    struct bbexpo_result r;
    bbexpo_copy(&r, &res);
    assert_null(r.res.tail);
    struct buf b;
    buf_init(&b, 1u << 16);
    bbexpo_render(&r, "http", "http://127.0.0.1/", 0.25, reasons, ARRAY_SIZE(reasons), &b);
    const char *want =
        "# HELP probe_dns_lookup_time_seconds Returns the time taken for probe dns lookup in "
        "seconds\n# TYPE probe_dns_lookup_time_seconds gauge\nprobe_dns_lookup_time_seconds "
        "0.001\n"
        "# HELP probe_duration_seconds Returns how long the probe took to complete in seconds\n"
        "# TYPE probe_duration_seconds gauge\nprobe_duration_seconds 0.25\n"
        "# HELP probe_failed_due_to_regex Indicates if probe failed due to regex\n"
        "# TYPE probe_failed_due_to_regex gauge\nprobe_failed_due_to_regex 0\n"
        "# HELP probe_failure_reason Why the probe failed (outpost): 1 for the reason of the "
        "failure, 0 for the other reasons of its type\n# TYPE probe_failure_reason gauge\n"
        "probe_failure_reason{reason=\"timeout\"} 0\nprobe_failure_reason{reason=\"connect\"} 0\n"
        "probe_failure_reason{reason=\"http_status\"} 0\n"
        "probe_failure_reason{reason=\"body\"} 0\n"
        "# HELP probe_http_content_length Length of http content response\n"
        "# TYPE probe_http_content_length gauge\nprobe_http_content_length 42\n"
        "# HELP probe_http_duration_seconds Duration of http request by phase, summed over all "
        "redirects\n# TYPE probe_http_duration_seconds gauge\n"
        "probe_http_duration_seconds{phase=\"connect\"} 0.002\n"
        "probe_http_duration_seconds{phase=\"processing\"} 0.004\n"
        "probe_http_duration_seconds{phase=\"resolve\"} 0.001\n"
        "probe_http_duration_seconds{phase=\"tls\"} 0\n"
        "probe_http_duration_seconds{phase=\"transfer\"} 0.005\n"
        "# HELP probe_http_redirects The number of redirects\n"
        "# TYPE probe_http_redirects gauge\nprobe_http_redirects 1\n"
        "# HELP probe_http_ssl Indicates if SSL was used for the final redirect\n"
        "# TYPE probe_http_ssl gauge\nprobe_http_ssl 0\n"
        "# HELP probe_http_status_code Response HTTP status code\n"
        "# TYPE probe_http_status_code gauge\nprobe_http_status_code 200\n"
        "# HELP probe_http_uncompressed_body_length Length of uncompressed response body\n"
        "# TYPE probe_http_uncompressed_body_length gauge\nprobe_http_uncompressed_body_length "
        "42\n"
        "# HELP probe_http_version Returns the version of HTTP of the probe response\n"
        "# TYPE probe_http_version gauge\nprobe_http_version 1.1\n"
        "# HELP probe_ip_addr_hash Specifies the hash of IP address. It's useful to detect if the "
        "IP address changes.\n# TYPE probe_ip_addr_hash gauge\nprobe_ip_addr_hash 3668918509\n"
        "# HELP probe_ip_protocol Specifies whether probe ip protocol is IP4 or IP6\n"
        "# TYPE probe_ip_protocol gauge\nprobe_ip_protocol 4\n"
        "# HELP probe_success Displays whether or not the probe was a success\n"
        "# TYPE probe_success gauge\nprobe_success 1\n";
    assert_string_equal(buf_str(&b), want);
    buf_free(&b);
}

/* Over TLS: the expiry and the version appear; a failure marks its reason. */
static void test_http_tls_and_failure(void **state)
{
    (void)state;
    struct check_result res;
    struct http_tail t;
    http_result(&res, &t, true);
    res.success = false;
    res.reason = CHECK_REASON_BODY;
    t.failed_due_to_regex = true;
    struct bbexpo_result r;
    bbexpo_copy(&r, &res);
    struct buf b;
    buf_init(&b, 1u << 16);
    bbexpo_render(&r, "http", "http://127.0.0.1/", 0.25, reasons, ARRAY_SIZE(reasons), &b);
    const char *s = buf_str(&b);
    assert_non_null(strstr(s, "\nprobe_ssl_earliest_cert_expiry 1767225600\n"));
    assert_non_null(strstr(s, "\nprobe_tls_version_info{version=\"TLS 1.3\"} 1\n"));
    assert_non_null(strstr(s, "\nprobe_http_ssl 1\n"));
    assert_non_null(strstr(s, "\nprobe_failed_due_to_regex 1\n"));
    assert_non_null(strstr(s, "\nprobe_failure_reason{reason=\"body\"} 1\n"));
    assert_non_null(strstr(s, "\nprobe_failure_reason{reason=\"timeout\"} 0\n"));
    assert_non_null(strstr(s, "\nprobe_success 0\n"));
    /* The log names the verdict and the reason. */
    buf_reset(&b);
    strcpy(r.res.detail, "body did not match \"ok\"");
    bbexpo_log(&r, "http_2xx", "http", "https://127.0.0.1:1/", 9.5, 0.25, &b);
    s = buf_str(&b);
    assert_non_null(strstr(s, "msg=\"Beginning probe\" probe=http timeout_seconds=9.5\n"));
    assert_non_null(strstr(s, "level=error msg=\"Probe failed\" duration_seconds=0.25 "
                              "reason=body detail=\"body did not match \\\"ok\\\"\"\n"));
    buf_free(&b);
}

/* No result (the wait ended first): a timeout, the common families only
 * for a prober this file does not know, at 0. */
static void test_no_result(void **state)
{
    (void)state;
    struct bbexpo_result r;
    memset(&r, 0, sizeof(r));
    struct buf b;
    buf_init(&b, 1u << 16);
    bbexpo_render(&r, "http", "http://127.0.0.1/", 3, reasons, ARRAY_SIZE(reasons), &b);
    const char *s = buf_str(&b);
    assert_non_null(strstr(s, "\nprobe_failure_reason{reason=\"timeout\"} 1\n"));
    assert_non_null(strstr(s, "\nprobe_http_status_code 0\n"));
    assert_non_null(strstr(s, "\nprobe_duration_seconds 3\n"));
    assert_non_null(strstr(s, "\nprobe_success 0\n"));
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timeout_rule),
        cmocka_unit_test(test_http_families),
        cmocka_unit_test(test_http_tls_and_failure),
        cmocka_unit_test(test_no_result),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
