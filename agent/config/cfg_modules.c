/*
 * cfg_modules.c - blackbox_exporter modules: the `modules:` section, the
 * --modules.file, and checks built from a module for one target.
 *
 * Each module is translated once, at load, into an outpost check entry (a
 * small libyaml document of its own whose nodes keep the marks of the
 * blackbox source, cfg_modules_tr.c), and that entry is parsed once by the
 * check type's schema with a placeholder target: every problem a module
 * can have is a load error naming file:line:col. bb_module_check parses a
 * copy of the same entry with the real target. That is a full schema
 * parse per /probe request (a few microseconds of allocations, a CA store
 * looked up in its cache); /probe is not the hot path, and one code path
 * for load and request means the checks /probe runs are exactly the ones
 * the load validated.
 */
#include "cfg_modules_int.h"
#include "cfg_compose.h"
#include "cfg_int.h"
#include "names.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What one allowed_targets match may cost (as the http type's patterns):
 * the target comes from a /probe request. */
#define BB_MATCH_LIMIT 500000u
#define BB_DEPTH_LIMIT 100000u

struct bb_module {
    char *name;
    const char *prober; /* static */
    int64_t timeout_ms;
    char *file;          /* where it was written, for messages */
    int line, column;    /* of its name, 1-based */
    yaml_document_t doc; /* the check entry, with a placeholder target */
    int entry, target;   /* node ids in doc */
    pcre2_code **allowed;
    size_t n_allowed;
};

struct bb_modules {
    struct bb_module **v;
    size_t n;
    struct names *names;
};

static const char *const probers[] = {"http", "tcp", "dns", "icmp", "grpc", NULL};

/* The placeholder target a module is validated with: loopback literals,
 * which every type accepts without a resolver. */
static const char *placeholder(const char *prober)
{
    if (strcmp(prober, "http") == 0)
        return "http://127.0.0.1/";
    if (strcmp(prober, "tcp") == 0 || strcmp(prober, "grpc") == 0)
        return "127.0.0.1:1";
    return "127.0.0.1";
}

static void module_free(struct bb_module *m)
{
    if (!m)
        return;
    free(m->name);
    free(m->file);
    yaml_document_delete(&m->doc);
    for (size_t i = 0; i < m->n_allowed; i++)
        pcre2_code_free(m->allowed[i]);
    free(m->allowed);
    free(m);
}

void cfg_modules_free(struct cfg *c)
{
    struct bb_modules *ms = c->modules;
    if (!ms)
        return;
    for (size_t i = 0; i < ms->n; i++)
        module_free(ms->v[i]);
    free(ms->v);
    names_free(ms->names);
    free(ms);
    c->modules = NULL;
}

static const char *module_key(const void *owner, size_t i)
{
    return ((const struct bb_modules *)owner)->v[i]->name;
}

static struct bb_modules *modules_of(struct cfg *c)
{
    if (!c->modules) {
        struct bb_modules *ms = xcalloc(1, sizeof(*ms));
        ms->names = names_new(module_key, ms);
        c->modules = ms;
    }
    return c->modules;
}

/* ---- a copy of a translated entry ---- */

/* src into dst (initialised here), node for node so ids stay the same;
 * the scalar `target` (an id, 0: none) takes the value tv. False when
 * libyaml ran out of memory (dst is then deleted). */
