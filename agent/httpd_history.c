/* httpd_history.c - the canary run history over HTTP (httpd_int.h): the
 * calls the gates record, GET /api/v1/canaries/{name}/runs[/{id}], and
 * outpost_history_errors_total. */
#include "httpd_int.h"
#include "gen.h"
#include "runtime.h"

#include <stdlib.h>
#include <string.h>

/* A run with every call of a run waiting on confirm-promotion for weeks
 * stays far below this (about 500 bytes a call). */
#define HTTPD_MAX_HISTORY_JSON (64u << 20)

void httpd_history_record(struct req *q, const char *canary, enum hist_source source,
                          const char *revision, enum hist_hook hook, const char *phase,
                          const struct canary_verdict *v, unsigned status)
{
    struct httpd *h = q->h;
    if (!h->history) {
        /* Not open (the start-up log says why): every call it misses counts. */
        atomic_fetch_add(&h->history_missing, 1);
        return;
    }
    struct hist_call c = {
        .canary = canary,
        .source = source,
        .revision = revision,
        .hook = hook,
        .phase = phase,
        .verdict = canary_verdict_name(v->verdict),
        .score = v->score,
        .fisher_p = v->fisher_p,
        .baseline = {(int64_t)v->baseline.n, v->baseline.ratio, v->baseline.p50, v->baseline.p95,
                     v->baseline.p99},
        .canary_arm = {(int64_t)v->canary.n, v->canary.ratio, v->canary.p50, v->canary.p95,
                       v->canary.p99},
        .shift = v->shift,
        .shift_lower = v->shift_lower,
        .shift_upper = v->shift_upper,
        .reason = v->reason,
        .status = (int)status,
    };
    /* A failure is logged and counted by the history; the gate answers. */
    enum op_rc rc = history_record(h->history, &c);
    (void)rc;
}

void httpd_history_families(struct expo *e, struct httpd *h)
{
    expo_family(e, "outpost_history_errors_total", EXPO_COUNTER,
                "Canary gate calls the run history could not record, and its hourly "
                "housekeeping passes that failed.");
    expo_sample_u64(e, "outpost_history_errors_total", "", NULL, 0, NULL,
                    history_errors(h->history) + atomic_load(&h->history_missing));
}

/* {"error":error,"name":name} with the name as the history writes names
 * (it came from the request line: any bytes). */
static enum MHD_Result send_error(struct req *q, unsigned status, const char *error,
                                  const char *name)
{
    struct buf b;
    buf_init(&b, 1u << 20);
    buf_adds(&b, "{\"error\":");
    history_json_string(&b, error);
    if (name) {
        buf_adds(&b, ",\"name\":");
        history_json_string(&b, name);
    }
    buf_adds(&b, "}\n");
    if (b.failed)
        return httpd_send_text(q, MHD_HTTP_INTERNAL_SERVER_ERROR, "error too large\n");
    size_t len = b.len;
    return httpd_send_owned(q, status, buf_take(&b), len, "application/json", false);
}

static enum MHD_Result send_json(struct req *q, struct buf *b)
{
    buf_addc(b, '\n');
    if (b->failed)
        return send_error(q, MHD_HTTP_INTERNAL_SERVER_ERROR, "answer larger than its cap", NULL);
    size_t len = b->len;
    return httpd_send_owned(q, MHD_HTTP_OK, buf_take(b), len, "application/json", false);
}

static bool configured(struct httpd *h, const char *name)
{
    struct gen *g = rt_acquire_gen(h->rt);
    bool yes = cfg_find_canary(gen_cfg(g), name) != NULL;
    gen_unref(g);
    return yes;
}

static enum MHD_Result serve_list(struct req *q, const char *name)
{
    const char *ls = MHD_lookup_connection_value(q->c, MHD_GET_ARGUMENT_KIND, "limit");
    uint64_t limit = HIST_DEFAULT_LIST;
    if (ls && (parse_u64(ls, strlen(ls), HIST_MAX_LIST, &limit) != OP_OK || limit == 0))
        return send_error(q, MHD_HTTP_BAD_REQUEST, "limit must be a whole number from 1 to 1000",
                          NULL);
    struct hist_run *runs;
    size_t n;
    if (history_list(q->h->history, name, (unsigned)limit, &runs, &n) != OP_OK)
        return send_error(q, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot read the run history", NULL);
    /* A canary removed from the configuration keeps its runs, by name. */
    if (n == 0 && !configured(q->h, name)) {
        history_runs_free(runs, n);
        return send_error(q, MHD_HTTP_NOT_FOUND, "no canary of that name", name);
    }
    struct buf b;
    buf_init(&b, HTTPD_MAX_HISTORY_JSON);
    history_runs_json(name, runs, n, &b);
    history_runs_free(runs, n);
    return send_json(q, &b);
}

static enum MHD_Result serve_run(struct req *q, const char *name, const char *idtext)
{
    uint64_t id;
    if (parse_u64(idtext, strlen(idtext), INT64_MAX, &id) != OP_OK)
        return send_error(q, MHD_HTTP_BAD_REQUEST, "a run id is a whole number", NULL);
    struct hist_run *run;
    struct hist_call_row *calls;
    size_t n;
    enum op_rc rc = history_get(q->h->history, name, (int64_t)id, &run, &calls, &n);
    if (rc == OP_ERR_NOT_FOUND)
        return send_error(q, MHD_HTTP_NOT_FOUND, "no run of that id for this canary", name);
    if (rc != OP_OK)
        return send_error(q, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot read the run history", NULL);
    struct buf b;
    buf_init(&b, HTTPD_MAX_HISTORY_JSON);
    history_run_json(run, calls, n, &b);
    history_runs_free(run, 1);
    history_calls_free(calls, n);
    return send_json(q, &b);
}

/* rest: what follows /api/v1/canaries/, %-decoded: "{name}/runs" or
 * "{name}/runs/{id}". A canary's name may hold '/' (even "/runs/"), so the
 * path is read from its end: the name is everything before the last
 * "/runs" segment. */
enum MHD_Result httpd_serve_runs(struct req *q, const char *rest)
{
    static const char suffix[] = "/runs";
    size_t len = strlen(rest), sl = strlen(suffix);
    const char *id = NULL;
    size_t name_len = 0;
    if (len > sl && strcmp(rest + len - sl, suffix) == 0) {
        name_len = len - sl;
    } else {
        for (const char *p = rest; (p = strstr(p, "/runs/")); p++) {
            name_len = (size_t)(p - rest);
            id = p + sl + 1;
        }
    }
    if (name_len == 0)
        return send_error(q, MHD_HTTP_NOT_FOUND,
                          "not found (GET /api/v1/canaries/{name}/runs or .../runs/{id})", NULL);
    if (!q->h->history)
        return send_error(q, MHD_HTTP_SERVICE_UNAVAILABLE,
                          "the run history is not open (the agent's log says why)", NULL);
    char *name = xstrndup(rest, name_len);
    enum MHD_Result r = id ? serve_run(q, name, id) : serve_list(q, name);
    free(name);
    return r;
}
