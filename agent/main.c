/*
 * main.c - flags, start-up in dependency order, signals, shutdown.
 *
 * Threads: main (signals, alert evaluation, state snapshots), the probe
 * loop, the alert sender, and libmicrohttpd's threads. Signals are blocked
 * before any thread starts so only main's sigtimedwait sees them: SIGHUP
 * reloads, SIGTERM/SIGINT stop, SIGUSR1 (the runtime's own, rt_tick) wakes
 * the housekeeping early.
 */
#include "audit.h"
#include "audit_cmd.h"
#include "buf.h"
#include "config.h"
#include "httpd.h"
#include "log.h"
#include "runtime.h"
#include "canary_cmd.h"
#include "cfg_shard.h"
#include "cli.h"
#include "history.h"
#include "history_cmd.h"
#include "slo_replay.h"
#include "smoke.h"
#include "websec.h"

#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Exit status of a stop whose last SLO state snapshot failed (0: stopped
 * and saved; 1: could not start; 2: bad flags). */
#define EXIT_SNAPSHOT_FAILED 3

struct options {
    const char *config_file;
    const char *modules_file;
    const char *storage_path;
    int64_t snapshot_interval_ms;
    int64_t history_retention_ms;
    uint64_t audit_max_bytes;
    unsigned audit_max_files;
    bool config_check;
    bool skip_secrets;
    struct cfg_shard shard;
    bool shard_set; /* --shard given: the environment is not read */
    struct httpd_options web;
    struct websec_options sec;
    enum log_level log_level;
    enum log_format log_format;
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: outpost [<flags>]\n"
            "\n"
            "Synthetic HTTP checks, SLOs and canary judgement, exported to Prometheus.\n"
            "\n"
            "Flags:\n"
            "  --help                      Show this help and exit.\n"
            "  --version                   Show version and exit.\n"
            "  --config.file=outpost.yml   Configuration file.\n"
            "  --config.check              Validate the configuration file and exit 0 (valid)\n"
            "                              or 1 (invalid, with file:line:column messages).\n"
            "  --config.skip-secrets       With --config.check: parse ${env:} and ${file:}\n"
            "                              references without resolving them, and TLS file\n"
            "                              names without reading the files (lint in CI).\n"
            "  --modules.file=blackbox.yml A blackbox_exporter configuration (top-level\n"
            "                              modules:), read unchanged: its modules join those\n"
            "                              of the configuration's modules: section; re-read on\n"
            "                              reload and checked by --config.check.\n"
            "  --web.listen-address=:9469  Address to listen on (host:port, :port, [v6]:port;\n"
            "                              port 0 picks a free one). Repeatable.\n"
            "  --web.telemetry-path=/metrics\n"
            "                              Path of the metrics endpoint.\n"
            "  --web.max-requests=40       Maximum parallel scrapes; 0 means no limit.\n"
            "  --web.max-connections=512   Maximum open connections across all listeners; when\n"
            "                              full, the one waiting longest for a request is\n"
            "                              closed for a new one.\n"
            "  --web.max-connections-per-ip=64\n"
            "                              The same for one client address; 0 means no limit.\n"
            "  --web.read-timeout=10s      Time a connection may wait for its complete request\n"
            "                              (from connecting, or from its previous response).\n"
            "  --web.max-response-memory=auto\n"
            "                              Memory for metrics pages and checks listings held\n"
            "                              for clients; past it the oldest are cut off. auto:\n"
            "                              3x the largest page, 8MiB to 48MiB.\n"
            "  --web.config.file=F         Web config (exporter-toolkit format: TLS, basic-auth\n"
            "                              users, response headers); re-read on reload.\n"
            "  --web.bearer-tokens-file=F  Bearer tokens, one a line; re-read on reload.\n"
            "                              With users or tokens, every endpoint but /-/healthy\n"
            "                              and /-/ready needs credentials.\n"
            "  --web.rate-limit=N/PERIOD   At most N requests per PERIOD (e.g. 20/1m) per client\n"
            "                              address (429 + Retry-After); off by default.\n"
            "  --web.enable-lifecycle      Allow POST /-/reload (else 403); SIGHUP always works.\n"
            "  --probe.max-concurrent=100  Most /probe requests (blackbox_exporter's endpoint)\n"
            "                              probing at once; beyond it 503 with Retry-After.\n"
            "  --shard=I/N                 Run shard I of N (0 <= I < N <= 1024): only the\n"
            "                              checks whose name's FNV-1a hash modulo N is I, the\n"
            "                              SLOs and canaries with them. Without the flag:\n"
            "                              $OUTPOST_SHARD (I/N, or with $OUTPOST_SHARDS=N an\n"
            "                              ordinal or a pod name such as outpost-2), else 0/1.\n"
            "  --log.level=info            debug, info, warn or error.\n"
            "  --log.format=logfmt         logfmt or json.\n"
            "  --storage.path=./data       Directory for the SLO state, the audit log and the\n"
            "                              canary run history.\n"
            "  --storage.snapshot-interval=60s\n"
            "                              How often SLO state is saved (also at shutdown).\n"
            "  --storage.history-retention=90d\n"
            "                              How long canary runs are kept in history.db after\n"
            "                              they ended (1h to 100y).\n"
            "  --audit.max-size=64MiB      Size at which the audit log (audit.jsonl under\n"
            "                              --storage.path) is rotated; 1KiB to 64GiB.\n"
            "  --audit.max-files=10        Rotated audit log files kept (audit.jsonl.1 ...);\n"
            "                              1 to 1000.\n"
            "\n"
            "Commands:\n"
            "  outpost check [--config.file=F] [--check=NAME]... [--format=table|json|junit]\n"
            "                [--output=FILE] [--timeout=DURATION] [--url-prefix=URL]\n"
            "                              Run every check once, at the same time, and report\n"
            "                              each result (JUnit XML for CI); exit 0 all passed,\n"
            "                              1 any failed, 2 usage or configuration error.\n"
            "                              See outpost check --help.\n"
            "  outpost slo replay --config.file=F --events E.csv [--at UNIX_SECONDS]\n"
            "                     [--state-out DIR]\n"
            "                              Feed a history through the SLO engine; print JSON.\n"
            "  outpost canary judge --baseline B --canary C [--config.file F --canary-name N]\n"
            "                              Judge two files of latency_seconds[,ok|fail] lines;\n"
            "                              exit 0 pass, 1 fail, 3 inconclusive, 2 usage error,\n"
            "                              4 bad input.\n"
            "  outpost canary history --storage.path=DIR [--canary=N] [--run=ID]\n"
            "                         [--format=table|json] [--limit=N]\n"
            "                              The canary run history (read-only, also while the\n"
            "                              agent runs). See outpost canary history --help.\n"
            "  outpost audit verify FILE [FILE...]\n"
            "                              Verify the audit log's hash chain, rotated files\n"
            "                              oldest first; exit 0 verified, 1 a line breaks it,\n"
            "                              2 usage error or unreadable file.\n");
}

