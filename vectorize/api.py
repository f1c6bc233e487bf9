"""``vectorize``: raster in, layered Scene out (one layer per colour round, coarse at the bottom)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from PIL import Image
from tqdm.auto import tqdm

from clipvg.scene import Path, Scene, Solid, Subpath

from .errors import ImageInputError
from .image_io import load_image, resize_long_side
from .quantize import quantize
from .regions import find_regions
from .trace import trace_regions

BACKENDS = ("native", "vtracer")
# The backdrop reaches this many pixels past the canvas so jittered corners never uncover it.
BACKDROP_MARGIN = 2.0
OPAQUE = 254.5 / 255.0


@dataclass(frozen=True)
class Region:
    """An extra colour round restricted to part of the image (CLIPVG's face round), stacked on top.

    Give either ``box`` = (x, y, w, h) or ``mask`` = (H, W) bool, both in the input image's pixels
    (they are scaled along with the image); ``colors`` is the round's number of colours.
    """

    box: tuple[int, int, int, int] | None = None
    mask: np.ndarray | None = None
    colors: int = 30

    def __post_init__(self) -> None:
        if (self.box is None) == (self.mask is None):
            raise ImageInputError("a Region needs exactly one of box=(x, y, w, h) or mask=(H, W) bool array")
        if self.box is not None and (len(self.box) != 4 or self.box[2] <= 0 or self.box[3] <= 0):
            raise ImageInputError(f"a region box is (x, y, w, h) with positive w and h, got {self.box}")
        if self.colors < 1:
            raise ImageInputError(f"a region needs at least 1 colour, got {self.colors}")

    def raster(self, source_size: tuple[int, int], size: tuple[int, int]) -> np.ndarray:
        """(H, W) bool mask on the working canvas ``size`` = (W, H) for an input of ``source_size``."""
        (src_w, src_h), (width, height) = source_size, size
        if self.mask is not None:
            mask = np.asarray(self.mask, dtype=bool)
            if mask.shape != (src_h, src_w):
                raise ImageInputError(f"region mask has shape {mask.shape}, the image is {(src_h, src_w)}")
            return np.asarray(Image.fromarray(mask).resize((width, height), Image.Resampling.NEAREST))
        sx, sy = width / src_w, height / src_h
        x, y, w, h = self.box
        x0, x1 = np.clip(np.round([x * sx, (x + w) * sx]).astype(int), 0, width)
        y0, y1 = np.clip(np.round([y * sy, (y + h) * sy]).astype(int), 0, height)
        if x0 >= x1 or y0 >= y1:
            raise ImageInputError(f"region box {self.box} lies outside the {src_w}x{src_h} image")
        mask = np.zeros((height, width), bool)
        mask[y0:y1, x0:x1] = True
        return mask


def vectorize(image: str | os.PathLike | Image.Image | np.ndarray, rounds: Sequence[int] = (10, 30),
              regions: Sequence[Region] = (), max_size: int | None = 512, min_area: int = 18,
              tolerance: float = 0.7, backdrop: bool = True, backend: str = "native", progress: bool = False,
              seed: int = 0) -> Scene:
    """Vectorize ``image`` into a Scene of filled cubic Bézier paths, one layer per round.

    ``image``: a path, PIL image or array (see ``load_image``); it is downscaled so its long side is
    at most ``max_size`` pixels (a ResizeWarning says so; None keeps the size), and the Scene's
    canvas is that working size, in its pixels. ``rounds``: colours per full-image round, bottom to
    top (layers "round-1-10colors", ...). ``regions``: extra rounds over a box or mask (layers
    "region-1-30colors", ...) on top. ``min_area``: regions smaller than this many pixels merge into
    a neighbour. ``tolerance``: Bézier fitting tolerance in pixels. ``backdrop`` (when the image is
    opaque): the bottom round's largest region becomes a rectangle covering the whole canvas, so
    moving paths never uncovers the background. Fully transparent pixels get no paths; partial alpha becomes
    path alpha. ``backend`` "vtracer" uses the vtracer package instead (one layer; ``rounds``,
    ``regions``, ``min_area`` and ``tolerance`` do not apply). ``seed`` fixes the k-means.
    """
    if backend not in BACKENDS:
        raise ImageInputError(f"unknown vectorize backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    rgba = load_image(image)
    source_size = (rgba.shape[1], rgba.shape[0])
    rgba = resize_long_side(rgba, max_size)
    height, width = rgba.shape[:2]
    if backend == "vtracer":
        from .vtracer_backend import vectorize_vtracer
        return vectorize_vtracer(rgba)
    if not rounds and not regions:
        raise ImageInputError("nothing to do: give at least one round or region")
    # Translucent pixels are traced by the bottom round only, so stacked rounds never add up alpha.
    visible, opaque = rgba[..., 3] > 0, rgba[..., 3] >= OPAQUE
    jobs = [(f"round-{i + 1}-{n}colors", n, visible if i == 0 else opaque) for i, n in enumerate(rounds)]
    jobs += [(f"region-{j + 1}-{r.colors}colors", r.colors,
              r.raster(source_size, (width, height)) & (opaque if rounds else visible)) for j, r in enumerate(regions)]
    backdrop = backdrop and bool(rounds) and bool(opaque.all())
    paths: list[Path] = []
    for index, (layer, colors, mask) in enumerate(tqdm(jobs, desc="vectorize", unit="round", disable=not progress)):
        paths += _round_paths(rgba, mask, colors, layer, min_area, tolerance, seed + index,
                              backdrop=backdrop and index == 0)
    return Scene.from_paths(paths, width, height, [layer for layer, _, _ in jobs])


def _round_paths(rgba: np.ndarray, mask: np.ndarray, colors: int, layer: str, min_area: int,
                 tolerance: float, seed: int, backdrop: bool) -> list[Path]:
    """One round: quantize the pixels in ``mask``, merge speckles, trace, fit; largest region first."""
    if colors < 1:
        raise ImageInputError(f"a round needs at least 1 colour, got {colors}")
    regions = find_regions(quantize(rgba, colors, mask, seed), rgba, min_area)
    contours = trace_regions(regions.labels, tolerance)
    order = np.argsort(-regions.areas, kind="stable")
    paths = []
    for rank, r in enumerate(order):
        subpaths = [Subpath(curve, np.full(len(curve) // 3, 3)) for curve in contours[r]]
        if backdrop and rank == 0:
            subpaths = [_canvas_rectangle(rgba.shape[1], rgba.shape[0])]
        paths.append(Path(subpaths, fill=Solid(tuple(float(c) for c in regions.colors[r])),
                          fill_rule="nonzero", layer=layer, id=f"{layer}-{rank}"))
    return paths


def _canvas_rectangle(width: int, height: int) -> Subpath:
    """A clockwise rectangle covering the canvas plus BACKDROP_MARGIN, as four straight cubics."""
    m = BACKDROP_MARGIN
    corners = np.array([[-m, -m], [width + m, -m], [width + m, height + m], [-m, height + m]])
    ends = np.roll(corners, -1, axis=0)
    thirds = [corners + (ends - corners) * t for t in (1 / 3, 2 / 3)]
    points = np.stack([corners, thirds[0], thirds[1]], axis=1).reshape(-1, 2)
    return Subpath(points, np.full(4, 3))
