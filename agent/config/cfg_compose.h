/*
 * cfg_compose.h - YAML text into a libyaml document, within named caps.
 *
 * libyaml's own loader (yaml_parser_load) builds the whole node tree before
 * anyone can look at it, and has no limits: a file that nests flow lists
 * thousands deep makes its scanner quadratic (80 KB took 2.4 s, 160 KB
 * 9.5 s), and an alias costs nothing to load but is walked once per use,
 * so a few megabytes of aliases make hundreds of millions of nodes for the
 * sections to parse. This module builds the same document from libyaml's
 * events and stops at the first event past a cap:
 *
 * - CFG_MAX_DEPTH lists and mappings inside one another;
 * - CFG_MAX_NODES nodes, counting every alias as a copy of the node it
 *   names (what the sections will walk), so aliases shorten a file but
 *   never buy more work than a file without them could ask for;
 * - an alias names an anchor defined, and complete, before it: no node
 *   contains itself, so every walk of the tree ends.
 *
 * The caller's cancel flag is read every CFG_COMPOSE_CANCEL_EVERY events,
 * so a stopping agent never waits for a big file to finish loading.
 */
#ifndef OUTPOST_CFG_COMPOSE_H
#define OUTPOST_CFG_COMPOSE_H

#include "buf.h"
#include "common.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

/* The config nests 6 deep (checks, an entry, expect, json, an item, a key):
 * ten times that is room for any hand-written file. */
#define CFG_MAX_DEPTH 64
/* Room for CFG_MAX_CHECKS checks of 40 nodes each (a check with a URL, a
 * few headers and expectations has 10 to 30); about what the densest
 * realistic 16 MiB file holds, and about 1 GiB of memory once parsed. */
#define CFG_MAX_NODES 4000000u
#define CFG_COMPOSE_CANCEL_EVERY 4096u

/* Parse the one document of text (len bytes; name labels messages) into
 * *doc; further documents must be empty (a trailing "---"). OP_OK: *doc is
 * initialised (the caller deletes it with yaml_document_delete); a stream
 * without a document gives a document without nodes. Otherwise *doc is
 * untouched and one line "NAME:LINE:COL: message\n" is appended to errors:
 * OP_ERR_INVALID for a syntax error, an undefined or a duplicate anchor, or
 * a second document with content (at its "---");
 * OP_ERR_LIMIT for a cap; OP_ERR_STATE when *cancel (may be NULL) became
 * true; OP_ERR_SYSTEM when libyaml ran out of memory. */
enum op_rc cfg_compose(const char *text, size_t len, const char *name, const atomic_bool *cancel,
                       yaml_document_t *doc, struct buf *errors) WUR;

/* The same with other caps (tests reach the real ones too; these keep the
 * inputs small). */
enum op_rc cfg_compose_capped(const char *text, size_t len, const char *name,
                              const atomic_bool *cancel, size_t max_depth, uint64_t max_nodes,
                              yaml_document_t *doc, struct buf *errors) WUR;

#endif
