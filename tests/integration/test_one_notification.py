"""One notification per problem, end to end: the agent and the shipped rules in a real
Prometheus, both sending to a real Alertmanager that delivers to a webhook the test owns.

- One check fails for 3 minutes, then recovers: every alert identity reaches the receiver
  exactly once firing and once resolved (no duplicate from the rules, no flapping while
  down, no second episode while recovering).
- A new agent whose first minutes hold one failed probe notifies nobody: its SLO's budget
  and alert windows count against the events the schedule will produce, not the few seen.
"""
import os
import textwrap
import time

import pytest

from conftest import wait_for
from test_alerting import ROOT, Service, Switch, free_port, get_json, prom_alerts
from test_check_alerts import Script

# Three minutes, as a user saw it. The sanitizer pass repeats the same code paths
# (dozens of evaluations and resends, the rules evaluated every second) in 30 s to keep
# the suite short.
OUTAGE_S = 30 if os.environ.get("OUTPOST_SANITIZED") else 180


def identity(alert):
    keep = ("alertname", "check", "slo", "canary", "severity")
    return tuple((k, alert["labels"].get(k, "")) for k in keep)


def notifications(switch):
    """(identity, status) of every alert of every webhook delivery, in order."""
    out = []
    for payload in list(switch.webhooks):
        for a in payload["alerts"]:
            out.append((identity(a), a["status"]))
    return out


@pytest.fixture
def world(tmp_path):
    switch = Switch()
    am_port, prom_port = free_port(), free_port()
    (tmp_path / "am.yml").write_text(textwrap.dedent(f"""\
        route:
          receiver: hook
          group_by: [alertname, check, slo, canary]
          group_wait: 1s
          group_interval: 1s
          repeat_interval: 1h
        receivers:
          - name: hook
            webhook_configs:
              - {{url: "http://127.0.0.1:{switch.port}/hook", send_resolved: true}}
        """))
    am = Service(["prometheus-alertmanager", f"--config.file={tmp_path / 'am.yml'}",
                  f"--storage.path={tmp_path / 'am-data'}",
                  f"--web.listen-address=127.0.0.1:{am_port}", "--cluster.listen-address="],
                 tmp_path / "am.log")
    am_url = f"http://127.0.0.1:{am_port}"
    wait_for(lambda: get_json(am_url + "/api/v2/status"), timeout=20, what="Alertmanager")
    yield {"switch": switch, "am_url": am_url, "am_port": am_port, "prom_port": prom_port,
           "tmp": tmp_path}
    am.stop()
    switch.stop()


def start_prometheus(w, agent):
    tmp = w["tmp"]
    (tmp / "prom.yml").write_text(textwrap.dedent(f"""\
        global: {{scrape_interval: 1s, evaluation_interval: 1s}}
        rule_files: ["{os.path.abspath(os.path.join(ROOT, 'rules', 'outpost.rules.yml'))}"]
        alerting:
          alertmanagers: [{{static_configs: [{{targets: ["127.0.0.1:{w['am_port']}"]}}]}}]
        scrape_configs:
          - job_name: outpost
            static_configs: [{{targets: ["127.0.0.1:{agent.port}"]}}]
        """))
    prom = Service(["prometheus", f"--config.file={tmp / 'prom.yml'}",
                    f"--web.listen-address=127.0.0.1:{w['prom_port']}",
                    f"--storage.tsdb.path={tmp / 'tsdb'}"], tmp / "prom.log")
    prom_url = f"http://127.0.0.1:{w['prom_port']}"
    wait_for(lambda: (doc := get_json(prom_url + "/api/v1/query?query=up")) and
             doc["data"]["result"] and doc["data"]["result"][0]["value"][1] == "1",
             timeout=30, what="Prometheus scraping the agent")
    return prom, prom_url


