/*
 * grpc_config.c - the configuration schema of the `grpc` check type: its
 * keys, their defaults and rules, the URL it calls and the `target` label.
 */
#include "cfg_yaml.h"
#include "grpc_check.h"
#include "resolve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct grpc_spec *grpc_spec_of(const struct check_spec *c)
{
    return c->spec;
}

/* The path of the standard health check's one method. */
#define GRPC_HEALTH_PATH "/grpc.health.v1.Health/Check"

static bool grpc_target(struct cfg_parser *p, yaml_node_t *v, const char *path, void *obj)
{
    struct grpc_spec *s = obj;
    if (!cfg_get_str(p, v, path, false, &s->target))
        return false;
    /* Checked only: libcurl takes the target as written, as the URL's
     * host and port, and the rule keeps anything a URL would read
     * otherwise (user info, a path) out of it. */
    const char *why = NULL;
    char *host = NULL;
    if (!resolve_split_target(s->target, 0, &host, NULL, &why)) {
        char q[CFG_MAX_QUOTED + 4];
        cfg_err(p, v, path, "\"%s\": %s", cfg_quote(s->target, q), why);
        free(s->target);
        s->target = NULL;
        return false;
    }
    free(host);
    return true;
}

static bool grpc_service(struct cfg_parser *p, yaml_node_t *v, const char *path, void *obj)
{
    struct grpc_spec *s = obj;
    if (!cfg_get_str(p, v, path, false, &s->service))
        return false;
    if (strlen(s->service) > GRPC_MAX_SERVICE_BYTES) {
        cfg_err(p, v, path, "longer than %u bytes", GRPC_MAX_SERVICE_BYTES);
        return false;
    }
    return true;
}

/* `tls: true` (TLS with the defaults), `tls: false`, or the tls mapping. */
static bool grpc_tls(struct cfg_parser *p, yaml_node_t *v, const char *path, void *obj)
{
    struct grpc_spec *s = obj;
    if (v->type == YAML_SCALAR_NODE)
        return cfg_get_bool(p, v, path, &s->tls_enabled);
    if (!tls_spec_parse(p, v, path, &s->tls))
        return false;
    s->tls_enabled = true;
    return true;
}

/* Metadata keys as gRPC allows them (lowercase letters, digits, "-_."),
 * minus the ones the call itself sets. */
static const char *metadata_key_why(const char *k)
{
    if (!*k)
        return "is not a metadata key";
    for (const char *c = k; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || strchr("-_.", *c)))
            return "is not a metadata key (lowercase letters, digits, '-', '_', '.')";
    if (strncmp(k, "grpc-", 5) == 0 || strcmp(k, "content-type") == 0 || strcmp(k, "te") == 0)
        return "is set by the call itself";
    return NULL;
}

/* gRPC's ASCII metadata: printable characters and space. */
static const char *metadata_value_why(const char *v)
{
    for (const char *c = v; *c; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
            return "metadata value must be printable ASCII";
    return NULL;
}

static bool grpc_metadata(struct cfg_parser *p, yaml_node_t *v, const char *path, void *obj)
{
    struct grpc_spec *s = obj;
    cfg_get_string_map(p, v, path, true, metadata_key_why, metadata_value_why, &s->metadata,
                       &s->n_metadata, GRPC_MAX_METADATA);
    return true;
}

static const struct cfg_field grpc_fields[] = {
    {.key = "target", .kind = CFG_CUSTOM, .parse = grpc_target},
    {.key = "service", .kind = CFG_CUSTOM, .parse = grpc_service},
    {.key = "tls", .kind = CFG_CUSTOM, .parse = grpc_tls},
    {.key = "ip_protocol",
     .kind = CFG_ENUM,
     .offset = offsetof(struct grpc_spec, ip_protocol),
     .names = tls_ip_proto_names,
     .def_i = IP_PROTO_AUTO},
    {.key = "ip_protocol_fallback",
     .kind = CFG_BOOL,
     .offset = offsetof(struct grpc_spec, ip_protocol_fallback),
     .def_i = 1},
    {.key = "metadata", .kind = CFG_CUSTOM, .parse = grpc_metadata},
    {0},
};

static const struct cfg_keys grpc_keys = {.fields = grpc_fields};

static void *grpc_new_spec(void)
{
    struct grpc_spec *s = xcalloc(1, sizeof(*s));
    cfg_fields_default(grpc_fields, s);
    s->service = xstrdup("");
    return s;
}

static void grpc_free_spec(void *spec)
{
    struct grpc_spec *s = spec;
    free(s->target);
    free(s->service);
    free(s->url);
    tls_spec_free(&s->tls);
    for (size_t i = 0; i < s->n_metadata; i++) {
        free(s->metadata[i].name);
        /* Values may be secrets: do not leave them in freed memory. */
        if (s->metadata[i].value)
            memset(s->metadata[i].value, 0, strlen(s->metadata[i].value));
        free(s->metadata[i].value);
    }
    free(s->metadata);
    free(s);
}

static bool grpc_key(struct cfg_parser *p, const char *key, struct yaml_node_s *v, const char *path,
                     struct check_spec *c)
{
    struct grpc_spec *s = c->spec;
    return cfg_field_apply(p, grpc_fields, key, v, path, s, &s->seen);
}

static void grpc_finish(struct cfg_parser *p, const struct yaml_node_s *n, const char *path,
                        struct check_spec *c)
{
    struct grpc_spec *s = c->spec;
    if (!(s->seen & CFG_SEEN(cfg_field_index(grpc_fields, "target")))) {
        cfg_err(p, n, path, "missing key \"target\"");
        return;
    }
    if (!s->target)
        return; /* refused, already reported */
    if (s->tls_enabled)
        tls_spec_finish(p, n, path, &s->tls);
    struct buf b;
    buf_init(&b, 4096);
    buf_addf(&b, "%s://%s%s", s->tls_enabled ? "https" : "http", s->target, GRPC_HEALTH_PATH);
    free(s->url);
    s->url = b.failed ? NULL : buf_take(&b);
    buf_free(&b);
    if (!s->url)
        cfg_err(p, n, path, "target is too long");
    free(c->target);
    c->target = xstrdup(s->target);
}

static uint64_t grpc_identity(const struct check_spec *c)
{
    const struct grpc_spec *s = grpc_spec_of(c);
    uint64_t h = hash_mem(s->target, strlen(s->target) + 1);
    h = hash_mem_from(h, s->service, strlen(s->service) + 1);
    return hash_mem_from(h, &s->tls_enabled, sizeof(s->tls_enabled));
}

const struct check_schema grpc_schema = {
    .name = "grpc",
    .new_spec = grpc_new_spec,
    .free_spec = grpc_free_spec,
    .key = grpc_key,
    .keys = &grpc_keys,
    .finish = grpc_finish,
    .identity = grpc_identity,
};
