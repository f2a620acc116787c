/*
 * config.c - load, resolve and validate the YAML configuration.
 *
 * libyaml's document API builds a node tree that keeps start marks, so every
 * error can name file, line and column. The walker collects up to
 * CFG_MAX_ERRORS problems instead of stopping at the first: a user fixing a
 * config wants the whole list.
 */
#include "config.h"
#include "slo.h"

#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

struct cfg {
    char *source;
    struct check_spec *checks;
    size_t n_checks;
    struct slo_spec *slos;
    size_t n_slos;
    struct canary_spec *canaries;
    size_t n_canaries;
    struct alerting_spec alerting;
    struct buf warnings;
};

/* Parse context: one per load. */
struct pctx {
    const char *file;
    yaml_document_t *doc;
    struct buf *errors;
    int n_errors;
    /* Defaults from `global:`. */
    int64_t interval_ms, timeout_ms;
    bool timeout_set;
    double *buckets;
    size_t n_buckets;
};

static const double default_buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

__attribute__((format(printf, 4, 5))) static void perr(struct pctx *p, const yaml_node_t *n,
                                                       const char *path, const char *fmt, ...)
{
    p->n_errors++;
    if (p->n_errors > CFG_MAX_ERRORS)
        return;
    /* Errors are capped by CFG_MAX_ERRORS lines, so appends cannot fail in
     * practice; if one did, the caller still gets a non-OK result. */
    if (n)
        buf_addf(p->errors, "%s:%zu:%zu: ", p->file, n->start_mark.line + 1,
                 n->start_mark.column + 1);
    else
        buf_addf(p->errors, "%s: ", p->file);
    if (path && *path)
        buf_addf(p->errors, "%s: ", path);
    va_list ap;
    va_start(ap, fmt);
    buf_vaddf(p->errors, fmt, ap);
    va_end(ap);
    buf_addc(p->errors, '\n');
    if (p->n_errors == CFG_MAX_ERRORS)
        buf_addf(p->errors, "%s: too many errors, stopping the list here\n", p->file);
}

/* ---- durations ---- */

enum op_rc cfg_parse_duration(const char *s, int64_t *ms)
{
    static const struct {
        const char *unit;
        int64_t ms;
    } units[] = {
        /* Longest first so "ms" is not read as "m" followed by "s". */
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
        /* "ms" is listed first so it is not read as "m" then "s". */
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

bool cfg_status_ok(const struct http_expect *e, int code)
{
    for (size_t i = 0; i < e->n_status; i++)
        if (code >= e->status[i].lo && code <= e->status[i].hi)
            return true;
    return false;
}

/* ---- generic node helpers ---- */

static const char *node_type_name(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_SCALAR_NODE:
        return "a scalar";
    case YAML_SEQUENCE_NODE:
        return "a list";
    case YAML_MAPPING_NODE:
        return "a mapping";
    default:
        return "empty";
    }
}

static const char *scalar(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

static bool is_plain(const yaml_node_t *n)
{
    return n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* A plain scalar "null", "~" or "" counts as absent (YAML null). */
static bool is_null(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE || !is_plain(n))
        return false;
    const char *s = scalar(n);
    return !*s || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
           strcmp(s, "NULL") == 0;
}

static bool want_scalar(struct pctx *p, const yaml_node_t *n, const char *path)
{
    if (n->type == YAML_SCALAR_NODE)
        return true;
    perr(p, n, path, "expected a single value, got %s", node_type_name(n));
    return false;
}

static bool want_mapping(struct pctx *p, const yaml_node_t *n, const char *path)
{
    if (n->type == YAML_MAPPING_NODE)
        return true;
    perr(p, n, path, "expected a mapping, got %s", node_type_name(n));
    return false;
}

static bool want_sequence(struct pctx *p, const yaml_node_t *n, const char *path)
{
    if (n->type == YAML_SEQUENCE_NODE)
        return true;
    perr(p, n, path, "expected a list, got %s", node_type_name(n));
    return false;
}

static size_t seq_len(const yaml_node_t *n)
{
    return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

static yaml_node_t *seq_item(struct pctx *p, const yaml_node_t *n, size_t i)
{
    return yaml_document_get_node(p->doc, n->data.sequence.items.start[i]);
}

/* Build "parent.key" or "parent[i]" into out (caller's array). */
static void path_key(char *out, size_t cap, const char *parent, const char *key)
{
    /* Paths only label messages; a pathological key nesting may shorten
     * one, never the config itself. */
    if (snprintf(out, cap, "%s%s%s", parent, *parent ? "." : "", key) >= (int)cap)
        out[cap - 1] = '\0';
}

static void path_index(char *out, size_t cap, const char *parent, size_t i)
{
    if (snprintf(out, cap, "%s[%zu]", parent, i) >= (int)cap)
        out[cap - 1] = '\0';
}

#define PATH_CAP 256

/*
 * Iterate over a mapping, checking keys are scalars and unique, and calling
 * fn(p, key, value, path, arg) for each. fn returns false for an unknown key.
 */
typedef bool (*map_fn)(struct pctx *p, const char *key, yaml_node_t *val, const char *path,
                       void *arg);

static void walk_map(struct pctx *p, const yaml_node_t *map, const char *path, map_fn fn, void *arg)
{
    yaml_node_pair_t *start = map->data.mapping.pairs.start;
    yaml_node_pair_t *top = map->data.mapping.pairs.top;
    for (yaml_node_pair_t *pair = start; pair < top; pair++) {
        yaml_node_t *k = yaml_document_get_node(p->doc, pair->key);
        yaml_node_t *v = yaml_document_get_node(p->doc, pair->value);
        if (!k || !v)
            continue;
        if (k->type != YAML_SCALAR_NODE) {
            perr(p, k, path, "keys must be plain names, got %s", node_type_name(k));
            continue;
        }
        bool dup = false;
        for (yaml_node_pair_t *q = start; q < pair; q++) {
            yaml_node_t *k2 = yaml_document_get_node(p->doc, q->key);
            if (k2 && k2->type == YAML_SCALAR_NODE && strcmp(scalar(k2), scalar(k)) == 0)
                dup = true;
        }
        char sub[PATH_CAP];
        path_key(sub, sizeof(sub), path, scalar(k));
        if (dup) {
            perr(p, k, sub, "duplicate key");
            continue;
        }
        if (!fn(p, scalar(k), v, sub, arg))
            perr(p, k, path, "unknown key \"%s\"", scalar(k));
    }
}

/* ---- typed getters ---- */

/*
 * Open a file that must be a regular file (or a link to one, as Kubernetes
 * mounts secrets). O_NONBLOCK keeps a FIFO or device from hanging the load;
 * it has no effect on regular files. On failure *why says why (static).
 */
static FILE *open_regular(const char *path, const char **why)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        *why = strerror(errno);
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        *why = "not a regular file";
        close(fd);
        return NULL;
    }
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        *why = strerror(errno);
        close(fd);
    }
    return f;
}

/*
 * Resolve ${env:NAME} and ${file:PATH} references in s. "$${" stays a
 * literal "${". The result (caller frees) may be a secret: messages name the
 * reference, never the resolved value.
 */
static char *expand_refs(struct pctx *p, const yaml_node_t *n, const char *path, const char *s)
{
    struct buf out;
    buf_init(&out, CFG_MAX_FILE_BYTES);
    const char *q = s;
    bool ok = true;
    while (*q && ok) {
        if (q[0] == '$' && q[1] == '$' && q[2] == '{') {
            ok = buf_adds(&out, "${") == OP_OK;
            q += 3;
            continue;
        }
        if (q[0] != '$' || q[1] != '{') {
            ok = buf_addc(&out, *q++) == OP_OK;
            continue;
        }
        const char *end = strchr(q, '}');
        if (!end) {
            perr(p, n, path, "unterminated \"${\" reference (write \"$${\" for a literal)");
            ok = false;
            break;
        }
        const char *ref = q + 2;
        size_t reflen = (size_t)(end - ref);
        if (reflen > 4 && strncmp(ref, "env:", 4) == 0) {
            char *name = xstrndup(ref + 4, reflen - 4);
            const char *v = getenv(name);
            if (!v) {
                perr(p, n, path, "environment variable %s is not set", name);
                ok = false;
            } else {
                ok = buf_adds(&out, v) == OP_OK;
            }
            free(name);
        } else if (reflen > 5 && strncmp(ref, "file:", 5) == 0) {
            char *fname = xstrndup(ref + 5, reflen - 5);
            const char *why = NULL;
            FILE *f = open_regular(fname, &why);
            if (!f) {
                perr(p, n, path, "cannot read %s: %s", fname, why);
                ok = false;
            } else {
                struct buf content;
                buf_init(&content, CFG_MAX_SECRET_FILE_BYTES);
                char chunk[4096];
                size_t got;
                while (ok && (got = fread(chunk, 1, sizeof(chunk), f)) > 0) {
                    if (buf_add(&content, chunk, got) != OP_OK) {
                        perr(p, n, path, "%s is larger than %u bytes", fname,
                             CFG_MAX_SECRET_FILE_BYTES);
                        ok = false;
                    }
                }
                if (ok && ferror(f)) {
                    perr(p, n, path, "cannot read %s", fname);
                    ok = false;
                }
                fclose(f);
                /* Files written by editors and `echo` end in a newline that
                 * is never part of the secret. */
                while (content.len && (content.data[content.len - 1] == '\n' ||
                                       content.data[content.len - 1] == '\r'))
                    content.data[--content.len] = '\0';
                if (ok)
                    ok = buf_add(&out, buf_str(&content), content.len) == OP_OK;
                buf_free(&content);
            }
            free(fname);
        } else {
            perr(p, n, path, "unknown reference (use ${env:NAME} or ${file:PATH})");
            ok = false;
        }
        q = end + 1;
    }
    if (!ok) {
        buf_free(&out);
        return NULL;
    }
    return buf_take(&out);
}

