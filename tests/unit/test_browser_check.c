/*
 * test_browser_check.c - the `browser` type without a browser: its settings
 * and every configuration error (file, line, column, hints), the mapping
 * of the engine's facts to a result (table-driven), and runs on a real
 * probe loop with a fake clock and a fake engine: the FIFO queue under
 * global.browser.max_concurrent, the timeout counted from the launch, the
 * queue histogram's exact values, a launch that fails when its turn comes,
 * and a stop with browsers running and waiting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "browser_check.h"
#include "buf.h"
#include "check.h"
#include "clock.h"
#include "config.h"
#include "gen.h"
#include "probe.h"
#include "recorder.h"
#include "scheduler.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEC 1000000000LL
#define T0_MONO (1000 * SEC)
#define T0_WALL_MS 1800000000000LL

/* ---- loading ---- */

static struct cfg *load(const char *yaml)
{
    struct buf err;
    buf_init(&err, 1u << 16);
    struct cfg *c = NULL;
    if (cfg_load_string(yaml, strlen(yaml), "b.yml", &c, &err) != OP_OK)
        fail_msg("config: %s", buf_str(&err));
    buf_free(&err);
    return c;
}

static void expect_errors(const char *yaml, const char *want)
{
    struct buf err;
    buf_init(&err, 1u << 16);
    struct cfg *c = NULL;
    assert_int_equal(cfg_load_string(yaml, strlen(yaml), "b.yml", &c, &err), OP_ERR_INVALID);
    assert_null(c);
    assert_string_equal(buf_str(&err), want);
    buf_free(&err);
}

/* /bin/true stands for Chromium wherever only its existence matters. */
#define GLOBAL "global:\n  browser: {executable: /bin/true}\n"
#define HEAD GLOBAL "checks:\n  - name: home\n    type: browser\n"

static void test_settings(void **state)
{
    (void)state;
    struct cfg *c = load("global:\n"
                         "  browser:\n"
                         "    max_concurrent: 5\n"
                         "    executable: /bin/true\n"
                         "checks:\n"
                         "  - name: home\n"
                         "    type: browser\n"
                         "    url: https://user:pw@shop.example/start?x=1\n"
                         "    timeout: 20s\n"
                         "    interval: 1m\n"
                         "    headers: {X-Probe: outpost, Authorization: Bearer t}\n"
                         "    user_agent: outpost-probe/1\n"
                         "    tls: {insecure_skip_verify: true}\n"
                         "    expect:\n"
                         "      text: Welcome\n"
                         "      selector: '#app .ready'\n"
                         "      status: [200, 3xx]\n"
                         "      max_duration: 3s\n");
    const struct check_spec *cs = cfg_check(c, 0);
    const struct browser_spec *s = browser_spec_of(cs);
    assert_string_equal(cs->type->name, "browser");
    assert_string_equal(cs->target, "https://shop.example/start");
    assert_string_equal(s->url, "https://user:pw@shop.example/start?x=1");
    assert_string_equal(s->text, "Welcome");
    assert_string_equal(s->selector, "#app .ready");
    assert_string_equal(s->user_agent, "outpost-probe/1");
    assert_true(s->insecure_skip_verify);
    assert_int_equal(s->n_headers, 2);
    assert_string_equal(s->header_lines[0], "X-Probe: outpost");
    assert_string_equal(s->header_lines[1], "Authorization: Bearer t");
    assert_int_equal(s->expect.n_status, 2);
    assert_int_equal(s->expect.status[1].lo, 300);
    assert_int_equal(s->expect.status[1].hi, 399);
    assert_int_equal(s->expect.max_duration_ms, 3000);
    assert_int_equal(s->max_concurrent, 5);
    assert_non_null(s->executable);
    assert_non_null(strstr(s->executable, "true"));
    assert_int_equal(browser_check_type.concurrency(cs), 5);
    cfg_free(c);

    /* Defaults: status 200-299, two browsers, nothing expected but the load. */
    c = load(HEAD "    url: http://127.0.0.1:8080/\n");
    s = browser_spec_of(cfg_check(c, 0));
    assert_int_equal(s->expect.n_status, 1);
    assert_int_equal(s->expect.status[0].lo, 200);
    assert_int_equal(s->expect.status[0].hi, 299);
    assert_int_equal(s->expect.max_duration_ms, 0);
    assert_null(s->text);
    assert_null(s->selector);
    assert_null(s->user_agent);
    assert_false(s->insecure_skip_verify);
    assert_int_equal(s->n_headers, 0);
    assert_int_equal(s->max_concurrent, 2);
    cfg_free(c);
}

