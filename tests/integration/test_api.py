"""GET /api/v1/checks[/{name}]: each check's facts and its last result, with a
detail that says why it failed. The real agent against the real target."""
import calendar
import json
import os
import re
import subprocess
import textwrap
import time

from conftest import Target, free_closed_port, http, wait_for

RFC3339_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
PHASES = ["resolve", "connect", "tls", "processing", "transfer"]


def config(target):
    return textwrap.dedent(f"""\
        global: {{interval: 500ms, timeout: 400ms}}
        checks:
          - name: ok
            group: shop
            url: {target.url('/ok')}
          - name: status
            url: {target.url('/status/503')}
          - name: status_ranges
            url: {target.url('/status/503')}
            expect: {{status: ["200-299", 301]}}
          - name: json
            url: {target.url('/json')}
            expect: {{json: [{{path: nested.deep.value, equals: "y"}}]}}
          - name: timeout
            url: {target.url('/sleep/3000')}
          - name: refused
            url: http://127.0.0.1:{free_closed_port()}/
          - name: never
            url: {target.url('/ok')}
            interval: 7d
        canaries:
          - name: shop
            baseline: {{url: "{target.url('/ok')}"}}
            canary: {{url: "{target.url('/sleep/3000')}", timeout: 300ms}}
            interval: 500ms
        """)


# name -> (success, reason, detail, status) of every result these checks have.
EXPECTED = {
    "ok": (True, None, "", 200),
    "status": (False, "http_status", "status 503 not in [200-299]", 503),
    "status_ranges": (False, "http_status", "status 503 not in [200-299, 301]", 503),
    "json": (False, "json", 'json nested.deep.value: want "y", got "x"', 200),
    "timeout": (False, "timeout", "timeout after 0.400 s in phase processing", 0),
    "refused": (False, "connect", "connect: connection refused", 0),
    "shop/baseline": (True, None, "", 200),
    "shop/canary": (False, "timeout", "timeout after 0.300 s in phase processing", 0),
}


def get_json(agent, path):
    status, headers, body = http("GET", agent.base + path)
    assert headers["Content-Type"] == "application/json", (status, headers)
    return status, json.loads(body)


def all_probed(agent):
    """The listing once every check but `never` has a last result."""
    _, doc = get_json(agent, "/api/v1/checks")
    done = {c["name"] for c in doc["checks"] if c["last_result"] is not None}
    return doc if set(EXPECTED) <= done else None


def assert_result(check, target, now):
    name = check["name"]
    success, reason, detail, status = EXPECTED[name]
    r = check["last_result"]
    assert set(r) == {"time", "success", "reason", "detail", "duration_seconds", "phases",
                      "status"}, r
    assert (r["success"], r["reason"], r["detail"], r["status"]) == \
        (success, reason, detail, status), name
    assert RFC3339_MS.match(r["time"]), r["time"]
    t = calendar.timegm(time.strptime(r["time"][:19], "%Y-%m-%dT%H:%M:%S"))
    assert now - 30 <= t <= now + 1, (r["time"], now)
    assert sorted(r["phases"]) == sorted(PHASES)
    assert all(v >= 0 for v in r["phases"].values())
    assert r["phases"]["tls"] == 0  # plain HTTP
    if reason == "timeout":
        limit = 0.3 if name == "shop/canary" else 0.4
        assert limit <= r["duration_seconds"] < limit + 0.05, r
    else:
        assert 0 < r["duration_seconds"] < 0.3, r
    if success:
        assert check["consecutive_failures"] == 0
    else:
        assert check["consecutive_failures"] >= 1


def test_checks_listing(agent_factory, target):
    a = agent_factory(config(target))
    doc = wait_for(lambda: all_probed(a), what="every check probed")
    now = time.time()
    names = [c["name"] for c in doc["checks"]]
    # Configuration order; inline canary arms follow the checks.
    assert names == ["ok", "status", "status_ranges", "json", "timeout", "refused", "never",
                     "shop/baseline", "shop/canary"]
    paths = {"ok": "/ok", "status": "/status/503", "status_ranges": "/status/503",
             "json": "/json", "timeout": "/sleep/3000", "never": "/ok",
             "shop/baseline": "/ok", "shop/canary": "/sleep/3000"}
    for c in doc["checks"]:
        assert set(c) == {"name", "type", "target", "group", "interval_seconds",
                          "consecutive_failures", "last_result"}, c
        assert c["type"] == "http"
        assert c["group"] == ("shop" if c["name"] == "ok" else "")
        if c["name"] in paths:
            assert c["target"] == target.url(paths[c["name"]])
        if c["name"] == "never":
            # Not probed yet: nothing true to say about a last result.
            assert c["interval_seconds"] == 7 * 86400
            assert c["last_result"] is None and c["consecutive_failures"] == 0
            continue
        assert c["interval_seconds"] == 0.5
        assert_result(c, target, now)


