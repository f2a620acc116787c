/*
 * target_html.h - the target's HTML pages for browser checks (target_html.c),
 * routed by target.c.
 */
#ifndef OUTPOST_TARGET_HTML_H
#define OUTPOST_TARGET_HTML_H

#include <microhttpd.h>

/* Answer url, one of /html/... (see target.c's list). */
enum MHD_Result target_html_route(struct MHD_Connection *conn, const char *url);

#endif
