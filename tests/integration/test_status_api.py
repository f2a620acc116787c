"""GET /api/v1/status: the status model of a real agent probing the real
target. States, reasons and status codes the target decides; summary and
group counts; latency quantiles, SLO budget and burndown equal to what the
metrics page says at the same moment; the canary's verdict equal to the
Argo gate's; alerts firing and the maintenance window active; paging,
filters and the 400s of bad queries; names given back verbatim."""
import calendar
import json
import math
import textwrap
import time

from conftest import http, parse_metrics, wait_for

SCRIPT = "<script>alert(1)</script>"


def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def config(target, window_start):
    return textwrap.dedent(f"""\
        global: {{interval: 1s, timeout: 900ms}}
        checks:
          - name: healthy
            group: shop
            url: {target.url('/ok')}
          - name: failing
            group: shop
            url: {target.url('/status/500')}
          - name: slow
            group: edge
            url: {target.url('/sleep/120')}
            histogram_buckets: [0.05, 0.1, 1]
          - name: "{SCRIPT}"
            url: {target.url('/ok')}
          - name: covered
            url: {target.url('/ok')}
        slos:
          - name: shop-availability
            objective: 99
            period: 30d
            sli: {{checks: [failing]}}
        canaries:
          - name: rollout
            baseline: {{url: "{target.url('/ok')}"}}
            canary: {{url: "{target.url('/status/500')}"}}
            interval: 300ms
            min_samples: 10
        alerting:
          evaluation_interval: 1s
        maintenance:
          - name: now
            schedule: {{start: "{rfc3339(window_start)}", duration: 1h}}
            checks: [covered]
        """)


def get(agent, query=""):
    status, headers, body = http("GET", agent.base + "/api/v1/status" + query)
    assert headers["Content-Type"] == "application/json", (status, headers)
    return status, body


def model(agent, query=""):
    status, body = get(agent, query)
    assert status == 200, body
    return json.loads(body)


def histogram_quantile(q, buckets):
    """Prometheus' bucketQuantile over [(upper bound, cumulative count)], +Inf last."""
    total = buckets[-1][1]
    if total == 0:
        return None
    rank = q * total
    b = next((i for i, (_, c) in enumerate(buckets[:-1]) if c >= rank), len(buckets) - 1)
    if b == len(buckets) - 1:
        return buckets[-2][0]
    start, count = 0.0, buckets[b][1]
    if b > 0:
        start = buckets[b - 1][0]
        count -= buckets[b - 1][1]
        rank -= buckets[b - 1][1]
    return start + (buckets[b][0] - start) * (rank / count)


def same_moment(agent, stable, query=""):
    """(metrics, model) read with no change in stable(metrics) between two
    scrapes around the model: the model saw the same counts."""
    def attempt():
        before = agent.metrics()
        doc = model(agent, query)
        after = agent.metrics()
        return stable(before) == stable(after) and (after, doc)
    return wait_for(attempt, timeout=20, what="a model between two equal scrapes")


def all_done(agent):
    doc = model(agent)
    s = doc["summary"]
    ok = (s["checks"]["pending"] == 0 and s["canaries"]["fail"] == 1
          and {a["alertname"] for a in doc["alerts"]} >= {"OutpostCheckDown",
                                                          "OutpostCanaryFailed"})
    return ok and doc


