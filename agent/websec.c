/* websec.c - web config, tokens and rate limit, as requests meet them (websec.h). */
#include "websec.h"
#include "audit.h"
#include "cfg_yaml.h"
#include "log.h"
#include "webauth.h"
#include "webcfg.h"
#include "webtls.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What failed authentications may write to the audit log: anyone who can
 * reach the port can fail one, and every line written moves the log toward
 * the rotation that deletes its oldest file, so an unbounded spray would
 * push the recorded history out. A token bucket: a burst, then a steady
 * rate; the failures over it are counted and the next auth_failed written
 * carries that count. */
#define WEBSEC_AUDIT_BURST 60
#define WEBSEC_AUDIT_EVERY_NS 1000000000LL /* one more event a second */

struct audit_budget {
    /* Guards the rest; held across the event's write so that the counts
     * reach the log in the order they were taken. */
    pthread_mutex_t lock;
    struct audit *audit; /* borrowed; NULL: none */
    const struct clock *clock;
    int64_t tokens_ns; /* WEBSEC_AUDIT_EVERY_NS per event, up to the burst's */
    int64_t last_ns;   /* monotonic, of the last refill */
    uint64_t suppressed;
};

struct websec_gen {
    atomic_int refs;
    struct webcfg *cfg;            /* NULL without --web.config.file */
    struct webauth_users *users;   /* NULL without basic_auth_users */
    struct webauth_tokens *tokens; /* NULL without --web.bearer-tokens-file */
    struct audit_budget *budget;   /* the websec's, borrowed */
};

struct websec {
    const char *config_file, *tokens_file;
    struct audit_budget *budget; /* owned */
    bool tls;
    struct ratelimit *rl; /* NULL without --web.rate-limit */
    pthread_mutex_t lock; /* guards current */
    struct websec_gen *current;
};

static void gen_unref(struct websec_gen *g)
{
    if (!g || atomic_fetch_sub(&g->refs, 1) != 1)
        return;
    webcfg_free(g->cfg);
    webauth_users_free(g->users);
    webauth_tokens_free(g->tokens);
    free(g);
}

static bool gen_tls(const struct websec_gen *g)
{
    return g->cfg && g->cfg->tls;
}

/* Read both files; every problem of both goes to errors. */
static enum op_rc load_gen(const struct websec *ws, struct websec_gen **out, struct buf *errors)
{
    struct websec_gen *g = xcalloc(1, sizeof(*g));
    atomic_init(&g->refs, 1);
    g->budget = ws->budget;
    enum op_rc rc = OP_OK;
    if (ws->config_file && webcfg_load_file(ws->config_file, &g->cfg, errors) != OP_OK) {
        g->cfg = NULL;
        rc = OP_ERR_INVALID;
    }
    if (ws->tokens_file && webauth_tokens_load(ws->tokens_file, &g->tokens, errors) != OP_OK) {
        g->tokens = NULL;
        rc = OP_ERR_INVALID;
    }
    if (rc != OP_OK) {
        gen_unref(g);
        return rc;
    }
    if (g->cfg && g->cfg->n_users)
        g->users = webauth_users_new((const char *const *)g->cfg->user_names,
                                     (const char *const *)g->cfg->user_hashes, g->cfg->n_users);
    *out = g;
    return OP_OK;
}

/* One line on what protects the endpoints now (counts, never secrets). */
static void log_gen(const char *msg, const struct websec *ws, const struct websec_gen *g)
{
    char tls[96], users[24], tokens[24], rate[48];
    if (gen_tls(g))
        snprintf(tls, sizeof(tls), "on (%s, min %s)",
                 webtls_client_auth_name(webtls_client_auth(g->cfg->tls)),
                 webtls_version_name(webtls_min_version(g->cfg->tls)));
    else
        snprintf(tls, sizeof(tls), "off");
    snprintf(users, sizeof(users), "%zu", g->cfg ? g->cfg->n_users : 0);
    snprintf(tokens, sizeof(tokens), "%zu", g->tokens ? webauth_tokens_count(g->tokens) : 0);
    snprintf(rate, sizeof(rate), "%s", ws->rl ? "on" : "off");
    log_info(msg, "tls", tls, "basic_auth_users", users, "bearer_tokens", tokens, "rate_limit",
             rate, "auth", websec_auth_required(g) ? "required" : "off");
}

