/*
 * test_conntrack.c - connection limits (conntrack.c) on socket pairs and a
 * fake clock: the per-address and total limits evict the connection that
 * has waited longest and refuse only when none waits, a slowloris flood
 * from one address never evicts a request that is in, read deadlines, cuts,
 * and the table under many threads (run under ThreadSanitizer by make tsan).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "clock.h"
#include "conntrack.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MS_NS 1000000LL

/* One connection: the server's end goes to the table, the test keeps the
 * client's end to see whether the server shut it down. */
struct sock {
    int server, client;
    struct ct_conn *c;
};

static void key_of(uint8_t key[RL_KEY_BYTES], uint8_t last)
{
    memset(key, 0, RL_KEY_BYTES);
    key[10] = key[11] = 0xff;
    key[12] = 127;
    key[15] = last;
}

static enum ct_admit open_from(struct conntrack *t, uint8_t addr, struct sock *s)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    s->server = sv[0];
    s->client = sv[1];
    fcntl(s->client, F_SETFL, O_NONBLOCK);
    uint8_t key[RL_KEY_BYTES];
    key_of(key, addr);
    return ct_open(t, key, s->server, &s->c);
}

/* True once the server's end was shut down (the client reads EOF). */
static bool shut(const struct sock *s)
{
    char b;
    ssize_t n = recv(s->client, &b, 1, 0);
    assert_true(n == 0 || (n < 0 && errno == EAGAIN));
    return n == 0;
}

/* What the server library does when it closes a connection. */
static void lib_close(struct sock *s)
{
    ct_close(s->c);
    s->c = NULL;
    close(s->server);
    close(s->client);
}

static struct ct_stats stats(struct conntrack *t)
{
    struct ct_stats s;
    ct_stats(t, &s);
    return s;
}

static struct conntrack *table(struct clock *clk, unsigned max, unsigned per_addr)
{
    struct conntrack_options o = {
        .max_conns = max, .max_per_addr = per_addr, .read_timeout_ms = 10000, .clock = clk};
    return ct_new(&o);
}

static void test_per_addr_evicts_longest_waiting(void **state)
{
    (void)state;
    struct clock *clk = clock_fake_new(1000 * MS_NS, 0);
    struct conntrack *t = table(clk, 100, 3);
    struct sock s[6];
    for (int i = 0; i < 3; i++) {
        assert_int_equal(open_from(t, 1, &s[i]), CT_ADMITTED);
        clock_fake_advance(clk, MS_NS);
    }
    /* Another address is not affected by address 1's limit. */
    assert_int_equal(open_from(t, 2, &s[5]), CT_ADMITTED);
    /* The fourth from address 1 closes the first, which waited longest. */
    assert_int_equal(open_from(t, 1, &s[3]), CT_ADMITTED);
    assert_true(shut(&s[0]));
    assert_false(shut(&s[1]));
    assert_false(shut(&s[5]));
    assert_int_equal(stats(t).closed_evicted, 1);
    assert_int_equal(stats(t).open, 5); /* s[0] until the library closes it */
    lib_close(&s[0]);
    assert_int_equal(stats(t).open, 4);
    /* All three of address 1 answering: a fourth is refused, shut down. */
    ct_answering(s[1].c);
    ct_answering(s[2].c);
    ct_answering(s[3].c);
    assert_int_equal(open_from(t, 1, &s[4]), CT_REFUSED_PER_ADDR);
    assert_null(s[4].c);
    assert_true(shut(&s[4]));
    assert_int_equal(stats(t).refused_per_addr, 1);
    close(s[4].server);
    close(s[4].client);
    /* One done: waiting again, so it can make room once more. */
    ct_waiting(s[2].c);
    assert_int_equal(open_from(t, 1, &s[4]), CT_ADMITTED);
    assert_true(shut(&s[2]));
    assert_false(shut(&s[1]));
    for (int i = 1; i < 6; i++)
        lib_close(&s[i]);
    assert_int_equal(stats(t).open, 0);
    ct_free(t);
    clock_fake_free(clk);
}

static void test_total_limit(void **state)
{
    (void)state;
    struct clock *clk = clock_fake_new(1000 * MS_NS, 0);
    struct conntrack *t = table(clk, 3, 0);
    struct sock s[5];
    for (int i = 0; i < 3; i++) {
        assert_int_equal(open_from(t, (uint8_t)(10 + i), &s[i]), CT_ADMITTED);
        clock_fake_advance(clk, MS_NS);
    }
    ct_answering(s[0].c);
    /* Full: the longest-waiting of those not answering goes (s[1]). */
    assert_int_equal(open_from(t, 20, &s[3]), CT_ADMITTED);
    assert_false(shut(&s[0]));
    assert_true(shut(&s[1]));
    ct_answering(s[2].c);
    ct_answering(s[3].c);
    assert_int_equal(open_from(t, 21, &s[4]), CT_REFUSED_MAX);
    assert_true(shut(&s[4]));
    close(s[4].server);
    close(s[4].client);
    struct ct_stats st = stats(t);
    assert_int_equal(st.closed_evicted, 1);
    assert_int_equal(st.refused_max, 1);
    assert_int_equal(st.refused_per_addr, 0);
    for (int i = 0; i < 4; i++)
        lib_close(&s[i]);
    ct_free(t);
    clock_fake_free(clk);
}

