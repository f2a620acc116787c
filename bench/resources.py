#!/usr/bin/python3
"""Measure outpost's memory and CPU: sizing, and a soak that looks for growth.

Runs the real agent (--build DIR, default $OUTPOST_BUILD or ./build) with a
configuration, scrapes it the way Prometheus does (gzip, every 15 s) and reads /proc/PID.

Without CONFIG arguments, the benchmark (what bench/run.sh runs; prints Markdown):

    bench/resources.py --build build                  # 30-minute soak, 5 minutes of warm-up
    bench/resources.py --build build --quick          # 4 minutes, 1 of warm-up
    bench/resources.py --build build --minutes 10 --warmup-minutes 3

  10,000 checks every 10 s (1,000 probes a second) and 1,000 SLOs, against nginx-light on
  loopback; the agent pinned to core 0, nginx (one worker) to core 1 (when there are two
  cores or more). 10 % of the checks are HTTPS (--https-percent): at 1,000 probes a
  second more handshakes than that do not fit beside nginx on a 2-core machine, and an
  agent that falls behind holds its late probes in memory, which is overload, not what
  this measures. RSS (VmRSS, RssAnon) is sampled every 10 s between scrapes, VmHWM (the
  peak, scrapes included) read at the end. Reported: the RSS at the end of the warm-up
  and at the end, against the goal of 64 MiB; the growth after the warm-up as a
  percentage (median of the last three samples over the median of the three samples
  ending at the warm-up mark) and as a least-squares slope in KiB per minute over every
  sample after the warm-up, against the goal of at most 1 % growth. The probe rate
  achieved, the checks up and the scheduler lag say whether the run was sound. The exit
  status is 0 when the run was measured, whichever way the goals went; 1 when it could
  not be (the agent did not start or exited, a scrape failed, fewer than 90 % of the
  checks up at the end).

With CONFIG arguments, one JSON object per configuration (for sizing a deployment):

    bench/resources.py base             # packaging/kubernetes/base/outpost.yml as shipped
    bench/resources.py 100 1000         # N checks (and N/10 SLOs) against nginx-light
    bench/resources.py --seconds 300 1000

  VmRSS at the end, VmHWM, RssAnon + RssFile, CPU seconds (utime + stime) over the
  measured window and as millicores, the process_* metrics the agent reports about
  itself, and the scheduler lag, sampling every second after --warmup seconds. Half the
  checks are HTTPS (--https-percent 50), unpinned.

The checks, in both modes: the HTTPS share over a fresh TLS handshake each probe (as by
default; ECDSA P-256 certificate, verification off) to /ok; of the rest, half HTTP to
/json with a JSON expectation, half to /ok with a status and body expectation; every
10 s; one SLO (30 days, 99.9 %) per ten checks.
"""
import argparse
import gzip
import json
import math
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
from benchlib import free_port, proc_cpu_seconds  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BASE_CONFIG = os.path.join(ROOT, "packaging", "kubernetes", "base", "outpost.yml")
GOAL_RSS_MIB = 64
GOAL_GROWTH_PCT = 1.0
AGENT = ""  # set from --build in main()


def proc_status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem", "Threads"):
                out[k] = int(v.split()[0])  # kB, or a count for Threads
    return out