static void test_errors(void **state)
{
    (void)state;
    expect_errors(HEAD "    timeout: 2s\n", "b.yml:4:5: checks[0] \"home\": missing key \"url\"\n");
    expect_errors(HEAD "    url: ftp://x/\n", "b.yml:6:10: checks[0] \"home\".url: the URL's "
                                              "scheme must be http or https, not \"ftp\"\n");
    expect_errors(HEAD "    urll: http://x/\n",
                  "b.yml:6:5: checks[0] \"home\": unknown key \"urll\" (did you mean \"url\"?)\n"
                  "b.yml:4:5: checks[0] \"home\": missing key \"url\"\n");
    /* An http key a browser cannot honour is unknown here. */
    expect_errors(HEAD "    url: http://x/\n    method: POST\n",
                  "b.yml:7:5: checks[0] \"home\": unknown key \"method\"\n");
    expect_errors(
        HEAD "    url: http://x/\n    tls: {ca_file: /etc/ssl/ca.pem}\n",
        "b.yml:7:20: checks[0] \"home\".tls.ca_file: not supported by type browser (Chromium "
        "verifies certificates itself; only insecure_skip_verify can be set)\n");
    expect_errors(
        HEAD "    url: http://x/\n    tls: {insecure_skip_verfy: true}\n",
        "b.yml:7:11: checks[0] \"home\".tls: unknown key \"insecure_skip_verfy\" (did you mean "
        "\"insecure_skip_verify\"?)\n");
    expect_errors(HEAD "    url: http://x/\n    expect: {text: ''}\n",
                  "b.yml:7:20: checks[0] \"home\".expect.text: must not be empty\n");
    expect_errors(HEAD "    url: http://x/\n    expect: {selectr: '#a'}\n",
                  "b.yml:7:14: checks[0] \"home\".expect: unknown key \"selectr\" (did you mean "
                  "\"selector\"?)\n");
    expect_errors(
        HEAD "    url: http://x/\n    expect: {status: 600}\n",
        "b.yml:7:22: checks[0] \"home\".expect.status: \"600\" is not a status code (100-599), a "
        "range like \"200-299\" or a class like \"2xx\"\n");
    expect_errors(
        HEAD "    url: http://x/\n    timeout: 2s\n    expect: {max_duration: 3s}\n",
        "b.yml:4:5: checks[0] \"home\": expect.max_duration (3s) is longer than timeout (2s), it "
        "could never fail\n");
    expect_errors(HEAD "    url: http://x/\n    user_agent: \"a\\nb\"\n",
                  "b.yml:7:17: checks[0] \"home\".user_agent: must not contain line breaks\n");
    expect_errors(
        HEAD "    url: http://x/\n    user_agent: a\n    headers: {user-agent: b}\n",
        "b.yml:4:5: checks[0] \"home\": use either user_agent or a User-Agent header, not "
        "both\n");
    expect_errors(
        HEAD "    url: http://x/\n    headers: {'a b': c}\n",
        "b.yml:7:22: checks[0] \"home\".headers.a b: \"a b\" is not a valid header name\n");

    /* A text longer than the cap. */
    char yaml[4096];
    char long_text[BROWSER_MAX_EXPECT_BYTES + 2];
    memset(long_text, 'x', sizeof(long_text) - 1);
    long_text[sizeof(long_text) - 1] = '\0';
    snprintf(yaml, sizeof(yaml), HEAD "    url: http://x/\n    expect: {selector: %s}\n",
             long_text);
    expect_errors(yaml, "b.yml:7:24: checks[0] \"home\".expect.selector: longer than 1024 bytes\n");
}

static void test_global_browser(void **state)
{
    (void)state;
    expect_errors("global:\n  browser: {max_concurrent: 0}\nchecks: []\n",
                  "b.yml:2:29: global.browser.max_concurrent: \"0\" is not a whole number from 1 "
                  "to 64\n");
    expect_errors("global:\n  browser: {max_concurrent: 65}\nchecks: []\n",
                  "b.yml:2:29: global.browser.max_concurrent: \"65\" is not a whole number from "
                  "1 to 64\n");
    expect_errors("global:\n  browser: {max_concurent: 3}\nchecks: []\n",
                  "b.yml:2:13: global.browser: unknown key \"max_concurent\" (did you mean "
                  "\"max_concurrent\"?)\n");
    expect_errors("global:\n  browser: {executable: ''}\nchecks: []\n",
                  "b.yml:2:25: global.browser.executable: must not be empty (leave it out to use "
                  "the default search)\n");
    expect_errors("global:\n  browser: 3\nchecks: []\n",
                  "b.yml:2:12: global.browser: expected a mapping, got a scalar\n");
    /* No browser checks: the executable is never looked for. */
    struct cfg *c = load("global:\n  browser: {executable: /nonexistent}\nchecks: []\n");
    cfg_free(c);
    /* With browser checks it must exist: one error, at the first of them,
     * naming the check, the key and the Debian package. */
    expect_errors("global:\n  browser: {executable: /nonexistent}\n"
                  "checks:\n"
                  "  - {name: api, url: 'http://x/'}\n"
                  "  - {name: home, type: browser, url: 'http://x/'}\n"
                  "  - {name: shop, type: browser, url: 'http://y/'}\n",
                  "b.yml:5:5: checks[1] \"home\": type browser needs Chromium: "
                  "global.browser.executable \"/nonexistent\" is not an executable file (apt-get "
                  "install chromium)\n");
}

