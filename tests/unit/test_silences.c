/*
 * test_silences.c - the silences module against a real Alertmanager
 * (/usr/bin/prometheus-alertmanager, started by the group setup on a free
 * loopback port with a route prefix, killed with its process group by the
 * group teardown): one silence per key with our matchers, times and
 * comment; idempotent wants; a restarted agent reusing its silence; drop,
 * change and end; the drain on stop; an Alertmanager that comes up late
 * (backoff on a fake clock). Then hostile answers from a tiny server in
 * this process: garbage, 500, a body over the cap, wrong shapes, no
 * answer at all. Waits poll a condition with a deadline.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "buf.h"
#include "clock.h"
#include "config.h"
#include "silences.h"
#include "silences_int.h"
#include "test_util.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define AM_BIN "/usr/bin/prometheus-alertmanager"
#define S_NS INT64_C(1000000000)
#define MS_NS INT64_C(1000000)

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* A loopback port nobody listens on (bound, read, closed). */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    socklen_t l = sizeof(a);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &l), 0);
    close(fd);
    return ntohs(a.sin_port);
}

/* ---- HTTP from the test (libcurl easy, blocking) ---- */

static size_t collect(char *p, size_t s, size_t n, void *u)
{
    return buf_add(u, p, s * n) == OP_OK ? s * n : 0;
}

/* GET url: the status (0 when no answer), the body into b. */
static long http_get(const char *url, struct buf *b)
{
    CURL *e = curl_easy_init();
    buf_reset(b);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 2000L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, b);
    long status = 0;
    if (curl_easy_perform(e) == CURLE_OK)
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(e);
    return status;
}

/* ---- the real Alertmanager ---- */

struct am {
    pid_t pid;
    int port;
    char base[128]; /* with the route prefix */
};

/* Killed by the group teardown, also after a failed test. */
static struct am am_main, am_late;

/* Start Alertmanager on port with data under dir (made here), route
 * prefix /am, and wait (up to 20 s) until it is ready. Its own process
 * group, killed with it; it dies with this process too. */
static void am_start(struct am *m, int port, const char *dir)
{
    char yml[600], storage[512], listen[64], log_path[600];
    snprintf(storage, sizeof(storage), "%s/%s", tu_tmpdir(), dir);
    snprintf(yml, sizeof(yml), "%s/am.yml", storage);
    snprintf(log_path, sizeof(log_path), "%s/am.log", storage);
    snprintf(listen, sizeof(listen), "--web.listen-address=127.0.0.1:%d", port);
    assert_int_equal(mkdir(storage, 0700), 0);
    FILE *f = fopen(yml, "w");
    assert_non_null(f);
    fputs("route:\n  receiver: none\nreceivers:\n  - name: none\n", f);
    fclose(f);
    char a_cfg[700], a_storage[700];
    snprintf(a_cfg, sizeof(a_cfg), "--config.file=%s", yml);
    snprintf(a_storage, sizeof(a_storage), "--storage.path=%s", storage);
    char *argv[] = {
        AM_BIN, a_cfg, a_storage, listen, "--cluster.listen-address=", "--web.route-prefix=/am",
        NULL};
    pid_t parent = getpid();
    m->port = port;
    snprintf(m->base, sizeof(m->base), "http://127.0.0.1:%d/am", port);
    m->pid = fork();
    assert_true(m->pid >= 0);
    if (m->pid == 0) {
        /* Only async-signal-safe calls: the parent may have threads. */
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execv(AM_BIN, argv);
        _exit(127);
    }
    setpgid(m->pid, m->pid); /* also here: no race with the kill below */
    char url[256];
    snprintf(url, sizeof(url), "%s/-/ready", m->base);
    struct buf b;
    buf_init(&b, 1 << 16);
    long st = 0;
    for (int i = 0; i < 2000 && st != 200; i++) {
        int wst;
        if (waitpid(m->pid, &wst, WNOHANG) == m->pid) {
            m->pid = 0;
            fail_msg("Alertmanager exited at start: see %s (" AM_BIN " installed?)", log_path);
        }
        st = http_get(url, &b);
        if (st != 200)
            sleep_ms(10);
    }
    buf_free(&b);
    if (st != 200)
        fail_msg("Alertmanager not ready within 20 s: see %s", log_path);
}

/* Kill the process group and reap it; no-op when not running. */
static void am_kill(struct am *m)
{
    if (m->pid <= 0)
        return;
    kill(-m->pid, SIGTERM);
    for (int i = 0; i < 500; i++) {
        if (waitpid(m->pid, NULL, WNOHANG) == m->pid) {
            m->pid = 0;
            return;
        }
        sleep_ms(10);
    }
    kill(-m->pid, SIGKILL);
    waitpid(m->pid, NULL, 0);
    m->pid = 0;
}

static int group_setup(void **state)
{
    if (tu_tmpdir_setup(state) != 0)
        return -1;
    am_start(&am_main, free_port(), "am-main");
    return 0;
}

static int group_teardown(void **state)
{
    am_kill(&am_main);
    am_kill(&am_late);
    return tu_tmpdir_teardown(state);
}

/* The silences of m with this comment (NULL: every one), as a new array. */
static json_t *am_silences(const struct am *m, const char *comment)
{
    char url[256];
    snprintf(url, sizeof(url), "%s/api/v2/silences", m->base);
    struct buf b;
    buf_init(&b, 1u << 24);
    assert_int_equal(http_get(url, &b), 200);
    json_error_t je;
    json_t *all = json_loads(buf_str(&b), 0, &je);
    buf_free(&b);
    assert_non_null(all);
    json_t *out = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(all, i, v)
    {
        const char *c = json_string_value(json_object_get(v, "comment"));
        if (!comment || (c && strcmp(c, comment) == 0))
            json_array_append(out, v);
    }
    json_decref(all);
    return out;
}

static const char *sil_state(const json_t *v)
{
    return json_string_value(json_object_get(json_object_get(v, "status"), "state"));
}

