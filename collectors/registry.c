/*
 * registry.c - the check types this build knows, and the names of the
 * closed reason and phase sets. Adding a type: one row in `types`.
 */
#include "browser_check.h"
#include "check.h"
#include "dns_check.h"
#include "flow_check.h"
#include "grpc_check.h"
#include "http_check.h"
#include "icmp_check.h"
#include "tcp_check.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct check_type *const types[] = {
    &http_check_type, &flow_check_type, &tcp_check_type,     &dns_check_type,
    &icmp_check_type, &grpc_check_type, &browser_check_type,
};

/* Types a unit test registers (a fake type that drives the probe loop);
 * looked up after the built-in ones. Empty in the agent. */
#define MAX_TEST_TYPES 4
static const struct check_type *test_types[MAX_TEST_TYPES];
static size_t n_test_types;

#ifdef OUTPOST_TESTING
void check_types_register_test(const struct check_type *t)
{
    if (n_test_types == MAX_TEST_TYPES)
        abort();
    test_types[n_test_types++] = t;
}
#endif

static const char *const reason_names[CHECK_REASON_COUNT] = {
    "timeout",   "dns",        "connect", "tls",     "http_status", "body", "header",
    "json",      "latency",    "other",   "capture", "expect",      "loss", "grpc_status",
    "dns_rcode", "dns_answer", "browser", "text",    "selector",
};

static const char *const phase_names[CHECK_PHASE_COUNT] = {
    "resolve", "connect", "tls", "processing", "transfer",
};

const char *check_reason_name(enum check_reason r)
{
    return (unsigned)r < CHECK_REASON_COUNT ? reason_names[r] : "none";
}

const char *check_phase_name(enum check_phase p)
{
    return (unsigned)p < CHECK_PHASE_COUNT ? phase_names[p] : "unknown";
}

const struct check_type *const *check_types(size_t *n)
{
    *n = ARRAY_SIZE(types);
    return types;
}

const struct check_type *check_type_of(const struct check_schema *s)
{
    for (size_t i = 0; i < ARRAY_SIZE(types); i++)
        if (types[i]->schema == s)
            return types[i];
    for (size_t i = 0; i < n_test_types; i++)
        if (test_types[i]->schema == s)
            return test_types[i];
    return NULL;
}

/* The configuration loader finds schemas through these two (declared in
 * config.h), so it needs no header from this folder. */
const struct check_schema *cfg_check_schema(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(types); i++)
        if (strcmp(types[i]->schema->name, name) == 0)
            return types[i]->schema;
    for (size_t i = 0; i < n_test_types; i++)
        if (strcmp(test_types[i]->schema->name, name) == 0)
            return test_types[i]->schema;
    return NULL;
}

static char type_names[256];
static pthread_once_t type_names_once = PTHREAD_ONCE_INIT;

static void build_type_names(void)
{
    size_t len = 0;
    for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
        int n = snprintf(type_names + len, sizeof(type_names) - len, "%s%s", i ? ", " : "",
                         types[i]->schema->name);
        /* A short, fixed list of short names: the array holds it. */
        if (n < 0 || (size_t)n >= sizeof(type_names) - len)
            abort();
        len += (size_t)n;
    }
}

const char *cfg_check_type_names(void)
{
    pthread_once(&type_names_once, build_type_names);
    return type_names;
}

enum op_rc check_types_init(void)
{
    for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
        if (!types[i]->global_init)
            continue;
        enum op_rc rc = types[i]->global_init();
        if (rc != OP_OK) {
            while (i-- > 0)
                if (types[i]->global_fini)
                    types[i]->global_fini();
            return rc;
        }
    }
    return OP_OK;
}

void check_types_fini(void)
{
    for (size_t i = ARRAY_SIZE(types); i-- > 0;)
        if (types[i]->global_fini)
            types[i]->global_fini();
}
