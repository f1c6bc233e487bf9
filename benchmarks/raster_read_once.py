"""What handing the checked pixels on saves: a raster input of ``clipvg edit``, inpaint, outpaint and batch is
decoded by ``clipvg.input_check.check_raster`` before torch loads; the job then vectorizes those pixels
(``ReadRaster.take``) where it used to decode the file again. In-process wall time, min of ``--repeats``, the two
ways interleaved, on the example photo (512 px) resized (Lanczos) to a 2048 px PNG and a 4096 px JPEG (quality 90).

    before: check_raster(path); load_image(path)                        (the vectorizer decoded the file again)
    after:  load_image(check_raster(path).take(), copy=False)          (what vectorize_paths does with the pixels)

    python benchmarks/raster_read_once.py [--repeats 5] [--json out.json]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from json_result import git_commit, print_and_save  # noqa: E402

from clipvg.input_check import check_raster  # noqa: E402
from vectorize.image_io import load_image  # noqa: E402

PHOTO = Path(__file__).resolve().parents[1] / "examples" / "data" / "astronaut.png"
IMAGES = (("png", 2048), ("jpeg", 4096))


def _before(path: str) -> None:
    check_raster(path)
    load_image(path)


def _after(path: str) -> None:
    load_image(check_raster(path).take(), copy=False)


def _seconds(run, path: str) -> float:
    start = time.perf_counter()
    run(path)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", help="also write the result here")
    args = parser.parse_args()
    result = {"commit": git_commit(mark_dirty=True), "repeats": args.repeats,
              "load_before": os.getloadavg()[0], "images": []}
    with tempfile.TemporaryDirectory() as folder:
        for kind, side in IMAGES:
            path = str(Path(folder) / f"photo_{side}.{'jpg' if kind == 'jpeg' else kind}")
            Image.open(PHOTO).convert("RGB").resize((side, side), Image.Resampling.LANCZOS).save(
                path, **({"quality": 90} if kind == "jpeg" else {}))
            times = {"before": [], "after": []}
            for _ in range(args.repeats):
                for name, run in (("before", _before), ("after", _after)):
                    times[name].append(_seconds(run, path))
            before, after = min(times["before"]), min(times["after"])
            result["images"].append({"format": kind, "side_px": side, "file_bytes": os.path.getsize(path),
                                     "before_s": round(before, 4), "after_s": round(after, 4),
                                     "saved_s": round(before - after, 4), "saved_share": round(1 - after / before, 3),
                                     "all_before_s": [round(t, 4) for t in times["before"]],
                                     "all_after_s": [round(t, 4) for t in times["after"]]})
    result["load_after"] = os.getloadavg()[0]
    print_and_save(result, args.json)


if __name__ == "__main__":
    main()
