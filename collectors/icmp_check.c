/*
 * icmp_check.c - runs of the `icmp` check type on the probe loop.
 *
 * A run owns one ICMP socket: a datagram ("ping") socket where the kernel
 * lets this process' group have one (net.ipv4.ping_group_range, for both
 * families), a raw socket (CAP_NET_RAW) otherwise; which one is decided
 * once per family at start and logged. The socket is watched by the loop,
 * requests go out on timer ticks every packet_interval, and the run ends
 * when every request is answered, an ICMP error names one of them, or the
 * check's deadline comes; nothing blocks.
 *
 * Datagram sockets get their echo id from the kernel, which hands them
 * only replies with that id and turns ICMP errors into the socket's error
 * queue (IP_RECVERR). Raw sockets see every ICMP packet of the host: the
 * run picks a random id and keeps only what quotes it (icmp_parse).
 */
#include "detail.h"
#include "icmp_check.h"
#include "log.h"
#include "resolve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <linux/icmp.h>
#include <math.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---- which socket each family uses ---- */

enum sock_kind { SOCK_KIND_NONE, SOCK_KIND_DGRAM, SOCK_KIND_RAW };

static enum sock_kind sock_kind4, sock_kind6;
static int sock_errno4, sock_errno6; /* why NONE: the raw socket's error */

static const char *kind_name(enum sock_kind k)
{
    return k == SOCK_KIND_DGRAM ? "datagram" : k == SOCK_KIND_RAW ? "raw" : "none";
}

/* Try a datagram socket, then a raw one; the first that opens is the
 * family's kind for the process' life (the sysctl and the capabilities
 * are the process' circumstances, not a run's). */
static enum sock_kind probe_kind(int family, int *err)
{
    int proto = family == AF_INET6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
    int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, proto);
    if (fd >= 0) {
        close(fd);
        return SOCK_KIND_DGRAM;
    }
    fd = socket(family, SOCK_RAW | SOCK_CLOEXEC, proto);
    if (fd >= 0) {
        close(fd);
        return SOCK_KIND_RAW;
    }
    *err = errno;
    return SOCK_KIND_NONE;
}

static const char *kind_why(enum sock_kind k)
{
    switch (k) {
    case SOCK_KIND_DGRAM:
        return "net.ipv4.ping_group_range covers the process' group";
    case SOCK_KIND_RAW:
        return "datagram socket refused (group outside net.ipv4.ping_group_range), CAP_NET_RAW "
               "present";
    default:
        return "datagram socket refused and no CAP_NET_RAW: icmp checks fail";
    }
}

static enum op_rc icmp_global_init(void)
{
    enum op_rc rc = resolve_global_init();
    if (rc != OP_OK)
        return rc;
    sock_kind4 = probe_kind(AF_INET, &sock_errno4);
    sock_kind6 = probe_kind(AF_INET6, &sock_errno6);
    log_info("icmp sockets", "ipv4", kind_name(sock_kind4), "ipv4_why", kind_why(sock_kind4),
             "ipv6", kind_name(sock_kind6), "ipv6_why", kind_why(sock_kind6));
    return OP_OK;
}

static void icmp_global_fini(void)
{
    resolve_global_fini();
}

/* ---- one run ---- */

struct icmp_run {
    struct probe_loop *loop;
    struct probe_job *job;
    const struct check_spec *c;
    const struct icmp_spec *s;
    int family;
    bool raw;
    struct sockaddr_storage addr;
    socklen_t addr_len;
    int fd;
    struct probe_watch *watch;
    struct resolve_req *resolve;
    struct probe_timer *send_timer, *deadline_timer;
    uint16_t id;
    uint8_t cookie[ICMP_COOKIE_BYTES];
    unsigned sent, received;
    int64_t start_ns, setup_start_ns, first_send_ns;
    double resolve_s, setup_s, first_rtt;
    int hop_limit;
    int64_t send_ns[ICMP_MAX_PACKETS];
    bool answered[ICMP_MAX_PACKETS];
    double rtt[ICMP_MAX_PACKETS]; /* in the order replies came */
    uint8_t *tx, *rx;
    size_t tx_len, rx_cap;
};

