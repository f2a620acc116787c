/* runtime.c - published generation, reloads, evaluation, snapshots, page. */
#include "runtime.h"
#include "alerts.h"
#include "api.h"
#include "evaluate.h"
#include "audit.h"
#include "cfg_shard.h"
#include "gen.h"
#include "log.h"
#include "maint.h"
#include "metrics.h"
#include "probe.h"
#include "silences.h"
#include "slo.h"
#include "slo_lint.h"
#include "slogate.h"
#include "state.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define RT_MAX_WARNINGS_BYTES (1u << 20)

struct runtime {
    const struct clock *clock;
    double started_at;
    char *config_file;
    char *modules_file; /* NULL: none */
    struct cfg_shard shard;
    char *storage_path;
    int64_t snapshot_interval_ms;
    int64_t next_eval_ms, next_snapshot_ms; /* monotonic; main thread only */
    bool types_ready;
    atomic_uint_fast64_t snapshots, snapshot_failures, restore_failures;
    struct alerts *alerts;
    struct audit *audit; /* borrowed; NULL: none */
    bool audit_unavailable;
    struct silences *silences; /* the maintenance windows' (maint.h) */
    struct maint *maint;
    /* The thread that ticks (main), woken with SIGUSR1 when a maintenance
     * window's start or end comes earlier than it sleeps: only when it
     * blocks that signal to wait for it (rt_tick's caller). */
    pthread_t ticker;
    bool can_wake;
    struct probe_loop *loop;
    pthread_mutex_t reload_lock; /* one reload at a time */
    pthread_mutex_t pub_lock;    /* guards current */
    struct gen *current;
    /* The saved state of SLOs no longer configured, kept until their
     * windows have passed so one that comes back gets its history back.
     * kept_lock (taken inside reload_lock, before pub_lock) guards it and
     * makes a snapshot see `current` and `kept` of one moment. */
    pthread_mutex_t kept_lock;
    struct state_file *kept;
    bool state_on_disk; /* the last file read or written held records */
    struct rt_reload_hook hook;
    void (*metrics_hook)(struct expo *e, void *arg);
    void *metrics_hook_arg;
    atomic_bool reload_ok;
    _Atomic double reload_success_ts;
    _Atomic double last_scrape_seconds;
    /* Set once the agent stops: a load in progress gives up (its loops
     * read it), and no reload starts any more. */
    atomic_bool stopping;
    bool stopped;
    /* The reload thread: SIGHUP asks, it loads, so main keeps answering
     * signals whatever the file costs to load. */
    pthread_t reloader;
    bool reloader_running;
    pthread_mutex_t req_lock; /* guards the two flags below */
    pthread_cond_t req_cond;
    bool req_pending, req_quit;
};

static struct gen *acquire(struct runtime *rt)
{
    pthread_mutex_lock(&rt->pub_lock);
    struct gen *g = rt->current;
    gen_ref(g);
    pthread_mutex_unlock(&rt->pub_lock);
    return g;
}

struct gen *rt_acquire_gen(struct runtime *rt)
{
    return acquire(rt);
}

struct probe_loop *rt_probe_loop(struct runtime *rt)
{
    return rt->loop;
}

struct audit *rt_audit(struct runtime *rt)
{
    return rt->audit;
}

struct alerts *rt_alerts(struct runtime *rt)
{
    return rt->alerts;
}

const struct clock *rt_clock(struct runtime *rt)
{
    return rt->clock;
}

void rt_facts(struct runtime *rt, struct rt_facts *out)
{
    *out = (struct rt_facts){.started_at = rt->started_at,
                             .shard = rt->shard,
                             .reload_ok = atomic_load(&rt->reload_ok),
                             .reload_success_ts = atomic_load(&rt->reload_success_ts)};
}

/* The first line of errors (borrowed) for the audit log: where the first
 * problem is, not the whole list. Caller frees. */
static char *first_line(const struct buf *errors)
{
    const char *e = buf_str_or(errors, "the list of problems is longer than its cap");
    return xstrndup(e, strcspn(e, "\n"));
}

struct maint *rt_maint(struct runtime *rt)
{
    return rt->maint;
}

