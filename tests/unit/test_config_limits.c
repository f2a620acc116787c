/*
 * test_config_limits.c - the loader's caps on what a file may ask for
 * (cfg_compose.c, cfg.c, cfg_yaml.c): file size, nesting, nodes once
 * aliases are expanded, aliases that name themselves, duplicate keys in
 * big mappings, files that are not regular files, and cancellation.
 *
 * Each cap is checked at its exact edge (the last accepted input and the
 * first refused one, with the whole error line), and the inputs that used
 * to hang or exhaust the loader are timed: a bound of a second or two
 * against minutes or hours before.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "buf.h"
#include "cfg_compose.h"
#include "cfg_yaml.h"
#include "config.h"
#include "webcfg.h"
#include "test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ERRS_MAX (1u << 20)
#define BIG_MAX (64u << 20)

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *tmp_path(const char *name)
{
    static char path[512];
    snprintf(path, sizeof(path), "%s/%s", tu_tmpdir(), name);
    return path;
}

static void write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* Load text (len bytes) as "t.yml"; errs is reset first. */
static enum op_rc load(const char *text, size_t len, struct buf *errs)
{
    buf_reset(errs);
    struct cfg *cfg = NULL;
    enum op_rc rc = cfg_load_string(text, len, "t.yml", &cfg, errs);
    cfg_free(cfg);
    return rc;
}

static enum op_rc compose(const char *text, size_t len, struct buf *errs)
{
    buf_reset(errs);
    yaml_document_t doc;
    enum op_rc rc = cfg_compose(text, len, "t.yml", NULL, &doc, errs);
    if (rc == OP_OK)
        yaml_document_delete(&doc);
    return rc;
}

/* ---- file size ---- */

/* CFG_MAX_FILE_BYTES exactly loads; one byte more is refused, from memory
 * and from a file (which is never read past the cap). */
static void test_file_size(void **state)
{
    (void)state;
    assert_int_equal(CFG_MAX_FILE_BYTES, 16u << 20);
    struct buf text, errs;
    buf_init(&text, BIG_MAX);
    buf_init(&errs, ERRS_MAX);
    buf_adds(&text, "checks: []\n");
    /* Comment lines of 1 KiB fill the rest, the last one cut to fit. */
    char line[1024];
    memset(line, 'x', sizeof(line));
    line[0] = '#';
    line[sizeof(line) - 1] = '\n';
    while (text.len + sizeof(line) <= CFG_MAX_FILE_BYTES)
        buf_add(&text, line, sizeof(line));
    size_t rest = CFG_MAX_FILE_BYTES - text.len;
    buf_add(&text, line, rest - 1);
    buf_addc(&text, '\n');
    assert_int_equal(text.len, CFG_MAX_FILE_BYTES);
    assert_int_equal(load(text.data, text.len, &errs), OP_OK);
    assert_string_equal(buf_str(&errs), "");

    const char *path = tmp_path("max.yml");
    write_file(path, text.data, text.len);
    struct cfg *cfg = NULL;
    assert_int_equal(cfg_load_file(path, &cfg, &errs), OP_OK);
    cfg_free(cfg);
    cfg = NULL;

    buf_addc(&text, '\n');
    assert_int_equal(load(text.data, text.len, &errs), OP_ERR_LIMIT);
    assert_string_equal(buf_str(&errs),
                        "t.yml: larger than 16777216 bytes (16 MiB), the most a configuration "
                        "may be\n");
    write_file(path, text.data, text.len);
    buf_reset(&errs);
    assert_int_equal(cfg_load_file(path, &cfg, &errs), OP_ERR_LIMIT);
    assert_null(cfg);
    struct buf want;
    buf_init(&want, ERRS_MAX);
    buf_addf(&want, "%s: larger than 16777216 bytes (16 MiB), the most a configuration may be\n",
             path);
    assert_string_equal(buf_str(&errs), buf_str(&want));
    unlink(path);
    buf_free(&want);
    buf_free(&text);
    buf_free(&errs);
}

/* ---- nesting ---- */

/* "x: " then n '[' and n ']': the root mapping plus n lists, n + 1 deep. */
static void nested_flow(struct buf *b, size_t n)
{
    buf_reset(b);
    buf_adds(b, "x: ");
    for (size_t i = 0; i < n; i++)
        buf_addc(b, '[');
    for (size_t i = 0; i < n; i++)
        buf_addc(b, ']');
    buf_addc(b, '\n');
}

