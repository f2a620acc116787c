"""Validation as a user or a CI step runs it: --config.check with and
without --config.skip-secrets on the configurations the project ships, the
messages a slip in a config gets, and the exit codes of `outpost canary
judge`."""
import os
import re
import subprocess
import textwrap

from conftest import AGENT_BIN, http

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
    assert r.stderr == (f"{cfg}:{at}: checks[0] \"api-health\".headers.Authorization: cannot "
                        "read /etc/outpost/token: No such file or directory\n")


def example_with_tls_files(tmp_path, certs):
    """The example with the TLS files it names (which must exist, secrets
    or not) replaced by certificates made for the test."""
    with open(EXAMPLE) as f:
        text = f.read()
    for name, src in (("ca.pem", certs[0]), ("client.pem", certs[0]),
                      ("client-key.pem", certs[1])):
        assert f"/etc/outpost/{name}" in text
        text = text.replace(f"/etc/outpost/{name}", src)
    ex = tmp_path / "example.yml"
    ex.write_text(text)
    return str(ex)


def test_example_config_lints_without_secrets(tmp_path, certs):
    assert not os.path.exists("/etc/outpost/admin-password")
    EXAMPLE = example_with_tls_files(tmp_path, certs)
    env = env_without("ORDERS_API_TOKEN", "PROBE_PASSWORD", "CART_TOKEN")
    r = check(EXAMPLE, "--config.skip-secrets", env=env)
    assert (r.returncode, r.stderr) == (0, "")
    assert r.stdout == f"{EXAMPLE}: OK, 14 checks, 3 SLOs (secret references not resolved)\n"
    # The flag may come first too.
    r = subprocess.run([AGENT_BIN, "--config.skip-secrets", "--config.check",
                        f"--config.file={EXAMPLE}"], capture_output=True, text=True, env=env)
    assert r.returncode == 0
    # Without it, the unset variable and the missing file are errors.
    r = check(EXAMPLE, env=env)
    assert r.returncode == 1 and r.stdout == ""
    token = where(EXAMPLE, "${env:ORDERS_API_TOKEN}")
    password = where(EXAMPLE, "${file:/etc/outpost/admin-password}")
    # The flow's steps: the login's body, and credentials written quoted there.
    body = where(EXAMPLE, "'{\"user\":\"probe\",\"password\":\"${env:PROBE_PASSWORD}\"}'")
    step_token = where(EXAMPLE, '"${env:ORDERS_API_TOKEN}"')
    step_password = where(EXAMPLE, '"${file:/etc/outpost/admin-password}"')
    cart = where(EXAMPLE, "Bearer ${env:CART_TOKEN}")
    assert r.stderr == (
        f"{EXAMPLE}:{token}: checks[1] \"orders-api\".bearer_token: environment variable "
        "ORDERS_API_TOKEN is not set\n"
        f"{EXAMPLE}:{password}: checks[2] \"admin-health\".basic_auth.password: cannot read "
        "/etc/outpost/admin-password: No such file or directory\n"
        f"{EXAMPLE}:{body}: checks[5] \"checkout-flow\".steps[0] \"login\".body: environment "
        "variable PROBE_PASSWORD is not set\n"
        f"{EXAMPLE}:{step_token}: checks[5] \"checkout-flow\".steps[2] \"stock\".bearer_token: environment variable "
        "ORDERS_API_TOKEN is not set\n"
        f"{EXAMPLE}:{step_password}: checks[5] \"checkout-flow\".steps[3] \"audit\".basic_auth.password: cannot read "
        "/etc/outpost/admin-password: No such file or directory\n"
        f"{EXAMPLE}:{cart}: checks[10] \"cart-grpc\".metadata.authorization: environment variable CART_TOKEN "
        "is not set\n")


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
        f"{cfg}:4:19: checks[0] \"a\".bearer_token: unknown reference (use ${{env:NAME}} or "
        "${file:PATH})\n"
        f"{cfg}:5:20: checks[0] \"a\".headers.X-A: unknown reference (use ${{env:NAME}} or "
        "${file:PATH})\n"
        f"{cfg}:5:36: checks[0] \"a\".headers.X-B: unterminated \"${{\" reference (write \"$${{\" for "
        "a literal)\n")


