/*
 * test_http_check.c - unit tests for the pure parts of the HTTP check
 * (http_check.c): classification of curl errors, judgement of a response
 * against the expectations of a check loaded from YAML, JSON expectations and
 * the phase split of curl's timers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "buf.h"
#include "config.h"
#include "http_check.h"

#include <errno.h>
#include <openssl/x509_vfy.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- classification ---- */

static void test_classify_curl(void **state)
{
    (void)state;
    static const struct {
        CURLcode code;
        bool overflow;
        enum check_reason want;
    } cases[] = {
        {CURLE_OPERATION_TIMEDOUT, false, CHECK_REASON_TIMEOUT},
        {CURLE_COULDNT_RESOLVE_HOST, false, CHECK_REASON_DNS},
        {CURLE_COULDNT_RESOLVE_PROXY, false, CHECK_REASON_DNS},
        {CURLE_COULDNT_CONNECT, false, CHECK_REASON_CONNECT},
        {CURLE_PEER_FAILED_VERIFICATION, false, CHECK_REASON_TLS},
        {CURLE_SSL_CONNECT_ERROR, false, CHECK_REASON_TLS},
        {CURLE_SSL_CERTPROBLEM, false, CHECK_REASON_TLS},
        {CURLE_SSL_CACERT_BADFILE, false, CHECK_REASON_TLS},
        {CURLE_SSL_PINNEDPUBKEYNOTMATCH, false, CHECK_REASON_TLS},
        {CURLE_FILESIZE_EXCEEDED, false, CHECK_REASON_BODY},
        /* Our write callback stopped an over-long body: whatever curl says. */
        {CURLE_WRITE_ERROR, true, CHECK_REASON_BODY},
        {CURLE_OPERATION_TIMEDOUT, true, CHECK_REASON_BODY},
        {CURLE_COULDNT_CONNECT, true, CHECK_REASON_BODY},
        {CURLE_GOT_NOTHING, true, CHECK_REASON_BODY},
        {CURLE_WRITE_ERROR, false, CHECK_REASON_OTHER},
        {CURLE_GOT_NOTHING, false, CHECK_REASON_OTHER},
        {CURLE_TOO_MANY_REDIRECTS, false, CHECK_REASON_OTHER},
        {CURLE_RECV_ERROR, false, CHECK_REASON_OTHER},
        {CURLE_SEND_ERROR, false, CHECK_REASON_OTHER},
        {CURLE_UNSUPPORTED_PROTOCOL, false, CHECK_REASON_OTHER},
        {CURLE_URL_MALFORMAT, false, CHECK_REASON_OTHER},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        enum check_reason got = http_classify_curl(cases[i].code, cases[i].overflow);
        if (got != cases[i].want)
            fail_msg("row %zu (curl %d, overflow %d): got %s, want %s", i, (int)cases[i].code,
                     cases[i].overflow, check_reason_name(got), check_reason_name(cases[i].want));
    }
}

/* ---- evaluation against checks from YAML ---- */

static const char yaml[] = "checks:\n"
                           "  - name: default\n"
                           "    url: http://example.com/\n"
                           "  - name: status_list\n"
                           "    url: http://example.com/\n"
                           "    expect:\n"
                           "      status: [\"200-299\", 301, \"4xx\"]\n"
                           "  - name: status_one\n"
                           "    url: http://example.com/\n"
                           "    expect:\n"
                           "      status: 204\n"
                           "  - name: header\n"
                           "    url: http://example.com/\n"
                           "    expect:\n"
                           "      headers:\n"
                           "        Content-Type: \"^application/json\"\n"
                           "  - name: header_exact\n"
                           "    url: http://example.com/\n"
                           "    expect:\n"
                           "      headers:\n"
                           "        X-Version: \"^v2$\"\n"
                           "  - name: two_headers\n"
                           "    url: http://example.com/\n"
                           "    expect:\n"
                           "      headers:\n"
                           "        content-type: json\n"
                           "        Cache-Control: no-store\n"
                           "  - name: body\n"
                           "    url: http://example.com/\n"
                           "    expect:\n"
                           "      body_matches: [\"\\\"status\\\": *\\\"ok\\\"\", \"^\\\\{\"]\n"
                           "      body_not_matches: \"(?i)error\"\n"
                           "  - name: json_str\n"
                           "    url: http://example.com/\n"
                           "    expect:\n"
                           "      json:\n"
                           "        - path: status\n"
                           "          equals: ok\n"
                           "  - name: json_num\n"
                           "    url: http://example.com/\n"
                           "    expect:\n"
                           "      json:\n"
                           "        - path: count\n"
                           "          equals: 3\n"
                           "  - name: json_quoted\n"
                           "    url: http://example.com/\n"
                           "    expect:\n"
                           "      json:\n"
                           "        - path: count\n"
                           "          equals: \"3\"\n"
                           "  - name: json_bool\n"
                           "    url: http://example.com/\n"
                           "    expect:\n"
                           "      json:\n"
                           "        - path: flag\n"
                           "          equals: true\n"
                           "  - name: json_null\n"
                           "    url: http://example.com/\n"
                           "    expect:\n"
                           "      json:\n"
                           "        - path: nothing\n"
                           "          equals: null\n"
                           "  - name: json_exists\n"
                           "    url: http://example.com/\n"
                           "    expect:\n"
                           "      json:\n"
                           "        - path: nothing\n"
                           "          exists: true\n"
                           "  - name: json_absent\n"
                           "    url: http://example.com/\n"
                           "    expect:\n"
                           "      json:\n"
                           "        - path: error\n"
                           "          exists: false\n"
                           "  - name: json_index\n"
                           "    url: http://example.com/\n"
                           "    expect:\n"
                           "      json:\n"
                           "        - path: items[1].id\n"
                           "          equals: 7\n"
                           "  - name: json_two\n"
                           "    url: http://example.com/\n"
                           "    expect:\n"
                           "      json:\n"
                           "        - path: status\n"
                           "          equals: ok\n"
                           "        - path: data.version\n"
                           "          equals: \"2.1\"\n"
                           "  - name: latency\n"
                           "    url: http://example.com/\n"
                           "    expect:\n"
                           "      max_duration: 250ms\n"
                           "  - name: all\n"
                           "    url: http://example.com/\n"
                           "    expect:\n"
                           "      status: 200\n"
                           "      headers:\n"
                           "        Content-Type: json\n"
                           "      body_matches: ok\n"
                           "      json:\n"
                           "        - path: status\n"
                           "          equals: ok\n"
                           "      max_duration: 1s\n"
                           /* For the detail texts. */
                           "  - name: d_status\n"
                           "    url: http://example.com/\n"
                           "    expect:\n"
                           "      status: [\"200-299\", 301]\n"
                           "  - name: d_json\n"
                           "    url: http://example.com/\n"
                           "    expect:\n"
                           "      json:\n"
                           "        - path: data.status\n"
                           "          equals: ok\n"
                           "  - name: d_header\n"
                           "    url: http://example.com/\n"
                           "    expect:\n"
                           "      headers:\n"
                           "        X-A: v2\n"
                           "  - name: d_body\n"
                           "    url: http://example.com/\n"
                           "    expect:\n"
                           "      body_matches: ok\n"
                           "      body_not_matches: error\n"
                           "  - name: d_limit\n"
                           "    url: http://example.com/\n"
                           "    expect:\n"
                           "      body_matches: \"(*LIMIT_MATCH=50)(a+)+$\"\n"
                           "  - name: d_costly\n"
                           "    url: http://example.com/\n"
                           "    expect:\n"
                           "      body_matches: \"(a+)+$\"\n"
                           "  - name: d_costly_not\n"
                           "    url: http://example.com/\n"
                           "    expect:\n"
                           "      body_not_matches: \"(a|aa)+$\"\n"
                           "  - name: d_costly_header\n"
                           "    url: http://example.com/\n"
                           "    expect:\n"
                           "      headers:\n"
                           "        X-A: \"^(\\\\w+\\\\s?)*$\"\n"
                           "  - name: d_deep\n"
                           "    url: http://example.com/\n"
                           "    expect:\n"
                           "      body_matches: \"(?s)^(.)*zzz\"\n"
                           "  - name: d_latency\n"
                           "    url: http://example.com/\n"
                           "    expect:\n"
                           "      max_duration: 500ms\n";

