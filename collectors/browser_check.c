/*
 * browser_check.c - runs of the `browser` check type: the queue that keeps
 * at most global.browser.max_concurrent browsers running per probe loop,
 * one engine run (chrome.h) per check run, and the result the engine's
 * facts make (browser_result.c).
 *
 * A run that finds every browser busy waits in its loop's queue, first
 * come first served; the check's timeout counts from its browser's launch,
 * not from start, so a long queue delays a run but never times it out.
 * What the waits were is the agent-wide histogram
 * outpost_browser_queue_seconds. A browser check's runs never overlap
 * (the loop runs a check once at a time), so a queue holds at most one
 * run per browser check.
 */
#include "browser_check.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the engine (a test may swap in a fake) ---- */

#ifdef OUTPOST_TESTING
static struct browser_engine engine = {chrome_start, chrome_cancel};

void browser_engine_set(const struct browser_engine *e)
{
    engine = e ? *e : (struct browser_engine){chrome_start, chrome_cancel};
}
#define ENGINE_START engine.start
#define ENGINE_CANCEL engine.cancel
#else
#define ENGINE_START chrome_start
#define ENGINE_CANCEL chrome_cancel
#endif

/* ---- outpost_browser_queue_seconds ---- */

const double browser_queue_bounds[BROWSER_QUEUE_BUCKETS] = {0,   0.1, 0.5, 1,  2.5,
                                                            5.0, 10,  30,  60, 120};

/* Written by every probe loop, read by scrapes: a lock held for a few
 * additions. */
static pthread_mutex_t hist_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t hist_counts[BROWSER_QUEUE_BUCKETS + 1]; /* per bucket, not cumulative */
static double hist_sum;

/* One run's wait, in seconds, into the histogram. Any probe thread. */
static void queue_observe(double seconds)
{
    size_t i = 0;
    while (i < BROWSER_QUEUE_BUCKETS && seconds > browser_queue_bounds[i])
        i++;
    pthread_mutex_lock(&hist_lock);
    hist_counts[i]++;
    hist_sum += seconds;
    pthread_mutex_unlock(&hist_lock);
}

void browser_queue_read(uint64_t *cumulative, double *sum)
{
    pthread_mutex_lock(&hist_lock);
    uint64_t acc = 0;
    for (size_t i = 0; i <= BROWSER_QUEUE_BUCKETS; i++) {
        acc += hist_counts[i];
        cumulative[i] = acc;
    }
    *sum = hist_sum;
    pthread_mutex_unlock(&hist_lock);
}

/* ---- the queue of each probe loop ---- */

struct brun;

/* The browsers of one probe loop: how many run, and the runs waiting.
 * Made by the first run on the loop and freed when the last one ends, so
 * a stopped loop leaves nothing behind (and a new loop at the same address
 * finds nothing stale). Touched only by its loop's thread; the list of
 * queues is shared by the loops (the agent's, `outpost check`'s, tests'). */
struct bq {
    const struct probe_loop *loop;
    unsigned running;
    unsigned failing;         /* runs whose failed launch is yet to be reported */
    struct brun *head, *tail; /* waiting, first in line first */
    struct probe_timer *pump; /* a turn for the waiting, after a cancel */
    struct bq *next;
};

static pthread_mutex_t bq_lock = PTHREAD_MUTEX_INITIALIZER;
static struct bq *bq_list;

/* The loop's queue, made when create and there is none; NULL otherwise. */
static struct bq *bq_find(const struct probe_loop *loop, bool create)
{
    pthread_mutex_lock(&bq_lock);
    struct bq *q = bq_list;
    while (q && q->loop != loop)
        q = q->next;
    if (!q && create) {
        q = xcalloc(1, sizeof(*q));
        q->loop = loop;
        q->next = bq_list;
        bq_list = q;
    }
    pthread_mutex_unlock(&bq_lock);
    return q;
}

/* Free q once nothing runs or waits. */
static void bq_maybe_free(struct probe_loop *loop, struct bq *q)
{
    if (q->running || q->failing || q->head)
        return;
    probe_timer_cancel(loop, q->pump);
    pthread_mutex_lock(&bq_lock);
    struct bq **pp = &bq_list;
    while (*pp != q)
        pp = &(*pp)->next;
    *pp = q->next;
    pthread_mutex_unlock(&bq_lock);
    free(q);
}

/* One run of a browser check. */
struct brun {
    struct probe_loop *loop;
    struct probe_job *job;
    const struct check_spec *c;
    const struct browser_spec *s;
    struct bq *q;
    struct brun *next; /* in the queue, while waiting */
    bool launched;
    /* A launch that failed inside start: reported from this timer, since a
     * run never reports from inside start. */
    struct probe_timer *failed;
    enum op_rc fail_rc;
    int64_t queued_ns; /* when start put it in line */
    int64_t launch_ns; /* when its browser was launched */
    struct chrome *chrome;
};

