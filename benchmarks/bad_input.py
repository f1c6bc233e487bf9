"""Bad-input fuzz campaign: generated broken and oversized files and arguments (tests/clipvg/bad_corpus.py)
through the CLI, each case in a forked child of one process that has clipvg imported. Prints JSON:
cases, exit codes, tracebacks (exit other than 0/2, or a traceback on stderr), hangs (killed after
``--timeout`` s), the peak RSS of each case's child (MB, it includes the ~0.5 GB of the imported
libraries the child shares with its parent), and the seconds of each refused (exit 2) case.

    python benchmarks/bad_input.py [--cases 10000] [--seed 21] [--timeout 20] [--json out.json]
"""
from __future__ import annotations

import argparse
import collections
import contextlib
import io
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from json_result import print_and_save  # benchmarks/, before it leaves sys.path

HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent / "tests" / "clipvg"))

from bad_corpus import COMMANDS, Case, cases, valid_svg  # noqa: E402
from clipvg.cli import main  # noqa: E402


def run_case(case: Case, timeout: float) -> dict:
    """Run ``case`` in a forked child; its outcome, seconds, peak RSS (MB) and last stderr line."""
    with tempfile.TemporaryDirectory() as folder:
        argv = case.argv(Path(folder))
        err_path = Path(folder) / "stderr"
        start = time.perf_counter()
        pid = os.fork()
        if pid == 0:  # the child: run the CLI with stderr to a file, exit with its code
            code = 1
            try:
                with open(err_path, "w") as err, contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                    code = main(argv)
            except SystemExit as stop:  # argparse's own exit (usage and error line already printed)
                code = stop.code if isinstance(stop.code, int) else 1
            except BaseException:  # noqa: BLE001 - an escaped exception is what the campaign counts
                import traceback

                with open(err_path, "a") as err:
                    traceback.print_exc(file=err)
            finally:
                os._exit(code if isinstance(code, int) else 1)
        status, usage, hung = None, None, False
        while status is None:
            done, raw, usage = os.wait4(pid, os.WNOHANG)
            if done:
                status = raw
            elif time.perf_counter() - start > timeout:
                os.kill(pid, signal.SIGKILL)
                _, status, usage = os.wait4(pid, 0)
                hung = True
            else:
                time.sleep(0.005)
        seconds = time.perf_counter() - start
        err = err_path.read_text(errors="replace") if err_path.exists() else ""
    code = os.waitstatus_to_exitcode(status)
    lines = err.strip().splitlines()
    outcome = "hang" if hung else "traceback" if code not in (0, 2) or "Traceback" in err else f"exit {code}"
    return {"name": case.name, "outcome": outcome, "seconds": round(seconds, 3), "peak_rss_mb": usage.ru_maxrss // 1024,
            "last_line": lines[-1][:200] if lines else ""}


def warm_up() -> None:
    """Run one valid case per command in this process, so that every child forks with the lazily
    imported modules (torch, the renderer, vectorize, fontTools) already loaded."""
    import random

    import numpy as np
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.full((12, 12, 3), 128, np.uint8)).save(buffer, "PNG")
    valid = {"svg": valid_svg(random.Random(0)).encode(), "png": buffer.getvalue(), "ttf": b""}
    with tempfile.TemporaryDirectory() as folder, contextlib.redirect_stderr(io.StringIO()), \
            contextlib.redirect_stdout(io.StringIO()):
        for kind, args in COMMANDS.items():
            main(Case("warm-up", kind, valid[kind], args).argv(Path(folder)))


def main_() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--timeout", type=float, default=20.0)
    parser.add_argument("--json", help="also write the result to this file")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)  # no OpenMP pool before fork: a child using one would deadlock
    warm_up()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    results = [run_case(case, args.timeout) for case in cases(args.seed, args.cases)]
    refused = [r["seconds"] for r in results if r["outcome"] == "exit 2"]
    kinds = collections.defaultdict(list)
    for r in results:
        kinds[r["name"].split(" ")[0]].append(r)
    result = {
        "benchmark": "bad_input", "commit": commit, "seed": args.seed, "timeout_s": args.timeout,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, CPU, 1 torch thread per case", "load_average_1min": round(os.getloadavg()[0], 1),
        "cases": len(results), "outcomes": dict(collections.Counter(r["outcome"] for r in results)),
        "peak_rss_mb_max": max(r["peak_rss_mb"] for r in results),
        "refused_seconds_max": max(refused, default=None),
        "refused_over_1s": sum(s > 1.0 for s in refused),
        "by_kind": {k: {"cases": len(v), "peak_rss_mb_max": max(r["peak_rss_mb"] for r in v),
                        "seconds_max": max(r["seconds"] for r in v)} for k, v in sorted(kinds.items())},
        "failures": [r for r in results if r["outcome"] in ("traceback", "hang")],
        "slowest": sorted(results, key=lambda r: -r["seconds"])[:10],
        "heaviest": sorted(results, key=lambda r: -r["peak_rss_mb"])[:10],
    }
    print_and_save(result, args.json)


if __name__ == "__main__":
    main_()
