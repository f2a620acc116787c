/*
 * tls_config.c - the `tls:` block of the check types that speak TLS.
 */
#include "tls_config.h"
#include "castore.h"
#include "cfg_yaml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const tls_ip_proto_names[] = {"ip4", "ip6", "auto", NULL};

/* A TLS file must be a readable regular file when the config loads, not
 * at the first probe: opened without blocking, so a FIFO is refused, never
 * waited on. */
static bool tls_file(struct cfg_parser *p, yaml_node_t *v, const char *path, char **out)
{
    if (!cfg_get_str(p, v, path, false, out))
        return false;
    /* Key material, like ${file:}: a lint without the deployment's files
     * (--config.check --config.skip-secrets) checks the key, not the file. */
    if (p->opts.skip_secrets)
        return true;
    char q[CFG_MAX_QUOTED + 4];
    const char *why = NULL;
    FILE *f = cfg_open_regular(*out, &why);
    if (!f) {
        cfg_err(p, v, path, "cannot read %s: %s", cfg_quote(*out, q), why);
        return false;
    }
    fclose(f);
    return true;
}

static bool tls_ca(struct cfg_parser *p, yaml_node_t *v, const char *path, void *obj)
{
    return tls_file(p, v, path, &((struct tls_spec *)obj)->ca_file);
}

static bool tls_cert(struct cfg_parser *p, yaml_node_t *v, const char *path, void *obj)
{
    return tls_file(p, v, path, &((struct tls_spec *)obj)->cert_file);
}

static bool tls_key(struct cfg_parser *p, yaml_node_t *v, const char *path, void *obj)
{
    return tls_file(p, v, path, &((struct tls_spec *)obj)->key_file);
}

static const struct cfg_field tls_fields[] = {
    {.key = "ca_file", .kind = CFG_CUSTOM, .parse = tls_ca},
    {.key = "cert_file", .kind = CFG_CUSTOM, .parse = tls_cert},
    {.key = "key_file", .kind = CFG_CUSTOM, .parse = tls_key},
    {.key = "server_name", .kind = CFG_STR, .offset = offsetof(struct tls_spec, server_name)},
    {.key = "insecure_skip_verify",
     .kind = CFG_BOOL,
     .offset = offsetof(struct tls_spec, insecure_skip_verify)},
    {0},
};

static yaml_node_t *map_value(struct cfg_parser *p, const yaml_node_t *map, const char *key)
{
    for (yaml_node_pair_t *pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top;
         pair++) {
        yaml_node_t *k = yaml_document_get_node(p->doc, pair->key);
        if (k && k->type == YAML_SCALAR_NODE && strcmp(cfg_scalar(k), key) == 0)
            return yaml_document_get_node(p->doc, pair->value);
    }
    return NULL;
}

bool tls_spec_parse(struct cfg_parser *p, yaml_node_t *v, const char *path, struct tls_spec *t)
{
    if (!cfg_want_mapping(p, v, path))
        return false;
    int before = p->n_errors;
    (void)cfg_walk_fields(p, v, path, tls_fields, t, NULL, NULL, NULL);
    /* The CA file is loaded now (once for every check naming it, castore.h),
     * so a file without certificates fails the load, not every probe. With
     * insecure_skip_verify nothing reads it: neither do we. */
    if (p->n_errors != before || !t->ca_file || t->insecure_skip_verify || p->opts.skip_secrets)
        return true;
    char why[160], sub[CFG_PATH_CAP], q[CFG_MAX_QUOTED + 4];
    castore_put(t->ca);
    t->ca = castore_get_file(t->ca_file, why, sizeof(why));
    if (!t->ca) {
        yaml_node_t *n = map_value(p, v, "ca_file");
        cfg_path_key(sub, path, "ca_file");
        cfg_err(p, n ? n : v, sub, "cannot load CA certificates from %s: %s",
                cfg_quote(t->ca_file, q), why);
    }
    return true;
}

void tls_spec_finish(struct cfg_parser *p, const yaml_node_t *n, const char *path,
                     struct tls_spec *t)
{
    if ((t->cert_file == NULL) != (t->key_file == NULL))
        cfg_err(p, n, path, "tls.cert_file and tls.key_file go together");
    /* Only keyed now; the bundle is read when a probe first needs it. */
    if (!t->insecure_skip_verify && !t->ca_file && !t->ca)
        t->ca = castore_get_system();
}

void tls_spec_free(struct tls_spec *t)
{
    free(t->ca_file);
    free(t->cert_file);
    free(t->key_file);
    free(t->server_name);
    castore_put(t->ca);
    memset(t, 0, sizeof(*t));
}
