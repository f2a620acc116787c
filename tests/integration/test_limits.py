"""What a configuration or a state file can cost the agent, and how it stops.

Each test drives the real binary: configurations that used to hang or
exhaust the loader are refused within a bound far below what they cost
before (minutes, hours, gigabytes), FIFOs where files belong are refused
without blocking, SIGTERM is answered while a reload loads a big file, a
failed last snapshot shows in the exit status, and an SLO that a reload or
a restart removes gets its history back when it returns.
"""
import os
import signal
import struct
import subprocess
import threading
import time
import zlib

from conftest import AGENT_BIN, http, wait_for

STATE = "slo-state.bin"


def check_config(path, timeout=60):
    """(exit code, stderr, seconds) of outpost --config.check on path."""
    t0 = time.monotonic()
    p = subprocess.run([AGENT_BIN, "--config.check", f"--config.file={path}"],
                       capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stderr, time.monotonic() - t0


def b36(i):
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    s = ""
    while True:
        s = digits[i % 36] + s
        i //= 36
        if not i:
            return s


# ---- the loader's caps, end to end ----


def test_nested_lists_refused_at_once(tmp_path):
    # 80 KB of nested flow lists: libyaml's scanner took 2.4 s (quadratic).
    path = tmp_path / "nested.yml"
    path.write_text("checks: " + "[" * 40000 + "]" * 40000 + "\n")
    rc, err, took = check_config(path)
    assert rc == 1
    assert err == f"{path}:1:72: lists and mappings nest deeper than 64 levels\n"
    assert took < 1.0, took


def test_many_keys_in_one_mapping(tmp_path):
    # 1.55 million keys in one mapping (13.9 MB): the pairwise duplicate
    # check took hours; now the keys are sorted once. The repeat is found at
    # its place (and the list stops at 50 problems: the first ones).
    n = 1550000
    keys = [f"k{b36(i)}" for i in range(n)]
    keys[10] = "k0"
    head = "alerting: {external_labels: {"
    path = tmp_path / "keys.yml"
    path.write_text("checks: []\n" + head + ",".join(f"{k}: v" for k in keys) + "}}\n")
    assert 13_000_000 < path.stat().st_size < 16 << 20

    def column(j):
        return len(head) + sum(len(k) + 4 for k in keys[:j]) + 1
    rc, err, took = check_config(path)
    assert rc == 1
    first = err.splitlines()[:2]
    assert first[0] == f"{path}:2:{column(10)}: alerting.external_labels.k0: duplicate key"
    # 64 labels at most: the 65th one kept (the 66th key) is refused.
    assert first[1] == (f"{path}:2:{column(65) + len(keys[65]) + 2}: "
                        f"alerting.external_labels.{keys[65]}: more than 64 entries")
    # 1.2 s here (5.5 s under ASan), against hours before.
    assert took < 30.0, took


def test_alias_bomb_refused(tmp_path):
    # An anchor of 250 JSON expectations used by 100,000 checks (5.7 MB):
    # 125 million nodes to parse, 5.6 GB before the kernel killed it. Now
    # refused at the alias that passes 4,000,000 nodes.
    lines = ["x: &e\n", "  json:\n"]
    lines += [f"  - {{path: a.b{i}, equals: x}}\n" for i in range(250)]
    lines.append("checks:\n")
    lines += [f"- {{name: c{i}, url: 'http://127.0.0.1:1/', expect: *e}}\n"
              for i in range(100000)]
    path = tmp_path / "bomb.yml"
    path.write_text("".join(lines))
    rc, err, took = check_config(path)
    assert rc == 1
    assert err == (f"{path}:3430:53: the document has more than 4000000 nodes once aliases "
                   "are expanded (this alias *e repeats 1253 nodes)\n")
    assert took < 1.0, took


def test_file_size_cap(tmp_path):
    path = tmp_path / "big.yml"
    body = "checks: []\n"
    pad = (16 << 20) - len(body)
    path.write_text(body + "#" * (pad - 1) + "\n")
    assert path.stat().st_size == 16 << 20
    rc, out, _ = check_config(path)
    assert rc == 0, out
    with open(path, "a") as f:
        f.write("\n")
    rc, err, _ = check_config(path)
    assert rc == 1
    assert err == f"{path}: larger than 16777216 bytes (16 MiB), the most a configuration may be\n"


# ---- files that are not regular files ----


def test_config_fifo_refused_without_blocking(tmp_path):
    fifo = tmp_path / "outpost.yml"
    os.mkfifo(fifo)
    rc, err, took = check_config(fifo, timeout=10)
    assert (rc, err) == (1, f"{fifo}: cannot open: not a regular file\n")
    p = subprocess.run([AGENT_BIN, f"--config.file={fifo}", "--web.listen-address=127.0.0.1:0",
                        f"--storage.path={tmp_path / 'data'}"],
                       capture_output=True, text=True, timeout=10)
    assert p.returncode == 1
    assert f"{fifo}: cannot open: not a regular file" in p.stderr
    assert took < 1.0


def test_reload_of_a_fifo_fails_and_keeps_running(agent_factory, target):
    a = agent_factory(f"checks:\n  - {{name: ok, url: \"{target.url('/ok')}\", "
                      "interval: 200ms}\n")
    os.remove(a.config_path)
    os.mkfifo(a.config_path)
    a.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "reload failed, keeping the running configuration" in a.logs(),
             what="the failed reload")
    assert f"{a.config_path}: cannot open: not a regular file" in a.logs()
    assert a.value("outpost_config_last_reload_successful") == 0
    n = a.value("outpost_check_runs_total", check="ok")
    a.wait_value("outpost_check_runs_total", lambda v: v > n, check="ok")


