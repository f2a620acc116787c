/*
 * target_api.c - the target's small session API, for flows: log in, use the token, log out.
 *
 *   POST /api/login    body {"user":"probe","password":"s3cret"} (any JSON with those two
 *                      strings): 200 {"token":"<32 hex>"} and "X-Session-Id: <the same>",
 *                      else 401. ?pad=N (0..100000) makes the token N bytes longer (a token
 *                      over a capture's size cap).
 *   GET  /api/orders   "Authorization: Bearer <token>" of a live session: 200
 *                      {"orders":[...],"session":"<token>"} (the token echoed, as real APIs
 *                      do), else 401 (a wrong token, or one already logged out).
 *   POST /api/logout   the same header: 200 and the token is dead from now on, else 401.
 *   GET  /api/stats    200 {"logins":L,"logouts":O,"live":V,"rejected":R}: what a test reads to
 *                      see that a clean-up step ran.
 *   GET  /api/peer     200 {"peer":"ADDR:PORT"}: the client's end of this connection; with
 *                      ?is=ADDR:PORT, 409 unless it is that one (a flow can check it kept
 *                      its connection).
 *   GET  /api/issued   200, every token handed out so far (the first 4096), one a line: what a
 *                      test looks for where captured values must never appear.
 *
 * Tokens come from the target's seeded PRNG (target_api_token), so a run can be replayed.
 */
#include "target_api.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#define MAX_SESSIONS 4096
#define TOKEN_HEX 32
#define MAX_PAD 100000

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char *live[MAX_SESSIONS];
static char *issued[MAX_SESSIONS];
static size_t n_issued;
static unsigned long logins, logouts, rejected;

static enum MHD_Result api_reply(struct MHD_Connection *conn, unsigned int status,
                                 const char *ctype, const char *body, const char *hname,
                                 const char *hval)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (resp == NULL)
        return MHD_NO;
    enum MHD_Result ok = MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    if (ok == MHD_YES && hname != NULL)
        ok = MHD_add_response_header(resp, hname, hval);
    if (ok == MHD_YES)
        ok = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ok;
}

static enum MHD_Result unauthorized(struct MHD_Connection *conn)
{
    pthread_mutex_lock(&mu);
    rejected++;
    pthread_mutex_unlock(&mu);
    return api_reply(conn, MHD_HTTP_UNAUTHORIZED, "application/json",
                     "{\"error\":\"unauthorized\"}\n", MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                     "Bearer realm=\"api\"");
}

/* The string value of "key" in a flat JSON body, into out (cap bytes); false when absent. */
static bool json_string(const char *body, size_t len, const char *key, char *out, size_t cap)
{
    char pat[64];
    snprintf(pat, sizeof(pat), "\"%s\"", key);
    const char *p = memmem(body, len, pat, strlen(pat)), *end = body + len;
    if (p == NULL)
        return false;
    p += strlen(pat);
    while (p < end && (*p == ' ' || *p == ':'))
        p++;
    if (p >= end || *p++ != '"')
        return false;
    size_t n = 0;
    while (p < end && *p != '"' && n + 1 < cap)
        out[n++] = *p++;
    out[n] = '\0';
    return p < end && *p == '"';
}

/* The session slot of the bearer token in the request, or -1. Caller holds mu. */
static int session_of(struct MHD_Connection *conn)
{
    const char *h =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (h == NULL || strncmp(h, "Bearer ", 7) != 0)
        return -1;
    for (int i = 0; i < MAX_SESSIONS; i++)
        if (live[i] != NULL && strcmp(live[i], h + 7) == 0)
            return i;
    return -1;
}

static enum MHD_Result login(struct MHD_Connection *conn, const char *body, size_t len)
{
    char user[64], pass[64];
    if (!json_string(body, len, "user", user, sizeof(user)) ||
        !json_string(body, len, "password", pass, sizeof(pass)) || strcmp(user, "probe") != 0 ||
        strcmp(pass, "s3cret") != 0)
        return unauthorized(conn);
    const char *pad_arg = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "pad");
    long pad = 0;
    if (pad_arg != NULL) {
        char *e;
        pad = strtol(pad_arg, &e, 10);
        if (*pad_arg == '\0' || *e != '\0' || pad < 0 || pad > MAX_PAD)
            return api_reply(conn, MHD_HTTP_BAD_REQUEST, "text/plain", "bad pad\n", NULL, NULL);
    }
    char *tok = malloc(TOKEN_HEX + (size_t)pad + 1);
    char *doc = malloc(TOKEN_HEX + (size_t)pad + 32);
    if (tok == NULL || doc == NULL) {
        free(tok);
        free(doc);
        return MHD_NO;
    }
    target_api_token(tok, TOKEN_HEX);
    memset(tok + TOKEN_HEX, 'p', (size_t)pad);
    tok[TOKEN_HEX + pad] = '\0';
    pthread_mutex_lock(&mu);
    int slot = -1;
    for (int i = 0; i < MAX_SESSIONS && slot < 0; i++)
        if (live[i] == NULL)
            slot = i;
    if (slot >= 0) {
        live[slot] = strdup(tok);
        logins++;
        if (n_issued < MAX_SESSIONS)
            issued[n_issued++] = strdup(tok);
    }
    pthread_mutex_unlock(&mu);
    snprintf(doc, TOKEN_HEX + (size_t)pad + 32, "{\"token\":\"%s\"}\n", tok);
    enum MHD_Result ok =
        slot < 0 ? api_reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain", "full\n", NULL, NULL)
                 : api_reply(conn, MHD_HTTP_OK, "application/json", doc, "X-Session-Id", tok);
    free(tok);
    free(doc);
    return ok;
}

