"""HTTP checks against a real target: outcomes, reasons, phases, TLS."""
import textwrap

from conftest import free_closed_port

REASONS = ["timeout", "dns", "connect", "tls", "http_status", "body", "header", "json",
           "latency", "other"]


def one_check(body, interval="300ms", timeout="250ms"):
    """Config with a single check named c; body is the check's YAML."""
    return textwrap.dedent(f"""\
        global: {{interval: {interval}, timeout: {timeout}}}
        checks:
          - name: c
        """) + textwrap.indent(textwrap.dedent(body), "    ")


def failures(agent):
    m = agent.metrics()
    return {r: m[("outpost_check_failures_total", frozenset({("check", "c"), ("reason", r)}))]
            for r in REASONS}


def run_until_result(agent):
    agent.wait_value("outpost_check_runs_total", lambda v: v >= 1, check="c")
    return agent.metrics()


def only_reason(agent, reason):
    """Wait for a result; assert every failure so far has this reason."""
    runs = agent.wait_value("outpost_check_runs_total", lambda v: v >= 1, check="c")
    f = failures(agent)
    runs = agent.value("outpost_check_runs_total", check="c")
    others = {r: v for r, v in f.items() if r != reason and v}
    assert not others, f"unexpected reasons {others}"
    assert f[reason] >= 1 and f[reason] <= runs
    assert agent.value("outpost_check_up", check="c") == 0
    return f


def test_ok_200(agent_factory, target):
    a = agent_factory(one_check(f"url: {target.url('/ok')}"))
    a.wait_value("outpost_check_runs_total", lambda v: v >= 2, check="c")
    assert a.value("outpost_check_up", check="c") == 1
    assert a.value("outpost_check_http_status_code", check="c") == 200
    assert a.value("outpost_check_consecutive_failures", check="c") == 0
    assert all(v == 0 for v in failures(a).values())
    assert a.value("outpost_check_last_success_timestamp_seconds", check="c") > 1.7e9
    # Phases: plain HTTP has no TLS phase; the others are non-negative.
    assert a.value("outpost_check_phase_duration_seconds", check="c", phase="tls") == 0
    for ph in ["resolve", "connect", "processing", "transfer"]:
        assert a.value("outpost_check_phase_duration_seconds", check="c", phase=ph) >= 0
    info = a.value("outpost_check_info", check="c", type="http",
                   target=target.url("/ok"), group="")
    assert info == 1


def test_500_is_http_status(agent_factory, target):
    a = agent_factory(one_check(f"url: {target.url('/status/500')}"))
    only_reason(a, "http_status")
    assert a.value("outpost_check_http_status_code", check="c") == 500


def test_timeout_ends_within_50ms(agent_factory, target):
    a = agent_factory(one_check(f"url: {target.url('/sleep/3000')}", interval="1s",
                                timeout="400ms"))
    only_reason(a, "timeout")
    m = a.metrics()
    key = frozenset({("check", "c")})
    count = m[("outpost_check_duration_seconds_count", key)]
    total = m[("outpost_check_duration_seconds_sum", key)]
    assert count >= 1
    # Every probe ended no earlier than the timeout and within 50 ms after it.
    assert 0.4 * count <= total <= 0.45 * count, (total, count)


def test_closed_port_is_connect(agent_factory):
    a = agent_factory(one_check(f"url: http://127.0.0.1:{free_closed_port()}/"))
    only_reason(a, "connect")
    assert a.value("outpost_check_http_status_code", check="c") == 0


def test_unresolvable_is_dns(agent_factory):
    a = agent_factory(one_check("url: http://nonexistent.invalid/", timeout="250ms"))
    only_reason(a, "dns")


