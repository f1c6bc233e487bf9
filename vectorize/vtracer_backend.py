"""The optional vtracer baseline: trace with the vtracer package, read its SVG back as a Scene."""
from __future__ import annotations

import io
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image

from clipvg.errors import BackendUnavailableError
from clipvg.scene import Scene
from clipvg.svg import load_svg

LAYER = "vtracer"


def vectorize_vtracer(rgba: np.ndarray) -> Scene:
    """Trace ``rgba`` (H, W, 4) straight RGBA in [0, 1] with vtracer's default settings (colour,
    stacked, splines); returns a Scene of the image's size with every path in layer "vtracer"."""
    try:
        import vtracer
    except ImportError:
        raise BackendUnavailableError(
            "backend='vtracer' needs the vtracer package: pip install 'clipvg[vtracer]'") from None
    pixels = np.round(np.clip(rgba, 0.0, 1.0) * 255).astype(np.uint8)
    png = io.BytesIO()
    Image.fromarray(pixels, "RGBA").save(png, "PNG")
    svg = vtracer.convert_raw_image_to_svg(png.getvalue(), img_format="png")
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "vtracer.svg"
        target.write_text(svg, encoding="utf-8")
        scene = load_svg(target)
    paths = [replace(path, layer=LAYER) for path in scene.paths()]
    return Scene.from_paths(paths, rgba.shape[1], rgba.shape[0], [LAYER])
