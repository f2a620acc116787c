/*
 * test_buf.c - unit tests for the capped buffer (buf.c), the number helpers
 * it shares with the rest of core/ (fmt_double through buf_add_json_number,
 * parse_u64 in common.c), and splitting listen addresses
 * (listener_split_address in listener.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "buf.h"
#include "listener.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* truncate takes back what was appended; prealloc makes room (large
 * rooms faulted in) without changing the content or the cap. */
static void test_truncate_prealloc(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 8u << 20);
    buf_prealloc(&b, 4u << 20);
    assert_int_equal(b.len, 0);
    assert_string_equal(buf_str(&b), "");
    assert_true(b.cap >= (4u << 20) + 1);
    assert_int_equal(buf_adds(&b, "hello}"), OP_OK);
    buf_truncate(&b, b.len - 1);
    assert_int_equal(buf_adds(&b, ",x"), OP_OK);
    assert_string_equal(buf_str(&b), "hello,x");
    buf_truncate(&b, 100); /* beyond the content: nothing */
    assert_string_equal(buf_str(&b), "hello,x");
    buf_prealloc(&b, 64u << 20); /* clipped to the cap */
    assert_true(b.cap <= (8u << 20) + 1);
    assert_string_equal(buf_str(&b), "hello,x");
    buf_free(&b);

    buf_init(&b, 4);
    assert_int_equal(buf_adds(&b, "hello"), OP_ERR_LIMIT);
    buf_truncate(&b, 0);
    buf_prealloc(&b, 2);
    assert_true(b.failed); /* stays failed */
    buf_free(&b);
}

static void test_empty(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 100);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.max, 100);
    assert_false(b.failed);
    assert_string_equal(buf_str(&b), "");
    /* Appending nothing succeeds and leaves a valid empty string. */
    assert_int_equal(buf_add(&b, "", 0), OP_OK);
    assert_int_equal(buf_adds(&b, ""), OP_OK);
    assert_int_equal(b.len, 0);
    assert_string_equal(buf_str(&b), "");
    buf_free(&b);
    /* Free twice and reset on a fresh buffer are harmless. */
    buf_free(&b);
    buf_init(&b, 10);
    buf_reset(&b);
    assert_string_equal(buf_str(&b), "");
    buf_free(&b);
}

/* Appends that reach max exactly succeed; one byte more fails, drops the
 * content and leaves the buffer failed until reset. */
static void test_cap(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 10);
    assert_int_equal(buf_adds(&b, "12345"), OP_OK);
    assert_int_equal(buf_add(&b, "6789", 4), OP_OK);
    assert_int_equal(buf_addc(&b, '0'), OP_OK);
    assert_int_equal(b.len, 10);
    assert_string_equal(buf_str(&b), "1234567890");
    assert_false(b.failed);

    assert_int_equal(buf_addc(&b, 'x'), OP_ERR_LIMIT);
    assert_int_equal(b.len, 0);
    assert_string_equal(buf_str(&b), "");
    assert_true(b.failed);

    assert_int_equal(buf_adds(&b, "yz"), OP_ERR_LIMIT);
    assert_int_equal(buf_addf(&b, "%d", 7), OP_ERR_LIMIT);
    assert_int_equal(buf_add(&b, "", 0), OP_ERR_LIMIT); /* even nothing: failed is absorbing */
    assert_int_equal(b.len, 0);
    assert_string_equal(buf_str(&b), "");
    assert_true(b.failed);

    /* Reset forgets content and failure, keeps the cap. */
    buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_false(b.failed);
    assert_string_equal(buf_str(&b), "");
    assert_int_equal(buf_adds(&b, "abcdefghijk"), OP_ERR_LIMIT); /* 11 > 10 */
    assert_int_equal(b.len, 0);
    assert_string_equal(buf_str(&b), "");
    assert_true(b.failed);
    buf_reset(&b);
    assert_int_equal(buf_adds(&b, "abcdefghij"), OP_OK);
    assert_string_equal(buf_str(&b), "abcdefghij");
    buf_free(&b);
}

