/* webauth.c - basic-auth users, bearer tokens, the Authorization header (webauth.h). */
#include "webauth.h"
#include "cfg_yaml.h"

#include <crypt.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

/* ---- files and digests ---- */

enum op_rc webauth_read_file(const char *path, size_t cap, struct buf *out, const char **why)
{
    buf_init(out, cap);
    FILE *f = cfg_open_regular(path, why);
    if (!f)
        return OP_ERR_IO;
    char chunk[4096];
    size_t got;
    enum op_rc rc = OP_OK;
    while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (buf_add(out, chunk, got) != OP_OK) {
            rc = OP_ERR_LIMIT;
            *why = "larger than its cap";
            break;
        }
    }
    if (rc == OP_OK && ferror(f)) {
        rc = OP_ERR_IO;
        *why = strerror(errno ? errno : EIO);
    }
    OPENSSL_cleanse(chunk, sizeof(chunk));
    fclose(f);
    return rc;
}

void webauth_wipe(struct buf *b)
{
    if (b->data)
        OPENSSL_cleanse(b->data, b->cap);
    buf_free(b);
}

static unsigned char g_key[32];
static pthread_once_t g_key_once = PTHREAD_ONCE_INIT;

static void key_init(void)
{
    if (RAND_bytes(g_key, sizeof(g_key)) == 1)
        return;
    if (getrandom(g_key, sizeof(g_key), 0) == (ssize_t)sizeof(g_key))
        return;
    /* Without randomness the digests would be guessable keys: refuse to run
     * rather than protect the endpoints with a known key. */
    fputs("outpost: no random bytes for the authentication key\n", stderr);
    abort();
}

/* HMAC-SHA-256 of len bytes under the process key. */
static void digest(const void *data, size_t len, unsigned char out[WEBAUTH_DIGEST_BYTES])
{
    pthread_once(&g_key_once, key_init);
    unsigned int n = 0;
    static const unsigned char empty;
    if (!HMAC(EVP_sha256(), g_key, (int)sizeof(g_key), len ? data : &empty, len, out, &n) ||
        n != WEBAUTH_DIGEST_BYTES) {
        /* A digest nobody can match: the check fails closed. */
        RAND_bytes(out, WEBAUTH_DIGEST_BYTES);
    }
}

/* ---- bearer tokens ---- */

struct webauth_tokens {
    size_t n;
    unsigned char (*digests)[WEBAUTH_DIGEST_BYTES];
};

static bool token_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("-._~+/", c));
}

/* RFC 6750 b64token: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" */
static bool b64token_ok(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len && token_char(s[i]))
        i++;
    if (i == 0)
        return false;
    while (i < len && s[i] == '=')
        i++;
    return i == len;
}

static bool blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

enum op_rc webauth_tokens_parse(const char *text, size_t len, const char *name,
                                struct webauth_tokens **out, struct buf *errors)
{
    struct webauth_tokens *t = xcalloc(1, sizeof(*t));
    size_t cap = 0, line = 0;
    bool bad = false;
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        line++;
        const char *s = p;
        p = nl ? nl + 1 : end;
        while (s < e && blank(*s))
            s++;
        while (e > s && blank(e[-1]))
            e--;
        if (s == e || *s == '#')
            continue;
        size_t n = (size_t)(e - s);
        if (memchr(s, '\0', n)) {
            buf_addf(errors, "%s:%zu: holds a NUL byte\n", name, line);
            bad = true;
        } else if (n > WEBAUTH_MAX_TOKEN_BYTES) {
            buf_addf(errors, "%s:%zu: a token longer than %u bytes\n", name, line,
                     WEBAUTH_MAX_TOKEN_BYTES);
            bad = true;
        } else if (!b64token_ok(s, n)) {
            buf_addf(errors,
                     "%s:%zu: a token may hold only letters, digits and -._~+/ with = at its "
                     "end (RFC 6750)\n",
                     name, line);
            bad = true;
        } else if (t->n == WEBAUTH_MAX_TOKENS) {
            buf_addf(errors, "%s:%zu: more than %u tokens\n", name, line, WEBAUTH_MAX_TOKENS);
            bad = true;
            break;
        } else {
            if (t->n == cap) {
                cap = cap ? 2 * cap : 8;
                t->digests = xrealloc(t->digests, cap * sizeof(*t->digests));
            }
            digest(s, n, t->digests[t->n++]);
        }
    }
    if (!bad && t->n == 0) {
        buf_addf(errors, "%s: no tokens (one a line; lines starting with # are comments)\n", name);
        bad = true;
    }
    if (bad) {
        webauth_tokens_free(t);
        return OP_ERR_INVALID;
    }
    *out = t;
    return OP_OK;
}

