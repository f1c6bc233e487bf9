"""Running batch jobs inside a worker (a local worker process or a Ray actor): CLIP loaded once per
worker, each job run by ``clipvg.edit.run_job`` on its JobSpec, every failure of a job caught and
described. A local worker dies with the batch that started it (``die_with_parent``).

Imported by the workers (and preloaded by the local executor's fork server), so it imports what an
edit needs up front.
"""
from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import torch

import losses
from ..edit.job import run_job
from ..edit.spec import JobSpec
from ..errors import ClipvgError
from ..input_check import check_job_inputs
from ..startup import die_with_parent, set_startup_environment

LOG_CHARS = 4000


def describe(error: BaseException) -> str:
    """One line (or a few) saying what went wrong, for the manifest."""
    text = str(error) if isinstance(error, ClipvgError) else f"{type(error).__name__}: {error}"
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
    """Run one job (``payload["spec"]``, a JobSpec as data) in this process with ``run_job``, its input
    checked first as the CLI checks it (``clipvg.input_check.check_job_inputs``: broken or over the job's
    limits, the job fails with that one-line reason; an SVG is read once); a job that stopped early
    continues from its checkpoint.

    Returns ``{"id", "state": "done" | "failed" | "interrupted", "error", "message", "log",
    "seconds", "result"}`` (``result`` the JobResult as data, None when the job failed): an exception
    of the job (bad image, bad ROI, NaN, out of memory, owned by another process, ...) fails the job
    only. Ctrl-C (SIGINT) lets the edit finish its step and save its checkpoint: "interrupted".
    """
    start = time.perf_counter()
    state, error, result = "done", None, None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")  # each job shows its own warnings
        try:
            spec = JobSpec.from_dict(payload["spec"])
            result = run_job(spec, read=check_job_inputs(spec))  # the input checked as by the CLI, read once
            state = "done" if result.status == "finished" else "interrupted"
        except KeyboardInterrupt:
            state = "interrupted"
        except Exception as exc:  # noqa: BLE001 - any failure of one job is recorded, the others go on
            state, error = "failed", describe(exc)
    log = "\n".join(f"{w.category.__name__}: {w.message}" for w in caught)[-LOG_CHARS:] if state != "done" else ""
    return {"id": payload["id"], "state": state, "error": error, "message": result.message if result else "",
            "log": log, "seconds": round(time.perf_counter() - start, 3),
            "result": result.to_dict() if result else None}


def _remote_path(root: Path, path: str) -> Path:
    """Where an absolute path of the driver's machine lives under ``root`` on a worker."""
    return root / Path(path).relative_to(Path(path).anchor)


def execute_with_bytes(payload: dict[str, Any]) -> dict[str, Any]:
    """``execute`` on a machine that does not see the driver's files: the input (and mask) come as
    bytes in ``payload["files"]``, the job runs in a temporary folder, and every file it wrote comes
    back in ``result["files"]`` ({absolute path on the driver: bytes})."""
    spec = JobSpec.from_dict(payload["spec"])
    wanted = list(spec.outputs.paths)
    with tempfile.TemporaryDirectory(prefix="clipvg-batch-") as tmp:
        root = Path(tmp)
        renamed = {}  # worker path -> driver path, to say the driver's paths in messages
        for key, data in payload["files"].items():
            there = spec.input if key == "input" else spec.subset.mask
            local = root / "in" / key / Path(there).name
            local.parent.mkdir(parents=True)
            local.write_bytes(data)
            renamed[str(local)] = there
            if key == "input":
                spec.input = str(local)
            else:
                spec.subset.mask = str(local)
        out = root / "out"
        spec.outputs.paths = [str(_remote_path(out, p)) for p in wanted]
        spec.checkpoint.directory = str(root / "checkpoint")
        renamed.update(zip(spec.outputs.paths, wanted))
        result = execute({"id": payload["id"], "spec": spec.to_dict()})
        for key in ("error", "message", "log"):
            for here, there in renamed.items():
                result[key] = result[key] and result[key].replace(here, there)
        anchor = Path(wanted[0]).anchor
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


def serve(conn, gpu: str | None, threads: int | None, preload: dict | None, parent: int | None = None) -> None:
    """A local worker process: load CLIP, then run the jobs the coordinator (process ``parent``) sends
    over ``conn`` one by one until it sends None, the pipe closes, Ctrl-C or the coordinator dies.

    Messages to the coordinator: ("ready", None, {"error"}) then ("result", job_id, result) per job.
    The worker leaves the terminal's process group, so Ctrl-C reaches only the coordinator, which
    forwards one SIGINT to each worker: a running edit finishes its step and saves its checkpoint.
    """
    if parent is not None:
        die_with_parent(parent)
    with contextlib.suppress(OSError, AttributeError):
        os.setpgid(0, 0)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    set_startup_environment()  # this process's start-up: before CUDA starts
    if gpu is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = gpu  # likewise
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