/* How many of m's silences with comment are in state (NULL: not expired). */
static size_t am_count(const struct am *m, const char *comment, const char *state)
{
    json_t *a = am_silences(m, comment);
    size_t n = 0, i;
    json_t *v;
    json_array_foreach(a, i, v)
    {
        const char *st = sil_state(v);
        if (state ? strcmp(st, state) == 0 : strcmp(st, "expired") != 0)
            n++;
    }
    json_decref(a);
    return n;
}

/* Poll (up to 10 s) until m has want silences with comment in state. */
static void wait_count(const struct am *m, const char *comment, const char *state, size_t want)
{
    size_t n = 0;
    for (int i = 0; i < 1000; i++) {
        if ((n = am_count(m, comment, state)) == want)
            return;
        sleep_ms(10);
    }
    fail_msg("%zu silences '%s' in state %s, want %zu", n, comment, state ? state : "!expired",
             want);
}

/* The first Alertmanager's counters. */
static struct silences_am_stat stat0(struct silences *s)
{
    struct silences_am_stat st = {0};
    assert_true(silences_stats(s, &st, 1) >= 1);
    silences_stats_release(&st, 1);
    return st;
}

enum counter { C_CREATED, C_EXPIRED, C_ERRORS };

static uint64_t counter(struct silences *s, enum counter c)
{
    struct silences_am_stat st = stat0(s);
    return c == C_CREATED ? st.created : c == C_EXPIRED ? st.expired : st.errors;
}

/* Poll (up to 10 s) until the counter reaches at least want. */
static void wait_counter(struct silences *s, enum counter c, uint64_t want)
{
    for (int i = 0; i < 1000 && counter(s, c) < want; i++)
        sleep_ms(10);
    assert_true(counter(s, c) >= want);
}

/* The silence ID key holds for Alertmanager i, copied ("" when none),
 * read through the module's internals. */
static void slot_id_of(struct silences *s, const char *key, size_t i, char *out, size_t cap)
{
    pthread_mutex_lock(&s->lock);
    struct sil_want *w = sil_find(s, key);
    snprintf(out, cap, "%s", w && w->slot[i].id ? w->slot[i].id : "");
    pthread_mutex_unlock(&s->lock);
}

static void slot_id(struct silences *s, const char *key, char *out, size_t cap)
{
    slot_id_of(s, key, 0, out, cap);
}

static struct cfg *load_am(const char *url)
{
    struct buf y, err;
    buf_init(&y, 1u << 16);
    buf_init(&err, 1u << 16);
    /* The trailing slash goes, the prefix stays: as for the alert sender. */
    buf_addf(&y, "alerting:\n  alertmanagers: ['%s/']\n", url);
    struct cfg *c = NULL;
    if (cfg_load_string(y.data, y.len, "t.yml", &c, &err) != OP_OK)
        fail_msg("%s", buf_str(&err));
    buf_free(&y);
    buf_free(&err);
    return c;
}

static const struct silence_matcher M2[] = {
    {.name = "instance", .value = "db-1:9100", .is_regex = false},
    {.name = "alertname", .value = "Outpost.*|Disk \"full\"", .is_regex = true},
};

/* Whole seconds (Alertmanager keeps milliseconds; ours are whole). */
static double t_of(const json_t *v, const char *k)
{
    double t = 0;
    assert_true(sil_parse_time(json_string_value(json_object_get(v, k)), &t));
    return t;
}

/* ---- pure pieces ---- */

static void test_parse_time(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        bool ok;
        double want;
    } cases[] = {
        {"2026-12-01T06:39:28.000Z", true, 1796107168.0},
        {"2026-12-01T06:39:28Z", true, 1796107168.0},
        {"2026-12-01T06:39:28.5Z", true, 1796107168.5},
        {"2026-12-01T08:39:28+02:00", true, 1796107168.0},
        {"2026-12-01T05:39:28.25-01:00", true, 1796107168.25},
        {"2026-12-01 06:39:28Z", false, 0},
        {"2026-13-01T06:39:28Z", false, 0},
        {"2026-12-01T06:39:28", false, 0},
        {"2026-12-01T06:39:28.Z", false, 0},
        {"2026-12-01T06:39:28Zjunk", false, 0},
        {"2026-12-01T06:39", false, 0},
        {"", false, 0},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        double t = -1;
        bool ok = sil_parse_time(cases[i].in, &t);
        if (ok != cases[i].ok)
            fail_msg("%s: ok %d", cases[i].in, ok);
        if (ok && fabs(t - cases[i].want) > 1e-6)
            fail_msg("%s: %.6f, want %.6f", cases[i].in, t, cases[i].want);
    }
}

/* What the list keeps (ours, active or pending, well formed) and what
 * breaks it (not JSON, not an array); answers to a POST. */