static int64_t mono_ms(const struct runtime *rt)
{
    return clock_mono_ns(rt->clock) / 1000000;
}

void rt_config_warnings(const struct cfg *cfg, struct buf *out)
{
    slo_lint(cfg, out);
}

/* Which part of the file this agent runs: at start, and at each reload
 * when it runs a part. */
static void log_shard(const struct runtime *rt, const struct cfg *cfg, bool start)
{
    if (!start && rt->shard.count <= 1)
        return;
    char sh[32], kept[32], all[32], slos[32];
    snprintf(sh, sizeof(sh), "%u/%u", rt->shard.index, rt->shard.count ? rt->shard.count : 1);
    snprintf(kept, sizeof(kept), "%zu", cfg_check_count(cfg));
    snprintf(all, sizeof(all), "%zu", cfg_shard_checks_in_file(cfg));
    snprintf(slos, sizeof(slos), "%zu", cfg_slo_count(cfg));
    log_info("running one shard of the configuration", "shard", sh, "checks", kept,
             "checks_in_file", all, "slos", slos);
}

static void log_warnings(const struct cfg *cfg)
{
    struct buf w;
    buf_init(&w, RT_MAX_WARNINGS_BYTES);
    rt_config_warnings(cfg, &w);
    if (w.failed)
        log_warn("configuration warnings exceed 1 MiB; run --config.check to see them");
    log_lines(LOG_LVL_WARN, "configuration warning", "warning", buf_str(&w));
    buf_free(&w);
}

/* Restore what the last run saved; a broken file is moved aside by
 * state_read, logged and counted, and the agent starts fresh. */
static struct state_file *load_saved(struct runtime *rt)
{
    if (mkdir(rt->storage_path, 0750) != 0 && errno != EEXIST)
        log_warn("cannot create the storage directory, SLO state will not be kept", "path",
                 rt->storage_path, "err", strerror(errno));
    struct state_file *saved = NULL;
    struct buf err;
    buf_init(&err, 1u << 16);
    enum op_rc rc = state_read(rt->storage_path, &saved, &err);
    rt->state_on_disk = rc == OP_OK && state_record_count(saved) > 0;
    if (rc == OP_ERR_INVALID) {
        atomic_fetch_add(&rt->restore_failures, 1);
        log_error("SLO state file unusable, starting fresh", "err", buf_str(&err));
        audit_event(rt->audit, "state_restore_failed", "path", rt->storage_path, "error",
                    buf_str(&err), NULL);
    } else if (rc == OP_OK) {
        char n[32];
        snprintf(n, sizeof(n), "%zu", state_record_count(saved));
        log_info("SLO state restored", "path", rt->storage_path, "slos", n);
    }
    buf_free(&err);
    return saved;
}

static void *reloader_main(void *arg);

static void wake_ticker(void *arg)
{
    struct runtime *rt = arg;
    if (rt->can_wake)
        pthread_kill(rt->ticker, SIGUSR1);
}

