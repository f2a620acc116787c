/*
 * modules.h - blackbox_exporter modules: the `modules:` section of the
 * configuration and the file given with --modules.file (a blackbox.yml,
 * read unchanged), each module translated into outpost check settings.
 *
 * A module is translated once, at load, and validated there (with a
 * placeholder target), so a broken module is a load error naming its
 * file:line:col. bb_module_check then builds the check for one real
 * target; the /probe endpoint calls it per request.
 *
 * Modules belong to the loaded struct cfg: immutable, shared read-only by
 * every thread, freed with it.
 */
#ifndef OUTPOST_MODULES_H
#define OUTPOST_MODULES_H

#include "buf.h"
#include "common.h"
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Named caps on outside input. */
#define CFG_MAX_MODULES 10000
#define CFG_MAX_ALLOWED_TARGETS 256
/* The longest target bb_module_check accepts (a URL, a host:port). */
#define BB_MAX_TARGET_BYTES 4096

struct bb_module; /* one module, immutable, owned by the cfg */

/* The modules of c: those of `modules:` first, then those of the modules
 * file, each in file order. Borrowed; valid while c lives. */
size_t cfg_module_count(const struct cfg *c);
const struct bb_module *cfg_module(const struct cfg *c, size_t i);
/* The module of that name; NULL: none. O(1). */
const struct bb_module *cfg_find_module(const struct cfg *c, const char *name);

/* Borrowed from m. */
const char *bb_module_name(const struct bb_module *m);
/* The blackbox prober: "http", "tcp", "dns", "icmp" or "grpc". */
const char *bb_module_prober(const struct bb_module *m);
/* The module's `timeout:`, 0 when unset. */
int64_t bb_module_timeout_ms(const struct bb_module *m);

/* allowed_targets: true when target matches one of the module's patterns
 * (each anchored at both ends); a module that lists none allows any. */
bool bb_module_target_allowed(const struct bb_module *m, const char *target);

/*
 * A check probing target with m's settings and timeout_ms (> 0), named
 * name. On OP_OK *out is the check (caller frees with
 * cfg_check_spec_free). OP_ERR_INVALID with one clean line appended to err
 * (no secrets, no newline) when target is not a valid target for the
 * prober.
 */
enum op_rc bb_module_check(const struct bb_module *m, const char *name, const char *target,
                           int64_t timeout_ms, struct check_spec **out, struct buf *err) WUR;
/* Frees a check from bb_module_check (NULL is fine). */
void cfg_check_spec_free(struct check_spec *c);

/* The module's settings as outpost keys, one "key: value" per line, secrets
 * replaced by <secret>, for /probe?debug=true. Appends to out. */
void bb_module_describe(const struct bb_module *m, struct buf *out);

#endif
