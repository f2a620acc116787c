"""type: grpc against a real gRPC server (grpcio, tests/support/
grpc_health_server.py) on loopback: SERVING, NOT_SERVING, an unknown service,
TLS with a CA made now, a TLS server that does not speak HTTP/2, and nothing
listening. Exact values from /metrics and /api/v1/checks."""
import calendar
import json
import math
import os
import re
import subprocess
import sys
import time

import pytest

from conftest import free_closed_port, http, wait_for

SERVER = os.path.join(os.path.dirname(__file__), "..", "support", "grpc_health_server.py")


class HealthServer:
    def __init__(self, statuses, tls=None):
        args = ["/usr/bin/python3", SERVER]
        for service, status in statuses.items():
            args += ["--status", f"{service}={status}"]
        if tls:
            args += ["--tls", tls[0], tls[1]]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True)
        line = self.proc.stdout.readline()
        m = re.match(r"listening on (\d+)", line)
        assert m, f"health server did not start: {line!r}"
        self.port = int(m.group(1))

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def not_after(cert):
    out = subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-enddate"], check=True,
                         capture_output=True, text=True).stdout.strip()
    return calendar.timegm(time.strptime(out.split("=", 1)[1], "%b %d %H:%M:%S %Y GMT"))


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A CA (30 days) and a server certificate it signed (5 days) for 127.0.0.1."""
    d = str(tmp_path_factory.mktemp("grpc-pki"))
    ca_key, ca = os.path.join(d, "ca.key"), os.path.join(d, "ca.pem")
    key, csr, cert = (os.path.join(d, n) for n in ("srv.key", "srv.csr", "srv.pem"))
    ext = os.path.join(d, "ext.cnf")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca,
            "-days", "30", "-subj", "/CN=outpost test CA")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
            "-subj", "/CN=127.0.0.1")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:grpc.test\n")
    openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
            "-out", cert, "-days", "5", "-extfile", ext)
    return {"ca": ca, "cert": cert, "key": key, "expiry": not_after(cert)}


@pytest.fixture(scope="module")
def plain():
    s = HealthServer({"": "SERVING", "db": "NOT_SERVING"})
    yield s
    s.stop()


@pytest.fixture(scope="module")
def secure(pki):
    s = HealthServer({"": "SERVING"}, tls=(pki["cert"], pki["key"]))
    yield s
    s.stop()


NAN = float("nan")
# name: (success, reason, detail, HTTP status, grpc_status gauge, serving gauge)
EXPECTED = {
    "serving": (True, None, "", 200, 0, 1),
    "not-serving": (False, "grpc_status", "health status NOT_SERVING (2)", 200, 0, 2),
    "unknown-service": (False, "grpc_status", "grpc-status 5 (NOT_FOUND): unknown service",
                        200, 5, None),
    "tls": (True, None, "", 200, 0, 1),
    "tls-server-name": (True, None, "", 200, 0, 1),
    "tls-untrusted": (False, "tls", None, 0, None, None),
    "not-h2": (False, "other", "not HTTP/2: the server did not choose h2 in TLS ALPN (http/1.1)",
               0, None, None),
    "refused": (False, "connect", "connect: connection refused", 0, None, None),
}


def test_grpc_checks(agent_factory, plain, secure, pki, tls_target):
    closed = free_closed_port()
    cfg = f"""
checks:
  - name: serving
    type: grpc
    target: 127.0.0.1:{plain.port}
    interval: 1s
    timeout: 1s
    metadata:
      x-api-key: ${{env:GRPC_TEST_KEY}}
  - name: not-serving
    type: grpc
    target: 127.0.0.1:{plain.port}
    service: db
    interval: 1s
    timeout: 1s
  - name: unknown-service
    type: grpc
    target: 127.0.0.1:{plain.port}
    service: nope
    interval: 1s
    timeout: 1s
  - name: tls
    type: grpc
    target: 127.0.0.1:{secure.port}
    tls:
      ca_file: {pki["ca"]}
    interval: 1s
    timeout: 1s
  - name: tls-server-name
    type: grpc
    target: 127.0.0.1:{secure.port}
    ip_protocol: ip4
    ip_protocol_fallback: false
    tls:
      ca_file: {pki["ca"]}
      server_name: grpc.test
    interval: 1s
    timeout: 1s
  - name: tls-untrusted
    type: grpc
    target: 127.0.0.1:{secure.port}
    tls: true
    interval: 1s
    timeout: 1s
  - name: not-h2
    type: grpc
    target: 127.0.0.1:{tls_target.port}
    tls:
      insecure_skip_verify: true
    interval: 1s
    timeout: 1s
  - name: refused
    type: grpc
    target: 127.0.0.1:{closed}
    interval: 1s
    timeout: 1s
