/*
 * cfg.c - the loader: the YAML document, the order of its sections, the
 * `global:` defaults, the `checks:` list (each entry handed to its check
 * type's schema), and the accessors of a loaded config.
 *
 * libyaml's document API builds a node tree that keeps start marks, so every
 * error can name file, line and column.
 */
#include "cfg_int.h"
#include "cfg_compose.h"
#include "cfg_modules_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const double cfg_default_buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
const size_t cfg_n_default_buckets = ARRAY_SIZE(cfg_default_buckets);

/* ---- durations ---- */

enum op_rc cfg_parse_duration(const char *s, int64_t *ms)
{
    static const struct {
        const char *unit;
        int64_t ms;
    } units[] = {
        /* "ms" first so it is not read as "m" then "s". */
        {"ms", 1},       {"s", 1000},      {"m", 60000},       {"h", 3600000},
        {"d", 86400000}, {"w", 604800000}, {"y", 31536000000},
    };
    if (!s || !*s)
        return OP_ERR_INVALID;
    int64_t total = 0;
    const char *p = s;
    size_t last_rank = 0;
    bool first = true;
    while (*p) {
        if (*p < '0' || *p > '9')
            return OP_ERR_INVALID;
        int64_t v = 0;
        while (*p >= '0' && *p <= '9') {
            if (v > (INT64_MAX - (*p - '0')) / 10)
                return OP_ERR_INVALID;
            v = v * 10 + (*p - '0');
            p++;
        }
        size_t u;
        for (u = 0; u < ARRAY_SIZE(units); u++)
            if (strncmp(p, units[u].unit, strlen(units[u].unit)) == 0)
                break;
        if (u == ARRAY_SIZE(units))
            return OP_ERR_INVALID;
        /* Units come largest first, each at most once, as in Prometheus. */
        size_t rank = u + 1;
        if (!first && rank >= last_rank)
            return OP_ERR_INVALID;
        last_rank = rank;
        first = false;
        if (v > INT64_MAX / units[u].ms)
            return OP_ERR_INVALID;
        v *= units[u].ms;
        if (total > INT64_MAX - v)
            return OP_ERR_INVALID;
        total += v;
        p += strlen(units[u].unit);
    }
    *ms = total;
    return OP_OK;
}

const char *cfg_format_duration(int64_t ms, char *out, size_t cap)
{
    static const struct {
        const char *unit;
        int64_t ms;
        bool exact; /* only when it divides the value: "90d" reads better than "12w6d" */
    } units[] = {
        {"y", 31536000000, true}, {"w", 604800000, true}, {"d", 86400000, false},
        {"h", 3600000, false},    {"m", 60000, false},    {"s", 1000, false},
        {"ms", 1, false},
    };
    size_t len = 0;
    out[0] = '\0';
    if (ms == 0) {
        snprintf(out, cap, "0s");
        return out;
    }
    /* Never from a parsed duration (those are above 0), but a negative
     * value still reads as one: its magnitude, without overflowing. */
    uint64_t left = ms < 0 ? (uint64_t)0 - (uint64_t)ms : (uint64_t)ms;
    if (ms < 0)
        len += (size_t)snprintf(out, cap, "-");
    for (size_t u = 0; u < ARRAY_SIZE(units) && len < cap; u++) {
        uint64_t per = (uint64_t)units[u].ms, v = left / per;
        if (!v || (units[u].exact && left % per))
            continue;
        len +=
            (size_t)snprintf(out + len, cap - len, "%llu%s", (unsigned long long)v, units[u].unit);
        left -= v * per;
    }
    return out;
}

/* ---- helpers shared by sections ---- */

