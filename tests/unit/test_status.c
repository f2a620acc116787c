/*
 * test_status.c - the status model (status.c, status_parts.c): the query's
 * parsing, and the tree of a generation fed scripted results on a fake
 * clock, with an alert firing and a maintenance window active. Exact
 * values throughout: the checks' objects as JSON text, quantiles worked
 * out by hand, counts, groups, paging and the errors of bad queries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "alerts.h"
#include "canary_state.h"
#include "clock.h"
#include "gen.h"
#include "maint.h"
#include "slo_state.h"
#include "status.h"
#include "test_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 2026-11-01T12:00:00Z, a multiple of 30 s: a trend slot starts here. */
#define T0_MS 1793534400000LL
#define NOW_MS (T0_MS + 45000)

static const char yaml[] =
    "global: {interval: 10s, timeout: 1s}\n"
    "checks:\n"
    "  - {name: a, group: shop, url: 'http://u:pw@127.0.0.1:1/a?k=v'}\n"
    "  - {name: b, group: shop, url: 'http://127.0.0.1:1/b'}\n"
    "  - {name: c, url: 'https://127.0.0.1:1/c', interval: 30s}\n"
    "  - {name: '<script>alert(1)</script>', group: 'x\"y', url: 'http://127.0.0.1:1/s'}\n"
    "slos:\n"
    "  - {name: shop, objective: 99, period: 30d, sli: {checks: [a]}}\n"
    "  - {name: cslo, objective: 99.9, period: 7d, sli: {checks: [c]}}\n"
    "canaries:\n"
    "  - name: web\n"
    "    baseline: {url: 'http://127.0.0.1:1/ok'}\n"
    "    canary: {url: 'http://127.0.0.1:1/new'}\n"
    "    interval: 10s\n"
    "alerting:\n"
    "  external_labels: {env: prod}\n"
    "maintenance:\n"
    "  - name: deploy\n"
    "    schedule: {start: '2026-11-01T11:30:00Z', duration: 1h}\n"
    "    checks: [c]\n"
    "  - name: later\n"
    "    schedule: {start: '2026-11-02T00:00:00Z', duration: 1h}\n";

struct fixture {
    struct clock *clk;
    struct gen *g;
    struct alerts *alerts;
    struct maint *maint;
};

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

static struct check_result result(bool ok, double duration, int status)
{
    struct check_result r;
    memset(&r, 0, sizeof(r));
    r.success = ok;
    r.reason = ok ? CHECK_REASON_NONE : CHECK_REASON_HTTP_STATUS;
    r.duration = duration;
    r.status = status;
    for (size_t i = 0; i < CHECK_GAUGE_MAX; i++)
        r.gauges[i] = NAN;
    if (!ok)
        snprintf(r.detail, sizeof(r.detail), "status %d not in [200-299]", status);
    return r;
}

