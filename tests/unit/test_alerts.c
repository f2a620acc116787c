/*
 * test_alerts.c - the alert table and the Alertmanager sender against tiny
 * HTTP servers in this process: batches, startsAt/endsAt, resend, resolve,
 * re-fire, external labels, runbook URLs, failure counting; caps on sizes;
 * no logging under the lock; the schedule (resend, backoff, 15 minutes of
 * resolved alerts) on a fake clock; an Alertmanager that never answers.
 * Waits poll a condition with a deadline; none sleeps to hide a race.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "clock.h"
#include "alerts.h"
#include "buf.h"
#include "config.h"
#include "log.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---- a one-thread HTTP server that records request bodies ---- */

#define MAX_BODIES 64

struct server {
    int fd, port;
    pthread_t thread;
    atomic_bool stop;
    int status; /* answered to every request */
    pthread_mutex_t lock;
    char *bodies[MAX_BODIES];
    size_t n;
};

static void *serve(void *arg)
{
    struct server *s = arg;
    while (!atomic_load(&s->stop)) {
        int c = accept(s->fd, NULL, NULL);
        if (c < 0)
            continue;
        struct buf req;
        buf_init(&req, 1u << 24);
        char chunk[65536];
        size_t want = 0;
        for (;;) {
            ssize_t got = recv(c, chunk, sizeof(chunk), 0);
            if (got <= 0)
                break;
            buf_add(&req, chunk, (size_t)got);
            const char *hdr_end = strstr(buf_str(&req), "\r\n\r\n");
            if (hdr_end && !want) {
                const char *cl = strcasestr(buf_str(&req), "Content-Length:");
                want = (size_t)(hdr_end - req.data) + 4 + (cl ? strtoul(cl + 15, NULL, 10) : 0);
            }
            if (want && req.len >= want)
                break;
        }
        const char *body = strstr(buf_str(&req), "\r\n\r\n");
        pthread_mutex_lock(&s->lock);
        if (body && s->n < MAX_BODIES)
            s->bodies[s->n++] = strdup(body + 4);
        int status = s->status;
        pthread_mutex_unlock(&s->lock);
        char resp[128];
        int len =
            snprintf(resp, sizeof(resp),
                     "HTTP/1.1 %d X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", status);
        if (send(c, resp, (size_t)len, 0) < 0)
            fail_msg("send failed");
        close(c);
        buf_free(&req);
    }
    return NULL;
}

static void server_start(struct server *s, int status)
{
    memset(s, 0, sizeof(*s));
    s->status = status;
    pthread_mutex_init(&s->lock, NULL);
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(s->fd, 16), 0);
    socklen_t l = sizeof(a);
    getsockname(s->fd, (struct sockaddr *)&a, &l);
    s->port = ntohs(a.sin_port);
    /* accept() wakes every 50 ms to see the stop flag. */
    struct timeval tv = {0, 50000};
    setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
}

static void server_stop(struct server *s)
{
    atomic_store(&s->stop, true);
    pthread_join(s->thread, NULL);
    close(s->fd);
    for (size_t i = 0; i < s->n; i++)
        free(s->bodies[i]);
    pthread_mutex_destroy(&s->lock);
}

static size_t bodies(struct server *s)
{
    pthread_mutex_lock(&s->lock);
    size_t n = s->n;
    pthread_mutex_unlock(&s->lock);
    return n;
}