def test_three_minute_outage_notifies_once(world, agent_factory):
    sw = world["switch"]
    agent = agent_factory(textwrap.dedent(f"""\
        checks:
          - {{name: api, url: "http://127.0.0.1:{sw.port}/", interval: 1s, timeout: 500ms}}
        slos:
          - {{name: api-availability, objective: 99, sli: {{checks: [api]}}}}
        alerting:
          alertmanagers: ["{world['am_url']}"]
          resend_interval: 5s
          evaluation_interval: 1s
        """), extra_args=[f"--storage.path={world['tmp'] / 'state'}"])
    prom, prom_url = start_prometheus(world, agent)
    try:
        agent.wait_value("outpost_check_runs_total", lambda v: v >= 3, timeout=15, check="api")
        sw.healthy = False
        t0 = time.monotonic()
        down = (("alertname", "OutpostCheckDown"), ("check", "api"), ("slo", ""),
                ("canary", ""), ("severity", "critical"))
        wait_for(lambda: (down, "firing") in notifications(sw), timeout=30,
                 what="OutpostCheckDown delivered")
        # Three minutes down: dozens of evaluations and resends, Prometheus evaluating its
        # rules every second, all on the same problem.
        wait_for(lambda: time.monotonic() - t0 >= OUTAGE_S, timeout=OUTAGE_S + 5,
                 interval=1.0, what="the outage to last")
        assert prom_alerts(prom_url) == []
        sw.healthy = True
        wait_for(lambda: (down, "resolved") in notifications(sw), timeout=30,
                 what="OutpostCheckDown resolved")
        # A few more evaluations and group intervals after the resolve.
        agent.wait_value("outpost_check_consecutive_failures", lambda v: v == 0, check="api")
        runs = agent.value("outpost_check_runs_total", check="api")
        agent.wait_value("outpost_check_runs_total", lambda v: v >= runs + 5, timeout=15,
                         check="api")
        seen = notifications(sw)
        counts = {}
        for n in seen:
            counts[n] = counts.get(n, 0) + 1
        assert counts == {(down, "firing"): 1, (down, "resolved"): 1}, seen
        # The SLO (99 %: 25,920 bad events of budget a month) spent 180 / 25,920 of it:
        # no burn alert for a three-minute outage.
        assert agent.value("outpost_slo_alert_firing", slo="api-availability",
                           severity="page") == 0
        assert prom_alerts(prom_url) == []
    finally:
        prom.stop()


def test_new_agent_one_failure_notifies_nobody(world, agent_factory):
    target = Script([500] + [200] * 100000)  # the first probe fails, every other succeeds
    try:
        check_one_failure(world, agent_factory, target)
    finally:
        target.stop()


def check_one_failure(world, agent_factory, target):
    sw = world["switch"]
    agent = agent_factory(textwrap.dedent(f"""\
        checks:
          - {{name: api, url: "http://127.0.0.1:{target.port}/", interval: 200ms, timeout: 150ms}}
        slos:
          - {{name: api-availability, objective: 99.9, sli: {{checks: [api]}}}}
        alerting:
          alertmanagers: ["{world['am_url']}"]
          resend_interval: 1s
          evaluation_interval: 1s
        """), extra_args=[f"--storage.path={world['tmp'] / 'state2'}"])
    agent.wait_value("outpost_check_runs_total", lambda v: v >= 1, timeout=15, check="api")
    fails = agent.value("outpost_slo_bad_events_total", slo="api-availability")
    assert fails == 1
    # Ten seconds of probes (fifty events) and ten evaluations on that state.
    agent.wait_value("outpost_slo_events_total", lambda v: v >= fails + 50, timeout=30,
                     slo="api-availability")
    # The target answers 500 once, then 200: on a loaded machine a probe may still miss
    # its 150 ms timeout, which is a bad event too. So the bad events are the one 500 and
    # the timeouts, read together (the same value of bad events before and after).
    def settled():
        b0 = agent.value("outpost_slo_bad_events_total", slo="api-availability")
        slow = agent.value("outpost_check_failures_total", check="api", reason="timeout") or 0
        b1 = agent.value("outpost_slo_bad_events_total", slo="api-availability")
        return (b0, slow) if b0 == b1 else None
    bad, slow = wait_for(settled, what="bad events and timeouts read together")
    assert agent.value("outpost_check_failures_total", check="api", reason="http_status") == 1
    assert bad == fails + slow
    remaining = agent.value("outpost_slo_error_budget_remaining_ratio", slo="api-availability")
    # 0.001 x 12,960,000 expected events = 12,960 bad events of budget.
    assert abs(remaining - (1 - bad / 12960)) < 1e-9
    assert agent.value("outpost_slo_alert_firing", slo="api-availability", severity="page") == 0
    assert agent.value("outpost_slo_alert_firing", slo="api-availability",
                       severity="ticket") == 0
    assert notifications(sw) == []
    assert get_json(world["am_url"] + "/api/v2/alerts") == []
