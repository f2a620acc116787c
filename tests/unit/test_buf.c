/*
 * test_buf.c - unit tests for the capped buffer (buf.c) and for splitting
 * listen addresses (httpd_split_address in httpd.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "buf.h"
#include "httpd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* ---- httpd_split_address ---- */

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
        enum op_rc rc = httpd_split_address(cases[i].addr, host, port);
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
    assert_int_equal(httpd_split_address(addr, host, port), OP_OK);
    assert_int_equal(strlen(host), 255);
    assert_string_equal(port, "80");

    memset(addr, 'h', 256);
    memcpy(addr + 256, ":80", 4);
    assert_int_equal(httpd_split_address(addr, host, port), OP_ERR_INVALID);

    addr[0] = '[';
    memset(addr + 1, 'a', 255);
    memcpy(addr + 256, "]:80", 5);
    assert_int_equal(httpd_split_address(addr, host, port), OP_OK);
    assert_int_equal(strlen(host), 255);

    memset(addr + 1, 'a', 256);
    memcpy(addr + 257, "]:80", 5);
    assert_int_equal(httpd_split_address(addr, host, port), OP_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),         cmocka_unit_test(test_cap),
        cmocka_unit_test(test_failed_sticky), cmocka_unit_test(test_failed_absorbing),
        cmocka_unit_test(test_cap_overflow),  cmocka_unit_test(test_addf),
        cmocka_unit_test(test_growth),        cmocka_unit_test(test_take_reset),
        cmocka_unit_test(test_split_address), cmocka_unit_test(test_split_address_long_host),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
