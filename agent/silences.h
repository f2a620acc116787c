/*
 * silences.h - silences the agent keeps in every configured Alertmanager
 * (API v2), for its maintenance windows.
 *
 * The caller states what it wants (silences_want) or no longer wants
 * (silences_drop) under a key; a thread of this module makes every
 * Alertmanager agree: POST <Alertmanager URL>/api/v2/silences to create,
 * DELETE <Alertmanager URL>/api/v2/silence/{id} to expire, GET
 * <Alertmanager URL>/api/v2/silences before creating. The Alertmanagers are
 * the alert sender's (alerting.alertmanagers), with the same path prefix.
 *
 * Idempotency. Every silence is created with createdBy "outpost" and the
 * caller's comment, which names the window and its start, so it identifies
 * the silence. Before creating in an Alertmanager, the thread lists its
 * silences and reuses an active or pending one with that createdBy, that
 * comment and the same matchers (an agent restart, or a POST whose answer
 * was lost), instead of making a second one. One it reuses whose times
 * differ from the wanted ones is replaced (expired, then created anew).
 *
 * Changes. Wanting a key again with other matchers, times or comment
 * replaces its silence the same way. Dropping a key expires its silence in
 * every Alertmanager; the key is forgotten once each has answered (or the
 * silence's end has passed: Alertmanager expired it itself). A want whose
 * end has passed is a drop. A silence someone expired or deleted by hand is
 * not created again until the next want that changes the key or an agent
 * restart: the agent does not fight operators.
 *
 * Requests. The thread drives them through its own libcurl multi handle
 * (never the probe loop's): at most one in flight per Alertmanager,
 * SILENCES_TIMEOUT_MS each, answers capped (SILENCES_LIST_MAX for the
 * list, SILENCES_ANSWER_MAX for the others) and read with jansson; an
 * answer that is over its cap, not JSON or not the expected shape is an
 * error, logged and counted, never a crash. A failure is retried with
 * exponential backoff, 1 s doubling to 30 s, per key and Alertmanager (per
 * Alertmanager for the list). The thread sleeps in curl_multi_poll until
 * its next due retry or the next end of a silence it keeps, and is woken
 * by silences_want, silences_drop, silences_retire, silences_configure and
 * silences_stop;
 * it never polls on a fixed period. Schedules run on the injected clock's
 * monotonic time; silence times are Unix (wall) seconds.
 *
 * Reloads. silences_configure swaps the list of Alertmanagers; what is
 * known of an Alertmanager whose URL stays is kept, requests in flight are
 * given up (and their effect found again by the next list). An
 * Alertmanager removed from the configuration keeps its silences.
 *
 * Logs: every create, reuse and expire at info with the key and the
 * silence's ID; failures at warn.
 *
 * Threads: every function may be called from any thread; the module never
 * logs or does I/O while holding its lock.
 */
#ifndef OUTPOST_SILENCES_H
#define OUTPOST_SILENCES_H

#include "common.h"
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct clock;

/* Caps on what the caller and the Alertmanagers size. A want over a cap is
 * refused (logged); an answer over one is an error (logged and counted). */
#define SILENCES_MATCHERS_MAX 64
#define SILENCES_BODY_MAX 65536          /* one silence as JSON: key, matchers, comment */
#define SILENCES_LIST_MAX (4u << 20)     /* the answer to GET /api/v2/silences */
#define SILENCES_ANSWER_MAX 65536        /* the answer to a POST or a DELETE */
#define SILENCES_URL_MAX 65536           /* an Alertmanager's URL with the API path */
#define SILENCES_ID_MAX 64               /* a silence ID (Alertmanager's are UUIDs) */
#define SILENCES_TIMEOUT_MS 10000        /* per request */
#define SILENCES_INITIAL_BACKOFF_MS 1000 /* doubling ... */
#define SILENCES_MAX_BACKOFF_MS 30000    /* ... up to this */

struct silences;
struct silence_matcher {
    const char *name, *value;
    bool is_regex;
};

/* Idle: no thread until silences_configure is given an Alertmanager. clock
 * is borrowed and must outlive the module (clock_system() in the agent, a
 * fake clock in tests). Caller frees with silences_free. */
struct silences *silences_new(const struct clock *clock);
/* The Alertmanagers to silence in (spec->alertmanagers, same URLs and path
 * prefix as the alert sender); borrowed for the call, copied. Starts the
 * thread the first time Alertmanagers are configured (never after
 * silences_stop). Returns without waiting for any request. */
void silences_configure(struct silences *s, const struct alerting_spec *spec);
/* Keep a silence under `key` (a window name, plus a suffix) in every
 * Alertmanager over [starts, ends) (Unix seconds) with these matchers
 * (copied; isEqual is always true), createdBy "outpost" and `comment`. All
 * strings borrowed for the call. Idempotent: calling again with the same
 * key, matchers and times changes nothing; an existing active silence with
 * the same createdBy and comment (an agent restart) is reused, not
 * duplicated. Returns at once; a thread does the HTTP with retries. A want
 * without matchers, with a NULL string, starts >= ends or over a cap is
 * refused with an error log (an existing silence of the key stays). */
void silences_want(struct silences *s, const char *key, const struct silence_matcher *m, size_t n,
                   double starts, double ends, const char *comment);
/* Expire the silence of key now (DELETE /api/v2/silence/{id}); unknown key:
 * no-op. key borrowed. */
void silences_drop(struct silences *s, const char *key);
/* Expire, in every Alertmanager, a silence this module does not know of
 * (made before an agent restart, no longer wanted) with exactly these
 * matchers (as a set) and this comment, under `key` (the caller's name for
 * the errand, not a key it wants; a known key is only dropped). The thread
 * finds it in each Alertmanager's list as it finds one to reuse, and
 * expires it; where there is none the key is forgotten. Nothing is done
 * without Alertmanagers or when `ends` (Unix seconds), the end of such a
 * silence, has passed. Strings borrowed for the call. */
void silences_retire(struct silences *s, const char *key, const struct silence_matcher *m, size_t n,
                     double ends, const char *comment);
/* Stop: try the expiries still pending (drops) within drain_ms, then abort
 * whatever is in flight and join the thread. Wanted silences stay in the
 * Alertmanagers (a restarted agent reuses them). Returns within drain_ms
 * plus a few milliseconds whatever the Alertmanagers do. */
void silences_stop(struct silences *s, int64_t drain_ms);
/* Stops (without draining) and frees; NULL is a no-op. */
void silences_free(struct silences *s);

/* Make the thread look at its schedule again now, and return once it has
 * (at once when no thread runs). For tests that move a fake clock: after
 * clock_fake_advance the test calls this; when it returns, whatever became
 * due at the new time has been handed to libcurl. */
void silences_wake(struct silences *s);

/* Counters per Alertmanager (any thread), for
 * outpost_alertmanager_silences_total{alertmanager,op="create"|"expire"} and
 * outpost_alertmanager_silences_errors_total{alertmanager}. A reused silence
 * is not a create. Counters follow an Alertmanager across reloads by name. */
struct silences_am_stat {
    char *name; /* as configured, without credentials; owned by the caller */
    uint64_t created, expired, errors;
};
/* Fills out[0 .. min(n, cap)) with copies, in configuration order, and
 * returns n, how many Alertmanagers there are. The caller releases the
 * filled entries with silences_stats_release. */
size_t silences_stats(struct silences *s, struct silences_am_stat *out, size_t cap);
/* Free the names silences_stats copied into st[0 .. n). */
void silences_stats_release(struct silences_am_stat *st, size_t n);

#endif
