/*
 * httpd_probe.c - GET /probe?module=M&target=T[&debug=true]: blackbox_exporter's
 * probe endpoint (httpd_int.h). The module (modules.h) becomes a check for
 * that one target; the probe thread runs it once (probe_loop_run_adhoc) and
 * this connection's thread waits for the result on a condition, never
 * longer than the timeout plus HTTPD_PROBE_MARGIN_MS, then answers with
 * blackbox_exporter's families (bbexpo.h).
 */
#include "bbexpo.h"
#include "gen.h"
#include "httpd_int.h"
#include "modules.h"
#include "probe.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* blackbox_exporter's --timeout-offset default and its timeout without a
 * Prometheus header or a module timeout. */
#define HTTPD_PROBE_OFFSET_S 0.5
#define HTTPD_PROBE_DEFAULT_TIMEOUT_S 120.0
/* How much longer than the probe's own timeout a request waits for its
 * result: the loop ends a run at its deadline, this covers the hand-over. */
#define HTTPD_PROBE_MARGIN_MS 250
/* The caps of the debug answer and of the metrics of one probe. */
#define HTTPD_PROBE_MAX_BYTES (256u << 10)

/*
 * One probe between this thread and the probe thread: two references (the
 * waiter's and the run's), the last one frees it with the check and the
 * generation that owns the module, so a run whose waiter gave up still
 * has its settings.
 */
struct probe_req {
    atomic_int refs;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool done;  /* the run reported (res holds it) */
    bool abort; /* the server stops: answer now */
    struct bbexpo_result res;
    struct check_spec *spec;
    struct gen *gen;
    struct probe_req *next; /* on the server's list of waiters */
};

