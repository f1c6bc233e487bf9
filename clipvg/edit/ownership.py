"""Job ownership: at most one process runs (and writes the outputs of) a job at a time.

The owner holds an exclusive lock on ``<checkpoint dir>/owner.lock`` for as long as it runs and
writes its token (pid, host, process start time, a random id) to ``owner.json`` beside it; the
token also goes into every checkpoint. The kernel drops the lock when the owner dies, so a dead
owner's job is taken over at once; a live owner's job is refused with ``JobOwnedError``. Before each
write the owner checks that the lock file is still the one it locked and the token is still its own,
so a process that lost its job (its folder was cleaned and the job restarted) stops without writing.
Where ``fcntl`` is missing (Windows) a stale owner is recognised by its pid being gone.
"""
from __future__ import annotations

import contextlib
import json
import os
import socket
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator

from ..atomic import remove_temporaries, write_bytes_atomic
from ..errors import ClipvgError
from ..startup import process_alive

LOCK = "owner.lock"
TOKEN = "owner.json"


class JobOwnedError(ClipvgError):
    """Another live process runs this job; this one must not write its outputs."""


@dataclass(frozen=True)
class Owner:
    """Who runs a job: ``pid`` on ``host``, that process's ``started`` time (seconds since the epoch;
    tells a reused pid apart) and a random ``token``."""

    pid: int
    host: str
    started: float
    token: str

    @classmethod
    def me(cls) -> "Owner":
        return cls(os.getpid(), socket.gethostname(), process_start_time(os.getpid()), uuid.uuid4().hex)

    def describe(self) -> str:
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.started))
        return f"process {self.pid} on {self.host} (running since {since})"

    def alive(self) -> bool:
        """Whether this owner still runs (on another host: assumed so)."""
        if self.host != socket.gethostname():
            return True
        return process_alive(self.pid) and abs(process_start_time(self.pid) - self.started) < 2.0


def process_start_time(pid: int) -> float:
    """When process ``pid`` started, in seconds since the epoch (Linux: from /proc; elsewhere the
    current time for this process, which tells reused pids apart only within one host boot)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = int(fields[19])  # field 22 of stat: start time in clock ticks after boot
        boot = next(float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                    if line.startswith("btime "))
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError, StopIteration):
        return _STARTED if pid == os.getpid() else 0.0


_STARTED = time.time()


def read_owner(directory: str | os.PathLike) -> Owner | None:
    """The owner recorded in ``directory`` (None when there is none or it is unreadable)."""
    try:
        return Owner(**json.loads((Path(directory) / TOKEN).read_text()))
    except (OSError, ValueError, TypeError):
        return None


class JobLock:
    """The ownership of one job's directory, held by this process (see the module docstring)."""

    def __init__(self, directory: Path, handle, owner: Owner, previous: Owner | None) -> None:
        self.directory, self._handle, self.owner = directory, handle, owner
        self.taken_over_from = previous  # a dead owner this process replaced

    def held(self) -> bool:
        """Whether this process still owns the job (the lock file is the one it locked, the token its own)."""
        try:
            same_file = os.stat(self.directory / LOCK).st_ino == os.fstat(self._handle.fileno()).st_ino
        except OSError:
            return False
        return same_file and read_owner(self.directory) == self.owner

    def check(self) -> None:
        """Raise JobOwnedError unless this process still owns the job (call before every write)."""
        if not self.held():
            other = read_owner(self.directory)
            who = other.describe() if other else "another process"
            raise JobOwnedError(f"the job in {self.directory} was taken over by {who}; this process stops "
                                "without writing")

    def release(self) -> None:
        """Give the job up: the token and lock files go, and temporaries of a killed owner's unfinished
        write (only a killed owner leaves them behind)."""
        if self.held():
            for name in (TOKEN, LOCK):
                with contextlib.suppress(OSError):
                    (self.directory / name).unlink()
            remove_temporaries(self.directory)
        _unlock(self._handle)
        self._handle.close()
        with contextlib.suppress(OSError):  # only when empty: no checkpoint left in it
            self.directory.rmdir()


@contextlib.contextmanager
def own_job(directory: str | os.PathLike) -> Iterator[JobLock]:
    """Own the job whose checkpoints live in ``directory`` while inside; raises JobOwnedError when
    a live process owns it. A token left by a dead owner is taken over (``taken_over_from``)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    previous = read_owner(directory)
    handle = _lock_file(directory / LOCK)
    if handle is None or (_NO_FCNTL and previous is not None and previous.alive()):
        who = previous.describe() if previous else "another process"
        raise JobOwnedError(f"this job ({directory}) is being run by {who}; wait for it to finish or stop it "
                            "first (a job left by a dead process is taken over automatically)")
    me = Owner.me()
    write_bytes_atomic(directory / TOKEN, json.dumps(asdict(me)).encode())
    lock = JobLock(directory, handle, me, previous)
    try:
        yield lock
    finally:
        lock.release()


def _lock_file(path: Path, tries: int = 5):
    """An open handle on ``path`` holding its exclusive lock, or None when another process holds it.
    Retries when the file was replaced between opening and locking (its owner just released it)."""
    for _ in range(tries):
        handle = open(path, "a+")
        if not _try_lock(handle):
            handle.close()
            return None
        try:
            if os.stat(path).st_ino == os.fstat(handle.fileno()).st_ino:
                return handle
        except FileNotFoundError:
            pass
        _unlock(handle)
        handle.close()
    return None


try:
    import fcntl

    _NO_FCNTL = False

    def _try_lock(handle) -> bool:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        return True

    def _unlock(handle) -> None:
        with contextlib.suppress(OSError, ValueError):
            fcntl.flock(handle, fcntl.LOCK_UN)
except ImportError:  # Windows: the pid check alone
    _NO_FCNTL = True

    def _try_lock(handle) -> bool:
        return True

    def _unlock(handle) -> None:
        return None
