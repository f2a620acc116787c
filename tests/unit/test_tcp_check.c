/*
 * test_tcp_check.c - the `tcp` type: its settings and their errors (file,
 * line and column), the target's forms, blackbox_exporter's references in
 * `send` (tcp_expand), and runs on a real probe loop against a one-shot
 * loopback server: a dialogue whose send carries groups of the line
 * matched (checked byte for byte on the server), each reason (connect,
 * dns, expect at the end of the connection and at the deadline) and the
 * caps on a line and on the bytes read.
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
#include "tcp_check.h"

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

/* ---- loading ---- */

static struct cfg *load(const char *yaml)
{
    struct buf err;
    buf_init(&err, 1u << 16);
    struct cfg *c = NULL;
    if (cfg_load_string(yaml, strlen(yaml), "tcp.yml", &c, &err) != OP_OK)
        fail_msg("config: %s", buf_str(&err));
    buf_free(&err);
    return c;
}

static void expect_errors(const char *yaml, const char *want)
{
    struct buf err;
    buf_init(&err, 1u << 16);
    struct cfg *c = NULL;
    assert_int_equal(cfg_load_string(yaml, strlen(yaml), "tcp.yml", &c, &err), OP_ERR_INVALID);
    assert_null(c);
    assert_string_equal(buf_str(&err), want);
    buf_free(&err);
}

#define HEAD "checks:\n  - name: t\n    type: tcp\n"

static void test_settings(void **state)
{
    (void)state;
    struct cfg *c = load(HEAD "    target: '[::1]:25'\n"
                              "    ip_protocol: ip6\n"
                              "    ip_protocol_fallback: false\n"
                              "    tls: {insecure_skip_verify: true, server_name: mx.example}\n"
                              "    query_response:\n"
                              "      - expect: '^220 '\n"
                              "      - send: EHLO probe\n"
                              "      - expect: '^250 STARTTLS'\n"
                              "        send: STARTTLS\n"
                              "      - expect: '^220'\n"
                              "        starttls: true\n"
                              "      - send: QUIT\n");
    const struct check_spec *cs = cfg_check(c, 0);
    const struct tcp_spec *s = tcp_spec_of(cs);
    assert_string_equal(cs->target, "[::1]:25");
    assert_string_equal(s->host, "::1");
    assert_int_equal(s->port, 25);
    assert_int_equal(s->ip_protocol, IP_PROTO_6);
    assert_false(s->ip_protocol_fallback);
    /* A STARTTLS dialogue starts in plain text; tls: is for the upgrade. */
    assert_false(s->tls);
    assert_true(s->has_starttls);
    assert_true(s->tls_cfg.insecure_skip_verify);
    assert_string_equal(s->tls_cfg.server_name, "mx.example");
    assert_int_equal(s->n_steps, 5);
    assert_true(s->steps[0].has_expect);
    assert_null(s->steps[0].send);
    assert_string_equal(s->steps[2].send, "STARTTLS");
    assert_true(s->steps[3].starttls);
    assert_string_equal(s->steps[4].send, "QUIT");
    cfg_free(c);

    c = load(HEAD "    target: example.org:443\n    tls: true\n");
    s = tcp_spec_of(cfg_check(c, 0));
    assert_true(s->tls);
    assert_int_equal(s->ip_protocol, IP_PROTO_AUTO);
    assert_true(s->ip_protocol_fallback);
    assert_non_null(s->tls_cfg.ca); /* the system store, keyed */
    assert_int_equal(s->n_steps, 0);
    cfg_free(c);

    c = load(HEAD "    target: 127.0.0.1:7\n    tls: false\n");
    s = tcp_spec_of(cfg_check(c, 0));
    assert_false(s->tls);
    assert_null(s->tls_cfg.ca);
    cfg_free(c);
}

