/*
 * httpd_int.h - what the HTTP server's files share (internal): the server,
 * one request, the routes, and the answers every handler goes through.
 * httpd.c runs the daemons, routes and guards connections; httpd_pages.c
 * serves the big pages (metrics, checks listing) and the server's own
 * metric families; httpd_gates.c serves the canary gates, httpd_slogates.c
 * the SLO gates, httpd_history.c the canary run history and httpd_maint.c
 * the maintenance windows' API.
 */
#ifndef OUTPOST_HTTPD_INT_H
#define OUTPOST_HTTPD_INT_H

#include "buf.h"
#include "conntrack.h"
#include "canary.h"
#include "expo.h"
#include "history.h"
#include "httpd.h"
#include "pages.h"
#include "status.h"
#include "websec.h"

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

/* outpost_http_requests_total keeps a counter for every status 100-599. */
#define HTTPD_STATUS_MIN 100
#define HTTPD_STATUS_SLOTS 500

#define FLAGGER_PREFIX "/gates/flagger/"
#define ARGO_PREFIX "/gates/argo/"
/* Under the canary gates' prefixes: a canary's name never begins "slo/"
 * (the config refuses it), so these paths are the SLOs'. */
#define FLAGGER_SLO_PREFIX "/gates/flagger/slo/"
#define ARGO_SLO_PREFIX "/gates/argo/slo/"
#define CHECKS_PATH "/api/v1/checks"
#define PROBE_PATH "/probe"
#define RUNS_PREFIX "/api/v1/canaries/"
#define MAINT_PATH "/api/v1/maintenance"
#define STATUS_PATH "/status"
#define STATUS_API_PATH "/api/v1/status"

/* The handler label of outpost_http_requests_total: a fixed name per
 * route, never the path a client sent. */
enum route {
    ROUTE_LANDING,
    ROUTE_METRICS,
    ROUTE_HEALTHY,
    ROUTE_READY,
    ROUTE_RELOAD,
    ROUTE_FLAGGER,
    ROUTE_ARGO,
    ROUTE_API,
    ROUTE_OTHER,
    ROUTE_PROBE, /* after other: the earlier labels keep their order */
    ROUTE_RUNS,  /* /api/v1/canaries/{name}/runs[/{id}] */
    ROUTE_FLAGGER_SLO,
    ROUTE_ARGO_SLO,
    ROUTE_MAINT,
    ROUTE_STATUS,     /* /status, the HTML page */
    ROUTE_STATUS_API, /* /api/v1/status, its JSON */
    ROUTE_COUNT
};

extern const char *const httpd_route_names[ROUTE_COUNT];

/* The shared pages (pages.h): the metrics page in each format and
 * encoding, and the checks listing. */
enum httpd_page {
    HTTPD_PAGE_TEXT,
    HTTPD_PAGE_OPENMETRICS,
    HTTPD_PAGE_TEXT_GZIP,
    HTTPD_PAGE_OPENMETRICS_GZIP,
    HTTPD_PAGE_CHECKS,
    HTTPD_PAGE_COUNT
};

struct probe_req;

struct httpd {
    struct MHD_Daemon *daemons[HTTPD_MAX_LISTEN];
    size_t n;
    struct runtime *rt;
    struct websec *sec;
    char *telemetry_path;
    unsigned max_requests;
    bool enable_lifecycle;
    atomic_uint active_scrapes;
    unsigned max_probes; /* --probe.max-concurrent */
    /* /probe requests waiting for their runs (httpd_probe.c): woken at stop. */
    pthread_mutex_t probe_lock;
    struct probe_req *probe_waiters;
    bool probe_stopping;
    atomic_uint_fast64_t requests[ROUTE_COUNT][HTTPD_STATUS_SLOTS];
    struct conntrack *ct;
    struct pages *pages;
    /* The size of the last plain metrics page of each format: the next
     * render reserves about that much up front (httpd_pages.c). */
    atomic_size_t last_plain_len[2];
    struct history *history;              /* borrowed; NULL: not open */
    atomic_uint_fast64_t history_missing; /* gate calls not recorded for that */
    /* The reaper: read deadlines and stale pages, on its own thread. */
    pthread_t reaper;
    bool reaper_running;
    pthread_mutex_t reaper_lock;
    pthread_cond_t reaper_wake;
    bool stopping; /* under reaper_lock */
};

/* One request, from its first call to its completion: the route, the web
 * security generation it is judged by, the status it got (counted at
 * completion), its connection's entry, and a body (Flagger's, a
 * maintenance POST's). */
struct req {
    struct httpd *h;
    struct MHD_Connection *c;
    struct ct_conn *conn; /* referenced; NULL when the connection has none */
    enum route route;
    unsigned status; /* 0 until a response is queued */
    struct websec_gen *sec;
    bool authed;  /* credentials checked, or none needed */
    bool reading; /* Flagger: the body is being read */
    bool too_big;
    struct buf body;
    char client[64];
    uint8_t key[RL_KEY_BYTES];
};

/* ---- answers (httpd.c) ---- */

/* Every response goes out here: the configured headers, the status kept
 * for the request counter, the connection marked answering. Takes r
 * (destroyed; NULL is an error). */
