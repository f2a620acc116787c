/*
 * test_smoke_report.c - `outpost check`'s report (smoke_report.c): the
 * table, the JSON document and the JUnit XML of one made-up run, exactly,
 * with steps, a name and a detail that need escaping, and the summary
 * lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "buf.h"
#include "smoke_report.h"

#include <stdlib.h>
#include <string.h>

static void set_result(struct smoke_result *x, const char *name, const char *group, bool ok,
                       enum check_reason reason, int status, double duration, const char *detail)
{
    x->name = strdup(name);
    x->type = strdup("http");
    x->group = strdup(group);
    x->target = strdup("http://127.0.0.1:8080/x");
    x->success = ok;
    x->reason = ok ? CHECK_REASON_NONE : reason;
    x->status = status;
    x->duration = duration;
    x->attempts = 1;
    snprintf(x->detail, sizeof(x->detail), "%s", detail);
}

/* Three checks: one passes, one fails with a detail holding every XML
 * markup character, one (named with markup too) has two steps. */
static void make_report(struct smoke_report *r, bool prefix)
{
    memset(r, 0, sizeof(*r));
    r->n = 3;
    r->results = calloc(3, sizeof(*r->results));
    r->duration = 1.23456;
    r->started = 1767225600.0; /* 2026-01-01T00:00:00Z */
    r->url_prefix = prefix ? strdup("http://127.0.0.1:9/a&b") : NULL;
    set_result(&r->results[0], "homepage", "", true, CHECK_REASON_NONE, 200, 0.0123, "");
    set_result(&r->results[1], "orders-api", "payments", false, CHECK_REASON_JSON, 200, 0.5,
               "json a: want \"<&>'\", got \"x\"");
    set_result(&r->results[2], "log<in> & \"out\"", "", false, CHECK_REASON_HTTP_STATUS, 500, 2,
               "step checkout: status 500 not in [200-299]");
    struct smoke_result *x = &r->results[2];
    x->attempts = 3;
    x->n_steps = 2;
    x->steps = calloc(2, sizeof(*x->steps));
    x->steps[0] =
        (struct smoke_step){strdup("login"), true, CHECK_REASON_NONE, 0.25, 200, strdup(""), false};
    x->steps[1] = (struct smoke_step){strdup("checkout"),
                                      false,
                                      CHECK_REASON_HTTP_STATUS,
                                      1.75,
                                      500,
                                      strdup("status 500 not in [200-299]"),
                                      false};
}

static char *render(const struct smoke_report *r, enum smoke_format f)
{
    struct buf b;
    buf_init(&b, 1u << 20);
    smoke_report_render(r, f, &b);
    assert_false(b.failed);
    return buf_take(&b);
}

static void test_table(void **state)
{
    (void)state;
    struct smoke_report r;
    make_report(&r, false);
    char *t = render(&r, SMOKE_FMT_TABLE);
    assert_string_equal(
        t, "CHECK            RESULT  REASON       STATUS  DURATION  DETAIL\n"
           "homepage         pass    -            200     0.012s\n"
           "orders-api       fail    json         200     0.500s    json a: want \"<&>'\", "
           "got \"x\"\n"
           "log<in> & \"out\"  fail    http_status  500     2.000s    step checkout: status "
           "500 not in [200-299]\n"
           "  login          pass    -            200     0.250s\n"
           "  checkout       fail    http_status  500     1.750s    status 500 not in "
           "[200-299]\n"
           "\n"
           "3 checks: 1 passed, 2 failed in 1.235s\n");
    free(t);
    /* Columns count characters, not bytes. */
    free(r.results[0].name);
    r.results[0].name = strdup("\xc3\xa9t\xc3\xa9-\xc3\xa9t\xc3\xa9-\xc3\xa9t\xc3\xa9-long");
    t = render(&r, SMOKE_FMT_TABLE);
    assert_non_null(strstr(t, "\n\xc3\xa9t\xc3\xa9-\xc3\xa9t\xc3\xa9-\xc3\xa9t\xc3\xa9-long"
                              "  pass "));
    assert_non_null(strstr(t, "CHECK             RESULT"));
    free(t);
    smoke_report_free(&r);
    assert_null(r.results);
}