static void on_engine_done(void *arg, const struct chrome_facts *f);

/* Launch r's browser (r borrowed; the engine holds it as done's arg until
 * done or cancel) at now, the loop's clock: its timeout counts from then. */
static enum op_rc launch(struct brun *r, int64_t now)
{
    const struct browser_spec *s = r->s;
    struct chrome_opts o = {
        .executable = s->executable,
        .url = s->url,
        .deadline_ns = now + r->c->timeout_ms * 1000000,
        .text = s->text,
        .selector = s->selector,
        .user_agent = s->user_agent,
        .headers = (const char *const *)s->header_lines,
        .n_headers = s->n_headers,
        .insecure_tls = s->insecure_skip_verify,
    };
    queue_observe((double)(now - r->queued_ns) / 1e9);
    enum op_rc rc = ENGINE_START(r->loop, &o, on_engine_done, r, &r->chrome);
    if (rc != OP_OK)
        return rc;
    r->launched = true;
    r->launch_ns = now;
    r->q->running++;
    return OP_OK;
}

/* A run whose browser could not be launched when its turn came: reported
 * as the browser's failure (it waited its turn; nothing else ran). */
static void fail_launch(struct brun *r, enum op_rc rc)
{
    struct check_result res;
    memset(&res, 0, sizeof(res));
    res.reason = CHECK_REASON_BROWSER;
    res.type = &browser_check_type;
    for (size_t i = 0; i < BROWSER_GAUGE_COUNT; i++)
        res.gauges[i] = NAN;
    snprintf(res.detail, sizeof(res.detail), "browser: cannot start Chromium: %s", op_strerror(rc));
    probe_done(r->loop, r->job, &res);
    free(r);
}

/* Launch the runs first in line while browsers are free. The limit is the
 * one of the run whose turn it is: after a reload, the new setting. */
static void pump(struct bq *q)
{
    while (q->head && q->running < q->head->s->max_concurrent) {
        struct brun *r = q->head;
        q->head = r->next;
        if (!q->head)
            q->tail = NULL;
        r->next = NULL;
        enum op_rc rc = launch(r, probe_now_ns(r->loop));
        if (rc != OP_OK)
            fail_launch(r, rc);
    }
}

/* The failed launch of start (arg: the run, freed here) reported. */
static void on_failed(struct probe_loop *loop, void *arg)
{
    struct brun *r = arg;
    struct bq *q = r->q;
    r->failed = NULL;
    q->failing--;
    fail_launch(r, r->fail_rc);
    bq_maybe_free(loop, q);
}

/* The waiting's turn after a cancel (arg: the queue, freed here when empty). */
static void on_pump(struct probe_loop *loop, void *arg)
{
    struct bq *q = arg;
    q->pump = NULL;
    pump(q);
    bq_maybe_free(loop, q);
}

/* The engine's one report of r's run (f borrowed): the result reported, r
 * freed, the next in line launched. */
static void on_engine_done(void *arg, const struct chrome_facts *f)
{
    struct brun *r = arg;
    struct probe_loop *loop = r->loop;
    struct bq *q = r->q;
    r->chrome = NULL;
    q->running--;
    /* The engine's own measure of the run, launch to verdict, leaves out
     * the teardown that came before this call (killing, reaping: tenths of
     * a second that are the agent's, not the page's). */
    double duration = (double)(probe_now_ns(loop) - r->launch_ns) / 1e9;
    if (isfinite(f->duration) && f->duration > 0 && f->duration <= duration)
        duration = f->duration;
    struct check_result res;
    browser_result(r->s, r->c->timeout_ms, f, duration > 0 ? duration : 0, &res);
    /* After this the job (and with it the spec) may be gone. */
    probe_done(loop, r->job, &res);
    free(r);
    pump(q);
    bq_maybe_free(loop, q);
}

/* ---- the type ---- */

/* check_type.start: c borrowed until the run reports; *run owned by the
 * run until it reports or is cancelled. */
static enum op_rc browser_start(struct probe_loop *loop, const struct check_spec *c,
                                struct probe_job *job, void **run)
{
    struct brun *r = xcalloc(1, sizeof(*r));
    r->loop = loop;
    r->job = job;
    r->c = c;
    r->s = browser_spec_of(c);
    r->q = bq_find(loop, true);
    r->queued_ns = probe_now_ns(loop);
    struct bq *q = r->q;
    if (!q->head && q->running < r->s->max_concurrent) {
        /* A browser that cannot be launched (the executable gone since the
         * configuration loaded, no memory to fork) is this run's failure,
         * reported as such like one whose turn came in the queue: never a
         * run that silently does not happen. Launched at the moment it
         * was put in line: a run that did not wait has waited 0 s (its
         * le="0" bucket), not the nanoseconds between two clock readings. */
        r->fail_rc = launch(r, r->queued_ns);
        if (r->fail_rc != OP_OK) {
            r->failed = probe_timer_at(loop, probe_now_ns(loop), on_failed, r);
            if (!r->failed) {
                free(r);
                bq_maybe_free(loop, q);
                return OP_ERR_SYSTEM;
            }
            q->failing++;
        }
    } else if (q->tail) {
        q->tail->next = r;
        q->tail = r;
    } else {
        q->head = q->tail = r;
    }
    *run = r;
    return OP_OK;
}

