/* runtime.c - published generation, reloads, metrics page. */
#include "runtime.h"
#include "clock.h"
#include "alerts.h"
#include "gen.h"
#include "http_check.h"
#include "log.h"
#include "metrics.h"
#include "probe.h"
#include "slo.h"
#include "state.h"

#include <errno.h>
#include <math.h>
#include <sys/stat.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct runtime {
    char *config_file;
    char *storage_path;
    int64_t snapshot_interval_ms;
    int64_t next_eval_ms, next_snapshot_ms; /* monotonic; main thread only */
    atomic_uint_fast64_t snapshots, snapshot_failures, restore_failures;
    struct alerts *alerts;
    struct probe_engine *engine;
    pthread_mutex_t reload_lock; /* one reload at a time */
    pthread_mutex_t pub_lock;    /* guards current */
    struct gen *current;
    atomic_bool reload_ok;
    _Atomic double reload_success_ts;
    _Atomic double last_scrape_seconds;
};

static struct gen *acquire(struct runtime *rt)
{
    pthread_mutex_lock(&rt->pub_lock);
    struct gen *g = rt->current;
    gen_ref(g);
    pthread_mutex_unlock(&rt->pub_lock);
    return g;
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
    if (rc == OP_ERR_INVALID) {
        atomic_fetch_add(&rt->restore_failures, 1);
        log_error("SLO state file unusable, starting fresh", "err", buf_str(&err));
    } else if (rc == OP_OK) {
        char n[32];
        snprintf(n, sizeof(n), "%zu", state_record_count(saved));
        log_info("SLO state restored", "path", rt->storage_path, "slos", n);
    }
    buf_free(&err);
    return saved;
}

static void log_warnings(const struct cfg *cfg)
{
    log_lines(LOG_LVL_WARN, "configuration warning", "warning", cfg_warnings(cfg));
}

enum op_rc rt_new(const struct rt_options *o, struct runtime **out, struct buf *errors)
{
    const char *config_file = o->config_file;
    struct cfg *cfg = NULL;
    enum op_rc rc = cfg_load_file(config_file, &cfg, errors);
    if (rc != OP_OK)
        return rc;
    log_warnings(cfg);
    rc = http_check_global_init();
    if (rc != OP_OK) {
        cfg_free(cfg);
        buf_adds(errors, "cannot initialise libcurl\n");
        return rc;
    }
    struct runtime *rt = xcalloc(1, sizeof(*rt));
    rt->config_file = xstrdup(config_file);
    rt->storage_path = xstrdup(o->storage_path);
    rt->snapshot_interval_ms = o->snapshot_interval_ms;
    pthread_mutex_init(&rt->reload_lock, NULL);
    pthread_mutex_init(&rt->pub_lock, NULL);
    struct state_file *saved = load_saved(rt);
    rt->alerts = alerts_new(clock_system());
    alerts_configure(rt->alerts, cfg_alerting(cfg));
    rt->current = gen_new(cfg, NULL, saved);
    state_file_free(saved);
    int64_t now = now_mono_ns() / 1000000;
    rt->next_eval_ms = now; /* evaluate at once: restored state may be burning */
    rt->next_snapshot_ms = now + rt->snapshot_interval_ms;
    atomic_store(&rt->reload_ok, true);
    atomic_store(&rt->reload_success_ts, now_wall());
    rc = probe_engine_new(&rt->engine);
    if (rc == OP_OK)
        rc = probe_engine_start(rt->engine, rt->current);
    if (rc != OP_OK) {
        buf_adds(errors, "cannot start the probe engine\n");
        rt_free(rt);
        return rc;
    }
    char n[32];
    snprintf(n, sizeof(n), "%zu", gen_count(rt->current));
    log_info("configuration loaded", "file", config_file, "checks", n);
    *out = rt;
    return OP_OK;
}

static void snapshot(struct runtime *rt)
{
    struct gen *g = acquire(rt);
    size_t n = gen_slo_count(g);
    if (n == 0) {
        gen_unref(g);
        return;
    }
    const char **names = xcalloc(n, sizeof(char *));
    struct slo_state **states = xcalloc(n, sizeof(*states));
    for (size_t i = 0; i < n; i++) {
        names[i] = cfg_slo(gen_cfg(g), i)->name;
        states[i] = gen_slo(g, i);
    }
    struct buf err;
    buf_init(&err, 1u << 16);
    if (state_write(rt->storage_path, names, states, n, &err) == OP_OK) {
        atomic_fetch_add(&rt->snapshots, 1);
    } else {
        atomic_fetch_add(&rt->snapshot_failures, 1);
        log_error("SLO state snapshot failed, the previous one is kept", "err", buf_str(&err));
    }
    buf_free(&err);
    free(names);
    free(states);
    gen_unref(g);
}

