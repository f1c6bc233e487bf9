"""Real-world SVG corpus benchmark: clipvg.load_svg + clipvg.render against resvg.

Per corpus (Debian icon themes and illustrations, installed by scripts/test.sh): a fixed, seeded sample
of files (default 300 each) is loaded and rendered at 128 px on the long side, on white. Printed per
corpus: files, errors (exceptions and time-outs, by type), skipped-element warnings by name, median
PSNR against resvg at the same size and the share of files >= 40 dB, the same against resvg rendered at
4x and box-filtered down (supersampled: the exact-area coverage clipvg computes), median and p95
render time, and the slowest files. For the files under 40 dB against the 4x reference it also counts
how many reach 40 dB against resvg's own 1x picture, which tells conflation (shapes sharing an edge blend
in its pixels) from other differences.

clipvg's picture is what ``clipvg render`` writes: ``render_rgba8`` on white at ``EXPORT_SAMPLES`` samples
per pixel along each axis (clipvg.samples); the headline figures are that picture's. The same shares and
times are reported for every count in ``--samples`` (default 1 2 3 4; 1 is the exact-area analytic
render that optimisation uses), so a note can state both.

A 4x reference is itself coarse: 16 samples per pixel quantise an edge pixel's coverage in steps of
1/16, so on drawings with many edges resvg-at-4x is only 37-40 dB from resvg-at-16x. The run therefore
also compares with resvg at 16x ("fine"), and states for each file how close resvg's own 1x picture is
to that fine reference: a file where clipvg is >= 40 dB from the fine reference, or at least as close to
it as resvg itself, is drawn "as accurately as resvg". What remains below that is drawn differently
(clipvg composites each shape's exact coverage, so shapes sharing an edge blend there as in browsers,
where a supersampled reference has no such seam; text; real defects). Each file below 40 dB from the
fine reference is classed by measurement (see ``classify``): "seam" or "coverage" when clipvg rendered
at its most samples (8 x 8) itself reaches 40 dB (seam: resvg's 1x picture shares the residual), else "text"
or "other"; files at or above 40 dB are "exact". (At 4 x 4 samples a drawing made of shapes that share
most of their edges keeps part of its seams: openclipart's camicia_in_seta_architet_01, black ink shapes cut
to the blue fills' edges, is 30.5 / 37.8 / 47.1 dB from the fine reference at 2 / 4 / 8 samples per axis.)

The supersampled references are drawn on a canvas of whole pixels 2 px wider and taller than resvg's 1x
canvas, at the same scale (``reference_canvas``). Per corpus, ``references`` states how close resvg's 1x
picture is to its 4x and 16x renders and the 4x render to the 16x one: the last is the share of files on
which even a perfect picture reaches 40 dB against the 4x reference.

resvg-py is given fontconfig's serif/sans-serif/monospace faces as its generic families, the faces clipvg
falls back to, so a font missing on the machine is drawn in the same face by both.

    python benchmarks/svg_corpus.py [--per-corpus 300] [--seed 0] [--corpora papirus breeze ...]
                                    [--json out.json] [--worst DIR] [--files a.svg b.svg ...]

Files are rendered in worker processes (one torch thread each) with a per-file time-out, so one bad
file is counted as an error and never stalls the run.
"""
from __future__ import annotations

import argparse
import functools
import io
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
import traceback
import warnings
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from json_result import git_commit

SIZE = 128
SAMPLES = (1, 2, 3, 4)  # samples per axis measured beside the default
SUPERSAMPLE = 4
FINE = 16
TIMEOUT_S = 60
CORPORA = {
    # name: (root, glob, Debian package)
    "papirus": ("/usr/share/icons/Papirus", "**/*.svg", "papirus-icon-theme"),
    "breeze": ("/usr/share/icons/breeze", "**/*.svg", "breeze-icon-theme"),
    "elementary": ("/usr/share/icons/elementary-xfce", "**/*.svg", "elementary-xfce-icon-theme"),
    "tango": ("/usr/share/icons/Tango", "**/*.svg", "tango-icon-theme"),
    "openclipart": ("/usr/share/openclipart", "**/*.svg", "openclipart-svg"),
}


