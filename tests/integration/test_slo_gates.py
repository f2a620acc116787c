"""Gates from budgets (docs/governance.md): /gates/flagger/slo/{slo} and
/gates/argo/slo/{slo} answer from an SLO's live figures, a canary's gate_slos
holds its own gates while an SLO freezes, and the manifests of docs/canary.md
parse and reach these gates."""
import json
import os
import re
import textwrap
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml

from conftest import AGENT_BIN, http, parse_metrics, wait_for

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FLAGGER = {"name": "podinfo", "namespace": "test", "phase": "Progressing",
           "checksum": "5ca1ab1e", "metadata": {"type": "rollout"}}
# Without a checksum: a canary gate would reset its samples for a new one.
SAME_REVISION = {k: v for k, v in FLAGGER.items() if k != "checksum"}
ROLLOUT_HOOKS = ["rollout", "confirm-rollout", "confirm-promotion", "pre-rollout"]
HOOK_USAGE = b"hook must be rollout, confirm-rollout, confirm-promotion, pre-rollout or rollback\n"
PAGE = re.compile(r"^SLO fast: page alert firing \(burn ([0-9.]+)x over 1h and ([0-9.]+)x over "
                  r"6h\)\n$")
TOKEN = "tokS-5e1f00d2a7c4"


class Switch:
    """A target the test makes fail (500) and heal, on 127.0.0.1."""

    def __init__(self):
        self.healthy = True
        outer = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                code = 200 if outer.healthy else 500
                self.send_response(code)
                self.send_header("Content-Length", "3")
                self.end_headers()
                self.wfile.write(b"ok\n" if code == 200 else b"no\n")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def switch():
    s = Switch()
    yield s
    s.stop()


def gates_config(switch_url, target):
    # orders: 1 % of 432,000 probes a day may fail (4,320); its policy freezes
    # above 0.1 % of that, at 5 bad probes, a second of failures. Its page alert
    # needs more than 48 % of an hour's budget of 180 (87 bad): never here.
    # fast: 99.9 % over a day pages once the hour's bad probes pass 48 % of the
    # hour's budget of 18 (9 bad, two seconds); it has no policy. The timeout
    # leaves a healthy probe no way to fail.
    return textwrap.dedent(f"""\
        global: {{interval: 200ms, timeout: 190ms}}
        checks:
          - {{name: sw, url: "{switch_url}"}}
        slos:
          - name: orders
            objective: 99
            period: 1d
            sli: {{checks: [sw]}}
            policy: {{freeze_when_consumed: 0.001, over: 1d}}
          - name: fast
            objective: 99.9
            period: 1d
            sli: {{checks: [sw]}}
        canaries:
          - name: twin
            baseline: {{url: "{target.url('/sleep/5')}", timeout: 90ms}}
            canary: {{url: "{target.url('/sleep/5')}", timeout: 90ms}}
            interval: 100ms
            min_samples: 10
            latency_p95_margin: 3
            gate_slos: [orders]
          # The same arms, without gate_slos: a freeze holds only the canaries
          # that name the SLO.
          - name: free
            baseline_check: twin/baseline
            canary_check: twin/canary
            min_samples: 10
            latency_p95_margin: 3
        """)


def fmt(v):
    """The agent's numbers in reasons: %.3g, whole numbers from 1000 on."""
    return f"{v:.3g}" if abs(v) < 1000 else f"{v:.0f}"


def flagger(a, path, hook=None, body=FLAGGER, headers=None):
    url = a.base + path + (f"?hook={hook}" if hook else "")
    st, _, text = http("POST", url, data=json.dumps(body).encode(),
                       headers={"Content-Type": "application/json", **(headers or {})})
    return st, text.decode()


def argo(a, path, hook=None, headers=None):
    st, hdrs, body = http("GET", a.base + path + (f"?hook={hook}" if hook else ""),
                          headers=headers)
    assert st == 200 and hdrs["Content-Type"] == "application/json", (st, body)
    return json.loads(body)


