/*
 * flow_check.c - runs of the `flow` check type: a state machine on the
 * probe thread that starts one http request per step (http_check.h) and
 * goes on from each step's report, with no thread of its own.
 *
 * A run: step 0 starts with the run; each report records the step, takes
 * its captures when it passed, and the plan (flow_plan) says what happens
 * to each following step until one starts or none is left. The first
 * failing step fails the flow and gives its reason; after it only
 * `always_run` steps run (clean-up), and their failures are theirs alone.
 * A clean-up step that fails in a flow that had not failed fails it. The
 * flow's timeout bounds the whole run: each step gets what is left of it
 * (at most its own timeout), and a step due after the deadline does not
 * run (clean-up included).
 *
 * One cookie jar per run (a libcurl share that every step's request
 * uses), and, when a step reuses connections, one connection pool per run
 * in the same share, closed when the run ends: a step that reuses takes
 * the connection an earlier step of the run left open, and no connection
 * outlives its run.
 */
#include "cfg_yaml.h"
#include "common.h"
#include "detail.h"
#include "flow_check.h"

#include <stdlib.h>
#include <string.h>

struct flow_run {
    struct probe_loop *loop;
    const struct check_spec *check;
    const struct flow_spec *spec;
    struct probe_job *job;
    int64_t deadline_ns; /* the flow's: its start plus its timeout */
    CURLSH *share;       /* the run's cookies (and connections) */
    void *req;           /* the step in flight, NULL between steps */
    size_t cur;          /* its index */
    bool failed;         /* a step failed: only always_run steps run now */
    size_t first_failure;
    size_t last_run; /* the last step that ran; SIZE_MAX while none did */
    uint64_t taken;  /* bit k: capture k was taken */
    struct flow_value *values;
    struct check_step *steps;
    char (*details)[CHECK_DETAIL_MAX];
    /* The request in flight with its captures in: secrets, wiped when it
     * reports. NULL when the step's own setting is sent as is. */
    char *url, *body;
    struct header_kv *headers;
    size_t n_headers;
    /* The flow's result: libcurl's measurements summed over the steps. */
    double duration, phases[CHECK_PHASE_COUNT], cert_expiry;
};

enum flow_next flow_plan(const struct flow_spec *spec, size_t i, bool failed, uint64_t taken,
                         bool time_up)
{
    const struct flow_step *st = &spec->steps[i];
    if (failed && !st->always_run)
        return FLOW_SKIP_FAILED;
    if (time_up)
        return failed ? FLOW_SKIP_TIME : FLOW_TIMED_OUT;
    if (st->needs & ~taken)
        return FLOW_SKIP_CAPTURE;
    return FLOW_RUN;
}

/* ---- the request in flight ---- */

static void request_clear(struct flow_run *r)
{
    flow_wipe_free(r->url);
    flow_wipe_free(r->body);
    for (size_t i = 0; i < r->n_headers; i++)
        flow_wipe_free(r->headers[i].value);
    free(r->headers);
    r->url = r->body = NULL;
    r->headers = NULL;
    r->n_headers = 0;
}

/* The name of the capture a template would miss (flow_subst's *missing). */
static const char *capture_name(const struct flow_run *r, size_t k)
{
    return k < r->spec->n_captures ? r->spec->capture_names[k] : "?";
}

/* Put the run's captures into a step's url, header values and body (hs:
 * its settings) as the request to send (r->url, r->headers, r->body).
 * CHECK_REASON_NONE, or CHECK_REASON_CAPTURE with why in d: a value was
 * not taken, or cannot go where the step puts it (a line break in a
 * header; a URL that is no longer one). Never shows a value. */
