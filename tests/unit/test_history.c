/*
 * test_history.c - unit tests for the canary run history (agent/store/history.c):
 * the run model of docs/governance.md on a fake clock (promoted, rolled back,
 * superseded, abandoned), retention, reopening, read-only use, hostile
 * strings and the JSON.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "audit.h"
#include "clock.h"
#include "history.h"
#include "test_util.h"

#include <jansson.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SEC 1000LL
#define HOUR (3600 * SEC)
#define DAY (24 * HOUR)
/* 2026-01-01T00:00:00Z */
#define T0 1767225600000LL

struct fx {
    struct clock *clock;
    struct history *h;
    char dir[512];
};

static int fx_setup(void **state)
{
    static int n;
    struct fx *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "%s/h%d", tu_tmpdir(), n++);
    f->clock = clock_fake_new(0, T0);
    struct buf err;
    buf_init(&err, 4096);
    if (history_open(f->dir, f->clock, 90 * DAY, &f->h, &err) != OP_OK) {
        fprintf(stderr, "open: %s\n", buf_str(&err));
        return -1;
    }
    buf_free(&err);
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    history_close(f->h);
    clock_fake_free(f->clock);
    free(f);
    return 0;
}

static void advance(struct fx *f, int64_t ms)
{
    clock_fake_advance(f->clock, ms * 1000000);
}

/* A call as a gate makes it; strings borrowed. */
static struct hist_call call(const char *canary, enum hist_source src, const char *rev,
                             enum hist_hook hook, const char *verdict, int status)
{
    struct hist_call c = {
        .canary = canary,
        .source = src,
        .revision = rev,
        .hook = hook,
        .phase = src == HIST_FLAGGER ? "Progressing" : NULL,
        .verdict = verdict,
        .score = strcmp(verdict, "inconclusive") == 0 ? NAN : 100,
        .fisher_p = 0.5,
        .baseline = {.samples = 60, .error_ratio = 0, .p50 = 0.01, .p95 = 0.02, .p99 = 0.03},
        .canary_arm = {.samples = 59, .error_ratio = 0.1, .p50 = 0.011, .p95 = NAN, .p99 = 0.04},
        .shift = 0.001,
        .shift_lower = -INFINITY,
        .shift_upper = 0.002,
        .reason = "why",
        .status = status,
    };
    return c;
}

static void record(struct fx *f, struct hist_call c)
{
    assert_int_equal(history_record(f->h, &c), OP_OK);
}

/* The runs of canary, newest first; caller frees. */
static struct hist_run *list(struct fx *f, const char *canary, size_t *n)
{
    struct hist_run *r;
    assert_int_equal(history_list(f->h, canary, HIST_MAX_LIST, &r, n), OP_OK);
    return r;
}

static void assert_run(const struct hist_run *r, const char *rev, enum hist_outcome outcome,
                       int64_t started, int64_t ended, int64_t calls, const char *last)
{
    if (rev)
        assert_string_equal(r->revision, rev);
    else
        assert_null(r->revision);
    assert_int_equal(r->outcome, outcome);
    assert_int_equal(r->started_ms, started);
    assert_int_equal(r->ended_ms, ended);
    assert_int_equal(r->calls, calls);
    assert_string_equal(r->last_verdict, last);
}