/* ---- results from facts ---- */

static struct chrome_facts facts(enum chrome_end end)
{
    struct chrome_facts f;
    memset(&f, 0, sizeof(f));
    f.end = end;
    f.status = 200;
    f.ttfb = 0.25;
    f.dom_content_loaded = 0.5;
    f.load = 0.75;
    f.lcp = NAN;
    f.resolve = 0.01;
    f.connect = 0.02;
    f.tls = 0.03;
    f.launch = 0.5;
    f.load_seen = 1.25; /* 0.75 s after the launch: no set-up before the navigation */
    f.text_found = f.selector_found = true;
    return f;
}

struct result_case {
    const char *name;
    struct chrome_facts f;
    bool success;
    enum check_reason reason;
    const char *detail;
};

static void test_results(void **state)
{
    (void)state;
    struct cfg *c = load(HEAD "    url: http://x/\n    timeout: 20s\n    interval: 1m\n"
                              "    expect: {text: Welcome, selector: '#app.ready', max_duration: "
                              "2s}\n");
    const struct browser_spec *s = browser_spec_of(cfg_check(c, 0));
    struct result_case cases[] = {
        {"loaded", facts(CHROME_LOADED), true, CHECK_REASON_NONE, ""},
        {"status", facts(CHROME_LOADED), false, CHECK_REASON_HTTP_STATUS,
         "status 500 not in [200-299]"},
        {"no status", facts(CHROME_LOADED), false, CHECK_REASON_HTTP_STATUS,
         "the main document has no HTTP status"},
        {"text", facts(CHROME_EXPECT_TIMEOUT), false, CHECK_REASON_TEXT,
         "text \"Welcome\" not found 18.8s after load"},
        {"selector", facts(CHROME_EXPECT_TIMEOUT), false, CHECK_REASON_SELECTOR,
         "selector \"#app.ready\" not found 18.8s after load"},
        {"both missing: text first", facts(CHROME_EXPECT_TIMEOUT), false, CHECK_REASON_TEXT,
         "text \"Welcome\" not found 18.8s after load"},
        {"status before text", facts(CHROME_EXPECT_TIMEOUT), false, CHECK_REASON_HTTP_STATUS,
         "status 404 not in [200-299]"},
        {"slow", facts(CHROME_LOADED), false, CHECK_REASON_LATENCY,
         "load event after 2.500 s, more than max_duration 2.000 s"},
        {"refused", facts(CHROME_NAV_ERROR), false, CHECK_REASON_CONNECT,
         "net::ERR_CONNECTION_REFUSED"},
        {"dns", facts(CHROME_NAV_ERROR), false, CHECK_REASON_DNS, "net::ERR_NAME_NOT_RESOLVED"},
        {"cert", facts(CHROME_NAV_ERROR), false, CHECK_REASON_TLS,
         "net::ERR_CERT_AUTHORITY_INVALID"},
        {"error status, no page", facts(CHROME_NAV_ERROR), false, CHECK_REASON_HTTP_STATUS,
         "status 503 not in [200-299]"},
        {"unnamed nav error", facts(CHROME_NAV_ERROR), false, CHECK_REASON_OTHER,
         "navigation failed"},
        {"timeout", facts(CHROME_TIMEOUT), false, CHECK_REASON_TIMEOUT,
         "no load event within the timeout (20s)"},
        {"timeout, where", facts(CHROME_TIMEOUT), false, CHECK_REASON_TIMEOUT,
         "no load event within the timeout (20s): the load event did not fire"},
        {"crash", facts(CHROME_BROWSER), false, CHECK_REASON_BROWSER,
         "browser: exited with signal 11"},
        /* Ended at the first look, the text not seen yet: the selector is
         * what is wrong. */
        {"invalid selector", facts(CHROME_EXPECT_TIMEOUT), false, CHECK_REASON_SELECTOR,
         "selector \"#app.ready\" is not valid CSS"},
        /* The page's set-up before the navigation is no time after load. */
        {"text, after set-up", facts(CHROME_EXPECT_TIMEOUT), false, CHECK_REASON_TEXT,
         "text \"Welcome\" not found 16.8s after load"},
    };
    cases[1].f.status = 500;
    cases[2].f.status = 0;
    cases[3].f.text_found = false;
    cases[4].f.selector_found = false;
    cases[5].f.text_found = cases[5].f.selector_found = false;
    cases[6].f.status = 404;
    cases[6].f.text_found = false;
    cases[7].f.load = 2.5;
    snprintf(cases[8].f.net_error, sizeof(cases[8].f.net_error), "net::ERR_CONNECTION_REFUSED");
    cases[8].f.status = 0;
    /* Without its prefix, as a CDP event may name it. */
    snprintf(cases[9].f.net_error, sizeof(cases[9].f.net_error), "ERR_NAME_NOT_RESOLVED");
    cases[9].f.status = 0;
    snprintf(cases[10].f.net_error, sizeof(cases[10].f.net_error),
             "net::ERR_CERT_AUTHORITY_INVALID");
    cases[10].f.status = 0;
    snprintf(cases[11].f.net_error, sizeof(cases[11].f.net_error),
             "net::ERR_HTTP_RESPONSE_CODE_FAILURE");
    cases[11].f.status = 503;
    cases[12].f.status = 0;
    cases[13].f.status = 0;
    cases[13].f.load = NAN;
    snprintf(cases[14].f.error, sizeof(cases[14].f.error), "timeout: the load event did not fire");
    snprintf(cases[15].f.error, sizeof(cases[15].f.error), "exited with signal 11");
    cases[16].f.text_found = cases[16].f.selector_found = false;
    cases[16].f.selector_invalid = true;
    cases[17].f.text_found = false;
    cases[17].f.load_seen = 3.25;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct check_result res;
        /* 20.05 s after the launch: 0.5 s launch + 0.75 s to load + 18.8 s. */
        browser_result(s, 20000, &cases[i].f, 20.05, &res);
        if (res.success != cases[i].success || res.reason != cases[i].reason ||
            strcmp(res.detail, cases[i].detail) != 0)
            fail_msg("%s: got %d %s \"%s\"", cases[i].name, res.success,
                     check_reason_name(res.reason), res.detail);
        assert_true(res.type == &browser_check_type);
        assert_true(res.duration == 20.05);
        assert_int_equal(res.status, cases[i].f.status);
    }

    /* Phases from the main document's timing, gauges from the page's;
     * what is unknown is 0 (phases) or absent (NaN gauges). */
    struct chrome_facts f = facts(CHROME_LOADED);
    f.console_errors = 3;
    f.cert_expiry = 1900000000;
    struct check_result res;
    browser_result(s, 20000, &f, 1.5, &res);
    assert_true(res.success);
    assert_true(res.cert_expiry == 1900000000);
    assert_true(res.phases[CHECK_PHASE_RESOLVE] == 0.01);
    assert_true(res.phases[CHECK_PHASE_CONNECT] == 0.02);
    assert_true(res.phases[CHECK_PHASE_TLS] == 0.03);
    assert_true(fabs(res.phases[CHECK_PHASE_PROCESSING] - 0.19) < 1e-12);
    assert_true(res.phases[CHECK_PHASE_TRANSFER] == 0.5);
    assert_true(res.gauges[BROWSER_GAUGE_TTFB] == 0.25);
    assert_true(res.gauges[BROWSER_GAUGE_DOM_CONTENT_LOADED] == 0.5);
    assert_true(res.gauges[BROWSER_GAUGE_LOAD] == 0.75);
    assert_true(isnan(res.gauges[BROWSER_GAUGE_LCP]));
    assert_true(res.gauges[BROWSER_GAUGE_CONSOLE_ERRORS] == 3);

    f = facts(CHROME_BROWSER);
    f.ttfb = f.load = f.dom_content_loaded = f.resolve = f.connect = f.tls = NAN;
    browser_result(s, 20000, &f, 0.2, &res);
    assert_string_equal(res.detail, "browser: failed");
    for (int p = 0; p < CHECK_PHASE_COUNT; p++)
        assert_true(res.phases[p] == 0);
    for (int g = 0; g < BROWSER_GAUGE_COUNT; g++)
        assert_true(isnan(res.gauges[g]));
    cfg_free(c);

    /* A long text is cut in the detail, the rest of the line kept. */
    char yaml[2048], text[201];
    memset(text, 'w', 200);
    text[200] = '\0';
    snprintf(yaml, sizeof(yaml), HEAD "    url: http://x/\n    expect: {text: %s}\n", text);
    c = load(yaml);
    f = facts(CHROME_EXPECT_TIMEOUT);
    f.text_found = false;
    f.load = f.load_seen = NAN;
    browser_result(browser_spec_of(cfg_check(c, 0)), 5000, &f, 5.0, &res);
    char want[CHECK_DETAIL_MAX];
    snprintf(want, sizeof(want), "text \"%.64s...\" not found by the deadline", text);
    assert_string_equal(res.detail, want);
    cfg_free(c);
}

