/* scheduler.c - binary min-heap of (due, id) and phase arithmetic. */
#include "scheduler.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

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

uint64_t sched_missed(int64_t planned_ns, int64_t next_ns, int64_t interval_ns)
{
    if (interval_ns <= 0 || next_ns - planned_ns <= interval_ns)
        return 0;
    /* Both ends are on the phase, so the gap is whole intervals; a partial
     * one (an interval changed under the check) counts no missed run. */
    return (uint64_t)((next_ns - planned_ns) / interval_ns - 1);
}

/* ---- overruns ---- */

static const char *const overrun_names[SCHED_OVERRUN_COUNT] = {
    [SCHED_OVERRUN_LATE] = "late",
    [SCHED_OVERRUN_SKIPPED] = "skipped",
    [SCHED_OVERRUN_STALLED] = "stalled",
};

const char *sched_overrun_name(enum sched_overrun r)
{
    return (unsigned)r < SCHED_OVERRUN_COUNT ? overrun_names[r] : "unknown";
}

int64_t sched_late_ns(int64_t interval_ns)
{
    int64_t t = interval_ns / SCHED_LATE_SHARE;
    return t < SCHED_LATE_MAX_NS ? t : SCHED_LATE_MAX_NS;
}

int64_t sched_stall_add(int64_t due_ns, int64_t now_ns, int64_t *mark_ns)
{
    /* Only the part after the previous call: that call counted the rest. */
    int64_t from = due_ns > *mark_ns ? due_ns : *mark_ns;
    *mark_ns = now_ns;
    int64_t spell = now_ns - from;
    return spell > SCHED_STALL_FLOOR_NS ? spell : 0;
}

bool sched_stall_is_ours(int64_t stall_ns, int64_t timeout_ns)
{
    return stall_ns > 0 && stall_ns > timeout_ns / SCHED_STALL_SHARE;
}

double sched_load_update(double load, int64_t dt_ns, int64_t stall_ns)
{
    if (dt_ns <= 0)
        return load;
    if (stall_ns > dt_ns)
        stall_ns = dt_ns;
    /* A stall filling the last stall_ns of dt_ns: decay over dt_ns, then
     * what a load of 1 for stall_ns adds (so a long stall approaches 1,
     * never passes it). */
    double tau = (double)SCHED_LOAD_TAU_NS;
    return load * exp(-(double)dt_ns / tau) + (1.0 - exp(-(double)stall_ns / tau));
}

bool sched_should_shed(double load, int64_t lag_ns, int64_t interval_ns)
{
    return load > SCHED_SHED_LOAD && lag_ns > sched_late_ns(interval_ns);
}

struct sched_overruns {
    atomic_uint_fast64_t n[SCHED_OVERRUN_COUNT];
    /* Writer only. */
    uint64_t logged[SCHED_OVERRUN_COUNT]; /* the totals at the last log line */
    int64_t max_lag_ns;                   /* since the last line */
    int64_t last_log_ns;
    bool has_logged;
};

struct sched_overruns *sched_overruns_new(void)
{
    struct sched_overruns *o = xcalloc(1, sizeof(*o));
    for (int r = 0; r < SCHED_OVERRUN_COUNT; r++)
        atomic_init(&o->n[r], 0);
    return o;
}

void sched_overruns_free(struct sched_overruns *o)
{
    free(o);
}

void sched_overruns_add(struct sched_overruns *o, enum sched_overrun r, uint64_t n, int64_t lag_ns)
{
    if (!n)
        return;
    atomic_fetch_add_explicit(&o->n[r], n, memory_order_relaxed);
    if (lag_ns > o->max_lag_ns)
        o->max_lag_ns = lag_ns;
}

void sched_overruns_read(const struct sched_overruns *o, uint64_t out[SCHED_OVERRUN_COUNT])
{
    for (int r = 0; r < SCHED_OVERRUN_COUNT; r++)
        out[r] = atomic_load_explicit(&((struct sched_overruns *)o)->n[r], memory_order_relaxed);
}

bool sched_overruns_log_due(struct sched_overruns *o, int64_t now_ns,
                            uint64_t since[SCHED_OVERRUN_COUNT], int64_t *max_lag_ns)
{
    uint64_t now_n[SCHED_OVERRUN_COUNT];
    bool any = false;
    sched_overruns_read(o, now_n);
    for (int r = 0; r < SCHED_OVERRUN_COUNT; r++) {
        since[r] = now_n[r] - o->logged[r];
        any = any || since[r] > 0;
    }
    if (!any || (o->has_logged && now_ns - o->last_log_ns < SCHED_LOG_EVERY_NS))
        return false;
    memcpy(o->logged, now_n, sizeof(now_n));
    *max_lag_ns = o->max_lag_ns;
    o->max_lag_ns = 0;
    o->last_log_ns = now_ns;
    o->has_logged = true;
    return true;
}
