/*
 * dns_config.c - the configuration schema of the `dns` check type: the
 * resolver (`target`), the query, and the expectations on the reply.
 */
#include "cfg_yaml.h"
#include "dns_check.h"
#include "resolve.h"
#include "tls_config.h"

#include <ares.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* `target` is held here until finish hands it to the check (the loader
 * owns check_spec). */
struct dns_parse {
    struct dns_spec s;
    char *target;
    cfg_seen seen, query_seen;
    const yaml_node_t *query_node;
};

const char *const dns_type_names[] = {"A",   "AAAA", "CNAME", "MX",  "NS", "TXT",
                                      "SRV", "SOA",  "PTR",   "ANY", NULL};
static const uint16_t type_numbers[] = {1, 28, 5, 15, 2, 16, 33, 6, 12, 255};
const char *const dns_class_names[] = {"IN", "CH", NULL};
static const uint16_t class_numbers[] = {1, 3};
static const char *const transport_names[] = {"udp", "tcp", NULL};

uint16_t dns_type_number(int index)
{
    return type_numbers[index];
}

uint16_t dns_class_number(int index)
{
    return class_numbers[index];
}

const struct dns_spec *dns_spec_of(const struct check_spec *c)
{
    return c->spec;
}

/* ---- target ---- */

static bool dns_target(struct cfg_parser *p, yaml_node_t *v, const char *path, void *obj)
{
    struct dns_parse *dp = obj;
    char q[CFG_MAX_QUOTED + 4];
    const char *why;
    if (!cfg_want_scalar(p, v, path))
        return false;
    const char *t = cfg_scalar(v);
    free(dp->s.server);
    dp->s.server = NULL;
    /* "server[:port]": a bare IPv6 address too, port 53 by default. */
    int port = 0;
    if (!resolve_split_target(t, DNS_DEFAULT_PORT, &dp->s.server, &port, &why)) {
        cfg_err(p, v, path, "\"%s\": %s", cfg_quote(t, q), why);
        return false;
    }
    dp->s.port = (unsigned)port;
    free(dp->target);
    dp->target = xstrdup(t);
    return true;
}

/* ---- query ---- */

static const struct cfg_field query_fields[] = {
    {.key = "name", .kind = CFG_STR, .offset = offsetof(struct dns_spec, query_name)},
    {.key = "type",
     .kind = CFG_ENUM,
     .offset = offsetof(struct dns_spec, query_type),
     .names = dns_type_names,
     .def_i = 0},
    {.key = "class",
     .kind = CFG_ENUM,
     .offset = offsetof(struct dns_spec, query_class),
     .names = dns_class_names,
     .def_i = 0},
    {.key = "transport",
     .kind = CFG_ENUM,
     .offset = offsetof(struct dns_spec, transport),
     .names = transport_names,
     .def_i = DNS_UDP},
    {.key = "recursion_desired",
     .kind = CFG_BOOL,
     .offset = offsetof(struct dns_spec, recursion_desired),
     .def_i = 1},
    {0},
};

static bool dns_query(struct cfg_parser *p, yaml_node_t *v, const char *path, void *obj)
{
    struct dns_parse *dp = obj;
    if (!cfg_want_mapping(p, v, path))
        return false;
    dp->query_node = v;
    dp->query_seen |= cfg_walk_fields(p, v, path, query_fields, &dp->s, NULL, NULL, NULL);
    return true;
}

/* ---- expect ---- */

static bool expect_rcode(struct cfg_parser *p, yaml_node_t *n, const char *path, void *obj)
{
    struct dns_expect *e = obj;
    const yaml_node_t *single = n->type == YAML_SCALAR_NODE ? n : NULL;
    size_t cnt = 1;
    if (!single) {
        if (!cfg_want_sequence(p, n, path))
            return false;
        cnt = cfg_seq_len(n);
        if (cnt == 0) {
            cfg_err(p, n, path, "needs at least one rcode");
            return false;
        }
    }
    uint16_t mask = 0;
    for (size_t i = 0; i < cnt; i++) {
        const yaml_node_t *it = single ? single : cfg_seq_item(p, n, i);
        char sub[CFG_PATH_CAP], q[CFG_MAX_QUOTED + 4];
        if (single)
            snprintf(sub, sizeof(sub), "%s", path);
        else
            cfg_path_index(sub, path, i);
        if (!it || !cfg_want_scalar(p, it, sub))
            return false;
        int r = 0;
        while (r < 16 && !(dns_rcode_name(r) && strcmp(dns_rcode_name(r), cfg_scalar(it)) == 0))
            r++;
        if (r == 16) {
            cfg_err(p, it, sub,
                    "\"%s\" is not an rcode (NOERROR, FORMERR, SERVFAIL, NXDOMAIN, NOTIMP, "
                    "REFUSED, YXDOMAIN, YXRRSET, NXRRSET, NOTAUTH, NOTZONE)",
                    cfg_quote(cfg_scalar(it), q));
            return false;
        }
        mask |= (uint16_t)(1u << r);
    }
    e->rcodes = mask;
    return true;
}

