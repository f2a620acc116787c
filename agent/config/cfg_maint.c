/*
 * cfg_maint.c - the `maintenance:` section: planned windows during which
 * alerts about what they cover are held and, by default, its probes do not
 * count for SLOs (docs/governance.md). Also RFC 3339 times, which a
 * one-off window's start is written in.
 */
#include "cfg_int.h"
#include "cron.h"
#include "tz.h"

#include <stdlib.h>
#include <string.h>

/* ---- RFC 3339 ---- */

/* n ASCII digits at s as a number; false if any is not a digit. */
static bool fixed_digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

static bool leap_year(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap_year(y) ? 29 : days[m - 1];
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

enum op_rc cfg_parse_rfc3339(const char *s, int64_t *ms)
{
    int y, mo, d, h, mi, sec;
    if (strnlen(s, 20) < 20 || !fixed_digits(s, 4, &y) || s[4] != '-' ||
        !fixed_digits(s + 5, 2, &mo) || s[7] != '-' || !fixed_digits(s + 8, 2, &d) ||
        (s[10] != 'T' && s[10] != 't') || !fixed_digits(s + 11, 2, &h) || s[13] != ':' ||
        !fixed_digits(s + 14, 2, &mi) || s[16] != ':' || !fixed_digits(s + 17, 2, &sec))
        return OP_ERR_INVALID;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 59)
        return OP_ERR_INVALID;
    const char *p = s + 19;
    int64_t frac_ms = 0;
    if (*p == '.') {
        p++;
        int n = 0;
        for (; *p >= '0' && *p <= '9'; p++, n++)
            if (n < 3)
                frac_ms = frac_ms * 10 + (*p - '0');
        if (n == 0)
            return OP_ERR_INVALID;
        for (; n < 3; n++)
            frac_ms *= 10;
    }
    int64_t offset_s = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (!fixed_digits(p + 1, 2, &oh) || p[3] != ':' || !fixed_digits(p + 4, 2, &om) ||
            oh > 23 || om > 59)
            return OP_ERR_INVALID;
        offset_s = (*p == '-' ? -1 : 1) * (int64_t)(oh * 3600 + om * 60);
        p += 6;
    } else {
        return OP_ERR_INVALID;
    }
    if (*p)
        return OP_ERR_INVALID;
    /* Local time minus its offset is UTC. */
    int64_t t = ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60 + sec - offset_s;
    *ms = t * 1000 + frac_ms;
    return OP_OK;
}

/* ---- schedule ---- */

static bool sched_start(struct cfg_parser *p, yaml_node_t *v, const char *path, void *obj)
{
    struct maint_spec *w = obj;
    if (!cfg_want_scalar(p, v, path))
        return false;
    char q[CFG_MAX_QUOTED + 4];
    if (cfg_parse_rfc3339(cfg_scalar(v), &w->sched.start_ms) != OP_OK) {
        cfg_err(p, v, path,
                "\"%s\" is not an RFC 3339 time (e.g. 2026-12-06T02:00:00Z or "
                "2026-12-06T03:00:00+01:00)",
                cfg_quote(cfg_scalar(v), q));
        return false;
    }
    return true;
}

static bool sched_duration(struct cfg_parser *p, yaml_node_t *v, const char *path, void *obj)
{
    struct maint_spec *w = obj;
    int64_t d;
    if (!cfg_get_duration(p, v, path, &d))
        return false;
    if (d > CFG_MAX_MAINT_DURATION_MS) {
        cfg_err(p, v, path, "a window lasts at most 31d");
        return false;
    }
    w->sched.duration_ms = d;
    return true;
}

static const struct cfg_field sched_fields[] = {
    {.key = "start", .kind = CFG_CUSTOM, .parse = sched_start},
    {.key = "cron", .kind = CFG_STR, .offset = offsetof(struct maint_spec, cron_expr)},
    {.key = "duration", .kind = CFG_CUSTOM, .parse = sched_duration},
    {.key = "timezone", .kind = CFG_STR, .offset = offsetof(struct maint_spec, timezone)},
    {0},
};

