"""The agent as a process: endpoints, formats, reload, signals, secrets."""
import os
import signal
import subprocess
import textwrap
import time

from conftest import AGENT_BIN, gunzip, http, parse_metrics, wait_for

OM_ACCEPT = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
             "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")


def cfg(target, *names, interval="300ms"):
    lines = [f"global: {{interval: {interval}, timeout: 250ms}}", "checks:"]
    for n in names:
        lines += [f"  - name: {n}", f"    url: {target.url('/ok')}"]
    return "\n".join(lines) + "\n"


def test_endpoints(agent_factory, target):
    a = agent_factory(cfg(target, "a"))
    st, hdrs, body = http("GET", a.base + "/")
    assert st == 200 and b"outpost" in body and b'href="/metrics"' in body
    assert http("GET", a.base + "/-/healthy")[0] == 200
    assert http("GET", a.base + "/-/ready")[0] == 200
    assert http("GET", a.base + "/nope")[0] == 404
    st, hdrs, _ = http("GET", a.base + "/-/reload")
    assert st == 405 and hdrs["Allow"] == "POST, PUT"
    assert http("POST", a.base + "/metrics")[0] == 405
    st, hdrs, body = http("GET", a.base + "/metrics")
    assert hdrs["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert body.endswith(b"\n")


def test_agent_metrics_present(agent_factory, target):
    a = agent_factory(cfg(target, "a", "b"))
    a.wait_value("outpost_check_runs_total", lambda v: v >= 1, check="a")
    m = a.metrics()
    names = {k[0] for k in m}
    for n in ["outpost_build_info", "outpost_config_last_reload_successful",
              "outpost_config_last_reload_success_timestamp_seconds",
              "outpost_checks_configured", "outpost_probes_in_flight",
              "outpost_scheduler_lag_seconds_bucket", "outpost_scheduler_lag_seconds_count",
              "outpost_scrape_duration_seconds", "outpost_state_snapshots_total",
              "outpost_state_snapshot_failures_total", "process_cpu_seconds_total",
              "process_resident_memory_bytes", "process_virtual_memory_bytes",
              "process_open_fds", "process_max_fds", "process_start_time_seconds"]:
        assert n in names, n
    assert m[("outpost_checks_configured", frozenset())] == 2
    assert m[("outpost_config_last_reload_successful", frozenset())] == 1
    assert abs(m[("process_start_time_seconds", frozenset())] - time.time()) < 120
    # Histogram invariant: +Inf bucket equals the count.
    runs = m[("outpost_check_duration_seconds_count", frozenset({("check", "a")}))]
    inf = m[("outpost_check_duration_seconds_bucket", frozenset({("check", "a"), ("le", "+Inf")}))]
    assert runs == inf >= 1


def test_promtool_check_metrics(agent_factory, target):
    a = agent_factory(cfg(target, "a", 'we"ird\\name'))
    a.wait_value("outpost_check_runs_total", lambda v: v >= 1, check="a")
    text = a.scrape_text()
    assert 'check="we\\"ird\\\\name"' in text
    r = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                       text=True)
    assert r.returncode == 0 and r.stdout == "" and r.stderr == "", (r.stdout, r.stderr)


def test_openmetrics_and_gzip(agent_factory, target):
    a = agent_factory(cfg(target, "a"))
    a.wait_value("outpost_check_runs_total", lambda v: v >= 1, check="a")
    st, hdrs, body = http("GET", a.base + "/metrics", headers={"Accept": OM_ACCEPT})
    assert st == 200
    assert hdrs["Content-Type"] == \
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    text = body.decode()
    assert text.endswith("# EOF\n")
    assert "# TYPE outpost_check_runs counter\n" in text
    assert 'outpost_check_runs_total{check="a"}' in text
    assert "# TYPE outpost_check info\n" in text
    assert "# TYPE outpost_build info\n" in text
    # Text format when the scraper prefers it.
    st, hdrs, body = http("GET", a.base + "/metrics",
                          headers={"Accept": "text/plain;version=0.0.4;q=1,"
                                             "application/openmetrics-text;q=0.5"})
    assert hdrs["Content-Type"].startswith("text/plain") and not body.endswith(b"# EOF\n")
    # gzip.
    st, hdrs, body = http("GET", a.base + "/metrics", headers={"Accept-Encoding": "gzip"})
    assert st == 200 and hdrs["Content-Encoding"] == "gzip"
    m = parse_metrics(gunzip(body).decode())
    assert m[("outpost_checks_configured", frozenset())] == 1
    st, hdrs, body = http("GET", a.base + "/metrics",
                          headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in hdrs and body.startswith(b"# HELP")


def test_reload_keeps_counters_and_drops_removed(agent_factory, target):
    a = agent_factory(cfg(target, "keep", "drop"), extra_args=["--web.enable-lifecycle"])
    a.wait_value("outpost_check_runs_total", lambda v: v >= 3, check="keep")
    a.wait_value("outpost_check_runs_total", lambda v: v >= 1, check="drop")
    before = a.value("outpost_check_runs_total", check="keep")
    a.write_config(cfg(target, "keep", "new"))
    st, _, body = http("POST", a.base + "/-/reload")
    assert st == 200, body
    text = a.scrape_text()
    assert 'check="drop"' not in text
    assert a.value("outpost_check_runs_total", check="keep") >= before
    a.wait_value("outpost_check_runs_total", lambda v: v >= 1, check="new")
    assert a.value("outpost_checks_configured") == 2
    # SIGHUP reloads too.
    a.write_config(cfg(target, "keep"))
    a.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: 'check="new"' not in a.scrape_text(), what="SIGHUP reload")
    assert a.value("outpost_check_runs_total", check="keep") >= before
    assert a.value("outpost_config_last_reload_successful") == 1


