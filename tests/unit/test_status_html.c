/*
 * test_status_html.c - unit tests for the status page's renderer
 * (agent/web/status_html.c, status_html_checks.c) and its pieces (html.c,
 * svg.c): fixture models in, exact HTML fragments out. Every string of the
 * model is escaped wherever it lands; null, missing and mistyped fields show
 * as dashes; empty sections say so; page links keep the filters; the CSP
 * names exactly the page's inline style and script.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "html.h"
#include "status_html.h"
#include "svg.h"

#include <jansson.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The model of the page: a paging SLO with a deploy freeze, an SLO
 * past its budget, a failing canary, an alert, a maintenance window and
 * four checks in two groups (one down, one pending). Single quotes stand
 * for double quotes (model() turns them back). */
static const char FULL[] =
    "{'generated_at':'2026-12-01T13:00:00Z','agent':{'version':'0.1.0',"
    "'revision':'abc123def456','started_at':'2026-12-01T12:00:00Z','shard':'0/1',"
    "'config_reload_successful':false,'config_loaded_at':'2026-12-01T12:00:05Z'},"
    "'summary':{'checks':{'total':4,'up':2,'down':1,'pending':1},'slos':{'total':2,"
    "'paging':1,'ticketing':0,'frozen':1},'canaries':{'total':1,'pass':0,'fail':1,"
    "'inconclusive':0},'alerts':1,'maintenance':1},'groups':[{'name':'payments','checks':3,"
    "'up':1,'down':1,'pending':1},{'name':'','checks':1,'up':1,'down':0,'pending':0}],"
    "'checks':[{'name':'pay-api','type':'http','group':'payments',"
    "'target':'https://pay.example.com/healthz','interval_seconds':10,'state':'up',"
    "'in_maintenance':false,'last_run':'2026-12-01T12:59:55Z','last_duration_seconds':0.0123,"
    "'reason':null,'detail':'','status_code':200,'consecutive_failures':0,"
    "'last_success':'2026-12-01T12:59:55Z','since_success_seconds':5.0,"
    "'latency':{'window_seconds':600,'runs':60,'failures':0,'p50_seconds':0.012,"
    "'p95_seconds':0.048},'cert_expiry':'2026-12-06T13:00:00Z',"
    "'cert_expires_in_seconds':432000,'cert_expiry_soon':true,'trend':{'step_seconds':30,"
    "'t':[1796126400,1796126430,1796126460,1796126490,1796126520],'runs':[3,3,0,3,3],"
    "'failures':[0,0,0,1,0],'mean_seconds':[0.011,0.015,null,0.03,0.012]}},"
    "{'name':'pay-checkout','type':'http','group':'payments',"
    "'target':'http://checkout.internal/api','interval_seconds':10,'state':'down',"
    "'in_maintenance':true,'last_run':'2026-12-01T12:59:58Z','last_duration_seconds':2.0,"
    "'reason':'timeout','detail':'no answer within 2 s','status_code':null,"
    "'consecutive_failures':3,'last_success':'2026-12-01T12:20:00Z',"
    "'since_success_seconds':2400,'latency':{'window_seconds':600,'runs':60,'failures':20,"
    "'p50_seconds':0.2,'p95_seconds':1.95},'cert_expiry':null,'cert_expires_in_seconds':null,"
    "'cert_expiry_soon':false,'trend':{'step_seconds':30,'t':[1796126400,1796126430],"
    "'runs':[3,3],'failures':[3,0],'mean_seconds':[2.0,0.2]}},{'name':'pay-new','type':'tcp',"
    "'group':'payments','target':'db:5432','interval_seconds':60,'state':'pending',"
    "'in_maintenance':false,'last_run':null,'last_duration_seconds':null,'reason':null,"
    "'detail':'','status_code':null,'consecutive_failures':0,'last_success':null,"
    "'since_success_seconds':null,'latency':{'window_seconds':600,'runs':0,'failures':0,"
    "'p50_seconds':null,'p95_seconds':null},'cert_expiry':null,"
    "'cert_expires_in_seconds':null,'cert_expiry_soon':false,'trend':{'step_seconds':30,"
    "'t':[],'runs':[],'failures':[],'mean_seconds':[]}},{'name':'dns','type':'dns',"
    "'group':'','target':'example.com','interval_seconds':10,'state':'up',"
    "'in_maintenance':false,'last_run':'2026-12-01T12:59:58Z','last_duration_seconds':0.004,"
    "'reason':null,'detail':'','status_code':null,'consecutive_failures':0,"
    "'last_success':'2026-12-01T12:59:58Z','since_success_seconds':200000,"
    "'latency':{'window_seconds':600,'runs':60,'failures':0,'p50_seconds':0.004,"
    "'p95_seconds':0.006},'cert_expiry':null,'cert_expires_in_seconds':null,"
    "'cert_expiry_soon':false,'trend':{'step_seconds':30,'t':[],'runs':[],'failures':[],"
    "'mean_seconds':[]}}],'slos':[{'name':'checkout-availability','sli':'availability',"
    "'objective':0.999,'period':'30d','period_seconds':2592000,'sli_ratio':0.99972,"
    "'windows':[{'window':'5m','sli_ratio':0.9,'burn_rate':100.0,'events':30},"
    "{'window':'30m','sli_ratio':0.98,'burn_rate':20,'events':180},{'window':'1h',"
    "'sli_ratio':0.99,'burn_rate':10.0,'events':360},{'window':'2h','sli_ratio':null,"
    "'burn_rate':null,'events':0}],'budget_remaining':0.724,'exhaustion_seconds':273600,"
    "'alerts':{'page':true,'ticket':true},'freeze':true,'in_maintenance':false,"
    "'burndown':{'t':[1793534400,1794000000,1795000000,1796126400],'budget_remaining':[1.0,"
    "0.95,0.9,0.724]}},{'name':'latency-slo','sli':'latency','objective':0.95,'period':'7d',"
    "'period_seconds':604800,'sli_ratio':null,'windows':[],'budget_remaining':-0.35,"
    "'exhaustion_seconds':null,'alerts':{'page':false,'ticket':false},'freeze':false,"
    "'in_maintenance':true,'burndown':{'t':[1,2,3],'budget_remaining':[1.0,0.2,-0.35]}}],"
    "'canaries':[{'name':'api-rollout','verdict':'fail','score':50,"
    "'reason':'error ratio 4.1 % vs 0.5 % (p = 0.0004)','arms':{'baseline':{'samples':600,"
    "'error_ratio':0.005,'p95_seconds':0.045},'canary':{'samples':600,'error_ratio':0.041,"
    "'p95_seconds':0.052}},'error_p_value':0.0004,'latency_shift':{'estimate_seconds':0.004,"
    "'lower_seconds':-0.001,'upper_seconds':0.009}}],"
    "'alerts':[{'alertname':'OutpostSLOBudgetBurn','severity':'page',"
    "'labels':{'alertname':'OutpostSLOBudgetBurn','severity':'page',"
    "'slo':'checkout-availability','window':'5m/1h'},'since':'2026-12-01T12:50:00Z'}],"
    "'maintenance':[{'name':'db-upgrade','start':'2026-12-01T12:00:00Z',"
    "'end':'2026-12-01T14:00:00Z','checks':['pay-checkout'],'slos':['latency-slo'],"
    "'all':false}],'page':{'group':null,'state':null,'page':1,'per_page':500,"
    "'checks_matched':5,'pages':1}}";