def corpus_files(root: str, pattern: str) -> list[Path]:
    """Regular files (no symlinks; icon themes link many names to one file), sorted."""
    base = Path(root)
    if not base.is_dir():
        return []
    return sorted(p for p in base.glob(pattern) if p.is_file() and not p.is_symlink())


def sample(files: list[Path], count: int, seed: int) -> list[Path]:
    if len(files) <= count:
        return files
    return sorted(random.Random(seed).sample(files, count))


def _on_white(png: bytes) -> np.ndarray:
    from PIL import Image
    rgba = np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"), dtype=np.float64) / 255
    return rgba[..., :3] * rgba[..., 3:] + (1 - rgba[..., 3:])


def _fit(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Crop or pad (white) ``image`` to height x width (renderers round sizes differently)."""
    out = np.ones((height, width, 3))
    h, w = min(height, image.shape[0]), min(width, image.shape[1])
    out[:h, :w] = image[:h, :w]
    return out


_UNITS = {b"pt": 4 / 3, b"pc": 16.0, b"mm": 96 / 25.4, b"cm": 96 / 2.54, b"in": 96.0}
_ABSOLUTE = re.compile(rb"(?<![\w.#-])([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(pt|pc|mm|cm|in)\b")
_BARE_SPACE = re.compile(rb"(?<=\s)space=(\"[^\"]*\"|'[^']*')")


def reference_source(path: str) -> bytes:
    """The file as browsers read it, written so that resvg-py reads it the same, for the reference:
    - lengths in absolute units (pt, pc, mm, cm, in) written in px: resvg-py 0.5 rejects them (it draws no
      stroke for stroke-width="1pt" and no image for width="350pt"), while browsers, Inkscape and clipvg
      convert them at 96 dpi;
    - a ``space`` attribute without the ``xml:`` prefix (old Inkscape files write ``space="preserve"`` on
      text) renamed: resvg takes it for ``xml:space`` and keeps the markup's indentation as spaces before
      the text, which browsers and clipvg drop (openclipart's otto_needs_you: words shifted 1.7 em)."""
    data = _BARE_SPACE.sub(rb"data-space=\1", Path(path).read_bytes())
    return _ABSOLUTE.sub(lambda m: repr(float(m.group(1)) * _UNITS[m.group(2)]).encode(), data)


_ROOT = re.compile(rb"<svg\b[^>]*>")
_ROOT_ATTRIBUTE = re.compile(rb"""\s(width|height|viewBox)\s*=\s*(["'])([^"']*)\2""")
_UNALIGNED = re.compile(rb"""preserveAspectRatio\s*=\s*["']\s*none""")
_PLAIN_LENGTH = re.compile(rb"\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(?:px)?\s*")


def reference_canvas(source: bytes, zoom: float, width: int, height: int) -> tuple[bytes, float]:
    """``source`` and the zoom that draws it at ``zoom`` x its size, on a canvas of (``width`` + 2) x
    (``height`` + 2) px at 1x (``width`` x ``height``: resvg's 1x canvas), for the supersampled references.

    resvg-py draws a file ``w`` user units wide at ``zoom`` on round(round(w) x zoom) px and scales the
    drawing to fill them, so a size that is not a whole number of px at that zoom is drawn cut or slightly
    scaled: openclipart's formulario_architetto_fr_01, 136.314 units wide, got a 2043 px fine reference
    where 2048 are needed and its right column came back half white (38.2 dB; 53.5 dB here). The root is
    rewritten to whole px (its width and height) with a viewBox that keeps the drawing's scale and place,
    and drawn at the supersampling factor alone. Returned as it is, with ``zoom``, when the root's width or
    height is not a plain number (nor missing, with a viewBox), or when a viewBox scaled unevenly is aligned
    (the alignment would move)."""
    root = _ROOT.search(source)
    if root is None:
        return source, zoom
    found = {m.group(1): m.group(3) for m in _ROOT_ATTRIBUTE.finditer(root.group())}
    try:
        box = [float(v) for v in re.split(rb"[\s,]+", found[b"viewBox"].strip())] if b"viewBox" in found else None
    except ValueError:
        return source, zoom
    if box is not None and (len(box) != 4 or min(box[2:]) <= 0):
        return source, zoom
    sizes = []
    for name, index in ((b"width", 2), (b"height", 3)):
        number = _PLAIN_LENGTH.fullmatch(found[name]) if name in found else None
        if number is None and (name in found or box is None):
            return source, zoom
        sizes.append(float(number.group(1)) if number else box[index])
    box = box or [0.0, 0.0, *sizes]
    scale_x, scale_y = sizes[0] / box[2], sizes[1] / box[3]  # root px per user unit
    if abs(scale_x - scale_y) > 1e-9 * scale_x and not _UNALIGNED.search(root.group()):
        return source, zoom
    canvas = (width + 2, height + 2)
    view = (box[0], box[1], canvas[0] / (zoom * scale_x), canvas[1] / (zoom * scale_y))
    tag = _ROOT_ATTRIBUTE.sub(b"", root.group())
    attributes = f' width="{canvas[0]}" height="{canvas[1]}" viewBox="{" ".join(map(repr, view))}"'.encode()
    return source[:root.start()] + tag[:4] + attributes + tag[4:] + source[root.end():], 1.0


@functools.lru_cache(maxsize=1)
def reference_fonts() -> dict[str, str]:
    """resvg-py's generic families set to fontconfig's choices, which clipvg uses: a family missing on the
    machine then falls back to the same face in both (clipvg draws it in "serif", as browsers do; resvg-py's
    default "Times New Roman" is rarely installed and it would draw no text)."""
    if shutil.which("fc-match") is None:
        return {}
    chosen = {}
    for keyword, generic in (("serif_family", "serif"), ("sans_serif_family", "sans-serif"),
                             ("monospace_family", "monospace"), ("cursive_family", "cursive"),
                             ("fantasy_family", "fantasy")):
        family = subprocess.run(["fc-match", "-f", "%{family[0]}", generic], capture_output=True, text=True,
                                timeout=20).stdout.strip()
        if family:
            chosen[keyword] = family
    if "serif_family" in chosen:
        chosen["font_family"] = chosen["serif_family"]
    return chosen


def _box_down(image: np.ndarray, height: int, width: int, factor: int) -> np.ndarray:
    """(height * factor, width * factor, 3) picture (cropped or padded first) -> (height, width, 3) box mean."""
    return _fit(image, height * factor, width * factor).reshape(height, factor, width, factor, 3).mean((1, 3))


def as_accurate_as_resvg(result: dict) -> bool:
    """clipvg within 40 dB of the fine reference, or at least as close to it as resvg's own 1x picture."""
    return result["psnr_fine"] >= min(40.0, result["resvg_psnr_fine"])


_TEXT = re.compile(rb"<(?:\w+:)?text[\s>]")


def classify(result: dict, source: bytes) -> str:
    """Why a file is (not) within 40 dB of the fine reference, from measurements only:

    - "exact": it is.
    - "seam" and "coverage": it is not at 1x, but is when clipvg itself renders at ``MAX_SAMPLES`` samples
      per axis (clipvg.samples). Geometry and paint are the same at both sizes; what changes is how each pixel's exact-area
      coverage is formed and composited, so the 1x residual lies in edge pixels:
      - "seam" when resvg's own 1x picture shares it (clipvg within 40 dB of resvg at 1x, or at least as
        close to the fine reference): shapes sharing an edge blend there, as browsers and resvg at 1x
        draw them (a supersampled reference has no such seam);
      - "coverage" when resvg's 1x picture does not: a seam whose depth differs because resvg at 1x snaps
        edges to quarter pixels (a shared edge at x = .33 blends with coverage 1/3 here, 1/4 there).
    - "text": neither, and the file draws text (glyph outlines and fallbacks differ between resvg-py and clipvg).
    - "other": neither; look at the strip (geometry, paint or effects drawn differently)."""
    if result["psnr_fine"] >= 40:
        return "exact"
    if result["psnr_fine_clipvg_seam"] >= 40:
        return "seam" if result["psnr"] >= 40 or as_accurate_as_resvg(result) else "coverage"
    return "text" if _TEXT.search(source) else "other"


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a - b) ** 2))
    return 99.0 if mse < 1e-10 else 10 * np.log10(1 / mse)


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout()


