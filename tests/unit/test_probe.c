/*
 * test_probe.c - the probe loop (probe.c) driven by a fake check type on a
 * fake clock: scheduling and phases, runs that finish through a loop timer
 * or a watched descriptor, a run skipped while its previous one is in
 * flight, due times kept across a generation swap, commands run on the
 * loop's thread, cancellation at stop, and the timerfd set lazily (when
 * the earliest deadline moves earlier, or after it passed). Overload: a run's deadline counts from
 * its actual start, late starts and skipped runs are counted as overruns, a timeout the loop's own
 * stall caused is not recorded, late runs are shed under sustained load, and an http result's times
 * are libcurl's.
 *
 * The fake type ("fake") has two keys: `finish` (timer: after `after` of
 * the loop's clock; pipe: when a descriptor it watches becomes readable;
 * never: only cancel ends it; deadline: a timeout at the run's deadline)
 * and `after`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "buf.h"
#include "cfg_yaml.h"
#include "check.h"
#include "clock.h"
#include "config.h"
#include "gen.h"
#include "probe.h"
#include "probe_int.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SEC 1000000000LL
#define T0_MONO (6000 * SEC) /* a multiple of every interval used here (60 s) */
#define T0_WALL_MS 1767225600000LL

/* ---- the fake check type ---- */

enum finish { FINISH_TIMER, FINISH_PIPE, FINISH_NEVER, FINISH_DEADLINE };

struct fake_spec {
    int finish;
    int64_t after_ms;
};

struct fake_run {
    struct probe_loop *loop;
    struct probe_job *job;
    const struct fake_spec *spec;
    int64_t started_ns;
    struct probe_timer *timer;
    struct probe_watch *watch;
    int pipe[2];
    bool timeout; /* report a timeout, not a success */
};

static atomic_int g_started, g_cancelled;
static atomic_int g_fail_next;     /* the next this many reports are failures */
static _Atomic int64_t g_deadline; /* the last probe_job_deadline_ns a run saw */
static pthread_t g_loop_thread;

static const char *const finish_names[] = {"timer", "pipe", "never", "deadline", NULL};

static const struct cfg_field fake_fields[] = {
    {.key = "finish",
     .kind = CFG_ENUM,
     .offset = offsetof(struct fake_spec, finish),
     .names = finish_names},
    {.key = "after", .kind = CFG_DURATION, .offset = offsetof(struct fake_spec, after_ms)},
    {0},
};

static void *fake_new_spec(void)
{
    struct fake_spec *s = calloc(1, sizeof(*s));
    cfg_fields_default(fake_fields, s);
    return s;
}

static bool fake_key(struct cfg_parser *p, const char *key, struct yaml_node_s *v, const char *path,
                     struct check_spec *c)
{
    cfg_seen seen = 0;
    return cfg_field_apply(p, fake_fields, key, v, path, c->spec, &seen);
}

static void fake_finish(struct cfg_parser *p, const struct yaml_node_s *n, const char *path,
                        struct check_spec *c)
{
    (void)p;
    (void)n;
    (void)path;
    free(c->target);
    c->target = strdup("fake");
}

static uint64_t fake_identity(const struct check_spec *c)
{
    return hash_str(c->name);
}

static const struct check_schema fake_schema = {
    .name = "fake",
    .new_spec = fake_new_spec,
    .free_spec = free,
    .key = fake_key,
    .finish = fake_finish,
    .identity = fake_identity,
};

static void run_free(struct probe_loop *loop, struct fake_run *r)
{
    if (r->watch)
        probe_unwatch(loop, r->watch);
    if (r->pipe[0] >= 0) {
        close(r->pipe[0]);
        close(r->pipe[1]);
    }
    free(r);
}

/* Report a success whose duration is the loop-clock time the run took. */
static void report(struct fake_run *r)
{
    struct check_result res;
    memset(&res, 0, sizeof(res));
    int left = atomic_load(&g_fail_next);
    res.success = left <= 0 && !r->timeout;
    if (left > 0)
        atomic_store(&g_fail_next, left - 1);
    res.reason = res.success  ? CHECK_REASON_NONE
                 : r->timeout ? CHECK_REASON_TIMEOUT
                              : CHECK_REASON_OTHER;
    res.duration = (double)(probe_now_ns(r->loop) - r->started_ns) / 1e9;
    res.status = 200;
    probe_done(r->loop, r->job, &res);
    run_free(r->loop, r);
}

static void on_timer(struct probe_loop *loop, void *arg)
{
    (void)loop;
    struct fake_run *r = arg;
    r->timer = NULL;
    report(r);
}

static void on_readable(struct probe_loop *loop, int fd, uint32_t events, void *arg)
{
    (void)loop;
    char byte;
    assert_true(events & EPOLLIN);
    assert_int_equal(read(fd, &byte, 1), 1);
    assert_int_equal(byte, 'x');
    report(arg);
}

