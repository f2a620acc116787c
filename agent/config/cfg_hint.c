/*
 * cfg_hint.c - hints for obvious slips in a config: the known key nearest
 * an unknown one ("did you mean"), and what a ratio written where a
 * percentage belongs was meant to be.
 *
 * A hint is only added when it is close enough to be likely right; without
 * one, every message stays exactly as it was.
 */
#include "cfg_yaml.h"

#include <stdio.h>
#include <string.h>

/* Keys longer than this get no suggestion: no known key is anywhere near
 * as long, and the distance table stays on the stack. */
#define HINT_MAX_KEY 64

static unsigned char fold(char c)
{
    return (unsigned char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
}

size_t cfg_key_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > HINT_MAX_KEY || lb > HINT_MAX_KEY)
        return SIZE_MAX;
    /* Optimal string alignment (Damerau-Levenshtein without editing a
     * substring twice): insert, delete, substitute, swap two neighbours,
     * each 1; letters compared without case. Three rows of the table. */
    size_t rows[3][HINT_MAX_KEY + 1];
    size_t *prev2 = rows[0], *prev = rows[1], *cur = rows[2];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = fold(a[i - 1]) != fold(b[j - 1]);
            size_t best = prev[j - 1] + cost;
            if (prev[j] + 1 < best)
                best = prev[j] + 1;
            if (cur[j - 1] + 1 < best)
                best = cur[j - 1] + 1;
            if (i > 1 && j > 1 && fold(a[i - 1]) == fold(b[j - 2]) &&
                fold(a[i - 2]) == fold(b[j - 1]) && prev2[j - 2] + 1 < best)
                best = prev2[j - 2] + 1;
            cur[j] = best;
        }
        size_t *t = prev2;
        prev2 = prev;
        prev = cur;
        cur = t;
    }
    return prev[lb];
}

/* Consider candidate c for key: keep it when it is nearer than *best. */
static void consider(const char *key, const char *c, const char **out, size_t *best)
{
    if (strcmp(key, c) == 0)
        return;
    size_t d = cfg_key_distance(key, c);
    if (d < *best) {
        *best = d;
        *out = c;
    }
}

const char *cfg_suggest_key(const char *key, const struct cfg_keys *keys)
{
    const char *out = NULL;
    size_t best = SIZE_MAX;
    for (; keys; keys = keys->more) {
        for (const struct cfg_field *f = keys->fields; f && f->key; f++)
            consider(key, f->key, &out, &best);
        for (const char *const *n = keys->names; n && *n; n++)
            consider(key, *n, &out, &best);
    }
    /* At most two edits, and fewer than half the key: "ur" is not a slip
     * of "url", "intervall" is one of "interval". */
    if (!out || best > 2 || 2 * best >= strlen(key))
        return NULL;
    return out;
}

void cfg_unknown_key(struct cfg_parser *p, const yaml_node_t *k, const char *path,
                     const struct cfg_keys *keys)
{
    char q[CFG_MAX_QUOTED + 4];
    const char *key = cfg_scalar(k);
    const char *near = cfg_suggest_key(key, keys);
    if (near)
        cfg_err(p, k, path, "unknown key \"%s\" (did you mean \"%s\"?)", cfg_quote(key, q), near);
    else
        cfg_err(p, k, path, "unknown key \"%s\"", cfg_quote(key, q));
}

bool cfg_percent_hint(const char *s, char *out, size_t cap)
{
    /* s passed cfg_parse_percent: digits and at most one '.'. Below 1 means
     * an integer part of zeros only, and there is a fraction. */
    const char *dot = strchr(s, '.');
    if (!dot)
        return false;
    for (const char *q = s; q < dot; q++)
        if (*q != '0')
            return false;
    /* Times 100 on the digits, so "0.999" gives "99.9" with no binary
     * noise: the first two fraction digits (padded) become the integer
     * part, the rest stays the fraction, without trailing zeros. */
    const char *frac = dot + 1;
    size_t flen = strlen(frac);
    char ip[3] = {flen > 0 ? frac[0] : '0', flen > 1 ? frac[1] : '0', '\0'};
    size_t rest = flen > 2 ? flen - 2 : 0;
    while (rest && frac[2 + rest - 1] == '0')
        rest--;
    int n = snprintf(out, cap, "%s%s%.*s", ip[0] == '0' ? ip + 1 : ip, rest ? "." : "", (int)rest,
                     rest ? frac + 2 : "");
    return n > 0 && (size_t)n < cap;
}
