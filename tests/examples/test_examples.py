"""Every example script runs with --quick (64 px, 3 steps, the shapes CLIP), writes SVG + PNG, and its
edit moves the picture: the result differs from the same script run with 0 steps."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from clipvg.svg import load_svg

EXAMPLES = Path(__file__).parents[2] / "examples"
sys.path.insert(0, str(Path(__file__).parents[1] / "clipvg"))  # the tests' synthetic fonts
from synthetic_fonts import build_font  # noqa: E402


def load_example(name: str):
    sys.path.insert(0, str(EXAMPLES))  # for examples/_common.py
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pixels(png: Path) -> np.ndarray:
    return np.asarray(Image.open(png).convert("RGB"), np.float64) / 255


def assert_moved(name: str, tmp_path: Path, *argv: str) -> tuple[Path, Path]:
    """Run example ``name`` with 0 steps and with its quick steps; assert the edit changed pixels
    (the largest change above 2 %). Returns the edited (svg, png)."""
    before = load_example(name).main(["--quick", "--out", str(tmp_path / "before"), "--iterations", "0", *argv])
    svg, png = load_example(name).main(["--quick", "--out", str(tmp_path / "after"), *argv])
    change = np.abs(pixels(png) - pixels(before[1]))
    assert change.max() > 0.02, f"{name}: the edit left the picture as it was (max change {change.max():.4f})"
    return svg, png


@pytest.mark.parametrize("name", ["face_edit", "multi_roi_edit", "recolor"])
def test_photo_examples(name, tmp_path):
    svg, png = assert_moved(name, tmp_path, "--device", "cpu")
    scene = load_svg(svg)
    assert png.is_file() and scene.width == 64 and scene.num_paths > 10


def test_recolor_keeps_points(tmp_path):
    source = load_example("recolor").main(["--quick", "--out", str(tmp_path / "a"), "--iterations", "0"])[0]
    edited = load_example("recolor").main(["--quick", "--out", str(tmp_path / "b")])[0]
    assert torch.equal(load_svg(source).points, load_svg(edited).points)


def test_font_example(tmp_path):
    font = build_font(tmp_path / "font.ttf")
    svg, _ = assert_moved("font_stylize", tmp_path, "--text", "AVO", "--font", str(font))
    assert load_svg(svg).layer_names == ["glyph0_A", "glyph1_V", "glyph2_O"]


def test_outpaint_example_grows_the_canvas(tmp_path):
    svg, png = assert_moved("outpaint", tmp_path, "--device", "cpu")
    scene = load_svg(svg)
    assert png.is_file() and (scene.width, scene.height) == (64 + 2 * 16, 64)
    assert "outpaint" in scene.layer_names