enum op_rc webauth_tokens_load(const char *path, struct webauth_tokens **out, struct buf *errors)
{
    struct buf text;
    const char *why = NULL;
    enum op_rc rc = webauth_read_file(path, WEBAUTH_MAX_FILE_BYTES, &text, &why);
    if (rc == OP_ERR_LIMIT)
        buf_addf(errors, "%s: larger than %u bytes\n", path, WEBAUTH_MAX_FILE_BYTES);
    else if (rc != OP_OK)
        buf_addf(errors, "%s: cannot read: %s\n", path, why);
    if (rc == OP_OK)
        rc = webauth_tokens_parse(buf_str(&text), text.len, path, out, errors);
    webauth_wipe(&text);
    return rc;
}

size_t webauth_tokens_count(const struct webauth_tokens *t)
{
    return t->n;
}

bool webauth_token_ok(const struct webauth_tokens *t, const char *token, size_t len)
{
    unsigned char d[WEBAUTH_DIGEST_BYTES];
    digest(token, len, d);
    /* Every stored digest is compared, whatever matched before. */
    int found = 0;
    for (size_t i = 0; i < t->n; i++)
        found |= CRYPTO_memcmp(d, t->digests[i], WEBAUTH_DIGEST_BYTES) == 0;
    OPENSSL_cleanse(d, sizeof(d));
    return found != 0;
}

void webauth_tokens_free(struct webauth_tokens *t)
{
    if (!t)
        return;
    if (t->digests)
        OPENSSL_cleanse(t->digests, t->n * sizeof(*t->digests));
    free(t->digests);
    free(t);
}

/* ---- basic-auth users ---- */

struct webauth_users {
    size_t n;
    char **names, **hashes;
    pthread_mutex_t cache_lock; /* the slots below */
    unsigned char cache[WEBAUTH_CACHE_SLOTS][WEBAUTH_DIGEST_BYTES];
    size_t cache_used, cache_next;
    atomic_uint_fast64_t bcrypt_runs;
};

/* bcrypt is the costly part: one at a time across the process. */
static pthread_mutex_t g_bcrypt_lock = PTHREAD_MUTEX_INITIALIZER;

struct webauth_users *webauth_users_new(const char *const *names, const char *const *hashes,
                                        size_t n)
{
    struct webauth_users *u = xcalloc(1, sizeof(*u));
    u->n = n;
    u->names = xcalloc(n, sizeof(char *));
    u->hashes = xcalloc(n, sizeof(char *));
    for (size_t i = 0; i < n; i++) {
        u->names[i] = xstrdup(names[i]);
        u->hashes[i] = xstrdup(hashes[i]);
    }
    pthread_mutex_init(&u->cache_lock, NULL);
    atomic_init(&u->bcrypt_runs, 0);
    return u;
}

void webauth_users_free(struct webauth_users *u)
{
    if (!u)
        return;
    for (size_t i = 0; i < u->n; i++) {
        free(u->names[i]);
        free(u->hashes[i]);
    }
    free(u->names);
    free(u->hashes);
    pthread_mutex_destroy(&u->cache_lock);
    OPENSSL_cleanse(u->cache, sizeof(u->cache));
    free(u);
}

uint64_t webauth_bcrypt_runs(const struct webauth_users *u)
{
    return atomic_load(&((struct webauth_users *)u)->bcrypt_runs);
}

/* The digest a verified password is remembered by: user, the hash it was
 * checked against (a changed hash forgets it) and the password. */
static void pair_digest(const char *user, const char *hash, const char *password,
                        unsigned char out[WEBAUTH_DIGEST_BYTES])
{
    size_t lu = strlen(user), lh = strlen(hash), lp = strlen(password);
    size_t n = lu + 1 + lh + 1 + lp;
    char *m = xmalloc(n);
    memcpy(m, user, lu + 1);
    memcpy(m + lu + 1, hash, lh + 1);
    memcpy(m + lu + 1 + lh + 1, password, lp);
    digest(m, n, out);
    OPENSSL_cleanse(m, n);
    free(m);
}

static bool cache_has(struct webauth_users *u, const unsigned char *d)
{
    int found = 0;
    pthread_mutex_lock(&u->cache_lock);
    for (size_t i = 0; i < u->cache_used; i++)
        found |= CRYPTO_memcmp(d, u->cache[i], WEBAUTH_DIGEST_BYTES) == 0;
    pthread_mutex_unlock(&u->cache_lock);
    return found != 0;
}

/* Remember d, replacing the oldest entry once the cache is full. */
static void cache_put(struct webauth_users *u, const unsigned char *d)
{
    pthread_mutex_lock(&u->cache_lock);
    for (size_t i = 0; i < u->cache_used; i++) {
        if (CRYPTO_memcmp(d, u->cache[i], WEBAUTH_DIGEST_BYTES) == 0) {
            pthread_mutex_unlock(&u->cache_lock);
            return; /* two threads verified the same pair at once */
        }
    }
    memcpy(u->cache[u->cache_next], d, WEBAUTH_DIGEST_BYTES);
    u->cache_next = (u->cache_next + 1) % WEBAUTH_CACHE_SLOTS;
    if (u->cache_used < WEBAUTH_CACHE_SLOTS)
        u->cache_used++;
    pthread_mutex_unlock(&u->cache_lock);
}

