"""The audit log as the agent writes it and `outpost audit verify` checks it.

The agent's events (configuration loads and reloads, a failed reload, an
authentication failure, alerts firing and resolving, a state file that cannot be
restored) land in data/audit.jsonl with the exact fields documented; the chain
is recomputed here with hashlib, independently of the agent; the verifier names
the exact line of an edit, a deletion, a swap, a truncation and a line that is
not JSON; rotation keeps the chain across files.
"""
import hashlib
import json
import os
import signal
import subprocess
import textwrap

from conftest import AGENT_BIN, free_closed_port, http, parse_metrics, wait_for

TOKEN = "audit-test-token-a1"
WRONG = "audit-test-token-wrong"
KEYS = ["seq", "time", "event", "fields", "prev", "hash"]
EVENTS = ["config_load", "config_reload", "config_reload_failed", "state_restore_failed",
          "alert_fired", "alert_resolved", "slo_freeze_on", "slo_freeze_off",
          "maintenance_start", "maintenance_end", "canary_verdict", "canary_run_end",
          "auth_failed", "audit_rotated"]


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def verify(*files):
    r = subprocess.run([AGENT_BIN, "audit", "verify", *map(str, files)], capture_output=True,
                       text=True, timeout=60)
    return r.returncode, r.stdout, r.stderr


def read_lines(path):
    with open(path, "rb") as f:
        data = f.read()
    assert data.endswith(b"\n")
    return [line + b"\n" for line in data[:-1].split(b"\n")]


def recompute(lines, prev=None):
    """Check every line's hash, prev and seq with hashlib and json; returns the
    parsed events. prev=None: the first line is taken as given."""
    out = []
    for line in lines:
        body = line.rstrip(b"\n")
        d = json.loads(body)
        assert list(d) == KEYS, body
        i = body.rindex(b',"hash":"')
        assert body[i:] == b',"hash":"' + d["hash"].encode() + b'"}'
        assert hashlib.sha256(body[:i] + b"}").hexdigest() == d["hash"], body
        if prev is not None:
            assert d["prev"] == prev["hash"], body
            assert d["seq"] == prev["seq"] + 1, body
        # No space outside strings: the line is exactly what json.dumps makes of
        # it compactly (UTF-8 kept).
        assert json.dumps(d, separators=(",", ":"), ensure_ascii=False).encode() == body
        out.append(d)
        prev = d
    return out


def audit_metrics(agent):
    m = parse_metrics(agent.scrape_text(headers=bearer(TOKEN)))
    events = {e: m[("outpost_audit_events_total", frozenset({("event", e)}))] for e in EVENTS}
    return events, m[("outpost_audit_write_failures_total", frozenset())]


def config(target, checks):
    lines = "".join(f'  - {{name: {c}, url: "{target.url("/ok")}", interval: 1h}}\n'
                    for c in checks)
    return "checks:\n" + lines


