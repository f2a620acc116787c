/*
 * test_chrome.c - the browser engine (chrome.c, chrome_cdp.c,
 * chrome_proc.c) on a real probe loop: real Chromium loading the target
 * server's /html/ pages (a page whose text a script adds after load, a
 * static one, one a script replaces before its load, an HTTP 500, console errors, a refused
 * connection, a page whose load never comes, a cancel mid-run, several runs at once), and fake
 * "browsers" (shell scripts) that send garbage, a message over the cap, an error, close the pipe or
 * exit - each a `browser` failure, never a crash. Extra headers and the user agent reach the
 * server; HTTPS with a self-signed certificate fails unless insecure_tls, and then gives the TLS
 * phase and the certificate's expiry. After every run the process group is empty and the profile
 * directory gone. The Chromium tests skip when no Chromium is installed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "buf.h"
#include "check.h"
#include "chrome.h"
#include "chrome_int.h"
#include "clock.h"
#include "config.h"
#include "gen.h"
#include "probe.h"
#include "test_util.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MS 1000000LL
#define SEC 1000000000LL

extern char **environ;

/* ---- the loop and the target server ---- */

struct env {
    struct gen *g;
    struct probe_loop *pl;
    bool run_it[1];
    struct probe_once once;
    char *exe; /* NULL: no Chromium here */
    pid_t target, tls_target;
    int port, tls_port; /* tls_port 0: no openssl to make a certificate */
    double not_after;   /* the HTTPS target's certificate's, Unix seconds */
};

static void no_report(void *arg, size_t check, const struct check_result *res)
{
    (void)arg;
    (void)check;
    (void)res;
}

/* The target server on a free loopback port (HTTPS with cert and key):
 * its one line tells which. */
