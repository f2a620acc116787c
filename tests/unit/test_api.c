/*
 * test_api.c - the JSON of /api/v1/checks (api.c): exact bytes before the
 * first result and after results fed through the generation's sinks, the
 * time to the millisecond, escaping, unknown names and the size cap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "api.h"
#include "clock.h"
#include "gen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0_MS 1793534400000LL /* 2026-11-01T12:00:00Z */

static const char yaml[] = "global: {interval: 10s, timeout: 1s}\n"
                           "checks:\n"
                           "  - {name: a, group: shop, url: 'http://u:pw@127.0.0.1:1/a?k=v'}\n"
                           "  - {name: b, url: 'http://127.0.0.1:1/b', interval: 1500ms}\n"
                           "canaries:\n"
                           "  - name: web\n"
                           "    baseline_check: a\n"
                           "    canary: {url: 'http://127.0.0.1:1/new'}\n"
                           "    interval: 10s\n";

static struct gen *new_gen(const struct clock *clk)
{
    struct buf err;
    buf_init(&err, 1u << 16);
    struct cfg *c = NULL;
    if (cfg_load_string(yaml, strlen(yaml), "api.yml", &c, &err) != OP_OK)
        fail_msg("config: %s", buf_str(&err));
    buf_free(&err);
    return gen_new(c, NULL, NULL, clk);
}

/* One result of check `name` to its sinks, as the probe loop hands it. */
static void deliver(const struct gen *g, const char *name, const struct check_result *r,
                    int64_t wall_ms)
{
    long i = cfg_find_check(gen_cfg(g), name);
    assert_true(i >= 0);
    const struct sink *s;
    size_t n = gen_sinks(g, (size_t)i, &s);
    for (size_t k = 0; k < n; k++)
        s[k].deliver(&s[k], r, wall_ms);
}

static void expect_json(const struct gen *g, const char *name, const char *want)
{
    struct buf b;
    buf_init(&b, 1u << 20);
    assert_int_equal(api_checks_json(g, name, &b), OP_OK);
    if (strcmp(buf_str(&b), want) != 0)
        fail_msg("%s:\n got %s\nwant %s", name ? name : "(all)", buf_str(&b), want);
    buf_free(&b);
}

#define A_NONE                                                                                     \
    "{\"name\":\"a\",\"type\":\"http\",\"target\":\"http://127.0.0.1:1/a\",\"group\":\"shop\","    \
    "\"interval_seconds\":10,\"consecutive_failures\":0,\"last_result\":null}"
#define B_NONE                                                                                     \
    "{\"name\":\"b\",\"type\":\"http\",\"target\":\"http://127.0.0.1:1/b\",\"group\":\"\","        \
    "\"interval_seconds\":1.5,\"consecutive_failures\":0,\"last_result\":null}"
#define ARM_NONE                                                                                   \
    "{\"name\":\"web/canary\",\"type\":\"http\",\"target\":\"http://127.0.0.1:1/new\","            \
    "\"group\":\"\",\"interval_seconds\":10,\"consecutive_failures\":0,\"last_result\":null}"

static void test_before_any_result(void **state)
{
    (void)state;
    struct clock *clk = clock_fake_new(1000000000, T0_MS);
    struct gen *g = new_gen(clk);
    expect_json(g, NULL, "{\"checks\":[" A_NONE "," B_NONE "," ARM_NONE "]}");
    expect_json(g, "b", B_NONE);
    expect_json(g, "web/canary", ARM_NONE);
    gen_unref(g);
    clock_fake_free(clk);
}