/* A pattern or a list of patterns, appended to *pl. */
static void get_patterns(struct cfg_parser *p, const yaml_node_t *n, const char *path,
                         struct dns_patterns *pl)
{
    bool single = n->type == YAML_SCALAR_NODE;
    if (!single && !cfg_want_sequence(p, n, path))
        return;
    size_t cnt = single ? 1 : cfg_seq_len(n);
    for (size_t i = 0; i < cnt; i++) {
        char sub[CFG_PATH_CAP];
        const yaml_node_t *it = n;
        if (!single) {
            cfg_path_index(sub, path, i);
            it = cfg_seq_item(p, n, i);
            if (!it)
                continue;
        } else {
            snprintf(sub, sizeof(sub), "%s", path);
        }
        if (pl->n == DNS_MAX_PATTERNS) {
            cfg_err(p, it, sub, "more than %d patterns", DNS_MAX_PATTERNS);
            return;
        }
        struct regex re;
        if (!http_compile_regex(p, it, sub, &re))
            continue;
        pl->re = xrealloc(pl->re, (pl->n + 1) * sizeof(*pl->re));
        pl->re[pl->n++] = re;
    }
}

/* One parse function per pattern key: the field table hands over only the
 * object, so the key's place is in the function. */
#define PATTERN_KEY(fn, sec, m)                                                                    \
    static bool fn(struct cfg_parser *p, yaml_node_t *n, const char *path, void *obj)              \
    {                                                                                              \
        get_patterns(p, n, path, &((struct dns_expect *)obj)->pat[sec][m]);                        \
        return true;                                                                               \
    }
PATTERN_KEY(an_m, DNS_SEC_ANSWER, DNS_MATCH)
PATTERN_KEY(an_nm, DNS_SEC_ANSWER, DNS_NOT_MATCH)
PATTERN_KEY(an_am, DNS_SEC_ANSWER, DNS_ALL_MATCH)
PATTERN_KEY(an_nam, DNS_SEC_ANSWER, DNS_NOT_ALL_MATCH)
PATTERN_KEY(au_m, DNS_SEC_AUTHORITY, DNS_MATCH)
PATTERN_KEY(au_nm, DNS_SEC_AUTHORITY, DNS_NOT_MATCH)
PATTERN_KEY(au_am, DNS_SEC_AUTHORITY, DNS_ALL_MATCH)
PATTERN_KEY(au_nam, DNS_SEC_AUTHORITY, DNS_NOT_ALL_MATCH)
PATTERN_KEY(ad_m, DNS_SEC_ADDITIONAL, DNS_MATCH)
PATTERN_KEY(ad_nm, DNS_SEC_ADDITIONAL, DNS_NOT_MATCH)
PATTERN_KEY(ad_am, DNS_SEC_ADDITIONAL, DNS_ALL_MATCH)
PATTERN_KEY(ad_nam, DNS_SEC_ADDITIONAL, DNS_NOT_ALL_MATCH)

static const struct cfg_field expect_fields[] = {
    {.key = "rcode", .kind = CFG_CUSTOM, .parse = expect_rcode},
    {.key = "min_answers",
     .kind = CFG_COUNT,
     .offset = offsetof(struct dns_expect, min_answers),
     .min = 0,
     .max = 65535},
    {.key = "answers_match", .kind = CFG_CUSTOM, .parse = an_m},
    {.key = "answers_not_match", .kind = CFG_CUSTOM, .parse = an_nm},
    {.key = "answers_all_match", .kind = CFG_CUSTOM, .parse = an_am},
    {.key = "answers_not_all_match", .kind = CFG_CUSTOM, .parse = an_nam},
    {.key = "authority_match", .kind = CFG_CUSTOM, .parse = au_m},
    {.key = "authority_not_match", .kind = CFG_CUSTOM, .parse = au_nm},
    {.key = "authority_all_match", .kind = CFG_CUSTOM, .parse = au_am},
    {.key = "authority_not_all_match", .kind = CFG_CUSTOM, .parse = au_nam},
    {.key = "additional_match", .kind = CFG_CUSTOM, .parse = ad_m},
    {.key = "additional_not_match", .kind = CFG_CUSTOM, .parse = ad_nm},
    {.key = "additional_all_match", .kind = CFG_CUSTOM, .parse = ad_am},
    {.key = "additional_not_all_match", .kind = CFG_CUSTOM, .parse = ad_nam},
    {0},
};

static bool dns_expect(struct cfg_parser *p, yaml_node_t *v, const char *path, void *obj)
{
    struct dns_parse *dp = obj;
    if (!cfg_want_mapping(p, v, path))
        return false;
    (void)cfg_walk_fields(p, v, path, expect_fields, &dp->s.expect, NULL, NULL, NULL);
    return true;
}

