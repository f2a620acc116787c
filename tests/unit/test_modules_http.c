/*
 * test_modules_http.c - blackbox_exporter's http prober options as the
 * http type's settings (cfg_modules_http.c): every supported option into
 * the exact setting, the header rules and the transport expectations
 * judged as blackbox judges them, authorization, and the targets a module
 * refuses.
 */
#include "modules_test.h"

#define CERT_A                                                                                     \
    "-----BEGIN CERTIFICATE-----\n"                                                                \
    "MIIBmDCCAT+gAwIBAgIUTEV2Gy5DtWORR6bfep/5wiDlEZ8wCgYIKoZIzj0EAwIw\n"                           \
    "ITEfMB0GA1UEAwwWb3V0cG9zdCB1bml0IHRlc3QgQ0EgYTAgFw0yNjExMzAyMzA2\n"                           \
    "MTVaGA8yMTI2MTEwNjIzMDYxNVowITEfMB0GA1UEAwwWb3V0cG9zdCB1bml0IHRl\n"                           \
    "c3QgQ0EgYTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABJ7QgjNPnxOvkxJJuYLV\n"                           \
    "7OIOVzcHeMShpafw1RBlE+q031djEPPYL/i3Ee4uWW2Lj8Z2EO/W2Tt3dtKB2zn4\n"                           \
    "6ECjUzBRMB0GA1UdDgQWBBS8M9L5Wv0DQ95E8eetMlgQT1RAeDAfBgNVHSMEGDAW\n"                           \
    "gBS8M9L5Wv0DQ95E8eetMlgQT1RAeDAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49\n"                           \
    "BAMCA0cAMEQCIC9bbeoPER4/xTniihP+Xwph5b26X8KZeBFBjWVUXxMtAiB+Db3U\n"                           \
    "j8VbPzczx52nJpWQVsPmmdaavuuBahP9gnlTdg==\n"                                                   \
    "-----END CERTIFICATE-----\n"

/* Every http option outpost supports, as blackbox_exporter's example
 * config writes them (its unsupported ones are tested below). */
static const char http_every[] = "modules:\n"
                                 "  http_2xx_example:\n"
                                 "    prober: http\n"
                                 "    timeout: 5s\n"
                                 "    http:\n"
                                 "      valid_http_versions: []\n"
                                 "      valid_status_codes: [200, 301]\n"
                                 "      method: GET\n"
                                 "      headers:\n"
                                 "        Host: vhost.example.com\n"
                                 "        Accept-Language: en-US\n"
                                 "        X-Token: 'a${env:NOT_EXPANDED}b'\n"
                                 "      no_follow_redirects: false\n"
                                 "      fail_if_ssl: false\n"
                                 "      fail_if_not_ssl: false\n"
                                 "      fail_if_body_matches_regexp:\n"
                                 "        - \"Could not connect to database\"\n"
                                 "      fail_if_body_not_matches_regexp:\n"
                                 "        - \"Download the latest version here\"\n"
                                 "      fail_if_header_matches: []\n"
                                 "      fail_if_header_not_matches:\n"
                                 "        - header: Access-Control-Allow-Origin\n"
                                 "          regexp: '(\\*|example\\.com)'\n"
                                 "          allow_missing: false\n"
                                 "      tls_config:\n"
                                 "        insecure_skip_verify: false\n"
                                 "        ca_file: CA_FILE\n"
                                 "        server_name: vhost.example.com\n"
                                 "      preferred_ip_protocol: \"ip4\"\n"
                                 "      ip_protocol_fallback: false\n"
                                 "      body_size_limit: 10MB\n"
                                 "      compression: \"\"\n"
                                 "      enable_http2: true\n"
                                 "      body: '{}'\n"
                                 "  http_basic_auth_example:\n"
                                 "    prober: http\n"
                                 "    http:\n"
                                 "      method: POST\n"
                                 "      follow_redirects: false\n"
                                 "      basic_auth:\n"
                                 "        username: \"username\"\n"
                                 "        password: \"my${secret\"\n"
                                 "  http_password_file:\n"
                                 "    prober: http\n"
                                 "    http:\n"
                                 "      basic_auth: {username: u, password_file: PASS_FILE}\n"
                                 "  http_authorization:\n"
                                 "    prober: http\n"
                                 "    http:\n"
                                 "      authorization: {credentials_file: PASS_FILE}\n"
                                 "      body_file: PASS_FILE\n"
                                 "      headers: {X-A: b}\n"
                                 "  http_authorization_type:\n"
                                 "    prober: http\n"
                                 "    http:\n"
                                 "      headers: {X-A: b}\n"
                                 "      authorization: {type: Token, credentials: 'x${y'}\n"
                                 "  http1:\n"
                                 "    prober: http\n"
                                 "    http: {enable_http2: false}\n"
                                 "  http_bearer_file:\n"
                                 "    prober: http\n"
                                 "    http:\n"
                                 "      bearer_token_file: PASS_FILE\n"
                                 "      preferred_ip_protocol: ip6\n";