bool cfg_label_name_ok(const char *s)
{
    if (!*s || (s[0] == '_' && s[1] == '_'))
        return false;
    for (const char *q = s; *q; q++) {
        bool alpha = (*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || *q == '_';
        if (!alpha && !(q > s && *q >= '0' && *q <= '9'))
            return false;
    }
    return true;
}

/* ---- alert and retry policy (global and per check) ---- */

static const struct cfg_field alert_fields[] = {
    {.key = "failure_threshold",
     .kind = CFG_UINT,
     .offset = offsetof(struct check_policy, failure_threshold),
     .min = 1,
     .max = 1000000,
     .def_i = 3},
    {.key = "success_threshold",
     .kind = CFG_UINT,
     .offset = offsetof(struct check_policy, success_threshold),
     .min = 1,
     .max = 1000000,
     .def_i = 2},
    {0},
};

static const struct cfg_field retry_fields[] = {
    {.key = "attempts",
     .kind = CFG_UINT,
     .offset = offsetof(struct check_policy, retry_attempts),
     .min = 0,
     .max = CFG_MAX_RETRIES},
    {.key = "delay",
     .kind = CFG_DURATION,
     .offset = offsetof(struct check_policy, retry_delay_ms),
     .def_i = 1000},
    {0},
};

static void policy_defaults(struct check_policy *pol)
{
    cfg_fields_default(alert_fields, pol);
    cfg_fields_default(retry_fields, pol);
}

/* `alert:` or `retry:` into pol (the other keys of pol stay). */
static bool policy_map(struct cfg_parser *p, yaml_node_t *v, const char *path,
                       const struct cfg_field *tbl, struct check_policy *pol)
{
    if (!cfg_want_mapping(p, v, path))
        return false;
    (void)cfg_walk_fields(p, v, path, tbl, pol, NULL, NULL, NULL);
    return true;
}

/* ---- optional series (global and per check) ---- */

static const struct cfg_field metrics_fields[] = {
    {.key = "phases",
     .kind = CFG_BOOL,
     .offset = offsetof(struct check_metrics, phases),
     .def_i = 1},
    {.key = "histogram",
     .kind = CFG_BOOL,
     .offset = offsetof(struct check_metrics, histogram),
     .def_i = 1},
    {.key = "status_code",
     .kind = CFG_BOOL,
     .offset = offsetof(struct check_metrics, status_code),
     .def_i = 1},
    {0},
};

/* `metrics:` into m; the keys it leaves out keep their value. */
static bool metrics_map(struct cfg_parser *p, yaml_node_t *v, const char *path,
                        struct check_metrics *m)
{
    if (!cfg_want_mapping(p, v, path))
        return false;
    (void)cfg_walk_fields(p, v, path, metrics_fields, m, NULL, NULL, NULL);
    return true;
}

/* ---- global ---- */

static bool global_buckets(struct cfg_parser *p, yaml_node_t *v, const char *path, void *obj)
{
    (void)obj;
    return cfg_get_buckets(p, v, path, &p->buckets, &p->n_buckets);
}

static bool global_alert(struct cfg_parser *p, yaml_node_t *v, const char *path, void *obj)
{
    (void)obj;
    return policy_map(p, v, path, alert_fields, &p->policy);
}

static bool global_retry(struct cfg_parser *p, yaml_node_t *v, const char *path, void *obj)
{
    (void)obj;
    return policy_map(p, v, path, retry_fields, &p->policy);
}

static bool global_metrics(struct cfg_parser *p, yaml_node_t *v, const char *path, void *obj)
{
    (void)obj;
    return metrics_map(p, v, path, &p->metrics);
}

static const struct cfg_field browser_fields[] = {
    {.key = "max_concurrent",
     .kind = CFG_UINT,
     .offset = offsetof(struct browser_settings, max_concurrent),
     .min = 1,
     .max = CFG_MAX_BROWSERS,
     .def_i = 2},
    {.key = "executable", .kind = CFG_STR, .offset = offsetof(struct browser_settings, executable)},
    {0},
};

/* `global.browser`. Whether the executable exists is judged by the first
 * browser check: a file without one may name a path it does not have. */
static bool global_browser(struct cfg_parser *p, yaml_node_t *v, const char *path, void *obj)
{
    (void)obj;
    if (!cfg_want_mapping(p, v, path))
        return false;
    const yaml_node_t *nodes[ARRAY_SIZE(browser_fields)] = {0};
    (void)cfg_walk_fields(p, v, path, browser_fields, &p->browser, NULL, NULL, nodes);
    size_t ex = cfg_field_index(browser_fields, "executable");
    if (p->browser.executable && !*p->browser.executable) {
        char sub[CFG_PATH_CAP];
        cfg_path_key(sub, path, "executable");
        cfg_err(p, nodes[ex], sub, "must not be empty (leave it out to use the default search)");
    }
    return true;
}

static const struct cfg_field global_fields[] = {
    {.key = "interval",
     .kind = CFG_DURATION,
     .offset = offsetof(struct cfg_parser, interval_ms),
     .def_i = CFG_DEFAULT_INTERVAL_MS},
    {.key = "timeout",
     .kind = CFG_DURATION,
     .offset = offsetof(struct cfg_parser, timeout_ms),
     .def_i = CFG_DEFAULT_TIMEOUT_MS},
    {.key = "histogram_buckets", .kind = CFG_CUSTOM, .parse = global_buckets},
    {.key = "alert", .kind = CFG_CUSTOM, .parse = global_alert},
    {.key = "retry", .kind = CFG_CUSTOM, .parse = global_retry},
    {.key = "metrics", .kind = CFG_CUSTOM, .parse = global_metrics},
    {.key = "browser", .kind = CFG_CUSTOM, .parse = global_browser},
    {0},
};

void cfg_parse_global(struct cfg_parser *p, const yaml_node_t *n)
{
    cfg_fields_default(global_fields, p);
    policy_defaults(&p->policy);
    cfg_fields_default(metrics_fields, &p->metrics);
    cfg_fields_default(browser_fields, &p->browser);
    if (!n || cfg_is_null(n) || !cfg_want_mapping(p, n, "global"))
        return;
    const yaml_node_t *nodes[ARRAY_SIZE(global_fields)] = {0};
    cfg_seen seen = cfg_walk_fields(p, n, "global", global_fields, p, NULL, NULL, nodes);
    p->timeout_set = seen & CFG_SEEN(cfg_field_index(global_fields, "timeout"));
    p->interval_node = nodes[cfg_field_index(global_fields, "interval")];
    p->timeout_node = nodes[cfg_field_index(global_fields, "timeout")];
    p->retry_delay_node = cfg_map_value(p, nodes[cfg_field_index(global_fields, "retry")], "delay");
    char t[CFG_MAX_QUOTED + 4], i[CFG_MAX_QUOTED + 4];
    if (p->timeout_set && p->timeout_ms > p->interval_ms)
        cfg_err(p, n, "global", "timeout (%s) must not be longer than interval (%s)",
                cfg_duration_text(p->timeout_node, p->timeout_ms, t),
                cfg_duration_text(p->interval_node, p->interval_ms, i));
}

/* ---- checks ---- */

static bool check_buckets(struct cfg_parser *p, yaml_node_t *v, const char *path, void *obj)
{
    struct check_spec *cs = obj;
    return cfg_get_buckets(p, v, path, &cs->buckets, &cs->n_buckets);
}

/* `type` is read before the walk (the other keys depend on it); here it
 * only needs to be known. */
static bool check_type_key(struct cfg_parser *p, yaml_node_t *v, const char *path, void *obj)
{
    (void)p;
    (void)v;
    (void)path;
    (void)obj;
    return true;
}

static bool check_alert(struct cfg_parser *p, yaml_node_t *v, const char *path, void *obj)
{
    return policy_map(p, v, path, alert_fields, &((struct check_spec *)obj)->policy);
}

static bool check_retry(struct cfg_parser *p, yaml_node_t *v, const char *path, void *obj)
{
    return policy_map(p, v, path, retry_fields, &((struct check_spec *)obj)->policy);
}

static bool check_metrics_key(struct cfg_parser *p, yaml_node_t *v, const char *path, void *obj)
{
    return metrics_map(p, v, path, &((struct check_spec *)obj)->metrics);
}

/* The keys every check has; every other key belongs to its type. */
static const struct cfg_field check_fields[] = {
    {.key = "name", .kind = CFG_STR, .offset = offsetof(struct check_spec, name)},
    {.key = "type", .kind = CFG_CUSTOM, .parse = check_type_key},
    {.key = "group", .kind = CFG_STR, .offset = offsetof(struct check_spec, group)},
    {.key = "interval", .kind = CFG_DURATION, .offset = offsetof(struct check_spec, interval_ms)},
    {.key = "timeout", .kind = CFG_DURATION, .offset = offsetof(struct check_spec, timeout_ms)},
    {.key = "histogram_buckets", .kind = CFG_CUSTOM, .parse = check_buckets},
    {.key = "alert", .kind = CFG_CUSTOM, .parse = check_alert},
    {.key = "retry", .kind = CFG_CUSTOM, .parse = check_retry},
    {.key = "metrics", .kind = CFG_CUSTOM, .parse = check_metrics_key},
    {0},
};

static bool type_key(struct cfg_parser *p, const char *key, yaml_node_t *v, const char *path,
                     void *arg)
{
    struct check_spec *cs = arg;
    /* An unknown type was reported already; its keys cannot be judged. */
    return cs->type ? cs->type->key(p, key, v, path, cs) : true;
}

/* The schema named by the entry's `type:` (http when absent); NULL after an
 * error. Read first because every other key depends on it. */
static const struct check_schema *entry_type(struct cfg_parser *p, const yaml_node_t *n,
                                             const char *path)
{
    for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = yaml_document_get_node(p->doc, pr->key);
        yaml_node_t *v = yaml_document_get_node(p->doc, pr->value);
        if (!k || !v || k->type != YAML_SCALAR_NODE || strcmp(cfg_scalar(k), "type") != 0)
            continue;
        char sub[CFG_PATH_CAP], q[CFG_MAX_QUOTED + 4];
        cfg_path_key(sub, path, "type");
        if (!cfg_want_scalar(p, v, sub))
            return NULL;
        const struct check_schema *s = cfg_check_schema(cfg_scalar(v));
        if (!s)
            cfg_err(p, v, sub, "unsupported check type \"%s\" (supported: %s)",
                    cfg_quote(cfg_scalar(v), q), cfg_check_type_names());
        return s;
    }
    return cfg_check_schema("http");
}