/* A failure is sticky: later appends that would fit are refused too, so
 * they cannot clear it or leave content behind. */
static void test_failed_sticky(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 4);
    assert_int_equal(buf_adds(&b, "12345"), OP_ERR_LIMIT);
    assert_true(b.failed);
    assert_int_equal(buf_adds(&b, "12"), OP_ERR_LIMIT);
    assert_true(b.failed);
    assert_string_equal(buf_str(&b), "");
    char *s = buf_take(&b);
    assert_string_equal(s, "");
    free(s);
    assert_false(b.failed);
    /* Take clears the failure like reset does. */
    assert_int_equal(buf_adds(&b, "12"), OP_OK);
    assert_string_equal(buf_str(&b), "12");
    buf_free(&b);
}

/* The case that made failure absorbing: a writer that checks `failed` only
 * at the end must not be able to produce well-formed output with a piece
 * missing. Before, this gave {"k":""} with failed set. */
static void test_failed_absorbing(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 10);
    assert_int_equal(buf_adds(&b, "{\"k\":\""), OP_OK);
    assert_int_equal(buf_adds(&b, "0123456789"), OP_ERR_LIMIT);
    assert_int_equal(buf_adds(&b, "\"}"), OP_ERR_LIMIT);
    assert_true(b.failed);
    assert_int_equal(b.len, 0);
    assert_null(b.data); /* the content is freed at the failure, not kept */
    assert_string_equal(buf_str(&b), "");

    /* Every kind of append is a no-op from now on. */
    assert_int_equal(buf_addc(&b, 'x'), OP_ERR_LIMIT);
    assert_int_equal(buf_add(&b, "x", 1), OP_ERR_LIMIT);
    assert_int_equal(buf_addf(&b, "%s", "x"), OP_ERR_LIMIT);
    buf_add_json_string(&b, "x");
    buf_add_json_number(&b, 1.5);
    assert_int_equal(buf_read_file(&b, "/dev/null"), OP_ERR_LIMIT);
    assert_int_equal(b.len, 0);
    assert_string_equal(buf_str(&b), "");
    assert_true(b.failed);

    /* Free keeps the failure; reset clears it. */
    buf_free(&b);
    assert_true(b.failed);
    assert_int_equal(buf_addc(&b, 'x'), OP_ERR_LIMIT);
    buf_reset(&b);
    assert_false(b.failed);
    assert_int_equal(buf_adds(&b, "{\"k\":\"v\"}"), OP_OK);
    assert_string_equal(buf_str(&b), "{\"k\":\"v\"}");
    buf_free(&b);

    /* A failure in the middle of an escaped string drops all of it. */
    buf_init(&b, 8);
    buf_add_json_string(&b, "ab\"cd\"e");
    assert_true(b.failed);
    assert_string_equal(buf_str(&b), "");
    buf_free(&b);

    /* A failed formatted append on a buffer that already holds data. */
    buf_init(&b, 300);
    assert_int_equal(buf_adds(&b, "head"), OP_OK);
    assert_int_equal(buf_addf(&b, "%0300d", 7), OP_ERR_LIMIT);
    assert_int_equal(buf_adds(&b, "tail"), OP_ERR_LIMIT);
    assert_string_equal(buf_str(&b), "");
    buf_free(&b);
}

