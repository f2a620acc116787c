"""`type: flow` against the real target's session API (tests/support/target_api.c):
log in, take the token, use it, log out. The agent's metrics per step, a failing middle
step whose clean-up the target sees, the flow's timeout over all its steps, captured
tokens kept out of every text the agent shows, the capture size cap, one connection per
run, SLOs and canaries over flows, and `outpost check` on flows (exit status, JSON,
JUnit)."""
import json
import re
import subprocess
import textwrap
import time
import xml.etree.ElementTree as ET

from conftest import AGENT_BIN, SLOW, http, parse_metrics, wait_for

REASONS = ["timeout", "dns", "connect", "tls", "http_status", "body", "header", "json",
           "latency", "other", "capture"]
LOGIN_BODY = '\'{"user":"probe","password":"s3cret"}\''


def stats(target):
    st, _, body = http("GET", target.url("/api/stats"))
    assert st == 200
    return json.loads(body)


def flow(target, name="shop", orders_auth="Bearer ${capture:token}", extra="", login_q="",
         orders_expect="", interval="1s", timeout="800ms"):
    """A login -> orders -> pay -> logout flow as a YAML list item (8 spaces in)."""
    return f"""\
          - name: {name}
            type: flow
            interval: {interval}
            timeout: {timeout}
{extra}            steps:
              - name: login
                method: POST
                url: {target.url('/api/login' + login_q)}
                headers: {{Content-Type: application/json}}
                body: {LOGIN_BODY}
                expect: {{status: [200], json: [{{path: token, exists: true}}]}}
                capture:
                  token: {{json: token}}
                  sid: {{header: X-Session-Id}}
              - name: orders
                url: {target.url('/api/orders')}?sid=${{capture:sid}}
                headers: {{Authorization: "{orders_auth}"}}
                expect: {{status: ["200-299"]{orders_expect}}}
              - name: pay
                method: POST
                url: {target.url('/echo')}
                body: 'paid by ${{capture:sid}}'
                expect: {{body_matches: "^POST"}}
              - name: logout
                method: POST
                url: {target.url('/api/logout')}
                headers: {{Authorization: "Bearer ${{capture:token}}"}}
                always_run: true
"""


def smoke(tmp_path, config, *flags, timeout=60):
    path = tmp_path / "flows.yml"
    path.write_text(textwrap.dedent(config))
    t0 = time.monotonic()
    r = subprocess.run([AGENT_BIN, "check", f"--config.file={path}", *flags],
                       capture_output=True, text=True, timeout=timeout)
    assert "Sanitizer" not in r.stderr and "runtime error:" not in r.stderr, r.stderr
    return r, path, time.monotonic() - t0


def steps_of(doc, check=0):
    """(name, result, reason, status, detail) of each step of a JSON report's check."""
    return [(s["name"], s["result"], s["reason"], s["status"], s["detail"])
            for s in doc["checks"][check]["steps"]]


# ---- the agent ----

def test_passing_flow_metrics(agent_factory, target):
    """Every run logs in and out; the flow's series and each step's are exact."""
    before = stats(target)
    a = agent_factory("checks:\n" + textwrap.dedent(flow(target, interval="2s")))
    want_steps = ["login", "orders", "pay", "logout"]

    def settled():
        # One page, read once: wait for a page where every series agrees.
        m = parse_metrics(a.scrape_text())
        runs = m.get(("outpost_check_runs_total", frozenset({("check", "shop")})))
        if not runs or runs < 2:
            return None
        count = m[("outpost_check_duration_seconds_count", frozenset({("check", "shop")}))]
        return (m, runs) if count == runs else None
    m, runs = wait_for(settled, timeout=20, what="two runs of the flow")
    c = frozenset({("check", "shop")})
    assert m[("outpost_check_up", c)] == 1
    assert m[("outpost_check_info", frozenset({("check", "shop"), ("type", "flow"), ("group", ""),
                                               ("target", target.url("/api/login"))}))] == 1
    for r in REASONS:
        assert m[("outpost_check_failures_total", frozenset({("check", "shop"),
                                                            ("reason", r)}))] == 0, r
    assert m[("outpost_check_http_status_code", c)] == 200
    total = 0.0
    for s in want_steps:
        sl = frozenset({("check", "shop"), ("step", s)})
        assert m[("outpost_check_step_up", sl)] == 1, s
        d = m[("outpost_check_step_duration_seconds", sl)]
        assert 0 < d < 0.8, (s, d)
        total += d
        for r in REASONS:
            assert m[("outpost_check_step_failures_total",
                      sl | {("reason", r)})] == 0, (s, r)
    # Exactly these step series: four steps, eleven reasons each.
    assert sorted(dict(k[1])["step"] for k in m if k[0] == "outpost_check_step_up") == sorted(
        want_steps)
    assert sum(1 for k in m if k[0] == "outpost_check_step_failures_total") == 4 * 11
    # The flow's duration is its steps' sum (libcurl's times), so its last value is the
    # sum of the step gauges of the same run; the histogram holds every run.
    assert 0 < m[("outpost_check_duration_seconds_sum", c)] < runs * 0.8
    # The target saw every run log in and (clean-up) log out.
    wait_for(lambda: (lambda s: s["logins"] - before["logins"] ==
                      s["logouts"] - before["logouts"] >= runs)(stats(target)),
             what="logins and logouts to match")
    text = a.scrape_text()
    for line in ("# TYPE outpost_check_step_duration_seconds gauge",
                 "# TYPE outpost_check_step_up gauge",
                 "# TYPE outpost_check_step_failures_total counter"):
        assert line in text


