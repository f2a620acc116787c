/* ratelimit.c - per-address token buckets (GCRA) in a fixed table (ratelimit.h). */
#include "ratelimit.h"
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define RL_SETS (RL_MAX_CLIENTS / RL_WAYS)

struct rl_slot {
    uint8_t key[RL_KEY_BYTES];
    bool used;
    int64_t full_at; /* monotonic ns at which the bucket is full again */
};

struct ratelimit {
    const struct clock *clock;
    int64_t period_ns, interval_ns; /* interval: one token's worth of period */
    uint64_t seed;
    pthread_mutex_t lock;
    struct rl_slot slots[RL_MAX_CLIENTS];
};

enum op_rc rl_parse(const char *s, uint32_t *n, int64_t *period_ms)
{
    const char *slash = strchr(s, '/');
    if (!slash)
        return OP_ERR_INVALID;
    uint64_t count;
    int64_t ms;
    if (parse_u64(s, (size_t)(slash - s), RL_MAX_REQUESTS, &count) != OP_OK || count == 0)
        return OP_ERR_INVALID;
    if (cfg_parse_duration(slash + 1, &ms) != OP_OK || ms < RL_MIN_PERIOD_MS ||
        ms > RL_MAX_PERIOD_MS)
        return OP_ERR_INVALID;
    *n = (uint32_t)count;
    *period_ms = ms;
    return OP_OK;
}

struct ratelimit *rl_new(uint32_t n, int64_t period_ms, const struct clock *clock)
{
    struct ratelimit *rl = xcalloc(1, sizeof(*rl));
    rl->clock = clock;
    rl->period_ns = period_ms * 1000000;
    /* Rounded up, so N requests never fit in less than the period. */
    rl->interval_ns = (rl->period_ns + n - 1) / n;
    if (getrandom(&rl->seed, sizeof(rl->seed), 0) != (ssize_t)sizeof(rl->seed))
        rl->seed = (uint64_t)clock_mono_ns(clock) ^ (uint64_t)(uintptr_t)rl;
    pthread_mutex_init(&rl->lock, NULL);
    return rl;
}

void rl_free(struct ratelimit *rl)
{
    if (!rl)
        return;
    pthread_mutex_destroy(&rl->lock);
    free(rl);
}

/* The slot for key in its set: its own, else a free one, else one whose
 * bucket is full again, else the one nearest to full (evicted). */
static struct rl_slot *find_slot(struct ratelimit *rl, const uint8_t *key, int64_t now)
{
    uint64_t h = hash_mem_from(hash_mem(&rl->seed, sizeof(rl->seed)), key, RL_KEY_BYTES);
    struct rl_slot *set = &rl->slots[(h % RL_SETS) * RL_WAYS];
    struct rl_slot *idle = NULL, *nearest = NULL;
    for (size_t i = 0; i < RL_WAYS; i++) {
        struct rl_slot *s = &set[i];
        if (s->used && memcmp(s->key, key, RL_KEY_BYTES) == 0)
            return s;
        if (!s->used || s->full_at <= now) {
            if (!idle)
                idle = s;
        } else if (!nearest || s->full_at < nearest->full_at) {
            nearest = s;
        }
    }
    struct rl_slot *victim = idle ? idle : nearest;
    memcpy(victim->key, key, RL_KEY_BYTES);
    victim->used = true;
    victim->full_at = now;
    return victim;
}

bool rl_take(struct ratelimit *rl, const uint8_t key[RL_KEY_BYTES], uint32_t *retry_after_s)
{
    int64_t now = clock_mono_ns(rl->clock);
    pthread_mutex_lock(&rl->lock);
    struct rl_slot *s = find_slot(rl, key, now);
    int64_t start = s->full_at > now ? s->full_at : now;
    int64_t after = start + rl->interval_ns;
    bool ok = after - now <= rl->period_ns;
    if (ok)
        s->full_at = after;
    pthread_mutex_unlock(&rl->lock);
    if (!ok) {
        int64_t wait_ns = after - now - rl->period_ns;
        int64_t secs = (wait_ns + 999999999) / 1000000000;
        *retry_after_s = secs < 1 ? 1 : (uint32_t)secs;
    }
    return ok;
}

size_t rl_tracked(struct ratelimit *rl)
{
    int64_t now = clock_mono_ns(rl->clock);
    size_t n = 0;
    pthread_mutex_lock(&rl->lock);
    for (size_t i = 0; i < RL_MAX_CLIENTS; i++)
        n += rl->slots[i].used && rl->slots[i].full_at > now;
    pthread_mutex_unlock(&rl->lock);
    return n;
}
