/* status_parts.c - the status model's SLOs, canaries, alerts, windows and
 * agent facts, and its JSON helpers (status_int.h). */
#include "status_int.h"
#include "alerts.h"
#include "canary_state.h"
#include "detail.h"
#include "maint.h"
#include "slo.h"
#include "slo_state.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- JSON helpers ---- */

/* jansson reports a failed allocation as NULL: abort as xmalloc would. */
static json_t *must(json_t *v)
{
    if (!v)
        abort();
    return v;
}

void status_put(json_t *o, const char *key, json_t *v)
{
    if (json_object_set_new_nocheck(o, key, must(v)) != 0)
        abort();
}

void status_append(json_t *a, json_t *v)
{
    if (json_array_append_new(a, must(v)) != 0)
        abort();
}

json_t *status_num(double v)
{
    if (!isfinite(v))
        return must(json_null());
    /* 10 reads better than 10.0, and both are the same JSON number. */
    if (v == floor(v) && fabs(v) < 9007199254740992.0)
        return must(json_integer((json_int_t)v));
    return must(json_real(v));
}

json_t *status_uint(uint64_t v)
{
    return must(json_integer(v > (uint64_t)INT64_MAX ? INT64_MAX : (json_int_t)v));
}

json_t *status_str(const char *s)
{
    json_t *j = json_string(s);
    if (j)
        return j;
    /* Not UTF-8 (nothing the agent stores should be, but a tree jansson
     * refuses would lose the whole field): cleaned the way a detail is. */
    size_t n = strlen(s) + 1;
    char *c = xmalloc(n);
    struct detail d;
    detail_init(&d, c, n);
    detail_add(&d, s);
    j = must(json_string(c));
    free(c);
    return j;
}

json_t *status_bool(bool v)
{
    return must(json_boolean(v));
}

json_t *status_time(double t)
{
    if (!(t > 0) || !isfinite(t) || t > 253402300799.0)
        return must(json_null());
    time_t s = (time_t)floor(t);
    struct tm tm;
    char out[32];
    if (!gmtime_r(&s, &tm) || !strftime(out, sizeof(out), "%Y-%m-%dT%H:%M:%SZ", &tm))
        return must(json_null());
    return must(json_string(out));
}

/* One value; depth is bounded by the model's shape (a handful of levels),
 * and a tree from elsewhere is bounded by jansson's own parse depth. */
static void dump(const json_t *j, struct buf *out)
{
    char num[FMT_DOUBLE_BYTES];
    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        const char *key;
        json_t *v;
        bool first = true;
        buf_addc(out, '{');
        json_object_foreach((json_t *)j, key, v)
        {
            if (!first)
                buf_addc(out, ',');
            first = false;
            buf_add_json_string(out, key);
            buf_addc(out, ':');
            dump(v, out);
        }
        buf_addc(out, '}');
        break;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *v;
        buf_addc(out, '[');
        json_array_foreach(j, i, v)
        {
            if (i)
                buf_addc(out, ',');
            dump(v, out);
        }
        buf_addc(out, ']');
        break;
    }
    case JSON_STRING:
        /* jansson holds valid UTF-8 only; buf escapes what JSON must. */
        buf_add_json_string(out, json_string_value(j));
        break;
    case JSON_INTEGER:
        buf_addf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
        break;
    case JSON_REAL:
        if (!isfinite(json_real_value(j))) {
            buf_adds(out, "null");
            break;
        }
        fmt_double(num, sizeof(num), json_real_value(j));
        buf_adds(out, num);
        break;
    case JSON_TRUE:
        buf_adds(out, "true");
        break;
    case JSON_FALSE:
        buf_adds(out, "false");
        break;
    case JSON_NULL:
        buf_adds(out, "null");
        break;
    }
}

enum op_rc status_dump(const json_t *j, struct buf *out)
{
    dump(j, out);
    return out->failed ? OP_ERR_LIMIT : OP_OK;
}

/* ---- agent ---- */