static enum op_rc fake_start(struct probe_loop *loop, const struct check_spec *c,
                             struct probe_job *job, void **run)
{
    g_loop_thread = pthread_self();
    struct fake_run *r = calloc(1, sizeof(*r));
    r->loop = loop;
    r->job = job;
    r->spec = c->spec;
    r->started_ns = probe_now_ns(loop);
    r->pipe[0] = r->pipe[1] = -1;
    switch (r->spec->finish) {
    case FINISH_TIMER:
        r->timer = probe_timer_at(loop, r->started_ns + r->spec->after_ms * 1000000, on_timer, r);
        break;
    case FINISH_PIPE:
        assert_int_equal(pipe2(r->pipe, O_CLOEXEC | O_NONBLOCK), 0);
        r->watch = probe_watch_fd(loop, r->pipe[0], EPOLLIN, on_readable, r);
        assert_non_null(r->watch);
        assert_int_equal(write(r->pipe[1], "x", 1), 1);
        break;
    case FINISH_NEVER:
        break;
    case FINISH_DEADLINE:
        /* A type without a library timeout: its own timer at the deadline. */
        atomic_store(&g_deadline, probe_job_deadline_ns(job));
        r->timeout = true;
        r->timer = probe_timer_at(loop, probe_job_deadline_ns(job), on_timer, r);
        break;
    }
    atomic_fetch_add(&g_started, 1);
    *run = r;
    return OP_OK;
}

static void fake_cancel(struct probe_loop *loop, void *run)
{
    struct fake_run *r = run;
    probe_timer_cancel(loop, r->timer);
    atomic_fetch_add(&g_cancelled, 1);
    run_free(loop, r);
}

static const enum check_reason fake_reasons[] = {CHECK_REASON_TIMEOUT, CHECK_REASON_OTHER};

static const struct check_type fake_type = {
    .schema = &fake_schema,
    .reasons = fake_reasons,
    .n_reasons = ARRAY_SIZE(fake_reasons),
    .start = fake_start,
    .cancel = fake_cancel,
};

/* ---- fixture ---- */

static struct gen *gen_of(const char *yaml, const struct gen *prev, const struct clock *clk)
{
    struct buf err;
    buf_init(&err, 1u << 16);
    struct cfg *c = NULL;
    if (cfg_load_string(yaml, strlen(yaml), "probe.yml", &c, &err) != OP_OK)
        fail_msg("config: %s", buf_str(&err));
    buf_free(&err);
    return gen_new(c, prev, NULL, clk);
}

static uint64_t runs_of(const struct gen *g, const char *name)
{
    long i = cfg_find_check(gen_cfg(g), name);
    assert_true(i >= 0);
    struct rec_snapshot s;
    rec_read(gen_rec(g, (size_t)i), &s);
    return s.runs;
}

static double sum_of(const struct gen *g, const char *name)
{
    struct rec_snapshot s;
    rec_read(gen_rec(g, (size_t)cfg_find_check(gen_cfg(g), name)), &s);
    return s.sum;
}

/* Wait (bounded: 5 s of real time) until check `name` has `want` runs. */
static void wait_runs(const struct gen *g, const char *name, uint64_t want)
{
    for (int i = 0; i < 5000 && runs_of(g, name) < want; i++)
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    assert_int_equal(runs_of(g, name), want);
}

static void wait_started(int want)
{
    for (int i = 0; i < 5000 && atomic_load(&g_started) < want; i++)
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    assert_int_equal(atomic_load(&g_started), want);
}

/* A command that does nothing: its return means the loop has caught up
 * with the clock (commands run after due deadlines). */
static void nop(void *arg)
{
    (void)arg;
}

/* Move the fake clock and make the loop look at it. */
static void advance(struct probe_loop *pl, struct clock *clk, int64_t ns)
{
    clock_fake_advance(clk, ns);
    probe_loop_wake(pl);
}

static int setup(void **state)
{
    (void)state;
    static bool registered;
    if (!registered)
        check_types_register_test(&fake_type);
    registered = true;
    atomic_store(&g_started, 0);
    atomic_store(&g_cancelled, 0);
    atomic_store(&g_fail_next, 0);
    atomic_store(&g_deadline, 0);
    return 0;
}

/* The phase of check `name` (interval 60 s): it runs at the times t with
 * t mod 60 s == its FNV-1a offset, so from T0 (a multiple of 60 s) its first
 * run is T0 + offset. */
static int64_t offset_of(const char *name)
{
    return (int64_t)(hash_str(name) % (uint64_t)(60 * SEC));
}

#define FAKE(name, finish, after)                                                                  \
    "  - {name: " name ", type: fake, interval: 60s, finish: " finish ", after: " after "}\n"

/* Runs happen at their phase, once per interval, and a run that finishes
 * through a loop timer reports the loop-clock time it took. */
static void test_schedule_and_timer_runs(void **state)
{
    (void)state;
    struct clock *clk = clock_fake_new(T0_MONO, T0_WALL_MS);
    struct gen *g = gen_of("checks:\n" FAKE("alpha", "timer", "2s"), NULL, clk);
    struct probe_loop *pl;
    assert_int_equal(probe_loop_new(clk, &pl), OP_OK);
    assert_int_equal(probe_loop_start(pl, g), OP_OK);
    int64_t off = offset_of("alpha");
    assert_true(off > 2 * SEC && off < 58 * SEC); /* the arithmetic below needs room */

    advance(pl, clk, off - 1);
    /* One nanosecond early: nothing starts. A command round trip proves the
     * loop has looked at the clock since. */
    probe_loop_call(pl, nop, NULL);
    assert_int_equal(atomic_load(&g_started), 0);
    advance(pl, clk, 1);
    wait_started(1);
    assert_int_equal(probe_loop_in_flight(pl), 1);
    assert_int_equal(runs_of(g, "alpha"), 0);
    advance(pl, clk, 2 * SEC); /* its timer */
    wait_runs(g, "alpha", 1);
    assert_true(sum_of(g, "alpha") == 2.0);
    assert_int_equal(probe_loop_in_flight(pl), 0);
    /* The next interval, and the one after. */
    advance(pl, clk, 58 * SEC);
    wait_started(2);
    advance(pl, clk, 2 * SEC);
    wait_runs(g, "alpha", 2);
    advance(pl, clk, 58 * SEC);
    wait_started(3);
    advance(pl, clk, 2 * SEC);
    wait_runs(g, "alpha", 3);
    assert_true(sum_of(g, "alpha") == 6.0);
    /* Lag: every start was on time on the fake clock. */
    struct rec_snapshot lag;
    rec_read(probe_loop_lag(pl), &lag);
    assert_int_equal(lag.runs, 3);
    assert_true(lag.sum == 0.0);
    probe_loop_free(pl);
    gen_unref(g);
    clock_fake_free(clk);
}

