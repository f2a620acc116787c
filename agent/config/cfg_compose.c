/* cfg_compose.c - libyaml events into a document, within caps (cfg_compose.h). */
#include "cfg_compose.h"
#include "cfg_syntax.h"

#include <search.h>
#include <stdlib.h>
#include <string.h>

/* A defined anchor: the node it names and that node's size once aliases
 * in it are expanded. */
struct anchor {
    char *name;
    int id;
    uint64_t size;
};

/* An open list or mapping. */
struct frame {
    int id;
    int key;         /* a mapping's key waiting for its value; 0: none */
    uint64_t before; /* nodes counted before this one */
    char *anchor;    /* its anchor, registered when it is complete (owned) */
};

struct composer {
    const char *name;
    const char *text; /* the parsed text, for syntax errors */
    size_t len;
    yaml_document_t *doc;
    struct buf *errors;
    const atomic_bool *cancel;
    size_t max_depth;
    uint64_t max_nodes;
    uint64_t nodes; /* so far, aliases expanded */
    struct frame *stack;
    size_t depth;
    /* A balanced tree (glibc's tsearch): O(log n) per alias whatever the
     * names are, where libyaml's loader compares with every anchor. */
    void *anchors;
};

static int anchor_cmp(const void *a, const void *b)
{
    return strcmp(((const struct anchor *)a)->name, ((const struct anchor *)b)->name);
}

static void anchor_free(void *a)
{
    free(((struct anchor *)a)->name);
    free(a);
}

/* "NAME:LINE:COL: YAML syntax error: <what> *anchor<rest>" */
static void fail_at(struct composer *c, yaml_mark_t m, const char *what, char sigil,
                    const char *anchor, const char *rest)
{
    buf_addf(c->errors, "%s:%zu:%zu: YAML syntax error: %s %c%.64s%s\n", c->name, m.line + 1,
             m.column + 1, what, sigil, anchor, rest);
}

/* Count n more nodes at mark m; false (and the error) past the cap. The
 * sum saturates: an alias of an alias of ... cannot wrap it around. */
static bool count(struct composer *c, uint64_t n, yaml_mark_t m, const char *alias)
{
    c->nodes = n > UINT64_MAX - c->nodes ? UINT64_MAX : c->nodes + n;
    if (c->nodes <= c->max_nodes)
        return true;
    buf_addf(c->errors,
             "%s:%zu:%zu: the document has more than %llu nodes once aliases are expanded", c->name,
             m.line + 1, m.column + 1, (unsigned long long)c->max_nodes);
    if (alias)
        buf_addf(c->errors, " (this alias *%.64s repeats %llu nodes)", alias,
                 (unsigned long long)n);
    buf_addc(c->errors, '\n');
    return false;
}

/* Register anchor (may be NULL; ownership taken) for the complete node id. */
static enum op_rc define(struct composer *c, char *anchor, int id, uint64_t size, yaml_mark_t m)
{
    if (!anchor)
        return OP_OK;
    struct anchor *a = xmalloc(sizeof(*a));
    *a = (struct anchor){anchor, id, size};
    struct anchor **slot = tsearch(a, &c->anchors, anchor_cmp);
    if (!slot)
        abort(); /* tsearch's only failure is malloc's */
    if (*slot == a)
        return OP_OK;
    /* libyaml's loader refuses a second anchor of one name too: which one
     * a later alias meant would be a guess. */
    fail_at(c, m, "anchor", '&', anchor, " is defined twice");
    anchor_free(a);
    return OP_ERR_INVALID;
}

/* Hang node id under the innermost open node (none: it is the root, node 1). */
static enum op_rc attach(struct composer *c, int id)
{
    if (c->depth == 0)
        return OP_OK;
    struct frame *f = &c->stack[c->depth - 1];
    yaml_node_t *parent = c->doc->nodes.start + f->id - 1;
    int ok;
    if (parent->type == YAML_SEQUENCE_NODE) {
        ok = yaml_document_append_sequence_item(c->doc, f->id, id);
    } else if (!f->key) {
        f->key = id;
        ok = 1;
    } else {
        ok = yaml_document_append_mapping_pair(c->doc, f->id, f->key, id);
        f->key = 0;
    }
    return ok ? OP_OK : OP_ERR_SYSTEM;
}

static void set_marks(struct composer *c, int id, yaml_mark_t start, yaml_mark_t end)
{
    c->doc->nodes.start[id - 1].start_mark = start;
    c->doc->nodes.start[id - 1].end_mark = end;
}

/* A tag as libyaml's loader reads it: none or "!" takes the default. */
static const yaml_char_t *tag_of(const yaml_char_t *tag)
{
    return tag && strcmp((const char *)tag, "!") != 0 ? tag : NULL;
}

