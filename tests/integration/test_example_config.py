"""config/example.yml shows every option docs/configuration.md documents,
and the agent accepts it.

The documented keys are read from the reference's key tables: a table whose
first header cell is `key`, under a heading that is a section name in
backticks (## `checks`, and ### `expect` inside it). Each backticked name in
a row's first cell is a key path relative to its section (`tls.ca_file` is
`ca_file` under `tls`). The example's keys are collected by walking its YAML
tree with list items flattened, so a key counts when any entry of a list has
it (two SLOs can show `period` and `calendar`, which exclude each other)."""
import os
import re
import subprocess

import yaml

from conftest import AGENT_BIN

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DOC = os.path.join(ROOT, "docs", "configuration.md")
EXAMPLE = os.path.join(ROOT, "config", "example.yml")

HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*$")
SECTION = re.compile(r"^`([a-z_][a-z0-9_.]*)`$")
KEY = re.compile(r"`([a-z_][a-z0-9_.]*)`")

# Keys below these paths are not option names but values: request and
# expected header names, SLO labels, external labels, JSON expectation
# items and basic-auth fields (documented in the tables' prose). A flow's
# steps have the same, their capture names, and expectations documented
# once under ### `expect`.
FREE = ("checks.headers.", "checks.expect.headers.", "slos.labels.",
        "alerting.external_labels.", "checks.expect.json.", "checks.basic_auth.",
        "checks.steps.headers.", "checks.steps.basic_auth.", "checks.steps.capture.",
        "checks.steps.expect.", "checks.metadata.",
        # A module's prober settings are blackbox_exporter's keys
        # (blackbox-migration.md), not this reference's.
        "modules.http.", "modules.tcp.", "modules.dns.", "modules.icmp.", "modules.grpc.")


def documented_keys(text):
    """{key path: doc line} from the key tables of configuration.md."""
    keys = {}
    stack = []  # (level, section name or None)
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        m = HEADING.match(line)
        if m:
            level = len(m.group(1))
            while stack and stack[-1][0] >= level:
                stack.pop()
            s = SECTION.match(m.group(2))
            stack.append((level, s.group(1) if s else None))
            i += 1
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0] == "key":
            assert i + 1 < len(lines) and lines[i + 1].startswith("|---"), \
                f"configuration.md:{i + 1}: a key table needs its separator line"
            assert stack and any(name for _, name in stack), \
                f"configuration.md:{i + 1}: a key table must sit under a `section` heading"
            # Nested headings add their section: ## `checks` > ### `expect`; a
            # heading that is not a section name (### Keys of `type: dns`) adds none.
            prefix = ".".join(name for _, name in stack if name)
            i += 2
            while i < len(lines) and lines[i].startswith("|"):
                first = lines[i].strip().strip("|").split("|")[0]
                names = KEY.findall(first)
                assert names, f"configuration.md:{i + 1}: a key row names no `key`"
                for k in names:
                    keys[f"{prefix}.{k}"] = i + 1
                i += 1
            continue
        i += 1
    return keys


def example_keys(node, path=""):
    """Every key path of a YAML tree, list items flattened."""
    out = set()
    if isinstance(node, dict):
        for k, v in node.items():
            p = f"{path}.{k}" if path else str(k)
            out.add(p)
            out |= example_keys(v, p)
    elif isinstance(node, list):
        for item in node:
            out |= example_keys(item, path)
    return out


def canonical(path):
    """A canary's inline arm is a check spec: its keys are checks' keys.
    modules: is a map of names, so modules.NAME.KEY is the key modules.KEY."""
    for arm in ("canaries.baseline.", "canaries.canary."):
        if path.startswith(arm):
            return "checks." + path[len(arm):]
    if path.startswith("modules."):
        parts = path.split(".", 2)
        return "modules" if len(parts) < 3 else "modules." + parts[2]
    return path


def missing_keys(doc_text, example_text):
    documented = documented_keys(doc_text)
    have = {canonical(p) for p in example_keys(yaml.safe_load(example_text))}
    return sorted(k for k in documented if k not in have)


def undocumented_keys(doc_text, example_text):
    documented = set(documented_keys(doc_text))
    out = []
    for p in sorted(example_keys(yaml.safe_load(example_text))):
        c = canonical(p)
        if c in documented or c in ("global", "checks", "slos", "canaries", "alerting", "modules"):
            continue
        if any(c.startswith(f) for f in FREE):
            continue
        # A map key whose children are documented (`tls` for `tls.ca_file`).
        if any(d.startswith(c + ".") for d in documented):
            continue
        out.append(p)
    return out


def read(path):
    with open(path) as f:
        return f.read()