static void test_net_reasons(void **state)
{
    (void)state;
    static const struct {
        const char *err;
        enum check_reason r;
    } t[] = {
        {"net::ERR_NAME_NOT_RESOLVED", CHECK_REASON_DNS},
        {"net::ERR_NAME_RESOLUTION_FAILED", CHECK_REASON_DNS},
        {"net::ERR_DNS_TIMED_OUT", CHECK_REASON_DNS},
        {"net::ERR_CONNECTION_REFUSED", CHECK_REASON_CONNECT},
        {"net::ERR_CONNECTION_RESET", CHECK_REASON_CONNECT},
        {"net::ERR_CONNECTION_CLOSED", CHECK_REASON_CONNECT},
        {"net::ERR_ADDRESS_UNREACHABLE", CHECK_REASON_CONNECT},
        {"net::ERR_CONNECTION_TIMED_OUT", CHECK_REASON_TIMEOUT},
        {"net::ERR_TIMED_OUT", CHECK_REASON_TIMEOUT},
        {"net::ERR_CERT_DATE_INVALID", CHECK_REASON_TLS},
        {"net::ERR_SSL_PROTOCOL_ERROR", CHECK_REASON_TLS},
        {"net::ERR_BAD_SSL_CLIENT_AUTH_CERT", CHECK_REASON_TLS},
        {"net::ERR_EMPTY_RESPONSE", CHECK_REASON_OTHER},
        {"net::ERR_ABORTED", CHECK_REASON_OTHER},
        {"", CHECK_REASON_OTHER},
        {"net::", CHECK_REASON_OTHER},
    };
    for (size_t i = 0; i < ARRAY_SIZE(t); i++)
        if (browser_net_reason(t[i].err) != t[i].r)
            fail_msg("%s: %s", t[i].err, check_reason_name(browser_net_reason(t[i].err)));
    assert_int_equal(browser_net_reason(NULL), CHECK_REASON_OTHER);
    assert_string_equal(check_reason_name(CHECK_REASON_BROWSER), "browser");
    assert_string_equal(check_reason_name(CHECK_REASON_TEXT), "text");
    assert_string_equal(check_reason_name(CHECK_REASON_SELECTOR), "selector");
}

