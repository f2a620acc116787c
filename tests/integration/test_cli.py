"""The command line: docs/operations.md's exit status table, walked row by
row; --help and -h of every command and group; one-line usage errors; and
--version, line by line, against the libraries the system has installed.

Every row of the table ("Exit statuses") needs a scenario here, and every
scenario a row: a new row without a case fails, and so does a case whose
row was removed.
"""
import datetime
import glob
import os
import re
import signal
import socket
import subprocess
import textwrap

import pytest

from conftest import AGENT_BIN, BUILD, Agent

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
OPERATIONS = os.path.join(ROOT, "docs", "operations.md")


def exit_table():
    """[(command, code, meaning)] from the table under "### Exit statuses"."""
    text = open(OPERATIONS, encoding="utf-8").read()
    m = re.search(r"^### Exit statuses\n(.*?)(?=^#)", text, re.M | re.S)
    assert m, "docs/operations.md has no '### Exit statuses' section"
    rows = []
    for line in m.group(1).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("|") or cells[0] in ("command", "---"):
            continue
        assert len(cells) == 3 and re.fullmatch(r"`outpost[^`]*`", cells[0]) and \
            cells[1].isdigit(), f"not a row of command | code | meaning: {line!r}"
        rows.append((cells[0].strip("`"), int(cells[1]), cells[2]))
    assert rows, "the exit status table is empty"
    return rows


ROWS = exit_table()


def run(*args, env=None, timeout=30):
    full = {k: v for k, v in os.environ.items() if not k.startswith("OUTPOST_SHARD")}
    full.update(env or {})
    return subprocess.run([AGENT_BIN, *map(str, args)], capture_output=True, text=True,
                          env=full, timeout=timeout)


def expect(code, *args, env=None, stderr=None):
    """Run outpost with args; assert the exit status. A usage error (2) is
    one line on stderr and nothing on stdout."""
    r = run(*args, env=env)
    assert r.returncode == code, (args, r.returncode, r.stdout, r.stderr)
    if code == 2 and stderr is not False:
        assert r.stdout == "" and r.stderr.count("\n") == 1, (args, r.stdout, r.stderr)
    if stderr:
        assert stderr in r.stderr, (args, r.stderr)
    return r


SCENARIOS = {}


def scenario(command, code):
    def register(fn):
        assert (command, code) not in SCENARIOS
        SCENARIOS[(command, code)] = fn
        return fn
    return register


def config(target, slo=False):
    text = f'checks:\n  - {{name: ok, url: "{target.url("/ok")}"}}\n'
    if slo:
        text = "global: {interval: 200ms, timeout: 150ms}\n" + text + \
            "slos:\n  - {name: avail, objective: 99.9, sli: {checks: [ok]}}\n"
    return text


def write(path, text):
    path.write_text(text)
    return path


# ---- the agent ----

@scenario("outpost", 0)
def agent_0(tmp_path, target):
    a = Agent(str(tmp_path), config(target))
    rc, _ = a.stop()
    assert rc == 0, a.logs()
    assert run("--help").returncode == 0 and run("--version").returncode == 0


@scenario("outpost", 1)
def agent_1(tmp_path, target):
    cfg = write(tmp_path / "ok.yml", config(target))
    data = f"--storage.path={tmp_path / 'data'}"
    expect(1, f"--config.file={tmp_path / 'missing.yml'}", "--web.listen-address=127.0.0.1:0",
           data, stderr="cannot open")
    web = write(tmp_path / "web.yml", "tls_server_config: {cert_file: /nonexistent.pem}\n")
    expect(1, f"--config.file={cfg}", f"--web.config.file={web}",
           "--web.listen-address=127.0.0.1:0", data, stderr="cannot load the web configuration")
    # A well-formed address that cannot be bound: the port is taken.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        expect(1, f"--config.file={cfg}", f"--web.listen-address=127.0.0.1:{port}", data,
               stderr="cannot listen")


