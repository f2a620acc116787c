/*
 * test_smoke_run.c - `outpost check`'s runner (smoke_run.c) on the real
 * probe loop in one-shot mode, driven by a fake check type ("fake"):
 * every selected check starts at once and runs once, unselected ones never;
 * steps a type reports reach the report; retries are honoured and counted;
 * a run still going at --timeout is cancelled and reported as a timeout;
 * a run that cannot start is reported without waiting for the deadline.
 *
 * The fake type's keys: `after` (the run reports after this long on the
 * loop's clock; 0: never, only cancel ends it), `fail` (report failure),
 * `steps` (report this many steps, the last one failing when `fail`),
 * `start_fails` (start returns an error).
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
#include "probe.h"
#include "smoke_run.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fake_spec {
    int64_t after_ms;
    bool fail, start_fails;
    unsigned steps;
};

struct fake_run {
    struct probe_loop *loop;
    struct probe_job *job;
    const struct fake_spec *spec;
    int64_t started_ns;
    struct probe_timer *timer;
};

static atomic_int g_started, g_cancelled;
static int64_t g_first_start_ns, g_last_start_ns; /* probe thread only */

static const struct cfg_field fake_fields[] = {
    {.key = "after", .kind = CFG_DURATION, .offset = offsetof(struct fake_spec, after_ms)},
    {.key = "fail", .kind = CFG_BOOL, .offset = offsetof(struct fake_spec, fail)},
    {.key = "start_fails", .kind = CFG_BOOL, .offset = offsetof(struct fake_spec, start_fails)},
    {.key = "steps",
     .kind = CFG_UINT,
     .offset = offsetof(struct fake_spec, steps),
     .min = 0,
     .max = 5000},
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
    c->target = strdup("fake://t");
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

static void on_timer(struct probe_loop *loop, void *arg)
{
    struct fake_run *r = arg;
    const struct fake_spec *s = r->spec;
    struct check_step *steps = calloc(s->steps ? s->steps : 1, sizeof(*steps));
    char(*names)[16] = calloc(s->steps ? s->steps : 1, sizeof(*names));
    for (unsigned k = 0; k < s->steps; k++) {
        bool bad = s->fail && k + 1 == s->steps;
        snprintf(names[k], sizeof(names[k]), "step-%u", k + 1);
        steps[k] = (struct check_step){
            .name = names[k],
            .success = !bad,
            .reason = bad ? CHECK_REASON_HTTP_STATUS : CHECK_REASON_NONE,
            .duration = 0.001 * (k + 1),
            .status = bad ? 500 : 200,
            .detail = bad ? "status 500 not in [200-299]" : "",
        };
    }
    struct check_result res;
    memset(&res, 0, sizeof(res));
    res.success = !s->fail;
    res.reason = s->fail ? CHECK_REASON_HTTP_STATUS : CHECK_REASON_NONE;
    res.duration = (double)(probe_now_ns(loop) - r->started_ns) / 1e9;
    res.status = s->fail ? 500 : 200;
    if (s->fail)
        snprintf(res.detail, sizeof(res.detail), "step step-%u: status 500", s->steps);
    res.steps = s->steps ? steps : NULL;
    res.n_steps = s->steps;
    probe_done(loop, r->job, &res);
    /* Steps are borrowed only for the delivery: gone now, as a type's are. */
    free(steps);
    free(names);
    free(r);
}

static enum op_rc fake_start(struct probe_loop *loop, const struct check_spec *c,
                             struct probe_job *job, void **run)
{
    const struct fake_spec *s = c->spec;
    if (s->start_fails)
        return OP_ERR_SYSTEM;
    struct fake_run *r = calloc(1, sizeof(*r));
    *r = (struct fake_run){.loop = loop, .job = job, .spec = s, .started_ns = probe_now_ns(loop)};
    if (atomic_fetch_add(&g_started, 1) == 0)
        g_first_start_ns = r->started_ns;
    g_last_start_ns = r->started_ns;
    if (s->after_ms)
        r->timer = probe_timer_at(loop, r->started_ns + s->after_ms * 1000000, on_timer, r);
    *run = r;
    return OP_OK;
}

static void fake_cancel(struct probe_loop *loop, void *run)
{
    struct fake_run *r = run;
    probe_timer_cancel(loop, r->timer);
    atomic_fetch_add(&g_cancelled, 1);
    free(r);
}

static const enum check_reason fake_reasons[] = {CHECK_REASON_HTTP_STATUS};

static const struct check_type fake_type = {
    .schema = &fake_schema,
    .reasons = fake_reasons,
    .n_reasons = ARRAY_SIZE(fake_reasons),
    .start = fake_start,
    .cancel = fake_cancel,
};

static int setup(void **state)
{
    (void)state;
    atomic_store(&g_started, 0);
    atomic_store(&g_cancelled, 0);
    return 0;
}

static struct cfg *load(const char *yaml)
{
    struct buf err;
    buf_init(&err, 1u << 16);
    struct cfg *c = NULL;
    if (cfg_load_string(yaml, strlen(yaml), "smoke.yml", &c, &err) != OP_OK)
        fail_msg("config: %s", buf_str(&err));
    buf_free(&err);
    return c;
}

/* Runs cfg with the checks named in `only` (NULL: all). */
static void run(const char *yaml, const char *const *only, int64_t timeout_ms,
                struct smoke_report *rep)
{
    struct cfg *cfg = load(yaml);
    size_t n = cfg_check_count(cfg);
    bool *sel = calloc(n, sizeof(*sel));
    for (size_t i = 0; i < n; i++)
        sel[i] = !only;
    for (; only && *only; only++)
        sel[cfg_find_check(cfg, *only)] = true;
    struct smoke_run_options o = {sel, timeout_ms, timeout_ms ? "300ms" : NULL};
    assert_int_equal(smoke_run(cfg, &o, rep), OP_OK);
    free(sel);
}

static const struct smoke_result *result_of(const struct smoke_report *r, const char *name)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->results[i].name, name) == 0)
            return &r->results[i];
    fail_msg("no result for %s", name);
    return NULL;
}