static struct cfg *g_cfg;

static int group_setup(void **state)
{
    (void)state;
    struct buf errors;
    buf_init(&errors, 1u << 16);
    enum op_rc rc = cfg_load_string(yaml, strlen(yaml), "test.yml", &g_cfg, &errors);
    if (rc != OP_OK) {
        fprintf(stderr, "config did not load:\n%s", buf_str(&errors));
        buf_free(&errors);
        return -1;
    }
    buf_free(&errors);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    cfg_free(g_cfg);
    return 0;
}

static const struct check_spec *spec(const char *name)
{
    for (size_t i = 0; i < cfg_check_count(g_cfg); i++)
        if (strcmp(cfg_check(g_cfg, i)->name, name) == 0)
            return cfg_check(g_cfg, i);
    fail_msg("no check named %s", name);
    return NULL;
}

#define H_JSON "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n\r\n"
#define B_OK                                                                                       \
    "{\"status\": \"ok\", \"count\": 3, \"flag\": true, \"nothing\": null, "                       \
    "\"items\": [{\"id\": 1}, {\"id\": 7}], \"data\": {\"version\": \"2.1\"}, \"s3\": \"3\"}"

struct eval_case {
    const char *check;
    int status;
    const char *headers; /* NULL: none captured */
    const char *body;    /* NULL: none captured */
    double duration;
    enum check_reason want;
};

static void run_eval_table(const struct eval_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct eval_case *c = &cases[i];
        char detail[CHECK_DETAIL_MAX];
        enum check_reason got = http_evaluate(
            spec(c->check), c->status, c->headers, c->headers ? strlen(c->headers) : 0, c->body,
            c->body ? strlen(c->body) : 0, c->duration, detail, sizeof(detail));
        if (got != c->want)
            fail_msg("row %zu (%s, status %d): got %s, want %s", i, c->check, c->status,
                     check_reason_name(got), check_reason_name(c->want));
        /* A failure always says why; a success says nothing. */
        if ((got == CHECK_REASON_NONE) != (detail[0] == '\0'))
            fail_msg("row %zu (%s): reason %s with detail \"%s\"", i, c->check,
                     check_reason_name(got), detail);
    }
}

static void test_evaluate_status(void **state)
{
    (void)state;
    static const struct eval_case cases[] = {
        /* Default: any 2xx. */
        {"default", 200, NULL, NULL, 0.01, CHECK_REASON_NONE},
        {"default", 204, NULL, NULL, 0.01, CHECK_REASON_NONE},
        {"default", 299, NULL, NULL, 0.01, CHECK_REASON_NONE},
        {"default", 199, NULL, NULL, 0.01, CHECK_REASON_HTTP_STATUS},
        {"default", 300, NULL, NULL, 0.01, CHECK_REASON_HTTP_STATUS},
        {"default", 301, NULL, NULL, 0.01, CHECK_REASON_HTTP_STATUS},
        {"default", 404, NULL, NULL, 0.01, CHECK_REASON_HTTP_STATUS},
        {"default", 500, NULL, NULL, 0.01, CHECK_REASON_HTTP_STATUS},
        {"default", 0, NULL, NULL, 0.01, CHECK_REASON_HTTP_STATUS},
        /* ["200-299", 301, "4xx"] */
        {"status_list", 200, NULL, NULL, 0.01, CHECK_REASON_NONE},
        {"status_list", 299, NULL, NULL, 0.01, CHECK_REASON_NONE},
        {"status_list", 301, NULL, NULL, 0.01, CHECK_REASON_NONE},
        {"status_list", 400, NULL, NULL, 0.01, CHECK_REASON_NONE},
        {"status_list", 404, NULL, NULL, 0.01, CHECK_REASON_NONE},
        {"status_list", 499, NULL, NULL, 0.01, CHECK_REASON_NONE},
        {"status_list", 199, NULL, NULL, 0.01, CHECK_REASON_HTTP_STATUS},
        {"status_list", 300, NULL, NULL, 0.01, CHECK_REASON_HTTP_STATUS},
        {"status_list", 302, NULL, NULL, 0.01, CHECK_REASON_HTTP_STATUS},
        {"status_list", 399, NULL, NULL, 0.01, CHECK_REASON_HTTP_STATUS},
        {"status_list", 500, NULL, NULL, 0.01, CHECK_REASON_HTTP_STATUS},
        {"status_list", 503, NULL, NULL, 0.01, CHECK_REASON_HTTP_STATUS},
        /* A single code. */
        {"status_one", 204, NULL, NULL, 0.01, CHECK_REASON_NONE},
        {"status_one", 200, NULL, NULL, 0.01, CHECK_REASON_HTTP_STATUS},
        {"status_one", 205, NULL, NULL, 0.01, CHECK_REASON_HTTP_STATUS},
    };
    run_eval_table(cases, ARRAY_SIZE(cases));
}

