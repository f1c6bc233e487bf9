#!/usr/bin/env bash
# Install what clipvg's tests need on a fresh Debian/Ubuntu machine, then run them.
#
#   ./scripts/test.sh           the full suite (what CI runs): system packages with apt (inkscape and chromium for
#                               the SVG export and web-editor checks, icon themes and openclipart for real-world
#                               SVGs, fonts), a virtualenv in .venv with every extra, the package build check and
#                               the docs build, then every test; a missing system tool is a failure
#   ./scripts/test.sh --core    the core suite: no apt, no docs or package build, a virtualenv with the
#                               test-core extra only (pytest, pytest-timeout, pytest-xdist, hypothesis, resvg-py)
#                               installed without pip's .pyc pass (Python writes .pyc for the modules the tests
#                               import, even where PYTHONDONTWRITEBYTECODE is set, so the many processes the
#                               tests start do not each recompile torch), no test marked slow, one pytest worker
#                               per core (at most 8); tests that need a system tool or an optional extra are
#                               skipped, with the reason
# Further arguments go to pytest (e.g. ./scripts/test.sh --core tests/clipvg -k svg; a -m of yours replaces
# --core's -m "not slow", a -n of yours its worker count). pip keeps its download cache (~/.cache/pip), so a
# second run downloads nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

core=0
if [ "${1:-}" = "--core" ]; then core=1; shift; fi

apt_install() {
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends inkscape chromium papirus-icon-theme breeze-icon-theme tango-icon-theme elementary-xfce-icon-theme openclipart-svg fonts-dejavu-core fonts-texgyre >/dev/null
}

python3 -m venv .venv
# torch and torchvision resolve together from the registry (never pin torch alone first)
if [ "$core" -eq 1 ]; then
  .venv/bin/python -m pip install -q --no-compile -e ".[test-core]"
  unset PYTHONDONTWRITEBYTECODE
  workers=$(nproc)
  [ "$workers" -le 8 ] || workers=8
  exec .venv/bin/python -m pytest -m "not slow" -n "$workers" "$@"
fi
.venv/bin/python -m pip install -q --upgrade pip

if command -v apt-get >/dev/null; then apt_install; else echo "no apt-get: install inkscape and papirus-icon-theme yourself" >&2; fi
.venv/bin/python -m pip install -q -e ".[all,test,docs]"
./scripts/check_package.sh
.venv/bin/mkdocs build --strict -q
CLIPVG_REQUIRE_SYSTEM_TOOLS=1 .venv/bin/python -m pytest "$@"
