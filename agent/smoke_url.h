/*
 * smoke_url.h - `outpost check --url-prefix`: point every check of a file at
 * another base URL (staging, a canary, a review app) without editing it.
 *
 * A prefix is scheme://host[:port][/base]: http or https, a host, an
 * optional port and an optional base path, nothing else (no user info, so
 * no credential lands on a command line; no query, no fragment). A check's
 * URL keeps its own path, query, fragment and user info; its scheme, host
 * and port become the prefix's, and the prefix's base path goes before its
 * path: https://api.example.com/v1/x?q=1 under http://127.0.0.1:8080/stage
 * is http://127.0.0.1:8080/stage/v1/x?q=1.
 */
#ifndef OUTPOST_SMOKE_URL_H
#define OUTPOST_SMOKE_URL_H

#include "common.h"
#include "config.h"

struct smoke_prefix {
    char *text;   /* as given, for the report */
    char *scheme; /* "http" or "https" */
    char *host;   /* an IPv6 address in brackets */
    char *port;   /* NULL: the scheme's default */
    char *path;   /* "" or "/base", without a trailing slash */
};

/* Parse text (borrowed) into *out (free with smoke_prefix_free). On
 * OP_ERR_INVALID, *why (static) says what is wrong and *out is empty. */
enum op_rc smoke_prefix_parse(const char *text, struct smoke_prefix *out, const char **why) WUR;
void smoke_prefix_free(struct smoke_prefix *p);

/* url (borrowed; may hold secrets, never echoed) rebased onto p, into *out
 * (caller frees). OP_ERR_INVALID when url is not an absolute URL. */
enum op_rc smoke_rebase_url(const char *url, const struct smoke_prefix *p, char **out) WUR;

/* Rebase every URL check c probes, in place: c belongs to a configuration
 * that no other thread sees yet. OP_ERR_INVALID with *why (static) when
 * c's type has no URL to rebase or the result is not a valid URL. */
enum op_rc smoke_rebase_check(const struct check_spec *c, const struct smoke_prefix *p,
                              const char **why) WUR;

#endif
