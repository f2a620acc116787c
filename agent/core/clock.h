/*
 * clock.h - the agent's two clocks behind one injectable handle.
 *
 * Monotonic time (nanoseconds) drives every schedule, timeout and duration;
 * wall time (Unix) is only for what is shown or persisted: exposed
 * timestamps, SLO windows (aligned to UTC hours) and alert times. Modules
 * take a `const struct clock *` instead of reading the system clocks, so
 * tests run them on a fake clock that moves only when told.
 */
#ifndef OUTPOST_CLOCK_H
#define OUTPOST_CLOCK_H

#include <stdint.h>

struct clock;

/* The system clocks (CLOCK_MONOTONIC, CLOCK_REALTIME); static, never freed. */
const struct clock *clock_system(void);

int64_t clock_mono_ns(const struct clock *c);
/* Wall time as Unix milliseconds and as Unix seconds. */
int64_t clock_wall_ms(const struct clock *c);
double clock_wall(const struct clock *c);

/* A fake clock starting at the given readings; both move together, only
 * through clock_fake_advance. Safe to read from any thread while a test
 * advances it. Caller frees with clock_fake_free. */
struct clock *clock_fake_new(int64_t mono_ns, int64_t wall_ms);
void clock_fake_advance(struct clock *c, int64_t ns);
void clock_fake_free(struct clock *c);

/* Shorthands for the system clock, for code that has no clock to inject
 * (process start-up, tests that run on real time). */
double now_wall(void);
int64_t now_mono_ns(void);

#endif