enum op_rc websec_new(const struct websec_options *o, const struct clock *clock,
                      struct websec **out, struct buf *errors)
{
    struct websec *ws = xcalloc(1, sizeof(*ws));
    ws->config_file = o->config_file;
    ws->tokens_file = o->tokens_file;
    pthread_mutex_init(&ws->lock, NULL);
    ws->budget = xcalloc(1, sizeof(*ws->budget));
    pthread_mutex_init(&ws->budget->lock, NULL);
    ws->budget->audit = o->audit;
    ws->budget->clock = clock;
    ws->budget->tokens_ns = WEBSEC_AUDIT_BURST * WEBSEC_AUDIT_EVERY_NS;
    ws->budget->last_ns = clock_mono_ns(clock);
    if (load_gen(ws, &ws->current, errors) != OP_OK) {
        ws->current = NULL;
        websec_free(ws);
        return OP_ERR_INVALID;
    }
    ws->tls = gen_tls(ws->current);
    if (o->rate_n)
        ws->rl = rl_new(o->rate_n, o->rate_period_ms, clock);
    log_gen("web security", ws, ws->current);
    *out = ws;
    return OP_OK;
}

void websec_free(struct websec *ws)
{
    if (!ws)
        return;
    gen_unref(ws->current);
    rl_free(ws->rl);
    pthread_mutex_destroy(&ws->lock);
    pthread_mutex_destroy(&ws->budget->lock);
    free(ws->budget);
    free(ws);
}

bool websec_tls(const struct websec *ws)
{
    return ws->tls;
}

enum op_rc websec_prepare(struct websec *ws, struct websec_gen **staged, struct buf *errors)
{
    struct websec_gen *g;
    if (load_gen(ws, &g, errors) != OP_OK)
        return OP_ERR_INVALID;
    if (gen_tls(g) != ws->tls) {
        buf_addf(errors,
                 "%s: turning TLS %s takes a restart (the listeners keep the protocol they "
                 "started with); the running web configuration is kept\n",
                 ws->config_file, ws->tls ? "off" : "on");
        gen_unref(g);
        return OP_ERR_INVALID;
    }
    *staged = g;
    return OP_OK;
}

void websec_commit(struct websec *ws, struct websec_gen *staged)
{
    pthread_mutex_lock(&ws->lock);
    struct websec_gen *old = ws->current;
    ws->current = staged;
    pthread_mutex_unlock(&ws->lock);
    gen_unref(old);
    if (ws->config_file || ws->tokens_file)
        log_gen("web security reloaded", ws, staged);
}

void websec_discard(struct websec_gen *staged)
{
    gen_unref(staged);
}

struct websec_gen *websec_acquire(struct websec *ws)
{
    pthread_mutex_lock(&ws->lock);
    struct websec_gen *g = ws->current;
    atomic_fetch_add(&g->refs, 1);
    pthread_mutex_unlock(&ws->lock);
    return g;
}

void websec_release(struct websec_gen *g)
{
    gen_unref(g);
}

size_t websec_headers(const struct websec_gen *g, const struct header_kv **out)
{
    *out = g->cfg ? g->cfg->headers : NULL;
    return g->cfg ? g->cfg->n_headers : 0;
}

bool websec_has_users(const struct websec_gen *g)
{
    return g->users != NULL;
}

bool websec_has_tokens(const struct websec_gen *g)
{
    return g->tokens != NULL;
}

bool websec_auth_required(const struct websec_gen *g)
{
    return g->users || g->tokens;
}

/* auth_failed, within the budget (see struct audit_budget). */
static void audit_failure(struct audit_budget *b, const char *client, const char *handler,
                          const char *method, const char *reason)
{
    if (!b->audit)
        return;
    pthread_mutex_lock(&b->lock);
    int64_t now = clock_mono_ns(b->clock), cap = WEBSEC_AUDIT_BURST * WEBSEC_AUDIT_EVERY_NS;
    if (now > b->last_ns)
        b->tokens_ns =
            now - b->last_ns >= cap - b->tokens_ns ? cap : b->tokens_ns + now - b->last_ns;
    b->last_ns = now;
    if (b->tokens_ns < WEBSEC_AUDIT_EVERY_NS) {
        b->suppressed++;
    } else {
        b->tokens_ns -= WEBSEC_AUDIT_EVERY_NS;
        char n[24];
        snprintf(n, sizeof(n), "%" PRIu64, b->suppressed);
        /* Without a count, the NULL key ends the pairs there. */
        audit_event(b->audit, "auth_failed", "client", client, "route", handler, "method", method,
                    "reason", reason, b->suppressed ? "suppressed" : NULL, n, NULL);
        b->suppressed = 0;
    }
    pthread_mutex_unlock(&b->lock);
}

/* A failed authentication, logged and audited. The audit log gets the
 * method as basic, bearer (a header or Flagger's metadata.token), none (no
 * credentials) or other (another scheme, or a header that does not parse),
 * and never the user name: it would record a password typed into the user
 * field. */
