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
"""
from __future__ import annotations

import pytest
import torch

GPU_FIXTURES = ("device", "cuda_device")
_HAS_CUDA = torch.cuda.is_available()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "cpu: tests device-independent behaviour; runs on the CPU with CUDA hidden")
    config.addinivalue_line("markers", "gpu: tests GPU behaviour; runs on CUDA when a GPU is present")
    config.addinivalue_line("markers", "slow: takes over 20 s on 2 CPU cores; ./scripts/test.sh --core leaves it out "
                            "(the full suite, CI's, runs it)")


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