def test_tls_untrusted_then_trusted(agent_factory, tls_target, certs):
    cert, _, not_after = certs
    a = agent_factory(textwrap.dedent(f"""\
        global: {{interval: 300ms, timeout: 250ms}}
        checks:
          - name: untrusted
            url: {tls_target.url('/ok')}
          - name: trusted
            url: {tls_target.url('/ok')}
            tls: {{ca_file: {cert}}}
          - name: skip
            url: {tls_target.url('/ok')}
            tls: {{insecure_skip_verify: true}}
        """))
    for c in ["untrusted", "trusted", "skip"]:
        a.wait_value("outpost_check_runs_total", lambda v: v >= 1, check=c)
    m = a.metrics()
    assert a.value("outpost_check_failures_total", check="untrusted", reason="tls") >= 1
    assert a.value("outpost_check_up", check="untrusted") == 0
    assert a.value("outpost_check_up", check="trusted") == 1
    assert a.value("outpost_check_up", check="skip") == 1
    # The expiry is the certificate's notAfter, also where verification failed.
    for c in ["untrusted", "trusted", "skip"]:
        assert m[("outpost_check_tls_cert_expiry_timestamp_seconds",
                  frozenset({("check", c)}))] == not_after, c
    assert a.value("outpost_check_phase_duration_seconds", check="trusted", phase="tls") > 0


def test_body_and_json_failures(agent_factory, target):
    a = agent_factory(textwrap.dedent(f"""\
        global: {{interval: 300ms, timeout: 250ms}}
        checks:
          - name: body_ok
            url: {target.url('/ok')}
            expect: {{body_matches: "^ok$", body_not_matches: error}}
          - name: body_bad
            url: {target.url('/ok')}
            expect: {{body_matches: "healthy"}}
          - name: body_forbidden
            url: {target.url('/status/200')}
            expect: {{body_not_matches: "status"}}
          - name: json_ok
            url: {target.url('/json')}
            expect:
              json:
                - {{path: status, equals: ok}}
                - {{path: version, equals: 3}}
                - {{path: "items[1].name", equals: b}}
                - {{path: healthy, equals: true}}
                - {{path: nothing, equals: null}}
                - {{path: "nested.deep.value", exists: true}}
                - {{path: missing, exists: false}}
          - name: json_bad_value
            url: {target.url('/json')}
            expect: {{json: [{{path: version, equals: "3"}}]}}
          - name: json_invalid
            url: {target.url('/badjson')}
            expect: {{json: [{{path: status, exists: true}}]}}
          - name: header_ok
            url: {target.url('/header')}
            expect: {{headers: {{x-outpost-test: "^hello-.*"}}}}
          - name: header_bad
            url: {target.url('/header')}
            expect: {{headers: {{X-Outpost-Test: "^goodbye"}}}}
          - name: latency
            url: {target.url('/sleep/150')}
            expect: {{max_duration: 50ms}}
        """))
    names = ["body_ok", "body_bad", "body_forbidden", "json_ok", "json_bad_value",
             "json_invalid", "header_ok", "header_bad", "latency"]
    for c in names:
        a.wait_value("outpost_check_runs_total", lambda v: v >= 1, check=c)
    expected = {"body_ok": None, "body_bad": "body", "body_forbidden": "body", "json_ok": None,
                "json_bad_value": "json", "json_invalid": "json", "header_ok": None,
                "header_bad": "header", "latency": "latency"}
    m = a.metrics()
    for c, reason in expected.items():
        up = m[("outpost_check_up", frozenset({("check", c)}))]
        runs = m[("outpost_check_runs_total", frozenset({("check", c)}))]
        fails = {r: m[("outpost_check_failures_total", frozenset({("check", c), ("reason", r)}))]
                 for r in REASONS}
        if reason is None:
            assert up == 1 and sum(fails.values()) == 0, (c, fails)
        else:
            assert up == 0, c
            assert fails[reason] == runs and sum(fails.values()) == runs, (c, fails)


def test_redirects(agent_factory, target):
    a = agent_factory(textwrap.dedent(f"""\
        global: {{interval: 300ms, timeout: 250ms}}
        checks:
          - name: follow
            url: {target.url('/redirect/3')}
          - name: nofollow
            url: {target.url('/redirect/3')}
            follow_redirects: false
          - name: nofollow_expected
            url: {target.url('/redirect/3')}
            follow_redirects: false
            expect: {{status: [302]}}
          - name: too_many
            url: {target.url('/redirect/15')}
        """))
    for c in ["follow", "nofollow", "nofollow_expected", "too_many"]:
        a.wait_value("outpost_check_runs_total", lambda v: v >= 1, check=c)
    assert a.value("outpost_check_up", check="follow") == 1
    assert a.value("outpost_check_http_status_code", check="follow") == 200
    assert a.value("outpost_check_up", check="nofollow") == 0
    assert a.value("outpost_check_failures_total", check="nofollow", reason="http_status") >= 1
    assert a.value("outpost_check_http_status_code", check="nofollow") == 302
    assert a.value("outpost_check_up", check="nofollow_expected") == 1
    # More than 10 redirects: curl gives up, which is no timeout/dns/...: other.
    assert a.value("outpost_check_failures_total", check="too_many", reason="other") >= 1


