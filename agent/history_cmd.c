/* history_cmd.c - `outpost canary history` (history_cmd.h). */
#include "history_cmd.h"
#include "buf.h"
#include "cli.h"
#include "history.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HISTORY_MAX_OUTPUT (256u << 20)

static void usage(FILE *out)
{
    fprintf(out, "usage: outpost canary history [--storage.path=DIR] [--canary=N] [--run=ID]\n"
                 "                              [--format=table|json] [--limit=N]\n"
                 "\n"
                 "The canary run history in DIR/history.db (default ./data, the agent's\n"
                 "--storage.path), opened read-only: it works while the agent runs.\n"
                 "\n"
                 "  -h, --help           Show this help and exit.\n"
                 "  --storage.path=DIR   The agent's --storage.path (default ./data).\n"
                 "  --canary=N           Runs of canary N only (default: every canary).\n"
                 "  --run=ID             One run with every call (with --canary: of that canary).\n"
                 "  --format=table       table (aligned columns) or json (the API's JSON).\n"
                 "  --limit=100          Newest runs to list, 1 to 1000.\n"
                 "\n"
                 "Exit status: 0 printed, 1 the history is missing or unreadable or there is no\n"
                 "such run, 2 usage error.\n");
}

/* ---- the table ---- */

#define COLS_MAX 12

struct table {
    size_t ncols, ncells, cap;
    char **cells; /* row-major, owned */
    size_t width[COLS_MAX];
};

/* Width on a terminal: UTF-8 continuation bytes take no column. */
static size_t text_width(const char *s)
{
    size_t w = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        w += (*p & 0xC0) != 0x80;
    return w;
}

/* Length of the valid UTF-8 sequence at p (NUL-terminated), 0 when the
 * bytes there are not one (no overlong forms, surrogates, or past
 * U+10FFFF). */
static size_t utf8_len(const unsigned char *p)
{
    unsigned c = p[0], lo = 0x80, hi = 0xbf;
    size_t n;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        lo = c == 0xe0 ? 0xa0 : lo; /* overlong */
        hi = c == 0xed ? 0x9f : hi; /* surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        lo = c == 0xf0 ? 0x90 : lo; /* overlong */
        hi = c == 0xf4 ? 0x8f : hi; /* past U+10FFFF */
    } else {
        return 0;
    }
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return n;
}

/* Add a cell (copied), with control characters as '?': a stored name is
 * whatever a client sent, and must not drive the terminal. That is C0 and
 * DEL, the C1 controls U+0080..U+009F (U+009B is CSI to terminals that
 * take 8-bit controls), and any byte outside valid UTF-8 (a raw 0x9B). */
static void cell(struct table *t, const char *s)
{
    size_t n = t->ncells++;
    if (n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->cells = xrealloc(t->cells, t->cap * sizeof(*t->cells));
    }
    const unsigned char *p = (const unsigned char *)(s ? s : "-");
    char *c = xmalloc(strlen((const char *)p) + 1), *o = c;
    while (*p) {
        size_t u = utf8_len(p);
        if (u == 0 || *p < 0x20 || *p == 0x7f || (u == 2 && p[0] == 0xc2 && p[1] < 0xa0)) {
            *o++ = '?';
            p += u ? u : 1;
        } else {
            memcpy(o, p, u);
            o += u;
            p += u;
        }
    }
    *o = '\0';
    t->cells[n] = c;
    size_t col = n % t->ncols, w = text_width(c);
    if (w > t->width[col])
        t->width[col] = w;
}

