/*
 * browser_result.c - what a browser run's facts (chrome.h) make of its
 * result: the reason, in the order the expectations are judged, the detail
 * in words, the phases, the status and the type's gauges. Pure: no loop,
 * no clock, so every mapping is one row of a unit test.
 */
#include "browser_check.h"
#include "detail.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum check_reason browser_net_reason(const char *net_error)
{
    static const struct {
        const char *prefix;
        enum check_reason reason;
    } map[] = {
        /* Before the ERR_CONNECTION_ prefix it shares. */
        {"ERR_CONNECTION_TIMED_OUT", CHECK_REASON_TIMEOUT},
        {"ERR_TIMED_OUT", CHECK_REASON_TIMEOUT},
        {"ERR_NAME_NOT_RESOLVED", CHECK_REASON_DNS},
        {"ERR_NAME_RESOLUTION_FAILED", CHECK_REASON_DNS},
        {"ERR_DNS_", CHECK_REASON_DNS},
        {"ERR_CONNECTION_", CHECK_REASON_CONNECT},
        {"ERR_ADDRESS_", CHECK_REASON_CONNECT},
        {"ERR_NETWORK_UNREACHABLE", CHECK_REASON_CONNECT},
        {"ERR_INTERNET_DISCONNECTED", CHECK_REASON_CONNECT},
        {"ERR_CERT_", CHECK_REASON_TLS},
        {"ERR_SSL_", CHECK_REASON_TLS},
        {"ERR_BAD_SSL_", CHECK_REASON_TLS},
        {"ERR_TLS", CHECK_REASON_TLS},
        {"ERR_ECH_", CHECK_REASON_TLS},
        {"ERR_INSECURE_RESPONSE", CHECK_REASON_TLS},
    };
    if (!net_error)
        return CHECK_REASON_OTHER;
    if (strncmp(net_error, "net::", 5) == 0)
        net_error += 5;
    for (size_t i = 0; i < ARRAY_SIZE(map); i++)
        if (strncmp(net_error, map[i].prefix, strlen(map[i].prefix)) == 0)
            return map[i].reason;
    return CHECK_REASON_OTHER;
}

/* A duration from the configuration in seconds, as short as it goes:
 * 20000 ms is "20s", 1500 ms "1.5s". */
static void add_config_seconds(struct detail *d, int64_t ms)
{
    detail_addf(d, "%.6gs", (double)ms / 1000.0);
}

/* "text "Welcome" not found 18.6s after load": what the page was asked to
 * show (from the configuration, cut like a response value: one long text
 * must not push out the rest of the line) and how long it was given. */
static void add_not_found(struct detail *d, const char *what, const char *value, double after_load)
{
    detail_addf(d, "%s \"", what);
    detail_value(d, value, strlen(value));
    detail_add(d, "\" not found");
    if (isfinite(after_load) && after_load >= 0)
        detail_addf(d, " %.1fs after load", after_load);
    else
        detail_add(d, " by the deadline");
}

/* The reason of a page that loaded, its expectations judged in the order
 * of the configuration reference: status, text, selector, load time. */
static enum check_reason judge_loaded(const struct browser_spec *s, const struct chrome_facts *f,
                                      double duration, struct detail *d)
{
    if (f->status == 0) {
        detail_add(d, "the main document has no HTTP status");
        return CHECK_REASON_HTTP_STATUS;
    }
    if (!http_status_ok(&s->expect, f->status)) {
        http_detail_status(d, &s->expect, f->status);
        return CHECK_REASON_HTTP_STATUS;
    }
    /* A selector the page cannot parse ends the run at its first look: a
     * mistake of the configuration that no wait would mend, named as such
     * (and before the text, which was given no time to show). */
    if (s->selector && f->selector_invalid) {
        detail_add(d, "selector \"");
        detail_value(d, s->selector, strlen(s->selector));
        detail_add(d, "\" is not valid CSS");
        return CHECK_REASON_SELECTOR;
    }
    /* Time since the load event: the run's duration (from the spawn) less
     * when the load came. Not launch plus load: between them the page is
     * set up (a second or more), which is no time the text was given. */
    double after_load = duration - f->load_seen;
    if (s->text && !f->text_found) {
        add_not_found(d, "text", s->text, after_load);
        return CHECK_REASON_TEXT;
    }
    if (s->selector && !f->selector_found) {
        add_not_found(d, "selector", s->selector, after_load);
        return CHECK_REASON_SELECTOR;
    }
    if (s->expect.max_duration_ms && isfinite(f->load) &&
        f->load * 1000.0 > (double)s->expect.max_duration_ms) {
        detail_addf(d, "load event after %.3f s, more than max_duration %.3f s", f->load,
                    (double)s->expect.max_duration_ms / 1000.0);
        return CHECK_REASON_LATENCY;
    }
    return CHECK_REASON_NONE;
}

