"""blackbox_exporter modules from --modules.file: --help lists the flag, --config.check
checks the file (Debian's blackbox.yml loads unchanged), start-up refuses a bad one, and a
reload (/-/reload, SIGHUP) re-reads it, all or nothing with the configuration."""
import gzip
import json
import os
import signal
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from conftest import AGENT_BIN, http, wait_for

DEBIAN = "/etc/prometheus/blackbox.yml"
CONFIG = "checks: []\n"
GOOD = "modules:\n  http_2xx:\n    prober: http\n"
BAD = "modules:\n  http_2xx:\n    prober: http\n    http:\n      oauth2: {client_id: x}\n"


def run(*args):
    return subprocess.run([AGENT_BIN, *args], capture_output=True, text=True, timeout=30)


def test_help_lists_the_flag():
    r = run("--help")
    assert r.returncode == 0 and "--modules.file=blackbox.yml" in r.stdout


def test_config_check_reads_the_modules_file(tmp_path):
    cfg = tmp_path / "outpost.yml"
    cfg.write_text(CONFIG)
    src = DEBIAN if os.path.exists(DEBIAN) else None
    if src:
        r = run("--config.check", f"--config.file={cfg}", f"--modules.file={src}")
        assert (r.returncode, r.stderr) == (0, ""), r.stderr
        assert r.stdout == f"{cfg}: OK, 0 checks, 0 SLOs\n"
    bad = tmp_path / "blackbox.yml"
    bad.write_text(BAD)
    r = run("--config.check", f"--config.file={cfg}", f"--modules.file={bad}")
    assert r.returncode == 1
    assert r.stderr == (f"{bad}:5:15: modules.http_2xx.http.oauth2: not supported by "
                        "outpost\n")
    # The same module in the configuration and the file: both places named.
    cfg.write_text("checks: []\nmodules:\n  http_2xx: {prober: http}\n")
    bad.write_text(GOOD)
    r = run("--config.check", f"--config.file={cfg}", f"--modules.file={bad}")
    assert r.returncode == 1
    assert r.stderr == (f"{bad}:2:3: modules.http_2xx: module defined twice: also at "
                        f"{cfg}:3:3\n")
    r = run("--config.check", f"--config.file={cfg}", f"--modules.file={tmp_path}/none.yml")
    assert r.returncode == 1
    assert r.stderr == f"{tmp_path}/none.yml: cannot open: No such file or directory\n"


def test_config_check_skip_secrets(tmp_path):
    """--config.skip-secrets covers the modules file: password_file and TLS files that
    do not exist here are not read; without it they are errors at their file:line:col."""
    cfg = tmp_path / "outpost.yml"
    cfg.write_text(CONFIG)
    mods = tmp_path / "blackbox.yml"
    mods.write_text("modules:\n  a:\n    prober: http\n    http:\n"
                    "      basic_auth: {username: u, password_file: /nonexistent/pw}\n"
                    "      tls_config: {ca_file: /nonexistent/ca.pem}\n")
    r = run("--config.check", "--config.skip-secrets", f"--config.file={cfg}",
            f"--modules.file={mods}")
    assert (r.returncode, r.stderr) == (0, ""), r.stderr
    r = run("--config.check", f"--config.file={cfg}", f"--modules.file={mods}")
    assert r.returncode == 1
    assert r.stderr == (
        f"{mods}:5:48: modules.a.basic_auth.password: cannot read /nonexistent/pw: "
        "No such file or directory\n"
        f"{mods}:6:29: modules.a.tls.ca_file: cannot read /nonexistent/ca.pem: "
        "No such file or directory\n")


