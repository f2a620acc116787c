/* scheduler.c - binary min-heap of (due, id) and phase arithmetic. */
#include "scheduler.h"

#include <stdlib.h>

struct entry {
    int64_t due;
    uint32_t id;
};

struct sched {
    struct entry *heap;
    size_t len, cap;
};

struct sched *sched_new(void)
{
    return xcalloc(1, sizeof(struct sched));
}

void sched_free(struct sched *s)
{
    if (!s)
        return;
    free(s->heap);
    free(s);
}

void sched_clear(struct sched *s)
{
    s->len = 0;
}

size_t sched_len(const struct sched *s)
{
    return s->len;
}

static bool before(const struct entry *a, const struct entry *b)
{
    return a->due < b->due || (a->due == b->due && a->id < b->id);
}

void sched_push(struct sched *s, int64_t due_ns, uint32_t id)
{
    if (s->len == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->heap = xrealloc(s->heap, s->cap * sizeof(*s->heap));
    }
    size_t i = s->len++;
    struct entry e = {due_ns, id};
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(&e, &s->heap[parent]))
            break;
        s->heap[i] = s->heap[parent];
        i = parent;
    }
    s->heap[i] = e;
}

bool sched_peek(const struct sched *s, int64_t *due_ns, uint32_t *id)
{
    if (!s->len)
        return false;
    *due_ns = s->heap[0].due;
    *id = s->heap[0].id;
    return true;
}

bool sched_pop(struct sched *s, int64_t *due_ns, uint32_t *id)
{
    if (!sched_peek(s, due_ns, id))
        return false;
    struct entry last = s->heap[--s->len];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        const struct entry *best = &last;
        if (l < s->len && before(&s->heap[l], best)) {
            m = l;
            best = &s->heap[l];
        }
        if (r < s->len && before(&s->heap[r], best))
            m = r;
        if (m == i)
            break;
        s->heap[i] = s->heap[m];
        i = m;
    }
    if (s->len)
        s->heap[i] = last;
    return true;
}

int64_t sched_offset_ns(const char *name, int64_t interval_ns)
{
    if (interval_ns <= 0)
        return 0;
    return (int64_t)(hash_str(name) % (uint64_t)interval_ns);
}

int64_t sched_next_due(int64_t now_ns, int64_t interval_ns, int64_t offset_ns)
{
    int64_t phase = now_ns % interval_ns;
    if (phase < 0)
        phase += interval_ns;
    int64_t base = now_ns - phase;
    int64_t t = base + offset_ns;
    return t >= now_ns ? t : t + interval_ns;
}

int64_t sched_after_run(int64_t planned_ns, int64_t now_ns, int64_t interval_ns, int64_t offset_ns)
{
    int64_t next = planned_ns + interval_ns;
    if (next >= now_ns)
        return next;
    return sched_next_due(now_ns, interval_ns, offset_ns);
}