bool cfg_parse_check(struct cfg_parser *p, const yaml_node_t *n, const char *path,
                     struct check_spec *cs)
{
    int before = p->n_errors;
    bool arm = cs->sched_key != NULL; /* a canary arm: name and interval are preset */
    int64_t preset_interval = cs->interval_ms;
    cs->line = (int)n->start_mark.line + 1;
    cs->policy = p->policy;   /* each key of `alert:` and `retry:` overrides one */
    cs->metrics = p->metrics; /* and each key of `metrics:` */
    cs->type = entry_type(p, n, path);
    if (cs->type)
        cs->spec = cs->type->new_spec();
    const yaml_node_t *nodes[ARRAY_SIZE(check_fields)] = {0};
    cfg_seen seen = cfg_walk_fields_ext(p, n, path, check_fields, cs, type_key, cs,
                                        cs->type ? cs->type->keys : NULL, nodes);
    size_t iv = cfg_field_index(check_fields, "interval");
    size_t to = cfg_field_index(check_fields, "timeout");
    bool has_interval = seen & CFG_SEEN(iv);

    if (arm) {
        if (seen & CFG_SEEN(cfg_field_index(check_fields, "name")))
            cfg_err(p, n, path, "an arm takes its name from the canary");
        if (has_interval)
            cfg_err(p, n, path, "an arm runs at the canary's interval; set interval on the canary");
        cs->interval_ms = preset_interval;
    } else {
        (void)cfg_check_name(p, n, path, cs->name);
    }
    if (!cs->group)
        cs->group = xstrdup("");
    /* Where the interval was written: the entry, else `global:` (an arm's
     * comes from its canary and is printed in Prometheus' form). */
    const yaml_node_t *iv_node = nodes[iv] ? nodes[iv] : arm ? NULL : p->interval_node;
    char tot[CFG_MAX_QUOTED + 4], ivt[CFG_MAX_QUOTED + 4];
    if (!cs->interval_ms)
        cs->interval_ms = p->interval_ms;
    if (!cs->timeout_ms) {
        /* An implicit timeout never exceeds the check's own interval. */
        cs->timeout_ms = p->timeout_ms < cs->interval_ms ? p->timeout_ms : cs->interval_ms;
        /* An arm takes its interval from the canary, so there the global
         * timeout only caps, never conflicts. */
        if (p->timeout_set && p->timeout_ms > cs->interval_ms && !arm)
            cfg_err(p, n, path, "global timeout (%s) is longer than this check's interval (%s)",
                    cfg_duration_text(p->timeout_node, p->timeout_ms, tot),
                    cfg_duration_text(iv_node, cs->interval_ms, ivt));
    }
    /* Rules across keys point at the value that breaks them, or at the
     * entry when that value came from `global:`. Values are echoed as
     * written wherever they were written. */
    char bound[CFG_DURATION_TEXT];
    if (cs->interval_ms < CFG_MIN_INTERVAL_MS)
        cfg_err(p, nodes[iv] ? nodes[iv] : n, path, "interval must be at least %s",
                cfg_format_duration(CFG_MIN_INTERVAL_MS, bound, sizeof(bound)));
    if (cs->timeout_ms > cs->interval_ms)
        cfg_err(p, nodes[to] ? nodes[to] : n, path,
                "timeout (%s) must not be longer than interval (%s)",
                cfg_timeout_text(p, n, cs->timeout_ms, tot),
                cfg_duration_text(iv_node, cs->interval_ms, ivt));
    /* Retries happen inside the run: all attempts must end before the
     * check is due again, or the next run would be skipped. */
    const struct check_policy *pol = &cs->policy;
    if (pol->retry_attempts && (int64_t)(pol->retry_attempts + 1) * cs->timeout_ms +
                                       (int64_t)pol->retry_attempts * pol->retry_delay_ms >
                                   cs->interval_ms) {
        const yaml_node_t *delay = cfg_map_value(p, cfg_map_value(p, n, "retry"), "delay");
        char dt[CFG_MAX_QUOTED + 4];
        cfg_err(p, n, path,
                "retry: %u attempts of up to %s plus %s between them do not fit in the "
                "interval (%s)",
                pol->retry_attempts + 1, cfg_timeout_text(p, n, cs->timeout_ms, tot),
                cfg_duration_text(delay ? delay : p->retry_delay_node, pol->retry_delay_ms, dt),
                cfg_duration_text(iv_node, cs->interval_ms, ivt));
    }
    if (!cs->buckets) {
        cs->n_buckets = p->n_buckets;
        cs->buckets = xcalloc(cs->n_buckets, sizeof(double));
        memcpy(cs->buckets, p->buckets, cs->n_buckets * sizeof(double));
    }
    if (cs->type)
        cs->type->finish(p, n, path, cs);
    return p->n_errors == before;
}

