/* smoke_run.c - checks run once on the probe loop, results into a report. */
#include "smoke_run.h"
#include "clock.h"
#include "gen.h"
#include "log.h"
#include "probe.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Beyond the longest a check can take: the probe loop's own delays. Only a
 * run that never reports (see below) waits that long. */
#define SMOKE_SLACK_MS 2000

/* Where the results go. The probe thread writes a result's record and then,
 * under the lock, counts it; the waiting thread reads the counters under
 * the lock and the records only after the loop stopped (joined). */
struct run {
    pthread_mutex_t lock;
    pthread_cond_t cond; /* on CLOCK_MONOTONIC */
    size_t reported;     /* results in */
    size_t expected;     /* results that can come, once every run started */
    bool counted;        /* expected is known */
    struct probe_loop *pl;
    struct smoke_report *rep;
    size_t *slot; /* check index -> result index; SIZE_MAX when not selected */
    bool *done;   /* per result: it reported */
};

static void copy_steps(struct smoke_result *x, const struct check_result *res)
{
    size_t n = res->n_steps < SMOKE_MAX_STEPS ? res->n_steps : SMOKE_MAX_STEPS;
    x->steps_dropped = res->n_steps - n;
    x->n_steps = n;
    x->steps = n ? xcalloc(n, sizeof(*x->steps)) : NULL;
    for (size_t k = 0; k < n; k++) {
        const struct check_step *s = &res->steps[k];
        x->steps[k] = (struct smoke_step){
            .name = xstrdup(s->name ? s->name : ""),
            .success = s->success && !s->skipped,
            .skipped = s->skipped,
            .reason = s->success || s->skipped ? CHECK_REASON_NONE : s->reason,
            .duration = s->duration,
            .status = s->status,
            .detail = xstrdup(s->detail ? s->detail : ""),
        };
    }
}

/* probe_once.report: on the probe thread, once per run. */
static void on_report(void *arg, size_t check, const struct check_result *res)
{
    struct run *r = arg;
    size_t k = r->slot[check];
    struct smoke_result *x = &r->rep->results[k];
    x->success = res->success;
    x->reason = res->success ? CHECK_REASON_NONE : res->reason;
    x->duration = res->duration;
    x->status = res->status;
    memcpy(x->detail, res->detail, sizeof(x->detail));
    x->detail[sizeof(x->detail) - 1] = '\0';
    copy_steps(x, res);
    r->done[k] = true;
    pthread_mutex_lock(&r->lock);
    r->reported++;
    pthread_cond_signal(&r->cond);
    pthread_mutex_unlock(&r->lock);
}

/* On the probe thread once every selected check was started: a run that
 * could not start (logged by the loop) never reports, so only the runs in
 * flight now are still to come. */
static void count_started(void *arg)
{
    struct run *r = arg;
    pthread_mutex_lock(&r->lock);
    r->expected = r->reported + probe_loop_in_flight(r->pl);
    r->counted = true;
    pthread_mutex_unlock(&r->lock);
}

/* The longest check c can take: every attempt to its timeout, and the
 * delays between them. */
static int64_t longest_ms(const struct check_spec *c)
{
    int64_t attempts = (int64_t)c->policy.retry_attempts + 1;
    return attempts * c->timeout_ms + (attempts - 1) * c->policy.retry_delay_ms;
}

/* The longest the selected checks of a type that queues its runs
 * (check_type.concurrency) can take together: with k at once, first come
 * first served, all are done within their total over k plus the longest
 * one (list scheduling's bound), waits in line included. 0 when the type
 * has no limit or no selected check. */
static int64_t queued_ms(const struct cfg *cfg, const bool *selected, const struct check_type *t)
{
    int64_t total = 0, longest = 0;
    unsigned k = 0;
    for (size_t i = 0; t->concurrency && i < cfg_check_count(cfg); i++) {
        const struct check_spec *c = cfg_check(cfg, i);
        if (!selected[i] || check_type_of(c->type) != t)
            continue;
        unsigned n = t->concurrency(c);
        k = k && k < n ? k : n;
        total += longest_ms(c);
        if (longest_ms(c) > longest)
            longest = longest_ms(c);
    }
    return k ? total / k + longest : 0;
}

static void fill_identity(struct smoke_result *x, const struct check_spec *c)
{
    x->name = xstrdup(c->name);
    x->type = xstrdup(c->type->name);
    x->group = xstrdup(c->group ? c->group : "");
    x->target = xstrdup(c->target ? c->target : "");
}

/* Wait until every run that can report did, or until deadline_ns (the
 * monotonic clock). True when the deadline cut runs short. */
