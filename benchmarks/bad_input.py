"""Bad-input fuzz campaign: generated broken and oversized files, arguments, batch job files and web
requests (tests/clipvg/bad_corpus.py ``campaign_cases``) through every front end, each outcome
classified as refused (the project's own error: exit 2, a 4xx, a failed job with its reason),
accepted, traceback (any other exception, exit status or 5xx), hang (over ``--timeout`` s) or memory
(resident set over ``--memory-mb``).

Most runs happen in one long-lived child process that has clipvg imported (killed and forked again
after a hang or memory kill): the Python API (load_svg + render, vectorize, text_to_scene), the CLI's
``main`` in-process and batch (``load_jobs`` and each job's spec as a worker reads it). The web
editor's cases (uploads and API requests through starlette's TestClient on ``create_app``; the work
runs in serve's own worker processes) run in the parent after the last fork (no peak RSS, no kill). A stratified
sample (the first ``--sample`` cases of each generator) also runs as real ``python -m clipvg.cli``
processes (the CLI, ``clipvg edit`` of each sampled SVG/PNG file, and ``clipvg batch`` with worker
processes; edits take one step with the test suite's small CLIP). Prints JSON: runs and outcomes per front
end and per generator, every traceback in full, hangs, memory kills, the peak RSS of each run (VmHWM, reset
per run; it includes the ~0.5 GB of imported libraries) and the slowest refusals, in-process and counted
from a real process's start.

    python benchmarks/bad_input.py [--cases 4000] [--seed 21] [--timeout 20] [--sample 3] [--phases child,serve,process]
                                   [--json out.json] [--failed-inputs DIR]
    python benchmarks/bad_input.py --merge a.json b.json --json all.json   (runs split over processes or seeds)
"""
from __future__ import annotations

import argparse
import collections
import contextlib
import io
import json
import logging
import os
import platform
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(ROOT / "tests" / "clipvg"))

from bad_corpus import COMMANDS, Case, campaign_cases, valid_svg  # noqa: E402

FRONT_ENDS = {"svg": ("api", "cli", "serve"), "png": ("api", "cli", "serve"), "ttf": ("api", "cli"), "arg": ("cli",),
              "job": ("batch",), "request": ("serve",)}
PROCESS_FRONT_ENDS = {"svg": "cli process", "png": "cli process", "ttf": "cli process", "arg": "cli process",
                      "job": "batch process"}
EDIT_PROCESS = "edit process"  # a sampled SVG/PNG file's case also through ``clipvg edit`` (the test suite's small CLIP)


def generator_of(case: Case) -> str:
    """The case's generator: its name with numbers replaced by N (``svg nested 1200`` -> ``svg nested N``)."""
    return re.sub(r"-?\d[\d.e]*", "N", case.name.split(" --")[0] if case.kind == "arg" else case.name)


# -- the child: runs cases in-process ----------------------------------------------------------

class Refused(Exception):
    """A run ended in the project's own error (its message is the detail)."""


