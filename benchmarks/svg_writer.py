"""SVG writer benchmark: CPU seconds of ``Vectorized.svg_string()`` (the vectorizer's paths to SVG text,
``clipvg.svg.path_writer``) on the scaling photos of ``vectorize_rd.py --scaling``, at vtracer's path
count for each size (780, 2359, 7188 and 28515 paths at 256, 512, 1024 and 2048 px). Prints JSON:
per size the paths, the document's bytes and the median CPU seconds of ``--repeats`` writes.

To compare two checkouts, run this file from one with the other first on PYTHONPATH (the script
only uses ``vectorize_paths`` and ``svg_string``, which both have).

Usage: python benchmarks/svg_writer.py [--sizes 256,512,1024] [--repeats 5]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path = [p for p in sys.path if Path(p or ".").resolve() != HERE]  # benchmarks/vectorize.py is not the package

from vectorize import vectorize_paths  # noqa: E402

sys.path.append(str(HERE))
from json_result import git_commit  # noqa: E402
from vectorize_rd import scaling_picture  # noqa: E402

PATHS = {256: 780, 512: 2359, 1024: 7188, 2048: 28515}  # vtracer's defaults on these photos


def bench_size(size: int, repeats: int) -> dict:
    result = vectorize_paths(scaling_picture(size), paths=PATHS[size], max_size=None)
    seconds, text = [], ""
    for _ in range(repeats):
        started = time.process_time()
        text = result.svg_string()
        seconds.append(time.process_time() - started)
    return {"size": size, "paths": result.num_paths, "svg_bytes": len(text),
            "cpu_seconds_median": round(float(np.median(seconds)), 4), "cpu_seconds": [round(s, 4) for s in seconds]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="256,512,1024")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    import vectorize
    sizes = [bench_size(int(size), args.repeats) for size in args.sizes.split(",")]
    print(json.dumps({"vectorize_from": str(Path(vectorize.__file__).parent.parent), "commit": git_commit(True),
                      "repeats": args.repeats, "sizes": sizes}, indent=1))


if __name__ == "__main__":
    main()