static void test_json(void **state)
{
    (void)state;
    struct smoke_report r;
    make_report(&r, true);
    char *t = render(&r, SMOKE_FMT_JSON);
    assert_string_equal(
        t, "{\"result\":\"fail\",\"checks_total\":3,\"passed\":1,\"failed\":2,"
           "\"duration_seconds\":1.23456,\"url_prefix\":\"http://127.0.0.1:9/a&b\",\"checks\":[\n"
           "{\"name\":\"homepage\",\"type\":\"http\",\"group\":\"\","
           "\"target\":\"http://127.0.0.1:8080/x\",\"result\":\"pass\",\"reason\":null,"
           "\"status\":200,\"duration_seconds\":0.0123,\"detail\":\"\",\"attempts\":1,"
           "\"steps\":[]},\n"
           "{\"name\":\"orders-api\",\"type\":\"http\",\"group\":\"payments\","
           "\"target\":\"http://127.0.0.1:8080/x\",\"result\":\"fail\",\"reason\":\"json\","
           "\"status\":200,\"duration_seconds\":0.5,\"detail\":\"json a: want \\\"<&>'\\\", got "
           "\\\"x\\\"\",\"attempts\":1,\"steps\":[]},\n"
           "{\"name\":\"log<in> & \\\"out\\\"\",\"type\":\"http\",\"group\":\"\","
           "\"target\":\"http://127.0.0.1:8080/x\",\"result\":\"fail\",\"reason\":\"http_status\","
           "\"status\":500,\"duration_seconds\":2,\"detail\":\"step checkout: status 500 not in "
           "[200-299]\",\"attempts\":3,\"steps\":["
           "{\"name\":\"login\",\"result\":\"pass\",\"reason\":null,\"status\":200,"
           "\"duration_seconds\":0.25,\"detail\":\"\"},"
           "{\"name\":\"checkout\",\"result\":\"fail\",\"reason\":\"http_status\",\"status\":500,"
           "\"duration_seconds\":1.75,\"detail\":\"status 500 not in [200-299]\"}]}\n"
           "]}\n");
    free(t);
    /* Steps beyond the cap are counted. */
    r.results[2].steps_dropped = 7;
    t = render(&r, SMOKE_FMT_JSON);
    assert_non_null(strstr(t, "[200-299]\"}],\"steps_dropped\":7}\n]}\n"));
    free(t);
    smoke_report_free(&r);
}

static void test_junit(void **state)
{
    (void)state;
    struct smoke_report r;
    make_report(&r, true);
    char *t = render(&r, SMOKE_FMT_JUNIT);
    assert_string_equal(
        t, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
           "<testsuites name=\"outpost check\" tests=\"3\" failures=\"2\" errors=\"0\" "
           "time=\"1.235\">\n"
           "  <testsuite name=\"outpost check\" tests=\"3\" failures=\"2\" errors=\"0\" "
           "skipped=\"0\" time=\"1.235\" timestamp=\"2026-01-01T00:00:00\">\n"
           "    <properties>\n"
           "      <property name=\"url_prefix\" value=\"http://127.0.0.1:9/a&amp;b\"/>\n"
           "    </properties>\n"
           "    <testcase name=\"homepage\" classname=\"http\" time=\"0.012\">\n"
           "      <system-out>target: http://127.0.0.1:8080/x\n"
           "status: 200\n"
           "attempts: 1\n"
           "</system-out>\n"
           "    </testcase>\n"
           "    <testcase name=\"orders-api\" classname=\"payments\" time=\"0.500\">\n"
           "      <failure message=\"json a: want &quot;&lt;&amp;&gt;&apos;&quot;, got "
           "&quot;x&quot;\" type=\"json\">json: json a: want &quot;&lt;&amp;&gt;&apos;&quot;, "
           "got &quot;x&quot;</failure>\n"
           "      <system-out>target: http://127.0.0.1:8080/x\n"
           "status: 200\n"
           "attempts: 1\n"
           "detail: json a: want &quot;&lt;&amp;&gt;&apos;&quot;, got &quot;x&quot;\n"
           "</system-out>\n"
           "    </testcase>\n"
           "    <testcase name=\"log&lt;in&gt; &amp; &quot;out&quot;\" classname=\"http\" "
           "time=\"2.000\">\n"
           "      <failure message=\"step checkout: status 500 not in [200-299]\" "
           "type=\"http_status\">http_status: step checkout: status 500 not in "
           "[200-299]</failure>\n"
           "      <system-out>target: http://127.0.0.1:8080/x\n"
           "status: 500\n"
           "attempts: 3\n"
           "detail: step checkout: status 500 not in [200-299]\n"
           "steps:\n"
           "  pass login status 200 0.250s\n"
           "  fail checkout http_status status 500 1.750s: status 500 not in [200-299]\n"
           "</system-out>\n"
           "    </testcase>\n"
           "  </testsuite>\n"
           "</testsuites>\n");
    free(t);
    smoke_report_free(&r);
}

/* A step that did not run is "skipped" in every format: no reason, status
 * or duration of its own, only why it did not run. */
