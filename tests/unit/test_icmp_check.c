/*
 * test_icmp_check.c - the `icmp` type's settings (defaults, bounds, errors
 * at file:line:col) and the pure pieces of its runs: echo requests and
 * their checksum, replies and errors told from foreign packets, the
 * round-trip statistics and the loss verdict.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "buf.h"
#include "config.h"
#include "icmp_check.h"

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* ---- settings ---- */

static struct cfg *load(const char *yaml)
{
    struct buf err;
    buf_init(&err, 1u << 16);
    struct cfg *c = NULL;
    if (cfg_load_string(yaml, strlen(yaml), "icmp.yml", &c, &err) != OP_OK)
        fail_msg("config: %s", buf_str(&err));
    buf_free(&err);
    return c;
}

static char *errors_of(const char *yaml)
{
    struct buf err;
    buf_init(&err, 1u << 16);
    struct cfg *c = NULL;
    assert_int_equal(cfg_load_string(yaml, strlen(yaml), "icmp.yml", &c, &err), OP_ERR_INVALID);
    assert_null(c);
    return buf_take(&err);
}

#define HEAD "checks:\n  - name: p\n    type: icmp\n"

static void test_defaults(void **state)
{
    (void)state;
    struct cfg *c = load(HEAD "    target: 127.0.0.1\n");
    const struct check_spec *cs = cfg_check(c, 0);
    const struct icmp_spec *s = icmp_spec_of(cs);
    assert_string_equal(cs->target, "127.0.0.1");
    assert_string_equal(s->host, "127.0.0.1");
    assert_int_equal(s->packets, 3);
    assert_int_equal(s->packet_interval_ms, 100);
    assert_int_equal(s->ip_protocol, IP_PROTO_AUTO);
    assert_true(s->ip_protocol_fallback);
    assert_int_equal(s->payload_size, 56);
    assert_true(s->max_loss_ratio == ICMP_LOSS_ALL);
    assert_int_equal(s->ttl, 0);
    assert_false(s->dont_fragment);
    cfg_free(c);
}

static void test_settings(void **state)
{
    (void)state;
    struct cfg *c = load(HEAD "    target: example.org\n"
                              "    timeout: 5s\n"
                              "    packets: 100\n"
                              "    packet_interval: 10ms\n"
                              "    ip_protocol: ip6\n"
                              "    ip_protocol_fallback: false\n"
                              "    payload_size: 64972\n"
                              "    max_loss_ratio: 0.25\n"
                              "    ttl: 255\n"
                              "    dont_fragment: true\n");
    const struct icmp_spec *s = icmp_spec_of(cfg_check(c, 0));
    assert_string_equal(cfg_check(c, 0)->target, "example.org");
    assert_int_equal(s->packets, 100);
    assert_int_equal(s->packet_interval_ms, 10);
    assert_int_equal(s->ip_protocol, IP_PROTO_6);
    assert_false(s->ip_protocol_fallback);
    assert_int_equal(s->payload_size, ICMP_MAX_PAYLOAD);
    assert_true(s->max_loss_ratio == 0.25);
    assert_int_equal(s->ttl, 255);
    assert_true(s->dont_fragment);
    cfg_free(c);
}

