/*
 * history.h - the canary run history: every call of the canary gates, kept in
 * SQLite (<storage.path>/history.db) and grouped into runs. The run model
 * (docs/governance.md, "Canary run history"):
 *
 * - A run is the calls for one canary from one source (Flagger or Argo) and
 *   one revision (Flagger's checksum, Argo's ?revision=), from its first
 *   call to its end. A call joins the open run of its canary and source with
 *   the same revision; a call without a revision joins the open run of its
 *   canary and source whatever its revision. Calls never join a run that has
 *   ended: the next call starts a new run.
 * - A call with a revision that no open run of its canary and source has
 *   starts a new run and ends every other open run of that canary (either
 *   source) whose revision differs (none counts as different): superseded.
 *   (The gates reset the canary's samples then, so those runs' verdicts
 *   are over.)
 * - A Flagger confirm-promotion call answered 200 ends its run: promoted; a
 *   rollback call answered 200: rolled_back. Argo runs end only superseded
 *   or abandoned (its failureLimit decides, outpost never learns what).
 * - An open run without a call for HIST_ABANDON_MS ends abandoned, at the time
 *   of its last call. Written at the first history_tick after open, at every
 *   call and hourly; readers
 *   (lists, the CLI) show such a run as abandoned already.
 *
 * Durability: WAL, synchronous=NORMAL: a call is committed before
 * history_record returns (the gate answers after it), and survives a crash
 * of the process; a power loss may lose the calls since the last checkpoint,
 * never the database's consistency.
 *
 * Threads: one connection guarded by one mutex; every function may be
 * called from any thread. Strings a client sent (revision, phase, canary
 * names in a query) are always bound, never put into SQL text.
 */
#ifndef OUTPOST_HISTORY_H
#define OUTPOST_HISTORY_H

#include "buf.h"
#include "clock.h"
#include "common.h"

#include <stdbool.h>
#include <stdint.h>

#define HIST_FILE_NAME "history.db"
/* The schema this build writes (PRAGMA user_version). A file with a newer
 * one is refused: it was made by a newer outpost. */
#define HIST_SCHEMA_VERSION 1
/* An open run without a call for this long ends abandoned. */
#define HIST_ABANDON_MS 3600000LL
/* How often retention and abandonment run (history_tick). */
#define HIST_MAINTAIN_MS 3600000LL
#define HIST_DEFAULT_RETENTION_MS (90LL * 86400000)
#define HIST_MIN_RETENTION_MS 3600000LL
#define HIST_MAX_RETENTION_MS (100LL * 365 * 86400000)
/* Caps on what a call carries, in bytes without the NUL; longer is an error
 * (OP_ERR_LIMIT), never a cut. The gates check revision and phase before
 * they judge, the reason is the judge's own (256 bytes with NUL). */
#define HIST_MAX_CANARY 255
#define HIST_MAX_REVISION 255
#define HIST_MAX_PHASE 63
#define HIST_MAX_REASON 255
/* Runs a list returns at most; the API's default. */
#define HIST_MAX_LIST 1000
#define HIST_DEFAULT_LIST 100
/* A busy database (another process writing) is waited for this long. */
#define HIST_BUSY_TIMEOUT_MS 1000

enum hist_source { HIST_FLAGGER, HIST_ARGO };
/* Flagger's hook of the call; Argo has none. */
enum hist_hook { HIST_HOOK_NONE, HIST_HOOK_ROLLOUT, HIST_HOOK_CONFIRM, HIST_HOOK_ROLLBACK };
enum hist_outcome {
    HIST_OPEN,
    HIST_PROMOTED,
    HIST_ROLLED_BACK,
    HIST_SUPERSEDED,
    HIST_ABANDONED,
};

struct hist_arm {
    int64_t samples;      /* in the analysis window */
    double error_ratio;   /* NaN: none */
    double p50, p95, p99; /* NaN: no latency data */
};

/* One gate call as the gate judged and answered it. Strings borrowed. */
struct hist_call {
    const char *canary;
    enum hist_source source;
    const char *revision; /* NULL or "": none */
    enum hist_hook hook;
    const char *phase;   /* Flagger's body phase; NULL: none */
    const char *verdict; /* "pass", "fail" or "inconclusive" */
    double score, fisher_p;
    struct hist_arm baseline, canary_arm;
    double shift, shift_lower, shift_upper;
    const char *reason;
    int status; /* the HTTP status answered */
};

/* A run as read back. Strings owned by the run (history_runs_free). */
struct hist_run {
    int64_t id;
    char *canary;
    enum hist_source source;
    char *revision;                             /* NULL: none */
    int64_t started_ms, ended_ms, last_call_ms; /* Unix ms; ended_ms -1: open */
    enum hist_outcome outcome;
    char *last_verdict;
    int64_t calls;
};

