/* runtime.c - published generation, reloads, metrics page. */
#include "runtime.h"
#include "gen.h"
#include "http_check.h"
#include "log.h"
#include "metrics.h"
#include "probe.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct runtime {
    char *config_file;
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

enum op_rc rt_new(const char *config_file, struct runtime **out, struct buf *errors)
{
    struct cfg *cfg = NULL;
    enum op_rc rc = cfg_load_file(config_file, &cfg, errors);
    if (rc != OP_OK)
        return rc;
    rc = http_check_global_init();
    if (rc != OP_OK) {
        cfg_free(cfg);
        buf_adds(errors, "cannot initialise libcurl\n");
        return rc;
    }
    struct runtime *rt = xcalloc(1, sizeof(*rt));
    rt->config_file = xstrdup(config_file);
    pthread_mutex_init(&rt->reload_lock, NULL);
    pthread_mutex_init(&rt->pub_lock, NULL);
    rt->current = gen_new(cfg, NULL);
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

void rt_free(struct runtime *rt)
{
    if (!rt)
        return;
    probe_engine_free(rt->engine);
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
    struct gen *g = gen_new(cfg, rt->current);
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
