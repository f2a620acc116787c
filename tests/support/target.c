/*
 * target.c - HTTP(S) target server for outpost's integration tests and the `make run` demo.
 *
 * outpost probes endpoints and exports what it saw as Prometheus metrics; this is the thing it
 * probes. Every endpoint is deterministic except the deliberately noisy ones, and those draw
 * from a seedable PRNG (--seed N) so that a failing test run can be replayed.
 *
 * Usage: target [--listen ADDR:PORT] [--tls-cert FILE --tls-key FILE] [--seed N]
 *   ADDR is an IPv4 literal or a bracketed IPv6 literal ([::1]:0); default 127.0.0.1:0.
 *   Once listening, prints exactly one line "listening on PORT" to stdout, PORT being the bound
 *   port (so PORT 0 is usable). With --tls-cert/--tls-key (PEM) it speaks HTTPS instead.
 *   Runs until SIGTERM or SIGINT, then exits 0.
 *
 * Endpoints (any method; a request body is read and discarded, except by /echo):
 *   /ok                     200 "ok\n"
 *   /status/NNN             status NNN (101..599), body "status NNN\n"
 *   /sleep/MS               sleeps MS ms (0..60000), then 200 "slept\n"
 *   /json                   200 application/json, a fixed document using every JSON type
 *   /badjson                200 application/json, truncated (invalid) JSON
 *   /redirect/N             302 to /redirect/N-1, or to /ok when N is 0 (N in 0..100)
 *   /big/BYTES              200, exactly BYTES bytes of 'x' (0..100000000), streamed
 *   /header                 200 "ok\n" with "X-Outpost-Test: hello-world"
 *   /echo                   200: method, request headers, blank line, body (<= 1 MiB, else 413)
 *   /auth/basic/USER/PASS   200 "ok\n" if "Authorization: Basic base64(USER:PASS)", else 401
 *   /auth/bearer/TOKEN      200 "ok\n" if "Authorization: Bearer TOKEN" exactly, else 401
 *   /flaky                  500 "error\n" with probability 5 %, else 200 "ok\n"
 *   /slow                   200 "ok\n" after 200..400 ms
 *   /stable                 after 20..40 ms: 500 with probability 0.5 %, else 200 "ok\n"
 *   /canary                 after 28..56 ms: 500 with probability 4 %, else 200 "ok\n"
 *   /count                  200, requests received so far by the server (this one included)
 *   /sleep-peak             200, the most /sleep/ requests ever in progress at the same time
 *   /api/...                a session API for flows: login, orders, logout, stats, peer
 *                           (target_api.c)
 *   /html/...               pages for browser checks (target_html.c):
 *     /html/ok              200, title; a script adds <p class="ready">Welcome</p> to #app after
 *                           300 ms
 *     /html/static          200, "Hello from outpost", no script
 *     /html/slow-image/MS   200, a page whose one image takes MS ms (0..60000): the load event
 *                           waits for it
 *     /html/img/MS          a 1x1 PNG after MS ms (0..60000); the wait ends when the client
 *                           goes away
 *     /html/never           a page whose image takes 60 s: no load event before a long timeout
 *     /html/error           500 with an HTML body
 *     /html/console-error   200; calls console.error twice and throws one uncaught exception
 *     /html/js-redirect     200; a script replaces it with /html/ok before its load event
 *   anything else           404 "not found\n"; a malformed numeric argument gives 400.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

#include <microhttpd.h>

#include "target_api.h"
#include "target_html.h"

#define ECHO_BODY_MAX ((size_t)1024 * 1024)
#define PEM_FILE_MAX ((long)1024 * 1024)
#define BIG_BLOCK 65536

static const char JSON_DOC[] =
    "{\"status\":\"ok\",\"version\":3,\"ratio\":0.5,\"healthy\":true,\"nothing\":null,"
    "\"items\":[{\"id\":1,\"name\":\"a\"},{\"id\":2,\"name\":\"b\"}],"
    "\"nested\":{\"deep\":{\"value\":\"x\"}}}";

static atomic_ullong request_count;
/* /sleep/ requests in progress, and the most there ever were at once (/sleep-peak): how a
 * test sees that probes overlapped without timing them. */
static atomic_long sleeping, sleeping_peak;

/*
 * Handlers sleep on this condition rather than with nanosleep: MHD_stop_daemon joins every
 * connection thread, so a /sleep/60000 in flight would otherwise keep the process alive for a
 * minute after SIGTERM, and tests expect a prompt exit.
 */
static pthread_mutex_t stop_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t stop_cv;
static bool stopping;

