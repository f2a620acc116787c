/*
 * icmp_config.c - the configuration schema of the `icmp` check type: its
 * keys, their defaults and rules, and the `target` label.
 */
#include "cfg_yaml.h"
#include "icmp_check.h"
#include "resolve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct icmp_spec *icmp_spec_of(const struct check_spec *c)
{
    return c->spec;
}

static bool icmp_target(struct cfg_parser *p, yaml_node_t *v, const char *path, void *obj)
{
    struct icmp_spec *s = obj;
    char *t = NULL, *host = NULL;
    const char *why = NULL;
    if (!cfg_get_str(p, v, path, false, &t))
        return false;
    /* A host alone, so the host is the target as written (the label). */
    if (!resolve_split_target(t, -1, &host, NULL, &why)) {
        char q[CFG_MAX_QUOTED + 4];
        cfg_err(p, v, path, "\"%s\": %s", cfg_quote(t, q), why);
        free(t);
        return false;
    }
    free(t);
    free(s->host);
    s->host = host;
    return true;
}

static const struct cfg_field icmp_fields[] = {
    {.key = "target", .kind = CFG_CUSTOM, .parse = icmp_target},
    {.key = "packets",
     .kind = CFG_COUNT,
     .offset = offsetof(struct icmp_spec, packets),
     .min = 1,
     .max = ICMP_MAX_PACKETS,
     .def_i = 3},
    {.key = "packet_interval",
     .kind = CFG_DURATION,
     .offset = offsetof(struct icmp_spec, packet_interval_ms),
     .min = ICMP_MIN_INTERVAL_MS,
     .unit = "packet_interval",
     .def_i = 100},
    {.key = "ip_protocol",
     .kind = CFG_ENUM,
     .offset = offsetof(struct icmp_spec, ip_protocol),
     .names = tls_ip_proto_names,
     .def_i = IP_PROTO_AUTO},
    {.key = "ip_protocol_fallback",
     .kind = CFG_BOOL,
     .offset = offsetof(struct icmp_spec, ip_protocol_fallback),
     .def_i = 1},
    {.key = "payload_size",
     .kind = CFG_COUNT,
     .offset = offsetof(struct icmp_spec, payload_size),
     .min = 0,
     .max = ICMP_MAX_PAYLOAD,
     .def_i = ICMP_DEFAULT_PAYLOAD},
    {.key = "max_loss_ratio",
     .kind = CFG_RATIO,
     .offset = offsetof(struct icmp_spec, max_loss_ratio),
     .lo = 0,
     .hi = 1,
     .def_d = ICMP_LOSS_ALL},
    {.key = "ttl",
     .kind = CFG_COUNT,
     .offset = offsetof(struct icmp_spec, ttl),
     .min = 1,
     .max = ICMP_MAX_TTL},
    {.key = "dont_fragment", .kind = CFG_BOOL, .offset = offsetof(struct icmp_spec, dont_fragment)},
    {0},
};

static const struct cfg_keys icmp_keys = {.fields = icmp_fields};

static void *icmp_new_spec(void)
{
    struct icmp_spec *s = xcalloc(1, sizeof(*s));
    cfg_fields_default(icmp_fields, s);
    return s;
}

static void icmp_free_spec(void *spec)
{
    struct icmp_spec *s = spec;
    free(s->host);
    free(s);
}

static bool icmp_key(struct cfg_parser *p, const char *key, struct yaml_node_s *v, const char *path,
                     struct check_spec *c)
{
    struct icmp_spec *s = c->spec;
    return cfg_field_apply(p, icmp_fields, key, v, path, s, &s->seen);
}

static void icmp_finish(struct cfg_parser *p, const struct yaml_node_s *n, const char *path,
                        struct check_spec *c)
{
    struct icmp_spec *s = c->spec;
    if (!s->host) {
        if (!(s->seen & CFG_SEEN(cfg_field_index(icmp_fields, "target"))))
            cfg_err(p, n, path, "missing key \"target\"");
        return;
    }
    /* Every request must go out before the run's time is up, or the last
     * ones would count as lost however healthy the target. */
    if ((s->packets - 1) * s->packet_interval_ms >= c->timeout_ms) {
        char it[CFG_MAX_QUOTED + 4], tt[CFG_MAX_QUOTED + 4];
        cfg_err(
            p, n, path,
            "%lld packets every %s take longer than timeout (%s): the last ones could never be "
            "answered",
            (long long)s->packets,
            cfg_duration_text(cfg_map_value(p, n, "packet_interval"), s->packet_interval_ms, it),
            cfg_timeout_text(p, n, c->timeout_ms, tt));
    }
    free(c->target);
    c->target = xstrdup(s->host);
}

static uint64_t icmp_identity(const struct check_spec *c)
{
    const struct icmp_spec *s = icmp_spec_of(c);
    return hash_mem(s->host, strlen(s->host) + 1);
}

const struct check_schema icmp_schema = {
    .name = "icmp",
    .new_spec = icmp_new_spec,
    .free_spec = icmp_free_spec,
    .key = icmp_key,
    .keys = &icmp_keys,
    .finish = icmp_finish,
    .identity = icmp_identity,
};
