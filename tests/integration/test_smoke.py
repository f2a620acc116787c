"""`outpost check`: a configuration's checks run once, at the same time,
against the real target, reported as a table, JSON or JUnit XML, with the
exit status a CI step gates on (0 all passed, 1 any failed, 2 usage or
configuration error)."""
import json
import os
import re
import subprocess
import textwrap
import time
import xml.etree.ElementTree as ET

from conftest import AGENT_BIN, SLOW, Target, free_closed_port, http

DUR = re.compile(r"\d+\.\d{3}s")


def smoke(tmp_path, config, *flags, env=None, timeout=60):
    """Run `outpost check` on config (text); (CompletedProcess, path, seconds)."""
    path = tmp_path / "smoke.yml"
    path.write_text(textwrap.dedent(config))
    t0 = time.monotonic()
    r = subprocess.run([AGENT_BIN, "check", f"--config.file={path}", *flags],
                       capture_output=True, text=True, env=env, timeout=timeout)
    elapsed = time.monotonic() - t0
    assert "Sanitizer" not in r.stderr and "runtime error:" not in r.stderr, r.stderr
    return r, path, elapsed


def table_rows(out):
    """The table's rows as lists of cells (durations as D), and the summary."""
    lines = out.splitlines()
    assert lines[-2] == "", out
    rows = [re.split(r"\s{2,}", DUR.sub("D", line.rstrip())) for line in lines[:-2]]
    return rows, DUR.sub("D", lines[-1])


def passing_config(target):
    return f"""\
        checks:
          - name: ok
            url: {target.url('/ok')}
          - name: json
            group: api
            url: {target.url('/json')}
            expect:
              status: 200
              json: [{{path: status, equals: ok}}]
          - name: redirect
            url: {target.url('/redirect/2')}
            expect: {{body_matches: "^ok"}}
        """


def test_all_pass_table(tmp_path, target):
    r, _, _ = smoke(tmp_path, passing_config(target))
    assert (r.returncode, r.stderr) == (0, "")
    rows, summary = table_rows(r.stdout)
    assert rows == [
        ["CHECK", "RESULT", "REASON", "STATUS", "DURATION", "DETAIL"],
        ["ok", "pass", "-", "200", "D"],
        ["json", "pass", "-", "200", "D"],
        ["redirect", "pass", "-", "200", "D"],
    ]
    assert summary == "3 checks: 3 passed, 0 failed in D"


def test_all_pass_json(tmp_path, target):
    r, _, _ = smoke(tmp_path, passing_config(target), "--format=json")
    assert (r.returncode, r.stderr) == (0, "")
    doc = json.loads(r.stdout)
    assert r.stdout.count("\n") == 5  # the head, a line per check, the end
    assert {k: doc[k] for k in ("result", "checks_total", "passed", "failed", "url_prefix")} == {
        "result": "pass", "checks_total": 3, "passed": 3, "failed": 0, "url_prefix": None}
    assert 0 < doc["duration_seconds"] < 10
    for c in doc["checks"]:
        assert 0 < c.pop("duration_seconds") < 10
    assert doc["checks"] == [
        {"name": "ok", "type": "http", "group": "", "target": target.url("/ok"),
         "result": "pass", "reason": None, "status": 200, "detail": "", "attempts": 1,
         "steps": []},
        {"name": "json", "type": "http", "group": "api", "target": target.url("/json"),
         "result": "pass", "reason": None, "status": 200, "detail": "", "attempts": 1,
         "steps": []},
        {"name": "redirect", "type": "http", "group": "", "target": target.url("/redirect/2"),
         "result": "pass", "reason": None, "status": 200, "detail": "", "attempts": 1,
         "steps": []},
    ]


