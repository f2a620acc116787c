/*
 * test_pages.c - shared, fresh, capped pages (pages.c) on a fake clock:
 * reuse within max_age and a new render at max_age, readers and the page
 * freed by whoever lets go last, the cap on bytes held (the oldest page
 * withdrawn and its readers cut, never the page being served), errors
 * shared by the requests that waited, and many threads asking at once
 * while one renders (run under ThreadSanitizer by make tsan).
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
    size_t size[PAGES_MAX_VARIANTS];
    enum op_rc fail; /* returned instead of a page when set */
    atomic_int calls;
    /* Blocking renders (threads): each render waits for `go`. */
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
        f->started++;
        pthread_cond_broadcast(&f->cond);
        int me = f->started;
        while (f->released < me)
            pthread_cond_wait(&f->cond, &f->lock);
        pthread_mutex_unlock(&f->lock);
    }
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

static struct env *env_new(size_t max_held, unsigned n_variants)
{
    struct env *e = calloc(1, sizeof(*e));
    e->clk = clock_fake_new(1000 * MS_NS, 0);
    for (unsigned i = 0; i < PAGES_MAX_VARIANTS; i++)
        e->f.size[i] = 40;
    pthread_mutex_init(&e->f.lock, NULL);
    pthread_cond_init(&e->f.cond, NULL);
    struct pages_options o = {.n_variants = n_variants,
                              .max_age_ms = 1000,
                              .max_held_bytes = max_held,
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

static void test_fresh_for_max_age(void **state)
{
    (void)state;
    struct env *e = env_new(1u << 20, 2);
    struct page_reader *a = open_ok(e, 0);
    clock_fake_advance(e->clk, 999 * MS_NS);
    struct page_reader *b = open_ok(e, 0);
    assert_int_equal(atomic_load(&e->f.calls), 1);
    assert_int_equal(stats(e).renders[0], 1);
    assert_int_equal(letter(a), 'a');
    assert_int_equal(letter(b), 'a');
    /* Another variant is another page. */
    struct page_reader *c = open_ok(e, 1);
    assert_int_equal(letter(c), 'b');
    assert_int_equal(stats(e).renders[1], 1);
    /* At max_age the page is stale: a new render; the old readers keep
     * theirs. */
    clock_fake_advance(e->clk, 1 * MS_NS);
    struct page_reader *d = open_ok(e, 0);
    assert_int_equal(letter(d), 'c');
    assert_int_equal(letter(a), 'a');
    assert_int_equal(stats(e).renders[0], 2);
    assert_int_equal(stats(e).held_bytes, 120); /* a's page, c's, d's */
    pages_close(a);
    pages_close(b);
    assert_int_equal(stats(e).held_bytes, 80); /* nobody holds the first page */
    pages_close(c);
    pages_close(d);
    assert_int_equal(stats(e).held_bytes, 80); /* still fresh, kept by the store */
    clock_fake_advance(e->clk, 1000 * MS_NS);
    assert_int_equal(pages_expire(e->ps), -1);
    assert_int_equal(stats(e).held_bytes, 0);
    env_free(e);
}

static void test_read(void **state)
{
    (void)state;
    struct env *e = env_new(1u << 20, 1);
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
    /* A stale page a reader still holds outlives its expiry. */
    r = open_ok(e, 0);
    clock_fake_advance(e->clk, 5000 * MS_NS);
    assert_int_equal(pages_expire(e->ps), -1);
    assert_int_equal(stats(e).held_bytes, 10);
    assert_int_equal(pages_read(r, 9, b, 1), 1);
    pages_close(r);
    assert_int_equal(stats(e).held_bytes, 0);
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
    struct env *e = env_new(100, 1);
    int cuts_a = 0, cuts_b = 0, cuts_c = 0;
    struct page_reader *a = NULL, *a2 = NULL, *b = NULL, *c = NULL;
    assert_int_equal(pages_open(e->ps, 0, count_cut, &cuts_a, &a), OP_OK);
    assert_int_equal(pages_open(e->ps, 0, count_cut, &cuts_a, &a2), OP_OK);
    clock_fake_advance(e->clk, 1000 * MS_NS);
    assert_int_equal(pages_open(e->ps, 0, count_cut, &cuts_b, &b), OP_OK);
    assert_int_equal(stats(e).held_bytes, 80);
    clock_fake_advance(e->clk, 1000 * MS_NS);
    /* The render reserves 40 (the previous size): 120 > 100, so the page
     * of a and a2 goes before the render starts. */
    assert_int_equal(pages_open(e->ps, 0, count_cut, &cuts_c, &c), OP_OK);
    assert_int_equal(cuts_a, 2);
    assert_int_equal(cuts_b, 0);
    assert_int_equal(cuts_c, 0);
    assert_int_equal(stats(e).cut, 2);
    assert_int_equal(stats(e).held_bytes, 80);
    char x;
    assert_int_equal(pages_read(a, 0, &x, 1), -1);
    assert_int_equal(pages_read(a2, 5, &x, 1), -1);
    assert_int_equal(pages_size(a), 40); /* still known, for the response */
    assert_int_equal(letter(b), 'b');
    assert_int_equal(letter(c), 'c');
    pages_close(a);
    pages_close(a2);
    assert_int_equal(stats(e).held_bytes, 80);
    pages_close(b);
    pages_close(c);
    env_free(e);
}

/* A page larger than the cap is still served: it withdraws every other
 * page, never itself. */
static void test_page_larger_than_cap(void **state)
{
    (void)state;
    struct env *e = env_new(100, 2);
    int cuts = 0;
    struct page_reader *small = NULL;
    assert_int_equal(pages_open(e->ps, 0, count_cut, &cuts, &small), OP_OK);
    e->f.size[1] = 150;
    struct page_reader *big = open_ok(e, 1);
    assert_int_equal(pages_size(big), 150);
    assert_int_equal(cuts, 1);
    assert_int_equal(stats(e).held_bytes, 150);
    assert_int_equal(letter(big), 'b');
    /* Reused while fresh, though over the cap. */
    struct page_reader *big2 = open_ok(e, 1);
    assert_int_equal(atomic_load(&e->f.calls), 2);
    pages_close(big2);
    pages_close(big);
    pages_close(small);
    env_free(e);
}

static void test_error_shared(void **state)
{
    (void)state;
    struct env *e = env_new(1u << 20, 1);
    e->f.fail = OP_ERR_LIMIT;
    struct page_reader *r = (void *)1;
    assert_int_equal(pages_open(e->ps, 0, NULL, NULL, &r), OP_ERR_LIMIT);
    assert_null(r);
    clock_fake_advance(e->clk, 500 * MS_NS);
    assert_int_equal(pages_open(e->ps, 0, NULL, NULL, &r), OP_ERR_LIMIT);
    assert_int_equal(atomic_load(&e->f.calls), 1);
    assert_int_equal(stats(e).held_bytes, 0);
    clock_fake_advance(e->clk, 500 * MS_NS);
    e->f.fail = OP_OK;
    r = open_ok(e, 0);
    assert_int_equal(atomic_load(&e->f.calls), 2);
    pages_close(r);
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

/* Eight requests at once while the first renders: one render, one page. */
static void test_one_render_for_many(void **state)
{
    (void)state;
    struct env *e = env_new(1u << 20, 1);
    e->f.block = true;
    struct asker a[8];
    pthread_t t[8];
    for (int i = 0; i < 8; i++) {
        a[i] = (struct asker){.e = e, .v = 0};
        pthread_create(&t[i], NULL, ask, &a[i]);
        if (i == 0)
            wait_started(&e->f, 1);
    }
    /* The seven others are waiting for that render, not rendering: poll
     * until they all wait, then let it finish. */
    for (int spins = 0; stats(e).waiting < 7; spins++) {
        assert_true(spins < 100000);
        usleep(100);
    }
    release(&e->f, 1);
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(a[i].rc, OP_OK);
        assert_int_equal(letter(a[i].r), 'a');
    }
    assert_int_equal(atomic_load(&e->f.calls), 1);
    assert_int_equal(stats(e).renders[0], 1);
    assert_int_equal(stats(e).waiting, 0);
    for (int i = 0; i < 8; i++)
        pages_close(a[i].r);
    env_free(e);
}

/* A render that started at t and finishes after one that started at
 * t + max_age does not replace the newer page: its own request gets it,
 * later ones the newer. */
static void test_late_render_does_not_replace_newer(void **state)
{
    (void)state;
    struct env *e = env_new(1u << 20, 1);
    e->f.block = true;
    struct asker first = {.e = e}, second = {.e = e};
    pthread_t t1, t2;
    pthread_create(&t1, NULL, ask, &first);
    wait_started(&e->f, 1);
    clock_fake_advance(e->clk, 1000 * MS_NS); /* the running render is too old now */
    pthread_create(&t2, NULL, ask, &second);
    wait_started(&e->f, 2);
    release(&e->f, 2); /* both finish; the order does not matter */
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    assert_int_equal(atomic_load(&e->f.calls), 2);
    char c1 = letter(first.r), c2 = letter(second.r);
    assert_true(c1 != c2);
    struct page_reader *later = open_ok(e, 0);
    assert_int_equal(letter(later), c2);
    pages_close(later);
    pages_close(first.r);
    pages_close(second.r);
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
        if (i % 50 == 0)
            (void)pages_expire(c->e->ps);
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
    struct env *e = env_new(100, 3); /* room for two 40-byte pages */
    struct churn c[4];
    pthread_t t[5];
    for (int i = 0; i < 4; i++) {
        c[i] = (struct churn){.e = e};
        pthread_create(&t[i], NULL, churn, &c[i]);
    }
    pthread_create(&t[4], NULL, tick, e);
    for (int i = 0; i < 5; i++)
        pthread_join(t[i], NULL);
    clock_fake_advance(e->clk, 5000 * MS_NS);
    (void)pages_expire(e->ps);
    assert_int_equal(stats(e).held_bytes, 0);
    env_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fresh_for_max_age),
        cmocka_unit_test(test_read),
        cmocka_unit_test(test_cap_withdraws_oldest),
        cmocka_unit_test(test_page_larger_than_cap),
        cmocka_unit_test(test_error_shared),
        cmocka_unit_test(test_one_render_for_many),
        cmocka_unit_test(test_late_render_does_not_replace_newer),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