static enum op_rc on_alias(struct composer *c, const yaml_event_t *ev)
{
    struct anchor key = {(char *)ev->data.alias.anchor, 0, 0};
    struct anchor **found = tfind(&key, &c->anchors, anchor_cmp);
    if (!found) {
        /* Also an alias inside the node it names: anchors are defined
         * when their node ends. */
        fail_at(c, ev->start_mark, "alias", '*', (const char *)ev->data.alias.anchor,
                " names no anchor completed before it");
        return OP_ERR_INVALID;
    }
    if (!count(c, (*found)->size, ev->start_mark, (const char *)ev->data.alias.anchor))
        return OP_ERR_LIMIT;
    return attach(c, (*found)->id);
}

static enum op_rc on_scalar(struct composer *c, yaml_event_t *ev)
{
    if (!count(c, 1, ev->start_mark, NULL))
        return OP_ERR_LIMIT;
    int id = yaml_document_add_scalar(c->doc, tag_of(ev->data.scalar.tag), ev->data.scalar.value,
                                      (int)ev->data.scalar.length, ev->data.scalar.style);
    if (!id)
        return OP_ERR_SYSTEM;
    set_marks(c, id, ev->start_mark, ev->end_mark);
    char *anchor = (char *)ev->data.scalar.anchor;
    ev->data.scalar.anchor = NULL; /* taken */
    enum op_rc rc = define(c, anchor, id, 1, ev->start_mark);
    return rc == OP_OK ? attach(c, id) : rc;
}

static enum op_rc on_start(struct composer *c, yaml_event_t *ev)
{
    if (c->depth == c->max_depth) {
        buf_addf(c->errors, "%s:%zu:%zu: lists and mappings nest deeper than %zu levels\n", c->name,
                 ev->start_mark.line + 1, ev->start_mark.column + 1, c->max_depth);
        return OP_ERR_LIMIT;
    }
    uint64_t before = c->nodes;
    if (!count(c, 1, ev->start_mark, NULL))
        return OP_ERR_LIMIT;
    bool seq = ev->type == YAML_SEQUENCE_START_EVENT;
    int id = seq ? yaml_document_add_sequence(c->doc, tag_of(ev->data.sequence_start.tag),
                                              ev->data.sequence_start.style)
                 : yaml_document_add_mapping(c->doc, tag_of(ev->data.mapping_start.tag),
                                             ev->data.mapping_start.style);
    if (!id)
        return OP_ERR_SYSTEM;
    set_marks(c, id, ev->start_mark, ev->end_mark);
    /* Attached now, so its children follow it in document order, as
     * libyaml's loader has them. */
    enum op_rc rc = attach(c, id);
    if (rc != OP_OK)
        return rc;
    yaml_char_t **anchor = seq ? &ev->data.sequence_start.anchor : &ev->data.mapping_start.anchor;
    c->stack[c->depth++] = (struct frame){id, 0, before, (char *)*anchor};
    *anchor = NULL; /* taken */
    return OP_OK;
}

static enum op_rc on_end(struct composer *c, const yaml_event_t *ev)
{
    struct frame *f = &c->stack[--c->depth];
    c->doc->nodes.start[f->id - 1].end_mark = ev->end_mark;
    char *anchor = f->anchor;
    f->anchor = NULL;
    return define(c, anchor, f->id, c->nodes - f->before,
                  c->doc->nodes.start[f->id - 1].start_mark);
}

/* libyaml's error said as what the user did, with the line it is on. */
static void syntax_error(struct composer *c, const yaml_parser_t *parser)
{
    if (parser->error == YAML_MEMORY_ERROR) {
        buf_addf(c->errors, "%s: cannot parse (out of memory in YAML parser)\n", c->name);
        return;
    }
    struct cfg_syntax_problem p = {
        .error = parser->error,
        .problem = parser->problem,
        .problem_mark = parser->problem_mark,
        .problem_offset = parser->problem_offset,
        .problem_value = parser->problem_value,
        .context = parser->context,
        .context_mark = parser->context_mark,
    };
    cfg_syntax_explain(c->errors, c->name, c->text, c->len, &p);
}

/* A plain scalar that YAML reads as null: "", "~", "null", "Null", "NULL". */
static bool is_null_text(const char *v, size_t n)
{
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
    for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
        if (strlen(nulls[i]) == n && memcmp(v, nulls[i], n) == 0)
            return true;
    return false;
}

/*
 * After the first document: the rest of the stream may hold only empty
 * documents (a trailing "---", comments). libyaml's loader and Go's
 * yaml.Unmarshal silently drop a second document, so a file split by a
 * stray "---" would run with half its content; it is an error instead,
 * pointing at the "---" that starts the second one.
 */
