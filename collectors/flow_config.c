/*
 * flow_config.c - the configuration schema of the `flow` check type: its
 * steps (each an http check's keys, through the http schema, plus name,
 * capture, always_run), its captures and where they may be used.
 *
 * A step's url, header values and body may use ${capture:NAME}; the loader
 * keeps each such reference as a marker (cfg_yaml.h) once this schema has
 * said which capture it is: one taken by an earlier step. So every steps'
 * captures are known before any step is parsed (a first pass over the
 * names), and a reference to a capture no step takes, or one a later step
 * (or the same) takes, is an error at the reference's line and column.
 */
#include "cfg_yaml.h"
#include "common.h"
#include "flow_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One step while the flow parses: where it is, for rules checked when the
 * flow's timeout is final (finish). */
struct step_parse {
    const yaml_node_t *node, *timeout_node;
    char path[CFG_PATH_CAP];
    int64_t timeout_ms; /* 0: the flow's */
    bool has_reuse;
};

/* A capture's name and the step that takes it (the first pass). */
struct capture_def {
    const char *name; /* borrowed from the document */
    size_t step;
};

struct flow_parse {
    struct flow_spec s; /* first: flow_spec_of */
    struct step_parse *sp;
    struct capture_def defs[CFG_MAX_CAPTURES];
    size_t n_defs;
    const char *names[FLOW_MAX_STEPS]; /* steps' names as written (first pass), or NULL */
    bool defs_overflow;
    bool has_steps;
};

const struct flow_spec *flow_spec_of(const struct check_spec *c)
{
    return c->spec;
}

/* ---- names ---- */

#define FLOW_MAX_CAPTURE_NAME 64

/* Letters, digits and '_', not starting with a digit: a name that needs
 * no quoting in ${capture:NAME}, in YAML or in a message. */
static bool capture_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > FLOW_MAX_CAPTURE_NAME || (*s >= '0' && *s <= '9'))
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return false;
    return true;
}

static long find_def(const struct flow_parse *fp, const char *name)
{
    for (size_t i = 0; i < fp->n_defs; i++)
        if (strcmp(fp->defs[i].name, name) == 0)
            return (long)i;
    return -1;
}

/* First pass: which step takes which capture, from well-formed entries
 * only (the second pass reports the rest). The first step naming a
 * capture owns it; a second is reported as a duplicate. */
static void collect_defs(struct cfg_parser *p, const yaml_node_t *steps, struct flow_parse *fp)
{
    for (size_t i = 0; i < cfg_seq_len(steps); i++) {
        yaml_node_t *it = yaml_document_get_node(p->doc, steps->data.sequence.items.start[i]);
        yaml_node_t *name = it ? cfg_map_value(p, it, "name") : NULL;
        if (name && name->type == YAML_SCALAR_NODE)
            fp->names[i] = cfg_scalar(name);
        yaml_node_t *caps = it ? cfg_map_value(p, it, "capture") : NULL;
        if (!caps || caps->type != YAML_MAPPING_NODE)
            continue;
        for (yaml_node_pair_t *pr = caps->data.mapping.pairs.start;
             pr < caps->data.mapping.pairs.top; pr++) {
            yaml_node_t *k = yaml_document_get_node(p->doc, pr->key);
            if (!k || k->type != YAML_SCALAR_NODE || !capture_name_ok(cfg_scalar(k)) ||
                find_def(fp, cfg_scalar(k)) >= 0)
                continue;
            if (fp->n_defs == CFG_MAX_CAPTURES) {
                fp->defs_overflow = true;
                return;
            }
            fp->defs[fp->n_defs++] = (struct capture_def){cfg_scalar(k), i};
        }
    }
}

/* ---- ${capture:NAME} ---- */

struct ref_ctx {
    struct flow_parse *fp;
    size_t step;
};

/* Step i as paths call it (steps[i] "NAME"), for messages about another
 * step. Returns out (CFG_PATH_CAP bytes). */
static const char *step_label(const struct flow_parse *fp, size_t i, char *out)
{
    cfg_path_named(out, "steps", i, i < FLOW_MAX_STEPS ? fp->names[i] : NULL);
    return out;
}

