"""Fixtures for outpost integration tests.

Every server runs on 127.0.0.1 with a port the kernel picks (port 0), and
is stopped at the end of its fixture: nothing is left running. Nothing
sleeps to paper over races: helpers poll a condition with a deadline.
"""
import calendar
import gzip
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

BUILD = os.environ.get("OUTPOST_BUILD") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build")
AGENT_BIN = os.path.join(BUILD, "outpost")
TARGET_BIN = os.path.join(BUILD, "outpost-target")
# Sanitizer builds start slower; only start-up deadlines are stretched, never
# the timing assertions under test.
SLOW = 3.0 if os.environ.get("OUTPOST_SANITIZED") else 1.0


def wait_for(cond, timeout=10.0, interval=0.02, what="condition"):
    """Poll cond() until it returns a truthy value; fail after timeout."""
    deadline = time.monotonic() + timeout * SLOW
    last = None
    while time.monotonic() < deadline:
        last = cond()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout * SLOW:.1f}s waiting for {what}")


def http(method, url, data=None, headers=None, timeout=10, context=None):
    """(status, headers, body bytes); never raises on HTTP error statuses.
    context: an ssl.SSLContext for https URLs."""
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=context) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """{(name, frozenset(labels.items())): float} from the text format."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        assert m, f"unparsable line: {line!r}"
        labels = {}
        if m.group(3):
            for k, v in _LABEL.findall(m.group(3)):
                labels[k] = v.replace('\\n', '\n').replace('\\"', '"').replace('\\\\', '\\')
        out[(m.group(1), frozenset(labels.items()))] = float(m.group(4))
    return out


def free_closed_port():
    """A loopback port with nothing listening on it."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Target:
    def __init__(self, tmp, tls=None):
        args = [TARGET_BIN, "--listen", "127.0.0.1:0", "--seed", "1"]
        if tls:
            args += ["--tls-cert", tls[0], "--tls-key", tls[1]]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True)
        line = self.proc.stdout.readline()
        m = re.match(r"listening on (\d+)", line)
        assert m, f"target did not start: {line!r}"
        self.port = int(m.group(1))
        scheme = "https" if tls else "http"
        self.base = f"{scheme}://127.0.0.1:{self.port}"

    def url(self, path):
        return self.base + path

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=5)


class Agent:
    """The real outpost binary on a temp config and an ephemeral port.
    tls_context: the agent serves HTTPS (a web config with TLS in extra_args);
    readiness is polled with this client context."""

    def __init__(self, tmpdir, config, extra_args=(), env=None, tls_context=None):
        self.dir = tmpdir
        self.expected_rc = 0
        self.config_path = os.path.join(tmpdir, "outpost.yml")
        self.log_path = os.path.join(tmpdir, "agent.log")
        self.write_config(config)
        self.log = open(self.log_path, "wb")
        full_env = dict(os.environ)
        full_env.update(env or {})
        # The SLO state stays in the test's directory unless the test chooses a path,
        # never in a ./data shared by every run.
        storage = [] if any(a.startswith("--storage.path") for a in extra_args) \
            else [f"--storage.path={os.path.join(tmpdir, 'data')}"]
        self.proc = subprocess.Popen(
            [AGENT_BIN, f"--config.file={self.config_path}",
             "--web.listen-address=127.0.0.1:0", *storage, *extra_args],
            stdout=self.log, stderr=self.log, env=full_env)
        try:
            m = wait_for(lambda: self.proc.poll() is None and re.search(
                r'listening"?[ ,]"?address"?[=:]"?127\.0\.0\.1:(\d+)', self.logs()) or self._dead(),
                what="agent to listen")
            self.port = int(m.group(1))
            self.base = f"{'https' if tls_context else 'http'}://127.0.0.1:{self.port}"
            wait_for(lambda: http("GET", self.base + "/-/ready", context=tls_context)[0] == 200,
                     what="agent ready")
        except BaseException:
            # Never leave a half-started agent behind.
            self.proc.kill()
            self.proc.wait()
            self.log.close()
            raise

    def _dead(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"agent exited {self.proc.returncode}:\n{self.logs()}")
        return None

    def write_config(self, text):
        with open(self.config_path, "w") as f:
            f.write(text)

    def logs(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def scrape_text(self, headers=None):
        status, hdrs, body = http("GET", self.base + "/metrics", headers=headers)
        assert status == 200, body
        return body.decode()

    def metrics(self):
        return parse_metrics(self.scrape_text())

    def value(self, name, **labels):
        return self.metrics().get((name, frozenset(labels.items())))

    def wait_value(self, name, pred, timeout=10.0, **labels):
        return wait_for(lambda: (lambda v: v is not None and pred(v) and (v,))(
            self.value(name, **labels)), timeout=timeout,
            what=f"{name}{labels} to satisfy the condition")[0]

    def kill9(self):
        """Simulate a crash; the fixture then expects exit status -9."""
        self.expected_rc = -signal.SIGKILL
        self.proc.kill()
        self.proc.wait()

    def stop(self, sig=signal.SIGTERM):
        """Stop and return (exit code, seconds it took)."""
        if self.proc.poll() is not None:
            return self.proc.returncode, 0.0
        t0 = time.monotonic()
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=10)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self.log.close()
        return rc, time.monotonic() - t0


