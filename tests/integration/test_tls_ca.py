"""CA files for https checks: loaded once when the configuration loads, loaded again
by a reload after they changed, and refused when they are not regular files (a FIFO
must be a configuration error, never a hang)."""
import json
import os
import shutil
import subprocess
import tempfile
import textwrap

from conftest import AGENT_BIN, http, wait_for

SYSTEM_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def last_result(agent, name):
    status, _, body = http("GET", f"{agent.base}/api/v1/checks/{name}")
    assert status == 200, body
    return json.loads(body)["last_result"]


def other_ca(tmp_path):
    """A self-signed certificate that signed nothing the target presents."""
    cert, key = str(tmp_path / "other.pem"), str(tmp_path / "other.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "2", "-subj", "/CN=outpost other CA"],
                   check=True, capture_output=True)
    with open(cert) as f:
        return f.read()


def config(url, ca_file):
    return textwrap.dedent(f"""\
        global: {{interval: 1s, timeout: 1s}}
        checks:
          - name: a
            url: {url}
            tls: {{ca_file: {ca_file}}}
          - name: b
            url: {url}
            tls: {{ca_file: {ca_file}}}
        """)


def test_ca_file_loaded_again_when_changed_on_reload(agent_factory, tls_target, certs, tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text(other_ca(tmp_path))
    a = agent_factory(config(tls_target.url("/ok"), ca), extra_args=["--web.enable-lifecycle"])
    for name in ("a", "b"):
        a.wait_value("outpost_check_failures_total", lambda v: v >= 1, check=name, reason="tls")
        assert last_result(a, name)["detail"] == \
            "tls: SSL certificate problem: self-signed certificate"

    # Replaced the way editors and config management do (a new file renamed over
    # the old one) by the system bundle with the target's certificate appended: the
    # reload reads it, the unchanged configuration around it does not matter.
    new = tmp_path / "ca.pem.new"
    with open(SYSTEM_BUNDLE) as f:
        bundle = f.read()
    with open(certs[0]) as f:
        new.write_text(bundle + f.read())
    os.rename(new, ca)
    status, _, body = http("POST", a.base + "/-/reload")
    assert status == 200, body
    for name in ("a", "b"):
        a.wait_value("outpost_check_up", lambda v: v == 1, check=name)
        assert last_result(a, name)["detail"] == ""
    assert a.value("outpost_check_tls_cert_expiry_timestamp_seconds", check="a") == certs[2]


def test_fifo_as_tls_file_is_a_config_error(agent_factory, tls_target, certs, tmp_path):
    # A short path: messages shorten long ones.
    d = tempfile.mkdtemp(prefix="op-")
    fifo = os.path.join(d, "fifo")
    os.mkfifo(fifo)
    try:
        fifo_config_error(agent_factory, tls_target, certs, tmp_path, fifo)
    finally:
        shutil.rmtree(d)


def fifo_config_error(agent_factory, tls_target, certs, tmp_path, fifo):
    bad = textwrap.dedent(f"""\
        checks:
          - name: a
            url: {tls_target.url('/ok')}
            tls:
              ca_file: {fifo}
              cert_file: {fifo}
              key_file: {fifo}
        """)
    path = tmp_path / "bad.yml"
    path.write_text(bad)
    # The timeout is the hang guard: opening a FIFO for reading blocks until a
    # writer comes, which never happens here.
    r = subprocess.run([AGENT_BIN, "--config.check", f"--config.file={path}"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert r.stderr == (
        f"{path}:5:16: checks[0] \"a\".tls.ca_file: cannot read {fifo}: not a regular file\n"
        f"{path}:6:18: checks[0] \"a\".tls.cert_file: cannot read {fifo}: not a regular file\n"
        f"{path}:7:17: checks[0] \"a\".tls.key_file: cannot read {fifo}: not a regular file\n")

    # A running agent refuses the reload and keeps probing with what it had.
    a = agent_factory(config(tls_target.url("/ok"), certs[0]),
                      extra_args=["--web.enable-lifecycle"])
    a.wait_value("outpost_check_up", lambda v: v == 1, check="a")
    a.write_config(bad)
    status, _, body = http("POST", a.base + "/-/reload", timeout=30)
    assert status == 500
    assert f"checks[0] \"a\".tls.ca_file: cannot read {fifo}: not a regular file" in body.decode()
    runs = a.value("outpost_check_runs_total", check="a")
    a.wait_value("outpost_check_runs_total", lambda v: v > runs, check="a")
    assert a.value("outpost_check_up", check="a") == 1
