#!/usr/bin/python3
"""/metrics at 10,000 checks: scrape time at the client and the prober's lag meanwhile.

Run by hand (not part of `make test`); needs build/outpost, build/outpost-target and curl:

    bench/scrape.py                            # --build $OUTPOST_BUILD or ./build
    bench/scrape.py --build /tmp/b --scrapes 20
    bench/scrape.py --compare /tmp/b-old       # the same run against a second build, side by side

Serves http://127.0.0.1:PORT/ok with build/outpost-target (pinned to core 1) and starts
outpost pinned to core 0 (prober and HTTP threads share it) with CHECKS plain HTTP checks
at an interval of CHECKS / RATE seconds (10,000 checks, 1,000 probes/s: 10 s). Waits until
every check has a result (outpost_check_up has CHECKS series), then:

- times SCRAPES plain and SCRAPES gzip scrapes with curl (time_total: request sent to last
  byte received, a new connection each), pausing PAUSE seconds between two so that each
  one renders its own page rather than waiting out the pause after the previous render;
- reads outpost_scheduler_lag_seconds over a window of WINDOW seconds without scrapes and
  over a window of WINDOW seconds with scrapes back to back (plain and gzip alternating),
  and gives each window's p99 (interpolated inside its bucket, as histogram_quantile does)
  and its share of probes that started within 1 ms and 5 ms of their plan;
- compresses one captured plain page offline with zlib at levels 1 to 6 (the agent's gzip
  is zlib's deflate): size and time of each.

Prints a Markdown section; with --compare, one table per build, measured one after the
other in the same run. Everything it started is stopped on the way out.
"""
import argparse
import gzip
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import zlib
from benchlib import free_port, start_target, stop  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAG = "outpost_scheduler_lag_seconds"



def config(n, interval_s, port):
    lines = [f"global: {{interval: {round(interval_s * 1000)}ms, timeout: 5s}}", "checks:"]
    for i in range(n):
        lines += [f"  - name: c{i}", f"    url: http://127.0.0.1:{port}/ok"]
    return "\n".join(lines) + "\n"


def curl(base, gzip, out=None):
    """One scrape: (seconds, bytes received)."""
    args = ["curl", "-s", "-o", out or "/dev/null", "-w", "%{time_total} %{size_download}",
            "--max-time", "30", base + "/metrics"]
    if gzip:
        args[1:1] = ["-H", "Accept-Encoding: gzip"]
    r = subprocess.run(args, capture_output=True, text=True, check=True)
    t, n = r.stdout.split()
    return float(t), int(n)


def get(base):
    with urllib.request.urlopen(base + "/metrics", timeout=30) as r:
        return r.read().decode()


def metric_value(text, name):
    m = re.search(rf"^{name} (\S+)$", text, re.M)
    if not m:
        raise SystemExit(f"{name} missing from the page")
    return float(m.group(1))


def lag_buckets(text):
    """{le: cumulative count} of the scheduler lag histogram."""
    out = {}
    for m in re.finditer(rf'^{LAG}_bucket\{{le="([^"]+)"\}} (\d+)$', text, re.M):
        out[float(m.group(1))] = int(m.group(2))
    return out


def lag_stats(before, after):
    """p99 (ms, interpolated) and shares within 1 ms and 5 ms of a window's delta."""
    les = sorted(after)
    d = [after[le] - before.get(le, 0) for le in les]
    total = d[-1]
    if total <= 0:
        return None
    rank, prev_le, prev_c = 0.99 * total, 0.0, 0
    p99 = float("inf")
    for le, c in zip(les, d):
        if c >= rank:
            p99 = le if le == float("inf") else prev_le + (le - prev_le) * (rank - prev_c) / max(c - prev_c, 1)
            break
        prev_le, prev_c = le, c
    share = {le: d[les.index(le)] / total for le in (0.001, 0.002, 0.005) if le in les}
    return {"probes": total, "p99_ms": p99 * 1000, "le1": share.get(0.001),
            "le2": share.get(0.002), "le5": share.get(0.005)}