def test_gates_follow_the_budget(agent_factory, target, switch):
    a = agent_factory(gates_config(switch.url, target))
    a.wait_value("outpost_canary_verdict", lambda v: v == 1, timeout=20, canary="twin",
                 verdict="pass")

    # ---- healthy: every rollout hook passes; the rollback hook refuses ----
    calm = ("SLO orders: 0 % of the error budget consumed over 1d (freeze at 0.1 %), no page "
            "alert firing\n")
    for hook in ROLLOUT_HOOKS + [None]:
        assert flagger(a, "/gates/flagger/slo/orders", hook) == (200, calm), hook
    assert flagger(a, "/gates/flagger/slo/fast", "rollback") == \
        (412, "SLO fast: no page alert firing\n")
    doc = argo(a, "/gates/argo/slo/orders")
    assert doc == {"slo": "orders", "verdict": "pass", "reason": calm.rstrip("\n"),
                   "freeze": False, "page_alert": False, "budget_remaining": 1,
                   "budget_consumed_policy_window": 0, "freeze_when_consumed": 0.001,
                   "burn_rate": {w: 0 for w in ["5m", "30m", "1h", "2h", "6h", "1d", "3d",
                                                "period"]}}
    doc = argo(a, "/gates/argo/slo/fast", "rollback")
    assert doc["verdict"] == "pass" and doc["reason"] == "SLO fast: no page alert firing"
    assert doc["budget_consumed_policy_window"] is None and doc["freeze_when_consumed"] is None
    assert flagger(a, "/gates/flagger/twin", None, body=SAME_REVISION) == (200, "pass: score 100\n")
    doc = argo(a, "/gates/argo/twin")
    assert doc["verdict"] == "pass" and doc["frozen_by"] == []

    # ---- a burst of failures: orders freezes, fast pages ----
    switch.healthy = False
    wait_for(lambda: argo(a, "/gates/argo/slo/orders")["freeze"] and
             argo(a, "/gates/argo/slo/fast")["page_alert"], timeout=15,
             what="orders to freeze and fast to page")
    switch.healthy = True
    # Probes of a check never overlap: once one succeeded, every later one
    # does, and the bad events stay as they are.
    a.wait_value("outpost_check_up", lambda v: v == 1, check="sw")

    before = a.metrics()

    def v(m, name, **labels):
        return m[(name, frozenset(labels.items()))]
    bad = v(before, "outpost_slo_bad_events_total", slo="orders")
    expected = v(before, "outpost_slo_expected_events", slo="orders")
    assert abs(expected - 432000) < 1e-6
    assert 5 <= bad < 87, bad
    # Every bad event of the agent's life lies in the policy's day.
    consumed = bad / (0.01 * expected)
    reason = (f"SLO orders: {fmt(100 * consumed)} % of the error budget consumed over 1d "
              "(freeze at 0.1 %)")
    doc = argo(a, "/gates/argo/slo/orders")
    after = a.metrics()
    assert doc["verdict"] == "fail" and doc["reason"] == reason
    assert doc["freeze"] is True and doc["page_alert"] is False
    assert doc["budget_consumed_policy_window"] == consumed
    assert doc["budget_remaining"] == 1 - consumed
    assert doc["budget_remaining"] == \
        v(before, "outpost_slo_error_budget_remaining_ratio", slo="orders") == \
        v(after, "outpost_slo_error_budget_remaining_ratio", slo="orders")
    assert v(after, "outpost_slo_policy_freeze", slo="orders") == 1
    # Good probes keep coming: the burn rate lies between those of the reads
    # before and after.
    ev0 = v(before, "outpost_slo_events_total", slo="orders")
    ev1 = v(after, "outpost_slo_events_total", slo="orders")
    assert v(after, "outpost_slo_bad_events_total", slo="orders") == bad
    for w, burn in doc["burn_rate"].items():
        assert bad / ev1 / 0.01 <= burn <= bad / ev0 / 0.01, (w, burn)
    for hook in ROLLOUT_HOOKS + [None]:
        assert flagger(a, "/gates/flagger/slo/orders", hook) == (412, reason + "\n"), hook
    # A freeze is no reason to roll back.
    assert flagger(a, "/gates/flagger/slo/orders", "rollback") == \
        (412, "SLO orders: no page alert firing\n")
    assert argo(a, "/gates/argo/slo/orders", "rollback")["verdict"] == "pass"

    # fast pages: every rollout hook fails, the rollback hook says roll back.
    for hook in ROLLOUT_HOOKS:
        st, text = flagger(a, "/gates/flagger/slo/fast", hook)
        assert st == 412 and PAGE.match(text), (hook, st, text)
    st, text = flagger(a, "/gates/flagger/slo/fast", "rollback")
    assert st == 200 and PAGE.match(text), text
    for hook in [None, "rollback"]:
        doc = argo(a, "/gates/argo/slo/fast", hook)
        assert doc["verdict"] == "fail" and PAGE.match(doc["reason"] + "\n"), doc
        assert doc["page_alert"] is True and doc["freeze"] is False
        assert doc["budget_consumed_policy_window"] is None
    fast_bad = v(after, "outpost_slo_bad_events_total", slo="fast")
    assert doc["budget_remaining"] == \
        1 - fast_bad / (0.001 * v(after, "outpost_slo_expected_events", slo="fast"))

    # ---- the canary naming orders is held; its statistics still pass ----
    frozen = f"frozen by {reason}"
    for hook in [None, "rollout", "confirm-promotion"]:
        assert flagger(a, "/gates/flagger/twin", hook, body=SAME_REVISION) == \
            (412, f"{frozen}; pass: score 100\n"), hook
    assert flagger(a, "/gates/flagger/twin", "rollback", body=SAME_REVISION) == \
        (412, "no significant failure, pass: score 100\n")
    doc = argo(a, "/gates/argo/twin")
    assert doc["verdict"] == "fail" and doc["reason"] == frozen
    assert doc["frozen_by"] == ["orders"] and doc["score"] == 100
    # (Identical arms: now and then one is significantly faster, "low", a pass.)
    assert doc["errors"]["result"] == "pass" and doc["latency"]["result"] in ("pass", "low")
    m = a.metrics()
    assert v(m, "outpost_canary_verdict", canary="twin", verdict="pass") == 1
    assert v(m, "outpost_canary_verdict", canary="twin", verdict="fail") == 0
    # The canary that does not name it passes.
    assert flagger(a, "/gates/flagger/free", None, body=SAME_REVISION) == (200, "pass: score 100\n")
    doc = argo(a, "/gates/argo/free")
    assert doc["verdict"] == "pass" and doc["frozen_by"] == []


