"""The Ray executor: jobs run on a Ray cluster (or a Ray instance started on this machine), on a pool
of actors that each reserve one GPU (or a fraction, or CPUs only) and load CLIP once.

Inputs and outputs either sit on a filesystem every node sees at the same paths ("shared"), or
travel as bytes with the job and its result ("bytes"; the driver writes the outputs, atomically).
"""
from __future__ import annotations

import math
import socket
import threading
from collections import deque
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

from ..atomic import write_bytes_atomic
from ..edit.interrupt import deferred_interrupt
from ..errors import BackendUnavailableError, ClipvgError, InvalidInputError
from .jobs import Job
from .progress import Tracker

POLL_S = 0.25
FILE_MODES = ("auto", "shared", "bytes")
CONNECT_TIMEOUT_S = 30.0
TOKEN_HELP = ("this Ray cluster asks for an authentication token: set RAY_AUTH_MODE=token and RAY_AUTH_TOKEN (or "
              "RAY_AUTH_TOKEN_PATH, or put it in ~/.ray/auth_token) in the environment, as for the ray command, "
              "then run again")


class RayConnectError(ClipvgError):
    """The Ray cluster cannot be reached, or refuses this client."""


def _host_port(address: str) -> tuple[str, int] | None:
    """(host, port) of a Ray address ("ray://host:10001", "host:6379"); None for "auto"/"local"."""
    if address in ("auto", "local"):
        return None
    parts = urlsplit(address if "://" in address else f"gcs://{address}")
    try:
        port = parts.port
    except ValueError:
        port = None
    if not parts.hostname or port is None:
        raise InvalidInputError(f"cannot read the Ray address {address!r}; write host:port (the head's GCS port, "
                                "e.g. 10.0.0.5:6379), ray://host:10001 or auto")
    return parts.hostname, port


def probe(address: str, timeout: float) -> None:
    """Fail fast when nothing listens at ``address`` (RayConnectError within ``timeout`` seconds)."""
    target = _host_port(address)
    if target is None:
        return
    try:
        socket.create_connection(target, timeout=timeout).close()
    except OSError as error:
        raise RayConnectError(f"nothing answers at the Ray address {address} ({error}); start the cluster (ray start "
                              "--head on the head node), check the address and port, or leave out --ray-address "
                              "to start Ray on this machine") from None


def connect(ray, address: str | None, timeout: float = CONNECT_TIMEOUT_S) -> None:
    """``ray.init`` for ``address`` (None: a Ray instance started on this machine), failing within
    ``timeout`` seconds with RayConnectError when the cluster cannot be reached, and with a clear
    message when it wants an authentication token this client lacks."""
    if address is not None:
        probe(address, timeout)
    outcome: dict = {}

    def init() -> None:
        try:
            ray.init(address=address, include_dashboard=False, configure_logging=False)
        except BaseException as error:  # handed to the caller's thread
            outcome["error"] = error

    thread = threading.Thread(target=init, name="clipvg-ray-connect", daemon=True)
    thread.start()
    thread.join(timeout)
    where = address or "this machine"
    if thread.is_alive():
        raise RayConnectError(f"Ray at {where} did not answer within {timeout:g} s; check that the cluster is up "
                              "(ray status on the head node) or raise --ray-timeout")
    error = outcome.get("error")
    if error is None:
        return
    text = str(error)
    if type(error).__name__ == "AuthenticationError" or "auth" in text.lower() and "token" in text.lower():
        raise RayConnectError(f"Ray at {where}: {TOKEN_HELP}") from None
    if isinstance(error, (ConnectionError, TimeoutError, RuntimeError)):
        raise RayConnectError(f"cannot connect to Ray at {where}: {text.splitlines()[0] if text else type(error).__name__}"
                              ) from None
    raise error


def import_ray():
    try:
        import ray
    except ImportError:
        raise BackendUnavailableError("the Ray executor needs Ray: pip install -e '.[ray]' "
                                      "(or pip install 'clipvg[ray]')") from None
    return ray


class EditActor:
    """A Ray actor (one per GPU share): loads CLIP at start, then runs one job per ``run`` call."""

    def __init__(self, preload: dict | None, threads: int | None) -> None:
        from . import worker

        if threads:
            import torch

            torch.set_num_threads(threads)
        self.preload_error = worker.preload_clip(preload)

    def run(self, payload: dict) -> dict:
        from . import worker

        return worker.execute_with_bytes(payload) if "files" in payload else worker.execute(payload)


