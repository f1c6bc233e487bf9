"""The batch manifest, ``OUT_DIR/manifest.json``: every job's state (pending, running, done, failed)
with its error, timing and outputs, written atomically; a rerun reads it and skips finished jobs.
A lock file keeps two batches from sharing one output folder."""
from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path
from typing import Any, Iterator

from .. import json_text
from ..atomic import write_bytes_atomic
from ..errors import ClipvgError, InvalidInputError

FILENAME = "manifest.json"
LOCKNAME = ".batch.lock"
VERSION = 1
STATES = ("pending", "running", "done", "failed")


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


class Manifest:
    """Job records by id, in job order: ``state``, ``error``, ``input``, ``outputs``, ``spec``,
    ``attempts``, ``seconds``, ``message`` (what the edit printed last), ``log`` (its other output, for
    failed and interrupted jobs), ``worker`` and ``updated``. Records of jobs no longer in the batch
    are kept as they were."""

    def __init__(self, out_dir: str | os.PathLike) -> None:
        self.path = Path(out_dir) / FILENAME
        self.jobs: dict[str, dict[str, Any]] = {}
        self._saved_at = 0.0
        self.dirty = False
        if self.path.is_file():
            try:
                data = json_text.loads(self.path.read_text(encoding="utf-8"))
                if data.get("version") != VERSION or not isinstance(data.get("jobs"), dict):
                    raise ValueError("unknown manifest version")
            except (ValueError, OSError) as error:
                raise InvalidInputError(f"cannot read {self.path} ({error}); move it away to start the batch "
                                        "over") from None
            self.jobs = data["jobs"]
            for record in self.jobs.values():  # a run that was killed left these behind
                if record.get("state") == "running":
                    record["state"] = "pending"

    def record(self, job_id: str) -> dict[str, Any]:
        """The record of ``job_id`` (created pending)."""
        return self.jobs.setdefault(job_id, {"state": "pending", "error": None, "attempts": 0})

    def is_done(self, job) -> bool:
        """Whether ``job`` finished with the same settings and inputs, and its outputs are all there."""
        record = self.jobs.get(job.id)
        return bool(record and record.get("state") == "done" and record.get("spec") == job.spec
                    and all(os.path.isfile(p) for p in job.outputs))

    def update(self, job_id: str, **fields: Any) -> dict[str, Any]:
        record = self.record(job_id)
        record.update(fields, updated=_now())
        self.dirty = True
        return record

    def save(self, at_most_every: float = 0.0) -> None:
        """Write the manifest atomically (skipped when nothing changed, or when it was written less
        than ``at_most_every`` seconds ago)."""
        if not self.dirty or time.monotonic() - self._saved_at < at_most_every:
            return
        data = {"version": VERSION, "jobs": self.jobs}
        write_bytes_atomic(self.path, (json.dumps(data, indent=1, ensure_ascii=False) + "\n").encode())
        self._saved_at, self.dirty = time.monotonic(), False


@contextlib.contextmanager
def locked(out_dir: str | os.PathLike) -> Iterator[None]:
    """Hold ``OUT_DIR/.batch.lock`` (an advisory lock) while inside; ClipvgError when another batch holds it."""
    try:
        import fcntl
    except ImportError:  # no advisory locks here (Windows): run without
        yield
        return
    path = Path(out_dir) / LOCKNAME
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise ClipvgError(f"another clipvg batch is writing to {out_dir}; wait for it or use another "
                              "output folder") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