static void run_free(struct icmp_run *r)
{
    if (r->watch)
        probe_unwatch(r->loop, r->watch);
    if (r->fd >= 0)
        close(r->fd);
    if (r->resolve)
        resolve_cancel(r->loop, r->resolve);
    if (r->send_timer)
        probe_timer_cancel(r->loop, r->send_timer);
    if (r->deadline_timer)
        probe_timer_cancel(r->loop, r->deadline_timer);
    free(r->tx);
    free(r->rx);
    free(r);
}

static double secs(int64_t ns)
{
    return (double)ns / 1e9;
}

/* Report the run's one result (reason NONE: judge the replies) and free
 * it. fmt: the detail of a failure decided by the caller, or NULL. */
static void finish(struct icmp_run *r, enum check_reason reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void finish(struct icmp_run *r, enum check_reason reason, const char *fmt, ...)
{
    int64_t now = probe_now_ns(r->loop);
    struct check_result res = {.type = &icmp_check_type};
    struct icmp_tail tail = {
        .ip_protocol = r->addr_len ? (r->family == AF_INET6 ? 6 : 4) : 0,
        .sent = r->sent,
        .received = r->received,
        .rtt = r->first_rtt,
        .setup = r->setup_s,
        .reply_hop_limit = r->hop_limit,
    };
    struct detail d;
    detail_init(&d, res.detail, sizeof(res.detail));
    unsigned packets = (unsigned)r->s->packets;
    if (reason == CHECK_REASON_NONE &&
        icmp_loss_fails(packets, r->received, r->s->max_loss_ratio)) {
        reason = CHECK_REASON_LOSS;
        detail_addf(&d, "%u of %u packets lost", packets - r->received, packets);
        if (r->s->max_loss_ratio >= 0)
            detail_addf(&d, ", more than max_loss_ratio %g", r->s->max_loss_ratio);
    } else if (fmt) {
        char text[CHECK_DETAIL_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(text, sizeof(text), fmt, ap);
        va_end(ap);
        detail_add(&d, text);
    }
    res.reason = reason;
    res.success = reason == CHECK_REASON_NONE;
    res.duration = secs(now - r->start_ns);
    res.phases[CHECK_PHASE_RESOLVE] = r->resolve_s;
    res.phases[CHECK_PHASE_CONNECT] = r->setup_s;
    if (r->first_send_ns)
        res.phases[CHECK_PHASE_PROCESSING] = secs(now - r->first_send_ns);
    res.tail = &tail;
    struct icmp_stats st;
    icmp_rtt_stats(r->rtt, r->received, &st);
    res.gauges[ICMP_GAUGE_RTT_MIN] = st.min;
    res.gauges[ICMP_GAUGE_RTT_AVG] = st.avg;
    res.gauges[ICMP_GAUGE_RTT_MAX] = st.max;
    res.gauges[ICMP_GAUGE_RTT_STDDEV] = st.stddev;
    /* Lost is only known once every request had its chance. */
    res.gauges[ICMP_GAUGE_LOST] = r->sent == packets ? (double)(packets - r->received) : NAN;
    struct probe_loop *loop = r->loop;
    struct probe_job *job = r->job;
    run_free(r);
    probe_done(loop, job, &res);
}

static void add_errno_text(char *out, size_t cap, const char *what, int err)
{
    char tmp[128];
    const char *s = strerror_r(err, tmp, sizeof(tmp)); /* GNU: may not use tmp */
    snprintf(out, cap, "%s: %s", what, s);
}

/* A reply to request seq came at now. */
static void on_reply(struct icmp_run *r, uint16_t seq, int64_t now, int hop_limit)
{
    if (seq >= r->sent || r->answered[seq])
        return; /* a duplicate, or not a request of this run */
    r->answered[seq] = true;
    double rtt = secs(now - r->send_ns[seq]);
    if (r->received == 0) {
        r->first_rtt = rtt;
        r->hop_limit = hop_limit;
    }
    r->rtt[r->received++] = rtt;
}

/* The source of a reply is the target: a raw socket's foreign echo
 * replies that happen to match stay foreign. */
static bool from_target(const struct icmp_run *r, const struct sockaddr_storage *from)
{
    if (r->family == AF_INET6)
        return memcmp(&((const struct sockaddr_in6 *)from)->sin6_addr,
                      &((const struct sockaddr_in6 *)&r->addr)->sin6_addr,
                      sizeof(struct in6_addr)) == 0;
    return ((const struct sockaddr_in *)from)->sin_addr.s_addr ==
           ((const struct sockaddr_in *)&r->addr)->sin_addr.s_addr;
}

/* The hop limit a control message carries (IP_RECVTTL, IPV6_RECVHOPLIMIT). */
static int cmsg_hop_limit(struct msghdr *m)
{
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(m); cm; cm = CMSG_NXTHDR(m, cm)) {
        int v;
        if ((cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_TTL) ||
            (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_HOPLIMIT)) {
            memcpy(&v, CMSG_DATA(cm), sizeof(v));
            return v;
        }
    }
    return -1;
}

/* An ICMP error the kernel queued for a datagram socket (IP_RECVERR):
 * true when the run ended on it. */
static bool read_error_queue(struct icmp_run *r)
{
    union {
        struct cmsghdr align;
        char buf[512];
    } ctl;
    struct sockaddr_storage from;
    struct iovec iov = {.iov_base = r->rx, .iov_len = r->rx_cap};
    struct msghdr m = {.msg_name = &from,
                       .msg_namelen = sizeof(from),
                       .msg_iov = &iov,
                       .msg_iovlen = 1,
                       .msg_control = ctl.buf,
                       .msg_controllen = sizeof(ctl.buf)};
    if (recvmsg(r->fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
        return false;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm)) {
        if (!((cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_RECVERR) ||
              (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_RECVERR)))
            continue;
        struct sock_extended_err ee;
        memcpy(&ee, CMSG_DATA(cm), sizeof(ee));
        if (ee.ee_origin != SO_EE_ORIGIN_ICMP && ee.ee_origin != SO_EE_ORIGIN_ICMP6)
            continue;
        /* The address of the router that answered follows the error. */
        const struct sockaddr *off =
            SO_EE_OFFENDER((const struct sock_extended_err *)CMSG_DATA(cm));
        char from_txt[INET6_ADDRSTRLEN] = "?";
        if (off->sa_family == AF_INET)
            (void)inet_ntop(AF_INET, &((const struct sockaddr_in *)off)->sin_addr, from_txt,
                            sizeof(from_txt));
        else if (off->sa_family == AF_INET6)
            (void)inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)off)->sin6_addr, from_txt,
                            sizeof(from_txt));
        finish(r, CHECK_REASON_CONNECT, "%s (reported by %s)",
               icmp_error_text(r->family, ee.ee_type, ee.ee_code), from_txt);
        return true;
    }
    return false;
}

