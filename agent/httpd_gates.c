/* httpd_gates.c - the canary gates: Argo's web metric and Flagger's webhook (httpd_int.h). */
#include "httpd_int.h"
#include "canary_state.h"
#include "runtime.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* Flagger's webhook body is a few hundred bytes; anything larger is not it. */
#define HTTPD_MAX_GATE_BODY (64u << 10)

/* Argo's ?revision= (an AnalysisTemplate arg, e.g. the pod-template hash):
 * printable ASCII without spaces, as hashes, tags and versions are. NULL
 * when absent or empty; *bad when malformed. */
static const char *argo_revision(struct req *q, bool *bad)
{
    const char *r = MHD_lookup_connection_value(q->c, MHD_GET_ARGUMENT_KIND, "revision");
    *bad = false;
    if (!r || !*r)
        return NULL;
    size_t n = strlen(r);
    *bad = n >= CANARY_MAX_CHECKSUM;
    for (const unsigned char *p = (const unsigned char *)r; *p && !*bad; p++)
        *bad = *p <= 0x20 || *p >= 0x7f;
    return r;
}

/* The verdict as the gate answered it: an SLO freeze makes it a fail
 * whose reason is the freeze (what the history keeps). */
static void answered_verdict(const struct canary_verdict *v, size_t frozen, const struct buf *why,
                             struct canary_verdict *out)
{
    *out = *v;
    if (!frozen)
        return;
    out->verdict = CANARY_FAIL;
    snprintf(out->reason, sizeof(out->reason), "%s", buf_str_or(why, "frozen by SLOs"));
}

/* The end of canary_verdict_json's object when its reason is empty: the
 * Argo gate writes a frozen canary's reason in its place. */
#define EMPTY_REASON_END "\"reason\":\"\"}"

/* The canary's verdict JSON (name borrowed) into out, with frozen_by (a
 * JSON array) added; when n SLOs freeze it (n > 0) the verdict is "fail"
 * and the reason is why (the statistics stay in their fields). false if
 * the verdict's JSON did not end as expected. */
static bool argo_json(const struct canary_verdict *v, const char *name, size_t n,
                      const struct buf *why, const struct buf *frozen_by, struct buf *out)
{
    struct canary_verdict shown = *v;
    if (n) {
        shown.verdict = CANARY_FAIL;
        shown.reason[0] = '\0';
    }
    struct buf t;
    buf_init(&t, 1u << 20);
    canary_verdict_json(&shown, name, true, &t);
    size_t cut = n ? strlen(EMPTY_REASON_END) : 1;
    bool ok =
        !t.failed && t.len >= cut && strcmp(t.data + t.len - cut, n ? EMPTY_REASON_END : "}") == 0;
    if (ok) {
        buf_add(out, t.data, t.len - cut);
        if (n) {
            buf_adds(out, "\"reason\":");
            buf_add_json_string(out, buf_str(why));
        }
        buf_adds(out, ",\"frozen_by\":");
        buf_add(out, frozen_by->data, frozen_by->len);
        buf_adds(out, "}\n");
    }
    buf_free(&t);
    return ok;
}

enum MHD_Result httpd_serve_argo(struct req *q, const char *name)
{
    bool bad;
    const char *revision = argo_revision(q, &bad);
    if (bad)
        return httpd_send_text(q, MHD_HTTP_BAD_REQUEST,
                               "revision must be 1 to 255 printable ASCII characters without "
                               "spaces\n");
    struct canary_verdict v;
    bool reset;
    size_t n;
    struct buf why, frozen_by, b;
    buf_init(&why, 1u << 20);
    buf_init(&frozen_by, 1u << 20);
    buf_init(&b, 1u << 20);
    enum MHD_Result r;
    /* A revision is Flagger's checksum: a new one resets the samples. */
    if (rt_canary(q->h->rt, name, revision, &v, &reset) != OP_OK ||
        rt_canary_freeze(q->h->rt, name, &n, &why, &frozen_by) != OP_OK)
        r = httpd_send_text(q, MHD_HTTP_NOT_FOUND, "no canary of that name\n");
    else if (why.failed || frozen_by.failed || !argo_json(&v, name, n, &why, &frozen_by, &b) ||
             b.failed)
        r = httpd_send_text(q, MHD_HTTP_INTERNAL_SERVER_ERROR, "verdict too large\n");
    else {
        struct canary_verdict shown;
        answered_verdict(&v, n, &why, &shown);
        httpd_history_record(q, name, HIST_ARGO, revision, HIST_HOOK_NONE, NULL, &shown,
                             MHD_HTTP_OK);
        size_t len = b.len;
        r = httpd_send_owned(q, MHD_HTTP_OK, buf_take(&b), len, "application/json", false);
    }
    buf_free(&why);
    buf_free(&frozen_by);
    buf_free(&b);
    return r;
}

