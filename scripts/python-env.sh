#!/usr/bin/env bash
# Creates .venv with requirements-dev.txt installed; does nothing when it is up to date.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=.venv/.requirements
if [[ -x .venv/bin/python && -f $stamp ]] && cmp -s requirements-dev.txt "$stamp"; then
  exit 0
fi
python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
cp requirements-dev.txt "$stamp"