def test_bad_reload_keeps_old_config(agent_factory, target):
    a = agent_factory(cfg(target, "keep"), extra_args=["--web.enable-lifecycle"])
    a.wait_value("outpost_check_runs_total", lambda v: v >= 1, check="keep")
    good_ts = a.value("outpost_config_last_reload_success_timestamp_seconds")
    a.write_config(cfg(target, "keep") + "    timeout: 2x\n")
    st, _, body = http("POST", a.base + "/-/reload")
    assert st == 500
    assert "outpost.yml:5:14: checks[0] \"keep\".timeout: \"2x\" is not a duration" in body.decode()
    assert a.value("outpost_config_last_reload_successful") == 0
    assert a.value("outpost_config_last_reload_success_timestamp_seconds") == good_ts
    # logfmt escapes the quotes around the check's name.
    assert '5:14: checks[0] \\"keep\\".timeout' in a.logs()
    # The old config still probes.
    runs = a.value("outpost_check_runs_total", check="keep")
    a.wait_value("outpost_check_runs_total", lambda v: v > runs, check="keep")
    # Fixing the file and reloading recovers.
    a.write_config(cfg(target, "keep"))
    a.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: a.value("outpost_config_last_reload_successful") == 1, what="recovery")


def test_sigterm_stops_quickly_with_probes_in_flight(agent_factory, target):
    a = agent_factory(textwrap.dedent(f"""\
        checks:
          - name: slow
            url: {target.url('/sleep/10000')}
            interval: 5s
            timeout: 5s
        """))
    a.wait_value("outpost_probes_in_flight", lambda v: v == 1, timeout=15)
    rc, took = a.stop(signal.SIGTERM)
    assert rc == 0
    assert took < 1.0, took
    assert "msg=stopped" in a.logs()


def test_sigint_exits_zero(agent_factory, target):
    a = agent_factory(cfg(target, "a"))
    rc, took = a.stop(signal.SIGINT)
    assert rc == 0 and took < 1.0


def test_secrets_never_shown(agent_factory, target, tmp_path):
    token = "S3CRET-TOKEN-7f9a2c"
    secret_file = tmp_path / "pw"
    secret_file.write_text(token + "\n")
    config = textwrap.dedent(f"""\
        global: {{interval: 300ms, timeout: 250ms}}
        checks:
          - name: bearer
            url: "{target.url('/auth/bearer/${env:OUTPOST_TEST_TOKEN}')}"
            bearer_token: ${{env:OUTPOST_TEST_TOKEN}}
          - name: header
            url: {target.url('/status/503')}
            headers: {{X-Api-Key: "${{env:OUTPOST_TEST_TOKEN}}"}}
          - name: basic
            url: "{target.url('/auth/basic/u/${file:' + str(secret_file) + '}')}"
            basic_auth: {{username: u, password: "${{file:{secret_file}}}"}}
          - name: userinfo
            url: "http://u:${{env:OUTPOST_TEST_TOKEN}}@127.0.0.1:{target.port}/ok?key={token}"
        """)
    a = agent_factory(config, extra_args=["--log.level=debug", "--web.enable-lifecycle"],
                      env={"OUTPOST_TEST_TOKEN": token})
    for c in ["bearer", "header", "basic", "userinfo"]:
        a.wait_value("outpost_check_runs_total", lambda v: v >= 1, check=c)
    assert a.value("outpost_check_up", check="bearer") == 1
    assert a.value("outpost_check_up", check="basic") == 1
    # A failing reload whose config holds the secret in several places.
    a.write_config(config.replace("global:", "bogus: 1\nglobal:") +
                   f"  - name: bad\n    url: 'ht!tp://u:{token}@x/'\n"
                   f"    headers: {{X-A: \"${{env:OUTPOST_TEST_TOKEN}}\\nB\"}}\n")
    st, _, reload_body = http("POST", a.base + "/-/reload")
    assert st == 500
    places = {
        "metrics": a.scrape_text(),
        "openmetrics": http("GET", a.base + "/metrics", headers={"Accept": OM_ACCEPT})[2]
        .decode(),
        "landing": http("GET", a.base + "/")[2].decode(),
        "checks api": http("GET", a.base + "/api/v1/checks")[2].decode(),
        "reload error": reload_body.decode(),
    }
    check = subprocess.run([AGENT_BIN, "--config.check", f"--config.file={a.config_path}"],
                           capture_output=True, text=True,
                           env=dict(os.environ, OUTPOST_TEST_TOKEN=token))
    assert check.returncode == 1
    places["config.check"] = check.stdout + check.stderr
    a.stop()
    places["logs"] = a.logs()
    for where, text in places.items():
        assert token not in text, f"secret leaked into {where}"
    assert "header value must not contain line breaks" in places["reload error"]


