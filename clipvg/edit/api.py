"""``clipvg.edit``: one call from a photo, SVG or Scene and a prompt to an edited Scene."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import torch
from PIL import Image

from ..errors import InvalidInputError
from ..input_check import SVG_SUFFIXES, ReadRaster
from ..scene import Scene
from ..svg import load_svg
from ..svg.reader import ReadSVG
from .editor import Callback, Editor
from .memory import MemoryGuard
from .options import EditOptions, Params

Source = str | os.PathLike | np.ndarray | Image.Image | torch.Tensor | Scene | ReadSVG | ReadRaster


@dataclass
class EditResult:
    """An edit's outcome: the edited ``scene`` (on the edit's device), its final ``image`` (H, W, 3)
    float in [0, 1] on white (CPU), and the loss after every step (``losses``)."""

    scene: Scene
    image: torch.Tensor
    losses: list[float]

    @classmethod
    def from_editor(cls, editor: Editor) -> "EditResult":
        with torch.no_grad():
            image = editor.render().cpu()
        return cls(editor.scene.clone(), image, list(editor.losses))


class EditInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped an edit; ``result`` holds what it had (the scene after the last full step)."""

    def __init__(self, result: EditResult) -> None:
        super().__init__(f"edit interrupted after {len(result.losses)} steps")
        self.result = result


def load_source(source: Source, max_size: int | None = 512) -> Scene:
    """A Scene from ``source``: a Scene (copied), an SVG file, an SVG file already read (``ReadSVG``, e.g. by
    ``clipvg.input_check``: its Scene, the file not read again; a ReadSVG is used once), or a raster (PNG/JPEG
    path, PIL image, (H, W, C) array or tensor in [0, 1] or uint8, or a ``ReadRaster``: the pixels
    ``clipvg.input_check`` decoded, taken from it) vectorized with the default rounds (10, 30) after resizing its
    long side to ``max_size`` px."""
    import vectorize

    if isinstance(source, Scene):
        return source.clone()
    if isinstance(source, ReadSVG):
        return source.to_scene()
    if isinstance(source, ReadRaster):
        source = source.take()
    if isinstance(source, (str, os.PathLike)):
        if not Path(source).is_file():
            raise InvalidInputError(f"input file not found: {source}")
        if Path(source).suffix.lower() in SVG_SUFFIXES:
            return load_svg(source)
    if isinstance(source, torch.Tensor):
        source = source.detach().cpu().numpy()
    return vectorize.vectorize(source, max_size=max_size)


def edit(source: Source, prompt: str, rois: Sequence[Any] = (), params: Params | str | Iterable[str] = "all",
         iterations: int = 150, seed: int = 0, device: str | None = None, callback: Callback | None = None, *,
         clip=None, progress: bool = False, max_size: int | None = 512, **options: Any) -> EditResult:
    """Edit ``source`` toward ``prompt`` with CLIPVG; returns the EditResult.

    ``source`` see ``load_source``. ``rois`` extra regions: ``(box, prompt)`` pairs with box
    (x, y, w, h) in canvas pixels, dicts or ``losses.ROI`` (per-ROI weights and patch counts).
    ``params`` the parameter subset (``Params``, or "all", "colors_only", "shapes_only", "points",
    "colors", "stroke_widths", "region_only", combinable in a list). ``iterations`` Adam steps,
    ``seed`` seeds the loss's augmentations, ``device`` cpu/cuda (default cuda when available),
    ``callback(step, loss, editor)`` after each step, ``clip`` a preloaded ``losses.load_clip`` model,
    ``progress`` a tqdm bar. Other keywords go to ``EditOptions`` (clip_model, clip_weights,
    num_patches, region_mask, lr_points, lr_colors, source_prompt, precision, ...). Ctrl-C raises
    ``EditInterrupted`` carrying the partial result; running out of memory raises
    ``EditOutOfMemoryError`` saying what to lower.
    """
    edit_options = EditOptions(prompt, rois=rois, params=params, iterations=iterations, seed=seed, device=device,
                               **options)
    with MemoryGuard() as guard:
        editor = guard.editor = Editor(load_source(source, max_size), edit_options, clip)
        interrupted = editor.run(callback=callback, progress=progress)
    result = EditResult.from_editor(editor)
    if interrupted:
        raise EditInterrupted(result)
    return result
