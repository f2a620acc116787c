/* httpd_gates.c - the canary gates: Argo's web metric and Flagger's webhook (httpd_int.h). */
#include "httpd_int.h"
#include "canary_state.h"

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
    /* A revision is Flagger's checksum: a new one resets the samples. */
    if (rt_canary(q->h->rt, name, revision, &v, &reset) != OP_OK)
        return httpd_send_text(q, MHD_HTTP_NOT_FOUND, "no canary of that name\n");
    struct buf b;
    buf_init(&b, 1u << 20);
    canary_verdict_json(&v, name, true, &b);
    buf_addc(&b, '\n');
    if (b.failed) {
        buf_free(&b);
        return httpd_send_text(q, MHD_HTTP_INTERNAL_SERVER_ERROR, "verdict too large\n");
    }
    httpd_history_record(q, name, HIST_ARGO, revision, HIST_HOOK_NONE, NULL, &v, MHD_HTTP_OK);
    size_t len = b.len;
    return httpd_send_owned(q, MHD_HTTP_OK, buf_take(&b), len, "application/json", false);
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

enum MHD_Result httpd_serve_flagger(struct req *q, const char *name)
{
    const char *hook = MHD_lookup_connection_value(q->c, MHD_GET_ARGUMENT_KIND, "hook");
    json_error_t jerr;
    json_t *root = q->body.len ? json_loadb(q->body.data, q->body.len, 0, &jerr) : NULL;
    /* Flagger cannot send headers: without them its body's metadata.token
     * stands for a bearer token, and nothing else happens (no sample reset
     * for a new checksum) before it passed. */
    if (!q->authed &&
        websec_authenticate_token(q->sec, root ? flagger_token(root) : NULL, q->client,
                                  httpd_route_names[q->route]) != WEBSEC_AUTH_OK) {
        json_decref(root);
        return httpd_send_unauthorized(q);
    }
    if (!hook)
        hook = "rollout";
    bool rollback = strcmp(hook, "rollback") == 0;
    if (!rollback && strcmp(hook, "rollout") != 0 && strcmp(hook, "confirm-promotion") != 0) {
        json_decref(root);
        return httpd_send_text(q, MHD_HTTP_BAD_REQUEST,
                               "hook must be rollout, confirm-promotion or rollback\n");
    }
    if (!root)
        return httpd_send_text(q, MHD_HTTP_BAD_REQUEST,
                               "body is not JSON (Flagger sends {name, namespace, phase, checksum, "
                               "metadata})\n");
    const char *checksum;
    const char *bad = flagger_body(root, &checksum);
    if (bad) {
        json_decref(root);
        struct buf m;
        buf_init(&m, 1024);
        buf_addf(&m, "%s\n", bad);
        enum MHD_Result r = httpd_send_text(q, MHD_HTTP_BAD_REQUEST, buf_str(&m));
        buf_free(&m);
        return r;
    }
    struct canary_verdict v;
    bool reset;
    enum op_rc rc = rt_canary(q->h->rt, name, checksum, &v, &reset);
    if (rc != OP_OK) {
        json_decref(root);
        return httpd_send_text(q, MHD_HTTP_NOT_FOUND, "no canary of that name\n");
    }
    /* Flagger counts <= 202 as success. For rollback hooks success means
     * "roll back now", so they pass only on a significant failure. */
    bool ok = rollback ? v.verdict == CANARY_FAIL : v.verdict == CANARY_PASS;
    unsigned status = ok ? MHD_HTTP_OK : MHD_HTTP_PRECONDITION_FAILED;
    enum hist_hook hh = rollback                       ? HIST_HOOK_ROLLBACK
                        : strcmp(hook, "rollout") == 0 ? HIST_HOOK_ROLLOUT
                                                       : HIST_HOOK_CONFIRM;
    httpd_history_record(q, name, HIST_FLAGGER, checksum, hh,
                         json_string_value(json_object_get(root, "phase")), &v, status);
    json_decref(root);
    struct buf m;
    buf_init(&m, 1024);
    if (rollback && !ok)
        buf_addf(&m, "no significant failure, %s\n", v.reason);
    else
        buf_addf(&m, "%s\n", v.reason);
    enum MHD_Result r = httpd_send_text(q, status, buf_str(&m));
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
