/*
 * silences_int.h - internals of the silences module, shared by its two
 * files: silences.c (the table of wanted silences, the settings, the JSON)
 * and silences_sync.c (the thread and its requests). Include it from
 * those two files and the module's unit test only.
 *
 * Locking: s->lock guards the table (wants and their per-Alertmanager
 * slots), the current settings pointer and the thread's published state
 * (multi handle, wake counters, stop request). It is held for table work
 * only: no logging, no I/O, no libcurl call but curl_multi_wakeup. The
 * thread's own state (transfers in flight, the list it read, the list's
 * backoff) needs no lock. config_lock serialises silences_configure calls.
 */
#ifndef OUTPOST_SILENCES_INT_H
#define OUTPOST_SILENCES_INT_H

#include "silences.h"
#include "buf.h"
#include "config.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct names;

#define SILENCES_CREATED_BY "outpost"

/* A macro's value as a string literal, for messages. */
#define SIL_STR_(x) #x
#define STR(x) SIL_STR_(x)

#define NS_PER_MS INT64_C(1000000)

/* ---- settings ---- */

/* Counters of one Alertmanager, shared by name by every settings object
 * that lists it (atomics: the thread counts without the lock). */
struct sil_counter {
    atomic_uint_fast64_t created, expired, errors;
    atomic_int refs;
};

struct sil_am {
    char *base; /* the configured URL (may hold credentials); NULL when over the cap */
    char *name; /* for the metric label and logs */
    struct sil_counter *ctr;
};

/* Immutable once built (but for the counters); freed with its last
 * reference: s->settings holds one, the thread one for what it uses. */
struct sil_settings {
    atomic_int refs;
    struct sil_am ams[CFG_MAX_ALERTMANAGERS];
    size_t n_ams;
};

/* ---- the table ---- */

struct sil_matcher {
    char *name, *value;
    bool is_regex, is_equal;
};

/* What one key knows of one Alertmanager. */
struct sil_slot {
    char *id;            /* the silence there, NULL when none is known */
    uint64_t id_version; /* the want's version that silence is of; 0: replace it */
    int64_t next_try_ns; /* backoff: no request before (monotonic) */
    int64_t backoff_ms;  /* 0 after a success */
    bool uncertain;      /* no id, but one may exist (a POST without answer): list first */
    bool drained_out;    /* failed while stopping: no more tries */
};

struct sil_want {
    char *key;
    char *comment;
    struct sil_matcher *m;
    size_t n;
    double starts, ends; /* Unix seconds */
    char *body;          /* the POST body of this version */
    uint64_t version;    /* bumped when matchers, times or comment change */
    bool wanted;         /* false once dropped: expire everywhere, then forget */
    struct sil_slot slot[CFG_MAX_ALERTMANAGERS];
};

struct silences {
    const struct clock *clock; /* borrowed */
    pthread_mutex_t lock;
    pthread_mutex_t config_lock;
    pthread_cond_t passed; /* the thread ended a pass: wakes_done moved */
    struct sil_settings *settings;
    /* the thread */
    pthread_t thread;
    bool joinable, running, stopping;
    int64_t drain_until_ns;
    CURLM *multi; /* the thread's, while it runs; others only wake it */
    uint64_t wakes_asked, wakes_done;
    unsigned in_flight; /* requests handed to libcurl, not yet booked (tests wait on it) */
    /* the table */
    struct sil_want *w;
    size_t n, cap;
    struct names *ix; /* key -> index; rebuilt when entries move */
};

/* A silence of an Alertmanager's list that could be ours. */
struct sil_cand {
    char *id, *comment;
    struct sil_matcher *m;
    size_t n;
    double starts, ends;
    bool pending; /* not started yet: its start is the one it was given */
    bool taken;   /* reused by a key already */
};

/* ---- defined in silences.c ---- */

struct sil_settings *sil_settings_ref(struct sil_settings *s);
void sil_settings_unref(struct sil_settings *s);
/* The want under key (borrowed until the lock is released), or NULL;
 * O(1). Caller holds the lock. */
struct sil_want *sil_find(struct silences *s, const char *key);
/* Forget want i (the last one takes its place). Caller holds the lock. */
void sil_remove_locked(struct silences *s, size_t i);
/* A silence ID safe to put in a URL path: [0-9A-Za-z-], 1 to
 * SILENCES_ID_MAX characters. */
bool sil_id_ok(const char *id);
/* RFC 3339 as Alertmanager writes it ("2026-12-01T06:39:28.000Z", any
 * fraction, Z or an offset) to Unix seconds; false when malformed. */
bool sil_parse_time(const char *s, double *out);
/* Read GET /api/v2/silences' answer (text borrowed): the silences created
 * by outpost that are active or pending, well formed; others are skipped.
 * OP_ERR_INVALID with a message in err when it is not a JSON array. *out:
 * caller frees with sil_list_free. */
enum op_rc sil_parse_list(const char *text, size_t len, struct sil_cand **out, size_t *n_out,
                          struct buf *err) WUR;
void sil_list_free(struct sil_cand *c, size_t n);
/* Read POST /api/v2/silences' answer: *id (caller frees) from silenceID. */
enum op_rc sil_parse_created(const char *text, size_t len, char **id, struct buf *err) WUR;
/* The first candidate not taken with w's comment and matchers (borrowed
 * from c), or NULL; *same_times says whether its times are w's too. */
struct sil_cand *sil_match(const struct sil_want *w, struct sil_cand *c, size_t n,
                           bool *same_times);

/* ---- defined in silences_sync.c ---- */

/* Start the thread unless it runs or silences_stop was called. False only
 * when it could not be created. Caller holds the lock. */
bool sil_start_locked(struct silences *s);
/* Make the thread run a pass soon (a no-op while none runs). Caller holds
 * the lock. */
void sil_wake_locked(struct silences *s);

#endif
