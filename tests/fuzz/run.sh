#!/bin/sh
# Run every libFuzzer target in BUILD for SECONDS each, one after the other,
# over a fresh copy of its committed seeds (tests/fuzz/corpus/<target>/), and
# print one line per target with libFuzzer's final coverage:
#
#   tests/fuzz/run.sh BUILD SECONDS [TARGET...]
#
# `make fuzz` (FUZZ_SECONDS) and `make fuzz-smoke` (a few seconds each, part
# of `make test`) call it. Each target runs in BUILD/fuzz-run/<target>/: the
# corpus it grew is left in corpus/ (worth merging back into the seeds with
# -merge=1 when it found new paths), its log in log, and an input that
# crashed, leaked or hung in crash-*, leak-* or timeout-*. Any of those fails
# the run (exit 1) after every target ran, with the log's tail printed.
set -u

build=${1:?usage: run.sh BUILD SECONDS [TARGET...]}
seconds=${2:?usage: run.sh BUILD SECONDS [TARGET...]}
shift 2
src=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$build" && pwd)
# One input that takes longer than this is a hang (the parsers take
# microseconds an input, even instrumented).
timeout=${FUZZ_TIMEOUT:-10}

if [ $# -eq 0 ]; then
    set -- $(cd "$src" && ls fuzz_*.c | sed 's/\.c$//')
fi

failed=""
for t in "$@"; do
    bin="$build/$t"
    dir="$build/fuzz-run/$t"
    if [ ! -x "$bin" ]; then
        echo "$t: not built ($bin)"
        failed="$failed $t"
        continue
    fi
    rm -rf "$dir"
    mkdir -p "$dir/corpus"
    seeds=0
    if [ -d "$src/corpus/$t" ]; then
        cp "$src/corpus/$t"/* "$dir/corpus/"
        seeds=$(ls "$src/corpus/$t" | wc -l)
    fi
    # The judge sorts and ranks every sample: longer sample files only
    # slow the target down without reaching new code.
    maxlen=""
    [ "$t" = fuzz_samples ] && maxlen="-max_len=2048"
    # From the run directory, so a relative path a mutated config names
    # (a certificate, a secret file) resolves to nothing in the tree.
    (cd "$dir" && "$bin" -max_total_time="$seconds" -timeout="$timeout" -print_final_stats=1 \
        -artifact_prefix="$dir/" $maxlen corpus >log 2>&1)
    rc=$?
    # "#123 DONE cov: 456 ft: 789 corp: 12/3456b lim: 4096 exec/s: 1234 rss: 56Mb"
    last=$(grep -E '^#[0-9]+[[:space:]]+(DONE|INITED|NEW|REDUCE|pulse)' "$dir/log" | tail -n 1)
    field() { echo "$last" | sed -n "s|.* $1: \([^ ]*\).*|\1|p"; }
    runs=$(echo "$last" | sed -n 's/^#\([0-9]*\).*/\1/p')
    printf '%-22s cov %-5s ft %-6s corp %-12s exec/s %-7s runs %-9s (%s s, %s seeds)\n' \
        "$t" "$(field cov)" "$(field ft)" "$(field corp)" "$(field exec/s)" "${runs:-?}" \
        "$seconds" "$seeds"
    if [ $rc -ne 0 ]; then
        echo "$t: FAILED (exit $rc); the log's end ($dir/log):"
        tail -n 40 "$dir/log"
        ls "$dir" | grep -E '^(crash|leak|timeout|oom|slow-unit)-' | sed "s|^|  input: $dir/|"
        failed="$failed $t"
    fi
done

if [ -n "$failed" ]; then
    echo "fuzz: failed:$failed"
    exit 1
fi
