"""The Debian package (`make deb`) installed in a real Debian 12 root.

A minbase bookworm root made with debootstrap from the machine's own Debian
mirror (its apt sources), plus systemd so the unit can be verified against
the targets it names, is kept as BUILD/debroot.tar: a fresh clone makes it
once. Each run unpacks it to BUILD/debroot-run, installs the .deb with apt
(which resolves Depends from the mirror), walks docs/operations.md's
"Install on a host" path (check the config, run the service's command as the
outpost user, stop it) and purges the package again.

The agent runs in a network namespace of its own, so the packaged
configuration is used unchanged: it listens on its default port 9469 and its
self-check probes it there, with nothing else able to hold that port. /proc
is mounted inside a private mount namespace that dies with the agent, so
nothing stays mounted whatever happens to the test.

Then systemd-nspawn boots the root (private network again) and systemd itself
starts, reloads and stops the installed unit, sandbox and all.

Only the normal pass runs these tests: the sanitizer pass builds no package.
"""
import glob
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from conftest import BUILD, wait_for

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("OUTPOST_SANITIZED")),
    reason="the package is built and tested in the normal pass only")

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD_DIR = os.path.abspath(BUILD)
UNIT = os.path.join(SRC, "packaging", "systemd", "outpost.service")
ROOT_TAR = os.path.join(BUILD_DIR, "debroot.tar")
ROOT_SOURCES = os.path.join(BUILD_DIR, "debroot.sources.list")
RUN_ROOT = os.path.join(BUILD_DIR, "debroot-run")
SUITE = "bookworm"
# systemd-analyze security rates an exposure below 5.0 "OK" (MEDIUM from 5.0).
OK_EXPOSURE = 4.9
CHROOT_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C",
              "DEBIAN_FRONTEND": "noninteractive", "HOME": "/root"}


def project_version():
    with open(os.path.join(SRC, "CMakeLists.txt")) as f:
        m = re.search(r"^project\(outpost VERSION ([0-9][0-9.]*)[ )]", f.read(), re.M)
    assert m, "no project(outpost VERSION ...) in CMakeLists.txt"
    return m.group(1)


def deb_path():
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True,
                          check=True).stdout.strip()
    path = os.path.join(BUILD_DIR, "deb", f"outpost_{project_version()}_{arch}.deb")
    if not os.path.exists(path):
        pytest.fail(f"{path} is missing: `make deb` builds it (`make test` does it first)")
    return path


# --- the machine's apt sources ------------------------------------------------

def parse_one_line_sources(text):
    """[(uri, suite, [components])] of the `deb` lines of a sources.list."""
    out = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line.startswith("deb "):
            continue
        line = re.sub(r"\[[^\]]*\]", " ", line[4:])  # [signed-by=... arch=...]
        fields = line.split()
        if len(fields) >= 2:
            out.append((fields[0], fields[1], fields[2:]))
    return out


def parse_deb822_sources(text):
    """[(uri, suite, [components])] of a .sources file's enabled `deb` stanzas."""
    out = []
    for stanza in re.split(r"\n\s*\n", text):
        fields, key = {}, None
        for line in stanza.splitlines():
            if line.startswith("#"):
                continue
            if line[:1] in (" ", "\t") and key:
                fields[key] += " " + line.strip()
            elif ":" in line:
                key, value = line.split(":", 1)
                key = key.strip().lower()
                fields[key] = value.strip()
        if "deb" not in fields.get("types", "").split():
            continue
        if fields.get("enabled", "yes").lower() == "no":
            continue
        for uri in fields.get("uris", "").split():
            for suite in fields.get("suites", "").split():
                out.append((uri, suite, fields.get("components", "").split()))
    return out


def machine_sources(etc="/etc/apt"):
    """Every `deb` source apt reads: sources.list, sources.list.d/*.list and *.sources."""
    out = []
    files = [os.path.join(etc, "sources.list")]
    files += sorted(glob.glob(os.path.join(etc, "sources.list.d", "*.list")))
    files += sorted(glob.glob(os.path.join(etc, "sources.list.d", "*.sources")))
    for path in files:
        if not os.path.isfile(path):
            continue
        with open(path) as f:
            text = f.read()
        out += (parse_deb822_sources if path.endswith(".sources") else parse_one_line_sources)(text)
    return out