class _Tracebacks(logging.Handler):
    """Keeps the formatted traceback of every log record that carries one (serve logs a 500's)."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.texts.append("".join(traceback.format_exception(*record.exc_info)))


class Runner:
    """The front ends, in-process; ``run(case, front_end)`` -> (outcome, detail)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.client = None
        self.doc = None
        self.logged = _Tracebacks()
        logging.getLogger("clipvg").addHandler(self.logged)

    def run(self, case: Case, front_end: str) -> tuple[str, str]:
        """(outcome, detail) of ``case`` through ``front_end``; ``self.seconds`` its time (the input's
        writing included, the clean-up not)."""
        from clipvg.errors import ClipvgError

        folder = Path(tempfile.mkdtemp(dir=self.folder))
        self.logged.texts.clear()
        start = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                detail = getattr(self, front_end.replace(" ", "_"))(case, folder)
            if self.logged.texts:
                return "traceback", self.logged.texts[0]
            return "accepted", detail or ""
        except Refused as refused:
            return "refused", str(refused)
        except ClipvgError as error:
            return "refused", f"{type(error).__name__}: {error}"
        except BaseException:  # noqa: BLE001 - what the campaign counts
            return "traceback", traceback.format_exc()
        finally:
            self.seconds = time.perf_counter() - start
            shutil.rmtree(folder, ignore_errors=True)

    def api(self, case: Case, folder: Path) -> str:
        import clipvg
        from clipvg.fonts import text_to_scene
        from vectorize import vectorize

        path = folder / f"input.{case.kind}"
        path.write_bytes(case.data)
        if case.kind == "svg":
            scene = clipvg.load_svg(path)
            clipvg.render(scene, 48)
            return f"{scene.num_paths} paths"
        if case.kind == "png":
            return f"{vectorize(path, rounds=(4,), max_size=16).num_paths} paths"
        return f"{text_to_scene('AB', path, 32).num_paths} paths"

    def cli(self, case: Case, folder: Path) -> str:
        from clipvg.cli import main

        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                code = main(case.argv(folder))
            except SystemExit as stop:  # argparse's own exit 2 (usage and error line already printed)
                code = stop.code if isinstance(stop.code, int) else 1
        return _exit_outcome(code, err.getvalue())

    def batch(self, case: Case, folder: Path) -> str:
        from clipvg.batch.jobs import load_jobs
        from clipvg.edit import JobSpec

        jobs_file = _job_file(case, folder)
        jobs = load_jobs(jobs_file, folder / "out")  # a bad batch as a whole: InvalidInputError
        accepted = 0
        for job in jobs:
            if job.error is None:  # what a worker reads: the payload's spec, from JSON
                JobSpec.from_json(json.dumps(job.payload(folder / "checkpoint")["spec"])).validate()
                accepted += 1
        if not accepted:
            raise Refused("; ".join(job.error for job in jobs) or "no jobs")
        return f"{accepted} of {len(jobs)} jobs accepted"

    def serve(self, case: Case, folder: Path) -> str:
        client = self._client()
        if case.kind == "request":
            request = json.loads(case.data)
            path = request["path"].replace("{doc}", self.doc)
            kwargs = {"params": request.get("query")}
            if "json" in request:
                kwargs["content"] = json.dumps(request["json"], allow_nan=True).encode()
            elif "body" in request or "raw" in request:
                kwargs["content"] = (request.get("body") or request.get("raw")).encode("utf-8", "surrogatepass")
            response = client.request(request["method"], path, **kwargs)
        else:
            response = client.post("/api/documents", params={"name": f"input.{case.kind}"}, content=case.data)
        return self._answer(response)

    def _answer(self, response) -> str:
        if response.status_code >= 500:
            raise AssertionError(f"HTTP {response.status_code}: {response.text[:500]}")
        body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
        if response.status_code >= 400:
            error = body.get("error", "")
            if not error or "\n" in error:
                raise AssertionError(f"HTTP {response.status_code} without a one-line reason: {response.text[:300]}")
            raise Refused(f"HTTP {response.status_code}: {error}")
        job = body.get("job") if isinstance(body, dict) else None
        if isinstance(job, dict) and job.get("id"):
            state = self._settle(job["id"])
            if state.get("status") == "failed":
                message = str(state.get("message"))
                if "internal error" in message or "Traceback" in message:
                    raise AssertionError(f"job failed: {message}")
                raise Refused(f"job failed: {message}")
        return f"HTTP {response.status_code}"

    def _settle(self, job_id: str) -> dict:
        """Wait for a vectorize job (photo upload) to end; stop an edit job at once."""
        deadline = time.monotonic() + 15
        while True:
            state = self.client.get(f"/api/jobs/{job_id}").json()
            if state.get("kind") == "edit":
                self.client.post(f"/api/jobs/{job_id}/stop")
                return state
            if state.get("status") in ("finished", "stopped", "cancelled", "failed") or time.monotonic() > deadline:
                return state
            time.sleep(0.02)

    def close(self) -> None:
        if self.client is not None:
            self._context.__exit__(None, None, None)

    def _client(self):
        if self.client is None:
            from serve_helpers import make_app
            from starlette.testclient import TestClient

            work = Path(tempfile.mkdtemp(dir=self.folder))
            self._context = TestClient(make_app(work), base_url="http://127.0.0.1")
            self.client = self._context.__enter__()
            answer = self.client.post("/api/documents", params={"name": "doc.svg"}, content=valid_svg(
                __import__("random").Random(0)).encode())
            self.doc = answer.json()["document"]["id"]
        return self.client


