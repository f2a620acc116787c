/* names.c - open-addressing name -> index map. */
#include "names.h"
#include "common.h"

#include <stdlib.h>
#include <string.h>

struct names {
    names_key_fn key;
    const void *owner;
    size_t *slots; /* entry index + 1; 0 = empty */
    size_t mask;   /* slot count - 1; slot count is a power of two */
    size_t n;
};

struct names *names_new(names_key_fn key, const void *owner)
{
    struct names *m = xcalloc(1, sizeof(*m));
    m->key = key;
    m->owner = owner;
    return m;
}

void names_free(struct names *m)
{
    if (!m)
        return;
    free(m->slots);
    free(m);
}

static size_t slot_of(const struct names *m, const char *name, size_t len)
{
    return (size_t)hash_mem(name, len) & m->mask;
}

static void insert(struct names *m, size_t i)
{
    const char *k = m->key(m->owner, i);
    size_t h = slot_of(m, k, strlen(k));
    while (m->slots[h])
        h = (h + 1) & m->mask;
    m->slots[h] = i + 1;
}

/* Keep the table at most half full: probes stay short. */
static void grow(struct names *m)
{
    size_t cap = m->slots ? (m->mask + 1) * 2 : 16;
    size_t *old = m->slots, old_cap = m->slots ? m->mask + 1 : 0;
    m->slots = xcalloc(cap, sizeof(size_t));
    m->mask = cap - 1;
    for (size_t s = 0; s < old_cap; s++)
        if (old[s])
            insert(m, old[s] - 1);
    free(old);
}

long names_findn(const struct names *m, const char *name, size_t len)
{
    if (!m->slots)
        return -1;
    for (size_t h = slot_of(m, name, len); m->slots[h]; h = (h + 1) & m->mask) {
        size_t i = m->slots[h] - 1;
        const char *k = m->key(m->owner, i);
        if (strlen(k) == len && memcmp(k, name, len) == 0)
            return (long)i;
    }
    return -1;
}

long names_find(const struct names *m, const char *name)
{
    return names_findn(m, name, strlen(name));
}

long names_add(struct names *m, size_t i)
{
    const char *k = m->key(m->owner, i);
    long have = names_find(m, k);
    if (have >= 0)
        return have;
    if (!m->slots || 2 * (m->n + 1) > m->mask + 1)
        grow(m);
    insert(m, i);
    m->n++;
    return -1;
}

void names_clear(struct names *m)
{
    if (m->slots)
        memset(m->slots, 0, (m->mask + 1) * sizeof(size_t));
    m->n = 0;
}

size_t names_count(const struct names *m)
{
    return m->n;
}
