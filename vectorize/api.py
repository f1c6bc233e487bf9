"""``vectorize``: raster in, layered Scene out (one layer per colour round, coarse at the bottom)."""
from __future__ import annotations

import os
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Sequence

from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from .errors import ImageInputError
from .image_io import load_image, resize_long_side

if TYPE_CHECKING:  # the Scene (torch) and the tracing steps load when a vectorize call needs them
    from clipvg.scene import Path, Scene, Subpath

    from .budget import Level
    from .result import FillLevel, Vectorized

BACKENDS = ("native", "vtracer")
GRADIENT_KINDS = ("none", "linear", "radial")
LEGACY_MIN_AREA = 18
LEGACY_TOLERANCE = 0.7
MIN_PRESET_PATHS = 16
MIN_SIZE = 3  # smallest initial region in pixels with a budget
# The backdrop reaches this many pixels past the canvas so jittered corners never uncover it.
BACKDROP_MARGIN = 2.0
OPAQUE = 254.5 / 255.0
PROGRESS_DELAY = 1.0  # seconds before a budgeted call shows its progress bar


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


# Quality presets: a path budget for a 512 x 512 canvas (scaled by the square root of the working
# canvas area), the Bézier tolerance in pixels, and which gradient fills may be fitted.
@dataclass(frozen=True)
class Preset:
    paths: int
    tolerance: float
    gradients: str
    scaled: bool = True  # ``paths`` is for a 512 x 512 canvas, scaled by sqrt(canvas area) / 512
    knee: bool = False  # ``paths`` is the most: the budget is the knee of the picture's RD curve


QUALITY = {
    "draft": Preset(paths=250, tolerance=1.0, gradients="linear"),
    "default": Preset(paths=1000, tolerance=0.5, gradients="radial"),
    "fine": Preset(paths=3000, tolerance=0.35, gradients="radial"),
    "auto": Preset(paths=3000, tolerance=0.5, gradients="radial", knee=True),
}


def vectorize(image: str | os.PathLike | Image.Image | np.ndarray, rounds: Sequence[int] = (10, 30),
              regions: Sequence[Region] = (), max_size: int | None = 512, min_area: int | None = None,
              tolerance: float | None = None, backdrop: bool = True, backend: str = "native", progress: bool = False,
              seed: int = 0, paths: int | None = None, quality: str | None = None,
              gradients: str | None = None) -> Scene:
    """Vectorize ``image`` into a Scene of filled cubic Bézier paths, one layer per round: the Scene of
    ``vectorize_paths`` with the same arguments (see there)."""
    return vectorize_paths(image, rounds, regions, max_size, min_area, tolerance, backdrop, backend, progress,
                           seed, paths, quality, gradients).scene()


