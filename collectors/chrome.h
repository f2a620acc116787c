/*
 * chrome.h - the browser engine behind `type: browser`: one headless
 * Chromium per run, driven over the DevTools protocol (CDP) on a pipe,
 * entirely on the probe loop.
 *
 * A run launches `chromium --headless=new --remote-debugging-pipe` in its
 * own process group with a fresh profile directory, loads one URL, waits
 * for the load event, then polls the page for the expected text and
 * selector until they show or the deadline passes. The pipe's descriptors,
 * the browser's pidfd and the run's timers are all watches and timers of
 * the probe loop (check.h): nothing blocks and there is no thread per
 * browser. However a run ends, the whole process group is SIGKILLed, the
 * browser reaped through its pidfd and the profile removed.
 *
 * docs/internals.md, "Browser checks: the engine", has the process model,
 * the flags and the CDP flow.
 */
#ifndef OUTPOST_CHROME_H
#define OUTPOST_CHROME_H

#include "common.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct probe_loop;

/* What one run does; every pointer is borrowed for chrome_start only (the
 * run copies what it keeps). */
struct chrome_opts {
    const char *executable; /* path of the chromium binary (resolved by the caller) */
    const char *url;        /* absolute http(s) URL */
    int64_t deadline_ns;    /* probe_now_ns clock: the run ends by then, whatever happens */
    const char *text;       /* NULL: none; else wait (after load) until innerText contains it */
    const char *selector;   /* NULL: none; else wait (after load) until querySelector matches */
    const char *user_agent; /* NULL: chromium's own */
    const char *const *headers;
    size_t n_headers;  /* "Name: value" extra request headers (may be 0) */
    bool insecure_tls; /* ignore certificate errors */
};

enum chrome_end {
    CHROME_LOADED,         /* load event fired; expectations evaluated (see facts) */
    CHROME_NAV_ERROR,      /* navigation failed: facts.net_error is Chromium's net::ERR_... name */
    CHROME_TIMEOUT,        /* deadline before the load event */
    CHROME_EXPECT_TIMEOUT, /* loaded, but text/selector not seen by the deadline */
    /* could not start, crashed, pipe closed, protocol error: facts.error says which */
    CHROME_BROWSER,
};

struct chrome_facts {
    enum chrome_end end;
    int status;                                 /* main document HTTP status, 0 if none */
    double ttfb, dom_content_loaded, load, lcp; /* seconds from navigation start; NaN if unknown */
    double resolve, connect, tls; /* main document's network phases, seconds; NaN if unknown */
    double launch;                /* seconds from spawn to the browser answering CDP */
    /* Seconds from spawn to the load event reaching the run (the page's
     * set-up between launch and navigation included); NaN before it. */
    double load_seen;
    /* Seconds from spawn to the verdict: the run's own length, without the
     * teardown after it (killing and reaping take ~0.2-0.5 s more before
     * done runs). */
    double duration;
    unsigned console_errors;
    bool text_found, selector_found; /* meaningful for CHROME_LOADED / EXPECT_TIMEOUT */
    /* querySelector refused the selector (not valid CSS): the run ended
     * CHROME_EXPECT_TIMEOUT at its first look at the page. */
    bool selector_invalid;
    double cert_expiry; /* unix seconds of the main document's certificate validTo, 0 if none */
    char net_error[64];
    char error[160]; /* one line, no secrets (never the headers) */
};

struct chrome;

/*
 * Launch and drive one page load on the probe loop; done(arg, facts) runs
 * exactly once on the probe thread (facts borrowed for the call), never
 * from inside chrome_start, and after it the browser is dead, reaped and
 * its profile removed (or the removal is pending on the loop and cannot be
 * forgotten). On failure to even start (fork/pipe failed) returns an error
 * and done never runs. *out is the handle for chrome_cancel, valid until
 * done runs.
 */
enum op_rc chrome_start(struct probe_loop *loop, const struct chrome_opts *o,
                        void (*done)(void *arg, const struct chrome_facts *f), void *arg,
                        struct chrome **out) WUR;

/*
 * Abandon a run whose done has not run: kill the group, reap (without
 * blocking the loop for long; a SIGKILLed process exits promptly, a
 * bounded wait is acceptable at shutdown), remove the profile. done never
 * runs. Probe thread only.
 */
void chrome_cancel(struct probe_loop *loop, struct chrome *c);

/*
 * The executable to use: `configured` if non-NULL (absolute path or a
 * name on PATH), else /usr/lib/chromium/chromium (Debian's real binary,
 * skipping its /usr/bin shell wrapper), else chromium, chromium-browser,
 * google-chrome on PATH. Returns a malloc'ed absolute path (caller frees)
 * or NULL when none is an executable file.
 */
char *chrome_find_executable(const char *configured);

#endif
