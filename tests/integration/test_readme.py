"""The README's "First hour" set-ups, run as written: every marked block is
taken from README.md, the outpost files pass --config.check with the counts
the README implies, the API set-up runs against the test target and exports
both SLOs, the canary set-up answers the Flagger webhooks of the README's
Canary as documented, and the blackbox_exporter set-up's modules and scrape
configurations work with promtool, the agent and a real Prometheus. Only
addresses are rewritten (example hosts to the loopback target and agent).
What the demo paragraph points at exists in config/demo.yml."""
import itertools
import json
import os
import re
import subprocess
import urllib.parse

import pytest
import yaml

from conftest import AGENT_BIN, free_closed_port, http, parse_metrics, wait_for
from conftest import prometheus_query as query

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
README = os.path.join(ROOT, "README.md")
RULES = os.path.join(ROOT, "rules", "outpost.rules.yml")
MARKERS = ["api-slo", "api-prometheus", "canary", "flagger", "blackbox-modules",
           "blackbox-before", "blackbox-after"]
# The keys of Flagger's webhook payload (pkg/canary: CanaryWebhookPayload).
FLAGGER_KEYS = {"name", "namespace", "phase", "checksum", "metadata"}


def section():
    """The text of README.md's "First hour" section."""
    with open(README) as f:
        text = f.read()
    m = re.search(r"^## First hour\n(.*?)(?=^## )", text, re.S | re.M)
    assert m, "README.md has no '## First hour' section"
    return m.group(1)


def blocks():
    """{marker: yaml text}: each marker comment is followed by one non-empty
    ```yaml block; every expected marker is there once, and no other."""
    text = section()
    found = re.findall(r"<!-- first-hour: ([a-z-]+) -->", text)
    assert sorted(found) == sorted(MARKERS), found
    out = {}
    for name in MARKERS:
        m = re.search(r"<!-- first-hour: " + re.escape(name) + r" -->\n```yaml\n(.*?)^```$",
                      text, re.S | re.M)
        assert m, f"marker {name} is not followed by a ```yaml block"
        body = m.group(1)
        assert yaml.safe_load(body), f"block {name} is empty"
        out[name] = body
    return out


def replace_once(text, old, new):
    """text with old replaced by new; old must occur exactly once, so the test
    fails visibly when the README's block changes under it."""
    assert text.count(old) == 1, (old, text)
    return text.replace(old, new)


def config_check(path, *extra):
    r = subprocess.run([AGENT_BIN, "--config.check", f"--config.file={path}", *extra],
                       capture_output=True, text=True)
    return r.returncode, r.stdout, r.stderr


