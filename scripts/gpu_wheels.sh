#!/usr/bin/env bash
# Fetch, where pip reaches a registry, the wheels that scripts/gpu_check.sh installs on a GPU machine that
# has none (Python 3.12, x86-64; its image already holds torch, torchvision, scikit-image, fonttools,
# transformers, accelerate, pytest-xdist, pytest-timeout, hypothesis, httpx, ...). Writes .whl/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .whl
platforms=()
for n in 2_28 2_27 2_24 2_17 2014 1; do
  case $n in 2014|1) platforms+=(--platform "manylinux${n}_x86_64");; *) platforms+=(--platform "manylinux_${n}_x86_64");; esac
done
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  "${platforms[@]}" -d .whl \
  open-clip-torch ftfy wcwidth svgelements svgwrite resvg-py diffusers vtracer starlette uvicorn \
  cairosvg cairocffi cssselect2 tinycss2 webencodings defusedxml uharfbuzz python-bidi
ls .whl
