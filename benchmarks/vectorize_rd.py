"""Rate-distortion benchmark of the budgeted vectorizer against vtracer: prints JSON, draws a PNG.

For each picture (below, with its licence), scaled so its long side is ``--size`` px (384 by
default: the benchmark's documented size), and each path budget B in ``--budgets`` (250, 500,
1000, 2000):

* vtracer runs over a grid of settings (filter_speckle x layer_difference x color_precision,
  colour mode, stacked, splines; every setting once per picture); its point for B is the setting
  with the highest PSNR among those giving at most B paths (or the fewest paths when none does);
* clipvg runs with ``paths`` = that setting's path count (at most B): the same or fewer paths;
* PSNR: each SVG as written (``vectorize_paths(...).svg_string()``, what ``clipvg vectorize``
  writes; vtracer's own text) rendered by resvg at 1x on white against the picture on white, over
  RGB in [0, 1]; SSIM likewise (scikit-image, 7 px window). Seconds: ``vectorize.vectorize_paths``
  from the array to SVG text (no torch), and vtracer's conversion of the PNG bytes to SVG text (its
  fastest form; reading it back into a Scene, as ``backend="vtracer"`` does, takes longer and is
  not counted).
* Defaults: clipvg without a budget (``quality="auto"``, the CLI's default: the knee of the RD
  curve) against vtracer at its default settings; the summary lists pictures where ours has more
  paths *and* a lower PSNR (dominated).

The summary says where the goal (PSNR >= vtracer's at the same or fewer paths at every budget on
every picture, >= 1 dB better on average, time <= 3x vtracer's) is met and where not.

Pictures: scikit-image's sample data (astronaut, rocket, hubble_deep_field: NASA / SpaceX, public
domain; chelsea, coffee, camera: CC0 by their photographers; coins, immunohistochemistry, text:
no known copyright restrictions; retina: CC0; gravel, brick: CC0 Textures; colorwheel, logo:
scikit-image's own, BSD-3-Clause) and three drawn here (sky, studio, screenshot: this project's
MIT licence).

Scaling (``--scaling 256,512,1024,2048,4096``): one photo per size, astronaut at 256 and 512 px and
from 1024 px on a mosaic of 512 px tiles of astronaut, chelsea, coffee and rocket (so the detail per
pixel stays that of a 512 px photo and the growth is the method's, not the picture's). Per size, in
one fresh process: vtracer at its default settings from the PNG bytes to a written SVG file, and
clipvg with ``paths`` = vtracer's path count from the array to a written SVG file (``vectorize_paths``
+ ``save_svg``, what ``clipvg vectorize`` does: streamed, atomic; no torch; vtracer's text is written
through the same atomic temporary file and rename), interleaved, ``--repeats`` times (median
seconds); peak memory is RSS sampling by the kernel:
the process's peak resident set (VmHWM, reset through /proc/self/clear_refs) during the call above
its resident set just before it, in bytes per input pixel, the largest over the repeats (the
interpreter, libraries and input image are not counted). Before the timed runs one small call to an
SVG file loads the libraries, the compiled kernels and the writer's
imports (the process baseline, not counted); before each run the garbage collector runs and glibc
hands its free heap back (malloc_trim), so the resident set before a run is what is alive (the image
and the libraries) and a run cannot hide its peak in heap pages an earlier run freed. The peak is
taken three times for clipvg: in the interleaved runs (``peak_bytes``: after vtracer's runs in the
same process, whose freed heap changes where glibc places clipvg's arrays: 10-25 B/px more at 256
px, growing run by run), in a fresh process of its own with the same path count
(``peak_bytes_alone``: what ``clipvg vectorize`` sees), and in a fresh process where each run
follows a numpy array of vtracer's peak size written and freed instead of vtracer's run
(``peak_bytes_after_block``: glibc's mmap threshold rises to a freed mapped block's size, so
clipvg's later arrays under it come from the heap, whose freed pages stay resident within a
step; glibc does so only for blocks up to 32 MiB, so from 1024 px on, where vtracer's peak is
larger, the block no longer stands in for vtracer's smaller frees). PSNR as above. The growth exponent is the
slope of log seconds (and log peak bytes) over log pixels, least squares over the sizes.

Usage: python benchmarks/vectorize_rd.py [--pictures astronaut,sky] [--budgets 250,1000] [--size 384]
       [--png docs/vectorize_rd.png] [--quick]
       python benchmarks/vectorize_rd.py --scaling 256,512,1024,2048,4096 [--repeats 3]
Needs the bench extra (pip install -e '.[bench]': vtracer, resvg-py, matplotlib).
"""
from __future__ import annotations