static enum MHD_Result peer(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    char addr[INET6_ADDRSTRLEN] = "?", text[INET6_ADDRSTRLEN + 16];
    unsigned port = 0;
    if (ci != NULL && ci->client_addr->sa_family == AF_INET) {
        const struct sockaddr_in *sa = (const struct sockaddr_in *)ci->client_addr;
        inet_ntop(AF_INET, &sa->sin_addr, addr, sizeof(addr));
        port = ntohs(sa->sin_port);
    }
    snprintf(text, sizeof(text), "%s:%u", addr, port);
    const char *is = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "is");
    if (is != NULL && strcmp(is, text) != 0)
        return api_reply(conn, MHD_HTTP_CONFLICT, "text/plain", "another connection\n", NULL, NULL);
    char doc[INET6_ADDRSTRLEN + 32];
    snprintf(doc, sizeof(doc), "{\"peer\":\"%s\"}\n", text);
    return api_reply(conn, MHD_HTTP_OK, "application/json", doc, NULL, NULL);
}

bool target_api_keeps_body(const char *url)
{
    return strcmp(url, "/api/login") == 0;
}

enum MHD_Result target_api_route(struct MHD_Connection *conn, const char *url, const char *method,
                                 const char *body, size_t len, bool *handled)
{
    *handled = true;
    bool post = strcmp(method, "POST") == 0;
    if (strcmp(url, "/api/login") == 0 && post)
        return login(conn, body, len);
    bool logout = strcmp(url, "/api/logout") == 0 && post;
    if (strcmp(url, "/api/orders") == 0 || logout) {
        char *doc = NULL;
        pthread_mutex_lock(&mu);
        int s = session_of(conn);
        if (s >= 0 && !logout) {
            size_t n = strlen(live[s]) + 64;
            doc = malloc(n);
            if (doc != NULL)
                snprintf(doc, n, "{\"orders\":[{\"id\":1,\"total\":12.5}],\"session\":\"%s\"}\n",
                         live[s]);
        }
        if (s >= 0 && logout) {
            free(live[s]);
            live[s] = NULL;
            logouts++;
        }
        pthread_mutex_unlock(&mu);
        if (s < 0)
            return unauthorized(conn);
        if (logout)
            return api_reply(conn, MHD_HTTP_OK, "application/json", "{\"bye\":true}\n", NULL, NULL);
        enum MHD_Result ok =
            doc ? api_reply(conn, MHD_HTTP_OK, "application/json", doc, NULL, NULL) : MHD_NO;
        free(doc);
        return ok;
    }
    if (strcmp(url, "/api/issued") == 0) {
        pthread_mutex_lock(&mu);
        size_t n = 1;
        for (size_t i = 0; i < n_issued; i++)
            n += strlen(issued[i]) + 1;
        char *doc = malloc(n);
        if (doc != NULL) {
            size_t o = 0;
            for (size_t i = 0; i < n_issued; i++)
                o += (size_t)snprintf(doc + o, n - o, "%s\n", issued[i]);
            doc[o] = '\0';
        }
        pthread_mutex_unlock(&mu);
        enum MHD_Result ok =
            doc ? api_reply(conn, MHD_HTTP_OK, "text/plain", doc, NULL, NULL) : MHD_NO;
        free(doc);
        return ok;
    }
    if (strcmp(url, "/api/stats") == 0) {
        char doc[160];
        pthread_mutex_lock(&mu);
        unsigned long n_live = 0;
        for (int i = 0; i < MAX_SESSIONS; i++)
            n_live += live[i] != NULL;
        snprintf(doc, sizeof(doc),
                 "{\"logins\":%lu,\"logouts\":%lu,\"live\":%lu,\"rejected\":%lu}\n", logins,
                 logouts, n_live, rejected);
        pthread_mutex_unlock(&mu);
        return api_reply(conn, MHD_HTTP_OK, "application/json", doc, NULL, NULL);
    }
    if (strcmp(url, "/api/peer") == 0)
        return peer(conn);
    *handled = false;
    return MHD_NO;
}
