/*
 * test_dns_check.c - unit tests of the dns check type's pure parts: its
 * configuration (settings and file:line:col errors), the text of records
 * (miekg's RR.String() form) written from hand-made replies, malformed
 * replies, and the judgement of a reply against expectations.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "buf.h"
#include "config.h"
#include "dns_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- loading ---- */

static struct cfg *load(const char *yaml)
{
    struct buf err;
    buf_init(&err, 1u << 16);
    struct cfg *c = NULL;
    if (cfg_load_string(yaml, strlen(yaml), "dns.yml", &c, &err) != OP_OK)
        fail_msg("config: %s", buf_str(&err));
    buf_free(&err);
    return c;
}

static char *errors_of(const char *yaml)
{
    struct buf err;
    buf_init(&err, 1u << 16);
    struct cfg *c = NULL;
    assert_int_equal(cfg_load_string(yaml, strlen(yaml), "dns.yml", &c, &err), OP_ERR_INVALID);
    assert_null(c);
    return buf_take(&err);
}

#define HEAD "checks:\n  - name: d\n    type: dns\n"

static void test_settings(void **state)
{
    (void)state;
    static const struct {
        const char *target;
        const char *server;
        unsigned port;
    } targets[] = {
        {"127.0.0.1", "127.0.0.1", 53},       {"127.0.0.1:5353", "127.0.0.1", 5353},
        {"[::1]:5353", "::1", 5353},          {"[::1]", "::1", 53},
        {"2001:db8::53", "2001:db8::53", 53}, {"192.0.2.1:65535", "192.0.2.1", 65535},
        {"dns.example", "dns.example", 53},   {"ns_1.example:5353", "ns_1.example", 5353},
    };
    for (size_t i = 0; i < ARRAY_SIZE(targets); i++) {
        char y[512];
        snprintf(y, sizeof(y), HEAD "    target: '%s'\n    query: {name: example.com}\n",
                 targets[i].target);
        struct cfg *c = load(y);
        const struct check_spec *cs = cfg_check(c, 0);
        const struct dns_spec *s = dns_spec_of(cs);
        assert_string_equal(cs->target, targets[i].target);
        assert_string_equal(s->server, targets[i].server);
        assert_int_equal(s->port, targets[i].port);
        cfg_free(c);
    }
    /* Defaults. */
    struct cfg *c = load(HEAD "    target: 127.0.0.1\n    query: {name: example.com}\n");
    const struct dns_spec *s = dns_spec_of(cfg_check(c, 0));
    assert_int_equal(dns_type_number(s->query_type), 1);
    assert_int_equal(dns_class_number(s->query_class), 1);
    assert_int_equal(s->transport, DNS_UDP);
    assert_true(s->recursion_desired);
    assert_int_equal(s->ip_protocol, IP_PROTO_AUTO);
    assert_true(s->ip_protocol_fallback);
    assert_int_equal(s->expect.rcodes, 1);
    assert_int_equal(s->expect.min_answers, 0);
    /* The query c-ares sends: RD set, one question, A IN. */
    assert_int_equal(s->query_len, 12 + 13 + 4);
    assert_int_equal(s->query[2] & 0x01, 1);
    assert_memory_equal(s->query + 12,
                        "\x07"
                        "example\x03"
                        "com\x00\x00\x01\x00\x01",
                        17);
    cfg_free(c);
    /* Everything set. */
    c = load(HEAD
             "    target: '[::1]:5353'\n    ip_protocol: ip6\n    ip_protocol_fallback: false\n"
             "    query: {name: version.bind, type: TXT, class: CH, transport: tcp,\n"
             "            recursion_desired: false}\n"
             "    expect:\n      rcode: [NOERROR, NXDOMAIN]\n      min_answers: 2\n"
             "      answers_match: 'a'\n      additional_not_all_match: ['b', 'c']\n");
    s = dns_spec_of(cfg_check(c, 0));
    assert_int_equal(dns_type_number(s->query_type), 16);
    assert_int_equal(dns_class_number(s->query_class), 3);
    assert_int_equal(s->transport, DNS_TCP);
    assert_false(s->recursion_desired);
    assert_int_equal(s->query[2] & 0x01, 0);
    assert_int_equal(s->ip_protocol, IP_PROTO_6);
    assert_false(s->ip_protocol_fallback);
    assert_int_equal(s->expect.rcodes, (1 << 0) | (1 << 3));
    assert_int_equal(s->expect.min_answers, 2);
    assert_int_equal(s->expect.pat[DNS_SEC_ANSWER][DNS_MATCH].n, 1);
    assert_int_equal(s->expect.pat[DNS_SEC_ADDITIONAL][DNS_NOT_ALL_MATCH].n, 2);
    assert_string_equal(s->expect.pat[DNS_SEC_ADDITIONAL][DNS_NOT_ALL_MATCH].re[1].pattern, "c");
    cfg_free(c);
}