static void test_parse_answers(void **state)
{
    (void)state;
    const char *list =
        "[1, null, \"x\", {},"
        "{\"id\":\"a-1\",\"status\":{\"state\":\"active\"},\"createdBy\":\"outpost\","
        "\"comment\":\"c\",\"startsAt\":\"2026-12-01T06:00:00.000Z\","
        "\"endsAt\":\"2026-12-01T07:00:00.000Z\",\"matchers\":[{\"name\":\"n\",\"value\":\"v\","
        "\"isRegex\":false}]},"
        "{\"id\":\"b-2\",\"status\":{\"state\":\"expired\"},\"createdBy\":\"outpost\","
        "\"comment\":\"c\",\"startsAt\":\"2026-12-01T06:00:00Z\","
        "\"endsAt\":\"2026-12-01T07:00:00Z\",\"matchers\":[{\"name\":\"n\",\"value\":\"v\","
        "\"isRegex\":false,\"isEqual\":true}]},"
        "{\"id\":\"c-3\",\"status\":{\"state\":\"pending\"},\"createdBy\":\"someone\","
        "\"comment\":\"c\",\"startsAt\":\"2026-12-01T06:00:00Z\","
        "\"endsAt\":\"2026-12-01T07:00:00Z\",\"matchers\":[{\"name\":\"n\",\"value\":\"v\","
        "\"isRegex\":false}]},"
        "{\"id\":\"../../x\",\"status\":{\"state\":\"active\"},\"createdBy\":\"outpost\","
        "\"comment\":\"c\",\"startsAt\":\"2026-12-01T06:00:00Z\","
        "\"endsAt\":\"2026-12-01T07:00:00Z\",\"matchers\":[{\"name\":\"n\",\"value\":\"v\","
        "\"isRegex\":false}]},"
        "{\"id\":\"d-4\",\"status\":{\"state\":\"pending\"},\"createdBy\":\"outpost\","
        "\"comment\":\"c\",\"startsAt\":\"soon\","
        "\"endsAt\":\"2026-12-01T07:00:00Z\",\"matchers\":[{\"name\":\"n\",\"value\":\"v\","
        "\"isRegex\":false}]},"
        "{\"id\":\"e-5\",\"status\":{\"state\":\"pending\"},\"createdBy\":\"outpost\","
        "\"comment\":\"c\",\"startsAt\":\"2026-12-01T06:00:00Z\","
        "\"endsAt\":\"2026-12-01T07:00:00Z\",\"matchers\":[{\"name\":\"n\",\"value\":1,"
        "\"isRegex\":false}]}]";
    struct buf err;
    buf_init(&err, 4096);
    struct sil_cand *c = NULL;
    size_t n = 99;
    assert_int_equal(sil_parse_list(list, strlen(list), &c, &n, &err), OP_OK);
    assert_int_equal(n, 1);
    assert_string_equal(c[0].id, "a-1");
    assert_true(c[0].m[0].is_equal); /* absent isEqual: = (before Alertmanager 0.22) */
    assert_false(c[0].pending);
    assert_true(c[0].ends - c[0].starts == 3600.0);
    sil_list_free(c, n);

    static const char *const bad[] = {"", "<html>", "{\"a\":1}", "[1,2", "null"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        buf_reset(&err);
        assert_int_equal(sil_parse_list(bad[i], strlen(bad[i]), &c, &n, &err), OP_ERR_INVALID);
        assert_null(c);
        assert_int_equal(n, 0);
        assert_true(strstr(buf_str(&err), "the list of silences is not") != NULL);
    }
    char *id = NULL;
    static const char *const bad_created[] = {"{}", "{\"silenceID\":\"a/b\"}", "{\"silenceID\":5}",
                                              "oops", "{\"silenceID\":\"\"}"};
    for (size_t i = 0; i < ARRAY_SIZE(bad_created); i++) {
        buf_reset(&err);
        assert_int_equal(sil_parse_created(bad_created[i], strlen(bad_created[i]), &id, &err),
                         OP_ERR_INVALID);
        assert_null(id);
        assert_true(err.len > 0);
    }
    const char *good = "{\"silenceID\":\"30381c72-fb56-440e-95f1-50832b3c711d\"}";
    assert_int_equal(sil_parse_created(good, strlen(good), &id, &err), OP_OK);
    assert_string_equal(id, "30381c72-fb56-440e-95f1-50832b3c711d");
    free(id);
    buf_free(&err);
}

/* Matchers compare as a set; isEqual false or another regex flag differ;
 * times say whether a reused silence must be replaced. */
static void test_match(void **state)
{
    (void)state;
    struct sil_matcher wm[] = {{"a", "1", false, true}, {"b", "x.*", true, true}};
    struct sil_want w = {.comment = "c", .m = wm, .n = 2, .starts = 1000, .ends = 2000};
    struct sil_matcher same[] = {{"b", "x.*", true, true}, {"a", "1", false, true}};
    struct sil_matcher neq[] = {{"a", "1", false, false}, {"b", "x.*", true, true}};
    struct sil_matcher nore[] = {{"a", "1", false, true}, {"b", "x.*", false, true}};
    struct sil_cand c[] = {
        {.id = "0", .comment = "other", .m = same, .n = 2, .starts = 1000, .ends = 2000},
        {.id = "1", .comment = "c", .m = neq, .n = 2, .starts = 1000, .ends = 2000},
        {.id = "2", .comment = "c", .m = nore, .n = 2, .starts = 1000, .ends = 2000},
        {.id = "3", .comment = "c", .m = same, .n = 1, .starts = 1000, .ends = 2000},
        {.id = "4", .comment = "c", .m = same, .n = 2, .starts = 1500, .ends = 2000.4},
    };
    bool same_times = false;
    struct sil_cand *got = sil_match(&w, c, ARRAY_SIZE(c), &same_times);
    assert_non_null(got);
    assert_string_equal(got->id, "4");
    assert_true(same_times); /* active: its start is when it was made */
    c[4].pending = true;
    assert_non_null(sil_match(&w, c, ARRAY_SIZE(c), &same_times));
    assert_false(same_times);
    c[4].pending = false;
    c[4].ends = 2001.5;
    assert_non_null(sil_match(&w, c, ARRAY_SIZE(c), &same_times));
    assert_false(same_times);
    c[4].taken = true;
    assert_null(sil_match(&w, c, ARRAY_SIZE(c), &same_times));
}

/* ---- against the real Alertmanager ---- */

/* Poll (up to 10 s) until no request of s is in flight. */
static void wait_idle(struct silences *s)
{
    unsigned n = 1;
    for (int i = 0; i < 1000; i++) {
        pthread_mutex_lock(&s->lock);
        n = s->in_flight;
        pthread_mutex_unlock(&s->lock);
        if (n == 0)
            return;
        sleep_ms(10);
    }
    fail_msg("%u requests still in flight", n);
}

/* Poll (up to 10 s) until key holds a silence ID for the first
 * Alertmanager; copied into out. */
static void wait_slot(struct silences *s, const char *key, char *out, size_t cap)
{
    for (int i = 0; i < 1000; i++) {
        slot_id(s, key, out, cap);
        if (out[0])
            return;
        sleep_ms(10);
    }
    fail_msg("no silence ID for %s", key);
}

/* A comment unique to this run and test, as the maintenance module makes
 * them unique per window and start. */
