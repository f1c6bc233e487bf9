"""How loose the reader's bound on a stroke outline's points is (``clipvg.svg.outline_bound``) on real files.

Every stroke of each file is outlined as the reader outlines one under a skew (``_stroke_as_fill``: the shape
in its own space, 8x finer than the canvas), and its bound is set against the points of the outline the
renderer makes (``PendingOutline.finish``). Prints JSON: per corpus the outlines, the ratio bound / points over
all of them, and the per-outline ratios' median, 90th percentile and largest, solid and dashed apart; the
time the bounds took against the outlines'.

    .venv/bin/python benchmarks/outline_bound.py --corpus papirus=/usr/share/icons/Papirus/48x48 \\
        --corpus resvg=/work/resvg-suite/crates/resvg/tests/tests/painting --limit 300 -o result.json
"""
from __future__ import annotations

import argparse
import json
import random
import time
import warnings
from pathlib import Path

import numpy as np

from clipvg.errors import ClipvgError
from clipvg.svg import reader as reader_module
from clipvg.svg.reader import read_svg


def outline_all_strokes(path: Path) -> list:
    """The ``PendingOutline`` of every stroke in the SVG file ``path`` (each outlined as if under a skew)."""
    is_similarity = reader_module._is_similarity
    reader_module._is_similarity = lambda ctm: False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return read_svg(path).outlines
    except (ClipvgError, ValueError):
        return []
    finally:
        reader_module._is_similarity = is_similarity


def measure(files: list[Path]) -> dict:
    """Bounds and outline points of every stroke in ``files``."""
    rows, bound_seconds, outline_seconds = [], 0.0, 0.0
    for path in files:
        for outline in outline_all_strokes(path):
            start = time.perf_counter()
            bound = outline.point_bound()
            bound_seconds += time.perf_counter() - start
            start = time.perf_counter()
            outline.finish()
            outline_seconds += time.perf_counter() - start
            points = sum(len(s.points) for s in outline.path.subpaths) if outline.path.fill is not None else 0
            assert bound >= points, (path, bound, points)
            rows.append((path.name, bool(outline.stroke.dashes), bound, points))
    summary = {"files": len(files), "outlines": len(rows), "bound_seconds": round(bound_seconds, 3),
               "outline_seconds": round(outline_seconds, 3)}
    for name, dashed in (("solid", False), ("dashed", True)):
        chosen = [r for r in rows if r[1] == dashed and r[3] > 0]
        if chosen:
            ratios = np.array([r[2] / r[3] for r in chosen])
            loosest = max(chosen, key=lambda r: r[2] / r[3])
            summary[name] = {"outlines": len(chosen), "points": int(sum(r[3] for r in chosen)),
                             "bound": int(sum(r[2] for r in chosen)),
                             "ratio_of_sums": round(sum(r[2] for r in chosen) / sum(r[3] for r in chosen), 3),
                             "ratio_median": round(float(np.median(ratios)), 3),
                             "ratio_p90": round(float(np.percentile(ratios, 90)), 3),
                             "ratio_max": round(float(ratios.max()), 3), "loosest": loosest[0]}
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", action="append", required=True, help="name=folder (searched for *.svg)")
    parser.add_argument("--limit", type=int, default=300, help="files per corpus holding a stroke, drawn at random")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("-o", "--output", help="also write the JSON here")
    args = parser.parse_args()
    result = {}
    for item in args.corpus:
        name, folder = item.split("=", 1)
        files = sorted(p for p in Path(folder).rglob("*.svg") if p.is_file() and "stroke" in p.read_text(errors="replace"))
        files = sorted(random.Random(args.seed).sample(files, min(args.limit, len(files))))
        result[name] = {"folder": folder, **measure(files)}
    text = json.dumps(result, indent=1)
    print(text)
    if args.output:
        Path(args.output).write_text(text + "\n")


if __name__ == "__main__":
    main()
