"""SVG conformance benchmark: resvg's test suite drawn by clipvg, with cairosvg and Chromium beside it.

Every ``*.svg`` under ``DIR/tests`` (or under ``DIR`` itself when it has no ``tests/`` folder) that has
a reference ``*.png`` beside it (rendered by resvg) is loaded with ``clipvg.load_svg`` and rendered
with ``clipvg.render`` at the reference PNG's size (``--samples`` per axis: by default those of ``clipvg
render``, ``clipvg.samples.EXPORT_SAMPLES``); cairosvg renders the same file at that size, and
so does the system Chromium (``chromium_draw.py``: the SVG opened as a page through Playwright, one
browser per worker process).

Pixel rule: both images are taken as premultiplied RGBA in 8 bits (each PNG's straight colour times
its alpha, rounded; clipvg's float output is treated the same way), so a transparent pixel compares
equal whatever colour it stores and a missing white shape counts as much as a missing black one. A
pixel differs when any of its four channels differs by more than 16/255; a file passes when fewer
than 1 % of its pixels differ. Different image sizes fail.

The reference is resvg's judgement, and in places it disagrees with browsers (a colour syntax resvg
rejects, CSS units it leaves out, tiny-skia's anti-aliasing of thin lines on fractional pixels). So
clipvg is also compared with Chromium under the same rule: a file clipvg fails but draws as Chromium
does is counted apart ("clipvg fails the reference, matches chromium"), which separates clipvg's bugs
from the reference's quirks.

Reported: per-folder (``area/folder``) and total pass counts per renderer, with and without
``text/``; clipvg's failures that match Chromium; files that raised (exception type + message,
counted); failing files that emitted no ``UnsupportedSVGWarning`` ("silently wrong"), also without
those that match Chromium. Each file runs in a worker process under a per-file time-out (SIGALRM for
clipvg and cairosvg, the browser's own time-outs for Chromium; a time-out counts as an error).

    python benchmarks/svg_conformance.py --suite /path/to/resvg/crates/resvg/tests [--fonts DIR]
        [--only filters/feBlend ...] [--no-cairosvg] [--no-chromium] [--samples N] [--workers 2] [--timeout 60]
        [--json out.json] [--chart out.png] [--failures]

``--fonts DIR`` writes a temporary fonts.conf that makes fontconfig see only DIR's fonts, with the
generic families mapped as resvg's harness does (serif: Noto Serif, sans-serif: Noto Sans, cursive:
Yellowtail, fantasy: Sedgwick Ave Display, monospace: Noto Mono) and glyphs unhinted as resvg draws
them, and sets FONTCONFIG_FILE before anything loads fontconfig (clipvg's text layout finds fonts with
``fc-match``; Chromium reads fonts and hinting from fontconfig).
"""
from __future__ import annotations

import argparse
import atexit
import io
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor, as_completed
from functools import partial
from pathlib import Path

import numpy as np

from chromium_draw import CHROMIUM, ChromiumDrawer  # benchmarks/ (the script's folder)
from clipvg.samples import EXPORT_SAMPLES

THRESHOLD = 16  # of 255, per channel of premultiplied RGBA
MAX_DIFFERING = 0.01  # share of pixels allowed to differ
GENERIC_FAMILIES = {"serif": "Noto Serif", "sans-serif": "Noto Sans", "cursive": "Yellowtail",
                    "fantasy": "Sedgwick Ave Display", "monospace": "Noto Mono"}
RENDERERS = ("clipvg", "cairosvg", "chromium")
# glyphs as resvg draws them: unhinted, greyscale antialiasing (Chromium reads these from fontconfig)
UNHINTED = ("<match target=\"font\"><edit name=\"hinting\" mode=\"assign\"><bool>false</bool></edit>"
            "<edit name=\"hintstyle\" mode=\"assign\"><const>hintnone</const></edit>"
            "<edit name=\"rgba\" mode=\"assign\"><const>none</const></edit></match>")


def suite_files(suite: Path, only: list[str]) -> tuple[Path, list[str]]:
    """The folder the relative names refer to, and the sorted relative names (without ``.svg``) of
    the SVG files that have a reference PNG, kept when they start with one of ``only`` (if any)."""
    base = suite / "tests" if (suite / "tests").is_dir() else suite
    names = sorted(p.relative_to(base).with_suffix("").as_posix() for p in base.rglob("*.svg")
                   if p.with_suffix(".png").is_file())
    if only:
        names = [n for n in names if any(n.startswith(prefix.rstrip("/")) for prefix in only)]
    return base, names


