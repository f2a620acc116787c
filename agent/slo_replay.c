/* slo_replay.c - offline SLO engine runs. */
#include "slo_replay.h"
#include "cli.h"
#include "slo.h"
#include "slo_state.h"
#include "state.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The JSON document on stdout: about 600 bytes per SLO, so this holds a
 * configuration far larger than any real one; more is an error, not a cut
 * document. */
#define REPLAY_MAX_OUTPUT_BYTES (64u << 20)
/* Problems reported on stderr: config errors and CSV lines, each list capped
 * by CFG_MAX_ERRORS lines. */
#define REPLAY_MAX_ERRORS_BYTES (1u << 20)

struct event {
    double t;
    size_t slo;
    uint64_t good, bad;
    size_t line;
};

/* Trim spaces and tabs around [*s, *e). */
static void trim(const char **s, const char **e)
{
    while (*s < *e && (**s == ' ' || **s == '\t'))
        (*s)++;
    while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t' || (*e)[-1] == '\r'))
        (*e)--;
}

static bool parse_count(const char *s, const char *e, uint64_t *out)
{
    if (s == e || *s < '0' || *s > '9')
        return false;
    char tmp[32];
    if ((size_t)(e - s) >= sizeof(tmp))
        return false;
    memcpy(tmp, s, (size_t)(e - s));
    tmp[e - s] = '\0';
    char *end;
    errno = 0;
    unsigned long long v = strtoull(tmp, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

static bool parse_time(const char *s, const char *e, double *out)
{
    char tmp[64];
    if (s == e || (size_t)(e - s) >= sizeof(tmp))
        return false;
    memcpy(tmp, s, (size_t)(e - s));
    tmp[e - s] = '\0';
    char *end;
    errno = 0;
    double v = strtod(tmp, &end);
    /* Up to the year 9999, as the state file allows. */
    if (errno || *end || !isfinite(v) || v <= 0 || v > STATE_MAX_TIME_MS / 1000.0)
        return false;
    *out = v;
    return true;
}

/* Parse the CSV; on errors returns false with messages (capped). */
static bool parse_events(const struct cfg *cfg, const char *name, const char *text, size_t len,
                         struct event **out, size_t *n_out, struct buf *errors)
{
    struct event *ev = NULL;
    size_t n = 0, cap = 0, line = 0;
    int n_err = 0;
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        line++;
        const char *s = p, *e = le;
        p = nl ? nl + 1 : end;
        trim(&s, &e);
        if (s == e || *s == '#')
            continue;
        const char *f[4][2];
        int nf = 0;
        const char *q = s;
        while (nf < 4) {
            const char *c = memchr(q, ',', (size_t)(e - q));
            f[nf][0] = q;
            f[nf][1] = c ? c : e;
            trim(&f[nf][0], &f[nf][1]);
            nf++;
            if (!c)
                break;
            q = c + 1;
            if (nf == 4) {
                nf = 5; /* too many fields */
                break;
            }
        }
        struct event x = {.line = line};
        const char *why = NULL;
        long slo = -1;
        if (nf != 4)
            why = "expected unix_seconds,slo_name,good_count,bad_count";
        else if (!parse_time(f[0][0], f[0][1], &x.t))
            why = "unix_seconds is not a positive number up to 253402300799";
        else if ((slo = cfg_find_slo_n(cfg, f[1][0], (size_t)(f[1][1] - f[1][0]))) < 0)
            why = "no SLO of that name in the configuration";
        else if (!parse_count(f[2][0], f[2][1], &x.good))
            why = "good_count is not a whole number >= 0";
        else if (!parse_count(f[3][0], f[3][1], &x.bad))
            why = "bad_count is not a whole number >= 0";
        else if (x.good > UINT32_MAX || x.bad > UINT32_MAX)
            why = "counts above 4294967295 in one line are not supported";
        if (why) {
            if (n_err++ < CFG_MAX_ERRORS)
                buf_addf(errors, "%s:%zu: %s\n", name, line, why);
            continue;
        }
        x.slo = (size_t)slo;
        if (n == cap) {
            cap = cap ? cap * 2 : 1024;
            ev = xrealloc(ev, cap * sizeof(*ev));
        }
        ev[n++] = x;
    }
    if (n_err) {
        free(ev);
        return false;
    }
    *out = ev;
    *n_out = n;
    return true;
}

static int cmp_event(const void *a, const void *b)
{
    const struct event *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

static void put_figures(struct buf *b, const struct slo_spec *s, const struct slo_figures *f)
{
    buf_adds(b, "{\"objective\":");
    buf_add_json_number(b, s->objective);
    buf_adds(b, ",\"period_seconds\":");
    buf_add_json_number(b, (double)f->period_ms / 1000.0);
    buf_adds(b, ",\"windows\":{");
    for (int w = 0; w < SLO_W_COUNT; w++) {
        buf_addf(b, "%s\"%s\":{\"events\":%llu,\"bad\":%llu,\"sli_ratio\":", w ? "," : "",
                 slo_window_name((enum slo_window)w), (unsigned long long)f->events[w],
                 (unsigned long long)f->bad[w]);
        buf_add_json_number(b, f->sli[w]);
        buf_adds(b, ",\"burn_rate\":");
        buf_add_json_number(b, f->burn[w]);
        buf_addc(b, '}');
    }
    buf_adds(b, "},\"error_budget_remaining_ratio\":");
    buf_add_json_number(b, f->budget_remaining);
    buf_adds(b, ",\"error_budget_exhaustion_seconds\":");
    if (isinf(f->exhaustion_s))
        buf_adds(b, "\"+Inf\"");
    else
        buf_add_json_number(b, f->exhaustion_s);
    buf_addf(b, ",\"alerts\":{\"page\":%s,\"ticket\":%s},\"policy_freeze\":%s}",
             f->page ? "true" : "false", f->ticket ? "true" : "false",
             f->freeze ? "true" : "false");
}

enum op_rc slo_replay_run(const struct cfg *cfg, const char *events_name, const char *events_csv,
                          size_t len, double at_s, enum replay_budget budget, const char *state_out,
                          struct buf *out, struct buf *errors)
{
    struct event *ev = NULL;
    size_t n = 0;
    if (!parse_events(cfg, events_name, events_csv, len, &ev, &n, errors))
        return OP_ERR_INVALID;
    if (n)
        qsort(ev, n, sizeof(*ev), cmp_event);
    if (at_s < 0) {
        if (n == 0) {
            buf_addf(errors, "%s: no events, and no --at given\n", events_name);
            free(ev);
            return OP_ERR_INVALID;
        }
        at_s = ev[n - 1].t;
    }
    size_t ns = cfg_slo_count(cfg);
    struct slo_state **st = xcalloc(ns ? ns : 1, sizeof(*st));
    int64_t at_ms = llround(at_s * 1000.0);
    for (size_t i = 0; i < ns; i++) {
        st[i] = slost_new(cfg_slo(cfg, i));
        /* The configured schedule, for the whole history (the first rate
         * covers all time before it). */
        if (budget == REPLAY_BUDGET_EXPECTED)
            slost_set_rate(st[i], at_ms, slo_spec_rate(cfg, cfg_slo(cfg, i)));
    }
    for (size_t i = 0; i < n; i++) {
        int64_t t_ms = llround(ev[i].t * 1000.0);
        if (t_ms > at_ms)
            break; /* sorted: the rest is after --at */
        slost_add(st[ev[i].slo], t_ms, ev[i].good + ev[i].bad, ev[i].bad);
    }
    free(ev);

    buf_adds(out, "{\"at\":");
    buf_add_json_number(out, at_s);
    buf_adds(out, ",\"slos\":{");
    for (size_t i = 0; i < ns; i++) {
        const struct slo_spec *s = cfg_slo(cfg, i);
        struct slo_figures f;
        slost_figures(st[i], s, at_ms, &f, NULL, NULL);
        if (i)
            buf_addc(out, ',');
        buf_add_json_string(out, s->name);
        buf_addc(out, ':');
        put_figures(out, s, &f);
    }
    buf_adds(out, "}}\n");

    enum op_rc rc = OP_OK;
    if (out->failed) {
        /* Before --state-out: a run that cannot print its figures writes
         * nothing either. */
        buf_addf(errors, "slo replay: the JSON output is larger than %zu bytes\n", out->max);
        rc = OP_ERR_LIMIT;
    } else if (state_out) {
        if (mkdir(state_out, 0750) != 0 && errno != EEXIST) {
            buf_addf(errors, "%s: cannot create: %s\n", state_out, strerror(errno));
            rc = OP_ERR_IO;
        } else {
            const char **names = xcalloc(ns ? ns : 1, sizeof(char *));
            for (size_t i = 0; i < ns; i++)
                names[i] = cfg_slo(cfg, i)->name;
            rc = state_write(state_out, names, st, ns, errors);
            if (rc != OP_OK)
                buf_addc(errors, '\n');
            free(names);
        }
    }
    for (size_t i = 0; i < ns; i++)
        slost_unref(st[i]);
    free(st);
    return rc;
}

#define CMD "outpost slo replay"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: outpost slo replay --config.file=F --events=E.csv [--at=UNIX_SECONDS]\n"
            "                          [--budget=expected|observed] [--state-out=DIR]\n"
            "\n"
            "Feed a history of events through the agent's SLO engine on a virtual clock and\n"
            "print each SLO's windows, budget and alerts at the end as one JSON object.\n"
            "\n"
            "Flags:\n"
            "  -h, --help                  Show this help and exit.\n"
            "  --config.file=F             The configuration with the SLOs.\n"
            "  --events=E.csv              unix_seconds,slo_name,good_count,bad_count lines\n"
            "                              (fractional seconds, # comments, any order).\n"
            "  --at=UNIX_SECONDS           The time to report at; later events are ignored.\n"
            "                              Default: the last event's time.\n"
            "  --budget=expected           expected: budgets count against the events the\n"
            "                              configured checks produce on their schedule, as in\n"
            "                              the agent; observed: against the events given.\n"
            "  --state-out=DIR             Write DIR/slo-state.bin: an agent started with\n"
            "                              --storage.path=DIR begins with this history.\n"
            "\n"
            "Exit status: 0 printed, 1 the configuration does not load, the events cannot be\n"
            "read or have bad lines (FILE:LINE: reason), or --state-out cannot be written,\n"
            "2 usage error.\n");
}

