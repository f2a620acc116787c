/*
 * http_check.h - the `http` check type: its settings (http_config.c), its
 * runs (http_check.c), one libcurl easy handle per run on the probe loop's
 * multi handle, judged against the configured expectations, and the detail
 * texts of its failures (http_detail.c).
 */
#ifndef OUTPOST_HTTP_CHECK_H
#define OUTPOST_HTTP_CHECK_H

#include "buf.h"
#include "check.h"
#include "config.h"
#include "detail.h"
#include "tls_config.h"

#include <curl/curl.h>
#include <jansson.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <yaml.h>

struct cfg_parser;

/* Caps on what a target may send us, and on redirects followed. */
#define HTTP_MAX_HEADER_BYTES (64u << 10)
#define HTTP_MAX_REDIRECTS 10
#define HTTP_DEFAULT_MAX_BODY_BYTES (1u << 20)
#define HTTP_MAX_HEADERS 256 /* request headers and expected headers */
#define HTTP_MAX_EXPECTS 256 /* status ranges, patterns, JSON expectations */

/*
 * What one regular expression match may cost (PCRE2's limits, set on every
 * match). The match limit bounds time: 500,000 backtracking steps take
 * about 5-10 ms of the probe thread, where PCRE2's default (10,000,000)
 * let a pathological pattern on a 1 MiB body take ~150 ms. The depth and
 * heap limits bound the memory of nested backtracking. A match that hits
 * one fails its expectation (http_detail_body, http_detail_header).
 */
#define HTTP_REGEX_MATCH_LIMIT 500000u
#define HTTP_REGEX_DEPTH_LIMIT 100000u
#define HTTP_REGEX_HEAP_LIMIT_KIB (20u << 10)

struct status_range {
    int lo, hi; /* inclusive */
};

struct regex {
    char *pattern;
    pcre2_code *code;
};

struct header_expect {
    char *name;
    struct regex re;
};

struct json_step {
    char *key; /* NULL for an array index */
    long index;
};

struct json_expect {
    char *path; /* as written, for messages */
    struct json_step *steps;
    size_t n_steps;
    bool is_exists;     /* {exists: true|false} */
    bool exists;        /* wanted presence */
    char *equals;       /* scalar text for {equals: ...} */
    bool equals_quoted; /* written quoted: compares as a string only */
    /* A detail names the type of the value found, never the value: set
     * for a flow's steps, whose responses carry captured secrets. */
    bool quiet;
};

struct http_expect {
    struct status_range *status;
    size_t n_status;
    struct regex *body_matches;
    size_t n_body_matches;
    struct regex *body_not_matches;
    size_t n_body_not_matches;
    struct header_expect *headers; /* present, and a value matches */
    size_t n_headers;
    /* Absent, or a value matches (blackbox_exporter's allow_missing). */
    struct header_expect *headers_if_present;
    size_t n_headers_if_present;
    /* Absent, or no value matches. */
    struct header_expect *headers_not_matches;
    size_t n_headers_not_matches;
    struct json_expect *json;
    size_t n_json;
    int64_t max_duration_ms; /* 0: no latency expectation */
    /* `tls`: 1 the final response must come over TLS, -1 it must not, 0
     * either (blackbox_exporter's fail_if_not_ssl, fail_if_ssl). */
    int tls;
    /* `http_versions`: the final response's version must be one of these
     * (1.0, 1.1, 2, 3); none: any. */
    double *http_versions;
    size_t n_http_versions;
};

/* The settings of one http check (check_spec.spec). */
struct http_spec {
    char *url; /* may carry secrets (userinfo, query) */
    char *method;
    struct header_kv *headers;
    size_t n_headers;
    char *body; /* NULL when unset */
    bool follow_redirects;
    int ip_protocol; /* enum ip_proto */
    bool reuse_connection;
    char *basic_user, *basic_pass; /* NULL when unset */
    char *bearer_token;            /* NULL when unset */
    struct tls_spec tls;
    uint64_t max_body_bytes;
    /* `compression`: 0 (identity) asks for no encoding; else the index
     * of http_compression_names: asked for, decoded, and required of the
     * response (its Content-Encoding), as blackbox_exporter's option. */
    int compression;
    bool http2; /* offer HTTP/2 over TLS (ALPN); false: HTTP/1.1 only */
    /* Every request through this HTTP(S) proxy (may carry credentials);
     * NULL: libcurl's default (the *_proxy environment variables). */
    char *proxy_url;
    char *no_proxy; /* hosts reached directly despite proxy_url; NULL: none */
    struct http_expect expect;
    uint64_t seen; /* keys present, while parsing only */
};

