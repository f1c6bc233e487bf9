"""Helpers for the ``clipvg serve`` tests: tiny pictures, an app with the project's small shapes CLIP,
waiting for jobs, a live uvicorn server on a free loopback port, and the system Chromium.

A missing web extra or browser skips the tests that need it, with the reason; under
CLIPVG_REQUIRE_SYSTEM_TOOLS (set by scripts/test.sh, which installs them) it is a failure instead."""
from __future__ import annotations

import contextlib
import importlib
import io
import os
import threading
import time
from pathlib import Path
from typing import Iterator

import numpy as np
from PIL import Image

from system_tools import require

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
LOCAL = "http://127.0.0.1"


def require_modules(*names: str) -> None:
    """The Python packages the serve tests need (the ``serve`` and ``test`` extras)."""
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError:
            require(False, f"{name} is not installed: pip install -e '.[serve,test]'")


def require_browser() -> None:
    """Playwright for Python and the system Chromium (never a browser Playwright downloads)."""
    require_modules("playwright.sync_api")
    require(Path(CHROMIUM).is_file(), f"{CHROMIUM} is missing: apt-get install chromium")


def tiny_svg(size: int = 32) -> str:
    """A white backdrop, a red circle and a blue square in three layers on a ``size`` px canvas."""
    s = size
    return f"""<svg xmlns="http://www.w3.org/2000/svg" xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape"
     width="{s}" height="{s}" viewBox="0 0 {s} {s}">
  <g inkscape:groupmode="layer" inkscape:label="background"><rect x="-1" y="-1" width="{s + 2}" height="{s + 2}"
     fill="#ffffff"/></g>
  <g inkscape:groupmode="layer" inkscape:label="circle"><circle cx="{s * 0.35}" cy="{s * 0.4}" r="{s * 0.22}"
     fill="#e03020"/></g>
  <g inkscape:groupmode="layer" inkscape:label="square"><rect x="{s * 0.55}" y="{s * 0.55}" width="{s * 0.3}"
     height="{s * 0.3}" fill="#2040e0"/></g>
</svg>"""


def tiny_png(size: int = 24) -> bytes:
    """An opaque PNG: left half red, right half blue."""
    pixels = np.zeros((size, size, 3), np.uint8)
    pixels[:, : size // 2] = (220, 40, 30)
    pixels[:, size // 2:] = (30, 60, 220)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


def shapes_config(work_dir: Path, **overrides):
    """A ServeConfig for tests: CPU, the shapes CLIP, live previews after every step."""
    import losses
    from clipvg.serve import ServeConfig

    model, weights = losses.shapes_clip_paths()
    settings = dict(work_dir=work_dir, devices=("cpu",), clip_model=model, clip_weights=weights,
                    preview_interval=0.0)
    config = ServeConfig(**{**settings, **overrides})
    config.defaults.update(iterations=3, patches=1)
    return config


def make_app(work_dir: Path, **overrides):
    from clipvg.serve import create_app

    return create_app(shapes_config(work_dir, **overrides))


@contextlib.contextmanager
def serve_client(app, base_url: str = LOCAL, **kwargs) -> Iterator:
    """A Starlette TestClient (lifespan run: the queue workers start and stop with it)."""
    from starlette.testclient import TestClient

    with TestClient(app, base_url=base_url, **kwargs) as client:
        yield client


def upload(client, data: bytes | str, name: str = "picture.svg", **params):
    body = data.encode() if isinstance(data, str) else data
    return client.post("/api/documents", params={"name": name, **params}, content=body)


def edit_request(**overrides) -> dict:
    """An edit of version 0 that takes a few quick steps."""
    request = dict(version=0, prompt="a blue circle", rois=[{"x": 2, "y": 2, "w": 16, "h": 16,
                                                            "prompt": "a green square"}],
                   change="all", region_only=False, iterations=3, patches=1, seed=0)
    return {**request, **overrides}


def wait_job(client, job_id: str, timeout: float = 120.0, until=None) -> dict:
    """Poll a job until it is done (or ``until(state)`` holds); returns its last state."""
    deadline = time.monotonic() + timeout
    while True:
        state = client.get(f"/api/jobs/{job_id}").json()
        if (until(state) if until else state["status"] in ("finished", "stopped", "cancelled", "failed")):
            return state
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} still {state['status']} after {timeout} s: {state}")
        time.sleep(0.05)


@contextlib.contextmanager
def live_server(app) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free port of 127.0.0.1 in a thread; yields its base URL."""
    import uvicorn

    from clipvg.serve.net import listening_socket

    sock = listening_socket("127.0.0.1", 0)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=2))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


@contextlib.contextmanager
def serve_process(work_dir: Path, port: int = 0, *options: str) -> Iterator[tuple]:
    """A real ``clipvg serve`` process (CPU, the shapes CLIP, a checkpoint after every step unless
    ``options`` say otherwise) on ``port`` of 127.0.0.1 (0: a free one); yields (process, base URL).
    Killed at the end if still running."""
    import subprocess
    import sys

    import losses

    model, weights = losses.shapes_clip_paths()
    command = [sys.executable, "-c", "import sys; from clipvg.cli import main; sys.exit(main())", "serve",
               "--port", str(port), "--work-dir", str(work_dir), "--device", "cpu", "--clip-model", model,
               "--clip-weights", weights, "--checkpoint-steps", "1", "--preview-interval", "0", *options]
    log = Path(f"{work_dir}.log")  # its warnings, read when it fails to start
    with open(log, "a") as errors:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, text=True,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        first = process.stdout.readline()
        if not first.startswith("clipvg serve"):
            process.wait(30)
            raise RuntimeError(f"clipvg serve did not start: {first}{log.read_text()}")
        yield process, process.stdout.readline().strip().rstrip("/")
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(30)
        process.stdout.close()


def free_port() -> int:
    """A port of 127.0.0.1 that nothing listens on now."""
    from clipvg.serve.net import listening_socket

    with listening_socket("127.0.0.1", 0) as sock:
        return sock.getsockname()[1]