def test_slo_gate_errors(agent_factory, target):
    a = agent_factory(textwrap.dedent(f"""\
        checks:
          - {{name: ok, url: "{target.url('/ok')}", interval: 1s}}
        slos:
          - {{name: orders, objective: 99, sli: {{checks: [ok]}}}}
        canaries:
          # /gates/argo/slo (no slash) is this canary's gate, not an SLO's.
          - {{name: slo, baseline_check: ok, canary_check: ok}}
        """))
    assert http("POST", a.base + "/gates/flagger/slo/nope", data=b"{}")[::2] == \
        (404, b"no SLO of that name\n")
    assert http("POST", a.base + "/gates/flagger/slo/", data=b"{}")[::2] == \
        (404, b"no SLO of that name\n")
    assert http("GET", a.base + "/gates/argo/slo/nope")[::2] == (404, b"no SLO of that name\n")
    assert json.loads(http("GET", a.base + "/gates/argo/slo")[2])["canary"] == "slo"
    for hook in ["bogus", "post-rollout", "Rollback", ""]:
        st, _, body = http("POST", a.base + f"/gates/flagger/slo/orders?hook={hook}", data=b"{}")
        assert (st, body) == (400, HOOK_USAGE), hook
        st, _, body = http("GET", a.base + f"/gates/argo/slo/orders?hook={hook}")
        assert (st, body) == (400, HOOK_USAGE), hook
    # The Flagger body is checked as at the canary gate, before the name.
    url = a.base + "/gates/flagger/slo/orders"
    cases = [
        (b"{not json", 400, b"body is not JSON (Flagger sends {name, namespace, phase, checksum, "
                            b"metadata})\n"),
        (b"", 400, b"body is not JSON (Flagger sends {name, namespace, phase, checksum, "
                   b"metadata})\n"),
        (b"[1,2]", 400, b"body must be a JSON object\n"),
        (b'{"checksum": 5}', 400, b"name, namespace, phase and checksum must be strings\n"),
        (b'{"metadata": {"a": 1}}', 400, b"metadata must be an object of strings\n"),
        (json.dumps({"checksum": "x" * 300}).encode(), 400, b"checksum longer than 255 bytes\n"),
        (b"{" + b" " * 70000 + b"}", 413, b"body larger than 65536 bytes\n"),
    ]
    for data, status, text in cases:
        st, _, body = http("POST", url, data=data)
        assert (st, body) == (status, text), data[:20]
        st, _, body = http("POST", a.base + "/gates/flagger/slo/nope", data=data)
        assert (st, body) == (status, text), data[:20]
    st, hdrs, _ = http("GET", url)
    assert st == 405 and hdrs["Allow"] == "POST"
    st, hdrs, _ = http("PUT", a.base + "/gates/argo/slo/orders")
    assert st == 405 and hdrs["Allow"] == "GET, POST"
    assert argo(a, "/gates/argo/slo/orders")["verdict"] == "pass"
    assert http("POST", a.base + "/gates/argo/slo/orders")[0] == 200
    # The requests are counted under their own handlers.
    m = a.metrics()

    def count(handler, code):
        return m.get(("outpost_http_requests_total",
                      frozenset({("handler", handler), ("code", code)})))
    assert count("flagger_slo", "404") == 2
    assert count("flagger_slo", "400") == 4 + 2 * 6
    assert count("flagger_slo", "413") == 2
    assert count("flagger_slo", "405") == 1
    assert count("argo_slo", "404") == 1
    assert count("argo_slo", "400") == 4
    assert count("argo_slo", "405") == 1
    assert count("argo_slo", "200") == 2
    assert count("argo", "200") == 1
    assert http("GET", a.base + "/-/healthy")[0] == 200