static pthread_mutex_t rng_mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t rng_state;

/* Growable byte buffer; `failed` latches so callers can check once at the end. */
struct buf {
    char *data;
    size_t len;
    size_t cap;
    bool failed;
};

struct request {
    bool is_echo; /* the body is kept: /echo, and the API paths that read one */
    bool too_large;
    struct buf body;
};

static void buf_append(struct buf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        char *p = realloc(b->data, cap);
        if (p == NULL) {
            b->failed = true;
            return;
        }
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
}

static void buf_puts(struct buf *b, const char *s)
{
    buf_append(b, s, strlen(s));
}

/* splitmix64 spreads small or zero seeds over the whole state, which xorshift needs. */
static void rng_seed(uint64_t seed)
{
    uint64_t z = seed + 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    rng_state = z ? z : 1;
}

static uint64_t rng_next(void)
{
    pthread_mutex_lock(&rng_mu);
    uint64_t x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    pthread_mutex_unlock(&rng_mu);
    return x * 0x2545F4914F6CDD1DULL;
}

static long rng_range(long lo, long hi)
{
    return lo + (long)(rng_next() % (uint64_t)(hi - lo + 1));
}

void target_api_token(char *out, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++)
        out[i] = hex[rng_next() & 15];
    out[n] = '\0';
}

static bool rng_chance(double p)
{
    return (double)(rng_next() >> 11) * 0x1p-53 < p;
}

static void sleep_ms(long ms)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += ms / 1000;
    deadline.tv_nsec += (ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&stop_mu);
    while (!stopping && pthread_cond_timedwait(&stop_cv, &stop_mu, &deadline) == 0)
        ;
    pthread_mutex_unlock(&stop_mu);
}

/* Only plain digits: strtol alone would also accept signs and leading blanks. */
static bool parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    if (*s < '0' || *s > '9')
        return false;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static const char *after_prefix(const char *s, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncmp(s, prefix, n) == 0 ? s + n : NULL;
}

static char *base64(const unsigned char *in, size_t n)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out = malloc(4 * ((n + 2) / 3) + 1);
    size_t i = 0, o = 0;
    if (out == NULL)
        return NULL;
    for (; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = tbl[v >> 18 & 63];
        out[o++] = tbl[v >> 12 & 63];
        out[o++] = tbl[v >> 6 & 63];
        out[o++] = tbl[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)in[i + 1] << 8;
        out[o++] = tbl[v >> 18 & 63];
        out[o++] = tbl[v >> 12 & 63];
        out[o++] = i + 1 < n ? tbl[v >> 6 & 63] : '=';
        out[o++] = '=';
    }
    out[o] = '\0';
    return out;
}

static enum MHD_Result reply_full(struct MHD_Connection *conn, unsigned int status,
                                  const char *ctype, const char *body, size_t len,
                                  const char *hname, const char *hval)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
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

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int status, const char *body)
{
    return reply_full(conn, status, "text/plain", body, strlen(body), NULL, NULL);
}

static enum MHD_Result reply_ok_or_500(struct MHD_Connection *conn, double p_error)
{
    return rng_chance(p_error) ? reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "error\n")
                               : reply(conn, MHD_HTTP_OK, "ok\n");
}

static ssize_t big_read(void *cls, uint64_t pos, char *out, size_t max)
{
    uint64_t left = *(const uint64_t *)cls - pos;
    size_t n = left < max ? (size_t)left : max;
    if (n == 0)
        return MHD_CONTENT_READER_END_OF_STREAM;
    memset(out, 'x', n);
    return (ssize_t)n;
}

static enum MHD_Result reply_big(struct MHD_Connection *conn, long bytes)
{
    uint64_t *size = malloc(sizeof(*size));
    if (size == NULL)
        return MHD_NO;
    *size = (uint64_t)bytes;
    struct MHD_Response *resp =
        MHD_create_response_from_callback(*size, BIG_BLOCK, big_read, size, free);
    if (resp == NULL) {
        free(size);
        return MHD_NO;
    }
    enum MHD_Result ok = MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
    if (ok == MHD_YES)
        ok = MHD_queue_response(conn, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return ok;
}

static enum MHD_Result echo_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    struct buf *out = cls;
    (void)kind;
    buf_puts(out, key);
    buf_puts(out, ": ");
    buf_puts(out, value ? value : "");
    buf_puts(out, "\n");
    return MHD_YES;
}

