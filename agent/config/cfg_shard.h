/*
 * cfg_shard.h - scale-out by hash partition: with `--shard=i/n` an agent
 * runs the checks whose 64-bit FNV-1a of the name, modulo n, is i, and
 * Prometheus adds the shards' raw counters up (rules/outpost.fleet.rules.yml).
 * No agent knows of another; the partition is a pure function of the names.
 *
 * What goes where: a check by its own name; a canary by its name, with its
 * inline arms; an SLO where its checks are (all on one shard, or the file is
 * invalid); a maintenance window on every shard, reduced to the checks and
 * SLOs each shard has (one that names none of them is left out there).
 */
#ifndef OUTPOST_CFG_SHARD_H
#define OUTPOST_CFG_SHARD_H

#include "config.h"

#include <stdint.h>

/* The largest n: more agents than this for one file is not a shard set,
 * it is a misconfiguration. */
#define CFG_SHARD_MAX 1024

/* 64-bit FNV-1a (offset basis 0xcbf29ce484222325, prime 0x100000001b3) of
 * the len bytes at s: the same on every host and in every language, so a
 * check's shard can be computed outside the agent. */
uint64_t cfg_shard_hash(const char *s, size_t len);

/* The shard (0 to n - 1) of a name (NUL-terminated UTF-8) among n >= 1. */
unsigned cfg_shard_of(const char *name, unsigned n);

/* "I/N", digits only, 1 <= N <= CFG_SHARD_MAX and I < N, into *out.
 * OP_ERR_INVALID for anything else (*out untouched). */
enum op_rc cfg_shard_parse(const char *s, struct cfg_shard *out) WUR;

/*
 * The environment's forms, for a StatefulSet whose pods learn their ordinal
 * from the downward API: shard (OUTPOST_SHARD) is "I/N"; or, with shards
 * (OUTPOST_SHARDS) = "N", the ordinal "I" (the pod-index label) or a name
 * ending in "-I" (the pod's name, "outpost-2"). shard NULL or "": not
 * sharded (*out = 0/1), unless shards is set, which is an error. Both set
 * with "I/N": the two N must agree. OP_ERR_INVALID with *why (static text)
 * on any other value. Borrowed strings.
 */
enum op_rc cfg_shard_from_env(const char *shard, const char *shards, struct cfg_shard *out,
                              const char **why) WUR;

/* Checks in the file across all shards (cfg_check_count: this shard's). */
size_t cfg_shard_checks_in_file(const struct cfg *c);

#endif
