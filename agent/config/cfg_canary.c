/*
 * cfg_canary.c - the `canaries:` section. An inline arm is a check of its
 * own ("<canary>/baseline", "<canary>/canary") on the canary's interval and
 * phase, appended to the checks; SLOs may then name it.
 */
#include "cfg_int.h"

#include <stdlib.h>
#include <string.h>

static const char *const arm_names[2] = {"baseline", "canary"};

/* Where an arm comes from, while its canary is parsed. */
struct canary_parse {
    const yaml_node_t *arm_node[2]; /* inline spec */
    const yaml_node_t *arm_ref[2];  /* baseline_check / canary_check */
    char *arm_name[2];
};

#define SETTING(f) offsetof(struct canary_spec, settings.f)

/* The SLO gates' paths (/gates/flagger/slo/{slo}, /gates/argo/slo/{slo})
 * sit where a canary of a name beginning with this would be. */
#define CANARY_RESERVED_PREFIX "slo/"

/* `gate_slos: [name, ...]`: the names, each once; whether they are SLOs is
 * known only after the `slos:` section (cfg_canaries_resolve_slos). */
static bool gate_slos(struct cfg_parser *p, yaml_node_t *v, const char *path, void *obj)
{
    struct canary_spec *k = obj;
    if (cfg_is_null(v))
        return true;
    if (!cfg_want_sequence(p, v, path))
        return false;
    size_t n = cfg_seq_len(v);
    if (n > CFG_MAX_SLOS) {
        cfg_err(p, v, path, "lists %zu SLOs, more than the %d a configuration may hold", n,
                CFG_MAX_SLOS);
        return false;
    }
    k->gate_slos = xcalloc(n ? n : 1, sizeof(char *));
    for (size_t i = 0; i < n; i++) {
        char sub[CFG_PATH_CAP], q[CFG_MAX_QUOTED + 4];
        cfg_path_index(sub, path, i);
        yaml_node_t *it = cfg_seq_item(p, v, i);
        char *name = NULL;
        if (!cfg_get_str(p, it, sub, false, &name))
            continue;
        bool twice = false;
        for (size_t j = 0; j < k->n_gate_slos && !twice; j++)
            twice = strcmp(k->gate_slos[j], name) == 0;
        if (twice) {
            cfg_err(p, it, sub, "SLO \"%s\" listed twice", cfg_quote(name, q));
            free(name);
            continue;
        }
        k->gate_slos[k->n_gate_slos++] = name;
    }
    return true;
}

/* Every key with a value of its own, and the judge's defaults: the one
 * place they are written down (canary_settings_default reads them here). */
static const struct cfg_field canary_fields[] = {
    {.key = "name", .kind = CFG_STR, .offset = offsetof(struct canary_spec, name)},
    {.key = "interval",
     .kind = CFG_DURATION,
     .offset = offsetof(struct canary_spec, interval_ms),
     .def_i = 1000},
    {.key = "window",
     .kind = CFG_DURATION,
     .offset = offsetof(struct canary_spec, window_ms),
     .def_i = 600000},
    {.key = "min_samples",
     .kind = CFG_UINT,
     .offset = SETTING(min_samples),
     .min = 1,
     .max = 1000000,
     .def_i = 50},
    {.key = "alpha",
     .kind = CFG_RATIO,
     .offset = SETTING(alpha),
     .lo = 0,
     .hi = 1,
     .lo_open = true,
     .hi_open = true,
     .def_d = 0.01},
    {.key = "error_ratio_margin",
     .kind = CFG_RATIO,
     .offset = SETTING(error_ratio_margin),
     .lo = 0,
     .hi = 1,
     .hi_open = true,
     .def_d = 0.02},
    {.key = "error_ratio_ceiling",
     .kind = CFG_RATIO,
     .offset = SETTING(error_ratio_ceiling),
     .lo = 0,
     .hi = 1,
     .hi_open = true},
    {.key = "latency_p95_margin",
     .kind = CFG_RATIO,
     .offset = SETTING(latency_p95_margin),
     .lo = 0,
     .hi = 1000,
     .def_d = 0.30},
    {.key = "latency_confidence",
     .kind = CFG_RATIO,
     .offset = SETTING(latency_confidence),
     .lo = 0,
     .hi = 1,
     .lo_open = true,
     .hi_open = true,
     .def_d = 0.98},
    {.key = "allowed_increase",
     .kind = CFG_RATIO,
     .offset = SETTING(allowed_increase),
     .lo = 1,
     .hi = 1000,
     .def_d = 1.0},
    {.key = "gate_slos", .kind = CFG_CUSTOM, .parse = gate_slos},
    {0},
};

void canary_settings_default(struct canary_settings *s)
{
    struct canary_spec k = {0};
    cfg_fields_default(canary_fields, &k);
    cfg_fields_free(canary_fields, &k);
    *s = k.settings;
}

