"""Validation as a user runs it: --config.check with and without
--config.skip-secrets on the configurations the project ships, and the
messages a slip in a config gets."""
import os
import re
import subprocess
import textwrap

from conftest import AGENT_BIN

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EXAMPLE = os.path.join(ROOT, "config", "example.yml")


def check(path, *flags, env=None):
    return subprocess.run([AGENT_BIN, "--config.check", *flags, f"--config.file={path}"],
                          capture_output=True, text=True, env=env, timeout=30)


def env_without(*names):
    return {k: v for k, v in os.environ.items() if k not in names}


def where(path, needle):
    """"LINE:COLUMN" (1-based) of the first occurrence of needle in the file."""
    with open(path) as f:
        for no, line in enumerate(f, 1):
            if needle in line:
                return f"{no}:{line.index(needle) + 1}"
    raise AssertionError(f"{needle!r} not in {path}")


def readme_config():
    """The YAML block under the README's "A configuration" heading."""
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    section = text.split("\n## A configuration\n", 1)[1]
    m = re.search(r"^```yaml\n(.*?)^```$", section, re.S | re.M)
    assert m, "README.md has no yaml block under ## A configuration"
    return m.group(1)


def test_readme_config_lints_without_secrets(tmp_path):
    cfg = tmp_path / "readme.yml"
    cfg.write_text(readme_config())
    # It reads its token from a file that does not exist here.
    assert "${file:/etc/outpost/token}" in cfg.read_text()
    assert not os.path.exists("/etc/outpost/token")
    r = check(cfg, "--config.skip-secrets")
    assert (r.returncode, r.stderr) == (0, "")
    assert r.stdout == f"{cfg}: OK, 1 checks, 0 SLOs (secret references not resolved)\n"
    r = check(cfg)
    assert r.returncode == 1 and r.stdout == ""
    at = where(cfg, '"Bearer ${file:/etc/outpost/token}"')
    assert r.stderr == (f"{cfg}:{at}: checks[0].headers.Authorization: cannot read "
                        "/etc/outpost/token: No such file or directory\n")


def test_example_config_lints_without_secrets():
    assert not os.path.exists("/etc/outpost/admin-password")
    env = env_without("ORDERS_API_TOKEN")
    r = check(EXAMPLE, "--config.skip-secrets", env=env)
    assert (r.returncode, r.stderr) == (0, "")
    assert r.stdout == f"{EXAMPLE}: OK, 3 checks, 0 SLOs (secret references not resolved)\n"
    # The flag may come first too.
    r = subprocess.run([AGENT_BIN, "--config.skip-secrets", "--config.check",
                        f"--config.file={EXAMPLE}"], capture_output=True, text=True, env=env)
    assert r.returncode == 0
    # Without it, the unset variable and the missing file are errors.
    r = check(EXAMPLE, env=env)
    assert r.returncode == 1 and r.stdout == ""
    token = where(EXAMPLE, "${env:ORDERS_API_TOKEN}")
    password = where(EXAMPLE, "${file:/etc/outpost/admin-password}")
    assert r.stderr == (
        f"{EXAMPLE}:{token}: checks[1].bearer_token: environment variable ORDERS_API_TOKEN is "
        "not set\n"
        f"{EXAMPLE}:{password}: checks[2].basic_auth.password: cannot read "
        "/etc/outpost/admin-password: No such file or directory\n")


def test_skip_secrets_needs_config_check():
    r = subprocess.run([AGENT_BIN, "--config.skip-secrets", f"--config.file={EXAMPLE}",
                        "--web.listen-address=127.0.0.1:0"], capture_output=True, text=True,
                       timeout=10)
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr == "outpost: --config.skip-secrets needs --config.check\n"
    r = subprocess.run([AGENT_BIN, "--help"], capture_output=True, text=True)
    assert "--config.skip-secrets" in r.stdout


def test_skip_secrets_still_parses_references(tmp_path):
    cfg = tmp_path / "refs.yml"
    cfg.write_text(textwrap.dedent("""\
        checks:
          - name: a
            url: https://${env:API_HOST}/healthz
            bearer_token: ${vault:api}
            headers: {X-A: "${env:}", X-B: "${file:/x"}
          - name: b
            url: ${env:API_URL}
        """))
    r = check(cfg, "--config.skip-secrets", env=env_without("API_HOST", "API_URL"))
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr == (
        f"{cfg}:4:19: checks[0].bearer_token: unknown reference (use ${{env:NAME}} or "
        "${file:PATH})\n"
        f"{cfg}:5:20: checks[0].headers.X-A: unknown reference (use ${{env:NAME}} or "
        "${file:PATH})\n"
        f"{cfg}:5:36: checks[0].headers.X-B: unterminated \"${{\" reference (write \"$${{\" for "
        "a literal)\n")