static void test_config_errors(void **state)
{
    (void)state;
    static const struct {
        const char *yaml;
        const char *want;
    } cases[] = {
        {HEAD "    query: {name: a.test}\n",
         "dns.yml:2:5: checks[0] \"d\": missing key \"target\"\n"},
        {HEAD "    target: 127.0.0.1\n", "dns.yml:2:5: checks[0] \"d\": missing key \"query\"\n"},
        {HEAD "    target: 127.0.0.1\n    query: {type: MX}\n",
         "dns.yml:5:12: checks[0] \"d\".query: missing key \"name\"\n"},
        {HEAD "    target: 'a b'\n    query: {name: a.test}\n",
         "dns.yml:4:13: checks[0] \"d\".target: \"a b\": the host is neither an IP address nor a "
         "host "
         "name\n"},
        {HEAD "    target: '[::1'\n    query: {name: a.test}\n",
         "dns.yml:4:13: checks[0] \"d\".target: \"[::1\": has \"[\" without \"]\"\n"},
        {HEAD "    target: '[127.0.0.1]:53'\n    query: {name: a.test}\n",
         "dns.yml:4:13: checks[0] \"d\".target: \"[127.0.0.1]:53\": brackets hold an IPv6 "
         "address\n"},
        {HEAD "    target: '127.0.0.1:0'\n    query: {name: a.test}\n",
         "dns.yml:4:13: checks[0] \"d\".target: \"127.0.0.1:0\": port must be a number from 1 to "
         "65535\n"},
        {HEAD "    target: '127.0.0.1:x'\n    query: {name: a.test}\n",
         "dns.yml:4:13: checks[0] \"d\".target: \"127.0.0.1:x\": port must be a number from 1 to "
         "65535\n"},
        {HEAD "    target: ':53'\n    query: {name: a.test}\n",
         "dns.yml:4:13: checks[0] \"d\".target: \":53\": has no host\n"},
        {HEAD "    target: 127.0.0.1\n    query: {name: a.test, type: BOGUS}\n",
         "dns.yml:5:33: checks[0] \"d\".query.type: \"BOGUS\" is not one of A, AAAA, CNAME, MX, "
         "NS, "
         "TXT, SRV, SOA, PTR, ANY\n"},
        {HEAD "    target: 127.0.0.1\n    query: {name: a.test, transport: quic}\n",
         "dns.yml:5:38: checks[0] \"d\".query.transport: \"quic\" is not one of udp, tcp\n"},
        {HEAD "    target: 127.0.0.1\n    query: {name: "
              "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.test}\n",
         "dns.yml:5:12: checks[0] \"d\".query.name: "
         "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\" is not a domain "
         "name c-ares can query\n"},
        {HEAD "    target: 127.0.0.1\n    query: {name: a.test}\n    expect: {rcode: [NOERR]}\n",
         "dns.yml:6:22: checks[0] \"d\".expect.rcode[0]: \"NOERR\" is not an rcode (NOERROR, "
         "FORMERR, "
         "SERVFAIL, NXDOMAIN, NOTIMP, REFUSED, YXDOMAIN, YXRRSET, NXRRSET, NOTAUTH, NOTZONE)\n"},
        {HEAD "    target: 127.0.0.1\n    query: {name: a.test}\n    expect: {rcode: []}\n",
         "dns.yml:6:21: checks[0] \"d\".expect.rcode: needs at least one rcode\n"},
        {HEAD "    target: 127.0.0.1\n    query: {name: a.test}\n"
              "    expect: {answers_match: ['(']}\n",
         "dns.yml:6:30: checks[0] \"d\".expect.answers_match[0]: bad regular expression at offset "
         "1: "
         "missing closing parenthesis\n"},
        {HEAD "    target: 127.0.0.1\n    query: {name: a.test}\n"
              "    expect: {answer_match: ['a']}\n",
         "dns.yml:6:14: checks[0] \"d\".expect: unknown key \"answer_match\" (did you mean "
         "\"answers_match\"?)\n"},
        {HEAD "    target: 127.0.0.1\n    query: {name: a.test}\n    expect: {min_answers: -1}\n",
         "dns.yml:6:27: checks[0] \"d\".expect.min_answers: \"-1\" is not a whole number from 0 "
         "to 65535\n"},
    };
    int bad = 0;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char *got = errors_of(cases[i].yaml);
        if (strcmp(got, cases[i].want) != 0) {
            print_error("case %zu:\n got: %s\nwant: %s", i, got, cases[i].want);
            bad++;
        }
        free(got);
    }
    assert_int_equal(bad, 0);
}