/* Three checks of 200 ms each: they start together (within a few ms of
 * each other, not 200 ms apart) and all report; steps arrive intact. */
static void test_all_at_once_with_steps(void **state)
{
    (void)state;
    struct smoke_report rep;
    run("checks:\n"
        "  - {name: a, type: fake, after: 200ms}\n"
        "  - {name: b, type: fake, after: 200ms, steps: 2}\n"
        "  - {name: c, type: fake, after: 200ms, steps: 3, fail: true, group: g}\n",
        NULL, 0, &rep);
    assert_int_equal(atomic_load(&g_started), 3);
    assert_true(g_last_start_ns - g_first_start_ns < 100000000);
    assert_int_equal(rep.n, 3);
    assert_true(rep.duration >= 0.2 && rep.duration < 0.4);
    const struct smoke_result *a = &rep.results[0], *b = &rep.results[1], *c = &rep.results[2];
    assert_string_equal(a->name, "a");
    assert_string_equal(a->type, "fake");
    assert_string_equal(a->target, "fake://t");
    assert_string_equal(a->group, "");
    assert_true(a->success);
    assert_int_equal(a->reason, CHECK_REASON_NONE);
    assert_int_equal(a->status, 200);
    assert_int_equal(a->attempts, 1);
    assert_int_equal(a->n_steps, 0);
    assert_null(a->steps);
    assert_true(a->duration >= 0.2);
    assert_int_equal(b->n_steps, 2);
    assert_string_equal(b->steps[1].name, "step-2");
    assert_true(b->steps[1].success);
    assert_false(c->success);
    assert_string_equal(c->group, "g");
    assert_int_equal(c->reason, CHECK_REASON_HTTP_STATUS);
    assert_string_equal(c->detail, "step step-3: status 500");
    assert_int_equal(c->n_steps, 3);
    assert_string_equal(c->steps[2].name, "step-3");
    assert_false(c->steps[2].success);
    assert_int_equal(c->steps[2].reason, CHECK_REASON_HTTP_STATUS);
    assert_int_equal(c->steps[2].status, 500);
    assert_string_equal(c->steps[2].detail, "status 500 not in [200-299]");
    assert_true(c->steps[0].success);
    assert_int_equal(c->steps[0].reason, CHECK_REASON_NONE);
    smoke_report_free(&rep);
}

/* Only the selected checks run, each exactly once even when its interval
 * is shorter than the run. */
static void test_selection_and_once(void **state)
{
    (void)state;
    struct smoke_report rep;
    static const char *const only[] = {"b", "c", NULL};
    run("checks:\n"
        "  - {name: a, type: fake, after: 10ms}\n"
        "  - {name: b, type: fake, after: 10ms, interval: 100ms, timeout: 100ms}\n"
        "  - {name: c, type: fake, after: 400ms}\n",
        only, 0, &rep);
    assert_int_equal(rep.n, 2);
    assert_string_equal(rep.results[0].name, "b");
    assert_string_equal(rep.results[1].name, "c");
    /* b's interval passed four times while c ran: still one start each. */
    assert_int_equal(atomic_load(&g_started), 2);
    assert_true(rep.results[0].success && rep.results[1].success);
    smoke_report_free(&rep);
}