SLO_CONFIG = """\
global: {{interval: 200ms, timeout: 150ms}}
checks:
  - {{name: ok, url: "{ok}"}}
"""
SLO_AVAIL = """\
slos:
  - {name: avail, objective: 99.9, sli: {checks: [ok]}}
"""


def slo_config(target, with_slo=True):
    return SLO_CONFIG.format(ok=target.url("/ok")) + (SLO_AVAIL if with_slo else "")


def storage_args(tmp_path):
    return [f"--storage.path={tmp_path / 'data'}", "--storage.snapshot-interval=1s"]


def test_state_fifo_left_alone(agent_factory, target, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    os.mkfifo(data / STATE)
    # The agent starts (the constructor waits for /-/ready): the FIFO is
    # neither read nor waited on.
    a = agent_factory(slo_config(target), extra_args=storage_args(tmp_path))
    assert (f"{data / STATE}: not a regular file; left in place, SLO state is not saved "
            "until it is removed") in a.logs()
    assert a.value("outpost_state_restore_failures_total") == 1
    a.wait_value("outpost_state_snapshot_failures_total", lambda v: v >= 2)
    assert a.value("outpost_state_snapshots_total") == 0
    assert f"{data / STATE}: not a regular file; not replacing it" in a.logs()
    assert os.path.exists(data / STATE) and not os.path.isfile(data / STATE)
    # Its last snapshot fails the same way: the exit status says so.
    a.expected_rc = 3
    rc, took = a.stop()
    assert rc == 3 and took < 1.0
    assert os.path.exists(data / STATE) and not os.path.isfile(data / STATE)
    # No temporary file left behind; the audit log and the canary run
    # history live here too (SQLite removes its WAL files at a clean close).
    # maintenance.json: the ad-hoc windows and kept silences (none here).
    assert sorted(os.listdir(data)) == ["audit.jsonl", "history.db", "maintenance.json", STATE]


# ---- stopping ----


def test_failed_last_snapshot_exits_3(agent_factory, target, tmp_path):
    data = tmp_path / "data"
    a = agent_factory(slo_config(target), extra_args=storage_args(tmp_path))
    a.wait_value("outpost_state_snapshots_total", lambda v: v >= 1)
    good = (data / STATE).read_bytes()
    # A directory where the temp file goes: every write fails, also for
    # root (who ignores permission bits).
    os.mkdir(data / (STATE + ".tmp"))
    a.expected_rc = 3
    rc, took = a.stop()
    assert rc == 3 and took < 1.0
    logs = a.logs()
    assert "SLO state snapshot failed, the previous one is kept" in logs
    assert "the last SLO state snapshot failed: the events since the previous one are lost" \
        in logs
    assert 'msg="stopped, but the SLO state could not be saved" exit_code=3' in logs
    assert 'msg=stopped\n' not in logs
    assert (data / STATE).read_bytes() == good


def big_config(path, target):
    """A valid 15.4 MiB file of 60,000 checks with 48 status codes each
    (3.5 million nodes, under the caps): about 1.5 s to load."""
    with open(path, "w") as f:
        f.write("global: {interval: 1d, timeout: 1s}\nchecks:\n")
        codes = ",".join(["200"] * 48)
        for i in range(60000):
            f.write(f"- {{name: c{i}, url: '{target.url('/ok')}', "
                    f"expect: {{status: [{codes}]}}}}\n")
    assert 15 << 20 < os.path.getsize(path) < 16 << 20


def test_sigterm_during_sighup_reload(agent_factory, target, tmp_path):
    a = agent_factory(f"checks:\n  - {{name: ok, url: \"{target.url('/ok')}\"}}\n",
                      extra_args=[*storage_args(tmp_path), "--log.level=debug"])
    big_config(a.config_path, target)
    a.proc.send_signal(signal.SIGHUP)
    # The reload thread logs this as it starts loading.
    wait_for(lambda: 'msg="loading the configuration"' in a.logs(), interval=0.002,
             what="the reload to start")
    rc, took = a.stop()
    logs = a.logs()
    assert rc == 0
    # It was loading when SIGTERM came, and gave up: no reload happened.
    assert 'msg="reload cancelled: the agent is stopping"' in logs
    assert "configuration reloaded" not in logs
    assert took < 1.0, took


def test_sigterm_during_http_reload(agent_factory, target, tmp_path):
    a = agent_factory(f"checks:\n  - {{name: ok, url: \"{target.url('/ok')}\"}}\n",
                      extra_args=[*storage_args(tmp_path), "--log.level=debug",
                                  "--web.enable-lifecycle"])
    big_config(a.config_path, target)
    answer = []

    def post():
        try:
            answer.append(http("POST", a.base + "/-/reload", timeout=30)[0])
        except OSError as e:  # the server may close the connection as it stops
            answer.append(e)
    t = threading.Thread(target=post)
    t.start()
    try:
        wait_for(lambda: 'msg="loading the configuration"' in a.logs(), interval=0.002,
                 what="the reload to start")
        rc, took = a.stop()
    finally:
        t.join(timeout=30)
    assert rc == 0
    assert 'msg="reload cancelled: the agent is stopping"' in a.logs()
    assert "configuration reloaded" not in a.logs()
    assert took < 1.0, took
    assert answer and answer[0] != 200


# ---- SLO history across removal ----


def test_removed_slo_comes_back_after_reload(agent_factory, target, tmp_path):
    data = tmp_path / "data"
    a = agent_factory(slo_config(target), extra_args=storage_args(tmp_path))
    n = a.wait_value("outpost_slo_events_total", lambda v: v >= 30, slo="avail")
    # Removed: its series go, its state stays (in memory and in the file).
    a.write_config(slo_config(target, with_slo=False))
    a.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "SLO removed; its state is kept until its windows have passed" in a.logs(),
             what="the removal")
    wait_for(lambda: a.value("outpost_slo_events_total", slo="avail") is None,
             what="its series to go")
    snaps = a.value("outpost_state_snapshots_total")
    a.wait_value("outpost_state_snapshots_total", lambda v: v > snaps)
    assert b"avail" in (data / STATE).read_bytes()
    # Back: counts and windows continue from where they were.
    a.write_config(slo_config(target))
    a.proc.send_signal(signal.SIGHUP)
    back = a.wait_value("outpost_slo_events_total", lambda v: v is not None, slo="avail")
    assert back >= n
    assert a.value("outpost_slo_window_events", slo="avail", window="period") >= n