/* check_type.cancel: run (launched, waiting, or failed and not reported)
 * freed, nothing reported. */
static void browser_cancel(struct probe_loop *loop, void *run)
{
    struct brun *r = run;
    struct bq *q = r->q;
    if (r->launched) {
        ENGINE_CANCEL(loop, r->chrome);
        q->running--;
    } else if (r->failed) {
        probe_timer_cancel(loop, r->failed);
        q->failing--;
    } else {
        struct brun **pp = &q->head, *prev = NULL;
        while (*pp != r) {
            prev = *pp;
            pp = &(*pp)->next;
        }
        *pp = r->next;
        if (q->tail == r)
            q->tail = prev;
    }
    free(r);
    /* Not launched from here: the loop cancels runs when it stops, and a
     * browser started now would only be killed a moment later. The waiting
     * get their turn on the loop's next round, which a stopping loop never
     * has. */
    if (q->head && !q->pump)
        q->pump = probe_timer_at(loop, probe_now_ns(loop), on_pump, q);
    bq_maybe_free(loop, q);
}

/* check_type.concurrency: global.browser.max_concurrent as c loaded it. */
static unsigned browser_concurrency(const struct check_spec *c)
{
    return browser_spec_of(c)->max_concurrent;
}

#ifdef OUTPOST_TESTING
unsigned browser_queue_running(const struct probe_loop *loop)
{
    struct bq *q = bq_find(loop, false);
    return q ? q->running : 0;
}

size_t browser_queue_waiting(const struct probe_loop *loop, const char **names, size_t cap)
{
    struct bq *q = bq_find(loop, false);
    size_t n = 0;
    for (struct brun *r = q ? q->head : NULL; r; r = r->next, n++)
        if (n < cap)
            names[n] = r->c->name;
    return n;
}

void browser_queue_reset(void)
{
    pthread_mutex_lock(&hist_lock);
    memset(hist_counts, 0, sizeof(hist_counts));
    hist_sum = 0;
    pthread_mutex_unlock(&hist_lock);
}
#endif

static const enum check_reason browser_reasons[] = {
    CHECK_REASON_TIMEOUT,     CHECK_REASON_DNS,      CHECK_REASON_CONNECT, CHECK_REASON_TLS,
    CHECK_REASON_HTTP_STATUS, CHECK_REASON_LATENCY,  CHECK_REASON_OTHER,   CHECK_REASON_BROWSER,
    CHECK_REASON_TEXT,        CHECK_REASON_SELECTOR,
};

#define TIMING "outpost_check_browser_timing_seconds"
#define TIMING_HELP                                                                                \
    "Browser checks: when the last page load reached each milestone, in seconds from the start "   \
    "of its navigation (Navigation Timing; lcp: the largest contentful paint)."
#define CONSOLE "outpost_check_browser_console_errors"
#define CONSOLE_HELP                                                                               \
    "Browser checks: console.error calls and uncaught exceptions of the page in the last run."

static const struct check_gauge browser_gauges[BROWSER_GAUGE_COUNT] = {
    [BROWSER_GAUGE_TTFB] = {TIMING, TIMING_HELP, "phase", "ttfb"},
    [BROWSER_GAUGE_DOM_CONTENT_LOADED] = {TIMING, TIMING_HELP, "phase", "dom_content_loaded"},
    [BROWSER_GAUGE_LOAD] = {TIMING, TIMING_HELP, "phase", "load"},
    [BROWSER_GAUGE_LCP] = {TIMING, TIMING_HELP, "phase", "lcp"},
    [BROWSER_GAUGE_CONSOLE_ERRORS] = {CONSOLE, CONSOLE_HELP, NULL, NULL},
};

static const struct check_histogram browser_histograms[] = {
    {
        .name = "outpost_browser_queue_seconds",
        .help = "Time browser check runs waited for a free browser (global.browser."
                "max_concurrent) before their launch, in seconds.",
        .bounds = browser_queue_bounds,
        .n_bounds = BROWSER_QUEUE_BUCKETS,
        .read = browser_queue_read,
    },
};

const struct check_type browser_check_type = {
    .schema = &browser_schema,
    .reasons = browser_reasons,
    .n_reasons = ARRAY_SIZE(browser_reasons),
    .status_name = "HTTP status",
    .gauges = browser_gauges,
    .n_gauges = ARRAY_SIZE(browser_gauges),
    .histograms = browser_histograms,
    .n_histograms = ARRAY_SIZE(browser_histograms),
    .start = browser_start,
    .cancel = browser_cancel,
    .concurrency = browser_concurrency,
};
