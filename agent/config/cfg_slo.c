/* cfg_slo.c - the `slos:` section. */
#include "cfg_int.h"

#include <stdlib.h>
#include <string.h>

/* A label of outpost_slo_info: not one it sets itself. */
static const char *slo_label_why(const char *s)
{
    if (cfg_label_name_ok(s) && strcmp(s, "slo") != 0 && strcmp(s, "sli") != 0 &&
        strcmp(s, "period") != 0 && strcmp(s, "objective") != 0)
        return NULL;
    return "is not a usable label name ([a-zA-Z_][a-zA-Z0-9_]*, not slo, sli, period, "
           "objective, not starting with __)";
}

static bool slo_objective(struct cfg_parser *p, yaml_node_t *v, const char *path, void *obj)
{
    struct slo_spec *s = obj;
    if (!cfg_want_scalar(p, v, path))
        return false;
    char q[CFG_MAX_QUOTED + 4];
    /* Read once, exactly, as a plain decimal: the budget of "99.9" is then
     * exactly the double nearest 0.001, with no binary noise in any burn
     * rate. Exponents and hex are refused, not misread. */
    if (cfg_parse_percent(cfg_scalar(v), &s->objective, &s->budget) != OP_OK) {
        cfg_err(p, v, path,
                "\"%s\" is not a percentage above 0 and below 100 written as a plain decimal "
                "(e.g. 99.9)",
                cfg_quote(cfg_scalar(v), q));
        return false;
    }
    /* 0.999 is a valid objective of 0.999 %, but far more often a ratio
     * meant as 99.9 %. From 1 on it is taken as written (1 % is a real,
     * if odd, objective, and 1 as a ratio would be 100 %, never valid). */
    char hint[32];
    if (cfg_percent_hint(cfg_scalar(v), hint, sizeof(hint))) {
        const char *shown = cfg_quote(cfg_scalar(v), q);
        cfg_err(p, v, path,
                "\"%s\" is %s %%: objective is a percentage, not a ratio (did you mean %s?)", shown,
                shown, hint);
        return false;
    }
    free(s->objective_label);
    s->objective_label = xstrdup(cfg_scalar(v));
    return true;
}

static bool slo_period(struct cfg_parser *p, yaml_node_t *v, const char *path, void *obj)
{
    struct slo_spec *s = obj;
    if (!cfg_get_duration(p, v, path, &s->period_ms))
        return false;
    if (s->period_ms % 3600000 != 0 || s->period_ms < 86400000 || s->period_ms > CFG_MAX_PERIOD_MS)
        cfg_err(p, v, path, "period must be whole hours from 1d to 90d");
    free(s->period_label);
    s->period_label = xstrdup(cfg_scalar(v));
    return true;
}

static bool slo_calendar(struct cfg_parser *p, yaml_node_t *v, const char *path, void *obj)
{
    struct slo_spec *s = obj;
    if (!cfg_want_scalar(p, v, path))
        return false;
    char q[CFG_MAX_QUOTED + 4];
    if (strcmp(cfg_scalar(v), "month") != 0)
        cfg_err(p, v, path, "\"%s\" is not supported (use month)", cfg_quote(cfg_scalar(v), q));
    s->calendar_month = true;
    return true;
}

struct sli_parse {
    struct slo_spec *s;
    const yaml_node_t *checks_node;
};

static bool latency_threshold(struct cfg_parser *p, const char *key, yaml_node_t *v,
                              const char *path, void *arg)
{
    struct slo_spec *s = arg;
    if (strcmp(key, "threshold") != 0)
        return false;
    (void)cfg_get_duration(p, v, path, &s->latency_threshold_ms);
    return true;
}

static bool sli_key(struct cfg_parser *p, const char *key, yaml_node_t *v, const char *path,
                    void *arg)
{
    struct sli_parse *sp = arg;
    struct slo_spec *s = sp->s;
    if (strcmp(key, "checks") == 0) {
        if (!cfg_want_sequence(p, v, path))
            return true;
        size_t n = cfg_seq_len(v);
        if (n > CFG_MAX_CHECKS) {
            cfg_err(p, v, path, "more than %d checks", CFG_MAX_CHECKS);
            return true;
        }
        sp->checks_node = v;
        s->checks = xcalloc(n ? n : 1, sizeof(char *));
        for (size_t i = 0; i < n; i++) {
            char sub[CFG_PATH_CAP];
            cfg_path_index(sub, path, i);
            yaml_node_t *it = cfg_seq_item(p, v, i);
            if (it && cfg_get_str(p, it, sub, false, &s->checks[s->n_checks]))
                s->n_checks++;
        }
    } else if (strcmp(key, "latency") == 0) {
        s->latency = true;
        static const char *const names[] = {"threshold", NULL};
        static const struct cfg_keys keys = {.names = names};
        if (cfg_want_mapping(p, v, path))
            cfg_walk_map_keys(p, v, path, latency_threshold, s, &keys);
        if (!s->latency_threshold_ms)
            cfg_err(p, v, path, "missing key \"threshold\"");
    } else {
        return false;
    }
    return true;
}

