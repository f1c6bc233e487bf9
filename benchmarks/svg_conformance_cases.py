"""Why clipvg fails a file of resvg's suite: clipvg, the reference and Chromium compared pairwise, with
the 1-unit frame masked out, against supersampled drawings, and on variants of the file that test a
stated cause.

For each case (CASES; or the names given) the file is drawn at its reference PNG's size by clipvg
(``--samples``, default as ``clipvg render``) and Chromium (``chromium_draw.py``), and at ``--zoom`` x that
size by resvg-py and by Chromium, box-filtered down (premultiplied): the two "supersampled" drawings,
near exact coverage, tell which of the 1x drawings is right where they disagree. Every figure is the
share of pixels differing under svg_conformance's rule (a premultiplied channel by more than 16/255),
over all pixels ("all") and over the pixels away from the frame (``<rect id="frame">``: its stroke
band widened by 1 px is masked; "content"). A variant rewrites one piece of the file (relative
``href``s made absolute) and is drawn by clipvg and Chromium at a given size, to show what Chromium
draws when only the tested feature changes.

    python benchmarks/svg_conformance_cases.py --suite /path/to/resvg/crates/resvg/tests \
        --fonts /path/to/resvg/crates/resvg/tests/fonts [--zoom 6] [--json out.json] [NAME ...]
"""
from __future__ import annotations

import argparse
import os
import re
import tempfile
import warnings
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from chromium_draw import ChromiumDrawer  # benchmarks/ (the script's folder)
from clipvg.samples import EXPORT_SAMPLES
from json_result import git_commit, print_and_save
from svg_conformance import GENERIC_FAMILIES, THRESHOLD, fonts_conf, png_rgba, premultiplied, suite_files


@dataclass(frozen=True)
class Variant:
    """The file with ``old`` replaced by ``new``, drawn at ``size`` px square (None: the reference's)."""

    label: str
    old: str
    new: str
    size: int | None = None


@dataclass(frozen=True)
class Case:
    """A suite file where clipvg matches neither the reference nor Chromium: the ``cause`` found (what the
    figures show) and the ``variants`` that test it."""

    cause: str
    variants: tuple[Variant, ...] = ()


FRAME = ("clipvg differs from the reference only on the frame (tiny-skia's 1/4 px edges), content < 1 %; ")
NO_SNIFF = ("Chromium draws its broken-image icon: it takes an <image> as SVG only from an image/svg+xml "
            "type and does not unzip svgz without a Content-Encoding (a file: URL has none)")
IMAGE = 'x="8" y="8"'
VIEWPORT_UNITS = ("resvg leaves vw/vh/vi/vb/vmin/vmax out (draws no rect); Chromium takes them of its window, "
                  "so its rect grows with the drawing size (30vw = 90 user units at 300 px, 60 at 200 px); "
                  "clipvg takes them of the SVG's own size (200 x 200), as a browser drawing the file at that "
                  "size, the same at every scale, and warns")
CASES: dict[str, Case] = {
    "structure/image/embedded-svg-without-mime": Case(FRAME + "'data:;base64,' has no type: " + NO_SNIFF),
    "structure/image/embedded-svgz": Case(FRAME + "a gzipped data URI: " + NO_SNIFF),
    "structure/image/external-svgz": Case(FRAME + NO_SNIFF, (
        Variant("href to the same SVG, not gzipped", "image.svgz", "image.svg"),)),
    "structure/image/no-width-and-height-on-svg": Case(
        FRAME + "an SVG image with a viewBox and no width/height (the suite calls it undefined): resvg and "
        "clipvg size it by its viewBox (100 x 100), Chromium by CSS's default object size 300 x 150 "
        "contained (150 x 150); kept as resvg, since the reference is the suite's yardstick", (
            Variant("image sized 150 x 150 (CSS default object size 300 x 150, contained)", IMAGE,
                    f'{IMAGE} width="150" height="150"'),)),
    "structure/image/url-to-png": Case(FRAME + "nothing is fetched (clipvg warns); Chromium, also offline, "
                                       "draws its broken-image icon"),
    "structure/image/url-to-svg": Case(FRAME + "as url-to-png"),
    "structure/image/width-and-height-set-to-auto": Case(
        FRAME + "Chromium ignores 'auto' in the width/height attributes of <image> (SVG 2 presentation "
        "attributes) and draws nothing; given as CSS properties it draws the image as clipvg does", (
            Variant("auto as CSS properties", 'width="auto" height="auto"', 'style="width: auto; height: auto"'),)),
    "painting/image-rendering/optimizeSpeed": Case(
        FRAME + "optimizeSpeed is a speed hint: resvg and clipvg sample the nearest texel, Chromium draws it "
        "smooth; with pixelated Chromium samples nearest texels too, their phase differing on 2 % of pixels", (
            Variant("image-rendering pixelated", 'image-rendering="optimizeSpeed"', 'image-rendering="pixelated"'),)),
    "paint-servers/pattern/tiny-pattern-upscaled": Case(
        "clipvg's tile texture holds exact coverage: it matches the supersampled drawings, the reference and "
        "Chromium both draw the circles' edges lighter (their own anti-aliasing)"),
    "paint-servers/pattern/text-child": Case(
        "a skewed pattern: resvg sizes the tile texture by the transform's row norms (tiny-skia's get_scale: "
        "38 texels for 25 units at 1.5 px/unit, the tile repeating every 25.33 units, drifting 1.3 % per row), "
        "clipvg by the lengths of the tile's axes on the output (38 texels for 25 units at 1.52 px/unit, "
        "drifting 0.2 %), nearer Chromium (9 % against 22 %); in a trial, the row norms brought "
        "clipvg to 2.4 % of the reference but 21 % of both supersampled drawings (now 14 %). All 1x "
        "drawings resample the texture (bicubic), so the text's edges differ from the supersampled ones"),
    **{f"shapes/rect/{units}-values": Case(VIEWPORT_UNITS, (Variant("drawn at 200 px (1 px per user unit)", "", "",
                                                                    200),))
       for units in ("vi-and-vb", "vmin-and-vmax", "vw-and-vh")},
}


