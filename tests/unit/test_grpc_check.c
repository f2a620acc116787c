/*
 * test_grpc_check.c - unit tests for the pure parts of the grpc check type
 * (grpc_proto.c, grpc_config.c): the request frame, the bounded decoding of
 * the health response, grpc-status and grpc-message, the judgement of a
 * reply, and the configuration's keys and rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "buf.h"
#include "config.h"
#include "grpc_check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the request ---- */

static void test_request(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b = grpc_health_request("", &len);
    static const uint8_t empty[] = {0, 0, 0, 0, 0};
    assert_int_equal(len, 5);
    assert_memory_equal(b, empty, 5);
    free(b);
    b = grpc_health_request("db", &len);
    static const uint8_t db[] = {0, 0, 0, 0, 4, 0x0a, 2, 'd', 'b'};
    assert_int_equal(len, sizeof(db));
    assert_memory_equal(b, db, sizeof(db));
    free(b);
    /* A name of 200 bytes: a two-byte length varint. */
    char name[201];
    memset(name, 'x', 200);
    name[200] = '\0';
    b = grpc_health_request(name, &len);
    assert_int_equal(len, 5 + 1 + 2 + 200);
    static const uint8_t head[] = {0, 0, 0, 0, 203, 0x0a, 0xc8, 0x01};
    assert_memory_equal(b, head, sizeof(head));
    free(b);
}

/* ---- the response ---- */