/* 300 trickling connections from one address and a health check from the
 * same address in their midst: the check is admitted, and once its request
 * is in no later flood evicts it. */
static void test_slowloris_from_one_address(void **state)
{
    (void)state;
    struct clock *clk = clock_fake_new(1000 * MS_NS, 0);
    struct conntrack *t = table(clk, 512, 64);
    static struct sock s[400];
    for (int i = 0; i < 300; i++) {
        assert_int_equal(open_from(t, 1, &s[i]), CT_ADMITTED);
        clock_fake_advance(clk, MS_NS);
    }
    for (int i = 0; i < 300; i++)
        assert_int_equal(shut(&s[i]), i < 236); /* the 64 newest are held */
    struct sock health;
    assert_int_equal(open_from(t, 1, &health), CT_ADMITTED);
    assert_true(shut(&s[236]));
    ct_answering(health.c);
    for (int i = 300; i < 400; i++) {
        assert_int_equal(open_from(t, 1, &s[i]), CT_ADMITTED);
        clock_fake_advance(clk, MS_NS);
    }
    assert_false(shut(&health));
    assert_int_equal(stats(t).closed_evicted, 237 + 100);
    for (int i = 0; i < 400; i++)
        lib_close(&s[i]);
    lib_close(&health);
    assert_int_equal(stats(t).open, 0);
    ct_free(t);
    clock_fake_free(clk);
}

static void test_read_timeout(void **state)
{
    (void)state;
    struct clock *clk = clock_fake_new(1000 * MS_NS, 0);
    struct conntrack *t = table(clk, 10, 0);
    assert_int_equal(ct_sweep(t), -1);
    struct sock a, b, c;
    assert_int_equal(open_from(t, 1, &a), CT_ADMITTED);
    clock_fake_advance(clk, 4000 * MS_NS);
    assert_int_equal(open_from(t, 1, &b), CT_ADMITTED);
    assert_int_equal(open_from(t, 1, &c), CT_ADMITTED);
    ct_answering(c.c);
    assert_int_equal(ct_sweep(t), 6000);
    clock_fake_advance(clk, 5999 * MS_NS);
    assert_int_equal(ct_sweep(t), 1);
    assert_false(shut(&a));
    clock_fake_advance(clk, 1 * MS_NS);
    assert_int_equal(ct_sweep(t), 4000); /* b's */
    assert_true(shut(&a));
    assert_false(shut(&b));
    /* Answering has no deadline; waiting again starts a new one. */
    clock_fake_advance(clk, 60000 * MS_NS);
    assert_int_equal(ct_sweep(t), -1);
    assert_true(shut(&b));
    assert_false(shut(&c));
    ct_waiting(c.c);
    assert_int_equal(ct_sweep(t), 10000);
    assert_int_equal(stats(t).closed_read_timeout, 2);
    lib_close(&a);
    lib_close(&b);
    lib_close(&c);
    ct_free(t);
    clock_fake_free(clk);
}

static void test_cut(void **state)
{
    (void)state;
    struct clock *clk = clock_fake_new(1000 * MS_NS, 0);
    struct conntrack *t = table(clk, 10, 0);
    struct sock a;
    assert_int_equal(open_from(t, 1, &a), CT_ADMITTED);
    ct_answering(a.c);
    struct ct_conn *held = a.c;
    ct_ref(held); /* a response that may still be cut */
    ct_cut(held);
    ct_cut(held);
    assert_true(shut(&a));
    assert_int_equal(stats(t).closed_cut, 1);
    lib_close(&a);
    /* Closed by the library: a late cut must not touch the old number. */
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    fcntl(sv[1], F_SETFL, O_NONBLOCK);
    ct_cut(held);
    char x;
    assert_int_equal(recv(sv[1], &x, 1, 0), -1);
    assert_int_equal(stats(t).closed_cut, 1);
    ct_unref(held);
    close(sv[0]);
    close(sv[1]);
    ct_free(t);
    clock_fake_free(clk);
}

/* ---- threads ---- */

struct worker {
    struct conntrack *t;
    uint8_t addr;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < 3000; i++) {
        struct sock s;
        if (open_from(w->t, w->addr, &s) == CT_ADMITTED) {
            ct_answering(s.c);
            ct_ref(s.c);
            ct_waiting(s.c);
            if (i % 7 == 0)
                ct_cut(s.c);
            ct_unref(s.c);
            lib_close(&s);
        } else {
            close(s.server);
            close(s.client);
        }
    }
    return NULL;
}

static void *sweep(void *arg)
{
    for (int i = 0; i < 3000; i++) {
        (void)ct_sweep(arg);
        struct ct_stats st;
        ct_stats(arg, &st);
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    struct conntrack_options o = {
        .max_conns = 3, .max_per_addr = 2, .read_timeout_ms = 0, .clock = clock_system()};
    struct conntrack *t = ct_new(&o);
    struct worker w[4];
    pthread_t th[5];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){t, (uint8_t)(i % 2)};
        pthread_create(&th[i], NULL, work, &w[i]);
    }
    pthread_create(&th[4], NULL, sweep, t);
    for (int i = 0; i < 5; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(stats(t).open, 0);
    ct_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_per_addr_evicts_longest_waiting),
        cmocka_unit_test(test_total_limit),
        cmocka_unit_test(test_slowloris_from_one_address),
        cmocka_unit_test(test_read_timeout),
        cmocka_unit_test(test_cut),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