/* Sizes near SIZE_MAX are refused, not wrapped around. */
static void test_cap_overflow(void **state)
{
    (void)state;
    static const char x[4] = "abc";
    static const size_t sizes[] = {SIZE_MAX, SIZE_MAX - 1, 15};
    struct buf b;
    buf_init(&b, 16);
    /* Each size on a fresh buffer, so each is refused by the size check and
     * not only because the buffer had already failed. */
    for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
        buf_reset(&b);
        assert_int_equal(buf_adds(&b, "ab"), OP_OK);
        assert_int_equal(buf_add(&b, x, sizes[i]), OP_ERR_LIMIT);
        assert_int_equal(b.len, 0);
        assert_string_equal(buf_str(&b), "");
        assert_true(b.failed);
    }
    buf_free(&b);

    /* max = SIZE_MAX: the len + n check itself must not overflow. */
    buf_init(&b, SIZE_MAX);
    assert_int_equal(buf_adds(&b, "ab"), OP_OK);
    assert_int_equal(buf_add(&b, x, SIZE_MAX - 1), OP_ERR_LIMIT);
    assert_int_equal(b.len, 0);
    buf_free(&b);

    /* max = 0: only empty appends. */
    buf_init(&b, 0);
    assert_int_equal(buf_add(&b, "", 0), OP_OK);
    assert_int_equal(buf_addc(&b, 'a'), OP_ERR_LIMIT);
    assert_string_equal(buf_str(&b), "");
    buf_free(&b);
}

static void test_addf(void **state)
{
    (void)state;
    char big[301];
    memset(big, 'q', 300);
    big[300] = '\0';

    struct buf b;
    buf_init(&b, 1000);
    assert_int_equal(buf_addf(&b, "%s=%d;", "a", 1), OP_OK);
    assert_string_equal(buf_str(&b), "a=1;");
    /* Past the 256-byte stack buffer: formatted straight into the buffer. */
    assert_int_equal(buf_addf(&b, "<%s>%llu", big, 18446744073709551615ull), OP_OK);
    assert_int_equal(b.len, 4 + 1 + 300 + 1 + 20);
    assert_memory_equal(b.data, "a=1;<", 5);
    assert_memory_equal(b.data + 5, big, 300);
    assert_string_equal(b.data + 305, ">18446744073709551615");
    assert_int_equal(strlen(buf_str(&b)), b.len);
    /* And small ones still append after it. */
    assert_int_equal(buf_addf(&b, "%c", '!'), OP_OK);
    assert_int_equal(b.len, 327);
    assert_int_equal(b.data[326], '!');
    assert_int_equal(b.data[327], '\0');
    assert_false(b.failed);
    buf_free(&b);

    /* Exactly 255 and 256 bytes: both sides of the stack buffer. */
    static const size_t sizes[] = {255, 256, 257, 511, 512, 4096};
    for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
        char *s = malloc(sizes[i] + 1);
        assert_non_null(s);
        for (size_t k = 0; k < sizes[i]; k++)
            s[k] = (char)('a' + k % 26);
        s[sizes[i]] = '\0';
        buf_init(&b, sizes[i] + 2);
        assert_int_equal(buf_addc(&b, '['), OP_OK);
        assert_int_equal(buf_addf(&b, "%s", s), OP_OK);
        assert_int_equal(buf_addc(&b, ']'), OP_OK);
        assert_int_equal(b.len, sizes[i] + 2);
        assert_int_equal(b.data[0], '[');
        assert_memory_equal(b.data + 1, s, sizes[i]);
        assert_int_equal(b.data[sizes[i] + 1], ']');
        assert_int_equal(b.data[sizes[i] + 2], '\0');
        /* Full: even one formatted byte is refused, and the content goes. */
        assert_int_equal(buf_addf(&b, "%s", "x"), OP_ERR_LIMIT);
        assert_int_equal(b.len, 0);
        free(s);
        buf_free(&b);
    }

    /* A long format that would pass the cap fails, and drops the content. */
    buf_init(&b, 300);
    assert_int_equal(buf_adds(&b, "x"), OP_OK);
    assert_int_equal(buf_addf(&b, "%s", big), OP_ERR_LIMIT);
    assert_int_equal(b.len, 0);
    assert_string_equal(buf_str(&b), "");
    assert_true(b.failed);
    buf_reset(&b);
    assert_int_equal(buf_addf(&b, "%s", big), OP_OK); /* exactly 300 = max */
    assert_int_equal(b.len, 300);
    assert_false(b.failed);
    buf_free(&b);
}