def test_max_body_bytes(agent_factory, target):
    a = agent_factory(textwrap.dedent(f"""\
        global: {{interval: 500ms, timeout: 450ms}}
        checks:
          - name: too_big
            url: {target.url('/big/2000000')}
          - name: big_allowed
            url: {target.url('/big/2000000')}
            max_body_bytes: 4MiB
            expect: {{body_matches: "^x+$"}}
        """))
    for c in ["too_big", "big_allowed"]:
        a.wait_value("outpost_check_runs_total", lambda v: v >= 1, check=c)
    assert a.value("outpost_check_failures_total", check="too_big", reason="body") >= 1
    assert a.value("outpost_check_up", check="big_allowed") == 1


def test_auth_method_headers_body(agent_factory, target):
    a = agent_factory(textwrap.dedent(f"""\
        global: {{interval: 300ms, timeout: 250ms}}
        checks:
          - name: basic
            url: {target.url('/auth/basic/alice/s3cret')}
            basic_auth: {{username: alice, password: s3cret}}
          - name: basic_wrong
            url: {target.url('/auth/basic/alice/s3cret')}
            basic_auth: {{username: alice, password: nope}}
          - name: bearer
            url: {target.url('/auth/bearer/tok123')}
            bearer_token: tok123
          - name: echo
            url: {target.url('/echo')}
            method: PUT
            headers: {{X-Custom: "value-1"}}
            body: "payload-xyz"
            expect: {{body_matches: ["^PUT", "(?m)^X-Custom: value-1", "payload-xyz$"]}}
        """))
    for c in ["basic", "basic_wrong", "bearer", "echo"]:
        a.wait_value("outpost_check_runs_total", lambda v: v >= 1, check=c)
    assert a.value("outpost_check_up", check="basic") == 1
    assert a.value("outpost_check_up", check="basic_wrong") == 0
    assert a.value("outpost_check_http_status_code", check="basic_wrong") == 401
    assert a.value("outpost_check_up", check="bearer") == 1
    assert a.value("outpost_check_up", check="echo") == 1


def test_group_and_target_label_strip_credentials(agent_factory, target):
    url = target.url("/ok").replace("http://", "http://user:pw@") + "?token=abc#frag"
    a = agent_factory(textwrap.dedent(f"""\
        checks:
          - name: c
            group: payments
            url: {url}
            interval: 1s
        """))
    text = a.scrape_text()
    assert f'outpost_check_info{{check="c",type="http",target="{target.url("/ok")}",' \
           f'group="payments"}} 1' in text
    assert "pw@" not in text and "token=abc" not in text


def test_tls_server_name(agent_factory, tls_target, certs):
    """server_name sets SNI and the verified name; the probe still goes to the URL's host."""
    cert = certs[0]
    a = agent_factory(textwrap.dedent(f"""\
        global: {{interval: 300ms, timeout: 250ms}}
        checks:
          - name: good_name
            url: {tls_target.url('/ok')}
            tls: {{ca_file: {cert}, server_name: localhost}}
          - name: wrong_name
            url: {tls_target.url('/ok')}
            tls: {{ca_file: {cert}, server_name: wrong.example}}
        """))
    for c in ["good_name", "wrong_name"]:
        a.wait_value("outpost_check_runs_total", lambda v: v >= 1, check=c)
    assert a.value("outpost_check_up", check="good_name") == 1
    assert a.value("outpost_check_failures_total", check="wrong_name", reason="tls") >= 1
    assert a.value("outpost_check_failures_total", check="wrong_name", reason="dns") == 0
