#!/usr/bin/env bash
# Build the sdist and wheel, check their metadata with twine, then install the wheel into a clean virtualenv
# and run `clipvg --help` there. Needs .venv with the docs extra (build, twine); leaves nothing in the tree.
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
.venv/bin/python -m build -q --outdir "$work/dist" . >/dev/null
.venv/bin/python -m twine check --strict "$work"/dist/*
python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q "$work"/dist/*.whl
(cd "$work" && "$work/venv/bin/clipvg" --help >/dev/null)
echo "package check: sdist and wheel built, twine check passed, clipvg --help ran from a clean virtualenv"
