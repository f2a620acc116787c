"""Scale-out by sharding: three agents with --shard=0/3, 1/3 and 2/3 and one unsharded
agent run the same configuration against the test target. Which checks each shard runs
is computed here, independently, with 64-bit FNV-1a over the UTF-8 name; the shards'
checks must be exactly those, together the unsharded agent's, without overlap; and the
fleet SLIs a real Prometheus records from the three shards with
rules/outpost.fleet.rules.yml must equal those another Prometheus records from the single
agent. Also: the error of a file whose SLO spans shards (agent and --config.check), the
OUTPOST_SHARD forms a StatefulSet uses, bad values (exit 2), and reloads keeping the
shard.
"""
import os
import re
import signal
import subprocess
import textwrap

import pytest

from conftest import AGENT_BIN, SLOW, Agent, prometheus_query, wait_for

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FLEET_RULES = os.path.join(ROOT, "rules", "outpost.fleet.rules.yml")


def fnv1a64(s):
    h = 0xcbf29ce484222325
    for b in s.encode("utf-8"):
        h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
    return h


def shard_of(name, n):
    return fnv1a64(name) % n


def test_fnv_vectors():
    """The reference implementation above is the standard one."""
    assert fnv1a64("") == 0xcbf29ce484222325
    assert fnv1a64("a") == 0xaf63dc4c8601ec8c
    assert fnv1a64("foobar") == 0x85944171f73967e8


# Paths with fixed outcomes: /ok always 200, /status/NNN always NNN.
CHECKS = {
    "orders-ok": "/ok", "orders-500": "/status/500", "login-503": "/status/503",
    "search-ok": "/ok", "api-ok": "/ok", "home-ok": "/ok", "search-404": "/status/404",
    "checkout-ok": "/ok", "pay-502": "/status/502", "cart-500": "/status/500",
}
CANARY = "rollout"  # inline arms rollout/baseline and rollout/canary, both /ok
# Chosen so that every SLO's checks share a shard of 3 (asserted below): one mixed
# (half bad), one all good, one all bad, one over a canary's arm.
SLOS = {
    "orders": ["orders-ok", "orders-500"],
    "api": ["api-ok", "home-ok"],
    "checkout": ["pay-502", "cart-500"],
    "rollout-slo": ["rollout/canary"],
}


def config(target):
    lines = ["global: {interval: 200ms, timeout: 150ms}", "checks:"]
    for name, path in CHECKS.items():
        lines.append(f"  - {{name: {name}, url: '{target.url(path)}'}}")
    lines += ["canaries:",
              f"  - {{name: {CANARY}, interval: 200ms, window: 1m, "
              f"baseline: {{url: '{target.url('/ok')}'}}, "
              f"canary: {{url: '{target.url('/ok')}'}}}}",
              "slos:"]
    for name, checks in SLOS.items():
        lines.append(f"  - {{name: {name}, objective: 99, period: 1d, "
                     f"sli: {{checks: [{', '.join(checks)}]}}}}")
    return "\n".join(lines) + "\n"


def expected_shards(n):
    """{shard: set of check names}: a check by its name, a canary's arms by the canary's."""
    out = {i: set() for i in range(n)}
    for name in CHECKS:
        out[shard_of(name, n)].add(name)
    for arm in ("baseline", "canary"):
        out[shard_of(CANARY, n)].add(f"{CANARY}/{arm}")
    return out


def test_the_configuration_exercises_every_shard():
    """The partition this file relies on, as the hash decides it: no shard empty, and
    every SLO on one shard."""
    exp = expected_shards(3)
    assert all(exp[i] for i in range(3)), exp
    for slo, checks in SLOS.items():
        shards = {next(i for i in exp if c in exp[i]) for c in checks}
        assert len(shards) == 1, (slo, shards)