/* cfg_parser.capture_ref: NAME must be taken by an earlier step. */
static int capture_ref(struct cfg_parser *p, const yaml_node_t *n, const char *path,
                       const char *name, void *arg)
{
    struct ref_ctx *x = arg;
    char q[CFG_MAX_QUOTED + 4];
    if (!capture_name_ok(name)) {
        cfg_err(p, n, path,
                "\"%s\" is not a capture name (1 to %d letters, digits and _, not starting with "
                "a digit)",
                cfg_quote(name, q), FLOW_MAX_CAPTURE_NAME);
        return -1;
    }
    long k = find_def(x->fp, name);
    if (k < 0) {
        cfg_err(p, n, path, "capture \"%s\" is not defined: no step captures it",
                cfg_quote(name, q));
        return -1;
    }
    size_t by = x->fp->defs[k].step;
    if (by == x->step) {
        cfg_err(p, n, path,
                "capture \"%s\" is taken by this step itself: a step can use only what earlier "
                "steps captured",
                cfg_quote(name, q));
        return -1;
    }
    if (by > x->step) {
        char other[CFG_PATH_CAP];
        cfg_err(p, n, path,
                "capture \"%s\" is taken by a later step (%s): a step can use only what earlier "
                "steps captured",
                cfg_quote(name, q), step_label(x->fp, by, other));
        return -1;
    }
    x->fp->s.steps[x->step].needs |= (uint64_t)1 << k;
    return (int)k;
}

/* ---- capture: {NAME: {json | header | regex}} ---- */

struct capture_parse {
    struct flow_capture *c;
    bool has_json, has_header, has_regex;
};

/* A capture's regex: compiled as every pattern is, with exactly one group. */
static bool compile_group_regex(struct cfg_parser *p, const yaml_node_t *v, const char *path,
                                struct regex *re)
{
    if (!http_compile_regex(p, v, path, re))
        return false;
    pcre2_code *code = re->code;
    uint32_t groups = 0;
    (void)pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &groups);
    if (groups != 1) {
        cfg_err(p, v, path,
                "a capture's regex needs exactly one group, the value, like 'sid=(\\w+)' (it "
                "has %u; write (?:...) for a group that is not the value)",
                groups);
        pcre2_code_free(code);
        free(re->pattern);
        re->pattern = NULL;
        re->code = NULL;
        return false;
    }
    return true;
}

static bool capture_kind_key(struct cfg_parser *p, const char *key, yaml_node_t *v,
                             const char *path, void *arg)
{
    struct capture_parse *cp = arg;
    char q[CFG_MAX_QUOTED + 4];
    if (strcmp(key, "json") == 0) {
        if (!cfg_want_scalar(p, v, path))
            return true;
        cp->has_json = true;
        cp->c->json.path = xstrdup(cfg_scalar(v));
        if (!http_json_path_parse(cfg_scalar(v), &cp->c->json))
            cfg_err(p, v, path, "\"%s\" is not a JSON path (use a.b[0].c)",
                    cfg_quote(cfg_scalar(v), q));
    } else if (strcmp(key, "header") == 0) {
        if (!cfg_get_str(p, v, path, false, &cp->c->header))
            return true;
        cp->has_header = true;
        if (!http_header_name_ok(cp->c->header))
            cfg_err(p, v, path, "\"%s\" is not a valid header name", cfg_quote(cp->c->header, q));
    } else if (strcmp(key, "regex") == 0) {
        /* Present even when it does not compile: that error is enough. */
        (void)compile_group_regex(p, v, path, &cp->c->re);
        cp->has_regex = true;
    } else {
        return false;
    }
    return true;
}

static void capture_free(struct flow_capture *c)
{
    free(c->name);
    http_json_expect_free(&c->json);
    free(c->header);
    free(c->re.pattern);
    pcre2_code_free(c->re.code);
}

struct step_ctx {
    struct flow_parse *fp;
    size_t step;
};