def _drawn(scene, width: int, height: int, samples: int) -> tuple[np.ndarray, float]:
    """What ``clipvg render --samples N`` writes for ``scene`` at width x height on white, as (H, W, 3) float in
    [0, 1], and the seconds it took."""
    from clipvg.render.api import render_rgba8
    start = time.perf_counter()
    image = render_rgba8(scene, width, height, background=(1, 1, 1), samples=samples)
    return image[..., :3].astype(np.float64) / 255, time.perf_counter() - start


def measure(path: str, worst_dir: str | None = None, samples: tuple[int, ...] = SAMPLES) -> dict:
    """Load and render one file (at the default and every count in ``samples``); compare with resvg. Runs in
    a worker process."""
    import resvg_py
    import torch
    import clipvg
    from clipvg.samples import EXPORT_SAMPLES, MAX_SAMPLES

    torch.set_num_threads(1)
    result: dict = {"file": path, "warnings": {}, "error": None}
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(TIMEOUT_S)
    try:
        start = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            scene = clipvg.load_svg(path)
        result["load_s"] = time.perf_counter() - start
        for w in caught:
            if issubclass(w.category, clipvg.svg.UnsupportedSVGWarning):
                for name, count in skipped_names(w.message).items():
                    result["warnings"][name] = result["warnings"].get(name, 0) + count
        zoom = SIZE / max(scene.width, scene.height)
        source = reference_source(path)
        try:
            fonts = reference_fonts()
            reference = _on_white(bytes(resvg_py.svg_to_bytes(svg_string=source.decode("utf-8", "replace"),
                                                              zoom=zoom, **fonts)))
            height, width = reference.shape[:2]
            source, base = reference_canvas(source, zoom, width, height)
            supersampled, fine = (
                _box_down(_on_white(bytes(resvg_py.svg_to_bytes(svg_string=source.decode("utf-8", "replace"),
                                                                zoom=base * k, **fonts))), height, width, k)
                for k in (SUPERSAMPLE, FINE))
        except Exception as error:
            result["reference_error"] = f"{type(error).__name__}: {error}"
            return result
        # resvg rounds the canvas to whole pixels and keeps the scale: draw the same canvas at the same scale
        scene.width, scene.height = width / zoom, height / zoom
        result["paths"] = scene.num_paths
        result["samples"] = EXPORT_SAMPLES
        result["by_samples"] = {}
        for count in sorted({EXPORT_SAMPLES, SUPERSAMPLE, *samples}):
            drawn, seconds = _drawn(scene, width, height, count)
            if count == EXPORT_SAMPLES:
                image = drawn
            result["by_samples"][str(count)] = {"psnr": psnr(drawn, reference), "psnr_ss": psnr(drawn, supersampled),
                                                "psnr_fine": psnr(drawn, fine), "render_s": seconds}
        result.update(result["by_samples"][str(EXPORT_SAMPLES)])  # the headline: what clipvg render draws
        result["resvg_psnr_fine"] = psnr(reference, fine)
        result["resvg_psnr_ss"] = psnr(reference, supersampled)
        result["reference_psnr_fine"] = psnr(supersampled, fine)  # the 4x reference's own error
        # clipvg itself at SUPERSAMPLE x SUPERSAMPLE samples, and where that is under 40 dB at MAX_SAMPLES, to
        # tell seams from other causes
        result["psnr_fine_clipvg_ss"] = result["by_samples"][str(SUPERSAMPLE)]["psnr_fine"]
        result["psnr_fine_clipvg_seam"] = (result["psnr_fine_clipvg_ss"] if result["psnr_fine"] >= 40
                                           or result["psnr_fine_clipvg_ss"] >= 40
                                           else psnr(_drawn(scene, width, height, MAX_SAMPLES)[0], fine))
        result["class"] = classify(result, Path(path).read_bytes())
        if worst_dir and (result["class"] not in ("exact", "seam") or not as_accurate_as_resvg(result)):
            from PIL import Image
            name = re.sub(r"[^\w.-]", "_", path.strip("/"))
            strip = np.concatenate([image, fine, np.abs(image - fine)], 1)
            Image.fromarray((strip * 255).round().astype(np.uint8)).save(Path(worst_dir) / f"{result['class']}_{name}.png")
    except _Timeout:
        result["error"] = f"timeout after {TIMEOUT_S} s"
    except Exception as error:  # counted, with the last frame, so the report names the cause
        frame = traceback.extract_tb(error.__traceback__)[-1]
        result["error"] = f"{type(error).__name__}: {str(error)[:120]} ({Path(frame.filename).name}:{frame.lineno})"
    finally:
        signal.alarm(0)
    return result