static void test_evaluate_headers(void **state)
{
    (void)state;
    static const struct eval_case cases[] = {
        {"header", 200, H_JSON, NULL, 0.01, CHECK_REASON_NONE},
        /* Header names are case-insensitive. */
        {"header", 200, "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n", NULL, 0.01,
         CHECK_REASON_NONE},
        {"header", 200, "HTTP/1.1 200 OK\r\nCONTENT-TYPE:application/json\r\n\r\n", NULL, 0.01,
         CHECK_REASON_NONE},
        /* The value regex is case-sensitive and anchored where written. */
        {"header", 200, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n", NULL, 0.01,
         CHECK_REASON_HEADER},
        {"header", 200, "HTTP/1.1 200 OK\r\nContent-Type: x-application/json\r\n\r\n", NULL, 0.01,
         CHECK_REASON_HEADER},
        /* Missing header, no headers at all, a name that only starts alike. */
        {"header", 200, "HTTP/1.1 200 OK\r\nServer: x\r\n\r\n", NULL, 0.01, CHECK_REASON_HEADER},
        {"header", 200, NULL, NULL, 0.01, CHECK_REASON_HEADER},
        {"header", 200, "", NULL, 0.01, CHECK_REASON_HEADER},
        {"header", 200, "HTTP/1.1 200 OK\r\nContent-Type-X: application/json\r\n\r\n", NULL, 0.01,
         CHECK_REASON_HEADER},
        {"header", 200, "HTTP/1.1 200 OK\r\nX-Content-Type: application/json\r\n\r\n", NULL, 0.01,
         CHECK_REASON_HEADER},
        /* The name inside another header's value does not count. */
        {"header", 200, "HTTP/1.1 200 OK\r\nX-Note: Content-Type: application/json\r\n\r\n", NULL,
         0.01, CHECK_REASON_HEADER},
        /* ^v2$: the CR LF and surrounding blanks are not part of the value. */
        {"header_exact", 200, "HTTP/1.1 200 OK\r\nX-Version: v2\r\n\r\n", NULL, 0.01,
         CHECK_REASON_NONE},
        {"header_exact", 200, "HTTP/1.1 200 OK\r\nX-Version:   v2  \r\n\r\n", NULL, 0.01,
         CHECK_REASON_NONE},
        {"header_exact", 200, "HTTP/1.1 200 OK\nX-Version: v2\n\n", NULL, 0.01, CHECK_REASON_NONE},
        {"header_exact", 200, "HTTP/1.1 200 OK\r\nX-Version: v2", NULL, 0.01, CHECK_REASON_NONE},
        {"header_exact", 200, "HTTP/1.1 200 OK\r\nX-Version: v21\r\n\r\n", NULL, 0.01,
         CHECK_REASON_HEADER},
        /* Repeated header: any occurrence may match. */
        {"header_exact", 200, "HTTP/1.1 200 OK\r\nX-Version: v1\r\nX-Version: v2\r\n\r\n", NULL,
         0.01, CHECK_REASON_NONE},
        {"header_exact", 200, "HTTP/1.1 200 OK\r\nX-Version: v1\r\nX-Version: v3\r\n\r\n", NULL,
         0.01, CHECK_REASON_HEADER},
        /* Two expectations: both must hold, in a multi-header block. */
        {"two_headers", 200,
         "HTTP/1.1 200 OK\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\nContent-Type: application/json"
         "\r\nCache-Control: private, no-store\r\nContent-Length: 2\r\n\r\n",
         NULL, 0.01, CHECK_REASON_NONE},
        {"two_headers", 200,
         "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nCache-Control: max-age=60\r\n\r\n",
         NULL, 0.01, CHECK_REASON_HEADER},
        {"two_headers", 200, "HTTP/1.1 200 OK\r\nCache-Control: no-store\r\n\r\n", NULL, 0.01,
         CHECK_REASON_HEADER},
        /* A longer name that starts with the wanted one is another header. */
        {"two_headers", 200,
         "HTTP/1.1 200 OK\r\nContent-Types: application/json\r\nCache-Control: no-store\r\n\r\n",
         NULL, 0.01, CHECK_REASON_HEADER},
        /* Status is judged first. */
        {"header", 500, H_JSON, NULL, 0.01, CHECK_REASON_HTTP_STATUS},
        {"header", 500, NULL, NULL, 0.01, CHECK_REASON_HTTP_STATUS},
    };
    run_eval_table(cases, ARRAY_SIZE(cases));
}

static void test_evaluate_body(void **state)
{
    (void)state;
    static const struct eval_case cases[] = {
        {"body", 200, NULL, "{\"status\": \"ok\"}", 0.01, CHECK_REASON_NONE},
        {"body", 200, NULL, "{\"status\":\"ok\",\"n\":1}", 0.01, CHECK_REASON_NONE},
        /* body_matches: every pattern must match. */
        {"body", 200, NULL, "{\"status\": \"down\"}", 0.01, CHECK_REASON_BODY},
        {"body", 200, NULL, " {\"status\": \"ok\"}", 0.01, CHECK_REASON_BODY},
        {"body", 200, NULL, "", 0.01, CHECK_REASON_BODY},
        {"body", 200, NULL, NULL, 0.01, CHECK_REASON_BODY},
        /* body_not_matches: no pattern may match. */
        {"body", 200, NULL, "{\"status\": \"ok\", \"error\": 1}", 0.01, CHECK_REASON_BODY},
        {"body", 200, NULL, "{\"status\": \"ok\", \"msg\": \"ERROR\"}", 0.01, CHECK_REASON_BODY},
        {"body", 500, NULL, "{\"status\": \"down\"}", 0.01, CHECK_REASON_HTTP_STATUS},
        /* A check without body expectations ignores the body. */
        {"default", 200, NULL, "error error", 0.01, CHECK_REASON_NONE},
    };
    run_eval_table(cases, ARRAY_SIZE(cases));

    /* The body is a byte string with a length, not a C string. */
    const char bin[] = "{\0\"status\": \"ok\"}";
    char d[CHECK_DETAIL_MAX];
    assert_int_equal(
        http_evaluate(spec("body"), 200, NULL, 0, bin, sizeof(bin) - 1, 0.01, d, sizeof(d)),
        CHECK_REASON_NONE);
    /* Only the first len bytes count. */
    const char cut[] = "{\"status\": \"ok\"} error";
    assert_int_equal(http_evaluate(spec("body"), 200, NULL, 0, cut, 16, 0.01, d, sizeof(d)),
                     CHECK_REASON_NONE);
    assert_int_equal(http_evaluate(spec("body"), 200, NULL, 0, cut, 10, 0.01, d, sizeof(d)),
                     CHECK_REASON_BODY);
}

