/* smoke.c - `outpost check`: flags, configuration, selection, report. */
#include "smoke.h"
#include "cfg_yaml.h"
#include "cli.h"
#include "log.h"
#include "smoke_report.h"
#include "smoke_run.h"
#include "smoke_url.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The rendered report: about 300 bytes per check, so far more than the
 * largest configuration needs; more is an error, never a cut report. */
#define SMOKE_MAX_REPORT_BYTES (256u << 20)
#define SMOKE_MAX_ERRORS_BYTES (1u << 20)

struct smoke_options {
    const char *config_file;
    const char **checks; /* --check names, borrowed from argv */
    size_t n_checks;
    enum smoke_format format;
    const char *output;
    int64_t timeout_ms;
    const char *timeout_text;
    const char *url_prefix;
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: outpost check [--config.file=outpost.yml] [--check=NAME]...\n"
            "                     [--format=table|json|junit] [--output=FILE]\n"
            "                     [--timeout=DURATION] [--url-prefix=URL]\n"
            "\n"
            "Run the configuration's checks once, all at the same time, and report each\n"
            "result. Exit 0 when every check passed, 1 when any failed, 2 for a usage or\n"
            "configuration error.\n"
            "\n"
            "Flags:\n"
            "  -h, --help                  Show this help and exit.\n"
            "  --config.file=outpost.yml   Configuration file; secrets resolve as in the agent.\n"
            "  --check=NAME                Run only this check; repeatable. Default: every\n"
            "                              entry of checks: (a canary's inline arm only when\n"
            "                              named, e.g. --check=shop/canary).\n"
            "  --format=table              table, json, or junit (JUnit XML for CI reports).\n"
            "  --output=FILE               Write the report to FILE; stdout then shows the\n"
            "                              failed checks and a summary line.\n"
            "  --timeout=DURATION          Bound the whole run; a check still running then\n"
            "                              fails with reason timeout. Default: none (each\n"
            "                              check's timeout and retries bound it).\n"
            "  --url-prefix=URL            Probe scheme://host[:port][/base] instead of each\n"
            "                              URL's scheme, host and port; the base path goes\n"
            "                              before each URL's path, query kept.\n");
}

/* Returns -1 to go on, else an exit code. */
static int parse_flags(int argc, char **argv, struct smoke_options *o)
{
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return SMOKE_EXIT_PASS;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        bool missing = false;
        if ((v = cli_flag_value(argc, argv, &i, "--config.file", &missing))) {
            o->config_file = v;
        } else if ((v = cli_flag_value(argc, argv, &i, "--check", &missing))) {
            o->checks[o->n_checks++] = v;
        } else if ((v = cli_flag_value(argc, argv, &i, "--format", &missing))) {
            if (smoke_parse_format(v, &o->format) != OP_OK) {
                fprintf(stderr, "outpost check: --format must be table, json or junit\n");
                return SMOKE_EXIT_USAGE;
            }
        } else if ((v = cli_flag_value(argc, argv, &i, "--output", &missing))) {
            if (!*v) {
                fprintf(stderr, "outpost check: --output needs a file name\n");
                return SMOKE_EXIT_USAGE;
            }
            o->output = v;
        } else if ((v = cli_flag_value(argc, argv, &i, "--timeout", &missing))) {
            if (cfg_parse_duration(v, &o->timeout_ms) != OP_OK) {
                fprintf(stderr, "outpost check: --timeout needs a duration above 0 "
                                "(e.g. 500ms, 30s, 2m)\n");
                return SMOKE_EXIT_USAGE;
            }
            o->timeout_text = v;
        } else if ((v = cli_flag_value(argc, argv, &i, "--url-prefix", &missing))) {
            o->url_prefix = v;
        } else {
            return cli_reject("outpost check", a, missing);
        }
    }
    return -1;
}

/* Which checks run: the --check names, else every check but inline canary
 * arms (a canary compares two arms over time; one probe of each says
 * nothing about the canary, but either can be named). Problems to errors;
 * false on any. */
static bool select_checks(const struct cfg *cfg, const struct smoke_options *o, bool *selected,
                          struct buf *errors)
{
    size_t n = cfg_check_count(cfg);
    if (!o->n_checks) {
        for (size_t i = 0; i < n; i++)
            selected[i] = !cfg_check_is_canary_arm(cfg_check(cfg, i));
        return true;
    }
    const char **names = xcalloc(n + 1, sizeof(*names));
    for (size_t i = 0; i < n; i++)
        names[i] = cfg_check(cfg, i)->name;
    const struct cfg_keys known = {.names = names};
    bool ok = true;
    for (size_t k = 0; k < o->n_checks; k++) {
        long i = cfg_find_check(cfg, o->checks[k]);
        if (i >= 0) {
            selected[i] = true;
            continue;
        }
        const char *near = cfg_suggest_key(o->checks[k], &known);
        buf_addf(errors, "outpost check: --check: no check named \"%s\" in %s", o->checks[k],
                 o->config_file);
        if (near)
            buf_addf(errors, " (did you mean \"%s\"?)", near);
        buf_addc(errors, '\n');
        ok = false;
    }
    free(names);
    return ok;
}

