/*
 * chrome.c - one browser run: the DevTools conversation that loads a page
 * and the facts taken from it (chrome.h). chrome_proc.c owns the process,
 * chrome_cdp.c the framing; this file decides.
 *
 * The flow (docs/internals.md, "Browser checks: the engine"):
 *   spawn; Browser.getVersion (its answer times the launch),
 *     [Security.setIgnoreCertificateErrors], Target.createTarget(about:blank)
 *   Target.attachToTarget(flatten): the page's session, then pipelined on it
 *     Page/Network/Runtime/Inspector.enable, lifecycle events, the LCP
 *     observer for every new document, [extra headers], [user agent]; once
 *     all are answered, Page.navigate(url)
 *   Network.responseReceived of the main frame's document: status, network
 *     phases, certificate expiry; Page.navigate's errorText: a net error
 *   the main frame's "load" lifecycle event of the navigation's loader:
 *     Runtime.evaluate of the page's facts (Navigation Timing, LCP, text,
 *     selector), again every CHROME_POLL_NS until the expectations hold or
 *     the deadline passes
 * Console errors (console.error and uncaught exceptions) are counted from
 * the navigation to the verdict. The verdict is taken once; then the group
 * is killed, reaped and the profile removed, and only then done runs.
 */
#include "chrome_int.h"
#include "detail.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Runs before any script of every new document: keeps the last
 * largest-contentful-paint candidate where the evaluation reads it. The
 * observer is buffered, so a paint before it was attached still counts. */
static const char LCP_SCRIPT[] =
    "(() => { try { const o = new PerformanceObserver((l) => { const e = l.getEntries(); "
    "if (e.length) window.__outpostLcp = e[e.length - 1].startTime; }); "
    "o.observe({type: 'largest-contentful-paint', buffered: true}); "
    "window.__outpostLcpObserver = o; } catch (e) {} })();";

static double since_s(const struct chrome *c, int64_t t)
{
    double d = (double)(probe_now_ns(c->loop) - t) / 1e9;
    return d > 0 ? d : 0;
}

static const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* A number of o, or dflt when absent or not a number. */
static double jnum(const json_t *o, const char *k, double dflt)
{
    const json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : dflt;
}

/* ---- the end ---- */

static void cancel_timers(struct chrome *c)
{
    probe_timer_cancel(c->loop, c->deadline);
    probe_timer_cancel(c->loop, c->poll);
    probe_timer_cancel(c->loop, c->grace);
    probe_timer_cancel(c->loop, c->sweep);
    probe_timer_cancel(c->loop, c->soon);
    c->deadline = c->poll = c->grace = c->sweep = c->soon = NULL;
}

static void chrome_free(struct chrome *c)
{
    cancel_timers(c);
    cdp_close(c);
    probe_unwatch(c->loop, c->pidw);
    if (c->pidfd >= 0)
        close(c->pidfd);
    probe_unwatch(c->loop, c->errw);
    if (c->errfd >= 0)
        close(c->errfd);
    free(c->profile);
    free(c->url);
    free(c->text_js);
    free(c->selector_js);
    free(c->user_agent);
    free(c->target_id);
    free(c->session_id);
    free(c->loader_id);
    free(c->load_loader);
    json_decref(c->headers);
    free(c);
}

void chrome_finish(struct chrome *c)
{
    chrome_profile_remove(c);
    c->done(c->arg, &c->facts);
    chrome_free(c);
}

static void on_soon(struct probe_loop *loop, void *arg)
{
    (void)loop;
    struct chrome *c = arg;
    c->soon = NULL;
    chrome_remove_step(c);
}