enum op_rc rt_new(const struct rt_options *o, struct runtime **out, struct buf *errors)
{
    struct cfg *cfg = NULL;
    struct state_file *saved = NULL;
    struct runtime *rt = NULL;
    struct cfg_load_options lo = {.modules_file = o->modules_file, .shard = o->shard};
    enum op_rc rc = cfg_load_file_opts(o->config_file, &lo, &cfg, errors);
    if (rc != OP_OK)
        goto out;
    log_warnings(cfg);
    rt = xcalloc(1, sizeof(*rt));
    rt->clock = o->clock;
    rt->started_at = clock_wall(o->clock);
    rt->config_file = xstrdup(o->config_file);
    rt->modules_file = o->modules_file ? xstrdup(o->modules_file) : NULL;
    rt->shard = o->shard;
    log_shard(rt, cfg, true);
    rt->storage_path = xstrdup(o->storage_path);
    rt->snapshot_interval_ms = o->snapshot_interval_ms;
    rt->audit = o->audit;
    rt->audit_unavailable = o->audit_unavailable;
    char checks[32];
    snprintf(checks, sizeof(checks), "%zu", cfg_check_count(cfg));
    audit_event(rt->audit, "config_load", "file", o->config_file, "sha256", cfg_sha256(cfg),
                "checks", checks, NULL);
    pthread_mutex_init(&rt->reload_lock, NULL);
    pthread_mutex_init(&rt->pub_lock, NULL);
    pthread_mutex_init(&rt->req_lock, NULL);
    pthread_cond_init(&rt->req_cond, NULL);
    pthread_mutex_init(&rt->kept_lock, NULL);
    rc = check_types_init();
    if (rc != OP_OK) {
        buf_adds(errors, "cannot initialise the check types (libcurl)\n");
        goto out;
    }
    rt->types_ready = true;
    saved = load_saved(rt);
    rt->alerts = alerts_new(rt->clock);
    alerts_set_audit(rt->alerts, rt->audit);
    alerts_configure(rt->alerts, cfg_alerting(cfg));
    sigset_t mask;
    rt->ticker = pthread_self();
    rt->can_wake = pthread_sigmask(SIG_BLOCK, NULL, &mask) == 0 && sigismember(&mask, SIGUSR1) == 1;
    rt->silences = silences_new(rt->clock);
    silences_configure(rt->silences, cfg_alerting(cfg));
    struct maint_options mo = {.clock = rt->clock,
                               .storage_path = rt->storage_path,
                               .silences = rt->silences,
                               .audit = rt->audit,
                               .wake = wake_ticker,
                               .wake_arg = rt};
    rt->maint = maint_new(&mo);
    rt->current = gen_new(cfg, NULL, saved, rt->clock);
    cfg = NULL; /* the generation owns it */
    /* Windows active now exclude from the first result on. */
    maint_use_gen(rt->maint, rt->current);
    /* What the file holds of SLOs not configured now stays for them. */
    rt->kept = saved ? saved : state_file_new();
    saved = NULL;
    (void)state_forget(rt->kept, gen_cfg(rt->current), clock_wall_ms(rt->clock));
    if (state_record_count(rt->kept)) {
        char k[32];
        snprintf(k, sizeof(k), "%zu", state_record_count(rt->kept));
        log_info("saved state of SLOs not configured is kept until their windows have passed",
                 "slos", k);
    }
    int64_t now = mono_ms(rt);
    rt->next_eval_ms = now; /* evaluate at once: restored state may be burning */
    rt->next_snapshot_ms = now + rt->snapshot_interval_ms;
    atomic_store(&rt->reload_ok, true);
    atomic_store(&rt->reload_success_ts, clock_wall(rt->clock));
    rc = probe_loop_new(rt->clock, &rt->loop);
    if (rc == OP_OK)
        rc = probe_loop_start(rt->loop, rt->current);
    if (rc != OP_OK) {
        buf_adds(errors, "cannot start the probe loop\n");
        goto out;
    }
    if (pthread_create(&rt->reloader, NULL, reloader_main, rt) != 0) {
        buf_adds(errors, "cannot start the reload thread\n");
        rc = OP_ERR_SYSTEM;
        goto out;
    }
    rt->reloader_running = true;
    char n[32];
    snprintf(n, sizeof(n), "%zu", gen_check_count(rt->current));
    log_info("configuration loaded", "file", o->config_file, "checks", n);
    *out = rt;
    rt = NULL;
out:
    state_file_free(saved);
    cfg_free(cfg);
    rt_free(rt);
    return rc;
}

/* Save every SLO's state and the kept ones; OP_ERR_IO (logged, counted)
 * when it failed. */