"""
    a = agent_factory(cfg, env={"GRPC_TEST_KEY": "s3cr3t-value"})

    def all_done():
        st, _, body = http("GET", a.base + "/api/v1/checks")
        doc = json.loads(body)
        done = {c["name"]: c for c in doc["checks"] if c["last_result"] is not None}
        return done if set(EXPECTED) <= set(done) else None
    checks = wait_for(all_done, timeout=20, what="every grpc check to report")
    m = a.metrics()
    for name, (success, reason, detail, status, gstatus, serving) in EXPECTED.items():
        r = checks[name]["last_result"]
        assert r["success"] is success, (name, r)
        assert r["reason"] == reason, (name, r)
        if detail is not None:
            assert r["detail"] == detail, (name, r)
        assert r["status"] == status, (name, r)
        lbl = frozenset({"check": name}.items())
        assert m[("outpost_check_up", lbl)] == (1.0 if success else 0.0), name
        assert m[("outpost_check_http_status_code", lbl)] == status, name
        assert m.get(("outpost_check_grpc_status", lbl)) == gstatus, name
        assert m.get(("outpost_check_grpc_serving", lbl)) == serving, name
        if reason:
            runs = m[("outpost_check_runs_total", lbl)]
            fails = m[("outpost_check_failures_total",
                       frozenset({"check": name, "reason": reason}.items()))]
            # A run may end between the two families' reads of one scrape.
            assert 1 <= fails <= runs + 1, name
    untrusted = checks["tls-untrusted"]["last_result"]["detail"]
    assert untrusted.startswith("tls: ") and "certificate" in untrusted, untrusted
    # The presented chain's expiry, also when verification failed.
    for name in ("tls", "tls-untrusted"):
        assert m[("outpost_check_tls_cert_expiry_timestamp_seconds",
                  frozenset({"check": name}.items()))] == pki["expiry"], name
    assert a.value("outpost_check_info", check="serving", type="grpc",
                   target=f"127.0.0.1:{plain.port}", group="") == 1
    # Metadata is sent but never shown.
    text = a.scrape_text() + http("GET", a.base + "/api/v1/checks")[2].decode() + a.logs()
    assert "s3cr3t-value" not in text


def test_grpc_config_errors(tmp_path):
    from conftest import AGENT_BIN
    cfg = tmp_path / "bad.yml"
    cfg.write_text("""checks:
  - name: a
    type: grpc
    target: "::1:50051"
  - name: b
    type: grpc
    target: 127.0.0.1:0
  - name: c
    type: grpc
    service: x
  - name: d
    type: grpc
    target: 127.0.0.1:50051
    metadata:
      grpc-timeout: "1s"
""")
    p = subprocess.run([AGENT_BIN, f"--config.file={cfg}", "--config.check"],
                       capture_output=True, text=True)
    assert p.returncode != 0
    err = p.stderr
    assert re.search(r'bad\.yml:4:13: checks\[0\] "a"\.target: "::1:50051": an IPv6 address goes '
                     r'in brackets: \[::1\]:port', err), err
    assert re.search(r'bad\.yml:7:13: checks\[1\] "b"\.target: "127\.0\.0\.1:0": port must be a '
                     r'number from 1 to 65535', err), err
    assert re.search(r'bad\.yml:8:5: checks\[2\] "c": missing key "target"$', err, re.M), err
    assert re.search(r'bad\.yml:15:21: checks\[3\] "d"\.metadata\.grpc-timeout: '
                     r'"grpc-timeout" is set by the call itself', err), err