/* text with each key replaced by its value (caller frees). */
static char *subst(const char *text, const char *key, const char *value)
{
    struct buf b;
    buf_init(&b, 1u << 20);
    const char *q;
    while ((q = strstr(text, key))) {
        buf_add(&b, text, (size_t)(q - text));
        buf_adds(&b, value);
        text = q + strlen(key);
    }
    buf_adds(&b, text);
    return buf_take(&b);
}

static void test_http_every_option(void **state)
{
    (void)state;
    char ca[4096], pass[4096];
    snprintf(ca, sizeof(ca), "%s", write_file("ca.pem", CERT_A));
    snprintf(pass, sizeof(pass), "%s", write_file("pass", "s3cret"));
    char *a = subst(http_every, "CA_FILE", ca);
    char *text = subst(a, "PASS_FILE", pass);
    struct cfg *c = load(NO_CHECKS, text);
    assert_int_equal(cfg_module_count(c), 7);
    char *want = subst("timeout: 5000ms\n"
                       "expect.status[0]: 200\n"
                       "expect.status[1]: 301\n"
                       "expect.body_not_matches[0]: \"Could not connect to database\"\n"
                       "expect.body_matches[0]: \"Download the latest version here\"\n"
                       "expect.headers.Access-Control-Allow-Origin: \"(\\\\*|example\\\\.com)\"\n"
                       "method: GET\n"
                       "headers.Host: <secret>\n"
                       "headers.Accept-Language: <secret>\n"
                       "headers.X-Token: <secret>\n"
                       "tls.insecure_skip_verify: false\n"
                       "tls.ca_file: CA_FILE\n"
                       "tls.server_name: vhost.example.com\n"
                       "max_body_bytes: 10485760\n"
                       "body: <secret>\n"
                       "follow_redirects: true\n"
                       "ip_protocol: ip4\n",
                       "CA_FILE", ca);
    assert_describe(c, "http_2xx_example", want);
    free(want);

    struct check_spec *cs = check_of(c, "http_2xx_example", "example.com:8080/x?y=1", 2500);
    assert_ptr_equal(cs->type, &http_schema);
    assert_string_equal(cs->name, "probe");
    assert_string_equal(cs->target, "http://example.com:8080/x");
    assert_int_equal(cs->timeout_ms, 2500);
    const struct http_spec *h = http_spec_of(cs);
    assert_string_equal(h->url, "http://example.com:8080/x?y=1");
    assert_string_equal(h->method, "GET");
    assert_int_equal(h->n_headers, 3);
    assert_string_equal(h->headers[0].name, "Host");
    assert_string_equal(h->headers[0].value, "vhost.example.com");
    /* blackbox does not expand ${...}: neither does a module. */
    assert_string_equal(h->headers[2].value, "a${env:NOT_EXPANDED}b");
    assert_string_equal(h->body, "{}");
    assert_true(h->follow_redirects);
    assert_int_equal(h->ip_protocol, IP_PROTO_4);
    assert_int_equal(h->max_body_bytes, 10485760);
    assert_string_equal(h->tls.ca_file, ca);
    assert_string_equal(h->tls.server_name, "vhost.example.com");
    assert_false(h->tls.insecure_skip_verify);
    assert_int_equal(h->expect.n_status, 2);
    assert_int_equal(h->expect.status[0].lo, 200);
    assert_int_equal(h->expect.status[0].hi, 200);
    assert_int_equal(h->expect.status[1].lo, 301);
    assert_int_equal(h->expect.n_body_matches, 1);
    assert_string_equal(h->expect.body_matches[0].pattern, "Download the latest version here");
    assert_int_equal(h->expect.n_body_not_matches, 1);
    assert_string_equal(h->expect.body_not_matches[0].pattern, "Could not connect to database");
    assert_int_equal(h->expect.n_headers, 1);
    assert_string_equal(h->expect.headers[0].name, "Access-Control-Allow-Origin");
    assert_string_equal(h->expect.headers[0].re.pattern, "(\\*|example\\.com)");
    assert_null(h->basic_user);
    assert_null(h->bearer_token);
    cfg_check_spec_free(cs);

    assert_describe(c, "http_basic_auth_example",
                    "method: POST\n"
                    "basic_auth.username: \"username\"\n"
                    "basic_auth.password: <secret>\n"
                    "follow_redirects: false\n"
                    "ip_protocol: auto\n");
    cs = check_of(c, "http_basic_auth_example", "https://login.example.com/${env:HOME}", 1000);
    h = http_spec_of(cs);
    assert_string_equal(h->url, "https://login.example.com/${env:HOME}");
    assert_string_equal(h->method, "POST");
    assert_string_equal(h->basic_user, "username");
    assert_string_equal(h->basic_pass, "my${secret");
    assert_false(h->follow_redirects);
    assert_int_equal(h->ip_protocol, IP_PROTO_AUTO);
    /* 2xx, blackbox's default. */
    assert_int_equal(h->expect.n_status, 1);
    assert_int_equal(h->expect.status[0].lo, 200);
    assert_int_equal(h->expect.status[0].hi, 299);
    cfg_check_spec_free(cs);

    cs = check_of(c, "http_password_file", "http://127.0.0.1:9/", 1000);
    assert_string_equal(http_spec_of(cs)->basic_pass, "s3cret");
    cfg_check_spec_free(cs);
    cs = check_of(c, "http_bearer_file", "http://127.0.0.1:9/", 1000);
    assert_string_equal(http_spec_of(cs)->bearer_token, "s3cret");
    assert_int_equal(http_spec_of(cs)->ip_protocol, IP_PROTO_AUTO);
    cfg_check_spec_free(cs);

    assert_describe(c, "http_authorization",
                    "headers.Authorization: <secret>\n"
                    "headers.X-A: <secret>\n"
                    "body: <secret>\n"
                    "ip_protocol: auto\n");
    cs = check_of(c, "http_authorization", "http://127.0.0.1:9/", 1000);
    h = http_spec_of(cs);
    assert_int_equal(h->n_headers, 2);
    assert_string_equal(h->headers[0].name, "Authorization");
    assert_string_equal(h->headers[0].value, "Bearer s3cret");
    assert_string_equal(h->headers[1].name, "X-A");
    assert_string_equal(h->body, "s3cret");
    cfg_check_spec_free(cs);
    assert_describe(c, "http1", "http2: false\nip_protocol: auto\n");
    cs = check_of(c, "http1", "https://127.0.0.1:9/", 1000);
    assert_false(http_spec_of(cs)->http2);
    cfg_check_spec_free(cs);
    cs = check_of(c, "http_bearer_file", "https://127.0.0.1:9/", 1000);
    assert_true(http_spec_of(cs)->http2);
    cfg_check_spec_free(cs);
    cs = check_of(c, "http_authorization_type", "http://127.0.0.1:9/", 1000);
    h = http_spec_of(cs);
    assert_int_equal(h->n_headers, 2);
    assert_string_equal(h->headers[1].name, "Authorization");
    assert_string_equal(h->headers[1].value, "Token x${y");
    cfg_check_spec_free(cs);
    assert_target_error(c, "http_bearer_file", "http://",
                        "url: \"http://\" has no host: write http://HOST");
    /* "ftp://x/" becomes http://ftp://x/, host "ftp", as in blackbox. */
    assert_target_error(c, "http_bearer_file", "a b",
                        "url: \"http://a b\" is not a valid URL: Bad hostname");
    assert_target_error(c, "http_bearer_file", "a\nb",
                        "target: must not contain control characters");
    assert_target_error(c, "http_bearer_file", "", "target: must be 1 to 4096 bytes");
    struct buf err;
    buf_init(&err, 4096);
    cs = (void *)1;
    assert_int_equal(bb_module_check(cfg_find_module(c, "http_bearer_file"), "probe",
                                     "http://127.0.0.1/", 0, &cs, &err),
                     OP_ERR_INVALID);
    assert_null(cs);
    assert_string_equal(buf_str(&err), "timeout: must be above 0");
    buf_free(&err);
    cfg_free(c);
    free(a);
    free(text);
}

