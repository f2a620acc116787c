/* smoke_report.c - `outpost check`'s report as a table, JSON or JUnit XML. */
#include "smoke_report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum op_rc smoke_parse_format(const char *s, enum smoke_format *out)
{
    static const char *const names[] = {"table", "json", "junit"};
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (enum smoke_format)i;
            return OP_OK;
        }
    }
    return OP_ERR_INVALID;
}

size_t smoke_report_failed(const struct smoke_report *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++)
        n += !r->results[i].success;
    return n;
}

static const char *result_word(bool success)
{
    return success ? "pass" : "fail";
}

/* A step's word: a step that did not run is neither a pass nor a fail. */
static const char *step_word(const struct smoke_step *s)
{
    return s->skipped ? "skipped" : result_word(s->success);
}

/* ---- table ---- */

/* Columns a UTF-8 string takes: one per code point (names and details are
 * valid UTF-8; wide characters are rare enough in them to be ignored). */
static size_t columns(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static void pad(struct buf *b, const char *s, size_t width)
{
    buf_adds(b, s);
    for (size_t w = columns(s); w < width; w++)
        buf_addc(b, ' ');
    buf_adds(b, "  ");
}

/* One line of the table: a check, or one of its steps (indented). */
struct row {
    const char *indent, *name, *result, *reason, *detail;
    char status[16], duration[32];
};

enum { COL_NAME, COL_RESULT, COL_REASON, COL_STATUS, COL_DURATION, N_COLS };

static void row_fill(struct row *w, const char *indent, const char *name, bool success,
                     enum check_reason reason, int status, double duration, const char *detail)
{
    w->indent = indent;
    w->name = name;
    w->result = result_word(success);
    w->reason = success ? "-" : check_reason_name(reason);
    if (status > 0)
        (void)snprintf(w->status, sizeof(w->status), "%d", status);
    else
        memcpy(w->status, "-", 2);
    (void)snprintf(w->duration, sizeof(w->duration), "%.3fs", duration);
    w->detail = detail;
}

/* A step that did not run took no time and had no answer. */
static void row_fill_skipped(struct row *w, const char *name, const char *detail)
{
    row_fill(w, "  ", name, false, CHECK_REASON_NONE, 0, 0, detail);
    w->result = "skipped";
    w->reason = "-";
    memcpy(w->duration, "-", 2);
}

/* The table in two passes: widths measured (b NULL), then rows written. */
static void row_put(struct buf *b, size_t wd[N_COLS], const struct row *w)
{
    const char *cell[N_COLS] = {w->name, w->result, w->reason, w->status, w->duration};
    size_t name_w = columns(w->indent) + columns(w->name);
    if (!b) {
        for (int i = 0; i < N_COLS; i++) {
            size_t v = i == COL_NAME ? name_w : columns(cell[i]);
            if (v > wd[i])
                wd[i] = v;
        }
        return;
    }
    buf_adds(b, w->indent);
    buf_adds(b, w->name);
    for (size_t n = name_w; n < wd[COL_NAME]; n++)
        buf_addc(b, ' ');
    buf_adds(b, "  ");
    for (int i = COL_RESULT; i < N_COLS; i++) {
        /* No trailing blanks when the detail is empty. */
        if (i == COL_DURATION && !*w->detail)
            buf_adds(b, cell[i]);
        else
            pad(b, cell[i], wd[i]);
    }
    buf_adds(b, w->detail);
    buf_addc(b, '\n');
}

static void rows(const struct smoke_report *r, size_t wd[N_COLS], struct buf *b)
{
    for (size_t i = 0; i < r->n; i++) {
        const struct smoke_result *x = &r->results[i];
        struct row w;
        row_fill(&w, "", x->name, x->success, x->reason, x->status, x->duration, x->detail);
        row_put(b, wd, &w);
        for (size_t k = 0; k < x->n_steps; k++) {
            const struct smoke_step *s = &x->steps[k];
            if (s->skipped)
                row_fill_skipped(&w, s->name, s->detail);
            else
                row_fill(&w, "  ", s->name, s->success, s->reason, s->status, s->duration,
                         s->detail);
            row_put(b, wd, &w);
        }
        if (x->steps_dropped && b)
            buf_addf(b, "  ... %zu more steps\n", x->steps_dropped);
    }
}

static void render_table(const struct smoke_report *r, struct buf *out)
{
    struct row head = {.indent = "",
                       .name = "CHECK",
                       .result = "RESULT",
                       .reason = "REASON",
                       .status = "STATUS",
                       .duration = "DURATION",
                       .detail = "DETAIL"};
    size_t wd[N_COLS] = {0};
    row_put(NULL, wd, &head);
    rows(r, wd, NULL);
    row_put(out, wd, &head);
    rows(r, wd, out);
    buf_addc(out, '\n');
    smoke_report_summary(r, out);
}

void smoke_report_summary(const struct smoke_report *r, struct buf *out)
{
    size_t failed = smoke_report_failed(r);
    buf_addf(out, "%zu check%s: %zu passed, %zu failed in %.3fs\n", r->n, r->n == 1 ? "" : "s",
             r->n - failed, failed, r->duration);
}

void smoke_report_brief(const struct smoke_report *r, struct buf *out)
{
    for (size_t i = 0; i < r->n; i++) {
        const struct smoke_result *x = &r->results[i];
        if (x->success)
            continue;
        buf_addf(out, "FAIL %s [%s]", x->name, check_reason_name(x->reason));
        if (*x->detail)
            buf_addf(out, " %s", x->detail);
        buf_addc(out, '\n');
    }
    smoke_report_summary(r, out);
}

/* ---- JSON ---- */

static void json_outcome(struct buf *b, const char *word, bool success, enum check_reason reason,
                         int status, double duration, const char *detail)
{
    buf_adds(b, ",\"result\":");
    buf_add_json_string(b, word);
    buf_adds(b, ",\"reason\":");
    if (success || reason == CHECK_REASON_NONE)
        buf_adds(b, "null");
    else
        buf_add_json_string(b, check_reason_name(reason));
    buf_addf(b, ",\"status\":%d,\"duration_seconds\":", status);
    buf_add_json_number(b, duration);
    buf_adds(b, ",\"detail\":");
    buf_add_json_string(b, detail);
}

static void json_result(struct buf *b, const struct smoke_result *x)
{
    buf_adds(b, "{\"name\":");
    buf_add_json_string(b, x->name);
    buf_adds(b, ",\"type\":");
    buf_add_json_string(b, x->type);
    buf_adds(b, ",\"group\":");
    buf_add_json_string(b, x->group);
    buf_adds(b, ",\"target\":");
    buf_add_json_string(b, x->target);
    json_outcome(b, result_word(x->success), x->success, x->reason, x->status, x->duration,
                 x->detail);
    buf_addf(b, ",\"attempts\":%u,\"steps\":[", x->attempts);
    for (size_t k = 0; k < x->n_steps; k++) {
        const struct smoke_step *s = &x->steps[k];
        buf_adds(b, k ? ",{\"name\":" : "{\"name\":");
        buf_add_json_string(b, s->name);
        json_outcome(b, step_word(s), s->success, s->reason, s->status, s->duration, s->detail);
        buf_addc(b, '}');
    }
    buf_addc(b, ']');
    if (x->steps_dropped)
        buf_addf(b, ",\"steps_dropped\":%zu", x->steps_dropped);
    buf_addc(b, '}');
}

/* One document; each check on a line of its own, so a diff of two reports
 * reads check by check. */
static void render_json(const struct smoke_report *r, struct buf *b)
{
    size_t failed = smoke_report_failed(r);
    buf_adds(b, "{\"result\":");
    buf_add_json_string(b, result_word(failed == 0));
    buf_addf(b, ",\"checks_total\":%zu,\"passed\":%zu,\"failed\":%zu,\"duration_seconds\":", r->n,
             r->n - failed, failed);
    buf_add_json_number(b, r->duration);
    buf_adds(b, ",\"url_prefix\":");
    if (r->url_prefix)
        buf_add_json_string(b, r->url_prefix);
    else
        buf_adds(b, "null");
    buf_adds(b, ",\"checks\":[");
    for (size_t i = 0; i < r->n; i++) {
        buf_adds(b, i ? ",\n" : "\n");
        json_result(b, &r->results[i]);
    }
    buf_adds(b, "\n]}\n");
}

/* ---- JUnit XML ---- */

void smoke_xml_escape(struct buf *b, const char *s, bool attr)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        switch (c) {
        case '&':
            buf_adds(b, "&amp;");
            continue;
        case '<':
            buf_adds(b, "&lt;");
            continue;
        case '>':
            buf_adds(b, "&gt;");
            continue;
        case '"':
            buf_adds(b, "&quot;");
            continue;
        case '\'':
            buf_adds(b, "&apos;");
            continue;
        case '\t':
        case '\n':
        case '\r':
            if (attr)
                buf_addf(b, "&#%d;", c);
            else
                buf_addc(b, (char)c);
            continue;
        default:
            break;
        }
        if (c < 0x20 || c == 0x7F) {
            buf_adds(b, "\xEF\xBF\xBD");
        } else if (c == 0xEF && p[1] == 0xBF && (p[2] == 0xBE || p[2] == 0xBF)) {
            buf_adds(b, "\xEF\xBF\xBD");
            p += 2;
        } else {
            buf_addc(b, (char)c);
        }
    }
}

