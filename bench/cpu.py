#!/usr/bin/python3
"""CPU per fresh-connection HTTP probe: outpost, a bare libcurl loop, blackbox_exporter.

Run by hand or by bench/run.sh (not part of `make test`); needs a build (`make build`:
outpost and curlfloor), nginx (Debian's nginx-light), wrk, taskset and, for its row,
Debian's prometheus-blackbox-exporter (left out when not installed):

    bench/cpu.py                         # build/ (or $OUTPOST_BUILD)
    bench/cpu.py --build DIR --compare OTHER/outpost --repeat 3

The target is nginx answering `return 200` on a free 127.0.0.1 port, one worker, pinned
to core 1. Every prober is pinned to core 0 and opens a new connection per probe:

- floor: bench/curlfloor.c, REQUESTS fresh-connection GETs with libcurl's multi
  interface, 8 in flight, easy handles reused; CPU per request from its getrusage.
- blackbox_exporter: one `http` module (ip4), driven by `wrk -c8 -t1` on /probe for
  BB_SECONDS; wrk is pinned to core 1 beside nginx, so the client and the target take
  nothing from the exporter's core. CPU per probe = the exporter's utime + stime
  (/proc/PID/stat, all threads) over wrk's completed requests; every answer must say
  probe_success 1 (a wrk script counts those that do not). It includes answering /probe,
  which is how blackbox_exporter probes.
- outpost: CHECKS http checks every second against the same URL (CHECKS probes a
  second, spread over the second by the checks' phases). After WARMUP seconds (every
  check ran, start-up not counted), /metrics is scraped and the process CPU (all threads)
  read, then SECONDS later the CPU read and /metrics scraped again. CPU per probe = the
  CPU rate between the reads (no /metrics answer in it) over the probe rate between the
  scrapes (sum(outpost_check_runs_total)). No probe may fail; a row that ran under 90 %
  of its planned probes (core 0 busy with other work) is flagged on stderr.
  --compare BIN measures another outpost binary the same way in the same run.

With --repeat R the rows run R times, interleaved, and each row's median is shown.
Prints a Markdown table (µs of CPU per probe, outpost's ratios to the floor and to
blackbox_exporter) and one JSON line per row. Everything started is stopped on exit,
Ctrl-C and failure included.
"""
import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from benchlib import free_port, get, proc_cpu_seconds, stop, wait_http  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BLACKBOX = "/usr/bin/prometheus-blackbox-exporter"
PROBER_CORE, TARGET_CORE = "0", "1"


class Procs:
    """Every process a bench started, stopped (TERM, then KILL) however the bench ends."""

    def __init__(self):
        self.procs = []
        self.dirs = []
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum, frame):
        raise SystemExit(f"stopped by signal {signum}")

    def tempdir(self, prefix):
        d = tempfile.mkdtemp(prefix=prefix)
        self.dirs.append(d)
        return d

    def start(self, argv, log_path):
        log = open(log_path, "wb")
        p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        self.procs.append(p)
        return p

    def stop(self, p):
        stop(p)
        if p in self.procs:
            self.procs.remove(p)

    def close(self):
        for p in reversed(list(self.procs)):
            self.stop(p)
        for d in self.dirs:
            shutil.rmtree(d, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def default_build():
    return os.environ.get("OUTPOST_BUILD") or os.path.join(ROOT, "build")


def pinned(core, argv):
    return ["taskset", "-c", core, *argv]






def metric_sum(text, name):
    return sum(float(m.group(1))
               for m in re.finditer(rf"^{re.escape(name)}(?:\{{[^}}]*\}})? (\S+)$", text, re.M))


def start_nginx(procs):
    """nginx `return 200` on a free port, one worker, pinned to TARGET_CORE; its URL."""
    d = procs.tempdir("outpost-bench-nginx-")
    port = free_port()
    conf = os.path.join(d, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""worker_processes 1;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location / {{ return 200; }}
    }}
}}
""")
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    p = procs.start(pinned(TARGET_CORE, [nginx, "-p", d, "-e", f"{d}/error.log", "-c", conf]),
                    os.path.join(d, "stdout.log"))
    url = f"http://127.0.0.1:{port}/"
    wait_http(url, p, "nginx")
    return url


def run_floor(build, url, requests):
    binary = os.path.join(build, "curlfloor")
    out = subprocess.run(pinned(PROBER_CORE, [binary, url, str(requests), "8"]),
                         capture_output=True, text=True, timeout=300)
    m = re.search(r"failed (\d+) cpu_us_per_request (\S+)", out.stdout)
    if out.returncode != 0 or not m:
        raise SystemExit(f"curlfloor failed ({out.returncode}): {out.stdout}{out.stderr}")
    return {"row": "floor: bare libcurl multi loop", "probes": requests,
            "cpu_us_per_probe": float(m.group(2))}


WRK_SCRIPT = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) failed = 0 end
function response(status, headers, body)
    if status ~= 200 or not string.find(body, "\\nprobe_success 1\\n", 1, true) then
        failed = failed + 1
    end
end
function done(summary, latency, requests)
    local n = 0
    for _, t in ipairs(threads) do n = n + t:get("failed") end
    io.write(string.format("probes_failed %d\\n", n))
end
"""


