/*
 * test_modules.c - blackbox_exporter modules (cfg_modules.c,
 * cfg_modules_tr.c): Debian's blackbox.yml loads unchanged, the tcp, dns,
 * icmp and grpc translations and the checks bb_module_check builds with
 * them, errors at their file:line:col, allowed_targets, duplicates. The
 * http prober's options are in test_modules_http.c.
 */
#include "modules_test.h"

/* Debian's /etc/prometheus/blackbox.yml (prometheus-blackbox-exporter
 * 0.23.0-4), byte for byte. */
static const char debian_blackbox[] = "modules:\n"
                                      "  http_2xx:\n"
                                      "    prober: http\n"
                                      "  http_post_2xx:\n"
                                      "    prober: http\n"
                                      "    http:\n"
                                      "      method: POST\n"
                                      "  tcp_connect:\n"
                                      "    prober: tcp\n"
                                      "  pop3s_banner:\n"
                                      "    prober: tcp\n"
                                      "    tcp:\n"
                                      "      query_response:\n"
                                      "      - expect: \"^+OK\"\n"
                                      "      tls: true\n"
                                      "      tls_config:\n"
                                      "        insecure_skip_verify: false\n"
                                      "  grpc:\n"
                                      "    prober: grpc\n"
                                      "    grpc:\n"
                                      "      tls: true\n"
                                      "      preferred_ip_protocol: \"ip4\"\n"
                                      "  grpc_plain:\n"
                                      "    prober: grpc\n"
                                      "    grpc:\n"
                                      "      tls: false\n"
                                      "      service: \"service1\"\n"
                                      "  ssh_banner:\n"
                                      "    prober: tcp\n"
                                      "    tcp:\n"
                                      "      query_response:\n"
                                      "      - expect: \"^SSH-2.0-\"\n"
                                      "      - send: \"SSH-2.0-blackbox-ssh-check\"\n"
                                      "  irc_banner:\n"
                                      "    prober: tcp\n"
                                      "    tcp:\n"
                                      "      query_response:\n"
                                      "      - send: \"NICK prober\"\n"
                                      "      - send: \"USER prober prober prober :prober\"\n"
                                      "      - expect: \"PING :([^ ]+)\"\n"
                                      "        send: \"PONG ${1}\"\n"
                                      "      - expect: \"^:[^ ]+ 001\"\n"
                                      "  icmp:\n"
                                      "    prober: icmp\n"
                                      "  icmp_ttl5:\n"
                                      "    prober: icmp\n"
                                      "    timeout: 5s\n"
                                      "    icmp:\n"
                                      "      ttl: 5";

static void check_debian(const struct cfg *c)
{
    static const char *const names[] = {"http_2xx", "http_post_2xx", "tcp_connect", "pop3s_banner",
                                        "grpc",     "grpc_plain",    "ssh_banner",  "irc_banner",
                                        "icmp",     "icmp_ttl5"};
    static const char *const probers[] = {"http", "http", "tcp", "tcp",  "grpc",
                                          "grpc", "tcp",  "tcp", "icmp", "icmp"};
    assert_int_equal(cfg_module_count(c), 10);
    for (size_t i = 0; i < 10; i++) {
        assert_string_equal(bb_module_name(cfg_module(c, i)), names[i]);
        assert_string_equal(bb_module_prober(cfg_module(c, i)), probers[i]);
        assert_ptr_equal(cfg_find_module(c, names[i]), cfg_module(c, i));
    }
    assert_null(cfg_find_module(c, "nope"));
    assert_int_equal(bb_module_timeout_ms(cfg_find_module(c, "icmp")), 0);
    assert_int_equal(bb_module_timeout_ms(cfg_find_module(c, "icmp_ttl5")), 5000);
    assert_describe(c, "http_2xx", "ip_protocol: auto\n");
    assert_describe(c, "http_post_2xx", "method: POST\nip_protocol: auto\n");
    assert_describe(c, "tcp_connect", "ip_protocol: ip6\nip_protocol_fallback: true\n");
    assert_describe(c, "pop3s_banner",
                    "query_response[0].expect: \"(?:^)+OK\"\n"
                    "ip_protocol: ip6\nip_protocol_fallback: true\n"
                    "tls.insecure_skip_verify: false\n");
    assert_describe(c, "grpc", "ip_protocol: ip4\nip_protocol_fallback: true\ntls: true\n");
    assert_describe(c, "grpc_plain",
                    "service: \"service1\"\nip_protocol: ip6\nip_protocol_fallback: true\n");
    assert_describe(c, "irc_banner",
                    "query_response[0].send: \"NICK prober\"\n"
                    "query_response[1].send: \"USER prober prober prober :prober\"\n"
                    "query_response[2].expect: \"PING :([^ ]+)\"\n"
                    "query_response[2].send: \"PONG ${1}\"\n"
                    "query_response[3].expect: \"^:[^ ]+ 001\"\n"
                    "ip_protocol: ip6\nip_protocol_fallback: true\n");
    assert_describe(c, "icmp_ttl5",
                    "timeout: 5000ms\npackets: 1\nttl: 5\n"
                    "ip_protocol: ip6\nip_protocol_fallback: true\n");
}

