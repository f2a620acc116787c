#!/usr/bin/python3
"""/status and /api/v1/status at 10,000 checks: time at the client and the agent's render time.

Run by hand (not part of `make test`); needs build/outpost, build/outpost-target and curl:

    bench/status.py                          # --build $OUTPOST_BUILD or ./build
    bench/status.py --build /tmp/b --requests 30

Serves http://127.0.0.1:PORT/ with build/outpost-target (pinned to core 1) and starts outpost
pinned to core 0 with CHECKS plain HTTP checks in GROUPS groups at an interval of
CHECKS / RATE seconds (10,000 checks, 1,000 probes/s: 10 s); one check in FAIL_EVERY
probes /status/503, the rest /ok. Waits until every check has a result (the model's
summary has no pending check), then requests each URL below REQUESTS times with curl (a
new connection each), the URLs taking turns so that all of them see the same agent, PAUSE
seconds apart:

- /status (the first page, 500 checks by default), /status?state=down (the failing
  ones), /status?per_page=1000 (the largest page), /status?group=g7 (one group);
- /api/v1/status (the same model as JSON, 500 checks).

Prints a Markdown section: per URL the median and p90 at the client (request sent to last
byte received) and the size; for the pages, the agent's own durations from the
Server-Timing header (model: building the status model; render: the HTML from it).
--save DIR keeps the last answer of each URL there.
Everything it started is stopped on the way out.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from benchlib import free_port, get, start_target, stop  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# /status?group=g7 is one group of the default 100 (the last group with fewer).
URLS = ["/status", "/status?state=down", "/status?per_page=1000", "/status?group=g7",
        "/api/v1/status"]


def config(a, interval_s, port):
    lines = [f"global: {{interval: {round(interval_s * 1000)}ms, timeout: 5s}}", "checks:"]
    for i in range(a.checks):
        path = "/status/503" if i % a.fail_every == 0 else "/ok"
        lines += [f"  - name: c{i}", f"    group: g{i % a.groups}",
                  f"    url: http://127.0.0.1:{port}{path}"]
    return "\n".join(lines) + "\n"


def curl(url, headers_file, out="/dev/null"):
    """One request: (seconds, bytes received, {name: ms} of Server-Timing); the body to out."""
    r = subprocess.run(["curl", "-s", "-o", out, "-D", headers_file, "-w",
                        "%{http_code} %{time_total} %{size_download}", "--max-time", "30", url],
                       capture_output=True, text=True, check=True)
    code, t, n = r.stdout.split()
    if code != "200":
        raise SystemExit(f"{url}: HTTP {code}")
    timing = {}
    with open(headers_file) as f:
        for line in f:
            if line.lower().startswith("server-timing:"):
                for m in re.finditer(r"(\w+);dur=([0-9.]+)", line):
                    timing[m.group(1)] = float(m.group(2))
    return float(t), int(n), timing


def p90(xs):
    return sorted(xs)[max(0, -(-9 * len(xs) // 10) - 1)]  # nearest rank


def run(a):
    d = tempfile.mkdtemp(prefix="outpost-status-bench-")
    target, agent, log = None, None, None
    try:
        target, tport = start_target(a.build)
        interval = a.checks / a.rate
        cfg = os.path.join(d, "outpost.yml")
        with open(cfg, "w") as f:
            f.write(config(a, interval, tport))
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = open(os.path.join(d, "agent.log"), "wb")
        agent = subprocess.Popen(["taskset", "-c", "0", os.path.join(a.build, "outpost"),
                                  f"--config.file={cfg}", f"--storage.path={d}/state",
                                  f"--web.listen-address=127.0.0.1:{port}"],
                                 stdout=log, stderr=log)
        deadline = time.monotonic() + interval * 3 + 60
        while True:
            if agent.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("not every check got a result in time")
            try:
                s = json.loads(get(base + "/api/v1/status?per_page=1", timeout=30))
                c = s["summary"]["checks"]
                if c["total"] == a.checks and c["pending"] == 0:
                    break
            except OSError:
                pass
            time.sleep(2)
        if a.groups <= 7:
            URLS[3] = f"/status?group=g{a.groups - 1}"
        res = {u: {"t": [], "bytes": 0, "model": [], "render": []} for u in URLS}
        hdr = os.path.join(d, "headers")
        if a.save:
            os.makedirs(a.save, exist_ok=True)
        for k in range(a.requests):
            for i, u in enumerate(URLS):
                time.sleep(a.pause)
                out = "/dev/null"
                if a.save and k == a.requests - 1:
                    out = os.path.join(a.save, f"{i}-{re.sub(r'[^a-z0-9]+', '-', u.strip('/'))}")
                t, n, timing = curl(base + u, hdr, out)
                r = res[u]
                r["t"].append(t)
                r["bytes"] = n
                for part in ("model", "render"):
                    if part in timing:
                        r[part].append(timing[part])
        return res
    finally:
        for p in (agent, target):
            if p:
                stop(p)
        if log:
            log.close()
        shutil.rmtree(d, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.environ.get("OUTPOST_BUILD") or os.path.join(ROOT, "build"))
    ap.add_argument("--checks", type=int, default=10000)
    ap.add_argument("--groups", type=int, default=100)
    ap.add_argument("--fail-every", type=int, default=100, help="one failing check in N")
    ap.add_argument("--rate", type=float, default=1000, help="probes per second")
    ap.add_argument("--requests", type=int, default=15, help="timed requests per URL")
    ap.add_argument("--pause", type=float, default=0.3, help="seconds between two requests")
    ap.add_argument("--save", help="a directory to keep the last answer of each URL in")
    a = ap.parse_args()
    if not shutil.which("curl"):
        raise SystemExit("needs curl")
    res = run(a)
    print(f"### /status at {a.checks} checks\n")
    print(f"{a.checks} HTTP checks in {a.groups} groups (one in {a.fail_every} failing) at "
          f"{a.rate:g} probes/s, outpost on core 0, target on core 1; {a.requests} requests "
          f"per URL, taking turns, {a.pause:g} s apart.\n")
    print("| URL | bytes | median ms | p90 ms | model median ms | render median ms |")
    print("|---|---:|---:|---:|---:|---:|")
    for u in URLS:
        r = res[u]
        med = statistics.median(r["t"]) * 1000
        model = f"{statistics.median(r['model']):.1f}" if r["model"] else "-"
        render = f"{statistics.median(r['render']):.1f}" if r["render"] else "-"
        print(f"| `{u}` | {r['bytes']} | {med:.1f} | {p90(r['t']) * 1000:.1f} | {model} | "
              f"{render} |")
    print("\n(median, p90: at the client, request to last byte, a new connection each; model "
          "and render: the agent's Server-Timing for the same requests, building the status "
          "model and writing the HTML from it.)")


if __name__ == "__main__":
    main()
