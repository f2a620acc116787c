/*
 * test_flow_run.c - runs of the `flow` type (flow_check.c) on a probe loop
 * with a fake clock, against a scripted loopback HTTP server: captures go
 * into later requests (what the server received is checked byte for
 * byte), a failing step skips the rest but the clean-up runs, a clean-up
 * that fails fails a flow that passed, one cookie jar per run, one
 * connection per run with reuse_connection, and the flow's deadline (on
 * the loop's clock) stops a run between steps. Also the per-step series
 * in the check's recorder.
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
#include "flow_check.h"
#include "gen.h"
#include "probe.h"

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

#define SEC 1000000000LL
#define T0_MONO (6000 * SEC)
#define T0_WALL_MS 1767225600000LL

/* ---- a scripted server ---- */

#define MAX_REQS 16
#define MAX_CONNS 8

/* One answer per request, in order; `gate`: held until srv.go is set. */
struct answer {
    const char *head; /* status line and headers, without the blank line */
    const char *body;
    bool gate;
};

struct server {
    int lfd, port, wake[2];
    pthread_t thread;
    const struct answer *script;
    size_t n_script;
    pthread_mutex_t lock;
    char *reqs[MAX_REQS];  /* each request as received */
    int conn_of[MAX_REQS]; /* the connection (accept order) it came on */
    size_t n_reqs;
    atomic_bool go, held;
};

struct conn {
    int fd, id;
    char buf[65536];
    size_t len;
};

/* A complete request at the start of c->buf: its length, else 0. */
static size_t request_len(const struct conn *c)
{
    const char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
    if (!end)
        return 0;
    size_t head = (size_t)(end - c->buf) + 4, body = 0;
    const char *cl = memmem(c->buf, head, "Content-Length: ", 16);
    if (cl)
        body = strtoul(cl + 16, NULL, 10);
    return c->len >= head + body ? head + body : 0;
}

static void answer(struct server *s, struct conn *c, size_t n)
{
    pthread_mutex_lock(&s->lock);
    size_t i = s->n_reqs;
    if (i < MAX_REQS) {
        s->reqs[i] = strndup(c->buf, n);
        s->conn_of[i] = c->id;
        s->n_reqs++;
    }
    pthread_mutex_unlock(&s->lock);
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
    const struct answer *a = i < s->n_script ? &s->script[i] : NULL;
    if (a && a->gate) {
        atomic_store(&s->held, true);
        for (int k = 0; k < 10000 && !atomic_load(&s->go); k++)
            nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
    char out[8192];
    const char *body = a ? a->body : "no script\n";
    int len = snprintf(out, sizeof(out), "%s\r\nContent-Length: %zu\r\n\r\n%s",
                       a ? a->head : "HTTP/1.1 500 Internal Server Error", strlen(body), body);
    assert_int_equal(write(c->fd, out, (size_t)len), len);
}

static void *server_main(void *arg)
{
    struct server *s = arg;
    struct conn *conns = calloc(MAX_CONNS, sizeof(*conns));
    size_t n = 0;
    int next_id = 0;
    for (;;) {
        struct pollfd p[MAX_CONNS + 2] = {{s->lfd, POLLIN, 0}, {s->wake[0], POLLIN, 0}};
        for (size_t i = 0; i < n; i++)
            p[i + 2] = (struct pollfd){conns[i].fd, POLLIN, 0};
        if (poll(p, n + 2, -1) < 0)
            break;
        if (p[1].revents)
            break;
        if ((p[0].revents & POLLIN) && n < MAX_CONNS) {
            int fd = accept(s->lfd, NULL, NULL);
            if (fd >= 0)
                conns[n++] = (struct conn){.fd = fd, .id = next_id++};
        }
        for (size_t i = 0; i < n; i++) {
            if (!p[i + 2].revents)
                continue;
            struct conn *c = &conns[i];
            ssize_t got = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
            if (got <= 0) {
                close(c->fd);
                conns[i] = conns[--n];
                p[i + 2] = p[n + 2];
                i--;
                continue;
            }
            c->len += (size_t)got;
            size_t len;
            while ((len = request_len(c)) > 0)
                answer(s, c, len);
        }
    }
    for (size_t i = 0; i < n; i++)
        close(conns[i].fd);
    free(conns);
    return NULL;
}

static void server_start(struct server *s, const struct answer *script, size_t n)
{
    memset(s, 0, sizeof(*s));
    s->script = script;
    s->n_script = n;
    pthread_mutex_init(&s->lock, NULL);
    assert_int_equal(pipe(s->wake), 0);
    s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(s->lfd, 8), 0);
    socklen_t alen = sizeof(a);
    assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&a, &alen), 0);
    s->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&s->thread, NULL, server_main, s), 0);
}

