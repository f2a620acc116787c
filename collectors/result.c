/* result.c - label names of the closed reason and phase sets. */
#include "result.h"

static const char *const reason_names[REASON_COUNT] = {
    "timeout", "dns", "connect", "tls", "http_status", "body", "header", "json", "latency", "other",
};

static const char *const phase_names[PHASE_COUNT] = {
    "resolve", "connect", "tls", "processing", "transfer",
};

const char *reason_name(enum reason r)
{
    return (unsigned)r < REASON_COUNT ? reason_names[r] : "none";
}

const char *phase_name(enum phase p)
{
    return (unsigned)p < PHASE_COUNT ? phase_names[p] : "unknown";
}