static int setup(void **state)
{
    if (tu_tmpdir_setup(state) != 0)
        return -1;
    struct fixture *f = xcalloc(1, sizeof(*f));
    f->clk = clock_fake_new(1000000000, T0_MS);
    struct buf err;
    buf_init(&err, 1u << 16);
    struct cfg *c = NULL;
    if (cfg_load_string(yaml, strlen(yaml), "status.yml", &c, &err) != OP_OK)
        fail_msg("config: %s", buf_str(&err));
    buf_free(&err);
    f->g = gen_new(c, NULL, NULL, f->clk);
    f->alerts = alerts_new(f->clk);
    alerts_configure(f->alerts, cfg_alerting(gen_cfg(f->g)));
    f->maint = maint_new(&(struct maint_options){.clock = f->clk, .storage_path = tu_tmpdir()});
    maint_use_gen(f->maint, f->g);

    /* a: good at T0 + 1 s (slot T0), failed at T0 + 31 s (slot T0 + 30). */
    struct check_result r = result(true, 0.05, 200);
    deliver(f->g, "a", &r, T0_MS + 1000);
    r = result(false, 0.3, 500);
    deliver(f->g, "a", &r, T0_MS + 31000);
    /* c: good, its certificate expiring in 10 days from now. */
    r = result(true, 0.012, 204);
    r.cert_expiry = (double)NOW_MS / 1000.0 + 10 * 86400;
    deliver(f->g, "c", &r, T0_MS + 40000);
    r = result(true, 2.0, 200);
    deliver(f->g, "<script>alert(1)</script>", &r, T0_MS + 2000);
    /* The canary's arms: three good baselines, three failed canaries. */
    for (int i = 0; i < 3; i++) {
        r = result(true, 0.01 * (i + 1), 200);
        deliver(f->g, "web/baseline", &r, T0_MS + 10000 * i);
        r = result(false, 0.02, 500);
        deliver(f->g, "web/canary", &r, T0_MS + 10000 * i);
    }
    alerts_begin(f->alerts);
    alerts_fire(f->alerts, "OutpostCheckDown", "critical", "check", "a", "s", "d");
    alerts_end(f->alerts, (double)(T0_MS + 40000) / 1000.0);
    clock_fake_advance(f->clk, 45000000000LL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    maint_free(f->maint);
    alerts_free(f->alerts);
    gen_unref(f->g);
    clock_fake_free(f->clk);
    free(f);
    return tu_tmpdir_teardown(state);
}

static json_t *build(struct fixture *f, const struct status_query *q)
{
    struct status_source src = {.gen = f->g,
                                .alerts = f->alerts,
                                .maint = f->maint,
                                .now_ms = clock_wall_ms(f->clk),
                                .facts = {.started_at = (double)T0_MS / 1000.0 - 3600.5,
                                          .shard = {1, 4},
                                          .reload_ok = false,
                                          .reload_success_ts = (double)T0_MS / 1000.0 - 60}};
    json_t *doc = NULL;
    char *why = NULL;
    assert_int_equal(status_build(&src, q, &doc, &why), OP_OK);
    assert_null(why);
    return doc;
}

/* o (borrowed) as the API writes it: keys in the schema's order. */
static void expect_json(const json_t *o, const char *want, const char *what)
{
    struct buf b;
    buf_init(&b, 1u << 20);
    assert_int_equal(status_dump(o, &b), OP_OK);
    if (strcmp(buf_str(&b), want) != 0)
        fail_msg("%s:\n got %s\nwant %s", what, buf_str(&b), want);
    buf_free(&b);
}

static json_t *find(json_t *arr, const char *name)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        const char *n = json_string_value(json_object_get(v, "name"));
        if (n && strcmp(n, name) == 0)
            return v;
    }
    fail_msg("no %s", name);
    return NULL;
}

static const struct status_query all = {NULL, NULL, 1, 500};