def test_status_model(agent_factory, target):
    window_start = int(time.time()) - 600
    a = agent_factory(config(target, window_start))
    doc = wait_for(lambda: all_done(a), timeout=30, what="every check probed, alerts fired")

    assert list(doc) == ["generated_at", "agent", "summary", "groups", "checks", "slos",
                         "canaries", "alerts", "maintenance", "page"]
    now = time.time()
    gen = calendar.timegm(time.strptime(doc["generated_at"], "%Y-%m-%dT%H:%M:%SZ"))
    assert now - 5 <= gen <= now
    m = a.metrics()
    build = [dict(k[1]) for k in m if k[0] == "outpost_build_info"][0]
    assert doc["agent"]["version"] == build["version"]
    assert doc["agent"]["revision"] == build["revision"]
    assert doc["agent"]["shard"] == "0/1"
    assert doc["agent"]["config_reload_successful"] is True
    loaded = m[("outpost_config_last_reload_success_timestamp_seconds", frozenset())]
    assert doc["agent"]["config_loaded_at"] == rfc3339(math.floor(loaded))

    assert doc["summary"]["checks"] == {"total": 7, "up": 5, "down": 2, "pending": 0}
    assert doc["summary"]["slos"] == {"total": 1, "paging": 0, "ticketing": 0, "frozen": 0}
    assert doc["summary"]["canaries"] == {"total": 1, "pass": 0, "fail": 1, "inconclusive": 0}
    assert doc["summary"]["maintenance"] == 1
    assert doc["summary"]["alerts"] == len(doc["alerts"])
    assert doc["groups"] == [
        {"name": "shop", "checks": 2, "up": 1, "down": 1, "pending": 0},
        {"name": "edge", "checks": 1, "up": 1, "down": 0, "pending": 0},
        {"name": "", "checks": 4, "up": 3, "down": 1, "pending": 0},
    ]
    checks = {c["name"]: c for c in doc["checks"]}
    assert [c["name"] for c in doc["checks"]] == [
        "healthy", "failing", "slow", SCRIPT, "covered", "rollout/baseline", "rollout/canary"]

    f = checks["failing"]
    assert (f["state"], f["reason"], f["detail"], f["status_code"]) == \
        ("down", "http_status", "status 500 not in [200-299]", 500)
    assert f["consecutive_failures"] >= 3
    assert f["last_success"] is None and f["since_success_seconds"] is None
    assert f["group"] == "shop" and f["type"] == "http" and f["interval_seconds"] == 1
    assert f["target"] == target.url("/status/500")
    h = checks["healthy"]
    assert (h["state"], h["reason"], h["detail"], h["status_code"]) == ("up", None, "", 200)
    assert h["consecutive_failures"] == 0 and h["in_maintenance"] is False
    assert 0 <= h["since_success_seconds"] < 5
    assert h["cert_expiry"] is None and h["cert_expiry_soon"] is False
    assert checks["covered"]["in_maintenance"] is True
    assert checks[SCRIPT]["state"] == "up"
    for c in doc["checks"]:
        t = c["trend"]
        assert t["step_seconds"] == 30
        assert [len(t[k]) for k in ("t", "runs", "failures", "mean_seconds")] == [20] * 4
        starts = t["t"]
        assert starts == list(range(starts[0], starts[0] + 600, 30))
        assert starts[-1] <= now < starts[-1] + 30 + 5
        assert sum(t["runs"]) == c["latency"]["runs"]
        assert sum(t["failures"]) == c["latency"]["failures"]
        assert all((m is None) == (r == 0) for m, r in zip(t["mean_seconds"], t["runs"]))

    # Names and labels are data: given back as configured, escaped only by JSON.
    status, body = get(a)
    assert status == 200
    assert b'"name":"<script>alert(1)</script>"' in body

    # The maintenance window, to the second.
    assert doc["maintenance"] == [{"name": "now", "start": rfc3339(window_start),
                                   "end": rfc3339(window_start + 3600), "checks": ["covered"],
                                   "slos": [], "all": False}]
    alerts = {(x["alertname"], x["severity"]): x for x in doc["alerts"]}
    down = alerts[("OutpostCheckDown", "critical")]
    assert down["labels"] == {"check": "failing"}
    assert alerts[("OutpostCanaryFailed", "warning")]["labels"] == {"canary": "rollout"}
    assert down["since"] <= doc["generated_at"]


