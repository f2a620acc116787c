/*
 * test_pages.c - shared, capped pages (pages.c) on a fake clock: every
 * request gets a page rendered after it arrived, requests that arrive
 * during a render share the next one (a burst costs two renders), one
 * render at a time per variant with a pause after it, readers and the page
 * freed by whoever lets go last, the cap on bytes held (the oldest page
 * withdrawn and its readers cut, never the page being served), errors
 * shared by the requests that waited, and many threads at once (run under
 * ThreadSanitizer by make tsan).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "clock.h"
#include "pages.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MS_NS 1000000LL

/* The renderer: variant v's page is size[v] bytes of one letter per
 * render ('a' for the first render of any variant, 'b' for the second...),
 * so a test can tell which render a reader got. */
struct fake {
    struct clock *clk;
    size_t size[PAGES_MAX_VARIANTS];
    enum op_rc fail;     /* returned instead of a page when set */
    int64_t duration_ns; /* the fake clock moves this much per render */
    atomic_int calls;
    /* Blocking renders (threads): render n waits until released >= n. */
    bool block;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int started, released;
};

static enum op_rc fake_render(void *arg, unsigned v, struct buf *out)
{
    struct fake *f = arg;
    int n = atomic_fetch_add(&f->calls, 1);
    buf_init(out, 1u << 20);
    if (f->block) {
        pthread_mutex_lock(&f->lock);
        int me = ++f->started;
        pthread_cond_broadcast(&f->cond);
        while (f->released < me)
            pthread_cond_wait(&f->cond, &f->lock);
        pthread_mutex_unlock(&f->lock);
    }
    clock_fake_advance(f->clk, f->duration_ns);
    if (f->fail)
        return f->fail;
    for (size_t i = 0; i < f->size[v]; i++)
        buf_addc(out, (char)('a' + n % 26));
    return OP_OK;
}

struct env {
    struct clock *clk;
    struct fake f;
    struct pages *ps;
};

/* max_gap_ms 0: no pause after a render, unless a test sets one. */
static struct env *env_new(size_t max_held, unsigned n_variants, int64_t max_gap_ms)
{
    struct env *e = calloc(1, sizeof(*e));
    e->clk = clock_fake_new(1000 * MS_NS, 0);
    e->f.clk = e->clk;
    for (unsigned i = 0; i < PAGES_MAX_VARIANTS; i++)
        e->f.size[i] = 40;
    pthread_mutex_init(&e->f.lock, NULL);
    pthread_cond_init(&e->f.cond, NULL);
    struct pages_options o = {.n_variants = n_variants,
                              .max_gap_ms = max_gap_ms,
                              .max_held_bytes = max_held,
                              .auto_min_bytes = 100,
                              .auto_max_bytes = 200,
                              .clock = e->clk,
                              .render = fake_render,
                              .render_arg = &e->f};
    e->ps = pages_new(&o);
    return e;
}

static void env_free(struct env *e)
{
    pages_free(e->ps);
    pthread_cond_destroy(&e->f.cond);
    pthread_mutex_destroy(&e->f.lock);
    clock_fake_free(e->clk);
    free(e);
}

static struct pages_stats stats(struct env *e)
{
    struct pages_stats s;
    pages_stats(e->ps, &s);
    return s;
}

/* The first byte of r's page, or 0 once cut. */
static char letter(struct page_reader *r)
{
    char c = 0;
    return pages_read(r, 0, &c, 1) == 1 ? c : 0;
}

static struct page_reader *open_ok(struct env *e, unsigned v)
{
    struct page_reader *r = NULL;
    assert_int_equal(pages_open(e->ps, v, NULL, NULL, &r), OP_OK);
    assert_non_null(r);
    return r;
}

/* Each request gets a page rendered after it arrived: one after another,
 * each renders. Nothing is kept once its readers are gone. */