/* A string; with expand, references are resolved. Caller frees *out. */
static bool get_str(struct pctx *p, const yaml_node_t *n, const char *path, bool expand, char **out)
{
    if (!want_scalar(p, n, path))
        return false;
    char *v = expand ? expand_refs(p, n, path, scalar(n)) : xstrdup(scalar(n));
    if (!v)
        return false;
    free(*out);
    *out = v;
    return true;
}

static bool get_bool(struct pctx *p, const yaml_node_t *n, const char *path, bool *out)
{
    if (!want_scalar(p, n, path))
        return false;
    const char *s = scalar(n);
    if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 || strcmp(s, "TRUE") == 0) {
        *out = true;
        return true;
    }
    if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 || strcmp(s, "FALSE") == 0) {
        *out = false;
        return true;
    }
    perr(p, n, path, "expected true or false, got \"%s\"", s);
    return false;
}

static bool get_duration(struct pctx *p, const yaml_node_t *n, const char *path, int64_t *out)
{
    if (!want_scalar(p, n, path))
        return false;
    int64_t v;
    if (cfg_parse_duration(scalar(n), &v) != OP_OK) {
        perr(p, n, path, "\"%s\" is not a duration (use e.g. 250ms, 10s, 5m, 1h, 1d)", scalar(n));
        return false;
    }
    if (v <= 0) {
        perr(p, n, path, "duration must be greater than 0");
        return false;
    }
    *out = v;
    return true;
}

static bool parse_long(const char *s, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end)
        return false;
    *out = v;
    return true;
}

static bool parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v))
        return false;
    *out = v;
    return true;
}

/* Bytes as an integer or with a KiB/MiB/GiB (or kB/MB/GB) suffix. */
static bool get_size(struct pctx *p, const yaml_node_t *n, const char *path, uint64_t *out)
{
    static const struct {
        const char *sfx;
        uint64_t mul;
    } sfx[] = {{"KiB", 1024},      {"MiB", 1048576}, {"GiB", 1073741824},
               {"kB", 1000},       {"KB", 1000},     {"MB", 1000000},
               {"GB", 1000000000}, {"B", 1},         {"", 1}};
    if (!want_scalar(p, n, path))
        return false;
    const char *s = scalar(n);
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *s == '-') {
        perr(p, n, path, "\"%s\" is not a size in bytes (e.g. 1048576 or 1MiB)", s);
        return false;
    }
    for (size_t i = 0; i < ARRAY_SIZE(sfx); i++) {
        if (strcmp(end, sfx[i].sfx) == 0) {
            if (v > CFG_MAX_BODY_CAP / sfx[i].mul || v * sfx[i].mul == 0) {
                perr(p, n, path, "size must be between 1 byte and 1GiB");
                return false;
            }
            *out = v * sfx[i].mul;
            return true;
        }
    }
    perr(p, n, path, "\"%s\" is not a size in bytes (e.g. 1048576 or 1MiB)", s);
    return false;
}

static bool get_buckets(struct pctx *p, const yaml_node_t *n, const char *path, double **out,
                        size_t *n_out)
{
    if (!want_sequence(p, n, path))
        return false;
    size_t cnt = seq_len(n);
    if (cnt == 0 || cnt > CFG_MAX_BUCKETS) {
        perr(p, n, path, "needs 1 to %d bucket bounds", CFG_MAX_BUCKETS);
        return false;
    }
    double *b = xcalloc(cnt, sizeof(*b));
    for (size_t i = 0; i < cnt; i++) {
        yaml_node_t *it = seq_item(p, n, i);
        char sub[PATH_CAP];
        path_index(sub, sizeof(sub), path, i);
        if (!it || !want_scalar(p, it, sub) || !parse_double(scalar(it), &b[i])) {
            if (it && it->type == YAML_SCALAR_NODE)
                perr(p, it, sub, "\"%s\" is not a finite number", scalar(it));
            free(b);
            return false;
        }
        if (i > 0 && b[i] <= b[i - 1]) {
            perr(p, it, sub, "bucket bounds must be strictly increasing");
            free(b);
            return false;
        }
    }
    free(*out);
    *out = b;
    *n_out = cnt;
    return true;
}

static bool compile_regex(struct pctx *p, const yaml_node_t *n, const char *path, struct regex *re)
{
    if (!want_scalar(p, n, path))
        return false;
    int err;
    PCRE2_SIZE off;
    pcre2_code *code =
        pcre2_compile((PCRE2_SPTR)scalar(n), PCRE2_ZERO_TERMINATED, 0, &err, &off, NULL);
    if (!code) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(err, msg, sizeof(msg));
        perr(p, n, path, "bad regular expression at offset %zu: %s", (size_t)off,
             (const char *)msg);
        return false;
    }
    re->pattern = xstrdup(scalar(n));
    re->code = code;
    return true;
}

static void regex_free(struct regex *re)
{
    free(re->pattern);
    pcre2_code_free(re->code);
}

/* A regex or a list of regexes; appended to *arr. */
static void get_regex_list(struct pctx *p, const yaml_node_t *n, const char *path,
                           struct regex **arr, size_t *cnt)
{
    if (n->type == YAML_SCALAR_NODE) {
        struct regex re;
        if (compile_regex(p, n, path, &re)) {
            *arr = xrealloc(*arr, (*cnt + 1) * sizeof(**arr));
            (*arr)[(*cnt)++] = re;
        }
        return;
    }
    if (!want_sequence(p, n, path))
        return;
    for (size_t i = 0; i < seq_len(n); i++) {
        char sub[PATH_CAP];
        path_index(sub, sizeof(sub), path, i);
        yaml_node_t *it = seq_item(p, n, i);
        struct regex re;
        if (it && compile_regex(p, it, sub, &re)) {
            *arr = xrealloc(*arr, (*cnt + 1) * sizeof(**arr));
            (*arr)[(*cnt)++] = re;
        }
    }
}

/* ---- global ---- */

static bool global_key(struct pctx *p, const char *key, yaml_node_t *v, const char *path, void *arg)
{
    (void)arg;
    if (strcmp(key, "interval") == 0)
        (void)get_duration(p, v, path, &p->interval_ms);
    else if (strcmp(key, "timeout") == 0)
        p->timeout_set = get_duration(p, v, path, &p->timeout_ms) || p->timeout_set;
    else if (strcmp(key, "histogram_buckets") == 0)
        (void)get_buckets(p, v, path, &p->buckets, &p->n_buckets);
    else
        return false;
    return true;
}

/* ---- expect ---- */

static bool parse_status_item(const char *s, struct status_range *r)
{
    long lo, hi;
    size_t len = strlen(s);
    if (len == 3 && s[0] >= '1' && s[0] <= '5' && (s[1] == 'x' || s[1] == 'X') &&
        (s[2] == 'x' || s[2] == 'X')) {
        r->lo = (s[0] - '0') * 100;
        r->hi = r->lo + 99;
        return true;
    }
    const char *dash = strchr(s, '-');
    if (dash) {
        char *a = xstrndup(s, (size_t)(dash - s));
        bool ok = parse_long(a, &lo) && parse_long(dash + 1, &hi);
        free(a);
        if (!ok)
            return false;
    } else {
        if (!parse_long(s, &lo))
            return false;
        hi = lo;
    }
    if (lo < 100 || hi > 599 || lo > hi)
        return false;
    r->lo = (int)lo;
    r->hi = (int)hi;
    return true;
}