/* The reason of a navigation that failed, its detail appended to d. */
static enum check_reason judge_nav_error(const struct browser_spec *s, const struct chrome_facts *f,
                                         struct detail *d)
{
    /* An answer came, but no page Chromium would show (an error status with
     * an empty body: net::ERR_HTTP_RESPONSE_CODE_FAILURE): the status is
     * what the check is about. */
    if (f->status && !http_status_ok(&s->expect, f->status)) {
        http_detail_status(d, &s->expect, f->status);
        return CHECK_REASON_HTTP_STATUS;
    }
    if (!f->net_error[0]) {
        detail_add(d, "navigation failed");
        return CHECK_REASON_OTHER;
    }
    if (strncmp(f->net_error, "net::", 5) != 0)
        detail_add(d, "net::");
    detail_add(d, f->net_error);
    return browser_net_reason(f->net_error);
}

/* A time the engine reported, 0 when it did not (NaN) or it is negative. */
static double known(double v)
{
    return isfinite(v) && v > 0 ? v : 0;
}

void browser_result(const struct browser_spec *s, int64_t timeout_ms, const struct chrome_facts *f,
                    double duration, struct check_result *res)
{
    memset(res, 0, sizeof(*res));
    res->type = &browser_check_type;
    res->duration = duration;
    res->status = f->status;
    res->cert_expiry = f->cert_expiry > 0 ? f->cert_expiry : 0;
    struct detail d;
    detail_init(&d, res->detail, sizeof(res->detail));
    enum check_reason reason = CHECK_REASON_OTHER;
    switch (f->end) {
    case CHROME_LOADED:
    case CHROME_EXPECT_TIMEOUT:
        reason = judge_loaded(s, f, duration, &d);
        break;
    case CHROME_NAV_ERROR:
        reason = judge_nav_error(s, f, &d);
        break;
    case CHROME_TIMEOUT:
        detail_add(&d, "no load event within the timeout (");
        add_config_seconds(&d, timeout_ms);
        detail_add(&d, ")");
        /* Where the run was: the browser still starting, no response yet,
         * or a page whose load event did not fire. */
        if (f->error[0]) {
            detail_add(&d, ": ");
            detail_add(&d, strncmp(f->error, "timeout: ", 9) == 0 ? f->error + 9 : f->error);
        }
        reason = CHECK_REASON_TIMEOUT;
        break;
    case CHROME_BROWSER:
        detail_add(&d, "browser: ");
        detail_add(&d, f->error[0] ? f->error : "failed");
        reason = CHECK_REASON_BROWSER;
        break;
    }
    res->success = reason == CHECK_REASON_NONE;
    res->reason = reason;
    if (res->success)
        detail_init(&d, res->detail, sizeof(res->detail));

    /* The main document's network phases as the http type has them;
     * processing is the wait for its first byte (ttfb less those), transfer
     * the rest up to the load event (the document and what it loads). */
    double net = known(f->resolve) + known(f->connect) + known(f->tls);
    res->phases[CHECK_PHASE_RESOLVE] = known(f->resolve);
    res->phases[CHECK_PHASE_CONNECT] = known(f->connect);
    res->phases[CHECK_PHASE_TLS] = known(f->tls);
    res->phases[CHECK_PHASE_PROCESSING] = known(f->ttfb) > net ? known(f->ttfb) - net : 0;
    res->phases[CHECK_PHASE_TRANSFER] =
        isfinite(f->ttfb) && isfinite(f->load) && f->load > f->ttfb ? f->load - f->ttfb : 0;

    for (size_t i = 0; i < CHECK_GAUGE_MAX; i++)
        res->gauges[i] = NAN;
    res->gauges[BROWSER_GAUGE_TTFB] = f->ttfb;
    res->gauges[BROWSER_GAUGE_DOM_CONTENT_LOADED] = f->dom_content_loaded;
    res->gauges[BROWSER_GAUGE_LOAD] = f->load;
    res->gauges[BROWSER_GAUGE_LCP] = f->lcp;
    /* A browser that failed has no page whose errors could be counted. */
    res->gauges[BROWSER_GAUGE_CONSOLE_ERRORS] =
        f->end == CHROME_BROWSER ? NAN : (double)f->console_errors;
}