static bool slo_labels(struct cfg_parser *p, yaml_node_t *v, const char *path, void *obj)
{
    struct slo_spec *s = obj;
    cfg_get_string_map(p, v, path, false, slo_label_why, NULL, &s->labels, &s->n_labels,
                       CFG_MAX_LABELS);
    return true;
}

static const struct cfg_field policy_fields[] = {
    {.key = "freeze_when_consumed",
     .kind = CFG_RATIO,
     .offset = offsetof(struct slo_spec, freeze_when_consumed),
     .lo = 0,
     .hi = 1,
     .lo_open = true},
    {.key = "over", .kind = CFG_DURATION, .offset = offsetof(struct slo_spec, policy_over_ms)},
    {0},
};

static bool slo_policy(struct cfg_parser *p, yaml_node_t *v, const char *path, void *obj)
{
    struct slo_spec *s = obj;
    s->has_policy = true;
    if (!cfg_want_mapping(p, v, path))
        return false;
    const yaml_node_t *nodes[ARRAY_SIZE(policy_fields)] = {0};
    (void)cfg_walk_fields(p, v, path, policy_fields, s, NULL, NULL, nodes);
    size_t over = cfg_field_index(policy_fields, "over");
    char sub[CFG_PATH_CAP];
    cfg_path_key(sub, path, "over");
    if (nodes[over] && s->policy_over_ms &&
        (s->policy_over_ms % 3600000 != 0 || s->policy_over_ms > CFG_MAX_PERIOD_MS))
        cfg_err(p, nodes[over], sub, "must be whole hours, at most 90d");
    if (!s->freeze_when_consumed || !s->policy_over_ms)
        cfg_err(p, v, path, "policy needs freeze_when_consumed and over");
    return true;
}

/* The SLO's own keys; `sli` is walked by slo_entry (it needs the node). */
static const struct cfg_field slo_fields[] = {
    {.key = "name", .kind = CFG_STR, .offset = offsetof(struct slo_spec, name)},
    {.key = "objective", .kind = CFG_CUSTOM, .parse = slo_objective},
    {.key = "period", .kind = CFG_CUSTOM, .parse = slo_period},
    {.key = "calendar", .kind = CFG_CUSTOM, .parse = slo_calendar},
    {.key = "min_events",
     .kind = CFG_COUNT,
     .offset = offsetof(struct slo_spec, min_events),
     .min = 0,
     .max = INT64_MAX,
     .def_i = CFG_DEFAULT_MIN_EVENTS},
    {.key = "policy", .kind = CFG_CUSTOM, .parse = slo_policy},
    {.key = "labels", .kind = CFG_CUSTOM, .parse = slo_labels},
    {0},
};

struct slo_walk {
    struct sli_parse sli;
    bool has_sli;
};

static bool slo_sli(struct cfg_parser *p, const char *key, yaml_node_t *v, const char *path,
                    void *arg)
{
    struct slo_walk *w = arg;
    if (strcmp(key, "sli") != 0)
        return false;
    static const char *const names[] = {"checks", "latency", NULL};
    static const struct cfg_keys keys = {.names = names};
    w->has_sli = true;
    if (cfg_want_mapping(p, v, path))
        cfg_walk_map_keys(p, v, path, sli_key, &w->sli, &keys);
    return true;
}

/* Identity of the SLI definition: the set of checks and the threshold. The
 * objective, period and policy are not part of it, so changing them keeps
 * the recorded events. Order-independent: each name hashed alone, the
 * hashes combined by a commutative sum. */
static uint64_t slo_identity(const struct slo_spec *s)
{
    int64_t lat = s->latency ? s->latency_threshold_ms : -1;
    uint64_t h = hash_mem(&lat, sizeof(lat)), sum = 0;
    for (size_t i = 0; i < s->n_checks; i++)
        sum += hash_str(s->checks[i]) * 0x9E3779B97F4A7C15ULL;
    return hash_mem_from(h, &sum, sizeof(sum));
}

/* Resolve sli.checks against the checks (inline canary arms included). */
static void resolve_checks(struct cfg_parser *p, const struct cfg *c, const char *path,
                           struct slo_spec *s, const yaml_node_t *checks_node)
{
    char sli_path[CFG_PATH_CAP], sub[CFG_PATH_CAP], q[CFG_MAX_QUOTED + 4];
    cfg_path_key(sli_path, path, "sli.checks");
    s->check_idx = xcalloc(s->n_checks, sizeof(size_t));
    for (size_t k = 0; k < s->n_checks; k++) {
        long idx = cfg_find_check(c, s->checks[k]);
        cfg_path_index(sub, sli_path, k);
        if (idx < 0)
            cfg_err(p, cfg_seq_item(p, checks_node, k), sub, "no check named \"%s\"",
                    cfg_quote(s->checks[k], q));
        else
            s->check_idx[k] = (size_t)idx;
    }
}