def _exit_outcome(code: int, err: str) -> str:
    lines = err.strip().splitlines()
    if code not in (0, 2) or "Traceback" in err:
        raise AssertionError(f"exit {code}\n{err[-4000:]}")
    if code == 2:
        raise Refused(lines[-1] if lines else "exit 2")
    return "exit 0"


def _job_file(case: Case, folder: Path) -> Path:
    svg = folder / "valid.svg"
    svg.write_text(valid_svg(__import__("random").Random(1)))
    jobs = folder / "jobs.jsonl"
    jobs.write_bytes(case.data.replace(b"{svg}", str(svg).encode()))
    return jobs


def _peak_rss_mb() -> int:
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) // 1024


def child_loop(cases: list[Case], read_fd: int, write_fd: int, folder: Path) -> None:
    """Run the (index, front end) tasks read from ``read_fd``; write one JSON result line each."""
    runner = Runner(folder)
    with os.fdopen(read_fd) as tasks, os.fdopen(write_fd, "w") as results:
        for line in tasks:
            index, front_end = json.loads(line)
            Path("/proc/self/clear_refs").write_text("5")  # restart the peak RSS count
            outcome, detail = runner.run(cases[index], front_end)
            results.write(json.dumps({"outcome": outcome, "detail": detail, "seconds": runner.seconds,
                                      "peak_rss_mb": _peak_rss_mb()}) + "\n")
            results.flush()


class Child:
    """The forked child, restarted after a kill."""

    def __init__(self, cases: list[Case], folder: Path) -> None:
        self.cases, self.folder, self.pid = cases, folder, None

    def start(self) -> None:
        to_child, from_parent = os.pipe()
        to_parent, from_child = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(from_parent)
            os.close(to_parent)
            try:
                child_loop(self.cases, to_child, from_child, self.folder)
            finally:
                os._exit(0)
        os.close(to_child)
        os.close(from_child)
        self.pid, self.tasks, self.results = pid, os.fdopen(from_parent, "w"), os.fdopen(to_parent)

    def run(self, index: int, front_end: str, timeout: float, memory_mb: int) -> dict:
        if self.pid is None:
            self.start()
        start = time.perf_counter()
        self.tasks.write(json.dumps([index, front_end]) + "\n")
        self.tasks.flush()
        killed = None
        while killed is None:
            ready, _, _ = select.select([self.results], [], [], 0.02)
            if ready:
                line = self.results.readline()
                if line:
                    return json.loads(line)
                killed = "traceback"  # the child died (a crash of the interpreter)
            elif time.perf_counter() - start > timeout:
                killed = "hang"
            elif _rss_mb(self.pid) > memory_mb:
                killed = "memory"
        self.kill()
        return {"outcome": killed, "detail": f"killed after {time.perf_counter() - start:.1f} s ({killed})",
                "seconds": time.perf_counter() - start, "peak_rss_mb": None}

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        self.tasks.close()
        self.results.close()
        self.pid = None


