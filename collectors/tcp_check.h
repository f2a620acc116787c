/*
 * tcp_check.h - the `tcp` check type: a TCP connection to host:port, with
 * TLS from the start or upgraded by a STARTTLS step, and a dialogue of
 * query_response steps (expect a line, send a line), as blackbox_exporter's
 * tcp prober. Settings (and the expansion of `send`) in tcp_config.c, runs
 * in tcp_check.c; the name is resolved by resolve.c, the socket and OpenSSL
 * are driven by the probe loop without blocking.
 */
#ifndef OUTPOST_TCP_CHECK_H
#define OUTPOST_TCP_CHECK_H

#include "buf.h"
#include "check.h"
#include "config.h"
#include "http_check.h"
#include "tls_config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Caps on what a target may send: one line (an expect reads line by
 * line), and everything read in one run. Past either the run fails. */
#define TCP_MAX_LINE (64u << 10)
#define TCP_MAX_READ (1u << 20)
/* Steps of a query_response, and the bytes of one `send` once its
 * references are expanded. */
#define TCP_MAX_STEPS 64
#define TCP_MAX_SEND (64u << 10)

/* One query_response step; at least one of the three is set, and they run
 * in this order: expect, send, starttls. */
struct tcp_step {
    bool has_expect;
    struct regex expect; /* PCRE2, matched against each line without its "\n" / "\r\n" */
    char *send;          /* NULL: nothing; sent followed by "\n" */
    bool starttls;
};

struct tcp_spec {
    char *host; /* as written, IPv6 without its brackets */
    int port;
    int ip_protocol; /* enum ip_proto */
    bool ip_protocol_fallback;
    /* TLS from the connect (`tls: true` or a mapping, no starttls step). */
    bool tls;
    /* The TLS settings: of the connection when tls, of the upgrade when a
     * step has starttls. `tls: true` and `tls: false` leave the defaults. */
    struct tls_spec tls_cfg;
    bool has_starttls;
    struct tcp_step *steps;
    size_t n_steps;
    uint64_t seen; /* keys present, while parsing only */
};

/* The type's settings; c must be a tcp check. Borrowed. */
const struct tcp_spec *tcp_spec_of(const struct check_spec *c);

/* What a tcp run adds to its result (check_result.tail); plain data for
 * blackbox_exporter's /probe. */
struct tcp_tail {
    int ip_protocol; /* 4 or 6: the family of the address connected to; 0 before one */
    bool tls;        /* the connection ended in TLS (from the start or after STARTTLS) */
    /* The protocol TLS settled on, in blackbox_exporter's words ("TLS 1.2",
     * "TLS 1.3"; probe_tls_version_info's label), "" without TLS. Static. */
    const char *tls_version;
    /* An expect saw the connection end without a matching line
     * (probe_failed_due_to_regex): false otherwise, also before any expect. */
    bool failed_due_to_regex;
    /* Unix seconds of the earliest notAfter in the chain the server was
     * verified by (probe_ssl_last_chain_expiry_timestamp_seconds); 0 when
     * nothing was verified (no TLS, a failed verification,
     * insecure_skip_verify). */
    double last_chain_expiry;
};

extern const struct check_schema tcp_schema;
extern const struct check_type tcp_check_type;

/* ---- pure pieces, exposed for unit tests ---- */

/*
 * A send template with blackbox_exporter's (Go's regexp.Expand) references
 * to the groups of the line its step's expect matched: "${1}", "$1",
 * "${name}", "$name" (the longest run of letters, digits and '_'), "$$" a
 * dollar. A group that did not take part, or that the pattern lacks, is
 * empty; a '$' that starts no reference is kept. line/ov/n_ov: the line
 * and pcre2's ovector pairs. Appended to out (capped: a failed buffer
 * means too long).
 */
void tcp_expand(const char *tmpl, const pcre2_code *code, const char *line, const size_t *ov,
                size_t n_ov, struct buf *out);

#endif
