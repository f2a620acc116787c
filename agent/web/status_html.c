/*
 * status_html.c - the status page's document, header and the SLO, canary,
 * alert and maintenance sections (status_html.h); the checks are in
 * status_html_checks.c.
 */
#include "html.h"
#include "status_html_int.h"
#include "svg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The page's only stylesheet and only script. The policy names their
 * SHA-256 (status_html_csp), so a byte changed here changes the hash with
 * it, and nothing else inline can run or apply. Colours: GitHub's Primer
 * palette, which keeps text at WCAG AA contrast in both schemes. */
static const char STYLE[] =
    ":root{color-scheme:light dark;--fg:#1f2328;--muted:#59636e;--bg:#fff;--card:#f6f8fa;"
    "--line:#d1d9e0;--ok:#1a7f37;--bad:#cf222e;--warn:#9a6700;--info:#0969da}"
    "@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9198a1;--bg:#0d1117;"
    "--card:#151b23;--line:#3d444d;--ok:#3fb950;--bad:#f85149;--warn:#d29922;--info:#4493f8}}"
    "*{box-sizing:border-box}"
    "body{margin:0 auto;max-width:75rem;padding:1rem;color:var(--fg);background:var(--bg);"
    "font:15px/1.45 system-ui,-apple-system,\"Segoe UI\",Roboto,\"Helvetica Neue\",Arial,"
    "sans-serif}"
    "h1{font-size:1.5rem;margin:0}"
    "h2{font-size:1.2rem;margin:1.75rem 0 .5rem;padding-bottom:.25rem;"
    "border-bottom:1px solid var(--line)}"
    "h3{font-size:1rem;margin:0 0 .25rem}"
    "a{color:var(--info)}"
    "p{margin:.25rem 0}"
    ".meta,.muted,th,small{color:var(--muted)}"
    "header .row{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:baseline;"
    "justify-content:space-between}"
    "button{font:inherit;color:inherit;background:var(--card);border:1px solid var(--line);"
    "border-radius:6px;padding:.2rem .6rem;cursor:pointer}"
    ".tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(10.5rem,1fr));"
    "gap:.5rem;list-style:none;padding:0;margin:1rem 0}"
    ".tile,.card{background:var(--card);border:1px solid var(--line);border-radius:6px}"
    ".tile{padding:.5rem .75rem}"
    ".tile .k{display:block;font-size:.8rem;color:var(--muted);text-transform:uppercase;"
    "letter-spacing:.04em}"
    ".tile b{font-size:1.5rem}"
    ".tile small{display:block}"
    ".tile.bad{border-color:var(--bad)}.tile.warn{border-color:var(--warn)}"
    ".cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(22rem,1fr));gap:.75rem}"
    ".card{padding:.75rem;min-width:0}"
    ".badge{display:inline-block;padding:0 .45rem;border:1px solid currentColor;"
    "border-radius:1rem;font-size:.8rem;font-weight:600;white-space:nowrap;vertical-align:1px}"
    ".up,.pass,.ok{color:var(--ok)}.down,.fail,.bad{color:var(--bad)}"
    ".pending,.inconclusive,.warn{color:var(--warn)}.info{color:var(--info)}"
    ".tile.bad b{color:var(--bad)}.tile.warn b{color:var(--warn)}"
    ".scroll{overflow-x:auto}"
    "tr.st-down td:first-child{box-shadow:inset 3px 0 var(--bad)}"
    "table.checks{table-layout:fixed;min-width:44rem}"
    "table.checks th:nth-child(1){width:7.5rem}table.checks th:nth-child(2){width:28%}"
    "table.checks th:nth-child(4){width:9.5rem}table.checks th:nth-child(5){width:7.5rem}"
    "table.checks th:nth-child(6){width:116px}"
    "table{border-collapse:collapse;width:100%;margin:.25rem 0}"
    "th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid var(--line);"
    "vertical-align:top}"
    "th{font-weight:600;font-size:.85rem}"
    ".num{white-space:nowrap;font-variant-numeric:tabular-nums}"
    ".target,code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;"
    "font-size:.85em;overflow-wrap:anywhere}"
    ".detail{overflow-wrap:anywhere}"
    "svg.bar{display:block;width:100%;height:.6rem;margin:.35rem 0}"
    "svg.burn{display:block;width:100%;height:4rem;margin:.35rem 0}"
    "svg.spark{width:100px;height:24px}"
    "svg .track{fill:var(--line)}svg .fill-ok{fill:var(--ok)}svg .fill-warn{fill:var(--warn)}"
    "svg .fill-bad{fill:var(--bad)}"
    "svg .line{fill:none;stroke:var(--info);stroke-width:1.5;stroke-linejoin:round}"
    "svg .dot{fill:var(--info)}svg .fail-mark{fill:var(--bad)}"
    "svg .base{stroke:var(--line);stroke-width:1}"
    "svg .zero{stroke:var(--muted);stroke-width:1;stroke-dasharray:4 3}"
    "details{margin:.5rem 0}"
    "summary{cursor:pointer;font-weight:600;padding:.3rem 0}"
    ".pager a,.pager span{margin-right:.6rem}"
    ".nav [aria-current]{font-weight:700}.filters a,.filters span{margin:0 .15rem}"
    "@media (max-width:40rem){body{padding:.5rem}.cards{grid-template-columns:1fr}"
    "table.checks{min-width:0}table.checks thead{display:none}"
    "table.checks tr{display:block;padding:.4rem 0;border-bottom:1px solid var(--line)}"
    "table.checks td{display:block;border:0;padding:.1rem 0}"
    "table.checks td[data-l]::before{content:attr(data-l) \": \";color:var(--muted)}}"
    "@media print{#refresh{display:none}body{max-width:none;font-size:11pt}"
    ".tile,.card,tr{break-inside:avoid}a{color:inherit}}";