static void test_debian_blackbox_yml(void **state)
{
    (void)state;
    struct cfg *c = load(NO_CHECKS, debian_blackbox);
    check_debian(c);
    cfg_free(c);
    /* The installed file itself, where the package is installed. */
    FILE *f = fopen("/etc/prometheus/blackbox.yml", "r");
    if (!f)
        return;
    fclose(f);
    struct buf err;
    buf_init(&err, 1u << 16);
    struct cfg_load_options lo = {.modules_file = "/etc/prometheus/blackbox.yml"};
    c = NULL;
    if (cfg_load_string_opts(NO_CHECKS, strlen(NO_CHECKS), "outpost.yml", &lo, &c, &err) != OP_OK)
        fail_msg("%s", buf_str(&err));
    check_debian(c);
    cfg_free(c);
    buf_free(&err);
}

/* A throwaway self-signed CA certificate (P-256), as test_castore.c. */
/* Two throwaway self-signed CA certificates (P-256, valid until 2126). */

static void test_other_probers(void **state)
{
    (void)state;
    struct cfg *c =
        load(NO_CHECKS, "modules:\n"
                        "  dns_udp_example:\n"
                        "    prober: dns\n"
                        "    timeout: 5s\n"
                        "    dns:\n"
                        "      query_name: \"www.prometheus.io\"\n"
                        "      query_type: \"A\"\n"
                        "      valid_rcodes:\n"
                        "        - NOERROR\n"
                        "        - NXDOMAIN\n"
                        "      validate_answer_rrs:\n"
                        "        fail_if_matches_regexp: [\".*127.0.0.1\"]\n"
                        "        fail_if_all_match_regexp: [\".*127.0.0.2\"]\n"
                        "        fail_if_not_matches_regexp: [\"www.prometheus.io.\\t300\"]\n"
                        "        fail_if_none_matches_regexp: [\"127.0.0.3\"]\n"
                        "      validate_authority_rrs:\n"
                        "        fail_if_matches_regexp: [\".*127.0.0.4\"]\n"
                        "      validate_additional_rrs:\n"
                        "        fail_if_none_matches_regexp: [\".*127.0.0.5\"]\n"
                        "  dns_tcp_example:\n"
                        "    prober: dns\n"
                        "    dns:\n"
                        "      transport_protocol: \"tcp\"\n"
                        "      preferred_ip_protocol: \"ip4\"\n"
                        "      ip_protocol_fallback: false\n"
                        "      recursion_desired: false\n"
                        "      query_class: CH\n"
                        "      query_name: \"www.prometheus.io\"\n"
                        "  smtp_starttls:\n"
                        "    prober: tcp\n"
                        "    tcp:\n"
                        "      query_response:\n"
                        "        - expect: \"^220 ([^ ]+) ESMTP (.+)$\"\n"
                        "        - send: \"EHLO prober\\r\"\n"
                        "        - starttls: true\n"
                        "      tls_config: {server_name: mail.example}\n"
                        "  tls_connect:\n"
                        "    prober: tcp\n"
                        "    tcp:\n"
                        "      tls: true\n"
                        "      tls_config: {server_name: a.example, "
                        "insecure_skip_verify: true}\n"
                        "  icmp_example:\n"
                        "    prober: icmp\n"
                        "    icmp:\n"
                        "      preferred_ip_protocol: ip4\n"
                        "      dont_fragment: true\n"
                        "      payload_size: 56\n"
                        "      ttl: 0\n"
                        "  grpc_tls:\n"
                        "    prober: grpc\n"
                        "    grpc:\n"
                        "      service: svc\n"
                        "      tls: true\n"
                        "      tls_config: {insecure_skip_verify: true}\n");
    assert_describe(c, "dns_udp_example",
                    "timeout: 5000ms\n"
                    "query.name: \"www.prometheus.io\"\n"
                    "query.type: \"A\"\n"
                    "query.class: IN\n"
                    "query.transport: udp\n"
                    "query.recursion_desired: true\n"
                    "expect.rcode[0]: NOERROR\n"
                    "expect.rcode[1]: NXDOMAIN\n"
                    "expect.answers_not_match[0]: \".*127.0.0.1\"\n"
                    "expect.answers_not_all_match[0]: \".*127.0.0.2\"\n"
                    "expect.answers_all_match[0]: \"www.prometheus.io.\\t300\"\n"
                    "expect.answers_match[0]: \"127.0.0.3\"\n"
                    "expect.authority_not_match[0]: \".*127.0.0.4\"\n"
                    "expect.additional_match[0]: \".*127.0.0.5\"\n"
                    "ip_protocol: ip6\n"
                    "ip_protocol_fallback: true\n");
    assert_describe(c, "dns_tcp_example",
                    "query.transport: \"tcp\"\n"
                    "query.recursion_desired: false\n"
                    "query.class: CH\n"
                    "query.name: \"www.prometheus.io\"\n"
                    "query.type: ANY\n"
                    "expect.rcode[0]: NOERROR\n"
                    "ip_protocol: ip4\n"
                    "ip_protocol_fallback: false\n");
    assert_describe(c, "smtp_starttls",
                    "query_response[0].expect: \"^220 ([^ ]+) ESMTP (.+)$\"\n"
                    "query_response[1].send: \"EHLO prober\\r\"\n"
                    "query_response[2].starttls: true\n"
                    "ip_protocol: ip6\n"
                    "ip_protocol_fallback: true\n"
                    "tls.server_name: mail.example\n");
    assert_describe(c, "tls_connect",
                    "ip_protocol: ip6\n"
                    "ip_protocol_fallback: true\n"
                    "tls.server_name: a.example\n"
                    "tls.insecure_skip_verify: true\n");
    assert_describe(c, "icmp_example",
                    "packets: 1\n"
                    "dont_fragment: true\n"
                    "payload_size: 56\n"
                    "ip_protocol: ip4\n"
                    "ip_protocol_fallback: true\n");
    assert_describe(c, "grpc_tls",
                    "service: svc\n"
                    "ip_protocol: ip6\n"
                    "ip_protocol_fallback: true\n"
                    "tls.insecure_skip_verify: true\n");

    struct check_spec *cs = check_of(c, "icmp_example", "192.0.2.7", 3000);
    assert_string_equal(cs->type->name, "icmp");
    assert_string_equal(cs->target, "192.0.2.7");
    assert_int_equal(cs->timeout_ms, 3000);
    cfg_check_spec_free(cs);

    cs = check_of(c, "smtp_starttls", "mail.example.com:25", 1000);
    assert_string_equal(cs->type->name, "tcp");
    const struct tcp_spec *tcp = tcp_spec_of(cs);
    assert_string_equal(tcp->host, "mail.example.com");
    assert_int_equal(tcp->port, 25);
    assert_int_equal(tcp->ip_protocol, IP_PROTO_6);
    assert_true(tcp->ip_protocol_fallback);
    assert_false(tcp->tls);
    assert_true(tcp->has_starttls);
    assert_string_equal(tcp->tls_cfg.server_name, "mail.example");
    assert_int_equal(tcp->n_steps, 3);
    assert_true(tcp->steps[2].starttls);
    cfg_check_spec_free(cs);
    cs = check_of(c, "tls_connect", "[::1]:443", 1000);
    tcp = tcp_spec_of(cs);
    assert_string_equal(tcp->host, "::1");
    assert_true(tcp->tls);
    assert_true(tcp->tls_cfg.insecure_skip_verify);
    assert_string_equal(tcp->tls_cfg.server_name, "a.example");
    cfg_check_spec_free(cs);

    cs = check_of(c, "dns_tcp_example", "127.0.0.1", 1000);
    assert_string_equal(cs->type->name, "dns");
    const struct dns_spec *dns = dns_spec_of(cs);
    assert_string_equal(dns->server, "127.0.0.1");
    assert_int_equal(dns->port, 53);
    assert_string_equal(dns->query_name, "www.prometheus.io");
    assert_string_equal(dns_type_names[dns->query_type], "ANY");
    assert_string_equal(dns_class_names[dns->query_class], "CH");
    assert_false(dns->recursion_desired);
    assert_int_equal(dns->ip_protocol, IP_PROTO_4);
    assert_false(dns->ip_protocol_fallback);
    cfg_check_spec_free(cs);
    cs = check_of(c, "dns_udp_example", "127.0.0.1:5353", 1000);
    dns = dns_spec_of(cs);
    assert_int_equal(dns->port, 5353);
    assert_string_equal(dns_type_names[dns->query_type], "A");
    assert_true(dns->recursion_desired);
    cfg_check_spec_free(cs);

    cs = check_of(c, "grpc_tls", "127.0.0.1:443", 1000);
    assert_string_equal(cs->type->name, "grpc");
    const struct grpc_spec *g = grpc_spec_of(cs);
    assert_string_equal(g->target, "127.0.0.1:443");
    assert_string_equal(g->service, "svc");
    assert_true(g->tls_enabled);
    assert_true(g->tls.insecure_skip_verify);
    assert_int_equal(g->ip_protocol, IP_PROTO_6);
    cfg_check_spec_free(cs);
    assert_target_error(c, "smtp_starttls", "mail.example.com",
                        "target: \"mail.example.com\": must be host:port");
    /* Host names and addresses: never a ${...} reference. */
    assert_target_error(c, "icmp_example", "${file:/etc/shadow}",
                        "target: must not contain \"${\"");
    cfg_free(c);
}