static void xml_attr(struct buf *b, const char *name, const char *value)
{
    buf_addf(b, " %s=\"", name);
    smoke_xml_escape(b, value, true);
    buf_addc(b, '"');
}

/* The lines of a testcase's system-out: what the table does not show.
 * Only names, the target and details need escaping. */
static void junit_out(struct buf *b, const struct smoke_result *x)
{
    buf_adds(b, "      <system-out>target: ");
    smoke_xml_escape(b, x->target, false);
    buf_addf(b, "\nstatus: %d\nattempts: %u\n", x->status, x->attempts);
    if (*x->detail) {
        buf_adds(b, "detail: ");
        smoke_xml_escape(b, x->detail, false);
        buf_addc(b, '\n');
    }
    if (x->n_steps)
        buf_adds(b, "steps:\n");
    for (size_t k = 0; k < x->n_steps; k++) {
        const struct smoke_step *s = &x->steps[k];
        buf_addf(b, "  %s ", step_word(s));
        smoke_xml_escape(b, s->name, false);
        if (!s->success && !s->skipped)
            buf_addf(b, " %s", check_reason_name(s->reason));
        if (!s->skipped)
            buf_addf(b, " status %d %.3fs", s->status, s->duration);
        if (*s->detail) {
            buf_adds(b, ": ");
            smoke_xml_escape(b, s->detail, false);
        }
        buf_addc(b, '\n');
    }
    if (x->steps_dropped)
        buf_addf(b, "  ... %zu more steps\n", x->steps_dropped);
    buf_adds(b, "</system-out>\n");
}