/* ---- hand-made replies ---- */

struct msg {
    unsigned char b[70000];
    size_t n;
};

static void put(struct msg *m, const void *p, size_t n)
{
    assert_true(m->n + n <= sizeof(m->b));
    memcpy(m->b + m->n, p, n);
    m->n += n;
}

static void put16(struct msg *m, unsigned v)
{
    unsigned char b[2] = {(unsigned char)(v >> 8), (unsigned char)v};
    put(m, b, 2);
}

static void put32(struct msg *m, uint32_t v)
{
    put16(m, v >> 16);
    put16(m, v & 0xffff);
}

/* Header and the question example.com. A IN (its name at offset 12, for
 * compression pointers 0xc00c). */
static void begin(struct msg *m, int rcode, unsigned an, unsigned ns, unsigned ar)
{
    m->n = 0;
    put16(m, 0x1234);
    put16(m, 0x8180 | (unsigned)rcode);
    put16(m, 1);
    put16(m, an);
    put16(m, ns);
    put16(m, ar);
    put(m,
        "\x07"
        "example\x03"
        "com",
        13);
    put16(m, 1);
    put16(m, 1);
}

static void rr(struct msg *m, const char *owner, size_t olen, unsigned type, unsigned cls,
               uint32_t ttl, const char *rd, size_t rdlen)
{
    put(m, owner, olen);
    put16(m, type);
    put16(m, cls);
    put32(m, ttl);
    put16(m, (unsigned)rdlen);
    put(m, rd, rdlen);
}

#define W(s) s, sizeof(s) - 1
#define OWNER W("\xc0\x0c") /* example.com. */

struct texts {
    char got[8][512];
    enum dns_section sec[8];
    size_t n;
};

static bool collect(const struct dns_rr *r, void *arg)
{
    struct texts *t = arg;
    assert_true(t->n < 8);
    assert_int_equal(strlen(r->text), r->len);
    snprintf(t->got[t->n], sizeof(t->got[0]), "%s", r->text);
    t->sec[t->n++] = r->section;
    return true;
}