static bool doc_clone(const yaml_document_t *src, int target, const char *tv, yaml_document_t *dst)
{
    if (!yaml_document_initialize(dst, NULL, NULL, NULL, 1, 1))
        return false;
    bool ok = true;
    size_t n = (size_t)(src->nodes.top - src->nodes.start);
    for (size_t i = 0; i < n && ok; i++) {
        const yaml_node_t *s = &src->nodes.start[i];
        int id = 0;
        if (s->type == YAML_SCALAR_NODE) {
            const char *v = (int)i + 1 == target ? tv : (const char *)s->data.scalar.value;
            size_t len = (int)i + 1 == target ? strlen(v) : s->data.scalar.length;
            id = yaml_document_add_scalar(dst, s->tag, (yaml_char_t *)v, (int)len,
                                          s->data.scalar.style);
        } else if (s->type == YAML_SEQUENCE_NODE) {
            id = yaml_document_add_sequence(dst, s->tag, s->data.sequence.style);
        } else {
            id = yaml_document_add_mapping(dst, s->tag, s->data.mapping.style);
        }
        ok = id == (int)i + 1;
        if (ok) {
            dst->nodes.start[i].start_mark = s->start_mark;
            dst->nodes.start[i].end_mark = s->end_mark;
        }
    }
    for (size_t i = 0; i < n && ok; i++) {
        const yaml_node_t *s = &src->nodes.start[i];
        if (s->type == YAML_SEQUENCE_NODE)
            for (yaml_node_item_t *it = s->data.sequence.items.start;
                 ok && it < s->data.sequence.items.top; it++)
                ok = yaml_document_append_sequence_item(dst, (int)i + 1, *it);
        else if (s->type == YAML_MAPPING_NODE)
            for (yaml_node_pair_t *pr = s->data.mapping.pairs.start;
                 ok && pr < s->data.mapping.pairs.top; pr++)
                ok = yaml_document_append_mapping_pair(dst, (int)i + 1, pr->key, pr->value);
    }
    if (!ok)
        yaml_document_delete(dst);
    return ok;
}

/* Parse the entry of doc as a check into cs (name and timeout preset). */
static bool parse_entry(struct cfg_parser *p, yaml_document_t *doc, int entry, const char *path,
                        const char *name, int64_t timeout_ms, struct check_spec *cs)
{
    cs->name = xstrdup(name);
    cs->timeout_ms = timeout_ms;
    /* A module's check is never scheduled; its interval only has to pass
     * the loader's rules. */
    cs->interval_ms = timeout_ms > CFG_MIN_INTERVAL_MS ? timeout_ms : CFG_MIN_INTERVAL_MS;
    yaml_document_t *saved = p->doc;
    p->doc = doc;
    bool ok = cfg_parse_check(p, yaml_document_get_node(doc, entry), path, cs);
    p->doc = saved;
    return ok;
}

/* ---- one module ---- */

struct module_walk {
    struct cfg_parser *p;
    struct bb_module *m;
    const yaml_node_t *prober, *timeout, *allowed;
    const yaml_node_t *sec[5]; /* by probers[] index */
};

static bool module_key_fn(struct cfg_parser *p, const char *key, yaml_node_t *v, const char *path,
                          void *arg)
{
    (void)p;
    (void)path;
    struct module_walk *w = arg;
    if (strcmp(key, "prober") == 0)
        w->prober = v;
    else if (strcmp(key, "timeout") == 0)
        w->timeout = v;
    else if (strcmp(key, "allowed_targets") == 0)
        w->allowed = v;
    else {
        for (size_t i = 0; probers[i]; i++)
            if (strcmp(key, probers[i]) == 0) {
                w->sec[i] = cfg_is_null(v) ? NULL : v;
                return true;
            }
        return false;
    }
    return true;
}

static void allowed_targets(struct cfg_parser *p, const yaml_node_t *v, const char *path,
                            struct bb_module *m)
{
    if (cfg_is_null(v) || !cfg_want_sequence(p, v, path))
        return;
    if (cfg_seq_len(v) > CFG_MAX_ALLOWED_TARGETS) {
        cfg_err(p, v, path, "more than %d patterns", CFG_MAX_ALLOWED_TARGETS);
        return;
    }
    m->allowed = xcalloc(cfg_seq_len(v) ? cfg_seq_len(v) : 1, sizeof(*m->allowed));
    for (size_t i = 0; i < cfg_seq_len(v); i++) {
        char sub[CFG_PATH_CAP];
        cfg_path_index(sub, path, i);
        yaml_node_t *it = cfg_seq_item(p, v, i);
        if (!it || !cfg_want_scalar(p, it, sub))
            continue;
        int err;
        PCRE2_SIZE off;
        /* Checked alone first, so an error's offset is in the pattern as
         * written; then anchored at both ends (\z: no final newline). */
        pcre2_code *code =
            pcre2_compile((PCRE2_SPTR)cfg_scalar(it), PCRE2_ZERO_TERMINATED, 0, &err, &off, NULL);
        if (!code) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(err, msg, sizeof(msg));
            cfg_err(p, it, sub, "bad regular expression at offset %zu: %s", (size_t)off,
                    (const char *)msg);
            continue;
        }
        pcre2_code_free(code);
        struct buf b;
        buf_init(&b, CFG_MAX_FILE_BYTES);
        buf_addf(&b, "(?:%s)\\z", cfg_scalar(it));
        code = pcre2_compile((PCRE2_SPTR)buf_str(&b), PCRE2_ZERO_TERMINATED, PCRE2_ANCHORED, &err,
                             &off, NULL);
        buf_free(&b);
        if (!code) {
            /* A pattern that closes the group itself, e.g. "a)|(b". */
            cfg_err(p, it, sub, "a pattern must be one regular expression on its own");
            continue;
        }
        m->allowed[m->n_allowed++] = code;
    }
}