/* Many single-byte appends grow the buffer with the content intact. */
static void test_growth(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 100000);
    for (size_t i = 0; i < 100000; i++)
        assert_int_equal(buf_addc(&b, (char)('0' + i % 10)), OP_OK);
    assert_int_equal(b.len, 100000);
    assert_true(b.cap > b.len);
    for (size_t i = 0; i < 100000; i++)
        if (b.data[i] != (char)('0' + i % 10))
            fail_msg("byte %zu is %c", i, b.data[i]);
    assert_int_equal(b.data[100000], '\0');
    assert_int_equal(buf_addc(&b, 'x'), OP_ERR_LIMIT);
    buf_free(&b);
}

static void test_take_reset(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 64);
    assert_int_equal(buf_adds(&b, "hello"), OP_OK);
    char *s = buf_take(&b);
    assert_string_equal(s, "hello");
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    assert_false(b.failed);
    assert_int_equal(b.max, 64);
    free(s);

    /* Take from an empty buffer gives an allocated "". */
    s = buf_take(&b);
    assert_non_null(s);
    assert_string_equal(s, "");
    free(s);

    /* The buffer is reusable after take. */
    assert_int_equal(buf_adds(&b, "again"), OP_OK);
    assert_string_equal(buf_str(&b), "again");

    /* Reset keeps the memory. */
    char *mem = b.data;
    size_t cap = b.cap;
    buf_reset(&b);
    assert_ptr_equal(b.data, mem);
    assert_int_equal(b.cap, cap);
    assert_int_equal(b.len, 0);
    assert_string_equal(buf_str(&b), "");
    assert_int_equal(buf_adds(&b, "x"), OP_OK);
    assert_string_equal(buf_str(&b), "x");
    buf_free(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_string_equal(buf_str(&b), "");
}

/* ---- JSON numbers ---- */

/* The shortest text that reads back as the same double; null where JSON has
 * no spelling. Every number is checked to parse back exactly. */