static void test_query_parse(void **state)
{
    (void)state;
    struct status_query q;
    char *why = NULL;
    assert_int_equal(status_query_parse(NULL, NULL, NULL, NULL, &q, &why), OP_OK);
    assert_null(why);
    assert_null(q.group);
    assert_null(q.state);
    assert_int_equal(q.page, 1);
    assert_int_equal(q.per_page, 500);
    assert_int_equal(status_query_parse("", "down", "7", "1000", &q, &why), OP_OK);
    assert_string_equal(q.group, "");
    assert_string_equal(q.state, "down");
    assert_int_equal(q.page, 7);
    assert_int_equal(q.per_page, 1000);
    static const struct {
        const char *state, *page, *per_page, *why;
    } bad[] = {
        {NULL, "0", NULL, "page must be a whole number from 1"},
        {NULL, "", NULL, "page must be a whole number from 1"},
        {NULL, "-1", NULL, "page must be a whole number from 1"},
        {NULL, " 1", NULL, "page must be a whole number from 1"},
        {NULL, "1e3", NULL, "page must be a whole number from 1"},
        {NULL, "99999999999999999999999", NULL, "page must be a whole number from 1"},
        {NULL, NULL, "0", "per_page must be a whole number from 1 to 1000"},
        {NULL, NULL, "1001", "per_page must be a whole number from 1 to 1000"},
        {NULL, NULL, "ten", "per_page must be a whole number from 1 to 1000"},
        {"Down", NULL, NULL, "state must be up, down or pending"},
        {"", NULL, NULL, "state must be up, down or pending"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        assert_int_equal(
            status_query_parse(NULL, bad[i].state, bad[i].page, bad[i].per_page, &q, &why),
            OP_ERR_INVALID);
        assert_string_equal(why, bad[i].why);
        free(why);
        why = NULL;
    }
}

static void test_checks(void **state)
{
    struct fixture *f = *state;
    json_t *doc = build(f, &all);
    json_t *checks = json_object_get(doc, "checks");
    assert_int_equal(json_array_size(checks), 6);
    json_t *a = find(checks, "a");
    /* p50: rank 1 of 2 tops the (0.025, 0.05] bucket; p95: rank 1.9 is
     * 0.9 into (0.25, 0.5]. */
    expect_json(json_object_get(a, "latency"),
                "{\"window_seconds\":600,\"runs\":2,\"failures\":1,\"p50_seconds\":0.05,"
                "\"p95_seconds\":0.475}",
                "a latency");
    json_t *trend = json_object_get(a, "trend");
    assert_int_equal(json_integer_value(json_object_get(trend, "step_seconds")), 30);
    /* Columns of 20 slots, oldest first: the two runs sit in the last two. */
    json_t *ts = json_object_get(trend, "t");
    assert_int_equal(json_array_size(ts), 20);
    assert_int_equal(json_integer_value(json_array_get(ts, 0)), 1793533860);
    assert_int_equal(json_integer_value(json_array_get(ts, 18)), 1793534400);
    assert_int_equal(json_integer_value(json_array_get(ts, 19)), 1793534430);
    expect_json(json_object_get(trend, "runs"), "[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1,1]",
                "runs");
    expect_json(json_object_get(trend, "failures"), "[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1]",
                "failures");
    expect_json(json_object_get(trend, "mean_seconds"),
                "[null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,"
                "null,null,null,0.05,0.3]",
                "mean");
    json_object_del(a, "latency");
    json_object_del(a, "trend");
    expect_json(
        a,
        "{\"name\":\"a\",\"type\":\"http\",\"group\":\"shop\","
        "\"target\":\"http://127.0.0.1:1/a\",\"interval_seconds\":10,\"state\":\"down\","
        "\"in_maintenance\":false,\"last_run\":\"2026-11-01T12:00:31Z\","
        "\"last_duration_seconds\":0.3,\"reason\":\"http_status\","
        "\"detail\":\"status 500 not in [200-299]\",\"status_code\":500,"
        "\"consecutive_failures\":1,\"last_success\":\"2026-11-01T12:00:01Z\","
        "\"since_success_seconds\":44,\"cert_expiry\":null,\"cert_expires_in_seconds\":null,"
        "\"cert_expiry_soon\":false}",
        "a");
    json_t *b = find(checks, "b");
    expect_json(json_object_get(b, "latency"),
                "{\"window_seconds\":600,\"runs\":0,\"failures\":0,\"p50_seconds\":null,"
                "\"p95_seconds\":null}",
                "b latency");
    json_object_del(b, "latency");
    json_object_del(b, "trend");
    expect_json(b,
                "{\"name\":\"b\",\"type\":\"http\",\"group\":\"shop\","
                "\"target\":\"http://127.0.0.1:1/b\",\"interval_seconds\":10,\"state\":\"pending\","
                "\"in_maintenance\":false,\"last_run\":null,\"last_duration_seconds\":null,"
                "\"reason\":null,\"detail\":\"\",\"status_code\":null,\"consecutive_failures\":0,"
                "\"last_success\":null,\"since_success_seconds\":null,\"cert_expiry\":null,"
                "\"cert_expires_in_seconds\":null,\"cert_expiry_soon\":false}",
                "b");
    /* c: up, covered by the active window, its certificate within the
     * default 14-day warning. */
    json_t *c = find(checks, "c");
    json_object_del(c, "latency");
    json_object_del(c, "trend");
    expect_json(
        c,
        "{\"name\":\"c\",\"type\":\"http\",\"group\":\"\","
        "\"target\":\"https://127.0.0.1:1/c\",\"interval_seconds\":30,\"state\":\"up\","
        "\"in_maintenance\":true,\"last_run\":\"2026-11-01T12:00:40Z\","
        "\"last_duration_seconds\":0.012,\"reason\":null,\"detail\":\"\",\"status_code\":204,"
        "\"consecutive_failures\":0,\"last_success\":\"2026-11-01T12:00:40Z\","
        "\"since_success_seconds\":5,\"cert_expiry\":\"2026-11-11T12:00:45Z\","
        "\"cert_expires_in_seconds\":864000,\"cert_expiry_soon\":true}",
        "c");
    /* Names are data: the JSON escapes only what JSON must. */
    json_t *s = find(checks, "<script>alert(1)</script>");
    assert_string_equal(json_string_value(json_object_get(s, "group")), "x\"y");
    struct buf text;
    buf_init(&text, 1u << 20);
    assert_int_equal(status_dump(s, &text), OP_OK);
    assert_non_null(strstr(buf_str(&text), "{\"name\":\"<script>alert(1)</script>\","));
    assert_non_null(strstr(buf_str(&text), ",\"group\":\"x\\\"y\","));
    buf_free(&text);
    /* Config order, inline canary arms last. */
    const char *order[] = {"a",         "b", "c", "<script>alert(1)</script>", "web/baseline",
                           "web/canary"};
    for (size_t i = 0; i < ARRAY_SIZE(order); i++)
        assert_string_equal(json_string_value(json_object_get(json_array_get(checks, i), "name")),
                            order[i]);
    json_decref(doc);
}

static void test_summary_groups_agent(void **state)
{
    struct fixture *f = *state;
    json_t *doc = build(f, &all);
    assert_string_equal(json_string_value(json_object_get(doc, "generated_at")),
                        "2026-11-01T12:00:45Z");
    expect_json(json_object_get(doc, "agent"),
                "{\"version\":\"" OUTPOST_VERSION "\",\"revision\":\"" OUTPOST_REVISION
                "\",\"started_at\":\"2026-11-01T10:59:59Z\",\"shard\":\"1/4\","
                "\"config_reload_successful\":false,\"config_loaded_at\":\"2026-11-01T11:59:00Z\"}",
                "agent");
    expect_json(json_object_get(doc, "summary"),
                "{\"checks\":{\"total\":6,\"up\":3,\"down\":2,\"pending\":1},\"slos\":{\"total\":2,"
                "\"paging\":0,\"ticketing\":0,\"frozen\":0},\"canaries\":{\"total\":1,\"pass\":0,"
                "\"fail\":0,\"inconclusive\":1},\"alerts\":1,\"maintenance\":1}",
                "summary");
    /* Order of first appearance. */
    expect_json(
        json_object_get(doc, "groups"),
        "[{\"name\":\"shop\",\"checks\":2,\"up\":0,\"down\":1,\"pending\":1},{\"name\":\"\","
        "\"checks\":3,\"up\":2,\"down\":1,\"pending\":0},{\"name\":\"x\\\"y\",\"checks\":1,"
        "\"up\":1,\"down\":0,\"pending\":0}]",
        "groups");
    expect_json(
        json_object_get(doc, "alerts"),
        "[{\"alertname\":\"OutpostCheckDown\",\"severity\":\"critical\","
        "\"labels\":{\"check\":\"a\",\"env\":\"prod\"},\"since\":\"2026-11-01T12:00:40Z\"}]",
        "alerts");
    expect_json(json_object_get(doc, "maintenance"),
                "[{\"name\":\"deploy\",\"start\":\"2026-11-01T11:30:00Z\","
                "\"end\":\"2026-11-01T12:30:00Z\",\"checks\":[\"c\"],\"slos\":[],\"all\":false}]",
                "maintenance");
    expect_json(json_object_get(doc, "page"),
                "{\"group\":null,\"state\":null,\"page\":1,\"per_page\":500,\"checks_matched\":6,"
                "\"pages\":1}",
                "page");
    /* The schema's keys, in the schema's order. */
    const char *keys[] = {"generated_at", "agent",    "summary", "groups",      "checks",
                          "slos",         "canaries", "alerts",  "maintenance", "page"};
    size_t k = 0;
    const char *key;
    json_t *v;
    json_object_foreach(doc, key, v)
    {
        assert_true(k < ARRAY_SIZE(keys));
        assert_string_equal(key, keys[k++]);
    }
    assert_int_equal(k, ARRAY_SIZE(keys));
    json_decref(doc);
}

static void test_slos_canaries(void **state)
{
    struct fixture *f = *state;
    json_t *doc = build(f, &all);
    json_t *slo = find(json_object_get(doc, "slos"), "shop");
    /* The same figures the metrics page computes at this moment. */
    struct slo_figures fig;
    slost_figures(gen_slo(f->g, 0), cfg_slo(gen_cfg(f->g), 0), NOW_MS, &fig, NULL, NULL);
    assert_true(json_real_value(json_object_get(slo, "budget_remaining")) == fig.budget_remaining);
    /* One bad event of a 30-day budget of 1 % of 259,200 expected. */
    assert_true(fabs(fig.budget_remaining - (1 - 1 / 2592.0)) < 1e-12);
    assert_true(json_number_value(json_object_get(slo, "exhaustion_seconds")) == fig.exhaustion_s);
    json_t *bd = json_object_get(slo, "burndown");
    json_t *ts = json_object_get(bd, "t"), *left = json_object_get(bd, "budget_remaining");
    assert_int_equal(json_array_size(ts), 60);
    assert_int_equal(json_array_size(left), 60);
    /* 720 hourly buckets, a point each 12 hours; the bad event is in the
     * last hour, so only the last point (now) shows it. */
    for (size_t i = 0; i < 59; i++) {
        assert_int_equal(json_integer_value(json_array_get(ts, i)),
                         (T0_MS + 3600000 - 30LL * 86400000 + (int64_t)(i + 1) * 43200000) / 1000);
        assert_int_equal(json_integer_value(json_array_get(left, i)), 1);
    }
    assert_true(json_number_value(json_array_get(ts, 59)) == (double)NOW_MS / 1000.0);
    assert_true(json_number_value(json_array_get(left, 59)) == fig.budget_remaining);
    json_object_del(slo, "burndown");
    json_object_del(slo, "budget_remaining");
    json_object_del(slo, "exhaustion_seconds");
    expect_json(slo,
                "{\"name\":\"shop\",\"sli\":\"availability\",\"objective\":0.99,\"period\":\"30d\","
                "\"period_seconds\":2592000,\"sli_ratio\":0.5,\"windows\":[{\"window\":\"5m\","
                "\"sli_ratio\":0.5,\"burn_rate\":50,\"events\":2},{\"window\":\"30m\","
                "\"sli_ratio\":0.5,\"burn_rate\":50,\"events\":2},{\"window\":\"1h\","
                "\"sli_ratio\":0.5,\"burn_rate\":50,\"events\":2},{\"window\":\"2h\","
                "\"sli_ratio\":0.5,\"burn_rate\":50,\"events\":2},{\"window\":\"6h\","
                "\"sli_ratio\":0.5,\"burn_rate\":50,\"events\":2},{\"window\":\"1d\","
                "\"sli_ratio\":0.5,\"burn_rate\":50,\"events\":2},{\"window\":\"3d\","
                "\"sli_ratio\":0.5,\"burn_rate\":50,\"events\":2}],\"alerts\":{\"page\":false,"
                "\"ticket\":false},\"freeze\":false,\"in_maintenance\":false}",
                "slo shop");
    /* cslo counts c only, which the window covers: held. The window
     * excludes c's results from it, so it has seen no event. */
    json_t *cslo = find(json_object_get(doc, "slos"), "cslo");
    assert_true(json_is_true(json_object_get(cslo, "in_maintenance")));
    assert_true(json_is_null(json_object_get(cslo, "sli_ratio")));
    assert_int_equal(json_integer_value(json_object_get(cslo, "budget_remaining")), 1);
    assert_true(json_is_null(json_object_get(cslo, "exhaustion_seconds")));

    json_t *web = find(json_object_get(doc, "canaries"), "web");
    struct canary_verdict v;
    canst_verdict(gen_canary(f->g, 0), cfg_canary(gen_cfg(f->g), 0), NOW_MS, &v);
    assert_string_equal(json_string_value(json_object_get(web, "reason")), v.reason);
    json_object_del(web, "reason");
    json_object_del(web, "error_p_value");
    /* Baseline p95 of 0.01, 0.02, 0.03: 0.029. */
    json_t *bp95 =
        json_object_get(json_object_get(json_object_get(web, "arms"), "baseline"), "p95_seconds");
    assert_true(fabs(json_real_value(bp95) - 0.029) < 1e-12);
    json_object_del(json_object_get(json_object_get(web, "arms"), "baseline"), "p95_seconds");
    expect_json(
        web,
        "{\"name\":\"web\",\"verdict\":\"inconclusive\",\"score\":null,"
        "\"arms\":{\"baseline\":{\"samples\":3,\"error_ratio\":0},\"canary\":{\"samples\":3,"
        "\"error_ratio\":1,\"p95_seconds\":null}},"
        "\"latency_shift\":{\"estimate_seconds\":null,\"lower_seconds\":null,"
        "\"upper_seconds\":null}}",
        "canary web");
    json_decref(doc);
}

/* The names on a page of the model for q. */
static void expect_page(struct fixture *f, const struct status_query *q, const char *names,
                        size_t matched, size_t pages)
{
    json_t *doc = build(f, q);
    char got[512] = "";
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(doc, "checks"), i, c)
    {
        if (i)
            strncat(got, ",", sizeof(got) - strlen(got) - 1);
        strncat(got, json_string_value(json_object_get(c, "name")), sizeof(got) - strlen(got) - 1);
    }
    assert_string_equal(got, names);
    json_t *p = json_object_get(doc, "page");
    assert_int_equal(json_integer_value(json_object_get(p, "checks_matched")), matched);
    assert_int_equal(json_integer_value(json_object_get(p, "pages")), pages);
    assert_int_equal(json_integer_value(json_object_get(p, "page")), q->page);
    /* Counts are over every check whatever the page. */
    json_t *sum = json_object_get(json_object_get(doc, "summary"), "checks");
    assert_int_equal(json_integer_value(json_object_get(sum, "total")), 6);
    assert_int_equal(json_array_size(json_object_get(doc, "groups")), 3);
    json_decref(doc);
}