static void comment_for(char *out, size_t cap, const char *what, double starts)
{
    snprintf(out, cap, "outpost maintenance window %s from %.0f (pid %d)", what, starts,
             (int)getpid());
}

/* want -> exactly one silence with our matchers, times and comment; the
 * same want again -> still one; a second instance (an agent restart) ->
 * still one, reused; its drop -> expired, and the key forgotten. */
static void test_want_reuse_drop(void **state)
{
    (void)state;
    double now = floor(now_wall());
    double starts = now + 120, ends = now + 3720; /* pending: its start is kept exactly */
    char comment[256], id[SILENCES_ID_MAX + 1], id2[SILENCES_ID_MAX + 1];
    comment_for(comment, sizeof(comment), "db-upgrade", starts);
    struct cfg *c = load_am(am_main.base);
    struct silences *s = silences_new(clock_system());
    silences_configure(s, cfg_alerting(c));
    silences_want(s, "db-upgrade/0", M2, 2, starts, ends, comment);
    wait_count(&am_main, comment, NULL, 1);
    json_t *a = am_silences(&am_main, comment);
    assert_int_equal(json_array_size(a), 1);
    const json_t *v = json_array_get(a, 0);
    assert_string_equal(sil_state(v), "pending");
    assert_string_equal(json_string_value(json_object_get(v, "createdBy")), "outpost");
    assert_string_equal(json_string_value(json_object_get(v, "comment")), comment);
    assert_true(t_of(v, "startsAt") == starts);
    assert_true(t_of(v, "endsAt") == ends);
    const json_t *ms = json_object_get(v, "matchers");
    assert_int_equal(json_array_size(ms), 2);
    for (size_t i = 0; i < 2; i++) {
        const json_t *m = json_array_get(ms, i);
        assert_string_equal(json_string_value(json_object_get(m, "name")), M2[i].name);
        assert_string_equal(json_string_value(json_object_get(m, "value")), M2[i].value);
        assert_true(json_is_true(json_object_get(m, "isRegex")) == M2[i].is_regex);
        assert_true(json_is_true(json_object_get(m, "isEqual")));
    }
    char am_id[SILENCES_ID_MAX + 1];
    snprintf(am_id, sizeof(am_id), "%s", json_string_value(json_object_get(v, "id")));
    json_decref(a);
    wait_counter(s, C_CREATED, 1);
    wait_slot(s, "db-upgrade/0", id, sizeof(id));
    assert_string_equal(id, am_id);

    /* The same want again: nothing to do. */
    silences_want(s, "db-upgrade/0", M2, 2, starts, ends, comment);
    silences_wake(s);
    wait_idle(s);
    assert_int_equal(am_count(&am_main, comment, NULL), 1);
    struct silences_am_stat st = stat0(s);
    assert_int_equal(st.created, 1);
    assert_int_equal(st.expired, 0);
    assert_int_equal(st.errors, 0);
    silences_free(s); /* the silence stays */
    assert_int_equal(am_count(&am_main, comment, NULL), 1);

    /* A restarted agent: matchers given in another order, same set. */
    const struct silence_matcher swapped[] = {M2[1], M2[0]};
    s = silences_new(clock_system());
    silences_configure(s, cfg_alerting(c));
    silences_want(s, "db-upgrade/0", swapped, 2, starts, ends, comment);
    wait_slot(s, "db-upgrade/0", id2, sizeof(id2));
    assert_string_equal(id2, am_id);
    wait_idle(s);
    assert_int_equal(am_count(&am_main, comment, NULL), 1);
    assert_int_equal(counter(s, C_CREATED), 0);

    silences_drop(s, "db-upgrade/0");
    wait_count(&am_main, comment, "expired", 1);
    wait_counter(s, C_EXPIRED, 1);
    assert_int_equal(am_count(&am_main, comment, NULL), 0);
    silences_wake(s);
    pthread_mutex_lock(&s->lock);
    assert_null(sil_find(s, "db-upgrade/0"));
    pthread_mutex_unlock(&s->lock);
    silences_drop(s, "db-upgrade/0"); /* unknown now: no-op */
    silences_drop(s, "never-wanted");
    silences_wake(s);
    wait_idle(s);
    st = stat0(s);
    assert_int_equal(st.created, 0);
    assert_int_equal(st.expired, 1);
    assert_int_equal(st.errors, 0);
    silences_free(s);
    cfg_free(c);
}

/* A want that changes (times) replaces the silence; a want whose end has
 * passed expires it; an active one (started in the past) keeps its end. */
static void test_change_and_end(void **state)
{
    (void)state;
    double now = floor(now_wall());
    double starts = now - 60;
    char comment[256];
    comment_for(comment, sizeof(comment), "net-maint", starts);
    struct cfg *c = load_am(am_main.base);
    struct silences *s = silences_new(clock_system());
    silences_configure(s, cfg_alerting(c));
    const struct silence_matcher m1[] = {{.name = "site", .value = "mad", .is_regex = false}};
    silences_want(s, "net-maint/1", m1, 1, starts, now + 600, comment);
    wait_count(&am_main, comment, "active", 1);
    silences_want(s, "net-maint/1", m1, 1, starts, now + 900, comment);
    wait_count(&am_main, comment, "expired", 1);
    wait_count(&am_main, comment, "active", 1);
    json_t *a = am_silences(&am_main, comment);
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
    {
        if (strcmp(sil_state(v), "active") == 0)
            assert_true(t_of(v, "endsAt") == now + 900);
    }
    json_decref(a);
    wait_counter(s, C_CREATED, 2);
    wait_counter(s, C_EXPIRED, 1);

    /* Its end has passed: the key is dropped, the silence expired. */
    silences_want(s, "net-maint/1", m1, 1, starts, now - 1, comment);
    wait_count(&am_main, comment, "expired", 2);
    assert_int_equal(am_count(&am_main, comment, NULL), 0);

    /* Refused wants change nothing. */
    silences_want(s, "bad", m1, 0, now, now + 60, comment);
    silences_want(s, "bad", m1, 1, now + 60, now + 60, comment);
    const struct silence_matcher noname[] = {{.name = "", .value = "x"}};
    silences_want(s, "bad", noname, 1, now, now + 60, comment);
    silences_wake(s);
    pthread_mutex_lock(&s->lock);
    assert_null(sil_find(s, "bad"));
    pthread_mutex_unlock(&s->lock);
    wait_idle(s);
    struct silences_am_stat st = stat0(s);
    assert_int_equal(st.created, 2);
    assert_int_equal(st.expired, 2);
    assert_int_equal(st.errors, 0);
    silences_free(s);
    cfg_free(c);
}

