/*
 * browser_check.h - the `browser` check type: one page load in a headless
 * Chromium (the engine, chrome.h), judged by the main document's status,
 * the load time and text or an element the page shows after it loaded.
 *
 * Settings in browser_config.c; runs, the queue and the mapping of the
 * engine's facts to a result in browser_check.c. A browser costs a few
 * hundred MB and a few CPU-seconds, so runs go through a FIFO queue per
 * probe loop that lets at most global.browser.max_concurrent browsers run
 * at once; the check's timeout counts from its browser's launch, and the
 * time spent waiting is the agent-wide histogram
 * outpost_browser_queue_seconds (check_type.histograms).
 */
#ifndef OUTPOST_BROWSER_CHECK_H
#define OUTPOST_BROWSER_CHECK_H

#include "check.h"
#include "chrome.h"
#include "config.h"
#include "http_check.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Caps on what the configuration may ask the page for: a text or a CSS
 * selector is a short string, and request headers are few. */
#define BROWSER_MAX_EXPECT_BYTES 1024u
#define BROWSER_MAX_HEADERS 64
#define BROWSER_MAX_USER_AGENT_BYTES 512u

/* The settings of one browser check (check_spec.spec). */
struct browser_spec {
    char *url;        /* may carry secrets (userinfo, query, ${env:} references) */
    char *text;       /* expect.text: NULL when unset */
    char *selector;   /* expect.selector: NULL when unset */
    char *user_agent; /* NULL: Chromium's own */
    struct header_kv *headers;
    size_t n_headers;
    /* headers as the engine takes them ("Name: value"); values may be
     * secrets (zeroed when freed). Built by finish. */
    char **header_lines;
    bool insecure_skip_verify;
    struct http_expect expect; /* status ranges (default 200-299) and max_duration only */
    /* From global.browser when the configuration loaded: the executable
     * found (absolute path), and how many browsers run at once. */
    char *executable;
    unsigned max_concurrent;
    uint64_t seen; /* keys present, while parsing only */
};

/* The type's settings; c must be a browser check. Borrowed. */
const struct browser_spec *browser_spec_of(const struct check_spec *c);

/* Rows of the type's gauges (check_result.gauges). */
enum browser_gauge {
    BROWSER_GAUGE_TTFB,
    BROWSER_GAUGE_DOM_CONTENT_LOADED,
    BROWSER_GAUGE_LOAD,
    BROWSER_GAUGE_LCP,
    BROWSER_GAUGE_CONSOLE_ERRORS,
    BROWSER_GAUGE_COUNT,
};

/* Upper bounds of outpost_browser_queue_seconds (the +Inf bucket aside). */
#define BROWSER_QUEUE_BUCKETS 10
extern const double browser_queue_bounds[BROWSER_QUEUE_BUCKETS];

extern const struct check_schema browser_schema;
extern const struct check_type browser_check_type;

/* ---- pure pieces, exposed for unit tests ---- */

/* The reason of a navigation that failed with Chromium's net error name
 * ("net::ERR_NAME_NOT_RESOLVED", with or without "net::"): dns, connect,
 * tls, timeout or other. */
enum check_reason browser_net_reason(const char *net_error);

/*
 * The result of a run of a check with settings s whose engine reported f,
 * duration seconds after its browser was launched; timeout_ms is the
 * check's (for details). Fills every field of res a type fills; res->type
 * and tail are set too (tail NULL).
 */
void browser_result(const struct browser_spec *s, int64_t timeout_ms, const struct chrome_facts *f,
                    double duration, struct check_result *res);

/* The queue histogram now: cumulative[i] for bound i, then the count
 * (+Inf), BROWSER_QUEUE_BUCKETS + 1 values; *sum in seconds. Any thread. */
void browser_queue_read(uint64_t *cumulative, double *sum);

#ifdef OUTPOST_TESTING
/* The engine runs go to: chrome.h's functions unless a test swaps in a
 * fake (NULL puts the real one back). */
struct browser_engine {
    enum op_rc (*start)(struct probe_loop *loop, const struct chrome_opts *o,
                        void (*done)(void *arg, const struct chrome_facts *f), void *arg,
                        struct chrome **out);
    void (*cancel)(struct probe_loop *loop, struct chrome *c);
};
void browser_engine_set(const struct browser_engine *e);
/* Runs of loop: launched (browsers running), and the names of the checks
 * waiting, first in line first (up to cap, count returned). Probe thread. */
unsigned browser_queue_running(const struct probe_loop *loop);
size_t browser_queue_waiting(const struct probe_loop *loop, const char **names, size_t cap);
/* Forget every observation of the queue histogram. */
void browser_queue_reset(void);
#endif

#endif
