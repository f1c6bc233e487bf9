"""``clipvg vectorize`` start-up and SVG writing: wall time of the whole command and of ``clipvg --help``
(medians of ``--runs``, the trees interleaved, after one untimed run per tree), ``python -X importtime``
of the command (what it imports before and while working), and the CPU time of ``scene_to_svg_string`` on the example photo's
vectorization (best of 10). Prints JSON.

Each ``--tree LABEL=DIR`` is a source tree of the project (e.g. an older commit unpacked with
``git archive``), run with this interpreter and ``PYTHONPATH=DIR``, so before/after share one run.

    python benchmarks/cli_startup.py --tree after=. [--tree before=/tmp/old] [--runs 3] [--json out.json]
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

from json_result import git_commit, print_and_save

WRITER = """
import sys, time
from vectorize import load_image, vectorize
from clipvg.svg import scene_to_svg_string
image = load_image(sys.argv[1])
for quality in ("default-rounds", "fine"):
    scene = vectorize(image, quality=None if quality == "default-rounds" else quality)
    seconds = []
    for _ in range(10):
        start = time.process_time()
        text = scene_to_svg_string(scene)
        seconds.append(time.process_time() - start)
    print(quality, f"{scene.width}x{scene.height}", scene.num_paths, min(seconds), len(text))
"""


def run(tree: str, args: list[str]) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.path.abspath(tree))
    return subprocess.run([sys.executable, *args], cwd=tree, env=env, capture_output=True, text=True, check=True)


def wall(tree: str, args: list[str]) -> float:
    start = time.perf_counter()
    run(tree, args)
    return time.perf_counter() - start


def import_profile(stderr: str) -> dict:
    """Top-level imports of an ``-X importtime`` log: total cumulative seconds, the five largest, torch's."""
    top = {}
    for line in stderr.splitlines():
        if line.startswith("import time:") and not line.startswith("import time: self"):
            _, cumulative, name = line[len("import time:"):].split("|")
            if not name.startswith(" " * 2):  # zero-indent: imported by the program itself
                top[name.strip()] = int(cumulative) / 1e6
    loaded = {line.split("|")[2].strip() for line in stderr.splitlines() if line.count("|") == 2}
    largest = sorted(top.items(), key=lambda item: -item[1])[:5]
    return {"top_level_import_s": round(sum(top.values()), 3), "torch_imported": "torch" in loaded,
            "largest": {name: round(s, 3) for name, s in largest}}


FLAGS: list[str] = []  # extra ``clipvg vectorize`` flags (``--flags``)


def vectorize_command(image: str) -> list[str]:
    return ["-m", "clipvg.cli", "vectorize", os.path.abspath(image), "-o", os.path.join(tempfile.mkdtemp(), "out.svg"),
            *FLAGS]


def walls(trees: dict[str, str], image: str, runs: int) -> dict[str, dict]:
    """Median wall seconds of ``clipvg vectorize`` and ``clipvg --help`` per tree, the trees interleaved
    run by run (a shared machine's load then weighs on each alike)."""
    seconds = {label: {"vectorize": [], "help": []} for label in trees}
    for tree in trees.values():  # untimed: a fresh tree compiles its numba kernels into its cache first
        run(tree, vectorize_command(image))
    for _ in range(runs):
        for label, tree in trees.items():
            seconds[label]["vectorize"].append(wall(tree, vectorize_command(image)))
            seconds[label]["help"].append(wall(tree, ["-m", "clipvg.cli", "--help"]))
    return {label: {"vectorize_wall_s": [round(s, 2) for s in times["vectorize"]],
                    "vectorize_wall_median_s": round(statistics.median(times["vectorize"]), 2),
                    "help_wall_median_s": round(statistics.median(times["help"]), 2)}
            for label, times in seconds.items()}


def measure(tree: str, image: str) -> dict:
    profile = import_profile(run(tree, ["-X", "importtime", *vectorize_command(image)]).stderr)
    writer = {}
    for line in run(tree, ["-c", WRITER, os.path.abspath(image)]).stdout.splitlines():
        quality, canvas, paths, seconds, chars = line.split()
        writer[quality] = {"canvas": canvas, "paths": int(paths), "cpu_s": round(float(seconds), 3),
                           "svg_chars": int(chars)}
    return {"vectorize_imports": profile, "scene_to_svg_string": writer, "load_average_after": os.getloadavg()[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", action="append", required=True, metavar="LABEL=DIR")
    parser.add_argument("--image", default="examples/data/astronaut.png")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", default=None, help="also write the result here")
    parser.add_argument("--flags", default="", help="extra clipvg vectorize flags, e.g. '--paths 1000'")
    args = parser.parse_args()
    FLAGS.extend(args.flags.split())
    commit = git_commit()
    result = {"machine": f"{os.cpu_count()} shared CPU cores, {platform.processor() or platform.machine()}, no GPU",
              "commit": commit, "image": args.image, "flags": args.flags, "runs": args.runs}
    trees = dict(spec.split("=", 1) for spec in args.tree)
    for label, timing in walls(trees, args.image, args.runs).items():
        result[label] = {**timing, **measure(trees[label], args.image)}
    print_and_save(result, args.json)


if __name__ == "__main__":
    main()