static enum MHD_Result reply_echo(struct MHD_Connection *conn, const char *method,
                                  const struct request *req)
{
    struct buf out = {0};
    buf_puts(&out, method);
    buf_puts(&out, "\n");
    MHD_get_connection_values(conn, MHD_HEADER_KIND, echo_header, &out);
    buf_puts(&out, "\n");
    if (req->body.len > 0)
        buf_append(&out, req->body.data, req->body.len);
    enum MHD_Result ok = MHD_NO;
    if (!out.failed)
        ok = reply_full(conn, MHD_HTTP_OK, "text/plain", out.data ? out.data : "", out.len, NULL,
                        NULL);
    free(out.data);
    return ok;
}

/* `creds` is "USER/PASS"; USER cannot contain '/', so the first one separates the two. */
static enum MHD_Result reply_basic_auth(struct MHD_Connection *conn, const char *creds)
{
    const char *slash = strchr(creds, '/');
    if (slash == NULL)
        return reply(conn, MHD_HTTP_NOT_FOUND, "not found\n");
    size_t n = strlen(creds);
    char *pair = malloc(n + 1);
    if (pair == NULL)
        return MHD_NO;
    memcpy(pair, creds, n + 1);
    pair[slash - creds] = ':';
    char *want = base64((const unsigned char *)pair, n);
    free(pair);
    if (want == NULL)
        return MHD_NO;
    const char *got =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    bool ok = got != NULL && strncasecmp(got, "Basic ", 6) == 0 && strcmp(got + 6, want) == 0;
    free(want);
    if (ok)
        return reply(conn, MHD_HTTP_OK, "ok\n");
    return reply_full(conn, MHD_HTTP_UNAUTHORIZED, "text/plain", "unauthorized\n", 13,
                      MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Basic realm=\"t\"");
}

static enum MHD_Result reply_bearer_auth(struct MHD_Connection *conn, const char *token)
{
    const char *got =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (got != NULL && strncmp(got, "Bearer ", 7) == 0 && strcmp(got + 7, token) == 0)
        return reply(conn, MHD_HTTP_OK, "ok\n");
    return reply_full(conn, MHD_HTTP_UNAUTHORIZED, "text/plain", "unauthorized\n", 13,
                      MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"t\"");
}

static enum MHD_Result route(struct MHD_Connection *conn, const char *url, const char *method,
                             const struct request *req)
{
    char text[64];
    const char *arg;
    long n;

    if (strcmp(url, "/ok") == 0)
        return reply(conn, MHD_HTTP_OK, "ok\n");
    if ((arg = after_prefix(url, "/status/")) != NULL) {
        if (!parse_long(arg, 101, 599, &n))
            return reply(conn, MHD_HTTP_BAD_REQUEST, "bad status\n");
        snprintf(text, sizeof(text), "status %ld\n", n);
        return reply(conn, (unsigned int)n, text);
    }
    if ((arg = after_prefix(url, "/sleep/")) != NULL) {
        if (!parse_long(arg, 0, 60000, &n))
            return reply(conn, MHD_HTTP_BAD_REQUEST, "bad duration\n");
        long now = atomic_fetch_add(&sleeping, 1) + 1, peak = atomic_load(&sleeping_peak);
        while (now > peak && !atomic_compare_exchange_weak(&sleeping_peak, &peak, now))
            ;
        sleep_ms(n);
        atomic_fetch_sub(&sleeping, 1);
        return reply(conn, MHD_HTTP_OK, "slept\n");
    }
    if (strcmp(url, "/json") == 0)
        return reply_full(conn, MHD_HTTP_OK, "application/json", JSON_DOC, sizeof(JSON_DOC) - 1,
                          NULL, NULL);
    if (strcmp(url, "/badjson") == 0)
        return reply_full(conn, MHD_HTTP_OK, "application/json", "{\"status\": ", 11, NULL, NULL);
    if ((arg = after_prefix(url, "/redirect/")) != NULL) {
        if (!parse_long(arg, 0, 100, &n))
            return reply(conn, MHD_HTTP_BAD_REQUEST, "bad redirect count\n");
        char location[32];
        if (n > 0)
            snprintf(location, sizeof(location), "/redirect/%ld", n - 1);
        else
            snprintf(location, sizeof(location), "/ok");
        return reply_full(conn, MHD_HTTP_FOUND, "text/plain", "redirect\n", 9,
                          MHD_HTTP_HEADER_LOCATION, location);
    }
    if ((arg = after_prefix(url, "/big/")) != NULL) {
        if (!parse_long(arg, 0, 100000000, &n))
            return reply(conn, MHD_HTTP_BAD_REQUEST, "bad size\n");
        return reply_big(conn, n);
    }
    if (strcmp(url, "/header") == 0)
        return reply_full(conn, MHD_HTTP_OK, "text/plain", "ok\n", 3, "X-Outpost-Test",
                          "hello-world");
    if (strcmp(url, "/echo") == 0)
        return reply_echo(conn, method, req);
    if ((arg = after_prefix(url, "/auth/basic/")) != NULL)
        return reply_basic_auth(conn, arg);
    if ((arg = after_prefix(url, "/auth/bearer/")) != NULL)
        return reply_bearer_auth(conn, arg);
    if (strcmp(url, "/flaky") == 0)
        return reply_ok_or_500(conn, 0.05);
    if (strcmp(url, "/slow") == 0) {
        sleep_ms(rng_range(200, 400));
        return reply(conn, MHD_HTTP_OK, "ok\n");
    }
    if (strcmp(url, "/stable") == 0) {
        sleep_ms(rng_range(20, 40));
        return reply_ok_or_500(conn, 0.005);
    }
    if (strcmp(url, "/canary") == 0) {
        sleep_ms(rng_range(28, 56));
        return reply_ok_or_500(conn, 0.04);
    }
    if (strcmp(url, "/sleep-peak") == 0) {
        snprintf(text, sizeof(text), "%ld\n", atomic_load(&sleeping_peak));
        return reply(conn, MHD_HTTP_OK, text);
    }
    if (strncmp(url, "/html/", 6) == 0)
        return target_html_route(conn, url);
    bool handled;
    enum MHD_Result api = target_api_route(conn, url, method, req->body.data ? req->body.data : "",
                                           req->body.len, &handled);
    if (handled)
        return api;
    if (strcmp(url, "/count") == 0) {
        snprintf(text, sizeof(text), "%llu\n", (unsigned long long)atomic_load(&request_count));
        return reply(conn, MHD_HTTP_OK, text);
    }
    return reply(conn, MHD_HTTP_NOT_FOUND, "not found\n");
}

