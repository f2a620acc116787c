/*
 * check.h - the seam between the probe loop and the check types.
 *
 * A check type is one table of operations (struct check_type) in
 * collectors/<type>_check.c, listed in the registry (registry.c): its
 * configuration schema, how to start one run on the probe loop, how to
 * cancel one, and the failure reasons it may report. The idea is curl's
 * Curl_handler: the loop never knows what a run does, and a new type is one
 * file plus one registry row.
 *
 * The other direction is the loop's services (declared below, implemented
 * by agent/probe.c and probe_svc.c), in the manner of redis' ae and chrony's sched: watch a
 * descriptor with a handler, hand libcurl an easy handle, set a timer, and
 * report the one result of a run. A type that owns sockets (DNS, ICMP)
 * plugs in through the descriptor and timer services exactly as libcurl
 * does. Everything here runs on the probe thread; nothing may block.
 */
#ifndef OUTPOST_CHECK_H
#define OUTPOST_CHECK_H

#include "common.h"
#include "config.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>

/* Why a probe failed: a closed set, fixed as label values by the metric
 * catalog (outpost_check_failures_total{reason}). */
enum check_reason {
    CHECK_REASON_TIMEOUT,
    CHECK_REASON_DNS,
    CHECK_REASON_CONNECT,
    CHECK_REASON_TLS,
    CHECK_REASON_HTTP_STATUS,
    CHECK_REASON_BODY,
    CHECK_REASON_HEADER,
    CHECK_REASON_JSON,
    CHECK_REASON_LATENCY,
    CHECK_REASON_OTHER,
    /* A value a flow's step captures could not be taken or used (missing,
     * over its size cap, not sendable where it goes). After `other`: the
     * labels of the earlier reasons keep their order. */
    CHECK_REASON_CAPTURE,
    /* Reasons of the types that speak other protocols, appended in the
     * same way: a reply did not match (a TCP query_response expectation),
     * every ICMP echo lost (or more than max_loss_ratio), a gRPC status
     * other than OK or a health status other than SERVING, a DNS rcode
     * not allowed, answer records that fail their expectations. */
    CHECK_REASON_EXPECT,
    CHECK_REASON_LOSS,
    CHECK_REASON_GRPC_STATUS,
    CHECK_REASON_DNS_RCODE,
    CHECK_REASON_DNS_ANSWER,
    /* A browser check's: the browser could not start, crashed or broke
     * off its protocol; the page loaded without the expected text, or
     * without an element matching the expected selector. */
    CHECK_REASON_BROWSER,
    CHECK_REASON_TEXT,
    CHECK_REASON_SELECTOR,
    CHECK_REASON_COUNT,
    CHECK_REASON_NONE = CHECK_REASON_COUNT, /* success */
};

/* Latency phases of a probe (outpost_check_phase_duration_seconds{phase}). */
enum check_phase {
    CHECK_PHASE_RESOLVE,
    CHECK_PHASE_CONNECT,
    CHECK_PHASE_TLS,
    CHECK_PHASE_PROCESSING,
    CHECK_PHASE_TRANSFER,
    CHECK_PHASE_COUNT,
};

/* Label value of a reason or phase; static strings. */
const char *check_reason_name(enum check_reason r);
const char *check_phase_name(enum check_phase p);

struct check_type;

/*
 * A gauge a type exports per check from its last run, beside the families
 * every check has (outpost_check_dns_answers, outpost_check_icmp_rtt_seconds
 * {stat="min"}): one row per series. Rows of one family are adjacent in the
 * type's table and share name and help; label is the one extra label of
 * the family (NULL: only `check`), value its value for this row.
 */
struct check_gauge {
    const char *name;
    const char *help;
    const char *label, *value;
};

/* Rows a type may declare; check_result.gauges holds one value per row. */
#define CHECK_GAUGE_MAX 8

/*
 * A histogram a type keeps for the whole agent, not per check (how long
 * browser runs waited for a free browser: outpost_browser_queue_seconds).
 * The agent renders it with its own families while some check of the
 * type is configured; the type owns the counts and their lock.
 */
