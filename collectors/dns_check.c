/*
 * dns_check.c - runs of the `dns` check type: one c-ares channel per run,
 * driven by the probe loop (the sockets c-ares opens are watched with
 * probe_watch_fd through ARES_OPT_SOCK_STATE_CB, its timeouts are loop
 * timers), asking exactly the configured resolver one question.
 *
 * The channel is told everything so the host's resolver setup cannot
 * change what is asked or of whom: the one server (ares_set_servers_ports),
 * one try, no search domains, no rotation, ndots 1. ARES_FLAG_NOCHECKRESP
 * keeps c-ares from trying another server on SERVFAIL or REFUSED: that
 * rcode is the reply the check judges. A truncated UDP reply is asked
 * again over TCP by c-ares, so the records judged are the whole answer.
 *
 * c-ares must not be torn down from inside its own callbacks, so the
 * query's callback only keeps the reply and arms a timer at once; the run
 * ends (channel destroyed, result reported) from that timer, from the
 * check's deadline timer, or from cancel.
 */
#include "dns_check.h"
#include "resolve.h"
#include "tls_config.h"

#include <ares.h>
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

/* Sockets c-ares keeps open for one server: its UDP socket and its TCP
 * connection, with room for one being replaced. */
#define DNS_MAX_SOCKS 4

struct dns_sock {
    int fd;
    struct probe_watch *w;
};

struct dns_run {
    struct probe_loop *loop;
    struct probe_job *job;
    const struct check_spec *c;
    const struct dns_spec *s;
    struct resolve_req *rr; /* the resolver's own name, while it resolves */
    ares_channel ch;
    bool ch_live;
    struct dns_sock socks[DNS_MAX_SOCKS];
    bool sock_error; /* a socket could not be watched: the run fails */
    struct probe_timer *ares_timer, *deadline_timer, *end_timer;
    int64_t t0, t_sent, t_reply;
    double resolve_seconds;
    int family; /* AF_INET or AF_INET6 of the resolver's address, 0 if none */
    /* The outcome, once known. */
    bool have_status;
    int status; /* c-ares status of the query */
    /* The resolver's name did not resolve: reason, and why in words. */
    enum check_reason resolve_reason;
    char resolve_detail[CHECK_DETAIL_MAX];
    unsigned char *reply;
    size_t reply_len;
    bool ending; /* the run is being torn down: late c-ares calls are ignored */
};

static void run_free(struct dns_run *r)
{
    r->ending = true;
    resolve_cancel(r->loop, r->rr);
    r->rr = NULL;
    if (r->ares_timer)
        probe_timer_cancel(r->loop, r->ares_timer);
    if (r->deadline_timer)
        probe_timer_cancel(r->loop, r->deadline_timer);
    if (r->end_timer)
        probe_timer_cancel(r->loop, r->end_timer);
    /* Destroying the channel closes its sockets (sock_state_cb unwatches
     * them) and calls the query's callback with ARES_EDESTRUCTION. */
    if (r->ch_live)
        ares_destroy(r->ch);
    for (size_t i = 0; i < DNS_MAX_SOCKS; i++)
        if (r->socks[i].w)
            probe_unwatch(r->loop, r->socks[i].w);
    free(r->reply);
    free(r);
}

static double secs(int64_t ns)
{
    return (double)ns / 1e9;
}

/* ---- the end of a run ---- */

static enum check_reason classify_status(int status)
{
    switch (status) {
    case ARES_ETIMEOUT:
        return CHECK_REASON_TIMEOUT;
    case ARES_ECONNREFUSED:
        return CHECK_REASON_CONNECT;
    default:
        return CHECK_REASON_OTHER;
    }
}

/* Report what the run came to (reason timeout when nothing else is known:
 * the deadline ended it) and free it. */