static void cellf(struct table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void cellf(struct table *t, const char *fmt, ...)
{
    char s[64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s, sizeof(s), fmt, ap);
    va_end(ap);
    cell(t, s);
}

static void cell_num(struct table *t, double v)
{
    if (isfinite(v))
        cellf(t, "%.4g", v);
    else
        cell(t, NULL);
}

static void cell_time(struct table *t, int64_t ms)
{
    char s[HIST_TIME_BYTES];
    if (ms < 0) {
        cell(t, NULL);
        return;
    }
    history_time(ms, s, sizeof(s));
    cell(t, s);
}

static void table_print(struct table *t, struct buf *out)
{
    for (size_t r = 0; r < t->ncells / t->ncols; r++) {
        for (size_t c = 0; c < t->ncols; c++) {
            const char *s = t->cells[r * t->ncols + c];
            buf_adds(out, s);
            if (c + 1 < t->ncols)
                for (size_t w = text_width(s); w < t->width[c] + 2; w++)
                    buf_addc(out, ' ');
        }
        buf_addc(out, '\n');
    }
    for (size_t i = 0; i < t->ncells; i++)
        free(t->cells[i]);
    free(t->cells);
}

static void runs_table(const struct hist_run *r, size_t n, struct buf *out)
{
    struct table t = {.ncols = 9};
    static const char *const head[] = {"ID",    "CANARY",  "SOURCE", "REVISION",    "STARTED",
                                       "ENDED", "OUTCOME", "CALLS",  "LAST_VERDICT"};
    for (size_t i = 0; i < ARRAY_SIZE(head); i++)
        cell(&t, head[i]);
    for (size_t i = 0; i < n; i++) {
        cellf(&t, "%lld", (long long)r[i].id);
        cell(&t, r[i].canary);
        cell(&t, history_source_name(r[i].source));
        cell(&t, r[i].revision);
        cell_time(&t, r[i].started_ms);
        cell_time(&t, r[i].ended_ms);
        const char *o = history_outcome_name(r[i].outcome);
        cell(&t, o ? o : "open");
        cellf(&t, "%lld", (long long)r[i].calls);
        cell(&t, r[i].last_verdict);
    }
    table_print(&t, out);
}

static void calls_table(const struct hist_call_row *c, size_t n, struct buf *out)
{
    struct table t = {.ncols = 12};
    static const char *const head[] = {"SEQ",
                                       "TIME",
                                       "HOOK",
                                       "PHASE",
                                       "STATUS",
                                       "VERDICT",
                                       "SCORE",
                                       "SAMPLES(B/C)",
                                       "ERROR_RATIO(B/C)",
                                       "P95_SECONDS(B/C)",
                                       "SHIFT_SECONDS",
                                       "REASON"};
    for (size_t i = 0; i < ARRAY_SIZE(head); i++)
        cell(&t, head[i]);
    for (size_t i = 0; i < n; i++) {
        char b[HIST_TIME_BYTES], k[HIST_TIME_BYTES];
        cellf(&t, "%lld", (long long)c[i].seq);
        cell_time(&t, c[i].time_ms);
        cell(&t, history_hook_name(c[i].hook));
        cell(&t, c[i].phase);
        cellf(&t, "%d", c[i].status);
        cell(&t, c[i].verdict);
        cell_num(&t, c[i].score);
        cellf(&t, "%lld/%lld", (long long)c[i].baseline.samples,
              (long long)c[i].canary_arm.samples);
        snprintf(b, sizeof(b), "%.4g", c[i].baseline.error_ratio);
        snprintf(k, sizeof(k), "%.4g", c[i].canary_arm.error_ratio);
        cellf(&t, "%s/%s", isfinite(c[i].baseline.error_ratio) ? b : "-",
              isfinite(c[i].canary_arm.error_ratio) ? k : "-");
        snprintf(b, sizeof(b), "%.4g", c[i].baseline.p95);
        snprintf(k, sizeof(k), "%.4g", c[i].canary_arm.p95);
        cellf(&t, "%s/%s", isfinite(c[i].baseline.p95) ? b : "-",
              isfinite(c[i].canary_arm.p95) ? k : "-");
        cell_num(&t, c[i].shift);
        cell(&t, c[i].reason);
    }
    table_print(&t, out);
}

/* ---- the command ---- */

struct args {
    const char *dir, *canary;
    int64_t run; /* -1: none */
    bool json;
    unsigned limit;
};

/* Returns -1 to go on, else an exit code. */
static int parse_args(int argc, char **argv, struct args *a)
{
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return HISTORY_EXIT_OK;
    }
    for (int i = 1; i < argc; i++) {
        const char *v;
        bool missing = false;
        uint64_t n;
        if ((v = cli_flag_value(argc, argv, &i, "--storage.path", &missing))) {
            a->dir = v;
        } else if ((v = cli_flag_value(argc, argv, &i, "--canary", &missing))) {
            a->canary = v;
        } else if ((v = cli_flag_value(argc, argv, &i, "--run", &missing))) {
            if (parse_u64(v, strlen(v), INT64_MAX, &n) != OP_OK || n == 0) {
                fprintf(stderr, "outpost canary history: --run needs a run id (1, 2, ...)\n");
                return HISTORY_EXIT_USAGE;
            }
            a->run = (int64_t)n;
        } else if ((v = cli_flag_value(argc, argv, &i, "--limit", &missing))) {
            if (parse_u64(v, strlen(v), HIST_MAX_LIST, &n) != OP_OK || n == 0) {
                fprintf(stderr, "outpost canary history: --limit needs a number from 1 to %d\n",
                        HIST_MAX_LIST);
                return HISTORY_EXIT_USAGE;
            }
            a->limit = (unsigned)n;
        } else if ((v = cli_flag_value(argc, argv, &i, "--format", &missing))) {
            if (strcmp(v, "json") != 0 && strcmp(v, "table") != 0) {
                fprintf(stderr, "outpost canary history: --format must be table or json\n");
                return HISTORY_EXIT_USAGE;
            }
            a->json = strcmp(v, "json") == 0;
        } else {
            return cli_reject("outpost canary history", argv[i], missing);
        }
    }
    return -1;
}