static enum op_rc snapshot(struct runtime *rt)
{
    pthread_mutex_lock(&rt->kept_lock);
    struct gen *g = acquire(rt);
    (void)state_forget(rt->kept, gen_cfg(g), clock_wall_ms(rt->clock));
    size_t n = gen_slo_count(g), records = n + state_record_count(rt->kept);
    /* Nothing to save, and nothing on disk that must go (the last kept
     * record expired): no file is made. */
    if (records == 0 && !rt->state_on_disk) {
        pthread_mutex_unlock(&rt->kept_lock);
        gen_unref(g);
        return OP_OK;
    }
    const char **names = xcalloc(n ? n : 1, sizeof(char *));
    struct slo_state **states = xcalloc(n ? n : 1, sizeof(*states));
    for (size_t i = 0; i < n; i++) {
        names[i] = cfg_slo(gen_cfg(g), i)->name;
        states[i] = gen_slo(g, i);
    }
    /* Encoded under the lock (copies in memory), written outside it. */
    struct buf data;
    buf_init(&data, STATE_MAX_FILE_BYTES);
    state_encode_kept(names, states, n, rt->kept, &data);
    pthread_mutex_unlock(&rt->kept_lock);
    free(names);
    free(states);
    gen_unref(g);
    struct buf err;
    buf_init(&err, 1u << 16);
    enum op_rc rc = state_write_data(rt->storage_path, &data, &err);
    if (rc == OP_OK) {
        atomic_fetch_add(&rt->snapshots, 1);
        rt->state_on_disk = records > 0;
    } else {
        atomic_fetch_add(&rt->snapshot_failures, 1);
        log_error("SLO state snapshot failed, the previous one is kept", "err", buf_str(&err));
        rc = OP_ERR_IO;
    }
    buf_free(&err);
    buf_free(&data);
    return rc;
}

/* The agent's own evaluation (evaluate.h) on the current generation.
 * Returns the evaluation interval of the generation it used. */
static int64_t evaluate(struct runtime *rt)
{
    struct gen *g = acquire(rt);
    struct eval_ctx x = {
        .clock = rt->clock, .alerts = rt->alerts, .audit = rt->audit, .maint = rt->maint};
    int64_t every = eval_run(&x, g);
    gen_unref(g);
    return every;
}

int64_t rt_tick(struct runtime *rt)
{
    /* First, so the evaluation below sees the windows of this moment. */
    int64_t maint_wait = maint_tick(rt->maint);
    int64_t now = mono_ms(rt);
    if (now >= rt->next_eval_ms)
        rt->next_eval_ms = now + evaluate(rt);
    if (now >= rt->next_snapshot_ms) {
        (void)snapshot(rt); /* logged and counted; the next one tries again */
        rt->next_snapshot_ms = now + rt->snapshot_interval_ms;
        /* A stretch of probes held in flight (a stalled target, a busy machine)
         * leaves its freed memory inside glibc's arenas, below live chunks that keep
         * them from shrinking: at 10,000 checks a 4 s stall of the target took RSS
         * from 50 to 134 MiB, and it stayed there. malloc_trim gives the free pages
         * back (47 MiB at the next snapshot). It walks each arena under that arena's
         * lock: 2 ms at rest, 13 ms with 85 MiB to return, once a snapshot interval. */
        malloc_trim(0);
    }
    int64_t next =
        rt->next_eval_ms < rt->next_snapshot_ms ? rt->next_eval_ms : rt->next_snapshot_ms;
    int64_t wait = next > now ? next - now : 0;
    return maint_wait < wait ? maint_wait : wait;
}

void rt_cancel(struct runtime *rt)
{
    atomic_store(&rt->stopping, true);
    pthread_mutex_lock(&rt->req_lock);
    rt->req_quit = true;
    pthread_cond_signal(&rt->req_cond);
    pthread_mutex_unlock(&rt->req_lock);
}

enum op_rc rt_stop(struct runtime *rt)
{
    if (rt->stopped)
        return OP_OK;
    rt->stopped = true;
    rt_cancel(rt);
    /* A reload in progress has seen the flag and gives up within a few
     * thousand YAML events; nothing else in it waits. */
    if (rt->reloader_running)
        pthread_join(rt->reloader, NULL);
    rt->reloader_running = false;
    probe_loop_free(rt->loop);
    rt->loop = NULL;
    /* Pending notifications go out first, within half a second: shutdown
     * must finish within a second whatever Alertmanager does. */
    if (rt->alerts)
        alerts_stop(rt->alerts, 500);
    /* Silences of windows that ended are expired first, within 300 ms;
     * those of windows still active stay for the next start to reuse. */
    if (rt->silences)
        silences_stop(rt->silences, 300);
    /* No probe runs any more: this snapshot holds every recorded event. */
    enum op_rc rc = rt->current ? snapshot(rt) : OP_OK;
    if (rc != OP_OK)
        log_error("the last SLO state snapshot failed: the events since the previous one are "
                  "lost",
                  "path", rt->storage_path);
    return rc;
}

