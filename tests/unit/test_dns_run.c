/*
 * test_dns_run.c - runs of the `dns` type (dns_check.c) on a probe loop
 * with a fake clock, against loopback sockets the test itself answers:
 * the query on the wire (RD bit, type, class, over UDP and TCP), the
 * result's tail and gauges from a scripted reply, the check's deadline on
 * the loop's clock (reason timeout, no gauges), and a run cancelled while
 * its query is in flight (the loop stopping: nothing reported, everything
 * released).
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
#include "dns_check.h"
#include "gen.h"
#include "probe.h"

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SEC 1000000000LL
#define T0_MONO (6000 * SEC)
#define T0_WALL_MS 1767225600000LL

/* ---- one run ---- */

struct report {
    pthread_mutex_t lock;
    bool done;
    struct check_result res;
    struct dns_tail tail;
};

static void on_report(void *arg, size_t check, const struct check_result *res)
{
    (void)check;
    struct report *r = arg;
    pthread_mutex_lock(&r->lock);
    r->res = *res;
    r->tail = *(const struct dns_tail *)res->tail;
    r->res.tail = NULL;
    r->done = true;
    pthread_mutex_unlock(&r->lock);
}

static bool report_done(struct report *r)
{
    pthread_mutex_lock(&r->lock);
    bool d = r->done;
    pthread_mutex_unlock(&r->lock);
    return d;
}

struct run {
    struct clock *clk;
    struct gen *g;
    struct probe_loop *pl;
    struct report rep;
    bool run_it[1];
    struct probe_once once;
};

static void run_start(struct run *r, const char *yaml)
{
    memset(r, 0, sizeof(*r));
    pthread_mutex_init(&r->rep.lock, NULL);
    r->clk = clock_fake_new(T0_MONO, T0_WALL_MS);
    struct buf err;
    buf_init(&err, 1u << 16);
    struct cfg *c = NULL;
    if (cfg_load_string(yaml, strlen(yaml), "dns.yml", &c, &err) != OP_OK)
        fail_msg("config: %s", buf_str(&err));
    buf_free(&err);
    r->g = gen_new(c, NULL, NULL, r->clk);
    r->run_it[0] = true;
    r->once = (struct probe_once){r->run_it, on_report, &r->rep};
    assert_int_equal(probe_loop_new(r->clk, &r->pl), OP_OK);
    assert_int_equal(probe_loop_start_once(r->pl, r->g, &r->once), OP_OK);
}

/* Wait (real time, up to 5 s) for the report; advance_ns moves the loop's
 * clock by that much each millisecond. */
static void run_wait(struct run *r, int64_t advance_ns)
{
    for (int i = 0; i < 5000 && !report_done(&r->rep); i++) {
        nanosleep(&(struct timespec){0, 1000000}, NULL);
        if (advance_ns) {
            clock_fake_advance(r->clk, advance_ns);
            probe_loop_wake(r->pl);
        }
    }
    assert_true(report_done(&r->rep));
}

static void run_end(struct run *r)
{
    probe_loop_free(r->pl);
    gen_unref(r->g);
    clock_fake_free(r->clk);
    pthread_mutex_destroy(&r->rep.lock);
}

/* ---- the test's side of the wire ---- */

static int bound(int type, int *port)
{
    int fd = socket(AF_INET, type, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    socklen_t len = sizeof(a);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    if (type == SOCK_STREAM)
        assert_int_equal(listen(fd, 4), 0);
    return fd;
}

static void wait_readable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    assert_int_equal(poll(&p, 1, 5000), 1);
}

/* The question of a query as the test expects it: example.com, qtype, IN. */
static void expect_query(const unsigned char *q, size_t n, bool rd, unsigned qtype)
{
    assert_int_equal(n, 12 + 13 + 4);
    assert_int_equal(q[2] & 0x01, rd ? 1 : 0); /* RD */
    assert_int_equal(q[2] & 0x80, 0);          /* a query */
    assert_memory_equal(q + 4, "\x00\x01\x00\x00\x00\x00\x00\x00", 8);
    assert_memory_equal(q + 12,
                        "\x07"
                        "example\x03"
                        "com\x00",
                        13);
    assert_int_equal((q[25] << 8) | q[26], qtype);
    assert_int_equal((q[27] << 8) | q[28], 1);
}

#define HEAD "checks:\n  - name: d\n    type: dns\n    timeout: 5s\n    interval: 10s\n"

