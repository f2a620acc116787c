/*
 * test_httpd.c - the HTTP server's flag values that are not plain numbers
 * or durations: --web.max-response-memory (httpd_parse_bytes).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "httpd.h"

static void test_parse_bytes(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        uint64_t v;
    } good[] = {
        {"auto", 0},
        {"48MiB", 48ull << 20},
        {"1MiB", 1ull << 20},
        {"1048576", 1048576},
        {"1048576B", 1048576},
        {"2048KiB", 2ull << 20},
        {"64GiB", 64ull << 30},
        {"100MB", 100000000},
        {"5000kB", 5000000},
        {"5000KB", 5000000},
        {"2GB", 2000000000},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        uint64_t v = 7;
        assert_int_equal(httpd_parse_bytes(good[i].s, &v), OP_OK);
        assert_int_equal(v, good[i].v);
    }
    static const char *const bad[] = {
        "",        "MiB",     "-1MiB", "+1MiB", " 1MiB", "1MiB ", "1.5MiB", "1mib",
        "1048575", "1023KiB", "65GiB", "0",     "0MiB",  "AUTO",  "1e6",    "18446744073709551616",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t v = 7;
        assert_int_equal(httpd_parse_bytes(bad[i], &v), OP_ERR_INVALID);
        assert_int_equal(v, 7); /* untouched on error */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
