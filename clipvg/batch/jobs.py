"""Batch jobs: each one is an edit job (``clipvg.edit.JobSpec``) written as flat options, read from a
JSON Lines file, a folder of inputs, or Python dicts.

A job's keys are the edit options of ``clipvg.edit.flat.OPTIONS`` by name (``input``, ``output``,
``prompt``, ``roi``, ``colors_only``, ``region_only``, ``mask``, ``iterations``, ``patches``,
``seed``, ``clip_model``, ``clip_weights``, ``precision``, ``device``, ``max_size``, ``save_every``,
``checkpoint_every``, ``checkpoint_seconds``, ``export_layers``, the refiner settings, ...; dashes or
underscores), plus ``id`` and a few aliases (``outputs``, ``rois``, ``num_patches``, ``steps``,
``params``). The same table reads ``clipvg edit``'s command line, so a job means exactly what the
same ``clipvg edit`` command line means.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Mapping

from ..atomic import ensure_not_input
from ..edit.flat import normalize as normalize_options
from ..edit.flat import spec_from_options
from ..edit.spec import JobSpec
from .. import json_text
from ..errors import ClipvgError, InvalidInputError
from ..limits import names as limit_names, option_name

INPUT_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".svg", ".svgz")
FORMATS = ("svg", "png", "pdf")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
CHECKPOINT_SECONDS = 60.0  # a job that sets no checkpoint policy saves its state this often (kill -9 loses less)
# options that do not change a finished job's result (changing them does not redo it): checkpoints, limits
NOT_DECISIVE = ("checkpoint_every", "checkpoint_seconds", "max_seconds", *(option_name(name) for name in limit_names()))


def normalize(entry: Mapping[str, Any]) -> dict[str, Any]:
    """A job's (or the batch defaults') keys as edit option names; raises InvalidInputError on keys
    that are not edit options."""
    return normalize_options(entry, extra=("id",))


@dataclasses.dataclass
class Job:
    """One edit of a batch. ``options`` are ``clipvg edit``'s, with absolute input, mask and output
    paths; ``error`` says why the job cannot run (it is then recorded as failed, the others run);
    ``spec`` is a digest of the options and the input files' bytes (a finished job is redone when it
    changes)."""

    id: str
    options: dict[str, Any]
    error: str | None = None
    spec: str = ""
    where: str = ""

    @property
    def input(self) -> str | None:
        return self.options.get("input")

    @property
    def outputs(self) -> list[str]:
        return list(self.options.get("output") or [])

    def job_spec(self, checkpoint: str | os.PathLike | None = None) -> JobSpec:
        """The job's JobSpec; with ``checkpoint``, the job checkpoints and resumes there (and owns it)."""
        spec = spec_from_options(self.options, id=self.id)
        if checkpoint is not None:
            spec.checkpoint.directory, spec.checkpoint.resume, spec.checkpoint.keep = str(checkpoint), True, False
        return spec

    def payload(self, checkpoint: str | os.PathLike | None) -> dict[str, Any]:
        """What a worker needs to run the job (plain JSON-able data): its id and JobSpec."""
        return {"id": self.id, "spec": self.job_spec(checkpoint).to_dict()}


def _absolute(base: Path, path: Any) -> str:
    return os.path.abspath(os.path.join(base, os.path.expanduser(str(path))))


