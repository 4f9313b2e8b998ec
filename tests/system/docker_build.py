"""The Docker image's build stage, followed here without a Docker engine.

Usage: docker_build.py REPO_ROOT

Makes the build context as `.dockerignore` selects it from the repository's files, then runs
the Dockerfile's first stage in a scratch folder: WORKDIR, COPY from the context, and RUN
through bash, with `cargo build` answered by `cargo metadata --locked --offline` (the
manifests, the workspace's members and the lockfile are what a build reads first; compiling
is the release build's job elsewhere in the suite). After the stage, every library and
binary source of the image's binary and of the path crates it depends on must be there.

Fails (exit 1) naming the instruction that failed or the source that is missing: a new
workspace member without a manifest in the context, a crate whose sources are not copied,
a lockfile out of step.
"""

import fnmatch
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

root = os.path.abspath(sys.argv[1])
BINARY = "product-search"
CARGO_AS_METADATA = """
cargo() {
  if [[ $1 == build ]]; then
    command cargo metadata --locked --offline --format-version 1 >/dev/null
  else
    command cargo "$@"
  fi
}
export -f cargo
"""


def ignored(path, patterns):
    """Docker's rule: the last pattern matching a path, or one of its parent folders, decides."""
    parents = [path[: i] for i, c in enumerate(path) if c == "/"] + [path]
    excluded = False
    for pattern in patterns:
        keep = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        if any(fnmatch.fnmatch(p, pattern) for p in parents):
            excluded = not keep
    return excluded


def make_context(into):
    patterns = [line.strip() for line in open(os.path.join(root, ".dockerignore"))
                if line.strip() and not line.startswith("#")]
    files = subprocess.run(["git", "ls-files", "-z"], cwd=root, check=True, capture_output=True,
                           text=True).stdout.split("\0")
    for path in filter(None, files):
        if not ignored(path, patterns) and os.path.isfile(os.path.join(root, path)):
            os.makedirs(os.path.dirname(os.path.join(into, path)), exist_ok=True)
            shutil.copy2(os.path.join(root, path), os.path.join(into, path))


def first_stage():
    """The first stage's instructions, continuation lines joined, comments dropped."""
    lines, current = [], ""
    for line in open(os.path.join(root, "Dockerfile")):
        line = line.rstrip("\n")
        if line.lstrip().startswith("#") and not current:
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        if current.strip():
            lines.append(current.strip())
        current = ""
    stage = []
    for line in lines:
        if line.upper().startswith("FROM ") and stage:
            break
        stage.append(line)
    return stage


def copy(context, sources, destination):
    for source in sources:
        origin = os.path.join(context, source)
        if not os.path.exists(origin):
            raise SystemExit(f"FAIL: COPY {source}: not in the build context (see .dockerignore)")
        if os.path.isdir(origin):
            shutil.copytree(origin, destination, dirs_exist_ok=True)
        else:
            target = destination
            if destination.endswith("/") or os.path.isdir(destination) or len(sources) > 1:
                os.makedirs(destination, exist_ok=True)
                target = os.path.join(destination, os.path.basename(source))
            os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
            shutil.copy2(origin, target)


def missing_sources(app):
    metadata = json.loads(subprocess.run(
        ["cargo", "metadata", "--locked", "--offline", "--format-version", "1"],
        cwd=app, check=True, capture_output=True, text=True).stdout)
    packages = {p["id"]: p for p in metadata["packages"]}
    nodes = {n["id"]: n for n in metadata["resolve"]["nodes"]}
    start = next(p["id"] for p in packages.values() if p["name"] == BINARY)
    seen, queue = set(), [start]
    while queue:
        package = queue.pop()
        if package in seen or packages[package]["source"] is not None:
            continue
        seen.add(package)
        queue.extend(d["pkg"] for d in nodes[package]["deps"]
                     if any(k["kind"] is None for k in d["dep_kinds"]))
    missing = []
    for package in seen:
        for target in packages[package]["targets"]:
            if {"lib", "bin"} & set(target["kind"]) and not os.path.exists(target["src_path"]):
                missing.append(f"{packages[package]['name']}: {os.path.relpath(target['src_path'], app)}")
    return sorted(missing)


def main():
    with tempfile.TemporaryDirectory() as scratch:
        context, image = os.path.join(scratch, "context"), os.path.join(scratch, "image")
        make_context(context)
        env = dict(os.environ, CARGO_TARGET_DIR=os.path.join(scratch, "target"))
        workdir = image
        for instruction in first_stage():
            word, _, rest = instruction.partition(" ")
            word = word.upper()
            if word == "WORKDIR":
                workdir = os.path.join(image, rest.strip().lstrip("/"))
                os.makedirs(workdir, exist_ok=True)
            elif word == "COPY":
                args = shlex.split(rest)
                if any(a.startswith("--from") for a in args):
                    continue
                *sources, destination = args
                copy(context, sources, os.path.join(workdir, destination))
            elif word == "RUN":
                run = subprocess.run(["bash", "-c", CARGO_AS_METADATA + "set -e\n" + rest], cwd=workdir,
                                     env=env, capture_output=True, text=True)
                if run.returncode:
                    print(f"FAIL: RUN {rest[:200]}\n{run.stderr[-3000:]}")
                    sys.exit(1)
            print(f"ok: {instruction[:100]}")
        missing = missing_sources(workdir)
        if missing:
            print("FAIL: the image's build lacks these sources:", *missing, sep="\n  ")
            sys.exit(1)
        print(f"the build stage has every source {BINARY} builds from")


main()