static void get_status(struct pctx *p, const yaml_node_t *n, const char *path,
                       struct http_expect *e)
{
    const yaml_node_t *single = n->type == YAML_SCALAR_NODE ? n : NULL;
    size_t cnt = single ? 1 : 0;
    if (!single) {
        if (!want_sequence(p, n, path))
            return;
        cnt = seq_len(n);
        if (cnt == 0) {
            perr(p, n, path, "needs at least one status code or range");
            return;
        }
    }
    struct status_range *r = xcalloc(cnt, sizeof(*r));
    for (size_t i = 0; i < cnt; i++) {
        const yaml_node_t *it = single ? single : seq_item(p, n, i);
        char sub[PATH_CAP];
        if (single)
            snprintf(sub, sizeof(sub), "%s", path);
        else
            path_index(sub, sizeof(sub), path, i);
        if (!it || !want_scalar(p, it, sub))
            goto fail;
        if (!parse_status_item(scalar(it), &r[i])) {
            perr(p, it, sub,
                 "\"%s\" is not a status code (100-599), a range like \"200-299\" or a class "
                 "like \"2xx\"",
                 scalar(it));
            goto fail;
        }
    }
    free(e->status);
    e->status = r;
    e->n_status = cnt;
    return;
fail:
    free(r);
}

static bool parse_json_path(const char *s, struct json_expect *j)
{
    const char *q = s;
    if (!*q)
        return false;
    while (*q) {
        struct json_step st = {NULL, 0};
        if (*q == '[') {
            q++;
            if (*q < '0' || *q > '9')
                return false;
            char *end;
            errno = 0;
            st.index = strtol(q, &end, 10);
            if (errno || *end != ']')
                return false;
            q = end + 1;
        } else {
            const char *start = q;
            while (*q && *q != '.' && *q != '[')
                q++;
            if (q == start)
                return false;
            st.key = xstrndup(start, (size_t)(q - start));
        }
        j->steps = xrealloc(j->steps, (j->n_steps + 1) * sizeof(*j->steps));
        j->steps[j->n_steps++] = st;
        if (*q == '.') {
            q++;
            if (!*q || *q == '.' || *q == '[')
                return false;
        } else if (*q && *q != '[') {
            return false;
        }
    }
    return true;
}

static void json_expect_free(struct json_expect *j)
{
    free(j->path);
    for (size_t i = 0; i < j->n_steps; i++)
        free(j->steps[i].key);
    free(j->steps);
    free(j->equals);
}

struct json_parse {
    struct json_expect *j;
    bool has_path, has_op;
};

static bool json_key(struct pctx *p, const char *key, yaml_node_t *v, const char *path, void *arg)
{
    struct json_parse *jp = arg;
    if (strcmp(key, "path") == 0) {
        if (!want_scalar(p, v, path))
            return true;
        jp->has_path = true;
        jp->j->path = xstrdup(scalar(v));
        if (!parse_json_path(scalar(v), jp->j))
            perr(p, v, path, "\"%s\" is not a JSON path (use a.b[0].c)", scalar(v));
    } else if (strcmp(key, "equals") == 0) {
        if (jp->has_op) {
            perr(p, v, path, "use either equals or exists, not both");
            return true;
        }
        jp->has_op = true;
        if (!want_scalar(p, v, path))
            return true;
        jp->j->equals = xstrdup(scalar(v));
        jp->j->equals_quoted = !is_plain(v);
    } else if (strcmp(key, "exists") == 0) {
        if (jp->has_op) {
            perr(p, v, path, "use either equals or exists, not both");
            return true;
        }
        jp->has_op = true;
        jp->j->is_exists = true;
        (void)get_bool(p, v, path, &jp->j->exists);
    } else {
        return false;
    }
    return true;
}

static void get_json(struct pctx *p, const yaml_node_t *n, const char *path, struct http_expect *e)
{
    if (!want_sequence(p, n, path))
        return;
    for (size_t i = 0; i < seq_len(n); i++) {
        char sub[PATH_CAP];
        path_index(sub, sizeof(sub), path, i);
        yaml_node_t *it = seq_item(p, n, i);
        if (!it || !want_mapping(p, it, sub))
            continue;
        struct json_expect j = {0};
        struct json_parse jp = {&j, false, false};
        int before = p->n_errors;
        walk_map(p, it, sub, json_key, &jp);
        if (!jp.has_path)
            perr(p, it, sub, "missing key \"path\"");
        if (!jp.has_op)
            perr(p, it, sub, "needs \"equals\" or \"exists\"");
        if (p->n_errors != before) {
            json_expect_free(&j);
            continue;
        }
        e->json = xrealloc(e->json, (e->n_json + 1) * sizeof(*e->json));
        e->json[e->n_json++] = j;
    }
}

static bool header_name_ok(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        /* RFC 9110 token characters. */
        if (!(c > 0x20 && c < 0x7f && !strchr("\"(),/:;<=>?@[\\]{}", c)))
            return false;
    }
    return true;
}

static bool expect_headers_key(struct pctx *p, const char *key, yaml_node_t *v, const char *path,
                               void *arg)
{
    struct http_expect *e = arg;
    if (!header_name_ok(key)) {
        perr(p, v, path, "\"%s\" is not a valid header name", key);
        return true;
    }
    struct regex re;
    if (compile_regex(p, v, path, &re)) {
        e->headers = xrealloc(e->headers, (e->n_headers + 1) * sizeof(*e->headers));
        e->headers[e->n_headers].name = xstrdup(key);
        e->headers[e->n_headers].re = re;
        e->n_headers++;
    }
    return true;
}

static bool expect_key(struct pctx *p, const char *key, yaml_node_t *v, const char *path, void *arg)
{
    struct http_expect *e = arg;
    if (strcmp(key, "status") == 0) {
        get_status(p, v, path, e);
    } else if (strcmp(key, "body_matches") == 0) {
        get_regex_list(p, v, path, &e->body_matches, &e->n_body_matches);
    } else if (strcmp(key, "body_not_matches") == 0) {
        get_regex_list(p, v, path, &e->body_not_matches, &e->n_body_not_matches);
    } else if (strcmp(key, "headers") == 0) {
        if (want_mapping(p, v, path))
            walk_map(p, v, path, expect_headers_key, e);
    } else if (strcmp(key, "json") == 0) {
        get_json(p, v, path, e);
    } else if (strcmp(key, "max_duration") == 0) {
        (void)get_duration(p, v, path, &e->max_duration_ms);
    } else {
        return false;
    }
    return true;
}

/* ---- check ---- */

static bool tls_key(struct pctx *p, const char *key, yaml_node_t *v, const char *path, void *arg)
{
    struct tls_spec *t = arg;
    char **dst = NULL;
    if (strcmp(key, "ca_file") == 0)
        dst = &t->ca_file;
    else if (strcmp(key, "cert_file") == 0)
        dst = &t->cert_file;
    else if (strcmp(key, "key_file") == 0)
        dst = &t->key_file;
    else if (strcmp(key, "server_name") == 0)
        dst = &t->server_name;
    else if (strcmp(key, "insecure_skip_verify") == 0)
        (void)get_bool(p, v, path, &t->insecure_skip_verify);
    else
        return false;
    if (dst && get_str(p, v, path, false, dst) && dst != &t->server_name) {
        FILE *f = fopen(*dst, "rb");
        if (!f)
            perr(p, v, path, "cannot read %s: %s", *dst, strerror(errno));
        else
            fclose(f);
    }
    return true;
}

struct check_parse {
    struct check_spec *c;
    const yaml_node_t *timeout_node, *interval_node;
    bool has_url, has_user, has_pass;
};

static bool basic_auth_key(struct pctx *p, const char *key, yaml_node_t *v, const char *path,
                           void *arg)
{
    struct check_parse *cp = arg;
    if (strcmp(key, "username") == 0) {
        /* Present even if it fails to resolve: that error is enough. */
        cp->has_user = true;
        (void)get_str(p, v, path, true, &cp->c->basic_user);
    } else if (strcmp(key, "password") == 0) {
        cp->has_pass = get_str(p, v, path, true, &cp->c->basic_pass);
    } else {
        return false;
    }
    return true;
}

static bool no_crlf(const char *s)
{
    return !strpbrk(s, "\r\n");
}

static bool check_headers_key(struct pctx *p, const char *key, yaml_node_t *v, const char *path,
                              void *arg)
{
    struct check_spec *c = arg;
    if (!header_name_ok(key)) {
        perr(p, v, path, "\"%s\" is not a valid header name", key);
        return true;
    }
    char *val = NULL;
    if (!get_str(p, v, path, true, &val))
        return true;
    if (!no_crlf(val)) {
        /* The value may be a secret: say what is wrong, not what it is. */
        perr(p, v, path, "header value must not contain line breaks");
        free(val);
        return true;
    }
    c->headers = xrealloc(c->headers, (c->n_headers + 1) * sizeof(*c->headers));
    c->headers[c->n_headers].name = xstrdup(key);
    c->headers[c->n_headers].value = val;
    c->n_headers++;
    return true;
}

