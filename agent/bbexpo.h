/*
 * bbexpo.h - the answer of blackbox_exporter's /probe for one run: its
 * families with blackbox_exporter 0.23's names, types, HELP texts and
 * label sets (the facts of each prober: which metrics it emits, and
 * when), outpost's probe_failure_reason, and the probe log of
 * ?debug=true.
 *
 * A result is copied on the probe thread (bbexpo_copy: the run's result
 * and its type's tail are only borrowed there) and rendered on the HTTP
 * thread that asked.
 */
#ifndef OUTPOST_BBEXPO_H
#define OUTPOST_BBEXPO_H

#include "buf.h"
#include "check.h"
#include "http_check.h"
#include "dns_check.h"
#include "grpc_check.h"
#include "icmp_check.h"
#include "tcp_check.h"

#include <stdbool.h>

/* A run's result, plain data, owned by whoever holds it. */
struct bbexpo_result {
    bool ran;                /* a result came (else the run was cancelled or never ended) */
    struct check_result res; /* tail and steps dropped */
    const char *type;        /* the check type's name (static), "" when !ran */
    bool has_http;
    struct http_tail http;
    bool has_icmp;
    struct icmp_tail icmp;
    bool has_tcp;
    struct tcp_tail tcp;
    bool has_dns;
    struct dns_tail dns;
    bool has_grpc;
    struct grpc_tail grpc;
};

/* Copy res (borrowed) into out, the tail of the types this file knows
 * included. Probe thread. */
void bbexpo_copy(struct bbexpo_result *out, const struct check_result *res);

/* The families of a run of prober (a module's prober: "http", "tcp", ...)
 * into out as Prometheus text 0.0.4, in name order as blackbox_exporter
 * writes them. target: the check's (an IP literal gives probe_ip_addr_hash
 * for types whose tail has no address). duration is probe_duration_seconds: what the request
 * waited, the run's own duration when it ran. reasons: the failure
 * reasons the type may report (probe_failure_reason has one series
 * each). */
void bbexpo_render(const struct bbexpo_result *r, const char *prober, const char *target,
                   double duration, const enum check_reason *reasons, size_t n_reasons,
                   struct buf *out);

/* The probe log of ?debug=true, logfmt lines as blackbox_exporter writes
 * them: what was probed, the address, the phases, the answer and the
 * verdict with its one-line detail (never a secret: targets are shown as
 * check_spec.target, details carry none). */
void bbexpo_log(const struct bbexpo_result *r, const char *module, const char *prober,
                const char *target, double timeout_s, double duration, struct buf *out);

#endif
