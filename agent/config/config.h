/*
 * config.h - the YAML configuration (libyaml), validated strictly.
 *
 * A loaded struct cfg is immutable: the probe thread, the HTTP thread and the
 * reload path share it read-only, so it needs no locks. The check records
 * below are plain data (not opaque, unlike module objects) because the probe
 * code reads dozens of their fields; only this module writes them.
 *
 * Secrets: string values may reference ${env:NAME} or ${file:PATH}. Resolved
 * values live only in these records and are never printed by this module:
 * error messages name file, line, column and key, never a configured value
 * other than durations, enums and status codes.
 */
#ifndef OUTPOST_CONFIG_H
#define OUTPOST_CONFIG_H

#include "buf.h"
#include "canary.h"
#include "common.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

/* Named caps on outside input. */
#define CFG_MAX_FILE_BYTES (64u << 20)
#define CFG_MAX_CHECKS 100000
#define CFG_MAX_NAME_BYTES 128
#define CFG_MAX_SECRET_FILE_BYTES (64u << 10)
#define CFG_MAX_BUCKETS 64
#define CFG_MAX_ERRORS 50
#define CFG_MAX_REDIRECTS 10
#define CFG_MIN_INTERVAL_MS 100
#define CFG_MAX_BODY_CAP (1ull << 30)

#define CFG_DEFAULT_INTERVAL_MS 15000
#define CFG_DEFAULT_TIMEOUT_MS 5000
#define CFG_DEFAULT_MAX_BODY_BYTES (1u << 20)

enum ip_proto { IP_PROTO_AUTO, IP_PROTO_4, IP_PROTO_6 };

struct status_range {
    int lo, hi; /* inclusive */
};

struct header_kv {
    char *name;
    char *value; /* may be a secret */
};

struct regex {
    char *pattern;
    pcre2_code *code;
};

struct header_expect {
    char *name;
    struct regex re;
};

struct json_step {
    char *key; /* NULL for an array index */
    long index;
};

struct json_expect {
    char *path; /* as written, for messages */
    struct json_step *steps;
    size_t n_steps;
    bool is_exists;     /* {exists: true|false} */
    bool exists;        /* wanted presence */
    char *equals;       /* scalar text for {equals: ...} */
    bool equals_quoted; /* written quoted: compares as a string only */
};

struct http_expect {
    struct status_range *status;
    size_t n_status;
    struct regex *body_matches;
    size_t n_body_matches;
    struct regex *body_not_matches;
    size_t n_body_not_matches;
    struct header_expect *headers;
    size_t n_headers;
    struct json_expect *json;
    size_t n_json;
    int64_t max_duration_ms; /* 0: no latency expectation */
};

struct tls_spec {
    char *ca_file, *cert_file, *key_file, *server_name; /* NULL when unset */
    bool insecure_skip_verify;
};

struct check_spec {
    char *name;
    char *type;   /* "http" */
    char *group;  /* label value, "" when unset */
    char *url;    /* may carry secrets (userinfo, query) */
    char *target; /* url without credentials, query or fragment: safe to show */
    char *method;
    struct header_kv *headers;
    size_t n_headers;
    char *body; /* NULL when unset */
    int64_t interval_ms, timeout_ms;
    bool follow_redirects;
    enum ip_proto ip_protocol;
    bool reuse_connection;
    char *basic_user, *basic_pass; /* NULL when unset */
    char *bearer_token;            /* NULL when unset */
    struct tls_spec tls;
    uint64_t max_body_bytes;
    struct http_expect expect;
    double *buckets; /* histogram upper bounds, strictly increasing, no +Inf */
    size_t n_buckets;
    char *sched_key; /* phase offset key; NULL = name. Canary arms share one. */
    int line;        /* where the entry starts, 1-based */
};

/* One canary (issue 4): two arms, each an inline check spec (named
 * "<canary>/baseline" and "<canary>/canary", probed in lock-step) or an
 * existing check. */
struct canary_spec {
    char *name;
    size_t arm_check[2]; /* [0] baseline, [1] canary: indexes into checks */
    bool inline_arms[2];
    int64_t interval_ms, window_ms;
    struct canary_settings settings;
    uint64_t identity; /* the arms' targets: samples survive reloads that keep it */
    int line;
};

