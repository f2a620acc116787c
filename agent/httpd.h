/*
 * httpd.h - the agent's HTTP endpoints on libmicrohttpd: landing page,
 * metrics, health, readiness, reload, the checks API and the canary gates.
 * One MHD daemon per listen address, a thread per connection; nothing here
 * touches the probe thread. Connections are guarded across all listeners
 * (conntrack.h: limits in total and per address, read deadlines) and the
 * big answers are shared pages with a cap on the memory they hold
 * (pages.h).
 */
#ifndef OUTPOST_HTTPD_H
#define OUTPOST_HTTPD_H

#include "common.h"
#include "runtime.h"
#include "websec.h"

#define HTTPD_MAX_LISTEN 16
/* --web.max-connections' ceiling: each connection is a thread. */
#define HTTPD_MAX_CONNECTIONS 65536
/* /probe runs in flight at most (--probe.max-concurrent), and its ceiling:
 * each waiting request is a connection's thread. */
#define HTTPD_DEFAULT_MAX_PROBES 100
#define HTTPD_MAX_PROBES 10000

struct history;

struct httpd_options {
    const char *listen[HTTPD_MAX_LISTEN]; /* "host:port", ":port", "[v6]:port" */
    size_t n_listen;
    const char *telemetry_path;
    unsigned max_requests;           /* parallel scrapes; 0 = unlimited */
    bool enable_lifecycle;           /* POST /-/reload allowed (else 403) */
    unsigned max_connections;        /* --web.max-connections, across listeners */
    unsigned max_connections_per_ip; /* --web.max-connections-per-ip; 0 = no limit */
    int64_t read_timeout_ms;         /* --web.read-timeout */
    uint64_t max_response_memory;    /* --web.max-response-memory; 0: auto (below) */
    unsigned max_probes;             /* --probe.max-concurrent; 0: the default */
    struct history *history;         /* the canary run history; borrowed, NULL: not open */
};

struct httpd;

/* --web.max-response-memory=auto: three times the largest page (pages.h)
 * within these bounds, so a small agent never holds much, and a 10,000-
 * check agent (18 MB pages) holds two pages and a render. */
#define HTTPD_AUTO_RESPONSE_MEMORY_MIN (8u << 20)
#define HTTPD_AUTO_RESPONSE_MEMORY_MAX (48u << 20)

/* A --web.max-response-memory value: "auto" (0), or bytes, or a number with
 * KiB, MiB, GiB (or kB, MB, GB) as in the configuration's sizes; 1 MiB to
 * 64 GiB. */
enum op_rc httpd_parse_bytes(const char *s, uint64_t *out) WUR;

/* Bind every address and start serving rt, with the TLS, credentials,
 * headers and rate limit of sec (both borrowed; they must outlive the
 * server). Logs each bound address with its real port (":0" picks one).
 * Installs the request counters on rt's metrics page. */
enum op_rc httpd_start(const struct httpd_options *o, struct runtime *rt, struct websec *sec,
                       struct httpd **out) WUR;
/* Stop serving and free. */
void httpd_stop(struct httpd *h);

#endif