/* Wait (bounded, polling) until the server has seen n bodies. */
static void wait_bodies(struct server *s, size_t n)
{
    for (int i = 0; i < 400 && bodies(s) < n; i++) {
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    assert_true(bodies(s) >= n);
}

static json_t *body_json(struct server *s, size_t i)
{
    json_error_t e;
    pthread_mutex_lock(&s->lock);
    json_t *j = json_loads(s->bodies[i], 0, &e);
    pthread_mutex_unlock(&s->lock);
    assert_non_null(j);
    return j;
}

static struct cfg *load(int port, const char *extra)
{
    struct buf y, err;
    buf_init(&y, 1u << 16);
    buf_init(&err, 1u << 16);
    buf_addf(&y,
             "checks: [{name: a, url: 'http://127.0.0.1:1/'}]\n"
             "alerting:\n"
             "  alertmanagers: ['http://127.0.0.1:%d/prefix/']\n"
             "  resend_interval: 1s\n"
             "  evaluation_interval: 2s\n"
             "  external_labels: {cluster: c1}\n"
             "  runbook_base_url: https://x.example/runbooks.md\n%s",
             port, extra);
    struct cfg *c = NULL;
    if (cfg_load_string(y.data, y.len, "t.yml", &c, &err) != OP_OK)
        fail_msg("%s", buf_str(&err));
    buf_free(&y);
    buf_free(&err);
    return c;
}

static double parse_ts(const char *s)
{
    struct tm tm = {0};
    int ms = 0;
    char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    assert_non_null(end);
    if (*end == '.')
        ms = atoi(end + 1);
    return (double)timegm(&tm) + ms / 1000.0;
}

/* Poll the first Alertmanager's counters until pred holds (bounded). */
static struct alerts_am_stat
wait_stat(struct alerts *a, bool (*pred)(const struct alerts_am_stat *, uint64_t), uint64_t want)
{
    struct alerts_am_stat st = {0};
    for (int i = 0; i < 500; i++) {
        alerts_stats(a, &st, 1);
        alerts_stats_release(&st, 1);
        if (pred(&st, want))
            return st;
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    fail_msg("counters not reached: sent %llu errors %llu, want %llu", (unsigned long long)st.sent,
             (unsigned long long)st.errors, (unsigned long long)want);
    return st;
}

static bool sent_at_least(const struct alerts_am_stat *st, uint64_t n)
{
    return st->sent >= n;
}

static bool errors_at_least(const struct alerts_am_stat *st, uint64_t n)
{
    return st->errors >= n;
}

static void test_rfc3339(void **state)
{
    (void)state;
    char b[48];
    alerts_rfc3339(1767225600.25, b, sizeof(b));
    assert_string_equal(b, "2026-01-01T00:00:00.250Z");
    alerts_rfc3339(0, b, sizeof(b));
    assert_string_equal(b, "1970-01-01T00:00:00.000Z");
}

static void test_fire_resend_resolve(void **state)
{
    (void)state;
    struct server s;
    server_start(&s, 200);
    struct cfg *c = load(s.port, "");
    struct alerts *a = alerts_new(clock_system());
    alerts_configure(a, cfg_alerting(c));
    double t0 = 1767225600;
    alerts_begin(a);
    alerts_fire(a, "OutpostCheckDown", "critical", "check", "api", "S", "D1");
    alerts_end(a, t0);
    assert_int_equal(alerts_firing(a), 1);
    wait_bodies(&s, 1);

    json_t *j = body_json(&s, 0);
    assert_int_equal(json_array_size(j), 1);
    json_t *al = json_array_get(j, 0);
    json_t *labels = json_object_get(al, "labels");
    assert_string_equal(json_string_value(json_object_get(labels, "alertname")),
                        "OutpostCheckDown");
    assert_string_equal(json_string_value(json_object_get(labels, "severity")), "critical");
    assert_string_equal(json_string_value(json_object_get(labels, "check")), "api");
    assert_string_equal(json_string_value(json_object_get(labels, "cluster")), "c1");
    assert_int_equal(json_object_size(labels), 4);
    json_t *ann = json_object_get(al, "annotations");
    assert_string_equal(json_string_value(json_object_get(ann, "summary")), "S");
    assert_string_equal(json_string_value(json_object_get(ann, "description")), "D1");
    assert_string_equal(json_string_value(json_object_get(ann, "runbook_url")),
                        "https://x.example/runbooks.md#outpostcheckdown");
    /* startsAt is the evaluation time; endsAt = now + 4 x max(2 s, 1 s). */
    assert_string_equal(json_string_value(json_object_get(al, "startsAt")),
                        "2026-01-01T00:00:00.000Z");
    double sent = now_wall();
    double ends = parse_ts(json_string_value(json_object_get(al, "endsAt")));
    assert_true(ends > sent + 8 - 2 && ends <= sent + 8 + 0.01);
    json_decref(j);

    /* The next evaluation states it again with new figures: resent within a
     * second (the resend interval), same startsAt, new description. */
    alerts_begin(a);
    alerts_fire(a, "OutpostCheckDown", "critical", "check", "api", "S", "D2");
    alerts_end(a, t0 + 2);
    wait_bodies(&s, 2);
    j = body_json(&s, 1);
    al = json_array_get(j, 0);
    assert_string_equal(json_string_value(json_object_get(al, "startsAt")),
                        "2026-01-01T00:00:00.000Z");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(al, "annotations"), "description")),
        "D2");
    json_decref(j);

    /* Not stated: resolved at once, with endsAt = the resolve time. */
    size_t before = bodies(&s);
    alerts_begin(a);
    alerts_end(a, t0 + 4);
    assert_int_equal(alerts_firing(a), 0);
    wait_bodies(&s, before + 1);
    j = body_json(&s, before);
    al = json_array_get(j, 0);
    assert_string_equal(json_string_value(json_object_get(al, "endsAt")),
                        "2026-01-01T00:00:04.000Z");
    json_decref(j);

    /* Firing again is a new episode with its own startsAt. */
    before = bodies(&s);
    alerts_begin(a);
    alerts_fire(a, "OutpostCheckDown", "critical", "check", "api", "S", "D3");
    alerts_end(a, t0 + 6);
    wait_bodies(&s, before + 1);
    j = body_json(&s, before);
    al = json_array_get(j, 0);
    assert_string_equal(json_string_value(json_object_get(al, "startsAt")),
                        "2026-01-01T00:00:06.000Z");
    json_decref(j);

    /* The server has the bodies; the sender counts a send once it has
     * read the answer, a moment later. */
    wait_stat(a, sent_at_least, 4);
    struct alerts_am_stat st[2];
    assert_int_equal(alerts_stats(a, st, 2), 1);
    char want[64];
    snprintf(want, sizeof(want), "http://127.0.0.1:%d/prefix/", s.port);
    assert_string_equal(st[0].name, want); /* as written; POSTs go to .../prefix/api/v2/alerts */
    assert_true(st[0].sent >= 4);
    assert_int_equal(st[0].errors, 0);
    alerts_stats_release(st, 1);
    alerts_free(a);
    cfg_free(c);
    server_stop(&s);
}