/* blackbox's four header rules, judged as blackbox judges them. */
static void test_http_header_rules(void **state)
{
    (void)state;
    struct cfg *c =
        load(NO_CHECKS, "modules:\n"
                        "  h:\n"
                        "    prober: http\n"
                        "    http:\n"
                        "      fail_if_header_matches:\n"
                        "        - {header: Set-Cookie, regexp: '.*', allow_missing: true}\n"
                        "        - {header: Server, regexp: '^+Apache'}\n"
                        "      fail_if_header_not_matches:\n"
                        "        - {header: Content-Type, regexp: json}\n"
                        "        - {header: Cache-Control, regexp: 'max-age', "
                        "allow_missing: true}\n");
    assert_describe(c, "h",
                    "expect.headers_not_matches.Set-Cookie: \".*\"\n"
                    "expect.headers_not_matches.Server: \"(?:^)+Apache\"\n"
                    "expect.headers.Server: \"\"\n"
                    "expect.headers.Content-Type: \"json\"\n"
                    "expect.headers_if_present.Cache-Control: \"max-age\"\n"
                    "ip_protocol: auto\n");
    struct check_spec *cs = check_of(c, "h", "127.0.0.1:1", 1000);
    static const struct {
        const char *headers;
        enum check_reason want;
        const char *detail;
    } cases[] = {
        {"Server: nginx\r\nContent-Type: application/json\r\n", CHECK_REASON_NONE, ""},
        {"Server: nginx\r\nContent-Type: application/json\r\nCache-Control: max-age=5\r\n",
         CHECK_REASON_NONE, ""},
        {"Server: nginx\r\nContent-Type: application/json\r\nCache-Control: no-store\r\n",
         CHECK_REASON_HEADER, "header Cache-Control: no value matched /max-age/"},
        {"Server: nginx\r\nContent-Type: application/json\r\nSet-Cookie: a=1\r\n",
         CHECK_REASON_HEADER, "header Set-Cookie: a value matched /.*/"},
        {"Server: Apache/2\r\nContent-Type: application/json\r\n", CHECK_REASON_HEADER,
         "header Server: a value matched /(?:^)+Apache/"},
        /* Not allowed to be missing. */
        {"Content-Type: application/json\r\n", CHECK_REASON_HEADER, "header Server: missing"},
        {"Server: nginx\r\n", CHECK_REASON_HEADER, "header Content-Type: missing"},
        /* Several values: "not matches" needs one to match. */
        {"Server: nginx\r\nContent-Type: text/html\r\nContent-Type: application/json\r\n",
         CHECK_REASON_NONE, ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char detail[256];
        enum check_reason r = http_evaluate(cs, 200, cases[i].headers, strlen(cases[i].headers), "",
                                            0, 0.1, detail, sizeof(detail));
        if (r != cases[i].want || strcmp(detail, cases[i].detail) != 0)
            fail_msg("case %zu: reason %d, detail \"%s\"", i, (int)r, detail);
    }
    cfg_check_spec_free(cs);
    cfg_free(c);
    assert_errors(NO_CHECKS,
                  "modules:\n"
                  "  h:\n"
                  "    prober: http\n"
                  "    http:\n"
                  "      fail_if_header_not_matches:\n"
                  "        - {header: X, regexp: a}\n"
                  "        - {header: x, regexp: b}\n"
                  "        - {header: Y, regexp: b, allow_mising: true}\n"
                  "        - {header: Z}\n",
                  "blackbox.yml:7:20: modules.h.http.fail_if_header_not_matches[1]: a second "
                  "pattern for one header is not supported by outpost\n"
                  "blackbox.yml:8:34: modules.h.http.fail_if_header_not_matches[2]: unknown key "
                  "\"allow_mising\" (did you mean \"allow_missing\"?)\n"
                  "blackbox.yml:9:11: modules.h.http.fail_if_header_not_matches[3]: needs header "
                  "and regexp\n");
}

/* valid_http_versions, fail_if_ssl and fail_if_not_ssl, judged on how the
 * final response came. */
static void test_http_authorization_errors(void **state)
{
    (void)state;
    assert_errors(NO_CHECKS,
                  "modules:\n"
                  "  a:\n"
                  "    prober: http\n"
                  "    http:\n"
                  "      headers: {authorization: x}\n"
                  "      authorization: {type: Basic, credentials: a, credentials_file: b}\n"
                  "  b:\n"
                  "    prober: http\n"
                  "    http:\n"
                  "      authorization: {credentials: a, type: Bearer}\n"
                  "      bearer_token: t\n",
                  "blackbox.yml:6:29: modules.a.http.authorization: type Basic: use basic_auth\n"
                  "blackbox.yml:6:22: modules.a.http.authorization: use credentials or "
                  "credentials_file, not both\n"
                  "blackbox.yml:6:22: modules.a.http.authorization: a second Authorization "
                  "header (headers sets one)\n"
                  "blackbox.yml:8:5: modules.b: use only one of basic_auth, bearer_token and "
                  "an Authorization header\n");
}

static void test_http_transport(void **state)
{
    (void)state;
    struct cfg *c = load(NO_CHECKS, "modules:\n"
                                    "  https_only:\n"
                                    "    prober: http\n"
                                    "    http:\n"
                                    "      fail_if_not_ssl: true\n"
                                    "      fail_if_ssl: false\n"
                                    "      valid_http_versions: [\"HTTP/1.1\", \"HTTP/2.0\"]\n"
                                    "  proxied:\n"
                                    "    prober: http\n"
                                    "    http: {proxy_url: 'http://u:p@127.0.0.1:3128', "
                                    "no_proxy: 'localhost', proxy_from_environment: false, "
                                    "skip_resolve_phase_with_proxy: true}\n"
                                    "  gz:\n"
                                    "    prober: http\n"
                                    "    http: {compression: gzip}\n"
                                    "  plain_only:\n"
                                    "    prober: http\n"
                                    "    http: {fail_if_ssl: true}\n");
    assert_describe(c, "https_only",
                    "expect.http_versions[0]: \"1.1\"\n"
                    "expect.http_versions[1]: \"2\"\n"
                    "expect.tls: true\n"
                    "ip_protocol: auto\n");
    struct check_spec *cs = check_of(c, "https_only", "https://127.0.0.1/", 1000);
    const struct http_expect *e = &http_spec_of(cs)->expect;
    assert_int_equal(e->tls, 1);
    assert_int_equal(e->n_http_versions, 2);
    char detail[256];
    assert_int_equal(http_judge_transport(e, true, 2, detail, sizeof(detail)), CHECK_REASON_NONE);
    assert_string_equal(detail, "");
    assert_int_equal(http_judge_transport(e, true, 1.1, detail, sizeof(detail)), CHECK_REASON_NONE);
    assert_int_equal(http_judge_transport(e, true, 1.0, detail, sizeof(detail)),
                     CHECK_REASON_HTTP_STATUS);
    assert_string_equal(detail, "HTTP version 1 not in [1.1, 2]");
    assert_int_equal(http_judge_transport(e, false, 1.1, detail, sizeof(detail)), CHECK_REASON_TLS);
    assert_string_equal(detail, "final response did not come over TLS");
    cfg_check_spec_free(cs);
    cs = check_of(c, "plain_only", "127.0.0.1", 1000);
    e = &http_spec_of(cs)->expect;
    assert_int_equal(e->tls, -1);
    assert_int_equal(http_judge_transport(e, false, 1.1, detail, sizeof(detail)),
                     CHECK_REASON_NONE);
    assert_int_equal(http_judge_transport(e, true, 1.1, detail, sizeof(detail)), CHECK_REASON_TLS);
    assert_string_equal(detail, "final response came over TLS");
    cfg_check_spec_free(cs);
    assert_describe(c, "proxied",
                    "proxy_url: <secret>\nno_proxy: \"localhost\"\nip_protocol: auto\n");
    cs = check_of(c, "proxied", "127.0.0.1", 1000);
    assert_string_equal(http_spec_of(cs)->proxy_url, "http://u:p@127.0.0.1:3128");
    assert_string_equal(http_spec_of(cs)->no_proxy, "localhost");
    cfg_check_spec_free(cs);
    assert_describe(c, "gz", "compression: gzip\nip_protocol: auto\n");
    cs = check_of(c, "gz", "127.0.0.1", 1000);
    assert_int_equal(http_spec_of(cs)->compression, 1);
    static const char *const plain = "Content-Type: text/plain\r\n";
    static const char *const gzip = "Content-Encoding:  GZIP \r\n";
    static const char *const br = "Content-Encoding: gzip\r\nContent-Encoding: br\r\n";
    assert_int_equal(http_evaluate(cs, 200, gzip, strlen(gzip), "", 0, 0.1, detail, 256),
                     CHECK_REASON_NONE);
    assert_int_equal(http_evaluate(cs, 200, plain, strlen(plain), "", 0, 0.1, detail, 256),
                     CHECK_REASON_BODY);
    assert_string_equal(detail,
                        "body not gzip-encoded (its Content-Encoding differs or is missing)");
    assert_int_equal(http_evaluate(cs, 200, br, strlen(br), "", 0, 0.1, detail, 256),
                     CHECK_REASON_BODY);
    cfg_check_spec_free(cs);
    cfg_free(c);
    assert_errors(NO_CHECKS,
                  "modules:\n  m:\n    prober: http\n"
                  "    http: {fail_if_ssl: true, fail_if_not_ssl: true}\n",
                  "blackbox.yml:4:48: modules.m.http: fail_if_ssl and fail_if_not_ssl together "
                  "fail every probe\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http_every_option),
        cmocka_unit_test(test_http_header_rules),
        cmocka_unit_test(test_http_transport),
        cmocka_unit_test(test_http_authorization_errors),
    };
    return cmocka_run_group_tests(tests, group_setup, tu_tmpdir_teardown);
}