def test_parse_both_source_formats():
    one = parse_one_line_sources(
        "# comment\ndeb [signed-by=/k.gpg arch=amd64] http://m.example/debian bookworm main contrib\n"
        "deb-src http://m.example/debian bookworm main\n"
        "deb http://s.example/debian-security bookworm-security main # tail\n")
    assert one == [("http://m.example/debian", "bookworm", ["main", "contrib"]),
                   ("http://s.example/debian-security", "bookworm-security", ["main"])]
    deb822 = parse_deb822_sources(
        "Types: deb deb-src\n# http://snapshot.example/\nURIs: http://m.example/debian\n"
        "Suites: bookworm bookworm-updates\nComponents: main\n"
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n"
        "Types: deb\nURIs: http://off.example/\nSuites: bookworm\nComponents: main\nEnabled: no\n\n"
        "Types: deb-src\nURIs: http://src.example/\nSuites: bookworm\nComponents: main\n")
    assert deb822 == [("http://m.example/debian", "bookworm", ["main"]),
                      ("http://m.example/debian", "bookworm-updates", ["main"])]


def root_sources_list():
    """(mirror for debootstrap, sources.list text for the root) from this machine."""
    bookworm = [s for s in machine_sources() if s[1] == SUITE or s[1].startswith(SUITE + "-")]
    mirrors = [uri for uri, suite, _ in bookworm if suite == SUITE]
    if not mirrors:
        pytest.skip(f"no `deb ... {SUITE}` source in /etc/apt: no Debian 12 mirror to debootstrap from")
    lines = [f"deb {uri} {suite} {' '.join(comps or ['main'])}" for uri, suite, comps in bookworm]
    return mirrors[0], "\n".join(lines) + "\n"


def require_mirror(mirror):
    url = mirror.rstrip("/") + f"/dists/{SUITE}/InRelease"
    try:
        with urllib.request.urlopen(url, timeout=20) as r:
            r.read(1)
    except (urllib.error.URLError, OSError) as e:
        pytest.skip(f"the Debian mirror {mirror} cannot be reached ({e}): no root to install into")


# --- the Debian root ------------------------------------------------------------

def mounts_under(path):
    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4] for line in f]
    return [p for p in points if p == path or p.startswith(path + "/")]


def remove_root(path):
    """rm -rf a root, never through a mount point left in it."""
    if not os.path.lexists(path):
        return
    left = mounts_under(path)
    assert not left, f"mounted under {path}, not removing it: {left}"
    subprocess.run(["rm", "-rf", "--one-file-system", path], check=True)


def chroot(root, *cmd, timeout=300, check=True):
    r = subprocess.run(["chroot", root, *cmd], env=CHROOT_ENV, capture_output=True, text=True,
                       timeout=timeout)
    if check:
        assert r.returncode == 0, f"{' '.join(cmd)} exited {r.returncode}:\n{r.stdout}\n{r.stderr}"
    return r


