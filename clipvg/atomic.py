"""Atomic output files: write to a temporary file beside the target, then rename over it."""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator

from .errors import InvalidInputError


def ensure_not_input(target: str | os.PathLike, inputs: tuple[str | os.PathLike, ...]) -> None:
    """Raise InvalidInputError if ``target`` is one of ``inputs`` (same path, or the same file
    through a link): inputs are never overwritten."""
    target = Path(target)
    for source in map(Path, inputs):
        same_file = source.exists() and target.exists() and os.path.samefile(source, target)
        if same_file or source.resolve() == target.resolve():
            raise InvalidInputError(f"output {target} is also an input; choose another output path")


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike, inputs: tuple[str | os.PathLike, ...] = ()) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it replaces ``target`` atomically.

    On any exception (including a full disk) the temporary file is removed and ``target`` is left as
    it was. Raises InvalidInputError if ``target`` is one of ``inputs`` (inputs are never overwritten).
    """
    target = Path(target)
    ensure_not_input(target, inputs)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_bytes_atomic(target: str | os.PathLike, data: bytes,
                       inputs: tuple[str | os.PathLike, ...] = ()) -> None:
    """Write ``data`` to ``target`` atomically (see ``atomic_path``)."""
    with atomic_path(target, inputs) as tmp:
        tmp.write_bytes(data)