def failing_config(target, closed):
    return f"""\
        checks:
          - name: ok
            url: {target.url('/ok')}
          - name: wrong-status
            url: {target.url('/status/503')}
          - name: slow
            url: {target.url('/sleep/5000')}
            timeout: 1s
          - name: refused
            url: http://127.0.0.1:{closed}/
          - name: json
            url: {target.url('/json')}
            expect:
              json: [{{path: version, equals: 4}}]
        """


def test_failures_table_and_json(tmp_path, target):
    closed = free_closed_port()
    r, _, _ = smoke(tmp_path, failing_config(target, closed))
    assert (r.returncode, r.stderr) == (1, "")
    rows, summary = table_rows(r.stdout)
    assert rows == [
        ["CHECK", "RESULT", "REASON", "STATUS", "DURATION", "DETAIL"],
        ["ok", "pass", "-", "200", "D"],
        ["wrong-status", "fail", "http_status", "503", "D", "status 503 not in [200-299]"],
        ["slow", "fail", "timeout", "-", "D", "timeout after 1.000 s in phase processing"],
        ["refused", "fail", "connect", "-", "D", "connect: connection refused"],
        ["json", "fail", "json", "200", "D", "json version: want 4, got 3"],
    ]
    assert summary == "5 checks: 1 passed, 4 failed in D"

    r, _, _ = smoke(tmp_path, failing_config(target, closed), "--format=json")
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    assert (doc["result"], doc["passed"], doc["failed"]) == ("fail", 1, 4)
    got = [(c["name"], c["result"], c["reason"], c["status"], c["detail"])
           for c in doc["checks"]]
    assert got == [
        ("ok", "pass", None, 200, ""),
        ("wrong-status", "fail", "http_status", 503, "status 503 not in [200-299]"),
        ("slow", "fail", "timeout", 0, "timeout after 1.000 s in phase processing"),
        ("refused", "fail", "connect", 0, "connect: connection refused"),
        ("json", "fail", "json", 200, "json version: want 4, got 3"),
    ]
    slow = doc["checks"][2]["duration_seconds"]
    assert 1.0 <= slow < 1.5


def test_junit(tmp_path, target):
    closed = free_closed_port()
    r, _, _ = smoke(tmp_path, failing_config(target, closed).replace(
        "name: ok\n", "name: ok <&> \"q\"\n            group: a&b\n"), "--format=junit")
    assert (r.returncode, r.stderr) == (1, "")
    root = ET.fromstring(r.stdout)
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("5", "4", "0")
    (suite,) = root.findall("testsuite")
    assert (suite.get("name"), suite.get("tests"), suite.get("failures"),
            suite.get("errors"), suite.get("skipped")) == ("outpost check", "5", "4", "0", "0")
    assert float(suite.get("time")) >= 1.0
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", suite.get("timestamp"))
    cases = suite.findall("testcase")
    assert [(c.get("name"), c.get("classname")) for c in cases] == [
        ('ok <&> "q"', "a&b"), ("wrong-status", "http"), ("slow", "http"),
        ("refused", "http"), ("json", "http")]
    assert cases[0].find("failure") is None
    failures = [(c.find("failure").get("type"), c.find("failure").get("message"),
                 c.find("failure").text) for c in cases[1:]]
    assert failures == [
        ("http_status", "status 503 not in [200-299]",
         "http_status: status 503 not in [200-299]"),
        ("timeout", "timeout after 1.000 s in phase processing",
         "timeout: timeout after 1.000 s in phase processing"),
        ("connect", "connect: connection refused", "connect: connect: connection refused"),
        ("json", "json version: want 4, got 3", "json: json version: want 4, got 3"),
    ]
    assert cases[1].find("system-out").text == (
        f"target: {target.url('/status/503')}\nstatus: 503\nattempts: 1\n"
        "detail: status 503 not in [200-299]\n")
    assert 1.0 <= float(cases[2].get("time")) < 1.5


