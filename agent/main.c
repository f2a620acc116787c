/*
 * main.c - start-up in dependency order, signals, shutdown (the command
 * line, flags and commands, is flags.c).
 *
 * Threads: main (signals, alert evaluation, state snapshots), the probe
 * loop, the alert sender, and libmicrohttpd's threads. Signals are blocked
 * before any thread starts so only main's sigtimedwait sees them: SIGHUP
 * reloads, SIGTERM/SIGINT stop, SIGUSR1 (the runtime's own, rt_tick) wakes
 * the housekeeping early.
 */
#include "audit.h"
#include "buf.h"
#include "config.h"
#include "flags.h"
#include "history.h"
#include "httpd.h"
#include "log.h"
#include "runtime.h"
#include "websec.h"

#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
    int rc = flags_run_command(argc, argv);
    if (rc >= 0)
        return rc;
    struct flags_options o;
    flags_defaults(&o);
    o.build_date = OUTPOST_BUILD_DATE;
    rc = flags_parse(argc, argv, &o);
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
    int exit_code = FLAGS_EXIT_START;
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
    exit_code = FLAGS_EXIT_OK;
out:
    /* Loads in progress (SIGHUP, /-/reload) give up first: the HTTP server
     * waits for its requests to end. */
    if (rt)
        rt_cancel(rt);
    httpd_stop(h);
    history_close(hist);
    if (rt && rt_stop(rt) != OP_OK && exit_code == 0)
        exit_code = FLAGS_EXIT_SNAPSHOT_FAILED;
    rt_free(rt);
    websec_free(sec);
    audit_close(audit);
    buf_free(&errors);
    if (exit_code == 0)
        log_info("stopped");
    else if (exit_code == FLAGS_EXIT_SNAPSHOT_FAILED)
        log_error("stopped, but the SLO state could not be saved", "exit_code", "3");
    return exit_code;
}
