/*
 * httpd_statuspage.c - GET /status: the status model (status.h) rendered as
 * one HTML page (status_html.h), under a Content-Security-Policy that
 * allows only the page's own inline style and script, by hash.
 *
 * The query is the API's (?group=, ?state=, ?page=, ?per_page=), read by
 * the same function with the same 400 for a bad one, so a page link and
 * an API call select the same checks.
 * The response says how long the model and the HTML took (Server-Timing):
 * a page cannot time its own sending, but these two are the agent's part.
 */
#include "httpd_int.h"
#include "status_html.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* A check takes about 1 KB of the page (its row and sparkline); 1,000 of
 * them (the largest page) about 1 MB. The cap leaves room for long names
 * and details and is still a bound. */
#define STATUS_PAGE_BYTES_PER_CHECK 1100
#define STATUS_PAGE_MAX_BYTES (32u << 20)
#define STATUS_PAGE_REFRESH_SECONDS 30
/* Groups shown open before the rest fold away (failing ones always open). */
#define STATUS_PAGE_OPEN_GROUPS 20

/* The policy depends only on the page's constant style and script: hashed
 * once, then shared read-only by every request. */
static pthread_once_t csp_once = PTHREAD_ONCE_INIT;
static char *csp_value;

static void csp_init(void)
{
    struct buf b;
    buf_init(&b, 4096);
    status_html_csp(&b);
    csp_value = buf_take(&b);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

enum MHD_Result httpd_serve_status_page(struct req *q)
{
    /* The API's query and its 400 for a bad one: the same model, or none. */
    double t0 = now_ms();
    enum MHD_Result ret;
    json_t *model = httpd_status_model(q, &ret);
    if (!model)
        return ret;
    double t1 = now_ms();
    struct buf page;
    buf_init(&page, STATUS_PAGE_MAX_BYTES);
    /* The page's likely size at once: the render appends in small pieces
     * and would otherwise move a growing buffer a dozen times. */
    json_int_t per_page =
        json_integer_value(json_object_get(json_object_get(model, "page"), "per_page"));
    if (per_page > 0 && per_page <= STATUS_MAX_PER_PAGE)
        buf_prealloc(&page, (size_t)per_page * STATUS_PAGE_BYTES_PER_CHECK + 65536);
    const struct status_html_opts o = {.refresh_seconds = STATUS_PAGE_REFRESH_SECONDS,
                                       .open_groups = STATUS_PAGE_OPEN_GROUPS,
                                       .default_per_page = STATUS_DEFAULT_PER_PAGE};
    enum op_rc rc = status_html(model, &o, &page);
    json_decref(model);
    double t2 = now_ms();
    if (rc != OP_OK) {
        buf_free(&page);
        return httpd_send_text(q, MHD_HTTP_INTERNAL_SERVER_ERROR,
                               "the status page is larger than its cap; ask for a smaller one "
                               "with ?per_page= or ?group=\n");
    }

    pthread_once(&csp_once, csp_init);
    size_t len = page.len;
    char *body = buf_take(&page);
    /* MHD owns body only once the response exists. */
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    char timing[96];
    snprintf(timing, sizeof(timing), "model;dur=%.1f, render;dur=%.1f", t1 - t0, t2 - t1);
    MHD_add_response_header(r, "Content-Type", "text/html; charset=utf-8");
    MHD_add_response_header(r, "Content-Security-Policy", csp_value);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "Server-Timing", timing);
    return httpd_respond(q, MHD_HTTP_OK, r);
}