static bool arm_key(struct cfg_parser *p, const char *key, yaml_node_t *v, const char *path,
                    void *arg)
{
    struct canary_parse *cp = arg;
    for (int arm = 0; arm < 2; arm++) {
        size_t n = strlen(arm_names[arm]);
        if (strncmp(key, arm_names[arm], n) != 0)
            continue;
        if (key[n] == '\0') {
            if (cfg_want_mapping(p, v, path))
                cp->arm_node[arm] = v;
            return true;
        }
        if (strcmp(key + n, "_check") == 0) {
            if (cfg_get_str(p, v, path, false, &cp->arm_name[arm]))
                cp->arm_ref[arm] = v;
            return true;
        }
    }
    return false;
}

/* Add the inline arm of canary k as a new check; its index in *out. */
static bool add_inline_arm(struct cfg_parser *p, struct cfg *c, const struct canary_spec *k,
                           int arm, const yaml_node_t *node, const char *apath, size_t *out)
{
    struct check_spec *cs = &c->checks[c->n_checks];
    memset(cs, 0, sizeof(*cs));
    struct buf nm;
    buf_init(&nm, 2 * CFG_MAX_NAME_BYTES);
    buf_addf(&nm, "%s/%s", k->name, arm_names[arm]);
    cs->name = buf_take(&nm);
    cs->interval_ms = k->interval_ms;
    cs->sched_key = xstrdup(k->name); /* both arms share the canary's phase */
    bool ok = cfg_parse_check(p, node, apath, cs);
    size_t i = c->n_checks++;
    char q[CFG_MAX_QUOTED + 4];
    if (names_add(c->check_names, i) >= 0) {
        cfg_err(p, node, apath, "a check named \"%s\" already exists", cfg_quote(cs->name, q));
        ok = false;
    }
    *out = i;
    return ok;
}

static void canaries_alloc(size_t n, void *arg)
{
    struct cfg *c = arg;
    c->canaries = xcalloc(n ? n : 1, sizeof(*c->canaries));
    c->n_canaries = n;
    /* Room for two inline arms per canary: checks never move afterwards. */
    c->checks = xrealloc(c->checks, (c->n_checks + 2 * n + 1) * sizeof(*c->checks));
}

/* Samples each arm keeps: the window at the faster arm's interval, plus
 * slack; more than the cap is refused, never silently cut. */
static void size_ring(struct cfg_parser *p, const struct cfg *c, const yaml_node_t *it,
                      const char *path, struct canary_spec *k, const yaml_node_t *window_node,
                      const yaml_node_t *interval_node)
{
    int64_t fastest = k->interval_ms;
    for (int a = 0; a < 2; a++) {
        int64_t iv = c->checks[k->arm_check[a]].interval_ms;
        if (iv < fastest)
            fastest = iv;
    }
    int64_t ring = k->window_ms / fastest + CFG_CANARY_SLACK;
    if (ring > CFG_MAX_CANARY_SAMPLES) {
        /* The fastest interval may be a named arm's: cfg_duration_text
         * then prints it in Prometheus' form. */
        char w[CFG_MAX_QUOTED + 4], iv[CFG_MAX_QUOTED + 4];
        cfg_err(p, it, path,
                "window %s at an interval of %s keeps %lld samples per arm, more than %d: "
                "shorten the window or lengthen the interval",
                cfg_duration_text(window_node, k->window_ms, w),
                cfg_duration_text(interval_node, fastest, iv), (long long)ring,
                CFG_MAX_CANARY_SAMPLES);
        return;
    }
    k->ring_samples = (size_t)ring;
}

