/* cfg_fields.c - field tables: a section's scalar keys as rows, applied
 * with their defaults, bounds and messages in one place (cfg_yaml.h). */
#include "cfg_yaml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- field tables ---- */

#define AT(obj, off, type) ((type *)((char *)(obj) + (off)))

void cfg_fields_default(const struct cfg_field *tbl, void *obj)
{
    for (const struct cfg_field *f = tbl; f->key; f++) {
        switch (f->kind) {
        case CFG_STR:
        case CFG_SECRET:
            free(*AT(obj, f->offset, char *));
            *AT(obj, f->offset, char *) = f->def_s ? xstrdup(f->def_s) : NULL;
            break;
        case CFG_BOOL:
            *AT(obj, f->offset, bool) = f->def_i != 0;
            break;
        case CFG_DURATION:
        case CFG_COUNT:
            *AT(obj, f->offset, int64_t) = f->def_i;
            break;
        case CFG_UINT:
            *AT(obj, f->offset, unsigned) = (unsigned)f->def_i;
            break;
        case CFG_SIZE:
            *AT(obj, f->offset, uint64_t) = (uint64_t)f->def_i;
            break;
        case CFG_RATIO:
            *AT(obj, f->offset, double) = f->def_d;
            break;
        case CFG_ENUM:
            *AT(obj, f->offset, int) = (int)f->def_i;
            break;
        case CFG_CUSTOM:
            break;
        }
    }
}

void cfg_fields_free(const struct cfg_field *tbl, void *obj)
{
    for (const struct cfg_field *f = tbl; f->key; f++) {
        if (f->kind == CFG_STR || f->kind == CFG_SECRET) {
            free(*AT(obj, f->offset, char *));
            *AT(obj, f->offset, char *) = NULL;
        }
    }
}

size_t cfg_field_index(const struct cfg_field *tbl, const char *key)
{
    size_t i = 0;
    for (; tbl[i].key; i++)
        if (strcmp(tbl[i].key, key) == 0)
            return i;
    abort(); /* a table and its code disagree: a bug, caught by any test */
}

static void get_ratio(struct cfg_parser *p, const yaml_node_t *v, const char *path,
                      const struct cfg_field *f, double *out)
{
    double x;
    if (!cfg_get_number(p, v, path, &x))
        return;
    if ((f->lo_open ? x <= f->lo : x < f->lo) || (f->hi_open ? x >= f->hi : x > f->hi)) {
        cfg_err(p, v, path, "must be %s %g and %s %g", f->lo_open ? "above" : "at least", f->lo,
                f->hi_open ? "below" : "at most", f->hi);
        return;
    }
    *out = x;
}

static void get_enum(struct cfg_parser *p, const yaml_node_t *v, const char *path,
                     const struct cfg_field *f, int *out)
{
    if (!cfg_want_scalar(p, v, path))
        return;
    for (int i = 0; f->names[i]; i++) {
        if (strcmp(cfg_scalar(v), f->names[i]) == 0) {
            *out = i;
            return;
        }
    }
    struct buf list;
    buf_init(&list, 1024);
    for (int i = 0; f->names[i]; i++)
        buf_addf(&list, "%s%s", i ? ", " : "", f->names[i]);
    char q[CFG_MAX_QUOTED + 4];
    cfg_err(p, v, path, "\"%s\" is not one of %s", cfg_quote(cfg_scalar(v), q), buf_str(&list));
    buf_free(&list);
}

static void apply_field(struct cfg_parser *p, const struct cfg_field *f, yaml_node_t *v,
                        const char *path, void *obj)
{
    switch (f->kind) {
    case CFG_STR:
    case CFG_SECRET:
        (void)cfg_get_str(p, v, path, f->kind == CFG_SECRET, AT(obj, f->offset, char *));
        break;
    case CFG_BOOL:
        (void)cfg_get_bool(p, v, path, AT(obj, f->offset, bool));
        break;
    case CFG_DURATION: {
        int64_t d;
        if (!cfg_get_duration(p, v, path, &d))
            break;
        char bound[CFG_DURATION_TEXT];
        if (f->min > 0 && d < f->min)
            cfg_err(p, v, path, "%s must be at least %s", f->unit ? f->unit : "duration",
                    cfg_format_duration(f->min, bound, sizeof(bound)));
        else if (f->max > 0 && d > f->max)
            cfg_err(p, v, path, "%s must be at most %s", f->unit ? f->unit : "duration",
                    cfg_format_duration(f->max, bound, sizeof(bound)));
        else
            *AT(obj, f->offset, int64_t) = d;
        break;
    }
    case CFG_COUNT:
        (void)cfg_get_count(p, v, path, f->min, f->max, AT(obj, f->offset, int64_t));
        break;
    case CFG_UINT: {
        int64_t u;
        if (cfg_get_count(p, v, path, f->min, f->max, &u))
            *AT(obj, f->offset, unsigned) = (unsigned)u;
        break;
    }
    case CFG_SIZE:
        (void)cfg_get_size(p, v, path, AT(obj, f->offset, uint64_t));
        break;
    case CFG_RATIO:
        get_ratio(p, v, path, f, AT(obj, f->offset, double));
        break;
    case CFG_ENUM:
        get_enum(p, v, path, f, AT(obj, f->offset, int));
        break;
    case CFG_CUSTOM:
        (void)f->parse(p, v, path, obj);
        break;
    }
}

bool cfg_field_apply(struct cfg_parser *p, const struct cfg_field *tbl, const char *key,
                     yaml_node_t *v, const char *path, void *obj, cfg_seen *seen)
{
    for (size_t i = 0; tbl[i].key; i++) {
        if (strcmp(tbl[i].key, key) != 0)
            continue;
        *seen |= CFG_SEEN(i);
        apply_field(p, &tbl[i], v, path, obj);
        return true;
    }
    return false;
}

struct fields_walk {
    const struct cfg_field *tbl;
    void *obj;
    cfg_map_fn extra;
    void *arg;
    cfg_seen seen;
    const yaml_node_t **nodes;
};

static bool fields_key(struct cfg_parser *p, const char *key, yaml_node_t *v, const char *path,
                       void *arg)
{
    struct fields_walk *w = arg;
    cfg_seen before = w->seen;
    if (cfg_field_apply(p, w->tbl, key, v, path, w->obj, &w->seen)) {
        if (w->nodes)
            for (size_t i = 0; w->tbl[i].key; i++)
                if ((w->seen & ~before) & CFG_SEEN(i))
                    w->nodes[i] = v;
        return true;
    }
    return w->extra ? w->extra(p, key, v, path, w->arg) : false;
}

cfg_seen cfg_walk_fields(struct cfg_parser *p, const yaml_node_t *map, const char *path,
                         const struct cfg_field *tbl, void *obj, cfg_map_fn extra, void *arg,
                         const yaml_node_t **nodes)
{
    return cfg_walk_fields_ext(p, map, path, tbl, obj, extra, arg, NULL, nodes);
}

cfg_seen cfg_walk_fields_ext(struct cfg_parser *p, const yaml_node_t *map, const char *path,
                             const struct cfg_field *tbl, void *obj, cfg_map_fn extra, void *arg,
                             const struct cfg_keys *extra_keys, const yaml_node_t **nodes)
{
    struct fields_walk w = {tbl, obj, extra, arg, 0, nodes};
    const struct cfg_keys keys = {.fields = tbl, .more = extra_keys};
    cfg_walk_map_keys(p, map, path, fields_key, &w, &keys);
    return w.seen;
}
