"""Securing the endpoints: the web config (TLS with a real client, client
certificates, basic auth, headers) against promtool, bearer tokens and their
rotation, --web.enable-lifecycle, --web.rate-limit, Flagger's metadata.token,
outpost_http_requests_total, and no password or token in a debug log.

Certificates are made at test time with openssl: a CA, a server and a client
certificate it signs, and a client certificate from another CA. Passwords are
hashed with htpasswd at cost 4 (fast; the docs use 10). Every web config a test
writes is checked with `promtool check web-config` first."""
import base64
import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import textwrap

import pytest

from conftest import AGENT_BIN, parse_metrics, wait_for

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")

# Every secret a test uses: none may ever appear in an agent's log.
ALICE_PW = "alice-Pw-5e1f9c"
BOB_PW = "bob-Pw-0d3a77"
WRONG_PW = "wrong-Pw-77ab21"
TOKEN_A = "tokA-9c2f1e0b8d7a"
TOKEN_B = "tokB-41d6e8c2aa90"
TOKEN_WRONG = "tokX-000000000000"
SECRETS = [ALICE_PW, BOB_PW, WRONG_PW, TOKEN_A, TOKEN_B, TOKEN_WRONG]

FLAGGER = {"name": "podinfo", "namespace": "test", "phase": "Progressing",
           "checksum": "c0ffee01", "metadata": {"type": "rollout"}}


# ---- fixtures and helpers ----