def make_pristine_root(mirror, sources):
    """debootstrap a minbase bookworm, point it at the machine's sources, add
    systemd (for `systemd-analyze verify --root`), forbid service starts, tar it."""
    tmp = os.path.join(BUILD_DIR, "debroot-new")
    remove_root(tmp)
    log = os.path.join(BUILD_DIR, "debroot-debootstrap.log")
    t0 = time.monotonic()
    with open(log, "w") as f:
        r = subprocess.run(["debootstrap", "--variant=minbase", SUITE, tmp, mirror],
                           stdout=f, stderr=subprocess.STDOUT, timeout=1200)
    if r.returncode != 0:
        with open(log) as f:
            tail = f.read()[-3000:]
        remove_root(tmp)
        pytest.fail(f"debootstrap exited {r.returncode} (log {log}):\n{tail}")
    with open(os.path.join(tmp, "etc/apt/sources.list"), "w") as f:
        f.write(sources)
    policy = os.path.join(tmp, "usr/sbin/policy-rc.d")
    with open(policy, "w") as f:
        f.write("#!/bin/sh\n# No service starts in this test root.\nexit 101\n")
    os.chmod(policy, 0o755)
    chroot(tmp, "apt-get", "update", "-q")
    chroot(tmp, "apt-get", "install", "-y", "-q", "--no-install-recommends", "systemd")
    chroot(tmp, "apt-get", "clean")
    subprocess.run(["tar", "--numeric-owner", "-C", tmp, "-cf", ROOT_TAR + ".new", "."],
                   check=True)
    os.replace(ROOT_TAR + ".new", ROOT_TAR)
    with open(ROOT_SOURCES, "w") as f:
        f.write(sources)
    remove_root(tmp)
    print(f"\ndebroot: made {ROOT_TAR} in {time.monotonic() - t0:.1f} s")


@pytest.fixture(scope="module")
def installed():
    """A fresh copy of the cached root with the package installed by apt."""
    if os.geteuid() != 0:
        pytest.skip("needs root: debootstrap, chroot and namespaces")
    deb = deb_path()
    mirror, sources = root_sources_list()
    require_mirror(mirror)
    cached = None
    if os.path.exists(ROOT_TAR) and os.path.exists(ROOT_SOURCES):
        with open(ROOT_SOURCES) as f:
            cached = f.read()
    if cached != sources:
        make_pristine_root(mirror, sources)
    remove_root(RUN_ROOT)
    os.makedirs(RUN_ROOT)
    try:
        t0 = time.monotonic()
        subprocess.run(["tar", "--numeric-owner", "-C", RUN_ROOT, "-xpf", ROOT_TAR], check=True)
        shutil.copy(deb, os.path.join(RUN_ROOT, "tmp", "outpost.deb"))
        # Lists as fresh as the mirror: an old cache must not ask for
        # package versions the mirror has dropped.
        chroot(RUN_ROOT, "apt-get", "update", "-q")
        r = chroot(RUN_ROOT, "apt-get", "install", "-y", "-q", "--no-install-recommends",
                   "/tmp/outpost.deb")
        print(f"\ndebroot: unpacked and installed in {time.monotonic() - t0:.1f} s")
        yield RUN_ROOT, r.stdout
    finally:
        remove_root(RUN_ROOT)


# --- the unit on its own --------------------------------------------------------

def exposure(output):
    m = re.search(r"Overall exposure level for outpost\.service: ([0-9.]+) (\w+)", output)
    assert m, output
    return float(m.group(1)), m.group(2)


def test_unit_security_offline():
    r = subprocess.run(["systemd-analyze", "security", "--offline=true", UNIT],
                       capture_output=True, text=True)
    score, word = exposure(r.stdout)
    print(f"\nsystemd-analyze security: {score} {word}")
    assert score <= OK_EXPOSURE and word in ("OK", "SAFE", "PERFECT"), r.stdout


def test_unit_runs_the_documented_command():
    with open(UNIT) as f:
        unit = f.read()
    assert ("ExecStart=/usr/bin/outpost --config.file=/etc/outpost/outpost.yml "
            "--storage.path=/var/lib/outpost $OUTPOST_ARGS\n") in unit
    assert "ExecReload=/bin/kill -HUP $MAINPID\n" in unit
    assert "EnvironmentFile=-/etc/default/outpost\n" in unit
    assert "User=outpost\n" in unit and "StateDirectory=outpost\n" in unit


