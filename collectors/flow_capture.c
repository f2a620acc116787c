/*
 * flow_capture.c - a flow's captured values: taken from a step's response
 * (a JSON path, a header, a regular expression's group), put into later
 * steps' url, headers and body, masked in texts, wiped when done.
 */
#include "cfg_yaml.h"
#include "common.h"
#include "detail.h"
#include "flow_check.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

void flow_wipe_free(char *s)
{
    if (!s)
        return;
    memset(s, 0, strlen(s));
    free(s);
}

void flow_value_clear(struct flow_value *v)
{
    if (v->v)
        memset(v->v, 0, v->len);
    free(v->v);
    v->v = NULL;
    v->len = 0;
}

/* ---- taking a value ---- */

/* Store n bytes of s as the value, within the rules every capture keeps:
 * the size cap and no NUL byte (a value goes into C strings and headers). */
static enum check_reason store(const struct flow_capture *cap, const char *s, size_t n,
                               struct flow_value *out, struct detail *d)
{
    if (n > FLOW_MAX_CAPTURE_BYTES) {
        detail_addf(d, "capture %s: %zu bytes, more than %u", cap->name, n, FLOW_MAX_CAPTURE_BYTES);
        return CHECK_REASON_CAPTURE;
    }
    if (memchr(s, '\0', n)) {
        detail_addf(d, "capture %s: the value holds a NUL byte", cap->name);
        return CHECK_REASON_CAPTURE;
    }
    flow_value_clear(out);
    out->v = xmalloc(n + 1);
    memcpy(out->v, s, n);
    out->v[n] = '\0';
    out->len = n;
    return CHECK_REASON_NONE;
}

static enum check_reason take_json(const struct flow_capture *cap, const struct http_response *r,
                                   struct flow_value *out, struct detail *d)
{
    json_error_t err;
    /* \u0000 is read (not refused as jansson does by default) so that
     * store says what is wrong with such a value. */
    json_t *root = json_loadb(r->body, r->body_len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    if (!root) {
        detail_addf(d, "capture %s: body is not JSON", cap->name);
        return CHECK_REASON_CAPTURE;
    }
    enum check_reason why = CHECK_REASON_CAPTURE;
    const json_t *v = http_json_find(&cap->json, root);
    if (!v) {
        detail_addf(d, "capture %s: json %s missing", cap->name, cap->json.path);
    } else if (json_is_string(v)) {
        why = store(cap, json_string_value(v), json_string_length(v), out, d);
    } else {
        /* A number, true, false, null, an object or an array: as the
         * compact JSON text a later step can send on. */
        char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!text)
            detail_addf(d, "capture %s: cannot write the value as JSON", cap->name);
        else
            why = store(cap, text, strlen(text), out, d);
        flow_wipe_free(text);
    }
    json_decref(root);
    return why;
}

/* The next header line of block [*p, end) named name: its value trimmed
 * into *v and *vlen, and true; false when there is none. */
static bool next_header(const char **p, const char *end, const char *name, const char **v,
                        size_t *vlen)
{
    size_t nlen = strlen(name);
    while (*p < end) {
        const char *line = *p;
        const char *eol = memchr(line, '\n', (size_t)(end - line));
        const char *line_end = eol ? eol : end;
        *p = eol ? eol + 1 : end;
        if ((size_t)(line_end - line) <= nlen || line[nlen] != ':' ||
            strncasecmp(line, name, nlen) != 0)
            continue;
        const char *a = line + nlen + 1, *b = line_end;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == '\r' || b[-1] == ' ' || b[-1] == '\t'))
            b--;
        *v = a;
        *vlen = (size_t)(b - a);
        return true;
    }
    return false;
}

static enum check_reason take_header(const struct flow_capture *cap, const struct http_response *r,
                                     struct flow_value *out, struct detail *d)
{
    const char *p = r->headers, *end = r->headers + r->headers_len, *v;
    size_t vlen;
    bool seen = false;
    int err = 0;
    while (next_header(&p, end, cap->header, &v, &vlen)) {
        seen = true;
        if (cap->from == FLOW_FROM_HEADER)
            return store(cap, v, vlen, out, d);
        size_t start, glen;
        int rc = http_regex_find(&cap->re, v, vlen, 1, &start, &glen);
        if (rc > 0)
            return store(cap, v + start, glen, out, d);
        if (rc < 0)
            err = rc;
    }
    /* FLOW_FROM_HEADER took the first value it saw: here it saw none. */
    detail_addf(d, "capture %s: ", cap->name);
    struct header_expect h = {cap->header, cap->re};
    http_detail_header(d, &h, !seen, seen ? err : 0);
    return CHECK_REASON_CAPTURE;
}

