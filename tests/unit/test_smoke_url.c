/*
 * test_smoke_url.c - `outpost check --url-prefix` (smoke_url.c): which
 * prefixes are accepted and why others are not, and URLs rebased onto a
 * prefix with their path, query, fragment and user info kept.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "buf.h"
#include "config.h"
#include "cfg_yaml.h"
#include "flow_check.h"
#include "http_check.h"
#include "browser_check.h"
#include "smoke_url.h"

#include <stdlib.h>
#include <string.h>

static void test_prefix_parse(void **state)
{
    (void)state;
    static const struct {
        const char *text, *scheme, *host, *port, *path;
    } ok[] = {
        {"http://127.0.0.1:8080", "http", "127.0.0.1", "8080", ""},
        {"https://staging.example.com", "https", "staging.example.com", NULL, ""},
        {"https://staging.example.com/", "https", "staging.example.com", NULL, ""},
        {"HTTP://Example.COM:81/stage/", "http", "Example.COM", "81", "/stage"},
        {"http://[::1]:9000/a/b//", "http", "[::1]", "9000", "/a/b"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
        struct smoke_prefix p;
        const char *why = NULL;
        assert_int_equal(smoke_prefix_parse(ok[i].text, &p, &why), OP_OK);
        assert_string_equal(p.text, ok[i].text);
        assert_string_equal(p.scheme, ok[i].scheme);
        assert_string_equal(p.host, ok[i].host);
        if (ok[i].port)
            assert_string_equal(p.port, ok[i].port);
        else
            assert_null(p.port);
        assert_string_equal(p.path, ok[i].path);
        smoke_prefix_free(&p);
    }
    static const struct {
        const char *text, *why;
    } bad[] = {
        {"staging.example.com", "not an absolute URL (scheme://host[:port][/path])"},
        {"", "not an absolute URL (scheme://host[:port][/path])"},
        {"http://host:99999", "not an absolute URL (scheme://host[:port][/path])"},
        {"ftp://example.com", "the scheme must be http or https"},
        {"http://user:pw@example.com", "it must not hold user info: give credentials in the "
                                       "configuration"},
        {"http://user@example.com", "it must not hold user info: give credentials in the "
                                    "configuration"},
        {"http://example.com/?a=1", "it must not have a query or fragment"},
        {"http://example.com/#top", "it must not have a query or fragment"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct smoke_prefix p;
        const char *why = NULL;
        assert_int_equal(smoke_prefix_parse(bad[i].text, &p, &why), OP_ERR_INVALID);
        assert_string_equal(why, bad[i].why);
        assert_null(p.text);
        assert_null(p.host);
    }
}

static void test_rebase_url(void **state)
{
    (void)state;
    static const struct {
        const char *prefix, *url, *want;
    } cases[] = {
        /* Scheme, host and port replaced; path and query kept. */
        {"http://127.0.0.1:8080", "https://api.example.com/v1/orders?limit=1",
         "http://127.0.0.1:8080/v1/orders?limit=1"},
        /* The URL's own port goes: the prefix's scheme decides. */
        {"https://staging.example.com", "http://api.example.com:8080/health",
         "https://staging.example.com/health"},
        /* A base path goes before the URL's path. */
        {"http://127.0.0.1:8080/stage/", "https://api.example.com/v1/x?q=1#frag",
         "http://127.0.0.1:8080/stage/v1/x?q=1#frag"},
        {"http://127.0.0.1:8080/stage", "https://api.example.com", "http://127.0.0.1:8080/stage/"},
        /* User info stays: credentials belong to the check. */
        {"http://127.0.0.1:1", "https://u:p@api.example.com/x", "http://u:p@127.0.0.1:1/x"},
        /* IPv6 both ways. */
        {"http://[::1]:9000", "http://[2001:db8::1]:80/a", "http://[::1]:9000/a"},
        {"https://canary.example.com", "http://[2001:db8::1]/a/../b",
         "https://canary.example.com/a/../b"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct smoke_prefix p;
        const char *why;
        assert_int_equal(smoke_prefix_parse(cases[i].prefix, &p, &why), OP_OK);
        char *out = NULL;
        assert_int_equal(smoke_rebase_url(cases[i].url, &p, &out), OP_OK);
        assert_string_equal(out, cases[i].want);
        free(out);
        smoke_prefix_free(&p);
    }
}