def test_failing_middle_step_runs_cleanup(agent_factory, target):
    """A wrong token in the middle: the flow fails with that step's reason, the next step
    is skipped, the clean-up logs the session out (the target counts it)."""
    before = stats(target)
    a = agent_factory("checks:\n" + textwrap.dedent(
        flow(target, orders_auth="Bearer x${capture:token}", interval="2s")))
    a.wait_value("outpost_check_runs_total", lambda v: v >= 1, check="shop")
    m = a.metrics()
    runs = m[("outpost_check_runs_total", frozenset({("check", "shop")}))]
    assert m[("outpost_check_up", frozenset({("check", "shop")}))] == 0
    assert m[("outpost_check_failures_total",
              frozenset({("check", "shop"), ("reason", "http_status")}))] == runs
    assert m[("outpost_check_http_status_code", frozenset({("check", "shop")}))] == 401

    def step(name, metric="outpost_check_step_up", **labels):
        return m[(metric, frozenset({("check", "shop"), ("step", name), *labels.items()}))]
    assert [step(s) for s in ("login", "orders", "pay", "logout")] == [1, 0, 0, 1]
    assert step("orders", "outpost_check_step_failures_total", reason="http_status") == runs
    assert step("pay", "outpost_check_step_duration_seconds") == 0
    assert sum(step("pay", "outpost_check_step_failures_total", reason=r) for r in REASONS) == 0
    st, _, body = http("GET", a.base + "/api/v1/checks/shop")
    last = json.loads(body)["last_result"]
    assert (last["reason"], last["detail"], last["status"]) == (
        "http_status", "step orders: status 401 not in [200-299]", 401)
    wait_for(lambda: (lambda s: s["logouts"] - before["logouts"] >= runs and
                      s["rejected"] - before["rejected"] >= runs and
                      s["live"] == before["live"])(stats(target)),
             what="the clean-up to log out every session")


def test_secrets_never_shown(agent_factory, target):
    """Captured tokens (sent in a header, a URL and a body, echoed back by the API and
    failing a JSON expectation on them) appear nowhere the agent shows anything."""
    a = agent_factory("checks:\n" + textwrap.dedent(
        flow(target, name="leaky", orders_expect=', json: [{path: session, equals: nope}]')),
        extra_args=["--log.level=debug"])
    a.wait_value("outpost_check_runs_total", lambda v: v >= 2, check="leaky")
    st, _, body = http("GET", a.base + "/api/v1/checks")
    checks = body.decode()
    last = json.loads(checks)["checks"][0]["last_result"]
    # The orders step got its 200 (the token was sent and accepted) and failed on the
    # echoed token: the detail names its type, not its value.
    assert (last["reason"], last["status"], last["detail"]) == (
        "json", 200, 'step orders: json session: want "nope", got a string')
    texts = {
        "metrics": a.scrape_text(),
        "openmetrics": a.scrape_text(headers={"Accept": "application/openmetrics-text"}),
        "api": checks,
        "api_one": http("GET", a.base + "/api/v1/checks/leaky")[2].decode(),
        "landing": http("GET", a.base + "/")[2].decode(),
    }
    a.stop()
    texts["log"] = a.logs()
    assert 'msg="probe failed"' in texts["log"] or '"probe failed"' in texts["log"], texts["log"]
    tokens = http("GET", target.url("/api/issued"))[2].decode().split()
    assert len(tokens) >= 2 and all(len(t) >= 32 for t in tokens)
    for where, text in texts.items():
        for t in tokens:
            assert t not in text, f"a captured token in {where}"
            assert t[:16] not in text, f"part of a captured token in {where}"