def test_packaged_config_checks():
    r = subprocess.run([os.path.join(BUILD_DIR, "outpost"), "--config.check",
                        f"--config.file={SRC}/config/outpost.yml"], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


# --- the .deb file --------------------------------------------------------------

def test_deb_metadata_and_contents():
    deb = deb_path()
    field = lambda name: subprocess.run(["dpkg-deb", "-f", deb, name], capture_output=True,
                                        text=True, check=True).stdout.strip()
    assert field("Version") == project_version()
    depends = field("Depends")
    # ${shlibs:Depends}: from the libraries the binary links.
    for lib in ("libcurl4", "libmicrohttpd12", "libyaml-0-2", "libjansson4", "libssl3", "libc6"):
        assert lib in depends, depends
    conffiles = subprocess.run(["dpkg-deb", "--info", deb, "conffiles"], capture_output=True,
                               text=True, check=True).stdout.split()
    assert {"/etc/outpost/outpost.yml", "/etc/default/outpost"} <= set(conffiles)
    listing = subprocess.run(["dpkg-deb", "-c", deb], capture_output=True, text=True,
                             check=True).stdout
    files = {line.split()[-1].lstrip(".") for line in listing.splitlines()}
    expected = {"/usr/bin/outpost", "/etc/outpost/outpost.yml", "/etc/default/outpost",
                "/lib/systemd/system/outpost.service", "/usr/share/man/man1/outpost.1.gz",
                "/usr/share/doc/outpost/copyright"}
    expected |= {f"/usr/share/outpost/rules/{os.path.basename(p)}"
                 for p in glob.glob(f"{SRC}/rules/*.yml")}
    expected |= {f"/usr/share/outpost/dashboards/{os.path.basename(p)}"
                 for p in glob.glob(f"{SRC}/dashboards/*.json")}
    assert expected <= files, sorted(expected - files)


def test_lintian_reports_no_errors():
    r = subprocess.run(["lintian", "--fail-on", "error", "--pedantic", deb_path()],
                       capture_output=True, text=True, timeout=300)
    print("\nlintian:\n" + r.stdout)
    assert r.returncode == 0, r.stdout + r.stderr
    assert not [l for l in r.stdout.splitlines() if l.startswith("E:")], r.stdout


# --- installed in a Debian 12 root (these run in this order) -------------------

def test_installed_files(installed):
    root, log = installed
    assert "Setting up outpost" in log
    for path in ("usr/bin/outpost", "etc/outpost/outpost.yml", "etc/default/outpost",
                 "lib/systemd/system/outpost.service", "usr/share/man/man1/outpost.1.gz"):
        assert os.path.isfile(os.path.join(root, path)), path
    # Enabled at install (dh_installsystemd), not started (policy-rc.d, no systemd running).
    link = os.path.join(root, "etc/systemd/system/multi-user.target.wants/outpost.service")
    assert os.readlink(link) == "/lib/systemd/system/outpost.service"
    with open(os.path.join(root, "lib/systemd/system/outpost.service")) as f, open(UNIT) as g:
        assert f.read() == g.read()
    for name in os.listdir(f"{SRC}/rules"):
        if name.endswith(".yml"):
            with open(f"{SRC}/rules/{name}", "rb") as f, \
                    open(f"{root}/usr/share/outpost/rules/{name}", "rb") as g:
                assert f.read() == g.read(), name
    # The system user and its state directory.
    passwd = chroot(root, "getent", "passwd", "outpost").stdout.split(":")
    assert passwd[5] == "/var/lib/outpost" and passwd[6].strip() == "/usr/sbin/nologin", passwd
    st = os.stat(os.path.join(root, "var/lib/outpost"))
    assert st.st_uid == int(passwd[2]) and st.st_mode & 0o777 == 0o750


def test_config_check_in_root(installed):
    root, _ = installed
    r = chroot(root, "/usr/bin/outpost", "--config.check",
               "--config.file=/etc/outpost/outpost.yml", check=False)
    assert r.returncode == 0 and "OK" in r.stdout, r.stdout + r.stderr


def test_unit_verifies_in_root(installed):
    root, _ = installed
    # Documentation=man:outpost(1) is checked with man(1): point it at the root's pages.
    r = subprocess.run(["systemd-analyze", "verify", f"--root={root}", "outpost.service"],
                       capture_output=True, text=True,
                       env=dict(os.environ, MANPATH=f"{root}/usr/share/man"))
    print(f"\nsystemd-analyze verify: exit {r.returncode}, output {r.stdout + r.stderr!r}")
    assert r.returncode == 0 and not (r.stdout + r.stderr).strip(), r.stdout + r.stderr


def test_unit_security_in_root(installed):
    root, _ = installed
    r = subprocess.run(["systemd-analyze", "security", "--offline=true", f"--root={root}",
                        "outpost.service"], capture_output=True, text=True)
    score, word = exposure(r.stdout)
    print(f"\nsystemd-analyze security (installed unit): {score} {word}")
    assert score <= OK_EXPOSURE and word in ("OK", "SAFE", "PERFECT"), r.stdout


def netns_curl(pid, path):
    r = subprocess.run(["nsenter", f"--target={pid}", "--net", "curl", "-sS", "--max-time", "5",
                        f"http://127.0.0.1:9469{path}"], capture_output=True, text=True)
    return r.stdout if r.returncode == 0 else None


def test_agent_runs_as_outpost_and_stops_cleanly(installed):
    """The service's ExecStart, as the outpost user, in a network namespace of
    its own (so :9469 is free) with /proc mounted in a private mount namespace."""
    root, _ = installed
    uid = chroot(root, "id", "-u", "outpost").stdout.strip()
    log_path = os.path.join(BUILD_DIR, "debroot-agent.log")
    script = ('mount -t proc proc "$1/proc" && ip link set lo up && '
              'exec chroot --userspec=outpost:outpost "$1" /usr/bin/outpost '
              '--config.file=/etc/outpost/outpost.yml --storage.path=/var/lib/outpost')
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(["unshare", "--net", "--mount", "--propagation", "private",
                                 "sh", "-c", script, "sh", root],
                                stdout=log, stderr=subprocess.STDOUT, env=CHROOT_ENV)

    def logs():
        with open(log_path, errors="replace") as f:
            return f.read()
    try:
        def ready():
            if proc.poll() is not None:
                raise AssertionError(f"agent exited {proc.returncode}:\n{logs()}")
            return netns_curl(proc.pid, "/-/ready")
        wait_for(ready, timeout=15, interval=0.1, what="/-/ready in the root")
        with open(f"/proc/{proc.pid}/status") as f:
            uids = re.search(r"^Uid:\s+(.*)$", f.read(), re.M).group(1).split()
        assert uids == [uid] * 4, uids
        # The first probe runs at the check's offset inside its 15 s interval.
        text = wait_for(lambda: (lambda t: t if t and re.search(
            r'^outpost_check_up\{check="outpost-self"\} 1$', t, re.M) else None)(
                netns_curl(proc.pid, "/metrics")), timeout=30, interval=0.25,
            what="outpost_check_up 1 for the self-check")
        assert "process_start_time_seconds" in text  # /proc is there, as on a host
        # Edit the conffile and reload as ExecReload does (SIGHUP).
        with open(os.path.join(root, "etc/outpost/outpost.yml"), "a") as f:
            f.write("  - name: outpost-ready\n    url: http://127.0.0.1:9469/-/ready\n")
        proc.send_signal(signal.SIGHUP)
        wait_for(lambda: (lambda t: t and 'check="outpost-ready"' in t and re.search(
            r"^outpost_config_last_reload_successful 1$", t, re.M))(
                netns_curl(proc.pid, "/metrics")), timeout=10, interval=0.1,
            what="the reloaded configuration's new check")
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=10)
        assert rc == 0, f"agent exited {rc}:\n{logs()}"
        assert "level=warn" not in logs() and "level=error" not in logs(), logs()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # The mount namespace died with the agent: nothing is mounted in the root.
    assert not mounts_under(root)