def frame_mask(svg: Path, height: int, width: int) -> np.ndarray:
    """(height, width) bool: True away from the stroke of the file's ``<rect id="frame">`` (its band of
    stroke-width, default 1, widened by 1 px each side); all True without a frame or viewBox."""
    keep = np.ones((height, width), bool)
    root = ET.parse(svg).getroot()
    frame = next((e for e in root.iter() if e.get("id") == "frame"), None)
    box = root.get("viewBox")
    if frame is None or not box:
        return keep
    vx, vy, vw, vh = (float(v) for v in re.split(r"[\s,]+", box.strip()))
    x, y, w, h = (float(frame.get(k, 0)) for k in ("x", "y", "width", "height"))
    half = float(frame.get("stroke-width", 1)) / 2
    for edge, scale, origin, axis in ((x, width / vw, vx, 1), (x + w, width / vw, vx, 1),
                                      (y, height / vh, vy, 0), (y + h, height / vh, vy, 0)):
        lo = max(int(np.floor((edge - half - origin) * scale)) - 1, 0)
        hi = int(np.ceil((edge + half - origin) * scale)) + 1
        if axis:
            keep[:, lo:hi] = False
        else:
            keep[lo:hi, :] = False
    return keep


def shares(a: np.ndarray, b: np.ndarray, keep: np.ndarray) -> dict:
    """Differing shares of two (H, W, 4) premultiplied 8-bit images: over all pixels and where ``keep``."""
    differ = (np.abs(a - b) > THRESHOLD).any(-1)
    return {"all": round(float(differ.mean()), 4), "content": round(float(differ[keep].mean()), 4)}


def box_down(rgba: np.ndarray, zoom: int) -> np.ndarray:
    """(H*zoom, W*zoom, 4) straight RGBA in [0, 1] -> (H, W, 4) premultiplied 8-bit, box-filtered."""
    height, width = rgba.shape[0] // zoom, rgba.shape[1] // zoom
    straight = np.concatenate([rgba[..., :3] * rgba[..., 3:], rgba[..., 3:]], -1)
    average = straight.reshape(height, zoom, width, zoom, 4).mean((1, 3))
    return np.round(average * 255).astype(np.int16)


class Drawers:
    """clipvg, Chromium and resvg-py drawing a file at a pixel size (premultiplied 8-bit (H, W, 4))."""

    def __init__(self, fonts: Path | None, samples: int) -> None:
        self.fonts, self.samples, self.chromium = fonts, samples, ChromiumDrawer()

    def clipvg(self, svg: Path, width: int, height: int) -> np.ndarray:
        import torch
        from clipvg.render import render
        from clipvg.svg import load_svg
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            return premultiplied(render(load_svg(svg), width, height, samples=self.samples).double().numpy())

    def browser(self, svg: Path, width: int, height: int, zoom: int = 1) -> np.ndarray:
        drawn = self.chromium.draw(svg, width * zoom, height * zoom)
        return box_down(drawn, zoom) if zoom > 1 else premultiplied(drawn)

    def resvg(self, svg: Path, width: int, height: int, zoom: int) -> np.ndarray:
        import resvg_py
        fonts = {"skip_system_fonts": True, "font_dirs": [str(self.fonts)],
                 **{f"{generic.replace('-', '_')}_family": family for generic, family in GENERIC_FAMILIES.items()}
                 } if self.fonts else {}
        png = resvg_py.svg_to_bytes(svg_path=str(svg), width=width * zoom, height=height * zoom,
                                   resources_dir=str(svg.parent), **fonts)
        return box_down(png_rgba(bytes(png)), zoom)