def test_flagger_slo_gate_metadata_token(agent_factory, tmp_path, target):
    tokens = tmp_path / "tokens"
    tokens.write_text(f"{TOKEN}\n")
    a = agent_factory(textwrap.dedent(f"""\
        checks:
          - {{name: ok, url: "{target.url('/ok')}", interval: 1s}}
        slos:
          - {{name: orders, objective: 99, sli: {{checks: [ok]}}}}
        """), extra_args=[f"--web.bearer-tokens-file={tokens}"])
    path = "/gates/flagger/slo/orders"
    calm = "SLO orders: no error budget policy, no page alert firing\n"
    st, text = flagger(a, path)
    assert st == 401 and text == "authentication required (a bearer token)\n"
    assert flagger(a, path, body=dict(FLAGGER, metadata={"token": "tokX-0"}))[0] == 401
    assert flagger(a, path, body=dict(FLAGGER, metadata={"token": 5}))[0] == 401
    assert http("POST", a.base + path, data=b"not json")[0] == 401
    # An unknown SLO or a bad hook says nothing before credentials.
    assert flagger(a, "/gates/flagger/slo/nope")[0] == 401
    assert flagger(a, path, hook="bogus")[0] == 401
    good = dict(FLAGGER, metadata={"type": "confirm-rollout", "token": TOKEN})
    assert flagger(a, path, "confirm-rollout", body=good) == (200, calm)
    assert flagger(a, path, "rollback", body=good) == (412, "SLO orders: no page alert firing\n")
    assert flagger(a, path, headers={"Authorization": f"Bearer {TOKEN}"}) == (200, calm)
    # A wrong header is not rescued by a good body.
    assert flagger(a, path, body=good, headers={"Authorization": "Bearer tokX-0"})[0] == 401
    # Argo sends a header.
    assert http("GET", a.base + "/gates/argo/slo/orders")[0] == 401
    doc = argo(a, "/gates/argo/slo/orders", headers={"Authorization": f"Bearer {TOKEN}"})
    assert doc["verdict"] == "pass"
    assert 'handler=flagger_slo scheme=metadata.token reason="unknown token"' in a.logs()


# ---- the manifests of docs/canary.md ----

def doc_section(path, heading):
    with open(os.path.join(ROOT, path)) as f:
        text = f.read()
    start = text.index(heading + "\n")
    end = text.find("\n## ", start + len(heading))
    return text[start:end if end >= 0 else len(text)]


def blocks(section, lang):
    return re.findall(rf"```{lang}\n(.*?)```", section, re.S)


def manifests():
    section = doc_section("docs/canary.md", "## Gates from budgets in Flagger and Argo Rollouts")
    docs = [o for b in blocks(section, "yaml") for o in yaml.safe_load_all(b) if o]
    return [o for o in docs if "kind" in o], [o for o in docs if "slos" in o]


FLAGGER_HOOK_TYPES = {"pre-rollout", "rollout", "confirm-rollout", "confirm-promotion",
                      "post-rollout", "rollback", "event", "confirm-traffic-increase"}