static bool capture_key(struct cfg_parser *p, const char *key, yaml_node_t *v, const char *path,
                        void *arg)
{
    struct step_ctx *x = arg;
    struct flow_step *st = &x->fp->s.steps[x->step];
    char q[CFG_MAX_QUOTED + 4];
    if (!capture_name_ok(key)) {
        cfg_err(p, v, path,
                "\"%s\" is not a capture name (1 to %d letters, digits and _, not starting with "
                "a digit)",
                cfg_quote(key, q), FLOW_MAX_CAPTURE_NAME);
        return true;
    }
    long k = find_def(x->fp, key);
    if (k < 0) {
        /* Not in the first pass: only past the cap. */
        cfg_err(p, v, path, "more than %d captures in one flow", CFG_MAX_CAPTURES);
        return true;
    }
    if (x->fp->defs[k].step != x->step) {
        char other[CFG_PATH_CAP];
        cfg_err(p, v, path, "capture \"%s\" is already taken by %s", cfg_quote(key, q),
                step_label(x->fp, x->fp->defs[k].step, other));
        return true;
    }
    if (!cfg_want_mapping(p, v, path))
        return true;
    struct flow_capture c = {.name = xstrdup(key), .index = (size_t)k};
    struct capture_parse cp = {.c = &c};
    int before = p->n_errors;
    static const char *const names[] = {"json", "header", "regex", NULL};
    static const struct cfg_keys keys = {.names = names};
    cfg_walk_map_keys(p, v, path, capture_kind_key, &cp, &keys);
    if (cp.has_json && (cp.has_header || cp.has_regex))
        cfg_err(p, v, path, "json takes the value from the body as JSON: it goes alone");
    else if (!cp.has_json && !cp.has_header && !cp.has_regex)
        cfg_err(p, v, path, "needs one of json, header or regex");
    if (p->n_errors != before) {
        capture_free(&c);
        return true;
    }
    c.from = cp.has_json     ? FLOW_FROM_JSON
             : !cp.has_regex ? FLOW_FROM_HEADER
             : cp.has_header ? FLOW_FROM_HEADER_RE
                             : FLOW_FROM_BODY;
    st->captures = xrealloc(st->captures, (st->n_captures + 1) * sizeof(*st->captures));
    st->captures[st->n_captures++] = c;
    return true;
}

/* ---- one step ---- */

/* Keys a step adds to an http check's, and a step's hints. */
static const char *const step_names[] = {"name",    "capture",          "always_run",
                                         "timeout", "reuse_connection", NULL};

static bool is_http_key(const char *key)
{
    for (const struct cfg_field *f = http_schema.keys->fields; f->key; f++)
        if (strcmp(f->key, key) == 0)
            return true;
    return false;
}

static bool step_key(struct cfg_parser *p, const char *key, yaml_node_t *v, const char *path,
                     void *arg)
{
    struct step_ctx *x = arg;
    struct flow_step *st = &x->fp->s.steps[x->step];
    struct step_parse *sp = &x->fp->sp[x->step];
    if (strcmp(key, "name") == 0) {
        if (cfg_get_str(p, v, path, false, &st->http.name))
            (void)cfg_check_name(p, v, path, st->http.name);
        return true;
    }
    if (strcmp(key, "capture") == 0) {
        if (cfg_want_mapping(p, v, path))
            cfg_walk_map(p, v, path, capture_key, x);
        return true;
    }
    if (strcmp(key, "always_run") == 0) {
        (void)cfg_get_bool(p, v, path, &st->always_run);
        return true;
    }
    if (strcmp(key, "timeout") == 0) {
        sp->timeout_node = v;
        (void)cfg_get_duration(p, v, path, &sp->timeout_ms);
        return true;
    }
    if (strcmp(key, "reuse_connection") == 0) {
        sp->has_reuse = cfg_get_bool(p, v, path, &st->reuse_connection);
        return true;
    }
    if (strcmp(key, "interval") == 0) {
        cfg_err(p, v, path, "a step has no interval: the flow's interval schedules all its steps");
        return true;
    }
    /* The http check's keys; only url, headers and body substitute. */
    bool templated =
        strcmp(key, "url") == 0 || strcmp(key, "headers") == 0 || strcmp(key, "body") == 0;
    struct ref_ctx rc = {x->fp, x->step};
    if (templated) {
        p->capture_ref = capture_ref;
        p->capture_arg = &rc;
    }
    bool known = http_schema.key(p, key, v, path, &st->http);
    p->capture_ref = NULL;
    p->capture_arg = NULL;
    return known;
}

