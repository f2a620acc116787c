/*
 * webauth.h - who may call the endpoints: basic-auth users (bcrypt hashes
 * from the web config, checked with libxcrypt) and bearer tokens (from
 * --web.bearer-tokens-file), and the Authorization header that carries
 * either.
 *
 * Secrets are never kept in the clear beyond one call: a token is kept as
 * its HMAC-SHA-256 under a key drawn at random once per process, and a
 * password that passed bcrypt is remembered only as the HMAC of (user, the
 * configured hash, password), so the next scrape does not pay bcrypt again.
 * Nothing here logs; callers log names, never passwords or tokens.
 */
#ifndef OUTPOST_WEBAUTH_H
#define OUTPOST_WEBAUTH_H

#include "buf.h"
#include "common.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WEBAUTH_DIGEST_BYTES 32           /* HMAC-SHA-256 */
#define WEBAUTH_MAX_TOKENS 1000           /* lines with a token */
#define WEBAUTH_MAX_TOKEN_BYTES 4096      /* one token */
#define WEBAUTH_MAX_FILE_BYTES (1u << 20) /* the tokens file */
#define WEBAUTH_CACHE_SLOTS 256           /* verified passwords remembered */
#define WEBAUTH_MAX_CREDENTIAL_BYTES 1024 /* user:password, decoded */
#define WEBAUTH_MAX_HEADER_BYTES 4096     /* an Authorization header */

/* The whole regular file at path into out (initialised here, whatever the
 * result; a FIFO or device is refused without blocking). OP_ERR_IO with
 * *why (static text), OP_ERR_LIMIT over cap. The content may be a secret:
 * the caller wipes it (webauth_wipe). */
enum op_rc webauth_read_file(const char *path, size_t cap, struct buf *out, const char **why) WUR;

/* Zero a buffer that held a secret, then free it. */
void webauth_wipe(struct buf *b);

/* ---- bearer tokens ---- */

struct webauth_tokens;

/* One token a line; blank lines and lines starting with # (after leading
 * blanks) are skipped; blanks around a token are dropped. A token is RFC
 * 6750's b64token (letters, digits, -._~+/ and = at its end), at most
 * WEBAUTH_MAX_TOKEN_BYTES; at least one and at most WEBAUTH_MAX_TOKENS.
 * Problems go to errors as "name:line: why" (never the token). */
enum op_rc webauth_tokens_parse(const char *text, size_t len, const char *name,
                                struct webauth_tokens **out, struct buf *errors) WUR;
enum op_rc webauth_tokens_load(const char *path, struct webauth_tokens **out,
                               struct buf *errors) WUR;
size_t webauth_tokens_count(const struct webauth_tokens *t);
/* True when token (len bytes, borrowed) is one of t. Its digest is compared
 * with every stored digest in constant time (CRYPTO_memcmp, no early exit),
 * so neither a token's content nor its length shows in the timing. */
bool webauth_token_ok(const struct webauth_tokens *t, const char *token, size_t len) WUR;
void webauth_tokens_free(struct webauth_tokens *t);

/* ---- basic-auth users ---- */

struct webauth_users;

enum webauth_result { WEBAUTH_OK, WEBAUTH_UNKNOWN_USER, WEBAUTH_WRONG_PASSWORD };

/* The n users (names and bcrypt hashes are copied), n >= 1. */
struct webauth_users *webauth_users_new(const char *const *names, const char *const *hashes,
                                        size_t n);
void webauth_users_free(struct webauth_users *u);
/*
 * Check a password. A (user, hash, password) that passed bcrypt before is
 * found in the cache (compared as digests) without running bcrypt; anything
 * else runs bcrypt once - for an unknown user against the first user's hash,
 * so an unknown name costs what a known one does. Only successes are
 * cached. bcrypt runs one at a time (it is the costly part: a burst of
 * wrong passwords takes one core, not all). Thread-safe.
 */
enum webauth_result webauth_check_basic(struct webauth_users *u, const char *user,
                                        const char *password) WUR;
/* bcrypt comparisons run so far (for tests and the cache's proof). */
uint64_t webauth_bcrypt_runs(const struct webauth_users *u);

/* ---- the Authorization header ---- */

enum webauth_scheme {
    WEBAUTH_SCHEME_NONE,      /* no header */
    WEBAUTH_SCHEME_BASIC,     /* user and password decoded */
    WEBAUTH_SCHEME_BEARER,    /* token */
    WEBAUTH_SCHEME_OTHER,     /* a scheme outpost does not take */
    WEBAUTH_SCHEME_MALFORMED, /* Basic or Bearer, but not decodable */
};

struct webauth_credentials {
    enum webauth_scheme scheme;
    const char *user, *password; /* Basic: inside decoded[] */
    const char *token;           /* Bearer: borrowed from the header */
    size_t token_len;
    char decoded[WEBAUTH_MAX_CREDENTIAL_BYTES + 1];
};

/* Parse header (may be NULL) into c. A Basic user:password is decoded
 * (strict base64, no NUL byte, a ':' after the user); a Bearer token must
 * be a b64token. Call webauth_credentials_wipe when done. */
enum webauth_scheme webauth_parse_header(const char *header, struct webauth_credentials *c) WUR;
void webauth_credentials_wipe(struct webauth_credentials *c);

#endif
