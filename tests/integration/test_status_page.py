"""GET /status in a real browser: what a person sees.

The agent runs healthy, failing and slow checks, an SLO that burns, a canary that fails
and a maintenance window; headless Chromium (tests/support/cdp.py) opens /status and
the assertions read what is rendered (innerText, element text), compared with what
/api/v1/status says at the same moment. A check named like a script shows as text and
runs nothing; the page's own script runs because the Content-Security-Policy allows it
by hash, and nothing is refused by that policy.
"""
import json
import os
import re
import sys
import textwrap
import time

from conftest import http, wait_for

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
import cdp  # noqa: E402

XSS_NAME = "<script>window.__xss=1</script> & \"q\" 'x'"
SECRET = "s3cr3t-in-url"


def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def config(target):
    start = rfc3339(time.time() - 60)
    return textwrap.dedent(f"""\
        global: {{interval: 500ms, timeout: 400ms}}
        checks:
          - {{name: healthy, group: web, url: "{target.url('/ok')}"}}
          - {{name: failing, group: web, url: "{target.url('/status/503')}"}}
          - {{name: slow, group: web, url: "{target.url('/sleep/150')}"}}
          - {{name: batch, group: jobs, url: "{target.url('/ok')}"}}
          - name: {json.dumps(XSS_NAME)}
            group: "<b>grp</b>"
            url: "http://user:{SECRET}@127.0.0.1:{target.port}/ok?token={SECRET}"
        slos:
          - name: web-availability
            objective: 50
            sli: {{checks: [healthy, failing, slow]}}
        canaries:
          - name: rollout
            baseline: {{url: "{target.url('/ok')}"}}
            canary: {{url: "{target.url('/status/500')}"}}
            interval: 100ms
            min_samples: 10
        maintenance:
          - name: db-upgrade
            schedule: {{start: "{start}", duration: 1h}}
            checks: [batch]
        """)


def api(a):
    status, _, body = http("GET", a.base + "/api/v1/status")
    assert status == 200, body
    return json.loads(body)


def by_name(items, name):
    return next(x for x in items if x["name"] == name)


def percent(ratio, decimals=1):
    """The page's percentages: fixed decimals, no minus sign on what rounds to zero, and
    a ratio strictly between 0 and 1 never shown as exactly 0 or 100 %."""
    v, unit = ratio * 100, 10 ** -decimals
    if 0 < ratio < 1 and v >= 100 - unit / 2:
        return f"> {100 - unit:.{decimals}f} %"
    if 0 < ratio < 1 and v < unit / 2:
        return f"< {unit:.{decimals}f} %"
    if abs(v) < unit / 2:
        v = 0.0
    return f"{v:.{decimals}f} %"


# Collects the policy's refusals from the first moment of every document; scripts
# injected over the protocol are not subject to the page's policy.
CSP_WATCH = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
    e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