static bool wait_results(struct run *r, int64_t deadline_ns)
{
    struct timespec until = {deadline_ns / 1000000000, deadline_ns % 1000000000};
    bool cut = false;
    pthread_mutex_lock(&r->lock);
    while (!r->counted || r->reported < r->expected) {
        int e = pthread_cond_timedwait(&r->cond, &r->lock, &until);
        if (e == ETIMEDOUT) {
            cut = !r->counted || r->reported < r->expected;
            break;
        }
    }
    pthread_mutex_unlock(&r->lock);
    return cut;
}

/* The records of the runs that did not report. cut: the deadline passed,
 * so they were still going (a run that could not start is then reported as
 * timed out too: the counters cannot tell which one it was). */
static void settle(struct run *r, const struct gen *g, bool cut, bool by_flag,
                   const struct smoke_run_options *o)
{
    struct rec_snapshot *snap = xmalloc(sizeof(*snap));
    for (size_t i = 0; i < gen_check_count(g); i++) {
        size_t k = r->slot[i];
        if (k == SIZE_MAX)
            continue;
        struct smoke_result *x = &r->rep->results[k];
        rec_read(gen_rec(g, i), snap);
        if (r->done[k]) {
            x->attempts = (unsigned)snap->retries + 1;
            continue;
        }
        x->success = false;
        if (cut) {
            x->reason = CHECK_REASON_TIMEOUT;
            x->duration = r->rep->duration;
            x->attempts = (unsigned)snap->retries + 1;
            if (by_flag)
                (void)snprintf(x->detail, sizeof(x->detail),
                               "not finished when the run's --timeout %s ran out",
                               o->timeout_text ? o->timeout_text : "");
            else
                (void)snprintf(x->detail, sizeof(x->detail),
                               "not finished after %.3f s, longer than its timeout and retries",
                               r->rep->duration);
        } else {
            x->reason = CHECK_REASON_OTHER;
            x->attempts = 0;
            (void)snprintf(x->detail, sizeof(x->detail), "could not start (see the log)");
        }
    }
    free(snap);
}

enum op_rc smoke_run(struct cfg *cfg, const struct smoke_run_options *o, struct smoke_report *out)
{
    memset(out, 0, sizeof(*out));
    size_t n_checks = cfg_check_count(cfg), n = 0;
    struct run r = {.rep = out};
    r.slot = xcalloc(n_checks ? n_checks : 1, sizeof(*r.slot));
    for (size_t i = 0; i < n_checks; i++)
        n += o->selected[i];
    out->results = xcalloc(n ? n : 1, sizeof(*out->results));
    out->n = n;
    r.done = xcalloc(n ? n : 1, sizeof(*r.done));
    int64_t longest = 0;
    for (size_t i = 0, k = 0; i < n_checks; i++) {
        const struct check_spec *c = cfg_check(cfg, i);
        r.slot[i] = o->selected[i] ? k : SIZE_MAX;
        if (!o->selected[i])
            continue;
        fill_identity(&out->results[k++], c);
        if (longest_ms(c) > longest)
            longest = longest_ms(c);
    }
    size_t n_types;
    const struct check_type *const *types = check_types(&n_types);
    for (size_t t = 0; t < n_types; t++) {
        int64_t q = queued_ms(cfg, o->selected, types[t]);
        if (q > longest)
            longest = q;
    }
    int64_t limit_ms = longest + SMOKE_SLACK_MS;
    bool by_flag = o->timeout_ms > 0 && o->timeout_ms <= limit_ms;
    if (by_flag)
        limit_ms = o->timeout_ms;

    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r.cond, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&r.lock, NULL);

    struct gen *g = gen_new(cfg, NULL, NULL, clock_system());
    struct probe_loop *pl = NULL;
    enum op_rc rc = check_types_init();
    if (rc != OP_OK) {
        log_error("cannot initialise the check types", "err", op_strerror(rc));
        goto out_types;
    }
    rc = probe_loop_new(clock_system(), &pl);
    if (rc != OP_OK)
        goto out;
    r.pl = pl;
    struct probe_once once = {.run = o->selected, .report = on_report, .arg = &r};
    int64_t t0 = now_mono_ns();
    out->started = now_wall();
    rc = probe_loop_start_once(pl, g, &once);
    if (rc != OP_OK)
        goto out;
    probe_loop_call(pl, count_started, &r);
    bool cut = wait_results(&r, t0 + limit_ms * 1000000);
    /* Runs still going are cancelled, not reported. */
    probe_loop_stop(pl);
    /* In microseconds, as libcurl times each check. */
    out->duration = (double)((now_mono_ns() - t0) / 1000) / 1e6;
    settle(&r, g, cut, by_flag, o);
out:
    probe_loop_free(pl);
    check_types_fini();
out_types:
    gen_unref(g);
    pthread_cond_destroy(&r.cond);
    pthread_mutex_destroy(&r.lock);
    free(r.slot);
    free(r.done);
    return rc;
}
