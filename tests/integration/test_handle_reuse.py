"""A libcurl handle that served one probe and serves the next carries nothing of the
first: a probe without headers, credentials, body, method or server name of its own sends
none of those an earlier probe sent. /probe runs one probe at a time, so each probe here
takes the handle the probe before it gave back."""
import urllib.parse

import pytest

from conftest import free_closed_port, http
from test_redirects import Recorder

CONFIG = """checks: []
modules:
  loaded:
    prober: http
    timeout: 5s
    http:
      method: POST
      body: secret-body
      headers: {X-Leak: secret-header, Accept: text/x-leak}
      basic_auth: {username: alice, password: secret-pw}
      compression: gzip
  bearer:
    prober: http
    timeout: 5s
    http:
      bearer_token: secret-token
  sni:
    prober: http
    timeout: 5s
    http:
      tls_config: {server_name: elsewhere.test}
  head:
    prober: http
    timeout: 5s
    http:
      method: HEAD
  plain:
    prober: http
    timeout: 5s
"""


@pytest.fixture
def recorder():
    r = Recorder()
    yield r
    r.stop()


def probe(agent, module, url):
    status, _, body = http("GET", f"{agent.base}/probe?module={module}&target="
                           + urllib.parse.quote(url, safe=""), timeout=30)
    assert status == 200, body
    return body.decode()


def test_a_reused_handle_sends_nothing_of_the_last_probe(agent_factory, recorder):
    agent = agent_factory(CONFIG)
    base = f"http://127.0.0.1:{recorder.port}"
    for i, module in enumerate(["loaded", "bearer", "sni", "head"]):
        probe(agent, module, f"{base}/{module}/{i}")
        text = probe(agent, "plain", f"{base}/plain/{i}")
        assert "\nprobe_success 1\n" in text, text
    loaded = recorder.find("/loaded/0")
    assert loaded["method"] == "POST" and loaded["body"] == "secret-body"
    assert loaded["headers"]["X-Leak"] == "secret-header"
    assert loaded["headers"]["Authorization"].startswith("Basic ")
    assert recorder.find("/bearer/1")["headers"]["Authorization"] == "Bearer secret-token"
    assert recorder.find("/sni/2")["headers"]["Host"] == f"elsewhere.test:{recorder.port}"
    assert recorder.find("/head/3")["method"] == "HEAD"
    for i in range(4):
        r = recorder.find(f"/plain/{i}")
        assert (r["method"], r["body"]) == ("GET", ""), (i, r)
        headers = {k.lower(): v for k, v in r["headers"].items()}
        # Exactly what a fresh handle sends.
        assert sorted(headers) == ["accept", "host", "user-agent"], (i, headers)
        assert headers["accept"] == "*/*", (i, headers)
        assert headers["host"] == f"127.0.0.1:{recorder.port}", (i, headers)


def test_scheduled_checks_share_handles_without_leaks(agent_factory, target):
    """Checks with a body, headers and credentials run beside plain ones, and beside
    runs that end by a refused connection, a timeout or redirects (sockets closed at every
    stage): a plain check's request, echoed back by the target, never holds what another
    check sent, and every plain run succeeds."""
    closed = free_closed_port()
    checks = []
    for i in range(6):
        checks.append(f"""\
  - name: loaded{i}
    url: {target.url('/echo')}
    method: PUT
    body: secret-body-{i}
    headers: {{X-Leak: secret-header-{i}}}
    basic_auth: {{username: alice, password: secret-pw-{i}}}
    compression: gzip
    expect: {{status: [200, 400]}}
  - name: plain{i}
    url: {target.url('/echo')}
    expect:
      body_matches: ["^GET\\r?\\n"]
      body_not_matches: ["(?i)x-leak", "(?i)authorization", "(?i)accept-encoding", "secret"]
  - name: refused{i}
    url: http://127.0.0.1:{closed}/
  - name: slow{i}
    url: {target.url('/sleep/5000')}
    timeout: 150ms
  - name: hops{i}
    url: {target.url('/redirect/2')}
""")
    config = "global: {interval: 200ms, timeout: 200ms}\nchecks:\n" + "".join(checks)
    agent = agent_factory(config)
    for i in range(6):
        agent.wait_value("outpost_check_runs_total", lambda v: v >= 15, timeout=20,
                         check=f"plain{i}")
    m = agent.metrics()
    for i in range(6):
        failures = {dict(k[1])["reason"]: v for k, v in m.items()
                    if k[0] == "outpost_check_failures_total"
                    and dict(k[1]).get("check") == f"plain{i}"}
        assert sum(failures.values()) == 0, (i, failures)
        assert m[("outpost_check_up", frozenset({"check": f"plain{i}"}.items()))] == 1
