"""Canary judge: the offline command against scipy, Kayenta's miss, the live
agent's lock-step arms and metrics, and the Flagger and Argo gates."""
import json
import re
import random
import subprocess
import textwrap

import pytest

from conftest import AGENT_BIN, free_closed_port, http, wait_for

scipy_stats = pytest.importorskip("scipy.stats")

FLAGGER_BODY = {"name": "podinfo", "namespace": "test", "phase": "Progressing",
                "checksum": "6d9a4bd8", "metadata": {"type": "rollout"}}


def judge(tmp_path, baseline, canary, extra=()):
    b, c = tmp_path / "b.txt", tmp_path / "c.txt"
    b.write_text("".join(f"{v!r},{'ok' if ok else 'fail'}\n" for v, ok in baseline))
    c.write_text("".join(f"{v!r},{'ok' if ok else 'fail'}\n" for v, ok in canary))
    r = subprocess.run([AGENT_BIN, "canary", "judge", "--baseline", str(b), "--canary", str(c),
                        *extra], capture_output=True, text=True)
    out = json.loads(r.stdout)
    assert r.returncode == {"pass": 0, "fail": 1, "inconclusive": 3}[out["verdict"]], r.stderr
    return out


@pytest.mark.parametrize("seed", range(6))
def test_judge_matches_scipy(tmp_path, seed):
    """Random samples drawn in this run; p-values and U compared with scipy."""
    rnd = random.Random(seed)
    nb, nc = rnd.randint(30, 600), rnd.randint(30, 600)
    shift = rnd.choice([0.0, 0.002, 0.01])
    ties = seed % 2 == 1
    err_b, err_c = rnd.choice([0.0, 0.01]), rnd.choice([0.0, 0.01, 0.05])

    def draw(n, base, err):
        out = []
        for _ in range(n):
            v = rnd.lognormvariate(-3.5, 0.3) + base
            out.append((round(v, 3) if ties else v, rnd.random() >= err))
        return out
    baseline, canary = draw(nb, 0.0, err_b), draw(nc, shift, err_c)
    out = judge(tmp_path, baseline, canary)

    eb = sum(1 for _, ok in baseline if not ok)
    ec = sum(1 for _, ok in canary if not ok)
    fisher = scipy_stats.fisher_exact([[ec, nc - ec], [eb, nb - eb]], alternative="greater")[1]
    assert out["errors"]["baseline"] == {"n": nb, "failures": eb, "ratio": eb / nb}
    assert out["errors"]["canary"]["failures"] == ec
    assert out["errors"]["fisher_p"] == pytest.approx(fisher, rel=1e-9, abs=1e-15)

    x = [v for v, ok in canary if ok]
    y = [v for v, ok in baseline if ok]
    mw = scipy_stats.mannwhitneyu(x, y, alternative="greater", use_continuity=True,
                                  method="asymptotic")
    assert out["latency"]["mann_whitney_u"] == mw.statistic
    assert out["latency"]["mann_whitney_p"] == pytest.approx(mw.pvalue, rel=1e-9, abs=1e-300)
    import numpy
    for arm, data in (("baseline", y), ("canary", x)):
        got = out["latency"][arm]
        assert got["n"] == len(data)
        for q, key in ((50, "p50"), (95, "p95"), (99, "p99")):
            assert got[key] == pytest.approx(numpy.percentile(data, q), rel=1e-12)
    s = out["latency"]["shift"]
    assert s["lower"] <= s["estimate"] <= s["upper"]
    # The Hodges-Lehmann estimate is the median of the pairwise differences, also
    # for an even count of them (the mean of the two middle ones).
    med = float(numpy.median(numpy.subtract.outer(x, y)))
    assert s["estimate"] == pytest.approx(med, rel=1e-12, abs=1e-15)


def test_kayenta_miss_fails_here(tmp_path):
    """spinnaker#6278: 7 of 10 canary points at 100x pass Kayenta because the
    interval's lower bound is about 0; the p95 guard fails them here."""
    cfg = tmp_path / "c.yml"
    cfg.write_text(textwrap.dedent("""\
        checks: [{name: a, url: "http://127.0.0.1:1/"}]
        canaries:
          - {name: k, baseline_check: a, canary_check: a, min_samples: 10}
        """))
    baseline = [(0.010 + i * 0.0001, True) for i in range(10)]
    canary = [(0.010 + i * 0.0001, True) for i in range(3)] + [(1.0 + i * 0.01, True)
                                                                 for i in range(7)]
    out = judge(tmp_path, baseline, canary, ["--config.file", str(cfg), "--canary-name", "k"])
    s = out["latency"]["shift"]
    # Kayenta's rule alone would not call it High ...
    assert not s["lower"] > 0.25 * abs(s["estimate"])
    # ... the p95 guard fails it.
    assert out["latency"]["result"] == "fail"
    assert out["latency"]["p95_ratio"] > 50
    assert out["verdict"] == "fail" and out["score"] == 50
    # With the default min_samples (50) the same data is inconclusive.
    out = judge(tmp_path, baseline, canary)
    assert out["verdict"] == "inconclusive" and out["score"] is None


