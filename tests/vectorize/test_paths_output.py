"""``vectorize_paths``: the numpy result, its SVG (the shared path writer, no torch) and its own raster."""
import io
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import resvg_py
from PIL import Image

from clipvg.svg import scene_to_svg_string
from vectorize import vectorize_paths
from vectorize.metrics import raster_psnr

from vectorize_images import flat_shapes, linear_ramp, photo, radial_glow, ring

NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
CASES = {
    "flat-rounds": (flat_shapes, {}),
    "flat-budget": (flat_shapes, {"paths": 12}),
    "ramp": (linear_ramp, {"paths": 6}),
    "glow": (radial_glow, {"paths": 4}),
    "transparent-ring": (ring, {"paths": 3}),
    "photo": (lambda: photo("chelsea", 96), {"paths": 80}),
}


def resvg_rgba(svg: str) -> np.ndarray:
    """(H, W, 4) float32 straight RGBA: ``svg`` drawn by resvg at 1x on a transparent canvas."""
    png = bytes(resvg_py.svg_to_bytes(svg_string=svg))
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"), np.float32) / 255.0


def interior(levels) -> np.ndarray:
    """(H, W) bool: pixels whose 3 x 3 neighbourhood has one label on every level (no edge is near)."""
    height, width = levels[0].labels.shape
    inside = np.ones((height, width), bool)
    for level in levels:
        padded = np.pad(level.labels, 1, mode="edge")
        for dy in range(3):
            for dx in range(3):
                inside &= padded[dy:dy + height, dx:dx + width] == level.labels
    return inside


@pytest.mark.parametrize("case", CASES)
def test_numpy_writer_gives_the_scene_writers_document(case):
    make, options = CASES[case]
    result = vectorize_paths(make(), **options)
    ours, packed = result.svg_string(), scene_to_svg_string(result.scene())
    # The same text but for numbers the Scene holds in float32 (gradient geometry): last digit only.
    assert NUMBER.sub("#", ours) == NUMBER.sub("#", packed)
    a, b = (np.array([float(n) for n in NUMBER.findall(text)]) for text in (ours, packed))
    assert np.all(np.abs(a - b) <= 1.5e-4 + 1e-6 * np.abs(a))


@pytest.mark.parametrize("case", CASES)
def test_written_svg_draws_the_vectorizers_own_raster(case):
    make, options = CASES[case]
    image = make()
    result = vectorize_paths(image, **options)
    fills, drawn = result.fill_raster(), resvg_rgba(result.svg_string())
    assert fills.shape == drawn.shape == image.shape
    # Away from region edges resvg's pixels are the fills (gradients evaluated alike), to 8-bit rounding.
    inside = interior(result.levels)
    assert inside.mean() > 0.3
    assert np.abs(fills - drawn)[inside].max() <= 1.5 / 255
    # Edges differ by the curve fit's smoothing and anti-aliasing only.
    assert raster_psnr(fills, drawn) > (50.0 if case.startswith("flat-rounds") else 30.0)
    if case == "photo":  # so the CLI's PSNR of the fills stands for the written SVG's
        assert abs(raster_psnr(fills, image) - raster_psnr(drawn, image)) < 1.0


def test_gradient_fills_are_evaluated_where_svg_puts_them():
    result = vectorize_paths(linear_ramp(), paths=6)
    kinds = {type(paint).__name__ for level in result.levels for paint in level.paints}
    assert "LinearGradient" in kinds
    assert raster_psnr(result.fill_raster(), linear_ramp()) > 45.0  # the ramp is one linear gradient


def test_vtracer_result_has_no_fill_raster():
    pytest.importorskip("vtracer")
    result = vectorize_paths(flat_shapes(), backend="vtracer")
    assert result.levels is None and result.num_paths > 0
    with pytest.raises(ValueError, match="render its scene"):
        result.fill_raster()


@pytest.mark.parametrize("flags", [[], ["--paths", "40"], ["--quality", "draft", "--region", "0,0,20,20:4"]])
def test_cli_vectorize_never_imports_torch(tmp_path, flags):
    source, target = tmp_path / "in.png", tmp_path / "out.svg"
    Image.fromarray(np.round(photo("coffee", 64)[..., :3] * 255).astype(np.uint8)).save(source)
    program = ("import sys; from clipvg.cli import main; "
               f"code = main(['vectorize', {str(source)!r}, '-o', {str(target)!r}, *{flags!r}]); "
               "print('torch' in sys.modules, [m for m in sys.modules if m.startswith('clipvg.render')]); "
               "sys.exit(code)")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=300,
                          cwd=Path(__file__).parents[2])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "False []"
    assert "(region fills)" in done.stdout
    assert resvg_rgba(target.read_text()).shape[:2] == (43, 64)


def test_cli_psnr_render_flag_renders_the_paths(tmp_path, capsys):
    from clipvg.cli import main

    source = tmp_path / "in.png"
    Image.fromarray(np.round(flat_shapes()[..., :3] * 255).astype(np.uint8)).save(source)
    assert main(["vectorize", str(source), "-o", str(tmp_path / "out.svg"), "--paths", "12",
                 "--psnr", "render"]) == 0
    assert "(rendered)" in capsys.readouterr().out