static void parse_step(struct cfg_parser *p, yaml_node_t *it, const char *path,
                       struct flow_parse *fp, size_t i)
{
    const struct cfg_keys keys = {.names = step_names, .more = http_schema.keys};
    struct flow_step *st = &fp->s.steps[i];
    struct step_parse *sp = &fp->sp[i];
    st->http.type = &http_schema;
    st->http.spec = http_schema.new_spec();
    st->http.group = xstrdup("");
    st->http.line = (int)it->start_mark.line + 1;
    sp->node = it;
    snprintf(sp->path, sizeof(sp->path), "%s", path);
    struct step_ctx x = {fp, i};
    cfg_walk_map_keys(p, it, path, step_key, &x, &keys);
    if (!st->http.name)
        cfg_err(p, it, path, "missing key \"name\"");
    for (size_t k = 0; k < i && st->http.name; k++) {
        char q[CFG_MAX_QUOTED + 4];
        if (fp->s.steps[k].http.name && strcmp(fp->s.steps[k].http.name, st->http.name) == 0) {
            cfg_err(p, it, path,
                    "step name \"%s\" is used by steps[%zu] too: names are unique "
                    "within a flow",
                    cfg_quote(st->http.name, q), k);
            break;
        }
    }
}

/* ---- the flow's own keys ---- */

static bool flow_steps(struct cfg_parser *p, yaml_node_t *v, const char *path,
                       struct flow_parse *fp)
{
    fp->has_steps = true;
    if (!cfg_want_sequence(p, v, path))
        return true;
    size_t n = cfg_seq_len(v);
    if (n == 0 || n > FLOW_MAX_STEPS) {
        cfg_err(p, v, path, "a flow needs 1 to %d steps", FLOW_MAX_STEPS);
        return true;
    }
    if (fp->s.steps)
        return true; /* a duplicate key, reported by the walk */
    collect_defs(p, v, fp);
    if (fp->defs_overflow)
        cfg_err(p, v, path, "more than %d captures in one flow", CFG_MAX_CAPTURES);
    fp->s.steps = xcalloc(n, sizeof(*fp->s.steps));
    fp->sp = xcalloc(n, sizeof(*fp->sp));
    fp->s.n_steps = n;
    for (size_t i = 0; i < n && !cfg_cancelled(p); i++) {
        /* A step is a named entry: its messages say which by name too. */
        char sub[CFG_PATH_CAP];
        yaml_node_t *it = cfg_seq_item(p, v, i);
        cfg_path_entry(p, sub, path, i, it);
        if (it && cfg_want_mapping(p, it, sub))
            parse_step(p, it, sub, fp, i);
        else
            fp->s.steps[i].http.type = NULL; /* nothing to finish or free but the shell */
    }
    fp->s.n_captures = fp->n_defs;
    fp->s.capture_names = xcalloc(fp->n_defs ? fp->n_defs : 1, sizeof(char *));
    for (size_t k = 0; k < fp->n_defs; k++)
        fp->s.capture_names[k] = xstrdup(fp->defs[k].name);
    return true;
}

static bool flow_key(struct cfg_parser *p, const char *key, struct yaml_node_s *v, const char *path,
                     struct check_spec *c)
{
    struct flow_parse *fp = c->spec;
    if (strcmp(key, "steps") == 0)
        return flow_steps(p, v, path, fp);
    if (strcmp(key, "reuse_connection") == 0) {
        (void)cfg_get_bool(p, v, path, &fp->s.reuse_connection);
        return true;
    }
    /* A step's key written on the flow: say where it belongs. */
    if (is_http_key(key) || strcmp(key, "capture") == 0 || strcmp(key, "always_run") == 0) {
        cfg_err(p, v, path, "%s is a key of each step of a flow (steps[].%s), not of the flow", key,
                key);
        return true;
    }
    return false;
}

static const char *const flow_names[] = {"steps", "reuse_connection", NULL};
static const struct cfg_keys flow_keys = {.names = flow_names};

/* ---- the schema ---- */

static void *flow_new_spec(void)
{
    return xcalloc(1, sizeof(struct flow_parse));
}

static void step_free(struct flow_step *st)
{
    free(st->http.name);
    free(st->http.group);
    free(st->http.target);
    if (st->http.spec)
        http_schema.free_spec(st->http.spec);
    for (size_t i = 0; i < st->n_captures; i++)
        capture_free(&st->captures[i]);
    free(st->captures);
}