@scenario("outpost", 2)
def agent_2(tmp_path, target):
    # The configuration is never read: a missing file does not change the answer.
    none = f"--config.file={tmp_path / 'missing.yml'}"
    for addr in ("foo", ":99999", "[::1", "1.2.3.4:", "::1:80", ":-1", ""):
        r = expect(2, none, f"--web.listen-address={addr}")
        assert r.stderr == ("outpost: --web.listen-address needs host:port, :port or "
                            "[v6]:port with a port from 0 to 65535, not \"" + addr + "\"\n")
    expect(2, "--frob", stderr="outpost: unknown flag --frob (see outpost --help)\n")
    # After "--" nothing is a flag, --version no more than --help.
    for flag in ("--help", "--version"):
        expect(2, "--", flag, stderr="outpost: unknown flag -- (see outpost --help)\n")
    expect(2, none, "--config.file", stderr="outpost: flag --config.file needs a value\n")
    # The next flag is not a value: no agent runs on a directory named --config.check.
    expect(2, none, "--storage.path", "--config.check",
           stderr="outpost: flag --storage.path needs a value\n")
    expect(2, none, "--log.level=loud", stderr="outpost: --log.level must be")
    expect(2, "frob", stderr="outpost: unknown command frob (see outpost --help)\n")
    expect(2, none, env={"OUTPOST_SHARD": "3/3"}, stderr="OUTPOST_SHARD needs I/N")


@scenario("outpost", 3)
def agent_3(tmp_path, target):
    # A FIFO where the state file goes: every snapshot fails, the last one too.
    data = tmp_path / "data"
    data.mkdir()
    os.mkfifo(data / "slo-state.bin")
    a = Agent(str(tmp_path), config(target, slo=True),
              extra_args=[f"--storage.path={data}", "--storage.snapshot-interval=1s"])
    rc, _ = a.stop()
    assert rc == 3, a.logs()
    assert "exit_code=3" in a.logs()


@scenario("outpost --config.check", 0)
def config_check_0(tmp_path, target):
    cfg = write(tmp_path / "ok.yml", config(target))
    r = expect(0, "--config.check", f"--config.file={cfg}")
    assert r.stdout == f"{cfg}: OK, 1 checks, 0 SLOs\n"


@scenario("outpost --config.check", 1)
def config_check_1(tmp_path, target):
    cfg = write(tmp_path / "bad.yml", "checks:\n  - name: a\n    url: nope\n")
    r = expect(1, "--config.check", f"--config.file={cfg}")
    assert r.stdout == "" and f"{cfg}:3:" in r.stderr


@scenario("outpost --config.check", 2)
def config_check_2(tmp_path, target):
    cfg = write(tmp_path / "ok.yml", config(target))
    expect(2, "--config.check", f"--config.file={cfg}", "--frob")
    expect(2, "--config.check", f"--config.file={cfg}", "--web.listen-address=foo")
    expect(2, "--config.skip-secrets", f"--config.file={cfg}")


# ---- outpost check ----

@scenario("outpost check", 0)
def check_0(tmp_path, target):
    cfg = write(tmp_path / "ok.yml", config(target))
    expect(0, "check", f"--config.file={cfg}")


@scenario("outpost check", 1)
def check_1(tmp_path, target):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    cfg = write(tmp_path / "down.yml",
                f'checks:\n  - {{name: down, url: "http://127.0.0.1:{port}/"}}\n')
    expect(1, "check", f"--config.file={cfg}")


@scenario("outpost check", 2)
def check_2(tmp_path, target):
    expect(2, "check", f"--config.file={tmp_path / 'missing.yml'}", stderr=False)
    expect(2, "check", "--frob")
    expect(2, "check", "--timeout")


# ---- outpost slo ----

@scenario("outpost slo", 0)
def slo_0(tmp_path, target):
    assert expect(0, "slo", "--help").stdout.startswith("usage: outpost slo COMMAND")


@scenario("outpost slo", 2)
def slo_2(tmp_path, target):
    expect(2, "slo", stderr="outpost slo: missing command: replay (see outpost slo --help)\n")
    expect(2, "slo", "frob", stderr="outpost slo: unknown command frob (see outpost slo --help)\n")
    expect(2, "slo", "--frob",
           stderr="outpost slo: unknown flag --frob (see outpost slo --help)\n")


def replay_files(tmp_path, target, events):
    cfg = write(tmp_path / "slo.yml", config(target, slo=True))
    ev = write(tmp_path / "events.csv", events)
    return f"--config.file={cfg}", f"--events={ev}"


@scenario("outpost slo replay", 0)
def replay_0(tmp_path, target):
    r = expect(0, "slo", "replay", *replay_files(tmp_path, target, "1767225600,avail,10,0\n"))
    assert r.stdout.startswith('{"at":1767225600,"slos":{"avail":')


@scenario("outpost slo replay", 1)
def replay_1(tmp_path, target):
    r = expect(1, "slo", "replay", *replay_files(tmp_path, target, "1767225600,nope,10,0\n"))
    assert "events.csv:1: no SLO of that name in the configuration" in r.stderr
    expect(1, "slo", "replay", f"--config.file={tmp_path / 'missing.yml'}", "--events=x.csv")