static void expect_error(const char *yaml, const char *want)
{
    char *e = errors_of(yaml);
    if (!strstr(e, want))
        fail_msg("want %s in:\n%s", want, e);
    free(e);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error(HEAD "    packets: 3\n", "icmp.yml:2:5: checks[0] \"p\": missing key \"target\"");
    expect_error(HEAD "    target: 127.0.0.1\n    packets: 0\n",
                 "icmp.yml:5:14: checks[0] \"p\".packets");
    expect_error(HEAD "    target: 127.0.0.1\n    packets: 101\n", "icmp.yml:5:14");
    expect_error(
        HEAD "    target: 127.0.0.1\n    packet_interval: 9ms\n",
        "icmp.yml:5:22: checks[0] \"p\".packet_interval: packet_interval must be at least 10ms");
    expect_error(HEAD "    target: 127.0.0.1\n    payload_size: 64973\n", "icmp.yml:5:19");
    expect_error(HEAD "    target: 127.0.0.1\n    max_loss_ratio: 1.5\n",
                 "icmp.yml:5:21: checks[0] \"p\".max_loss_ratio: must be at least 0 and at most 1");
    expect_error(HEAD "    target: 127.0.0.1\n    ttl: 0\n", "icmp.yml:5:10: checks[0] \"p\".ttl");
    expect_error(HEAD "    target: 127.0.0.1\n    ip_protocol: ip5\n", "icmp.yml:5:18");
    expect_error(HEAD "    target: 'a b'\n",
                 "icmp.yml:4:13: checks[0] \"p\".target: \"a b\": the host "
                 "is neither an IP address nor a host name");
    expect_error(
        HEAD "    target: http://x\n",
        "icmp.yml:4:13: checks[0] \"p\".target: \"http://x\": must be a host alone: no port, no "
        "brackets");
    expect_error(HEAD "    target: 127.0.0.1\n    pakets: 3\n", "did you mean \"packets\"");
    /* 10 packets 500ms apart need 4.5s: the last could not be answered
     * within a 4s timeout. */
    expect_error(HEAD "    target: 127.0.0.1\n    timeout: 4s\n    packets: 10\n"
                      "    packet_interval: 500ms\n",
                 "icmp.yml:2:5: checks[0] \"p\": 10 packets every 500ms take longer than timeout");
}

/* ---- packets ---- */

static const uint8_t cookie[ICMP_COOKIE_BYTES] = {1, 2, 3, 4, 5, 6, 7, 8};