def skipped_names(message) -> Counter:
    """Counts by name from an UnsupportedSVGWarning (``.counts`` when it has one, else its text)."""
    counts = getattr(message, "counts", None)
    if counts:
        return Counter(counts)
    text = str(message)
    found = Counter({name.strip(): int(n) for n, name in re.findall(r"(\d+) x ([^,]+)", text.split(": ", 1)[-1])})
    return found or Counter({text.split(": ", 1)[-1][:60]: 1})


def summarize(name: str, results: list[dict], slowest: int = 5) -> dict:
    unmeasured = [r for r in results if r.get("reference_error")]
    results = [r for r in results if not r.get("reference_error")]
    ok = [r for r in results if r["error"] is None]
    errors = Counter(r["error"] for r in results if r["error"])
    warned = Counter()
    files_warned = Counter()
    for r in results:
        for key, count in r["warnings"].items():
            warned[key] += count
            files_warned[key] += 1
    values = [r["psnr"] for r in ok]
    values_ss = [r["psnr_ss"] for r in ok]
    values_fine = [r["psnr_fine"] for r in ok]
    times = sorted(r["render_s"] for r in ok)
    n = len(results)

    def share(vs: list[float]) -> float:
        return sum(v >= 40 for v in vs) / n if n else 0.0

    return {
        "corpus": name, "files": n, "resvg_failed": len(unmeasured), "errors": sum(errors.values()), "error_kinds": dict(errors.most_common()),
        "skipped": {k: {"elements": warned[k], "files": files_warned[k]} for k, _ in files_warned.most_common()},
        "median_psnr": statistics.median(values) if values else None, "share_40": share(values),
        "median_psnr_ss": statistics.median(values_ss) if values_ss else None, "share_40_ss": share(values_ss),
        "below_30_ss": sum(v < 30 for v in values_ss) / n if n else 0.0,
        "below_40_ss": below_40_ss(ok),
        "median_psnr_fine": statistics.median(values_fine) if values_fine else None, "share_40_fine": share(values_fine),
        "share_as_accurate_as_resvg": sum(map(as_accurate_as_resvg, ok)) / n if n else 0.0,
        "classes": dict(Counter(r["class"] for r in ok).most_common()),
        "median_render_ms": 1000 * statistics.median(times) if times else None,
        "p95_render_ms": 1000 * times[int(0.95 * (len(times) - 1))] if times else None,
        "samples": ok[0]["samples"] if ok else None, "by_samples": by_samples(ok, n), "references": references(ok, n),
        "slowest": [(r["file"], round(1000 * (r["load_s"] + r["render_s"]), 1))
                    for r in sorted(ok, key=lambda r: -(r["load_s"] + r["render_s"]))[:slowest]],
        "worst": [(r["file"], round(r["psnr_fine"], 1), round(r["resvg_psnr_fine"], 1))
                  for r in sorted(ok, key=lambda r: r["psnr_fine"] - min(40.0, r["resvg_psnr_fine"]))[:slowest]],
    }