int history_cmd_main(int argc, char **argv)
{
    struct args a = {.dir = "./data", .run = -1, .limit = HIST_DEFAULT_LIST};
    int code = parse_args(argc, argv, &a);
    if (code >= 0)
        return code;
    struct buf err, out;
    buf_init(&err, 8192);
    buf_init(&out, HISTORY_MAX_OUTPUT);
    struct history *h = NULL;
    code = HISTORY_EXIT_FAILED;
    enum op_rc rc = history_open_ro(a.dir, clock_system(), &h, &err);
    if (rc != OP_OK) {
        fprintf(stderr, "outpost canary history: %s%s\n", buf_str(&err),
                rc == OP_ERR_NOT_FOUND
                    ? " (the agent creates it at start; is --storage.path the agent's?)"
                    : "");
        goto out;
    }
    if (a.run > 0) {
        struct hist_run *run;
        struct hist_call_row *calls;
        size_t n;
        rc = history_get(h, a.canary, a.run, &run, &calls, &n);
        if (rc == OP_ERR_NOT_FOUND) {
            fprintf(stderr, "outpost canary history: no run %lld%s%s\n", (long long)a.run,
                    a.canary ? " of canary " : "", a.canary ? a.canary : "");
            goto out;
        }
        if (rc != OP_OK) {
            fprintf(stderr, "outpost canary history: cannot read the history\n");
            goto out;
        }
        if (a.json) {
            history_run_json(run, calls, n, &out);
            buf_addc(&out, '\n');
        } else {
            runs_table(run, 1, &out);
            buf_addc(&out, '\n');
            calls_table(calls, n, &out);
        }
        history_runs_free(run, 1);
        history_calls_free(calls, n);
    } else {
        struct hist_run *runs;
        size_t n;
        if (history_list(h, a.canary, a.limit, &runs, &n) != OP_OK) {
            fprintf(stderr, "outpost canary history: cannot read the history\n");
            goto out;
        }
        if (a.json) {
            history_runs_json(a.canary, runs, n, &out);
            buf_addc(&out, '\n');
        } else {
            runs_table(runs, n, &out);
        }
        history_runs_free(runs, n);
    }
    if (out.failed) {
        fprintf(stderr, "outpost canary history: output larger than %u bytes\n",
                HISTORY_MAX_OUTPUT);
        goto out;
    }
    fputs(buf_str(&out), stdout);
    code = fflush(stdout) == 0 ? HISTORY_EXIT_OK : HISTORY_EXIT_FAILED;
out:
    history_close(h);
    buf_free(&err);
    buf_free(&out);
    return code;
}