struct check_histogram {
    const char *name;
    const char *help;
    const double *bounds; /* upper bounds, increasing, without +Inf */
    size_t n_bounds;
    /* Copy the counts now: cumulative[i] for bounds[i], cumulative[n_bounds]
     * the count (+Inf); *sum. Any thread. */
    void (*read)(uint64_t *cumulative, double *sum);
};

/* Room for a result's detail, NUL included; a multiple of 8 (the recorder
 * keeps it as 64-bit words). */
#define CHECK_DETAIL_MAX 160

/* One step of a run made of several (a flow's requests), for whoever shows
 * results step by step (`outpost check`); the agent's sinks ignore steps. */
struct check_step {
    const char *name; /* as configured; borrowed like the result's tail */
    bool success;
    enum check_reason reason; /* CHECK_REASON_NONE on success or when skipped */
    double duration;          /* seconds */
    int status;               /* as check_result.status; 0 if none */
    const char *detail;       /* as check_result.detail (one clean line, no secrets) */
    /* Not run (an earlier step failed, or the run's time was up): neither
     * a success nor a failure of its own; detail says why. */
    bool skipped;
};

/* What one run yields: the fields every type fills, then a tail only its
 * type knows (borrowed, valid while the result is being delivered). */
struct check_result {
    bool success;
    enum check_reason reason;         /* CHECK_REASON_NONE on success */
    double duration;                  /* seconds, the whole run */
    double phases[CHECK_PHASE_COUNT]; /* seconds; 0 for a phase that did not happen */
    int status;                       /* the protocol's status of the last response
                                       * (HTTP status), 0 if none */
    double cert_expiry;               /* Unix seconds of the earliest notAfter seen, 0 if none */
    const struct check_type *type;    /* who produced it */
    const void *tail;                 /* type-specific facts (e.g. struct http_tail), or NULL */
    /* Why it failed, in words, written by the type (detail.h): one line of
     * UTF-8 without control characters or secrets, "" on success. */
    char detail[CHECK_DETAIL_MAX];
    /* The steps of a multi-step run, in order; NULL and 0 for types whose
     * runs are one step. Borrowed like tail. */
    const struct check_step *steps;
    size_t n_steps;
    /* One value per row of type->gauges, in that order; NaN when the run
     * has nothing true to say for it (no DNS reply came, so no rcode): the
     * series is then absent until a run reports it again. Unused rows are
     * ignored. */
    double gauges[CHECK_GAUGE_MAX];
};

struct probe_loop; /* the loop, opaque to check types */
struct probe_job;  /* one run, as the loop tracks it */

struct check_type {
    const struct check_schema *schema; /* configuration half; schema->name is the type's name */
    /* Reasons a run of this type may report (documentation, and metrics of
     * types that add reasons later). */
    const enum check_reason *reasons;
    size_t n_reasons;
    /* What check_result.status is, for people ("HTTP status"); NULL when
     * the type reports none. */
    const char *status_name;
    /* The type's own gauges (struct check_gauge), at most CHECK_GAUGE_MAX;
     * NULL and 0 for none. */
    const struct check_gauge *gauges;
    size_t n_gauges;
    /* The type's agent-wide histograms; NULL and 0 for none. */
    const struct check_histogram *histograms;
    size_t n_histograms;
    /* How many runs of c's type a probe loop runs at once, the rest
     * waiting their turn inside start's run (a run then takes up to its
     * wait plus its timeout); NULL: no limit. `outpost check` waits for
     * the queue with it. */
    unsigned (*concurrency)(const struct check_spec *c);
    /* Process-wide set-up before the first run, and its undo (may be NULL). */
    enum op_rc (*global_init)(void) WUR;
    void (*global_fini)(void);
    /* Start one run of c (borrowed: valid until the run ends). The run
     * reports exactly once through probe_done(loop, job, result), never
     * from inside start, then frees itself. *run is the type's handle for
     * cancel. On failure nothing was started. */
    enum op_rc (*start)(struct probe_loop *loop, const struct check_spec *c, struct probe_job *job,
                        void **run) WUR;
    /* Abandon a run that has not reported: release everything, report
     * nothing (shutdown). */
    void (*cancel)(struct probe_loop *loop, void *run);
    /* The steps every run of c reports (check_result.steps), in that
     * order: the agent keeps series per step. NULL for types whose runs
     * are one step. Names are borrowed from c. */
    size_t (*step_count)(const struct check_spec *c);
    const char *(*step_name)(const struct check_spec *c, size_t i);
};

