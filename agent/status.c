/* status.c - the status model: query, checks, groups, page, and the tree
 * (status.h; the other parts in status_parts.c). */
#include "status_int.h"
#include "maint.h"
#include "names.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A page number no configuration reaches (CFG_MAX_CHECKS checks). */
#define STATUS_MAX_PAGE 1000000000u

enum cstate { CS_PENDING, CS_UP, CS_DOWN };
static const char *const cstate_names[] = {"pending", "up", "down"};

/* *why gets a copy of text (caller frees); returns it. */
static char *why_dup(char **why, const char *text)
{
    *why = xstrdup(text);
    return *why;
}

/* CS_* of a state name, -1 for anything else. */
static int cstate_of(const char *s)
{
    for (int i = 0; i < 3; i++)
        if (strcmp(s, cstate_names[i]) == 0)
            return i;
    return -1;
}

enum op_rc status_query_parse(const char *group, const char *state, const char *page,
                              const char *per_page, struct status_query *q, char **why)
{
    *why = NULL;
    *q = (struct status_query){
        .group = group, .state = state, .page = 1, .per_page = STATUS_DEFAULT_PER_PAGE};
    uint64_t v;
    if (page) {
        if (parse_u64(page, strlen(page), STATUS_MAX_PAGE, &v) != OP_OK || v == 0) {
            why_dup(why, "page must be a whole number from 1");
            return OP_ERR_INVALID;
        }
        q->page = (size_t)v;
    }
    if (per_page) {
        if (parse_u64(per_page, strlen(per_page), STATUS_MAX_PER_PAGE, &v) != OP_OK || v == 0) {
            why_dup(why, "per_page must be a whole number from 1 to 1000");
            return OP_ERR_INVALID;
        }
        q->per_page = (size_t)v;
    }
    if (state && cstate_of(state) < 0) {
        why_dup(why, "state must be up, down or pending");
        return OP_ERR_INVALID;
    }
    return OP_OK;
}

/* ---- groups ---- */

struct group {
    const char *name; /* borrowed from the config */
    size_t n[3];      /* checks by CS_* */
};

struct groups {
    struct group *g;
    size_t n, cap;
    struct names *ix;
};

static const char *group_key(const void *owner, size_t i)
{
    const struct groups *gs = owner;
    return gs->g[i].name;
}

/* The group called name (borrowed; must outlive gs), added in order of
 * first appearance when new. The result is gs's, valid until the next call. */
static struct group *group_of(struct groups *gs, const char *name)
{
    long i = names_find(gs->ix, name);
    if (i >= 0)
        return &gs->g[i];
    if (gs->n == gs->cap) {
        gs->cap = gs->cap ? 2 * gs->cap : 16;
        gs->g = xrealloc(gs->g, gs->cap * sizeof(*gs->g));
    }
    gs->g[gs->n] = (struct group){.name = name};
    (void)names_add(gs->ix, gs->n); /* not found above: added */
    return &gs->g[gs->n++];
}

/* Adds up/down/pending to o and returns it (ownership stays the caller's). */
static json_t *counts_json(json_t *o, const size_t n[3])
{
    status_put(o, "up", status_uint(n[CS_UP]));
    status_put(o, "down", status_uint(n[CS_DOWN]));
    status_put(o, "pending", status_uint(n[CS_PENDING]));
    return o;
}

/* "groups"; caller owns the result. */
static json_t *groups_json(const struct groups *gs)
{
    json_t *a = json_array();
    for (size_t i = 0; i < gs->n; i++) {
        const struct group *g = &gs->g[i];
        json_t *o = json_object();
        status_put(o, "name", status_str(g->name));
        status_put(o, "checks", status_uint(g->n[0] + g->n[1] + g->n[2]));
        status_append(a, counts_json(o, g->n));
    }
    return a;
}

/* ---- one check ---- */

/* Scratch space for reading one check, reused across the page. */
struct scratch {
    struct rec_snapshot snap;
    struct rec_trend trend;
};

/* "latency" of a trend (bounds: the recorder's, borrowed); caller owns it. */
static json_t *latency_json(const struct rec_trend *t, const double *bounds)
{
    json_t *o = json_object();
    status_put(o, "window_seconds", status_uint(STATUS_WINDOW_S));
    status_put(o, "runs", status_uint(t->runs));
    status_put(o, "failures", status_uint(t->failures));
    status_put(o, "p50_seconds", status_num(rec_quantile(0.5, bounds, t->n_bounds, t->cumulative)));
    status_put(o, "p95_seconds",
               status_num(rec_quantile(0.95, bounds, t->n_bounds, t->cumulative)));
    return o;
}