def openssl(cwd, *args):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("pki")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    for ca in ("ca", "other-ca"):
        openssl(d, "req", "-x509", *ec, "-keyout", f"{ca}.key", "-out", f"{ca}.crt",
                "-days", "2", "-subj", f"/CN={ca}")
    leaves = [("server", "ca", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"),
              ("server2", "ca", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"),
              ("client", "ca", "extendedKeyUsage=clientAuth\n"),
              ("stranger", "other-ca", "extendedKeyUsage=clientAuth\n")]
    for name, ca, ext in leaves:
        (d / f"{name}.ext").write_text(ext)
        openssl(d, "req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr",
                "-subj", f"/CN={name}")
        openssl(d, "x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey",
                f"{ca}.key", "-CAcreateserial", "-out", f"{name}.crt", "-days", "2",
                "-extfile", f"{name}.ext")
    return d


def bcrypt(user, password):
    out = subprocess.run(["htpasswd", "-nbBC", "4", user, password], check=True,
                         capture_output=True, text=True).stdout
    return out.strip().split(":", 1)[1]


@pytest.fixture(scope="module")
def hashes():
    return {"alice": bcrypt("alice", ALICE_PW), "bob": bcrypt("bob", BOB_PW)}


def tls_section(pki, auth=None, ca=None, min_version=None, cert="server"):
    lines = ["tls_server_config:", f"  cert_file: {pki / (cert + '.crt')}",
             f"  key_file: {pki / (cert + '.key')}"]
    if auth:
        lines.append(f"  client_auth_type: {auth}")
    if ca:
        lines.append(f"  client_ca_file: {pki / ca}")
    if min_version:
        lines.append(f"  min_version: {min_version}")
    return "\n".join(lines) + "\n"


def users_section(hashes):
    return "basic_auth_users:\n" + "".join(f"  {u}: {h}\n" for u, h in hashes.items())


HEADERS_SECTION = ("http_server_config:\n  headers:\n    X-Frame-Options: deny\n"
                   "    X-Content-Type-Options: nosniff\n")


def write_web_config(path, text):
    """Write a web config that promtool must accept (outpost then must too)."""
    path.write_text(text)
    r = subprocess.run(["promtool", "check", "web-config", str(path)], capture_output=True,
                       text=True)
    assert r.returncode == 0, (text, r.stdout, r.stderr)
    return path


def client_ctx(pki, cert=None, max_version=None):
    c = ssl.create_default_context(cafile=str(pki / "ca.crt"))
    if cert:
        c.load_cert_chain(str(pki / f"{cert}.crt"), str(pki / f"{cert}.key"))
    if max_version:
        c.maximum_version = max_version
    return c


def call(a, method, path, headers=None, body=None, context=None, source=None):
    """(status, headers (an HTTPMessage: get_all for repeated ones), body) over
    http.client, from source (a loopback address) when given."""
    src = (source, 0) if source else None
    if a.base.startswith("https"):
        conn = http.client.HTTPSConnection("127.0.0.1", a.port, context=context, timeout=10,
                                           source_address=src)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", a.port, timeout=10, source_address=src)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, r.headers, r.read()
    finally:
        conn.close()


def refused(a, context, path="/-/healthy"):
    """True when the TLS handshake (or the first read after it, in TLS 1.3)
    fails: no HTTP answer at all."""
    try:
        call(a, "GET", path, context=context)
    except (ssl.SSLError, ConnectionError, http.client.RemoteDisconnected, OSError):
        return True
    return False


def basic(user, password):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def checks(target):
    return f"checks:\n  - name: a\n    url: {target.url('/ok')}\n    interval: 1s\n"


def requests_total(a, headers=None, context=None, source=None):
    """{(handler, code): count} from one scrape."""
    st, _, body = call(a, "GET", "/metrics", headers=headers, context=context, source=source)
    assert st == 200, body
    m = parse_metrics(body.decode())
    return {(dict(k[1])["handler"], dict(k[1])["code"]): v for k, v in m.items()
            if k[0] == "outpost_http_requests_total"}


def delta(before, after):
    keys = set(before) | set(after)
    return {k: after.get(k, 0) - before.get(k, 0) for k in keys
            if after.get(k, 0) != before.get(k, 0)}


def assert_no_secrets(a):
    logs = a.logs()
    for s in SECRETS:
        assert s not in logs, f"{s} in the log"


def reload_ok_ts(a, **kw):
    m = parse_metrics(call(a, "GET", "/metrics", **kw)[2].decode())
    return (m[("outpost_config_last_reload_successful", frozenset())],
            m[("outpost_config_last_reload_success_timestamp_seconds", frozenset())])


# ---- the web config against promtool ----

def test_shipped_example_passes_promtool_and_outpost(tmp_path, pki, target):
    # The example names server.crt, server.key and ca.crt next to itself.
    for src, dst in (("server.crt", "server.crt"), ("server.key", "server.key"),
                     ("ca.crt", "ca.crt")):
        (tmp_path / dst).write_bytes((pki / src).read_bytes())
    with open(os.path.join(ROOT, "config", "web-config.example.yml")) as f:
        example = write_web_config(tmp_path / "web-config.yml", f.read())
    outpost_yml = tmp_path / "outpost.yml"
    outpost_yml.write_text(checks(target))
    r = subprocess.run([AGENT_BIN, "--config.check", f"--config.file={outpost_yml}",
                        f"--web.config.file={example}"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert f"{example}: OK" in r.stdout


# Files outpost refuses: the exact message line, and whether promtool refuses
# too (outpost is stricter where a file would not do what it says, never laxer).
BAD_WEB_CONFIGS = [
    ("unknown: 1\n", 'web.yml:1:1: unknown key "unknown"', True),
    ("{TLS}  cipher_suites: [TLS_AES_128_GCM_SHA256]\n",
     "web.yml:4:18: tls_server_config.cipher_suites: an exporter-toolkit setting outpost does "
     "not support (GnuTLS chooses the cipher suites)", False),
    ("http_server_config:\n  http2: false\n",
     "web.yml:2:10: http_server_config.http2: an exporter-toolkit setting outpost does not "
     "support (outpost serves HTTP/1.1)", False),
    ("tls_server_config:\n  cert_file: {PKI}/server.crt\n",
     "web.yml:2:3: tls_server_config: missing key_file", True),
    ("{TLS}  client_ca_file: {PKI}/ca.crt\n",
     "web.yml:4:19: tls_server_config.client_ca_file: given without a client_auth_type that "
     "asks for client certificates", True),
    ("{TLS}  client_auth_type: RequireAndVerifyClientCert\n",
     "web.yml:4:21: tls_server_config.client_auth_type: RequireAndVerifyClientCert needs "
     "client_ca_file (the CAs that sign client certificates)", False),
    ("{TLS}  client_auth_type: Sometimes\n",
     'web.yml:4:21: tls_server_config.client_auth_type: unknown value "Sometimes" (NoClientCert, '
     "RequestClientCert, RequireAnyClientCert, VerifyClientCertIfGiven or "
     "RequireAndVerifyClientCert)", True),
    ("{TLS}  min_version: TLS11\n",
     "web.yml:4:16: tls_server_config.min_version: TLS11 is not supported by outpost (TLS12 or "
     "TLS13)", False),
    ("{TLS}  min_version: TLS14\n",
     'web.yml:4:16: tls_server_config.min_version: unknown value "TLS14" (TLS12 or TLS13)', True),
    ("tls_server_config:\n  cert_file: {PKI}/server.crt\n  key_file: {PKI}/client.key\n",
     "web.yml:2:14: tls_server_config.cert_file: {PKI}/server.crt and {PKI}/client.key are not "
     "a PEM certificate and its unencrypted key: The certificate and the given key do not "
     "match.", True),
    ("tls_server_config:\n  cert_file: {PKI}/nope.crt\n  key_file: {PKI}/server.key\n",
     "web.yml:2:14: tls_server_config.cert_file: cannot read {PKI}/nope.crt: No such file or "
     "directory", True),
    ("basic_auth_users:\n  alice: plaintext-password\n",
     "web.yml:2:10: basic_auth_users.alice: not a bcrypt hash ($2a$, $2b$ or $2y$, a cost from "
     "04 to 31, 60 characters in all); make one with htpasswd -nBC 10 alice", True),
    ("basic_auth_users:\n  'a:b': {HASH}\n",
     "web.yml:2:10: basic_auth_users: user \"a:b\" holds ':', which a basic-auth header cannot "
     "carry", False),
    ("http_server_config:\n  headers:\n    X-Powered-By: outpost\n",
     'web.yml:3:19: http_server_config.headers: HTTP header "X-Powered-By" can not be configured '
     "(only Strict-Transport-Security, X-Content-Type-Options, X-Frame-Options, "
     "X-XSS-Protection and Content-Security-Policy can)", True),
    ("http_server_config:\n  headers:\n    X-Frame-Options: allow-from\n",
     'web.yml:3:22: http_server_config.headers.X-Frame-Options: invalid value "allow-from", '
     'expected "deny" or "sameorigin"', True),
]


@pytest.mark.parametrize("text,message,promtool_refuses", BAD_WEB_CONFIGS)
def test_bad_web_config(tmp_path, pki, hashes, target, text, message, promtool_refuses):
    sub = {"{TLS}": tls_section(pki), "{PKI}": str(pki), "{HASH}": hashes["alice"]}
    for k, v in sub.items():
        text, message = text.replace(k, v), message.replace(k, v)
    web = tmp_path / "web.yml"
    web.write_text(text)
    outpost_yml = tmp_path / "outpost.yml"
    outpost_yml.write_text(checks(target))
    # --config.check runs in the file's directory so messages name "web.yml".
    r = subprocess.run([AGENT_BIN, "--config.check", f"--config.file={outpost_yml}",
                        "--web.config.file=web.yml"], capture_output=True, text=True,
                       cwd=tmp_path)
    assert r.returncode == 1
    assert message + "\n" in r.stderr, r.stderr
    p = subprocess.run(["promtool", "check", "web-config", str(web)], capture_output=True,
                       text=True)
    assert (p.returncode != 0) == promtool_refuses, (p.stdout, p.stderr)


def test_bad_web_config_at_start_exits_1(tmp_path):
    web = tmp_path / "web.yml"
    web.write_text("basic_auth_users:\n  alice: plaintext\n")
    r = subprocess.run([AGENT_BIN, f"--config.file={tmp_path / 'none.yml'}",
                        f"--web.config.file={web}", "--web.listen-address=127.0.0.1:0"],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 1
    assert "cannot load the web configuration" in r.stderr
    assert f"{web}:2:10: basic_auth_users.alice: not a bcrypt hash" in r.stderr


# ---- TLS ----

def test_tls_require_and_verify_client_cert(agent_factory, tmp_path, pki, target):
    web = write_web_config(tmp_path / "web.yml", tls_section(
        pki, auth="RequireAndVerifyClientCert", ca="ca.crt") + HEADERS_SECTION)
    good = client_ctx(pki, cert="client")
    a = agent_factory(checks(target), extra_args=[f"--web.config.file={web}",
                                                  "--log.level=debug"], tls_context=good)
    assert a.base.startswith("https://")
    st, hdrs, body = call(a, "GET", "/metrics", context=good)
    assert st == 200 and b"outpost_build_info" in body
    assert hdrs["X-Frame-Options"] == "deny" and hdrs["X-Content-Type-Options"] == "nosniff"
    # No client certificate, or one from another CA (TLS 1.3 and 1.2): refused.
    assert refused(a, client_ctx(pki))
    assert refused(a, client_ctx(pki, max_version=ssl.TLSVersion.TLSv1_2))
    assert refused(a, client_ctx(pki, cert="stranger"))
    assert refused(a, client_ctx(pki, cert="stranger", max_version=ssl.TLSVersion.TLSv1_2))
    assert ('msg="TLS handshake refused" reason="client certificate not verified" err="The '
            'certificate is NOT trusted. The certificate issuer is unknown."') in a.logs()
    # Plain HTTP on the TLS port gets no HTTP answer.
    with pytest.raises((http.client.HTTPException, ConnectionError, OSError)):
        conn = http.client.HTTPConnection("127.0.0.1", a.port, timeout=5)
        try:
            conn.request("GET", "/-/healthy")
            conn.getresponse()
        finally:
            conn.close()
    assert call(a, "GET", "/-/healthy", context=good)[0] == 200


def test_tls_no_client_cert_then_reload_to_tls13_and_verify(agent_factory, tmp_path, pki,
                                                            target):
    web = write_web_config(tmp_path / "web.yml", tls_section(pki, auth="NoClientCert"))
    anon = client_ctx(pki)
    tls12 = client_ctx(pki, max_version=ssl.TLSVersion.TLSv1_2)
    a = agent_factory(checks(target), extra_args=[f"--web.config.file={web}"],
                      tls_context=anon)
    assert call(a, "GET", "/metrics", context=anon)[0] == 200
    assert call(a, "GET", "/metrics", context=tls12)[0] == 200  # min_version TLS12
    with anon.wrap_socket(socket.create_connection(("127.0.0.1", a.port)),
                          server_hostname="127.0.0.1") as s:
        assert s.getpeercert()["subject"] == ((("commonName", "server"),),)
    # A reload changes the TLS settings for the next connections, without
    # a restart: TLS 1.3 only, client certificates verified, a new
    # server certificate.
    write_web_config(web, tls_section(pki, auth="RequireAndVerifyClientCert", ca="ca.crt",
                                      min_version="TLS13", cert="server2"))
    _, ts = reload_ok_ts(a, context=anon)
    a.proc.send_signal(signal.SIGHUP)
    good = client_ctx(pki, cert="client")
    wait_for(lambda: refused(a, anon), what="the reloaded TLS settings")
    assert reload_ok_ts(a, context=good)[0] == 1 and reload_ok_ts(a, context=good)[1] > ts
    assert refused(a, client_ctx(pki, cert="client", max_version=ssl.TLSVersion.TLSv1_2))
    assert refused(a, client_ctx(pki, cert="stranger"))
    assert call(a, "GET", "/metrics", context=good)[0] == 200
    with good.wrap_socket(socket.create_connection(("127.0.0.1", a.port)),
                          server_hostname="127.0.0.1") as s:
        assert s.version() == "TLSv1.3"
        assert s.getpeercert()["subject"] == ((("commonName", "server2"),),)
        s.sendall(b"GET /-/healthy HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert s.recv(64).startswith(b"HTTP/1.1 200")


def test_tls_require_any_client_cert(agent_factory, tmp_path, pki, target):
    web = write_web_config(tmp_path / "web.yml", tls_section(pki, auth="RequireAnyClientCert"))
    a = agent_factory(checks(target), extra_args=[f"--web.config.file={web}"],
                      tls_context=client_ctx(pki, cert="stranger"))
    # Any certificate will do (not verified), but one there must be.
    assert call(a, "GET", "/metrics", context=client_ctx(pki, cert="stranger"))[0] == 200
    assert call(a, "GET", "/metrics", context=client_ctx(pki, cert="client"))[0] == 200
    assert refused(a, client_ctx(pki))


def test_turning_tls_on_takes_a_restart(agent_factory, tmp_path, pki, hashes, target):
    web = write_web_config(tmp_path / "web.yml", users_section(hashes))
    a = agent_factory(checks(target), extra_args=[f"--web.config.file={web}",
                                                  "--web.enable-lifecycle"])
    write_web_config(web, tls_section(pki) + users_section(hashes))
    st, _, body = call(a, "POST", "/-/reload", headers=basic("alice", ALICE_PW))
    assert st == 500
    assert body.decode() == (f"{web}: turning TLS on takes a restart (the listeners keep the "
                             "protocol they started with); the running web configuration is "
                             "kept\n")
    assert "reload failed, keeping the running configuration" in a.logs()
    st, _, text = call(a, "GET", "/metrics", headers=basic("alice", ALICE_PW))
    assert st == 200
    assert "outpost_config_last_reload_successful 0\n" in text.decode()
    assert_no_secrets(a)


# ---- basic auth, tokens, lifecycle ----

def test_basic_auth_and_headers(agent_factory, tmp_path, hashes, target):
    web = write_web_config(tmp_path / "web.yml", users_section(hashes) + HEADERS_SECTION)
    a = agent_factory(checks(target), extra_args=[f"--web.config.file={web}",
                                                  "--log.level=debug"])
    alice = basic("alice", ALICE_PW)
    before = requests_total(a, headers=alice)
    st, hdrs, body = call(a, "GET", "/metrics")
    assert st == 401
    assert hdrs.get_all("WWW-Authenticate") == ['Basic realm="outpost"']
    assert body == b"authentication required (basic auth)\n"
    assert hdrs["X-Frame-Options"] == "deny"  # on every answer, a 401 too
    assert call(a, "GET", "/metrics", headers=alice)[0] == 200
    assert call(a, "GET", "/metrics", headers=basic("bob", BOB_PW))[0] == 200
    assert call(a, "GET", "/metrics", headers=basic("alice", WRONG_PW))[0] == 401
    assert call(a, "GET", "/metrics", headers=basic("mallory", ALICE_PW))[0] == 401
    assert call(a, "GET", "/metrics", headers=basic("bob", ALICE_PW))[0] == 401
    assert call(a, "GET", "/metrics", headers=bearer(TOKEN_A))[0] == 401  # no tokens file
    assert call(a, "GET", "/metrics", headers={"Authorization": "Basic !!"})[0] == 401
    # Every endpoint but the probes', known or not, asks first.
    for method, path in [("GET", "/"), ("GET", "/api/v1/checks"), ("GET", "/gates/argo/x"),
                         ("POST", "/gates/flagger/x"), ("GET", "/nope"), ("POST", "/-/reload")]:
        assert call(a, method, path)[0] == 401, path
    st, hdrs, _ = call(a, "GET", "/-/healthy")
    assert st == 200 and hdrs["X-Content-Type-Options"] == "nosniff"
    assert call(a, "GET", "/-/ready")[0] == 200
    assert call(a, "GET", "/nope", headers=alice)[0] == 404
    assert call(a, "POST", "/-/reload", headers=alice)[0] == 403
    d = delta(before, requests_total(a, headers=alice))
    assert d == {("metrics", "401"): 6, ("metrics", "200"): 3, ("landing", "401"): 1,
                 ("api", "401"): 1, ("argo", "401"): 1, ("flagger", "401"): 1,
                 ("other", "401"): 1, ("reload", "401"): 1, ("healthy", "200"): 1,
                 ("ready", "200"): 1, ("other", "404"): 1, ("reload", "403"): 1}
    # A bad web config on reload: the reload fails, says why, and alice still gets in.
    web.write_text("basic_auth_users:\n  alice: plaintext\n")
    a.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: reload_ok_ts(a, headers=alice)[0] == 0, what="the failed reload")
    assert call(a, "GET", "/metrics", headers=alice)[0] == 200
    assert call(a, "GET", "/metrics", headers=basic("bob", BOB_PW))[0] == 200
    assert (f'msg="reload failed, keeping the running configuration" err="{web}:2:10: '
            "basic_auth_users.alice: not a bcrypt hash") in a.logs()
    logs = a.logs()
    assert 'reason="wrong password"' in logs and "user=alice" in logs
    assert 'user=mallory reason="unknown user"' in logs
    assert 'handler=metrics scheme=none reason="no credentials"' in logs
    assert "client=127.0.0.1" in logs
    assert_no_secrets(a)


def test_bearer_tokens_rotate_on_reload(agent_factory, tmp_path, hashes, target):
    web = write_web_config(tmp_path / "web.yml", users_section(hashes))
    tokens = tmp_path / "tokens"
    tokens.write_text(f"# scrape tokens\n\n{TOKEN_A}\n")
    a = agent_factory(checks(target), extra_args=[
        f"--web.config.file={web}", f"--web.bearer-tokens-file={tokens}",
        "--web.enable-lifecycle", "--log.level=debug", "--log.format=json"])
    st, hdrs, body = call(a, "GET", "/api/v1/checks")
    assert st == 401
    assert hdrs.get_all("WWW-Authenticate") == ['Basic realm="outpost"',
                                                'Bearer realm="outpost"']
    assert body == b"authentication required (basic auth or a bearer token)\n"
    assert call(a, "GET", "/api/v1/checks", headers=bearer(TOKEN_A))[0] == 200
    assert call(a, "GET", "/api/v1/checks", headers=bearer(TOKEN_WRONG))[0] == 401
    assert call(a, "GET", "/api/v1/checks", headers=bearer(TOKEN_A + "x"))[0] == 401
    assert call(a, "GET", "/api/v1/checks", headers=basic("alice", ALICE_PW))[0] == 200
    # Rotation: the new token in, the old one out, over /-/reload.
    tokens.write_text(f"{TOKEN_B}\n")
    st, _, body = call(a, "POST", "/-/reload", headers=bearer(TOKEN_A))
    assert (st, body) == (200, b"configuration reloaded\n")
    assert call(a, "GET", "/metrics", headers=bearer(TOKEN_A))[0] == 401
    assert call(a, "GET", "/metrics", headers=bearer(TOKEN_B))[0] == 200
    # A bad tokens file fails the reload and keeps the running tokens.
    tokens.write_text(f"{TOKEN_A} {TOKEN_B}\n")
    st, _, body = call(a, "POST", "/-/reload", headers=bearer(TOKEN_B))
    assert st == 500
    assert body.decode() == (f"{tokens}:1: a token may hold only letters, digits and -._~+/ "
                             "with = at its end (RFC 6750)\n")
    assert call(a, "GET", "/metrics", headers=bearer(TOKEN_A))[0] == 401
    st, _, text = call(a, "GET", "/metrics", headers=bearer(TOKEN_B))
    assert st == 200 and "outpost_config_last_reload_successful 0\n" in text.decode()
    # SIGHUP reloads the tokens too.
    tokens.write_text(f"{TOKEN_A}\n")
    a.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: call(a, "GET", "/-/ready", headers=bearer(TOKEN_A))[0] == 200 and
             call(a, "GET", "/metrics", headers=bearer(TOKEN_A))[0] == 200,
             what="SIGHUP to load the new token")
    assert call(a, "GET", "/metrics", headers=bearer(TOKEN_B))[0] == 401
    assert '"reason":"unknown token"' in a.logs()
    assert_no_secrets(a)


def test_lifecycle_flag(agent_factory, target):
    a = agent_factory(checks(target))
    st, _, body = call(a, "POST", "/-/reload")
    assert st == 403
    assert body == (b"reload over HTTP is off: start outpost with --web.enable-lifecycle "
                    b"(SIGHUP always reloads)\n")
    assert call(a, "PUT", "/-/reload")[0] == 403
    assert call(a, "GET", "/-/reload")[0] == 405
    # SIGHUP works without the flag.
    _, ts = reload_ok_ts(a)
    a.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: reload_ok_ts(a)[1] > ts, what="SIGHUP reload")


def test_lifecycle_flag_on(agent_factory, target):
    a = agent_factory(checks(target), extra_args=["--web.enable-lifecycle"])
    st, _, body = call(a, "POST", "/-/reload")
    assert (st, body) == (200, b"configuration reloaded\n")


# ---- rate limit ----

def test_rate_limit(agent_factory, target):
    a = agent_factory(checks(target), extra_args=["--web.rate-limit=3/1m"])
    other = "127.0.0.2"  # another client address: its own bucket
    before = requests_total(a, source=other)
    for _ in range(3):
        assert call(a, "GET", "/api/v1/checks")[0] == 200
    st, hdrs, body = call(a, "GET", "/api/v1/checks")
    assert st == 429
    assert hdrs["Retry-After"] == "20"  # one request every 20 s, in whole seconds
    assert body == b"too many requests from this address; retry in 20 s\n"
    assert call(a, "GET", "/")[0] == 429  # per address, every endpoint
    assert call(a, "GET", "/-/healthy")[0] == 200
    assert call(a, "GET", "/-/ready")[0] == 200
    d = delta(before, requests_total(a, source=other))
    assert d == {("api", "200"): 3, ("api", "429"): 1, ("landing", "429"): 1,
                 ("healthy", "200"): 1, ("ready", "200"): 1, ("metrics", "200"): 1}
    assert "outpost: --web.rate-limit needs N/PERIOD" in subprocess.run(
        [AGENT_BIN, "--web.rate-limit=20"], capture_output=True, text=True).stderr


# ---- Flagger ----

def canary_config(target):
    return textwrap.dedent(f"""\
        checks:
          - {{name: ok, url: "{target.url('/ok')}", interval: 1s}}
        canaries:
          - name: c
            baseline: {{url: "{target.url('/ok')}", timeout: 80ms}}
            canary: {{url: "{target.url('/ok')}", timeout: 80ms}}
            interval: 100ms
            window: 1m
            min_samples: 1000
        """)


def test_flagger_metadata_token(agent_factory, tmp_path, target):
    tokens = tmp_path / "tokens"
    tokens.write_text(f"{TOKEN_A}\n")
    a = agent_factory(canary_config(target), extra_args=[
        f"--web.bearer-tokens-file={tokens}", "--log.level=debug"])
    auth = bearer(TOKEN_A)

    def samples():
        m = parse_metrics(call(a, "GET", "/metrics", headers=auth)[2].decode())
        return m.get(("outpost_canary_samples", frozenset({("canary", "c"),
                                                           ("arm", "baseline")})), 0)
    wait_for(lambda: samples() >= 5, what="canary samples")

    def post(body, headers=None):
        return call(a, "POST", "/gates/flagger/c", body=json.dumps(body).encode(),
                    headers={"Content-Type": "application/json", **(headers or {})})
    # Without a token, or with a wrong one, nothing happens: 401, and the new
    # checksum resets no samples.
    st, hdrs, body = post(FLAGGER)
    assert st == 401 and hdrs.get_all("WWW-Authenticate") == ['Bearer realm="outpost"']
    wrong = dict(FLAGGER, metadata={"type": "rollout", "token": TOKEN_WRONG})
    assert post(wrong)[0] == 401
    assert post(dict(FLAGGER, metadata={"token": 5}))[0] == 401
    assert call(a, "POST", "/gates/flagger/c", body=b"not json")[0] == 401
    assert "new revision" not in a.logs()
    assert samples() >= 5
    # metadata.token: judged (412 inconclusive: min_samples 1000), and its new
    # checksum starts a revision.
    good = dict(FLAGGER, metadata={"type": "rollout", "token": TOKEN_A})
    st, _, text = post(good)
    assert st == 412 and text.decode().startswith("inconclusive:")
    assert a.logs().count("new revision, canary samples reset") == 1
    # The header works too; a wrong header is not rescued by a good body.
    st, _, _ = post(dict(FLAGGER, checksum="c0ffee02"), headers=auth)
    assert st == 412 and a.logs().count("new revision, canary samples reset") == 2
    assert post(dict(good, checksum="c0ffee03"), headers=bearer(TOKEN_WRONG))[0] == 401
    assert a.logs().count("new revision, canary samples reset") == 2
    assert call(a, "GET", "/gates/flagger/c", headers=auth)[0] == 405
    assert 'handler=flagger scheme=metadata.token reason="unknown token"' in a.logs()
    assert_no_secrets(a)


# ---- the request counter on an open agent ----

def test_requests_total_every_handler(agent_factory, target):
    a = agent_factory(canary_config(target), extra_args=["--web.telemetry-path=/m"])
    before = requests_total_at(a, "/m")
    for method, path in [("GET", "/"), ("GET", "/-/healthy"), ("GET", "/-/ready"),
                         ("POST", "/-/reload"), ("GET", "/-/reload"), ("GET", "/api/v1/checks"),
                         ("GET", "/api/v1/checks/nope"), ("GET", "/gates/argo/c"),
                         ("GET", "/gates/argo/nope"), ("GET", "/metrics"), ("GET", "/x?y=1"),
                         ("POST", "/m"), ("GET", "/status"), ("GET", "/api/v1/status"),
                         ("GET", "/api/v1/status?page=0")]:
        call(a, method, path)
    st, _, _ = call(a, "POST", "/gates/flagger/c", body=json.dumps(FLAGGER).encode())
    assert st == 412
    # A request is counted when libmicrohttpd completes it, which may come just after the
    # client has read its answer: wait for the last one. Each read of /m counts itself once
    # it completes, so the metrics page's 200s are at least the first read's.
    want = {("landing", "200"): 1, ("healthy", "200"): 1, ("ready", "200"): 1,
            ("reload", "403"): 1, ("reload", "405"): 1, ("api", "200"): 1,
            ("api", "404"): 1, ("argo", "200"): 1, ("argo", "404"): 1,
            ("other", "404"): 2, ("metrics", "405"): 1, ("flagger", "412"): 1,
            ("status", "200"): 1, ("status_api", "200"): 1, ("status_api", "400"): 1}

    def counted():
        d = delta(before, requests_total_at(a, "/m"))
        pages = d.pop(("metrics", "200"), 0)
        return d == want and pages >= 1
    wait_for(counted, timeout=5, what="every request counted")
    d = delta(before, requests_total_at(a, "/m"))
    assert d.pop(("metrics", "200")) >= 1
    assert d == want
    r = subprocess.run(["promtool", "check", "metrics"], input=call(a, "GET", "/m")[2].decode(),
                       capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout == "" and r.stderr == ""


def requests_total_at(a, path):
    st, _, body = call(a, "GET", path)
    assert st == 200
    m = parse_metrics(body.decode())
    return {(dict(k[1])["handler"], dict(k[1])["code"]): v for k, v in m.items()
            if k[0] == "outpost_http_requests_total"}
