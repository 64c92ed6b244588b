#!/usr/bin/env bash
# Installs the pinned Python tooling (tools/requirements.txt) into the project-local .venv.
# Fast when nothing changed: the venv keeps a copy of the requirements it was built from.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${SLUICE_VENV:-$root/.venv}
requirements=$root/tools/requirements.txt
stamp=$venv/.sluice-requirements.txt

if [ -x "$venv/bin/python" ] && cmp -s "$requirements" "$stamp"; then
  exit 0
fi
python=${PYTHON:-python3}
command -v "$python" >/dev/null || { echo "setup: $python not found; Sluice's tooling needs Python 3.9 or newer" >&2; exit 1; }
echo "setup: installing tools/requirements.txt into $venv" >&2
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --requirement "$requirements"
cp "$requirements" "$stamp"
echo "setup: done ($("$venv/bin/moto_server" --version 2>/dev/null || echo moto installed))" >&2
