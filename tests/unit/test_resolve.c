/*
 * test_resolve.c - the resolver (resolve.c) on a real probe loop: IP
 * literals answered without a query but never inside resolve_start,
 * "localhost" per ip_protocol and fallback (loopback, without a query), and names
 * asked of a scripted DNS server on loopback (resolve_test_servers), so
 * the rest is hermetic: a name with only an AAAA record under ip4 with and
 * without fallback, a name that does not exist (.invalid, NXDOMAIN), a
 * server that never answers (the deadline), and a cancel before the
 * answer (the callback never runs). And the one rule for a check's
 * target (resolve_split_target): every form and every reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "buf.h"
#include "check.h"
#include "clock.h"
#include "config.h"
#include "gen.h"
#include "probe.h"
#include "resolve.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MS 1000000LL

/* ---- a scripted DNS server (UDP) ---- */

struct dns_server {
    int fd, wake[2], port;
    pthread_t thread;
    atomic_int queries;
};

/* The question's name (dotted, lower case as sent) and type; false when
 * the packet is not one question. */
static bool parse_question(const unsigned char *p, size_t n, char *name, size_t cap,
                           unsigned *qtype, size_t *qend)
{
    if (n < 12 || p[4] != 0 || p[5] != 1)
        return false;
    size_t i = 12, o = 0;
    while (i < n && p[i]) {
        size_t l = p[i++];
        if (i + l > n || o + l + 2 > cap)
            return false;
        if (o)
            name[o++] = '.';
        memcpy(name + o, p + i, l);
        o += l;
        i += l;
    }
    name[o] = '\0';
    if (i + 5 > n)
        return false;
    *qtype = (unsigned)(p[i + 1] << 8 | p[i + 2]);
    *qend = i + 5;
    return true;
}

static void *dns_main(void *arg)
{
    struct dns_server *s = arg;
    for (;;) {
        struct pollfd p[2] = {{s->fd, POLLIN, 0}, {s->wake[0], POLLIN, 0}};
        if (poll(p, 2, -1) < 0 || p[1].revents)
            break;
        unsigned char q[512], out[600];
        struct sockaddr_storage from;
        socklen_t flen = sizeof(from);
        ssize_t n = recvfrom(s->fd, q, sizeof(q), 0, (struct sockaddr *)&from, &flen);
        if (n <= 0)
            continue;
        atomic_fetch_add(&s->queries, 1);
        char name[256];
        unsigned qtype;
        size_t qend;
        if (!parse_question(q, (size_t)n, name, sizeof(name), &qtype, &qend))
            continue;
        if (strcmp(name, "silent.test") == 0)
            continue; /* never answers */
        memcpy(out, q, qend);
        out[2] = 0x81; /* QR, RD */
        out[3] = 0x80; /* RA, rcode 0 */
        out[6] = out[7] = out[8] = out[9] = out[10] = out[11] = 0;
        size_t len = qend;
        if (strcmp(name, "v6only.test") == 0) {
            if (qtype == 28) { /* AAAA ::1 */
                out[7] = 1;
                static const unsigned char rr[] = {0xc0, 0x0c, 0, 28, 0, 1, 0, 0, 0, 60,
                                                   0,    16,   0, 0,  0, 0, 0, 0, 0, 0,
                                                   0,    0,    0, 0,  0, 0, 0, 1};
                memcpy(out + len, rr, sizeof(rr));
                len += sizeof(rr);
            }
        } else {
            out[3] = 0x83; /* NXDOMAIN */
        }
        (void)sendto(s->fd, out, len, 0, (struct sockaddr *)&from, flen);
    }
    return NULL;
}

static void dns_start(struct dns_server *s)
{
    memset(s, 0, sizeof(*s));
    assert_int_equal(pipe(s->wake), 0);
    s->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    socklen_t alen = sizeof(a);
    assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &alen), 0);
    s->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&s->thread, NULL, dns_main, s), 0);
    char csv[64];
    snprintf(csv, sizeof(csv), "127.0.0.1:%d", s->port);
    resolve_test_servers(csv);
}

