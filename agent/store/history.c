/* history.c - the canary run history in SQLite (history.h): the file, the
 * schema, recording calls into runs, abandonment and retention, reading. */
#include "history_int.h"
#include "audit.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The schema of version 1. AUTOINCREMENT: a run id is never handed out
 * twice, also after retention deleted the newest runs, so an id a user
 * noted keeps meaning that run or nothing. Times are Unix milliseconds. */
static const char *const schema_v1 =
    "CREATE TABLE runs("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " canary TEXT NOT NULL,"
    " source TEXT NOT NULL CHECK(source IN ('flagger','argo')),"
    " revision TEXT,"
    " started INTEGER NOT NULL,"
    " ended INTEGER,"
    " outcome TEXT CHECK(outcome IN ('promoted','rolled_back','superseded','abandoned')),"
    " last_verdict TEXT NOT NULL,"
    " last_call INTEGER NOT NULL,"
    " calls INTEGER NOT NULL);"
    "CREATE INDEX runs_canary ON runs(canary, id);"
    "CREATE INDEX runs_open ON runs(canary, source) WHERE ended IS NULL;"
    "CREATE TABLE calls("
    " run_id INTEGER NOT NULL,"
    " seq INTEGER NOT NULL,"
    " time INTEGER NOT NULL,"
    " hook TEXT,"
    " phase TEXT,"
    " verdict TEXT NOT NULL,"
    " score REAL, fisher_p REAL,"
    " baseline_samples INTEGER NOT NULL, canary_samples INTEGER NOT NULL,"
    " baseline_error_ratio REAL, canary_error_ratio REAL,"
    " baseline_p50 REAL, baseline_p95 REAL, baseline_p99 REAL,"
    " canary_p50 REAL, canary_p95 REAL, canary_p99 REAL,"
    " shift REAL, shift_lower REAL, shift_upper REAL,"
    " reason TEXT NOT NULL,"
    " status INTEGER NOT NULL,"
    " PRIMARY KEY(run_id, seq));"
    "PRAGMA user_version = 1;";

/* Every statement the module runs: values are always bound (?N), never
 * written into the text. */
static const char *const stmt_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_ABANDON] = "UPDATE runs SET ended = last_call, outcome = 'abandoned'"
                   " WHERE ended IS NULL AND last_call < ?1"
                   " RETURNING id, canary, source, revision",
    [ST_FIND_REV] = "SELECT id FROM runs WHERE canary = ?1 AND source = ?2 AND revision = ?3"
                    " AND ended IS NULL ORDER BY id DESC LIMIT 1",
    [ST_FIND_ANY] = "SELECT id FROM runs WHERE canary = ?1 AND source = ?2"
                    " AND ended IS NULL ORDER BY id DESC LIMIT 1",
    [ST_SUPERSEDE] = "UPDATE runs SET ended = ?3, outcome = 'superseded' WHERE canary = ?1"
                     " AND ended IS NULL AND (revision IS NULL OR revision <> ?2)"
                     " RETURNING id, canary, source, revision",
    [ST_NEW_RUN] = "INSERT INTO runs(canary, source, revision, started, last_call, last_verdict,"
                   " calls) VALUES(?1, ?2, ?3, ?4, ?4, ?5, 0)",
    [ST_CALL] = "INSERT INTO calls(run_id, seq, time, hook, phase, verdict, score, fisher_p,"
                " baseline_samples, canary_samples, baseline_error_ratio, canary_error_ratio,"
                " baseline_p50, baseline_p95, baseline_p99, canary_p50, canary_p95, canary_p99,"
                " shift, shift_lower, shift_upper, reason, status)"
                " VALUES(?1, (SELECT calls + 1 FROM runs WHERE id = ?1), ?2, ?3, ?4, ?5, ?6,"
                " ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)",
    [ST_RUN_UPDATE] = "UPDATE runs SET calls = calls + 1, last_call = ?2, last_verdict = ?3,"
                      " ended = ?4, outcome = ?5 WHERE id = ?1"
                      " RETURNING id, canary, source, revision",
    [ST_PRUNE_CALLS] = "DELETE FROM calls WHERE run_id IN"
                       " (SELECT id FROM runs WHERE coalesce(ended, last_call) < ?1)",
    [ST_PRUNE_RUNS] = "DELETE FROM runs WHERE coalesce(ended, last_call) < ?1",
    [ST_LIST] = "SELECT " RUN_COLS " FROM runs WHERE canary = ?1 ORDER BY id DESC LIMIT ?2",
    [ST_LIST_ALL] = "SELECT " RUN_COLS " FROM runs ORDER BY id DESC LIMIT ?1",
    [ST_GET] = "SELECT " RUN_COLS " FROM runs WHERE id = ?1",
    [ST_CALLS] = "SELECT seq, time, hook, phase, verdict, score, fisher_p, baseline_samples,"
                 " canary_samples, baseline_error_ratio, canary_error_ratio, baseline_p50,"
                 " baseline_p95, baseline_p99, canary_p50, canary_p95, canary_p99, shift,"
                 " shift_lower, shift_upper, reason, status FROM calls WHERE run_id = ?1"
                 " ORDER BY seq",
};