static enum op_rc rest_of_stream(struct composer *c, yaml_parser_t *parser)
{
    yaml_mark_t start = {0};
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(parser, &ev)) {
            syntax_error(c, parser);
            return parser->error == YAML_MEMORY_ERROR ? OP_ERR_SYSTEM : OP_ERR_INVALID;
        }
        yaml_event_type_t t = ev.type;
        bool empty = t == YAML_SCALAR_EVENT && ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
                     !ev.data.scalar.anchor && !ev.data.scalar.tag &&
                     is_null_text((const char *)ev.data.scalar.value, ev.data.scalar.length);
        if (t == YAML_DOCUMENT_START_EVENT)
            start = ev.start_mark;
        yaml_event_delete(&ev);
        if (t == YAML_STREAM_END_EVENT)
            return OP_OK;
        if (t == YAML_DOCUMENT_START_EVENT || t == YAML_DOCUMENT_END_EVENT || empty)
            continue;
        buf_addf(c->errors,
                 "%s:%zu:%zu: a second YAML document starts here; outpost reads one document "
                 "per file: merge the two or remove this \"---\" line\n",
                 c->name, start.line + 1, start.column + 1);
        return OP_ERR_INVALID;
    }
}

enum op_rc cfg_compose_capped(const char *text, size_t len, const char *name,
                              const atomic_bool *cancel, size_t max_depth, uint64_t max_nodes,
                              yaml_document_t *doc, struct buf *errors)
{
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        buf_addf(errors, "%s: cannot parse (out of memory in YAML parser)\n", name);
        return OP_ERR_SYSTEM;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    struct composer c = {
        .name = name,
        .text = text,
        .len = len,
        .doc = doc,
        .errors = errors,
        .cancel = cancel,
        .max_depth = max_depth,
        .max_nodes = max_nodes,
        .stack = xcalloc(max_depth + 1, sizeof(struct frame)),
    };
    bool have_doc = false, done = false;
    enum op_rc rc = OP_OK;
    for (unsigned long n = 1; !done && rc == OP_OK; n++) {
        if (cancel && n % CFG_COMPOSE_CANCEL_EVERY == 0 && atomic_load(cancel)) {
            buf_addf(errors, "%s: load cancelled: the agent is stopping\n", name);
            rc = OP_ERR_STATE;
            break;
        }
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            syntax_error(&c, &parser);
            rc = parser.error == YAML_MEMORY_ERROR ? OP_ERR_SYSTEM : OP_ERR_INVALID;
            break;
        }
        switch (ev.type) {
        case YAML_DOCUMENT_START_EVENT:
            if (!yaml_document_initialize(doc, NULL, NULL, NULL, ev.data.document_start.implicit,
                                          1)) {
                rc = OP_ERR_SYSTEM;
                break;
            }
            have_doc = true;
            doc->start_mark = ev.start_mark;
            break;
        case YAML_DOCUMENT_END_EVENT:
            /* One document: the rest of the stream must be empty. */
            doc->end_implicit = ev.data.document_end.implicit;
            doc->end_mark = ev.end_mark;
            done = true;
            rc = rest_of_stream(&c, &parser);
            break;
        case YAML_STREAM_END_EVENT:
            /* No document: an empty one, as yaml_parser_load gives. */
            if (!have_doc)
                memset(doc, 0, sizeof(*doc));
            done = true;
            break;
        case YAML_ALIAS_EVENT:
            rc = on_alias(&c, &ev);
            break;
        case YAML_SCALAR_EVENT:
            rc = on_scalar(&c, &ev);
            break;
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            rc = on_start(&c, &ev);
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            rc = on_end(&c, &ev);
            break;
        default: /* stream start, no event */
            break;
        }
        yaml_event_delete(&ev);
    }
    if (rc == OP_ERR_SYSTEM && parser.error != YAML_MEMORY_ERROR)
        buf_addf(errors, "%s: cannot parse (out of memory in YAML parser)\n", name);
    for (size_t i = 0; i < c.depth; i++)
        free(c.stack[i].anchor);
    free(c.stack);
    tdestroy(c.anchors, anchor_free);
    yaml_parser_delete(&parser);
    if (rc != OP_OK && have_doc)
        yaml_document_delete(doc);
    return rc;
}

enum op_rc cfg_compose(const char *text, size_t len, const char *name, const atomic_bool *cancel,
                       yaml_document_t *doc, struct buf *errors)
{
    return cfg_compose_capped(text, len, name, cancel, CFG_MAX_DEPTH, CFG_MAX_NODES, doc, errors);
}
