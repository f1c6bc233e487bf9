#!/usr/bin/env bash
# The GPU check, for a machine with an NVIDIA GPU and no package registry (about 7 minutes):
#   1. the whole test suite, GPU tests on CUDA (tests marked gpu run on cpu and cuda; the rest on the CPU),
#      in parallel, with a per-test time limit, as JUnit XML and a log;
#   2. the GPU benchmarks (renderer on real scenes, one edit step with 1 and 3 ROIs, deterministic and
#      fast, the official-style loop, a whole 150-step `clipvg edit` at 512 px);
#   3. one JSON in OUT_DIR with the GPU's name, torch's version, the commit, the test counts and every figure.
#
#   scripts/gpu_check.sh [OUT_DIR]        (default: benchmarks/results)
#
# Python packages the machine lacks travel as wheels in .whl/ (scripts/gpu_wheels.sh fetches them where
# pip works); the commit is read from git, or from the file .commit when the tree came without .git.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:-benchmarks/results}
mkdir -p "$out"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
python=${PYTHON:-python3}

if compgen -G ".whl/*.whl" >/dev/null; then
  "$python" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/clipvg-site \
    .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/clipvg-site${PYTHONPATH:+:$PYTHONPATH}
fi
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
commit=${CLIPVG_COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || cat .commit 2>/dev/null || echo unknown)}
log="$out/gpu_check_$stamp.log"
junit="$out/gpu_check_$stamp.junit.xml"
export CLIPVG_FAILURE_LOG="$out/gpu_check_$stamp.failures.log"  # each failure's traceback as it happens

echo "== tests (commit $commit)" | tee "$log"
# one line per test (-q from addopts and -vv make -v), so that a run cut short still names what failed; two
# threads per worker (torch and numba would take every core in each of the workers)
OMP_NUM_THREADS=2 NUMBA_NUM_THREADS=2 timeout "${TEST_SECONDS:-300}" "$python" -m pytest tests -p no:cacheprovider \
  -n "${WORKERS:-12}" --timeout 200 -vv -rfE --junitxml "$junit" 2>&1 | tee -a "$log" | grep -E "FAILED|ERROR|passed|failed"

echo "== benchmarks" | tee -a "$log"
timeout "${BENCH_SECONDS:-240}" "$python" benchmarks/gpu_report.py --junit "$junit" --commit "$commit" \
  --json "$out/gpu_check_$stamp.json" 2>&1 | tee -a "$log"
echo "results: $out/gpu_check_$stamp.json, log: $log" | tee -a "$log"
