"""Helpers the bench/ scripts share: free loopback ports, a process's CPU time,
plain GETs, waiting for a server to answer, the test target, and stopping
what a script started."""
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request

TICK = os.sysconf("SC_CLK_TCK")


def free_port():
    """A port on 127.0.0.1 free at the time of the call."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def proc_cpu_seconds(pid):
    """utime + stime of every thread of pid, in seconds (/proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def get(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def wait_http(url, proc, what, timeout=20, attempt_timeout=2):
    """The first answer of url; exits when proc ends or timeout passes first."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return get(url, timeout=attempt_timeout)
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{what} did not get ready ({url})")
            time.sleep(0.05)


def start_target(build):
    """outpost-target (tests/support/target.c) on a free port, pinned to core 1:
    (process, port). The caller stops it."""
    args = ["taskset", "-c", "1", os.path.join(build, "outpost-target"),
            "--listen", "127.0.0.1:0", "--seed", "1"]
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    m = re.match(r"listening on (\d+)", p.stdout.readline())
    if not m:
        p.kill()
        raise SystemExit("target did not start")
    return p, int(m.group(1))


def stop(p):
    """SIGTERM p if it still runs, then SIGKILL after 10 s; reaped either way."""
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