static void test_depth(void **state)
{
    (void)state;
    struct buf text, errs;
    buf_init(&text, BIG_MAX);
    buf_init(&errs, ERRS_MAX);

    /* 64 levels compose; the config is then wrong for what it says. */
    nested_flow(&text, CFG_MAX_DEPTH - 1);
    assert_int_equal(compose(text.data, text.len, &errs), OP_OK);
    assert_int_equal(load(text.data, text.len, &errs), OP_ERR_INVALID);
    assert_string_equal(buf_str(&errs), "t.yml:1:1: unknown key \"x\"\n");

    /* The 65th level is refused where it starts: "x: " is 3 columns, the
     * 64th '[' is at column 67. */
    nested_flow(&text, CFG_MAX_DEPTH);
    assert_int_equal(load(text.data, text.len, &errs), OP_ERR_LIMIT);
    assert_string_equal(buf_str(&errs),
                        "t.yml:1:67: lists and mappings nest deeper than 64 levels\n");

    /* Block style: "- " per level, the 65th at column 127 of line 2. */
    buf_reset(&text);
    buf_adds(&text, "checks:\n");
    for (int i = 0; i < 100; i++)
        buf_adds(&text, "- ");
    buf_adds(&text, "x\n");
    assert_int_equal(load(text.data, text.len, &errs), OP_ERR_LIMIT);
    assert_string_equal(buf_str(&errs),
                        "t.yml:2:127: lists and mappings nest deeper than 64 levels\n");

    /* Indented mappings. */
    buf_reset(&text);
    for (int i = 0; i < 70; i++) {
        for (int k = 0; k < i; k++)
            buf_addc(&text, ' ');
        buf_addf(&text, "k%d:\n", i);
    }
    assert_int_equal(load(text.data, text.len, &errs), OP_ERR_LIMIT);
    assert_string_equal(buf_str(&errs),
                        "t.yml:65:65: lists and mappings nest deeper than 64 levels\n");

    /* 1 MiB of nesting made libyaml's scanner quadratic (80 KB took 2.4 s,
     * 160 KB 9.5 s, so this about 6 minutes): refused at once now, also
     * by the web config's loader. */
    nested_flow(&text, 512 * 1024);
    double t0 = now_s();
    assert_int_equal(load(text.data, text.len, &errs), OP_ERR_LIMIT);
    /* The web config's cap is 1 MiB. */
    nested_flow(&text, 256 * 1024);
    struct webcfg *wc = NULL;
    buf_reset(&errs);
    assert_int_equal(webcfg_load_string(text.data, text.len, "web.yml", &wc, &errs),
                     OP_ERR_INVALID);
    assert_null(wc);
    assert_string_equal(buf_str(&errs),
                        "web.yml:1:67: lists and mappings nest deeper than 64 levels\n");
    assert_true(now_s() - t0 < 1.0);
    buf_free(&text);
    buf_free(&errs);
}

/* ---- nodes, aliases expanded ---- */

/* a: &x [K scalars]; b: [M aliases of x]; c: [P scalars].
 * Nodes: root, 3 keys, 3 lists, K + M (K + 1) + P: 7 + K + M (K + 1) + P. */
static void aliased(struct buf *b, size_t k, size_t m, size_t p)
{
    buf_reset(b);
    buf_adds(b, "a: &x [");
    for (size_t i = 0; i < k; i++)
        buf_adds(b, i ? ", s" : "s");
    buf_adds(b, "]\nb: [");
    for (size_t i = 0; i < m; i++)
        buf_adds(b, i ? ", *x" : "*x");
    buf_adds(b, "]\nc: [");
    for (size_t i = 0; i < p; i++)
        buf_adds(b, i ? ", s" : "s");
    buf_adds(b, "]\n");
}

