"""A libcurl handle that served one probe and serves the next carries nothing of the
first: a probe without headers, credentials, body, method or server name of its own sends
none of those an earlier probe sent. /probe runs one probe at a time, so each probe here
takes the handle the probe before it gave back."""
import urllib.parse

import pytest

from conftest import http
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
