/*
 * tls_config.h - the `tls:` settings every check type that speaks TLS
 * shares (http, flow steps, tcp, grpc): which CA store verifies the
 * server, the client certificate, the name to verify, and the address
 * family a target's name resolves to.
 */
#ifndef OUTPOST_TLS_CONFIG_H
#define OUTPOST_TLS_CONFIG_H

#include <stdbool.h>
#include <yaml.h>

struct cfg_parser;
struct castore;

/* Which addresses of a target's name are used; order as the config names
 * them (tls_ip_proto_names: "ip4, ip6, auto"). */
enum ip_proto { IP_PROTO_4, IP_PROTO_6, IP_PROTO_AUTO };
extern const char *const tls_ip_proto_names[]; /* NULL-terminated, for CFG_ENUM */

struct tls_spec {
    char *ca_file, *cert_file, *key_file, *server_name; /* NULL when unset */
    bool insecure_skip_verify;
    /* What the server is verified with (castore.h): ca_file's store, else
     * the system default store; NULL with insecure_skip_verify. Held by
     * the spec. */
    struct castore *ca;
};

/* Parse the `tls:` mapping v into t (zeroed, or holding earlier values,
 * by the caller): every TLS file must be a readable regular file now, and
 * ca_file is loaded into its shared store. False when v is not a mapping;
 * other problems are reported through p and parsing goes on. */
bool tls_spec_parse(struct cfg_parser *p, yaml_node_t *v, const char *path, struct tls_spec *t);
/* After every key: rules across keys (cert_file and key_file together),
 * reported at n; and the system store when nothing else verifies. */
void tls_spec_finish(struct cfg_parser *p, const yaml_node_t *n, const char *path,
                     struct tls_spec *t);
/* Free what t holds (not t itself). */
void tls_spec_free(struct tls_spec *t);

#endif