/* A run that ends through a descriptor the type watches. */
static void test_fd_watch_run(void **state)
{
    (void)state;
    struct clock *clk = clock_fake_new(T0_MONO, T0_WALL_MS);
    struct gen *g = gen_of("checks:\n" FAKE("piped", "pipe", "1s"), NULL, clk);
    struct probe_loop *pl;
    assert_int_equal(probe_loop_new(clk, &pl), OP_OK);
    assert_int_equal(probe_loop_start(pl, g), OP_OK);
    advance(pl, clk, offset_of("piped"));
    wait_runs(g, "piped", 1);
    assert_true(sum_of(g, "piped") == 0.0); /* no loop time passed */
    advance(pl, clk, 60 * SEC);
    wait_runs(g, "piped", 2);
    probe_loop_free(pl);
    gen_unref(g);
    clock_fake_free(clk);
}

/* A run still in flight when its check is due again is not doubled: the
 * next run waits for it. Stop cancels what is in flight, unrecorded. */
static void test_in_flight_skip_and_cancel(void **state)
{
    (void)state;
    struct clock *clk = clock_fake_new(T0_MONO, T0_WALL_MS);
    struct gen *g = gen_of("checks:\n" FAKE("stuck", "never", "1s"), NULL, clk);
    struct probe_loop *pl;
    assert_int_equal(probe_loop_new(clk, &pl), OP_OK);
    assert_int_equal(probe_loop_start(pl, g), OP_OK);
    advance(pl, clk, offset_of("stuck"));
    wait_started(1);
    for (int i = 0; i < 3; i++) {
        advance(pl, clk, 60 * SEC);
        probe_loop_call(pl, nop, NULL);
    }
    assert_int_equal(atomic_load(&g_started), 1);
    assert_int_equal(probe_loop_in_flight(pl), 1);
    struct rec_snapshot lag;
    rec_read(probe_loop_lag(pl), &lag);
    assert_int_equal(lag.runs, 1); /* waiting runs are not starts */
    probe_loop_stop(pl);
    assert_int_equal(atomic_load(&g_cancelled), 1);
    assert_int_equal(probe_loop_in_flight(pl), 0);
    assert_int_equal(runs_of(g, "stuck"), 0);
    assert_false(probe_loop_running(pl));
    probe_loop_free(pl);
    gen_unref(g);
    clock_fake_free(clk);
}

/* A swap keeps the due time of a check with the same name and interval,
 * and the recorder carries its counters; a new check gets its own phase. */
static void test_swap_keeps_schedule(void **state)
{
    (void)state;
    struct clock *clk = clock_fake_new(T0_MONO, T0_WALL_MS);
    const char *one = "checks:\n" FAKE("alpha", "pipe", "1s");
    struct gen *g1 = gen_of(one, NULL, clk);
    struct probe_loop *pl;
    assert_int_equal(probe_loop_new(clk, &pl), OP_OK);
    assert_int_equal(probe_loop_start(pl, g1), OP_OK);
    advance(pl, clk, offset_of("alpha"));
    wait_runs(g1, "alpha", 1);
    /* Reload: alpha unchanged, beta new. */
    struct gen *g2 =
        gen_of("checks:\n" FAKE("beta", "pipe", "1s") FAKE("alpha", "pipe", "1s"), g1, clk);
    probe_loop_swap(pl, g2);
    probe_loop_call(pl, nop, NULL); /* the swap is applied */
    /* alpha's next run is one interval after its first, not re-phased. */
    int64_t to_next = 60 * SEC;
    int64_t beta = offset_of("beta") - offset_of("alpha");
    if (beta <= 0)
        beta += 60 * SEC;
    if (beta < to_next) {
        advance(pl, clk, beta);
        wait_runs(g2, "beta", 1);
        to_next -= beta;
    }
    assert_int_equal(runs_of(g2, "alpha"), 1);
    advance(pl, clk, to_next - 1);
    probe_loop_call(pl, nop, NULL);
    assert_int_equal(runs_of(g2, "alpha"), 1);
    advance(pl, clk, 1);
    wait_runs(g2, "alpha", 2);
    probe_loop_free(pl);
    gen_unref(g1);
    gen_unref(g2);
    clock_fake_free(clk);
}

static void note_thread(void *arg)
{
    *(pthread_t *)arg = pthread_self();
}

/* probe_loop_call runs on the loop's thread while it runs, inline after. */
static void test_call_runs_on_loop_thread(void **state)
{
    (void)state;
    struct clock *clk = clock_fake_new(T0_MONO, T0_WALL_MS);
    struct gen *g = gen_of("checks:\n" FAKE("alpha", "pipe", "1s"), NULL, clk);
    struct probe_loop *pl;
    assert_int_equal(probe_loop_new(clk, &pl), OP_OK);
    pthread_t seen = pthread_self();
    probe_loop_call(pl, note_thread, &seen); /* not started: inline */
    assert_true(pthread_equal(seen, pthread_self()));
    assert_int_equal(probe_loop_start(pl, g), OP_OK);
    advance(pl, clk, offset_of("alpha"));
    wait_runs(g, "alpha", 1);
    probe_loop_call(pl, note_thread, &seen);
    assert_false(pthread_equal(seen, pthread_self()));
    assert_true(pthread_equal(seen, g_loop_thread));
    probe_loop_stop(pl);
    probe_loop_call(pl, note_thread, &seen); /* stopped: inline again */
    assert_true(pthread_equal(seen, pthread_self()));
    probe_loop_free(pl);
    gen_unref(g);
    clock_fake_free(clk);
}

