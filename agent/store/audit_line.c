/* audit_line.c - one audit log line written and read back (audit_line.h). */
#include "audit_line.h"

#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- UTF-8 ---- */

/* Length of the valid UTF-8 sequence at p[0 .. n) (n >= 1), or 0 when the
 * bytes there are not one (RFC 3629: no overlong forms, no surrogates,
 * nothing past U+10FFFF). */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned lo = 0x80, hi = 0xbf; /* the second byte's range */
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0)
            lo = 0xa0; /* overlong below U+0800 */
        else if (c == 0xed)
            hi = 0x9f; /* U+D800 .. U+DFFF are surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0)
            lo = 0x90; /* overlong below U+10000 */
        else if (c == 0xf4)
            hi = 0x8f; /* past U+10FFFF */
    } else {
        return 0;
    }
    if (n < len || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return len;
}

/* ---- writing ---- */

void audit_json_string(struct buf *b, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    buf_addc(b, '"');
    size_t i = 0;
    while (i < n) {
        /* Runs of plain bytes go in one append. */
        size_t run = i;
        while (run < n && p[run] >= 0x20 && p[run] < 0x7f && p[run] != '"' && p[run] != '\\')
            run++;
        if (run > i) {
            buf_add(b, p + i, run - i);
            i = run;
            continue;
        }
        unsigned c = p[i];
        size_t u = c >= 0x80 ? utf8_len(p + i, n - i) : 0;
        if (u) {
            buf_add(b, p + i, u);
            i += u;
            continue;
        }
        if (c == '"')
            buf_adds(b, "\\\"");
        else if (c == '\\')
            buf_adds(b, "\\\\");
        else if (c == '\n')
            buf_adds(b, "\\n");
        else if (c == '\r')
            buf_adds(b, "\\r");
        else if (c == '\t')
            buf_adds(b, "\\t");
        else
            buf_addf(b, "\\u%04x", c); /* control, DEL, or a byte outside valid UTF-8 */
        i++;
    }
    buf_addc(b, '"');
}

void audit_time(int64_t wall_ms, char *out, size_t cap)
{
    /* 9999-12-31T23:59:59.999Z: four digits of year is what RFC 3339 has. */
    const int64_t max_ms = INT64_C(253402300799999);
    if (wall_ms < 0)
        wall_ms = 0;
    if (wall_ms > max_ms)
        wall_ms = max_ms;
    time_t secs = (time_t)(wall_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(wall_ms % 1000));
}

/* SHA-256 of a[0 .. an) followed by b[0 .. bn), as hex: a line's hashed
 * form is its text up to the end of `prev` and a closing brace. */
static void digest2(const char *a, size_t an, const char *b, size_t bn, char *hex)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dn = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(ctx, a, an) != 1 || EVP_DigestUpdate(ctx, b, bn) != 1 ||
        EVP_DigestFinal_ex(ctx, d, &dn) != 1 || dn != 32) {
        fprintf(stderr, "fatal: SHA-256 failed\n");
        abort();
    }
    EVP_MD_CTX_free(ctx);
    sha256_to_hex(d, hex);
}

enum op_rc audit_line_encode(struct buf *out, uint64_t seq, int64_t wall_ms, const char *event,
                             const char *const *kv, size_t n_pairs, const char *prev, char *hash)
{
    char t[32];
    audit_time(wall_ms, t, sizeof(t));
    size_t start = out->len;
    buf_addf(out, "{\"seq\":%" PRIu64 ",\"time\":\"%s\",\"event\":", seq, t);
    audit_json_string(out, event, strlen(event));
    buf_adds(out, ",\"fields\":{");
    for (size_t i = 0; i < n_pairs; i++) {
        if (i)
            buf_addc(out, ',');
        audit_json_string(out, kv[2 * i], strlen(kv[2 * i]));
        buf_addc(out, ':');
        audit_json_string(out, kv[2 * i + 1], strlen(kv[2 * i + 1]));
    }
    buf_adds(out, "},\"prev\":\"");
    buf_adds(out, prev);
    buf_addc(out, '"');
    if (out->failed)
        return OP_ERR_LIMIT;
    digest2(out->data + start, out->len - start, "}", 1, hash);
    buf_addf(out, ",\"hash\":\"%s\"}\n", hash);
    return out->failed ? OP_ERR_LIMIT : OP_OK;
}

