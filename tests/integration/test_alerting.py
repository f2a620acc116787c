"""Proof: a real Prometheus (loading rules/outpost.rules.yml) scrapes the
agent and sends its rule alerts to a real Alertmanager, which routes to a
webhook receiver owned by this test; the agent pushes its own alerts to the
same Alertmanager; every dashboard panel query returns data. One problem is
one alert series: the agent alone alerts on a failing check, Prometheus alone
on the agent being gone. All on loopback with temp dirs and free ports;
everything is stopped at the end."""
import json
import os
import re
import socket
import subprocess
import textwrap
import threading
import time
import urllib.error
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import http, wait_for

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")

# The alerts the agent pushes itself, and those of the default rule file:
# disjoint, so that no problem reaches Alertmanager twice.
AGENT_ALERTS = {"OutpostCheckDown", "OutpostCertExpiringSoon", "OutpostSLOBudgetBurn",
                "OutpostSLOBudgetExhausted", "OutpostCanaryFailed"}
RULE_ALERTS = {"OutpostAgentDown", "OutpostAgentsAbsent", "OutpostConfigReloadFailed",
               "OutpostSchedulerLagging", "OutpostAgentOverloaded",
               "OutpostAlertmanagerSendsFailing", "OutpostStateSnapshotsFailing"}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Switch:
    """An HTTP target the test can make fail and heal, plus the Alertmanager
    webhook receiver: one small server, two roles."""

    def __init__(self):
        self.healthy = True
        self.webhooks = []
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

            def do_POST(self):
                n = int(self.headers.get("Content-Length", 0))
                outer.webhooks.append(json.loads(self.rfile.read(n)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class Service:
    def __init__(self, args, log_path):
        self.args = args
        self.log_path = log_path
        self.start()

    def start(self):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.args, stdout=self.log, stderr=self.log)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def get_json(url):
    try:
        st, _, body = http("GET", url)
    except (urllib.error.URLError, ConnectionError):
        return None
    return json.loads(body) if st == 200 else None


@pytest.fixture
def stack(tmp_path, agent_factory):
    switch = Switch()
    am_port, prom_port = free_port(), free_port()
    (tmp_path / "am.yml").write_text(textwrap.dedent(f"""\
        route:
          receiver: test
          group_by: [alertname, check]
          group_wait: 1s
          group_interval: 1s
          repeat_interval: 1h
        receivers:
          - name: test
            webhook_configs:
              - {{url: "http://127.0.0.1:{switch.port}/hook", send_resolved: true}}
        """))
    am_args = ["prometheus-alertmanager", f"--config.file={tmp_path / 'am.yml'}",
               f"--storage.path={tmp_path / 'am-data'}",
               f"--web.listen-address=127.0.0.1:{am_port}", "--cluster.listen-address="]
    am = Service(am_args, tmp_path / "am.log")
    am_url = f"http://127.0.0.1:{am_port}"
    wait_for(lambda: get_json(am_url + "/api/v2/status"), timeout=20, what="Alertmanager")

    agent = agent_factory(textwrap.dedent(f"""\
        checks:
          - {{name: api, url: "http://127.0.0.1:{switch.port}/", interval: 200ms,
              timeout: 150ms}}
          - {{name: steady, url: "http://127.0.0.1:{switch.port}/", interval: 200ms,
              timeout: 150ms}}
        slos:
          - name: api-availability
            objective: 99.9
            sli: {{checks: [api, steady]}}
            policy: {{freeze_when_consumed: 0.7, over: 7d}}
        canaries:
          - name: rollout
            baseline_check: steady
            canary_check: api
            interval: 200ms
            min_samples: 5
        alerting:
          alertmanagers: ["{am_url}"]
          resend_interval: 1s
          evaluation_interval: 1s
          external_labels: {{cluster: proof}}
          runbook_base_url: https://example.com/outpost/docs/alerting.md
        """), extra_args=[f"--storage.path={tmp_path / 'state'}"])

    (tmp_path / "prom.yml").write_text(textwrap.dedent(f"""\
        global: {{scrape_interval: 1s, evaluation_interval: 1s}}
        rule_files: ["{os.path.abspath(os.path.join(ROOT, 'rules', 'outpost.rules.yml'))}"]
        alerting:
          alertmanagers: [{{static_configs: [{{targets: ["127.0.0.1:{am_port}"]}}]}}]
        scrape_configs:
          - job_name: outpost
            static_configs: [{{targets: ["127.0.0.1:{agent.port}"]}}]
        """))
    prom = Service(["prometheus", f"--config.file={tmp_path / 'prom.yml'}",
                    f"--web.listen-address=127.0.0.1:{prom_port}",
                    f"--storage.tsdb.path={tmp_path / 'tsdb'}"], tmp_path / "prom.log")
    prom_url = f"http://127.0.0.1:{prom_port}"
    wait_for(lambda: (r := query(prom_url, 'up{job="outpost"}')) and r[0]["value"][1] == "1",
             timeout=30, what="Prometheus scraping the agent")
    yield {"switch": switch, "agent": agent, "am": am, "am_url": am_url, "prom_url": prom_url}
    prom.stop()
    am.stop()
    switch.stop()


def query(prom_url, q):
    doc = get_json(prom_url + "/api/v1/query?" + urllib.parse.urlencode({"query": q}))
    return doc["data"]["result"] if doc else None


def am_alerts(am_url, name):
    doc = get_json(am_url + "/api/v2/alerts?" + urllib.parse.urlencode(
        {"filter": f'alertname="{name}"'})) or []
    return [a for a in doc if a["status"]["state"] == "active"]


def prom_alerts(prom_url, name=None):
    """Prometheus' firing rule alerts (of that name)."""
    doc = get_json(prom_url + "/api/v1/alerts") or {"data": {"alerts": []}}
    return [a for a in doc["data"]["alerts"]
            if name in (None, a["labels"]["alertname"]) and a["state"] == "firing"]


def prom_alert_rules(prom_url):
    doc = get_json(prom_url + "/api/v1/rules?type=alert")
    return {r["name"] for g in doc["data"]["groups"] for r in g["rules"]}


def panel_queries():
    """(dashboard, panel title, expr) for every panel target of every dashboard."""
    out = []
    for name in sorted(os.listdir(os.path.join(ROOT, "dashboards"))):
        if not name.endswith(".json"):
            continue
        with open(os.path.join(ROOT, "dashboards", name)) as f:
            dash = json.load(f)
        panels = list(dash.get("panels", []))
        while panels:
            p = panels.pop()
            panels.extend(p.get("panels", []))
            for t in p.get("targets", []):
                if t.get("expr"):
                    out.append((name, p.get("title", "?"), t["expr"]))
    return out


def substitute(expr):
    subs = {"$__rate_interval": "1m", "$job": "outpost", "$instance": ".*", "$check": ".*",
            "$slo": ".*", "$canary": ".*"}
    for k in sorted(subs, key=len, reverse=True):
        expr = expr.replace("${" + k[1:] + "}", subs[k]).replace(k, subs[k])
    assert "$" not in expr, expr
    return expr


def test_alerts_rules_and_dashboards(stack):
    sw, agent, am_url, prom_url = stack["switch"], stack["agent"], stack["am_url"], \
        stack["prom_url"]
    # Prometheus loaded the agent-health rules, and none of the alerts the
    # agent pushes itself.
    assert prom_alert_rules(prom_url) == RULE_ALERTS
    # Healthy first: nothing fires anywhere.
    assert agent.value("outpost_check_up", check="api") == 1
    assert am_alerts(am_url, "OutpostCheckDown") == []
    assert prom_alerts(prom_url) == []

    # Every panel query of every dashboard returns data (variables substituted).
    queries = panel_queries()
    assert len(queries) >= 20
    missing = []
    for dash, title, expr in queries:
        r = wait_for(lambda: query(prom_url, substitute(expr)) is not None, timeout=10,
                     what=f"{dash}/{title}")
        res = query(prom_url, substitute(expr))
        if not res:
            missing.append((dash, title, expr))
    # Some panels need a failure to have data (failure reasons, canary shift):
    # checked again after the target fails.

    sw.healthy = False
    # The agent's own push reaches Alertmanager, with its labels and annotations.
    # Both checks probe the switch, so either alert may arrive first: wait for api's.
    alerts = wait_for(lambda: [x for x in am_alerts(am_url, "OutpostCheckDown")
                               if x["labels"].get("check") == "api"], timeout=30,
                      what="the agent's OutpostCheckDown for api in Alertmanager")
    a = alerts[0]
    assert a["labels"]["severity"] == "critical" and a["labels"]["cluster"] == "proof"
    assert a["annotations"]["summary"] == "A synthetic check keeps failing."
    assert a["annotations"]["runbook_url"].endswith("alerting.md#outpostcheckdown")
    assert "failed its last" in a["annotations"]["description"]
    first_start = a["startsAt"]
    # Re-sent every second: Alertmanager's copy is refreshed (endsAt moves
    # forward) while startsAt stays the first firing time.
    def refreshed():
        now = [x for x in am_alerts(am_url, "OutpostCheckDown") if x["labels"]["check"] == "api"]
        return now and now[0]["endsAt"] > a["endsAt"] and now[0]
    again = wait_for(refreshed, timeout=15, what="a resend with a later endsAt")
    assert again["startsAt"] == first_start
    # Alertmanager routed it to the receiver owned by this test.
    wait_for(lambda: any(h["status"] == "firing" and any(
        x["labels"]["alertname"] == "OutpostCheckDown" for x in h["alerts"])
        for h in sw.webhooks), timeout=30, what="webhook notification")
    assert agent.value("outpost_alertmanager_notifications_total",
                       alertmanager=am_url) >= 1
    # The panels that were empty while healthy have data now.
    still = []
    for dash, title, expr in missing:
        ok = False
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not ok:
            ok = bool(query(prom_url, substitute(expr)))
            time.sleep(0.5)
        if not ok:
            still.append((dash, title, expr))
    assert still == [], f"panel queries without data: {still}"

    # Alertmanager down for a while, then back: the still-firing alert arrives
    # again (Alertmanager keeps no alerts across a restart).
    stack["am"].stop()
    errors_before = agent.value("outpost_alertmanager_notifications_errors_total",
                                alertmanager=am_url)
    agent.wait_value("outpost_alertmanager_notifications_errors_total",
                     lambda v: v > errors_before, timeout=20, alertmanager=am_url)
    stack["am"].start()
    wait_for(lambda: get_json(am_url + "/api/v2/status"), timeout=20, what="Alertmanager back")
    wait_for(lambda: [x for x in am_alerts(am_url, "OutpostCheckDown")
                      if x["labels"].get("check") == "api"], timeout=40,
             what="still-firing alert re-sent after the Alertmanager restart")

    # One problem, one alert series: after all this time (Prometheus evaluates
    # every second and sends to the same Alertmanager), the failing check is
    # still the agent's single OutpostCheckDown, without the `job`/`instance`
    # of a rule alert's copy, and no Prometheus rule fires about it.
    copies = [x for x in am_alerts(am_url, "OutpostCheckDown") if x["labels"]["check"] == "api"]
    assert len(copies) == 1 and "job" not in copies[0]["labels"], copies
    assert prom_alerts(prom_url) == []

    # Heal: the agent's alert resolves.
    sw.healthy = True
    wait_for(lambda: any(h["status"] == "resolved" and any(
        x["labels"]["alertname"] == "OutpostCheckDown" and x["labels"].get("check") == "api"
        for x in h["alerts"]) for h in sw.webhooks), timeout=40,
        what="resolved notification for the agent's alert")
    wait_for(lambda: not [x for x in am_alerts(am_url, "OutpostCheckDown")
                          if x["labels"].get("check") == "api"], timeout=30,
             what="alert no longer active in Alertmanager")

    # What only Prometheus can see: the agent gone. Its rule alert fires after
    # its `for: 1m` and reaches Alertmanager and the receiver, with the
    # scrape target's identity.
    rc, _ = agent.stop()
    assert rc == 0
    wait_for(lambda: prom_alerts(prom_url, "OutpostAgentDown"), timeout=120,
             interval=0.5, what="Prometheus rule alert OutpostAgentDown")
    down = wait_for(lambda: am_alerts(am_url, "OutpostAgentDown"), timeout=30,
                    what="OutpostAgentDown in Alertmanager")
    assert down[0]["labels"]["instance"] == f"127.0.0.1:{agent.port}"
    assert down[0]["labels"]["job"] == "outpost" and down[0]["labels"]["severity"] == "critical"
    assert down[0]["annotations"]["runbook_url"].endswith("alerting.md#outpostagentdown")
    wait_for(lambda: any(h["status"] == "firing" and any(
        x["labels"]["alertname"] == "OutpostAgentDown" for x in h["alerts"])
        for h in sw.webhooks), timeout=30, what="webhook notification for OutpostAgentDown")


@pytest.mark.parametrize("rule_file,rendering,name", [
    ("outpost.rules.yml", "prometheusrule.yaml", "outpost"),
    ("outpost.fleet.rules.yml", "prometheusrule-fleet.yaml", "outpost-fleet"),
])
def test_prometheusrule_is_rendered_from_the_rule_file(rule_file, rendering, name):
    yaml = pytest.importorskip("yaml")
    with open(os.path.join(ROOT, "rules", rule_file)) as f:
        rules = yaml.safe_load(f)
    with open(os.path.join(ROOT, "packaging", "kubernetes", rendering)) as f:
        pr = yaml.safe_load(f)
    assert pr["kind"] == "PrometheusRule"
    assert pr["apiVersion"] == "monitoring.coreos.com/v1"
    assert pr["metadata"]["name"] == name
    assert pr["spec"]["groups"] == rules["groups"]
    r = subprocess.run([os.path.join(ROOT, "packaging", "gen-prometheusrule.sh"),
                        os.path.join(ROOT, "rules", rule_file)],
                       capture_output=True, text=True, check=True)
    with open(os.path.join(ROOT, "packaging", "kubernetes", rendering)) as f:
        assert f.read() == r.stdout, "stale: run make rules"


def test_rule_files_leave_the_agents_alerts_to_the_agent():
    """The default rule file alerts on what the agent cannot see about
    itself; the fleet file adds fleet-only alerts under names of their own.
    Neither fires an alert the agent pushes (the duplicates of one outage)."""
    yaml = pytest.importorskip("yaml")

    def alerts(rule_file):
        with open(os.path.join(ROOT, "rules", rule_file)) as f:
            doc = yaml.safe_load(f)
        return {r["alert"] for g in doc["groups"] for r in g["rules"] if "alert" in r}
    assert alerts("outpost.rules.yml") == RULE_ALERTS
    assert alerts("outpost.fleet.rules.yml") == {"OutpostFleetSLOBudgetBurn",
                                                 "OutpostCheckDisagreement"}
    # Every alert, from either side, has its runbook section in docs/alerting.md.
    with open(os.path.join(ROOT, "docs", "alerting.md")) as f:
        headings = set(re.findall(r"^### (Outpost\w+)$", f.read(), re.M))
    every = AGENT_ALERTS | RULE_ALERTS | alerts("outpost.fleet.rules.yml")
    assert every <= headings, every - headings


def test_dashboard_conventions():
    """The shipped dashboards' conventions, checked on every dashboard."""
    for name in ("outpost-overview.json", "outpost-slo.json", "outpost-canary.json"):
        with open(os.path.join(ROOT, "dashboards", name)) as f:
            d = json.load(f)
        assert d["uid"] == name[:-5] and "outpost" in d["tags"]
        names = [v["name"] for v in d["templating"]["list"]]
        assert names[:3] == ["datasource", "job", "instance"], names
        for v in d["templating"]["list"][1:]:
            assert v["datasource"]["uid"] == "${datasource}" and v.get("multi"), v["name"]
        exprs = [a.get("expr", "") for a in d["annotations"]["list"]]
        assert any("outpost_config_last_reload_success_timestamp_seconds" in e for e in exprs)
        assert any("ALERTS" in e for e in exprs)
        for p in d["panels"]:
            assert p["datasource"]["uid"] == "${datasource}", p["title"]
            assert p["fieldConfig"]["defaults"].get("unit"), p["title"]
            for t in p.get("targets", []):
                e = t["expr"]
                assert 'job=~"$job"' in e and 'instance=~"$instance"' in e, e
                for m in re.finditer(r"\b(rate|increase|irate)\(", e):
                    assert "[$__rate_interval]" in e, e
