"""Small scenes and settings for the editor tests: coloured circles on white, the shapes CLIP."""
from __future__ import annotations

import numpy as np

from clipvg.edit import EditOptions
from clipvg.scene import Path, Scene, Solid, Subpath

RED = (0.9, 0.1, 0.1, 1.0)
BLUE = (0.1, 0.25, 0.9, 1.0)
KAPPA = 0.5523  # cubic Bézier circle constant


def circle(cx: float, cy: float, r: float) -> Subpath:
    """A circle of four cubic segments."""
    k = KAPPA * r
    points = [(cx + r, cy), (cx + r, cy + k), (cx + k, cy + r), (cx, cy + r), (cx - k, cy + r), (cx - r, cy + k),
              (cx - r, cy), (cx - r, cy - k), (cx - k, cy - r), (cx, cy - r), (cx + k, cy - r), (cx + r, cy - k)]
    return Subpath(np.array(points), np.array([3, 3, 3, 3]))


def circles_scene(*circles: tuple[float, float, float, tuple], size: int = 64) -> Scene:
    """A white backdrop (layer "background") and one filled circle per (cx, cy, r, rgba) (layer "shapes")."""
    backdrop = Subpath.polygon(np.array([[-2.0, -2.0], [size + 2, -2.0], [size + 2, size + 2], [-2.0, size + 2]]))
    paths = [Path([backdrop], fill=Solid((1.0, 1.0, 1.0, 1.0)), layer="background")]
    paths += [Path([circle(cx, cy, r)], fill=Solid(rgba), layer="shapes") for cx, cy, r, rgba in circles]
    return Scene.from_paths(paths, size, size)


def red_circle(size: int = 64) -> Scene:
    return circles_scene((size / 2 + 0.3, size / 2 + 0.2, size * 0.3, RED), size=size)


def quick_settings(**overrides) -> dict:
    """Keyword arguments for ``edit``/``EditOptions``: CPU, the project's small shapes CLIP in fp32 (the same
    numbers on every CPU; "auto" would pick bf16 on some: ``test_edit_precision``), few patches."""
    from losses import shapes_clip_paths

    model, weights = shapes_clip_paths()
    settings = dict(iterations=4, seed=0, device="cpu", clip_model=model, clip_weights=weights, num_patches=4,
                    source_prompt="a red circle on a white background", precision="fp32")
    return {**settings, **overrides}


def shapes_clip_options(prompt: str, **overrides) -> EditOptions:
    """EditOptions with ``quick_settings``."""
    return EditOptions(prompt, **quick_settings(**overrides))
