/*
 * config.h - the YAML configuration (libyaml), validated strictly.
 *
 * A loaded struct cfg is immutable: the probe thread, the HTTP thread and the
 * reload path share it read-only, so it needs no locks. The spec records
 * below are plain data (not opaque, unlike module objects) because every
 * layer above reads their fields; only the loader (and each check type's
 * schema, for its own settings) writes them.
 *
 * Secrets: string values may reference ${env:NAME} or ${file:PATH}. Resolved
 * values live only in these records and are never printed by this module:
 * error messages name file, line, column and key, never a configured value
 * other than durations, enums and status codes.
 */
#ifndef OUTPOST_CONFIG_H
#define OUTPOST_CONFIG_H

#include "buf.h"
#include "common.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Named caps on outside input. */
/* A configuration file, and any one value once ${...} references are
 * resolved. The nesting and node caps of a document are in cfg_compose.h. */
#define CFG_MAX_FILE_BYTES (16u << 20)
#define CFG_MAX_CHECKS 100000
#define CFG_MAX_NAME_BYTES 128
#define CFG_MAX_SECRET_FILE_BYTES (64u << 10)
#define CFG_MAX_BUCKETS 64
#define CFG_MAX_ERRORS 50
#define CFG_MIN_INTERVAL_MS 100
#define CFG_MAX_BODY_CAP (1ull << 30)
#define CFG_MAX_LABELS 64 /* SLO labels, external labels */
/* Samples a canary keeps per arm (window / fastest arm interval + slack):
 * 16 bytes each, so at most 32 MB per canary once full. */
#define CFG_MAX_CANARY_SAMPLES 1000000
#define CFG_CANARY_SLACK 16

#define CFG_DEFAULT_INTERVAL_MS 15000
#define CFG_DEFAULT_TIMEOUT_MS 5000

struct header_kv {
    char *name;
    char *value; /* may be a secret */
};

struct cfg_parser;
struct cfg_keys;
struct check_spec;
struct yaml_node_s; /* libyaml's yaml_node_t */

/*
 * The configuration half of a check type; the runtime half (start, cancel,
 * reasons) is collectors/check.h, and the registry there lists them. The
 * loader reads the keys every check has (name, type, group, interval,
 * timeout, histogram_buckets) and hands every other key to the type.
 */
struct check_schema {
    const char *name; /* the `type:` value */
    /* New, empty type settings (defaults filled); freed with free_spec. */
    void *(*new_spec)(void);
    void (*free_spec)(void *spec);
    /* One key of the entry; false when the type has no such key. */
    bool (*key)(struct cfg_parser *p, const char *key, struct yaml_node_s *val, const char *path,
                struct check_spec *c);
    /* The keys `key` knows (cfg_yaml.h), so an unknown one can be answered
     * with the nearest; NULL: no hints for this type's keys. */
    const struct cfg_keys *keys;
    /* After every key, with interval and timeout final: required keys,
     * rules across keys, and c->target. n is the entry's mapping. */
    void (*finish)(struct cfg_parser *p, const struct yaml_node_s *n, const char *path,
                   struct check_spec *c);
    /* What the check probes (its target, resolved): canary samples survive
     * a reload that keeps both arms' identities. */
    uint64_t (*identity)(const struct check_spec *c);
};

/* The schema registered under name (the check type registry), NULL if
 * none; and the registered names, comma separated, for messages. */
const struct check_schema *cfg_check_schema(const char *name);
const char *cfg_check_type_names(void);

/* When a check's own alert fires and resolves, and how failed probes are
 * retried: per check, defaults from `global:`. */
struct check_policy {
    unsigned failure_threshold; /* consecutive failed probes: OutpostCheckDown fires; default 3 */
    unsigned success_threshold; /* consecutive good probes: it resolves; default 2 */
    unsigned retry_attempts;    /* re-probes of a failed probe before it counts; default 0 */
    int64_t retry_delay_ms;     /* before each re-probe; default 1s */
};

#define CFG_MAX_RETRIES 10

/* Which optional series a check exports on /metrics: per check, defaults
 * from `global:`, all true. A check with phases or histogram off is lean:
 * it also leaves out failure reasons it has not seen and, without
 * retries, its retry counter. */
struct check_metrics {
    bool phases;      /* outpost_check_phase_duration_seconds */
    bool histogram;   /* outpost_check_duration_seconds */
    bool status_code; /* outpost_check_http_status_code */
};

/* `global.browser`: the browsers of `type: browser` checks. The browser
 * type's schema resolves the executable and copies both into each check's
 * settings, so runs need nothing from here. */
struct browser_settings {
    unsigned max_concurrent; /* browsers at once per probe loop, 1 to 64; default 2 */
    char *executable;        /* as written; NULL: looked for where Debian installs it */
};

#define CFG_MAX_BROWSERS 64