#define CFG_MAX_CANARIES 1000

/* `alerting:` (issue 5): where and how the agent pushes its own alerts. */
struct alerting_spec {
    char **alertmanagers;      /* base URLs; alerts go to <url>/api/v2/alerts */
    char **alertmanager_names; /* as written, without credentials: the metric label */
    size_t n_alertmanagers;
    int64_t resend_interval_ms;     /* default 1m */
    int64_t evaluation_interval_ms; /* default 10s; also the SLO evaluation */
    struct header_kv *external_labels;
    size_t n_external_labels;
    char *runbook_url_base;      /* NULL when unset */
    char *generator_url;         /* NULL when unset */
    uint32_t check_down_after;   /* consecutive failures; default 3 */
    int64_t cert_expiry_warn_ms; /* default 14d */
};

#define CFG_MAX_ALERTMANAGERS 16

/* One SLO (issue 3). Availability: each probe of a listed check is one
 * event, bad when it failed. Latency: bad also when slower than the
 * threshold. */
struct slo_spec {
    char *name;
    double objective;      /* ratio, 0 < o < 1 */
    double budget;         /* 1 - objective, from the decimal text: exact for 99.9 */
    char *objective_label; /* percent as written, e.g. "99.9" */
    int64_t period_ms;     /* rolling period; 0 with calendar_month */
    bool calendar_month;   /* `calendar: month`, UTC */
    char *period_label;    /* "30d" as written, or "month" */
    char **checks;         /* check names */
    size_t *check_idx;     /* their index in the config's checks */
    size_t n_checks;
    bool latency;
    int64_t latency_threshold_ms;
    uint64_t min_events;
    bool has_policy;
    double freeze_when_consumed;
    int64_t policy_over_ms;
    struct header_kv *labels; /* copied onto outpost_slo_info */
    size_t n_labels;
    uint64_t identity; /* hash of the SLI definition: checks + threshold */
    int line;
};

#define CFG_MAX_SLOS 10000
#define CFG_MAX_PERIOD_MS (90LL * 86400000)
#define CFG_DEFAULT_MIN_EVENTS 10

struct cfg;

/* Parse and validate a file. On success *out is the new config (caller frees
 * with cfg_free). On failure returns OP_ERR_INVALID/OP_ERR_IO and appends one
 * line per problem ("FILE:LINE:COL: KEY: message\n") to errors. */
enum op_rc cfg_load_file(const char *path, struct cfg **out, struct buf *errors) WUR;
/* Same, from memory; name is used in messages. */
enum op_rc cfg_load_string(const char *text, size_t len, const char *name, struct cfg **out,
                           struct buf *errors) WUR;
void cfg_free(struct cfg *c);

size_t cfg_check_count(const struct cfg *c);
/* Borrowed; valid while c lives. */
const struct check_spec *cfg_check(const struct cfg *c, size_t i);
size_t cfg_slo_count(const struct cfg *c);
/* Borrowed; valid while c lives. */
const struct slo_spec *cfg_slo(const struct cfg *c, size_t i);
/* Always present (defaults when the section is absent); borrowed. */
const struct alerting_spec *cfg_alerting(const struct cfg *c);

size_t cfg_canary_count(const struct cfg *c);
const struct canary_spec *cfg_canary(const struct cfg *c, size_t i);
/* NULL when there is none of that name. */
const struct canary_spec *cfg_find_canary(const struct cfg *c, const char *name);

/* Non-fatal findings of the load, one per line ("" when none); borrowed. */
const char *cfg_warnings(const struct cfg *c);

/* The file the config came from; borrowed. */
const char *cfg_source(const struct cfg *c);

/* "250ms", "10s", "5m", "1h", "1d", "1w", "1y" and sums like "1h30m" (the
 * Prometheus duration syntax) to milliseconds. Rejects empty, negative,
 * fractional and overflowing values. */
enum op_rc cfg_parse_duration(const char *s, int64_t *ms) WUR;

/* True when code falls into one of the ranges. */
bool cfg_status_ok(const struct http_expect *e, int code);

#endif
