"""The Kubernetes manifests (packaging/kubernetes): the base, the secured overlay, the
sharded overlay (a StatefulSet of shards) and the base with its optional hostPath patch
are rendered with `kubectl kustomize`, every object
is validated offline against the Kubernetes and Prometheus Operator schemas (npm packages
kubernetes-models and @kubernetes-models/prometheus-operator, pinned in
tests/support/k8s-validate and installed with `npm ci` under the build tree on first use),
and the properties the docs promise are asserted: the pod's security settings, probes,
resources, the Prometheus Operator's selector label, and that the PrometheusRule is the
generated one. The ConfigMap's outpost.yml goes through the real binary's --config.check.

Only the --config.check test runs in the sanitizer pass (OUTPOST_SANITIZED): the rest
exercises kubectl and Node.js, not the binary.
"""
import base64
import hashlib
import os
import re
import shutil
import subprocess
import warnings

import pytest
import yaml

from conftest import AGENT_BIN, BUILD

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
K8S = os.path.join(ROOT, "packaging", "kubernetes")
BASE = os.path.join(K8S, "base")
SECURED = os.path.join(K8S, "overlays", "secured")
SHARDED = os.path.join(K8S, "overlays", "sharded")
CONFIG = os.path.join(BASE, "outpost.yml")
VALIDATOR_SRC = os.path.join(ROOT, "tests", "support", "k8s-validate")
VALIDATOR_DIR = os.path.join(os.path.abspath(BUILD), "k8s-validate")

# kube-prometheus-stack's Prometheus selects PodMonitors and PrometheusRules by
# `release: <helm release name>` (docs/operations.md, "Install on Kubernetes").
SELECTOR_LABEL = ("release", "kube-prometheus-stack")
UID = 65532
METRICS_PORT = 9469

not_sanitized = pytest.mark.skipif(
    bool(os.environ.get("OUTPOST_SANITIZED")),
    reason="manifests only: kubectl and Node.js, no sanitizer finding possible")


# --- the ConfigMap's configuration through the real binary (both passes) ------------

