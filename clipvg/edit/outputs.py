"""Writing an edit's results: SVG/PNG/PDF by file suffix, one transparent PNG + one SVG per layer,
and optimisation frames with an animated GIF. Every file is written atomically."""
from __future__ import annotations

import io
import os
import re
from pathlib import Path
from types import ModuleType
from typing import Sequence

import torch
from PIL import Image

from ..atomic import atomic_path, write_bytes_atomic
from ..errors import InvalidInputError
from ..image_out import save_png, save_render_png
from ..render import WHITE, render
from ..scene import Scene
from ..svg import save_svg, scene_to_svg_string
from .spec import check_output_suffixes

Inputs = tuple[str | os.PathLike, ...]


def check_targets(targets: Sequence[str | os.PathLike]) -> None:
    """Raise InvalidInputError unless every target ends in .svg, .png or .pdf, and unless cairosvg (with
    its system library, libcairo) loads where a target is a PDF: before any work, not after it."""
    check_output_suffixes(targets)
    for target in targets:
        if Path(target).suffix.lower() == ".pdf":
            _cairosvg(target)


def _cairosvg(target: str | os.PathLike) -> ModuleType:
    """cairosvg, imported on first need: it loads libcairo, which a machine may lack (PDF output alone
    needs it). Raises InvalidInputError naming ``target`` and the fix when it cannot load."""
    try:
        import cairosvg
    except (ImportError, OSError) as error:
        raise InvalidInputError(f"cannot write {target}: PDF output needs cairosvg and the cairo library "
                                f"(apt-get install libcairo2, or write .svg / .png): {error}") from None
    return cairosvg


SVG_POINT_BYTES, SVG_PATH_BYTES = 24, 400  # generous: "12.3456,78.9012 " per point, attributes per path


def output_bytes(scene: Scene, targets: Sequence[str | os.PathLike]) -> float:
    """Estimated bytes of writing ``scene`` to ``targets``: SVG/PDF from its points and paths, PNG as
    uncompressed RGBA (an upper bound)."""
    vector = len(scene.points) * SVG_POINT_BYTES + scene.num_paths * SVG_PATH_BYTES
    raster = round(scene.width) * round(scene.height) * 4
    return sum(raster if Path(t).suffix.lower() == ".png" else vector for t in targets)


def write_scene(scene: Scene, target: str | os.PathLike, inputs: Inputs = ()) -> None:
    """Write ``scene`` to ``target`` as SVG (layers kept), PNG (clipvg's render on white) or PDF
    (cairosvg), chosen by the suffix. Never overwrites a file in ``inputs``."""
    check_targets([target])
    suffix = Path(target).suffix.lower()
    if suffix == ".svg":
        with atomic_path(target, inputs) as tmp:
            save_svg(scene, tmp)
    elif suffix == ".png":
        save_render_png(scene, target, WHITE, inputs)
    else:
        write_bytes_atomic(target, _cairosvg(target).svg2pdf(bytestring=scene_to_svg_string(scene).encode()), inputs)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "layer"


def export_layers(scene: Scene, directory: str | os.PathLike, inputs: Inputs = ()) -> list[Path]:
    """Write one transparent PNG and one SVG per non-empty layer into ``directory``, named
    ``NN_<layer>.png``/``.svg`` bottom to top, on the full canvas. Returns the files written."""
    written = []
    for index, name in enumerate(scene.layer_names):
        members = scene.layer_paths(name).tolist()
        if not members:
            continue
        layer = Scene.from_paths([scene.path(i) for i in members], scene.width, scene.height, [name], scene.device)
        stem = Path(directory) / f"{index:02d}_{_safe(name)}"
        save_render_png(layer, stem.with_suffix(".png"), None, inputs)
        write_scene(layer, stem.with_suffix(".svg"), inputs)
        written += [stem.with_suffix(".png"), stem.with_suffix(".svg")]
    return written


class FrameRecorder:
    """Renders of the optimisation every few steps (``frame_NNNNN.png`` in ``directory``), then a GIF."""

    def __init__(self, directory: str | os.PathLike) -> None:
        self.directory = Path(directory)

    def add(self, scene: Scene, step: int) -> Path:
        """Render ``scene`` on white as the frame for ``step``."""
        path = self.directory / f"frame_{step:05d}.png"
        with torch.no_grad():
            save_png(render(scene, background=WHITE), path)
        return path

    def write_gif(self, target: str | os.PathLike, seconds_per_frame: float = 0.1) -> Path | None:
        """An animated GIF of all frames in the directory, in step order (None without frames)."""
        frames = sorted(self.directory.glob("frame_*.png"))
        if not frames:
            return None
        images = [Image.open(f).convert("RGB") for f in frames]
        buffer = io.BytesIO()
        images[0].save(buffer, format="GIF", save_all=True, append_images=images[1:],
                       duration=max(20, int(seconds_per_frame * 1000)), loop=0)
        write_bytes_atomic(target, buffer.getvalue())
        return Path(target)