@scenario("outpost slo replay", 2)
def replay_2(tmp_path, target):
    cfg, ev = replay_files(tmp_path, target, "1767225600,avail,10,0\n")
    expect(2, "slo", "replay", cfg, stderr="outpost slo replay: --config.file and --events are "
           "required (see outpost slo replay --help)\n")
    expect(2, "slo", "replay", cfg, ev, "--budget=some",
           stderr="outpost slo replay: --budget must be expected or observed\n")
    expect(2, "slo", "replay", cfg, ev, "--at=soon")
    expect(2, "slo", "replay", cfg, "--events")


# ---- outpost canary ----

@scenario("outpost canary", 0)
def canary_0(tmp_path, target):
    out = expect(0, "canary", "-h").stdout
    assert out.startswith("usage: outpost canary COMMAND")
    assert "\n  outpost canary judge " in out and "\n  outpost canary history " in out


@scenario("outpost canary", 2)
def canary_2(tmp_path, target):
    expect(2, "canary", stderr="outpost canary: missing command: judge, history "
           "(see outpost canary --help)\n")
    expect(2, "canary", "frob")


def judge(tmp_path, canary_lines):
    b = write(tmp_path / "b.txt", "".join(f"{0.010 + i * 0.0001!r}\n" for i in range(60)))
    c = write(tmp_path / "c.txt", canary_lines if canary_lines is not None else b.read_text())
    return "canary", "judge", f"--baseline={b}", f"--canary={c}"


@scenario("outpost canary judge", 0)
def judge_0(tmp_path, target):
    assert '"verdict":"pass"' in expect(0, *judge(tmp_path, None)).stdout


@scenario("outpost canary judge", 1)
def judge_1(tmp_path, target):
    assert '"verdict":"fail"' in expect(1, *judge(tmp_path, "0.010,fail\n" * 60)).stdout


@scenario("outpost canary judge", 2)
def judge_2(tmp_path, target):
    args = judge(tmp_path, None)
    expect(2, *args[:3], stderr="outpost canary judge: --baseline and --canary are required "
           "(see outpost canary judge --help)\n")
    expect(2, *args, "--canary-name=k", stderr="--config.file and --canary-name go together")
    expect(2, *args, "--frob")


@scenario("outpost canary judge", 3)
def judge_3(tmp_path, target):
    assert '"verdict":"inconclusive"' in expect(3, *judge(tmp_path, "0.01\n")).stdout


@scenario("outpost canary judge", 4)
def judge_4(tmp_path, target):
    expect(4, *judge(tmp_path, "0.1,maybe\n"), stderr="c.txt:1: the second field must be")


@scenario("outpost canary history", 0)
def history_0(tmp_path, target):
    # The agent makes the history file at start.
    data = tmp_path / "data"
    a = Agent(str(tmp_path), config(target), extra_args=[f"--storage.path={data}"])
    assert a.stop()[0] == 0
    r = expect(0, "canary", "history", f"--storage.path={data}", "--format=json")
    assert r.stdout == '{"runs":[]}\n'


@scenario("outpost canary history", 1)
def history_1(tmp_path, target):
    expect(1, "canary", "history", f"--storage.path={tmp_path / 'none'}",
           stderr="history.db: no such file")


@scenario("outpost canary history", 2)
def history_2(tmp_path, target):
    expect(2, "canary", "history", "--limit=0")
    expect(2, "canary", "history", "--canary",
           stderr="outpost canary history: flag --canary needs a value\n")


# ---- outpost audit ----

@scenario("outpost audit", 0)
def audit_0(tmp_path, target):
    assert expect(0, "audit", "--help").stdout.startswith("usage: outpost audit COMMAND")


@scenario("outpost audit", 2)
def audit_2(tmp_path, target):
    expect(2, "audit", stderr="outpost audit: missing command: verify "
           "(see outpost audit --help)\n")
    expect(2, "audit", "frob")


@scenario("outpost audit verify", 0)
def verify_0(tmp_path, target):
    log = write(tmp_path / "audit.jsonl", "")
    assert expect(0, "audit", "verify", log).stdout == "ok: 0 events\n"


@scenario("outpost audit verify", 1)
def verify_1(tmp_path, target):
    log = write(tmp_path / "audit.jsonl", "{not json\n")
    assert expect(1, "audit", "verify", log).stdout.startswith(f"{log}:1: not an audit line")