/* The type's settings; c must be an http check. Borrowed. */
const struct http_spec *http_spec_of(const struct check_spec *c);
/* "identity", "gzip", "br", "deflate": the `compression` names. */
extern const char *const http_compression_names[];

/* What an http run adds to its result (check_result.tail). The facts
 * after body_bytes are those blackbox_exporter's /probe exports. */
struct http_tail {
    int status;
    long redirects;
    uint64_t body_bytes; /* received, after decoding */
    /* The final response's Content-Length, -1 when it sent none (or no
     * response came). */
    int64_t content_length;
    /* The final response's version as its status line writes it (1.0,
     * 1.1, 2, 3); 0 when no response came. */
    double http_version;
    /* The final response came over TLS; tls_version is then its protocol
     * as blackbox_exporter names it ("TLS 1.3"; static), else NULL. */
    bool ssl;
    const char *tls_version;
    /* The run failed on a body or header pattern (fail_if_*_matches). */
    bool failed_due_to_regex;
    /* 4 or 6: the family of the address last connected to; 0 when no
     * connection was made. ip is that address as text ("" when none). */
    int ip_protocol;
    char ip[48];
};

extern const struct check_schema http_schema;
extern const struct check_type http_check_type;

/* ---- requests for other types' runs (a flow's steps) ---- */

/*
 * One request made with an http check's settings (c: its settings, its
 * expectations and how it is judged; redirects, the CA store, PCRE2
 * limits and all) and what the caller's run decides when it starts: the
 * URL, header values and body with run-time values in them, the time left,
 * and how connections and cookies are shared. Every pointer is borrowed
 * until the request reports or is cancelled.
 */
struct http_request {
    const char *url;                 /* NULL: c's url */
    const struct header_kv *headers; /* NULL: c's headers; else as many, in c's order */
    const char *body;                /* NULL: c's body */
    int64_t timeout_ms;              /* the whole request, redirects included */
    CURLSH *share;                   /* with it: cookies on, jar (and pool) in the share */
    bool fresh_connect;              /* a new connection, resolved afresh */
    bool forbid_reuse;               /* close the connection after the request */
    bool keep_body, keep_headers;    /* keep the response for the caller */
};

/* The response a request kept (http_request.keep_*): the final response's
 * header block ("Name: value\r\n" lines) and body; "" when not kept.
 * Borrowed for the callback only. */
struct http_response {
    const char *headers;
    size_t headers_len;
    const char *body;
    size_t body_len;
};

/* A request's one report: res judged as an http check's run would be (its
 * tail borrowed for the call), on the probe thread, after which the
 * request frees itself. */
typedef void (*http_request_cb)(struct probe_loop *loop, const struct check_result *res,
                                const struct http_response *resp, void *arg);

/* Start a request on the loop; cb runs once, never from inside this call.
 * *handle is for http_request_cancel. On failure nothing was started. */
enum op_rc http_request_start(struct probe_loop *loop, const struct check_spec *c,
                              const struct http_request *rq, http_request_cb cb, void *arg,
                              void **handle) WUR;
/* Abandon a request that has not reported: cb will not run. */
void http_request_cancel(struct probe_loop *loop, void *handle);

/* An RFC 9110 token: a valid header name (and method). */
bool http_header_name_ok(const char *s);

/* Compile the scalar n as a PCRE2 pattern into *re (which then owns the
 * pattern copy and the code); false after reporting the error at n. Shared
 * by every key that takes a regular expression, flow captures included. */
bool http_compile_regex(struct cfg_parser *p, const yaml_node_t *n, const char *path,
                        struct regex *re);

/* A JSON path as `json` expectations write it (a.b[0].c) into j's steps
 * (j zeroed by the caller); false when it is not one. */
bool http_json_path_parse(const char *s, struct json_expect *j);
/* Free what a json_expect holds (not j itself). */
void http_json_expect_free(struct json_expect *j);

/* Match re against s (len bytes) within the PCRE2 limits above: 1 when it
 * matched, with group `group`'s span in *start and *glen (a group that did
 * not take part counts as no match), 0 when it did not, or a PCRE2 error
 * (negative) when the match erred (a limit). */
int http_regex_find(const struct regex *re, const char *s, size_t len, unsigned group,
                    size_t *start, size_t *glen);

/* The transport of a judged response against `tls` and `http_versions`:
 * ssl, it came over TLS; version, its status line's (1.1, 2). The detail
 * of a failure into detail (cap bytes). CHECK_REASON_NONE when both hold;
 * CHECK_REASON_HTTP_STATUS for a version, CHECK_REASON_TLS for TLS. */
enum check_reason http_judge_transport(const struct http_expect *e, bool ssl, double version,
                                       char *detail, size_t cap);

/* `expect.status` (one code, range or class, or a list of them) into the
 * struct http_expect obj's status ranges, replacing them; false after
 * reporting. A CFG_CUSTOM parser, shared with the browser type. */
