#!/usr/bin/env bash
# Set up graphc in ./.venv: `bash setup.sh` for running, `bash setup.sh test` for the
# test suite too (the test and lint extras). Installs Graphviz's `dot` from Debian's
# packages when it is missing. Says each step in one line; pip's own output goes to
# .venv/setup.log, printed only when a step fails (setuptools' boxed note on every
# editable install, "Editable installation ... be careful with folders ...", is not an
# error: graphc imports from this folder by design).
set -euo pipefail
cd "$(dirname "$0")"
extra="${1:-}"
say() { echo "setup: $*" >&2; }

if ! command -v dot >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    say "installing graphviz (for SVG/PNG/PDF rendering)"
    apt-get update -qq >/dev/null && apt-get install -y -qq graphviz >/dev/null
  else
    say "Graphviz 'dot' not found; DOT output still works, SVG/PNG/PDF need it"
  fi
fi

# the HTML pages' tests drive Debian's chromium through Playwright (no browser download)
if [ "$extra" = test ] && [ ! -x /usr/bin/chromium ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    say "installing chromium (for the HTML pages' browser tests)"
    apt-get update -qq >/dev/null && apt-get install -y -qq chromium >/dev/null
  else
    say "/usr/bin/chromium not found; the HTML pages' browser tests will be skipped"
  fi
fi

if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  python3 -m venv .venv
fi
log=.venv/setup.log
: >"$log"
pip() {
  .venv/bin/python -m pip --disable-pip-version-check "$@" >>"$log" 2>&1 \
    || { cat "$log" >&2; say "failed: pip $* (the output above is in $log)"; exit 1; }
}
say "upgrading pip"
pip install -q --upgrade pip
case "$extra" in
  "") target="." ;;
  test) target=".[test,lint,docs]" ;;  # CI runs ruff (.ci/run) and builds the docs site
  *) target=".[$extra]" ;;
esac
say "installing graphc${target#.} and its dependencies (a minute or two the first time)"
pip install -q -e "$target"
say "done: .venv/bin/graphc $(.venv/bin/graphc --version | cut -d' ' -f2)"