def folder_of(name: str) -> str:
    """``'shapes/rect/em-values'`` -> ``'shapes/rect'``."""
    parts = name.split("/")
    return "/".join(parts[:2]) if len(parts) > 2 else parts[0]


def fonts_conf(fonts: Path, directory: Path) -> Path:
    """Write a fonts.conf that sees only ``fonts`` with resvg's generic-family mapping; its path."""
    aliases = "".join(f"<alias binding=\"same\"><family>{generic}</family><prefer><family>{family}</family>"
                      f"</prefer></alias>" for generic, family in GENERIC_FAMILIES.items())
    path = directory / "fonts.conf"
    path.write_text("<?xml version=\"1.0\"?>\n<!DOCTYPE fontconfig SYSTEM \"fonts.dtd\">\n<fontconfig>"
                    f"<dir>{fonts.resolve()}</dir><cachedir>{directory / 'cache'}</cachedir>{aliases}{UNHINTED}"
                    "</fontconfig>\n")
    return path


def premultiplied(rgba: np.ndarray) -> np.ndarray:
    """(H, W, 4) straight RGBA in [0, 1] -> (H, W, 4) premultiplied RGBA as int 0..255."""
    rgba = np.clip(np.asarray(rgba, dtype=np.float64), 0.0, 1.0)
    out = np.concatenate([rgba[..., :3] * rgba[..., 3:], rgba[..., 3:]], axis=-1)
    return np.round(out * 255).astype(np.int16)


def png_rgba(data: bytes) -> np.ndarray:
    """(H, W, 4) straight RGBA float in [0, 1] from PNG bytes."""
    from PIL import Image
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGBA"), dtype=np.float64) / 255


def differing(image: np.ndarray, reference: np.ndarray) -> float:
    """Share of pixels where any premultiplied channel differs by more than THRESHOLD (1.0 when the
    sizes differ)."""
    if image.shape != reference.shape:
        return 1.0
    return float((np.abs(image - reference) > THRESHOLD).any(axis=-1).mean())


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout()


_CHROMIUM: ChromiumDrawer | None = None  # this worker's browser, started on its first drawing
_SAMPLES = 1  # this worker's clipvg samples per axis


def _worker_init(timeout: int, samples: int) -> None:
    global _CHROMIUM, _SAMPLES
    import torch
    torch.set_num_threads(1)
    _SAMPLES = samples
    signal.signal(signal.SIGALRM, _alarm)
    _CHROMIUM = ChromiumDrawer(timeout=timeout)
    atexit.register(_CHROMIUM.close)


def _clipvg_image(path: Path, width: int, height: int, record: dict) -> np.ndarray:
    import torch
    from clipvg.render import render
    from clipvg.svg import UnsupportedSVGWarning, load_svg

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scene = load_svg(path)
        with torch.no_grad():
            image = render(scene, width, height, samples=_SAMPLES).double().numpy()
    notes = [str(w.message)[:300] for w in caught if issubclass(w.category, UnsupportedSVGWarning)]
    record["warned"] = bool(notes)
    record["warnings"] = notes
    return image


def _cairosvg_image(path: Path, width: int, height: int, record: dict) -> np.ndarray:
    import cairosvg
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return png_rgba(cairosvg.svg2png(url=str(path), output_width=width, output_height=height))


def _chromium_image(path: Path, width: int, height: int, record: dict) -> np.ndarray:
    return _CHROMIUM.draw(path, width, height)


_DRAW = {"clipvg": _clipvg_image, "cairosvg": _cairosvg_image, "chromium": _chromium_image}
SELF_TIMED = {"chromium"}  # bounded by the browser's own time-outs: SIGALRM inside Playwright would break it


def scored(diff: float) -> dict:
    """The pixel rule's verdict on a differing share (from ``differing``)."""
    return {"diff": diff, "passed": diff < MAX_DIFFERING}