bool cfg_check_is_canary_arm(const struct check_spec *c)
{
    /* Only inline arms get a phase key of their own (their canary's). */
    return c->sched_key != NULL;
}

void cfg_check_free(struct check_spec *cs)
{
    free(cs->name);
    free(cs->group);
    free(cs->target);
    free(cs->buckets);
    free(cs->sched_key);
    if (cs->type && cs->spec)
        cs->type->free_spec(cs->spec);
}

static void checks_alloc(size_t n, void *arg)
{
    struct cfg *c = arg;
    c->checks = xcalloc(n ? n : 1, sizeof(*c->checks));
    /* Every entry gets a slot, also a broken one, so slot i is entry i. */
    c->n_checks = n;
}

static void checks_parse(struct cfg_parser *p, yaml_node_t *item, const char *path, size_t i,
                         void *arg)
{
    struct cfg *c = arg;
    (void)cfg_parse_check(p, item, path, &c->checks[i]);
}

static const char *check_name(const void *arg, size_t i)
{
    return ((const struct cfg *)arg)->checks[i].name;
}

static int check_line(const void *arg, size_t i)
{
    return ((const struct cfg *)arg)->checks[i].line;
}

void cfg_parse_checks(struct cfg_parser *p, const yaml_node_t *n, struct cfg *c)
{
    static const struct cfg_list list = {
        .section = "checks",
        .what = "check",
        .max = CFG_MAX_CHECKS,
        .alloc = checks_alloc,
        .parse = checks_parse,
        .name = check_name,
        .line = check_line,
    };
    names_free(c->check_names);
    c->check_names = NULL;
    if (!n || cfg_is_null(n)) {
        c->check_names = names_new(check_name, c);
        return;
    }
    (void)cfg_named_list(p, n, &list, c, &c->check_names);
}

