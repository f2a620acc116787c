"""The agent's own OutpostCheckDown: hysteresis (failure_threshold to fire,
success_threshold to resolve), retries that never hide failures, canary arms
that raise no alert of their own, and the thresholds exported for rules."""
import json
import re
import threading
import textwrap
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import wait_for


class Script:
    """An HTTP target answering from a script the test changes: a list of
    status codes served in a cycle, one per request. Also an Alertmanager
    that accepts every POST (the agent's alerts are read from its log)."""

    def __init__(self, codes):
        self.codes = list(codes)
        self.served = 0
        self.lock = threading.Lock()
        outer = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                with outer.lock:
                    code = outer.codes[outer.served % len(outer.codes)]
                    outer.served += 1
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self):
                n = int(self.headers.get("Content-Length", 0))
                json.loads(self.rfile.read(n))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def set(self, codes):
        with self.lock:
            self.codes = list(codes)
            self.served = 0

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def script():
    s = Script([200])
    yield s
    s.stop()


def events(agent, what):
    """How often the agent logged `what` for OutpostCheckDown of check api."""
    pat = re.compile(r'msg="?alert ' + what + r'"? alertname="?OutpostCheckDown"? check="?api"?')
    return len(pat.findall(agent.logs()))


def runs(agent, check="api"):
    return agent.value("outpost_check_runs_total", check=check) or 0


def test_hysteresis(agent_factory, script):
    port = script.port
    a = agent_factory(textwrap.dedent(f"""\
        global: {{interval: 100ms, timeout: 80ms}}
        checks:
          - name: api
            url: "http://127.0.0.1:{port}/"
            alert: {{failure_threshold: 3, success_threshold: 2}}
        alerting:
          alertmanagers: ["http://127.0.0.1:{port}/am"]
          evaluation_interval: 1s
        """))
    # Failing every other probe never makes three failures in a row.
    script.set([500, 200])
    start = runs(a)
    a.wait_value("outpost_check_runs_total", lambda v: v >= start + 30, timeout=15, check="api")
    assert events(a, "firing") == 0
    # Down for real: it fires once.
    script.set([500])
    wait_for(lambda: events(a, "firing") == 1, timeout=10, what="OutpostCheckDown to fire")
    # Flapping while down (one good probe between failures) never makes two
    # good probes in a row: the alert stays, no resolve, no second episode.
    script.set([200, 500])
    start = runs(a)
    a.wait_value("outpost_check_runs_total", lambda v: v >= start + 30, timeout=15, check="api")
    assert events(a, "resolved") == 0
    assert events(a, "firing") == 1
    # Healthy: two good probes in a row resolve it at the next evaluation.
    script.set([200])
    wait_for(lambda: events(a, "resolved") == 1, timeout=10, what="OutpostCheckDown to resolve")
    assert events(a, "firing") == 1
    assert a.value("outpost_check_alert_failure_threshold", check="api") == 3
    assert a.value("outpost_check_alert_success_threshold", check="api") == 2
    assert a.value("outpost_check_tls_cert_expiry_warning_seconds") == 14 * 86400


def test_retries_count_but_do_not_hide(agent_factory, script):
    port = script.port
    # Every first attempt fails and its retry succeeds.
    script.set([500, 200])
    a = agent_factory(textwrap.dedent(f"""\
        global: {{interval: 1s, timeout: 200ms}}
        checks:
          - name: api
            url: "http://127.0.0.1:{port}/"
            retry: {{attempts: 2, delay: 100ms}}
        """))
    a.wait_value("outpost_check_runs_total", lambda v: v >= 3, timeout=15, check="api")
    m = a.metrics()
    n = m[("outpost_check_runs_total", frozenset({("check", "api")}))]
    retries = m[("outpost_check_retries_total", frozenset({("check", "api")}))]
    fails = sum(v for (name, labels), v in m.items()
                if name == "outpost_check_failures_total" and ("check", "api") in labels)
    # One retry per run (read in one scrape; a run between counters may be
    # half done: its retry counted, its result not yet).
    assert retries in (n, n + 1), (retries, n)
    assert fails == 0
    assert m[("outpost_check_up", frozenset({("check", "api")}))] == 1
    # Down for real: each run retries twice, then counts one failure.
    script.set([500])
    before = a.value("outpost_check_retries_total", check="api")
    a.wait_value("outpost_check_consecutive_failures", lambda v: v >= 2, timeout=15, check="api")
    m = a.metrics()
    fails = m[("outpost_check_failures_total",
               frozenset({("check", "api"), ("reason", "http_status")}))]
    retries = m[("outpost_check_retries_total", frozenset({("check", "api")}))]
    assert fails >= 2
    assert retries - before in (2 * fails, 2 * fails + 1, 2 * fails + 2), (retries, before, fails)


def test_canary_arm_raises_no_check_alert(agent_factory, script, target):
    port = script.port
    script.set([500])
    a = agent_factory(textwrap.dedent(f"""\
        global: {{interval: 100ms, timeout: 80ms}}
        checks:
          - {{name: api, url: "http://127.0.0.1:{port}/", alert: {{failure_threshold: 2}}}}
        canaries:
          - name: web
            baseline: {{url: "{target.url('/ok')}"}}
            canary: {{url: "{target.url('/status/500')}"}}
            interval: 100ms
            window: 10s
        alerting:
          alertmanagers: ["http://127.0.0.1:{port}/am"]
          evaluation_interval: 1s
        """))
    # The ordinary failing check fires; by then the failing arm has failed
    # many times in a row and still raises nothing of its own.
    wait_for(lambda: events(a, "firing") == 1, timeout=10, what="OutpostCheckDown for api")
    a.wait_value("outpost_check_consecutive_failures", lambda v: v >= 10, timeout=10,
                 check="web/canary")
    wait_for(lambda: 'msg="alert firing" alertname=OutpostCheckDown check=api' in a.logs(),
             what="the log line")
    assert "check=web/canary" not in " ".join(
        line for line in a.logs().splitlines() if "OutpostCheckDown" in line)
