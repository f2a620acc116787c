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
trap 'kill $http_pid $https_pid 2>/dev/null || true' EXIT INT TERM
echo "outpost demo: targets on 127.0.0.1:18080 and :18443"
echo "outpost demo: metrics at http://localhost:9469/metrics (Ctrl-C stops)"
"$BUILD/outpost" --config.file=config/demo.yml --web.listen-address=:9469 \
    --storage.path="$DEMO/data"