/* schedule: {start, duration} or {cron, duration, timezone}. */
static void parse_schedule(struct cfg_parser *p, const yaml_node_t *v, const char *path,
                           struct maint_spec *w)
{
    if (!cfg_want_mapping(p, v, path))
        return;
    const yaml_node_t *nodes[ARRAY_SIZE(sched_fields)] = {0};
    cfg_seen seen = cfg_walk_fields(p, v, path, sched_fields, w, NULL, NULL, nodes);
    size_t i_start = cfg_field_index(sched_fields, "start"),
           i_cron = cfg_field_index(sched_fields, "cron"),
           i_dur = cfg_field_index(sched_fields, "duration"),
           i_tz = cfg_field_index(sched_fields, "timezone");
    bool start = seen & CFG_SEEN(i_start), cron = seen & CFG_SEEN(i_cron);
    char sub[CFG_PATH_CAP];
    if (start && cron)
        cfg_err(p, v, path, "use either start (one window) or cron (recurring), not both");
    else if (!start && !cron)
        cfg_err(p, v, path,
                "needs start (one window, an RFC 3339 time) or cron (recurring windows)");
    if (!(seen & CFG_SEEN(i_dur)))
        cfg_err(p, v, path, "missing key \"duration\"");
    if (start && (seen & CFG_SEEN(i_tz))) {
        cfg_path_key(sub, path, "timezone");
        cfg_err(p, nodes[i_tz], sub,
                "timezone applies to cron; an RFC 3339 start carries its own offset");
    }
    struct buf err;
    buf_init(&err, 1024);
    if (cron && !start && w->cron_expr && cron_parse(w->cron_expr, &w->sched.cron, &err) != OP_OK) {
        cfg_path_key(sub, path, "cron");
        cfg_err(p, nodes[i_cron], sub, "%s", buf_str_or(&err, "not a cron expression"));
    }
    buf_reset(&err);
    if (cron && w->timezone && tz_load(w->timezone, &w->sched.tz, &err) != OP_OK) {
        cfg_path_key(sub, path, "timezone");
        cfg_err(p, nodes[i_tz], sub, "%s", buf_str_or(&err, "unknown time zone"));
    }
    buf_free(&err);
}

/* ---- what a window covers ---- */

/* A list of names (checks or SLOs) into *names: strings, none twice, not
 * empty. Returns how many were read. */
static size_t parse_names(struct cfg_parser *p, const yaml_node_t *v, const char *path,
                          const char *what, char ***names)
{
    if (!cfg_want_sequence(p, v, path))
        return 0;
    size_t n = cfg_seq_len(v), got = 0;
    if (n == 0) {
        cfg_err(p, v, path,
                "an empty list covers nothing (leave out checks and slos to cover everything)");
        return 0;
    }
    if (n > CFG_MAX_CHECKS) {
        cfg_err(p, v, path, "more than %d %s", CFG_MAX_CHECKS, what);
        return 0;
    }
    *names = xcalloc(n, sizeof(char *));
    for (size_t i = 0; i < n; i++) {
        char sub[CFG_PATH_CAP], q[CFG_MAX_QUOTED + 4];
        cfg_path_index(sub, path, i);
        yaml_node_t *it = cfg_seq_item(p, v, i);
        char *s = NULL;
        if (!it || !cfg_get_str(p, it, sub, false, &s))
            continue;
        bool twice = false;
        for (size_t j = 0; j < got && !twice; j++)
            twice = strcmp((*names)[j], s) == 0;
        if (twice) {
            cfg_err(p, it, sub, "\"%s\" listed twice", cfg_quote(s, q));
            free(s);
            continue;
        }
        (*names)[got++] = s;
    }
    return got;
}

/* Each name's index through find; an unknown one is an error at its item.
 * The items are matched again by text, as parse_names skipped bad ones. */
static size_t *resolve_names(struct cfg_parser *p, const struct cfg *c, const yaml_node_t *list,
                             const char *path, char **names, size_t n, const char *what,
                             long (*find)(const struct cfg *, const char *))
{
    size_t *idx = xcalloc(n ? n : 1, sizeof(size_t));
    for (size_t k = 0; k < n; k++) {
        long i = find(c, names[k]);
        if (i >= 0) {
            idx[k] = (size_t)i;
            continue;
        }
        for (size_t j = 0; j < cfg_seq_len(list); j++) {
            yaml_node_t *it = cfg_seq_item(p, list, j);
            if (!it || it->type != YAML_SCALAR_NODE || strcmp(cfg_scalar(it), names[k]) != 0)
                continue;
            char sub[CFG_PATH_CAP], q[CFG_MAX_QUOTED + 4];
            cfg_path_index(sub, path, j);
            cfg_err(p, it, sub, "no %s named \"%s\"", what, cfg_quote(names[k], q));
            break;
        }
    }
    return idx;
}

/* ---- entries ---- */

static const struct cfg_field maint_fields[] = {
    {.key = "name", .kind = CFG_STR, .offset = offsetof(struct maint_spec, name)},
    {.key = "exclude_from_slos",
     .kind = CFG_BOOL,
     .offset = offsetof(struct maint_spec, exclude_from_slos),
     .def_i = 1},
    {.key = "alertmanager_silence",
     .kind = CFG_BOOL,
     .offset = offsetof(struct maint_spec, alertmanager_silence)},
    {0},
};

/* The keys walked outside the table (they need their nodes). */
struct maint_walk {
    struct maint_spec *w;
    const yaml_node_t *schedule, *checks, *slos;
    char checks_path[CFG_PATH_CAP], slos_path[CFG_PATH_CAP];
};