/* One configured check: what every type has; the rest is in `spec`. */
struct check_spec {
    char *name;
    const struct check_schema *type;
    char *group;  /* label value, "" when unset */
    char *target; /* what it probes, safe to show (no credentials, query or fragment) */
    int64_t interval_ms, timeout_ms;
    double *buckets; /* histogram upper bounds, strictly increasing, no +Inf */
    size_t n_buckets;
    struct check_policy policy;
    struct check_metrics metrics;
    char *sched_key; /* phase offset key; NULL = name. Inline canary arms share one. */
    int line;        /* where the entry starts, 1-based */
    void *spec;      /* the type's settings, owned (type->free_spec) */
};

/* True for the inline arm of a canary (its failures are the canary's
 * verdict, not an alert of their own). */
bool cfg_check_is_canary_arm(const struct check_spec *c);

/* How the canary judge decides (docs/canary.md); defaults from
 * canary_settings_default. */
struct canary_settings {
    unsigned min_samples;      /* per arm; default 50 */
    double alpha;              /* Fisher significance; default 0.01 */
    double error_ratio_margin; /* absolute; default 0.02 */
    bool has_ceiling;
    double error_ratio_ceiling; /* absolute canary error ratio that always fails */
    double latency_p95_margin;  /* relative; default 0.30 */
    double latency_confidence;  /* Hodges-Lehmann interval; default 0.98 */
    double allowed_increase;    /* mean ratio for High; default 1.0 */
};

void canary_settings_default(struct canary_settings *s);

/* One canary: two arms, each an inline check (named "<canary>/baseline"
 * and "<canary>/canary", probed in lock-step) or an existing check. */
struct canary_spec {
    char *name;
    size_t arm_check[2]; /* [0] baseline, [1] canary: indexes into checks */
    bool inline_arms[2];
    int64_t interval_ms, window_ms;
    size_t ring_samples; /* samples each arm keeps: window / fastest arm interval + slack */
    struct canary_settings settings;
    uint64_t identity; /* the arms' targets: samples survive reloads that keep it */
    int line;
    /* `gate_slos`: the canary's gates fail while one of these SLOs' error
     * budget policy freezes deploys (the verdict metrics stay statistical). */
    char **gate_slos;
    size_t *gate_slo_idx; /* their index in the config's SLOs */
    size_t n_gate_slos;
};

#define CFG_MAX_CANARIES 1000

/* `alerting:`: where and how the agent pushes its own alerts. */
struct alerting_spec {
    char **alertmanagers;      /* base URLs; alerts go to <url>/api/v2/alerts */
    char **alertmanager_names; /* as written, without credentials: the metric label */
    size_t n_alertmanagers;
    int64_t resend_interval_ms;     /* default 1m */
    int64_t evaluation_interval_ms; /* default 10s; also the SLO evaluation */
    struct header_kv *external_labels;
    size_t n_external_labels;
    char *runbook_base_url;      /* NULL when unset */
    char *generator_url;         /* NULL when unset */
    bool slo_alerts;             /* push the SLO alerts (off when fleet rules judge SLOs) */
    int64_t cert_expiry_warn_ms; /* default 14d */
};

#define CFG_MAX_ALERTMANAGERS 16

/* One SLO. Availability: each probe of a listed check is one event, bad
 * when it failed. Latency: bad also when slower than the threshold. */
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
    int64_t min_events;
    bool has_policy;
    double freeze_when_consumed;
    int64_t policy_over_ms;
    struct header_kv *labels; /* copied onto outpost_slo_info */
    size_t n_labels;
    uint64_t identity; /* hash of the SLI definition: checks + threshold */
    int line, column;  /* where the entry starts, 1-based */
};

#define CFG_MAX_SLOS 10000
#define CFG_MAX_PERIOD_MS (90LL * 86400000)
#define CFG_DEFAULT_MIN_EVENTS 10

/* `maintenance:`: planned work (docs/governance.md). A window is one-off
 * ([start, start + duration)) or recurring (each start of a cron
 * expression in a time zone, lasting duration). It covers every check and
 * SLO, or the checks listed, or the SLOs listed and the checks they count. */
struct cron;
struct tz;

struct maint_sched {
    int64_t start_ms;    /* one-off: Unix milliseconds */
    struct cron *cron;   /* recurring; NULL: one-off. Owned (cron.h) */
    struct tz *tz;       /* the cron's zone; NULL: UTC. Owned (tz.h) */
    int64_t duration_ms; /* > 0, at most CFG_MAX_MAINT_DURATION_MS */
};

struct maint_spec {
    char *name;
    struct maint_sched sched;
    char *cron_expr; /* as written; NULL for a one-off window */
    char *timezone;  /* as written; NULL when unset (UTC) */
    char **checks;   /* the checks listed (n_checks), resolved to check_idx */
    size_t *check_idx;
    size_t n_checks;
    char **slos; /* or the SLOs listed (n_slos), resolved to slo_idx; both 0: all */
    size_t *slo_idx;
    size_t n_slos;
    bool exclude_from_slos;    /* default true */
    bool alertmanager_silence; /* default false */
    int line, column;
};