/* The agent's own evaluation (every alerting.evaluation_interval, 10 s by
 * default): SLO multiwindow alerts, then every alert the agent pushes. */
static void evaluate(struct runtime *rt)
{
    struct gen *g = acquire(rt);
    const struct cfg *cfg = gen_cfg(g);
    const struct alerting_spec *al = cfg_alerting(cfg);
    double wall = now_wall();
    int64_t now = (int64_t)(wall * 1000);
    struct buf d;
    buf_init(&d, 1u << 16);
    alerts_begin(rt->alerts);

    struct rec_snapshot *snap = xmalloc(sizeof(*snap));
    for (size_t i = 0; i < gen_count(g); i++) {
        const struct check_spec *c = cfg_check(cfg, i);
        rec_read(gen_rec(g, i), snap);
        if (snap->has_result && snap->consecutive_failures >= al->check_down_after) {
            buf_reset(&d);
            buf_addf(&d, "Check %s (%s) failed its last %llu probes; last HTTP status %d.", c->name,
                     c->target, (unsigned long long)snap->consecutive_failures, snap->status);
            alerts_fire(rt->alerts, "OutpostCheckDown", "critical", "check", c->name,
                        "A synthetic check keeps failing.", buf_str(&d));
        }
        double left = snap->cert_expiry - wall;
        if (snap->cert_expiry > 0 && left * 1000 < (double)al->cert_expiry_warn_ms) {
            buf_reset(&d);
            buf_addf(&d, "The TLS certificate seen by check %s expires in %.1f days.", c->name,
                     left / 86400.0);
            alerts_fire(rt->alerts, "OutpostCertExpiringSoon", "warning", "check", c->name,
                        "A TLS certificate expires soon.", buf_str(&d));
        }
    }
    free(snap);

    for (size_t i = 0; i < gen_slo_count(g); i++) {
        const struct slo_spec *spec = cfg_slo(cfg, i);
        struct slo_state *st = gen_slo(g, i);
        struct slo_figures f;
        slost_figures(st, spec, now, &f, NULL, NULL);
        bool was_page, was_ticket;
        slost_alerts(st, &was_page, &was_ticket);
        if (f.page != was_page)
            log_warn(f.page ? "SLO page alert firing" : "SLO page alert resolved", "slo",
                     spec->name);
        if (f.ticket != was_ticket)
            log_warn(f.ticket ? "SLO ticket alert firing" : "SLO ticket alert resolved", "slo",
                     spec->name);
        slost_set_alerts(st, f.page, f.ticket);
        for (int sev = 0; sev < 2; sev++) {
            if (!(sev ? f.ticket : f.page))
                continue;
            buf_reset(&d);
            buf_addf(&d,
                     "SLO %s burns its error budget %.3gx as fast as it may over 1h and %.3gx "
                     "over 6h; %.1f%% of the period's budget remains.",
                     spec->name, f.burn[SLO_W_1H], f.burn[SLO_W_6H], 100 * f.budget_remaining);
            alerts_fire(rt->alerts, "OutpostSLOBudgetBurn", sev ? "warning" : "critical", "slo",
                        spec->name, "An SLO burns its error budget too fast.", buf_str(&d));
        }
        if (f.events[SLO_W_PERIOD] > 0 && f.budget_remaining <= 0) {
            buf_reset(&d);
            buf_addf(&d, "SLO %s has spent its error budget: %.1f%% remains.", spec->name,
                     100 * f.budget_remaining);
            alerts_fire(rt->alerts, "OutpostSLOBudgetExhausted", "warning", "slo", spec->name,
                        "An SLO's error budget is spent.", buf_str(&d));
        }
    }

    for (size_t i = 0; i < gen_canary_count(g); i++) {
        const struct canary_spec *k = cfg_canary(cfg, i);
        struct canary_verdict v;
        canst_verdict(gen_canary(g, i), k, now, &v);
        if (v.verdict == CANARY_FAIL) {
            buf_reset(&d);
            buf_addf(&d, "Canary %s: %s", k->name, v.reason);
            alerts_fire(rt->alerts, "OutpostCanaryFailed", "warning", "canary", k->name,
                        "A canary is worse than its baseline.", buf_str(&d));
        }
    }
    alerts_end(rt->alerts, wall);
    buf_free(&d);
    gen_unref(g);
}

int64_t rt_tick(struct runtime *rt)
{
    int64_t now = now_mono_ns() / 1000000;
    if (now >= rt->next_eval_ms) {
        evaluate(rt);
        struct gen *g = acquire(rt);
        rt->next_eval_ms = now + cfg_alerting(gen_cfg(g))->evaluation_interval_ms;
        gen_unref(g);
    }
    if (now >= rt->next_snapshot_ms) {
        snapshot(rt);
        rt->next_snapshot_ms = now + rt->snapshot_interval_ms;
    }
    int64_t next =
        rt->next_eval_ms < rt->next_snapshot_ms ? rt->next_eval_ms : rt->next_snapshot_ms;
    return next > now ? next - now : 0;
}

