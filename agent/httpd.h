/*
 * httpd.h - the agent's HTTP endpoints on libmicrohttpd: landing page,
 * metrics, health, readiness and reload. One MHD daemon per listen address,
 * each with its own threads; nothing here touches the probe thread.
 */
#ifndef OUTPOST_HTTPD_H
#define OUTPOST_HTTPD_H

#include "common.h"
#include "runtime.h"
#include "websec.h"

#define HTTPD_MAX_LISTEN 16

struct httpd_options {
    const char *listen[HTTPD_MAX_LISTEN]; /* "host:port", ":port", "[v6]:port" */
    size_t n_listen;
    const char *telemetry_path;
    unsigned max_requests; /* parallel scrapes; 0 = unlimited */
    bool enable_lifecycle; /* POST /-/reload allowed (else 403) */
};

struct httpd;

/* Bind every address and start serving rt, with the TLS, credentials,
 * headers and rate limit of sec (both borrowed; they must outlive the
 * server). Logs each bound address with its real port (":0" picks one).
 * Installs the request counters on rt's metrics page. */
enum op_rc httpd_start(const struct httpd_options *o, struct runtime *rt, struct websec *sec,
                       struct httpd **out) WUR;
/* Stop serving and free. */
void httpd_stop(struct httpd *h);

#endif