static void req_release(struct probe_req *r)
{
    if (atomic_fetch_sub(&r->refs, 1) != 1)
        return;
    cfg_check_spec_free(r->spec);
    gen_unref(r->gen);
    pthread_cond_destroy(&r->cond);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

/* The probe thread's one report (probe.h): copy, wake the waiter, let go. */
static void on_report(void *arg, const struct check_result *res)
{
    struct probe_req *r = arg;
    pthread_mutex_lock(&r->mu);
    if (res)
        bbexpo_copy(&r->res, res);
    r->done = true;
    pthread_cond_signal(&r->cond);
    pthread_mutex_unlock(&r->mu);
    req_release(r);
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Wait for r's report until deadline_ns (CLOCK_MONOTONIC) or the server
 * stops. Returns true when the report came. */
static bool wait_report(struct httpd *h, struct probe_req *r, int64_t deadline_ns)
{
    pthread_mutex_lock(&h->probe_lock);
    if (h->probe_stopping) {
        pthread_mutex_unlock(&h->probe_lock);
        return false;
    }
    r->next = h->probe_waiters;
    h->probe_waiters = r;
    pthread_mutex_unlock(&h->probe_lock);

    struct timespec until = {.tv_sec = deadline_ns / 1000000000,
                             .tv_nsec = deadline_ns % 1000000000};
    pthread_mutex_lock(&r->mu);
    while (!r->done && !r->abort) {
        if (pthread_cond_timedwait(&r->cond, &r->mu, &until) == ETIMEDOUT)
            break;
    }
    bool done = r->done;
    pthread_mutex_unlock(&r->mu);

    pthread_mutex_lock(&h->probe_lock);
    for (struct probe_req **p = &h->probe_waiters; *p; p = &(*p)->next) {
        if (*p == r) {
            *p = r->next;
            break;
        }
    }
    pthread_mutex_unlock(&h->probe_lock);
    return done;
}

void httpd_probe_stop(struct httpd *h)
{
    pthread_mutex_lock(&h->probe_lock);
    h->probe_stopping = true;
    for (struct probe_req *r = h->probe_waiters; r; r = r->next) {
        pthread_mutex_lock(&r->mu);
        r->abort = true;
        pthread_cond_signal(&r->cond);
        pthread_mutex_unlock(&r->mu);
    }
    pthread_mutex_unlock(&h->probe_lock);
}

/*
 * blackbox_exporter's getTimeout: the Prometheus header's value (120 s
 * without one, or when it is 0) minus the offset; the module's timeout
 * instead when it is set and smaller, or when the offset left nothing.
 * OP_ERR_INVALID when the header is not a number.
 */
STATIC enum op_rc httpd_probe_timeout(const char *header, int64_t module_ms, double *out_s);

STATIC enum op_rc httpd_probe_timeout(const char *header, int64_t module_ms, double *out_s)
{
    double t = 0;
    if (header && *header) {
        char *end;
        errno = 0;
        t = strtod(header, &end);
        if (end == header || *end != '\0' || errno == ERANGE || isnan(t))
            return OP_ERR_INVALID;
    }
    if (t == 0)
        t = HTTPD_PROBE_DEFAULT_TIMEOUT_S;
    double max = t - HTTPD_PROBE_OFFSET_S, module_s = (double)module_ms / 1000.0;
    *out_s = (module_s < max && module_s > 0) || max < 0 ? module_s : max;
    return OP_OK;
}

static enum MHD_Result send_metrics(struct req *q, struct buf *b, const char *ctype)
{
    if (b->failed) {
        buf_free(b);
        return httpd_send_text(q, MHD_HTTP_INTERNAL_SERVER_ERROR, "probe answer too large\n");
    }
    size_t len = b->len;
    return httpd_send_owned(q, MHD_HTTP_OK, buf_take(b), len, ctype, false);
}

/* A text answer of the three pieces (a name from the request between). */
static enum MHD_Result send3(struct req *q, unsigned status, const char *a, const char *b,
                             const char *c)
{
    struct buf m;
    buf_init(&m, 8192);
    buf_adds(&m, a);
    buf_adds(&m, b);
    buf_adds(&m, c);
    enum MHD_Result ret = httpd_send_text(q, status, buf_str_or(&m, "bad request\n"));
    buf_free(&m);
    return ret;
}

/* The answer once the run reported (or the wait ended): the families, or
 * with debug the probe log, the families and the module. */
static enum MHD_Result answer(struct req *q, const struct bb_module *m,
                              const struct check_spec *spec, const struct bbexpo_result *res,
                              bool debug, double timeout_s, double waited)
{
    const char *prober = bb_module_prober(m);
    const struct check_type *type = check_type_of(spec->type);
    double duration = res->ran ? res->res.duration : waited;
    struct buf metrics;
    buf_init(&metrics, HTTPD_PROBE_MAX_BYTES);
    bbexpo_render(res, prober, spec->target, duration, type->reasons, type->n_reasons, &metrics);
    if (!debug)
        return send_metrics(q, &metrics, EXPO_CT_TEXT);
    struct buf b;
    buf_init(&b, HTTPD_PROBE_MAX_BYTES);
    buf_adds(&b, "Logs for the probe:\n");
    bbexpo_log(res, bb_module_name(m), prober, spec->target, timeout_s, duration, &b);
    buf_adds(&b, "\n\n\nMetrics that would have been returned:\n");
    buf_adds(&b, buf_str_or(&metrics, "(too large)\n"));
    buf_adds(&b, "\n\n\nModule configuration:\n");
    bb_module_describe(m, &b);
    buf_free(&metrics);
    return send_metrics(q, &b, "text/plain; charset=utf-8");
}

static enum MHD_Result probe_module(struct req *q, struct gen *g, const struct bb_module *m,
                                    const char *target, bool debug, double timeout_s)
{
    struct httpd *h = q->h;
    int64_t timeout_ms = (int64_t)(timeout_s * 1000.0);
    if (timeout_ms < 1)
        timeout_ms = 1; /* blackbox's context would be over already: fails at once */
    struct buf err;
    buf_init(&err, 4096);
    struct check_spec *spec = NULL;
    if (bb_module_check(m, bb_module_name(m), target, timeout_ms, &spec, &err) != OP_OK) {
        enum MHD_Result ret = send3(q, MHD_HTTP_BAD_REQUEST, "",
                                    buf_str_or(&err, "invalid target for this module"), "\n");
        buf_free(&err);
        gen_unref(g);
        return ret;
    }
    buf_free(&err);
    struct probe_req *r = xcalloc(1, sizeof(*r));
    atomic_init(&r->refs, 2);
    pthread_mutex_init(&r->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->cond, &ca);
    pthread_condattr_destroy(&ca);
    r->spec = spec;
    r->gen = g; /* the module and its CA stores live as long as the run */
    int64_t t0 = mono_ns();
    enum op_rc rc = probe_loop_run_adhoc(rt_probe_loop(h->rt), spec, h->max_probes, on_report, r);
    if (rc != OP_OK) {
        req_release(r); /* the run's reference: it never started */
        req_release(r);
        if (rc == OP_ERR_LIMIT) {
            char text[128], secs[8] = "1";
            snprintf(text, sizeof(text),
                     "too many probes in flight (--probe.max-concurrent=%u); retry later\n",
                     h->max_probes);
            struct MHD_Response *resp = httpd_text_response(text);
            if (resp)
                MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, secs);
            return httpd_respond(q, MHD_HTTP_SERVICE_UNAVAILABLE, resp);
        }
        return httpd_send_text(q, MHD_HTTP_SERVICE_UNAVAILABLE,
                               "not ready: the probe loop does not run\n");
    }
    bool done = wait_report(h, r, t0 + (timeout_ms + HTTPD_PROBE_MARGIN_MS) * 1000000);
    enum MHD_Result ret;
    if (!done && h->probe_stopping) {
        ret = httpd_send_text(q, MHD_HTTP_SERVICE_UNAVAILABLE, "shutting down\n");
    } else {
        /* A run that has not reported by now counts as timed out; its
         * report, when it comes, only frees what it holds. */
        pthread_mutex_lock(&r->mu);
        struct bbexpo_result copy = r->res;
        pthread_mutex_unlock(&r->mu);
        ret = answer(q, m, spec, &copy, debug, timeout_s, (double)(mono_ns() - t0) / 1e9);
    }
    req_release(r);
    return ret;
}

enum MHD_Result httpd_serve_probe(struct req *q)
{
    const char *module = MHD_lookup_connection_value(q->c, MHD_GET_ARGUMENT_KIND, "module");
    const char *target = MHD_lookup_connection_value(q->c, MHD_GET_ARGUMENT_KIND, "target");
    const char *debug = MHD_lookup_connection_value(q->c, MHD_GET_ARGUMENT_KIND, "debug");
    const char *hdr =
        MHD_lookup_connection_value(q->c, MHD_HEADER_KIND, "X-Prometheus-Scrape-Timeout-Seconds");
    /* blackbox_exporter's order: the module (http_2xx when none is named),
     * the timeout, then the target. */
    if (!module || !*module)
        module = "http_2xx";
    struct gen *g = rt_acquire_gen(q->h->rt);
    const struct bb_module *m = cfg_find_module(gen_cfg(g), module);
    if (!m) {
        gen_unref(g);
        return send3(q, MHD_HTTP_BAD_REQUEST, "Unknown module \"", module, "\"\n");
    }
    double timeout_s;
    if (httpd_probe_timeout(hdr, bb_module_timeout_ms(m), &timeout_s) != OP_OK) {
        gen_unref(g);
        return send3(q, MHD_HTTP_INTERNAL_SERVER_ERROR,
                     "Failed to parse timeout from Prometheus header: ", hdr, " is not a number\n");
    }
    if (!target || !*target) {
        gen_unref(g);
        return httpd_send_text(q, MHD_HTTP_BAD_REQUEST, "Target parameter is missing\n");
    }
    /* Not an open proxy: a target outside the module's allowed_targets is
     * refused before anything is built for it, so the module's credentials
     * never go near it. */
    if (!bb_module_target_allowed(m, target)) {
        gen_unref(g);
        return send3(q, MHD_HTTP_FORBIDDEN, "target not allowed by module \"", module, "\"\n");
    }
    return probe_module(q, g, m, target, debug && strcmp(debug, "true") == 0, timeout_s);
}