static void on_readable(struct probe_loop *loop, int fd, uint32_t events, void *arg)
{
    (void)loop;
    struct icmp_run *r = arg;
    if ((events & EPOLLERR) && read_error_queue(r))
        return;
    for (;;) {
        union {
            struct cmsghdr align;
            char buf[128];
        } ctl;
        struct sockaddr_storage from;
        struct iovec iov = {.iov_base = r->rx, .iov_len = r->rx_cap};
        struct msghdr m = {.msg_name = &from,
                           .msg_namelen = sizeof(from),
                           .msg_iov = &iov,
                           .msg_iovlen = 1,
                           .msg_control = ctl.buf,
                           .msg_controllen = sizeof(ctl.buf)};
        ssize_t n = recvmsg(fd, &m, MSG_DONTWAIT);
        if (n < 0) {
            /* An error pending on the socket (a datagram socket's ICMP
             * error) fails the read: it is in the error queue. */
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                return;
            if (read_error_queue(r))
                return;
            return;
        }
        int64_t now = probe_now_ns(r->loop);
        if (m.msg_flags & MSG_TRUNC)
            continue; /* longer than any packet of ours */
        struct icmp_parsed pk;
        icmp_parse(r->rx, (size_t)n, r->family, r->raw && r->family == AF_INET, r->id, r->cookie,
                   (size_t)r->s->payload_size, &pk);
        if (pk.kind == ICMP_REPLY && from_target(r, &from)) {
            int hl = cmsg_hop_limit(&m);
            on_reply(r, pk.seq, now, hl >= 0 ? hl : pk.ttl);
            if (r->received == (unsigned)r->s->packets) {
                finish(r, CHECK_REASON_NONE, NULL);
                return;
            }
        } else if (pk.kind == ICMP_ERROR && pk.seq < r->sent) {
            char from_txt[INET6_ADDRSTRLEN] = "?";
            const void *a = r->family == AF_INET6
                                ? (const void *)&((struct sockaddr_in6 *)&from)->sin6_addr
                                : (const void *)&((struct sockaddr_in *)&from)->sin_addr;
            (void)inet_ntop(r->family, a, from_txt, sizeof(from_txt));
            finish(r, CHECK_REASON_CONNECT, "%s (reported by %s)",
                   icmp_error_text(r->family, pk.type, pk.code), from_txt);
            return;
        }
    }
}

