#!/bin/sh
# `make run`: start the demo target (HTTP and HTTPS) and the agent on
# config/demo.yml in the foreground. Ctrl-C stops everything.
set -eu
BUILD=${1:-build}
DEMO="$BUILD/demo"
mkdir -p "$DEMO"
if [ ! -f "$DEMO/cert.pem" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$DEMO/key.pem" -out "$DEMO/cert.pem" \
        -days 30 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
fi
"$BUILD/outpost-target" --listen 127.0.0.1:18080 >/dev/null 2>>"$DEMO/target.log" &
http_pid=$!
"$BUILD/outpost-target" --listen 127.0.0.1:18443 --tls-cert "$DEMO/cert.pem" \
    --tls-key "$DEMO/key.pem" >/dev/null 2>>"$DEMO/target.log" &
https_pid=$!
# A resolver for the dns check and a gRPC health server for the grpc check.
dnsmasq --no-daemon --conf-file=/dev/null --no-resolv --no-hosts --pid-file= \
    --listen-address=127.0.0.1 --bind-interfaces --port=18053 \
    --address=/demo.outpost/127.0.0.1 2>>"$DEMO/dnsmasq.log" &
dns_pid=$!
/usr/bin/python3 tests/support/grpc_health_server.py --port 18051 --status "=SERVING" \
    --status demo.Cart=SERVING --status demo.Search=NOT_SERVING >/dev/null \
    2>>"$DEMO/grpc.log" &
grpc_pid=$!
trap 'kill $http_pid $https_pid $dns_pid $grpc_pid 2>/dev/null || true' EXIT INT TERM
echo "outpost demo: targets on 127.0.0.1:18080 and :18443, DNS :18053, gRPC :18051"
echo "outpost demo: blackbox-style probe at http://localhost:9469/probe?module=http_2xx&target=http://127.0.0.1:18080/ok"
echo "outpost demo: canary gate at http://localhost:9469/gates/argo/api-rollout, SLO gate at http://localhost:9469/gates/argo/slo/slow-latency"
echo "outpost demo: maintenance windows at http://localhost:9469/api/v1/maintenance needs credentials; see outpost_maintenance_active on /metrics"
echo "outpost demo: audit log $DEMO/data/audit.jsonl (check it: $BUILD/outpost audit verify $DEMO/data/audit.jsonl)"
echo "outpost demo: status page at http://localhost:9469/status (JSON: /api/v1/status)"
echo "outpost demo: metrics at http://localhost:9469/metrics (Ctrl-C stops)"
"$BUILD/outpost" --config.file=config/demo.yml --web.listen-address=:9469 \
    --storage.path="$DEMO/data"