/* The timerfd is set again only when the earliest deadline moves: wake-ups
 * with nothing due leave it alone; a run that comes due sets it once for
 * the next deadline. */
static void test_rearm_only_on_change(void **state)
{
    (void)state;
    struct clock *clk = clock_fake_new(T0_MONO, T0_WALL_MS);
    struct gen *g = gen_of("checks:\n" FAKE("alpha", "pipe", "1s"), NULL, clk);
    struct probe_loop *pl;
    assert_int_equal(probe_loop_new(clk, &pl), OP_OK);
    assert_int_equal(probe_loop_start(pl, g), OP_OK);
    probe_loop_call(pl, nop, NULL);
    uint64_t sets = probe_loop_timer_sets(pl);
    assert_int_equal(sets, 1); /* alpha's first due time */
    for (int i = 0; i < 5; i++) {
        probe_loop_wake(pl);
        probe_loop_call(pl, nop, NULL);
    }
    assert_int_equal(probe_loop_timer_sets(pl), sets);
    advance(pl, clk, offset_of("alpha"));
    wait_runs(g, "alpha", 1);
    probe_loop_call(pl, nop, NULL);
    assert_int_equal(probe_loop_timer_sets(pl), sets + 1); /* the next interval */
    probe_loop_free(pl);
    gen_unref(g);
    clock_fake_free(clk);
}

struct curl_timer_call {
    struct probe_loop *pl;
    long ms;
};

/* On the loop's thread, as libcurl would: a new timeout (CURLMOPT_TIMERFUNCTION). */
static void call_curl_timer(void *arg)
{
    struct curl_timer_call *c = arg;
    assert_int_equal(probe_on_curl_timer(NULL, c->ms, c->pl), 0);
}

/* The timer sets after libcurl asked for a timeout in ms (-1: none); the
 * second call returns after the loop finished the pass that ran the
 * first, its arming included. */
static uint64_t sets_after_curl_timer(struct probe_loop *pl, long ms)
{
    struct curl_timer_call c = {pl, ms};
    probe_loop_call(pl, call_curl_timer, &c);
    probe_loop_call(pl, nop, NULL);
    return probe_loop_timer_sets(pl);
}

/* The timerfd is set lazily: when a deadline earlier than the one it holds
 * comes up, or after the one it holds passed; a deadline that moved later
 * leaves it alone (it fires early once), and a deadline due at once runs
 * without it. The durations are long enough that the real timerfd never
 * fires during the test (it counts real time from the loop's clock). */
static void test_timer_sets_lazy(void **state)
{
    (void)state;
    char name[16], yaml[160];
    int64_t off = 0;
    for (int i = 0; i < 1000 && (off <= 21 * SEC || off >= 55 * SEC); i++) {
        snprintf(name, sizeof(name), "lazy%d", i);
        off = offset_of(name);
    }
    assert_true(off > 21 * SEC && off < 55 * SEC);
    snprintf(yaml, sizeof(yaml),
             "checks:\n  - {name: %s, type: fake, interval: 60s, finish: pipe}\n", name);
    struct clock *clk = clock_fake_new(T0_MONO, T0_WALL_MS);
    struct gen *g = gen_of(yaml, NULL, clk);
    struct probe_loop *pl;
    assert_int_equal(probe_loop_new(clk, &pl), OP_OK);
    assert_int_equal(probe_loop_start(pl, g), OP_OK);
    probe_loop_call(pl, nop, NULL);
    assert_int_equal(probe_loop_timer_sets(pl), 1);        /* the check's first due time */
    assert_int_equal(sets_after_curl_timer(pl, 20000), 2); /* earlier than that */
    assert_int_equal(sets_after_curl_timer(pl, 40000), 2); /* later than what is armed */
    assert_int_equal(sets_after_curl_timer(pl, 10000), 3); /* earlier again */
    assert_int_equal(sets_after_curl_timer(pl, 0), 3);     /* at once: run without the timerfd */
    assert_int_equal(sets_after_curl_timer(pl, -1), 3);    /* none: the armed 10 s fires early */
    advance(pl, clk, 10 * SEC);                            /* what is armed has passed */
    probe_loop_call(pl, nop, NULL);
    assert_int_equal(probe_loop_timer_sets(pl), 4); /* the check's due time again */
    advance(pl, clk, off - 10 * SEC);
    wait_runs(g, name, 1);
    probe_loop_call(pl, nop, NULL);
    assert_int_equal(probe_loop_timer_sets(pl), 5); /* its next interval */
    probe_loop_free(pl);
    gen_unref(g);
    clock_fake_free(clk);
}

static uint64_t retries_of(const struct gen *g, const char *name)
{
    struct rec_snapshot s;
    rec_read(gen_rec(g, (size_t)cfg_find_check(gen_cfg(g), name)), &s);
    return s.retries;
}

/* A failed attempt is probed again after retry.delay of the loop's clock;
 * only the last attempt's result is recorded, every retry is counted. */