def measure(base: str, name: str, renderers: tuple[str, ...], timeout: int) -> dict:
    """Draw one suite file with each renderer and compare it with its reference; with both clipvg and
    chromium drawn, also compare clipvg with chromium under the same rule (``clipvg_vs_chromium``).
    Runs in a worker."""
    path = Path(base) / f"{name}.svg"
    reference = png_rgba((Path(base) / f"{name}.png").read_bytes())
    height, width = reference.shape[:2]
    expected = premultiplied(reference)
    result: dict = {"name": name, "folder": folder_of(name)}
    drawn: dict[str, np.ndarray] = {}
    for renderer in renderers:
        record: dict = {"error": None}
        start = time.perf_counter()
        signal.alarm(0 if renderer in SELF_TIMED else timeout)
        try:
            drawn[renderer] = premultiplied(_DRAW[renderer](path, width, height, record))
            record.update(scored(differing(drawn[renderer], expected)))
        except _Timeout:
            record["error"] = f"Timeout: more than {timeout} s"
        except Exception as error:  # counted by type and message: the report names the cause
            record["error"] = f"{type(error).__name__}: {str(error).splitlines()[0][:200] if str(error) else ''}"
        finally:
            signal.alarm(0)
        record["seconds"] = round(time.perf_counter() - start, 3)
        record.setdefault("passed", False)
        result[renderer] = record
    if "clipvg" in drawn and "chromium" in drawn:
        result["clipvg_vs_chromium"] = scored(differing(drawn["clipvg"], drawn["chromium"]))
    return result


QUIRK = "clipvg_fails_reference_matches_chromium"  # the reference disagrees with a browser, clipvg does not


def passed(renderer: str, result: dict) -> bool:
    """Whether ``renderer`` passed the reference in this file's result."""
    return result[renderer]["passed"]


def reference_quirk(result: dict) -> bool:
    """clipvg fails the reference but draws the file as Chromium does (same pixel rule)."""
    return not result["clipvg"]["passed"] and result.get("clipvg_vs_chromium", {}).get("passed", False)


def summarize(results: list[dict], renderers: tuple[str, ...]) -> dict:
    """Per-folder and total pass counts per renderer, clipvg's failures that match Chromium, raised
    errors and silently wrong files (with and without those that match Chromium)."""
    counts = {renderer: partial(passed, renderer) for renderer in renderers}
    if {"clipvg", "chromium"} <= set(renderers):
        counts[QUIRK] = reference_quirk

    def tally(chosen: list[dict]) -> dict:
        out = {"files": len(chosen)}
        for key, counted in counts.items():
            out[key] = sum(bool(counted(r)) for r in chosen)
        return out

    def totals(chosen: list[dict]) -> dict:
        out = tally(chosen)
        for key in counts:
            out[f"{key}_share"] = round(out[key] / len(chosen), 4) if chosen else 0.0
        return out

    by_folder: dict[str, list[dict]] = defaultdict(list)
    for result in results:
        by_folder[result["folder"]].append(result)
    outside_text = [r for r in results if not r["name"].startswith("text/")]
    summary = {"folders": {folder: tally(chosen) for folder, chosen in sorted(by_folder.items())},
               "total": totals(results), "total_without_text": totals(outside_text)}
    for renderer in renderers:
        errors = Counter(r[renderer]["error"] for r in results if r[renderer]["error"])
        summary[f"{renderer}_errors"] = dict(errors.most_common())
    if "clipvg" in renderers:
        silent = [r for r in results if not r["clipvg"]["passed"] and not r["clipvg"]["error"]
                  and not r["clipvg"].get("warned")]
        summary["clipvg_silently_wrong"] = len(silent)
        summary["clipvg_silently_wrong_without_text"] = sum(not r["name"].startswith("text/") for r in silent)
        if QUIRK in counts:
            unexplained = [r["name"] for r in silent if not reference_quirk(r)]
            summary["clipvg_silently_wrong_not_matching_chromium"] = len(unexplained)
            summary["clipvg_silently_wrong_not_matching_chromium_without_text"] = sum(
                not n.startswith("text/") for n in unexplained)
    return summary