static void test_errors(void **state)
{
    (void)state;
    expect_errors(HEAD "    tls: true\n", "tcp.yml:2:5: checks[0] \"t\": missing key \"target\"\n");
    expect_errors(
        HEAD "    target: ::1:25\n",
        "tcp.yml:4:13: checks[0] \"t\".target: \"::1:25\": an IPv6 address goes in brackets: "
        "[::1]:port\n");
    expect_errors(
        HEAD "    target: host:0\n",
        "tcp.yml:4:13: checks[0] \"t\".target: \"host:0\": port must be a number from 1 to "
        "65535\n");
    expect_errors(
        HEAD "    target: '[v6]:1'\n",
        "tcp.yml:4:13: checks[0] \"t\".target: \"[v6]:1\": brackets hold an IPv6 address\n");
    expect_errors(HEAD "    target: host\n",
                  "tcp.yml:4:13: checks[0] \"t\".target: \"host\": must be host:port\n");
    expect_errors(HEAD "    target: h:1\n    tls: maybe\n",
                  "tcp.yml:5:10: checks[0] \"t\".tls: expected true or false, got \"maybe\"\n");
    expect_errors(HEAD "    target: h:1\n    tls: [1]\n",
                  "tcp.yml:5:10: checks[0] \"t\".tls: must be true, false or a mapping of TLS "
                  "settings\n");
    expect_errors(
        HEAD "    target: h:1\n    ip_protocol: ip5\n",
        "tcp.yml:5:18: checks[0] \"t\".ip_protocol: \"ip5\" is not one of ip4, ip6, auto\n");
    expect_errors(
        HEAD "    target: h:1\n    query_response:\n      - {}\n"
             "      - expect: '('\n"
             "      - starttls: true\n      - starttls: true\n      - sned: x\n",
        "tcp.yml:6:9: checks[0] \"t\".query_response[0]: a step needs expect, send or "
        "starttls\n"
        "tcp.yml:7:17: checks[0] \"t\".query_response[1].expect: bad regular expression at "
        "offset 1: missing closing parenthesis\n"
        "tcp.yml:9:9: checks[0] \"t\".query_response[3]: only one step may have starttls\n"
        "tcp.yml:10:9: checks[0] \"t\".query_response[4]: unknown key \"sned\" (did you "
        "mean \"send\"?)\n");
    expect_errors(HEAD "    target: h:1\n    taget: x\n",
                  "tcp.yml:5:5: checks[0] \"t\": unknown key \"taget\" (did you mean "
                  "\"target\"?)\n");
}

static void test_targets(void **state)
{
    (void)state;
    static const struct {
        const char *in, *host;
        int port;
        const char *why;
    } cases[] = {
        {"localhost:22", "localhost", 22, NULL},
        {"[::1]:8080", "::1", 8080, NULL},
        {"192.0.2.1:65535", "192.0.2.1", 65535, NULL},
        {"h:65536", NULL, 0, "port must be a number from 1 to 65535"},
        {"h:+1", NULL, 0, "port must be a number from 1 to 65535"},
        {"h:", NULL, 0, "port must be a number from 1 to 65535"},
        {":1", NULL, 0, "has no host"},
        {"[::1]", NULL, 0, "must be [IPv6]:port"},
        {"[::1]x:1", NULL, 0, "has text after \"]\" that is not \":port\""},
        {"a b:1", NULL, 0, "the host is neither an IP address nor a host name"},
        {"u@h:1", NULL, 0, "the host is neither an IP address nor a host name"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int port = 0;
        const char *why = NULL;
        char *h = NULL;
        bool ok = resolve_split_target(cases[i].in, 0, &h, &port, &why);
        assert_int_equal(ok, cases[i].host != NULL);
        if (cases[i].host) {
            assert_non_null(h);
            assert_string_equal(h, cases[i].host);
            assert_int_equal(port, cases[i].port);
        } else {
            assert_null(h);
            assert_string_equal(why, cases[i].why);
        }
        free(h);
    }
}

/* ---- references in send ---- */

static void expand(const char *pattern, const char *line, const char *tmpl, const char *want)
{
    int err;
    PCRE2_SIZE off;
    pcre2_code *code =
        pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, 0, &err, &off, NULL);
    assert_non_null(code);
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(code, NULL);
    assert_true(pcre2_match(code, (PCRE2_SPTR)line, strlen(line), 0, 0, md, NULL) >= 0);
    uint32_t pairs = pcre2_get_ovector_count(md);
    PCRE2_SIZE *pov = pcre2_get_ovector_pointer(md);
    size_t ov[64];
    for (uint32_t i = 0; i < 2 * pairs; i++)
        ov[i] = pov[i] == PCRE2_UNSET ? SIZE_MAX : pov[i];
    struct buf out;
    buf_init(&out, 64);
    tcp_expand(tmpl, code, line, ov, pairs, &out);
    if (want) {
        assert_false(out.failed);
        assert_string_equal(buf_str(&out), want);
    } else {
        assert_true(out.failed);
    }
    buf_free(&out);
    pcre2_match_data_free(md);
    pcre2_code_free(code);
}

