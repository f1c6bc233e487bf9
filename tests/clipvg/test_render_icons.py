"""Real-world SVGs: icons of the Debian package papirus-icon-theme (installed by .ci/run), rendered
by clipvg and by resvg at 4x, PSNR >= 40 dB each.

At 1x both renderers show the same conflation seams between abutting shapes, which a supersampled
reference does not, so the comparison is made at a scale where edges are a small share of pixels.
"""
from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import numpy as np
import pytest
import resvg_py
from PIL import Image

import clipvg
from svg_renderers import psnr
from system_tools import require

ICON_DIR = Path("/usr/share/icons/Papirus/64x64/apps")
SAMPLE_EVERY = 275  # ~30 icons spread over the alphabet
ZOOM = 4


def icon_files() -> list[Path]:
    if not ICON_DIR.is_dir():
        if os.environ.get("CLIPVG_REQUIRE_SYSTEM_TOOLS"):
            pytest.fail(f"{ICON_DIR} is missing: apt-get install papirus-icon-theme")
        return []  # nothing to parametrize over: the test below skips with the reason
    return sorted(ICON_DIR.glob("*.svg"))[::SAMPLE_EVERY]


@pytest.mark.parametrize("path", icon_files(), ids=lambda p: p.stem)
def test_icon_matches_resvg(path: Path) -> None:
    png = bytes(resvg_py.svg_to_bytes(svg_path=str(path), zoom=ZOOM, background="white"))
    reference = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.float64) / 255
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", clipvg.svg.UnsupportedSVGWarning)
        scene = clipvg.load_svg(path)
    image = clipvg.render(scene, reference.shape[1], reference.shape[0], background=(1.0, 1.0, 1.0))
    assert psnr(image[..., :3].numpy(), reference) >= 40


def test_icon_sample_is_not_empty() -> None:
    require(ICON_DIR.is_dir(), f"{ICON_DIR} is missing: apt-get install papirus-icon-theme")
    assert len(icon_files()) >= 25