static void test_pages_and_filters(void **state)
{
    struct fixture *f = *state;
    expect_page(f, &(struct status_query){NULL, NULL, 1, 4}, "a,b,c,<script>alert(1)</script>", 6,
                2);
    expect_page(f, &(struct status_query){NULL, NULL, 2, 4}, "web/baseline,web/canary", 6, 2);
    expect_page(f, &(struct status_query){NULL, NULL, 3, 4}, "", 6, 2);
    expect_page(f, &(struct status_query){NULL, "down", 1, 500}, "a,web/canary", 2, 1);
    expect_page(f, &(struct status_query){NULL, "pending", 1, 500}, "b", 1, 1);
    expect_page(f, &(struct status_query){NULL, "up", 2, 1}, "<script>alert(1)</script>", 3, 3);
    expect_page(f, &(struct status_query){"shop", NULL, 1, 500}, "a,b", 2, 1);
    expect_page(f, &(struct status_query){"shop", "up", 1, 500}, "", 0, 1);
    expect_page(f, &(struct status_query){"", "down", 1, 500}, "web/canary", 1, 1);
    expect_page(f, &(struct status_query){"x\"y", NULL, 1, 1}, "<script>alert(1)</script>", 1, 1);

    struct status_source src = {.gen = f->g, .now_ms = NOW_MS};
    static const struct {
        struct status_query q;
        enum op_rc rc;
        const char *why;
    } bad[] = {
        {{"nope", NULL, 1, 10}, OP_ERR_NOT_FOUND, "unknown group"},
        {{"Shop", NULL, 1, 10}, OP_ERR_NOT_FOUND, "unknown group"},
        {{NULL, NULL, 0, 10}, OP_ERR_INVALID, "page must be a whole number from 1"},
        {{NULL, NULL, 1, 0}, OP_ERR_INVALID, "per_page must be a whole number from 1 to 1000"},
        {{NULL, NULL, 1, 1001}, OP_ERR_INVALID, "per_page must be a whole number from 1 to 1000"},
        {{NULL, "failing", 1, 10}, OP_ERR_INVALID, "state must be up, down or pending"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        json_t *doc = (json_t *)1;
        char *why = NULL;
        assert_int_equal(status_build(&src, &bad[i].q, &doc, &why), bad[i].rc);
        assert_null(doc);
        assert_string_equal(why, bad[i].why);
        free(why);
    }
    /* Without alerts and windows: none, and nothing in maintenance. */
    json_t *doc = NULL;
    char *why = NULL;
    assert_int_equal(status_build(&src, &all, &doc, &why), OP_OK);
    assert_int_equal(json_array_size(json_object_get(doc, "alerts")), 0);
    assert_int_equal(json_array_size(json_object_get(doc, "maintenance")), 0);
    assert_true(json_is_false(
        json_object_get(find(json_object_get(doc, "checks"), "c"), "in_maintenance")));
    json_decref(doc);
}

static void test_alert_list(void **state)
{
    struct fixture *f = *state;
    /* Stated and committed: listed; resolved by the next evaluation: gone. */
    struct alerts_item *items;
    assert_int_equal(alerts_firing_list(f->alerts, &items), 1);
    assert_string_equal(items[0].alertname, "OutpostCheckDown");
    assert_int_equal(items[0].n_labels, 2);
    assert_string_equal(items[0].labels[2], "env");
    alerts_items_free(items, 1);
    alerts_begin(f->alerts);
    alerts_fire(f->alerts, "OutpostSLOBudgetBurn", "warning", "slo", "shop", "s", "d");
    /* Not committed yet: only the old one counts. */
    assert_int_equal(alerts_firing_list(f->alerts, &items), 1);
    assert_string_equal(items[0].alertname, "OutpostCheckDown");
    alerts_items_free(items, 1);
    alerts_end(f->alerts, (double)NOW_MS / 1000.0);
    assert_int_equal(alerts_firing_list(f->alerts, &items), 1);
    assert_string_equal(items[0].alertname, "OutpostSLOBudgetBurn");
    assert_string_equal(items[0].labels[0], "slo");
    assert_true(items[0].since == (double)NOW_MS / 1000.0);
    alerts_items_free(items, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query_parse),
        cmocka_unit_test_setup_teardown(test_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_summary_groups_agent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slos_canaries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pages_and_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alert_list, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