BOOT_CHECK = r"""#!/bin/bash
# Runs in the booted root after outpost.service: records what the test asserts.
scrape() {
    exec 3<>/dev/tcp/127.0.0.1/9469 || return 1
    printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3 && cat <&3
    exec 3<&-
}
for _ in $(seq 150); do
    scrape 2>/dev/null | grep -q '^outpost_check_up{check="outpost-self"} 1$' && up=1 && break
    sleep 0.2
done
{
    echo "up=${up:-0}"
    echo "user=$(ps -o user= -p "$(systemctl show -P MainPID outpost)")"
    systemctl reload outpost && echo "reload=$(systemctl is-active outpost)"
    systemctl stop outpost
    systemctl show outpost -p Result -p ExecMainStatus -p NRestarts
    echo "--- journal"
    journalctl -u outpost --no-pager -o cat
} >/outpost-boot-check.txt 2>&1
systemctl poweroff
"""


def stop_nspawn(proc):
    """Shut the container down; kill its init (and so its PID namespace) if it hangs."""
    if proc.poll() is not None:
        return
    try:
        with open(f"/proc/{proc.pid}/task/{proc.pid}/children") as f:
            inits = [int(p) for p in f.read().split()]
    except OSError:
        inits = []
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        for pid in inits:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.kill()
        proc.wait()


