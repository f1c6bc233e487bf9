"""What handing the checked pixels on saves: a raster input of ``clipvg edit``, inpaint, outpaint and batch is
decoded by ``clipvg.input_check.check_raster`` before torch loads; the job then vectorizes those pixels
(``ReadRaster.take``) where it used to decode the file again. Likewise ``clipvg edit --mask`` (and a batch job's
``subset.mask``): the editor makes its region of the mask's checked pixels (``JobReads.mask``). In-process wall
time, min of ``--repeats``, the two ways interleaved, on the example photo (512 px) resized (Lanczos) to a 2048 px
PNG and a 4096 px JPEG (quality 90), and on a 2048 px PNG mask (a white ellipse on black) for a 512 px canvas.

    photo before: check_raster(path); load_image(path)                  (the vectorizer decoded the file again)
    photo after:  load_image(check_raster(path).take(), copy=False)    (what vectorize_paths does with the pixels)
    mask before:  check_raster(mask); region_mask(canvas, mask=mask)   (the editor decoded the file again)
    mask after:   region_mask(canvas, mask=check_raster(mask))         (the editor takes the checked pixels)

``clipvg serve`` decodes an uploaded photo once already: the server's check (``serve.service._check_photo``)
reads its header and, for a PNG, its chunks' checksums, without decompressing; the vectorize task then decodes it.
The "upload" entry times that check beside the one decode (the 2048 px PNG and 4096 px JPEG), what a second decode
would have cost.

    python benchmarks/raster_read_once.py [--repeats 5] [--json out.json]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from json_result import git_commit, print_and_save  # noqa: E402

from clipvg.edit.regions import region_mask  # noqa: E402
from clipvg.input_check import check_raster  # noqa: E402
from clipvg.serve.service import _check_photo  # noqa: E402
from vectorize.image_io import load_image  # noqa: E402

PHOTO = Path(__file__).resolve().parents[1] / "examples" / "data" / "astronaut.png"
IMAGES = (("png", 2048), ("jpeg", 4096))
MASK_SIDE = 2048
CANVAS = (512, 512)  # (H, W) px: the photo vectorized at the default max size
SERVER_PIXELS = 100_000_000  # the server's megapixels limit in the check (over every image here)

Runs = dict[str, Callable[[], object]]


def _seconds(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def _timed(runs: Runs, repeats: int) -> dict:
    """Each of ``runs`` ``repeats`` times, interleaved: min and all times in s per name, and the saving of
    "after" over "before" when both are there."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            times[name].append(_seconds(run))
    result = {f"{name}_s": round(min(values), 4) for name, values in times.items()}
    if {"before", "after"} <= set(runs):
        before, after = min(times["before"]), min(times["after"])
        result.update(saved_s=round(before - after, 4), saved_share=round(1 - after / before, 3))
    return {**result, **{f"all_{name}_s": [round(t, 4) for t in values] for name, values in times.items()}}


def _photo(folder: str, kind: str, side: int) -> str:
    """The example photo resized to ``side`` px, saved as ``kind`` in ``folder``; its path."""
    path = str(Path(folder) / f"photo_{side}.{'jpg' if kind == 'jpeg' else kind}")
    Image.open(PHOTO).convert("RGB").resize((side, side), Image.Resampling.LANCZOS).save(
        path, **({"quality": 90} if kind == "jpeg" else {}))
    return path


def _mask(folder: str, side: int) -> str:
    """A ``side`` px RGB PNG mask in ``folder``, a white ellipse on black; its path."""
    path = str(Path(folder) / f"mask_{side}.png")
    image = Image.new("RGB", (side, side))
    ImageDraw.Draw(image).ellipse((side // 4, side // 5, 3 * side // 4, 4 * side // 5), fill="white")
    image.save(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", help="also write the result here")
    args = parser.parse_args()
    result = {"commit": git_commit(mark_dirty=True), "repeats": args.repeats,
              "load_before": os.getloadavg()[0], "images": [], "upload": []}
    with tempfile.TemporaryDirectory() as folder:
        for kind, side in IMAGES:
            path = _photo(folder, kind, side)
            photo = {"format": kind, "side_px": side, "file_bytes": os.path.getsize(path)}
            result["images"].append({**photo, **_timed({
                "before": lambda: (check_raster(path), load_image(path)),
                "after": lambda: load_image(check_raster(path).take(), copy=False)}, args.repeats)})
            data = Path(path).read_bytes()
            result["upload"].append({**photo, **_timed({
                "check": lambda: _check_photo(data, SERVER_PIXELS), "decode": lambda: load_image(path)},
                args.repeats)})
        mask = _mask(folder, MASK_SIDE)
        result["mask"] = {"format": "png", "side_px": MASK_SIDE, "canvas_px": list(CANVAS),
                          "file_bytes": os.path.getsize(mask), **_timed({
                              "before": lambda: (check_raster(mask), region_mask(CANVAS, mask=mask)),
                              "after": lambda: region_mask(CANVAS, mask=check_raster(mask))}, args.repeats)}
    result["load_after"] = os.getloadavg()[0]
    print_and_save(result, args.json)


if __name__ == "__main__":
    main()