static bool check_url(struct pctx *p, const yaml_node_t *n, const char *path, struct check_spec *c,
                      const char *raw);

static bool check_key(struct pctx *p, const char *key, yaml_node_t *v, const char *path, void *arg)
{
    struct check_parse *cp = arg;
    struct check_spec *c = cp->c;
    if (strcmp(key, "name") == 0) {
        (void)get_str(p, v, path, false, &c->name);
    } else if (strcmp(key, "type") == 0) {
        if (get_str(p, v, path, false, &c->type) && strcmp(c->type, "http") != 0)
            perr(p, v, path, "unsupported check type \"%s\" (supported: http)", c->type);
    } else if (strcmp(key, "group") == 0) {
        (void)get_str(p, v, path, false, &c->group);
    } else if (strcmp(key, "url") == 0) {
        /* Present even if it fails to resolve: that error is enough. */
        cp->has_url = true;
        if (get_str(p, v, path, true, &c->url))
            (void)check_url(p, v, path, c, scalar(v));
    } else if (strcmp(key, "method") == 0) {
        if (get_str(p, v, path, false, &c->method) && !header_name_ok(c->method))
            perr(p, v, path, "\"%s\" is not an HTTP method", c->method);
    } else if (strcmp(key, "headers") == 0) {
        if (want_mapping(p, v, path))
            walk_map(p, v, path, check_headers_key, c);
    } else if (strcmp(key, "body") == 0) {
        (void)get_str(p, v, path, true, &c->body);
    } else if (strcmp(key, "interval") == 0) {
        if (get_duration(p, v, path, &c->interval_ms))
            cp->interval_node = v;
    } else if (strcmp(key, "timeout") == 0) {
        if (get_duration(p, v, path, &c->timeout_ms))
            cp->timeout_node = v;
    } else if (strcmp(key, "follow_redirects") == 0) {
        (void)get_bool(p, v, path, &c->follow_redirects);
    } else if (strcmp(key, "ip_protocol") == 0) {
        if (!want_scalar(p, v, path))
            return true;
        const char *s = scalar(v);
        if (strcmp(s, "ip4") == 0)
            c->ip_protocol = IP_PROTO_4;
        else if (strcmp(s, "ip6") == 0)
            c->ip_protocol = IP_PROTO_6;
        else if (strcmp(s, "auto") == 0)
            c->ip_protocol = IP_PROTO_AUTO;
        else
            perr(p, v, path, "\"%s\" is not one of ip4, ip6, auto", s);
    } else if (strcmp(key, "reuse_connection") == 0) {
        (void)get_bool(p, v, path, &c->reuse_connection);
    } else if (strcmp(key, "basic_auth") == 0) {
        if (want_mapping(p, v, path)) {
            walk_map(p, v, path, basic_auth_key, cp);
            if (!cp->has_user)
                perr(p, v, path, "missing key \"username\"");
            if (!cp->has_pass) {
                free(c->basic_pass);
                c->basic_pass = xstrdup("");
            }
        }
    } else if (strcmp(key, "bearer_token") == 0) {
        if (get_str(p, v, path, true, &c->bearer_token) && !no_crlf(c->bearer_token))
            perr(p, v, path, "bearer token must not contain line breaks");
    } else if (strcmp(key, "tls") == 0) {
        if (want_mapping(p, v, path))
            walk_map(p, v, path, tls_key, &c->tls);
    } else if (strcmp(key, "max_body_bytes") == 0) {
        (void)get_size(p, v, path, &c->max_body_bytes);
    } else if (strcmp(key, "expect") == 0) {
        if (want_mapping(p, v, path))
            walk_map(p, v, path, expect_key, &c->expect);
    } else if (strcmp(key, "histogram_buckets") == 0) {
        (void)get_buckets(p, v, path, &c->buckets, &c->n_buckets);
    } else {
        return false;
    }
    return true;
}

/*
 * The `target` label: the URL as written in the config, before references are
 * resolved, without userinfo, query and fragment. Working on the written text
 * means a ${env:...} in the path shows as the reference, never as the secret.
 */
static char *url_target(const char *raw)
{
    const char *sep = strstr(raw, "://");
    if (!sep)
        return xstrdup(raw);
    const char *auth = sep + 3;
    size_t alen = strcspn(auth, "/?#");
    const char *at = memrchr(auth, '@', alen);
    const char *host = at ? at + 1 : auth;
    const char *rest = auth + alen;
    size_t plen = strcspn(rest, "?#");
    struct buf b;
    buf_init(&b, strlen(raw) + 1);
    buf_add(&b, raw, (size_t)(auth - raw));
    buf_add(&b, host, (size_t)(rest - host));
    buf_add(&b, rest, plen);
    return buf_take(&b);
}

/* Check the resolved URL and derive the label-safe target from the written
 * one (raw). Returns false on error. */
static bool check_url(struct pctx *p, const yaml_node_t *n, const char *path, struct check_spec *c,
                      const char *raw)
{
    CURLU *u = curl_url();
    bool ok = false;
    char *scheme = NULL, *host = NULL;
    if (!u)
        goto out;
    if (curl_url_set(u, CURLUPART_URL, c->url, 0) != CURLUE_OK) {
        /* The URL may embed credentials: do not echo it. */
        perr(p, n, path, "url is not a valid absolute URL");
        goto out;
    }
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
        perr(p, n, path, "url scheme must be http or https");
        goto out;
    }
    if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host) {
        perr(p, n, path, "url has no host");
        goto out;
    }
    c->target = url_target(raw);
    ok = true;
out:
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return ok;
}

static bool name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > CFG_MAX_NAME_BYTES)
        return false;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

static void check_free(struct check_spec *c)
{
    free(c->name);
    free(c->type);
    free(c->group);
    free(c->url);
    free(c->target);
    free(c->method);
    for (size_t i = 0; i < c->n_headers; i++) {
        free(c->headers[i].name);
        free(c->headers[i].value);
    }
    free(c->headers);
    free(c->body);
    free(c->basic_user);
    free(c->basic_pass);
    free(c->bearer_token);
    free(c->tls.ca_file);
    free(c->tls.cert_file);
    free(c->tls.key_file);
    free(c->tls.server_name);
    struct http_expect *e = &c->expect;
    free(e->status);
    for (size_t i = 0; i < e->n_body_matches; i++)
        regex_free(&e->body_matches[i]);
    free(e->body_matches);
    for (size_t i = 0; i < e->n_body_not_matches; i++)
        regex_free(&e->body_not_matches[i]);
    free(e->body_not_matches);
    for (size_t i = 0; i < e->n_headers; i++) {
        free(e->headers[i].name);
        regex_free(&e->headers[i].re);
    }
    free(e->headers);
    for (size_t i = 0; i < e->n_json; i++)
        json_expect_free(&e->json[i]);
    free(e->json);
    free(c->buckets);
    free(c->sched_key);
}

static bool has_header(const struct check_spec *c, const char *name)
{
    for (size_t i = 0; i < c->n_headers; i++)
        if (strcasecmp(c->headers[i].name, name) == 0)
            return true;
    return false;
}

/* Parse one `checks:` entry into c; returns false when it had errors. */
static bool parse_check(struct pctx *p, const yaml_node_t *n, const char *path,
                        struct check_spec *c)
{
    int before = p->n_errors;
    c->follow_redirects = true;
    c->max_body_bytes = CFG_DEFAULT_MAX_BODY_BYTES;
    c->line = (int)n->start_mark.line + 1;
    struct check_parse cp = {.c = c};
    walk_map(p, n, path, check_key, &cp);

    if (!c->name)
        perr(p, n, path, "missing key \"name\"");
    else if (!name_ok(c->name))
        perr(p, n, path, "name must be 1 to %d bytes without control characters",
             CFG_MAX_NAME_BYTES);
    if (!c->type)
        c->type = xstrdup("http");
    if (!c->group)
        c->group = xstrdup("");
    if (!c->method)
        c->method = xstrdup("GET");
    if (!cp.has_url)
        perr(p, n, path, "missing key \"url\"");