def test_output_file(tmp_path, target):
    closed = free_closed_port()
    out = tmp_path / "report.xml"
    r, _, _ = smoke(tmp_path, failing_config(target, closed), "--format=junit",
                    f"--output={out}")
    assert (r.returncode, r.stderr) == (1, "")
    # stdout: the failures, then the summary.
    assert DUR.sub("D", r.stdout) == (
        "FAIL wrong-status [http_status] status 503 not in [200-299]\n"
        "FAIL slow [timeout] timeout after 1.000 s in phase processing\n"
        "FAIL refused [connect] connect: connection refused\n"
        "FAIL json [json] json version: want 4, got 3\n"
        "5 checks: 1 passed, 4 failed in D\n")
    suite = ET.parse(out).getroot().find("testsuite")
    assert (suite.get("tests"), suite.get("failures")) == ("5", "4")
    # All passing: only the summary; the table goes to the file.
    out2 = tmp_path / "report.txt"
    r, _, _ = smoke(tmp_path, passing_config(target), f"--output={out2}")
    assert r.returncode == 0
    assert DUR.sub("D", r.stdout) == "3 checks: 3 passed, 0 failed in D\n"
    assert out2.read_text().startswith("CHECK     RESULT  REASON  STATUS  DURATION  DETAIL\n")
    # A file that cannot be written is an error (2), after the run.
    r, _, _ = smoke(tmp_path, passing_config(target), f"--output={tmp_path}/no/such/dir/r.xml")
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr == (f"outpost check: cannot write {tmp_path}/no/such/dir/r.xml: "
                        "No such file or directory\n")


def test_url_prefix(tmp_path, target):
    """The same file, pointed at another host: every URL here names a closed
    port; the prefix sends them to the target, paths and queries kept."""
    closed = free_closed_port()
    config = f"""\
        checks:
          - name: ok
            url: http://127.0.0.1:{closed}/ok
          - name: json
            url: https://127.0.0.1:{closed}/json?x=1
            expect: {{json: [{{path: status, equals: ok}}]}}
        """
    r, _, _ = smoke(tmp_path, config)
    assert r.returncode == 1 and r.stdout.count("connect: connection refused") == 2
    r, _, _ = smoke(tmp_path, config, f"--url-prefix={target.base}", "--format=json")
    assert (r.returncode, r.stderr) == (0, "")
    doc = json.loads(r.stdout)
    assert doc["url_prefix"] == target.base
    assert [(c["name"], c["result"], c["status"]) for c in doc["checks"]] == [
        ("ok", "pass", 200), ("json", "pass", 200)]
    # The target label stays as configured.
    assert doc["checks"][0]["target"] == f"http://127.0.0.1:{closed}/ok"
    # A base path goes before each path: /status + /503.
    config = f"""\
        checks:
          - name: s
            url: http://127.0.0.1:{closed}/503
        """
    r, _, _ = smoke(tmp_path, config, f"--url-prefix={target.base}/status/")
    assert r.returncode == 1
    assert table_rows(r.stdout)[0][1] == [
        "s", "fail", "http_status", "503", "D", "status 503 not in [200-299]"]


def test_run_timeout(tmp_path, target):
    """--timeout bounds the whole run: the check still running then fails
    with reason timeout; the others keep their results."""
    config = f"""\
        checks:
          - name: ok
            url: {target.url('/ok')}
          - name: stuck
            url: {target.url('/sleep/20000')}
            timeout: 10s
        """
    r, _, elapsed = smoke(tmp_path, config, "--timeout=1s", "--format=json")
    assert (r.returncode, r.stderr) == (1, "")
    assert elapsed < 5 * SLOW
    doc = json.loads(r.stdout)
    assert 1.0 <= doc["duration_seconds"] < 1.5
    ok, stuck = doc["checks"]
    assert (ok["result"], stuck["result"], stuck["reason"], stuck["status"]) == (
        "pass", "fail", "timeout", 0)
    assert stuck["detail"] == "not finished when the run's --timeout 1s ran out"
    assert 1.0 <= stuck["duration_seconds"] < 1.5