static const struct status_html_opts OPTS = {
    .refresh_seconds = 30, .open_groups = 20, .default_per_page = 500};

/* text with ' for ", parsed; caller json_decref. */
static json_t *model(const char *text)
{
    char *t = strdup(text);
    assert_non_null(t);
    for (char *p = t; *p; p++)
        if (*p == '\'')
            *p = '"';
    json_error_t e;
    json_t *m = json_loads(t, JSON_DECODE_ANY, &e);
    if (!m)
        fail_msg("fixture: %s at %d", e.text, e.position);
    free(t);
    return m;
}

/* The page of m with o; caller frees. */
static char *render(const json_t *m, const struct status_html_opts *o)
{
    struct buf b;
    buf_init(&b, 8u << 20);
    assert_int_equal(status_html(m, o, &b), OP_OK);
    return buf_take(&b);
}

static char *render_text(const char *text, const struct status_html_opts *o)
{
    json_t *m = model(text);
    char *page = render(m, o);
    json_decref(m);
    return page;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

#define assert_has(page, frag)                                                                     \
    do {                                                                                           \
        if (!strstr((page), (frag)))                                                               \
            fail_msg("missing from the page: %s", (frag));                                         \
    } while (0)
#define assert_lacks(page, frag)                                                                   \
    do {                                                                                           \
        if (strstr((page), (frag)))                                                                \
            fail_msg("on the page but should not be: %s", (frag));                                 \
    } while (0)

/* a comes before b on the page (both present). */
static void assert_before(const char *page, const char *a, const char *b)
{
    const char *pa = strstr(page, a), *pb = strstr(page, b);
    if (!pa || !pb || pa > pb)
        fail_msg("expected \"%s\" before \"%s\"", a, b);
}

/* ---- the whole page ---- */

static void test_header(void **state)
{
    (void)state;
    char *p = render_text(FULL, &OPTS);
    assert_int_equal(strncmp(p, "<!DOCTYPE html>\n<html lang=\"en\">", 32), 0);
    assert_has(p, "<title>1 down \xc2\xb7 outpost status</title>");
    assert_has(p, "<p class=\"meta\">outpost 0.1.0 (revision abc123def456) \xc2\xb7 shard 0/1 "
                  "\xc2\xb7 generated <time datetime=\"2026-12-01T13:00:00Z\">2026-12-01 "
                  "13:00:00 UTC</time>");
    assert_has(p, "<span class=\"badge bad\">last reload failed</span>");
    assert_has(p, "<li class=\"tile bad\"><span class=\"k\">Checks</span><b>1</b> down"
                  "<small>of 4 \xc2\xb7 2 up \xc2\xb7 1 pending</small></li>");
    assert_has(p, "<li class=\"tile bad\"><span class=\"k\">SLOs</span><b>1</b> paging"
                  "<small>of 2 \xc2\xb7 0 ticketing \xc2\xb7 1 frozen</small></li>");
    assert_has(p, "<span class=\"k\">Canaries</span><b>1</b> failing<small>of 1 \xc2\xb7 0 pass "
                  "\xc2\xb7 0 inconclusive</small>");
    assert_has(p, "<li class=\"tile bad\"><span class=\"k\">Alerts</span><b>1</b> firing</li>");
    assert_has(p, "<li class=\"tile warn\"><span class=\"k\">Maintenance</span><b>1</b> active "
                  "window</li>");
    assert_has(p, "<button id=\"refresh\" type=\"button\" data-every=\"30\" hidden>Pause "
                  "auto-refresh</button>");
    assert_int_equal(count(p, "<script>"), 1);
    assert_int_equal(strcmp(p + strlen(p) - 16, "</body>\n</html>\n"), 0);
    free(p);
}

static void test_slos(void **state)
{
    (void)state;
    char *p = render_text(FULL, &OPTS);
    assert_has(p, "<h3>checkout-availability <span class=\"badge bad\">paging</span> <span "
                  "class=\"badge warn\">deploy freeze</span></h3>");
    assert_has(p, "availability SLI \xc2\xb7 objective <span class=\"num\">99.9 %</span> over "
                  "30d");
    assert_has(p, "SLI over the period <b class=\"num\">99.972 %</b>");
    assert_has(p, "<rect class=\"fill-ok\" width=\"72.4\" height=\"6\"/>");
    assert_has(p, "<b class=\"budget num\">budget remaining 72.4 %</b> \xc2\xb7 <span "
                  "class=\"exhaustion\">exhausted in 3 days 4 h at the current burn "
                  "rate</span>");
    assert_has(p, "<tr><td>5m</td><td class=\"num\">90.000 %</td><td class=\"num\">100.0"
                  "\xc3\x97</td><td class=\"num\">30</td></tr>");
    assert_has(p, "<tr><td>1h</td><td class=\"num\">99.000 %</td><td class=\"num\">10.0"
                  "\xc3\x97</td>");
    assert_has(p, "<tr><td>2h</td><td class=\"num\">\xe2\x80\x93</td><td "
                  "class=\"num\">\xe2\x80\x93</td><td class=\"num\">0</td></tr>");
    assert_has(p, "aria-label=\"budget remaining over the period: from 100.0 % to 72.4 %\"");
    /* The second SLO: past its budget, no events, in maintenance. */
    assert_has(p, "<h3>latency-slo <span class=\"badge ok\">ok</span> <span class=\"badge "
                  "info\">in maintenance</span></h3>");
    assert_has(p, "objective <span class=\"num\">95 %</span> over 7d");
    assert_has(p, "SLI over the period <b class=\"num\">no events yet</b>");
    assert_has(p, "<rect class=\"fill-bad\" width=\"0.0\" height=\"6\"/>");
    assert_has(p, "budget remaining -35.0 %</b> \xc2\xb7 <span class=\"exhaustion\">budget "
                  "exhausted</span>");
    free(p);
}

static void test_canaries_alerts_maintenance(void **state)
{
    (void)state;
    char *p = render_text(FULL, &OPTS);
    assert_has(p, "<h3>api-rollout <span class=\"badge verdict fail\">fail</span></h3>\n<p>score "
                  "<span class=\"num\">50</span> \xc2\xb7 <span class=\"detail\">error ratio 4.1 % "
                  "vs 0.5 % (p = 0.0004)</span></p>");
    assert_has(p, "<tr><td>baseline</td><td class=\"num\">600</td><td class=\"num\">0.50 %</td>"
                  "<td class=\"num\">45.0 ms</td></tr>");
    assert_has(p, "<tr><td>canary</td><td class=\"num\">600</td><td class=\"num\">4.10 %</td>"
                  "<td class=\"num\">52.0 ms</td></tr>");
    assert_has(p, "error p-value <span class=\"num\">0.0004</span> \xc2\xb7 latency shift <span "
                  "class=\"num\">+4.00 ms</span> (interval <span class=\"num\">-1.00 ms</span> "
                  "to <span class=\"num\">+9.00 ms</span>)");
    /* alertname and severity have their own columns, not repeated as labels. */
    assert_has(p, "<tr><td>OutpostSLOBudgetBurn</td><td class=\"bad\">page</td><td "
                  "class=\"target\">slo=&quot;checkout-availability&quot;, "
                  "window=&quot;5m/1h&quot;</td><td><time datetime=\"2026-12-01T12:50:00Z\">"
                  "2026-12-01 12:50:00 UTC</time></td></tr>");
    assert_has(p, "<tr><td>db-upgrade</td><td><time datetime=\"2026-12-01T12:00:00Z\">"
                  "2026-12-01 12:00:00 UTC</time></td><td><time "
                  "datetime=\"2026-12-01T14:00:00Z\">2026-12-01 14:00:00 UTC</time></td><td>"
                  "checks: pay-checkout; SLOs: latency-slo</td></tr>");
    free(p);
}

/* A fleet failing at once: the alerts fold away and at most 200 are listed. */
static void test_many_alerts(void **state)
{
    (void)state;
    json_t *m = json_object(), *list = json_array();
    for (int i = 0; i < 250; i++) {
        char name[32];
        snprintf(name, sizeof(name), "c%d", i);
        json_array_append_new(list, json_pack("{s:s, s:s, s:{s:s}, s:s}", "alertname",
                                              "OutpostCheckDown", "severity", "critical", "labels",
                                              "check", name, "since", "2026-12-01T12:50:00Z"));
    }
    json_object_set_new(m, "alerts", list);
    char *p = render(m, &OPTS);
    assert_has(p, "<h2>Firing alerts</h2>\n<details class=\"alerts\"><summary>250 "
                  "alerts</summary>");
    assert_int_equal(count(p, "<td>OutpostCheckDown</td><td class=\"bad\">critical</td>"), 200);
    assert_has(p, "class=\"target\">check=&quot;c199&quot;</td>");
    assert_lacks(p, "c200&quot;");
    assert_has(p, "<p class=\"muted\">and 50 more, not listed here: <a "
                  "href=\"api/v1/status\">/api/v1/status</a> lists every one.</p>\n"
                  "</details>\n</section>");
    free(p);
    /* A few: open, all listed. */
    while (json_array_size(list) > 20)
        json_array_remove(list, json_array_size(list) - 1);
    p = render(m, &OPTS);
    assert_lacks(p, "<details class=\"alerts\">");
    assert_int_equal(count(p, "<td>OutpostCheckDown</td>"), 20);
    assert_lacks(p, "more, not listed");
    free(p);
    json_decref(m);
}

static void test_checks(void **state)
{
    (void)state;
    char *p = render_text(FULL, &OPTS);
    /* Failing first in its group, then pending, then up; groups in model order. */
    assert_before(p, ">pay-checkout<", ">pay-new<");
    assert_before(p, ">pay-new<", ">pay-api<");
    assert_before(p, ">pay-api<", ">dns<");
    assert_has(p, "<details class=\"group\" open><summary>payments <small>3 checks \xc2\xb7 1 up "
                  "\xc2\xb7 <span class=\"down\">1 down</span> \xc2\xb7 1 pending</small>"
                  "</summary>");
    assert_has(p, "<summary><i>(no group)</i> <small>1 check \xc2\xb7 1 up");
    assert_has(p, "<tr class=\"st-down\"><td data-l=\"State\"><span class=\"badge state "
                  "down\">down</span> <span class=\"badge info\">maintenance</span></td><td "
                  "data-l=\"Check\"><span class=\"name\">pay-checkout</span><br><small "
                  "class=\"target\">http \xc2\xb7 http://checkout.internal/api</small></td><td "
                  "data-l=\"Last result\" class=\"result\"><b class=\"reason "
                  "down\">timeout</b>: <span class=\"detail\">no answer within 2 s</span> "
                  "\xc2\xb7 3 failures in a row</td><td data-l=\"p50 / p95\" class=\"num "
                  "latency\">200 ms / 1.95 s</td><td data-l=\"Last success\" "
                  "class=\"since\">40 min ago</td>");
    assert_has(p, "<span class=\"badge state pending\">pending</span></td>");
    assert_has(p, "class=\"result\"><span class=\"muted\">no result yet</span></td><td "
                  "data-l=\"p50 / p95\" class=\"num latency\">\xe2\x80\x93 / \xe2\x80\x93</td>"
                  "<td data-l=\"Last success\" class=\"since\">never</td>");
    assert_has(p, "<br><span class=\"cert warn\">certificate expires in 5 days</span>");
    assert_has(p, "class=\"result\">ok \xc2\xb7 HTTP 200 \xc2\xb7 12.3 ms</td>");
    assert_has(p, "class=\"since\">2 days 7 h ago</td>");
    /* pay-api's trend: a gap in the third slot, a failure in the fourth. */
    assert_has(p, "aria-label=\"latency, last 10 minutes: peak 30.0 ms, 1 failed run\">");
    assert_has(p, "<polyline class=\"line\" points=\"2.5,14.5 26.2,12.0\"/>"
                  "<polyline class=\"line\" points=\"73.8,2.5 97.5,13.9\"/>"
                  "<circle class=\"fail-mark\" cx=\"73.8\" cy=\"2.5\" r=\"2.2\"/>");
    /* Two groups: the groups table, with links that filter. */
    assert_has(p, "<details class=\"groups\" open><summary>Groups (2)</summary>");
    assert_has(p, "<tr><td><a href=\"?group=payments\">payments</a></td><td class=\"num\">3</td>"
                  "<td class=\"num\">1</td><td class=\"num down\">1</td><td "
                  "class=\"num\">1</td></tr>");
    assert_has(p, "<a href=\"?group=\"><i>(no group)</i></a>");
    assert_has(p, "<p class=\"nav filters\">Show: <span aria-current=\"true\">all states</span> "
                  "\xc2\xb7 <a href=\"?state=down\">failing only</a></p>");
    /* One page: no page links. */
    assert_lacks(p, "class=\"nav pager\"");
    free(p);
}

/* ---- escaping ---- */

#define EVIL "<script>alert(1)</script>\"'&"
#define EVIL_HTML "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;"
#define EVIL_URL "%3Cscript%3Ealert%281%29%3C%2Fscript%3E%22%27%26"

static void test_escaping(void **state)
{
    (void)state;
    /* Every string of the model carries markup, quotes and an ampersand. */
    json_t *m = json_pack(
        "{s:s, s:{s:s, s:s, s:s, s:s, s:s}, s:{s:{s:i}},"
        " s:[{s:s, s:i, s:i, s:i, s:i}],"
        " s:[{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:f, s:f}],"
        " s:[{s:s, s:s, s:f, s:s, s:[{s:s, s:f, s:f, s:i}], s:f}],"
        " s:[{s:s, s:s, s:f, s:s}],"
        " s:[{s:s, s:s, s:{s:s, s:s}, s:s}],"
        " s:[{s:s, s:s, s:s, s:[s], s:[s], s:b}],"
        " s:{s:s, s:s, s:i, s:i, s:i, s:i}}",
        "generated_at", EVIL, "agent", "version", EVIL, "revision", EVIL, "shard", EVIL,
        "started_at", EVIL, "config_loaded_at", EVIL, "summary", "checks", "down", 1, "groups",
        "name", EVIL, "checks", 1, "up", 0, "down", 1, "pending", 0, "checks", "name", EVIL, "type",
        EVIL, "group", EVIL, "target", EVIL, "state", "down", "reason", EVIL, "detail", EVIL,
        "cert_expiry_soon", 1, "cert_expires_in_seconds", 3600.0, "since_success_seconds", 5.0,
        "slos", "name", EVIL, "sli", EVIL, "objective", 0.99, "period", EVIL, "windows", "window",
        EVIL, "sli_ratio", 0.5, "burn_rate", 50.0, "events", 2, "budget_remaining", 0.5, "canaries",
        "name", EVIL, "verdict", EVIL, "score", 1.0, "reason", EVIL, "alerts", "alertname", EVIL,
        "severity", EVIL, "labels", EVIL, EVIL, "team", EVIL, "since", EVIL, "maintenance", "name",
        EVIL, "start", EVIL, "end", EVIL, "checks", EVIL, "slos", EVIL, "all", 0, "page", "group",
        EVIL, "state", EVIL, "page", 2, "per_page", 1, "checks_matched", 3, "pages", 3);
    assert_non_null(m);
    char *p = render(m, &OPTS);
    json_decref(m);
    /* The page's own script is the only one, and no string broke out. */
    assert_int_equal(count(p, "<script"), 1);
    assert_lacks(p, "alert(1)</script>");
    assert_lacks(p, "\"'&");
    /* Each string in its place, escaped. */
    assert_has(p, "outpost " EVIL_HTML " (revision " EVIL_HTML ") \xc2\xb7 shard " EVIL_HTML
                  " \xc2\xb7 generated " EVIL_HTML " \xc2\xb7 started " EVIL_HTML);
    assert_has(p, "<span class=\"name\">" EVIL_HTML "</span><br><small class=\"target\">" EVIL_HTML
                  " \xc2\xb7 " EVIL_HTML "</small>");
    assert_has(p, "<b class=\"reason down\">" EVIL_HTML "</b>: <span class=\"detail\">" EVIL_HTML
                  "</span>");
    assert_has(p, "<details class=\"group\" open><summary>" EVIL_HTML " <small>");
    assert_has(p,
               "<a href=\"?group=" EVIL_URL "&state=" EVIL_URL "&per_page=1\">" EVIL_HTML "</a>");
    assert_has(p, "<h3>" EVIL_HTML " <span class=\"badge ok\">ok</span></h3>");
    assert_has(p, "<p class=\"muted\">" EVIL_HTML " SLI \xc2\xb7 objective <span class=\"num\">99 "
                  "%</span> over " EVIL_HTML "</p>");
    assert_has(p, "<tr><td>" EVIL_HTML "</td><td class=\"num\">50.000 %</td>");
    assert_has(p, "<h3>" EVIL_HTML " <span class=\"badge verdict inconclusive\">" EVIL_HTML
                  "</span></h3>");
    assert_has(p, "<span class=\"detail\">" EVIL_HTML "</span></p>");
    assert_has(p, "<tr><td>" EVIL_HTML "</td><td class=\"warn\">" EVIL_HTML "</td><td "
                  "class=\"target\">" EVIL_HTML "=&quot;" EVIL_HTML "&quot;, team=&quot;" EVIL_HTML
                  "&quot;</td><td>" EVIL_HTML "</td></tr>");
    assert_has(p, "<tr><td>" EVIL_HTML "</td><td>" EVIL_HTML "</td><td>" EVIL_HTML "</td><td>"
                  "checks: " EVIL_HTML "; SLOs: " EVIL_HTML "</td></tr>");
    /* The filters and page links carry the query values percent-encoded. */
    assert_has(p, "group " EVIL_HTML " <a href=\"?state=" EVIL_URL "&per_page=1\">every "
                  "group</a>");
    assert_has(p, "<a href=\"?group=" EVIL_URL "&state=" EVIL_URL "&page=3&per_page=1\">next "
                  "\xc2\xbb</a>");
    free(p);
}

static void test_html_text(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"plain", "plain"},
        {"a<b>&c\"d'e", "a&lt;b&gt;&amp;c&quot;d&#39;e"},
        {"tab\tnew\nline", "tab\tnew\nline"},
        {"nul\x01"
         "bell\x07"
         "del\x7f",
         "nul\xef\xbf\xbd"
         "bell\xef\xbf\xbd"
         "del\xef\xbf\xbd"},
        {"caf\xc3\xa9 \xe2\x9c\x93", "caf\xc3\xa9 \xe2\x9c\x93"},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct buf b;
        buf_init(&b, 1024);
        html_text(&b, cases[i].in);
        assert_string_equal(buf_str(&b), cases[i].out);
        buf_reset(&b);
        html_query_value(&b, cases[i].in);
        for (const char *q = buf_str(&b); *q; q++)
            assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                   "0123456789-._~%",
                                   *q));
        buf_free(&b);
    }
    struct buf b;
    buf_init(&b, 1024);
    html_query_value(&b, "a b&c=d/\xc3\xa9~");
    assert_string_equal(buf_str(&b), "a%20b%26c%3Dd%2F%C3%A9~");
    buf_free(&b);
}

