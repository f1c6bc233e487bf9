"""``render``: pick a backend and composite onto an optional background."""
from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Callable, Iterator, Sequence

import numpy as np
import torch

from ..errors import InvalidInputError
from ..samples import check_samples
from ..scene import Scene
from ..tiling import RenderPlan, render_plan
from .supersample import box_reduce, reduced_rows

if TYPE_CHECKING:
    from ..crossings import EdgeLoad

BACKENDS = ("auto", "torch", "diffvg")
WHITE = (1.0, 1.0, 1.0)
# (scene, width, height, background) -> (H, W, 4)
Draw = Callable[[Scene, int, int, "torch.Tensor | None"], torch.Tensor]


def _background(background: Sequence[float] | torch.Tensor | None, like: torch.Tensor) -> torch.Tensor | None:
    if background is None:
        return None
    try:
        color = torch.as_tensor(background, dtype=like.dtype, device=like.device).flatten()
    except (TypeError, ValueError) as error:
        raise InvalidInputError(f"background must be an RGB or RGBA colour in [0, 1], got {background!r}") from error
    if len(color) == 3:
        color = torch.cat([color, color.new_ones(1)])
    if len(color) != 4 or not bool(((color >= 0) & (color <= 1)).all()):
        raise InvalidInputError(f"background must be an RGB or RGBA colour in [0, 1], got {background!r}")
    return color


def render(scene: Scene, width: int | None = None, height: int | None = None,
           background: Sequence[float] | torch.Tensor | None = None, backend: str = "auto",
           samples: int = 1) -> torch.Tensor:
    """Render ``scene`` to an (H, W, 4) straight-RGBA image in [0, 1] on ``scene.device``, in the
    dtype of ``scene.points`` (float32 normally; float64 works too, e.g. for gradient checks).

    ``width``/``height`` default to the canvas size (rounded); other sizes scale the drawing (one
    given alone keeps the aspect ratio). ``background`` an RGB or RGBA colour in [0, 1] composited
    under the paths, or None for transparent. ``backend`` "torch" (pure PyTorch), "diffvg" (pydiffvg,
    when installed) or "auto" (torch). Differentiable w.r.t. points, colours, stroke widths,
    opacities and gradient parameters, and for a Scene with groups (``scene.tree``) group
    opacities, clip-path points and mask contents. Without gradients (``torch.no_grad()``, or no
    scene tensor requiring grad) a large render is drawn in tiles (``clipvg.render.bands``), so that
    its working memory stays within a budget whatever its size: what the render_memory_bytes limit leaves
    beside the result returned (16 B per px in float32) and the runtime (``clipvg.tiling.reserved_bytes``);
    ResourceLimitError naming that limit when even the smallest tile does not fit.

    ``samples`` per axis: 1 (default) gives each pixel its exact-area coverage of every shape, as
    optimisation renders do; N > 1 draws at N x the size and averages N x N blocks
    (``clipvg.render.supersample``), which removes the seams where abutting shapes blend, at about
    N * N x the work; a scene with a filter that works on the pixel grid (``drawn_samples``) is drawn
    with one.
    """
    load = functools.cache(scene.edge_load)  # made once, for the plan and the tiles, when drawn without gradients
    width, height, working, color, samples, reserved = _prepare(scene, width, height, background, backend, samples,
                                                                load)
    bands = _bands(scene, width, height, working, color, backend, samples, reserved, load)
    if bands is None:
        return _one_piece(scene, width, height, color, backend, samples)
    out = torch.empty(height, width, 4, dtype=scene.points.dtype, device=scene.device)
    for y0, image in bands:
        out[y0:y0 + len(image)] = image
    return out


def render_rgba8(scene: Scene, width: int | None = None, height: int | None = None,
                 background: Sequence[float] | torch.Tensor | None = None, backend: str = "auto",
                 samples: int | None = None, plan: RenderPlan | None = None) -> np.ndarray:
    """``render`` without gradients as an (H, W, 4) uint8 array on the host (what a PNG holds), by default
    (``samples`` None) at ``clipvg.samples.export_samples`` samples per axis (2 up to 2048 x 2048 px, else
    1), as ``clipvg render`` writes it (``samples=1``: the exact-area render). A large render is drawn and
    converted band by band, so no float image of the whole render is held (with ``samples`` > 1 each band
    is drawn at that many times the size and reduced before converting). ``plan``: this render's
    ``clipvg.tiling.render_plan`` (an export of ``scene``, or of the SVG it was read from with as many points, at
    ``width``, ``height``, ``samples`` with ``backend``) when it was made already, e.g. by ``clipvg render`` before
    torch loaded; None plans (and checks) the render here."""
    from ..image_out import to_uint8
    with torch.no_grad():
        load = functools.cache(scene.edge_load)
        width, height, working, color, samples, reserved = _prepare(scene, width, height, background, backend,
                                                                    samples, load, export=True, plan=plan)
        bands = _bands(scene, width, height, working, color, backend, samples, reserved, load)
        if bands is None:
            return to_uint8(_one_piece(scene, width, height, color, backend, samples))
        out = np.empty((height, width, 4), np.uint8)
        for y0, image in bands:
            out[y0:y0 + len(image)] = to_uint8(image)
        return out