static void test_expand(void **state)
{
    (void)state;
    const char *re = "^(\\w+) (?<ver>[0-9.]+)(x)?";
    const char *line = "SSH 2.0 tail";
    expand(re, line, "v=${1}/${2}", "v=SSH/2.0");
    expand(re, line, "$1-$ver-${ver}", "SSH-2.0-2.0");
    expand(re, line, "$0|${0}", "SSH 2.0|SSH 2.0");
    /* Unset and missing groups are empty; names run as long as they can
     * ($1x is the group named "1x"). */
    expand(re, line, "[$3][${9}][$nope][$1x]", "[][][][]");
    /* "$$" is a dollar; a '$' that starts no reference stays. */
    expand(re, line, "$$1 $ ${ ${1 $-", "$1 $ ${ ${1 $-");
    expand(re, line, "plain", "plain");
    expand(re, line, "", "");
    /* Over the buffer's cap: failed, never cut. */
    expand(re, line, "0123456789012345678901234567890123456789012345678901234567890123456789",
           NULL);
}

/* ---- runs ---- */

/* A one-connection server: writes `banner` (n bytes, repeated `times`),
 * then reads one line into `got` and writes `reply`; `hold` keeps the
 * connection open (silent) until the test ends. */
struct server {
    int lfd, port, wake[2];
    pthread_t thread;
    const char *banner;
    size_t banner_len, times;
    const char *reply;
    bool hold;
    char got[256];
    atomic_bool got_line, accepted;
};

static void *server_main(void *arg)
{
    struct server *s = arg;
    struct pollfd p[2] = {{s->lfd, POLLIN, 0}, {s->wake[0], POLLIN, 0}};
    if (poll(p, 2, 5000) <= 0 || p[1].revents)
        return NULL;
    int fd = accept(s->lfd, NULL, NULL);
    if (fd < 0)
        return NULL;
    atomic_store(&s->accepted, true);
    for (size_t i = 0; i < s->times; i++)
        if (write(fd, s->banner, s->banner_len) != (ssize_t)s->banner_len)
            break;
    size_t n = 0;
    while (n + 1 < sizeof(s->got)) {
        struct pollfd q[2] = {{fd, POLLIN, 0}, {s->wake[0], POLLIN, 0}};
        if (poll(q, 2, 5000) <= 0 || q[1].revents)
            break;
        ssize_t k = read(fd, s->got + n, 1);
        if (k <= 0)
            break;
        n++;
        if (s->got[n - 1] == '\n') {
            s->got[n] = '\0';
            atomic_store(&s->got_line, true);
            if (s->reply)
                (void)!write(fd, s->reply, strlen(s->reply));
            break;
        }
    }
    if (s->hold) {
        struct pollfd q = {s->wake[0], POLLIN, 0};
        (void)poll(&q, 1, 10000);
    }
    close(fd);
    return NULL;
}

static void server_start(struct server *s)
{
    assert_int_equal(pipe(s->wake), 0);
    s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(s->lfd, 4), 0);
    socklen_t alen = sizeof(a);
    assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&a, &alen), 0);
    s->port = ntohs(a.sin_port);
    if (!s->times)
        s->times = 1;
    if (s->banner && !s->banner_len)
        s->banner_len = strlen(s->banner);
    assert_int_equal(pthread_create(&s->thread, NULL, server_main, s), 0);
}