    if (!c->interval_ms)
        c->interval_ms = p->interval_ms;
    if (!c->timeout_ms) {
        /* An implicit timeout never exceeds the check's own interval. */
        c->timeout_ms = p->timeout_ms < c->interval_ms ? p->timeout_ms : c->interval_ms;
        /* A canary arm (sched_key set) takes its interval from the canary,
         * so there the global timeout only caps, never conflicts. */
        if (p->timeout_set && p->timeout_ms > c->interval_ms && !c->sched_key)
            perr(p, n, path, "global timeout %lldms is longer than this check's interval",
                 (long long)p->timeout_ms);
    }
    if (c->interval_ms < CFG_MIN_INTERVAL_MS)
        perr(p, cp.interval_node ? cp.interval_node : n, path, "interval must be at least %dms",
             CFG_MIN_INTERVAL_MS);
    if (c->timeout_ms > c->interval_ms)
        perr(p, cp.timeout_node ? cp.timeout_node : n, path,
             "timeout (%lldms) must not be longer than interval (%lldms)", (long long)c->timeout_ms,
             (long long)c->interval_ms);
    if (c->expect.max_duration_ms > c->timeout_ms)
        perr(p, n, path, "expect.max_duration is longer than timeout, it could never fail");
    if (!c->expect.n_status) {
        c->expect.status = xcalloc(1, sizeof(*c->expect.status));
        c->expect.status[0] = (struct status_range){200, 299};
        c->expect.n_status = 1;
    }
    int auths =
        (c->basic_user != NULL) + (c->bearer_token != NULL) + has_header(c, "Authorization");
    if (auths > 1)
        perr(p, n, path, "use only one of basic_auth, bearer_token and an Authorization header");
    if ((c->tls.cert_file == NULL) != (c->tls.key_file == NULL))
        perr(p, n, path, "tls.cert_file and tls.key_file go together");
    if (!c->buckets) {
        c->n_buckets = p->n_buckets;
        c->buckets = xcalloc(c->n_buckets, sizeof(double));
        memcpy(c->buckets, p->buckets, c->n_buckets * sizeof(double));
    }
    return p->n_errors == before;
}

/* Sort helper for the duplicate-name check: by name, then by position, so
 * each run of equal names starts with the first use. */
static int cmp_name_idx(const void *a, const void *b, void *arg)
{
    const struct check_spec *cs = arg;
    size_t ia = *(const size_t *)a, ib = *(const size_t *)b;
    /* Entries without a name (already an error) sort first, as "". */
    int r = strcmp(cs[ia].name ? cs[ia].name : "", cs[ib].name ? cs[ib].name : "");
    return r ? r : (ia > ib) - (ia < ib);
}

static void check_duplicates(struct pctx *p, struct cfg *c, const yaml_node_t *seq)
{
    if (c->n_checks < 2)
        return;
    size_t *idx = xcalloc(c->n_checks, sizeof(*idx));
    for (size_t i = 0; i < c->n_checks; i++)
        idx[i] = i;
    qsort_r(idx, c->n_checks, sizeof(*idx), cmp_name_idx, c->checks);
    size_t first = idx[0];
    for (size_t i = 1; i < c->n_checks; i++) {
        const struct check_spec *a = &c->checks[first];
        const struct check_spec *b = &c->checks[idx[i]];
        if (!a->name || !b->name || strcmp(a->name, b->name) != 0) {
            first = idx[i];
            continue;
        }
        char path[PATH_CAP];
        path_index(path, sizeof(path), "checks", idx[i]);
        perr(p, seq_item(p, seq, idx[i]), path,
             "duplicate check name \"%s\" (first used at line %d)", b->name, a->line);
    }
    free(idx);
}

static void parse_checks(struct pctx *p, const yaml_node_t *n, struct cfg *c)
{
    if (!want_sequence(p, n, "checks"))
        return;
    size_t cnt = seq_len(n);
    if (cnt > CFG_MAX_CHECKS) {
        perr(p, n, "checks", "more than %d checks", CFG_MAX_CHECKS);
        return;
    }
    c->checks = xcalloc(cnt ? cnt : 1, sizeof(*c->checks));
    /* Every entry gets a slot, also a broken one, so slot i is entry i. */
    c->n_checks = cnt;
    for (size_t i = 0; i < cnt; i++) {
        char path[PATH_CAP];
        path_index(path, sizeof(path), "checks", i);
        yaml_node_t *it = seq_item(p, n, i);
        if (it && want_mapping(p, it, path))
            (void)parse_check(p, it, path, &c->checks[i]);
    }
    check_duplicates(p, c, n);
}

/* ---- slos ---- */

__attribute__((format(printf, 4, 5))) static void pwarn(struct pctx *p, struct cfg *c,
                                                        const yaml_node_t *n, const char *fmt, ...)
{
    buf_addf(&c->warnings, "%s:%zu:%zu: ", p->file, n->start_mark.line + 1,
             n->start_mark.column + 1);
    va_list ap;
    va_start(ap, fmt);
    buf_vaddf(&c->warnings, fmt, ap);
    va_end(ap);
    buf_addc(&c->warnings, '\n');
}

static bool get_number(struct pctx *p, const yaml_node_t *n, const char *path, double *out)
{
    if (!want_scalar(p, n, path))
        return false;
    if (!parse_double(scalar(n), out)) {
        perr(p, n, path, "\"%s\" is not a number", scalar(n));
        return false;
    }
    return true;
}

/* A Prometheus label name that is not reserved (__ prefix). */
static bool prom_label_name(const char *s)
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

/* An SLO label: not one outpost_slo_info sets itself. */
static bool label_name_ok(const char *s)
{
    return prom_label_name(s) && strcmp(s, "slo") != 0 && strcmp(s, "sli") != 0 &&
           strcmp(s, "period") != 0 && strcmp(s, "objective") != 0;
}

struct slo_parse {
    struct slo_spec *s;
    const yaml_node_t *checks_node;
    bool has_period, has_calendar, has_objective, has_sli;
};

static bool latency_key(struct pctx *p, const char *key, yaml_node_t *v, const char *path,
                        void *arg)
{
    struct slo_spec *s = arg;
    if (strcmp(key, "threshold") != 0)
        return false;
    (void)get_duration(p, v, path, &s->latency_threshold_ms);
    return true;
}

static bool sli_key(struct pctx *p, const char *key, yaml_node_t *v, const char *path, void *arg)
{
    struct slo_parse *sp = arg;
    struct slo_spec *s = sp->s;
    if (strcmp(key, "checks") == 0) {
        if (!want_sequence(p, v, path))
            return true;
        sp->checks_node = v;
        size_t n = seq_len(v);
        s->checks = xcalloc(n ? n : 1, sizeof(char *));
        for (size_t i = 0; i < n; i++) {
            char sub[PATH_CAP];
            path_index(sub, sizeof(sub), path, i);
            yaml_node_t *it = seq_item(p, v, i);
            if (it && get_str(p, it, sub, false, &s->checks[s->n_checks]))
                s->n_checks++;
        }
    } else if (strcmp(key, "latency") == 0) {
        s->latency = true;
        if (want_mapping(p, v, path))
            walk_map(p, v, path, latency_key, s);
        if (!s->latency_threshold_ms)
            perr(p, v, path, "missing key \"threshold\"");
    } else {
        return false;
    }
    return true;
}

static bool policy_key(struct pctx *p, const char *key, yaml_node_t *v, const char *path, void *arg)
{
    struct slo_spec *s = arg;
    if (strcmp(key, "freeze_when_consumed") == 0) {
        if (get_number(p, v, path, &s->freeze_when_consumed) &&
            !(s->freeze_when_consumed > 0 && s->freeze_when_consumed <= 1))
            perr(p, v, path, "must be above 0 and at most 1 (a share of the budget)");
    } else if (strcmp(key, "over") == 0) {
        if (get_duration(p, v, path, &s->policy_over_ms) &&
            (s->policy_over_ms % 3600000 != 0 || s->policy_over_ms > CFG_MAX_PERIOD_MS))
            perr(p, v, path, "must be whole hours, at most 90d");
    } else {
        return false;
    }
    return true;
}

static bool slo_labels_key(struct pctx *p, const char *key, yaml_node_t *v, const char *path,
                           void *arg)
{
    struct slo_spec *s = arg;
    if (!label_name_ok(key)) {
        perr(p, v, path,
             "\"%s\" is not a usable label name ([a-zA-Z_][a-zA-Z0-9_]*, not slo, sli, period, "
             "objective, not starting with __)",
             key);
        return true;
    }
    char *val = NULL;
    if (get_str(p, v, path, false, &val)) {
        s->labels = xrealloc(s->labels, (s->n_labels + 1) * sizeof(*s->labels));
        s->labels[s->n_labels].name = xstrdup(key);
        s->labels[s->n_labels].value = val;
        s->n_labels++;
    }
    return true;
}

