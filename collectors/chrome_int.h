/*
 * chrome_int.h - the browser engine's insides, shared by its three files:
 * chrome.c (the run: the CDP conversation and the facts), chrome_cdp.c
 * (framing of CDP messages over the browser's pipe) and chrome_proc.c (the
 * process: spawn, watch, kill, reap, profile directory). Tests reach the
 * caps through here.
 */
#ifndef OUTPOST_CHROME_INT_H
#define OUTPOST_CHROME_INT_H

#include "buf.h"
#include "check.h"
#include "chrome.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* The largest CDP message taken from the browser. Real messages are far
 * smaller (a page's largest is an event with a response's headers); one
 * over the cap ends the run as a `browser` failure, it is never cut. */
#define CHROME_MSG_MAX ((size_t)8 << 20)
/* Commands queued for the browser and not yet written: a run sends a
 * dozen, each a few hundred bytes plus the configured text and selector. */
#define CHROME_OUT_MAX ((size_t)1 << 20)
/* Commands awaiting their response at once (a run has at most ~12). */
#define CHROME_PENDING_MAX 32
/* The tail of the browser's stderr kept for a `browser` failure's words. */
#define CHROME_STDERR_TAIL 4096
/* After the load event, the first evaluation waits this long at most for
 * the page's LCP entry. */
#define CHROME_LCP_WAIT_MS 300
/* After the load event, text and selector are looked for this often. */
#define CHROME_POLL_NS (100 * 1000000LL)
/* The pipe closed: how long to wait for the process's exit status, so the
 * failure names it rather than only the closed pipe. */
#define CHROME_EOF_GRACE_NS (200 * 1000000LL)
/* After the kill: how often the group is looked at until it is empty, and
 * for how long at most (a SIGKILLed process takes ~0.2 s to go). */
#define CHROME_SWEEP_NS (5 * 1000000LL)
#define CHROME_SWEEP_MAX_NS (5000 * 1000000LL)
/* The profile is removed in slices of this much time, one per loop turn. */
#define CHROME_RM_SLICE_NS (2 * 1000000LL)
/* chrome_cancel waits at most this long for the group, blocking (shutdown). */
#define CHROME_CANCEL_WAIT_MS 3000
/* The list of one thread's children read at most (8,000 and more ids). */
#define CHROME_CHILDREN_MAX ((size_t)64 << 10)

/* What a command's response is for. */
enum cdp_req {
    REQ_NONE,
    REQ_VERSION,  /* Browser.getVersion: the launch time */
    REQ_CREATE,   /* Target.createTarget: the page */
    REQ_ATTACH,   /* Target.attachToTarget: its session */
    REQ_SETUP,    /* enable, overrides, script: an error ends the run */
    REQ_NAVIGATE, /* Page.navigate: errorText */
    REQ_EVAL,     /* Runtime.evaluate of the page's facts */
    REQ_IGNORE,   /* nothing to learn from the answer */
};

struct cdp_pending {
    uint32_t id;
    enum cdp_req req;
    const char *method; /* static, for a failure's words */
};

/* One end of the CDP channel: a socket our side reads and writes (the
 * browser's fds 3 and 4 are both its peer). */
struct cdp {
    int fd;
    struct probe_watch *w;
    bool want_out; /* EPOLLOUT asked for */
    struct buf in; /* bytes read, up to a NUL; capped at CHROME_MSG_MAX */
    size_t scan;   /* in.data[0..scan) holds no NUL */
    struct buf out;
    size_t out_off; /* out.data[0..out_off) is written */
    uint32_t next_id;
    struct cdp_pending pending[CHROME_PENDING_MAX];
    size_t n_pending;
};

enum chrome_phase {
    PH_LAUNCH,   /* waiting for the page's session */
    PH_NAVIGATE, /* Page.navigate sent; waiting for the load event */
    PH_LOADED,   /* load fired: evaluating text and selector */
    PH_ENDING,   /* verdict taken: killing, reaping, sweeping the group */
};

