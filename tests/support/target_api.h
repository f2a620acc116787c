/*
 * target_api.h - the target's session API (target_api.c), routed by target.c.
 */
#ifndef OUTPOST_TARGET_API_H
#define OUTPOST_TARGET_API_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

/* True for the API's paths whose request body the handler needs. */
bool target_api_keeps_body(const char *url);
/* Answer url if it is one of the API's (*handled), else leave *handled false. */
enum MHD_Result target_api_route(struct MHD_Connection *conn, const char *url, const char *method,
                                 const char *body, size_t len, bool *handled);
/* n hex digits from the target's seeded PRNG into out (n + 1 bytes); defined by target.c. */
void target_api_token(char *out, size_t n);

#endif