static void test_nodes(void **state)
{
    (void)state;
    struct buf text, errs;
    buf_init(&text, BIG_MAX);
    buf_init(&errs, ERRS_MAX);
    const size_t k = 999, m = 3998;
    size_t p = CFG_MAX_NODES - (7 + k + m * (k + 1));
    assert_int_equal(p, 994);

    /* Exactly CFG_MAX_NODES: composed, and every alias is the same node. */
    aliased(&text, k, m, p);
    yaml_document_t doc;
    assert_int_equal(cfg_compose(text.data, text.len, "t.yml", NULL, &doc, &errs), OP_OK);
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    assert_int_equal(root->data.mapping.pairs.top - root->data.mapping.pairs.start, 3);
    yaml_node_t *a = yaml_document_get_node(&doc, root->data.mapping.pairs.start[0].value);
    yaml_node_t *b = yaml_document_get_node(&doc, root->data.mapping.pairs.start[1].value);
    assert_int_equal(b->data.sequence.items.top - b->data.sequence.items.start, m);
    for (size_t i = 0; i < m; i++)
        assert_ptr_equal(yaml_document_get_node(&doc, b->data.sequence.items.start[i]), a);
    /* Nodes in the file: root, 3 keys, 3 lists, the scalars. */
    assert_int_equal(doc.nodes.top - doc.nodes.start, 7 + k + p);
    yaml_document_delete(&doc);

    /* One scalar more: refused at it (line 3, "c: [" then "s, " each). */
    aliased(&text, k, m, p + 1);
    assert_int_equal(compose(text.data, text.len, &errs), OP_ERR_LIMIT);
    char want[256];
    snprintf(want, sizeof(want),
             "t.yml:3:%zu: the document has more than 4000000 nodes once aliases are expanded\n",
             5 + 3 * p);
    assert_string_equal(buf_str(&errs), want);

    /* One alias more: refused at that alias, with what it repeats. */
    aliased(&text, k, m + 1, 0);
    assert_int_equal(compose(text.data, text.len, &errs), OP_ERR_LIMIT);
    snprintf(want, sizeof(want),
             "t.yml:2:%zu: the document has more than 4000000 nodes once aliases are expanded "
             "(this alias *x repeats 1000 nodes)\n",
             5 + 4 * m);
    assert_string_equal(buf_str(&errs), want);
    buf_free(&text);
    buf_free(&errs);
}

/* The billion laughs: ten aliases of ten aliases of ... nine levels deep
 * is 10^9 nodes from a few hundred bytes. Refused where the count passes
 * the cap (level 7, 10^7 nodes), in no time and no memory. */
static void test_billion_laughs(void **state)
{
    (void)state;
    struct buf text, errs;
    buf_init(&text, ERRS_MAX);
    buf_init(&errs, ERRS_MAX);
    buf_adds(&text, "l0: &l0 lol\n");
    for (int l = 1; l <= 9; l++) {
        buf_addf(&text, "l%d: &l%d [", l, l);
        for (int i = 0; i < 10; i++)
            buf_addf(&text, "%s*l%d", i ? ", " : "", l - 1);
        buf_adds(&text, "]\n");
    }
    double t0 = now_s();
    assert_int_equal(load(text.data, text.len, &errs), OP_ERR_LIMIT);
    assert_true(now_s() - t0 < 0.5);
    /* Before level 7's list: the root, 8 keys, levels 0 to 6 (1 + 11 + ...
     * + 1,111,111 = 1,234,567 nodes) and the list: 1,234,577. Each alias of
     * level 6 adds 1,111,111: the third passes 4,000,000 (line 8,
     * "l7: &l7 [" then "*l6, " each). */
    assert_string_equal(buf_str(&errs),
                        "t.yml:8:20: the document has more than 4000000 nodes once aliases are "
                        "expanded (this alias *l6 repeats 1111111 nodes)\n");
    buf_free(&text);
    buf_free(&errs);
}

/* An alias names a node completed before it: never the node it sits in,
 * so no walk of the tree can loop. Two anchors of one name are refused,
 * as libyaml's loader does. */
static void test_alias_rules(void **state)
{
    (void)state;
    struct buf errs;
    buf_init(&errs, ERRS_MAX);
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"a: &x [1, *x]\n",
         "t.yml:1:11: YAML syntax error: alias *x names no anchor completed before it\n"},
        {"a: &x {k: *x}\n",
         "t.yml:1:11: YAML syntax error: alias *x names no anchor completed before it\n"},
        {"a: *y\n", "t.yml:1:4: YAML syntax error: alias *y names no anchor completed before it\n"},
        {"a: &x 1\nb: &x 2\n", "t.yml:2:4: YAML syntax error: anchor &x is defined twice\n"},
        {"a: &x [1]\nb: &x [2]\n", "t.yml:2:4: YAML syntax error: anchor &x is defined twice\n"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        assert_int_equal(compose(cases[i].text, strlen(cases[i].text), &errs), OP_ERR_INVALID);
        assert_string_equal(buf_str(&errs), cases[i].want);
    }
    /* An alias after its anchor's node ends is fine, also inside a sibling. */
    const char *ok = "a: &x [1, 2]\nb: {c: *x, d: [*x]}\n";
    assert_int_equal(compose(ok, strlen(ok), &errs), OP_OK);
    buf_free(&errs);
}