static bool slo_key(struct pctx *p, const char *key, yaml_node_t *v, const char *path, void *arg)
{
    struct slo_parse *sp = arg;
    struct slo_spec *s = sp->s;
    if (strcmp(key, "name") == 0) {
        (void)get_str(p, v, path, false, &s->name);
    } else if (strcmp(key, "objective") == 0) {
        double pct;
        sp->has_objective = true;
        if (get_number(p, v, path, &pct)) {
            if (!(pct > 0 && pct < 100))
                perr(p, v, path, "objective is a percentage above 0 and below 100");
            /* "99.9" read as "99.9e-2" is the double nearest 0.999, and the
             * budget computed in long double rounds to exactly 0.001; pct /
             * 100 and 1 - that would both carry binary noise into every
             * burn rate. */
            struct buf t;
            buf_init(&t, 256);
            buf_addf(&t, "%se-2", scalar(v));
            long double o = strtold(buf_str(&t), NULL);
            buf_free(&t);
            s->objective = (double)o;
            s->budget = (double)(1.0L - o);
            s->objective_label = xstrdup(scalar(v));
        }
    } else if (strcmp(key, "period") == 0) {
        sp->has_period = true;
        if (get_duration(p, v, path, &s->period_ms)) {
            if (s->period_ms % 3600000 != 0 || s->period_ms < 86400000 ||
                s->period_ms > CFG_MAX_PERIOD_MS)
                perr(p, v, path, "period must be whole hours from 1d to 90d");
            s->period_label = xstrdup(scalar(v));
        }
    } else if (strcmp(key, "calendar") == 0) {
        sp->has_calendar = true;
        if (want_scalar(p, v, path)) {
            if (strcmp(scalar(v), "month") != 0)
                perr(p, v, path, "\"%s\" is not supported (use month)", scalar(v));
            s->calendar_month = true;
        }
    } else if (strcmp(key, "sli") == 0) {
        sp->has_sli = true;
        if (want_mapping(p, v, path))
            walk_map(p, v, path, sli_key, sp);
    } else if (strcmp(key, "min_events") == 0) {
        if (want_scalar(p, v, path)) {
            long n;
            if (!parse_long(scalar(v), &n) || n < 0)
                perr(p, v, path, "\"%s\" is not a whole number >= 0", scalar(v));
            else
                s->min_events = (uint64_t)n;
        }
    } else if (strcmp(key, "policy") == 0) {
        s->has_policy = true;
        if (want_mapping(p, v, path)) {
            walk_map(p, v, path, policy_key, s);
            if (!s->freeze_when_consumed || !s->policy_over_ms)
                perr(p, v, path, "policy needs freeze_when_consumed and over");
        }
    } else if (strcmp(key, "labels") == 0) {
        if (want_mapping(p, v, path))
            walk_map(p, v, path, slo_labels_key, s);
    } else {
        return false;
    }
    return true;
}

static void slo_free(struct slo_spec *s)
{
    free(s->name);
    free(s->objective_label);
    free(s->period_label);
    for (size_t i = 0; i < s->n_checks; i++)
        free(s->checks[i]);
    free(s->checks);
    free(s->check_idx);
    for (size_t i = 0; i < s->n_labels; i++) {
        free(s->labels[i].name);
        free(s->labels[i].value);
    }
    free(s->labels);
}

static int cmp_str_ptr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Identity of the SLI definition: the set of checks and the threshold. The
 * objective, period and policy are not part of it, so changing them keeps
 * the recorded events. */
static uint64_t slo_identity(const struct slo_spec *s)
{
    char **sorted = xcalloc(s->n_checks ? s->n_checks : 1, sizeof(char *));
    memcpy(sorted, s->checks, s->n_checks * sizeof(char *));
    qsort(sorted, s->n_checks, sizeof(char *), cmp_str_ptr);
    struct buf b;
    buf_init(&b, SIZE_MAX / 2);
    buf_addf(&b, "latency=%lld\n", s->latency ? (long long)s->latency_threshold_ms : -1LL);
    for (size_t i = 0; i < s->n_checks; i++)
        buf_addf(&b, "%s\n", sorted[i]);
    uint64_t h = hash_str(buf_str(&b));
    buf_free(&b);
    free(sorted);
    return h;
}

static long find_check(const struct cfg *c, const char *name)
{
    for (size_t i = 0; i < c->n_checks; i++)
        if (c->checks[i].name && strcmp(c->checks[i].name, name) == 0)
            return (long)i;
    return -1;
}

/* Warnings of issue 3: tiers that can never fire, budgets below one probe. */
static void slo_warnings(struct pctx *p, struct cfg *c, const yaml_node_t *n,
                         const struct slo_spec *s)
{
    static const char *const tier_names[SLO_TIERS] = {"page 1h/5m", "page 6h/30m", "ticket 1d/2h",
                                                      "ticket 3d/6h"};
    /* Calendar months: the shortest month bounds the factors from below. */
    int64_t period = s->calendar_month ? 28LL * 86400000 : s->period_ms;
    double eps = s->budget;
    double f[SLO_TIERS];
    slo_tier_factors(period, f);
    for (int t = 0; t < SLO_TIERS; t++) {
        if (f[t] * eps >= 1.0)
            pwarn(p, c, n,
                  "slo %s: alert tier %s can never fire: it needs an error ratio above %.4g, "
                  "more than 100 %% of events",
                  s->name, tier_names[t], f[t] * eps);
    }
    double per_period = 0;
    for (size_t i = 0; i < s->n_checks; i++) {
        const struct check_spec *cs = &c->checks[s->check_idx[i]];
        per_period += (double)period / (double)cs->interval_ms;
    }
    if (per_period * eps < 1.0)
        pwarn(p, c, n,
              "slo %s: its error budget (%.3g bad events per period at the configured "
              "intervals) is smaller than one probe: a single failure exhausts it",
              s->name, per_period * eps);
}

static void parse_slos(struct pctx *p, const yaml_node_t *n, struct cfg *c)
{
    if (!want_sequence(p, n, "slos"))
        return;
    size_t cnt = seq_len(n);
    if (cnt > CFG_MAX_SLOS) {
        perr(p, n, "slos", "more than %d SLOs", CFG_MAX_SLOS);
        return;
    }
    c->slos = xcalloc(cnt ? cnt : 1, sizeof(*c->slos));
    c->n_slos = cnt;
    for (size_t i = 0; i < cnt; i++) {
        char path[PATH_CAP];
        path_index(path, sizeof(path), "slos", i);
        yaml_node_t *it = seq_item(p, n, i);
        if (!it || !want_mapping(p, it, path))
            continue;
        int before = p->n_errors;
        struct slo_spec *s = &c->slos[i];
        s->min_events = CFG_DEFAULT_MIN_EVENTS;
        s->line = (int)it->start_mark.line + 1;
        struct slo_parse sp = {.s = s};
        walk_map(p, it, path, slo_key, &sp);
        if (!s->name)
            perr(p, it, path, "missing key \"name\"");
        else if (!name_ok(s->name))
            perr(p, it, path, "name must be 1 to %d bytes without control characters",
                 CFG_MAX_NAME_BYTES);
        if (!sp.has_objective)
            perr(p, it, path, "missing key \"objective\" (a percentage, e.g. 99.9)");
        if (sp.has_period && sp.has_calendar)
            perr(p, it, path, "use either period or calendar, not both");
        if (!sp.has_period && !sp.has_calendar) {
            s->period_ms = 30LL * 86400000;
            s->period_label = xstrdup("30d");
        }
        if (s->calendar_month) {
            s->period_ms = 0;
            free(s->period_label);
            s->period_label = xstrdup("month");
        }
        if (s->has_policy && s->policy_over_ms && !s->calendar_month &&
            s->policy_over_ms > s->period_ms)
            perr(p, it, path, "policy.over is longer than the period");
        if (!sp.has_sli || !s->n_checks) {
            perr(p, it, path, "sli needs a non-empty \"checks\" list");
        } else {
            s->check_idx = xcalloc(s->n_checks, sizeof(size_t));
            for (size_t k = 0; k < s->n_checks; k++) {
                long idx = find_check(c, s->checks[k]);
                char sli_path[PATH_CAP], sub[PATH_CAP];
                path_key(sli_path, sizeof(sli_path), path, "sli.checks");
                path_index(sub, sizeof(sub), sli_path, k);
                if (idx < 0)
                    perr(p, seq_item(p, sp.checks_node, k), sub, "no check named \"%s\"",
                         s->checks[k]);
                else
                    s->check_idx[k] = (size_t)idx;
                for (size_t j = 0; j < k; j++)
                    if (strcmp(s->checks[j], s->checks[k]) == 0)
                        perr(p, seq_item(p, sp.checks_node, k), sub, "check \"%s\" listed twice",
                             s->checks[k]);
            }
        }
        if (p->n_errors != before)
            continue;
        for (size_t j = 0; j < i; j++)
            if (c->slos[j].name && strcmp(c->slos[j].name, s->name) == 0)
                perr(p, it, path, "duplicate SLO name \"%s\" (first used at line %d)", s->name,
                     c->slos[j].line);
        s->identity = slo_identity(s);
        slo_warnings(p, c, it, s);
    }
}

