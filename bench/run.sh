#!/bin/bash
# The benchmarks, one after the other, into one Markdown report (`make bench`).
#
#   bench/run.sh [--build DIR] [--soak-minutes N] [--quick] [--out FILE]
#
# Runs bench/cpu.py, bench/rate.py, bench/scrape.py, bench/status.py and
# bench/resources.py, each with --build DIR (default $OUTPOST_BUILD or ./build); a script
# not in this checkout is skipped with a line saying so. Each starts what it needs
# (nginx-light, wrk, blackbox_exporter, the agent) on loopback and stops it. Prints the
# date, the machine and the exact command first, and tees everything into
# bench/out/report-DATE.md.
# Exits non-zero when a script failed (the others still run). Ctrl-C stops the script
# running and everything it started.
#
# --soak-minutes N: bench/resources.py's soak (default 30); --quick: a 4-minute soak.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${OUTPOST_BUILD:-$ROOT/build}
SOAK=30
QUICK=0
OUT=""
ARGS="$*"
while [ $# -gt 0 ]; do
    case "$1" in
    --build) BUILD=$2; shift 2 ;;
    --build=*) BUILD=${1#*=}; shift ;;
    --soak-minutes) SOAK=$2; shift 2 ;;
    --soak-minutes=*) SOAK=${1#*=}; shift ;;
    --quick) QUICK=1; shift ;;
    --out) OUT=$2; shift 2 ;;
    -h | --help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
case "$SOAK" in
'' | *[!0-9]*) echo "run.sh: --soak-minutes takes whole minutes" >&2; exit 2 ;;
esac
BUILD=$(cd "$BUILD" 2>/dev/null && pwd) || { echo "run.sh: no build directory" >&2; exit 2; }
if [ ! -x "$BUILD/outpost" ]; then
    echo "run.sh: $BUILD/outpost is missing: build first (make bench does)" >&2
    exit 2
fi

# The tools the scripts start: installed like packaging/install-deps.sh does the others
# (a no-op when present).
need=""
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need="$need nginx-light"
command -v wrk >/dev/null 2>&1 || need="$need wrk"
command -v taskset >/dev/null 2>&1 || need="$need util-linux"
[ -x /usr/bin/prometheus-blackbox-exporter ] || need="$need prometheus-blackbox-exporter"
if [ -n "$need" ]; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO=sudo
    echo "run.sh: installing:$need" >&2
    export DEBIAN_FRONTEND=noninteractive
    # nginx's package would start the system's nginx on port 80: the scripts start
    # their own on free loopback ports.
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
        $SUDO chmod +x /usr/sbin/policy-rc.d
        CLEAN_POLICY=1
    fi
    # shellcheck disable=SC2086
    { $SUDO apt-get update -q && $SUDO apt-get install -y -q --no-install-recommends $need; }
    rc=$?
    [ -n "${CLEAN_POLICY:-}" ] && $SUDO rm -f /usr/sbin/policy-rc.d
    [ $rc -eq 0 ] || { echo "run.sh: could not install:$need" >&2; exit 2; }
fi

mkdir -p "$ROOT/bench/out"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
[ -n "$OUT" ] || OUT="$ROOT/bench/out/report-$STAMP.md"
: >"$OUT" || exit 2

# Everything below goes to the terminal and to the report.
say() { printf '%s\n' "$*" | tee -a "$OUT"; }

CHILD=""
TAILER=""
on_signal() {
    # Each script runs in its own process group (setsid): end that group, so the
    # servers it started go too even if the script cannot clean up.
    if [ -n "$CHILD" ] && kill -0 "$CHILD" 2>/dev/null; then
        kill -TERM -- "-$CHILD" 2>/dev/null
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            kill -0 "$CHILD" 2>/dev/null || break
            sleep 1
        done
        kill -KILL -- "-$CHILD" 2>/dev/null
    fi
    [ -n "$TAILER" ] && kill "$TAILER" 2>/dev/null
    [ -f "$OUT.part" ] && cat "$OUT.part" >>"$OUT" && rm -f "$OUT.part"
    say ""
    say "Interrupted: stopped."
    exit 130
}
trap on_signal INT TERM HUP

version() { "$@" 2>&1 | head -1; }
deb_version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "not installed"; }

say "# outpost benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC')"
say ""
say "- command: \`bench/run.sh $ARGS\` (build: $BUILD)"
say "- revision: $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)"
say "- machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
say "- kernel: $(uname -sr); Debian $(cat /etc/debian_version 2>/dev/null || echo '?')"
say "- libcurl $(deb_version libcurl4), nginx-light $(deb_version nginx-light)," \
    "wrk $(deb_version wrk), blackbox_exporter $(deb_version prometheus-blackbox-exporter)"
say "- load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
say ""

failed=""
run_one() {
    local script=$1
    shift
    if [ ! -e "$ROOT/bench/$script" ]; then
        say "## bench/$script"
        say ""
        say "Skipped: bench/$script is not in this checkout."
        say ""
        return
    fi
    say "## bench/$script"
    say ""
    say "\`bench/$script --build $BUILD $*\`, started $(date -u +%H:%M:%S)"
    say ""
    local t0=$SECONDS part="$OUT.part"
    # setsid: the script in a process group of its own, which on_signal ends whole.
    # Its output goes to a file shown as it grows, then into the report.
    setsid /usr/bin/python3 -u "$ROOT/bench/$script" --build "$BUILD" "$@" >"$part" 2>&1 &
    CHILD=$!
    tail -n +1 -f --pid="$CHILD" "$part" &
    TAILER=$!
    wait "$CHILD"
    local rc=$?
    CHILD=""
    wait "$TAILER"
    TAILER=""
    cat "$part" >>"$OUT"
    rm -f "$part"
    say ""
    if [ $rc -ne 0 ]; then
        say "bench/$script FAILED (exit status $rc) after $((SECONDS - t0)) s"
        failed="$failed $script"
    else
        say "bench/$script: $((SECONDS - t0)) s"
    fi
    say ""
}

run_one cpu.py
run_one rate.py
run_one scrape.py
run_one status.py
if [ "$QUICK" -eq 1 ]; then
    run_one resources.py --quick
else
    run_one resources.py --minutes "$SOAK"
fi

if [ -n "$failed" ]; then
    say "Failed:$failed. Report: $OUT"
    exit 1
fi
say "All done. Report: $OUT"
