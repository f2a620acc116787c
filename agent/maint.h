/*
 * maint.h - maintenance windows at run time (docs/governance.md): the
 * configured windows of the live generation and the ad-hoc ones started
 * over the API, which of them are active, and what follows from that:
 *
 * - SLO exclusion: the generation's SLO sinks are switched (gen.h) so a
 *   covered check's results do not count for a covered SLO;
 * - alert holding: the evaluator states no new alert about what an active
 *   window covers (maint_hold_*);
 * - Alertmanager silences for windows that ask for one (silences.h);
 * - a log line per start and end (maint_on_transition).
 *
 * Windows are evaluated at every start and end exactly: maint_tick (main
 * thread, from rt_tick) says when the next one is due. A new generation is
 * handed over with maint_use_gen before it is swapped in, so its switches
 * are right from its first result. One mutex guards everything; every
 * function may be called from any thread.
 *
 * Ad-hoc windows persist in <storage>/maintenance.json (written atomically
 * on every change), so a restart during one keeps it; windows that have
 * ended are dropped.
 */
#ifndef OUTPOST_MAINT_H
#define OUTPOST_MAINT_H

#include "alerts.h"
#include "buf.h"
#include "clock.h"
#include "config.h"
#include "expo.h"

#include <stdbool.h>
#include <stdint.h>

#define MAINT_FILE_NAME "maintenance.json"
/* Ad-hoc windows at one time, and the file that keeps them (each window's
 * request is at most 64 KiB). */
#define MAINT_MAX_ADHOC 100
#define MAINT_MAX_FILE_BYTES (8u << 20)
/* The regular expression of one silence's matcher. */
#define MAINT_MAX_MATCHER_BYTES (1u << 20)
/* Silences kept in the file for a restart: two per window. */
#define MAINT_MAX_SAVED_SILENCES (2 * (CFG_MAX_MAINT_WINDOWS + MAINT_MAX_ADHOC))

struct gen;
struct silences;
struct maint;

struct audit;
struct maint_options {
    const struct clock *clock; /* borrowed */
    const char *storage_path;  /* borrowed for the call; copied */
    struct silences *silences; /* borrowed, may be NULL: no silences are made */
    struct audit *audit;       /* borrowed, may be NULL: starts and ends are not audited */
    void (*wake)(void *arg);   /* a window's start or end came earlier than maint_tick said */
    void *wake_arg;
};

/* Reads the ad-hoc windows saved in storage_path (a broken file is moved
 * aside to maintenance.json.bad and logged). Caller frees. */
struct maint *maint_new(const struct maint_options *o);
/* Ends nothing and drops no silence: a restart keeps them. */
void maint_free(struct maint *m);

/* Make g (referenced until the next call or maint_free) the generation
 * whose windows and SLO sinks are steered: windows evaluated now (starts
 * and ends handled), g's switches set. Call before g is swapped in. */
void maint_use_gen(struct maint *m, struct gen *g);
/* Evaluate now. Returns the milliseconds until the next window start or
 * end (INT64_MAX: none). */
int64_t maint_tick(struct maint *m);

/* OP_ERR_INVALID (one line in errors per clash) when cfg configures a
 * window of the name of an ad-hoc one: a reload must not make two windows
 * of one name. */
enum op_rc maint_check_cfg(struct maint *m, const struct cfg *cfg, struct buf *errors) WUR;

/* ---- alerts ---- */

struct maint_hold;
/* What the windows active now cover, resolved in cfg (borrowed, must live
 * as long as the result). Caller frees. */
struct maint_hold *maint_hold_new(struct maint *m, const struct cfg *cfg);
void maint_hold_free(struct maint_hold *h);
bool maint_check_held(const struct maint_hold *h, size_t check);
bool maint_slo_held(const struct maint_hold *h, size_t slo);
/* Whether the evaluator states an alert whose subject is `held`: always
 * when not held; when held, only one that fires already (it fired before
 * the window started and resolves as usual), never a new one. */
bool maint_alert_allowed(struct alerts *a, bool held, const char *alertname, const char *severity,
                         const char *key_label, const char *key_value);

/* ---- coverage (pure) ---- */

/* What one window covers in a config: check and SLO names (both lists
 * empty: everything), ORed into the arrays it is given (each NULL or sized
 * by cfg's check or SLO count):
 *   held_check[c]  alerts about check c are held;
 *   held_slo[s]    alerts about SLO s are held: the SLOs listed, or with
 *                  checks listed those whose every check is listed;
 *   excl_slo[s]    no result counts for SLO s (all, or s listed);
 *   excl_check[c]  c's results count for no SLO (c listed).
 * Names not in cfg are ignored. Check c counts for SLO s when neither
 * excl_slo[s] nor excl_check[c]. */
struct maint_cover {
    bool *held_check, *held_slo, *excl_slo, *excl_check;
};
void maint_cover(const struct cfg *cfg, char *const *checks, size_t n_checks, char *const *slos,
                 size_t n_slos, const struct maint_cover *out);

/* ---- schedules (pure) ---- */

/* Whether s is active at t (Unix ms); if so the occurrence [*start, *end).
 * One-off: start <= t < start + duration. Cron: the first start after
 * t - duration, when it is at or before t. */
bool maint_sched_active(const struct maint_sched *s, int64_t t, int64_t *start, int64_t *end);
/* The first start after t; INT64_MAX when none. */
int64_t maint_sched_next_start(const struct maint_sched *s, int64_t t);
/* The first start or end after t; INT64_MAX when none. */
int64_t maint_sched_next_change(const struct maint_sched *s, int64_t t);

/* ---- the API (httpd_maint.c) ---- */

struct maint_request {
    const char *name;
    int64_t duration_ms;
    const char *const *checks; /* neither: everything */
    size_t n_checks;
    const char *const *slos;
    size_t n_slos;
    bool exclude_from_slos, alertmanager_silence;
};

/* Start an ad-hoc window now (strings borrowed, copied). OP_OK: the
 * window's JSON in out. OP_ERR_STATE: a window of that name exists;
 * OP_ERR_INVALID or OP_ERR_LIMIT: the request is refused. why gets one
 * line either way it fails. */
enum op_rc maint_start(struct maint *m, const struct maint_request *r, struct buf *out,
                       struct buf *why) WUR;
/* End the ad-hoc window `name` now. OP_ERR_NOT_FOUND: none of that name;
 * OP_ERR_STATE: it is configured (why says so). OP_OK: its JSON in out. */
enum op_rc maint_end(struct maint *m, const char *name, struct buf *out, struct buf *why) WUR;
/* Every window as JSON ({"windows": [...]}) into out. */
void maint_list_json(struct maint *m, struct buf *out);

/* One window active now, as maint_active_list copies it (owned by the
 * list). */
struct maint_active {
    char *name;
    int64_t start_ms, end_ms; /* the occurrence running now (wall ms) */
    char **checks;            /* the checks it lists */
    size_t n_checks;
    char **slos; /* or the SLOs it lists */
    size_t n_slos;
    bool all; /* it lists neither: it covers everything */
};
/* Copies of the windows active now (as last evaluated), configured ones
 * first, each list in its order; *out NULL when none. Caller frees with
 * maint_active_free. Any thread. */
size_t maint_active_list(struct maint *m, struct maint_active **out);
void maint_active_free(struct maint_active *list, size_t n);

/* outpost_maintenance_active{window} for every window, and g's
 * outpost_slo_excluded_events_total{slo}. Scrape threads. */
void maint_render(struct maint *m, struct expo *e, const struct gen *g);

#endif