/* A drop right before stop: the DELETE is made within the drain. */
static void test_drain_expires(void **state)
{
    (void)state;
    double now = floor(now_wall());
    char comment[256];
    comment_for(comment, sizeof(comment), "drain", now);
    struct cfg *c = load_am(am_main.base);
    struct silences *s = silences_new(clock_system());
    silences_configure(s, cfg_alerting(c));
    silences_want(s, "drain/0", M2, 1, now, now + 600, comment);
    wait_counter(s, C_CREATED, 1);
    silences_drop(s, "drain/0");
    int64_t t = now_mono_ns();
    silences_stop(s, 5000);
    double took = (double)(now_mono_ns() - t) / 1e9;
    print_message("silences_stop(5000) with a DELETE pending: %.3f s\n", took);
    assert_true(took < 5.0);
    assert_int_equal(am_count(&am_main, comment, "expired"), 1);
    assert_int_equal(am_count(&am_main, comment, NULL), 0);
    assert_int_equal(counter(s, C_EXPIRED), 1);
    silences_free(s);
    cfg_free(c);
}

/* A restarted agent retires the silences it had before and no longer
 * wants (its configuration changed meanwhile): exactly those (comment and
 * matchers) are found and expired; the silence it wants now is made, and
 * another agent's silence with the same comment and label stays. Retiring
 * what is not there makes nothing and is forgotten; a known key is only
 * dropped. */
static void test_retire(void **state)
{
    (void)state;
    double now = floor(now_wall());
    char comment[256], id[SILENCES_ID_MAX + 1];
    comment_for(comment, sizeof(comment), "retire", now);
    struct cfg *c = load_am(am_main.base);
    const struct silence_matcher old_chk[] = {{.name = "check", .value = "a|b", .is_regex = true}};
    const struct silence_matcher new_chk[] = {{.name = "check", .value = "a", .is_regex = true}};
    const struct silence_matcher slo[] = {{.name = "slo", .value = "ab", .is_regex = true}};
    const struct silence_matcher fleet[] = {{.name = "check", .value = "c", .is_regex = true}};
    struct silences *s = silences_new(clock_system()), *other = silences_new(clock_system());
    silences_configure(s, cfg_alerting(c));
    silences_configure(other, cfg_alerting(c));
    silences_want(other, "w/check", fleet, 1, now - 60, now + 600, comment);
    silences_want(s, "w/check", old_chk, 1, now - 60, now + 600, comment);
    silences_want(s, "w/slo", slo, 1, now - 60, now + 600, comment);
    wait_count(&am_main, comment, "active", 3);
    silences_free(s);

    s = silences_new(clock_system());
    silences_configure(s, cfg_alerting(c));
    silences_want(s, "w/check", new_chk, 1, now - 60, now + 600, comment);
    silences_retire(s, "w/check/previous", old_chk, 1, now + 600, comment);
    silences_retire(s, "w/slo/previous", slo, 1, now + 600, comment);
    silences_retire(s, "gone/previous", slo, 1, now + 600, "no such comment");
    wait_count(&am_main, comment, "expired", 2);
    wait_slot(s, "w/check", id, sizeof(id));
    silences_wake(s);
    wait_idle(s);
    silences_wake(s);
    json_t *a = am_silences(&am_main, comment);
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
    {
        const json_t *m = json_array_get(json_object_get(v, "matchers"), 0);
        const char *value = json_string_value(json_object_get(m, "value"));
        bool gone = strcmp(value, "a|b") == 0 || strcmp(value, "ab") == 0;
        assert_string_equal(sil_state(v), gone ? "expired" : "active");
    }
    assert_int_equal(json_array_size(a), 4);
    json_decref(a);
    pthread_mutex_lock(&s->lock);
    assert_null(sil_find(s, "w/check/previous"));
    assert_null(sil_find(s, "w/slo/previous"));
    assert_null(sil_find(s, "gone/previous"));
    pthread_mutex_unlock(&s->lock);
    assert_int_equal(counter(s, C_CREATED), 1);
    assert_int_equal(counter(s, C_EXPIRED), 2);

    /* A known key: dropped. */
    silences_retire(s, "w/check", new_chk, 1, now + 600, comment);
    silences_drop(other, "w/check");
    wait_count(&am_main, comment, "active", 0);
    silences_free(s);
    silences_free(other);
    cfg_free(c);
}

/* Two agents sharing an Alertmanager and a window's name (one
 * configuration for a fleet) but covering other checks: the same comment
 * and label, other values. Each keeps its own silence; neither takes or
 * expires the other's, also when one restarts. */
static void test_fleet_shares_comment(void **state)
{
    (void)state;
    double now = floor(now_wall());
    char comment[256], id[SILENCES_ID_MAX + 1];
    comment_for(comment, sizeof(comment), "fleet", now);
    struct cfg *c = load_am(am_main.base);
    const struct silence_matcher m1[] = {{.name = "check", .value = "a|b", .is_regex = true}};
    const struct silence_matcher m2[] = {{.name = "check", .value = "c", .is_regex = true}};
    struct silences *s1 = silences_new(clock_system()), *s2 = silences_new(clock_system());
    silences_configure(s1, cfg_alerting(c));
    silences_configure(s2, cfg_alerting(c));
    silences_want(s1, "w/check", m1, 1, now - 60, now + 600, comment);
    wait_slot(s1, "w/check", id, sizeof(id));
    silences_want(s2, "w/check", m2, 1, now - 60, now + 600, comment);
    wait_slot(s2, "w/check", id, sizeof(id));
    silences_free(s2); /* a restart of the second agent */
    s2 = silences_new(clock_system());
    silences_configure(s2, cfg_alerting(c));
    silences_want(s2, "w/check", m2, 1, now - 60, now + 600, comment);
    wait_slot(s2, "w/check", id, sizeof(id));
    silences_wake(s1);
    silences_wake(s2);
    wait_idle(s1);
    wait_idle(s2);
    assert_int_equal(am_count(&am_main, comment, "active"), 2);
    assert_int_equal(am_count(&am_main, comment, "expired"), 0);
    silences_drop(s1, "w/check");
    silences_drop(s2, "w/check");
    wait_count(&am_main, comment, "active", 0);
    silences_free(s1);
    silences_free(s2);
    cfg_free(c);
}

