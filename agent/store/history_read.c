/* history_read.c - reading the canary run history (history.h): the lists
 * of runs and one run with its calls, as the API and the CLI show them. */
#include "history_int.h"
#include "log.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- reading ---- */

static char *col_str(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    return t ? xstrdup((const char *)t) : NULL;
}

static double col_real(sqlite3_stmt *s, int i)
{
    return sqlite3_column_type(s, i) == SQLITE_NULL ? NAN : sqlite3_column_double(s, i);
}

static int name_index(const char *const *names, size_t n, const char *v, int none)
{
    for (size_t i = 0; v && i < n; i++)
        if (names[i] && strcmp(names[i], v) == 0)
            return (int)i;
    return none;
}

/* A run row (RUN_COLS); an open run past HIST_ABANDON_MS reads as the
 * abandoned run the next write will make it. */
static void read_run(sqlite3_stmt *s, int64_t now, struct hist_run *r)
{
    r->id = sqlite3_column_int64(s, 0);
    r->canary = col_str(s, 1);
    const char *src = (const char *)sqlite3_column_text(s, 2);
    r->source = src && strcmp(src, "argo") == 0 ? HIST_ARGO : HIST_FLAGGER;
    r->revision = col_str(s, 3);
    r->started_ms = sqlite3_column_int64(s, 4);
    r->ended_ms = sqlite3_column_type(s, 5) == SQLITE_NULL ? -1 : sqlite3_column_int64(s, 5);
    r->last_call_ms = sqlite3_column_int64(s, 6);
    r->outcome = (enum hist_outcome)name_index(hist_outcome_names, ARRAY_SIZE(hist_outcome_names),
                                               (const char *)sqlite3_column_text(s, 7), HIST_OPEN);
    r->last_verdict = col_str(s, 8);
    r->calls = sqlite3_column_int64(s, 9);
    if (r->ended_ms < 0 && r->last_call_ms < now - HIST_ABANDON_MS) {
        r->ended_ms = r->last_call_ms;
        r->outcome = HIST_ABANDONED;
    }
    if (!r->canary)
        r->canary = xstrdup("");
    if (!r->last_verdict)
        r->last_verdict = xstrdup("");
}

static void read_call(sqlite3_stmt *s, struct hist_call_row *c)
{
    c->seq = sqlite3_column_int64(s, 0);
    c->time_ms = sqlite3_column_int64(s, 1);
    c->hook = (enum hist_hook)name_index(hist_hook_names, ARRAY_SIZE(hist_hook_names),
                                         (const char *)sqlite3_column_text(s, 2), HIST_HOOK_NONE);
    c->phase = col_str(s, 3);
    c->verdict = col_str(s, 4);
    if (!c->verdict)
        c->verdict = xstrdup("");
    c->score = col_real(s, 5);
    c->fisher_p = col_real(s, 6);
    c->baseline.samples = sqlite3_column_int64(s, 7);
    c->canary_arm.samples = sqlite3_column_int64(s, 8);
    c->baseline.error_ratio = col_real(s, 9);
    c->canary_arm.error_ratio = col_real(s, 10);
    c->baseline.p50 = col_real(s, 11);
    c->baseline.p95 = col_real(s, 12);
    c->baseline.p99 = col_real(s, 13);
    c->canary_arm.p50 = col_real(s, 14);
    c->canary_arm.p95 = col_real(s, 15);
    c->canary_arm.p99 = col_real(s, 16);
    c->shift = col_real(s, 17);
    c->shift_lower = col_real(s, 18);
    c->shift_upper = col_real(s, 19);
    c->reason = col_str(s, 20);
    if (!c->reason)
        c->reason = xstrdup("");
    c->status = sqlite3_column_int(s, 21);
}

static enum op_rc read_error(struct history *h, const char *what)
{
    log_error(what, "err", sqlite3_errmsg(h->db));
    return OP_ERR_IO;
}

enum op_rc history_list(struct history *h, const char *canary, unsigned limit,
                        struct hist_run **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (limit < 1 || limit > HIST_MAX_LIST)
        return OP_ERR_INVALID;
    pthread_mutex_lock(&h->lock);
    int64_t now = clock_wall_ms(h->clock);
    sqlite3_stmt *s = hist_stmt(h, canary ? ST_LIST : ST_LIST_ALL);
    if (canary)
        hist_bind_text(s, 1, canary);
    sqlite3_bind_int(s, canary ? 2 : 1, (int)limit);
    struct hist_run *v = xcalloc(limit, sizeof(*v));
    size_t k = 0;
    int r = SQLITE_DONE;
    while (k < limit && (r = sqlite3_step(s)) == SQLITE_ROW)
        read_run(s, now, &v[k++]);
    enum op_rc rc = k == limit || r == SQLITE_DONE ? OP_OK : read_error(h, "cannot list runs");
    sqlite3_reset(s);
    pthread_mutex_unlock(&h->lock);
    if (rc != OP_OK) {
        history_runs_free(v, k);
        return rc;
    }
    *out = v;
    *n = k;
    return OP_OK;
}

enum op_rc history_get(struct history *h, const char *canary, int64_t id, struct hist_run **run,
                       struct hist_call_row **calls, size_t *n)
{
    *run = NULL;
    *calls = NULL;
    *n = 0;
    pthread_mutex_lock(&h->lock);
    int64_t now = clock_wall_ms(h->clock);
    sqlite3_stmt *s = hist_stmt(h, ST_GET);
    sqlite3_bind_int64(s, 1, id);
    int r = sqlite3_step(s);
    struct hist_run *rr = NULL;
    struct hist_call_row *v = NULL;
    size_t k = 0, cap = 0;
    enum op_rc rc = OP_OK;
    if (r == SQLITE_ROW) {
        rr = xcalloc(1, sizeof(*rr));
        read_run(s, now, rr);
    } else {
        rc = r == SQLITE_DONE ? OP_ERR_NOT_FOUND : read_error(h, "cannot read a run");
    }
    sqlite3_reset(s);
    if (rc == OP_OK && canary && strcmp(rr->canary, canary) != 0)
        rc = OP_ERR_NOT_FOUND;
    if (rc == OP_OK) {
        s = hist_stmt(h, ST_CALLS);
        sqlite3_bind_int64(s, 1, id);
        while ((r = sqlite3_step(s)) == SQLITE_ROW) {
            if (k == cap) {
                cap = cap ? cap * 2 : 16;
                v = xrealloc(v, cap * sizeof(*v));
            }
            memset(&v[k], 0, sizeof(v[k]));
            read_call(s, &v[k++]);
        }
        if (r != SQLITE_DONE)
            rc = read_error(h, "cannot read a run's calls");
        sqlite3_reset(s);
    }
    pthread_mutex_unlock(&h->lock);
    if (rc != OP_OK) {
        history_runs_free(rr, rr ? 1 : 0);
        history_calls_free(v, k);
        return rc;
    }
    *run = rr;
    *calls = v;
    *n = k;
    return OP_OK;
}

void history_runs_free(struct hist_run *runs, size_t n)
{
    for (size_t i = 0; runs && i < n; i++) {
        free(runs[i].canary);
        free(runs[i].revision);
        free(runs[i].last_verdict);
    }
    free(runs);
}

void history_calls_free(struct hist_call_row *calls, size_t n)
{
    for (size_t i = 0; calls && i < n; i++) {
        free(calls[i].phase);
        free(calls[i].verdict);
        free(calls[i].reason);
    }
    free(calls);
}
