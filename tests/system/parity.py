"""Parity of the environment roots: both call the shared settings module with the same
arguments, and both call every module they have in common from the same place.

Usage: parity.py AWS_ROOT_MAIN_TF LOCALSTACK_ROOT_MAIN_TF
"""
import os
import sys

import hcl2

# Modules both environments must call: the settings, and the network LocalStack can emulate.
SHARED = {"settings", "network"}


def modules(path):
    with open(path) as f:
        tree = hcl2.load(f)
    found = {}
    for block in tree.get("module", []):
        for name, body in block.items():
            name = name.strip('"')
            # python-hcl2 gives attribute values as one-element lists in some versions.
            raw = body["source"][0] if isinstance(body["source"], list) else body["source"]
            source = os.path.abspath(os.path.join(os.path.dirname(path), raw.strip('"')))
            found[name] = (source, {k: v for k, v in body.items() if k != "source" and not k.startswith("__")})
    return found


def main():
    aws, local = modules(sys.argv[1]), modules(sys.argv[2])
    failures = []
    for name in sorted(SHARED):
        if name not in aws or name not in local:
            failures.append(f"module {name} must be called by both roots")
            continue
        if aws[name][0] != local[name][0]:
            failures.append(f"module {name} comes from {aws[name][0]} and {local[name][0]}")
    if not failures and aws["settings"][1] != local["settings"][1]:
        failures.append(f"settings arguments differ: {aws['settings'][1]} against {local['settings'][1]}")
    for name in sorted(set(aws) & set(local)):
        if aws[name][0] != local[name][0]:
            failures.append(f"module {name} comes from different places in the two roots")
    if failures:
        print("FAIL: " + "; ".join(failures))
        sys.exit(1)
    print(f"ok: both roots call {', '.join(sorted(SHARED))} alike")


if __name__ == "__main__":
    main()
