"""icmp checks: loopback over IPv4 and IPv6 with exact loss and ordered rtt
statistics; and, inside network namespaces this test creates, a target that
never answers (reason loss, every packet lost) and a router that answers
"host unreachable" (reason connect), each through a raw socket and through
an ICMP datagram socket (net.ipv4.ping_group_range is per namespace).

Needs root (CI runs integration tests as root) for the namespaces."""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import textwrap

import pytest

from conftest import AGENT_BIN, SLOW, parse_metrics, wait_for

STATS = ("min", "avg", "max", "stddev")


def icmp_config(checks):
    """A config of icmp checks: {name: extra YAML keys}."""
    out = "global: {interval: 300ms, timeout: 250ms}\nchecks:\n"
    for name, body in checks.items():
        out += f"  - name: {name}\n    type: icmp\n" + textwrap.indent(
            textwrap.dedent(body), "    ")
    return out


def rtt(m, check):
    return {s: m.get(("outpost_check_icmp_rtt_seconds",
                      frozenset({("check", check), ("stat", s)}))) for s in STATS}


def assert_healthy(m, check):
    assert m[("outpost_check_up", frozenset({("check", check)}))] == 1
    assert m[("outpost_check_icmp_packets_lost", frozenset({("check", check)}))] == 0
    r = rtt(m, check)
    assert all(v is not None for v in r.values()), r
    assert 0 < r["min"] <= r["avg"] <= r["max"] < 0.25, r
    assert 0 <= r["stddev"] <= r["max"] - r["min"], r


def test_loopback_v4_and_v6(agent_factory):
    a = agent_factory(icmp_config({
        "v4": "target: 127.0.0.1\npackets: 3\npacket_interval: 10ms\n",
        "v6": "target: '::1'\npackets: 5\npacket_interval: 10ms\npayload_size: 1400\n"
              "ttl: 9\ndont_fragment: true\n",
        "name": "target: localhost\nip_protocol: ip6\nip_protocol_fallback: false\n",
    }))
    for c in ("v4", "v6", "name"):
        a.wait_value("outpost_check_runs_total", lambda v: v >= 2, check=c)
    m = a.metrics()
    for c in ("v4", "v6", "name"):
        assert_healthy(m, c)
    # The socket kind of each family is logged once, with the reason.
    assert len(re.findall(r'msg="?icmp sockets', a.logs())) == 1, a.logs()
    assert re.search(r'ipv4="?(datagram|raw)', a.logs()), a.logs()