static void test_json_number(void **state)
{
    (void)state;
    static const struct {
        double v;
        const char *want;
    } cases[] = {
        {0, "0"},
        {-0.0, "-0"},
        {1, "1"},
        {-42, "-42"},
        {1.5, "1.5"},
        {0.1, "0.1"},
        {0.999, "0.999"},
        {1.0 / 3, "0.3333333333333333"},
        {2.0 / 3, "0.6666666666666666"},
        {0.1 + 0.2, "0.30000000000000004"}, /* needs all 17 digits */
        {1e21, "1e+21"},                    /* whole, but above 2^53: shortest %g */
        {9007199254740991.0, "9007199254740991"},
        {9007199254740992.0, "9007199254740992"},
        {1e300, "1e+300"},
        {1e-300, "1e-300"},
        {5e-324, "4.94065645841247e-324"}, /* subnormal: strtod sets ERANGE */
        {1.7976931348623157e308, "1.7976931348623157e+308"},
        {NAN, "null"},
        {INFINITY, "null"},
        {-INFINITY, "null"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct buf b;
        buf_init(&b, 64);
        buf_add_json_number(&b, cases[i].v);
        if (strcmp(buf_str(&b), cases[i].want) != 0)
            fail_msg("row %zu: got %s, want %s", i, buf_str(&b), cases[i].want);
        if (isfinite(cases[i].v)) {
            char *end;
            double back = strtod(buf_str(&b), &end);
            if (*end || back != cases[i].v)
                fail_msg("row %zu: %s does not read back", i, buf_str(&b));
        }
        buf_free(&b);
    }
    /* Appended like any other piece, and absorbed by a failed buffer. */
    struct buf b;
    buf_init(&b, 10);
    buf_adds(&b, "[");
    buf_add_json_number(&b, 2.5);
    buf_adds(&b, ",");
    buf_add_json_number(&b, NAN);
    buf_adds(&b, "]");
    assert_string_equal(buf_str(&b), "[2.5,null]");
    buf_add_json_number(&b, 0.1);
    assert_true(b.failed);
    assert_string_equal(buf_str(&b), "");
    buf_free(&b);
}

/* ---- parse_u64 ---- */

static void test_parse_u64(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        uint64_t max;
        enum op_rc rc;
        uint64_t want;
    } cases[] = {
        {"0", 10, OP_OK, 0},
        {"7", 10, OP_OK, 7},
        {"10", 10, OP_OK, 10},
        {"0010", 10, OP_OK, 10}, /* leading zeros are digits */
        {"11", 10, OP_ERR_LIMIT, 0},
        {"7", 5, OP_ERR_LIMIT, 0},
        {"0", 0, OP_OK, 0},
        {"1", 0, OP_ERR_LIMIT, 0},
        /* The Flagger gate's Content-Length cap, 65536. */
        {"65536", 65536, OP_OK, 65536},
        {"65537", 65536, OP_ERR_LIMIT, 0},
        {"99999999999999999999999999999", 65536, OP_ERR_LIMIT, 0},
        {"-1", 65536, OP_ERR_INVALID, 0},
        {"+1", 65536, OP_ERR_INVALID, 0},
        {"12abc", 65536, OP_ERR_INVALID, 0},
        {"abc", 65536, OP_ERR_INVALID, 0},
        {"", 65536, OP_ERR_INVALID, 0},
        {" 12", 65536, OP_ERR_INVALID, 0},
        {"12 ", 65536, OP_ERR_INVALID, 0},
        {"0x10", 65536, OP_ERR_INVALID, 0},
        {"1e3", 65536, OP_ERR_INVALID, 0},
        {"1.0", 65536, OP_ERR_INVALID, 0},
        {"99999999999999999999999999999x", 65536, OP_ERR_INVALID, 0},
        /* The whole range, and one past it. */
        {"18446744073709551615", UINT64_MAX, OP_OK, UINT64_MAX},
        {"18446744073709551616", UINT64_MAX, OP_ERR_LIMIT, 0},
        {"18446744073709551620", UINT64_MAX, OP_ERR_LIMIT, 0},
        {"184467440737095516150", UINT64_MAX, OP_ERR_LIMIT, 0},
        {"18446744073709551614", UINT64_MAX - 1, OP_OK, UINT64_MAX - 1},
        {"18446744073709551615", UINT64_MAX - 1, OP_ERR_LIMIT, 0},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        uint64_t v = 12345;
        enum op_rc rc = parse_u64(cases[i].s, strlen(cases[i].s), cases[i].max, &v);
        if (rc != cases[i].rc)
            fail_msg("row %zu (\"%s\"): got %s, want %s", i, cases[i].s, op_strerror(rc),
                     op_strerror(cases[i].rc));
        if (rc == OP_OK && v != cases[i].want)
            fail_msg("row %zu (\"%s\"): got %llu", i, cases[i].s, (unsigned long long)v);
        if (rc != OP_OK && v != 12345)
            fail_msg("row %zu (\"%s\"): *out written on failure", i, cases[i].s);
    }
    /* Only len bytes are read: the text need not end there. */
    uint64_t v;
    assert_int_equal(parse_u64("123,456", 3, 1000, &v), OP_OK);
    assert_int_equal(v, 123);
    assert_int_equal(parse_u64("123,456", 4, 1000, &v), OP_ERR_INVALID);
}

/* ---- listener_split_address ---- */

