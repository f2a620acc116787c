/* clock.c - system and fake clocks. */
#include "clock.h"
#include "common.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

struct clock {
    bool fake;
    /* Fake readings; the system clock leaves them unused. */
    atomic_int_least64_t mono_ns;
    atomic_int_least64_t wall_ns;
};

static struct clock g_system = {.fake = false};

const struct clock *clock_system(void)
{
    return &g_system;
}

static int64_t read_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t clock_mono_ns(const struct clock *c)
{
    if (c->fake)
        return atomic_load(&((struct clock *)c)->mono_ns);
    return read_ns(CLOCK_MONOTONIC);
}

static int64_t wall_ns(const struct clock *c)
{
    if (c->fake)
        return atomic_load(&((struct clock *)c)->wall_ns);
    return read_ns(CLOCK_REALTIME);
}

int64_t clock_wall_ms(const struct clock *c)
{
    int64_t ns = wall_ns(c);
    /* Floor, also before 1970, so a millisecond never straddles two. */
    return ns >= 0 ? ns / 1000000 : -((-ns + 999999) / 1000000);
}

double clock_wall(const struct clock *c)
{
    return (double)wall_ns(c) / 1e9;
}

struct clock *clock_fake_new(int64_t mono_ns, int64_t wall_ms)
{
    struct clock *c = xcalloc(1, sizeof(*c));
    c->fake = true;
    atomic_init(&c->mono_ns, mono_ns);
    atomic_init(&c->wall_ns, wall_ms * 1000000);
    return c;
}

void clock_fake_advance(struct clock *c, int64_t ns)
{
    atomic_fetch_add(&c->mono_ns, ns);
    atomic_fetch_add(&c->wall_ns, ns);
}

void clock_fake_free(struct clock *c)
{
    free(c);
}

double now_wall(void)
{
    return clock_wall(&g_system);
}

int64_t now_mono_ns(void)
{
    return clock_mono_ns(&g_system);
}