json_t *status_agent(const struct status_source *src)
{
    const struct rt_facts *f = &src->facts;
    json_t *a = must(json_object());
    status_put(a, "version", status_str(OUTPOST_VERSION));
    status_put(a, "revision", status_str(OUTPOST_REVISION));
    status_put(a, "started_at", status_time(f->started_at));
    char shard[32];
    snprintf(shard, sizeof(shard), "%u/%u", f->shard.index, f->shard.count ? f->shard.count : 1);
    status_put(a, "shard", status_str(shard));
    status_put(a, "config_reload_successful", status_bool(f->reload_ok));
    status_put(a, "config_loaded_at", status_time(f->reload_success_ts));
    return a;
}

/* ---- SLOs ---- */

/* SLO sp's object; counts[0..2] count it paging, ticketing, frozen.
 * scratch: the windows' copy, reused across SLOs (slo_state.h). */
static json_t *slo_json(const struct slo_spec *sp, struct slo_state *st, bool held, int64_t now_ms,
                        size_t counts[3], struct sliw **scratch)
{
    struct slo_figures f;
    struct slo_point pts[SLO_BURNDOWN_POINTS];
    size_t n = slost_figures_burndown(st, sp, now_ms, &f, pts, SLO_BURNDOWN_POINTS, scratch);
    /* The agent's last evaluation, as outpost_slo_alert_firing shows it. */
    bool page, ticket;
    slost_alerts(st, &page, &ticket);
    json_t *o = must(json_object());
    status_put(o, "name", status_str(sp->name));
    status_put(o, "sli", status_str(sp->latency ? "latency" : "availability"));
    status_put(o, "objective", status_num(sp->objective));
    status_put(o, "period", status_str(sp->period_label));
    status_put(o, "period_seconds", status_num((double)f.period_ms / 1000.0));
    status_put(o, "sli_ratio", status_num(f.sli[SLO_W_PERIOD]));
    json_t *ws = must(json_array());
    for (int w = 0; w < SLO_W_PERIOD; w++) {
        json_t *x = must(json_object());
        status_put(x, "window", status_str(slo_window_name((enum slo_window)w)));
        status_put(x, "sli_ratio", status_num(f.sli[w]));
        status_put(x, "burn_rate", status_num(f.burn[w]));
        status_put(x, "events", status_uint(f.events[w]));
        status_append(ws, x);
    }
    status_put(o, "windows", ws);
    status_put(o, "budget_remaining", status_num(f.budget_remaining));
    status_put(o, "exhaustion_seconds", status_num(f.exhaustion_s));
    json_t *al = must(json_object());
    status_put(al, "page", status_bool(page));
    status_put(al, "ticket", status_bool(ticket));
    status_put(o, "alerts", al);
    status_put(o, "freeze", status_bool(f.freeze));
    status_put(o, "in_maintenance", status_bool(held));
    /* Columns, like a check's trend: 60 points as objects cost jansson
     * about 27 KB an SLO. */
    json_t *ts = must(json_array()), *left = must(json_array());
    for (size_t i = 0; i < n; i++) {
        status_append(ts, status_num((double)pts[i].t_ms / 1000.0));
        status_append(left, status_num(pts[i].budget_remaining));
    }
    json_t *bd = must(json_object());
    status_put(bd, "t", ts);
    status_put(bd, "budget_remaining", left);
    status_put(o, "burndown", bd);
    counts[0] += page;
    counts[1] += ticket;
    counts[2] += f.freeze;
    return o;
}

json_t *status_slos(const struct status_source *src, const struct maint_hold *held, json_t *sum)
{
    const struct gen *g = src->gen;
    const struct cfg *cfg = gen_cfg(g);
    json_t *a = must(json_array());
    size_t counts[3] = {0, 0, 0};
    struct sliw *scratch = NULL;
    for (size_t i = 0; i < gen_slo_count(g); i++)
        status_append(a, slo_json(cfg_slo(cfg, i), gen_slo(g, i), held && maint_slo_held(held, i),
                                  src->now_ms, counts, &scratch));
    free(scratch);
    status_put(sum, "total", status_uint(gen_slo_count(g)));
    status_put(sum, "paging", status_uint(counts[0]));
    status_put(sum, "ticketing", status_uint(counts[1]));
    status_put(sum, "frozen", status_uint(counts[2]));
    return a;
}

/* ---- canaries ---- */