def test_judge_bad_input(tmp_path):
    b, c = tmp_path / "b.txt", tmp_path / "c.txt"
    b.write_text("0.1\n-1\nabc\n0.2,maybe\n")
    c.write_text("0.1,ok\n")
    r = subprocess.run([AGENT_BIN, "canary", "judge", "--baseline", str(b), "--canary", str(c)],
                       capture_output=True, text=True)
    assert r.returncode == 4 and r.stdout == ""
    assert f"{b}:2: latency_seconds is not a number >= 0" in r.stderr
    assert f"{b}:3: latency_seconds is not a number >= 0" in r.stderr
    assert f"{b}:4: the second field must be ok or fail" in r.stderr
    r = subprocess.run([AGENT_BIN, "canary", "judge", "--baseline", str(b)],
                       capture_output=True, text=True)
    assert (r.returncode, r.stderr) == (
        2, "outpost canary judge: --baseline and --canary are required "
        "(see outpost canary judge --help)\n")


def canary_config(target, min_samples=20):
    return textwrap.dedent(f"""\
        checks:
          - {{name: ok, url: "{target.url('/ok')}", interval: 1s}}
        canaries:
          - name: rollout
            # A timeout below the interval: every scheduled run starts (a run
            # is skipped only while the previous probe is still in flight).
            baseline: {{url: "{target.url('/stable')}", timeout: 150ms}}
            canary: {{url: "{target.url('/canary')}", timeout: 150ms}}
            interval: 200ms
            window: 1m
            min_samples: {min_samples}
          - name: twin
            baseline: {{url: "{target.url('/sleep/5')}"}}
            canary: {{url: "{target.url('/sleep/5')}"}}
            interval: 100ms
            min_samples: 10
            latency_p95_margin: 3
        """)