def test_latency_and_slo_match_metrics(agent_factory, target):
    a = agent_factory(config(target, int(time.time()) - 600))
    wait_for(lambda: (lambda c: c and c >= 10)(a.value("outpost_check_runs_total", check="slow")),
             timeout=20, what="ten runs of slow")

    # While the agent is younger than 10 minutes, the window holds every run:
    # its quantiles are histogram_quantile over the whole histogram.
    def runs(m):
        return m.get(("outpost_check_runs_total", frozenset({"check": "slow"}.items())))
    m, doc = same_moment(a, runs)
    lat = {c["name"]: c for c in doc["checks"]}["slow"]["latency"]
    buckets = sorted(((float(dict(k[1])["le"]), v) for k, v in m.items()
                      if k[0] == "outpost_check_duration_seconds_bucket"
                      and dict(k[1]).get("check") == "slow"), key=lambda b: b[0])
    assert [b[0] for b in buckets] == [0.05, 0.1, 1, math.inf]
    assert lat["window_seconds"] == 600
    assert lat["runs"] == runs(m) and lat["failures"] == 0
    assert lat["p50_seconds"] == histogram_quantile(0.5, buckets)
    assert lat["p95_seconds"] == histogram_quantile(0.95, buckets)
    # A 120 ms sleep lands in (0.1, 1]: 0.1 + 0.9 x q whatever the machine does.
    assert buckets[1][1] == 0 and buckets[2][1] == runs(m)
    assert abs(lat["p50_seconds"] - 0.55) < 1e-12 and abs(lat["p95_seconds"] - 0.955) < 1e-12

    def events(m):
        return m.get(("outpost_slo_events_total", frozenset({"slo": "shop-availability"}.items())))
    m, doc = same_moment(a, events)
    slo = doc["slos"][0]
    key = frozenset({"slo": "shop-availability"}.items())
    assert slo["name"] == "shop-availability" and slo["sli"] == "availability"
    assert slo["objective"] == 0.99 and slo["period"] == "30d"
    assert slo["period_seconds"] == 2592000
    assert slo["budget_remaining"] == m[("outpost_slo_error_budget_remaining_ratio", key)]
    assert slo["budget_remaining"] < 1
    assert slo["sli_ratio"] == 0  # every event bad
    assert slo["exhaustion_seconds"] == m[("outpost_slo_error_budget_exhaustion_seconds", key)]
    windows = [w["window"] for w in slo["windows"]]
    assert windows == ["5m", "30m", "1h", "2h", "6h", "1d", "3d"]
    for w in slo["windows"]:
        wk = frozenset({"slo": "shop-availability", "window": w["window"]}.items())
        assert w["events"] == m[("outpost_slo_window_events", wk)]
        assert w["sli_ratio"] == m[("outpost_slo_sli_ratio", wk)]
        assert w["burn_rate"] == m[("outpost_slo_burn_rate", wk)]
    assert slo["alerts"] == {"page": False, "ticket": False}
    assert slo["freeze"] is False and slo["in_maintenance"] is False
    # 720 hourly buckets in 60 points; the events are all in the last hour.
    ts, left = slo["burndown"]["t"], slo["burndown"]["budget_remaining"]
    assert len(ts) == len(left) == 60
    assert all(x == 1 for x in left[:-1])
    assert left[-1] == slo["budget_remaining"]
    assert all(ts[i + 1] - ts[i] == 43200 for i in range(58))
    assert 0 < ts[-1] - ts[-2] <= 43200

    # The canary's verdict is the Argo gate's.
    def verdicts():
        doc = model(a)
        st, _, body = http("GET", a.base + "/gates/argo/rollout")
        gate = json.loads(body)
        return doc["canaries"][0]["verdict"] == "fail" and gate["verdict"] == "fail" and \
            (doc, gate)
    doc, gate = wait_for(verdicts, timeout=20, what="a failed canary")
    k = doc["canaries"][0]
    assert k["name"] == "rollout" and k["verdict"] == gate["verdict"]
    assert k["arms"]["canary"]["error_ratio"] == 1 and k["arms"]["baseline"]["error_ratio"] == 0
    assert k["arms"]["canary"]["p95_seconds"] is None  # no successful sample
    assert k["arms"]["baseline"]["samples"] >= 10 and k["arms"]["canary"]["samples"] >= 10
    assert 0 <= k["error_p_value"] < 0.01
    assert set(k["latency_shift"]) == {"estimate_seconds", "lower_seconds", "upper_seconds"}


def test_pages_filters_and_errors(agent_factory, target):
    a = agent_factory(config(target, int(time.time()) - 600))
    wait_for(lambda: model(a)["summary"]["checks"]["pending"] == 0, timeout=20,
             what="every check probed")

    def names(query):
        doc = model(a, query)
        return [c["name"] for c in doc["checks"]], doc["page"]
    got, page = names("?state=down")
    assert got == ["failing", "rollout/canary"]
    assert page == {"group": None, "state": "down", "page": 1, "per_page": 500,
                    "checks_matched": 2, "pages": 1}
    got, page = names("?group=shop&per_page=1&page=2")
    assert got == ["failing"]
    assert page == {"group": "shop", "state": None, "page": 2, "per_page": 1,
                    "checks_matched": 2, "pages": 2}
    assert names("?group=shop&per_page=1&page=3")[0] == []
    assert names("?group=&state=up")[0] == [SCRIPT, "covered", "rollout/baseline"]
    assert names("?group=edge")[0] == ["slow"]
    assert names("?per_page=3&page=3")[0] == ["rollout/canary"]
    # Counts stay over every check whatever the page shows.
    doc = model(a, "?group=edge&per_page=1")
    assert doc["summary"]["checks"]["total"] == 7 and len(doc["groups"]) == 3

    for query, error in [
            ("?page=0", {"error": "page must be a whole number from 1"}),
            ("?page=-1", {"error": "page must be a whole number from 1"}),
            ("?page=x", {"error": "page must be a whole number from 1"}),
            ("?per_page=0", {"error": "per_page must be a whole number from 1 to 1000"}),
            ("?per_page=1001", {"error": "per_page must be a whole number from 1 to 1000"}),
            ("?state=failing", {"error": "state must be up, down or pending"}),
            ("?group=nope", {"error": "unknown group", "name": "nope"}),
            ("?group=%3Cscript%3E", {"error": "unknown group", "name": "<script>"}),
            # Not UTF-8: named back cleaned, so the answer stays valid JSON.
            ("?group=a%FF%0A", {"error": "unknown group", "name": "a??"})]:
        status, body = get(a, query)
        assert status == 400, (query, body)
        assert json.loads(body) == error, query
    assert model(a, "?per_page=1000")["page"]["per_page"] == 1000

    # Counted under their own handler label.
    m = parse_metrics(a.scrape_text())
    assert m[("outpost_http_requests_total",
              frozenset({"handler": "status_api", "code": "400"}.items()))] == 9
    assert m[("outpost_http_requests_total",
              frozenset({"handler": "status_api", "code": "200"}.items()))] >= 8
    st, _, _ = http("POST", a.base + "/api/v1/status")
    assert st == 405