def test_service_under_systemd(installed):
    """The installed unit, sandbox and all, started by systemd: the root booted
    with systemd-nspawn on a private network. A unit of the test's waits for the
    self-check to report up, reloads and stops outpost, then powers off."""
    root, _ = installed
    script = os.path.join(root, "usr/local/sbin/outpost-boot-check")
    unit = os.path.join(root, "etc/systemd/system/outpost-boot-check.service")
    link = os.path.join(root, "etc/systemd/system/multi-user.target.wants/outpost-boot-check.service")
    result = os.path.join(root, "outpost-boot-check.txt")
    with open(script, "w") as f:
        f.write(BOOT_CHECK)
    os.chmod(script, 0o755)
    with open(unit, "w") as f:
        f.write("[Unit]\nAfter=outpost.service\n[Service]\nType=oneshot\n"
                "ExecStart=/usr/local/sbin/outpost-boot-check\n")
    os.symlink("/etc/systemd/system/outpost-boot-check.service", link)
    # No systemd on the host side: no machined to register with, no scope to make.
    proc = subprocess.Popen(["systemd-nspawn", "--quiet", f"--directory={root}", "--boot",
                             "--private-network", "--register=no", "--keep-unit",
                             "--console=pipe"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        out, _ = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        stop_nspawn(proc)
        out = b""
    finally:
        stop_nspawn(proc)
        for path in (script, unit, link):
            os.unlink(path)
    assert os.path.exists(result), "the boot check did not run:\n" + out.decode(errors="replace")
    with open(result) as f:
        text = f.read()
    os.unlink(result)
    print("\nunder systemd:\n" + text)
    for line in ("up=1", "user=outpost", "reload=active", "Result=success", "ExecMainStatus=0",
                 "NRestarts=0"):
        assert re.search(rf"^{line}$", text, re.M), f"{line} missing:\n{text}"
    journal = text.split("--- journal", 1)[1]
    assert 'msg="configuration reloaded"' in journal and "msg=stopped" in journal, journal
    assert "level=warn" not in journal and "level=error" not in journal, journal
    assert not mounts_under(root)


def test_purge_removes_everything(installed):
    """Last: purge removes the program, the unit, its enablement and the
    conffiles, outpost.yml although the run above edited it."""
    root, _ = installed
    chroot(root, "apt-get", "purge", "-y", "-q", "outpost")
    for path in ("usr/bin/outpost", "lib/systemd/system/outpost.service",
                 "etc/systemd/system/multi-user.target.wants/outpost.service",
                 "etc/outpost", "etc/default/outpost", "var/lib/outpost",
                 "usr/share/outpost", "usr/share/man/man1/outpost.1.gz"):
        assert not os.path.lexists(os.path.join(root, path)), path
    r = chroot(root, "dpkg-query", "-W", "-f=${db:Status-Abbrev}", "outpost", check=False)
    assert r.returncode != 0 or r.stdout.strip() in ("", "un"), r.stdout
