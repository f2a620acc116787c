#!/bin/sh
# `make run`: the demo. Starts the demo target (HTTP and HTTPS), a dnsmasq resolver, a gRPC
# health server, an Alertmanager and a Prometheus (each of those two when its Debian package
# is installed) and the agent on config/demo.yml, all on 127.0.0.1; prints every URL worth
# opening once the agent is ready; Ctrl-C (or SIGTERM) stops every process it started.
#
#   tests/support/run-demo.sh [BUILD]      BUILD: the build directory (default build)
#
# Environment, for running it beside another copy (tests/integration/test_demo.py does):
#   DEMO_DIR          state, logs and the configurations it runs (default BUILD/demo)
#   DEMO_AGENT_PORT   9469     DEMO_HTTP_PORT   18080    DEMO_HTTPS_PORT  18443
#   DEMO_DNS_PORT     18053    DEMO_GRPC_PORT   18051    DEMO_AM_PORT     19093
#   DEMO_PROM_PORT    19090
# The shipped files (config/demo.yml, config/demo-prometheus.yml,
# config/demo-alertmanager.yml) name the default ports; what runs is a copy in DEMO_DIR
# with these ports in their place. When one of the ports is taken, nothing is started.
set -eu
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DEMO=${DEMO_DIR:-$BUILD/demo}
AGENT_PORT=${DEMO_AGENT_PORT:-9469}
HTTP_PORT=${DEMO_HTTP_PORT:-18080}
HTTPS_PORT=${DEMO_HTTPS_PORT:-18443}
DNS_PORT=${DEMO_DNS_PORT:-18053}
GRPC_PORT=${DEMO_GRPC_PORT:-18051}
AM_PORT=${DEMO_AM_PORT:-19093}
PROM_PORT=${DEMO_PROM_PORT:-19090}
AGENT=http://127.0.0.1:$AGENT_PORT
for spec in "AGENT:$AGENT_PORT" "HTTP:$HTTP_PORT" "HTTPS:$HTTPS_PORT" "DNS:$DNS_PORT" \
    "GRPC:$GRPC_PORT" "AM:$AM_PORT" "PROM:$PROM_PORT"; do
    case "${spec#*:}" in
    '' | *[!0-9]*)
        echo "outpost demo: DEMO_${spec%%:*}_PORT must be a port number, not \"${spec#*:}\""
        exit 2
        ;;
    esac
done
for bin in outpost outpost-target; do
    if [ ! -x "$BUILD/$bin" ]; then
        echo "outpost demo: $BUILD/$bin is not built; make run builds it (BUILD=$BUILD)"
        exit 1
    fi
done
mkdir -p "$DEMO"