static enum check_reason substitute(struct flow_run *r, const struct http_spec *hs,
                                    struct detail *d)
{
    size_t missing = SIZE_MAX;
    const struct flow_value *v = r->values;
    size_t n = r->spec->n_captures;
    if (flow_is_template(hs->url)) {
        const char *why;
        if (flow_subst(hs->url, v, n, &r->url, &missing) != OP_OK)
            goto missing;
        if (!cfg_http_url_ok(r->url, &why)) {
            detail_addf(d, "url with its captures: %s", why);
            return CHECK_REASON_CAPTURE;
        }
    }
    bool any = false;
    for (size_t i = 0; i < hs->n_headers; i++)
        any |= flow_is_template(hs->headers[i].value);
    if (any) {
        r->headers = xcalloc(hs->n_headers, sizeof(*r->headers));
        r->n_headers = hs->n_headers;
        for (size_t i = 0; i < hs->n_headers; i++) {
            r->headers[i].name = hs->headers[i].name; /* borrowed */
            if (flow_subst(hs->headers[i].value, v, n, &r->headers[i].value, &missing) != OP_OK)
                goto missing;
            /* Raw, as in the url and body: a value that would end the
             * header line (or start another) is refused, never sent. */
            if (strpbrk(r->headers[i].value, "\r\n")) {
                detail_addf(d, "header %s with its captures holds a line break: not sent",
                            hs->headers[i].name);
                return CHECK_REASON_CAPTURE;
            }
        }
    }
    if (flow_is_template(hs->body) && flow_subst(hs->body, v, n, &r->body, &missing) != OP_OK)
        goto missing;
    return CHECK_REASON_NONE;
missing:
    detail_addf(d, "capture %s was not taken", capture_name(r, missing));
    return CHECK_REASON_CAPTURE;
}

/* ---- recording steps ---- */

/* Step i ended without a request (not started, or refused before one):
 * a failure with why and d's text. */
static void fail_here(struct flow_run *r, size_t i, enum check_reason why)
{
    struct check_step *s = &r->steps[i];
    s->success = false;
    s->reason = why;
    if (!r->failed) {
        r->failed = true;
        r->first_failure = i;
    }
}

static void skip(struct flow_run *r, size_t i, const char *why)
{
    struct detail d;
    detail_init(&d, r->details[i], CHECK_DETAIL_MAX);
    detail_add(&d, why);
    r->steps[i].skipped = true;
}

static void skip_failed(struct flow_run *r, size_t i)
{
    struct detail d;
    detail_init(&d, r->details[i], CHECK_DETAIL_MAX);
    detail_add(&d, "not run: step ");
    detail_add(&d, r->steps[r->first_failure].name);
    detail_add(&d, " failed");
    r->steps[i].skipped = true;
}

/* The time left for a step, at most its own timeout: what libcurl gets. */
static int64_t time_left_ms(const struct flow_run *r, const struct flow_step *st)
{
    int64_t left = (r->deadline_ns - probe_now_ns(r->loop)) / 1000000;
    if (left > st->http.timeout_ms)
        left = st->http.timeout_ms;
    return left > 0 ? left : 1;
}

static bool needs_from(const struct flow_step *st, bool header)
{
    for (size_t k = 0; k < st->n_captures; k++) {
        enum flow_capture_from f = st->captures[k].from;
        if (header == (f == FLOW_FROM_HEADER || f == FLOW_FROM_HEADER_RE))
            return true;
    }
    return false;
}

static void on_step(struct probe_loop *loop, const struct check_result *res,
                    const struct http_response *resp, void *arg);

/* Start step i: true when its request runs (it reports later); false when
 * it ended here, recorded as a failure. */
static bool start_step(struct flow_run *r, size_t i)
{
    const struct flow_step *st = &r->spec->steps[i];
    const struct http_spec *hs = http_spec_of(&st->http);
    struct detail d;
    detail_init(&d, r->details[i], CHECK_DETAIL_MAX);
    enum check_reason why = substitute(r, hs, &d);
    if (why != CHECK_REASON_NONE) {
        request_clear(r);
        fail_here(r, i, why);
        return false;
    }
    struct http_request rq = {
        .url = r->url,
        .headers = r->headers,
        .body = r->body,
        .timeout_ms = time_left_ms(r, st),
        .share = r->share,
        .fresh_connect = !st->reuse_connection,
        .forbid_reuse = !st->reuse_connection,
        .keep_body = needs_from(st, false),
        .keep_headers = needs_from(st, true),
    };
    r->cur = i;
    if (http_request_start(r->loop, &st->http, &rq, on_step, r, &r->req) != OP_OK) {
        request_clear(r);
        detail_add(&d, "cannot start the request");
        fail_here(r, i, CHECK_REASON_OTHER);
        return false;
    }
    return true;
}

