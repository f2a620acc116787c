"""Abusive HTTP clients against the real agent: slowloris from the health
checker's own address, connections that never finish their request, scrapers
that never read, and bursts of concurrent scrapes.

Every client here is on loopback and every loop is bounded in time. A
"trickler" keeps sockets open by sending one header byte at a time and never
finishing, reconnecting whenever the agent closes one (as a real slowloris
does). A "never-reader" sends GET /metrics with a tiny receive buffer and never
reads the answer. The 10,000-check agent probes a closed loopback port once an
hour, so its metrics page is large (about 18 MB) and steady.
"""
import gzip
import http.client
import os
import socket
import subprocess
import threading
import time

import pytest

from conftest import AGENT_BIN, Agent, free_closed_port, parse_metrics, wait_for

SANITIZED = bool(os.environ.get("OUTPOST_SANITIZED"))


def small_config(target):
    return f"""
checks:
  - name: a
    url: {target.url('/ok')}
    interval: 1s
"""


def get(base_port, path, source="127.0.0.1", timeout=5.0, headers=None):
    """(status, seconds, body) of one request on a fresh connection."""
    t0 = time.monotonic()
    c = http.client.HTTPConnection("127.0.0.1", base_port, timeout=timeout,
                                   source_address=(source, 0))
    try:
        c.request("GET", path, headers=headers or {})
        r = c.getresponse()
        body = r.read()
        return r.status, time.monotonic() - t0, body
    finally:
        c.close()


def metrics(port):
    st, _, body = get(port, "/metrics", timeout=30)
    assert st == 200
    return parse_metrics(body.decode())


def counter(m, name, **labels):
    return m.get((name, frozenset(labels.items())), 0.0)


def vm_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


class Trickler:
    """n sockets from 127.0.0.1 that each send one header byte every
    `every` seconds and never finish; closed sockets are reopened."""

    def __init__(self, port, n, every):
        self.port, self.n, self.every = port, n, every
        self.socks = [None] * n
        self.opened = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def open_one(self):
        s = socket.socket()
        s.settimeout(1.0)
        try:
            s.connect(("127.0.0.1", self.port))
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
            self.opened += 1
            return s
        except OSError:
            s.close()
            return None

    def run(self):
        for i in range(self.n):
            if self.stop.is_set():
                return
            self.socks[i] = self.open_one()
        while not self.stop.wait(self.every):
            for i, s in enumerate(self.socks):
                try:
                    if s is None:
                        raise OSError
                    s.sendall(b"X")
                except OSError:
                    if s is not None:
                        s.close()
                    self.socks[i] = self.open_one()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=30)
        for s in self.socks:
            if s is not None:
                s.close()


@pytest.mark.parametrize("flag,value,message", [
    ("--web.max-connections", "0", "needs a number from 1 to 65536"),
    ("--web.max-connections", "1k", "needs a number from 1 to 65536"),
    ("--web.max-connections-per-ip", "-1", "needs a number from 0 to 65536"),
    ("--web.read-timeout", "500ms", "needs a duration from 1s to 1h"),
    ("--web.read-timeout", "2h", "needs a duration from 1s to 1h"),
    ("--web.max-response-memory", "100KiB", "needs auto or a size from 1MiB to 64GiB"),
    ("--web.max-response-memory", "lots", "needs auto or a size from 1MiB to 64GiB"),
])
def test_bad_flag_values(flag, value, message):
    r = subprocess.run([AGENT_BIN, f"{flag}={value}"], capture_output=True, text=True,
                       timeout=10)
    assert r.returncode == 2 and f"outpost: {flag} {message}" in r.stderr, r.stderr


def test_help_names_the_limits():
    out = subprocess.run([AGENT_BIN, "--help"], capture_output=True, text=True).stdout
    for flag in ("--web.max-connections=512", "--web.max-connections-per-ip=64",
                 "--web.read-timeout=10s", "--web.max-response-memory=auto"):
        assert flag in out


