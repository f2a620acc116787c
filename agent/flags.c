/*
 * flags.c - outpost's command line (flags.h): the agent's flags and help,
 * --version with the libraries the process runs with, and the command
 * words, each group answering --help like the commands under it.
 */
#include "flags.h"
#include "audit.h"
#include "audit_cmd.h"
#include "canary_cmd.h"
#include "cli.h"
#include "config.h"
#include "history.h"
#include "history_cmd.h"
#include "listener.h"
#include "slo_replay.h"
#include "smoke.h"

#include <curl/curl.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* ---- --version ---- */

#define FLAGS_STR_(x) #x
#define FLAGS_STR(x) FLAGS_STR_(x)
#if defined(__clang__)
#define FLAGS_COMPILER                                                                             \
    "clang " FLAGS_STR(__clang_major__) "." FLAGS_STR(__clang_minor__) "." FLAGS_STR(              \
        __clang_patchlevel__)
#elif defined(__GNUC__)
#define FLAGS_COMPILER                                                                             \
    "gcc " FLAGS_STR(__GNUC__) "." FLAGS_STR(__GNUC_MINOR__) "." FLAGS_STR(__GNUC_PATCHLEVEL__)
#else
#define FLAGS_COMPILER "unknown"
#endif

/* Go's names (GOOS/GOARCH), as Prometheus and its exporters print them. */
#if defined(__linux__)
#define FLAGS_OS "linux"
#else
#define FLAGS_OS "unknown"
#endif
#if defined(__x86_64__)
#define FLAGS_ARCH "amd64"
#elif defined(__aarch64__)
#define FLAGS_ARCH "arm64"
#elif defined(__arm__)
#define FLAGS_ARCH "arm"
#elif defined(__i386__)
#define FLAGS_ARCH "386"
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
#define FLAGS_ARCH "ppc64le"
#elif defined(__s390x__)
#define FLAGS_ARCH "s390x"
#elif defined(__riscv) && __riscv_xlen == 64
#define FLAGS_ARCH "riscv64"
#else
#define FLAGS_ARCH "unknown"
#endif

/* The first line is what scripts (and the package's tests) parse; the
 * library versions are those loaded now, not the headers', since a
 * security update replaces the library under an unchanged binary. */
static void print_version(FILE *out, const char *build_date)
{
    const curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);
    fprintf(out, "outpost, version %s (revision: %s)\n", OUTPOST_VERSION, OUTPOST_REVISION);
    fprintf(out, "  build date:       %s\n", build_date ? build_date : "unknown");
    fprintf(out, "  compiler:         %s\n", FLAGS_COMPILER);
    fprintf(out, "  platform:         %s/%s\n", FLAGS_OS, FLAGS_ARCH);
    fprintf(out, "  libcurl:          %s (", cv->version);
    const char *sep = "";
    if (cv->ssl_version) {
        fprintf(out, "%s", cv->ssl_version);
        sep = ", ";
    }
    if (cv->libz_version) {
        fprintf(out, "%szlib/%s", sep, cv->libz_version);
        sep = ", ";
    }
    if (cv->age >= CURLVERSION_SIXTH && cv->nghttp2_version)
        fprintf(out, "%snghttp2/%s", sep, cv->nghttp2_version);
    fprintf(out, ")\n");
    fprintf(out, "  OpenSSL:          %s\n", OpenSSL_version(OPENSSL_VERSION));
    fprintf(out, "  GnuTLS:           %s\n", gnutls_check_version(NULL));
    fprintf(out, "  libmicrohttpd:    %s\n", MHD_get_version());
    fprintf(out, "  libyaml:          %s\n", yaml_get_version_string());
}

/* ---- the agent's help ---- */

