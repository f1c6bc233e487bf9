"""Long path data: reading it, and ``clipvg render`` of the bad-input campaign's stroked zigzags. Prints JSON.

- ``parse``: seconds to turn one ``d`` of N line segments (the campaign's zigzag) or N arcs (``arc_zigzag_svg``) into
  contours, by svgelements (segments, then ``geometry.to_contours``, as the reader did) and by
  ``clipvg.svg.path_data`` (best of ``--runs``), in this process.
- ``render``: ``clipvg render`` of the zigzag SVGs from process start, one thread (``OMP_NUM_THREADS=1``, as the
  campaign's in-process runs) and all threads: wall seconds, peak resident MB of the process, exit status (2:
  refused). 150 000 segments is refused (its pieces do not fit), 30 000 is drawn in bands; the arcs are refused,
  57 000 of them being about the most the points_per_path limit lets through (3.5 points an arc as written).

Each ``--tree LABEL=DIR`` is a source tree of the project (e.g. an older commit from ``git worktree add``), run
with this interpreter and ``PYTHONPATH=DIR``, so before and after share one run (the parse figures are this
tree's).

    python benchmarks/long_paths.py [--tree now=.] [--tree before=/tmp/old] [--runs 3] [--json out.json]
"""
from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from json_result import git_commit, print_and_save

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "clipvg"))

from bad_corpus import long_segment_stroke_svg  # noqa: E402


def arc_zigzag_svg(arcs: int) -> str:
    """A stroke of ``arcs`` arcs of radius 30 between the zigzag's points across a 200 px canvas (radii scaled up to
    fit where the points are further apart)."""
    data = " ".join(f"A30 30 0 0 1 {(i * 37) % 190} {(i * 91) % 190}" for i in range(arcs))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="200" height="200"><path d="M0 0 {data}" fill="none" '
            'stroke="red"/></svg>')


MAKERS = {"segments": long_segment_stroke_svg, "arcs": arc_zigzag_svg}


def path_data_of(kind: str, count: int) -> str:
    markup = MAKERS[kind](count)
    return markup.split(' d="', 1)[1].split('"', 1)[0]


def best_seconds(work, runs: int) -> float:
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        seconds.append(time.perf_counter() - start)
    return min(seconds)


def parse_figures(runs: int) -> list[dict]:
    from svgelements import Path as SVGPath

    from clipvg.svg.geometry import to_contours
    from clipvg.svg.path_data import parse_path_data

    found = []
    for kind, count in (("segments", 10_000), ("segments", 50_000), ("segments", 150_000), ("arcs", 20_000),
                        ("arcs", 57_000)):
        data = path_data_of(kind, count)

        def ours() -> None:
            parse_path_data.cache_clear()
            assert len(parse_path_data(data).contours[0].degrees) >= count

        found.append({kind: count, "characters": len(data),
                      "svgelements_s": round(best_seconds(lambda: to_contours(SVGPath(data).segments()), runs), 4),
                      "numpy_s": round(best_seconds(ours, runs), 4)})
    return found


def render_figures(tree: str, folder: Path, runs: int) -> list[dict]:
    found = []
    for kind, count in (("segments", 150_000), ("segments", 30_000), ("arcs", 20_000), ("arcs", 57_000)):
        source = folder / f"zigzag_{kind}_{count}.svg"
        source.write_text(MAKERS[kind](count))
        for threads in ("1", None):
            env = dict(os.environ, PYTHONPATH=os.path.abspath(tree))
            if threads:
                env.update(OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads, NUMBA_NUM_THREADS=threads)
            walls, peaks, status = [], [], None
            for _ in range(runs):
                # each run in its own child of a short-lived runner, so that RUSAGE_CHILDREN is that run's peak alone
                runner = ("import resource, subprocess, sys, time; s = time.perf_counter(); "
                          "r = subprocess.run(sys.argv[1:], capture_output=True); "
                          "print(time.perf_counter() - s, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, "
                          "r.returncode)")
                out = subprocess.run([sys.executable, "-c", runner, sys.executable, "-m", "clipvg.cli", "render",
                                      str(source), "-o", str(folder / "out.png")],
                                     env=env, cwd=tree, capture_output=True, text=True, check=True).stdout.split()
                walls.append(float(out[0]))
                peaks.append(int(out[1]) / 1024)
                status = int(out[2])
            found.append({kind: count, "threads": threads or "all", "wall_s": round(min(walls), 2),
                          "peak_mb": round(max(peaks)), "exit": status})
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", action="append", default=[], help="LABEL=DIR of a source tree (default now=.)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json")
    args = parser.parse_args()
    trees = dict(item.split("=", 1) for item in args.tree) or {"now": str(ROOT)}
    with tempfile.TemporaryDirectory() as folder:
        renders = {label: render_figures(tree, Path(folder), args.runs) for label, tree in trees.items()}
    print_and_save({"commit": git_commit(mark_dirty=True), "machine": f"{os.cpu_count()} cores, {platform.machine()}",
                    "load_average": os.getloadavg(), "parse": parse_figures(args.runs), "render": renders,
                    "peak_mb_this_process": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)},
                   args.json)


if __name__ == "__main__":
    main()
