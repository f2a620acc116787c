#!/usr/bin/python3
"""Sustained probe rate: the highest rate one core keeps with scheduler lag p99 <= 10 ms.

Run by hand or by bench/run.sh (not part of `make test`); needs a build (`make build`),
nginx (Debian's nginx-light) and taskset:

    bench/rate.py                          # build/ (or $OUTPOST_BUILD)
    bench/rate.py --build DIR --counts 2000,4000,8000 --seconds 10

Target: nginx `return 200` on a free 127.0.0.1 port, one worker, pinned to core 1 (as in
bench/cpu.py). For each count N (ascending) a fresh outpost, pinned to core 0, runs N
http checks every second (fresh connections, the default), i.e. N probes a second. After
WARMUP seconds, outpost_scheduler_lag_seconds (start time - planned time of every probe)
and sum(outpost_check_runs_total) are scraped, and again SECONDS later; from the
histogram's bucket deltas come the share of starts within 10 ms (the bucket le="0.01",
exact) and p99 (interpolated inside its bucket, as Prometheus' histogram_quantile does).
A step passes when at least 99 % of its starts were within 10 ms, no probe failed, and
the loop ran at least 95 % of the planned probes (it sheds runs when it cannot keep up).
Stepping stops at the first failing step. Prints a Markdown table per step (probes/s
achieved, outpost's CPU in cores, lag p50/p99, share within 10 ms, overruns) and the
answer: the achieved rate of the highest passing step.
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cpu  # noqa: E402  (the shared start/stop helpers)

LAG = "outpost_scheduler_lag_seconds"


def buckets(text):
    """{upper bound: cumulative count} of the lag histogram."""
    out = {}
    for line in text.splitlines():
        if line.startswith(LAG + "_bucket{"):
            le = line.split('le="', 1)[1].split('"', 1)[0]
            out[float("inf") if le == "+Inf" else float(le)] = float(line.rsplit(" ", 1)[1])
    return out


def quantile(q, delta):
    """histogram_quantile over cumulative bucket deltas {bound: count}."""
    bounds = sorted(delta)
    total = delta[bounds[-1]]
    if total <= 0:
        return float("nan")
    rank, prev_b, prev_c = q * total, 0.0, 0.0
    for b in bounds:
        if delta[b] >= rank:
            if b == float("inf"):
                return prev_b
            return prev_b + (b - prev_b) * (rank - prev_c) / max(delta[b] - prev_c, 1e-9)
        prev_b, prev_c = b, delta[b]
    return bounds[-1]


def step(procs, binary, url, n, warmup, seconds, max_lag):
    agent = cpu.Outpost(procs, binary, url, n)
    try:
        time.sleep(warmup)
        t0, ts0 = cpu.scrape(agent)
        c0, tc0 = agent.cpu(), time.monotonic()
        time.sleep(seconds)
        c1, tc1 = agent.cpu(), time.monotonic()
        t1, ts1 = cpu.scrape(agent)
    finally:
        agent.stop()
    b0, b1 = buckets(t0), buckets(t1)
    delta = {b: b1[b] - b0.get(b, 0) for b in b1}
    starts = delta[float("inf")]
    within = delta.get(max_lag, 0) / starts if starts else 0
    runs = cpu.metric_sum(t1, "outpost_check_runs_total") - cpu.metric_sum(
        t0, "outpost_check_runs_total")
    fails = cpu.metric_sum(t1, "outpost_check_failures_total") - cpu.metric_sum(
        t0, "outpost_check_failures_total")
    over = {r: cpu.metric_sum(t1, f'outpost_scheduler_overruns_total{{reason="{r}"}}')
            - cpu.metric_sum(t0, f'outpost_scheduler_overruns_total{{reason="{r}"}}')
            for r in ("late", "skipped", "stalled")}
    rate = runs / (ts1 - ts0)
    ok = within >= 0.99 and not fails and rate >= 0.95 * n
    return {"checks": n, "rate": rate, "cores": (c1 - c0) / (tc1 - tc0),
            "p50": quantile(0.5, delta), "p99": quantile(0.99, delta), "within": within,
            "fails": fails, "overruns": over, "ok": ok}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=cpu.default_build(), help="build dir (outpost)")
    ap.add_argument("--counts", default="1000,2000,4000,6000,8000,10000,12000,14000",
                    help="checks per step, each every 1 s (ascending)")
    ap.add_argument("--warmup", type=float, default=5, help="seconds before measuring")
    ap.add_argument("--seconds", type=float, default=10, help="measured seconds per step")
    args = ap.parse_args()
    counts = [int(c) for c in args.counts.split(",")]
    if (os.cpu_count() or 1) < 2:
        raise SystemExit("needs two cores (outpost on core 0, target on core 1)")
    binary = os.path.join(args.build, "outpost")
    rows, best = [], None
    with cpu.Procs() as procs:
        url = cpu.start_nginx(procs)
        for n in counts:
            r = step(procs, binary, url, n, args.warmup, args.seconds, 0.01)
            rows.append(r)
            if not r["ok"]:
                break
            best = r
    print("Sustained probe rate on one core (outpost pinned to core 0, nginx `return 200` "
          "on core 1; checks every 1 s, fresh connections)\n")
    print("| checks | probes/s | outpost CPU (cores) | lag p50 ms | lag p99 ms "
          "| starts within 10 ms | failed | overruns late/skipped/stalled | pass |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        o = r["overruns"]
        print(f"| {r['checks']} | {r['rate']:.0f} | {r['cores']:.2f} | {1e3 * r['p50']:.2f} "
              f"| {1e3 * r['p99']:.2f} | {100 * r['within']:.2f} % | {r['fails']:.0f} "
              f"| {o['late']:.0f}/{o['skipped']:.0f}/{o['stalled']:.0f} "
              f"| {'yes' if r['ok'] else 'no'} |")
    if best:
        more = " (the highest step tried)" if best is rows[-1] else ""
        print(f"\nHighest sustained rate with lag p99 <= 10 ms: {best['rate']:.0f} probes/s "
              f"({best['checks']} checks at 1 s){more}.")
    else:
        print("\nNo step kept lag p99 <= 10 ms.")


if __name__ == "__main__":
    main()