static void test_promoted(void **state)
{
    struct fx *f = *state;
    record(f, call("web", HIST_FLAGGER, "A", HIST_HOOK_ROLLOUT, "inconclusive", 412));
    advance(f, 60 * SEC);
    record(f, call("web", HIST_FLAGGER, "A", HIST_HOOK_ROLLOUT, "pass", 200));
    advance(f, 60 * SEC);
    /* A confirm-promotion refused (412) holds the promotion: still open. */
    record(f, call("web", HIST_FLAGGER, "A", HIST_HOOK_CONFIRM, "inconclusive", 412));
    size_t n;
    struct hist_run *r = list(f, "web", &n);
    assert_int_equal(n, 1);
    assert_run(&r[0], "A", HIST_OPEN, T0, -1, 3, "inconclusive");
    assert_int_equal(r[0].source, HIST_FLAGGER);
    assert_string_equal(r[0].canary, "web");
    history_runs_free(r, n);
    advance(f, 60 * SEC);
    record(f, call("web", HIST_FLAGGER, "A", HIST_HOOK_CONFIRM, "pass", 200));
    r = list(f, "web", &n);
    assert_int_equal(n, 1);
    assert_run(&r[0], "A", HIST_PROMOTED, T0, T0 + 180 * SEC, 4, "pass");
    assert_int_equal(r[0].last_call_ms, T0 + 180 * SEC);
    int64_t id = r[0].id;
    history_runs_free(r, n);

    /* The calls, oldest first, every field as recorded. */
    struct hist_run *run;
    struct hist_call_row *c;
    assert_int_equal(history_get(f->h, "web", id, &run, &c, &n), OP_OK);
    assert_int_equal(n, 4);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(c[i].seq, (int64_t)i + 1);
        assert_int_equal(c[i].time_ms, T0 + (int64_t)i * 60 * SEC);
        assert_string_equal(c[i].phase, "Progressing");
    }
    assert_int_equal(c[0].hook, HIST_HOOK_ROLLOUT);
    assert_int_equal(c[2].hook, HIST_HOOK_CONFIRM);
    assert_int_equal(c[0].status, 412);
    assert_int_equal(c[3].status, 200);
    assert_true(isnan(c[0].score));
    assert_true(c[3].score == 100);
    assert_true(c[3].fisher_p == 0.5);
    assert_int_equal(c[3].baseline.samples, 60);
    assert_int_equal(c[3].canary_arm.samples, 59);
    assert_true(c[3].canary_arm.error_ratio == 0.1);
    assert_true(c[3].baseline.p99 == 0.03);
    assert_true(isnan(c[3].canary_arm.p95));
    assert_true(isnan(c[3].shift_lower)); /* -Inf is stored as NULL */
    assert_true(c[3].shift_upper == 0.002);
    assert_string_equal(c[3].reason, "why");
    history_calls_free(c, n);
    history_runs_free(run, 1);
    /* Another canary's name does not reach the run. */
    assert_int_equal(history_get(f->h, "api", id, &run, &c, &n), OP_ERR_NOT_FOUND);
    assert_int_equal(history_get(f->h, NULL, id + 100, &run, &c, &n), OP_ERR_NOT_FOUND);

    /* A call for the promoted revision never joins the ended run. */
    advance(f, 60 * SEC);
    record(f, call("web", HIST_FLAGGER, "A", HIST_HOOK_ROLLOUT, "pass", 200));
    r = list(f, "web", &n);
    assert_int_equal(n, 2);
    assert_run(&r[0], "A", HIST_OPEN, T0 + 240 * SEC, -1, 1, "pass");
    assert_true(r[0].id > id);
    assert_run(&r[1], "A", HIST_PROMOTED, T0, T0 + 180 * SEC, 4, "pass");
    history_runs_free(r, n);
}

static void test_rolled_back(void **state)
{
    struct fx *f = *state;
    record(f, call("web", HIST_FLAGGER, "A", HIST_HOOK_ROLLBACK, "inconclusive", 412));
    advance(f, 10 * SEC);
    record(f, call("web", HIST_FLAGGER, "A", HIST_HOOK_ROLLOUT, "fail", 412));
    size_t n;
    struct hist_run *r = list(f, "web", &n);
    assert_run(&r[0], "A", HIST_OPEN, T0, -1, 2, "fail");
    history_runs_free(r, n);
    advance(f, 10 * SEC);
    record(f, call("web", HIST_FLAGGER, "A", HIST_HOOK_ROLLBACK, "fail", 200));
    r = list(f, "web", &n);
    assert_int_equal(n, 1);
    assert_run(&r[0], "A", HIST_ROLLED_BACK, T0, T0 + 20 * SEC, 3, "fail");
    history_runs_free(r, n);
    /* A rollout answered 200 or a rollback answered 412 end nothing; nor
     * does a confirm-promotion answered 200 by Argo, which has no hooks. */
    record(f, call("web", HIST_ARGO, NULL, HIST_HOOK_NONE, "pass", 200));
    record(f, call("web", HIST_ARGO, NULL, HIST_HOOK_CONFIRM, "pass", 200));
    r = list(f, "web", &n);
    assert_int_equal(n, 2);
    assert_run(&r[0], NULL, HIST_OPEN, T0 + 20 * SEC, -1, 2, "pass");
    assert_int_equal(r[0].source, HIST_ARGO);
    history_runs_free(r, n);
}