/* ---- null, missing and mistyped fields; empty sections ---- */

static void test_nulls(void **state)
{
    (void)state;
    char *p = render_text(
        "{'checks':[{'name':'n','type':'http','group':'','target':'t','state':'down',"
        "'reason':null,'detail':null,'status_code':null,'consecutive_failures':null,"
        "'since_success_seconds':null,'latency':{'p50_seconds':null,'p95_seconds':'fast'},"
        "'cert_expiry_soon':true,'cert_expires_in_seconds':null,'trend':{'t':[1],"
        "'runs':[0],'failures':['x'],'mean_seconds':[null]}}],"
        "'slos':[{'name':'s','sli':'availability','objective':null,'sli_ratio':null,"
        "'windows':[{'window':'5m','sli_ratio':null,'burn_rate':null,'events':0}],"
        "'budget_remaining':null,'exhaustion_seconds':null,'alerts':null,"
        "'burndown':{'t':[],'budget_remaining':[1]}}],"
        "'canaries':[{'name':'c','verdict':null,'score':null,'reason':null,'arms':null,"
        "'error_p_value':null,'latency_shift':{'estimate_seconds':null}}],"
        "'page':{'group':null,'state':null,'page':1,'per_page':500,'checks_matched':1,"
        "'pages':1}}",
        &OPTS);
    assert_has(p, "<b class=\"reason down\">failed</b></td>");
    assert_has(p, "class=\"num latency\">\xe2\x80\x93 / \xe2\x80\x93</td>");
    assert_has(p, "class=\"since\">never</td>");
    assert_lacks(p, "certificate");
    assert_has(p, "aria-label=\"latency, last 10 minutes: no latency, 0 failed runs\">"
                  "<line class=\"base\" x1=\"0\" y1=\"23.5\" x2=\"100\" y2=\"23.5\"/></svg>");
    assert_has(p, "objective <span class=\"num\">\xe2\x80\x93</span>");
    assert_has(p, "SLI over the period <b class=\"num\">no events yet</b>");
    assert_has(p, "<rect class=\"fill-bad\" width=\"0.0\" height=\"6\"/>");
    assert_has(p, "budget remaining \xe2\x80\x93</b> \xc2\xb7 <span class=\"exhaustion\">not "
                  "burning</span>");
    assert_has(p, "budget remaining over the period: no data yet");
    assert_has(p, "<h3>c <span class=\"badge verdict inconclusive\">unknown</span></h3>\n"
                  "<p>score <span class=\"num\">\xe2\x80\x93</span></p>");
    assert_has(p, "<tr><td>baseline</td><td class=\"num\">0</td><td class=\"num\">"
                  "\xe2\x80\x93</td><td class=\"num\">\xe2\x80\x93</td></tr>");
    assert_has(p, "latency shift <span class=\"num\">\xe2\x80\x93</span></p>");
    free(p);

    /* Empty objects, and models that are not objects at all: a page, never a crash. */
    const char *odd[] = {"{}", "[]", "null",
                         "{'checks':[{}],'slos':[{}],'canaries':[{}],"
                         "'alerts':[{}],'maintenance':[{}],'groups':[{}],"
                         "'page':{'page':-4,'pages':2}}",
                         "{'checks':{},'slos':'x','summary':[1],'agent':7,'page':[]}"};
    for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
        p = render_text(odd[i], &OPTS);
        assert_int_equal(strcmp(p + strlen(p) - 16, "</body>\n</html>\n"), 0);
        free(p);
    }
}

