/* history_json.c - the run history as JSON (history.h): the one shape the
 * API and `outpost canary history --format=json` print. */
#include "history.h"

#include <stdio.h>
#include <time.h>

void history_time(int64_t ms, char *out, size_t cap)
{
    /* Floor division: a time before 1970 still reads as a real instant. */
    int64_t s = ms / 1000, frac = ms % 1000;
    if (frac < 0) {
        frac += 1000;
        s--;
    }
    time_t t = (time_t)s;
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        snprintf(out, cap, "invalid");
        return;
    }
    snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)frac);
}

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF), 0 when it is not one. */
static size_t utf8_len(const unsigned char *p)
{
    unsigned char c = p[0];
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else {
        return 0;
    }
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xBF)
            return 0;
    return n;
}

void history_json_string(struct buf *out, const char *s)
{
    buf_addc(out, '"');
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t n = utf8_len(p);
        if (n == 0) {
            buf_adds(out, "\\ufffd");
            p++;
        } else if (n > 1) {
            buf_add(out, p, n);
            p += n;
        } else {
            if (*p == '"' || *p == '\\')
                buf_addf(out, "\\%c", *p);
            else if (*p < 0x20 || *p == 0x7f)
                buf_addf(out, "\\u%04x", *p);
            else
                buf_addc(out, (char)*p);
            p++;
        }
    }
    buf_addc(out, '"');
}

static void opt_string(struct buf *out, const char *s)
{
    if (s)
        history_json_string(out, s);
    else
        buf_adds(out, "null");
}

static void time_field(struct buf *out, const char *key, int64_t ms)
{
    char t[HIST_TIME_BYTES];
    buf_addf(out, ",\"%s\":", key);
    if (ms < 0) {
        buf_adds(out, "null");
        return;
    }
    history_time(ms, t, sizeof(t));
    buf_addf(out, "\"%s\"", t);
}

/* The run's fields, open-ended; with_count adds "calls" (its number of
 * calls), which the object of one run leaves to its "calls" array. */
static void run_fields(const struct hist_run *r, struct buf *out, bool with_count)
{
    buf_addf(out, "{\"id\":%lld,\"canary\":", (long long)r->id);
    history_json_string(out, r->canary);
    buf_addf(out, ",\"source\":\"%s\",\"revision\":", history_source_name(r->source));
    opt_string(out, r->revision);
    time_field(out, "started", r->started_ms);
    time_field(out, "ended", r->ended_ms);
    buf_adds(out, ",\"outcome\":");
    opt_string(out, history_outcome_name(r->outcome));
    if (with_count)
        buf_addf(out, ",\"calls\":%lld", (long long)r->calls);
    buf_adds(out, ",\"last_verdict\":");
    history_json_string(out, r->last_verdict);
    time_field(out, "last_call", r->last_call_ms);
}

void history_run_obj(const struct hist_run *r, struct buf *out)
{
    run_fields(r, out, true);
    buf_addc(out, '}');
}

void history_runs_json(const char *canary, const struct hist_run *runs, size_t n, struct buf *out)
{
    buf_addc(out, '{');
    if (canary) {
        buf_adds(out, "\"canary\":");
        history_json_string(out, canary);
        buf_addc(out, ',');
    }
    buf_adds(out, "\"runs\":[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            buf_addc(out, ',');
        history_run_obj(&runs[i], out);
    }
    buf_adds(out, "]}");
}

static void arm_errors(struct buf *out, const struct hist_arm *a)
{
    buf_adds(out, "{\"ratio\":");
    buf_add_json_number(out, a->error_ratio);
    buf_addc(out, '}');
}

static void arm_latency(struct buf *out, const struct hist_arm *a)
{
    buf_adds(out, "{\"p50\":");
    buf_add_json_number(out, a->p50);
    buf_adds(out, ",\"p95\":");
    buf_add_json_number(out, a->p95);
    buf_adds(out, ",\"p99\":");
    buf_add_json_number(out, a->p99);
    buf_addc(out, '}');
}

/* One call: the fields of the verdict under the paths the Argo gate's JSON
 * uses for them (samples, errors, latency), so the two compare key by key. */
static void call_obj(struct buf *out, const struct hist_call_row *c)
{
    buf_addf(out, "{\"seq\":%lld", (long long)c->seq);
    time_field(out, "time", c->time_ms);
    buf_adds(out, ",\"hook\":");
    opt_string(out, history_hook_name(c->hook));
    buf_adds(out, ",\"phase\":");
    opt_string(out, c->phase);
    buf_addf(out, ",\"status\":%d,\"verdict\":", c->status);
    history_json_string(out, c->verdict);
    buf_adds(out, ",\"score\":");
    buf_add_json_number(out, c->score);
    buf_addf(out, ",\"samples\":{\"baseline\":%lld,\"canary\":%lld}",
             (long long)c->baseline.samples, (long long)c->canary_arm.samples);
    buf_adds(out, ",\"errors\":{\"baseline\":");
    arm_errors(out, &c->baseline);
    buf_adds(out, ",\"canary\":");
    arm_errors(out, &c->canary_arm);
    buf_adds(out, ",\"fisher_p\":");
    buf_add_json_number(out, c->fisher_p);
    buf_adds(out, "},\"latency\":{\"baseline\":");
    arm_latency(out, &c->baseline);
    buf_adds(out, ",\"canary\":");
    arm_latency(out, &c->canary_arm);
    buf_adds(out, ",\"shift\":{\"estimate\":");
    buf_add_json_number(out, c->shift);
    buf_adds(out, ",\"lower\":");
    buf_add_json_number(out, c->shift_lower);
    buf_adds(out, ",\"upper\":");
    buf_add_json_number(out, c->shift_upper);
    buf_adds(out, "}},\"reason\":");
    history_json_string(out, c->reason);
    buf_addc(out, '}');
}

void history_run_json(const struct hist_run *run, const struct hist_call_row *calls, size_t n,
                      struct buf *out)
{
    run_fields(run, out, false);
    buf_adds(out, ",\"calls\":[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            buf_addc(out, ',');
        call_obj(out, &calls[i]);
    }
    buf_adds(out, "]}");
}
