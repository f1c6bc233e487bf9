"""Progress of a batch: the manifest kept up to date, one overall tqdm bar (done / failed / running,
ETA) and the final summary table."""
from __future__ import annotations

import sys
import time
from typing import Any, Callable, TextIO

from tqdm.auto import tqdm

from .jobs import Job
from .manifest import Manifest

SAVE_EVERY_S = 1.0  # the manifest is rewritten at most this often while jobs run (and at the end)
REDRAW_EVERY_S = 1.0  # the bar's clock and ETA are redrawn this often between job events


class Tracker:
    """Receives the executors' events (``started``, ``finished``) for the jobs of one run, records
    them in the manifest, moves the bar and calls ``callback(job_id, record)`` after each change."""

    def __init__(self, manifest: Manifest, jobs: list[Job], skipped: int, quiet: bool = False,
                 callback: Callable[[str, dict], Any] | None = None) -> None:
        self.manifest, self.callback = manifest, callback
        self.jobs = {job.id: job for job in jobs}
        unusable = sum(job.error is not None for job in jobs)  # counted from the start: the rate is the edits'
        self.counts = {"done": skipped, "failed": 0, "running": 0}
        self.bar = tqdm(total=len(jobs), initial=skipped + unusable, unit="job", desc="clipvg batch",
                        disable=quiet, dynamic_ncols=True, smoothing=0.05, file=sys.stderr)
        self.note = ""
        self._drawn = 0.0
        self._show()

    def _show(self) -> None:
        c = self.counts
        self.bar.set_postfix_str(f"done {c['done']}, failed {c['failed']}, running {c['running']}{self.note}",
                                 refresh=False)
        self._redraw()

    def _redraw(self) -> None:
        self.bar.refresh()
        self._drawn = time.monotonic()

    def _changed(self, job_id: str, record: dict, at_most_every: float = SAVE_EVERY_S) -> None:
        self.manifest.save(at_most_every)
        if self.callback is not None:
            self.callback(job_id, dict(record))

    def started(self, job_id: str, worker: str) -> None:
        record = self.manifest.record(job_id)
        record = self.manifest.update(job_id, state="running", error=None, worker=worker,
                                      attempts=record.get("attempts", 0) + 1)
        self.counts["running"] += 1
        self._show()
        self._changed(job_id, record)

    def finished(self, job_id: str, result: dict, counted: bool = False) -> None:
        """A job ended: ``result["state"]`` done, failed, or interrupted (then it is pending again)."""
        job = self.jobs[job_id]
        state = result["state"]
        if self.manifest.record(job_id).get("state") == "running":
            self.counts["running"] -= 1
        fields = {"state": "pending" if state == "interrupted" else state, "error": result.get("error"),
                  "seconds": result.get("seconds"), "message": result.get("message", ""),
                  "log": result.get("log", ""), "input": job.input, "outputs": job.outputs, "spec": job.spec}
        edit = result.get("result") or {}
        fields.update({k: edit[k] for k in ("steps", "resumed_from") if k in edit})
        if state == "interrupted":
            fields["error"] = "interrupted; the next run continues it"
        record = self.manifest.update(job_id, **fields)
        if state in ("done", "failed"):
            self.counts[state] += 1
            if not counted:
                self.bar.update(1)
        self._show()
        self._changed(job_id, record, at_most_every=0.0)  # an ended job is on disk before the next one runs

    def failed_before_start(self, job: Job) -> None:
        """A job that cannot run at all (its line or its files are wrong)."""
        self.manifest.record(job.id)
        self.finished(job.id, {"state": "failed", "error": job.error, "seconds": 0.0}, counted=True)

    def stopping(self, what: str) -> None:
        self.note = f"; Ctrl-C: stopping, {what} (Ctrl-C again to abandon them)"
        self._show()

    def tick(self) -> None:
        """Called by the executors every fraction of a second: keeps the bar's clock and the manifest fresh."""
        if time.monotonic() - self._drawn >= REDRAW_EVERY_S:
            self._redraw()
        self.manifest.save(SAVE_EVERY_S)

    def close(self) -> None:
        for job_id in self.jobs:  # nothing stays 'running' once the executor has returned
            if self.manifest.jobs.get(job_id, {}).get("state") == "running":
                self.manifest.update(job_id, state="pending", error="interrupted; the next run continues it")
        self.counts["running"] = 0
        self.note = ""
        self._show()
        self.bar.close()
        self.manifest.save()


def _cell(text: Any, width: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[:width - 3] + "..."


def summary_table(jobs: list[Job], manifest: Manifest, skipped: set[str], out: TextIO = sys.stdout,
                  max_rows: int = 30) -> None:
    """Print one row per job (all of them up to ``max_rows``, else the ones that did not finish) and
    a line of totals."""
    rows = []
    for job in jobs:
        record = manifest.jobs.get(job.id, {})
        state = "skipped" if job.id in skipped else record.get("state", "pending")
        seconds = "" if job.id in skipped or record.get("seconds") is None else f"{record['seconds']:.1f} s"
        if state in ("done", "skipped"):
            detail = ", ".join(job.outputs)
        else:
            detail = record.get("error") or ""
        rows.append((job.id, state, seconds, detail))
    shown = rows if len(rows) <= max_rows else [r for r in rows if r[1] not in ("done", "skipped")]
    if shown:
        id_width = min(32, max(3, *(len(r[0]) for r in shown)))
        print(f"{'job':<{id_width}}  {'state':<8}  {'time':>8}  result", file=out)
        for job_id, state, seconds, detail in shown:
            print(f"{_cell(job_id, id_width):<{id_width}}  {state:<8}  {seconds:>8}  {_cell(detail, 100)}", file=out)
    counts = {s: sum(r[1] == s for r in rows) for s in ("done", "skipped", "failed", "pending")}
    hidden = len(rows) - len(shown)
    print(f"{len(rows)} jobs: {counts['done'] + counts['skipped']} done ({counts['skipped']} before this run), "
          f"{counts['failed']} failed, {counts['pending']} pending"
          f"{f' ({hidden} finished jobs not listed)' if hidden else ''}; manifest {manifest.path}", file=out)