def test_slo_and_canary_over_flows(agent_factory, target):
    """Flows feed SLOs and canaries like http checks: one event and one sample per run,
    bad when the flow failed."""
    good = flow(target, name="good", interval="500ms", timeout="400ms")
    bad = flow(target, name="bad", interval="500ms", timeout="400ms",
               orders_auth="Bearer wrong")
    a = agent_factory("checks:\n" + textwrap.dedent(good) + textwrap.dedent(bad) +
                      textwrap.dedent("""\
        slos:
          - name: checkout
            objective: 99
            sli: {checks: [good, bad]}
        canaries:
          - {name: k, baseline_check: good, canary_check: bad, min_samples: 2}
        """))

    def consistent():
        m = a.metrics()

        def v(name, **labels):
            return m.get((name, frozenset(labels.items())))
        runs_good = v("outpost_check_runs_total", check="good")
        runs_bad = v("outpost_check_runs_total", check="bad")
        if not runs_good or not runs_bad or runs_good < 2 or runs_bad < 2:
            return None
        ok = (v("outpost_slo_events_total", slo="checkout") == runs_good + runs_bad and
              v("outpost_slo_bad_events_total", slo="checkout") == runs_bad and
              v("outpost_canary_samples", canary="k", arm="baseline") == runs_good and
              v("outpost_canary_samples", canary="k", arm="canary") == runs_bad)
        return m if ok else None
    m = wait_for(consistent, timeout=20, what="SLO events and canary samples to match runs")
    assert m[("outpost_canary_error_ratio", frozenset({("canary", "k"), ("arm", "canary")}))] == 1
    assert m[("outpost_canary_error_ratio",
              frozenset({("canary", "k"), ("arm", "baseline")}))] == 0


# ---- outpost check ----

def test_check_passes_and_fails(tmp_path, target):
    """Exit 0 when every flow passes, 1 when one fails; the JSON lists every step."""
    r, _, _ = smoke(tmp_path, "checks:\n" + flow(target), "--format=json")
    assert (r.returncode, r.stderr) == (0, ""), r.stdout
    doc = json.loads(r.stdout)
    assert steps_of(doc) == [(s, "pass", None, 200, "")
                             for s in ("login", "orders", "pay", "logout")]
    c = doc["checks"][0]
    assert (c["type"], c["result"], c["status"], c["target"]) == (
        "flow", "pass", 200, target.url("/api/login"))
    assert abs(c["duration_seconds"] - sum(s["duration_seconds"] for s in c["steps"])) < 1e-5

    before = stats(target)
    r, _, _ = smoke(tmp_path, "checks:\n" + flow(target, orders_auth="Bearer x${capture:token}"),
                    "--format=json")
    assert (r.returncode, r.stderr) == (1, "")
    doc = json.loads(r.stdout)
    assert (doc["result"], doc["failed"]) == ("fail", 1)
    assert (doc["checks"][0]["reason"], doc["checks"][0]["detail"]) == (
        "http_status", "step orders: status 401 not in [200-299]")
    assert steps_of(doc) == [
        ("login", "pass", None, 200, ""),
        ("orders", "fail", "http_status", 401, "status 401 not in [200-299]"),
        ("pay", "skipped", None, 0, "not run: step orders failed"),
        ("logout", "pass", None, 200, ""),
    ]
    after = stats(target)
    assert (after["logins"] - before["logins"], after["logouts"] - before["logouts"],
            after["live"]) == (1, 1, before["live"])


def test_check_junit(tmp_path, target):
    """JUnit: one testcase per flow, its steps in system-out; a parser reads it."""
    config = ("checks:\n" + flow(target) +
              flow(target, name="broken", orders_auth="Bearer x${capture:token}"))
    r, _, _ = smoke(tmp_path, config, "--format=junit")
    assert (r.returncode, r.stderr) == (1, "")
    root = ET.fromstring(r.stdout)
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("2", "1", "0")
    cases = suite.findall("testcase")
    assert [(c.get("name"), c.get("classname")) for c in cases] == [
        ("shop", "flow"), ("broken", "flow")]
    assert cases[0].find("failure") is None
    f = cases[1].find("failure")
    assert (f.get("type"), f.get("message")) == (
        "http_status", "step orders: status 401 not in [200-299]")
    out = re.sub(r"\d+\.\d{3}s", "D", cases[1].find("system-out").text)
    assert out.endswith("steps:\n"
                        "  pass login status 200 D\n"
                        "  fail orders http_status status 401 D: status 401 not in [200-299]\n"
                        "  skipped pay: not run: step orders failed\n"
                        "  pass logout status 200 D\n"), out