static void test_batches_of_256(void **state)
{
    (void)state;
    struct server s;
    server_start(&s, 200);
    struct cfg *c = load(s.port, "");
    struct alerts *a = alerts_new(clock_system());
    alerts_configure(a, cfg_alerting(c));
    alerts_begin(a);
    for (int i = 0; i < 300; i++) {
        char name[16];
        snprintf(name, sizeof(name), "c%03d", i);
        alerts_fire(a, "OutpostCheckDown", "critical", "check", name, "S", "D");
    }
    alerts_end(a, now_wall());
    wait_bodies(&s, 2);
    json_t *b0 = body_json(&s, 0), *b1 = body_json(&s, 1);
    assert_int_equal(json_array_size(b0), 256);
    assert_int_equal(json_array_size(b1), 44);
    json_decref(b0);
    json_decref(b1);
    alerts_free(a);
    cfg_free(c);
    server_stop(&s);
}

static void test_errors_counted_and_retried(void **state)
{
    (void)state;
    struct server s;
    server_start(&s, 500);
    struct cfg *c = load(s.port, "");
    struct alerts *a = alerts_new(clock_system());
    alerts_configure(a, cfg_alerting(c));
    alerts_begin(a);
    alerts_fire(a, "OutpostCanaryFailed", "warning", "canary", "k", "S", "D");
    alerts_end(a, now_wall());
    /* First try, then a retry after the 1 s backoff. */
    wait_bodies(&s, 2);
    wait_stat(a, errors_at_least, 2); /* counted once the answer is read */
    struct alerts_am_stat st[1];
    alerts_stats(a, st, 1);
    assert_true(st[0].errors >= 2);
    assert_int_equal(st[0].sent, 0);
    alerts_stats_release(st, 1);
    /* Alertmanager answers again: the still-firing alert arrives. */
    pthread_mutex_lock(&s.lock);
    s.status = 200;
    pthread_mutex_unlock(&s.lock);
    for (int i = 0; i < 400; i++) {
        alerts_stats(a, st, 1);
        alerts_stats_release(st, 1);
        if (st[0].sent >= 1)
            break;
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(st[0].sent, 1);
    alerts_free(a);
    cfg_free(c);
    server_stop(&s);
}

/* Fill a buffer with n copies of c (a long but valid string). */
static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* Sizes come from outside (check names, descriptions): an alert whose
 * identity or JSON is over its cap is an error, counted and logged, never
 * cut; everything else still goes out, and big alerts are split over POST
 * bodies of at most ALERTS_BODY_MAX. */
static void test_caps_are_errors(void **state)
{
    (void)state;
    struct server s;
    server_start(&s, 200);
    struct cfg *c = load(s.port, "");
    struct alerts *a = alerts_new(clock_system());
    alerts_configure(a, cfg_alerting(c));
    char *long_key = repeat('k', ALERTS_KEY_MAX);
    char *big_text = repeat('d', ALERTS_ALERT_MAX);
    alerts_begin(a);
    alerts_fire(a, "OutpostCheckDown", "critical", "check", "ok", "S", "D");
    alerts_fire(a, "OutpostCheckDown", "critical", "check", long_key, "S", "D");
    alerts_fire(a, "OutpostCheckDown", "critical", "check", "big", "S", big_text);
    alerts_end(a, now_wall());
    /* The long identity is not taken at all; the big one is in the table
     * but cannot be sent. */
    assert_int_equal(alerts_firing(a), 2);
    struct alerts_am_stat st = wait_stat(a, sent_at_least, 1);
    assert_int_equal(st.sent, 1);
    assert_int_equal(st.errors, 2);
    json_t *j = body_json(&s, 0);
    assert_int_equal(json_array_size(j), 1);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_array_get(j, 0), "labels"), "check")),
                        "ok");
    json_decref(j);
    alerts_free(a);
    cfg_free(c);
    server_stop(&s);
    free(long_key);
    free(big_text);

    /* 100 alerts of 60 KiB each do not fit one body: the batch ends before
     * the alert that would overflow it, the next body carries the rest. */
    server_start(&s, 200);
    c = load(s.port, "");
    a = alerts_new(clock_system());
    alerts_configure(a, cfg_alerting(c));
    char *desc = repeat('x', 60 * 1024);
    alerts_begin(a);
    for (int i = 0; i < 100; i++) {
        char name[16];
        snprintf(name, sizeof(name), "c%03d", i);
        alerts_fire(a, "OutpostCheckDown", "critical", "check", name, "S", desc);
    }
    alerts_end(a, now_wall());
    st = wait_stat(a, sent_at_least, 100);
    assert_int_equal(st.sent, 100);
    assert_int_equal(st.errors, 0);
    size_t total = 0;
    for (size_t i = 0; i < bodies(&s); i++) {
        pthread_mutex_lock(&s.lock);
        assert_true(strlen(s.bodies[i]) <= ALERTS_BODY_MAX);
        pthread_mutex_unlock(&s.lock);
        j = body_json(&s, i);
        total += json_array_size(j);
        json_decref(j);
    }
    assert_true(bodies(&s) >= 2);
    assert_int_equal(total, 100);
    free(desc);
    alerts_free(a);
    cfg_free(c);
    server_stop(&s);
}