/* Validate Flagger's body: a JSON object whose known fields are strings
 * (metadata: an object of strings). *checksum: borrowed from root, may be
 * NULL. Returns a static reason on error. STATIC: tests/fuzz reaches both. */
STATIC const char *flagger_body(json_t *root, const char **checksum);
STATIC const char *flagger_token(json_t *root);

STATIC const char *flagger_body(json_t *root, const char **checksum)
{
    static const char *const strings[] = {"name", "namespace", "phase", "checksum"};
    *checksum = NULL;
    if (!json_is_object(root))
        return "body must be a JSON object";
    for (size_t i = 0; i < ARRAY_SIZE(strings); i++) {
        json_t *f = json_object_get(root, strings[i]);
        if (f && !json_is_string(f))
            return "name, namespace, phase and checksum must be strings";
    }
    json_t *md = json_object_get(root, "metadata");
    if (md && !json_is_null(md)) {
        if (!json_is_object(md))
            return "metadata must be an object of strings";
        const char *k;
        json_t *v;
        json_object_foreach(md, k, v)
        {
            if (!json_is_string(v))
                return "metadata must be an object of strings";
        }
    }
    json_t *ph = json_object_get(root, "phase");
    if (ph && strlen(json_string_value(ph)) > HIST_MAX_PHASE)
        return "phase longer than 63 bytes";
    json_t *cs = json_object_get(root, "checksum");
    if (cs) {
        *checksum = json_string_value(cs);
        if (strlen(*checksum) >= CANARY_MAX_CHECKSUM)
            return "checksum longer than 255 bytes";
    }
    return NULL;
}

/* metadata.token of a Flagger body, if it is a string (borrowed from root). */
STATIC const char *flagger_token(json_t *root)
{
    json_t *md = json_is_object(root) ? json_object_get(root, "metadata") : NULL;
    json_t *tok = json_is_object(md) ? json_object_get(md, "token") : NULL;
    return json_is_string(tok) ? json_string_value(tok) : NULL;
}

json_t *httpd_flagger_request(struct req *q, const char *const *hooks, const char *usage,
                              const char **hook, const char **checksum, enum MHD_Result *ret)
{
    *hook = MHD_lookup_connection_value(q->c, MHD_GET_ARGUMENT_KIND, "hook");
    json_error_t jerr;
    json_t *root = q->body.len ? json_loadb(q->body.data, q->body.len, 0, &jerr) : NULL;
    /* Flagger cannot send headers: without them its body's metadata.token
     * stands for a bearer token, and nothing else happens (no sample reset
     * for a new checksum) before it passed. */
    if (!q->authed &&
        websec_authenticate_token(q->sec, root ? flagger_token(root) : NULL, q->client,
                                  httpd_route_names[q->route]) != WEBSEC_AUTH_OK) {
        json_decref(root);
        *ret = httpd_send_unauthorized(q);
        return NULL;
    }
    if (!*hook)
        *hook = "rollout";
    size_t i = 0;
    while (hooks[i] && strcmp(hooks[i], *hook) != 0)
        i++;
    if (!hooks[i]) {
        json_decref(root);
        *ret = httpd_send_text(q, MHD_HTTP_BAD_REQUEST, usage);
        return NULL;
    }
    if (!root) {
        *ret = httpd_send_text(q, MHD_HTTP_BAD_REQUEST,
                               "body is not JSON (Flagger sends {name, namespace, phase, checksum, "
                               "metadata})\n");
        return NULL;
    }
    const char *bad = flagger_body(root, checksum);
    if (bad) {
        json_decref(root);
        struct buf m;
        buf_init(&m, 1024);
        buf_addf(&m, "%s\n", bad);
        *ret = httpd_send_text(q, MHD_HTTP_BAD_REQUEST, buf_str(&m));
        buf_free(&m);
        return NULL;
    }
    return root;
}