/* A whole number from min to max, digits only. */
static enum op_rc parse_count(const char *s, unsigned min, unsigned max, unsigned *out)
{
    uint64_t v;
    if (parse_u64(s, strlen(s), max, &v) != OP_OK || v < min)
        return OP_ERR_INVALID;
    *out = (unsigned)v;
    return OP_OK;
}

/* Returns -1 to continue, else an exit code. */
static int parse_flags(int argc, char **argv, struct options *o)
{
    bool listen_set = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v;
        bool missing = false;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(a, "--version") == 0) {
            printf("outpost, version %s (revision: %s)\n", OUTPOST_VERSION, OUTPOST_REVISION);
            return 0;
        }
        if (strcmp(a, "--config.check") == 0) {
            o->config_check = true;
            continue;
        }
        if (strcmp(a, "--config.skip-secrets") == 0) {
            o->skip_secrets = true;
            continue;
        }
        if (strcmp(a, "--web.enable-lifecycle") == 0) {
            o->web.enable_lifecycle = true;
            continue;
        }
        if ((v = cli_flag_value(argc, argv, &i, "--config.file", &missing))) {
            o->config_file = v;
        } else if ((v = cli_flag_value(argc, argv, &i, "--modules.file", &missing))) {
            o->modules_file = v;
        } else if ((v = cli_flag_value(argc, argv, &i, "--web.listen-address", &missing))) {
            if (!listen_set) {
                o->web.n_listen = 0;
                listen_set = true;
            }
            if (o->web.n_listen == HTTPD_MAX_LISTEN) {
                fprintf(stderr, "outpost: at most %d --web.listen-address flags\n",
                        HTTPD_MAX_LISTEN);
                return 2;
            }
            o->web.listen[o->web.n_listen++] = v;
        } else if ((v = cli_flag_value(argc, argv, &i, "--web.telemetry-path", &missing))) {
            if (v[0] != '/') {
                fprintf(stderr, "outpost: --web.telemetry-path must start with /\n");
                return 2;
            }
            o->web.telemetry_path = v;
        } else if ((v = cli_flag_value(argc, argv, &i, "--web.max-requests", &missing))) {
            char *end;
            errno = 0;
            long n = strtol(v, &end, 10);
            if (errno || end == v || *end || n < 0 || n > 1000000) {
                fprintf(stderr, "outpost: --web.max-requests needs a number >= 0\n");
                return 2;
            }
            o->web.max_requests = (unsigned)n;
        } else if ((v = cli_flag_value(argc, argv, &i, "--probe.max-concurrent", &missing))) {
            if (parse_count(v, 1, HTTPD_MAX_PROBES, &o->web.max_probes) != OP_OK) {
                fprintf(stderr, "outpost: --probe.max-concurrent needs a number from 1 to %d\n",
                        HTTPD_MAX_PROBES);
                return 2;
            }
        } else if ((v = cli_flag_value(argc, argv, &i, "--web.max-connections", &missing))) {
            if (parse_count(v, 1, HTTPD_MAX_CONNECTIONS, &o->web.max_connections) != OP_OK) {
                fprintf(stderr, "outpost: --web.max-connections needs a number from 1 to %d\n",
                        HTTPD_MAX_CONNECTIONS);
                return 2;
            }
        } else if ((v = cli_flag_value(argc, argv, &i, "--web.max-connections-per-ip", &missing))) {
            if (parse_count(v, 0, HTTPD_MAX_CONNECTIONS, &o->web.max_connections_per_ip) != OP_OK) {
                fprintf(stderr,
                        "outpost: --web.max-connections-per-ip needs a number from 0 to %d\n",
                        HTTPD_MAX_CONNECTIONS);
                return 2;
            }
        } else if ((v = cli_flag_value(argc, argv, &i, "--web.read-timeout", &missing))) {
            if (cfg_parse_duration(v, &o->web.read_timeout_ms) != OP_OK ||
                o->web.read_timeout_ms < 1000 || o->web.read_timeout_ms > 3600000) {
                fprintf(stderr, "outpost: --web.read-timeout needs a duration from 1s to 1h\n");
                return 2;
            }
        } else if ((v = cli_flag_value(argc, argv, &i, "--web.max-response-memory", &missing))) {
            if (httpd_parse_bytes(v, &o->web.max_response_memory) != OP_OK) {
                fprintf(stderr, "outpost: --web.max-response-memory needs auto or a size from "
                                "1MiB to 64GiB (e.g. 48MiB)\n");
                return 2;
            }
        } else if ((v = cli_flag_value(argc, argv, &i, "--web.config.file", &missing))) {
            o->sec.config_file = v;
        } else if ((v = cli_flag_value(argc, argv, &i, "--web.bearer-tokens-file", &missing))) {
            o->sec.tokens_file = v;
        } else if ((v = cli_flag_value(argc, argv, &i, "--web.rate-limit", &missing))) {
            if (rl_parse(v, &o->sec.rate_n, &o->sec.rate_period_ms) != OP_OK) {
                fprintf(stderr,
                        "outpost: --web.rate-limit needs N/PERIOD, N from 1 to %d and "
                        "PERIOD from 1s to 24h (e.g. 20/1m)\n",
                        RL_MAX_REQUESTS);
                return 2;
            }
        } else if ((v = cli_flag_value(argc, argv, &i, "--shard", &missing))) {
            if (cfg_shard_parse(v, &o->shard) != OP_OK) {
                fprintf(stderr,
                        "outpost: --shard needs I/N with N from 1 to %d and I from 0 to "
                        "N-1 (e.g. 0/3)\n",
                        CFG_SHARD_MAX);
                return 2;
            }
            o->shard_set = true;
        } else if ((v = cli_flag_value(argc, argv, &i, "--log.level", &missing))) {
            if (log_parse_level(v, &o->log_level) != OP_OK) {
                fprintf(stderr, "outpost: --log.level must be debug, info, warn or error\n");
                return 2;
            }
        } else if ((v = cli_flag_value(argc, argv, &i, "--storage.path", &missing))) {
            o->storage_path = v;
        } else if ((v = cli_flag_value(argc, argv, &i, "--storage.snapshot-interval", &missing))) {
            if (cfg_parse_duration(v, &o->snapshot_interval_ms) != OP_OK ||
                o->snapshot_interval_ms < 1000) {
                fprintf(stderr, "outpost: --storage.snapshot-interval needs a duration >= 1s\n");
                return 2;
            }
        } else if ((v = cli_flag_value(argc, argv, &i, "--storage.history-retention", &missing))) {
            if (cfg_parse_duration(v, &o->history_retention_ms) != OP_OK ||
                o->history_retention_ms < HIST_MIN_RETENTION_MS ||
                o->history_retention_ms > HIST_MAX_RETENTION_MS) {
                fprintf(stderr,
                        "outpost: --storage.history-retention needs a duration from 1h to 100y\n");
                return 2;
            }
        } else if ((v = cli_flag_value(argc, argv, &i, "--audit.max-size", &missing))) {
            if (audit_parse_size(v, &o->audit_max_bytes) != OP_OK) {
                fprintf(stderr, "outpost: --audit.max-size needs a size from 1KiB to 64GiB "
                                "(e.g. 64MiB)\n");
                return 2;
            }
        } else if ((v = cli_flag_value(argc, argv, &i, "--audit.max-files", &missing))) {
            if (parse_count(v, 1, AUDIT_MAX_MAX_FILES, &o->audit_max_files) != OP_OK) {
                fprintf(stderr, "outpost: --audit.max-files needs a number from 1 to %u\n",
                        AUDIT_MAX_MAX_FILES);
                return 2;
            }
        } else if ((v = cli_flag_value(argc, argv, &i, "--log.format", &missing))) {
            if (log_parse_format(v, &o->log_format) != OP_OK) {
                fprintf(stderr, "outpost: --log.format must be logfmt or json\n");
                return 2;
            }
        } else {
            if (missing)
                fprintf(stderr, "outpost: flag %s needs a value\n", a);
            else
                fprintf(stderr, "outpost: unknown flag %s (see --help)\n", a);
            return 2;
        }
    }
    /* A config whose secrets were never read must not run. */
    if (o->skip_secrets && !o->config_check) {
        fprintf(stderr, "outpost: --config.skip-secrets needs --config.check\n");
        return 2;
    }
    /* The flag wins; a StatefulSet sets the environment from the pod. */
    const char *why = NULL;
    if (!o->shard_set && cfg_shard_from_env(getenv("OUTPOST_SHARD"), getenv("OUTPOST_SHARDS"),
                                            &o->shard, &why) != OP_OK) {
        fprintf(stderr, "outpost: %s\n", why);
        return 2;
    }
    return -1;
}

