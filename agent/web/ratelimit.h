/*
 * ratelimit.h - --web.rate-limit=N/PERIOD: at most N requests per PERIOD per
 * client address, in bounded memory.
 *
 * Each address has a token bucket of N tokens refilled at N per PERIOD,
 * kept as one number (GCRA, the "virtual scheduling" form of a token
 * bucket): the time at which the bucket would be full again. A request at t
 * is allowed when that time, moved on by one emission interval (PERIOD / N),
 * is at most PERIOD ahead of t; a refused request is told how long until it
 * would be.
 *
 * The table is fixed: RL_MAX_CLIENTS addresses in sets of RL_WAYS (a set
 * chosen by a hash of the address seeded at random per process, so a client
 * cannot know which addresses share a set). A new address takes a free
 * slot of its set, or one whose bucket is full again (forgetting it changes
 * nothing), or else evicts the slot nearest to full. Only an address that
 * is evicted while still limited gains: under a flood of more than
 * RL_MAX_CLIENTS busy addresses the limit weakens for some, memory never
 * grows. Thread-safe (one short mutex per call).
 */
#ifndef OUTPOST_RATELIMIT_H
#define OUTPOST_RATELIMIT_H

#include "clock.h"
#include "common.h"

#include <stdbool.h>
#include <stdint.h>

#define RL_MAX_CLIENTS 4096 /* addresses tracked at once */
#define RL_WAYS 8           /* slots per set */
#define RL_KEY_BYTES 16     /* an IPv6 address; IPv4 as ::ffff:a.b.c.d */
#define RL_MAX_REQUESTS 1000000
#define RL_MIN_PERIOD_MS 1000
#define RL_MAX_PERIOD_MS (24 * 3600 * 1000LL)

struct ratelimit;

/* Parse "N/PERIOD" (N from 1 to RL_MAX_REQUESTS, PERIOD a duration such as
 * 1m from RL_MIN_PERIOD_MS to RL_MAX_PERIOD_MS). OP_ERR_INVALID otherwise. */
enum op_rc rl_parse(const char *s, uint32_t *n, int64_t *period_ms) WUR;

/* A limiter of n requests per period_ms on clock (borrowed, must outlive
 * it). Caller frees with rl_free. */
struct ratelimit *rl_new(uint32_t n, int64_t period_ms, const struct clock *clock);
void rl_free(struct ratelimit *rl);

/* One request from the address key (RL_KEY_BYTES). True when allowed;
 * false when refused, with *retry_after_s the whole seconds (at least 1)
 * until this address may try again. */
bool rl_take(struct ratelimit *rl, const uint8_t key[RL_KEY_BYTES], uint32_t *retry_after_s) WUR;

/* Addresses whose bucket is not full at the moment (for tests). */
size_t rl_tracked(struct ratelimit *rl);

#endif