def by_samples(ok: list[dict], files: int) -> dict:
    """Per measured count of samples per axis: the shares of ``files`` at >= 40 dB against resvg at 1x, the
    4x and the fine reference, the median PSNR against 4x and the median and p95 render time."""
    counts = sorted({int(k) for r in ok for k in r["by_samples"]})
    summary = {}
    for count in counts:
        rows = [r["by_samples"][str(count)] for r in ok if str(count) in r["by_samples"]]
        times = sorted(row["render_s"] for row in rows)
        summary[str(count)] = {
            **{f"share_40{key[4:]}": sum(row[key] >= 40 for row in rows) / files for key in ("psnr", "psnr_ss", "psnr_fine")},
            "median_psnr_ss": statistics.median(row["psnr_ss"] for row in rows),
            "median_render_ms": 1000 * statistics.median(times), "p95_render_ms": 1000 * times[int(0.95 * (len(times) - 1))]}
    return summary


def references(ok: list[dict], files: int) -> dict:
    """How close the references are to each other: resvg's 1x picture to its 4x and 16x renders and the 4x
    render to the 16x one (median PSNR and the share of ``files`` >= 40 dB). The last share is what a 4x
    reference can certify: a picture equal to the 16x render reaches 40 dB against 4x on those files only."""
    pairs = {"resvg_1x_vs_4x": "resvg_psnr_ss", "resvg_1x_vs_16x": "resvg_psnr_fine", "resvg_4x_vs_16x": "reference_psnr_fine"}
    return {name: {"median_psnr": statistics.median(r[key] for r in ok) if ok else None,
                   "share_40": sum(r[key] >= 40 for r in ok) / files if files else 0.0} for name, key in pairs.items()}


