/*
 * status_html.h - the status page (GET /status): one HTML document a person
 * reads, rendered from the status model alone (the JSON object of
 * /api/v1/status, docs/status.md), so the page never shows anything the
 * API does not say.
 *
 * The page is whole without JavaScript and loads nothing: its one
 * stylesheet and its one script are inline, the charts are inline SVG
 * (svg.h). status_html_csp gives the Content-Security-Policy that allows
 * exactly that stylesheet and that script by their SHA-256, so the page
 * runs under a policy with no 'unsafe-inline' and no source at all. The
 * script only reloads the page every refresh_seconds, with a button to
 * pause it.
 *
 * Layout: a header (version, shard, generation time, summary tiles), then
 * SLOs, canaries, firing alerts, active maintenance windows and the checks
 * of the model's page grouped by their group, failing first within each
 * group, with links to the other pages and filters (?group=, ?state=down,
 * ?page=). Every string of the model is escaped; a missing, null or
 * mistyped field is shown as a dash, never trusted.
 */
#ifndef OUTPOST_STATUS_HTML_H
#define OUTPOST_STATUS_HTML_H

#include "buf.h"
#include "common.h"

#include <jansson.h>
#include <stddef.h>

struct status_html_opts {
    /* Seconds between reloads by the page's script; 0: no script. */
    unsigned refresh_seconds;
    /* Groups shown open, in page order; the rest are collapsed (a group
     * with a failing check is always open). */
    size_t open_groups;
    /* per_page of the model that links leave out (the API's default). */
    size_t default_per_page;
};

/* The whole page of model (borrowed) appended to out; OP_ERR_LIMIT when it
 * exceeds out's cap (out is then failed and empty). */
enum op_rc status_html(const json_t *model, const struct status_html_opts *o, struct buf *out) WUR;

/* The Content-Security-Policy header value for the page: nothing allowed
 * but the page's inline style and script (by hash), data: images (the
 * empty favicon), and forms to the page itself. Appended to out. */
void status_html_csp(struct buf *out);

#endif