static void test_retry(void **state)
{
    (void)state;
    struct clock *clk = clock_fake_new(T0_MONO, T0_WALL_MS);
    struct gen *g = gen_of("checks:\n"
                           "  - {name: alpha, type: fake, interval: 60s, finish: pipe,\n"
                           "     retry: {attempts: 2, delay: 5s}}\n",
                           NULL, clk);
    struct probe_loop *pl;
    assert_int_equal(probe_loop_new(clk, &pl), OP_OK);
    assert_int_equal(probe_loop_start(pl, g), OP_OK);
    atomic_store(&g_fail_next, 2); /* two failures, then a success */
    advance(pl, clk, offset_of("alpha"));
    wait_started(1);
    for (int i = 0; i < 1000 && retries_of(g, "alpha") < 1; i++)
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    assert_int_equal(retries_of(g, "alpha"), 1);
    assert_int_equal(runs_of(g, "alpha"), 0); /* nothing counted yet */
    assert_int_equal(probe_loop_in_flight(pl), 1);
    advance(pl, clk, 5 * SEC - 1); /* one nanosecond early */
    probe_loop_call(pl, nop, NULL);
    assert_int_equal(atomic_load(&g_started), 1);
    advance(pl, clk, 1);
    wait_started(2);
    advance(pl, clk, 5 * SEC);
    wait_runs(g, "alpha", 1);
    assert_int_equal(atomic_load(&g_started), 3);
    assert_int_equal(retries_of(g, "alpha"), 2);
    struct rec_snapshot s;
    rec_read(gen_rec(g, 0), &s);
    assert_true(s.up);
    assert_int_equal(s.failures[CHECK_REASON_OTHER], 0);
    assert_int_equal(probe_loop_in_flight(pl), 0);

    /* All three attempts fail: one failure, two more retries. */
    atomic_store(&g_fail_next, 100);
    advance(pl, clk, 50 * SEC);
    wait_started(4);
    advance(pl, clk, 5 * SEC);
    wait_started(5);
    advance(pl, clk, 5 * SEC);
    wait_runs(g, "alpha", 2);
    rec_read(gen_rec(g, 0), &s);
    assert_false(s.up);
    assert_int_equal(s.failures[CHECK_REASON_OTHER], 1);
    assert_int_equal(s.retries, 4);
    probe_loop_free(pl);
    gen_unref(g);
    clock_fake_free(clk);
}

/* ---- overload ---- */

static uint64_t failures_of(const struct gen *g, const char *name, enum check_reason r)
{
    struct rec_snapshot s;
    rec_read(gen_rec(g, (size_t)cfg_find_check(gen_cfg(g), name)), &s);
    return s.failures[r];
}

static void expect_overruns(const struct probe_loop *pl, uint64_t late, uint64_t skipped,
                            uint64_t stalled)
{
    uint64_t n[SCHED_OVERRUN_COUNT];
    probe_loop_overruns(pl, n);
    if (n[SCHED_OVERRUN_LATE] != late || n[SCHED_OVERRUN_SKIPPED] != skipped ||
        n[SCHED_OVERRUN_STALLED] != stalled)
        fail_msg("overruns late=%llu skipped=%llu stalled=%llu, want %llu %llu %llu",
                 (unsigned long long)n[SCHED_OVERRUN_LATE],
                 (unsigned long long)n[SCHED_OVERRUN_SKIPPED],
                 (unsigned long long)n[SCHED_OVERRUN_STALLED], (unsigned long long)late,
                 (unsigned long long)skipped, (unsigned long long)stalled);
}

static int64_t offset10_of(const char *name)
{
    return (int64_t)(hash_str(name) % (uint64_t)(10 * SEC));
}

#define DEADLINE(name, interval, timeout)                                                          \
    "  - {name: " name ", type: fake, interval: " interval ", timeout: " timeout                   \
    ", finish: deadline}\n"

/* A run that starts 3 s late still gets its whole timeout: the deadline
 * counts from the actual start, not from the planned one. The late start
 * is an overrun; the timeout is the target's and recorded as such. */
static void test_deadline_from_actual_start(void **state)
{
    (void)state;
    struct clock *clk = clock_fake_new(T0_MONO, T0_WALL_MS);
    struct gen *g = gen_of("checks:\n" DEADLINE("alpha", "60s", "10s"), NULL, clk);
    struct probe_loop *pl;
    assert_int_equal(probe_loop_new(clk, &pl), OP_OK);
    assert_int_equal(probe_loop_start(pl, g), OP_OK);
    int64_t off = offset_of("alpha");
    advance(pl, clk, off + 3 * SEC); /* the loop wakes 3 s after the plan */
    wait_started(1);
    assert_int_equal(atomic_load(&g_deadline), T0_MONO + off + 3 * SEC + 10 * SEC);
    struct rec_snapshot lag;
    rec_read(probe_loop_lag(pl), &lag);
    assert_int_equal(lag.runs, 1);
    assert_true(lag.sum == 3.0);
    expect_overruns(pl, 1, 0, 0); /* 3 s > the 1 s late threshold of a 60 s interval */
    /* Ten seconds after the plan the run is still going. */
    advance(pl, clk, 7 * SEC);
    probe_loop_call(pl, nop, NULL);
    assert_int_equal(runs_of(g, "alpha"), 0);
    advance(pl, clk, 3 * SEC - 1); /* one nanosecond before its own deadline */
    probe_loop_call(pl, nop, NULL);
    assert_int_equal(runs_of(g, "alpha"), 0);
    advance(pl, clk, 1);
    wait_runs(g, "alpha", 1);
    assert_int_equal(failures_of(g, "alpha", CHECK_REASON_TIMEOUT), 1);
    assert_true(sum_of(g, "alpha") == 10.0);
    expect_overruns(pl, 1, 0, 0);
    probe_loop_free(pl);
    gen_unref(g);
    clock_fake_free(clk);
}