/* A loaded http or browser check is rebased in place; a type without URLs
 * is refused. */
static void test_rebase_check(void **state)
{
    (void)state;
    /* /bin/true stands for Chromium, which only has to exist. */
    static const char yaml[] = "global: {browser: {executable: /bin/true}}\n"
                               "checks:\n"
                               "  - name: a\n"
                               "    url: https://api.example.com/v1/x?token=s3cret\n"
                               "  - name: b\n"
                               "    type: browser\n"
                               "    url: https://www.example.com/shop?x=1\n";
    struct buf err;
    buf_init(&err, 1u << 16);
    struct cfg *cfg = NULL;
    assert_int_equal(cfg_load_string(yaml, strlen(yaml), "u.yml", &cfg, &err), OP_OK);
    struct smoke_prefix p;
    const char *why;
    assert_int_equal(smoke_prefix_parse("http://127.0.0.1:4000/b", &p, &why), OP_OK);
    const struct check_spec *c = cfg_check(cfg, 0);
    assert_int_equal(smoke_rebase_check(c, &p, &why), OP_OK);
    assert_string_equal(http_spec_of(c)->url, "http://127.0.0.1:4000/b/v1/x?token=s3cret");
    /* The target label is what was written, unchanged. */
    assert_string_equal(c->target, "https://api.example.com/v1/x");
    c = cfg_check(cfg, 1);
    assert_int_equal(smoke_rebase_check(c, &p, &why), OP_OK);
    assert_string_equal(browser_spec_of(c)->url, "http://127.0.0.1:4000/b/shop?x=1");

    struct check_schema other = {.name = "other"};
    struct check_spec fake = {.name = "f", .type = &other};
    assert_int_equal(smoke_rebase_check(&fake, &p, &why), OP_ERR_INVALID);
    assert_string_equal(why, "its type has no URL to rebase");
    smoke_prefix_free(&p);
    cfg_free(cfg);
    buf_free(&err);
}

/* A flow: every step's URL rebased, captures kept where they are (path,
 * query, fragment); a capture in a host cannot be rebased. */
static void test_rebase_flow(void **state)
{
    (void)state;
    static const char yaml[] =
        "checks:\n"
        "  - name: f\n"
        "    type: flow\n"
        "    steps:\n"
        "      - {name: a, url: 'https://api.example.com/login', capture: {t: {header: T}}}\n"
        "      - {name: b, url: "
        "'https://api.example.com/o/${capture:t}?q=${capture:t}#${capture:t}'}\n"
        "  - name: g\n"
        "    type: flow\n"
        "    steps:\n"
        "      - {name: a, url: 'https://api.example.com/login', capture: {h: {header: H}}}\n"
        "      - {name: b, url: 'https://${capture:h}/x'}\n";
    struct buf err;
    buf_init(&err, 1u << 16);
    struct cfg *cfg = NULL;
    if (cfg_load_string(yaml, strlen(yaml), "u.yml", &cfg, &err) != OP_OK)
        fail_msg("%s", buf_str(&err));
    struct smoke_prefix p;
    const char *why;
    assert_int_equal(smoke_prefix_parse("http://127.0.0.1:4000/b", &p, &why), OP_OK);
    const struct check_spec *c = cfg_check(cfg, 0);
    assert_int_equal(smoke_rebase_check(c, &p, &why), OP_OK);
    const struct flow_spec *f = flow_spec_of(c);
    assert_string_equal(http_spec_of(&f->steps[0].http)->url, "http://127.0.0.1:4000/b/login");
    char *sample = cfg_capture_sample(http_spec_of(&f->steps[1].http)->url);
    assert_string_equal(sample, "http://127.0.0.1:4000/b/o/capture?q=capture#capture");
    free(sample);
    assert_true(flow_is_template(http_spec_of(&f->steps[1].http)->url));
    assert_int_equal(smoke_rebase_check(cfg_check(cfg, 1), &p, &why), OP_ERR_INVALID);
    assert_string_equal(why, "a capture in its url's host cannot be rebased");
    smoke_prefix_free(&p);
    cfg_free(cfg);
    buf_free(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prefix_parse),
        cmocka_unit_test(test_rebase_url),
        cmocka_unit_test(test_rebase_check),
        cmocka_unit_test(test_rebase_flow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
