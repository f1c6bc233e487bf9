"""What ``clipvg.crossings`` charges a piece: the peak bytes of drawing, in one piece, a path folded over itself
(a zigzag of ``--segments`` lines, most 183 px tall, across a 200 px canvas), filled or stroked, without and with
gradients, over the pieces its count gives beyond ``COVERED_PER_PIXEL`` per pixel (``EdgeLoad.excess``); and, with the limits in force,
how ``clipvg render`` draws or refuses each (``--cli``: bands of rows, or refused before drawing). Each run is
its own process (its peak resident set, the runtime's subtracted, from ``getrusage``). Prints JSON.

    python benchmarks/crossings.py [--segments 16000 32000 64000] [--cli 30000 150000] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE))

from json_result import git_commit, print_and_save  # noqa: E402

from clipvg.crossings import crowding_bytes  # noqa: E402

SIZE = 200
ONE_PIECE = """
import json, resource, sys, time
import clipvg
from clipvg.limits import ResourceLimits, using
scene = clipvg.load_svg(sys.argv[1])
load = scene.edge_load()
pieces, excess = load.crossings((1.0, 1.0), ({size}, {size})), load.excess((1.0, 1.0), ({size}, {size}))
gradient = sys.argv[2] == "grad"
warm = clipvg.load_svg('<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><path d="M1 1 7 2 3 6"/></svg>')
warm.points.requires_grad_(gradient)
image = clipvg.render(warm, 8)  # the runtime as clipvg.tiling.RUNTIME_BYTES counts it: after a render
if gradient:
    image.sum().backward()
runtime = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
started = time.perf_counter()
with using(ResourceLimits(render_memory_bytes=1 << 50, memory_bytes=1 << 50)):  # in one piece, as measured
    scene.points.requires_grad_(gradient)
    image = clipvg.render(scene, {size})
    if gradient:
        image.sum().backward()
drawn = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - runtime
print(json.dumps(dict(pieces=pieces, excess=excess, drawn_bytes=drawn,
                      seconds=round(time.perf_counter() - started, 2))))
""".replace("{size}", str(SIZE))


def zigzag(segments: int, paint: str) -> str:
    """The folded path: ``segments`` lines over the 200 px canvas, ``paint`` its fill and stroke attributes."""
    points = " ".join(f"{i % 190} {(i * 7) % 190}" for i in range(segments + 1))
    return f'<svg xmlns="http://www.w3.org/2000/svg" width="{SIZE}" height="{SIZE}"><path d="M{points}" {paint}/></svg>'


PAINTS = {"fill": 'fill="red"', "stroke": 'fill="none" stroke="red"'}


def one_piece(path: Path, gradient: bool) -> dict:
    """Pieces, excess pieces and peak bytes over the runtime of drawing ``path`` in one piece."""
    done = subprocess.run([sys.executable, "-c", ONE_PIECE, str(path), "grad" if gradient else "none"], cwd=ROOT,
                          capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    row = json.loads(done.stdout.splitlines()[-1])
    row["bytes_per_excess_piece"] = round(row["drawn_bytes"] / row["excess"]) if row["excess"] > 0 else None
    row["estimate_bytes"] = round(crowding_bytes(row["excess"], gradient))
    row["estimate_over_drawn"] = round(row["estimate_bytes"] / row["drawn_bytes"], 2)
    return row


def cli(path: Path) -> dict:
    """``clipvg render`` of ``path`` under the default limits: exit status, peak MB (its whole process), seconds."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen([sys.executable, "-m", "clipvg.cli", "render", str(path), "-o", str(path) + ".png"],
                                   cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, text=True,
                                   env={**os.environ, "PYTHONPATH": str(ROOT)})
        _, status, usage = os.wait4(process.pid, 0)
        log.seek(0)
        message = log.read().strip()
    return {"exit": os.waitstatus_to_exitcode(status), "seconds": round(time.perf_counter() - started, 2),
            "peak_mb": round(usage.ru_maxrss / 1024), "message": message[-300:]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, nargs="+", default=[16000, 32000, 64000])
    parser.add_argument("--cli", type=int, nargs="+", default=[30000, 150000], help="segments for clipvg render")
    parser.add_argument("--json", help="also write the result to this file")
    args = parser.parse_args()
    from clipvg import crossings

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for segments in args.segments:
            for paint, attributes in PAINTS.items():
                path = Path(folder) / f"zigzag_{segments}_{paint}.svg"
                path.write_text(zigzag(segments, attributes))
                for gradient in (False, True):
                    rows.append({"segments": segments, "paint": paint, "gradient": gradient,
                                 **one_piece(path, gradient)})
        renders = []
        for segments in args.cli:
            path = Path(folder) / f"zigzag_{segments}.svg"
            path.write_text(zigzag(segments, PAINTS["stroke"]))
            renders.append({"segments": segments, **cli(path)})
    result = {"benchmark": "crossings", "commit": git_commit(mark_dirty=True), "machine": platform.node(),
              "cpus": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()],
              "constants": {name: getattr(crossings, name) for name in (
                  "COVERED_PER_PIXEL", "CROSSING_BYTES", "CROWDED_BYTES", "GRADIENT_CROSSING_BYTES",
                  "GRADIENT_CROWDED_BYTES", "CROWDED_PIECE_BYTES")},
              "smallest_estimate_over_drawn": min(r["estimate_over_drawn"] for r in rows if r["excess"] > 0),
              "one_piece": rows, "clipvg_render": renders}
    print_and_save(result, args.json)


if __name__ == "__main__":
    main()