static void test_skipped_step(void **state)
{
    (void)state;
    struct smoke_report r;
    make_report(&r, false);
    struct smoke_result *x = &r.results[2];
    x->steps = realloc(x->steps, 3 * sizeof(*x->steps));
    x->n_steps = 3;
    x->steps[2] = (struct smoke_step){.name = strdup("pay"),
                                      .reason = CHECK_REASON_NONE,
                                      .detail = strdup("not run: step checkout failed"),
                                      .skipped = true};
    char *t = render(&r, SMOKE_FMT_TABLE);
    assert_string_equal(
        t, "CHECK            RESULT   REASON       STATUS  DURATION  DETAIL\n"
           "homepage         pass     -            200     0.012s\n"
           "orders-api       fail     json         200     0.500s    json a: want \"<&>'\", "
           "got \"x\"\n"
           "log<in> & \"out\"  fail     http_status  500     2.000s    step checkout: status "
           "500 not in [200-299]\n"
           "  login          pass     -            200     0.250s\n"
           "  checkout       fail     http_status  500     1.750s    status 500 not in "
           "[200-299]\n"
           "  pay            skipped  -            -       -         not run: step checkout "
           "failed\n"
           "\n"
           "3 checks: 1 passed, 2 failed in 1.235s\n");
    free(t);
    t = render(&r, SMOKE_FMT_JSON);
    assert_non_null(strstr(t, ",{\"name\":\"pay\",\"result\":\"skipped\",\"reason\":null,"
                              "\"status\":0,\"duration_seconds\":0,\"detail\":\"not run: step "
                              "checkout failed\"}]}"));
    free(t);
    t = render(&r, SMOKE_FMT_JUNIT);
    assert_non_null(strstr(t, "  fail checkout http_status status 500 1.750s: status 500 not in "
                              "[200-299]\n"
                              "  skipped pay: not run: step checkout failed\n"
                              "</system-out>\n"));
    free(t);
    smoke_report_free(&r);
}

static void test_xml_escape(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        bool attr;
        const char *want;
    } cases[] = {
        {"a<b>&\"c\"'d'", false, "a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;"},
        {"l1\nl2\tx\r", false, "l1\nl2\tx\r"},
        {"l1\nl2\tx\r", true, "l1&#10;l2&#9;x&#13;"},
        /* Characters XML 1.0 cannot hold become U+FFFD. */
        {"a\x01"
         "b\x7f"
         "c",
         false,
         "a\xef\xbf\xbd"
         "b\xef\xbf\xbd"
         "c"},
        {"x\xef\xbf\xbfy\xef\xbf\xbez", true, "x\xef\xbf\xbdy\xef\xbf\xbdz"},
        {"caf\xc3\xa9 \xe2\x9c\x93", true, "caf\xc3\xa9 \xe2\x9c\x93"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct buf b;
        buf_init(&b, 1024);
        smoke_xml_escape(&b, cases[i].in, cases[i].attr);
        assert_string_equal(buf_str(&b), cases[i].want);
        buf_free(&b);
    }
}

static void test_summary_and_brief(void **state)
{
    (void)state;
    struct smoke_report r;
    make_report(&r, false);
    struct buf b;
    buf_init(&b, 4096);
    smoke_report_brief(&r, &b);
    assert_string_equal(buf_str(&b),
                        "FAIL orders-api [json] json a: want \"<&>'\", got \"x\"\n"
                        "FAIL log<in> & \"out\" [http_status] step checkout: status 500 not in "
                        "[200-299]\n"
                        "3 checks: 1 passed, 2 failed in 1.235s\n");
    assert_int_equal(smoke_report_failed(&r), 2);
    smoke_report_free(&r);
    /* One check, passed: singular, no FAIL line. */
    r.n = 1;
    r.results = calloc(1, sizeof(*r.results));
    set_result(&r.results[0], "a", "", true, CHECK_REASON_NONE, 204, 0.001, "");
    buf_reset(&b);
    smoke_report_brief(&r, &b);
    assert_string_equal(buf_str(&b), "1 check: 1 passed, 0 failed in 0.000s\n");
    buf_free(&b);
    smoke_report_free(&r);
}

static void test_parse_format(void **state)
{
    (void)state;
    enum smoke_format f;
    assert_int_equal(smoke_parse_format("table", &f), OP_OK);
    assert_int_equal(f, SMOKE_FMT_TABLE);
    assert_int_equal(smoke_parse_format("json", &f), OP_OK);
    assert_int_equal(f, SMOKE_FMT_JSON);
    assert_int_equal(smoke_parse_format("junit", &f), OP_OK);
    assert_int_equal(f, SMOKE_FMT_JUNIT);
    assert_int_equal(smoke_parse_format("xml", &f), OP_ERR_INVALID);
    assert_int_equal(smoke_parse_format("JSON", &f), OP_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),        cmocka_unit_test(test_json),
        cmocka_unit_test(test_junit),        cmocka_unit_test(test_skipped_step),
        cmocka_unit_test(test_xml_escape),   cmocka_unit_test(test_summary_and_brief),
        cmocka_unit_test(test_parse_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
