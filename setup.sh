#!/usr/bin/env bash
# Set up graphc in ./.venv: `bash setup.sh` for running, `bash setup.sh test` for the
# test suite too. Installs Graphviz's `dot` from Debian's packages when it is missing.
set -euo pipefail
cd "$(dirname "$0")"
extra="${1:-}"

if ! command -v dot >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "setup: installing graphviz (for SVG/PNG/PDF rendering)" >&2
    apt-get update -qq >/dev/null && apt-get install -y -qq graphviz >/dev/null
  else
    echo "setup: Graphviz 'dot' not found; DOT output still works, SVG/PNG/PDF need it" >&2
  fi
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
if [ -n "$extra" ]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[$extra]"
else
  .venv/bin/python -m pip install -q --disable-pip-version-check -e .
fi