def test_config_errors_name_the_place(tmp_path):
    path = tmp_path / "bad.yml"
    path.write_text(icmp_config({"c": "target: 127.0.0.1\npackets: 101\n"}))
    r = subprocess.run([AGENT_BIN, "--config.check", f"--config.file={path}"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    assert f"{path}:6:14: checks[0] \"c\".packets" in r.stdout + r.stderr, r.stdout + r.stderr


# ---- namespaces ----

def sh(*args, check=True):
    return subprocess.run(args, check=check, capture_output=True, text=True, timeout=30)


@pytest.fixture
def netns():
    """Two namespaces: `agent` (lo up; 10.99.0.0/24 routed into lo, where nothing
    answers; 10.97.0.0/24 via a veth to `router`) and `router` (forwards, and
    routes 10.97.0.0/24 as unreachable, so it answers with ICMP host unreachable)."""
    if os.geteuid() != 0 or not shutil.which("ip"):
        pytest.skip("needs root and iproute2 to create network namespaces")
    tag = f"otp-icmp-{os.getpid()}"
    ns, router = tag + "-a", tag + "-r"
    sh("ip", "netns", "add", ns)
    sh("ip", "netns", "add", router)
    try:
        a = ("ip", "netns", "exec", ns)
        rt = ("ip", "netns", "exec", router)
        sh(*a, "ip", "link", "set", "lo", "up")
        sh(*a, "ip", "route", "add", "10.99.0.0/24", "dev", "lo")
        sh(*a, "ip", "link", "add", "v0", "type", "veth", "peer", "name", "v1",
           "netns", router)
        sh(*a, "ip", "addr", "add", "10.96.0.1/30", "dev", "v0")
        sh(*a, "ip", "link", "set", "v0", "up")
        sh(*a, "ip", "route", "add", "10.97.0.0/24", "via", "10.96.0.2")
        sh(*rt, "ip", "link", "set", "lo", "up")
        sh(*rt, "ip", "addr", "add", "10.96.0.2/30", "dev", "v1")
        sh(*rt, "ip", "link", "set", "v1", "up")
        sh(*rt, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        # Every probe gets its error: no rate limit on the router's ICMP errors.
        sh(*rt, "sysctl", "-qw", "net.ipv4.icmp_ratelimit=0")
        sh(*rt, "ip", "route", "add", "unreachable", "10.97.0.0/24")
        yield ns
    finally:
        sh("ip", "netns", "del", ns, check=False)
        sh("ip", "netns", "del", router, check=False)


class NsAgent:
    """The agent inside a namespace; its endpoints are read from inside too."""

    def __init__(self, tmp, ns, config):
        self.ns = ns
        cfg = os.path.join(tmp, "outpost.yml")
        with open(cfg, "w") as f:
            f.write(config)
        self.log_path = os.path.join(tmp, "agent.log")
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", ns, AGENT_BIN, f"--config.file={cfg}",
             "--web.listen-address=127.0.0.1:0", f"--storage.path={tmp}/data"],
            stdout=self.log, stderr=self.log)
        m = wait_for(lambda: self.proc.poll() is None and re.search(
            r'listening"?[ ,]"?address"?[=:]"?127\.0\.0\.1:(\d+)', self.logs()),
            what="agent in the namespace to listen")
        self.base = f"http://127.0.0.1:{m.group(1)}"

    def logs(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def get(self, path):
        r = sh("ip", "netns", "exec", self.ns, "/usr/bin/python3", "-c",
               "import sys, urllib.request; "
               "sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())",
               self.base + path)
        return r.stdout

    def metrics(self):
        return parse_metrics(self.get("/metrics"))

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=10 * SLOW)
        self.log.close()
        logs = self.logs()
        assert "Sanitizer" not in logs and "runtime error:" not in logs, logs
        assert rc == 0, logs


@pytest.mark.parametrize("group_range,kind", [("1 0", "raw"), ("0 0", "datagram")])
def test_loss_and_unreachable_in_namespace(tmp_path, netns, group_range, kind):
    # The agent runs as root (group 0): "0 0" lets it have datagram sockets,
    # the kernel's default "1 0" leaves it the raw ones.
    sh("ip", "netns", "exec", netns, "sysctl", "-qw",
       f"net.ipv4.ping_group_range={group_range}")
    a = NsAgent(str(tmp_path), netns, icmp_config({
        "lo": "target: 127.0.0.1\npacket_interval: 10ms\n",
        "lost": "target: 10.99.0.7\npacket_interval: 10ms\n",
        "ratio": "target: 10.99.0.8\npackets: 4\npacket_interval: 10ms\n"
                 "max_loss_ratio: 1\n",
        "unreach": "target: 10.97.0.5\n",
    }))
    try:
        for c in ("lo", "lost", "ratio", "unreach"):
            wait_for(lambda c=c: a.metrics().get(
                ("outpost_check_runs_total", frozenset({("check", c)}))), what=f"a run of {c}")
        m = a.metrics()
        logs = a.logs()
        assert re.search(rf'ipv4="?{kind}\b', logs), logs
        assert_healthy(m, "lo")

        def fails(c, reason):
            return m[("outpost_check_failures_total", frozenset({("check", c), ("reason", reason)}))]
        lost = frozenset({("check", "lost")})
        assert m[("outpost_check_up", lost)] == 0
        assert fails("lost", "loss") >= 1
        assert m[("outpost_check_icmp_packets_lost", lost)] == 3
        # No reply: no rtt series at all (NaN = absent), not a zero.
        assert all(v is None for v in rtt(m, "lost").values())
        # Every packet lost, but max_loss_ratio 1 accepts it.
        ratio = frozenset({("check", "ratio")})
        assert m[("outpost_check_up", ratio)] == 1
        assert m[("outpost_check_icmp_packets_lost", ratio)] == 4
        unreach = frozenset({("check", "unreach")})
        assert m[("outpost_check_up", unreach)] == 0
        assert fails("unreach", "connect") >= 1
        api = json.loads(a.get("/api/v1/checks/unreach"))
        detail = json.dumps(api)
        assert "host unreachable (reported by 10.96.0.2)" in detail, detail
    finally:
        a.stop()


def test_no_socket_says_why(tmp_path, netns):
    """Neither kind of socket (a group outside the namespace's range, no
    CAP_NET_RAW): every run fails with reason other, and the detail names the
    sysctl and the capability, the two ways out."""
    if not shutil.which("setpriv"):
        pytest.skip("needs setpriv (util-linux)")
    sh("ip", "netns", "exec", netns, "sysctl", "-qw", "net.ipv4.ping_group_range=1 0")
    # pytest's directories are root's alone: a file the unprivileged user can read.
    fd, cfg = tempfile.mkstemp(prefix="outpost-icmp-", suffix=".yml")
    try:
        os.write(fd, icmp_config({"p": "target: 127.0.0.1\npackets: 1\n"}).encode())
        os.close(fd)
        os.chmod(cfg, 0o644)
        r = sh("ip", "netns", "exec", netns, "setpriv", "--reuid=65534", "--regid=65534",
               "--clear-groups", AGENT_BIN, "check", f"--config.file={cfg}", "--format=json",
               check=False)
    finally:
        os.unlink(cfg)
    assert r.returncode == 1, r.stderr
    run = json.loads(r.stdout)["checks"][0]
    assert (run["result"], run["reason"]) == ("fail", "other"), run
    assert run["detail"] == (
        "no ICMP socket: Operation not permitted (the agent's group is outside "
        "net.ipv4.ping_group_range and it has no CAP_NET_RAW)")