def test_start_refuses_a_bad_modules_file(tmp_path):
    cfg = tmp_path / "outpost.yml"
    cfg.write_text(CONFIG)
    bad = tmp_path / "blackbox.yml"
    bad.write_text(BAD)
    r = subprocess.run([AGENT_BIN, f"--config.file={cfg}", f"--modules.file={bad}",
                        "--web.listen-address=127.0.0.1:0",
                        f"--storage.path={tmp_path / 'data'}"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert "modules.http_2xx.http.oauth2: not supported by outpost" in r.stderr


def test_reload_rereads_the_modules_file(agent_factory, tmp_path):
    mods = tmp_path / "blackbox.yml"
    mods.write_text(GOOD)
    a = agent_factory(CONFIG, extra_args=(f"--modules.file={mods}", "--web.enable-lifecycle"))
    assert a.value("outpost_config_last_reload_successful") == 1
    mods.write_text(BAD)
    st, _, body = http("POST", a.base + "/-/reload")
    assert st == 500
    assert f"{mods}:5:15: modules.http_2xx.http.oauth2: not supported by outpost" in \
        body.decode()
    assert a.value("outpost_config_last_reload_successful") == 0
    mods.write_text(GOOD)
    a.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: a.value("outpost_config_last_reload_successful") == 1,
             what="SIGHUP reload with the fixed modules file")


def reasons(agent, check):
    m = agent.metrics()
    return {dict(k[1])["reason"]: v for k, v in m.items()
            if k[0] == "outpost_check_failures_total" and dict(k[1]).get("check") == check
            and v}


def test_http_transport_expectations(agent_factory, target, tls_target):
    """expect.tls and expect.http_versions (blackbox's fail_if_ssl, fail_if_not_ssl and
    valid_http_versions) on real responses: plain HTTP/1.1 and HTTPS."""
    url, surl = target.url("/ok"), tls_target.url("/ok")
    a = agent_factory(f"""\
global: {{interval: 300ms, timeout: 250ms}}
checks:
  - {{name: want_tls, url: "{url}", expect: {{tls: true}}}}
  - {{name: no_tls, url: "{url}", expect: {{tls: false, http_versions: ["1.1"]}}}}
  - {{name: want_h2, url: "{url}", expect: {{http_versions: ["2"]}}}}
  - {{name: tls_ok, url: "{surl}", tls: {{insecure_skip_verify: true}}, expect: {{tls: true}}}}
  - {{name: tls_bad, url: "{surl}", tls: {{insecure_skip_verify: true}}, expect: {{tls: false}}}}
""")
    for name in ("want_tls", "no_tls", "want_h2", "tls_ok", "tls_bad"):
        a.wait_value("outpost_check_runs_total", lambda v: v >= 1, check=name)
    assert reasons(a, "want_tls").keys() == {"tls"}
    assert reasons(a, "no_tls") == {} and a.value("outpost_check_up", check="no_tls") == 1
    assert reasons(a, "want_h2").keys() == {"http_status"}
    assert reasons(a, "tls_ok") == {} and a.value("outpost_check_up", check="tls_ok") == 1
    assert reasons(a, "tls_bad").keys() == {"tls"}
    st, _, body = http("GET", a.base + "/api/v1/checks")
    details = {c["name"]: c["last_result"]["detail"] for c in json.loads(body)["checks"]}
    assert details["want_tls"] == "final response did not come over TLS"
    assert details["want_h2"] == "HTTP version 1.1 not in [2]"
    assert details["tls_bad"] == "final response came over TLS"


def test_http_header_lists(agent_factory, target):
    """expect.headers_if_present and expect.headers_not_matches on a real response (the
    target's /header sends X-Outpost-Test: hello-world): each list alone keeps the
    response's headers for judging."""
    url = target.url("/header")
    a = agent_factory(f"""\
global: {{interval: 300ms, timeout: 250ms}}
checks:
  - {{name: forbid_hit, url: "{url}", expect: {{headers_not_matches: {{X-Outpost-Test: hello}}}}}}
  - {{name: forbid_miss, url: "{url}", expect: {{headers_not_matches: {{X-Outpost-Test: bye}}}}}}
  - {{name: forbid_absent, url: "{url}", expect: {{headers_not_matches: {{X-None: .}}}}}}
  - {{name: present_bad, url: "{url}", expect: {{headers_if_present: {{X-Outpost-Test: bye}}}}}}
  - {{name: present_ok, url: "{url}", expect: {{headers_if_present: {{X-Outpost-Test: world}}}}}}
  - {{name: absent_ok, url: "{url}", expect: {{headers_if_present: {{X-None: x}}}}}}
""")
    names = ("forbid_hit", "forbid_miss", "forbid_absent", "present_bad", "present_ok",
             "absent_ok")
    for name in names:
        a.wait_value("outpost_check_runs_total", lambda v: v >= 1, check=name)
    assert reasons(a, "forbid_hit").keys() == {"header"}
    assert reasons(a, "present_bad").keys() == {"header"}
    for name in ("forbid_miss", "forbid_absent", "present_ok", "absent_ok"):
        assert reasons(a, name) == {} and a.value("outpost_check_up", check=name) == 1, name
    st, _, body = http("GET", a.base + "/api/v1/checks")
    details = {c["name"]: c["last_result"]["detail"] for c in json.loads(body)["checks"]}
    assert details["forbid_hit"] == "header X-Outpost-Test: a value matched /hello/"
    assert details["present_bad"] == "header X-Outpost-Test: no value matched /bye/"


class GzipHandler(BaseHTTPRequestHandler):
    """/gz: gzip-encoded when asked for it; /plain: never encoded. Records each
    request's Accept-Encoding."""
    seen = []

    def do_GET(self):
        GzipHandler.seen.append(self.headers.get("Accept-Encoding"))
        body = b"compressed hello\n"
        encode = self.path == "/gz" and "gzip" in (self.headers.get("Accept-Encoding") or "")
        if encode:
            body = gzip.compress(body)
        self.send_response(200)
        if encode:
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_http_compression(agent_factory):
    """compression: gzip (blackbox's option) asks for gzip, decodes the body before the
    patterns see it, and fails a response that is not gzip-encoded."""
    srv = ThreadingHTTPServer(("127.0.0.1", 0), GzipHandler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{srv.server_address[1]}"
        a = agent_factory(f"""\
global: {{interval: 300ms, timeout: 250ms}}
checks:
  - {{name: gz, url: "{base}/gz", compression: gzip, expect: {{body_matches: "compressed hello"}}}}
  - {{name: plain, url: "{base}/plain", compression: gzip}}
""")
        for name in ("gz", "plain"):
            a.wait_value("outpost_check_runs_total", lambda v: v >= 1, check=name)
        assert reasons(a, "gz") == {} and a.value("outpost_check_up", check="gz") == 1
        assert reasons(a, "plain").keys() == {"body"}
        assert "gzip" in GzipHandler.seen and None not in GzipHandler.seen
    finally:
        srv.shutdown()
        srv.server_close()


class ProxyHandler(BaseHTTPRequestHandler):
    """A forward proxy that answers itself: the request line's absolute URL is the
    proof that the request came through it."""
    seen = []

    def do_GET(self):
        ProxyHandler.seen.append(self.path)
        body = b"via proxy\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_http_proxy(agent_factory, target):
    """proxy_url (blackbox's option): requests go through the proxy, which resolves the
    target (a name only the proxy knows works); no_proxy hosts are reached directly."""
    srv = ThreadingHTTPServer(("127.0.0.1", 0), ProxyHandler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        proxy = f"http://127.0.0.1:{srv.server_address[1]}"
        a = agent_factory(f"""\
global: {{interval: 300ms, timeout: 250ms}}
checks:
  - {{name: proxied, url: "http://only-the-proxy-knows.invalid/x", proxy_url: "{proxy}",
      expect: {{body_matches: "via proxy"}}}}
  - {{name: direct, url: "{target.url('/ok')}", proxy_url: "{proxy}", no_proxy: "127.0.0.1",
      expect: {{body_not_matches: "via proxy"}}}}
""")
        for name in ("proxied", "direct"):
            a.wait_value("outpost_check_runs_total", lambda v: v >= 1, check=name)
        assert reasons(a, "proxied") == {} and a.value("outpost_check_up", check="proxied") == 1
        assert reasons(a, "direct") == {} and a.value("outpost_check_up", check="direct") == 1
        assert "http://only-the-proxy-knows.invalid/x" in ProxyHandler.seen
        assert not any("127.0.0.1" in p for p in ProxyHandler.seen)
    finally:
        srv.shutdown()
        srv.server_close()