static void finish(struct flow_run *r);

/* Go on from step `from`: start the next step that runs, or end the run. */
static void advance(struct flow_run *r, size_t from)
{
    for (size_t i = from; i < r->spec->n_steps; i++) {
        /* Under a millisecond left is no time: a step's budget is whole
         * milliseconds (libcurl's), so a step that used all of its budget
         * ends within one of the deadline. */
        bool time_up = r->deadline_ns - probe_now_ns(r->loop) < 1000000;
        struct detail d;
        switch (flow_plan(r->spec, i, r->failed, r->taken, time_up)) {
        case FLOW_RUN:
            if (start_step(r, i))
                return;
            break;
        case FLOW_SKIP_FAILED:
            skip_failed(r, i);
            break;
        case FLOW_SKIP_TIME:
            skip(r, i, "not run: the flow's timeout was reached");
            break;
        case FLOW_TIMED_OUT:
            detail_init(&d, r->details[i], CHECK_DETAIL_MAX);
            detail_addf(&d, "not run: the flow's timeout (%.3f s) was reached before it",
                        (double)r->check->timeout_ms / 1000.0);
            fail_here(r, i, CHECK_REASON_TIMEOUT);
            break;
        case FLOW_SKIP_CAPTURE:
            if (r->failed) {
                detail_init(&d, r->details[i], CHECK_DETAIL_MAX);
                uint64_t miss = r->spec->steps[i].needs & ~r->taken;
                size_t k = 0;
                while (!(miss & ((uint64_t)1 << k)))
                    k++;
                detail_addf(&d, "not run: capture %s was not taken", capture_name(r, k));
                r->steps[i].skipped = true;
            } else {
                /* Every earlier step passed and took its captures: not
                 * reached, but never a silent pass. */
                detail_init(&d, r->details[i], CHECK_DETAIL_MAX);
                detail_add(&d, "a capture it uses was not taken");
                fail_here(r, i, CHECK_REASON_CAPTURE);
            }
            break;
        }
    }
    finish(r);
}

/* A step's request reported: record it, take its captures, go on. */
static void on_step(struct probe_loop *loop, const struct check_result *res,
                    const struct http_response *resp, void *arg)
{
    (void)loop;
    struct flow_run *r = arg;
    size_t i = r->cur;
    const struct flow_step *st = &r->spec->steps[i];
    struct check_step *s = &r->steps[i];
    r->req = NULL;
    request_clear(r);
    r->last_run = i;
    s->success = res->success;
    s->reason = res->reason;
    s->duration = res->duration;
    s->status = res->status;
    memcpy(r->details[i], res->detail, CHECK_DETAIL_MAX);
    r->details[i][CHECK_DETAIL_MAX - 1] = '\0';
    r->duration += res->duration;
    for (int p = 0; p < CHECK_PHASE_COUNT; p++)
        r->phases[p] += res->phases[p];
    if (res->cert_expiry > 0 && (r->cert_expiry == 0 || res->cert_expiry < r->cert_expiry))
        r->cert_expiry = res->cert_expiry;
    /* Captures are taken only from a response that passed its
     * expectations; the first one missing fails the step. */
    for (size_t k = 0; s->success && k < st->n_captures; k++) {
        const struct flow_capture *cap = &st->captures[k];
        if (flow_capture_take(cap, resp, &r->values[cap->index], r->details[i], CHECK_DETAIL_MAX) ==
            CHECK_REASON_NONE) {
            r->taken |= (uint64_t)1 << cap->index;
        } else {
            s->success = false;
            s->reason = CHECK_REASON_CAPTURE;
        }
    }
    flow_redact(r->details[i], CHECK_DETAIL_MAX, r->values, r->spec->n_captures,
                r->spec->capture_names);
    if (!s->success && !r->failed) {
        r->failed = true;
        r->first_failure = i;
    }
    advance(r, i + 1);
}

/* ---- the run ---- */

static void run_free(struct flow_run *r)
{
    request_clear(r);
    for (size_t k = 0; k < r->spec->n_captures; k++)
        flow_value_clear(&r->values[k]);
    free(r->values);
    free(r->steps);
    free(r->details);
    /* Every request's easy handle is gone (http frees it before it
     * reports, or at cancel): the share, its cookies and its pooled
     * connections go with it. */
    if (r->share)
        (void)curl_share_cleanup(r->share);
    free(r);
}