/* --config.check with --web.config.file or --web.bearer-tokens-file: those
 * files are checked too. Returns 0 or 1. */
static int web_check(const struct websec_options *o)
{
    if (!o->config_file && !o->tokens_file)
        return 0;
    struct buf errors;
    buf_init(&errors, 1u << 20);
    struct websec *ws = NULL;
    log_setup(LOG_LVL_WARN, LOG_FMT_LOGFMT, stderr); /* no "web security" info line */
    int rc = 0;
    if (websec_new(o, clock_system(), &ws, &errors) != OP_OK) {
        fputs(buf_str_or(
                  &errors,
                  "the list of problems is longer than its cap; fix the first ones and retry\n"),
              stderr);
        rc = 1;
    } else {
        if (o->config_file)
            printf("%s: OK\n", o->config_file);
        if (o->tokens_file)
            printf("%s: OK\n", o->tokens_file);
    }
    websec_free(ws);
    buf_free(&errors);
    return rc;
}

static int config_check(const char *file, const char *modules_file, bool skip_secrets,
                        struct cfg_shard shard)
{
    struct buf errors;
    buf_init(&errors, 1u << 20);
    struct cfg *cfg = NULL;
    struct cfg_load_options lo = {
        .skip_secrets = skip_secrets, .modules_file = modules_file, .shard = shard};
    enum op_rc rc = cfg_load_file_opts(file, &lo, &cfg, &errors);
    if (rc != OP_OK) {
        fputs(buf_str_or(
                  &errors,
                  "the list of problems is longer than its cap; fix the first ones and retry\n"),
              stderr);
        buf_free(&errors);
        return 1;
    }
    /* Warnings do not fail the check: the config works as written. */
    struct buf warnings;
    buf_init(&warnings, 1u << 20);
    rt_config_warnings(cfg, &warnings);
    const char *w = buf_str(&warnings);
    while (*w) {
        const char *nl = strchr(w, '\n');
        size_t n = nl ? (size_t)(nl - w) : strlen(w);
        fprintf(stderr, "warning: %.*s\n", (int)n, w);
        w += n + (nl ? 1 : 0);
    }
    printf("%s: OK, %zu checks, %zu SLOs", file, cfg_check_count(cfg), cfg_slo_count(cfg));
    if (shard.count > 1)
        printf(" on shard %u/%u (%zu checks in the file)", shard.index, shard.count,
               cfg_shard_checks_in_file(cfg));
    printf("%s\n", skip_secrets ? " (secret references not resolved)" : "");
    buf_free(&warnings);
    cfg_free(cfg);
    buf_free(&errors);
    return 0;
}