def run_build(build, a):
    d = tempfile.mkdtemp(prefix="outpost-scrape-")
    target, agent, log = None, None, None
    try:
        target, tport = start_target(build)
        interval = a.checks / a.rate
        cfg = os.path.join(d, "outpost.yml")
        with open(cfg, "w") as f:
            f.write(config(a.checks, interval, tport))
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = open(os.path.join(d, "agent.log"), "wb")
        agent = subprocess.Popen(["taskset", "-c", "0", os.path.join(build, "outpost"),
                                  f"--config.file={cfg}", f"--storage.path={d}/state",
                                  f"--web.listen-address=127.0.0.1:{port}"],
                                 stdout=log, stderr=log)
        deadline = time.monotonic() + interval * 3 + 60
        while True:
            if agent.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{build}: not every check got a result in time")
            try:
                text = get(base)
                if len(re.findall(r"^outpost_check_up\{", text, re.M)) == a.checks:
                    break
            except OSError:
                pass
            time.sleep(2)
        page = os.path.join(d, "page.txt")
        curl(base, False, page)
        with open(page, "rb") as f:
            body = f.read()
        series = sum(1 for line in body.split(b"\n") if line and not line.startswith(b"#"))
        res = {"bytes": len(body), "series": series, "page": body}
        for gz in (False, True):
            times, size, renders = [], 0, []
            for k in range(a.scrapes + 1):
                time.sleep(a.pause)
                t, size = curl(base, gz, page)
                with open(page, "rb") as f:
                    got = f.read()
                # Each page carries the time the previous rendering took: the
                # scrape before it, of the same encoding (nothing else scrapes).
                text = (gzip.decompress(got) if gz else got).decode()
                if k > 0:
                    renders.append(metric_value(text, "outpost_scrape_duration_seconds"))
                if k < a.scrapes:
                    times.append(t)
            res["gzip" if gz else "plain"] = (times, size, renders)
        # Lag: a window without scrapes, then one with scrapes back to back.
        time.sleep(a.pause)
        b0 = lag_buckets(get(base))
        time.sleep(a.window)
        b1 = lag_buckets(get(base))
        t_end, n, gz = time.monotonic() + a.window, 0, False
        while time.monotonic() < t_end:
            curl(base, gz)
            gz, n = not gz, n + 1
        b2 = lag_buckets(get(base))
        res["quiet"], res["busy"], res["busy_scrapes"] = lag_stats(b0, b1), lag_stats(b1, b2), n
        return res
    finally:
        for p in (agent, target):
            if p:
                stop(p)
        if log:
            log.close()
        shutil.rmtree(d, ignore_errors=True)


def ms(x):
    return f"{x * 1000:.0f}"


def pct(x):
    return "-" if x is None else f"{100 * x:.1f} %"


def report(name, r):
    print(f"\n**{name}**: {r['bytes'] / 1e6:.1f} MB plain, {r['series']} series\n")
    print("| scrape | median ms | p90 ms | max ms | render median ms | bytes |")
    print("|---|---:|---:|---:|---:|---:|")
    for k in ("plain", "gzip"):
        t, size, renders = r[k]
        p90 = sorted(t)[max(0, -(-9 * len(t) // 10) - 1)]  # nearest rank
        print(f"| {k} | {ms(statistics.median(t))} | {ms(p90)} | {ms(max(t))} | "
              f"{ms(statistics.median(renders))} | {size} |")
    print("\n(median, p90, max: at the client, request to last byte; render: the agent's own "
          "outpost_scrape_duration_seconds for the same scrapes, the text rendering without "
          "compression or sending.)")
    print("\n| scheduler lag window | probes | p99 ms | <= 1 ms | <= 2 ms | <= 5 ms |")
    print("|---|---:|---:|---:|---:|---:|")
    for k, label in (("quiet", "no scrapes"), ("busy", f"{r['busy_scrapes']} scrapes back to back")):
        s = r[k]
        if s:
            print(f"| {label} | {s['probes']} | {s['p99_ms']:.2f} | {pct(s['le1'])} | "
                  f"{pct(s['le2'])} | {pct(s['le5'])} |")


def levels(body):
    print("\nzlib on the captured plain page (gzip wrapper, offline, one core):\n")
    print("| level | bytes | ratio | ms |")
    print("|---:|---:|---:|---:|")
    for lvl in range(1, 7):
        best = None
        for _ in range(3):
            t0 = time.perf_counter()
            c = zlib.compressobj(lvl, zlib.DEFLATED, 31)
            z = c.compress(body) + c.flush()
            dt = time.perf_counter() - t0
            best = dt if best is None or dt < best else best
        print(f"| {lvl} | {len(z)} | {len(body) / len(z):.1f} | {best * 1000:.0f} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.environ.get("OUTPOST_BUILD") or os.path.join(ROOT, "build"))
    ap.add_argument("--compare", help="a second build measured the same way after --build")
    ap.add_argument("--checks", type=int, default=10000)
    ap.add_argument("--rate", type=float, default=1000, help="probes per second")
    ap.add_argument("--scrapes", type=int, default=10, help="timed scrapes per encoding")
    ap.add_argument("--pause", type=float, default=1.2, help="seconds between timed scrapes")
    ap.add_argument("--window", type=float, default=20, help="seconds of each lag window")
    ap.add_argument("--no-levels", action="store_true", help="skip the zlib level table")
    a = ap.parse_args()
    if not shutil.which("curl"):
        raise SystemExit("needs curl")
    builds = [a.build] + ([a.compare] if a.compare else [])
    results = [(b, run_build(b, a)) for b in builds]
    print(f"### /metrics at {a.checks} checks\n")
    print(f"{a.checks} HTTP checks at {a.rate:g} probes/s, outpost on core 0, target on core 1; "
          f"{a.scrapes} timed scrapes per encoding, {a.window:g} s lag windows.")
    for b, r in results:
        report(b, r)
    if len(results) == 2:
        (_, x), (_, y) = results
        mx = {k: statistics.median(x[k][0]) for k in ("plain", "gzip")}
        my = {k: statistics.median(y[k][0]) for k in ("plain", "gzip")}
        print(f"\nMedian scrape time, {builds[0]} / {builds[1]}: plain "
              f"{mx['plain'] / my['plain']:.2f}, gzip {mx['gzip'] / my['gzip']:.2f}")
    if not a.no_levels:
        levels(results[0][1]["page"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