/* ---- the document ---- */

struct top_parse {
    yaml_node_t *global, *checks, *slos, *canaries, *alerting, *modules, *maintenance;
};

static bool top_key(struct cfg_parser *p, const char *key, yaml_node_t *v, const char *path,
                    void *arg)
{
    (void)p;
    (void)path;
    struct top_parse *tp = arg;
    if (strcmp(key, "global") == 0)
        tp->global = v;
    else if (strcmp(key, "checks") == 0)
        tp->checks = v;
    else if (strcmp(key, "slos") == 0)
        tp->slos = v;
    else if (strcmp(key, "canaries") == 0)
        tp->canaries = v;
    else if (strcmp(key, "alerting") == 0)
        tp->alerting = v;
    else if (strcmp(key, "modules") == 0)
        tp->modules = v;
    else if (strcmp(key, "maintenance") == 0)
        tp->maintenance = v;
    else
        return false;
    return true;
}

void cfg_free(struct cfg *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_checks; i++)
        cfg_check_free(&c->checks[i]);
    free(c->checks);
    names_free(c->check_names);
    cfg_slos_free(c);
    cfg_canaries_free(c);
    cfg_alerting_free(&c->alerting);
    cfg_maintenance_free(c);
    cfg_modules_free(c);
    free(c->source);
    free(c);
}