/* ---- the same document as libyaml's loader ---- */

static void assert_same_mark(yaml_mark_t a, yaml_mark_t b)
{
    assert_int_equal(a.index, b.index);
    assert_int_equal(a.line, b.line);
    assert_int_equal(a.column, b.column);
}

static void assert_same_doc(yaml_document_t *x, yaml_document_t *y)
{
    assert_int_equal(x->nodes.top - x->nodes.start, y->nodes.top - y->nodes.start);
    for (yaml_node_t *a = x->nodes.start, *b = y->nodes.start; a < x->nodes.top; a++, b++) {
        assert_int_equal(a->type, b->type);
        assert_string_equal((const char *)a->tag, (const char *)b->tag);
        assert_same_mark(a->start_mark, b->start_mark);
        assert_same_mark(a->end_mark, b->end_mark);
        switch (a->type) {
        case YAML_SCALAR_NODE:
            assert_int_equal(a->data.scalar.length, b->data.scalar.length);
            assert_memory_equal(a->data.scalar.value, b->data.scalar.value, a->data.scalar.length);
            assert_int_equal(a->data.scalar.style, b->data.scalar.style);
            break;
        case YAML_SEQUENCE_NODE: {
            size_t n = (size_t)(a->data.sequence.items.top - a->data.sequence.items.start);
            assert_int_equal(n, b->data.sequence.items.top - b->data.sequence.items.start);
            assert_memory_equal(a->data.sequence.items.start, b->data.sequence.items.start,
                                n * sizeof(yaml_node_item_t));
            assert_int_equal(a->data.sequence.style, b->data.sequence.style);
            break;
        }
        case YAML_MAPPING_NODE: {
            size_t n = (size_t)(a->data.mapping.pairs.top - a->data.mapping.pairs.start);
            assert_int_equal(n, b->data.mapping.pairs.top - b->data.mapping.pairs.start);
            assert_memory_equal(a->data.mapping.pairs.start, b->data.mapping.pairs.start,
                                n * sizeof(yaml_node_pair_t));
            assert_int_equal(a->data.mapping.style, b->data.mapping.style);
            break;
        }
        default:
            fail();
        }
    }
}

/* Node for node - ids, types, tags, values, styles, marks - what
 * yaml_parser_load builds, for every shape the config uses. */
/* One document per file: a second one with content is an error at its
 * "---"; empty documents after the first (a trailing "---") are not. */
static void test_second_document(void **state)
{
    (void)state;
    struct buf errs;
    buf_init(&errs, ERRS_MAX);
    static const char *const ok[] = {
        "checks: []\n---\n",      "checks: []\n---\n# only a comment\n", "---\nchecks: []\n...\n",
        "checks: []\n---\n---\n", "checks: []\n...\n---\n~\n",
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_int_equal(compose(ok[i], strlen(ok[i]), &errs), OP_OK);
        assert_string_equal(buf_str(&errs), "");
    }
    const char *two = "checks: []\n---\nslos: []\n";
    assert_int_equal(compose(two, strlen(two), &errs), OP_ERR_INVALID);
    assert_string_equal(buf_str(&errs),
                        "t.yml:2:1: a second YAML document starts here; outpost reads one "
                        "document per file: merge the two or remove this \"---\" line\n");
    /* After an empty second document, a third with content. */
    const char *three = "a: 1\n---\n---\n- x\n";
    assert_int_equal(compose(three, strlen(three), &errs), OP_ERR_INVALID);
    assert_string_equal(buf_str(&errs),
                        "t.yml:3:1: a second YAML document starts here; outpost reads one "
                        "document per file: merge the two or remove this \"---\" line\n");
    /* A syntax error in the rest is reported as such. */
    const char *bad = "a: 1\n---\n\"open\n";
    assert_int_equal(compose(bad, strlen(bad), &errs), OP_ERR_INVALID);
    assert_non_null(strstr(buf_str(&errs), "t.yml:3:1: "));
    buf_free(&errs);
}