/* Refusing on the declared length spares reading a huge body just to reject it. */
static bool declared_too_large(struct MHD_Connection *conn)
{
    const char *cl =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    long n;
    return cl != NULL && !parse_long(cl, 0, (long)ECHO_BODY_MAX, &n);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **req_cls)
{
    struct request *req = *req_cls;
    (void)cls;
    (void)version;

    if (req == NULL) {
        req = calloc(1, sizeof(*req));
        if (req == NULL)
            return MHD_NO;
        *req_cls = req;
        atomic_fetch_add(&request_count, 1);
        req->is_echo = strcmp(url, "/echo") == 0 || target_api_keeps_body(url);
        if (req->is_echo && declared_too_large(conn))
            return reply(conn, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large\n");
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (req->is_echo && !req->too_large) {
            if (req->body.len + *upload_data_size > ECHO_BODY_MAX) {
                req->too_large = true;
                free(req->body.data);
                req->body = (struct buf){0};
            } else {
                buf_append(&req->body, upload_data, *upload_data_size);
                if (req->body.failed)
                    return MHD_NO;
            }
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (req->too_large)
        return reply(conn, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large\n");
    return route(conn, url, method, req);
}

static void request_done(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct request *req = *req_cls;
    (void)cls;
    (void)conn;
    (void)toe;
    if (req != NULL) {
        free(req->body.data);
        free(req);
        *req_cls = NULL;
    }
}

static bool parse_listen(const char *spec, struct sockaddr_storage *ss, bool *v6)
{
    char host[INET6_ADDRSTRLEN];
    const char *port, *host_end;
    long p;

    memset(ss, 0, sizeof(*ss));
    *v6 = spec[0] == '[';
    if (*v6) {
        host_end = strchr(spec, ']');
        if (host_end == NULL || host_end[1] != ':')
            return false;
        spec++;
        port = host_end + 2;
    } else {
        host_end = strrchr(spec, ':');
        if (host_end == NULL)
            return false;
        port = host_end + 1;
    }
    size_t n = (size_t)(host_end - spec);
    if (n == 0 || n >= sizeof(host) || !parse_long(port, 0, 65535, &p))
        return false;
    memcpy(host, spec, n);
    host[n] = '\0';
    if (*v6) {
        struct sockaddr_in6 *sa = (struct sockaddr_in6 *)ss;
        sa->sin6_family = AF_INET6;
        sa->sin6_port = htons((uint16_t)p);
        return inet_pton(AF_INET6, host, &sa->sin6_addr) == 1;
    }
    struct sockaddr_in *sa = (struct sockaddr_in *)ss;
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)p);
    return inet_pton(AF_INET, host, &sa->sin_addr) == 1;
}

/* MHD wants the PEM as a NUL-terminated string that outlives the daemon. */
static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *data = NULL;
    long size;
    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && size <= PEM_FILE_MAX &&
        fseek(f, 0, SEEK_SET) == 0 && (data = malloc((size_t)size + 1)) != NULL) {
        if (fread(data, 1, (size_t)size, f) == (size_t)size) {
            data[size] = '\0';
        } else {
            free(data);
            data = NULL;
        }
    }
    fclose(f);
    return data;
}