def test_checks_run_concurrently(tmp_path):
    """Two checks of one second each overlap on the target (its peak of
    requests asleep at once is 2), so the run takes about one second."""
    t = Target(None)
    try:
        config = f"""\
            checks:
              - {{name: a, url: "{t.url('/sleep/1000')}"}}
              - {{name: b, url: "{t.url('/sleep/1000')}"}}
            """
        r, _, _ = smoke(tmp_path, config, "--format=json")
        assert (r.returncode, r.stderr) == (0, "")
        assert http("GET", t.url("/sleep-peak"))[2] == b"2\n"
        assert json.loads(r.stdout)["duration_seconds"] < 1.9
    finally:
        t.stop()


def test_retries_and_secrets(tmp_path):
    """retry: is honoured (the target saw both attempts); ${env:} resolves
    as in the agent."""
    t = Target(None)
    try:
        config = f"""\
            checks:
              - name: failing
                url: {t.url('/status/500')}
                timeout: 1s
                retry: {{attempts: 1, delay: 100ms}}
              - name: token
                url: {t.url('/auth/bearer/s3cret')}
                bearer_token: ${{env:SMOKE_TOKEN}}
            """
        env = dict(os.environ, SMOKE_TOKEN="s3cret")
        r, path, _ = smoke(tmp_path, config, "--format=json", env=env)
        assert r.returncode == 1, r.stderr
        failing, token = json.loads(r.stdout)["checks"]
        assert (failing["reason"], failing["status"], failing["attempts"]) == (
            "http_status", 500, 2)
        assert (token["result"], token["status"]) == ("pass", 200)
        # 2 for failing, 1 for token, this one.
        assert http("GET", t.url("/count"))[2] == b"4\n"
        assert "s3cret" not in r.stdout.replace(t.url("/auth/bearer/s3cret"), "")
        env.pop("SMOKE_TOKEN")
        r, path, _ = smoke(tmp_path, config, env=env)
        assert (r.returncode, r.stdout) == (2, "")
        assert r.stderr == (f"{path}:8:19: checks[1] \"token\".bearer_token: environment "
                            "variable SMOKE_TOKEN is not set\n")
    finally:
        t.stop()


def test_selection_and_canary_arms(tmp_path, target):
    config = f"""\
        checks:
          - {{name: homepage, url: "{target.url('/ok')}"}}
          - {{name: orders, url: "{target.url('/status/500')}"}}
        canaries:
          - name: shop
            baseline: {{url: "{target.url('/ok')}"}}
            canary: {{url: "{target.url('/status/502')}"}}
        slos:
          - name: avail
            objective: 99.9
            sli: {{checks: [homepage]}}
        """
    # Default: the checks: entries, not the canary's inline arms.
    r, _, _ = smoke(tmp_path, config)
    assert [row[0] for row in table_rows(r.stdout)[0][1:]] == ["homepage", "orders"]
    r, _, _ = smoke(tmp_path, config, "--check=homepage")
    assert r.returncode == 0
    assert [row[:2] for row in table_rows(r.stdout)[0][1:]] == [["homepage", "pass"]]
    # Named, an arm runs; repeated names run once; order is the file's.
    r, _, _ = smoke(tmp_path, config, "--check=shop/canary", "--check", "homepage",
                    "--check=homepage")
    assert r.returncode == 1
    assert [row[:4] for row in table_rows(r.stdout)[0][1:]] == [
        ["homepage", "pass", "-", "200"], ["shop/canary", "fail", "http_status", "502"]]


