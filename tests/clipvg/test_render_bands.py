"""Renders without gradients drawn in bands of rows (clipvg.render.bands) equal the one-shot render
and take far less memory on a tall canvas."""
from __future__ import annotations

import base64
import io
import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

import clipvg.render.bands as bands
from clipvg.errors import ResourceLimitError
from clipvg.limits import ResourceLimits, job_bytes
from clipvg.render import render
from clipvg.render.api import _drawer, _rows_at_once
from clipvg.svg import load_svg
from clipvg.scene import Scene

SVG = '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="120" height="300">{}</svg>'


def _png_uri() -> str:
    rng = np.random.default_rng(3)
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (9, 7, 4), dtype=np.uint8)).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


SCENES = {
    "flat": '<rect x="5" y="7.3" width="100" height="280" fill="#c33"/>'
            '<circle cx="60" cy="150" r="50.5" fill="blue" stroke="black" stroke-width="7"/>'
            '<path d="M10 10 L110 290 L30 200Z" fill="green" fill-opacity="0.5" stroke="#0a0" stroke-width="3"'
            ' stroke-linejoin="miter" stroke-miterlimit="10"/>',
    "gradients": '<defs><linearGradient id="g" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="red"/>'
                 '<stop offset="1" stop-color="blue"/></linearGradient><radialGradient id="r" cx="60" cy="200" r="40"'
                 ' gradientUnits="userSpaceOnUse" spreadMethod="reflect"><stop offset="0" stop-color="yellow"/>'
                 '<stop offset="1" stop-color="purple" stop-opacity="0.4"/></radialGradient></defs>'
                 '<rect x="5" y="7" width="100" height="280" fill="url(#g)"/>'
                 '<circle cx="60" cy="150" r="80" fill="url(#r)" stroke="url(#g)" stroke-width="5"/>',
    "groups": '<defs><clipPath id="c"><circle cx="60" cy="140" r="70"/></clipPath><mask id="m">'
              '<rect x="0" y="50" width="120" height="200" fill="white"/><circle cx="60" cy="150" r="30"/></mask>'
              '</defs><rect width="120" height="300" fill="#eee"/><g opacity="0.6" clip-path="url(#c)">'
              '<rect x="10" y="20" width="100" height="250" fill="red"/>'
              '<rect x="30" y="60" width="50" height="150" fill="blue" opacity="0.5"/></g>'
              '<g mask="url(#m)" style="mix-blend-mode:multiply"><rect width="120" height="300" fill="orange"/></g>',
    "filters": '<defs><filter id="f"><feGaussianBlur stdDeviation="6"/><feOffset dx="3" dy="9"/></filter>'
               '<filter id="d" x="0" y="0.2" width="1" height="0.5"><feMorphology operator="dilate" radius="3"/>'
               '<feColorMatrix type="saturate" values="0.3"/></filter><filter id="t"><feTurbulence baseFrequency="0.05"'
               ' numOctaves="2"/><feDiffuseLighting><fePointLight x="60" y="100" z="30"/></feDiffuseLighting>'
               '<feComposite in2="SourceGraphic" operator="in"/></filter></defs>'
               '<rect x="20" y="30" width="60" height="200" fill="green" filter="url(#f)"/>'
               '<g filter="url(#d)"><circle cx="60" cy="150" r="40" fill="purple"/></g>'
               '<circle cx="70" cy="220" r="45" fill="black" filter="url(#t)"/>',
    "images": '<defs><pattern id="p" width="10" height="13" patternUnits="userSpaceOnUse">'
              '<circle cx="5" cy="5" r="4" fill="red"/></pattern></defs>'
              '<rect x="5" y="5" width="110" height="290" fill="url(#p)"/>'
              f'<image x="10" y="40.5" width="80" height="200" preserveAspectRatio="none" href="{_png_uri()}"/>',
}


def _one_shot(scene: Scene, width: int, height: int) -> torch.Tensor:
    white = torch.ones(4, dtype=scene.points.dtype)
    return _drawer(scene)(scene, width, height, white)


