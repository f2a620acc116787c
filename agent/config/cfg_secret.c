/*
 * cfg_secret.c - ${env:NAME} and ${file:PATH} references in config values.
 *
 * Resolved values may be secrets: they live only in the returned string,
 * every intermediate buffer is wiped before it is freed, and messages name
 * the reference (variable or file name), never what it resolved to.
 */
#include "cfg_yaml.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

FILE *cfg_open_regular(const char *path, const char **why)
{
    /* O_NONBLOCK keeps a FIFO or device from hanging the load; it has no
     * effect on regular files. */
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

/* Append n bytes of a value to a template being expanded: with
 * captures (p->capture_ref), a byte that is the capture mark is doubled so
 * it stays itself (cfg_yaml.h). */
static void add_text(struct cfg_parser *p, struct buf *out, const char *s, size_t n)
{
    if (!p->capture_ref) {
        buf_add(out, s, n);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] == CFG_CAPTURE_MARK)
            buf_addc(out, CFG_CAPTURE_MARK);
        buf_addc(out, s[i]);
    }
}

char *cfg_capture_sample(const char *tmpl)
{
    /* A marker is 2 bytes and its sample 7: four times the template holds
     * any sample. */
    struct buf out;
    buf_init(&out, 4 * strlen(tmpl) + 16);
    for (const char *q = tmpl; *q; q++) {
        if (*q != CFG_CAPTURE_MARK) {
            buf_addc(&out, *q);
        } else if (q[1] == CFG_CAPTURE_MARK) {
            buf_addc(&out, *q++);
        } else if (q[1]) {
            buf_adds(&out, "capture");
            q++;
        }
    }
    if (out.failed) { /* out of its cap: cannot happen (above) */
        buf_free(&out);
        return xstrdup("");
    }
    return buf_take(&out);
}

/* Free a buffer that may hold a secret. */
static void wipe(struct buf *b)
{
    if (b->data)
        memset(b->data, 0, b->cap);
    buf_free(b);
}

