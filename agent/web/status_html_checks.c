/*
 * status_html_checks.c - the checks section of the status page
 * (status_html.h): filters, the groups with their counts, the page links,
 * and the model's page of checks grouped by group, failing ones first.
 */
#include "html.h"
#include "status_html_int.h"
#include "svg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The groups table is folded away beyond this many groups: with one group
 * per team it is short, with thousands it would bury the checks. */
#define SH_GROUPS_TABLE_OPEN 12

/* One check of the page, where it sorts: its group's place, its state's
 * rank (down, pending, up) and its place in the model (config order). */
struct row {
    size_t group;
    int rank;
    size_t idx;
    const json_t *check;
    const char *group_name;
};

static int row_cmp(const void *a, const void *b)
{
    const struct row *x = a, *y = b;
    if (x->group != y->group)
        return x->group < y->group ? -1 : 1;
    if (x->rank != y->rank)
        return x->rank < y->rank ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int state_rank(const char *state)
{
    if (!state)
        return 3;
    if (strcmp(state, "down") == 0)
        return 0;
    if (strcmp(state, "pending") == 0)
        return 1;
    return strcmp(state, "up") == 0 ? 2 : 3;
}

/* The filters and page the links keep: from the model's "page". */
struct view {
    const char *group; /* NULL: every group */
    const char *state; /* NULL: every state */
    long long page, pages, per_page, matched;
    size_t default_per_page;
};

/* A query-only link (resolved against the page's own path, so it works
 * behind a proxy's prefix) to group/state/page; page 1 and the default
 * per_page are left out. */
static void link_href(struct buf *b, const struct view *v, const char *group, const char *state,
                      long long page)
{
    char sep = '?';
    buf_adds(b, "href=\"");
    if (group) {
        buf_addc(b, sep);
        buf_adds(b, "group=");
        html_query_value(b, group);
        sep = '&';
    }
    if (state) {
        buf_addc(b, sep);
        buf_adds(b, "state=");
        html_query_value(b, state);
        sep = '&';
    }
    if (page > 1) {
        buf_addc(b, sep);
        buf_addf(b, "page=%lld", page);
        sep = '&';
    }
    if (v->per_page > 0 && (size_t)v->per_page != v->default_per_page) {
        buf_addc(b, sep);
        buf_addf(b, "per_page=%lld", v->per_page);
        sep = '&';
    }
    if (sep == '?')
        buf_addc(b, '?');
    buf_adds(b, "\"");
}

static void group_name(struct buf *b, const char *name)
{
    if (name && *name)
        html_text(b, name);
    else
        buf_adds(b, "<i>(no group)</i>");
}

/* A filter: a link, or the current choice as plain text. */
static void filter_link(struct buf *b, const struct view *v, const char *group, const char *state,
                        bool current, const char *text)
{
    if (current) {
        buf_addf(b, "<span aria-current=\"true\">%s</span>", text);
        return;
    }
    buf_adds(b, "<a ");
    link_href(b, v, group, state, 1);
    buf_addf(b, ">%s</a>", text);
}

static void filters(struct buf *b, const struct view *v)
{
    bool down = v->state && strcmp(v->state, "down") == 0;
    buf_adds(b, "<p class=\"nav filters\">Show: ");
    filter_link(b, v, v->group, NULL, !v->state, "all states");
    buf_adds(b, " \xc2\xb7 ");
    filter_link(b, v, v->group, "down", down, "failing only");
    if (v->group) {
        buf_adds(b, " \xc2\xb7 group ");
        group_name(b, v->group);
        buf_adds(b, " ");
        filter_link(b, v, NULL, v->state, false, "every group");
    }
    buf_adds(b, "</p>\n");
}

static void groups_table(struct buf *b, const json_t *groups, const struct view *v)
{
    size_t n = json_array_size(groups);
    buf_addf(b, "<details class=\"groups\"%s><summary>Groups (%zu)</summary>\n",
             n <= SH_GROUPS_TABLE_OPEN ? " open" : "", n);
    buf_adds(b, "<div class=\"scroll\"><table class=\"groups\"><thead><tr><th>Group</th>"
                "<th>Checks</th><th>Up</th><th>Down</th><th>Pending</th></tr></thead><tbody>\n");
    size_t i;
    const json_t *g;
    json_array_foreach(groups, i, g)
    {
        const char *name = sh_str(g, "name") ? sh_str(g, "name") : "";
        long long down = sh_count(g, "down");
        buf_adds(b, "<tr><td><a ");
        link_href(b, v, name, v->state, 1);
        buf_adds(b, ">");
        group_name(b, name);
        buf_addf(b,
                 "</a></td><td class=\"num\">%lld</td><td class=\"num\">%lld</td>"
                 "<td class=\"num%s\">%lld</td><td class=\"num\">%lld</td></tr>\n",
                 sh_count(g, "checks"), sh_count(g, "up"), down > 0 ? " down" : "", down,
                 sh_count(g, "pending"));
    }
    buf_adds(b, "</tbody></table></div>\n</details>\n");
}

static void page_link(struct buf *b, const struct view *v, long long p, const char *text)
{
    if (p == v->page) {
        buf_addf(b, "<span aria-current=\"page\">%s</span>", text);
        return;
    }
    buf_adds(b, "<a ");
    link_href(b, v, v->group, v->state, p);
    buf_addf(b, ">%s</a>", text);
}

/* "Checks 501–1000 of 10000" and links: previous, the first, two either
 * side of this one, the last, next. */
static void pager(struct buf *b, const struct view *v)
{
    if (v->pages <= 1)
        return;
    long long first = (v->page - 1) * v->per_page + 1;
    long long last = v->page * v->per_page < v->matched ? v->page * v->per_page : v->matched;
    buf_adds(b, "<nav class=\"nav pager\" aria-label=\"pages\"><span>");
    if (first <= last)
        buf_addf(b, "Checks %lld\xe2\x80\x93%lld of %lld", first, last, v->matched);
    else
        buf_addf(b, "No check on page %lld of %lld", v->page, v->pages);
    buf_adds(b, "</span>");
    if (v->page > 1 && v->page <= v->pages + 1)
        page_link(b, v, v->page - 1, "\xc2\xab previous");
    long long prev = 0;
    for (long long p = 1; p <= v->pages; p++) {
        if (p != 1 && p != v->pages && (p < v->page - 2 || p > v->page + 2))
            continue;
        if (p > prev + 1)
            buf_adds(b, "<span>\xe2\x80\xa6</span>");
        char text[FMT_U64_BYTES];
        fmt_u64(text, (uint64_t)p);
        page_link(b, v, p, text);
        prev = p;
    }
    if (v->page < v->pages)
        page_link(b, v, v->page + 1, "next \xc2\xbb");
    buf_adds(b, "</nav>\n");
}

/* The trend's columns: mean_seconds and failures per slot, oldest first. */
static void sparkline(struct buf *b, const json_t *trend)
{
    const json_t *mean = json_object_get(trend, "mean_seconds");
    const json_t *fail = json_object_get(trend, "failures");
    size_t n = json_array_size(mean);
    struct svg_spark_point small[32], *p = n <= ARRAY_SIZE(small) ? small : xmalloc(n * sizeof(*p));
    for (size_t i = 0; i < n; i++) {
        if (!sh_value(json_array_get(mean, i), &p[i].seconds))
            p[i].seconds = NAN;
        double f = 0;
        sh_value(json_array_get(fail, i), &f);
        p[i].failures = f < 1 ? 0 : f > 1e6 ? 1000000u : (unsigned)f;
    }
    svg_sparkline(b, p, n, "latency, last 10 minutes");
    if (p != small)
        free(p);
}

static void last_result(struct buf *b, const json_t *c, const char *state)
{
    double v;
    long long code = sh_count(c, "status_code");
    if (state && strcmp(state, "down") == 0) {
        buf_adds(b, "<b class=\"reason down\">");
        html_text(b, sh_str(c, "reason") ? sh_str(c, "reason") : "failed");
        buf_adds(b, "</b>");
        if (sh_str(c, "detail") && *sh_str(c, "detail")) {
            buf_adds(b, ": <span class=\"detail\">");
            html_text(b, sh_str(c, "detail"));
            buf_adds(b, "</span>");
        }
        if (code > 0)
            buf_addf(b, " \xc2\xb7 HTTP %lld", code);
        long long n = sh_count(c, "consecutive_failures");
        if (n > 0)
            buf_addf(b, " \xc2\xb7 %lld %s in a row", n, n == 1 ? "failure" : "failures");
    } else if (state && strcmp(state, "up") == 0) {
        buf_adds(b, "ok");
        if (code > 0)
            buf_addf(b, " \xc2\xb7 HTTP %lld", code);
        if (sh_num(c, "last_duration_seconds", &v)) {
            buf_adds(b, " \xc2\xb7 ");
            html_seconds(b, v, false);
        }
    } else {
        buf_adds(b, "<span class=\"muted\">no result yet</span>");
    }
}

static void check_row(struct buf *b, const json_t *c)
{
    const char *state = sh_str(c, "state");
    const char *cls = state_rank(state) == 0   ? "down"
                      : state_rank(state) == 1 ? "pending"
                      : state_rank(state) == 2 ? "up"
                                               : "pending";
    buf_addf(b, "<tr class=\"st-%s\"><td data-l=\"State\"><span class=\"badge state %s\">", cls,
             cls);
    html_text(b, state ? state : "unknown");
    buf_adds(b, "</span>");
    if (sh_true(c, "in_maintenance"))
        buf_adds(b, " <span class=\"badge info\">maintenance</span>");
    buf_adds(b, "</td><td data-l=\"Check\"><span class=\"name\">");
    html_text(b, sh_str(c, "name"));
    buf_adds(b, "</span><br><small class=\"target\">");
    html_text(b, sh_str(c, "type"));
    buf_adds(b, " \xc2\xb7 ");
    html_text(b, sh_str(c, "target"));
    buf_adds(b, "</small>");
    double v;
    if (sh_true(c, "cert_expiry_soon") && sh_num(c, "cert_expires_in_seconds", &v)) {
        buf_adds(b, "<br><span class=\"cert warn\">");
        if (v < 0) {
            buf_adds(b, "certificate expired ");
            html_duration(b, -v);
            buf_adds(b, " ago");
        } else {
            buf_adds(b, "certificate expires in ");
            html_duration(b, v);
        }
        buf_adds(b, "</span>");
    }
    buf_adds(b, "</td><td data-l=\"Last result\" class=\"result\">");
    last_result(b, c, state);
    const json_t *lat = json_object_get(c, "latency");
    buf_adds(b, "</td><td data-l=\"p50 / p95\" class=\"num latency\">");
    sh_opt_seconds(b, lat, "p50_seconds");
    buf_adds(b, " / ");
    sh_opt_seconds(b, lat, "p95_seconds");
    buf_adds(b, "</td><td data-l=\"Last success\" class=\"since\">");
    if (sh_num(c, "since_success_seconds", &v)) {
        html_duration(b, v);
        buf_adds(b, " ago");
    } else {
        buf_adds(b, "never");
    }
    buf_adds(b, "</td><td data-l=\"Trend\">");
    sparkline(b, json_object_get(c, "trend"));
    buf_adds(b, "</td></tr>\n");
}

static void table_open(struct buf *b)
{
    buf_adds(b, "<div class=\"scroll\"><table class=\"checks\"><thead><tr><th>State</th>"
                "<th>Check</th><th>Last result</th><th>p50 / p95 (10 min)</th>"
                "<th>Last success</th><th>Trend</th></tr></thead><tbody>\n");
}

static void table_close(struct buf *b)
{
    buf_adds(b, "</tbody></table></div>\n");
}

/* The group's counts (all its checks, not only this page's). */
static void group_summary(struct buf *b, const json_t *g, const char *name)
{
    buf_adds(b, "<summary>");
    group_name(b, name);
    if (g) {
        long long down = sh_count(g, "down");
        buf_addf(b, " <small>%lld %s \xc2\xb7 %lld up \xc2\xb7 ", sh_count(g, "checks"),
                 sh_count(g, "checks") == 1 ? "check" : "checks", sh_count(g, "up"));
        buf_addf(b, "<span class=\"%s\">%lld down</span> \xc2\xb7 %lld pending</small>",
                 down > 0 ? "down" : "", down, sh_count(g, "pending"));
    }
    buf_adds(b, "</summary>\n");
}

/* The rows of the page sorted by group, rank and config order: a map from
 * group name to its place in the model's groups (a group the list lacks
 * goes after them, in page order). Caller frees the rows. */
static struct row *sorted_rows(const json_t *checks, const json_t *groups, size_t *n_out)
{
    size_t n = json_array_size(checks), n_groups = json_array_size(groups), extra = 0;
    struct row *rows = xcalloc(n ? n : 1, sizeof(*rows));
    json_t *place = json_object();
    size_t i;
    const json_t *g;
    json_array_foreach(groups, i, g)
    {
        const char *name = sh_str(g, "name") ? sh_str(g, "name") : "";
        if (!json_object_get(place, name))
            json_object_set_new(place, name, json_integer((json_int_t)i));
    }
    for (i = 0; i < n; i++) {
        const json_t *c = json_array_get(checks, i);
        const char *name = sh_str(c, "group") ? sh_str(c, "group") : "";
        const json_t *at = json_object_get(place, name);
        if (!at) {
            json_object_set_new(place, name, json_integer((json_int_t)(n_groups + extra++)));
            at = json_object_get(place, name);
        }
        rows[i] = (struct row){.group = (size_t)json_integer_value(at),
                               .rank = state_rank(sh_str(c, "state")),
                               .idx = i,
                               .check = c,
                               .group_name = name};
    }
    json_decref(place);
    qsort(rows, n, sizeof(*rows), row_cmp);
    *n_out = n;
    return rows;
}

void sh_checks(struct buf *b, const json_t *model, const struct status_html_opts *o)
{
    const json_t *checks = json_object_get(model, "checks");
    const json_t *groups = json_object_get(model, "groups");
    const json_t *pg = json_object_get(model, "page");
    struct view v = {.group = sh_str(pg, "group"),
                     .state = sh_str(pg, "state"),
                     .page = sh_count(pg, "page"),
                     .pages = sh_count(pg, "pages"),
                     .per_page = sh_count(pg, "per_page"),
                     .matched = sh_count(pg, "checks_matched"),
                     .default_per_page = o->default_per_page};
    if (v.page < 1)
        v.page = 1;
    /* Only a config without groups has one group, the unnamed one: then
     * the checks need no group headings. */
    size_t n_groups = json_array_size(groups);
    bool flat =
        n_groups == 0 || (n_groups == 1 && !*(sh_str(json_array_get(groups, 0), "name")
                                                  ? sh_str(json_array_get(groups, 0), "name")
                                                  : ""));
    buf_adds(b, "<section id=\"checks\">\n<h2>Checks</h2>\n");
    filters(b, &v);
    if (!flat)
        groups_table(b, groups, &v);
    pager(b, &v);

    size_t n;
    struct row *rows = sorted_rows(checks, groups, &n);
    if (n == 0 &&
        sh_count(json_object_get(json_object_get(model, "summary"), "checks"), "total") == 0) {
        buf_adds(b, "<p class=\"muted\">No checks configured.</p>\n");
    } else if (n == 0 && v.matched > 0) {
        /* A page past the last (a link kept from when more checks
         * matched): they are there, on the pages before. */
        buf_addf(b, "<p class=\"muted\">No check on page %lld: the %lld that match begin on <a ",
                 v.page, v.matched);
        link_href(b, &v, v.group, v.state, 1);
        buf_adds(b, ">page 1</a>.</p>\n");
    } else if (n == 0) {
        buf_adds(b, "<p class=\"muted\">No check matches.</p>\n");
    }
    size_t shown = 0;
    for (size_t i = 0; i < n;) {
        size_t end = i;
        bool failing = false;
        while (end < n && rows[end].group == rows[i].group) {
            failing |= rows[end].rank == 0;
            end++;
        }
        if (!flat) {
            const json_t *g =
                rows[i].group < n_groups ? json_array_get(groups, rows[i].group) : NULL;
            buf_addf(b, "<details class=\"group\"%s>",
                     failing || shown < o->open_groups ? " open" : "");
            group_summary(b, g, rows[i].group_name);
        }
        table_open(b);
        for (size_t j = i; j < end; j++)
            check_row(b, rows[j].check);
        table_close(b);
        if (!flat)
            buf_adds(b, "</details>\n");
        shown++;
        i = end;
    }
    free(rows);
    pager(b, &v);
    buf_adds(b, "</section>\n");
}