void rt_free(struct runtime *rt)
{
    if (!rt)
        return;
    /* Logged by rt_stop; a caller that wants the result stops rt first. */
    enum op_rc stopped = rt_stop(rt);
    (void)stopped;
    alerts_free(rt->alerts);
    maint_free(rt->maint);
    silences_free(rt->silences);
    gen_unref(rt->current);
    state_file_free(rt->kept);
    if (rt->types_ready)
        check_types_fini();
    pthread_mutex_destroy(&rt->reload_lock);
    pthread_mutex_destroy(&rt->pub_lock);
    pthread_mutex_destroy(&rt->req_lock);
    pthread_cond_destroy(&rt->req_cond);
    pthread_mutex_destroy(&rt->kept_lock);
    free(rt->storage_path);
    free(rt->config_file);
    free(rt->modules_file);
    free(rt);
}

void rt_request_reload(struct runtime *rt)
{
    pthread_mutex_lock(&rt->req_lock);
    rt->req_pending = true;
    pthread_cond_signal(&rt->req_cond);
    pthread_mutex_unlock(&rt->req_lock);
}

/* The reload thread: one reload per request; requests that arrive during
 * a reload make one more (the file may have changed after it was read). */
static void *reloader_main(void *arg)
{
    struct runtime *rt = arg;
    struct buf errors;
    buf_init(&errors, 1u << 20);
    pthread_mutex_lock(&rt->req_lock);
    for (;;) {
        while (!rt->req_pending && !rt->req_quit)
            pthread_cond_wait(&rt->req_cond, &rt->req_lock);
        if (rt->req_quit)
            break;
        rt->req_pending = false;
        pthread_mutex_unlock(&rt->req_lock);
        buf_reset(&errors);
        log_info("reloading on SIGHUP");
        enum op_rc rc = rt_reload(rt, &errors);
        if (rc != OP_OK && rc != OP_ERR_STATE)
            log_warn("SIGHUP reload failed; see the errors above");
        pthread_mutex_lock(&rt->req_lock);
    }
    pthread_mutex_unlock(&rt->req_lock);
    buf_free(&errors);
    return NULL;
}

void rt_set_reload_hook(struct runtime *rt, const struct rt_reload_hook *hook)
{
    rt->hook = *hook;
}

void rt_set_metrics_hook(struct runtime *rt, void (*fn)(struct expo *e, void *arg), void *arg)
{
    rt->metrics_hook = fn;
    rt->metrics_hook_arg = arg;
}

/* Keep the state of every SLO of `from` that `to` no longer has. Under
 * kept_lock. */
static void retire_removed(struct runtime *rt, const struct cfg *from, const struct cfg *to,
                           int64_t now_ms)
{
    const struct gen *cur = rt->current;
    for (size_t i = 0; i < cfg_slo_count(from); i++) {
        const char *name = cfg_slo(from, i)->name;
        if (cfg_find_slo(to, name) >= 0)
            continue;
        state_retire(rt->kept, name, gen_slo(cur, i), now_ms);
        log_info("SLO removed; its state is kept until its windows have passed", "slo", name);
    }
}

