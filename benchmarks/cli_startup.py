"""``clipvg vectorize`` start-up and SVG writing: wall time of the whole command (median of ``--runs``),
``python -X importtime`` of the command (what it imports before and while working), ``clipvg --help``
wall time, and the CPU time of ``scene_to_svg_string`` on the example photo's vectorization. Prints JSON.

Each ``--tree LABEL=DIR`` is a source tree of the project (e.g. an older commit unpacked with
``git archive``), run with this interpreter and ``PYTHONPATH=DIR``, so before/after share one run.

    python benchmarks/cli_startup.py --tree after=. [--tree before=/tmp/old] [--runs 3] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

WRITER = """
import sys, time
from vectorize import load_image, vectorize
from clipvg.svg import scene_to_svg_string
image = load_image(sys.argv[1])
for size, quality in ((512, None), (1024, "fine")):
    scene = vectorize(image, max_size=size, quality=quality)
    seconds = []
    for _ in range(3):
        start = time.process_time()
        text = scene_to_svg_string(scene)
        seconds.append(time.process_time() - start)
    print(size, scene.num_paths, min(seconds), len(text))
"""


def run(tree: str, args: list[str]) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.path.abspath(tree))
    return subprocess.run([sys.executable, *args], cwd=tree, env=env, capture_output=True, text=True, check=True)


def wall(tree: str, args: list[str], runs: int) -> list[float]:
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        run(tree, args)
        seconds.append(time.perf_counter() - start)
    return seconds


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


def measure(tree: str, image: str, runs: int) -> dict:
    output = os.path.join(tempfile.mkdtemp(), "out.svg")
    command = ["-m", "clipvg.cli", "vectorize", os.path.abspath(image), "-o", output]
    profile = import_profile(run(tree, ["-X", "importtime", *command]).stderr)
    vectorize_s = wall(tree, command, runs)
    help_s = wall(tree, ["-m", "clipvg.cli", "--help"], runs)
    writer = {}
    for line in run(tree, ["-c", WRITER, os.path.abspath(image)]).stdout.splitlines():
        size, paths, seconds, chars = line.split()
        writer[f"{size}px"] = {"paths": int(paths), "cpu_s": round(float(seconds), 3), "svg_chars": int(chars)}
    return {"vectorize_wall_s": [round(s, 2) for s in vectorize_s],
            "vectorize_wall_median_s": round(statistics.median(vectorize_s), 2),
            "help_wall_median_s": round(statistics.median(help_s), 2),
            "vectorize_imports": profile, "scene_to_svg_string": writer,
            "load_average_after": os.getloadavg()[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", action="append", required=True, metavar="LABEL=DIR")
    parser.add_argument("--image", default="examples/data/astronaut.png")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", default=None, help="also write the result here")
    args = parser.parse_args()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    result = {"machine": f"{os.cpu_count()} shared CPU cores, {platform.processor() or platform.machine()}, no GPU",
              "commit": commit, "image": args.image, "runs": args.runs}
    for spec in args.tree:
        label, tree = spec.split("=", 1)
        result[label] = measure(tree, args.image, args.runs)
    text = json.dumps(result, indent=1)
    print(text)
    if args.json:
        with open(args.json, "w") as handle:
            handle.write(text + "\n")


if __name__ == "__main__":
    main()
