/*
 * http_check.h - one HTTP probe: a configured libcurl easy handle, its
 * response capture, and the judgement of the result.
 *
 * The probe engine owns the multi handle and the event loop; this module
 * only builds easy handles and turns a finished transfer into a
 * probe_result. Everything here runs on the probe thread.
 */
#ifndef OUTPOST_HTTP_CHECK_H
#define OUTPOST_HTTP_CHECK_H

#include "buf.h"
#include "config.h"
#include "result.h"

#include <curl/curl.h>
#include <jansson.h>

/* Caps on what a target may send us. */
#define HTTP_MAX_HEADER_BYTES (64u << 10)

struct http_probe;

/* Global set-up; call once before any probe (curl_global_init etc.). */
enum op_rc http_check_global_init(void) WUR;
void http_check_global_fini(void);

/* New probe for spec (borrowed: must outlive the probe) with a configured
 * easy handle. user is handed back by http_probe_user. Caller frees. */
enum op_rc http_probe_new(const struct check_spec *spec, void *user, struct http_probe **out) WUR;
void http_probe_free(struct http_probe *hp);
/* Borrowed. */
CURL *http_probe_easy(struct http_probe *hp);
void *http_probe_user(struct http_probe *hp);

/* Judge the finished transfer (code from CURLMSG_DONE). */
void http_probe_finish(struct http_probe *hp, CURLcode code, struct probe_result *out);

/* ---- pure pieces, exposed for unit tests ---- */

/* Failure reason for a transfer that did not complete (code != CURLE_OK).
 * body_overflow: our write callback stopped an over-long body. */
enum reason http_classify_curl(CURLcode code, bool body_overflow);

/* Judge a completed response against spec->expect. headers is the raw header
 * block of the final response ("Name: value\r\n" lines), body the captured
 * body. Returns REASON_NONE when every expectation holds. */
enum reason http_evaluate(const struct check_spec *spec, int status, const char *headers,
                          size_t headers_len, const char *body, size_t body_len, double duration);

/* One JSON expectation against a parsed document. */
bool http_json_holds(const struct json_expect *j, const json_t *root);

/* Phase split of libcurl's cumulative timers (microseconds), blackbox-style. */
void http_phases(int64_t namelookup, int64_t connect, int64_t appconnect, int64_t starttransfer,
                 int64_t total, double out[PHASE_COUNT]);

#endif
