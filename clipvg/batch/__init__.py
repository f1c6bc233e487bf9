"""Batch edits: many ``clipvg edit`` jobs on every GPU of a machine, or on a Ray cluster.

``run(jobs, out_dir, ...)`` runs a JSON Lines file of jobs, a folder of pictures or a list of dicts
and returns a ``BatchSummary``; ``OUT_DIR/manifest.json`` records every job's state, so running the
same batch again skips what is done and continues what was interrupted. Each job is an edit job
(``clipvg.edit.JobSpec``, read with ``clipvg edit``'s options table) run by ``clipvg.edit.run_job``:
batch adds no editing logic of its own.

Public API: ``run``, ``BatchSummary``, ``BatchInterrupted``, ``load_jobs``, ``Job``, ``Manifest``,
``LocalExecutor``, ``RayExecutor``.
"""
from .api import BatchInterrupted, BatchSummary, run
from .jobs import Job, load_jobs
from .local import LocalExecutor
from .manifest import Manifest
from .ray_executor import RayExecutor

__all__ = ["BatchInterrupted", "BatchSummary", "Job", "LocalExecutor", "Manifest", "RayExecutor", "load_jobs",
           "run"]