static void canary_entry(struct cfg_parser *p, yaml_node_t *it, const char *path, size_t i,
                         void *arg)
{
    struct cfg *c = arg;
    struct canary_spec *k = &c->canaries[i];
    cfg_fields_default(canary_fields, k);
    k->line = (int)it->start_mark.line + 1;
    int before = p->n_errors;
    struct canary_parse cp = {0};
    const yaml_node_t *nodes[ARRAY_SIZE(canary_fields)] = {0};
    static const char *const arm_keys[] = {"baseline", "canary", "baseline_check", "canary_check",
                                           NULL};
    static const struct cfg_keys arms = {.names = arm_keys};
    cfg_seen seen = cfg_walk_fields_ext(p, it, path, canary_fields, k, arm_key, &cp, &arms, nodes);
    k->settings.has_ceiling =
        seen & CFG_SEEN(cfg_field_index(canary_fields, "error_ratio_ceiling"));
    size_t nm = cfg_field_index(canary_fields, "name");
    if (cfg_check_name(p, it, path, k->name) &&
        strncmp(k->name, CANARY_RESERVED_PREFIX, strlen(CANARY_RESERVED_PREFIX)) == 0)
        cfg_err(p, nodes[nm] ? nodes[nm] : it, path,
                "a canary's name may not begin with \"" CANARY_RESERVED_PREFIX
                "\": /gates/flagger/slo/... and /gates/argo/slo/... are the SLOs' gates");
    size_t iv = cfg_field_index(canary_fields, "interval");
    size_t wn = cfg_field_index(canary_fields, "window");
    char bound[CFG_DURATION_TEXT], wt[CFG_MAX_QUOTED + 4], ivt[CFG_MAX_QUOTED + 4];
    if (k->interval_ms < CFG_MIN_INTERVAL_MS)
        cfg_err(p, nodes[iv] ? nodes[iv] : it, path, "interval must be at least %s",
                cfg_format_duration(CFG_MIN_INTERVAL_MS, bound, sizeof(bound)));
    if (k->window_ms < k->interval_ms)
        cfg_err(p, it, path, "window (%s) must not be shorter than interval (%s)",
                cfg_duration_text(nodes[wn], k->window_ms, wt),
                cfg_duration_text(nodes[iv], k->interval_ms, ivt));
    bool arms_ok = true;
    for (int arm = 0; arm < 2; arm++) {
        char apath[CFG_PATH_CAP], q[CFG_MAX_QUOTED + 4];
        cfg_path_key(apath, path, arm_names[arm]);
        if (!!cp.arm_node[arm] + !!cp.arm_ref[arm] != 1) {
            cfg_err(p, it, path, "needs exactly one of %s and %s_check", arm_names[arm],
                    arm_names[arm]);
            arms_ok = false;
        } else if (cp.arm_ref[arm]) {
            long idx = cfg_find_check(c, cp.arm_name[arm]);
            if (idx < 0) {
                cfg_err(p, cp.arm_ref[arm], apath, "no check named \"%s\"",
                        cfg_quote(cp.arm_name[arm], q));
                arms_ok = false;
            } else {
                k->arm_check[arm] = (size_t)idx;
            }
        } else if (k->name && p->n_errors == before) {
            arms_ok = add_inline_arm(p, c, k, arm, cp.arm_node[arm], apath, &k->arm_check[arm]) &&
                      arms_ok;
            k->inline_arms[arm] = true;
        } else {
            arms_ok = false;
        }
        free(cp.arm_name[arm]);
    }
    if (!arms_ok || p->n_errors != before)
        return;
    size_ring(p, c, it, path, k, nodes[wn], nodes[iv]);
    uint64_t h = HASH_INIT;
    for (int arm = 0; arm < 2; arm++) {
        const struct check_spec *cs = &c->checks[k->arm_check[arm]];
        uint64_t id = cs->type->identity(cs);
        h = hash_mem_from(h, &id, sizeof(id));
    }
    k->identity = h;
}

static const char *canary_name(const void *arg, size_t i)
{
    return ((const struct cfg *)arg)->canaries[i].name;
}

static int canary_line(const void *arg, size_t i)
{
    return ((const struct cfg *)arg)->canaries[i].line;
}

void cfg_parse_canaries(struct cfg_parser *p, const yaml_node_t *n, struct cfg *c)
{
    static const struct cfg_list list = {
        .section = "canaries",
        .what = "canary",
        .max = CFG_MAX_CANARIES,
        .alloc = canaries_alloc,
        .parse = canary_entry,
        .name = canary_name,
        .line = canary_line,
    };
    (void)cfg_named_list(p, n, &list, c, &c->canary_names);
}

void cfg_canaries_resolve_slos(struct cfg_parser *p, const yaml_node_t *n, struct cfg *c)
{
    for (size_t i = 0; i < c->n_canaries; i++) {
        struct canary_spec *k = &c->canaries[i];
        if (!k->n_gate_slos)
            continue;
        /* Read without errors: item i is canary i's mapping, and its
         * gate_slos a list of as many scalars as names. */
        const yaml_node_t *item = cfg_seq_item(p, n, i);
        const yaml_node_t *list = cfg_map_value(p, item, "gate_slos");
        char path[CFG_PATH_CAP], key[CFG_PATH_CAP], sub[CFG_PATH_CAP], q[CFG_MAX_QUOTED + 4];
        cfg_path_entry(p, path, "canaries", i, item);
        cfg_path_key(key, path, "gate_slos");
        k->gate_slo_idx = xcalloc(k->n_gate_slos, sizeof(size_t));
        for (size_t j = 0; j < k->n_gate_slos; j++) {
            long idx = cfg_find_slo(c, k->gate_slos[j]);
            if (idx >= 0) {
                k->gate_slo_idx[j] = (size_t)idx;
                continue;
            }
            cfg_path_index(sub, key, j);
            cfg_err(p, list ? cfg_seq_item(p, list, j) : NULL, sub,
                    c->n_slos ? "no SLO named \"%s\""
                              : "no SLO named \"%s\" (the configuration has no slos:)",
                    cfg_quote(k->gate_slos[j], q));
        }
    }
}

void cfg_canaries_free(struct cfg *c)
{
    for (size_t i = 0; i < c->n_canaries; i++) {
        struct canary_spec *k = &c->canaries[i];
        free(k->name);
        for (size_t j = 0; j < k->n_gate_slos; j++)
            free(k->gate_slos[j]);
        free(k->gate_slos);
        free(k->gate_slo_idx);
    }
    free(c->canaries);
    names_free(c->canary_names);
}