void rt_free(struct runtime *rt)
{
    if (!rt)
        return;
    probe_engine_free(rt->engine);
    /* Pending notifications go out first, within half a second: shutdown
     * must finish within a second whatever Alertmanager does. */
    if (rt->alerts)
        alerts_stop(rt->alerts, 500);
    alerts_free(rt->alerts);
    /* No probe runs any more: this snapshot holds every recorded event. */
    if (rt->current)
        snapshot(rt);
    free(rt->storage_path);
    gen_unref(rt->current);
    pthread_mutex_destroy(&rt->reload_lock);
    pthread_mutex_destroy(&rt->pub_lock);
    free(rt->config_file);
    free(rt);
    http_check_global_fini();
}

enum op_rc rt_reload(struct runtime *rt, struct buf *errors)
{
    pthread_mutex_lock(&rt->reload_lock);
    struct cfg *cfg = NULL;
    enum op_rc rc = cfg_load_file(rt->config_file, &cfg, errors);
    if (rc != OP_OK) {
        atomic_store(&rt->reload_ok, false);
        log_lines(LOG_LVL_ERROR, "reload failed, keeping the running configuration", "err",
                  buf_str(errors));
        pthread_mutex_unlock(&rt->reload_lock);
        return rc;
    }
    /* Only reloads change `current`, and they are serialised by
     * reload_lock, so reading it here without pub_lock is safe. */
    log_warnings(cfg);
    alerts_configure(rt->alerts, cfg_alerting(cfg));
    struct gen *g = gen_new(cfg, rt->current, NULL);
    probe_engine_swap(rt->engine, g);
    pthread_mutex_lock(&rt->pub_lock);
    struct gen *old = rt->current;
    rt->current = g;
    pthread_mutex_unlock(&rt->pub_lock);
    gen_unref(old);
    atomic_store(&rt->reload_ok, true);
    atomic_store(&rt->reload_success_ts, now_wall());
    char n[32];
    snprintf(n, sizeof(n), "%zu", gen_count(g));
    log_info("configuration reloaded", "file", rt->config_file, "checks", n);
    pthread_mutex_unlock(&rt->reload_lock);
    return OP_OK;
}

bool rt_ready(struct runtime *rt)
{
    return probe_engine_running(rt->engine);
}

enum op_rc rt_canary(struct runtime *rt, const char *name, const char *checksum,
                     struct canary_verdict *out, bool *reset)
{
    struct gen *g = acquire(rt);
    const struct cfg *cfg = gen_cfg(g);
    enum op_rc rc = OP_ERR_NOT_FOUND;
    *reset = false;
    for (size_t i = 0; i < gen_canary_count(g); i++) {
        const struct canary_spec *k = cfg_canary(cfg, i);
        if (strcmp(k->name, name) != 0)
            continue;
        struct canary_state *st = gen_canary(g, i);
        if (checksum && canst_checksum(st, checksum)) {
            *reset = true;
            log_info("new revision, canary samples reset", "canary", name);
        }
        canst_verdict(st, k, (int64_t)(now_wall() * 1000), out);
        rc = OP_OK;
        break;
    }
    gen_unref(g);
    return rc;
}

enum op_rc rt_render(struct runtime *rt, enum expo_format fmt, struct buf *out)
{
    int64_t t0 = now_mono_ns();
    struct gen *g = acquire(rt);
    struct metrics_agent a = {
        .reload_ok = atomic_load(&rt->reload_ok),
        .reload_success_ts = atomic_load(&rt->reload_success_ts),
        .in_flight = probe_engine_in_flight(rt->engine),
        .lag = probe_engine_lag(rt->engine),
        .last_scrape_seconds = atomic_load(&rt->last_scrape_seconds),
        .snapshots = atomic_load(&rt->snapshots),
        .snapshot_failures = atomic_load(&rt->snapshot_failures),
        .restore_failures = atomic_load(&rt->restore_failures),
        .now_ms = (int64_t)(now_wall() * 1000),
        .alerts = rt->alerts,
    };
    buf_reset(out);
    struct expo e;
    expo_init(&e, out, fmt);
    metrics_render(&e, g, &a);
    expo_finish(&e);
    gen_unref(g);
    atomic_store(&rt->last_scrape_seconds, (double)(now_mono_ns() - t0) / 1e9);
    return out->failed ? OP_ERR_LIMIT : OP_OK;
}
