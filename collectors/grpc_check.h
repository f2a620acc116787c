/*
 * grpc_check.h - the `grpc` check type: the standard health check
 * (grpc.health.v1.Health/Check) as one unary call over HTTP/2, made by
 * libcurl on the probe loop's multi handle. Its settings (grpc_config.c),
 * its runs (grpc_check.c), and the pure pieces both use and tests reach:
 * the gRPC frame, the two health messages and the judgement of a reply
 * (grpc_proto.c).
 */
#ifndef OUTPOST_GRPC_CHECK_H
#define OUTPOST_GRPC_CHECK_H

#include "check.h"
#include "config.h"
#include "tls_config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A health response is one small message ({status: enum}); anything longer
 * than this is not one, and is refused rather than read. */
#define GRPC_MAX_MESSAGE_BYTES 4096u
#define GRPC_FRAME_HEADER_BYTES 5u
/* The service name sent, and request metadata entries. */
#define GRPC_MAX_SERVICE_BYTES 1024u
#define GRPC_MAX_METADATA 64
/* grpc-message kept (percent-decoded) for the detail. */
#define GRPC_MAX_STATUS_MESSAGE 256u

/* ServingStatus of grpc.health.v1.HealthCheckResponse. */
enum grpc_serving {
    GRPC_SERVING_UNKNOWN = 0,
    GRPC_SERVING_SERVING = 1,
    GRPC_SERVING_NOT_SERVING = 2,
    GRPC_SERVING_SERVICE_UNKNOWN = 3,
};

/* The settings of one grpc check (check_spec.spec). */
struct grpc_spec {
    char *target;     /* "host:port" as written; also the `target` label */
    char *service;    /* the health service asked about; "" = the server as a whole */
    char *url;        /* http(s)://target/grpc.health.v1.Health/Check */
    bool tls_enabled; /* `tls: true` or a `tls:` mapping */
    struct tls_spec tls;
    int ip_protocol; /* enum ip_proto */
    bool ip_protocol_fallback;
    struct header_kv *metadata; /* request headers; values may be secrets */
    size_t n_metadata;
    uint64_t seen; /* keys present, while parsing only */
};

/* The type's settings; c must be a grpc check. Borrowed. */
const struct grpc_spec *grpc_spec_of(const struct check_spec *c);

/* What a grpc run adds to its result (check_result.tail), for /probe. */
struct grpc_tail {
    int ip_protocol;         /* 4 or 6: the family of the address connected to; 0 if none */
    int grpc_status;         /* grpc-status of the reply, -1 when none came */
    int serving_status;      /* HealthCheckResponse.status (enum grpc_serving), -1 when none */
    bool tls;                /* the call went over TLS */
    const char *tls_version; /* "TLS 1.3" (tls_facts.h), static; NULL without TLS */
    int http_version;        /* 2 when HTTP/2 was spoken, 1 for HTTP/1.x, 0 if no response */
};

extern const struct check_schema grpc_schema;
extern const struct check_type grpc_check_type;

/* ---- pure pieces (grpc_proto.c) ---- */

/* The request body for service (NUL-terminated, at most
 * GRPC_MAX_SERVICE_BYTES): the 5-byte frame header (not compressed,
 * big-endian length) and HealthCheckRequest{service = 1}. Caller frees;
 * its length in *len. */
uint8_t *grpc_health_request(const char *service, size_t *len);

/* Decode a response body: exactly one uncompressed frame of at most
 * GRPC_MAX_MESSAGE_BYTES holding a HealthCheckResponse; unknown fields are
 * skipped, an absent status is UNKNOWN (proto3). OP_OK with the status in
 * *serving; otherwise OP_ERR_INVALID (or OP_ERR_LIMIT: over the cap) and
 * *why (static text) says what is wrong. */
enum op_rc grpc_health_response(const uint8_t *body, size_t len, int *serving,
                                const char **why) WUR;

/* A grpc-status value (n bytes at s, surrounding blanks allowed): a
 * decimal number 0..999999. False when it is not one. */
bool grpc_status_parse(const char *s, size_t n, int *out);

/* grpc-message's percent-encoding undone (n bytes at s) into out (cap
 * bytes, NUL-terminated, cut when longer); a '%' not followed by two hex
 * digits is kept as it is. Returns the length written. */
size_t grpc_percent_decode(const char *s, size_t n, char *out, size_t cap);

/* Names for people: "NOT_FOUND", "NOT_SERVING"; NULL for a number without one. */
const char *grpc_status_name(int code);
const char *grpc_serving_name(int status);

/* What a completed call brought back. */
struct grpc_reply {
    int http_version;         /* as grpc_tail.http_version */
    int http_status;          /* 0 if none */
    int grpc_status;          /* -1 when no grpc-status came */
    bool grpc_status_bad;     /* a grpc-status came that is not a number */
    const char *grpc_message; /* decoded grpc-message, "" when none */
    const uint8_t *body;      /* the response body, body_len bytes */
    size_t body_len;
    bool body_overflow; /* more than GRPC_FRAME_HEADER_BYTES + GRPC_MAX_MESSAGE_BYTES came */
};

/* Judge a completed call: CHECK_REASON_NONE when the server said OK and
 * SERVING; else why, described in detail (cap bytes). *serving gets the
 * decoded ServingStatus, -1 when no message was decoded. */
enum check_reason grpc_judge(const struct grpc_reply *r, int *serving, char *detail, size_t cap);

#endif