bool http_expect_status(struct cfg_parser *p, yaml_node_t *n, const char *path, void *obj);

/* The rules an `expect:` of the check at n (http or browser) meets once all
 * its keys are read: max_duration no longer than timeout_ms (else an error
 * naming both as written), and no status given means 200-299. */
void http_expect_finish(struct cfg_parser *p, const yaml_node_t *n, const char *path,
                        struct http_expect *e, int64_t timeout_ms);

/* True when code falls into one of the ranges. */
bool http_status_ok(const struct http_expect *e, int code);

/* ---- pure pieces, exposed for unit tests ---- */

/* Failure reason for a transfer that did not complete (code != CURLE_OK).
 * body_overflow: our write callback stopped an over-long body. */
enum check_reason http_classify_curl(CURLcode code, bool body_overflow);

/* Judge a completed response against the check's expectations. headers is
 * the raw header block of the final response ("Name: value\r\n" lines),
 * body the captured body. CHECK_REASON_NONE when every expectation holds.
 * The first failed expectation is described in detail (cap bytes, e.g.
 * CHECK_DETAIL_MAX; "" on success; detail may be NULL when cap is 0). */
enum check_reason http_evaluate(const struct check_spec *c, int status, const char *headers,
                                size_t headers_len, const char *body, size_t body_len,
                                double duration, char *detail, size_t cap);

/* The value j's path leads to in root (borrowed), NULL when there is none. */
const json_t *http_json_find(const struct json_expect *j, const json_t *root);
/* One JSON expectation against a parsed document. */
bool http_json_holds(const struct json_expect *j, const json_t *root);

/* Phase split of libcurl's cumulative timers (microseconds), blackbox-style. */
void http_phases(int64_t namelookup, int64_t connect, int64_t appconnect, int64_t starttransfer,
                 int64_t total, double out[CHECK_PHASE_COUNT]);

/* The phase a transfer was in when it ended early, from the same timers:
 * the first phase whose end libcurl has not stamped. tls: the connection
 * was to be TLS (an https URL), so it needed a handshake after connect. */
enum check_phase http_running_phase(int64_t namelookup, int64_t connect, int64_t appconnect,
                                    int64_t starttransfer, bool tls);

/* ---- detail texts (http_detail.c) ---- */

/* What is known of a transfer that did not complete (code != CURLE_OK). */
struct http_failure {
    CURLcode code;
    bool body_overflow;      /* our write callback stopped an over-long body */
    bool headers_overflow;   /* more header bytes than HTTP_MAX_HEADER_BYTES */
    uint64_t max_body_bytes; /* the check's cap */
    int64_t timeout_ms;      /* the check's timeout */
    enum check_phase phase;  /* running when it ended (http_running_phase) */
    long verify_result;      /* OpenSSL's certificate verdict, 0 (X509_V_OK) if none */
    double cert_expiry;      /* Unix seconds of the earliest notAfter seen, 0 if none */
    int os_errno;            /* the socket error of a failed connect, 0 if none */
    const char *message;     /* libcurl's error text, scrubbed (http_scrub_message); "" if none */
};

/* The detail of a transfer that did not complete, into detail (cap bytes). */
void http_failure_detail(const struct http_failure *f, char *detail, size_t cap);

/* libcurl's error text msg (borrowed) into out (cap bytes) without the
 * resolved host of url when that host is not the one the check's target
 * label shows: a ${env:} or ${file:} reference in the host is a resolved
 * value, which is never shown. Occurrences become "<host>". */
void http_scrub_message(const char *msg, const char *url, const char *target, char *out,
                        size_t cap);

/* The pieces of http_evaluate's detail, appended to d. */
void http_detail_status(struct detail *d, const struct http_expect *e, int status);
/* missing: no header of that name; else none of its values matched, and
 * pcre_rc is the PCRE2 error of a match that erred (0 when none did). */
void http_detail_header(struct detail *d, const struct header_expect *h, bool missing, int pcre_rc);
/* A headers_not_matches expectation failed: a value matched h's pattern,
 * or (pcre_rc, not 0) a match erred. */
void http_detail_header_matched(struct detail *d, const struct header_expect *h, int pcre_rc);
/* want_match: a body_matches pattern (else body_not_matches); pcre_rc: the
 * PCRE2 error of a match that erred, 0 when it did not. */
void http_detail_body(struct detail *d, const struct regex *re, bool want_match, int pcre_rc);
/* root: the document (NULL: the body is not JSON); j its failed expectation. */
void http_detail_json(struct detail *d, const struct json_expect *j, const json_t *root);
void http_detail_latency(struct detail *d, double duration, int64_t max_duration_ms);

#endif
