/*
 * runtime.h - the running agent: the published config generation, the probe
 * loop, the alert sender, the SLO evaluator and snapshots, and reloads.
 * Shared by the HTTP server (scrapes, gates, /-/reload, /-/ready) and main
 * (SIGHUP, housekeeping). Reloads are serialised; scrapes only take a
 * reference to the current generation under a mutex held for nanoseconds.
 * The read side never changes state itself: a Flagger revision reset is a
 * command the probe loop (the owner of the samples) carries out.
 */
#ifndef OUTPOST_RUNTIME_H
#define OUTPOST_RUNTIME_H

#include "buf.h"
#include "canary.h"
#include "clock.h"
#include "config.h"
#include "expo.h"
#include "slogate.h"

#include <stdbool.h>

/* A scrape larger than this fails with 500 rather than being cut short. */
#define RT_MAX_SCRAPE_BYTES (512u << 20)
/* Likewise the JSON of /api/v1/checks (about 600 bytes a check). */
#define RT_MAX_CHECKS_JSON_BYTES (256u << 20)

struct audit;

struct rt_options {
    const char *config_file;  /* re-read on reload */
    const char *storage_path; /* SLO state directory */
    int64_t snapshot_interval_ms;
    const struct clock *clock; /* every timing of the agent; borrowed */
    const char *modules_file;  /* --modules.file, re-read on reload; NULL: none */
    /* The audit log (borrowed, must outlive rt; NULL: none): configuration
     * loads and reloads, a state file that cannot be restored, and the
     * agent's alerts as they fire and resolve are written to it. */
    struct audit *audit;
    /* audit is NULL because it could not be opened: the metrics page counts
     * that as one write failure. */
    bool audit_unavailable;
    /* The shard this agent runs (--shard; zeroed: all), kept by reloads. */
    struct cfg_shard shard;
};

struct runtime;

/* Load the config (strings in o are borrowed and must outlive rt), restore
 * saved SLO state, and start probing and the reload thread (signals must
 * be blocked already: it inherits the mask). On a bad config returns
 * OP_ERR_INVALID with messages in errors. */
enum op_rc rt_new(const struct rt_options *o, struct runtime **out, struct buf *errors) WUR;
/* The first step of stopping, from any thread: a reload in progress gives
 * up within a few thousand YAML events (OP_ERR_STATE, the running config
 * stays), and no reload starts any more. Call it before stopping the HTTP
 * server, whose /-/reload requests may be loading. Idempotent. */
void rt_cancel(struct runtime *rt);
/* Stop: cancel and wait for the reload thread, stop probing, send what
 * alerts are due (at most half a second), write a last snapshot. OP_OK, or
 * OP_ERR_IO when that snapshot failed (logged: the events since the
 * previous one are lost). Main thread; idempotent (later calls: OP_OK). */
enum op_rc rt_stop(struct runtime *rt) WUR;
/* rt_stop when it was not called, then free. NULL is fine. */
void rt_free(struct runtime *rt);

/* Ask the reload thread to reload (SIGHUP); returns at once. A request made
 * during a reload makes one more after it. */
void rt_request_reload(struct runtime *rt);

/* Housekeeping, from main's loop: maintenance windows (at each start and
 * end), the agent's alert evaluation (every alerting.evaluation_interval)
 * and state snapshots (every snapshot interval). Returns the milliseconds
 * until it next has work. When the calling thread blocks SIGUSR1 (at
 * rt_new), an ad-hoc window or a reload whose start or end comes earlier
 * sends it SIGUSR1: it should then call rt_tick again. */
int64_t rt_tick(struct runtime *rt);

/* Something else a reload re-reads (the web config and tokens): prepare
 * reads it into *staged or appends its problems to errors; after a
 * successful prepare exactly one of commit (the whole reload succeeded) or
 * discard (something failed) is called. All three run under the reload
 * lock. */
struct rt_reload_hook {
    enum op_rc (*prepare)(void *arg, void **staged, struct buf *errors);
    void (*commit)(void *arg, void *staged);
    void (*discard)(void *arg, void *staged);
    void *arg;
};
/* Install hook (copied) before any reload can happen (before serving HTTP
 * and before SIGHUP is handled). */