@scenario("outpost audit verify", 2)
def verify_2(tmp_path, target):
    expect(2, "audit", "verify", tmp_path / "missing.jsonl", stderr="cannot open")
    expect(2, "audit", "verify", stderr="outpost audit verify: name at least one FILE "
           "(see outpost audit verify --help)\n")
    expect(2, "audit", "verify", "--frob")


# ---- outpost help ----

@scenario("outpost help", 0)
def help_0(tmp_path, target):
    assert expect(0, "help").stdout == run("--help").stdout
    assert expect(0, "help", "slo", "replay").stdout == run("slo", "replay", "--help").stdout


@scenario("outpost help", 2)
def help_2(tmp_path, target):
    expect(2, "help", "frob", stderr="outpost: unknown command frob (see outpost --help)\n")
    expect(2, "help", "slo", "frob")
    expect(2, "help", "--frob")


@pytest.mark.parametrize("command,code", [(c, n) for c, n, _ in ROWS],
                         ids=[f"{c}:{n}" for c, n, _ in ROWS])
def test_exit_status(command, code, tmp_path, target):
    assert (command, code) in SCENARIOS, \
        f"docs/operations.md has a row {command} | {code} and test_cli.py no case for it"
    SCENARIOS[(command, code)](tmp_path, target)


def test_every_case_has_a_row():
    rows = [(c, n) for c, n, _ in ROWS]
    assert len(rows) == len(set(rows)), "a command | code row is in the table twice"
    assert sorted(set(SCENARIOS) - set(rows)) == []


# ---- --help, -h and usage errors of every command ----

# (words, what its usage line starts with, a flag that needs a value or None)
COMMANDS = [
    ([], "usage: outpost [<flags>]\n", "--config.file"),
    (["check"], "usage: outpost check [", "--timeout"),
    (["slo"], "usage: outpost slo COMMAND [<args>]\n", None),
    (["slo", "replay"], "usage: outpost slo replay --config.file=F", "--events"),
    (["canary"], "usage: outpost canary COMMAND [<args>]\n", None),
    (["canary", "judge"], "usage: outpost canary judge --baseline=B", "--baseline"),
    (["canary", "history"], "usage: outpost canary history [", "--canary"),
    (["audit"], "usage: outpost audit COMMAND [<args>]\n", None),
    (["audit", "verify"], "usage: outpost audit verify [--] FILE", None),
]
COMMAND_IDS = [" ".join(["outpost", *w]) for w, _, _ in COMMANDS]


@pytest.mark.parametrize("words,head,_", COMMANDS, ids=COMMAND_IDS)
def test_help_anywhere(words, head, _):
    """--help and -h first, last, or after a flag the command does not know."""
    for flag in ("--help", "-h"):
        for args in ([flag], ["--frob", flag], [flag, "--frob"]):
            r = run(*words, *args)
            assert (r.returncode, r.stderr) == (0, ""), (words, args, r.stderr)
            assert r.stdout.startswith(head), (words, args, r.stdout[:200])


@pytest.mark.parametrize("words,_,value_flag", COMMANDS, ids=COMMAND_IDS)
def test_usage_errors_name_the_argument(words, _, value_flag):
    cmd = " ".join(["outpost", *words])
    r = run(*words, "--frob")
    assert (r.returncode, r.stdout, r.stderr) == (
        2, "", f"{cmd}: unknown flag --frob (see {cmd} --help)\n")
    if value_flag:
        r = run(*words, value_flag)
        assert (r.returncode, r.stdout, r.stderr) == (
            2, "", f"{cmd}: flag {value_flag} needs a value\n")


def test_group_help_lists_its_commands():
    for group, commands in (("slo", ["replay"]), ("canary", ["judge", "history"]),
                            ("audit", ["verify"])):
        out = run(group, "--help").stdout
        for c in commands:
            assert f"\n  outpost {group} {c} " in out, (group, c)
        assert f"\nSee outpost {group} COMMAND --help " in out


def test_agent_help_lists_the_commands():
    out = run("--help").stdout
    assert out.startswith("usage: outpost [<flags>]\n  or:  outpost COMMAND [<args>]\n")
    for c in ("check", "slo replay", "canary judge", "canary history", "audit verify",
              "help [COMMAND]"):
        assert re.search(rf"\n  {re.escape(c)} +\S", out), c
    assert "outpost COMMAND --help" in out


# ---- --version ----

def upstream(version):
    """The upstream part of a Debian version: no epoch, no Debian revision."""
    return version.split(":", 1)[-1].rsplit("-", 1)[0]