"""

ROWS = """[...document.querySelectorAll('table.checks tbody tr')].map(r => ({
    name: r.querySelector('.name').textContent,
    state: r.querySelector('.state').innerText,
    result: r.querySelector('.result').innerText,
    spark: r.querySelector('svg.spark').getAttribute('aria-label'),
    marks: r.querySelectorAll('svg.spark .fail-mark').length,
    visible: r.offsetParent !== null}))"""

SLOS = """[...document.querySelectorAll('#slos article')].map(c => ({
    title: c.querySelector('h3').innerText,
    budget: c.querySelector('.budget').innerText,
    exhaustion: c.querySelector('.exhaustion').innerText,
    burndown: c.querySelector('svg.burn').getAttribute('aria-label')}))"""

CANARIES = """[...document.querySelectorAll('#canaries article')].map(c => ({
    title: c.querySelector('h3').innerText,
    verdict: c.querySelector('.verdict').innerText}))"""


def test_status_page_in_browser(agent_factory, target, tmp_path):
    a = agent_factory(config(target))
    # Wait until the model has what the page is to show: a failing check with its reason,
    # the SLO counting, the canary judged.
    wait_for(lambda: (lambda m: by_name(m["checks"], "failing")["state"] == "down"
                      and by_name(m["checks"], "slow")["state"] == "up"
                      and by_name(m["slos"], "web-availability")["budget_remaining"] is not None
                      and by_name(m["canaries"], "rollout")["verdict"] == "fail")(api(a)),
             timeout=30, what="a failing check, a counting SLO and a failed canary")

    # The headers, from a plain client.
    status, headers, body = http("GET", a.base + "/status")
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    csp = headers["Content-Security-Policy"]
    assert re.fullmatch(r"default-src 'none'; style-src 'sha256-[A-Za-z0-9+/]{43}='; "
                        r"script-src 'sha256-[A-Za-z0-9+/]{43}='; img-src data:; "
                        r"base-uri 'none'; form-action 'self'; frame-ancestors 'none'", csp), csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cache-Control"] == "no-store"
    page = body.decode()
    assert SECRET not in page
    assert "<script>window.__xss" not in page

    profile = None
    with cdp.Browser() as b:
        profile, pgid = b.dir, b.pgid
        tab = b.new_page()
        tab.add_init_script(CSP_WATCH)

        # The SLO's budget as the API says it, read before and after the page; when both
        # agree (no probe result moved it between), the page must say the same.
        def budget_agrees():
            before = by_name(api(a)["slos"], "web-availability")["budget_remaining"]
            tab.navigate(a.base + "/status")
            shown = by_name_title(tab.evaluate(SLOS), "web-availability")
            after = by_name(api(a)["slos"], "web-availability")["budget_remaining"]
            if percent(before) != percent(after):
                return None
            return shown, before
        shown, budget = wait_for(budget_agrees, timeout=30, interval=0.2,
                                 what="an SLO budget that holds still across a page load")
        assert shown["budget"] == f"budget remaining {percent(budget)}"
        # A third of the events bad against a 50 % objective: burning, not yet spent.
        assert 0 < budget < 1 and shown["exhaustion"].startswith("exhausted in ")

        model = api(a)
        text = tab.evaluate("document.body.innerText")
        rows = {r["name"]: r for r in tab.evaluate(ROWS)}
        # The failing check, failing, with its reason and detail, visible.
        failing = by_name(model["checks"], "failing")
        assert rows["failing"]["state"] == "down" and rows["failing"]["visible"]
        assert rows["failing"]["result"].startswith(failing["reason"])
        assert failing["detail"] and failing["detail"] in rows["failing"]["result"]
        # The sparklines: the failing check's failures marked, the healthy one's latency.
        assert rows["failing"]["marks"] >= 1 and " 0 failed runs" not in rows["failing"]["spark"]
        assert rows["healthy"]["marks"] == 0 and ": peak " in rows["healthy"]["spark"]
        assert shown["burndown"].startswith("budget remaining over the period: from ")
        assert rows["healthy"]["state"] == "up"
        assert rows["slow"]["state"] == "up"
        # Failing first in its group.
        names = [r["name"] for r in tab.evaluate(ROWS)]
        assert names.index("failing") < names.index("healthy")
        # The canary's verdict.
        canary = by_name_title(tab.evaluate(CANARIES), "rollout")
        assert canary["verdict"] == "fail"
        # The maintenance window and the check it covers.
        assert "db-upgrade" in text and "checks: batch" in text
        # The script-named check: its name is text on the page; nothing ran.
        assert rows[XSS_NAME]["state"] == "up"
        assert XSS_NAME in text and "<b>grp</b>" in text
        assert tab.evaluate("window.__xss === undefined") is True
        # The page's own script ran (allowed by its hash): the pause button is shown
        # and works.
        assert tab.evaluate("!document.getElementById('refresh').hidden") is True
        assert tab.evaluate("document.getElementById('refresh').click(), "
                            "document.getElementById('refresh').textContent") == \
            "Resume auto-refresh"
        # Nothing refused by the policy, nothing logged.
        assert tab.evaluate("window.__csp") == []
        assert not [e for e in tab.console() if "Content Security Policy" in e[2]
                    or e[1] == "error"], tab.console()

        shot = tab.screenshot(str(tmp_path / "status.png"))
        with open(shot, "rb") as f:
            png = f.read()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10000

        # Without JavaScript the page is whole: the same text, no refresh button.
        nojs = b.new_page()
        nojs.set_javascript(False)
        nojs.navigate(a.base + "/status")
        rows = {r["name"]: r for r in nojs.evaluate(ROWS)}
        assert rows["failing"]["state"] == "down" and rows["failing"]["visible"]
        assert nojs.evaluate("document.getElementById('refresh').hidden") is True

        # A phone's width: no horizontal scrolling of the page itself.
        phone = b.new_page()
        phone.set_viewport(390, 844, mobile=True, scale=2)
        phone.navigate(a.base + "/status")
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        phone.screenshot(str(tmp_path / "status-phone.png"))

    # Nothing left running, no profile left behind.
    assert not cdp._group_pids(pgid)
    assert not os.path.exists(profile)


def by_name_title(cards, name):
    return next(c for c in cards if c["title"].split(" ")[0] == name)


def test_status_page_queries(agent_factory, target):
    a = agent_factory(config(target))
    wait_for(lambda: by_name(api(a)["checks"], "failing")["state"] == "down",
             timeout=20, what="the failing check")
    # Filters and pages: the links on the page are the API's query.
    status, _, body = http("GET", a.base + "/status?state=down")
    assert status == 200
    page = body.decode()
    assert '<span class="name">failing</span>' in page
    assert '<span class="name">healthy</span>' not in page
    assert '<span aria-current="true">failing only</span>' in page
    status, _, body = http("GET", a.base + "/status?per_page=1&page=2")
    page = body.decode()
    assert status == 200
    # Every check counts, the canary's arms too.
    matched = json.loads(http("GET", a.base + "/api/v1/status?per_page=1&page=2")[2])["page"]
    assert matched["checks_matched"] == 7 and matched["pages"] == 7
    assert "<span>Checks 2\u2013" "2 of 7</span>" in page
    assert '<a href="?per_page=1">1</a><span aria-current="page">2</span>' in page
    assert '<a href="?page=3&per_page=1">next \u00bb</a>' in page
    # A bad query is refused as the API refuses it, and nothing is rendered.
    for q in ("page=0", "per_page=100000", "state=sideways", "group=nope"):
        status, headers, _ = http("GET", a.base + "/status?" + q)
        assert status == 400, q
    # HEAD: the headers without the body; other methods are not allowed.
    status, headers, body = http("HEAD", a.base + "/status")
    assert status == 200 and body == b"" and "Content-Security-Policy" in headers
    status, headers, _ = http("POST", a.base + "/status", data=b"")
    assert status == 405 and headers["Allow"] == "GET, HEAD"
    # The handler's label on the request counter.
    assert a.value("outpost_http_requests_total", handler="status", code="200") >= 3