/* ---- reading ---- */

struct cursor {
    const unsigned char *s;
    size_t n, pos;
    const char *why; /* set by the first failure */
};

static bool fail(struct cursor *c, const char *why)
{
    if (!c->why)
        c->why = why;
    return false;
}

static bool lit(struct cursor *c, const char *text, const char *why)
{
    size_t len = strlen(text);
    for (size_t i = 0; i < len; i++) {
        if (c->pos >= c->n || c->s[c->pos] != (unsigned char)text[i])
            return fail(c, why);
        c->pos++;
    }
    return true;
}

static int hexval(unsigned c)
{
    if (c >= '0' && c <= '9')
        return (int)(c - '0');
    if (c >= 'a' && c <= 'f')
        return (int)(c - 'a' + 10);
    if (c >= 'A' && c <= 'F')
        return (int)(c - 'A' + 10);
    return -1;
}

/* A JSON string (RFC 8259) at the cursor; *len gets the length of its raw
 * text between the quotes. */
static bool json_string(struct cursor *c, size_t *len)
{
    if (!lit(c, "\"", "expected a string"))
        return false;
    size_t from = c->pos;
    while (c->pos < c->n) {
        unsigned ch = c->s[c->pos];
        if (ch == '"') {
            *len = c->pos - from;
            c->pos++;
            return true;
        }
        if (ch < 0x20)
            return fail(c, "a control character inside a string");
        if (ch == '\\') {
            if (c->pos + 1 >= c->n)
                break;
            unsigned e = c->s[c->pos + 1];
            if (e == 'u') {
                if (c->n - c->pos < 6)
                    break;
                for (size_t k = 2; k < 6; k++)
                    if (hexval(c->s[c->pos + k]) < 0) {
                        c->pos += k;
                        return fail(c, "a \\u escape without four hex digits");
                    }
                c->pos += 6;
            } else if (e && strchr("\"\\/bfnrt", (int)e)) {
                c->pos += 2;
            } else {
                c->pos++;
                return fail(c, "an unknown escape in a string");
            }
            continue;
        }
        if (ch >= 0x80) {
            size_t u = utf8_len(c->s + c->pos, c->n - c->pos);
            if (!u)
                return fail(c, "invalid UTF-8 inside a string");
            c->pos += u;
            continue;
        }
        c->pos++;
    }
    return fail(c, "a string that does not end");
}

