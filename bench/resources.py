#!/usr/bin/python3
"""Measure outpost's memory and CPU for sizing Kubernetes requests and limits.

Runs the real agent (OUTPOST_BUILD or ./build) with a configuration, scrapes it the way
Prometheus does (gzip, every SCRAPE seconds), and samples /proc/PID every second:

    bench/resources.py base             # packaging/kubernetes/base/outpost.yml as shipped
    bench/resources.py 100 1000         # N checks against the local test target
    bench/resources.py --seconds 300 1000

For N checks: half HTTPS (a fresh TLS handshake each probe, as by default), a quarter
HTTP with JSON expectations, a quarter plain HTTP; every 10 s; one SLO per 10 checks;
targets served by build/outpost-target on loopback. Prints one JSON object per run:
VmRSS at the end, VmHWM (peak RSS), the cgroup-relevant RssAnon + RssFile, CPU seconds
(utime + stime from /proc/PID/stat) over the measured window and as millicores, the
process_* metrics the agent reports about itself, and the scheduler lag.
"""
import argparse
import gzip
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("OUTPOST_BUILD") or os.path.join(ROOT, "build")
AGENT = os.path.join(BUILD, "outpost")
TARGET = os.path.join(BUILD, "outpost-target")
BASE_CONFIG = os.path.join(ROOT, "packaging", "kubernetes", "base", "outpost.yml")
TICK = os.sysconf("SC_CLK_TCK")


def proc_status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem", "Threads"):
                out[k] = int(v.split()[0])  # kB, or a count for Threads
    return out


def proc_cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def scrape(base):
    req = urllib.request.Request(base + "/metrics", headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(req, timeout=10) as r:
        body = r.read()
        if r.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
    return body.decode()


def metric(text, name):
    m = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def make_certs(d):
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return cert, key


def start_target(tls=None):
    args = [TARGET, "--listen", "127.0.0.1:0", "--seed", "1"]
    if tls:
        args += ["--tls-cert", tls[0], "--tls-key", tls[1]]
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    m = re.match(r"listening on (\d+)", p.stdout.readline())
    if not m:
        p.kill()
        raise SystemExit("target did not start")
    return p, int(m.group(1))


def checks_config(n, http_port, https_port):
    lines = ["global: {interval: 10s, timeout: 5s}", "checks:"]
    for i in range(n):
        kind = i % 4
        if kind in (0, 1):
            lines += [f"  - name: c{i}", f"    url: https://127.0.0.1:{https_port}/ok",
                      "    tls: {insecure_skip_verify: true}"]
        elif kind == 2:
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


def run(label, config_text, port, seconds, warmup, scrape_every, env):
    d = tempfile.mkdtemp(prefix="outpost-res-")
    try:
        cfg = os.path.join(d, "outpost.yml")
        with open(cfg, "w") as f:
            f.write(config_text)
        log = open(os.path.join(d, "agent.log"), "wb")
        agent = subprocess.Popen([AGENT, f"--config.file={cfg}", f"--storage.path={d}/state",
                                  f"--web.listen-address=127.0.0.1:{port}"],
                                 stdout=log, stderr=log, env={**os.environ, **env})
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    urllib.request.urlopen(base + "/-/ready", timeout=1).read()
                    break
                except OSError:
                    if agent.poll() is not None or time.monotonic() > deadline:
                        raise SystemExit(f"{label}: agent did not get ready")
                    time.sleep(0.05)
            time.sleep(warmup)
            cpu0, t0 = proc_cpu_seconds(agent.pid), time.monotonic()
            peak_rss, next_scrape, text = 0, 0.0, ""
            while time.monotonic() - t0 < seconds:
                now = time.monotonic() - t0
                if now >= next_scrape:
                    text = scrape(base)
                    next_scrape += scrape_every
                peak_rss = max(peak_rss, proc_status(agent.pid)["VmRSS"])
                time.sleep(1)
            cpu1, t1 = proc_cpu_seconds(agent.pid), time.monotonic()
            st = proc_status(agent.pid)
            text = scrape(base)
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
            agent.send_signal(signal.SIGTERM)
            agent.wait(timeout=10)
            log.close()
    finally:
        shutil.rmtree(d, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("configs", nargs="+", help="'base' or a number of checks")
    ap.add_argument("--seconds", type=float, default=120, help="measured window")
    ap.add_argument("--warmup", type=float, default=30, help="seconds before measuring")
    ap.add_argument("--scrape", type=float, default=15, help="scrape interval")
    a = ap.parse_args()
    env = {"POD_IP": "127.0.0.1", "NODE_NAME": "bench"}
    targets = []
    try:
        for c in a.configs:
            if c == "base":
                # The shipped file probes 127.0.0.1:9469, so the agent listens there.
                with open(BASE_CONFIG) as f:
                    text = f.read()
                print(json.dumps(run("base", text, 9469, a.seconds, a.warmup, a.scrape, env)),
                      flush=True)
                continue
            if not targets:
                certdir = tempfile.mkdtemp(prefix="outpost-res-certs-")
                http_t = start_target()
                https_t = start_target(make_certs(certdir))
                targets = [http_t, https_t]
            n = int(c)
            text = checks_config(n, targets[0][1], targets[1][1])
            print(json.dumps(run(f"{n} checks", text, free_port(), a.seconds, a.warmup,
                                 a.scrape, env)), flush=True)
    finally:
        for p, _ in targets:
            p.terminate()
            p.wait(timeout=5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
