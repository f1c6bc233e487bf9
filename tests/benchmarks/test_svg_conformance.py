"""benchmarks/svg_conformance.py: the pixel rule on synthetic images, Chromium's drawing against resvg's,
and a whole run on a two-file suite whose one wrong reference is told apart from clipvg's bugs."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import resvg_py
from PIL import Image

ROOT = Path(__file__).parents[2]
sys.path.append(str(ROOT / "benchmarks"))  # last: its losses.py and vectorize.py must not hide the packages
sys.path.insert(0, str(ROOT / "tests" / "clipvg"))  # serve_helpers: the system-Chromium requirement

import svg_conformance as bench  # noqa: E402
from chromium_draw import ChromiumDrawer  # noqa: E402
from serve_helpers import require_browser  # noqa: E402

# a 40 x 30 user-unit drawing: gradient, circle, a thick stroke on whole pixels, a transparent margin
PICTURE = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 30" width="40" height="30">
  <defs><linearGradient id="g"><stop offset="0" stop-color="#1060e0"/><stop offset="1" stop-color="#f0c020"/>
  </linearGradient></defs>
  <rect x="4" y="4" width="20" height="16" fill="url(#g)"/>
  <circle cx="28" cy="17" r="8" fill="#20a040" fill-opacity="0.6"/>
  <path d="M 6 26 L 34 26" stroke="#c02020" stroke-width="2"/>
</svg>"""


def resvg_png(svg: str, width: int, height: int) -> bytes:
    """resvg's PNG of the markup ``svg`` at ``width`` x ``height`` pixels."""
    return bytes(resvg_py.svg_to_bytes(svg_string=svg, width=width, height=height))


def test_a_pixel_differs_past_16_of_255_in_any_premultiplied_channel():
    reference = np.zeros((10, 10, 4))
    reference[..., 1] = reference[..., 3] = 1.0  # opaque green
    image = reference.copy()
    image[0, 0, 0] = 16 / 255  # within the threshold
    assert bench.differing(bench.premultiplied(image), bench.premultiplied(reference)) == 0.0
    image[0, 1, 2] = 17 / 255  # past it, in one channel
    image[0, 2, 3] = 1 - 17 / 255  # alpha too
    assert bench.differing(bench.premultiplied(image), bench.premultiplied(reference)) == pytest.approx(0.02)


def test_transparent_pixels_compare_equal_whatever_colour_they_store():
    clear_red = np.zeros((4, 4, 4))
    clear_red[..., 0] = 1.0
    clear_blue = np.zeros((4, 4, 4))
    clear_blue[..., 2] = 1.0
    assert bench.differing(bench.premultiplied(clear_red), bench.premultiplied(clear_blue)) == 0.0
    half_white = np.full((4, 4, 4), 0.5)  # 50 % alpha: premultiplied colour 0.25 against 0.5 for grey
    half_black = half_white * [0, 0, 0, 1]
    assert bench.differing(bench.premultiplied(half_white), bench.premultiplied(half_black)) == 1.0


def test_a_file_passes_below_one_percent_of_differing_pixels_and_fails_on_another_size():
    reference = np.zeros((100, 100, 4), np.int16)
    image = reference.copy()
    image.reshape(-1, 4)[:99, 3] = 255
    assert bench.scored(bench.differing(image, reference))["passed"]
    image.reshape(-1, 4)[99, 3] = 255
    assert not bench.scored(bench.differing(image, reference))["passed"]
    assert bench.differing(reference[:, :99], reference) == 1.0


def test_a_failure_that_matches_chromium_is_a_reference_quirk_and_leaves_silently_wrong():
    def result(name: str, clipvg: bool, chromium: bool, like_chromium: bool, warned: bool = False) -> dict:
        return {"name": name, "folder": bench.folder_of(name),
                "clipvg": {"passed": clipvg, "error": None, "warned": warned}, "chromium": {"passed": chromium, "error": None},
                "clipvg_vs_chromium": {"passed": like_chromium}}

    results = [result("a/b/fine", True, True, True), result("a/b/quirk", False, False, True),
               result("a/b/bug", False, True, False), result("text/t/warned-bug", False, True, False, warned=True)]
    summary = bench.summarize(results, ("clipvg", "chromium"))
    assert summary["folders"]["a/b"] == {"files": 3, "clipvg": 1, "chromium": 2, bench.QUIRK: 1}
    assert summary["total"][bench.QUIRK] == 1 and summary["total"]["chromium_share"] == 0.75
    assert summary["clipvg_silently_wrong"] == 2
    assert summary["clipvg_silently_wrong_not_matching_chromium"] == 1


@pytest.fixture(scope="module")
def chromium():
    require_browser()
    drawer = ChromiumDrawer()
    yield drawer
    drawer.close()


def test_chromium_draws_a_scaled_picture_as_resvg_does_on_a_transparent_page(chromium, tmp_path):
    svg = tmp_path / "picture.svg"
    svg.write_text(PICTURE)
    image = chromium.draw(svg, 120, 90)  # 3x the SVG's size, as the suite's references are scaled
    assert image.shape == (90, 120, 4)
    reference = np.asarray(Image.open(io.BytesIO(resvg_png(PICTURE, 120, 90))).convert("RGBA"), np.float64) / 255
    assert bench.differing(bench.premultiplied(image), bench.premultiplied(reference)) < bench.MAX_DIFFERING
    assert image[:6, :6, 3].max() == 0  # the margin is transparent
    assert image[30, 30, 3] == 1.0 and image[51, 84, 3] == pytest.approx(0.6, abs=2 / 255)


def test_the_benchmark_tells_a_wrong_reference_from_a_clipvg_bug(chromium, tmp_path):
    folder = tmp_path / "tests" / "shapes" / "demo"
    folder.mkdir(parents=True)
    (folder / "right.svg").write_text(PICTURE)
    (folder / "right.png").write_bytes(resvg_png(PICTURE, 120, 90))
    wrong = PICTURE.replace("#20a040", "black")  # the reference disagrees with what a browser draws
    (folder / "wrong-reference.svg").write_text(PICTURE)
    (folder / "wrong-reference.png").write_bytes(resvg_png(wrong, 120, 90))
    out = tmp_path / "result.json"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "svg_conformance.py"), "--suite", str(tmp_path),
                    "--workers", "1", "--json", str(out)], check=True, capture_output=True, timeout=300,
                   env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    result = json.loads(out.read_text())
    assert result["summary"]["folders"]["shapes/demo"] == {"files": 2, "clipvg": 1, "cairosvg": 1, "chromium": 1,
                                                            bench.QUIRK: 1}
    wrong_reference = next(r for r in result["results"] if r["name"] == "shapes/demo/wrong-reference")
    assert not wrong_reference["clipvg"]["passed"] and wrong_reference["clipvg_vs_chromium"]["passed"]
    assert result["summary"]["clipvg_silently_wrong_not_matching_chromium"] == 0
    assert result["meta"]["chromium"].startswith("Chromium")
