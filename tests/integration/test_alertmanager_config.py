"""config/alertmanager.yml, the shipped Alertmanager example, in a real
Alertmanager: amtool accepts it, critical alerts reach the PagerDuty receiver
and warnings the Slack one, and its inhibitions mute what they should.

The file's receivers point at https://events.pagerduty.com and
https://hooks.slack.com with fake secrets; this test swaps those two hosts (by
text substitution: the file is otherwise loaded as shipped) for a local
receiver that records what Alertmanager sends, by path. Only the grouping
delays are shortened, so the test does not wait 30 s for the first
notification. Everything runs on 127.0.0.1 with free ports in a temp dir and
is stopped at the end; waits are bounded polls on conditions."""
import datetime
import json
import os
import shutil
import socket
import subprocess
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import http, wait_for

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
CONFIG = os.path.join(ROOT, "config", "alertmanager.yml")
PAGERDUTY = "https://events.pagerduty.com"
SLACK = "https://hooks.slack.com"


def amtool():
    path = shutil.which("amtool")
    assert path, "amtool not found: install prometheus-alertmanager (make deps)"
    return path


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Receiver:
    """Records every POST as (path, JSON body) and answers 200."""

    def __init__(self):
        self.posts = []
        self.lock = threading.Lock()
        outer = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(n))
                with outer.lock:
                    outer.posts.append((self.path, body))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def bodies(self, prefix):
        with self.lock:
            return [b for p, b in self.posts if p.startswith(prefix)]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def test_amtool_accepts_the_shipped_config():
    r = subprocess.run([amtool(), "check-config", CONFIG], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "SUCCESS" in r.stdout


def test_routes_by_severity():
    """amtool's own view of the routing tree."""
    for labels, receiver in (
            (["alertname=OutpostCheckDown", "severity=critical", "check=api"],
             "pagerduty-critical"),
            (["alertname=OutpostAgentDown", "severity=critical", "instance=a:9469"],
             "pagerduty-critical"),
            (["alertname=OutpostCertExpiringSoon", "severity=warning", "check=api"],
             "slack-warnings"),
            (["alertname=OutpostSLOBudgetBurn", "severity=warning", "slo=api"],
             "slack-warnings")):
        r = subprocess.run([amtool(), "config", "routes", "test", f"--config.file={CONFIG}",
                            *labels], capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
        assert r.stdout.strip() == receiver, (labels, r.stdout)


def local_config(tmp_path, receiver_port):
    """The shipped file with the two receiver hosts pointed at the local
    receiver and short grouping delays; checked by amtool too."""
    yaml = pytest.importorskip("yaml")
    with open(CONFIG) as f:
        text = f.read()
    local = f"http://127.0.0.1:{receiver_port}"
    text = text.replace(PAGERDUTY, local + "/pagerduty").replace(SLACK, local + "/slack")
    doc = yaml.safe_load(text)
    # Every integration now points at the local receiver: a change of the
    # file that moves the placeholder hosts must fail here, not send out.
    urls = [c.get("url") for r in doc["receivers"] for c in r.get("pagerduty_configs", [])]
    urls += [c.get("api_url") for r in doc["receivers"] for c in r.get("slack_configs", [])]
    assert len(urls) == 2 and all(u.startswith(local + "/") for u in urls), urls
    assert all(set(r) <= {"name", "pagerduty_configs", "slack_configs"}
               for r in doc["receivers"]), doc["receivers"]
    # Only the delays change; routes, receivers and inhibitions are the file's.
    doc["route"].update(group_wait="1s", group_interval="1s")
    path = tmp_path / "alertmanager.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    r = subprocess.run([amtool(), "check-config", str(path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    return path


def get_json(url):
    try:
        status, _, body = http("GET", url, timeout=5)
    except OSError:
        return None
    return json.loads(body) if status == 200 else None


@pytest.fixture
def alertmanager(tmp_path):
    rx = Receiver()
    port = free_port()
    cfg = local_config(tmp_path, rx.port)
    log = open(tmp_path / "am.log", "wb")
    proc = subprocess.Popen(
        ["prometheus-alertmanager", f"--config.file={cfg}",
         f"--storage.path={tmp_path / 'am-data'}", f"--web.listen-address=127.0.0.1:{port}",
         "--cluster.listen-address="], stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: proc.poll() is None and get_json(url + "/api/v2/status")
                 or (proc.poll() is not None and pytest.fail(
                     (tmp_path / "am.log").read_text())),
                 timeout=20, what="Alertmanager")
        yield url, rx
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        rx.stop()


def post_alerts(url, alerts):
    now = datetime.datetime.now(datetime.timezone.utc)
    body = [{"labels": labels,
             "annotations": {"summary": f"{labels['alertname']} summary",
                             "description": f"{labels['alertname']} on "
                                            f"{labels.get('instance', 'no instance')}",
                             "runbook_url": "https://example.com/alerting.md"},
             "startsAt": now.isoformat(),
             "endsAt": (now + datetime.timedelta(minutes=10)).isoformat()}
            for labels in alerts]
    status, _, resp = http("POST", url + "/api/v2/alerts", data=json.dumps(body).encode(),
                           headers={"Content-Type": "application/json"})
    assert status == 200, resp


def am_alert(url, **labels):
    flt = [f'{k}="{v}"' for k, v in labels.items()]
    doc = get_json(url + "/api/v2/alerts?" + urllib.parse.urlencode(
        [("filter", f) for f in flt])) or []
    return doc[0] if len(doc) == 1 else None


def pagerduty_events(rx, alertname):
    return [b for b in rx.bodies("/pagerduty/")
            if b.get("event_action") == "trigger"
            and b["payload"]["custom_details"].get("alertname") == alertname]


def slack_messages(rx, alertname):
    return [b for b in rx.bodies("/slack/")
            if any(a.get("title", "").startswith(alertname + ":")
                   for a in b.get("attachments", []))]


def test_routing_and_inhibition_in_a_real_alertmanager(alertmanager):
    url, rx = alertmanager
    # Agent a is healthy and reports check api down; agent b cannot be scraped
    # (OutpostAgentDown from Prometheus) and its last pushed CheckDown for the
    # same check is still active in Alertmanager. A certificate warning, and an
    # SLO burning in both tiers at once. The source alerts are posted first.
    post_alerts(url, [
        {"alertname": "OutpostAgentDown", "severity": "critical", "job": "outpost",
         "instance": "agent-b:9469"},
        {"alertname": "OutpostSLOBudgetBurn", "severity": "critical", "slo": "api-availability",
         "cluster": "proof"},
    ])
    post_alerts(url, [
        {"alertname": "OutpostCheckDown", "severity": "critical", "check": "api",
         "instance": "agent-a:9469", "cluster": "proof"},
        {"alertname": "OutpostCheckDown", "severity": "critical", "check": "api",
         "instance": "agent-b:9469", "cluster": "proof"},
        {"alertname": "OutpostCertExpiringSoon", "severity": "warning", "check": "shop",
         "cluster": "proof"},
        {"alertname": "OutpostSLOBudgetBurn", "severity": "warning", "slo": "api-availability",
         "cluster": "proof"},
    ])

    # Alertmanager's own verdicts: b's CheckDown is muted by OutpostAgentDown
    # of the same instance, a's is not; the ticket burn is muted by the page.
    down_b = wait_for(lambda: (a := am_alert(url, alertname="OutpostCheckDown",
                                             instance="agent-b:9469"))
                      and a["status"]["state"] == "suppressed" and a, timeout=10,
                      what="b's CheckDown suppressed")
    agent_down = am_alert(url, alertname="OutpostAgentDown")
    assert down_b["status"]["inhibitedBy"] == [agent_down["fingerprint"]]
    down_a = am_alert(url, alertname="OutpostCheckDown", instance="agent-a:9469")
    assert down_a["status"]["state"] == "active"
    ticket = wait_for(lambda: (a := am_alert(url, alertname="OutpostSLOBudgetBurn",
                                             severity="warning"))
                      and a["status"]["state"] == "suppressed" and a, timeout=10,
                      what="ticket burn suppressed")
    page = am_alert(url, alertname="OutpostSLOBudgetBurn", severity="critical")
    assert ticket["status"]["inhibitedBy"] == [page["fingerprint"]]
    assert page["status"]["state"] == "active"
    assert agent_down["status"]["state"] == "active"

    # Critical alerts reach the PagerDuty receiver, one notification per group.
    for name in ("OutpostCheckDown", "OutpostAgentDown", "OutpostSLOBudgetBurn"):
        wait_for(lambda: pagerduty_events(rx, name), timeout=20,
                 what=f"{name} at the PagerDuty receiver")
    # The warning reaches the Slack receiver.
    msg = wait_for(lambda: slack_messages(rx, "OutpostCertExpiringSoon"), timeout=20,
                   what="OutpostCertExpiringSoon at the Slack receiver")[0]
    assert msg["channel"] == "#outpost-alerts"

    # The inhibition as delivered: a's and b's CheckDown are one group (grouped
    # by alertname and check, not instance), and its page lists a's alone.
    events = pagerduty_events(rx, "OutpostCheckDown")
    for ev in events:
        assert ev["routing_key"] == "REPLACE-ME-fake-pagerduty-routing-key"
        details = ev["payload"]["custom_details"]
        assert details["num_firing"] == "1", details
        assert "agent-a:9469" in details["firing"] and "agent-b:9469" not in details["firing"]
        assert ev["payload"]["summary"] == "OutpostCheckDown: OutpostCheckDown summary"
    # Nothing crossed over: no warning paged, no critical in Slack, no ticket
    # burn anywhere.
    for b in rx.bodies("/pagerduty/"):
        assert b["payload"]["custom_details"]["alertname"] != "OutpostCertExpiringSoon", b
    for name in ("OutpostCheckDown", "OutpostAgentDown", "OutpostSLOBudgetBurn"):
        assert slack_messages(rx, name) == [], name
    assert all(p.startswith(("/pagerduty/", "/slack/")) for p, _ in rx.posts), rx.posts