def promtool_check_config(path):
    r = subprocess.run(["promtool", "check", "config", str(path)], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f" SUCCESS: {path} is valid prometheus config file syntax\n" in r.stdout, r.stdout
    return r.stdout


@pytest.fixture
def prometheus(prometheus_server):
    """start(config text): prometheus_server with the configurations numbered."""
    n = itertools.count()
    return lambda config: prometheus_server(config, str(next(n)))


def test_every_block_is_there():
    b = blocks()
    assert set(b) == set(MARKERS)


def test_demo_paragraph_names_the_demo():
    """What the demo paragraph tells a newcomer to look at exists in the demo's
    configuration: the check whose certificate nobody trusts, and the canary
    whose Argo gate answers fail."""
    text = section()
    with open(os.path.join(ROOT, "config", "demo.yml")) as f:
        demo = yaml.safe_load(f)
    assert "`OutpostCheckDown`\nfor `tls-untrusted`" in text
    (tls,) = [c for c in demo["checks"] if c["name"] == "tls-untrusted"]
    assert tls["url"].startswith("https://") and "tls" not in tls
    assert "<http://127.0.0.1:9469/gates/argo/api-rollout>" in text
    (canary,) = [c for c in demo["canaries"] if c["name"] == "api-rollout"]
    assert (canary["baseline"]["url"], canary["canary"]["url"]) == \
        ("http://127.0.0.1:18080/stable", "http://127.0.0.1:18080/canary")


# ---- Probe your API with an SLO ----

def test_api_slo(tmp_path, agent_factory, target, prometheus):
    b = blocks()
    api = tmp_path / "api.yml"
    api.write_text(b["api-slo"])
    assert config_check(api) == (0, f"{api}: OK, 1 checks, 2 SLOs\n", "")
    assert "outpost --config.check --config.file=api.yml\n" in section()

    # The README's hosts become the target's JSON document and an Alertmanager
    # port where nothing listens (no alert fires while the check is up).
    cfg = replace_once(b["api-slo"], "https://api.example.com/healthz", target.url("/json"))
    cfg = replace_once(cfg, "http://alertmanager.example.com:9093",
                       f"http://127.0.0.1:{free_closed_port()}")
    a = agent_factory(cfg)
    # The first probe comes within one interval (10s) of the start.
    a.wait_value("outpost_check_up", lambda v: v == 1, timeout=20, check="api-health")
    a.wait_value("outpost_slo_events_total", lambda v: v >= 1, timeout=20,
                 slo="api-latency")
    m = a.metrics()

    def v(name, **labels):
        return m.get((name, frozenset(labels.items())))
    # Every probe passed the README's expectations.
    assert sum(val for (n, labels), val in m.items()
               if n == "outpost_check_failures_total" and ("check", "api-health") in labels) == 0
    for slo, sli, percent, objective in (("api-availability", "availability", "99.9", 0.999),
                                         ("api-latency", "latency", "99", 0.99)):
        assert v("outpost_slo_info", slo=slo, sli=sli, period="30d", objective=percent) == 1
        assert v("outpost_slo_objective_ratio", slo=slo) == objective
        assert v("outpost_slo_period_seconds", slo=slo) == 30 * 86400
        # 30 days of one probe every 10 s.
        assert v("outpost_slo_expected_events", slo=slo) == 259200
        assert v("outpost_slo_bad_events_total", slo=slo) == 0
        assert v("outpost_slo_error_budget_remaining_ratio", slo=slo) == 1
        for severity in ("page", "ticket"):
            assert v("outpost_slo_alert_firing", slo=slo, severity=severity) == 0
    assert v("outpost_slo_events_total", slo="api-availability") >= 1
    # The README's curl | grep shows the check up and both budgets whole.
    g = re.search(r"^ +curl -s localhost:9469/metrics \| grep -E '(.*)'$", section(), re.M)
    assert g, "no curl of /metrics in the First hour section"
    shown = [line for line in a.scrape_text().splitlines() if re.search(g.group(1), line)]
    assert sorted(shown) == [
        'outpost_check_up{check="api-health"} 1',
        'outpost_slo_error_budget_remaining_ratio{slo="api-availability"} 1',
        'outpost_slo_error_budget_remaining_ratio{slo="api-latency"} 1'], shown

    # Prometheus: the README's file checks with the rules in place, and a real
    # Prometheus scraping the agent loads them and sees it up.
    doc = yaml.safe_load(b["api-prometheus"])
    job = doc["scrape_configs"][0]
    assert re.fullmatch("outpost.*", job["job_name"])
    # The agent's alerts carry the instance Prometheus scrapes it under.
    instance = yaml.safe_load(b["api-slo"])["alerting"]["external_labels"]["instance"]
    assert job["static_configs"][0]["targets"] == [instance]
    prom = replace_once(b["api-prometheus"], "/etc/prometheus/outpost.rules.yml", RULES)
    path = tmp_path / "prometheus.yml"
    path.write_text(prom)
    out = promtool_check_config(path)
    with open(RULES) as f:
        n_rules = sum(len(g["rules"]) for g in yaml.safe_load(f)["groups"])
    assert f"Checking {RULES}\n  SUCCESS: {n_rules} rules found\n" in out, out
    prom = replace_once(prom, '"alertmanager.example.com:9093"',
                        f'"127.0.0.1:{free_closed_port()}"')
    prom = replace_once(prom, f'"{instance}"', f'"127.0.0.1:{a.port}"')
    base = prometheus("global: {scrape_interval: 1s, evaluation_interval: 1s}\n" + prom)
    got = wait_for(lambda: query(base, 'up{job="outpost"} == 1'), timeout=30,
                   what="Prometheus to scrape the agent")
    assert got[0]["metric"]["instance"] == f"127.0.0.1:{a.port}"
    st, _, body = http("GET", base + "/api/v1/rules")
    names = {r["name"] for g in json.loads(body)["data"]["groups"] for r in g["rules"]}
    assert "OutpostAgentDown" in names and "OutpostAlertmanagerSendsFailing" in names


# ---- Judge a canary for Flagger ----

def test_canary_flagger(tmp_path, agent_factory, target):
    b = blocks()
    path = tmp_path / "canary.yml"
    path.write_text(b["canary"])
    # The two arms are checks of their own (podinfo/baseline, podinfo/canary).
    assert config_check(path) == (0, f"{path}: OK, 2 checks, 0 SLOs\n", "")
    assert "outpost --config.check --config.file=canary.yml\n" in section()
    (name,) = [c["name"] for c in yaml.safe_load(b["canary"])["canaries"]]

    # The Canary resource parses, and each webhook names the gate of that
    # canary with the hook of its type.
    canary = yaml.safe_load(b["flagger"])
    assert canary["apiVersion"] == "flagger.app/v1beta1" and canary["kind"] == "Canary"
    hooks = canary["spec"]["analysis"]["webhooks"]
    calls = []
    for w in hooks:
        u = urllib.parse.urlsplit(w["url"])
        assert (u.scheme, u.hostname, u.port) == ("http", "outpost.monitoring", 9469), w
        assert u.path == f"/gates/flagger/{name}", w
        assert urllib.parse.parse_qs(u.query) == {"hook": [w["type"]]}, w
        calls.append(u.path + "?" + u.query)
    assert [w["type"] for w in hooks] == ["rollout", "confirm-promotion", "rollback"]

    # The README's curl sends Flagger's payload for this Canary, to the
    # rollout webhook's path.
    m = re.search(r"curl -i -X POST -d '(\{.*?\})' \\\n\s+'http://localhost:9469(/\S+)'",
                  section())
    assert m, "no curl of the Flagger gate in the First hour section"
    payload = json.loads(m.group(1))
    assert set(payload) <= FLAGGER_KEYS and "checksum" in payload
    assert payload["name"] == canary["metadata"]["name"]
    assert payload["namespace"] == canary["metadata"]["namespace"]
    assert m.group(2) == calls[0]

    cfg = replace_once(b["canary"], "http://podinfo-primary.test:9898/", target.url("/stable"))
    cfg = replace_once(cfg, "http://podinfo-canary.test:9898/", target.url("/canary"))
    a = agent_factory(cfg)
    for arm in ("baseline", "canary"):
        a.wait_value("outpost_check_runs_total", lambda v: v >= 1, timeout=10,
                     check=f"{name}/{arm}")

    # A new checksum resets the samples, so the first answer is the one the
    # README quotes; the others follow within the same revision, with the
    # samples of however long a loaded machine took between the calls.
    body = json.dumps(payload).encode()
    st, _, text = http("POST", a.base + calls[0], data=body)
    assert (st, text) == (412, b"inconclusive: 0 baseline and 0 canary samples, "
                               b"50 per arm needed\n")
    quoted = re.search(r"412 `(inconclusive: [^`]*)`", section())
    assert quoted and " ".join(quoted.group(1).split()) + "\n" == text.decode()
    st, _, text = http("POST", a.base + calls[1], data=body)
    assert st == 412 and re.fullmatch(
        rb"inconclusive: [0-9]+ baseline and [0-9]+ canary samples, 50 per arm needed\n", text), text
    st, _, text = http("POST", a.base + calls[2], data=body)
    assert st == 412 and re.fullmatch(
        rb"no significant failure, inconclusive: [0-9]+ baseline and [0-9]+ canary samples, "
        rb"50 per arm needed\n", text), text
    # The whole judgement, as the README says, from the Argo gate.
    st, _, text = http("GET", a.base + f"/gates/argo/{name}")
    doc = json.loads(text)
    assert st == 200 and doc["canary"] == name and doc["verdict"] == "inconclusive"
    assert f"curl localhost:9469/gates/argo/{name}`" in section()


# ---- Replace a blackbox_exporter job ----

def test_blackbox(tmp_path, agent_factory, target, prometheus):
    b = blocks()
    text = section()
    modules = tmp_path / "blackbox.yml"
    modules.write_text(b["blackbox-modules"])
    m = re.search(r"^ +echo '(.*)' > outpost\.yml$", text, re.M)
    assert m, "no minimal outpost.yml in the First hour section"
    minimal = tmp_path / "outpost.yml"
    minimal.write_text(m.group(1) + "\n")
    assert config_check(minimal, f"--modules.file={modules}") == \
        (0, f"{minimal}: OK, 0 checks, 0 SLOs\n", "")
    assert ("outpost --config.check --config.file=outpost.yml "
            "--modules.file=/etc/prometheus/blackbox.yml\n") in text

    # Before and after differ in the agent's address only, and both are what
    # Prometheus accepts.
    before, after = b["blackbox-before"], b["blackbox-after"]
    assert after == replace_once(before, "replacement: blackbox-exporter:9115",
                                 "replacement: outpost:9469")
    for name, body in (("before", before), ("after", after)):
        path = tmp_path / f"prometheus-{name}.yml"
        path.write_text(body)
        promtool_check_config(path)

    # The agent on the README's files answers the README's /probe call
    # (the example target rewritten to the test target), and every module
    # probes the target.
    a = agent_factory(m.group(1) + "\n", extra_args=[f"--modules.file={modules}"])
    probe = re.search(
        r"curl 'localhost:9469/probe\?module=(\w+)&target=https://www\.example\.com/'", text)
    assert probe, "no /probe curl in the First hour section"
    assert probe.group(1) in yaml.safe_load(b["blackbox-modules"])["modules"]
    for module, tgt in ((probe.group(1), target.url("/ok")),
                        ("tcp_connect", f"127.0.0.1:{target.port}")):
        st, _, body = http("GET", a.base + "/probe?" + urllib.parse.urlencode(
            {"module": module, "target": tgt}))
        got = parse_metrics(body.decode())
        assert st == 200 and got[("probe_success", frozenset())] == 1, body
    assert got.get(("probe_http_status_code", frozenset())) is None
    st, _, body = http("GET", a.base + "/probe?" + urllib.parse.urlencode(
        {"module": probe.group(1), "target": target.url("/ok")}))
    assert parse_metrics(body.decode())[("probe_http_status_code", frozenset())] == 200

    # A real Prometheus with the "after" job, its targets and the agent's
    # address on loopback: the relabelling sends each target to the agent.
    after_here = replace_once(after, "[https://www.example.com/, https://api.example.com/healthz]",
                              f"['{target.url('/ok')}', '{target.url('/status/503')}']")
    after_here = replace_once(after_here, "outpost:9469", f"127.0.0.1:{a.port}")
    base = prometheus("global: {scrape_interval: 1s}\n" + after_here)
    res = wait_for(lambda: (lambda r: r if r and len(r) == 2 else None)(
        query(base, 'probe_success{job="blackbox"}')), timeout=30,
        what="Prometheus to scrape both targets through the agent")
    assert {r["metric"]["instance"]: r["value"][1] for r in res} == \
        {target.url("/ok"): "1", target.url("/status/503"): "0"}
