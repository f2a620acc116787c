/*
 * resolve.c - host names to one address on the probe loop (resolve.h).
 *
 * Why c-ares: getaddrinfo(3) blocks, and the probe thread must never
 * block; getaddrinfo_a(3) would hide a thread per lookup. c-ares hands its
 * sockets and its next timeout to the caller (ARES_OPT_SOCK_STATE_CB,
 * ares_timeout, ares_process_fd), which is exactly what the loop's
 * descriptor and timer services take, as libcurl's multi socket API does.
 *
 * One c-ares channel per request. A channel shared by the loop's requests
 * would need a home on the loop (which knows nothing of check types), one
 * socket-state callback dispatching to many requests, and a cancel that
 * can end one query without ending the others (ares_cancel ends them all).
 * A channel of its own makes cancel ares_destroy, lets each request read
 * resolv.conf as it is now (as glibc does when it changes), and costs one
 * read of resolv.conf per lookup (tens of microseconds against the
 * milliseconds of a query). /etc/hosts is read per lookup by c-ares in
 * either case.
 *
 * c-ares may answer from inside ares_getaddrinfo (/etc/hosts, localhost)
 * and answers from inside ares_process_fd. Neither is a place to call the
 * owner's callback (it may free things the caller still uses, and a
 * channel must not be destroyed from its own callback), so the c-ares
 * callback only records the answer; the request moves on after c-ares
 * returns, from the loop's descriptor or timer callback.
 */
#include "resolve.h"

#include <ares.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>

/* c-ares keeps one UDP socket per server and a TCP one when a reply is
 * truncated: a few per request. */
#define RESOLVE_MAX_SOCKS 16

struct resolve_sock {
    ares_socket_t fd;
    struct probe_watch *w;
};

struct resolve_req {
    struct probe_loop *loop;
    ares_channel ch;
    bool have_ch;
    char host[RESOLVE_MAX_HOST + 1];
    enum ip_proto proto;
    bool fallback;
    int64_t started_ns, deadline_ns;
    resolve_cb cb;
    void *arg;
    /* The query in flight: its family, and whether it is the second one
     * (the other family, asked after the preferred had no address). */
    int family;
    bool second;
    /* The first query's outcome, kept while the second one runs. */
    int first_status;
    /* What c-ares reported for the query in flight (set by its callback). */
    bool answered;
    int status;
    struct sockaddr_storage addr;
    socklen_t addr_len;
    struct probe_timer *ares_timer; /* c-ares' next timeout */
    struct probe_timer *kick;       /* a zero-delay step (an answer ready at once) */
    struct probe_timer *deadline;
    struct resolve_sock socks[RESOLVE_MAX_SOCKS];
    size_t n_socks;
    bool sock_overflow; /* c-ares opened more sockets than we can watch */
    bool literal;       /* answered without a query */
    enum op_rc lit_rc;
    const char *lit_detail;
    char lit_buf[64 + RESOLVE_MAX_HOST];
};

static char *g_test_servers; /* OUTPOST_TESTING only; see resolve_test_servers */

/* ---- targets ---- */

/* A name of DNS's letters, digits, '-', '_' and dots, whose labels are not
 * empty and do not start with '-' (a trailing dot, the root, is allowed):
 * anything else cannot resolve and can only be a typo. */
static bool host_name_ok(const char *h, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = h[i];
        bool label_start = i == 0 || h[i - 1] == '.';
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')
            continue;
        if ((c == '-' || c == '.') && !label_start)
            continue;
        return false;
    }
    return true;
}

