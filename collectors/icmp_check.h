/*
 * icmp_check.h - the `icmp` check type: echo requests to one address, on
 * the probe loop, judged by how many replies came back.
 *
 * Its settings (icmp_config.c), its runs (icmp_check.c: one ICMP socket
 * per run, watched by the loop, packets sent on timer ticks) and the pure
 * pieces those runs are made of (icmp_packet.c: packets built and parsed,
 * round-trip statistics, the loss verdict), exposed for unit tests.
 */
#ifndef OUTPOST_ICMP_CHECK_H
#define OUTPOST_ICMP_CHECK_H

#include "check.h"
#include "config.h"
#include "tls_config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bounds of the settings. The payload cap keeps an IPv4 packet (20 bytes
 * of IP header, 8 of ICMP header) within 65000 bytes, well inside the
 * 65535 an IP datagram can carry. */
#define ICMP_MAX_PACKETS 100
#define ICMP_MIN_INTERVAL_MS 10
#define ICMP_HEADER_BYTES 8
#define ICMP_MAX_PAYLOAD (65000 - 20 - ICMP_HEADER_BYTES)
#define ICMP_DEFAULT_PAYLOAD 56
#define ICMP_MAX_TTL 255
/* max_loss_ratio unset: a run fails for loss only when every packet is
 * lost (ping's own exit rule), whatever the number of packets. */
#define ICMP_LOSS_ALL (-1.0)

/* The settings of one icmp check (check_spec.spec). */
struct icmp_spec {
    char *host;                 /* `target` as written: an IP literal or a host name */
    int64_t packets;            /* 1 .. ICMP_MAX_PACKETS */
    int64_t packet_interval_ms; /* between two sends, >= ICMP_MIN_INTERVAL_MS */
    int ip_protocol;            /* enum ip_proto */
    bool ip_protocol_fallback;
    int64_t payload_size;  /* bytes after the ICMP header, 0 .. ICMP_MAX_PAYLOAD */
    double max_loss_ratio; /* 0 .. 1, or ICMP_LOSS_ALL */
    int64_t ttl;           /* hop limit of the requests; 0: the system's */
    bool dont_fragment;
    uint64_t seen; /* keys present, while parsing only */
};

/* The type's settings; c must be an icmp check. Borrowed. */
const struct icmp_spec *icmp_spec_of(const struct check_spec *c);

/* What an icmp run adds to its result (check_result.tail), for
 * blackbox_exporter's /probe: plain data. */
struct icmp_tail {
    int ip_protocol;         /* 4 or 6 of the address probed, 0 if none */
    unsigned sent, received; /* echo requests sent, matching replies received */
    double rtt;              /* seconds from the first reply's request to it; 0 if none */
    double setup;            /* seconds to set the socket up (phase connect) */
    int reply_hop_limit;     /* TTL / hop limit of the first reply, -1 when unknown */
};

/* The gauge rows of check_type.gauges, in order. */
enum icmp_gauge {
    ICMP_GAUGE_RTT_MIN,
    ICMP_GAUGE_RTT_AVG,
    ICMP_GAUGE_RTT_MAX,
    ICMP_GAUGE_RTT_STDDEV,
    ICMP_GAUGE_LOST,
    ICMP_GAUGE_COUNT,
};

extern const struct check_schema icmp_schema;
extern const struct check_type icmp_check_type;

/* ---- pure pieces (icmp_packet.c) ---- */

/* Bytes of the payload that mark a run's packets (a random cookie per
 * run): a reply that does not echo them is someone else's. */
#define ICMP_COOKIE_BYTES 8

/* The Internet checksum (RFC 1071) of len bytes, in network order as it
 * is stored in a header. */
uint16_t icmp_checksum(const void *data, size_t len);

/* An echo request of family (AF_INET or AF_INET6) into pkt, which holds
 * ICMP_HEADER_BYTES + payload bytes: id and seq, the payload drawn from
 * cookie. with_checksum: fill the ICMPv4 checksum (raw IPv4 sockets;
 * the kernel does it for datagram sockets and for every ICMPv6 socket). */
void icmp_build_echo(uint8_t *pkt, size_t payload, int family, uint16_t id, uint16_t seq,
                     const uint8_t cookie[ICMP_COOKIE_BYTES], bool with_checksum);

/* What one received packet is to a run. */
enum icmp_kind {
    ICMP_FOREIGN, /* not about our requests: ignored */
    ICMP_REPLY,   /* the echo reply to our request seq */
    ICMP_ERROR,   /* an ICMP error (unreachable, time exceeded) quoting our request seq */
};

struct icmp_parsed {
    enum icmp_kind kind;
    uint16_t seq;
    uint8_t type, code; /* of the ICMP message (an error's type and code) */
    int ttl;            /* from the IPv4 header when the packet had one, else -1 */
};

/* Classify a packet read from a socket of family. ip_header: it starts
 * with the IPv4 header (raw IPv4 sockets). A reply counts only with our
 * id, and a payload of `payload` bytes that starts with the cookie (as
 * much of it as the payload holds); an error only when it quotes an echo
 * request with our id. Never reads beyond len. */
void icmp_parse(const uint8_t *pkt, size_t len, int family, bool ip_header, uint16_t id,
                const uint8_t cookie[ICMP_COOKIE_BYTES], size_t payload, struct icmp_parsed *out);

/* Statistics of n round-trip times (seconds): population standard
 * deviation, as ping's mdev; all NaN when n is 0. */
struct icmp_stats {
    double min, avg, max, stddev;
};
void icmp_rtt_stats(const double *rtt, size_t n, struct icmp_stats *out);

/* True when a run of `packets` requests with `received` replies fails for
 * loss under max_loss_ratio (a share, or ICMP_LOSS_ALL): the lost share
 * is greater than the ratio. */
bool icmp_loss_fails(unsigned packets, unsigned received, double max_loss_ratio);

/* The words of an ICMP error (type, code) of family, e.g. "host
 * unreachable"; static. */
const char *icmp_error_text(int family, uint8_t type, uint8_t code);

#endif