/* One recorded call as read back (every column). Strings owned. */
struct hist_call_row {
    int64_t seq; /* 1, 2, ... within its run */
    int64_t time_ms;
    enum hist_hook hook;
    char *phase; /* NULL: none */
    char *verdict;
    double score, fisher_p;
    struct hist_arm baseline, canary_arm;
    double shift, shift_lower, shift_upper;
    char *reason;
    int status;
};

struct history;

/* Open (creating it and dir when missing) dir/history.db for the agent:
 * WAL, the schema, then abandonment and retention once. clock borrowed,
 * must outlive h. retention_ms: HIST_MIN_RETENTION_MS..HIST_MAX_RETENTION_MS.
 * On failure err says why (one line). Caller frees with history_close. */
enum op_rc history_open(const char *dir, const struct clock *clock, int64_t retention_ms,
                        struct history **out, struct buf *err) WUR;
/* Open dir/history.db read-only (`outpost canary history`, also while the
 * agent writes it). OP_ERR_NOT_FOUND when there is no such file;
 * OP_ERR_INVALID when it is not a history (err says why). */
enum op_rc history_open_ro(const char *dir, const struct clock *clock, struct history **out,
                           struct buf *err) WUR;
/* NULL is fine. */
void history_close(struct history *h);

/* Record one call (one transaction: abandonment, finding or starting its
 * run, superseding, the call, the run's end). Returns once committed.
 * OP_ERR_LIMIT: a string over its cap; OP_ERR_INVALID: c is malformed;
 * OP_ERR_IO: the database failed (logged). Nothing is written unless OP_OK. */
/* Tell the audit log (borrowed, may be NULL) of every run that ends from
 * now on: canary_run_end with canary, run, source, revision, outcome.
 * Set it before the first history_tick, which makes the retention pass
 * that history_open leaves due (runs abandoned while the agent was down). */
struct audit;
void history_set_audit(struct history *h, struct audit *a);
enum op_rc history_record(struct history *h, const struct hist_call *c) WUR;

/* Housekeeping from main's loop: abandonment and retention when
 * HIST_MAINTAIN_MS has passed since the last time. Returns the
 * milliseconds until it is next due. h NULL: a long wait. */
int64_t history_tick(struct history *h);
/* Abandonment and retention now: runs that ended before now - retention
 * (open runs: whose last call was) are deleted with their calls. */
enum op_rc history_maintain(struct history *h) WUR;

/* Failures of history_record and history_maintain since open. */
uint64_t history_errors(const struct history *h);

/* Runs of canary (NULL: every canary), newest first, at most limit
 * (1..HIST_MAX_LIST). *out: caller frees with history_runs_free. */
enum op_rc history_list(struct history *h, const char *canary, unsigned limit,
                        struct hist_run **out, size_t *n) WUR;
void history_runs_free(struct hist_run *runs, size_t n);
/* Run id with its calls (oldest first). canary NULL: any canary, else the
 * run must be of that canary. OP_ERR_NOT_FOUND when there is none. *run
 * and *calls: caller frees (history_runs_free(run, 1), history_calls_free). */
enum op_rc history_get(struct history *h, const char *canary, int64_t id, struct hist_run **run,
                       struct hist_call_row **calls, size_t *n) WUR;
void history_calls_free(struct hist_call_row *calls, size_t n);

/* ---- JSON (docs/governance.md has the schema) ---- */

/* {"canary":canary,"runs":[...]}; canary NULL: {"runs":[...]}. Appends. */
void history_runs_json(const char *canary, const struct hist_run *runs, size_t n, struct buf *out);
/* The run object with "calls":[...] (the array; the list's count of calls
 * is left out). Appends. */
void history_run_json(const struct hist_run *run, const struct hist_call_row *calls, size_t n,
                      struct buf *out);
/* One run's object as in a list ("calls": the number of calls). Appends. */
void history_run_obj(const struct hist_run *run, struct buf *out);
/* A JSON string of s whose invalid UTF-8 bytes become U+FFFD (stored names
 * are whatever a client sent). Appends. */
void history_json_string(struct buf *out, const char *s);
/* Unix ms as RFC 3339 UTC with milliseconds, "2026-01-01T00:00:00.000Z",
 * into out (at least HIST_TIME_BYTES). */
#define HIST_TIME_BYTES 32
void history_time(int64_t ms, char *out, size_t cap);

const char *history_source_name(enum hist_source s);
const char *history_hook_name(enum hist_hook k);       /* NULL for HIST_HOOK_NONE */
const char *history_outcome_name(enum hist_outcome o); /* NULL for HIST_OPEN */

#endif
