#!/usr/bin/env bash
# Install everything clipvg's tests need on a fresh Debian/Ubuntu machine, then run them.
#   system: inkscape and chromium (SVG export checks), icon themes and openclipart (real-world SVGs:
#   tests and benchmarks/svg_corpus.py), fonts
#   python: a virtualenv in .venv with clipvg and its test, diffusion, int8, vtracer, serve and ray extras
#   (the serve tests drive the apt Chromium through Playwright; `playwright install` is never run)
set -euo pipefail
cd "$(dirname "$0")/.."

apt_install() {
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends inkscape chromium papirus-icon-theme breeze-icon-theme tango-icon-theme elementary-xfce-icon-theme openclipart-svg fonts-dejavu-core fonts-texgyre >/dev/null
}
if command -v apt-get >/dev/null; then apt_install; else echo "no apt-get: install inkscape and papirus-icon-theme yourself" >&2; fi

python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# torch and torchvision resolve together from the registry (never pin torch alone first)
.venv/bin/python -m pip install -q -e ".[test,diffusion,int8,vtracer,serve,ray,bench]"
CLIPVG_REQUIRE_SYSTEM_TOOLS=1 .venv/bin/python -m pytest "$@"
