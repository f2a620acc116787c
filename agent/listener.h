/*
 * listener.h - the HTTP server's listening sockets: --web.listen-address
 * parsed, bound and listening before libmicrohttpd takes them.
 */
#ifndef OUTPOST_LISTENER_H
#define OUTPOST_LISTENER_H

#include "common.h"

#include <stddef.h>

/* Split a listen address into host (empty for all interfaces) and port.
 * host_out must hold 256 bytes, port_out 16. */
enum op_rc listener_split_address(const char *addr, char *host_out, char *port_out) WUR;

/* OP_OK when addr is a listen address listener_open accepts the form of
 * (whether it can be bound is only known then): for flag parsing. */
enum op_rc listener_check_address(const char *addr) WUR;

/* Bind and listen on addr ("host:port", ":port", "[v6]:port"; ":port" is
 * one dual-stack socket when the host has IPv6); *port_out gets the real
 * port (port 0 picks one). Returns the socket (the caller closes it) or -1,
 * logged. */
int listener_open(const char *addr, int *port_out);

/* "host:port" as bound, for logs: IPv6 hosts in brackets. */
void listener_describe(const char *addr, int port, char *out, size_t cap);

#endif