def print_summary(summary: dict, renderers: tuple[str, ...]) -> None:
    columns = [key for key in (*renderers, QUIRK) if key in summary["total"]]
    labels = {QUIRK: "clipvg~chromium"}  # failing the reference, matching Chromium
    print(f"{'folder':34s} {'files':>5s} " + " ".join(f"{labels.get(c, c):>15s}" for c in columns))
    for folder, entry in summary["folders"].items():
        print(f"{folder:34s} {entry['files']:5d} " + " ".join(f"{entry[c]:15d}" for c in columns))
    for key in ("total", "total_without_text"):
        entry = summary[key]
        print(f"{key:34s} {entry['files']:5d} "
              + " ".join(f"{entry[c]:9d} {100 * entry[f'{c}_share']:4.1f}%" for c in columns))
    for renderer in renderers:
        errors = summary[f"{renderer}_errors"]
        print(f"{renderer}: {sum(errors.values())} files raised")
        for message, count in errors.items():
            print(f"   x{count}: {message}")
    if "clipvg" in renderers:
        print(f"clipvg silently wrong (failed, no UnsupportedSVGWarning): {summary['clipvg_silently_wrong']} "
              f"({summary['clipvg_silently_wrong_without_text']} outside text/)")
    if "clipvg_silently_wrong_not_matching_chromium" in summary:
        print("   of which not drawn as Chromium draws them: "
              f"{summary['clipvg_silently_wrong_not_matching_chromium']} "
              f"({summary['clipvg_silently_wrong_not_matching_chromium_without_text']} outside text/)")