static void test_icmp_settings(void **state)
{
    (void)state;
    struct cfg *c = load(NO_CHECKS, "modules:\n"
                                    "  i:\n"
                                    "    prober: icmp\n"
                                    "    icmp: {preferred_ip_protocol: ip4, ip_protocol_fallback: "
                                    "false, payload_size: 56, ttl: 5, dont_fragment: true}\n");
    struct check_spec *cs = check_of(c, "i", "192.0.2.7", 3000);
    const struct icmp_spec *s = icmp_spec_of(cs);
    assert_string_equal(s->host, "192.0.2.7");
    assert_int_equal(s->packets, 1);
    assert_int_equal(s->ip_protocol, IP_PROTO_4);
    assert_false(s->ip_protocol_fallback);
    assert_int_equal(s->payload_size, 56);
    assert_int_equal(s->ttl, 5);
    assert_true(s->dont_fragment);
    cfg_check_spec_free(cs);
    assert_target_error(
        c, "i", "not a host!",
        "target: \"not a host!\": the host is neither an IP address nor a host name");
    cfg_free(c);
}

static void test_allowed_targets(void **state)
{
    (void)state;
    struct cfg *c = load("modules:\n"
                         "  web:\n"
                         "    prober: http\n"
                         "    allowed_targets: ['https?://[a-z]+\\.example\\.com(/.*)?', "
                         "'127\\.0\\.0\\.1:\\d+']\n"
                         "  any:\n"
                         "    prober: http\n" NO_CHECKS,
                         NULL);
    const struct bb_module *m = cfg_find_module(c, "web");
    assert_true(bb_module_target_allowed(m, "https://www.example.com"));
    assert_true(bb_module_target_allowed(m, "http://api.example.com/health"));
    assert_true(bb_module_target_allowed(m, "127.0.0.1:8080"));
    /* Anchored at both ends. */
    assert_false(bb_module_target_allowed(m, "https://www.example.com.evil.net"));
    assert_false(bb_module_target_allowed(m, "x127.0.0.1:8080"));
    assert_false(bb_module_target_allowed(m, "127.0.0.1:8080\n"));
    assert_false(bb_module_target_allowed(m, "https://www.example.org"));
    assert_true(bb_module_target_allowed(cfg_find_module(c, "any"), "anything at all"));
    cfg_free(c);
    assert_errors("modules:\n"
                  "  web:\n"
                  "    prober: http\n"
                  "    allowed_targets: ['(a', 'a)|(b', 'ok']\n" NO_CHECKS,
                  NULL,
                  "outpost.yml:4:23: modules.web.allowed_targets[0]: bad regular expression at "
                  "offset 2: missing closing parenthesis\n"
                  "outpost.yml:4:29: modules.web.allowed_targets[1]: bad regular expression at "
                  "offset 1: unmatched closing parenthesis\n");
}