static void on_send(struct probe_loop *loop, void *arg);

/* Send request number r->sent, then arm the next tick. */
static void send_next(struct icmp_run *r)
{
    uint16_t seq = (uint16_t)r->sent;
    icmp_build_echo(r->tx, (size_t)r->s->payload_size, r->family, r->id, seq, r->cookie,
                    r->raw && r->family == AF_INET);
    int64_t now = probe_now_ns(r->loop);
    if (!r->first_send_ns)
        r->first_send_ns = now;
    r->send_ns[seq] = now;
    ssize_t n =
        sendto(r->fd, r->tx, r->tx_len, MSG_DONTWAIT, (struct sockaddr *)&r->addr, r->addr_len);
    /* A full socket buffer loses this one request, as a congested link
     * would; any other refusal is the path's (no route, prohibited). */
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS) {
        char text[CHECK_DETAIL_MAX];
        add_errno_text(text, sizeof(text), "cannot send", errno);
        finish(r, CHECK_REASON_CONNECT, "%s", text);
        return;
    }
    r->sent++;
    if (r->sent < (unsigned)r->s->packets) {
        int64_t due = r->first_send_ns + (int64_t)r->sent * r->s->packet_interval_ms * 1000000;
        r->send_timer = probe_timer_at(r->loop, due, on_send, r);
    }
}

static void on_send(struct probe_loop *loop, void *arg)
{
    (void)loop;
    struct icmp_run *r = arg;
    r->send_timer = NULL;
    send_next(r);
}

static void on_deadline(struct probe_loop *loop, void *arg)
{
    (void)loop;
    struct icmp_run *r = arg;
    r->deadline_timer = NULL;
    if (!r->addr_len) {
        finish(r, CHECK_REASON_TIMEOUT, "no address for the target before the timeout");
        return;
    }
    if (r->sent < (unsigned)r->s->packets) {
        finish(r, CHECK_REASON_TIMEOUT, "timeout after %u of %lld packets were sent", r->sent,
               (long long)r->s->packets);
        return;
    }
    finish(r, CHECK_REASON_NONE, NULL);
}

static bool set_int(int fd, int level, int name, int v)
{
    return setsockopt(fd, level, name, &v, sizeof(v)) == 0;
}

/* The socket with the check's options; false (errno set) when the kernel
 * refused one. */