/* "trend", one array per field (columns): a point as an object would cost
 * jansson a hashtable and four key copies, ten times its JSON text, and a
 * page of 500 checks holds 10,000 points. Caller owns it. */
static json_t *trend_json(const struct rec_trend *t)
{
    json_t *ts = json_array(), *runs = json_array(), *fails = json_array(), *mean = json_array();
    for (size_t k = 0; k < REC_TREND_SLOTS; k++) {
        const struct rec_trend_slot *s = &t->slots[k];
        status_append(ts, status_num((double)s->start));
        status_append(runs, status_uint(s->runs));
        status_append(fails, status_uint(s->failures));
        status_append(mean, status_num(s->runs ? s->sum / s->runs : NAN));
    }
    json_t *o = json_object();
    status_put(o, "step_seconds", status_uint(REC_TREND_STEP_S));
    status_put(o, "t", ts);
    status_put(o, "runs", runs);
    status_put(o, "failures", fails);
    status_put(o, "mean_seconds", mean);
    return o;
}

/* Check i of src's generation, read now (sc: scratch space); caller owns it. */
static json_t *check_json(const struct status_source *src, size_t i, bool held, struct scratch *sc)
{
    const struct cfg *cfg = gen_cfg(src->gen);
    const struct check_spec *c = cfg_check(cfg, i);
    const struct rec *r = gen_rec(src->gen, i);
    double now = (double)src->now_ms / 1000.0;
    struct rec_snapshot *s = &sc->snap;
    rec_read(r, s);
    rec_read_trend(r, now, &sc->trend);
    bool down = s->has_result && !s->up;
    json_t *o = json_object();
    status_put(o, "name", status_str(c->name));
    status_put(o, "type", status_str(c->type->name));
    status_put(o, "group", status_str(c->group));
    /* The label, never the URL: no user info, query or reference. */
    status_put(o, "target", status_str(c->target));
    status_put(o, "interval_seconds", status_num((double)c->interval_ms / 1000.0));
    status_put(o, "state",
               status_str(cstate_names[!s->has_result ? CS_PENDING
                                       : s->up        ? CS_UP
                                                      : CS_DOWN]));
    status_put(o, "in_maintenance", status_bool(held));
    status_put(o, "last_run", status_time(s->has_result ? s->last_run : 0));
    status_put(o, "last_duration_seconds", status_num(s->has_result ? s->last_duration : NAN));
    status_put(o, "reason", down ? status_str(check_reason_name(s->last_reason)) : json_null());
    status_put(o, "detail", status_str(down ? s->detail : ""));
    status_put(o, "status_code", s->status > 0 ? status_uint((uint64_t)s->status) : json_null());
    status_put(o, "consecutive_failures", status_uint(s->consecutive_failures));
    status_put(o, "last_success", status_time(s->last_success));
    status_put(o, "since_success_seconds",
               status_num(s->last_success > 0 ? now - s->last_success : NAN));
    status_put(o, "latency", latency_json(&sc->trend, rec_bounds(r)));
    double left = s->cert_expiry - now;
    status_put(o, "cert_expiry", status_time(s->cert_expiry));
    status_put(o, "cert_expires_in_seconds", status_num(s->cert_expiry > 0 ? left : NAN));
    /* "Soon" as the agent's own alert judges it. */
    double soon_s = (double)cfg_alerting(cfg)->cert_expiry_warn_ms / 1000.0;
    status_put(o, "cert_expiry_soon", status_bool(s->cert_expiry > 0 && left < soon_s));
    status_put(o, "trend", trend_json(&sc->trend));
    return o;
}

/* ---- the tree ---- */

/* "page" (strings of q copied); caller owns it. */
static json_t *page_json(const struct status_query *q, size_t matched)
{
    json_t *o = json_object();
    status_put(o, "group", q->group ? status_str(q->group) : json_null());
    status_put(o, "state", q->state ? status_str(q->state) : json_null());
    status_put(o, "page", status_uint(q->page));
    status_put(o, "per_page", status_uint(q->per_page));
    status_put(o, "checks_matched", status_uint(matched));
    /* At least one page, the empty one, so "page 1 of 1" always holds. */
    size_t pages = matched ? (matched - 1) / q->per_page + 1 : 1;
    status_put(o, "pages", status_uint(pages));
    return o;
}