static void ended_flush(struct history *h, bool tell);

const char *const hist_source_names[2] = {"flagger", "argo"};
const char *const hist_hook_names[4] = {NULL, "rollout", "confirm-promotion", "rollback"};
const char *const hist_outcome_names[5] = {NULL, "promoted", "rolled_back", "superseded",
                                           "abandoned"};

const char *history_source_name(enum hist_source s)
{
    return hist_source_names[s];
}

const char *history_hook_name(enum hist_hook k)
{
    return hist_hook_names[k];
}

const char *history_outcome_name(enum hist_outcome o)
{
    return hist_outcome_names[o];
}

/* ---- opening ---- */

/* Pre-create the file with the directory's restrictive mode (SQLite would
 * use 0644; its -wal and -shm files copy the main file's mode), and refuse
 * what is not a regular file (a FIFO would block the open). */
static enum op_rc prepare_file(const char *path, bool create, struct buf *err)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | (create ? O_CREAT : 0), 0640);
    if (fd < 0) {
        int e = errno;
        buf_adds(err, e == ENOENT   ? "no such file"
                      : e == EISDIR ? "not a regular file"
                                    : strerror(e));
        return e == ENOENT ? OP_ERR_NOT_FOUND : e == EISDIR ? OP_ERR_INVALID : OP_ERR_IO;
    }
    struct stat sb;
    enum op_rc rc = OP_OK;
    if (fstat(fd, &sb) != 0) {
        buf_addf(err, "cannot stat: %s", strerror(errno));
        rc = OP_ERR_IO;
    } else if (!S_ISREG(sb.st_mode)) {
        buf_adds(err, "not a regular file");
        rc = OP_ERR_INVALID;
    }
    close(fd);
    return rc;
}