static bool open_socket(struct icmp_run *r)
{
    bool v6 = r->family == AF_INET6;
    int proto = v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
    r->fd =
        socket(r->family, (r->raw ? SOCK_RAW : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
    if (r->fd < 0)
        return false;
    int fd = r->fd;
    if (r->s->ttl && !set_int(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_UNICAST_HOPS : IP_TTL,
                              (int)r->s->ttl))
        return false;
    if (r->s->dont_fragment && !(v6 ? set_int(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_DO)
                                    : set_int(fd, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO)))
        return false;
    if (!(v6 ? set_int(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1)
             : set_int(fd, IPPROTO_IP, IP_RECVTTL, 1)))
        return false;
    if (r->raw) {
        /* Only the messages a run can use reach the socket's queue. */
        if (v6) {
            struct icmp6_filter f;
            ICMP6_FILTER_SETBLOCKALL(&f);
            ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f);
            ICMP6_FILTER_SETPASS(ICMP6_DST_UNREACH, &f);
            ICMP6_FILTER_SETPASS(ICMP6_PACKET_TOO_BIG, &f);
            ICMP6_FILTER_SETPASS(ICMP6_TIME_EXCEEDED, &f);
            if (setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof(f)) != 0)
                return false;
        } else {
            struct icmp_filter f = {.data = ~((1u << ICMP_ECHOREPLY) | (1u << ICMP_DEST_UNREACH) |
                                              (1u << ICMP_TIME_EXCEEDED))};
            if (setsockopt(fd, SOL_RAW, ICMP_FILTER, &f, sizeof(f)) != 0)
                return false;
        }
        return true;
    }
    if (!(v6 ? set_int(fd, IPPROTO_IPV6, IPV6_RECVERR, 1) : set_int(fd, IPPROTO_IP, IP_RECVERR, 1)))
        return false;
    /* Binding picks the echo id now (the kernel's choice), so replies can
     * be checked against it like a raw socket's. */
    struct sockaddr_storage any = {.ss_family = (sa_family_t)r->family};
    socklen_t len = v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    if (bind(fd, (struct sockaddr *)&any, len) != 0 ||
        getsockname(fd, (struct sockaddr *)&any, &len) != 0)
        return false;
    r->id = ntohs(v6 ? ((struct sockaddr_in6 *)&any)->sin6_port
                     : ((struct sockaddr_in *)&any)->sin_port);
    return true;
}

/* Address known: socket set up, watched, first request out. */
static void begin_with_address(struct icmp_run *r)
{
    enum sock_kind kind = r->family == AF_INET6 ? sock_kind6 : sock_kind4;
    if (kind == SOCK_KIND_NONE) {
        char text[CHECK_DETAIL_MAX];
        int err = r->family == AF_INET6 ? sock_errno6 : sock_errno4;
        add_errno_text(text, sizeof(text),
                       r->family == AF_INET6 ? "no ICMPv6 socket" : "no ICMP socket", err);
        /* The usual cause, named where people look: the fix is one sysctl. */
        finish(r, CHECK_REASON_OTHER, "%s%s", text,
               err == EPERM || err == EACCES
                   ? " (the agent's group is outside net.ipv4.ping_group_range and it has no "
                     "CAP_NET_RAW)"
                   : "");
        return;
    }
    r->raw = kind == SOCK_KIND_RAW;
    r->setup_start_ns = probe_now_ns(r->loop);
    if (!open_socket(r)) {
        char text[CHECK_DETAIL_MAX];
        add_errno_text(text, sizeof(text), "cannot set the ICMP socket up", errno);
        finish(r, CHECK_REASON_OTHER, "%s", text);
        return;
    }
    r->watch = probe_watch_fd(r->loop, r->fd, EPOLLIN, on_readable, r);
    if (!r->watch) {
        char text[CHECK_DETAIL_MAX];
        add_errno_text(text, sizeof(text), "cannot watch the ICMP socket", errno);
        finish(r, CHECK_REASON_OTHER, "%s", text);
        return;
    }
    r->setup_s = secs(probe_now_ns(r->loop) - r->setup_start_ns);
    send_next(r);
}

/* The resolver's answer (an IP literal's too, through the loop): on to
 * the socket, or the run ends. */
static void on_resolved(struct probe_loop *loop, enum op_rc rc, const struct sockaddr *addr,
                        socklen_t len, double seconds, const char *detail, void *arg)
{
    (void)loop;
    struct icmp_run *r = arg;
    r->resolve = NULL;
    r->resolve_s = seconds;
    if (rc != OP_OK) {
        /* The deadline passing during the lookup is the run's timeout. */
        finish(r, rc == OP_ERR_LIMIT ? CHECK_REASON_TIMEOUT : CHECK_REASON_DNS,
               "cannot resolve the target: %s", detail);
        return;
    }
    memcpy(&r->addr, addr, len);
    r->addr_len = len;
    r->family = addr->sa_family;
    begin_with_address(r);
}