static void test_same_as_libyaml(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "",
        "# only a comment\n",
        "~\n",
        "plain\n",
        "- a\n- b\n",
        "checks:\n  - name: a\n    url: http://example.com/\n    headers: {X-A: \"b\", "
        "X-B: 'c'}\n",
        "defaults: &d\n  interval: 10s\n  timeout: 2s\nchecks:\n  - {name: a, alert: *d}\n"
        "  - name: b\n    alert: *d\n    body: |\n      line one\n      line two\n",
        "a: !!str 1\nb: !custom x\nc: ! 5\nd: [!!int 3, &s str, *s]\n",
        "? complex\n: value\n[x, y]: z\n",
        "a: >\n  folded\n  text\n\nb: \"esc\\n\\t\"\n",
        "%YAML 1.1\n---\na: 1\n...\n---\n",
        "--- [1, [2, [3, {a: [4]}]]]\n",
        "empty: []\nnone: {}\nnull:\n",
    };
    struct buf errs;
    buf_init(&errs, ERRS_MAX);
    for (size_t i = 0; i < ARRAY_SIZE(texts); i++) {
        yaml_parser_t parser;
        yaml_document_t want, got;
        assert_true(yaml_parser_initialize(&parser));
        yaml_parser_set_input_string(&parser, (const unsigned char *)texts[i], strlen(texts[i]));
        assert_true(yaml_parser_load(&parser, &want));
        yaml_parser_delete(&parser);
        if (cfg_compose(texts[i], strlen(texts[i]), "t.yml", NULL, &got, &errs) != OP_OK)
            fail_msg("text %zu: %s", i, buf_str(&errs));
        assert_same_doc(&got, &want);
        assert_int_equal(got.start_implicit, want.start_implicit);
        assert_int_equal(got.end_implicit, want.end_implicit);
        yaml_document_delete(&want);
        yaml_document_delete(&got);
    }
    /* Syntax errors say what was written wrong (cfg_syntax.c). */
    const char *bad = "a: [\n";
    assert_int_equal(compose(bad, strlen(bad), &errs), OP_ERR_INVALID);
    assert_string_equal(buf_str(&errs), "t.yml:1:4: this \"[\" is never closed: add \"]\" after "
                                        "the last item (YAML: did not find expected node content)\n"
                                        "    1 | a: [\n"
                                        "      |    ^\n");
    buf_free(&errs);
}

/* ---- duplicate keys in a big mapping ---- */

struct key_count {
    size_t n;
};

static bool count_key(struct cfg_parser *p, const char *key, yaml_node_t *v, const char *path,
                      void *arg)
{
    (void)p;
    (void)key;
    (void)v;
    (void)path;
    ((struct key_count *)arg)->n++;
    return true;
}

/* 400,000 keys, two of them repeats: the repeats are reported at their own
 * lines and every other key is walked once. Pairwise comparison took
 * minutes for this (and hours for the 1.55 million keys of the finding);
 * sorting takes well under a second. */
static void test_duplicate_keys(void **state)
{
    (void)state;
    const size_t n = 400000;
    struct buf text, errs;
    buf_init(&text, BIG_MAX);
    buf_init(&errs, ERRS_MAX);
    for (size_t i = 0; i < n; i++) {
        if (i == 1000)
            buf_adds(&text, "k3: v\n"); /* line 1001 */
        else if (i == n - 1)
            buf_adds(&text, "k0: v\n"); /* line 400000 */
        else
            buf_addf(&text, "k%zu: v\n", i);
    }
    yaml_document_t doc;
    assert_int_equal(cfg_compose(text.data, text.len, "t.yml", NULL, &doc, &errs), OP_OK);
    struct cfg_parser p = {.file = "t.yml", .doc = &doc, .errors = &errs};
    struct key_count kc = {0};
    double t0 = now_s();
    cfg_walk_map(&p, yaml_document_get_root_node(&doc), "", count_key, &kc);
    double took = now_s() - t0;
    assert_true(took < 2.0);
    assert_int_equal(kc.n, n - 2);
    assert_int_equal(p.n_errors, 2);
    assert_string_equal(buf_str(&errs),
                        "t.yml:1001:1: k3: duplicate key\nt.yml:400000:1: k0: duplicate key\n");
    yaml_document_delete(&doc);

    /* The same repeats in a small mapping (compared pairwise). */
    const char *small = "a: 1\nb: 2\na: 3\nc: 4\nb: 5\n";
    assert_int_equal(cfg_compose(small, strlen(small), "t.yml", NULL, &doc, &errs), OP_OK);
    buf_reset(&errs);
    struct cfg_parser q = {.file = "t.yml", .doc = &doc, .errors = &errs};
    kc.n = 0;
    cfg_walk_map(&q, yaml_document_get_root_node(&doc), "", count_key, &kc);
    assert_int_equal(kc.n, 3);
    assert_string_equal(buf_str(&errs),
                        "t.yml:3:1: a: duplicate key\nt.yml:5:1: b: duplicate key\n");
    yaml_document_delete(&doc);
    buf_free(&text);
    buf_free(&errs);
}

