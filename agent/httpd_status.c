/*
 * httpd_status.c - GET /api/v1/status: the status model (status.h) as
 * JSON, and the query both status handlers read (httpd_int.h).
 */
#include "httpd_int.h"
#include "detail.h"

#include <stdlib.h>
#include <string.h>

static const char *arg(struct req *q, const char *name)
{
    return MHD_lookup_connection_value(q->c, MHD_GET_ARGUMENT_KIND, name);
}

/* A bad query's answer: 400 with why (taken), and the group named back
 * when no check has it (it may be in another shard's part of the file).
 * The name is cleaned as a detail is: a %FF in the query would otherwise
 * make the answer's JSON invalid UTF-8. */
static enum MHD_Result refuse(struct req *q, enum op_rc rc, char *why, const char *group)
{
    char *name = NULL;
    if (rc == OP_ERR_NOT_FOUND && group) {
        size_t n = strlen(group) + 1;
        struct detail d;
        name = xmalloc(n);
        detail_init(&d, name, n);
        detail_add(&d, group);
    }
    enum MHD_Result ret =
        httpd_send_json_error(q, MHD_HTTP_BAD_REQUEST, why ? why : op_strerror(rc), name);
    free(name);
    free(why);
    return ret;
}

enum MHD_Result httpd_status_query(struct req *q, struct status_query *out, bool *answered)
{
    char *why = NULL;
    enum op_rc rc = status_query_parse(arg(q, "group"), arg(q, "state"), arg(q, "page"),
                                       arg(q, "per_page"), out, &why);
    *answered = rc != OP_OK;
    return rc == OP_OK ? MHD_YES : refuse(q, rc, why, NULL);
}

json_t *httpd_status_model(struct req *q, enum MHD_Result *ret)
{
    struct status_query sq;
    bool answered;
    *ret = httpd_status_query(q, &sq, &answered);
    if (answered)
        return NULL;
    char *why = NULL;
    json_t *model = NULL;
    enum op_rc rc = status_model(q->h->rt, &sq, &model, &why);
    if (rc != OP_OK) {
        *ret = refuse(q, rc, why, sq.group);
        return NULL;
    }
    return model;
}

enum MHD_Result httpd_serve_status_api(struct req *q)
{
    enum MHD_Result ret;
    json_t *model = httpd_status_model(q, &ret);
    if (!model)
        return ret;
    struct buf b;
    buf_init(&b, STATUS_MAX_JSON_BYTES);
    enum op_rc rc = status_dump(model, &b);
    json_decref(model);
    if (rc == OP_OK)
        rc = buf_addc(&b, '\n');
    if (rc != OP_OK) {
        buf_free(&b);
        return httpd_send_json_error(q, MHD_HTTP_INTERNAL_SERVER_ERROR,
                                     "answer larger than its cap", NULL);
    }
    size_t len = b.len;
    return httpd_send_owned(q, MHD_HTTP_OK, buf_take(&b), len, "application/json", false);
}