static enum check_reason take_body(const struct flow_capture *cap, const struct http_response *r,
                                   struct flow_value *out, struct detail *d)
{
    size_t start, glen;
    int rc = http_regex_find(&cap->re, r->body, r->body_len, 1, &start, &glen);
    if (rc > 0)
        return store(cap, r->body + start, glen, out, d);
    detail_addf(d, "capture %s: ", cap->name);
    http_detail_body(d, &cap->re, true, rc < 0 ? rc : 0);
    return CHECK_REASON_CAPTURE;
}

enum check_reason flow_capture_take(const struct flow_capture *cap,
                                    const struct http_response *resp, struct flow_value *out,
                                    char *detail, size_t cap_bytes)
{
    struct detail d;
    detail_init(&d, detail, cap_bytes);
    switch (cap->from) {
    case FLOW_FROM_JSON:
        return take_json(cap, resp, out, &d);
    case FLOW_FROM_HEADER:
    case FLOW_FROM_HEADER_RE:
        return take_header(cap, resp, out, &d);
    case FLOW_FROM_BODY:
        return take_body(cap, resp, out, &d);
    }
    return CHECK_REASON_CAPTURE;
}

/* ---- substitution ---- */

bool flow_is_template(const char *tmpl)
{
    return tmpl && strchr(tmpl, CFG_CAPTURE_MARK) != NULL;
}

enum op_rc flow_subst(const char *tmpl, const struct flow_value *vals, size_t n, char **out,
                      size_t *missing)
{
    /* Bounded by the template and the values' caps; the buffer's cap only
     * guards the arithmetic. */
    struct buf b;
    buf_init(&b, strlen(tmpl) + (size_t)CFG_MAX_CAPTURES * FLOW_MAX_CAPTURE_BYTES + 1);
    enum op_rc rc = OP_OK;
    for (const char *q = tmpl; *q && rc == OP_OK; q++) {
        if (*q != CFG_CAPTURE_MARK) {
            buf_addc(&b, *q);
            continue;
        }
        if (q[1] == CFG_CAPTURE_MARK) {
            buf_addc(&b, *q++); /* a literal mark byte */
            continue;
        }
        size_t k = (size_t)(unsigned char)q[1] - CFG_CAPTURE_BASE;
        if (!q[1] || k >= n || !vals[k].v) {
            *missing = q[1] ? k : SIZE_MAX;
            rc = OP_ERR_NOT_FOUND;
            break;
        }
        buf_add(&b, vals[k].v, vals[k].len);
        q++;
    }
    if (rc == OP_OK && b.failed)
        rc = OP_ERR_LIMIT;
    if (rc != OP_OK) {
        if (b.data)
            memset(b.data, 0, b.cap);
        buf_free(&b);
        return rc;
    }
    *out = buf_take(&b);
    return OP_OK;
}

/* ---- masking ---- */

void flow_redact(char *detail, size_t cap, const struct flow_value *vals, size_t n,
                 char *const *names)
{
    if (!cap)
        return;
    char *tmp = xmalloc(cap);
    for (size_t k = 0; k < n; k++) {
        if (!vals[k].v || vals[k].len < FLOW_REDACT_MIN_BYTES || !strstr(detail, vals[k].v))
            continue;
        struct detail d;
        detail_init(&d, tmp, cap);
        const char *p = detail, *hit;
        while ((hit = strstr(p, vals[k].v))) {
            detail_addn(&d, p, (size_t)(hit - p));
            detail_addf(&d, "<capture:%s>", names[k]);
            p = hit + vals[k].len;
        }
        detail_add(&d, p);
        memcpy(detail, tmp, cap);
    }
    memset(tmp, 0, cap);
    free(tmp);
}
