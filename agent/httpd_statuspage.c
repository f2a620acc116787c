/*
 * httpd_statuspage.c - placeholder until the status page lands: answers 404 like
 * any unknown path.
 */
#include "httpd_int.h"

enum MHD_Result httpd_serve_status_page(struct req *q)
{
    return httpd_send_text(q, MHD_HTTP_NOT_FOUND, "not found\n");
}