static void test_errors(void **state)
{
    (void)state;
    assert_errors(
        NO_CHECKS,
        "modules:\n"
        "  a:\n"
        "    prober: htp\n"
        "  b:\n"
        "    timeout: 5\n"
        "  c:\n"
        "    prober: http\n"
        "    http:\n"
        "      proxy_connect_header: {X: [y]}\n"
        "      oauth2: {client_id: x}\n"
        "      fail_if_ssl: maybe\n"
        "      fail_if_header_matches: [{header: Set-Cookie, regexp: '.*'}]\n"
        "      valid_http_versions: [HTTP/1.1, HTTP/0.9]\n"
        "      compression: identity\n"
        "      enable_http2: nope\n"
        "      tls_config: {min_version: TLS12, ca_fle: x}\n"
        "      methd: GET\n"
        "      bearer_token_file: 'a}b'\n"
        "      fail_if_header_not_matches: [{header: X, regexp: a, allow_missing: true}]\n"
        "  d:\n"
        "    prober: tcp\n"
        "    http: {}\n"
        "    tcp: {source_ip_address: 127.0.0.1, tls: maybe}\n"
        "  e:\n"
        "    prober: dns\n"
        "    dns: {dns_over_tls: true}\n"
        "    extra: 1\n"
        "  f:\n"
        "    prober: http\n"
        "    http:\n"
        "      preferred_ip_protocol: ip5\n"
        "      body_size_limit: 2GB\n"
        "  g:\n"
        "    prober: http\n"
        "    http:\n"
        "      valid_status_codes: [42]\n"
        "      fail_if_body_matches_regexp: ['(']\n"
        "      basic_auth: {password: x}\n"
        "      compression: zip\n",
        "blackbox.yml:3:13: modules.a.prober: unknown prober \"htp\" (http, tcp, dns, icmp or "
        "grpc)\n"
        "blackbox.yml:5:5: modules.b: missing key \"prober\" (http, tcp, dns, icmp or grpc)\n"
        "blackbox.yml:5:14: modules.b.timeout: \"5\" is not a duration (use e.g. 250ms, 10s, 5m, "
        "1h, 1d)\n"
        "blackbox.yml:9:29: modules.c.http.proxy_connect_header: not supported by outpost\n"
        "blackbox.yml:10:15: modules.c.http.oauth2: not supported by outpost\n"
        "blackbox.yml:11:20: modules.c.http.fail_if_ssl: expected true or false, got \"maybe\"\n"
        "blackbox.yml:13:39: modules.c.http.valid_http_versions[1]: \"HTTP/0.9\" is not an HTTP "
        "version (HTTP/1.0, HTTP/1.1, HTTP/2.0 or HTTP/3.0)\n"
        "blackbox.yml:15:21: modules.c.http.enable_http2: expected true or false, got \"nope\"\n"
        "blackbox.yml:16:33: modules.c.http.tls_config.min_version: not supported by outpost\n"
        "blackbox.yml:16:40: modules.c.http.tls_config: unknown key \"ca_fle\" (did you mean "
        "\"ca_file\"?)\n"
        "blackbox.yml:17:7: modules.c.http: unknown key \"methd\" (did you mean \"method\"?)\n"
        "blackbox.yml:18:26: modules.c.http.bearer_token_file: must be a file name without \"}\"\n"
        "blackbox.yml:22:11: modules.d.http: the module's prober is tcp: this section would not be "
        "used\n"
        "blackbox.yml:23:30: modules.d.tcp.source_ip_address: not supported by outpost\n"
        "blackbox.yml:23:46: modules.d.tcp.tls: expected true or false, got \"maybe\"\n"
        "blackbox.yml:27:5: modules.e: unknown key \"extra\"\n"
        "blackbox.yml:26:25: modules.e.dns.dns_over_tls: not supported by outpost\n"
        "blackbox.yml:26:10: modules.e.dns: missing key \"query_name\"\n"
        "blackbox.yml:31:30: modules.f.http.preferred_ip_protocol: must be ip4 or ip6\n"
        "blackbox.yml:32:24: modules.f.http.body_size_limit: \"2GB\" is not a size from 0 to 1GiB "
        "(e.g. 10MB)\n"
        "blackbox.yml:36:28: modules.g.expect.status[0]: \"42\" is not a status code (100-599), a "
        "range like \"200-299\" or a class like \"2xx\"\n"
        "blackbox.yml:37:37: modules.g.expect.body_not_matches[0]: bad regular expression at "
        "offset 1: missing closing parenthesis\n"
        "blackbox.yml:38:19: modules.g.basic_auth: missing key \"username\"\n"
        "blackbox.yml:39:20: modules.g.compression: \"zip\" is not one of identity, gzip, br, "
        "deflate\n");
}