static void test_evaluate_json(void **state)
{
    (void)state;
    static const struct eval_case cases[] = {
        {"json_str", 200, NULL, B_OK, 0.01, CHECK_REASON_NONE},
        {"json_str", 200, NULL, "{\"status\": \"down\"}", 0.01, CHECK_REASON_JSON},
        {"json_str", 200, NULL, "{\"status\": \"OK\"}", 0.01, CHECK_REASON_JSON},
        {"json_str", 200, NULL, "{}", 0.01, CHECK_REASON_JSON},
        {"json_str", 200, NULL, "{\"status\": {\"v\": \"ok\"}}", 0.01, CHECK_REASON_JSON},
        {"json_str", 200, NULL, "{\"status\": [\"ok\"]}", 0.01, CHECK_REASON_JSON},
        /* Not JSON at all. */
        {"json_str", 200, NULL, "not json", 0.01, CHECK_REASON_JSON},
        {"json_str", 200, NULL, "{\"status\": \"ok\"", 0.01, CHECK_REASON_JSON},
        {"json_str", 200, NULL, "{\"status\": \"ok\"} trailing", 0.01, CHECK_REASON_JSON},
        {"json_str", 200, NULL, "", 0.01, CHECK_REASON_JSON},
        {"json_str", 200, NULL, NULL, 0.01, CHECK_REASON_JSON},
        /* Numbers compare as numbers. */
        {"json_num", 200, NULL, B_OK, 0.01, CHECK_REASON_NONE},
        {"json_num", 200, NULL, "{\"count\": 3.0}", 0.01, CHECK_REASON_NONE},
        {"json_num", 200, NULL, "{\"count\": 3e0}", 0.01, CHECK_REASON_NONE},
        {"json_num", 200, NULL, "{\"count\": 4}", 0.01, CHECK_REASON_JSON},
        {"json_num", 200, NULL, "{\"count\": 3.5}", 0.01, CHECK_REASON_JSON},
        {"json_num", 200, NULL, "{\"count\": true}", 0.01, CHECK_REASON_JSON},
        {"json_num", 200, NULL, "{\"count\": null}", 0.01, CHECK_REASON_JSON},
        /* Quoted "3" in the config matches only the string "3". */
        {"json_quoted", 200, NULL, "{\"count\": \"3\"}", 0.01, CHECK_REASON_NONE},
        {"json_quoted", 200, NULL, "{\"count\": 3}", 0.01, CHECK_REASON_JSON},
        {"json_quoted", 200, NULL, "{\"count\": 3.0}", 0.01, CHECK_REASON_JSON},
        {"json_bool", 200, NULL, "{\"flag\": true}", 0.01, CHECK_REASON_NONE},
        {"json_bool", 200, NULL, "{\"flag\": false}", 0.01, CHECK_REASON_JSON},
        {"json_bool", 200, NULL, "{\"flag\": 1}", 0.01, CHECK_REASON_JSON},
        {"json_bool", 200, NULL, "{\"flag\": null}", 0.01, CHECK_REASON_JSON},
        {"json_null", 200, NULL, "{\"nothing\": null}", 0.01, CHECK_REASON_NONE},
        {"json_null", 200, NULL, "{\"nothing\": 0}", 0.01, CHECK_REASON_JSON},
        {"json_null", 200, NULL, "{\"nothing\": false}", 0.01, CHECK_REASON_JSON},
        {"json_null", 200, NULL, "{}", 0.01, CHECK_REASON_JSON}, /* absent is not null */
        /* exists: true / false. A null value exists. */
        {"json_exists", 200, NULL, "{\"nothing\": null}", 0.01, CHECK_REASON_NONE},
        {"json_exists", 200, NULL, "{\"nothing\": {}}", 0.01, CHECK_REASON_NONE},
        {"json_exists", 200, NULL, "{\"other\": 1}", 0.01, CHECK_REASON_JSON},
        {"json_exists", 200, NULL, "[1, 2]", 0.01, CHECK_REASON_JSON},
        {"json_absent", 200, NULL, B_OK, 0.01, CHECK_REASON_NONE},
        {"json_absent", 200, NULL, "{\"error\": null}", 0.01, CHECK_REASON_JSON},
        {"json_absent", 200, NULL, "{\"error\": \"boom\"}", 0.01, CHECK_REASON_JSON},
        /* exists: false on an invalid document is still a JSON failure. */
        {"json_absent", 200, NULL, "<html>", 0.01, CHECK_REASON_JSON},
        /* Array index. */
        {"json_index", 200, NULL, B_OK, 0.01, CHECK_REASON_NONE},
        {"json_index", 200, NULL, "{\"items\": [{\"id\": 7}]}", 0.01, CHECK_REASON_JSON},
        {"json_index", 200, NULL, "{\"items\": [{\"id\": 7}, {\"id\": 1}]}", 0.01,
         CHECK_REASON_JSON},
        {"json_index", 200, NULL, "{\"items\": {\"1\": {\"id\": 7}}}", 0.01, CHECK_REASON_JSON},
        {"json_index", 200, NULL, "{\"items\": []}", 0.01, CHECK_REASON_JSON},
        /* Two expectations: both must hold. */
        {"json_two", 200, NULL, B_OK, 0.01, CHECK_REASON_NONE},
        {"json_two", 200, NULL, "{\"status\": \"ok\", \"data\": {\"version\": \"2.2\"}}", 0.01,
         CHECK_REASON_JSON},
        {"json_two", 200, NULL, "{\"status\": \"ok\", \"data\": {\"version\": 2.1}}", 0.01,
         CHECK_REASON_JSON},
        {"json_two", 200, NULL, "{\"status\": \"no\", \"data\": {\"version\": \"2.1\"}}", 0.01,
         CHECK_REASON_JSON},
        /* Status before JSON. */
        {"json_str", 503, NULL, "not json", 0.01, CHECK_REASON_HTTP_STATUS},
    };
    run_eval_table(cases, ARRAY_SIZE(cases));
}

