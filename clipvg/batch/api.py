"""``clipvg.batch.run``: many edits, resumable, on every GPU of a machine or on a Ray cluster."""
from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Iterable, TextIO

from ..errors import InvalidInputError
from ..edit.flat import BY_NAME
from .jobs import Job, load_jobs
from .local import WORKER_PREFIX
from .manifest import Manifest, locked
from .progress import Tracker, summary_table

CHECKPOINTS = ".checkpoints"
EXECUTORS = ("local", "ray")


@dataclasses.dataclass
class BatchSummary:
    """The outcome of a batch run: ``records`` (job id -> its manifest record, in job order),
    ``skipped`` (ids already done before this run), ``interrupted`` and the manifest's path."""

    records: dict[str, dict]
    skipped: set[str]
    manifest: Path
    interrupted: bool = False

    def _ids(self, state: str) -> list[str]:
        return [i for i, r in self.records.items() if r.get("state") == state]

    @property
    def done(self) -> list[str]:
        return self._ids("done")

    @property
    def failed(self) -> list[str]:
        return self._ids("failed")

    @property
    def pending(self) -> list[str]:
        return [i for i, r in self.records.items() if r.get("state") not in ("done", "failed")]

    @property
    def ok(self) -> bool:
        """Whether every job of the batch is done."""
        return len(self.done) == len(self.records)


class BatchInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped a batch; ``summary`` says where it stands. Running it again continues."""

    def __init__(self, summary: BatchSummary) -> None:
        super().__init__(f"batch interrupted with {len(summary.pending)} jobs pending")
        self.summary = summary


def _preload(jobs: list[Job]) -> dict | None:
    """The CLIP (model, weights, device) most jobs use: each worker loads it once at start."""
    defaults = {d: BY_NAME[d].default for d in ("clip_model", "clip_weights", "device")}
    keys = Counter(tuple(job.options.get(k, v) for k, v in defaults.items()) for job in jobs)
    if not keys:
        return None
    return dict(zip(defaults, keys.most_common(1)[0][0]))


def _checkpoint_dir(out_dir: Path) -> Callable[[Job], Path]:
    return lambda job: out_dir / CHECKPOINTS / job.id


def run(jobs: str | os.PathLike | Iterable[dict], out_dir: str | os.PathLike, *, executor: str = "local",
        workers: int | None = None, threads: int | None = None, ray_address: str | None = None, gpus_per_job: float | None = None,
        cpus_per_job: float = 1.0, ray_files: str = "auto", ray_timeout: float = 30.0, formats: Iterable[str] = ("svg",),
        quiet: bool = False, out: TextIO | None = None, callback: Callable[[str, dict], Any] | None = None,
        **edit_options: Any) -> BatchSummary:
    """Run a batch of edits; returns a BatchSummary (``.ok`` when every job is done).

    ``jobs``: a JSON Lines file (one ``clipvg edit`` job per line: ``{"input": "cat.png", "prompt":
    "...", "roi": ["10,20,100,80=a hat"], "colors_only": true, "iterations": 100, "seed": 3,
    "output": ["cat.svg", "cat.png"]}``), a folder of pictures (every one edited with ``prompt``), or
    an iterable of such dicts. ``out_dir``: where relative outputs (default ``<id>.svg``, or one per
    ``formats``), the manifest and the checkpoints go. ``edit_options``: ``clipvg edit`` options every
    job gets unless it sets its own (``prompt``, ``iterations``, ``seed``, ``clip_model``,
    ``clip_weights``, ``device``, ``patches``, ``colors_only``, ...).

    ``executor``: "local" (``workers`` processes, default one per visible GPU, else 1) or "ray"
    (``ray_address``, ``gpus_per_job``, ``cpus_per_job``, ``ray_files``, ``ray_timeout`` seconds to reach
    the cluster; see RayExecutor).
    ``threads``: torch threads of each worker on the CPU (default: the cores shared out between the
    local workers, ``cpus_per_job`` for Ray). CPU sums depend on it: a job's result is bit-identical to
    ``clipvg edit`` run with as many threads (``OMP_NUM_THREADS``).
    Jobs already done with the same settings are skipped; failed and pending ones run. A job's
    failure is recorded and the others go on. ``quiet`` hides the bar and the summary table (printed
    to ``out``, default stdout); ``callback(job_id, record)`` follows every change of a job's state.
    Ctrl-C raises BatchInterrupted once the running jobs are stopped and saved.
    """
    if multiprocessing.current_process().name.startswith(WORKER_PREFIX):
        raise RuntimeError("clipvg.batch.run was called while a batch worker imported the main module: "
                           "call it under 'if __name__ == \"__main__\":' in a script")
    if executor not in EXECUTORS:
        raise InvalidInputError(f"unknown executor {executor!r}; choose from {', '.join(EXECUTORS)}")
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise InvalidInputError(f"{out_dir} is a file; the batch writes into a folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    with locked(out_dir):
        job_list = load_jobs(jobs, out_dir, edit_options, formats)
        manifest = Manifest(out_dir)
        todo = [job for job in job_list if job.error is None and not manifest.is_done(job)]
        skipped = {job.id for job in job_list if job.error is None} - {job.id for job in todo}
        preload = _preload(todo)
        runner = None  # nothing to run: no executor, so no torch, no GPU probe and no Ray cluster
        if todo and executor == "ray":
            from .ray_executor import RayExecutor

            runner = RayExecutor(ray_address, workers, gpus_per_job, cpus_per_job, ray_files, preload, threads,
                                 ray_timeout)
        elif todo:
            from .local import LocalExecutor

            runner = LocalExecutor(workers, (preload or {}).get("device"), preload, threads)
        for job in todo:
            manifest.update(job.id, state="pending", error=None, input=job.input, outputs=job.outputs, spec=job.spec)
        manifest.save()
        if not quiet:
            unusable = sum(job.error is not None for job in job_list)
            where = f", on {runner.describe()}" if runner else ""
            print(f"clipvg batch: {len(todo)} of {len(job_list)} jobs to run ({len(skipped)} done before, "
                  f"{unusable} unusable){where}", file=sys.stderr)
        tracker = Tracker(manifest, job_list, len(skipped), quiet, callback)
        interrupted = False
        try:
            for job in job_list:
                if job.error is not None:
                    tracker.failed_before_start(job)
            if runner:
                runner.run(todo, tracker, _checkpoint_dir(out_dir))
        except KeyboardInterrupt:
            interrupted = True
        finally:
            tracker.close()
            with contextlib.suppress(OSError):
                (out_dir / CHECKPOINTS).rmdir()  # when no interrupted job left a checkpoint
        summary = BatchSummary({job.id: dict(manifest.jobs[job.id]) for job in job_list}, skipped, manifest.path,
                               interrupted)
        if not quiet:
            summary_table(job_list, manifest, skipped, out or sys.stdout)
    if interrupted and summary.pending:
        raise BatchInterrupted(summary)
    return summary
