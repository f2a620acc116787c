/*
 * runtime.h - the running agent: the published config generation, the probe
 * engine, and reloads. Shared by the HTTP server (scrapes, /-/reload,
 * /-/ready) and main (SIGHUP). Reloads are serialised; scrapes only take a
 * reference to the current generation under a mutex held for nanoseconds.
 */
#ifndef OUTPOST_RUNTIME_H
#define OUTPOST_RUNTIME_H

#include "buf.h"
#include "expo.h"

#include <stdbool.h>

/* A scrape larger than this fails with 500 rather than being cut short. */
#define RT_MAX_SCRAPE_BYTES (512u << 20)

struct runtime;

/* Load config_file (borrowed path, re-read on reload) and start probing.
 * On a bad config returns OP_ERR_INVALID with messages in errors. */
enum op_rc rt_new(const char *config_file, struct runtime **out, struct buf *errors) WUR;
/* Stop probing and free. */
void rt_free(struct runtime *rt);

/* Re-read the config file. On error the running config stays, errors gets
 * the messages, outpost_config_last_reload_successful becomes 0. Any thread. */
enum op_rc rt_reload(struct runtime *rt, struct buf *errors) WUR;

/* True once the config is loaded and the probe loop runs. */
bool rt_ready(struct runtime *rt);

/* Render the metrics page into out (reset first). */
enum op_rc rt_render(struct runtime *rt, enum expo_format fmt, struct buf *out) WUR;

#endif