bool resolve_split_target(const char *s, int default_port, char **host, int *port, const char **why)
{
    const char *h = s, *hend, *ps = NULL; /* the host is [h, hend); ps the port's text */
    *host = NULL;
    if (s[0] == '[') {
        if (default_port < 0) {
            *why = "must be a host alone: no port, no brackets";
            return false;
        }
        h = s + 1;
        hend = strchr(h, ']');
        if (!hend) {
            *why = "has \"[\" without \"]\"";
            return false;
        }
        if (hend[1] == ':') {
            ps = hend + 2;
        } else if (hend[1]) {
            *why = "has text after \"]\" that is not \":port\"";
            return false;
        } else if (default_port == 0) {
            *why = "must be [IPv6]:port";
            return false;
        }
    } else {
        const char *colon = strchr(s, ':');
        hend = s + strlen(s);
        if (colon && strchr(colon + 1, ':')) {
            /* Two colons or more: a bare IPv6 address (checked below),
             * which no port can follow unambiguously. */
            if (default_port == 0) {
                *why = "an IPv6 address goes in brackets: [::1]:port";
                return false;
            }
        } else if (colon) {
            if (default_port < 0) {
                *why = "must be a host alone: no port, no brackets";
                return false;
            }
            hend = colon;
            ps = colon + 1;
        } else if (default_port == 0) {
            *why = "must be host:port";
            return false;
        }
    }
    size_t len = (size_t)(hend - h);
    if (len == 0) {
        *why = "has no host";
        return false;
    }
    uint64_t pv = default_port > 0 ? (uint64_t)default_port : 0;
    if (ps && (parse_u64(ps, strlen(ps), 65535, &pv) != OP_OK || pv == 0)) {
        *why = "port must be a number from 1 to 65535";
        return false;
    }
    /* Longer than any name is longer than any address too. */
    _Static_assert(RESOLVE_MAX_HOST == 255, "the reason below says 255");
    if (len > RESOLVE_MAX_HOST) {
        *why = "the host name is longer than 255 bytes";
        return false;
    }
    char text[RESOLVE_MAX_HOST + 1];
    memcpy(text, h, len);
    text[len] = '\0';
    unsigned char a[sizeof(struct in6_addr)];
    bool v6 = inet_pton(AF_INET6, text, a) == 1;
    if (s[0] == '[' && !v6) {
        *why = "brackets hold an IPv6 address";
        return false;
    }
    if (!v6 && inet_pton(AF_INET, text, a) != 1 && !host_name_ok(text, len)) {
        *why = "the host is neither an IP address nor a host name";
        return false;
    }
    *host = xstrndup(text, len);
    if (port)
        *port = (int)pv;
    return true;
}

enum op_rc resolve_global_init(void)
{
    return ares_library_init(ARES_LIB_INIT_ALL) == ARES_SUCCESS ? OP_OK : OP_ERR_SYSTEM;
}

void resolve_global_fini(void)
{
    ares_library_cleanup();
}

#ifdef OUTPOST_TESTING
void resolve_test_servers(const char *csv)
{
    free(g_test_servers);
    g_test_servers = csv ? xstrdup(csv) : NULL;
}
#endif

static const char *family_word(int family)
{
    return family == AF_INET ? "IPv4" : "IPv6";
}

/* ---- tearing down and answering ---- */

/* Release everything but r itself; cb is not called. The channel's
 * sockets are unwatched by sock_state_cb as ares_destroy closes them, and
 * its pending callback runs with ARES_EDESTRUCTION (ignored). */
static void teardown(struct resolve_req *r)
{
    probe_timer_cancel(r->loop, r->ares_timer);
    probe_timer_cancel(r->loop, r->kick);
    probe_timer_cancel(r->loop, r->deadline);
    r->ares_timer = r->kick = r->deadline = NULL;
    if (r->have_ch) {
        r->have_ch = false;
        ares_destroy(r->ch);
    }
    /* Sockets c-ares never reported closed (none expected). */
    for (size_t i = 0; i < r->n_socks; i++)
        probe_unwatch(r->loop, r->socks[i].w);
    r->n_socks = 0;
}

static void finish(struct resolve_req *r, enum op_rc rc, const char *detail)
{
    teardown(r);
    double secs = r->literal ? 0 : (double)(probe_now_ns(r->loop) - r->started_ns) / 1e9;
    if (secs < 0)
        secs = 0;
    r->cb(r->loop, rc, rc == OP_OK ? (const struct sockaddr *)&r->addr : NULL,
          rc == OP_OK ? r->addr_len : 0, secs, rc == OP_OK ? "" : detail, r->arg);
    free(r);
}