def test_manifests_parse_and_name_the_gates():
    objs, config = manifests()
    assert len(config) == 1
    kinds = sorted(f"{o['apiVersion']} {o['kind']}" for o in objs)
    assert kinds == ["argoproj.io/v1alpha1 AnalysisTemplate"] * 2 + [
        "argoproj.io/v1alpha1 Rollout", "flagger.app/v1beta1 Canary", "v1 Secret"]
    canary = next(o for o in objs if o.get("kind") == "Canary")
    hooks = canary["spec"]["analysis"]["webhooks"]
    assert {h["type"] for h in hooks} == {"confirm-rollout", "rollout", "confirm-promotion",
                                         "rollback"}
    for h in hooks:
        assert set(h) <= {"name", "type", "url", "timeout", "metadata", "muteAlert"}, h
        assert h["type"] in FLAGGER_HOOK_TYPES
        # Every gate is asked with the hook type Flagger calls it as.
        assert h["url"].endswith(f"?hook={h['type']}"), h
        assert re.match(r"^http://outpost\.monitoring:9469/gates/flagger/(slo/)?[a-z-]+\?", h["url"])
    slo_hooks = {h["type"] for h in hooks if "/gates/flagger/slo/" in h["url"]}
    assert slo_hooks == {"confirm-rollout", "confirm-promotion", "rollback"}
    assert any(h["type"] == "rollout" and "/slo/" not in h["url"] for h in hooks)

    templates = {o["metadata"]["name"]: o for o in objs if o.get("kind") == "AnalysisTemplate"}
    rollout = next(o for o in objs if o.get("kind") == "Rollout")
    metrics = [m for t in templates.values() for m in t["spec"]["metrics"]]
    urls = [m["provider"]["web"]["url"] for m in metrics]
    assert any("/gates/argo/slo/" in u and "hook=rollback" in u for u in urls)
    assert any("/gates/argo/slo/" in u and "hook" not in u for u in urls)
    assert any("/gates/argo/slo/" not in u for u in urls)
    for m in metrics:
        web = m["provider"]["web"]
        assert re.match(r"^http://outpost\.monitoring:9469/gates/argo/(slo/)?[a-z-]+"
                        r"(\?hook=rollback)?$", web["url"]), web["url"]
        assert web["jsonPath"] == "{$.verdict}"
        assert set(m) <= {"name", "interval", "initialDelay", "count", "successCondition",
                          "failureCondition", "failureLimit", "inconclusiveLimit",
                          "consecutiveErrorLimit", "provider"}, m
        assert set(web) <= {"url", "method", "headers", "body", "timeoutSeconds", "jsonPath",
                            "insecure"}, web
        if "hook=rollback" in web["url"]:
            # Only a page alert fails it: without a successCondition its
            # "pass" is a success.
            assert "successCondition" not in m
            assert m["failureCondition"] == 'result == "fail"'
        else:
            assert m["successCondition"] == 'result == "pass"'
            assert m["failureCondition"] == 'result == "fail"'
    # Every template the Rollout names is there and used; every argument it
    # takes comes from the Secret above.
    canary = rollout["spec"]["strategy"]["canary"]
    named = {t["templateName"] for t in canary["analysis"]["templates"]}
    for step in canary["steps"]:
        assert len(step) == 1 and next(iter(step)) in ("setWeight", "pause", "analysis"), step
        named |= {t["templateName"] for t in step.get("analysis", {}).get("templates", [])}
    assert named == set(templates)
    secret = next(o for o in objs if o.get("kind") == "Secret")
    for t in templates.values():
        for arg in t["spec"].get("args", []):
            ref = arg["valueFrom"]["secretKeyRef"]
            assert ref["name"] == secret["metadata"]["name"] and ref["key"] in secret["stringData"]
            assert t["metadata"]["namespace"] == secret["metadata"]["namespace"]


def test_manifests_reach_the_gates(agent_factory, target, tmp_path):
    """The doc's outpost configuration, its targets pointed at the test target,
    answers every URL of the manifests: no 400 (hook) and no 404 (name)."""
    objs, config = manifests()
    cfg = config[0]
    for c in cfg.get("checks", []):
        c["url"] = target.url("/ok")
    for k in cfg.get("canaries", []):
        for arm in ("baseline", "canary"):
            if arm in k:
                k[arm]["url"] = target.url("/ok")
    a = agent_factory(yaml.safe_dump(cfg))
    canary = next(o for o in objs if o.get("kind") == "Canary")
    for h in canary["spec"]["analysis"]["webhooks"]:
        path = h["url"].replace("http://outpost.monitoring:9469", "")
        st, _, body = http("POST", a.base + path, data=json.dumps(FLAGGER).encode())
        assert st in (200, 412), (path, st, body)
    for t in (o for o in objs if o.get("kind") == "AnalysisTemplate"):
        for m in t["spec"]["metrics"]:
            path = m["provider"]["web"]["url"].replace("http://outpost.monitoring:9469", "")
            doc = argo(a, path)
            assert doc["verdict"] in ("pass", "fail", "inconclusive"), (path, doc)