static void test_empty_sections(void **state)
{
    (void)state;
    char *p = render_text("{'summary':{'checks':{'total':0}},'groups':[],'checks':[],'slos':[],"
                          "'canaries':[],'alerts':[],'maintenance':[],'page':{'page':1,"
                          "'per_page':500,'checks_matched':0,'pages':0}}",
                          &OPTS);
    assert_has(p, "<title>outpost status</title>");
    assert_has(p, "<h2>SLOs</h2>\n<p class=\"muted\">No SLOs configured.</p>");
    assert_has(p, "<h2>Canaries</h2>\n<p class=\"muted\">No canaries configured.</p>");
    assert_has(p, "<h2>Firing alerts</h2>\n<p class=\"muted\">No alert is firing.</p>");
    assert_has(p, "<h2>Maintenance</h2>\n<p class=\"muted\">No maintenance window is "
                  "active.</p>");
    assert_has(p, "<p class=\"muted\">No checks configured.</p>");
    assert_lacks(p, "<table");
    assert_lacks(p, "<details");
    free(p);

    /* Checks without groups: one table, no group headings. */
    p = render_text("{'groups':[{'name':'','checks':1,'up':1}],'checks':[{'name':'a',"
                    "'state':'up'}],'page':{'page':1,'pages':1}}",
                    &OPTS);
    assert_int_equal(count(p, "<table class=\"checks\">"), 1);
    assert_lacks(p, "<details");
    free(p);

    /* A filter that matches nothing. */
    p = render_text("{'summary':{'checks':{'total':3}},'groups':[{'name':'g'}],'checks':[],"
                    "'page':{'group':'g','state':'down','page':1,'checks_matched':0,"
                    "'pages':0}}",
                    &OPTS);
    assert_has(p, "<p class=\"muted\">No check matches.</p>");
    assert_has(p, "<span aria-current=\"true\">failing only</span>");
    free(p);
}

