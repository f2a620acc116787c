/* conntrack.c - connection limits, eviction and read deadlines (conntrack.h). */
#include "conntrack.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

enum ct_state { CT_WAITING, CT_ANSWERING, CT_CLOSING };

struct ct_conn {
    struct ct_conn *prev, *next; /* in the table until ct_close */
    struct conntrack *t;
    atomic_int refs;
    int fd; /* -1 once the library closed it */
    enum ct_state state;
    int64_t since_ms; /* when it began waiting */
    uint8_t key[RL_KEY_BYTES];
};

struct conntrack {
    struct conntrack_options o;
    pthread_mutex_t lock;
    struct ct_conn *head;
    unsigned n_open;   /* in the table */
    unsigned n_active; /* in the table and not closing: what the limits count */
    struct ct_stats st;
};

static int64_t now_ms(const struct conntrack *t)
{
    return clock_mono_ns(t->o.clock) / 1000000;
}

struct conntrack *ct_new(const struct conntrack_options *o)
{
    struct conntrack *t = xcalloc(1, sizeof(*t));
    t->o = *o;
    if (t->o.max_conns == 0)
        t->o.max_conns = 1;
    pthread_mutex_init(&t->lock, NULL);
    return t;
}

void ct_free(struct conntrack *t)
{
    if (!t)
        return;
    for (struct ct_conn *c = t->head, *next; c; c = next) {
        next = c->next;
        c->prev = c->next = NULL;
        c->fd = -1;
        ct_unref(c);
    }
    pthread_mutex_destroy(&t->lock);
    free(t);
}

/* Under the lock: shut c's socket down and stop counting it. abort: the
 * close that follows resets the connection, dropping what the kernel still
 * holds to send (a cut response to a client that stopped reading would
 * otherwise sit in the socket's buffer until the client read it). */
static void close_locked(struct conntrack *t, struct ct_conn *c, uint64_t *counter, bool abort)
{
    if (c->fd < 0 || c->state == CT_CLOSING)
        return;
    if (abort) {
        struct linger lg = {1, 0};
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    }
    shutdown(c->fd, SHUT_RDWR);
    c->state = CT_CLOSING;
    t->n_active--;
    (*counter)++;
}

/* Under the lock: the connection that has waited longest, of the address
 * key (all addresses when key is NULL), or NULL. */
static struct ct_conn *longest_waiting(struct conntrack *t, const uint8_t *key)
{
    struct ct_conn *best = NULL;
    for (struct ct_conn *c = t->head; c; c = c->next) {
        if (c->state != CT_WAITING || (key && memcmp(c->key, key, RL_KEY_BYTES) != 0))
            continue;
        if (!best || c->since_ms < best->since_ms)
            best = c;
    }
    return best;
}

static unsigned count_addr(const struct conntrack *t, const uint8_t *key)
{
    unsigned n = 0;
    for (const struct ct_conn *c = t->head; c; c = c->next)
        n += c->state != CT_CLOSING && memcmp(c->key, key, RL_KEY_BYTES) == 0;
    return n;
}

enum ct_admit ct_open(struct conntrack *t, const uint8_t key[RL_KEY_BYTES], int fd,
                      struct ct_conn **out)
{
    *out = NULL;
    pthread_mutex_lock(&t->lock);
    /* The address's own limit first: evicting one of its connections also
     * makes room under the total. */
    if (t->o.max_per_addr && count_addr(t, key) >= t->o.max_per_addr) {
        struct ct_conn *v = longest_waiting(t, key);
        if (!v) {
            t->st.refused_per_addr++;
            pthread_mutex_unlock(&t->lock);
            shutdown(fd, SHUT_RDWR);
            return CT_REFUSED_PER_ADDR;
        }
        close_locked(t, v, &t->st.closed_evicted, false);
    }
    if (t->n_active >= t->o.max_conns) {
        struct ct_conn *v = longest_waiting(t, NULL);
        if (!v) {
            t->st.refused_max++;
            pthread_mutex_unlock(&t->lock);
            shutdown(fd, SHUT_RDWR);
            return CT_REFUSED_MAX;
        }
        close_locked(t, v, &t->st.closed_evicted, false);
    }
    struct ct_conn *c = xcalloc(1, sizeof(*c));
    c->t = t;
    atomic_init(&c->refs, 1);
    c->fd = fd;
    c->state = CT_WAITING;
    c->since_ms = now_ms(t);
    memcpy(c->key, key, RL_KEY_BYTES);
    c->next = t->head;
    if (t->head)
        t->head->prev = c;
    t->head = c;
    t->n_open++;
    t->n_active++;
    pthread_mutex_unlock(&t->lock);
    *out = c;
    return CT_ADMITTED;
}

void ct_answering(struct ct_conn *c)
{
    struct conntrack *t = c->t;
    pthread_mutex_lock(&t->lock);
    if (c->state == CT_WAITING)
        c->state = CT_ANSWERING;
    pthread_mutex_unlock(&t->lock);
}

void ct_waiting(struct ct_conn *c)
{
    struct conntrack *t = c->t;
    pthread_mutex_lock(&t->lock);
    if (c->state == CT_ANSWERING) {
        c->state = CT_WAITING;
        c->since_ms = now_ms(t);
    }
    pthread_mutex_unlock(&t->lock);
}

void ct_cut(struct ct_conn *c)
{
    struct conntrack *t = c->t;
    pthread_mutex_lock(&t->lock);
    close_locked(t, c, &t->st.closed_cut, true);
    pthread_mutex_unlock(&t->lock);
}

void ct_close(struct ct_conn *c)
{
    if (!c)
        return;
    struct conntrack *t = c->t;
    pthread_mutex_lock(&t->lock);
    if (c->fd >= 0) {
        if (c->prev)
            c->prev->next = c->next;
        else
            t->head = c->next;
        if (c->next)
            c->next->prev = c->prev;
        c->prev = c->next = NULL;
        t->n_open--;
        if (c->state != CT_CLOSING)
            t->n_active--;
        c->fd = -1;
    }
    pthread_mutex_unlock(&t->lock);
    ct_unref(c);
}

void ct_ref(struct ct_conn *c)
{
    atomic_fetch_add(&c->refs, 1);
}

void ct_unref(struct ct_conn *c)
{
    if (c && atomic_fetch_sub(&c->refs, 1) == 1)
        free(c);
}

int64_t ct_sweep(struct conntrack *t)
{
    int64_t next = -1;
    pthread_mutex_lock(&t->lock);
    int64_t now = now_ms(t);
    for (struct ct_conn *c = t->head; c; c = c->next) {
        if (c->state != CT_WAITING)
            continue;
        int64_t left = c->since_ms + t->o.read_timeout_ms - now;
        if (left <= 0)
            close_locked(t, c, &t->st.closed_read_timeout, false);
        else if (next < 0 || left < next)
            next = left;
    }
    pthread_mutex_unlock(&t->lock);
    return next;
}

void ct_stats(struct conntrack *t, struct ct_stats *out)
{
    pthread_mutex_lock(&t->lock);
    *out = t->st;
    out->open = t->n_open;
    pthread_mutex_unlock(&t->lock);
}