/* ---- runs with a fake engine ---- */

/* What the fake engine was asked, in order; touched on the probe thread
 * and read by the test between loop calls (probe_loop_call orders them). */
#define MAX_FAKE 16
struct fake_run {
    char url[64];
    int64_t deadline_ns;
    void (*done)(void *arg, const struct chrome_facts *f);
    void *arg;
    bool ended; /* done ran or it was cancelled */
    bool cancelled;
};
static struct fake_run fakes[MAX_FAKE];
static size_t n_fakes;
static const char *fail_url; /* starting this URL fails */

static enum op_rc fake_start(struct probe_loop *loop, const struct chrome_opts *o,
                             void (*done)(void *arg, const struct chrome_facts *f), void *arg,
                             struct chrome **out)
{
    (void)loop;
    if (fail_url && strcmp(o->url, fail_url) == 0)
        return OP_ERR_SYSTEM;
    assert_true(n_fakes < MAX_FAKE);
    struct fake_run *r = &fakes[n_fakes];
    snprintf(r->url, sizeof(r->url), "%s", o->url);
    r->deadline_ns = o->deadline_ns;
    r->done = done;
    r->arg = arg;
    *out = (struct chrome *)r;
    n_fakes++;
    return OP_OK;
}

static void fake_cancel(struct probe_loop *loop, struct chrome *c)
{
    (void)loop;
    struct fake_run *r = (struct fake_run *)c;
    assert_false(r->ended);
    r->ended = r->cancelled = true;
}

static const struct browser_engine fake_engine = {fake_start, fake_cancel};

/* The results the loop reported (once mode), by check index. */
struct reported {
    bool done;
    bool success;
    enum check_reason reason;
    double duration;
    char detail[CHECK_DETAIL_MAX];
};
static struct reported reports[8];

static void on_report(void *arg, size_t check, const struct check_result *res)
{
    (void)arg;
    assert_true(check < ARRAY_SIZE(reports));
    reports[check].done = true;
    reports[check].success = res->success;
    reports[check].reason = res->reason;
    reports[check].duration = res->duration;
    snprintf(reports[check].detail, sizeof(reports[check].detail), "%s", res->detail);
}

/* Finish fake run i (on the probe thread) with a loaded page. */
static size_t finish_idx;
static double finish_duration; /* the engine's duration of the run, 0: none */
static void finish(void *arg)
{
    (void)arg;
    struct fake_run *r = &fakes[finish_idx];
    assert_false(r->ended);
    r->ended = true;
    struct chrome_facts f = facts(CHROME_LOADED);
    f.duration = finish_duration;
    r->done(r->arg, &f);
}

static void finish_run(struct probe_loop *pl, size_t i)
{
    finish_idx = i;
    probe_loop_call(pl, finish, NULL);
}

/* The queue as the probe thread sees it. */
struct queue_view {
    const struct probe_loop *pl;
    unsigned running;
    size_t n_waiting;
    const char *waiting[8];
};

static void look(void *arg)
{
    struct queue_view *v = arg;
    v->running = browser_queue_running(v->pl);
    v->n_waiting = browser_queue_waiting(v->pl, v->waiting, ARRAY_SIZE(v->waiting));
}

static struct queue_view view(struct probe_loop *pl)
{
    struct queue_view v = {.pl = pl};
    probe_loop_call(pl, look, &v);
    return v;
}

static void nop(void *arg)
{
    (void)arg;
}

