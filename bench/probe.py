#!/usr/bin/python3
"""/probe side by side: outpost and blackbox_exporter answering the same modules.

Run by hand (not part of `make test`); needs build/outpost, build/outpost-target and
Debian's prometheus-blackbox-exporter:

    bench/probe.py                    # 500 probes per row, build/ (or OUTPOST_BUILD)
    bench/probe.py --probes 2000

Serves http://127.0.0.1:PORT/ok with build/outpost-target and gives both exporters the
same blackbox.yml (outpost through --modules.file): an http module (preferred_ip_protocol
ip4) and a tcp module. For each module and exporter: 20 warm-up requests, then PROBES
sequential /probe requests (each must say probe_success 1), timing each request at the
client, and the exporter's CPU (utime + stime, all threads, /proc/PID/stat) before and
after. Prints a Markdown table: median and p99 request latency, CPU per probe, and
outpost's ratio to blackbox_exporter for each.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from benchlib import free_port, proc_cpu_seconds  # noqa: E402

MODULES = """modules:
  http_2xx:
    prober: http
    timeout: 5s
    http:
      preferred_ip_protocol: ip4
  tcp_connect:
    prober: tcp
    timeout: 5s
"""


def wait_up(url):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"not answering: {url}")


def measure(url, pid, probes):
    for _ in range(20):
        urllib.request.urlopen(url).read()
    before = proc_cpu_seconds(pid)
    lat = []
    for _ in range(probes):
        t = time.perf_counter()
        body = urllib.request.urlopen(url).read().decode()
        lat.append(time.perf_counter() - t)
        if "\nprobe_success 1\n" not in "\n" + body:
            sys.exit(f"probe failed: {url}\n{body[:400]}")
    cpu = (proc_cpu_seconds(pid) - before) / probes
    lat.sort()
    return lat[len(lat) // 2], lat[min(len(lat) - 1, int(len(lat) * 0.99))], cpu


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--probes", type=int, default=500)
    ap.add_argument("--build", default=os.environ.get("OUTPOST_BUILD", "build"))
    args = ap.parse_args()
    bb_bin = shutil.which("prometheus-blackbox-exporter")
    if not bb_bin:
        sys.exit("needs prometheus-blackbox-exporter (apt-get install prometheus-blackbox-exporter)")
    tmp = tempfile.mkdtemp(prefix="outpost-bench-probe-")
    cfg = os.path.join(tmp, "blackbox.yml")
    with open(cfg, "w") as f:
        f.write(MODULES)
    with open(os.path.join(tmp, "outpost.yml"), "w") as f:
        f.write("checks: []\n")
    tp, op, bp = free_port(), free_port(), free_port()
    procs = []
    try:
        procs.append(subprocess.Popen(
            [os.path.join(args.build, "outpost-target"), "--listen", f"127.0.0.1:{tp}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        agent = subprocess.Popen(
            [os.path.join(args.build, "outpost"), f"--config.file={tmp}/outpost.yml",
             f"--modules.file={cfg}", f"--web.listen-address=127.0.0.1:{op}",
             f"--storage.path={tmp}/data"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(agent)
        bb = subprocess.Popen([bb_bin, f"--config.file={cfg}",
                               f"--web.listen-address=127.0.0.1:{bp}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(bb)
        wait_up(f"http://127.0.0.1:{tp}/ok")
        wait_up(f"http://127.0.0.1:{op}/-/ready")
        wait_up(f"http://127.0.0.1:{bp}/-/healthy")
        print("| module | exporter | median ms | p99 ms | CPU µs per probe | median ratio | CPU ratio |")
        print("|---|---|---|---|---|---|---|")
        for module, target in (("http_2xx", f"http://127.0.0.1:{tp}/ok"),
                               ("tcp_connect", f"127.0.0.1:{tp}")):
            rows = {}
            for name, port, proc in (("outpost", op, agent), ("blackbox_exporter", bp, bb)):
                url = f"http://127.0.0.1:{port}/probe?module={module}&target={target}"
                rows[name] = measure(url, proc.pid, args.probes)
            base = rows["blackbox_exporter"]
            for name, (med, p99, cpu) in rows.items():
                print(f"| {module} | {name} | {med * 1e3:.2f} | {p99 * 1e3:.2f} | {cpu * 1e6:.0f} "
                      f"| {med / base[0]:.2f} | {cpu / base[2]:.2f} |")
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
