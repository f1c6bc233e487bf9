"""Which device each test tests.

- A test that takes the ``device`` fixture tests GPU behaviour: it runs once per device, ids ending in
  ``[cpu]`` and ``[cuda]`` (the CUDA run is skipped, with that reason, where no GPU is present).
  ``cuda_device`` is for tests that compare CUDA against the CPU; it skips without a GPU.
- Every other test tests device-independent behaviour and runs on the CPU: CUDA is hidden from it
  (``torch.cuda.is_available()`` is False inside, and ``CUDA_VISIBLE_DEVICES`` is empty for the
  processes it starts), so code that picks "cuda when available" stays on the CPU and behaves
  exactly as on CI.

Each test is marked ``cpu`` or ``gpu`` accordingly (``pytest -m gpu`` runs the GPU tests alone), and
the report header says which devices this run has.

Under pytest-xdist (``-n N``, as ``./scripts/test.sh --core`` runs), the controller compiles the vectorizer's
numba functions once, in a background process, while the workers start and collect; each worker waits for it
before its first test, so the workers (and the processes tests start) load numba's cache instead of each
compiling the same functions (20-30 CPU s apiece on a fresh clone).
"""
from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
import torch

GPU_FIXTURES = ("device", "cuda_device")
_HAS_CUDA = torch.cuda.is_available()
WARM_UP_LOCK = "CLIPVG_TEST_NUMBA_WARM_UP_LOCK"  # held (flock) by the warm-up process while it compiles
WARM_UP_WAIT_S = 600
# one small picture through both vectorizer paths (colour rounds, and a path budget): compiles what they run
WARM_UP = """
import numpy as np
import vectorize
yy, xx = np.mgrid[0:40, 0:40]
image = np.stack([xx * 6, yy * 6, np.where((xx - 20) ** 2 + (yy - 18) ** 2 < 100, 200, 40)], -1).astype(np.uint8)
for quality in (None, "auto"):
    vectorize.vectorize_paths(image, max_size=None, quality=quality)
"""


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "cpu: tests device-independent behaviour; runs on the CPU with CUDA hidden")
    config.addinivalue_line("markers", "gpu: tests GPU behaviour; runs on CUDA when a GPU is present")
    config.addinivalue_line("markers", "slow: takes over 20 s on 2 CPU cores; ./scripts/test.sh --core leaves it out "
                            "(the full suite, CI's, runs it)")
    if getattr(config.option, "dist", "no") != "no" and not hasattr(config, "workerinput"):
        _start_numba_warm_up(config)


def _start_numba_warm_up(config: pytest.Config) -> None:
    """Start compiling the vectorizer in a process that holds an exclusive lock on a file until it exits
    (however it exits); the workers, which inherit the file's name in the environment, wait for the lock."""
    fd, lock = tempfile.mkstemp(prefix="clipvg-numba-warm-up-", suffix=".lock")
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        process = subprocess.Popen([sys.executable, "-c", WARM_UP], cwd=config.rootpath, pass_fds=(fd,),
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    finally:
        os.close(fd)  # the child's copy of the descriptor keeps the lock
    os.environ[WARM_UP_LOCK] = lock
    config.add_cleanup(lambda: _stop_warm_up(process, lock))


def _stop_warm_up(process: subprocess.Popen, lock: str) -> None:
    process.kill()  # done long before, except when the session stopped early
    process.wait()
    os.environ.pop(WARM_UP_LOCK, None)
    Path(lock).unlink(missing_ok=True)


def pytest_collection_finish(session: pytest.Session) -> None:
    """In an xdist worker: wait (at most WARM_UP_WAIT_S) for the controller's numba warm-up to end."""
    lock = os.environ.get(WARM_UP_LOCK)
    if not lock or not hasattr(session.config, "workerinput"):
        return
    with open(lock) as file:
        deadline = time.monotonic() + WARM_UP_WAIT_S
        while time.monotonic() < deadline:
            try:
                fcntl.flock(file, fcntl.LOCK_SH | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                time.sleep(0.2)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Where CLIPVG_FAILURE_LOG names a file, append each failure's traceback to it as it happens (in the
    controller alone under xdist): a run cut short by a time limit, as on the GPU machine, still says why
    each test failed, not only which."""
    target = os.environ.get("CLIPVG_FAILURE_LOG")
    if target and report.failed and "PYTEST_XDIST_WORKER" not in os.environ:
        with open(target, "a", encoding="utf-8") as log:
            log.write(f"== {report.nodeid} ({report.when})\n{report.longreprtext[-6000:]}\n\n")


def pytest_report_header(config: pytest.Config) -> str:
    gpu = torch.cuda.get_device_name(0) if _HAS_CUDA else "none (CUDA runs skipped)"
    return f"clipvg devices: cpu; cuda: {gpu}; torch {torch.__version__}"


def _tests_gpu(item: pytest.Item) -> bool:
    return any(name in getattr(item, "fixturenames", ()) for name in GPU_FIXTURES)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker("gpu" if _tests_gpu(item) else "cpu")


@pytest.fixture(autouse=True)
def _pin_device(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hide CUDA from tests of device-independent behaviour (see the module docstring)."""
    if _tests_gpu(request.node):
        return
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")


@pytest.fixture(params=["cpu", "cuda"])
def device(request: pytest.FixtureRequest) -> torch.device:
    """The device under test: cpu, then cuda where a GPU is present."""
    if request.param == "cuda" and not _HAS_CUDA:
        pytest.skip("no CUDA device on this machine")
    return torch.device(request.param)


@pytest.fixture
def cuda_device() -> torch.device:
    """The GPU, for tests comparing CUDA with the CPU; skipped without one."""
    if not _HAS_CUDA:
        pytest.skip("no CUDA device on this machine")
    return torch.device("cuda")


def _writer_test_paths(rng: np.random.Generator, precision: int, count: int, huge_index: int,
                       max_segments: int) -> list:
    """``count`` random paths (lists of clipvg Subpaths) for SVG path-data writers, plus one long polygon:
    mixed degrees, open and closed subpaths, paths without subpaths, exact halves (printf rounds them to
    even), signed zeros, tiny and large values, and in path ``huge_index`` a number (2**60) past an exact
    integer once scaled by 10**precision; the polygon holds float32 values near halves."""
    from clipvg import Subpath

    halves = np.array([0.03125, -0.03125, 0.125, 2.5, -2.5, 0.5, 1.5, -0.0, 1e-9, -1e-9, 4095.99995, 1e6])
    paths = []
    for index in range(count):
        subpaths = []
        for _ in range(int(rng.integers(0, 4))):
            degrees = rng.integers(1, 4, int(rng.integers(1, max_segments + 1)))
            closed = bool(rng.integers(0, 2))
            points = 1 + int(degrees.sum()) - closed
            values = rng.normal(0, 500, 2 * points) * 10.0 ** -rng.integers(0, 6, 2 * points)
            values[: min(len(halves), 2 * points)] = rng.permutation(halves)[: 2 * points]
            if index == huge_index:
                values[0] = 2.0 ** 60
            subpaths.append(Subpath(values.reshape(-1, 2), degrees, closed=closed))
        paths.append(subpaths)
    near_halves = (rng.integers(-10 ** 6, 10 ** 6, 4000) + 0.5) / 10.0 ** min(precision, 3)  # as float32
    paths.append([Subpath.polygon((near_halves * rng.choice([1, 1e-3, 1e-5], 4000)).reshape(-1, 2))])
    return paths


@pytest.fixture
def writer_test_paths():
    """``_writer_test_paths``: random path data for the SVG writers' tests (clipvg's and the vectorizer's)."""
    return _writer_test_paths