static void test_superseded(void **state)
{
    struct fx *f = *state;
    record(f, call("web", HIST_FLAGGER, "A", HIST_HOOK_ROLLOUT, "pass", 200));
    record(f, call("web", HIST_ARGO, NULL, HIST_HOOK_NONE, "pass", 200));
    record(f, call("web", HIST_ARGO, "B", HIST_HOOK_NONE, "pass", 200));
    /* Argo's B superseded both open runs whose revision differs: Flagger's
     * A and Argo's own run without one. */
    size_t n;
    struct hist_run *r = list(f, "web", &n);
    assert_int_equal(n, 3);
    assert_run(&r[0], "B", HIST_OPEN, T0, -1, 1, "pass");
    assert_run(&r[1], NULL, HIST_SUPERSEDED, T0, T0, 1, "pass");
    assert_run(&r[2], "A", HIST_SUPERSEDED, T0, T0, 1, "pass");
    history_runs_free(r, n);
    /* Flagger with B: its own run of B; Argo's B run goes on. */
    advance(f, 5 * SEC);
    record(f, call("web", HIST_FLAGGER, "B", HIST_HOOK_ROLLOUT, "fail", 412));
    /* A revisionless Argo call joins Argo's open run (revision B). */
    record(f, call("web", HIST_ARGO, NULL, HIST_HOOK_NONE, "fail", 200));
    /* Another canary is another story. */
    record(f, call("api", HIST_FLAGGER, "Z", HIST_HOOK_ROLLOUT, "pass", 200));
    r = list(f, "web", &n);
    assert_int_equal(n, 4);
    assert_run(&r[0], "B", HIST_OPEN, T0 + 5 * SEC, -1, 1, "fail");
    assert_int_equal(r[0].source, HIST_FLAGGER);
    assert_run(&r[1], "B", HIST_OPEN, T0, -1, 2, "fail");
    assert_int_equal(r[1].source, HIST_ARGO);
    history_runs_free(r, n);
    /* Flagger's C supersedes both B runs at its time. */
    advance(f, 5 * SEC);
    record(f, call("web", HIST_FLAGGER, "C", HIST_HOOK_ROLLOUT, "inconclusive", 412));
    r = list(f, "web", &n);
    assert_int_equal(n, 5);
    assert_run(&r[0], "C", HIST_OPEN, T0 + 10 * SEC, -1, 1, "inconclusive");
    assert_run(&r[1], "B", HIST_SUPERSEDED, T0 + 5 * SEC, T0 + 10 * SEC, 1, "fail");
    assert_run(&r[2], "B", HIST_SUPERSEDED, T0, T0 + 10 * SEC, 2, "fail");
    history_runs_free(r, n);
    r = list(f, "api", &n);
    assert_int_equal(n, 1);
    assert_run(&r[0], "Z", HIST_OPEN, T0 + 5 * SEC, -1, 1, "pass");
    history_runs_free(r, n);
    /* Every canary, newest first. */
    r = list(f, NULL, &n);
    assert_int_equal(n, 6);
    for (size_t i = 1; i < n; i++)
        assert_true(r[i - 1].id > r[i].id);
    history_runs_free(r, n);
    assert_int_equal(history_list(f->h, NULL, 2, &r, &n), OP_OK);
    assert_int_equal(n, 2);
    assert_string_equal(r[0].revision, "C");
    history_runs_free(r, n);
    assert_int_equal(history_list(f->h, NULL, 0, &r, &n), OP_ERR_INVALID);
    assert_int_equal(history_list(f->h, NULL, HIST_MAX_LIST + 1, &r, &n), OP_ERR_INVALID);
}

static void test_abandoned(void **state)
{
    struct fx *f = *state;
    record(f, call("web", HIST_FLAGGER, "A", HIST_HOOK_ROLLOUT, "pass", 200));
    record(f, call("web", HIST_ARGO, NULL, HIST_HOOK_NONE, "pass", 200));
    advance(f, HOUR);
    /* Exactly an hour: still open. */
    size_t n;
    struct hist_run *r = list(f, "web", &n);
    assert_run(&r[0], NULL, HIST_OPEN, T0, -1, 1, "pass");
    history_runs_free(r, n);
    record(f, call("web", HIST_ARGO, NULL, HIST_HOOK_NONE, "fail", 200));
    advance(f, 1);
    /* Flagger's A: an hour and a millisecond without a call. A reader sees
     * it abandoned at its last call before anything is written. */
    r = list(f, "web", &n);
    assert_int_equal(n, 2);
    assert_run(&r[0], NULL, HIST_OPEN, T0, -1, 2, "fail");
    assert_run(&r[1], "A", HIST_ABANDONED, T0, T0, 1, "pass");
    history_runs_free(r, n);
    /* The next call writes it, and the same revision starts a new run. */
    record(f, call("web", HIST_FLAGGER, "A", HIST_HOOK_ROLLOUT, "pass", 200));
    r = list(f, "web", &n);
    assert_int_equal(n, 3);
    assert_run(&r[0], "A", HIST_OPEN, T0 + HOUR + 1, -1, 1, "pass");
    assert_run(&r[2], "A", HIST_ABANDONED, T0, T0, 1, "pass");
    history_runs_free(r, n);
    sqlite3 *db;
    char path[600];
    snprintf(path, sizeof(path), "%s/history.db", f->dir);
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT count(*) FROM runs WHERE outcome = 'abandoned'"
                                        " AND ended = started",
                                        -1, &s, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(s, 0), 1);
    sqlite3_finalize(s);
    sqlite3_close(db);
}