#define BCHECK(n)                                                                                  \
    "  - {name: " n ", type: browser, url: 'http://" n ".test/',"                                  \
    " interval: 1m, timeout: 20s}\n"

struct fixture {
    struct clock *clk;
    struct cfg *cfg;
    struct gen *g;
    struct probe_loop *pl;
    bool run[8];
    struct probe_once once;
};

static void start_fixture_failing(struct fixture *fx, const char *yaml, const char *fail)
{
    memset(fakes, 0, sizeof(fakes));
    n_fakes = 0;
    fail_url = fail;
    memset(reports, 0, sizeof(reports));
    browser_queue_reset();
    browser_engine_set(&fake_engine);
    fx->clk = clock_fake_new(T0_MONO, T0_WALL_MS);
    fx->cfg = load(yaml);
    fx->g = gen_new(fx->cfg, NULL, NULL, fx->clk);
    for (size_t i = 0; i < cfg_check_count(fx->cfg); i++)
        fx->run[i] = true;
    fx->once = (struct probe_once){.run = fx->run, .report = on_report};
    assert_int_equal(probe_loop_new(fx->clk, &fx->pl), OP_OK);
    assert_int_equal(probe_loop_start_once(fx->pl, fx->g, &fx->once), OP_OK);
    /* Commands run after the due checks: every run has started. */
    probe_loop_call(fx->pl, nop, NULL);
}

static void start_fixture(struct fixture *fx, const char *yaml)
{
    start_fixture_failing(fx, yaml, NULL);
}

static void stop_fixture(struct fixture *fx)
{
    probe_loop_free(fx->pl);
    gen_unref(fx->g);
    clock_fake_free(fx->clk);
    browser_engine_set(NULL);
}

/* Index of the check whose URL is url. */
static size_t check_of(const struct cfg *c, const char *url)
{
    for (size_t i = 0; i < cfg_check_count(c); i++)
        if (strcmp(browser_spec_of(cfg_check(c, i))->url, url) == 0)
            return i;
    fail_msg("no check with url %s", url);
    return 0;
}

/* Move the fake clock to t and let the loop catch up (commands run after
 * what came due). */
static void advance_to(struct probe_loop *pl, struct clock *clk, int64_t t)
{
    int64_t now = clock_mono_ns(clk);
    assert_true(t >= now);
    clock_fake_advance(clk, t - now);
    probe_loop_wake(pl);
    probe_loop_call(pl, nop, NULL);
}

static struct rec_snapshot snap_of(const struct gen *g, const char *name)
{
    long i = cfg_find_check(gen_cfg(g), name);
    assert_true(i >= 0);
    struct rec_snapshot s;
    rec_read(gen_rec(g, (size_t)i), &s);
    return s;
}

/* Scheduled runs that come due one after the other: the first two get a
 * browser at once, the next two wait and get one in the order they came,
 * each with its timeout counted from its own launch; the histogram holds
 * the waits exactly (fake clock). */