# Every process started here, stopped by stop_all on any exit: SIGTERM, up to 10 s to go,
# then SIGKILL. An exited child stays a zombie until it is waited for, so "gone" means no
# /proc entry or state Z.
pids=""
alive() {
    [ -r "/proc/$1/stat" ] || return 1
    st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    case "$st" in *") Z "*) return 1 ;; esac
    return 0
}
# shellcheck disable=SC2317 # called by the EXIT trap
stop_all() {
    # A second Ctrl-C while waiting here must not leave the rest running.
    trap - EXIT
    trap '' INT TERM HUP
    # A signal that comes while start forks runs its trap before `pids=` records the new
    # process: every child of this shell is stopped too, or the wait below would wait on it
    # for ever.
    for d in /proc/[0-9]*; do
        read -r st 2>/dev/null <"$d/stat" || continue
        # shellcheck disable=SC2086 # the fields after the command's name
        set -- ${st##*") "}
        if [ "${2:-}" = "$$" ]; then pids="$pids ${d#/proc/}"; fi
    done
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    n=0
    while [ "$n" -lt 100 ]; do
        left=""
        for p in $pids; do if alive "$p"; then left="$left $p"; fi; done
        [ -z "$left" ] && break
        sleep 0.1
        n=$((n + 1))
    done
    for p in $left; do kill -9 "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# start LOG CMD...: CMD in the background, stdout and stderr appended to DEMO/LOG.
start() {
    log=$1
    shift
    "$@" >>"$DEMO/$log" 2>&1 &
    pids="$pids $!"
}

# demo_copy SRC DST: SRC with the ports of this run and the rule files' absolute path.
# Each default port becomes a marker first, then its port: in one pass of plain
# substitutions, DEMO_AGENT_PORT=18080 would be rewritten again as the HTTP port.
root_sed=$(printf '%s\n' "$ROOT" | sed 's/[\\|&]/\\&/g')
demo_copy() {
    sed -e 's/:9469\([^0-9]\|$\)/:@AGENT@\1/g' -e 's/:18080\([^0-9]\|$\)/:@HTTP@\1/g' \
        -e 's/:18443\([^0-9]\|$\)/:@HTTPS@\1/g' -e 's/:18053\([^0-9]\|$\)/:@DNS@\1/g' \
        -e 's/:18051\([^0-9]\|$\)/:@GRPC@\1/g' -e 's/:19093\([^0-9]\|$\)/:@AM@\1/g' \
        -e 's/:19090\([^0-9]\|$\)/:@PROM@\1/g' \
        -e "s/:@AGENT@/:$AGENT_PORT/g; s/:@HTTP@/:$HTTP_PORT/g; s/:@HTTPS@/:$HTTPS_PORT/g" \
        -e "s/:@DNS@/:$DNS_PORT/g; s/:@GRPC@/:$GRPC_PORT/g; s/:@AM@/:$AM_PORT/g" \
        -e "s/:@PROM@/:$PROM_PORT/g" -e "s|\.\./rules/|$root_sed/rules/|g" "$1" >"$2"
}

# Every port of this run must be free before anything starts: one held by something else
# (another demo, an installed agent on :9469) would answer in place of what runs here, the
# banner pointing at it, or leave a helper dead with only its log saying why.
dnsmasq=$(command -v dnsmasq || echo /usr/sbin/dnsmasq)
want="AGENT:$AGENT_PORT:tcp HTTP:$HTTP_PORT:tcp HTTPS:$HTTPS_PORT:tcp GRPC:$GRPC_PORT:tcp"
if [ -x "$dnsmasq" ]; then want="$want DNS:$DNS_PORT:tcp,udp"; fi
if command -v prometheus-alertmanager >/dev/null 2>&1; then want="$want AM:$AM_PORT:tcp"; fi
if command -v prometheus >/dev/null 2>&1; then want="$want PROM:$PROM_PORT:tcp"; fi
# shellcheck disable=SC2086 # one argument per port
busy=$(/usr/bin/python3 -c '
import socket, sys
seen = {}
for spec in sys.argv[1:]:
    name, port, kinds = spec.split(":")
    if port in seen:
        print(f"  127.0.0.1:{port} is both DEMO_{seen[port]}_PORT and DEMO_{name}_PORT")
        continue
    seen[port] = name
    for kind in kinds.split(","):
        udp = kind == "udp"
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if udp else socket.SOCK_STREAM)
        if not udp:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", int(port)))
        except OSError as e:
            print(f"  127.0.0.1:{port} ({kind}, DEMO_{name}_PORT): {e.strerror}")
            break
        finally:
            s.close()
' $want)
if [ -n "$busy" ]; then
    cat <<EOF
outpost demo: not started, a port it needs is taken:
$busy
Stop what holds it (another make run? an installed outpost?), or give the demo other
ports, e.g. DEMO_AGENT_PORT=9470 make run (DEMO_HTTP_PORT, DEMO_HTTPS_PORT, DEMO_DNS_PORT,
DEMO_GRPC_PORT, DEMO_AM_PORT, DEMO_PROM_PORT likewise).
EOF
    exit 1
fi

# A certificate for the HTTPS target, renewed a day before it expires.
if ! openssl x509 -checkend 86400 -noout -in "$DEMO/cert.pem" >/dev/null 2>&1; then
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$DEMO/key.pem" -out "$DEMO/cert.pem" \
        -days 30 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
fi
start target.log "$BUILD/outpost-target" --listen "127.0.0.1:$HTTP_PORT"
start target.log "$BUILD/outpost-target" --listen "127.0.0.1:$HTTPS_PORT" \
    --tls-cert "$DEMO/cert.pem" --tls-key "$DEMO/key.pem"

# A resolver for the dns check and a gRPC health server for the grpc checks.
if [ -x "$dnsmasq" ]; then
    start dnsmasq.log "$dnsmasq" --no-daemon --conf-file=/dev/null --no-resolv --no-hosts \
        --pid-file= --listen-address=127.0.0.1 --bind-interfaces --port="$DNS_PORT" \
        --address=/demo.outpost/127.0.0.1
else
    echo "outpost demo: dnsmasq is not installed (Debian dnsmasq-base): the dns check fails"
fi
start grpc.log /usr/bin/python3 "$ROOT/tests/support/grpc_health_server.py" --port "$GRPC_PORT" \
    --status "=SERVING" --status demo.Cart=SERVING --status demo.Search=NOT_SERVING

# Alertmanager receives the agent's alerts and Prometheus'; Prometheus scrapes the agent.
# Neither is waited for: the agent retries Alertmanager, and Prometheus is ready a few
# seconds later.
am=""
if command -v prometheus-alertmanager >/dev/null 2>&1; then
    am=http://127.0.0.1:$AM_PORT
    demo_copy "$ROOT/config/demo-alertmanager.yml" "$DEMO/alertmanager.yml"
    start alertmanager.log prometheus-alertmanager --config.file="$DEMO/alertmanager.yml" \
        --storage.path="$DEMO/alertmanager" --web.listen-address="127.0.0.1:$AM_PORT" \
        --cluster.listen-address=
else
    echo "outpost demo: prometheus-alertmanager is not installed: no Alertmanager (the agent's alerts are on /status)"
fi
prom=""
if command -v prometheus >/dev/null 2>&1; then
    prom=http://127.0.0.1:$PROM_PORT
    demo_copy "$ROOT/config/demo-prometheus.yml" "$DEMO/prometheus.yml"
    start prometheus.log prometheus --config.file="$DEMO/prometheus.yml" \
        --storage.tsdb.path="$DEMO/prometheus" --web.listen-address="127.0.0.1:$PROM_PORT"
else
    echo "outpost demo: prometheus is not installed: no Prometheus"
fi

# The agent, on loopback only: its log goes to the terminal.
demo_copy "$ROOT/config/demo.yml" "$DEMO/outpost.yml"
"$BUILD/outpost" --config.file="$DEMO/outpost.yml" --web.listen-address="127.0.0.1:$AGENT_PORT" \
    --storage.path="$DEMO/data" &
agent_pid=$!
pids="$pids $agent_pid"

# Ready within 10 s, or the agent's own log has said why not.
n=0
until curl -fsS --max-time 2 -o /dev/null "$AGENT/-/ready" 2>/dev/null; do
    if ! alive "$agent_pid" || [ "$n" -ge 100 ]; then
        rc=0
        wait "$agent_pid" || rc=$?
        echo "outpost demo: the agent did not start (exit status $rc); see its log above"
        exit 1
    fi
    sleep 0.1
    n=$((n + 1))
done

# The canaries' and SLOs' gates, from what the running agent has loaded.
gates=$(curl -fsS --max-time 10 "$AGENT/api/v1/status?per_page=1" | AGENT=$AGENT /usr/bin/python3 -c '
import json, os, sys, urllib.parse
doc, base = json.load(sys.stdin), os.environ["AGENT"]
def show(kind, name, argo, flagger):
    print(f"  {kind} {name}")
    print(f"    Argo Rollouts     GET  {base}{argo}")
    print(f"    Flagger           POST {base}{flagger}")
for c in doc["canaries"]:
    n = urllib.parse.quote(c["name"], safe="")
    show("canary", c["name"], "/gates/argo/" + n, "/gates/flagger/" + n + "?hook=rollout")
for s in doc["slos"]:
    n = urllib.parse.quote(s["name"], safe="")
    show("SLO", s["name"], "/gates/argo/slo/" + n,
         "/gates/flagger/slo/" + n + "?hook=confirm-rollout")
') || gates="  (none listed: $AGENT/api/v1/status did not answer)"

cat <<EOF

outpost demo: everything listens on 127.0.0.1; logs, state and the configurations it runs
are in $DEMO. Demo target: HTTP :$HTTP_PORT, HTTPS :$HTTPS_PORT, DNS :$DNS_PORT, gRPC :$GRPC_PORT.
The agent (config/demo.yml)
  landing page        GET  $AGENT/
  metrics             GET  $AGENT/metrics
  status page         GET  $AGENT/status
  status as JSON      GET  $AGENT/api/v1/status
  blackbox /probe     GET  $AGENT/probe?module=http_2xx&target=http://127.0.0.1:$HTTP_PORT/ok
Deploy gates (docs/canary.md, docs/governance.md); Flagger's gates take its webhook's body:
  curl -X POST -d '{"name":"demo","namespace":"demo","phase":"Progressing"}' URL
$gates
EOF
if [ -n "$am" ]; then
    cat <<EOF
Alertmanager: the agent's own alerts and those of Prometheus' rules
  web UI              GET  $am/
  alerts as JSON      GET  $am/api/v2/alerts
EOF
fi
if [ -n "$prom" ]; then
    cat <<EOF
Prometheus: scrapes the agent, evaluates rules/outpost.rules.yml
  web UI              GET  $prom/
  rules as JSON       GET  $prom/api/v1/rules
  targets as JSON     GET  $prom/api/v1/targets
EOF
fi
cat <<EOF
Maintenance windows: outpost_maintenance_active on /metrics and the status page (the API,
/api/v1/maintenance, needs credentials: docs/operations.md).
Audit log: $BUILD/outpost audit verify $DEMO/data/audit.jsonl
Ctrl-C stops everything.

EOF

rc=0
wait "$agent_pid" || rc=$?
exit "$rc"
