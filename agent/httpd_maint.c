/* httpd_maint.c - /api/v1/maintenance: list, start and end maintenance
 * windows (httpd_int.h, maint.h). */
#include "httpd_int.h"
#include "maint.h"
#include "runtime.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* Takes the JSON in b. */
static enum MHD_Result send_json(struct req *q, unsigned status, struct buf *b)
{
    if (b->failed) {
        buf_free(b);
        return httpd_send_text(q, MHD_HTTP_INTERNAL_SERVER_ERROR, "answer too large\n");
    }
    size_t len = b->len;
    return httpd_send_owned(q, status, buf_take(b), len, "application/json", false);
}

static enum MHD_Result serve_list(struct req *q)
{
    struct buf b;
    buf_init(&b, 64u << 20); /* 1,000 configured and 100 ad-hoc windows, names capped */
    maint_list_json(rt_maint(q->h->rt), &b);
    return send_json(q, MHD_HTTP_OK, &b);
}

/* A list of strings of the request into *out (borrowed from the JSON);
 * NULL or a static reason. */
static const char *string_list(json_t *v, const char ***out, size_t *n)
{
    if (!json_is_array(v))
        return "checks and slos must be lists of names";
    *n = json_array_size(v);
    *out = xcalloc(*n + 1, sizeof(char *));
    for (size_t i = 0; i < *n; i++)
        if (!((*out)[i] = json_string_value(json_array_get(v, i))))
            return "checks and slos must be lists of names";
    if (*n == 0)
        return "an empty list covers nothing (leave out checks and slos to cover everything)";
    return NULL;
}

/* The request of a POST body (strings borrowed from root); NULL or why
 * not (static, or in why). STATIC: tests reach it. */
STATIC const char *maint_parse_request(json_t *root, struct maint_request *r, struct buf *why);

STATIC const char *maint_parse_request(json_t *root, struct maint_request *r, struct buf *why)
{
    *r = (struct maint_request){.exclude_from_slos = true};
    if (!json_is_object(root))
        return "body must be a JSON object: {\"name\", \"duration\", \"checks\" or \"slos\", "
               "\"exclude_from_slos\", \"alertmanager_silence\"}";
    const char *key;
    json_t *v;
    bool duration = false; /* "0s" is a duration, refused as such */
    json_object_foreach(root, key, v)
    {
        const char *bad = NULL;
        if (strcmp(key, "name") == 0) {
            if (!(r->name = json_string_value(v)))
                bad = "name must be a string";
        } else if (strcmp(key, "duration") == 0) {
            const char *d = json_string_value(v);
            duration = true;
            if (!d || cfg_parse_duration(d, &r->duration_ms) != OP_OK)
                bad = "duration must be a duration such as \"30m\" or \"2h\"";
        } else if (strcmp(key, "checks") == 0) {
            bad = string_list(v, (const char ***)&r->checks, &r->n_checks);
        } else if (strcmp(key, "slos") == 0) {
            bad = string_list(v, (const char ***)&r->slos, &r->n_slos);
        } else if (strcmp(key, "exclude_from_slos") == 0) {
            if (!json_is_boolean(v))
                bad = "exclude_from_slos must be true or false";
            r->exclude_from_slos = json_is_true(v);
        } else if (strcmp(key, "alertmanager_silence") == 0) {
            if (!json_is_boolean(v))
                bad = "alertmanager_silence must be true or false";
            r->alertmanager_silence = json_is_true(v);
        } else {
            buf_adds(why, "unknown key ");
            buf_add_json_string(why, key);
            return buf_str_or(why, "unknown key");
        }
        if (bad)
            return bad;
    }
    if (!r->name)
        return "missing \"name\"";
    if (!duration)
        return "missing \"duration\"";
    return NULL;
}

enum MHD_Result httpd_maint_post(struct req *q)
{
    json_error_t jerr;
    json_t *root =
        q->body.len ? json_loadb(q->body.data, q->body.len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
    struct maint_request r = {0};
    struct buf why, out;
    buf_init(&why, 1024);
    buf_init(&out, 16u << 20);
    const char *bad = root ? maint_parse_request(root, &r, &why)
                           : "body is not JSON (send {\"name\": ..., \"duration\": ...})";
    unsigned status = MHD_HTTP_BAD_REQUEST;
    if (!bad) {
        enum op_rc rc = maint_start(rt_maint(q->h->rt), &r, &out, &why);
        status = rc == OP_OK            ? MHD_HTTP_CREATED
                 : rc == OP_ERR_INVALID ? MHD_HTTP_BAD_REQUEST
                                        : MHD_HTTP_CONFLICT;
        bad = buf_str_or(&why, "refused");
    }
    enum MHD_Result ret = status == MHD_HTTP_CREATED
                              ? send_json(q, status, &out)
                              : httpd_send_json_error(q, status, bad, r.name);
    free((void *)r.checks);
    free((void *)r.slos);
    json_decref(root);
    buf_free(&why);
    buf_free(&out);
    return ret;
}

static enum MHD_Result serve_delete(struct req *q, const char *name)
{
    struct buf why, out;
    buf_init(&why, 1024);
    buf_init(&out, 16u << 20);
    enum op_rc rc = maint_end(rt_maint(q->h->rt), name, &out, &why);
    enum MHD_Result ret =
        rc == OP_OK
            ? send_json(q, MHD_HTTP_OK, &out)
            : httpd_send_json_error(q,
                                    rc == OP_ERR_NOT_FOUND ? MHD_HTTP_NOT_FOUND : MHD_HTTP_CONFLICT,
                                    buf_str_or(&why, "refused"), name);
    buf_free(&why);
    buf_free(&out);
    return ret;
}

enum MHD_Result httpd_serve_maint(struct req *q, const char *url, const char *method)
{
    /* Like /api/v1/checks/{name}, the name is everything after the prefix
     * (MHD hands the path %-decoded). */
    const char *rest = url + strlen(MAINT_PATH);
    const char *name = *rest ? rest + 1 : "";
    if (!*name) {
        if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
            return serve_list(q);
        if (strcmp(method, "POST") == 0)
            return httpd_start_body(q);
        struct MHD_Response *r = httpd_text_response("method not allowed\n");
        if (r)
            MHD_add_response_header(r, "Allow", "GET, HEAD, POST");
        return httpd_respond(q, MHD_HTTP_METHOD_NOT_ALLOWED, r);
    }
    if (strcmp(method, "DELETE") == 0)
        return serve_delete(q, name);
    struct MHD_Response *r = httpd_text_response("method not allowed\n");
    if (r)
        MHD_add_response_header(r, "Allow", "DELETE");
    return httpd_respond(q, MHD_HTTP_METHOD_NOT_ALLOWED, r);
}