enum op_rc rt_reload(struct runtime *rt, struct buf *errors)
{
    pthread_mutex_lock(&rt->reload_lock);
    struct cfg *cfg = NULL;
    void *staged = NULL;
    if (atomic_load(&rt->stopping)) {
        pthread_mutex_unlock(&rt->reload_lock);
        buf_addf(errors, "%s: not reloaded: the agent is stopping\n", rt->config_file);
        return OP_ERR_STATE;
    }
    log_debug("loading the configuration", "file", rt->config_file);
    struct cfg_load_options lo = {
        .cancel = &rt->stopping, .modules_file = rt->modules_file, .shard = rt->shard};
    enum op_rc rc = cfg_load_file_opts(rt->config_file, &lo, &cfg, errors);
    if (rc == OP_ERR_STATE) {
        /* Stopping: not a failed reload, the running config stays to the end. */
        log_info("reload cancelled: the agent is stopping");
        pthread_mutex_unlock(&rt->reload_lock);
        return rc;
    }
    /* The hook reads its files even when the config is bad, so one reload
     * reports every problem. */
    /* A configured window must not take the name of a running ad-hoc one. */
    if (rc == OP_OK && maint_check_cfg(rt->maint, cfg, errors) != OP_OK)
        rc = OP_ERR_INVALID;
    enum op_rc hook_rc = rt->hook.prepare ? rt->hook.prepare(rt->hook.arg, &staged, errors) : OP_OK;
    if (rc != OP_OK || hook_rc != OP_OK) {
        if (hook_rc == OP_OK && rt->hook.discard)
            rt->hook.discard(rt->hook.arg, staged);
        cfg_free(cfg);
        atomic_store(&rt->reload_ok, false);
        char *first = first_line(errors);
        audit_event(rt->audit, "config_reload_failed", "file", rt->config_file, "error", first,
                    NULL);
        free(first);
        log_lines(
            LOG_LVL_ERROR, "reload failed, keeping the running configuration", "err",
            buf_str_or(
                errors,
                "the list of problems is longer than its cap; fix the first ones and retry\n"));
        pthread_mutex_unlock(&rt->reload_lock);
        return rc != OP_OK ? rc : hook_rc;
    }
    log_warnings(cfg);
    log_shard(rt, cfg, false);
    /* O(1): the sender takes the new settings at its next turn, never
     * waiting for a POST in flight. */
    alerts_configure(rt->alerts, cfg_alerting(cfg));
    silences_configure(rt->silences, cfg_alerting(cfg));
    /* Only reloads change `current`, and they hold reload_lock, so reading
     * it here without pub_lock is safe. */
    pthread_mutex_lock(&rt->kept_lock);
    int64_t now = clock_wall_ms(rt->clock);
    retire_removed(rt, gen_cfg(rt->current), cfg, now);
    /* SLOs new to this generation come back from the kept records. */
    struct gen *g = gen_new(cfg, rt->current, rt->kept, rt->clock);
    (void)state_forget(rt->kept, gen_cfg(g), now);
    /* Its SLO sinks are switched before the first result reaches them. */
    maint_use_gen(rt->maint, g);
    probe_loop_swap(rt->loop, g);
    pthread_mutex_lock(&rt->pub_lock);
    struct gen *old = rt->current;
    rt->current = g;
    pthread_mutex_unlock(&rt->pub_lock);
    pthread_mutex_unlock(&rt->kept_lock);
    gen_unref(old);
    if (rt->hook.commit)
        rt->hook.commit(rt->hook.arg, staged);
    atomic_store(&rt->reload_ok, true);
    atomic_store(&rt->reload_success_ts, clock_wall(rt->clock));
    char n[32];
    snprintf(n, sizeof(n), "%zu", gen_check_count(g));
    audit_event(rt->audit, "config_reload", "file", rt->config_file, "sha256",
                cfg_sha256(gen_cfg(g)), "checks", n, NULL);
    log_info("configuration reloaded", "file", rt->config_file, "checks", n);
    pthread_mutex_unlock(&rt->reload_lock);
    return OP_OK;
}

bool rt_ready(struct runtime *rt)
{
    return probe_loop_running(rt->loop);
}

/* A new revision, as a command run by the probe loop (the owner of the
 * samples): compare the checksum, reset on a change. */
struct revision {
    struct canary_state *st;
    const char *checksum;
    bool changed;
};

static void revision_cmd(void *arg)
{
    struct revision *r = arg;
    r->changed = canst_checksum(r->st, r->checksum);
}

enum op_rc rt_canary(struct runtime *rt, const char *name, const char *checksum,
                     struct canary_verdict *out, bool *reset)
{
    struct gen *g = acquire(rt);
    const struct canary_spec *k = cfg_find_canary(gen_cfg(g), name);
    *reset = false;
    if (!k) {
        gen_unref(g);
        return OP_ERR_NOT_FOUND;
    }
    struct canary_state *st = gen_canary(g, (size_t)(k - cfg_canary(gen_cfg(g), 0)));
    if (checksum && *checksum) {
        struct revision r = {st, checksum, false};
        probe_loop_call(rt->loop, revision_cmd, &r);
        if (r.changed) {
            *reset = true;
            log_info("new revision, canary samples reset", "canary", name);
        }
    }
    canst_verdict(st, k, clock_wall_ms(rt->clock), out);
    gen_unref(g);
    return OP_OK;
}

