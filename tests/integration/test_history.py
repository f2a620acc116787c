"""Canary run history: the gates' calls recorded into runs (Flagger's checksum, Argo's
?revision=), the API and `outpost canary history` over them, and the history surviving
kill -9 with a run going on across the restart."""
import json
import os
import subprocess
import textwrap

from conftest import AGENT_BIN, http, wait_for

FLAGGER = {"name": "podinfo", "namespace": "test", "phase": "Progressing",
           "metadata": {"type": "rollout"}}


def config(target, with_bad=True):
    # good and argo pass within about a second (identical arms, 10 samples at
    # 100 ms); bad fails on its error ratio as soon as both arms hold 10 samples.
    bad = textwrap.indent(textwrap.dedent(f"""\
        - name: bad
          baseline: {{url: "{target.url('/ok')}", timeout: 80ms}}
          canary: {{url: "{target.url('/status/500')}", timeout: 80ms}}
          interval: 100ms
          min_samples: 10
        """), "  ") if with_bad else ""
    return textwrap.dedent(f"""\
        canaries:
          - name: good
            baseline: {{url: "{target.url('/sleep/5')}"}}
            canary: {{url: "{target.url('/sleep/5')}"}}
            interval: 100ms
            min_samples: 10
            latency_p95_margin: 3
          - name: argo
            baseline: {{url: "{target.url('/sleep/5')}"}}
            canary: {{url: "{target.url('/sleep/5')}"}}
            interval: 100ms
            min_samples: 10
            latency_p95_margin: 3
        """) + bad


def flagger(a, canary, checksum, hook):
    body = json.dumps(dict(FLAGGER, checksum=checksum)).encode()
    st, _, text = http("POST", f"{a.base}/gates/flagger/{canary}?hook={hook}", data=body)
    return st, text.decode()


def argo(a, canary, revision=None):
    q = f"?revision={revision}" if revision else ""
    st, _, body = http("GET", f"{a.base}/gates/argo/{canary}{q}")
    assert st == 200, body
    return json.loads(body)


def get(a, path):
    st, hdrs, body = http("GET", a.base + path)
    if st == 200:
        assert hdrs["Content-Type"] == "application/json"
    return st, json.loads(body)


def runs(a, canary):
    st, doc = get(a, f"/api/v1/canaries/{canary}/runs")
    assert st == 200, doc
    assert doc["canary"] == canary
    return doc["runs"]


def wait_verdict(a, canary, verdict):
    a.wait_value("outpost_canary_verdict", lambda v: v == 1, timeout=20, canary=canary,
                 verdict=verdict)


def cli(tmp_path, *args):
    return subprocess.run([AGENT_BIN, "canary", "history",
                           f"--storage.path={tmp_path / 'data'}", *args],
                          capture_output=True, text=True)


def same_verdict(call, doc):
    """A recorded call holds what the Argo gate answered, field by field."""
    assert call["verdict"] == doc["verdict"] and call["score"] == doc["score"]
    assert call["samples"] == doc["samples"]
    for arm in ("baseline", "canary"):
        assert call["errors"][arm]["ratio"] == doc["errors"][arm]["ratio"]
        for q in ("p50", "p95", "p99"):
            assert call["latency"][arm][q] == doc["latency"][arm][q]
    assert call["errors"]["fisher_p"] == doc["errors"]["fisher_p"]
    assert call["latency"]["shift"] == doc["latency"]["shift"]
    assert call["reason"] == doc["reason"]
    assert call["hook"] is None and call["phase"] is None and call["status"] == 200