def test_canary_judge_exit_codes(tmp_path):
    """0 pass, 1 fail, 3 inconclusive, 2 usage, 4 bad input: a CI step gates
    on the code alone."""
    b, c, cfg = tmp_path / "b.txt", tmp_path / "c.txt", tmp_path / "c.yml"
    b.write_text("".join(f"{0.010 + i * 0.0001!r}\n" for i in range(60)))
    cfg.write_text(textwrap.dedent("""\
        checks: [{name: a, url: "http://127.0.0.1:1/"}]
        canaries: [{name: k, baseline_check: a, canary_check: a}]
        """))

    def judge(canary_lines, *extra):
        c.write_text(canary_lines)
        return subprocess.run([AGENT_BIN, "canary", "judge", "--baseline", str(b),
                               "--canary", str(c), *extra], capture_output=True, text=True)
    same = b.read_text()
    for lines, code, verdict in ((same, 0, "pass"),
                                 ("0.010,fail\n" * 60, 1, "fail"),
                                 (same.split("\n", 1)[0] + "\n", 3, "inconclusive")):
        r = judge(lines)
        assert r.returncode == code and r.stderr == "", (verdict, r.returncode, r.stderr)
        assert f'"verdict":"{verdict}"' in r.stdout
    for extra, why in ((["--config.file", str(cfg), "--canary-name", "nope"],
                        f'{cfg}: no canary named "nope"\n'),
                       (["--config.file", str(tmp_path / "none.yml"), "--canary-name", "k"],
                        f"{tmp_path}/none.yml: cannot open: No such file or directory\n")):
        r = judge(same, *extra)
        assert (r.returncode, r.stdout, r.stderr) == (4, "", why)
    r = judge("0.1,maybe\n")
    assert (r.returncode, r.stdout, r.stderr) == (
        4, "", f"{c}:1: the second field must be ok or fail\n")
    b.unlink()
    r = judge(same)
    assert (r.returncode, r.stdout, r.stderr) == (
        4, "", f"{b}: cannot read: No such file or directory\n")
    r = subprocess.run([AGENT_BIN, "canary", "judge", "--canary", str(c)], capture_output=True,
                       text=True)
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr == ("outpost canary judge: --baseline and --canary are required "
                        "(see outpost canary judge --help)\n")
    r = subprocess.run([AGENT_BIN, "canary", "judge", "--bogus"], capture_output=True, text=True)
    assert r.returncode == 2


def test_unknown_key_hint(tmp_path):
    cfg = tmp_path / "hint.yml"
    cfg.write_text("checks:\n  - name: a\n    url: http://x/\n    intervall: 5s\n    bogus: 1\n")
    r = check(cfg)
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr == (f'{cfg}:4:5: checks[0] "a": unknown key "intervall" (did you mean '
                        '"interval"?)\n'
                        f'{cfg}:5:5: checks[0] "a": unknown key "bogus"\n')


def test_objective_hint(tmp_path):
    cfg = tmp_path / "slo.yml"
    cfg.write_text(textwrap.dedent("""\
        checks: [{name: a, url: "http://x/"}]
        slos:
          - {name: s, objective: 0.999, sli: {checks: [a]}}
          - {name: t, objective: 1, sli: {checks: [a]}}
        """))
    r = check(cfg)
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr == (f'{cfg}:3:26: slos[0] "s".objective: "0.999" is 0.999 %: objective is a '
                        'percentage, not a ratio (did you mean 99.9?)\n')


def test_alertmanager_api_path(tmp_path):
    cfg = tmp_path / "am.yml"
    cfg.write_text("checks: []\nalerting:\n  alertmanagers:\n"
                   "    - http://am-0:9093/api/v2/alerts/\n    - http://am-1:9093\n")
    r = check(cfg)
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr == (f"{cfg}:4:7: alerting.alertmanagers[0]: ends in /api/v2/alerts, which "
                        "the agent appends itself: give the Alertmanager's base URL\n")


# A key indented one space less than the others of its list item.
SLIP = "checks:\n  - name: a\n   url: http://127.0.0.1:9/\n"


def slip_error(path):
    return (f"{path}:3:4: wrong indentation: \"url\" starts at column 4, but \"name\" above it "
            "(line 2) starts at column 5 (YAML: did not find expected '-' indicator)\n"
            "    3 |    url: http://127.0.0.1:9/\n"
            "      |    ^\n")


def test_yaml_syntax_error_shows_the_line(tmp_path):
    cfg = tmp_path / "b.yml"
    cfg.write_text(SLIP)
    r = check(cfg)
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr == slip_error(cfg)


def test_yaml_syntax_error_in_reload_and_log(agent_factory):
    a = agent_factory("checks:\n  - name: a\n    url: http://127.0.0.1:9/\n",
                      extra_args=["--web.enable-lifecycle"])
    a.write_config(SLIP)
    st, _, body = http("POST", a.base + "/-/reload")
    assert (st, body.decode()) == (500, slip_error(a.config_path))
    # One record for the one problem: the shown line and the caret ride
    # along in its err value.
    want = ('level=error msg="reload failed, keeping the running configuration" err="'
            + slip_error(a.config_path).rstrip("\n").replace('"', '\\"').replace("\n", "\\n")
            + '"\n')
    records = [line.split(" ", 1)[1] + "\n" for line in a.logs().splitlines()
               if "reload failed" in line]
    assert records == [want]