/* The loop stalls 5 s past a run's deadline (more than a tenth of its 10 s
 * timeout): that timeout is the agent's, counted as `stalled` and not
 * recorded. The next run times out with the loop on time: recorded. */
static void test_stalled_timeout_not_recorded(void **state)
{
    (void)state;
    struct clock *clk = clock_fake_new(T0_MONO, T0_WALL_MS);
    struct gen *g = gen_of("checks:\n" DEADLINE("alpha", "60s", "10s"), NULL, clk);
    struct probe_loop *pl;
    assert_int_equal(probe_loop_new(clk, &pl), OP_OK);
    assert_int_equal(probe_loop_start(pl, g), OP_OK);
    advance(pl, clk, offset_of("alpha"));
    wait_started(1);
    advance(pl, clk, 15 * SEC); /* the deadline timer comes 5 s late */
    for (int i = 0; i < 5000 && probe_loop_in_flight(pl) > 0; i++)
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    assert_int_equal(probe_loop_in_flight(pl), 0);
    probe_loop_call(pl, nop, NULL);
    assert_int_equal(runs_of(g, "alpha"), 0);
    assert_int_equal(failures_of(g, "alpha", CHECK_REASON_TIMEOUT), 0);
    expect_overruns(pl, 0, 0, 1);
    /* Next interval, on time: a timeout of the target's. */
    advance(pl, clk, 45 * SEC);
    wait_started(2);
    advance(pl, clk, 10 * SEC);
    wait_runs(g, "alpha", 1);
    assert_int_equal(failures_of(g, "alpha", CHECK_REASON_TIMEOUT), 1);
    expect_overruns(pl, 0, 0, 1);
    probe_loop_free(pl);
    gen_unref(g);
    clock_fake_free(clk);
}

/* The loop wakes 15 s after a run of a 10 s check was due: it starts late
 * (the load after one 15 s pause is below the shedding level) and the run
 * planned in between is skipped, not bunched. */
static void test_late_and_skipped(void **state)
{
    (void)state;
    struct clock *clk = clock_fake_new(T0_MONO, T0_WALL_MS);
    struct gen *g =
        gen_of("checks:\n  - {name: beta, type: fake, interval: 10s, finish: timer, after: 1s}\n",
               NULL, clk);
    struct probe_loop *pl;
    assert_int_equal(probe_loop_new(clk, &pl), OP_OK);
    assert_int_equal(probe_loop_start(pl, g), OP_OK);
    int64_t off = offset10_of("beta");
    advance(pl, clk, off + 15 * SEC);
    wait_started(1);
    expect_overruns(pl, 1, 1, 0);
    advance(pl, clk, 1 * SEC);
    wait_runs(g, "beta", 1);
    /* The next run is the next phase after the late one: off + 20 s. */
    advance(pl, clk, 4 * SEC - 1);
    probe_loop_call(pl, nop, NULL);
    assert_int_equal(atomic_load(&g_started), 1);
    advance(pl, clk, 1);
    wait_started(2);
    expect_overruns(pl, 1, 1, 0);
    /* 100 ms late is within the 1 s threshold of a 10 s interval. */
    advance(pl, clk, 1 * SEC);
    wait_runs(g, "beta", 2);
    advance(pl, clk, 9 * SEC + 100 * 1000000LL);
    wait_started(3);
    expect_overruns(pl, 1, 1, 0);
    struct rec_snapshot lag;
    rec_read(probe_loop_lag(pl), &lag);
    assert_int_equal(lag.runs, 3);
    assert_float_equal(lag.sum, 15.1, 1e-9);
    probe_loop_free(pl);
    gen_unref(g);
    clock_fake_free(clk);
}

/* After a 45 s stall the loop's load is above SCHED_SHED_LOAD: the late run
 * is skipped rather than started on a loop that cannot keep up, and so are
 * the four planned while it stalled. The next run, on time, starts although
 * the load is still high. */
static void test_shed_under_load(void **state)
{
    (void)state;
    struct clock *clk = clock_fake_new(T0_MONO, T0_WALL_MS);
    struct gen *g =
        gen_of("checks:\n  - {name: beta, type: fake, interval: 10s, finish: timer, after: 1s}\n",
               NULL, clk);
    struct probe_loop *pl;
    assert_int_equal(probe_loop_new(clk, &pl), OP_OK);
    assert_int_equal(probe_loop_start(pl, g), OP_OK);
    int64_t off = offset10_of("beta");
    advance(pl, clk, off + 45 * SEC);
    probe_loop_call(pl, nop, NULL);
    assert_int_equal(atomic_load(&g_started), 0);
    expect_overruns(pl, 0, 5, 0);
    struct rec_snapshot lag;
    rec_read(probe_loop_lag(pl), &lag);
    assert_int_equal(lag.runs, 0); /* skipped runs are not starts */
    advance(pl, clk, 5 * SEC);     /* off + 50 s, on time */
    wait_started(1);
    advance(pl, clk, 1 * SEC);
    wait_runs(g, "beta", 1);
    expect_overruns(pl, 0, 5, 0);
    probe_loop_free(pl);
    gen_unref(g);
    clock_fake_free(clk);
}

/* A run that outlasts its interval: the next one waits and starts the
 * moment it ends, its lag counted from its own plan; nothing is skipped. */