/* ---- canaries ---- */

struct canary_parse {
    struct canary_spec *k;
    const yaml_node_t *arm_node[2]; /* inline spec */
    const yaml_node_t *arm_ref[2];  /* baseline_check / canary_check */
    char *arm_name[2];
    const yaml_node_t *interval_node;
};

static void get_ratio(struct pctx *p, const yaml_node_t *v, const char *path, double *out,
                      double lo, double hi, bool lo_open, bool hi_open)
{
    double x;
    if (!get_number(p, v, path, &x))
        return;
    if ((lo_open ? x <= lo : x < lo) || (hi_open ? x >= hi : x > hi)) {
        perr(p, v, path, "must be %s %g and %s %g", lo_open ? "above" : "at least", lo,
             hi_open ? "below" : "at most", hi);
        return;
    }
    *out = x;
}

static bool canary_key(struct pctx *p, const char *key, yaml_node_t *v, const char *path, void *arg)
{
    struct canary_parse *cp = arg;
    struct canary_spec *k = cp->k;
    struct canary_settings *st = &k->settings;
    if (strcmp(key, "name") == 0) {
        (void)get_str(p, v, path, false, &k->name);
    } else if (strcmp(key, "baseline") == 0 || strcmp(key, "canary") == 0) {
        int arm = key[0] == 'c';
        if (want_mapping(p, v, path))
            cp->arm_node[arm] = v;
    } else if (strcmp(key, "baseline_check") == 0 || strcmp(key, "canary_check") == 0) {
        int arm = key[0] == 'c';
        if (get_str(p, v, path, false, &cp->arm_name[arm]))
            cp->arm_ref[arm] = v;
    } else if (strcmp(key, "interval") == 0) {
        if (get_duration(p, v, path, &k->interval_ms))
            cp->interval_node = v;
    } else if (strcmp(key, "window") == 0) {
        (void)get_duration(p, v, path, &k->window_ms);
    } else if (strcmp(key, "min_samples") == 0) {
        if (want_scalar(p, v, path)) {
            long n;
            if (!parse_long(scalar(v), &n) || n < 1 || n > 1000000)
                perr(p, v, path, "\"%s\" is not a whole number from 1 to 1000000", scalar(v));
            else
                st->min_samples = (unsigned)n;
        }
    } else if (strcmp(key, "alpha") == 0) {
        get_ratio(p, v, path, &st->alpha, 0, 1, true, true);
    } else if (strcmp(key, "error_ratio_margin") == 0) {
        get_ratio(p, v, path, &st->error_ratio_margin, 0, 1, false, true);
    } else if (strcmp(key, "error_ratio_ceiling") == 0) {
        st->has_ceiling = true;
        get_ratio(p, v, path, &st->error_ratio_ceiling, 0, 1, false, true);
    } else if (strcmp(key, "latency_p95_margin") == 0) {
        get_ratio(p, v, path, &st->latency_p95_margin, 0, 1000, false, false);
    } else if (strcmp(key, "latency_confidence") == 0) {
        get_ratio(p, v, path, &st->latency_confidence, 0, 1, true, true);
    } else if (strcmp(key, "allowed_increase") == 0) {
        get_ratio(p, v, path, &st->allowed_increase, 1, 1000, false, false);
    } else {
        return false;
    }
    return true;
}

static void parse_canaries(struct pctx *p, const yaml_node_t *n, struct cfg *c)
{
    static const char *const arm_names[2] = {"baseline", "canary"};
    if (!want_sequence(p, n, "canaries"))
        return;
    size_t cnt = seq_len(n);
    if (cnt > CFG_MAX_CANARIES) {
        perr(p, n, "canaries", "more than %d canaries", CFG_MAX_CANARIES);
        return;
    }
    c->canaries = xcalloc(cnt ? cnt : 1, sizeof(*c->canaries));
    c->n_canaries = cnt;
    /* Room for two inline arms per canary: checks never move afterwards. */
    c->checks = xrealloc(c->checks, (c->n_checks + 2 * cnt + 1) * sizeof(*c->checks));
    for (size_t i = 0; i < cnt; i++) {
        char path[PATH_CAP];
        path_index(path, sizeof(path), "canaries", i);
        yaml_node_t *it = seq_item(p, n, i);
        struct canary_spec *k = &c->canaries[i];
        canary_settings_default(&k->settings);
        k->interval_ms = 1000;
        k->window_ms = 600000;
        k->line = it ? (int)it->start_mark.line + 1 : 0;
        if (!it || !want_mapping(p, it, path))
            continue;
        int before = p->n_errors;
        struct canary_parse cp = {.k = k};
        walk_map(p, it, path, canary_key, &cp);
        if (!k->name)
            perr(p, it, path, "missing key \"name\"");
        else if (!name_ok(k->name))
            perr(p, it, path, "name must be 1 to %d bytes without control characters",
                 CFG_MAX_NAME_BYTES);
        if (k->interval_ms < CFG_MIN_INTERVAL_MS)
            perr(p, cp.interval_node ? cp.interval_node : it, path,
                 "interval must be at least %dms", CFG_MIN_INTERVAL_MS);
        if (k->window_ms < k->interval_ms)
            perr(p, it, path, "window must not be shorter than interval");
        if (p->n_errors == before) {
            for (size_t j = 0; j < i; j++)
                if (c->canaries[j].name && strcmp(c->canaries[j].name, k->name) == 0)
                    perr(p, it, path, "duplicate canary name \"%s\" (first used at line %d)",
                         k->name, c->canaries[j].line);
        }
        for (int arm = 0; arm < 2; arm++) {
            char apath[PATH_CAP];
            path_key(apath, sizeof(apath), path, arm_names[arm]);
            if (!!cp.arm_node[arm] + !!cp.arm_ref[arm] != 1) {
                perr(p, it, path, "needs exactly one of %s and %s_check", arm_names[arm],
                     arm_names[arm]);
            } else if (cp.arm_ref[arm]) {
                long idx = find_check(c, cp.arm_name[arm]);
                if (idx < 0)
                    perr(p, cp.arm_ref[arm], apath, "no check named \"%s\"", cp.arm_name[arm]);
                else
                    k->arm_check[arm] = (size_t)idx;
            } else if (k->name && p->n_errors == before) {
                /* An inline arm is a check of its own, named after the
                 * canary, on the canary's interval and shared phase. */
                struct check_spec *cs = &c->checks[c->n_checks];
                memset(cs, 0, sizeof(*cs));
                struct buf nm;
                buf_init(&nm, 1024);
                buf_addf(&nm, "%s/%s", k->name, arm_names[arm]);
                cs->name = buf_take(&nm);
                char *given = cs->name;
                cs->interval_ms = k->interval_ms;
                cs->sched_key = xstrdup(k->name);
                (void)parse_check(p, cp.arm_node[arm], apath, cs);
                if (cs->name != given || strcmp(cs->name, given) != 0)
                    perr(p, cp.arm_node[arm], apath, "an arm takes its name from the canary");
                if (cs->interval_ms != k->interval_ms)
                    perr(p, cp.arm_node[arm], apath,
                         "an arm runs at the canary's interval; set interval on the canary");
                if (find_check(c, cs->name) >= 0)
                    perr(p, cp.arm_node[arm], apath, "a check named \"%s\" already exists",
                         cs->name);
                k->arm_check[arm] = c->n_checks++;
                k->inline_arms[arm] = true;
            }
            free(cp.arm_name[arm]);
        }
        if (p->n_errors == before) {
            struct buf id;
            buf_init(&id, SIZE_MAX / 2);
            for (int arm = 0; arm < 2; arm++) {
                const struct check_spec *cs = &c->checks[k->arm_check[arm]];
                buf_addf(&id, "%s %s\n", cs->method, cs->url);
            }
            k->identity = hash_str(buf_str(&id));
            buf_free(&id);
        }
    }
}

/* ---- alerting ---- */

static bool ext_label_key(struct pctx *p, const char *key, yaml_node_t *v, const char *path,
                          void *arg)
{
    struct alerting_spec *a = arg;
    static const char *const reserved[] = {"alertname", "severity", "check", "slo", "canary"};
    bool bad = !prom_label_name(key);
    for (size_t i = 0; i < ARRAY_SIZE(reserved); i++)
        bad = bad || strcmp(key, reserved[i]) == 0;
    if (bad) {
        perr(p, v, path,
             "\"%s\" cannot be an external label (a label name not used by the "
             "alerts themselves)",
             key);
        return true;
    }
    char *val = NULL;
    if (get_str(p, v, path, false, &val)) {
        a->external_labels =
            xrealloc(a->external_labels, (a->n_external_labels + 1) * sizeof(*a->external_labels));
        a->external_labels[a->n_external_labels].name = xstrdup(key);
        a->external_labels[a->n_external_labels].value = val;
        a->n_external_labels++;
    }
    return true;
}