def test_history(agent_factory, target, tmp_path):
    a = agent_factory(config(target))

    # Flagger, checksum A on good: the first call resets the samples (inconclusive,
    # 412); once the judge passes, rollout and confirm-promotion answer 200 and the
    # confirmation ends the run: promoted.
    st, text = flagger(a, "good", "A", "rollout")
    assert st == 412 and text.startswith("inconclusive:")
    wait_verdict(a, "good", "pass")
    assert flagger(a, "good", "A", "rollout")[0] == 200
    assert flagger(a, "good", "A", "confirm-promotion")[0] == 200
    [ra] = runs(a, "good")
    assert ra["source"] == "flagger" and ra["revision"] == "A" and ra["calls"] == 3
    assert ra["outcome"] == "promoted" and ra["ended"] == ra["last_call"]
    assert ra["last_verdict"] == "pass"
    st, run = get(a, f"/api/v1/canaries/good/runs/{ra['id']}")
    assert st == 200 and isinstance(run["calls"], list) and "last_call" in run
    assert [(c["seq"], c["hook"], c["phase"], c["status"], c["verdict"]) for c in run["calls"]] \
        == [(1, "rollout", "Progressing", 412, "inconclusive"), (2, "rollout", "Progressing", 200,
                                                                "pass"),
            (3, "confirm-promotion", "Progressing", 200, "pass")]
    assert run["calls"][0]["score"] is None and run["calls"][0]["samples"]["baseline"] <= 2
    assert run["calls"][2]["score"] == 100 and run["calls"][2]["time"] == run["ended"]
    # Checksum B: a new run; A stays promoted (it had ended).
    assert flagger(a, "good", "B", "rollout")[0] == 412
    rb, ra2 = runs(a, "good")
    assert rb["revision"] == "B" and rb["outcome"] is None and rb["ended"] is None
    assert rb["calls"] == 1 and rb["id"] > ra["id"] and ra2 == ra

    # bad: X is superseded by Y; Y is rolled back once the rollback hook says 200.
    assert flagger(a, "bad", "X", "rollout")[0] == 412
    assert flagger(a, "bad", "Y", "rollback")[0] == 412  # inconclusive: no failure yet
    wait_verdict(a, "bad", "fail")
    st, text = flagger(a, "bad", "Y", "rollout")
    assert st == 412 and text.startswith("fail:")
    assert flagger(a, "bad", "Y", "rollback")[0] == 200
    ry, rx = runs(a, "bad")
    assert (rx["revision"], rx["outcome"], rx["calls"]) == ("X", "superseded", 1)
    assert (ry["revision"], ry["outcome"], ry["calls"]) == ("Y", "rolled_back", 3)
    assert rx["ended"] == ry["started"]
    st, run = get(a, f"/api/v1/canaries/bad/runs/{ry['id']}")
    assert [(c["hook"], c["status"], c["verdict"]) for c in run["calls"]] == [
        ("rollback", 412, "inconclusive"), ("rollout", 412, "fail"), ("rollback", 200, "fail")]
    assert run["calls"][2]["errors"]["canary"]["ratio"] == 1

    # Argo: ?revision= is a checksum (a new one resets the samples and starts a run);
    # without one a call joins the open run. Each call holds what the gate answered.
    answers = [argo(a, "argo", "r1")]
    assert answers[0]["verdict"] == "inconclusive" and answers[0]["samples"]["baseline"] <= 2
    wait_verdict(a, "argo", "pass")
    answers.append(argo(a, "argo", "r1"))
    answers.append(argo(a, "argo"))
    assert answers[2]["verdict"] == "pass" and answers[2]["samples"]["baseline"] >= 10
    [r1] = runs(a, "argo")
    assert (r1["source"], r1["revision"], r1["calls"], r1["outcome"]) == ("argo", "r1", 3, None)
    st, run = get(a, f"/api/v1/canaries/argo/runs/{r1['id']}")
    assert len(run["calls"]) == 3
    for call, doc in zip(run["calls"], answers):
        same_verdict(call, doc)
    assert argo(a, "argo", "r2")["verdict"] == "inconclusive"  # reset
    r2, r1b = runs(a, "argo")
    assert (r2["revision"], r2["calls"], r1b["outcome"]) == ("r2", 1, "superseded")
    # A bad revision is refused before anything happens.
    st, _, body = http("GET", f"{a.base}/gates/argo/argo?revision=a%20b")
    assert st == 400 and b"revision must be" in body
    st, _, body = http("GET", f"{a.base}/gates/argo/argo?revision={'x' * 256}")
    assert st == 400

    # The API's edges.
    st, doc = get(a, "/api/v1/canaries/nope/runs")
    assert st == 404 and doc == {"error": "no canary of that name", "name": "nope"}
    assert get(a, "/api/v1/canaries/good/runs/abc")[0] == 400
    assert get(a, "/api/v1/canaries/good/runs/-1")[0] == 400
    assert get(a, f"/api/v1/canaries/bad/runs/{ra['id']}")[0] == 404  # good's run
    assert get(a, "/api/v1/canaries/good/runs/999999")[0] == 404
    assert get(a, "/api/v1/canaries/good/runs?limit=0")[0] == 400
    assert get(a, "/api/v1/canaries/good/runs?limit=1001")[0] == 400
    st, doc = get(a, "/api/v1/canaries/good/runs?limit=1")
    assert st == 200 and [r["revision"] for r in doc["runs"]] == ["B"]
    st, hdrs, _ = http("POST", a.base + "/api/v1/canaries/good/runs", data=b"")
    assert st == 405 and hdrs["Allow"] == "GET, HEAD"
    assert a.value("outpost_history_errors_total") == 0
    assert [a.value("outpost_http_requests_total", handler="runs", code=c)
            for c in ("200", "400", "404", "405")] == [9, 4, 3, 1]

    before = {c: runs(a, c) for c in ("good", "bad", "argo")}
    # The CLI reads the file while the agent runs it: the API's JSON.
    r = cli(tmp_path, "--canary=good", "--format=json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"canary": "good", "runs": before["good"]}

    # kill -9: every answered call was committed before its answer.
    a.kill9()
    r = cli(tmp_path, "--format=json")
    assert r.returncode == 0, r.stderr
    assert [x["id"] for x in json.loads(r.stdout)["runs"]] == sorted(
        (x["id"] for v in before.values() for x in v), reverse=True)
    # Restarted without bad: its runs stay queryable by name.
    b = agent_factory(config(target, with_bad=False))
    assert {c: runs(b, c) for c in ("good", "bad", "argo")} == before
    # The same revision goes on in its run (the samples start over: inconclusive).
    assert flagger(b, "good", "B", "rollout")[0] == 412
    assert argo(b, "argo", "r2")["verdict"] == "inconclusive"
    rb2 = runs(b, "good")[0]
    assert (rb2["id"], rb2["calls"], rb2["started"]) == (rb["id"], 2, rb["started"])
    assert runs(b, "argo")[0]["id"] == r2["id"] and runs(b, "argo")[0]["calls"] == 2
    st, doc = get(b, f"/api/v1/canaries/bad/runs/{ry['id']}")
    assert st == 200 and doc["outcome"] == "rolled_back" and len(doc["calls"]) == 3
    r = cli(tmp_path, f"--run={ry['id']}", "--format=json")
    assert r.returncode == 0 and json.loads(r.stdout) == doc

    # The table: aligned columns, newest first.
    r = cli(tmp_path, "--canary=good")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["ID", "CANARY", "SOURCE", "REVISION", "STARTED", "ENDED",
                                "OUTCOME", "CALLS", "LAST_VERDICT"]
    assert lines[1].split()[:4] == [str(rb["id"]), "good", "flagger", "B"]
    assert lines[1].split()[5:] == ["-", "open", "2", "inconclusive"]
    assert lines[2].split()[6:] == ["promoted", "3", "pass"]
    assert len({ln.index("SOURCE") if "SOURCE" in ln else ln.index("flagger")
                for ln in lines}) == 1
    r = cli(tmp_path, f"--run={ra['id']}")
    assert r.returncode == 0 and "confirm-promotion" in r.stdout and "SEQ" in r.stdout


def test_history_cli_errors(tmp_path):
    r = cli(tmp_path)
    assert r.returncode == 1 and r.stdout == ""
    assert f"{tmp_path / 'data' / 'history.db'}: no such file" in r.stderr
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "history.db").write_text("not a database at all, just text\n" * 4)
    r = cli(tmp_path)
    assert r.returncode == 1 and "not a database" in r.stderr
    for args in (["--limit=0"], ["--limit=1001"], ["--format=xml"], ["--run=x"], ["--bogus"],
                 ["--canary"]):
        r = cli(tmp_path, *args)
        assert r.returncode == 2 and r.stdout == "", (args, r.stderr)
    r = subprocess.run([AGENT_BIN, "canary", "history", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("usage: outpost canary history")
    r = subprocess.run([AGENT_BIN, "--storage.history-retention=59m"], capture_output=True,
                       text=True)
    assert r.returncode == 2 and "1h to 100y" in r.stderr


def test_history_needs_credentials(agent_factory, target, tmp_path):
    tokens = tmp_path / "tokens"
    tokens.write_text("s3cret-token-for-history-0123456789\n")
    a = agent_factory(config(target, with_bad=False),
                      extra_args=[f"--web.bearer-tokens-file={tokens}"])
    assert http("GET", a.base + "/api/v1/canaries/good/runs")[0] == 401
    st, _, body = http("GET", a.base + "/api/v1/canaries/good/runs",
                       headers={"Authorization": "Bearer s3cret-token-for-history-0123456789"})
    assert st == 200 and json.loads(body) == {"canary": "good", "runs": []}
    assert os.stat(tmp_path / "data" / "history.db").st_mode & 0o777 == 0o640


def test_history_unavailable(agent_factory, target, tmp_path):
    """A history that cannot be opened: the gates still answer, each call they could not
    record is counted, the API says 503."""
    (tmp_path / "data" / "history.db").mkdir(parents=True)
    a = agent_factory(config(target, with_bad=False))
    assert "cannot open the canary run history" in a.logs()
    assert "not a regular file" in a.logs()
    assert a.value("outpost_history_errors_total") == 0
    assert argo(a, "argo", "r1")["verdict"] == "inconclusive"
    assert flagger(a, "good", "A", "rollout")[0] == 412
    assert a.value("outpost_history_errors_total") == 2
    st, doc = get(a, "/api/v1/canaries/good/runs")
    assert st == 503 and "not open" in doc["error"]


def test_history_cli_controls(agent_factory, target, tmp_path):
    """What a Flagger client sends (its checksum, its phase) never drives the terminal the
    table is printed on: C0 and C1 control characters (ESC, U+009B CSI, U+0085) show as ?."""
    a = agent_factory(config(target, with_bad=False))
    body = json.dumps(dict(FLAGGER, checksum="\u009b2J\u001b[1m", phase="\u009b31mX\u0085Y"))
    st, _, _ = http("POST", f"{a.base}/gates/flagger/good?hook=rollout", data=body.encode())
    assert st == 412
    a.stop()
    r = subprocess.run([AGENT_BIN, "canary", "history", f"--storage.path={tmp_path / 'data'}",
                        "--run=1"], capture_output=True)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert b"\x1b" not in out and b"\xc2\x9b" not in out and b"\xc2\x85" not in out, out
    lines = out.decode().splitlines()
    assert lines[1].split()[3] == "?2J?[1m"
    assert lines[4].split()[3] == "?31mX?Y"
    # The JSON keeps them, escaped as JSON does.
    r = cli(tmp_path, "--run=1", "--format=json")
    doc = json.loads(r.stdout)
    assert doc["revision"] == "\u009b2J\u001b[1m" and doc["calls"][0]["phase"] == "\u009b31mX\u0085Y"
