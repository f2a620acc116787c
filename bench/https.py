#!/usr/bin/python3
"""CPU per HTTPS probe: outpost with a large and a one-certificate CA file, and blackbox_exporter.

Run by hand (not part of `make test`); needs openssl, build/outpost and build/outpost-target,
and for the comparison Debian's prometheus-blackbox-exporter:

    bench/https.py                              # 300 probes per row, build/ (or OUTPOST_BUILD)
    bench/https.py --probes 1000 --compare /tmp/outpost-before
    bench/https.py --ca-copies 2                # checks alternate between two CA files

Makes a test CA and a server certificate it signs (RSA 2048, SAN IP:127.0.0.1), serves
https://127.0.0.1:PORT/ok with build/outpost-target, and writes two CA files: the system
bundle (/etc/ssl/certs/ca-certificates.crt) with the test CA appended, and the test CA alone.
Every probe verifies the server against one of them over a fresh connection (outpost's
default: no connection reuse, a full handshake each time).

- outpost: CHECKS checks every INTERVAL, all naming the same CA file. After every check has
  run once (start-up and first loads are not counted), the agent's CPU (utime + stime from
  /proc/PID/stat, all threads) is read, then read again once PROBES more probes have ended
  (outpost_check_runs_total); the difference over the probes is the CPU per probe. Every
  probe must have succeeded. --compare BIN measures another outpost binary the same way in
  the same run (e.g. one built before a change).
- blackbox_exporter: one module with tls_config.ca_file = the same bundle, PROBES sequential
  /probe requests (each must say probe_success 1) after 5 warm-up probes, its CPU read the
  same way. Its figure includes serving the /probe request itself.

Prints a Markdown table (ms of CPU per probe, and each row's ratio to outpost's one-cert
row) and one JSON object per row.
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from benchlib import free_port, get, proc_cpu_seconds, wait_http  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("OUTPOST_BUILD") or os.path.join(ROOT, "build")
AGENT = os.path.join(BUILD, "outpost")
TARGET = os.path.join(BUILD, "outpost-target")
BLACKBOX = shutil.which("prometheus-blackbox-exporter") or shutil.which("blackbox_exporter")
SYSTEM_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"






def openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def make_pki(d):
    """(ca.pem, server cert, server key) in d: a test CA and a server certificate it signs."""
    ca, ca_key = os.path.join(d, "ca.pem"), os.path.join(d, "ca.key")
    cert, key, csr = (os.path.join(d, n) for n in ("server.pem", "server.key", "server.csr"))
    ext = os.path.join(d, "san.ext")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca,
            "-days", "2", "-subj", "/CN=outpost bench CA")
    openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
            "-subj", "/CN=127.0.0.1")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
            "-out", cert, "-days", "2", "-extfile", ext)
    return ca, cert, key


def count_certs(path):
    with open(path) as f:
        return f.read().count("-----BEGIN CERTIFICATE-----")


def metric_sum(text, name, want_labels=""):
    total = 0.0
    for m in re.finditer(rf"^{re.escape(name)}(\{{[^}}]*\}})? (\S+)$", text, re.M):
        if want_labels in (m.group(1) or ""):
            total += float(m.group(2))
    return total


def run_outpost(label, binary, url, ca_file, checks, interval, probes, copies):
    d = tempfile.mkdtemp(prefix="outpost-https-")
    try:
        # copies > 1: the checks take turns at that many copies of the CA file (distinct
        # paths, same content), as checks naming different CA files would.
        files = [ca_file]
        for i in range(1, copies):
            files.append(os.path.join(d, f"ca-copy-{i}.pem"))
            shutil.copyfile(ca_file, files[-1])
        cfg = os.path.join(d, "outpost.yml")
        lines = [f"global: {{interval: {interval}, timeout: {interval}}}", "checks:"]
        for i in range(checks):
            lines += [f"  - name: c{i}", f"    url: {url}",
                      f"    tls: {{ca_file: {files[i % copies]}}}"]
        with open(cfg, "w") as f:
            f.write("\n".join(lines) + "\n")
        port = free_port()
        log = open(os.path.join(d, "agent.log"), "wb")
        agent = subprocess.Popen([binary, f"--config.file={cfg}", f"--storage.path={d}/state",
                                  f"--web.listen-address=127.0.0.1:{port}"],
                                 stdout=log, stderr=log)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_http(base + "/-/ready", agent, label, timeout=15, attempt_timeout=1)
            startup_cpu = proc_cpu_seconds(agent.pid)
            # Warm-up: every check has run once (the first handshake of a process pays
            # one-time costs, e.g. OpenSSL's first fetches), and all verified.
            deadline = time.monotonic() + 60
            while True:
                text = get(base + "/metrics")
                runs = metric_sum(text, "outpost_check_runs_total")
                if runs >= checks:
                    break
                if time.monotonic() > deadline:
                    raise SystemExit(f"{label}: checks did not run")
                time.sleep(0.2)
            cpu0, runs0, t0 = proc_cpu_seconds(agent.pid), runs, time.monotonic()
            while runs < runs0 + probes:
                time.sleep(1)
                text = get(base + "/metrics")
                runs = metric_sum(text, "outpost_check_runs_total")
            cpu1, t1 = proc_cpu_seconds(agent.pid), time.monotonic()
            failures = metric_sum(text, "outpost_check_failures_total")
            if failures:
                raise SystemExit(f"{label}: {failures:.0f} probes failed:\n"
                                 + "\n".join(l for l in text.splitlines()
                                             if l.startswith("outpost_check_failures_total")
                                             and not l.endswith(" 0")))
            n = runs - runs0
            return {"row": label, "probes": int(n), "cpu_seconds": round(cpu1 - cpu0, 2),
                    "cpu_ms_per_probe": round(1000 * (cpu1 - cpu0) / n, 2),
                    "seconds": round(t1 - t0, 1), "startup_cpu_ms": round(1000 * startup_cpu),
                    "binary": binary}
        finally:
            agent.send_signal(signal.SIGTERM)
            agent.wait(timeout=10)
            log.close()
    finally:
        shutil.rmtree(d, ignore_errors=True)


def run_blackbox(url, ca_file, probes):
    d = tempfile.mkdtemp(prefix="outpost-https-bb-")
    try:
        cfg = os.path.join(d, "blackbox.yml")
        with open(cfg, "w") as f:
            f.write("modules:\n  https:\n    prober: http\n    timeout: 5s\n    http:\n"
                    f"      tls_config:\n        ca_file: {ca_file}\n")
        port = free_port()
        log = open(os.path.join(d, "blackbox.log"), "wb")
        bb = subprocess.Popen([BLACKBOX, f"--config.file={cfg}",
                               f"--web.listen-address=127.0.0.1:{port}"], stdout=log, stderr=log)
        base = f"http://127.0.0.1:{port}"
        probe = f"{base}/probe?module=https&target={urllib.request.quote(url, safe='')}"
        try:
            wait_http(base + "/-/healthy", bb, "blackbox_exporter", timeout=15, attempt_timeout=1)

            def one():
                text = get(probe)
                if not re.search(r"^probe_success 1$", text, re.M):
                    raise SystemExit(f"blackbox_exporter probe failed:\n{text}")

            for _ in range(5):
                one()
            cpu0, t0 = proc_cpu_seconds(bb.pid), time.monotonic()
            for _ in range(probes):
                one()
            cpu1, t1 = proc_cpu_seconds(bb.pid), time.monotonic()
            return {"row": "blackbox_exporter, system bundle + test CA", "probes": probes,
                    "cpu_seconds": round(cpu1 - cpu0, 2),
                    "cpu_ms_per_probe": round(1000 * (cpu1 - cpu0) / probes, 2),
                    "seconds": round(t1 - t0, 1), "binary": BLACKBOX}
        finally:
            bb.send_signal(signal.SIGTERM)
            bb.wait(timeout=10)
            log.close()
    finally:
        shutil.rmtree(d, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--probes", type=int, default=300, help="measured probes per row")
    ap.add_argument("--checks", type=int, default=10, help="outpost checks")
    ap.add_argument("--interval", default="1s", help="outpost check interval")
    ap.add_argument("--compare", metavar="BIN", help="another outpost binary to measure too")
    ap.add_argument("--ca-copies", type=int, default=1,
                    help="outpost checks take turns at this many copies of each CA file")
    a = ap.parse_args()
    d = tempfile.mkdtemp(prefix="outpost-https-pki-")
    target = None
    try:
        ca, cert, key = make_pki(d)
        bundle = os.path.join(d, "bundle.pem")
        with open(bundle, "w") as out:
            with open(SYSTEM_BUNDLE) as f:
                out.write(f.read())
            with open(ca) as f:
                out.write(f.read())
        target = subprocess.Popen([TARGET, "--listen", "127.0.0.1:0", "--tls-cert", cert,
                                   "--tls-key", key], stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True)
        m = re.match(r"listening on (\d+)", target.stdout.readline())
        if not m:
            raise SystemExit("target did not start")
        url = f"https://127.0.0.1:{m.group(1)}/ok"
        binaries = [("outpost", AGENT)]
        if a.compare:
            binaries.append((f"outpost ({a.compare})", a.compare))
        rows = []
        for name, binary in binaries:
            for what, ca_file in ((f"system bundle + test CA ({count_certs(bundle)} certs)",
                                   bundle), ("one-cert CA file", ca)):
                if a.ca_copies > 1:
                    what += f", {a.ca_copies} copies"
                rows.append(run_outpost(f"{name}, {what}", binary, url, ca_file, a.checks,
                                        a.interval, a.probes, a.ca_copies))
                print(json.dumps(rows[-1]), flush=True)
        if BLACKBOX:
            rows.append(run_blackbox(url, bundle, a.probes))
            print(json.dumps(rows[-1]), flush=True)
        else:
            print("prometheus-blackbox-exporter not installed: its row is left out",
                  file=sys.stderr)
        one_cert = rows[1]["cpu_ms_per_probe"]
        print("\n| row | probes | CPU ms per probe | ratio to outpost one-cert |")
        print("|---|---|---|---|")
        for r in rows:
            print(f"| {r['row']} | {r['probes']} | {r['cpu_ms_per_probe']:.2f} "
                  f"| {r['cpu_ms_per_probe'] / one_cert:.2f} |")
    finally:
        if target:
            target.terminate()
            target.wait(timeout=5)
        shutil.rmtree(d, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