def package_of(soname):
    """The Debian package whose file the agent loads as soname, and its version."""
    ldd = subprocess.run(["ldd", AGENT_BIN], capture_output=True, text=True, check=True).stdout
    m = re.search(rf"^\s*{re.escape(soname)} => (\S+)", ldd, re.M)
    assert m, f"the agent does not load {soname}:\n{ldd}"
    path = m.group(1)
    candidates = {path, os.path.realpath(path)}
    candidates |= {"/usr" + p for p in list(candidates) if not p.startswith("/usr/")}
    candidates |= {p[len("/usr"):] for p in list(candidates) if p.startswith("/usr/")}
    for p in sorted(candidates):
        r = subprocess.run(["dpkg-query", "-S", p], capture_output=True, text=True)
        if r.returncode == 0:
            # "libcurl4:amd64: /usr/lib/x86_64-linux-gnu/libcurl.so.4.8.0"
            pkg = r.stdout.split(": ", 1)[0].split(",")[0].strip()
            v = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", pkg], capture_output=True,
                               text=True, check=True).stdout
            return pkg, upstream(v)
    raise AssertionError(f"no Debian package owns {soname} ({sorted(candidates)})")


def test_version():
    r = run("--version")
    assert (r.returncode, r.stderr) == (0, "")
    lines = r.stdout.split("\n")
    assert lines[-1] == "" and len(lines) == 10, r.stdout
    project = re.search(r"project\(outpost VERSION (\S+) ",
                        open(os.path.join(ROOT, "CMakeLists.txt")).read()).group(1)
    # The first line, unchanged: scripts parse it.
    assert re.fullmatch(rf"outpost, version {re.escape(project)} "
                        r"\(revision: (?:[0-9a-f]{12}|unknown)\)", lines[0]), lines[0]
    fields = []
    for line in lines[1:-1]:
        m = re.fullmatch(r"  ([A-Za-z ]+):( +)(\S.*)", line)
        assert m and len(m.group(1)) + 1 + len(m.group(2)) == 18, line
        fields.append((m.group(1), m.group(3)))
    names = [k for k, _ in fields]
    assert names == ["build date", "compiler", "platform", "libcurl", "OpenSSL", "GnuTLS",
                     "libmicrohttpd", "libyaml"], names
    v = dict(fields)
    # RFC 3339 in UTC, from CMake (SOURCE_DATE_EPOCH when set).
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", v["build date"]), v
    built = datetime.datetime.strptime(v["build date"], "%Y-%m-%dT%H:%M:%SZ")
    assert built.year >= 2020
    # The compiler CMake found for this build.
    ids = {"GNU": "gcc", "Clang": "clang"}
    found = glob.glob(os.path.join(BUILD, "CMakeFiles", "*", "CMakeCCompiler.cmake"))
    assert re.fullmatch(r"(gcc|clang) \d+\.\d+\.\d+", v["compiler"]), v
    if found:
        text = open(found[0]).read()
        cid = re.search(r'set\(CMAKE_C_COMPILER_ID "(\w+)"\)', text).group(1)
        cver = re.search(r'set\(CMAKE_C_COMPILER_VERSION "([\d.]+)"\)', text).group(1)
        assert v["compiler"] == f"{ids.get(cid, cid)} {cver}"
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True,
                          check=True).stdout.strip()
    goarch = {"amd64": "amd64", "arm64": "arm64", "armhf": "arm", "i386": "386",
              "ppc64el": "ppc64le", "s390x": "s390x", "riscv64": "riscv64"}[arch]
    assert v["platform"] == f"linux/{goarch}"
    # The libraries loaded now: their Debian packages' upstream versions.
    _, curl = package_of("libcurl.so.4")
    _, ssl = package_of("libssl.so.3")
    _, gnutls = package_of("libgnutls.so.30")
    _, mhd = package_of("libmicrohttpd.so.12")
    _, yaml = package_of("libyaml-0.so.2")
    assert re.fullmatch(rf"{re.escape(curl)} \(OpenSSL/{re.escape(ssl)}(, [^()]+)?\)",
                        v["libcurl"]), (v["libcurl"], curl, ssl)
    assert re.fullmatch(rf"OpenSSL {re.escape(ssl)} \d+ \w+ \d{{4}}", v["OpenSSL"]), \
        (v["OpenSSL"], ssl)
    assert v["GnuTLS"] == gnutls
    assert v["libmicrohttpd"] == mhd
    assert v["libyaml"] == yaml
