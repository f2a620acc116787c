/*
 * httpd_status.c - GET /api/v1/status: the status model (status.h) as
 * JSON, and the query both status handlers read (httpd_int.h).
 */
#include "httpd_int.h"

#include <stdlib.h>
#include <string.h>

static const char *arg(struct req *q, const char *name)
{
    return MHD_lookup_connection_value(q->c, MHD_GET_ARGUMENT_KIND, name);
}

enum op_rc httpd_status_query(struct req *q, struct status_query *out, char **why)
{
    return status_query_parse(arg(q, "group"), arg(q, "state"), arg(q, "page"), arg(q, "per_page"),
                              out, why);
}

json_t *httpd_status_model(struct req *q, enum MHD_Result *ret)
{
    struct status_query sq;
    char *why = NULL;
    json_t *model = NULL;
    enum op_rc rc = httpd_status_query(q, &sq, &why);
    if (rc == OP_OK)
        rc = status_model(q->h->rt, &sq, &model, &why);
    if (rc != OP_OK) {
        /* The group a client asked for is named back: it may not be in
         * this shard's part of the configuration. */
        *ret = httpd_send_json_error(q, MHD_HTTP_BAD_REQUEST, why ? why : op_strerror(rc),
                                     rc == OP_ERR_NOT_FOUND ? sq.group : NULL);
        free(why);
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
    char *body = json_dumps(model, JSON_COMPACT);
    json_decref(model);
    if (!body)
        return httpd_send_json_error(q, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot encode the status",
                                     NULL);
    return httpd_send_owned(q, MHD_HTTP_OK, body, strlen(body), "application/json", false);
}