def test_live_canary_and_gates(agent_factory, target):
    a = agent_factory(canary_config(target))
    # A slower canary (+40 % latency) is judged High once both arms have samples.
    a.wait_value("outpost_canary_verdict", lambda v: v == 1, timeout=20, canary="rollout",
                 verdict="fail")
    m = a.metrics()

    def v(name, **labels):
        return m.get((name, frozenset(labels.items())))
    assert v("outpost_canary_verdict", canary="rollout", verdict="pass") == 0
    assert v("outpost_canary_verdict", canary="rollout", verdict="inconclusive") == 0
    nb = v("outpost_canary_samples", canary="rollout", arm="baseline")
    nc = v("outpost_canary_samples", canary="rollout", arm="canary")
    # Lock-step: both arms are probed at the same moments, so their counts
    # differ at most by the one probe still running when the verdict was taken.
    assert nb >= 20 and abs(nb - nc) <= 1
    assert v("outpost_canary_latency_shift_seconds", canary="rollout", bound="estimate") > 0
    assert v("outpost_canary_latency_seconds", canary="rollout", arm="canary", quantile="0.5") > \
        v("outpost_canary_latency_seconds", canary="rollout", arm="baseline", quantile="0.5")
    assert v("outpost_canary_error_p_value", canary="rollout") is not None
    # The arms are checks of their own.
    assert v("outpost_check_runs_total", check="rollout/baseline") >= 20
    # The same judgement over the Argo gate.
    st, hdrs, body = http("GET", a.base + "/gates/argo/rollout")
    assert st == 200 and hdrs["Content-Type"] == "application/json"
    doc = json.loads(body)
    assert doc["canary"] == "rollout" and doc["verdict"] == "fail"
    # A latency failure: Kayenta's High, or (when CPU starvation makes the
    # samples noisy and the interval wide) the p95 guard.
    assert doc["latency"]["result"] in ("high", "fail")
    assert doc["samples"]["baseline"] >= 20
    r = subprocess.run(["promtool", "check", "metrics"], input=a.scrape_text(),
                       capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout == "" and r.stderr == ""

    # Flagger: the first checksum starts a revision (samples reset).
    url = a.base + "/gates/flagger/rollout"
    body = json.dumps(FLAGGER_BODY).encode()
    st, _, text = http("POST", url + "?hook=rollout", data=body)
    assert st == 412 and text.decode().startswith("inconclusive:")
    assert text.decode().count("\n") == 1
    assert a.value("outpost_canary_samples", canary="rollout", arm="baseline") <= 2
    # Same checksum: no reset; once enough samples exist, rollout answers 412
    # (fail), rollback answers 200 (roll back now).
    wait_for(lambda: http("POST", url + "?hook=rollback", data=body)[0] == 200, timeout=20,
             what="rollback gate to say roll back")
    st, _, text = http("POST", url + "?hook=confirm-promotion", data=body)
    assert st == 412 and text.decode().startswith("fail: canary latency ")
    st, _, text = http("POST", url, data=body)  # default hook: rollout
    assert st == 412
    # A healthy twin passes rollout and refuses rollback.
    twin = a.base + "/gates/flagger/twin"
    st, _, _ = http("POST", twin, data=body)
    wait_for(lambda: http("POST", twin + "?hook=rollout", data=body)[0] == 200, timeout=20,
             what="twin to pass")
    st, _, text = http("POST", twin + "?hook=rollback", data=body)
    assert st == 412 and text.decode().startswith("no significant failure, pass")
    # A new checksum resets the samples again.
    new = dict(FLAGGER_BODY, checksum="7e0b5ce9")
    st, _, text = http("POST", twin, data=json.dumps(new).encode())
    # The twin passed with at least 10 samples an arm; after the reset only the probes
    # finishing between it and the verdict count (one each on a slow machine).
    m = re.match(r"inconclusive: (\d+) baseline and (\d+) canary samples, 10 per arm needed\n$",
                 text.decode())
    assert st == 412 and m, text
    assert int(m.group(1)) < 10 and int(m.group(2)) < 10, text


def test_canary_of_tcp_arms(agent_factory):
    """Arms of any check type: a canary whose port refuses every connection fails
    on its error ratio (Fisher) against a baseline port that accepts them."""
    import socket
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    refused = free_closed_port()
    try:
        a = agent_factory(textwrap.dedent(f"""\
            canaries:
              - name: db
                baseline: {{type: tcp, target: "127.0.0.1:{listener.getsockname()[1]}"}}
                canary: {{type: tcp, target: "127.0.0.1:{refused}"}}
                interval: 100ms
                min_samples: 10
            """))
        a.wait_value("outpost_canary_verdict", lambda v: v == 1, timeout=20, canary="db",
                     verdict="fail")
        st, _, body = http("GET", a.base + "/gates/argo/db")
        doc = json.loads(body)
        assert st == 200 and doc["verdict"] == "fail"
        assert doc["errors"]["baseline"]["failures"] == 0
        assert doc["errors"]["canary"]["failures"] == doc["samples"]["canary"] >= 10
        assert a.value("outpost_check_failures_total", check="db/canary", reason="connect") >= 10
        assert a.value("outpost_check_info", check="db/canary", type="tcp",
                       target=f"127.0.0.1:{refused}", group="") == 1
    finally:
        listener.close()


def test_gate_errors(agent_factory, target):
    a = agent_factory(canary_config(target))
    url = a.base + "/gates/flagger/rollout"
    cases = [
        (b"{not json", 400, "body is not JSON"),
        (b"[1,2]", 400, "body must be a JSON object"),
        (b'{"checksum": 5}', 400, "must be strings"),
        (b'{"metadata": {"a": 1}}', 400, "metadata must be an object of strings"),
        (json.dumps({"checksum": "x" * 300}).encode(), 400, "checksum longer than 255 bytes"),
        (b"", 400, "body is not JSON"),
        (b"{" + b" " * 70000 + b"}", 413, "body larger than 65536 bytes"),
    ]
    for data, status, text in cases:
        st, _, body = http("POST", url, data=data)
        assert st == status and text in body.decode(), (data[:20], st, body)
    st, _, body = http("POST", url + "?hook=bogus", data=b"{}")
    assert st == 400 and b"hook must be" in body
    st, _, body = http("POST", a.base + "/gates/flagger/nope", data=b"{}")
    assert st == 404 and body == b"no canary of that name\n"
    st, _, body = http("GET", a.base + "/gates/argo/nope")
    assert st == 404
    st, hdrs, _ = http("GET", url)
    assert st == 405 and hdrs["Allow"] == "POST"
    # Argo always answers 200 for a known canary, also while inconclusive.
    st, _, body = http("GET", a.base + "/gates/argo/twin")
    assert st == 200 and json.loads(body)["verdict"] in ("inconclusive", "pass")
    # The agent is still healthy after all that.
    assert http("GET", a.base + "/-/healthy")[0] == 200


def test_canary_config_errors(tmp_path):
    cfg = tmp_path / "c.yml"
    cfg.write_text(textwrap.dedent("""\
        checks:
          - {name: a, url: "http://127.0.0.1:1/"}
          - {name: x/baseline, url: "http://127.0.0.1:1/"}
        canaries:
          - {name: x, baseline: {url: "http://127.0.0.1:1/"}, canary_check: a}
          - {name: y, baseline_check: a, baseline: {url: "http://h/"}, canary_check: nope}
          - {name: z, baseline_check: a, canary_check: a, alpha: 2, window: 100ms}
          - {name: w, baseline: {url: "http://h/", interval: 5s}, canary_check: a}
        """))
    r = subprocess.run([AGENT_BIN, "--config.check", f"--config.file={cfg}"],
                       capture_output=True, text=True)
    assert r.returncode == 1
    err = r.stderr
    assert 'canaries[0] "x".baseline: a check named "x/baseline" already exists' in err
    assert 'canaries[1] "y": needs exactly one of baseline and baseline_check' in err
    assert 'canaries[1] "y".canary: no check named "nope"' in err
    assert 'canaries[2] "z".alpha: must be above 0 and below 1' in err
    # Durations as written, the default interval in Prometheus' form.
    assert 'canaries[2] "z": window (100ms) must not be shorter than interval (1s)' in err
    assert 'canaries[3] "w".baseline: an arm runs at the canary\'s interval' in err