static void test_rendered_after_arrival(void **state)
{
    (void)state;
    struct env *e = env_new(1u << 20, 2, 0);
    struct page_reader *a = open_ok(e, 0);
    struct page_reader *b = open_ok(e, 0);
    assert_int_equal(letter(a), 'a');
    assert_int_equal(letter(b), 'b');
    struct page_reader *c = open_ok(e, 1); /* another variant, another page */
    assert_int_equal(letter(c), 'c');
    assert_int_equal(stats(e).renders[0], 2);
    assert_int_equal(stats(e).renders[1], 1);
    assert_int_equal(stats(e).held_bytes, 120);
    pages_close(a);
    assert_int_equal(stats(e).held_bytes, 80);
    pages_close(b);
    pages_close(c);
    assert_int_equal(stats(e).held_bytes, 0);
    env_free(e);
}

static void test_read(void **state)
{
    (void)state;
    struct env *e = env_new(1u << 20, 1, 0);
    e->f.size[0] = 10;
    struct page_reader *r = open_ok(e, 0);
    assert_int_equal(pages_size(r), 10);
    char b[8];
    assert_int_equal(pages_read(r, 0, b, sizeof(b)), 8);
    assert_memory_equal(b, "aaaaaaaa", 8);
    assert_int_equal(pages_read(r, 8, b, sizeof(b)), 2);
    assert_int_equal(pages_read(r, 10, b, sizeof(b)), 0);
    assert_int_equal(pages_read(r, 11, b, sizeof(b)), 0);
    pages_close(r);
    struct page_reader *none = (void *)1;
    assert_int_equal(pages_open(e->ps, 1, NULL, NULL, &none), OP_ERR_INVALID);
    assert_null(none);
    env_free(e);
}

static void count_cut(void *arg)
{
    (*(int *)arg)++;
}

/* Cap 100 bytes, pages of 40: a third page needs room, so the oldest is
 * withdrawn and its readers cut, once each. */
static void test_cap_withdraws_oldest(void **state)
{
    (void)state;
    struct env *e = env_new(100, 1, 0);
    int cuts_a = 0, cuts_b = 0, cuts_c = 0;
    struct page_reader *a = NULL, *b = NULL, *c = NULL;
    assert_int_equal(pages_open(e->ps, 0, count_cut, &cuts_a, &a), OP_OK);
    clock_fake_advance(e->clk, MS_NS);
    assert_int_equal(pages_open(e->ps, 0, count_cut, &cuts_b, &b), OP_OK);
    assert_int_equal(stats(e).held_bytes, 80);
    clock_fake_advance(e->clk, MS_NS);
    /* The render reserves 40 (the previous size): 120 > 100, so a's page,
     * the oldest, goes before the render starts. */
    assert_int_equal(pages_open(e->ps, 0, count_cut, &cuts_c, &c), OP_OK);
    assert_int_equal(cuts_a, 1);
    assert_int_equal(cuts_b, 0);
    assert_int_equal(cuts_c, 0);
    assert_int_equal(stats(e).cut, 1);
    assert_int_equal(stats(e).held_bytes, 80);
    char x;
    assert_int_equal(pages_read(a, 0, &x, 1), -1);
    assert_int_equal(pages_read(a, 5, &x, 1), -1);
    assert_int_equal(pages_size(a), 40); /* still known, for the response */
    assert_int_equal(letter(b), 'b');
    assert_int_equal(letter(c), 'c');
    pages_close(a);
    assert_int_equal(stats(e).held_bytes, 80);
    pages_close(b);
    pages_close(c);
    assert_int_equal(stats(e).held_bytes, 0);
    env_free(e);
}

/* A page larger than the cap is still served: it withdraws every other
 * page, never itself. */
static void test_page_larger_than_cap(void **state)
{
    (void)state;
    struct env *e = env_new(100, 2, 0);
    int cuts = 0;
    struct page_reader *small = NULL;
    assert_int_equal(pages_open(e->ps, 0, count_cut, &cuts, &small), OP_OK);
    e->f.size[1] = 150;
    struct page_reader *big = open_ok(e, 1);
    assert_int_equal(pages_size(big), 150);
    assert_int_equal(cuts, 1);
    assert_int_equal(stats(e).held_bytes, 150);
    assert_int_equal(letter(big), 'b');
    pages_close(big);
    pages_close(small);
    assert_int_equal(stats(e).held_bytes, 0);
    env_free(e);
}

/* Without a fixed cap: three times the largest page, within [100, 200]
 * here. */