static void test_queue_fifo_and_cap(void **state)
{
    (void)state;
    /* Four checks whose phases (interval 1m) fall between 1 s and 50 s
     * after a minute's start, in the order of their offsets. */
    static const char *const pool[] = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"};
    const char *name[4];
    int64_t off[4];
    size_t n = 0;
    for (size_t i = 0; i < ARRAY_SIZE(pool) && n < 4; i++) {
        int64_t o = sched_offset_ns(pool[i], 60 * SEC);
        if (o < 1 * SEC || o > 50 * SEC)
            continue;
        size_t k = n++;
        for (; k > 0 && off[k - 1] > o; k--) {
            off[k] = off[k - 1];
            name[k] = name[k - 1];
        }
        off[k] = o;
        name[k] = pool[i];
    }
    assert_int_equal(n, 4);
    for (size_t i = 1; i < 4; i++)
        assert_true(off[i] > off[i - 1]);
    char yaml[1024];
    snprintf(yaml, sizeof(yaml),
             "global:\n  browser: {max_concurrent: 2, executable: /bin/true}\n"
             "checks:\n" BCHECK("%s") BCHECK("%s") BCHECK("%s") BCHECK("%s"),
             name[0], name[0], name[1], name[1], name[2], name[2], name[3], name[3]);

    memset(fakes, 0, sizeof(fakes));
    n_fakes = 0;
    fail_url = NULL;
    browser_queue_reset();
    browser_engine_set(&fake_engine);
    /* T0 is a whole number of minutes: check i first runs at T0 + off[i]. */
    const int64_t t0 = 6000 * SEC;
    struct clock *clk = clock_fake_new(t0, T0_WALL_MS);
    struct gen *g = gen_new(load(yaml), NULL, NULL, clk);
    struct probe_loop *pl;
    assert_int_equal(probe_loop_new(clk, &pl), OP_OK);
    assert_int_equal(probe_loop_start(pl, g), OP_OK);
    char url[4][64];
    for (size_t i = 0; i < 4; i++) {
        snprintf(url[i], sizeof(url[i]), "http://%s.test/", name[i]);
        advance_to(pl, clk, t0 + off[i]);
        assert_int_equal(n_fakes, i < 2 ? i + 1 : 2);
    }
    assert_string_equal(fakes[0].url, url[0]);
    assert_string_equal(fakes[1].url, url[1]);
    assert_true(fakes[1].deadline_ns == t0 + off[1] + 20 * SEC);
    struct queue_view v = view(pl);
    assert_int_equal(v.running, 2);
    assert_int_equal(v.n_waiting, 2);
    assert_string_equal(v.waiting[0], name[2]);
    assert_string_equal(v.waiting[1], name[3]);
    assert_int_equal(probe_loop_in_flight(pl), 4);

    /* 1.5 s after the last came, the first browser is done: the first in
     * line starts, and its timeout counts from now. */
    int64_t t = t0 + off[3] + 1500000000;
    advance_to(pl, clk, t);
    finish_run(pl, 0);
    assert_true(snap_of(g, name[0]).sum == (double)(t - t0 - off[0]) / 1e9);
    assert_int_equal(n_fakes, 3);
    assert_string_equal(fakes[2].url, url[2]);
    assert_true(fakes[2].deadline_ns == t + 20 * SEC);
    v = view(pl);
    assert_int_equal(v.running, 2);
    assert_int_equal(v.n_waiting, 1);
    assert_string_equal(v.waiting[0], name[3]);

    /* 2 s later the second: the last in line starts. */
    advance_to(pl, clk, t + 2 * SEC);
    finish_run(pl, 1);
    assert_int_equal(n_fakes, 4);
    assert_string_equal(fakes[3].url, url[3]);
    assert_true(fakes[3].deadline_ns == t + 22 * SEC);
    assert_int_equal(view(pl).n_waiting, 0);

    /* The third ran 2.5 s, from its launch (not from its start). */
    advance_to(pl, clk, t + 2500000000);
    finish_run(pl, 2);
    struct rec_snapshot s2 = snap_of(g, name[2]);
    assert_int_equal(s2.runs, 1);
    assert_true(s2.up);
    assert_true(s2.sum == 2.5);
    /* The engine's own duration (launch to verdict, without its teardown)
     * is the run's when it has one. */
    finish_duration = 0.25;
    finish_run(pl, 3);
    finish_duration = 0;
    assert_true(snap_of(g, name[3]).sum == 0.25);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(snap_of(g, name[i]).runs, 1);
    assert_int_equal(view(pl).running, 0);
    assert_int_equal(probe_loop_in_flight(pl), 0);

    /* Waits of 0, 0, then the third's and the fourth's (3.5 s). */
    double w[4] = {0, 0, (double)(t - t0 - off[2]) / 1e9, 3.5};
    uint64_t want[BROWSER_QUEUE_BUCKETS + 1] = {0};
    double want_sum = 0;
    for (size_t i = 0; i < 4; i++) {
        want_sum += w[i];
        for (size_t b = 0; b <= BROWSER_QUEUE_BUCKETS; b++)
            want[b] += b == BROWSER_QUEUE_BUCKETS || w[i] <= browser_queue_bounds[b];
    }
    assert_true(want[0] == 2 && want[BROWSER_QUEUE_BUCKETS] == 4);
    uint64_t cum[BROWSER_QUEUE_BUCKETS + 1];
    double sum;
    browser_queue_read(cum, &sum);
    for (size_t i = 0; i <= BROWSER_QUEUE_BUCKETS; i++)
        if (cum[i] != want[i])
            fail_msg("bucket %zu: %llu, want %llu", i, (unsigned long long)cum[i],
                     (unsigned long long)want[i]);
    assert_true(sum == want_sum);
    /* The type shows it to the agent as its one histogram. */
    assert_int_equal(browser_check_type.n_histograms, 1);
    assert_string_equal(browser_check_type.histograms[0].name, "outpost_browser_queue_seconds");
    assert_int_equal(browser_check_type.histograms[0].n_bounds, BROWSER_QUEUE_BUCKETS);
    probe_loop_free(pl);
    gen_unref(g);
    clock_fake_free(clk);
    browser_engine_set(NULL);
}

/* On the real clock, which moves between any two readings: a run that
 * found a browser free waited exactly 0 s (le="0"), and one that waited
 * for another's end did not. */
