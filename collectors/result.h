/*
 * result.h - what one probe yields, and the closed sets of failure reasons
 * and latency phases that metrics.md fixes as label values.
 */
#ifndef OUTPOST_RESULT_H
#define OUTPOST_RESULT_H

#include <stdbool.h>

enum reason {
    REASON_TIMEOUT,
    REASON_DNS,
    REASON_CONNECT,
    REASON_TLS,
    REASON_HTTP_STATUS,
    REASON_BODY,
    REASON_HEADER,
    REASON_JSON,
    REASON_LATENCY,
    REASON_OTHER,
    REASON_COUNT,
    REASON_NONE = REASON_COUNT, /* success */
};

enum phase {
    PHASE_RESOLVE,
    PHASE_CONNECT,
    PHASE_TLS,
    PHASE_PROCESSING,
    PHASE_TRANSFER,
    PHASE_COUNT,
};

struct probe_result {
    bool success;
    enum reason reason;         /* REASON_NONE on success */
    double duration;            /* seconds, whole probe */
    double phases[PHASE_COUNT]; /* seconds */
    int status;                 /* last HTTP status, 0 if none */
    double cert_expiry;         /* unix seconds of the earliest notAfter; 0 if no cert seen */
};

/* Label value for a reason/phase; static strings. */
const char *reason_name(enum reason r);
const char *phase_name(enum phase p);

#endif