static void test_auto_cap(void **state)
{
    (void)state;
    struct env *e = env_new(0, 2, 0);
    assert_int_equal(stats(e).limit_bytes, 100); /* no page yet: the floor */
    int cuts = 0;
    struct page_reader *r[4];
    for (int i = 0; i < 3; i++) {
        assert_int_equal(pages_open(e->ps, 0, count_cut, &cuts, &r[i]), OP_OK);
        clock_fake_advance(e->clk, 1);
    }
    assert_int_equal(stats(e).limit_bytes, 120);
    assert_int_equal(stats(e).held_bytes, 120);
    assert_int_equal(cuts, 0);
    assert_int_equal(pages_open(e->ps, 0, count_cut, &cuts, &r[3]), OP_OK);
    assert_int_equal(cuts, 1); /* a fourth 40-byte page does not fit in 120 */
    assert_int_equal(letter(r[0]), 0);
    /* A larger page raises the cap, up to the ceiling. */
    e->f.size[1] = 80;
    struct page_reader *big = open_ok(e, 1);
    assert_int_equal(stats(e).limit_bytes, 200); /* not 240 */
    assert_int_equal(stats(e).held_bytes, 200);
    assert_int_equal(cuts, 1);
    struct page_reader *more = NULL;
    assert_int_equal(pages_open(e->ps, 0, count_cut, &cuts, &more), OP_OK);
    assert_int_equal(cuts, 2); /* 240 > 200: r[1]'s page goes */
    assert_int_equal(letter(r[1]), 0);
    assert_int_equal(stats(e).held_bytes, 200);
    pages_close(more);
    pages_close(big);
    for (int i = 0; i < 4; i++)
        pages_close(r[i]);
    assert_int_equal(stats(e).held_bytes, 0);
    env_free(e);
}

/* ---- threads ---- */

struct asker {
    struct env *e;
    unsigned v;
    struct page_reader *r;
    enum op_rc rc;
};

static void *ask(void *arg)
{
    struct asker *a = arg;
    a->rc = pages_open(a->e->ps, a->v, NULL, NULL, &a->r);
    return NULL;
}

static void wait_started(struct fake *f, int n)
{
    pthread_mutex_lock(&f->lock);
    while (f->started < n)
        pthread_cond_wait(&f->cond, &f->lock);
    pthread_mutex_unlock(&f->lock);
}

static void release(struct fake *f, int n)
{
    pthread_mutex_lock(&f->lock);
    f->released = n;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->lock);
}

static void wait_waiting(struct env *e, unsigned n)
{
    for (int spins = 0; stats(e).waiting < n; spins++) {
        assert_true(spins < 100000);
        usleep(100);
    }
}

/* Eight requests arrive while a render runs: they share the next one. */
static void test_burst_costs_two_renders(void **state)
{
    (void)state;
    struct env *e = env_new(1u << 20, 1, 0);
    e->f.block = true;
    struct asker first = {.e = e}, a[8];
    pthread_t t0, t[8];
    pthread_create(&t0, NULL, ask, &first);
    wait_started(&e->f, 1);
    clock_fake_advance(e->clk, 1); /* the running render is older than them */
    for (int i = 0; i < 8; i++) {
        a[i] = (struct asker){.e = e};
        pthread_create(&t[i], NULL, ask, &a[i]);
    }
    /* One of them waits for its turn to render, seven for its page; none
     * renders while the first render runs. */
    wait_waiting(e, 7);
    assert_int_equal(e->f.started, 1);
    release(&e->f, 1);
    wait_started(&e->f, 2);
    release(&e->f, 2);
    pthread_join(t0, NULL);
    assert_int_equal(first.rc, OP_OK);
    assert_int_equal(letter(first.r), 'a');
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(a[i].rc, OP_OK);
        assert_int_equal(letter(a[i].r), 'b');
    }
    assert_int_equal(atomic_load(&e->f.calls), 2);
    assert_int_equal(stats(e).renders[0], 2);
    assert_int_equal(stats(e).waiting, 0);
    assert_int_equal(stats(e).held_bytes, 80);
    pages_close(first.r);
    for (int i = 0; i < 8; i++)
        pages_close(a[i].r);
    assert_int_equal(stats(e).held_bytes, 0);
    env_free(e);
}

/* After a render that took d, the next waits min(3d, max_gap) after it
 * ended. */