def variant_file(svg: Path, variant: Variant, folder: Path) -> Path:
    """``svg`` with ``variant`` applied and its relative hrefs made absolute, written into ``folder``."""
    text = svg.read_text()
    if variant.old not in text:
        raise ValueError(f"{svg.name}: {variant.old!r} is not in the file")
    text = text.replace(variant.old, variant.new) if variant.old else text
    text = re.sub(r'(href=")(?!data:|https?:|#|/)([^"]+)"',
                  lambda m: f'{m.group(1)}{(svg.parent / m.group(2)).resolve()}"', text)
    target = folder / svg.name
    target.write_text(text)
    return target


def study(base: Path, name: str, case: Case, drawers: Drawers, zoom: int, scratch: Path) -> dict:
    """The figures of one case (see the module's docstring), with its cause."""
    svg = base / f"{name}.svg"
    reference = premultiplied(png_rgba((base / f"{name}.png").read_bytes()))
    height, width = reference.shape[:2]
    keep = frame_mask(svg, height, width)
    drawn = {"clipvg": drawers.clipvg(svg, width, height), "reference": reference,
             "chromium": drawers.browser(svg, width, height)}
    exact = {f"resvg_{zoom}x": drawers.resvg(svg, width, height, zoom),
             f"chromium_{zoom}x": drawers.browser(svg, width, height, zoom)}
    pairs = [("clipvg", "reference"), ("chromium", "reference"), ("clipvg", "chromium")]
    result = {"name": name, "cause": case.cause, **{f"{a}~{b}": shares(drawn[a], drawn[b], keep) for a, b in pairs}}
    result.update({f"{a}~{b}": shares(drawn[a], exact[b], keep) for a in drawn for b in exact})
    result[f"resvg_{zoom}x~chromium_{zoom}x"] = shares(*exact.values(), keep)
    result["variants"] = []
    for variant in case.variants:
        path = variant_file(svg, variant, scratch)
        size = (variant.size, variant.size) if variant.size else (width, height)
        mask = frame_mask(path, size[1], size[0])
        clipvg, chromium = drawers.clipvg(path, *size), drawers.browser(path, *size)
        figures = {"label": variant.label, "size": size, "clipvg~chromium": shares(clipvg, chromium, mask)}
        if size == (width, height):
            figures["chromium~reference"] = shares(chromium, reference, mask)
        result["variants"].append(figures)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--suite", required=True, type=Path, help="resvg's crates/resvg/tests")
    parser.add_argument("--fonts", type=Path, help="fonts folder (resvg's tests/fonts) for all three renderers")
    parser.add_argument("--zoom", type=int, default=6, help="supersampling of the resvg-py and Chromium drawings")
    parser.add_argument("--samples", type=int, default=EXPORT_SAMPLES, help="clipvg's samples per pixel per axis")
    parser.add_argument("--json", type=Path, help="also write the result here")
    parser.add_argument("names", nargs="*", help=f"suite files without .svg (default: the {len(CASES)} CASES)")
    args = parser.parse_args(argv)
    base, known = suite_files(args.suite, [])
    names = args.names or list(CASES)
    missing = [n for n in names if n not in known]
    if missing:
        parser.error(f"not in the suite (with a reference PNG): {', '.join(missing)}")
    with tempfile.TemporaryDirectory(prefix="svg_cases_") as scratch:
        if args.fonts:
            os.environ["FONTCONFIG_FILE"] = str(fonts_conf(args.fonts, Path(scratch)))
        drawers = Drawers(args.fonts, args.samples)
        try:
            results = [study(base, n, CASES.get(n, Case("")), drawers, args.zoom, Path(scratch)) for n in names]
        finally:
            drawers.chromium.close()
    print_and_save({"commit": git_commit(mark_dirty=True), "zoom": args.zoom, "clipvg_samples": args.samples,
                    "load_average": os.getloadavg()[0], "rule": f"channel diff > {THRESHOLD}/255, premultiplied",
                    "cases": results}, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