/* ---- a log sink that checks the alerts lock is free while logging ---- */

#define MAX_PROBES 64

struct sink {
    struct alerts *a;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t probes[MAX_PROBES];
    size_t n_probes, n_done;
    size_t under_lock; /* lines written while the alerts lock was held */
    char seen[4096];   /* the lines written, for the test to check */
};

/* Take the alerts lock (through alerts_firing) from another thread. */
static void *probe_lock(void *arg)
{
    struct sink *k = arg;
    (void)alerts_firing(k->a);
    pthread_mutex_lock(&k->lock);
    k->n_done++;
    pthread_cond_broadcast(&k->cond);
    pthread_mutex_unlock(&k->lock);
    return NULL;
}

/* fopencookie writer: runs inside log_kv on the logging thread. If the
 * logging thread holds the alerts lock, the probe cannot finish until the
 * line is written, so waiting 500 ms for it tells the two cases apart. */
static ssize_t sink_write(void *cookie, const char *data, size_t n)
{
    struct sink *k = cookie;
    pthread_mutex_lock(&k->lock);
    size_t used = strlen(k->seen);
    if (used + n < sizeof(k->seen)) {
        memcpy(k->seen + used, data, n);
        k->seen[used + n] = '\0';
    }
    if (k->n_probes == MAX_PROBES) {
        pthread_mutex_unlock(&k->lock);
        return (ssize_t)n;
    }
    size_t want = k->n_probes + 1;
    if (pthread_create(&k->probes[k->n_probes], NULL, probe_lock, k) != 0)
        fail_msg("pthread_create");
    k->n_probes++;
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_nsec += 500000000;
    if (dl.tv_nsec >= 1000000000) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000;
    }
    int rc = 0;
    while (k->n_done < want && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&k->cond, &k->lock, &dl);
    if (k->n_done < want)
        k->under_lock++;
    pthread_mutex_unlock(&k->lock);
    return (ssize_t)n;
}

/* Nothing is logged with the alerts lock held: a slow log stream (a full
 * pipe to a log shipper) must not stall evaluations, scrapes and reloads. */
