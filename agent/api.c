/* api.c - the JSON of the checks and their last results (api.h). */
#include "api.h"
#include "recorder.h"

#include <math.h>
#include <stdlib.h>
#include <time.h>

/* RFC 3339 in UTC to the millisecond: 2026-11-01T12:00:00.250Z. */
static void add_time(struct buf *b, double unix_seconds)
{
    int64_t ms = (int64_t)llround(unix_seconds * 1000.0);
    int64_t s = ms >= 0 ? ms / 1000 : -((999 - ms) / 1000); /* floor */
    time_t t = (time_t)s;
    struct tm tm;
    char day[32];
    if (!gmtime_r(&t, &tm) || !strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm)) {
        buf_adds(b, "null");
        return;
    }
    buf_addf(b, "\"%s.%03dZ\"", day, (int)(ms - s * 1000));
}

static void add_last_result(struct buf *b, const struct rec_snapshot *s)
{
    buf_adds(b, "{\"time\":");
    add_time(b, s->last_run);
    buf_adds(b, s->up ? ",\"success\":true,\"reason\":" : ",\"success\":false,\"reason\":");
    if (s->up)
        buf_adds(b, "null");
    else
        buf_add_json_string(b, check_reason_name(s->last_reason));
    buf_adds(b, ",\"detail\":");
    buf_add_json_string(b, s->detail);
    buf_adds(b, ",\"duration_seconds\":");
    buf_add_json_number(b, s->last_duration);
    buf_adds(b, ",\"phases\":{");
    for (int p = 0; p < CHECK_PHASE_COUNT; p++) {
        if (p)
            buf_addc(b, ',');
        buf_add_json_string(b, check_phase_name((enum check_phase)p));
        buf_addc(b, ':');
        buf_add_json_number(b, s->phases[p]);
    }
    buf_addf(b, "},\"status\":%d}", s->status);
}

/* One check of g; s is scratch space for its snapshot. */
static void add_check(struct buf *b, const struct gen *g, size_t i, struct rec_snapshot *s)
{
    const struct check_spec *c = cfg_check(gen_cfg(g), i);
    /* One read: every field below is from the same moment. */
    rec_read(gen_rec(g, i), s);
    buf_adds(b, "{\"name\":");
    buf_add_json_string(b, c->name);
    buf_adds(b, ",\"type\":");
    buf_add_json_string(b, c->type->name);
    /* The label, never the URL: no user info, query or resolved reference. */
    buf_adds(b, ",\"target\":");
    buf_add_json_string(b, c->target);
    buf_adds(b, ",\"group\":");
    buf_add_json_string(b, c->group);
    buf_adds(b, ",\"interval_seconds\":");
    buf_add_json_number(b, (double)c->interval_ms / 1000.0);
    buf_addf(b, ",\"consecutive_failures\":%llu,\"last_result\":",
             (unsigned long long)s->consecutive_failures);
    if (s->has_result)
        add_last_result(b, s);
    else
        buf_adds(b, "null");
    buf_addc(b, '}');
}

enum op_rc api_checks_json(const struct gen *g, const char *name, struct buf *out)
{
    long only = -1;
    if (name && (only = cfg_find_check(gen_cfg(g), name)) < 0)
        return OP_ERR_NOT_FOUND;
    struct rec_snapshot *s = xmalloc(sizeof(*s));
    if (only >= 0) {
        add_check(out, g, (size_t)only, s);
    } else {
        buf_adds(out, "{\"checks\":[");
        for (size_t i = 0; i < gen_check_count(g) && !out->failed; i++) {
            if (i)
                buf_addc(out, ',');
            add_check(out, g, i, s);
        }
        buf_adds(out, "]}");
    }
    free(s);
    return out->failed ? OP_ERR_LIMIT : OP_OK;
}