def _file_digest(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _spec(options: Mapping[str, Any]) -> str:
    """A digest of what decides a job's result: its options (not how often it checkpoints) and the
    bytes of its input files."""
    decisive = {k: v for k, v in options.items() if k not in NOT_DECISIVE}
    digest = hashlib.sha256(json.dumps(decisive, sort_keys=True, default=str).encode())
    for key in ("input", "mask"):
        path = options.get(key)
        if path and os.path.isfile(path):
            digest.update(_file_digest(path).encode())
    return digest.hexdigest()[:20]


def _check(options: dict[str, Any]) -> None:
    """What the edit job would reject before starting, raised as InvalidInputError."""
    spec = spec_from_options(options)
    for target in spec.outputs.paths:
        ensure_not_input(target, spec.input_files())


def _read_entries(source: Any, defaults: Mapping[str, Any]) -> tuple[list[tuple[str, Any]], Path]:
    """(where, entry or an InvalidInputError) pairs, and the folder relative input paths start from."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if path.is_dir():
            if not defaults.get("prompt"):
                raise InvalidInputError(f"{path} is a folder of inputs: give the prompt every edit uses (--prompt)")
            files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in INPUT_SUFFIXES)
            if not files:
                raise InvalidInputError(f"no pictures in {path} (looked for {', '.join(INPUT_SUFFIXES)})")
            return [(p.name, {"input": p.name}) for p in files], path
        if not path.is_file():
            raise InvalidInputError(f"jobs file not found: {path}")
        entries: list[tuple[str, Any]] = []
        for number, raw in enumerate(path.read_bytes().splitlines(), 1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as error:  # this job fails, the others run
                entries.append((f"{path.name} line {number}", InvalidInputError(
                    f"not UTF-8 text ({error.reason} at byte {error.start + 1}); save the jobs file as UTF-8")))
                continue
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            try:
                entry = json_text.loads(line)
            except json.JSONDecodeError as error:
                entry = InvalidInputError(f"not JSON ({error.msg} at column {error.colno})")
            entries.append((f"{path.name} line {number}", entry))
        if not entries:
            raise InvalidInputError(f"{path} holds no jobs; write one JSON object per line")
        return entries, path.parent
    return [(f"job {i + 1}", entry) for i, entry in enumerate(source)], Path.cwd()


def _unique_ids(jobs: list[Job]) -> None:
    """Jobs without an id get their input's stem ("line-N" without input), numbered -2, -3, ...
    when several share one."""
    taken = Counter(job.id for job in jobs if job.id)
    for id_, count in taken.items():
        if count > 1:
            raise InvalidInputError(f"job id {id_!r} is used {count} times; ids must be unique")
    counters: dict[str, int] = {}
    for job in jobs:
        if job.id:
            continue
        name = Path(job.input).stem if job.input else job.where.rsplit(" ", 2)[-2:]
        name = name if isinstance(name, str) else "-".join(name)
        stem = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._-") or "job"
        n = counters.get(stem, 1)
        candidate = stem if n == 1 else f"{stem}-{n}"
        while candidate in taken:
            n += 1
            candidate = f"{stem}-{n}"
        counters[stem] = n + 1
        taken[candidate] += 1
        job.id = candidate


def load_jobs(source: Any, out_dir: str | os.PathLike, defaults: Mapping[str, Any] | None = None,
              formats: Iterable[str] = ("svg",)) -> list[Job]:
    """The jobs of a batch.

    ``source``: a JSON Lines file (one job object a line; blank lines and lines starting with # are
    skipped), a folder (one job per picture in it, every job taking ``defaults``' prompt), or an
    iterable of job dicts. ``defaults``: options every job gets unless it sets its own (the batch
    command's edit options). Jobs without outputs write ``OUT_DIR/<id>.<format>`` for each of
    ``formats``. Relative inputs and masks start from the JSON Lines file's folder (the folder itself,
    or the current directory for dicts), relative outputs from ``out_dir``.

    A job that cannot run (bad JSON, unknown key, bad ROI, missing input, ...) comes back with its
    ``error`` set; InvalidInputError is raised only for the batch as a whole (no jobs, duplicate ids,
    two jobs writing the same file, a bad default).
    """
    out_dir = Path(out_dir)
    formats = [f.strip().lower().lstrip(".") for f in formats if f.strip()]
    bad = sorted(set(formats) - set(FORMATS))
    if bad or not formats:
        raise InvalidInputError(f"unknown output format {bad or formats}; choose from {', '.join(FORMATS)}")
    defaults = normalize(defaults or {})
    for key in ("input", "output", "id"):
        if key in defaults:
            raise InvalidInputError(f"{key} is set per job, not for the whole batch")
    if defaults.get("mask"):  # given on the command line: from the current directory
        defaults["mask"] = _absolute(Path.cwd(), defaults["mask"])
    entries, base = _read_entries(source, defaults)
    jobs: list[Job] = []
    for where, entry in entries:
        job = Job(id="", options={}, where=where)
        try:
            if isinstance(entry, Exception):
                raise entry
            if not isinstance(entry, Mapping):
                raise InvalidInputError(f"a job is a JSON object, got {type(entry).__name__}")
            options = normalize(entry)
            job.id = options.pop("id", "") or ""
            if job.id and not (isinstance(job.id, str) and _ID.fullmatch(job.id)):
                bad_id, job.id = job.id, ""
                raise InvalidInputError(f"job id {bad_id!r} must be letters, digits, '.', '_' or '-'")
            if not options.get("input"):
                raise InvalidInputError("the job has no input")
            options = {**defaults, **options}
            if options.get("checkpoint_every") is None and options.get("checkpoint_seconds") is None:
                options["checkpoint_seconds"] = CHECKPOINT_SECONDS
            for key in ("input", "mask"):
                if options.get(key):
                    options[key] = _absolute(base, options[key])
            if options.get("output"):
                options["output"] = [_absolute(out_dir, p) for p in options["output"]]
            job.options = options
        except ClipvgError as error:
            job.error = f"{where}: {error}"
            if isinstance(entry, Mapping) and isinstance(entry.get("input"), str):
                job.options = {"input": _absolute(base, entry["input"])}
        jobs.append(job)
    _unique_ids(jobs)
    owners: dict[str, str] = {}
    for job in jobs:
        if job.error is None and not job.options.get("output"):
            job.options["output"] = [_absolute(out_dir, f"{job.id}.{fmt}") for fmt in formats]
        for target in job.outputs:
            key = os.path.normcase(os.path.abspath(target))
            if key in owners:
                raise InvalidInputError(f"jobs {owners[key]!r} and {job.id!r} both write {target}; "
                                        "give them different outputs")
            owners[key] = job.id
        if job.error is None:
            try:
                _check(job.options)
                job.spec = _spec(job.options)
            except ClipvgError as error:
                job.error = f"{job.where}: {error}"
    return jobs
