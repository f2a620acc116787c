/* listener.c - listening sockets for the HTTP server (listener.h). */
#include "listener.h"
#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum op_rc listener_split_address(const char *addr, char *host_out, char *port_out)
{
    const char *colon;
    host_out[0] = '\0';
    if (addr[0] == '[') {
        const char *close = strchr(addr, ']');
        if (!close || close[1] != ':' || (size_t)(close - addr - 1) >= 256)
            return OP_ERR_INVALID;
        memcpy(host_out, addr + 1, (size_t)(close - addr - 1));
        host_out[close - addr - 1] = '\0';
        colon = close + 1;
    } else {
        colon = strrchr(addr, ':');
        if (!colon || (size_t)(colon - addr) >= 256)
            return OP_ERR_INVALID;
        memcpy(host_out, addr, (size_t)(colon - addr));
        host_out[colon - addr] = '\0';
        if (strchr(host_out, ':'))
            return OP_ERR_INVALID; /* bare IPv6 needs brackets */
    }
    const char *port = colon + 1;
    if (*port < '0' || *port > '9')
        return OP_ERR_INVALID; /* strtol would accept a sign or spaces */
    char *end;
    errno = 0;
    long p = strtol(port, &end, 10);
    if (errno || end == port || *end || p < 0 || p > 65535)
        return OP_ERR_INVALID;
    snprintf(port_out, 16, "%ld", p);
    return OP_OK;
}

enum op_rc listener_check_address(const char *addr)
{
    char host[256], port[16];
    return listener_split_address(addr, host, port);
}

int listener_open(const char *addr, int *port_out)
{
    char host[256], port[16];
    if (listener_split_address(addr, host, port) != OP_OK) {
        log_error("bad listen address (use host:port, :port or [v6]:port)", "address", addr);
        return -1;
    }
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int fd = -1;
    if (!host[0]) {
        /* All interfaces: one dual-stack IPv6 socket, or IPv4 when the
         * host has no IPv6. */
        hints.ai_family = AF_INET6;
        if (getaddrinfo(NULL, port, &hints, &res) != 0) {
            hints.ai_family = AF_INET;
            res = NULL;
        }
    }
    if (!res) {
        int gai = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
        if (gai != 0) {
            log_error("cannot resolve listen address", "address", addr, "err", gai_strerror(gai));
            return -1;
        }
    }
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        int one = 1, zero = 0;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (ai->ai_family == AF_INET6 && !host[0])
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 128) != 0) {
            log_error("cannot listen", "address", addr, "err", strerror(errno));
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        return -1;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    *port_out = 0;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        *port_out = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                   : ((struct sockaddr_in *)&ss)->sin_port);
    return fd;
}

void listener_describe(const char *addr, int port, char *out, size_t cap)
{
    char host[256], p[16];
    if (listener_split_address(addr, host, p) != OP_OK)
        host[0] = '\0';
    snprintf(out, cap, "%s%s%s:%d", strchr(host, ':') ? "[" : "", host,
             strchr(host, ':') ? "]" : "", port);
}
