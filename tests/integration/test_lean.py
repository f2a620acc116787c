"""Lean series profiles (the `metrics:` map) on a real agent against the target: the exact
set of series of one check per profile, global defaults and per-check overrides, a failing
lean check that shows only the reason it failed with, and /probe unaffected."""
import textwrap

from conftest import http, parse_metrics, wait_for

HTTP_REASONS = ["timeout", "dns", "connect", "tls", "http_status", "body", "header", "json",
                "latency", "other"]
TCP_REASONS = ["timeout", "dns", "connect", "tls", "expect", "other"]
BOUNDS = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"]
PHASES = ["resolve", "connect", "tls", "processing", "transfer"]


def config(target):
    # Timeouts far above a loopback /ok: a healthy lean check must never show a reason.
    # Global turns phases and the histogram off; each check overrides key by key.
    return textwrap.dedent(f"""\
        global:
          interval: 1s
          timeout: 800ms
          metrics: {{phases: false, histogram: false}}
        checks:
          - name: def
            url: {target.url('/ok')}
            metrics: {{phases: true, histogram: true}}
          - name: deffail
            url: {target.url('/status/503')}
            metrics: {{phases: true, histogram: true}}
          - name: nophases
            url: {target.url('/ok')}
            metrics: {{histogram: true}}
          - name: nohist
            url: {target.url('/ok')}
            metrics: {{phases: true}}
          - name: lean
            url: {target.url('/ok')}
          - name: leaner
            url: {target.url('/ok')}
            metrics: {{status_code: false}}
          - name: leanfail
            url: {target.url('/status/503')}
          - name: leanretry
            url: {target.url('/ok')}
            interval: 2s
            retry: {{attempts: 1, delay: 10ms}}
          - name: leantcp
            type: tcp
            target: 127.0.0.1:{target.port}
        """)


def key(name, check, **labels):
    return (name, frozenset({"check": check, **labels}.items()))


def lean_set(check, status=True):
    """A healthy lean check: 8 series (7 without its status code)."""
    s = {key(n, check) for n in [
        "outpost_check_runs_total", "outpost_check_up", "outpost_check_consecutive_failures",
        "outpost_check_last_success_timestamp_seconds", "outpost_check_alert_failure_threshold",
        "outpost_check_alert_success_threshold"]}
    s.add(("outpost_check_info", frozenset({"check": check, "type": "http", "group": "",
                                            "target": "x"}.items())))
    if status:
        s.add(key("outpost_check_http_status_code", check))
    return s


def histogram(check):
    s = {key("outpost_check_duration_seconds_bucket", check, le=b) for b in BOUNDS}
    return s | {key("outpost_check_duration_seconds_sum", check),
                key("outpost_check_duration_seconds_count", check)}


def phases(check):
    return {key("outpost_check_phase_duration_seconds", check, phase=p) for p in PHASES}


def reasons(check, names):
    return {key("outpost_check_failures_total", check, reason=r) for r in names}


def series_of(m, check):
    """The keys of check's series; outpost_check_info's target label masked (one set
    serves every check)."""
    out = set()
    for name, labels in m:
        d = dict(labels)
        if d.get("check") != check:
            continue
        if name == "outpost_check_info":
            d["target"] = "x"
        out.add((name, frozenset(d.items())))
    return out


def info_type(s, t):
    return {(n, frozenset({**dict(l), "type": t}.items())) if n == "outpost_check_info"
            else (n, l) for n, l in s}


def test_profiles(agent_factory, target):
    a = agent_factory(config(target))
    checks = ["def", "deffail", "nophases", "nohist", "lean", "leaner", "leanfail",
              "leanretry", "leantcp"]
    m = wait_for(lambda: (lambda m: all(
        m.get(key("outpost_check_runs_total", c), 0) >= 1 for c in checks) and m)(a.metrics()),
        what="a result from every check")

    default = lean_set("def") | histogram("def") | phases("def") | \
        reasons("def", HTTP_REASONS) | {key("outpost_check_retries_total", "def")}
    want = {
        "def": default,
        "deffail": {(n, frozenset({**dict(l), "check": "deffail"}.items())) for n, l in default},
        "nophases": lean_set("nophases") | histogram("nophases"),
        "nohist": lean_set("nohist") | phases("nohist"),
        "lean": lean_set("lean"),
        "leaner": lean_set("leaner", status=False),
        "leanfail": lean_set("leanfail") | reasons("leanfail", ["http_status"]),
        "leanretry": lean_set("leanretry") | {key("outpost_check_retries_total", "leanretry")},
        "leantcp": info_type(lean_set("leantcp", status=False), "tcp"),
    }
    counts = {"def": 38, "deffail": 38, "nophases": 22, "nohist": 13, "lean": 8, "leaner": 7,
              "leanfail": 9, "leanretry": 9, "leantcp": 7}
    for c in checks:
        got = series_of(m, c)
        assert got == want[c], (c, sorted(got - want[c]), sorted(want[c] - got))
        assert len(got) == counts[c], c

    # The values behind them: a failing lean check counts its one reason and shows the status.
    # (>= 1, not == runs: the families are read one after the other, a run may land between.)
    assert m[key("outpost_check_failures_total", "leanfail", reason="http_status")] >= 1
    assert m[key("outpost_check_http_status_code", "leanfail")] == 503
    assert m[key("outpost_check_up", "leanfail")] == 0
    assert m[key("outpost_check_up", "lean")] == 1
    assert m[key("outpost_check_retries_total", "leanretry")] == 0
    assert m[key("outpost_check_duration_seconds_count", "nophases")] >= 1

    # Every family stays declared, also the ones only some checks fill.
    text = a.scrape_text()
    for fam in ["outpost_check_duration_seconds histogram",
                "outpost_check_phase_duration_seconds gauge",
                "outpost_check_retries_total counter"]:
        assert f"# TYPE {fam}\n" in text


def test_probe_unaffected(agent_factory, target):
    """global.metrics shapes /metrics only: /probe still has its phases."""
    a = agent_factory(textwrap.dedent(f"""\
        global:
          metrics: {{phases: false, histogram: false, status_code: false}}
        checks:
          - name: c
            url: {target.url('/ok')}
        modules:
          http_2xx: {{prober: http, timeout: 5s}}
        """))
    status, _, body = http("GET", a.base + "/probe?module=http_2xx&target=" + target.url("/ok"))
    assert status == 200, body
    m = parse_metrics(body.decode())
    assert m[("probe_success", frozenset())] == 1
    assert ("probe_http_status_code", frozenset()) in m
    assert any(n == "probe_http_duration_seconds" for n, _ in m)