class RayExecutor:
    """Runs jobs as Ray actor tasks.

    ``address``: a Ray cluster ("auto", "ray://host:10001", ...); None starts Ray on this machine
    (unless Ray is already initialised in this process, which is then used as it is).
    ``workers``: actors (default: as many as the cluster's GPUs, or CPUs, allow).
    ``gpus_per_job``: the GPU share each actor reserves (default 1 when the cluster has GPUs, else 0);
    0.5 puts two actors on each GPU. ``cpus_per_job``: CPUs per actor (default 1); ``threads`` torch
    threads per actor (default: ``cpus_per_job``).
    ``files``: "shared", "bytes", or "auto" (shared when the cluster is this one machine, else bytes).
    ``timeout``: seconds to reach the cluster before giving up with RayConnectError.
    """

    def __init__(self, address: str | None = None, workers: int | None = None, gpus_per_job: float | None = None,
                 cpus_per_job: float = 1.0, files: str = "auto", preload: dict | None = None,
                 threads: int | None = None, timeout: float = CONNECT_TIMEOUT_S) -> None:
        if files not in FILE_MODES:
            raise InvalidInputError(f"unknown file mode {files!r}; choose from {', '.join(FILE_MODES)}")
        if workers is not None and workers < 1:
            raise InvalidInputError(f"--workers must be at least 1, got {workers}")
        if gpus_per_job is not None and gpus_per_job < 0 or cpus_per_job < 0:
            raise InvalidInputError("--gpus-per-job and --cpus-per-job must not be negative")
        self.address, self.workers, self.gpus_per_job = address, workers, gpus_per_job
        self.cpus_per_job, self.files, self.preload = cpus_per_job, files, preload
        self.threads = threads or max(1, int(cpus_per_job))
        if timeout <= 0:
            raise InvalidInputError(f"--ray-timeout must be positive, got {timeout:g}")
        self.timeout = timeout
        self.summary = ""

    @property
    def ray(self):
        return import_ray()

    def _plan(self, jobs: int) -> tuple[int, float, str]:
        """(actors, GPUs per actor, file mode) for this cluster."""
        ray = self.ray
        resources = ray.cluster_resources()
        gpus, cpus = resources.get("GPU", 0.0), resources.get("CPU", 0.0)
        per_gpu = self.gpus_per_job if self.gpus_per_job is not None else (1.0 if gpus else 0.0)
        if per_gpu > gpus:
            raise InvalidInputError(f"each job asks for {per_gpu:g} GPU but the Ray cluster has {gpus:g}; "
                                    "pass --gpus-per-job 0 to run on CPUs")
        if per_gpu:
            fit = math.floor(gpus / per_gpu + 1e-9)
        else:
            fit = math.floor(cpus / self.cpus_per_job + 1e-9) if self.cpus_per_job else int(cpus) or 1
        actors = max(1, min(self.workers or fit, jobs))
        mode = self.files
        if mode == "auto":
            here = ray.util.get_node_ip_address()
            nodes = [n for n in ray.nodes() if n.get("Alive")]
            mode = "shared" if all(n.get("NodeManagerAddress") == here for n in nodes) else "bytes"
        self.summary = (f"{actors} Ray actor(s), {per_gpu:g} GPU and {self.cpus_per_job:g} CPU each, "
                        f"files {mode}")
        return actors, per_gpu, mode

    def describe(self) -> str:
        return self.summary or f"Ray ({self.address or 'this machine'})"

    def _payload(self, job: Job, mode: str, checkpoint: Path) -> dict:
        if mode == "shared":
            return job.payload(checkpoint)
        files = {key: Path(job.options[key]).read_bytes() for key in ("input", "mask") if job.options.get(key)}
        return {**job.payload(None), "files": files}

    def run(self, jobs: list[Job], tracker: Tracker, checkpoint_for: Callable[[Job], Path]) -> None:
        """Run ``jobs``, reporting to ``tracker``. Ctrl-C: no new job starts and the running ones
        finish (then KeyboardInterrupt is raised); a second Ctrl-C abandons them (they are left
        pending and start over next time)."""
        if not jobs:
            return
        ray = self.ray
        started_here = not ray.is_initialized()
        if started_here:
            connect(ray, self.address, self.timeout)
        try:
            self._run(jobs, tracker, checkpoint_for)
        finally:
            if started_here:
                ray.shutdown()

    def _run(self, jobs: list[Job], tracker: Tracker, checkpoint_for: Callable[[Job], Path]) -> None:
        ray = self.ray
        count, per_gpu, mode = self._plan(len(jobs))
        remote = ray.remote(EditActor).options(num_gpus=per_gpu, num_cpus=self.cpus_per_job, max_restarts=0)
        actors = [remote.remote(self.preload, self.threads) for _ in range(count)]
        idle = deque(range(count))
        pending = deque(jobs)
        inflight: dict = {}
        stopping = False
        with deferred_interrupt() as interrupted:
            try:
                while pending or inflight:
                    if interrupted() and not stopping:
                        stopping = True
                        tracker.stopping("the running jobs finish")
                    while idle and pending and not stopping:
                        job = pending.popleft()
                        try:
                            payload = self._payload(job, mode, checkpoint_for(job))
                        except OSError as error:
                            tracker.finished(job.id, {"state": "failed", "error": f"cannot read the input: {error}"})
                            continue
                        index = idle.popleft()
                        inflight[actors[index].run.remote(payload)] = (index, job)
                        tracker.started(job.id, f"ray-{index}")
                    if not inflight:
                        break
                    ready, _ = ray.wait(list(inflight), num_returns=1, timeout=POLL_S)
                    for ref in ready:
                        index, job = inflight.pop(ref)
                        try:
                            result = ray.get(ref)
                        except ray.exceptions.RayActorError as error:
                            result = {"state": "failed", "error": f"the Ray worker died: {error}"}
                            actors[index] = remote.remote(self.preload, self.threads)
                        except ray.exceptions.RayError as error:
                            result = {"state": "failed", "error": f"Ray: {error}"}
                        self._write_back(result)
                        tracker.finished(job.id, result)
                        idle.append(index)
                    tracker.tick()
            except KeyboardInterrupt:  # the second Ctrl-C: abandon the running jobs
                for _, job in inflight.values():
                    tracker.finished(job.id, {"state": "interrupted"})
                raise
            finally:
                for actor in actors:
                    ray.kill(actor)
        if stopping:
            raise KeyboardInterrupt

    @staticmethod
    def _write_back(result: dict) -> None:
        """Bytes mode: write the files a job made, atomically, where the driver wants them."""
        files = result.pop("files", None) or {}
        try:
            for path, data in files.items():
                write_bytes_atomic(path, data)
        except OSError as error:
            result.update(state="failed", error=f"cannot write the outputs: {error}")