/* A failing check is retried as configured; the report counts attempts. */
static void test_retries(void **state)
{
    (void)state;
    struct smoke_report rep;
    run("checks:\n"
        "  - {name: r, type: fake, after: 10ms, fail: true, timeout: 1s,\n"
        "     retry: {attempts: 2, delay: 50ms}}\n",
        NULL, 0, &rep);
    assert_int_equal(atomic_load(&g_started), 3);
    const struct smoke_result *r = result_of(&rep, "r");
    assert_false(r->success);
    assert_int_equal(r->attempts, 3);
    assert_true(rep.duration >= 0.13);
    smoke_report_free(&rep);
}

/* A run still going at the run's timeout is cancelled and reported as a
 * timeout; the others keep their own results. */
static void test_run_timeout(void **state)
{
    (void)state;
    struct smoke_report rep;
    run("checks:\n"
        "  - {name: quick, type: fake, after: 10ms}\n"
        "  - {name: stuck, type: fake, timeout: 5s}\n",
        NULL, 300, &rep);
    assert_int_equal(atomic_load(&g_cancelled), 1);
    assert_true(rep.duration >= 0.3 && rep.duration < 1.0);
    assert_true(result_of(&rep, "quick")->success);
    const struct smoke_result *s = result_of(&rep, "stuck");
    assert_false(s->success);
    assert_int_equal(s->reason, CHECK_REASON_TIMEOUT);
    assert_int_equal(s->attempts, 1);
    assert_int_equal(s->status, 0);
    assert_string_equal(s->detail, "not finished when the run's --timeout 300ms ran out");
    smoke_report_free(&rep);
}

/* Without --timeout a run that never reports ends at its own bound: its
 * timeout (here 1 s) and the slack. */
static void test_own_bound(void **state)
{
    (void)state;
    struct smoke_report rep;
    run("checks:\n"
        "  - {name: stuck, type: fake, timeout: 1s}\n",
        NULL, 0, &rep);
    assert_true(rep.duration >= 3.0 && rep.duration < 4.0);
    const struct smoke_result *s = result_of(&rep, "stuck");
    assert_int_equal(s->reason, CHECK_REASON_TIMEOUT);
    assert_non_null(strstr(s->detail, ", longer than its timeout and retries"));
    smoke_report_free(&rep);
}

/* A run that cannot start is reported at once (not at the deadline). */
static void test_start_failure(void **state)
{
    (void)state;
    struct smoke_report rep;
    run("checks:\n"
        "  - {name: ok, type: fake, after: 10ms}\n"
        "  - {name: broken, type: fake, start_fails: true, timeout: 5s}\n",
        NULL, 0, &rep);
    assert_true(rep.duration < 1.0);
    assert_true(result_of(&rep, "ok")->success);
    const struct smoke_result *b = result_of(&rep, "broken");
    assert_false(b->success);
    assert_int_equal(b->reason, CHECK_REASON_OTHER);
    assert_int_equal(b->attempts, 0);
    assert_string_equal(b->detail, "could not start (see the log)");
    smoke_report_free(&rep);
}

/* More steps than the report keeps: the first SMOKE_MAX_STEPS and a count. */
static void test_step_cap(void **state)
{
    (void)state;
    struct smoke_report rep;
    run("checks:\n"
        "  - {name: many, type: fake, after: 10ms, steps: 1030}\n",
        NULL, 0, &rep);
    const struct smoke_result *m = result_of(&rep, "many");
    assert_int_equal(m->n_steps, SMOKE_MAX_STEPS);
    assert_int_equal(m->steps_dropped, 1030 - SMOKE_MAX_STEPS);
    assert_string_equal(m->steps[SMOKE_MAX_STEPS - 1].name, "step-1024");
    smoke_report_free(&rep);
}

int main(void)
{
    check_types_register_test(&fake_type);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_all_at_once_with_steps, setup),
        cmocka_unit_test_setup(test_selection_and_once, setup),
        cmocka_unit_test_setup(test_retries, setup),
        cmocka_unit_test_setup(test_run_timeout, setup),
        cmocka_unit_test_setup(test_own_bound, setup),
        cmocka_unit_test_setup(test_start_failure, setup),
        cmocka_unit_test_setup(test_step_cap, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