def test_slowloris_from_the_health_checkers_address(agent_factory, target):
    """300 trickling sockets from 127.0.0.1 while /-/healthy, /-/ready and
    /metrics are asked from 127.0.0.1: each answers within 1 s, every time,
    and the agent is back to normal once the attack stops."""
    a = agent_factory(small_config(target))
    latencies = []
    with Trickler(a.port, 300, every=2.0) as t:
        wait_for(lambda: t.opened >= 300, timeout=20, what="300 trickling sockets")
        deadline = time.monotonic() + 12
        while time.monotonic() < deadline:
            for path in ("/-/healthy", "/-/ready", "/metrics"):
                st, secs, _ = get(a.port, path, timeout=5)
                assert st == 200, path
                latencies.append(secs)
                assert secs < 1.0, f"{path} took {secs:.3f} s under slowloris"
            time.sleep(0.25)
        # The attack did reach the limits: its sockets were evicted (and it
        # reopened them), not just queued.
        m = metrics(a.port)
        assert counter(m, "outpost_http_connections_closed_total", reason="evicted") > 0
        assert t.opened > 300
        # At most --web.max-connections-per-ip (64) of them are held, plus
        # this scrape's own connection and those being closed right now (the
        # attack alone would hold 300).
        assert m[("outpost_http_connections", frozenset())] <= 100
    assert len(latencies) >= 30
    # Recovery: the agent holds nothing of the attack and serves as before.
    wait_for(lambda: metrics(a.port)[("outpost_http_connections", frozenset())] == 1,
             timeout=10, what="the attack's connections to be gone")
    for path in ("/-/healthy", "/-/ready", "/metrics"):
        assert get(a.port, path)[0] == 200
    # A small agent's pages are a few KiB: auto holds at most 8 MiB of them.
    assert metrics(a.port)[("outpost_http_response_memory_limit_bytes", frozenset())] == 8 << 20
    print(f"health under slowloris: {len(latencies)} requests, "
          f"max {max(latencies) * 1000:.1f} ms, median "
          f"{sorted(latencies)[len(latencies) // 2] * 1000:.1f} ms")


def closed_after(sock, trickle, limit=6.0):
    """Seconds until the agent closes sock while `trickle` bytes go out every
    0.25 s; None when it stays open for `limit` seconds."""
    t0 = time.monotonic()
    sock.settimeout(0.25)
    while time.monotonic() - t0 < limit:
        try:
            if trickle:
                sock.sendall(trickle)
            if sock.recv(1) == b"":
                return time.monotonic() - t0
        except socket.timeout:
            continue
        except OSError:
            return time.monotonic() - t0
    return None


