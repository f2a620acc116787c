/* canary_cmd.c - offline canary judgement. */
#include "canary_cmd.h"
#include "cli.h"
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum op_rc canary_parse_samples(const char *name, const char *text, size_t len,
                                struct canary_sample **out, size_t *n_out, struct buf *errors)
{
    struct canary_sample *v = NULL;
    size_t n = 0, cap = 0, line = 0;
    int n_err = 0;
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *s = p, *e = nl ? nl : end;
        p = nl ? nl + 1 : end;
        line++;
        while (s < e && (*s == ' ' || *s == '\t'))
            s++;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
            e--;
        if (s == e || *s == '#')
            continue;
        const char *comma = memchr(s, ',', (size_t)(e - s));
        const char *le = comma ? comma : e;
        char tmp[64];
        const char *why = NULL;
        struct canary_sample x = {0, true};
        if ((size_t)(le - s) >= sizeof(tmp) || le == s) {
            why = "latency_seconds is not a number";
        } else {
            memcpy(tmp, s, (size_t)(le - s));
            tmp[le - s] = '\0';
            char *stop;
            errno = 0;
            x.latency = strtod(tmp, &stop);
            while (*stop == ' ' || *stop == '\t')
                stop++;
            if (errno || *stop || !isfinite(x.latency) || x.latency < 0)
                why = "latency_seconds is not a number >= 0";
        }
        if (!why && comma) {
            const char *f = comma + 1;
            while (f < e && (*f == ' ' || *f == '\t'))
                f++;
            size_t fl = (size_t)(e - f);
            if (fl == 2 && strncmp(f, "ok", 2) == 0)
                x.ok = true;
            else if (fl == 4 && strncmp(f, "fail", 4) == 0)
                x.ok = false;
            else
                why = "the second field must be ok or fail";
        }
        if (why) {
            if (n_err++ < CFG_MAX_ERRORS)
                buf_addf(errors, "%s:%zu: %s\n", name, line, why);
            continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 1024;
            v = xrealloc(v, cap * sizeof(*v));
        }
        v[n++] = x;
    }
    if (n_err) {
        free(v);
        return OP_ERR_INVALID;
    }
    /* Never hand back NULL: callers may do arithmetic on the array. */
    *out = v ? v : xcalloc(1, sizeof(*v));
    *n_out = n;
    return OP_OK;
}

static enum op_rc read_file(const char *path, struct buf *out, struct buf *errors)
{
    enum op_rc rc = buf_read_file(out, path);
    if (rc == OP_ERR_LIMIT)
        buf_addf(errors, "%s: larger than %u bytes\n", path, CANARY_MAX_FILE_BYTES);
    else if (rc != OP_OK)
        buf_addf(errors, "%s: cannot read: %s\n", path, strerror(errno));
    return rc;
}

#define CMD "outpost canary judge"

static void usage(FILE *out)
{
    fprintf(out, "usage: outpost canary judge --baseline=B --canary=C\n"
                 "                            [--config.file=F --canary-name=N]\n"
                 "\n"
                 "Judge two files of samples as the canary gates do and print the verdict JSON;\n"
                 "the exit status is the verdict, so a CI step can gate on it.\n"
                 "\n"
                 "Flags:\n"
                 "  -h, --help                  Show this help and exit.\n"
                 "  --baseline=B                The baseline's samples: latency_seconds[,ok|fail]\n"
                 "                              lines (default ok; # comments).\n"
                 "  --canary=C                  The canary's samples, the same way.\n"
                 "  --config.file=F             With --canary-name: take the settings of canary N\n"
                 "  --canary-name=N             in F (default: the built-in defaults).\n"
                 "\n"
                 "Exit status: 0 pass, 1 fail, 2 usage error, 3 inconclusive (too few samples),\n"
                 "4 bad input (a sample file unreadable or with bad lines, a configuration that\n"
                 "does not load, no canary N in it).\n");
}

int canary_judge_main(int argc, char **argv)
{
    const char *bpath = NULL, *cpath = NULL, *config = NULL, *cname = NULL;
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return CANARY_EXIT_PASS;
    }
    for (int i = 1; i < argc; i++) {
        const char *v;
        bool missing = false;
        if ((v = cli_flag_value(argc, argv, &i, "--baseline", &missing)))
            bpath = v;
        else if ((v = cli_flag_value(argc, argv, &i, "--canary-name", &missing)))
            cname = v;
        else if ((v = cli_flag_value(argc, argv, &i, "--canary", &missing)))
            cpath = v;
        else if ((v = cli_flag_value(argc, argv, &i, "--config.file", &missing)))
            config = v;
        else
            return cli_reject(CMD, argv[i], missing);
    }
    if (!bpath || !cpath)
        return cli_usage_error(CMD, "--baseline and --canary are required");
    if (!config != !cname)
        return cli_usage_error(CMD, "--config.file and --canary-name go together");
    struct buf errors, btext, ctext, out;
    buf_init(&errors, 1u << 20);
    buf_init(&btext, CANARY_MAX_FILE_BYTES);
    buf_init(&ctext, CANARY_MAX_FILE_BYTES);
    buf_init(&out, 1u << 20);
    struct canary_sample *b = NULL, *c = NULL;
    size_t nb = 0, nc = 0;
    int code = CANARY_EXIT_BAD_INPUT;
    struct canary_settings s;
    canary_settings_default(&s);
    struct cfg *cfg = NULL;
    if (config) {
        if (cfg_load_file(config, &cfg, &errors) != OP_OK)
            goto out;
        const struct canary_spec *cs = cfg_find_canary(cfg, cname);
        if (!cs) {
            buf_addf(&errors, "%s: no canary named \"%s\"\n", config, cname);
            goto out;
        }
        s = cs->settings;
    }
    if (read_file(bpath, &btext, &errors) != OP_OK || read_file(cpath, &ctext, &errors) != OP_OK)
        goto out;
    bool ok_b = canary_parse_samples(bpath, buf_str(&btext), btext.len, &b, &nb, &errors) == OP_OK;
    bool ok_c = canary_parse_samples(cpath, buf_str(&ctext), ctext.len, &c, &nc, &errors) == OP_OK;
    if (!ok_b || !ok_c)
        goto out;
    struct canary_verdict v;
    canary_judge(b, nb, c, nc, &s, &v);
    canary_verdict_json(&v, NULL, false, &out);
    buf_addc(&out, '\n');
    fputs(buf_str(&out), stdout);
    code = v.verdict == CANARY_PASS   ? CANARY_EXIT_PASS
           : v.verdict == CANARY_FAIL ? CANARY_EXIT_FAIL
                                      : CANARY_EXIT_INCONCLUSIVE;
out:
    fputs(buf_str_or(&errors,
                     "the list of problems is longer than its cap; fix the first ones and retry\n"),
          stderr);
    free(b);
    free(c);
    cfg_free(cfg);
    buf_free(&errors);
    buf_free(&btext);
    buf_free(&ctext);
    buf_free(&out);
    return code;
}