static void run_end(struct dns_run *r)
{
    struct check_result res = {0};
    struct dns_tail tail = {.rcode = -1};
    struct detail d;
    detail_init(&d, res.detail, sizeof(res.detail));
    int64_t now = probe_now_ns(r->loop);
    res.type = &dns_check_type;
    res.tail = &tail;
    res.duration = secs(now - r->t0);
    res.phases[CHECK_PHASE_RESOLVE] = r->resolve_seconds;
    res.gauges[0] = NAN;
    res.gauges[1] = NAN;
    tail.ip_protocol = r->family == AF_INET6 ? 6 : r->family == AF_INET ? 4 : 0;
    if (r->reply) {
        struct dns_reply_info info;
        res.phases[CHECK_PHASE_PROCESSING] = secs(r->t_reply - r->t_sent);
        res.reason = dns_judge(&r->s->expect, r->reply, r->reply_len, &info, &d);
        if (res.reason != CHECK_REASON_OTHER) {
            /* A well-formed reply (or one whose rcode already failed):
             * what its header says is true. */
            tail.rcode = info.rcode;
            tail.answers = info.count[DNS_SEC_ANSWER];
            tail.authority = info.count[DNS_SEC_AUTHORITY];
            tail.additional = info.count[DNS_SEC_ADDITIONAL];
            res.gauges[0] = info.count[DNS_SEC_ANSWER];
            res.gauges[1] = info.rcode;
            if (dns_type_number(r->s->query_type) == 6) {
                tail.has_serial = true;
                tail.serial = info.has_soa ? info.serial : 0;
            }
        }
    } else if (r->resolve_reason != CHECK_REASON_NONE) {
        res.reason = r->resolve_reason;
        detail_add(&d, r->resolve_detail);
    } else if (r->sock_error) {
        res.reason = CHECK_REASON_OTHER;
        detail_add(&d, "could not set up the query or watch its sockets");
    } else if (r->have_status) {
        res.reason = classify_status(r->status);
        if (r->t_sent)
            res.phases[CHECK_PHASE_PROCESSING] = secs(now - r->t_sent);
        if (res.reason == CHECK_REASON_TIMEOUT)
            detail_addf(&d, "no reply within %lld ms", (long long)r->c->timeout_ms);
        else if (res.reason == CHECK_REASON_DNS)
            detail_addf(&d,
                        "the resolver's address is not of ip_protocol %s and "
                        "ip_protocol_fallback is false",
                        tls_ip_proto_names[r->s->ip_protocol]);
        else if (res.reason == CHECK_REASON_CONNECT)
            detail_add(&d, "connection refused (nothing listens on the resolver's port)");
        else
            detail_addf(&d, "query failed: %s", ares_strerror(r->status));
    } else {
        res.reason = CHECK_REASON_TIMEOUT;
        if (r->t_sent)
            res.phases[CHECK_PHASE_PROCESSING] = secs(now - r->t_sent);
        detail_addf(&d, "no reply within %lld ms", (long long)r->c->timeout_ms);
    }
    res.success = res.reason == CHECK_REASON_NONE;
    r->ending = true;
    struct probe_loop *loop = r->loop;
    struct probe_job *job = r->job;
    probe_done(loop, job, &res);
    run_free(r);
}

static void on_end_timer(struct probe_loop *loop, void *arg)
{
    (void)loop;
    struct dns_run *r = arg;
    r->end_timer = NULL;
    run_end(r);
}

static void on_deadline(struct probe_loop *loop, void *arg)
{
    (void)loop;
    struct dns_run *r = arg;
    r->deadline_timer = NULL;
    run_end(r);
}

/* End the run soon, from a timer (never inside a c-ares callback). */
static void end_soon(struct dns_run *r)
{
    if (r->end_timer || r->ending)
        return;
    r->end_timer = probe_timer_at(r->loop, probe_now_ns(r->loop), on_end_timer, r);
    /* Without a timer the deadline still ends the run. */
}

/* ---- c-ares on the loop ---- */

static void on_query(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
    (void)timeouts;
    struct dns_run *r = arg;
    if (r->ending || status == ARES_EDESTRUCTION)
        return;
    r->have_status = true;
    r->status = status;
    if (status == ARES_SUCCESS && abuf && alen > 0) {
        r->t_reply = probe_now_ns(r->loop);
        r->reply_len = (size_t)alen;
        r->reply = xmalloc(r->reply_len);
        memcpy(r->reply, abuf, r->reply_len);
    }
    end_soon(r);
}

static void arm_ares_timer(struct dns_run *r);