/* ---- pages and groups ---- */

static void test_pagination(void **state)
{
    (void)state;
    char *p = render_text("{'groups':[{'name':'a b&c'},{'name':'z'}],'checks':[{'name':'x',"
                          "'group':'a b&c','state':'down'}],'page':{'group':'a b&c',"
                          "'state':'down','page':7,'per_page':100,'checks_matched':1950,"
                          "'pages':20}}",
                          &OPTS);
    const char *q = "?group=a%20b%26c&state=down";
    char want[1024];
    assert_has(p, "<nav class=\"nav pager\" aria-label=\"pages\"><span>Checks "
                  "601\xe2\x80\x93"
                  "700 of 1950</span>");
    snprintf(want, sizeof(want),
             "<a href=\"%s&page=6&per_page=100\">\xc2\xab previous</a><a "
             "href=\"%s&per_page=100\">1</a><span>\xe2\x80\xa6</span><a "
             "href=\"%s&page=5&per_page=100\">5</a><a href=\"%s&page=6&per_page=100\">6</a>"
             "<span aria-current=\"page\">7</span><a href=\"%s&page=8&per_page=100\">8</a><a "
             "href=\"%s&page=9&per_page=100\">9</a><span>\xe2\x80\xa6</span><a "
             "href=\"%s&page=20&per_page=100\">20</a><a href=\"%s&page=8&per_page=100\">next "
             "\xc2\xbb</a></nav>",
             q, q, q, q, q, q, q, q);
    assert_has(p, want);
    /* Top and bottom. */
    assert_int_equal(count(p, "class=\"nav pager\""), 2);
    assert_has(p, "Show: <a href=\"?group=a%20b%26c&per_page=100\">all states</a> \xc2\xb7 <span "
                  "aria-current=\"true\">failing only</span> \xc2\xb7 group a b&amp;c <a "
                  "href=\"?state=down&per_page=100\">every group</a></p>");
    free(p);

    /* A page past the last: the checks are on the first page, not missing. */
    p = render_text("{'summary':{'checks':{'total':3}},'checks':[],'page':{'state':'down',"
                    "'page':5,'per_page':500,'checks_matched':2,'pages':1}}",
                    &OPTS);
    assert_has(p, "<p class=\"muted\">No check on page 5: the 2 that match begin on <a "
                  "href=\"?state=down\">page 1</a>.</p>");
    assert_lacks(p, "No check matches.");
    free(p);

    /* The last page of three with the default per_page; no "next". */
    p = render_text("{'checks':[],'page':{'page':3,'per_page':500,'checks_matched':1200,"
                    "'pages':3}}",
                    &OPTS);
    assert_has(p, "<span>Checks 1001\xe2\x80\x93"
                  "1200 of 1200</span><a href=\"?page=2\">\xc2\xab previous</a><a "
                  "href=\"?\">1</a><a href=\"?page=2\">2</a><span "
                  "aria-current=\"page\">3</span></nav>");
    free(p);
}