static bool bcrypt_matches(struct webauth_users *u, const char *password, const char *hash)
{
    struct crypt_data *cd = xcalloc(1, sizeof(*cd));
    pthread_mutex_lock(&g_bcrypt_lock);
    atomic_fetch_add(&u->bcrypt_runs, 1);
    const char *out = crypt_rn(password, hash, cd, (int)sizeof(*cd));
    bool ok = out && out[0] != '*' && strlen(out) == strlen(hash) &&
              CRYPTO_memcmp(out, hash, strlen(hash)) == 0;
    pthread_mutex_unlock(&g_bcrypt_lock);
    OPENSSL_cleanse(cd, sizeof(*cd));
    free(cd);
    return ok;
}

enum webauth_result webauth_check_basic(struct webauth_users *u, const char *user,
                                        const char *password)
{
    size_t i = 0;
    while (i < u->n && strcmp(u->names[i], user) != 0)
        i++;
    bool known = i < u->n;
    const char *hash = u->hashes[known ? i : 0];
    unsigned char d[WEBAUTH_DIGEST_BYTES];
    pair_digest(user, hash, password, d);
    enum webauth_result r = WEBAUTH_OK;
    if (known && cache_has(u, d))
        goto out;
    /* An unknown user pays the same bcrypt as a known one. */
    bool match = bcrypt_matches(u, password, hash);
    if (!known)
        r = WEBAUTH_UNKNOWN_USER;
    else if (!match)
        r = WEBAUTH_WRONG_PASSWORD;
    else
        cache_put(u, d);
out:
    OPENSSL_cleanse(d, sizeof(d));
    return r;
}

/* ---- the Authorization header ---- */

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Strict base64 (padded, RFC 4648 alphabet) into out (cap bytes, NUL
 * added). Returns the decoded length, or -1. */
static long b64_decode(const char *s, size_t len, char *out, size_t cap)
{
    if (len == 0 || len % 4 != 0 || len / 4 * 3 > cap)
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < len; i += 4) {
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; k++) {
            char c = s[i + k];
            if (c == '=' && i + 4 == len && k >= 2 && (k == 3 || s[i + 3] == '=')) {
                v[k] = 0;
                pad++;
            } else if ((v[k] = b64_value(c)) < 0) {
                return -1;
            }
        }
        uint32_t w =
            (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        out[n++] = (char)(w >> 16);
        if (pad < 2)
            out[n++] = (char)(w >> 8);
        if (pad < 1)
            out[n++] = (char)w;
    }
    out[n] = '\0';
    return (long)n;
}

enum webauth_scheme webauth_parse_header(const char *header, struct webauth_credentials *c)
{
    c->user = c->password = c->token = NULL;
    c->token_len = 0;
    c->decoded[0] = '\0';
    if (!header)
        return c->scheme = WEBAUTH_SCHEME_NONE;
    size_t hl = strnlen(header, WEBAUTH_MAX_HEADER_BYTES + 1);
    const char *sp = memchr(header, ' ', hl);
    if (!sp)
        return c->scheme = WEBAUTH_SCHEME_OTHER;
    size_t sl = (size_t)(sp - header);
    bool basic = sl == 5 && strncasecmp(header, "Basic", 5) == 0;
    bool bearer = sl == 6 && strncasecmp(header, "Bearer", 6) == 0;
    if (!basic && !bearer)
        return c->scheme = WEBAUTH_SCHEME_OTHER;
    if (hl > WEBAUTH_MAX_HEADER_BYTES)
        return c->scheme = WEBAUTH_SCHEME_MALFORMED;
    const char *v = sp, *end = header + hl;
    while (v < end && *v == ' ')
        v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    size_t vl = (size_t)(end - v);
    if (bearer) {
        if (!b64token_ok(v, vl))
            return c->scheme = WEBAUTH_SCHEME_MALFORMED;
        c->token = v;
        c->token_len = vl;
        return c->scheme = WEBAUTH_SCHEME_BEARER;
    }
    long n = b64_decode(v, vl, c->decoded, WEBAUTH_MAX_CREDENTIAL_BYTES);
    char *colon = n > 0 ? memchr(c->decoded, ':', (size_t)n) : NULL;
    if (n <= 0 || memchr(c->decoded, '\0', (size_t)n) || !colon) {
        OPENSSL_cleanse(c->decoded, sizeof(c->decoded));
        return c->scheme = WEBAUTH_SCHEME_MALFORMED;
    }
    *colon = '\0';
    c->user = c->decoded;
    c->password = colon + 1;
    return c->scheme = WEBAUTH_SCHEME_BASIC;
}

void webauth_credentials_wipe(struct webauth_credentials *c)
{
    OPENSSL_cleanse(c->decoded, sizeof(c->decoded));
    c->user = c->password = c->token = NULL;
    c->token_len = 0;
}
