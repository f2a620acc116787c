/*
 * tcp_config.c - the configuration schema of the `tcp` check type: target,
 * address family, TLS and the query_response dialogue; and the syntax of
 * `send` (its ${1} references), which runs expand.
 */
#include "cfg_yaml.h"
#include "resolve.h"
#include "tcp_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The spec, and `target` as written until finish hands it to the check
 * (the loader owns check_spec). */
struct tcp_parse {
    struct tcp_spec s;
    char *target;
    bool tls_given; /* `tls:` was true or a mapping */
};

const struct tcp_spec *tcp_spec_of(const struct check_spec *c)
{
    return c->spec;
}

static bool tcp_target(struct cfg_parser *p, yaml_node_t *v, const char *path, void *obj)
{
    struct tcp_parse *tp = obj;
    char *s = NULL;
    if (!cfg_get_str(p, v, path, false, &s))
        return false;
    const char *why = NULL;
    char *host = NULL;
    int port = 0;
    if (!resolve_split_target(s, 0, &host, &port, &why)) {
        char q[CFG_MAX_QUOTED + 4];
        cfg_err(p, v, path, "\"%s\": %s", cfg_quote(s, q), why);
        free(s);
        return false;
    }
    free(tp->s.host);
    free(tp->target);
    tp->s.host = host;
    tp->s.port = port;
    tp->target = s;
    return true;
}

static bool tcp_tls(struct cfg_parser *p, yaml_node_t *v, const char *path, void *obj)
{
    struct tcp_parse *tp = obj;
    if (v->type == YAML_SCALAR_NODE) {
        bool on = false;
        if (!cfg_get_bool(p, v, path, &on))
            return false;
        tp->tls_given = on;
        return true;
    }
    if (v->type != YAML_MAPPING_NODE) {
        cfg_err(p, v, path, "must be true, false or a mapping of TLS settings");
        return false;
    }
    tp->tls_given = true;
    return tls_spec_parse(p, v, path, &tp->s.tls_cfg);
}

/* ---- query_response ---- */

static bool step_expect(struct cfg_parser *p, yaml_node_t *v, const char *path, void *obj)
{
    struct tcp_step *st = obj;
    if (!http_compile_regex(p, v, path, &st->expect))
        return false;
    st->has_expect = true;
    return true;
}

static bool step_send(struct cfg_parser *p, yaml_node_t *v, const char *path, void *obj)
{
    struct tcp_step *st = obj;
    /* As written: "${1}" is a reference to the expect's group, not to the
     * environment (no ${env:} or ${file:} here). */
    if (!cfg_get_str(p, v, path, false, &st->send))
        return false;
    if (strlen(st->send) >= TCP_MAX_SEND) {
        cfg_err(p, v, path, "longer than %u bytes", TCP_MAX_SEND);
        return false;
    }
    return true;
}

static const struct cfg_field step_fields[] = {
    {.key = "expect", .kind = CFG_CUSTOM, .parse = step_expect},
    {.key = "send", .kind = CFG_CUSTOM, .parse = step_send},
    {.key = "starttls", .kind = CFG_BOOL, .offset = offsetof(struct tcp_step, starttls)},
    {0},
};

static void step_free(struct tcp_step *st)
{
    if (st->has_expect) {
        free(st->expect.pattern);
        pcre2_code_free(st->expect.code);
    }
    free(st->send);
}

static bool tcp_query_response(struct cfg_parser *p, yaml_node_t *v, const char *path, void *obj)
{
    struct tcp_spec *s = &((struct tcp_parse *)obj)->s;
    if (!cfg_want_sequence(p, v, path))
        return false;
    size_t n = cfg_seq_len(v);
    if (n > TCP_MAX_STEPS) {
        cfg_err(p, v, path, "more than %d steps", TCP_MAX_STEPS);
        return false;
    }
    s->steps = xcalloc(n ? n : 1, sizeof(*s->steps));
    for (size_t i = 0; i < n; i++) {
        char sub[CFG_PATH_CAP];
        cfg_path_index(sub, path, i);
        yaml_node_t *it = cfg_seq_item(p, v, i);
        if (!it || !cfg_want_mapping(p, it, sub))
            continue;
        struct tcp_step *st = &s->steps[s->n_steps++];
        cfg_fields_default(step_fields, st);
        int before = p->n_errors;
        (void)cfg_walk_fields(p, it, sub, step_fields, st, NULL, NULL, NULL);
        /* An empty step, not one whose only key was refused. */
        if (!st->has_expect && !st->send && !st->starttls && p->n_errors == before)
            cfg_err(p, it, sub, "a step needs expect, send or starttls");
        if (st->starttls) {
            if (s->has_starttls)
                cfg_err(p, it, sub, "only one step may have starttls");
            s->has_starttls = true;
        }
    }
    return true;
}