enum MHD_Result httpd_respond(struct req *q, unsigned status, struct MHD_Response *r);
/* A text/plain response of text (copied), or NULL. */
struct MHD_Response *httpd_text_response(const char *text);
enum MHD_Result httpd_send_text(struct req *q, unsigned status, const char *text);
/* Takes ownership of body (malloc'ed). */
enum MHD_Result httpd_send_owned(struct req *q, unsigned status, char *body, size_t len,
                                 const char *ctype, bool gzip);
/* 401 with a challenge for each configured way in. */
enum MHD_Result httpd_send_unauthorized(struct req *q);
/* A JSON error object with the check's name (borrowed, may be NULL). */
enum MHD_Result httpd_send_json_error(struct req *q, unsigned status, const char *error,
                                      const char *name);

/* ---- pages (httpd_pages.c) ---- */

/* The pages' renderer (pages_options.render); arg is the server. */
enum op_rc httpd_render_page(void *arg, unsigned variant, struct buf *out);
enum MHD_Result httpd_serve_metrics(struct req *q);
/* GET /api/v1/checks (name NULL) and /api/v1/checks/{name}. */
enum MHD_Result httpd_serve_checks(struct req *q, const char *name);
/* The server's own families on the metrics page (rt_set_metrics_hook):
 * requests, connections, pages. */
void httpd_render_families(struct expo *e, void *arg);

/* ---- blackbox's /probe (httpd_probe.c) ---- */

enum MHD_Result httpd_serve_probe(struct req *q);
/* Wake every /probe request waiting for its run: they answer 503 now, so
 * stopping the daemons never waits for a probe. */
void httpd_probe_stop(struct httpd *h);

/* ---- gates (httpd_gates.c) ---- */

enum MHD_Result httpd_serve_argo(struct req *q, const char *name);
enum MHD_Result httpd_serve_flagger(struct req *q, const char *name);
/* Flagger's request up to the verdict, for every Flagger gate: credentials
 * (the body's metadata.token when no Authorization header was checked),
 * the hook (?hook=, default "rollout"; one of hooks, NULL-terminated, else
 * 400 with usage) and the body (400 unless Flagger's object). Returns the
 * body (caller json_decref), *hook (static or the query's) and *checksum
 * (borrowed from the body, may be NULL); or NULL with the answer queued
 * in *ret. */
json_t *httpd_flagger_request(struct req *q, const char *const *hooks, const char *usage,
                              const char **hook, const char **checksum, enum MHD_Result *ret);
/* Start reading a POST's body (Flagger's, the maintenance API's) into a
 * capped buffer, 64 KiB (the first call). */
enum MHD_Result httpd_start_body(struct req *q);
/* Accumulate the body across MHD's calls, capped. Returns true once
 * the body is complete (the final call); *early is set when a response was
 * already queued (oversized). */
bool httpd_read_body(struct req *q, const char *upload, size_t *upload_size,
                     enum MHD_Result *early);

/* ---- the canary run history (httpd_history.c) ---- */

/* Record a gate call that got a verdict, with the status it is answered
 * (before it is sent, so an answered call is on disk). Strings borrowed.
 * Never fails the gate: a failure is logged and counted. */
void httpd_history_record(struct req *q, const char *canary, enum hist_source source,
                          const char *revision, enum hist_hook hook, const char *phase,
                          const struct canary_verdict *v, unsigned status);
/* GET /api/v1/canaries/{name}/runs and .../runs/{id}; rest is the path after
 * RUNS_PREFIX. */
enum MHD_Result httpd_serve_runs(struct req *q, const char *rest);
/* outpost_history_errors_total, on the server's own families. */
void httpd_history_families(struct expo *e, struct httpd *h);
/* ---- SLO gates (httpd_slogates.c) ---- */

/* POST /gates/flagger/slo/{slo} and GET /gates/argo/slo/{slo}. */
enum MHD_Result httpd_serve_flagger_slo(struct req *q, const char *name);
enum MHD_Result httpd_serve_argo_slo(struct req *q, const char *name);
/* ---- maintenance windows (httpd_maint.c) ---- */

/* /api/v1/maintenance[/{name}]: GET lists, POST starts reading the body
 * (then httpd_maint_post), DELETE ends an ad-hoc window. Credentials are
 * required (gate). */
enum MHD_Result httpd_serve_maint(struct req *q, const char *url, const char *method);
/* The POST once its body is read. */
enum MHD_Result httpd_maint_post(struct req *q);

/* ---- the status page (httpd_status.c: JSON; httpd_statuspage.c: HTML) ---- */

/* GET /api/v1/status: the status model as JSON. */
enum MHD_Result httpd_serve_status_api(struct req *q);
/* The query of q (?group=G&state=S&page=N&per_page=M; status.h) into
 * out, strings borrowed from the connection. Malformed (page 0, per_page
 * over 1000, an unknown state...): the 400 answer ({"error": why}) is
 * queued, *answered is set and its result returned; else MHD_YES. */
enum MHD_Result httpd_status_query(struct req *q, struct status_query *out, bool *answered);
/* The model for q's query (caller json_decref), or NULL with the answer
 * queued in *ret: 400 with a JSON error ({"error": why}, plus "name" for a
 * group no check has) for a bad query. For both status handlers. */
json_t *httpd_status_model(struct req *q, enum MHD_Result *ret);
/* GET /status: the same model rendered as one HTML page. */
enum MHD_Result httpd_serve_status_page(struct req *q);

#endif
