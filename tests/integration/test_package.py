"""The systemd unit and the configuration the package installs.

Only the normal pass runs these tests: the sanitizer pass builds no package.
"""
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