static void test_collapsed_groups(void **state)
{
    (void)state;
    struct status_html_opts o = OPTS;
    o.open_groups = 1;
    char *p = render_text("{'groups':[{'name':'g1'},{'name':'g2'},{'name':'g3','down':1}],"
                          "'checks':[{'name':'a','group':'g1','state':'up'},{'name':'b',"
                          "'group':'g2','state':'up'},{'name':'c','group':'g3','state':'up'},"
                          "{'name':'d','group':'g3','state':'down'},{'name':'e','group':'g4',"
                          "'state':'pending'}],'page':{'page':1,'pages':1}}",
                          &o);
    /* The first group open; g2 folded; g3 open for its failing check; g4, missing from
     * the groups list, after the listed ones. */
    assert_has(p, "<details class=\"group\" open><summary>g1 ");
    assert_has(p, "<details class=\"group\"><summary>g2 ");
    assert_has(p, "<details class=\"group\" open><summary>g3 ");
    assert_has(p, "<details class=\"group\"><summary>g4</summary>");
    assert_before(p, "<summary>g3 ", "<summary>g4");
    assert_before(p, ">d<", ">c<");
    free(p);
}

/* ---- the policy and the cap ---- */

/* base64(sha256(text)), as a CSP source. */
static void hash_source(const char *text, size_t n, char *out)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned dn = 0;
    assert_int_equal(EVP_Digest(text, n, d, &dn, EVP_sha256(), NULL), 1);
    memcpy(out, "'sha256-", 8);
    int k = EVP_EncodeBlock((unsigned char *)out + 8, d, (int)dn);
    memcpy(out + 8 + k, "'", 2);
}