/* The bounds status_query_parse enforces, for a query made elsewhere. */
static enum op_rc query_ok(const struct status_query *q, char **why)
{
    if (q->page < 1 || q->page > STATUS_MAX_PAGE) {
        why_dup(why, "page must be a whole number from 1");
        return OP_ERR_INVALID;
    }
    if (q->per_page < 1 || q->per_page > STATUS_MAX_PER_PAGE) {
        why_dup(why, "per_page must be a whole number from 1 to 1000");
        return OP_ERR_INVALID;
    }
    if (q->state && cstate_of(q->state) < 0) {
        why_dup(why, "state must be up, down or pending");
        return OP_ERR_INVALID;
    }
    return OP_OK;
}

enum op_rc status_build(const struct status_source *src, const struct status_query *q, json_t **out,
                        char **why)
{
    *out = NULL;
    *why = NULL;
    enum op_rc rc = query_ok(q, why);
    if (rc != OP_OK)
        return rc;
    const struct gen *g = src->gen;
    const struct cfg *cfg = gen_cfg(g);
    size_t n = gen_check_count(g);
    /* Pass 1, every check: its state (one word of its recorder) and its
     * group's counts. */
    unsigned char *state = xmalloc(n ? n : 1);
    struct groups gs = {0};
    gs.ix = names_new(group_key, &gs);
    size_t total[3] = {0, 0, 0};
    for (size_t i = 0; i < n; i++) {
        bool has, up;
        rec_read_state(gen_rec(g, i), &has, &up);
        state[i] = !has ? CS_PENDING : up ? CS_UP : CS_DOWN;
        total[state[i]]++;
        group_of(&gs, cfg_check(cfg, i)->group)->n[state[i]]++;
    }
    json_t *doc = NULL, *checks = NULL;
    struct maint_hold *held = NULL;
    struct scratch *sc = NULL;
    if (q->group && names_find(gs.ix, q->group) < 0) {
        why_dup(why, "unknown group");
        rc = OP_ERR_NOT_FOUND;
        goto out;
    }
    held = src->maint ? maint_hold_new(src->maint, cfg) : NULL;
    /* Pass 2: the checks the query selects, read in full only on the page. */
    int want = q->state ? cstate_of(q->state) : -1;
    size_t first = (q->page - 1) * q->per_page, matched = 0;
    checks = json_array();
    sc = xmalloc(sizeof(*sc));
    for (size_t i = 0; i < n; i++) {
        if ((want >= 0 && state[i] != want) ||
            (q->group && strcmp(cfg_check(cfg, i)->group, q->group) != 0))
            continue;
        if (matched >= first && matched - first < q->per_page)
            status_append(checks, check_json(src, i, held && maint_check_held(held, i), sc));
        matched++;
    }
    doc = json_object();
    status_put(doc, "generated_at", status_time(floor((double)src->now_ms / 1000.0)));
    status_put(doc, "agent", status_agent(src));
    json_t *sum = json_object(), *sum_checks = json_object();
    status_put(sum_checks, "total", status_uint(n));
    status_put(sum, "checks", counts_json(sum_checks, total));
    json_t *sum_slos = json_object(), *sum_canaries = json_object();
    status_put(sum, "slos", sum_slos);
    status_put(sum, "canaries", sum_canaries);
    status_put(doc, "summary", sum);
    status_put(doc, "groups", groups_json(&gs));
    status_put(doc, "checks", checks);
    checks = NULL;
    status_put(doc, "slos", status_slos(src, held, sum_slos));
    status_put(doc, "canaries", status_canaries(src, sum_canaries));
    size_t n_alerts, n_windows;
    status_put(doc, "alerts", status_alerts(src, &n_alerts));
    status_put(doc, "maintenance", status_maintenance(src, &n_windows));
    status_put(sum, "alerts", status_uint(n_alerts));
    status_put(sum, "maintenance", status_uint(n_windows));
    status_put(doc, "page", page_json(q, matched));
    *out = doc;
out:
    json_decref(checks);
    free(sc);
    maint_hold_free(held);
    names_free(gs.ix);
    free(gs.g);
    free(state);
    return rc;
}

enum op_rc status_model(struct runtime *rt, const struct status_query *q, json_t **out, char **why)
{
    struct gen *g = rt_acquire_gen(rt);
    struct status_source src = {
        .gen = g,
        .alerts = rt_alerts(rt),
        .maint = rt_maint(rt),
        .now_ms = clock_wall_ms(rt_clock(rt)),
    };
    rt_facts(rt, &src.facts);
    enum op_rc rc = status_build(&src, q, out, why);
    gen_unref(g);
    return rc;
}