static void test_checksum(void **state)
{
    (void)state;
    /* RFC 1071's worked example: 00 01 f2 03 f4 f5 f6 f7 sums to 0xddf2,
     * whose complement is 0x220d. */
    const uint8_t ex[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    assert_int_equal(ntohs(icmp_checksum(ex, sizeof(ex))), 0x220d);
    /* An odd length pads with a zero byte. */
    const uint8_t odd[] = {0x12, 0x34, 0x56};
    assert_int_equal(ntohs(icmp_checksum(odd, sizeof(odd))), (uint16_t) ~(0x1234 + 0x5600));
    /* A built request sums to zero with its checksum in place. */
    uint8_t pkt[ICMP_HEADER_BYTES + 57];
    icmp_build_echo(pkt, 57, AF_INET, 0xbeef, 7, cookie, true);
    assert_int_equal(pkt[0], 8);
    assert_int_equal(pkt[1], 0);
    assert_int_equal(pkt[4] << 8 | pkt[5], 0xbeef);
    assert_int_equal(pkt[6] << 8 | pkt[7], 7);
    assert_int_equal(icmp_checksum(pkt, sizeof(pkt)), 0);
    /* ICMPv6: type 128, checksum left to the kernel. */
    icmp_build_echo(pkt, 57, AF_INET6, 1, 2, cookie, false);
    assert_int_equal(pkt[0], 128);
    assert_int_equal(pkt[2] | pkt[3], 0);
}

/* A reply as the peer would send it: the request with type and checksum
 * changed, behind an IPv4 header when ip is set. */
static size_t make_reply(uint8_t *out, int family, bool ip, uint16_t id, uint16_t seq,
                         size_t payload, uint8_t ttl)
{
    size_t off = 0;
    if (ip) {
        memset(out, 0, 20);
        out[0] = 0x45;
        out[8] = ttl;
        out[9] = IPPROTO_ICMP;
        off = 20;
    }
    icmp_build_echo(out + off, payload, family, id, seq, cookie, false);
    out[off] = family == AF_INET6 ? 129 : 0;
    return off + ICMP_HEADER_BYTES + payload;
}

static void test_parse_reply(void **state)
{
    (void)state;
    uint8_t b[256];
    struct icmp_parsed p;
    size_t n = make_reply(b, AF_INET, true, 0x1234, 2, 56, 61);
    icmp_parse(b, n, AF_INET, true, 0x1234, cookie, 56, &p);
    assert_int_equal(p.kind, ICMP_REPLY);
    assert_int_equal(p.seq, 2);
    assert_int_equal(p.ttl, 61);
    /* Datagram sockets and ICMPv6: no IP header, no TTL from it. */
    n = make_reply(b, AF_INET6, false, 9, 65535, 0, 0);
    icmp_parse(b, n, AF_INET6, false, 9, cookie, 0, &p);
    assert_int_equal(p.kind, ICMP_REPLY);
    assert_int_equal(p.seq, 65535);
    assert_int_equal(p.ttl, -1);
}

static void test_parse_foreign(void **state)
{
    (void)state;
    uint8_t b[256];
    struct icmp_parsed p;
    /* Another process' id. */
    size_t n = make_reply(b, AF_INET, true, 0x1234, 0, 56, 64);
    icmp_parse(b, n, AF_INET, true, 0x1235, cookie, 56, &p);
    assert_int_equal(p.kind, ICMP_FOREIGN);
    /* Our id, another payload (cookie byte changed, or another length). */
    n = make_reply(b, AF_INET, true, 0x1234, 0, 56, 64);
    b[20 + ICMP_HEADER_BYTES + 3] ^= 1;
    icmp_parse(b, n, AF_INET, true, 0x1234, cookie, 56, &p);
    assert_int_equal(p.kind, ICMP_FOREIGN);
    n = make_reply(b, AF_INET, true, 0x1234, 0, 56, 64);
    icmp_parse(b, n, AF_INET, true, 0x1234, cookie, 55, &p);
    assert_int_equal(p.kind, ICMP_FOREIGN);
    /* Our own request looped back (a raw socket sees it) is no reply. */
    n = make_reply(b, AF_INET, true, 0x1234, 0, 56, 64);
    b[20] = 8;
    icmp_parse(b, n, AF_INET, true, 0x1234, cookie, 56, &p);
    assert_int_equal(p.kind, ICMP_FOREIGN);
    /* An IPv4 echo reply type read as ICMPv6. */
    n = make_reply(b, AF_INET, false, 5, 0, 8, 0);
    icmp_parse(b, n, AF_INET6, false, 5, cookie, 8, &p);
    assert_int_equal(p.kind, ICMP_FOREIGN);
    /* Truncated: every prefix of a reply is foreign, never read beyond. */
    n = make_reply(b, AF_INET, true, 0x1234, 0, 16, 64);
    for (size_t len = 0; len < n; len++) {
        uint8_t *cut = malloc(len ? len : 1);
        memcpy(cut, b, len);
        icmp_parse(cut, len, AF_INET, true, 0x1234, cookie, 16, &p);
        assert_int_equal(p.kind, ICMP_FOREIGN);
        free(cut);
    }
    /* Not IPv4 at all, or a header length below 20. */
    n = make_reply(b, AF_INET, true, 0x1234, 0, 16, 64);
    b[0] = 0x44;
    icmp_parse(b, n, AF_INET, true, 0x1234, cookie, 16, &p);
    assert_int_equal(p.kind, ICMP_FOREIGN);
    b[0] = 0x65;
    icmp_parse(b, n, AF_INET, true, 0x1234, cookie, 16, &p);
    assert_int_equal(p.kind, ICMP_FOREIGN);
}

static void test_parse_error(void **state)
{
    (void)state;
    uint8_t b[256] = {0};
    struct icmp_parsed p;
    /* Host unreachable: outer IPv4, ICMP 3/1, quoted IPv4 header and the
     * first 8 bytes of our request. */
    b[0] = 0x45;
    b[9] = IPPROTO_ICMP;
    b[20] = 3;
    b[21] = 1;
    uint8_t *q = b + 28;
    q[0] = 0x45;
    q[9] = IPPROTO_ICMP;
    icmp_build_echo(q + 20, 0, AF_INET, 0x4242, 1, cookie, true);
    icmp_parse(b, 28 + 28, AF_INET, true, 0x4242, cookie, 56, &p);
    assert_int_equal(p.kind, ICMP_ERROR);
    assert_int_equal(p.seq, 1);
    assert_int_equal(p.type, 3);
    assert_int_equal(p.code, 1);
    assert_string_equal(icmp_error_text(AF_INET, p.type, p.code), "host unreachable");
    /* Quoting someone else's request, or a UDP datagram, or cut short. */
    icmp_parse(b, 56, AF_INET, true, 0x4243, cookie, 56, &p);
    assert_int_equal(p.kind, ICMP_FOREIGN);
    icmp_parse(b, 55, AF_INET, true, 0x4242, cookie, 56, &p);
    assert_int_equal(p.kind, ICMP_FOREIGN);
    q[9] = IPPROTO_UDP;
    icmp_parse(b, 56, AF_INET, true, 0x4242, cookie, 56, &p);
    assert_int_equal(p.kind, ICMP_FOREIGN);
    /* ICMPv6 address unreachable (1/3) quoting our echo request. */
    memset(b, 0, sizeof(b));
    b[0] = 1;
    b[1] = 3;
    q = b + 8;
    q[0] = 0x60;
    q[6] = IPPROTO_ICMPV6;
    icmp_build_echo(q + 40, 0, AF_INET6, 7, 4, cookie, false);
    icmp_parse(b, 8 + 40 + 8, AF_INET6, false, 7, cookie, 56, &p);
    assert_int_equal(p.kind, ICMP_ERROR);
    assert_int_equal(p.seq, 4);
    assert_string_equal(icmp_error_text(AF_INET6, p.type, p.code), "address unreachable");
    /* Other ICMPv6 messages (a neighbour solicitation) are foreign. */
    b[0] = 135;
    icmp_parse(b, 8 + 40 + 8, AF_INET6, false, 7, cookie, 56, &p);
    assert_int_equal(p.kind, ICMP_FOREIGN);
}

/* ---- statistics and verdict ---- */

static void test_stats(void **state)
{
    (void)state;
    struct icmp_stats st;
    icmp_rtt_stats(NULL, 0, &st);
    assert_true(isnan(st.min) && isnan(st.avg) && isnan(st.max) && isnan(st.stddev));
    const double one[] = {0.25};
    icmp_rtt_stats(one, 1, &st);
    assert_true(st.min == 0.25 && st.avg == 0.25 && st.max == 0.25 && st.stddev == 0);
    /* 1, 2, 3, 4 (x 1/8, exact in binary): mean 2.5/8, population
     * variance 1.25/64, so stddev sqrt(1.25)/8. */
    const double four[] = {0.375, 0.125, 0.5, 0.25};
    icmp_rtt_stats(four, 4, &st);
    assert_true(st.min == 0.125);
    assert_true(st.max == 0.5);
    assert_true(st.avg == 0.3125);
    assert_true(st.stddev == sqrt(1.25) / 8);
    /* Close values: no cancellation (mean of squares minus square of mean
     * would give a wrong or negative variance here). */
    const double close[] = {1e8 + 1, 1e8 + 3};
    icmp_rtt_stats(close, 2, &st);
    assert_true(st.stddev == 1);
}

static void test_loss(void **state)
{
    (void)state;
    /* Unset: only when every packet is lost. */
    assert_false(icmp_loss_fails(3, 3, ICMP_LOSS_ALL));
    assert_false(icmp_loss_fails(3, 1, ICMP_LOSS_ALL));
    assert_true(icmp_loss_fails(3, 0, ICMP_LOSS_ALL));
    assert_true(icmp_loss_fails(1, 0, ICMP_LOSS_ALL));
    /* A ratio: fails when the lost share is greater than it. */
    assert_false(icmp_loss_fails(10, 9, 0.1)); /* exactly 0.1 lost */
    assert_true(icmp_loss_fails(10, 8, 0.1));
    assert_false(icmp_loss_fails(4, 3, 0.25));
    assert_true(icmp_loss_fails(4, 2, 0.25));
    assert_true(icmp_loss_fails(5, 4, 0)); /* 0: any loss fails */
    assert_false(icmp_loss_fails(5, 5, 0));
    assert_false(icmp_loss_fails(5, 0, 1)); /* 1: loss never fails */
    assert_false(icmp_loss_fails(100, 0, 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),    cmocka_unit_test(test_settings),
        cmocka_unit_test(test_errors),      cmocka_unit_test(test_checksum),
        cmocka_unit_test(test_parse_reply), cmocka_unit_test(test_parse_foreign),
        cmocka_unit_test(test_parse_error), cmocka_unit_test(test_stats),
        cmocka_unit_test(test_loss),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