static void test_last_results(void **state)
{
    (void)state;
    struct clock *clk = clock_fake_new(1000000000, T0_MS);
    struct gen *g = new_gen(clk);
    struct check_result r;
    memset(&r, 0, sizeof(r));
    r.success = false;
    r.reason = CHECK_REASON_JSON;
    r.duration = 0.25;
    r.status = 200;
    double phases[CHECK_PHASE_COUNT] = {0.001, 0.002, 0, 0.2, 0.047};
    memcpy(r.phases, phases, sizeof(phases));
    snprintf(r.detail, sizeof(r.detail), "json data.status: want \"ok\", got \"d\xc3\xa9gr\\\"");
    deliver(g, "a", &r, T0_MS + 250);
    deliver(g, "a", &r, T0_MS + 10250);
    memset(&r, 0, sizeof(r));
    r.success = true;
    r.reason = CHECK_REASON_NONE;
    r.duration = 0.0005;
    r.status = 204;
    deliver(g, "b", &r, T0_MS + 59999);
    expect_json(g, "a",
                "{\"name\":\"a\",\"type\":\"http\",\"target\":\"http://127.0.0.1:1/a\","
                "\"group\":\"shop\",\"interval_seconds\":10,\"consecutive_failures\":2,"
                "\"last_result\":{\"time\":\"2026-11-01T12:00:10.250Z\",\"success\":false,"
                "\"reason\":\"json\",\"detail\":\"json data.status: want \\\"ok\\\", got "
                "\\\"d\xc3\xa9gr\\\\\\\"\",\"duration_seconds\":0.25,\"phases\":{\"resolve\":0.001,"
                "\"connect\":0.002,\"tls\":0,\"processing\":0.2,\"transfer\":0.047},"
                "\"status\":200}}");
    expect_json(g, "b",
                "{\"name\":\"b\",\"type\":\"http\",\"target\":\"http://127.0.0.1:1/b\","
                "\"group\":\"\",\"interval_seconds\":1.5,\"consecutive_failures\":0,"
                "\"last_result\":{\"time\":\"2026-11-01T12:00:59.999Z\",\"success\":true,"
                "\"reason\":null,\"detail\":\"\",\"duration_seconds\":0.0005,\"phases\":{"
                "\"resolve\":0,\"connect\":0,\"tls\":0,\"processing\":0,\"transfer\":0},"
                "\"status\":204}}");
    gen_unref(g);
    clock_fake_free(clk);
}

static void test_time_rounding(void **state)
{
    (void)state;
    struct clock *clk = clock_fake_new(1000000000, T0_MS);
    struct gen *g = new_gen(clk);
    struct check_result r;
    memset(&r, 0, sizeof(r));
    r.success = true;
    /* The recorder keeps seconds as a double; the millisecond is rounded,
     * and a carry moves the second. */
    long i = cfg_find_check(gen_cfg(g), "b");
    rec_record(gen_rec(g, (size_t)i), &r, 1793534459.9996);
    struct buf b;
    buf_init(&b, 1u << 20);
    assert_int_equal(api_checks_json(g, "b", &b), OP_OK);
    assert_non_null(strstr(buf_str(&b), "\"time\":\"2026-11-01T12:01:00.000Z\""));
    buf_free(&b);
    gen_unref(g);
    clock_fake_free(clk);
}

static void test_not_found_and_cap(void **state)
{
    (void)state;
    struct clock *clk = clock_fake_new(1000000000, T0_MS);
    struct gen *g = new_gen(clk);
    struct buf b;
    buf_init(&b, 1u << 20);
    buf_adds(&b, "kept");
    /* Unknown names, a canary's own name, the empty name. */
    const char *const missing[] = {"nope", "web", "", "a/", "web/baseline"};
    for (size_t i = 0; i < ARRAY_SIZE(missing); i++) {
        assert_int_equal(api_checks_json(g, missing[i], &b), OP_ERR_NOT_FOUND);
        assert_string_equal(buf_str(&b), "kept");
    }
    buf_free(&b);
    /* Over the cap: failed and empty, never a cut document. */
    buf_init(&b, 200);
    assert_int_equal(api_checks_json(g, NULL, &b), OP_ERR_LIMIT);
    assert_true(b.failed);
    assert_int_equal(b.len, 0);
    buf_free(&b);
    gen_unref(g);
    clock_fake_free(clk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_before_any_result),
        cmocka_unit_test(test_last_results),
        cmocka_unit_test(test_time_rounding),
        cmocka_unit_test(test_not_found_and_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
