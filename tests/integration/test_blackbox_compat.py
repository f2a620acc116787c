"""/probe side by side with blackbox_exporter 0.23 (Debian's binary).

Both exporters get the same blackbox.yml (outpost through --modules.file)
and probe the same loopback targets: the test target server (200, 500, a
body that fails a regex, TLS with a certificate made now), a TCP banner
server, a dnsmasq on a free port, ICMP to 127.0.0.1 and a gRPC health
server. For each case the two answers must agree on probe_success, the
status codes, and for every metric name both export, the label keys and
values (never timing values).
"""
import os
import re
import shutil
import socket
import subprocess
import threading
import time

import pytest

from conftest import AGENT_BIN, SLOW, Agent, free_closed_port, http, parse_metrics, wait_for

BLACKBOX = shutil.which("prometheus-blackbox-exporter") or "/usr/bin/prometheus-blackbox-exporter"

# What blackbox exports and outpost does not (docs/metrics.md says so).
NOT_IN_OUTPOST = {"probe_http_last_modified_timestamp_seconds",
                  "probe_ssl_last_chain_expiry_timestamp_seconds", "probe_ssl_last_chain_info"}
# Values that must be equal, where both export them.
EQUAL_VALUES = {"probe_success", "probe_http_status_code", "probe_http_ssl", "probe_http_version",
                "probe_ip_protocol", "probe_failed_due_to_regex", "probe_http_redirects",
                "probe_http_content_length", "probe_http_uncompressed_body_length",
                "probe_tls_version_info", "probe_ssl_earliest_cert_expiry", "probe_ip_addr_hash",
                "probe_dns_answer_rrs", "probe_dns_authority_rrs", "probe_dns_additional_rrs",
                "probe_dns_serial", "probe_icmp_reply_hop_limit", "probe_grpc_status_code",
                "probe_grpc_healthcheck_response", "probe_grpc_ssl"}


def families(text):
    """{name: {frozenset(labels): value}}."""
    out = {}
    for (name, labels), v in parse_metrics(text).items():
        out.setdefault(name, {})[labels] = v
    return out


def compare(bb_text, op_text, case):
    bb, op = families(bb_text), families(op_text)
    missing = set(bb) - set(op) - NOT_IN_OUTPOST
    assert not missing, f"{case}: blackbox exports {sorted(missing)}, outpost does not"
    for name in sorted(set(bb) & set(op)):
        assert set(bb[name]) == set(op[name]), \
            f"{case}: {name} label sets differ: blackbox {bb[name]} outpost {op[name]}"
        if name in EQUAL_VALUES:
            assert bb[name] == op[name], f"{case}: {name}: blackbox {bb[name]} outpost {op[name]}"
    return bb, op


class Blackbox:
    def __init__(self, tmpdir, config_path):
        self.port = free_closed_port()
        self.log = open(os.path.join(tmpdir, "blackbox.log"), "wb")
        self.proc = subprocess.Popen(
            [BLACKBOX, f"--config.file={config_path}",
             f"--web.listen-address=127.0.0.1:{self.port}"],
            stdout=self.log, stderr=self.log)
        self.base = f"http://127.0.0.1:{self.port}"
        wait_for(lambda: self._up(), what="blackbox_exporter to listen")

    def _up(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"blackbox_exporter exited {self.proc.returncode}")
        try:
            return http("GET", self.base + "/-/healthy", timeout=1)[0] == 200
        except OSError:
            return False

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.log.close()


def probe(base, module, target, headers=None):
    status, hdrs, body = http("GET", f"{base}/probe?module={module}&target={target}",
                              headers=headers, timeout=30)
    return status, hdrs, body.decode()


def start_pair(tmp_path, modules_yaml, prober):
    """blackbox_exporter and outpost on the same modules."""
    d = tmp_path / prober
    d.mkdir()
    cfg = d / "blackbox.yml"
    cfg.write_text(modules_yaml)
    agent = Agent(str(d), "checks: []\n", extra_args=[f"--modules.file={cfg}"])
    bb = Blackbox(str(d), str(cfg))
    return agent, bb