/* --url-prefix on every selected check; problems to errors. */
static bool rebase_checks(const struct cfg *cfg, const bool *selected, const struct smoke_prefix *p,
                          struct buf *errors)
{
    bool ok = true;
    for (size_t i = 0; i < cfg_check_count(cfg); i++) {
        const char *why;
        const struct check_spec *c = cfg_check(cfg, i);
        if (selected[i] && smoke_rebase_check(c, p, &why) != OP_OK) {
            buf_addf(errors, "outpost check: --url-prefix: check \"%s\": %s\n", c->name, why);
            ok = false;
        }
    }
    return ok;
}

static bool write_file(const char *path, const struct buf *b, struct buf *errors)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        buf_addf(errors, "outpost check: cannot write %s: %s\n", path, strerror(errno));
        return false;
    }
    bool ok = fwrite(b->data ? b->data : "", 1, b->len, f) == b->len;
    int err = errno;
    if (fclose(f) != 0 && ok) {
        ok = false;
        err = errno;
    }
    if (!ok)
        buf_addf(errors, "outpost check: cannot write %s: %s\n", path, strerror(err));
    return ok;
}

/* The report to --output or stdout, and what stdout shows then. */
static int emit(const struct smoke_options *o, const struct smoke_report *rep, struct buf *errors)
{
    struct buf out, brief;
    buf_init(&out, SMOKE_MAX_REPORT_BYTES);
    buf_init(&brief, SMOKE_MAX_REPORT_BYTES);
    int code = smoke_report_failed(rep) ? SMOKE_EXIT_FAIL : SMOKE_EXIT_PASS;
    smoke_report_render(rep, o->format, &out);
    if (o->output)
        smoke_report_brief(rep, &brief);
    const struct buf *to_stdout = o->output ? &brief : &out;
    if (out.failed || brief.failed) {
        buf_addf(errors, "outpost check: the report is larger than %u bytes\n",
                 SMOKE_MAX_REPORT_BYTES);
        code = SMOKE_EXIT_USAGE;
    } else if (o->output && !write_file(o->output, &out, errors)) {
        code = SMOKE_EXIT_USAGE;
    } else if (fwrite(buf_str(to_stdout), 1, to_stdout->len, stdout) != to_stdout->len ||
               fflush(stdout) != 0) {
        buf_addf(errors, "outpost check: cannot write to stdout: %s\n", strerror(errno));
        code = SMOKE_EXIT_USAGE;
    }
    buf_free(&out);
    buf_free(&brief);
    return code;
}

int smoke_main(int argc, char **argv)
{
    struct smoke_options o = {.config_file = "outpost.yml", .format = SMOKE_FMT_TABLE};
    o.checks = xcalloc((size_t)argc, sizeof(*o.checks));
    struct buf errors;
    buf_init(&errors, SMOKE_MAX_ERRORS_BYTES);
    struct cfg *cfg = NULL;
    bool *selected = NULL;
    struct smoke_prefix prefix = {0};
    struct smoke_report rep = {0};
    int code = parse_flags(argc, argv, &o);
    if (code >= 0)
        goto out;
    code = SMOKE_EXIT_USAGE;
    const char *why;
    if (o.url_prefix && smoke_prefix_parse(o.url_prefix, &prefix, &why) != OP_OK) {
        buf_addf(&errors, "outpost check: --url-prefix: %s\n", why);
        goto out;
    }
    /* A failed write reports an error instead of ending the process. */
    signal(SIGPIPE, SIG_IGN);
    log_setup(LOG_LVL_WARN, LOG_FMT_LOGFMT, stderr);
    if (cfg_load_file(o.config_file, &cfg, &errors) != OP_OK)
        goto out;
    size_t n = cfg_check_count(cfg);
    selected = xcalloc(n ? n : 1, sizeof(*selected));
    if (!select_checks(cfg, &o, selected, &errors))
        goto out;
    size_t n_selected = 0;
    for (size_t i = 0; i < n; i++)
        n_selected += selected[i];
    if (!n_selected) {
        buf_addf(&errors, "outpost check: %s has no checks to run\n", o.config_file);
        goto out;
    }
    if (o.url_prefix && !rebase_checks(cfg, selected, &prefix, &errors))
        goto out;
    struct smoke_run_options ro = {selected, o.timeout_ms, o.timeout_text};
    struct cfg *owned = cfg;
    cfg = NULL; /* smoke_run takes it */
    if (smoke_run(owned, &ro, &rep) != OP_OK) {
        buf_adds(&errors, "outpost check: cannot run the checks (see the log above)\n");
        goto out;
    }
    if (o.url_prefix)
        rep.url_prefix = xstrdup(o.url_prefix);
    code = emit(&o, &rep, &errors);
out:
    fputs(buf_str_or(&errors,
                     "the list of problems is longer than its cap; fix the first ones and retry\n"),
          stderr);
    smoke_report_free(&rep);
    smoke_prefix_free(&prefix);
    free(selected);
    cfg_free(cfg);
    free(o.checks);
    buf_free(&errors);
    return code;
}