static void test_response(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        uint8_t bytes[24];
        size_t len;
        enum op_rc rc;
        int serving;
        const char *why;
    } cases[] = {
        {"serving", {0, 0, 0, 0, 2, 0x08, 1}, 7, OP_OK, 1, NULL},
        {"not serving", {0, 0, 0, 0, 2, 0x08, 2}, 7, OP_OK, 2, NULL},
        {"empty message is UNKNOWN", {0, 0, 0, 0, 0}, 5, OP_OK, 0, NULL},
        {"unknown fields skipped",
         {0,    0, 0, 0, 18, 0x10, 0x96, 0x01, 0x1a, 2,    'h', 'i',
          0x21, 1, 2, 3, 4,  5,    6,    7,    8,    0x08, 3},
         23,
         OP_OK,
         3,
         NULL},
        {"last status wins", {0, 0, 0, 0, 4, 0x08, 2, 0x08, 1}, 9, OP_OK, 1, NULL},
        {"fixed32 skipped", {0, 0, 0, 0, 7, 0x15, 1, 2, 3, 4, 0x08, 1}, 12, OP_OK, 1, NULL},
        {"unknown enum value", {0, 0, 0, 0, 2, 0x08, 9}, 7, OP_OK, 9, NULL},
        {"no body", {0}, 0, OP_ERR_INVALID, -1, "no message"},
        {"short header", {0, 0, 0}, 3, OP_ERR_INVALID, -1, "truncated frame header"},
        {"compressed", {1, 0, 0, 0, 0}, 5, OP_ERR_INVALID, -1, "compressed message"},
        {"bad flag", {2, 0, 0, 0, 0}, 5, OP_ERR_INVALID, -1, "bad compressed flag"},
        {"over the cap", {0, 0, 0, 0x10, 1}, 5, OP_ERR_LIMIT, -1, "message larger than 4096 bytes"},
        {"huge length",
         {0, 0xff, 0xff, 0xff, 0xff},
         5,
         OP_ERR_LIMIT,
         -1,
         "message larger than 4096 bytes"},
        {"truncated message", {0, 0, 0, 0, 3, 0x08, 1}, 7, OP_ERR_INVALID, -1, "truncated message"},
        {"two messages",
         {0, 0, 0, 0, 2, 0x08, 1, 0, 0, 0, 0, 0},
         12,
         OP_ERR_INVALID,
         -1,
         "more than one message"},
        {"status as bytes",
         {0, 0, 0, 0, 3, 0x0a, 1, 1},
         8,
         OP_ERR_INVALID,
         -1,
         "status is not a varint"},
        {"field 0", {0, 0, 0, 0, 2, 0x00, 1}, 7, OP_ERR_INVALID, -1, "bad field key"},
        {"group", {0, 0, 0, 0, 1, 0x0b}, 6, OP_ERR_INVALID, -1, "unsupported wire type"},
        {"cut varint", {0, 0, 0, 0, 2, 0x08, 0x81}, 7, OP_ERR_INVALID, -1, "truncated field"},
        {"length past the end",
         {0, 0, 0, 0, 3, 0x12, 9, 1},
         8,
         OP_ERR_INVALID,
         -1,
         "truncated field"},
        {"negative status",
         {0, 0, 0, 0, 11, 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
         16,
         OP_ERR_INVALID,
         -1,
         "status out of range"},
        {"varint of 11 bytes",
         {0, 0, 0, 0, 12, 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x81, 0x01},
         17,
         OP_ERR_INVALID,
         -1,
         "truncated field"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int serving = -1;
        const char *why = NULL;
        enum op_rc rc = grpc_health_response(cases[i].bytes, cases[i].len, &serving, &why);
        if (rc != cases[i].rc || serving != cases[i].serving ||
            (cases[i].why && (!why || strcmp(why, cases[i].why) != 0)))
            fail_msg("%s: rc %d serving %d why %s", cases[i].name, rc, serving,
                     why ? why : "(null)");
    }
}

/* ---- trailers ---- */

static void test_status_and_message(void **state)
{
    (void)state;
    int v = -1;
    assert_true(grpc_status_parse("0", 1, &v) && v == 0);
    assert_true(grpc_status_parse(" 14\r\n", 5, &v) && v == 14);
    assert_false(grpc_status_parse("", 0, &v));
    assert_false(grpc_status_parse("-1", 2, &v));
    assert_false(grpc_status_parse("1x", 2, &v));
    assert_false(grpc_status_parse("1000000", 7, &v));
    char out[16];
    assert_int_equal(grpc_percent_decode("a%20b%zz%4", 10, out, sizeof(out)), 8);
    assert_string_equal(out, "a b%zz%4");
    assert_int_equal(grpc_percent_decode("%E2%82%AC", 9, out, sizeof(out)), 3);
    assert_string_equal(out, "\xe2\x82\xac");
    /* Cut at the array, always terminated. */
    assert_int_equal(grpc_percent_decode("abcdefghijklmnopqrstuvwxyz", 26, out, 8), 7);
    assert_string_equal(out, "abcdefg");
    assert_string_equal(grpc_status_name(5), "NOT_FOUND");
    assert_string_equal(grpc_status_name(16), "UNAUTHENTICATED");
    assert_null(grpc_status_name(17));
    assert_string_equal(grpc_serving_name(3), "SERVICE_UNKNOWN");
    assert_null(grpc_serving_name(4));
}

/* ---- judgement ---- */

static void test_judge(void **state)
{
    (void)state;
    static const uint8_t serving[] = {0, 0, 0, 0, 2, 0x08, 1};
    static const uint8_t not_serving[] = {0, 0, 0, 0, 2, 0x08, 2};
    static const uint8_t junk[] = {0, 0, 0, 0, 9};
    static const struct {
        struct grpc_reply r;
        enum check_reason want;
        int serving;
        const char *detail;
    } cases[] = {
        {{2, 200, 0, false, "", serving, sizeof(serving), false}, CHECK_REASON_NONE, 1, ""},
        {{2, 200, 0, false, "", not_serving, sizeof(not_serving), false},
         CHECK_REASON_GRPC_STATUS,
         2,
         "health status NOT_SERVING (2)"},
        {{2, 200, 5, false, "unknown\nservice", NULL, 0, false},
         CHECK_REASON_GRPC_STATUS,
         -1,
         "grpc-status 5 (NOT_FOUND): unknown?service"},
        {{2, 200, 42, false, "", NULL, 0, false}, CHECK_REASON_GRPC_STATUS, -1, "grpc-status 42"},
        {{1, 200, -1, false, "", NULL, 0, false},
         CHECK_REASON_OTHER,
         -1,
         "not HTTP/2: the server answered in HTTP/1"},
        {{2, 503, 14, false, "", NULL, 0, false},
         CHECK_REASON_OTHER,
         -1,
         "HTTP status 503, not 200"},
        {{2, 200, -1, false, "", serving, sizeof(serving), false},
         CHECK_REASON_OTHER,
         -1,
         "no grpc-status in the response"},
        {{2, 200, -1, true, "", serving, sizeof(serving), false},
         CHECK_REASON_OTHER,
         -1,
         "grpc-status is not a number"},
        {{2, 200, 0, false, "", junk, sizeof(junk), false},
         CHECK_REASON_OTHER,
         -1,
         "malformed health response: truncated message"},
        {{2, 200, 0, false, "", NULL, 0, true},
         CHECK_REASON_OTHER,
         -1,
         "response larger than 4101 bytes"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char detail[CHECK_DETAIL_MAX];
        int s = -7;
        enum check_reason r = grpc_judge(&cases[i].r, &s, detail, sizeof(detail));
        if (r != cases[i].want || s != cases[i].serving || strcmp(detail, cases[i].detail) != 0)
            fail_msg("case %zu: reason %d serving %d detail '%s'", i, r, s, detail);
    }
}

/* ---- configuration ---- */

static struct cfg *load(const char *yaml, struct buf *errors)
{
    struct cfg *c = NULL;
    buf_init(errors, 1u << 16);
    if (cfg_load_string(yaml, strlen(yaml), "t.yml", &c, errors) != OP_OK)
        return NULL;
    return c;
}

static void test_config(void **state)
{
    (void)state;
    struct buf errors;
    struct cfg *c = load("checks:\n"
                         "  - name: a\n"
                         "    type: grpc\n"
                         "    target: 127.0.0.1:50051\n"
                         "  - name: b\n"
                         "    type: grpc\n"
                         "    target: \"[::1]:443\"\n"
                         "    service: shop.Cart\n"
                         "    tls: {insecure_skip_verify: true, server_name: cart.test}\n"
                         "    ip_protocol: ip6\n"
                         "    ip_protocol_fallback: false\n"
                         "    metadata: {authorization: Bearer x, x-req: \"1\"}\n"
                         "  - name: c\n"
                         "    type: grpc\n"
                         "    target: localhost:1\n"
                         "    tls: true\n",
                         &errors);
    if (!c)
        fail_msg("%s", buf_str(&errors));
    const struct grpc_spec *a = grpc_spec_of(cfg_check(c, 0));
    assert_string_equal(cfg_check(c, 0)->target, "127.0.0.1:50051");
    assert_string_equal(a->url, "http://127.0.0.1:50051/grpc.health.v1.Health/Check");
    assert_string_equal(a->service, "");
    assert_false(a->tls_enabled);
    assert_int_equal(a->ip_protocol, IP_PROTO_AUTO);
    assert_true(a->ip_protocol_fallback);
    assert_int_equal(a->n_metadata, 0);
    const struct grpc_spec *b = grpc_spec_of(cfg_check(c, 1));
    assert_string_equal(b->url, "https://[::1]:443/grpc.health.v1.Health/Check");
    assert_string_equal(b->service, "shop.Cart");
    assert_true(b->tls_enabled && b->tls.insecure_skip_verify);
    assert_string_equal(b->tls.server_name, "cart.test");
    assert_int_equal(b->ip_protocol, IP_PROTO_6);
    assert_false(b->ip_protocol_fallback);
    assert_int_equal(b->n_metadata, 2);
    assert_string_equal(b->metadata[0].name, "authorization");
    assert_string_equal(b->metadata[0].value, "Bearer x");
    const struct grpc_spec *cc = grpc_spec_of(cfg_check(c, 2));
    assert_true(cc->tls_enabled);
    assert_non_null(cc->tls.ca); /* the system store, keyed */
    assert_string_equal(cc->url, "https://localhost:1/grpc.health.v1.Health/Check");
    cfg_free(c);
    buf_free(&errors);
}

static void test_config_errors(void **state)
{
    (void)state;
    static const struct {
        const char *entry;
        const char *want;
    } cases[] = {
        {"    target: 127.0.0.1\n",
         "t.yml:4:13: checks[0] \"x\".target: \"127.0.0.1\": must be host:port"},
        {"    target: \"[::1:5\"\n",
         "t.yml:4:13: checks[0] \"x\".target: \"[::1:5\": has \"[\" without \"]\""},
        {"    target: a/b:5\n", "\"a/b:5\": the host is neither an IP address nor a host name"},
        {"    target: a:70000\n", "\"a:70000\": port must be a number from 1 to 65535"},
        {"    target: a:5\n    tls: maybe\n", "t.yml:5:10: checks[0] \"x\".tls"},
        {"    target: a:5\n    metadata: {X-Up: a}\n", "is not a metadata key"},
        {"    target: a:5\n    metadata: {te: a}\n", "is set by the call itself"},
        {"    target: a:5\n    metadata: {x: \"\\u00e9\"}\n",
         "metadata value must be printable ASCII"},
        {"    target: a:5\n    ip_protocol: ip5\n", "t.yml:5:18: checks[0] \"x\".ip_protocol"},
        {"    target: a:5\n    tls: {cert_file: /etc/hostname}\n",
         "tls.cert_file and tls.key_file go together"},
        {"    target: a:5\n    servise: x\n", "servise"},
        {"    service: x\n", "missing key \"target\""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char yaml[512];
        snprintf(yaml, sizeof(yaml), "checks:\n  - name: x\n    type: grpc\n%s", cases[i].entry);
        struct buf errors;
        struct cfg *c = load(yaml, &errors);
        if (c || !strstr(buf_str(&errors), cases[i].want))
            fail_msg("case %zu: loaded %d, errors:\n%s", i, c != NULL, buf_str(&errors));
        cfg_free(c);
        buf_free(&errors);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request),
        cmocka_unit_test(test_response),
        cmocka_unit_test(test_status_and_message),
        cmocka_unit_test(test_judge),
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_config_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