@pytest.fixture
def pair(tmp_path):
    started = []

    def make(modules_yaml, prober):
        a, b = start_pair(tmp_path, modules_yaml, prober)
        started.append((a, b))
        return a, b
    yield make
    for a, b in started:
        b.stop()
        rc, _ = a.stop()
        logs = a.logs()
        assert "Sanitizer" not in logs and "runtime error:" not in logs, logs
        assert rc == 0, logs


HTTP_MODULES = """modules:
  http_2xx:
    prober: http
    timeout: 5s
  http_regex:
    prober: http
    timeout: 5s
    http:
      fail_if_body_not_matches_regexp: ["no-such-text"]
  http_tls:
    prober: http
    timeout: 5s
    http:
      tls_config:
        ca_file: {ca}
"""


def test_http_side_by_side(pair, target, tls_target, certs):
    agent, bb = pair(HTTP_MODULES.format(ca=certs[0]), "http")
    cases = [("http_2xx", target.url("/ok"), 1, 200),
             ("http_2xx", target.url("/status/500"), 0, 500),
             ("http_regex", target.url("/ok"), 0, 200),
             ("http_tls", tls_target.url("/ok"), 1, 200)]
    for module, url, success, code in cases:
        s1, _, bb_text = probe(bb.base, module, url)
        s2, hdrs, op_text = probe(agent.base, module, url)
        assert (s1, s2) == (200, 200), (bb_text, op_text)
        assert hdrs["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
        b, o = compare(bb_text, op_text, f"{module} {url}")
        assert o["probe_success"][frozenset()] == success, op_text
        assert o["probe_http_status_code"][frozenset()] == code, op_text
    # The regex failure says why, in outpost's own family.
    _, _, op_text = probe(agent.base, "http_regex", target.url("/ok"))
    assert families(op_text)["probe_failure_reason"][frozenset({("reason", "body")})] == 1
    # TLS: the families blackbox adds over TLS are there, with its values.
    _, _, op_text = probe(agent.base, "http_tls", tls_target.url("/ok"))
    o = families(op_text)
    assert o["probe_ssl_earliest_cert_expiry"][frozenset()] == certs[2]
    assert len(o["probe_tls_version_info"]) == 1


def test_http_errors_match_blackbox(pair, target, certs):
    agent, bb = pair(HTTP_MODULES.format(ca=certs[0]), "http")
    for base in (bb.base, agent.base):
        status, _, body = probe(base, "nope", target.url("/ok"))
        assert (status, body) == (400, 'Unknown module "nope"\n')
        status, _, body = http("GET", f"{base}/probe?module=http_2xx")
        assert (status, body.decode()) == (400, "Target parameter is missing\n")
    # The timeout header is blackbox's rule: a header that is not a number is a 500.
    for base in (bb.base, agent.base):
        status, _, _ = probe(base, "http_2xx", target.url("/ok"),
                             headers={"X-Prometheus-Scrape-Timeout-Seconds": "ten"})
        assert status == 500


def test_http_timeout_from_header(pair, target, certs):
    """A target slower than the scrape timeout: both give up after the header's
    value minus 0.5 s, and the handler never waits much longer."""
    agent, bb = pair(HTTP_MODULES.format(ca=certs[0]), "http")
    hdr = {"X-Prometheus-Scrape-Timeout-Seconds": "1.5"}
    t0 = time.monotonic()
    s, _, op_text = probe(agent.base, "http_2xx", target.url("/sleep/5000"), headers=hdr)
    took = time.monotonic() - t0
    assert s == 200
    assert 0.95 <= took < 1.0 + 0.25 + 0.3 * SLOW, took
    o = families(op_text)
    assert o["probe_success"][frozenset()] == 0
    assert o["probe_failure_reason"][frozenset({("reason", "timeout")})] == 1
    _, _, bb_text = probe(bb.base, "http_2xx", target.url("/sleep/5000"), headers=hdr)
    compare(bb_text, op_text, "timeout")


TCP_MODULES = """modules:
  tcp_connect:
    prober: tcp
    timeout: 5s
  tcp_banner:
    prober: tcp
    timeout: 5s
    tcp:
      query_response:
        - expect: "^SSH-2.0-"
"""


@pytest.fixture
def banner_server():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    stop = threading.Event()

    def serve():
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                c, _ = srv.accept()
            except OSError:
                continue
            try:
                c.sendall(b"SSH-2.0-outpost-test\r\n")
            except OSError:
                pass
            c.close()
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield srv.getsockname()[1]
    stop.set()
    t.join()
    srv.close()


def test_tcp_side_by_side(pair, banner_server):
    agent, bb = pair(TCP_MODULES, "tcp")
    closed = free_closed_port()
    for module, tgt, success in [("tcp_connect", f"127.0.0.1:{banner_server}", 1),
                                 ("tcp_banner", f"127.0.0.1:{banner_server}", 1),
                                 ("tcp_connect", f"127.0.0.1:{closed}", 0)]:
        _, _, bb_text = probe(bb.base, module, tgt)
        _, _, op_text = probe(agent.base, module, tgt)
        _, o = compare(bb_text, op_text, f"{module} {tgt}")
        assert o["probe_success"][frozenset()] == success


DNS_MODULES = """modules:
  dns_a:
    prober: dns
    timeout: 5s
    dns:
      query_name: www.example.test
      query_type: A
      transport_protocol: udp
      preferred_ip_protocol: ip4
  dns_soa:
    prober: dns
    timeout: 5s
    dns:
      query_name: example.test
      query_type: SOA
      preferred_ip_protocol: ip4
"""


@pytest.fixture
def dnsmasq(tmp_path):
    port = free_closed_port()
    proc = subprocess.Popen(
        ["dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
         f"--port={port}", "--listen-address=127.0.0.1", "--bind-interfaces",
         f"--pid-file={tmp_path / 'dnsmasq.pid'}", "--user=" + (os.environ.get("USER") or "root"),
         "--address=/www.example.test/192.0.2.10", "--auth-zone=example.test",
         "--auth-server=ns.example.test", "--auth-soa=2026120101,hostmaster.example.test"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def up():
        if proc.poll() is not None:
            raise AssertionError(f"dnsmasq exited: {proc.stderr.read()}")
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.connect(("127.0.0.1", port))
            return True
        finally:
            s.close()
    wait_for(up, what="dnsmasq")
    yield port
    proc.terminate()
    proc.wait(timeout=5)


def test_dns_side_by_side(pair, dnsmasq):
    agent, bb = pair(DNS_MODULES, "dns")
    for module in ("dns_a", "dns_soa"):
        _, _, bb_text = probe(bb.base, module, f"127.0.0.1:{dnsmasq}")
        _, _, op_text = probe(agent.base, module, f"127.0.0.1:{dnsmasq}")
        compare(bb_text, op_text, module)


ICMP_MODULES = """modules:
  icmp:
    prober: icmp
    timeout: 5s
    icmp:
      preferred_ip_protocol: ip4
"""


def test_icmp_side_by_side(pair):
    agent, bb = pair(ICMP_MODULES, "icmp")
    _, _, bb_text = probe(bb.base, "icmp", "127.0.0.1")
    _, _, op_text = probe(agent.base, "icmp", "127.0.0.1")
    _, o = compare(bb_text, op_text, "icmp")
    assert o["probe_success"][frozenset()] == 1


GRPC_MODULES = """modules:
  grpc_plain:
    prober: grpc
    timeout: 5s
    grpc:
      tls: false
      preferred_ip_protocol: ip4
"""


def test_grpc_side_by_side(pair, tmp_path):
    server = os.path.join(os.path.dirname(__file__), "..", "support", "grpc_health_server.py")
    agent, bb = pair(GRPC_MODULES, "grpc")
    proc = subprocess.Popen(["/usr/bin/python3", server, "--status", "=SERVING"],
                            stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        port = int(re.match(r"listening on (\d+)", line).group(1))
        _, _, bb_text = probe(bb.base, "grpc_plain", f"127.0.0.1:{port}")
        _, _, op_text = probe(agent.base, "grpc_plain", f"127.0.0.1:{port}")
        _, o = compare(bb_text, op_text, "grpc")
        assert o["probe_success"][frozenset()] == 1
    finally:
        proc.terminate()
        proc.wait(timeout=5)


# ---- outpost's own rules of /probe (no blackbox_exporter needed) ----

OWN_CONFIG = """checks: []
modules:
  with_secret:
    prober: http
    timeout: 5s
    http:
      basic_auth:
        username: prober
        password: S3cret-Pa55-{tag}
  loopback_only:
    prober: http
    timeout: 5s
    allowed_targets: ["http://127\\\\.0\\\\.0\\\\.1:{port}/.*"]
    http:
      basic_auth:
        username: prober
        password: S3cret-Pa55-{tag}
"""


@pytest.fixture
def counting_server():
    """A listener that counts the connections made to it (and closes them)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    srv.settimeout(0.1)
    count = [0]
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                c, _ = srv.accept()
            except OSError:
                continue
            count[0] += 1
            c.close()
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield srv.getsockname()[1], count
    stop.set()
    t.join()
    srv.close()


def own_agent(agent_factory, target, extra=()):
    return agent_factory(OWN_CONFIG.format(tag="x9", port=target.port), extra_args=list(extra))


def test_not_an_open_proxy(agent_factory, target, counting_server):
    agent = own_agent(agent_factory, target)
    port, count = counting_server
    status, _, body = probe(agent.base, "loopback_only", f"http://127.0.0.1:{port}/x")
    assert (status, body) == (403, 'target not allowed by module "loopback_only"\n')
    # Nothing was done for it: no connection, so its credentials went nowhere.
    assert count[0] == 0
    status, _, body = probe(agent.base, "loopback_only", target.url("/ok"))
    assert status == 200 and "\nprobe_success 1\n" in body


def test_debug_never_shows_a_secret(agent_factory, target):
    agent = own_agent(agent_factory, target)
    status, hdrs, body = http("GET", f"{agent.base}/probe?module=with_secret&target="
                              f"{target.url('/status/500')}&debug=true")
    text = body.decode()
    assert status == 200
    assert hdrs["Content-Type"].startswith("text/plain")
    assert text.startswith("Logs for the probe:\n")
    assert "\n\n\nMetrics that would have been returned:\n" in text
    assert "\nprobe_http_status_code 500\n" in text
    assert "\n\n\nModule configuration:\n" in text
    assert 'msg="Probe failed"' in text
    assert "S3cret-Pa55" not in text
    assert "<secret>" in text


def test_concurrency_limit_and_request_counter(agent_factory, target):
    agent = own_agent(agent_factory, target, extra=["--probe.max-concurrent=1"])
    # A target that takes connections and never answers: its probe holds the
    # one place until the module's timeout (5 s).
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    slow_status = []
    slow = threading.Thread(target=lambda: slow_status.append(probe(
        agent.base, "with_secret", f"http://127.0.0.1:{silent.getsockname()[1]}/")[0]))
    slow.start()
    conn = None
    try:
        # The slow probe holds the place once its connection arrives: only then
        # may another request be expected to find the places full.
        silent.settimeout(10)
        conn, _ = silent.accept()

        def refused():
            s, h, body = probe(agent.base, "with_secret", target.url("/ok"))
            return s == 503 and (h, body)
        hdrs, body = wait_for(refused, timeout=4, what="a 503 while a probe is in flight")
        assert hdrs["Retry-After"] == "1"
        assert body == "too many probes in flight (--probe.max-concurrent=1); retry later\n"
    finally:
        slow.join()
        if conn:
            conn.close()
        silent.close()
    assert slow_status == [200]
    assert agent.value("outpost_http_requests_total", handler="probe", code="503") >= 1
    assert agent.value("outpost_http_requests_total", handler="probe", code="200") >= 1


def test_max_concurrent_flag_checked():
    r = subprocess.run([AGENT_BIN, "--probe.max-concurrent=0"], capture_output=True, text=True)
    assert r.returncode == 2
    assert "--probe.max-concurrent needs a number from 1 to 10000" in r.stderr