def test_doc_tables_parse():
    """The reference has the sections and keys this test relies on, so a
    change of its format cannot make the check below vacuous."""
    keys = documented_keys(read(DOC))
    sections = {k.rsplit(".", 1)[0] for k in keys}
    assert {"global", "global.alert", "global.retry", "checks", "checks.tls", "checks.expect",
            "checks.steps", "checks.steps.tls", "slos", "slos.sli", "slos.sli.latency",
            "slos.policy", "canaries", "alerting"} <= sections
    for k in ("global.interval", "checks.url", "checks.tls.server_name",
              "checks.tls.cert_file", "checks.tls.key_file", "checks.retry.delay",
              "checks.expect.max_duration", "slos.sli.latency.threshold", "slos.calendar",
              "canaries.baseline_check", "canaries.canary_check",
              "alerting.cert_expiry_warning", "checks.steps", "checks.steps.capture",
              "checks.steps.always_run", "checks.steps.url", "checks.steps.tls.key_file"):
        assert k in keys, k
    # The failure reasons table lists reasons, not keys.
    assert "checks.timeout" in keys and not any(k.endswith((".dns", ".http_status"))
                                                for k in keys if k != "modules.dns")


def test_example_shows_every_documented_key():
    assert missing_keys(read(DOC), read(EXAMPLE)) == []


def test_example_keys_are_documented():
    assert undocumented_keys(read(DOC), read(EXAMPLE)) == []


def test_missing_key_is_named():
    """The check can fail, and says which key: drop a key from the example
    and it is named, by its path."""
    text = read(EXAMPLE)
    assert "      server_name: " in text and "  cert_expiry_warning: " in text
    dropped = "\n".join(line for line in text.splitlines()
                        if not line.startswith(("      server_name: ",
                                                "  cert_expiry_warning: ")))
    assert missing_keys(read(DOC), dropped) == ["alerting.cert_expiry_warning",
                                                "checks.tls.server_name"]
    # A key documented but present only inside a canary arm still counts
    # for checks (arms are check specs), and one documented nowhere is named.
    doc = read(DOC) + "\n## `extra`\n\n| key | default | meaning |\n|---|---|---|\n" \
                      "| `knob`, `dial.size` | 1 | made up |\n"
    assert missing_keys(doc, read(EXAMPLE)) == ["extra.dial.size", "extra.knob"]
    assert undocumented_keys(read(DOC), read(EXAMPLE) + "\nextra: {knob: 1}\n") == [
        "extra", "extra.knob"]


def test_example_lints_as_shipped():
    """The example as shipped passes the CI lint: its secrets and TLS files do not exist
    here, and --config.skip-secrets checks neither."""
    r = subprocess.run([AGENT_BIN, "--config.check", "--config.skip-secrets",
                        f"--config.file={EXAMPLE}"], capture_output=True, text=True, timeout=30)
    assert (r.returncode, r.stderr) == (0, ""), r.stderr
    doc = yaml.safe_load(read(EXAMPLE))
    n_checks = len(doc["checks"]) + sum(
        ("baseline" in c) + ("canary" in c) for c in doc["canaries"])
    assert r.stdout == (f"{EXAMPLE}: OK, {n_checks} checks, {len(doc['slos'])} SLOs "
                        "(secret references not resolved)\n")
    # Without --config.skip-secrets the missing TLS files are errors.
    r = subprocess.run([AGENT_BIN, "--config.check", f"--config.file={EXAMPLE}"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "tls.ca_file: cannot read" in r.stderr, r.stderr


def test_example_loads(tmp_path, certs):
    """The agent accepts the example as shipped, without its secrets (files
    it names stand in for by certificates made here)."""
    text = read(EXAMPLE)
    paths = re.findall(r"(?:ca_file|cert_file|key_file): (\S+)", text)
    assert paths, "the example names no TLS files"
    for p in set(paths):
        src = certs[1] if "key" in os.path.basename(p) else certs[0]
        text = text.replace(p, src)
    ex = tmp_path / "example.yml"
    ex.write_text(text)
    r = subprocess.run([AGENT_BIN, "--config.check", "--config.skip-secrets",
                        f"--config.file={ex}"], capture_output=True, text=True, timeout=30)
    assert (r.returncode, r.stderr) == (0, ""), r.stderr
    doc = yaml.safe_load(text)
    n_checks = len(doc["checks"]) + sum(
        ("baseline" in c) + ("canary" in c) for c in doc["canaries"])
    assert r.stdout == (f"{ex}: OK, {n_checks} checks, {len(doc['slos'])} SLOs "
                        "(secret references not resolved)\n")