/* ---- the registry ---- */

/* Every check type, in registry order; count in *n. */
const struct check_type *const *check_types(size_t *n);
/* The type whose schema is s (every check's c->type); never NULL for a
 * loaded config. */
const struct check_type *check_type_of(const struct check_schema *s);
#ifdef OUTPOST_TESTING
/* Add a type for one test process (a fake type driving the probe loop). */
void check_types_register_test(const struct check_type *t);
#endif
/* global_init of every type, and global_fini in reverse. */
enum op_rc check_types_init(void) WUR;
void check_types_fini(void);

/* ---- services of the probe loop (agent/probe.c, probe_svc.c) ---- */

/* The loop's monotonic clock, in nanoseconds. */
int64_t probe_now_ns(const struct probe_loop *loop);

/* Watch fd for events (EPOLLIN/EPOLLOUT bits); cb runs on each readiness.
 * Returns the watch, NULL when the kernel refused (errno set). The watch is
 * the loop's until probe_unwatch, which is safe inside cb. */
struct probe_watch;
typedef void (*probe_fd_cb)(struct probe_loop *loop, int fd, uint32_t events, void *arg);
struct probe_watch *probe_watch_fd(struct probe_loop *loop, int fd, uint32_t events, probe_fd_cb cb,
                                   void *arg);
enum op_rc probe_watch_events(struct probe_loop *loop, struct probe_watch *w, uint32_t events) WUR;
void probe_unwatch(struct probe_loop *loop, struct probe_watch *w);

/* Run easy on the loop's libcurl multi handle; done runs once when the
 * transfer ends (code as in CURLMSG_DONE), after the handle was removed.
 * The loop uses CURLOPT_PRIVATE and CURLOPT_CLOSESOCKETFUNCTION itself. */
typedef void (*probe_curl_cb)(struct probe_loop *loop, CURL *easy, CURLcode code, void *arg);
enum op_rc probe_add_easy(struct probe_loop *loop, CURL *easy, probe_curl_cb done, void *arg) WUR;
/* Take easy off the loop before it is done; done will not run. */
void probe_remove_easy(struct probe_loop *loop, CURL *easy);
/* An easy handle for a transfer: one an earlier run gave back (reset to
 * libcurl's defaults, its buffers kept: no set-up per probe), else a new
 * one. NULL when libcurl cannot make one. The caller owns it until it
 * gives it back or cleans it up. */
CURL *probe_easy_take(struct probe_loop *loop);
/* Give back easy (not on the loop: done ran, or it was never added) for a
 * later run. Only a handle whose caches a later run may inherit: a reset
 * keeps TLS sessions, cookies and a share, so a run that did TLS or used
 * them cleans its handle up instead. Beyond PROBE_EASY_POOL idle handles
 * it is cleaned up here. */
#define PROBE_EASY_POOL 16
void probe_easy_give(struct probe_loop *loop, CURL *easy);

/* One-shot timer at due_ns (the loop's clock); cb runs once unless
 * cancelled first. The handle is valid until cb runs or cancel. */
struct probe_timer;
typedef void (*probe_timer_cb)(struct probe_loop *loop, void *arg);
struct probe_timer *probe_timer_at(struct probe_loop *loop, int64_t due_ns, probe_timer_cb cb,
                                   void *arg);
void probe_timer_cancel(struct probe_loop *loop, struct probe_timer *t);

/* When the current attempt of job's run must be over: its actual start on
 * the loop's clock (when start was called, however late that was against
 * the plan) plus the check's timeout. A type whose library keeps no
 * deadline of its own arms a timer at it; the http type hands libcurl
 * CURLOPT_TIMEOUT_MS, which libcurl counts from that same start. */
int64_t probe_job_deadline_ns(const struct probe_job *job);

/* The one result of job's run: the loop hands it to every sink of the
 * check (recorder, SLOs, canary arms) and forgets job. A timeout that the
 * loop's own stall caused is counted as the agent's overrun instead
 * (outpost_scheduler_overruns_total{reason="stalled"}), not recorded. */
void probe_done(struct probe_loop *loop, struct probe_job *job, const struct check_result *res);

#endif