/* The content of the first <tag>...</tag> of page. */
static void element(const char *page, const char *open, const char *close, const char **text,
                    size_t *n)
{
    const char *a = strstr(page, open), *z;
    assert_non_null(a);
    a += strlen(open);
    z = strstr(a, close);
    assert_non_null(z);
    *text = a;
    *n = (size_t)(z - a);
}

static void test_csp(void **state)
{
    (void)state;
    char *p = render_text(FULL, &OPTS);
    struct buf csp;
    buf_init(&csp, 4096);
    status_html_csp(&csp);
    const char *text;
    size_t n;
    char style[128], script[128], want[512];
    element(p, "<style>", "</style>", &text, &n);
    hash_source(text, n, style);
    element(p, "<script>", "</script>", &text, &n);
    hash_source(text, n, script);
    snprintf(want, sizeof(want),
             "default-src 'none'; style-src %s; script-src %s; img-src data:; base-uri 'none'; "
             "form-action 'self'; frame-ancestors 'none'",
             style, script);
    assert_string_equal(buf_str(&csp), want);
    /* No inline style attribute or event handler, which the policy would refuse. */
    assert_lacks(p, " style=");
    assert_lacks(p, " onclick=");
    assert_lacks(p, "unsafe");
    buf_free(&csp);
    free(p);

    /* Without refresh, no script and no button. */
    struct status_html_opts o = OPTS;
    o.refresh_seconds = 0;
    p = render_text(FULL, &o);
    assert_lacks(p, "<script");
    assert_lacks(p, "id=\"refresh\"");
    free(p);
}

static void test_cap(void **state)
{
    (void)state;
    json_t *m = model(FULL);
    struct buf b;
    buf_init(&b, 4096);
    assert_int_equal(status_html(m, &OPTS, &b), OP_ERR_LIMIT);
    assert_true(b.failed);
    assert_int_equal(b.len, 0);
    buf_free(&b);
    json_decref(m);
}

/* ---- numbers ---- */

static void test_numbers(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 4096);
#define EXPECT(call, want)                                                                         \
    do {                                                                                           \
        buf_reset(&b);                                                                             \
        call;                                                                                      \
        assert_string_equal(buf_str(&b), want);                                                    \
    } while (0)
    EXPECT(html_percent(&b, 0.724, 1), "72.4 %");
    EXPECT(html_percent(&b, -0.0004, 1), "0.0 %");
    EXPECT(html_percent(&b, -0.35, 1), "-35.0 %");
    EXPECT(html_percent(&b, 0.99972, 3), "99.972 %");
    EXPECT(html_percent(&b, 1.0, 2), "100.00 %");
    /* Strictly between 0 and 1: never shown as exactly 0 or 100. */
    EXPECT(html_percent(&b, 0.9999996, 3), "> 99.999 %");
    EXPECT(html_percent(&b, 0.99999, 3), "99.999 %");
    EXPECT(html_percent(&b, 0.000001, 2), "< 0.01 %");
    EXPECT(html_percent(&b, 0.0, 2), "0.00 %");
    EXPECT(html_percent(&b, 1.0000004, 1), "100.0 %");
    EXPECT(html_objective(&b, 0.999), "99.9 %");
    EXPECT(html_objective(&b, 0.9995), "99.95 %");
    EXPECT(html_objective(&b, 0.95), "95 %");
    EXPECT(html_objective(&b, 0.99999), "99.999 %");
    EXPECT(html_seconds(&b, 0.0123, false), "12.3 ms");
    EXPECT(html_seconds(&b, 0.00085, false), "850 \xc2\xb5s");
    EXPECT(html_seconds(&b, 0.2, false), "200 ms");
    EXPECT(html_seconds(&b, 1.95, false), "1.95 s");
    EXPECT(html_seconds(&b, 42.0, false), "42.0 s");
    EXPECT(html_seconds(&b, 0.0, false), "0 \xc2\xb5s");
    EXPECT(html_seconds(&b, 0.0, true), "+0 \xc2\xb5s");
    EXPECT(html_seconds(&b, -0.001, true), "-1.00 ms");
    EXPECT(html_seconds(&b, 0.004, true), "+4.00 ms");
    /* Three significant digits after rounding, in the unit that fits then. */
    EXPECT(html_seconds(&b, 0.9996, false), "1.00 s");
    EXPECT(html_seconds(&b, 0.0009996, false), "1.00 ms");
    EXPECT(html_seconds(&b, 0.009996, false), "10.0 ms");
    EXPECT(html_seconds(&b, 0.09996, false), "100 ms");
    EXPECT(html_seconds(&b, -0.09996, true), "-100 ms");
    EXPECT(html_seconds(&b, 9.996, false), "10.0 s");
    EXPECT(html_seconds(&b, 999.6, false), "1000 s");
    EXPECT(html_seconds(&b, 0.000999, false), "999 \xc2\xb5s");
    EXPECT(html_seconds(&b, NAN, false), "\xe2\x80\x93");
    EXPECT(html_seconds(&b, INFINITY, true), "\xe2\x80\x93");
    EXPECT(html_duration(&b, 0), "0 s");
    EXPECT(html_duration(&b, 59.9), "59 s");
    EXPECT(html_duration(&b, 60), "1 min");
    EXPECT(html_duration(&b, 2400), "40 min");
    EXPECT(html_duration(&b, 3600), "1 h");
    EXPECT(html_duration(&b, 12000), "3 h 20 min");
    EXPECT(html_duration(&b, 86400), "1 day");
    EXPECT(html_duration(&b, 273600), "3 days 4 h");
    EXPECT(html_duration(&b, -5), "0 s");
    EXPECT(html_duration(&b, NAN), "0 s");
    EXPECT(html_duration(&b, INFINITY), "115740 days 17 h");
    EXPECT(html_time(&b, "2026-12-01T13:00:00Z"),
           "<time datetime=\"2026-12-01T13:00:00Z\">2026-12-01 13:00:00 UTC</time>");
    EXPECT(html_time(&b, "2026-12-01T13:00:00+01:00"), "2026-12-01T13:00:00+01:00");
    EXPECT(html_time(&b, "2026-12-01T13:00:0xZ"), "2026-12-01T13:00:0xZ");
    EXPECT(html_time(&b, NULL), "\xe2\x80\x93");
    EXPECT(html_base64(&b, (const unsigned char *)"", 0), "");
    EXPECT(html_base64(&b, (const unsigned char *)"f", 1), "Zg==");
    EXPECT(html_base64(&b, (const unsigned char *)"fo", 2), "Zm8=");
    EXPECT(html_base64(&b, (const unsigned char *)"foo", 3), "Zm9v");
    EXPECT(html_base64(&b, (const unsigned char *)"\xff\xfe\xfd\xfc", 4), "//79/A==");
    buf_free(&b);
}

