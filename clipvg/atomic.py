"""Atomic output files: write to a temporary file beside the target, then rename over it."""
from __future__ import annotations

import contextlib
import os
import shutil
import stat
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


TEMPORARY_SUFFIX = ".tmp"  # atomic_path's temporaries: ".<target name>.<random>.tmp" beside the target


def remove_temporaries(folder: str | os.PathLike) -> None:
    """Remove atomic_path's temporaries left in ``folder`` by a writer killed mid-write (SIGKILL skips its
    clean-up). Only for a folder no live process writes to, e.g. a job folder this process owns."""
    for leftover in Path(folder).glob(f".*{TEMPORARY_SUFFIX}"):
        with contextlib.suppress(OSError):
            leftover.unlink()


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike, inputs: tuple[str | os.PathLike, ...] = ()) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it replaces ``target`` atomically.

    On any exception (including a full disk) the temporary file is removed and ``target`` is left as
    it was. Raises InvalidInputError if ``target`` is one of ``inputs`` (inputs are never overwritten).
    """
    target = Path(target)
    ensure_not_input(target, inputs)
    target.parent.mkdir(parents=True, exist_ok=True)
    mode = _mode_for(target)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=TEMPORARY_SUFFIX, dir=target.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as written:  # on disk before the rename, so a crash cannot leave it empty
            os.fsync(written.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _mode_for(target: Path) -> int:
    """The permission bits ``open(target, "w")`` would leave: the existing file's, else 0o666 less the umask
    (mkstemp's own 0o600 would hide outputs from the user's group and web server)."""
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        return 0o666 & ~current_umask()


def current_umask() -> int:
    """The process umask, read without changing it where the system allows (Linux /proc)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o22)
    os.umask(mask)
    return mask


def check_writable(targets: tuple[str | os.PathLike, ...], needed_bytes: float = 0) -> None:
    """Raise InvalidInputError unless each target's folder exists or can be created, is a folder, can
    be written, and has ``needed_bytes`` free (an estimate of the outputs). Run before long work,
    so that it is not lost to an unwritable output."""
    for target in map(Path, targets):
        folder = target.parent
        if target.is_dir():
            raise InvalidInputError(f"cannot write {target}: it is a folder; give a file name")
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, probe = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".probe", dir=folder)
            os.close(fd)
            os.unlink(probe)
        except OSError as error:
            raise InvalidInputError(f"cannot write {target}: {error.strerror or error} in {folder}; choose a "
                                    "writable output folder (-o)") from None
        free = shutil.disk_usage(folder).free
        if free < needed_bytes:
            raise InvalidInputError(f"cannot write {target}: {free / 1e6:.1f} MB free in {folder}, the outputs need "
                                    f"about {needed_bytes / 1e6:.1f} MB; free some space or choose another folder")


def write_bytes_atomic(target: str | os.PathLike, data: bytes,
                       inputs: tuple[str | os.PathLike, ...] = ()) -> None:
    """Write ``data`` to ``target`` atomically (see ``atomic_path``)."""
    with atomic_path(target, inputs) as tmp:
        tmp.write_bytes(data)