typedef void (*translate_fn)(struct bb_tr *t, const yaml_node_t *sec, const yaml_node_t *at,
                             const char *path);
static const translate_fn translators[] = {bb_translate_http, bb_translate_tcp, bb_translate_dns,
                                           bb_translate_icmp, bb_translate_grpc};

/* The module `name` (key node k, value v) of p's document; NULL after
 * reporting its problems. */
static struct bb_module *module_parse(struct cfg_parser *p, const yaml_node_t *k,
                                      const yaml_node_t *v, const char *name)
{
    static const char *const names[] = {"prober", "timeout",         "http", "tcp", "dns", "icmp",
                                        "grpc",   "allowed_targets", NULL};
    static const struct cfg_keys keys = {.names = names};
    char path[CFG_PATH_CAP], sub[CFG_PATH_CAP], q[CFG_MAX_QUOTED + 4];
    cfg_path_key(path, "modules", name);
    int before = p->n_errors;
    if (!cfg_check_name(p, k, path, name) || !cfg_want_mapping(p, v, path))
        return NULL;
    struct bb_module *m = xcalloc(1, sizeof(*m));
    m->name = xstrdup(name);
    m->file = xstrdup(p->file);
    m->line = (int)k->start_mark.line + 1;
    m->column = (int)k->start_mark.column + 1;
    if (!yaml_document_initialize(&m->doc, NULL, NULL, NULL, 1, 1)) {
        free(m->name);
        free(m->file);
        free(m);
        cfg_err(p, v, path, "out of memory");
        return NULL;
    }
    struct module_walk w = {.p = p, .m = m};
    cfg_walk_map_keys(p, v, path, module_key_fn, &w, &keys);
    size_t pi = 0;
    cfg_path_key(sub, path, "prober");
    if (!w.prober) {
        cfg_err(p, v, path, "missing key \"prober\" (http, tcp, dns, icmp or grpc)");
    } else if (cfg_want_scalar(p, w.prober, sub)) {
        for (pi = 0; probers[pi]; pi++)
            if (strcmp(cfg_scalar(w.prober), probers[pi]) == 0)
                break;
        if (!probers[pi])
            cfg_err(p, w.prober, sub, "unknown prober \"%s\" (http, tcp, dns, icmp or grpc)",
                    cfg_quote(cfg_scalar(w.prober), q));
        else
            m->prober = probers[pi];
    }
    cfg_path_key(sub, path, "timeout");
    if (w.timeout && !cfg_is_null(w.timeout))
        (void)cfg_get_duration(p, w.timeout, sub, &m->timeout_ms);
    if (w.allowed) {
        cfg_path_key(sub, path, "allowed_targets");
        allowed_targets(p, w.allowed, sub, m);
    }
    if (!m->prober)
        goto out;
    /* blackbox reads only the prober's own section; one for another
     * prober would be a setting that does nothing. */
    for (size_t i = 0; probers[i]; i++)
        if (w.sec[i] && i != pi) {
            cfg_path_key(sub, path, probers[i]);
            cfg_err(p, w.sec[i], sub, "the module's prober is %s: this section would not be used",
                    m->prober);
        }
    struct bb_tr t = {.p = p, .out = &m->doc};
    t.entry = bbt_map(&t, v);
    bbt_put(&t, t.entry, "type", bbt_scalar(&t, m->prober, true, w.prober));
    m->target = bbt_scalar(&t, placeholder(m->prober), false, k);
    bbt_put(&t, t.entry, pi == 0 ? "url" : "target", m->target);
    m->entry = t.entry;
    cfg_path_key(sub, path, m->prober);
    if (w.sec[pi] && !cfg_want_mapping(p, w.sec[pi], sub))
        goto out;
    translators[pi](&t, w.sec[pi], v, sub);
    if (t.nomem)
        cfg_err(p, v, path, "out of memory");
    if (p->n_errors != before)
        goto out;
    if (!cfg_check_schema(m->prober)) {
        cfg_err(p, w.prober, sub, "this build of outpost has no %s check type", m->prober);
        goto out;
    }
    /* The translated entry through the type's own rules, once. */
    struct check_spec cs = {0};
    (void)parse_entry(p, &m->doc, m->entry, path, name,
                      m->timeout_ms ? m->timeout_ms : CFG_DEFAULT_TIMEOUT_MS, &cs);
    cfg_check_free(&cs);
out:
    if (p->n_errors == before)
        return m;
    module_free(m);
    return NULL;
}

