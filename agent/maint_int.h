/*
 * maint_int.h - what maint.c (evaluation, coverage, silences) and
 * maint_api.c (the API, its JSON, the file of ad-hoc windows) share.
 * Internal to the two.
 */
#ifndef OUTPOST_MAINT_INT_H
#define OUTPOST_MAINT_INT_H

#include "maint.h"

#include <pthread.h>

/* One window at run time, configured or ad-hoc. */
struct window {
    char *name; /* owned */
    bool adhoc;
    /* Configured: a copy of the spec's (cron and tz borrowed from it);
     * ad-hoc: one-off from its start. */
    struct maint_sched sched;
    const struct maint_spec *spec; /* configured: borrowed from the generation; NULL ad-hoc */
    char **checks;                 /* ad-hoc: owned; configured: the spec's */
    size_t n_checks;
    char **slos;
    size_t n_slos;
    bool exclude, silence;
    bool active;                /* as last evaluated */
    int64_t cur_start, cur_end; /* the occurrence, while active */
    /* A reload changed the schedule of this active window: its next
     * evaluation takes the occurrence from the new schedule. */
    bool resched;
};

/* A silence the agent kept for an active window before it stopped
 * (maintenance.json): at the next start it is expired unless the windows
 * want it still. */
struct prev_silence {
    char *window; /* owned */
    int kind;     /* 0: the check silence, 1: the SLO one */
    char *value;  /* the matcher's regular expression; owned */
    int64_t start_ms, end_ms;
};

struct maint {
    pthread_mutex_t lock; /* guards everything below */
    const struct clock *clock;
    char *dir; /* the storage path */
    struct silences *silences;
    struct audit *audit; /* borrowed, may be NULL */
    void (*wake)(void *arg);
    void *wake_arg;
    struct gen *gen; /* referenced; NULL before maint_use_gen */
    struct window *conf;
    size_t n_conf;
    struct window *adhoc;
    size_t n_adhoc;
    int64_t next_change;       /* wall ms of the next start or end, as last evaluated */
    struct prev_silence *prev; /* read at start, retired at the first generation */
    size_t n_prev;
    bool save_needed; /* the silences wanted changed: maintenance.json is behind */
};

/* The labels of a window's two silences, "check" and "slo". */
extern const char *const maint_kind_label[2];
/* A silence's comment: "outpost maintenance window <name> starting <start>". */
#define MAINT_COMMENT_BYTES (CFG_MAX_NAME_BYTES + 96)
void maint_silence_comment(const char *window, int64_t start_ms, char *out, size_t cap);
/* The matcher values (RE2 alternations of the names covered, escaped) of
 * w's check and SLO silences, appended to re[0] and re[1] (capped by the
 * caller; empty when the window covers none). Under the lock. */
void maint_silence_values(struct maint *m, const struct window *w, struct buf re[2]);
/* Free m->prev. */
void maint_prev_free(struct maint *m);

/* Evaluate every window at now (starts, ends, ad-hoc windows that ended
 * dropped, the generation's SLO sinks switched). Returns the next start or
 * end (wall ms; INT64_MAX: none). Under the lock. */
int64_t maint_evaluate_locked(struct maint *m, int64_t now);
/* End ad-hoc window i now (if active: logged, silences dropped), forget
 * it, save the file, switch the SLO sinks. Under the lock. */
void maint_drop_adhoc_locked(struct maint *m, size_t i, int64_t now);
/* The window called name (*adhoc says which list), NULL if none. Under the lock. */
struct window *maint_find_locked(struct maint *m, const char *name, bool *adhoc);
/* Free what w owns (not w itself). */
void maint_window_free(struct window *w);
/* RFC 3339 UTC of a wall time in ms: seconds, plus milliseconds when not
 * whole ("2026-12-06T02:00:00Z"). cap >= 40. */
void maint_fmt_time(int64_t ms, char *out, size_t cap);

/* maint_api.c: read the ad-hoc windows and the silences kept of
 * <dir>/maintenance.json (at start, before any lock is shared); write them
 * (under the lock; clears save_needed; an error is logged: the windows run
 * on, but would not survive a restart). */
void maint_load(struct maint *m);
void maint_save_locked(struct maint *m);

#endif