static void test_evaluate_latency_and_order(void **state)
{
    (void)state;
    static const struct eval_case cases[] = {
        /* max_duration 250ms: exactly the limit passes. */
        {"latency", 200, NULL, NULL, 0.0, CHECK_REASON_NONE},
        {"latency", 200, NULL, NULL, 0.1, CHECK_REASON_NONE},
        {"latency", 200, NULL, NULL, 0.25, CHECK_REASON_NONE},
        {"latency", 200, NULL, NULL, 0.2501, CHECK_REASON_LATENCY},
        {"latency", 200, NULL, NULL, 3.0, CHECK_REASON_LATENCY},
        /* Latency only when everything else passes. */
        {"latency", 500, NULL, NULL, 3.0, CHECK_REASON_HTTP_STATUS},
        /* No max_duration: any duration. */
        {"default", 200, NULL, NULL, 1e6, CHECK_REASON_NONE},
        /* "all": status, header, body, json, latency - first failure wins. */
        {"all", 200, H_JSON, B_OK, 0.5, CHECK_REASON_NONE},
        {"all", 200, H_JSON, B_OK, 1.5, CHECK_REASON_LATENCY},
        {"all", 500, "", "nope", 1.5, CHECK_REASON_HTTP_STATUS},
        {"all", 200, "HTTP/1.1 200 OK\r\n\r\n", "nope", 1.5, CHECK_REASON_HEADER},
        {"all", 200, H_JSON, "nope", 1.5, CHECK_REASON_BODY},
        {"all", 200, H_JSON, "{\"status\": \"ok\"", 1.5, CHECK_REASON_JSON},
        {"all", 200, H_JSON, "{\"status\": \"not ok\"}", 1.5, CHECK_REASON_JSON},
        {"all", 200, H_JSON, "{\"status\": \"ok\"}", 1.0, CHECK_REASON_NONE},
        {"all", 200, H_JSON, "{\"status\": \"ok\"}", 1.001, CHECK_REASON_LATENCY},
    };
    run_eval_table(cases, ARRAY_SIZE(cases));
}

/* ---- detail texts ---- */

#define LONG_100                                                                                   \
    "0123456789012345678901234567890123456789012345678901234567890123456789"                       \
    "012345678901234567890123456789"

static void test_evaluate_detail(void **state)
{
    (void)state;
    static const struct {
        const char *check;
        int status;
        const char *headers, *body;
        double duration;
        const char *want;
    } cases[] = {
        /* Status: the configured ranges, compactly. */
        {"d_status", 503, NULL, NULL, 0.01, "status 503 not in [200-299, 301]"},
        {"default", 0, NULL, NULL, 0.01, "status 0 not in [200-299]"},
        {"status_list", 302, NULL, NULL, 0.01, "status 302 not in [200-299, 301, 400-499]"},
        {"status_one", 200, NULL, NULL, 0.01, "status 200 not in [204]"},
        /* JSON: the path, what was wanted, what came. */
        {"d_json", 200, NULL, "{\"data\": {\"status\": \"degraded\"}}", 0.01,
         "json data.status: want \"ok\", got \"degraded\""},
        {"d_json", 200, NULL, "{\"data\": {}}", 0.01, "json data.status: missing"},
        {"d_json", 200, NULL, "{\"data\": 5}", 0.01, "json data.status: missing"},
        {"d_json", 200, NULL, "not json", 0.01, "body is not JSON"},
        {"d_json", 200, NULL, "", 0.01, "body is not JSON"},
        {"d_json", 200, NULL, "{\"data\": {\"status\": 5}}", 0.01,
         "json data.status: want \"ok\", got 5"},
        {"d_json", 200, NULL, "{\"data\": {\"status\": -2.5e-3}}", 0.01,
         "json data.status: want \"ok\", got -0.0025"},
        {"d_json", 200, NULL, "{\"data\": {\"status\": null}}", 0.01,
         "json data.status: want \"ok\", got null"},
        {"d_json", 200, NULL, "{\"data\": {\"status\": true}}", 0.01,
         "json data.status: want \"ok\", got true"},
        {"d_json", 200, NULL, "{\"data\": {\"status\": {\"ok\": 1}}}", 0.01,
         "json data.status: want \"ok\", got an object"},
        {"d_json", 200, NULL, "{\"data\": {\"status\": [\"ok\"]}}", 0.01,
         "json data.status: want \"ok\", got an array"},
        /* A response value: 64 bytes, then "..."; control characters out. */
        {"d_json", 200, NULL, "{\"data\": {\"status\": \"" LONG_100 "\"}}", 0.01,
         "json data.status: want \"ok\", got "
         "\"0123456789012345678901234567890123456789012345678901234567890123...\""},
        {"d_json", 200, NULL, "{\"data\": {\"status\": \"a\\nb\\tc\\u001b[1m\"}}", 0.01,
         "json data.status: want \"ok\", got \"a?b?c?[1m\""},
        {"json_num", 200, NULL, "{\"count\": 4}", 0.01, "json count: want 3, got 4"},
        {"json_quoted", 200, NULL, "{\"count\": 3}", 0.01, "json count: want \"3\", got 3"},
        {"json_bool", 200, NULL, "{\"flag\": false}", 0.01, "json flag: want true, got false"},
        {"json_null", 200, NULL, "{\"nothing\": 0}", 0.01, "json nothing: want null, got 0"},
        {"json_null", 200, NULL, "{}", 0.01, "json nothing: missing"},
        {"json_absent", 200, NULL, "{\"error\": \"boom\"}", 0.01,
         "json error: want absent, got \"boom\""},
        {"json_exists", 200, NULL, "{\"other\": 1}", 0.01, "json nothing: missing"},
        {"json_index", 200, NULL, "{\"items\": [{\"id\": 7}]}", 0.01, "json items[1].id: missing"},
        {"json_index", 200, NULL, "{\"items\": [{\"id\": 7}, {\"id\": 1}]}", 0.01,
         "json items[1].id: want 7, got 1"},
        /* The first expectation that fails is the one described. */
        {"json_two", 200, NULL, "{\"status\": \"ok\", \"data\": {\"version\": 2.1}}", 0.01,
         "json data.version: want \"2.1\", got 2.1"},
        /* Headers: the name and the pattern, never a value. */
        {"d_header", 200, "HTTP/1.1 200 OK\r\nServer: x\r\n\r\n", NULL, 0.01,
         "header X-A: missing"},
        {"d_header", 200, NULL, NULL, 0.01, "header X-A: missing"},
        {"d_header", 200, "HTTP/1.1 200 OK\r\nX-A: v1\r\nX-A: v3\r\n\r\n", NULL, 0.01,
         "header X-A: no value matched /v2/"},
        {"d_header", 200, "HTTP/1.1 200 OK\r\nSet-Cookie: session=s3cret\r\n\r\n", NULL, 0.01,
         "header X-A: missing"},
        /* Body expressions. */
        {"d_body", 200, NULL, "nope", 0.01, "body did not match /ok/"},
        {"d_body", 200, NULL, NULL, 0.01, "body did not match /ok/"},
        {"d_body", 200, NULL, "ok, but an error", 0.01, "body matched /error/"},
        {"d_limit", 200, NULL, "aaaaaaaaaaaaaaaaaaaaaaaaaaaab", 0.01,
         "body /(*LIMIT_MATCH=50)(a+)+$/: regex match limit hit (pattern too costly for this "
         "body)"},
        /* Latency, to the millisecond. */
        {"d_latency", 200, NULL, NULL, 0.512, "took 0.512 s, more than max_duration 0.500 s"},
        {"d_latency", 200, NULL, NULL, 0.5, ""},
        {"all", 200, H_JSON, B_OK, 0.5, ""},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char detail[CHECK_DETAIL_MAX];
        memset(detail, 'Z', sizeof(detail));
        const char *h = cases[i].headers, *b = cases[i].body;
        (void)http_evaluate(spec(cases[i].check), cases[i].status, h, h ? strlen(h) : 0, b,
                            b ? strlen(b) : 0, cases[i].duration, detail, sizeof(detail));
        if (strcmp(detail, cases[i].want) != 0)
            fail_msg("row %zu (%s): got \"%s\", want \"%s\"", i, cases[i].check, detail,
                     cases[i].want);
    }

    /* A small array: cut at its size with "...". */
    char small[16];
    (void)http_evaluate(spec("d_json"), 200, NULL, 0, "{}", 2, 0.01, small, sizeof(small));
    assert_string_equal(small, "json data.st...");
    /* No array at all. */
    assert_int_equal(http_evaluate(spec("d_json"), 200, NULL, 0, "{}", 2, 0.01, NULL, 0),
                     CHECK_REASON_JSON);
}