import argparse
import io
import itertools
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

# This script shares a folder with benchmarks/vectorize.py: that folder goes to the end of the import
# path once the vectorize package is loaded (--scaling's spawned workers get this path and import
# json_result from there too).
HERE = Path(__file__).resolve().parent
sys.path = [p for p in sys.path if Path(p or ".").resolve() != HERE]

from vectorize import load_image, vectorize_paths  # noqa: E402
from vectorize.image_io import resize_long_side  # noqa: E402

sys.path.append(str(HERE))
from json_result import git_commit  # noqa: E402

SKIMAGE = ("astronaut", "chelsea", "coffee", "rocket", "camera", "coins", "hubble_deep_field",
           "immunohistochemistry", "retina", "colorwheel", "logo", "text", "gravel", "brick")
DRAWN = ("sky", "studio", "screenshot")
PICTURES = SKIMAGE + DRAWN
BUDGETS = (250, 500, 1000, 2000)
SIZE = 384
# vtracer settings searched per picture (its defaults: speckle 4, precision 6, difference 16).
SPECKLE = (2, 4, 8, 16, 32)
DIFFERENCE = (4, 8, 16, 32, 64)
PRECISION = (6,)
QUICK = dict(speckle=(2, 4, 8, 16), difference=(4, 16, 32), precision=(6,))


# ---------------------------------------------------------------- pictures drawn here

def sky(size: int = SIZE) -> np.ndarray:
    """A sunset: a vertical sky gradient, a radial sun glow, two hills with soft shading."""
    h, w = int(size * 0.75), size
    y, x = np.mgrid[0:h, 0:w] + 0.5
    t = y / h
    top, horizon = np.array([0.15, 0.25, 0.6]), np.array([1.0, 0.62, 0.35])
    image = top + (horizon - top) * t[..., None] ** 0.8
    glow = np.exp(-((x - 0.7 * w) ** 2 + (y - 0.55 * h) ** 2) / (2 * (0.12 * w) ** 2))
    image = image + glow[..., None] * np.array([0.6, 0.45, 0.2])
    hill1 = y > h * (0.7 - 0.12 * np.sin(x / w * 3.0))
    hill2 = y > h * (0.82 - 0.06 * np.cos(x / w * 5.0 + 1))
    image = np.where(hill1[..., None], np.array([0.2, 0.35, 0.18]) * (1.2 - 0.4 * t[..., None]), image)
    image = np.where(hill2[..., None], np.array([0.1, 0.22, 0.1]) + 0.1 * (x / w)[..., None], image)
    return _finish(image)


def studio(size: int = SIZE) -> np.ndarray:
    """A studio backdrop: a radial light falloff behind a disc with a linear shading and a box."""
    h, w = size, size
    y, x = np.mgrid[0:h, 0:w] + 0.5
    r = np.hypot(x - 0.45 * w, y - 0.35 * h) / w
    image = np.array([0.85, 0.8, 0.75]) - r[..., None] * np.array([0.7, 0.65, 0.5])
    disc = np.hypot(x - 0.35 * w, y - 0.6 * h) < 0.2 * w
    shade = ((x - 0.15 * w) / (0.4 * w)).clip(0, 1)[..., None]
    image = np.where(disc[..., None], np.array([0.9, 0.3, 0.2]) * (1.1 - 0.6 * shade), image)
    box = (np.abs(x - 0.72 * w) < 0.12 * w) & (np.abs(y - 0.65 * h) < 0.18 * h)
    image = np.where(box[..., None], np.array([0.2, 0.4, 0.8]) * (0.6 + 0.5 * (y / h))[..., None], image)
    return _finish(image)