/* Append the content of the secret file fname to out; false after an error. */
static bool add_file(struct cfg_parser *p, const yaml_node_t *n, const char *path,
                     const char *fname, struct buf *out)
{
    const char *why = NULL;
    char q[CFG_MAX_QUOTED + 4];
    /* A file name is shown whole up to PATH_MAX (the user must find the
     * file); only a longer one, which no open() accepts, is clipped. */
    const char *shown = strnlen(fname, PATH_MAX) < PATH_MAX ? fname : cfg_quote(fname, q);
    FILE *f = cfg_open_regular(fname, &why);
    if (!f) {
        cfg_err(p, n, path, "cannot read %s: %s", shown, why);
        return false;
    }
    struct buf content;
    buf_init(&content, CFG_MAX_SECRET_FILE_BYTES);
    char chunk[4096];
    size_t got;
    bool ok = true;
    while (ok && (got = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (buf_add(&content, chunk, got) != OP_OK) {
            cfg_err(p, n, path, "%s is larger than %u bytes", shown, CFG_MAX_SECRET_FILE_BYTES);
            ok = false;
        }
    }
    memset(chunk, 0, sizeof(chunk));
    if (ok && ferror(f)) {
        cfg_err(p, n, path, "cannot read %s", shown);
        ok = false;
    }
    fclose(f);
    /* Files written by editors and `echo` end in a newline that is never
     * part of the secret. */
    while (ok && content.len &&
           (content.data[content.len - 1] == '\n' || content.data[content.len - 1] == '\r'))
        content.data[--content.len] = '\0';
    if (ok)
        add_text(p, out, buf_str(&content), content.len); /* a failure is reported once, below */
    wipe(&content);
    return ok;
}

/* Resolve the references of s into a new string (caller frees; NULL after
 * an error). url: s is a URL (what a skipped reference at its start stands
 * for). */
static char *expand(struct cfg_parser *p, const yaml_node_t *n, const char *path, const char *s,
                    bool url)
{
    struct buf out;
    buf_init(&out, CFG_MAX_FILE_BYTES);
    const char *q = s;
    bool ok = true;
    /* Appends to out are not checked one by one: a failed buffer stays
     * failed, and the overflow is reported once after the loop. */
    while (*q && ok && !out.failed) {
        if (q[0] == '$' && q[1] == '$' && q[2] == '{') {
            buf_adds(&out, "${");
            q += 3;
            continue;
        }
        if (q[0] != '$' || q[1] != '{') {
            add_text(p, &out, q++, 1);
            continue;
        }
        const char *end = strchr(q, '}');
        if (!end) {
            cfg_err(p, n, path, "unterminated \"${\" reference (write \"$${\" for a literal)");
            ok = false;
            break;
        }
        const char *ref = q + 2;
        size_t reflen = (size_t)(end - ref);
        char qt[CFG_MAX_QUOTED + 4];
        bool env = reflen > 4 && strncmp(ref, "env:", 4) == 0;
        bool file = reflen > 5 && strncmp(ref, "file:", 5) == 0;
        bool capture = reflen >= 8 && strncmp(ref, "capture:", 8) == 0;
        if (capture) {
            /* Not a secret of the configuration: a value a flow takes at
             * run time, kept as a marker (cfg_yaml.h). */
            if (!p->capture_ref) {
                cfg_err(p, n, path,
                        "a ${capture:NAME} reference is only substituted in the url, headers "
                        "and body of a flow's step");
                ok = false;
            } else {
                char *name = xstrndup(ref + 8, reflen - 8);
                int k = p->capture_ref(p, n, path, name, p->capture_arg);
                free(name);
                if (k < 0 || k >= CFG_MAX_CAPTURES) {
                    ok = false;
                } else {
                    buf_addc(&out, CFG_CAPTURE_MARK);
                    buf_addc(&out, (char)(k + CFG_CAPTURE_BASE));
                }
            }
        } else if ((env || file) && p->opts.skip_secrets) {
            /* Linting without the secrets: the reference was read, its
             * value stands in as a placeholder. */
            buf_adds(&out, url && q == s ? CFG_URL_PLACEHOLDER : CFG_SECRET_PLACEHOLDER);
        } else if (env) {
            char *name = xstrndup(ref + 4, reflen - 4);
            const char *v = getenv(name);
            if (!v) {
                cfg_err(p, n, path, "environment variable %s is not set", cfg_quote(name, qt));
                ok = false;
            } else {
                add_text(p, &out, v, strlen(v));
            }
            free(name);
        } else if (file) {
            char *fname = xstrndup(ref + 5, reflen - 5);
            ok = add_file(p, n, path, fname, &out);
            free(fname);
        } else {
            cfg_err(p, n, path, "unknown reference (use ${env:NAME} or ${file:PATH})");
            ok = false;
        }
        q = end + 1;
    }
    if (ok && out.failed) {
        cfg_err(p, n, path, "value is larger than %u bytes", CFG_MAX_FILE_BYTES);
        ok = false;
    }
    if (!ok) {
        wipe(&out);
        return NULL;
    }
    return buf_take(&out);
}

char *cfg_expand_refs(struct cfg_parser *p, const yaml_node_t *n, const char *path, const char *s)
{
    return expand(p, n, path, s, false);
}

char *cfg_expand_url(struct cfg_parser *p, const yaml_node_t *n, const char *path, const char *s)
{
    return expand(p, n, path, s, true);
}

bool cfg_get_url(struct cfg_parser *p, const yaml_node_t *n, const char *path, char **out)
{
    if (!cfg_want_scalar(p, n, path))
        return false;
    char *v = cfg_expand_url(p, n, path, cfg_scalar(n));
    if (!v)
        return false;
    free(*out);
    *out = v;
    return true;
}