@pytest.fixture
def agents(tmp_path):
    """Start agents, each in a directory of its own (config, log, state)."""
    started = []

    def start(name, config_text, extra_args=(), env=None):
        d = tmp_path / name
        d.mkdir()
        a = Agent(str(d), config_text, extra_args=extra_args, env=env)
        started.append(a)
        return a
    yield start
    results = [(a, *a.stop()) for a in started]
    for a, rc, _ in results:
        logs = a.logs()
        assert "Sanitizer" not in logs and "runtime error:" not in logs, logs
        assert rc == 0, f"agent exited {rc}:\n{logs}"


@pytest.fixture
def prometheus(prometheus_server):
    """Start a Prometheus scraping the given agents every second, with the fleet rules."""
    def start(name, agent_list):
        targets = ", ".join(f'"127.0.0.1:{a.port}"' for a in agent_list)
        return prometheus_server(textwrap.dedent(f"""\
            global: {{scrape_interval: 1s, evaluation_interval: 1s}}
            rule_files: ["{FLEET_RULES}"]
            scrape_configs:
              - job_name: outpost
                static_configs: [{{targets: [{targets}]}}]
            """), name)
    return start


def query(base, q):
    """{frozenset(labels): value} of an instant query, or None while Prometheus is not up."""
    r = prometheus_query(base, q)
    if r is None:
        return None
    return {frozenset(x["metric"].items()): float(x["value"][1]) for x in r}


def checks_of(agent):
    m = agent.metrics()
    return {dict(labels)["check"] for (name, labels) in m if name == "outpost_check_info"}


def slos_of(agent):
    m = agent.metrics()
    return {dict(labels)["slo"] for (name, labels) in m if name == "outpost_slo_info"}


def shard_info(agent):
    m = agent.metrics()
    return [dict(labels) for (name, labels), v in m.items()
            if name == "outpost_shard_info" and v == 1]


def test_three_shards_equal_one_agent(target, agents, prometheus):
    text = config(target)
    shards = [agents(f"shard{i}", text, extra_args=[f"--shard={i}/3"]) for i in range(3)]
    single = agents("single", text)
    exp = expected_shards(3)

    # Exactly the checks the hash assigns, and the shard each says it is.
    for i, a in enumerate(shards):
        assert checks_of(a) == exp[i], (i, checks_of(a), exp[i])
        assert shard_info(a) == [{"shard": str(i), "shards": "3"}]
        assert a.value("outpost_checks_configured") == len(exp[i])
        assert slos_of(a) == {s for s, cs in SLOS.items() if cs[0] in exp[i]}
        assert re.search(rf'msg="running one shard of the configuration" shard={i}/3 '
                         rf'checks={len(exp[i])} checks_in_file=12 ', a.logs()), a.logs()
    assert shard_info(single) == [{"shard": "0", "shards": "1"}]
    # Together exactly the single agent's checks, no check twice.
    union = set().union(*(checks_of(a) for a in shards))
    assert union == checks_of(single)
    assert sum(len(checks_of(a)) for a in shards) == len(union) == len(CHECKS) + 2
    assert set().union(*(slos_of(a) for a in shards)) == slos_of(single) == set(SLOS)
    # Every shard exports the same agent families.
    fams = [{n for (n, _) in a.metrics() if n.startswith("outpost_") and
             not n.startswith(("outpost_check", "outpost_slo", "outpost_canary", "outpost_http"))}
            for a in shards + [single]]
    assert all(f == fams[0] for f in fams), fams

    fleet = prometheus("fleet", shards)
    one = prometheus("single", [single])
    rec = "slo:sli_error:ratio_rate5m"

    def both_ready():
        f, s = query(fleet, rec), query(one, rec)
        if not f or not s or len(f) < len(SLOS) or len(s) < len(SLOS):
            return None
        return f, s
    f, s = wait_for(both_ready, timeout=60 * SLOW, interval=0.5,
                    what="both Prometheus servers to record every SLO's fleet SLI")
    fleet_sli = {dict(k)["slo"]: v for k, v in f.items()}
    single_sli = {dict(k)["slo"]: v for k, v in s.items()}
    print("fleet SLIs", fleet_sli, "single agent", single_sli)
    assert set(fleet_sli) == set(single_sli) == set(SLOS)
    # Deterministic outcomes: exactly 0 and exactly 1, from the shards as from one agent.
    for slo, want in (("api", 0.0), ("rollout-slo", 0.0), ("checkout", 1.0)):
        assert fleet_sli[slo] == single_sli[slo] == want, (slo, fleet_sli, single_sli)
    # Half of orders' probes fail. Its two checks are probed at the same interval but
    # with their own phases, so a 5m rate of a few seconds of samples is 1/2 up to one
    # probe of either check in the window.
    assert abs(fleet_sli["orders"] - 0.5) < 0.05 and abs(single_sli["orders"] - 0.5) < 0.05
    assert abs(fleet_sli["orders"] - single_sli["orders"]) < 0.05
    # Each SLO is counted by one shard only (the sum does not double), and the fleet's
    # expected events (what the budget is judged against) are exactly the single agent's.
    per_slo = query(fleet, "count by (slo) (outpost_slo_events_total)")
    assert {dict(k)["slo"]: v for k, v in per_slo.items()} == {s: 1.0 for s in SLOS}
    exp_f = query(fleet, "slo:expected_events:sum")
    exp_s = query(one, "slo:expected_events:sum")
    assert exp_f == exp_s and len(exp_f) == len(SLOS)


