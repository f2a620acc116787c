"""The Debian package (`make deb`): its unit, its configuration, the .deb.

Only the normal pass runs these tests: the sanitizer pass builds no package.
"""
import glob
import os
import re
import subprocess

import pytest

from conftest import BUILD

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("OUTPOST_SANITIZED")),
    reason="the package is built and tested in the normal pass only")

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD_DIR = os.path.abspath(BUILD)
UNIT = os.path.join(SRC, "packaging", "systemd", "outpost.service")
# systemd-analyze security rates an exposure below 5.0 "OK" (MEDIUM from 5.0).
OK_EXPOSURE = 4.9


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