static void dns_stop(struct dns_server *s)
{
    resolve_test_servers(NULL);
    assert_int_equal(write(s->wake[1], "x", 1), 1);
    pthread_join(s->thread, NULL);
    close(s->fd);
    close(s->wake[0]);
    close(s->wake[1]);
}

/* ---- a loop to resolve on ---- */

struct env {
    struct gen *g;
    struct probe_loop *pl;
    bool run_it[1];
    struct probe_once once;
    struct dns_server dns;
};

static void no_report(void *arg, size_t check, const struct check_result *res)
{
    (void)arg;
    (void)check;
    (void)res;
}

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    static const char yaml[] = "checks:\n"
                               "  - name: idle\n"
                               "    type: http\n"
                               "    url: http://127.0.0.1:1/\n";
    struct buf err;
    buf_init(&err, 1u << 16);
    struct cfg *c = NULL;
    if (cfg_load_string(yaml, strlen(yaml), "r.yml", &c, &err) != OP_OK)
        fail_msg("config: %s", buf_str(&err));
    buf_free(&err);
    e->g = gen_new(c, NULL, NULL, clock_system());
    e->once = (struct probe_once){e->run_it, no_report, NULL};
    assert_int_equal(probe_loop_new(clock_system(), &e->pl), OP_OK);
    assert_int_equal(probe_loop_start_once(e->pl, e->g, &e->once), OP_OK);
    dns_start(&e->dns);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    dns_stop(&e->dns);
    probe_loop_free(e->pl);
    gen_unref(e->g);
    free(e);
    return 0;
}

/* One request and what came of it; fields after `done` are written on the
 * loop thread before done is set. */
struct ask {
    struct probe_loop *pl;
    const char *host;
    enum ip_proto proto;
    bool fallback;
    int64_t timeout_ns;
    bool cancel;
    /* results */
    enum op_rc start_rc;
    bool cb_inside_start, in_start;
    atomic_bool done;
    atomic_int calls;
    enum op_rc rc;
    char addr[64];
    double seconds;
    char detail[128];
    struct resolve_req *req;
};

static void on_answer(struct probe_loop *loop, enum op_rc rc, const struct sockaddr *addr,
                      socklen_t len, double seconds, const char *detail, void *arg)
{
    (void)loop;
    (void)len;
    struct ask *a = arg;
    if (a->in_start)
        a->cb_inside_start = true;
    a->rc = rc;
    a->seconds = seconds;
    snprintf(a->detail, sizeof(a->detail), "%s", detail);
    a->addr[0] = '\0';
    if (addr && addr->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)addr)->sin_addr, a->addr, sizeof(a->addr));
    else if (addr && addr->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)addr)->sin6_addr, a->addr,
                  sizeof(a->addr));
    atomic_fetch_add(&a->calls, 1);
    atomic_store(&a->done, true);
}

static void start_on_loop(void *arg)
{
    struct ask *a = arg;
    a->in_start = true;
    a->start_rc = resolve_start(a->pl, a->host, a->proto, a->fallback,
                                probe_now_ns(a->pl) + a->timeout_ns, on_answer, a, &a->req);
    a->in_start = false;
    if (a->cancel && a->start_rc == OP_OK)
        resolve_cancel(a->pl, a->req);
}

static void run_ask(struct env *e, struct ask *a)
{
    a->pl = e->pl;
    if (!a->timeout_ns)
        a->timeout_ns = 5000 * MS;
    probe_loop_call(e->pl, start_on_loop, a);
    assert_int_equal(a->start_rc, OP_OK);
    for (int i = 0; i < 10000 && !atomic_load(&a->done); i++)
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    assert_true(atomic_load(&a->done));
    assert_false(a->cb_inside_start);
    assert_int_equal(atomic_load(&a->calls), 1);
}

static void expect_ok(struct env *e, const char *host, enum ip_proto proto, bool fallback,
                      const char *addr)
{
    struct ask a = {.host = host, .proto = proto, .fallback = fallback};
    run_ask(e, &a);
    if (a.rc != OP_OK)
        fail_msg("%s: %s", host, a.detail);
    assert_string_equal(a.addr, addr);
    assert_string_equal(a.detail, "");
}