static enum op_rc exec(struct history *h, const char *sql, const char *what, struct buf *err)
{
    char *msg = NULL;
    if (sqlite3_exec(h->db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return OP_OK;
    buf_addf(err, "%s: %s", what, msg ? msg : sqlite3_errmsg(h->db));
    sqlite3_free(msg);
    return OP_ERR_IO;
}

static enum op_rc user_version(struct history *h, int *v, struct buf *err)
{
    sqlite3_stmt *s = NULL;
    enum op_rc rc = OP_ERR_IO;
    if (sqlite3_prepare_v2(h->db, "PRAGMA user_version", -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW) {
        *v = sqlite3_column_int(s, 0);
        rc = OP_OK;
    } else {
        buf_addf(err, "cannot read the schema version: %s", sqlite3_errmsg(h->db));
    }
    sqlite3_finalize(s);
    return rc;
}

/* Create the schema on a new file; a file of an older schema would be
 * migrated here, step by step, inside the same transaction. */
static enum op_rc ensure_schema(struct history *h, struct buf *err)
{
    if (exec(h, "BEGIN IMMEDIATE", "cannot lock the database", err) != OP_OK)
        return OP_ERR_IO;
    int v = 0;
    enum op_rc rc = user_version(h, &v, err);
    if (rc == OP_OK && v > HIST_SCHEMA_VERSION) {
        buf_addf(err, "schema version %d is newer than this outpost's (%d)", v,
                 HIST_SCHEMA_VERSION);
        rc = OP_ERR_INVALID;
    }
    if (rc == OP_OK && v == 0)
        rc = exec(h, schema_v1, "cannot create the schema", err);
    if (rc == OP_OK)
        rc = exec(h, "COMMIT", "cannot commit the schema", err);
    if (rc != OP_OK)
        (void)sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

static enum op_rc open_common(const char *dir, const struct clock *clock, bool ro,
                              int64_t retention_ms, struct history **out, struct buf *err)
{
    *out = NULL;
    struct buf path, why;
    buf_init(&path, 4096 + 64);
    buf_init(&why, 4096);
    buf_addf(&path, "%s/%s", dir, HIST_FILE_NAME);
    struct history *h = NULL;
    enum op_rc rc;
    if (path.failed) {
        buf_adds(err, "storage path too long");
        rc = OP_ERR_LIMIT;
        goto out;
    }
    if (!ro && mkdir(dir, 0750) != 0 && errno != EEXIST) {
        buf_addf(&why, "cannot create the directory: %s", strerror(errno));
        rc = OP_ERR_IO;
        goto out;
    }
    rc = prepare_file(buf_str(&path), !ro, &why);
    if (rc != OP_OK)
        goto out;
    h = xcalloc(1, sizeof(*h));
    pthread_mutex_init(&h->lock, NULL);
    h->clock = clock;
    h->retention_ms = retention_ms;
    h->read_only = ro;
    atomic_init(&h->errors, 0);
    int flags = ro ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
    if (sqlite3_open_v2(buf_str(&path), &h->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        buf_adds(&why, h->db ? sqlite3_errmsg(h->db) : "out of memory");
        rc = OP_ERR_IO;
        goto out;
    }
    sqlite3_extended_result_codes(h->db, 1);
    sqlite3_busy_timeout(h->db, HIST_BUSY_TIMEOUT_MS);
    /* WAL: readers (the CLI) never block the writer; NORMAL: a commit is
     * in the WAL (the page cache) when it returns, which a crash of the
     * process cannot lose; the WAL is fsynced at checkpoints. */
    if (!ro && (exec(h, "PRAGMA journal_mode=WAL", "cannot turn on WAL", &why) != OP_OK ||
                exec(h, "PRAGMA synchronous=NORMAL", "cannot set synchronous", &why) != OP_OK ||
                ensure_schema(h, &why) != OP_OK)) {
        rc = OP_ERR_INVALID;
        goto out;
    }
    int v = 0;
    if (ro && user_version(h, &v, &why) != OP_OK) {
        rc = OP_ERR_INVALID;
        goto out;
    }
    if (ro && v != HIST_SCHEMA_VERSION) {
        buf_addf(&why, "schema version %d, this outpost reads %d", v, HIST_SCHEMA_VERSION);
        rc = OP_ERR_INVALID;
        goto out;
    }
    for (size_t i = 0; i < ST_COUNT; i++) {
        if (sqlite3_prepare_v3(h->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &h->st[i],
                               NULL) != SQLITE_OK) {
            buf_addf(&why, "not an outpost history: %s", sqlite3_errmsg(h->db));
            rc = OP_ERR_INVALID;
            goto out;
        }
    }
    /* The first retention pass is due at once: the owner's first
     * history_tick runs it, after history_set_audit, so runs abandoned
     * while the agent was down reach the audit log too. */
    h->next_maintain_ms = clock_wall_ms(h->clock);
    rc = OP_OK;
out:
    if (rc != OP_OK && why.len)
        buf_addf(err, "%s: %s", buf_str(&path), buf_str(&why));
    if (rc != OP_OK) {
        history_close(h);
        h = NULL;
    }
    buf_free(&path);
    buf_free(&why);
    *out = h;
    return rc;
}

enum op_rc history_open(const char *dir, const struct clock *clock, int64_t retention_ms,
                        struct history **out, struct buf *err)
{
    if (retention_ms < HIST_MIN_RETENTION_MS || retention_ms > HIST_MAX_RETENTION_MS) {
        buf_adds(err, "retention out of range (1h to 100y)");
        *out = NULL;
        return OP_ERR_INVALID;
    }
    return open_common(dir, clock, false, retention_ms, out, err);
}

enum op_rc history_open_ro(const char *dir, const struct clock *clock, struct history **out,
                           struct buf *err)
{
    return open_common(dir, clock, true, 0, out, err);
}

void history_close(struct history *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(h->st[i]);
    /* The last connection to close checkpoints the WAL and removes it. */
    if (h->db)
        sqlite3_close(h->db);
    ended_flush(h, false);
    free(h->ended);
    pthread_mutex_destroy(&h->lock);
    free(h);
}

uint64_t history_errors(const struct history *h)
{
    return h ? atomic_load(&h->errors) : 0;
}

/* ---- binding ---- */

sqlite3_stmt *hist_stmt(struct history *h, enum hist_stmt i)
{
    sqlite3_stmt *s = h->st[i];
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return s;
}

int hist_bind_text(sqlite3_stmt *s, int i, const char *v)
{
    if (!v)
        return sqlite3_bind_null(s, i);
    return sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

/* NaN and the infinities are stored as NULL: JSON has no spelling for them. */
static int bind_real(sqlite3_stmt *s, int i, double v)
{
    if (!isfinite(v))
        return sqlite3_bind_null(s, i);
    return sqlite3_bind_double(s, i, v);
}

void history_set_audit(struct history *h, struct audit *a)
{
    if (h)
        h->audit = a;
}

static void ended_add(struct history *h, int64_t id, const char *canary, const char *source,
                      const char *revision, const char *outcome)
{
    if (h->n_ended == h->cap_ended) {
        h->cap_ended = h->cap_ended ? 2 * h->cap_ended : 4;
        h->ended = xrealloc(h->ended, h->cap_ended * sizeof(*h->ended));
    }
    /* NULLs only come from a file whose constraints are not ours (another
     * program's, or damaged): written as "", never dereferenced. */
    h->ended[h->n_ended++] =
        (struct ended_run){id, xstrdup(canary ? canary : ""), xstrdup(source ? source : ""),
                           xstrdup(revision ? revision : ""), outcome};
}

/* Forget the runs collected (told = false: the transaction rolled back),
 * or tell each to the audit log. Under lock. */
static void ended_flush(struct history *h, bool tell)
{
    for (size_t i = 0; i < h->n_ended; i++) {
        struct ended_run *e = &h->ended[i];
        if (tell) {
            char id[32];
            snprintf(id, sizeof(id), "%lld", (long long)e->id);
            audit_event(h->audit, "canary_run_end", "canary", e->canary, "run", id, "source",
                        e->source, "revision", e->revision, "outcome", e->outcome, NULL);
        }
        free(e->canary);
        free(e->source);
        free(e->revision);
    }
    h->n_ended = 0;
}

/* Step an UPDATE ... RETURNING id, canary, source, revision to its end,
 * collecting each run it ended with outcome. */
static bool run_ending(struct history *h, sqlite3_stmt *s, const char *outcome)
{
    int r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW)
        ended_add(h, sqlite3_column_int64(s, 0), (const char *)sqlite3_column_text(s, 1),
                  (const char *)sqlite3_column_text(s, 2), (const char *)sqlite3_column_text(s, 3),
                  outcome);
    sqlite3_reset(s);
    return r == SQLITE_DONE;
}

/* Step a statement that returns no row (or ignore its rows). */
static bool run(sqlite3_stmt *s)
{
    int r = sqlite3_step(s);
    sqlite3_reset(s);
    return r == SQLITE_DONE || r == SQLITE_ROW;
}

/* ---- recording ---- */

static enum op_rc check_call(const struct hist_call *c)
{
    if (!c->canary || !*c->canary || !c->verdict || !c->reason ||
        (c->source != HIST_FLAGGER && c->source != HIST_ARGO) || c->hook < HIST_HOOK_NONE ||
        c->hook > HIST_HOOK_ROLLBACK || c->status < 100 || c->status > 599)
        return OP_ERR_INVALID;
    if (strlen(c->canary) > HIST_MAX_CANARY || strlen(c->reason) > HIST_MAX_REASON ||
        (c->revision && strlen(c->revision) > HIST_MAX_REVISION) ||
        (c->phase && strlen(c->phase) > HIST_MAX_PHASE) || strlen(c->verdict) > 16)
        return OP_ERR_LIMIT;
    return OP_OK;
}

/* The open run the call belongs to, or a new one (superseding the canary's
 * other open runs when the call names a new revision). Inside the
 * transaction. */
static bool find_run(struct history *h, const struct hist_call *c, int64_t now, int64_t *id)
{
    const char *src = hist_source_names[c->source];
    bool has_rev = c->revision && *c->revision;
    sqlite3_stmt *s = hist_stmt(h, has_rev ? ST_FIND_REV : ST_FIND_ANY);
    hist_bind_text(s, 1, c->canary);
    hist_bind_text(s, 2, src);
    if (has_rev)
        hist_bind_text(s, 3, c->revision);
    int r = sqlite3_step(s);
    if (r == SQLITE_ROW) {
        *id = sqlite3_column_int64(s, 0);
        sqlite3_reset(s);
        return true;
    }
    sqlite3_reset(s);
    if (r != SQLITE_DONE)
        return false;
    if (has_rev) {
        s = hist_stmt(h, ST_SUPERSEDE);
        hist_bind_text(s, 1, c->canary);
        hist_bind_text(s, 2, c->revision);
        sqlite3_bind_int64(s, 3, now);
        if (!run_ending(h, s, "superseded"))
            return false;
    }
    s = hist_stmt(h, ST_NEW_RUN);
    hist_bind_text(s, 1, c->canary);
    hist_bind_text(s, 2, src);
    hist_bind_text(s, 3, has_rev ? c->revision : NULL);
    sqlite3_bind_int64(s, 4, now);
    hist_bind_text(s, 5, c->verdict);
    if (!run(s))
        return false;
    *id = sqlite3_last_insert_rowid(h->db);
    return true;
}

static bool insert_call(struct history *h, const struct hist_call *c, int64_t id, int64_t now)
{
    sqlite3_stmt *s = hist_stmt(h, ST_CALL);
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, now);
    hist_bind_text(s, 3, hist_hook_names[c->hook]);
    hist_bind_text(s, 4, c->phase);
    hist_bind_text(s, 5, c->verdict);
    bind_real(s, 6, c->score);
    bind_real(s, 7, c->fisher_p);
    sqlite3_bind_int64(s, 8, c->baseline.samples);
    sqlite3_bind_int64(s, 9, c->canary_arm.samples);
    bind_real(s, 10, c->baseline.error_ratio);
    bind_real(s, 11, c->canary_arm.error_ratio);
    bind_real(s, 12, c->baseline.p50);
    bind_real(s, 13, c->baseline.p95);
    bind_real(s, 14, c->baseline.p99);
    bind_real(s, 15, c->canary_arm.p50);
    bind_real(s, 16, c->canary_arm.p95);
    bind_real(s, 17, c->canary_arm.p99);
    bind_real(s, 18, c->shift);
    bind_real(s, 19, c->shift_lower);
    bind_real(s, 20, c->shift_upper);
    hist_bind_text(s, 21, c->reason);
    sqlite3_bind_int(s, 22, c->status);
    if (!run(s))
        return false;
    /* Flagger's answers that end a run: promotion confirmed, rollback
     * ordered. Nothing Argo is told ends one (its failureLimit decides). */
    enum hist_outcome end = HIST_OPEN;
    if (c->source == HIST_FLAGGER && c->status == 200 && c->hook == HIST_HOOK_CONFIRM)
        end = HIST_PROMOTED;
    else if (c->source == HIST_FLAGGER && c->status == 200 && c->hook == HIST_HOOK_ROLLBACK)
        end = HIST_ROLLED_BACK;
    s = hist_stmt(h, ST_RUN_UPDATE);
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, now);
    hist_bind_text(s, 3, c->verdict);
    if (end != HIST_OPEN)
        sqlite3_bind_int64(s, 4, now);
    hist_bind_text(s, 5, hist_outcome_names[end]);
    /* The run's own names, not the call's: a call without a revision ends
     * the run of whatever revision it joined. */
    return end != HIST_OPEN ? run_ending(h, s, hist_outcome_names[end]) : run(s);
}

static bool abandon(struct history *h, int64_t now)
{
    sqlite3_stmt *s = hist_stmt(h, ST_ABANDON);
    sqlite3_bind_int64(s, 1, now - HIST_ABANDON_MS);
    return run_ending(h, s, "abandoned");
}

static void fail(struct history *h, const char *msg, const char *canary)
{
    atomic_fetch_add(&h->errors, 1);
    log_error(msg, "canary", canary, "err", sqlite3_errmsg(h->db));
}

enum op_rc history_record(struct history *h, const struct hist_call *c)
{
    enum op_rc rc = check_call(c);
    if (rc != OP_OK) {
        atomic_fetch_add(&h->errors, 1);
        log_error("cannot record a canary gate call", "canary", c->canary, "err", op_strerror(rc));
        return rc;
    }
    pthread_mutex_lock(&h->lock);
    int64_t now = clock_wall_ms(h->clock), id = 0;
    bool ok = !h->read_only && run(hist_stmt(h, ST_BEGIN));
    if (ok) {
        ok = abandon(h, now) && find_run(h, c, now, &id) && insert_call(h, c, id, now) &&
             run(hist_stmt(h, ST_COMMIT));
        ended_flush(h, ok);
        if (!ok) {
            fail(h, "cannot record a canary gate call", c->canary);
            (void)run(hist_stmt(h, ST_ROLLBACK));
        }
    } else {
        fail(h, "cannot record a canary gate call", c->canary);
    }
    pthread_mutex_unlock(&h->lock);
    return ok ? OP_OK : OP_ERR_IO;
}

/* ---- housekeeping ---- */

enum op_rc history_maintain(struct history *h)
{
    if (!h || h->read_only)
        return OP_ERR_STATE;
    pthread_mutex_lock(&h->lock);
    int64_t now = clock_wall_ms(h->clock);
    /* Abandon first: a run open for longer than retention but still
     * called is kept; one that stopped is judged by its last call. */
    bool ok = run(hist_stmt(h, ST_BEGIN));
    if (ok) {
        sqlite3_stmt *pc = hist_stmt(h, ST_PRUNE_CALLS), *pr = hist_stmt(h, ST_PRUNE_RUNS);
        sqlite3_bind_int64(pc, 1, now - h->retention_ms);
        sqlite3_bind_int64(pr, 1, now - h->retention_ms);
        ok = abandon(h, now) && run(pc) && run(pr) && run(hist_stmt(h, ST_COMMIT));
        ended_flush(h, ok);
        if (!ok)
            (void)run(hist_stmt(h, ST_ROLLBACK));
    }
    if (!ok)
        fail(h, "cannot apply the run history's retention", NULL);
    h->next_maintain_ms = now + HIST_MAINTAIN_MS;
    pthread_mutex_unlock(&h->lock);
    return ok ? OP_OK : OP_ERR_IO;
}

int64_t history_tick(struct history *h)
{
    if (!h || h->read_only)
        return HIST_MAINTAIN_MS;
    pthread_mutex_lock(&h->lock);
    int64_t left = h->next_maintain_ms - clock_wall_ms(h->clock);
    pthread_mutex_unlock(&h->lock);
    if (left > 0)
        return left;
    enum op_rc rc = history_maintain(h);
    (void)rc; /* a failure is logged and counted; the next try is an hour away */
    return HIST_MAINTAIN_MS;
}