static void render_junit(const struct smoke_report *r, struct buf *b)
{
    size_t failed = smoke_report_failed(r);
    char when[32] = "";
    time_t t = (time_t)r->started;
    struct tm tm;
    /* JUnit's timestamp is an ISO 8601 time without a zone; it is UTC. */
    if (!gmtime_r(&t, &tm) || !strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm))
        when[0] = '\0';
    buf_adds(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    buf_addf(b,
             "<testsuites name=\"outpost check\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" "
             "time=\"%.3f\">\n",
             r->n, failed, r->duration);
    buf_addf(b,
             "  <testsuite name=\"outpost check\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" "
             "skipped=\"0\" time=\"%.3f\"",
             r->n, failed, r->duration);
    if (*when)
        xml_attr(b, "timestamp", when);
    buf_adds(b, ">\n");
    if (r->url_prefix) {
        buf_adds(b, "    <properties>\n      <property name=\"url_prefix\"");
        xml_attr(b, "value", r->url_prefix);
        buf_adds(b, "/>\n    </properties>\n");
    }
    for (size_t i = 0; i < r->n; i++) {
        const struct smoke_result *x = &r->results[i];
        buf_adds(b, "    <testcase");
        xml_attr(b, "name", x->name);
        /* Test reporters group by class: the check's group, else its type. */
        xml_attr(b, "classname", *x->group ? x->group : x->type);
        buf_addf(b, " time=\"%.3f\">\n", x->duration);
        if (!x->success) {
            const char *why = check_reason_name(x->reason);
            buf_adds(b, "      <failure");
            xml_attr(b, "message", *x->detail ? x->detail : why);
            xml_attr(b, "type", why);
            buf_adds(b, ">");
            smoke_xml_escape(b, why, false);
            if (*x->detail) {
                buf_adds(b, ": ");
                smoke_xml_escape(b, x->detail, false);
            }
            buf_adds(b, "</failure>\n");
        }
        junit_out(b, x);
        buf_adds(b, "    </testcase>\n");
    }
    buf_adds(b, "  </testsuite>\n</testsuites>\n");
}

void smoke_report_render(const struct smoke_report *r, enum smoke_format fmt, struct buf *out)
{
    switch (fmt) {
    case SMOKE_FMT_TABLE:
        render_table(r, out);
        break;
    case SMOKE_FMT_JSON:
        render_json(r, out);
        break;
    case SMOKE_FMT_JUNIT:
        render_junit(r, out);
        break;
    }
}

void smoke_report_free(struct smoke_report *r)
{
    for (size_t i = 0; i < r->n; i++) {
        struct smoke_result *x = &r->results[i];
        free(x->name);
        free(x->type);
        free(x->group);
        free(x->target);
        for (size_t k = 0; k < x->n_steps; k++) {
            free(x->steps[k].name);
            free(x->steps[k].detail);
        }
        free(x->steps);
    }
    free(r->results);
    free(r->url_prefix);
    memset(r, 0, sizeof(*r));
}