@pytest.mark.parametrize("name", sorted(SCENES))
def test_bands_equal_the_one_shot_render(name, monkeypatch):
    monkeypatch.setattr(bands, "BAND_PIXELS", 120 * 37)  # a band of 37 rows at the natural width
    scene = load_svg(SVG.format(SCENES[name]))
    double = scene._map(lambda t: t.double() if t.is_floating_point() else t)
    with torch.no_grad():
        assert bands.render_rows(scene, 120, 300, None, _drawer(scene)) is not None  # drawn in bands
        # float64 at another scale: equal to rounding; float32 at the natural size: to float32 sums
        for subject, width, height, atol in ((double, 97, 251, 1e-6), (scene, 120, 300, 1e-4)):
            banded = render(subject, width, height, background=(1.0, 1.0, 1.0))
            assert banded.shape == (height, width, 4) and banded.dtype == subject.points.dtype
            torch.testing.assert_close(banded, _one_shot(subject, width, height), rtol=0, atol=atol)


def test_renders_needing_gradients_or_filters_reading_the_whole_region_are_drawn_whole(monkeypatch):
    monkeypatch.setattr(bands, "BAND_PIXELS", 120 * 37)
    scene = load_svg(SVG.format(SCENES["flat"]))
    assert _rows_at_once(scene, 120, 300, "auto") < 300
    scene.points.requires_grad_(True)
    assert bands.needs_gradient(scene) and _rows_at_once(scene, 120, 300, "auto") is None
    with torch.no_grad():
        assert not bands.needs_gradient(scene)
    tiled = load_svg(SVG.format('<filter id="t"><feFlood flood-color="red" width="10" height="10" result="a"/>'
                                '<feTile in="a"/></filter><rect width="50" height="50" filter="url(#t)"/>'))
    assert bands.band_margin(tiled, 300) is None and _rows_at_once(tiled, 120, 300, "auto") == 300


def test_a_render_without_gradients_is_estimated_by_its_band_and_one_with_them_is_refused():
    limits = ResourceLimits()
    rows = bands.band_rows(8192, 0)
    limits.check_job(8192, 8192, 100_000, 1000, 0, "render", rows=rows)
    banded, whole = job_bytes(8192, 8192, 100_000, 0, rows), job_bytes(8192, 8192, 100_000, 0, 8192)
    assert banded < whole / 4 and banded < job_bytes(8192, 8192, 100_000, 0) / 4
    with pytest.raises(ResourceLimitError, match="memory_bytes"):
        limits.check_job(8192, 8192, 100_000, 1000, 0, "render")


_PEAK = """
import json, resource, sys, torch
import clipvg.render.bands as bands
from clipvg.render.api import render
from clipvg.svg import load_svg
bands.BAND_PIXELS = 1 << 17
scene = load_svg(sys.argv[1])
torch.set_num_threads(1)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
with torch.no_grad():
    if sys.argv[2] == "bands":
        render(scene, 256, 8192)
    else:
        from clipvg.render.torch_backend import render_torch
        render_torch(scene, 256, 8192, None)
print(json.dumps((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024))
"""


def test_a_band_render_of_a_tall_canvas_takes_far_less_memory():
    shapes = "".join(f'<circle cx="{10 + 7 * (k % 30)}" cy="{40 * k + 20}" r="{25 + k % 13}" fill="#{k % 7}{k % 5}a"'
                     f' stroke="black" stroke-width="3"/>' for k in range(200))
    svg = f'<svg xmlns="http://www.w3.org/2000/svg" width="256" height="8192"><rect width="256" height="8192"' \
          f' fill="#ddd"/>{shapes}</svg>'
    peak = {mode: json.loads(subprocess.run([sys.executable, "-c", _PEAK, svg, mode], capture_output=True, text=True,
                                            check=True).stdout) for mode in ("bands", "whole")}
    output = 256 * 8192 * 16  # the float32 RGBA result both hold
    assert peak["bands"] < output + (peak["whole"] - output) / 4, peak