SPLIT = """\
checks:
  - {name: orders-ok, url: 'http://127.0.0.1:1/ok'}
  - {name: api-ok, url: 'http://127.0.0.1:1/ok'}
  - {name: checkout-ok, url: 'http://127.0.0.1:1/ok'}
slos:
  - {name: wide, objective: 99, sli: {checks: [orders-ok, api-ok, checkout-ok]}}
"""
SPLIT_ERROR = ('slos[0] "wide": counts checks on different shards of 3: '
               '"orders-ok" (shard 0), "api-ok" (shard 1), "checkout-ok" (shard 2); '
               "an SLO's checks must share a shard (rename checks or split the SLO)")


def test_split_slo_is_a_config_error(tmp_path):
    assert [shard_of(c, 3) for c in ("orders-ok", "api-ok", "checkout-ok")] == [0, 1, 2]
    path = tmp_path / "split.yml"
    path.write_text(SPLIT)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OUTPOST_SHARD")}
    # Unsharded the file is fine; any shard of 3 rejects it, in --config.check too.
    r = subprocess.run([AGENT_BIN, "--config.check", f"--config.file={path}"],
                       capture_output=True, text=True, env=env, timeout=30)
    assert r.returncode == 0 and r.stdout == f"{path}: OK, 3 checks, 1 SLOs\n", r
    for i in range(3):
        r = subprocess.run([AGENT_BIN, "--config.check", f"--config.file={path}",
                            f"--shard={i}/3"], capture_output=True, text=True, env=env,
                           timeout=30)
        assert r.returncode == 1, r
        assert r.stderr == f"{path}:6:5: {SPLIT_ERROR}\n"
    # The agent does not start on it.
    r = subprocess.run([AGENT_BIN, f"--config.file={path}", "--shard=1/3",
                        "--web.listen-address=127.0.0.1:0",
                        f"--storage.path={tmp_path / 'data'}"],
                       capture_output=True, text=True, env=env, timeout=30)
    assert r.returncode == 1, r
    assert 'msg="cannot load configuration"' in r.stderr
    assert SPLIT_ERROR.replace('"', '\\"') in r.stderr  # logfmt escapes the quotes
    # A valid sharded check names the shard and the file's count.
    path.write_text(SPLIT.split("slos:")[0])
    r = subprocess.run([AGENT_BIN, "--config.check", f"--config.file={path}", "--shard=2/3"],
                       capture_output=True, text=True, env=env, timeout=30)
    assert r.returncode == 0
    assert r.stdout == f"{path}: OK, 1 checks, 0 SLOs on shard 2/3 (3 checks in the file)\n"


