"""A scene prepared for a partial edit: which paths may move and where the loss looks."""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ..edit.api import EditInterrupted, EditResult
from ..edit.editor import Callback, Editor
from ..edit.options import EditOptions
from ..render import render_on_white
from ..scene import Scene
from .masks import Box



@dataclass
class Prepared:
    """``scene`` ready to edit; only the paths of ``path_mask`` (N,) bool may change; ``area`` (H, W)
    bool is the region being (re)painted; ``boxes`` (x, y, w, h) are the ROI boxes of the loss;
    ``prior`` (H, W, 3) in [0, 1], when set, is the raster seed the new layer was vectorized from
    (an outpaint's mirrored border plus noise), what a diffusion refiner starts from."""

    scene: Scene
    path_mask: torch.Tensor
    area: torch.Tensor
    boxes: list[Box]
    prior: torch.Tensor | None = None

    def render(self) -> torch.Tensor:
        """(H, W, 3) float in [0, 1]: the prepared scene on white (CPU)."""
        with torch.no_grad():
            return render_on_white(self.scene).cpu()


@dataclass
class AreaEditOptions(EditOptions):
    """EditOptions whose loss looks at ``area_boxes`` only (one ROI with ``prompt`` per box) instead
    of the whole canvas; with no boxes it is the usual canvas-plus-``rois`` loss."""

    area_boxes: tuple[Box, ...] = field(default=())

    def build_rois(self) -> list:
        if not self.area_boxes:
            return super().build_rois()
        import losses

        defaults = dict(source_prompt=self.source_prompt, num_patches=self.num_patches)
        return [losses.ROI(self.prompt, box=tuple(int(v) for v in box), **defaults) for box in self.area_boxes]


def area_options(prepared: Prepared, prompt: str, **options) -> AreaEditOptions:
    """AreaEditOptions for ``prepared``: ``prompt`` on its ROI boxes; ``options`` as for EditOptions."""
    return AreaEditOptions(prompt, area_boxes=tuple(tuple(int(v) for v in b) for b in prepared.boxes), **options)


def make_editor(prepared: Prepared, options: EditOptions, clip=None) -> Editor:
    """An Editor on ``prepared.scene`` that moves only ``prepared.path_mask``'s paths."""
    return Editor(prepared.scene, options, clip, path_mask=prepared.path_mask)


def edit_prepared(prepared: Prepared, options: EditOptions, clip=None, callback: Callback | None = None,
                  progress: bool = False) -> EditResult:
    """Run ``options.iterations`` steps on ``prepared``; returns the EditResult (raises
    EditInterrupted with the partial result on Ctrl-C), like ``clipvg.edit.edit``."""
    editor = make_editor(prepared, options, clip)
    interrupted = editor.run(callback=callback, progress=progress)
    result = EditResult.from_editor(editor)
    if interrupted:
        raise EditInterrupted(result)
    return result