static void test_pause_after_render(void **state)
{
    (void)state;
    struct env *e = env_new(1u << 20, 1, 1000);
    e->f.duration_ns = 100 * MS_NS;
    pages_close(open_ok(e, 0)); /* took 100 ms: the next waits 300 ms */
    e->f.duration_ns = 0;
    clock_fake_advance(e->clk, 299 * MS_NS);
    struct asker next = {.e = e};
    pthread_t t;
    pthread_create(&t, NULL, ask, &next);
    usleep(60000); /* a few of its re-checks: it must still wait */
    assert_int_equal(atomic_load(&e->f.calls), 1);
    clock_fake_advance(e->clk, 1 * MS_NS);
    pthread_join(t, NULL);
    assert_int_equal(next.rc, OP_OK);
    assert_int_equal(letter(next.r), 'b');
    pages_close(next.r);
    /* A 10 s render: the pause is max_gap (1 s), not 30 s. */
    e->f.duration_ns = 10000 * MS_NS;
    pages_close(open_ok(e, 0));
    e->f.duration_ns = 0;
    clock_fake_advance(e->clk, 1000 * MS_NS);
    pages_close(open_ok(e, 0));
    assert_int_equal(atomic_load(&e->f.calls), 4);
    env_free(e);
}

/* A failed render fails the requests that waited for it, once. */
static void test_error_shared(void **state)
{
    (void)state;
    struct env *e = env_new(1u << 20, 1, 0);
    e->f.fail = OP_ERR_LIMIT;
    e->f.block = true;
    struct asker first = {.e = e}, second = {.e = e};
    pthread_t t1, t2;
    pthread_create(&t1, NULL, ask, &first);
    wait_started(&e->f, 1);
    clock_fake_advance(e->clk, 1);
    pthread_create(&t2, NULL, ask, &second);
    wait_waiting(e, 0); /* second is scheduled to render next */
    release(&e->f, 2);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    assert_int_equal(first.rc, OP_ERR_LIMIT);
    assert_null(first.r);
    assert_int_equal(second.rc, OP_ERR_LIMIT);
    assert_int_equal(stats(e).held_bytes, 0);
    /* Next time it works again. */
    e->f.fail = OP_OK;
    e->f.block = false;
    clock_fake_advance(e->clk, 1);
    struct page_reader *r = open_ok(e, 0);
    pages_close(r);
    env_free(e);
}

/* Readers on many threads while pages are withdrawn under them (TSan). */
struct churn {
    struct env *e;
    int cuts;
};

static void *churn(void *arg)
{
    struct churn *c = arg;
    char buf[16];
    for (int i = 0; i < 2000; i++) {
        struct page_reader *r = NULL;
        if (pages_open(c->e->ps, (unsigned)i % 3, NULL, NULL, &r) != OP_OK)
            continue;
        for (uint64_t pos = 0;; pos += sizeof(buf)) {
            ssize_t n = pages_read(r, pos, buf, sizeof(buf));
            if (n <= 0) {
                c->cuts += n < 0;
                break;
            }
        }
        pages_close(r);
    }
    return NULL;
}

static void *tick(void *arg)
{
    struct env *e = arg;
    for (int i = 0; i < 400; i++) {
        clock_fake_advance(e->clk, 300 * MS_NS);
        usleep(50);
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    struct env *e = env_new(100, 3, 0); /* room for two 40-byte pages */
    struct churn c[4];
    pthread_t t[5];
    for (int i = 0; i < 4; i++) {
        c[i] = (struct churn){.e = e};
        pthread_create(&t[i], NULL, churn, &c[i]);
    }
    pthread_create(&t[4], NULL, tick, e);
    for (int i = 0; i < 5; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(stats(e).held_bytes, 0);
    assert_int_equal(stats(e).waiting, 0);
    env_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rendered_after_arrival),
        cmocka_unit_test(test_read),
        cmocka_unit_test(test_cap_withdraws_oldest),
        cmocka_unit_test(test_page_larger_than_cap),
        cmocka_unit_test(test_auto_cap),
        cmocka_unit_test(test_burst_costs_two_renders),
        cmocka_unit_test(test_pause_after_render),
        cmocka_unit_test(test_error_shared),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