static void module_add(struct cfg_parser *p, const yaml_node_t *k, struct cfg *c,
                       struct bb_module *m)
{
    struct bb_modules *ms = modules_of(c);
    if (ms->n == CFG_MAX_MODULES) {
        cfg_err(p, k, "modules", "more than %d modules", CFG_MAX_MODULES);
        module_free(m);
        return;
    }
    ms->v = xrealloc(ms->v, (ms->n + 1) * sizeof(*ms->v));
    ms->v[ms->n] = m;
    long dup = names_add(ms->names, ms->n);
    if (dup >= 0) {
        const struct bb_module *o = ms->v[dup];
        char path[CFG_PATH_CAP];
        cfg_path_key(path, "modules", m->name);
        cfg_err(p, k, path, "module defined twice: also at %s:%d:%d", o->file, o->line, o->column);
        module_free(m);
        return;
    }
    ms->n++;
}

void cfg_parse_modules(struct cfg_parser *p, const yaml_node_t *n, struct cfg *c)
{
    (void)modules_of(c);
    if (!n || cfg_is_null(n) || !cfg_want_mapping(p, n, "modules"))
        return;
    /* Walked here rather than with cfg_walk_map: a module's messages and
     * the "defined twice" rule (also across files) name its key. */
    for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
        if (cfg_cancelled(p))
            return;
        yaml_node_t *k = yaml_document_get_node(p->doc, pr->key);
        yaml_node_t *v = yaml_document_get_node(p->doc, pr->value);
        if (!k || !v || !cfg_want_scalar(p, k, "modules"))
            continue;
        struct bb_module *m = module_parse(p, k, v, cfg_scalar(k));
        if (m)
            module_add(p, k, c, m);
    }
}

static bool file_top_key(struct cfg_parser *p, const char *key, yaml_node_t *v, const char *path,
                         void *arg)
{
    (void)p;
    (void)path;
    if (strcmp(key, "modules") != 0)
        return false;
    *(yaml_node_t **)arg = v;
    return true;
}