/* A reload that reorders the Alertmanagers keeps what each knows (by
 * URL) and its counters (by name): no second silence. */
static void test_reload_keeps_ids(void **state)
{
    (void)state;
    double now = floor(now_wall());
    char comment[256], id[SILENCES_ID_MAX + 1], id2[SILENCES_ID_MAX + 1];
    comment_for(comment, sizeof(comment), "reload", now);
    struct buf y, err;
    buf_init(&y, 4096);
    buf_init(&err, 4096);
    buf_addf(&y, "alerting:\n  alertmanagers: ['http://127.0.0.1:%d/', '%s/']\n", free_port(),
             am_main.base);
    struct cfg *c2 = NULL;
    if (cfg_load_string(y.data, y.len, "t.yml", &c2, &err) != OP_OK)
        fail_msg("%s", buf_str(&err));
    struct cfg *c1 = load_am(am_main.base);
    struct silences *s = silences_new(clock_system());
    silences_configure(s, cfg_alerting(c2));
    silences_want(s, "reload/0", M2, 2, now, now + 600, comment);
    wait_count(&am_main, comment, NULL, 1);
    struct silences_am_stat st[2];
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(silences_stats(s, st, 2), 2);
        silences_stats_release(st, 2);
        if (st[1].created == 1 && st[0].errors >= 1)
            break;
        sleep_ms(10);
    }
    assert_int_equal(st[1].created, 1);
    assert_true(st[0].errors >= 1); /* the closed port */
    slot_id_of(s, "reload/0", 1, id, sizeof(id));
    assert_true(id[0]);
    /* Moved by configure itself, not found again by a list later. */
    silences_configure(s, cfg_alerting(c1));
    slot_id(s, "reload/0", id2, sizeof(id2));
    assert_string_equal(id2, id);
    silences_wake(s);
    wait_idle(s);
    assert_int_equal(am_count(&am_main, comment, NULL), 1);
    assert_int_equal(counter(s, C_CREATED), 1);
    assert_int_equal(counter(s, C_ERRORS), 0);
    silences_drop(s, "reload/0");
    wait_count(&am_main, comment, "expired", 1);
    silences_free(s);
    cfg_free(c1);
    cfg_free(c2);
    buf_free(&y);
    buf_free(&err);
}

/* An Alertmanager that is down at first: the list is retried after 1, 2
 * and 4 s (on a fake clock, to the millisecond), then it is up and the
 * silence is made. */
static void test_late_alertmanager(void **state)
{
    (void)state;
    struct am *late = &am_late;
    int port = free_port();
    char base[128], comment[256];
    snprintf(base, sizeof(base), "http://127.0.0.1:%d/am", port);
    struct clock *fk = clock_fake_new(1000 * S_NS, (int64_t)(now_wall() * 1000));
    double now = floor(clock_wall(fk));
    comment_for(comment, sizeof(comment), "late", now);
    struct cfg *c = load_am(base);
    struct silences *s = silences_new(fk);
    silences_configure(s, cfg_alerting(c));
    silences_want(s, "late/0", M2, 2, now + 60, now + 600, comment);
    wait_counter(s, C_ERRORS, 1);
    wait_idle(s);
    static const int backoff_s[] = {1, 2};
    for (size_t k = 0; k < ARRAY_SIZE(backoff_s); k++) {
        clock_fake_advance(fk, backoff_s[k] * S_NS - MS_NS);
        silences_wake(s);
        wait_idle(s);
        assert_int_equal(counter(s, C_ERRORS), k + 1); /* not yet */
        clock_fake_advance(fk, MS_NS);
        silences_wake(s);
        wait_idle(s);
        assert_int_equal(counter(s, C_ERRORS), k + 2);
    }
    am_start(late, port, "am-late");
    clock_fake_advance(fk, 4 * S_NS - MS_NS);
    silences_wake(s);
    wait_idle(s);
    assert_int_equal(counter(s, C_ERRORS), 3);
    assert_int_equal(counter(s, C_CREATED), 0);
    clock_fake_advance(fk, MS_NS);
    silences_wake(s);
    wait_counter(s, C_CREATED, 1);
    wait_count(late, comment, "pending", 1);
    assert_int_equal(counter(s, C_ERRORS), 3);
    silences_free(s);
    am_kill(late);
    clock_fake_free(fk);
    cfg_free(c);
}

/* ---- hostile answers: a one-thread server in this process ---- */

enum fake_mode { F_GARBAGE, F_500, F_HUGE, F_NOT_ARRAY, F_BAD_ID, F_HANG, F_FLAKY_DELETE };

#define FAKE_MAX 64

struct fake {
    int fd, port;
    pthread_t thread;
    atomic_bool stop;
    enum fake_mode mode;
    pthread_mutex_t lock;
    char method[FAKE_MAX][8]; /* of each request, in order */
    size_t n;
    int hung[FAKE_MAX]; /* F_HANG: connections never answered */
    size_t n_hung;
    int deletes; /* F_FLAKY_DELETE */
};

static void send_all(int c, const char *p, size_t n)
{
    while (n) {
        ssize_t k = send(c, p, n, MSG_NOSIGNAL);
        if (k <= 0)
            return; /* the client hung up: over its cap */
        p += k;
        n -= (size_t)k;
    }
}