static int target_start(pid_t *pid, const char *cert, const char *key)
{
    const char *bin = getenv("OUTPOST_TARGET");
    if (!bin)
        fail_msg("OUTPOST_TARGET is not set (CMake sets it)");
    int out[2];
    assert_int_equal(pipe(out), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    /* GnuTLS complains of every handshake Chromium gives up on. */
    if (cert)
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    char *argv[] = {(char *)bin,  "--listen",  "127.0.0.1:0", "--tls-cert",
                    (char *)cert, "--tls-key", (char *)key,   NULL};
    if (!cert)
        argv[3] = NULL;
    assert_int_equal(posix_spawn(pid, bin, &fa, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    close(out[1]);
    char line[64] = "";
    size_t n = 0;
    while (n + 1 < sizeof(line) && !strchr(line, '\n')) {
        struct pollfd p = {out[0], POLLIN, 0};
        assert_int_equal(poll(&p, 1, 10000), 1);
        ssize_t k = read(out[0], line + n, sizeof(line) - 1 - n);
        assert_true(k > 0);
        n += (size_t)k;
        line[n] = '\0';
    }
    close(out[0]);
    char *end;
    assert_true(strncmp(line, "listening on ", 13) == 0);
    long port = strtol(line + 13, &end, 10);
    assert_true(port > 0 && port < 65536 && *end == '\n');
    return (int)port;
}

/* A self-signed certificate for 127.0.0.1 and an HTTPS target serving
 * it; without openssl, none (the TLS test skips). */
static void tls_target_start(struct env *e)
{
    char cert[512], key[512], cmd[1600];
    snprintf(cert, sizeof(cert), "%s/cert.pem", tu_tmpdir());
    snprintf(key, sizeof(key), "%s/key.pem", tu_tmpdir());
    snprintf(cmd, sizeof(cmd),
             "openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=127.0.0.1"
             " -addext subjectAltName=IP:127.0.0.1 -keyout %s -out %s >/dev/null 2>&1",
             key, cert);
    if (system(cmd) != 0)
        return;
    FILE *f = fopen(cert, "r");
    assert_non_null(f);
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(x);
    struct tm tm;
    assert_int_equal(ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm), 1);
    X509_free(x);
    e->not_after = (double)timegm(&tm);
    e->tls_port = target_start(&e->tls_target, cert, key);
}

static int setup(void **state)
{
    if (tu_tmpdir_setup(state) != 0)
        return -1;
    struct env *e = calloc(1, sizeof(*e));
    static const char yaml[] = "checks:\n"
                               "  - name: idle\n"
                               "    type: http\n"
                               "    url: http://127.0.0.1:1/\n";
    struct buf err;
    buf_init(&err, 1u << 16);
    struct cfg *c = NULL;
    if (cfg_load_string(yaml, strlen(yaml), "c.yml", &c, &err) != OP_OK)
        fail_msg("config: %s", buf_str(&err));
    buf_free(&err);
    e->g = gen_new(c, NULL, NULL, clock_system());
    e->once = (struct probe_once){e->run_it, no_report, NULL};
    assert_int_equal(probe_loop_new(clock_system(), &e->pl), OP_OK);
    assert_int_equal(probe_loop_start_once(e->pl, e->g, &e->once), OP_OK);
    e->exe = chrome_find_executable(NULL);
    e->port = target_start(&e->target, NULL, NULL);
    tls_target_start(e);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    probe_loop_free(e->pl);
    gen_unref(e->g);
    kill(e->target, SIGTERM);
    waitpid(e->target, NULL, 0);
    if (e->tls_port) {
        kill(e->tls_target, SIGTERM);
        waitpid(e->tls_target, NULL, 0);
    }
    free(e->exe);
    free(e);
    return tu_tmpdir_teardown(state);
}

/* ---- one run ---- */

struct run {
    struct probe_loop *pl;
    const char *exe, *url, *text, *selector, *user_agent;
    const char *const *headers;
    size_t n_headers;
    bool insecure_tls;
    int64_t timeout_ns;
    /* set on the loop thread */
    enum op_rc start_rc;
    struct chrome *c;
    bool in_start, done_inside_start;
    pid_t pgid;
    char profile[256];
    struct chrome_facts f;
    atomic_int calls;
    atomic_bool done;
};

static void on_done(void *arg, const struct chrome_facts *f)
{
    struct run *r = arg;
    if (r->in_start)
        r->done_inside_start = true;
    r->f = *f;
    r->c = NULL;
    atomic_fetch_add(&r->calls, 1);
    atomic_store(&r->done, true);
}

static void start_on_loop(void *arg)
{
    struct run *r = arg;
    struct chrome_opts o = {
        .executable = r->exe,
        .url = r->url,
        .deadline_ns = probe_now_ns(r->pl) + r->timeout_ns,
        .text = r->text,
        .selector = r->selector,
        .user_agent = r->user_agent,
        .headers = r->headers,
        .n_headers = r->n_headers,
        .insecure_tls = r->insecure_tls,
    };
    r->in_start = true;
    r->start_rc = chrome_start(r->pl, &o, on_done, r, &r->c);
    r->in_start = false;
    if (r->start_rc == OP_OK) {
        r->pgid = r->c->pid;
        snprintf(r->profile, sizeof(r->profile), "%s", r->c->profile ? r->c->profile : "");
    }
}

static void start(struct env *e, struct run *r)
{
    r->pl = e->pl;
    if (!r->exe)
        r->exe = e->exe;
    if (!r->timeout_ns)
        r->timeout_ns = 30 * SEC;
    probe_loop_call(e->pl, start_on_loop, r);
    assert_int_equal(r->start_rc, OP_OK);
    assert_true(r->profile[0] != '\0');
}

static void wait_done(struct run *r)
{
    for (int i = 0; i < 90000 && !atomic_load(&r->done); i++)
        nanosleep(&(struct timespec){0, 1 * MS}, NULL);
    assert_true(atomic_load(&r->done));
    assert_int_equal(atomic_load(&r->calls), 1);
    assert_false(r->done_inside_start);
}

/* Nothing of the run is left: no process in its group, no profile. */
static void assert_gone(const struct run *r)
{
    if (r->pgid > 0) {
        errno = 0;
        assert_int_equal(kill(-r->pgid, 0), -1);
        assert_int_equal(errno, ESRCH);
    }
    struct stat st;
    errno = 0;
    assert_int_equal(stat(r->profile, &st), -1);
    assert_int_equal(errno, ENOENT);
}

static void run(struct env *e, struct run *r)
{
    start(e, r);
    wait_done(r);
    assert_gone(r);
}

static char *url_of(const struct env *e, const char *path)
{
    static char u[4][128];
    static int next;
    char *s = u[next++ % 4];
    snprintf(s, sizeof(u[0]), "http://127.0.0.1:%d%s", e->port, path);
    return s;
}

#define NEED_CHROMIUM(e)                                                                           \
    do {                                                                                           \
        if (!(e)->exe) {                                                                           \
            print_message("no Chromium installed: skipped\n");                                     \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

/* ---- real Chromium ---- */

static void test_loaded(void **state)
{
    struct env *e = *state;
    NEED_CHROMIUM(e);
    struct run r = {.url = url_of(e, "/html/ok"), .text = "Welcome", .selector = "#app .ready"};
    run(e, &r);
    if (r.f.end != CHROME_LOADED)
        fail_msg("end %d: %s", r.f.end, r.f.error);
    assert_string_equal(r.f.error, "");
    assert_string_equal(r.f.net_error, "");
    assert_int_equal(r.f.status, 200);
    assert_true(r.f.text_found);
    assert_true(r.f.selector_found);
    assert_int_equal(r.f.console_errors, 0);
    assert_true(isfinite(r.f.ttfb) && isfinite(r.f.dom_content_loaded) && isfinite(r.f.load));
    assert_true(r.f.ttfb > 0);
    assert_true(r.f.ttfb <= r.f.dom_content_loaded);
    assert_true(r.f.dom_content_loaded <= r.f.load);
    /* The text comes 300 ms after the script ran: found by a later poll. */
    assert_true(r.f.duration - r.f.launch >= 0.3);
    assert_true(isfinite(r.f.launch) && r.f.launch > 0 && r.f.launch < r.f.duration);
    /* Plain http to an IP address: no lookup, no TLS, a connect. */
    assert_true(r.f.resolve == 0);
    assert_true(r.f.tls == 0);
    assert_true(r.f.connect >= 0);
    assert_true(r.f.cert_expiry == 0);
}

static void test_static_and_lcp(void **state)
{
    struct env *e = *state;
    NEED_CHROMIUM(e);
    struct run r = {.url = url_of(e, "/html/static"), .text = "Hello from outpost"};
    run(e, &r);
    if (r.f.end != CHROME_LOADED)
        fail_msg("end %d: %s", r.f.end, r.f.error);
    assert_int_equal(r.f.status, 200);
    assert_true(r.f.text_found);
    assert_false(r.f.selector_found); /* not asked for */
    /* The paragraph is the page's largest paint. */
    assert_true(isfinite(r.f.lcp) && r.f.lcp > 0);
}

/* A script replaces the page before its load: the new page's load and
 * text count. */
static void test_js_redirect(void **state)
{
    struct env *e = *state;
    NEED_CHROMIUM(e);
    struct run r = {.url = url_of(e, "/html/js-redirect"), .text = "Welcome"};
    run(e, &r);
    if (r.f.end != CHROME_LOADED)
        fail_msg("end %d: %s", r.f.end, r.f.error);
    assert_int_equal(r.f.status, 200);
    assert_true(r.f.text_found);
}

static void test_console_errors(void **state)
{
    struct env *e = *state;
    NEED_CHROMIUM(e);
    struct run r = {.url = url_of(e, "/html/console-error")};
    run(e, &r);
    if (r.f.end != CHROME_LOADED)
        fail_msg("end %d: %s", r.f.end, r.f.error);
    /* Two console.error calls and one uncaught exception; console.log is
     * not an error. */
    assert_int_equal(r.f.console_errors, 3);
}

static void test_http_error(void **state)
{
    struct env *e = *state;
    NEED_CHROMIUM(e);
    struct run r = {.url = url_of(e, "/html/error"), .text = "something broke"};
    run(e, &r);
    if (r.f.end != CHROME_LOADED)
        fail_msg("end %d: %s", r.f.end, r.f.error);
    assert_int_equal(r.f.status, 500);
    assert_true(r.f.text_found);
}

static void test_expect_timeout(void **state)
{
    struct env *e = *state;
    NEED_CHROMIUM(e);
    struct run r = {.url = url_of(e, "/html/static"),
                    .text = "Welcome",
                    .selector = "p",
                    .timeout_ns = 8 * SEC};
    run(e, &r);
    assert_int_equal(r.f.end, CHROME_EXPECT_TIMEOUT);
    assert_string_equal(r.f.error, "text not found on the page");
    assert_int_equal(r.f.status, 200);
    assert_false(r.f.text_found);
    assert_true(r.f.selector_found);
    assert_true(isfinite(r.f.load));
    assert_true(r.f.duration >= 7.9);
    /* The load came after the launch and the page's set-up. */
    assert_true(r.f.load_seen > r.f.launch && r.f.load_seen < 7.9);

    struct run bad = {.url = url_of(e, "/html/static"), .selector = "p[", .timeout_ns = 8 * SEC};
    run(e, &bad);
    assert_int_equal(bad.f.end, CHROME_EXPECT_TIMEOUT);
    assert_string_equal(bad.f.error, "the selector is not valid CSS");
    assert_true(bad.f.selector_invalid);
    assert_false(r.f.selector_invalid);
}

static void test_refused(void **state)
{
    struct env *e = *state;
    NEED_CHROMIUM(e);
    /* A port nobody listens on: bind one, close it. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    socklen_t alen = sizeof(a);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
    close(fd);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", ntohs(a.sin_port));
    struct run r = {.url = url, .text = "x"};
    run(e, &r);
    assert_int_equal(r.f.end, CHROME_NAV_ERROR);
    assert_string_equal(r.f.net_error, "net::ERR_CONNECTION_REFUSED");
    assert_string_equal(r.f.error, "navigation failed: net::ERR_CONNECTION_REFUSED");
    assert_int_equal(r.f.status, 0);
    assert_true(isnan(r.f.load));
}

static void test_timeout(void **state)
{
    struct env *e = *state;
    NEED_CHROMIUM(e);
    struct run r = {.url = url_of(e, "/html/never"), .timeout_ns = 6 * SEC};
    run(e, &r);
    assert_int_equal(r.f.end, CHROME_TIMEOUT);
    assert_true(strncmp(r.f.error, "timeout: ", 9) == 0);
    assert_true(r.f.duration >= 5.9);
    assert_true(isnan(r.f.load));
}

/* Extra headers and the user agent reach the server: /echo shows what it
 * got as text, /auth/bearer/ answers 200 only with the right header. */
static void test_headers(void **state)
{
    struct env *e = *state;
    NEED_CHROMIUM(e);
    static const char *const headers[] = {"Authorization:  Bearer s3cret", "X-Outpost-Probe: yes"};
    struct run r = {.url = url_of(e, "/echo"),
                    .headers = headers,
                    .n_headers = 2,
                    .user_agent = "outpost-test/1",
                    .text = "User-Agent: outpost-test/1"};
    run(e, &r);
    if (r.f.end != CHROME_LOADED)
        fail_msg("end %d: %s", r.f.end, r.f.error);
    struct run a = {
        .url = url_of(e, "/auth/bearer/s3cret"), .headers = headers, .n_headers = 2, .text = "ok"};
    run(e, &a);
    assert_int_equal(a.f.end, CHROME_LOADED);
    assert_int_equal(a.f.status, 200);
}

/* HTTPS with a self-signed certificate: a net error unless insecure_tls,
 * then the TLS phase and the certificate's expiry. */
static void test_tls(void **state)
{
    struct env *e = *state;
    NEED_CHROMIUM(e);
    if (!e->tls_port) {
        print_message("no openssl to make a certificate: skipped\n");
        skip();
    }
    char url[64];
    snprintf(url, sizeof(url), "https://127.0.0.1:%d/html/static", e->tls_port);
    struct run r = {.url = url, .text = "Hello from outpost"};
    run(e, &r);
    assert_int_equal(r.f.end, CHROME_NAV_ERROR);
    assert_string_equal(r.f.net_error, "net::ERR_CERT_AUTHORITY_INVALID");
    struct run ok = {.url = url, .text = "Hello from outpost", .insecure_tls = true};
    run(e, &ok);
    if (ok.f.end != CHROME_LOADED)
        fail_msg("end %d: %s", ok.f.end, ok.f.error);
    assert_int_equal(ok.f.status, 200);
    assert_true(ok.f.tls > 0);
    assert_true(ok.f.cert_expiry == e->not_after);
}

/* The run's phase, read on the loop's thread. */
struct peek {
    struct run *r;
    enum chrome_phase phase;
};

static void peek_on_loop(void *arg)
{
    struct peek *p = arg;
    p->phase = p->r->c ? p->r->c->phase : PH_ENDING;
}

static void cancel_on_loop(void *arg)
{
    struct run *r = arg;
    chrome_cancel(r->pl, r->c);
}

static void test_cancel(void **state)
{
    struct env *e = *state;
    NEED_CHROMIUM(e);
    struct run r = {.url = url_of(e, "/html/never")};
    start(e, &r);
    /* Mid-run: the page is navigating (its image never comes). */
    struct peek p = {.r = &r};
    for (int i = 0; i < 3000; i++) {
        probe_loop_call(e->pl, peek_on_loop, &p);
        if (p.phase == PH_NAVIGATE)
            break;
        nanosleep(&(struct timespec){0, 10 * MS}, NULL);
    }
    assert_int_equal(p.phase, PH_NAVIGATE);
    probe_loop_call(e->pl, cancel_on_loop, &r);
    assert_gone(&r);
    assert_int_equal(atomic_load(&r.calls), 0);
}

static void test_concurrent(void **state)
{
    struct env *e = *state;
    NEED_CHROMIUM(e);
    struct run r[3] = {
        {.url = url_of(e, "/html/ok"), .text = "Welcome"},
        {.url = url_of(e, "/html/static"), .text = "Hello from outpost"},
        {.url = url_of(e, "/html/slow-image/500"), .selector = "img"},
    };
    for (size_t i = 0; i < 3; i++)
        start(e, &r[i]);
    for (size_t i = 0; i < 3; i++) {
        wait_done(&r[i]);
        assert_gone(&r[i]);
        if (r[i].f.end != CHROME_LOADED)
            fail_msg("run %zu: end %d: %s", i, r[i].f.end, r[i].f.error);
        assert_int_equal(r[i].f.status, 200);
    }
    /* The image held the load event back. */
    assert_true(r[2].f.load >= 0.5);
}

/* ---- no browser, or a fake one ---- */

static void test_missing(void **state)
{
    struct env *e = *state;
    struct run r = {.exe = "/nonexistent/chromium", .url = url_of(e, "/html/ok")};
    run(e, &r);
    assert_int_equal(r.f.end, CHROME_BROWSER);
    assert_string_equal(r.f.error, "cannot run /nonexistent/chromium: No such file or directory");
    assert_int_equal(r.pgid, 0);
}

/* A shell script as the browser; its path (in the test's directory). */
static const char *fake(const char *name, const char *body)
{
    static char path[512];
    snprintf(path, sizeof(path), "%s/%s", tu_tmpdir(), name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "#!/bin/sh\n%s\n", body);
    fclose(f);
    assert_int_equal(chmod(path, 0700), 0);
    return path;
}

static void expect_browser(struct env *e, const char *name, const char *body, int64_t timeout_ns,
                           enum chrome_end end, const char *error)
{
    struct run r = {
        .exe = fake(name, body), .url = url_of(e, "/html/ok"), .timeout_ns = timeout_ns};
    run(e, &r);
    if (r.f.end != end || strcmp(r.f.error, error) != 0)
        fail_msg("%s: end %d, error \"%s\"", name, r.f.end, r.f.error);
    assert_true(r.pgid > 0);
}

static void test_fake_browsers(void **state)
{
    struct env *e = *state;
    /* A helper orphaned at once (its parent subshell exits): reaped too. */
    expect_browser(e, "garbage", "(sleep 60 &)\nprintf 'garbage\\000' >&4\nexec sleep 60", 20 * SEC,
                   CHROME_BROWSER, "the browser sent a DevTools message that is not JSON");
    expect_browser(e, "huge", "head -c 9000000 /dev/zero | tr '\\000' a >&4\nexec sleep 60",
                   20 * SEC, CHROME_BROWSER,
                   "the browser sent a DevTools message over 8388608 bytes");
    expect_browser(e, "error",
                   "printf '{\"id\":1,\"error\":{\"code\":-1,\"message\":\"nope\"}}\\000' >&4\n"
                   "exec sleep 60",
                   20 * SEC, CHROME_BROWSER, "DevTools Browser.getVersion failed: nope");
    expect_browser(e, "closes", "exec 3<&- 4>&-\nexec sleep 60", 20 * SEC, CHROME_BROWSER,
                   "the browser closed the DevTools pipe");
    expect_browser(e, "exits", "echo '[1:2:0101/000000.1:ERROR:x.cc(1)] it broke' >&2\nexit 3",
                   20 * SEC, CHROME_BROWSER, "the browser exited with status 3: it broke");
    /* Answers nothing of ours (an unknown id, an event): the deadline. */
    expect_browser(e, "silent",
                   "printf '{\"id\":99,\"result\":{}}\\000{\"method\":\"X.y\"}\\000' >&4\n"
                   "exec sleep 60",
                   1 * SEC, CHROME_TIMEOUT, "timeout: the browser was still starting");
}

/* Children of this process in a session other than its own (what no
 * group sweep reaps): how many, and how many of them have exited. */
static void count_strays(int *all, int *zombies)
{
    *all = *zombies = 0;
    DIR *d = opendir("/proc/self/task");
    assert_non_null(d);
    struct dirent *t;
    while ((t = readdir(d)) != NULL) {
        if (t->d_name[0] == '.')
            continue;
        char path[300];
        snprintf(path, sizeof(path), "/proc/self/task/%s/children", t->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        char line[8192];
        size_t n = fread(line, 1, sizeof(line) - 1, f);
        fclose(f);
        line[n] = '\0';
        for (char *p = line, *end; *p; p = end) {
            long pid = strtol(p, &end, 10);
            if (end == p)
                break;
            char sp[64], st[512];
            snprintf(sp, sizeof(sp), "/proc/%ld/stat", pid);
            FILE *g = fopen(sp, "r");
            if (!g)
                continue;
            size_t k = fread(st, 1, sizeof(st) - 1, g);
            fclose(g);
            st[k] = '\0';
            char *q = strrchr(st, ')');
            assert_non_null(q);
            char state = q[2];
            char *e2;
            (void)strtol(q + 3, &e2, 10);   /* ppid */
            (void)strtol(e2, &e2, 10);      /* pgrp */
            long sid = strtol(e2, &e2, 10); /* session */
            if (sid != (long)getsid(0)) {
                (*all)++;
                *zombies += state == 'Z';
            }
        }
    }
    closedir(d);
}

/* A browser's descendant that left its group and session (as Chromium's
 * crash handlers do) is adopted by the agent when the group dies: once it
 * has exited, a run's teardown reaps it. The crash handlers of the real
 * runs above exit by themselves after their browser; they are reaped by the
 * next spawn. No zombie is left. */
static void test_strays(void **state)
{
    struct env *e = *state;
    int all, zombies;
    /* The crash handlers of the runs before have all exited. */
    for (int i = 0; i < 2000; i++) {
        count_strays(&all, &zombies);
        if (all == zombies)
            break;
        nanosleep(&(struct timespec){0, 10 * MS}, NULL);
    }
    assert_int_equal(all, zombies);
    /* The escapee has exited before the run ends, a zombie under a parent
     * that never waits (sleep); with the group's death it moves to the
     * agent. */
    expect_browser(e, "escapes",
                   "sh -c 'setsid sh -c \"exit 0\" & echo $! >\"$TMPDIR/esc\"; exec sleep 60' &\n"
                   "while [ ! -s \"$TMPDIR/esc\" ]; do sleep 0.01; done\n"
                   "p=$(cat \"$TMPDIR/esc\")\n"
                   "while ! grep -q '^State:.*Z' /proc/$p/status; do sleep 0.01; done\n"
                   "printf 'garbage\\000' >&4\nexec sleep 60",
                   20 * SEC, CHROME_BROWSER,
                   "the browser sent a DevTools message that is not JSON");
    count_strays(&all, &zombies);
    assert_int_equal(all, 0);
}

static void test_find_executable(void **state)
{
    (void)state;
    assert_null(chrome_find_executable("/nonexistent/chromium"));
    assert_null(chrome_find_executable("no-such-browser-anywhere"));
    assert_null(chrome_find_executable(""));
    assert_null(chrome_find_executable("/tmp")); /* a directory */
    char *sh = chrome_find_executable("sh");
    assert_non_null(sh);
    assert_true(sh[0] == '/');
    free(sh);
    sh = chrome_find_executable("/bin/sh");
    assert_string_equal(sh, "/bin/sh");
    free(sh);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find_executable), cmocka_unit_test(test_missing),
        cmocka_unit_test(test_fake_browsers),   cmocka_unit_test(test_loaded),
        cmocka_unit_test(test_static_and_lcp),  cmocka_unit_test(test_console_errors),
        cmocka_unit_test(test_http_error),      cmocka_unit_test(test_expect_timeout),
        cmocka_unit_test(test_refused),         cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_cancel),          cmocka_unit_test(test_concurrent),
        cmocka_unit_test(test_headers),         cmocka_unit_test(test_tls),
        cmocka_unit_test(test_js_redirect),     cmocka_unit_test(test_strays),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