/* Gate i of generation g judged at now_ms. */
static void judge_slo(const struct gen *g, size_t i, int64_t now_ms, struct slo_gate *out)
{
    const struct slo_spec *s = cfg_slo(gen_cfg(g), i);
    struct slo_figures f;
    slost_figures(gen_slo(g, i), s, now_ms, &f, NULL, NULL);
    slogate_judge(s, &f, out);
}

enum op_rc rt_slo_gate(struct runtime *rt, const char *name, struct slo_gate *out)
{
    struct gen *g = acquire(rt);
    long i = cfg_find_slo(gen_cfg(g), name);
    /* A deploy asks now: the figures of this moment, not of the last
     * evaluation up to an evaluation interval ago. */
    if (i >= 0)
        judge_slo(g, (size_t)i, clock_wall_ms(rt->clock), out);
    gen_unref(g);
    return i >= 0 ? OP_OK : OP_ERR_NOT_FOUND;
}

enum op_rc rt_canary_freeze(struct runtime *rt, const char *name, size_t *n, struct buf *reason,
                            struct buf *frozen_by)
{
    struct gen *g = acquire(rt);
    const struct canary_spec *k = cfg_find_canary(gen_cfg(g), name);
    *n = 0;
    if (!k) {
        gen_unref(g);
        return OP_ERR_NOT_FOUND;
    }
    int64_t now_ms = clock_wall_ms(rt->clock);
    struct slo_gate *sg = xmalloc(sizeof(*sg));
    buf_addc(frozen_by, '[');
    for (size_t j = 0; j < k->n_gate_slos; j++) {
        judge_slo(g, k->gate_slo_idx[j], now_ms, sg);
        if (!sg->freeze)
            continue;
        buf_addf(reason, "%sfrozen by %s", *n ? "; " : "", sg->policy);
        if (*n)
            buf_addc(frozen_by, ',');
        buf_add_json_string(frozen_by, k->gate_slos[j]);
        ++*n;
    }
    buf_addc(frozen_by, ']');
    free(sg);
    gen_unref(g);
    return OP_OK;
}

enum op_rc rt_render(struct runtime *rt, enum expo_format fmt, struct buf *out)
{
    int64_t t0 = clock_mono_ns(rt->clock);
    struct gen *g = acquire(rt);
    struct metrics_agent a = {
        .reload_ok = atomic_load(&rt->reload_ok),
        .reload_success_ts = atomic_load(&rt->reload_success_ts),
        .in_flight = probe_loop_in_flight(rt->loop),
        .lag = probe_loop_lag(rt->loop),
        .last_scrape_seconds = atomic_load(&rt->last_scrape_seconds),
        .snapshots = atomic_load(&rt->snapshots),
        .snapshot_failures = atomic_load(&rt->snapshot_failures),
        .restore_failures = atomic_load(&rt->restore_failures),
        .now_ms = clock_wall_ms(rt->clock),
        .alerts = rt->alerts,
        .audit = rt->audit,
        .audit_unavailable = rt->audit_unavailable,
        .extra = rt->metrics_hook,
        .extra_arg = rt->metrics_hook_arg,
        .shard_index = rt->shard.index,
        .shard_count = rt->shard.count ? rt->shard.count : 1,
    };
    probe_loop_overruns(rt->loop, a.overruns);
    buf_reset(out);
    struct expo e;
    expo_init(&e, out, fmt);
    metrics_render(&e, g, &a);
    maint_render(rt->maint, &e, g);
    expo_finish(&e);
    gen_unref(g);
    atomic_store(&rt->last_scrape_seconds, (double)(clock_mono_ns(rt->clock) - t0) / 1e9);
    return out->failed ? OP_ERR_LIMIT : OP_OK;
}

enum op_rc rt_checks_json(struct runtime *rt, const char *name, struct buf *out)
{
    struct gen *g = acquire(rt);
    buf_reset(out);
    enum op_rc rc = api_checks_json(g, name, out);
    gen_unref(g);
    return rc;
}