static void random_bytes(void *p, size_t n)
{
    /* The id and cookie only tell our packets from others': the clock
     * is an acceptable stand-in when the kernel's pool is not ready. */
    if (getrandom(p, n, GRND_NONBLOCK) == (ssize_t)n)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t x = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)ts.tv_sec;
    for (size_t i = 0; i < n; i++, x = x * 6364136223846793005ull + 1442695040888963407ull)
        ((uint8_t *)p)[i] = (uint8_t)(x >> 56);
}

static enum op_rc icmp_start(struct probe_loop *loop, const struct check_spec *c,
                             struct probe_job *job, void **run)
{
    struct icmp_run *r = xcalloc(1, sizeof(*r));
    r->loop = loop;
    r->job = job;
    r->c = c;
    r->s = icmp_spec_of(c);
    r->fd = -1;
    r->hop_limit = -1;
    r->start_ns = probe_now_ns(loop);
    random_bytes(&r->id, sizeof(r->id));
    random_bytes(r->cookie, sizeof(r->cookie));
    r->tx_len = ICMP_HEADER_BYTES + (size_t)r->s->payload_size;
    r->tx = xmalloc(r->tx_len);
    /* Room for the longest IPv4 header and a reply of our size, or an
     * ICMPv6 error quoting up to the minimum MTU. */
    r->rx_cap = 60 + r->tx_len + 1280;
    r->rx = xmalloc(r->rx_cap);
    int64_t deadline = probe_job_deadline_ns(job);
    r->deadline_timer = probe_timer_at(loop, deadline, on_deadline, r);
    if (!r->deadline_timer) {
        run_free(r);
        return OP_ERR_SYSTEM;
    }
    /* Reports through on_resolved, never from inside this call. */
    enum op_rc rc =
        resolve_start(loop, r->s->host, (enum ip_proto)r->s->ip_protocol,
                      r->s->ip_protocol_fallback, deadline, on_resolved, r, &r->resolve);
    if (rc != OP_OK) {
        run_free(r);
        return rc;
    }
    *run = r;
    return OP_OK;
}

static void icmp_cancel(struct probe_loop *loop, void *run)
{
    (void)loop;
    run_free(run);
}

static const enum check_reason icmp_reasons[] = {
    CHECK_REASON_TIMEOUT, CHECK_REASON_DNS,   CHECK_REASON_CONNECT,
    CHECK_REASON_LOSS,    CHECK_REASON_OTHER,
};

#define RTT_HELP "Round-trip time of the echo replies of the last run, by statistic"
static const struct check_gauge icmp_gauges[ICMP_GAUGE_COUNT] = {
    [ICMP_GAUGE_RTT_MIN] = {"outpost_check_icmp_rtt_seconds", RTT_HELP, "stat", "min"},
    [ICMP_GAUGE_RTT_AVG] = {"outpost_check_icmp_rtt_seconds", RTT_HELP, "stat", "avg"},
    [ICMP_GAUGE_RTT_MAX] = {"outpost_check_icmp_rtt_seconds", RTT_HELP, "stat", "max"},
    [ICMP_GAUGE_RTT_STDDEV] = {"outpost_check_icmp_rtt_seconds", RTT_HELP, "stat", "stddev"},
    [ICMP_GAUGE_LOST] = {"outpost_check_icmp_packets_lost",
                         "Echo requests of the last run that got no reply", NULL, NULL},
};

const struct check_type icmp_check_type = {
    .schema = &icmp_schema,
    .reasons = icmp_reasons,
    .n_reasons = ARRAY_SIZE(icmp_reasons),
    .gauges = icmp_gauges,
    .n_gauges = ARRAY_SIZE(icmp_gauges),
    .global_init = icmp_global_init,
    .global_fini = icmp_global_fini,
    .start = icmp_start,
    .cancel = icmp_cancel,
};