int slo_replay_main(int argc, char **argv)
{
    const char *config = NULL, *events = NULL, *at = NULL, *state_out = NULL;
    enum replay_budget budget = REPLAY_BUDGET_EXPECTED;
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    for (int i = 1; i < argc; i++) {
        const char *v;
        bool missing = false;
        if ((v = cli_flag_value(argc, argv, &i, "--config.file", &missing))) {
            config = v;
        } else if ((v = cli_flag_value(argc, argv, &i, "--events", &missing))) {
            events = v;
        } else if ((v = cli_flag_value(argc, argv, &i, "--at", &missing))) {
            at = v;
        } else if ((v = cli_flag_value(argc, argv, &i, "--state-out", &missing))) {
            state_out = v;
        } else if ((v = cli_flag_value(argc, argv, &i, "--budget", &missing))) {
            if (strcmp(v, "expected") != 0 && strcmp(v, "observed") != 0) {
                fprintf(stderr, CMD ": --budget must be expected or observed\n");
                return CLI_EXIT_USAGE;
            }
            budget = v[0] == 'e' ? REPLAY_BUDGET_EXPECTED : REPLAY_BUDGET_OBSERVED;
        } else {
            return cli_reject(CMD, argv[i], missing);
        }
    }
    if (!config || !events)
        return cli_usage_error(CMD, "--config.file and --events are required");
    double at_s = -1;
    if (at) {
        char *end;
        errno = 0;
        at_s = strtod(at, &end);
        if (errno || end == at || *end || !isfinite(at_s) || at_s <= 0 ||
            at_s > STATE_MAX_TIME_MS / 1000.0) {
            fprintf(stderr, CMD ": --at needs Unix seconds\n");
            return CLI_EXIT_USAGE;
        }
    }
    struct buf errors, out, text;
    buf_init(&errors, REPLAY_MAX_ERRORS_BYTES);
    buf_init(&out, REPLAY_MAX_OUTPUT_BYTES);
    buf_init(&text, REPLAY_MAX_EVENTS_BYTES);
    int code = 1;
    struct cfg *cfg = NULL;
    if (cfg_load_file(config, &cfg, &errors) != OP_OK)
        goto out;
    enum op_rc rrc = buf_read_file(&text, events);
    if (rrc == OP_ERR_LIMIT) {
        buf_addf(&errors, "%s: larger than %u bytes\n", events, REPLAY_MAX_EVENTS_BYTES);
        goto out;
    }
    if (rrc != OP_OK) {
        buf_addf(&errors, "%s: cannot read: %s\n", events, strerror(errno));
        goto out;
    }
    if (slo_replay_run(cfg, events, buf_str(&text), text.len, at_s, budget, state_out, &out,
                       &errors) != OP_OK)
        goto out;
    fputs(buf_str(&out), stdout);
    code = 0;
out:
    fputs(buf_str(&errors), stderr);
    if (errors.failed)
        fprintf(stderr, "outpost slo replay: the problems found exceed %u bytes of messages\n",
                REPLAY_MAX_ERRORS_BYTES);
    cfg_free(cfg);
    buf_free(&errors);
    buf_free(&out);
    buf_free(&text);
    return code;
}