static void server_stop(struct server *s)
{
    assert_int_equal(write(s->wake[1], "x", 1), 1);
    pthread_join(s->thread, NULL);
    close(s->lfd);
    close(s->wake[0]);
    close(s->wake[1]);
}

struct report {
    atomic_bool done;
    struct check_result res;
    struct tcp_tail tail;
};

static void on_report(void *arg, size_t check, const struct check_result *res)
{
    (void)check;
    struct report *r = arg;
    r->res = *res;
    r->tail = *(const struct tcp_tail *)res->tail;
    r->res.tail = NULL;
    atomic_store(&r->done, true);
}

/* Run the one check of yaml once on a loop on the system clock. */
static void run_once(const char *yaml, struct report *rep)
{
    struct cfg *c = load(yaml);
    struct gen *g = gen_new(c, NULL, NULL, clock_system());
    bool run_it[1] = {true};
    struct probe_once once = {run_it, on_report, rep};
    struct probe_loop *pl = NULL;
    assert_int_equal(probe_loop_new(clock_system(), &pl), OP_OK);
    assert_int_equal(probe_loop_start_once(pl, g, &once), OP_OK);
    for (int i = 0; i < 10000 && !atomic_load(&rep->done); i++)
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    assert_true(atomic_load(&rep->done));
    probe_loop_free(pl);
    gen_unref(g);
}

static const char *yaml_timeout(int port, const char *timeout, const char *extra)
{
    static char y[4096];
    snprintf(y, sizeof(y), HEAD "    timeout: %s\n    target: 127.0.0.1:%d\n%s", timeout, port,
             extra);
    return y;
}

static const char *yaml_for(int port, const char *extra)
{
    return yaml_timeout(port, "2s", extra);
}

static void test_dialogue(void **state)
{
    (void)state;
    struct server s = {.banner = "noise\r\nSSH-2.0-OpenSSH_9.2 debian\r\n", .reply = "ok 7\n"};
    server_start(&s);
    struct report rep = {0};
    run_once(yaml_for(s.port, "    query_response:\n"
                              "      - expect: '^SSH-2\\.0-(?<impl>\\S+) (\\w+)$'\n"
                              "        send: 'hello ${impl} $2 $$'\n"
                              "      - expect: '^ok (\\d)'\n"),
             &rep);
    server_stop(&s);
    if (!rep.res.success)
        fail_msg("%s", rep.res.detail);
    assert_int_equal(rep.res.reason, CHECK_REASON_NONE);
    assert_string_equal(s.got, "hello OpenSSH_9.2 debian $\n");
    assert_int_equal(rep.tail.ip_protocol, 4);
    assert_false(rep.tail.tls);
    assert_string_equal(rep.tail.tls_version, "");
    assert_false(rep.tail.failed_due_to_regex);
    assert_true(rep.res.cert_expiry == 0);
    assert_true(rep.res.phases[CHECK_PHASE_PROCESSING] > 0);
    assert_true(rep.res.phases[CHECK_PHASE_TLS] == 0);
}

static void test_expect_eof(void **state)
{
    (void)state;
    struct server s = {.banner = "one\ntwo\n"};
    server_start(&s);
    struct report rep = {0};
    run_once(yaml_for(s.port, "    query_response:\n      - send: hi\n"
                              "      - expect: '^SSH-2.0-'\n"),
             &rep);
    server_stop(&s);
    assert_false(rep.res.success);
    assert_int_equal(rep.res.reason, CHECK_REASON_EXPECT);
    assert_string_equal(rep.res.detail, "expect /^SSH-2.0-/: connection closed after 2 lines");
    assert_true(rep.tail.failed_due_to_regex);
}

static void test_expect_deadline(void **state)
{
    (void)state;
    struct server s = {.banner = "partial", .hold = true};
    server_start(&s);
    struct report rep = {0};
    run_once(yaml_timeout(s.port, "300ms",
                          "    query_response:\n"
                          "      - expect: '^220'\n"),
             &rep);
    server_stop(&s);
    assert_int_equal(rep.res.reason, CHECK_REASON_EXPECT);
    assert_string_equal(rep.res.detail, "expect /^220/: no match before the timeout after 0 lines");
    assert_false(rep.tail.failed_due_to_regex);
    assert_true(rep.res.duration >= 0.3);
}