static void on_ares_timer(struct probe_loop *loop, void *arg)
{
    (void)loop;
    struct dns_run *r = arg;
    r->ares_timer = NULL;
    ares_process_fd(r->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    arm_ares_timer(r);
}

/* c-ares' next timeout as a loop timer (one at a time). */
static void arm_ares_timer(struct dns_run *r)
{
    if (r->ending)
        return;
    if (r->ares_timer) {
        probe_timer_cancel(r->loop, r->ares_timer);
        r->ares_timer = NULL;
    }
    struct timeval tv;
    if (!ares_timeout(r->ch, NULL, &tv))
        return;
    int64_t due = probe_now_ns(r->loop) + (int64_t)tv.tv_sec * 1000000000 + tv.tv_usec * 1000;
    r->ares_timer = probe_timer_at(r->loop, due, on_ares_timer, r);
}

static void on_sock(struct probe_loop *loop, int fd, uint32_t events, void *arg)
{
    (void)loop;
    struct dns_run *r = arg;
    bool rd = events & (EPOLLIN | EPOLLERR | EPOLLHUP), wr = events & EPOLLOUT;
    ares_process_fd(r->ch, rd ? fd : ARES_SOCKET_BAD, wr ? fd : ARES_SOCKET_BAD);
    arm_ares_timer(r);
}

static void on_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
    struct dns_run *r = data;
    struct dns_sock *slot = NULL, *free_slot = NULL;
    for (size_t i = 0; i < DNS_MAX_SOCKS; i++) {
        if (r->socks[i].w && r->socks[i].fd == fd)
            slot = &r->socks[i];
        else if (!r->socks[i].w && !free_slot)
            free_slot = &r->socks[i];
    }
    if (!readable && !writable) {
        if (slot) {
            probe_unwatch(r->loop, slot->w);
            slot->w = NULL;
        }
        return;
    }
    if (r->ending)
        return;
    uint32_t ev = (readable ? EPOLLIN : 0) | (writable ? EPOLLOUT : 0);
    if (slot) {
        if (probe_watch_events(r->loop, slot->w, ev) != OP_OK) {
            r->sock_error = true;
            end_soon(r);
        }
        return;
    }
    if (free_slot) {
        free_slot->w = probe_watch_fd(r->loop, fd, ev, on_sock, r);
        free_slot->fd = fd;
    }
    if (!free_slot || !free_slot->w) {
        r->sock_error = true;
        end_soon(r);
    }
}

/* A channel that asks addr:port and nothing else. */
static enum op_rc channel_new(struct dns_run *r, const unsigned char *addr)
{
    struct ares_options o = {0};
    int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_NDOTS |
               ARES_OPT_DOMAINS | ARES_OPT_SOCK_STATE_CB | ARES_OPT_LOOKUPS;
    o.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOCHECKRESP | ARES_FLAG_NOALIASES;
    if (r->s->transport == DNS_TCP)
        o.flags |= ARES_FLAG_USEVC;
    if (!r->s->recursion_desired)
        o.flags |= ARES_FLAG_NORECURSE;
    int64_t left = (probe_job_deadline_ns(r->job) - probe_now_ns(r->loop)) / 1000000;
    o.timeout = left > 0 ? (int)(left < 3600000 ? left : 3600000) : 1;
    o.tries = 1;
    o.ndots = 1;
    o.domains = NULL;
    o.ndomains = 0;
    o.lookups = (char *)"b";
    o.sock_state_cb = on_sock_state;
    o.sock_state_cb_data = r;
    if (ares_init_options(&r->ch, &o, mask) != ARES_SUCCESS)
        return OP_ERR_SYSTEM;
    r->ch_live = true;
    struct ares_addr_port_node srv = {0};
    srv.family = r->family;
    srv.udp_port = (int)r->s->port;
    srv.tcp_port = (int)r->s->port;
    if (r->family == AF_INET)
        memcpy(&srv.addr.addr4, addr, 4);
    else
        memcpy(&srv.addr.addr6, addr, 16);
    if (ares_set_servers_ports(r->ch, &srv) != ARES_SUCCESS)
        return OP_ERR_SYSTEM;
    return OP_OK;
}

/* The resolver's address is known: ask. */
static enum op_rc send_query(struct dns_run *r, const unsigned char *addr)
{
    enum op_rc rc = channel_new(r, addr);
    if (rc != OP_OK)
        return rc;
    r->t_sent = probe_now_ns(r->loop);
    ares_send(r->ch, r->s->query, r->s->query_len, on_query, r);
    arm_ares_timer(r);
    return OP_OK;
}