static void usage(FILE *out)
{
    fprintf(out,
            "usage: outpost [<flags>]\n"
            "  or:  outpost COMMAND [<args>]\n"
            "\n"
            "Synthetic HTTP checks, SLOs and canary judgement, exported to Prometheus.\n"
            "Without a command, runs the agent.\n"
            "\n"
            "Flags:\n"
            "  -h, --help                  Show this help and exit.\n"
            "  --version                   Show the version, build and libraries, and exit.\n"
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
            "Commands (outpost COMMAND --help shows each one's flags and exit statuses):\n"
            "  check                       Run every check once, at the same time, and report\n"
            "                              each result (JUnit XML for CI).\n"
            "  slo replay                  Feed a history through the SLO engine; print JSON.\n"
            "  canary judge                Judge two files of latency samples offline.\n"
            "  canary history              The canary run history (read-only, also while the\n"
            "                              agent runs).\n"
            "  audit verify                Verify the audit log's hash chain.\n"
            "  help [COMMAND]              This help, or a command's (outpost help slo replay).\n"
            "\n"
            "Exit status:\n"
            "  0  stopped and the SLO state saved; also after --help, --version and a\n"
            "     valid --config.check\n"
            "  1  could not start: configuration, web config, a listen address that cannot\n"
            "     be bound; an invalid --config.check\n"
            "  2  a bad flag or flag value, an unknown command\n"
            "  3  stopped, but the last SLO state snapshot failed\n");
}

/* ---- command groups ---- */

static int slo_main(int argc, char **argv);
static int canary_main(int argc, char **argv);
static int audit_main(int argc, char **argv);
static int help_main(int argc, char **argv);

static const struct cli_command slo_commands[] = {
    {"replay", "--config.file=F --events=E.csv [<flags>]",
     "Feed a history of events through the SLO engine; print the figures as JSON.",
     slo_replay_main},
};
static const struct cli_group slo_group = {
    "outpost slo", "SLOs offline: the agent's SLO engine on a history of events.", slo_commands,
    sizeof(slo_commands) / sizeof(slo_commands[0])};

static const struct cli_command canary_commands[] = {
    {"judge", "--baseline=B --canary=C [--config.file=F --canary-name=N]",
     "Judge two files of latency samples as the canary gates do.", canary_judge_main},
    {"history", "[--storage.path=DIR] [--canary=N] [--run=ID] [<flags>]",
     "Print the canary run history (read-only, also while the agent runs).", history_cmd_main},
};
static const struct cli_group canary_group = {
    "outpost canary", "Canaries offline: judge samples, read the run history.", canary_commands,
    sizeof(canary_commands) / sizeof(canary_commands[0])};

static const struct cli_command audit_commands[] = {
    {"verify", "FILE [FILE...]", "Verify the audit log's hash chain, rotated files oldest first.",
     audit_verify_main},
};
static const struct cli_group audit_group = {
    "outpost audit", "The audit log (audit.jsonl under the agent's --storage.path).",
    audit_commands, sizeof(audit_commands) / sizeof(audit_commands[0])};

static int slo_main(int argc, char **argv)
{
    return cli_group_main(&slo_group, argc, argv);
}

static int canary_main(int argc, char **argv)
{
    return cli_group_main(&canary_group, argc, argv);
}

static int audit_main(int argc, char **argv)
{
    return cli_group_main(&audit_group, argc, argv);
}

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
} top_commands[] = {
    {"check", smoke_main}, {"slo", slo_main},   {"canary", canary_main},
    {"audit", audit_main}, {"help", help_main},
};

int flags_run_command(int argc, char **argv)
{
    if (argc < 2 || argv[1][0] == '-')
        return -1;
    for (size_t i = 0; i < sizeof(top_commands) / sizeof(top_commands[0]); i++)
        if (strcmp(argv[1], top_commands[i].name) == 0)
            return top_commands[i].run(argc - 1, argv + 1);
    return cli_usage_error("outpost", "unknown command %s", argv[1]);
}

/* `outpost help WORDS...` is `outpost WORDS... --help`. */
static int help_main(int argc, char **argv)
{
    if (argc < 2 || cli_is_help(argv[1])) {
        usage(stdout);
        return 0;
    }
    if (argv[1][0] == '-')
        return cli_reject("outpost help", argv[1], false);
    char **words = xcalloc((size_t)argc + 2, sizeof(*words));
    words[0] = (char *)"outpost";
    for (int i = 1; i < argc; i++)
        words[i] = argv[i];
    words[argc] = (char *)"--help";
    int rc = flags_run_command(argc + 1, words);
    free(words);
    return rc;
}

