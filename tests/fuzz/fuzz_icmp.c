/* libFuzzer target: a packet read from an ICMP socket (input from any host
 * on the path, and on raw sockets from every echo reply the host gets):
 * the classification into our reply, an error quoting our request, or a
 * foreign packet. The first byte picks the socket kind (bit 0: IPv6, bit
 * 1: a raw IPv4 socket's packet with its IP header), the second the
 * payload size the run sent; the rest is the packet. */
#include "icmp_check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    static const uint8_t cookie[ICMP_COOKIE_BYTES] = {'o', 'u', 't', 'p', 'o', 's', 't', '!'};
    int family = data[0] & 1 ? AF_INET6 : AF_INET;
    bool ip_header = family == AF_INET && (data[0] & 2);
    size_t payload = data[1];
    /* An exact-size copy, so a read past the packet is caught. */
    size_t len = size - 2;
    uint8_t *pkt = malloc(len ? len : 1);
    if (!pkt)
        return 0;
    memcpy(pkt, data + 2, len);
    struct icmp_parsed out;
    icmp_parse(pkt, len, family, ip_header, 0x1234, cookie, payload, &out);
    if (out.kind != ICMP_FOREIGN && out.kind != ICMP_REPLY && out.kind != ICMP_ERROR)
        abort();
    if (out.kind == ICMP_ERROR)
        (void)icmp_error_text(family, out.type, out.code);
    free(pkt);
    return 0;
}
