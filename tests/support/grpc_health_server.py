#!/usr/bin/python3
"""A gRPC health server for tests: grpc.health.v1.Health/Check answered from
a fixed table of per-service statuses, with hand-encoded protobuf (Debian's
python3-grpcio has no grpc_health module and no generated messages).

    grpc_health_server.py [--tls CERT KEY] [--status SERVICE=STATUS]...

STATUS is SERVING, NOT_SERVING, UNKNOWN or SERVICE_UNKNOWN; SERVICE may be
empty ("=SERVING" is the server as a whole). A service not in the table is
answered with gRPC status NOT_FOUND (5), as grpc's own health servicer
does. Binds 127.0.0.1 on a port the kernel picks and prints
"listening on PORT"; stops on SIGTERM.
"""
import argparse
import signal
import sys
import threading

import grpc

STATUSES = {"UNKNOWN": 0, "SERVING": 1, "NOT_SERVING": 2, "SERVICE_UNKNOWN": 3}


def read_varint(b, i):
    v, shift = 0, 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << shift
        if not c & 0x80:
            return v, i
        shift += 7


def decode_request(b):
    """HealthCheckRequest{string service = 1} -> service name."""
    i, service = 0, ""
    while i < len(b):
        key, i = read_varint(b, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            _, i = read_varint(b, i)
        elif wire == 2:
            n, i = read_varint(b, i)
            if field == 1:
                service = b[i:i + n].decode()
            i += n
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        else:
            raise ValueError("wire type")
    return service


def encode_response(status):
    """HealthCheckResponse{ServingStatus status = 1}."""
    return b"" if status == 0 else bytes([0x08, status])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    ap.add_argument("--status", action="append", default=[])
    ap.add_argument("--port", type=int, default=0, help="0: one the kernel picks")
    args = ap.parse_args()
    table = {}
    for s in args.status:
        name, _, st = s.partition("=")
        table[name] = STATUSES[st]

    def check(request, context):
        service = decode_request(request)
        if service not in table:
            context.abort(grpc.StatusCode.NOT_FOUND, "unknown service")
        return encode_response(table[service])

    handler = grpc.method_handlers_generic_handler("grpc.health.v1.Health", {
        "Check": grpc.unary_unary_rpc_method_handler(
            check, request_deserializer=None, response_serializer=None),
    })
    from concurrent import futures
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((handler,))
    if args.tls:
        with open(args.tls[0], "rb") as f:
            cert = f.read()
        with open(args.tls[1], "rb") as f:
            key = f.read()
        creds = grpc.ssl_server_credentials([(key, cert)])
        port = server.add_secure_port(f"127.0.0.1:{args.port}", creds)
    else:
        port = server.add_insecure_port(f"127.0.0.1:{args.port}")
    server.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(f"listening on {port}", flush=True)
    stop.wait()
    server.stop(0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