static void test_split_address(void **state)
{
    (void)state;
    static const struct {
        const char *addr;
        enum op_rc rc;
        const char *host, *port;
    } cases[] = {
        {":9469", OP_OK, "", "9469"},
        {"127.0.0.1:0", OP_OK, "127.0.0.1", "0"},
        {"0.0.0.0:9469", OP_OK, "0.0.0.0", "9469"},
        {"[::1]:8080", OP_OK, "::1", "8080"},
        {"[::]:9469", OP_OK, "::", "9469"},
        {"[fe80::1%eth0]:80", OP_OK, "fe80::1%eth0", "80"},
        {"localhost:80", OP_OK, "localhost", "80"},
        {"example.com:65535", OP_OK, "example.com", "65535"},
        {"9469", OP_ERR_INVALID, NULL, NULL},
        {"", OP_ERR_INVALID, NULL, NULL},
        {":", OP_ERR_INVALID, NULL, NULL},
        {"::1:80", OP_ERR_INVALID, NULL, NULL},
        {"::1", OP_ERR_INVALID, NULL, NULL},
        {"[::1]80", OP_ERR_INVALID, NULL, NULL},
        {"[::1]", OP_ERR_INVALID, NULL, NULL},
        {"[::1:80", OP_ERR_INVALID, NULL, NULL},
        {"[::1]:", OP_ERR_INVALID, NULL, NULL},
        {"host:99999", OP_ERR_INVALID, NULL, NULL},
        {"host:65536", OP_ERR_INVALID, NULL, NULL},
        {"host:-1", OP_ERR_INVALID, NULL, NULL},
        {"host:abc", OP_ERR_INVALID, NULL, NULL},
        {"host:80abc", OP_ERR_INVALID, NULL, NULL},
        {"host:", OP_ERR_INVALID, NULL, NULL},
        {"host:99999999999999999999999", OP_ERR_INVALID, NULL, NULL},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char host[256], port[16];
        memset(host, 'X', sizeof(host));
        memset(port, 'X', sizeof(port));
        enum op_rc rc = listener_split_address(cases[i].addr, host, port);
        if (rc != cases[i].rc)
            fail_msg("row %zu (\"%s\"): got %s, want %s", i, cases[i].addr, op_strerror(rc),
                     op_strerror(cases[i].rc));
        if (rc != OP_OK)
            continue;
        if (strcmp(host, cases[i].host) != 0 || strcmp(port, cases[i].port) != 0)
            fail_msg("row %zu (\"%s\"): host \"%s\" port \"%s\", want \"%s\" \"%s\"", i,
                     cases[i].addr, host, port, cases[i].host, cases[i].port);
    }
}

/* The host fits 255 bytes plus NUL; one more is refused, not overflowed. */
static void test_split_address_long_host(void **state)
{
    (void)state;
    char addr[600], host[256], port[16];
    memset(addr, 'h', 255);
    memcpy(addr + 255, ":80", 4);
    assert_int_equal(listener_split_address(addr, host, port), OP_OK);
    assert_int_equal(strlen(host), 255);
    assert_string_equal(port, "80");

    memset(addr, 'h', 256);
    memcpy(addr + 256, ":80", 4);
    assert_int_equal(listener_split_address(addr, host, port), OP_ERR_INVALID);

    addr[0] = '[';
    memset(addr + 1, 'a', 255);
    memcpy(addr + 256, "]:80", 5);
    assert_int_equal(listener_split_address(addr, host, port), OP_OK);
    assert_int_equal(strlen(host), 255);

    memset(addr + 1, 'a', 256);
    memcpy(addr + 257, "]:80", 5);
    assert_int_equal(listener_split_address(addr, host, port), OP_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_cap),
        cmocka_unit_test(test_truncate_prealloc),
        cmocka_unit_test(test_failed_sticky),
        cmocka_unit_test(test_failed_absorbing),
        cmocka_unit_test(test_cap_overflow),
        cmocka_unit_test(test_addf),
        cmocka_unit_test(test_growth),
        cmocka_unit_test(test_take_reset),
        cmocka_unit_test(test_json_number),
        cmocka_unit_test(test_parse_u64),
        cmocka_unit_test(test_split_address),
        cmocka_unit_test(test_split_address_long_host),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