void rt_set_reload_hook(struct runtime *rt, const struct rt_reload_hook *hook);

/* Families rendered by someone else (the HTTP server's request counters),
 * appended to every metrics page; fn runs on scrape threads. Install before
 * serving. */
void rt_set_metrics_hook(struct runtime *rt, void (*fn)(struct expo *e, void *arg), void *arg);

/* Re-read the config file and whatever the reload hook re-reads: all or
 * nothing. On error the running config stays, errors gets the messages,
 * outpost_config_last_reload_successful becomes 0. Any thread. Returns
 * OP_ERR_STATE, and changes nothing, when rt_cancel came first or during
 * the load. */
enum op_rc rt_reload(struct runtime *rt, struct buf *errors) WUR;

struct gen;
struct probe_loop;
/* The current generation, referenced (release with gen_unref): its config
 * holds the blackbox modules. Any thread. */
struct gen *rt_acquire_gen(struct runtime *rt);
/* The probe loop, for adhoc runs (borrowed; lives as long as rt). */
struct probe_loop *rt_probe_loop(struct runtime *rt);
struct maint;
/* The maintenance windows (maint.h; borrowed; lives as long as rt). */
struct maint *rt_maint(struct runtime *rt);

/* The audit log from rt_options (borrowed; NULL: none), for the modules
 * that write to it (the gates, maintenance windows). */
struct audit *rt_audit(struct runtime *rt);

struct alerts;
/* The agent's own alerts (alerts.h; borrowed; lives as long as rt). */
struct alerts *rt_alerts(struct runtime *rt);
/* The clock from rt_options (borrowed). */
const struct clock *rt_clock(struct runtime *rt);

/* Facts about the running agent, for the status page. */
struct rt_facts {
    double started_at;        /* wall seconds when rt_new loaded the config */
    struct cfg_shard shard;   /* as given (count 0: the whole file) */
    bool reload_ok;           /* outpost_config_last_reload_successful */
    double reload_success_ts; /* ..._last_reload_success_timestamp_seconds */
};
/* Any thread. */
void rt_facts(struct runtime *rt, struct rt_facts *out);

/* True once the config is loaded and the probe loop runs. */
bool rt_ready(struct runtime *rt);

/* The verdict of canary `name` (borrowed) now. A non-empty checksum that
 * differs from the last one seen resets that canary's samples first (a new
 * revision; *reset says so). OP_ERR_NOT_FOUND when there is no such canary. */
enum op_rc rt_canary(struct runtime *rt, const char *name, const char *checksum,
                     struct canary_verdict *out, bool *reset) WUR;

/* The deploy gate's judgement of SLO `name` (borrowed) from its live
 * figures: computed at the wall-clock time of the call, not taken from the
 * last alert evaluation. OP_ERR_NOT_FOUND when there is no such SLO. Any
 * thread. */
enum op_rc rt_slo_gate(struct runtime *rt, const char *name, struct slo_gate *out) WUR;

/* The SLOs of canary `name`'s gate_slos (borrowed) whose error budget
 * policy freezes deploys now (live figures, as rt_slo_gate): how many in
 * *n; reason gets "frozen by SLO a: ...; frozen by SLO b: ..." (one line,
 * nothing when none) and frozen_by their names as a JSON array ("[]" when
 * none); both appended. OP_ERR_NOT_FOUND when there is no such canary. Any
 * thread. */
enum op_rc rt_canary_freeze(struct runtime *rt, const char *name, size_t *n, struct buf *reason,
                            struct buf *frozen_by) WUR;

/* Every non-fatal finding about cfg, one per line, appended to out (today
 * the SLO lint: tiers that can never fire, budgets below one probe). */
void rt_config_warnings(const struct cfg *cfg, struct buf *out);

/* Render the metrics page into out (reset first). */
enum op_rc rt_render(struct runtime *rt, enum expo_format fmt, struct buf *out) WUR;

/* The JSON of check `name` (borrowed), or of every check when name is NULL,
 * and its last result, from the current generation's recorders, into out
 * (reset first). OP_ERR_NOT_FOUND: no check of that name; OP_ERR_LIMIT:
 * out's cap was hit. Any thread. */
enum op_rc rt_checks_json(struct runtime *rt, const char *name, struct buf *out) WUR;

#endif