static void finish_status(struct resolve_req *r, int status)
{
    switch (status) {
    case ARES_ETIMEOUT:
        finish(r, OP_ERR_LIMIT, "timeout");
        return;
    case ARES_ENOTFOUND:
    case ARES_ENODATA:
        finish(r, OP_ERR_NOT_FOUND, "no such host");
        return;
    case ARES_EBADNAME:
        finish(r, OP_ERR_INVALID, "bad host name");
        return;
    case ARES_ESERVFAIL:
        finish(r, OP_ERR_IO, "server failure");
        return;
    case ARES_EREFUSED:
        finish(r, OP_ERR_IO, "query refused");
        return;
    case ARES_ECONNREFUSED:
        finish(r, OP_ERR_IO, "could not contact the DNS servers");
        return;
    case ARES_ENOMEM:
    case ARES_EDESTRUCTION:
        finish(r, OP_ERR_SYSTEM, "resolver failed");
        return;
    default:
        finish(r, OP_ERR_IO, "resolver error");
        return;
    }
}

/* ---- c-ares plumbing ---- */

static void ares_answer(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
    (void)timeouts;
    struct resolve_req *r = arg;
    if (status == ARES_EDESTRUCTION || !r->have_ch) {
        if (res)
            ares_freeaddrinfo(res);
        return;
    }
    r->answered = true;
    r->status = status;
    if (status == ARES_SUCCESS) {
        /* The first address of the family asked for (AF_UNSPEC: the first).
         * c-ares gives an IP literal back in its own family whatever was
         * asked, but literals never reach it. */
        const struct ares_addrinfo_node *pick = NULL;
        for (const struct ares_addrinfo_node *n = res ? res->nodes : NULL; n; n = n->ai_next) {
            if ((n->ai_family == AF_INET || n->ai_family == AF_INET6) &&
                (r->family == AF_UNSPEC || n->ai_family == r->family) &&
                (size_t)n->ai_addrlen <= sizeof(r->addr)) {
                pick = n;
                break;
            }
        }
        if (pick) {
            memset(&r->addr, 0, sizeof(r->addr));
            memcpy(&r->addr, pick->ai_addr, (size_t)pick->ai_addrlen);
            r->addr_len = (socklen_t)pick->ai_addrlen;
            if (pick->ai_family == AF_INET)
                ((struct sockaddr_in *)&r->addr)->sin_port = 0;
            else
                ((struct sockaddr_in6 *)&r->addr)->sin6_port = 0;
        } else {
            r->status = ARES_ENODATA;
        }
    }
    if (res)
        ares_freeaddrinfo(res);
}

static void sock_ready(struct probe_loop *loop, int fd, uint32_t events, void *arg);
static void step(struct resolve_req *r);

/* ARES_OPT_SOCK_STATE_CB: keep c-ares' sockets in the loop's epoll set. */
static void sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
    struct resolve_req *r = data;
    size_t i = 0;
    while (i < r->n_socks && r->socks[i].fd != fd)
        i++;
    uint32_t ev = (readable ? EPOLLIN : 0u) | (writable ? EPOLLOUT : 0u);
    if (!ev) {
        if (i < r->n_socks) {
            probe_unwatch(r->loop, r->socks[i].w);
            r->socks[i] = r->socks[--r->n_socks];
        }
        return;
    }
    if (i < r->n_socks) {
        if (probe_watch_events(r->loop, r->socks[i].w, ev) != OP_OK)
            r->sock_overflow = true;
        return;
    }
    struct probe_watch *w =
        r->n_socks < RESOLVE_MAX_SOCKS ? probe_watch_fd(r->loop, fd, ev, sock_ready, r) : NULL;
    if (!w) {
        /* Unwatched, the socket would never be read: fail the request at
         * the next step rather than wait for the deadline. */
        r->sock_overflow = true;
        return;
    }
    r->socks[r->n_socks++] = (struct resolve_sock){fd, w};
}