/* ---- charts ---- */

static void test_svg(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 4096);
    /* A value, a failed slot without one, then two values. */
    struct svg_spark_point sp[] = {{0.01, 0}, {NAN, 2}, {0.02, 0}, {0.02, 1}};
    svg_sparkline(&b, sp, 4, "lat");
    assert_string_equal(
        buf_str(&b),
        "<svg class=\"spark\" viewBox=\"0 0 100 24\" role=\"img\" aria-label=\"lat: peak "
        "20.0 ms, 3 failed runs\"><line class=\"base\" x1=\"0\" y1=\"23.5\" x2=\"100\" "
        "y2=\"23.5\"/><circle class=\"dot\" cx=\"2.5\" cy=\"12.0\" r=\"1.5\"/><polyline "
        "class=\"line\" points=\"65.8,2.5 97.5,2.5\"/><circle class=\"fail-mark\" cx=\"34.2\" "
        "cy=\"21.5\" r=\"2.2\"/><circle class=\"fail-mark\" cx=\"97.5\" cy=\"2.5\" "
        "r=\"2.2\"/></svg>");

    buf_reset(&b);
    struct svg_burn_point bp[] = {{0, 1.0}, {50, 0.5}, {60, NAN}, {100, -0.5}};
    svg_burndown(&b, bp, 4);
    assert_string_equal(buf_str(&b),
                        "<svg class=\"burn\" viewBox=\"0 0 300 60\" preserveAspectRatio=\"none\" "
                        "role=\"img\" aria-label=\"budget remaining over the period: from "
                        "100.0 % to -50.0 %\"><line class=\"zero\" x1=\"0\" y1=\"39.0\" "
                        "x2=\"300\" y2=\"39.0\" vector-effect=\"non-scaling-stroke\"/>"
                        "<polyline class=\"line\" vector-effect=\"non-scaling-stroke\" "
                        "points=\"0.0,3.0 150.0,21.0 300.0,57.0\"/></svg>");

    /* Values whose spans overflow are left out, never NaN coordinates. */
    buf_reset(&b);
    struct svg_burn_point huge[] = {{-1e308, 1.0}, {0, 1.0},     {50, 1e308},
                                    {60, -1e308},  {1e308, 0.5}, {100, 0.5}};
    svg_burndown(&b, huge, 6);
    assert_lacks(buf_str(&b), "nan");
    assert_lacks(buf_str(&b), "inf");
    assert_has(buf_str(&b), "from 100.0 % to 50.0 %");
    assert_has(buf_str(&b), "points=\"0.0,3.0 300.0,30.0\"");

    buf_reset(&b);
    svg_bar(&b, 1.7, "fill-ok");
    assert_has(buf_str(&b), "<rect class=\"fill-ok\" width=\"100.0\" height=\"6\"/>");
    buf_reset(&b);
    svg_bar(&b, -1, "fill-bad");
    assert_has(buf_str(&b), "<rect class=\"fill-bad\" width=\"0.0\" height=\"6\"/>");
    buf_reset(&b);
    svg_bar(&b, NAN, "fill-bad");
    assert_has(buf_str(&b), "<rect class=\"fill-bad\" width=\"0.0\" height=\"6\"/>");
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header),
        cmocka_unit_test(test_slos),
        cmocka_unit_test(test_canaries_alerts_maintenance),
        cmocka_unit_test(test_many_alerts),
        cmocka_unit_test(test_checks),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_html_text),
        cmocka_unit_test(test_nulls),
        cmocka_unit_test(test_empty_sections),
        cmocka_unit_test(test_pagination),
        cmocka_unit_test(test_collapsed_groups),
        cmocka_unit_test(test_csp),
        cmocka_unit_test(test_cap),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_svg),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
