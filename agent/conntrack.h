/*
 * conntrack.h - the HTTP server's connections as its defences see them: a
 * cap on open connections and on those of one client address, a deadline
 * for a request to arrive, and closing a connection from outside the thread
 * that serves it.
 *
 * A connection is either waiting (for its first request after connecting,
 * or for the next one after a response) or answering (its request is in; a
 * response is being made or sent). Waiting costs a client nothing: a
 * slowloris client waits forever by trickling header bytes. So:
 *
 *  - a connection that has waited read_timeout is closed (ct_sweep);
 *  - a new connection that finds its address at max_per_addr, or the server
 *    at max_conns, closes the connection that has waited longest (of that
 *    address, or of all) to make room; only when no connection there is
 *    waiting is the new one refused. A client that sends its request at
 *    once (a health check, a scrape) is therefore admitted and answered
 *    however many slow connections share its address, and a waiting
 *    connection closed for it loses nothing that was sent to it.
 *
 * Closing is shutdown(2): the thread serving the socket sees end-of-file and
 * the server library closes it. The descriptor stays the library's and is
 * forgotten here (ct_close) under the same lock before the library closes
 * it, so a reused descriptor number is never shut down by mistake.
 *
 * Any thread; one mutex. The tables are scanned linearly: they hold at most
 * max_conns connections, plus those closing.
 */
#ifndef OUTPOST_CONNTRACK_H
#define OUTPOST_CONNTRACK_H

#include "clock.h"
#include "common.h"
#include "ratelimit.h"

#include <stdint.h>

struct conntrack_options {
    unsigned max_conns;      /* open connections, all addresses; at least 1 */
    unsigned max_per_addr;   /* open connections of one address; 0: no limit */
    int64_t read_timeout_ms; /* a waiting connection is closed after this */
    const struct clock *clock;
};

struct conntrack;
struct ct_conn;

/* A table for o (copied; the clock is borrowed). */
struct conntrack *ct_new(const struct conntrack_options *o);
/* Free the table; connections still in it are forgotten, not closed. */
void ct_free(struct conntrack *t);

enum ct_admit { CT_ADMITTED, CT_REFUSED_MAX, CT_REFUSED_PER_ADDR };

/*
 * A new connection on fd (borrowed; the caller's library owns it) from the
 * address key (websec_client). Makes room as described above. Admitted:
 * *out is its entry, waiting, with one reference that ct_close releases.
 * Refused: fd is shut down and *out is NULL.
 */
enum ct_admit ct_open(struct conntrack *t, const uint8_t key[RL_KEY_BYTES], int fd,
                      struct ct_conn **out) WUR;
/* Its request is in and a response queued: no deadline, never evicted. */
void ct_answering(struct ct_conn *c);
/* Its response is done: waiting again, its deadline counted from now. */
void ct_waiting(struct ct_conn *c);
/* Close it now, resetting it (its response was withdrawn: what is still
 * queued for the client is dropped). No-op once closing or closed. */
void ct_cut(struct ct_conn *c);
/* The library closed it: forget the descriptor and drop the reference
 * ct_open gave. */
void ct_close(struct ct_conn *c);
/* More references (a request, a response that may be cut) keep the entry,
 * not the connection. */
void ct_ref(struct ct_conn *c);
void ct_unref(struct ct_conn *c);

/* Close the connections past their deadline. Returns milliseconds until the
 * next deadline, or -1 when no connection is waiting. */
int64_t ct_sweep(struct conntrack *t);

struct ct_stats {
    unsigned open;                /* connections the library has not closed yet */
    uint64_t refused_max;         /* refused at max_conns, none waiting */
    uint64_t refused_per_addr;    /* refused at max_per_addr, none of it waiting */
    uint64_t closed_read_timeout; /* waited read_timeout */
    uint64_t closed_evicted;      /* waited longest when room was needed */
    uint64_t closed_cut;          /* ct_cut */
};
void ct_stats(struct conntrack *t, struct ct_stats *out);

#endif