static void test_no_logging_under_lock(void **state)
{
    (void)state;
    struct server s;
    server_start(&s, 500);
    struct cfg *c = load(s.port, "");
    struct sink k = {0};
    pthread_mutex_init(&k.lock, NULL);
    pthread_cond_init(&k.cond, NULL);
    cookie_io_functions_t io = {.write = sink_write};
    FILE *f = fopencookie(&k, "w", io);
    assert_non_null(f);
    struct alerts *a = alerts_new(clock_system());
    k.a = a;
    /* Before the sender thread exists: log_setup is not thread-safe. */
    log_setup(LOG_LVL_INFO, LOG_FMT_LOGFMT, f);
    alerts_configure(a, cfg_alerting(c));
    alerts_begin(a);
    alerts_fire(a, "OutpostCheckDown", "critical", "check", "api", "S", "D");
    char *long_key = repeat('k', ALERTS_KEY_MAX);
    alerts_fire(a, "OutpostCheckDown", "critical", "check", long_key, "S", "D");
    free(long_key);
    alerts_end(a, now_wall());
    wait_bodies(&s, 1); /* answered 500: "sending alerts failed" */
    alerts_begin(a);
    alerts_end(a, now_wall()); /* "alert resolved" */
    wait_bodies(&s, 2);
    alerts_stop(a, 0);
    log_setup(LOG_LVL_INFO, LOG_FMT_LOGFMT, NULL);
    for (size_t i = 0; i < k.n_probes; i++)
        pthread_join(k.probes[i], NULL);
    alerts_free(a);
    fclose(f);
    assert_non_null(strstr(k.seen, "msg=\"alert firing\""));
    assert_non_null(strstr(k.seen, "msg=\"alert resolved\""));
    assert_non_null(strstr(k.seen, "msg=\"sending alerts failed"));
    assert_non_null(strstr(k.seen, "over the cap"));
    assert_int_equal(k.under_lock, 0);
    pthread_mutex_destroy(&k.lock);
    pthread_cond_destroy(&k.cond);
    cfg_free(c);
    server_stop(&s);
}