def test_usage_errors(tmp_path, target):
    good = f"checks: [{{name: homepage, url: \"{target.url('/ok')}\"}}]\n"
    cases = [
        (["--check=homepag"],
         'outpost check: --check: no check named "homepag" in {path} (did you mean '
         '"homepage"?)\n'),
        (["--check=zzz", "--check=homepage"],
         'outpost check: --check: no check named "zzz" in {path}\n'),
        (["--format=xml"], "outpost check: --format must be table, json or junit\n"),
        (["--timeout=soon"],
         "outpost check: --timeout needs a duration above 0 (e.g. 500ms, 30s, 2m)\n"),
        (["--timeout"], "outpost check: flag --timeout needs a value\n"),
        (["--bogus"], "outpost check: unknown flag --bogus (see outpost check --help)\n"),
        (["homepage"], "outpost check: unexpected argument homepage (see outpost check --help)\n"),
        (["--config.check"],
         "outpost check: unknown flag --config.check (see outpost check --help)\n"),
        (["--url-prefix=ftp://x"], "outpost check: --url-prefix: the scheme must be http or "
                                   "https\n"),
        (["--url-prefix=http://u:p@x"], "outpost check: --url-prefix: it must not hold user "
                                        "info: give credentials in the configuration\n"),
        (["--url-prefix=x.example.com"], "outpost check: --url-prefix: not an absolute URL "
                                         "(scheme://host[:port][/path])\n"),
        (["--url-prefix=http://x/?a=b"], "outpost check: --url-prefix: it must not have a "
                                         "query or fragment\n"),
    ]
    for flags, want in cases:
        r, path, _ = smoke(tmp_path, good, *flags)
        assert (r.returncode, r.stdout, r.stderr) == (2, "", want.format(path=path)), flags
    # A bad configuration: its problems with file:line:column.
    r, path, _ = smoke(tmp_path, """\
        checks:
          - name: a
            url: http://127.0.0.1:1/
            intervall: 10s
        """)
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr == f'{path}:4:5: checks[0] "a": unknown key "intervall" (did you mean ' \
                       '"interval"?)\n'
    r = subprocess.run([AGENT_BIN, "check", f"--config.file={tmp_path}/missing.yml"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and r.stdout == "" and "missing.yml" in r.stderr
    # Nothing to run.
    r, path, _ = smoke(tmp_path, f"""\
        checks: []
        canaries:
          - name: shop
            baseline: {{url: "{target.url('/ok')}"}}
            canary: {{url: "{target.url('/ok')}"}}
        """)
    assert (r.returncode, r.stdout, r.stderr) == (
        2, "", f"outpost check: {path} has no checks to run\n")


def test_help(tmp_path):
    r = subprocess.run([AGENT_BIN, "check", "--help"], capture_output=True, text=True,
                       timeout=30)
    assert (r.returncode, r.stderr) == (0, "")
    assert r.stdout.startswith("usage: outpost check [--config.file=outpost.yml]")
    for flag in ("--check=NAME", "--format=table", "--output=FILE", "--timeout=DURATION",
                 "--url-prefix=URL"):
        assert f"\n  {flag}" in r.stdout, flag
    # The agent's --help (and so the man page help2man makes) lists the command.
    r = subprocess.run([AGENT_BIN, "--help"], capture_output=True, text=True, timeout=30)
    assert "\n  check                       Run every check once" in r.stdout


def test_url_prefix_to_https(tmp_path, tls_target, certs):
    """A prefix may change the scheme: the check's tls settings then apply
    (its CA file verifies the target's certificate; without it, reason tls)."""
    closed = free_closed_port()
    config = f"""\
        checks:
          - name: verified
            url: http://127.0.0.1:{closed}/ok
            tls: {{ca_file: "{certs[0]}"}}
          - name: unverified
            url: http://127.0.0.1:{closed}/ok
        """
    r, _, _ = smoke(tmp_path, config, f"--url-prefix={tls_target.base}", "--format=json")
    assert r.returncode == 1, r.stderr
    verified, unverified = json.loads(r.stdout)["checks"]
    assert (verified["result"], verified["status"]) == ("pass", 200)
    assert (unverified["result"], unverified["reason"], unverified["status"]) == (
        "fail", "tls", 0)