def test_read_timeout(agent_factory, target):
    """--web.read-timeout closes a connection whose request is not complete
    that long after it connected: trickled headers, a trickled body, or
    nothing at all."""
    a = agent_factory(small_config(target), extra_args=["--web.read-timeout=2s"])
    headers = socket.create_connection(("127.0.0.1", a.port))
    headers.sendall(b"GET / HTTP/1.1\r\n")
    body = socket.create_connection(("127.0.0.1", a.port))
    body.sendall(b"POST /gates/flagger/c HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{")
    silent = socket.create_connection(("127.0.0.1", a.port))
    results = {}
    threads = [threading.Thread(target=lambda k=k, s=s, t=t: results.update(
        {k: closed_after(s, t)})) for k, s, t in
        (("headers", headers, b"X"), ("body", body, b" "), ("silent", silent, b""))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in (headers, body, silent):
        s.close()
    for k, secs in results.items():
        assert secs is not None and 1.9 <= secs < 3.5, (k, secs)
    m = metrics(a.port)
    assert counter(m, "outpost_http_connections_closed_total", reason="read_timeout") == 3
    assert counter(m, "outpost_http_connections_closed_total", reason="evicted") == 0
    # A prompt request is served as always.
    assert get(a.port, "/-/healthy")[0] == 200


# ---- a 10,000-check agent ----

def big_config(n):
    port = free_closed_port()
    lines = ["checks:"]
    for i in range(n):
        lines.append(f"  - name: c{i:05d}\n    url: http://127.0.0.1:{port}/\n    interval: 1h")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def big_agent(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("big"))
    # 40 a address: one burst of never-readers from one address (at most
    # --web.max-requests, 40, wait for a render at once) fills that limit.
    a = Agent(d, big_config(10000), extra_args=["--web.max-connections-per-ip=40"])
    yield a
    rc, _ = a.stop()
    logs = a.logs()
    assert "Sanitizer" not in logs and "runtime error:" not in logs, logs
    assert rc == 0, logs


def never_reader(port, source):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    return s


def gone(s):
    """The agent closed this never-reader (whatever it had sent is drained
    first); False while it is open."""
    while True:
        try:
            b = s.recv(65536, socket.MSG_DONTWAIT)
        except BlockingIOError:
            return False
        except OSError:
            return True
        if not b:
            return True


def answered(s):
    """The agent started sending this never-reader its answer (it was
    rendered and queued); False while nothing arrived, None once closed."""
    try:
        b = s.recv(16, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except BlockingIOError:
        return False
    except OSError:
        return None
    return b.startswith(b"HTTP/1.1 200") if b else None


def test_concurrent_scrapes_share_one_render(big_agent):
    """20 scrapes that arrive together share one render, byte for byte;
    content negotiation (OpenMetrics, gzip) still applies."""
    port = big_agent.port
    om_gzip = {"Accept": "application/openmetrics-text; version=1.0.0",
               "Accept-Encoding": "gzip"}
    before = counter(metrics(port), "outpost_http_page_renders_total", handler="metrics",
                     format="openmetrics", encoding="gzip")
    # A first render of the variant: the next one waits min(3x its time, 1 s)
    # after it, so the 20 below, sent together within that pause, share it.
    st, _, body = get(port, "/metrics", headers=om_gzip, timeout=30)
    assert st == 200 and gzip.decompress(body).endswith(b"# EOF\n")
    conns = []
    for _ in range(20):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        c.connect()
        conns.append(c)
    bodies = [None] * 20
    go = threading.Barrier(20)

    def scrape(i):
        go.wait()
        conns[i].request("GET", "/metrics", headers=om_gzip)
        r = conns[i].getresponse()
        assert r.getheader("Content-Encoding") == "gzip"
        assert r.getheader("Content-Type").startswith("application/openmetrics-text")
        bodies[i] = r.read()

    threads = [threading.Thread(target=scrape, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    for c in conns:
        c.close()
    assert all(b is not None for b in bodies)
    assert len(set(bodies)) == 1
    text = gzip.decompress(bodies[0])
    assert text.endswith(b"# EOF\n") and b'outpost_check_info{check="c09999"' in text
    after = counter(metrics(port), "outpost_http_page_renders_total", handler="metrics",
                    format="openmetrics", encoding="gzip")
    assert after - before == 2  # the first scrape's render, and one for all 20


def test_never_readers_hold_bounded_memory(big_agent):
    """120 scrapers that never read, in four waves that each get renders of
    their own, add at most 64 MiB to the agent's RSS: pages past
    --web.max-response-memory (48 MiB) are withdrawn and their connections
    closed. A never-reader past its address's limit is refused (nothing of
    that address waits for a request). Once they go, the agent serves as
    before."""
    port, pid = big_agent.port, big_agent.proc.pid
    page = len(get(port, "/metrics", timeout=30)[2])
    assert page > 15 << 20
    m0 = metrics(port)
    rss0 = vm_rss_kib(pid)
    socks, waves = [], []
    for w in range(4):
        wave = [never_reader(port, f"127.0.0.{2 + w}") for _ in range(30)]
        # Served: every one of them got the start of its answer.
        wait_for(lambda: all(answered(s) is not False for s in wave), timeout=30,
                 what=f"wave {w} to be answered")
        socks += wave
        waves.append(wave)
    rss1 = vm_rss_kib(pid)
    growth_mib = (rss1 - rss0) / 1024
    print(f"never-readers: page {page / 2**20:.1f} MiB, RSS {rss0 / 1024:.1f} MiB -> "
          f"{rss1 / 1024:.1f} MiB (+{growth_mib:.1f} MiB)")
    if not SANITIZED:  # ASan keeps freed memory in quarantine: RSS says nothing
        assert growth_mib <= 64
    # Four pages would be 4 x 18 MB: the first waves' pages were withdrawn,
    # and their connections closed at once.
    m1 = metrics(port)
    cut = (counter(m1, "outpost_http_connections_closed_total", reason="response_memory")
           - counter(m0, "outpost_http_connections_closed_total", reason="response_memory"))
    assert cut >= 30
    # auto: three times the largest page (52 MB), at most 48 MiB.
    assert m1[("outpost_http_response_memory_limit_bytes", frozenset())] == 48 << 20
    assert all(gone(s) for s in waves[0])
    # One address, 40 connections answering (never-readers): a 41st from it
    # is refused, as nothing of that address waits for a request.
    held = [never_reader(port, "127.0.0.9") for _ in range(40)]
    wait_for(lambda: all(answered(s) for s in held), timeout=30,
             what="40 never-readers from one address to be answered")
    extra = never_reader(port, "127.0.0.9")
    wait_for(lambda: gone(extra), timeout=10, what="the 41st to be refused")
    m2 = metrics(port)
    assert (counter(m2, "outpost_http_connections_refused_total", limit="max_connections_per_ip")
            - counter(m1, "outpost_http_connections_refused_total",
                      limit="max_connections_per_ip")) == 1
    for s in socks + held + [extra]:
        s.close()
    wait_for(lambda: metrics(port)[("outpost_http_connections", frozenset())] == 1,
             timeout=30, what="the never-readers' connections to be gone")
    for path in ("/-/healthy", "/-/ready", "/api/v1/checks/c00000"):
        assert get(port, path)[0] == 200
    rss2 = vm_rss_kib(pid)
    print(f"after they left: RSS {rss2 / 1024:.1f} MiB")