def run_blackbox(procs, url, seconds):
    d = procs.tempdir("outpost-bench-bb-")
    cfg = os.path.join(d, "blackbox.yml")
    with open(cfg, "w") as f:
        f.write("modules:\n  http_2xx:\n    prober: http\n    timeout: 5s\n"
                "    http:\n      preferred_ip_protocol: ip4\n")
    script = os.path.join(d, "check.lua")
    with open(script, "w") as f:
        f.write(WRK_SCRIPT)
    port = free_port()
    bb = procs.start(pinned(PROBER_CORE, [BLACKBOX, f"--config.file={cfg}",
                                          f"--web.listen-address=127.0.0.1:{port}"]),
                     os.path.join(d, "blackbox.log"))
    base = f"http://127.0.0.1:{port}"
    probe = f"{base}/probe?module=http_2xx&target={urllib.request.quote(url, safe='')}"
    try:
        wait_http(base + "/-/healthy", bb, "blackbox_exporter")
        text = get(probe)
        if not re.search(r"^probe_success 1$", text, re.M):
            raise SystemExit(f"blackbox_exporter probe failed:\n{text}")
        for _ in range(20):  # warm-up
            get(probe)
        cpu0 = proc_cpu_seconds(bb.pid)
        out = subprocess.run(pinned(TARGET_CORE, ["wrk", "-c8", "-t1", f"-d{seconds}s",
                                                  "-s", script, probe]),
                             capture_output=True, text=True, timeout=seconds + 60)
        cpu1 = proc_cpu_seconds(bb.pid)
    finally:
        procs.stop(bb)
    m = re.search(r"(\d+) requests in", out.stdout)
    f = re.search(r"probes_failed (\d+)", out.stdout)
    if out.returncode != 0 or not m or not f:
        raise SystemExit(f"wrk failed ({out.returncode}): {out.stdout}{out.stderr}")
    if int(f.group(1)) or "Non-2xx" in out.stdout or "Socket errors" in out.stdout:
        raise SystemExit(f"blackbox_exporter: probes failed under wrk:\n{out.stdout}")
    n = int(m.group(1))
    return {"row": "blackbox_exporter 0.23 (wrk -c8 on /probe)", "probes": n,
            "cpu_us_per_probe": round(1e6 * (cpu1 - cpu0) / n, 1)}


class Outpost:
    """outpost with `checks` http checks at `interval` against url, pinned to PROBER_CORE."""

    def __init__(self, procs, binary, url, checks, interval="1s"):
        self.procs = procs
        d = procs.tempdir("outpost-bench-agent-")
        cfg = os.path.join(d, "outpost.yml")
        lines = [f"global: {{interval: {interval}, timeout: {interval}}}", "checks:"]
        for i in range(checks):
            lines += [f"  - name: c{i}", f"    url: {url}"]
        with open(cfg, "w") as f:
            f.write("\n".join(lines) + "\n")
        port = free_port()
        self.checks = checks
        self.base = f"http://127.0.0.1:{port}"
        self.log = os.path.join(d, "agent.log")
        self.proc = procs.start(pinned(PROBER_CORE, [
            binary, f"--config.file={cfg}", f"--storage.path={d}/state",
            f"--web.listen-address=127.0.0.1:{port}"]), self.log)
        wait_http(self.base + "/-/ready", self.proc, f"outpost ({binary}, log {self.log})")

    def metrics(self):
        return get(self.base + "/metrics", timeout=30)

    def cpu(self):
        return proc_cpu_seconds(self.proc.pid)

    def stop(self):
        self.procs.stop(self.proc)


def scrape(agent):
    """(metrics text, the mid-time of the request): a counter in it is read about then."""
    t0 = time.monotonic()
    text = agent.metrics()
    return text, (t0 + time.monotonic()) / 2


