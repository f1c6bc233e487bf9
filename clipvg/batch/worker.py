"""Running batch jobs inside a worker (a local worker process or a Ray actor): CLIP loaded once per
worker, each job run by ``clipvg edit``'s own code, every failure of a job caught and described.

Imported by the workers (and preloaded by the local executor's fork server), so it imports what an
edit needs up front.
"""
from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import torch

import losses
from ..cli import edit_command
from ..errors import ClipvgError
from .jobs import edit_namespace

LOG_CHARS = 4000


def describe(error: BaseException) -> str:
    """One line (or a few) saying what went wrong, for the manifest."""
    if isinstance(error, ClipvgError):
        text = str(error)
    elif isinstance(error, torch.cuda.OutOfMemoryError):
        text = f"out of GPU memory: {str(error).splitlines()[0] if str(error) else ''}".rstrip(": ")
    else:
        text = f"{type(error).__name__}: {error}"
    return text if len(text) <= 1000 else text[:1000] + " ..."


def preload_clip(spec: dict | None) -> str | None:
    """Load the batch's usual CLIP once in this worker (``losses.load_clip`` keeps it for every later
    job of the same model, weights and device). Returns an error message instead of raising."""
    if not spec:
        return None
    try:
        from ..edit.editor import resolve_device

        losses.load_clip(spec["clip_model"], spec["clip_weights"], device=resolve_device(spec.get("device")))
    except Exception as error:  # the jobs that need this model will fail with the same message
        return describe(error)
    return None


def execute(payload: dict[str, Any]) -> dict[str, Any]:
    """Run one job in this process, as ``clipvg edit`` would with the job's options and
    ``--resume CHECKPOINT`` (so an interrupted job continues where it stopped).

    Returns ``{"id", "state": "done" | "failed" | "interrupted", "error", "message", "log", "seconds"}``:
    an exception of the job (bad image, bad ROI, NaN, out of memory, ...) fails the job only.
    Ctrl-C (SIGINT) lets the edit finish its step and save its checkpoint, and gives "interrupted".
    """
    start = time.perf_counter()
    checkpoint = payload.get("checkpoint")
    buffer = io.StringIO()
    state, error = "done", None
    try:
        with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer), warnings.catch_warnings():
            warnings.simplefilter("default")  # each job shows its own warnings
            edit_command.run(edit_namespace(payload["options"], checkpoint))
    except KeyboardInterrupt:
        state = "interrupted"
    except Exception as exc:  # noqa: BLE001 - any failure of one job is recorded, the others go on
        state, error = "failed", describe(exc)
        if isinstance(exc, torch.cuda.OutOfMemoryError):
            torch.cuda.empty_cache()
    if state != "interrupted" and checkpoint:
        shutil.rmtree(checkpoint, ignore_errors=True)  # done, or failed: a retry starts afresh
    output = buffer.getvalue()
    lines = [line for line in output.splitlines() if line.startswith("wrote ")]
    log = output.strip()[-LOG_CHARS:] if state != "done" else ""
    return {"id": payload["id"], "state": state, "error": error, "message": lines[-1] if lines else "",
            "log": log, "seconds": round(time.perf_counter() - start, 3)}


def _remote_path(root: Path, path: str) -> Path:
    """Where an absolute path of the driver's machine lives under ``root`` on a worker."""
    return root / Path(path).relative_to(Path(path).anchor)


def execute_with_bytes(payload: dict[str, Any]) -> dict[str, Any]:
    """``execute`` on a machine that does not see the driver's files: the input (and mask) come as
    bytes in ``payload["files"]``, the job runs in a temporary folder, and every file it wrote comes
    back in ``result["files"]`` ({absolute path on the driver: bytes})."""
    options = dict(payload["options"])
    with tempfile.TemporaryDirectory(prefix="clipvg-batch-") as tmp:
        root = Path(tmp)
        renamed = {}  # worker path -> driver path, to say the driver's paths in messages
        for key, data in payload["files"].items():
            local = root / "in" / key / Path(options[key]).name
            local.parent.mkdir(parents=True)
            local.write_bytes(data)
            renamed[str(local)], options[key] = options[key], str(local)
        out = root / "out"
        options["output"] = [str(_remote_path(out, p)) for p in options["output"]]
        renamed.update(zip(options["output"], payload["options"]["output"]))
        result = execute({"id": payload["id"], "options": options, "checkpoint": str(root / "checkpoint")})
        for key in ("error", "message", "log"):
            for here, there in renamed.items():
                result[key] = result[key] and result[key].replace(here, there)
        anchor = Path(payload["options"]["output"][0]).anchor
        result["files"] = {str(Path(anchor) / p.relative_to(out)): p.read_bytes()
                           for p in sorted(out.rglob("*")) if p.is_file()}
    return result


def _send(conn, message) -> None:
    """Send with Ctrl-C held back, so a message is never cut in half."""
    if not hasattr(signal, "pthread_sigmask"):  # Windows
        conn.send(message)
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        conn.send(message)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def serve(conn, gpu: str | None, threads: int | None, preload: dict | None) -> None:
    """A local worker process: load CLIP, then run the jobs the coordinator sends over ``conn`` one
    by one until it sends None, the pipe closes or Ctrl-C.

    Messages to the coordinator: ("ready", None, {"error"}) then ("result", job_id, result) per job.
    The worker leaves the terminal's process group, so Ctrl-C reaches only the coordinator, which
    forwards one SIGINT to each worker: a running edit finishes its step and saves its checkpoint.
    """
    with contextlib.suppress(OSError, AttributeError):
        os.setpgid(0, 0)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if gpu is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = gpu  # before CUDA starts in this process
    try:
        if threads:
            torch.set_num_threads(threads)
        _send(conn, ("ready", None, {"error": preload_clip(preload)}))
        while True:
            payload = conn.recv()
            if payload is None:
                return
            result = execute(payload)
            _send(conn, ("result", payload["id"], result))
            if result["state"] == "interrupted":
                return
    except (KeyboardInterrupt, EOFError, BrokenPipeError):
        return