/* Report the flow once, then free the run. */
static void finish(struct flow_run *r)
{
    struct check_result res;
    memset(&res, 0, sizeof(res));
    res.type = &flow_check_type;
    res.success = !r->failed;
    res.reason = r->failed ? r->steps[r->first_failure].reason : CHECK_REASON_NONE;
    res.duration = r->duration;
    memcpy(res.phases, r->phases, sizeof(res.phases));
    res.cert_expiry = r->cert_expiry;
    /* The status of the step that decided: the first failure, else the
     * last step that ran. */
    size_t decided = r->failed ? r->first_failure : r->last_run;
    res.status = decided != SIZE_MAX ? r->steps[decided].status : 0;
    if (r->failed) {
        struct detail d;
        detail_init(&d, res.detail, sizeof(res.detail));
        detail_add(&d, "step ");
        detail_add(&d, r->steps[r->first_failure].name);
        detail_add(&d, ": ");
        detail_add(&d, r->details[r->first_failure]);
    }
    res.steps = r->steps;
    res.n_steps = r->spec->n_steps;
    struct probe_loop *loop = r->loop;
    struct probe_job *job = r->job;
    probe_done(loop, job, &res);
    run_free(r);
}

static enum op_rc flow_start(struct probe_loop *loop, const struct check_spec *c,
                             struct probe_job *job, void **run)
{
    const struct flow_spec *spec = flow_spec_of(c);
    struct flow_run *r = xcalloc(1, sizeof(*r));
    r->loop = loop;
    r->check = c;
    r->spec = spec;
    r->job = job;
    r->deadline_ns = probe_job_deadline_ns(job);
    r->last_run = SIZE_MAX;
    r->values = xcalloc(spec->n_captures ? spec->n_captures : 1, sizeof(*r->values));
    r->steps = xcalloc(spec->n_steps, sizeof(*r->steps));
    r->details = xcalloc(spec->n_steps, sizeof(*r->details));
    for (size_t i = 0; i < spec->n_steps; i++) {
        r->steps[i].name = spec->steps[i].http.name;
        r->steps[i].reason = CHECK_REASON_NONE;
        r->steps[i].detail = r->details[i];
    }
    enum op_rc rc = OP_ERR_SYSTEM;
    r->share = curl_share_init();
    if (!r->share ||
        curl_share_setopt(r->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_COOKIE) != CURLSHE_OK ||
        (spec->any_reuse &&
         curl_share_setopt(r->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT) != CURLSHE_OK))
        goto fail;
    /* Step 0 uses no capture (there is no earlier step) and has the whole
     * timeout: it either starts or nothing does. */
    if (!start_step(r, 0))
        goto fail;
    *run = r;
    return OP_OK;
fail:
    run_free(r);
    return rc;
}

static void flow_cancel(struct probe_loop *loop, void *run)
{
    struct flow_run *r = run;
    if (r->req)
        http_request_cancel(loop, r->req);
    run_free(r);
}

static size_t flow_step_count(const struct check_spec *c)
{
    return flow_spec_of(c)->n_steps;
}

static const char *flow_step_name(const struct check_spec *c, size_t i)
{
    return flow_spec_of(c)->steps[i].http.name;
}

/* An http request's reasons, and `capture`. */
static const enum check_reason flow_reasons[] = {
    CHECK_REASON_TIMEOUT,     CHECK_REASON_DNS,   CHECK_REASON_CONNECT, CHECK_REASON_TLS,
    CHECK_REASON_HTTP_STATUS, CHECK_REASON_BODY,  CHECK_REASON_HEADER,  CHECK_REASON_JSON,
    CHECK_REASON_LATENCY,     CHECK_REASON_OTHER, CHECK_REASON_CAPTURE,
};

const struct check_type flow_check_type = {
    .schema = &flow_schema,
    .reasons = flow_reasons,
    .n_reasons = ARRAY_SIZE(flow_reasons),
    .status_name = "HTTP status",
    .start = flow_start,
    .cancel = flow_cancel,
    .step_count = flow_step_count,
    .step_name = flow_step_name,
};