/* One arm of a verdict; caller owns it. */
static json_t *arm_json(const struct canary_arm *arm)
{
    json_t *o = must(json_object());
    status_put(o, "samples", status_uint(arm->n));
    status_put(o, "error_ratio", status_num(arm->ratio));
    status_put(o, "p95_seconds", status_num(arm->p95));
    return o;
}

json_t *status_canaries(const struct status_source *src, json_t *sum)
{
    const struct gen *g = src->gen;
    const struct cfg *cfg = gen_cfg(g);
    size_t counts[3] = {0, 0, 0};
    json_t *a = must(json_array());
    for (size_t i = 0; i < gen_canary_count(g); i++) {
        const struct canary_spec *k = cfg_canary(cfg, i);
        struct canary_verdict v;
        /* The verdict the gates answer (cached for one interval). */
        canst_verdict(gen_canary(g, i), k, src->now_ms, &v);
        if ((unsigned)v.verdict < 3)
            counts[v.verdict]++;
        json_t *o = must(json_object());
        status_put(o, "name", status_str(k->name));
        status_put(o, "verdict", status_str(canary_verdict_name(v.verdict)));
        status_put(o, "score", status_num(v.score));
        status_put(o, "reason", status_str(v.reason));
        json_t *arms = must(json_object());
        status_put(arms, "baseline", arm_json(&v.baseline));
        status_put(arms, "canary", arm_json(&v.canary));
        status_put(o, "arms", arms);
        status_put(o, "error_p_value", status_num(v.fisher_p));
        json_t *shift = must(json_object());
        status_put(shift, "estimate_seconds", status_num(v.shift));
        status_put(shift, "lower_seconds", status_num(v.shift_lower));
        status_put(shift, "upper_seconds", status_num(v.shift_upper));
        status_put(o, "latency_shift", shift);
        status_append(a, o);
    }
    status_put(sum, "total", status_uint(gen_canary_count(g)));
    status_put(sum, "pass", status_uint(counts[CANARY_PASS]));
    status_put(sum, "fail", status_uint(counts[CANARY_FAIL]));
    status_put(sum, "inconclusive", status_uint(counts[CANARY_INCONCLUSIVE]));
    return a;
}

/* ---- alerts and windows ---- */

json_t *status_alerts(const struct status_source *src, size_t *n)
{
    json_t *a = must(json_array());
    struct alerts_item *items = NULL;
    *n = src->alerts ? alerts_firing_list(src->alerts, &items) : 0;
    for (size_t i = 0; i < *n; i++) {
        const struct alerts_item *it = &items[i];
        json_t *o = must(json_object());
        status_put(o, "alertname", status_str(it->alertname));
        status_put(o, "severity", status_str(it->severity));
        json_t *labels = must(json_object());
        /* A name jansson refuses (not UTF-8; the config allows none) is
         * left out: the call drops the value then. */
        for (size_t k = 0; k < it->n_labels; k++)
            (void)json_object_set_new(labels, it->labels[2 * k], status_str(it->labels[2 * k + 1]));
        status_put(o, "labels", labels);
        status_put(o, "since", status_time(it->since));
        status_append(a, o);
    }
    alerts_items_free(items, *n);
    return a;
}

/* An array of copies of names (borrowed); caller owns it. */
static json_t *names_json(char *const *names, size_t n)
{
    json_t *a = must(json_array());
    for (size_t i = 0; i < n; i++)
        status_append(a, status_str(names[i]));
    return a;
}

json_t *status_maintenance(const struct status_source *src, size_t *n)
{
    json_t *a = must(json_array());
    struct maint_active *w = NULL;
    *n = src->maint ? maint_active_list(src->maint, &w) : 0;
    for (size_t i = 0; i < *n; i++) {
        json_t *o = must(json_object());
        status_put(o, "name", status_str(w[i].name));
        status_put(o, "start", status_time((double)w[i].start_ms / 1000.0));
        status_put(o, "end", status_time((double)w[i].end_ms / 1000.0));
        status_put(o, "checks", names_json(w[i].checks, w[i].n_checks));
        status_put(o, "slos", names_json(w[i].slos, w[i].n_slos));
        status_put(o, "all", status_bool(w[i].all));
        status_append(a, o);
    }
    maint_active_free(w, *n);
    return a;
}
