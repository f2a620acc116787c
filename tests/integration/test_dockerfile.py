"""packaging/docker/Dockerfile, read without a container engine (none runs
here): its stages, the user, port, volume and command, and that its build
stage installs what packaging/debian/control says the build needs."""
import json
import os
import re

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DOCKERFILE = os.path.join(SRC, "packaging", "docker", "Dockerfile")


def instructions(text):
    """[(INSTRUCTION, arguments)] with comments dropped and continuations joined."""
    out, cur = [], ""
    for line in text.splitlines():
        if not cur and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if cur and line.lstrip().startswith("#"):
            continue  # a comment inside a continued instruction
        if line.rstrip().endswith("\\"):
            cur += line.rstrip()[:-1] + " "
            continue
        cur += line
        word, _, args = cur.strip().partition(" ")
        out.append((word.upper(), " ".join(args.split())))
        cur = ""
    assert not cur, f"unterminated instruction: {cur!r}"
    return out


def stages(text):
    """[(image, name, [(INSTRUCTION, arguments)])], one per FROM."""
    out = []
    for ins, args in instructions(text):
        if ins == "FROM":
            m = re.fullmatch(r"(\S+)(?: AS (\S+))?", args, re.I)
            assert m, args
            out.append((m.group(1), m.group(2), []))
        else:
            assert out, f"{ins} before the first FROM"
            out[-1][2].append((ins, args))
    return out


def read():
    with open(DOCKERFILE) as f:
        return f.read()


def test_parser_joins_continuations_and_skips_comments():
    got = instructions("# c\nFROM a AS b\nRUN x \\\n    # inner\n    && y\n\nUSER 1\n")
    assert got == [("FROM", "a AS b"), ("RUN", "x && y"), ("USER", "1")]


def test_two_stages_on_debian_12_slim():
    st = stages(read())
    assert len(st) >= 2, st
    assert all(image == "debian:12-slim" for image, _, _ in st), [s[0] for s in st]
    build_name = st[0][1]
    assert build_name, "the build stage needs a name for COPY --from"
    final = st[-1][2]
    # The runtime stage takes only the package from the build stage.
    copies = [a for i, a in final if i == "COPY"]
    assert any(a.startswith(f"--from={build_name} ") and a.endswith(".deb /tmp/outpost.deb")
               for a in copies), copies
    assert not any("-dev" in a for i, a in final if i == "RUN"), "build packages in the runtime"


def test_runtime_user_port_volume_command():
    final = stages(read())[-1][2]
    users = [a for i, a in final if i == "USER"]
    assert users, "the runtime stage sets no USER (it would run as root)"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0"), users
    assert user.isdigit(), "a numeric uid, so Kubernetes' runAsNonRoot can check it"
    assert any(re.fullmatch(r"9469(/tcp)?", p) for i, a in final if i == "EXPOSE"
               for p in a.split()), final
    volumes = [a for i, a in final if i == "VOLUME"]
    assert any("/var/lib/outpost" in (json.loads(v) if v.startswith("[") else v.split())
               for v in volumes), volumes
    entry = json.loads([a for i, a in final if i == "ENTRYPOINT"][-1])
    assert entry == ["/usr/bin/outpost", "--config.file=/etc/outpost/outpost.yml",
                     "--storage.path=/var/lib/outpost"], entry
    # The uid the USER line names is the one the image creates.
    assert any(f"--uid {user} " in a for i, a in final if i == "RUN"), final


def test_build_stage_installs_the_build_depends():
    with open(os.path.join(SRC, "packaging", "debian", "control")) as f:
        control = f.read()
    m = re.search(r"^Build-Depends:(.*?)^\S", control, re.M | re.S)
    wanted = {re.sub(r"\s*\(.*\)", "", d).strip() for d in m.group(1).split(",") if d.strip()}
    wanted = {"debhelper" if d.startswith("debhelper-compat") else d for d in wanted}
    build_runs = " ".join(a for i, a in stages(read())[0][2] if i == "RUN")
    missing = sorted(d for d in wanted if not re.search(rf"(?<![\w.+-]){re.escape(d)}(?![\w.+-])",
                                                        build_runs))
    assert not missing, f"Build-Depends not installed in the build stage: {missing}"


def test_context_leaves_out_build_trees():
    with open(os.path.join(SRC, ".dockerignore")) as f:
        ignored = f.read().split()
    assert "build/" in ignored and "build-*/" in ignored