static void test_udp_reply_tail(void **state)
{
    (void)state;
    int port;
    int fd = bound(SOCK_DGRAM, &port);
    char y[512];
    snprintf(y, sizeof(y),
             HEAD
             "    target: 127.0.0.1:%d\n"
             "    query: {name: example.com, type: SOA, recursion_desired: false}\n"
             "    expect: {min_answers: 1, additional_match: ['\\tIN\\tA\\t192\\.0\\.2\\.53$']}\n",
             port);
    struct run r;
    run_start(&r, y);
    wait_readable(fd);
    unsigned char q[512];
    struct sockaddr_in peer;
    socklen_t plen = sizeof(peer);
    ssize_t n = recvfrom(fd, q, sizeof(q), 0, (struct sockaddr *)&peer, &plen);
    assert_true(n > 0);
    expect_query(q, (size_t)n, false, 6);
    /* The reply: the query's ID and question, one SOA answer (serial 7),
     * one additional A record. */
    unsigned char a[512];
    memcpy(a, q, (size_t)n);
    static const unsigned char counts[] = {0x84, 0x00, 0x00, 0x01, 0x00,
                                           0x01, 0x00, 0x00, 0x00, 0x01};
    memcpy(a + 2, counts, sizeof(counts));
    size_t len = (size_t)n;
    static const unsigned char soa[] = {
        0xc0, 0x0c, 0x00, 0x06, 0x00, 0x01, 0x00, 0x00, 0x0e, 0x10, 0x00, 0x16,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
        0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
    };
    memcpy(a + len, soa, sizeof(soa));
    len += sizeof(soa);
    static const unsigned char add[] = {0x03, 'n',  's',  '1',  0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01,
                                        0x00, 0x00, 0x00, 0x3c, 0x00, 0x04, 0xc0, 0x00, 0x02, 0x35};
    memcpy(a + len, add, sizeof(add));
    len += sizeof(add);
    assert_int_equal(sendto(fd, a, len, 0, (struct sockaddr *)&peer, plen), (ssize_t)len);
    run_wait(&r, 0);
    const struct check_result *res = &r.rep.res;
    if (!res->success)
        fail_msg("%s: %s", check_reason_name(res->reason), res->detail);
    assert_int_equal(res->reason, CHECK_REASON_NONE);
    assert_string_equal(res->detail, "");
    assert_true(res->gauges[0] == 1.0);
    assert_true(res->gauges[1] == 0.0);
    assert_true(res->phases[CHECK_PHASE_RESOLVE] == 0.0);
    const struct dns_tail *t = &r.rep.tail;
    assert_int_equal(t->ip_protocol, 4);
    assert_int_equal(t->rcode, 0);
    assert_int_equal(t->answers, 1);
    assert_int_equal(t->authority, 0);
    assert_int_equal(t->additional, 1);
    assert_true(t->has_serial);
    assert_int_equal(t->serial, 7);
    run_end(&r);
    close(fd);
}

static void test_deadline_is_timeout(void **state)
{
    (void)state;
    int port;
    int fd = bound(SOCK_DGRAM, &port); /* never answers */
    char y[512];
    snprintf(y, sizeof(y), HEAD "    target: 127.0.0.1:%d\n    query: {name: example.com}\n", port);
    struct run r;
    run_start(&r, y);
    wait_readable(fd);
    /* The loop's clock passes the 5 s deadline long before c-ares' own
     * (real-time) timeout would. */
    run_wait(&r, SEC / 10);
    const struct check_result *res = &r.rep.res;
    assert_false(res->success);
    assert_int_equal(res->reason, CHECK_REASON_TIMEOUT);
    assert_string_equal(res->detail, "no reply within 5000 ms");
    assert_true(isnan(res->gauges[0]) && isnan(res->gauges[1]));
    assert_int_equal(r.rep.tail.rcode, -1);
    assert_int_equal(r.rep.tail.answers, 0);
    assert_false(r.rep.tail.has_serial);
    assert_int_equal(r.rep.tail.ip_protocol, 4);
    run_end(&r);
    close(fd);
}

static void test_tcp_cancel_in_flight(void **state)
{
    (void)state;
    int port;
    int lfd = bound(SOCK_STREAM, &port);
    char y[512];
    snprintf(y, sizeof(y),
             HEAD "    target: 127.0.0.1:%d\n    query: {name: example.com, type: AAAA, "
                  "transport: tcp}\n",
             port);
    struct run r;
    run_start(&r, y);
    wait_readable(lfd);
    int cfd = accept(lfd, NULL, NULL);
    assert_true(cfd >= 0);
    /* The query, behind its two-byte length. */
    unsigned char q[512];
    size_t got = 0;
    while (got < 2 + 29) {
        wait_readable(cfd);
        ssize_t n = read(cfd, q + got, sizeof(q) - got);
        assert_true(n > 0);
        got += (size_t)n;
    }
    assert_int_equal(got, 2 + 29);
    assert_int_equal((q[0] << 8) | q[1], 29);
    expect_query(q + 2, 29, true, 28);
    /* Stop the loop with the query unanswered: the run is cancelled. */
    run_end(&r);
    assert_false(r.rep.done);
    /* Its connection was closed. */
    wait_readable(cfd);
    assert_int_equal(read(cfd, q, sizeof(q)), 0);
    close(cfd);
    close(lfd);
}

static int setup(void **state)
{
    (void)state;
    return check_types_init() == OP_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    check_types_fini();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_udp_reply_tail),
        cmocka_unit_test(test_deadline_is_timeout),
        cmocka_unit_test(test_tcp_cancel_in_flight),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