/* ---- the check type ---- */

/* The resolver's own address (an IP literal is its own answer, at once). */
static void on_resolved(struct probe_loop *loop, enum op_rc rc, const struct sockaddr *addr,
                        socklen_t len, double seconds, const char *detail, void *arg)
{
    (void)loop;
    (void)len;
    struct dns_run *r = arg;
    r->rr = NULL; /* freed by the resolver after this returns */
    r->resolve_seconds = seconds;
    if (rc == OP_OK && (addr->sa_family == AF_INET || addr->sa_family == AF_INET6)) {
        unsigned char a[16];
        r->family = addr->sa_family;
        if (r->family == AF_INET)
            memcpy(a, &((const struct sockaddr_in *)addr)->sin_addr, 4);
        else
            memcpy(a, &((const struct sockaddr_in6 *)addr)->sin6_addr, 16);
        if (send_query(r, a) != OP_OK) {
            r->sock_error = true;
            end_soon(r);
        }
        return;
    }
    struct detail d;
    detail_init(&d, r->resolve_detail, sizeof(r->resolve_detail));
    detail_add(&d, "resolve ");
    detail_add(&d, r->s->server);
    detail_add(&d, ": ");
    detail_add(&d, detail ? detail : "no address");
    /* The run's deadline reached inside the lookup is the run's timeout. */
    bool late = rc == OP_ERR_LIMIT && probe_now_ns(r->loop) >= probe_job_deadline_ns(r->job);
    r->resolve_reason = late ? CHECK_REASON_TIMEOUT : CHECK_REASON_DNS;
    end_soon(r);
}

static enum op_rc dns_start(struct probe_loop *loop, const struct check_spec *c,
                            struct probe_job *job, void **run)
{
    const struct dns_spec *s = dns_spec_of(c);
    struct dns_run *r = xcalloc(1, sizeof(*r));
    r->loop = loop;
    r->job = job;
    r->c = c;
    r->s = s;
    r->t0 = probe_now_ns(loop);
    r->resolve_reason = CHECK_REASON_NONE;
    enum op_rc rc = OP_ERR_SYSTEM;
    r->deadline_timer = probe_timer_at(loop, probe_job_deadline_ns(job), on_deadline, r);
    if (!r->deadline_timer)
        goto fail;
    if (resolve_start(loop, s->server, (enum ip_proto)s->ip_protocol, s->ip_protocol_fallback,
                      probe_job_deadline_ns(job), on_resolved, r, &r->rr) != OP_OK) {
        r->rr = NULL;
        goto fail;
    }
    *run = r;
    return OP_OK;
fail:
    run_free(r);
    return rc;
}

static void dns_cancel(struct probe_loop *loop, void *run)
{
    (void)loop;
    run_free(run);
}

/* Everything a dns run may report. */
static const enum check_reason dns_reasons[] = {
    CHECK_REASON_TIMEOUT,   CHECK_REASON_DNS,        CHECK_REASON_CONNECT,
    CHECK_REASON_DNS_RCODE, CHECK_REASON_DNS_ANSWER, CHECK_REASON_OTHER,
};

static const struct check_gauge dns_gauges[] = {
    {"outpost_check_dns_answers", "Answer records in the last DNS reply.", NULL, NULL},
    {"outpost_check_dns_rcode", "Response code (rcode) of the last DNS reply.", NULL, NULL},
};

/* c-ares' process-wide set-up, shared (and counted) with the resolver. */
static enum op_rc dns_global_init(void)
{
    return resolve_global_init();
}

static void dns_global_fini(void)
{
    resolve_global_fini();
}

const struct check_type dns_check_type = {
    .schema = &dns_schema,
    .reasons = dns_reasons,
    .n_reasons = ARRAY_SIZE(dns_reasons),
    .status_name = NULL,
    .gauges = dns_gauges,
    .n_gauges = ARRAY_SIZE(dns_gauges),
    .global_init = dns_global_init,
    .global_fini = dns_global_fini,
    .start = dns_start,
    .cancel = dns_cancel,
};
