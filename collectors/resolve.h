/*
 * resolve.h - host names to one address, on the probe loop, without
 * blocking: c-ares (ares_getaddrinfo) whose sockets and timeouts are the
 * loop's descriptors and timers (probe_watch_fd, probe_timer_at), never a
 * thread and never getaddrinfo(3).
 *
 * Which address is chosen follows blackbox_exporter's
 * preferred_ip_protocol / ip_protocol_fallback: with IP_PROTO_4 or
 * IP_PROTO_6 the preferred family's first address, the other family's only
 * when the name has none of the preferred and fallback is true;
 * IP_PROTO_AUTO the first address the resolver gives (RFC 6724 order, as
 * getaddrinfo(3)). An IP literal ("192.0.2.1", "::1", "[::1]") is its own
 * answer without any query, under the same family rule, and so is
 * "localhost" (RFC 6761: 127.0.0.1, ::1 with IP_PROTO_6).
 *
 * Everything here runs on the probe thread.
 */
#ifndef OUTPOST_RESOLVE_H
#define OUTPOST_RESOLVE_H

#include "check.h"
#include "common.h"
#include "tls_config.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* The longest host name accepted (RFC 1035's 253, with room for brackets). */
#define RESOLVE_MAX_HOST 255

/*
 * Split a check's target into host and port, the one rule of the tcp,
 * grpc, dns and icmp types:
 *   default_port == 0  "host:port" and "[IPv6]:port" (a port is required);
 *   default_port > 0   also "host", "[IPv6]" and a bare IPv6 address, whose
 *                      port is default_port;
 *   default_port < 0   a host alone: no port, no brackets (icmp).
 * The host is an IP address or a host name (letters, digits, '-', '.',
 * '_'; not starting with '.' or '-', no empty label; at most
 * RESOLVE_MAX_HOST bytes); brackets hold only an IPv6 address. On true
 * *host is the caller's to free (without brackets) and *port the port (0
 * when default_port < 0; port may be NULL when unwanted). On false *host
 * is NULL and *why (static) says what is wrong, worded to follow the
 * quoted target: `"a:b:1": an IPv6 address goes in brackets: [::1]:port`.
 */
bool resolve_split_target(const char *s, int default_port, char **host, int *port,
                          const char **why) WUR;

struct resolve_req;

/*
 * The one answer of a request. rc OP_OK: addr/len hold the address chosen
 * (port 0; AF_INET or AF_INET6); seconds is the lookup time (0 for an IP
 * literal). Otherwise no address, and detail says why in one clean line:
 *   OP_ERR_NOT_FOUND  "no such host", "no IPv6 address for localhost"
 *   OP_ERR_LIMIT      "timeout" (deadline_ns passed, or every server timed out)
 *   OP_ERR_INVALID    "bad host name"
 *   OP_ERR_IO         the resolver failed otherwise ("server failure", ...)
 *   OP_ERR_SYSTEM     c-ares could not be set up
 * addr and detail are borrowed for the call. Runs once, on the probe
 * thread, never inside resolve_start; the request is freed after it
 * returns (the callback must not cancel it).
 */
typedef void (*resolve_cb)(struct probe_loop *loop, enum op_rc rc, const struct sockaddr *addr,
                           socklen_t len, double seconds, const char *detail, void *arg);

/*
 * Start resolving host (borrowed; copied) on loop. deadline_ns (the loop's
 * clock) ends the lookup with OP_ERR_LIMIT "timeout" if it is still going.
 * On OP_OK *out is the request, live until cb has run or resolve_cancel;
 * every outcome, failures included, comes through cb. On an error return
 * (OP_ERR_SYSTEM: the loop refused a timer) nothing was started and cb
 * never runs.
 */
enum op_rc resolve_start(struct probe_loop *loop, const char *host, enum ip_proto proto,
                         bool fallback, int64_t deadline_ns, resolve_cb cb, void *arg,
                         struct resolve_req **out) WUR;

/* Abandon r (before its cb ran): sockets, timers and memory released, cb
 * will not run. NULL is a no-op. */
void resolve_cancel(struct probe_loop *loop, struct resolve_req *r);

/* c-ares' process-wide set-up (ares_library_init is refcounted): every
 * check type that resolves calls these from its global_init/global_fini. */
enum op_rc resolve_global_init(void) WUR;
void resolve_global_fini(void);

#ifdef OUTPOST_TESTING
/* Ask these DNS servers ("127.0.0.1:5353", c-ares' CSV form) instead of
 * resolv.conf's, for requests started afterwards; NULL restores. Tests
 * only: a hermetic DNS server. */
void resolve_test_servers(const char *csv);
#endif

#endif