def vectorize_paths(image: str | os.PathLike | Image.Image | np.ndarray, rounds: Sequence[int] = (10, 30),
                    regions: Sequence[Region] = (), max_size: int | None = 512, min_area: int | None = None,
                    tolerance: float | None = None, backdrop: bool = True, backend: str = "native",
                    progress: bool = False, seed: int = 0, paths: int | None = None, quality: str | None = None,
                    gradients: str | None = None) -> Vectorized:
    """Vectorize ``image`` into filled cubic Bézier paths, one layer per round, as numpy per-path views
    (``Vectorized``: no torch; ``.scene()`` packs them, ``.save_svg()`` writes them).

    ``image``: a path, PIL image or array (see ``load_image``); it is downscaled so its long side is
    at most ``max_size`` pixels (a ResizeWarning says so; None keeps the size), and the
    canvas is that working size, in its pixels.

    Two ways to choose detail:

    * ``paths`` (a budget: at most this many paths in all) and/or ``quality`` ("draft", "default",
      "fine": a budget of 250, 1000 or 3000 paths for a 512 x 512 canvas, scaled by the square root
      of the canvas area, plus a fitting tolerance; ``paths`` overrides the preset's budget; "auto":
      the budget is the knee of the picture's rate-distortion curve (the path count past which a
      path buys less error than on average, see ``budget.knee_count``), at most 3000 at 512 px,
      so a photo gets few paths when few describe it well). The
      picture is over-segmented and its adjacent regions merged, least added colour error first,
      down to the budget; regions get flat or gradient fills (``gradients``: "none", "linear",
      "radial" = linear and radial; default "radial"). ``rounds`` then sets the layers and their
      relative detail: (10, 30) gives a bottom layer of a third as many regions as the budget under
      the full-detail top layer (layers "round-1-Npaths", "round-2-Npaths", N their path counts);
      each bottom region shows through where its largest top region would be, so layers cost no
      extra paths. ``regions`` take their share of the budget (their share of the canvas area) as
      extra single layers on top ("region-1-Npaths", ...).
    * Otherwise (neither given), fixed colour rounds: ``rounds`` are colours per full-image round,
      bottom to top (layers "round-1-10colors", ...), with as many paths as the picture needs;
      ``regions`` are extra rounds over a box or mask (layers "region-1-30colors", ...) on top.

    ``min_area``: regions smaller than this many pixels merge into a neighbour (default 18 for
    rounds, 3 with a budget). ``tolerance``: Bézier fitting tolerance in pixels (default 0.7 for
    rounds, else the preset's). ``backdrop`` (when the image is opaque): the bottom layer's largest
    region becomes a rectangle covering the whole canvas, so moving paths never uncovers the
    background. Fully transparent pixels get no paths; partial alpha becomes path alpha.
    ``backend`` "vtracer" uses the vtracer package instead (one layer; ``rounds``, ``regions``,
    ``paths``, ``quality``, ``min_area`` and ``tolerance`` do not apply). ``seed`` fixes the k-means.
    """
    if backend not in BACKENDS:
        raise ImageInputError(f"unknown vectorize backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    preset = _preset(paths, quality, gradients)
    if min_area is not None and (isinstance(min_area, bool) or not isinstance(min_area, (int, np.integer)) or min_area < 1):
        raise ImageInputError(f"min_area must be a whole number of pixels >= 1, got {min_area!r}")
    if tolerance is not None and not (isinstance(tolerance, (int, float)) and np.isfinite(tolerance) and tolerance > 0):
        raise ImageInputError(f"tolerance must be a positive number of pixels, got {tolerance!r}")
    rgba = load_image(image, copy=False)  # only read: a float32 RGBA array is used as given
    source_size = (rgba.shape[1], rgba.shape[0])
    rgba = resize_long_side(rgba, max_size)
    height, width = rgba.shape[:2]
    from .result import FillLevel, Vectorized

    if backend == "vtracer":
        from .vtracer_backend import vectorize_vtracer
        scene = vectorize_vtracer(rgba)
        return Vectorized(list(scene.paths()), width, height, list(scene.layer_names))
    if not rounds and not regions:
        raise ImageInputError("nothing to do: give at least one round or region")
    for colors in rounds:
        if isinstance(colors, bool) or not isinstance(colors, (int, np.integer)) or colors < 1:
            raise ImageInputError(f"a round needs a whole number of colours >= 1, got {colors!r}")
    if preset is not None:
        return _budget_scene(rgba, source_size, rounds, regions, preset, min_area, tolerance, backdrop, progress)
    # Translucent pixels are traced by the bottom round only, so stacked rounds never add up alpha.
    visible, opaque = rgba[..., 3] > 0, rgba[..., 3] >= OPAQUE
    jobs = [(f"round-{i + 1}-{n}colors", n, visible if i == 0 else opaque) for i, n in enumerate(rounds)]
    jobs += [(f"region-{j + 1}-{r.colors}colors", r.colors,
              r.raster(source_size, (width, height)) & (opaque if rounds else visible)) for j, r in enumerate(regions)]
    backdrop = backdrop and bool(rounds) and bool(opaque.all())
    min_area = LEGACY_MIN_AREA if min_area is None else min_area
    tolerance = LEGACY_TOLERANCE if tolerance is None else tolerance
    from tqdm.auto import tqdm

    out: list[Path] = []
    levels: list[FillLevel] = []
    for index, (layer, colors, mask) in enumerate(tqdm(jobs, desc="vectorize", unit="round", disable=not progress)):
        paths_of_round, level = _round_paths(rgba, mask, colors, layer, min_area, tolerance, seed + index,
                                             backdrop=backdrop and index == 0)
        out += paths_of_round
        levels.append(level)
    return Vectorized(out, width, height, [layer for layer, _, _ in jobs], levels)


def _preset(paths, quality, gradients) -> "Preset | None":
    """The budget settings for ``paths``/``quality``/``gradients``, or None for colour rounds."""
    if quality is not None and quality not in QUALITY:
        raise ImageInputError(f"unknown quality {quality!r}; choose one of {', '.join(QUALITY)}")
    if gradients is not None and gradients not in GRADIENT_KINDS:
        raise ImageInputError(f"unknown gradients {gradients!r}; choose one of {', '.join(GRADIENT_KINDS)}")
    if paths is not None and (isinstance(paths, bool) or not isinstance(paths, (int, np.integer)) or paths < 1):
        raise ImageInputError(f"paths is a budget: a whole number of paths >= 1, got {paths!r}")
    if paths is None and quality is None:
        if gradients is not None:
            raise ImageInputError("gradients apply to budgeted vectorizing: give paths= or quality= too")
        return None
    base = QUALITY[quality or "default"]
    if paths is not None:
        base = replace(base, paths=int(paths), scaled=False)
    return replace(base, gradients=gradients or base.gradients)


def _budget_scene(rgba: np.ndarray, source_size: tuple[int, int], rounds: Sequence[int], regions: Sequence[Region],
                  preset: Preset, min_area: int | None, tolerance: float | None, backdrop: bool,
                  progress: bool) -> Vectorized:
    """``vectorize_paths`` with a path budget (see its docstring); ``progress``: a bar by step (segment,
    merge, fill, trace) per pass, shown when the call takes over PROGRESS_DELAY seconds."""
    from tqdm.auto import tqdm

    from .budget import STEPS, budget_levels
    from .heap import release_free_heap
    from .result import FillLevel, Vectorized

    height, width = rgba.shape[:2]
    budget = max(MIN_PRESET_PATHS, round(preset.paths * np.sqrt(width * height) / 512)) if preset.scaled else preset.paths
    tolerance = preset.tolerance if tolerance is None else tolerance
    min_size = MIN_SIZE if min_area is None else int(min_area)
    visible, opaque = rgba[..., 3] > 0, rgba[..., 3] >= OPAQUE
    masks = [region.raster(source_size, (width, height)) & opaque for region in regions]
    backdrop = backdrop and bool(opaque.all())
    del opaque  # a byte per pixel, not needed from here on
    area = max(int(visible.sum()), 1) if rounds else max(sum(int(m.sum()) for m in masks), 1)
    shares = [max(1, round(budget * int(mask.sum()) / area)) for mask in masks]
    base = budget - sum(shares)
    if (rounds and base < 1) or base < 0:
        raise ImageInputError(f"a budget of {budget} paths is too small for {len(regions)} regions; give more paths")
    out: list[Path] = []
    names: list[str] = []
    fills: list[FillLevel] = []
    with tqdm(total=len(STEPS) * (bool(rounds) + len(masks)), desc="vectorize", unit="step",
              disable=not progress, delay=PROGRESS_DELAY) as bar:

        def step(name: str) -> None:  # Ctrl-C lands between steps; nothing partial is returned
            bar.set_postfix_str(name, refresh=False)
            bar.update()

        if rounds:
            counts = [max(1, round(base * colors / rounds[-1])) for colors in rounds]
            counts = list(np.maximum.accumulate(counts))  # a lower layer never finer than the one above
            levels = budget_levels(rgba, visible, counts, tolerance, preset.gradients, min_size, step, preset.knee)
            for index, level in enumerate(levels):
                layer = f"round-{index + 1}-{len(level.paints)}paths"
                names.append(layer)
                out += _level_paths(level, layer, backdrop=backdrop and index == 0)
                fills.append(FillLevel(level.labels, level.paints))
        for index, (mask, share) in enumerate(zip(masks, shares)):
            (level,) = budget_levels(rgba, mask, [share], tolerance, preset.gradients, min_size, step, preset.knee)
            layer = f"region-{index + 1}-{len(level.paints)}paths"
            names.append(layer)
            out += _level_paths(level, layer, backdrop=False)
            fills.append(FillLevel(level.labels, level.paints))
    release_free_heap()  # what building the paths freed, before the caller writes them
    return Vectorized(out, width, height, names, fills)


def _level_paths(level: Level, layer: str, backdrop: bool) -> list[Path]:
    """One level's paths, largest region first; with ``backdrop`` the largest becomes a rectangle
    covering the canvas."""
    from clipvg.scene import Path

    from .pixel_sums import region_counts

    height, width = level.labels.shape
    areas = region_counts(level.labels, len(level.paints))
    out = []
    for rank, r in enumerate(np.argsort(-areas, kind="stable")):
        subpaths = [_closed_cubics(curve) for curve in level.contours[r]]
        if backdrop and rank == 0:
            subpaths = [_canvas_rectangle(width, height)]
        out.append(Path(subpaths, fill=level.paints[r], fill_rule="nonzero", layer=layer, id=f"{layer}-{rank}"))
    return out


def _round_paths(rgba: np.ndarray, mask: np.ndarray, colors: int, layer: str, min_area: int,
                 tolerance: float, seed: int, backdrop: bool) -> tuple[list[Path], FillLevel]:
    """One round: quantize the pixels in ``mask``, merge speckles, trace, fit; largest region first.
    Returns the paths and the round's regions."""
    from clipvg.scene import Path, Solid

    from .quantize import quantize
    from .regions import find_regions
    from .result import FillLevel
    from .trace import trace_regions

    if colors < 1:
        raise ImageInputError(f"a round needs at least 1 colour, got {colors}")
    regions = find_regions(quantize(rgba, colors, mask, seed), rgba, min_area)
    contours = trace_regions(regions.labels, tolerance)
    order = np.argsort(-regions.areas, kind="stable")
    fills = [Solid(tuple(float(c) for c in colour)) for colour in regions.colors]
    paths = []
    for rank, r in enumerate(order):
        subpaths = [_closed_cubics(curve) for curve in contours[r]]
        if backdrop and rank == 0:
            subpaths = [_canvas_rectangle(rgba.shape[1], rgba.shape[0])]
        paths.append(Path(subpaths, fill=fills[r], fill_rule="nonzero", layer=layer, id=f"{layer}-{rank}"))
    return paths, FillLevel(regions.labels, fills)


def _closed_cubics(curve: np.ndarray) -> Subpath:
    """The closed Subpath of a traced contour ``curve`` (3 S, 2) float32 (see ``trace_regions``): S
    cubics, valid as traced, so built without ``Subpath``'s checks (a few microseconds each, for
    thousands of contours)."""
    from clipvg.scene import Subpath

    subpath = object.__new__(Subpath)
    subpath.points, subpath.degrees, subpath.closed = curve, _cubics(len(curve) // 3), True
    return subpath


@lru_cache(maxsize=256)
def _cubics(count: int) -> np.ndarray:
    """(count,) int64 degrees of ``count`` cubic segments: one read-only 3 repeated (no memory per
    segment), shared by the subpaths of that many segments."""
    return np.broadcast_to(np.int64(3), (count,))


def _canvas_rectangle(width: int, height: int) -> Subpath:
    """A clockwise rectangle covering the canvas plus BACKDROP_MARGIN, as four straight cubics."""
    from clipvg.scene import Subpath

    m = BACKDROP_MARGIN
    corners = np.array([[-m, -m], [width + m, -m], [width + m, height + m], [-m, height + m]])
    ends = np.roll(corners, -1, axis=0)
    thirds = [corners + (ends - corners) * t for t in (1 / 3, 2 / 3)]
    points = np.stack([corners, thirds[0], thirds[1]], axis=1).reshape(-1, 2)
    return Subpath(points, np.full(4, 3))