static int usage(void)
{
    fprintf(stderr, "usage: target [--listen ADDR:PORT] [--tls-cert FILE --tls-key FILE] "
                    "[--seed N]\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *listen_spec = "127.0.0.1:0", *cert_path = NULL, *key_path = NULL;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    uint64_t seed = (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec;

    for (int i = 1; i < argc; i += 2) {
        if (i + 1 >= argc)
            return usage();
        const char *val = argv[i + 1];
        if (strcmp(argv[i], "--listen") == 0) {
            listen_spec = val;
        } else if (strcmp(argv[i], "--tls-cert") == 0) {
            cert_path = val;
        } else if (strcmp(argv[i], "--tls-key") == 0) {
            key_path = val;
        } else if (strcmp(argv[i], "--seed") == 0) {
            char *end;
            errno = 0;
            seed = strtoull(val, &end, 10);
            if (errno != 0 || end == val || *end != '\0' || val[0] == '-')
                return usage();
        } else {
            return usage();
        }
    }
    if ((cert_path == NULL) != (key_path == NULL))
        return usage();

    struct sockaddr_storage addr;
    bool v6;
    if (!parse_listen(listen_spec, &addr, &v6)) {
        fprintf(stderr, "target: bad --listen address: %s\n", listen_spec);
        return 2;
    }

    unsigned int flags =
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    /* poll() rather than select() so a connection fd above FD_SETSIZE is not refused. */
    flags |= MHD_USE_POLL;
    if (v6)
        flags |= MHD_USE_IPv6;

    char *cert = NULL, *key = NULL;
    struct MHD_OptionItem tls_opts[] = {
        {MHD_OPTION_END, 0, NULL}, {MHD_OPTION_END, 0, NULL}, {MHD_OPTION_END, 0, NULL}};
    if (cert_path != NULL) {
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
            fprintf(stderr, "target: libmicrohttpd was built without TLS\n");
            return 1;
        }
        cert = read_file(cert_path);
        key = read_file(key_path);
        if (cert == NULL || key == NULL) {
            fprintf(stderr, "target: cannot read %s\n", cert == NULL ? cert_path : key_path);
            free(cert);
            free(key);
            return 1;
        }
        flags |= MHD_USE_TLS;
        tls_opts[0] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, cert};
        tls_opts[1] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, key};
    }

    /* Block before MHD spawns threads so they inherit the mask and only sigwait sees these. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    /* Shells start background jobs with SIGINT ignored, and an ignored signal is discarded
     * instead of staying pending for sigwait; resetting after blocking cannot kill us. */
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGPIPE, SIG_IGN);

    pthread_condattr_t cattr;
    pthread_condattr_init(&cattr);
    pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC);
    pthread_cond_init(&stop_cv, &cattr);
    pthread_condattr_destroy(&cattr);
    rng_seed(seed);

    struct MHD_Daemon *d =
        MHD_start_daemon(flags, 0, NULL, NULL, handle, NULL, MHD_OPTION_SOCK_ADDR,
                         (struct sockaddr *)&addr, MHD_OPTION_NOTIFY_COMPLETED, request_done, NULL,
                         MHD_OPTION_ARRAY, tls_opts, MHD_OPTION_END);
    const union MHD_DaemonInfo *info = d ? MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT) : NULL;
    if (info == NULL) {
        fprintf(stderr, "target: cannot listen on %s\n", listen_spec);
        if (d != NULL)
            MHD_stop_daemon(d);
        free(cert);
        free(key);
        return 1;
    }
    printf("listening on %u\n", (unsigned int)info->port);
    fflush(stdout);

    int sig;
    while (sigwait(&sigs, &sig) != 0)
        ;

    pthread_mutex_lock(&stop_mu);
    stopping = true;
    pthread_cond_broadcast(&stop_cv);
    pthread_mutex_unlock(&stop_mu);
    MHD_stop_daemon(d);
    free(cert);
    free(key);
    return 0;
}
