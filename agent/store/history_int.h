/*
 * history_int.h - what history.c (opening, recording, housekeeping) and
 * history_read.c (lists and runs) share: the connection, its prepared
 * statements and the names stored in the tables. Internal to the module.
 */
#ifndef OUTPOST_HISTORY_INT_H
#define OUTPOST_HISTORY_INT_H

#include "history.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>

/* The columns of a run row, in the order read_run reads them. */
#define RUN_COLS "id,canary,source,revision,started,ended,last_call,outcome,last_verdict,calls"

enum hist_stmt {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_ABANDON,
    ST_FIND_REV,
    ST_FIND_ANY,
    ST_SUPERSEDE,
    ST_NEW_RUN,
    ST_CALL,
    ST_RUN_UPDATE,
    ST_PRUNE_CALLS,
    ST_PRUNE_RUNS,
    ST_LIST,
    ST_LIST_ALL,
    ST_GET,
    ST_CALLS,
    ST_COUNT
};

struct ended_run {
    int64_t id;
    char *canary, *source, *revision;
    const char *outcome; /* static */
};

struct history {
    sqlite3 *db;
    pthread_mutex_t lock; /* the connection and its statements */
    sqlite3_stmt *st[ST_COUNT];
    const struct clock *clock;
    int64_t retention_ms;
    int64_t next_maintain_ms; /* wall ms; under lock */
    bool read_only;
    atomic_uint_fast64_t errors;
    struct audit *audit; /* borrowed; NULL: no audit events */
    /* Runs a transaction ended, told to the audit log once it commits
     * (a rolled-back transaction ended nothing). Under lock. */
    struct ended_run *ended;
    size_t n_ended, cap_ended;
};

/* The text stored for enum hist_source, hist_hook and hist_outcome (NULL:
 * none, stored as NULL). */
extern const char *const hist_source_names[2];
extern const char *const hist_hook_names[4];
extern const char *const hist_outcome_names[5];

/* Statement i of h, reset and unbound, ready to bind. Under h->lock. */
sqlite3_stmt *hist_stmt(struct history *h, enum hist_stmt i);
/* Bind v (borrowed, SQLITE_STATIC: it must outlive the step) or NULL. */
int hist_bind_text(sqlite3_stmt *s, int i, const char *v);

#endif