def test_configmap_config_passes_config_check():
    """The shipped outpost.yml is valid: without its secrets (how CI lints), and with
    POD_IP and NODE_NAME set as the downward API sets them in the pod."""
    r = subprocess.run([AGENT_BIN, "--config.check", "--config.skip-secrets",
                        f"--config.file={CONFIG}"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    env = {k: v for k, v in os.environ.items() if k not in ("POD_IP", "NODE_NAME")}
    env.update(POD_IP="10.244.1.7", NODE_NAME="node-1")
    r = subprocess.run([AGENT_BIN, "--config.check", f"--config.file={CONFIG}"],
                       capture_output=True, text=True, env=env, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    # Without the downward-API variables the references do not resolve: the file really
    # depends on them (so the DaemonSet must set them, asserted below).
    del env["POD_IP"]
    r = subprocess.run([AGENT_BIN, "--config.check", f"--config.file={CONFIG}"],
                       capture_output=True, text=True, env=env, timeout=30)
    assert r.returncode == 1 and "POD_IP" in r.stdout + r.stderr


# --- rendering -----------------------------------------------------------------------

def kubectl_bin():
    path = os.environ.get("OUTPOST_KUBECTL") or shutil.which("kubectl")
    if not path:
        pytest.fail("kubectl not found: install Debian's kubernetes-client "
                    "(or set OUTPOST_KUBECTL to a kubectl with `kustomize`)")
    return path


def kustomize(directory):
    r = subprocess.run([kubectl_bin(), "kustomize", directory], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, f"kubectl kustomize {directory} failed:\n{r.stderr}"
    return r.stdout


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """{"base", "secured", "sharded", "hostpath"}: (YAML text, [objects])."""
    out = {"base": kustomize(BASE), "secured": kustomize(SECURED),
           "sharded": kustomize(SHARDED)}
    # The hostPath variant: a copy of the base (symlinks resolved) with the two
    # commented lines of its kustomization.yaml turned on, as the docs say.
    copy = str(tmp_path_factory.mktemp("k8s") / "base")
    shutil.copytree(BASE, copy, symlinks=False)
    path = os.path.join(copy, "kustomization.yaml")
    with open(path) as f:
        text = f.read()
    on = text.replace("# patchesStrategicMerge:\n#   - state-hostpath.yaml",
                      "patchesStrategicMerge:\n  - state-hostpath.yaml")
    assert on != text, "base/kustomization.yaml lost its commented hostPath patch lines"
    with open(path, "w") as f:
        f.write(on)
    out["hostpath"] = kustomize(copy)
    return {k: (v, [o for o in yaml.safe_load_all(v) if o]) for k, v in out.items()}


def find(objs, kind, name=None):
    hits = [o for o in objs if o["kind"] == kind
            and (name is None or o["metadata"]["name"] == name)]
    assert len(hits) == 1, f"expected one {kind} {name or ''}, found {len(hits)}"
    return hits[0]


def pod_spec(objs):
    return find(objs, "DaemonSet", "outpost")["spec"]["template"]["spec"]


def agent_container(objs):
    cs = [c for c in pod_spec(objs)["containers"] if c["name"] == "outpost"]
    assert len(cs) == 1
    return cs[0]


# --- offline schema validation ---------------------------------------------------------

def npm_stamp():
    """What the installed node_modules must have been made from."""
    h = hashlib.sha256()
    for name in ("package.json", "package-lock.json"):
        with open(os.path.join(VALIDATOR_SRC, name), "rb") as f:
            h.update(f.read())
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout
    h.update(node.encode())
    return h.hexdigest()


@pytest.fixture(scope="module")
def validator():
    """Installs the pinned model packages once (npm ci, from package-lock.json) into
    BUILD/k8s-validate; later runs reuse them while the lock file and Node.js are the
    same. Returns a function: YAML text -> validator output (asserts success)."""
    for tool in ("node", "npm"):
        if not shutil.which(tool):
            pytest.fail(f"{tool} not found: Node.js 20 with npm is needed "
                        "(packaging/install-deps.sh installs nodejs)")
    stamp_path = os.path.join(VALIDATOR_DIR, "node_modules", ".outpost-stamp")
    stamp = npm_stamp()
    try:
        with open(stamp_path) as f:
            fresh = f.read() == stamp
    except FileNotFoundError:
        fresh = False
    if not fresh:
        os.makedirs(VALIDATOR_DIR, exist_ok=True)
        for name in ("package.json", "package-lock.json", ".npmrc"):
            shutil.copyfile(os.path.join(VALIDATOR_SRC, name),
                            os.path.join(VALIDATOR_DIR, name))
        r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--prefer-offline"],
                           cwd=VALIDATOR_DIR, capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, f"npm ci failed:\n{r.stdout}\n{r.stderr}"
        with open(stamp_path, "w") as f:
            f.write(stamp)
    env = dict(os.environ, NODE_PATH=os.path.join(VALIDATOR_DIR, "node_modules"))

    def validate(text):
        r = subprocess.run(["node", os.path.join(VALIDATOR_SRC, "validate.js")], input=text,
                           capture_output=True, text=True, env=env, timeout=120)
        assert r.returncode == 0, f"schema validation failed:\n{r.stdout}{r.stderr}"
        return r.stdout
    return validate


@not_sanitized
@pytest.mark.parametrize("variant", ["base", "secured", "sharded", "hostpath"])
def test_every_object_is_valid(rendered, validator, variant):
    out = validator(rendered[variant][0])
    print(f"{variant}:\n{out}")
    n = len(rendered[variant][1])
    assert f"{n} objects valid" in out


@not_sanitized
def test_validator_rejects_what_it_does_not_know(validator):
    """An unknown kind and a wrong type fail: a pass means every object was checked."""
    bad_kind = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n"
    bad_type = ("apiVersion: v1\nkind: Service\nmetadata: {name: s}\n"
                "spec: {ports: [{port: not-a-number}]}\n")
    bad_secret = "apiVersion: v1\nkind: Secret\nmetadata: {name: x}\ndata: {k: not base64!}\n"
    for text in (bad_kind, bad_type, bad_secret):
        with pytest.raises(AssertionError, match="schema validation failed"):
            validator(text)


# --- what the objects must say ---------------------------------------------------------

@not_sanitized
def test_objects_rendered(rendered):
    kinds = sorted((o["kind"], o["metadata"]["name"]) for o in rendered["base"][1])
    config_map = [n for k, n in kinds if k == "ConfigMap"]
    assert len(config_map) == 1 and config_map[0].startswith("outpost-config-")
    assert [k for k in kinds if k[0] != "ConfigMap"] == [
        ("DaemonSet", "outpost"), ("Namespace", "outpost"), ("PodMonitor", "outpost"),
        ("PrometheusRule", "outpost"), ("Service", "outpost"), ("ServiceAccount", "outpost")]
    for variant in rendered:
        for o in rendered[variant][1]:
            if o["kind"] != "Namespace":
                assert o["metadata"].get("namespace") == "outpost", o["metadata"]
    secured = sorted(o["metadata"]["name"].rsplit("-", 1)[0]
                     for o in rendered["secured"][1] if o["kind"] == "Secret")
    assert secured == ["outpost-scrape-auth", "outpost-web"]


def assert_hardened(container):
    sc = container.get("securityContext", {})
    assert sc.get("allowPrivilegeEscalation") is False, container["name"]
    assert sc.get("readOnlyRootFilesystem") is True, container["name"]
    assert sc.get("capabilities", {}).get("drop") == ["ALL"], container["name"]
    assert not sc.get("privileged"), container["name"]


@not_sanitized
@pytest.mark.parametrize("variant", ["base", "secured"])
def test_pod_security(rendered, variant):
    objs = rendered[variant][1]
    spec = pod_spec(objs)
    psc = spec["securityContext"]
    assert psc["runAsNonRoot"] is True
    assert psc["runAsUser"] == UID and psc["runAsGroup"] == UID and psc["fsGroup"] == UID
    assert psc["seccompProfile"] == {"type": "RuntimeDefault"}
    assert spec["automountServiceAccountToken"] is False
    assert not spec.get("hostNetwork") and not spec.get("hostPID") and not spec.get("hostIPC")
    assert not spec.get("initContainers")
    assert all("hostPath" not in v for v in spec["volumes"])
    # SIGTERM ends the agent within a second (docs/operations.md, "Stopping").
    assert spec["terminationGracePeriodSeconds"] <= 10
    for c in spec["containers"]:
        assert_hardened(c)
        assert c["securityContext"].get("runAsNonRoot", True) is True
        assert "capabilities" not in c["securityContext"] or \
            not c["securityContext"]["capabilities"].get("add")
    ns = find(objs, "Namespace", "outpost")
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert find(objs, "ServiceAccount", "outpost")["automountServiceAccountToken"] is False


@not_sanitized
@pytest.mark.parametrize("variant", ["base", "secured"])
def test_container(rendered, variant):
    objs = rendered[variant][1]
    c = agent_container(objs)
    assert c["image"] == "outpost:latest"  # kustomization.yaml images:, the one place
    assert c["args"][:2] == ["--config.file=/etc/outpost/outpost.yml",
                             "--storage.path=/var/lib/outpost"]
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    assert ports == {"metrics": METRICS_PORT}
    for probe, path in (("livenessProbe", "/-/healthy"), ("readinessProbe", "/-/ready")):
        get = c[probe]["httpGet"]
        assert get["path"] == path
        assert get["port"] in ("metrics", METRICS_PORT)
        assert get.get("scheme", "HTTP") == "HTTP"
    env = {e["name"]: e["valueFrom"]["fieldRef"]["fieldPath"] for e in c["env"]}
    assert env == {"POD_IP": "status.podIP", "NODE_NAME": "spec.nodeName"}
    mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
    volumes = {v["name"]: v for v in pod_spec(objs)["volumes"]}
    assert mounts["/etc/outpost"]["readOnly"] is True
    cm = find(objs, "ConfigMap")
    assert volumes[mounts["/etc/outpost"]["name"]]["configMap"]["name"] == \
        cm["metadata"]["name"]
    assert "emptyDir" in volumes[mounts["/var/lib/outpost"]["name"]]
    # Every writable path is a volume: the root filesystem is read-only.
    assert not mounts["/var/lib/outpost"].get("readOnly")
    # The ConfigMap holds outpost.yml exactly as committed.
    with open(CONFIG) as f:
        assert cm["data"] == {"outpost.yml": f.read()}


def quantity(q):
    """Kubernetes quantity -> float (cores or bytes)."""
    q = str(q)
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "k": 1e3, "M": 1e6, "G": 1e9}
    for suffix in sorted(units, key=len, reverse=True):
        if q.endswith(suffix):
            return float(q[:-len(suffix)]) * units[suffix]
    return float(q)


@not_sanitized
def test_resources_set_and_documented(rendered):
    res = agent_container(rendered["base"][1])["resources"]
    req, lim = res["requests"], res["limits"]
    assert set(req) == {"cpu", "memory"} and "memory" in lim
    assert quantity(lim["memory"]) >= quantity(req["memory"]) > 0
    assert quantity(req["cpu"]) > 0
    if "cpu" in lim:
        assert quantity(lim["cpu"]) >= quantity(req["cpu"])
    # The numbers are the measured ones written down in the docs.
    with open(os.path.join(ROOT, "docs", "operations.md")) as f:
        doc = f.read().split("## Install on Kubernetes", 1)[1].split("\n## ", 1)[0]
    for what, value in (("requests.cpu", req["cpu"]), ("requests.memory", req["memory"]),
                        ("limits.memory", lim["memory"])):
        assert f"`{what}: {value}`" in doc, f"docs/operations.md does not state {what}"


@not_sanitized
@pytest.mark.parametrize("variant", ["base", "secured"])
def test_prometheus_operator_objects(rendered, variant):
    objs = rendered[variant][1]
    key, value = SELECTOR_LABEL
    pm = find(objs, "PodMonitor", "outpost")
    rule = find(objs, "PrometheusRule", "outpost")
    for o in (pm, rule):
        assert o["metadata"]["labels"].get(key) == value, o["kind"]
    # The label is for the Operator only: not in the pods' labels or any selector, where
    # changing it later would mean recreating the DaemonSet.
    ds = find(objs, "DaemonSet", "outpost")
    assert key not in ds["spec"]["selector"]["matchLabels"]
    assert key not in ds["spec"]["template"]["metadata"]["labels"]
    # The PodMonitor selects the pods and scrapes the named port; its job label comes
    # from the pods' name label, and the rules' job selector matches it.
    pod_labels = ds["spec"]["template"]["metadata"]["labels"]
    sel = pm["spec"]["selector"]["matchLabels"]
    assert all(pod_labels.get(k) == v for k, v in sel.items())
    assert not pm["spec"].get("namespaceSelector")  # its own namespace
    (ep,) = pm["spec"]["podMetricsEndpoints"]
    assert ep["port"] == "metrics" and ep["path"] == "/metrics"
    job = pod_labels[pm["spec"]["jobLabel"]]
    exprs = [r["expr"] for g in rule["spec"]["groups"] for r in g["rules"]]
    jobs = {m for e in exprs for m in re.findall(r'job=~"([^"]+)"', e)}
    assert jobs and all(re.fullmatch(j, job) for j in jobs), (jobs, job)


@not_sanitized
def test_prometheusrule_is_the_generated_file(rendered):
    """The base ships packaging/kubernetes/prometheusrule.yaml (made by `make rules`,
    checked by `make rules-check`) unchanged but for namespace and selector label."""
    with open(os.path.join(K8S, "prometheusrule.yaml")) as f:
        generated = yaml.safe_load(f)
    for variant in ("base", "secured"):
        got = find(rendered[variant][1], "PrometheusRule")
        assert got["spec"] == generated["spec"]
        assert got["metadata"]["name"] == generated["metadata"]["name"]
        labels = dict(got["metadata"]["labels"])
        assert labels.pop(SELECTOR_LABEL[0]) == SELECTOR_LABEL[1]
        assert labels == generated["metadata"]["labels"]


def secret_data(secret):
    return {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}


@not_sanitized
def test_secured_overlay(rendered, tmp_path):
    objs = rendered["secured"][1]
    c = agent_container(objs)
    assert c["args"][2:] == ["--web.config.file=/etc/outpost-web/web-config.yml",
                             "--web.bearer-tokens-file=/etc/outpost-web/bearer-tokens"]
    secrets = {o["metadata"]["name"]: o for o in objs if o["kind"] == "Secret"}
    mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
    volumes = {v["name"]: v for v in pod_spec(objs)["volumes"]}
    web_mount = mounts["/etc/outpost-web"]
    assert web_mount["readOnly"] is True
    web = secret_data(secrets[volumes[web_mount["name"]]["secret"]["secretName"]])
    assert set(web) == {"web-config.yml", "bearer-tokens"}
    # The probes stay unauthenticated (the agent keeps /-/healthy and /-/ready open).
    assert c["livenessProbe"]["httpGet"]["path"] == "/-/healthy"
    assert "httpHeaders" not in c["livenessProbe"]["httpGet"]
    # Prometheus authenticates: basicAuth from a Secret of the same namespace.
    (ep,) = find(objs, "PodMonitor", "outpost")["spec"]["podMetricsEndpoints"]
    ba = ep["basicAuth"]
    auth = secret_data(secrets[ba["username"]["name"]])
    user = auth[ba["username"]["key"]]
    password = secret_data(secrets[ba["password"]["name"]])[ba["password"]["key"]]
    # The web config is what promtool accepts (exporter-toolkit format), and holds the
    # bcrypt hash of the very password the PodMonitor sends.
    path = tmp_path / "web-config.yml"
    path.write_text(web["web-config.yml"])
    r = subprocess.run(["promtool", "check", "web-config", str(path)], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    users = yaml.safe_load(web["web-config.yml"])["basic_auth_users"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt  # libcrypt's bcrypt, as the agent uses
    assert crypt.crypt(password, users[user]) == users[user]
    # Placeholders are marked as such, so nobody ships them unknowingly.
    assert "CHANGE-ME" in password and "CHANGE-ME" in web["bearer-tokens"]
    tokens = [t for t in web["bearer-tokens"].splitlines() if t]
    assert len(tokens) == 1


@not_sanitized
def test_hostpath_patch(rendered):
    objs = rendered["hostpath"][1]
    spec = pod_spec(objs)
    volumes = {v["name"]: v for v in spec["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in agent_container(objs)["volumeMounts"]}
    state = volumes[mounts["/var/lib/outpost"]]
    assert state == {"name": "state",
                     "hostPath": {"path": "/var/lib/outpost", "type": "DirectoryOrCreate"}}
    # The one root container: hands the directory to the agent's UID, nothing more.
    (init,) = spec["initContainers"]
    assert init["image"] == "outpost:latest"
    assert init["command"] == ["chown", f"{UID}:{UID}", "/var/lib/outpost"]
    assert_hardened(init)
    assert init["securityContext"]["capabilities"]["add"] == ["CHOWN"]
    assert spec["securityContext"]["runAsNonRoot"] is True  # the agent still is
    assert "runAsUser" not in agent_container(objs).get("securityContext", {})
    ns = find(objs, "Namespace", "outpost")
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"


@not_sanitized
def test_sharded_overlay(rendered):
    """A StatefulSet of shards in place of the DaemonSet: the base's pod (copied, not
    rewritten) plus its shard from the pod's name, state on a claimed volume, the base's
    ConfigMap, headless Service and monitoring objects."""
    base, objs = rendered["base"][1], rendered["sharded"][1]
    kinds = sorted((o["kind"], o["metadata"]["name"]) for o in objs)
    base_kinds = sorted((o["kind"], o["metadata"]["name"]) for o in base)
    assert kinds == sorted(("StatefulSet", n) if k == "DaemonSet" else (k, n)
                           for k, n in base_kinds)
    assert find(objs, "ConfigMap") == find(base, "ConfigMap")  # the same file, same name
    for kind in ("PodMonitor", "PrometheusRule", "Service", "Namespace", "ServiceAccount"):
        assert find(objs, kind) == find(base, kind), kind
    sts = find(objs, "StatefulSet", "outpost")["spec"]
    replicas = sts["replicas"]
    assert replicas == 3 and sts["podManagementPolicy"] == "Parallel"
    # Its Service is the base's headless one, selecting these pods.
    svc = find(objs, "Service", sts["serviceName"])
    assert svc["spec"]["clusterIP"] == "None"
    labels = sts["template"]["metadata"]["labels"]
    assert all(labels.get(k) == v for k, v in svc["spec"]["selector"].items())
    assert all(labels.get(k) == v for k, v in sts["selector"]["matchLabels"].items())
    # The pod is the base's, but for the shard variables and the state volume.
    pod = sts["template"]
    base_pod = find(base, "DaemonSet", "outpost")["spec"]["template"]
    (c,) = pod["spec"]["containers"]
    (bc,) = base_pod["spec"]["containers"]
    env = {e["name"]: e for e in c["env"]}
    assert env.pop("OUTPOST_SHARD") == {
        "name": "OUTPOST_SHARD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}
    shards = env.pop("OUTPOST_SHARDS")["value"]
    assert shards == str(replicas)  # one shard per replica, no more, no fewer
    assert env == {e["name"]: e for e in bc["env"]}
    assert {k: v for k, v in c.items() if k != "env"} == \
        {k: v for k, v in bc.items() if k != "env"}
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    base_volumes = {v["name"]: v for v in base_pod["spec"]["volumes"]}
    assert "emptyDir" in base_volumes.pop("state") and volumes == base_volumes
    assert {k: v for k, v in pod["spec"].items() if k not in ("containers", "volumes")} == \
        {k: v for k, v in base_pod["spec"].items() if k not in ("containers", "volumes")}
    assert pod["metadata"] == base_pod["metadata"]
    # The state mount is the claim's.
    mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
    (claim,) = sts["volumeClaimTemplates"]
    assert claim["metadata"]["name"] == mounts["/var/lib/outpost"]
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert quantity(claim["spec"]["resources"]["requests"]["storage"]) >= 2**20
    # The image is the base's, set in one place.
    assert c["image"] == bc["image"] == "outpost:latest"
    # The pod security the base asserts holds here too (the Namespace is the base's).
    assert not pod["spec"].get("hostNetwork") and not pod["spec"].get("initContainers")
    assert_hardened(c)
    # The PodMonitor scrapes these pods.
    sel = find(objs, "PodMonitor", "outpost")["spec"]["selector"]["matchLabels"]
    assert all(labels.get(k) == v for k, v in sel.items())


@not_sanitized
def test_sharded_pods_find_their_shard(rendered):
    """Each pod name the StatefulSet makes (<name>-<ordinal>) is a shard the agent
    accepts with the overlay's OUTPOST_SHARDS, each its own; one more replica would
    not start."""
    sts = find(rendered["sharded"][1], "StatefulSet", "outpost")
    (c,) = sts["spec"]["template"]["spec"]["containers"]
    shards = next(e["value"] for e in c["env"] if e["name"] == "OUTPOST_SHARDS")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OUTPOST_SHARD")}
    env.update(POD_IP="10.244.1.7", NODE_NAME="node-1", OUTPOST_SHARDS=shards)
    name = sts["metadata"]["name"]
    for i in range(sts["spec"]["replicas"] + 1):
        env["OUTPOST_SHARD"] = f"{name}-{i}"
        r = subprocess.run([AGENT_BIN, "--config.check", f"--config.file={CONFIG}"],
                           capture_output=True, text=True, env=env, timeout=30)
        if i < sts["spec"]["replicas"]:
            assert r.returncode == 0, r.stdout + r.stderr
            assert f"on shard {i}/{shards} " in r.stdout, r.stdout
        else:
            assert r.returncode == 2 and "not below OUTPOST_SHARDS" in r.stderr, r
