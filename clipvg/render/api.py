"""``render``: pick a backend and composite onto an optional background."""
from __future__ import annotations

from typing import Sequence

import torch

from ..scene import Scene


def render(scene: Scene, width: int | None = None, height: int | None = None,
           background: Sequence[float] | torch.Tensor | None = None, backend: str = "auto") -> torch.Tensor:
    """Render ``scene`` to an (H, W, 4) float32 straight-RGBA image in [0, 1] on ``scene.device``.

    ``width``/``height`` default to the canvas size (rounded); other sizes scale the drawing.
    ``background`` an RGB or RGBA colour in [0, 1] composited under the paths, or None for transparent.
    ``backend`` "torch" (pure PyTorch, default), "diffvg" (pydiffvg, when installed) or "auto" (torch).
    Differentiable w.r.t. points, colours, stroke widths, opacities and gradient parameters.
    """
    raise NotImplementedError("renderer lands next")