static void server_stop(struct server *s)
{
    assert_int_equal(write(s->wake[1], "x", 1), 1);
    pthread_join(s->thread, NULL);
    close(s->lfd);
    close(s->wake[0]);
    close(s->wake[1]);
    for (size_t i = 0; i < s->n_reqs; i++)
        free(s->reqs[i]);
    pthread_mutex_destroy(&s->lock);
}

/* ---- one run of a flow ---- */

struct report {
    pthread_mutex_t lock;
    bool done;
    struct check_result res;
    struct check_step steps[FLOW_MAX_STEPS];
    char details[FLOW_MAX_STEPS][CHECK_DETAIL_MAX];
    char names[FLOW_MAX_STEPS][64];
};

static void on_report(void *arg, size_t check, const struct check_result *res)
{
    (void)check;
    struct report *r = arg;
    pthread_mutex_lock(&r->lock);
    r->res = *res;
    for (size_t i = 0; i < res->n_steps && i < FLOW_MAX_STEPS; i++) {
        r->steps[i] = res->steps[i];
        snprintf(r->details[i], sizeof(r->details[i]), "%s", res->steps[i].detail);
        snprintf(r->names[i], sizeof(r->names[i]), "%s", res->steps[i].name);
        r->steps[i].detail = r->details[i];
        r->steps[i].name = r->names[i];
    }
    r->res.steps = r->steps;
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
    if (cfg_load_string(yaml, strlen(yaml), "flow.yml", &c, &err) != OP_OK)
        fail_msg("config: %s", buf_str(&err));
    buf_free(&err);
    r->g = gen_new(c, NULL, NULL, r->clk);
    r->run_it[0] = true;
    r->once = (struct probe_once){r->run_it, on_report, &r->rep};
    assert_int_equal(probe_loop_new(r->clk, &r->pl), OP_OK);
    assert_int_equal(probe_loop_start_once(r->pl, r->g, &r->once), OP_OK);
}

/* Let the loop's clock pass as the real one does until the run reports
 * (libcurl keeps its own time; the flow's deadline is on the loop's). */