enum op_rc cfg_load_string(const char *text, size_t len, const char *name, struct cfg **out,
                           struct buf *errors)
{
    return cfg_load_string_opts(text, len, name, NULL, out, errors);
}

enum op_rc cfg_load_string_opts(const char *text, size_t len, const char *name,
                                const struct cfg_load_options *opts, struct cfg **out,
                                struct buf *errors)
{
    enum op_rc rc = OP_ERR_INVALID;
    yaml_document_t doc;
    bool have_doc = false;
    struct cfg *c = xcalloc(1, sizeof(*c));
    c->source = xstrdup(name);
    /* Of the exact bytes read, so an audit record names the file's content. */
    sha256_hex(text, len, c->sha256);
    cfg_alerting_defaults(&c->alerting);
    struct cfg_parser p = {.file = name, .doc = &doc, .errors = errors};
    if (opts)
        p.opts = *opts;
    p.n_buckets = cfg_n_default_buckets;
    p.buckets = xcalloc(p.n_buckets, sizeof(double));
    memcpy(p.buckets, cfg_default_buckets, sizeof(cfg_default_buckets));
    cfg_parse_global(&p, NULL);

    if (len > CFG_MAX_FILE_BYTES) {
        cfg_err(&p, NULL, NULL, "larger than %u bytes (16 MiB), the most a configuration may be",
                CFG_MAX_FILE_BYTES);
        rc = OP_ERR_LIMIT;
        goto out;
    }
    /* Not yaml_parser_load: it has no caps on nesting, nodes or aliases. */
    rc = cfg_compose(text, len, name, p.opts.cancel, &doc, errors);
    if (rc != OP_OK) {
        p.n_errors++;
        goto out;
    }
    rc = OP_ERR_INVALID;
    have_doc = true;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root || cfg_is_null(root)) {
        cfg_err(&p, NULL, NULL, "the file is empty; it needs at least a \"checks:\" list");
        goto out;
    }
    if (!cfg_want_mapping(&p, root, ""))
        goto out;
    struct top_parse tp = {0};
    static const char *const top_names[] = {"global",   "checks",  "slos",        "canaries",
                                            "alerting", "modules", "maintenance", NULL};
    static const struct cfg_keys top_keys = {.names = top_names};
    cfg_walk_map_keys(&p, root, "", top_key, &tp, &top_keys);
    cfg_parse_global(&p, tp.global);
    cfg_parse_checks(&p, tp.checks, c);
    /* Canaries and SLOs refer to checks: only meaningful once the checks are
     * valid. Canaries first: their inline arms are checks SLOs may name. */
    if (tp.canaries && !cfg_is_null(tp.canaries) && p.n_errors == 0)
        cfg_parse_canaries(&p, tp.canaries, c);
    if (tp.slos && !cfg_is_null(tp.slos) && p.n_errors == 0)
        cfg_parse_slos(&p, tp.slos, c);
    /* A canary's gate_slos name SLOs, known only now. */
    if (tp.canaries && !cfg_is_null(tp.canaries) && p.n_errors == 0)
        cfg_canaries_resolve_slos(&p, tp.canaries, c);
    if (tp.alerting && !cfg_is_null(tp.alerting))
        cfg_parse_alerting(&p, tp.alerting, &c->alerting);
    /* Windows name checks and SLOs: only meaningful once those are valid. */
    if (tp.maintenance && !cfg_is_null(tp.maintenance) && p.n_errors == 0)
        cfg_parse_maintenance(&p, tp.maintenance, c);
    /* blackbox_exporter modules: this file's first, then --modules.file's
     * (a name in both is an error naming both places). */
    cfg_parse_modules(&p, tp.modules, c);
    if (p.opts.modules_file && !p.cancelled)
        cfg_load_modules_file(&p, p.opts.modules_file, c);
    /* Last: the shard's part is cut from a config valid as a whole. */
    if (p.opts.shard.count > 1 && p.n_errors == 0 && !p.cancelled)
        cfg_shard_apply(&p, tp.slos, tp.canaries, c);
    if (p.cancelled)
        rc = OP_ERR_STATE;
    else if (p.n_errors == 0 && !errors->failed) {
        rc = OP_OK;
        *out = c;
        c = NULL;
    }
