/* cfg_alerting.c - the `alerting:` section: where and how the agent pushes
 * its own alerts. */
#include "cfg_int.h"

#include <stdlib.h>
#include <string.h>

/* An external label must not collide with a label of the alerts. */
static const char *ext_label_why(const char *key)
{
    static const char *const reserved[] = {"alertname", "severity", "check", "slo", "canary"};
    bool bad = !cfg_label_name_ok(key);
    for (size_t i = 0; i < ARRAY_SIZE(reserved); i++)
        bad = bad || strcmp(key, reserved[i]) == 0;
    return bad ? "cannot be an external label (a label name not used by the alerts themselves)"
               : NULL;
}

/* Two URLs as written, trailing slashes aside, are the same. */
static bool same_written(const char *x, const char *y)
{
    size_t nx = strlen(x), ny = strlen(y);
    while (nx && x[nx - 1] == '/')
        nx--;
    while (ny && y[ny - 1] == '/')
        ny--;
    return nx == ny && memcmp(x, y, nx) == 0;
}

static bool alertmanagers(struct cfg_parser *p, yaml_node_t *v, const char *path, void *obj)
{
    struct alerting_spec *a = obj;
    if (!cfg_want_sequence(p, v, path))
        return false;
    size_t n = cfg_seq_len(v);
    if (n > CFG_MAX_ALERTMANAGERS) {
        cfg_err(p, v, path, "at most %d Alertmanagers", CFG_MAX_ALERTMANAGERS);
        return false;
    }
    /* The URLs as written, borrowed from the document. */
    const char **written = xcalloc(n ? n : 1, sizeof(char *));
    a->alertmanagers = xcalloc(n ? n : 1, sizeof(char *));
    a->alertmanager_names = xcalloc(n ? n : 1, sizeof(char *));
    for (size_t i = 0; i < n; i++) {
        char sub[CFG_PATH_CAP];
        cfg_path_index(sub, path, i);
        yaml_node_t *it = cfg_seq_item(p, v, i);
        char *u = NULL;
        if (!it || !cfg_get_url(p, it, sub, &u))
            continue;
        if (!cfg_check_http_url(p, it, sub, u)) {
            free(u);
            continue;
        }
        /* A path prefix is kept; only a trailing slash goes. */
        size_t len = strlen(u);
        while (len && u[len - 1] == '/')
            u[--len] = '\0';
        /* The API path is the agent's to add: given here too, every alert
         * would go to .../api/v2/alerts/api/v2/alerts and be refused. */
        static const char api[] = "/api/v2/alerts";
        if (len >= sizeof(api) - 1 && strcmp(u + len - (sizeof(api) - 1), api) == 0) {
            cfg_err(p, it, sub,
                    "ends in /api/v2/alerts, which the agent appends itself: give the "
                    "Alertmanager's base URL");
            free(u);
            continue;
        }
        /* The same Alertmanager twice would get every alert twice and show
         * two series under one label. Without the secrets two references
         * look alike, so then only what is written is compared. */
        bool dup = false;
        for (size_t k = 0; k < a->n_alertmanagers && !dup; k++)
            dup = p->opts.skip_secrets ? same_written(written[k], cfg_scalar(it))
                                       : strcmp(a->alertmanagers[k], u) == 0;
        if (dup) {
            cfg_err(p, it, sub, "this Alertmanager is listed twice");
            free(u);
            continue;
        }
        written[a->n_alertmanagers] = cfg_scalar(it);
        a->alertmanager_names[a->n_alertmanagers] = cfg_url_target(cfg_scalar(it));
        a->alertmanagers[a->n_alertmanagers++] = u;
    }
    free(written);
    return true;
}

/* A link in every alert (runbook, generator): an absolute http(s) URL,
 * which Alertmanager's and Grafana's pages can follow. */
static bool link_url(struct cfg_parser *p, yaml_node_t *v, const char *path, char **out)
{
    return cfg_get_str(p, v, path, false, out) && cfg_check_http_url(p, v, path, *out);
}

static bool runbook_base_url(struct cfg_parser *p, yaml_node_t *v, const char *path, void *obj)
{
    return link_url(p, v, path, &((struct alerting_spec *)obj)->runbook_base_url);
}

static bool generator_url(struct cfg_parser *p, yaml_node_t *v, const char *path, void *obj)
{
    return link_url(p, v, path, &((struct alerting_spec *)obj)->generator_url);
}

static bool external_labels(struct cfg_parser *p, yaml_node_t *v, const char *path, void *obj)
{
    struct alerting_spec *a = obj;
    /* References resolve, so every agent of a DaemonSet can say who it is
     * (instance: ${env:NODE_NAME}). */
    cfg_get_string_map(p, v, path, true, ext_label_why, NULL, &a->external_labels,
                       &a->n_external_labels, CFG_MAX_LABELS);
    return true;
}

static const struct cfg_field alerting_fields[] = {
    {.key = "alertmanagers", .kind = CFG_CUSTOM, .parse = alertmanagers},
    {.key = "resend_interval",
     .kind = CFG_DURATION,
     .offset = offsetof(struct alerting_spec, resend_interval_ms),
     .min = 1000,
     .unit = "resend_interval",
     .def_i = 60000},
    {.key = "evaluation_interval",
     .kind = CFG_DURATION,
     .offset = offsetof(struct alerting_spec, evaluation_interval_ms),
     .min = 1000,
     .unit = "evaluation_interval",
     .def_i = 10000},
    {.key = "external_labels", .kind = CFG_CUSTOM, .parse = external_labels},
    {.key = "runbook_base_url", .kind = CFG_CUSTOM, .parse = runbook_base_url},
    {.key = "generator_url", .kind = CFG_CUSTOM, .parse = generator_url},
    {.key = "slo_alerts",
     .kind = CFG_BOOL,
     .offset = offsetof(struct alerting_spec, slo_alerts),
     .def_i = 1},
    {.key = "cert_expiry_warning",
     .kind = CFG_DURATION,
     .offset = offsetof(struct alerting_spec, cert_expiry_warn_ms),
     .def_i = 14LL * 86400000},
    {0},
};

void cfg_alerting_defaults(struct alerting_spec *a)
{
    cfg_fields_default(alerting_fields, a);
}

void cfg_parse_alerting(struct cfg_parser *p, const yaml_node_t *n, struct alerting_spec *a)
{
    if (cfg_want_mapping(p, n, "alerting"))
        (void)cfg_walk_fields(p, n, "alerting", alerting_fields, a, NULL, NULL, NULL);
}

void cfg_alerting_free(struct alerting_spec *a)
{
    for (size_t i = 0; i < a->n_alertmanagers; i++) {
        free(a->alertmanagers[i]);
        free(a->alertmanager_names[i]);
    }
    free(a->alertmanagers);
    free(a->alertmanager_names);
    for (size_t i = 0; i < a->n_external_labels; i++) {
        free(a->external_labels[i].name);
        free(a->external_labels[i].value);
    }
    free(a->external_labels);
    /* Custom fields (checked as URLs), so cfg_fields_free leaves them. */
    free(a->runbook_base_url);
    free(a->generator_url);
    a->runbook_base_url = a->generator_url = NULL;
    cfg_fields_free(alerting_fields, a);
}