/* Seconds on the monotonic clock, for the hang guard below. */
static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A pathological pattern on a 1 MiB body hits PCRE2's limits (HTTP_REGEX_*)
 * and fails its expectation with a detail that says so, instead of keeping
 * the probe thread busy. The time bound is only a hang guard: without the
 * limits (a regression) the exponential match would not end at all. */
static void test_regex_limits(void **state)
{
    (void)state;
    size_t n = 1u << 20;
    char *body = malloc(n + 1);
    assert_non_null(body);
    memset(body, 'a', n - 1);
    body[n - 1] = 'b';
    body[n] = '\0';
    /* Words and spaces, then a character no word has: every split of every
     * word is tried before ^(\w+\s?)*$ gives up. */
    size_t hn = 60000;
    char *headers = malloc(hn + 64);
    assert_non_null(headers);
    size_t o = (size_t)snprintf(headers, 64, "HTTP/1.1 200 OK\r\nX-A: ");
    for (size_t i = 0; i < hn; i++)
        headers[o++] = i % 6 == 5 ? ' ' : 'w';
    memcpy(headers + o, "!\r\n\r\n", 6);
    o += 5;

    static const struct {
        const char *check;
        bool use_headers;
        enum check_reason want_reason;
        const char *want;
    } cases[] = {
        {"d_costly", false, CHECK_REASON_BODY,
         "body /(a+)+$/: regex match limit hit (pattern too costly for this body)"},
        {"d_costly_not", false, CHECK_REASON_BODY,
         "body /(a|aa)+$/: regex depth limit hit (pattern too costly for this body)"},
        {"d_costly_header", true, CHECK_REASON_HEADER,
         "header X-A /^(\\w+\\s?)*$/: regex match limit hit (pattern too costly for this value)"},
        {"d_deep", false, CHECK_REASON_BODY,
         "body /(?s)^(.)*zzz/: regex depth limit hit (pattern too costly for this body)"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char detail[CHECK_DETAIL_MAX];
        double t0 = mono_now();
        enum check_reason got = cases[i].use_headers
                                    ? http_evaluate(spec(cases[i].check), 200, headers, o, NULL, 0,
                                                    0.01, detail, sizeof(detail))
                                    : http_evaluate(spec(cases[i].check), 200, NULL, 0, body, n,
                                                    0.01, detail, sizeof(detail));
        double took = mono_now() - t0;
        if (got != cases[i].want_reason || strcmp(detail, cases[i].want) != 0)
            fail_msg("row %zu (%s): got %s \"%s\", want %s \"%s\"", i, cases[i].check,
                     check_reason_name(got), detail, check_reason_name(cases[i].want_reason),
                     cases[i].want);
        if (took > 2.0)
            fail_msg("row %zu (%s): the match took %.3f s", i, cases[i].check, took);
    }
    free(headers);
    free(body);
}

static void test_failure_detail(void **state)
{
    (void)state;
    char strerr_peer[128], strerr_nothing[128];
    snprintf(strerr_peer, sizeof(strerr_peer), "tls: %s",
             curl_easy_strerror(CURLE_PEER_FAILED_VERIFICATION));
    snprintf(strerr_nothing, sizeof(strerr_nothing), "%s", curl_easy_strerror(CURLE_GOT_NOTHING));
    const struct {
        struct http_failure f;
        const char *want;
    } cases[] = {
        {{.code = CURLE_OPERATION_TIMEDOUT, .timeout_ms = 2000, .phase = CHECK_PHASE_PROCESSING},
         "timeout after 2.000 s in phase processing"},
        {{.code = CURLE_OPERATION_TIMEDOUT, .timeout_ms = 400, .phase = CHECK_PHASE_CONNECT},
         "timeout after 0.400 s in phase connect"},
        {{.code = CURLE_OPERATION_TIMEDOUT, .timeout_ms = 1500, .phase = CHECK_PHASE_RESOLVE},
         "timeout after 1.500 s in phase resolve"},
        /* DNS: never libcurl's text, which names the (maybe resolved) host. */
        {{.code = CURLE_COULDNT_RESOLVE_HOST, .message = "Could not resolve host: s3cret.internal"},
         "dns: could not resolve host"},
        {{.code = CURLE_COULDNT_RESOLVE_PROXY}, "dns: could not resolve proxy"},
        {{.code = CURLE_COULDNT_CONNECT, .os_errno = ECONNREFUSED, .message = "Failed to connect"},
         "connect: connection refused"},
        {{.code = CURLE_COULDNT_CONNECT, .os_errno = ENETUNREACH},
         "connect: network is unreachable"},
        {{.code = CURLE_COULDNT_CONNECT}, "connect: could not connect"},
        /* TLS: an expired certificate with its date, else libcurl's words. */
        {{.code = CURLE_PEER_FAILED_VERIFICATION,
          .verify_result = X509_V_ERR_CERT_HAS_EXPIRED,
          .cert_expiry = 1793534400.0,
          .message = "SSL certificate problem: certificate has expired"},
         "tls: certificate has expired (notAfter 2026-11-01)"},
        {{.code = CURLE_PEER_FAILED_VERIFICATION,
          .verify_result = X509_V_ERR_CERT_HAS_EXPIRED,
          .message = "SSL certificate problem: certificate has expired"},
         "tls: SSL certificate problem: certificate has expired"},
        {{.code = CURLE_PEER_FAILED_VERIFICATION,
          .verify_result = X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT,
          .cert_expiry = 1793534400.0,
          .message = "SSL certificate problem: self-signed certificate"},
         "tls: SSL certificate problem: self-signed certificate"},
        {{.code = CURLE_PEER_FAILED_VERIFICATION, .message = ""}, strerr_peer},
        {{.code = CURLE_PEER_FAILED_VERIFICATION}, strerr_peer},
        /* Caps. */
        {{.code = CURLE_WRITE_ERROR, .body_overflow = true, .max_body_bytes = 1048576},
         "body larger than 1048576 bytes"},
        {{.code = CURLE_FILESIZE_EXCEEDED, .max_body_bytes = 4096}, "body larger than 4096 bytes"},
        {{.code = CURLE_WRITE_ERROR, .headers_overflow = true}, "headers larger than 65536 bytes"},
        /* Everything else. */
        {{.code = CURLE_TOO_MANY_REDIRECTS, .message = "Maximum (10) redirects followed"},
         "more than 10 redirects"},
        {{.code = CURLE_RECV_ERROR, .message = "Recv failure: Connection reset by peer"},
         "Recv failure: Connection reset by peer"},
        {{.code = CURLE_GOT_NOTHING}, strerr_nothing},
        {{.code = CURLE_RECV_ERROR, .message = "line\none"}, "line?one"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char detail[CHECK_DETAIL_MAX];
        http_failure_detail(&cases[i].f, detail, sizeof(detail));
        if (strcmp(detail, cases[i].want) != 0)
            fail_msg("row %zu (curl %d): got \"%s\", want \"%s\"", i, (int)cases[i].f.code, detail,
                     cases[i].want);
    }
}

static void test_running_phase(void **state)
{
    (void)state;
    static const struct {
        int64_t nl, cn, ac, st;
        bool tls;
        enum check_phase want;
    } cases[] = {
        {0, 0, 0, 0, false, CHECK_PHASE_RESOLVE},
        {0, 0, 0, 0, true, CHECK_PHASE_RESOLVE},
        {19, 0, 0, 0, false, CHECK_PHASE_CONNECT},
        {19, 0, 0, 0, true, CHECK_PHASE_CONNECT},
        {19, 100, 0, 0, false, CHECK_PHASE_PROCESSING},
        {19, 100, 0, 0, true, CHECK_PHASE_TLS},
        {19, 100, 300, 0, true, CHECK_PHASE_PROCESSING},
        {19, 100, 0, 500, false, CHECK_PHASE_TRANSFER},
        {19, 100, 300, 500, true, CHECK_PHASE_TRANSFER},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        enum check_phase got =
            http_running_phase(cases[i].nl, cases[i].cn, cases[i].ac, cases[i].st, cases[i].tls);
        if (got != cases[i].want)
            fail_msg("row %zu: got %s, want %s", i, check_phase_name(got),
                     check_phase_name(cases[i].want));
    }
}

static void test_scrub_message(void **state)
{
    (void)state;
    static const char *const mismatch =
        "SSL: no alternative certificate subject name matches target host name '%s'";
    static const struct {
        const char *host_in_msg, *url, *target, *want_host;
    } cases[] = {
        /* The host came from a reference: the label does not show it. */
        {"s3cret.internal", "https://s3cret.internal/x", "https://${env:HOST}/x", "<host>"},
        {"S3CRET.internal", "https://s3cret.internal/x", "https://${env:HOST}/x", "<host>"},
        /* The label shows the same host: nothing to hide. */
        {"api.example.com", "https://api.example.com/health", "https://api.example.com/health",
         "api.example.com"},
        {"api.example.com", "https://u:pw@api.example.com:8443/?t=1",
         "https://api.example.com:8443/", "api.example.com"},
        {"::1", "https://[::1]:8443/", "https://[::1]:8443/", "::1"},
        /* A name libcurl got elsewhere (server_name) is not the URL's host. */
        {"wrong.example", "https://127.0.0.1:8443/", "https://127.0.0.1:8443/", "wrong.example"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char msg[256], want[256], out[256];
        snprintf(msg, sizeof(msg), mismatch, cases[i].host_in_msg);
        snprintf(want, sizeof(want), mismatch, cases[i].want_host);
        http_scrub_message(msg, cases[i].url, cases[i].target, out, sizeof(out));
        if (strcmp(out, want) != 0)
            fail_msg("row %zu: got \"%s\", want \"%s\"", i, out, want);
    }
    /* Every occurrence; a small output array is never overrun. */
    char out[12];
    http_scrub_message("h.x and h.x", "http://h.x/", "http://${env:H}/", out, sizeof(out));
    assert_string_equal(out, "<host> and ");
    http_scrub_message("h.x", "http://h.x/", "http://${env:H}/", out, 4);
    assert_string_equal(out, "<ho");
}

/* ---- http_json_holds directly ---- */

static void test_json_holds(void **state)
{
    (void)state;
    struct json_step s_a = {"a", 0}, s_b = {"b", 0}, s_0 = {NULL, 0}, s_2 = {NULL, 2};
    struct json_step p_a[] = {s_a};
    struct json_step p_ab[] = {s_a, s_b};
    struct json_step p_0[] = {s_0};
    struct json_step p_a2b[] = {s_a, s_2, s_b};
    static const char doc[] = "{\"a\": {\"b\": 1.5, \"s\": \"x\"}, \"n\": 0}";
    static const char arr[] = "[\"first\", 2, null]";
    static const char deep[] = "{\"a\": [0, 1, {\"b\": \"hit\"}]}";
    const struct {
        const char *doc;
        struct json_step *steps;
        size_t n_steps;
        bool is_exists, exists;
        const char *equals;
        bool quoted;
        bool want;
    } cases[] = {
        {doc, p_ab, 2, false, false, "1.5", false, true},
        {doc, p_ab, 2, false, false, "1.50", false, true},
        {doc, p_ab, 2, false, false, "15e-1", false, true},
        {doc, p_ab, 2, false, false, "1.6", false, false},
        {doc, p_ab, 2, false, false, "1.5x", false, false},
        {doc, p_ab, 2, false, false, "", false, false},
        {doc, p_ab, 2, false, false, "1.5", true, false}, /* quoted: string only */
        {doc, p_ab, 2, false, false, "inf", false, false},
        {doc, p_ab, 2, true, true, NULL, false, true},
        {doc, p_ab, 2, true, false, NULL, false, false},
        {doc, p_a, 1, false, false, "1.5", false, false}, /* an object is not a scalar */
        {doc, p_a, 1, true, true, NULL, false, true},
        /* Index step on an object, key step on an array. */
        {doc, p_0, 1, true, true, NULL, false, false},
        {doc, p_0, 1, true, false, NULL, false, true},
        {arr, p_a, 1, true, false, NULL, false, true},
        {arr, p_0, 1, false, false, "first", false, true},
        {arr, p_0, 1, false, false, "first", true, true},
        {arr, p_0, 1, false, false, "First", false, false},
        {arr, p_a2b, 3, true, true, NULL, false, false},
        {deep, p_a2b, 3, false, false, "hit", false, true},
        {deep, p_a2b, 3, false, false, "miss", false, false},
        /* Whole document with no steps. */
        {"\"ok\"", NULL, 0, false, false, "ok", false, true},
        {"42", NULL, 0, false, false, "42", false, true},
        {"null", NULL, 0, false, false, "null", false, true},
        {"null", NULL, 0, false, false, "~", false, true},
        {"null", NULL, 0, false, false, "", false, false},
        {"false", NULL, 0, false, false, "false", false, true},
        {"false", NULL, 0, false, false, "0", false, false},
        {"true", NULL, 0, false, false, "true", true, false},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        json_error_t err;
        json_t *root = json_loads(cases[i].doc, JSON_DECODE_ANY, &err);
        assert_non_null(root);
        struct json_expect j;
        memset(&j, 0, sizeof(j));
        j.path = (char *)"test";
        j.steps = cases[i].steps;
        j.n_steps = cases[i].n_steps;
        j.is_exists = cases[i].is_exists;
        j.exists = cases[i].exists;
        j.equals = (char *)cases[i].equals;
        j.equals_quoted = cases[i].quoted;
        bool got = http_json_holds(&j, root);
        json_decref(root);
        if (got != cases[i].want)
            fail_msg("row %zu: got %d, want %d", i, got, cases[i].want);
    }
}

/* ---- phase split ---- */

static void test_phases(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        int64_t nl, cn, ac, st, tot;
        double want[CHECK_PHASE_COUNT]; /* resolve, connect, tls, processing, transfer */
    } cases[] = {
        {"plain http", 1000, 3000, 0, 10000, 15000, {0.001, 0.002, 0, 0.007, 0.005}},
        {"https", 1000, 3000, 8000, 10000, 15000, {0.001, 0.002, 0.005, 0.002, 0.005}},
        {"ip literal", 0, 2000, 0, 2500, 4000, {0, 0.002, 0, 0.0005, 0.0015}},
        {"dns failed", 0, 0, 0, 0, 1500000, {0, 0, 0, 0, 0}},
        {"connect failed", 2000, 0, 0, 0, 5000000, {0.002, 0, 0, 0, 0}},
        {"tls failed", 1000, 3000, 0, 0, 9000, {0.001, 0.002, 0, 0, 0}},
        {"no response", 1000, 3000, 8000, 0, 5000000, {0.001, 0.002, 0.005, 0, 0}},
        {"all zero", 0, 0, 0, 0, 0, {0, 0, 0, 0, 0}},
        /* Out-of-order or negative timers never produce negative phases. */
        {"disordered", 5000, 3000, 2000, 1000, 500, {0.005, 0, 0, 0, 0}},
        {"negative", -1, -1, -1, -1, -1, {0, 0, 0, 0, 0}},
        {"total before start", 1000, 2000, 0, 9000, 8000, {0.001, 0.001, 0, 0.007, 0}},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        double out[CHECK_PHASE_COUNT];
        for (int p = 0; p < CHECK_PHASE_COUNT; p++)
            out[p] = -99;
        http_phases(cases[i].nl, cases[i].cn, cases[i].ac, cases[i].st, cases[i].tot, out);
        for (int p = 0; p < CHECK_PHASE_COUNT; p++) {
            /* Same arithmetic as the expectation: microseconds / 1e6. */
            double want = cases[i].want[p];
            if (out[p] < 0 || out[p] != want)
                fail_msg("%s: phase %s = %.17g, want %.17g", cases[i].what,
                         check_phase_name((enum check_phase)p), out[p], want);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify_curl),    cmocka_unit_test(test_evaluate_status),
        cmocka_unit_test(test_evaluate_headers), cmocka_unit_test(test_evaluate_body),
        cmocka_unit_test(test_evaluate_json),    cmocka_unit_test(test_evaluate_latency_and_order),
        cmocka_unit_test(test_json_holds),       cmocka_unit_test(test_phases),
        cmocka_unit_test(test_evaluate_detail),  cmocka_unit_test(test_regex_limits),
        cmocka_unit_test(test_failure_detail),   cmocka_unit_test(test_running_phase),
        cmocka_unit_test(test_scrub_message),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
