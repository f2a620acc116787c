#!/usr/bin/env python3
"""Fail when an #include points up or sideways across the agent's layers.

The layers, lowest first (docs/internals.md):
  agent/core      buffers, log, clock, names, errors - includes nothing above it
  agent/config    the loader and the schema toolkit
  agent/slo, agent/canary, agent/expo, agent/web, agent/store, collectors
                  each uses core and config only, never one another
  agent           the daemon: may use everything
Headers are included by name, so a name is mapped to the folder that holds it.
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
LAYERS = {
    "agent/core": 0,
    "agent/config": 1,
    "agent/slo": 2,
    "agent/canary": 2,
    "agent/expo": 2,
    "agent/web": 2,
    "agent/store": 2,
    "collectors": 2,
    "agent": 3,
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def main():
    owner = {}
    files = []
    for folder in LAYERS:
        for f in sorted((ROOT / folder).glob("*.[ch]")):
            files.append((folder, f))
            if f.suffix == ".h":
                owner[f.name] = folder
    bad = []
    for folder, f in files:
        for name in INCLUDE.findall(f.read_text()):
            dep = owner.get(name)
            if dep is None:
                bad.append(f"{f.relative_to(ROOT)}: includes \"{name}\", which no layer holds")
                continue
            if dep == folder:
                continue
            if LAYERS[dep] >= LAYERS[folder]:
                bad.append(f"{f.relative_to(ROOT)}: includes {dep}/{name} "
                           f"(layer {LAYERS[dep]}) from layer {LAYERS[folder]}")
    for line in bad:
        print(line)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