static void slos_alloc(size_t n, void *arg)
{
    struct cfg *c = arg;
    c->slos = xcalloc(n ? n : 1, sizeof(*c->slos));
    c->n_slos = n;
}

static void slo_entry(struct cfg_parser *p, yaml_node_t *it, const char *path, size_t i, void *arg)
{
    struct cfg *c = arg;
    struct slo_spec *s = &c->slos[i];
    cfg_fields_default(slo_fields, s);
    s->line = (int)it->start_mark.line + 1;
    s->column = (int)it->start_mark.column + 1;
    struct slo_walk w = {.sli = {.s = s}};
    const yaml_node_t *nodes[ARRAY_SIZE(slo_fields)] = {0};
    static const char *const sli_name[] = {"sli", NULL};
    static const struct cfg_keys sli_keys = {.names = sli_name};
    cfg_seen seen = cfg_walk_fields_ext(p, it, path, slo_fields, s, slo_sli, &w, &sli_keys, nodes);
    bool has_period = seen & CFG_SEEN(cfg_field_index(slo_fields, "period"));
    bool has_calendar = seen & CFG_SEEN(cfg_field_index(slo_fields, "calendar"));
    (void)cfg_check_name(p, it, path, s->name);
    if (!(seen & CFG_SEEN(cfg_field_index(slo_fields, "objective"))))
        cfg_err(p, it, path, "missing key \"objective\" (a percentage, e.g. 99.9)");
    if (has_period && has_calendar)
        cfg_err(p, it, path, "use either period or calendar, not both");
    if (!has_period && !has_calendar) {
        s->period_ms = 30LL * 86400000;
        s->period_label = xstrdup("30d");
    }
    if (s->calendar_month) {
        s->period_ms = 0;
        free(s->period_label);
        s->period_label = xstrdup("month");
    }
    if (s->has_policy && s->policy_over_ms && !s->calendar_month &&
        s->policy_over_ms > s->period_ms) {
        const yaml_node_t *pol = nodes[cfg_field_index(slo_fields, "policy")];
        char ot[CFG_MAX_QUOTED + 4], pt[CFG_MAX_QUOTED + 4];
        cfg_err(p, it, path, "policy.over (%s) is longer than the period (%s)",
                cfg_duration_text(cfg_map_value(p, pol, "over"), s->policy_over_ms, ot),
                cfg_duration_text(nodes[cfg_field_index(slo_fields, "period")], s->period_ms, pt));
    }
    if (!w.has_sli || !s->n_checks) {
        cfg_err(p, it, path, "sli needs a non-empty \"checks\" list");
        return;
    }
    resolve_checks(p, c, path, s, w.sli.checks_node);
    /* A check listed twice would count each probe twice. */
    char sli_path[CFG_PATH_CAP], sub[CFG_PATH_CAP], q[CFG_MAX_QUOTED + 4];
    cfg_path_key(sli_path, path, "sli.checks");
    for (size_t k = 0; k < s->n_checks; k++) {
        for (size_t j = 0; j < k; j++) {
            if (strcmp(s->checks[j], s->checks[k]) != 0)
                continue;
            cfg_path_index(sub, sli_path, k);
            cfg_err(p, cfg_seq_item(p, w.sli.checks_node, k), sub, "check \"%s\" listed twice",
                    cfg_quote(s->checks[k], q));
            break;
        }
    }
    s->identity = slo_identity(s);
}

static const char *slo_name(const void *arg, size_t i)
{
    return ((const struct cfg *)arg)->slos[i].name;
}

static int slo_line(const void *arg, size_t i)
{
    return ((const struct cfg *)arg)->slos[i].line;
}

void cfg_parse_slos(struct cfg_parser *p, const yaml_node_t *n, struct cfg *c)
{
    static const struct cfg_list list = {
        .section = "slos",
        .what = "SLO",
        .max = CFG_MAX_SLOS,
        .alloc = slos_alloc,
        .parse = slo_entry,
        .name = slo_name,
        .line = slo_line,
    };
    (void)cfg_named_list(p, n, &list, c, &c->slo_names);
}

void cfg_slos_free(struct cfg *c)
{
    for (size_t i = 0; i < c->n_slos; i++) {
        struct slo_spec *s = &c->slos[i];
        free(s->name);
        free(s->objective_label);
        free(s->period_label);
        for (size_t k = 0; k < s->n_checks; k++)
            free(s->checks[k]);
        free(s->checks);
        free(s->check_idx);
        for (size_t k = 0; k < s->n_labels; k++) {
            free(s->labels[k].name);
            free(s->labels[k].value);
        }
        free(s->labels);
    }
    free(c->slos);
    names_free(c->slo_names);
}