void cfg_load_modules_file(struct cfg_parser *outer, const char *path, struct cfg *c)
{
    struct buf text;
    yaml_document_t doc;
    (void)modules_of(c);
    struct cfg_parser p = *outer;
    p.file = path;
    p.doc = &doc;
    p.n_errors = 0;
    enum op_rc rc = cfg_read_file(path, &text, outer->errors);
    if (rc != OP_OK) {
        p.n_errors++;
        goto out;
    }
    rc = cfg_compose(buf_str(&text), text.len, path, p.opts.cancel, &doc, outer->errors);
    if (rc != OP_OK) {
        p.n_errors++;
        p.cancelled = rc == OP_ERR_STATE;
        goto out;
    }
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    yaml_node_t *mods = NULL;
    static const char *const top_names[] = {"modules", NULL};
    static const struct cfg_keys top_keys = {.names = top_names};
    if (!root || cfg_is_null(root))
        cfg_err(&p, NULL, NULL, "the file is empty; it needs a \"modules:\" mapping");
    else if (cfg_want_mapping(&p, root, ""))
        cfg_walk_map_keys(&p, root, "", file_top_key, &mods, &top_keys);
    if (root && !cfg_is_null(root) && root->type == YAML_MAPPING_NODE && !mods)
        cfg_err(&p, root, "", "missing key \"modules\"");
    if (mods)
        cfg_parse_modules(&p, mods, c);
    yaml_document_delete(&doc);
out:
    buf_free(&text);
    outer->n_errors += p.n_errors;
    outer->cancelled |= p.cancelled;
}

/* ---- accessors ---- */

size_t cfg_module_count(const struct cfg *c)
{
    return c->modules ? c->modules->n : 0;
}

const struct bb_module *cfg_module(const struct cfg *c, size_t i)
{
    return c->modules->v[i];
}

const struct bb_module *cfg_find_module(const struct cfg *c, const char *name)
{
    long i = c->modules ? names_find(c->modules->names, name) : -1;
    return i >= 0 ? c->modules->v[i] : NULL;
}

const char *bb_module_name(const struct bb_module *m)
{
    return m->name;
}

const char *bb_module_prober(const struct bb_module *m)
{
    return m->prober;
}

int64_t bb_module_timeout_ms(const struct bb_module *m)
{
    return m->timeout_ms;
}

bool bb_module_target_allowed(const struct bb_module *m, const char *target)
{
    if (!m->n_allowed)
        return true;
    pcre2_match_context *mc = pcre2_match_context_create(NULL);
    bool ok = false;
    if (mc) {
        pcre2_set_match_limit(mc, BB_MATCH_LIMIT);
        pcre2_set_depth_limit(mc, BB_DEPTH_LIMIT);
    }
    for (size_t i = 0; i < m->n_allowed && mc && !ok; i++) {
        pcre2_match_data *md = pcre2_match_data_create_from_pattern(m->allowed[i], NULL);
        /* A match that errs (a limit) does not allow the target. */
        ok =
            md && pcre2_match(m->allowed[i], (PCRE2_SPTR)target, strlen(target), 0, 0, md, mc) >= 0;
        pcre2_match_data_free(md);
    }
    pcre2_match_context_free(mc);
    return ok;
}

/* The first error line of a per-target parse, without its file:line:col
 * (the module's, which the requester does not need), into err. */
static void first_error(const char *errors, const char *file, struct buf *err)
{
    size_t len = strcspn(errors, "\n");
    const char *s = errors;
    size_t fl = strlen(file);
    if (strncmp(s, file, fl) == 0 && s[fl] == ':') {
        /* FILE:LINE:COL: */
        const char *q = s + fl + 1;
        q += strspn(q, "0123456789");
        if (*q == ':') {
            q++;
            q += strspn(q, "0123456789");
            if (*q == ':' && q[1] == ' ')
                q += 2;
        }
        len -= (size_t)(q - s);
        s = q;
    }
    buf_add(err, s, len);
}

