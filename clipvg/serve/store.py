"""The server's work directory: one folder per document, holding ``document.json`` (its versions'
metadata), the uploaded photo while it is vectorized, per version the SVG clipvg wrote and downloads
made on first request, and per job a folder ``jobs/<job id>/`` (``job.json``: what to run; the edit's
checkpoint and owner lock, kept to resume or continue it). Documents and jobs are named by random
ids; every path is built from a checked id and version number, so no request names a file outside
the work directory."""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import threading
import time
from pathlib import Path
from typing import Callable

from ..atomic import write_bytes_atomic

DOCUMENT_ID = JOB_ID = re.compile(r"[0-9a-f]{32}")
FORMATS = {"svg": "image/svg+xml", "png": "image/png", "pdf": "application/pdf", "zip": "application/zip"}
MAX_VERSIONS = 10_000


class NotFound(LookupError):
    """No such document, version or file."""


class DocumentStore:
    """Documents under ``root``/documents; safe for use from several threads."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()
        self.documents = self.root / "documents"
        self.documents.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._export_locks: dict[tuple[str, int, str], threading.Lock] = {}

    # -- paths -------------------------------------------------------------------------------------
    def folder(self, doc_id: str) -> Path:
        """The folder of document ``doc_id``; NotFound for a malformed id or a missing document."""
        if not isinstance(doc_id, str) or not DOCUMENT_ID.fullmatch(doc_id):
            raise NotFound(f"no document {doc_id!r}")
        folder = self.documents / doc_id
        if not (folder / "document.json").is_file() or folder.resolve().parent != self.documents:
            raise NotFound(f"no document {doc_id!r}")
        return folder

    def version_file(self, doc_id: str, version: int, suffix: str = ".svg") -> Path:
        self._version(doc_id, version)
        return self.folder(doc_id) / f"v{version:04d}{suffix}"

    def checkpoint_dir(self, doc_id: str, version: int) -> Path:
        """The checkpoint folder of the edit that made ``version``: its job's folder (older work
        directories: ``vNNNN.checkpoint``)."""
        job = self._version(doc_id, version).get("job")
        return self.job_dir(doc_id, job) if job else self.folder(doc_id) / f"v{version:04d}.checkpoint"

    def job_dir(self, doc_id: str, job_id: str) -> Path:
        """The folder of one job of the document (made on demand)."""
        if not isinstance(job_id, str) or not JOB_ID.fullmatch(job_id):
            raise NotFound(f"no job {job_id!r}")
        return self.folder(doc_id) / "jobs" / job_id

    def upload_file(self, doc_id: str) -> Path:
        """Where a photo waits, undecoded, for its vectorizing job."""
        return self.folder(doc_id) / "upload.bin"

    # -- jobs --------------------------------------------------------------------------------------
    def write_job(self, doc_id: str, record: dict) -> None:
        """Record a job (``record["id"]``) before it is queued, so a restart finds it."""
        folder = self.job_dir(doc_id, record["id"])
        folder.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(folder / "job.json", json.dumps(record, indent=1).encode("utf-8"))

    def read_job(self, doc_id: str, job_id: str) -> dict | None:
        """A job's record, None when there is none (or it is unreadable)."""
        try:
            return json.loads((self.job_dir(doc_id, job_id) / "job.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def exists(self, doc_id: str) -> bool:
        try:
            self.folder(doc_id)
        except NotFound:
            return False
        return True

    def ids(self) -> list[str]:
        """The ids of all documents in the work directory."""
        return sorted(p.name for p in self.documents.iterdir()
                      if DOCUMENT_ID.fullmatch(p.name) and (p / "document.json").is_file())

    # -- documents ---------------------------------------------------------------------------------
    def create(self, name: str, kind: str, **extra) -> dict:
        """A new, empty document (its first version comes from ``add_version``)."""
        doc_id = secrets.token_hex(16)
        folder = self.documents / doc_id
        folder.mkdir()
        now = time.time()
        document = {"id": doc_id, "name": name, "kind": kind, "created": now, "updated": now, "width": None,
                    "height": None, "versions": [], "job": None, **extra}
        self._write(document)
        return document

    def get(self, doc_id: str) -> dict:
        with self._lock:
            return json.loads((self.folder(doc_id) / "document.json").read_text(encoding="utf-8"))

    def update(self, doc_id: str, **fields) -> dict:
        with self._lock:
            document = self.get(doc_id)
            document.update(fields)
            self._write(document)
            return document

    def delete(self, doc_id: str) -> None:
        with self._lock:
            shutil.rmtree(self.folder(doc_id))

    def _write(self, document: dict) -> None:
        document["updated"] = time.time()
        write_bytes_atomic(self.documents / document["id"] / "document.json",
                           json.dumps(document, indent=1).encode("utf-8"))

    def _version(self, doc_id: str, version: int) -> dict:
        versions = self.get(doc_id)["versions"]
        if not isinstance(version, int) or not 0 <= version < len(versions):
            raise NotFound(f"document {doc_id} has no version {version}")
        return versions[version]

    def version(self, doc_id: str, version: int) -> dict:
        """The metadata of one version."""
        return self._version(doc_id, version)

    # -- versions ----------------------------------------------------------------------------------
    def add_version(self, doc_id: str, shape: dict, svg_file: Path, **meta) -> dict:
        """Make ``svg_file`` (clipvg's SVG of a scene, moved in) the document's next version; ``shape``
        is the scene's {paths, layers, width, height} (``serve.tasks.shape``). Returns the version's metadata."""
        with self._lock:
            document = self.get(doc_id)
            index = len(document["versions"])
            if index >= MAX_VERSIONS:
                raise ValueError(f"document {doc_id} has {MAX_VERSIONS} versions; start a new document")
            os.replace(svg_file, self.folder(doc_id) / f"v{index:04d}.svg")
            entry = {"index": index, "created": time.time(), "paths": shape["paths"], "layers": shape["layers"],
                     **meta}
            document["versions"].append(entry)
            if document["width"] is None:
                document["width"], document["height"] = shape["width"], shape["height"]
            self._write(document)
            return entry

    def set_version_fields(self, doc_id: str, version: int, **fields) -> None:
        with self._lock:
            document = self.get(doc_id)
            document["versions"][version].update(fields)
            self._write(document)

    def svg_text(self, doc_id: str, version: int) -> str:
        return self.version_file(doc_id, version).read_text(encoding="utf-8")

    def export(self, doc_id: str, version: int, fmt: str, build: Callable[[dict], None]) -> Path:
        """The file of ``version`` in ``fmt`` (svg, png, pdf, or zip of per-layer PNGs and SVGs), made
        from the version's SVG on first request by ``build({"svg", "fmt", "target"})`` (the
        ``export`` task of a worker) and kept."""
        if fmt not in FORMATS:
            raise NotFound(f"no format {fmt!r}; choose one of {', '.join(FORMATS)}")
        svg = self.version_file(doc_id, version)
        if fmt == "svg":
            return svg
        target = self.version_file(doc_id, version, "_layers.zip" if fmt == "zip" else f".{fmt}")
        with self._lock:
            lock = self._export_locks.setdefault((doc_id, version, fmt), threading.Lock())
        with lock:
            if not target.is_file():
                build({"svg": str(svg), "fmt": fmt, "target": str(target)})
        return target