static bool url_ok(const char *u)
{
    CURLU *h = curl_url();
    char *scheme = NULL;
    bool ok = h && curl_url_set(h, CURLUPART_URL, u, 0) == CURLUE_OK &&
              curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
              (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0);
    curl_free(scheme);
    curl_url_cleanup(h);
    return ok;
}

static bool alerting_key(struct pctx *p, const char *key, yaml_node_t *v, const char *path,
                         void *arg)
{
    struct alerting_spec *a = arg;
    if (strcmp(key, "alertmanagers") == 0) {
        if (!want_sequence(p, v, path))
            return true;
        size_t n = seq_len(v);
        if (n > CFG_MAX_ALERTMANAGERS) {
            perr(p, v, path, "at most %d Alertmanagers", CFG_MAX_ALERTMANAGERS);
            return true;
        }
        a->alertmanagers = xcalloc(n ? n : 1, sizeof(char *));
        a->alertmanager_names = xcalloc(n ? n : 1, sizeof(char *));
        for (size_t i = 0; i < n; i++) {
            char sub[PATH_CAP];
            path_index(sub, sizeof(sub), path, i);
            yaml_node_t *it = seq_item(p, v, i);
            char *u = NULL;
            if (!it || !get_str(p, it, sub, true, &u))
                continue;
            if (!url_ok(u)) {
                perr(p, it, sub, "not an http(s) URL");
                free(u);
                continue;
            }
            /* A path prefix is kept; only a trailing slash goes. */
            size_t len = strlen(u);
            while (len && u[len - 1] == '/')
                u[--len] = '\0';
            a->alertmanager_names[a->n_alertmanagers] = url_target(scalar(it));
            a->alertmanagers[a->n_alertmanagers++] = u;
        }
    } else if (strcmp(key, "resend_interval") == 0) {
        (void)get_duration(p, v, path, &a->resend_interval_ms);
    } else if (strcmp(key, "evaluation_interval") == 0) {
        if (get_duration(p, v, path, &a->evaluation_interval_ms) &&
            a->evaluation_interval_ms < 1000)
            perr(p, v, path, "must be at least 1s");
    } else if (strcmp(key, "external_labels") == 0) {
        if (want_mapping(p, v, path))
            walk_map(p, v, path, ext_label_key, a);
    } else if (strcmp(key, "runbook_url_base") == 0) {
        (void)get_str(p, v, path, false, &a->runbook_url_base);
    } else if (strcmp(key, "generator_url") == 0) {
        (void)get_str(p, v, path, false, &a->generator_url);
    } else if (strcmp(key, "check_down_after") == 0) {
        if (want_scalar(p, v, path)) {
            long n;
            if (!parse_long(scalar(v), &n) || n < 1 || n > 1000000)
                perr(p, v, path, "\"%s\" is not a whole number from 1 to 1000000", scalar(v));
            else
                a->check_down_after = (uint32_t)n;
        }
    } else if (strcmp(key, "cert_expiry_warning") == 0) {
        (void)get_duration(p, v, path, &a->cert_expiry_warn_ms);
    } else {
        return false;
    }
    return true;
}

static void alerting_free(struct alerting_spec *a)
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
    free(a->runbook_url_base);
    free(a->generator_url);
}

struct top_parse {
    struct cfg *c;
    yaml_node_t *global, *checks, *slos, *canaries, *alerting;
};

static bool top_key(struct pctx *p, const char *key, yaml_node_t *v, const char *path, void *arg)
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
    else
        return false;
    return true;
}

void cfg_free(struct cfg *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_checks; i++)
        check_free(&c->checks[i]);
    free(c->checks);
    for (size_t i = 0; i < c->n_slos; i++)
        slo_free(&c->slos[i]);
    free(c->slos);
    for (size_t i = 0; i < c->n_canaries; i++)
        free(c->canaries[i].name);
    free(c->canaries);
    alerting_free(&c->alerting);
    buf_free(&c->warnings);
    free(c->source);
    free(c);
}

enum op_rc cfg_load_string(const char *text, size_t len, const char *name, struct cfg **out,
                           struct buf *errors)
{
    enum op_rc rc = OP_ERR_INVALID;
    yaml_parser_t parser;
    yaml_document_t doc;
    bool have_parser = false, have_doc = false;
    struct cfg *c = xcalloc(1, sizeof(*c));
    c->source = xstrdup(name);
    buf_init(&c->warnings, 1u << 20);
    c->alerting.resend_interval_ms = 60000;
    c->alerting.evaluation_interval_ms = 10000;
    c->alerting.check_down_after = 3;
    c->alerting.cert_expiry_warn_ms = 14LL * 86400000;
    struct pctx p = {
        .file = name,
        .doc = &doc,
        .errors = errors,
        .interval_ms = CFG_DEFAULT_INTERVAL_MS,
        .timeout_ms = CFG_DEFAULT_TIMEOUT_MS,
    };
    p.n_buckets = ARRAY_SIZE(default_buckets);
    p.buckets = xcalloc(p.n_buckets, sizeof(double));
    memcpy(p.buckets, default_buckets, sizeof(default_buckets));

    if (len > CFG_MAX_FILE_BYTES) {
        perr(&p, NULL, NULL, "larger than %u bytes", CFG_MAX_FILE_BYTES);
        goto out;
    }
    if (!yaml_parser_initialize(&parser))
        goto out;
    have_parser = true;
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        buf_addf(errors, "%s:%zu:%zu: YAML syntax error: %s\n", name, parser.problem_mark.line + 1,
                 parser.problem_mark.column + 1, parser.problem ? parser.problem : "unknown");
        p.n_errors++;
        goto out;
    }
    have_doc = true;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root || is_null(root)) {
        perr(&p, NULL, NULL, "the file is empty; it needs at least a \"checks:\" list");
        goto out;
    }
    if (!want_mapping(&p, root, ""))
        goto out;
    struct top_parse tp = {c, NULL, NULL, NULL, NULL, NULL};
    walk_map(&p, root, "", top_key, &tp);
    if (tp.global && !is_null(tp.global) && want_mapping(&p, tp.global, "global"))
        walk_map(&p, tp.global, "global", global_key, NULL);
    if (p.timeout_ms > p.interval_ms && p.timeout_set)
        perr(&p, tp.global, "global", "timeout must not be longer than interval");
    if (tp.checks && !is_null(tp.checks))
        parse_checks(&p, tp.checks, c);
    /* Canaries and SLOs refer to checks: only meaningful once the checks are
     * valid. Canaries first: SLOs may name their inline arms. */
    if (tp.canaries && !is_null(tp.canaries) && p.n_errors == 0)
        parse_canaries(&p, tp.canaries, c);
    if (tp.slos && !is_null(tp.slos) && p.n_errors == 0)
        parse_slos(&p, tp.slos, c);
    if (tp.alerting && !is_null(tp.alerting) && want_mapping(&p, tp.alerting, "alerting"))
        walk_map(&p, tp.alerting, "alerting", alerting_key, &c->alerting);
    if (p.n_errors == 0) {
        rc = OP_OK;
        *out = c;
        c = NULL;
    }
out:
    if (p.n_errors == 0 && rc != OP_OK)
        buf_addf(errors, "%s: cannot parse (out of memory in YAML parser)\n", name);
    if (have_doc)
        yaml_document_delete(&doc);
    if (have_parser)
        yaml_parser_delete(&parser);
    free(p.buckets);
    cfg_free(c);
    return rc;
}

enum op_rc cfg_load_file(const char *path, struct cfg **out, struct buf *errors)
{
    struct buf text;
    buf_init(&text, CFG_MAX_FILE_BYTES);
    enum op_rc rc = buf_read_file(&text, path);
    if (rc == OP_ERR_LIMIT)
        buf_addf(errors, "%s: larger than %u bytes\n", path, CFG_MAX_FILE_BYTES);
    else if (rc != OP_OK)
        buf_addf(errors, "%s: cannot open: %s\n", path, strerror(errno));
    if (rc == OP_OK)
        rc = cfg_load_string(buf_str(&text), text.len, path, out, errors);
    buf_free(&text);
    return rc;
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

const struct canary_spec *cfg_find_canary(const struct cfg *c, const char *name)
{
    for (size_t i = 0; i < c->n_canaries; i++)
        if (c->canaries[i].name && strcmp(c->canaries[i].name, name) == 0)
            return &c->canaries[i];
    return NULL;
}

const char *cfg_warnings(const struct cfg *c)
{
    return buf_str(&c->warnings);
}

const char *cfg_source(const struct cfg *c)
{
    return c->source;
}