def test_check_config_error(tmp_path, target):
    """Exit 2 for a capture a later step takes, with the reference's line and column."""
    r, path, _ = smoke(tmp_path, f"""\
        checks:
          - name: f
            type: flow
            steps:
              - name: a
                url: {target.url('/api/orders')}
                headers: {{Authorization: "Bearer ${{capture:token}}"}}
              - name: b
                url: {target.url('/api/login')}
                capture: {{token: {{json: token}}}}
        """)
    assert r.returncode == 2 and r.stdout == "", r
    assert r.stderr == (f"{path}:7:34: checks[0] \"f\".steps[0] \"a\".headers.Authorization: "
                        "capture \"token\" is taken by a later step (steps[1] \"b\"): a step can "
                        "use only what earlier steps captured\n"), r.stderr


def test_flow_timeout_bounds_every_step(tmp_path, target):
    """The flow's timeout is the whole run's: the slow step gets what is left of it, and the
    clean-up after it does not run (the session stays: give the timeout room for it)."""
    before = stats(target)
    config = f"""\
        checks:
          - name: slow
            type: flow
            timeout: 1s
            steps:
              - name: login
                method: POST
                url: {target.url('/api/login')}
                body: {LOGIN_BODY}
                capture: {{token: {{json: token}}}}
              - name: wait
                url: {target.url('/sleep/5000')}
              - name: logout
                method: POST
                url: {target.url('/api/logout')}
                headers: {{Authorization: "Bearer ${{capture:token}}"}}
                always_run: true
        """
    r, _, elapsed = smoke(tmp_path, config, "--format=json")
    assert (r.returncode, r.stderr) == (1, "")
    c = json.loads(r.stdout)["checks"][0]
    assert c["reason"] == "timeout"
    assert re.fullmatch(r"step wait: timeout after 0\.9\d\d s in phase processing",
                        c["detail"]), c["detail"]
    steps = [(s["name"], s["result"], s["reason"], s["detail"]) for s in c["steps"]]
    assert steps[0] == ("login", "pass", None, "")
    assert steps[1][:3] == ("wait", "fail", "timeout")
    assert steps[2] == ("logout", "skipped", None, "not run: the flow's timeout was reached")
    assert 0.95 <= c["duration_seconds"] <= 1.1, c["duration_seconds"]
    assert elapsed < 1.0 + 2.0 * SLOW, elapsed
    after = stats(target)
    assert (after["logins"] - before["logins"], after["logouts"] - before["logouts"]) == (1, 0)


def test_capture_size_cap(tmp_path, target):
    """A token of 4096 bytes is taken; one of 4097 fails the step with reason capture, and
    the clean-up that needs it is not run."""
    r, _, _ = smoke(tmp_path, "checks:\n" + flow(target, login_q="?pad=4064"), "--format=json")
    assert (r.returncode, r.stderr) == (0, ""), r.stdout
    r, _, _ = smoke(tmp_path, "checks:\n" + flow(target, login_q="?pad=4065"), "--format=json")
    assert (r.returncode, r.stderr) == (1, "")
    doc = json.loads(r.stdout)
    assert (doc["checks"][0]["reason"], doc["checks"][0]["detail"]) == (
        "capture", "step login: capture token: 4097 bytes, more than 4096")
    assert steps_of(doc) == [
        ("login", "fail", "capture", 200, "capture token: 4097 bytes, more than 4096"),
        ("orders", "skipped", None, 0, "not run: step login failed"),
        ("pay", "skipped", None, 0, "not run: step login failed"),
        ("logout", "skipped", None, 0, "not run: capture token was not taken"),
    ]


def test_reuse_connection(tmp_path, target):
    """reuse_connection: true keeps one connection for the run (the target sees the same
    client port); by default every step connects afresh."""
    def config(reuse):
        return f"""\
            checks:
              - name: peer
                type: flow
                reuse_connection: {reuse}
                steps:
                  - name: first
                    url: {target.url('/api/peer')}
                    capture: {{peer: {{json: peer}}}}
                  - name: same
                    url: {target.url('/api/peer')}?is=${{capture:peer}}
            """
    r, _, _ = smoke(tmp_path, config("true"), "--format=json")
    assert (r.returncode, r.stderr) == (0, ""), r.stdout
    r, _, _ = smoke(tmp_path, config("false"), "--format=json")
    assert r.returncode == 1
    assert steps_of(json.loads(r.stdout))[1] == (
        "same", "fail", "http_status", 409, "status 409 not in [200-299]")


def test_url_prefix_rebases_steps(tmp_path, target):
    """--url-prefix moves every step: a file written for another host checks the target."""
    config = flow(target).replace(target.base, "https://api.example.invalid")
    r, _, _ = smoke(tmp_path, "checks:\n" + config, "--format=json", f"--url-prefix={target.base}")
    assert (r.returncode, r.stderr) == (0, ""), r.stdout
    assert [s[1] for s in steps_of(json.loads(r.stdout))] == ["pass"] * 4