def scrape(base, timeout=30):
    """The page as text, fetched with gzip as Prometheus does; also the gzip size."""
    req = urllib.request.Request(base + "/metrics", headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        body = r.read()
        wire = len(body)
        if r.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
    return body.decode(), wire


def metric(text, name):
    m = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


def metric_sum(text, name):
    """Sum of every series of one metric name, and how many there were."""
    vals = [float(v) for v in re.findall(rf"^{re.escape(name)}{{[^}}]*}} (\S+)$", text, re.M)]
    return sum(vals), len(vals)


def lag_buckets(text):
    """outpost_scheduler_lag_seconds's cumulative buckets as {le: count}."""
    out = {}
    for le, v in re.findall(r'^outpost_scheduler_lag_seconds_bucket\{le="([^"]+)"\} (\S+)$',
                            text, re.M):
        out[math.inf if le == "+Inf" else float(le)] = float(v)
    return out


def lag_quantile(before, after, q):
    """The bucket bound under which q of the runs between two scrapes started late."""
    les = sorted(after)
    deltas = [after[le] - before.get(le, 0) for le in les]
    if not deltas or deltas[-1] <= 0:
        return None
    for le, d in zip(les, deltas):
        if d >= q * deltas[-1]:
            return le
    return math.inf



def make_certs(d):
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    # ECDSA P-256: the target's share of a handshake is a fraction of what RSA 2048
    # costs, so a 2-core machine can serve 500 handshakes a second beside the agent.
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return cert, key


NO_PIN = False  # --no-pin


def pin(core):
    """A taskset prefix for one core, or nothing on a one-core machine."""
    if core is None or NO_PIN or (os.cpu_count() or 1) < 2 or not shutil.which("taskset"):
        return []
    return ["taskset", "-c", str(core)]


NGINX_CONF = """worker_processes 1;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log;
events {{ worker_connections 8192; }}
http {{
    access_log off;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    server {{
        listen 127.0.0.1:{http} backlog=4096;
        listen 127.0.0.1:{https} ssl backlog=4096;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        ssl_session_cache off;
        ssl_session_tickets off;
        location = /ok {{ default_type text/plain; return 200 "ok\\n"; }}
        location = /json {{ default_type application/json; return 200 '{json}'; }}
    }}
}}
"""
JSON_DOC = '{"status":"ok","version":3,"items":[{"id":1,"name":"a"},{"id":2,"name":"b"}]}'


def start_nginx(d, core=None):
    """nginx-light serving /ok and /json over HTTP and HTTPS; (process, http, https)."""
    cert, key = make_certs(d)
    http, https = free_port(), free_port()
    conf = os.path.join(d, "nginx.conf")
    with open(conf, "w") as f:
        f.write(NGINX_CONF.format(d=d, http=http, https=https, cert=cert, key=key,
                                  json=JSON_DOC))
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.access(nginx, os.X_OK):
        raise SystemExit("needs nginx (Debian's nginx-light)")
    out = open(os.path.join(d, "nginx.out"), "wb")
    p = subprocess.Popen(pin(core) + [nginx, "-p", d, "-e", f"{d}/error.log", "-c", conf],
                         stdout=out, stderr=out)
    out.close()
    deadline = time.monotonic() + 10
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{http}/ok", timeout=1) as r:
                if r.read() == b"ok\n":
                    return p, http, https
        except OSError:
            pass
        if p.poll() is not None or time.monotonic() > deadline:
            p.kill()
            p.wait()
            raise SystemExit("nginx did not start: see " + os.path.join(d, "error.log"))
        time.sleep(0.05)


def checks_config(n, http_port, https_port, interval="10s", https_pct=50):
    """n checks, https_pct % of them HTTPS, the rest alternating between a JSON
    expectation and a status and body expectation over HTTP; one SLO per ten checks."""
    lines = [f"global: {{interval: {interval}, timeout: 5s}}", "checks:"]
    plain = 0
    for i in range(n):
        # Spread the HTTPS checks evenly: check i is HTTPS when the running share
        # crosses a whole number there.
        if (i + 1) * https_pct // 100 > i * https_pct // 100:
            lines += [f"  - name: c{i}", f"    url: https://127.0.0.1:{https_port}/ok",
                      "    tls: {insecure_skip_verify: true}"]
            continue
        plain += 1
        if plain % 2:
            lines += [f"  - name: c{i}", f"    url: http://127.0.0.1:{http_port}/json",
                      "    expect: {json: [{path: status, equals: ok}]}"]
        else:
            lines += [f"  - name: c{i}", f"    url: http://127.0.0.1:{http_port}/ok",
                      "    expect: {status: [200], body_matches: '^ok$'}"]
    lines.append("slos:")
    for s in range(0, n, 10):
        members = ", ".join(f"c{i}" for i in range(s, min(s + 10, n)))
        lines += [f"  - name: s{s // 10}", "    objective: 99.9", "    period: 30d",
                  f"    sli: {{checks: [{members}]}}"]
    return "\n".join(lines) + "\n"


class Agent:
    """The agent on a configuration, in a temporary directory removed on stop()."""

    def __init__(self, label, config_text, port, env, core=None):
        self.label = label
        self.dir = tempfile.mkdtemp(prefix="outpost-res-")
        cfg = os.path.join(self.dir, "outpost.yml")
        with open(cfg, "w") as f:
            f.write(config_text)
        self.log = open(os.path.join(self.dir, "agent.log"), "wb")
        self.base = f"http://127.0.0.1:{port}"
        # taskset execs the agent, so the pid is the agent's.
        self.proc = subprocess.Popen(pin(core) + [
            AGENT, f"--config.file={cfg}", f"--storage.path={self.dir}/state",
            f"--web.listen-address=127.0.0.1:{port}"],
            stdout=self.log, stderr=self.log, env={**os.environ, **env})
        self.pid = self.proc.pid

    def wait_ready(self, seconds=30):
        deadline = time.monotonic() + seconds
        while True:
            try:
                urllib.request.urlopen(self.base + "/-/ready", timeout=1).read()
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.log.flush()
                    with open(os.path.join(self.dir, "agent.log"), "rb") as f:
                        tail = f.read()[-2000:].decode(errors="replace")
                    raise SystemExit(f"{self.label}: agent did not get ready\n{tail}")
                time.sleep(0.05)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def run(label, config_text, port, seconds, warmup, scrape_every, env):
    """One sizing run (the CONFIG mode): a dict of figures."""
    agent = Agent(label, config_text, port, env)
    try:
        agent.wait_ready()
        time.sleep(warmup)
        cpu0, t0 = proc_cpu_seconds(agent.pid), time.monotonic()
        peak_rss, next_scrape, text = 0, 0.0, ""
        while time.monotonic() - t0 < seconds:
            now = time.monotonic() - t0
            if now >= next_scrape:
                text, _ = scrape(agent.base)
                next_scrape += scrape_every
            peak_rss = max(peak_rss, proc_status(agent.pid)["VmRSS"])
            time.sleep(1)
        cpu1, t1 = proc_cpu_seconds(agent.pid), time.monotonic()
        st = proc_status(agent.pid)
        text, _ = scrape(agent.base)
        lag_sum = metric(text, "outpost_scheduler_lag_seconds_sum")
        lag_n = metric(text, "outpost_scheduler_lag_seconds_count")
        return {
            "config": label,
            "seconds": round(t1 - t0, 1),
            "rss_end_mib": round(st["VmRSS"] / 1024, 1),
            "rss_peak_sampled_mib": round(peak_rss / 1024, 1),
            "vmhwm_mib": round(st["VmHWM"] / 1024, 1),
            "rss_anon_mib": round(st["RssAnon"] / 1024, 1),
            "rss_file_mib": round(st["RssFile"] / 1024, 1),
            "threads": st["Threads"],
            "cpu_seconds": round(cpu1 - cpu0, 2),
            "millicores": round(1000 * (cpu1 - cpu0) / (t1 - t0), 1),
            "process_resident_memory_mib": round(
                (metric(text, "process_resident_memory_bytes") or 0) / 2**20, 1),
            "process_cpu_seconds_total": metric(text, "process_cpu_seconds_total"),
            "metrics_page_kib": round(len(text.encode()) / 1024, 1),
            "scheduler_lag_mean_ms": round(1000 * lag_sum / lag_n, 2) if lag_n else None,
        }
    finally:
        agent.stop()


def slope_kib_per_min(samples):
    """Least-squares slope of (minutes, KiB) pairs."""
    if len(samples) < 2:
        return 0.0
    mt = statistics.fmean(t for t, _ in samples)
    mv = statistics.fmean(v for _, v in samples)
    den = sum((t - mt) ** 2 for t, _ in samples)
    return sum((t - mt) * (v - mv) for t, v in samples) / den if den else 0.0


def mib(kib):
    return f"{kib / 1024:.1f} MiB"


def soak(a, ports, env):
    """The benchmark mode: start, warm up, soak; prints a Markdown section."""
    n = a.checks
    text_cfg = checks_config(n, ports[0], ports[1], https_pct=a.https_percent)
    agent = Agent(f"{n} checks", text_cfg, free_port(), env, core=0)
    try:
        agent.wait_ready()
        t0 = time.monotonic()
        total, warm = a.minutes * 60, a.warmup_minutes * 60
        samples = []  # (seconds since ready, VmRSS kB, RssAnon kB)
        next_sample, next_scrape = 0.0, 15.0
        warm_text = end_text = None
        warm_cpu = warm_t = None
        scrape_ms, scrape_gz = [], 0
        while True:
            now = time.monotonic() - t0
            if now >= total:
                break
            # Samples are taken between scrapes (the loop does one thing at a time), so
            # they see the agent at rest, not holding a page being sent.
            if now >= next_sample:
                st = proc_status(agent.pid)
                samples.append((now, st["VmRSS"], st["RssAnon"]))
                next_sample += a.sample
                continue
            if now >= next_scrape:
                s0 = time.monotonic()
                text, scrape_gz = scrape(agent.base)
                scrape_ms.append(1000 * (time.monotonic() - s0))
                if warm_text is None and now >= warm:
                    warm_text, warm_cpu, warm_t = text, proc_cpu_seconds(agent.pid), now
                end_text = text
                next_scrape += a.scrape
                continue
            if agent.proc.poll() is not None:
                raise SystemExit("the agent exited during the soak")
            time.sleep(max(0.0, min(next_sample, next_scrape, total) - now))
        end_cpu, end_t = proc_cpu_seconds(agent.pid), time.monotonic() - t0
        st = proc_status(agent.pid)
        with open(f"/proc/{agent.pid}/status") as f:
            threads = re.search(r"^Threads:\s+(\d+)", f.read(), re.M).group(1)
    finally:
        agent.stop()

    if warm_text is None or end_text is None or warm_text is end_text:
        raise SystemExit("the soak was too short for a scrape after the warm-up")
    # Medians over a window at each end (two minutes, less in a short soak): a sample
    # taken while the agent was briefly behind (probes held in flight) moves neither.
    span = min(120.0, warm, (end_t - warm) / 3)
    after = [(t / 60, v) for t, v, _ in samples if t >= warm]
    at_warm = [(v, x) for t, v, x in samples if warm - span <= t <= warm]
    at_end = [(v, x) for t, v, x in samples if t >= end_t - span]
    rss_warm = statistics.median(v for v, _ in at_warm)
    rss_end = statistics.median(v for v, _ in at_end)
    anon_warm = statistics.median(x for _, x in at_warm)
    anon_end = statistics.median(x for _, x in at_end)
    growth = 100 * (rss_end - rss_warm) / rss_warm
    slope = slope_kib_per_min(after)
    runs0, _ = metric_sum(warm_text, "outpost_check_runs_total")
    runs1, nchecks = metric_sum(end_text, "outpost_check_runs_total")
    ups, nup = metric_sum(end_text, "outpost_check_up")
    window = end_t - warm_t
    rate = (runs1 - runs0) / window if window > 0 else 0
    p99 = lag_quantile(lag_buckets(warm_text), lag_buckets(end_text), 0.99)
    over = {}
    for txt, sign in ((warm_text, -1), (end_text, 1)):
        for r, v in re.findall(r'^outpost_scheduler_overruns_total\{reason="(\w+)"\} (\S+)$',
                               txt, re.M):
            over[r] = over.get(r, 0) + sign * float(v)
    peak = max(v for t, v, _ in samples if t >= warm)
    peak_warm = max(v for t, v, _ in samples if t < warm)
    # The goal is on the RSS between scrapes after the warm-up (start-up runs every
    # check for the first time at once); VmHWM adds the page of a scrape being
    # rendered and sent, and the warm-up, reported beside it.
    ok_rss = peak / 1024 <= GOAL_RSS_MIB
    ok_growth = growth <= GOAL_GROWTH_PCT

    p = print
    p(f"### Memory: {n:,} checks + {n // 10:,} SLOs, {a.minutes:g} min soak\n")
    p(f"{n:,} checks every 10 s ({a.https_percent} % HTTPS with a fresh handshake each "
      f"probe, the rest HTTP with a JSON or a body expectation) and {n // 10:,} SLOs of 30 "
      f"days, against nginx-light on 127.0.0.1 ("
      f"{'unpinned' if NO_PIN else 'core 1; the agent on core 0'}); scraped "
      f"with gzip every {a.scrape:g} s; RSS sampled every {a.sample:g} s between scrapes; "
      f"warm-up {a.warmup_minutes:g} min.\n")
    p("| figure | value | goal |")
    p("|---|---|---|")
    p(f"| VmRSS at the end of the warm-up (median of its last {span / 60:g} min) | "
      f"{mib(rss_warm)} | |")
    p(f"| VmRSS at the end (median of the last {span / 60:g} min) | {mib(rss_end)} | |")
    p(f"| VmRSS, largest sample in the warm-up | {mib(peak_warm)} | |")
    p(f"| VmRSS, largest sample after the warm-up | {mib(peak)} | <= {GOAL_RSS_MIB} MiB: "
      f"{'pass' if ok_rss else 'FAIL'} |")
    p(f"| VmHWM (peak, a scrape's page included) | {mib(st['VmHWM'])} | |")
    p(f"| RssAnon at the warm-up / at the end | {mib(anon_warm)} / {mib(anon_end)} | |")
    p(f"| RssFile at the end | {mib(st['RssFile'])} | |")
    behind = "" if not any(over.values()) else " (the agent fell behind: see runs late)"
    p(f"| growth after the warm-up | {growth:+.2f} % | <= {GOAL_GROWTH_PCT:g} %: "
      f"{'pass' if ok_growth else 'FAIL'}{behind} |")
    p(f"| least-squares slope after the warm-up ({len(after)} samples) | "
      f"{slope:+.1f} KiB/min | |")
    p(f"| probes a second after the warm-up | {rate:,.0f} | 1,000 |")
    p(f"| checks up at the end | {ups:,.0f} of {nup:,} | all |")
    p(f"| scheduler lag p99 after the warm-up (bucket bound) | "
      f"{'n/a' if p99 is None else f'<= {p99 * 1000:g} ms'} | |")
    p("| runs late / skipped / stalled after the warm-up (0 / 0 / 0: the agent kept up) | "
      + " / ".join(f"{over.get(r, 0):,.0f}" for r in ("late", "skipped", "stalled")) + " | |")
    p(f"| agent CPU after the warm-up | "
      f"{1000 * (end_cpu - warm_cpu) / window:.0f} millicores | |")
    p(f"| scrape time (gzip, Python client) median / max | "
      f"{statistics.median(scrape_ms):.0f} / {max(scrape_ms):.0f} ms, "
      f"{scrape_gz / 2**20:.1f} MiB on the wire | |")
    p(f"| threads | {threads} | |")
    p("")
    p("RSS samples (minute: VmRSS MiB): " + ", ".join(
        f"{t / 60:.1f}: {v / 1024:.1f}" for t, v, _ in samples[::max(1, len(samples) // 20)]))
    p("")
    if nchecks != n or (nup and ups < 0.9 * n):
        raise SystemExit(f"unsound run: {nchecks} checks on the page, {ups:.0f} up")
    return 0


def main():
    global AGENT, NO_PIN
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n".join(__doc__.splitlines()[2:]))
    ap.add_argument("configs", nargs="*", help="'base' or a number of checks (sizing mode)")
    ap.add_argument("--build", default=os.environ.get("OUTPOST_BUILD")
                    or os.path.join(ROOT, "build"), help="build directory")
    ap.add_argument("--seconds", type=float, default=120, help="sizing: measured window")
    ap.add_argument("--warmup", type=float, default=30, help="sizing: seconds before measuring")
    ap.add_argument("--scrape", type=float, default=15, help="scrape interval, seconds")
    ap.add_argument("--checks", type=int, default=10000, help="soak: checks (SLOs: a tenth)")
    ap.add_argument("--minutes", type=float, default=30, help="soak: length, warm-up included")
    ap.add_argument("--warmup-minutes", type=float, default=5, help="soak: warm-up")
    ap.add_argument("--sample", type=float, default=10, help="soak: RSS sample interval, s")
    ap.add_argument("--quick", action="store_true", help="soak: 4 minutes, 1 of warm-up")
    ap.add_argument("--no-pin", action="store_true", help="soak: leave the agent and nginx "
                    "unpinned (a machine shared with other pinned work)")
    ap.add_argument("--https-percent", type=int, help="share of HTTPS checks (soak: 10, "
                    "sizing: 50)")
    a = ap.parse_args()
    NO_PIN = a.no_pin
    if a.https_percent is None:
        a.https_percent = 50 if a.configs else 10
    if a.quick:
        a.minutes, a.warmup_minutes = 4, 1
    if a.warmup_minutes * 60 < 3 * a.sample or a.minutes <= a.warmup_minutes + 0.5:
        ap.error("the warm-up needs three samples and the soak a minute after it")
    AGENT = os.path.join(os.path.abspath(a.build), "outpost")
    if not os.access(AGENT, os.X_OK):
        raise SystemExit(f"{AGENT} is missing: build first (make build, or --build DIR)")

    # run.sh stops its children with SIGTERM: unwind, so the finally blocks stop theirs.
    def on_term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    env = {"POD_IP": "127.0.0.1", "NODE_NAME": "bench"}
    nginx, tmp = None, None
    try:
        configs = a.configs
        if not all(c == "base" for c in configs) or not configs:
            tmp = tempfile.mkdtemp(prefix="outpost-res-nginx-")
            nginx, http, https = start_nginx(tmp, core=None if configs else 1)
        if not configs:
            return soak(a, (http, https), env)
        for c in configs:
            if c == "base":
                # The shipped file probes 127.0.0.1:9469, so the agent listens there.
                with open(BASE_CONFIG) as f:
                    text = f.read()
                print(json.dumps(run("base", text, 9469, a.seconds, a.warmup, a.scrape, env)),
                      flush=True)
                continue
            n = int(c)
            text = checks_config(n, http, https, https_pct=a.https_percent)
            print(json.dumps(run(f"{n} checks", text, free_port(), a.seconds, a.warmup,
                                 a.scrape, env)), flush=True)
    finally:
        if nginx is not None:
            nginx.terminate()
            try:
                nginx.wait(timeout=5)
            except subprocess.TimeoutExpired:
                nginx.kill()
                nginx.wait()
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
