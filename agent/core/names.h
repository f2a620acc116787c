/*
 * names.h - the one name -> index map: config sections, generations, the
 * alert table and the state file all look names up through it.
 *
 * Open addressing over indexes only: the owner keeps its entries (and their
 * names) wherever it likes and the map asks for a name through a callback,
 * so it stores no strings, and an owner whose array moves (realloc) keeps a
 * valid map. Lookups are O(1); the table stays at most half full.
 */
#ifndef OUTPOST_NAMES_H
#define OUTPOST_NAMES_H

#include <stddef.h>

/* Name of the owner's entry i; borrowed, valid while the entry exists. */
typedef const char *(*names_key_fn)(const void *owner, size_t i);

struct names;

/* Empty map over owner's entries (owner borrowed). Caller frees. */
struct names *names_new(names_key_fn key, const void *owner);
void names_free(struct names *m);

/* Add entry i. Returns -1 when added, or the index of the entry already
 * holding that name (then nothing is added): a duplicate check for free. */
long names_add(struct names *m, size_t i);
/* Index of the entry called name (or the len bytes at name), -1 if none. */
long names_find(const struct names *m, const char *name);
long names_findn(const struct names *m, const char *name, size_t len);
/* Forget every entry; the memory is kept. */
void names_clear(struct names *m);
size_t names_count(const struct names *m);

#endif