#define CFG_MAX_MAINT_WINDOWS 1000
#define CFG_MAX_MAINT_DURATION_MS (31LL * 86400000)

struct cfg;

/* One shard of n (cfg_shard.h): count 0 or 1 means the whole file. */
struct cfg_shard {
    unsigned index, count;
};

/* How a load treats the file; a NULL options pointer means all defaults. */
struct cfg_load_options {
    /* Parse every ${env:NAME} and ${file:PATH} reference but resolve none:
     * each stands for a placeholder that passes the value's own rules
     * (cfg_yaml.h), so a file can be linted without its secrets. The
     * result must never run: `outpost --config.check --config.skip-secrets`. */
    bool skip_secrets;
    /* When it becomes true (the agent is stopping) the load stops within a
     * few thousand YAML events or one list entry and returns OP_ERR_STATE.
     * NULL: never. Borrowed. */
    const atomic_bool *cancel;
    /* A blackbox_exporter configuration (top-level `modules:`) whose
     * modules join those of the `modules:` section (modules.h); NULL:
     * none. Borrowed. */
    const char *modules_file;
    /* Keep only the checks, SLOs, canaries and windows of this shard
     * (cfg_shard.h); a file whose SLOs or canaries span shards is then
     * invalid. Zeroed: everything. */
    struct cfg_shard shard;
};

/* Parse and validate a file. On success *out is the new config (caller frees
 * with cfg_free). On failure appends one line per problem
 * ("FILE:LINE:COL: KEY: message\n") to errors and returns OP_ERR_INVALID
 * (problems), OP_ERR_LIMIT (larger than CFG_MAX_FILE_BYTES, or past a cap
 * of cfg_compose.h), OP_ERR_IO (cannot read it; it must be a regular file,
 * or a link to one: a FIFO or a device is refused, never waited on) or
 * OP_ERR_STATE (cancelled). */
enum op_rc cfg_load_file(const char *path, struct cfg **out, struct buf *errors) WUR;
/* Same, from memory; name is used in messages. */
enum op_rc cfg_load_string(const char *text, size_t len, const char *name, struct cfg **out,
                           struct buf *errors) WUR;
/* The same with options (may be NULL). */
enum op_rc cfg_load_file_opts(const char *path, const struct cfg_load_options *opts,
                              struct cfg **out, struct buf *errors) WUR;
enum op_rc cfg_load_string_opts(const char *text, size_t len, const char *name,
                                const struct cfg_load_options *opts, struct cfg **out,
                                struct buf *errors) WUR;
void cfg_free(struct cfg *c);

/* SHA-256, in lowercase hex, of the bytes the loader read (the file's
 * content, or the string given); borrowed. */
const char *cfg_sha256(const struct cfg *c);

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

/* Index of the check, SLO or canary of that name, -1 when there is none.
 * O(1): the loader keeps one name map per section. */
long cfg_find_check(const struct cfg *c, const char *name);
long cfg_find_slo(const struct cfg *c, const char *name);
long cfg_find_slo_n(const struct cfg *c, const char *name, size_t len);
/* The canary of that name, NULL when there is none; borrowed. */
const struct canary_spec *cfg_find_canary(const struct cfg *c, const char *name);

size_t cfg_maint_count(const struct cfg *c);
/* Borrowed; valid while c lives. */
const struct maint_spec *cfg_maint(const struct cfg *c, size_t i);
/* Index of the window of that name, -1 when there is none. O(1). */
long cfg_find_maint(const struct cfg *c, const char *name);

/* The rule for every name the config gives (checks, SLOs, canaries,
 * windows): 1 to CFG_MAX_NAME_BYTES bytes, no control characters, so it
 * is a usable label value. */
bool cfg_name_ok(const char *name);
/* An RFC 3339 date-time ("2026-12-06T02:00:00Z", "2026-12-06T03:00:00+01:00",
 * fractions of a second allowed) to Unix milliseconds (fractions below a
 * millisecond dropped). OP_ERR_INVALID for anything else, an impossible
 * date (February 30) or second 60 included. */
enum op_rc cfg_parse_rfc3339(const char *s, int64_t *ms) WUR;

/* The file the config came from; borrowed. */
const char *cfg_source(const struct cfg *c);

/* "250ms", "10s", "5m", "1h", "1d", "1w", "1y" and sums like "1h30m" (the
 * Prometheus duration syntax) to milliseconds. Rejects empty, negative,
 * fractional and overflowing values. */
enum op_rc cfg_parse_duration(const char *s, int64_t *ms) WUR;
/* ms the way Prometheus prints a duration (model.Duration.String): units
 * y (365d), w, d, h, m, s, ms, largest first, zero parts left out, and y
 * and w only when they divide ms exactly ("90d", not "12w6d"); 0 is "0s".
 * CFG_DURATION_TEXT bytes hold any value. Returns out. */
#define CFG_DURATION_TEXT 40
const char *cfg_format_duration(int64_t ms, char *out, size_t cap);

#endif