def _rss_mb(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return 0
    match = re.search(r"VmRSS:\s+(\d+)", status)
    return int(match.group(1)) // 1024 if match else 0


# -- real processes ------------------------------------------------------------------------------

def run_process(case: Case, timeout: float, clip: dict[str, str], edit: bool = False) -> dict:
    """``case`` through a real ``python -m clipvg.cli`` process (its CLI, or ``clipvg batch`` with one worker);
    ``edit``: its input file through ``clipvg edit`` (one step of one patch) instead of its command line.
    ``seconds`` count from the process's start."""
    quick = ["--iterations", "1", "--patches", "1", "--device", "cpu", "--quiet", "--clip-model", clip["clip_model"],
             "--clip-weights", clip["clip_weights"]]
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        if case.kind == "job":
            argv = ["batch", str(_job_file(case, folder)), "-o", str(folder / "out"), "--workers", "1", "--threads", "1",
                    *quick]
        elif edit:
            argv = Case(case.name, case.kind, case.data, ["edit", "{file}", "-o", "{out}.svg", "--prompt", "x", *quick]
                        ).argv(folder)
        else:
            argv = case.argv(folder)
        start = time.perf_counter()
        try:
            done = subprocess.run([sys.executable, "-m", "clipvg.cli", *argv], capture_output=True, text=True,
                                  timeout=timeout, cwd=ROOT, errors="replace")
        except subprocess.TimeoutExpired:
            return {"outcome": "hang", "detail": f"over {timeout} s", "seconds": timeout, "peak_rss_mb": None}
        seconds = time.perf_counter() - start
        manifest = folder / "out" / "manifest.json"
        errors = [str(job.get("error")) for job in json.loads(manifest.read_text())["jobs"].values()
                  ] if manifest.exists() else []
    lines = done.stderr.strip().splitlines()
    bad = "Traceback" in done.stderr or any("Traceback" in e or "internal error" in e for e in errors)
    expected = (0, 1, 2) if case.kind == "job" else (0, 2)  # batch: 1 when some jobs failed (their reasons kept)
    if bad or done.returncode not in expected:
        outcome, detail = "traceback", f"exit {done.returncode}\n{done.stderr[-4000:]}\n{errors}"
    elif done.returncode == 0:
        outcome, detail = "accepted", "exit 0"
    else:
        outcome, detail = "refused", (lines[-1] if lines else "") + (f" {errors}" if errors else "")
    return {"outcome": outcome, "detail": detail[:4000], "seconds": seconds, "peak_rss_mb": None}


# -- the campaign ----------------------------------------------------------------------------------

def warm_up() -> None:
    """Run one valid case per front end in this process before forking, so that the child starts with
    the lazily imported modules (torch, the renderer, vectorize, fontTools, starlette) loaded."""
    import numpy as np
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.full((12, 12, 3), 128, np.uint8)).save(buffer, "PNG")
    import clipvg.serve  # noqa: F401
    import starlette.testclient  # noqa: F401
    import vectorize  # noqa: F401
    from clipvg.batch.jobs import load_jobs  # noqa: F401
    from clipvg.cli import main

    with tempfile.TemporaryDirectory() as name, contextlib.redirect_stderr(io.StringIO()), \
            contextlib.redirect_stdout(io.StringIO()):
        for case in (Case("w", "svg", valid_svg(__import__("random").Random(0)).encode(), ["render", "{file}", "-o", "{out}.png"]),
                     Case("w", "png", buffer.getvalue(), ["vectorize", "{file}", "-o", "{out}.svg", "--max-size", "16"])):
            with contextlib.suppress(Exception):  # a traceback here is the campaign's to count, not the warm-up's
                main(case.argv(Path(name)))


def summarise(results: list[dict]) -> dict:
    by = collections.defaultdict(lambda: collections.Counter())
    for r in results:
        by[r["front_end"]][r["outcome"]] += 1
    return {k: dict(v) for k, v in sorted(by.items())}