static void answer(int c, int status, const char *body)
{
    char head[256];
    int len = snprintf(head, sizeof(head),
                       "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
                       "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                       status, strlen(body));
    send_all(c, head, (size_t)len);
    send_all(c, body, strlen(body));
}

/* 5 MiB of a JSON array, over SILENCES_LIST_MAX. */
static void answer_huge(int c)
{
    size_t total = 5u << 20;
    char head[256];
    int len =
        snprintf(head, sizeof(head),
                 "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", total);
    send_all(c, head, (size_t)len);
    static char chunk[65536];
    memset(chunk, ' ', sizeof(chunk));
    chunk[0] = '[';
    for (size_t sent = 0; sent < total; sent += sizeof(chunk)) {
        if (send(c, chunk, sizeof(chunk), MSG_NOSIGNAL) <= 0)
            return;
        chunk[0] = ' ';
    }
}

static void *fake_serve(void *arg)
{
    struct fake *f = arg;
    while (!atomic_load(&f->stop)) {
        int c = accept(f->fd, NULL, NULL);
        if (c < 0)
            continue;
        struct timeval tv = {2, 0};
        setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        struct buf req;
        buf_init(&req, 1u << 20);
        char chunk[4096];
        size_t want = 0;
        for (;;) {
            ssize_t got = recv(c, chunk, sizeof(chunk), 0);
            if (got <= 0)
                break;
            buf_add(&req, chunk, (size_t)got);
            const char *end = strstr(buf_str(&req), "\r\n\r\n");
            if (end && !want) {
                const char *cl = strcasestr(buf_str(&req), "Content-Length:");
                want = (size_t)(end - req.data) + 4 + (cl ? strtoul(cl + 15, NULL, 10) : 0);
            }
            if (want && req.len >= want)
                break;
        }
        char method[8] = "";
        const char *sp = strchr(buf_str(&req), ' ');
        if (sp && (size_t)(sp - req.data) < sizeof(method))
            memcpy(method, req.data, (size_t)(sp - req.data));
        buf_free(&req);
        pthread_mutex_lock(&f->lock);
        if (f->n < FAKE_MAX)
            memcpy(f->method[f->n++], method, sizeof(method));
        enum fake_mode mode = f->mode;
        pthread_mutex_unlock(&f->lock);
        bool get = strcmp(method, "GET") == 0;
        switch (mode) {
        case F_GARBAGE:
            answer(c, 200, "<html>\x01\xff not json");
            break;
        case F_500:
            answer(c, 500, "\"internal error\"");
            break;
        case F_HUGE:
            answer_huge(c);
            break;
        case F_NOT_ARRAY:
            answer(c, 200, get ? "{\"silences\":[]}" : "{}");
            break;
        case F_BAD_ID:
            answer(c, 200,
                   get ? "[{\"id\":7},[],{\"status\":\"x\"}]"
                       : "{\"silenceID\":\"../../../etc/passwd\"}");
            break;
        case F_FLAKY_DELETE: /* a healthy one whose first DELETE fails */
            if (get)
                answer(c, 200, "[]");
            else if (strcmp(method, "POST") == 0)
                answer(c, 200, "{\"silenceID\":\"0f0f-1\"}");
            else if (++f->deletes == 1)
                answer(c, 500, "\"boom\"");
            else
                answer(c, 200, "");
            break;
        case F_HANG:
            if (f->n_hung < FAKE_MAX) {
                f->hung[f->n_hung++] = c;
                continue;
            }
            break;
        }
        close(c);
    }
    return NULL;
}

static void fake_start(struct fake *f, enum fake_mode mode)
{
    memset(f, 0, sizeof(*f));
    f->mode = mode;
    pthread_mutex_init(&f->lock, NULL);
    f->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(f->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(f->fd, 16), 0);
    socklen_t l = sizeof(a);
    getsockname(f->fd, (struct sockaddr *)&a, &l);
    f->port = ntohs(a.sin_port);
    /* accept() wakes every 50 ms to see the stop flag. */
    struct timeval tv = {0, 50000};
    setsockopt(f->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    assert_int_equal(pthread_create(&f->thread, NULL, fake_serve, f), 0);
}

static void fake_stop(struct fake *f)
{
    atomic_store(&f->stop, true);
    pthread_join(f->thread, NULL);
    for (size_t i = 0; i < f->n_hung; i++)
        close(f->hung[i]);
    close(f->fd);
    pthread_mutex_destroy(&f->lock);
}

/* The methods the server saw, joined with spaces. */
static void fake_methods(struct fake *f, char *out, size_t cap)
{
    out[0] = '\0';
    pthread_mutex_lock(&f->lock);
    for (size_t i = 0; i < f->n; i++)
        snprintf(out + strlen(out), cap - strlen(out), "%s%s", i ? " " : "", f->method[i]);
    pthread_mutex_unlock(&f->lock);
}

/* Each hostile answer is one counted error, then a retry after the
 * backoff (fake clock); never a crash, never a silence believed made. A
 * POST whose answer is unusable sends the next try back to the list. */
static void test_hostile_answers(void **state)
{
    (void)state;
    static const struct {
        enum fake_mode mode;
        const char *first, *second; /* requests after the want, after 1 s */
    } cases[] = {
        {F_GARBAGE, "GET", "GET GET"},
        {F_500, "GET", "GET GET"},
        {F_HUGE, "GET", "GET GET"},
        {F_NOT_ARRAY, "GET", "GET GET"},
        {F_BAD_ID, "GET POST", "GET POST GET POST"},
    };
    for (size_t k = 0; k < ARRAY_SIZE(cases); k++) {
        struct fake f;
        fake_start(&f, cases[k].mode);
        char base[128], seen[512];
        snprintf(base, sizeof(base), "http://127.0.0.1:%d", f.port);
        struct cfg *c = load_am(base);
        struct clock *fk = clock_fake_new(1000 * S_NS, (int64_t)(now_wall() * 1000));
        double now = floor(clock_wall(fk));
        struct silences *s = silences_new(fk);
        silences_configure(s, cfg_alerting(c));
        silences_want(s, "hostile/0", M2, 2, now, now + 600, "hostile");
        wait_counter(s, C_ERRORS, 1);
        wait_idle(s);
        fake_methods(&f, seen, sizeof(seen));
        assert_string_equal(seen, cases[k].first);
        clock_fake_advance(fk, S_NS);
        silences_wake(s);
        wait_counter(s, C_ERRORS, 2);
        wait_idle(s);
        fake_methods(&f, seen, sizeof(seen));
        assert_string_equal(seen, cases[k].second);
        struct silences_am_stat st = stat0(s);
        assert_int_equal(st.errors, 2);
        assert_int_equal(st.created, 0);
        char id[SILENCES_ID_MAX + 1];
        slot_id(s, "hostile/0", id, sizeof(id));
        assert_string_equal(id, "");
        silences_free(s);
        clock_fake_free(fk);
        cfg_free(c);
        fake_stop(&f);
    }
}

/* A drop whose DELETE failed and waits out its backoff when the agent
 * stops: the drain tries it once more at once. */
static void test_drain_retries_in_backoff(void **state)
{
    (void)state;
    struct fake f;
    fake_start(&f, F_FLAKY_DELETE);
    char base[128], seen[512];
    snprintf(base, sizeof(base), "http://127.0.0.1:%d", f.port);
    struct cfg *c = load_am(base);
    struct clock *fk = clock_fake_new(1000 * S_NS, (int64_t)(now_wall() * 1000));
    double now = floor(clock_wall(fk));
    struct silences *s = silences_new(fk);
    silences_configure(s, cfg_alerting(c));
    silences_want(s, "flaky/0", M2, 2, now, now + 600, "flaky");
    wait_counter(s, C_CREATED, 1);
    silences_drop(s, "flaky/0");
    wait_counter(s, C_ERRORS, 1);
    wait_idle(s);
    fake_methods(&f, seen, sizeof(seen));
    assert_string_equal(seen, "GET POST DELETE");
    silences_stop(s, 5000); /* fake time: the deadline never passes */
    fake_methods(&f, seen, sizeof(seen));
    assert_string_equal(seen, "GET POST DELETE DELETE");
    struct silences_am_stat st = stat0(s);
    assert_int_equal(st.created, 1);
    assert_int_equal(st.expired, 1);
    assert_int_equal(st.errors, 1);
    silences_free(s);
    clock_fake_free(fk);
    cfg_free(c);
    fake_stop(&f);
}

/* A silence whose end has passed is Alertmanager's to expire: the key is
 * forgotten without a DELETE. */
static void test_end_forgets(void **state)
{
    (void)state;
    struct fake f;
    fake_start(&f, F_FLAKY_DELETE);
    char base[128], seen[512];
    snprintf(base, sizeof(base), "http://127.0.0.1:%d", f.port);
    struct cfg *c = load_am(base);
    /* On a whole second, so the end is reached exactly. */
    double now = floor(now_wall());
    struct clock *fk = clock_fake_new(1000 * S_NS, (int64_t)now * 1000);
    struct silences *s = silences_new(fk);
    silences_configure(s, cfg_alerting(c));
    silences_want(s, "short/0", M2, 2, now - 5, now + 10, "short");
    wait_counter(s, C_CREATED, 1);
    clock_fake_advance(fk, 10 * S_NS - MS_NS);
    silences_wake(s);
    pthread_mutex_lock(&s->lock);
    assert_non_null(sil_find(s, "short/0"));
    pthread_mutex_unlock(&s->lock);
    clock_fake_advance(fk, MS_NS);
    silences_wake(s);
    pthread_mutex_lock(&s->lock);
    assert_null(sil_find(s, "short/0"));
    pthread_mutex_unlock(&s->lock);
    silences_drop(s, "short/0"); /* forgotten: no-op */
    silences_wake(s);
    wait_idle(s);
    fake_methods(&f, seen, sizeof(seen));
    assert_string_equal(seen, "GET POST");
    silences_free(s);
    clock_fake_free(fk);
    cfg_free(c);
    fake_stop(&f);
}

/* An Alertmanager that never answers: stop returns at its drain
 * deadline, not after the 10 s request timeout. */
static void test_hung_stop(void **state)
{
    (void)state;
    struct fake f;
    fake_start(&f, F_HANG);
    char base[128];
    snprintf(base, sizeof(base), "http://127.0.0.1:%d", f.port);
    struct cfg *c = load_am(base);
    struct silences *s = silences_new(clock_system());
    silences_configure(s, cfg_alerting(c));
    double now = floor(now_wall());
    silences_want(s, "hung/0", M2, 2, now, now + 600, "hung");
    for (int i = 0; i < 1000; i++) {
        pthread_mutex_lock(&f.lock);
        size_t n = f.n;
        pthread_mutex_unlock(&f.lock);
        if (n == 1)
            break;
        sleep_ms(10);
    }
    int64_t t = now_mono_ns();
    silences_stop(s, 300);
    double took = (double)(now_mono_ns() - t) / 1e9;
    print_message("silences_stop(300) with a request hung: %.3f s\n", took);
    assert_true(took >= 0.29 && took < 1.5);
    silences_free(s);
    cfg_free(c);
    fake_stop(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_time),
        cmocka_unit_test(test_parse_answers),
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_want_reuse_drop),
        cmocka_unit_test(test_change_and_end),
        cmocka_unit_test(test_drain_expires),
        cmocka_unit_test(test_retire),
        cmocka_unit_test(test_fleet_shares_comment),
        cmocka_unit_test(test_reload_keeps_ids),
        cmocka_unit_test(test_late_alertmanager),
        cmocka_unit_test(test_hostile_answers),
        cmocka_unit_test(test_drain_retries_in_backoff),
        cmocka_unit_test(test_end_forgets),
        cmocka_unit_test(test_hung_stop),
    };
    if (curl_global_init(CURL_GLOBAL_ALL) != CURLE_OK)
        return 1;
    int rc = cmocka_run_group_tests(tests, group_setup, group_teardown);
    curl_global_cleanup();
    return rc;
}