def screenshot(size: int = SIZE) -> np.ndarray:
    """A desktop-app screenshot: title bar, side bar, text lines, buttons, an icon grid, a chart."""
    w, h = size, int(size * 0.7)
    canvas = Image.new("RGB", (w, h), (246, 246, 248))
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default()
    draw.rectangle([0, 0, w, 22], fill=(52, 58, 72))
    for i, colour in enumerate([(237, 95, 87), (245, 190, 60), (98, 197, 84)]):
        draw.ellipse([8 + 16 * i, 6, 18 + 16 * i, 16], fill=colour)
    draw.text((70, 5), "report.txt - Editor", fill=(230, 230, 235), font=font)
    draw.rectangle([0, 22, 86, h], fill=(228, 231, 238))
    for i in range(8):
        draw.text((10, 32 + 18 * i), f"Folder {i + 1}", fill=(40, 45, 60), font=font)
    for i in range(9):
        draw.text((100, 34 + 14 * i), f"Line {i + 1}: the quick brown fox jumps", fill=(20, 20, 20), font=font)
    for i, label in enumerate(["OK", "Cancel", "Help"]):
        x0 = 100 + 70 * i
        draw.rounded_rectangle([x0, h - 40, x0 + 60, h - 16], radius=6, fill=(66, 133, 244) if i == 0 else (225, 228, 235))
        draw.text((x0 + 18, h - 34), label, fill=(255, 255, 255) if i == 0 else (30, 30, 30), font=font)
    for i, j in itertools.product(range(3), range(2)):
        x0, y0 = w - 120 + 36 * i, 40 + 36 * j
        draw.rounded_rectangle([x0, y0, x0 + 28, y0 + 28], radius=5, fill=(80 + 50 * i, 160 - 30 * j, 200 - 40 * i))
    bars = [30, 55, 42, 70, 38]
    for i, value in enumerate(bars):
        draw.rectangle([w - 120 + 20 * i, h - 20 - value, w - 106 + 20 * i, h - 20], fill=(90, 170, 120))
    return load_image(np.asarray(canvas))


def _finish(image: np.ndarray) -> np.ndarray:
    """Float RGB -> 8-bit -> straight RGBA (as a file would hold it)."""
    return load_image(np.round(np.clip(image, 0, 1) * 255).astype(np.uint8))


def picture(name: str, size: int) -> np.ndarray:
    if name in DRAWN:
        image = globals()[name](size)
    else:
        from skimage import data
        image = load_image(getattr(data, name)())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return resize_long_side(image, size)


# ---------------------------------------------------------------- measuring

def on_white(rgba: np.ndarray) -> np.ndarray:
    return rgba[..., :3] * rgba[..., 3:] + (1.0 - rgba[..., 3:])


def resvg_render(svg: str) -> np.ndarray:
    """(H, W, 3) float RGB in [0, 1]: ``svg`` rendered by resvg at 1x on white."""
    import resvg_py

    png = bytes(resvg_py.svg_to_bytes(svg_string=svg, background="white"))
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), np.float64) / 255.0


def quality(svg: str, reference: np.ndarray) -> dict:
    from skimage.metrics import structural_similarity

    rendered = resvg_render(svg)
    if rendered.shape != reference.shape:
        raise RuntimeError(f"render is {rendered.shape}, the picture {reference.shape}")
    error = float(np.mean((rendered - reference) ** 2))
    return {"psnr_db": round(10 * np.log10(1.0 / max(error, 1e-12)), 2),
            "ssim": round(float(structural_similarity(rendered, reference, channel_axis=2, data_range=1.0)), 4)}


def run_vtracer(rgba: np.ndarray, speckle: int, difference: int, precision: int) -> tuple[str, float]:
    import vtracer

    png = io.BytesIO()
    Image.fromarray(np.round(rgba * 255).astype(np.uint8), "RGBA").save(png, "PNG")
    started = time.perf_counter()
    svg = vtracer.convert_raw_image_to_svg(png.getvalue(), img_format="png", colormode="color",
                                           hierarchical="stacked", mode="spline", filter_speckle=speckle,
                                           layer_difference=difference, color_precision=precision)
    return svg, time.perf_counter() - started


def run_ours(rgba: np.ndarray, paths: int | None) -> tuple[str, int, float]:
    """(SVG text, paths, seconds) of clipvg from the array to SVG text; ``paths`` None: the default
    (quality "auto")."""
    started = time.perf_counter()
    result = vectorize_paths(rgba, paths=paths, quality="auto" if paths is None else None, max_size=None)
    svg = result.svg_string()
    return svg, result.num_paths, time.perf_counter() - started