static void on_ares_timer(struct probe_loop *loop, void *arg)
{
    (void)loop;
    struct resolve_req *r = arg;
    r->ares_timer = NULL;
    ares_process_fd(r->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    step(r);
}

static void sock_ready(struct probe_loop *loop, int fd, uint32_t events, void *arg)
{
    (void)loop;
    struct resolve_req *r = arg;
    bool rd = events & (EPOLLIN | EPOLLERR | EPOLLHUP), wr = events & EPOLLOUT;
    ares_process_fd(r->ch, rd ? fd : ARES_SOCKET_BAD, wr ? fd : ARES_SOCKET_BAD);
    step(r);
}

static void on_kick(struct probe_loop *loop, void *arg)
{
    (void)loop;
    struct resolve_req *r = arg;
    r->kick = NULL;
    if (r->literal) {
        finish(r, r->lit_rc, r->lit_detail);
        return;
    }
    step(r);
}

static void on_deadline(struct probe_loop *loop, void *arg)
{
    (void)loop;
    struct resolve_req *r = arg;
    r->deadline = NULL;
    finish(r, OP_ERR_LIMIT, "timeout");
}

static void ask(struct resolve_req *r, int family)
{
    struct ares_addrinfo_hints hints;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = family;
    hints.ai_socktype = SOCK_STREAM;
    r->family = family;
    r->answered = false;
    ares_getaddrinfo(r->ch, r->host, NULL, &hints, ares_answer, r);
}

/* After c-ares ran (or could have answered at once): go on with what it
 * said, or wait for its next event. Never called from inside c-ares. */
static void step(struct resolve_req *r)
{
    if (r->sock_overflow) {
        finish(r, OP_ERR_SYSTEM, "resolver failed: cannot watch its socket");
        return;
    }
    if (r->answered) {
        if (r->status == ARES_SUCCESS) {
            if (r->second && !r->fallback) {
                /* The name has addresses, only not of the family wanted. */
                char d[64 + RESOLVE_MAX_HOST];
                snprintf(d, sizeof(d), "no %s address for %s",
                         family_word(r->family == AF_INET ? AF_INET6 : AF_INET), r->host);
                finish(r, OP_ERR_NOT_FOUND, d);
                return;
            }
            finish(r, OP_OK, "");
            return;
        }
        bool none = r->status == ARES_ENOTFOUND || r->status == ARES_ENODATA;
        if (none && r->proto != IP_PROTO_AUTO && !r->second) {
            /* The preferred family has nothing: the other one is the
             * answer with fallback, and without it tells "no such host"
             * from "no IPv6 address for ...". */
            r->second = true;
            r->first_status = r->status;
            ask(r, r->family == AF_INET ? AF_INET6 : AF_INET);
            if (!r->answered)
                goto wait;
            step(r);
            return;
        }
        finish_status(r, r->second && none ? r->first_status : r->status);
        return;
    }
wait:
    probe_timer_cancel(r->loop, r->ares_timer);
    r->ares_timer = NULL;
    struct timeval tv, *t = ares_timeout(r->ch, NULL, &tv);
    if (t) {
        int64_t due =
            probe_now_ns(r->loop) + (int64_t)t->tv_sec * 1000000000 + (int64_t)t->tv_usec * 1000;
        r->ares_timer = probe_timer_at(r->loop, due, on_ares_timer, r);
    }
}

/* ---- literals ---- */

/* host as an IP literal (brackets allowed around IPv6): true and the
 * address in r->addr, else false. */
static bool parse_literal(struct resolve_req *r)
{
    char buf[RESOLVE_MAX_HOST + 1];
    const char *h = r->host;
    size_t n = strlen(h);
    if (n >= 2 && h[0] == '[' && h[n - 1] == ']') {
        memcpy(buf, h + 1, n - 2);
        buf[n - 2] = '\0';
        h = buf;
    }
    struct sockaddr_in v4 = {.sin_family = AF_INET};
    struct sockaddr_in6 v6 = {.sin6_family = AF_INET6};
    memset(&r->addr, 0, sizeof(r->addr));
    if (h == r->host && inet_pton(AF_INET, h, &v4.sin_addr) == 1) {
        memcpy(&r->addr, &v4, sizeof(v4));
        r->addr_len = sizeof(v4);
        return true;
    }
    if (inet_pton(AF_INET6, h, &v6.sin6_addr) == 1) {
        memcpy(&r->addr, &v6, sizeof(v6));
        r->addr_len = sizeof(v6);
        return true;
    }
    return false;
}

/*
 * "localhost" is the loopback address without a query (RFC 6761 6.3:
 * such names never go to a DNS server). c-ares does the same when the
 * hosts file has no line for the family asked, but 1.18 leaks the name on
 * that path (10 bytes a lookup of a check probing localhost over IPv6):
 * answering here avoids it. auto gives 127.0.0.1, as glibc does for
 * Debian's hosts file.
 */
static bool parse_localhost(struct resolve_req *r)
{
    if (strcasecmp(r->host, "localhost") != 0 && strcasecmp(r->host, "localhost.") != 0)
        return false;
    memset(&r->addr, 0, sizeof(r->addr));
    if (r->proto == IP_PROTO_6) {
        struct sockaddr_in6 v6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
        memcpy(&r->addr, &v6, sizeof(v6));
        r->addr_len = sizeof(v6);
    } else {
        struct sockaddr_in v4 = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        memcpy(&r->addr, &v4, sizeof(v4));
        r->addr_len = sizeof(v4);
    }
    return true;
}

static void literal_outcome(struct resolve_req *r)
{
    int fam = r->addr.ss_family;
    int want = r->proto == IP_PROTO_4 ? AF_INET : r->proto == IP_PROTO_6 ? AF_INET6 : fam;
    r->lit_rc = OP_OK;
    r->lit_detail = "";
    if (fam != want && !r->fallback) {
        r->lit_rc = OP_ERR_NOT_FOUND;
        snprintf(r->lit_buf, sizeof(r->lit_buf), "no %s address for %s", family_word(want),
                 r->host);
        r->lit_detail = r->lit_buf;
    }
}

/* ---- the API ---- */

enum op_rc resolve_start(struct probe_loop *loop, const char *host, enum ip_proto proto,
                         bool fallback, int64_t deadline_ns, resolve_cb cb, void *arg,
                         struct resolve_req **out)
{
    struct resolve_req *r = xcalloc(1, sizeof(*r));
    r->loop = loop;
    r->proto = proto;
    r->fallback = fallback;
    r->cb = cb;
    r->arg = arg;
    r->started_ns = probe_now_ns(loop);
    r->deadline_ns = deadline_ns;
    size_t n = strlen(host);
    if (n == 0 || n > RESOLVE_MAX_HOST) {
        r->literal = true;
        r->lit_rc = OP_ERR_INVALID;
        r->lit_detail = "bad host name";
    } else {
        memcpy(r->host, host, n + 1);
        if (parse_literal(r) || parse_localhost(r)) {
            r->literal = true;
            literal_outcome(r);
        }
    }
    if (r->literal) {
        /* Answered already, but the answer goes through the loop: cb never
         * runs inside resolve_start. */
        r->kick = probe_timer_at(loop, probe_now_ns(loop), on_kick, r);
        if (!r->kick) {
            free(r);
            return OP_ERR_SYSTEM;
        }
        *out = r;
        return OP_OK;
    }

    struct ares_options o;
    memset(&o, 0, sizeof(o));
    o.sock_state_cb = sock_state;
    o.sock_state_cb_data = r;
    r->deadline = probe_timer_at(loop, deadline_ns, on_deadline, r);
    r->kick = probe_timer_at(loop, probe_now_ns(loop), on_kick, r);
    if (!r->deadline || !r->kick) {
        teardown(r);
        free(r);
        return OP_ERR_SYSTEM;
    }
    if (ares_init_options(&r->ch, &o, ARES_OPT_SOCK_STATE_CB) != ARES_SUCCESS) {
        /* Reported like any failure, from the kick. */
        r->literal = true;
        r->lit_rc = OP_ERR_SYSTEM;
        r->lit_detail = "resolver failed: cannot set up c-ares";
        *out = r;
        return OP_OK;
    }
    r->have_ch = true;
    if (g_test_servers && ares_set_servers_ports_csv(r->ch, g_test_servers) != ARES_SUCCESS)
        r->sock_overflow = true;
    int family = proto == IP_PROTO_4 ? AF_INET : proto == IP_PROTO_6 ? AF_INET6 : AF_UNSPEC;
    ask(r, family);
    /* The kick moves the request on: an answer that came at once is
     * delivered, otherwise c-ares' timer is armed. */
    *out = r;
    return OP_OK;
}

void resolve_cancel(struct probe_loop *loop, struct resolve_req *r)
{
    (void)loop;
    if (!r)
        return;
    teardown(r);
    free(r);
}