static void expect_free(struct dns_expect *e)
{
    for (int s = 0; s < DNS_SEC_COUNT; s++)
        for (int m = 0; m < DNS_MATCH_COUNT; m++) {
            struct dns_patterns *pl = &e->pat[s][m];
            for (size_t i = 0; i < pl->n; i++) {
                free(pl->re[i].pattern);
                pcre2_code_free(pl->re[i].code);
            }
            free(pl->re);
        }
}

/* ---- the check's own keys ---- */

/* Offsets are into struct dns_parse, whose first member is the spec. */
static const struct cfg_field dns_fields[] = {
    {.key = "target", .kind = CFG_CUSTOM, .parse = dns_target},
    {.key = "ip_protocol",
     .kind = CFG_ENUM,
     .offset = offsetof(struct dns_spec, ip_protocol),
     .names = tls_ip_proto_names,
     .def_i = IP_PROTO_AUTO},
    {.key = "ip_protocol_fallback",
     .kind = CFG_BOOL,
     .offset = offsetof(struct dns_spec, ip_protocol_fallback),
     .def_i = 1},
    {.key = "query", .kind = CFG_CUSTOM, .parse = dns_query},
    {.key = "expect", .kind = CFG_CUSTOM, .parse = dns_expect},
    {0},
};

static const struct cfg_keys dns_keys = {.fields = dns_fields};

static void *dns_new_spec(void)
{
    struct dns_parse *dp = xcalloc(1, sizeof(*dp));
    cfg_fields_default(dns_fields, &dp->s);
    cfg_fields_default(query_fields, &dp->s);
    cfg_fields_default(expect_fields, &dp->s.expect);
    dp->s.expect.rcodes = 1; /* NOERROR */
    dp->s.port = DNS_DEFAULT_PORT;
    return dp;
}

static void dns_free_spec(void *spec)
{
    struct dns_parse *dp = spec;
    free(dp->s.server);
    free(dp->s.query_name);
    if (dp->s.query)
        ares_free_string(dp->s.query);
    expect_free(&dp->s.expect);
    free(dp->target);
    free(dp);
}

static bool dns_key(struct cfg_parser *p, const char *key, struct yaml_node_s *v, const char *path,
                    struct check_spec *c)
{
    struct dns_parse *dp = c->spec;
    return cfg_field_apply(p, dns_fields, key, v, path, dp, &dp->seen);
}

static void dns_finish(struct cfg_parser *p, const struct yaml_node_s *n, const char *path,
                       struct check_spec *c)
{
    struct dns_parse *dp = c->spec;
    struct dns_spec *s = &dp->s;
    char sub[CFG_PATH_CAP], q[CFG_MAX_QUOTED + 4];
    if (!(dp->seen & CFG_SEEN(cfg_field_index(dns_fields, "target"))))
        cfg_err(p, n, path, "missing key \"target\"");
    cfg_path_key(sub, path, "query");
    if (!(dp->seen & CFG_SEEN(cfg_field_index(dns_fields, "query")))) {
        cfg_err(p, n, path, "missing key \"query\"");
    } else if (!s->query_name) {
        if (dp->query_node && !(dp->query_seen & CFG_SEEN(cfg_field_index(query_fields, "name"))))
            cfg_err(p, dp->query_node, sub, "missing key \"name\"");
    } else {
        /* c-ares builds the query: a name it cannot encode (a label over 63
         * bytes, a name over 255) is refused here, not at every run. */
        int len = 0;
        if (ares_create_query(s->query_name, dns_class_number(s->query_class),
                              dns_type_number(s->query_type), 0, s->recursion_desired ? 1 : 0,
                              &s->query, &len, 0) != ARES_SUCCESS ||
            !*s->query_name) {
            char nsub[CFG_PATH_CAP];
            cfg_path_key(nsub, sub, "name");
            cfg_err(p, dp->query_node, nsub, "\"%s\" is not a domain name c-ares can query",
                    cfg_quote(s->query_name, q));
            if (s->query) {
                ares_free_string(s->query);
                s->query = NULL;
            }
        }
        s->query_len = len;
    }
    if (!dp->target)
        return;
    free(c->target);
    c->target = dp->target;
    dp->target = NULL;
}

static uint64_t dns_identity(const struct check_spec *c)
{
    const struct dns_spec *s = dns_spec_of(c);
    uint64_t h = hash_mem(s->server ? s->server : "", s->server ? strlen(s->server) + 1 : 1);
    h = hash_mem_from(h, &s->port, sizeof(s->port));
    h = hash_mem_from(h, s->query_name ? s->query_name : "",
                      s->query_name ? strlen(s->query_name) + 1 : 1);
    return hash_mem_from(h, &s->query_type, sizeof(s->query_type));
}

const struct check_schema dns_schema = {
    .name = "dns",
    .new_spec = dns_new_spec,
    .free_spec = dns_free_spec,
    .key = dns_key,
    .keys = &dns_keys,
    .finish = dns_finish,
    .identity = dns_identity,
};