def bench_picture(name: str, size: int, budgets: tuple[int, ...], grid: dict) -> dict:
    rgba = picture(name, size)
    reference = on_white(rgba.astype(np.float64))
    settings = []
    for speckle, difference, precision in itertools.product(grid["speckle"], grid["difference"], grid["precision"]):
        svg, seconds = run_vtracer(rgba, speckle, difference, precision)
        settings.append({"settings": {"filter_speckle": speckle, "layer_difference": difference,
                                      "color_precision": precision},
                         "paths": svg.count("<path"), "seconds": round(seconds, 3), **quality(svg, reference)})
    rows, done = [], {}
    for budget in budgets:
        within = [s for s in settings if s["paths"] <= budget]
        theirs = max(within, key=lambda s: s["psnr_db"]) if within else min(settings, key=lambda s: s["paths"])
        wanted = min(budget, theirs["paths"])
        if wanted not in done:  # budgets where vtracer tops out share one run
            svg, paths, seconds = run_ours(rgba, wanted)
            done[wanted] = {"paths": paths, "seconds": round(seconds, 3), **quality(svg, reference)}
        ours = done[wanted]
        seconds = ours["seconds"]
        rows.append({"budget": budget, "ours": ours, "vtracer": theirs,
                     "psnr_gain_db": round(ours["psnr_db"] - theirs["psnr_db"], 2),
                     "time_ratio": round(seconds / max(theirs["seconds"], 1e-3), 2)})
    svg, paths, seconds = run_ours(rgba, None)
    ours = {"paths": paths, "seconds": round(seconds, 3), **quality(svg, reference)}
    svg, seconds = run_vtracer(rgba, 4, 16, 6)
    theirs = {"paths": svg.count("<path"), "seconds": round(seconds, 3), **quality(svg, reference)}
    defaults = {"ours_auto": ours, "vtracer_default": theirs,
                "dominated": bool(ours["paths"] > theirs["paths"] and ours["psnr_db"] < theirs["psnr_db"])}
    return {"size": [int(rgba.shape[1]), int(rgba.shape[0])], "budgets": rows, "defaults": defaults,
            "vtracer_grid": sorted(((s["paths"], s["psnr_db"]) for s in settings))}


def summarise(results: dict) -> dict:
    rows = [(name, row) for name, r in results.items() for row in r["budgets"]]
    gains = [row["psnr_gain_db"] for _, row in rows]
    ratios = [row["time_ratio"] for _, row in rows]
    behind = [{"picture": name, "budget": row["budget"], "psnr_gain_db": row["psnr_gain_db"]}
              for name, row in rows if row["psnr_gain_db"] < 0 or row["ours"]["paths"] > row["vtracer"]["paths"]]
    slow = [{"picture": name, "budget": row["budget"], "time_ratio": row["time_ratio"]}
            for name, row in rows if row["time_ratio"] > 3]
    dominated = [name for name, r in results.items() if r["defaults"]["dominated"]]
    return {"default_dominated_by_vtracer_default": dominated, "comparisons": len(rows), "mean_psnr_gain_db": round(float(np.mean(gains)), 2),
            "min_psnr_gain_db": round(float(np.min(gains)), 2),
            "mean_ssim_gain": round(float(np.mean([row["ours"]["ssim"] - row["vtracer"]["ssim"] for _, row in rows])), 4),
            "median_time_ratio": round(float(np.median(ratios)), 2), "max_time_ratio": round(float(np.max(ratios)), 2),
            "psnr_at_least_vtracer_everywhere": not behind, "mean_gain_at_least_1db": float(np.mean(gains)) >= 1.0,
            "time_within_3x_everywhere": not slow, "behind_vtracer": behind, "slower_than_3x": slow}