def _bands(scene: Scene, width: int, height: int, working: float | None, color: torch.Tensor | None, backend: str,
           samples: int, reserved: float, load: Callable[[], "EdgeLoad"]) -> Iterator[tuple[int, torch.Tensor]] | None:
    """Output bands (y0, (rows, W, 4) straight RGBA), top to bottom, of a render ``_prepare`` checked
    when it has no gradients (``working`` not None) and is drawn in tiles (``clipvg.render.bands``) beside
    ``reserved`` bytes (the runtime, the scene, the result), else None (draw it in one piece); ``load()``: the
    scene's ``edge_load``."""
    if backend == "diffvg" or working is None:
        return None
    from .bands import render_rows
    bands = render_rows(scene, width * samples, height * samples, color, reserved, load())
    return None if bands is None else reduced_rows(bands, samples)


def _one_piece(scene: Scene, width: int, height: int, color: torch.Tensor | None, backend: str,
               samples: int) -> torch.Tensor:
    """(H, W, 4) straight RGBA of a render ``_prepare`` checked, drawn in one piece at ``samples`` x the size."""
    if backend == "diffvg":
        from .diffvg_backend import render_diffvg
        drawn = render_diffvg(scene, width * samples, height * samples, color)
    else:
        drawn = _drawer(scene)(scene, width * samples, height * samples, color)
    return box_reduce(drawn, samples)


def _prepare(scene: Scene, width: int | None, height: int | None, background: Sequence[float] | torch.Tensor | None,
             backend: str, samples: int | None, load: Callable[[], "EdgeLoad"], export: bool = False,
             plan: RenderPlan | None = None) -> tuple[int, int, float | None, torch.Tensor | None, int, int]:
    """A render's checked output size (width, height), the peak bytes its drawing at ``samples`` x that
    size takes without gradients (None: it records gradients; see ``_working_bytes``), background
    colour (4,) or None, the samples per axis it is drawn with (``drawn_samples``) and the bytes that live
    beside its tiles (``clipvg.tiling.reserved_bytes``: the result is the scene's float RGBA, or for an
    ``export`` uint8). ``export``: an export, whose ``samples`` None is ``export_samples``' default for its
    size. The size, samples and memory are ``clipvg.tiling.render_plan``'s: ``plan`` when given (``clipvg render``
    runs it on the SVG before torch loads), else planned here (``load()``: the scene's ``edge_load``)."""
    if not export:
        check_samples(samples)
    if backend not in BACKENDS:
        raise InvalidInputError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if plan is None:
        plan = render_plan(scene, width, height, samples, export, len(scene.points),
                           lambda w, h, beside: _working_bytes(scene, w, h, backend, load, beside),
                           4 * scene.points.element_size(), load)
    width, height, working, samples, reserved = plan
    return width, height, working, _background(background, scene.points), samples, reserved


def _drawer(scene: Scene) -> Draw:
    """The torch backend's function for ``scene``: render_torch, or render_tree for groups with
    opacity, clip paths, masks, filters or patterns (isolated passes)."""
    if not scene.is_flat:
        from .groups import render_tree
        return render_tree
    from .torch_backend import render_torch
    return render_torch


def _working_bytes(scene: Scene, width: int, height: int, backend: str, load: Callable[[], "EdgeLoad"],
                   reserved: float = 0) -> float | None:
    """Peak bytes the drawing of a ``width`` x ``height`` render takes without gradients beside ``reserved``
    bytes (its largest tile, or the whole render when it is drawn in one piece), or None when it records
    gradients; ``load()``: the scene's ``edge_load``."""
    from .bands import needs_gradient, working_bytes
    if needs_gradient(scene):
        return None
    return working_bytes(scene, width, height, tiled=backend != "diffvg", reserved=reserved, load=load())


def render_on_white(scene: Scene, width: int | None = None, height: int | None = None,
                    backend: str = "auto") -> torch.Tensor:
    """(H, W, 3) float in [0, 1]: ``scene`` composited on white, as CLIPVG's loss and outputs see
    it; differentiable like ``render``."""
    return render(scene, width, height, background=WHITE, backend=backend)[..., :3]


def path_outlines(scene: Scene) -> tuple[torch.Tensor, torch.Tensor]:
    """The outline of every path as the renderer flattens it (the implicit closing edges of open
    subpaths included): edges (E, 2, 2) in canvas pixels and the path index of each edge (E,).
    Detached from the scene's gradients."""
    from ..ragged import owners
    from .geometry import closing_edges, flatten

    points = scene.points.detach()
    lines = flatten(scene, points)
    closing, closing_subpaths = closing_edges(scene, points)
    path_of_subpath = owners(scene.path_subpath_offsets)
    return torch.cat([lines.edges, closing]), path_of_subpath[torch.cat([lines.subpath, closing_subpaths])]


def pixels_covered(scene: Scene, width: int, height: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Which canvas pixels each path's fill and stroke cover, occlusion ignored, on the CPU:
    ``pixel`` (F,) row-major index into the ``height`` x ``width`` canvas, ``path`` (F,) path index
    and ``coverage`` (F,) in (0, 1] (a pixel covered by both fill and stroke appears twice)."""
    from .coverage import rasterize
    from .torch_backend import draw_items

    cpu = scene.to("cpu")
    with torch.no_grad():
        edges, items = draw_items(cpu, torch.ones(2))
        evenodd = torch.stack([cpu.evenodd, torch.zeros_like(cpu.evenodd)], 1).flatten()
        fragments = rasterize(edges, items, evenodd, width, height)
    return fragments.pixel, fragments.item // 2, fragments.coverage