/* ---- the agent's flags ---- */

void flags_defaults(struct flags_options *o)
{
    *o = (struct flags_options){
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

int flags_parse(int argc, char **argv, struct flags_options *o)
{
    /* Wherever they are before a "--", and before any other flag is
     * judged: a user asking for help gets it even with a bad flag beside. */
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return FLAGS_EXIT_OK;
    }
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "--version") == 0) {
            print_version(stdout, o->build_date);
            return FLAGS_EXIT_OK;
        }
    bool listen_set = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v;
        bool missing = false;
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
            /* Checked here with the listener's own parser: a typo is a
             * usage error (2) before the configuration is read, while an
             * address that cannot be bound is found at start-up (1). */
            if (listener_check_address(v) != OP_OK) {
                fprintf(stderr,
                        "outpost: --web.listen-address needs host:port, :port or [v6]:port "
                        "with a port from 0 to 65535, not \"%s\"\n",
                        v);
                return FLAGS_EXIT_USAGE;
            }
            if (o->web.n_listen == HTTPD_MAX_LISTEN) {
                fprintf(stderr, "outpost: at most %d --web.listen-address flags\n",
                        HTTPD_MAX_LISTEN);
                return FLAGS_EXIT_USAGE;
            }
            o->web.listen[o->web.n_listen++] = v;
        } else if ((v = cli_flag_value(argc, argv, &i, "--web.telemetry-path", &missing))) {
            if (v[0] != '/') {
                fprintf(stderr, "outpost: --web.telemetry-path must start with /\n");
                return FLAGS_EXIT_USAGE;
            }
            o->web.telemetry_path = v;
        } else if ((v = cli_flag_value(argc, argv, &i, "--web.max-requests", &missing))) {
            char *end;
            errno = 0;
            long n = strtol(v, &end, 10);
            if (errno || end == v || *end || n < 0 || n > 1000000) {
                fprintf(stderr, "outpost: --web.max-requests needs a number >= 0\n");
                return FLAGS_EXIT_USAGE;
            }
            o->web.max_requests = (unsigned)n;
        } else if ((v = cli_flag_value(argc, argv, &i, "--probe.max-concurrent", &missing))) {
            if (parse_count(v, 1, HTTPD_MAX_PROBES, &o->web.max_probes) != OP_OK) {
                fprintf(stderr, "outpost: --probe.max-concurrent needs a number from 1 to %d\n",
                        HTTPD_MAX_PROBES);
                return FLAGS_EXIT_USAGE;
            }
        } else if ((v = cli_flag_value(argc, argv, &i, "--web.max-connections", &missing))) {
            if (parse_count(v, 1, HTTPD_MAX_CONNECTIONS, &o->web.max_connections) != OP_OK) {
                fprintf(stderr, "outpost: --web.max-connections needs a number from 1 to %d\n",
                        HTTPD_MAX_CONNECTIONS);
                return FLAGS_EXIT_USAGE;
            }
        } else if ((v = cli_flag_value(argc, argv, &i, "--web.max-connections-per-ip", &missing))) {
            if (parse_count(v, 0, HTTPD_MAX_CONNECTIONS, &o->web.max_connections_per_ip) != OP_OK) {
                fprintf(stderr,
                        "outpost: --web.max-connections-per-ip needs a number from 0 to %d\n",
                        HTTPD_MAX_CONNECTIONS);
                return FLAGS_EXIT_USAGE;
            }
        } else if ((v = cli_flag_value(argc, argv, &i, "--web.read-timeout", &missing))) {
            if (cfg_parse_duration(v, &o->web.read_timeout_ms) != OP_OK ||
                o->web.read_timeout_ms < 1000 || o->web.read_timeout_ms > 3600000) {
                fprintf(stderr, "outpost: --web.read-timeout needs a duration from 1s to 1h\n");
                return FLAGS_EXIT_USAGE;
            }
        } else if ((v = cli_flag_value(argc, argv, &i, "--web.max-response-memory", &missing))) {
            if (httpd_parse_bytes(v, &o->web.max_response_memory) != OP_OK) {
                fprintf(stderr, "outpost: --web.max-response-memory needs auto or a size from "
                                "1MiB to 64GiB (e.g. 48MiB)\n");
                return FLAGS_EXIT_USAGE;
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
                return FLAGS_EXIT_USAGE;
            }
        } else if ((v = cli_flag_value(argc, argv, &i, "--shard", &missing))) {
            if (cfg_shard_parse(v, &o->shard) != OP_OK) {
                fprintf(stderr,
                        "outpost: --shard needs I/N with N from 1 to %d and I from 0 to "
                        "N-1 (e.g. 0/3)\n",
                        CFG_SHARD_MAX);
                return FLAGS_EXIT_USAGE;
            }
            o->shard_set = true;
        } else if ((v = cli_flag_value(argc, argv, &i, "--log.level", &missing))) {
            if (log_parse_level(v, &o->log_level) != OP_OK) {
                fprintf(stderr, "outpost: --log.level must be debug, info, warn or error\n");
                return FLAGS_EXIT_USAGE;
            }
        } else if ((v = cli_flag_value(argc, argv, &i, "--storage.path", &missing))) {
            o->storage_path = v;
        } else if ((v = cli_flag_value(argc, argv, &i, "--storage.snapshot-interval", &missing))) {
            if (cfg_parse_duration(v, &o->snapshot_interval_ms) != OP_OK ||
                o->snapshot_interval_ms < 1000) {
                fprintf(stderr, "outpost: --storage.snapshot-interval needs a duration >= 1s\n");
                return FLAGS_EXIT_USAGE;
            }
        } else if ((v = cli_flag_value(argc, argv, &i, "--storage.history-retention", &missing))) {
            if (cfg_parse_duration(v, &o->history_retention_ms) != OP_OK ||
                o->history_retention_ms < HIST_MIN_RETENTION_MS ||
                o->history_retention_ms > HIST_MAX_RETENTION_MS) {
                fprintf(stderr,
                        "outpost: --storage.history-retention needs a duration from 1h to 100y\n");
                return FLAGS_EXIT_USAGE;
            }
        } else if ((v = cli_flag_value(argc, argv, &i, "--audit.max-size", &missing))) {
            if (audit_parse_size(v, &o->audit_max_bytes) != OP_OK) {
                fprintf(stderr, "outpost: --audit.max-size needs a size from 1KiB to 64GiB "
                                "(e.g. 64MiB)\n");
                return FLAGS_EXIT_USAGE;
            }
        } else if ((v = cli_flag_value(argc, argv, &i, "--audit.max-files", &missing))) {
            if (parse_count(v, 1, AUDIT_MAX_MAX_FILES, &o->audit_max_files) != OP_OK) {
                fprintf(stderr, "outpost: --audit.max-files needs a number from 1 to %u\n",
                        AUDIT_MAX_MAX_FILES);
                return FLAGS_EXIT_USAGE;
            }
        } else if ((v = cli_flag_value(argc, argv, &i, "--log.format", &missing))) {
            if (log_parse_format(v, &o->log_format) != OP_OK) {
                fprintf(stderr, "outpost: --log.format must be logfmt or json\n");
                return FLAGS_EXIT_USAGE;
            }
        } else {
            return cli_reject("outpost", a, missing);
        }
    }
    /* A config whose secrets were never read must not run. */
    if (o->skip_secrets && !o->config_check) {
        fprintf(stderr, "outpost: --config.skip-secrets needs --config.check\n");
        return FLAGS_EXIT_USAGE;
    }
    /* The flag wins; a StatefulSet sets the environment from the pod. */
    const char *why = NULL;
    if (!o->shard_set && cfg_shard_from_env(getenv("OUTPOST_SHARD"), getenv("OUTPOST_SHARDS"),
                                            &o->shard, &why) != OP_OK) {
        fprintf(stderr, "outpost: %s\n", why);
        return FLAGS_EXIT_USAGE;
    }
    return -1;
}