@pytest.mark.parametrize("args,env,message", [
    (["--shard=3/3"], {}, "--shard needs I/N"),
    (["--shard=0/0"], {}, "--shard needs I/N"),
    (["--shard=0/1025"], {}, "--shard needs I/N"),
    (["--shard=one/3"], {}, "--shard needs I/N"),
    (["--shard"], {}, "flag --shard needs a value"),
    ([], {"OUTPOST_SHARD": "3/3"}, "OUTPOST_SHARD needs I/N"),
    ([], {"OUTPOST_SHARD": "outpost-3", "OUTPOST_SHARDS": "3"}, "not below OUTPOST_SHARDS"),
    ([], {"OUTPOST_SHARD": "outpost-1"}, "needs OUTPOST_SHARDS"),
    ([], {"OUTPOST_SHARDS": "3"}, "OUTPOST_SHARD is not"),
    ([], {"OUTPOST_SHARD": "1/3", "OUTPOST_SHARDS": "2"}, "disagree"),
    ([], {"OUTPOST_SHARD": "outpost", "OUTPOST_SHARDS": "3"}, "pod name ending in -ORDINAL"),
])
def test_bad_shard_exits_2(tmp_path, args, env, message):
    path = tmp_path / "c.yml"
    path.write_text(SPLIT.split("slos:")[0])
    full = {k: v for k, v in os.environ.items() if not k.startswith("OUTPOST_SHARD")}
    full.update(env)
    r = subprocess.run([AGENT_BIN, f"--config.file={path}", "--config.check", *args],
                       capture_output=True, text=True, env=full, timeout=30)
    assert r.returncode == 2, r
    assert r.stdout == "" and r.stderr.count("\n") == 1 and message in r.stderr, r.stderr


@pytest.mark.parametrize("env,flag,want", [
    ({"OUTPOST_SHARD": "outpost-2", "OUTPOST_SHARDS": "3"}, None, 2),  # the pod's name
    ({"OUTPOST_SHARD": "1", "OUTPOST_SHARDS": "3"}, None, 1),  # the pod-index label
    ({"OUTPOST_SHARD": "0/3"}, None, 0),
    ({"OUTPOST_SHARD": "0/3"}, "--shard=2/3", 2),  # the flag wins
])
def test_shard_from_the_environment(target, agents, env, flag, want):
    a = agents("a", config(target), extra_args=[flag] if flag else [], env=env)
    assert shard_info(a) == [{"shard": str(want), "shards": "3"}]
    assert checks_of(a) == expected_shards(3)[want]


def test_reload_keeps_the_shard(target, agents):
    text = config(target)
    a = agents("a", text, extra_args=["--shard=1/3"])
    assert checks_of(a) == expected_shards(3)[1]
    # More checks: the reload keeps shard 1 of 3 and takes its share of them.
    extra = {f"extra-{k}": "/ok" for k in range(12)}
    added = "".join(f"  - {{name: {n}, url: '{target.url(p)}'}}\n" for n, p in extra.items())
    a.write_config(text.replace("canaries:\n", added + "canaries:\n"))
    before = a.value("outpost_config_last_reload_success_timestamp_seconds")
    a.proc.send_signal(signal.SIGHUP)
    a.wait_value("outpost_config_last_reload_success_timestamp_seconds",
                 lambda v: v > before, timeout=10 * SLOW)
    want = expected_shards(3)[1] | {n for n in extra if shard_of(n, 3) == 1}
    assert want != expected_shards(3)[1]  # some of the new ones are this shard's
    assert checks_of(a) == want
    assert shard_info(a) == [{"shard": "1", "shards": "3"}]
    assert a.value("outpost_config_last_reload_successful") == 1