static void test_waiting_run_starts_when_previous_ends(void **state)
{
    (void)state;
    struct clock *clk = clock_fake_new(T0_MONO, T0_WALL_MS);
    struct gen *g = gen_of("checks:\n" FAKE("alpha", "timer", "60500ms"), NULL, clk);
    struct probe_loop *pl;
    assert_int_equal(probe_loop_new(clk, &pl), OP_OK);
    assert_int_equal(probe_loop_start(pl, g), OP_OK);
    advance(pl, clk, offset_of("alpha"));
    wait_started(1);
    advance(pl, clk, 60 * SEC); /* due again, the first still running */
    probe_loop_call(pl, nop, NULL);
    assert_int_equal(atomic_load(&g_started), 1);
    advance(pl, clk, 500 * 1000000LL);
    wait_runs(g, "alpha", 1);
    wait_started(2);
    struct rec_snapshot lag;
    rec_read(probe_loop_lag(pl), &lag);
    assert_int_equal(lag.runs, 2);
    assert_float_equal(lag.sum, 0.5, 1e-9);
    expect_overruns(pl, 0, 0, 0);
    /* Its successor keeps the plan: due at offset + 120 s, it waits until
     * the second run ends a second later. */
    advance(pl, clk, 59500 * 1000000LL);
    probe_loop_call(pl, nop, NULL);
    assert_int_equal(atomic_load(&g_started), 2);
    advance(pl, clk, 1 * SEC);
    wait_runs(g, "alpha", 2);
    wait_started(3);
    rec_read(probe_loop_lag(pl), &lag);
    assert_float_equal(lag.sum, 1.5, 1e-9);
    expect_overruns(pl, 0, 0, 0); /* a 1 s lag is not above a 60 s check's threshold */
    probe_loop_free(pl);
    gen_unref(g);
    clock_fake_free(clk);
}

/* ---- an http run whose loop clock jumps ---- */

/* A loopback HTTP server for one request: it answers only once `go` is
 * set, so the test can move the loop's clock while the transfer waits. */
struct gated {
    int lfd, port;
    pthread_t thread;
    atomic_bool accepted, go;
};

static void *gated_main(void *arg)
{
    struct gated *gs = arg;
    int c = accept(gs->lfd, NULL, NULL);
    if (c < 0)
        return NULL;
    char req[4096];
    size_t len = 0;
    while (len < sizeof(req) - 1) {
        ssize_t n = read(c, req + len, sizeof(req) - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        req[len] = 0;
        if (strstr(req, "\r\n\r\n"))
            break;
    }
    atomic_store(&gs->accepted, true);
    for (int i = 0; i < 10000 && !atomic_load(&gs->go); i++)
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    static const char resp[] =
        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n";
    assert_int_equal(write(c, resp, sizeof(resp) - 1), (ssize_t)(sizeof(resp) - 1));
    close(c);
    return NULL;
}

static void gated_start(struct gated *gs)
{
    memset(gs, 0, sizeof(*gs));
    gs->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(gs->lfd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(gs->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(gs->lfd, 4), 0);
    socklen_t alen = sizeof(a);
    assert_int_equal(getsockname(gs->lfd, (struct sockaddr *)&a, &alen), 0);
    gs->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&gs->thread, NULL, gated_main, gs), 0);
}

/* The probe thread "starved" 30 s past the check's 5 s timeout while the
 * target had not answered yet (the loop's fake clock jumps): libcurl keeps
 * its own time, so the answer that follows makes a success, and the
 * duration is libcurl's measured time, not the loop's 30 s. */
static void test_http_times_are_libcurl_s(void **state)
{
    (void)state;
    assert_int_equal(check_types_init(), OP_OK);
    struct gated gs;
    gated_start(&gs);
    char yaml[256];
    snprintf(yaml, sizeof(yaml),
             "checks:\n  - {name: web, type: http, url: 'http://127.0.0.1:%d/', interval: 60s, "
             "timeout: 5s}\n",
             gs.port);
    struct clock *clk = clock_fake_new(T0_MONO, T0_WALL_MS);
    struct gen *g = gen_of(yaml, NULL, clk);
    struct probe_loop *pl;
    assert_int_equal(probe_loop_new(clk, &pl), OP_OK);
    assert_int_equal(probe_loop_start(pl, g), OP_OK);
    advance(pl, clk, offset_of("web"));
    /* libcurl's timers are on the loop's clock too: let it pass as the
     * real one does, a millisecond at a time. */
    for (int i = 0; i < 5000 && !atomic_load(&gs.accepted); i++) {
        nanosleep(&(struct timespec){0, 1000000}, NULL);
        advance(pl, clk, 1000000);
    }
    assert_true(atomic_load(&gs.accepted));
    advance(pl, clk, 30 * SEC);
    probe_loop_call(pl, nop, NULL);
    assert_int_equal(runs_of(g, "web"), 0);
    atomic_store(&gs.go, true);
    for (int i = 0; i < 5000 && runs_of(g, "web") < 1; i++) {
        nanosleep(&(struct timespec){0, 1000000}, NULL);
        advance(pl, clk, 1000000);
    }
    assert_int_equal(runs_of(g, "web"), 1);
    struct rec_snapshot s;
    rec_read(gen_rec(g, 0), &s);
    assert_true(s.up);
    assert_int_equal(s.failures[CHECK_REASON_TIMEOUT], 0);
    assert_true(s.sum > 0 && s.sum < 1.0);
    expect_overruns(pl, 0, 0, 0);
    probe_loop_free(pl);
    gen_unref(g);
    clock_fake_free(clk);
    pthread_join(gs.thread, NULL);
    close(gs.lfd);
    check_types_fini();
}