/* 64 lowercase hex digits between quotes, copied to out. */
static bool hash_string(struct cursor *c, char *out, const char *why)
{
    if (c->n - c->pos < 66 || c->s[c->pos] != '"' || c->s[c->pos + 65] != '"')
        return fail(c, why);
    for (size_t i = 0; i < 64; i++) {
        unsigned ch = c->s[c->pos + 1 + i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) {
            c->pos += 1 + i;
            return fail(c, why);
        }
        out[i] = (char)ch;
    }
    out[64] = '\0';
    c->pos += 66;
    return true;
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" as audit_time writes it. */
static bool time_string(struct cursor *c)
{
    static const char shape[] = "\"dddd-dd-ddTdd:dd:dd.dddZ\"";
    for (size_t i = 0; shape[i]; i++, c->pos++) {
        if (c->pos >= c->n)
            return fail(c, "expected the time as 2006-01-02T15:04:05.000Z");
        unsigned ch = c->s[c->pos];
        bool ok = shape[i] == 'd' ? ch >= '0' && ch <= '9' : ch == (unsigned char)shape[i];
        if (!ok)
            return fail(c, "expected the time as 2006-01-02T15:04:05.000Z");
    }
    return true;
}

static bool seq_number(struct cursor *c, uint64_t *out)
{
    size_t from = c->pos;
    while (c->pos < c->n && c->s[c->pos] >= '0' && c->s[c->pos] <= '9')
        c->pos++;
    size_t len = c->pos - from;
    if (len == 0 || (len > 1 && c->s[from] == '0')) {
        c->pos = from;
        return fail(c, "expected seq as a whole number without leading zeros");
    }
    if (parse_u64((const char *)c->s + from, len, UINT64_MAX, out) != OP_OK) {
        c->pos = from;
        return fail(c, "seq is larger than 2^64 - 1");
    }
    return true;
}

static bool fields_object(struct cursor *c)
{
    size_t len;
    if (c->pos < c->n && c->s[c->pos] == '}') {
        c->pos++;
        return true;
    }
    for (;;) {
        if (!json_string(c, &len) || !lit(c, ":", "expected : after a field's name") ||
            !json_string(c, &len))
            return false;
        if (c->pos < c->n && c->s[c->pos] == '}') {
            c->pos++;
            return true;
        }
        if (!lit(c, ",", "expected , or } after a field"))
            return false;
    }
}

enum op_rc audit_line_parse(const char *s, size_t n, struct audit_line *out, const char **why,
                            size_t *at)
{
    struct cursor c = {(const unsigned char *)s, n, 0, NULL};
    size_t len;
    bool ok = lit(&c, "{\"seq\":", "expected {\"seq\": at the start") &&
              seq_number(&c, &out->seq) && lit(&c, ",\"time\":", "expected ,\"time\": after seq") &&
              time_string(&c) && lit(&c, ",\"event\":", "expected ,\"event\": after time") &&
              json_string(&c, &len);
    if (ok && len == 0)
        ok = fail(&c, "the event name is empty");
    ok = ok && lit(&c, ",\"fields\":{", "expected ,\"fields\":{ after event") &&
         fields_object(&c) && lit(&c, ",\"prev\":", "expected ,\"prev\": after fields") &&
         hash_string(&c, out->prev, "expected prev as 64 lowercase hex digits in quotes");
    size_t hashed_end = c.pos;
    ok = ok && lit(&c, ",\"hash\":", "expected ,\"hash\": after prev") &&
         hash_string(&c, out->hash, "expected hash as 64 lowercase hex digits in quotes") &&
         lit(&c, "}", "expected } after hash");
    if (ok && c.pos != n)
        ok = fail(&c, "bytes after the line's closing }");
    if (!ok) {
        *why = c.why;
        *at = c.pos;
        return OP_ERR_INVALID;
    }
    digest2(s, hashed_end, "}", 1, out->computed);
    return OP_OK;
}

/* ---- the chain ---- */

void audit_chain_init(struct audit_chain *c)
{
    memset(c, 0, sizeof(*c));
}

enum op_rc audit_chain_next(struct audit_chain *c, const char *s, size_t n, struct buf *why)
{
    struct audit_line l;
    const char *what;
    size_t at;
    if (audit_line_parse(s, n, &l, &what, &at) != OP_OK) {
        buf_addf(why, "not an audit line: %s (column %zu)", what, at + 1);
        return OP_ERR_INVALID;
    }
    if (strcmp(l.hash, l.computed) != 0) {
        buf_addf(why,
                 "hash mismatch: the line was changed after it was written (hash %s, its "
                 "content hashes to %s)",
                 l.hash, l.computed);
        return OP_ERR_INVALID;
    }
    if (c->lines > 0 && strcmp(l.prev, c->hash) != 0) {
        buf_addf(why,
                 "prev is not the hash of the line before: a line was deleted, inserted or "
                 "reordered here (seq %" PRIu64 " after seq %" PRIu64 ")",
                 l.seq, c->seq);
        return OP_ERR_INVALID;
    }
    if (c->lines > 0 && (c->seq == UINT64_MAX || l.seq != c->seq + 1)) {
        buf_addf(why, "seq %" PRIu64 " after seq %" PRIu64 " (expected %" PRIu64 ")", l.seq, c->seq,
                 c->seq + 1);
        return OP_ERR_INVALID;
    }
    c->lines++;
    c->seq = l.seq;
    memcpy(c->hash, l.hash, sizeof(c->hash));
    return OP_OK;
}
