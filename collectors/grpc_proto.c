/*
 * grpc_proto.c - the wire pieces of the grpc health check: the 5-byte gRPC
 * frame, HealthCheckRequest and HealthCheckResponse in protobuf's wire
 * format (only what the two messages need: varints, length-delimited
 * fields, and skipping the fields a newer server may add), grpc-status and
 * grpc-message, and the judgement of a reply. Everything here reads bytes
 * from the network: each read is bounded by the bytes present, never by
 * what a length field claims.
 */
#include "detail.h"
#include "grpc_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- request ---- */

static size_t put_varint(uint8_t *out, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

uint8_t *grpc_health_request(const char *service, size_t *len)
{
    size_t slen = strnlen(service, GRPC_MAX_SERVICE_BYTES);
    /* Frame header, field key, a length of at most 2 varint bytes, the name. */
    uint8_t *out = xmalloc(GRPC_FRAME_HEADER_BYTES + 1 + 10 + slen);
    size_t m = 0;
    uint8_t *msg = out + GRPC_FRAME_HEADER_BYTES;
    /* proto3 leaves an empty string out. */
    if (slen) {
        msg[m++] = (1 << 3) | 2; /* field 1, length-delimited */
        m += put_varint(msg + m, slen);
        memcpy(msg + m, service, slen);
        m += slen;
    }
    out[0] = 0; /* not compressed */
    out[1] = (uint8_t)(m >> 24);
    out[2] = (uint8_t)(m >> 16);
    out[3] = (uint8_t)(m >> 8);
    out[4] = (uint8_t)m;
    *len = GRPC_FRAME_HEADER_BYTES + m;
    return out;
}

/* ---- response ---- */

/* A varint at *p (before end) into *v; false when truncated or longer
 * than 10 bytes (more than 64 bits). */
static bool get_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    uint64_t r = 0;
    for (unsigned shift = 0; shift < 70 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        if (shift == 63 && b > 1)
            return false; /* bits past the 64th */
        r |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = r;
            return true;
        }
    }
    return false;
}

/* Skip n bytes at *p; false when fewer are left. */
static bool skip(const uint8_t **p, const uint8_t *end, uint64_t n)
{
    if (n > (uint64_t)(end - *p))
        return false;
    *p += n;
    return true;
}

/* HealthCheckResponse { ServingStatus status = 1; } in m bytes. */
static enum op_rc decode_response(const uint8_t *p, const uint8_t *end, int *serving,
                                  const char **why)
{
    int64_t status = GRPC_SERVING_UNKNOWN; /* proto3: absent is the zero value */
    while (p < end) {
        uint64_t key, v;
        if (!get_varint(&p, end, &key) || key >> 3 == 0 || key >> 3 > 0x1fffffff) {
            *why = "bad field key";
            return OP_ERR_INVALID;
        }
        unsigned wire = (unsigned)(key & 7);
        bool ok;
        switch (wire) {
        case 0: /* varint */
            ok = get_varint(&p, end, &v);
            if (ok && key >> 3 == 1)
                status = (int64_t)v; /* an enum is an int32, sign-extended */
            break;
        case 1: /* fixed 64 */
            ok = skip(&p, end, 8);
            break;
        case 2: /* length-delimited */
            ok = get_varint(&p, end, &v) && skip(&p, end, v);
            break;
        case 5: /* fixed 32 */
            ok = skip(&p, end, 4);
            break;
        default: /* groups (3, 4) are not in these messages; 6, 7 do not exist */
            *why = "unsupported wire type";
            return OP_ERR_INVALID;
        }
        if (!ok) {
            *why = "truncated field";
            return OP_ERR_INVALID;
        }
        if (key >> 3 == 1 && wire != 0) {
            *why = "status is not a varint";
            return OP_ERR_INVALID;
        }
    }
    if (status < 0 || status > INT32_MAX) {
        *why = "status out of range";
        return OP_ERR_INVALID;
    }
    *serving = (int)status;
    return OP_OK;
}