def test_config_check_and_flags(tmp_path, target):
    good = tmp_path / "good.yml"
    good.write_text(cfg(target, "a", "b"))
    r = subprocess.run([AGENT_BIN, "--config.check", f"--config.file={good}"],
                       capture_output=True, text=True)
    assert r.returncode == 0 and "OK, 2 checks" in r.stdout
    bad = tmp_path / "bad.yml"
    bad.write_text("checks:\n  - name: a\n    url: http://x/\n    intervall: 5s\n"
                   "  - name: a\n    url: http://y/\n")
    r = subprocess.run([AGENT_BIN, "--config.check", "--config.file", str(bad)],
                       capture_output=True, text=True)
    assert r.returncode == 1
    assert f'{bad}:4:5: checks[0] "a": unknown key "intervall"' in r.stderr
    assert (f'{bad}:5:5: checks[1] "a": duplicate check name (first used by checks[0] at line 2)'
            in r.stderr)
    # A secret reference to a FIFO must not hang the loader.
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    ref = tmp_path / "fifo.yml"
    ref.write_text(f"checks:\n  - name: a\n    url: http://x/\n    bearer_token: ${{file:{fifo}}}\n")
    r = subprocess.run([AGENT_BIN, "--config.check", f"--config.file={ref}"],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 1 and f"cannot read {fifo}: not a regular file" in r.stderr
    r = subprocess.run([AGENT_BIN, "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("outpost, version ")
    r = subprocess.run([AGENT_BIN, "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "--web.listen-address" in r.stdout
    r = subprocess.run([AGENT_BIN, "--bogus"], capture_output=True, text=True)
    assert r.returncode == 2 and "unknown flag --bogus" in r.stderr
    r = subprocess.run([AGENT_BIN, f"--config.file={tmp_path}/missing.yml",
                        "--web.listen-address=127.0.0.1:0"], capture_output=True, text=True,
                       timeout=10)
    assert r.returncode == 1 and "cannot open" in r.stderr


def test_json_logs(agent_factory, target):
    a = agent_factory(cfg(target, "a"), extra_args=["--log.format=json"])
    a.stop()
    import json
    lines = [json.loads(l) for l in a.logs().splitlines() if l.strip()]
    assert any(l["msg"] == "configuration loaded" and l["checks"] == "1" for l in lines)
    assert all({"ts", "level", "msg"} <= set(l) for l in lines)


def test_shipped_configs_validate(tmp_path, certs):
    root = os.path.join(os.path.dirname(__file__), "..", "..")
    r = subprocess.run([AGENT_BIN, "--config.check",
                        f"--config.file={root}/config/demo.yml"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    # example.yml references a token variable and a password file.
    pw = tmp_path / "admin-password"
    pw.write_text("pw\n")
    with open(f"{root}/config/example.yml") as f:
        text = f.read().replace("/etc/outpost/admin-password", str(pw))
    # and TLS files, which must exist.
    for name, src in (("ca.pem", certs[0]), ("client.pem", certs[0]),
                      ("client-key.pem", certs[1])):
        text = text.replace(f"/etc/outpost/{name}", src)
    ex = tmp_path / "example.yml"
    ex.write_text(text)
    r = subprocess.run([AGENT_BIN, "--config.check", f"--config.file={ex}"],
                       capture_output=True, text=True,
                       env=dict(os.environ, ORDERS_API_TOKEN="t", PROBE_PASSWORD="p",
                                CART_TOKEN="t"))
    assert r.returncode == 0 and "OK, 14 checks, 3 SLOs" in r.stdout, r.stderr


def test_max_requests_zero_and_repeated_listen(agent_factory, target):
    a = agent_factory(cfg(target, "a"), extra_args=["--web.max-requests=0",
                                                     "--web.listen-address=127.0.0.1:0"])
    assert len([l for l in a.logs().splitlines() if "msg=listening" in l]) == 2
    assert http("GET", a.base + "/metrics")[0] == 200