def report(results: list[dict], cases: list[Case], args: argparse.Namespace, commit: str, started: float,
           partial: bool = False) -> dict:
    """The campaign's JSON result."""
    # refusal times in-process, and from a real process's start (its start-up: imports, torch where it loads)
    processes = {*PROCESS_FRONT_ENDS.values(), EDIT_PROCESS}
    refused = [r for r in results if r["outcome"] == "refused" and r["front_end"] not in processes]
    refused_processes = [r for r in results if r["outcome"] == "refused" and r["front_end"] in processes]
    generators = collections.defaultdict(collections.Counter)
    for r in results:
        generators[r["generator"]][r["outcome"]] += 1
    measured = [r for r in results if r["peak_rss_mb"] is not None]
    return {
        "benchmark": "bad_input", "commit": commit, "partial": partial, "phases": args.phases, "seed": args.seed,
        "timeout_s": args.timeout, "memory_limit_mb": args.memory_mb,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, CPU, 1 torch thread",
        "load_average_1min_start": args.load_start, "load_average_1min_end": round(os.getloadavg()[0], 1),
        "wall_s": round(time.time() - started),
        "inputs": len(cases), "runs": len(results),
        "outcomes": dict(collections.Counter(r["outcome"] for r in results)),
        "by_front_end": summarise(results),
        "by_generator": {k: dict(v) for k, v in sorted(generators.items())},
        "peak_rss_mb_max": max((r["peak_rss_mb"] for r in measured), default=None),
        "refused_seconds_max": round(max((r["seconds"] for r in refused), default=0.0), 3),
        "refused_over_1s": [{k: r[k] for k in ("generator", "front_end", "seconds", "detail")}
                            for r in refused if r["seconds"] > 1.0],
        "process_refused_seconds_max": round(max((r["seconds"] for r in refused_processes), default=0.0), 3),
        "process_refused_over_1s": [{k: r[k] for k in ("generator", "front_end", "seconds", "detail")}
                                    for r in refused_processes if r["seconds"] > 1.0],
        "failures": [{**r, "input": cases[r["case"]].data[:300].decode("utf-8", "replace")}
                     for r in results if r["outcome"] in ("traceback", "hang", "memory")],
        "slowest": [{k: r[k] for k in ("generator", "front_end", "outcome", "seconds")}
                    for r in sorted(results, key=lambda r: -r["seconds"])[:10]],
        "heaviest": [{k: r[k] for k in ("generator", "front_end", "outcome", "peak_rss_mb")}
                     for r in sorted(measured, key=lambda r: -r["peak_rss_mb"])[:10]],
    }


def _json_result():
    """benchmarks/json_result, imported only when called: serve's spawned workers import this module
    as their main without benchmarks/ on sys.path."""
    sys.path.insert(0, str(HERE))
    import json_result

    sys.path.remove(str(HERE))
    return json_result


def save(result: dict, path: str | None, show: bool = False) -> None:
    """Write ``result`` to ``path`` (and print it when ``show``)."""
    print_and_save = _json_result().print_and_save
    if show:
        print_and_save(result, path)
    elif path:
        Path(path).write_text(json.dumps(result, indent=1) + "\n")


def merge(parts: list[dict]) -> dict:
    """One result from several runs' results (their parts listed: seed, phases, inputs, runs)."""
    def added(key: str) -> dict:
        total: dict = collections.defaultdict(collections.Counter)
        for part in parts:
            for name, counts in part[key].items():
                total[name].update(counts)
        return {name: dict(counts) for name, counts in sorted(total.items())}

    outcomes = collections.Counter()
    for part in parts:
        outcomes.update(part["outcomes"])
    peaks = [p["peak_rss_mb_max"] for p in parts if p["peak_rss_mb_max"] is not None]
    return {
        "benchmark": "bad_input", "commit": parts[0]["commit"], "machine": parts[0]["machine"],
        "parts": [{k: p.get(k) for k in ("seed", "phases", "partial", "inputs", "runs", "wall_s", "load_average_1min_start",
                                         "load_average_1min_end")}
                  for p in parts],
        "timeout_s": parts[0]["timeout_s"], "memory_limit_mb": parts[0]["memory_limit_mb"],
        "inputs": sum(p["inputs"] for p in parts), "runs": sum(p["runs"] for p in parts), "outcomes": dict(outcomes),
        "by_front_end": added("by_front_end"), "by_generator": added("by_generator"),
        "peak_rss_mb_max": max(peaks, default=None),
        **{key: max(p.get(key, 0.0) for p in parts) for key in ("refused_seconds_max", "process_refused_seconds_max")},
        **{key: sum((p.get(key, []) for p in parts), []) for key in ("refused_over_1s", "process_refused_over_1s",
                                                                     "failures")},
        **{key: sorted(sum((p[key] for p in parts), []), key=lambda r: -r[field])[:10]
           for key, field in (("slowest", "seconds"), ("heaviest", "peak_rss_mb"))},
    }