def v3_record(name, keep_ms, retired_ms):
    """A version 3 state record without buckets or rates."""
    b = struct.pack("<H", len(name)) + name + struct.pack("<QQQB", 1, 5, 1, 3)
    for ms in (10000, 300000, 3600000):
        b += struct.pack("<qI", ms, 0)
    return b + struct.pack("<H", 0) + struct.pack("<qq", keep_ms, retired_ms)


def test_removed_slo_comes_back_after_restart(agent_factory, target, tmp_path):
    data = tmp_path / "data"
    a = agent_factory(slo_config(target), extra_args=storage_args(tmp_path))
    n = a.wait_value("outpost_slo_events_total", lambda v: v >= 30, slo="avail")
    assert a.stop()[0] == 0
    # Started without it: kept, and still in the file it writes.
    b = agent_factory(slo_config(target, with_slo=False), extra_args=storage_args(tmp_path))
    assert ('msg="saved state of SLOs not configured is kept until their windows have passed" '
            'slos=1') in b.logs()
    b.wait_value("outpost_state_snapshots_total", lambda v: v >= 1)
    assert b.stop()[0] == 0
    assert b"avail" in (data / STATE).read_bytes()
    # Back after a restart: restored.
    c = agent_factory(slo_config(target), extra_args=storage_args(tmp_path))
    assert c.value("outpost_slo_events_total", slo="avail") >= n
    assert c.value("outpost_slo_window_events", slo="avail", window="period") >= n


def test_expired_removed_slo_dropped(agent_factory, target, tmp_path):
    # Two SLOs no longer configured: one removed 722 hours ago with 721
    # hours to keep (a 30 d SLO), one removed an hour ago.
    data = tmp_path / "data"
    data.mkdir()
    now = int(time.time() * 1000)
    hour = 3600000
    recs = v3_record(b"gone", 721 * hour, now - 722 * hour) + \
        v3_record(b"recent", 721 * hour, now - hour)
    body = b"OUTPOSTS" + struct.pack("<II", 3, 2) + recs
    (data / STATE).write_bytes(body + struct.pack("<I", zlib.crc32(body)))
    a = agent_factory(slo_config(target), extra_args=storage_args(tmp_path))
    assert 'msg="state of a removed SLO dropped: its windows have passed" slo=gone' in a.logs()
    assert 'slos=1' in a.logs()
    a.wait_value("outpost_state_snapshots_total", lambda v: v >= 1)
    saved = (data / STATE).read_bytes()
    assert b"recent" in saved and b"gone" not in saved and b"avail" in saved
