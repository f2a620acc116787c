"""DNS checks against a real resolver (dnsmasq on loopback), over UDP and TCP:
answer counts, rcodes, record texts as patterns see them, and the failure
reasons dns_rcode, dns_answer, connect and timeout."""
import json
import re
import shutil
import socket
import struct
import subprocess
import threading

import pytest

from conftest import SLOW, free_closed_port, http, wait_for

DNSMASQ = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
REASONS = ["timeout", "dns", "connect", "dns_rcode", "dns_answer", "other"]


def free_udp_port():
    """A loopback port free for both UDP and TCP (dnsmasq binds both)."""
    for _ in range(50):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("127.0.0.1", 0))
        port = u.getsockname()[1]
        t = socket.socket()
        try:
            t.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            u.close()
            t.close()
    raise AssertionError("no free port")


def query(port, name, qtype=1):
    """One UDP query; the reply's rcode, or None when none came."""
    q = struct.pack(">HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack(">HH", qtype, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.2)
    try:
        s.sendto(q, ("127.0.0.1", port))
        return s.recv(4096)[3] & 0x0f
    except OSError:
        return None
    finally:
        s.close()


@pytest.fixture(scope="module")
def resolver():
    """dnsmasq answering for .test only (other .test names: NXDOMAIN)."""
    port = free_udp_port()
    proc = subprocess.Popen([
        DNSMASQ, "--no-daemon", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
        "--listen-address=127.0.0.1", "--bind-interfaces", f"--port={port}",
        "--local-ttl=300", "--local=/test/",
        "--host-record=h.test,192.0.2.7,2001:db8::7",
        "--address=/two.test/192.0.2.1",
        "--address=/two.test/192.0.2.2",
        "--txt-record=t.test,v=spf1 -all",
        "--mx-host=m.test,mail.m.test,10",
        "--srv-host=_s._tcp.s.test,srv.s.test,5060,1,2",
    ], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: proc.poll() is not None or query(port, "h.test") == 0,
                 timeout=10 * SLOW, what="dnsmasq answering")
        assert proc.poll() is None, proc.stderr.read().decode()
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def dns_check(port, query_yaml, expect_yaml="", name="c", timeout="250ms", target=None):
    """One entry of `checks:` (YAML, indented for the list)."""
    lines = [f"  - name: {name}", "    type: dns", f"    timeout: {timeout}",
             f"    target: '{target or f'127.0.0.1:{port}'}'", f"    query: {query_yaml}"]
    if expect_yaml:
        lines.append(f"    expect: {expect_yaml}")
    return "\n".join(lines) + "\n"


def config(*checks):
    return "global: {interval: 300ms, timeout: 250ms}\nchecks:\n" + "".join(checks)


def reasons(agent, check):
    m = agent.metrics()
    return {r: m.get(("outpost_check_failures_total",
                      frozenset({("check", check), ("reason", r)})), 0) for r in REASONS}


def wait_runs(agent, check, n=2):
    agent.wait_value("outpost_check_runs_total", lambda v: v >= n, check=check,
                     timeout=10 * SLOW)


def assert_only(agent, check, reason):
    """Every run of check so far failed with reason (or succeeded: None).

    The runs and the failures are separate families of a scrape: a run that ends
    while one scrape is rendered shows in one and not yet in the other. So the
    comparison is made on a scrape that shows no run in between (a few tries),
    never on numbers read from two moments."""
    def compare():
        m = agent.metrics()
        runs = m.get(("outpost_check_runs_total", frozenset({("check", check)})))
        got = {r: m.get(("outpost_check_failures_total",
                         frozenset({("check", check), ("reason", r)})), 0) for r in REASONS}
        return got, {r: (runs if r == reason else 0) for r in REASONS}
    for _ in range(20):
        got, want = compare()
        if got == want:
            return
    assert got == want, agent.logs()


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_answers_and_rcode(agent_factory, resolver, transport):
    t = f"transport: {transport}"
    a = agent_factory(config(
        dns_check(resolver, f"{{name: h.test, {t}}}", name="a"),
        dns_check(resolver, f"{{name: h.test, type: AAAA, {t}}}",
                  "{answers_all_match: ['^h\\.test\\.\\t300\\tIN\\tAAAA\\t2001:db8::7$']}",
                  name="aaaa"),
        dns_check(resolver, f"{{name: two.test, {t}}}", "{min_answers: 2}", name="two"),
        dns_check(resolver, f"{{name: t.test, type: TXT, {t}}}",
                  "{answers_all_match: ['^t\\.test\\.\\t300\\tIN\\tTXT\\t\"v=spf1 -all\"$']}",
                  name="txt"),
        dns_check(resolver, f"{{name: m.test, type: MX, {t}}}",
                  "{answers_all_match: ['^m\\.test\\.\\t300\\tIN\\tMX\\t10 mail\\.m\\.test\\.$']}",
                  name="mx"),
        dns_check(resolver, f"{{name: _s._tcp.s.test, type: SRV, {t}}}",
                  "{answers_all_match: ['^_s\\._tcp\\.s\\.test\\.\\t300\\tIN\\tSRV\\t"
                  "1 2 5060 srv\\.s\\.test\\.$']}", name="srv"),
        dns_check(resolver, f"{{name: nope.test, {t}}}", name="nx"),
        dns_check(resolver, f"{{name: nope.test, {t}}}", "{rcode: [NXDOMAIN]}", name="nx_ok"),
        dns_check(resolver, f"{{name: h.test, {t}}}", "{answers_match: ['192\\.0\\.2\\.8$']}",
                  name="nomatch"),
        dns_check(resolver, f"{{name: h.test, {t}}}", "{min_answers: 2}", name="few"),
    ))
    expect = {  # check: (answers, rcode, failure reason or None)
        "a": (1, 0, None), "aaaa": (1, 0, None), "two": (2, 0, None), "txt": (1, 0, None),
        "mx": (1, 0, None), "srv": (1, 0, None), "nx": (0, 3, "dns_rcode"),
        "nx_ok": (0, 3, None), "nomatch": (1, 0, "dns_answer"), "few": (1, 0, "dns_answer"),
    }
    for name in expect:
        wait_runs(a, name)
    m = a.metrics()
    for name, (answers, rcode, reason) in expect.items():
        lab = frozenset({("check", name)})
        assert m[("outpost_check_dns_answers", lab)] == answers, name
        assert m[("outpost_check_dns_rcode", lab)] == rcode, name
        assert m[("outpost_check_up", lab)] == (0 if reason else 1), (name, a.logs())
        assert_only(a, name, reason)
        info = m[("outpost_check_info", frozenset({("check", name), ("type", "dns"),
                                                    ("target", f"127.0.0.1:{resolver}"),
                                                    ("group", "")}))]
        assert info == 1
        assert m[("outpost_check_phase_duration_seconds",
                  frozenset({("check", name), ("phase", "resolve")}))] == 0
        assert m[("outpost_check_phase_duration_seconds",
                  frozenset({("check", name), ("phase", "processing")}))] > 0


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_nothing_listens_is_connect(agent_factory, transport):
    port = free_closed_port()
    a = agent_factory(config(dns_check(port, f"{{name: h.test, transport: {transport}}}")))
    wait_runs(a, "c")
    assert_only(a, "c", "connect")
    m = a.metrics()
    # No reply: the reply's gauges are absent.
    assert ("outpost_check_dns_answers", frozenset({("check", "c")})) not in m
    assert ("outpost_check_dns_rcode", frozenset({("check", "c")})) not in m


def test_silent_resolver_is_timeout(agent_factory):
    # Bound, never read: the query is accepted and no reply ever comes.
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    try:
        port = s.getsockname()[1]
        a = agent_factory(config(dns_check(port, "{name: h.test}", timeout="200ms")))
        wait_runs(a, "c")
        assert_only(a, "c", "timeout")
        m = a.metrics()
        assert ("outpost_check_dns_answers", frozenset({("check", "c")})) not in m
        # The run lasted its timeout, not much more.
        dur = m[("outpost_check_duration_seconds_sum", frozenset({("check", "c")}))]
        runs = m[("outpost_check_runs_total", frozenset({("check", "c")}))]
        assert 0.19 <= dur / runs < 0.3 * SLOW
    finally:
        s.close()


def test_gauges_absent_again_after_a_reply(agent_factory, resolver):
    """A reply sets the gauges; when the resolver stops answering they go."""
    a = agent_factory(config(dns_check(resolver, "{name: h.test}")))
    wait_runs(a, "c", 1)
    assert a.value("outpost_check_dns_answers", check="c") == 1
    # Point the same check at a port nobody listens on (reload).
    a.write_config(config(dns_check(free_closed_port(), "{name: h.test}")))
    a.proc.send_signal(1)
    wait_for(lambda: a.value("outpost_check_dns_answers", check="c") is None,
             timeout=10 * SLOW, what="gauge gone")
    assert a.value("outpost_check_up", check="c") == 0


def test_resolver_by_name(agent_factory, resolver):
    """A host name as the resolver (localhost: answered without a query)."""
    a = agent_factory(config(dns_check(resolver, "{name: h.test}", target=f"localhost:{resolver}")))
    wait_runs(a, "c")
    assert_only(a, "c", None)
    assert a.value("outpost_check_dns_answers", check="c") == 1
    assert a.value("outpost_check_info", check="c", type="dns", target=f"localhost:{resolver}",
                   group="") == 1


def test_resolver_of_the_wrong_family_is_dns(agent_factory, resolver):
    body = dns_check(resolver, "{name: h.test}") + \
        "    ip_protocol: ip6\n    ip_protocol_fallback: false\n"
    a = agent_factory(config(body))
    wait_runs(a, "c")
    assert_only(a, "c", "dns")
    assert a.value("outpost_check_dns_answers", check="c") is None


class FakeResolver:
    """A UDP server on loopback answering every query with reply(query)."""

    def __init__(self, reply):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.reply = reply
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stopping.is_set():
            try:
                q, peer = self.sock.recvfrom(4096)
            except OSError:
                continue
            self.sock.sendto(self.reply(q), peer)

    def stop(self):
        self.stopping.set()
        self.thread.join(timeout=5)
        self.sock.close()


def answer(q, rcode, an, records):
    """The query turned into a reply: QR set, rcode, an answer count, records after."""
    flags = 0x8000 | 0x0100 | rcode
    return q[:2] + struct.pack(">HHHHH", flags, 1, an, 0, 0) + q[12:] + records


@pytest.mark.parametrize("case", ["cut_short", "servfail"])
def test_fake_replies(agent_factory, case):
    replies = {
        # One answer announced, its header cut short: a malformed reply.
        "cut_short": (lambda q: answer(q, 0, 1, b"\xc0\x0c\x00\x01"), "other", None),
        # SERVFAIL is the reply judged; c-ares does not look elsewhere.
        "servfail": (lambda q: answer(q, 2, 0, b""), "dns_rcode", 2),
    }
    reply, reason, rcode = replies[case]
    fake = FakeResolver(reply)
    try:
        a = agent_factory(config(dns_check(fake.port, "{name: h.test}")))
        wait_runs(a, "c")
        assert_only(a, "c", reason)
        assert a.value("outpost_check_dns_rcode", check="c") == rcode
    finally:
        fake.stop()


BLACKBOX = shutil.which("prometheus-blackbox-exporter") or "/usr/bin/prometheus-blackbox-exporter"
# Our key suffix -> blackbox_exporter's validator key.
BB_KEYS = {"match": "fail_if_none_matches_regexp", "not_match": "fail_if_matches_regexp",
           "all_match": "fail_if_not_matches_regexp",
           "not_all_match": "fail_if_all_match_regexp"}
BB_SECTIONS = {"answers": "validate_answer_rrs", "authority": "validate_authority_rrs",
               "additional": "validate_additional_rrs"}
# (name, type, section, kind, patterns): the same probe judged by both.
VERDICT_CASES = [
    ("t.test", "TXT", "answers", "all_match", ['^t\\.test\\.\\t300\\tIN\\tTXT\\t"v=spf1 -all"$']),
    ("m.test", "MX", "answers", "all_match", ["^m\\.test\\.\\t300\\tIN\\tMX\\t10 mail\\.m\\.test\\.$"]),
    ("_s._tcp.s.test", "SRV", "answers", "all_match",
     ["^_s\\._tcp\\.s\\.test\\.\\t300\\tIN\\tSRV\\t1 2 5060 srv\\.s\\.test\\.$"]),
    ("h.test", "AAAA", "answers", "all_match", ["^h\\.test\\.\\t300\\tIN\\tAAAA\\t2001:db8::7$"]),
    ("two.test", "A", "answers", "all_match", ["\\.1$"]),
    ("two.test", "A", "answers", "match", ["\\.1$", "nomatch"]),
    ("two.test", "A", "answers", "match", ["nomatch"]),
    ("two.test", "A", "answers", "not_match", ["nomatch", "\\.2$"]),
    ("two.test", "A", "answers", "not_match", ["nomatch"]),
    ("two.test", "A", "answers", "not_all_match", ["\\.1$"]),
    ("two.test", "A", "answers", "not_all_match", ["192\\.0\\.2\\."]),
    ("two.test", "A", "authority", "match", ["x"]),
    ("two.test", "A", "authority", "all_match", ["x"]),
    ("two.test", "A", "authority", "not_all_match", ["x"]),
    ("nope.test", "A", "answers", "not_match", ["x"]),
]


def test_same_verdicts_as_blackbox_exporter(agent_factory, resolver, tmp_path):
    """Each case probed by blackbox_exporter (Debian's) and by a dns check:
    the same record texts and pattern semantics give the same verdict."""
    modules, checks = {}, []
    for i, (name, qtype, sec, kind, pats) in enumerate(VERDICT_CASES):
        modules[f"m{i}"] = {"prober": "dns", "timeout": "2s", "dns": {
            "query_name": name, "query_type": qtype, "preferred_ip_protocol": "ip4",
            "ip_protocol_fallback": False, BB_SECTIONS[sec]: {BB_KEYS[kind]: pats}}}
        checks.append(dns_check(resolver, f"{{name: {name}, type: {qtype}}}",
                                f"{{{sec}_{kind}: {json.dumps(pats)}}}", name=f"m{i}"))
    bb_conf = tmp_path / "blackbox.yml"
    bb_conf.write_text(json.dumps({"modules": modules}))  # JSON is YAML
    bb_port = free_udp_port()
    bb = subprocess.Popen([BLACKBOX, f"--config.file={bb_conf}",
                           f"--web.listen-address=127.0.0.1:{bb_port}"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        def probe(module):
            url = f"http://127.0.0.1:{bb_port}/probe?module={module}&target=127.0.0.1:{resolver}"
            status, _, body = http("GET", url)
            assert status == 200, body
            return float(re.search(rb"^probe_success (\S+)$", body, re.M).group(1))
        def up():
            try:
                return http("GET", f"http://127.0.0.1:{bb_port}/-/healthy")[0] == 200
            except OSError:
                return False
        wait_for(lambda: bb.poll() is not None or up(), timeout=10 * SLOW,
                 what="blackbox_exporter")
        assert bb.poll() is None, bb.stderr.read().decode()
        want = {f"m{i}": probe(f"m{i}") for i in range(len(VERDICT_CASES))}
    finally:
        bb.terminate()
        bb.wait(timeout=10)
    # Both verdicts occur, so the comparison can fail either way.
    assert set(want.values()) == {0.0, 1.0}
    a = agent_factory(config(*checks))
    for m in want:
        wait_runs(a, m, 1)
    got = {m: a.value("outpost_check_up", check=m) for m in want}
    assert got == want, [(VERDICT_CASES[int(m[1:])], got[m], want[m])
                         for m in want if got[m] != want[m]]