enum MHD_Result httpd_serve_flagger(struct req *q, const char *name)
{
    static const char *const hooks[] = {"rollout", "confirm-promotion", "rollback", NULL};
    const char *hook, *checksum;
    enum MHD_Result r;
    json_t *root = httpd_flagger_request(
        q, hooks, "hook must be rollout, confirm-promotion or rollback\n", &hook, &checksum, &r);
    if (!root)
        return r;
    bool rollback = strcmp(hook, "rollback") == 0;
    struct canary_verdict v;
    bool reset;
    enum op_rc rc = rt_canary(q->h->rt, name, checksum, &v, &reset);
    /* A freeze holds rollouts and promotions back; it is no harm done by
     * this canary, so a rollback hook never asks for it. */
    size_t n = 0;
    struct buf why, frozen_by;
    buf_init(&why, 1u << 20);
    buf_init(&frozen_by, 1u << 20);
    if (rc == OP_OK && !rollback)
        rc = rt_canary_freeze(q->h->rt, name, &n, &why, &frozen_by);
    buf_free(&frozen_by);
    if (rc != OP_OK) {
        buf_free(&why);
        json_decref(root);
        return httpd_send_text(q, MHD_HTTP_NOT_FOUND, "no canary of that name\n");
    }
    /* Flagger counts <= 202 as success. For rollback hooks success means
     * "roll back now", so they pass only on a significant failure. */
    bool ok = rollback ? v.verdict == CANARY_FAIL : v.verdict == CANARY_PASS && n == 0;
    unsigned status = ok ? MHD_HTTP_OK : MHD_HTTP_PRECONDITION_FAILED;
    enum hist_hook hh = rollback                       ? HIST_HOOK_ROLLBACK
                        : strcmp(hook, "rollout") == 0 ? HIST_HOOK_ROLLOUT
                                                       : HIST_HOOK_CONFIRM;
    struct canary_verdict shown;
    answered_verdict(&v, n, &why, &shown);
    httpd_history_record(q, name, HIST_FLAGGER, checksum, hh,
                         json_string_value(json_object_get(root, "phase")), &shown, status);
    json_decref(root);
    struct buf m;
    buf_init(&m, 1u << 20);
    if (rollback && !ok)
        buf_addf(&m, "no significant failure, %s\n", v.reason);
    else if (n)
        buf_addf(&m, "%s; %s\n", buf_str_or(&why, "frozen by SLOs"), v.reason);
    else
        buf_addf(&m, "%s\n", v.reason);
    buf_free(&why);
    r = httpd_send_text(q, status, buf_str_or(&m, "frozen by SLOs\n"));
    buf_free(&m);
    return r;
}

enum MHD_Result httpd_start_body(struct req *q)
{
    /* Content-Length is digits only (RFC 9110): a sign, a suffix or an
     * empty value is a malformed request, not a small body. */
    const char *cl = MHD_lookup_connection_value(q->c, MHD_HEADER_KIND, "Content-Length");
    uint64_t cl_bytes;
    enum op_rc clrc = cl ? parse_u64(cl, strlen(cl), HTTPD_MAX_GATE_BODY, &cl_bytes) : OP_OK;
    if (clrc == OP_ERR_LIMIT)
        return httpd_send_text(q, MHD_HTTP_CONTENT_TOO_LARGE, "body larger than 65536 bytes\n");
    if (clrc != OP_OK)
        return httpd_send_text(q, MHD_HTTP_BAD_REQUEST, "malformed Content-Length\n");
    buf_init(&q->body, HTTPD_MAX_GATE_BODY);
    q->reading = true;
    return MHD_YES;
}

bool httpd_read_body(struct req *q, const char *upload, size_t *upload_size, enum MHD_Result *early)
{
    if (*upload_size == 0)
        return true;
    if (!q->too_big && buf_add(&q->body, upload, *upload_size) != OP_OK) {
        q->too_big = true;
        *early = httpd_send_text(q, MHD_HTTP_CONTENT_TOO_LARGE, "body larger than 65536 bytes\n");
    }
    *upload_size = 0;
    return false;
}