void chrome_end_run(struct chrome *c, enum chrome_end end, const char *fmt, ...)
{
    if (c->phase == PH_ENDING)
        return;
    c->phase = PH_ENDING;
    c->facts.end = end;
    c->facts.duration = since_s(c, c->t_spawn);
    char words[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(words, sizeof(words), fmt, ap);
    va_end(ap);
    struct detail d;
    detail_init(&d, c->facts.error, sizeof(c->facts.error));
    detail_add(&d, words);
    cancel_timers(c);
    cdp_close(c);
    chrome_kill_group(c);
    /* With a process, its pidfd's watch carries the teardown on (reap,
     * sweep, done); without one, a timer does, so done never runs inside
     * the caller. */
    if (c->pid <= 0)
        c->soon = probe_timer_at(c->loop, probe_now_ns(c->loop), on_soon, c);
}

/* How the process ended, with what it said last, into out. */
static void exit_words(struct chrome *c, char *out, size_t cap)
{
    chrome_drain_stderr(c);
    char line[160];
    chrome_stderr_line(c, line, sizeof(line));
    const char *sep = line[0] ? ": " : "";
    if (c->exit_code == CLD_EXITED)
        snprintf(out, cap, "the browser exited with status %d%s%s", c->exit_status, sep, line);
    else if (c->exit_code == CLD_KILLED || c->exit_code == CLD_DUMPED)
        snprintf(out, cap, "the browser was killed by signal %s%s%s",
                 sigabbrev_np(c->exit_status) ? sigabbrev_np(c->exit_status) : "?", sep, line);
    else
        snprintf(out, cap, "the browser exited%s%s", sep, line);
}

void chrome_on_exit(struct chrome *c)
{
    char words[200];
    exit_words(c, words, sizeof(words));
    chrome_end_run(c, CHROME_BROWSER, "%s", words);
}

static void on_grace(struct probe_loop *loop, void *arg)
{
    (void)loop;
    struct chrome *c = arg;
    c->grace = NULL;
    chrome_drain_stderr(c);
    char line[160];
    chrome_stderr_line(c, line, sizeof(line));
    chrome_end_run(c, CHROME_BROWSER, "the browser closed the DevTools pipe%s%s",
                   line[0] ? ": " : "", line);
}

void chrome_on_eof(struct chrome *c)
{
    if (c->phase == PH_ENDING || c->eof)
        return;
    c->eof = true;
    cdp_close(c);
    chrome_peek_exit(c);
    if (c->exited) {
        chrome_on_exit(c);
        return;
    }
    /* A browser that exits closes the pipe first: give its exit status a
     * moment to arrive, so the failure says why. */
    c->grace = probe_timer_at(c->loop, probe_now_ns(c->loop) + CHROME_EOF_GRACE_NS, on_grace, c);
}

static void on_deadline(struct probe_loop *loop, void *arg)
{
    (void)loop;
    struct chrome *c = arg;
    c->deadline = NULL;
    if (c->phase == PH_LAUNCH) {
        chrome_end_run(c, CHROME_TIMEOUT, "timeout: the browser was still starting");
        return;
    }
    if (c->phase == PH_NAVIGATE) {
        chrome_end_run(c, CHROME_TIMEOUT,
                       c->facts.status ? "timeout: the load event did not fire"
                                       : "timeout: no response to the navigation");
        return;
    }
    bool text_ok = !c->want_text || c->facts.text_found;
    bool sel_ok = !c->want_selector || c->facts.selector_found;
    if (text_ok && sel_ok) {
        /* Loaded, nothing (more) to wait for, but the page never answered
         * the evaluation: a load without its timings. */
        chrome_end_run(c, CHROME_LOADED, "%s", "");
        return;
    }
    chrome_end_run(c, CHROME_EXPECT_TIMEOUT, "%s%s%s%s",
                   text_ok ? "" : "text not found on the page", !text_ok && !sel_ok ? "; " : "",
                   sel_ok ? "" : "no element matches the selector",
                   c->evaluated ? "" : " (the page did not answer)");
}

/* ---- the page ---- */

static void evaluate(struct chrome *c, bool first);

static void on_poll(struct probe_loop *loop, void *arg)
{
    (void)loop;
    struct chrome *c = arg;
    c->poll = NULL;
    evaluate(c, false);
}

static void schedule_poll(struct chrome *c)
{
    if (c->phase == PH_LOADED && !c->poll)
        c->poll = probe_timer_at(c->loop, probe_now_ns(c->loop) + CHROME_POLL_NS, on_poll, c);
}

/* The evaluation of the page's facts. takeRecords hands over LCP entries
 * the observer has not delivered yet. The first, right after load, waits
 * until the page has an LCP entry, at most CHROME_LCP_WAIT_MS: the entry
 * of a paint the load triggered comes a frame or two after it. */
static void evaluate(struct chrome *c, bool first)
{
    if (c->phase != PH_LOADED || c->eval_in_flight)
        return;
    struct buf js;
    buf_init(&js, CHROME_OUT_MAX / 2);
    buf_adds(&js, "(async () => {"
                  "const lcpNow = () => { const o = window.__outpostLcpObserver;"
                  " if (o) { const r = o.takeRecords();"
                  " if (r.length) window.__outpostLcp = r[r.length - 1].startTime; }"
                  " return window.__outpostLcp; };");
    if (first)
        buf_addf(&js,
                 "await new Promise((r) => { const t0 = performance.now(); const f = () =>"
                 " (typeof lcpNow() === 'number' || performance.now() - t0 >= %d ? r()"
                 " : setTimeout(f, 20)); f(); });",
                 CHROME_LCP_WAIT_MS);
    buf_adds(&js, "const n = performance.getEntriesByType('navigation')[0];"
                  "const lcp = lcpNow();"
                  "let text = null, sel = null;");
    if (c->text_js)
        buf_addf(&js, "text = !!(document.body && document.body.innerText.includes(%s));",
                 c->text_js);
    if (c->selector_js)
        buf_addf(&js, "try { sel = !!document.querySelector(%s); } catch (e) { sel = 'invalid'; }",
                 c->selector_js);
    buf_adds(&js, "return {ttfb: n ? n.responseStart : null,"
                  " dcl: n ? n.domContentLoadedEventEnd : null,"
                  " load: n ? (n.loadEventEnd || n.loadEventStart) : null,"
                  " lcp: typeof lcp === 'number' ? lcp : null, text: text, sel: sel};"
                  "})()");
    if (js.failed) {
        buf_free(&js);
        chrome_end_run(c, CHROME_BROWSER, "the page's evaluation is too long");
        return;
    }
    json_t *p = json_pack("{s:s, s:b, s:b}", "expression", buf_str(&js), "returnByValue", 1,
                          "awaitPromise", 1);
    buf_free(&js);
    if (cdp_send(c, "Runtime.evaluate", p, true, REQ_EVAL))
        c->eval_in_flight = true;
}

/* Milliseconds from navigation start (a Navigation Timing field) in
 * seconds; NaN when the moment did not come (0) or is missing. */
static double ms_to_s(const json_t *o, const char *k)
{
    double v = jnum(o, k, -1);
    return v > 0 ? v / 1000 : NAN;
}

static void on_evaluated(struct chrome *c, const json_t *err, const json_t *res)
{
    c->eval_in_flight = false;
    if (c->phase != PH_LOADED)
        return;
    const json_t *v = json_object_get(json_object_get(res, "result"), "value");
    /* A page navigating or too busy to answer: the next poll asks again. */
    if (err || json_object_get(res, "exceptionDetails") || !json_is_object(v)) {
        schedule_poll(c);
        return;
    }
    c->evaluated = true;
    struct chrome_facts *f = &c->facts;
    f->ttfb = ms_to_s(v, "ttfb");
    f->dom_content_loaded = ms_to_s(v, "dcl");
    f->load = ms_to_s(v, "load");
    f->lcp = ms_to_s(v, "lcp");
    const json_t *sel = json_object_get(v, "sel");
    f->text_found = c->want_text && json_is_true(json_object_get(v, "text"));
    f->selector_found = c->want_selector && json_is_true(sel);
    if (json_is_string(sel)) {
        f->selector_invalid = true;
        chrome_end_run(c, CHROME_EXPECT_TIMEOUT, "the selector is not valid CSS");
        return;
    }
    if ((!c->want_text || f->text_found) && (!c->want_selector || f->selector_found)) {
        chrome_end_run(c, CHROME_LOADED, "%s", "");
        return;
    }
    schedule_poll(c);
}

/* Network.responseReceived: only the main frame's document counts (its
 * request id is the navigation's loader id; the main frame's id is the
 * target's). A redirect's final response is the one that arrives here. */
static void on_response_received(struct chrome *c, const json_t *params)
{
    const char *type = jstr(params, "type"), *frame = jstr(params, "frameId");
    const char *rid = jstr(params, "requestId"), *lid = jstr(params, "loaderId");
    if (c->phase != PH_NAVIGATE || !type || strcmp(type, "Document") != 0 || !frame ||
        strcmp(frame, c->target_id) != 0 || !rid || !lid || strcmp(rid, lid) != 0)
        return;
    const json_t *r = json_object_get(params, "response");
    double st = jnum(r, "status", 0);
    c->facts.status = st >= 100 && st <= 999 ? (int)st : 0;
    /* ResourceTiming: milliseconds after requestTime, -1 for a phase that
     * did not happen (no lookup for an IP address, no TLS for http). */
    const json_t *t = json_object_get(r, "timing");
    if (json_is_object(t)) {
        double d0 = jnum(t, "dnsStart", -1), d1 = jnum(t, "dnsEnd", -1);
        double c0 = jnum(t, "connectStart", -1), c1 = jnum(t, "connectEnd", -1);
        double s0 = jnum(t, "sslStart", -1), s1 = jnum(t, "sslEnd", -1);
        c->facts.resolve = d0 >= 0 && d1 >= d0 ? (d1 - d0) / 1000 : 0;
        /* connectStart..connectEnd includes the TLS handshake. */
        double tcp_end = s0 >= c0 ? s0 : c1;
        c->facts.connect = c0 >= 0 && tcp_end >= c0 ? (tcp_end - c0) / 1000 : 0;
        c->facts.tls = s0 >= 0 && s1 >= s0 ? (s1 - s0) / 1000 : 0;
    }
    double valid_to = jnum(json_object_get(r, "securityDetails"), "validTo", 0);
    c->facts.cert_expiry = valid_to > 0 ? valid_to : 0;
}

/* A command that must take effect before the navigation. */
static bool setup_send(struct chrome *c, const char *method, json_t *params, bool session)
{
    if (!cdp_send(c, method, params, session, REQ_SETUP))
        return false;
    c->setup_left++;
    return true;
}

/* Navigate once every set-up command is answered: pipelined behind them,
 * the navigation could commit in a new renderer before the LCP script or
 * the extra headers reached it. */
static void maybe_navigate(struct chrome *c)
{
    if (c->phase != PH_LAUNCH || !c->session_id || c->setup_left > 0)
        return;
    if (cdp_send(c, "Page.navigate", json_pack("{s:s}", "url", c->url), true, REQ_NAVIGATE))
        c->phase = PH_NAVIGATE;
}

static void setup_page(struct chrome *c)
{
    static const char *const enables[] = {"Page.enable", "Network.enable", "Runtime.enable",
                                          "Inspector.enable"};
    for (size_t i = 0; i < ARRAY_SIZE(enables); i++)
        if (!setup_send(c, enables[i], NULL, true))
            return;
    if (!setup_send(c, "Page.setLifecycleEventsEnabled", json_pack("{s:b}", "enabled", 1), true))
        return;
    if (!setup_send(c, "Page.addScriptToEvaluateOnNewDocument",
                    json_pack("{s:s}", "source", LCP_SCRIPT), true))
        return;
    if (c->headers && !setup_send(c, "Network.setExtraHTTPHeaders",
                                  json_pack("{s:O}", "headers", c->headers), true))
        return;
    if (c->user_agent && !setup_send(c, "Network.setUserAgentOverride",
                                     json_pack("{s:s}", "userAgent", c->user_agent), true))
        return;
}

/* The load event of the document navigated to: the main frame's "load"
 * lifecycle event under the navigation's loader (Page.navigate's answer
 * names it, or the main frame's last commit). They may arrive in either
 * order; about:blank's own events carry another loader. */
static void maybe_loaded(struct chrome *c)
{
    if (c->phase != PH_NAVIGATE || !c->navigated || !c->loader_id || !c->load_loader ||
        strcmp(c->loader_id, c->load_loader) != 0)
        return;
    c->phase = PH_LOADED;
    c->facts.load_seen = since_s(c, c->t_spawn);
    evaluate(c, true);
}

static void on_navigated(struct chrome *c, const json_t *res)
{
    const char *e = jstr(res, "errorText");
    /* An HTTP error without a body shows Chromium's own error page and
     * reports this; the response came, so it is a loaded page with a
     * status, not a network failure. */
    if (e && *e && !(c->facts.status && strcmp(e, "net::ERR_HTTP_RESPONSE_CODE_FAILURE") == 0)) {
        snprintf(c->facts.net_error, sizeof(c->facts.net_error), "%s", e);
        chrome_end_run(c, CHROME_NAV_ERROR, "navigation failed: %s", e);
        return;
    }
    const char *loader = jstr(res, "loaderId");
    if (!loader) {
        chrome_end_run(c, CHROME_BROWSER, "DevTools Page.navigate gave no loader");
        return;
    }
    /* A main-frame commit seen first named the loader already (see
     * on_frame_navigated), perhaps a later one's. */
    if (!c->loader_id)
        c->loader_id = xstrdup(loader);
    c->navigated = true;
    maybe_loaded(c);
}

static void on_response(struct chrome *c, uint32_t id, const json_t *m)
{
    const char *method;
    enum cdp_req req = cdp_take_pending(c, id, &method);
    if (req == REQ_NONE || req == REQ_IGNORE)
        return;
    const json_t *err = json_object_get(m, "error");
    const json_t *res = json_object_get(m, "result");
    if (req == REQ_EVAL) {
        on_evaluated(c, err, res);
        return;
    }
    if (err || !json_is_object(res)) {
        const char *why = jstr(err, "message");
        chrome_end_run(c, CHROME_BROWSER, "DevTools %s failed: %s", method,
                       why ? why : "no result");
        return;
    }
    switch (req) {
    case REQ_VERSION:
        c->facts.launch = since_s(c, c->t_spawn);
        break;
    case REQ_CREATE: {
        const char *t = jstr(res, "targetId");
        if (!t) {
            chrome_end_run(c, CHROME_BROWSER, "DevTools %s gave no target", method);
            return;
        }
        c->target_id = xstrdup(t);
        (void)cdp_send(c, "Target.attachToTarget",
                       json_pack("{s:s, s:b}", "targetId", t, "flatten", 1), false, REQ_ATTACH);
        break;
    }
    case REQ_ATTACH: {
        const char *s = jstr(res, "sessionId");
        if (!s) {
            chrome_end_run(c, CHROME_BROWSER, "DevTools %s gave no session", method);
            return;
        }
        c->session_id = xstrdup(s);
        setup_page(c);
        maybe_navigate(c);
        break;
    }
    case REQ_SETUP:
        c->setup_left--;
        maybe_navigate(c);
        break;
    case REQ_NAVIGATE:
        on_navigated(c, res);
        break;
    default:
        break;
    }
}

/* A document committed in the main frame before the load event: a script
 * or a meta refresh replaced the page navigated to, whose load will never
 * come; the new document's load is the one to wait for. */
static void on_frame_navigated(struct chrome *c, const json_t *params)
{
    const json_t *f = json_object_get(params, "frame");
    const char *id = jstr(f, "id"), *loader = jstr(f, "loaderId");
    if (c->phase != PH_NAVIGATE || json_object_get(f, "parentId") || !id || !loader ||
        strcmp(id, c->target_id) != 0)
        return;
    free(c->loader_id);
    c->loader_id = xstrdup(loader);
    maybe_loaded(c);
}

static void on_page_event(struct chrome *c, const char *method, const json_t *params)
{
    if (strcmp(method, "Network.responseReceived") == 0) {
        on_response_received(c, params);
    } else if (strcmp(method, "Page.frameNavigated") == 0) {
        on_frame_navigated(c, params);
    } else if (strcmp(method, "Page.lifecycleEvent") == 0) {
        const char *name = jstr(params, "name"), *frame = jstr(params, "frameId");
        const char *loader = jstr(params, "loaderId");
        if (c->phase == PH_NAVIGATE && name && strcmp(name, "load") == 0 && frame &&
            strcmp(frame, c->target_id) == 0 && loader) {
            free(c->load_loader);
            c->load_loader = xstrdup(loader);
            maybe_loaded(c);
        }
    } else if (strcmp(method, "Runtime.consoleAPICalled") == 0) {
        const char *type = jstr(params, "type");
        if (c->phase >= PH_NAVIGATE && type && strcmp(type, "error") == 0)
            c->facts.console_errors++;
    } else if (strcmp(method, "Runtime.exceptionThrown") == 0) {
        if (c->phase >= PH_NAVIGATE)
            c->facts.console_errors++;
    } else if (strcmp(method, "Page.javascriptDialogOpening") == 0) {
        /* An alert() would hold the load event forever: dismiss it. */
        (void)cdp_send(c, "Page.handleJavaScriptDialog", json_pack("{s:b}", "accept", 0), true,
                       REQ_IGNORE);
    } else if (strcmp(method, "Inspector.targetCrashed") == 0) {
        chrome_end_run(c, CHROME_BROWSER, "the page's renderer crashed");
    }
}

void chrome_on_message(struct chrome *c, json_t *msg)
{
    const json_t *id = json_object_get(msg, "id");
    if (json_is_integer(id)) {
        json_int_t v = json_integer_value(id);
        if (v > 0 && v <= UINT32_MAX)
            on_response(c, (uint32_t)v, msg);
        return;
    }
    const char *method = jstr(msg, "method");
    if (!method)
        return;
    const json_t *params = json_object_get(msg, "params");
    const char *sid = jstr(msg, "sessionId");
    if (!sid) {
        const char *gone = jstr(params, "sessionId");
        if (strcmp(method, "Target.detachedFromTarget") == 0 && gone && c->session_id &&
            strcmp(gone, c->session_id) == 0)
            chrome_end_run(c, CHROME_BROWSER, "the page closed");
        return;
    }
    if (c->session_id && strcmp(sid, c->session_id) == 0)
        on_page_event(c, method, params);
}

/* ---- start, cancel ---- */

/* "Name: value" lines into a JSON object; false on a line without a name
 * or a colon, or text that is not UTF-8. */
static bool parse_headers(const char *const *h, size_t n, json_t **out)
{
    json_t *o = json_object();
    for (size_t i = 0; i < n; i++) {
        const char *colon = h[i] ? strchr(h[i], ':') : NULL;
        if (!colon || colon == h[i])
            goto fail;
        size_t nlen = (size_t)(colon - h[i]);
        while (nlen > 0 && (h[i][nlen - 1] == ' ' || h[i][nlen - 1] == '\t'))
            nlen--;
        const char *v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        char *name = xstrndup(h[i], nlen);
        json_t *js = json_string(v);
        int rc = nlen && js ? json_object_set_new(o, name, js) : -1;
        if (rc != 0)
            json_decref(js);
        free(name);
        if (rc != 0)
            goto fail;
    }
    *out = o;
    return true;
fail:
    json_decref(o);
    return false;
}

/* s is valid UTF-8 (a JSON string can hold it). */
static bool is_utf8(const char *s)
{
    json_t *j = json_string(s);
    json_decref(j);
    return j != NULL;
}

/* s as a JavaScript string literal (JSON's is one); NULL when not UTF-8. */
static char *js_string(const char *s)
{
    json_t *j = json_string(s);
    if (!j)
        return NULL;
    char *out = json_dumps(j, JSON_ENCODE_ANY);
    json_decref(j);
    return out;
}

enum op_rc chrome_start(struct probe_loop *loop, const struct chrome_opts *o,
                        void (*done)(void *arg, const struct chrome_facts *f), void *arg,
                        struct chrome **out)
{
    if (!loop || !o || !o->executable || !o->url || !done || !out)
        return OP_ERR_INVALID;
    struct chrome *c = xcalloc(1, sizeof(*c));
    c->loop = loop;
    c->done = done;
    c->arg = arg;
    c->pidfd = c->errfd = c->cdp.fd = -1;
    c->phase = PH_LAUNCH;
    struct chrome_facts *f = &c->facts;
    f->ttfb = f->dom_content_loaded = f->load = f->lcp = NAN;
    f->resolve = f->connect = f->tls = f->launch = f->load_seen = NAN;
    c->deadline_ns = o->deadline_ns;
    c->insecure_tls = o->insecure_tls;
    c->want_text = o->text != NULL;
    c->want_selector = o->selector != NULL;
    enum op_rc rc = OP_ERR_INVALID;
    if ((o->text && !(c->text_js = js_string(o->text))) ||
        (o->selector && !(c->selector_js = js_string(o->selector))) ||
        (o->user_agent && !is_utf8(o->user_agent)) || !is_utf8(o->url) ||
        (o->n_headers && !parse_headers(o->headers, o->n_headers, &c->headers)))
        goto fail;
    c->url = xstrdup(o->url);
    c->user_agent = o->user_agent ? xstrdup(o->user_agent) : NULL;
    if ((rc = chrome_profile_make(c)) != OP_OK)
        goto fail;
    c->t_spawn = probe_now_ns(loop);
    char why[160];
    int fd = -1;
    rc = chrome_spawn(c, o->executable, &fd, why, sizeof(why));
    if (rc == OP_ERR_NOT_FOUND) {
        /* Nothing runs: a `browser` failure, reported from the loop. */
        chrome_end_run(c, CHROME_BROWSER, "%s", why);
        *out = c;
        return OP_OK;
    }
    if (rc != OP_OK)
        goto fail;
    if ((rc = cdp_open(c, fd)) != OP_OK) {
        cdp_close(c);
        chrome_teardown_now(c);
        goto fail;
    }
    c->deadline = probe_timer_at(loop, c->deadline_ns, on_deadline, c);
    /* Queued at once: the browser reads them when it is ready, and the
     * first answer is the end of the launch. */
    (void)cdp_send(c, "Browser.getVersion", NULL, false, REQ_VERSION);
    if (c->insecure_tls)
        (void)setup_send(c, "Security.setIgnoreCertificateErrors", json_pack("{s:b}", "ignore", 1),
                         false);
    (void)cdp_send(c, "Target.createTarget", json_pack("{s:s}", "url", "about:blank"), false,
                   REQ_CREATE);
    *out = c;
    return OP_OK;
fail:
    chrome_profile_remove(c);
    chrome_free(c);
    return rc;
}

void chrome_cancel(struct probe_loop *loop, struct chrome *c)
{
    (void)loop;
    if (!c)
        return;
    c->phase = PH_ENDING;
    cancel_timers(c);
    cdp_close(c);
    chrome_teardown_now(c);
    chrome_profile_remove(c);
    chrome_free(c);
}