/* ---- adhoc runs (probe_adhoc.c) ---- */

struct adhoc_seen {
    atomic_int reports, nulls;
    _Atomic double duration;
    atomic_bool success;
    pthread_t thread;
};

static void adhoc_report(void *arg, const struct check_result *res)
{
    struct adhoc_seen *s = arg;
    s->thread = pthread_self();
    if (res) {
        atomic_store(&s->duration, res->duration);
        atomic_store(&s->success, res->success);
    } else {
        atomic_fetch_add(&s->nulls, 1);
    }
    atomic_fetch_add(&s->reports, 1); /* last: the waiter reads the rest after it */
}

static void wait_reports(struct adhoc_seen *s, int want)
{
    for (int i = 0; i < 5000 && atomic_load(&s->reports) < want; i++)
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    assert_int_equal(atomic_load(&s->reports), want);
}

/* An adhoc run starts at once, reports once on the loop's thread, feeds no
 * sink, leaves the scheduled checks' count and schedule alone, is limited
 * to max in flight, and is cancelled (reported as NULL) at stop. Before
 * the loop runs, none is taken. */
static void test_adhoc_runs(void **state)
{
    (void)state;
    struct clock *clk = clock_fake_new(T0_MONO, T0_WALL_MS);
    struct gen *g = gen_of("checks:\n" FAKE("alpha", "timer", "2s"), NULL, clk);
    /* The adhoc specs: checks of a configuration the loop never runs. */
    struct gen *other =
        gen_of("checks:\n" FAKE("quick", "timer", "1s") FAKE("stuck", "never", "1s"), NULL, clk);
    const struct check_spec *quick = cfg_check(gen_cfg(other), 0);
    const struct check_spec *stuck = cfg_check(gen_cfg(other), 1);
    struct adhoc_seen a = {0}, b = {0};
    struct probe_loop *pl;
    assert_int_equal(probe_loop_new(clk, &pl), OP_OK);
    assert_int_equal(probe_loop_run_adhoc(pl, quick, 1, adhoc_report, &a), OP_ERR_STATE);
    assert_int_equal(probe_loop_adhoc_in_flight(pl), 0);
    assert_int_equal(probe_loop_start(pl, g), OP_OK);

    assert_int_equal(probe_loop_run_adhoc(pl, quick, 1, adhoc_report, &a), OP_OK);
    assert_int_equal(probe_loop_run_adhoc(pl, quick, 1, adhoc_report, &b), OP_ERR_LIMIT);
    wait_started(1);
    assert_int_equal(probe_loop_adhoc_in_flight(pl), 1);
    assert_int_equal(probe_loop_in_flight(pl), 0); /* scheduled runs only */
    advance(pl, clk, 1 * SEC);
    wait_reports(&a, 1);
    assert_true(pthread_equal(a.thread, g_loop_thread));
    assert_true(atomic_load(&a.success));
    assert_true(atomic_load(&a.duration) == 1.0);
    assert_int_equal(atomic_load(&a.nulls), 0);
    assert_int_equal(probe_loop_adhoc_in_flight(pl), 0);
    assert_int_equal(runs_of(g, "alpha"), 0);
    assert_int_equal(runs_of(other, "quick"), 0); /* no sink */

    /* The scheduled check still runs at its own phase, beside an adhoc run. */
    assert_int_equal(probe_loop_run_adhoc(pl, stuck, 2, adhoc_report, &b), OP_OK);
    wait_started(2);
    advance(pl, clk, offset_of("alpha") - 1 * SEC);
    wait_started(3);
    advance(pl, clk, 2 * SEC);
    wait_runs(g, "alpha", 1);
    assert_int_equal(atomic_load(&b.reports), 0);
    probe_loop_stop(pl);
    assert_int_equal(atomic_load(&b.reports), 1);
    assert_int_equal(atomic_load(&b.nulls), 1);
    assert_int_equal(atomic_load(&g_cancelled), 1);
    assert_int_equal(probe_loop_adhoc_in_flight(pl), 0);
    assert_int_equal(probe_loop_run_adhoc(pl, quick, 1, adhoc_report, &a), OP_ERR_STATE);
    assert_int_equal(atomic_load(&a.reports), 1);
    probe_loop_free(pl);
    gen_unref(g);
    gen_unref(other);
    clock_fake_free(clk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_schedule_and_timer_runs, setup),
        cmocka_unit_test_setup(test_fd_watch_run, setup),
        cmocka_unit_test_setup(test_in_flight_skip_and_cancel, setup),
        cmocka_unit_test_setup(test_swap_keeps_schedule, setup),
        cmocka_unit_test_setup(test_call_runs_on_loop_thread, setup),
        cmocka_unit_test_setup(test_rearm_only_on_change, setup),
        cmocka_unit_test_setup(test_timer_sets_lazy, setup),
        cmocka_unit_test_setup(test_retry, setup),
        cmocka_unit_test_setup(test_deadline_from_actual_start, setup),
        cmocka_unit_test_setup(test_stalled_timeout_not_recorded, setup),
        cmocka_unit_test_setup(test_late_and_skipped, setup),
        cmocka_unit_test_setup(test_shed_under_load, setup),
        cmocka_unit_test_setup(test_waiting_run_starts_when_previous_ends, setup),
        cmocka_unit_test_setup(test_http_times_are_libcurl_s, setup),
        cmocka_unit_test_setup(test_adhoc_runs, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