/* Rows of a table, straight from the file. */
static int count_rows(struct fx *f, const char *table)
{
    char path[600], sql[64];
    snprintf(path, sizeof(path), "%s/history.db", f->dir);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
    sqlite3 *db;
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    int v = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

static void test_retention(void **state)
{
    struct fx *f = *state;
    const int64_t M = 60 * SEC;
    /* Run 1 (A) is superseded at T0 + 1 s; run 2 (B) promoted at T0 + 10 m;
     * run 3 (x) has calls at T0 + 10 m and T0 + 40 m and is abandoned. */
    record(f, call("web", HIST_FLAGGER, "A", HIST_HOOK_ROLLOUT, "pass", 200));
    record(f, call("web", HIST_FLAGGER, "A", HIST_HOOK_ROLLOUT, "pass", 200));
    advance(f, SEC);
    record(f, call("web", HIST_FLAGGER, "B", HIST_HOOK_ROLLOUT, "pass", 200));
    advance(f, 10 * M - SEC);
    record(f, call("web", HIST_FLAGGER, "B", HIST_HOOK_CONFIRM, "pass", 200));
    record(f, call("api", HIST_ARGO, "x", HIST_HOOK_NONE, "pass", 200));
    advance(f, 30 * M);
    record(f, call("api", HIST_ARGO, "x", HIST_HOOK_NONE, "pass", 200));
    assert_int_equal(count_rows(f, "runs"), 3);
    assert_int_equal(count_rows(f, "calls"), 6);

    /* 90 days after run 1 ended, to the millisecond: kept ("before"). */
    advance(f, SEC + 90 * DAY - 40 * M);
    assert_int_equal(history_maintain(f->h), OP_OK);
    assert_int_equal(count_rows(f, "runs"), 3);
    advance(f, 1);
    assert_int_equal(history_maintain(f->h), OP_OK);
    assert_int_equal(count_rows(f, "runs"), 2);
    assert_int_equal(count_rows(f, "calls"), 4);
    /* Run 2 goes 10 minutes later. Run 3 was abandoned at its last call
     * (T0 + 40 m), so it goes 30 minutes after run 2. */
    advance(f, 10 * M - SEC);
    assert_int_equal(history_maintain(f->h), OP_OK);
    assert_int_equal(count_rows(f, "runs"), 1);
    assert_int_equal(count_rows(f, "calls"), 2);
    size_t n;
    struct hist_run *r = list(f, NULL, &n);
    assert_int_equal(n, 1);
    assert_run(&r[0], "x", HIST_ABANDONED, T0 + 10 * M, T0 + 40 * M, 2, "pass");
    int64_t last = r[0].id;
    history_runs_free(r, n);
    advance(f, 30 * M - 1);
    assert_int_equal(history_maintain(f->h), OP_OK);
    assert_int_equal(count_rows(f, "runs"), 1);
    advance(f, 1);
    assert_int_equal(history_maintain(f->h), OP_OK);
    assert_int_equal(count_rows(f, "runs"), 0);
    assert_int_equal(count_rows(f, "calls"), 0);
    /* Ids are never reused after a deletion. */
    record(f, call("api", HIST_ARGO, "x", HIST_HOOK_NONE, "pass", 200));
    r = list(f, NULL, &n);
    assert_int_equal(r[0].id, last + 1);
    history_runs_free(r, n);
    assert_int_equal(history_errors(f->h), 0);
}

static void test_tick(void **state)
{
    struct fx *f = *state;
    assert_int_equal(history_tick(f->h), HIST_MAINTAIN_MS);
    advance(f, HIST_MAINTAIN_MS - 5);
    assert_int_equal(history_tick(f->h), 5);
    advance(f, 5);
    assert_int_equal(history_tick(f->h), HIST_MAINTAIN_MS); /* ran now */
    assert_int_equal(history_tick(f->h), HIST_MAINTAIN_MS);
    assert_int_equal(history_tick(NULL), HIST_MAINTAIN_MS);
    assert_int_equal(history_errors(f->h), 0);
}

static void test_reopen(void **state)
{
    struct fx *f = *state;
    record(f, call("web", HIST_FLAGGER, "A", HIST_HOOK_ROLLOUT, "pass", 200));
    record(f, call("web", HIST_FLAGGER, "B", HIST_HOOK_ROLLOUT, "pass", 200));
    history_close(f->h);
    struct buf err;
    buf_init(&err, 4096);
    advance(f, 30 * SEC);
    assert_int_equal(history_open(f->dir, f->clock, 90 * DAY, &f->h, &err), OP_OK);
    /* The same revision continues its run across the restart. */
    record(f, call("web", HIST_FLAGGER, "B", HIST_HOOK_CONFIRM, "pass", 200));
    size_t n;
    struct hist_run *r = list(f, "web", &n);
    assert_int_equal(n, 2);
    assert_run(&r[0], "B", HIST_PROMOTED, T0, T0 + 30 * SEC, 2, "pass");
    assert_run(&r[1], "A", HIST_SUPERSEDED, T0, T0, 1, "pass");
    history_runs_free(r, n);

    /* Read-only, alongside the writer. */
    struct history *ro;
    assert_int_equal(history_open_ro(f->dir, f->clock, &ro, &err), OP_OK);
    assert_int_equal(history_list(ro, "web", 10, &r, &n), OP_OK);
    assert_int_equal(n, 2);
    history_runs_free(r, n);
    struct hist_call c = call("web", HIST_FLAGGER, "B", HIST_HOOK_ROLLOUT, "pass", 200);
    assert_int_equal(history_record(ro, &c), OP_ERR_IO);
    assert_int_equal(history_errors(ro), 1);
    history_close(ro);

    /* Retention out of range; a newer schema is refused. */
    struct history *x;
    assert_int_equal(history_open(f->dir, f->clock, HIST_MIN_RETENTION_MS - 1, &x, &err),
                     OP_ERR_INVALID);
    history_close(f->h);
    f->h = NULL;
    char path[600];
    snprintf(path, sizeof(path), "%s/history.db", f->dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 2", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    buf_reset(&err);
    assert_int_equal(history_open(f->dir, f->clock, 90 * DAY, &x, &err), OP_ERR_INVALID);
    assert_non_null(strstr(buf_str(&err), "schema version 2 is newer than this outpost's (1)"));
    assert_non_null(strstr(buf_str(&err), path));
    buf_reset(&err);
    assert_int_equal(history_open_ro(f->dir, f->clock, &x, &err), OP_ERR_INVALID);
    assert_non_null(strstr(buf_str(&err), "schema version 2, this outpost reads 1"));
    buf_free(&err);
}

static void test_bad_files(void **state)
{
    struct fx *f = *state;
    struct buf err;
    buf_init(&err, 4096);
    struct history *x;
    char dir[600], path[700];
    snprintf(dir, sizeof(dir), "%s/none", f->dir);
    assert_int_equal(history_open_ro(dir, f->clock, &x, &err), OP_ERR_NOT_FOUND);
    assert_null(x);
    snprintf(path, sizeof(path), "%s/history.db: no such file", dir);
    assert_string_equal(buf_str(&err), path);
    /* Not a database. */
    snprintf(dir, sizeof(dir), "%s/text", f->dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(path, sizeof(path), "%s/history.db", dir);
    FILE *fp = fopen(path, "w");
    fputs("this is not a database, it is just some text long enough to be looked at\n", fp);
    fclose(fp);
    buf_reset(&err);
    assert_int_equal(history_open_ro(dir, f->clock, &x, &err), OP_ERR_INVALID);
    assert_non_null(strstr(buf_str(&err), "not a database"));
    buf_reset(&err);
    assert_int_equal(history_open(dir, f->clock, 90 * DAY, &x, &err), OP_ERR_INVALID);
    assert_non_null(strstr(buf_str(&err), "not a database"));
    /* A directory where the file should be. */
    snprintf(dir, sizeof(dir), "%s/dir", f->dir);
    snprintf(path, sizeof(path), "%s/dir/history.db", f->dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    assert_int_equal(mkdir(path, 0700), 0);
    buf_reset(&err);
    assert_int_equal(history_open(dir, f->clock, 90 * DAY, &x, &err), OP_ERR_INVALID);
    assert_non_null(strstr(buf_str(&err), "not a regular file"));
    buf_free(&err);
    /* The agent's file is private to its group. */
    struct stat sb;
    snprintf(path, sizeof(path), "%s/history.db", f->dir);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0640);
}

static void test_hostile(void **state)
{
    struct fx *f = *state;
    static const char *const names[] = {
        "x'; DROP TABLE runs; --",
        "a\"b\\c\n\t\x01",
        "\xff\xfe bad utf-8 \xc0\xaf",
        "%s%n%d",
        "ünïcødé ✓ 😀",
        "runs/1",
    };
    for (size_t i = 0; i < ARRAY_SIZE(names); i++)
        record(f, call(names[i], HIST_ARGO, names[i], HIST_HOOK_NONE, "pass", 200));
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        size_t n;
        struct hist_run *r = list(f, names[i], &n);
        assert_int_equal(n, 1);
        assert_string_equal(r[0].canary, names[i]);
        assert_string_equal(r[0].revision, names[i]);
        /* The JSON is valid (jansson rejects invalid UTF-8) and says the
         * same, bad bytes as U+FFFD. */
        struct buf b;
        buf_init(&b, 1 << 20);
        history_runs_json(names[i], r, n, &b);
        json_error_t e;
        json_t *doc = json_loads(buf_str(&b), 0, &e);
        assert_non_null(doc);
        const char *got = json_string_value(json_object_get(doc, "canary"));
        if (i == 2)
            assert_string_equal(got, "\xef\xbf\xbd\xef\xbf\xbd bad utf-8 \xef\xbf\xbd\xef\xbf\xbd");
        else
            assert_string_equal(got, names[i]);
        json_t *run = json_array_get(json_object_get(doc, "runs"), 0);
        assert_string_equal(json_string_value(json_object_get(run, "revision")), got);
        json_decref(doc);
        buf_free(&b);
        history_runs_free(r, n);
    }
    size_t n;
    struct hist_run *r = list(f, NULL, &n);
    assert_int_equal(n, ARRAY_SIZE(names));
    history_runs_free(r, n);
    r = list(f, "x", &n);
    assert_int_equal(n, 0);
    history_runs_free(r, n);

    /* Caps: an error, counted, and nothing written. */
    char big[300];
    memset(big, 'r', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    big[HIST_MAX_REVISION] = '\0';
    record(f, call("cap", HIST_FLAGGER, big, HIST_HOOK_ROLLOUT, "pass", 200));
    big[HIST_MAX_REVISION] = 'r';
    struct hist_call c = call("cap", HIST_FLAGGER, big, HIST_HOOK_ROLLOUT, "pass", 200);
    assert_int_equal(history_record(f->h, &c), OP_ERR_LIMIT);
    c = call("cap", HIST_FLAGGER, "A", HIST_HOOK_ROLLOUT, "pass", 200);
    char phase[HIST_MAX_PHASE + 2];
    memset(phase, 'p', sizeof(phase) - 1);
    phase[sizeof(phase) - 1] = '\0';
    c.phase = phase;
    assert_int_equal(history_record(f->h, &c), OP_ERR_LIMIT);
    c.phase = NULL;
    c.status = 99;
    assert_int_equal(history_record(f->h, &c), OP_ERR_INVALID);
    assert_int_equal(history_errors(f->h), 3);
    r = list(f, "cap", &n);
    assert_int_equal(n, 1);
    assert_int_equal(r[0].calls, 1);
    history_runs_free(r, n);
}

static void test_json(void **state)
{
    struct fx *f = *state;
    record(f, call("web", HIST_FLAGGER, "A", HIST_HOOK_ROLLOUT, "inconclusive", 412));
    advance(f, 1500);
    record(f, call("web", HIST_FLAGGER, "A", HIST_HOOK_CONFIRM, "pass", 200));
    size_t n;
    struct hist_run *r = list(f, "web", &n);
    struct hist_run *run;
    struct hist_call_row *c;
    assert_int_equal(history_get(f->h, NULL, r[0].id, &run, &c, &n), OP_OK);
    struct buf b;
    buf_init(&b, 1 << 20);
    history_run_json(run, c, n, &b);
    char want[4096];
    snprintf(want, sizeof(want),
             "{\"id\":%lld,\"canary\":\"web\",\"source\":\"flagger\",\"revision\":\"A\","
             "\"started\":\"2026-01-01T00:00:00.000Z\",\"ended\":\"2026-01-01T00:00:01.500Z\","
             "\"outcome\":\"promoted\",\"last_verdict\":\"pass\","
             "\"last_call\":\"2026-01-01T00:00:01.500Z\",\"calls\":["
             "{\"seq\":1,\"time\":\"2026-01-01T00:00:00.000Z\",\"hook\":\"rollout\","
             "\"phase\":\"Progressing\",\"status\":412,\"verdict\":\"inconclusive\",\"score\":null,"
             "\"samples\":{\"baseline\":60,\"canary\":59},\"errors\":{\"baseline\":{\"ratio\":0},"
             "\"canary\":{\"ratio\":0.1},\"fisher_p\":0.5},\"latency\":{\"baseline\":{\"p50\":0.01,"
             "\"p95\":0.02,\"p99\":0.03},\"canary\":{\"p50\":0.011,\"p95\":null,\"p99\":0.04},"
             "\"shift\":{\"estimate\":0.001,\"lower\":null,\"upper\":0.002}},\"reason\":\"why\"},"
             "{\"seq\":2,\"time\":\"2026-01-01T00:00:01.500Z\",\"hook\":\"confirm-promotion\","
             "\"phase\":\"Progressing\",\"status\":200,\"verdict\":\"pass\",\"score\":100,"
             "\"samples\":{\"baseline\":60,\"canary\":59},\"errors\":{\"baseline\":{\"ratio\":0},"
             "\"canary\":{\"ratio\":0.1},\"fisher_p\":0.5},\"latency\":{\"baseline\":{\"p50\":0.01,"
             "\"p95\":0.02,\"p99\":0.03},\"canary\":{\"p50\":0.011,\"p95\":null,\"p99\":0.04},"
             "\"shift\":{\"estimate\":0.001,\"lower\":null,\"upper\":0.002}},\"reason\":\"why\"}]}",
             (long long)r[0].id);
    assert_string_equal(buf_str(&b), want);
    buf_reset(&b);
    history_runs_json(NULL, r, 1, &b);
    assert_non_null(strstr(buf_str(&b), "{\"runs\":[{\"id\":"));
    /* An open run: ended and outcome are null. */
    record(f, call("web", HIST_ARGO, NULL, HIST_HOOK_NONE, "pass", 200));
    history_runs_free(r, 1);
    r = list(f, "web", &n);
    buf_reset(&b);
    history_run_obj(&r[0], &b);
    assert_non_null(strstr(buf_str(&b),
                           "\"revision\":null,\"started\":\"2026-01-01T00:00:01.500Z\","
                           "\"ended\":null,\"outcome\":null,"));
    char t[HIST_TIME_BYTES];
    history_time(-1, t, sizeof(t));
    assert_string_equal(t, "1969-12-31T23:59:59.999Z");
    buf_free(&b);
    history_runs_free(r, n);
    history_runs_free(run, 1);
    history_calls_free(c, 2);
}

/* Every run that ends is told to the audit log once, after its
 * transaction committed: canary, run id, source, revision, outcome. */
static void test_run_end_audit(void **state)
{
    struct fx *f = *state;
    struct audit *a;
    struct buf err;
    buf_init(&err, 4096);
    assert_int_equal(audit_open(f->dir, 1u << 20, 2, f->clock, &a, &err), OP_OK);
    history_set_audit(f->h, a);
    record(f, call("web", HIST_FLAGGER, "A", HIST_HOOK_ROLLOUT, "pass", 200));
    record(f, call("web", HIST_ARGO, NULL, HIST_HOOK_NONE, "pass", 200));
    /* Flagger's B supersedes A and Argo's run without a revision. */
    record(f, call("web", HIST_FLAGGER, "B", HIST_HOOK_ROLLOUT, "pass", 200));
    record(f, call("web", HIST_FLAGGER, "B", HIST_HOOK_CONFIRM, "pass", 200));
    record(f, call("web", HIST_ARGO, "x1", HIST_HOOK_NONE, "pass", 200));
    advance(f, HOUR + 1);
    /* Any call writes Argo's x1 run as abandoned. */
    record(f, call("api", HIST_FLAGGER, "Z", HIST_HOOK_ROLLBACK, "fail", 200));
    audit_close(a);
    char path[600];
    snprintf(path, sizeof(path), "%s/audit.jsonl", f->dir);
    FILE *in = fopen(path, "r");
    assert_non_null(in);
    static const char *const want[][5] = {
        {"web", "1", "flagger", "A", "superseded"},  {"web", "2", "argo", "", "superseded"},
        {"web", "3", "flagger", "B", "promoted"},    {"web", "4", "argo", "x1", "abandoned"},
        {"api", "5", "flagger", "Z", "rolled_back"},
    };
    static const char *const keys[] = {"canary", "run", "source", "revision", "outcome"};
    char line[4096];
    size_t n = 0;
    while (fgets(line, sizeof(line), in)) {
        json_error_t jerr;
        json_t *o = json_loads(line, 0, &jerr);
        assert_non_null(o);
        assert_string_equal(json_string_value(json_object_get(o, "event")), "canary_run_end");
        json_t *fields = json_object_get(o, "fields");
        assert_true(n < ARRAY_SIZE(want));
        for (size_t k = 0; k < ARRAY_SIZE(keys); k++)
            assert_string_equal(json_string_value(json_object_get(fields, keys[k])), want[n][k]);
        json_decref(o);
        n++;
    }
    fclose(in);
    assert_int_equal(n, ARRAY_SIZE(want));
    buf_free(&err);
}

/* The audit event of a run's end names the run's revision, also when the
 * call that ended it came without one (it joined the open run whatever its
 * revision). */
static void test_run_end_audit_revision(void **state)
{
    struct fx *f = *state;
    struct audit *a;
    struct buf err;
    buf_init(&err, 4096);
    assert_int_equal(audit_open(f->dir, 1u << 20, 2, f->clock, &a, &err), OP_OK);
    history_set_audit(f->h, a);
    record(f, call("web", HIST_FLAGGER, "A", HIST_HOOK_ROLLOUT, "pass", 200));
    record(f, call("web", HIST_FLAGGER, NULL, HIST_HOOK_CONFIRM, "pass", 200));
    audit_close(a);
    size_t n;
    struct hist_run *r = list(f, "web", &n);
    assert_int_equal(n, 1);
    assert_run(&r[0], "A", HIST_PROMOTED, T0, T0, 2, "pass");
    history_runs_free(r, n);
    char path[600], line[4096];
    snprintf(path, sizeof(path), "%s/audit.jsonl", f->dir);
    FILE *in = fopen(path, "r");
    assert_non_null(in);
    assert_non_null(fgets(line, sizeof(line), in));
    json_error_t jerr;
    json_t *o = json_loads(line, 0, &jerr);
    assert_non_null(o);
    json_t *fields = json_object_get(o, "fields");
    assert_string_equal(json_string_value(json_object_get(fields, "outcome")), "promoted");
    assert_string_equal(json_string_value(json_object_get(fields, "revision")), "A");
    json_decref(o);
    assert_null(fgets(line, sizeof(line), in));
    fclose(in);
    buf_free(&err);
}

/* A history.db another program made with the same tables and version but
 * without their NOT NULL constraints (or a damaged one): NULL names in the
 * rows a pass ends are written as "", never dereferenced. */
static void test_foreign_nulls(void **state)
{
    struct fx *f = *state;
    history_close(f->h);
    f->h = NULL;
    char dir[600], path[700];
    snprintf(dir, sizeof(dir), "%s/foreign", f->dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(path, sizeof(path), "%s/history.db", dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db,
                     "CREATE TABLE runs(id INTEGER PRIMARY KEY, canary, source, revision, started,"
                     " ended, outcome, last_verdict, last_call, calls);"
                     "CREATE TABLE calls(run_id, seq, time, hook, phase, verdict, score, fisher_p,"
                     " baseline_samples, canary_samples, baseline_error_ratio, canary_error_ratio,"
                     " baseline_p50, baseline_p95, baseline_p99, canary_p50, canary_p95,"
                     " canary_p99, shift, shift_lower, shift_upper, reason, status);"
                     "INSERT INTO runs(id, last_call, calls) VALUES(7, 0, 0);"
                     "PRAGMA user_version = 1;",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    struct buf err;
    buf_init(&err, 4096);
    struct audit *a;
    assert_int_equal(audit_open(dir, 1u << 20, 2, f->clock, &a, &err), OP_OK);
    assert_int_equal(history_open(dir, f->clock, 90 * DAY, &f->h, &err), OP_OK);
    history_set_audit(f->h, a);
    /* Abandons run 7 (RETURNING its NULL names), then deletes it. */
    assert_int_equal(history_maintain(f->h), OP_OK);
    assert_int_equal(audit_events_written(a, 11), 1); /* canary_run_end */
    size_t n;
    struct hist_run *r = list(f, NULL, &n);
    assert_int_equal(n, 0);
    history_runs_free(r, n);
    audit_close(a);
    buf_free(&err);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_promoted),      T(test_rolled_back),   T(test_superseded),
        T(test_abandoned),     T(test_retention),     T(test_tick),
        T(test_reopen),        T(test_bad_files),     T(test_hostile),
        T(test_json),          T(test_run_end_audit), T(test_run_end_audit_revision),
        T(test_foreign_nulls),
    };
    return cmocka_run_group_tests(tests, tu_tmpdir_setup, tu_tmpdir_teardown);
}