@pytest.fixture(scope="session")
def target():
    t = Target(None)
    yield t
    t.stop()


@pytest.fixture(scope="session")
def certs():
    """A self-signed certificate made now; returns (cert, key, notAfter unix)."""
    d = tempfile.mkdtemp(prefix="outpost-certs-")
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "7", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True)
    out = subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-enddate"], check=True,
                         capture_output=True, text=True).stdout.strip()
    not_after = out.split("=", 1)[1]
    ts = calendar.timegm(time.strptime(not_after, "%b %d %H:%M:%S %Y GMT"))
    return cert, key, int(ts)


@pytest.fixture(scope="session")
def tls_target(certs):
    t = Target(None, tls=(certs[0], certs[1]))
    yield t
    t.stop()


@pytest.fixture
def agent_factory(tmp_path):
    agents = []

    def make(config, **kw):
        a = Agent(str(tmp_path), config, **kw)
        agents.append(a)
        return a
    yield make
    # Stop every agent first: an assertion about one must not leave the
    # others running.
    results = [(a, *a.stop()) for a in agents]
    for a, rc, _ in results:
        logs = a.logs()
        # A sanitizer finding (ASan, LSan, UBSan) in the agent fails the test.
        assert "Sanitizer" not in logs and "runtime error:" not in logs, logs
        assert rc == a.expected_rc, f"agent exited {rc}:\n{logs}"



@pytest.fixture
def prometheus_server(tmp_path):
    """start(config text, name) runs a real Prometheus with that configuration on a free
    loopback port, its file, log and data under tmp_path by name, and returns its base
    URL; every one is stopped at the end."""
    procs = []

    def start(config, name):
        port = free_closed_port()
        cfg = tmp_path / f"prometheus-{name}.yml"
        cfg.write_text(config)
        log = open(tmp_path / f"prometheus-{name}.log", "wb")
        p = subprocess.Popen(["prometheus", f"--config.file={cfg}",
                              f"--web.listen-address=127.0.0.1:{port}",
                              f"--storage.tsdb.path={tmp_path}/tsdb-{name}"],
                             stdout=log, stderr=log)
        procs.append((p, log))
        return f"http://127.0.0.1:{port}"
    yield start
    for p, log in procs:
        p.terminate()
        p.wait(timeout=10)
        log.close()


def prometheus_query(base, q):
    """The result vector of an instant query, or None while Prometheus is not up."""
    try:
        st, _, body = http("GET", base + "/api/v1/query?" + urllib.parse.urlencode({"query": q}))
    except OSError:
        return None
    return json.loads(body)["data"]["result"] if st == 200 else None


def gunzip(b):
    return gzip.decompress(b)