static void expect_fail(struct env *e, const char *host, enum ip_proto proto, bool fallback,
                        enum op_rc rc, const char *detail)
{
    struct ask a = {.host = host, .proto = proto, .fallback = fallback};
    run_ask(e, &a);
    assert_int_equal(a.rc, rc);
    assert_string_equal(a.detail, detail);
    assert_string_equal(a.addr, "");
}

static void test_literals(void **state)
{
    struct env *e = *state;
    int before = atomic_load(&e->dns.queries);
    struct ask a = {.host = "192.0.2.7", .proto = IP_PROTO_AUTO, .fallback = true};
    run_ask(e, &a);
    assert_int_equal(a.rc, OP_OK);
    assert_string_equal(a.addr, "192.0.2.7");
    assert_true(a.seconds == 0);
    expect_ok(e, "::1", IP_PROTO_AUTO, true, "::1");
    expect_ok(e, "[2001:db8::5]", IP_PROTO_6, false, "2001:db8::5");
    expect_ok(e, "[::1]", IP_PROTO_4, true, "::1"); /* fallback */
    expect_ok(e, "127.0.0.1", IP_PROTO_6, true, "127.0.0.1");
    expect_fail(e, "[::1]", IP_PROTO_4, false, OP_ERR_NOT_FOUND, "no IPv4 address for [::1]");
    expect_fail(e, "127.0.0.1", IP_PROTO_6, false, OP_ERR_NOT_FOUND,
                "no IPv6 address for 127.0.0.1");
    /* Brackets only around IPv6; an empty name is refused through cb. */
    expect_fail(e, "", IP_PROTO_AUTO, true, OP_ERR_INVALID, "bad host name");
    assert_int_equal(atomic_load(&e->dns.queries), before);
}

static void test_localhost(void **state)
{
    struct env *e = *state;
    int before = atomic_load(&e->dns.queries);
    for (int fb = 0; fb <= 1; fb++) {
        expect_ok(e, "localhost", IP_PROTO_4, fb, "127.0.0.1");
        expect_ok(e, "localhost", IP_PROTO_6, fb, "::1");
        expect_ok(e, "localhost", IP_PROTO_AUTO, fb, "127.0.0.1");
        expect_ok(e, "LocalHost.", IP_PROTO_6, fb, "::1");
    }
    assert_int_equal(atomic_load(&e->dns.queries), before);
}

static void test_fallback(void **state)
{
    struct env *e = *state;
    expect_ok(e, "v6only.test", IP_PROTO_4, true, "::1");
    expect_fail(e, "v6only.test", IP_PROTO_4, false, OP_ERR_NOT_FOUND,
                "no IPv4 address for v6only.test");
    expect_ok(e, "v6only.test", IP_PROTO_6, false, "::1");
    expect_ok(e, "v6only.test", IP_PROTO_AUTO, false, "::1");
}

static void test_no_such_host(void **state)
{
    struct env *e = *state;
    expect_fail(e, "nothing.invalid", IP_PROTO_AUTO, true, OP_ERR_NOT_FOUND, "no such host");
    expect_fail(e, "nothing.invalid", IP_PROTO_4, true, OP_ERR_NOT_FOUND, "no such host");
    expect_fail(e, "nothing.invalid", IP_PROTO_6, false, OP_ERR_NOT_FOUND, "no such host");
}

static void test_deadline(void **state)
{
    struct env *e = *state;
    struct ask a = {.host = "silent.test", .proto = IP_PROTO_AUTO, .timeout_ns = 300 * MS};
    run_ask(e, &a);
    assert_int_equal(a.rc, OP_ERR_LIMIT);
    assert_string_equal(a.detail, "timeout");
    assert_true(atomic_load(&e->dns.queries) >= 1);
}

/* Cancelled in the same loop turn as the start, and once a query is on
 * the wire: the callback never runs, and nothing is left (ASan). */
static void cancel_later(void *arg)
{
    struct ask *a = arg;
    resolve_cancel(a->pl, a->req);
}