static void test_caps(void **state)
{
    (void)state;
    static char big[TCP_MAX_LINE + 8];
    memset(big, 'a', sizeof(big));
    struct server s = {.banner = big, .banner_len = sizeof(big), .hold = true};
    server_start(&s);
    struct report rep = {0};
    run_once(yaml_for(s.port, "    query_response:\n      - expect: '^b'\n"), &rep);
    server_stop(&s);
    assert_int_equal(rep.res.reason, CHECK_REASON_OTHER);
    assert_string_equal(rep.res.detail, "expect /^b/: a line longer than 65536 bytes");

    /* Short lines, none matching, past the total. */
    static char lines[4096];
    for (size_t i = 0; i < sizeof(lines); i += 8)
        memcpy(lines + i, "abcdefg\n", 8);
    struct server t = {.banner = lines, .banner_len = sizeof(lines), .times = 300, .hold = true};
    server_start(&t);
    memset(&rep, 0, sizeof(rep));
    run_once(yaml_for(t.port, "    query_response:\n      - expect: '^b'\n"), &rep);
    server_stop(&t);
    assert_int_equal(rep.res.reason, CHECK_REASON_OTHER);
    assert_string_equal(rep.res.detail, "expect /^b/: more than 1048576 bytes read");
}

static void test_connect_and_dns(void **state)
{
    (void)state;
    /* A port nobody listens on: bind one, close it. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    socklen_t alen = sizeof(a);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
    int port = ntohs(a.sin_port);
    close(fd);
    struct report rep = {0};
    run_once(yaml_for(port, ""), &rep);
    assert_int_equal(rep.res.reason, CHECK_REASON_CONNECT);
    char want[128];
    snprintf(want, sizeof(want), "connect 127.0.0.1:%d: connection refused", port);
    assert_string_equal(rep.res.detail, want);
    assert_int_equal(rep.tail.ip_protocol, 4);

    /* An IPv4 literal where only IPv6 will do. */
    memset(&rep, 0, sizeof(rep));
    run_once(HEAD "    target: 127.0.0.1:1\n    ip_protocol: ip6\n"
                  "    ip_protocol_fallback: false\n",
             &rep);
    assert_int_equal(rep.res.reason, CHECK_REASON_DNS);
    assert_string_equal(rep.res.detail, "resolve 127.0.0.1: no IPv6 address for 127.0.0.1");
    assert_int_equal(rep.tail.ip_protocol, 0);
}

/* A run still waiting when the loop stops is cancelled: no report, and
 * nothing left behind (socket, watch, timer; ASan). */
static void test_cancel_in_flight(void **state)
{
    (void)state;
    struct server s = {.banner = "x", .hold = true};
    server_start(&s);
    struct report rep = {0};
    struct cfg *c = load(yaml_timeout(s.port, "5s", "    query_response:\n      - expect: '^y'\n"));
    struct gen *g = gen_new(c, NULL, NULL, clock_system());
    bool run_it[1] = {true};
    struct probe_once once = {run_it, on_report, &rep};
    struct probe_loop *pl = NULL;
    assert_int_equal(probe_loop_new(clock_system(), &pl), OP_OK);
    assert_int_equal(probe_loop_start_once(pl, g, &once), OP_OK);
    for (int i = 0; i < 5000 && !atomic_load(&s.accepted); i++)
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    assert_true(atomic_load(&s.accepted));
    probe_loop_free(pl);
    gen_unref(g);
    server_stop(&s);
    assert_false(atomic_load(&rep.done));
}

int main(void)
{
    assert_int_equal(check_types_init(), OP_OK);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_settings),        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_targets),         cmocka_unit_test(test_expand),
        cmocka_unit_test(test_dialogue),        cmocka_unit_test(test_expect_eof),
        cmocka_unit_test(test_expect_deadline), cmocka_unit_test(test_caps),
        cmocka_unit_test(test_connect_and_dns), cmocka_unit_test(test_cancel_in_flight),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    check_types_fini();
    return rc;
}