/* A config from YAML text (printf-style); caller frees with cfg_free. */
static struct cfg *load_yaml(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static struct cfg *load_yaml(const char *fmt, ...)
{
    struct buf y, err;
    buf_init(&y, 1u << 16);
    buf_init(&err, 1u << 16);
    va_list ap;
    va_start(ap, fmt);
    buf_vaddf(&y, fmt, ap);
    va_end(ap);
    struct cfg *c = NULL;
    if (cfg_load_string(y.data, y.len, "t.yml", &c, &err) != OP_OK)
        fail_msg("%s", buf_str(&err));
    buf_free(&y);
    buf_free(&err);
    return c;
}

/* endsAt of the only alert in body i. */
static double body_ends(struct server *s, size_t i)
{
    json_t *j = body_json(s, i);
    assert_int_equal(json_array_size(j), 1);
    double t = parse_ts(json_string_value(json_object_get(json_array_get(j, 0), "endsAt")));
    json_decref(j);
    return t;
}

#define T0_MS INT64_C(1767225600000) /* 2026-01-01T00:00:00Z */
#define S_NS INT64_C(1000000000)
#define MS_NS INT64_C(1000000)

/*
 * The schedule runs on the injected clock, and only on it: with a fake
 * clock the resend happens when the clock reaches the resend interval, not
 * a millisecond before, and a failing Alertmanager is retried after exactly
 * 1, 2, 4, 8, 16, 30, 30 s. Each POST's endsAt is (fake) send time + 4 x
 * max(evaluation, resend) = + 240 s, so the bodies show when each was made.
 */
static void test_fake_clock_resend_and_backoff(void **state)
{
    (void)state;
#define FAKE_YAML                                                                                  \
    "alerting:\n"                                                                                  \
    "  alertmanagers: ['http://127.0.0.1:%d']\n"                                                   \
    "  resend_interval: 1m\n"                                                                      \
    "  evaluation_interval: 10s\n"
    struct server s;
    server_start(&s, 200);
    struct cfg *c = load_yaml(FAKE_YAML, s.port);
    struct clock *fk = clock_fake_new(1000 * S_NS, T0_MS);
    struct alerts *a = alerts_new(fk);
    alerts_configure(a, cfg_alerting(c));
    double t0 = clock_wall(fk);
    alerts_begin(a);
    alerts_fire(a, "OutpostCheckDown", "critical", "check", "api", "S", "D");
    alerts_end(a, t0);
    wait_stat(a, sent_at_least, 1);
    assert_true(body_ends(&s, 0) == t0 + 240);
    for (int k = 1; k <= 3; k++) {
        /* 1 ms before the resend is due: the sender looks, sends nothing. */
        clock_fake_advance(fk, 60 * S_NS - MS_NS);
        alerts_wake(a);
        clock_fake_advance(fk, MS_NS);
        alerts_wake(a);
        wait_stat(a, sent_at_least, (uint64_t)k + 1);
        assert_int_equal(bodies(&s), k + 1);
        /* Made at t0 + 60 k exactly, not at t0 + 60 k - 0.001. */
        assert_true(body_ends(&s, (size_t)k) == t0 + 60 * k + 240);
    }
    alerts_free(a);
    clock_fake_free(fk);
    cfg_free(c);
    server_stop(&s);

    server_start(&s, 500);
    c = load_yaml(FAKE_YAML, s.port);
    fk = clock_fake_new(1000 * S_NS, T0_MS);
    a = alerts_new(fk);
    alerts_configure(a, cfg_alerting(c));
    alerts_begin(a);
    alerts_fire(a, "OutpostCheckDown", "critical", "check", "api", "S", "D");
    alerts_end(a, t0);
    wait_stat(a, errors_at_least, 1);
    static const int backoff_s[] = {1, 2, 4, 8, 16, 30, 30};
    double sent_at = t0;
    for (size_t k = 0; k < ARRAY_SIZE(backoff_s); k++) {
        clock_fake_advance(fk, backoff_s[k] * S_NS - MS_NS);
        alerts_wake(a);
        clock_fake_advance(fk, MS_NS);
        alerts_wake(a);
        wait_stat(a, errors_at_least, k + 2);
        assert_int_equal(bodies(&s), k + 2);
        double made = body_ends(&s, k + 1) - 240;
        assert_true(made - sent_at == backoff_s[k]);
        sent_at = made;
    }
    struct alerts_am_stat st;
    alerts_stats(a, &st, 1);
    assert_int_equal(st.errors, ARRAY_SIZE(backoff_s) + 1);
    assert_int_equal(st.sent, 0);
    alerts_stats_release(&st, 1);
    alerts_free(a);
    clock_fake_free(fk);
    cfg_free(c);
    server_stop(&s);
}

/* Labels "check" of every alert in body i, comma-separated, into out. */
static void body_checks(struct server *s, size_t i, char *out, size_t cap)
{
    json_t *j = body_json(s, i);
    out[0] = '\0';
    for (size_t k = 0; k < json_array_size(j); k++) {
        const char *v = json_string_value(
            json_object_get(json_object_get(json_array_get(j, k), "labels"), "check"));
        size_t used = strlen(out);
        snprintf(out + used, cap - used, "%s%s", k ? "," : "", v);
    }
    json_decref(j);
}

/* A resolved alert is re-sent each resend interval for 15 minutes of the
 * injected clock, with endsAt = the resolve time, and then dropped. */
static void test_resolved_resent_15_minutes(void **state)
{
    (void)state;
    struct server s;
    server_start(&s, 200);
    struct cfg *c = load_yaml("alerting:\n"
                              "  alertmanagers: ['http://127.0.0.1:%d']\n"
                              "  resend_interval: 1m\n"
                              "  evaluation_interval: 10s\n",
                              s.port);
    struct clock *fk = clock_fake_new(1000 * S_NS, T0_MS);
    struct alerts *a = alerts_new(fk);
    alerts_configure(a, cfg_alerting(c));
    alerts_begin(a);
    alerts_fire(a, "OutpostCheckDown", "critical", "check", "x", "S", "D");
    alerts_end(a, clock_wall(fk));
    wait_stat(a, sent_at_least, 1);

    clock_fake_advance(fk, 10 * S_NS);
    double resolved = clock_wall(fk);
    alerts_begin(a);
    alerts_end(a, resolved);
    wait_stat(a, sent_at_least, 2);
    assert_true(body_ends(&s, 1) == resolved);

    /* Re-sent at 1, 2, ... 15 minutes after resolving: one POST a step. */
    for (int k = 1; k <= 15; k++) {
        clock_fake_advance(fk, 60 * S_NS);
        alerts_begin(a);
        alerts_end(a, clock_wall(fk));
        wait_stat(a, sent_at_least, (uint64_t)k + 2);
        assert_int_equal(bodies(&s), k + 2);
        assert_true(body_ends(&s, (size_t)k + 1) == resolved);
    }
    /* 16 minutes: dropped. Another alert fires in that evaluation; its
     * POST would carry x too if x were still due. */
    clock_fake_advance(fk, 60 * S_NS);
    alerts_begin(a);
    alerts_fire(a, "OutpostCheckDown", "critical", "check", "y", "S", "D");
    alerts_end(a, clock_wall(fk));
    wait_stat(a, sent_at_least, 18);
    char checks[256];
    body_checks(&s, 17, checks, sizeof(checks));
    assert_string_equal(checks, "y");
    /* And a minute later only y is re-sent. */
    clock_fake_advance(fk, 60 * S_NS);
    alerts_begin(a);
    alerts_fire(a, "OutpostCheckDown", "critical", "check", "y", "S", "D");
    alerts_end(a, clock_wall(fk));
    wait_stat(a, sent_at_least, 19);
    assert_int_equal(bodies(&s), 19);
    body_checks(&s, 18, checks, sizeof(checks));
    assert_string_equal(checks, "y");
    alerts_free(a);
    clock_fake_free(fk);
    cfg_free(c);
    server_stop(&s);
}

/* ---- an Alertmanager that accepts connections and never answers ---- */

#define MAX_HUNG 16

struct hung {
    int fd, port;
    pthread_t thread;
    atomic_bool stop;
    atomic_int accepted;
    int conns[MAX_HUNG];
};

static void *hang(void *arg)
{
    struct hung *h = arg;
    while (!atomic_load(&h->stop)) {
        int c = accept(h->fd, NULL, NULL);
        if (c < 0)
            continue;
        int i = atomic_load(&h->accepted);
        if (i < MAX_HUNG) {
            h->conns[i] = c; /* kept open, never read */
            atomic_store(&h->accepted, i + 1);
        } else {
            close(c);
        }
    }
    return NULL;
}

static void hung_start(struct hung *h)
{
    memset(h, 0, sizeof(*h));
    h->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(h->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(h->fd, 16), 0);
    socklen_t l = sizeof(a);
    getsockname(h->fd, (struct sockaddr *)&a, &l);
    h->port = ntohs(a.sin_port);
    struct timeval tv = {0, 50000}; /* accept() wakes to see the stop flag */
    setsockopt(h->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    assert_int_equal(pthread_create(&h->thread, NULL, hang, h), 0);
}

static void hung_stop(struct hung *h)
{
    atomic_store(&h->stop, true);
    pthread_join(h->thread, NULL);
    for (int i = 0; i < atomic_load(&h->accepted); i++)
        close(h->conns[i]);
    close(h->fd);
}

/* Wait (bounded, polling) until h has accepted n connections. */
static void wait_accepted(struct hung *h, int n)
{
    for (int i = 0; i < 500 && atomic_load(&h->accepted) < n; i++) {
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    assert_true(atomic_load(&h->accepted) >= n);
}

/* Entries in a /proc/self directory (fds, threads), but . and .. */
static int count_dir(const char *path)
{
    DIR *d = opendir(path);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n - (strcmp(path, "/proc/self/fd") == 0); /* opendir's own fd */
}

/*
 * With a POST in flight to an Alertmanager that never answers, a reload
 * returns at once (it used to wait up to the 10 s timeout) and the sender
 * goes on with the new Alertmanagers; stopping returns within its drain
 * time; nothing (thread, socket) is left behind.
 */
static void test_hung_alertmanager(void **state)
{
    (void)state;
    const struct clock *real = clock_system();
    int fds0 = count_dir("/proc/self/fd"), threads0 = count_dir("/proc/self/task");
    struct hung h;
    hung_start(&h);
    struct server s;
    server_start(&s, 200);
    struct cfg *c1 = load_yaml("alerting:\n  alertmanagers: ['http://127.0.0.1:%d']\n", h.port);
    struct cfg *c2 = load_yaml("alerting:\n"
                               "  alertmanagers: ['http://127.0.0.1:%d/other',"
                               " 'http://127.0.0.1:%d']\n",
                               h.port, s.port);
    struct alerts *a = alerts_new(real);
    alerts_configure(a, cfg_alerting(c1));
    alerts_begin(a);
    alerts_fire(a, "OutpostCheckDown", "critical", "check", "api", "S", "D");
    alerts_end(a, now_wall());
    wait_accepted(&h, 1); /* the POST is in flight and will stay so */

    int64_t t = clock_mono_ns(real);
    alerts_configure(a, cfg_alerting(c2));
    double took_configure = (double)(clock_mono_ns(real) - t) / 1e9;
    print_message("alerts_configure with a POST in flight: %.3f s\n", took_configure);
    assert_true(took_configure < 1.0);
    /* The new settings are in use: both new Alertmanagers get the alert. */
    wait_bodies(&s, 1);
    wait_accepted(&h, 2);

    /* A change that stays dirty for the hung one: draining waits for it,
     * up to the deadline, then gives up. */
    alerts_begin(a);
    alerts_fire(a, "OutpostCheckDown", "critical", "check", "web", "S", "D");
    alerts_end(a, now_wall());
    t = clock_mono_ns(real);
    alerts_stop(a, 500);
    double took_stop = (double)(clock_mono_ns(real) - t) / 1e9;
    print_message("alerts_stop(500) with a POST in flight: %.3f s\n", took_stop);
    assert_true(took_stop < 1.0);
    struct alerts_am_stat st[2];
    assert_int_equal(alerts_stats(a, st, 2), 2);
    assert_true(st[1].sent >= 1);
    assert_int_equal(st[0].sent, 0);
    alerts_stats_release(st, 2);
    alerts_free(a);
    cfg_free(c1);
    cfg_free(c2);
    server_stop(&s);
    hung_stop(&h);
    assert_int_equal(count_dir("/proc/self/fd"), fds0);
    assert_int_equal(count_dir("/proc/self/task"), threads0);
}

/* Sent count of Alertmanager i once it reaches want (bounded poll). */
static uint64_t wait_sent(struct alerts *a, size_t i, uint64_t want)
{
    struct alerts_am_stat st[CFG_MAX_ALERTMANAGERS];
    uint64_t sent = 0;
    for (int k = 0; k < 500 && sent < want; k++) {
        if (k) {
            struct timespec ts = {0, 10000000};
            nanosleep(&ts, NULL);
        }
        size_t n = alerts_stats(a, st, CFG_MAX_ALERTMANAGERS);
        assert_true(i < n);
        sent = st[i].sent;
        alerts_stats_release(st, n);
    }
    assert_true(sent >= want);
    return sent;
}

/* Counters follow an Alertmanager across reloads by its name, wherever it
 * moves in the list, and every alert goes again to every Alertmanager. */
static void test_counters_follow_reload(void **state)
{
    (void)state;
    struct server s1, s2;
    server_start(&s1, 200);
    server_start(&s2, 200);
    struct cfg *c1 = load_yaml("alerting:\n  alertmanagers: ['http://127.0.0.1:%d']\n", s1.port);
    struct cfg *c2 = load_yaml("alerting:\n"
                               "  alertmanagers: ['http://127.0.0.1:%d', 'http://127.0.0.1:%d']\n",
                               s2.port, s1.port);
    struct alerts *a = alerts_new(clock_system());
    alerts_configure(a, cfg_alerting(c1));
    alerts_begin(a);
    alerts_fire(a, "OutpostCheckDown", "critical", "check", "api", "S", "D");
    alerts_end(a, now_wall());
    wait_sent(a, 0, 1);
    alerts_configure(a, cfg_alerting(c2));
    /* s1 is second now: its count goes on from 1 (the alert is re-sent). */
    assert_true(wait_sent(a, 1, 2) >= 2);
    wait_sent(a, 0, 1);
    assert_int_equal(bodies(&s1), 2);
    struct alerts_am_stat st[2];
    assert_int_equal(alerts_stats(a, st, 2), 2);
    char want[64];
    snprintf(want, sizeof(want), "http://127.0.0.1:%d", s1.port);
    assert_string_equal(st[1].name, want);
    assert_int_equal(st[1].sent, 2);
    assert_int_equal(st[0].sent, 1);
    alerts_stats_release(st, 2);
    alerts_free(a);
    cfg_free(c1);
    cfg_free(c2);
    server_stop(&s1);
    server_stop(&s2);
}

/* An Alertmanager keeps its whole name in the stats, however long. */
static void test_long_alertmanager_name(void **state)
{
    (void)state;
    struct buf url;
    buf_init(&url, 4096);
    buf_adds(&url, "http://127.0.0.1:1/");
    while (url.len < 2000)
        buf_addc(&url, 'p');
    struct buf y, err;
    buf_init(&y, 1u << 16);
    buf_init(&err, 1u << 16);
    buf_addf(&y, "alerting:\n  alertmanagers: ['%s']\n", buf_str(&url));
    struct cfg *c = NULL;
    if (cfg_load_string(y.data, y.len, "t.yml", &c, &err) != OP_OK)
        fail_msg("%s", buf_str(&err));
    struct alerts *a = alerts_new(clock_system());
    alerts_configure(a, cfg_alerting(c));
    struct alerts_am_stat st[1];
    assert_int_equal(alerts_stats(a, st, 1), 1);
    assert_int_equal(strlen(st[0].name), 2000);
    assert_string_equal(st[0].name, buf_str(&url));
    alerts_stats_release(st, 1);
    alerts_free(a);
    cfg_free(c);
    buf_free(&url);
    buf_free(&y);
    buf_free(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc3339),
        cmocka_unit_test(test_fire_resend_resolve),
        cmocka_unit_test(test_batches_of_256),
        cmocka_unit_test(test_errors_counted_and_retried),
        cmocka_unit_test(test_long_alertmanager_name),
        cmocka_unit_test(test_caps_are_errors),
        cmocka_unit_test(test_no_logging_under_lock),
        cmocka_unit_test(test_fake_clock_resend_and_backoff),
        cmocka_unit_test(test_resolved_resent_15_minutes),
        cmocka_unit_test(test_hung_alertmanager),
        cmocka_unit_test(test_counters_follow_reload),
    };
    /* As the agent does (http_check_global_init) before any alerts exist. */
    if (curl_global_init(CURL_GLOBAL_ALL) != CURLE_OK)
        return 1;
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