static void log_failure(const struct websec_gen *g, const char *client, const char *handler,
                        const char *scheme, const char *user, const char *reason)
{
    const char *method = strcmp(scheme, "metadata.token") == 0 ? "bearer"
                         : strcmp(scheme, "basic") == 0 || strcmp(scheme, "bearer") == 0 ||
                                 strcmp(scheme, "none") == 0
                             ? scheme
                             : "other";
    audit_failure(g->budget, client, handler, method, reason);
    char q[CFG_MAX_QUOTED + 4];
    if (user)
        log_warn("authentication failed", "client", client, "handler", handler, "scheme", scheme,
                 "user", cfg_quote(user, q), "reason", reason);
    else
        log_warn("authentication failed", "client", client, "handler", handler, "scheme", scheme,
                 "reason", reason);
}

enum websec_auth websec_authenticate(struct websec_gen *g, const char *authorization,
                                     const char *client, const char *handler)
{
    struct webauth_credentials cr;
    enum websec_auth r = WEBSEC_AUTH_FAILED;
    switch (webauth_parse_header(authorization, &cr)) {
    case WEBAUTH_SCHEME_NONE:
        log_failure(g, client, handler, "none", NULL, "no credentials");
        r = WEBSEC_AUTH_MISSING;
        break;
    case WEBAUTH_SCHEME_BASIC:
        if (!g->users) {
            log_failure(g, client, handler, "basic", cr.user, "basic auth is not configured");
            break;
        }
        switch (webauth_check_basic(g->users, cr.user, cr.password)) {
        case WEBAUTH_OK:
            r = WEBSEC_AUTH_OK;
            break;
        case WEBAUTH_UNKNOWN_USER:
            log_failure(g, client, handler, "basic", cr.user, "unknown user");
            break;
        case WEBAUTH_WRONG_PASSWORD:
            log_failure(g, client, handler, "basic", cr.user, "wrong password");
            break;
        }
        break;
    case WEBAUTH_SCHEME_BEARER:
        if (!g->tokens)
            log_failure(g, client, handler, "bearer", NULL, "bearer tokens are not configured");
        else if (webauth_token_ok(g->tokens, cr.token, cr.token_len))
            r = WEBSEC_AUTH_OK;
        else
            log_failure(g, client, handler, "bearer", NULL, "unknown token");
        break;
    case WEBAUTH_SCHEME_OTHER:
        log_failure(g, client, handler, "other", NULL, "unsupported scheme (Basic or Bearer)");
        break;
    case WEBAUTH_SCHEME_MALFORMED:
        log_failure(g, client, handler, "malformed", NULL, "malformed credentials");
        break;
    }
    webauth_credentials_wipe(&cr);
    return r;
}

enum websec_auth websec_authenticate_token(struct websec_gen *g, const char *token,
                                           const char *client, const char *handler)
{
    if (!token) {
        log_failure(g, client, handler, "none", NULL, "no credentials (header or metadata.token)");
        return WEBSEC_AUTH_MISSING;
    }
    if (g->tokens && webauth_token_ok(g->tokens, token, strlen(token)))
        return WEBSEC_AUTH_OK;
    log_failure(g, client, handler, "metadata.token", NULL,
                g->tokens ? "unknown token" : "bearer tokens are not configured");
    return WEBSEC_AUTH_FAILED;
}

void websec_client(const struct sockaddr *sa, char *text, size_t cap, uint8_t key[RL_KEY_BYTES])
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    memset(key, 0, RL_KEY_BYTES);
    snprintf(text, cap, "unknown");
    if (sa && sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        memcpy(key, mapped, sizeof(mapped));
        memcpy(key + 12, &in->sin_addr, 4);
        inet_ntop(AF_INET, &in->sin_addr, text, (socklen_t)cap);
    } else if (sa && sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        memcpy(key, &in6->sin6_addr, RL_KEY_BYTES);
        if (memcmp(key, mapped, sizeof(mapped)) == 0)
            inet_ntop(AF_INET, key + 12, text, (socklen_t)cap);
        else
            inet_ntop(AF_INET6, &in6->sin6_addr, text, (socklen_t)cap);
    }
}

bool websec_rate_ok(struct websec *ws, const uint8_t key[RL_KEY_BYTES], uint32_t *retry_after_s)
{
    return !ws->rl || rl_take(ws->rl, key, retry_after_s);
}

enum op_rc websec_tls_session(struct websec *ws, void *gnutls_session, struct webtls **ref)
{
    pthread_mutex_lock(&ws->lock);
    struct webtls *t = gen_tls(ws->current) ? ws->current->cfg->tls : NULL;
    if (t)
        webtls_ref(t);
    pthread_mutex_unlock(&ws->lock);
    if (!t)
        return OP_ERR_STATE;
    if (webtls_session_setup(t, gnutls_session) != OP_OK) {
        webtls_unref(t);
        return OP_ERR_SYSTEM;
    }
    *ref = t;
    return OP_OK;
}

void websec_tls_done(struct webtls *ref)
{
    webtls_unref(ref);
}
