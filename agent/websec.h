/*
 * websec.h - the endpoints' security as the HTTP server applies it: the web
 * config (--web.config.file: TLS, basic-auth users, response headers) and
 * the bearer tokens (--web.bearer-tokens-file), both re-read on every
 * reload, and the rate limiter (--web.rate-limit).
 *
 * What was read together is one generation (struct websec_gen, refcounted
 * and immutable but for its password cache): a request takes the current
 * one when it starts and judges everything by it, so a reload never changes
 * the rules under a request. Reloads go through the runtime's hook
 * (prepare, then commit or discard) so that a bad web config or tokens file
 * fails the whole reload and keeps what runs. The listeners' protocol is
 * fixed at start: a reload that would turn TLS on or off is refused (it
 * takes a restart); any other TLS change applies to the next connection.
 */
#ifndef OUTPOST_WEBSEC_H
#define OUTPOST_WEBSEC_H

#include "buf.h"
#include "clock.h"
#include "common.h"
#include "config.h"
#include "ratelimit.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct audit;

struct websec_options {
    const char *config_file; /* --web.config.file; NULL: none */
    const char *tokens_file; /* --web.bearer-tokens-file; NULL: none */
    uint32_t rate_n;         /* --web.rate-limit: n per period; 0: off */
    int64_t rate_period_ms;
    /* Failed authentications are auth_failed events here (client, route,
     * method, reason; never a credential or a user name): a burst of 60,
     * then one a second, the failures over that counted in the next
     * event's "suppressed". Borrowed, must outlive the websec; NULL: none. */
    struct audit *audit;
};

struct websec;
struct websec_gen;

/* Read the files of o (strings borrowed; they must outlive ws). Problems go
 * to errors, one a line, naming file and line. clock drives the limiter. */
enum op_rc websec_new(const struct websec_options *o, const struct clock *clock,
                      struct websec **out, struct buf *errors) WUR;
void websec_free(struct websec *ws);

/* The listeners speak TLS: fixed at websec_new. */
bool websec_tls(const struct websec *ws);

/* ---- reloads (the runtime's hook) ---- */

/* Read the files again into *staged; on errors keep nothing and say why. */
enum op_rc websec_prepare(struct websec *ws, struct websec_gen **staged, struct buf *errors) WUR;
/* Make staged current (takes ownership). */
void websec_commit(struct websec *ws, struct websec_gen *staged);
void websec_discard(struct websec_gen *staged);

/* ---- requests ---- */

/* The current generation, referenced; websec_release when the request is
 * done. Any thread. */
struct websec_gen *websec_acquire(struct websec *ws);
void websec_release(struct websec_gen *g);

/* The configured response headers (borrowed from g). */
size_t websec_headers(const struct websec_gen *g, const struct header_kv **out);
/* Users or tokens are configured: every endpoint but /-/healthy and
 * /-/ready needs credentials. */
bool websec_auth_required(const struct websec_gen *g);
bool websec_has_users(const struct websec_gen *g);
bool websec_has_tokens(const struct websec_gen *g);

enum websec_auth { WEBSEC_AUTH_OK, WEBSEC_AUTH_MISSING, WEBSEC_AUTH_FAILED };

/* Judge an Authorization header (NULL when absent) sent by client (text)
 * to handler (a route name). Anything but OK is logged at warn level with
 * the client, the handler, the scheme, the user name for basic auth and the
 * reason; never a password or a token. It is also an auth_failed event in
 * the audit log (within its budget, websec_options), without the user name. */
enum websec_auth websec_authenticate(struct websec_gen *g, const char *authorization,
                                     const char *client, const char *handler) WUR;
/* The same for a bearer token that came in a request body (Flagger's
 * metadata.token; NULL when there was none). */
enum websec_auth websec_authenticate_token(struct websec_gen *g, const char *token,
                                           const char *client, const char *handler) WUR;

/* The client's address as text (IPv4-mapped IPv6 shown as IPv4; cap >= 64)
 * and as the rate limiter's key. */
void websec_client(const struct sockaddr *sa, char *text, size_t cap, uint8_t key[RL_KEY_BYTES]);
/* One request from key: true when allowed (always, without
 * --web.rate-limit); else *retry_after_s. */
bool websec_rate_ok(struct websec *ws, const uint8_t key[RL_KEY_BYTES],
                    uint32_t *retry_after_s) WUR;

/* ---- TLS connections ---- */

struct webtls;
/* Prepare a new connection's GnuTLS session with the current TLS settings;
 * *ref is held until websec_tls_done (after the session is gone). */
enum op_rc websec_tls_session(struct websec *ws, void *gnutls_session, struct webtls **ref) WUR;
void websec_tls_done(struct webtls *ref);

#endif