static void test_rr_text(void **state)
{
    (void)state;
    static const struct {
        const char *owner;
        size_t olen;
        unsigned type, cls;
        uint32_t ttl;
        const char *rd;
        size_t rdlen;
        const char *want;
    } cases[] = {
        {OWNER, 1, 1, 300, W("\xc0\x00\x02\x01"), "example.com.\t300\tIN\tA\t192.0.2.1"},
        {OWNER, 28, 1, 60, W("\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01"),
         "example.com.\t60\tIN\tAAAA\t2001:db8::1"},
        /* One zero group stays; the longest run wins, the first of equals. */
        {OWNER, 28, 1, 60, W("\x20\x01\x0d\xb8\0\0\0\x01\0\x01\0\x01\0\x01\0\x01"),
         "example.com.\t60\tIN\tAAAA\t2001:db8:0:1:1:1:1:1"},
        {OWNER, 28, 1, 60, W("\0\x01\0\0\0\0\0\x02\0\0\0\0\0\0\0\x03"),
         "example.com.\t60\tIN\tAAAA\t1:0:0:2::3"},
        {OWNER, 28, 1, 60, W("\0\x01\0\0\0\0\0\x02\0\0\0\0\0\x03\0\x04"),
         "example.com.\t60\tIN\tAAAA\t1::2:0:0:3:4"},
        {OWNER, 28, 1, 60, W("\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"), "example.com.\t60\tIN\tAAAA\t::"},
        {OWNER, 28, 1, 60, W("\0\0\0\0\0\0\0\0\0\0\xff\xff\xc0\0\x02\x01"),
         "example.com.\t60\tIN\tAAAA\t::ffff:192.0.2.1"},
        {OWNER, 28, 1, 60, W("\0\0\0\0\0\0\0\0\0\0\0\0\xc0\0\x02\x01"),
         "example.com.\t60\tIN\tAAAA\t::c000:201"},
        {OWNER, 15, 1, 300, W("\x00\x0a\x04mail\xc0\x0c"),
         "example.com.\t300\tIN\tMX\t10 mail.example.com."},
        {OWNER, 2, 1, 300, W("\x03ns1\xc0\x0c"), "example.com.\t300\tIN\tNS\tns1.example.com."},
        {OWNER, 5, 1, 300, W("\x03www\x03org\x00"), "example.com.\t300\tIN\tCNAME\twww.org."},
        {W("\x01"
           "1\x01"
           "2\x00"),
         12, 1, 300, W("\xc0\x0c"), "1.2.\t300\tIN\tPTR\texample.com."},
        {OWNER, 33, 1, 30, W("\x00\x01\x00\x02\x13\xc4\x03srv\xc0\x0c"),
         "example.com.\t30\tIN\tSRV\t1 2 5060 srv.example.com."},
        {OWNER, 6, 1, 3600,
         W("\x03ns1\xc0\x0c\x0ahostmaster\xc0\x0c\x78\x9e\xa5\x15\x00\x00\x1c\x20\x00\x00\x0e"
           "\x10\x00\x12\x75\x00\x00\x00\x01\x2c"),
         "example.com.\t3600\tIN\tSOA\tns1.example.com. hostmaster.example.com. 2023662869 7200 "
         "3600 1209600 300"},
        /* TXT: each string quoted; '"' and '\' escaped, others as \DDD. */
        {OWNER, 16, 1, 300,
         W("\x0bv=spf1 -all\x06"
           "a\"b\\\t\xff"),
         "example.com.\t300\tIN\tTXT\t\"v=spf1 -all\" \"a\\\"b\\\\\\009\\255\""},
        {OWNER, 16, 1, 300, W("\x00"), "example.com.\t300\tIN\tTXT\t\"\""},
        {W("\x07version\x04"
           "bind\x00"),
         16, 3, 0,
         W("\x0c"
           "dnsmasq-2.90"),
         "version.bind.\t0\tCH\tTXT\t\"dnsmasq-2.90\""},
        /* Owner names: zone-file specials escaped, the root is ".". */
        {W("\x07"
           "a b.c\x01@\x00"),
         1, 1, 1, W("\x01\x02\x03\x04"), "a\\ b\\.c\\001\\@.\t1\tIN\tA\t1.2.3.4"},
        {W("\x04"
           "(;)\"\x01'\x00"),
         1, 1, 1, W("\x01\x02\x03\x04"), "\\(\\;\\)\\\".\\'.\t1\tIN\tA\t1.2.3.4"},
        {W("\x00"), 2, 1, 86400,
         W("\x01"
           "a\x0croot-servers\x03net\x00"),
         ".\t86400\tIN\tNS\ta.root-servers.net."},
        /* Types and classes not decoded: RFC 3597's generic form. */
        {OWNER, 65280, 1, 300, W("\xab\xcd\xef"),
         "example.com.\t300\tCLASS1\tTYPE65280\t\\# 3 abcdef"},
        {OWNER, 257, 1, 300, W("\x00\x05issue"),
         "example.com.\t300\tCLASS1\tTYPE257\t\\# 7 "
         "00056973737565"},
        {OWNER, 1, 42, 300, W("\x01\x02\x03\x04"),
         "example.com.\t300\tCLASS42\tTYPE1\t\\# 4 "
         "01020304"},
        {OWNER, 10, 1, 300, "", 0, "example.com.\t300\tCLASS1\tTYPE10\t\\# 0"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        static struct msg m;
        begin(&m, 0, 1, 0, 0);
        rr(&m, cases[i].owner, cases[i].olen, cases[i].type, cases[i].cls, cases[i].ttl,
           cases[i].rd, cases[i].rdlen);
        struct texts t = {0};
        struct dns_reply_info info;
        char dbuf[CHECK_DETAIL_MAX];
        struct detail d;
        detail_init(&d, dbuf, sizeof(dbuf));
        enum op_rc rc = dns_reply_walk(m.b, m.n, &info, collect, &t, &d);
        if (rc != OP_OK)
            fail_msg("case %zu: %s", i, dbuf);
        assert_int_equal(t.n, 1);
        if (strcmp(t.got[0], cases[i].want) != 0)
            fail_msg("case %zu:\n got: %s\nwant: %s", i, t.got[0], cases[i].want);
    }
}

static void test_reply_sections(void **state)
{
    (void)state;
    static struct msg m;
    begin(&m, 3, 1, 1, 1);
    rr(&m, OWNER, 1, 1, 5, W("\x01\x02\x03\x04"));
    rr(&m, OWNER, 6, 1, 7,
       W("\x00\x00\x00\x00\x00\x07\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00\x01"
         "\x00\x00\x00\x01"));
    rr(&m, W("\x03ns1\xc0\x0c"), 28, 1, 9, W("\xfe\x80\0\0\0\0\0\0\0\0\0\0\0\0\0\x01"));
    struct texts t = {0};
    struct dns_reply_info info;
    assert_int_equal(dns_reply_walk(m.b, m.n, &info, collect, &t, NULL), OP_OK);
    assert_int_equal(info.rcode, 3);
    assert_false(info.truncated);
    assert_int_equal(info.count[DNS_SEC_ANSWER], 1);
    assert_int_equal(info.count[DNS_SEC_AUTHORITY], 1);
    assert_int_equal(info.count[DNS_SEC_ADDITIONAL], 1);
    assert_false(info.has_soa); /* the SOA is in the authority section */
    assert_int_equal(t.n, 3);
    assert_string_equal(t.got[1], "example.com.\t7\tIN\tSOA\t. . 7 1 1 1 1");
    assert_int_equal(t.sec[1], DNS_SEC_AUTHORITY);
    assert_string_equal(t.got[2], "ns1.example.com.\t9\tIN\tAAAA\tfe80::1");
    assert_int_equal(t.sec[2], DNS_SEC_ADDITIONAL);
    /* An SOA answer gives the serial. */
    begin(&m, 0, 1, 0, 0);
    rr(&m, OWNER, 6, 1, 7,
       W("\x00\x00\xff\xff\xff\xfe\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00"
         "\x01"));
    assert_int_equal(dns_reply_walk(m.b, m.n, &info, NULL, NULL, NULL), OP_OK);
    assert_true(info.has_soa);
    assert_int_equal(info.serial, 0xfffffffeu);
}

static void test_malformed(void **state)
{
    (void)state;
    static const struct {
        unsigned an; /* answer count in the header */
        const char *tail;
        size_t tlen; /* bytes after the question */
        enum op_rc want;
        const char *detail;
    } cases[] = {
        {1, W("\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x01\x00\x05\x01\x02\x03\x04\x05"),
         OP_ERR_INVALID,
         "malformed reply: record data of the wrong length for its type (answer record 1)"},
        {2, W("\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x01\x00\x04\x01\x02\x03\x04"), OP_ERR_INVALID,
         "malformed reply: bad owner name (answer record 2)"},
        {1, W("\xc0\x0c\x00\x01\x00\x01\x00\x00"), OP_ERR_INVALID,
         "malformed reply: record header cut short (answer record 1)"},
        {1, W("\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x01\x00\x09\x01\x02"), OP_ERR_INVALID,
         "malformed reply: record data cut short (answer record 1)"},
        /* A compression pointer to itself. */
        {1, W("\xc0\x1d\x00\x01\x00\x01\x00\x00\x00\x01\x00\x04\x01\x02\x03\x04"), OP_ERR_INVALID,
         "malformed reply: bad owner name (answer record 1)"},
        /* MX whose name runs past its data; TXT string past its data. */
        {1, W("\xc0\x0c\x00\x0f\x00\x01\x00\x00\x00\x01\x00\x03\x00\x01\xc0\x0c"), OP_ERR_INVALID,
         "malformed reply: record data longer or shorter than its fields (answer record 1)"},
        {1,
         W("\xc0\x0c\x00\x10\x00\x01\x00\x00\x00\x01\x00\x02\x05"
           "abcde"),
         OP_ERR_INVALID, "malformed reply: bad character-string in record data (answer record 1)"},
        {1, W("\xc0\x0c\x00\x06\x00\x01\x00\x00\x00\x01\x00\x04\x00\x00\x00\x00"), OP_ERR_INVALID,
         "malformed reply: record data of the wrong length for its type (answer record 1)"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        static struct msg m;
        begin(&m, 0, cases[i].an, 0, 0);
        put(&m, cases[i].tail, cases[i].tlen);
        struct dns_reply_info info;
        char dbuf[CHECK_DETAIL_MAX];
        struct detail d;
        detail_init(&d, dbuf, sizeof(dbuf));
        enum op_rc rc = dns_reply_walk(m.b, m.n, &info, NULL, NULL, &d);
        if (rc != cases[i].want || strcmp(dbuf, cases[i].detail) != 0)
            fail_msg("case %zu:\n got: %s\nwant: %s", i, dbuf, cases[i].detail);
    }
    /* Too short for a header. */
    struct dns_reply_info info;
    char dbuf[CHECK_DETAIL_MAX];
    struct detail d;
    detail_init(&d, dbuf, sizeof(dbuf));
    assert_int_equal(
        dns_reply_walk((const unsigned char *)"\x12\x34\x81", 3, &info, NULL, NULL, &d),
        OP_ERR_INVALID);
    assert_string_equal(dbuf, "malformed reply: 3 bytes");
    assert_int_equal(info.rcode, -1);
    /* A record whose text is over the cap: a TXT of unprintable bytes. */
    static struct msg m;
    begin(&m, 0, 1, 0, 0);
    char big[255 * 20];
    size_t n = 0;
    for (int s = 0; s < 20; s++) {
        big[n++] = (char)254;
        memset(big + n, 1, 254);
        n += 254;
    }
    rr(&m, OWNER, 16, 1, 1, big, n);
    detail_init(&d, dbuf, sizeof(dbuf));
    assert_int_equal(dns_reply_walk(m.b, m.n, &info, NULL, NULL, &d), OP_ERR_LIMIT);
    assert_string_equal(dbuf, "answer record 1: text longer than 16384 bytes");
}

/* ---- judging ---- */

static void test_judge(void **state)
{
    (void)state;
    static struct msg m;
    begin(&m, 0, 2, 0, 1);
    rr(&m, OWNER, 1, 1, 300, W("\xc0\x00\x02\x01"));
    rr(&m, OWNER, 1, 1, 300, W("\xc0\x00\x02\x02"));
    rr(&m, W("\x03ns1\xc0\x0c"), 1, 1, 60, W("\xc0\x00\x02\x35"));
    static const struct {
        const char *expect; /* the check's expect mapping, flow style */
        int rcode;          /* of the reply */
        enum check_reason want;
        const char *detail;
    } cases[] = {
        {"{}", 0, CHECK_REASON_NONE, ""},
        {"{}", 3, CHECK_REASON_DNS_RCODE, "rcode NXDOMAIN, expected NOERROR"},
        {"{rcode: [NXDOMAIN, SERVFAIL]}", 0, CHECK_REASON_DNS_RCODE,
         "rcode NOERROR, expected SERVFAIL, NXDOMAIN"},
        {"{rcode: NXDOMAIN}", 3, CHECK_REASON_NONE, ""},
        {"{}", 12, CHECK_REASON_DNS_RCODE, "rcode 12, expected NOERROR"},
        {"{min_answers: 2}", 0, CHECK_REASON_NONE, ""},
        {"{min_answers: 3}", 0, CHECK_REASON_DNS_ANSWER, "2 answer records, expected at least 3"},
        /* _match: some record matches some pattern. */
        {"{answers_match: ['192\\.0\\.2\\.9$', '2\\.2$']}", 0, CHECK_REASON_NONE, ""},
        {"{answers_match: ['192\\.0\\.2\\.9$']}", 0, CHECK_REASON_DNS_ANSWER,
         "no answer record matches any answers_match pattern"},
        {"{answers_match: ['^example\\.com\\.\\t300\\tIN\\tA\\t192\\.0\\.2\\.1$']}", 0,
         CHECK_REASON_NONE, ""},
        /* _not_match: no record matches any pattern. */
        {"{answers_not_match: ['zzz', '2\\.2$']}", 0, CHECK_REASON_DNS_ANSWER,
         "answer record \"example.com. 300 IN A 192.0.2.2\" matches answers_not_match "
         "\"2\\.2$\""},
        {"{answers_not_match: ['2\\.3$']}", 0, CHECK_REASON_NONE, ""},
        /* _all_match: every record matches every pattern. */
        {"{answers_all_match: ['^example', 'IN\\tA']}", 0, CHECK_REASON_NONE, ""},
        {"{answers_all_match: ['^example', '\\.1$']}", 0, CHECK_REASON_DNS_ANSWER,
         "answer record \"example.com. 300 IN A 192.0.2.2\" does not match answers_all_match "
         "\"\\.1$\""},
        /* _not_all_match: blackbox_exporter's fail_if_all_match_regexp as it
         * is coded: fails when some record misses some pattern. */
        {"{answers_not_all_match: ['\\.1$']}", 0, CHECK_REASON_DNS_ANSWER,
         "not every answer record matches every answers_not_all_match pattern"},
        {"{answers_not_all_match: ['^example']}", 0, CHECK_REASON_NONE, ""},
        /* An empty section: _match and _all_match fail, the others pass. */
        {"{authority_match: ['x']}", 0, CHECK_REASON_DNS_ANSWER,
         "no authority records, but authority_match is set"},
        {"{authority_all_match: ['x']}", 0, CHECK_REASON_DNS_ANSWER,
         "no authority records, but authority_all_match is set"},
        {"{authority_not_all_match: ['x'], authority_not_match: ['.']}", 0, CHECK_REASON_NONE, ""},
        {"{additional_match: ['^ns1\\.example\\.com\\.\\t60\\tIN\\tA\\t192\\.0\\.2\\.53$']}", 0,
         CHECK_REASON_NONE, ""},
        {"{additional_not_match: ['ns1']}", 0, CHECK_REASON_DNS_ANSWER,
         "additional record \"ns1.example.com. 60 IN A 192.0.2.53\" matches additional_not_match "
         "\"ns1\""},
        /* Sections in order: the answer's end rule before the additional's. */
        {"{answers_match: ['nope'], additional_not_match: ['ns1']}", 0, CHECK_REASON_DNS_ANSWER,
         "no answer record matches any answers_match pattern"},
        /* The rcode comes first. */
        {"{answers_match: ['nope']}", 2, CHECK_REASON_DNS_RCODE,
         "rcode SERVFAIL, expected NOERROR"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char y[1024];
        snprintf(y, sizeof(y),
                 HEAD "    target: 127.0.0.1\n    query: {name: example.com}\n    expect: %s\n",
                 cases[i].expect);
        struct cfg *c = load(y);
        const struct dns_spec *s = dns_spec_of(cfg_check(c, 0));
        m.b[3] = (unsigned char)((m.b[3] & 0xf0) | cases[i].rcode);
        struct dns_reply_info info;
        char dbuf[CHECK_DETAIL_MAX];
        struct detail d;
        detail_init(&d, dbuf, sizeof(dbuf));
        enum check_reason got = dns_judge(&s->expect, m.b, m.n, &info, &d);
        if (got != cases[i].want || strcmp(dbuf, cases[i].detail) != 0)
            fail_msg("case %zu (%s): got %s \"%s\", want %s \"%s\"", i, cases[i].expect,
                     check_reason_name(got), dbuf, check_reason_name(cases[i].want),
                     cases[i].detail);
        assert_int_equal(info.rcode, cases[i].rcode);
        assert_int_equal(info.count[DNS_SEC_ANSWER], 2);
        cfg_free(c);
    }
    /* A malformed reply whose rcode is allowed: other. */
    struct cfg *c = load(HEAD "    target: 127.0.0.1\n    query: {name: example.com}\n");
    const struct dns_spec *s = dns_spec_of(cfg_check(c, 0));
    begin(&m, 0, 1, 0, 0);
    put(&m, W("\xc0\x0c\x00\x01"));
    struct dns_reply_info info;
    char dbuf[CHECK_DETAIL_MAX];
    struct detail d;
    detail_init(&d, dbuf, sizeof(dbuf));
    assert_int_equal(dns_judge(&s->expect, m.b, m.n, &info, &d), CHECK_REASON_OTHER);
    assert_string_equal(dbuf, "malformed reply: record header cut short (answer record 1)");
    cfg_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_settings),  cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_rr_text),   cmocka_unit_test(test_reply_sections),
        cmocka_unit_test(test_malformed), cmocka_unit_test(test_judge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