def draw(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    names = list(results)
    cols = 4
    rows = -(-len(names) // cols)
    figure, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.5 * rows), squeeze=False)
    for ax, name in zip(axes.flat, names):
        grid = np.array(results[name]["vtracer_grid"])
        ax.scatter(grid[:, 0], grid[:, 1], s=6, color="#bbbbbb", label="vtracer settings")
        theirs = np.array([(r["vtracer"]["paths"], r["vtracer"]["psnr_db"]) for r in results[name]["budgets"]])
        ours = np.array([(r["ours"]["paths"], r["ours"]["psnr_db"]) for r in results[name]["budgets"]])
        ax.plot(theirs[:, 0], theirs[:, 1], "o--", color="#d62728", ms=3, label="vtracer (best at <= budget)")
        ax.plot(ours[:, 0], ours[:, 1], "o-", color="#1f77b4", ms=3, label="clipvg --paths")
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_title(name, fontsize=9)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(names):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=6, loc="lower right")
    figure.supxlabel("paths (log)", fontsize=9)
    figure.supylabel("PSNR vs input, dB (resvg render)", fontsize=9)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)


# ---------------------------------------------------------------- scaling with the picture size

TILE = 512
MOSAIC = ("astronaut", "chelsea", "coffee", "rocket")


def scaling_picture(size: int) -> np.ndarray:
    """(size, size, 4) photo: astronaut up to TILE px, else a mosaic of TILE px photo tiles (MOSAIC in
    turn, every other round mirrored)."""
    from skimage import data

    def tile(name: str, side: int) -> np.ndarray:
        image = getattr(data, name)()
        h, w = image.shape[:2]
        top, left = (h - min(h, w)) // 2, (w - min(h, w)) // 2
        square = Image.fromarray(image[top:top + min(h, w), left:left + min(h, w)])
        return load_image(square.resize((side, side), Image.Resampling.LANCZOS))

    if size <= TILE:
        return tile("astronaut", size)
    k = size // TILE
    tiles = [tile(name, TILE) for name in MOSAIC]
    rows = [[tiles[(i * k + j) % 4][:, ::(-1 if (i * k + j) // 4 % 2 else 1)] for j in range(k)] for i in range(k)]
    return np.ascontiguousarray(np.concatenate([np.concatenate(row, axis=1) for row in rows], axis=0))


def _resident() -> tuple[int, int]:
    """(current, peak) resident set of this process in bytes (Linux)."""
    fields = {line.split(":")[0]: int(line.split()[1]) * 1024 for line in open("/proc/self/status")
              if line.startswith(("VmRSS", "VmHWM"))}
    return fields["VmRSS"], fields["VmHWM"]


def _measured(call):
    """(result, seconds, CPU seconds (all threads), peak bytes above the resident set before ``call()``,
    which is what is alive: garbage collected and glibc's free heap returned first)."""
    import ctypes
    import gc

    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    with open("/proc/self/clear_refs", "w") as handle:  # the peak restarts from the current resident set
        handle.write("5")
    before = _resident()[0]
    started, cpu = time.perf_counter(), time.process_time()
    result = call()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return result, seconds, cpu, max(_resident()[1] - before, 0)


def scaling_size(size: int, repeats: int) -> dict:
    """One size's row of the scaling table (run in a fresh process: see ``scaling``)."""
    import tempfile

    import vtracer
    from clipvg.atomic import atomic_path

    rgba = scaling_picture(size)
    png = io.BytesIO()
    Image.fromarray(np.round(rgba * 255).astype(np.uint8), "RGBA").save(png, "PNG")
    data = png.getvalue()
    folder = Path(tempfile.mkdtemp(prefix="vectorize_rd_"))

    def theirs() -> str:
        svg = vtracer.convert_raw_image_to_svg(data, img_format="png")
        with atomic_path(folder / "vtracer.svg") as tmp:
            tmp.write_text(svg, encoding="utf-8")
        return svg

    _warm_up(rgba, folder / "ours.svg")
    runs = {"vtracer": [], "ours": []}
    for _ in range(repeats):  # interleaved, so both see the same load on a shared machine
        svg_theirs, *measures = _measured(theirs)
        paths = svg_theirs.count("<path")
        runs["vtracer"].append(measures)
        our_paths, *measures = _measured(lambda: _ours(rgba, paths, folder / "ours.svg"))
        runs["ours"].append(measures)
    svg_ours = (folder / "ours.svg").read_text(encoding="utf-8")
    _remove(folder)
    reference = on_white(rgba.astype(np.float64))
    pixels = size * size
    row = {"size": size, "pixels": pixels}
    for name, svg, count in (("vtracer", svg_theirs, paths), ("ours", svg_ours, our_paths)):
        seconds, cpu = [r[0] for r in runs[name]], [r[1] for r in runs[name]]
        peak = max(r[2] for r in runs[name])
        row[name] = {"paths": count, "seconds_median": round(float(np.median(seconds)), 3),
                     "seconds": [round(t, 3) for t in seconds], "cpu_seconds_median": round(float(np.median(cpu)), 3),
                     "peak_bytes": peak,
                     "peak_bytes_per_pixel": round(peak / pixels, 1), **quality(svg, reference)}
    row["torch_loaded"] = "torch" in sys.modules  # clipvg's path to SVG text needs none
    row["time_ratio"] = round(row["ours"]["seconds_median"] / max(row["vtracer"]["seconds_median"], 1e-3), 2)
    # CPU time (all threads) over vtracer's: on a shared machine the fairer measure of the work done
    row["cpu_time_ratio"] = round(row["ours"]["cpu_seconds_median"] / max(row["vtracer"]["cpu_seconds_median"], 1e-3), 2)
    row["psnr_gain_db"] = round(row["ours"]["psnr_db"] - row["vtracer"]["psnr_db"], 2)
    return row


def _ours(rgba: np.ndarray, paths: int, target: Path) -> int:
    """clipvg from the array to the SVG file ``target`` with ``paths`` paths; returns the path count."""
    result = vectorize_paths(rgba, paths=paths, max_size=None)
    result.save_svg(target)
    return result.num_paths


def _warm_up(rgba: np.ndarray, target: Path) -> None:
    """One small call to an SVG file: loads the libraries, the compiled kernels and the writer."""
    _ours(rgba[:64, :64], 16, target)


def _remove(folder: Path) -> None:
    for written in folder.iterdir():
        written.unlink()
    folder.rmdir()


def peak_alone(size: int, paths: int, repeats: int, block: int = 0) -> int:
    """clipvg's peak bytes (as ``_measured``, the largest over ``repeats`` runs) at ``size`` px with
    ``paths`` paths in a fresh process of its own: no vtracer run before it in the process, whose
    freed heap changes where glibc places clipvg's arrays (run in a fresh process: see ``scaling``).
    ``block`` > 0: before each run a numpy array of that many bytes is written and freed instead
    of vtracer's run (its peak): whether an allocation of vtracer's size alone moves clipvg's peak
    as vtracer does (glibc raises its mmap threshold to the size of a freed mapped block, so later
    arrays below it come from the heap)."""
    import tempfile

    rgba = scaling_picture(size)
    folder = Path(tempfile.mkdtemp(prefix="vectorize_rd_"))
    _warm_up(rgba, folder / "ours.svg")
    peak = 0
    for _ in range(repeats):
        if block:
            _measured(lambda: np.ones(block // 8).sum())
        peak = max(peak, _measured(lambda: _ours(rgba, paths, folder / "ours.svg"))[3])
    _remove(folder)
    return peak


def machine() -> dict:
    """Where the figures come from: CPU count and model, load average, the commit."""
    import platform

    commit = git_commit()
    return {"cpus": os.cpu_count(), "processor": platform.processor() or platform.machine(),
            "load_average_1_5_15": [round(v, 2) for v in os.getloadavg()], "commit": commit}


def _exponent(pixels: list[int], values: list[float]) -> float:
    """Least-squares slope of log(values) over log(pixels)."""
    return round(float(np.polyfit(np.log(pixels), np.log(np.maximum(values, 1e-9)), 1)[0]), 3)


def scaling(sizes: list[int], repeats: int) -> dict:
    """The scaling table: one fresh process per size (so each size's memory peak is its own)."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    rows = []
    with context.Pool(1, maxtasksperchild=1) as pool:
        for size in sizes:
            rows.append(pool.apply(scaling_size, (size, repeats)))
            r = rows[-1]
            alone = pool.apply(peak_alone, (size, r["ours"]["paths"], repeats))
            r["ours"].update(peak_bytes_alone=alone, peak_bytes_per_pixel_alone=round(alone / r["pixels"], 1))
            after = pool.apply(peak_alone, (size, r["ours"]["paths"], repeats, r["vtracer"]["peak_bytes"]))
            r["ours"].update(peak_bytes_after_block=after, peak_bytes_per_pixel_after_block=round(after / r["pixels"], 1))
            print(f"{size} px: ours {r['ours']['seconds_median']} s {r['ours']['peak_bytes_per_pixel']} B/px "
                  f"({r['ours']['peak_bytes_per_pixel_alone']} alone, {r['ours']['peak_bytes_per_pixel_after_block']} "
                  "after a block of vtracer's peak) "
                  f"{r['ours']['psnr_db']} dB, vtracer {r['vtracer']['seconds_median']} s "
                  f"{r['vtracer']['peak_bytes_per_pixel']} B/px {r['vtracer']['psnr_db']} dB, "
                  f"{r['vtracer']['paths']} paths", file=sys.stderr, flush=True)
    pixels = [r["pixels"] for r in rows]
    summary = {}
    for name in ("ours", "vtracer"):
        summary[f"{name}_time_exponent"] = _exponent(pixels, [r[name]["seconds_median"] for r in rows])
        summary[f"{name}_cpu_time_exponent"] = _exponent(pixels, [r[name]["cpu_seconds_median"] for r in rows])
        summary[f"{name}_memory_exponent"] = _exponent(pixels, [r[name]["peak_bytes"] for r in rows])
    summary["goals"] = {
        "time_at_most_vtracer_every_size": all(r["time_ratio"] <= 1 for r in rows),
        "psnr_at_least_vtracer_every_size": all(r["psnr_gain_db"] >= 0 for r in rows),
        "paths_at_most_vtracer_every_size": all(r["ours"]["paths"] <= r["vtracer"]["paths"] for r in rows),
        "time_exponent_at_most_1.1": summary["ours_time_exponent"] <= 1.1,
        "memory_at_most_40_bytes_per_pixel": all(r["ours"]["peak_bytes_per_pixel"] <= 40 for r in rows),
        "memory_alone_at_most_40_bytes_per_pixel": all(r["ours"]["peak_bytes_per_pixel_alone"] <= 40 for r in rows),
        "memory_after_block_at_most_40_bytes_per_pixel": all(r["ours"]["peak_bytes_per_pixel_after_block"] <= 40
                                                             for r in rows)}
    return {"sizes": rows, "summary": summary}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pictures", default=",".join(PICTURES))
    parser.add_argument("--budgets", default=",".join(map(str, BUDGETS)))
    parser.add_argument("--size", type=int, default=SIZE)
    parser.add_argument("--png", default=None, help="draw the curves into this PNG file")
    parser.add_argument("--quick", action="store_true", help="a smaller vtracer grid")
    parser.add_argument("--scaling", default=None, metavar="SIZES",
                        help="instead: time and memory per picture size, e.g. 256,512,1024,2048,4096")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per size with --scaling")
    args = parser.parse_args()
    if args.scaling:
        sizes = [int(size) for size in args.scaling.split(",")]
        where = machine()  # the load average as the run starts; the end's is added after it
        table = scaling(sizes, args.repeats)
        where["load_average_1_5_15_end"] = [round(v, 2) for v in os.getloadavg()]
        print(json.dumps({"settings": {"scaling_sizes": sizes, "repeats": args.repeats,
                                       "measured": "input to a written SVG file (clipvg: save_svg; vtracer: its "
                                                   "text through the same atomic write)"}, "machine": where,
                          "scaling": table}, indent=1))
        return
    grid = QUICK if args.quick else dict(speckle=SPECKLE, difference=DIFFERENCE, precision=PRECISION)
    budgets = tuple(int(b) for b in args.budgets.split(","))
    where = machine()  # the load average as the run starts
    results = {}
    for name in args.pictures.split(","):
        results[name] = bench_picture(name, args.size, budgets, grid)
        print(f"{name}: " + ", ".join(f"{r['budget']}: {r['ours']['psnr_db']:.2f} vs {r['vtracer']['psnr_db']:.2f} dB "
                                       f"({r['ours']['paths']}/{r['vtracer']['paths']} paths, x{r['time_ratio']})"
                                       for r in results[name]["budgets"]), file=sys.stderr, flush=True)
    if args.png:
        draw(results, Path(args.png))
    where["load_average_1_5_15_end"] = [round(v, 2) for v in os.getloadavg()]
    print(json.dumps({"settings": {"size": args.size, "budgets": list(budgets), "vtracer_grid": grid}, "machine": where,
                      "pictures": results, "summary": summarise(results)}, indent=1))


if __name__ == "__main__":
    main()
