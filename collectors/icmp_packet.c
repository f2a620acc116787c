/*
 * icmp_packet.c - the pure pieces of the icmp type: echo requests built,
 * packets read back and sorted into ours and foreign, round-trip
 * statistics and the loss verdict. No sockets, no clock: unit-tested as
 * they are.
 */
#include "icmp_check.h"

#include <math.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

/* ICMP message types (RFC 792, RFC 4443) this file needs; spelled out so
 * IPv4 and IPv6 read alike. */
#define V4_ECHO_REPLY 0
#define V4_UNREACH 3
#define V4_ECHO 8
#define V4_TIME_EXCEEDED 11
#define V6_UNREACH 1
#define V6_TOO_BIG 2
#define V6_TIME_EXCEEDED 3
#define V6_ECHO 128
#define V6_ECHO_REPLY 129
#define IP6_HEADER_BYTES 40

uint16_t icmp_checksum(const void *data, size_t len)
{
    const uint8_t *p = data;
    uint32_t sum = 0;
    /* Sum of big-endian 16-bit words, an odd last byte padded with zero. */
    for (; len > 1; p += 2, len -= 2)
        sum += (uint32_t)p[0] << 8 | p[1];
    if (len)
        sum += (uint32_t)p[0] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return htons((uint16_t)~sum);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* Byte i of a run's payload: the cookie, repeated with a counter mixed
 * in, so a reply that came back altered is not taken for ours. */
static uint8_t payload_byte(const uint8_t cookie[ICMP_COOKIE_BYTES], size_t i)
{
    return (uint8_t)(cookie[i % ICMP_COOKIE_BYTES] ^ (i / ICMP_COOKIE_BYTES));
}

void icmp_build_echo(uint8_t *pkt, size_t payload, int family, uint16_t id, uint16_t seq,
                     const uint8_t cookie[ICMP_COOKIE_BYTES], bool with_checksum)
{
    pkt[0] = family == AF_INET6 ? V6_ECHO : V4_ECHO;
    pkt[1] = 0;
    put16(pkt + 2, 0);
    put16(pkt + 4, id);
    put16(pkt + 6, seq);
    for (size_t i = 0; i < payload; i++)
        pkt[ICMP_HEADER_BYTES + i] = payload_byte(cookie, i);
    if (with_checksum) {
        uint16_t sum = icmp_checksum(pkt, ICMP_HEADER_BYTES + payload);
        memcpy(pkt + 2, &sum, sizeof(sum));
    }
}

/* The IPv4 header at p (len bytes): its length, or 0 when it is not one. */
static size_t ip4_header_len(const uint8_t *p, size_t len)
{
    if (len < 20 || (p[0] >> 4) != 4)
        return 0;
    size_t ihl = (size_t)(p[0] & 0x0f) * 4;
    return ihl >= 20 && ihl <= len ? ihl : 0;
}

static bool is_error(int family, uint8_t type)
{
    if (family == AF_INET6)
        return type == V6_UNREACH || type == V6_TOO_BIG || type == V6_TIME_EXCEEDED;
    return type == V4_UNREACH || type == V4_TIME_EXCEEDED;
}

void icmp_parse(const uint8_t *pkt, size_t len, int family, bool ip_header, uint16_t id,
                const uint8_t cookie[ICMP_COOKIE_BYTES], size_t payload, struct icmp_parsed *out)
{
    *out = (struct icmp_parsed){.kind = ICMP_FOREIGN, .ttl = -1};
    if (ip_header) {
        size_t ihl = ip4_header_len(pkt, len);
        if (!ihl)
            return;
        out->ttl = pkt[8];
        pkt += ihl;
        len -= ihl;
    }
    if (len < ICMP_HEADER_BYTES)
        return;
    out->type = pkt[0];
    out->code = pkt[1];
    uint8_t reply = family == AF_INET6 ? V6_ECHO_REPLY : V4_ECHO_REPLY;
    if (pkt[0] == reply) {
        /* Raw sockets see every echo reply of the host: id, the whole
         * payload's length and the cookie make it ours. */
        if (get16(pkt + 4) != id || len - ICMP_HEADER_BYTES != payload)
            return;
        size_t n = payload < ICMP_COOKIE_BYTES ? payload : ICMP_COOKIE_BYTES;
        for (size_t i = 0; i < n; i++)
            if (pkt[ICMP_HEADER_BYTES + i] != payload_byte(cookie, i))
                return;
        out->seq = get16(pkt + 6);
        out->kind = ICMP_REPLY;
        return;
    }
    if (!is_error(family, pkt[0]))
        return;
    /* An error quotes the offending packet: its IP header and at least the
     * 8 bytes of our ICMP header. */
    const uint8_t *q = pkt + ICMP_HEADER_BYTES;
    size_t qlen = len - ICMP_HEADER_BYTES;
    size_t qhl;
    if (family == AF_INET6)
        qhl = qlen >= IP6_HEADER_BYTES && (q[0] >> 4) == 6 && q[6] == IPPROTO_ICMPV6
                  ? IP6_HEADER_BYTES
                  : 0;
    else
        qhl = ip4_header_len(q, qlen) && q[9] == IPPROTO_ICMP ? ip4_header_len(q, qlen) : 0;
    if (!qhl || qlen - qhl < ICMP_HEADER_BYTES)
        return;
    q += qhl;
    if (q[0] != (family == AF_INET6 ? V6_ECHO : V4_ECHO) || get16(q + 4) != id)
        return;
    out->seq = get16(q + 6);
    out->kind = ICMP_ERROR;
}

void icmp_rtt_stats(const double *rtt, size_t n, struct icmp_stats *out)
{
    if (n == 0) {
        *out = (struct icmp_stats){NAN, NAN, NAN, NAN};
        return;
    }
    double sum = 0, lo = rtt[0], hi = rtt[0];
    for (size_t i = 0; i < n; i++) {
        sum += rtt[i];
        lo = rtt[i] < lo ? rtt[i] : lo;
        hi = rtt[i] > hi ? rtt[i] : hi;
    }
    double avg = sum / (double)n, sq = 0;
    /* Two passes: the sum of squared deviations never cancels the way
     * mean(x^2) - mean(x)^2 does for close values. */
    for (size_t i = 0; i < n; i++)
        sq += (rtt[i] - avg) * (rtt[i] - avg);
    *out = (struct icmp_stats){lo, avg, hi, sqrt(sq / (double)n)};
}

bool icmp_loss_fails(unsigned packets, unsigned received, double max_loss_ratio)
{
    if (received >= packets)
        return false;
    if (max_loss_ratio < 0)
        return received == 0;
    return (double)(packets - received) / (double)packets > max_loss_ratio;
}

const char *icmp_error_text(int family, uint8_t type, uint8_t code)
{
    if (family == AF_INET6) {
        if (type == V6_TIME_EXCEEDED)
            return "hop limit exceeded";
        if (type == V6_TOO_BIG)
            return "packet too big";
        switch (code) {
        case 0:
            return "no route to destination";
        case 1:
            return "communication administratively prohibited";
        case 3:
            return "address unreachable";
        case 4:
            return "port unreachable";
        default:
            return "destination unreachable";
        }
    }
    if (type == V4_TIME_EXCEEDED)
        return "time to live exceeded";
    switch (code) {
    case 0:
        return "network unreachable";
    case 1:
        return "host unreachable";
    case 3:
        return "port unreachable";
    case 4:
        return "fragmentation needed";
    case 9:
    case 10:
    case 13:
        return "communication administratively prohibited";
    default:
        return "destination unreachable";
    }
}