def run_outpost(procs, label, binary, url, checks, warmup, seconds):
    agent = Outpost(procs, binary, url, checks)
    try:
        time.sleep(warmup)
        text0, ts0 = scrape(agent)
        cpu0, tc0 = agent.cpu(), time.monotonic()
        time.sleep(seconds)
        cpu1, tc1 = agent.cpu(), time.monotonic()
        text1, ts1 = scrape(agent)
    finally:
        agent.stop()
    runs0, runs1 = (metric_sum(t, "outpost_check_runs_total") for t in (text0, text1))
    fails = metric_sum(text1, "outpost_check_failures_total")
    if runs0 < checks:
        raise SystemExit(f"{label}: only {runs0:.0f} runs after {warmup} s of warm-up")
    if fails:
        raise SystemExit(f"{label}: {fails:.0f} probes failed (log: {agent.log})")
    # The CPU window leaves both scrapes out (rendering 2,000 checks is no probe's
    # cost); the runs are counted between the scrapes. The rate is steady, so CPU per
    # probe is the CPU rate over the probe rate.
    rate = (runs1 - runs0) / (ts1 - ts0)
    cpu_rate = (cpu1 - cpu0) / (tc1 - tc0)
    overruns = {r: metric_sum(text1, f'outpost_scheduler_overruns_total{{reason="{r}"}}')
                - metric_sum(text0, f'outpost_scheduler_overruns_total{{reason="{r}"}}')
                for r in ("late", "skipped", "stalled")}
    if rate < 0.9 * checks:
        print(f"warning: {label} probed {rate:.0f}/s of {checks}/s planned (overruns "
              f"{overruns}): core {PROBER_CORE} is busy, this row is not comparable",
              file=sys.stderr)
    return {"row": label, "probes": int(runs1 - runs0), "rate_per_s": round(rate),
            "cpu_us_per_probe": round(1e6 * cpu_rate / rate, 1), "overruns": overruns}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=default_build(), help="build dir (outpost, curlfloor)")
    ap.add_argument("--compare", metavar="BIN", help="another outpost binary, measured too")
    ap.add_argument("--checks", type=int, default=2000, help="outpost's checks, each every 1 s")
    ap.add_argument("--warmup", type=float, default=5, help="outpost's seconds before measuring")
    ap.add_argument("--seconds", type=float, default=15, help="outpost's measured seconds")
    ap.add_argument("--requests", type=int, default=20000, help="floor's requests")
    ap.add_argument("--bb-seconds", type=int, default=10, help="seconds of wrk on /probe")
    ap.add_argument("--repeat", type=int, default=1, help="runs of every row (median shown)")
    ap.add_argument("--no-blackbox", action="store_true", help="leave blackbox_exporter out")
    ap.add_argument("--json", action="store_true", help="also print one JSON line per row")
    args = ap.parse_args()
    if (os.cpu_count() or 1) < 2:
        raise SystemExit("needs two cores (prober on core 0, target on core 1)")
    for tool in ("nginx", "wrk", "taskset"):
        if not shutil.which(tool) and not os.path.exists(f"/usr/sbin/{tool}"):
            raise SystemExit(f"needs {tool}")
    have_bb = os.access(BLACKBOX, os.X_OK) and not args.no_blackbox
    outposts = [("outpost", os.path.join(args.build, "outpost"))]
    if args.compare:
        outposts.append((f"outpost {args.compare}", args.compare))
    rows = {}
    with Procs() as procs:
        url = start_nginx(procs)
        for _ in range(args.repeat):
            runs = [run_floor(args.build, url, args.requests)]
            if have_bb:
                runs.append(run_blackbox(procs, url, args.bb_seconds))
            for label, binary in outposts:
                runs.append(run_outpost(procs, label, binary, url, args.checks, args.warmup,
                                        args.seconds))
            for r in runs:
                rows.setdefault(r["row"], []).append(r)
    med = {k: statistics.median(r["cpu_us_per_probe"] for r in v) for k, v in rows.items()}
    floor = med["floor: bare libcurl multi loop"]
    bb = med.get("blackbox_exporter 0.23 (wrk -c8 on /probe)")
    print(f"CPU per fresh-connection HTTP probe (nginx `return 200` on 127.0.0.1, core 1; "
          f"prober on core 0; {args.repeat} run(s), median)\n")
    print("| row | probes | CPU µs per probe | ratio to floor | ratio to blackbox_exporter |")
    print("|---|---|---|---|---|")
    for k, v in rows.items():
        n = sum(r["probes"] for r in v)
        ratio_bb = f"{med[k] / bb:.2f}" if bb else "-"
        print(f"| {k} | {n} | {med[k]:.1f} | {med[k] / floor:.2f} | {ratio_bb} |")
    if args.json:
        for v in rows.values():
            for r in v:
                print(json.dumps(r))


if __name__ == "__main__":
    main()