static enum op_rc web_prepare(void *arg, void **staged, struct buf *errors)
{
    struct websec_gen *g = NULL;
    enum op_rc rc = websec_prepare(arg, &g, errors);
    *staged = g;
    return rc;
}

static void web_commit(void *arg, void *staged)
{
    websec_commit(arg, staged);
}

static void web_discard(void *arg, void *staged)
{
    (void)arg;
    websec_discard(staged);
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "check") == 0)
        return smoke_main(argc - 1, argv + 1);
    if (argc >= 3 && strcmp(argv[1], "slo") == 0 && strcmp(argv[2], "replay") == 0)
        return slo_replay_main(argc - 2, argv + 2);
    if (argc >= 3 && strcmp(argv[1], "canary") == 0 && strcmp(argv[2], "judge") == 0)
        return canary_judge_main(argc - 2, argv + 2);
    if (argc >= 3 && strcmp(argv[1], "canary") == 0 && strcmp(argv[2], "history") == 0)
        return history_cmd_main(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "audit") == 0)
        return audit_main(argc - 1, argv + 1);
    struct options o = {
        .config_file = "outpost.yml",
        .storage_path = "./data",
        .snapshot_interval_ms = 60000,
        .history_retention_ms = HIST_DEFAULT_RETENTION_MS,
        .audit_max_bytes = AUDIT_DEFAULT_MAX_BYTES,
        .audit_max_files = AUDIT_DEFAULT_MAX_FILES,
        .web = {.listen = {":9469"},
                .n_listen = 1,
                .telemetry_path = "/metrics",
                .max_requests = 40,
                .max_connections = 512,
                .max_connections_per_ip = 64,
                .read_timeout_ms = 10000,
                .max_response_memory = 0,
                .max_probes = HTTPD_DEFAULT_MAX_PROBES},
        .log_level = LOG_LVL_INFO,
        .log_format = LOG_FMT_LOGFMT,
    };
    int rc = parse_flags(argc, argv, &o);
    if (rc >= 0)
        return rc;
    if (o.config_check) {
        int web = web_check(&o.sec);
        int main_rc = config_check(o.config_file, o.modules_file, o.skip_secrets, o.shard);
        return main_rc ? main_rc : web;
    }
    log_setup(o.log_level, o.log_format, stderr);
    /* Metrics pages and checks listings are megabytes each. glibc would
     * serve them from the heap once the first was freed (its mmap threshold
     * rises to the largest chunk freed) and keep that memory resident after
     * they are gone; a fixed threshold keeps every large block mapped on
     * its own, so freeing one returns it. */
    mallopt(M_MMAP_THRESHOLD, 1 << 20);

    /* Block before any thread exists, so every thread inherits the mask. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGUSR1); /* the runtime's wake-up: a maintenance window came sooner */
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    log_info("starting outpost", "version", OUTPOST_VERSION, "revision", OUTPOST_REVISION);
    struct buf errors;
    buf_init(&errors, 1u << 20);
    struct runtime *rt = NULL;
    struct httpd *h = NULL;
    struct websec *sec = NULL;
    struct history *hist = NULL;
    struct audit *audit = NULL;
    int exit_code = 1;
    /* Opened first, so the web security and the runtime can write to it.
     * An audit log that cannot be opened does not keep the agent from
     * running: the error is logged and outpost_audit_write_failures_total
     * says so. */
    bool audit_unavailable = false;
    if (audit_open(o.storage_path, o.audit_max_bytes, o.audit_max_files, clock_system(), &audit,
                   &errors) != OP_OK) {
        log_error("cannot open the audit log; running without it", "err", buf_str(&errors));
        audit = NULL;
        audit_unavailable = true;
        buf_reset(&errors);
    }
    o.sec.audit = audit;
    if (websec_new(&o.sec, clock_system(), &sec, &errors) != OP_OK) {
        log_lines(
            LOG_LVL_ERROR, "cannot load the web configuration", "err",
            buf_str_or(
                &errors,
                "the list of problems is longer than its cap; fix the first ones and retry\n"));
        goto out;
    }
    struct rt_options ro = {.config_file = o.config_file,
                            .storage_path = o.storage_path,
                            .snapshot_interval_ms = o.snapshot_interval_ms,
                            .clock = clock_system(),
                            .modules_file = o.modules_file,
                            .shard = o.shard,
                            .audit = audit,
                            .audit_unavailable = audit_unavailable};
    if (rt_new(&ro, &rt, &errors) != OP_OK) {
        log_lines(
            LOG_LVL_ERROR, "cannot load configuration", "err",
            buf_str_or(
                &errors,
                "the list of problems is longer than its cap; fix the first ones and retry\n"));
        goto out;
    }
    /* The web config and tokens are re-read with the config, all or
     * nothing, whichever path asked for the reload. */
    struct rt_reload_hook hook = {web_prepare, web_commit, web_discard, sec};
    rt_set_reload_hook(rt, &hook);
    /* Without its history the agent still judges and answers the gates:
     * every call it cannot record counts in outpost_history_errors_total. */
    buf_reset(&errors);
    if (history_open(o.storage_path, clock_system(), o.history_retention_ms, &hist, &errors) !=
        OP_OK)
        log_error("cannot open the canary run history; gate calls will not be recorded", "err",
                  buf_str(&errors));
    history_set_audit(hist, audit);
    o.web.history = hist;
    if (httpd_start(&o.web, rt, sec, &h) != OP_OK)
        goto out;

    for (;;) {
        /* Main is also the housekeeping thread: SLO evaluation and state
         * snapshots run between signals. */
        int64_t wait_ms = rt_tick(rt);
        int64_t hist_ms = history_tick(hist);
        if (hist_ms < wait_ms)
            wait_ms = hist_ms;
        struct timespec ts = {wait_ms / 1000, (wait_ms % 1000) * 1000000};
        int sig = sigtimedwait(&set, NULL, &ts);
        if (sig < 0 || sig == SIGUSR1)
            continue; /* timeout (EAGAIN), EINTR, or rt_tick has work sooner */
        if (sig == SIGHUP) {
            /* The reload thread loads (and logs "reloading on SIGHUP" as it
             * starts): main stays free for SIGTERM. */
            rt_request_reload(rt);
            continue;
        }
        log_info("stopping", "signal", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        break;
    }
    exit_code = 0;
out:
    /* Loads in progress (SIGHUP, /-/reload) give up first: the HTTP server
     * waits for its requests to end. */
    if (rt)
        rt_cancel(rt);
    httpd_stop(h);
    history_close(hist);
    if (rt && rt_stop(rt) != OP_OK && exit_code == 0)
        exit_code = EXIT_SNAPSHOT_FAILED;
    rt_free(rt);
    websec_free(sec);
    audit_close(audit);
    buf_free(&errors);
    if (exit_code == 0)
        log_info("stopped");
    else if (exit_code == EXIT_SNAPSHOT_FAILED)
        log_error("stopped, but the SLO state could not be saved", "exit_code", "3");
    return exit_code;
}