/* ---- files that are not regular files ---- */

/* The main file is opened without blocking and must be a regular file (or
 * a link to one): a FIFO without a writer used to hang the load for ever. */
static void test_not_regular(void **state)
{
    (void)state;
    struct buf errs, want;
    buf_init(&errs, ERRS_MAX);
    buf_init(&want, ERRS_MAX);
    char fifo[512], dir[512], link[512], real[512];
    snprintf(fifo, sizeof(fifo), "%s", tmp_path("fifo.yml"));
    snprintf(dir, sizeof(dir), "%s", tmp_path("dir.yml"));
    snprintf(link, sizeof(link), "%s", tmp_path("link.yml"));
    snprintf(real, sizeof(real), "%s", tmp_path("real.yml"));
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(mkdir(dir, 0700), 0);
    write_file(real, "checks: []\n", 11);
    assert_int_equal(symlink(real, link), 0);
    const char *refused[] = {fifo, dir, "/dev/null"};
    for (size_t i = 0; i < ARRAY_SIZE(refused); i++) {
        struct cfg *cfg = NULL;
        buf_reset(&errs);
        buf_reset(&want);
        assert_int_equal(cfg_load_file(refused[i], &cfg, &errs), OP_ERR_IO);
        assert_null(cfg);
        buf_addf(&want, "%s: cannot open: not a regular file\n", refused[i]);
        assert_string_equal(buf_str(&errs), buf_str(&want));
    }
    struct cfg *cfg = NULL;
    buf_reset(&errs);
    assert_int_equal(cfg_load_file(link, &cfg, &errs), OP_OK);
    assert_string_equal(buf_str(&errs), "");
    cfg_free(cfg);
    unlink(fifo);
    unlink(link);
    unlink(real);
    rmdir(dir);
    buf_free(&errs);
    buf_free(&want);
}

/* ---- cancellation ---- */

static void test_cancel(void **state)
{
    (void)state;
    atomic_bool cancel = true;
    struct cfg_load_options lo = {.cancel = &cancel};
    struct buf text, errs;
    buf_init(&text, BIG_MAX);
    buf_init(&errs, ERRS_MAX);
    struct cfg *cfg = NULL;

    /* A big file stops while it is composed: long before its last line,
     * whose syntax error is never reached. */
    buf_adds(&text, "checks:\n");
    for (int i = 0; i < 100000; i++)
        buf_addf(&text, "  - {name: c%d, url: \"http://127.0.0.1:1/\"}\n", i);
    size_t good_len = text.len;
    buf_adds(&text, "  - [\n");
    assert_int_equal(cfg_load_string_opts(text.data, text.len, "t.yml", &lo, &cfg, &errs),
                     OP_ERR_STATE);
    assert_null(cfg);
    assert_string_equal(buf_str(&errs), "t.yml: load cancelled: the agent is stopping\n");

    /* A small one (fewer events than a composer's check) stops in the walk. */
    buf_reset(&errs);
    const char *small = "checks:\n  - {name: a, url: \"http://127.0.0.1:1/\"}\n";
    assert_int_equal(cfg_load_string_opts(small, strlen(small), "t.yml", &lo, &cfg, &errs),
                     OP_ERR_STATE);
    assert_null(cfg);
    assert_string_equal(buf_str(&errs), "t.yml: load cancelled: the agent is stopping\n");

    /* Not cancelled: the same loads. */
    cancel = false;
    buf_reset(&errs);
    assert_int_equal(cfg_load_string_opts(text.data, good_len, "t.yml", &lo, &cfg, &errs), OP_OK);
    assert_int_equal(cfg_check_count(cfg), 100000);
    cfg_free(cfg);
    buf_free(&text);
    buf_free(&errs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_size),       cmocka_unit_test(test_depth),
        cmocka_unit_test(test_nodes),           cmocka_unit_test(test_billion_laughs),
        cmocka_unit_test(test_alias_rules),     cmocka_unit_test(test_second_document),
        cmocka_unit_test(test_same_as_libyaml), cmocka_unit_test(test_duplicate_keys),
        cmocka_unit_test(test_not_regular),     cmocka_unit_test(test_cancel),
    };
    return cmocka_run_group_tests(tests, tu_tmpdir_setup, tu_tmpdir_teardown);
}