static bool maint_key(struct cfg_parser *p, const char *key, yaml_node_t *v, const char *path,
                      void *arg)
{
    struct maint_walk *mw = arg;
    if (strcmp(key, "schedule") == 0) {
        mw->schedule = v;
        parse_schedule(p, v, path, mw->w);
    } else if (strcmp(key, "checks") == 0) {
        mw->checks = v;
        snprintf(mw->checks_path, sizeof(mw->checks_path), "%s", path);
        mw->w->n_checks = parse_names(p, v, path, "checks", &mw->w->checks);
    } else if (strcmp(key, "slos") == 0) {
        mw->slos = v;
        snprintf(mw->slos_path, sizeof(mw->slos_path), "%s", path);
        mw->w->n_slos = parse_names(p, v, path, "SLOs", &mw->w->slos);
    } else {
        return false;
    }
    return true;
}

static long find_check(const struct cfg *c, const char *name)
{
    return cfg_find_check(c, name);
}

static long find_slo(const struct cfg *c, const char *name)
{
    return cfg_find_slo(c, name);
}

static void maint_alloc(size_t n, void *arg)
{
    struct cfg *c = arg;
    c->maint = xcalloc(n ? n : 1, sizeof(*c->maint));
    c->n_maint = n;
}

static void maint_entry(struct cfg_parser *p, yaml_node_t *it, const char *path, size_t i,
                        void *arg)
{
    struct cfg *c = arg;
    struct maint_spec *w = &c->maint[i];
    cfg_fields_default(maint_fields, w);
    w->line = (int)it->start_mark.line + 1;
    w->column = (int)it->start_mark.column + 1;
    struct maint_walk mw = {.w = w};
    static const char *const extra[] = {"schedule", "checks", "slos", NULL};
    static const struct cfg_keys extra_keys = {.names = extra};
    const yaml_node_t *nodes[ARRAY_SIZE(maint_fields)] = {0};
    (void)cfg_walk_fields_ext(p, it, path, maint_fields, w, maint_key, &mw, &extra_keys, nodes);
    (void)cfg_check_name(p, it, path, w->name);
    if (!mw.schedule)
        cfg_err(p, it, path, "missing key \"schedule\"");
    if (mw.checks && mw.slos)
        cfg_err(p, it, path,
                "use either checks or slos, not both (leave out both to cover everything)");
    if (mw.checks)
        w->check_idx = resolve_names(p, c, mw.checks, mw.checks_path, w->checks, w->n_checks,
                                     "check", find_check);
    if (mw.slos)
        w->slo_idx =
            resolve_names(p, c, mw.slos, mw.slos_path, w->slos, w->n_slos, "SLO", find_slo);
    if (w->alertmanager_silence && c->alerting.n_alertmanagers == 0) {
        size_t k = cfg_field_index(maint_fields, "alertmanager_silence");
        char sub[CFG_PATH_CAP];
        cfg_path_key(sub, path, "alertmanager_silence");
        cfg_err(p, nodes[k], sub, "needs alerting.alertmanagers to create the silence in");
    }
}

static const char *maint_name(const void *arg, size_t i)
{
    return ((const struct cfg *)arg)->maint[i].name;
}

static int maint_line(const void *arg, size_t i)
{
    return ((const struct cfg *)arg)->maint[i].line;
}

void cfg_parse_maintenance(struct cfg_parser *p, const yaml_node_t *n, struct cfg *c)
{
    static const struct cfg_list list = {
        .section = "maintenance",
        .what = "maintenance window",
        .max = CFG_MAX_MAINT_WINDOWS,
        .alloc = maint_alloc,
        .parse = maint_entry,
        .name = maint_name,
        .line = maint_line,
    };
    (void)cfg_named_list(p, n, &list, c, &c->maint_names);
}

void cfg_maintenance_free(struct cfg *c)
{
    for (size_t i = 0; i < c->n_maint; i++) {
        struct maint_spec *w = &c->maint[i];
        free(w->name);
        free(w->cron_expr);
        free(w->timezone);
        cron_free(w->sched.cron);
        tz_free(w->sched.tz);
        for (size_t k = 0; k < w->n_checks; k++)
            free(w->checks[k]);
        free(w->checks);
        free(w->check_idx);
        for (size_t k = 0; k < w->n_slos; k++)
            free(w->slos[k]);
        free(w->slos);
        free(w->slo_idx);
    }
    free(c->maint);
    names_free(c->maint_names);
}

size_t cfg_maint_count(const struct cfg *c)
{
    return c->n_maint;
}

const struct maint_spec *cfg_maint(const struct cfg *c, size_t i)
{
    return &c->maint[i];
}

long cfg_find_maint(const struct cfg *c, const char *name)
{
    return c->maint_names ? names_find(c->maint_names, name) : -1;
}