def below_40_ss(ok: list[dict]) -> dict:
    """Counts among the files under 40 dB against the 4x reference: how many reach 40 dB against resvg's
    own 1x picture instead, how many resvg's 1x picture misses too, and how many clipvg draws at least as
    close to it as resvg's 1x picture."""
    failing = [r for r in ok if r["psnr_ss"] < 40]

    def count(test) -> int:  # a plain int: the PSNRs are numpy floats, whose comparisons sum to numpy ints
        return int(sum(bool(test(r)) for r in failing))

    return {"files": len(failing), "pass_vs_resvg_1x": count(lambda r: r["psnr"] >= 40),
            "resvg_1x_also_below_40": count(lambda r: r["resvg_psnr_ss"] < 40),
            "clipvg_at_least_resvg_1x": count(lambda r: r["psnr_ss"] >= r["resvg_psnr_ss"])}


def print_summary(s: dict) -> None:
    def db(v):
        return "-" if v is None else f"{v:.1f} dB"

    print(f"\n== {s['corpus']}: {s['files']} files, {s['errors']} errors, clipvg at {s['samples']} x {s['samples']} "
          "samples per pixel (clipvg render's default)"
          + (f" ({s['resvg_failed']} more left out: resvg cannot render them)" if s["resvg_failed"] else ""))
    for kind, count in s["error_kinds"].items():
        print(f"   error x{count}: {kind}")
    print(f"   PSNR vs resvg @{SIZE}px:        median {db(s['median_psnr'])}, >= 40 dB: {100 * s['share_40']:.1f} %")
    print(f"   PSNR vs resvg {SUPERSAMPLE}x supersampled: median {db(s['median_psnr_ss'])}, "
          f">= 40 dB: {100 * s['share_40_ss']:.1f} %, < 30 dB: {100 * s['below_30_ss']:.1f} %")
    failing = s["below_40_ss"]
    print(f"   of the {failing['files']} under 40 dB vs {SUPERSAMPLE}x: {failing['pass_vs_resvg_1x']} reach it vs resvg "
          f"@1x; resvg @1x is under 40 dB vs "
          f"{SUPERSAMPLE}x on {failing['resvg_1x_also_below_40']}, no closer than clipvg on "
          f"{failing['clipvg_at_least_resvg_1x']}")
    print(f"   PSNR vs resvg {FINE}x supersampled: median {db(s['median_psnr_fine'])}, "
          f">= 40 dB: {100 * s['share_40_fine']:.1f} %, as accurate as resvg: {100 * s['share_as_accurate_as_resvg']:.1f} %")
    print("   classes: " + ", ".join(f"{k} {v} ({100 * v / s['files']:.1f} %)" for k, v in s["classes"].items()))
    if s["median_render_ms"] is not None:
        print(f"   render @{SIZE}px: median {s['median_render_ms']:.1f} ms, p95 {s['p95_render_ms']:.1f} ms")
    for count, row in s["by_samples"].items():
        print(f"   {count} x {count} samples: >= 40 dB vs 1x {100 * row['share_40']:.1f} %, vs {SUPERSAMPLE}x "
              f"{100 * row['share_40_ss']:.1f} %, vs {FINE}x {100 * row['share_40_fine']:.1f} %; render median "
              f"{row['median_render_ms']:.1f} ms, p95 {row['p95_render_ms']:.1f} ms")
    print("   references (median, >= 40 dB): " + ", ".join(f"{name} {row['median_psnr']:.1f} dB {100 * row['share_40']:.1f} %"
                                                          for name, row in s["references"].items() if row["median_psnr"]))
    if s["skipped"]:
        print("   skipped (elements / files): " + ", ".join(f"{k} {v['elements']}/{v['files']}" for k, v in s["skipped"].items()))
    print("   slowest (load+render ms): " + ", ".join(f"{Path(f).name} {t}" for f, t in s["slowest"]))
    print(f"   worst (clipvg / resvg dB vs {FINE}x): " + ", ".join(f"{f} {v}/{r}" for f, v, r in s["worst"]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--per-corpus", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--corpora", nargs="*", default=list(CORPORA), choices=list(CORPORA))
    parser.add_argument("--files", nargs="*", help="measure these files instead of the corpora")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--samples", type=int, nargs="*", default=list(SAMPLES),
                        help="samples per axis to measure beside clipvg render's default (clipvg.samples.EXPORT_SAMPLES)")
    parser.add_argument("--json", help="write the per-corpus summaries and per-file results here")
    parser.add_argument("--worst", help="write clipvg | fine resvg | difference strips of files drawn less "
                        "accurately than resvg here")
    args = parser.parse_args(argv)
    if args.worst:
        Path(args.worst).mkdir(parents=True, exist_ok=True)
    jobs: dict[str, list[str]] = {}
    if args.files:
        jobs["files"] = [str(Path(f)) for f in args.files]
    else:
        for name in args.corpora:
            root, pattern, package = CORPORA[name]
            files = corpus_files(root, pattern)
            if not files:
                print(f"{name}: {root} is missing (apt-get install {package}); skipped", file=sys.stderr)
                continue
            jobs[name] = [str(p) for p in sample(files, args.per_corpus, args.seed)]
    summaries, everything = [], {}
    load_start = os.getloadavg()
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        for name, files in jobs.items():
            start = time.perf_counter()
            results = list(pool.map(measure, files, [args.worst] * len(files), [tuple(args.samples)] * len(files),
                                    chunksize=4))
            summary = summarize(name, results)
            summary["wall_s"] = round(time.perf_counter() - start, 1)
            print_summary(summary)
            summaries.append(summary)
            everything[name] = results
    if args.json:
        meta = {"command": " ".join(["python", "benchmarks/svg_corpus.py", *(argv if argv is not None else sys.argv[1:])]),
                "commit": git_commit(mark_dirty=True), "cpus": os.cpu_count(), "load_average_start": load_start,
                "load_average_end": os.getloadavg()}
        Path(args.json).write_text(json.dumps({"meta": meta, "summaries": summaries, "results": everything}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
