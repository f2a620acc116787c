"""type: browser with a real Chromium against the target's HTML pages:
a page whose text a script adds late passes with its timing series in
order; missing text, a missing element, an error status, a refused
connection, console errors and a page that never loads each give their
reason and detail; the browsers of a run that times out, of an agent that
stops mid-run, never outlive it (no process, no profile directory); at
most global.browser.max_concurrent browsers run at once (sampled from
/proc); a configuration whose Chromium is missing is refused.

Every test gives the agent its own TMPDIR, where the engine makes each
run's profile directory, and a fixture checks at the end that nothing
started with a profile there is still running (killing it by PID if so,
then failing)."""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from conftest import AGENT_BIN, free_closed_port, http, wait_for

CHROMIUM = "/usr/lib/chromium/chromium"
pytestmark = pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK),
                                reason="needs Debian's chromium (packaging/install-deps.sh)")

PHASES = ("ttfb", "dom_content_loaded", "load", "lcp")


# ---- processes ----

def proc_table():
    """{pid: (ppid, pgid, state, argv)} of every process now."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat", "rb") as f:
                stat = f.read().decode("utf-8", "replace")
            with open(f"/proc/{d}/cmdline", "rb") as f:
                argv = [a.decode("utf-8", "replace") for a in f.read().split(b"\0") if a]
        except OSError:
            continue  # gone meanwhile
        # "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
        rest = stat[stat.rindex(")") + 2:].split()
        out[int(d)] = (int(rest[1]), int(rest[2]), rest[0], argv)
    return out


def descendants(table, root):
    """Pids whose chain of parents reaches root."""
    out = set()
    for pid in table:
        p, seen = pid, 0
        while p in table and p not in (0, 1) and seen < 64:
            p = table[p][0]
            seen += 1
            if p == root:
                out.add(pid)
                break
    return out


def is_browser_main(argv):
    """The browser process itself (not a renderer, GPU, utility or zygote):
    the engine talks to it over --remote-debugging-pipe."""
    return "--remote-debugging-pipe" in argv and not any(a.startswith("--type=") for a in argv)


def browsers_of(root, table=None):
    """The browsers descended from root, as their profile directories: one
    per browser. A process the browser has just forked shows its command
    line until it execs (a crashpad handler even leads a process group of
    its own by then), so processes are not what is counted."""
    table = table if table is not None else proc_table()
    out = set()
    for p in descendants(table, root):
        argv = table[p][3]
        if is_browser_main(argv):
            out |= {a for a in argv if a.startswith("--user-data-dir=")}
    return out


def browser_pids(root, table=None):
    """The processes of the browsers descended from root."""
    table = table if table is not None else proc_table()
    return {p for p in descendants(table, root) if is_browser_main(table[p][3])}


def leftovers(tmpdir, groups=()):
    """Live processes that belong to a browser of this test: a profile
    under tmpdir on their command line, or in one of the browsers' process
    groups (helpers whose command line names no profile)."""
    table = proc_table()
    return {p: t[3][:3] for p, t in table.items()
            if t[2] != "Z" and (any(tmpdir in a for a in t[3]) or t[1] in groups)}


def profiles(tmpdir):
    return sorted(n for n in os.listdir(tmpdir) if n.startswith("outpost-chrome-"))


@pytest.fixture
def browser_tmp():
    """The agent's TMPDIR; at the end nothing of its browsers may be left.
    A short path of its own: Chromium puts a Unix socket under $TMPDIR and
    aborts at start when that path is too long for one (pytest's tmp_path
    of a long test name is)."""
    d = tempfile.mkdtemp(prefix="ob-", dir="/tmp")
    yield d
    left = leftovers(d)
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    shutil.rmtree(d, ignore_errors=True)
    assert not left, f"browser processes left behind: {left}"


# ---- configurations ----

def browser_check(name, url, timeout="8s", interval="10s", **expect):
    lines = [f"  - name: {name}", "    type: browser", f"    url: {url}",
             f"    interval: {interval}", f"    timeout: {timeout}"]
    if expect:
        lines.append("    expect:")
        lines += [f"      {k}: {json.dumps(v)}" for k, v in expect.items()]
    return "\n".join(lines) + "\n"


def config(*checks, max_concurrent=2, executable=None):
    g = f"global:\n  browser:\n    max_concurrent: {max_concurrent}\n"
    if executable:
        g += f"    executable: {executable}\n"
    return g + "checks:\n" + "".join(checks)


def check_api(agent, name):
    status, _, body = http("GET", f"{agent.base}/api/v1/checks/{name}")
    assert status == 200, body
    return json.loads(body)


# ---- tests ----

def test_pages_and_reasons(browser_tmp, agent_factory, target):
    closed = free_closed_port()
    cfg = config(
        browser_check("ok", target.url("/html/ok"), text="Welcome", selector="#app .ready",
                      status=["200-299"], max_duration="5s"),
        browser_check("console", target.url("/html/console-error")),
        browser_check("no-text", target.url("/html/static"), text="Goodbye"),
        browser_check("no-element", target.url("/html/static"), selector="#app .ready"),
        browser_check("error", target.url("/html/error")),
        browser_check("refused", f"http://127.0.0.1:{closed}/"),
        max_concurrent=3)
    a = agent_factory(cfg, env={"TMPDIR": browser_tmp})

    def runs(name):
        return a.value("outpost_check_runs_total", check=name) or 0
    names = ("ok", "console", "no-text", "no-element", "error", "refused")
    wait_for(lambda: all(runs(n) >= 1 for n in names), timeout=60, what="a run of every check")
    m = a.metrics()

    def v(name, **labels):
        return m.get((name, frozenset(labels.items())))

    # A page whose text a script adds 300 ms after load passes, with every
    # milestone, in order, and no console error.
    assert v("outpost_check_up", check="ok") == 1, check_api(a, "ok")
    t = {p: v("outpost_check_browser_timing_seconds", check="ok", phase=p) for p in PHASES}
    assert all(t[p] is not None for p in ("ttfb", "dom_content_loaded", "load")), t
    assert 0 < t["ttfb"] <= t["dom_content_loaded"] <= t["load"] < 5, t
    # The largest contentful paint comes a frame or two after the paint: a run may end
    # before the browser reports it (then no series), but the pages with text that
    # loaded have one between them, each after the first byte.
    lcp = {n: v("outpost_check_browser_timing_seconds", check=n, phase="lcp")
           for n in ("ok", "console", "no-text", "no-element", "error")}
    assert any(x is not None for x in lcp.values()), lcp
    assert all(0 < x < 5 for x in lcp.values() if x is not None), lcp
    assert v("outpost_check_browser_console_errors", check="ok") == 0
    assert v("outpost_check_http_status_code", check="ok") == 200
    assert v("outpost_check_phase_duration_seconds", check="ok", phase="processing") is not None
    # Its reasons, browser's among them, are series from the start.
    for r in ("timeout", "connect", "http_status", "latency", "browser", "text", "selector"):
        assert v("outpost_check_failures_total", check="ok", reason=r) == 0, r

    # Two console.error calls and an uncaught exception.
    assert v("outpost_check_up", check="console") == 1
    assert v("outpost_check_browser_console_errors", check="console") == 3

    # Text and element missing: their reasons, at the deadline.
    assert v("outpost_check_failures_total", check="no-text", reason="text") >= 1
    d = check_api(a, "no-text")["last_result"]["detail"]
    assert re.fullmatch(r'text "Goodbye" not found \d+\.\ds after load', d), d
    assert v("outpost_check_failures_total", check="no-element", reason="selector") >= 1
    d = check_api(a, "no-element")["last_result"]["detail"]
    assert re.fullmatch(r'selector "#app \.ready" not found \d+\.\ds after load', d), d

    # An error status, with a page.
    assert v("outpost_check_failures_total", check="error", reason="http_status") >= 1
    assert v("outpost_check_http_status_code", check="error") == 500
    assert check_api(a, "error")["last_result"]["detail"] == "status 500 not in [200-299]"

    # Nothing listening.
    assert v("outpost_check_failures_total", check="refused", reason="connect") >= 1
    assert check_api(a, "refused")["last_result"]["detail"] == "net::ERR_CONNECTION_REFUSED"
    assert v("outpost_check_browser_console_errors", check="refused") is not None

    # The queue histogram: an agent family, every run that got a browser.
    text = a.scrape_text()
    assert "# TYPE outpost_browser_queue_seconds histogram" in text
    assert v("outpost_browser_queue_seconds_count") >= 6
    assert v("outpost_browser_queue_seconds_bucket", le="+Inf") == \
        v("outpost_browser_queue_seconds_count")


def test_timeout_kills_the_browser(browser_tmp, agent_factory, target):
    """A page whose load event never fires: reason timeout, and by the time
    the result is recorded its browser is gone, with its profile."""
    a = agent_factory(config(browser_check("never", target.url("/html/never"), timeout="6s",
                                           interval="15s")),
                      env={"TMPDIR": browser_tmp})
    seen = set()

    def failed():
        seen.update(browser_pids(a.proc.pid))
        return (a.value("outpost_check_failures_total", check="never", reason="timeout") or 0) >= 1
    wait_for(failed, timeout=40, interval=0.05, what="the timeout")
    assert seen, "no browser was seen running"
    # Where the run was comes after the reason's words (normally a page whose load
    # event did not fire; on a very busy host the browser may still have been starting).
    d = check_api(a, "never")["last_result"]["detail"]
    assert d.startswith("no load event within the timeout (6s): "), d
    # The next run is 15 s after the first: none is due yet.
    wait_for(lambda: not browsers_of(a.proc.pid) and not leftovers(browser_tmp, seen) and
             not profiles(browser_tmp), timeout=2, what="the browser and its profile to go")
    assert all(not os.path.exists(f"/proc/{p}") or proc_table().get(p, (0, 0, "Z"))[2] == "Z"
               for p in seen)


def test_stop_with_browsers_in_flight(browser_tmp, agent_factory, target):
    """SIGTERM while two browsers load a page that never loads: the agent
    exits at once and leaves neither process nor profile behind."""
    a = agent_factory(config(browser_check("n1", target.url("/html/never"), timeout="20s",
                                           interval="21s"),
                             browser_check("n2", target.url("/html/never"), timeout="20s",
                                           interval="21s")),
                      env={"TMPDIR": browser_tmp})
    wait_for(lambda: len(browsers_of(a.proc.pid)) == 2, timeout=30, interval=0.05,
             what="two browsers running")
    mains = browser_pids(a.proc.pid)
    family = descendants(proc_table(), a.proc.pid)
    assert family >= mains
    assert len(profiles(browser_tmp)) == 2
    rc, took = a.stop()
    assert rc == 0, a.logs()
    assert took < 5, took
    alive = {p for p in family if p in proc_table() and proc_table()[p][2] != "Z"}
    assert not alive, alive
    assert not leftovers(browser_tmp, mains)
    assert profiles(browser_tmp) == []


def smoke(tmp_path, text, *flags, env=None):
    path = tmp_path / "smoke.yml"
    path.write_text(text)
    return subprocess.Popen([AGENT_BIN, "check", f"--config.file={path}", "--format=json", *flags],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, **(env or {})))


def test_concurrency_cap(browser_tmp, tmp_path, target):
    """`outpost check` starts every check at once: with max_concurrent 2 the
    other two wait, and never more than two browsers run (sampled from
    /proc all along); all four pass."""
    checks = [browser_check(f"slow{i}", target.url("/html/slow-image/1500"), timeout="8s")
              for i in range(4)]
    p = smoke(tmp_path, config(*checks, max_concurrent=2), env={"TMPDIR": browser_tmp})
    most, samples = 0, 0
    try:
        while p.poll() is None:
            most = max(most, len(browsers_of(p.pid)))
            samples += 1
            time.sleep(0.02)
        out, err = p.communicate(timeout=5)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 0, (out, err)
    doc = json.loads(out)
    assert [c["result"] for c in doc["checks"]] == ["pass"] * 4, doc
    assert samples > 20
    assert most == 2, most
    # Two rounds of a page that loads in 1.5 s or more.
    assert doc["duration_seconds"] >= 3.0, doc
    assert profiles(browser_tmp) == []


def test_outpost_check_reports_browser_results(browser_tmp, tmp_path, target):
    p = smoke(tmp_path, config(
        browser_check("home", target.url("/html/ok"), text="Welcome"),
        browser_check("broken", target.url("/html/error"))), env={"TMPDIR": browser_tmp})
    out, err = p.communicate(timeout=60)
    assert p.returncode == 1, (out, err)
    doc = json.loads(out)
    by = {c["name"]: c for c in doc["checks"]}
    assert by["home"]["type"] == "browser" and by["home"]["result"] == "pass", by
    assert by["home"]["status"] == 200
    assert (by["broken"]["result"], by["broken"]["reason"], by["broken"]["status"],
            by["broken"]["detail"]) == ("fail", "http_status", 500, "status 500 not in [200-299]")


def test_config_without_chromium(tmp_path, target):
    path = tmp_path / "c.yml"
    path.write_text(config(browser_check("home", target.url("/html/ok")),
                           executable="/nonexistent"))
    want = (f"{path}:6:5: checks[0] \"home\": type browser needs Chromium: "
            "global.browser.executable \"/nonexistent\" is not an executable file (apt-get "
            "install chromium)\n")
    r = subprocess.run([AGENT_BIN, "--config.check", f"--config.file={path}"],
                       capture_output=True, text=True, timeout=30)
    assert (r.returncode, r.stdout, r.stderr) == (1, "", want)
    r = subprocess.run([AGENT_BIN, "check", f"--config.file={path}"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and want in r.stderr, r.stderr
    # Linted without its secrets, the file is checked as for another machine: Chromium is
    # that machine's business.
    r = subprocess.run([AGENT_BIN, "--config.check", "--config.skip-secrets",
                        f"--config.file={path}"], capture_output=True, text=True, timeout=30)
    assert (r.returncode, r.stderr) == (0, ""), r.stderr
    assert r.stdout == f"{path}: OK, 1 checks, 0 SLOs (secret references not resolved)\n"
    # The agent does not start on it.
    r = subprocess.run([AGENT_BIN, f"--config.file={path}", "--web.listen-address=127.0.0.1:0",
                        f"--storage.path={tmp_path}/data"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode != 0 and "type browser needs Chromium" in r.stderr + r.stdout


def test_nothing_left_in_tmpdir(browser_tmp, tmp_path, target):
    """A run leaves nothing at all in $TMPDIR: not its profile, not a file
    Chromium makes beside it (its singleton socket goes into the profile)."""
    p = smoke(tmp_path, config(browser_check("home", target.url("/html/static"))),
              env={"TMPDIR": browser_tmp})
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, (out, err)
    assert os.listdir(browser_tmp) == []


def test_long_tmpdir_is_passed_over(browser_tmp, tmp_path, target):
    """A TMPDIR too long for Chromium's singleton socket (108 bytes with the
    profile's and the socket's names) is not used: the browser starts under
    /tmp instead, and the long directory stays empty."""
    long_dir = os.path.join(browser_tmp, "d" * 60)
    os.mkdir(long_dir)
    p = smoke(tmp_path, config(browser_check("home", target.url("/html/static"))),
              env={"TMPDIR": long_dir})
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, (out, err)
    assert os.listdir(long_dir) == []
    os.rmdir(long_dir)


def test_stale_profiles_swept(browser_tmp, tmp_path, target):
    """Profiles an agent left when it was killed are removed before the next
    agent's first browser: only those whose agent (the pid in the name) is gone
    and that nothing changed for ten minutes."""
    p = subprocess.Popen(["true"])
    p.wait()
    dead = p.pid  # reaped: kill(dead, 0) fails with ESRCH
    old = time.time() - 3600

    def make(name, mtime):
        d = os.path.join(browser_tmp, name)
        os.makedirs(os.path.join(d, "Default"))
        with open(os.path.join(d, "Default", "Cookies"), "w") as f:
            f.write("x")
        if mtime:
            os.utime(d, (mtime, mtime))
        return name
    stale = make(f"outpost-chrome-{dead}-abcdef", old)
    fresh = make(f"outpost-chrome-{dead}-ghijkl", None)       # its agent may be starting
    alive = make(f"outpost-chrome-{os.getpid()}-mnopqr", old)  # its agent runs
    other = make("outpost-chrome-x-stuvwx", old)                # not a profile name
    r = smoke(tmp_path, config(browser_check("home", target.url("/html/static"))),
              env={"TMPDIR": browser_tmp})
    out, err = r.communicate(timeout=60)
    assert r.returncode == 0, (out, err)
    assert sorted(os.listdir(browser_tmp)) == sorted([fresh, alive, other])