def test_events_verify_and_tampering(agent_factory, target, tmp_path):
    tokens = tmp_path / "tokens"
    tokens.write_text(f"{TOKEN}\n")
    args = [f"--web.bearer-tokens-file={tokens}", "--web.enable-lifecycle"]
    cfg1 = config(target, ["a"])
    a = agent_factory(cfg1, extra_args=args)
    log = tmp_path / "data" / "audit.jsonl"
    st = os.stat(log)
    assert st.st_mode & 0o777 == 0o640 & ~_umask()

    # One authentication failure: a wrong token on /metrics.
    assert http("GET", a.base + "/metrics", headers=bearer(WRONG))[0] == 401
    # A good reload (two checks), then a bad one.
    cfg2 = config(target, ["a", "b"])
    a.write_config(cfg2)
    st_, _, body = http("POST", a.base + "/-/reload", headers=bearer(TOKEN))
    assert st_ == 200, body
    a.write_config(cfg2 + "bad: [\n")
    st_, _, body = http("POST", a.base + "/-/reload", headers=bearer(TOKEN))
    assert st_ != 200
    events, failures = audit_metrics(a)
    want = dict.fromkeys(EVENTS, 0)
    want.update(config_load=1, auth_failed=1, config_reload=1, config_reload_failed=1)
    assert events == want
    assert failures == 0
    assert a.stop()[0] == 0

    lines = read_lines(log)
    ev = recompute(lines)
    assert [e["event"] for e in ev] == ["config_load", "auth_failed", "config_reload",
                                        "config_reload_failed"]
    assert [e["seq"] for e in ev] == [1, 2, 3, 4]
    assert ev[0]["prev"] == "0" * 64
    assert ev[0]["fields"] == {"file": a.config_path,
                               "sha256": hashlib.sha256(cfg1.encode()).hexdigest(),
                               "checks": "1"}
    assert ev[1]["fields"] == {"client": "127.0.0.1", "route": "metrics", "method": "bearer",
                               "reason": "unknown token"}
    assert ev[2]["fields"] == {"file": a.config_path,
                               "sha256": hashlib.sha256(cfg2.encode()).hexdigest(),
                               "checks": "2"}
    # The first error line only: the message, without the shown line.
    assert ev[3]["fields"] == {
        "file": a.config_path,
        "error": f"{a.config_path}:4:6: this \"[\" is never closed: add \"]\" after the last "
                 "item (YAML: did not find expected node content)"}
    raw = b"".join(lines)
    assert TOKEN.encode() not in raw and WRONG.encode() not in raw

    rc, out, err = verify(log)
    assert (rc, out, err) == (0, f"ok: 4 events, last seq 4, last hash {ev[3]['hash']}\n", "")

    # Tampering, each on a copy: the verifier names the exact line.
    bad = tmp_path / "tampered.jsonl"

    def check(data, want_out):
        bad.write_bytes(data)
        rc, out, err = verify(bad)
        assert rc == 1, (out, err)
        assert out.startswith(f"{bad}:{want_out}"), out
        assert out.count("\n") == 1 and err == ""

    edited = lines[2].replace(b'"checks":"2"', b'"checks":"3"')
    assert edited != lines[2]
    check(b"".join(lines[:2] + [edited] + lines[3:]), "3: hash mismatch: the line was changed")
    check(b"".join(lines[:1] + lines[2:]),
          "2: prev is not the hash of the line before: a line was deleted, inserted or "
          "reordered here (seq 3 after seq 1)")
    check(b"".join([lines[0], lines[2], lines[1], lines[3]]), "2: prev is not the hash")
    check(b"".join(lines[:3]) + lines[3][:40], "4: truncated mid-line")
    check(b"".join(lines[:2]) + b"{not json\n" + b"".join(lines[3:]),
          "3: not an audit line: expected {\"seq\": at the start (column 2)")
    # Usage errors and unreadable files: exit 2, on stderr.
    rc, out, err = verify(tmp_path / "missing.jsonl")
    assert rc == 2 and out == "" and "cannot open" in err
    assert verify()[0] == 2
    r = subprocess.run([AGENT_BIN, "audit", "verify", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "usage: outpost audit verify" in r.stdout

    # A restart continues the chain: seq 5, prev the last hash.
    b = agent_factory(cfg1, extra_args=args)
    b.stop()
    ev2 = recompute(read_lines(log))
    assert len(ev2) == 5 and ev2[4]["event"] == "config_load"
    assert ev2[4]["prev"] == ev[3]["hash"] and ev2[4]["seq"] == 5
    assert verify(log)[1] == f"ok: 5 events, last seq 5, last hash {ev2[4]['hash']}\n"


def _umask():
    m = os.umask(0)
    os.umask(m)
    return m


def test_rotation_keeps_the_chain(agent_factory, target, tmp_path):
    tokens = tmp_path / "tokens"
    tokens.write_text(f"{TOKEN}\n")
    a = agent_factory(config(target, ["a"]),
                      extra_args=[f"--web.bearer-tokens-file={tokens}",
                                  "--audit.max-size=1KiB", "--audit.max-files=3"])
    sprays = 30
    for _ in range(sprays):
        assert http("GET", a.base + "/metrics", headers=bearer(WRONG))[0] == 401
    events, failures = audit_metrics(a)
    rotations = events["audit_rotated"]
    assert events["auth_failed"] == sprays and failures == 0
    assert a.stop()[0] == 0
    data = tmp_path / "data"
    files = [data / "audit.jsonl.3", data / "audit.jsonl.2", data / "audit.jsonl.1",
             data / "audit.jsonl"]
    assert not (data / "audit.jsonl.4").exists()
    kept = []
    for f in files:
        assert f.stat().st_size <= 1024, f
        lines = read_lines(f)
        assert json.loads(lines[0])["event"] == "audit_rotated"
        kept += lines
    ev = recompute(kept)
    # Every line ever written has a seq: config_load, the failures, the rotations.
    assert ev[-1]["seq"] == 1 + sprays + rotations
    assert rotations >= 10
    rc, out, _ = verify(*files)
    assert (rc, out) == (0, f"ok: {len(ev)} events, last seq {ev[-1]['seq']}, "
                            f"last hash {ev[-1]['hash']}\n")
    # Oldest first matters: given out of order, the break is at a file's line 1.
    rc, out, _ = verify(files[1], files[0], files[2], files[3])
    assert rc == 1 and out.startswith(f"{files[0]}:1: prev is not the hash")


def test_alerts_and_state_restore(agent_factory, target, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "slo-state.bin").write_bytes(b"not a state file")
    port = free_closed_port()
    down = textwrap.dedent(f"""\
        global: {{interval: 100ms, timeout: 80ms}}
        checks:
          - {{name: down, url: "http://127.0.0.1:{port}/", alert: {{failure_threshold: 1}}}}
        alerting:
          evaluation_interval: 1s
        """)
    a = agent_factory(down)
    log = data / "audit.jsonl"

    def events():
        return [json.loads(line) for line in read_lines(log)]
    wait_for(lambda: any(e["event"] == "alert_fired" for e in events()), timeout=15,
             what="alert_fired in the audit log")
    # The check goes away: its alert resolves at the next evaluation.
    a.write_config(textwrap.dedent(f"""\
        checks:
          - {{name: up, url: "{target.url('/ok')}", interval: 1h}}
        alerting:
          evaluation_interval: 1s
        """))
    a.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: any(e["event"] == "alert_resolved" for e in events()), timeout=15,
             what="alert_resolved in the audit log")
    assert a.stop()[0] == 0
    ev = recompute(read_lines(log))
    assert [e["event"] for e in ev] == ["config_load", "state_restore_failed", "alert_fired",
                                        "config_reload", "alert_resolved"]
    assert ev[1]["fields"]["path"] == str(data)
    assert set(ev[1]["fields"]) == {"path", "error"}
    alert = {"alertname": "OutpostCheckDown", "severity": "critical", "check": "down"}
    assert ev[2]["fields"] == alert
    assert ev[4]["fields"] == alert
    assert verify(log)[0] == 0


def test_unavailable_audit_log(agent_factory, target, tmp_path):
    data = tmp_path / "data"
    (data / "audit.jsonl").mkdir(parents=True)  # cannot be opened as a file
    tokens = tmp_path / "tokens"
    tokens.write_text(f"{TOKEN}\n")
    a = agent_factory(config(target, ["a"]), extra_args=[f"--web.bearer-tokens-file={tokens}"])
    assert "cannot open the audit log; running without it" in a.logs()
    events, failures = audit_metrics(a)
    assert failures == 1
    assert set(events.values()) == {0}


def governance_config(target, freeze_at):
    # bad fails every probe: its SLO's policy freezes once 0.1 % of the day's
    # budget (4,320 bad of 432,000 probes at 200 ms) is spent, after 5 bad
    # probes. The canary's arm fails every probe where its baseline passes.
    return textwrap.dedent(f"""\
        global: {{interval: 200ms, timeout: 190ms}}
        alerting: {{evaluation_interval: 1s}}
        checks:
          - {{name: bad, url: "{target.url('/status/500')}"}}
        slos:
          - name: orders
            objective: 99
            period: 1d
            sli: {{checks: [bad]}}
            policy: {{freeze_when_consumed: {freeze_at}, over: 1d}}
        canaries:
          - name: web
            baseline: {{url: "{target.url('/ok')}"}}
            canary: {{url: "{target.url('/status/500')}"}}
            interval: 100ms
            min_samples: 10
        """)


def events_of(path, name):
    return [e for e in recompute(read_lines(path)) if e["event"] == name]


def test_freeze_and_verdict_changes(agent_factory, target, tmp_path):
    tokens = tmp_path / "tokens"
    tokens.write_text(f"{TOKEN}\n")
    args = [f"--web.bearer-tokens-file={tokens}", "--web.enable-lifecycle"]
    a = agent_factory(governance_config(target, 0.001), extra_args=args)
    log = tmp_path / "data" / "audit.jsonl"
    # The evaluation (every second) sees the freeze start and the canary fail.
    wait_for(lambda: audit_metrics(a)[0]["slo_freeze_on"] == 1
             and audit_metrics(a)[0]["canary_verdict"] == 1, timeout=30)
    on = events_of(log, "slo_freeze_on")
    assert len(on) == 1 and on[0]["fields"]["slo"] == "orders"
    assert on[0]["fields"]["policy"].endswith(
        "% of the error budget consumed over 1d (freeze at 0.1 %)")
    assert float(on[0]["fields"]["consumed"]) >= 0.001
    verdict = events_of(log, "canary_verdict")
    assert len(verdict) == 1
    f = verdict[0]["fields"]
    assert (f["canary"], f["verdict"], f["previous"]) == ("web", "fail", "inconclusive")
    assert f["reason"]
    # A policy that needs the whole budget no longer freezes: told once.
    a.write_config(governance_config(target, 1))
    st, _, body = http("POST", a.base + "/-/reload", headers=bearer(TOKEN))
    assert st == 200, body
    wait_for(lambda: audit_metrics(a)[0]["slo_freeze_off"] == 1, timeout=30)
    off = events_of(log, "slo_freeze_off")
    assert [e["fields"]["slo"] for e in off] == ["orders"]
    assert "(freeze at 100 %)" in off[0]["fields"]["policy"]
    events, failures = audit_metrics(a)
    assert (events["slo_freeze_on"], events["canary_verdict"], failures) == (1, 1, 0)
    assert a.stop()[0] == 0
    assert verify(log)[0] == 0
