"""SLOs in the running agent: metrics, persistence across restarts, replay."""
import glob
import json
import os
import signal
import subprocess
import textwrap

from conftest import AGENT_BIN, wait_for

H = 1767225600  # 2026-01-01T00:00:00Z, a whole UTC hour


def slo_config(target, checks=("ok", "bad"), objective="99.9", extra=""):
    return textwrap.dedent(f"""\
        global: {{interval: 200ms, timeout: 150ms}}
        checks:
          - {{name: ok, url: "{target.url('/ok')}"}}
          - {{name: bad, url: "{target.url('/status/500')}"}}
        slos:
          - name: avail
            objective: {objective}
            sli: {{checks: [{", ".join(checks)}]}}
            labels: {{team: core}}
          - name: lat
            objective: 99
            calendar: month
            sli: {{checks: [ok], latency: {{threshold: 1ms}}}}
            policy: {{freeze_when_consumed: 0.7, over: 7d}}
        """) + extra


def storage_args(tmp_path, interval="1s"):
    return [f"--storage.path={tmp_path / 'data'}", f"--storage.snapshot-interval={interval}"]


DOWN_SLO = """\
  - {name: down, objective: 99.99, sli: {checks: [bad]}}
"""


def test_slo_metrics(agent_factory, target, tmp_path):
    a = agent_factory(slo_config(target, extra=DOWN_SLO), extra_args=storage_args(tmp_path))
    a.wait_value("outpost_slo_events_total", lambda v: v >= 20, slo="avail")
    m = a.metrics()

    def v(name, **labels):
        return m.get((name, frozenset(labels.items())))
    assert v("outpost_slo_info", slo="avail", sli="availability", period="30d",
             objective="99.9", team="core") == 1
    assert v("outpost_slo_info", slo="lat", sli="latency", period="month", objective="99") == 1
    assert v("outpost_slo_objective_ratio", slo="avail") == 0.999
    assert v("outpost_slo_period_seconds", slo="avail") == 2592000
    events = v("outpost_slo_events_total", slo="avail")
    bad = v("outpost_slo_bad_events_total", slo="avail")
    # Half the events come from the failing check (both probe at 200 ms).
    assert abs(bad - events / 2) <= 2
    for w in ["5m", "30m", "1h", "2h", "6h", "1d", "3d", "period"]:
        assert v("outpost_slo_window_events", slo="avail", window=w) == events, w
        sli = v("outpost_slo_sli_ratio", slo="avail", window=w)
        assert sli == 1 - bad / events, w
        assert abs(v("outpost_slo_burn_rate", slo="avail", window=w) - (bad / events) / 0.001) \
            < 1e-9
    # The budget counts against the events the period holds on the checks'
    # schedule (two checks every 200 ms for 30 days), not the few seen so
    # far: a fresh agent is not "over budget" after its first failures.
    expected = v("outpost_slo_expected_events", slo="avail")
    assert abs(expected - 2592000 * 10) < 1e-6
    assert v("outpost_slo_error_budget_remaining_ratio", slo="avail") == \
        1 - bad / (0.001 * expected)
    # At the current 1h burn the rest of the budget lasts remaining x period / burn.
    rem = v("outpost_slo_error_budget_remaining_ratio", slo="avail")
    burn = v("outpost_slo_burn_rate", slo="avail", window="1h")
    assert abs(v("outpost_slo_error_budget_exhaustion_seconds", slo="avail") -
               rem * 2592000 / burn) < 1e-6 * 2592000
    # Latency SLO over check ok: one event per probe of ok (read in the same
    # scrape, so at most the probe finishing in between differs).
    lat_events = v("outpost_slo_events_total", slo="lat")
    assert abs(lat_events - v("outpost_check_runs_total", check="ok")) <= 1
    assert 0 <= v("outpost_slo_bad_events_total", slo="lat") <= lat_events
    # Freeze = bad of the last 7d / (budget x expected events of the period)
    # > 0.7; here every window holds everything, so it follows from the
    # period SLI and the month's expected events.
    ev = v("outpost_slo_window_events", slo="lat", window="period")
    bad_p = round(ev * (1 - v("outpost_slo_sli_ratio", slo="lat", window="period")))
    exp_lat = v("outpost_slo_expected_events", slo="lat")
    assert exp_lat > 5 * 28 * 86400 - 1  # one check every 200 ms, a whole month
    assert v("outpost_slo_policy_freeze", slo="lat") == \
        (1 if bad_p / (0.01 * exp_lat) > 0.7 else 0)
    assert ("outpost_slo_policy_freeze", frozenset({("slo", "avail")})) not in m
    # The agent's own evaluation (at start, then every 10 s) pages for a
    # total outage as soon as 2 % of the budget is spent: for `down` (the
    # failing check, 99.99 %) that is 14.4 x 0.0001 x 18,000 = 26 bad events
    # of the hour's expected 18,000, about 5 s of probes.
    a.wait_value("outpost_slo_alert_firing", lambda x: x == 1, timeout=15, slo="down",
                 severity="page")
    assert v("outpost_slo_alert_firing", slo="lat", severity="page") is not None
    r = subprocess.run(["promtool", "check", "metrics"], input=a.scrape_text(),
                       capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout == "" and r.stderr == ""


def test_state_survives_restart_and_kill9(agent_factory, target, tmp_path):
    cfg = slo_config(target)
    a = agent_factory(cfg, extra_args=storage_args(tmp_path))
    a.wait_value("outpost_state_snapshots_total", lambda v: v >= 2, timeout=15)
    rc, _ = a.stop(signal.SIGTERM)  # clean stop writes a last snapshot
    assert rc == 0
    state = tmp_path / "data" / "slo-state.bin"
    assert state.exists() and state.stat().st_size > 100

    b = agent_factory(cfg, extra_args=storage_args(tmp_path))
    assert "SLO state restored" in b.logs()
    restored = b.value("outpost_slo_window_events", slo="avail", window="period")
    assert restored >= 20
    # kill -9: at most one snapshot interval (1 s = 10 events here) is lost.
    b.wait_value("outpost_state_snapshots_total", lambda v: v >= 2, timeout=15)
    last = b.value("outpost_slo_window_events", slo="avail", window="period")
    b.kill9()
    c = agent_factory(cfg, extra_args=storage_args(tmp_path))
    after = c.value("outpost_slo_window_events", slo="avail", window="period")
    per_second = 10  # two checks every 200 ms
    assert after >= last - 2 * per_second, (after, last)
    assert after > restored


def test_corrupt_truncated_foreign_state(agent_factory, target, tmp_path):
    data = tmp_path / "data"
    cfg = slo_config(target)
    a = agent_factory(cfg, extra_args=storage_args(tmp_path))
    a.wait_value("outpost_state_snapshots_total", lambda v: v >= 1, timeout=15)
    a.stop()
    good = (data / "slo-state.bin").read_bytes()
    variants = {
        "truncated": good[: len(good) // 2],
        "bitflip": good[:40] + bytes([good[40] ^ 0xFF]) + good[41:],
        "foreign": b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,
        "empty": b"",
    }
    for name, blob in variants.items():
        for f in glob.glob(str(data / "*.corrupt-*")):
            os.unlink(f)
        (data / "slo-state.bin").write_bytes(blob)
        b = agent_factory(cfg, extra_args=storage_args(tmp_path, "1h"))
        assert b.value("outpost_state_restore_failures_total") == 1, name
        assert "SLO state file unusable, starting fresh" in b.logs(), name
        aside = glob.glob(str(data / "slo-state.bin.corrupt-*"))
        assert len(aside) == 1, name
        with open(aside[0], "rb") as f:
            assert f.read() == blob, name
        # Fresh start: only this run's events.
        assert b.value("outpost_slo_events_total", slo="avail") < 40, name
        rc, _ = b.stop()
        assert rc == 0


def test_failing_snapshot_keeps_previous_file(agent_factory, target, tmp_path):
    data = tmp_path / "data"
    cfg = slo_config(target)
    a = agent_factory(cfg, extra_args=storage_args(tmp_path))
    a.wait_value("outpost_state_snapshots_total", lambda v: v >= 1, timeout=15)
    a.stop()
    good = (data / "slo-state.bin").read_bytes()
    # A directory where the temp file goes makes every write fail, also for
    # root (who ignores permission bits, so a read-only dir would not do).
    os.mkdir(data / "slo-state.bin.tmp")
    b = agent_factory(cfg, extra_args=storage_args(tmp_path))
    b.wait_value("outpost_state_snapshot_failures_total", lambda v: v >= 2, timeout=15)
    assert b.value("outpost_state_snapshots_total") == 0
    assert "SLO state snapshot failed, the previous one is kept" in b.logs()
    assert (data / "slo-state.bin").read_bytes() == good
    # The agent keeps probing.
    n = b.value("outpost_check_runs_total", check="ok")
    b.wait_value("outpost_check_runs_total", lambda v: v > n, check="ok")
    # Its last snapshot, at SIGTERM, fails too: the exit status says so.
    b.expected_rc = 3


def test_sli_definition_change(agent_factory, target, tmp_path):
    cfg = slo_config(target)
    a = agent_factory(cfg, extra_args=storage_args(tmp_path))
    a.wait_value("outpost_slo_events_total", lambda v: v >= 20, slo="avail")
    a.stop()
    # Objective change: same SLI, events kept.
    b = agent_factory(slo_config(target, objective="99.5"), extra_args=storage_args(tmp_path))
    kept = b.value("outpost_slo_window_events", slo="avail", window="period")
    assert kept >= 20
    assert b.value("outpost_slo_objective_ratio", slo="avail") == 0.995
    b.stop()
    # Checks change: the SLO starts fresh, with a log line.
    c = agent_factory(slo_config(target, checks=("ok",)), extra_args=storage_args(tmp_path))
    assert "SLI definition changed since the saved state, the SLO starts fresh" in c.logs()
    assert c.value("outpost_slo_window_events", slo="avail", window="period") in (None, 0) or \
        c.value("outpost_slo_window_events", slo="avail", window="period") < kept
    # And on a live reload.
    c.write_config(slo_config(target, checks=("ok", "bad")))
    c.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "SLI definition changed, the SLO starts fresh" in c.logs(),
             what="reload log line")


def test_replay_then_agent_starts_from_state(agent_factory, target, tmp_path):
    cfg_text = slo_config(target)
    cfg = tmp_path / "replay.yml"
    cfg.write_text(cfg_text)
    # Four days of good events ending now-ish, then two minutes of outage,
    # at the rate of the configured schedule (two checks every 200 ms: ten
    # events a second), which is what the budgets count against.
    import time
    end = int(time.time())
    lines = ["# t,slo,good,bad"]
    for t in range(end - 4 * 86400, end - 120, 60):
        lines.append(f"{t},avail,600,0")
    for t in range(end - 119, end + 1):
        lines.append(f"{t},avail,0,10")
    ev = tmp_path / "events.csv"
    ev.write_text("\n".join(lines) + "\n")
    out = tmp_path / "state"
    r = subprocess.run([AGENT_BIN, "slo", "replay", f"--config.file={cfg}", "--events", str(ev),
                        f"--state-out={out}"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    s = doc["slos"]["avail"]
    assert doc["at"] == end
    assert s["objective"] == 0.999 and s["period_seconds"] == 2592000
    assert s["windows"]["5m"]["bad"] == 1200
    assert s["alerts"]["page"] is True
    assert s["error_budget_exhaustion_seconds"] != "+Inf"
    assert doc["slos"]["lat"]["windows"]["5m"] == {"events": 0, "bad": 0, "sli_ratio": None,
                                                    "burn_rate": None}
    assert doc["slos"]["lat"]["error_budget_remaining_ratio"] == 1
    assert doc["slos"]["lat"]["error_budget_exhaustion_seconds"] == "+Inf"
    # The agent migrates that history in and its first evaluation pages.
    a = agent_factory(cfg_text, extra_args=[f"--storage.path={out}"])
    period = a.value("outpost_slo_window_events", slo="avail", window="period")
    assert period >= s["windows"]["period"]["events"]
    assert a.value("outpost_slo_alert_firing", slo="avail", severity="page") == 1


def test_replay_bad_input(tmp_path, target):
    cfg = tmp_path / "c.yml"
    cfg.write_text(slo_config(target))
    ev = tmp_path / "e.csv"
    ev.write_text("1767225600,avail,1,0\n1767225601,nope,1,0\nabc,avail,1,0\n"
                  "1767225602,avail,-1,0\n1767225603,avail,1\n")
    r = subprocess.run([AGENT_BIN, "slo", "replay", f"--config.file={cfg}", f"--events={ev}"],
                       capture_output=True, text=True)
    assert r.returncode == 1 and r.stdout == ""
    assert f"{ev}:2: no SLO of that name in the configuration" in r.stderr
    assert f"{ev}:3: unix_seconds is not a positive number up to 253402300799" in r.stderr
    assert f"{ev}:4: good_count is not a whole number >= 0" in r.stderr
    assert f"{ev}:5: expected unix_seconds,slo_name,good_count,bad_count" in r.stderr
    r = subprocess.run([AGENT_BIN, "slo", "replay", f"--config.file={cfg}"],
                       capture_output=True, text=True)
    assert (r.returncode, r.stderr) == (
        2, "outpost slo replay: --config.file and --events are required "
        "(see outpost slo replay --help)\n")


def test_config_warnings(tmp_path):
    cfg = tmp_path / "w.yml"
    cfg.write_text(textwrap.dedent("""\
        checks:
          - {name: a, url: "http://127.0.0.1:1/", interval: 1h}
        slos:
          - {name: loose, objective: 90, sli: {checks: [a]}}
          - {name: tight, objective: 99.999, period: 7d, sli: {checks: [a]}}
        """))
    r = subprocess.run([AGENT_BIN, "--config.check", f"--config.file={cfg}"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "slo loose: alert tier page 1h/5m can never fire" in r.stderr
    assert "slo loose: alert tier page 6h/30m" not in r.stderr  # 6 x 0.1 < 1
    assert "slo tight: its error budget" in r.stderr