def chart(summary: dict, renderers: tuple[str, ...], target: Path) -> None:
    """A horizontal bar chart of the pass share per folder, one bar per renderer; clipvg's bar is
    extended (hatched) by its failures that match Chromium."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folders = list(summary["folders"])
    rows = np.arange(len(folders))
    height = 0.8 / len(renderers)
    figure, axes = plt.subplots(figsize=(9, 0.22 * len(folders) + 1.5))
    for k, renderer in enumerate(renderers):
        shares = [100 * summary["folders"][f][renderer] / summary["folders"][f]["files"] for f in folders]
        total = summary["total"]
        bars = axes.barh(rows + k * height, shares, height,
                         label=f"{renderer} ({100 * total[f'{renderer}_share']:.1f} % of {total['files']})")
        if renderer == "clipvg" and QUIRK in total:
            quirks = [100 * summary["folders"][f][QUIRK] / summary["folders"][f]["files"] for f in folders]
            axes.barh(rows + k * height, quirks, height, left=shares, color=bars.patches[0].get_facecolor(),
                      alpha=0.35, hatch="///", label=f"clipvg fails the reference, matches chromium "
                                                     f"(+{100 * total[f'{QUIRK}_share']:.1f} %)")
    axes.set_yticks(rows + height * (len(renderers) - 1) / 2)
    axes.set_yticklabels([f"{f} ({summary['folders'][f]['files']})" for f in folders], fontsize=7)
    axes.invert_yaxis()
    axes.margins(y=0.005)
    axes.set_xlim(0, 100)
    axes.set_xlabel(f"files passing (%): < {100 * MAX_DIFFERING:g} % of pixels differ by > {THRESHOLD}/255")
    axes.set_title("resvg test suite, per folder", pad=50)
    axes.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, fontsize=8, frameon=False)
    figure.tight_layout()
    figure.savefig(target, dpi=110)
    plt.close(figure)


def run(base: Path, names: list[str], renderers: tuple[str, ...], workers: int, timeout: int, samples: int
        ) -> list[dict]:
    from tqdm import tqdm
    results = []
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_worker_init,
                             initargs=(timeout, samples)) as pool:
        futures = {pool.submit(measure, str(base), name, renderers, timeout): name for name in names}
        for future in tqdm(as_completed(futures), total=len(futures), unit="file", file=sys.stderr):
            try:
                results.append(future.result())
            except Exception as error:  # a worker that died (segfault, out of memory)
                name = futures[future]
                failure = {"error": f"{type(error).__name__}: worker died ({error})", "passed": False,
                           "seconds": None}
                results.append({"name": name, "folder": folder_of(name), **{r: dict(failure) for r in renderers}})
    return sorted(results, key=lambda r: r["name"])


def git(*args: str) -> str:
    """``git args`` in this checkout, its stdout without trailing white space ('' when git fails)."""
    try:
        return subprocess.run(["git", *args], capture_output=True, text=True, cwd=Path(__file__).parent,
                              timeout=10).stdout.rstrip()
    except (OSError, subprocess.SubprocessError):
        return ""


def chromium_version() -> str | None:
    """``/usr/bin/chromium --version``, or None when it is missing."""
    try:
        return subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--suite", required=True, type=Path, help="resvg's crates/resvg/tests (or any folder of SVG+PNG)")
    parser.add_argument("--only", action="append", default=[], metavar="PREFIX",
                        help="only files whose relative name starts with PREFIX (repeatable), e.g. filters/feBlend")
    parser.add_argument("--no-cairosvg", action="store_true", help="leave cairosvg out")
    parser.add_argument("--no-chromium", action="store_true",
                        help=f"leave Chromium out (it is drawn with Playwright and {CHROMIUM})")
    parser.add_argument("--fonts", type=Path, help="fonts folder fontconfig should see (resvg's tests/fonts)")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--timeout", type=int, default=60, help="seconds per file and renderer")
    parser.add_argument("--samples", type=int, default=EXPORT_SAMPLES,
                        help=f"clipvg's samples per pixel along each axis (default {EXPORT_SAMPLES}, as clipvg render)")
    parser.add_argument("--json", type=Path, help="write the summary and per-file results here")
    parser.add_argument("--chart", type=Path, help="write a per-folder bar chart (PNG) here")
    parser.add_argument("--failures", action="store_true", help="list failing files with their differing share")
    args = parser.parse_args(argv)
    base, names = suite_files(args.suite, args.only)
    if not names:
        parser.error(f"no SVG file with a reference PNG under {base} (matching --only {args.only})")
    left_out = {"cairosvg": args.no_cairosvg, "chromium": args.no_chromium}
    renderers = tuple(r for r in RENDERERS if not left_out.get(r))
    version = chromium_version() if "chromium" in renderers else None
    if "chromium" in renderers and not version:
        parser.error(f"{CHROMIUM} is missing: apt-get install chromium, or pass --no-chromium")
    # the run draws the working tree as it is now: the commit, and clipvg files that differ from it
    tree = {"commit": git("rev-parse", "--short", "HEAD") or "unknown",
            "uncommitted_clipvg_files": git("status", "--porcelain", "--", ":(top)clipvg").splitlines()}
    with tempfile.TemporaryDirectory(prefix="svg_conformance_") as scratch:
        if args.fonts:
            if not args.fonts.is_dir():
                parser.error(f"--fonts {args.fonts} is not a folder")
            os.environ["FONTCONFIG_FILE"] = str(fonts_conf(args.fonts, Path(scratch)))
        start, load_start = time.perf_counter(), os.getloadavg()[0]
        results = run(base, names, renderers, args.workers, args.timeout, args.samples)
        wall = time.perf_counter() - start
        os.environ.pop("FONTCONFIG_FILE", None)
    summary = summarize(results, renderers)
    print_summary(summary, renderers)
    if args.failures:
        print("\nfailing files (clipvg): share of differing pixels or error")
        for result in results:
            record = result["clipvg"] if "clipvg" in result else None
            if record and not record["passed"]:
                outcome = record["error"] or f"{100 * record['diff']:.2f} %"
                notes = ("" if record.get("warned") or record["error"] else "  (silent)") + (
                    "  (matches chromium)" if reference_quirk(result) else "")
                print(f"  {result['name']}: {outcome}{notes}")
    meta = {**tree, "suite": str(base), "files": len(names), "only": args.only,
            "fonts": str(args.fonts) if args.fonts else None, "clipvg_samples": args.samples,
            "workers": args.workers, "cpus": os.cpu_count(),
            "wall_s": round(wall, 1), "load_average_start_end": [load_start, os.getloadavg()[0]],
            # per renderer, the files' drawing seconds summed over workers (wall time of the column ~ this / workers)
            "renderer_seconds": {r: round(sum(x[r]["seconds"] or 0 for x in results), 1) for r in renderers},
            "chromium": version, "rule": f"premultiplied RGBA 8-bit, channel diff > {THRESHOLD}/255, "
                                              f"file passes with < {100 * MAX_DIFFERING:g} % such pixels"}
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"meta": meta, "summary": summary, "results": results}, indent=1))
    if args.chart:
        args.chart.parent.mkdir(parents=True, exist_ok=True)
        chart(summary, renderers, args.chart)
    return 0


if __name__ == "__main__":
    sys.exit(main())