static void run_wait(struct run *r)
{
    for (int i = 0; i < 5000 && !report_done(&r->rep); i++) {
        nanosleep(&(struct timespec){0, 1000000}, NULL);
        clock_fake_advance(r->clk, 1000000);
        probe_loop_wake(r->pl);
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

static void expect_step(const struct report *rep, size_t i, const char *name, bool success,
                        bool skipped, enum check_reason reason, int status, const char *detail)
{
    const struct check_step *s = &rep->steps[i];
    assert_string_equal(s->name, name);
    assert_int_equal(s->success, success);
    assert_int_equal(s->skipped, skipped);
    assert_int_equal(s->reason, reason);
    assert_int_equal(s->status, status);
    assert_string_equal(s->detail, detail);
}

/* The request the server got i-th: its request line and the header named,
 * or its body. */
static bool got_line(struct server *s, size_t i, const char *line)
{
    pthread_mutex_lock(&s->lock);
    bool ok = i < s->n_reqs && strstr(s->reqs[i], line) != NULL;
    pthread_mutex_unlock(&s->lock);
    return ok;
}

/* How many requests came, and on which connection request i came; under
 * the server's lock (its thread may still run). */
static size_t n_reqs(struct server *s)
{
    pthread_mutex_lock(&s->lock);
    size_t n = s->n_reqs;
    pthread_mutex_unlock(&s->lock);
    return n;
}

static int conn_of(struct server *s, size_t i)
{
    pthread_mutex_lock(&s->lock);
    int c = i < s->n_reqs ? s->conn_of[i] : -1;
    pthread_mutex_unlock(&s->lock);
    return c;
}

#define TOKEN "tok-9f8e7d6c5b4a"

static const char *flow_yaml(int port, const char *extra)
{
    static char y[4096];
    snprintf(y, sizeof(y),
             "checks:\n"
             "  - name: shop\n"
             "    type: flow\n"
             "    timeout: 5s\n"
             "%s"
             "    steps:\n"
             "      - name: login\n"
             "        method: POST\n"
             "        url: http://127.0.0.1:%d/login\n"
             "        body: '{\"user\":\"probe\"}'\n"
             "        expect: {json: [{path: token, exists: true}]}\n"
             "        capture: {token: {json: token}, sid: {header: X-Sid}}\n"
             "      - name: orders\n"
             "        url: http://127.0.0.1:%d/orders?sid=${capture:sid}\n"
             "        headers: {Authorization: 'Bearer ${capture:token}'}\n"
             "      - name: pay\n"
             "        method: POST\n"
             "        url: http://127.0.0.1:%d/pay\n"
             "        body: 't=${capture:token}&x=a b'\n"
             "      - name: logout\n"
             "        method: POST\n"
             "        url: http://127.0.0.1:%d/logout\n"
             "        headers: {Authorization: 'Bearer ${capture:token}'}\n"
             "        always_run: true\n",
             extra, port, port, port, port);
    return y;
}

static const char LOGIN_OK[] = "HTTP/1.1 200 OK\r\nX-Sid: s-77\r\nSet-Cookie: jar=j1; Path=/";
static const char LOGIN_BODY[] = "{\"token\":\"" TOKEN "\"}";
static const char OK[] = "HTTP/1.1 200 OK";

/* Every step passes: captures are sent where the later steps put them,
 * raw, and the run's cookie comes back on every later request. */
static void test_passing_flow(void **state)
{
    (void)state;
    const struct answer script[] = {
        {LOGIN_OK, LOGIN_BODY, false}, {OK, "[]", false}, {OK, "", false}, {OK, "", false}};
    struct server s;
    server_start(&s, script, ARRAY_SIZE(script));
    struct run r;
    run_start(&r, flow_yaml(s.port, ""));
    run_wait(&r);
    const struct check_result *res = &r.rep.res;
    assert_true(res->success);
    assert_int_equal(res->reason, CHECK_REASON_NONE);
    assert_int_equal(res->status, 200);
    assert_string_equal(res->detail, "");
    assert_ptr_equal(res->type, &flow_check_type);
    assert_int_equal(res->n_steps, 4);
    double sum = 0;
    for (size_t i = 0; i < 4; i++) {
        expect_step(&r.rep, i, (const char *[]){"login", "orders", "pay", "logout"}[i], true, false,
                    CHECK_REASON_NONE, 200, "");
        sum += r.rep.steps[i].duration;
    }
    assert_float_equal(res->duration, sum, 1e-9);
    assert_int_equal(n_reqs(&s), 4);
    assert_true(got_line(&s, 0, "POST /login HTTP/1.1\r\n"));
    assert_true(got_line(&s, 0, "\r\n\r\n{\"user\":\"probe\"}"));
    assert_true(got_line(&s, 1, "GET /orders?sid=s-77 HTTP/1.1\r\n"));
    assert_true(got_line(&s, 1, "\r\nAuthorization: Bearer " TOKEN "\r\n"));
    assert_true(got_line(&s, 2, "\r\n\r\nt=" TOKEN "&x=a b"));
    assert_true(got_line(&s, 3, "\r\nAuthorization: Bearer " TOKEN "\r\n"));
    for (size_t i = 1; i < 4; i++)
        assert_true(got_line(&s, i, "\r\nCookie: jar=j1\r\n"));
    /* A fresh connection per step by default. */
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(conn_of(&s, i), (int)i);
    /* The recorder keeps each step's last run. */
    struct rec_step st[4];
    rec_read_steps(gen_rec(r.g, 0), st, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_true(st[i].has_result && st[i].up);
        assert_float_equal(st[i].duration, r.rep.steps[i].duration, 1e-12);
    }
    run_end(&r);
    server_stop(&s);
    /* A second run has a jar of its own: no cookie on its login. */
    server_start(&s, script, ARRAY_SIZE(script));
    run_start(&r, flow_yaml(s.port, ""));
    run_wait(&r);
    assert_true(r.rep.res.success);
    assert_false(got_line(&s, 0, "Cookie:"));
    run_end(&r);
    server_stop(&s);
}

/* A middle step fails: the flow fails with its reason and detail, the
 * next step is skipped, the clean-up runs with the token. */
static void test_failing_middle_step(void **state)
{
    (void)state;
    const struct answer script[] = {
        {LOGIN_OK, LOGIN_BODY, false}, {"HTTP/1.1 401 Unauthorized", "no", false}, {OK, "", false}};
    struct server s;
    server_start(&s, script, ARRAY_SIZE(script));
    struct run r;
    run_start(&r, flow_yaml(s.port, ""));
    run_wait(&r);
    const struct check_result *res = &r.rep.res;
    assert_false(res->success);
    assert_int_equal(res->reason, CHECK_REASON_HTTP_STATUS);
    assert_int_equal(res->status, 401);
    assert_string_equal(res->detail, "step orders: status 401 not in [200-299]");
    expect_step(&r.rep, 0, "login", true, false, CHECK_REASON_NONE, 200, "");
    expect_step(&r.rep, 1, "orders", false, false, CHECK_REASON_HTTP_STATUS, 401,
                "status 401 not in [200-299]");
    expect_step(&r.rep, 2, "pay", false, true, CHECK_REASON_NONE, 0, "not run: step orders failed");
    expect_step(&r.rep, 3, "logout", true, false, CHECK_REASON_NONE, 200, "");
    assert_int_equal(n_reqs(&s), 3);
    assert_true(got_line(&s, 2, "POST /logout HTTP/1.1\r\n"));
    assert_true(got_line(&s, 2, "\r\nAuthorization: Bearer " TOKEN "\r\n"));
    struct rec_step st[4];
    rec_read_steps(gen_rec(r.g, 0), st, 4);
    assert_int_equal(st[1].failures[CHECK_REASON_HTTP_STATUS], 1);
    assert_false(st[1].up);
    assert_true(st[2].has_result && !st[2].up);
    assert_float_equal(st[2].duration, 0, 0);
    for (int k = 0; k < CHECK_REASON_COUNT; k++)
        assert_int_equal(st[2].failures[k], 0); /* skipped is not a failure */
    run_end(&r);
    server_stop(&s);
}

/* A login without its token: the capture fails the step (reason
 * capture); the clean-up that needs the token is not run. A clean-up that
 * fails after every other step passed fails the flow. */
static void test_capture_missing_and_cleanup_failure(void **state)
{
    (void)state;
    const struct answer missing[] = {{LOGIN_OK, "{\"token\":null,\"other\":1}", false}};
    struct server s;
    server_start(&s, missing, ARRAY_SIZE(missing));
    struct run r;
    /* The login's expectation holds (a token key is there); the capture
     * asks for a path that is not. */
    char *y = strdup(flow_yaml(s.port, ""));
    char *p = strstr(y, "{json: token}");
    memcpy(p, "{json: tokn }", 13);
    run_start(&r, y);
    run_wait(&r);
    assert_false(r.rep.res.success);
    assert_int_equal(r.rep.res.reason, CHECK_REASON_CAPTURE);
    assert_string_equal(r.rep.res.detail, "step login: capture token: json tokn missing");
    expect_step(&r.rep, 3, "logout", false, true, CHECK_REASON_NONE, 0,
                "not run: capture token was not taken");
    assert_int_equal(n_reqs(&s), 1);
    run_end(&r);
    server_stop(&s);
    free(y);

    const struct answer cleanup_fails[] = {{LOGIN_OK, LOGIN_BODY, false},
                                           {OK, "", false},
                                           {OK, "", false},
                                           {"HTTP/1.1 503 Service Unavailable", "", false}};
    server_start(&s, cleanup_fails, ARRAY_SIZE(cleanup_fails));
    run_start(&r, flow_yaml(s.port, ""));
    run_wait(&r);
    assert_false(r.rep.res.success);
    assert_int_equal(r.rep.res.reason, CHECK_REASON_HTTP_STATUS);
    assert_string_equal(r.rep.res.detail, "step logout: status 503 not in [200-299]");
    run_end(&r);
    server_stop(&s);
}

/* reuse_connection: every step on the run's one connection. */
static void test_reuse_connection(void **state)
{
    (void)state;
    const struct answer script[] = {
        {LOGIN_OK, LOGIN_BODY, false}, {OK, "[]", false}, {OK, "", false}, {OK, "", false}};
    struct server s;
    server_start(&s, script, ARRAY_SIZE(script));
    struct run r;
    run_start(&r, flow_yaml(s.port, "    reuse_connection: true\n"));
    run_wait(&r);
    assert_true(r.rep.res.success);
    assert_int_equal(n_reqs(&s), 4);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(conn_of(&s, i), 0);
    run_end(&r);
    server_stop(&s);
}

/* The flow's deadline is on the loop's clock and counts from the run's
 * start: a step that ends after it (libcurl's own clock saw a quick
 * answer) leaves no time for the next, which fails with reason timeout;
 * the clean-up does not run either. */
static void test_flow_deadline(void **state)
{
    (void)state;
    const struct answer script[] = {{LOGIN_OK, LOGIN_BODY, true}};
    struct server s;
    server_start(&s, script, ARRAY_SIZE(script));
    struct run r;
    run_start(&r, flow_yaml(s.port, ""));
    for (int i = 0; i < 5000 && !atomic_load(&s.held); i++) {
        nanosleep(&(struct timespec){0, 1000000}, NULL);
        clock_fake_advance(r.clk, 1000000);
        probe_loop_wake(r.pl);
    }
    assert_true(atomic_load(&s.held));
    clock_fake_advance(r.clk, 6 * SEC); /* past the 5 s timeout */
    probe_loop_wake(r.pl);
    atomic_store(&s.go, true);
    run_wait(&r);
    assert_false(r.rep.res.success);
    assert_int_equal(r.rep.res.reason, CHECK_REASON_TIMEOUT);
    assert_string_equal(r.rep.res.detail,
                        "step orders: not run: the flow's timeout (5.000 s) was reached before it");
    expect_step(&r.rep, 0, "login", true, false, CHECK_REASON_NONE, 200, "");
    expect_step(&r.rep, 1, "orders", false, false, CHECK_REASON_TIMEOUT, 0,
                "not run: the flow's timeout (5.000 s) was reached before it");
    expect_step(&r.rep, 2, "pay", false, true, CHECK_REASON_NONE, 0, "not run: step orders failed");
    expect_step(&r.rep, 3, "logout", false, true, CHECK_REASON_NONE, 0,
                "not run: the flow's timeout was reached");
    assert_int_equal(n_reqs(&s), 1);
    run_end(&r);
    server_stop(&s);
}

/* A captured value that cannot go where a step puts it (a line break in
 * a header) fails that step with reason capture, and is never sent. */
static void test_value_refused(void **state)
{
    (void)state;
    const struct answer script[] = {{LOGIN_OK, "{\"token\":\"a\\r\\nX-Evil: 1\"}", false},
                                    {OK, "", false}};
    struct server s;
    server_start(&s, script, ARRAY_SIZE(script));
    struct run r;
    run_start(&r, flow_yaml(s.port, ""));
    run_wait(&r);
    assert_false(r.rep.res.success);
    assert_int_equal(r.rep.res.reason, CHECK_REASON_CAPTURE);
    expect_step(&r.rep, 1, "orders", false, false, CHECK_REASON_CAPTURE, 0,
                "header Authorization with its captures holds a line break: not sent");
    expect_step(&r.rep, 3, "logout", false, false, CHECK_REASON_CAPTURE, 0,
                "header Authorization with its captures holds a line break: not sent");
    assert_int_equal(n_reqs(&s), 1);
    run_end(&r);
    server_stop(&s);
}

/* A reload keeps a flow's recorder (and its step counters) while its steps
 * keep their names and order; a renamed step starts it afresh. */
static void test_reload_keeps_steps(void **state)
{
    (void)state;
    static const char *const yaml[] = {
        "checks:\n  - name: f\n    type: flow\n    steps:\n"
        "      - {name: a, url: 'http://127.0.0.1:1/'}\n      - {name: b, url: "
        "'http://127.0.0.1:1/'}\n",
        "checks:\n  - name: f\n    type: flow\n    interval: 30s\n    steps:\n"
        "      - {name: a, url: 'http://127.0.0.1:2/'}\n      - {name: b, url: "
        "'http://127.0.0.1:2/'}\n",
        "checks:\n  - name: f\n    type: flow\n    steps:\n"
        "      - {name: a, url: 'http://127.0.0.1:1/'}\n      - {name: c, url: "
        "'http://127.0.0.1:1/'}\n",
        "checks:\n  - name: f\n    url: 'http://127.0.0.1:1/'\n",
    };
    struct clock *clk = clock_fake_new(T0_MONO, T0_WALL_MS);
    struct gen *g[4] = {0};
    for (size_t i = 0; i < 4; i++) {
        struct buf err;
        buf_init(&err, 1u << 16);
        struct cfg *c = NULL;
        if (cfg_load_string(yaml[i], strlen(yaml[i]), "flow.yml", &c, &err) != OP_OK)
            fail_msg("config %zu: %s", i, buf_str(&err));
        buf_free(&err);
        g[i] = gen_new(c, i ? g[i - 1] : NULL, NULL, clk);
    }
    assert_int_equal(rec_step_count(gen_rec(g[0], 0)), 2);
    assert_ptr_equal(gen_rec(g[1], 0), gen_rec(g[0], 0));
    assert_ptr_not_equal(gen_rec(g[2], 0), gen_rec(g[1], 0));
    assert_int_equal(rec_step_count(gen_rec(g[3], 0)), 0); /* now an http check */
    for (size_t i = 0; i < 4; i++)
        gen_unref(g[i]);
    clock_fake_free(clk);
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
        cmocka_unit_test(test_passing_flow),
        cmocka_unit_test(test_failing_middle_step),
        cmocka_unit_test(test_capture_missing_and_cleanup_failure),
        cmocka_unit_test(test_reuse_connection),
        cmocka_unit_test(test_flow_deadline),
        cmocka_unit_test(test_value_refused),
        cmocka_unit_test(test_reload_keeps_steps),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