out:
    if (have_doc)
        yaml_document_delete(&doc);
    free(p.buckets);
    cfg_fields_free(browser_fields, &p.browser);
    free(p.browser_path);
    cfg_free(c);
    return rc;
}

enum op_rc cfg_load_file(const char *path, struct cfg **out, struct buf *errors)
{
    return cfg_load_file_opts(path, NULL, out, errors);
}

enum op_rc cfg_read_file(const char *path, struct buf *text, struct buf *errors)
{
    buf_init(text, CFG_MAX_FILE_BYTES);
    const char *why = NULL;
    /* Never blocks: a FIFO or a device at the path is refused, not read. */
    FILE *f = cfg_open_regular(path, &why);
    enum op_rc rc = f ? OP_OK : OP_ERR_IO;
    char chunk[65536];
    size_t got;
    while (f && rc == OP_OK && (got = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if (buf_add(text, chunk, got) != OP_OK)
            rc = OP_ERR_LIMIT;
    if (f && rc == OP_OK && ferror(f)) {
        rc = OP_ERR_IO;
        why = strerror(errno ? errno : EIO);
    }
    if (f)
        fclose(f);
    if (rc == OP_ERR_LIMIT)
        buf_addf(errors, "%s: larger than %u bytes (16 MiB), the most a configuration may be\n",
                 path, CFG_MAX_FILE_BYTES);
    else if (rc != OP_OK)
        buf_addf(errors, "%s: cannot open: %s\n", path, why);
    return rc;
}

enum op_rc cfg_load_file_opts(const char *path, const struct cfg_load_options *opts,
                              struct cfg **out, struct buf *errors)
{
    struct buf text;
    enum op_rc rc = cfg_read_file(path, &text, errors);
    if (rc == OP_OK)
        rc = cfg_load_string_opts(buf_str(&text), text.len, path, opts, out, errors);
    buf_free(&text);
    return rc;
}

/* ---- accessors ---- */

const char *cfg_sha256(const struct cfg *c)
{
    return c->sha256;
}

size_t cfg_check_count(const struct cfg *c)
{
    return c->n_checks;
}

const struct check_spec *cfg_check(const struct cfg *c, size_t i)
{
    return &c->checks[i];
}

size_t cfg_slo_count(const struct cfg *c)
{
    return c->n_slos;
}

const struct slo_spec *cfg_slo(const struct cfg *c, size_t i)
{
    return &c->slos[i];
}

const struct alerting_spec *cfg_alerting(const struct cfg *c)
{
    return &c->alerting;
}

size_t cfg_canary_count(const struct cfg *c)
{
    return c->n_canaries;
}

const struct canary_spec *cfg_canary(const struct cfg *c, size_t i)
{
    return &c->canaries[i];
}

long cfg_find_check(const struct cfg *c, const char *name)
{
    return c->check_names ? names_find(c->check_names, name) : -1;
}

long cfg_find_slo(const struct cfg *c, const char *name)
{
    return c->slo_names ? names_find(c->slo_names, name) : -1;
}

long cfg_find_slo_n(const struct cfg *c, const char *name, size_t len)
{
    return c->slo_names ? names_findn(c->slo_names, name, len) : -1;
}

const struct canary_spec *cfg_find_canary(const struct cfg *c, const char *name)
{
    long i = c->canary_names ? names_find(c->canary_names, name) : -1;
    return i >= 0 ? &c->canaries[i] : NULL;
}

const char *cfg_source(const struct cfg *c)
{
    return c->source;
}