def test_check_by_name(agent_factory, target):
    a = agent_factory(config(target))
    wait_for(lambda: all_probed(a), what="every check probed")
    now = time.time()
    for name, path in [("status", "status"), ("json", "json"), ("ok", "ok"),
                       ("timeout", "timeout"),
                       # A name with '/' in it, as is and %-encoded.
                       ("shop/canary", "shop/canary"), ("shop/canary", "shop%2Fcanary"),
                       ("shop/baseline", "shop%2fbaseline")]:
        status, c = get_json(a, "/api/v1/checks/" + path)
        assert status == 200, (path, c)
        assert c["name"] == name
        assert_result(c, target, now)
    status, c = get_json(a, "/api/v1/checks/never")
    assert status == 200 and c["last_result"] is None

    # Unknown names, the canary's own name (not a check) and no name: 404.
    for path, name in [("nope", "nope"), ("shop", "shop"), ("shop%2Fnope", "shop/nope"),
                       ("", "")]:
        status, err = get_json(a, "/api/v1/checks/" + path)
        assert status == 404
        assert err == {"error": "no check of that name", "name": name}

    # GET and HEAD only.
    for method in ["POST", "PUT", "DELETE"]:
        for path in ["/api/v1/checks", "/api/v1/checks/ok"]:
            status, headers, _ = http(method, a.base + path, data=b"" if method != "DELETE"
                                      else None)
            assert status == 405 and headers["Allow"] == "GET, HEAD", (method, path)
    status, headers, body = http("HEAD", a.base + "/api/v1/checks/ok")
    assert status == 200 and body == b"" and headers["Content-Type"] == "application/json"
    # Listed on the landing page.
    assert 'href="/api/v1/checks"' in http("GET", a.base + "/")[2].decode()


def test_debug_log_carries_detail(agent_factory, target):
    a = agent_factory(textwrap.dedent(f"""\
        global: {{interval: 300ms, timeout: 250ms}}
        checks:
          - name: status
            url: {target.url('/status/503')}
          - name: json
            url: {target.url('/json')}
            expect: {{json: [{{path: status, equals: degraded}}]}}
        """), extra_args=["--log.level=debug"])
    wait_for(lambda: 'check=json' in a.logs() and 'check=status' in a.logs(),
             what="failed probes logged")
    logs = a.logs()
    assert 'msg="probe failed" check=status reason=http_status ' \
           'detail="status 503 not in [200-299]"' in logs
    assert 'msg="probe failed" check=json reason=json ' \
           'detail="json status: want \\"degraded\\", got \\"ok\\""' in logs


def expired_cert(d):
    """A self-signed certificate valid in January 2020 only: (cert, key)."""
    os.makedirs(os.path.join(d, "new"))
    open(os.path.join(d, "index.txt"), "w").close()
    with open(os.path.join(d, "serial"), "w") as f:
        f.write("01\n")
    cnf = os.path.join(d, "ca.cnf")
    with open(cnf, "w") as f:
        f.write(textwrap.dedent(f"""\
            [ca]
            default_ca = c
            [c]
            database = {d}/index.txt
            new_certs_dir = {d}/new
            serial = {d}/serial
            default_md = sha256
            policy = p
            copy_extensions = copy
            [p]
            commonName = supplied
            """))
    key, req, cert = (os.path.join(d, n) for n in ("key.pem", "req.pem", "cert.pem"))
    subprocess.run(["openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", req, "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    subprocess.run(["openssl", "ca", "-batch", "-config", cnf, "-selfsign", "-keyfile", key,
                    "-in", req, "-out", cert, "-startdate", "20200101000000Z",
                    "-enddate", "20200201000000Z", "-notext"], check=True, capture_output=True)
    return cert, key


def test_tls_details(agent_factory, tmp_path, tls_target, certs):
    cert, key = expired_cert(str(tmp_path / "ca"))
    expired = Target(None, tls=(cert, key))
    try:
        a = agent_factory(textwrap.dedent(f"""\
            global: {{interval: 300ms, timeout: 250ms}}
            checks:
              - name: expired
                url: {expired.url('/ok')}
                tls: {{ca_file: {cert}}}
              - name: untrusted
                url: {tls_target.url('/ok')}
              - name: trusted
                url: {tls_target.url('/ok')}
                tls: {{ca_file: {certs[0]}}}
            """))
        checks = wait_for(lambda: (lambda d: all(c["last_result"] for c in d["checks"]) and d)(
            get_json(a, "/api/v1/checks")[1]), what="every check probed")["checks"]
    finally:
        expired.stop()
    last = {c["name"]: c["last_result"] for c in checks}
    assert last["expired"]["reason"] == "tls"
    assert last["expired"]["detail"] == "tls: certificate has expired (notAfter 2020-02-01)"
    # Where the date says nothing, libcurl's words (OpenSSL 1.1 writes "self signed").
    assert last["untrusted"]["reason"] == "tls"
    assert re.fullmatch(r"tls: SSL certificate problem: self[- ]signed certificate",
                        last["untrusted"]["detail"]), last["untrusted"]["detail"]
    assert last["trusted"]["success"] and last["trusted"]["detail"] == ""
    assert last["trusted"]["phases"]["tls"] > 0