enum op_rc bb_module_check(const struct bb_module *m, const char *name, const char *target,
                           int64_t timeout_ms, struct check_spec **out, struct buf *err)
{
    *out = NULL;
    size_t tl = strnlen(target, BB_MAX_TARGET_BYTES + 1);
    if (tl == 0 || tl > BB_MAX_TARGET_BYTES) {
        buf_addf(err, "target: must be 1 to %d bytes", BB_MAX_TARGET_BYTES);
        return OP_ERR_INVALID;
    }
    for (size_t i = 0; i < tl; i++)
        if ((unsigned char)target[i] < 0x20 || target[i] == 0x7f) {
            buf_adds(err, "target: must not contain control characters");
            return OP_ERR_INVALID;
        }
    bool http = strcmp(m->prober, "http") == 0;
    struct buf tv;
    buf_init(&tv, 2 * BB_MAX_TARGET_BYTES + 16);
    /* blackbox: an http target without a scheme is http://. */
    if (http && strncmp(target, "http://", 7) != 0 && strncmp(target, "https://", 8) != 0)
        buf_adds(&tv, "http://");
    /* Never a ${env:} or ${file:} reference: the target comes from a
     * request. The url is expanded, so "${" is written "$${"; other types'
     * targets are host names and addresses, which have no "$". */
    for (const char *q = target; *q; q++) {
        if (q[0] == '$' && q[1] == '{') {
            if (!http) {
                buf_free(&tv);
                buf_adds(err, "target: must not contain \"${\"");
                return OP_ERR_INVALID;
            }
            buf_addc(&tv, '$');
        }
        buf_addc(&tv, *q);
    }
    yaml_document_t doc;
    if (!doc_clone(&m->doc, m->target, buf_str(&tv), &doc)) {
        buf_free(&tv);
        buf_adds(err, "out of memory");
        return OP_ERR_SYSTEM;
    }
    buf_free(&tv);
    struct buf errors;
    buf_init(&errors, CFG_MAX_ERRORS_BYTES);
    struct cfg_parser p = {.file = m->file, .errors = &errors};
    p.n_buckets = cfg_n_default_buckets;
    p.buckets = (double *)cfg_default_buckets;
    cfg_parse_global(&p, NULL);
    struct check_spec *cs = xcalloc(1, sizeof(*cs));
    bool ok = parse_entry(&p, &doc, m->entry, "", name, timeout_ms, cs);
    yaml_document_delete(&doc);
    if (!ok) {
        first_error(buf_str_or(&errors, "target: not valid for this module"), m->file, err);
        cfg_check_spec_free(cs);
        cs = NULL;
    }
    buf_free(&errors);
    *out = cs;
    return ok ? OP_OK : OP_ERR_INVALID;
}

void cfg_check_spec_free(struct check_spec *c)
{
    if (!c)
        return;
    cfg_check_free(c);
    free(c);
}

/* ---- describe ---- */

static void describe_node(const yaml_document_t *d, const yaml_node_t *n, const char *prefix,
                          struct buf *out)
{
    char sub[CFG_PATH_CAP];
    if (n->type == YAML_SCALAR_NODE) {
        bool secret = n->tag && strcmp((const char *)n->tag, BB_SECRET_TAG) == 0;
        buf_addf(out, "%s: ", prefix);
        if (secret)
            buf_adds(out, "<secret>");
        else if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
            buf_adds(out, (const char *)n->data.scalar.value);
        else
            buf_add_json_string(out, (const char *)n->data.scalar.value);
        buf_addc(out, '\n');
        return;
    }
    if (n->type == YAML_SEQUENCE_NODE) {
        size_t i = 0;
        for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
             it++, i++) {
            cfg_path_index(sub, prefix, i);
            describe_node(d, yaml_document_get_node((yaml_document_t *)d, *it), sub, out);
        }
        return;
    }
    for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = yaml_document_get_node((yaml_document_t *)d, pr->key);
        cfg_path_key(sub, prefix, (const char *)k->data.scalar.value);
        describe_node(d, yaml_document_get_node((yaml_document_t *)d, pr->value), sub, out);
    }
}

void bb_module_describe(const struct bb_module *m, struct buf *out)
{
    const yaml_document_t *d = &m->doc;
    const yaml_node_t *e = yaml_document_get_node((yaml_document_t *)d, m->entry);
    if (m->timeout_ms)
        buf_addf(out, "timeout: %lldms\n", (long long)m->timeout_ms);
    for (yaml_node_pair_t *pr = e->data.mapping.pairs.start; pr < e->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = yaml_document_get_node((yaml_document_t *)d, pr->key);
        /* The prober is the module's; the target placeholder is where the
         * request's target goes. */
        if (pr->value == m->target || strcmp((const char *)k->data.scalar.value, "type") == 0)
            continue;
        describe_node(d, yaml_document_get_node((yaml_document_t *)d, pr->value),
                      (const char *)k->data.scalar.value, out);
    }
}