def main_() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=4000, help="generated inputs (each runs through its front ends)")
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--timeout", type=float, default=20.0)
    parser.add_argument("--memory-mb", type=int, default=2560, help="resident set that counts as runaway memory")
    parser.add_argument("--sample", type=int, default=3, help="cases per generator also run as real processes")
    parser.add_argument("--json", help="also write the result to this file")
    parser.add_argument("--failed-inputs", metavar="DIR", help="write the whole input of every failing case here")
    parser.add_argument("--phases", default="child,serve,process",
                        help="which runs: child (API, CLI, batch in-process), serve, process (real processes)")
    parser.add_argument("--merge", nargs="+", metavar="JSON", help="only merge these results into one (--json)")
    args = parser.parse_args()
    if args.merge:
        save(merge([json.loads(Path(path).read_text()) for path in args.merge]), args.json, show=True)
        return
    import torch

    torch.set_num_threads(1)  # no OpenMP pool before fork: a child using one would deadlock
    logging.getLogger("clipvg").setLevel(logging.ERROR)
    args.load_start = round(os.getloadavg()[0], 1)
    commit = _json_result().git_commit(mark_dirty=True)  # other sessions' uncommitted work in the tree
    cases = list(campaign_cases(args.seed, args.cases))
    started = time.time()
    results = []
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        warm_up()
        phases = args.phases.split(",")
        child = Child(cases, folder)
        for index, case in enumerate(cases):
            for front_end in FRONT_ENDS[case.kind]:
                if front_end != "serve" and "child" in phases:
                    result = child.run(index, front_end, args.timeout, args.memory_mb)
                    results.append({"case": index, "generator": generator_of(case), "front_end": front_end, **result})
                    if len(results) % 1000 == 0 and args.json:  # a partial result, in case the run is cut short
                        save(report(results, cases, args, commit, started, partial=True), args.json)
        if child.pid is not None:
            child.kill()
        # serve's work runs in its own worker processes (spawned from a thread, which a forked child
        # cannot do safely): its cases run here, after the last fork, through one app
        runner = Runner(folder)
        if "serve" in phases:
            runner._client()  # the app and its worker processes start before the first timed request
        for index, case in enumerate(cases):
            if "serve" in FRONT_ENDS[case.kind] and "serve" in phases:
                outcome, detail = runner.run(case, "serve")
                results.append({"case": index, "generator": generator_of(case), "front_end": "serve", "outcome": outcome,
                                "detail": detail, "seconds": runner.seconds, "peak_rss_mb": None})
        runner.close()
    from losses import shapes_clip_paths

    clip = dict(zip(("clip_model", "clip_weights"), map(str, shapes_clip_paths())))
    sampled = collections.Counter()
    for index, case in enumerate(cases):
        generator = generator_of(case)
        if case.kind in PROCESS_FRONT_ENDS and sampled[generator] < args.sample and "process" in args.phases:
            sampled[generator] += 1
            result = run_process(case, args.timeout * 3, clip)
            results.append({"case": index, "generator": generator, "front_end": PROCESS_FRONT_ENDS[case.kind], **result})
            if case.kind in ("svg", "png") and case.args == COMMANDS[case.kind]:  # a broken file, not an argument
                result = run_process(case, args.timeout * 3, clip, edit=True)
                results.append({"case": index, "generator": generator, "front_end": EDIT_PROCESS, **result})
    save(report(results, cases, args, commit, started), args.json, show=True)
    if args.failed_inputs:
        save_failed_inputs(results, cases, Path(args.failed_inputs))


def save_failed_inputs(results: list[dict], cases: list[Case], folder: Path) -> None:
    """Write each failing case's whole input (the JSON keeps 300 characters) to ``folder/case<N>.<kind>``,
    with its arguments in ``case<N>.args.json``, so that a failure can be run again."""
    folder.mkdir(parents=True, exist_ok=True)
    for index in sorted({r["case"] for r in results if r["outcome"] in ("traceback", "hang", "memory")}):
        case = cases[index]
        (folder / f"case{index}.{case.kind}").write_bytes(case.data)
        (folder / f"case{index}.args.json").write_text(json.dumps(case.args))




if __name__ == "__main__":
    main_()