/* Offsets are into struct tcp_parse, whose first member is the spec. */
static const struct cfg_field tcp_fields[] = {
    {.key = "target", .kind = CFG_CUSTOM, .parse = tcp_target},
    {.key = "ip_protocol",
     .kind = CFG_ENUM,
     .offset = offsetof(struct tcp_spec, ip_protocol),
     .names = tls_ip_proto_names,
     .def_i = IP_PROTO_AUTO},
    {.key = "ip_protocol_fallback",
     .kind = CFG_BOOL,
     .offset = offsetof(struct tcp_spec, ip_protocol_fallback),
     .def_i = 1},
    {.key = "tls", .kind = CFG_CUSTOM, .parse = tcp_tls},
    {.key = "query_response", .kind = CFG_CUSTOM, .parse = tcp_query_response},
    {0},
};

/* ---- references in a send: the syntax of `send`, expanded by runs ---- */

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

void tcp_expand(const char *tmpl, const pcre2_code *code, const char *line, const size_t *ov,
                size_t n_ov, struct buf *out)
{
    const char *p = tmpl;
    while (*p) {
        const char *dollar = strchr(p, '$');
        if (!dollar) {
            (void)buf_adds(out, p);
            return;
        }
        (void)buf_add(out, p, (size_t)(dollar - p));
        p = dollar + 1;
        if (*p == '$') {
            (void)buf_addc(out, '$');
            p++;
            continue;
        }
        const char *name = p, *end;
        bool braced = *p == '{';
        if (braced)
            name++;
        end = name;
        while (name_char(*end))
            end++;
        if (end == name || (braced && *end != '}')) {
            /* Not a reference (Go keeps the '$' and goes on after it). */
            (void)buf_addc(out, '$');
            continue;
        }
        size_t nlen = (size_t)(end - name);
        p = braced ? end + 1 : end;
        /* A number is a group's index, anything else its name. */
        long idx = -1;
        bool numeric = true;
        for (size_t i = 0; i < nlen; i++)
            numeric = numeric && name[i] >= '0' && name[i] <= '9';
        if (numeric) {
            uint64_t v;
            idx = parse_u64(name, nlen, 65535, &v) == OP_OK ? (long)v : -1;
        } else if (code && nlen < 64) {
            char nm[64];
            memcpy(nm, name, nlen);
            nm[nlen] = '\0';
            int k = pcre2_substring_number_from_name(code, (PCRE2_SPTR)nm);
            idx = k >= 0 ? k : -1;
        }
        if (idx < 0 || (size_t)idx >= n_ov || !line)
            continue;
        size_t a = ov[2 * idx], b = ov[2 * idx + 1];
        if (a != SIZE_MAX && b != SIZE_MAX && b >= a)
            (void)buf_add(out, line + a, b - a);
    }
}

/* ---- the schema ---- */

static const struct cfg_keys tcp_keys = {.fields = tcp_fields};

static void *tcp_new_spec(void)
{
    struct tcp_parse *tp = xcalloc(1, sizeof(*tp));
    cfg_fields_default(tcp_fields, &tp->s);
    return tp;
}

static void tcp_free_spec(void *spec)
{
    struct tcp_parse *tp = spec;
    struct tcp_spec *s = &tp->s;
    free(s->host);
    tls_spec_free(&s->tls_cfg);
    for (size_t i = 0; i < s->n_steps; i++)
        step_free(&s->steps[i]);
    free(s->steps);
    free(tp->target);
    free(tp);
}

static bool tcp_key(struct cfg_parser *p, const char *key, struct yaml_node_s *v, const char *path,
                    struct check_spec *c)
{
    struct tcp_parse *tp = c->spec;
    return cfg_field_apply(p, tcp_fields, key, v, path, tp, &tp->s.seen);
}

static void tcp_finish(struct cfg_parser *p, const struct yaml_node_s *n, const char *path,
                       struct check_spec *c)
{
    struct tcp_parse *tp = c->spec;
    struct tcp_spec *s = &tp->s;
    if (!(s->seen & CFG_SEEN(cfg_field_index(tcp_fields, "target"))))
        cfg_err(p, n, path, "missing key \"target\"");
    /* A STARTTLS dialogue starts in plain text; `tls:` then configures the
     * upgrade. */
    s->tls = tp->tls_given && !s->has_starttls;
    if (s->tls || s->has_starttls)
        tls_spec_finish(p, n, path, &s->tls_cfg);
    free(c->target);
    c->target = tp->target ? tp->target : xstrdup("");
    tp->target = NULL;
}

static uint64_t tcp_identity(const struct check_spec *c)
{
    const struct tcp_spec *s = tcp_spec_of(c);
    uint64_t h = hash_str(s->host ? s->host : "");
    return hash_mem_from(h, &s->port, sizeof(s->port));
}

const struct check_schema tcp_schema = {
    .name = "tcp",
    .new_spec = tcp_new_spec,
    .free_spec = tcp_free_spec,
    .key = tcp_key,
    .keys = &tcp_keys,
    .finish = tcp_finish,
    .identity = tcp_identity,
};