static void test_cancel(void **state)
{
    struct env *e = *state;
    struct ask a = {.pl = e->pl, .host = "localhost", .cancel = true, .timeout_ns = 5000 * MS};
    probe_loop_call(e->pl, start_on_loop, &a);
    struct ask b = {.pl = e->pl, .host = "127.0.0.1", .cancel = true, .timeout_ns = 5000 * MS};
    probe_loop_call(e->pl, start_on_loop, &b);
    int before = atomic_load(&e->dns.queries);
    struct ask c = {.pl = e->pl, .host = "silent.test", .timeout_ns = 200 * MS};
    probe_loop_call(e->pl, start_on_loop, &c);
    for (int i = 0; i < 5000 && atomic_load(&e->dns.queries) == before; i++)
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    assert_true(atomic_load(&e->dns.queries) > before);
    probe_loop_call(e->pl, cancel_later, &c);
    /* Past every deadline: still no callback. */
    nanosleep(&(struct timespec){0, 400 * MS}, NULL);
    assert_int_equal(atomic_load(&a.calls), 0);
    assert_int_equal(atomic_load(&b.calls), 0);
    assert_int_equal(atomic_load(&c.calls), 0);
}

/* ---- targets (resolve_split_target) ---- */

static void test_split_target(void **state)
{
    (void)state;
    /* default_port: 0 a port is required (tcp, grpc), 53 optional (dns),
     * -1 none (icmp). host NULL: refused with why. */
    static const struct {
        const char *in;
        int default_port;
        const char *host;
        int port;
        const char *why;
    } cases[] = {
        /* host:port and [IPv6]:port, in every mode that takes a port */
        {"localhost:22", 0, "localhost", 22, NULL},
        {"192.0.2.1:65535", 0, "192.0.2.1", 65535, NULL},
        {"[::1]:8080", 0, "::1", 8080, NULL},
        {"Host-1.ex_ample.:1", 0, "Host-1.ex_ample.", 1, NULL},
        {"127.0.0.1:5353", 53, "127.0.0.1", 5353, NULL},
        {"[::1]:5353", 53, "::1", 5353, NULL},
        {"ns_1.example:5353", 53, "ns_1.example", 5353, NULL},
        /* host, [IPv6] and a bare IPv6 address: the default port */
        {"127.0.0.1", 53, "127.0.0.1", 53, NULL},
        {"dns.example", 53, "dns.example", 53, NULL},
        {"[::1]", 53, "::1", 53, NULL},
        {"2001:db8::53", 53, "2001:db8::53", 53, NULL},
        {"::ffff:192.0.2.1", 53, "::ffff:192.0.2.1", 53, NULL},
        /* a host alone */
        {"127.0.0.1", -1, "127.0.0.1", 0, NULL},
        {"2001:db8::1", -1, "2001:db8::1", 0, NULL},
        {"example.org", -1, "example.org", 0, NULL},
        /* every reason */
        {"host", 0, NULL, 0, "must be host:port"},
        {"", 0, NULL, 0, "must be host:port"},
        {"[::1]", 0, NULL, 0, "must be [IPv6]:port"},
        {"::1:25", 0, NULL, 0, "an IPv6 address goes in brackets: [::1]:port"},
        {"[::1", 0, NULL, 0, "has \"[\" without \"]\""},
        {"[::1:5", 53, NULL, 0, "has \"[\" without \"]\""},
        {"[::1]x:1", 0, NULL, 0, "has text after \"]\" that is not \":port\""},
        {"[::1]53", 53, NULL, 0, "has text after \"]\" that is not \":port\""},
        {"[v6]:1", 0, NULL, 0, "brackets hold an IPv6 address"},
        {"[127.0.0.1]:53", 53, NULL, 0, "brackets hold an IPv6 address"},
        {"[dns.example]", 53, NULL, 0, "brackets hold an IPv6 address"},
        {":1", 0, NULL, 0, "has no host"},
        {"[]:1", 0, NULL, 0, "has no host"},
        {":53", 53, NULL, 0, "has no host"},
        {"", 53, NULL, 0, "has no host"},
        {"", -1, NULL, 0, "has no host"},
        {"h:0", 0, NULL, 0, "port must be a number from 1 to 65535"},
        {"h:65536", 0, NULL, 0, "port must be a number from 1 to 65535"},
        {"h:+1", 0, NULL, 0, "port must be a number from 1 to 65535"},
        {"h: 1", 0, NULL, 0, "port must be a number from 1 to 65535"},
        {"h:", 0, NULL, 0, "port must be a number from 1 to 65535"},
        {"h:x", 53, NULL, 0, "port must be a number from 1 to 65535"},
        {"[::1]:", 53, NULL, 0, "port must be a number from 1 to 65535"},
        {"a b:1", 0, NULL, 0, "the host is neither an IP address nor a host name"},
        {"u@h:1", 0, NULL, 0, "the host is neither an IP address nor a host name"},
        {"a/b:5", 0, NULL, 0, "the host is neither an IP address nor a host name"},
        {"a%b:5", 0, NULL, 0, "the host is neither an IP address nor a host name"},
        {"-a:1", 0, NULL, 0, "the host is neither an IP address nor a host name"},
        {"a.-b:1", 0, NULL, 0, "the host is neither an IP address nor a host name"},
        {".a", 53, NULL, 0, "the host is neither an IP address nor a host name"},
        {"a..b", -1, NULL, 0, "the host is neither an IP address nor a host name"},
        {"a:b:c", 53, NULL, 0, "the host is neither an IP address nor a host name"},
        {"a:b:c", -1, NULL, 0, "the host is neither an IP address nor a host name"},
        {"caf\xc3\xa9", -1, NULL, 0, "the host is neither an IP address nor a host name"},
        {"h:1", -1, NULL, 0, "must be a host alone: no port, no brackets"},
        {"http://x", -1, NULL, 0, "must be a host alone: no port, no brackets"},
        {"[::1]", -1, NULL, 0, "must be a host alone: no port, no brackets"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char *host = (char *)"untouched";
        int port = -7;
        const char *why = NULL;
        bool ok = resolve_split_target(cases[i].in, cases[i].default_port, &host, &port, &why);
        if (ok != (cases[i].host != NULL))
            fail_msg("case %zu \"%s\": %s (%s)", i, cases[i].in, ok ? "accepted" : "refused",
                     why ? why : "");
        if (ok) {
            assert_string_equal(host, cases[i].host);
            assert_int_equal(port, cases[i].port);
        } else {
            assert_null(host);
            assert_string_equal(why, cases[i].why);
        }
        free(host);
    }
    /* The length cap, RESOLVE_MAX_HOST bytes of name, with and without a
     * port; and no port wanted (port NULL). */
    char name[RESOLVE_MAX_HOST + 8];
    memset(name, 'a', RESOLVE_MAX_HOST);
    name[RESOLVE_MAX_HOST] = '\0';
    char *host = NULL;
    const char *why = NULL;
    assert_true(resolve_split_target(name, -1, &host, NULL, &why));
    assert_int_equal(strlen(host), RESOLVE_MAX_HOST);
    free(host);
    memcpy(name + RESOLVE_MAX_HOST, ":80", 4);
    int port = 0;
    assert_true(resolve_split_target(name, 0, &host, &port, &why));
    assert_int_equal(port, 80);
    free(host);
    memcpy(name + RESOLVE_MAX_HOST, "a:80", 5);
    assert_false(resolve_split_target(name, 0, &host, &port, &why));
    assert_string_equal(why, "the host name is longer than 255 bytes");
    name[RESOLVE_MAX_HOST + 1] = '\0';
    assert_false(resolve_split_target(name, 53, &host, &port, &why));
    assert_string_equal(why, "the host name is longer than 255 bytes");
}

int main(void)
{
    assert_int_equal(resolve_global_init(), OP_OK);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_literals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_localhost, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fallback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_such_host, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
        cmocka_unit_test(test_split_target),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    resolve_global_fini();
    return rc;
}