struct chrome {
    struct probe_loop *loop;
    void (*done)(void *arg, const struct chrome_facts *f);
    void *arg;
    enum chrome_phase phase;
    struct chrome_facts facts;
    int64_t t_spawn;
    /* What the run does (copies). */
    char *url, *text_js, *selector_js, *user_agent;
    json_t *headers; /* object for Network.setExtraHTTPHeaders, or NULL */
    bool insecure_tls, want_text, want_selector;
    int64_t deadline_ns;
    /* The process. */
    char *profile; /* the run's private --user-data-dir, removed at the end */
    pid_t pid;     /* also the process group; 0 when it never started */
    int pidfd;
    struct probe_watch *pidw;
    bool exited, reaped, group_gone;
    int exit_code, exit_status; /* waitid's si_code and si_status, once exited */
    int errfd;                  /* the read end of the browser's stderr, or -1 */
    struct probe_watch *errw;
    char errtail[CHROME_STDERR_TAIL];
    size_t errtail_len;
    /* The conversation. */
    struct cdp cdp;
    char *target_id, *session_id;
    char *loader_id;     /* the main document's: Page.navigate's, or a later main-frame commit's */
    char *load_loader;   /* the loader of the main frame's last "load" */
    unsigned setup_left; /* set-up commands not answered yet */
    bool navigated;      /* Page.navigate answered without errorText */
    bool eval_in_flight; /* a Runtime.evaluate awaits its answer */
    bool evaluated;      /* one evaluation came back after load */
    bool eof;            /* the browser closed its end */
    struct probe_timer *deadline, *poll, *grace, *sweep, *soon;
    int64_t sweep_until;
};

/* ---- chrome.c ---- */
/* A message from the browser (borrowed for the call). */
void chrome_on_message(struct chrome *c, json_t *msg);
/* The browser closed its end of the channel (or it broke). */
void chrome_on_eof(struct chrome *c);
/* The process exited before the verdict: a `browser` failure. */
void chrome_on_exit(struct chrome *c);
/* The group is gone and the profile removed: run done, free c. */
void chrome_finish(struct chrome *c);
/* Take the verdict: record end and the failure's words (printf-style,
 * cleaned into facts.error), stop talking, kill the group. The teardown
 * then runs on the loop and ends in done. No-op once ending. */
void chrome_end_run(struct chrome *c, enum chrome_end end, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- chrome_cdp.c ---- */
/* Start the channel on fd (taken: closed by cdp_close). */
enum op_rc cdp_open(struct chrome *c, int fd) WUR;
/* Queue method(params) (params taken; NULL for none) on the page's
 * session when session is true, else on the browser; the response goes
 * to chrome_on_message with its pending entry's req. Returns the id, 0 when
 * the run ended instead (queue over its cap, pipe gone). */
uint32_t cdp_send(struct chrome *c, const char *method, json_t *params, bool session,
                  enum cdp_req req);
/* Which request id answers, removed from the pending set; REQ_NONE and
 * *method NULL when it is none of ours. */
enum cdp_req cdp_take_pending(struct chrome *c, uint32_t id, const char **method);
/* Stop watching and close the channel. Idempotent. */
void cdp_close(struct chrome *c);

/* ---- chrome_proc.c ---- */
/* Make the run's profile directory (c->profile). */
enum op_rc chrome_profile_make(struct chrome *c) WUR;
/* Remove it with everything in it (no symbolic link followed), at once. */
void chrome_profile_remove(struct chrome *c);
/* The same a slice at a time on the loop, then chrome_finish. */
void chrome_remove_step(struct chrome *c);
/* Spawn exe in a new process group, fds 3 and 4 the channel's peer,
 * stderr a pipe, and watch its pidfd. OP_ERR_NOT_FOUND/OP_ERR_SYSTEM with
 * words in why (why_cap bytes) when it cannot run; chrome_end_run is never
 * called from here. *cdp_fd is our end of the channel. */
enum op_rc chrome_spawn(struct chrome *c, const char *exe, int *cdp_fd, char *why,
                        size_t why_cap) WUR;
/* SIGKILL the whole group (no-op without a process). */
void chrome_kill_group(struct chrome *c);
/* Read what the browser wrote to stderr (non-blocking) into the tail. */
void chrome_drain_stderr(struct chrome *c);
/* The last meaningful stderr line (borrowed from c, "" when none). */
const char *chrome_stderr_line(struct chrome *c, char *out, size_t cap);
/* The process exited (pidfd readable): note its status, without reaping
 * (a zombie leader keeps the group's id from being reused before the kill). */
void chrome_peek_exit(struct chrome *c);
/* After the kill, on the loop: reap the leader, then the rest of the
 * group, and when the group is empty remove the profile (chrome_remove_step)
 * and run done. */
void chrome_teardown_step(struct chrome *c);
/* chrome_cancel's blocking version of the same, without done. */
void chrome_teardown_now(struct chrome *c);
/* Reap the agent's exited children that are in a session other than its
 * own: orphans the subreaper adopted from outside a browser's group
 * (Chromium's crash handlers), which no group sweep reaps. */
void chrome_reap_strays(void);

#endif
