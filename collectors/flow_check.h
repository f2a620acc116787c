/*
 * flow_check.h - the `flow` check type: a run is a list of HTTP requests
 * (steps) made in order on the probe thread, each an http check's request
 * (http_check.h), where a later step may send what an earlier one took
 * from its response (captures: a token, a session id, an order number).
 *
 * Settings (flow_config.c), captures and substitution (flow_capture.c) and
 * the run's state machine (flow_check.c).
 *
 * Captured values are secrets: they live only in the run that took them,
 * are wiped when it ends, and never reach a detail, a log line, a metric
 * or an error message; texts show a step's URL as written, with the
 * ${capture:NAME} reference, never what was sent.
 */
#ifndef OUTPOST_FLOW_CHECK_H
#define OUTPOST_FLOW_CHECK_H

#include "check.h"
#include "config.h"
#include "http_check.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Caps on a flow: steps, and the bytes of one captured value. */
#define FLOW_MAX_STEPS 64
#define FLOW_MAX_CAPTURE_BYTES 4096u
/* A value shorter than this is not looked for in texts to mask it (an
 * order number 7 would turn every 7 into a placeholder); texts never show
 * response values of a flow's steps anyway (flow_redact). */
#define FLOW_REDACT_MIN_BYTES 4

/* Where a capture takes its value from. */
enum flow_capture_from {
    FLOW_FROM_JSON,      /* {json: PATH}: the value at PATH in the JSON body */
    FLOW_FROM_HEADER,    /* {header: NAME}: the first value of that response header */
    FLOW_FROM_BODY,      /* {regex: RE}: RE's group in the body */
    FLOW_FROM_HEADER_RE, /* {header: NAME, regex: RE}: RE's group in the first value of NAME
                            it matches */
};

struct flow_capture {
    char *name;
    size_t index; /* among the flow's captures: its value's slot in a run */
    enum flow_capture_from from;
    struct json_expect json; /* FLOW_FROM_JSON: its path (steps) */
    char *header;            /* FLOW_FROM_HEADER, FLOW_FROM_HEADER_RE */
    struct regex re;         /* FLOW_FROM_BODY, FLOW_FROM_HEADER_RE: exactly one group */
};

struct flow_step {
    /* The step as an http check: name, timeout (its own or the flow's),
     * target (its URL as written) and the http settings, whose url, header
     * values and body are templates (cfg_yaml.h) when they use captures. */
    struct check_spec http;
    struct flow_capture *captures;
    size_t n_captures;
    bool always_run;       /* runs also after a step failed (clean-up) */
    bool reuse_connection; /* may use a connection an earlier step left open */
    uint64_t needs;        /* bit k: a template uses capture k */
};

/* The settings of one flow check (check_spec.spec, through flow_spec_of). */
struct flow_spec {
    struct flow_step *steps;
    size_t n_steps;
    char **capture_names; /* by index, n_captures of them */
    size_t n_captures;
    bool reuse_connection; /* the steps' default */
    bool any_reuse;        /* some step reuses: the run pools its connections */
};

/* The type's settings; c must be a flow check. Borrowed. */
const struct flow_spec *flow_spec_of(const struct check_spec *c);

extern const struct check_schema flow_schema;
extern const struct check_type flow_check_type;

/* ---- captures and substitution (flow_capture.c) ---- */

/* A captured value in a run: a secret, wiped when cleared. */
struct flow_value {
    char *v; /* NUL-terminated, no NUL inside; NULL until taken */
    size_t len;
};

/* Wipe and free v's value. */
void flow_value_clear(struct flow_value *v);

/* Take cap's value from a step's response into *out (replacing what it
 * held). CHECK_REASON_NONE, or CHECK_REASON_CAPTURE with why in detail
 * (cap bytes): the value is missing, over FLOW_MAX_CAPTURE_BYTES, holds a
 * NUL byte, or its expression erred. The detail never shows the value. A
 * JSON string is taken as its text, any other JSON value as compact JSON. */
enum check_reason flow_capture_take(const struct flow_capture *cap,
                                    const struct http_response *resp, struct flow_value *out,
                                    char *detail, size_t cap_bytes);

/* tmpl (a template, cfg_yaml.h) with every capture replaced by its value
 * in vals (n of them), raw: nothing is encoded. *out (caller wipes and
 * frees with flow_wipe_free) on OP_OK; OP_ERR_NOT_FOUND with *missing set
 * when a value was not taken. */
enum op_rc flow_subst(const char *tmpl, const struct flow_value *vals, size_t n, char **out,
                      size_t *missing) WUR;
/* True when tmpl holds a capture. */
bool flow_is_template(const char *tmpl);
/* Zero s's bytes, then free it (NULL is fine). */
void flow_wipe_free(char *s);

/* Mask in detail (NUL-terminated, cap bytes) every occurrence of a value
 * in vals of at least FLOW_REDACT_MIN_BYTES as "<capture:NAME>", the
 * result cut to cap like any detail. A guard behind the rule that texts
 * show no response values: it catches a value echoed in a library's
 * message. names: the captures' names by index. */
void flow_redact(char *detail, size_t cap, const struct flow_value *vals, size_t n,
                 char *const *names);

/* ---- the run's plan (flow_check.c), pure, for tests ---- */

/* What happens to step i of spec when the run reaches it: failed says an
 * earlier step failed, taken the captures taken so far (bit k), time_up
 * that the flow's deadline has passed. */
enum flow_next {
    FLOW_RUN,          /* start it */
    FLOW_SKIP_FAILED,  /* not run: an earlier step failed and it is not always_run */
    FLOW_SKIP_TIME,    /* not run: the flow's time is up after a failure */
    FLOW_TIMED_OUT,    /* not run, and a failure (timeout): the flow's time is up */
    FLOW_SKIP_CAPTURE, /* not run: it uses a capture that was not taken (after a failure) */
};
enum flow_next flow_plan(const struct flow_spec *spec, size_t i, bool failed, uint64_t taken,
                         bool time_up);

#endif