static void test_queue_no_wait_is_zero(void **state)
{
    (void)state;
    memset(fakes, 0, sizeof(fakes));
    n_fakes = 0;
    fail_url = NULL;
    memset(reports, 0, sizeof(reports));
    browser_queue_reset();
    browser_engine_set(&fake_engine);
    struct gen *g = gen_new(load("global:\n  browser: {max_concurrent: 1, executable: /bin/true}\n"
                                 "checks:\n" BCHECK("a") BCHECK("b")),
                            NULL, NULL, clock_system());
    bool run[2] = {true, true};
    struct probe_once once = {.run = run, .report = on_report};
    struct probe_loop *pl;
    assert_int_equal(probe_loop_new(clock_system(), &pl), OP_OK);
    assert_int_equal(probe_loop_start_once(pl, g, &once), OP_OK);
    probe_loop_call(pl, nop, NULL);
    assert_int_equal(n_fakes, 1);
    uint64_t cum[BROWSER_QUEUE_BUCKETS + 1];
    double sum;
    browser_queue_read(cum, &sum);
    assert_true(cum[0] == 1 && cum[BROWSER_QUEUE_BUCKETS] == 1 && sum == 0);
    nanosleep(&(struct timespec){0, 2000000}, NULL);
    finish_run(pl, 0);
    assert_int_equal(n_fakes, 2);
    browser_queue_read(cum, &sum);
    assert_true(cum[0] == 1 && cum[BROWSER_QUEUE_BUCKETS] == 2 && sum >= 0.002);
    finish_run(pl, 1);
    probe_loop_free(pl);
    gen_unref(g);
    browser_engine_set(NULL);
}

/* A browser that cannot be launched when its turn comes fails that run
 * (reason browser) and the next in line gets the browser. */
static void test_launch_fails_in_turn(void **state)
{
    (void)state;
    struct fixture fx;
    start_fixture(&fx, "global:\n  browser: {max_concurrent: 1, executable: /bin/true}\n"
                       "checks:\n" BCHECK("a") BCHECK("b") BCHECK("c"));
    assert_int_equal(n_fakes, 1);
    struct queue_view v = view(fx.pl);
    assert_int_equal(v.n_waiting, 2);
    char bad[64], next[64];
    snprintf(bad, sizeof(bad), "http://%s.test/", v.waiting[0]);
    snprintf(next, sizeof(next), "http://%s.test/", v.waiting[1]);
    fail_url = bad;
    finish_run(fx.pl, 0);
    size_t kb = check_of(fx.cfg, bad);
    assert_true(reports[kb].done);
    assert_false(reports[kb].success);
    assert_int_equal(reports[kb].reason, CHECK_REASON_BROWSER);
    assert_string_equal(reports[kb].detail, "browser: cannot start Chromium: system error");
    assert_int_equal(n_fakes, 2);
    assert_string_equal(fakes[1].url, next);
    finish_run(fx.pl, 1);
    assert_int_equal(view(fx.pl).running, 0);
    stop_fixture(&fx);
}

/* A browser that cannot be launched at once (the executable gone since the
 * configuration loaded) fails its run with reason browser, reported after
 * start returned, and takes no browser: the next run (once mode starts
 * them in configuration order) gets it. */
static void test_launch_fails_at_start(void **state)
{
    (void)state;
    struct fixture fx;
    start_fixture_failing(&fx,
                          "global:\n  browser: {max_concurrent: 1, executable: /bin/true}\n"
                          "checks:\n" BCHECK("a") BCHECK("b"),
                          "http://a.test/");
    assert_true(reports[0].done);
    assert_false(reports[0].success);
    assert_int_equal(reports[0].reason, CHECK_REASON_BROWSER);
    assert_string_equal(reports[0].detail, "browser: cannot start Chromium: system error");
    assert_int_equal(n_fakes, 1);
    assert_string_equal(fakes[0].url, "http://b.test/");
    assert_false(reports[1].done);
    finish_run(fx.pl, 0);
    assert_true(reports[1].done && reports[1].success);
    assert_int_equal(view(fx.pl).running, 0);
    stop_fixture(&fx);
}

/* Stopping the loop cancels the browsers running and drops the runs
 * waiting, without launching any, and leaves no queue behind. */
static void test_stop_cancels(void **state)
{
    (void)state;
    struct fixture fx;
    start_fixture(&fx, "global:\n  browser: {max_concurrent: 2, executable: /bin/true}\n"
                       "checks:\n" BCHECK("a") BCHECK("b") BCHECK("c") BCHECK("d"));
    assert_int_equal(n_fakes, 2);
    const struct probe_loop *pl = fx.pl;
    probe_loop_stop(fx.pl);
    assert_int_equal(n_fakes, 2);
    assert_true(fakes[0].cancelled && fakes[1].cancelled);
    for (size_t i = 0; i < 4; i++)
        assert_false(reports[i].done);
    /* The loop has stopped: its queue is gone (read from here). */
    assert_int_equal(browser_queue_running(pl), 0);
    assert_int_equal(browser_queue_waiting(pl, NULL, 0), 0);
    stop_fixture(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_settings),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_global_browser),
        cmocka_unit_test(test_results),
        cmocka_unit_test(test_net_reasons),
        cmocka_unit_test(test_queue_fifo_and_cap),
        cmocka_unit_test(test_queue_no_wait_is_zero),
        cmocka_unit_test(test_launch_fails_in_turn),
        cmocka_unit_test(test_launch_fails_at_start),
        cmocka_unit_test(test_stop_cancels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