/* Reload every data-every seconds unless paused. Without JavaScript the
 * button stays hidden and the page is complete as served. */
static const char SCRIPT[] =
    "(function(){var b=document.getElementById(\"refresh\");if(!b)return;"
    "var s=parseInt(b.getAttribute(\"data-every\"),10)||30,t=null;"
    "function arm(){t=setTimeout(function(){location.reload();},s*1000);}"
    "b.hidden=false;b.addEventListener(\"click\",function(){"
    "if(t!==null){clearTimeout(t);t=null;b.textContent=\"Resume auto-refresh\";}"
    "else{arm();b.textContent=\"Pause auto-refresh\";}});arm();})();";

/* Firing alerts listed open up to this many, folded beyond it; rows
 * written at most SH_ALERTS_SHOWN. */
#define SH_ALERTS_OPEN 20
#define SH_ALERTS_SHOWN 200

/* ---- reading the model ---- */

const char *sh_str(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

bool sh_value(const json_t *v, double *out)
{
    if (!json_is_number(v))
        return false;
    double d = json_number_value(v);
    if (!isfinite(d))
        return false;
    *out = d;
    return true;
}

bool sh_num(const json_t *o, const char *key, double *out)
{
    return sh_value(json_object_get(o, key), out);
}

long long sh_count(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    if (json_is_integer(v))
        return json_integer_value(v);
    if (json_is_real(v) && isfinite(json_real_value(v)) && fabs(json_real_value(v)) < 1e18)
        return (long long)json_real_value(v);
    return 0;
}

bool sh_true(const json_t *o, const char *key)
{
    return json_is_true(json_object_get(o, key));
}

void sh_dash(struct buf *b)
{
    buf_adds(b, "\xe2\x80\x93");
}

void sh_opt_seconds(struct buf *b, const json_t *o, const char *key)
{
    double v;
    if (sh_num(o, key, &v))
        html_seconds(b, v, false);
    else
        sh_dash(b);
}

void sh_opt_percent(struct buf *b, const json_t *o, const char *key, int decimals)
{
    double v;
    if (sh_num(o, key, &v))
        html_percent(b, v, decimals);
    else
        sh_dash(b);
}

/* A number such as a score or a p-value: three significant digits, and
 * large values without an exponent. */
static void plain_number(struct buf *b, double v)
{
    if (fabs(v) >= 1000.0)
        buf_addf(b, "%.0f", v);
    else
        buf_addf(b, "%.3g", v);
}

/* ---- header ---- */

/* One summary tile: a label, the number that matters most and the rest in
 * small print. cls: "bad", "warn" or "" (static). */
static void tile_open(struct buf *b, const char *label, const char *cls, long long n,
                      const char *what)
{
    buf_addf(b, "<li class=\"tile%s%s\"><span class=\"k\">%s</span><b>%lld</b> %s", *cls ? " " : "",
             cls, label, n, what);
}

static void header(struct buf *b, const json_t *m, const struct status_html_opts *o)
{
    const json_t *agent = json_object_get(m, "agent");
    const json_t *sum = json_object_get(m, "summary");
    buf_adds(b, "<header>\n<div class=\"row\"><h1>outpost status</h1>");
    if (o->refresh_seconds > 0)
        buf_addf(b,
                 "<button id=\"refresh\" type=\"button\" data-every=\"%u\" hidden>"
                 "Pause auto-refresh</button>",
                 o->refresh_seconds);
    buf_adds(b, "</div>\n<p class=\"meta\">outpost ");
    html_text(b, sh_str(agent, "version"));
    if (sh_str(agent, "revision")) {
        buf_adds(b, " (revision ");
        html_text(b, sh_str(agent, "revision"));
        buf_adds(b, ")");
    }
    buf_adds(b, " \xc2\xb7 shard ");
    if (sh_str(agent, "shard"))
        html_text(b, sh_str(agent, "shard"));
    else
        sh_dash(b);
    buf_adds(b, " \xc2\xb7 generated ");
    html_time(b, sh_str(m, "generated_at"));
    buf_adds(b, " \xc2\xb7 started ");
    html_time(b, sh_str(agent, "started_at"));
    buf_adds(b, " \xc2\xb7 configuration loaded ");
    html_time(b, sh_str(agent, "config_loaded_at"));
    if (json_is_false(json_object_get(agent, "config_reload_successful")))
        buf_adds(b, " \xc2\xb7 <span class=\"badge bad\">last reload failed</span>");
    buf_adds(b, "</p>\n<ul class=\"tiles\">\n");

    const json_t *c = json_object_get(sum, "checks");
    long long down = sh_count(c, "down"), pending = sh_count(c, "pending");
    tile_open(b, "Checks", down > 0 ? "bad" : pending > 0 ? "warn" : "", down, "down");
    buf_addf(b, "<small>of %lld \xc2\xb7 %lld up \xc2\xb7 %lld pending</small></li>\n",
             sh_count(c, "total"), sh_count(c, "up"), pending);

    const json_t *s = json_object_get(sum, "slos");
    long long paging = sh_count(s, "paging"), ticketing = sh_count(s, "ticketing");
    tile_open(b, "SLOs", paging > 0 ? "bad" : ticketing > 0 ? "warn" : "", paging, "paging");
    buf_addf(b, "<small>of %lld \xc2\xb7 %lld ticketing \xc2\xb7 %lld frozen</small></li>\n",
             sh_count(s, "total"), ticketing, sh_count(s, "frozen"));

    const json_t *k = json_object_get(sum, "canaries");
    long long fail = sh_count(k, "fail");
    tile_open(b, "Canaries", fail > 0 ? "bad" : "", fail, "failing");
    buf_addf(b, "<small>of %lld \xc2\xb7 %lld pass \xc2\xb7 %lld inconclusive</small></li>\n",
             sh_count(k, "total"), sh_count(k, "pass"), sh_count(k, "inconclusive"));

    long long alerts = sh_count(sum, "alerts"), maint = sh_count(sum, "maintenance");
    tile_open(b, "Alerts", alerts > 0 ? "bad" : "", alerts, "firing");
    buf_adds(b, "</li>\n");
    tile_open(b, "Maintenance", maint > 0 ? "warn" : "", maint,
              maint == 1 ? "active window" : "active windows");
    buf_adds(b, "</li>\n</ul>\n</header>\n");
}

/* ---- SLOs ---- */

static void burn_rate(struct buf *b, const json_t *w)
{
    double v;
    if (!sh_num(w, "burn_rate", &v))
        sh_dash(b);
    else
        buf_addf(b, "%.*f\xc3\x97", v < 10.0 ? 2 : 1, v); /* 2.45× */
}

/* The burndown's columns: point i is (t[i], budget_remaining[i]). */
static void slo_burndown(struct buf *b, const json_t *burndown)
{
    const json_t *t = json_object_get(burndown, "t");
    const json_t *r = json_object_get(burndown, "budget_remaining");
    size_t n = json_array_size(t) < json_array_size(r) ? json_array_size(t) : json_array_size(r);
    struct svg_burn_point small[64], *p = n <= ARRAY_SIZE(small) ? small : xmalloc(n * sizeof(*p));
    for (size_t i = 0; i < n; i++) {
        if (!sh_value(json_array_get(t, i), &p[i].t))
            p[i].t = NAN;
        if (!sh_value(json_array_get(r, i), &p[i].remaining))
            p[i].remaining = NAN;
    }
    svg_burndown(b, p, n);
    if (p != small)
        free(p);
}

static void slo_card(struct buf *b, const json_t *s)
{
    const json_t *al = json_object_get(s, "alerts");
    buf_adds(b, "<article class=\"card\"><h3>");
    html_text(b, sh_str(s, "name"));
    if (sh_true(al, "page"))
        buf_adds(b, " <span class=\"badge bad\">paging</span>");
    else if (sh_true(al, "ticket"))
        buf_adds(b, " <span class=\"badge warn\">ticket</span>");
    else
        buf_adds(b, " <span class=\"badge ok\">ok</span>");
    if (sh_true(s, "freeze"))
        buf_adds(b, " <span class=\"badge warn\">deploy freeze</span>");
    if (sh_true(s, "in_maintenance"))
        buf_adds(b, " <span class=\"badge info\">in maintenance</span>");
    buf_adds(b, "</h3>\n<p class=\"muted\">");
    html_text(b, sh_str(s, "sli") ? sh_str(s, "sli") : "unknown");
    buf_adds(b, " SLI \xc2\xb7 objective <span class=\"num\">");
    double v;
    if (sh_num(s, "objective", &v))
        html_objective(b, v);
    else
        sh_dash(b);
    buf_adds(b, "</span> over ");
    html_text(b, sh_str(s, "period") ? sh_str(s, "period") : "the period");
    buf_adds(b, "</p>\n<p>SLI over the period <b class=\"num\">");
    if (sh_num(s, "sli_ratio", &v))
        html_percent(b, v, 3);
    else
        buf_adds(b, "no events yet");
    buf_adds(b, "</b></p>\n");

    double remaining = NAN;
    bool known = sh_num(s, "budget_remaining", &remaining);
    svg_bar(b, remaining,
            !known || remaining <= 0 ? "fill-bad"
            : remaining < 0.25       ? "fill-warn"
                                     : "fill-ok");
    buf_adds(b, "<p><b class=\"budget num\">budget remaining ");
    if (known)
        html_percent(b, remaining, 1);
    else
        sh_dash(b);
    buf_adds(b, "</b> \xc2\xb7 <span class=\"exhaustion\">");
    if (known && remaining <= 0) {
        buf_adds(b, "budget exhausted");
    } else if (sh_num(s, "exhaustion_seconds", &v)) {
        buf_adds(b, "exhausted in ");
        html_duration(b, v);
        buf_adds(b, " at the current burn rate");
    } else {
        buf_adds(b, "not burning");
    }
    buf_adds(b, "</span></p>\n");
    slo_burndown(b, json_object_get(s, "burndown"));

    const json_t *ws = json_object_get(s, "windows");
    if (json_array_size(ws) > 0) {
        buf_adds(b, "<div class=\"scroll\"><table class=\"windows\"><thead><tr><th>Window</th>"
                    "<th>SLI</th><th>Burn rate</th><th>Events</th></tr></thead><tbody>\n");
        size_t i;
        const json_t *w;
        json_array_foreach(ws, i, w)
        {
            buf_adds(b, "<tr><td>");
            html_text(b, sh_str(w, "window"));
            buf_adds(b, "</td><td class=\"num\">");
            sh_opt_percent(b, w, "sli_ratio", 3);
            buf_adds(b, "</td><td class=\"num\">");
            burn_rate(b, w);
            buf_addf(b, "</td><td class=\"num\">%lld</td></tr>\n", sh_count(w, "events"));
        }
        buf_adds(b, "</tbody></table></div>\n");
    }
    buf_adds(b, "</article>\n");
}

static void slos(struct buf *b, const json_t *m)
{
    const json_t *list = json_object_get(m, "slos");
    buf_adds(b, "<section id=\"slos\">\n<h2>SLOs</h2>\n");
    if (json_array_size(list) == 0) {
        buf_adds(b, "<p class=\"muted\">No SLOs configured.</p>\n</section>\n");
        return;
    }
    buf_adds(b, "<div class=\"cards\">\n");
    size_t i;
    const json_t *s;
    json_array_foreach(list, i, s) slo_card(b, s);
    buf_adds(b, "</div>\n</section>\n");
}

/* ---- canaries ---- */

static void arm_row(struct buf *b, const char *name, const json_t *arm)
{
    buf_addf(b, "<tr><td>%s</td><td class=\"num\">%lld</td><td class=\"num\">", name,
             sh_count(arm, "samples"));
    sh_opt_percent(b, arm, "error_ratio", 2);
    buf_adds(b, "</td><td class=\"num\">");
    sh_opt_seconds(b, arm, "p95_seconds");
    buf_adds(b, "</td></tr>\n");
}

static void shift_value(struct buf *b, const json_t *o, const char *key)
{
    double v;
    if (sh_num(o, key, &v))
        html_seconds(b, v, true);
    else
        sh_dash(b);
}

static void canary_card(struct buf *b, const json_t *c)
{
    const char *verdict = sh_str(c, "verdict");
    /* The verdict is also a class: only the three known ones. */
    const char *cls = !verdict                       ? "inconclusive"
                      : strcmp(verdict, "pass") == 0 ? "pass"
                      : strcmp(verdict, "fail") == 0 ? "fail"
                                                     : "inconclusive";
    buf_adds(b, "<article class=\"card\"><h3>");
    html_text(b, sh_str(c, "name"));
    buf_addf(b, " <span class=\"badge verdict %s\">", cls);
    html_text(b, verdict ? verdict : "unknown");
    buf_adds(b, "</span></h3>\n<p>score <span class=\"num\">");
    double v;
    if (sh_num(c, "score", &v))
        plain_number(b, v);
    else
        sh_dash(b);
    buf_adds(b, "</span>");
    if (sh_str(c, "reason") && *sh_str(c, "reason")) {
        buf_adds(b, " \xc2\xb7 <span class=\"detail\">");
        html_text(b, sh_str(c, "reason"));
        buf_adds(b, "</span>");
    }
    buf_adds(b, "</p>\n<div class=\"scroll\"><table class=\"arms\"><thead><tr><th>Arm</th>"
                "<th>Samples</th><th>Error ratio</th><th>p95</th></tr></thead><tbody>\n");
    const json_t *arms = json_object_get(c, "arms");
    arm_row(b, "baseline", json_object_get(arms, "baseline"));
    arm_row(b, "canary", json_object_get(arms, "canary"));
    buf_adds(b, "</tbody></table></div>\n<p>error p-value <span class=\"num\">");
    if (sh_num(c, "error_p_value", &v))
        plain_number(b, v);
    else
        sh_dash(b);
    const json_t *sh = json_object_get(c, "latency_shift");
    buf_adds(b, "</span> \xc2\xb7 latency shift <span class=\"num\">");
    shift_value(b, sh, "estimate_seconds");
    buf_adds(b, "</span>");
    /* No estimate, no interval: a row of dashes says nothing more. */
    if (sh_num(sh, "estimate_seconds", &v)) {
        buf_adds(b, " (interval <span class=\"num\">");
        shift_value(b, sh, "lower_seconds");
        buf_adds(b, "</span> to <span class=\"num\">");
        shift_value(b, sh, "upper_seconds");
        buf_adds(b, "</span>)");
    }
    buf_adds(b, "</p>\n</article>\n");
}

static void canaries(struct buf *b, const json_t *m)
{
    const json_t *list = json_object_get(m, "canaries");
    buf_adds(b, "<section id=\"canaries\">\n<h2>Canaries</h2>\n");
    if (json_array_size(list) == 0) {
        buf_adds(b, "<p class=\"muted\">No canaries configured.</p>\n</section>\n");
        return;
    }
    buf_adds(b, "<div class=\"cards\">\n");
    size_t i;
    const json_t *c;
    json_array_foreach(list, i, c) canary_card(b, c);
    buf_adds(b, "</div>\n</section>\n");
}

/* ---- alerts and maintenance ---- */

static void alerts(struct buf *b, const json_t *m)
{
    const json_t *list = json_object_get(m, "alerts");
    buf_adds(b, "<section id=\"alerts\">\n<h2>Firing alerts</h2>\n");
    if (json_array_size(list) == 0) {
        buf_adds(b, "<p class=\"muted\">No alert is firing.</p>\n</section>\n");
        return;
    }
    size_t n = json_array_size(list);
    /* A failing fleet fires an alert per check: beyond a screenful the
     * table folds away, and beyond SH_ALERTS_SHOWN rows the rest is
     * counted, not listed (the API lists every one). */
    if (n > SH_ALERTS_OPEN)
        buf_addf(b, "<details class=\"alerts\"><summary>%zu alerts</summary>\n", n);
    buf_adds(b, "<div class=\"scroll\"><table class=\"alerts\"><thead><tr><th>Alert</th>"
                "<th>Severity</th><th>Labels</th><th>Since</th></tr></thead><tbody>\n");
    size_t i;
    const json_t *a;
    json_array_foreach(list, i, a)
    {
        if (i == SH_ALERTS_SHOWN)
            break;
        const char *sev = sh_str(a, "severity");
        bool urgent = sev && (strcmp(sev, "page") == 0 || strcmp(sev, "critical") == 0);
        buf_adds(b, "<tr><td>");
        html_text(b, sh_str(a, "alertname"));
        buf_addf(b, "</td><td class=\"%s\">", urgent ? "bad" : "warn");
        html_text(b, sev);
        buf_adds(b, "</td><td class=\"target\">");
        /* alertname and severity have their columns. */
        const char *k;
        const json_t *v;
        bool first = true;
        json_object_foreach((json_t *)json_object_get(a, "labels"), k, v)
        {
            if (!json_is_string(v) || strcmp(k, "alertname") == 0 || strcmp(k, "severity") == 0)
                continue;
            if (!first)
                buf_adds(b, ", ");
            first = false;
            html_text(b, k);
            buf_adds(b, "=&quot;");
            html_text(b, json_string_value(v));
            buf_adds(b, "&quot;");
        }
        buf_adds(b, "</td><td>");
        html_time(b, sh_str(a, "since"));
        buf_adds(b, "</td></tr>\n");
    }
    buf_adds(b, "</tbody></table></div>\n");
    if (n > SH_ALERTS_SHOWN)
        buf_addf(b,
                 "<p class=\"muted\">and %zu more, not listed here: <a "
                 "href=\"api/v1/status\">/api/v1/status</a> lists every one.</p>\n",
                 n - SH_ALERTS_SHOWN);
    if (n > SH_ALERTS_OPEN)
        buf_adds(b, "</details>\n");
    buf_adds(b, "</section>\n");
}

/* The names of a string array, comma-separated. */
static void name_list(struct buf *b, const json_t *arr)
{
    size_t i;
    const json_t *v;
    json_array_foreach(arr, i, v)
    {
        if (i > 0)
            buf_adds(b, ", ");
        html_text(b, json_string_value(v));
    }
}

static void maintenance(struct buf *b, const json_t *m)
{
    const json_t *list = json_object_get(m, "maintenance");
    buf_adds(b, "<section id=\"maintenance\">\n<h2>Maintenance</h2>\n");
    if (json_array_size(list) == 0) {
        buf_adds(b, "<p class=\"muted\">No maintenance window is active.</p>\n</section>\n");
        return;
    }
    buf_adds(b, "<div class=\"scroll\"><table class=\"maintenance\"><thead><tr><th>Window</th>"
                "<th>From</th><th>Until</th><th>Covers</th></tr></thead><tbody>\n");
    size_t i;
    const json_t *w;
    json_array_foreach(list, i, w)
    {
        buf_adds(b, "<tr><td>");
        html_text(b, sh_str(w, "name"));
        buf_adds(b, "</td><td>");
        html_time(b, sh_str(w, "start"));
        buf_adds(b, "</td><td>");
        html_time(b, sh_str(w, "end"));
        buf_adds(b, "</td><td>");
        const json_t *checks = json_object_get(w, "checks"), *slos = json_object_get(w, "slos");
        if (sh_true(w, "all")) {
            buf_adds(b, "every check and SLO");
        } else {
            if (json_array_size(checks) > 0) {
                buf_adds(b, "checks: ");
                name_list(b, checks);
            }
            if (json_array_size(checks) > 0 && json_array_size(slos) > 0)
                buf_adds(b, "; ");
            if (json_array_size(slos) > 0) {
                buf_adds(b, "SLOs: ");
                name_list(b, slos);
            }
        }
        buf_adds(b, "</td></tr>\n");
    }
    buf_adds(b, "</tbody></table></div>\n</section>\n");
}

/* ---- the document ---- */

enum op_rc status_html(const json_t *model, const struct status_html_opts *o, struct buf *out)
{
    const json_t *c = json_object_get(json_object_get(model, "summary"), "checks");
    long long down = sh_count(c, "down");
    buf_adds(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                  "<meta name=\"referrer\" content=\"no-referrer\">\n<title>");
    if (down > 0)
        buf_addf(out, "%lld down \xc2\xb7 ", down);
    buf_adds(out, "outpost status</title>\n"
                  /* An empty icon: no request for /favicon.ico. */
                  "<link rel=\"icon\" href=\"data:,\">\n<style>");
    buf_adds(out, STYLE);
    buf_adds(out, "</style>\n</head>\n<body>\n");
    header(out, model, o);
    buf_adds(out, "<main>\n");
    slos(out, model);
    canaries(out, model);
    alerts(out, model);
    maintenance(out, model);
    sh_checks(out, model, o);
    buf_adds(out, "</main>\n");
    if (o->refresh_seconds > 0) {
        buf_adds(out, "<script>");
        buf_adds(out, SCRIPT);
        buf_adds(out, "</script>\n");
    }
    buf_adds(out, "</body>\n</html>\n");
    return out->failed ? OP_ERR_LIMIT : OP_OK;
}

/* 'sha256-<base64 of the digest of text>' */
static void csp_hash(struct buf *b, const char *text)
{
    char hex[SHA256_HEX_BYTES];
    unsigned char d[32];
    sha256_hex(text, strlen(text), hex);
    for (size_t i = 0; i < sizeof(d); i++) {
        unsigned hi = (unsigned)(hex[2 * i] <= '9' ? hex[2 * i] - '0' : hex[2 * i] - 'a' + 10);
        unsigned lo =
            (unsigned)(hex[2 * i + 1] <= '9' ? hex[2 * i + 1] - '0' : hex[2 * i + 1] - 'a' + 10);
        d[i] = (unsigned char)(hi << 4 | lo);
    }
    buf_adds(b, "'sha256-");
    html_base64(b, d, sizeof(d));
    buf_adds(b, "'");
}

void status_html_csp(struct buf *out)
{
    buf_adds(out, "default-src 'none'; style-src ");
    csp_hash(out, STYLE);
    buf_adds(out, "; script-src ");
    csp_hash(out, SCRIPT);
    buf_adds(out, "; img-src data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
}