static void flow_free_spec(void *spec)
{
    struct flow_parse *fp = spec;
    for (size_t i = 0; i < fp->s.n_steps; i++)
        step_free(&fp->s.steps[i]);
    free(fp->s.steps);
    for (size_t k = 0; k < fp->s.n_captures; k++)
        free(fp->s.capture_names[k]);
    free(fp->s.capture_names);
    free(fp->sp);
    free(fp);
}

static bool names_capture(const char *s)
{
    return s && strstr(s, "${capture:") != NULL;
}

/* Expectations are matched as written: a ${capture:NAME} there would be
 * compared literally and never hold, so it is refused. */
static bool expect_uses_capture(const struct http_expect *e)
{
    bool found = false;
    for (size_t i = 0; i < e->n_body_matches; i++)
        found |= names_capture(e->body_matches[i].pattern);
    for (size_t i = 0; i < e->n_body_not_matches; i++)
        found |= names_capture(e->body_not_matches[i].pattern);
    for (size_t i = 0; i < e->n_headers; i++)
        found |= names_capture(e->headers[i].re.pattern);
    for (size_t i = 0; i < e->n_headers_if_present; i++)
        found |= names_capture(e->headers_if_present[i].re.pattern);
    for (size_t i = 0; i < e->n_headers_not_matches; i++)
        found |= names_capture(e->headers_not_matches[i].re.pattern);
    for (size_t i = 0; i < e->n_json; i++)
        found |= names_capture(e->json[i].equals);
    return found;
}

static void flow_finish(struct cfg_parser *p, const struct yaml_node_s *n, const char *path,
                        struct check_spec *c)
{
    struct flow_parse *fp = c->spec;
    struct flow_spec *s = &fp->s;
    if (!fp->has_steps)
        cfg_err(p, n, path, "missing key \"steps\"");
    for (size_t i = 0; i < s->n_steps; i++) {
        struct flow_step *st = &s->steps[i];
        struct step_parse *sp = &fp->sp[i];
        if (!st->http.spec)
            continue;
        if (sp->timeout_ms > c->timeout_ms) {
            char st_t[CFG_MAX_QUOTED + 4], fl_t[CFG_MAX_QUOTED + 4];
            cfg_err(p, sp->timeout_node, sp->path,
                    "a step's timeout (%s) must not be longer than the flow's (%s)",
                    cfg_duration_text(sp->timeout_node, sp->timeout_ms, st_t),
                    cfg_timeout_text(p, n, c->timeout_ms, fl_t));
        }
        st->http.timeout_ms = sp->timeout_ms ? sp->timeout_ms : c->timeout_ms;
        st->http.interval_ms = c->interval_ms;
        if (!sp->has_reuse)
            st->reuse_connection = s->reuse_connection;
        s->any_reuse |= st->reuse_connection;
        /* Required keys, expectations against the step's timeout, one
         * kind of credentials, the CA store, the target. */
        http_schema.finish(p, sp->node, sp->path, &st->http);
        /* A step's texts never show a value from its response: it may be
         * a captured secret (flow_check.h). */
        struct http_spec *hs = (struct http_spec *)http_spec_of(&st->http);
        for (size_t j = 0; j < hs->expect.n_json; j++)
            hs->expect.json[j].quiet = true;
        if (expect_uses_capture(&hs->expect))
            cfg_err(p, sp->node, sp->path,
                    "expect is matched as written: ${capture:NAME} is substituted only in url, "
                    "headers and body");
    }
    free(c->target);
    c->target = xstrdup(s->n_steps && s->steps[0].http.target ? s->steps[0].http.target : "");
    /* What the parse borrowed from the document goes with it. */
    free(fp->sp);
    fp->sp = NULL;
    memset(fp->defs, 0, sizeof(fp->defs));
    memset(fp->names, 0, sizeof(fp->names));
}

static uint64_t flow_identity(const struct check_spec *c)
{
    const struct flow_spec *s = flow_spec_of(c);
    uint64_t h = hash_mem("flow", 5);
    for (size_t i = 0; i < s->n_steps; i++) {
        uint64_t k = s->steps[i].http.spec ? http_schema.identity(&s->steps[i].http) : 0;
        h = hash_mem_from(h, &k, sizeof(k));
    }
    return h;
}

const struct check_schema flow_schema = {
    .name = "flow",
    .new_spec = flow_new_spec,
    .free_spec = flow_free_spec,
    .key = flow_key,
    .keys = &flow_keys,
    .finish = flow_finish,
    .identity = flow_identity,
};