static void test_duplicates(void **state)
{
    (void)state;
    assert_errors("modules:\n"
                  "  http_2xx:\n"
                  "    prober: http\n" NO_CHECKS,
                  "modules:\n"
                  "  tcp: {prober: tcp}\n"
                  "  http_2xx:\n"
                  "    prober: http\n",
                  "blackbox.yml:3:3: modules.http_2xx: module defined twice: also at "
                  "outpost.yml:2:3\n");
    assert_errors(NO_CHECKS, "modules: {}\nglobal: {}\n",
                  "blackbox.yml:2:1: unknown key \"global\"\n");
    assert_errors(
        NO_CHECKS, "prober: http\n",
        "blackbox.yml:1:1: unknown key \"prober\"\nblackbox.yml:1:1: missing key \"modules\"\n");
    assert_errors(NO_CHECKS, "modules: [a]\n",
                  "blackbox.yml:1:10: modules: expected a mapping, got a list\n");
    assert_errors(NO_CHECKS, "modules:\n  a: {prober: http\n",
                  "blackbox.yml:2:6: this \"{\" is never closed: add \"}\" after the last pair "
                  "(YAML: did not find expected ',' or '}')\n"
                  "    2 |   a: {prober: http\n"
                  "      |      ^\n");
    struct buf err;
    buf_init(&err, 4096);
    struct cfg *c = NULL;
    struct cfg_load_options lo = {.modules_file = "/nonexistent/blackbox.yml"};
    assert_int_equal(
        cfg_load_string_opts(NO_CHECKS, strlen(NO_CHECKS), "outpost.yml", &lo, &c, &err),
        OP_ERR_INVALID);
    assert_string_equal(buf_str(&err),
                        "/nonexistent/blackbox.yml: cannot open: No such file or directory\n");
    buf_free(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_debian_blackbox_yml),
        cmocka_unit_test(test_other_probers),
        cmocka_unit_test(test_icmp_settings),
        cmocka_unit_test(test_allowed_targets),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_duplicates),
    };
    return cmocka_run_group_tests(tests, group_setup, tu_tmpdir_teardown);
}
