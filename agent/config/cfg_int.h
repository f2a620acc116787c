/*
 * cfg_int.h - the loaded configuration as the loader's sections build it.
 * Internal to agent/config/: everything else uses the accessors in
 * config.h.
 */
#ifndef OUTPOST_CFG_INT_H
#define OUTPOST_CFG_INT_H

#include "cfg_yaml.h"
#include "names.h"

struct cfg {
    char *source;
    char sha256[SHA256_HEX_BYTES]; /* of the bytes loaded (cfg_sha256) */
    struct check_spec *checks;
    size_t n_checks;
    struct names *check_names;
    struct slo_spec *slos;
    size_t n_slos;
    struct names *slo_names;
    struct canary_spec *canaries;
    size_t n_canaries;
    struct names *canary_names;
    struct alerting_spec alerting;
    struct bb_modules *modules; /* cfg_modules.c; NULL until the section is read */
    struct maint_spec *maint;   /* cfg_maint.c */
    size_t n_maint;
    struct names *maint_names;
    size_t n_checks_in_file; /* all shards' checks; 0 when not sharded (cfg_shard.c) */
};

/* The histogram buckets of a check when neither it nor `global:` sets any. */
extern const double cfg_default_buckets[];
extern const size_t cfg_n_default_buckets;

/* The whole file at path into text (initialised here; caller frees, also
 * on failure), opened without blocking (cfg_open_regular) and capped at
 * CFG_MAX_FILE_BYTES; one "PATH: message" line in errors on failure
 * (OP_ERR_IO, OP_ERR_LIMIT). */
enum op_rc cfg_read_file(const char *path, struct buf *text, struct buf *errors) WUR;

/* Sections, in the order the loader runs them. Each reports problems
 * through p and leaves c consistent for cfg_free whatever happens. */
void cfg_parse_global(struct cfg_parser *p, const yaml_node_t *n);
void cfg_parse_checks(struct cfg_parser *p, const yaml_node_t *n, struct cfg *c);
/* One check entry into cs (zeroed, or with name/interval/sched_key preset
 * for a canary arm); false when it had errors. */
bool cfg_parse_check(struct cfg_parser *p, const yaml_node_t *n, const char *path,
                     struct check_spec *cs);
void cfg_check_free(struct check_spec *cs);
void cfg_parse_canaries(struct cfg_parser *p, const yaml_node_t *n, struct cfg *c);
/* After the SLOs: every name in a canary's gate_slos must be an SLO. n is
 * the `canaries:` node cfg_parse_canaries read without errors. */
void cfg_canaries_resolve_slos(struct cfg_parser *p, const yaml_node_t *n, struct cfg *c);
void cfg_canaries_free(struct cfg *c);
void cfg_parse_slos(struct cfg_parser *p, const yaml_node_t *n, struct cfg *c);
void cfg_slos_free(struct cfg *c);
void cfg_alerting_defaults(struct alerting_spec *a);
void cfg_parse_alerting(struct cfg_parser *p, const yaml_node_t *n, struct alerting_spec *a);
void cfg_alerting_free(struct alerting_spec *a);
/* After checks, SLOs and alerting (windows name checks and SLOs, and a
 * silence needs Alertmanagers). */
void cfg_parse_maintenance(struct cfg_parser *p, const yaml_node_t *n, struct cfg *c);
void cfg_maintenance_free(struct cfg *c);
/* Last, on a config without errors, with opts.shard.count > 1: the rules
 * of a sharded file (errors at the slos: and canaries: entries), then only
 * this shard's part of c is kept (cfg_shard.h). */
void cfg_shard_apply(struct cfg_parser *p, const yaml_node_t *slos, const yaml_node_t *canaries,
                     struct cfg *c);

/* A Prometheus label name that is not reserved (no __ prefix). */
bool cfg_label_name_ok(const char *s);

#endif