enum op_rc grpc_health_response(const uint8_t *body, size_t len, int *serving, const char **why)
{
    if (len == 0) {
        *why = "no message";
        return OP_ERR_INVALID;
    }
    if (len < GRPC_FRAME_HEADER_BYTES) {
        *why = "truncated frame header";
        return OP_ERR_INVALID;
    }
    if (body[0] != 0) {
        /* We announce no grpc-accept-encoding: a compressed reply is wrong. */
        *why = body[0] == 1 ? "compressed message" : "bad compressed flag";
        return OP_ERR_INVALID;
    }
    uint32_t m = (uint32_t)body[1] << 24 | (uint32_t)body[2] << 16 | (uint32_t)body[3] << 8 |
                 (uint32_t)body[4];
    if (m > GRPC_MAX_MESSAGE_BYTES) {
        *why = "message larger than 4096 bytes";
        return OP_ERR_LIMIT;
    }
    size_t rest = len - GRPC_FRAME_HEADER_BYTES;
    if (m > rest) {
        *why = "truncated message";
        return OP_ERR_INVALID;
    }
    if (m < rest) {
        *why = "more than one message";
        return OP_ERR_INVALID;
    }
    const uint8_t *p = body + GRPC_FRAME_HEADER_BYTES;
    return decode_response(p, p + m, serving, why);
}

/* ---- trailers ---- */

bool grpc_status_parse(const char *s, size_t n, int *out)
{
    while (n && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n && strchr(" \t\r\n", s[n - 1]))
        n--;
    uint64_t v;
    if (parse_u64(s, n, 999999, &v) != OP_OK)
        return false;
    *out = (int)v;
    return true;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

size_t grpc_percent_decode(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    if (!cap)
        return 0;
    for (size_t i = 0; i < n && o + 1 < cap; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < n && (hi = hexval(s[i + 1])) >= 0 &&
            (lo = hexval(s[i + 2])) >= 0) {
            out[o++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return o;
}

const char *grpc_status_name(int code)
{
    static const char *const names[] = {
        "OK",
        "CANCELLED",
        "UNKNOWN",
        "INVALID_ARGUMENT",
        "DEADLINE_EXCEEDED",
        "NOT_FOUND",
        "ALREADY_EXISTS",
        "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED",
        "FAILED_PRECONDITION",
        "ABORTED",
        "OUT_OF_RANGE",
        "UNIMPLEMENTED",
        "INTERNAL",
        "UNAVAILABLE",
        "DATA_LOSS",
        "UNAUTHENTICATED",
    };
    return code >= 0 && (size_t)code < ARRAY_SIZE(names) ? names[code] : NULL;
}

const char *grpc_serving_name(int status)
{
    static const char *const names[] = {"UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"};
    return status >= 0 && (size_t)status < ARRAY_SIZE(names) ? names[status] : NULL;
}

/* ---- judgement ---- */

enum check_reason grpc_judge(const struct grpc_reply *r, int *serving, char *detail, size_t cap)
{
    struct detail d;
    detail_init(&d, detail, cap);
    *serving = -1;
    if (r->http_version != 2) {
        detail_addf(&d, "not HTTP/2: the server answered in HTTP/%d", r->http_version);
        return CHECK_REASON_OTHER;
    }
    if (r->body_overflow) {
        detail_addf(&d, "response larger than %u bytes",
                    GRPC_FRAME_HEADER_BYTES + GRPC_MAX_MESSAGE_BYTES);
        return CHECK_REASON_OTHER;
    }
    if (r->http_status != 200) {
        detail_addf(&d, "HTTP status %d, not 200", r->http_status);
        return CHECK_REASON_OTHER;
    }
    if (r->grpc_status_bad) {
        detail_add(&d, "grpc-status is not a number");
        return CHECK_REASON_OTHER;
    }
    if (r->grpc_status < 0) {
        detail_add(&d, "no grpc-status in the response");
        return CHECK_REASON_OTHER;
    }
    if (r->grpc_status != 0) {
        const char *name = grpc_status_name(r->grpc_status);
        detail_addf(&d, "grpc-status %d", r->grpc_status);
        if (name)
            detail_addf(&d, " (%s)", name);
        if (r->grpc_message && r->grpc_message[0]) {
            detail_add(&d, ": ");
            detail_value(&d, r->grpc_message, strlen(r->grpc_message));
        }
        return CHECK_REASON_GRPC_STATUS;
    }
    const char *why = NULL;
    int s;
    if (grpc_health_response(r->body, r->body_len, &s, &why) != OP_OK) {
        detail_addf(&d, "malformed health response: %s", why);
        return CHECK_REASON_OTHER;
    }
    *serving = s;
    if (s != GRPC_SERVING_SERVING) {
        const char *name = grpc_serving_name(s);
        detail_addf(&d, "health status %s (%d)", name ? name : "unknown value", s);
        return CHECK_REASON_GRPC_STATUS;
    }
    return CHECK_REASON_NONE;
}
