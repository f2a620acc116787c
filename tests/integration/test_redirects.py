"""Redirects followed by outpost itself: configured headers and credentials reach the
first request's origin (scheme, host and port) and only that one, and the method
changes as libcurl changes it (301/302: POST becomes GET; 303: all but HEAD become GET;
307/308 keep method and body)."""
import http.server
import textwrap
import threading
import urllib.parse

import pytest

from conftest import wait_for


class Recorder:
    """An HTTP server on 127.0.0.1 that records every request. /to?code=C&url=U answers
    C with Location: U; any other path answers 200 "ok"."""

    def __init__(self):
        self.requests = []
        lock = threading.Lock()
        rec = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def handle_any(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n).decode() if n else ""
                with lock:
                    rec.requests.append({"path": self.path, "method": self.command,
                                         "headers": dict(self.headers), "body": body})
                url = urllib.parse.urlsplit(self.path)
                if url.path == "/to":
                    q = urllib.parse.parse_qs(url.query)
                    self.send_response(int(q["code"][0]))
                    self.send_header("Location", q["url"][0])
                    payload = b"redirect\n"
                else:
                    self.send_response(200)
                    payload = b"ok\n"
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = handle_any

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.lock = lock

    def find(self, path):
        """The first request for path, or None."""
        with self.lock:
            return next((r for r in self.requests if r["path"] == path), None)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def servers():
    a, b = Recorder(), Recorder()
    yield a, b
    a.stop()
    b.stop()


def to(code, url):
    return "/to?" + urllib.parse.urlencode({"code": code, "url": url})


def test_configured_headers_stay_with_the_first_origin(agent_factory, servers):
    a, b = servers
    A, B = f"http://127.0.0.1:{a.port}", f"http://127.0.0.1:{b.port}"
    paths = {
        # Another port: another origin.
        "cross_port": to(302, f"{B}/land/cross_port"),
        # The same server under another name: another origin too.
        "cross_host": to(302, f"http://localhost:{a.port}/land/cross_host"),
        # A relative target: the same origin.
        "same_origin": to(302, "/land/same_origin"),
        # Away and back again: the headers return with the first origin.
        "back": to(302, B + to(307, f"{A}/land/back")),
    }
    a_cfg = textwrap.dedent(f"""\
        global: {{interval: 1s, timeout: 1s}}
        checks:
          - name: cross_port
            url: {A}{paths['cross_port']}
            headers: {{X-Api-Key: key-1}}
            bearer_token: token-1
          - name: cross_host
            url: {A}{paths['cross_host']}
            ip_protocol: ip4
            headers: {{X-Api-Key: key-2}}
            basic_auth: {{username: alice, password: pw-2}}
          - name: same_origin
            url: {A}{paths['same_origin']}
            headers: {{X-Api-Key: key-3}}
            bearer_token: token-3
          - name: back
            url: {A}{paths['back']}
            headers: {{X-Api-Key: key-4, Authorization: Token tok-4}}
        """)
    agent = agent_factory(a_cfg)
    for name in paths:
        agent.wait_value("outpost_check_runs_total", lambda v: v >= 1, check=name)
        assert agent.value("outpost_check_up", check=name) == 1, name
        assert agent.value("outpost_check_http_status_code", check=name) == 200, name

    def headers(server, path):
        r = wait_for(lambda: server.find(path), what=f"a request for {path}")
        return {k.lower(): v for k, v in r["headers"].items()}

    # Every first request carries what was configured.
    assert headers(a, paths["cross_port"])["x-api-key"] == "key-1"
    assert headers(a, paths["cross_port"])["authorization"] == "Bearer token-1"
    assert headers(a, paths["cross_host"])["x-api-key"] == "key-2"
    assert headers(a, paths["cross_host"])["authorization"] == "Basic YWxpY2U6cHctMg=="
    # Another origin gets none of it.
    for server, path in ((b, "/land/cross_port"), (a, "/land/cross_host"),
                         (b, to(307, f"{A}/land/back"))):
        h = headers(server, path)
        assert "x-api-key" not in h and "authorization" not in h, (path, h)
        assert h["user-agent"].startswith("outpost/")
    # The same origin, and the first origin again, get all of it.
    h = headers(a, "/land/same_origin")
    assert (h["x-api-key"], h["authorization"]) == ("key-3", "Bearer token-3")
    h = headers(a, "/land/back")
    assert (h["x-api-key"], h["authorization"]) == ("key-4", "Token tok-4")


def test_redirect_method_changes(agent_factory, servers):
    a, _ = servers
    A = f"http://127.0.0.1:{a.port}"
    # (name, method, status, method and body the target gets)
    cases = [
        ("post_301", "POST", 301, "GET", ""),
        ("post_302", "POST", 302, "GET", ""),
        ("post_303", "POST", 303, "GET", ""),
        ("put_303", "PUT", 303, "GET", ""),
        ("head_303", "HEAD", 303, "HEAD", ""),
        ("put_301", "PUT", 301, "PUT", "body-put_301"),
        ("post_307", "POST", 307, "POST", "body-post_307"),
        ("post_308", "POST", 308, "POST", "body-post_308"),
    ]
    lines = ["global: {interval: 1s, timeout: 1s}", "checks:"]
    for name, method, code, _, _ in cases:
        lines += [f"  - name: {name}", f"    url: {A}{to(code, '/land/' + name)}",
                  f"    method: {method}"]
        if method != "HEAD":
            lines.append(f"    body: body-{name}")
    agent = agent_factory("\n".join(lines) + "\n")
    for name, method, code, want_method, want_body in cases:
        agent.wait_value("outpost_check_runs_total", lambda v: v >= 1, check=name)
        assert agent.value("outpost_check_up", check=name) == 1, name
        first = wait_for(lambda: a.find(to(code, "/land/" + name)), what=name)
        assert first["method"] == method, name
        assert first["body"] == ("" if method == "HEAD" else f"body-{name}"), name
        landed = wait_for(lambda: a.find("/land/" + name), what=name)
        assert (landed["method"], landed["body"]) == (want_method, want_body), name
